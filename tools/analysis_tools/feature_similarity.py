# Copyright (c) mmookd authors. All rights reserved.
"""Same-instance feature similarity of online models (OOKD paper, Fig. 6).

For every validation video, each model runs frame by frame (no tracker);
in every frame each ground-truth instance picks its query with QFA (the
lowest class cross-entropy + GIoU cost, as in training), and the instance's
embedding in that frame is that query's contrastive embedding. The cosine
similarity of every pair of frames of the *same* instance is collected, and
so is that of every pair of *different* instances of the same video (which a
tracker must tell apart). A model whose features are consistent over time
puts the same-instance similarities near 1, far from the others.

    python tools/analysis_tools/feature_similarity.py \
        --configs IDOL_CFG OOKD_CFG --checkpoints IDOL_CKPT OOKD_CKPT \
        --labels IDOL OOKD --out outputs/feature_similarity.png [--json]

Prints a table per model (mean / median same-instance similarity, mean
different-instance similarity, and the separation: the share of
(same, different) pairs ranked correctly, an AUC) and writes the histogram.
"""
import argparse
import json
import os
import os.path as osp
from collections import defaultdict
from typing import Dict, List

import numpy as np
import torch
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData
from mmengine.utils import ProgressBar

import mmookd  # noqa: F401
from mmookd.evaluation.functional.knowledge import auc, separation


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Same-instance feature similarity (OOKD Fig. 6)')
    parser.add_argument('--configs', nargs='+', required=True)
    parser.add_argument('--checkpoints', nargs='+', required=True)
    parser.add_argument('--labels', nargs='+')
    parser.add_argument('--out', required=True, help='histogram PNG')
    parser.add_argument(
        '--max-videos', type=int, default=None, help='first N videos only')
    parser.add_argument(
        '--feature',
        choices=['embeds', 'queries'],
        default='embeds',
        help='the contrastive embedding (default) or the decoder query')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='applied to every config (e.g. dataset data_root)')
    parser.add_argument('--json', action='store_true')
    args = parser.parse_args(argv)
    if len(args.configs) != len(args.checkpoints):
        parser.error('--configs and --checkpoints must pair up')
    args.labels = args.labels or [
        osp.splitext(osp.basename(c))[0] for c in args.configs
    ]
    if len(args.labels) != len(args.configs):
        parser.error('one --labels entry per config')
    return args


def build_val_dataset(cfg: Config):
    """The validation videos, whole, with their GT boxes and labels."""
    from mmdet.registry import DATASETS
    ds_cfg = cfg.val_dataloader.dataset.copy()
    while 'dataset' in ds_cfg:
        ds_cfg = ds_cfg.dataset.copy()
    test_tf = cfg.val_dataloader.dataset.pipeline[0]['transforms']
    frame_tfs = [t for t in test_tf if t['type'] != 'LoadTrackAnnotations']
    frame_tfs.insert(1, dict(type='LoadTrackAnnotations', with_mask=False))
    ds_cfg.pipeline = [
        dict(type='TransformBroadcaster', transforms=frame_tfs),
        dict(type='PackTrackInputs')
    ]
    ds_cfg.test_mode = True
    return DATASETS.build(ds_cfg)


def build_model(cfg: Config, checkpoint: str):
    """The IDOL of a config, with the weights of an IDOL or OOKD checkpoint.

    An OOKD checkpoint holds its student under ``student.``; that prefix is
    taken off, so an IDOL config evaluates an OOKD checkpoint. The load is
    strict: a checkpoint that does not fit the model is an error.
    """
    from mmdet.registry import MODELS
    from mmengine.runner.checkpoint import _load_checkpoint
    model = MODELS.build(cfg.model)
    model = getattr(model, 'student', model)
    ckpt = _load_checkpoint(checkpoint, map_location='cpu')
    state = ckpt.get('state_dict', ckpt)
    if any(k.startswith('student.') for k in state):
        state = {
            k[len('student.'):]: v
            for k, v in state.items() if k.startswith('student.')
        }
    model.load_state_dict(state, strict=True)
    model.eval()
    return model


@torch.no_grad()
def instance_features(model, dataset, feature: str,
                      max_videos=None) -> Dict[tuple, List[np.ndarray]]:
    """{(video index, instance id): [feature of each frame it is in]}."""
    from mmdet.registry import TASK_UTILS
    assigner = TASK_UTILS.build(dict(type='QFAAssigner', match='argmin'))
    feats = defaultdict(list)
    num = len(dataset)
    if max_videos is not None:
        num = min(max_videos, num)
    progress = ProgressBar(num)
    for v in range(num):
        sample = dataset[v]
        data = model.data_preprocessor(
            dict(
                inputs=[sample['inputs']],
                data_samples=[sample['data_samples']]), False)
        inputs, track = data['inputs'], data['data_samples'][0]
        for t in range(len(track)):
            frame = track[t]
            gt = frame.gt_instances
            if len(gt) == 0:
                continue
            outs = model.extract_frame_queries(inputs[:, t], [frame])
            pred = InstanceData(
                cls_logits=outs['cls_logits'][0],
                bboxes=outs['bboxes_xyxy'][0])
            gt_data = InstanceData(
                labels=gt.labels,
                bboxes=getattr(gt.bboxes, 'tensor', gt.bboxes))
            sigma = assigner.assign(pred, gt_data)
            values = outs[feature][0]
            for m, inst_id in enumerate(gt.instances_ids.tolist()):
                if sigma[m] >= 0:
                    feats[(v, inst_id)].append(
                        values[sigma[m]].float().numpy())
        progress.update()
    return feats


def summarize(label: str, sims: Dict[str, list]) -> dict:
    same, diff = np.asarray(sims['same']), np.asarray(sims['different'])
    return dict(
        model=label,
        same_pairs=int(len(same)),
        same_mean=float(same.mean()) if len(same) else float('nan'),
        same_median=float(np.median(same)) if len(same) else float('nan'),
        different_pairs=int(len(diff)),
        different_mean=float(diff.mean()) if len(diff) else float('nan'),
        auc=auc(same.tolist(), diff.tolist()))


def plot(all_sims: Dict[str, Dict[str, list]], out: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(
        1, len(all_sims), figsize=(5 * len(all_sims), 3.6), squeeze=False)
    bins = np.linspace(-1, 1, 41)
    for ax, (label, sims) in zip(axes[0], all_sims.items()):
        ax.hist(sims['same'], bins=bins, alpha=0.7, density=True,
                label='same instance', color='tab:blue')
        ax.hist(sims['different'], bins=bins, alpha=0.5, density=True,
                label='different instances', color='tab:red')
        ax.set_title(label)
        ax.set_xlabel('cosine similarity')
        ax.legend(loc='upper left', fontsize=8)
    axes[0][0].set_ylabel('density')
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)


def main(argv=None) -> dict:
    args = parse_args(argv)
    all_sims, rows = {}, []
    for config, ckpt, label in zip(args.configs, args.checkpoints,
                                   args.labels):
        cfg = Config.fromfile(config)
        if args.cfg_options:
            cfg.merge_from_dict(args.cfg_options)
        init_default_scope(cfg.get('default_scope', 'mmdet'))
        print(f'\n{label}: {config} ({ckpt})')
        model = build_model(cfg, ckpt)
        dataset = build_val_dataset(cfg)
        feats = instance_features(model, dataset, args.feature,
                                  args.max_videos)
        all_sims[label] = separation(feats)
        rows.append(summarize(label, all_sims[label]))
    plot(all_sims, args.out)
    print(f'\n{"model":<12s}{"same pairs":>11s}{"same mean":>11s}'
          f'{"same med":>10s}{"diff mean":>11s}{"AUC":>8s}')
    for r in rows:
        print(f'{r["model"]:<12s}{r["same_pairs"]:>11d}{r["same_mean"]:>11.3f}'
              f'{r["same_median"]:>10.3f}{r["different_mean"]:>11.3f}'
              f'{r["auc"]:>8.3f}')
    print(f'histogram written to {args.out}')
    result = dict(models=rows, out=args.out)
    if args.json:
        print(json.dumps(result))
    return result


if __name__ == '__main__':
    main()
