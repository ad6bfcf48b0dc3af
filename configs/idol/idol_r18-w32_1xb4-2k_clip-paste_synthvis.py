# Copyright (c) mmookd authors. All rights reserved.
# Clip-Paste ablation (TubeFormer-style copy-paste of the tracks of any
# random clip, OOKD Tab. 7) on the small SynthVIS IDOL: the Minor-Paste
# config with ClipPaste in place of MinorPaste. See docs/minor_paste.md.
_base_ = ['./idol_r18-w32_1xb4-2k_minor-paste_synthvis.py']

train_dataloader = dict(
    dataset=dict(pipeline=[
        dict(type='ClipPaste', paste_prob=1.0, reuse_source=8),
        dict(type='PackTrackInputs', meta_keys=('paste_sources', )),
    ]))
