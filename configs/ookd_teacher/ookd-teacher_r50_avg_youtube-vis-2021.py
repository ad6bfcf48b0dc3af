# Copyright (c) mmookd authors. All rights reserved.
# The "token average" offline teacher of the paper's Tab. 6, R-50,
# YouTube-VIS 2021: the frozen stage-1 IDOL, and the tokens (frame queries)
# of one instance averaged over the frames instead of aggregated by the
# attention module. It has no parameters and nothing to train: use it as
# the teacher of stage 3 (the tokens of an instance are found from the
# ground truth by QFA), or evaluate it (the base tracker groups the tokens)
# with the Runner and no checkpoint, see docs/offline_teacher.md.
_base_ = ['./ookd-teacher_r50_8xb2-40k_youtube-vis-2021.py']

# 100 instance slots (tracks beyond them in a video are left out)
model = dict(
    aggregator=dict(
        _delete_=True,
        type='VideoQueryAggregator',
        mode='average',
        embed_dims=256,
        num_video_queries=100))
