# Copyright (c) mmookd authors. All rights reserved.
# Ablation (paper Tab. 6, "Token Average"): the teacher's offline features
# are the frozen IDOL's tokens of an instance averaged over the frames
# (VideoQueryAggregator mode='average', no parameters, no teacher
# checkpoint; the tokens of an instance are found from the ground truth by
# QFA), with Minor-Paste as the full method.
_base_ = ['./ookd_r18-w32_1xb4-2k_synthvis.py']

model = dict(
    teacher=dict(
        aggregator=dict(
            _delete_=True,
            type='VideoQueryAggregator',
            mode='average',
            embed_dims=64,
            num_video_queries=20)),
    teacher_checkpoint=None)
