# Copyright (c) mmookd authors. All rights reserved.
"""The official YouTube-VIS evaluation protocol, numpy-2 safe, on RLE masks.

This module re-implements the protocol of the official ``youtubevos/cocoapi``
(``ytvos.py`` / ``ytvoseval.py``) without its ``np.float`` use:

* video IoU of a predicted track ``d`` and a GT track ``g`` is
  ``sum_t |d_t & g_t| / sum_t |d_t | g_t|`` over the frames ``t`` of the
  video; a frame where a track is absent (``None``) adds only the other
  track's area to the union, a frame where both are absent adds nothing;
* per video and category, predictions are sorted by score and cut to the
  largest ``maxDets``; COCO greedy matching at IoU thresholds
  ``.50:.05:.95``; crowd GT may be matched repeatedly and is ignored;
* area ranges use a track's mean per-frame mask area over the frames where
  it is present (non-zero area): all, small ``< 128^2``, medium
  ``128^2..256^2``, large ``> 256^2`` (both ends inclusive, as in the
  official code);
* accumulation over videos: precision envelope sampled at 101 recall points
  and max recall per (IoU, category, area, maxDets); ``-1`` where a category
  has no (non-ignored) GT; summaries average the defined entries.

Shape shorthand used below: ``D`` predicted tracks, ``G`` GT tracks, ``F``
frames, ``T`` = 10 IoU thresholds, ``R`` = 101 recall points, ``K``
categories, ``A`` = 4 area ranges, ``M`` = 3 maxDets.

A *track* is a dict with

* ``video_id`` (int | str), ``category_id`` (int, 1-based),
* ``segmentations``: list (length ``F``) of compressed RLE dicts
  ``{'size': [h, w], 'counts': str}`` or ``None``,
* ``score`` (float, predictions) or ``iscrowd`` (0/1, GT, default 0),
* optional ``areas``: list (length ``F``) of per-frame areas or ``None``
  (used for GT as the official code does; computed from the masks when
  missing).
"""
from collections import defaultdict
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from pycocotools import mask as mask_utils

# The same floating-point values as the official Params.
IOU_THRS = np.linspace(.5, .95, 10, endpoint=True)
REC_THRS = np.linspace(.0, 1.0, 101, endpoint=True)
MAX_DETS = (1, 10, 100)
AREA_RANGES = (('all', (0.0, 1e5**2)), ('small', (0.0, 128.0**2)),
               ('medium', (128.0**2, 256.0**2)), ('large', (256.0**2, 1e5**2)))

# Summary names (mmdet's ``coco_metric_names``) -> (ap?, iou idx, area idx,
# maxDets idx).  ``None`` as IoU index: averaged over all thresholds.
SUMMARY_ITEMS = {
    'mAP': (True, None, 0, 2),
    'mAP_50': (True, 0, 0, 2),
    'mAP_75': (True, 5, 0, 2),
    'mAP_s': (True, None, 1, 2),
    'mAP_m': (True, None, 2, 2),
    'mAP_l': (True, None, 3, 2),
    'AR@1': (False, None, 0, 0),
    'AR@10': (False, None, 0, 1),
    'AR@100': (False, None, 0, 2),
    'AR_s@100': (False, None, 1, 2),
    'AR_m@100': (False, None, 2, 2),
    'AR_l@100': (False, None, 3, 2),
}

RLE = Dict[str, Union[list, str]]


def to_rle(segm,
           height: Optional[int] = None,
           width: Optional[int] = None) -> Optional[dict]:
    """Normalise one frame's segmentation to a compressed RLE.

    Args:
        segm (dict | list | np.ndarray | None): compressed RLE (``counts``
            str or bytes), uncompressed RLE (``counts`` list), polygons
            (list of flat coordinate lists) or a binary mask ``(H, W)``.
        height (int, optional): frame height, needed for polygons.
        width (int, optional): frame width, needed for polygons.

    Returns:
        dict | None: ``{'size': [h, w], 'counts': str}``, or ``None`` when
        ``segm`` is ``None`` (the instance is absent in this frame).
    """
    if segm is None:
        return None
    if isinstance(segm, np.ndarray):
        return encode_masks(segm[None])[0]
    if isinstance(segm, list):
        if height is None or width is None:
            raise ValueError('polygon segmentations need the frame size')
        rle = mask_utils.merge(mask_utils.frPyObjects(segm, height, width))
    elif isinstance(segm, dict) and isinstance(segm.get('counts'), list):
        h, w = segm['size']
        rle = mask_utils.frPyObjects(segm, h, w)
    elif isinstance(segm, dict) and 'counts' in segm:
        rle = segm
    else:
        raise TypeError(f'unsupported segmentation of type {type(segm)}')
    counts = rle['counts']
    if isinstance(counts, bytes):
        counts = counts.decode('ascii')
    return {'size': [int(s) for s in rle['size']], 'counts': counts}


def encode_masks(masks: np.ndarray) -> List[dict]:
    """Encode binary masks to compressed RLEs with ``str`` counts.

    Args:
        masks (np.ndarray): ``(N, H, W)`` binary masks (any dtype).

    Returns:
        list[dict]: ``N`` RLE dicts ``{'size': [H, W], 'counts': str}``.
    """
    masks = np.asarray(masks)
    if masks.ndim != 3:
        raise ValueError(f'masks must be (N, H, W), got {masks.shape}')
    if masks.shape[0] == 0:
        return []
    # one copy: (N, W, H) C-ordered uint8 is (H, W, N) in Fortran order
    buf = np.ascontiguousarray(masks.transpose(0, 2, 1), dtype=np.uint8)
    rles = mask_utils.encode(buf.transpose(2, 1, 0))
    return [{
        'size': [int(s) for s in r['size']],
        'counts': r['counts'].decode('ascii')
    } for r in rles]


def rle_areas(rles: Sequence[dict]) -> np.ndarray:
    """Areas of compressed RLEs.

    ``pycocotools.mask.area`` overflows under numpy 2 for lists of more than
    255 RLEs (it builds a ``uint8`` array from the count): call it in chunks.

    Args:
        rles (Sequence[dict]): ``N`` RLE dicts.

    Returns:
        np.ndarray: ``(N, )`` float64 areas.
    """
    chunk = 255
    parts = [
        np.asarray(mask_utils.area(list(rles[i:i + chunk])), np.float64)
        for i in range(0, len(rles), chunk)
    ]
    return np.concatenate(parts) if parts else np.zeros(0)


def frame_areas(segmentations: Sequence[Optional[dict]],
                areas: Optional[Sequence] = None) -> np.ndarray:
    """Per-frame areas of a track.

    Args:
        segmentations (list): ``F`` RLE dicts or ``None``.
        areas (list, optional): ``F`` given areas or ``None``; a given
            non-``None`` value wins (the official code reads the GT's
            ``areas`` field), otherwise the area of the mask is used.

    Returns:
        np.ndarray: ``(F, )`` float64 areas, 0 where the track is absent.
    """
    out = np.zeros(len(segmentations), dtype=np.float64)
    present = [i for i, s in enumerate(segmentations) if s is not None]
    if present:
        out[present] = rle_areas([segmentations[i] for i in present])
    if areas is not None:
        for i, a in enumerate(areas[:len(out)]):
            if a is not None:
                out[i] = float(a)
    return out


def mean_area(areas: np.ndarray) -> float:
    """Mean area over the frames where a track has a non-empty mask.

    Args:
        areas (np.ndarray): ``(F, )`` per-frame areas.

    Returns:
        float: the mean of the non-zero entries, 0 if there are none.
    """
    nonzero = areas[areas > 0]
    return float(nonzero.mean()) if nonzero.size else 0.0


def video_iou(dt_segms: Sequence[Sequence[Optional[dict]]],
              gt_segms: Sequence[Sequence[Optional[dict]]],
              dt_areas: Optional[Sequence[np.ndarray]] = None,
              gt_areas: Optional[Sequence[np.ndarray]] = None,
              video_id=None) -> np.ndarray:
    """Video IoU between predicted and GT tracks of one video.

    ``iou[i, j] = sum_t inter_t / sum_t union_t`` over the first
    ``min(len(d_i), len(g_j))`` frames; absent frames (``None``) contribute
    the other track's area to the union; 0 when the union is empty.  One
    ``pycocotools.mask.iou`` call per frame on the present RLEs: no dense
    video arrays are built.

    Args:
        dt_segms (list[list]): ``D`` predicted tracks, each ``F`` RLE/None.
        gt_segms (list[list]): ``G`` GT tracks, each ``F`` RLE/None.
        dt_areas (list[np.ndarray], optional): ``D`` arrays ``(F, )`` of
            mask areas (computed when not given).
        gt_areas (list[np.ndarray], optional): ``G`` arrays ``(F, )``.
        video_id (optional): named in error messages.

    Returns:
        np.ndarray: ``(D, G)`` float64 video IoUs.
    """
    num_d, num_g = len(dt_segms), len(gt_segms)
    if num_d == 0 or num_g == 0:
        return np.zeros((num_d, num_g))
    # mask areas (not the given 'areas' field) make the union exact.
    if dt_areas is None:
        dt_areas = [frame_areas(s) for s in dt_segms]
    if gt_areas is None:
        gt_areas = [frame_areas(s) for s in gt_segms]
    inter = np.zeros((num_d, num_g))
    num_frames = max(
        max(len(s) for s in dt_segms), max(len(s) for s in gt_segms))
    for t in range(num_frames):
        d_idx = [
            i for i, s in enumerate(dt_segms)
            if t < len(s) and s[t] is not None
        ]
        if not d_idx:
            continue
        g_idx = [
            j for j, s in enumerate(gt_segms)
            if t < len(s) and s[t] is not None
        ]
        if not g_idx:
            continue
        d_rles = [dt_segms[i][t] for i in d_idx]
        g_rles = [gt_segms[j][t] for j in g_idx]
        sizes = {tuple(r['size']) for r in d_rles + g_rles}
        if len(sizes) > 1:
            raise ValueError(
                f'video {video_id}, frame {t}: predicted and GT masks have '
                f'different sizes {sorted(sizes)}; predictions must be at '
                'the original frame size')
        ious = mask_utils.iou(d_rles, g_rles, [0] * len(g_idx))
        ious = np.nan_to_num(np.asarray(ious, dtype=np.float64))
        ious = ious.reshape(len(d_idx), len(g_idx))
        a_d = np.array([dt_areas[i][t] for i in d_idx])[:, None]
        a_g = np.array([gt_areas[j][t] for j in g_idx])[None, :]
        # iou = I / (a_d + a_g - I)  =>  I = iou * (a_d + a_g) / (1 + iou)
        frame_inter = np.rint(ious * (a_d + a_g) / (1.0 + ious))
        inter[np.ix_(d_idx, g_idx)] += frame_inter
    union = np.empty((num_d, num_g))
    d_cum = [np.concatenate([[0.0], np.cumsum(a)]) for a in dt_areas]
    g_cum = [np.concatenate([[0.0], np.cumsum(a)]) for a in gt_areas]
    for i in range(num_d):
        for j in range(num_g):
            n = min(len(dt_segms[i]), len(gt_segms[j]))
            union[i, j] = d_cum[i][n] + g_cum[j][n] - inter[i, j]
    with np.errstate(divide='ignore', invalid='ignore'):
        iou = np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)
    return iou


def match_tracks(ious: np.ndarray,
                 gt_ignore: np.ndarray,
                 gt_crowd: np.ndarray,
                 iou_thrs: np.ndarray = IOU_THRS) -> Tuple[np.ndarray, ...]:
    """COCO greedy matching of score-sorted predictions to GT tracks.

    Each prediction, best score first, takes the unmatched GT with the
    highest IoU >= the threshold; a non-ignored GT is preferred over an
    ignored one (GT must be sorted non-ignored first); crowd GT can take
    several predictions.

    Args:
        ious (np.ndarray): ``(D, G)`` IoUs, rows sorted by descending score,
            columns with the ignored GT last.
        gt_ignore (np.ndarray): ``(G, )`` bool.
        gt_crowd (np.ndarray): ``(G, )`` bool.
        iou_thrs (np.ndarray): ``(T, )`` thresholds.

    Returns:
        tuple: ``dt_matched (T, D)`` bool, ``dt_ignore (T, D)`` bool (matched
        to an ignored GT), ``gt_matched (T, G)`` bool.
    """
    num_t, (num_d, num_g) = len(iou_thrs), ious.shape
    dt_matched = np.zeros((num_t, num_d), dtype=bool)
    dt_ignore = np.zeros((num_t, num_d), dtype=bool)
    gt_matched = np.zeros((num_t, num_g), dtype=bool)
    if num_d == 0 or num_g == 0:
        return dt_matched, dt_ignore, gt_matched
    for t, thr in enumerate(iou_thrs):
        for d in range(num_d):
            best_iou = min(thr, 1 - 1e-10)
            best = -1
            for g in range(num_g):
                if gt_matched[t, g] and not gt_crowd[g]:
                    continue
                # already on a regular GT: the ignored ones come after
                if best > -1 and not gt_ignore[best] and gt_ignore[g]:
                    break
                if ious[d, g] < best_iou:
                    continue
                best_iou, best = ious[d, g], g
            if best > -1:
                dt_matched[t, d] = True
                dt_ignore[t, d] = gt_ignore[best]
                gt_matched[t, best] = True
    return dt_matched, dt_ignore, gt_matched


class YTVISEvaluator:
    """Evaluate predicted tracks against GT tracks, official YTVIS protocol.

    Usage::

        ev = YTVISEvaluator(gts, dts, cat_ids, video_ids)
        ev.evaluate()                      # IoUs and matching, once
        res = ev.accumulate(video_ids)     # any subset of the videos
        stats = summarize(res['precision'], res['recall'])

    Args:
        gts (list[dict]): GT tracks (see the module docstring).
        dts (list[dict]): predicted tracks.
        cat_ids (Sequence[int]): the ``K`` evaluated category ids.
        video_ids (Sequence): the evaluated videos; tracks of other videos
            are ignored.
        max_dets (Sequence[int]): ``M`` detection limits per video and
            category.
    """

    def __init__(self,
                 gts: List[dict],
                 dts: List[dict],
                 cat_ids: Sequence[int],
                 video_ids: Sequence,
                 max_dets: Sequence[int] = MAX_DETS) -> None:
        self.cat_ids = sorted(set(int(c) for c in cat_ids))
        self.video_ids = sorted(set(video_ids))
        self.max_dets = sorted(max_dets)
        self.iou_thrs = IOU_THRS
        self.rec_thrs = REC_THRS
        self.area_ranges = [rng for _, rng in AREA_RANGES]
        vids, cats = set(self.video_ids), set(self.cat_ids)
        self._gts = defaultdict(list)
        self._dts = defaultdict(list)
        for g in gts:
            if g['video_id'] in vids and int(g['category_id']) in cats:
                self._gts[g['video_id'], int(g['category_id'])].append(g)
        for d in dts:
            if d['video_id'] in vids and int(d['category_id']) in cats:
                self._dts[d['video_id'], int(d['category_id'])].append(d)
        # (k, a) -> {video_id: per-video record}
        self.records: Dict[Tuple[int, int], dict] = {}

    def evaluate(self, progress: bool = False) -> None:
        """Compute video IoUs and match predictions, per video/category.

        Args:
            progress (bool): show an mmengine progress bar over the
                (video, category) pairs.
        """
        v_index = {v: i for i, v in enumerate(self.video_ids)}
        keys = sorted(
            set(self._gts) | set(self._dts),
            key=lambda vk: (v_index[vk[0]], vk[1]))
        self.records = defaultdict(dict)
        bar = None
        if progress and keys:
            from mmengine.utils import ProgressBar
            bar = ProgressBar(len(keys))
        k_index = {c: k for k, c in enumerate(self.cat_ids)}
        for vid, cat in keys:
            self._evaluate_one(vid, cat, k_index[cat])
            if bar is not None:
                bar.update()

    def _evaluate_one(self, vid, cat: int, k: int) -> None:
        """Match the tracks of one (video, category) in every area range."""
        gts, dts = self._gts[vid, cat], self._dts[vid, cat]
        order = np.argsort([-float(d['score']) for d in dts], kind='mergesort')
        dts = [dts[i] for i in order[:self.max_dets[-1]]]
        dt_segms = [d['segmentations'] for d in dts]
        gt_segms = [g['segmentations'] for g in gts]
        dt_mask_areas = [frame_areas(s) for s in dt_segms]
        gt_mask_areas = [frame_areas(s) for s in gt_segms]
        ious = video_iou(
            dt_segms, gt_segms, dt_mask_areas, gt_mask_areas, video_id=vid)
        # area of a track for the area ranges: the official code uses the
        # GT's 'areas' field and the predictions' mask areas.
        gt_avg = np.zeros(len(gts))
        for j, (g, mask_area) in enumerate(zip(gts, gt_mask_areas)):
            if g.get('areas') is not None:
                mask_area = frame_areas(g['segmentations'], g['areas'])
            gt_avg[j] = mean_area(mask_area)
        dt_avg = np.array([mean_area(a) for a in dt_mask_areas],
                          dtype=np.float64)
        gt_crowd = np.array([bool(g.get('iscrowd', 0)) for g in gts],
                            dtype=bool)
        scores = np.array([float(d['score']) for d in dts], dtype=np.float64)
        ranges = self._range_ignores(gts, gt_avg, dt_avg)
        for a, (out_of_range, dt_out) in enumerate(ranges):
            gt_ignore = gt_crowd | out_of_range
            g_order = np.argsort(gt_ignore.astype(np.int64), kind='mergesort')
            matched, ignored, _ = match_tracks(ious[:, g_order],
                                               gt_ignore[g_order],
                                               gt_crowd[g_order],
                                               self.iou_thrs)
            ignored = ignored | (~matched & dt_out[None, :])
            self.records[k, a][vid] = dict(
                scores=scores,
                matched=matched,
                ignored=ignored,
                num_gt=int((~gt_ignore).sum()))

    def _range_ignores(self, gts: List[dict], gt_avg: np.ndarray,
                       dt_avg: np.ndarray) -> List[tuple]:
        """What each range of the ``A`` dimension leaves out.

        Args:
            gts (list[dict]): the ``G`` GT tracks of one (video, category).
            gt_avg (np.ndarray): ``(G, )`` their mean areas.
            dt_avg (np.ndarray): ``(D, )`` mean areas of the predictions.

        Returns:
            list[tuple]: per range ``(gt_out (G, ), dt_out (D, ))`` bool:
            GT ignored in that range, and predictions ignored there when
            unmatched (here: outside the area range).
        """
        return [((gt_avg < lo) | (gt_avg > hi), (dt_avg < lo) | (dt_avg > hi))
                for lo, hi in self.area_ranges]

    def accumulate(self, video_ids: Optional[Sequence] = None) -> dict:
        """Accumulate precision and recall over a set of videos.

        Args:
            video_ids (Sequence, optional): videos to pool (default: all
                evaluated ones); ids that were not evaluated are skipped.

        Returns:
            dict: ``precision`` ``(T, R, K, A, M)`` and ``recall``
            ``(T, K, A, M)``, ``-1`` where undefined; ``video_ids`` the
            pooled videos.
        """
        if video_ids is None:
            vids = self.video_ids
        else:
            wanted = set(video_ids)
            vids = [v for v in self.video_ids if v in wanted]
        num_t, num_r = len(self.iou_thrs), len(self.rec_thrs)
        num_k, num_a = len(self.cat_ids), len(self.area_ranges)
        num_m = len(self.max_dets)
        precision = -np.ones((num_t, num_r, num_k, num_a, num_m))
        recall = -np.ones((num_t, num_k, num_a, num_m))
        for (k, a), per_video in self.records.items():
            recs = [per_video[v] for v in vids if v in per_video]
            if not recs:
                continue
            num_gt = sum(r['num_gt'] for r in recs)
            if num_gt == 0:
                continue
            for m, max_det in enumerate(self.max_dets):
                prec, rec = self._pr_curve(recs, max_det, num_gt)
                precision[:, :, k, a, m] = prec
                recall[:, k, a, m] = rec
        return dict(precision=precision, recall=recall, video_ids=vids)

    def _pr_curve(self, recs: List[dict], max_det: int,
                  num_gt: int) -> Tuple[np.ndarray, np.ndarray]:
        """Interpolated precision ``(T, R)`` and max recall ``(T, )``."""
        scores = np.concatenate([r['scores'][:max_det] for r in recs])
        order = np.argsort(-scores, kind='mergesort')
        matched = np.concatenate([r['matched'][:, :max_det] for r in recs],
                                 axis=1)[:, order]
        ignored = np.concatenate([r['ignored'][:, :max_det] for r in recs],
                                 axis=1)[:, order]
        tps = np.cumsum(matched & ~ignored, axis=1).astype(np.float64)
        fps = np.cumsum(~matched & ~ignored, axis=1).astype(np.float64)
        num_t, num_r = len(self.iou_thrs), len(self.rec_thrs)
        precision = np.zeros((num_t, num_r))
        recall = np.zeros(num_t)
        if tps.shape[1] == 0:
            return precision, recall
        for t in range(num_t):
            rc = tps[t] / num_gt
            pr = tps[t] / (tps[t] + fps[t] + np.spacing(1))
            recall[t] = rc[-1]
            # precision envelope: max precision at any higher recall
            pr = np.maximum.accumulate(pr[::-1])[::-1]
            inds = np.searchsorted(rc, self.rec_thrs, side='left')
            valid = inds < len(pr)
            precision[t, :valid.sum()] = pr[inds[valid]]
        return precision, recall


def _mean_defined(values: np.ndarray) -> float:
    """Mean of the entries > -1, or -1 when there are none."""
    defined = values[values > -1]
    return float(np.mean(defined)) if defined.size else -1.0


def summarize(precision: np.ndarray, recall: np.ndarray) -> Dict[str, float]:
    """The 12 COCO/YTVIS summary numbers.

    Args:
        precision (np.ndarray): ``(T, R, K, A, M)``.
        recall (np.ndarray): ``(T, K, A, M)``.

    Returns:
        dict[str, float]: keys of :data:`SUMMARY_ITEMS` (``mAP``,
        ``mAP_50``, ..., ``AR_l@100``), values in [0, 1] or -1.
    """
    stats = {}
    for name, (is_ap, t, a, m) in SUMMARY_ITEMS.items():
        if is_ap:
            s = precision[:, :, :, a, m]
        else:
            s = recall[:, :, a, m]
        if t is not None:
            s = s[t]
        stats[name] = _mean_defined(s)
    return stats


def classwise_ap(precision: np.ndarray) -> np.ndarray:
    """Per-category AP (IoU .50:.95, area all, largest maxDets).

    Args:
        precision (np.ndarray): ``(T, R, K, A, M)``.

    Returns:
        np.ndarray: ``(K, )`` APs, -1 for categories without GT.
    """
    return np.array([
        _mean_defined(precision[:, :, k, 0, -1])
        for k in range(precision.shape[2])
    ])
