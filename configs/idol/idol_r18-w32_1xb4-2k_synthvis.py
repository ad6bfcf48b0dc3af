# Copyright (c) mmookd authors. All rights reserved.
# IDOL, small enough to learn SynthVIS on a 2-core CPU in about 10 minutes:
# the official IDOL (losses, SimOTA assignment, contrastive embeddings,
# tracker) with a narrow ResNet-18 (32 base channels, from scratch), 64-d
# transformer (1 encoder / 3 decoder layers), 30 queries, 128 px frames.
#   python tools/train.py configs/idol/idol_r18-w32_1xb4-2k_synthvis.py
_base_ = ['./idol_r50_base.py', '../_base_/datasets/synthvis.py']

num_classes = 8
embed_dims = 64
model = dict(
    detector=dict(
        num_queries=30,
        backbone=dict(
            depth=18,
            base_channels=32,
            frozen_stages=-1,
            norm_cfg=dict(type='BN', requires_grad=True),
            norm_eval=False,
            init_cfg=None),
        neck=dict(
            in_channels=[64, 128, 256],
            out_channels=embed_dims,
            norm_cfg=dict(type='GN', num_groups=8)),
        encoder=dict(
            num_layers=1,
            layer_cfg=dict(
                self_attn_cfg=dict(embed_dims=embed_dims, num_heads=4),
                ffn_cfg=dict(
                    embed_dims=embed_dims, feedforward_channels=128))),
        decoder=dict(
            num_layers=3,
            layer_cfg=dict(
                self_attn_cfg=dict(embed_dims=embed_dims, num_heads=4),
                cross_attn_cfg=dict(embed_dims=embed_dims, num_heads=4),
                ffn_cfg=dict(
                    embed_dims=embed_dims, feedforward_channels=128))),
        positional_encoding=dict(num_feats=embed_dims // 2),
        bbox_head=dict(
            num_classes=num_classes,
            embed_dims=embed_dims,
            embed_channels=embed_dims,
            mask_head=dict(in_channels=embed_dims))))

train_dataloader = dict(batch_size=4, num_workers=1)
val_dataloader = dict(num_workers=1)
test_dataloader = val_dataloader

# A small model from scratch: a larger lr and a looser gradient clip than
# the official fine-tuning from COCO weights, and the backbone at the full
# lr (the official x0.1 is for a pretrained backbone).
optim_wrapper = dict(
    optimizer=dict(lr=4e-4),
    clip_grad=dict(max_norm=0.1),
    paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=1.0)}))
max_iters = 2000
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
param_scheduler = [
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
    checkpoint=dict(interval=500, max_keep_ckpts=2))
randomness = dict(seed=0)
# SynthVIS is learned from scratch on purpose (nothing pretrained suits its
# 128 px synthetic frames): without this tools/train.py refuses a model
# that starts from random weights (mmookd/utils/pretrained_check.py).
train_from_scratch = True
auto_scale_lr = dict(base_batch_size=4)
