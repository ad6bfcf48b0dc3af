# Copyright (c) mmookd authors. All rights reserved.
"""IDOL's memory-bank tracker for online VIS inference, with bounded memory.

Shape shorthand used below:

- ``N``: queries of the detector in one frame (300 for IDOL).
- ``K``: classes; ``C``: embedding channels (256 for IDOL).
- ``n``: candidates of a frame kept by the score filter and the box NMS.
- ``M``: tracks output in a frame (matched or newly started).
- ``T``: live tracks in the memory bank.
- ``h4, w4``: size of the stride-4 mask logits of the padded input;
  ``(h, w)`` the resized unpadded input, ``(H0, W0)`` the original frame.

The behaviour follows the official IDOL inference (VNext,
``projects/IDOL/idol/idol.py`` and ``idol/models/tracker.py``); see
``docs/tracker.md`` for the algorithm step by step and for the parts that
go beyond it (a cap on live tracks and RLE storage of the video results).
"""
from collections import deque
from typing import Dict, List, Optional, Sequence

import numpy as np
import pycocotools.mask as mask_util
import torch
import torch.nn.functional as F
from mmcv.ops import batched_nms
from mmdet.models.trackers import BaseTracker
from mmdet.registry import MODELS
from mmengine.structures import InstanceData
from torch import Tensor


def mask_iou_matrix(masks: Tensor, eps: float = 1e-6) -> Tensor:
    """IoU between every pair of binary masks.

    The official IDOL code adds ``eps`` to the intersection and the union,
    so two empty masks have IoU 1.

    Args:
        masks (Tensor): (n, h, w) bool.
        eps (float): Added to the intersection and the union.

    Returns:
        Tensor: (n, n) float IoU.
    """
    flat = masks.flatten(1).float()
    inter = flat @ flat.t()
    area = flat.sum(1)
    union = area[:, None] + area[None, :] - inter
    return (inter + eps) / (union + eps)


def greedy_mask_nms(ious: Tensor, iou_thr: float) -> Tensor:
    """Greedy NMS on a pairwise mask IoU matrix of score-ordered candidates.

    A candidate is suppressed when its IoU with a kept, higher-ranked
    candidate is above ``iou_thr``.

    Args:
        ious (Tensor): (n, n) IoU between candidates in descending score
            order.
        iou_thr (float): Suppression threshold (IDOL's ``nms_thr_pre``).

    Returns:
        Tensor: (n,) bool, True for the kept candidates.
    """
    n = ious.size(0)
    keep = torch.ones(n, dtype=torch.bool, device=ious.device)
    for i in range(n - 1):
        if keep[i]:
            keep[i + 1:] &= ious[i, i + 1:] <= iou_thr
    return keep


def match_scores(embeds: Tensor,
                 memo_embeds: Tensor,
                 metric: str = 'bisoftmax') -> Tensor:
    """Association scores between detections and tracks.

    Args:
        embeds (Tensor): (n, C) raw embeddings of the detections.
        memo_embeds (Tensor): (T, C) memory embeddings of the tracks.
        metric (str): ``'bisoftmax'`` (IDOL's choice): half the sum of the
            softmax of the raw dot products over tracks and over
            detections; ``'softmax'``: softmax over tracks only;
            ``'cosine'``: cosine similarity.

    Returns:
        Tensor: (n, T) scores.
    """
    if metric == 'cosine':
        return F.normalize(embeds, dim=1) @ F.normalize(memo_embeds, dim=1).t()
    feats = embeds @ memo_embeds.t()
    if metric == 'softmax':
        return feats.softmax(dim=1)
    if metric == 'bisoftmax':
        return (feats.softmax(dim=1) + feats.softmax(dim=0)) / 2
    raise ValueError(f'IDOLTracker: unknown match_metric {metric!r}')


def greedy_assign(scores: Tensor,
                  exist_frames: Tensor,
                  match_score_thr: float = 0.5,
                  frame_weight: bool = True,
                  frame_weight_thr: float = 0.5) -> Tensor:
    """Assign detections to tracks one detection at a time (IDOL step 4).

    Detections are visited in row order (descending detection score). For
    detection ``i``, when ``frame_weight`` is on and more than one track
    scores above ``frame_weight_thr``, those tracks' scores are multiplied
    by their matched-frame counts and every other track's score by the mean
    of those counts. The best track is taken if its (weighted) score is
    above ``match_score_thr``; that track's column is then zeroed so that no
    later detection can take it.

    Example:
        Scores ``[[0.8, 0.6]]`` with counts ``[1, 5]``: both tracks exceed
        0.5, the weighted row is ``[0.8, 3.0]`` and detection 0 takes track
        1 (track 0 without frame weighting).

    Args:
        scores (Tensor): (n, T) association scores, rows in descending
            detection score order.
        exist_frames (Tensor): (T,) number of frames each track was matched.
        match_score_thr (float): Minimum score of a match.
        frame_weight (bool): Whether to apply the frame-count reweighting.
        frame_weight_thr (float): Score above which a track takes part in
            the reweighting (0.5, hard-coded in the official code).

    Returns:
        Tensor: (n,) long, the matched track column per detection, or -1.
    """
    scores = scores.clone()
    counts = exist_frames.to(scores)
    cols = torch.full((scores.size(0), ), -1, dtype=torch.long)
    for i in range(scores.size(0)):
        row = scores[i]
        high = row > frame_weight_thr
        if frame_weight and int(high.sum()) > 1:
            row = torch.where(high, row * counts, row * counts[high].mean())
        conf, col = row.max(dim=0)
        if conf > match_score_thr:
            cols[i] = col
            scores[:, col] = 0
    return cols


def encode_rles(masks: Tensor) -> List[dict]:
    """Encode binary masks as COCO RLEs with ``counts`` as str.

    Args:
        masks (Tensor): (M, H, W) bool.

    Returns:
        list[dict]: M RLE dicts ``{'size': [H, W], 'counts': str}``.
    """
    if masks.size(0) == 0:
        return []
    arr = np.asfortranarray(
        masks.permute(1, 2, 0).cpu().numpy(), dtype=np.uint8)
    rles = mask_util.encode(arr)
    for rle in rles:
        rle['counts'] = rle['counts'].decode('ascii')
    return rles


class _VideoTrack:
    """Per-track video-level record: O(K) statistics + the RLEs.

    Attributes:
        prob_stat (Tensor): (K,) float64, the sum (``'mean'``) or the max
            (``'max'``) of the class-probability vectors of matched frames.
        num_matched (int): Number of matched frames.
        last_matched (int): Last matched frame index.
        rles (dict[int, dict]): Frame index -> RLE of the matched frames.
    """

    __slots__ = ('prob_stat', 'num_matched', 'last_matched', 'rles')

    def __init__(self, num_classes: int) -> None:
        self.prob_stat = torch.zeros(num_classes, dtype=torch.float64)
        self.num_matched = 0
        self.last_matched = -1
        self.rles: Dict[int, dict] = dict()


@MODELS.register_module()
class IDOLTracker(BaseTracker):
    """Memory-bank tracker of IDOL's online inference, with bounded memory.

    Per frame (``track``): candidate selection (score filter + class-aware
    box NMS), greedy mask NMS, bi-softmax association against a memory of
    the last ``memory_len`` embeddings of every live track, new tracks for
    confident unmatched candidates, memory update. Per video
    (``video_results``): one prediction per (track, class) whose mean
    class probability over the matched frames exceeds ``apply_cls_thr``.
    Defaults are the official YouTube-VIS values; OVIS uses
    ``nms_thr_pre=0.3, addnew_score_thr=0.3``.

    Unlike the official code, memory is bounded: at most ``max_tracks`` live
    tracks (the track unmatched for the longest time, then the one with the
    lowest mean memory score, is evicted to make room for a new one), at
    most ``memory_len`` embeddings per track, and the video results are kept
    as RLEs plus O(K) running statistics per track (nothing when
    ``keep_video_results=False``).

    Args:
        select_score_thr (float): A query is a candidate when its highest
            class probability exceeds this (INFERENCE_SELECT_THRES 0.1); if
            none does, the single best query is the only candidate.
        box_nms_thr (float): IoU of the class-aware box NMS. Defaults to 0.9.
        nms_thr_pre (float): IoU of the greedy mask NMS (0.5 YTVIS, 0.3
            OVIS).
        mask_thr (float): Mask probability threshold for the mask NMS, the
            backdrop test and the output masks. Defaults to 0.5.
        init_score_thr (float): Score to start a track while the memory is
            empty. Defaults to 0.2.
        addnew_score_thr (float): Score to start a track for an unmatched
            candidate otherwise (0.2 YTVIS, 0.3 OVIS).
        nms_thr_post (float): An unmatched, unstarted candidate whose mask
            IoU with every higher-ranked candidate is below this is a
            backdrop (-1), else -2. Neither is output. Defaults to 0.05.
        match_score_thr (float): Minimum association score. Defaults to 0.5.
        memo_tracklet_frames (int): A track unmatched for this many frames is
            deleted. Defaults to 10.
        memory_len (int): Embeddings kept per track. Defaults to 3.
        match_metric (str): 'bisoftmax' (default), 'softmax' or 'cosine'.
        temporal_weight (bool): Add the recency weights (1/L, ..., 1) to the
            detection scores that weight the memory. Defaults to True.
        frame_weight (bool): Frame-count reweighting of the association
            scores. Defaults to True.
        frame_weight_thr (float): Association score above which a track
            enters the frame-count reweighting. Defaults to 0.5.
        max_tracks (int, optional): Cap on live tracks; None = unbounded
            (official). Defaults to 100.
        mask_stride (int): Stride of the mask logits. Defaults to 4.
        mask_resize_mode (str): Interpolation from the cropped input size to
            the original size: 'nearest' (official) or 'bilinear'.
        keep_video_results (bool): Keep per-track RLEs and statistics for
            ``video_results``. When False nothing per frame is kept.
            Defaults to True.
        temporal_score_type (str): 'mean' (official) or 'max' of the class
            probabilities over the matched frames.
        apply_cls_thr (float): Class-score threshold of a video-level
            prediction. Defaults to 0.05.
        multi_cls (bool): One prediction per (track, class) above
            ``apply_cls_thr`` (official) instead of one per track.
        short_track_check_from (int): From this frame index on, short tracks
            are removed from the video results. Defaults to 9.
        short_track_min_frames (int): A track with fewer matched frames is
            short. Defaults to 3.
        short_track_gap (int): A short track unmatched in its last this many
            frames is removed from the video results. Defaults to 2.
    """

    def __init__(self,
                 select_score_thr: float = 0.1,
                 box_nms_thr: float = 0.9,
                 nms_thr_pre: float = 0.5,
                 mask_thr: float = 0.5,
                 init_score_thr: float = 0.2,
                 addnew_score_thr: float = 0.2,
                 nms_thr_post: float = 0.05,
                 match_score_thr: float = 0.5,
                 memo_tracklet_frames: int = 10,
                 memory_len: int = 3,
                 match_metric: str = 'bisoftmax',
                 temporal_weight: bool = True,
                 frame_weight: bool = True,
                 frame_weight_thr: float = 0.5,
                 max_tracks: Optional[int] = 100,
                 mask_stride: int = 4,
                 mask_resize_mode: str = 'nearest',
                 keep_video_results: bool = True,
                 temporal_score_type: str = 'mean',
                 apply_cls_thr: float = 0.05,
                 multi_cls: bool = True,
                 short_track_check_from: int = 9,
                 short_track_min_frames: int = 3,
                 short_track_gap: int = 2) -> None:
        if memory_len < 1:
            raise ValueError(
                f'IDOLTracker: memory_len must be >= 1, got {memory_len}')
        if memo_tracklet_frames < 1:
            raise ValueError('IDOLTracker: memo_tracklet_frames must be >= 1,'
                             f' got {memo_tracklet_frames}')
        if max_tracks is not None and max_tracks < 1:
            raise ValueError(
                f'IDOLTracker: max_tracks must be >= 1 or None, got '
                f'{max_tracks}')
        if match_metric not in ('bisoftmax', 'softmax', 'cosine'):
            raise ValueError(
                f'IDOLTracker: unknown match_metric {match_metric!r}')
        if mask_resize_mode not in ('nearest', 'bilinear'):
            raise ValueError('IDOLTracker: mask_resize_mode must be '
                             f"'nearest' or 'bilinear', got "
                             f'{mask_resize_mode!r}')
        if temporal_score_type not in ('mean', 'max'):
            raise ValueError('IDOLTracker: temporal_score_type must be '
                             f"'mean' or 'max', got {temporal_score_type!r}")
        self.select_score_thr = select_score_thr
        self.box_nms_thr = box_nms_thr
        self.nms_thr_pre = nms_thr_pre
        self.mask_thr = mask_thr
        self.init_score_thr = init_score_thr
        self.addnew_score_thr = addnew_score_thr
        self.nms_thr_post = nms_thr_post
        self.match_score_thr = match_score_thr
        self.memo_tracklet_frames = memo_tracklet_frames
        self.memory_len = memory_len
        self.match_metric = match_metric
        self.temporal_weight = temporal_weight
        self.frame_weight = frame_weight
        self.frame_weight_thr = frame_weight_thr
        self.max_tracks = max_tracks
        self.mask_stride = mask_stride
        self.mask_resize_mode = mask_resize_mode
        self.keep_video_results = keep_video_results
        self.temporal_score_type = temporal_score_type
        self.apply_cls_thr = apply_cls_thr
        self.multi_cls = multi_cls
        self.short_track_check_from = short_track_check_from
        self.short_track_min_frames = short_track_min_frames
        self.short_track_gap = short_track_gap
        super().__init__(num_frames_retain=memo_tracklet_frames)

    # ------------------------------------------------------------------
    # state
    # ------------------------------------------------------------------
    def reset(self) -> None:
        """Forget every track and video result (call at frame 0)."""
        self.num_tracks = 0  # next track id
        self.tracks = dict()  # id -> memory of a live track
        self.num_frames = 0  # frames seen since the reset
        self.num_evicted = 0  # tracks evicted by the max_tracks cap
        self.video_tracks: Dict[int, _VideoTrack] = dict()
        self.num_classes: Optional[int] = None
        # Diagnostics of the last frame: query index of every candidate
        # after both NMS, and its code (track id, -1 backdrop, -2 other).
        self.last_candidates = torch.zeros(0, dtype=torch.long)
        self.last_assignment = torch.zeros(0, dtype=torch.long)

    def memory_stats(self) -> Dict[str, int]:
        """Sizes of everything the tracker holds (for checks and logs).

        Returns:
            dict[str, int]: ``num_tracks`` (live tracks), ``max_memory``
            (most embeddings held by one track), ``num_memory`` (embeddings
            held in all), ``num_video_tracks`` and ``num_video_masks``
            (stored RLEs), ``num_frames``.
        """
        lens = [len(t['embeds']) for t in self.tracks.values()]
        return dict(
            num_tracks=len(self.tracks),
            max_memory=max(lens, default=0),
            num_memory=sum(lens),
            num_video_tracks=len(self.video_tracks),
            num_video_masks=sum(
                len(v.rles) for v in self.video_tracks.values()),
            num_frames=self.num_frames)

    @property
    def memo(self):
        """Memory of the live tracks.

        Returns:
            tuple: ``ids`` (T,) long, ``embeds`` (T, C) float: per track
            the weighted mean of its stored embeddings with weights
            detection score (+ recency ``(1/L, 2/L, ..., 1)`` when
            ``temporal_weight``), ``exist_frames`` (T,) float: matched
            frames per track.
        """
        ids, embeds, exist = [], [], []
        for tid, track in self.tracks.items():
            mem = torch.stack(list(track['embeds']))
            weights = mem.new_tensor(list(track['scores']))
            if self.temporal_weight:
                length = weights.numel()
                weights = weights + torch.arange(
                    1, length + 1, dtype=weights.dtype,
                    device=weights.device) / length
            embeds.append((mem * weights[:, None]).sum(0) / weights.sum())
            ids.append(tid)
            exist.append(track['exist_frames'])
        return (torch.tensor(ids, dtype=torch.long), torch.stack(embeds),
                torch.tensor(exist, dtype=torch.float))

    # ------------------------------------------------------------------
    # per frame
    # ------------------------------------------------------------------
    def select_candidates(self, cls_logits: Tensor, bboxes: Tensor) -> Tensor:
        """Score filter and class-aware box NMS.

        Args:
            cls_logits (Tensor): (N, K) raw logits.
            bboxes (Tensor): (N, 4) xyxy boxes.

        Returns:
            Tensor: (n,) long query indices in descending score order.
        """
        probs = cls_logits.detach().float().sigmoid()
        max_probs, labels = probs.max(dim=1)
        inds = torch.nonzero(
            max_probs > self.select_score_thr, as_tuple=False).squeeze(1)
        if inds.numel() == 0:
            return max_probs.argmax().view(1)
        _, keep = batched_nms(bboxes[inds].detach().float(), max_probs[inds],
                              labels[inds],
                              dict(type='nms', iou_threshold=self.box_nms_thr))
        return inds[keep]

    def track(self, frame_id: int, cls_logits: Tensor, bboxes: Tensor,
              embeds: Tensor, mask_logits: Tensor,
              img_meta: dict) -> InstanceData:
        """Track one frame.

        Args:
            frame_id (int): Frame index in the video, 0, 1, 2, ... in order
                (call ``reset()`` before frame 0).
            cls_logits (Tensor): (N, K) raw class logits of all queries.
            bboxes (Tensor): (N, 4) xyxy boxes in original-image pixels.
            embeds (Tensor): (N, C) raw contrastive embeddings.
            mask_logits (Tensor): (N, h4, w4) stride-4 mask logits of the
                padded network input.
            img_meta (dict): ``img_shape`` (h, w) resized unpadded input
                size and ``ori_shape`` (H0, W0) original frame size.

        Returns:
            :obj:`InstanceData`: the M tracks output in this frame, in
            descending score order: ``bboxes`` (M, 4), ``scores`` (M,),
            ``labels`` (M,), ``instances_id`` (M,) long, ``masks``
            (M, H0, W0) bool at the original size.
        """
        self._check_inputs(frame_id, cls_logits, bboxes, embeds, mask_logits,
                           img_meta)
        device = bboxes.device
        cand = self.select_candidates(cls_logits, bboxes)
        probs = cls_logits[cand].detach().float().sigmoid()
        # Greedy mask NMS on the binarized stride-4 masks.
        bin_masks = mask_logits[cand].detach().sigmoid() > self.mask_thr
        ious = mask_iou_matrix(bin_masks)
        keep = greedy_mask_nms(ious, self.nms_thr_pre)
        cand, probs = cand[keep], probs[keep]
        ious = ious[keep][:, keep]
        scores, labels = probs.max(dim=1)
        cand_embeds = embeds[cand].detach().float()

        ids = self._assign_ids(cand_embeds, scores, ious)
        self.update(ids, cand_embeds, scores, labels, frame_id)
        self.last_candidates = cand.cpu()
        self.last_assignment = ids.clone()

        out_inds = torch.nonzero(ids > -1, as_tuple=False).squeeze(1)
        out_cand = cand[out_inds.to(cand.device)]
        masks = self.postprocess_masks(mask_logits[out_cand].detach(),
                                       img_meta, frame_id)
        results = InstanceData()
        results.bboxes = bboxes[out_cand].detach()
        results.scores = scores[out_inds.to(scores.device)].to(device)
        results.labels = labels[out_inds.to(labels.device)].to(device)
        results.instances_id = ids[out_inds].to(device)
        results.masks = masks.to(device)
        if self.keep_video_results:
            self._record_video(frame_id, ids[out_inds].tolist(),
                               probs[out_inds.to(probs.device)], masks)
        self.num_frames += 1
        return results

    def _assign_ids(self, embeds: Tensor, scores: Tensor,
                    ious: Tensor) -> Tensor:
        """Match candidates to tracks, start new tracks, mark backdrops.

        Args:
            embeds (Tensor): (n, C) candidate embeddings.
            scores (Tensor): (n,) candidate scores, descending.
            ious (Tensor): (n, n) mask IoU between candidates.

        Returns:
            Tensor: (n,) long on CPU: a track id, -1 (backdrop) or -2.
        """
        n = scores.size(0)
        ids = torch.full((n, ), -2, dtype=torch.long)
        matched = set()
        if self.empty:
            new_thr = self.init_score_thr
        else:
            memo_ids, memo_embeds, exist = self.memo
            sim = match_scores(embeds, memo_embeds.to(embeds),
                               self.match_metric)
            cols = greedy_assign(sim.cpu(), exist, self.match_score_thr,
                                 self.frame_weight, self.frame_weight_thr)
            hit = cols > -1
            ids[hit] = memo_ids[cols[hit]]
            matched = set(ids[hit].tolist())
            new_thr = self.addnew_score_thr
        new_inds = torch.nonzero(
            (ids == -2) & (scores.cpu() > new_thr), as_tuple=False).squeeze(1)
        for i in new_inds.tolist():
            if self._make_room(matched):
                ids[i] = self.num_tracks
                matched.add(self.num_tracks)
                self.num_tracks += 1
        # Unmatched, unstarted candidates: backdrop (-1) when their mask
        # barely overlaps every higher-ranked candidate, else -2.
        ious = ious.cpu()
        for i in torch.nonzero(ids == -2, as_tuple=False).squeeze(1).tolist():
            if bool((ious[i, :i] < self.nms_thr_post).all()):
                ids[i] = -1
        return ids

    def _make_room(self, protected: set) -> bool:
        """Evict a track if the cap on live tracks is reached.

        Live tracks are those in memory plus the new ones of this frame
        (the new ones enter the memory in ``update``). The victim is the
        track unmatched for the longest time, ties broken by the lowest
        mean detection score in its memory; tracks matched or started in
        this frame are never evicted.

        Args:
            protected (set[int]): Ids matched or started in this frame.

        Returns:
            bool: Whether a new track may start.
        """
        if self.max_tracks is None:
            return True
        num_new = sum(1 for tid in protected if tid not in self.tracks)
        if len(self.tracks) + num_new < self.max_tracks:
            return True
        victims = [(t['last_frame'], sum(t['scores']) / len(t['scores']), tid)
                   for tid, t in self.tracks.items() if tid not in protected]
        if not victims:
            return False
        self.tracks.pop(min(victims)[2])
        self.num_evicted += 1
        return True

    def update(self, ids: Tensor, embeds: Tensor, scores: Tensor,
               labels: Tensor, frame_id: int) -> None:
        """Write matched and new tracks into memory, drop stale tracks.

        Args:
            ids (Tensor): (n,) codes from the assignment (ids >= 0 update).
            embeds (Tensor): (n, C) candidate embeddings.
            scores (Tensor): (n,) candidate scores.
            labels (Tensor): (n,) candidate labels.
            frame_id (int): Frame index.
        """
        for i in torch.nonzero(ids > -1, as_tuple=False).squeeze(1).tolist():
            tid = int(ids[i])
            track = self.tracks.get(tid)
            if track is None:
                track = dict(
                    embeds=deque(maxlen=self.memory_len),
                    scores=deque(maxlen=self.memory_len),
                    exist_frames=0)
                self.tracks[tid] = track
            # clone(): a row view would keep the whole (N, C) tensor alive.
            track['embeds'].append(embeds[i].clone())
            track['scores'].append(float(scores[i]))
            track['exist_frames'] += 1
            track['last_frame'] = frame_id
            track['label'] = int(labels[i])
        stale = [
            tid for tid, t in self.tracks.items()
            if frame_id - t['last_frame'] >= self.memo_tracklet_frames
        ]
        for tid in stale:
            self.tracks.pop(tid)

    def postprocess_masks(self,
                          mask_logits: Tensor,
                          img_meta: dict,
                          frame_id: int = -1) -> Tensor:
        """Stride-4 mask logits to binary masks at the original size.

        Bilinear x``mask_stride`` to the padded size, sigmoid, crop to
        ``img_shape``, resize to ``ori_shape`` (``mask_resize_mode``),
        threshold at ``mask_thr``.

        Args:
            mask_logits (Tensor): (M, h4, w4) mask logits.
            img_meta (dict): With ``img_shape`` and ``ori_shape``.
            frame_id (int): Frame index, for error messages.

        Returns:
            Tensor: (M, H0, W0) bool.
        """
        h0, w0 = img_meta['ori_shape'][:2]
        if mask_logits.size(0) == 0:
            return torch.zeros((0, h0, w0),
                               dtype=torch.bool,
                               device=mask_logits.device)
        h, w = img_meta['img_shape'][:2]
        h4, w4 = mask_logits.shape[-2:]
        pad_h, pad_w = h4 * self.mask_stride, w4 * self.mask_stride
        if h > pad_h or w > pad_w:
            raise ValueError(
                f'IDOLTracker: frame {frame_id}: img_shape {(h, w)} is larger'
                f' than the padded size {(pad_h, pad_w)} given by mask_logits'
                f' {(h4, w4)} x mask_stride {self.mask_stride}')
        probs = F.interpolate(
            mask_logits[:, None].float(),
            size=(pad_h, pad_w),
            mode='bilinear',
            align_corners=False).sigmoid()
        probs = probs[:, :, :h, :w]
        if self.mask_resize_mode == 'nearest':
            probs = F.interpolate(probs, size=(h0, w0), mode='nearest')
        else:
            probs = F.interpolate(
                probs, size=(h0, w0), mode='bilinear', align_corners=False)
        return probs[:, 0] > self.mask_thr

    def _check_inputs(self, frame_id: int, cls_logits: Tensor, bboxes: Tensor,
                      embeds: Tensor, mask_logits: Tensor,
                      img_meta: dict) -> None:
        """Raise a ValueError naming the frame and the input at fault."""
        where = f'IDOLTracker: frame {frame_id}'
        if frame_id != self.num_frames:
            raise ValueError(
                f'{where}: expected frame index {self.num_frames} (frames '
                'must come in order 0, 1, 2, ...; call reset() at frame 0 '
                'of every video)')
        if cls_logits.dim() != 2 or cls_logits.size(0) == 0:
            raise ValueError(f'{where}: cls_logits must be (N, K) with N > 0,'
                             f' got {tuple(cls_logits.shape)}')
        num = cls_logits.size(0)
        shapes = dict(
            bboxes=(bboxes, 2),
            embeds=(embeds, 2),
            mask_logits=(mask_logits, 3))
        for name, (value, dim) in shapes.items():
            if value.dim() != dim or value.size(0) != num:
                raise ValueError(
                    f'{where}: {name} has shape {tuple(value.shape)}, '
                    f'expected {dim} dims with {num} rows like cls_logits')
        if bboxes.size(1) != 4:
            raise ValueError(f'{where}: bboxes must be (N, 4), got '
                             f'{tuple(bboxes.shape)}')
        for key in ('img_shape', 'ori_shape'):
            if key not in img_meta:
                raise ValueError(f'{where}: img_meta has no {key!r}')
        h, w = img_meta['img_shape'][:2]
        pad_h, pad_w = (mask_logits.size(1) * self.mask_stride,
                        mask_logits.size(2) * self.mask_stride)
        if h > pad_h or w > pad_w:
            raise ValueError(
                f'{where}: img_shape {(h, w)} is larger than the padded size '
                f'{(pad_h, pad_w)} of mask_logits {tuple(mask_logits.shape)}'
                f' x mask_stride {self.mask_stride}')
        if self.num_classes is None:
            self.num_classes = cls_logits.size(1)
        elif cls_logits.size(1) != self.num_classes:
            raise ValueError(
                f'{where}: cls_logits has {cls_logits.size(1)} classes, '
                f'earlier frames had {self.num_classes}')

    # ------------------------------------------------------------------
    # per video
    # ------------------------------------------------------------------
    def _record_video(self, frame_id: int, ids: Sequence[int], probs: Tensor,
                      masks: Tensor) -> None:
        """Add this frame's tracks to the video results, drop short tracks.

        Args:
            frame_id (int): Frame index.
            ids (list[int]): M output track ids.
            probs (Tensor): (M, K) class probabilities.
            masks (Tensor): (M, H0, W0) bool output masks.
        """
        probs = probs.detach().double().cpu()
        for tid, prob, rle in zip(ids, probs, encode_rles(masks)):
            record = self.video_tracks.get(tid)
            if record is None:
                record = _VideoTrack(probs.size(1))
                self.video_tracks[tid] = record
            if self.temporal_score_type == 'mean':
                record.prob_stat += prob
            else:
                torch.maximum(record.prob_stat, prob, out=record.prob_stat)
            record.num_matched += 1
            record.last_matched = frame_id
            record.rles[frame_id] = rle
        if frame_id >= self.short_track_check_from:
            short = [
                tid for tid, r in self.video_tracks.items()
                if frame_id - r.last_matched >= self.short_track_gap
                and r.num_matched < self.short_track_min_frames
            ]
            for tid in short:
                self.video_tracks.pop(tid)

    def video_results(self) -> List[dict]:
        """Video-level predictions of the frames seen since ``reset()``.

        Returns:
            list[dict]: ``{'score': float, 'label': int (0-based),
            'segmentations': [RLE dict or None per frame]}``, one per
            (track, class) whose temporal class score exceeds
            ``apply_cls_thr`` (``multi_cls``), else one per track with its
            best class. Empty when ``keep_video_results`` is False.
        """
        results = []
        for record in self.video_tracks.values():
            if self.temporal_score_type == 'mean':
                cls_scores = record.prob_stat / record.num_matched
            else:
                cls_scores = record.prob_stat
            segms = [record.rles.get(f) for f in range(self.num_frames)]
            if self.multi_cls:
                labels = torch.nonzero(
                    cls_scores > self.apply_cls_thr,
                    as_tuple=False).squeeze(1).tolist()
            else:
                labels = [int(cls_scores.argmax())]
            for label in labels:
                results.append(
                    dict(
                        score=float(cls_scores[label]),
                        label=int(label),
                        segmentations=list(segms)))
        return results
