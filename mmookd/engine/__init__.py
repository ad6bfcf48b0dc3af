# Copyright (c) mmookd authors. All rights reserved.
from .hooks import RNGStateHook
from .optimizers import TrainableOptimWrapperConstructor

__all__ = ['RNGStateHook', 'TrainableOptimWrapperConstructor']
