# Copyright (c) mmookd authors. All rights reserved.
"""Train a model with mmengine's Runner (OpenMMLab's standard arguments).

Example::

    python tools/train.py configs/idol/idol_r50_8xb4-12k_youtube-vis-2021.py
    bash tools/dist_train.sh CONFIG 8 [--amp] [--resume]
"""
import argparse
import os
import os.path as osp

import torch
import torch.distributed as torch_dist
from mmengine.config import Config, DictAction
from mmengine.runner import Runner

import mmookd  # noqa: F401  (registers mmookd and applies the shims)
from mmookd.utils.cfg_options import merge_cfg_options
from mmookd.utils.compat import trust_checkpoint
from mmookd.utils.pretrained_check import FromScratchError, check_pretrained


def parse_args():
    parser = argparse.ArgumentParser(description='Train a VIS model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--amp', action='store_true', help='enable automatic mixed precision')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the learning rate by the real batch size')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from the given checkpoint, or from the latest one in '
        'the work dir when no path is given')
    parser.add_argument(
        '--trust-checkpoint',
        action='append',
        default=[],
        metavar='PATH',
        help='fully unpickle this checkpoint file (only for files you trust; '
        'mmengine checkpoints load without it)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config keys, e.g. train_cfg.max_iters=100')
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


def build_cfg(args) -> Config:
    """Merge the command-line arguments into the config."""
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        merge_cfg_options(cfg, args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    if args.amp:
        optim_type = cfg.optim_wrapper.get('type', 'OptimWrapper')
        if optim_type == 'AmpOptimWrapper':
            print('AMP is already enabled in the config.')
        else:
            assert optim_type == 'OptimWrapper', (
                f'--amp needs optim_wrapper.type OptimWrapper, got '
                f'{optim_type}')
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.loss_scale = 'dynamic'
    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg or 'base_batch_size' not in \
                cfg.auto_scale_lr:
            raise RuntimeError('--auto-scale-lr needs `auto_scale_lr = '
                               'dict(enable=..., base_batch_size=...)` in '
                               'the config')
        cfg.auto_scale_lr.enable = True
    if args.resume == 'auto':
        check_last_checkpoint(cfg.work_dir)
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    return cfg


def check_last_checkpoint(work_dir: str) -> None:
    """``--resume`` without a path reads ``work_dir/last_checkpoint``:
    refuse an empty one (a run killed while writing it) or one that names
    a missing file, listing the checkpoints that are there."""
    save_file = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(save_file):
        return  # nothing to resume: mmengine starts afresh and says so
    with open(save_file) as f:
        name = f.read().strip()
    if name and osp.isfile(name):
        return
    found = sorted(
        (f for f in os.listdir(work_dir)
         if f.endswith('.pth') and f.split('_')[0] in ('iter', 'epoch')),
        key=lambda f: int(''.join(c for c in f if c.isdigit()) or 0))
    hint = (f'resume one of them with --resume {osp.join(work_dir, found[-1])}'
            if found else 'no iter_*/epoch_* checkpoint is there')
    problem = ('is empty (a run killed while writing it?)' if not name else
               f'names {name}, which does not exist')
    raise FileNotFoundError(
        f'--resume: {save_file} {problem}. Checkpoints in {work_dir}: '
        f'{found}; {hint}, or delete {save_file} to start afresh.')


def setup_cpu_distributed(cfg: Config) -> None:
    """Distributed training without CUDA: gloo, and DDP without devices.

    mmengine's ``init_dist`` calls ``torch.cuda.set_device`` (which raises on
    a CPU-only torch) and the configs ask for nccl; mmengine's default DDP
    wrapper passes ``device_ids=[LOCAL_RANK]``, which DDP refuses for a CPU
    module. Start the gloo process group here (the Runner then skips its
    own) and give DDP ``device_ids=None``.
    """
    if cfg.launcher == 'none' or torch.cuda.is_available():
        return
    env_cfg = cfg.get('env_cfg', dict())
    cfg.env_cfg = dict(
        env_cfg, dist_cfg=dict(env_cfg.get('dist_cfg', dict()),
                               backend='gloo'))
    if not torch_dist.is_initialized():
        torch_dist.init_process_group(backend='gloo')
    wrapper = cfg.get('model_wrapper_cfg') or dict(
        type='MMDistributedDataParallel',
        broadcast_buffers=False,
        find_unused_parameters=cfg.get('find_unused_parameters', False))
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper


def main():
    args = parse_args()
    for path in args.trust_checkpoint:
        trust_checkpoint(path)
    cfg = build_cfg(args)
    try:
        # a real-dataset run must not silently start from random weights
        check_pretrained(cfg, args.config)
    except FromScratchError as err:
        raise SystemExit(f'tools/train.py: {err}') from None
    setup_cpu_distributed(cfg)
    if 'runner_type' not in cfg:
        runner = Runner.from_cfg(cfg)
    else:
        from mmengine.registry import RUNNERS
        runner = RUNNERS.build(cfg)
    runner.train()


if __name__ == '__main__':
    main()
