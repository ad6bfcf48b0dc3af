# Copyright (c) mmookd authors. All rights reserved.
from . import transforms  # noqa: F401
