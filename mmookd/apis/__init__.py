# Copyright (c) mmookd authors. All rights reserved.
"""User-facing inference: :class:`VISInferencer` and video rendering."""
from .frame_sources import (FrameSource, VideoInputError, list_frame_files,
                            open_frames, to_bgr_frame)
from .inferencer import FrameResult, VISInferencer, build_frame_pipeline
from .video_render import TrackDrawer, VideoWriter, render_video

__all__ = [
    'VISInferencer', 'FrameResult', 'FrameSource', 'VideoInputError',
    'open_frames', 'to_bgr_frame', 'list_frame_files', 'build_frame_pipeline',
    'TrackDrawer', 'VideoWriter', 'render_video'
]
