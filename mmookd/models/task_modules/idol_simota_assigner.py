# Copyright (c) mmookd authors. All rights reserved.
"""IDOL's one-to-many, SimOTA-style query assigner.

The official IDOL code calls this matcher ``HungarianMatcher`` but it is a
SimOTA (YOLOX / OTA) dynamic-k assignment: every ground truth (GT) gets a
*dynamic* number of queries, a query gets at most one GT, and every GT gets
at least one query.

Shape shorthand: ``N`` queries, ``G`` ground truths, ``K`` classes.

Worked example of :func:`dynamic_k_matching` (``candidate_topk=2``)::

    cost  (N=4, G=2)        ious (N=4, G=2)
    q0   [ 1.0,  5.0]        [0.9, 0.0]
    q1   [ 2.0,  1.5]        [0.8, 0.6]
    q2   [ 3.0,  2.0]        [0.1, 0.5]
    q3   [ 9.0,  9.0]        [0.0, 0.0]

    dynamic k: floor(0.9 + 0.8) = 1 for GT0, floor(0.6 + 0.5) = 1 for GT1
    GT0 takes its lowest-cost query q0, GT1 takes q1 -> no conflict.
    assigned GT per query: [0, 1, -1, -1]; matched query per GT: [0, 1].
"""
from typing import List, Optional, Sequence, Tuple

import torch
from mmdet.models.task_modules.assigners import AssignResult, BaseAssigner
from mmdet.registry import TASK_UTILS
from mmdet.structures.bbox import (bbox_cxcywh_to_xyxy, bbox_overlaps,
                                   bbox_xyxy_to_cxcywh, get_box_tensor)
from mmengine.structures import InstanceData
from torch import Tensor


def focal_class_cost(probs: Tensor,
                     gt_labels: Tensor,
                     alpha: float = 0.25,
                     gamma: float = 2.0,
                     eps: float = 1e-8) -> Tensor:
    """Focal-style classification cost at each GT's class.

    ``cost = a (1 - p)^g (-log p) - (1 - a) p^g (-log(1 - p))`` with ``p``
    the sigmoid probability of the GT class.

    Args:
        probs (Tensor): (N, K) sigmoid class probabilities.
        gt_labels (Tensor): (G, ) 0-based GT classes.
        alpha (float): Focal alpha. Defaults to 0.25.
        gamma (float): Focal gamma. Defaults to 2.0.
        eps (float): Added inside the logarithms. Defaults to 1e-8.

    Returns:
        Tensor: (N, G) cost.
    """
    neg_cost = (1 - alpha) * probs.pow(gamma) * (-(1 - probs + eps).log())
    pos_cost = alpha * (1 - probs).pow(gamma) * (-(probs + eps).log())
    return pos_cost[:, gt_labels] - neg_cost[:, gt_labels]


def center_prior(pred_centers: Tensor, gt_boxes: Tensor,
                 center_radius: float) -> Tuple[Tensor, Tensor]:
    """Where the predicted box centres lie relative to the GT boxes.

    All coordinates are normalized by the (unpadded) image size and every
    comparison is strict, as in the official code.

    Args:
        pred_centers (Tensor): (N, 2) predicted box centres (x, y).
        gt_boxes (Tensor): (G, 4) GT boxes, normalized cxcywh.
        center_radius (float): Half side of the square centre region around
            each GT centre (2.5 / 32 in IDOL).

    Returns:
        tuple[Tensor, Tensor]:

        - fg_mask (Tensor): (N, ) bool, the centre is inside some GT box or
          inside some GT's centre region.
        - in_box_and_center (Tensor): (N, G) bool, the centre is inside that
          GT's box and inside its centre region.
    """
    x = pred_centers[:, 0:1]
    y = pred_centers[:, 1:2]
    cx, cy, w, h = gt_boxes.unbind(-1)
    in_box = ((x > cx - w / 2) & (x < cx + w / 2) & (y > cy - h / 2) &
              (y < cy + h / 2))
    in_center = ((x > cx - center_radius) & (x < cx + center_radius) &
                 (y > cy - center_radius) & (y < cy + center_radius))
    fg_mask = in_box.any(1) | in_center.any(1)
    return fg_mask, in_box & in_center


CONFLICT_MODES = ('official', 'strict')


def _keep_lowest_cost_gt(matching: Tensor, cost: Tensor,
                         rows: Optional[Tensor] = None) -> None:
    """Give every query claimed by several GTs to its lowest-cost GT.

    As in the official code, the GT is the argmin of the query's whole cost
    row (over all GTs, not only the claiming ones).

    Args:
        matching (Tensor): (N, G) bool, modified in place.
        cost (Tensor): (N, G) cost.
        rows (Tensor, optional): (N, ) bool, the rows to resolve; default:
            the rows claimed by several GTs now.
    """
    multi = matching.sum(1) > 1 if rows is None else rows
    if multi.any():
        best_gt = cost[multi].argmin(1)
        matching[multi] = False
        matching[multi.nonzero(as_tuple=True)[0], best_gt] = True


def simota_matching_matrix(cost: Tensor,
                           ious: Tensor,
                           candidate_topk: int = 10,
                           unmatched_penalty: float = 1e5,
                           conflict_resolution: str = 'official') -> Tensor:
    """The query x GT matching matrix of IDOL's SimOTA.

    ``cost`` is penalised **in place** (``+unmatched_penalty`` on the taken
    queries in every round of step 4 below), as the official code does:
    pass a clone to keep yours. Non-finite costs are replaced in place too.

    1. ``k_g = max(1, floor(sum of the top-candidate_topk IoUs of GT g))``.
    2. GT ``g`` takes its ``k_g`` lowest-cost queries.
    3. A query claimed by several GTs keeps only its lowest-cost GT.
    4. While some GT has no query: taken queries get ``+unmatched_penalty``
       and every empty GT takes its argmin-cost query. Conflicts are then
       resolved

       - ``'official'``: on the rows that were in conflict in step 3 (the
         official code reuses that stale mask), so two empty GTs that took
         the same free query *share* it, and the loop ends;
       - ``'strict'``: on the rows in conflict now, and the loop goes on
         until every GT has a query of its own.

       The loop also ends when every query is taken (more GTs than
       queries), or after N rounds (the official loop may not end then).

    Args:
        cost (Tensor): (N, G) assignment cost (modified in place).
        ious (Tensor): (N, G) IoU between predicted and GT boxes.
        candidate_topk (int): IoUs summed for the dynamic k (10 for the
            positives of IDOL, 100 for the negative selection of the
            contrastive loss). Clamped to N.
        unmatched_penalty (float): Added to taken queries in step 4.
        conflict_resolution (str): ``'official'`` (default) or
            ``'strict'``.

    Returns:
        Tensor: (N, G) bool; a column may hold a query that another column
        holds too (``'official'`` only).
    """
    if conflict_resolution not in CONFLICT_MODES:
        raise ValueError('IDOLSimOTAAssigner: conflict_resolution must be '
                         f'one of {CONFLICT_MODES}, got '
                         f'{conflict_resolution!r}')
    num_queries, num_gts = cost.shape
    matching = torch.zeros_like(cost, dtype=torch.bool)
    if num_gts == 0 or num_queries == 0:
        return matching
    # Saturated probabilities or degenerate boxes can make a cost inf or
    # NaN. Such a query is worse than any real candidate (costs stay below
    # the 10000 outside-penalty + a few) but still better than a query
    # already taken (+unmatched_penalty), so an empty GT can fall back to it
    # instead of fighting forever over a taken one.
    bad = unmatched_penalty / 2
    torch.nan_to_num_(cost, nan=bad, posinf=bad, neginf=-bad)

    topk = min(candidate_topk, num_queries)
    topk_ious = ious.topk(topk, dim=0).values
    dynamic_ks = topk_ious.sum(0).int().clamp(min=1, max=num_queries)
    for gt_idx in range(num_gts):
        pos_idx = cost[:, gt_idx].topk(
            int(dynamic_ks[gt_idx]), largest=False).indices
        matching[pos_idx, gt_idx] = True
    stale = matching.sum(1) > 1
    _keep_lowest_cost_gt(matching, cost, stale)

    official = conflict_resolution == 'official'
    raw = None if official else cost.clone()
    # Every round gives an empty GT a query; a round whose query goes back
    # to another GT (its row's argmin) penalizes it further. num_queries
    # rounds bound the loop even when costs tie or saturate.
    for _ in range(num_queries):
        if matching.any(0).all():
            break
        taken = matching.any(1)
        if taken.all():
            break  # more GTs than queries: nothing left to give
        cost[taken] += unmatched_penalty
        for gt_idx in (~matching.any(0)).nonzero(as_tuple=True)[0]:
            matching[cost[:, gt_idx].argmin(), gt_idx] = True
        if official:
            if (matching.sum(1) > 1).any():
                _keep_lowest_cost_gt(matching, cost, stale)
        else:
            _keep_lowest_cost_gt(matching, raw)
    return matching


def dynamic_k_matching(
        cost: Tensor,
        ious: Tensor,
        candidate_topk: int = 10,
        unmatched_penalty: float = 1e5,
        conflict_resolution: str = 'official') -> Tuple[Tensor, Tensor]:
    """SimOTA dynamic-k matching of IDOL on a cost matrix.

    :func:`simota_matching_matrix` (on a copy of ``cost``), read as the
    official ``HungarianMatcher`` reads it: every matched query gets the
    lowest-index GT of its row (a query shared by two GTs in
    ``'official'`` mode is the positive of the first one only, so the
    other GT can end without a positive), and every GT its lowest-cost
    matched query (a shared query is the matched query of both).

    Args:
        cost (Tensor): (N, G) assignment cost (not modified).
        ious (Tensor): (N, G) IoU between predicted and GT boxes.
        candidate_topk (int): See :func:`simota_matching_matrix`.
        unmatched_penalty (float): See :func:`simota_matching_matrix`.
        conflict_resolution (str): ``'official'`` or ``'strict'``.

    Returns:
        tuple[Tensor, Tensor]:

        - assigned_gt (Tensor): (N, ) long, the GT index of every query, -1
          for the unassigned (negative) ones.
        - matched_query (Tensor): (G, ) long, the lowest-cost matched query
          of every GT (-1 only when there are more GTs than queries).
    """
    raw = torch.nan_to_num(
        cost,
        nan=unmatched_penalty / 2,
        posinf=unmatched_penalty / 2,
        neginf=-unmatched_penalty / 2)
    matching = simota_matching_matrix(raw.clone(), ious, candidate_topk,
                                      unmatched_penalty, conflict_resolution)
    return matching_to_assignment(matching, raw)


def matching_to_assignment(matching: Tensor,
                           cost: Tensor) -> Tuple[Tensor, Tensor]:
    """Per-query GT and per-GT matched query of a matching matrix.

    Args:
        matching (Tensor): (N, G) bool.
        cost (Tensor): (N, G) cost (finite).

    Returns:
        tuple[Tensor, Tensor]: ``assigned_gt`` (N, ) long (-1: negative; the
        lowest GT index of a shared query) and ``matched_query`` (G, )
        long (-1 for a GT without query).
    """
    num_queries, num_gts = matching.shape
    if num_gts == 0 or num_queries == 0:
        return (cost.new_full((num_queries, ), -1, dtype=torch.long),
                cost.new_full((num_gts, ), -1, dtype=torch.long))
    assigned = matching.any(1)
    # argmax of a bool row = its first True: the lowest GT index
    assigned_gt = torch.where(assigned,
                              matching.int().argmax(1),
                              assigned.new_full((), -1, dtype=torch.long))
    masked_cost = cost.masked_fill(~matching, float('inf'))
    matched_query = masked_cost.argmin(0)
    matched_query[~matching.any(0)] = -1
    return assigned_gt.long(), matched_query


@TASK_UTILS.register_module()
class IDOLSimOTAAssigner(BaseAssigner):
    """One-to-many SimOTA assignment of IDOL (VNext ``matcher.py``).

    Cost between query ``i`` and GT ``g`` (normalized boxes)::

        cost = focal_cls(p_i, c_g) + 3 * (-GIoU(b_i, b_g))
               + 100 * [not (centre_i in box_g and centre_i in region_g)]
               + 10000 * [centre_i outside every box and every region]

    where ``region_g`` is the square of half side ``center_radius /
    center_stride`` (2.5 / 32) around the centre of GT ``g``. The cost has
    no L1 term. The matching is :func:`dynamic_k_matching`.

    ``conflict_resolution`` decides what happens in a crowded scene where
    several GTs end up wanting one query (:func:`simota_matching_matrix`):
    ``'official'`` (default) reproduces VNext, where two GTs left empty can
    share a query and the second one then gets no positive; ``'strict'``
    resolves every conflict so that each GT gets a query of its own. On
    ordinary images both give the same assignment.

    Args:
        candidate_topk (int): IoUs summed for the dynamic k. Defaults to 10.
        alpha (float): Focal alpha of the class cost. Defaults to 0.25.
        gamma (float): Focal gamma of the class cost. Defaults to 2.0.
        iou_weight (float): Weight of the -GIoU cost. Defaults to 3.0.
        center_weight (float): Cost of a query whose centre is not inside
            both the GT box and the GT centre region. Defaults to 100.
        outside_weight (float): Cost of a query whose centre is outside
            every GT box and every centre region. Defaults to 10000.
        center_radius (float): Defaults to 2.5.
        center_stride (float): Defaults to 32.
        unmatched_penalty (float): See :func:`dynamic_k_matching`.
        conflict_resolution (str): ``'official'`` or ``'strict'``.
            Defaults to ``'official'``.
    """

    def __init__(self,
                 candidate_topk: int = 10,
                 alpha: float = 0.25,
                 gamma: float = 2.0,
                 iou_weight: float = 3.0,
                 center_weight: float = 100.0,
                 outside_weight: float = 10000.0,
                 center_radius: float = 2.5,
                 center_stride: float = 32.0,
                 unmatched_penalty: float = 1e5,
                 conflict_resolution: str = 'official') -> None:
        if conflict_resolution not in CONFLICT_MODES:
            raise ValueError('IDOLSimOTAAssigner: conflict_resolution must '
                             f'be one of {CONFLICT_MODES}, got '
                             f'{conflict_resolution!r}')
        self.conflict_resolution = conflict_resolution
        self.candidate_topk = candidate_topk
        self.alpha = alpha
        self.gamma = gamma
        self.iou_weight = iou_weight
        self.center_weight = center_weight
        self.outside_weight = outside_weight
        self.center_radius = center_radius
        self.center_stride = center_stride
        self.unmatched_penalty = unmatched_penalty

    @torch.no_grad()
    def compute_cost(self, cls_logits: Tensor, pred_boxes: Tensor,
                     gt_labels: Tensor,
                     gt_boxes: Tensor) -> Tuple[Tensor, Tensor]:
        """Assignment cost and IoUs on normalized boxes.

        Args:
            cls_logits (Tensor): (N, K) class logits.
            pred_boxes (Tensor): (N, 4) predicted boxes, normalized cxcywh.
            gt_labels (Tensor): (G, ) 0-based classes.
            gt_boxes (Tensor): (G, 4) GT boxes, normalized cxcywh.

        Returns:
            tuple[Tensor, Tensor]: (N, G) cost and (N, G) IoU.
        """
        pred_xyxy = bbox_cxcywh_to_xyxy(pred_boxes)
        gt_xyxy = bbox_cxcywh_to_xyxy(gt_boxes)
        ious = bbox_overlaps(pred_xyxy, gt_xyxy, mode='iou')
        gious = bbox_overlaps(pred_xyxy, gt_xyxy, mode='giou')
        fg_mask, in_box_and_center = center_prior(
            pred_boxes[:, :2], gt_boxes,
            self.center_radius / self.center_stride)
        cls_cost = focal_class_cost(cls_logits.sigmoid(), gt_labels,
                                    self.alpha, self.gamma)
        cost = (
            cls_cost - self.iou_weight * gious + self.center_weight *
            (~in_box_and_center).float())
        cost[~fg_mask] += self.outside_weight
        return cost, ious

    @torch.no_grad()
    def assign(self,
               pred_instances: InstanceData,
               gt_instances: InstanceData,
               img_meta: Optional[dict] = None,
               candidate_topk: Optional[int] = None,
               **kwargs) -> AssignResult:
        """Assign the queries of one image.

        Args:
            pred_instances (:obj:`InstanceData`): ``scores`` (N, K) class
                logits and ``bboxes`` (N, 4) xyxy boxes in input pixels.
            gt_instances (:obj:`InstanceData`): ``bboxes`` (G, 4) xyxy in
                input pixels and ``labels`` (G, ).
            img_meta (dict): Needs ``img_shape`` (h, w), the unpadded input
                size that normalizes the boxes.
            candidate_topk (int, optional): Overrides ``candidate_topk``
                (IDOL uses 100 to select the contrastive negatives).

        Returns:
            :obj:`AssignResult`: ``gt_inds`` (N, ) 1-based GT index, 0 for
            negatives; ``max_overlaps`` (N, ) IoU with the assigned GT;
            ``labels`` (N, ) class of the assigned GT or -1; extra
            properties ``matched_query_inds`` (G, ) the lowest-cost matched
            query of each GT and ``matching`` (N, G) bool, the matching
            matrix (a column per GT; in ``'official'`` mode two columns may
            share a query, which ``gt_inds`` gives to the first GT only).
        """
        topk = self.candidate_topk if candidate_topk is None \
            else candidate_topk
        return self.assign_many(pred_instances, gt_instances, img_meta,
                                [topk])[0]

    @torch.no_grad()
    def assign_many(self,
                    pred_instances: InstanceData,
                    gt_instances: InstanceData,
                    img_meta: Optional[dict],
                    candidate_topks: Sequence[int],
                    shared_cost: bool = False) -> List[AssignResult]:
        """Several assignments of one image, one per ``candidate_topk``.

        IDOL's contrastive selection runs the matching twice on the
        reference frame, with top-10 and top-100 candidate IoUs. The
        official code runs both on *one* cost tensor, which the first run
        penalises in place (``+unmatched_penalty`` on the queries it took in
        its every-GT-gets-a-query loop); ``shared_cost=True`` does the same,
        ``False`` gives every run a fresh cost.

        Args:
            pred_instances, gt_instances, img_meta: See :meth:`assign`.
            candidate_topks (Sequence[int]): One run per value, in order.
            shared_cost (bool): Chain the runs on one cost tensor.

        Returns:
            list[:obj:`AssignResult`]: One per run, see :meth:`assign`.
        """
        if img_meta is None or 'img_shape' not in img_meta:
            raise KeyError('IDOLSimOTAAssigner.assign needs img_meta with '
                           "'img_shape' to normalize the boxes")
        logits = pred_instances.scores
        pred_xyxy = get_box_tensor(pred_instances.bboxes)
        gt_xyxy = get_box_tensor(gt_instances.bboxes).to(pred_xyxy)
        gt_labels = gt_instances.labels.long()
        num_queries, num_gts = pred_xyxy.size(0), gt_xyxy.size(0)

        img_h, img_w = img_meta['img_shape'][:2]
        factor = pred_xyxy.new_tensor([img_w, img_h, img_w, img_h])
        if num_gts == 0:
            cost = pred_xyxy.new_zeros((num_queries, 0))
            ious = pred_xyxy.new_zeros((num_queries, 0))
        else:
            cost, ious = self.compute_cost(
                logits, bbox_xyxy_to_cxcywh(pred_xyxy / factor), gt_labels,
                bbox_xyxy_to_cxcywh(gt_xyxy / factor))
        bad = self.unmatched_penalty / 2
        cost = torch.nan_to_num(cost, nan=bad, posinf=bad, neginf=-bad)
        raw = cost.clone()
        results = []
        for topk in candidate_topks:
            matching = simota_matching_matrix(
                cost if shared_cost else cost.clone(), ious, topk,
                self.unmatched_penalty, self.conflict_resolution)
            assigned_gt, matched = matching_to_assignment(matching, raw)
            results.append(
                self._result(assigned_gt, matched, matching, ious,
                             gt_labels, num_gts))
        return results

    @staticmethod
    def _result(assigned_gt: Tensor, matched: Tensor, matching: Tensor,
                ious: Tensor, gt_labels: Tensor,
                num_gts: int) -> AssignResult:
        """Pack one matching as an :obj:`AssignResult`."""
        num_queries = assigned_gt.numel()
        pos = assigned_gt >= 0
        gt_inds = assigned_gt + 1
        max_overlaps = ious.new_zeros((num_queries, ))
        labels = assigned_gt.new_full((num_queries, ), -1)
        if pos.any():
            max_overlaps[pos] = ious[pos, assigned_gt[pos]]
            labels[pos] = gt_labels[assigned_gt[pos]]
        result = AssignResult(num_gts, gt_inds, max_overlaps, labels)
        result.set_extra_property('matched_query_inds', matched)
        result.set_extra_property('matching', matching)
        return result
