# Copyright (c) mmookd authors. All rights reserved.
from .clip_targets import clip_targets, clip_track_index, frame_gt_instances
from .idol_simota_assigner import IDOLSimOTAAssigner, dynamic_k_matching
from .qfa_assigner import LabelCrossEntropyCost, QFAAssigner
from .teacher_qfa import (TEACHER_BOXES, TEACHER_MATCHES, check_pick_filter,
                          filter_picks, teacher_frame_picks)
from .video_hungarian_assigner import VideoHungarianAssigner

__all__ = [
    'clip_targets', 'clip_track_index', 'frame_gt_instances',
    'IDOLSimOTAAssigner', 'dynamic_k_matching', 'LabelCrossEntropyCost',
    'QFAAssigner', 'VideoHungarianAssigner', 'TEACHER_BOXES',
    'TEACHER_MATCHES', 'teacher_frame_picks', 'check_pick_filter',
    'filter_picks'
]
