# Copyright (c) mmookd authors. All rights reserved.
# Model, optimizer and schedule of IDOL (ECCV 2022) R-50, the official
# VNext settings; the runnable configs add a dataset base on top of it:
#   _base_ = ['./idol_r50_base.py', '../_base_/datasets/<dataset>.py']
# AdamW lr 1e-4 (backbone x0.1), wd 1e-4, grad-norm clip 0.01, 12k
# iterations, lr x0.1 at 8k. The architecture, losses and weights are
# described in docs/idol.md.
_base_ = ['mmdet::_base_/default_runtime.py']
custom_imports = dict(imports=['mmookd'], allow_failed_imports=False)

num_classes = 40
model = dict(
    type='IDOL',
    data_preprocessor=dict(
        type='TrackDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_mask=True,
        pad_size_divisor=32),
    detector=dict(
        type='IDOLDeformableDETR',
        num_queries=300,
        num_feature_levels=4,
        num_mask_levels=3,
        with_box_refine=True,
        as_two_stage=False,
        backbone=dict(
            type='ResNet',
            depth=50,
            num_stages=4,
            out_indices=(1, 2, 3),
            frozen_stages=1,
            norm_cfg=dict(type='BN', requires_grad=False),
            norm_eval=True,
            style='pytorch',
            # Nothing is downloaded at run time: the VIS configs start from
            # a converted COCO-pretrained IDOL (`load_from`), and the COCO
            # pseudo-video configs from a local ImageNet checkpoint.
            init_cfg=None),
        # 1x1 conv + GN on res3..res5, and a 3x3 stride-2 conv + GN on the
        # raw res5 output as the extra (stride-64) level; the convs have a
        # bias, as the official input_proj.
        neck=dict(
            type='ChannelMapper',
            in_channels=[512, 1024, 2048],
            kernel_size=1,
            out_channels=256,
            act_cfg=None,
            bias=True,
            norm_cfg=dict(type='GN', num_groups=32),
            num_outs=4),
        encoder=dict(
            num_layers=6,
            layer_cfg=dict(
                self_attn_cfg=dict(
                    embed_dims=256,
                    num_heads=8,
                    num_levels=4,
                    num_points=4,
                    dropout=0.1,
                    batch_first=True),
                ffn_cfg=dict(
                    embed_dims=256,
                    feedforward_channels=1024,
                    ffn_drop=0.1,
                    act_cfg=dict(type='ReLU', inplace=True)))),
        decoder=dict(
            num_layers=6,
            return_intermediate=True,
            layer_cfg=dict(
                self_attn_cfg=dict(
                    embed_dims=256, num_heads=8, dropout=0.1,
                    batch_first=True),
                cross_attn_cfg=dict(
                    embed_dims=256,
                    num_heads=8,
                    num_levels=4,
                    num_points=4,
                    dropout=0.1,
                    batch_first=True),
                ffn_cfg=dict(
                    embed_dims=256,
                    feedforward_channels=1024,
                    ffn_drop=0.1,
                    act_cfg=dict(type='ReLU', inplace=True))),
            post_norm_cfg=None),
        positional_encoding=dict(num_feats=128, normalize=True, offset=-0.5),
        bbox_head=dict(
            type='IDOLHead',
            num_classes=num_classes,
            embed_dims=256,
            embed_channels=256,
            mask_head=dict(
                type='IDOLDynamicMaskHead',
                in_channels=256,
                mask_channels=8,
                dynamic_channels=8,
                num_dynamic_layers=3,
                mask_feat_stride=8,
                mask_out_stride=4),
            mask_target_stride=4,
            loss_cls=dict(
                type='FocalLoss',
                use_sigmoid=True,
                gamma=2.0,
                alpha=0.25,
                loss_weight=2.0),
            loss_bbox=dict(type='L1Loss', loss_weight=5.0),
            loss_iou=dict(type='GIoULoss', loss_weight=2.0),
            loss_mask=dict(
                type='FocalLoss',
                use_sigmoid=True,
                gamma=2.0,
                alpha=0.25,
                loss_weight=2.0),
            loss_dice=dict(
                type='DiceLoss',
                use_sigmoid=True,
                activate=True,
                naive_dice=True,
                eps=1.0,
                loss_weight=5.0),
            loss_embed=dict(type='ContrastiveLoss', loss_weight=2.0),
            loss_embed_aux=dict(
                type='ContrastiveAuxLoss',
                loss_weight=3.0,
                neg_pos_ratio=10,
                num_neg_without_pos=10)),
        train_cfg=dict(
            assigner=dict(
                type='IDOLSimOTAAssigner',
                candidate_topk=10,
                iou_weight=3.0,
                center_weight=100.0,
                outside_weight=10000.0,
                center_radius=2.5,
                center_stride=32,
                # crowded frames: 'official' lets two GTs share a query (the
                # second then has no positive), as VNext; 'strict' gives
                # every GT a query of its own (docs/idol.md)
                conflict_resolution='official'),
            # SimOTA candidate IoUs for the contrastive positives / negatives
            embed_pos_topk=10,
            embed_neg_topk=100,
            # both runs on one cost that the first penalises in place, as
            # VNext; False: a fresh cost for each run
            embed_shared_cost=True),
        test_cfg=dict(max_per_img=100, mask_thr=0.5)),
    tracker=dict(
        type='IDOLTracker',
        select_score_thr=0.1,
        box_nms_thr=0.9,
        nms_thr_pre=0.5,
        nms_thr_post=0.05,
        init_score_thr=0.2,
        addnew_score_thr=0.2,
        match_score_thr=0.5,
        memo_tracklet_frames=10,
        memory_len=3,
        match_metric='bisoftmax',
        apply_cls_thr=0.05))

# optimizer: AdamW, weight decay on every parameter, backbone lr x0.1,
# gradient norm of the whole model clipped to 0.01
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, weight_decay=1e-4),
    clip_grad=dict(max_norm=0.01, norm_type=2),
    paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=0.1)}))

# schedule: 12k iterations (32 clips each), lr x0.1 at 8k
max_iters = 12000
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [
    dict(
        type='MultiStepLR',
        begin=0,
        end=max_iters,
        by_epoch=False,
        milestones=[8000],
        gamma=0.1)
]

default_hooks = dict(
    checkpoint=dict(
        type='CheckpointHook', by_epoch=False, interval=2000,
        max_keep_ckpts=3),
    visualization=dict(type='TrackVisualizationHook', draw=False))
log_processor = dict(type='LogProcessor', window_size=50, by_epoch=False)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(
    type='TrackLocalVisualizer', vis_backends=vis_backends, name='visualizer')

# base batch: 8 GPUs x 4 clips
auto_scale_lr = dict(enable=False, base_batch_size=32)

# `--resume` continues the torch random stream (dropout, random negatives)
custom_hooks = [dict(type='RNGStateHook')]
