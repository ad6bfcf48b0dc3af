# Copyright (c) mmookd authors. All rights reserved.
"""The teacher's side of QFA: which video query each GT of a frame gets.

OOKD (Eq. 3) runs QFA on the teacher's predictions of every frame, as on the
student's. The teacher's predictions are video queries: one class for the
video, and in each frame a box and a mask. Two choices, both config fields
of :class:`OOKD`:

``teacher_boxes``: the box of a video query in frame ``t``

- ``'mask'`` (default): the box of the query's own binarised mask in that
  frame. A query whose mask is empty there has no box and cannot be
  picked; a GT left with no such query gets no teacher pick in that frame
  (it is not distilled there).
- ``'reference'``: the box of IDOL's box branch on the query's per-frame
  reference (a soft, attention-weighted mean of the frame queries'
  references; defined in every frame, also where the instance is absent).

``teacher_match``: how GTs get queries

- ``'frame'``: Eq. 3 as written, QFA (``assigner``, argmin by default) in
  each frame on its own: two GTs may share a query, a track may switch
  queries between frames.
- ``'track'``: one target per instance, as the paper's Fig. 3 describes
  ("the offline feature f^off_n for each instance"): the GT tracks of the
  teacher's frames are matched one-to-one to the video queries with the
  video-level cost the teacher is trained with (:class:`VideoHungarianAssigner`
  over the track's frames), and a GT gets its track's query in every frame.
  ``teacher_boxes`` does not apply (the matching uses the reference boxes
  and the masks of all frames, as in training).

``teacher_pick_filter`` (optional, off by default as in the paper): keep a
teacher pick only where the picked query localises and classifies its GT in
that frame (:func:`filter_picks`: box IoU >= ``min_iou`` in the frame, and
the query's top class is the GT's with ``right_class``); elsewhere the GT is
not distilled. The same test as the diagnostics' "pick quality"
(``tools/analysis_tools/teacher_knowledge.py``), so with the filter every
distilled pair is a good one.

Shape shorthand: ``T`` teacher frames, ``Nv`` video queries, ``K`` classes,
``M_t`` GTs of frame ``t``, ``(h4, w4)`` the stride-4 mask size.
"""
from typing import Callable, Dict, List, Optional

import torch
from mmdet.structures import TrackDataSample
from mmdet.structures.bbox import bbox_overlaps, get_box_tensor
from mmengine.structures import InstanceData
from torch import Tensor

from .clip_targets import clip_targets
from .qfa_assigner import INVALID_COST

TEACHER_MATCHES = ('frame', 'track')
TEACHER_BOXES = ('mask', 'reference')
PICK_FILTER_KEYS = ('min_iou', 'right_class')


def check_pick_filter(pick_filter: Optional[Dict]) -> Optional[Dict]:
    """Validate a ``teacher_pick_filter`` config (None: no filter); return
    it with its defaults filled in (``min_iou=0.5, right_class=True``)."""
    if pick_filter is None:
        return None
    unknown = set(pick_filter) - set(PICK_FILTER_KEYS)
    if unknown:
        raise KeyError(f'teacher_pick_filter: unknown keys {sorted(unknown)}'
                       f' (known: {PICK_FILTER_KEYS})')
    out = dict(min_iou=0.5, right_class=True)
    out.update(pick_filter)
    if not 0.0 <= float(out['min_iou']) <= 1.0:
        raise ValueError('teacher_pick_filter: min_iou must be in [0, 1], '
                         f'got {out["min_iou"]}')
    out['min_iou'] = float(out['min_iou'])
    out['right_class'] = bool(out['right_class'])
    return out


def filter_picks(picks: List[Tensor],
                 out: Dict,
                 clip: TrackDataSample,
                 boxes: str = 'mask',
                 min_iou: float = 0.5,
                 right_class: bool = True) -> List[Tensor]:
    """Drop the teacher picks that do not localise or classify their GT.

    Args:
        picks (list[Tensor]): per frame ``t``, (M_t, ) long teacher query of
            each GT or -1 (:func:`teacher_frame_picks`).
        out (dict): The teacher's output for the clip (``cls_logits`` (Nv,
            K); ``mask_bboxes`` (T, Nv, 4) and ``mask_valid`` (T, Nv) for
            ``boxes='mask'``, ``bboxes`` (T, Nv, 4) for ``'reference'``).
        clip (:obj:`TrackDataSample`): The T frames with ``gt_instances``.
        boxes (str): Whose box is compared with the GT's: ``'mask'`` (the
            picked query's mask box in the frame; an empty mask fails) or
            ``'reference'``.
        min_iou (float): A pick is kept when its box IoU with the GT box in
            the frame is at least this. Defaults to 0.5.
        right_class (bool): Also require the query's top class to be the
            GT's. Defaults to True.

    Returns:
        list[Tensor]: ``picks`` with the failing entries set to -1.
    """
    if boxes not in TEACHER_BOXES:
        raise ValueError(f'boxes must be one of {TEACHER_BOXES}, got '
                         f'{boxes!r}')
    top_class = out['cls_logits'].argmax(-1)
    kept = []
    for t, pick in enumerate(picks):
        pick = pick.clone()
        on = pick >= 0
        if on.any():
            gt = clip[t].gt_instances
            q = pick[on]
            gt_boxes = get_box_tensor(gt.bboxes).to(pick.device).float()[on]
            frame_boxes = out['mask_bboxes' if boxes == 'mask' else
                              'bboxes'][t].to(pick.device).float()
            good = bbox_overlaps(
                frame_boxes[q], gt_boxes, is_aligned=True) >= min_iou
            if boxes == 'mask':
                good &= out['mask_valid'][t].to(pick.device)[q]
            if right_class:
                good &= top_class.to(pick.device)[q] == gt.labels.to(
                    pick.device)[on]
            pick[on.nonzero(as_tuple=True)[0][~good]] = -1
        kept.append(pick)
    return kept


def teacher_frame_picks(
        out: Dict,
        clip: TrackDataSample,
        assigner,
        match: str = 'frame',
        boxes: str = 'mask',
        track_assigner=None,
        mask_targets: Optional[Callable] = None) -> List[Tensor]:
    """``sigma^off`` for the GTs of every teacher frame of one clip.

    Args:
        out (dict): The teacher's output for the clip: ``cls_logits``
            (Nv, K), ``bboxes`` (T, Nv, 4) reference boxes xyxy,
            ``mask_bboxes`` (T, Nv, 4) and ``mask_valid`` (T, Nv) (needed by
            ``boxes='mask'``), ``valid`` (Nv, ) bool or None, and
            ``mask_logits`` (T, Nv, h4, w4) (needed by ``match='track'``).
        clip (:obj:`TrackDataSample`): The T teacher frames with
            ``gt_instances`` (``labels``, ``bboxes``, ``instances_ids``;
            ``masks`` for ``match='track'``).
        assigner (:obj:`QFAAssigner`): The per-frame QFA.
        match (str): ``'frame'`` or ``'track'`` (module docstring).
        boxes (str): ``'mask'`` or ``'reference'`` (module docstring).
        track_assigner (:obj:`VideoHungarianAssigner`, optional): The
            video-level matching of ``match='track'``.
        mask_targets (callable, optional): ``IDOLHead.get_mask_targets``
            (``match='track'``).

    Returns:
        list[Tensor]: per frame ``t``, (M_t, ) long teacher query of each GT
        in the frame's GT order, or -1.
    """
    if match not in TEACHER_MATCHES:
        raise ValueError(f'teacher_match must be one of {TEACHER_MATCHES}, '
                         f'got {match!r}')
    if boxes not in TEACHER_BOXES:
        raise ValueError(f'teacher_boxes must be one of {TEACHER_BOXES}, '
                         f'got {boxes!r}')
    valid = out.get('valid')
    if match == 'track':
        return _track_picks(out, clip, track_assigner, mask_targets, valid)
    picks = []
    for t in range(len(clip)):
        gt = clip[t].gt_instances
        device = out['cls_logits'].device
        gts = InstanceData(
            labels=gt.labels.to(device),
            bboxes=get_box_tensor(gt.bboxes).to(device).float())
        query_valid = torch.ones(
            out['cls_logits'].size(0), dtype=torch.bool, device=device)
        if valid is not None:
            query_valid &= valid.to(device)
        if boxes == 'mask':
            preds = InstanceData(
                cls_logits=out['cls_logits'],
                bboxes=out['mask_bboxes'][t],
                valid=query_valid & out['mask_valid'][t].to(device))
        else:
            preds = InstanceData(
                cls_logits=out['cls_logits'],
                bboxes=out['bboxes'][t],
                valid=query_valid)
        picks.append(assigner.assign(preds, gts))
    return picks


def _track_picks(out: Dict, clip: TrackDataSample, track_assigner,
                 mask_targets: Optional[Callable],
                 valid: Optional[Tensor]) -> List[Tensor]:
    """``match='track'``: one video query per GT track of the clip."""
    if track_assigner is None:
        raise ValueError('teacher_match="track" needs the teacher\'s '
                         'video-level assigner')
    device = out['cls_logits'].device
    use_masks = 'mask_logits' in out and mask_targets is not None
    size = tuple(out['mask_logits'].shape[-2:]) if use_masks else (1, 1)
    targets = clip_targets(clip, size,
                           mask_targets if use_masks else _no_masks, device)
    picks_by_id: Dict[int, int] = {}
    if targets['labels'].numel():
        metas = [clip[t].metainfo for t in range(len(clip))]
        cost = track_assigner.compute_cost(
            out['cls_logits'], out['bboxes'], targets['labels'],
            targets['bboxes'], targets['present'], metas,
            out['mask_logits'] if use_masks else None,
            targets['masks'] if use_masks else None)
        if valid is not None:
            cost = cost.masked_fill(~valid.to(device)[:, None], INVALID_COST)
        query_inds, gt_inds = track_assigner.match(cost)
        for q, g in zip(query_inds.tolist(), gt_inds.tolist()):
            if cost[q, g] < INVALID_COST:
                picks_by_id[int(targets['ids'][g])] = q
    picks = []
    for t in range(len(clip)):
        ids = clip[t].gt_instances.instances_ids.tolist()
        picks.append(
            torch.tensor([picks_by_id.get(int(i), -1) for i in ids],
                         dtype=torch.long,
                         device=device))
    return picks


def _no_masks(gts, metas, size, device) -> List[Tensor]:
    """Mask targets when masks are not used: all zeros."""
    return [torch.zeros((len(gts[0]), ) + tuple(size), device=device)]
