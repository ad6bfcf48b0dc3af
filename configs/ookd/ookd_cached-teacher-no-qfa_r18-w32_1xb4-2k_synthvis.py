# Copyright (c) mmookd authors. All rights reserved.
# Tab. 4 "KD without QFA" on SynthVIS, with the teacher read from a cache:
# no Minor-Paste, and student query m is distilled from teacher query m
# (assigner.match='index'). Its cache differs from the QFA one (the picks
# do): build it from this config with tools/ookd/cache_teacher.py.
_base_ = ['./ookd_cached-teacher-no-paste_r18-w32_1xb4-2k_synthvis.py']

model = dict(
    assigner=dict(match='index'),
    teacher_cache=dict(
        file='work_dirs/ookd_cached-teacher-no-qfa_r18-w32_1xb4-2k_synthvis/'
        'teacher_cache.pth'))
