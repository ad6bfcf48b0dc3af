# Copyright (c) mmookd authors. All rights reserved.
# Tab. 7 on SynthVIS: KD + QFA (cached teacher) with Clip-Paste (every
# class pasted alike) in place of Minor-Paste. Same teacher cache as
# ookd_cached-teacher_r18-w32_1xb4-2k_synthvis.py.
_base_ = ['./ookd_cached-teacher_r18-w32_1xb4-2k_synthvis.py']

train_dataloader = dict(
    dataset=dict(pipeline=[
        dict(type='ClipPaste', paste_prob=1.0, reuse_source=8),
        _base_.ookd_pack,
    ]))
