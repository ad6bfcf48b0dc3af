# Copyright (c) mmookd authors. All rights reserved.
# IDOL R-50 on YouTube-VIS 2019: 8 GPUs x 4 two-frame clips, 12k iterations
# (the official VNext ytvis19_r50.yaml).
#
# The official fine-tuning starts from IDOL's COCO pseudo-video pretraining
# (idol_r50_8xb4-59k_coco-pseudo-video.py here, or the official
# cocopretrain_R50.pth converted by
# tools/model_converters/vnext_idol_to_mmookd.py): set `load_from` to it.
# Without it tools/train.py stops before training (nothing is downloaded,
# the model would start from random weights); `train_from_scratch = True`
# trains from scratch on purpose.
_base_ = ['./idol_r50_base.py', '../_base_/datasets/youtube_vis_2019.py']

load_from = None
