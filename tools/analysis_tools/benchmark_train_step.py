# Copyright (c) mmookd authors. All rights reserved.
"""Time one training step of IDOL, OOKD with the live teacher and OOKD with
the cached teacher, on identical batches, in one run.

    python tools/analysis_tools/benchmark_train_step.py [--iters 10] [--json]
    python tools/analysis_tools/benchmark_train_step.py \\
        --idol-config configs/idol/idol_r18-w32_1xb4-2k_synthvis.py \\
        --ookd-config configs/ookd/ookd_r18-w32_1xb4-2k_synthvis.py \\
        --cached-config \\
            configs/ookd/ookd_cached-teacher_r18-w32_1xb4-2k_synthvis.py

What is timed: ``model.train_step(batch, optim_wrapper)`` (data
preprocessing, forward, backward, optimizer step), the optimizer of each
config. Data loading is not timed. ``--clock``: wall time (default on a
GPU) or this process's CPU time (default on the CPU: on a shared machine
the time spent waiting for a core is not counted; with several threads it
is the sum over the threads, i.e. the work).

Identical batches: the batches are drawn once from the live OOKD config's
training pipeline (the student's pair + the teacher's frames, one resize /
flip, Minor-Paste); IDOL and the cached OOKD get the same clips reduced to
the student's two frames. The three students start from the same weights.
After ``--warmup`` steps of each model, ``--iters`` repetitions run the
three models one after the other (the order rotating), and the median time
of each is reported; a ratio to IDOL is the median over the repetitions of
the repetition's ratio (the models of one repetition share the batch, so
the batch and slow phases of a shared machine cancel out). The live
teacher's forward alone is timed as well (the same batches, no training).

Weights: checkpoints named by the configs are used when they exist;
otherwise the models keep a random initialisation (the teacher's frozen
IDOL and aggregator are then saved to a temporary folder, so that the live
teacher and its cache are the same teacher). The cache is built with
``tools/ookd/cache_teacher.py`` on the videos used. Data: ``--data-root``,
else ``data/synthvis`` when it exists, else a small SynthVIS set generated in
a temporary folder.

With ``--json`` the last line is one JSON object: ``idol_ms``, ``live_ms``,
``cached_ms``, ``teacher_ms`` (medians), ``live_ratio``, ``cached_ratio``,
``teacher_ratio``,
``times_ms`` (every timed step), the batch shape and the settings.
"""
import argparse
import copy
import importlib.util
import json
import os
import os.path as osp
import statistics
import tempfile
import time
from typing import Dict, List

import torch
from mmdet.registry import MODELS
from mmdet.structures import TrackDataSample
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

import mmookd  # noqa: F401  (registers every module)
from mmookd.datasets.transforms.ookd_sampling import ROLE_KEY, STUDENT
from mmookd.models.vis.ookd import (load_weights, resolve_teacher_cfg,
                                    student_state)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

DEFAULT_IDOL = 'configs/idol/idol_r18-w32_1xb4-2k_synthvis.py'
DEFAULT_OOKD = 'configs/ookd/ookd_r18-w32_1xb4-2k_synthvis.py'
DEFAULT_CACHED = 'configs/ookd/ookd_cached-teacher_r18-w32_1xb4-2k_synthvis.py'
ANN_FILE = 'annotations/synthvis_train.json'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Train-step time of IDOL vs OOKD (live / cached teacher)')
    parser.add_argument('--idol-config', default=DEFAULT_IDOL)
    parser.add_argument('--ookd-config', default=DEFAULT_OOKD)
    parser.add_argument('--cached-config', default=DEFAULT_CACHED)
    parser.add_argument(
        '--iters', type=int, default=10, help='timed repetitions')
    parser.add_argument(
        '--warmup', type=int, default=2, help='untimed steps of each model')
    parser.add_argument(
        '--batch-size', type=int, help='clips a batch (default: config)')
    parser.add_argument(
        '--num-videos',
        type=int,
        default=16,
        help='videos of the training set used (its first ones; the cache '
        'is built for them)')
    parser.add_argument(
        '--data-root',
        help='a SynthVIS-like root (default: data/synthvis if present, '
        'else a generated set)')
    parser.add_argument(
        '--device',
        default='cuda' if torch.cuda.is_available() else 'cpu',
        help='device')
    parser.add_argument(
        '--threads', type=int, help='torch CPU threads (default: torch\'s)')
    parser.add_argument(
        '--clock',
        choices=['wall', 'process'],
        help='wall time, or the CPU time of this process (robust on a '
        'shared machine: time spent waiting for the CPU is not counted). '
        'Default: process on the CPU, wall on a GPU')
    parser.add_argument(
        '--max-teacher-frames',
        type=int,
        help='override OOKDFrameSample.max_teacher_frames of --ookd-config '
        '(fewer teacher frames: a cheaper live teacher)')
    parser.add_argument(
        '--teacher-window',
        type=int,
        help='override teacher_window (model and OOKDFrameSample)')
    parser.add_argument(
        '--random-weights',
        action='store_true',
        help='ignore the checkpoints named by the configs')
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    parser.add_argument(
        '--work-dir',
        help='keep the temporary files here (default: a '
        'temporary folder)')
    parser.add_argument(
        '--json',
        action='store_true',
        help='print the figures as one JSON object on the last line')
    return parser.parse_args(argv)


def _abs(path: str) -> str:
    return path if osp.isabs(path) else osp.join(ROOT, path)


def _inner_dataset(cfg: Config) -> dict:
    ds_cfg = cfg.train_dataloader.dataset
    while 'dataset' in ds_cfg:
        ds_cfg = ds_cfg['dataset']
    return ds_cfg


def data_root_for(args, tmp: str) -> str:
    """The data to use (module docstring)."""
    if args.data_root:
        return args.data_root
    default = osp.join(ROOT, 'data', 'synthvis')
    if osp.isfile(osp.join(default, ANN_FILE)):
        return default
    from mmookd.datasets.synthvis import SynthVISConfig, generate_synthvis
    out = osp.join(tmp, 'synthvis')
    print(f'data/synthvis is missing: generating {args.num_videos} SynthVIS '
          f'training videos in {out}')
    generate_synthvis(
        out,
        seed=args.seed,
        cfg=SynthVISConfig(
            num_train_videos=args.num_videos,
            num_val_short_videos=1,
            num_val_long_videos=1),
        progress=False)
    return out


def load_config(path: str, args, data_root: str) -> Config:
    cfg = Config.fromfile(_abs(path))
    inner = _inner_dataset(cfg)
    inner['data_root'] = data_root.rstrip('/') + '/'
    inner['ann_file'] = ANN_FILE
    inner['indices'] = args.num_videos
    if args.batch_size:
        cfg.train_dataloader.batch_size = args.batch_size
    for step in inner.get('pipeline', []):
        if step['type'] != 'OOKDFrameSample':
            continue
        if args.max_teacher_frames:
            step['max_teacher_frames'] = args.max_teacher_frames
        if args.teacher_window:
            step['teacher_window'] = args.teacher_window
    if args.teacher_window and cfg.model.get('type') == 'OOKD':
        cfg.model.teacher_window = args.teacher_window
    return cfg


def prepare_teacher(cfg: Config, tmp: str, random_weights: bool) -> None:
    """Point ``cfg.model`` at teacher weights that exist (saving random ones
    to ``tmp`` when the configured files are missing or not wanted)."""
    model = cfg.model
    teacher = resolve_teacher_cfg(model.teacher)
    base = teacher.get('base_checkpoint')
    ckpt = model.get('teacher_checkpoint')
    base_ok = base is None or (osp.isfile(base) and not random_weights)
    ckpt_ok = ckpt is not None and osp.isfile(ckpt) and not random_weights
    if not base_ok or (ckpt is not None and not ckpt_ok):
        if not base_ok:
            print(f'teacher base {base}: random weights')
            probe = MODELS.build(
                dict(copy.deepcopy(teacher), base_checkpoint=None))
            base = osp.join(tmp, 'teacher_base.pth')
            torch.save(dict(state_dict=probe.base.state_dict()), base)
            teacher['base_checkpoint'] = base
        if ckpt is not None and not ckpt_ok:
            print(f'teacher checkpoint {ckpt}: random weights')
            built = MODELS.build(copy.deepcopy(teacher))
            ckpt = osp.join(tmp, 'teacher.pth')
            torch.save(dict(state_dict=built.state_dict()), ckpt)
    model.teacher = teacher
    model.teacher_checkpoint = ckpt


def student_batch(batch: dict) -> dict:
    """The same clips reduced to the student's two frames."""
    inputs, samples = [], []
    for imgs, clip in zip(batch['inputs'], batch['data_samples']):
        roles = [clip[t].metainfo.get(ROLE_KEY) for t in range(len(clip))]
        keep = [t for t, r in enumerate(roles) if r == STUDENT]
        inputs.append(imgs[keep])
        samples.append(
            TrackDataSample(video_data_samples=[clip[t] for t in keep]))
    return dict(inputs=inputs, data_samples=samples)


def _sync(device: str) -> None:
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def _load_cache_tool():
    path = osp.join(ROOT, 'tools', 'ookd', 'cache_teacher.py')
    spec = importlib.util.spec_from_file_location('_cache_teacher', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def time_step(fn, device: str, clock: str = 'wall') -> float:
    timer = time.perf_counter if clock == 'wall' else time.process_time
    _sync(device)
    start = timer()
    fn()
    _sync(device)
    return timer() - start


def run(args, tmp: str) -> Dict:
    if args.threads:
        torch.set_num_threads(args.threads)
    clock = args.clock or ('wall'
                           if args.device.startswith('cuda') else 'process')
    torch.manual_seed(args.seed)
    init_default_scope('mmdet')
    logger = MMLogger.get_current_instance()
    logger.setLevel('WARNING')  # init_weights logs every parameter
    data_root = data_root_for(args, tmp)

    idol_cfg = load_config(args.idol_config, args, data_root)
    live_cfg = load_config(args.ookd_config, args, data_root)
    prepare_teacher(live_cfg, tmp, args.random_weights)
    student_ckpt = live_cfg.model.get('student_checkpoint')
    if student_ckpt is not None and (args.random_weights
                                     or not osp.isfile(student_ckpt)):
        print(f'student checkpoint {student_ckpt}: random weights')
        student_ckpt = None
    live_cfg.model.student_checkpoint = None

    # the cache of this teacher on the videos used
    live_path = osp.join(tmp, 'ookd_live.py')
    live_cfg.dump(live_path)
    cache_file = osp.join(tmp, 'teacher_cache.pth')
    _load_cache_tool().main(
        [live_path, '--out', cache_file, '--device', args.device])
    cache_meta = torch.load(cache_file, weights_only=True)['meta']
    cached_cfg = load_config(args.cached_config, args, data_root)
    cached_cfg.model.teacher = live_cfg.model.teacher
    cached_cfg.model.teacher_checkpoint = live_cfg.model.teacher_checkpoint
    cached_cfg.model.student_checkpoint = None
    cached_cfg.model.teacher_cache = dict(
        file=cache_file, ann_file=cache_meta['ann_file'])

    # models with the same student weights
    idol = MODELS.build(idol_cfg.model)
    idol.init_weights()
    if student_ckpt is not None:
        idol.load_state_dict(
            student_state(load_weights(student_ckpt, 'student_checkpoint')))
    models = dict(
        idol=idol,
        live=MODELS.build(live_cfg.model),
        cached=MODELS.build(cached_cfg.model))
    for name in ('live', 'cached'):
        models[name].student.load_state_dict(idol.state_dict())
    wrappers = {}
    for name, model in models.items():
        model.to(args.device).train()
        cfg = idol_cfg if name == 'idol' else live_cfg
        wrappers[name] = build_optim_wrapper(model, cfg.optim_wrapper)

    # identical batches
    loader_cfg = copy.deepcopy(live_cfg.train_dataloader)
    loader_cfg.update(num_workers=0, persistent_workers=False)
    loader = iter(Runner.build_dataloader(loader_cfg, seed=args.seed))
    num_batches = max(args.iters, 1)
    batches = []
    for _ in range(num_batches):
        live_batch = next(loader)
        pair = student_batch(live_batch)
        batches.append(dict(idol=pair, live=live_batch, cached=pair))

    live = models['live']

    def teacher_forward(batch):
        with torch.no_grad():
            data = live.data_preprocessor(batch, True)
            views = [
                live.clip_view(clip, b)
                for b, clip in enumerate(data['data_samples'])
            ]
            live.run_teacher(data['inputs'], data['data_samples'],
                             [v.teacher for v in views])

    times: Dict[str, List[float]] = dict(
        idol=[], live=[], cached=[], teacher=[])
    order = ['idol', 'live', 'cached', 'teacher']
    for rep in range(args.warmup + args.iters):
        batch = batches[rep % num_batches]
        shift = rep % len(order)
        for name in order[shift:] + order[:shift]:
            data = copy.deepcopy(batch['live' if name == 'teacher' else name])
            if name == 'teacher':
                seconds = time_step(lambda: teacher_forward(data), args.device)
            else:
                seconds = time_step(
                    lambda: models[name].train_step(data, wrappers[name]),
                    args.device, clock)
            if rep >= args.warmup:
                times[name].append(seconds)

    medians = {k: 1000 * statistics.median(v) for k, v in times.items()}
    # each repetition runs the models back to back on one batch: the
    # ratio of a repetition cancels the batch (frame size, instances) and
    # slow phases of a shared machine; report the median of those
    ratios = {
        k: statistics.median(a / b for a, b in zip(times[k], times['idol']))
        for k in ('live', 'cached', 'teacher')
    }
    teacher_frames = [
        len(live.clip_view(clip, b).teacher) for batch in batches
        for b, clip in enumerate(batch['live']['data_samples'])
    ]
    return dict(
        idol_ms=medians['idol'],
        live_ms=medians['live'],
        cached_ms=medians['cached'],
        teacher_ms=medians['teacher'],
        live_ratio=ratios['live'],
        cached_ratio=ratios['cached'],
        teacher_ratio=ratios['teacher'],
        batch_size=len(batches[0]['live']['data_samples']),
        clip_frames=int(batches[0]['live']['inputs'][0].size(0)),
        teacher_frames_mean=statistics.mean(teacher_frames),
        frame_size=list(batches[0]['live']['inputs'][0].shape[-2:]),
        # to the microsecond: the ratios are those of these times (a 0.1 ms
        # rounding moved a 100 ms step's ratio by up to 1e-3)
        times_ms={
            k: [round(1000 * t, 3) for t in v]
            for k, v in times.items()
        },
        iters=args.iters,
        warmup=args.warmup,
        device=args.device,
        threads=torch.get_num_threads(),
        clock=clock,
        data_root=data_root,
        trained_weights=student_ckpt is not None)


def print_table(result: Dict) -> None:
    rows = [('IDOL', result['idol_ms'], 1.0),
            ('OOKD, live teacher', result['live_ms'], result['live_ratio']),
            ('OOKD, cached teacher', result['cached_ms'],
             result['cached_ratio']),
            ('(live teacher forward alone)', result['teacher_ms'],
             result['teacher_ratio'])]
    print(f'\n{"train step":32s}{"median ms":>12s}{"x IDOL":>9s}  (median '
          'of the per-repetition ratios)')
    print('-' * 53)
    for name, ms, ratio in rows:
        print(f'{name:32s}{ms:12.1f}{ratio:9.2f}')
    print(f'\n{result["batch_size"]} clips a batch, student frames 2, '
          f'teacher frames a clip {result["teacher_frames_mean"]:.1f} '
          f'(packed clip {result["clip_frames"]}), frames '
          f'{result["frame_size"][0]}x{result["frame_size"][1]}, '
          f'{result["iters"]} repetitions after {result["warmup"]} warm-up, '
          f'{result["device"]}, {result["threads"]} threads, '
          f'{result["clock"]} time')
    print(f'targets: live <= 1.6x ({result["live_ratio"]:.2f}), cached <= '
          f'1.1x ({result["cached_ratio"]:.2f})')


def main(argv=None) -> Dict:
    args = parse_args(argv)
    if args.work_dir:
        os.makedirs(args.work_dir, exist_ok=True)
        result = run(args, args.work_dir)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            result = run(args, tmp)
    print_table(result)
    if args.json:
        print(json.dumps(result))
    return result


if __name__ == '__main__':
    main()
