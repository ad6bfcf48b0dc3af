# Copyright (c) mmookd authors. All rights reserved.
"""A small IDOL overfits one fixed two-frame clip on the CPU.

Every loss term (classes, boxes, masks, the contrastive pair) must be able
to fall together; the total loss has to drop at least 5x in 200 steps.
"""
import logging

import numpy as np
import torch
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample, TrackDataSample
from mmdet.structures.mask import BitmapMasks
from mmdet.utils import register_all_modules
from mmengine.logging import MMLogger
from mmengine.optim import OptimWrapper
from mmengine.structures import InstanceData

import mmookd.models.vis.idol  # noqa: F401

register_all_modules()

STEPS = 200


def small_idol_cfg():
    """IDOL with a ResNet-18 (width 16) backbone, a 32-d transformer of one
    encoder and one decoder layer, 20 queries and 3 classes."""
    dims = 32
    attn = dict(embed_dims=dims, num_heads=4, num_points=2, dropout=0.0)
    ffn = dict(embed_dims=dims, feedforward_channels=64, ffn_drop=0.0)
    return dict(
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
            num_queries=20,
            with_box_refine=True,
            backbone=dict(
                type='ResNet',
                depth=18,
                base_channels=16,
                out_indices=(1, 2, 3),
                norm_cfg=dict(type='BN'),
                norm_eval=False),
            neck=dict(
                type='ChannelMapper',
                in_channels=[32, 64, 128],
                kernel_size=1,
                out_channels=dims,
                act_cfg=None,
                bias=True,
                norm_cfg=dict(type='GN', num_groups=8),
                num_outs=4),
            encoder=dict(
                num_layers=1, layer_cfg=dict(self_attn_cfg=attn, ffn_cfg=ffn)),
            decoder=dict(
                num_layers=1,
                return_intermediate=True,
                layer_cfg=dict(
                    self_attn_cfg=dict(
                        embed_dims=dims, num_heads=4, dropout=0.0),
                    cross_attn_cfg=attn,
                    ffn_cfg=ffn),
                post_norm_cfg=None),
            positional_encoding=dict(
                num_feats=dims // 2, normalize=True, offset=-0.5),
            bbox_head=dict(
                type='IDOLHead',
                num_classes=3,
                embed_dims=dims,
                embed_channels=dims,
                mask_head=dict(type='IDOLDynamicMaskHead', in_channels=dims),
                loss_cls=dict(
                    type='FocalLoss', use_sigmoid=True, loss_weight=2.0)),
            train_cfg=dict(assigner=dict(type='IDOLSimOTAAssigner'))))


def fixed_clip(size=64):
    """Two frames, two moving boxes (classes 0 and 2, ids 5 and 7)."""
    boxes = [[(8, 8, 30, 40), (34, 20, 60, 56)],
             [(10, 10, 32, 42), (32, 18, 58, 54)]]
    imgs = torch.zeros(2, 3, size, size, dtype=torch.uint8)
    samples = []
    for t in range(2):
        masks = np.zeros((2, size, size), np.uint8)
        for i, (x1, y1, x2, y2) in enumerate(boxes[t]):
            masks[i, y1:y2, x1:x2] = 1
            imgs[t, i, y1:y2, x1:x2] = 200
        sample = DetDataSample(
            metainfo=dict(
                img_shape=(size, size),
                ori_shape=(size, size),
                scale_factor=(1.0, 1.0),
                frame_id=t,
                video_id=1,
                img_id=t))
        sample.gt_instances = InstanceData(
            bboxes=torch.tensor(boxes[t], dtype=torch.float),
            labels=torch.tensor([0, 2]),
            masks=BitmapMasks(masks, size, size),
            instances_ids=torch.tensor([5, 7]))
        samples.append(sample)
    track = TrackDataSample()
    track.video_data_samples = samples
    return dict(inputs=[imgs], data_samples=[track])


def test_overfit_one_clip():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny ops: one thread is much faster here
    try:
        torch.manual_seed(0)
        np.random.seed(0)
        model = MODELS.build(small_idol_cfg())
        logger = MMLogger.get_current_instance()
        level = logger.level
        logger.setLevel(logging.WARNING)
        model.init_weights()
        logger.setLevel(level)
        optim = OptimWrapper(
            torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-4),
            clip_grad=dict(max_norm=1.0))
        data = fixed_clip()
        history = []
        for _ in range(STEPS):
            log_vars = model.train_step(data, optim)
            history.append(float(log_vars['loss']))
    finally:
        torch.set_num_threads(threads)
    start = history[0]
    end = float(np.mean(history[-10:]))
    print(f'IDOL overfit: loss {start:.3f} -> {end:.3f} '
          f'(mean of the last 10 of {STEPS} steps)')
    assert np.isfinite(history).all()
    assert end * 5 <= start, (start, end)
    assert set(log_vars) >= {'loss_mask', 'loss_dice', 'loss_embed'}
