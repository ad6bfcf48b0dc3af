# Copyright (c) mmookd authors. All rights reserved.
"""Run OOKD's frozen teacher once over the training videos and cache its
knowledge (see ``docs/ookd.md`` and :mod:`mmookd.utils.teacher_cache`).

    python tools/ookd/cache_teacher.py CONFIG --out FILE \\
        [--teacher-checkpoint PTH] [--max-frames N] [--device cuda] \\
        [--cfg-options ...]

CONFIG is an OOKD config (``model.type='OOKD'``). The teacher is built as
the model builds it (``model.teacher``, ``model.teacher_checkpoint``) and
runs on the videos of ``train_dataloader``'s video dataset (wrappers such as
``ClipMixDataset`` are looked through), **un-augmented**: the frames go
through the test pipeline (``test_dataloader.dataset.pipeline``) with
``LoadTrackAnnotations`` added, so the frames have the test size and no
flip. For every frame, the teacher's QFA (``model.assigner``) picks a video
query for every ground truth; the file stores that query's feature
(``model.distill_feature``) under ``(video id, frame id, instance id)``.

Which frames the teacher sees at once: the whole video (the paper); with
``model.teacher_window = W`` consecutive chunks of W frames; a video (or
chunk) longer than ``--max-frames`` is seen in strided passes of at most
that many frames (``t, t + P, t + 2P, ...`` for ``t < P``), each spread over
the whole video (chunk), and every frame gets its entry from its pass.
``--max-frames`` defaults to the ``max_teacher_frames`` of the config's
``OOKDFrameSample`` (none there: no bound).

Then train with ``model.teacher_cache=FILE`` (or
``dict(file=FILE, ann_file=...)``), e.g. the ``*_cached-teacher_*`` configs.
"""
import argparse
import copy
import math
from typing import List, Optional

import torch
from mmdet.datasets.transforms import BaseFrameSample
from mmdet.registry import DATASETS, MODELS
from mmengine.config import Config, DictAction
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import init_default_scope
from mmengine.utils import ProgressBar, import_modules_from_strings

import mmookd  # noqa: F401  (registers every module)
from mmookd.models.vis.ookd import OOKD
from mmookd.utils.teacher_cache import (TeacherCacheWriter, config_dump,
                                        file_sha256)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Cache the knowledge of OOKD\'s frozen teacher')
    parser.add_argument('config', help='an OOKD config')
    parser.add_argument('--out', required=True, help='output cache file')
    parser.add_argument(
        '--teacher-checkpoint',
        help='the teacher\'s weights (default: model.teacher_checkpoint)')
    parser.add_argument(
        '--max-frames',
        type=int,
        help='most frames the teacher sees at once (default: the config\'s '
        'OOKDFrameSample.max_teacher_frames; 0: no bound)')
    parser.add_argument(
        '--device',
        default='cuda' if torch.cuda.is_available() else 'cpu',
        help='device to run the teacher on')
    parser.add_argument(
        '--no-progress', action='store_true', help='no progress bar')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value')
    return parser.parse_args(argv)


def video_dataset_cfg(cfg: Config) -> dict:
    """The video dataset inside ``train_dataloader.dataset`` (wrappers such
    as ``ClipMixDataset`` / ``MultiImageMixDataset`` looked through)."""
    ds_cfg = copy.deepcopy(cfg.train_dataloader.dataset)
    while 'dataset' in ds_cfg:
        ds_cfg = ds_cfg['dataset']
    return ds_cfg


def cache_pipeline(cfg: Config) -> List[dict]:
    """The test pipeline with ``LoadTrackAnnotations`` (boxes, labels, ids,
    masks: the video-level matching of ``teacher_match='track'``).

    Raises:
        ValueError: the test pipeline has no ``TransformBroadcaster``.
    """
    pipeline = copy.deepcopy(cfg.test_dataloader.dataset.pipeline)
    for step in pipeline:
        if step['type'] != 'TransformBroadcaster':
            continue
        transforms = step['transforms']
        if not any(t['type'] == 'LoadTrackAnnotations' for t in transforms):
            transforms.insert(
                1, dict(type='LoadTrackAnnotations', with_mask=True))
        return pipeline
    raise ValueError('cache_teacher: test_dataloader.dataset.pipeline has no '
                     'TransformBroadcaster step to add LoadTrackAnnotations '
                     'to')


def default_max_frames(cfg: Config) -> Optional[int]:
    """``model.teacher_cache.max_frames`` of a cached config, else the
    ``max_teacher_frames`` of the config's ``OOKDFrameSample``, if any."""
    cache = cfg.model.get('teacher_cache')
    if isinstance(cache, dict) and 'max_frames' in cache:
        return cache['max_frames']
    ds_cfg = cfg.train_dataloader.dataset
    while True:
        for step in ds_cfg.get('pipeline', []):
            if step.get('type') == 'OOKDFrameSample':
                return step.get('max_teacher_frames', 36)
        if 'dataset' not in ds_cfg:
            return None
        ds_cfg = ds_cfg['dataset']


def cache_passes(length: int, window: Optional[int],
                 max_frames: Optional[int]) -> List[List[int]]:
    """The frame sets the teacher sees at once (module docstring).

    Example:
        >>> cache_passes(5, None, None)
        [[0, 1, 2, 3, 4]]
        >>> cache_passes(5, None, 2)
        [[0, 3], [1, 4], [2]]
        >>> cache_passes(5, 2, None)
        [[0, 1], [2, 3], [4]]
    """
    size = length if window is None else window
    chunks = [
        list(range(start, min(start + size, length)))
        for start in range(0, length, size)
    ]
    passes = []
    for chunk in chunks:
        if max_frames is None or len(chunk) <= max_frames:
            passes.append(chunk)
            continue
        stride = math.ceil(len(chunk) / max_frames)
        passes += [chunk[offset::stride] for offset in range(stride)]
    return passes


@torch.no_grad()
def cache_video(model: OOKD, pipeline: Compose, info: dict,
                passes: List[List[int]], writer: TeacherCacheWriter,
                device: str) -> None:
    """Run the teacher on one video and add its frames to ``writer``.

    Args:
        model (OOKD): The model (its teacher, assigner and preprocessor).
        pipeline (Compose): The un-augmented pipeline.
        info (dict): ``dataset.get_data_info(idx)`` of the video.
        passes (list[list[int]]): Frame indices seen together.
        writer (TeacherCacheWriter): Where the entries go.
        device (str): Device of the model.
    """
    sampler = BaseFrameSample()
    for group, frames in enumerate(passes):
        results = pipeline(sampler.prepare_data(copy.deepcopy(info), frames))
        data = model.data_preprocessor(pseudo_collate([results]), False)
        inputs = data['inputs'].to(device)
        clip = data['data_samples'][0]
        out = model.run_teacher(inputs, [clip], [list(range(len(frames)))])[0]
        picks = model.teacher_picks(out, clip)
        for t in range(len(frames)):
            sample = clip[t]
            sigma = picks[t]
            writer.add_frame(
                sample.metainfo['video_id'],
                sample.metainfo['frame_id'],
                sample.gt_instances.instances_ids.tolist(),
                sigma,
                out['feats'],
                group=group)


def main(argv=None) -> str:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if cfg.get('custom_imports'):
        import_modules_from_strings(**cfg.custom_imports)
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    if cfg.model.get('type') != 'OOKD':
        raise ValueError(f'cache_teacher: {args.config} is not an OOKD '
                         f'config (model.type={cfg.model.get("type")})')
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg['teacher_cache'] = None
    if args.teacher_checkpoint:
        model_cfg['teacher_checkpoint'] = args.teacher_checkpoint
    model = MODELS.build(model_cfg).to(args.device).eval()

    ds_cfg = video_dataset_cfg(cfg)
    ds_cfg['pipeline'] = []
    ds_cfg['test_mode'] = False
    dataset = DATASETS.build(ds_cfg)
    pipeline = Compose(cache_pipeline(cfg))
    max_frames = args.max_frames
    if max_frames is None:
        max_frames = default_max_frames(cfg)
    max_frames = max_frames or None
    window = model.teacher_window

    writer = TeacherCacheWriter(model.distill_feature,
                                model.student_feature_dim)
    progress = None if args.no_progress else ProgressBar(len(dataset))
    for idx in range(len(dataset)):
        info = dataset.get_data_info(idx)
        writer.add_video(info['video_id'])
        passes = cache_passes(info['video_length'], window, max_frames)
        cache_video(model, pipeline, info, passes, writer, args.device)
        if progress is not None:
            progress.update()

    expected = model.cache_expectations()
    pipeline_cfg = cfg.test_dataloader.dataset.pipeline
    meta = dict(
        expected,
        base_checkpoint=model.teacher_cfg.get('base_checkpoint'),
        max_frames=max_frames,
        frames_pipeline=config_dump(pipeline_cfg)[0],
        frames_pipeline_sha256=config_dump(pipeline_cfg)[1],
        teacher_checkpoint=model.teacher_checkpoint,
        teacher_config=config_dump(model.teacher_cfg)[0],
        assigner_config=config_dump(model.teacher_qfa_cfg)[0],
        ann_file=dataset.ann_file,
        ann_file_sha256=file_sha256(dataset.ann_file),
        frames=(f'teacher_window={window}, max_frames={max_frames}, '
                'test pipeline'))
    writer.save(args.out, meta)  # atomic: a temporary file, then a rename
    print(f'\nteacher cache: {writer.num_rows} entries of '
          f'{len(dataset)} videos -> {args.out}')
    return args.out


if __name__ == '__main__':
    main()
