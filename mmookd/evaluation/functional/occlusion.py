# Copyright (c) mmookd authors. All rights reserved.
"""Occlusion-level video AP (OVIS): AP on light / medium / heavy occlusion.

OVIS measures occlusion in two ways:

* the paper's **BOR** (bounding-box occlusion rate) of a frame is the area
  covered by at least two GT boxes over the area of the union of all GT
  boxes of the frame, ``|U_{i<j} (B_i & B_j)| / |U_i B_i|``, and **mBOR** is
  its mean over the frames of a dataset: a per-frame dataset statistic;
* the occlusion-level AP of the official OVIS evaluation code
  (``oviseval.py`` of the OVIS cocoapi) is **per GT instance**: each
  annotated frame carries a level (no / slight / severe occlusion, scored
  0 / 0.25 / 0.75); the instance's *occlusion score* is the mean of the
  highest half (rounded up) of its per-frame scores, and the bands are
  light ``[0, 0.25]``, medium ``[0.25, 0.5]``, heavy ``[0.5, 1]`` (both ends
  inclusive, as in that code: a score of exactly 0.25 or 0.5 is in two
  bands).  A GT outside the band is ignored (like a GT outside an area
  range); predictions are never ignored for occlusion, so an unmatched
  prediction is a false positive in every band.

Datasets without annotated levels (SynthVIS, YouTube-VIS) get the per-frame
score from the GT **boxes** instead, with the per-instance form of BOR: the
share of the instance's box covered by the union of the other GT boxes of
the frame, ``|B_i & U_{j != i} B_j| / |B_i|`` in [0, 1]; the instance score
and the bands are then as above.  Boxes are the tight boxes of the GT masks.

Shape shorthand: ``N`` GT tracks of a video, ``F`` frames, ``B`` bands.
"""
import math
from collections import defaultdict
from typing import Dict, List, Optional, Sequence

import numpy as np
from pycocotools import mask as mask_utils

from .ytvis_eval import MAX_DETS, YTVISEvaluator, _mean_defined

OCCLUSION_BANDS = (('light', (0.0, 0.25)), ('medium', (0.25, 0.5)),
                   ('heavy', (0.5, 1.0)))
# OVIS's per-frame occlusion annotations and their scores.
OVIS_LEVEL_SCORES = {
    'no_occlusion': 0.0,
    'slight_occlusion': 0.25,
    'severe_occlusion': 0.75
}


def _cell_cover(boxes: np.ndarray) -> tuple:
    """Boxes on the grid of their own edges (coordinate compression).

    Args:
        boxes (np.ndarray): ``(n, 4)`` boxes ``x1, y1, x2, y2``.

    Returns:
        tuple: ``cover (n, Y, X)`` bool (grid cell inside box) and
        ``cell_area (Y, X)``; exact areas, no rasterising.
    """
    xs = np.unique(boxes[:, [0, 2]])
    ys = np.unique(boxes[:, [1, 3]])
    cx, cy = (xs[:-1] + xs[1:]) / 2, (ys[:-1] + ys[1:]) / 2
    inside_x = (cx[None] > boxes[:, 0:1]) & (cx[None] < boxes[:, 2:3])
    inside_y = (cy[None] > boxes[:, 1:2]) & (cy[None] < boxes[:, 3:4])
    cover = inside_y[:, :, None] & inside_x[:, None, :]
    return cover, np.outer(np.diff(ys), np.diff(xs))


def box_overlap_rates(boxes: np.ndarray) -> np.ndarray:
    """Per-box share covered by the union of the other boxes.

    Args:
        boxes (np.ndarray): ``(n, 4)`` boxes ``x1, y1, x2, y2`` of one frame.

    Returns:
        np.ndarray: ``(n, )`` values in [0, 1]; 0 for an empty box.
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    out = np.zeros(len(boxes))
    if len(boxes) < 2:
        return out
    cover, cell_area = _cell_cover(boxes)
    count = cover.sum(0)
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    for i in np.flatnonzero(areas > 0):
        covered = cover[i] & (count > 1)
        out[i] = float((cell_area * covered).sum() / areas[i])
    return np.clip(out, 0.0, 1.0)


def frame_bor(boxes: np.ndarray) -> float:
    """The OVIS paper's BOR of one frame.

    Args:
        boxes (np.ndarray): ``(n, 4)`` boxes ``x1, y1, x2, y2``.

    Returns:
        float: area covered by >= 2 boxes / area of the union (0 if empty).
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    if len(boxes) < 2:
        return 0.0
    cover, cell_area = _cell_cover(boxes)
    count = cover.sum(0)
    union = float((cell_area * (count > 0)).sum())
    return float((cell_area * (count > 1)).sum()) / union if union else 0.0


def top_half_mean(values: Sequence[float]) -> float:
    """Mean of the highest ``ceil(n / 2)`` values (OVIS's instance score).

    Args:
        values (Sequence[float]): per-frame scores of one instance.

    Returns:
        float: the mean, 0 for no value.
    """
    values = sorted(float(v) for v in values)
    if not values:
        return 0.0
    top = values[-math.ceil(len(values) / 2):]
    return sum(top) / len(top)


def rle_boxes(rles: Sequence[Optional[dict]]) -> np.ndarray:
    """Tight ``x1, y1, x2, y2`` boxes of RLE masks (NaN where None/empty).

    Args:
        rles (Sequence): ``n`` RLE dicts or None.

    Returns:
        np.ndarray: ``(n, 4)`` float64.
    """
    out = np.full((len(rles), 4), np.nan)
    idx = [i for i, r in enumerate(rles) if r is not None]
    if idx:
        xywh = np.asarray(
            mask_utils.toBbox([rles[i] for i in idx]),
            dtype=np.float64).reshape(-1, 4)
        ok = (xywh[:, 2] > 0) & (xywh[:, 3] > 0)
        xyxy = np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], 1)
        out[np.asarray(idx)[ok]] = xyxy[ok]
    return out


def video_occlusion_scores(gts: List[dict]) -> np.ndarray:
    """Occlusion scores of the GT tracks of one video.

    A track with an ``occlusion`` list (OVIS: one level name or None per
    frame) is scored from it; the others from the GT boxes of all the
    video's tracks (see the module docstring).

    Args:
        gts (list[dict]): the ``N`` GT tracks of one video (all categories).

    Returns:
        np.ndarray: ``(N, )`` scores in [0, 1].
    """
    num = len(gts)
    scores = np.zeros(num)
    need_boxes = [i for i, g in enumerate(gts) if g.get('occlusion') is None]
    per_frame: Dict[int, List[float]] = defaultdict(list)
    if need_boxes:
        length = max(len(g['segmentations']) for g in gts)
        for t in range(length):
            rles = [
                g['segmentations'][t] if t < len(g['segmentations']) else None
                for g in gts
            ]
            boxes = rle_boxes(rles)
            present = np.flatnonzero(~np.isnan(boxes[:, 0]))
            if not len(present):
                continue
            rates = box_overlap_rates(boxes[present])
            for i, rate in zip(present.tolist(), rates.tolist()):
                per_frame[i].append(rate)
    for i, g in enumerate(gts):
        levels = g.get('occlusion')
        if levels is None:
            scores[i] = top_half_mean(per_frame[i])
            continue
        values = []
        for t, level in enumerate(levels):
            if level is None:
                continue
            if level not in OVIS_LEVEL_SCORES:
                raise ValueError(
                    f'video {g.get("video_id")}, annotation {g.get("id")}, '
                    f'frame {t}: unknown occlusion level {level!r} (expected '
                    f'one of {sorted(OVIS_LEVEL_SCORES)})')
            values.append(OVIS_LEVEL_SCORES[level])
        scores[i] = top_half_mean(values)
    return scores


class OcclusionEvaluator(YTVISEvaluator):
    """Video AP per occlusion band (see the module docstring).

    The ``A`` dimension of :class:`YTVISEvaluator` holds the occlusion
    bands (area range 'all' for each): a GT outside a band is ignored, no
    prediction is ignored for occlusion.  Matching and accumulation are the
    official protocol's.

    Args:
        gts (list[dict]): GT tracks; an ``occlusion`` list (OVIS) is used
            when present, the GT boxes otherwise.
        dts (list[dict]): predicted tracks.
        cat_ids (Sequence[int]): evaluated category ids.
        video_ids (Sequence): evaluated videos.
        max_dets (Sequence[int]): detection limits.
        bands (Sequence): ``(name, (lo, hi))`` pairs, inclusive.
    """

    def __init__(self,
                 gts: List[dict],
                 dts: List[dict],
                 cat_ids: Sequence[int],
                 video_ids: Sequence,
                 max_dets: Sequence[int] = MAX_DETS,
                 bands: Sequence = OCCLUSION_BANDS) -> None:
        by_video = defaultdict(list)
        for g in gts:
            by_video[g['video_id']].append(g)
        scored = []
        for tracks in by_video.values():
            for g, s in zip(tracks, video_occlusion_scores(tracks)):
                scored.append(dict(g, occlusion_score=float(s)))
        super().__init__(scored, dts, cat_ids, video_ids, max_dets)
        self.band_names = [name for name, _ in bands]
        self.area_ranges = [tuple(rng) for _, rng in bands]

    def _range_ignores(self, gts: List[dict], gt_avg: np.ndarray,
                       dt_avg: np.ndarray) -> List[tuple]:
        occ = np.array([g['occlusion_score'] for g in gts], dtype=np.float64)
        never = np.zeros(len(dt_avg), dtype=bool)
        return [((occ < lo) | (occ > hi), never)
                for lo, hi in self.area_ranges]

    def summarize(self, video_ids: Optional[Sequence] = None) -> dict:
        """AP (IoU .50:.95, largest maxDets) per band.

        Args:
            video_ids (Sequence, optional): videos to pool (default all).

        Returns:
            dict[str, float]: band name -> AP, -1 where no GT is in it.
        """
        precision = self.accumulate(video_ids)['precision']
        return {
            name: _mean_defined(precision[:, :, :, b, -1])
            for b, name in enumerate(self.band_names)
        }

    def band_counts(self, video_ids: Optional[Sequence] = None) -> dict:
        """Number of (non-crowd) GT tracks per band in these videos."""
        wanted = None if video_ids is None else set(video_ids)
        counts = {name: 0 for name in self.band_names}
        for (vid, _), gts in self._gts.items():
            if wanted is not None and vid not in wanted:
                continue
            for g in gts:
                if g.get('iscrowd', 0):
                    continue
                for name, (lo, hi) in zip(self.band_names,
                                          self.area_ranges):
                    if lo <= g['occlusion_score'] <= hi:
                        counts[name] += 1
        return counts
