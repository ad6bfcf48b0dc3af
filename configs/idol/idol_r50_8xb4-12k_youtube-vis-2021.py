# Copyright (c) mmookd authors. All rights reserved.
# IDOL R-50 on YouTube-VIS 2021: same model and schedule as 2019 (the
# official ytvis21_r50.yaml), 40 classes. Set `load_from` to the COCO
# pseudo-video pretrained checkpoint (see the 2019 config).
_base_ = ['./idol_r50_base.py', '../_base_/datasets/youtube_vis_2021.py']

load_from = None
