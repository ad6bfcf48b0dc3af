# Copyright (c) mmookd authors. All rights reserved.
from .idol_head import IDOLHead
from .offline_teacher_head import OfflineTeacherHead, mask_boxes
from .offline_teacher_predict import OfflineVideoPredictMixin

__all__ = [
    'IDOLHead', 'OfflineTeacherHead', 'OfflineVideoPredictMixin', 'mask_boxes'
]
