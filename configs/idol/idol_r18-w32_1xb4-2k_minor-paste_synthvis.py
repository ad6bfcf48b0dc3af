# Copyright (c) mmookd authors. All rights reserved.
# The small SynthVIS IDOL trained with Minor-Paste (OOKD Sec. 3.4): minor-
# class tracks of other clips pasted into every clip, each with its Eq. 6
# probability. The clip pipeline of the base config (frame sampling,
# loading, clip-consistent resize and flip) runs in the wrapped VISDataset;
# ClipMixDataset then pastes and packs. Samplers stay TrackImgSampler and
# TrackAspectRatioBatchSampler. See docs/minor_paste.md.
_base_ = ['./idol_r18-w32_1xb4-2k_synthvis.py']

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
            # reuse_source: 8 consecutive clips of a worker share one loaded
            # source clip (the tracks are drawn per clip; the expected
            # per-class paste counts are those of Eq. 6)
            dict(type='MinorPaste', k=0.7, minor_thr=0.1, reuse_source=8),
            dict(type='PackTrackInputs', meta_keys=('paste_sources', )),
        ]))
