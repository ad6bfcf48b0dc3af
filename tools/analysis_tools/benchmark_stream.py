# Copyright (c) mmookd authors. All rights reserved.
"""Latency and memory of the online model on one endless video stream.

The model runs exactly as the test loop runs it: every frame goes through
the config's test pipeline (its image loading swapped for
``LoadImageFromNDArray``), ``pseudo_collate`` and ``model.test_step`` under
``torch.no_grad()``, one frame per call, with ``frame_id`` 0, 1, 2, ... and
``ori_video_length = N``. ``IDOL.predict`` thus resets the tracker at frame
0, runs the detector and ``IDOLTracker.track`` on every frame, and asks the
tracker for its video results after the last frame.

Frames (drawn before the stream starts, so neither drawing nor reading is
timed): by default one SynthVIS video of ``--clip-frames`` frames rendered
with the SynthVIS generator (moving, rotating, drifting shapes that cross,
occlude, leave and re-enter), JPEG-encoded and decoded once as the dataset
frames are, and played forwards and backwards (0, 1, ..., L-1, L-2, ..., 1,
0, 1, ...) so that motion stays continuous for any number of frames. With
``--frames-dir`` the JPEG/PNG files of a folder (e.g. one video of
``data/synthvis/val/JPEGImages``) are played the same way. The clip is cut
to the longest length ``L`` whose period ``2 (L - 1)`` divides
``N - early``, so that the two latency windows show the same frames (the
tracker's work depends on the frame's content: a trained model's number of
live tracks varies along the clip); 181 of the 200 rendered frames for the
defaults.

The tracker runs as configured for a stream: ``keep_video_results=False``
(nothing per frame and nothing per finished track is kept; the per-frame
results are what a stream consumes). ``--keep-video-results`` keeps the
config's value instead, so that the growth of the per-video RLE store can be
measured.

A randomly initialised IDOL scores every query about 0.01 (the focal prior),
below the tracker's thresholds: it times the network and the tracker's
candidate selection, but starts no track. Give a trained ``--checkpoint``
for a realistic stream, or ``--cls-bias`` (e.g. 2.0) to a random model to
force many candidates through the tracker (a stress test of its bounds).

Examples::

    python tools/analysis_tools/benchmark_stream.py
    python tools/analysis_tools/benchmark_stream.py \
        configs/idol/idol_r18-w32_1xb4-2k_synthvis.py \
        --checkpoint work_dirs/idol_synthvis/iter_2000.pth --frames 2000 --json

Measured: the median per-frame latency of ``test_step`` (data preprocessor
+ ``IDOL.predict``; wall clock, and process CPU time) over the ``--window``
frames up to frame ``--early-frame`` (200) and over the last ``--window``
frames up to frame N. On a shared CPU the load of other processes changes
from minute to minute and easily doubles a latency, so by default the early
window is timed on a second, fresh stream (same model, same frames, its own
tracker) whose frames are interleaved one by one with the last window of the
measured stream: both windows see the same load, and only the age of the
stream differs. ``--sequential`` times the early window on the measured
stream itself instead (also always reported, as ``latency_ratio_seq``).
Memory: the process RSS (``VmRSS`` of ``/proc/self/status``) and the number
of gc-tracked objects after ``--early-frame`` frames and after N frames
(after a full garbage collection; the fresh stream is gone by then), and
with ``--tracemalloc`` the Python heap traced since frame 0 (which slows
every frame down); the tracker's sizes (``IDOLTracker.memory_stats``) at
every frame. With ``--json`` the last line is one JSON object holding
``latency_ratio = lat(N) / lat(early)``, ``mem_ratio = rss(N) / rss(early)``
and the raw figures.
"""
import argparse
import copy
import gc
import glob
import json
import os.path as osp
import sys
import time
import tracemalloc
from typing import Dict, Optional, Sequence

import cv2
import numpy as np
import torch
from mmengine.config import Config, DictAction

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEFAULT_CONFIG = osp.join('configs', 'idol',
                          'idol_r18-w32_1xb4-2k_synthvis.py')
IMAGE_LOADERS = ('LoadVISFrame', 'LoadImageFromFile', 'mmdet.LoadVISFrame',
                 'mmdet.LoadImageFromFile', 'LoadImageFromNDArray',
                 'mmdet.LoadImageFromNDArray')
TRACKER_STATS = ('num_tracks', 'max_memory', 'num_memory', 'num_video_tracks',
                 'num_video_masks')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Per-frame latency and memory of the online model on '
        'one endless video stream')
    parser.add_argument(
        'config',
        nargs='?',
        default=None,
        help=f'model config (default: {DEFAULT_CONFIG})')
    parser.add_argument(
        '--checkpoint',
        help='trained weights (default: random init, which starts no track)')
    parser.add_argument(
        '--frames', type=int, default=2000, help='frames N of the stream')
    parser.add_argument(
        '--warmup',
        type=int,
        default=10,
        help='frames of a separate warm-up video streamed before the '
        'measured one')
    parser.add_argument(
        '--early-frame',
        type=int,
        default=200,
        help='the early probe: the latency window ends and the memory is '
        'read after this many frames')
    parser.add_argument(
        '--window',
        type=int,
        default=100,
        help='frames in each latency window (median)')
    parser.add_argument(
        '--frames-dir',
        help='play the images of this folder (sorted) instead of rendering '
        'a SynthVIS video')
    parser.add_argument(
        '--clip-frames',
        type=int,
        default=200,
        help='frames of the rendered SynthVIS video that is played back and '
        'forth (cut so that both latency windows see the same frames)')
    parser.add_argument(
        '--frame-size',
        type=int,
        nargs=2,
        default=(128, 128),
        metavar=('H', 'W'),
        help='size of the rendered frames')
    parser.add_argument(
        '--num-objects',
        type=int,
        default=5,
        help='objects in the rendered video')
    parser.add_argument(
        '--seed', type=int, default=0, help='seed of the render and init')
    parser.add_argument(
        '--keep-video-results',
        action='store_true',
        help='keep the config\'s tracker.keep_video_results instead of '
        'streaming with it off')
    parser.add_argument(
        '--cls-bias',
        type=float,
        help='set the bias of every class branch to this value (stress '
        'test of the tracker with a random model)')
    parser.add_argument(
        '--sequential',
        action='store_true',
        help='time the early window on the stream itself (frames before '
        '--early-frame), not on a fresh stream interleaved with the last '
        'window')
    parser.add_argument(
        '--tracemalloc',
        action='store_true',
        help='also trace the Python heap (slows every frame down)')
    parser.add_argument(
        '--device', default='cpu', help='device, e.g. cpu or cuda:0')
    parser.add_argument(
        '--threads', type=int, help='torch.set_num_threads (default: torch)')
    parser.add_argument(
        '--log-interval',
        type=int,
        default=100,
        help='print a progress line every this many frames (0: never)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config keys, e.g. model.tracker.max_tracks=20')
    parser.add_argument(
        '--json',
        action='store_true',
        help='print the figures as one JSON object on the last line')
    args = parser.parse_args(argv)
    if args.config is None:
        args.config = osp.join(ROOT, DEFAULT_CONFIG)
    return args


# --------------------------------------------------------------------------
# frames
# --------------------------------------------------------------------------
def render_clip(num_frames: int,
                frame_size: Sequence[int] = (128, 128),
                num_objects: int = 5,
                seed: int = 0,
                jpeg_quality: int = 90) -> np.ndarray:
    """Render one SynthVIS video, as the dataset frames look once decoded.

    Args:
        num_frames (int): Frames L of the video.
        frame_size (tuple[int, int]): (H, W).
        num_objects (int): Objects in the video (look-alikes included as
            the generator draws them).
        seed (int): Seed of the layout and the rendering.
        jpeg_quality (int): Frames are JPEG-encoded and decoded once.

    Returns:
        np.ndarray: (L, H, W, 3) uint8 BGR frames.
    """
    from mmookd.datasets.synthvis import (SynthVISConfig, render_video,
                                          sample_class_layout)
    cfg = SynthVISConfig(
        frame_size=tuple(frame_size),
        instances_per_video=(num_objects, num_objects))
    rng = np.random.default_rng(seed)
    items = sample_class_layout(1, cfg, rng)[0]
    video = render_video(items, num_frames, 1, cfg, rng, keep_full_masks=False)
    frames = np.empty_like(video['frames'])
    params = [int(cv2.IMWRITE_JPEG_QUALITY), int(jpeg_quality)]
    for t, rgb in enumerate(video['frames']):
        ok, data = cv2.imencode('.jpg', rgb[..., ::-1], params)
        if not ok:
            raise RuntimeError(f'benchmark_stream: cannot encode frame {t}')
        frames[t] = cv2.imdecode(data, cv2.IMREAD_COLOR)
    return frames


def read_frames_dir(folder: str) -> np.ndarray:
    """All the images of a folder, sorted by name.

    Args:
        folder (str): Folder holding ``*.jpg`` / ``*.jpeg`` / ``*.png``.

    Returns:
        np.ndarray: (L, H, W, 3) uint8 BGR frames.
    """
    paths = sorted(
        p for ext in ('jpg', 'jpeg', 'png')
        for p in glob.glob(osp.join(folder, f'*.{ext}')))
    if not paths:
        raise FileNotFoundError(
            f'benchmark_stream: --frames-dir {folder} holds no jpg/png image')
    frames = [cv2.imread(p, cv2.IMREAD_COLOR) for p in paths]
    shapes = {f.shape for f in frames if f is not None}
    if any(f is None for f in frames) or len(shapes) != 1:
        raise ValueError(f'benchmark_stream: --frames-dir {folder}: every '
                         f'image must be readable and of one size, got '
                         f'shapes {sorted(shapes)}')
    return np.stack(frames)


def pingpong_index(i: int, length: int) -> int:
    """Frame of a clip of ``length`` frames played back and forth.

    Example:
        ``length=3`` gives 0, 1, 2, 1, 0, 1, 2, ... for ``i = 0, 1, ...``.
    """
    if length == 1:
        return 0
    period = 2 * (length - 1)
    pos = i % period
    return pos if pos < length else period - pos


def aligned_clip_length(max_length: int,
                        frames: int,
                        early_frame: int,
                        min_length: int = 2) -> Optional[int]:
    """Longest clip whose back-and-forth period divides ``N - early``.

    The two latency windows end at frame ``early`` and at frame ``N``; with
    such a clip they show the same frames (the tracker's work depends on
    what is in the frame), so that only the stream's age differs.

    Example:
        ``max_length=200, frames=2000, early_frame=200``: the period
        ``2 (L - 1)`` must divide 1800, and ``L = 181`` (period 360) is the
        longest such clip of at most 200 frames.

    Args:
        max_length (int): Frames available.
        frames (int): N.
        early_frame (int): The early probe.
        min_length (int): Shortest acceptable clip.

    Returns:
        int | None: The clip length, or None when no length in
        ``[min_length, max_length]`` fits (e.g. ``N - early`` odd).
    """
    gap = frames - early_frame
    for length in range(max_length, max(min_length, 2) - 1, -1):
        if gap % (2 * (length - 1)) == 0:
            return length
    return None


# --------------------------------------------------------------------------
# model and per-frame inputs
# --------------------------------------------------------------------------
def _init_scope(cfg) -> None:
    """Register mmookd (and apply its shims); set the default scope."""
    from mmengine.registry import init_default_scope

    import mmookd  # noqa: F401
    init_default_scope(cfg.get('default_scope', 'mmdet'))


def build_model(cfg,
                checkpoint: Optional[str] = None,
                keep_video_results: Optional[bool] = False,
                cls_bias: Optional[float] = None,
                device: str = 'cpu') -> torch.nn.Module:
    """Build the model of ``cfg`` in eval mode, ready for streaming.

    Args:
        cfg (Config): Config with ``model`` (an ``IDOL``-like model whose
            ``tracker`` is an ``IDOLTracker``).
        checkpoint (str, optional): Weights to load (else ``init_weights``).
        keep_video_results (bool, optional): Value of the tracker's
            ``keep_video_results``; None keeps the config's.
        cls_bias (float, optional): Set every class branch bias to this.
        device (str): Device.

    Returns:
        nn.Module: The model.
    """
    from mmdet.registry import MODELS
    from mmengine.runner import load_checkpoint

    _init_scope(cfg)
    model_cfg = cfg.model.copy()
    if model_cfg.get('tracker') is None:
        raise KeyError('benchmark_stream: the config has no model.tracker')
    if keep_video_results is not None:
        model_cfg.tracker = dict(
            model_cfg.tracker, keep_video_results=keep_video_results)
    model = MODELS.build(model_cfg)
    if checkpoint is not None:
        load_checkpoint(model, checkpoint, map_location='cpu')
    else:
        model.init_weights()
    if cls_bias is not None:
        branches = model.detector.bbox_head.cls_branches
        for branch in branches:
            torch.nn.init.constant_(branch.bias, cls_bias)
    return model.to(device).eval()


def _swap_loader(transforms: list) -> int:
    """Replace image loading by ``LoadImageFromNDArray`` in place."""
    swapped = 0
    for t in transforms:
        if t.get('type') in IMAGE_LOADERS:
            for key in list(t.keys()):
                if key != 'type':
                    t.pop(key)
            t['type'] = 'LoadImageFromNDArray'
            swapped += 1
        if 'transforms' in t:
            swapped += _swap_loader(t['transforms'])
    return swapped


def build_frame_pipeline(cfg):
    """The config's test pipeline, reading an in-memory BGR frame.

    Args:
        cfg (Config): With ``test_dataloader.dataset.pipeline``.

    Returns:
        Compose: Transforms a dict of one-element lists (``img``,
        ``img_id``, ``video_id``, ``frame_id``, ``video_length``,
        ``ori_video_length``) into packed inputs, as the test dataset does.
    """
    from mmcv.transforms import Compose
    _init_scope(cfg)
    pipeline = copy.deepcopy(cfg.test_dataloader.dataset.pipeline)
    if _swap_loader(pipeline) == 0:
        raise KeyError('benchmark_stream: test_dataloader.dataset.pipeline '
                       f'has no image loading step (one of {IMAGE_LOADERS})')
    return Compose(pipeline)


def frame_inputs(img: np.ndarray, frame_id: int, num_frames: int,
                 video_id: int) -> dict:
    """What the test dataset gives the pipeline for one frame.

    Args:
        img (np.ndarray): (H, W, 3) uint8 BGR.
        frame_id (int): Index of the frame in the stream.
        num_frames (int): Frames of the stream (``ori_video_length``).
        video_id (int): Id of the stream.

    Returns:
        dict: One-element lists, as ``BaseVideoDataset.prepare_data`` in
        test mode.
    """
    height, width = img.shape[:2]
    return dict(
        img=[img],
        img_id=[video_id * 10_000_000 + frame_id + 1],
        video_id=[video_id],
        frame_id=[frame_id],
        height=[height],
        width=[width],
        video_length=[1],
        ori_video_length=[num_frames])


# --------------------------------------------------------------------------
# memory probes
# --------------------------------------------------------------------------
def read_rss_mb() -> Optional[float]:
    """Resident set size of this process (``VmRSS``), MB; None if unknown."""
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


def memory_probe(tracker, traced: bool) -> dict:
    """RSS, gc objects, traced Python heap and the tracker's sizes now.

    A full garbage collection runs first, so that the figures do not depend
    on when the collector last ran.
    """
    gc.collect()
    probe = dict(
        rss_mb=read_rss_mb(),
        gc_objects=len(gc.get_objects()),
        py_heap_mb=(tracemalloc.get_traced_memory()[0] /
                    2**20 if traced else None))
    probe.update({
        f'tracker_{k}': v
        for k, v in tracker.memory_stats().items()
    })
    return probe


# --------------------------------------------------------------------------
# the stream
# --------------------------------------------------------------------------
class _Clock:
    """Wall clock that waits for the device first."""

    def __init__(self, device: str) -> None:
        self.cuda = str(device).startswith('cuda')

    def __call__(self) -> float:
        if self.cuda:
            torch.cuda.synchronize()
        return time.perf_counter()


class Stream:
    """One video stream through the model, one frame a :meth:`step`.

    The stream owns a tracker (a copy of the model's, made before any
    frame): :meth:`step` puts it into ``model.tracker`` first, so that
    several streams can share one model and be interleaved frame by frame.

    Args:
        model (nn.Module): The online model, eval mode.
        pipeline (Compose): From :func:`build_frame_pipeline`.
        clip (np.ndarray): (L, H, W, 3) BGR frames, played back and forth.
        num_frames (int): Frames N of the stream (``ori_video_length``).
        video_id (int): Id of the stream.
        device (str): Device (for the clock).

    Attributes:
        latency_ms (np.ndarray): (N,) wall time of ``test_step`` per frame.
        cpu_ms (np.ndarray): (N,) its process CPU time (all threads).
        pipeline_ms (np.ndarray): (N,) time of the test pipeline + collate.
        outputs (np.ndarray): (N,) tracks output per frame.
        tracker_max (dict): Largest value of every ``memory_stats`` entry.
        video_instances (int | None): Length of ``pred_video_instances``
            after the last frame.
    """

    def __init__(self,
                 model,
                 pipeline,
                 clip: np.ndarray,
                 num_frames: int,
                 video_id: int = 0,
                 device: str = 'cpu') -> None:
        self.model = model
        self.pipeline = pipeline
        self.clip = clip
        self.num_frames = num_frames
        self.video_id = video_id
        self.tracker = copy.deepcopy(model.tracker)
        self.clock = _Clock(device)
        self.frame_id = 0
        self.latency_ms = np.zeros(num_frames)
        self.cpu_ms = np.zeros(num_frames)
        self.pipeline_ms = np.zeros(num_frames)
        self.outputs = np.zeros(num_frames, dtype=np.int64)
        self.tracker_max = dict.fromkeys(TRACKER_STATS, 0)
        self.video_instances: Optional[int] = None

    def step(self) -> dict:
        """Run the next frame; return the tracker's ``memory_stats``."""
        from mmengine.dataset import pseudo_collate
        frame_id = self.frame_id
        if frame_id >= self.num_frames:
            raise RuntimeError(f'benchmark_stream: stream {self.video_id} '
                               f'has only {self.num_frames} frames')
        self.model.tracker = self.tracker
        img = self.clip[pingpong_index(frame_id, len(self.clip))]
        t0 = time.perf_counter()
        data = pseudo_collate([
            self.pipeline(
                frame_inputs(img, frame_id, self.num_frames, self.video_id))
        ])
        t1, c1 = self.clock(), time.process_time()
        with torch.no_grad():
            result = self.model.test_step(data)
        t2, c2 = self.clock(), time.process_time()
        self.pipeline_ms[frame_id] = 1000 * (t1 - t0)
        self.latency_ms[frame_id] = 1000 * (t2 - t1)
        self.cpu_ms[frame_id] = 1000 * (c2 - c1)
        track_sample = result[0]
        self.outputs[frame_id] = len(track_sample[0].pred_track_instances)
        if frame_id == self.num_frames - 1:
            self.video_instances = len(
                track_sample.get('pred_video_instances', []))
        stats = self.tracker.memory_stats()
        for key in TRACKER_STATS:
            self.tracker_max[key] = max(self.tracker_max[key], stats[key])
        self.frame_id += 1
        return stats


def _ratio(late, early) -> Optional[float]:
    if late is None or early is None or early == 0:
        return None
    return float(late) / float(early)


def _median(values: np.ndarray) -> float:
    return float(np.median(values))


def benchmark(cfg,
              checkpoint: Optional[str] = None,
              frames: int = 2000,
              warmup: int = 10,
              early_frame: int = 200,
              window: int = 100,
              clip: Optional[np.ndarray] = None,
              keep_video_results: Optional[bool] = False,
              cls_bias: Optional[float] = None,
              use_tracemalloc: bool = False,
              paired: bool = True,
              device: str = 'cpu',
              seed: int = 0,
              log_interval: int = 0,
              log=print) -> Dict:
    """Stream ``frames`` frames through the model; latency and memory.

    The measured stream S runs frames ``0 .. N - window - 1`` alone (memory
    probe after ``early_frame`` frames). With ``paired`` (default), a second,
    fresh stream E (its own tracker, the same model and frames) then runs
    frames ``0 .. early - window - 1``, and the last ``window`` frames of S
    are interleaved one by one with frames ``early - window .. early - 1``
    of E: both latency windows are timed in the same minutes, so that a
    shared CPU slows both alike. Without ``paired`` the early window is
    S's own frames ``early - window .. early - 1`` (``lat_early_seq_ms``,
    always reported). The memory probe at frame N is taken after E is gone.

    Args:
        cfg (Config): Model config (``model``, ``test_dataloader``).
        checkpoint (str, optional): Weights; random init when None.
        frames (int): Frames N of the measured stream.
        warmup (int): Frames of a warm-up video streamed first.
        early_frame (int): The early probe (200).
        window (int): Frames per latency window.
        clip (np.ndarray, optional): (L, H, W, 3) BGR frames played back
            and forth; default: :func:`render_clip` of 200 frames. Cut by
            :func:`aligned_clip_length`.
        keep_video_results (bool, optional): Tracker's
            ``keep_video_results`` (False for a stream; None keeps the
            config's value).
        cls_bias (float, optional): See :func:`build_model`.
        use_tracemalloc (bool): Trace the Python heap from frame 0.
        paired (bool): Time the early window on a fresh stream interleaved
            with the late window (see above).
        device (str): Device.
        seed (int): Torch seed of the random init.
        log_interval (int): Progress line every this many frames.
        log (callable): Where progress lines go.

    Returns:
        dict: ``latency_ratio``, ``mem_ratio`` and the raw figures (see
        :func:`format_table`); every value is JSON-serialisable.
    """
    if window < 1:
        raise ValueError(f'benchmark_stream: --window must be >= 1, got '
                         f'{window}')
    if early_frame < window or early_frame > frames - window:
        raise ValueError(
            f'benchmark_stream: need --window {window} <= --early-frame '
            f'{early_frame} <= --frames {frames} - --window {window}')
    if clip is None:
        clip = render_clip(200)
    length = aligned_clip_length(len(clip), frames, early_frame)
    if length is not None:
        clip = clip[:length]
    torch.manual_seed(seed)  # the random init, when there is no checkpoint
    model = build_model(cfg, checkpoint, keep_video_results, cls_bias, device)
    pipeline = build_frame_pipeline(cfg)
    main = Stream(model, pipeline, clip, frames, video_id=0, device=device)
    fresh = Stream(
        model, pipeline, clip, early_frame, video_id=1, device=device)
    if warmup > 0:
        warm = Stream(model, pipeline, clip, warmup, video_id=2, device=device)
        for _ in range(warmup):
            warm.step()
        del warm
    if use_tracemalloc:
        tracemalloc.start()
    start = time.perf_counter()
    probes = dict()

    def progress(stats):
        done = main.frame_id
        if done == early_frame:
            probes['early'] = memory_probe(main.tracker, use_tracemalloc)
        if log_interval and (done % log_interval == 0 or done == frames):
            recent = main.latency_ms[max(0, done - log_interval):done]
            log(f'frame {done:>6d}/{frames}  latency '
                f'{np.median(recent):7.2f} ms (median of the last '
                f'{len(recent)})  rss {read_rss_mb() or 0:8.1f} MB  live '
                f'tracks {stats["num_tracks"]:3d}  track ids '
                f'{main.tracker.num_tracks:5d}  elapsed '
                f'{time.perf_counter() - start:6.1f} s')

    try:
        for _ in range(frames - window):
            progress(main.step())
        if paired:
            for _ in range(early_frame - window):
                fresh.step()
            log(f'interleaving frames {frames - window}..{frames - 1} with '
                f'frames {early_frame - window}..{early_frame - 1} of a '
                'fresh stream')
        for _ in range(window):
            if paired:
                fresh.step()
            progress(main.step())
        lo, hi = early_frame - window, early_frame
        seq_early = (_median(main.latency_ms[lo:hi]),
                     _median(main.cpu_ms[lo:hi]))
        if paired:
            early = (_median(fresh.latency_ms[lo:hi]),
                     _median(fresh.cpu_ms[lo:hi]))
        else:
            early = seq_early
        fresh = None  # its tracker's memory is not the stream's
        model.tracker = main.tracker
        probes['late'] = memory_probe(main.tracker, use_tracemalloc)
    finally:
        if use_tracemalloc:
            tracemalloc.stop()
    late = (_median(main.latency_ms[frames - window:]),
            _median(main.cpu_ms[frames - window:]))
    mem_early, mem_late = probes['early'], probes['late']

    def tracker_probe(probe):
        return {
            k[len('tracker_'):]: v
            for k, v in probe.items() if k.startswith('tracker_')
        }

    tracker = main.tracker
    lat = main.latency_ms
    return dict(
        config=getattr(cfg, 'filename', None),
        checkpoint=checkpoint,
        frames=frames,
        early_frame=early_frame,
        window=window,
        warmup=warmup,
        paired=bool(paired),
        clip_frames=int(len(clip)),
        windows_aligned=length is not None,
        frame_shape=[int(s) for s in clip.shape[1:3]],
        device=str(device),
        threads=torch.get_num_threads(),
        keep_video_results=bool(tracker.keep_video_results),
        max_tracks=tracker.max_tracks,
        memory_len=tracker.memory_len,
        lat_early_ms=early[0],
        lat_late_ms=late[0],
        latency_ratio=_ratio(late[0], early[0]),
        cpu_early_ms=early[1],
        cpu_late_ms=late[1],
        cpu_ratio=_ratio(late[1], early[1]),
        lat_early_seq_ms=seq_early[0],
        latency_ratio_seq=_ratio(late[0], seq_early[0]),
        lat_mean_ms=float(lat.mean()),
        lat_p90_ms=float(np.percentile(lat, 90)),
        pipeline_ms=_median(main.pipeline_ms),
        rss_early_mb=mem_early['rss_mb'],
        rss_late_mb=mem_late['rss_mb'],
        rss_delta_mb=(None if mem_early['rss_mb'] is None else
                      mem_late['rss_mb'] - mem_early['rss_mb']),
        mem_ratio=_ratio(mem_late['rss_mb'], mem_early['rss_mb']),
        gc_objects_early=mem_early['gc_objects'],
        gc_objects_late=mem_late['gc_objects'],
        py_heap_early_mb=mem_early['py_heap_mb'],
        py_heap_late_mb=mem_late['py_heap_mb'],
        py_heap_ratio=_ratio(mem_late['py_heap_mb'], mem_early['py_heap_mb']),
        tracker_early=tracker_probe(mem_early),
        tracker_late=tracker_probe(mem_late),
        tracker_max=main.tracker_max,
        num_track_ids=int(tracker.num_tracks),
        num_evicted=int(tracker.num_evicted),
        mean_outputs_per_frame=float(main.outputs.mean()),
        frames_with_outputs=int((main.outputs > 0).sum()),
        video_instances=main.video_instances)


def format_table(res: Dict) -> str:
    """A readable summary of :func:`benchmark`'s result."""

    def fmt(value, spec='.2f'):
        return '-' if value is None else format(value, spec)

    def row(label, early, late, ratio, spec='.2f'):
        values = fmt(res[early], spec), fmt(res[late], spec)
        return (label, ) + values + (fmt(res[ratio], '.3f'), )

    e, n = res['early_frame'], res['frames']
    gc_ratio = _ratio(res['gc_objects_late'], res['gc_objects_early'])
    rows = [
        ('', f'frame {e}', f'frame {n}', 'ratio'),
        row(f'latency ms (median of {res["window"]})', 'lat_early_ms',
            'lat_late_ms', 'latency_ratio'),
        row('CPU time ms (median, all threads)', 'cpu_early_ms', 'cpu_late_ms',
            'cpu_ratio'),
        row('latency ms, early window on the stream itself',
            'lat_early_seq_ms', 'lat_late_ms', 'latency_ratio_seq'),
        row('RSS MB', 'rss_early_mb', 'rss_late_mb', 'mem_ratio', '.1f'),
        row('Python heap MB (tracemalloc)', 'py_heap_early_mb',
            'py_heap_late_mb', 'py_heap_ratio', '.3f'),
        ('gc-tracked objects', str(res['gc_objects_early']),
         str(res['gc_objects_late']), fmt(gc_ratio, '.3f')),
    ]
    for key in TRACKER_STATS:
        rows.append((f'tracker {key}', str(res['tracker_early'][key]),
                     str(res['tracker_late'][key]), ''))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = [
        '  '.join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(r, widths))) for r in rows
    ]
    tm = res['tracker_max']
    lines += [
        f'stream: {n} frames of {res["frame_shape"]} ({res["clip_frames"]}'
        f'-frame clip back and forth; windows on the same frames: '
        f'{res["windows_aligned"]}), device {res["device"]}, '
        f'{res["threads"]} threads, checkpoint '
        f'{res["checkpoint"] or "none (random init)"}',
        'early latency window: ' +
        ('a fresh stream interleaved with the last window'
         if res['paired'] else 'the stream itself'),
        f'latency over the stream: mean {res["lat_mean_ms"]:.2f} ms, p90 '
        f'{res["lat_p90_ms"]:.2f} ms; test pipeline '
        f'{res["pipeline_ms"]:.2f} ms a frame (not in the latency)',
        f'tracker: keep_video_results={res["keep_video_results"]}, '
        f'max_tracks={res["max_tracks"]}, memory_len={res["memory_len"]}; '
        f'largest over the stream: {tm["num_tracks"]} live tracks, '
        f'{tm["max_memory"]} embeddings a track, {tm["num_memory"]} in all, '
        f'{tm["num_video_masks"]} stored RLEs',
        f'tracks: {res["num_track_ids"]} ids started, {res["num_evicted"]} '
        f'evicted, {res["mean_outputs_per_frame"]:.2f} outputs a frame, '
        f'{res["frames_with_outputs"]} frames with outputs',
    ]
    return '\n'.join(lines)


def main(argv=None) -> Dict:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    if args.frames_dir is not None:
        clip = read_frames_dir(args.frames_dir)
        source = f'frames of {args.frames_dir}'
    else:
        clip = render_clip(args.clip_frames, args.frame_size, args.num_objects,
                           args.seed)
        source = (f'SynthVIS video (seed {args.seed}, {args.num_objects} '
                  'objects)')
    print(f'benchmark_stream: {args.config}, {args.frames} frames of a '
          f'{source} of {len(clip)} frames, played back and forth')
    res = benchmark(
        cfg,
        checkpoint=args.checkpoint,
        frames=args.frames,
        warmup=args.warmup,
        early_frame=args.early_frame,
        window=args.window,
        clip=clip,
        keep_video_results=None if args.keep_video_results else False,
        cls_bias=args.cls_bias,
        use_tracemalloc=args.tracemalloc,
        paired=not args.sequential,
        device=args.device,
        seed=args.seed,
        log_interval=args.log_interval)
    res['config'] = args.config
    res['source'] = source
    print(format_table(res))
    if args.json:
        print(json.dumps(res))
    sys.stdout.flush()
    return res


if __name__ == '__main__':
    main()
