# Copyright (c) mmookd authors. All rights reserved.
"""Cost of MinorPaste (or ClipPaste): the training data pipeline with/without.

Reads the training dataset of a paste config (default: the SynthVIS
Minor-Paste config), a ``ClipMixDataset`` around a video dataset, and times
the same clips (same video indexes, same seeds) through

* ``without``: the video dataset with its own pipeline followed by the
  wrapper's non-mixing transforms (``PackTrackInputs``), i.e. the config
  without the paste;
* ``with``: the config's ``ClipMixDataset``, which also draws and loads a
  source clip through the video dataset's pipeline when one is needed;
* ``wrapper``: the same ``ClipMixDataset`` with the paste transforms
  skipped, the cost of the wrapper alone;
* ``mmdet`` (``--with-mmdet``): mmdet's ``MultiImageMixDataset`` with the
  same transforms, for comparison.

The pipelines are interleaved clip by clip (their order alternates), the
paste's random draws come after the target clip's, and every clip is seeded
the same way in every pipeline. ``--runs`` passes are made; the ratio of a
run is its mean time per clip with / without, and the reported ``ratio`` is
the median over the runs.

Examples::

    python tools/analysis_tools/benchmark_minor_paste.py
    python tools/analysis_tools/benchmark_minor_paste.py \
        configs/idol/idol_r18-w32_1xb4-2k_clip-paste_synthvis.py \
        --num-clips 400 --runs 5 --reuse-source 1 --with-mmdet --json
    # a YouTube-VIS config (its frame sizes) on SynthVIS frames
    python tools/analysis_tools/benchmark_minor_paste.py \
        configs/idol/idol_r50_8xb4-12k_minor-paste_youtube-vis-2021.py \
        --ann-file data/synthvis/annotations/synthvis_train.json \
        --img-prefix data/synthvis/train/JPEGImages --dataset-version synthvis

The data are the config's (``data/synthvis`` for the SynthVIS configs), or
``--ann-file`` / ``--img-prefix``; if the config's annotation file does not
exist (or with ``--generate``), a small SynthVIS set is generated in a
temporary folder. With ``--json`` the last line is one JSON object with
``ratio`` and the other figures.
"""
import argparse
import copy
import json
import os.path as osp
import random
import sys
import tempfile
import time

import numpy as np
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.utils import ProgressBar

DEFAULT_CONFIG = 'configs/idol/idol_r18-w32_1xb4-2k_minor-paste_synthvis.py'
PIPELINES = ('without', 'with', 'wrapper', 'mmdet')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Per-clip time of the training data pipeline with and '
        'without MinorPaste / ClipPaste')
    parser.add_argument(
        'config',
        nargs='?',
        default=DEFAULT_CONFIG,
        help='a config whose train_dataloader.dataset is a ClipMixDataset '
        f'(default: {DEFAULT_CONFIG})')
    parser.add_argument(
        '--ann-file', help='YouTube-VIS format training JSON to use instead')
    parser.add_argument(
        '--img-prefix', help='frame folder of --ann-file (JPEGImages)')
    parser.add_argument(
        '--dataset-version',
        help='VISDataset dataset_version of --ann-file (e.g. synthvis to '
        'time a YouTube-VIS config on SynthVIS frames)')
    parser.add_argument(
        '--generate',
        action='store_true',
        help='time a SynthVIS set generated in a temporary folder')
    parser.add_argument(
        '--num-videos',
        type=int,
        default=60,
        help='videos of the generated SynthVIS set')
    parser.add_argument(
        '--reuse-source',
        type=int,
        help='override the paste transforms\' reuse_source')
    parser.add_argument(
        '--prob', type=float, help='override the paste transforms\' prob')
    parser.add_argument(
        '--num-frames',
        type=int,
        help='override the frames per clip T (UniformRefFrameSample)')
    parser.add_argument(
        '--num-clips', type=int, default=300, help='clips per run')
    parser.add_argument(
        '--runs',
        type=int,
        default=5,
        help='interleaved passes over the clips; the ratio is the median '
        'of the runs\' ratios')
    parser.add_argument(
        '--with-mmdet',
        action='store_true',
        help='also time mmdet\'s MultiImageMixDataset with the same '
        'transforms')
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    parser.add_argument(
        '--json',
        action='store_true',
        help='print the figures as one JSON object on the last line')
    return parser.parse_args(argv)


def generate_data(out_dir: str, num_videos: int, seed: int) -> tuple:
    """A small SynthVIS training set; returns (ann_file, img_prefix)."""
    from mmookd.datasets.synthvis import SynthVISConfig, generate_synthvis
    cfg = SynthVISConfig(
        num_train_videos=num_videos,
        num_val_short_videos=0,
        num_val_long_videos=0)
    info = generate_synthvis(out_dir, seed=seed, cfg=cfg, progress=False)
    return info['ann_files']['train'], info['img_roots']['train']


def mixed_dataset_cfg(cfg: Config, args) -> dict:
    """The config's ClipMixDataset config with the command line overrides."""
    mixed = copy.deepcopy(cfg.train_dataloader.dataset)
    if mixed.get('type') != 'ClipMixDataset':
        raise ValueError(
            f'{args.config}: train_dataloader.dataset.type must be '
            f'ClipMixDataset (a paste config), got {mixed.get("type")!r}')
    inner = mixed['dataset']
    if args.num_frames is not None:
        samplers = [
            t for t in inner['pipeline']
            if t['type'] == 'UniformRefFrameSample'
        ]
        if not samplers:
            raise ValueError(f'{args.config}: --num-frames needs a '
                             'UniformRefFrameSample in the dataset pipeline')
        samplers[0]['num_ref_imgs'] = args.num_frames - 1
    for t in mixed['pipeline']:
        if t['type'] in ('MinorPaste', 'ClipPaste'):
            if args.reuse_source is not None:
                t['reuse_source'] = args.reuse_source
            if args.prob is not None:
                t['prob'] = args.prob
    return mixed


def set_data(inner: dict,
             ann_file: str,
             img_prefix: str,
             dataset_version: str = 'synthvis') -> None:
    """Point a dataset config at another annotation file and frames."""
    inner['data_root'] = ''
    inner['ann_file'] = osp.abspath(ann_file)
    inner['data_prefix'] = dict(img_path=osp.abspath(img_prefix))
    if dataset_version is not None:
        inner['dataset_version'] = dataset_version


def build_datasets(mixed_cfg: dict, with_mmdet: bool) -> dict:
    """``without``, ``with``, ``wrapper`` (and ``mmdet``) datasets."""
    from mmdet.datasets import MultiImageMixDataset
    from mmdet.registry import DATASETS

    from mmookd.datasets.dataset_wrappers import ClipMixDataset
    with DefaultScope.overwrite_default_scope('mmdet'):
        inner = DATASETS.build(mixed_cfg['dataset'])
        mixed = ClipMixDataset(inner, mixed_cfg['pipeline'])
        mix_types = [
            name for name, t in zip(mixed.transform_types, mixed.transforms)
            if hasattr(t, 'get_indexes')
        ]
        if not mix_types:
            raise ValueError('the ClipMixDataset pipeline has no mixing '
                             'transform (MinorPaste / ClipPaste)')
        rest = [t for t in mixed_cfg['pipeline'] if t['type'] not in mix_types]
        datasets = dict(
            without=DATASETS.build(
                dict(
                    mixed_cfg['dataset'],
                    pipeline=list(mixed_cfg['dataset']['pipeline']) + rest)),
            with_=mixed,
            wrapper=ClipMixDataset(
                inner, mixed_cfg['pipeline'], skip_type_keys=mix_types))
        if with_mmdet:
            datasets['mmdet'] = MultiImageMixDataset(inner,
                                                     mixed_cfg['pipeline'])
    datasets['with'] = datasets.pop('with_')
    return datasets


class _Timed:
    """Wraps a paste transform's ``transform``: time, source loads, pastes."""

    def __init__(self, paste):
        self.paste = paste
        self.inner = paste.transform
        self.seconds = 0.0
        self.loads = 0
        self.pasted = 0
        paste.transform = self

    def __call__(self, results):
        self.loads += bool(results.get('mix_results'))
        start = time.perf_counter()
        out = self.inner(results)
        self.seconds += time.perf_counter() - start
        self.pasted += len(out['paste_sources'][0])
        return out


def _pastes(dataset) -> list:
    """The mixing transforms of a wrapper (none for a plain dataset)."""
    pipeline = getattr(dataset, 'pipeline', None)
    if not isinstance(pipeline, list):
        return []
    return [t for t in pipeline if hasattr(t, 'get_indexes')]


def time_run(datasets: dict, indexes: np.ndarray, seed: int) -> dict:
    """One interleaved pass; returns per-pipeline arrays of seconds."""
    names = list(datasets)
    times = {name: [] for name in names}
    for ds in datasets.values():  # start every run with an empty cache
        for paste in _pastes(ds):
            paste._source = None
    bar = ProgressBar(len(indexes)) if sys.stdout.isatty() else None
    for n, idx in enumerate(indexes):
        for name in (names if n % 2 == 0 else names[::-1]):
            random.seed(seed + n)
            np.random.seed(seed + n)
            start = time.perf_counter()
            datasets[name][int(idx)]
            times[name].append(time.perf_counter() - start)
        if bar is not None:
            bar.update()
    if bar is not None:
        print()
    return {name: np.array(t) for name, t in times.items()}


def run(args) -> dict:
    from mmengine.registry import init_default_scope

    import mmookd  # noqa: F401
    init_default_scope('mmdet')
    cfg = Config.fromfile(args.config)
    mixed_cfg = mixed_dataset_cfg(cfg, args)
    with tempfile.TemporaryDirectory() as tmp:
        inner = mixed_cfg['dataset']
        if args.ann_file is not None:
            if args.img_prefix is None:
                raise ValueError('--img-prefix is needed with --ann-file')
            set_data(inner, args.ann_file, args.img_prefix,
                     args.dataset_version)
        else:
            ann = osp.join(inner.get('data_root') or '', inner['ann_file'])
            if args.generate or not osp.isfile(ann):
                print(f'generating a SynthVIS set of {args.num_videos} '
                      f'videos in a temporary folder (no {ann}) ...')
                set_data(inner, *generate_data(tmp, args.num_videos,
                                               args.seed))
        datasets = build_datasets(mixed_cfg, args.with_mmdet)
        pastes = _pastes(datasets['with'])
        start = time.perf_counter()
        for paste in pastes:
            paste.clip_index(datasets['with'].dataset)
        index_s = time.perf_counter() - start
        for name in ('wrapper', 'mmdet'):
            if name in datasets:
                for paste in _pastes(datasets[name]):
                    paste.clip_index(datasets[name].dataset)
        timers = [_Timed(p) for p in pastes]
        rng = np.random.RandomState(args.seed)
        indexes = rng.randint(len(datasets['without']), size=args.num_clips)
        runs = []
        for r in range(args.runs):
            runs.append(time_run(datasets, indexes, args.seed))
            ratio = runs[-1]['with'].mean() / runs[-1]['without'].mean()
            print(f'run {r + 1} / {args.runs}: ratio {ratio:.3f}')
    return summarize(runs, timers, args, index_s, len(datasets['without']))


def summarize(runs: list, timers: list, args, index_s: float,
              num_videos: int) -> dict:
    """Figures over the runs (ratios: median of the runs)."""

    def ratios(name):
        return [float(r[name].mean() / r['without'].mean()) for r in runs]

    def ms(name):
        return 1e3 * float(np.median([r[name].mean() for r in runs]))

    num = args.num_clips * args.runs
    transform_ms = 1e3 * sum(t.seconds for t in timers) / num
    res = dict(
        ratio=float(np.median(ratios('with'))),
        ratios=ratios('with'),
        wrapper_ratio=float(np.median(ratios('wrapper'))),
        transform_ratio=1.0 + transform_ms / ms('without'),
        mean_ms_without=ms('without'),
        mean_ms_with=ms('with'),
        mean_ms_wrapper=ms('wrapper'),
        transform_ms=transform_ms,
        source_loaded_frac=sum(t.loads for t in timers) / num,
        pasted_per_clip=sum(t.pasted for t in timers) / num,
        index_build_s=index_s,
        config=args.config,
        num_clips=args.num_clips,
        runs=args.runs,
        num_videos=num_videos,
        reuse_source=[t.paste.reuse_source for t in timers],
        prob=[t.paste.prob for t in timers],
        transforms=[type(t.paste).__name__ for t in timers])
    if 'mmdet' in runs[0]:
        res['mmdet_ratio'] = float(np.median(ratios('mmdet')))
        res['mean_ms_mmdet'] = ms('mmdet')
    return res


def format_table(res: dict) -> str:
    """The figures as a small text table."""
    head = f'{"pipeline":<34}{"ms / clip":>10}{"ratio":>8}'  # medians
    rows = [head, '-' * len(head)]
    names = [('without', 'without paste', None),
             ('with', 'with ' + '+'.join(res['transforms']), 'ratio'),
             ('wrapper', 'ClipMixDataset, paste skipped', 'wrapper_ratio')]
    if 'mean_ms_mmdet' in res:
        names.append(
            ('mmdet', 'MultiImageMixDataset, with paste', 'mmdet_ratio'))
    for key, label, ratio in names:
        ratio = 1.0 if ratio is None else res[ratio]
        rows.append(f'{label:<34}{res[f"mean_ms_{key}"]:>10.2f}'
                    f'{ratio:>8.3f}')
    rows += [
        '-' * len(head),
        f'ratio with / without (median of {res["runs"]} runs): '
        f'{res["ratio"]:.3f}  (runs: '
        f'{", ".join(f"{r:.3f}" for r in res["ratios"])})',
        f'paste transforms alone: {res["transform_ms"]:.2f} ms a clip -> '
        f'ratio {res["transform_ratio"]:.3f} without the source loading',
        f'clips that loaded a source: {100 * res["source_loaded_frac"]:.1f}'
        f'%; pasted instances a clip: {res["pasted_per_clip"]:.2f}',
        f'source index built once in {res["index_build_s"]:.3f} s; '
        f'{res["num_clips"]} clips a run from {res["num_videos"]} videos; '
        f'prob {res["prob"]}, reuse_source {res["reuse_source"]}'
    ]
    return '\n'.join(rows)


def main(argv=None) -> dict:
    args = parse_args(argv)
    if min(args.num_clips, args.runs) < 1 or (args.num_frames is not None
                                              and args.num_frames < 1):
        raise ValueError('--num-clips, --runs and --num-frames must be >= 1')
    res = run(args)
    print(format_table(res))
    if args.json:
        print(json.dumps(res))
    return res


if __name__ == '__main__':
    main()
