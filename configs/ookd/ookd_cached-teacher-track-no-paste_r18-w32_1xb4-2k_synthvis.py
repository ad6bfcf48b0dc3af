# Copyright (c) mmookd authors. All rights reserved.
# KD + QFA with one teacher target per instance (teacher_match='track':
# each GT track gets one video query over all its frames, by the teacher's
# own video-level matching; docs/qfa.md), cached teacher, no Minor-Paste.
# Compare with ookd_cached-teacher-no-paste_r18-w32_1xb4-2k_synthvis.py
# (Eq. 3 per frame). Its cache differs (the picks do): build it from this
# config with tools/ookd/cache_teacher.py.
_base_ = ['./ookd_cached-teacher-no-paste_r18-w32_1xb4-2k_synthvis.py']

model = dict(
    teacher_match='track',
    teacher_cache=dict(
        file='work_dirs/ookd_cached-teacher-track-no-paste_r18-w32_1xb4-2k_'
        'synthvis/teacher_cache.pth'))
