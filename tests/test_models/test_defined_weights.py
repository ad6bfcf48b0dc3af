# Copyright (c) mmookd authors. All rights reserved.
"""No parameter or buffer of a built model is left as uninitialised memory.

``torch.empty`` (and mmdet's ``nn.Parameter(torch.Tensor(n, c))``) return
whatever the allocator hands out: often zeros, at times NaN or garbage, so
a test that only builds a model cannot see the fault by chance. Under
``torch.use_deterministic_algorithms(True)`` torch fills such memory with
NaN (``torch.utils.deterministic.fill_uninitialized_memory``), which makes
every uninitialised value visible. The models are built WITHOUT
``init_weights`` (a frozen teacher waiting for its checkpoint is used so).
"""
import contextlib
import copy
import logging

import pytest
import torch
from mmdet.registry import MODELS
from mmdet.utils import register_all_modules
from mmengine.logging import MMLogger
from torch import nn

import mmookd  # noqa: F401
from mmookd.testing import tiny_idol_cfg

register_all_modules()


@contextlib.contextmanager
def nan_filled_allocations():
    """Fresh float memory holds NaN inside the context."""
    deterministic = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    fill = torch.utils.deterministic.fill_uninitialized_memory
    torch.utils.deterministic.fill_uninitialized_memory = True
    torch.use_deterministic_algorithms(True)
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)
        torch.use_deterministic_algorithms(deterministic, warn_only=warn_only)
        torch.utils.deterministic.fill_uninitialized_memory = fill


def undefined_tensors(model: nn.Module) -> list:
    """Names of the floating parameters/buffers that hold NaN or inf."""
    bad = []
    for name, tensor in list(model.named_parameters()) + list(
            model.named_buffers()):
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            bad.append(name)
    return bad


def aggregator_cfg(dims=32, num_queries=20):
    return dict(
        type='VideoQueryAggregator',
        mode='attention',
        embed_dims=dims,
        num_frame_queries=num_queries,
        num_video_queries=5,
        num_enc_layers=1,
        num_dec_layers=1,
        num_heads=4,
        ffn_dims=32,
        window_size=6)


def teacher_cfg():
    return dict(
        type='OfflineTeacher',
        base=tiny_idol_cfg(enc_layers=1, dec_layers=1),
        aggregator=aggregator_cfg())


def test_the_check_sees_uninitialised_memory():
    # the check can fail: mmdet's own allocation pattern gives NaN here
    with nan_filled_allocations():
        param = nn.Parameter(torch.Tensor(4, 8))
        module = nn.Module()
        module.level_embed = param
        assert undefined_tensors(module) == ['level_embed']
        assert not undefined_tensors(nn.Linear(3, 2))


@pytest.mark.parametrize(
    'name', ['idol', 'idol_with_tracker', 'teacher', 'ookd'])
def test_built_models_hold_no_uninitialised_memory(name):
    cfgs = dict(
        idol=tiny_idol_cfg(),
        idol_with_tracker=tiny_idol_cfg(tracker=dict(type='IDOLTracker')),
        teacher=teacher_cfg(),
        ookd=dict(
            type='OOKD',
            student=tiny_idol_cfg(enc_layers=1, dec_layers=1),
            teacher=teacher_cfg()))
    with nan_filled_allocations():
        model = MODELS.build(cfgs[name])
    assert undefined_tensors(model) == []


def test_level_embed_is_defined_and_init_weights_still_draws_it():
    with nan_filled_allocations():
        idol = MODELS.build(tiny_idol_cfg())
    level_embed = idol.detector.level_embed
    assert torch.equal(level_embed, torch.zeros_like(level_embed))
    idol.detector.init_weights()
    # N(0, 1), as mmdet's init_weights
    assert float(level_embed.abs().sum()) > 0
    assert 0.5 < float(level_embed.std()) < 1.5


def test_swin_backbone_holds_no_uninitialised_memory():
    # the Swin-L configs' backbone, one block a stage and 32 channels
    backbone = dict(
        type='SwinTransformer',
        pretrain_img_size=384,
        embed_dims=32,
        depths=[1, 1, 1, 1],
        num_heads=[1, 2, 4, 8],
        window_size=12,
        out_indices=(1, 2, 3),
        convert_weights=True,
        init_cfg=None)
    cfg = copy.deepcopy(tiny_idol_cfg())
    cfg['detector']['backbone'] = backbone
    cfg['detector']['neck']['in_channels'] = [64, 128, 256]
    with nan_filled_allocations():
        model = MODELS.build(cfg)
    assert undefined_tensors(model) == []
