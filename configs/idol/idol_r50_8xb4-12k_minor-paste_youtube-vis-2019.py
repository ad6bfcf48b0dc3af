# Copyright (c) mmookd authors. All rights reserved.
# IDOL R-50 on YouTube-VIS 2019 with Minor-Paste (OOKD Sec. 3.4, Eq. 6:
# k = 0.7, minor classes below a 10 % track share). The base config's clip
# pipeline runs in the wrapped VISDataset; ClipMixDataset pastes and packs.
# See docs/minor_paste.md.
_base_ = ['./idol_r50_8xb4-12k_youtube-vis-2019.py']

train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='ClipMixDataset',
        dataset=dict(
            _base_.train_dataloader.dataset,
            pipeline=[
                t for t in _base_.train_pipeline
                if t['type'] != 'PackTrackInputs'
            ]),
        pipeline=[
            dict(type='MinorPaste', k=0.7, minor_thr=0.1, reuse_source=8),
            dict(type='PackTrackInputs', meta_keys=('paste_sources', )),
        ]))
