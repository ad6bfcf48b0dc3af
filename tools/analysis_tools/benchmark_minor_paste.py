# Copyright (c) mmookd authors. All rights reserved.
"""Cost of MinorPaste (or ClipPaste): the video pipeline with and without.

Both pipelines read the same clips (the same video indexes and seeds):

* without: ``VISDataset(pipeline=inner + [PackTrackInputs])[i]``;
* with: ``MultiImageMixDataset(VISDataset(pipeline=inner),
  [MinorPaste, PackTrackInputs])[i]``, which also loads the source clip
  through ``inner`` when one is drawn.

``inner`` is the frame sampler and the broadcast loading / resize / flip of
``configs/_base_/datasets/synthvis.py`` (or the ``train_pipeline`` of
``--config``, without its ``PackTrackInputs``). Without a data path a small
SynthVIS set is generated in a temporary folder.

Examples::

    python tools/analysis_tools/benchmark_minor_paste.py
    python tools/analysis_tools/benchmark_minor_paste.py \
        --ann-file data/synthvis/annotations/synthvis_train.json \
        --img-prefix data/synthvis/train/JPEGImages --num-frames 4 --json

A third pipeline, the same ``MultiImageMixDataset`` with the transform
switched off (``prob=0``), shows the cost of the wrapper alone (it deep-copies
every clip twice). Each clip is timed ``--repeat`` times with the same seed
and its fastest time kept.

With ``--json`` the last line is one JSON object with ``ratio`` (mean time
per clip with / without), ``transform_ratio`` (the same, counting only the
time spent in the paste transform itself, not the loading of the source
clip), ``wrapper_ratio`` (the wrapper alone / without), the mean and median
times in ms, and the share of clips that loaded a source.
"""
import argparse
import copy
import json
import random
import sys
import tempfile
import time

import numpy as np
from mmengine.registry import DefaultScope
from mmengine.utils import ProgressBar

import mmookd.datasets.transforms.minor_paste  # noqa: F401
import mmookd.datasets.vis_dataset  # noqa: F401

TRAIN_SCALES = [(1333, 96), (1333, 112), (1333, 128), (1333, 144)]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Per-clip time of the video pipeline with and without '
        'MinorPaste / ClipPaste')
    parser.add_argument(
        '--ann-file',
        help='YouTube-VIS format training JSON (default: generate SynthVIS '
        'in a temporary folder)')
    parser.add_argument(
        '--img-prefix', help='frame folder of --ann-file (JPEGImages)')
    parser.add_argument(
        '--dataset-version',
        default='synthvis',
        help='VISDataset dataset_version of --ann-file')
    parser.add_argument(
        '--config',
        help='take the inner pipeline from this config\'s train_pipeline')
    parser.add_argument(
        '--transform',
        default='MinorPaste',
        choices=['MinorPaste', 'ClipPaste'],
        help='the paste transform to measure')
    parser.add_argument('--k', type=float, default=0.7, help='Eq. 6 k')
    parser.add_argument(
        '--prob',
        type=float,
        default=1.0,
        help='probability of pasting onto a clip at all')
    parser.add_argument(
        '--reuse-source',
        type=int,
        default=1,
        help='consecutive clips that share one loaded source clip')
    parser.add_argument(
        '--num-clips', type=int, default=200, help='clips to time')
    parser.add_argument(
        '--num-frames', type=int, default=2, help='frames per clip (T)')
    parser.add_argument(
        '--num-videos',
        type=int,
        default=60,
        help='videos of the generated SynthVIS set')
    parser.add_argument(
        '--repeat',
        type=int,
        default=3,
        help='time every clip this many times (same seed) and keep the '
        'fastest, to damp the noise of a shared machine')
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    parser.add_argument(
        '--json',
        action='store_true',
        help='print the figures as one JSON object on the last line')
    return parser.parse_args(argv)


def inner_pipeline(num_frames: int, config: str = None) -> list:
    """Frame sampling and per-frame loading, without packing."""
    if config is not None:
        from mmengine.config import Config
        pipeline = copy.deepcopy(Config.fromfile(config).train_pipeline)
        pipeline = [p for p in pipeline if p['type'] != 'PackTrackInputs']
        return pipeline
    return [
        dict(
            type='UniformRefFrameSample',
            num_ref_imgs=num_frames - 1,
            frame_range=10,
            filter_key_img=True),
        dict(
            type='TransformBroadcaster',
            share_random_params=True,
            transforms=[
                dict(type='LoadImageFromFile'),
                dict(type='LoadTrackAnnotations', with_mask=True),
                dict(
                    type='RandomChoiceResize',
                    scales=TRAIN_SCALES,
                    keep_ratio=True),
                dict(type='RandomFlip', prob=0.5),
            ]),
    ]


def generate_data(out_dir: str, num_videos: int, seed: int) -> tuple:
    """A small SynthVIS training set; returns (ann_file, img_prefix)."""
    from mmookd.datasets.synthvis import SynthVISConfig, generate_synthvis
    cfg = SynthVISConfig(
        num_train_videos=num_videos,
        num_val_short_videos=0,
        num_val_long_videos=0)
    info = generate_synthvis(out_dir, seed=seed, cfg=cfg, progress=False)
    return info['ann_files']['train'], info['img_roots']['train']


class _Timed:
    """Wraps a paste transform's ``transform`` to time its last call."""

    def __init__(self, paste):
        self.paste = paste
        self.inner = paste.transform
        self.seconds = 0.0
        self.loaded = False
        self.pasted = 0
        paste.transform = self

    def __call__(self, results):
        loaded = bool(results.get('mix_results'))
        start = time.perf_counter()
        out = self.inner(results)
        self.seconds = time.perf_counter() - start
        self.loaded = loaded
        self.pasted = len(out['paste_sources'][0])
        return out

    def snapshot(self):
        """The paste's kept source (``reuse_source``), to replay a call."""
        source = self.paste._source
        return None if source is None else dict(source)

    def restore(self, state) -> None:
        self.paste._source = None if state is None else dict(state)


def build_datasets(args, ann_file, img_prefix):
    from mmdet.datasets import MultiImageMixDataset
    from mmdet.registry import DATASETS
    from mmdet.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    inner = inner_pipeline(args.num_frames, args.config)
    base = dict(
        type='VISDataset',
        ann_file=ann_file,
        dataset_version=args.dataset_version,
        data_prefix=dict(img_path=img_prefix))
    paste_cfg = dict(
        type=args.transform, prob=args.prob, reuse_source=args.reuse_source)
    if args.transform == 'MinorPaste':
        paste_cfg['k'] = args.k
    pack = dict(type='PackTrackInputs', meta_keys=('paste_sources', ))
    with DefaultScope.overwrite_default_scope('mmdet'):
        plain = DATASETS.build(
            dict(base, pipeline=inner + [dict(type='PackTrackInputs')]))
        inner_ds = DATASETS.build(dict(base, pipeline=inner))
        mixed = MultiImageMixDataset(
            dataset=inner_ds, pipeline=[paste_cfg, pack])
        # the wrapper alone: the same transform, never pasting
        wrapper = MultiImageMixDataset(
            dataset=inner_ds, pipeline=[dict(paste_cfg, prob=0.0), pack])
    return plain, mixed, wrapper


def _seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)


def run(args) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        ann_file, img_prefix = args.ann_file, args.img_prefix
        if ann_file is None:
            print(f'generating a SynthVIS set of {args.num_videos} videos '
                  'in a temporary folder ...')
            ann_file, img_prefix = generate_data(tmp, args.num_videos,
                                                 args.seed)
        elif img_prefix is None:
            raise ValueError('--img-prefix is needed with --ann-file')
        plain, mixed, wrapper = build_datasets(args, ann_file, img_prefix)
        paste = mixed.pipeline[0]
        start = time.perf_counter()
        paste.clip_index(mixed.dataset)
        index_s = time.perf_counter() - start
        wrapper.pipeline[0].clip_index(wrapper.dataset)
        timer = _Timed(paste)
        rng = np.random.RandomState(args.seed)
        indexes = rng.randint(len(plain), size=args.num_clips)
        times, t_paste = ([], [], []), []
        loaded = pasted = 0
        bar = ProgressBar(args.num_clips) if sys.stdout.isatty() else None
        for n, idx in enumerate(indexes):
            order = (0, 1, 2) if n % 2 == 0 else (2, 1, 0)
            for which in order:
                ds = (plain, mixed, wrapper)[which]
                state = timer.snapshot()
                best = best_paste = float('inf')
                for _ in range(args.repeat):
                    _seed(args.seed + n)
                    timer.restore(state)
                    start = time.perf_counter()
                    ds[int(idx)]
                    best = min(best, time.perf_counter() - start)
                    best_paste = min(best_paste, timer.seconds)
                times[which].append(best)
                if which == 1:
                    t_paste.append(best_paste)
                    loaded += timer.loaded
                    pasted += timer.pasted
            if bar is not None:
                bar.update()
            elif (n + 1) % max(1, args.num_clips // 4) == 0:
                print(f'{n + 1} / {args.num_clips} clips timed')
        print()
    t_plain, t_mixed, t_wrap = (np.array(t) for t in times)
    mean_plain = float(t_plain.mean())
    transform_s = float(np.mean(t_paste))
    return dict(
        ratio=float(t_mixed.mean() / mean_plain),
        ratio_median=float(np.median(t_mixed) / np.median(t_plain)),
        transform_ratio=float((mean_plain + transform_s) / mean_plain),
        wrapper_ratio=float(t_wrap.mean() / mean_plain),
        mean_ms_without=1e3 * mean_plain,
        mean_ms_with=1e3 * float(t_mixed.mean()),
        median_ms_without=1e3 * float(np.median(t_plain)),
        median_ms_with=1e3 * float(np.median(t_mixed)),
        mean_ms_wrapper=1e3 * float(t_wrap.mean()),
        median_ms_wrapper=1e3 * float(np.median(t_wrap)),
        transform_ms=1e3 * transform_s,
        source_loaded_frac=loaded / args.num_clips,
        pasted_per_clip=pasted / args.num_clips,
        index_build_s=index_s,
        num_clips=args.num_clips,
        repeat=args.repeat,
        num_frames=args.num_frames,
        num_videos=len(plain),
        transform=args.transform,
        prob=args.prob,
        reuse_source=args.reuse_source)


def format_table(res: dict) -> str:
    head = f'{"pipeline":<22}{"mean ms":>10}{"median ms":>11}'
    rows = [
        head, '-' * len(head),
        f'{"without paste":<22}{res["mean_ms_without"]:>10.2f}'
        f'{res["median_ms_without"]:>11.2f}',
        f'{"with " + res["transform"]:<22}{res["mean_ms_with"]:>10.2f}'
        f'{res["median_ms_with"]:>11.2f}',
        f'{"wrapper, no paste":<22}{res["mean_ms_wrapper"]:>10.2f}'
        f'{res["median_ms_wrapper"]:>11.2f}', '-' * len(head),
        f'ratio (mean with / mean without): {res["ratio"]:.3f} '
        f'(median: {res["ratio_median"]:.3f})',
        f'MultiImageMixDataset alone (prob 0): ratio '
        f'{res["wrapper_ratio"]:.3f}',
        f'{res["transform"]}.transform alone: {res["transform_ms"]:.2f} ms '
        f'a clip -> ratio {res["transform_ratio"]:.3f} without the source '
        f'loading',
        f'clips that loaded a source: {100 * res["source_loaded_frac"]:.1f}%'
        f'; pasted instances a clip: {res["pasted_per_clip"]:.2f}',
        f'source index built once in {res["index_build_s"]:.3f} s; '
        f'{res["num_clips"]} clips of {res["num_frames"]} frames from '
        f'{res["num_videos"]} videos; prob {res["prob"]}, reuse_source '
        f'{res["reuse_source"]}'
    ]
    return '\n'.join(rows)


def main(argv=None) -> dict:
    args = parse_args(argv)
    if min(args.num_frames, args.num_clips, args.repeat) < 1:
        raise ValueError('--num-frames, --num-clips and --repeat must be '
                         '>= 1')
    res = run(args)
    print(format_table(res))
    if args.json:
        print(json.dumps(res))
    return res


if __name__ == '__main__':
    main()
