# Copyright (c) mmookd authors. All rights reserved.
from .idol import IDOL
from .mask2former_teacher import Mask2FormerVISTeacher
from .offline_teacher import OfflineTeacher, TrainableOptimWrapperConstructor
from .ookd import OOKD

__all__ = [
    'IDOL', 'Mask2FormerVISTeacher', 'OfflineTeacher',
    'TrainableOptimWrapperConstructor', 'OOKD'
]
