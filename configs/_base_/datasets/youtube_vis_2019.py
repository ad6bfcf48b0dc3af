# Copyright (c) mmookd authors. All rights reserved.
# YouTube-VIS 2019, read from the official JSON files by VISDataset.
# Layout under data/ and where the files come from: docs/data_preparation.md.
# Sizes follow the official IDOL configs: train short side one of
# 320..640 (shared by the frames of a clip) with the long side <= 768,
# test short side 480 (long side <= 1333).
dataset_type = 'VISDataset'
dataset_version = 'youtube_vis_2019'
data_root = 'data/youtube_vis_2019/'
backend_args = None

train_scales = [(768, 320), (768, 352), (768, 392), (768, 416), (768, 448),
                (768, 480), (768, 512), (768, 544), (768, 576), (768, 608),
                (768, 640)]
test_scale = (1333, 480)

# The official IDOL training recipe (VNext dataset_mapper.py /
# augmentation.py, see docs/idol.md "Training data"):
# - one sample per *video* (DefaultSampler below), a random frame of it and
#   one other frame at most 10 frames away, counted over all its frames
#   (empty ones included: filter_empty_gt=False); the earlier one is the key;
# - with probability 0.5 per clip, each frame cropped on its own (crop sides
#   384..600 px), before the resize;
# - one short side (and one flip) for the whole clip;
# - boxes recomputed from the augmented masks, empty instances dropped.
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
            dict(type='LoadVISFrame', backend_args=backend_args),
            dict(type='LoadTrackAnnotations', with_mask=True),
        ]),
    dict(type='ClipRandomCrop', crop_size=(384, 600), prob=0.5),
    dict(
        type='TransformBroadcaster',
        share_random_params=True,
        transforms=[
            dict(
                type='RandomChoiceResize',
                scales=train_scales,
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
# The public validation / test sets have no ground truth: no
# LoadTrackAnnotations here (the raw `instances` still reach the metric).
test_pipeline = [
    dict(
        type='TransformBroadcaster',
        transforms=[
            dict(type='LoadVISFrame', backend_args=backend_args),
            dict(type='Resize', scale=test_scale, keep_ratio=True),
        ]),
    dict(type='PackTrackInputs')
]

train_dataloader = dict(
    batch_size=4,
    num_workers=2,
    persistent_workers=True,
    # one video a sample (its key frame drawn by UniformRefFrameSample), as
    # the official code: long videos do not dominate
    sampler=dict(type='DefaultSampler', shuffle=True),
    batch_sampler=dict(type='TrackAspectRatioBatchSampler'),
    dataset=dict(
        type=dataset_type,
        dataset_version=dataset_version,
        data_root=data_root,
        ann_file='train.json',
        data_prefix=dict(img_path='train/JPEGImages'),
        # frames without instances stay (official FILTER_EMPTY_ANNOTATIONS
        # False), so the +-10 frame window is over the full frame list
        filter_cfg=dict(filter_empty_gt=False, min_size=32),
        pipeline=train_pipeline,
        backend_args=backend_args))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='TrackImgSampler'),  # frames in order, video by video
    dataset=dict(
        type=dataset_type,
        dataset_version=dataset_version,
        data_root=data_root,
        ann_file='valid.json',
        data_prefix=dict(img_path='valid/JPEGImages'),
        test_mode=True,
        pipeline=test_pipeline,
        backend_args=backend_args))
test_dataloader = val_dataloader

# The ground truth of the public validation set is not released: write the
# results zip for the evaluation server. For local AP hold out part of the
# training set (docs/data_preparation.md).
val_evaluator = dict(
    type='VISMetric',
    format_only=True,
    outfile_prefix='work_dirs/youtube_vis_2019_results')
test_evaluator = val_evaluator
