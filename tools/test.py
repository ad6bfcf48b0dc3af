# Copyright (c) mmookd authors. All rights reserved.
"""Test (evaluate) a checkpoint with mmengine's Runner.

Example::

    python tools/test.py CONFIG CHECKPOINT [--out results.pkl]
    bash tools/dist_test.sh CONFIG CHECKPOINT 8
"""
import argparse
import json
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner

import mmookd  # noqa: F401  (registers mmookd and applies the shims)
from mmookd.utils.cfg_options import merge_cfg_options
from mmookd.utils.compat import trust_checkpoint
from mmookd.utils.tool_checks import (check_checkpoint_fits,
                                      check_writable_file, load_state_dict_of)


def parse_args():
    parser = argparse.ArgumentParser(description='Test a VIS model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the dir to save logs and results')
    parser.add_argument(
        '--out', help='dump the raw predictions to this pickle file')
    parser.add_argument(
        '--metrics-out',
        help='write the evaluation metrics to this JSON file')
    parser.add_argument(
        '--trust-checkpoint',
        action='store_true',
        help='fully unpickle CHECKPOINT (only for a file you trust; mmengine '
        'checkpoints load without it)')
    parser.add_argument(
        '--amp', action='store_true', help='test with mixed precision')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config keys, e.g. test_evaluator.format_only=True')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def evaluator_outputs(cfg: Config) -> list:
    """``(path, what)`` of the files the test evaluator(s) will write."""
    evaluators = cfg.get('test_evaluator') or []
    if isinstance(evaluators, dict):
        evaluators = evaluators.get('metrics', [evaluators])
    if isinstance(evaluators, dict):
        evaluators = [evaluators]
    outputs = []
    for metric in evaluators:
        prefix = metric.get('outfile_prefix') if hasattr(metric,
                                                         'get') else None
        if prefix:
            what = f'test_evaluator outfile_prefix ({metric.get("type")})'
            outputs += [(f'{prefix}.json', what), (f'{prefix}.zip', what)]
    return outputs


def check_outputs(args, cfg: Config) -> None:
    """Every output path must be writable before the evaluation starts."""
    if args.out is not None and not args.out.endswith(('.pkl', '.pickle')):
        raise ValueError(f'--out {args.out}: must be a .pkl file')
    outputs = [(args.out, '--out'), (args.metrics_out, '--metrics-out')]
    for path, what in outputs + evaluator_outputs(cfg):
        if path:
            check_writable_file(path, what)


# (column, metric key without prefix and subset) of the printed summary
SUMMARY_COLUMNS = (('AP', 'segm_mAP'), ('AP50', 'segm_mAP_50'),
                   ('HOTA', 'segm_HOTA'), ('DetA', 'segm_DetA'),
                   ('AssA', 'segm_AssA'), ('IDF1', 'segm_IDF1'),
                   ('IDSW', 'segm_IDSW'), ('AP_occL', 'segm_mAP_occ_light'),
                   ('AP_occM', 'segm_mAP_occ_medium'),
                   ('AP_occH', 'segm_mAP_occ_heavy'))


def format_summary(metrics: dict) -> str:
    """The headline figures of a VIS evaluation, one row per subset.

    Rows: the main keys, then each ``<subset>_`` prefix found (e.g. short,
    long, all); columns: those of :data:`SUMMARY_COLUMNS` that any row has
    (AP, HOTA, ... in percent; IDSW a count). '' when there is none.
    """
    values = {k.split('/')[-1]: v for k, v in metrics.items()}
    subsets = sorted({
        k[:-len(key) - 1]
        for k in values for _, key in SUMMARY_COLUMNS
        if k.endswith('_' + key) and k != key
    })
    rows = [('main', '')] + [(name, name + '_') for name in subsets]
    columns = [(c, key) for c, key in SUMMARY_COLUMNS
               if any(p + key in values for _, p in rows)]
    if not columns:
        return ''
    lines = ['subset  ' + ''.join(f'{c:>9}' for c, _ in columns)]
    for name, prefix in rows:
        cells = []
        for column, key in columns:
            v = values.get(prefix + key)
            if v is None or v < 0:
                cells.append(f'{"-":>9}')
            elif column == 'IDSW':
                cells.append(f'{int(v):>9d}')
            else:
                cells.append(f'{100 * v:>9.1f}')
        lines.append(f'{name:<8}' + ''.join(cells))
    return '\n'.join(lines)


def main():
    args = parse_args()
    if args.trust_checkpoint:
        trust_checkpoint(args.checkpoint)
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        merge_cfg_options(cfg, args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint
    if args.amp:
        cfg.test_cfg.fp16 = True
    check_outputs(args, cfg)
    runner = Runner.from_cfg(cfg)
    # mmengine loads with strict=False and only logs what is missing: a
    # checkpoint of another model would be tested with random weights
    model = runner.model.module if is_model_wrapper(
        runner.model) else runner.model
    check_checkpoint_fits(model, load_state_dict_of(args.checkpoint),
                          args.checkpoint)
    if args.out is not None:
        from mmengine.evaluator import DumpResults
        runner.test_evaluator.metrics.append(
            DumpResults(out_file_path=args.out))
    metrics = runner.test()
    summary = format_summary(metrics)
    if summary:
        print(summary, flush=True)
    if args.metrics_out:
        os.makedirs(osp.dirname(osp.abspath(args.metrics_out)), exist_ok=True)
        with open(args.metrics_out, 'w') as f:
            json.dump({k: float(v) for k, v in metrics.items()}, f, indent=1)


if __name__ == '__main__':
    main()
