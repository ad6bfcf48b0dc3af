# Copyright (c) mmookd authors. All rights reserved.
from .idol import IDOL
from .offline_teacher import OfflineTeacher, TrainableOptimWrapperConstructor
from .ookd import OOKD

__all__ = [
    'IDOL', 'OfflineTeacher', 'TrainableOptimWrapperConstructor', 'OOKD'
]
