# Copyright (c) mmookd authors. All rights reserved.
# OOKD, R-50, YouTube-VIS 2021, with the teacher's knowledge read from a
# cache (docs/ookd.md): no teacher forward and no teacher frames to load in
# training. Build the cache once from the live config:
#   python tools/ookd/cache_teacher.py \
#       configs/ookd/ookd_r50_8xb4-12k_youtube-vis-2021.py \
#       --out work_dirs/ookd_r50_8xb4-12k_youtube-vis-2021/teacher_cache.pth
_base_ = ['./ookd_r50_8xb4-12k_youtube-vis-2021.py']

model = dict(
    teacher_cache=dict(
        _delete_=True,
        file='work_dirs/ookd_r50_8xb4-12k_youtube-vis-2021/'
        'teacher_cache.pth',
        ann_file='data/youtube_vis_2021/train/instances.json'))

clip_pipeline = [
    t for t in _base_.train_pipeline if t['type'] != 'PackTrackInputs'
]
train_dataloader = dict(dataset=dict(dataset=dict(pipeline=clip_pipeline)))
