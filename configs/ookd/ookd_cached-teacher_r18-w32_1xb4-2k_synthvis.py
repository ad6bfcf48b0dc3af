# Copyright (c) mmookd authors. All rights reserved.
# OOKD on SynthVIS with the teacher's knowledge read from a cache instead of
# running the teacher (docs/ookd.md, "Teacher knowledge cache"). Build the
# cache once, from the live config (same teacher, same QFA):
#   python tools/ookd/cache_teacher.py \
#       configs/ookd/ookd_r18-w32_1xb4-2k_synthvis.py \
#       --out work_dirs/ookd_cached-teacher_r18-w32_1xb4-2k_synthvis/\
#             teacher_cache.pth
#   python tools/train.py \
#       configs/ookd/ookd_cached-teacher_r18-w32_1xb4-2k_synthvis.py
# The student trains on IDOL's two-frame clips (no teacher frames to load).
_base_ = ['./ookd_r18-w32_1xb4-2k_synthvis.py']

# Checked on load: the annotation file (and that every training video is in
# the cache), the teacher's frame bound and the un-augmented pipeline (and,
# always, the teacher, its base IDOL, the QFA and the teacher window).
model = dict(
    teacher_cache=dict(
        _delete_=True,
        file='work_dirs/ookd_cached-teacher_r18-w32_1xb4-2k_synthvis/'
        'teacher_cache.pth',
        ann_file='data/synthvis/annotations/synthvis_train.json',
        max_frames=_base_.max_teacher_frames,
        frames_pipeline=_base_.test_pipeline))

clip_pipeline = [
    t for t in _base_.train_pipeline if t['type'] != 'PackTrackInputs'
]
train_dataloader = dict(dataset=dict(dataset=dict(pipeline=clip_pipeline)))
