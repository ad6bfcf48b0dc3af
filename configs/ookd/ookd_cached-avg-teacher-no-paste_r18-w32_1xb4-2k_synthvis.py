# Copyright (c) mmookd authors. All rights reserved.
# Tab. 6 "token average" on SynthVIS, with the teacher read from a cache:
# the teacher averages the frozen IDOL's tokens of each instance (the
# tokens found by QFA against the ground truth; nothing to train, no
# teacher checkpoint), KD + QFA, no Minor-Paste. Compare with
# ookd_cached-teacher-no-paste_r18-w32_1xb4-2k_synthvis.py (the trained
# aggregator). Build its own cache with tools/ookd/cache_teacher.py.
_base_ = ['./ookd_cached-teacher-no-paste_r18-w32_1xb4-2k_synthvis.py']

model = dict(
    teacher=dict(
        aggregator=dict(
            _delete_=True,
            type='VideoQueryAggregator',
            mode='average',
            embed_dims=64,
            num_video_queries=20)),
    teacher_checkpoint=None,
    teacher_cache=dict(
        file='work_dirs/ookd_cached-avg-teacher-no-paste_r18-w32_1xb4-2k_'
        'synthvis/teacher_cache.pth'))
