# Copyright (c) mmookd authors. All rights reserved.
"""Diagnostics of the knowledge OOKD distills (QFA picks and targets).

Each function takes plain per-row records, one row per (video, frame, GT
instance), so that a teacher's and a student's picks are measured the same
way (``tools/analysis_tools/teacher_knowledge.py``):

- :func:`pick_quality`: share of frame-GTs whose pick has box IoU >= 0.5
  with the GT *and* the GT's class (a GT without a pick counts as a miss).
- :func:`collision_rate`: share of frames with >= 2 picked GTs in which two
  GTs share one pick.
- :func:`switch_rate`: share of tracks picked in >= 2 frames whose pick is
  not the same query in all of them.
- :func:`separation`: cosine similarities of the targets of same-instance
  pairs and of different-instance pairs of one video, and the AUC: the
  probability that a same pair is more similar than a different one (ties
  count one half).

Worked example (one video, one frame, GTs 1 and 2 both pick query 4)::

    collision_rate: 1 frame with 2 picked GTs, which collide -> 1.0
"""
from collections import defaultdict
from typing import Dict, List, Sequence

import numpy as np
from scipy.stats import rankdata


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise IoU of xyxy boxes, (n, 4) x (n, 4) -> (n, )."""
    a = np.asarray(a, float).reshape(-1, 4)
    b = np.asarray(b, float).reshape(-1, 4)
    lt = np.maximum(a[:, :2], b[:, :2])
    rb = np.minimum(a[:, 2:], b[:, 2:])
    inter = np.clip(rb - lt, 0, None).prod(1)
    area_a = np.clip(a[:, 2:] - a[:, :2], 0, None).prod(1)
    area_b = np.clip(b[:, 2:] - b[:, :2], 0, None).prod(1)
    union = area_a + area_b - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def pick_quality(picked: Sequence[bool], pred_boxes: np.ndarray,
                 pred_labels: Sequence[int], gt_boxes: np.ndarray,
                 gt_labels: Sequence[int], iou_thr: float = 0.5) -> float:
    """Share of rows whose pick localises and classifies the GT.

    Args:
        picked (Sequence[bool]): (n, ) the GT got a pick.
        pred_boxes (np.ndarray): (n, 4) xyxy box of the pick (any value
            where not picked).
        pred_labels (Sequence[int]): (n, ) the pick's class.
        gt_boxes (np.ndarray): (n, 4) xyxy.
        gt_labels (Sequence[int]): (n, ).
        iou_thr (float): IoU threshold. Defaults to 0.5.

    Returns:
        float: in [0, 1]; nan for no rows.
    """
    picked = np.asarray(picked, bool)
    if picked.size == 0:
        return float('nan')
    iou = box_iou(pred_boxes, gt_boxes)
    good = picked & (iou >= iou_thr) & (
        np.asarray(pred_labels) == np.asarray(gt_labels))
    return float(good.mean())


def collision_rate(frames: Sequence[Sequence[int]]) -> float:
    """Share of frames (>= 2 picked GTs) where two GTs share a pick.

    Args:
        frames (Sequence[Sequence[int]]): per frame, the pick of each of its
            GTs (-1: no pick; ignored).

    Returns:
        float: in [0, 1]; nan when no frame has 2 picked GTs.
    """
    counted = collided = 0
    for picks in frames:
        picks = [p for p in picks if p >= 0]
        if len(picks) < 2:
            continue
        counted += 1
        collided += len(set(picks)) < len(picks)
    return collided / counted if counted else float('nan')


def switch_rate(tracks: Dict[tuple, List[int]]) -> float:
    """Share of tracks (>= 2 picked frames) whose pick changes.

    Args:
        tracks (dict): ``{(video, instance): [pick of each frame]}`` (-1:
            no pick; ignored).

    Returns:
        float: in [0, 1]; nan when no track has 2 picked frames.
    """
    counted = switched = 0
    for picks in tracks.values():
        picks = [p for p in picks if p >= 0]
        if len(picks) < 2:
            continue
        counted += 1
        switched += len(set(picks)) > 1
    return switched / counted if counted else float('nan')


def separation(feats: Dict[tuple, List[np.ndarray]]) -> Dict[str, list]:
    """Cosine similarities of same-instance and same-video pairs.

    Args:
        feats (dict): ``{(video, instance): [feature (C, ) per frame]}``.

    Returns:
        dict: ``same`` (pairs of frames of one instance) and ``different``
        (pairs of frames of two instances of one video), lists of float.
    """
    same, diff = [], []
    by_video = defaultdict(list)
    for (video, _), vectors in feats.items():
        x = np.stack(vectors).astype(np.float64)
        x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
        by_video[video].append(x)
        sims = x @ x.T
        same.extend(sims[np.triu_indices(len(x), k=1)].tolist())
    for instances in by_video.values():
        for i in range(len(instances)):
            for j in range(i + 1, len(instances)):
                diff.extend((instances[i] @ instances[j].T).ravel().tolist())
    return dict(same=same, different=diff)


def auc(same: Sequence[float], diff: Sequence[float]) -> float:
    """P(a same pair is more similar than a different pair), ties 1/2."""
    if len(same) == 0 or len(diff) == 0:
        return float('nan')
    ranks = rankdata(np.concatenate([same, diff]))  # average ranks on ties
    n_same, n_diff = len(same), len(diff)
    return float((ranks[:n_same].sum() - n_same * (n_same + 1) / 2) /
                 (n_same * n_diff))
