# Copyright (c) mmookd authors. All rights reserved.
"""Streaming VIS inference: a video in, per-frame tracks out.

:class:`VISInferencer` runs an online VIS model (IDOL, or an OOKD student
loaded with the IDOL config) on a user's video exactly as the test loop
runs it: every frame goes through the config's test pipeline (its image
loading replaced by ``LoadImageFromNDArray``), ``pseudo_collate`` and
``model.test_step``. It holds one frame at a time: the tracker's memory is
bounded (``IDOLTracker.max_tracks``, ``memory_len``) and its video-level
store is switched off (``keep_video_results=False``), so memory stays
constant on a video of any length.

Example::

    from mmookd.apis import VISInferencer
    inferencer = VISInferencer('configs/idol/idol_r18-w32_1xb4-2k_synthvis.py',
                               'work_dirs/idol/iter_2000.pth')
    for result in inferencer('my_video.mp4'):
        print(result.frame_id, result.track_ids, result.labels)
"""
import copy
import os.path as osp
from dataclasses import dataclass, field
from typing import Iterator, List, Optional, Union

import numpy as np
import torch
from mmengine.config import Config

from .frame_sources import FrameInput, open_frames

__all__ = ['VISInferencer', 'FrameResult', 'build_frame_pipeline']

IMAGE_LOADERS = ('LoadVISFrame', 'LoadImageFromFile', 'mmdet.LoadVISFrame',
                 'mmdet.LoadImageFromFile', 'LoadImageFromNDArray',
                 'mmdet.LoadImageFromNDArray')


def _init_scope(cfg: Config) -> None:
    """Register mmookd (and apply its shims); set the default scope."""
    from mmengine.registry import init_default_scope

    import mmookd  # noqa: F401
    init_default_scope(cfg.get('default_scope', 'mmdet'))


def _swap_loader(transforms: list) -> int:
    """Replace image loading by ``LoadImageFromNDArray`` in place.

    Returns:
        int: How many loading steps were replaced (nested ones included).
    """
    swapped = 0
    for t in transforms:
        if t.get('type') in IMAGE_LOADERS:
            for key in list(t.keys()):
                if key != 'type':
                    t.pop(key)
            t['type'] = 'LoadImageFromNDArray'
            swapped += 1
        if 'transforms' in t:
            swapped += _swap_loader(t['transforms'])
    return swapped


def build_frame_pipeline(cfg: Config):
    """The config's test pipeline, reading an in-memory BGR frame.

    Args:
        cfg (Config): With ``test_dataloader.dataset.pipeline``.

    Returns:
        Compose: Turns a dict of one-element lists (``img``, ``img_id``,
        ``video_id``, ``frame_id``, ...) into packed inputs, as the test
        dataset does.

    Raises:
        KeyError: The config has no test pipeline, or one without an image
            loading step.
    """
    from mmcv.transforms import Compose
    _init_scope(cfg)
    try:
        pipeline = copy.deepcopy(cfg.test_dataloader.dataset.pipeline)
    except AttributeError as err:
        raise KeyError('The config has no test_dataloader.dataset.pipeline '
                       '(the inference pipeline)') from err
    if _swap_loader(pipeline) == 0:
        raise KeyError('test_dataloader.dataset.pipeline has no image '
                       f'loading step (one of {IMAGE_LOADERS})')
    return Compose(pipeline)


def _class_names(cfg: Config, checkpoint_meta: Optional[dict]) -> tuple:
    """Class names: the checkpoint's ``dataset_meta``, else the config's."""
    meta = (checkpoint_meta or dict()).get('dataset_meta') or dict()
    if meta.get('classes'):
        return tuple(meta['classes'])
    from mmookd.datasets.metainfo import VIS_METAINFO
    for loader in ('test_dataloader', 'val_dataloader', 'train_dataloader'):
        dataset = cfg.get(loader, dict()).get('dataset', dict())
        while 'dataset' in dataset and 'metainfo' not in dataset:
            dataset = dataset['dataset']  # dataset wrappers
        if dataset.get('metainfo', dict()).get('classes'):
            return tuple(dataset['metainfo']['classes'])
        version = dataset.get('dataset_version')
        if version in VIS_METAINFO:
            return tuple(VIS_METAINFO[version]['classes'])
    return tuple()


@dataclass
class FrameResult:
    """The tracks of one frame.

    Attributes:
        frame_id (int): Index of the frame in the video (0, 1, ...).
        image (np.ndarray): (H, W, 3) uint8 BGR input frame.
        track_ids (np.ndarray): (M,) int64 track ids, stable over the video.
        labels (np.ndarray): (M,) int64 0-based classes.
        scores (np.ndarray): (M,) float32 detection scores.
        bboxes (np.ndarray): (M, 4) float32 xyxy boxes, frame pixels.
        masks (np.ndarray): (M, H, W) bool masks.
        class_names (tuple[str]): Names of the labels' classes (may be
            empty when the config and checkpoint name none).
        data_sample: The frame's ``DetDataSample`` with
            ``pred_track_instances`` (the same M tracks), for mmdet's
            ``TrackLocalVisualizer``.
    """
    frame_id: int
    image: np.ndarray
    track_ids: np.ndarray
    labels: np.ndarray
    scores: np.ndarray
    bboxes: np.ndarray
    masks: np.ndarray
    class_names: tuple = field(default_factory=tuple)
    data_sample: object = None

    def __len__(self) -> int:
        return len(self.track_ids)

    @property
    def names(self) -> List[str]:
        """Class name of every track (``'class <label>'`` if unknown)."""
        return [
            self.class_names[c]
            if c < len(self.class_names) else f'class {c}'
            for c in self.labels.tolist()
        ]


class VISInferencer:
    """Run an online VIS model on videos, streaming one frame at a time.

    Args:
        config (str | Config): Model config with ``model`` (an IDOL-like
            online model with an ``IDOLTracker``, or an ``OOKD`` distiller,
            whose ``student`` is then used alone) and
            ``test_dataloader.dataset.pipeline``.
        checkpoint (str, optional): Weights of an IDOL or of an OOKD student
            (``student.*`` keys). Without one the model keeps its initial
            weights (a message is logged): useful only for tests.
        device (str): ``'cpu'``, ``'cuda'``, ``'cuda:0'``, ...
        score_thr (float): Tracks scoring at most this are left out of the
            results (the tracker has already applied its own thresholds).
            Defaults to 0.
        cfg_options (dict, optional): Overrides merged into the config.
        keep_video_results (bool): Keep the tracker's per-video store (its
            memory then grows with the video). Defaults to False.
        trust_checkpoint (bool): Fully unpickle ``checkpoint`` (only for a
            file you trust; mmengine checkpoints load without it).

    Raises:
        FileNotFoundError: ``config`` or ``checkpoint`` does not exist.
        KeyError: The config has no tracker or no test pipeline.
        RuntimeError: ``device`` is a CUDA device but CUDA is unavailable.
    """

    def __init__(self,
                 config: Union[str, Config],
                 checkpoint: Optional[str] = None,
                 device: str = 'cpu',
                 score_thr: float = 0.0,
                 cfg_options: Optional[dict] = None,
                 keep_video_results: bool = False,
                 trust_checkpoint: bool = False) -> None:
        if isinstance(config, str):
            if not osp.isfile(config):
                raise FileNotFoundError(f'Config file {config!r} not found')
            config = Config.fromfile(config)
        else:
            config = copy.deepcopy(config)
        if cfg_options:
            config.merge_from_dict(cfg_options)
        if str(device).startswith('cuda') and not torch.cuda.is_available():
            raise RuntimeError(f'device {device!r} asked for, but CUDA is '
                               'not available; use --device cpu')
        self.cfg = config
        self.device = device
        self.score_thr = float(score_thr)
        self.keep_video_results = keep_video_results
        self.model, ckpt_meta = self._build_model(config, checkpoint,
                                                  trust_checkpoint)
        self.pipeline = build_frame_pipeline(config)
        self.class_names = _class_names(config, ckpt_meta)
        self.num_videos = 0

    def _build_model(self, cfg: Config, checkpoint: Optional[str],
                     trust: bool):
        from mmdet.registry import MODELS
        from mmengine.runner import load_checkpoint

        from mmookd.utils.compat import trust_checkpoint
        _init_scope(cfg)
        model_cfg = copy.deepcopy(cfg.model)
        if str(model_cfg.get('type', '')).split('.')[-1] == 'OOKD':
            # the distiller infers with its student alone; no teacher needed
            model_cfg = model_cfg.student
        if model_cfg.get('tracker') is None:
            raise KeyError('VISInferencer needs an online model with a '
                           'tracker: the config has no model.tracker')
        model_cfg.tracker = dict(
            model_cfg.tracker, keep_video_results=self.keep_video_results)
        model = MODELS.build(model_cfg)
        meta = None
        if checkpoint is not None:
            if not osp.isfile(checkpoint):
                raise FileNotFoundError(
                    f'Checkpoint file {checkpoint!r} not found')
            if trust:
                trust_checkpoint(checkpoint)
            # an OOKD checkpoint holds the student under `student.`
            ckpt = load_checkpoint(
                model,
                checkpoint,
                map_location='cpu',
                strict=True,
                revise_keys=[(r'^module\.', ''), (r'^student\.', '')])
            meta = ckpt.get('meta') if isinstance(ckpt, dict) else None
        else:
            from mmengine.logging import print_log
            model.init_weights()
            print_log(
                'VISInferencer: no checkpoint given, the model keeps its '
                'random initial weights', logger='current')
        return model.to(self.device).eval(), meta

    @property
    def tracker(self):
        """The model's tracker (reset at the first frame of every video)."""
        return self.model.tracker

    def __call__(self,
                 inputs: FrameInput,
                 video_id: Optional[int] = None) -> Iterator[FrameResult]:
        """Track the instances of one video, frame by frame.

        The tracker is reset at the video's first frame; frames are read
        only when the next result is asked for.

        Args:
            inputs: A video file, a folder of frames, a (T, H, W[, C])
                uint8 array or an iterable of (H, W[, C]) uint8 arrays
                (grayscale and BGRA frames are converted to BGR).
            video_id (int, optional): Id put into the frames' metainfo;
                by default the number of videos run before.

        Returns:
            Iterator[:obj:`FrameResult`]: one per frame, in order.

        Raises:
            VideoInputError: The input cannot be read, or holds no frame.
        """
        # Opened here, not in the generator, so that a bad path fails at
        # the call and not at the first frame.
        source = open_frames(inputs)
        if video_id is None:
            video_id = self.num_videos
        self.num_videos += 1
        return self._stream(source, video_id)

    def _stream(self, source, video_id: int) -> Iterator[FrameResult]:
        for frame_id, frame in enumerate(source):
            yield self.infer_frame(frame, frame_id, video_id)

    def infer_frame(self, frame: np.ndarray, frame_id: int,
                    video_id: int = 0) -> FrameResult:
        """Track one frame of the current video.

        Args:
            frame (np.ndarray): (H, W, 3) uint8 BGR.
            frame_id (int): Its index; 0 resets the tracker (a new video).
            video_id (int): Id of the video.

        Returns:
            :obj:`FrameResult`.
        """
        from mmengine.dataset import pseudo_collate
        height, width = frame.shape[:2]
        data = self.pipeline(
            dict(
                img=[frame],
                img_id=[frame_id],
                video_id=[video_id],
                frame_id=[frame_id],
                height=[height],
                width=[width],
                video_length=[1],
                ori_video_length=[None]))
        with torch.no_grad():
            track_sample = self.model.test_step(pseudo_collate([data]))[0]
        sample = track_sample[0]
        pred = sample.pred_track_instances
        if self.score_thr > 0:
            pred = pred[pred.scores > self.score_thr]
        pred = pred.cpu()
        sample.pred_track_instances = pred
        return FrameResult(
            frame_id=frame_id,
            image=frame,
            track_ids=pred.instances_id.numpy().astype(np.int64),
            labels=pred.labels.numpy().astype(np.int64),
            scores=pred.scores.numpy().astype(np.float32),
            bboxes=pred.bboxes.numpy().astype(np.float32).reshape(-1, 4),
            masks=pred.masks.numpy().astype(bool).reshape(-1, height, width),
            class_names=self.class_names,
            data_sample=sample)

    def run(self, inputs: FrameInput) -> List[FrameResult]:
        """All the frames' results as a list (holds the whole video)."""
        return list(self(inputs))

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(model='
                f'{type(self.model).__name__}, device={self.device!r}, '
                f'score_thr={self.score_thr}, '
                f'classes={len(self.class_names)})')
