# Copyright (c) mmookd authors. All rights reserved.
from . import (dense_heads, detectors, layers, losses,  # noqa: F401
               task_modules, trackers, vis)
