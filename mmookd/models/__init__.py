# Copyright (c) mmookd authors. All rights reserved.
from . import (dense_heads, layers, losses, task_modules,  # noqa: F401
               trackers, vis)
