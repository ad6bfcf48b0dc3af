# Copyright (c) mmookd authors. All rights reserved.
"""IDOL's SimOTA assigner on hand-built examples (official rules)."""
import math

import pytest
import torch
from mmdet.structures.bbox import bbox_xyxy_to_cxcywh
from mmengine.structures import InstanceData

from mmookd.models.task_modules.idol_simota_assigner import (
    IDOLSimOTAAssigner, center_prior, dynamic_k_matching, focal_class_cost,
    simota_matching_matrix)


def _ious_for_k(ks, num_queries):
    """IoU columns whose top-10 sums floor to the wanted dynamic k."""
    ious = torch.zeros(num_queries, len(ks))
    for g, k in enumerate(ks):
        ious[:k, g] = 1.0
        ious[k, g] = 0.4  # sum = k + 0.4 -> floor k
    return ious


def test_docstring_example():
    cost = torch.tensor([[1.0, 5.0], [2.0, 1.5], [3.0, 2.0], [9.0, 9.0]])
    ious = torch.tensor([[0.9, 0.0], [0.8, 0.6], [0.1, 0.5], [0.0, 0.0]])
    assigned, matched = dynamic_k_matching(cost, ious, candidate_topk=2)
    assert assigned.tolist() == [0, 1, -1, -1]
    assert matched.tolist() == [0, 1]


def test_dynamic_k_is_floor_of_topk_iou_sum_at_least_one():
    # GT0: top-10 IoUs sum to 2.7 -> k = 2; GT1: sum 0.4 -> k = max(1, 0)
    num_queries = 12
    ious = torch.zeros(num_queries, 2)
    ious[:3, 0] = torch.tensor([0.9, 0.9, 0.9])
    ious[0, 1] = 0.4
    # cost increasing with the query index for both GTs, but GT1's
    # columns are far away from GT0's queries
    cost = torch.stack([
        torch.arange(num_queries, dtype=torch.float),
        torch.arange(num_queries, dtype=torch.float).flip(0)
    ], 1)
    assigned, matched = dynamic_k_matching(cost, ious, candidate_topk=10)
    assert (assigned == 0).nonzero().flatten().tolist() == [0, 1]
    assert (assigned == 1).nonzero().flatten().tolist() == [11]
    assert matched.tolist() == [0, 11]
    # only the top candidate_topk IoUs count: with top-2, GT0 has k = 1
    assigned, _ = dynamic_k_matching(cost, ious, candidate_topk=2)
    assert (assigned == 0).nonzero().flatten().tolist() == [0]


def test_conflict_goes_to_lowest_cost_gt():
    # both GTs have k = 2; GT0 takes q0, q1; GT1 takes q1, q2 -> q1 is
    # claimed twice and goes to GT1, whose cost for it is lower
    cost = torch.tensor([[0.5, 9.0], [2.0, 1.0], [9.0, 1.5], [9.0, 9.0]])
    ious = _ious_for_k([2, 2], 4)
    assigned, matched = dynamic_k_matching(cost, ious, candidate_topk=10)
    assert assigned.tolist() == [0, 1, 1, -1]
    assert matched.tolist() == [0, 1]


def test_conflict_argmin_over_all_gts_as_official():
    # q1 is claimed by GT0 and GT1 (k = 2 each) but GT2 has the lowest cost
    # on q1's row; the official code gives q1 to GT2 (argmin of the row)
    cost = torch.tensor([
        [0.0, 9.0, 9.0],  # q0: GT0
        [1.0, 1.0, 0.5],  # q1: claimed by GT0, GT1; GT2 cheapest
        [9.0, 0.0, 9.0],  # q2: GT1
        [9.0, 9.0, 0.1],  # q3: GT2 (k = 1 takes the cheaper q3)
        [9.0, 9.0, 9.0],
    ])
    ious = _ious_for_k([2, 2, 1], 5)
    assigned, matched = dynamic_k_matching(cost, ious, candidate_topk=10)
    assert assigned.tolist() == [0, 2, 1, 2, -1]
    # GT2's lowest-cost positive is q3 (0.1 < 0.5)
    assert matched.tolist() == [0, 2, 3]


def test_every_gt_gets_a_query():
    # both GTs (k = 1) want q0; q0 stays with GT0 (cost 1 < 2); GT1 is
    # empty and takes its argmin among the free queries: q2 (3.0 < 4.0)
    cost = torch.tensor([[1.0, 2.0], [5.0, 4.0], [5.0, 3.0]])
    ious = _ious_for_k([1, 1], 3)
    assigned, matched = dynamic_k_matching(cost, ious, candidate_topk=10)
    assert assigned.tolist() == [0, -1, 1]
    assert matched.tolist() == [0, 2]


# The crowded case: three GTs all want q0 (k = 1 each); q0 -> GT0 (its
# row's argmin). GT1 and GT2 are left empty and both pick the free q1 (their
# argmin once q0 is penalised).
CROWDED_COST = torch.tensor([
    [0.0, 1.0, 1.0],
    [9.0, 3.0, 2.0],
    [9.0, 4.0, 5.0],
    [9.0, 8.0, 8.0],
])


def test_crowded_official_two_empty_gts_share_a_query():
    """Official: the conflict on q1 is resolved with the stale mask of the
    first conflict (q0 only), so q1 stays shared; the loop ends; q1 is GT1's
    positive (lowest index) and GT2 has no positive, but q1 is the matched
    query of both."""
    ious = _ious_for_k([1, 1, 1], 4)
    matching = simota_matching_matrix(CROWDED_COST.clone(), ious, 10)
    assert matching.int().tolist() == [[1, 0, 0], [0, 1, 1], [0, 0, 0],
                                       [0, 0, 0]]
    assigned, matched = dynamic_k_matching(CROWDED_COST, ious, 10)
    assert assigned.tolist() == [0, 1, -1, -1]
    assert matched.tolist() == [0, 1, 1]
    assert 2 not in assigned.tolist()  # GT2 ends without a positive


def test_crowded_strict_every_gt_gets_its_own_query():
    """Strict: q1 goes to GT2 (cost 2 < 3), and GT1 takes the next free q2
    in another round."""
    ious = _ious_for_k([1, 1, 1], 4)
    assigned, matched = dynamic_k_matching(
        CROWDED_COST, ious, 10, conflict_resolution='strict')
    assert assigned.tolist() == [0, 2, 1, -1]
    assert matched.tolist() == [0, 2, 1]
    assert sorted(assigned[assigned >= 0].unique().tolist()) == [0, 1, 2]


def test_ordinary_case_modes_agree_and_cost_is_penalised_in_place():
    cost = torch.tensor([[1.0, 5.0], [2.0, 1.5], [3.0, 2.0], [9.0, 9.0]])
    ious = torch.tensor([[0.9, 0.0], [0.8, 0.6], [0.1, 0.5], [0.0, 0.0]])
    official = dynamic_k_matching(cost, ious, 2)
    strict = dynamic_k_matching(cost, ious, 2, conflict_resolution='strict')
    assert [t.tolist() for t in official] == [t.tolist() for t in strict]
    # no empty GT: the matrix function leaves the cost as it is
    work = cost.clone()
    simota_matching_matrix(work, ious, 2)
    assert torch.equal(work, cost)
    # the crowded case penalises the taken query q0 once, in place
    work = CROWDED_COST.clone()
    simota_matching_matrix(work, _ious_for_k([1, 1, 1], 4), 10)
    assert torch.equal(work[1:], CROWDED_COST[1:])
    assert torch.equal(work[0], CROWDED_COST[0] + 1e5)
    with pytest.raises(ValueError, match='conflict_resolution'):
        simota_matching_matrix(cost.clone(), ious, 2, 1e5, 'lenient')
    with pytest.raises(ValueError, match='conflict_resolution'):
        IDOLSimOTAAssigner(conflict_resolution='lenient')


def test_more_gts_than_queries_terminates():
    cost = torch.tensor([[0.0, 1.0, 2.0]])
    ious = torch.ones(1, 3)
    assigned, matched = dynamic_k_matching(cost, ious)
    assert assigned.tolist() == [0]
    assert matched.tolist() == [0, -1, -1]


def test_focal_class_cost_value():
    probs = torch.tensor([[0.5, 0.9]])
    cost = focal_class_cost(probs, torch.tensor([1, 0]))
    p = 0.9
    expect_1 = 0.25 * (1 -
                       p)**2 * -math.log(p) - 0.75 * p**2 * -math.log(1 - p)
    p = 0.5
    expect_0 = 0.25 * 0.25 * -math.log(p) - 0.75 * 0.25 * -math.log(p)
    assert cost[0].tolist() == pytest.approx([expect_1, expect_0], abs=1e-6)


def test_center_prior():
    gt = torch.tensor([[0.5, 0.5, 0.4, 0.4]])  # box [0.3, 0.7]^2
    centers = torch.tensor([
        [0.5, 0.5],  # in box and in centre region
        [0.35, 0.35],  # in box, outside the +-0.078 centre region
        [0.9, 0.9],  # outside everything
    ])
    fg, in_both = center_prior(centers, gt, 2.5 / 32)
    assert fg.tolist() == [True, True, False]
    assert in_both[:, 0].tolist() == [True, False, False]


def test_assigner_cost_and_result_format():
    assigner = IDOLSimOTAAssigner()
    # image 100 x 200 (h x w); GT box [40, 20, 120, 60] px
    meta = dict(img_shape=(100, 200))
    gt = InstanceData(
        bboxes=torch.tensor([[40., 20., 120., 60.]]), labels=torch.tensor([2]))
    preds = InstanceData(
        scores=torch.zeros(3, 4),  # p = 0.5 for every class
        bboxes=torch.tensor([
            [40., 20., 120., 60.],  # exact box
            [40., 20., 80., 60.],  # left half: centre in box, not in region
            [150., 70., 190., 95.],  # far away: outside every box / region
        ]))
    norm = torch.tensor([200., 100., 200., 100.])
    cost, ious = assigner.compute_cost(
        preds.scores, bbox_xyxy_to_cxcywh(preds.bboxes / norm), gt.labels,
        bbox_xyxy_to_cxcywh(gt.bboxes / norm))
    cls_cost = 0.25 * 0.25 * math.log(2) - 0.75 * 0.25 * math.log(2)
    # q0: GIoU 1; q1: IoU = GIoU = 0.5, +100; q2: disjoint, +100 +10000
    enclose = (190 - 40) * (95 - 20)
    union = 80 * 40 + 40 * 25
    giou2 = 0 - (enclose - union) / enclose
    expected = [
        cls_cost - 3.0, cls_cost - 1.5 + 100, cls_cost - 3 * giou2 + 10100
    ]
    assert cost[:, 0].tolist() == pytest.approx(expected, rel=1e-5)
    assert ious[:, 0].tolist() == pytest.approx([1.0, 0.5, 0.0], abs=1e-6)

    result = assigner.assign(preds, gt, meta)
    # dynamic k = floor(1.0 + 0.5) = 1 -> only q0
    assert result.gt_inds.tolist() == [1, 0, 0]
    assert result.labels.tolist() == [2, -1, -1]
    assert result.max_overlaps.tolist() == pytest.approx([1.0, 0.0, 0.0])
    assert result.get_extra_property('matched_query_inds').tolist() == [0]


def test_assigner_candidate_topk_override_and_empty_gt():
    assigner = IDOLSimOTAAssigner(candidate_topk=1)
    meta = dict(img_shape=(100, 100))
    gt = InstanceData(
        bboxes=torch.tensor([[10., 10., 90., 90.]]), labels=torch.tensor([0]))
    # four good queries of IoU ~0.8 each: top-1 sum -> k 1, top-4 -> k 3
    boxes = torch.tensor([[10., 10., 90., 90.], [12., 12., 88., 88.],
                          [8., 8., 92., 92.], [14., 10., 86., 90.]])
    preds = InstanceData(scores=torch.zeros(4, 1), bboxes=boxes)
    assert (assigner.assign(preds, gt, meta).gt_inds > 0).sum() == 1
    more = assigner.assign(preds, gt, meta, candidate_topk=100)
    assert (more.gt_inds > 0).sum() == 3

    empty = InstanceData(
        bboxes=torch.zeros(0, 4), labels=torch.zeros(0, dtype=torch.long))
    result = assigner.assign(preds, empty, meta)
    assert result.gt_inds.tolist() == [0, 0, 0, 0]
    assert result.get_extra_property('matched_query_inds').numel() == 0
    with pytest.raises(KeyError, match='img_shape'):
        assigner.assign(preds, gt, dict())


def test_non_finite_costs_terminate_and_every_gt_gets_a_query():
    # GT 1's only finite candidate is query 0, whose whole-row argmin is
    # GT 0; its other candidates cost inf / NaN (saturated focal costs).
    # The loop used to hand query 0 back and forth forever.
    inf, nan = float('inf'), float('nan')
    for bad in (inf, nan):
        cost = torch.tensor([[0.0, 1.0], [5.0, bad], [6.0, bad]])
        ious = torch.zeros(3, 2)
        assigned_gt, matched = dynamic_k_matching(cost, ious)
        assert matched.tolist()[0] == 0
        assert matched[1] in (1, 2)
        assert assigned_gt[0] == 0 and assigned_gt[matched[1]] == 1
