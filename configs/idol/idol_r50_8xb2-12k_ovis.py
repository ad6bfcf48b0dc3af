# Copyright (c) mmookd authors. All rights reserved.
# IDOL R-50 on OVIS: 25 classes, 8 GPUs x 2 clips, 12k iterations, the
# OVIS tracker thresholds (NMS_PRE 0.3, ADD_NEW_SCORE 0.3) of the official
# ovis_r50.yaml. Set `load_from` to the COCO pseudo-video pretrained
# checkpoint (see the YouTube-VIS 2019 config).
_base_ = ['./idol_r50_base.py', '../_base_/datasets/ovis.py']

model = dict(
    detector=dict(bbox_head=dict(num_classes=25)),
    tracker=dict(nms_thr_pre=0.3, addnew_score_thr=0.3))

# base batch: 8 GPUs x 2 clips
auto_scale_lr = dict(base_batch_size=16)
load_from = None
