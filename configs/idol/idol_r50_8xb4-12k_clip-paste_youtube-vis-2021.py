# Copyright (c) mmookd authors. All rights reserved.
# Clip-Paste ablation (TubeFormer-style copy-paste of the tracks of any
# random clip, OOKD Tab. 7) for IDOL R-50 on YouTube-VIS 2021: the
# Minor-Paste config with ClipPaste in place of MinorPaste.
_base_ = ['./idol_r50_8xb4-12k_minor-paste_youtube-vis-2021.py']

train_dataloader = dict(
    dataset=dict(pipeline=[
        dict(type='ClipPaste', paste_prob=1.0, reuse_source=8),
        dict(type='PackTrackInputs', meta_keys=('paste_sources', )),
    ]))
