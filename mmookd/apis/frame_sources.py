# Copyright (c) mmookd authors. All rights reserved.
"""Frames of a video, read lazily from a file, a folder or arrays.

Every source yields ``(H, W, 3)`` uint8 BGR frames one at a time (as OpenCV
and mmcv read images), so a video of any length is never held in memory.
Grayscale frames (``(H, W)`` or ``(H, W, 1)``) become three equal channels
and BGRA frames lose their alpha channel.
"""
import os
import os.path as osp
import re
from typing import Any, Iterable, Iterator, List, Optional, Union

import cv2
import numpy as np

__all__ = [
    'IMAGE_EXTENSIONS', 'VIDEO_EXTENSIONS', 'VideoInputError', 'FrameSource',
    'open_frames', 'to_bgr_frame', 'list_frame_files'
]

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')
VIDEO_EXTENSIONS = ('.mp4', '.avi', '.mov', '.mkv', '.webm', '.m4v', '.mpg',
                    '.mpeg', '.wmv', '.flv')

FrameInput = Union[str, os.PathLike, np.ndarray, Iterable[np.ndarray]]


class VideoInputError(ValueError):
    """A video input that cannot be read; the message names the input."""


def _natural_key(name: str) -> List[Any]:
    """Sort key that orders ``2.jpg`` before ``10.jpg``."""
    return [int(s) if s.isdigit() else s.lower()
            for s in re.split(r'(\d+)', name)]


def list_frame_files(folder: str) -> List[str]:
    """The image files of a folder, in natural name order.

    Args:
        folder (str): A folder of frames (``IMAGE_EXTENSIONS``); other files
            and sub-folders are ignored.

    Returns:
        list[str]: Paths, ``frame_2.jpg`` before ``frame_10.jpg``.

    Raises:
        VideoInputError: The folder holds no image.
    """
    names = [
        n for n in os.listdir(folder)
        if n.lower().endswith(IMAGE_EXTENSIONS)
        and osp.isfile(osp.join(folder, n))
    ]
    if not names:
        raise VideoInputError(
            f'The frame folder {folder!r} holds no image (looked for '
            f'{", ".join(IMAGE_EXTENSIONS)}).')
    return [osp.join(folder, n) for n in sorted(names, key=_natural_key)]


def to_bgr_frame(frame: Any, index: int, where: str = 'input') -> np.ndarray:
    """Check one frame and bring it to ``(H, W, 3)`` uint8 BGR.

    Args:
        frame (np.ndarray): ``(H, W)``, ``(H, W, 1)``, ``(H, W, 3)`` BGR or
            ``(H, W, 4)`` BGRA, uint8.
        index (int): Frame index (for the message).
        where (str): Name of the input (for the message).

    Returns:
        np.ndarray: ``(H, W, 3)`` uint8, C-contiguous.

    Raises:
        VideoInputError: Not an array, not uint8, empty or of another shape.
    """
    if not isinstance(frame, np.ndarray):
        raise VideoInputError(
            f'{where}: frame {index} is a {type(frame).__name__}, expected '
            'a numpy array of shape (H, W), (H, W, 1), (H, W, 3) or '
            '(H, W, 4)')
    if frame.dtype != np.uint8:
        raise VideoInputError(
            f'{where}: frame {index} has dtype {frame.dtype}, expected uint8 '
            '(0..255); convert it, e.g. (x * 255).round().astype(np.uint8)')
    if frame.ndim == 3 and frame.shape[2] == 1:
        frame = frame[..., 0]
    if frame.ndim == 2:
        frame = np.repeat(frame[..., None], 3, axis=2)
    elif frame.ndim == 3 and frame.shape[2] == 4:
        frame = frame[..., :3]
    if frame.ndim != 3 or frame.shape[2] != 3:
        raise VideoInputError(
            f'{where}: frame {index} has shape {frame.shape}, expected (H, '
            'W), (H, W, 1), (H, W, 3) or (H, W, 4)')
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise VideoInputError(
            f'{where}: frame {index} is empty (shape {frame.shape})')
    return np.ascontiguousarray(frame)


class FrameSource:
    """An iterable over the frames of one video, read lazily.

    Args:
        inputs: One of

            - a video file path (anything OpenCV decodes: mp4, avi, ...);
            - a folder of frame images, read in natural name order;
            - a ``(T, H, W[, C])`` uint8 array;
            - an iterable (list, generator) of ``(H, W[, C])`` uint8 arrays.

    Attributes:
        name (str): The input, for messages and output names.
        kind (str): ``'video'``, ``'folder'`` or ``'arrays'``.
        num_frames (int | None): Frames, if known before reading (a folder,
            an array, a list; OpenCV's frame count of a file, which some
            containers get wrong, so it is only a hint).
        fps (float | None): Frame rate of a video file.

    Raises:
        VideoInputError: The path does not exist, is not a video or a
            folder of images, cannot be opened, or holds no frame.
    """

    def __init__(self, inputs: FrameInput) -> None:
        self.fps: Optional[float] = None
        self.num_frames: Optional[int] = None
        self._files: Optional[List[str]] = None
        self._arrays = None
        if isinstance(inputs, (str, os.PathLike)):
            path = os.fspath(inputs)
            self.name = path
            if not osp.exists(path):
                raise VideoInputError(
                    f'The video input {path!r} does not exist.')
            if osp.isdir(path):
                self.kind = 'folder'
                self._files = list_frame_files(path)
                self.num_frames = len(self._files)
            else:
                self.kind = 'video'
                self._probe_video(path)
        elif isinstance(inputs, np.ndarray):
            self.kind = 'arrays'
            self.name = f'array of shape {inputs.shape}'
            if inputs.ndim not in (3, 4):
                raise VideoInputError(
                    f'A video array must be (T, H, W) or (T, H, W, C), got '
                    f'shape {inputs.shape}')
            if len(inputs) == 0:
                raise VideoInputError('The video array holds no frame '
                                      f'(shape {inputs.shape}).')
            self._arrays = inputs
            self.num_frames = len(inputs)
        elif isinstance(inputs, Iterable):
            self.kind = 'arrays'
            self.name = f'{type(inputs).__name__} of frames'
            self._arrays = inputs
            if hasattr(inputs, '__len__'):
                self.num_frames = len(inputs)
        else:
            raise VideoInputError(
                'The video input must be a video file, a folder of frames, '
                'an array or an iterable of arrays, got '
                f'{type(inputs).__name__}')

    def _probe_video(self, path: str) -> None:
        """Open a video file once: fail early if it is not decodable."""
        cap = cv2.VideoCapture(path)
        try:
            if not cap.isOpened():
                hint = ''
                if path.lower().endswith(IMAGE_EXTENSIONS):
                    hint = ' It is an image: pass the folder that holds it.'
                raise VideoInputError(
                    f'Cannot open the video file {path!r}: OpenCV cannot '
                    f'decode it (not a video, or an unsupported codec).{hint}')
            fps = cap.get(cv2.CAP_PROP_FPS)
            count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
            self.fps = float(fps) if fps and fps > 0 else None
            self.num_frames = count if count > 0 else None
        finally:
            cap.release()

    def __iter__(self) -> Iterator[np.ndarray]:
        if self.kind == 'video':
            return self._iter_video()
        if self.kind == 'folder':
            return self._iter_files()
        return self._iter_arrays()

    def _iter_video(self) -> Iterator[np.ndarray]:
        cap = cv2.VideoCapture(self.name)
        try:
            index = 0
            while True:
                ok, frame = cap.read()
                if not ok or frame is None:
                    break
                yield to_bgr_frame(frame, index, self.name)
                index += 1
        finally:
            cap.release()
        if index == 0:
            raise VideoInputError(
                f'The video file {self.name!r} holds no frame OpenCV can '
                'decode (empty or broken file).')

    def _iter_files(self) -> Iterator[np.ndarray]:
        for index, path in enumerate(self._files):
            frame = cv2.imread(path, cv2.IMREAD_COLOR)
            if frame is None:
                raise VideoInputError(
                    f'Cannot read frame {index} of the folder '
                    f'{osp.dirname(path)!r}: {osp.basename(path)!r} is not '
                    'a decodable image.')
            yield to_bgr_frame(frame, index, path)

    def _iter_arrays(self) -> Iterator[np.ndarray]:
        index = -1
        for index, frame in enumerate(self._arrays):
            yield to_bgr_frame(frame, index, self.name)
        if index < 0:
            raise VideoInputError(f'The {self.name} holds no frame.')


def open_frames(inputs: FrameInput) -> FrameSource:
    """A :class:`FrameSource` for ``inputs`` (returned as is if it is one)."""
    if isinstance(inputs, FrameSource):
        return inputs
    return FrameSource(inputs)
