# Copyright (c) mmookd authors. All rights reserved.
"""Per-frame inference latency: IDOL R-50 vs mmdet's DeformableDETR R-50 and
Mask2Former-VIS R-50.

The three full-size models are built untrained (random weights: no
download, and latency does not depend on the weights, except through the
number of tracks, see below) and run on the *same* frames (``--size``,
default 360 x 640, i.e. 360p), one model after the other in turn (IDOL,
DeformableDETR, Mask2Former-VIS, IDOL, ...), so that a CPU shared with other
jobs slows all three alike; the median per-frame time of each is reported,
and the ratios IDOL / DeformableDETR and IDOL / Mask2Former-VIS.

What one step times (``model.test_step`` under ``torch.no_grad()``, the
data preprocessor included, frames already decoded and at the input size):

- IDOL (``configs/idol/idol_r50_8xb4-12k_youtube-vis-2021.py``): one frame
  of a stream: detector, dynamic mask decoding of the 300 queries and the
  memory-bank tracker (``frame_id`` 0, 1, 2, ...);
- DeformableDETR (``mmdet::deformable_detr/``
  ``deformable-detr_r50_16xb2-50e_coco.py``): one image, boxes only
  (IDOL's detector without masks, embeddings or tracker);
- Mask2Former-VIS (``mmdet::mask2former_vis/
  mask2former_r50_8xb2-8e_youtubevis2021.py``): an offline model that takes
  a clip: one step is a clip of ``--clip-len`` frames, its time divided by
  ``--clip-len``.

A random IDOL scores every query about 0.01, below the tracker's
thresholds: the tracker selects its single best query and starts no track,
so the timed IDOL step is a lower bound of a trained one's
(``benchmark_stream.py`` measures the tracker on a trained model).

Examples::

    python tools/analysis_tools/benchmark_inference.py
    python tools/analysis_tools/benchmark_inference.py --device cuda:0 --json
"""
import argparse
import json
import logging
import os.path as osp
import sys
import time
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.config import Config
from mmengine.logging import MMLogger

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
MODELS_TO_TIME = (
    ('IDOL R-50', 'configs/idol/idol_r50_8xb4-12k_youtube-vis-2021.py'),
    ('DeformableDETR R-50',
     'mmdet::deformable_detr/deformable-detr_r50_16xb2-50e_coco.py'),
    ('Mask2Former-VIS R-50',
     'mmdet::mask2former_vis/mask2former_r50_8xb2-8e_youtubevis2021.py'),
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Per-frame latency of IDOL vs DeformableDETR and '
        'Mask2Former-VIS (untrained, same frames, alternating)')
    parser.add_argument(
        '--size',
        type=int,
        nargs=2,
        default=(360, 640),
        metavar=('H', 'W'),
        help='frame size (default 360 640: 360p)')
    parser.add_argument(
        '--rounds',
        type=int,
        default=5,
        help='timed rounds; each runs every model once (default 5)')
    parser.add_argument(
        '--warmup', type=int, default=1, help='untimed rounds first')
    parser.add_argument(
        '--clip-len',
        type=int,
        default=5,
        help='frames of the Mask2Former-VIS clip (default 5)')
    parser.add_argument('--device', default='cpu')
    parser.add_argument(
        '--threads', type=int, help='torch.set_num_threads (CPU)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--json',
        action='store_true',
        help='print the figures as one JSON object on the last line')
    return parser.parse_args(argv)


def _no_pretrained(node):
    """Drop every ``init_cfg`` that would download weights."""
    if isinstance(node, dict):
        init = node.get('init_cfg')
        if isinstance(init, dict) and init.get('type') == 'Pretrained':
            node['init_cfg'] = None
        for value in node.values():
            _no_pretrained(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            _no_pretrained(value)


def resolve_config(config: str) -> str:
    """A path for ``Config.fromfile``: ``mmdet::x.py`` -> mmdet's own copy
    (``mmdet/.mim/configs/x.py``), else relative to the repository."""
    if config.startswith('mmdet::'):
        import mmdet
        path = osp.join(
            osp.dirname(mmdet.__file__), '.mim', 'configs',
            config[len('mmdet::'):])
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'benchmark_inference: {config} not found at {path} (is '
                'mmdet installed with its configs?)')
        return path
    return osp.join(ROOT, config)


def build_untrained(config: str, device: str):
    """The model of ``config`` with random weights, in eval mode."""
    from mmdet.registry import MODELS
    from mmengine.registry import init_default_scope

    import mmookd  # noqa: F401  (registers mmookd)
    cfg = Config.fromfile(resolve_config(config))
    init_default_scope('mmdet')
    model_cfg = cfg.model  # a ConfigDict: mmdet reads its attributes
    _no_pretrained(model_cfg)
    model = MODELS.build(model_cfg)
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)  # init_weights logs every parameter
    try:
        model.init_weights()
    finally:
        logger.setLevel(level)
    return model.to(device).eval()


def make_frames(num: int, height: int, width: int,
                seed: int = 0) -> torch.Tensor:
    """(num, 3, H, W) uint8 frames: smooth random blobs, not plain noise."""
    rng = np.random.default_rng(seed)
    frames = np.zeros((num, height, width, 3), np.float32)
    yy, xx = np.mgrid[0:height, 0:width]
    for t in range(num):
        frames[t] += rng.uniform(40, 90, size=3)
        for _ in range(6):
            cy, cx = rng.uniform(0, height), rng.uniform(0, width)
            r = rng.uniform(0.05, 0.2) * min(height, width)
            blob = np.exp(-((yy - cy - 2 * t)**2 + (xx - cx - 3 * t)**2) /
                          (2 * r * r))
            frames[t] += blob[..., None] * rng.uniform(60, 160, size=3)
    frames = frames.clip(0, 255).astype(np.uint8)
    return torch.from_numpy(frames).permute(0, 3, 1, 2).contiguous()


def _frame_sample(height: int, width: int, frame_id: int, length=None):
    from mmdet.structures import DetDataSample
    return DetDataSample(
        metainfo=dict(
            img_id=frame_id,
            img_shape=(height, width),
            ori_shape=(height, width),
            scale_factor=(1.0, 1.0),
            frame_id=frame_id,
            video_id=0,
            video_length=1 if length is None else length,
            ori_video_length=length))


def idol_step(model, frames: torch.Tensor) -> Callable[[int], None]:
    """One frame of a stream through IDOL (frame 0 resets the tracker)."""
    from mmdet.structures import TrackDataSample
    height, width = frames.shape[-2:]

    def step(i: int) -> None:
        sample = TrackDataSample()
        sample.video_data_samples = [_frame_sample(height, width, i)]
        frame = frames[i % len(frames)][None]
        model.test_step(dict(inputs=[frame], data_samples=[sample]))

    return step


def detr_step(model, frames: torch.Tensor) -> Callable[[int], None]:
    """One image through DeformableDETR."""
    height, width = frames.shape[-2:]

    def step(i: int) -> None:
        model.test_step(
            dict(
                inputs=[frames[i % len(frames)]],
                data_samples=[_frame_sample(height, width, i)]))

    return step


def m2f_step(model, frames: torch.Tensor,
             clip_len: int) -> Callable[[int], None]:
    """A clip of ``clip_len`` frames through Mask2Former-VIS."""
    from mmdet.structures import TrackDataSample
    height, width = frames.shape[-2:]

    def step(i: int) -> None:
        inds = [(i * clip_len + t) % len(frames) for t in range(clip_len)]
        sample = TrackDataSample()
        sample.video_data_samples = [
            _frame_sample(height, width, t, clip_len) for t in range(clip_len)
        ]
        model.test_step(dict(inputs=[frames[inds]], data_samples=[sample]))

    return step


def _clock(device: str) -> float:
    if str(device).startswith('cuda'):
        torch.cuda.synchronize()
    return time.perf_counter()


def benchmark(size: Sequence[int] = (360, 640),
              rounds: int = 5,
              warmup: int = 1,
              clip_len: int = 5,
              device: str = 'cpu',
              seed: int = 0,
              models: Sequence = MODELS_TO_TIME,
              log: Callable[[str], None] = print) -> Dict:
    """Time the models in turn on the same frames.

    Returns:
        dict: per model ``{name: {config, frame_ms (list), median_ms,
        fps}}`` under ``models``, ``ratio_idol_vs_deformable_detr`` and
        ``ratio_idol_vs_mask2former_vis`` (median IDOL time / median time
        of the other), the size, rounds, clip length and device.
    """
    if rounds < 1 or clip_len < 1:
        raise ValueError('benchmark_inference: --rounds and --clip-len must '
                         'be >= 1')
    torch.manual_seed(seed)
    height, width = size
    frames = make_frames(max(clip_len, 8), height, width, seed).to(device)
    steps, per_step = [], []
    for name, config in models:
        log(f'building {name} ({config}), random weights')
        model = build_untrained(config, device)
        if name.startswith('IDOL'):
            steps.append(idol_step(model, frames))
            per_step.append(1)
        elif 'Mask2Former' in name:
            steps.append(m2f_step(model, frames, clip_len))
            per_step.append(clip_len)
        else:
            steps.append(detr_step(model, frames))
            per_step.append(1)
    times: List[List[float]] = [[] for _ in steps]
    with torch.no_grad():
        for r in range(warmup + rounds):
            for k, step in enumerate(steps):
                t0 = _clock(device)
                step(r)
                elapsed = _clock(device) - t0
                if r >= warmup:
                    times[k].append(1000 * elapsed / per_step[k])
            if r >= warmup:
                log(f'round {r - warmup + 1}/{rounds}: ' + ', '.join(
                    f'{name} {times[k][-1]:.0f} ms/frame'
                    for k, (name, _) in enumerate(models)))
    out = dict(
        size=[height, width],
        rounds=rounds,
        warmup=warmup,
        clip_len=clip_len,
        device=str(device),
        threads=torch.get_num_threads(),
        models={})
    for k, (name, config) in enumerate(models):
        median = float(np.median(times[k]))
        out['models'][name] = dict(
            config=config,
            frame_ms=[round(t, 2) for t in times[k]],
            median_ms=median,
            fps=1000.0 / median if median > 0 else None)
    medians = [out['models'][name]['median_ms'] for name, _ in models]
    out['ratio_idol_vs_deformable_detr'] = medians[0] / medians[1]
    out['ratio_idol_vs_mask2former_vis'] = medians[0] / medians[2]
    return out


def format_table(result: Dict) -> str:
    h, w = result['size']
    lines = [
        f'per-frame latency at {h} x {w} on {result["device"]} '
        f'({result["threads"]} threads), median of {result["rounds"]} '
        'rounds, untrained models, same frames, alternating',
        f'{"model":<22s} {"median ms/frame":>16s} {"fps":>8s}'
    ]
    for name, m in result['models'].items():
        lines.append(f'{name:<22s} {m["median_ms"]:16.1f} {m["fps"]:8.2f}')
    lines.append('IDOL / DeformableDETR: '
                 f'{result["ratio_idol_vs_deformable_detr"]:.2f}x; '
                 'IDOL / Mask2Former-VIS: '
                 f'{result["ratio_idol_vs_mask2former_vis"]:.2f}x '
                 f'(clip of {result["clip_len"]} frames)')
    return '\n'.join(lines)


def main(argv=None) -> Optional[Dict]:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if str(args.device).startswith('cuda') and not torch.cuda.is_available():
        sys.exit('benchmark_inference: CUDA is not available')
    result = benchmark(
        size=args.size,
        rounds=args.rounds,
        warmup=args.warmup,
        clip_len=args.clip_len,
        device=args.device,
        seed=args.seed,
        log=lambda msg: print(msg, file=sys.stderr, flush=True))
    print(format_table(result))
    if args.json:
        print(json.dumps(result))
    return result


if __name__ == '__main__':
    main()
