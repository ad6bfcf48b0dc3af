# Copyright (c) mmookd authors. All rights reserved.
"""Per-frame CPU latency of any VIS model of a config, on its test set.

Runs the config's test dataloader (frame by frame for online models such as
IDOL, OOKD's student and MaskTrackRCNN; whole videos for offline ones such
as Mask2Former-VIS, as the config's sampler gives them) through
``model.test_step`` under ``torch.no_grad()`` and reports the time of
``test_step`` (data preprocessor + predict; not the data loading nor the
metric) per frame: the sum over the first ``--videos`` videos divided by
their number of frames, and the median over the calls.  ``--warmup``
untimed calls (the first ones of the loader) come before, and the timed
pass then starts again from the first video, so that every mode times the
same videos and frames (a frame-mode tracker starts afresh at frame 0).

Example::

    python tools/analysis_tools/vis_latency.py \
        configs/masktrack_rcnn/masktrack-rcnn_r18-w32_1xb4-2k_synthvis.py \
        --checkpoint work_dirs/peers/masktrack_rcnn/iter_2000.pth --json
"""
import argparse
import json
import time
from typing import Dict, Optional

import numpy as np
import torch
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope
from mmengine.runner import Runner, load_checkpoint

import mmookd  # noqa: F401  (registers mmookd and applies the shims)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Per-frame CPU latency of a VIS model')
    parser.add_argument('config')
    parser.add_argument('--checkpoint', help='weights (default: random)')
    parser.add_argument(
        '--videos', type=int, default=8, help='videos of the test set timed')
    parser.add_argument('--warmup', type=int, default=3, help='calls skipped')
    parser.add_argument('--threads', type=int, default=None)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    parser.add_argument('--json', action='store_true')
    return parser.parse_args(argv)


def measure(cfg: Config,
            checkpoint: Optional[str] = None,
            videos: int = 8,
            warmup: int = 3) -> Dict:
    """Time ``model.test_step`` over the first ``videos`` test videos.

    Returns:
        dict: ``ms_per_frame`` (total time / frames),
        ``median_call_ms_per_frame``, ``frames``, ``videos``, ``calls``
        (the timed ones), ``warmup``.
    """
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    loader_cfg = cfg.test_dataloader.copy()
    loader_cfg.update(num_workers=0, persistent_workers=False)
    loader = Runner.build_dataloader(loader_cfg)
    from mmdet.registry import MODELS
    model = MODELS.build(cfg.model)
    if checkpoint:
        load_checkpoint(model, checkpoint, map_location='cpu')
    model.eval()
    seen, spent, frames, calls = set(), [], 0, 0
    with torch.no_grad():
        for i, data in enumerate(loader):  # warm-up, untimed
            if i >= warmup:
                break
            model.test_step(data)
        for data in loader:  # timed, from the first video again
            sample = data['data_samples'][0]
            first = sample.video_data_samples[0]
            video_id = first.metainfo.get('video_id')
            if video_id not in seen and len(seen) >= videos:
                break
            seen.add(video_id)
            start = time.perf_counter()
            model.test_step(data)
            took = time.perf_counter() - start
            calls += 1
            spent.append((took, len(sample.video_data_samples)))
            frames += len(sample.video_data_samples)
    total = sum(t for t, _ in spent)
    per_call = [1000 * t / n for t, n in spent]
    return dict(
        ms_per_frame=1000 * total / max(frames, 1),
        median_call_ms_per_frame=float(np.median(per_call))
        if per_call else float('nan'),
        frames=frames,
        videos=len(seen),
        calls=calls,
        warmup=warmup)


def main(argv=None) -> Dict:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    res = measure(cfg, args.checkpoint, args.videos, args.warmup)
    res.update(config=args.config, threads=torch.get_num_threads())
    print(f'{args.config}: {res["ms_per_frame"]:.1f} ms a frame '
          f'(median call {res["median_call_ms_per_frame"]:.1f} ms a frame; '
          f'{res["frames"]} frames of {res["videos"]} videos, '
          f'{res["threads"]} threads)')
    if args.json:
        print(json.dumps(res))
    return res


if __name__ == '__main__':
    main()
