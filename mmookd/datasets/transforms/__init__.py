# Copyright (c) mmookd authors. All rights reserved.
from .loading import LoadVISFrame
from .minor_paste import BaseClipPaste, ClipPaste, MinorPaste
from .ookd_sampling import OOKDFrameSample
from .pseudo_video import PseudoVideoFromImage

__all__ = [
    'LoadVISFrame', 'BaseClipPaste', 'ClipPaste', 'MinorPaste',
    'PseudoVideoFromImage', 'OOKDFrameSample'
]
