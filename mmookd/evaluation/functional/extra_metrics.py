# Copyright (c) mmookd authors. All rights reserved.
"""The optional figures of ``VISMetric`` beside the video AP.

Each evaluator here is built once per evaluation on the same GT and
predicted tracks as the AP, and gives its ``segm_*`` values for any set of
videos (the pooled values and each subset), so that ``VISMetric`` treats
them exactly as its AP keys (subset prefixes, subset means, rounding).
"""
from collections import OrderedDict
from typing import List, Optional, Sequence

from .occlusion import OCCLUSION_BANDS, OcclusionEvaluator
from .track_eval import TRACK_ITEMS, TrackEvaluator


class TrackMetrics:
    """``segm_HOTA, segm_DetA, segm_AssA, segm_LocA, segm_IDF1, segm_IDSW``
    (TrackEval, see :mod:`.track_eval`)."""

    summary_keys = tuple(f'segm_{k}' for k in TRACK_ITEMS)

    def __init__(self, gts, dts, cat_ids, video_ids, score_thr=None):
        self.evaluator = TrackEvaluator(gts, dts, cat_ids, video_ids,
                                        score_thr)
        self.evaluator.evaluate()

    def summary(self, video_ids: Optional[Sequence] = None) -> OrderedDict:
        values = self.evaluator.summarize(video_ids)
        return OrderedDict((f'segm_{k}', v) for k, v in values.items())


class OcclusionAP:
    """``segm_mAP_occ_light, segm_mAP_occ_medium, segm_mAP_occ_heavy``
    (OVIS's occlusion bands, see :mod:`.occlusion`)."""

    summary_keys = tuple(f'segm_mAP_occ_{name}'
                         for name, _ in OCCLUSION_BANDS)

    def __init__(self, gts, dts, cat_ids, video_ids):
        self.evaluator = OcclusionEvaluator(gts, dts, cat_ids, video_ids)
        self.evaluator.evaluate(progress=len(video_ids) >= 50)

    def summary(self, video_ids: Optional[Sequence] = None) -> OrderedDict:
        values = self.evaluator.summarize(video_ids)
        return OrderedDict(
            (f'segm_mAP_occ_{k}', v) for k, v in values.items())


def build_extra_evaluators(gts: List[dict],
                           dts: List[dict],
                           cat_ids: Sequence[int],
                           video_ids: Sequence,
                           track_metrics: bool = False,
                           track_score_thr: Optional[float] = None,
                           occlusion_levels: bool = False) -> list:
    """The evaluated extra figures that are switched on.

    Args:
        gts (list[dict]): GT tracks (as for ``YTVISEvaluator``).
        dts (list[dict]): predicted tracks.
        cat_ids (Sequence[int]): evaluated category ids.
        video_ids (Sequence): evaluated videos.
        track_metrics (bool): HOTA & co (:class:`TrackMetrics`).
        track_score_thr (float, optional): their prediction score floor.
        occlusion_levels (bool): occlusion-band AP (:class:`OcclusionAP`).

    Returns:
        list: objects with ``summary_keys`` and ``summary(video_ids)``.
    """
    extras = []
    if track_metrics:
        extras.append(
            TrackMetrics(gts, dts, cat_ids, video_ids, track_score_thr))
    if occlusion_levels:
        extras.append(OcclusionAP(gts, dts, cat_ids, video_ids))
    return extras
