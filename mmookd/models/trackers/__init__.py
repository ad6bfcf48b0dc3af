# Copyright (c) mmookd authors. All rights reserved.
from .idol_tracker import IDOLTracker

__all__ = ['IDOLTracker']
