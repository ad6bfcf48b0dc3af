# Copyright (c) mmookd authors. All rights reserved.
from .trainable_constructor import TrainableOptimWrapperConstructor

__all__ = ['TrainableOptimWrapperConstructor']
