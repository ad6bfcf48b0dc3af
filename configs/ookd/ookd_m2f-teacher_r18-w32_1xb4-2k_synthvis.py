# Copyright (c) mmookd authors. All rights reserved.
# OOKD on SynthVIS with mmdet's Mask2Former-VIS as the offline teacher
# instead of the frozen IDOL + aggregator (docs/ookd.md, "Mask2Former-VIS
# as the teacher"): the SynthVIS peer of
# configs/mask2former_vis/mask2former_r18-w32_1xb4-2k_synthvis.py, trained
# on its own, frozen; its last-layer video queries are distilled. The rest
# (student, QFA, L_KD, Minor-Paste, the teacher's frames) is the SynthVIS
# OOKD's.
#   python tools/train.py \
#       configs/mask2former_vis/mask2former_r18-w32_1xb4-2k_synthvis.py
#   python tools/train.py \
#       configs/ookd/ookd_m2f-teacher_r18-w32_1xb4-2k_synthvis.py
_base_ = ['./ookd_r18-w32_1xb4-2k_synthvis.py', './m2f_teacher_base.py']

model = dict(
    teacher={{_base_.m2f_teacher}},
    teacher_checkpoint={{_base_.m2f_teacher_checkpoint}})
