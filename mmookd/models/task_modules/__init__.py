# Copyright (c) mmookd authors. All rights reserved.
from .idol_simota_assigner import IDOLSimOTAAssigner, dynamic_k_matching
from .qfa_assigner import LabelCrossEntropyCost, QFAAssigner
from .video_hungarian_assigner import VideoHungarianAssigner

__all__ = [
    'IDOLSimOTAAssigner', 'dynamic_k_matching', 'LabelCrossEntropyCost',
    'QFAAssigner', 'VideoHungarianAssigner'
]
