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
from mmengine.runner import Runner

import mmookd  # noqa: F401  (registers mmookd and applies the shims)
from mmookd.utils.compat import trust_checkpoint


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
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint
    if args.amp:
        cfg.test_cfg.fp16 = True
    runner = Runner.from_cfg(cfg)
    if args.out is not None:
        assert args.out.endswith(('.pkl', '.pickle')), \
            '--out must be a .pkl file'
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
