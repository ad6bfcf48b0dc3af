# Copyright (c) mmookd authors. All rights reserved.
# IDOL Swin-L on YouTube-VIS 2021 (the official ytvis21_swinL.yaml). Set
# `load_from` to the Swin-L COCO pseudo-video pretrained checkpoint.
_base_ = [
    './idol_swin-l-p4-w12-384_base.py',
    '../_base_/datasets/youtube_vis_2021.py'
]

load_from = None
