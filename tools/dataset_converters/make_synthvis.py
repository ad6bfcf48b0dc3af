# Copyright (c) mmookd authors. All rights reserved.
"""Generate the SynthVIS benchmark (frames + YouTube-VIS JSON files).

Example::

    python tools/dataset_converters/make_synthvis.py --out data/synthvis
    python tools/dataset_converters/make_synthvis.py --out data/synthvis \
        --seed 1 --num-train-videos 200 --frame-size 128 128 \
        --cfg-options long_frame_interval=4 val_long_length=48,56

With ``--json`` the last line printed is one JSON object with the paths
written and the statistics of every split.
"""
import argparse
import dataclasses
import json
import os.path as osp
import sys
import time

try:
    from mmookd.datasets.synthvis import SynthVISConfig, generate_synthvis
except ImportError:  # run from a source checkout that is not installed
    sys.path.insert(0,
                    osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))
    from mmookd.datasets.synthvis import SynthVISConfig, generate_synthvis


def parse_args(argv=None) -> argparse.Namespace:
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(
        description='Generate the SynthVIS video instance segmentation set')
    parser.add_argument('--out', default='data/synthvis', help='output folder')
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    parser.add_argument(
        '--frame-size',
        type=int,
        nargs='+',
        metavar='SIZE',
        help='frame size: HEIGHT WIDTH, or one value for square frames')
    parser.add_argument('--num-train-videos', type=int)
    parser.add_argument('--num-val-short-videos', type=int)
    parser.add_argument('--num-val-long-videos', type=int)
    parser.add_argument(
        '--long-frame-interval',
        type=int,
        help='steps between two frames of the long validation videos')
    parser.add_argument('--jpeg-quality', type=int)
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        default={},
        help='override any SynthVISConfig field, e.g. '
        'instances_per_video=2,6 class_shares=0.3,0.2,0.15,0.1,0.1,0.08,'
        '0.05,0.02 (see docs/synthvis.md)')
    parser.add_argument(
        '--no-progress', action='store_true', help='hide the progress bar')
    parser.add_argument(
        '--json',
        action='store_true',
        help='print the statistics as one JSON object on the last line')
    return parser.parse_args(argv)


def build_config(args: argparse.Namespace) -> SynthVISConfig:
    """The default config with the command line overrides applied.

    Raises:
        ValueError: An unknown field in ``--cfg-options`` or a bad value
            (the message names the field).
    """
    fields = {f.name for f in dataclasses.fields(SynthVISConfig)}
    overrides = {}
    for key, value in args.cfg_options.items():
        if key not in fields:
            raise ValueError(f'--cfg-options: unknown SynthVISConfig field '
                             f'{key!r}; known fields: {sorted(fields)}')
        overrides[key] = tuple(value) if isinstance(value,
                                                    (list, tuple)) else value
    if args.frame_size is not None:
        if len(args.frame_size) not in (1, 2):
            raise ValueError('--frame-size: expected HEIGHT WIDTH or SIZE, '
                             f'got {args.frame_size}')
        size = args.frame_size * (3 - len(args.frame_size))
        overrides['frame_size'] = tuple(size)
    for key in ('num_train_videos', 'num_val_short_videos',
                'num_val_long_videos', 'long_frame_interval', 'jpeg_quality'):
        if getattr(args, key) is not None:
            overrides[key] = getattr(args, key)
    return SynthVISConfig(**overrides)


def format_summary(result: dict, seconds: float) -> str:
    """A plain-text table of the statistics of a generated set."""
    stats = result['stats']
    lines = [
        f'SynthVIS written to {result["out_dir"]} (seed {result["seed"]}) '
        f'in {seconds:.1f} s', '',
        f'{"split":<10}{"videos":>8}{"frames":>8}{"instances":>11}'
        f'{"inst/frame":>12}{"lookalike fr":>14}{"occluded":>10}'
        f'{"disp px":>9}'
    ]
    for split, s in stats.items():
        lines.append(f'{split:<10}{s["videos"]:>8}{s["frames"]:>8}'
                     f'{s["instances"]:>11}'
                     f'{s["mean_instances_per_frame"]:>12.2f}'
                     f'{s["frames_with_lookalikes"]:>14}'
                     f'{s["occluded_instance_frames"]:>10}'
                     f'{s["mean_displacement_px"]:>9.2f}')
    lines += [
        '', f'{"class (train)":<14}{"count":>7}{"share":>8}{"target":>8}'
    ]
    target = result['class_shares']['target']
    for name, count in stats['train']['class_counts'].items():
        lines.append(f'{name:<14}{count:>7}'
                     f'{stats["train"]["class_shares"][name]:>8.3f}'
                     f'{target[name]:>8.3f}')
    lines += ['', 'annotation files:']
    lines += [f'  {k:<10}{v}' for k, v in result['ann_files'].items()]
    return '\n'.join(lines)


def main(argv=None) -> dict:
    args = parse_args(argv)
    cfg = build_config(args)
    start = time.perf_counter()
    result = generate_synthvis(
        args.out, seed=args.seed, cfg=cfg, progress=not args.no_progress)
    seconds = time.perf_counter() - start
    print(format_summary(result, seconds))
    if args.json:
        out = dict(result, seconds=round(seconds, 2))
        print(json.dumps(out, sort_keys=True))
    return result


if __name__ == '__main__':
    main()
