# Copyright (c) mmookd authors. All rights reserved.
from .functional import *  # noqa: F401,F403
from .vis_metric import VISMetric

__all__ = ['VISMetric']
