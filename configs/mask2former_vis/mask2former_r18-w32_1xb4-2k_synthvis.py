# Copyright (c) mmookd authors. All rights reserved.
# mmdet's Mask2Former-VIS (Mask2FormerVideo: clip-level queries, offline
# per clip) as a peer of IDOL/OOKD on SynthVIS: mmdet's own config with the
# small IDOL's budget: the narrow ResNet-18 (32 base channels, from
# scratch), 64-d pixel decoder (1 encoder layer) and transformer decoder
# (3 layers), 30 queries, batch 4 clips of 2 frames, 2k iterations,
# 128 px frames, the SynthVIS data and VISMetric of
# configs/_base_/datasets/synthvis.py. At test time it sees a whole video
# at once (an offline model), so the test loader gives whole videos.
#   python tools/train.py configs/mask2former_vis/\
#       mask2former_r18-w32_1xb4-2k_synthvis.py
# mmengine does not allow two bases defining the same keys, so the SynthVIS
# data settings are restated here (tests/test_models/test_peer_configs.py
# checks them against synthvis.py's).
_base_ = ['mmdet::mask2former_vis/mask2former_r50_8xb2-8e_youtubevis2019.py']
custom_imports = dict(imports=['mmookd'], allow_failed_imports=False)

num_classes = 8
width = 64  # pixel decoder / transformer width (IDOL's embed_dims)
model = dict(
    # nothing is downloaded: from scratch, as the small IDOL
    init_cfg=None,
    backbone=dict(
        depth=18,
        base_channels=32,
        frozen_stages=-1,
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=False,
        init_cfg=None),
    track_head=dict(
        in_channels=[32, 64, 128, 256],
        feat_channels=width,
        out_channels=width,
        num_classes=num_classes,
        num_queries=30,
        pixel_decoder=dict(
            norm_cfg=dict(type='GN', num_groups=8),
            encoder=dict(
                num_layers=1,
                layer_cfg=dict(
                    self_attn_cfg=dict(embed_dims=width, num_heads=4),
                    ffn_cfg=dict(
                        embed_dims=width, feedforward_channels=128))),
            positional_encoding=dict(num_feats=width // 2)),
        positional_encoding=dict(num_feats=width // 2),
        transformer_decoder=dict(
            num_layers=3,
            layer_cfg=dict(
                self_attn_cfg=dict(embed_dims=width, num_heads=4),
                cross_attn_cfg=dict(embed_dims=width, num_heads=4),
                ffn_cfg=dict(embed_dims=width, feedforward_channels=128))),
        loss_cls=dict(class_weight=[1.0] * num_classes + [0.1]),
        # masks of 128 px frames are 32 x 32 at stride 4
        train_cfg=dict(num_points=1024)))

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
# whole videos: Mask2FormerVideo predicts a video at once
val_dataloader = dict(
    _delete_=True,
    batch_size=1,
    num_workers=1,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False, round_up=False),
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

# ---- the small IDOL's budget and optimiser (from scratch: lr 4e-4, the
# backbone at the full lr, a looser clip) ----
optim_wrapper = dict(
    optimizer=dict(lr=4e-4),
    clip_grad=dict(max_norm=0.1),
    paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=1.0)}))
max_iters = 2000
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
param_scheduler = dict(end=max_iters, milestones=[1600])
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(interval=500, max_keep_ckpts=2))
randomness = dict(seed=0)
auto_scale_lr = dict(base_batch_size=4)
# from scratch on purpose, as the small IDOL (tools/train.py refuses a model
# that starts from random weights otherwise; mmookd/utils/pretrained_check.py)
train_from_scratch = True
