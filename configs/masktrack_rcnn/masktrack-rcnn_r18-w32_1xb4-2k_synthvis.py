# Copyright (c) mmookd authors. All rights reserved.
# mmdet's MaskTrackRCNN as a peer of IDOL/OOKD on SynthVIS: mmdet's own
# config (Mask R-CNN + RoI track head + MaskTrackRCNNTracker) with the
# small IDOL's budget: the narrow ResNet-18 (32 base channels, from
# scratch), 64-d FPN and heads, batch 4, 2k iterations, 128 px frames,
# the SynthVIS data and VISMetric of configs/_base_/datasets/synthvis.py.
#   python tools/train.py configs/masktrack_rcnn/\
#       masktrack-rcnn_r18-w32_1xb4-2k_synthvis.py
# mmengine does not allow two bases defining the same keys, so the SynthVIS
# data settings are restated here (they equal synthvis.py's, which
# tests/test_models/test_peer_configs.py checks).
_base_ = [
    'mmdet::masktrack_rcnn/'
    'masktrack-rcnn_mask-rcnn_r50_fpn_8xb1-12e_youtubevis2019.py'
]
custom_imports = dict(imports=['mmookd'], allow_failed_imports=False)

num_classes = 8
width = 64  # FPN / head channels (IDOL's embed_dims)
model = dict(
    detector=dict(
        # nothing is downloaded: from scratch, as the small IDOL
        init_cfg=None,
        backbone=dict(
            depth=18,
            base_channels=32,
            frozen_stages=-1,
            norm_cfg=dict(type='BN', requires_grad=True),
            norm_eval=False,
            init_cfg=None),
        neck=dict(in_channels=[32, 64, 128, 256], out_channels=width),
        rpn_head=dict(in_channels=width, feat_channels=width),
        roi_head=dict(
            bbox_roi_extractor=dict(out_channels=width),
            bbox_head=dict(
                in_channels=width,
                fc_out_channels=256,
                num_classes=num_classes),
            mask_roi_extractor=dict(out_channels=width),
            mask_head=dict(
                in_channels=width,
                conv_out_channels=width,
                num_classes=num_classes))),
    track_head=dict(
        roi_extractor=dict(out_channels=width),
        embed_head=dict(in_channels=width, fc_out_channels=256)))

# ---- SynthVIS data and metric (as configs/_base_/datasets/synthvis.py) ----
dataset_type = 'VISDataset'
dataset_version = 'synthvis'
data_root = 'data/synthvis/'
backend_args = None
train_scales = [(1333, 96), (1333, 112), (1333, 128), (1333, 144)]
test_scale = (1333, 128)
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
    _delete_=True,
    batch_size=4,
    num_workers=1,
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
# frame by frame, as the tracker runs
val_dataloader = dict(
    _delete_=True,
    batch_size=1,
    num_workers=1,
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
val_evaluator = dict(
    _delete_=True,
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

# ---- the small IDOL's budget: 2k iterations of batch 4, lr x0.1 at 1.6k ----
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4),
    clip_grad=dict(max_norm=35, norm_type=2))
max_iters = 2000
train_cfg = dict(
    _delete_=True,
    type='IterBasedTrainLoop',
    max_iters=max_iters,
    val_interval=max_iters)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0,
         end=200),
    dict(
        type='MultiStepLR',
        begin=0,
        end=max_iters,
        by_epoch=False,
        milestones=[1600],
        gamma=0.1)
]
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(
        type='CheckpointHook', by_epoch=False, interval=500,
        max_keep_ckpts=2))
log_processor = dict(by_epoch=False)
randomness = dict(seed=0)
auto_scale_lr = dict(base_batch_size=4)
# from scratch on purpose, as the small IDOL (tools/train.py refuses a model
# that starts from random weights otherwise; mmookd/utils/pretrained_check.py)
train_from_scratch = True
