# Copyright (c) mmookd authors. All rights reserved.
# OOKD (Minor-Paste + KD + QFA, as ookd_cached-teacher_*) from the
# Mask2Former-VIS teacher of ookd_m2f-teacher_r18-w32_1xb4-2k_synthvis.py,
# read from its cache (the same cache as the no-paste variant: same teacher,
# same QFA):
#   python tools/ookd/cache_teacher.py \
#       configs/ookd/ookd_m2f-teacher_r18-w32_1xb4-2k_synthvis.py \
#       --out work_dirs/ookd_cached-m2f-teacher_r18-w32_1xb4-2k_synthvis/\
#             teacher_cache.pth
#   python tools/train.py \
#       configs/ookd/ookd_cached-m2f-teacher_r18-w32_1xb4-2k_synthvis.py
_base_ = [
    './ookd_cached-teacher_r18-w32_1xb4-2k_synthvis.py',
    './m2f_teacher_base.py'
]

model = dict(
    teacher={{_base_.m2f_teacher}},
    teacher_checkpoint={{_base_.m2f_teacher_checkpoint}},
    teacher_cache=dict(
        file='work_dirs/ookd_cached-m2f-teacher_r18-w32_1xb4-2k_synthvis/'
        'teacher_cache.pth'))
