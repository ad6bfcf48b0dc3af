# Copyright (c) mmookd authors. All rights reserved.
from .idol import IDOL

__all__ = ['IDOL']
