# Copyright (c) mmookd authors. All rights reserved.
"""Where a VIS model's association breaks: per ground-truth track, which
predicted track covers it in each frame.

HOTA's AssA and IDF1 say *how much* association is lost; this says *how*.
For every GT track ``g`` and every frame ``t`` where ``g`` is present, the
**owner** of ``(g, t)`` is the predicted track whose mask in ``t`` has the
highest IoU with ``g``'s, if that IoU is at least ``iou_thr`` (else the
frame is *missed*); classes are ignored (association only, where HOTA
matches per class). Per GT track:

- ``coverage``: share of its present frames that have an owner;
- ``switches``: how many times the owner changes between consecutive owned
  frames (an identity switch, from masks alone);
- ``purity``: share of its owned frames owned by its **main** track (the
  most frequent owner);
- ``spill``: share of its *absent* frames (inside the video) where its main
  track still paints a mask (the track does not say "not here"); tracks
  present in every frame have no absent frames and do not enter it.

Predictions below ``score_thr`` are left out (0: all, as HOTA here). The
rates are averaged over GT tracks (``spill`` over the tracks with absent
frames); ``switches`` is also given per 100 owned frames.

Shape shorthand: a video of ``T`` frames; a track is a list of ``T``
per-frame compressed RLEs (None where empty / absent).
"""
from typing import Dict, List, Optional, Sequence

import numpy as np
from pycocotools import mask as mask_utils

from .ytvis_eval import to_rle

ERROR_ITEMS = ('coverage', 'switches', 'switches_per_100', 'purity', 'spill')


def frame_owners(gt: Sequence[Optional[dict]],
                 preds: Sequence[Sequence[Optional[dict]]],
                 iou_thr: float = 0.5) -> List[Optional[int]]:
    """The owner of a GT track in each frame.

    Args:
        gt (Sequence[dict | None]): (T, ) RLEs of the GT track.
        preds (Sequence[Sequence[dict | None]]): (P, T) RLEs of the
            predicted tracks.
        iou_thr (float): Minimum mask IoU of an owner. Defaults to 0.5.

    Returns:
        list[int | None]: (T, ) index of the owning predicted track; None
        where the GT is absent or no prediction reaches ``iou_thr``.
    """
    owners: List[Optional[int]] = []
    for t, g in enumerate(gt):
        if g is None:
            owners.append(None)
            continue
        inds = [p for p, pred in enumerate(preds) if pred[t] is not None]
        if not inds:
            owners.append(None)
            continue
        ious = mask_utils.iou([preds[p][t] for p in inds], [g], [0])[:, 0]
        best = int(np.argmax(ious))
        owners.append(inds[best] if ious[best] >= iou_thr else None)
    return owners


def track_errors(gt: Sequence[Optional[dict]],
                 preds: Sequence[Sequence[Optional[dict]]],
                 iou_thr: float = 0.5) -> Dict[str, Optional[float]]:
    """The error figures of one GT track (module docstring).

    Returns:
        dict: ``coverage``, ``switches`` (count), ``purity`` (None when no
        frame is owned), ``spill`` (None without absent frames, or without
        a main track), ``owned`` (frames with an owner), ``present``.
    """
    owners = frame_owners(gt, preds, iou_thr)
    present = [t for t, g in enumerate(gt) if g is not None]
    owned = [o for o in owners if o is not None]
    switches = sum(1 for a, b in zip(owned, owned[1:]) if a != b)
    main = max(set(owned), key=owned.count) if owned else None
    purity = owned.count(main) / len(owned) if owned else None
    absent = [t for t, g in enumerate(gt) if g is None]
    spill = None
    if absent and main is not None:
        spill = sum(preds[main][t] is not None for t in absent) / len(absent)
    return dict(
        coverage=len(owned) / len(present) if present else None,
        switches=switches,
        purity=purity,
        spill=spill,
        owned=len(owned),
        present=len(present))


def _mean(values) -> Optional[float]:
    values = [v for v in values if v is not None]
    return float(np.mean(values)) if values else None


def dataset_track_errors(gt_json: dict,
                         results: List[dict],
                         score_thr: float = 0.0,
                         iou_thr: float = 0.5,
                         video_ids: Optional[Sequence[int]] = None) -> Dict:
    """:func:`track_errors` over every GT track of a YouTube-VIS style
    annotation dict and a results list (``video_id``, ``score``,
    ``segmentations``), averaged (module docstring).

    Args:
        gt_json (dict): ``videos`` and ``annotations`` (with
            ``segmentations``: RLE, polygons or None per frame).
        results (list[dict]): The predicted tracks.
        score_thr (float): Predictions below it are left out.
        iou_thr (float): Minimum mask IoU of an owner.
        video_ids (Sequence[int], optional): Only these videos.

    Returns:
        dict: ``tracks`` (GT tracks counted) and :data:`ERROR_ITEMS`.
    """
    videos = {v['id']: v for v in gt_json['videos']}
    keep = set(videos) if video_ids is None else set(video_ids)
    preds: Dict[int, List[List[Optional[dict]]]] = {}
    for res in results:
        if res['video_id'] not in keep or res.get('score', 1.0) < score_thr:
            continue
        video = videos.get(res['video_id'])
        if video is None:
            raise KeyError(f'results: video_id {res["video_id"]} is not in '
                           'the annotation file')
        h, w = video['height'], video['width']
        segms = list(res['segmentations'])
        if len(segms) != video['length']:
            raise ValueError(
                f'results: video {res["video_id"]} has {video["length"]} '
                f'frames, a predicted track has {len(segms)}')
        preds.setdefault(res['video_id'],
                         []).append([to_rle(s, h, w) for s in segms])
    rows = []
    for ann in gt_json['annotations']:
        if ann['video_id'] not in keep:
            continue
        video = videos[ann['video_id']]
        gt = [
            to_rle(s, video['height'], video['width'])
            for s in ann['segmentations']
        ]
        rows.append(track_errors(gt, preds.get(ann['video_id'], []), iou_thr))
    owned = sum(r['owned'] for r in rows)
    switches = sum(r['switches'] for r in rows)
    return dict(
        tracks=len(rows),
        coverage=_mean(r['coverage'] for r in rows),
        switches=_mean(r['switches'] for r in rows),
        switches_per_100=100.0 * switches / owned if owned else None,
        purity=_mean(r['purity'] for r in rows),
        spill=_mean(r['spill'] for r in rows))
