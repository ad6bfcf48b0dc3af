# Copyright (c) mmookd authors. All rights reserved.
# KD + QFA without Minor-Paste (as ookd_cached-teacher-no-paste_*) from
# the Mask2Former-VIS teacher of ookd_m2f-teacher_r18-w32_1xb4-2k_synthvis.py,
# read from its cache (built as in ookd_cached-m2f-teacher_*):
#   python tools/train.py \
#       configs/ookd/ookd_cached-m2f-teacher-no-paste_r18-w32_1xb4-2k_synthvis.py
_base_ = ['./ookd_cached-m2f-teacher_r18-w32_1xb4-2k_synthvis.py']

train_dataloader = dict(dataset=dict(pipeline=[_base_.ookd_pack]))
