# Copyright (c) mmookd authors. All rights reserved.
"""Class statistics of a VIS training set and Minor-Paste's Eq. 6.

One *instance* is one annotation track (a YouTube-VIS annotation, or one
``(video_id, instance_id)`` pair of an mmdet video ``data_list``), never a
per-frame box: a class whose objects stay long in their videos is not more
frequent than a class whose objects are short-lived.

With ``n_c`` the number of tracks of class ``c`` (``C`` classes):

* share ``p_c = n_c / sum_c n_c``;
* paste probability (OOKD, Eq. 6)
  ``p^s_c = k (max p - p_c) / (max p - min p)``, where max and min run over
  the classes *present* (``n_c > 0``). The most frequent class gets 0, the
  rarest present class gets ``k``;
* minor classes: present classes with ``p_c < minor_thr``.

Edge cases (documented in ``docs/minor_paste.md``):

* A class with no track has share 0, paste probability 0 and is not minor:
  there is nothing to paste, and leaving it out of the min keeps the rarest
  *present* class at ``k`` as in the paper.
* If every present class has the same share (``max p == min p``, e.g. one
  class only, or a balanced set), Eq. 6 is 0/0; there is no imbalance to
  correct and every paste probability is 0.
* An empty set (no track at all) has all shares, probabilities and minor
  flags 0 / False.
"""
import json
from collections import OrderedDict
from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Sequence

import numpy as np


@dataclass
class ClassStats:
    """Per-class statistics of a training set (``C`` classes).

    Attributes:
        names (tuple[str]): Class names, ``(C,)``.
        ids (tuple[int]): Category ids as in the annotation file
            (1-based for YouTube-VIS), ``(C,)``; label ``i`` is ``ids[i]``.
        counts (np.ndarray): Number of instance tracks, ``(C,)`` int64.
        shares (np.ndarray): ``p_c``, ``(C,)`` float64, sums to 1 (or 0).
        paste_probs (np.ndarray): ``p^s_c`` of Eq. 6, ``(C,)`` float64.
        minor (np.ndarray): Minor-class flags, ``(C,)`` bool.
        k (float): The scale ``k`` of Eq. 6.
        minor_thr (float): The share below which a class is minor.
    """
    names: tuple
    ids: tuple
    counts: np.ndarray
    shares: np.ndarray
    paste_probs: np.ndarray
    minor: np.ndarray
    k: float
    minor_thr: float

    def to_rows(self) -> List[dict]:
        """Rows ``{id, name, count, share, paste_prob, minor}``, one a class.

        Returns:
            list[dict]: Plain Python values (JSON-serialisable).
        """
        return [
            dict(
                id=int(self.ids[i]),
                name=str(self.names[i]),
                count=int(self.counts[i]),
                share=float(self.shares[i]),
                paste_prob=float(self.paste_probs[i]),
                minor=bool(self.minor[i])) for i in range(len(self.names))
        ]


def class_shares(counts: Sequence[int]) -> np.ndarray:
    """Share of instance tracks per class.

    Args:
        counts (Sequence[int]): Track counts, ``(C,)``.

    Returns:
        np.ndarray: ``p_c``, ``(C,)`` float64; all zero if no track.
    """
    counts = np.asarray(counts, dtype=np.float64)
    if (counts < 0).any():
        raise ValueError(f'class counts must be >= 0, got {counts.tolist()}')
    total = counts.sum()
    if total == 0:
        return np.zeros_like(counts)
    return counts / total


def paste_probabilities(
        shares: Sequence[float],
        k: float = 0.7,
        present: Optional[Sequence[bool]] = None) -> np.ndarray:
    """OOKD Eq. 6: ``p^s_c = k (max p - p_c) / (max p - min p)``.

    Args:
        shares (Sequence[float]): ``p_c``, ``(C,)``.
        k (float): Scale of the probabilities; the rarest present class
            gets ``k``. Must lie in [0, 1]. Defaults to 0.7.
        present (Sequence[bool], optional): Which classes have instances,
            ``(C,)``. Defaults to ``shares > 0``.

    Returns:
        np.ndarray: ``p^s_c``, ``(C,)`` float64 in ``[0, k]``. Absent
        classes get 0; if ``max p == min p`` over the present classes every
        class gets 0.
    """
    if not 0.0 <= k <= 1.0:
        raise ValueError(f'k must lie in [0, 1], got {k}')
    shares = np.asarray(shares, dtype=np.float64)
    present = (shares > 0) if present is None else np.asarray(
        present, dtype=bool)
    probs = np.zeros_like(shares)
    if not present.any():
        return probs
    p_max = shares[present].max()
    p_min = shares[present].min()
    if p_max == p_min:
        return probs
    probs[present] = k * (p_max - shares[present]) / (p_max - p_min)
    return probs


def compute_class_stats(counts: Sequence[int],
                        names: Optional[Sequence[str]] = None,
                        ids: Optional[Sequence[int]] = None,
                        k: float = 0.7,
                        minor_thr: float = 0.1) -> ClassStats:
    """Shares, Eq. 6 paste probabilities and minor flags from track counts.

    Args:
        counts (Sequence[int]): Track counts per class, ``(C,)``.
        names (Sequence[str], optional): Class names. Defaults to
            ``'class_<i>'``.
        ids (Sequence[int], optional): Category ids. Defaults to
            ``1..C``.
        k (float): Scale of Eq. 6. Defaults to 0.7.
        minor_thr (float): A present class with share below this is
            minor. Defaults to 0.1.

    Returns:
        ClassStats: The statistics.
    """
    counts = np.asarray(counts, dtype=np.int64).reshape(-1)
    num_classes = len(counts)
    names = tuple(names) if names is not None else tuple(
        f'class_{i}' for i in range(num_classes))
    ids = tuple(ids) if ids is not None else tuple(range(1, num_classes + 1))
    if len(names) != num_classes or len(ids) != num_classes:
        raise ValueError(f'{num_classes} counts but {len(names)} names and '
                         f'{len(ids)} ids')
    shares = class_shares(counts)
    present = counts > 0
    return ClassStats(
        names=names,
        ids=ids,
        counts=counts,
        shares=shares,
        paste_probs=paste_probabilities(shares, k, present),
        minor=present & (shares < minor_thr),
        k=float(k),
        minor_thr=float(minor_thr))


def _track_is_visible(ann: dict) -> bool:
    """Whether a YouTube-VIS annotation has at least one annotated frame."""
    for key in ('segmentations', 'bboxes'):
        frames = ann.get(key)
        if frames is not None and any(f is not None for f in frames):
            return True
    return False


def count_tracks_ytvis(ann: dict, ann_file: str = '<dict>') -> ClassStats:
    """Count the instance tracks of a YouTube-VIS format annotation dict.

    One annotation is one track. Crowd tracks (``iscrowd=1``) and tracks
    without any annotated frame are not counted.

    Args:
        ann (dict): The loaded JSON (``videos``, ``annotations``,
            ``categories``).
        ann_file (str): The file name, for error messages.

    Returns:
        ClassStats: Statistics with default ``k``/``minor_thr``; use
        :func:`ytvis_class_stats` to choose them. Classes are the
        ``categories`` sorted by id.
    """
    for key in ('annotations', 'categories'):
        if key not in ann:
            raise KeyError(f'{ann_file}: no "{key}" in the annotation file')
    cats = sorted(ann['categories'], key=lambda c: c['id'])
    cat2label = {c['id']: i for i, c in enumerate(cats)}
    counts = np.zeros(len(cats), dtype=np.int64)
    for a in ann['annotations']:
        if a['category_id'] not in cat2label:
            raise ValueError(f'{ann_file}: annotation {a.get("id")} has '
                             f'unknown category_id {a["category_id"]}')
        if a.get('iscrowd', 0) or not _track_is_visible(a):
            continue
        counts[cat2label[a['category_id']]] += 1
    return compute_class_stats(
        counts, names=[c['name'] for c in cats], ids=[c['id'] for c in cats])


def ytvis_class_stats(ann_file: str,
                      k: float = 0.7,
                      minor_thr: float = 0.1) -> ClassStats:
    """Class statistics of a YouTube-VIS format JSON file.

    Args:
        ann_file (str): Path of the JSON file.
        k (float): Scale of Eq. 6. Defaults to 0.7.
        minor_thr (float): Share below which a class is minor.
            Defaults to 0.1.

    Returns:
        ClassStats: The statistics (one instance = one annotation).
    """
    with open(ann_file) as f:
        ann = json.load(f)
    base = count_tracks_ytvis(ann, ann_file)
    return compute_class_stats(
        base.counts, base.names, base.ids, k=k, minor_thr=minor_thr)


def video_tracks(video_info: dict) -> Dict[int, int]:
    """The instance tracks of one video of an mmdet video ``data_list``.

    Args:
        video_info (dict): ``{video_id, video_length, images: [frame dicts
            with 'instances': [{instance_id, bbox_label, ignore_flag?}]]}``.

    Returns:
        dict[int, int]: ``instance_id -> label`` (0-based) for every track
        that is not ignored in at least one frame, in order of first
        appearance.

    Raises:
        ValueError: If a track changes its label within the video.
    """
    tracks: Dict[int, int] = OrderedDict()
    for frame_idx, frame in enumerate(video_info.get('images', [])):
        for inst in frame.get('instances', []):
            if inst.get('ignore_flag', 0):
                continue
            iid, label = int(inst['instance_id']), int(inst['bbox_label'])
            if tracks.setdefault(iid, label) != label:
                raise ValueError(
                    f'video {video_info.get("video_id")}, frame index '
                    f'{frame_idx}: instance {iid} has label {label} but '
                    f'{tracks[iid]} in an earlier frame')
    return tracks


def count_tracks_data_list(video_infos: Iterable[dict],
                           num_classes: int) -> np.ndarray:
    """Count the instance tracks of an mmdet video ``data_list``.

    Args:
        video_infos (Iterable[dict]): One dict per video (see
            :func:`video_tracks`).
        num_classes (int): Number of classes ``C``.

    Returns:
        np.ndarray: Track counts per label, ``(C,)`` int64.
    """
    counts = np.zeros(num_classes, dtype=np.int64)
    for info in video_infos:
        for iid, label in video_tracks(info).items():
            if not 0 <= label < num_classes:
                raise ValueError(f'video {info.get("video_id")}: instance '
                                 f'{iid} has label {label} outside '
                                 f'[0, {num_classes})')
            counts[label] += 1
    return counts
