# Copyright (c) mmookd authors. All rights reserved.
"""IDOL's contrastive losses against hand-computed values."""
import math

import pytest
import torch

from mmookd.models.losses.contrastive_loss import (ContrastiveAuxLoss,
                                                   ContrastiveLoss,
                                                   multi_pos_contrastive,
                                                   sample_negatives)

# key v = (1, 0); candidates k0 = (2, 0), k1 = (0, 1), k2 = (1, 1)
# dot products v.k = 2, 0, 1; cosines 1, 0, 1/sqrt(2)
KEY = torch.tensor([[1.0, 0.0]])
REFS = torch.tensor([[2.0, 0.0], [0.0, 1.0], [1.0, 1.0]])


def _mask(*values):
    return torch.tensor([list(values)], dtype=torch.bool)


def test_one_positive():
    loss = multi_pos_contrastive(KEY, REFS, _mask(1, 0, 0), _mask(0, 1, 1))
    expected = math.log(1 + math.exp(0 - 2) + math.exp(1 - 2))
    assert loss.item() == pytest.approx(expected, rel=1e-6)


def test_two_positives_and_ignored_candidates():
    # positives k0, k2; negative k1
    loss = multi_pos_contrastive(KEY, REFS, _mask(1, 0, 1), _mask(0, 1, 0))
    expected = math.log(1 + math.exp(0 - 2) + math.exp(0 - 1))
    assert loss.item() == pytest.approx(expected, rel=1e-6)
    # k2 neither positive nor negative: it does not count at all
    loss = multi_pos_contrastive(KEY, REFS, _mask(1, 0, 0), _mask(0, 1, 0))
    assert loss.item() == pytest.approx(math.log(1 + math.exp(-2)), rel=1e-6)
    # no negative -> log(1) = 0
    loss = multi_pos_contrastive(KEY, REFS, _mask(1, 1, 1), _mask(0, 0, 0))
    assert loss.item() == 0.0


def test_candidate_both_positive_and_negative_adds_exp0():
    # the official selection can list a query as positive and negative:
    # the (k0 as neg, k0 as pos) pair adds exp(0) = 1
    loss = multi_pos_contrastive(KEY, REFS, _mask(1, 0, 0), _mask(1, 1, 0))
    expected = math.log(1 + 1 + math.exp(0 - 2))
    assert loss.item() == pytest.approx(expected, rel=1e-6)


def test_contrastive_loss_module_mean_and_weight():
    keys = torch.cat([KEY, torch.tensor([[0.0, 2.0]])])  # item 2: v = (0, 2)
    pos = torch.tensor([[1, 0, 0], [0, 1, 0]], dtype=torch.bool)
    neg = ~pos
    # item 2 dots: 0, 2, 2 -> log(1 + exp(0 - 2) + exp(2 - 2))
    item1 = math.log(1 + math.exp(-2) + math.exp(-1))
    item2 = math.log(1 + math.exp(-2) + 1)
    loss = ContrastiveLoss(loss_weight=2.0)(keys, REFS, pos, neg)
    assert loss.item() == pytest.approx(2.0 * (item1 + item2) / 2, rel=1e-6)
    # (M, N, C) references give the same result
    loss3d = ContrastiveLoss(loss_weight=2.0)(keys, REFS[None].repeat(2, 1, 1),
                                              pos, neg)
    assert loss3d.item() == pytest.approx(loss.item(), rel=1e-6)


def test_contrastive_gradient_and_empty():
    keys = KEY.clone().requires_grad_(True)
    loss = ContrastiveLoss()(keys, REFS, _mask(1, 0, 0), _mask(0, 1, 1))
    loss.backward()
    assert torch.isfinite(keys.grad).all() and keys.grad.abs().sum() > 0
    empty_keys = torch.zeros(0, 2, requires_grad=True)
    zero = ContrastiveLoss()(empty_keys, REFS, torch.zeros(0, 3).bool(),
                             torch.zeros(0, 3).bool())
    assert zero.item() == 0.0 and zero.requires_grad


def test_aux_cosine_loss_value():
    # 1 positive (k0, cos 1) and 2 negatives (cos 0 and 1/sqrt 2), all kept
    loss = ContrastiveAuxLoss(loss_weight=3.0)(KEY, REFS, _mask(1, 0, 0),
                                               _mask(0, 1, 1))
    expected = 3.0 * ((1 - 1)**2 + 0**2 + 0.5) / 3
    assert loss.item() == pytest.approx(expected, rel=1e-6)


def test_aux_negative_subsampling():
    pos = torch.zeros(2, 40, dtype=torch.bool)
    pos[0, :2] = True  # item 0: 2 positives, 38 negatives -> keeps 20
    neg = ~pos
    kept = sample_negatives(pos, neg, neg_pos_ratio=10, num_neg_without_pos=10)
    assert kept[0].sum() == 20 and kept[1].sum() == 10  # item 1: no pos
    assert not (kept & ~neg).any()
    # fewer negatives than the quota: all kept
    few = torch.zeros(1, 40, dtype=torch.bool)
    few[0, :3] = True
    assert sample_negatives(~few & ~few, few).sum() == 3
    # aux loss only sees the sampled negatives: with cos = 0 for every
    # negative and 1 for positives, the loss is 0 whatever the sample
    refs = torch.zeros(40, 2)
    refs[:, 1] = 1.0  # cos 0 with v = (1, 0)
    refs[:2, 0], refs[:2, 1] = 1.0, 0.0  # the positives: cos 1
    neg[1, :2] = False  # item 1: candidates 0, 1 are neither
    loss = ContrastiveAuxLoss()(KEY.repeat(2, 1), refs, pos, neg)
    assert loss.item() == pytest.approx(0.0, abs=1e-7)
