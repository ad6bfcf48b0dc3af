# Copyright (c) mmookd authors. All rights reserved.
# KD + QFA without Minor-Paste (as ookd_cached-teacher-no-paste_*) from
# the Mask2Former-VIS teacher of ookd_m2f-teacher_r18-w32_1xb4-2k_synthvis.py,
# read from its cache:
#   python tools/ookd/cache_teacher.py \
#       configs/ookd/ookd_m2f-teacher_r18-w32_1xb4-2k_synthvis.py \
#       --out work_dirs/ookd_cached-m2f-teacher_r18-w32_1xb4-2k_synthvis/\
#             teacher_cache.pth
#   python tools/train.py \
#       configs/ookd/ookd_cached-m2f-teacher-no-paste_r18-w32_1xb4-2k_synthvis.py
_base_ = ['./ookd_cached-teacher-no-paste_r18-w32_1xb4-2k_synthvis.py']

model = dict(
    teacher=dict(
        _delete_=True,
        cfg_path='configs/mask2former_vis/'
        'mask2former_r18-w32_1xb4-2k_synthvis.py',
        type='Mask2FormerVISTeacher'),
    teacher_checkpoint='work_dirs/mask2former_r18-w32_1xb4-2k_synthvis/'
    'iter_2000.pth',
    teacher_cache=dict(
        file='work_dirs/ookd_cached-m2f-teacher_r18-w32_1xb4-2k_synthvis/'
        'teacher_cache.pth'))
