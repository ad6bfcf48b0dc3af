# Copyright (c) mmookd authors. All rights reserved.
from .idol_head import IDOLHead

__all__ = ['IDOLHead']
