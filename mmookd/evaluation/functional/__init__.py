# Copyright (c) mmookd authors. All rights reserved.
from .extra_metrics import OcclusionAP, TrackMetrics, build_extra_evaluators
from .occlusion import (OCCLUSION_BANDS, OVIS_LEVEL_SCORES, OcclusionEvaluator,
                        box_overlap_rates, frame_bor, top_half_mean,
                        video_occlusion_scores)
from .track_errors import (ERROR_ITEMS, dataset_track_errors, frame_owners,
                           track_errors)
from .track_eval import TRACK_ITEMS, TrackEvaluator
from .ytvis_eval import (AREA_RANGES, IOU_THRS, MAX_DETS, REC_THRS,
                         SUMMARY_ITEMS, YTVISEvaluator, classwise_ap,
                         encode_masks, frame_areas, match_tracks, mean_area,
                         rle_areas, summarize, to_rle, video_iou)

__all__ = [
    'AREA_RANGES', 'IOU_THRS', 'MAX_DETS', 'REC_THRS', 'SUMMARY_ITEMS',
    'YTVISEvaluator', 'classwise_ap', 'encode_masks', 'frame_areas',
    'match_tracks', 'mean_area', 'rle_areas', 'summarize', 'to_rle',
    'video_iou', 'TRACK_ITEMS', 'TrackEvaluator', 'OCCLUSION_BANDS',
    'OVIS_LEVEL_SCORES', 'OcclusionEvaluator', 'box_overlap_rates',
    'frame_bor', 'top_half_mean', 'video_occlusion_scores', 'TrackMetrics',
    'OcclusionAP', 'build_extra_evaluators', 'ERROR_ITEMS',
    'dataset_track_errors', 'frame_owners', 'track_errors'
]
