# Copyright (c) mmookd authors. All rights reserved.
# IDOL Swin-L on OVIS: 25 classes, 8 GPUs x 2 clips, the OVIS tracker
# thresholds (the official ovis_swin.yaml). Set `load_from` to the Swin-L
# COCO pseudo-video pretrained checkpoint.
_base_ = ['./idol_swin-l-p4-w12-384_base.py', '../_base_/datasets/ovis.py']

model = dict(
    detector=dict(bbox_head=dict(num_classes=25)),
    tracker=dict(nms_thr_pre=0.3, addnew_score_thr=0.3))

auto_scale_lr = dict(base_batch_size=16)
load_from = None
