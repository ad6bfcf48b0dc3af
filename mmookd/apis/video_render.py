# Copyright (c) mmookd authors. All rights reserved.
"""Draw per-frame tracks with mmdet's TrackLocalVisualizer and write a video.

:func:`render_video` is what ``demo/video_demo.py`` runs: it streams a video
through a :class:`~mmookd.apis.VISInferencer`, draws masks, track ids,
class names and scores on every frame, writes an mp4 (and optionally PNG
frames), shows progress and returns the timing.
"""
import itertools
import os
import os.path as osp
import sys
import time
from typing import Callable, Dict, Iterable, Optional, Sequence

import cv2
import numpy as np
import torch
from mmengine.structures import InstanceData

from .frame_sources import FrameInput, VideoInputError, open_frames
from .inferencer import FrameResult, VISInferencer

__all__ = ['TrackDrawer', 'VideoWriter', 'render_video']

_instances = itertools.count()


class TrackDrawer:
    """Draw a :class:`FrameResult` with mmdet's ``TrackLocalVisualizer``.

    Masks (one colour per track id), boxes and ``class / id | score`` labels
    are drawn by mmdet's visualizer; small frames are enlarged first (masks
    with nearest-neighbour, boxes scaled), so that the labels stay legible.

    Args:
        class_names (Sequence[str]): Names of the classes.
        min_size (int): Frames whose short side is smaller are enlarged by
            an integer factor to at least this. 0 keeps the size. Defaults
            to 0.
        alpha (float): Mask and box opacity. Defaults to 0.5.
        line_width (float): Box line width. Defaults to 2.
    """

    def __init__(self,
                 class_names: Sequence[str] = (),
                 min_size: int = 0,
                 alpha: float = 0.5,
                 line_width: float = 2) -> None:
        from mmdet.visualization import TrackLocalVisualizer
        self.visualizer = TrackLocalVisualizer(
            name=f'mmookd_video_render_{next(_instances)}',
            line_width=line_width,
            alpha=alpha)
        self.visualizer.dataset_meta = dict(classes=tuple(class_names))
        self.min_size = int(min_size)

    def scale_for(self, height: int, width: int) -> int:
        """Integer enlargement of a ``height x width`` frame."""
        short = min(height, width)
        if self.min_size <= 0 or short >= self.min_size:
            return 1
        return int(np.ceil(self.min_size / short))

    def draw(self, result: FrameResult) -> np.ndarray:
        """Draw the tracks of one frame.

        Args:
            result (:obj:`FrameResult`): Image and tracks of the frame.

        Returns:
            np.ndarray: (s H, s W, 3) uint8 BGR, ``s`` from
            :meth:`scale_for`.
        """
        image = result.image
        scale = self.scale_for(*image.shape[:2])
        masks = result.masks
        bboxes = result.bboxes
        if scale > 1:
            image = cv2.resize(
                image, (image.shape[1] * scale, image.shape[0] * scale),
                interpolation=cv2.INTER_LINEAR)
            masks = masks.repeat(scale, axis=1).repeat(scale, axis=2)
            bboxes = bboxes * scale
        instances = InstanceData(
            instances_id=torch.from_numpy(result.track_ids),
            labels=torch.from_numpy(result.labels),
            scores=torch.from_numpy(result.scores),
            bboxes=torch.from_numpy(np.ascontiguousarray(bboxes)),
            masks=torch.from_numpy(np.ascontiguousarray(masks)))
        rgb = np.ascontiguousarray(image[..., ::-1])
        if len(instances) == 0:
            return image.copy()
        drawn = self.visualizer._draw_instances(rgb, instances)
        return np.ascontiguousarray(drawn[..., ::-1])


class VideoWriter:
    """An mp4 writer (OpenCV) that opens at the first frame.

    Frames of another size than the first are resized to it.

    Args:
        path (str): Output file (its folder is created).
        fps (float): Frame rate. Defaults to 10.
        fourcc (str): Codec. Defaults to ``'mp4v'``.
    """

    def __init__(self, path: str, fps: float = 10.0,
                 fourcc: str = 'mp4v') -> None:
        self.path = path
        self.fps = float(fps)
        self.fourcc = fourcc
        self._writer = None
        self.size = None
        self.num_frames = 0

    def write(self, frame: np.ndarray) -> None:
        """Append a (H, W, 3) uint8 BGR frame."""
        if self._writer is None:
            folder = osp.dirname(osp.abspath(self.path))
            os.makedirs(folder, exist_ok=True)
            self.size = (frame.shape[1], frame.shape[0])
            self._writer = cv2.VideoWriter(
                self.path, cv2.VideoWriter_fourcc(*self.fourcc), self.fps,
                self.size)
            if not self._writer.isOpened():
                raise OSError(f'Cannot write the video {self.path!r} with '
                              f'codec {self.fourcc!r} (OpenCV)')
        if (frame.shape[1], frame.shape[0]) != self.size:
            frame = cv2.resize(frame, self.size)
        self._writer.write(frame)
        self.num_frames += 1

    def close(self) -> None:
        """Finish the file."""
        if self._writer is not None:
            self._writer.release()
            self._writer = None

    def __enter__(self) -> 'VideoWriter':
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _Progress:
    """A progress line on stderr: frame count, total if known, fps."""

    def __init__(self, total: Optional[int], interval: int = 10,
                 stream=None) -> None:
        self.total = total
        self.interval = max(1, interval)
        self.stream = sys.stderr if stream is None else stream
        self.start = time.perf_counter()

    def update(self, done: int, infer_s: float) -> None:
        if done % self.interval and done != self.total:
            return
        elapsed = time.perf_counter() - self.start
        total = f'/{self.total}' if self.total else ''
        model_fps = done / infer_s if infer_s > 0 else float('nan')
        self.stream.write(f'\r[{done}{total} frames] {elapsed:6.1f} s, model '
                          f'{model_fps:5.2f} fps, overall '
                          f'{done / max(elapsed, 1e-9):5.2f} fps')
        self.stream.flush()

    def finish(self) -> None:
        self.stream.write('\n')
        self.stream.flush()


def render_video(inferencer: VISInferencer,
                 inputs: FrameInput,
                 out: Optional[str] = None,
                 frames_out: Optional[str] = None,
                 frames_out_ids: Optional[Iterable[int]] = None,
                 fps: Optional[float] = None,
                 min_size: int = 0,
                 max_frames: Optional[int] = None,
                 progress_interval: int = 10,
                 on_frame: Optional[Callable[[FrameResult], None]] = None,
                 log: Callable[[str], None] = print) -> Dict:
    """Track a video, draw every frame and write the mp4 / PNG frames.

    Args:
        inferencer (:obj:`VISInferencer`): The model.
        inputs: Video file, frame folder, array or iterable of arrays.
        out (str, optional): Output ``.mp4``.
        frames_out (str, optional): Folder for drawn frames as PNG
            (``{frame_id:06d}.png``).
        frames_out_ids (Iterable[int], optional): Only these frames go to
            ``frames_out`` (default: all).
        fps (float, optional): Frame rate of ``out``; default: the input
            video's, else 10.
        min_size (int): See :class:`TrackDrawer`.
        max_frames (int, optional): Stop after this many frames.
        progress_interval (int): Progress line every this many frames
            (0: none).
        on_frame (callable, optional): Called with every result.
        log (callable): Where the summary goes.

    Returns:
        dict: ``frames``, ``tracks`` (distinct track ids), ``seconds``
        (wall time), ``model_seconds`` (inference only), ``fps`` (overall)
        and ``model_fps``, ``out``, ``frames_out`` (PNG paths).

    Raises:
        VideoInputError: The input cannot be read or holds no frame.
    """
    source = open_frames(inputs)
    if out is None and frames_out is None and on_frame is None:
        raise ValueError('render_video: give out, frames_out or on_frame')
    total = source.num_frames
    if max_frames is not None:
        total = max_frames if total is None else min(total, max_frames)
    drawer = TrackDrawer(inferencer.class_names, min_size=min_size)
    writer = VideoWriter(out, fps or source.fps or 10.0) if out else None
    wanted = None if frames_out_ids is None else set(frames_out_ids)
    if frames_out:
        os.makedirs(frames_out, exist_ok=True)
    progress = _Progress(total, progress_interval) \
        if progress_interval > 0 else None
    pngs, track_ids = [], set()
    infer_s, done = 0.0, 0
    start = time.perf_counter()
    stream = inferencer(source)
    try:
        while max_frames is None or done < max_frames:
            t0 = time.perf_counter()
            try:
                result = next(stream)
            except StopIteration:
                break
            infer_s += time.perf_counter() - t0
            track_ids.update(result.track_ids.tolist())
            if on_frame is not None:
                on_frame(result)
            if writer is not None or frames_out:
                drawn = drawer.draw(result)
                if writer is not None:
                    writer.write(drawn)
                if frames_out and (wanted is None
                                   or result.frame_id in wanted):
                    path = osp.join(frames_out, f'{result.frame_id:06d}.png')
                    if not cv2.imwrite(path, drawn):
                        raise OSError(f'Cannot write the frame {path!r}')
                    pngs.append(path)
            done += 1
            if progress is not None:
                progress.update(done, infer_s)
    finally:
        stream.close()
        if writer is not None:
            writer.close()
        if progress is not None and done:
            progress.finish()
    if done == 0:
        raise VideoInputError(f'{source.name}: no frame to process')
    seconds = time.perf_counter() - start
    stats = dict(
        frames=done,
        tracks=len(track_ids),
        seconds=seconds,
        model_seconds=infer_s,
        fps=done / seconds,
        model_fps=done / infer_s if infer_s > 0 else float('nan'),
        out=out,
        frames_out=pngs)
    log(f'{done} frames, {len(track_ids)} tracks in {seconds:.1f} s: '
        f'{stats["fps"]:.2f} fps overall (drawing and writing included), '
        f'{stats["model_fps"]:.2f} fps for the model alone'
        f' on {inferencer.device}')
    if out:
        log(f'video written to {out}')
    if pngs:
        log(f'{len(pngs)} frames written to {frames_out}')
    return stats
