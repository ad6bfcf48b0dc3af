# Copyright (c) mmookd authors. All rights reserved.
# KD + QFA (Eq. 3 per frame) distilling only the teacher picks that
# localise and classify their GT (teacher_pick_filter: box IoU >= 0.5 with
# the GT in the frame and the right top class, the diagnostics' "pick
# quality" test); cached teacher, no Minor-Paste. Compare with
# ookd_cached-teacher-no-paste_r18-w32_1xb4-2k_synthvis.py (every pick, as
# the paper). Its cache differs (the picks do): build it from this config
# with tools/ookd/cache_teacher.py.
_base_ = ['./ookd_cached-teacher-no-paste_r18-w32_1xb4-2k_synthvis.py']

model = dict(
    teacher_pick_filter=dict(min_iou=0.5, right_class=True),
    teacher_cache=dict(
        file='work_dirs/ookd_cached-teacher-filter-no-paste_r18-w32_1xb4-2k_'
        'synthvis/teacher_cache.pth'))
