# Copyright (c) mmookd authors. All rights reserved.
# The SynthVIS IDOL trained with the official IDOL data recipe of the
# YouTube-VIS / OVIS configs (configs/_base_/datasets/youtube_vis_2019.py):
# one sample per video with a random key frame, frames without instances
# kept (the +-10 window over the full frame list), with p 0.5 per clip an
# independent crop of every frame, and boxes recomputed from the masks. The
# crop is scaled to the 128 px frames: sides 68..107 px (384..600 of a
# 720 px frame). An ablation of the recipe on SynthVIS (docs/idol.md).
_base_ = ['./idol_r18-w32_1xb4-2k_synthvis.py']

train_pipeline = [
    dict(
        type='UniformRefFrameSample',
        num_ref_imgs=1,
        frame_range=10,
        filter_key_img=True),
    dict(
        type='TransformBroadcaster',
        share_random_params=True,
        transforms=[
            dict(type='LoadVISFrame', backend_args=None),
            dict(type='LoadTrackAnnotations', with_mask=True),
        ]),
    dict(type='ClipRandomCrop', crop_size=(68, 107), prob=0.5),
    dict(
        type='TransformBroadcaster',
        share_random_params=True,
        transforms=[
            dict(
                type='RandomChoiceResize',
                scales={{_base_.train_scales}},
                keep_ratio=True),
            dict(type='RandomFlip', prob=0.5),
        ]),
    dict(
        type='TransformBroadcaster',
        transforms=[dict(type='BoxesFromMasks')]),
    # frames cropped on their own differ in size: pad them to one
    dict(type='PadClipFrames'),
    dict(type='PackTrackInputs')
]
train_dataloader = dict(
    sampler=dict(_delete_=True, type='DefaultSampler', shuffle=True),
    dataset=dict(
        filter_cfg=dict(filter_empty_gt=False, min_size=32),
        pipeline=train_pipeline))
