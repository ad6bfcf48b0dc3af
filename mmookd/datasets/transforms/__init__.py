# Copyright (c) mmookd authors. All rights reserved.
from .loading import LoadVISFrame
from .minor_paste import BaseClipPaste, ClipPaste, MinorPaste
from .pseudo_video import PseudoVideoFromImage

__all__ = [
    'LoadVISFrame', 'BaseClipPaste', 'ClipPaste', 'MinorPaste',
    'PseudoVideoFromImage'
]
