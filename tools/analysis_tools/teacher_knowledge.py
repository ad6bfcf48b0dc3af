# Copyright (c) mmookd authors. All rights reserved.
"""Is the teacher's knowledge worth distilling? Diagnostics of OOKD's pairs.

    python tools/analysis_tools/teacher_knowledge.py [WORK_DIR] \\
        [--teacher-match frame|track] [--teacher-boxes mask|reference] \\
        [--max-videos N] [--out PNG] [--json]

WORK_DIR is a pipeline work dir (default ``work_dirs/ookd_pipeline/
synthvis``, what ``make demo`` leaves) with ``idol/`` (the stage-1 IDOL) and
``teacher/`` (the stage-2 teacher) checkpoints. Over the **un-augmented**
training videos (the frames and passes the teacher cache uses, see
``tools/ookd/cache_teacher.py``), the live teacher and the stage-1 IDOL
(frame by frame, the student of stage 3 at its start) each pick a query for
every GT of every frame with QFA (the OOKD config's assigner; the teacher
with ``teacher_match`` / ``teacher_boxes``), and the tool reports per model
(:mod:`mmookd.evaluation.functional.knowledge`):

- pick quality: share of frame-GTs whose pick has box IoU >= 0.5 and the
  GT's class (no pick: a miss). The teacher's box is the one its QFA used.
- collisions: share of frames (>= 2 picked GTs) where two GTs share a pick.
- switches: share of tracks whose pick changes between frames.
- target separation: AUC of same-instance vs different-instance cosine
  pairs within a video, of the teacher's targets ``f^off`` and of the
  stage-1 IDOL's per-frame embeddings of its picks (those its tracker
  associates with).

It writes a histogram PNG of both (default ``outputs/demo/
teacher_knowledge.png``) and, with ``--json``, one JSON object as the last
line with ``teacher_pick_quality``, ``student_pick_quality``,
``collisions``, ``switches``, ``teacher_auc``, ``student_auc`` (and the
student's collisions/switches, the teacher's target collisions).
"""
import argparse
import copy
import glob
import json
import os
import os.path as osp
import sys
from collections import defaultdict

import numpy as np
import torch
from mmdet.datasets.transforms import BaseFrameSample
from mmdet.registry import DATASETS, MODELS
from mmdet.structures.bbox import get_box_tensor
from mmengine.config import Config, DictAction
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData
from mmengine.utils import ProgressBar, import_modules_from_strings

import mmookd  # noqa: F401
from mmookd.evaluation.functional.knowledge import (auc, collision_rate,
                                                    pick_quality, separation,
                                                    switch_rate)
from mmookd.models.vis.ookd import (load_weights, student_state,
                                    teacher_has_base)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(ROOT, 'tools', 'ookd'))
from cache_teacher import (cache_passes, cache_pipeline,  # noqa: E402
                           default_max_frames, video_dataset_cfg)

DEFAULT_CONFIG = 'configs/ookd/ookd_r18-w32_1xb4-2k_synthvis.py'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Diagnostics of the teacher\'s and the student\'s QFA '
        'picks and targets')
    parser.add_argument(
        'work_dir',
        nargs='?',
        default='work_dirs/ookd_pipeline/synthvis',
        help='pipeline work dir with idol/ and teacher/ checkpoints')
    parser.add_argument(
        '--config',
        default=DEFAULT_CONFIG,
        help='an OOKD config (its teacher, QFA and training videos)')
    parser.add_argument('--idol-checkpoint', help='default: WORK_DIR/idol/')
    parser.add_argument(
        '--teacher-checkpoint', help='default: WORK_DIR/teacher/')
    parser.add_argument('--teacher-match', choices=['frame', 'track'])
    parser.add_argument('--teacher-boxes', choices=['mask', 'reference'])
    parser.add_argument('--max-videos', type=int)
    parser.add_argument(
        '--out',
        default='outputs/demo/teacher_knowledge.png',
        help='histogram PNG')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--no-progress', action='store_true')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    parser.add_argument('--json', action='store_true')
    return parser.parse_args(argv)


def last_checkpoint(folder: str) -> str:
    """The newest ``iter_*.pth`` of a work dir."""
    ckpts = glob.glob(osp.join(folder, 'iter_*.pth'))
    if not ckpts:
        raise SystemExit(f'teacher_knowledge: no checkpoint in {folder} '
                         '(run make demo or tools/ookd_pipeline.py first)')
    return max(ckpts, key=lambda p: int(osp.basename(p)[5:-4]))


def build(args):
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if cfg.get('custom_imports'):
        import_modules_from_strings(**cfg.custom_imports)
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    idol_ckpt = args.idol_checkpoint or last_checkpoint(
        osp.join(args.work_dir, 'idol'))
    teacher_ckpt = args.teacher_checkpoint or last_checkpoint(
        osp.join(args.work_dir, 'teacher'))
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.update(teacher_cache=None, teacher_checkpoint=teacher_ckpt)
    if teacher_has_base(model_cfg.teacher):
        # an IDOL-based teacher: its frozen stage-1 IDOL (a teacher of its
        # own, e.g. Mask2FormerVISTeacher, has none)
        model_cfg.teacher['base_checkpoint'] = idol_ckpt
    if args.teacher_match:
        model_cfg['teacher_match'] = args.teacher_match
    if args.teacher_boxes:
        model_cfg['teacher_boxes'] = args.teacher_boxes
    model = MODELS.build(model_cfg).to(args.device).eval()
    if not hasattr(model.teacher, 'frame_queries'):
        # a teacher without a frozen IDOL inside (Mask2FormerVISTeacher):
        # the stage-1 IDOL's side runs on its own
        model.stage1 = stage1_idol(cfg.model.student, idol_ckpt, args.device)
    ds_cfg = video_dataset_cfg(cfg)
    ds_cfg.update(pipeline=[], test_mode=False)
    dataset = DATASETS.build(ds_cfg)
    max_frames = default_max_frames(cfg) or None
    return model, dataset, Compose(cache_pipeline(cfg)), max_frames


def stage1_idol(student_cfg, checkpoint: str, device: str):
    """The stage-1 IDOL (the student's config, the IDOL checkpoint)."""
    idol = MODELS.build(copy.deepcopy(student_cfg))
    idol.load_state_dict(
        student_state(load_weights(checkpoint, '--idol-checkpoint')),
        strict=True)
    return idol.to(device).eval()


def idol_frame_outs(idol, inputs, clip) -> list:
    """The per-frame outputs of ``idol`` on the T frames of one clip, as
    an IDOL-based teacher's ``frame_queries(..., keep_frame_outs=True)``
    gives them: a list of T dicts of (1, ...) tensors."""
    frames = inputs[0]
    samples = [clip[t] for t in range(len(clip))]
    for sample in samples:
        sample.set_metainfo(dict(batch_input_shape=tuple(frames.shape[-2:])))
    outs = idol.extract_frame_queries(frames, samples)
    keys = ('cls_logits', 'bboxes_xyxy', 'embeds')
    return [{k: outs[k][t:t + 1]
             for k in keys} for t in range(len(samples))]


@torch.no_grad()
def collect(model, dataset, pipeline, max_frames, args):
    """One record list per side: rows of (video, frame, GT) facts."""
    sampler = BaseFrameSample()
    sides = {s: defaultdict(list) for s in ('teacher', 'student')}
    frames_of = {s: [] for s in sides}
    tracks_of = {s: defaultdict(list) for s in sides}
    feats_of = {s: defaultdict(list) for s in sides}
    num = len(dataset) if args.max_videos is None else min(
        args.max_videos, len(dataset))
    progress = None if args.no_progress else ProgressBar(num)
    teacher = model.teacher
    for idx in range(num):
        info = dataset.get_data_info(idx)
        for frames in cache_passes(info['video_length'], model.teacher_window,
                                   max_frames):
            results = pipeline(sampler.prepare_data(copy.deepcopy(info),
                                                    frames))
            data = model.data_preprocessor(pseudo_collate([results]), False)
            inputs = data['inputs'].to(args.device)
            clip = data['data_samples'][0]
            extra = {}
            if hasattr(teacher, 'frame_queries'):
                # the frozen IDOL once: its per-frame outputs are the
                # stage-1 student's, and the teacher aggregates that state
                state = teacher.frame_queries(
                    inputs, [clip], keep_frame_outs=True)
                extra['frame_state'] = state
                frame_outs = state['frame_outs']
            else:
                frame_outs = idol_frame_outs(model.stage1, inputs, clip)
            out = model.clip_knowledge(
                teacher.extract_offline(
                    inputs, [clip],
                    with_masks=model.teacher_match == 'track',
                    **extra), 0, clip)
            picks = model.teacher_picks(out, clip)
            boxes = out['mask_bboxes'] if model.teacher_boxes == 'mask' \
                else out['bboxes']
            for t in range(len(frames)):
                sample = clip[t]
                gt = sample.gt_instances
                key = (int(sample.metainfo['video_id']),
                       int(sample.metainfo['frame_id']))
                gt_boxes = get_box_tensor(gt.bboxes).cpu().numpy()
                ids = gt.instances_ids.tolist()
                # the teacher
                sigma = picks[t].cpu()
                add(sides['teacher'], sigma, boxes[t].cpu(),
                    out['cls_logits'].argmax(-1).cpu(), gt_boxes, gt.labels)
                record(frames_of['teacher'], tracks_of['teacher'],
                       feats_of['teacher'], key, ids, sigma,
                       out['feats'].cpu())
                # the stage-1 IDOL on this frame
                frame = frame_outs[t]
                preds = InstanceData(
                    cls_logits=frame['cls_logits'][0],
                    bboxes=frame['bboxes_xyxy'][0])
                gts = InstanceData(
                    labels=gt.labels.to(args.device),
                    bboxes=get_box_tensor(gt.bboxes).to(args.device))
                s_sigma = model.assigner.assign(preds, gts).cpu()
                add(sides['student'], s_sigma, frame['bboxes_xyxy'][0].cpu(),
                    frame['cls_logits'][0].argmax(-1).cpu(), gt_boxes,
                    gt.labels)
                record(frames_of['student'], tracks_of['student'],
                       feats_of['student'], key, ids, s_sigma,
                       frame['embeds'][0].cpu())
        if progress is not None:
            progress.update()
    return sides, frames_of, tracks_of, feats_of


def add(rows, sigma, boxes, labels, gt_boxes, gt_labels):
    """Append the pick facts of one frame's GTs to ``rows``."""
    picked = (sigma >= 0).numpy()
    index = sigma.clamp(min=0)
    rows['picked'].extend(picked.tolist())
    rows['boxes'].extend(boxes[index].numpy().tolist())
    rows['labels'].extend(labels[index].numpy().tolist())
    rows['gt_boxes'].extend(gt_boxes.tolist())
    rows['gt_labels'].extend(gt_labels.cpu().numpy().tolist())


def record(frames, tracks, feats, key, ids, sigma, features):
    """Per-frame picks, per-track picks and picked features."""
    video, _ = key
    frames.append(sigma.tolist())
    for inst, pick in zip(ids, sigma.tolist()):
        tracks[(video, int(inst))].append(pick)
        if pick >= 0:
            feats[(video, int(inst))].append(features[pick].numpy())


def plot(sims, out):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), squeeze=False)
    bins = np.linspace(-1, 1, 41)
    titles = dict(teacher='teacher targets f^off (QFA picks)',
                  student='stage-1 IDOL embeddings (QFA picks)')
    for ax, side in zip(axes[0], ('teacher', 'student')):
        ax.hist(sims[side]['same'], bins=bins, alpha=0.7, density=True,
                label='same instance', color='tab:blue')
        ax.hist(sims[side]['different'], bins=bins, alpha=0.5, density=True,
                label='different instances', color='tab:red')
        ax.set_title(titles[side], fontsize=10)
        ax.set_xlabel('cosine similarity')
        ax.legend(loc='upper left', fontsize=8)
    axes[0][0].set_ylabel('density')
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)


def main(argv=None) -> dict:
    args = parse_args(argv)
    model, dataset, pipeline, max_frames = build(args)
    with torch.no_grad():  # not set_grad_enabled: callers keep their mode
        sides, frames_of, tracks_of, feats_of = collect(
            model, dataset, pipeline, max_frames, args)
    result = dict(
        teacher_match=model.teacher_match, teacher_boxes=model.teacher_boxes)
    sims = {}
    for side in ('teacher', 'student'):
        rows = sides[side]
        sims[side] = separation(feats_of[side])
        result[f'{side}_pick_quality'] = pick_quality(
            rows['picked'], np.asarray(rows['boxes']), rows['labels'],
            np.asarray(rows['gt_boxes']), rows['gt_labels'])
        result[f'{side}_picked'] = float(np.mean(rows['picked']))
        result[f'{side}_collisions'] = collision_rate(frames_of[side])
        result[f'{side}_switches'] = switch_rate(tracks_of[side])
        result[f'{side}_auc'] = auc(sims[side]['same'],
                                    sims[side]['different'])
        result[f'{side}_same_mean'] = float(np.mean(sims[side]['same']))
        result[f'{side}_different_mean'] = float(
            np.mean(sims[side]['different']))
    result['collisions'] = result['teacher_collisions']
    result['switches'] = result['teacher_switches']
    result['rows'] = len(sides['teacher']['picked'])
    plot(sims, args.out)
    print(f'\nQFA picks over {result["rows"]} frame-GTs of '
          f'{min(args.max_videos or len(dataset), len(dataset))} '
          f'un-augmented training videos (teacher: '
          f'teacher_match={model.teacher_match}, '
          f'teacher_boxes={model.teacher_boxes})')
    header = ['', 'picked', 'quality', 'collisions', 'switches', 'AUC',
              'same cos', 'diff cos']
    print(''.join(f'{h:>12s}' for h in header))
    for side, name in (('teacher', 'teacher'), ('student', 'stage-1 IDOL')):
        values = [result[f'{side}_{k}'] for k in (
            'picked', 'pick_quality', 'collisions', 'switches', 'auc',
            'same_mean', 'different_mean')]
        print(f'{name:>12s}' + ''.join(f'{v:>12.3f}' for v in values))
    print(f'histogram: {args.out}')
    if args.json:
        print(json.dumps(result))
    return result


if __name__ == '__main__':
    main()
