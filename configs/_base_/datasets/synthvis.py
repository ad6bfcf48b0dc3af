# Copyright (c) mmookd authors. All rights reserved.
# SynthVIS: the generated benchmark in the YouTube-VIS format, made by
#   python tools/dataset_converters/make_synthvis.py --out data/synthvis \
#       --seed 0
# data/synthvis/
#   annotations/synthvis_train.json
#   annotations/synthvis_val.json        short + long validation videos
#   annotations/synthvis_val_short.json  annotations/synthvis_val_long.json
#   train/JPEGImages/<video>/<frame>.jpg  val/JPEGImages/<video>/<frame>.jpg
# Frames are 128x128: they stay near their native size (a light random
# resize of the short side, 96..144, in training; none at test time). The
# validation ground truth is known, so the metric computes AP, mAP_S and
# mAP_L locally.
dataset_type = 'VISDataset'
dataset_version = 'synthvis'
data_root = 'data/synthvis/'
backend_args = None

train_scales = [(1333, 96), (1333, 112), (1333, 128), (1333, 144)]
test_scale = (1333, 128)

# What suits 128 px frames, not the official IDOL recipe of the real sets
# (youtube_vis_2019.py): no crop (its 384..600 px windows are larger than
# the frames), one sample per (video, frame) and frames with instances only
# (SynthVIS videos are of similar length and rarely have empty frames).
# idol_r18-w32_1xb4-2k_official-recipe_synthvis.py trains with the official
# sampling, empty frames, a crop scaled to the frame and boxes from masks.
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
            dict(
                type='RandomChoiceResize',
                scales=train_scales,
                keep_ratio=True),
            dict(type='RandomFlip', prob=0.5),
        ]),
    dict(type='PackTrackInputs')
]
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
    batch_size=2,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='TrackImgSampler'),
    batch_sampler=dict(type='TrackAspectRatioBatchSampler'),
    dataset=dict(
        type=dataset_type,
        dataset_version=dataset_version,
        data_root=data_root,
        ann_file='annotations/synthvis_train.json',
        data_prefix=dict(img_path='train/JPEGImages'),
        filter_cfg=dict(filter_empty_gt=True, min_size=32),
        pipeline=train_pipeline,
        backend_args=backend_args))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='TrackImgSampler'),
    dataset=dict(
        type=dataset_type,
        dataset_version=dataset_version,
        data_root=data_root,
        ann_file='annotations/synthvis_val.json',
        data_prefix=dict(img_path='val/JPEGImages'),
        long_video_ids='annotations/synthvis_val_long.json',
        test_mode=True,
        pipeline=test_pipeline,
        backend_args=backend_args))
test_dataloader = val_dataloader

# Beside AP: TrackEval's HOTA/AssA/IDF1 (association) and AP per
# occlusion band from the GT boxes (docs/evaluation.md).
val_evaluator = dict(
    type='VISMetric',
    ann_file='data/synthvis/annotations/synthvis_val.json',
    subsets=dict(
        short='data/synthvis/annotations/synthvis_val_short.json',
        long='data/synthvis/annotations/synthvis_val_long.json'),
    track_metrics=True,
    occlusion_levels=True,
    format_only=False,
    outfile_prefix='work_dirs/synthvis_results')
test_evaluator = val_evaluator
