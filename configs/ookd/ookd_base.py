# Copyright (c) mmookd authors. All rights reserved.
# Settings shared by the OOKD configs (stage 3). Only names that the IDOL
# configs do not use live here, so a runnable config inherits an IDOL config
# (the student: model, data, schedule) *and* this file:
#   _base_ = ['../idol/<idol config>.py', './ookd_base.py']
# and builds `model` from `{{_base_.model}}` (the student) and the `ookd_*`
# fields below. See docs/ookd.md.

# QFA (Eq. 2-3): cost = CE(class) + 2 * (-GIoU), argmin per ground truth.
ookd_assigner = dict(
    type='QFAAssigner', match='argmin', cls_weight=1.0, giou_weight=2.0)
# Eq. 4: 1 - cos(f^off, f), mean over the QFA pairs of all student frames
# of the batch; lambda_4 of Eq. 5 is `kd_weight` (the loss's own
# loss_weight stays 1).
ookd_loss_kd = dict(type='CosineKDLoss', loss_weight=1.0)
ookd_kd_weight = 1.0
# the contrastive embeddings f and f^off, as in the paper
ookd_distill_feature = 'embeds'

# Minor-Paste (Sec. 3.4, Eq. 6: k = 0.7, minor classes below 10 %), pasted
# into every frame of the clip (the student's and the teacher's alike).
ookd_minor_paste = dict(
    type='MinorPaste', k=0.7, minor_thr=0.1, reuse_source=8)
# OOKD splits a packed clip by `ookd_frame_role`; a teacher cache looks
# pasted instances up through `paste_sources`.
ookd_pack = dict(
    type='PackTrackInputs', meta_keys=('ookd_frame_role', 'paste_sources'))
