# Copyright (c) mmookd authors. All rights reserved.
"""Tests of QFAAssigner on hand-built predictions (no model).

Costs are checked against a pure-Python computation of Eq. 2. For the
matching tests a cost matrix is designed first and logits are built that
realise it exactly: with ``giou_weight=0``, GT ``m`` of class ``m`` and the
sigmoid activation, ``S[n, m] = -log(sigmoid(z[n, m]))``, so
``z[n, m] = -log(exp(S[n, m]) - 1)``.
"""
import itertools
import math

import pytest
import torch
from mmdet.registry import TASK_UTILS
from mmengine.structures import InstanceData

from mmookd.models.task_modules.qfa_assigner import (LabelCrossEntropyCost,
                                                     QFAAssigner)


def _giou(a, b):
    """GIoU of two xyxy boxes given as Python lists."""
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    area_a = (a[2] - a[0]) * (a[3] - a[1])
    area_b = (b[2] - b[0]) * (b[3] - b[1])
    union = area_a + area_b - inter
    hull = ((max(a[2], b[2]) - min(a[0], b[0])) *
            (max(a[3], b[3]) - min(a[1], b[1])))
    return inter / union - (hull - union) / hull


def _preds(logits, bboxes):
    return InstanceData(
        cls_logits=torch.tensor(logits, dtype=torch.float),
        bboxes=torch.tensor(bboxes, dtype=torch.float))


def _gts(labels, bboxes):
    return InstanceData(
        labels=torch.tensor(labels, dtype=torch.long),
        bboxes=torch.tensor(bboxes, dtype=torch.float).reshape(-1, 4))


def _realise(cost):
    """Predictions and GTs whose class-only cost (sigmoid) is ``cost``."""
    num_preds, num_gts = len(cost), len(cost[0])
    logits = [[-math.log(math.exp(c) - 1) for c in row] for row in cost]
    box = [0., 0., 10., 10.]
    return (_preds(logits, [box] * num_preds),
            _gts(list(range(num_gts)), [box] * num_gts))


# designed cost: argmin gives q0 to GT0 and GT1; the optimal one-to-one
# assignment is GT0->q1, GT1->q0, GT2->q2 (total 0.9), while assigning
# greedily from the smallest entry (GT0->q0 first) is worse.
# yapf: disable
COST = [[0.1, 0.2, 1.5],
        [0.3, 0.9, 1.4],
        [0.8, 0.7, 0.4]]
# yapf: enable


def test_cost_matrix_equals_hand_computation():
    logits = [[2.0, -1.0, 0.5], [-3.0, 1.5, 0.0]]
    pboxes = [[0., 0., 10., 10.], [5., 5., 25., 15.]]
    labels = [2, 0, 1]
    gboxes = [[1., 1., 11., 9.], [20., 0., 30., 8.], [4., 6., 24., 16.]]
    assigner = QFAAssigner(cls_weight=1.5, giou_weight=2.0)
    sigma, cost = assigner.assign(
        _preds(logits, pboxes), _gts(labels, gboxes), return_cost=True)
    assert cost.shape == (2, 3)
    expected = torch.empty(2, 3, dtype=torch.float64)
    for n in range(2):
        for m in range(3):
            prob = 1 / (1 + math.exp(-logits[n][labels[m]]))
            expected[n, m] = (1.5 * -math.log(prob) +
                              2.0 * -_giou(pboxes[n], gboxes[m]))
    torch.testing.assert_close(cost.double(), expected, rtol=0, atol=1e-6)
    assert sigma.tolist() == expected.argmin(0).tolist() == [0, 0, 1]


def test_argmin_may_give_one_query_to_two_gts():
    pred, gt = _realise(COST)
    assigner = QFAAssigner(match='argmin', giou_weight=0.)
    sigma, cost = assigner.assign(pred, gt, return_cost=True)
    torch.testing.assert_close(cost, torch.tensor(COST), rtol=0, atol=1e-5)
    assert sigma.dtype == torch.long
    assert sigma.tolist() == [0, 0, 2]


def test_argmin_with_boxes_picks_the_overlapping_query():
    # two look-alike queries of the same class: the box decides
    logits = [[3.0, -3.0], [3.0, -3.0], [-3.0, 3.0]]
    pboxes = [[0., 0., 10., 10.], [50., 50., 60., 60.], [0., 0., 10., 10.]]
    gt = _gts([0, 0, 1],
              [[49., 51., 61., 60.], [1., 0., 10., 11.], [0., 0., 10., 10.]])
    sigma = QFAAssigner().assign(_preds(logits, pboxes), gt)
    assert sigma.tolist() == [1, 0, 2]


def test_hungarian_is_the_optimal_one_to_one_assignment():
    pred, gt = _realise(COST)
    sigma = QFAAssigner(match='hungarian', giou_weight=0.).assign(pred, gt)
    assert sigma.tolist() == [1, 0, 2]
    # brute force over every one-to-one assignment
    best = min(
        itertools.permutations(range(3)),
        key=lambda p: sum(COST[p[m]][m] for m in range(3)))
    assert list(best) == sigma.tolist()
    assert len(set(sigma.tolist())) == 3


def test_hungarian_more_gts_than_queries():
    # yapf: disable
    cost = [[0.5, 0.1, 0.2],
            [0.6, 0.3, 0.9]]
    # yapf: enable
    pred, gt = _realise(cost)
    sigma = QFAAssigner(match='hungarian', giou_weight=0.).assign(pred, gt)
    # brute force over every way of giving the 2 queries to 2 of 3 GTs;
    # the optimum GT2->q0 (0.2) + GT1->q1 (0.3) = 0.5 leaves GT0 out
    options = []
    for queries in itertools.permutations(range(2)):
        for gts in itertools.permutations(range(3), 2):
            options.append((sum(cost[q][g] for q, g in zip(queries, gts)),
                            dict(zip(gts, queries))))
    _, assignment = min(options, key=lambda o: o[0])
    expected = [assignment.get(m, -1) for m in range(3)]
    assert expected == [-1, 1, 0]
    assert sigma.tolist() == expected


def test_index_mode_ignores_predictions():
    assigner = QFAAssigner(match='index')
    gt = _gts([0, 1, 1],
              [[0., 0., 5., 5.], [1., 1., 9., 9.], [2., 2., 4., 4.]])
    torch.manual_seed(0)
    sigmas = []
    for _ in range(2):
        boxes = torch.rand(5, 2) * 20
        pred = InstanceData(
            cls_logits=torch.randn(5, 2),
            bboxes=torch.cat([boxes, boxes + 1 + torch.rand(5, 2)], 1))
        sigmas.append(assigner.assign(pred, gt))
    assert sigmas[0].tolist() == sigmas[1].tolist() == [0, 1, 2]
    # fewer queries than GTs: the GTs past the last query get -1
    pred_small = InstanceData(
        cls_logits=torch.zeros(2, 2),
        bboxes=torch.tensor([[0., 0., 1., 1.]] * 2))
    assert assigner.assign(pred_small, gt).tolist() == [0, 1, -1]
    # cost_thr does not apply to index mode
    assigner_thr = QFAAssigner(match='index', cost_thr=-100.)
    assert assigner_thr.assign(pred_small, gt).tolist() == [0, 1, -1]


@pytest.mark.parametrize('match', ['argmin', 'hungarian'])
def test_cost_thr_filters_poor_queries(match):
    pred, gt = _realise(COST)
    assigner = QFAAssigner(match=match, giou_weight=0., cost_thr=0.35)
    sigma = assigner.assign(pred, gt)
    if match == 'argmin':  # best costs 0.1, 0.2, 0.4
        assert sigma.tolist() == [0, 0, -1]
    else:  # assigned costs 0.3, 0.2, 0.4
        assert sigma.tolist() == [1, 0, -1]


def test_softmax_activation_with_no_object_logit():
    # K = 2 classes + a trailing no-object logit
    logits = [[2.0, 0.0, 1.0], [0.0, 0.5, 3.0]]
    pboxes = [[0., 0., 10., 10.], [0., 0., 10., 10.]]
    labels = [1, 0]
    gboxes = [[0., 0., 10., 10.], [0., 0., 10., 10.]]
    assigner = QFAAssigner(activation='softmax', giou_weight=1.0)
    sigma, cost = assigner.assign(
        _preds(logits, pboxes), _gts(labels, gboxes), return_cost=True)
    expected = torch.empty(2, 2, dtype=torch.float64)
    for n in range(2):
        denom = sum(math.exp(z) for z in logits[n])
        for m in range(2):
            prob = math.exp(logits[n][labels[m]]) / denom
            expected[n, m] = -math.log(prob) - 1.0  # GIoU of equal boxes 1
    torch.testing.assert_close(cost.double(), expected, rtol=0, atol=1e-6)
    # GT0 (class 1): q1's large no-object logit makes its softmax
    # p = e^.5 / (1 + e^.5 + e^3) = 0.073 lower than q0's 1 / (e^2 + 1 + e)
    # = 0.090, although q1's class-1 logit is the larger one
    assert sigma.tolist() == [0, 0]
    # under sigmoid the no-object column is just a class: q1 wins GT0
    sigma_sig, cost_sig = QFAAssigner(giou_weight=1.0).assign(
        _preds(logits, pboxes), _gts(labels, gboxes), return_cost=True)
    assert sigma_sig.tolist() == [1, 0]
    assert not torch.allclose(cost_sig, cost)


def test_ce_cost_is_capped_by_eps():
    cost = LabelCrossEntropyCost(eps=1e-3)(
        InstanceData(scores=torch.tensor([[-50.0, 0.0]])),
        InstanceData(labels=torch.tensor([0, 1])))
    torch.testing.assert_close(
        cost, torch.tensor([[-math.log(1e-3), math.log(2.0)]]))


@pytest.mark.parametrize('match', ['argmin', 'hungarian', 'index'])
def test_no_gt(match):
    pred = _preds([[0.0, 1.0]] * 3, [[0., 0., 4., 4.]] * 3)
    sigma, cost = QFAAssigner(match=match).assign(
        pred, _gts([], []), return_cost=True)
    assert sigma.dtype == torch.long and sigma.shape == (0, )
    assert cost.shape == (3, 0)


@pytest.mark.parametrize('match', ['argmin', 'hungarian', 'index'])
def test_no_query(match):
    pred = InstanceData(cls_logits=torch.zeros(0, 2), bboxes=torch.zeros(0, 4))
    gt = _gts([0, 1], [[0., 0., 4., 4.], [1., 1., 3., 3.]])
    assigner = QFAAssigner(match=match, cost_thr=1.0)
    sigma, cost = assigner.assign(pred, gt, return_cost=True)
    assert sigma.dtype == torch.long and sigma.tolist() == [-1, -1]
    assert cost.shape == (0, 2)


def test_built_from_registry_and_no_grad():
    assigner = TASK_UTILS.build(
        dict(type='QFAAssigner', match='hungarian', giou_weight=3.0))
    assert isinstance(assigner, QFAAssigner)
    assert assigner.giou_cost.weight == 3.0
    logits = torch.randn(4, 3, requires_grad=True)
    pred = InstanceData(
        cls_logits=logits, bboxes=torch.tensor([[0., 0., 5., 5.]] * 4))
    sigma, cost = assigner.assign(
        pred, _gts([2], [[0., 0., 5., 5.]]), return_cost=True)
    assert not cost.requires_grad
    assert sigma.tolist() == [logits[:, 2].argmax().item()]


def test_bad_inputs_are_named():
    pred = _preds([[0.0, 1.0]], [[0., 0., 4., 4.]])
    with pytest.raises(ValueError, match='gt_instances.labels'):
        QFAAssigner().assign(pred, _gts([2], [[0., 0., 4., 4.]]))
    with pytest.raises(ValueError, match='pred_instances.bboxes'):
        QFAAssigner().assign(
            InstanceData(
                cls_logits=torch.zeros(2, 2), bboxes=torch.zeros(2, 5)),
            _gts([0], [[0., 0., 4., 4.]]))
    with pytest.raises(ValueError, match='match'):
        QFAAssigner(match='greedy')
    with pytest.raises(ValueError, match='activation'):
        QFAAssigner(activation='relu')
