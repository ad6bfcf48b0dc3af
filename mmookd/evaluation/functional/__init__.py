# Copyright (c) mmookd authors. All rights reserved.
from .ytvis_eval import (AREA_RANGES, IOU_THRS, MAX_DETS, REC_THRS,
                         SUMMARY_ITEMS, YTVISEvaluator, classwise_ap,
                         encode_masks, frame_areas, match_tracks, mean_area,
                         rle_areas, summarize, to_rle, video_iou)

__all__ = [
    'AREA_RANGES', 'IOU_THRS', 'MAX_DETS', 'REC_THRS', 'SUMMARY_ITEMS',
    'YTVISEvaluator', 'classwise_ap', 'encode_masks', 'frame_areas',
    'match_tracks', 'mean_area', 'rle_areas', 'summarize', 'to_rle',
    'video_iou'
]
