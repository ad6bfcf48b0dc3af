# Copyright (c) mmookd authors. All rights reserved.
from .clip_augment import BoxesFromMasks, ClipRandomCrop, PadClipFrames
from .loading import LoadVISFrame
from .minor_paste import BaseClipPaste, ClipPaste, MinorPaste
from .ookd_sampling import OOKDFrameSample
from .pseudo_video import PseudoVideoFromImage

__all__ = [
    'LoadVISFrame', 'BaseClipPaste', 'ClipPaste', 'MinorPaste',
    'PseudoVideoFromImage', 'OOKDFrameSample', 'ClipRandomCrop',
    'BoxesFromMasks', 'PadClipFrames'
]
