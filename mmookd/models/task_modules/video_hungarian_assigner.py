# Copyright (c) mmookd authors. All rights reserved.
"""Video-level Hungarian matching of video queries to instance tracks.

The offline teacher of OOKD predicts one *video query* per instance of a
clip: one class for the clip and one box and one mask in every frame. A
video query is therefore matched to a whole ground-truth *track* (all the
frames of one instance), one-to-one, as VITA matches its video queries.

Shape shorthand: ``Nv`` video queries, ``G`` ground-truth tracks of the
clip, ``T`` frames, ``K`` classes, ``(h, w)`` the mask size (stride 4 of
the padded input).

Cost of query ``v`` and track ``g`` that is present in the frames
``P_g`` (``|P_g| >= 1``)::

    C[v, g] = C_cls(v, g)
              + red_{t in P_g} ( C_L1(v, g, t) + C_GIoU(v, g, t)
                                 + C_mask(v, g, t) + C_dice(v, g, t) )

with ``red`` the mean over ``P_g`` (``frame_reduction='mean'``, default)
or the sum (``'sum'``). Frames where the track is absent add no box cost
(its box there is not defined). The mask terms follow ``mask_frames``:
``'all'`` (default, VITA's video-level cost) takes them over *every* frame
of the clip, with the all-zero mask as the target where the track is
absent, and reduces them over all ``T`` frames; ``'present'`` takes them
over ``P_g`` only, like the box terms. The terms are mmdet's match costs,
weighted like IDOL's losses: focal class cost (2.0), L1 on normalized
cxcywh (5.0), -GIoU (2.0), per-pixel focal mask cost (2.0) and dice (5.0).

Worked example (L1 box cost only, weight 1, boxes normalized by a 1x1
image, ``T = 2``)::

    GT track a: frame 0 [0, 0, .5, .5]    frame 1 [0, 0, .5, .5]
    GT track b: frame 0 [.5, .5, 1, 1]    frame 1 absent
    query 0:    frame 0 [0, 0, .5, .5]    frame 1 [.5, .5, 1, 1]
    query 1:    frame 0 [0, 0, .4, .5]    frame 1 [0, 0, .4, .5]
    query 2:    frame 0 [.5, .5, 1, 1]    frame 1 [0, 0, .5, .5]

    mean L1 (cxcywh)   a                  b
    query 0            (0 + 1) / 2 = .5   1
    query 1            (.15 + .15) / 2    1.15
    query 2            (1 + 0) / 2 = .5   0      (frame 1 not counted for b)

Frame by frame, the best query for track a is query 0 in frame 0 and
query 2 in frame 1; over the clip, query 1 follows a best and query 2
takes b: ``query_inds = [1, 2]`` for ``gt_inds = [0, 1]`` (total 0.15).
"""
from typing import List, Optional, Tuple

import torch
from mmdet.registry import TASK_UTILS
from mmengine.structures import InstanceData
from scipy.optimize import linear_sum_assignment
from torch import Tensor

_REDUCTIONS = ('mean', 'sum')
_MASK_FRAMES = ('all', 'present')


@TASK_UTILS.register_module()
class VideoHungarianAssigner:
    """One-to-one matching of video queries to ground-truth tracks.

    Args:
        cls_cost (dict, optional): Class cost on the video-level logits
            (mmdet ``FocalLossCost``). Defaults to weight 2.0.
        bbox_cost (dict, optional): Per-frame box L1 cost (mmdet
            ``BBoxL1Cost`` on normalized cxcywh). Defaults to weight 5.0.
        iou_cost (dict, optional): Per-frame ``-GIoU`` cost (mmdet
            ``IoUCost``). Defaults to weight 2.0.
        mask_cost (dict, optional): Per-frame mask focal cost (mmdet
            ``FocalLossCost`` with ``binary_input=True``, mean over pixels).
            Defaults to weight 2.0.
        dice_cost (dict, optional): Per-frame dice cost (mmdet ``DiceCost``
            on sigmoid probabilities, +1 smoothing as IDOL's dice loss).
            Defaults to weight 5.0.
        frame_reduction (str): How the per-frame costs of a track are
            combined over the frames where it is present: ``'mean'`` keeps
            the balance between the class term and the per-frame terms
            whatever the number of frames; ``'sum'`` weighs a track by its
            number of frames. Defaults to ``'mean'``.
        mask_frames (str): Frames the mask costs are taken over: ``'all'``
            (every frame, all-zero target where the track is absent, as
            VITA) or ``'present'`` (only where the track is). Defaults to
            ``'all'``.

    Any cost may be None to leave it out; the mask costs are only computed
    when mask logits are given.
    """

    def __init__(self,
                 cls_cost: Optional[dict] = dict(
                     type='FocalLossCost', weight=2.0),
                 bbox_cost: Optional[dict] = dict(
                     type='BBoxL1Cost', weight=5.0, box_format='xywh'),
                 iou_cost: Optional[dict] = dict(
                     type='IoUCost', iou_mode='giou', weight=2.0),
                 mask_cost: Optional[dict] = dict(
                     type='FocalLossCost', weight=2.0, binary_input=True),
                 dice_cost: Optional[dict] = dict(
                     type='DiceCost', weight=5.0, pred_act=True, eps=1.0),
                 frame_reduction: str = 'mean',
                 mask_frames: str = 'all') -> None:
        if mask_frames not in _MASK_FRAMES:
            raise ValueError('VideoHungarianAssigner: mask_frames must be '
                             f'one of {_MASK_FRAMES}, got {mask_frames!r}')
        self.mask_frames = mask_frames
        if frame_reduction not in _REDUCTIONS:
            raise ValueError('VideoHungarianAssigner: frame_reduction must '
                             f'be one of {_REDUCTIONS}, got '
                             f'{frame_reduction!r}')
        self.frame_reduction = frame_reduction

        def build(cfg):
            return None if cfg is None else TASK_UTILS.build(cfg)

        self.cls_cost = build(cls_cost)
        self.bbox_cost = build(bbox_cost)
        self.iou_cost = build(iou_cost)
        self.mask_cost = build(mask_cost)
        self.dice_cost = build(dice_cost)

    @staticmethod
    def _check_inputs(cls_logits: Tensor, bboxes: Tensor, gt_labels: Tensor,
                      gt_bboxes: Tensor, present: Tensor,
                      img_metas: List[dict], mask_logits: Optional[Tensor],
                      gt_masks: Optional[Tensor]) -> None:
        """Raise a ValueError naming the input whose shape is wrong."""
        num_frames, num_queries = bboxes.shape[:2]
        num_gts = gt_labels.numel()
        expected = dict(
            cls_logits=(cls_logits, (num_queries, cls_logits.shape[-1])),
            bboxes=(bboxes, (num_frames, num_queries, 4)),
            gt_labels=(gt_labels, (num_gts, )),
            gt_bboxes=(gt_bboxes, (num_frames, num_gts, 4)),
            present=(present, (num_frames, num_gts)))
        for name, (tensor, shape) in expected.items():
            if tuple(tensor.shape) != shape:
                raise ValueError(
                    f'VideoHungarianAssigner: {name} must have shape '
                    f'{shape}, got {tuple(tensor.shape)}')
        if len(img_metas) != num_frames:
            raise ValueError(f'VideoHungarianAssigner: {len(img_metas)} '
                             f'img_metas for {num_frames} frames')
        if (mask_logits is None) != (gt_masks is None):
            raise ValueError('VideoHungarianAssigner: give both mask_logits '
                             'and gt_masks, or neither')
        if mask_logits is not None and (
                mask_logits.shape[:2] != (num_frames, num_queries)
                or gt_masks.shape[:2] != (num_frames, num_gts)
                or mask_logits.shape[2:] != gt_masks.shape[2:]):
            raise ValueError(
                'VideoHungarianAssigner: mask_logits must be (T, Nv, h, w) '
                'and gt_masks (T, G, h, w), got '
                f'{tuple(mask_logits.shape)} and {tuple(gt_masks.shape)}')
        if num_gts and not present.any(0).all():
            absent = (~present.any(0)).nonzero().flatten().tolist()
            raise ValueError('VideoHungarianAssigner: ground-truth track(s) '
                             f'{absent} are present in no frame')

    @torch.no_grad()
    def compute_cost(self,
                     cls_logits: Tensor,
                     bboxes: Tensor,
                     gt_labels: Tensor,
                     gt_bboxes: Tensor,
                     present: Tensor,
                     img_metas: List[dict],
                     mask_logits: Optional[Tensor] = None,
                     gt_masks: Optional[Tensor] = None) -> Tensor:
        """Video-level cost matrix (see the module docstring).

        Args:
            cls_logits (Tensor): (Nv, K) video-level class logits.
            bboxes (Tensor): (T, Nv, 4) predicted boxes, xyxy in input
                pixels of each frame.
            gt_labels (Tensor): (G, ) 0-based track labels.
            gt_bboxes (Tensor): (T, G, 4) ground-truth boxes, xyxy pixels
                (any value where the track is absent).
            present (Tensor): (T, G) bool, track ``g`` is in frame ``t``.
            img_metas (list[dict]): T frame metas with ``img_shape``.
            mask_logits (Tensor, optional): (T, Nv, h, w) mask logits.
            gt_masks (Tensor, optional): (T, G, h, w) binary masks.

        Returns:
            Tensor: (Nv, G) float cost.
        """
        self._check_inputs(cls_logits, bboxes, gt_labels, gt_bboxes, present,
                           img_metas, mask_logits, gt_masks)
        num_frames, num_queries = bboxes.shape[:2]
        num_gts = gt_labels.numel()
        cost = bboxes.new_zeros((num_queries, num_gts), dtype=torch.float)
        if num_gts == 0 or num_queries == 0:
            return cost
        box_cost = torch.zeros_like(cost)
        mask_cost = torch.zeros_like(cost)
        all_cols = torch.arange(num_gts, device=present.device)
        for t in range(num_frames):
            cols = present[t].nonzero().flatten()
            meta = dict(img_shape=tuple(img_metas[t]['img_shape'][:2]))
            if cols.numel():
                pred = InstanceData(bboxes=bboxes[t].detach().float())
                gt = InstanceData(bboxes=gt_bboxes[t, cols].float())
                for term in (self.bbox_cost, self.iou_cost):
                    if term is not None:
                        box_cost[:, cols] += term(pred, gt, meta)
            if mask_logits is None:
                continue
            mcols = all_cols if self.mask_frames == 'all' else cols
            if mcols.numel() == 0:
                continue
            pred = InstanceData(masks=mask_logits[t].detach().float())
            gt = InstanceData(masks=gt_masks[t, mcols].float())
            for term in (self.mask_cost, self.dice_cost):
                if term is not None:
                    mask_cost[:, mcols] += term(pred, gt, meta)
        if self.frame_reduction == 'mean':
            num_present = present.sum(0).clamp(min=1).to(cost)
            box_cost = box_cost / num_present
            mask_cost = mask_cost / (
                num_frames if self.mask_frames == 'all' else num_present)
        frame_cost = box_cost + mask_cost
        cost = cost + frame_cost
        if self.cls_cost is not None:
            cost = cost + self.cls_cost(
                InstanceData(scores=cls_logits.detach().float()),
                InstanceData(labels=gt_labels.long()))
        return cost

    @staticmethod
    def match(cost: Tensor) -> Tuple[Tensor, Tensor]:
        """Minimal-cost one-to-one matching (scipy ``linear_sum_assignment``).

        Args:
            cost (Tensor): (Nv, G).

        Returns:
            tuple[Tensor, Tensor]: ``query_inds`` and ``gt_inds``, (M, ) long
            each with ``M = min(Nv, G)``, sorted by ``gt_inds``. When
            ``G > Nv`` the tracks left out are not matched.
        """
        if cost.numel() == 0:
            empty = torch.zeros((0, ), dtype=torch.long, device=cost.device)
            return empty, empty.clone()
        if not torch.isfinite(cost).all():
            raise ValueError('VideoHungarianAssigner: the cost matrix has '
                             'non-finite entries')
        rows, cols = linear_sum_assignment(cost.cpu().numpy())
        order = cols.argsort()
        query_inds = torch.as_tensor(rows[order], dtype=torch.long)
        gt_inds = torch.as_tensor(cols[order], dtype=torch.long)
        return query_inds.to(cost.device), gt_inds.to(cost.device)

    def assign(self,
               cls_logits: Tensor,
               bboxes: Tensor,
               gt_labels: Tensor,
               gt_bboxes: Tensor,
               present: Tensor,
               img_metas: List[dict],
               mask_logits: Optional[Tensor] = None,
               gt_masks: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
        """Match the video queries of one clip to its ground-truth tracks.

        Args: see :meth:`compute_cost`.

        Returns:
            tuple[Tensor, Tensor]: ``query_inds`` and ``gt_inds`` (M, ),
            see :meth:`match`.
        """
        return self.match(
            self.compute_cost(cls_logits, bboxes, gt_labels, gt_bboxes,
                              present, img_metas, mask_logits, gt_masks))
