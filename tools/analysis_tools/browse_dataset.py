# Copyright (c) mmookd authors. All rights reserved.
"""Render video clips of a dataset with masks, instance ids and class names.

Draws with mmdet's ``TrackLocalVisualizer`` and writes one PNG contact sheet:
one row per video, one column per shown frame.

Two modes:

- ``--mode raw`` (default): the annotated frames as they are on disk,
  read through the config's dataset (no augmentation).
- ``--mode pipeline``: what the model sees, i.e. the samples that the
  config's training pipeline produces (frame sampling, resize, flip,
  copy-paste, ...), taken from the packed inputs.

Examples::

    python tools/analysis_tools/browse_dataset.py \
        configs/_base_/datasets/synthvis.py --out outputs/synthvis_sheet.png
    python tools/analysis_tools/browse_dataset.py CONFIG --mode pipeline \
        --num-videos 4 --out after.png
"""
import argparse
import os
import os.path as osp
import random
import warnings
from typing import List, Optional, Sequence

import cv2
import numpy as np
import torch
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData
from mmengine.utils import ProgressBar
from pycocotools import mask as mask_utils

import mmookd  # noqa: F401


def parse_args():
    parser = argparse.ArgumentParser(
        description='Render dataset clips to a PNG contact sheet')
    parser.add_argument('config', help='config with a train_dataloader')
    parser.add_argument(
        '--split',
        choices=['train', 'val', 'test'],
        default='train',
        help='which dataloader of the config to read')
    parser.add_argument(
        '--mode', choices=['raw', 'pipeline'], default='raw')
    parser.add_argument('--out', required=True, help='output PNG file')
    parser.add_argument(
        '--num-videos', type=int, default=6, help='rows of the sheet')
    parser.add_argument(
        '--num-frames', type=int, default=6, help='columns (raw mode)')
    parser.add_argument(
        '--start', type=int, default=0, help='index of the first video')
    parser.add_argument(
        '--seed',
        type=int,
        default=None,
        help='pipeline mode: seed the random generators with SEED + video '
        'index before each sample, so two configs (e.g. with and without '
        'MinorPaste) show the same frames, sizes and flips')
    parser.add_argument(
        '--long-only',
        action='store_true',
        help='show only the long videos (a dataset with long_video_ids)')
    parser.add_argument(
        '--scale',
        type=float,
        default=2.0,
        help='upscale small frames before drawing so labels stay legible')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config keys, e.g. data_root=data/synthvis/')
    return parser.parse_args()


def decode_mask(mask, height: int, width: int) -> np.ndarray:
    """Decode an RLE dict or polygon list to an (H, W) uint8 mask."""
    if isinstance(mask, dict):
        rle = mask
        if isinstance(rle.get('counts'), list):
            rle = mask_utils.frPyObjects(rle, height, width)
    else:
        rle = mask_utils.merge(mask_utils.frPyObjects(mask, height, width))
    return mask_utils.decode(rle).astype(np.uint8)


def frame_instances(frame: dict, scale: float) -> InstanceData:
    """InstanceData (bboxes, labels, masks, instances_id) of a raw frame."""
    h, w = frame['height'], frame['width']
    out_h, out_w = int(round(h * scale)), int(round(w * scale))
    insts = frame.get('instances', [])
    masks = np.zeros((len(insts), out_h, out_w), dtype=bool)
    for i, inst in enumerate(insts):
        if inst.get('mask') is not None:
            m = decode_mask(inst['mask'], h, w)
            masks[i] = cv2.resize(
                m, (out_w, out_h), interpolation=cv2.INTER_NEAREST) > 0
    data = InstanceData()
    data.bboxes = torch.tensor([inst['bbox'] for inst in insts],
                               dtype=torch.float32).reshape(-1, 4) * scale
    data.labels = torch.tensor([inst['bbox_label'] for inst in insts],
                               dtype=torch.long)
    data.instances_id = torch.tensor(
        [inst['instance_id'] for inst in insts], dtype=torch.long)
    data.masks = masks
    return data


def draw(visualizer, image_rgb: np.ndarray,
         instances: InstanceData) -> np.ndarray:
    """Draw instances on an RGB image with the TrackLocalVisualizer."""
    from mmdet.structures import DetDataSample
    sample = DetDataSample()
    sample.gt_instances = instances
    visualizer.add_datasample(
        'frame', image_rgb, sample, draw_gt=True, draw_pred=False)
    return visualizer.get_image()


def pick(n: int, k: int) -> List[int]:
    """``k`` frame indices spread evenly over ``n`` frames."""
    if n <= k:
        return list(range(n))
    return sorted({int(round(x)) for x in np.linspace(0, n - 1, k)})


def raw_rows(dataset, visualizer, indices: Sequence[int], num_frames: int,
             scale: float) -> List[List[np.ndarray]]:
    """Draw ``num_frames`` frames of each video straight from its files."""
    rows = []
    progress = ProgressBar(len(indices))
    for idx in indices:
        video = dataset.get_data_info(idx)
        frames = video['images']
        row = []
        for f in pick(len(frames), num_frames):
            frame = frames[f]
            img = cv2.imread(frame['img_path'], cv2.IMREAD_COLOR)
            if img is None:
                raise FileNotFoundError(
                    f"cannot read frame {f} of video {video['video_id']}: "
                    f"{frame['img_path']}")
            img = cv2.resize(img, None, fx=scale, fy=scale,
                             interpolation=cv2.INTER_NEAREST)
            row.append(draw(visualizer, img[..., ::-1].copy(),
                            frame_instances(frame, scale)))
        rows.append(row)
        progress.update()
    return rows


def pipeline_rows(dataset,
                  visualizer,
                  indices: Sequence[int],
                  scale: float,
                  seed: Optional[int] = None) -> List[List[np.ndarray]]:
    """Draw the frames of the packed samples of the training pipeline.

    With ``seed``, the random generators are seeded with ``seed + index``
    before each sample, so that the same samples can be drawn again.
    """
    rows = []
    progress = ProgressBar(len(indices))
    for idx in indices:
        if seed is not None:
            random.seed(seed + idx)
            np.random.seed(seed + idx)
            torch.manual_seed(seed + idx)
        packed = dataset[idx]
        inputs = packed['inputs']  # (T, C, H, W) BGR uint8
        track_sample = packed['data_samples']
        row = []
        for t, det_sample in enumerate(track_sample):
            img = inputs[t].permute(1, 2, 0).numpy()
            img = cv2.resize(img, None, fx=scale, fy=scale,
                             interpolation=cv2.INTER_NEAREST)
            gt = det_sample.gt_instances
            masks = gt.masks.to_ndarray() if hasattr(
                gt.masks, 'to_ndarray') else np.asarray(gt.masks)
            masks = np.stack([
                cv2.resize(m.astype(np.uint8), (img.shape[1], img.shape[0]),
                           interpolation=cv2.INTER_NEAREST) > 0 for m in masks
            ]) if len(masks) else np.zeros((0, ) + img.shape[:2], bool)
            data = InstanceData()
            bboxes = gt.bboxes
            bboxes = getattr(bboxes, 'tensor', bboxes)
            data.bboxes = bboxes.float() * scale
            data.labels = gt.labels
            data.instances_id = gt.instances_ids
            data.masks = masks
            row.append(draw(visualizer, img[..., ::-1].copy(), data))
        rows.append(row)
        progress.update()
    return rows


def contact_sheet(rows: List[List[np.ndarray]], pad: int = 4,
                  background: int = 255) -> np.ndarray:
    """Tile RGB images (rows may differ in length) into one RGB image."""
    cell_h = max(img.shape[0] for row in rows for img in row)
    cell_w = max(img.shape[1] for row in rows for img in row)
    ncols = max(len(row) for row in rows)
    sheet = np.full(
        (len(rows) * (cell_h + pad) + pad, ncols * (cell_w + pad) + pad, 3),
        background,
        dtype=np.uint8)
    for r, row in enumerate(rows):
        for c, img in enumerate(row):
            y, x = pad + r * (cell_h + pad), pad + c * (cell_w + pad)
            sheet[y:y + img.shape[0], x:x + img.shape[1]] = img
    return sheet


def browse(cfg: Config,
           out: str,
           split: str = 'train',
           mode: str = 'raw',
           num_videos: int = 6,
           num_frames: int = 6,
           start: int = 0,
           scale: float = 2.0,
           long_only: bool = False,
           seed: Optional[int] = None) -> Optional[str]:
    """Render a contact sheet of ``num_videos`` clips to ``out`` (PNG).

    Videos ``start .. start + num_videos - 1`` of the split are shown (of its
    long videos only, with ``long_only``).
    """
    from mmdet.registry import DATASETS, VISUALIZERS
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    dataset_cfg = cfg[f'{split}_dataloader']['dataset']
    if mode == 'raw':
        dataset_cfg = dataset_cfg.copy()
        while 'dataset' in dataset_cfg:  # unwrap dataset wrappers
            dataset_cfg = dataset_cfg['dataset'].copy()
        dataset_cfg['pipeline'] = []
        dataset_cfg['test_mode'] = False
        dataset_cfg.setdefault('filter_cfg', None)
    dataset = DATASETS.build(dataset_cfg)
    visualizer = VISUALIZERS.build(
        dict(type='TrackLocalVisualizer', name=f'browse_{os.getpid()}',
             line_width=1))
    visualizer.dataset_meta = dataset.metainfo
    candidates = list(range(len(dataset)))
    if long_only:
        candidates = [
            i for i in candidates if dataset.get_data_info(i).get('is_long')
        ]
    indices = candidates[start:start + num_videos]
    if not indices:
        raise ValueError(
            f'the {split} dataset has {len(candidates)} '
            f'{"long " if long_only else ""}videos; nothing to show from '
            f'index {start}')
    if mode == 'raw':
        rows = raw_rows(dataset, visualizer, indices, num_frames, scale)
    else:
        rows = pipeline_rows(dataset, visualizer, indices, scale, seed)
    sheet = contact_sheet(rows)
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    cv2.imwrite(out, sheet[..., ::-1])
    return out


def main():
    # Boxes of objects that leave the frame are drawn clipped: not a problem.
    warnings.filterwarnings('ignore', message='Warning: The .* out of bounds')
    args = parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    out = browse(cfg, args.out, args.split, args.mode, args.num_videos,
                 args.num_frames, args.start, args.scale, args.long_only,
                 args.seed)
    print(f'\ncontact sheet written to {out}')


if __name__ == '__main__':
    main()
