# Copyright (c) mmookd authors. All rights reserved.
# KD + QFA with one teacher target per instance (teacher_match='track') and
# only in the frames where that target's query localises and classifies the
# GT (teacher_pick_filter, as in
# ookd_cached-teacher-filter-no-paste_r18-w32_1xb4-2k_synthvis.py); cached
# teacher, no Minor-Paste. Build its cache from this config with
# tools/ookd/cache_teacher.py.
_base_ = ['./ookd_cached-teacher-track-no-paste_r18-w32_1xb4-2k_synthvis.py']

model = dict(
    teacher_pick_filter=dict(min_iou=0.5, right_class=True),
    teacher_cache=dict(
        file='work_dirs/ookd_cached-teacher-track-filter-no-paste_r18-w32_'
        '1xb4-2k_synthvis/teacher_cache.pth'))
