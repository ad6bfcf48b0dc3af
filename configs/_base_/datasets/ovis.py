# Copyright (c) mmookd authors. All rights reserved.
# OVIS (Occluded Video Instance Segmentation), read from the official JSON
# files by VISDataset. Sizes follow the official IDOL configs: train short
# side one of 480..800 (step 32, shared by the frames of a clip) with the
# long side <= 1333, test short side 720 (long side <= 1333).
# Layout under data/: docs/data_preparation.md.
_base_ = './youtube_vis_2019.py'

dataset_version = 'ovis'
data_root = 'data/ovis/'
backend_args = None

train_scales = [(1333, 480), (1333, 512), (1333, 544), (1333, 576),
                (1333, 608), (1333, 640), (1333, 672), (1333, 704),
                (1333, 736), (1333, 768), (1333, 800)]
test_scale = (1333, 720)

# the official IDOL recipe of youtube_vis_2019.py, with the OVIS sizes
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
test_pipeline = [
    dict(
        type='TransformBroadcaster',
        transforms=[
            dict(type='LoadVISFrame', backend_args=backend_args),
            dict(type='Resize', scale=test_scale, keep_ratio=True),
        ]),
    dict(type='PackTrackInputs')
]

# IDOL trains OVIS with 2 clips a GPU (4 on YouTube-VIS).
train_dataloader = dict(
    batch_size=2,
    dataset=dict(
        dataset_version=dataset_version,
        data_root=data_root,
        ann_file='annotations/annotations_train.json',
        data_prefix=dict(img_path='train'),
        pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(
        dataset_version=dataset_version,
        data_root=data_root,
        ann_file='annotations/annotations_valid.json',
        data_prefix=dict(img_path='valid'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader

val_evaluator = dict(outfile_prefix='work_dirs/ovis_results')
test_evaluator = val_evaluator
