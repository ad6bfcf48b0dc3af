# Copyright (c) mmookd authors. All rights reserved.
from .idol_tracker import IDOLTracker
from .tracker_grouping import TrackerGrouping

__all__ = ['IDOLTracker', 'TrackerGrouping']
