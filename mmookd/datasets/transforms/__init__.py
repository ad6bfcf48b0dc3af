# Copyright (c) mmookd authors. All rights reserved.
from .loading import LoadVISFrame

__all__ = ['LoadVISFrame']
