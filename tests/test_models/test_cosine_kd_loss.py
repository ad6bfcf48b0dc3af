# Copyright (c) mmookd authors. All rights reserved.
"""Tests of CosineKDLoss (OOKD Eq. 4) against hand computations."""
import math

import pytest
import torch
from mmdet.registry import MODELS

from mmookd.models.losses.cosine_kd_loss import CosineKDLoss, cosine_distance

STUDENT = [[1.0, 0.0, 0.0], [1.0, 1.0, 0.0], [3.0, 4.0, 0.0]]
TEACHER = [[0.0, 2.0, 0.0], [2.0, 2.0, 1.0], [-6.0, -8.0, 0.0]]


def _hand_distances():
    out = []
    for s, t in zip(STUDENT, TEACHER):
        dot = sum(a * b for a, b in zip(s, t))
        norm_s = math.sqrt(sum(a * a for a in s))
        norm_t = math.sqrt(sum(b * b for b in t))
        out.append(1 - dot / (norm_s * norm_t))
    return out  # [1, 1 - 4 / (sqrt(2) * 3), 2]


def test_equals_hand_computation():
    hand = _hand_distances()
    student = torch.tensor(STUDENT)
    teacher = torch.tensor(TEACHER)
    loss = CosineKDLoss()(student, teacher)
    assert loss.dim() == 0
    assert loss.item() == pytest.approx(sum(hand) / 3, abs=1e-6)
    # loss_weight, 'sum', 'none', valid, avg_factor
    loss_w = CosineKDLoss(loss_weight=0.5, reduction='sum')(student, teacher)
    assert loss_w.item() == pytest.approx(0.5 * sum(hand), abs=1e-6)
    valid = torch.tensor([True, False, True])
    loss_v = CosineKDLoss()(student, teacher, valid)
    assert loss_v.item() == pytest.approx((hand[0] + hand[2]) / 2, abs=1e-6)
    per_pair = CosineKDLoss(reduction='none')(student, teacher, valid)
    torch.testing.assert_close(per_pair, torch.tensor([hand[0], 0., hand[2]]))
    loss_a = CosineKDLoss()(student, teacher, valid, avg_factor=4)
    assert loss_a.item() == pytest.approx((hand[0] + hand[2]) / 4, abs=1e-6)
    loss_o = CosineKDLoss()(student, teacher, reduction_override='sum')
    assert loss_o.item() == pytest.approx(sum(hand), abs=1e-6)


def test_same_direction_is_zero_and_opposite_is_two():
    torch.manual_seed(0)
    feats = torch.randn(5, 8)
    scales = torch.tensor([0.01, 1.0, 3.0, 100.0, 7.5])[:, None]
    loss_fn = CosineKDLoss()
    assert loss_fn(feats, feats * scales).item() == pytest.approx(0, abs=1e-6)
    assert loss_fn(feats, -feats * scales).item() == pytest.approx(2, abs=1e-6)


def test_no_gradient_into_the_teacher():
    torch.manual_seed(0)
    student = torch.randn(4, 6, requires_grad=True)
    teacher = torch.randn(4, 6, requires_grad=True)
    CosineKDLoss()(student, teacher).backward()
    assert student.grad is not None and student.grad.abs().sum() > 0
    assert teacher.grad is None
    # without detaching, the teacher gets a gradient too
    teacher_nd = teacher.detach().clone().requires_grad_()
    CosineKDLoss(teacher_detach=False)(student, teacher_nd).backward()
    assert teacher_nd.grad is not None and teacher_nd.grad.abs().sum() > 0


@pytest.mark.parametrize('reduction', ['mean', 'sum'])
def test_empty_gives_zero_with_a_gradient_path(reduction):
    loss_fn = CosineKDLoss(reduction=reduction)
    student = torch.zeros(0, 6, requires_grad=True)
    loss = loss_fn(student, torch.zeros(0, 6))
    assert loss.item() == 0 and loss.requires_grad
    loss.backward()
    assert student.grad.shape == (0, 6)
    # pairs exist but none is valid
    student = torch.randn(3, 6, requires_grad=True)
    loss = loss_fn(student, torch.randn(3, 6), torch.zeros(3, dtype=bool))
    assert loss.item() == 0 and not torch.isnan(loss)
    loss.backward()
    assert torch.equal(student.grad, torch.zeros(3, 6))


def test_zero_vectors_give_no_nan():
    student = torch.tensor([[0., 0.], [1., 0.]], requires_grad=True)
    teacher = torch.tensor([[1., 1.], [0., 0.]])
    loss = CosineKDLoss()(student, teacher)
    assert loss.item() == pytest.approx(1.0)  # cosine 0 with a zero vector
    loss.backward()
    assert torch.isfinite(student.grad).all()
    assert cosine_distance(torch.zeros(1, 3), torch.zeros(1, 3)).item() == 1


def test_built_from_registry_and_bad_shapes():
    loss_fn = MODELS.build(dict(type='CosineKDLoss', loss_weight=2.0))
    assert isinstance(loss_fn, CosineKDLoss) and loss_fn.loss_weight == 2.0
    with pytest.raises(ValueError, match='teacher_feats'):
        loss_fn(torch.zeros(3, 4), torch.zeros(3, 5))
    with pytest.raises(ValueError, match='valid'):
        loss_fn(torch.zeros(3, 4), torch.zeros(3, 4), torch.ones(2).bool())
    with pytest.raises(ValueError, match='reduction'):
        CosineKDLoss(reduction='max')


def test_sgd_on_student_features_drives_the_loss_down():
    torch.manual_seed(0)
    teacher = torch.randn(16, 32)
    student = torch.randn(16, 32, requires_grad=True)
    loss_fn = CosineKDLoss()
    optimizer = torch.optim.SGD([student], lr=20.0)
    first = loss_fn(student, teacher).item()
    for _ in range(100):
        optimizer.zero_grad()
        loss = loss_fn(student, teacher)
        loss.backward()
        optimizer.step()
    last = loss_fn(student, teacher).item()
    assert 0.8 < first < 1.2
    assert last < 0.1
