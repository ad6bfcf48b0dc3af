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
from mmookd.testing import tiny_idol_cfg

register_all_modules()

STEPS = 200


def small_idol_cfg():
    """IDOL with a ResNet-18 (width 16) backbone, a 32-d transformer of one
    encoder and one decoder layer, 20 queries and 3 classes."""
    return tiny_idol_cfg(enc_layers=1, dec_layers=1)


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
