# Copyright (c) mmookd authors. All rights reserved.
from .hooks import RNGStateHook

__all__ = ['RNGStateHook']
