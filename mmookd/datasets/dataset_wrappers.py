# Copyright (c) mmookd authors. All rights reserved.
"""A light wrapper that mixes video clips: ``ClipMixDataset``.

mmdet's :class:`~mmdet.datasets.MultiImageMixDataset` runs mixing transforms
(``get_indexes(dataset)`` + ``results['mix_results']``) over an image
dataset. For video clips it has two drawbacks that this wrapper removes:

* it deep-copies every clip twice (``deepcopy(dataset[idx])`` and
  ``transform(deepcopy(results))``) and every mixed clip once more. On
  SynthVIS that alone costs about 1.2x the time of the plain video pipeline
  (4 copies of all frames and masks of a clip). The wrapped dataset returns
  fresh results on every call (``get_data_info`` deep-copies or unpickles
  the annotation, the loading transforms allocate new arrays), and the
  clip-paste transforms only *read* their source clips, so no copy is
  needed;
* mmdet's ``TrackImgSampler`` (one sample per video frame, the standard VIS
  training sampler) and ``TrackAspectRatioBatchSampler`` only accept a
  ``BaseVideoDataset``. ``ClipMixDataset`` *is* a ``BaseVideoDataset``
  whose every data access (``__len__``, ``get_data_info``,
  ``get_len_per_video``, ``metainfo``, ``test_mode``, ``data_list``, ...)
  is delegated to the wrapped video dataset, so both samplers (and mmengine's
  ``DefaultSampler``) work on it unchanged.

Typical use (the wrapped dataset's pipeline ends before the mixing
transforms)::

    train_dataloader = dict(
        sampler=dict(type='TrackImgSampler'),
        batch_sampler=dict(type='TrackAspectRatioBatchSampler'),
        dataset=dict(
            type='ClipMixDataset',
            dataset=dict(type='VISDataset', ...,
                         pipeline=[UniformRefFrameSample,
                                   TransformBroadcaster(load, resize,
                                                        flip)]),
            pipeline=[dict(type='MinorPaste', reuse_source=8),
                      dict(type='PackTrackInputs',
                           meta_keys=('paste_sources', ))]))

An index is what the wrapped dataset takes: a video index (``int``, from
``DefaultSampler``; the frame sampler then draws the key frame) or a
``(video index, frame index)`` pair (from ``TrackImgSampler``; that frame
is the key frame). Source clips of the mixing transforms are loaded by
video index, so their key frame is drawn by the frame sampler.
"""
import collections.abc
import copy
from typing import Any, List, Optional, Sequence, Union

import numpy as np
from mmdet.datasets import BaseVideoDataset
from mmdet.registry import DATASETS, TRANSFORMS
from mmengine.dataset import BaseDataset


@DATASETS.register_module()
class ClipMixDataset(BaseVideoDataset):
    """Run clip-mixing transforms (MinorPaste, ClipPaste) over a video set.

    For an index ``idx`` the wrapper takes the clip ``dataset[idx]`` (the
    wrapped dataset's own pipeline: frame sampling, loading, clip-consistent
    resize and flip) and runs its own ``pipeline`` on it. Before a
    transform that has ``get_indexes``, it calls
    ``transform.get_indexes(dataset)`` (with the *wrapped* dataset) and puts
    the clips ``[dataset[i] for i in indexes]`` into
    ``results['mix_results']``; the key is removed after the transform.
    Nothing is deep-copied: the clips come fresh from the wrapped dataset,
    the mixing transforms update the target clip in place and only read the
    source clips (a source kept by ``reuse_source`` stays read-only).

    Inputs and outputs: the wrapped dataset returns a clip as per-frame
    lists (``img`` ``T x (H, W, 3)``, ``gt_masks`` ``T x BitmapMasks
    (N_t, H, W)``, ...); the output is what the last transform returns
    (with ``PackTrackInputs``: ``inputs`` ``(T, 3, H, W)`` uint8 and a
    ``TrackDataSample``).

    Args:
        dataset (BaseVideoDataset | dict): The video dataset (or its
            config). Its pipeline must stop before the mixing transforms.
            Any object with ``__getitem__``, ``__len__``, ``get_data_info``
            and ``metainfo`` will do; ``TrackImgSampler`` needs
            ``get_len_per_video`` and ``test_mode`` as well.
        pipeline (Sequence[dict | callable]): The transforms run after the
            wrapped dataset's pipeline, e.g. ``[MinorPaste, PackTrackInputs]``.
        skip_type_keys (Sequence[str], optional): Transform types to skip
            (e.g. to switch the paste off near the end of a schedule with a
            hook calling :meth:`update_skip_type_keys`). Defaults to None.
        max_refetch (int): In training, if a transform returns None, another
            random video is drawn, at most this many times. Defaults to 15.
        lazy_init (bool): Do not load the wrapped dataset's annotation yet.
            Defaults to False.
    """

    def __init__(self,
                 dataset: Union[BaseDataset, dict],
                 pipeline: Sequence[Union[dict, Any]],
                 skip_type_keys: Optional[Sequence[str]] = None,
                 max_refetch: int = 15,
                 lazy_init: bool = False) -> None:
        # No BaseDataset.__init__: every data access goes to the wrapped set.
        if isinstance(dataset, dict):
            dataset = DATASETS.build(dataset)
        missing = [
            a for a in ('__getitem__', '__len__', 'get_data_info', 'metainfo')
            if not hasattr(dataset, a)
        ]
        if missing:
            raise TypeError('ClipMixDataset: `dataset` must be a video '
                            'dataset (a BaseVideoDataset or its config); '
                            f'{type(dataset).__name__} has no {missing}')
        if not isinstance(pipeline, collections.abc.Sequence):
            raise TypeError('ClipMixDataset: `pipeline` must be a list of '
                            f'transforms, got {type(pipeline).__name__}')
        self.dataset = dataset
        self.transforms, self.transform_types = [], []
        for i, transform in enumerate(pipeline):
            if isinstance(transform, dict):
                if 'type' not in transform:
                    raise KeyError(f'ClipMixDataset: pipeline[{i}] has no '
                                   '"type"')
                name = transform['type']
                transform = TRANSFORMS.build(transform)
            elif callable(transform):
                name = type(transform).__name__
            else:
                raise TypeError(f'ClipMixDataset: pipeline[{i}] must be a '
                                'dict or a callable, got '
                                f'{type(transform).__name__}')
            self.transforms.append(transform)
            self.transform_types.append(
                name if isinstance(name, str) else name.__name__)
        self.update_skip_type_keys(skip_type_keys or [])
        if max_refetch < 0:
            raise ValueError('ClipMixDataset: max_refetch must be >= 0, got '
                             f'{max_refetch}')
        self.max_refetch = max_refetch
        self._fully_initialized = False
        if not lazy_init:
            self.full_init()

    # ------------------------------------------------------------------
    # what samplers and the runner read: the wrapped dataset's
    @property
    def metainfo(self) -> dict:
        """The wrapped dataset's metainfo (a copy)."""
        return self.dataset.metainfo

    @property
    def test_mode(self) -> bool:
        """The wrapped dataset's ``test_mode`` (False if it has none)."""
        return bool(getattr(self.dataset, 'test_mode', False))

    @property
    def data_list(self) -> List[dict]:
        """The wrapped dataset's ``data_list`` (one dict per video)."""
        self.full_init()
        return self.dataset.data_list

    @property
    def pipeline(self) -> List[Any]:
        """The wrapper's transforms (not the wrapped dataset's pipeline)."""
        return self.transforms

    def full_init(self) -> None:
        """Load the wrapped dataset's annotation (once)."""
        if self._fully_initialized:
            return
        if hasattr(self.dataset, 'full_init'):
            self.dataset.full_init()
        self._fully_initialized = True

    def get_data_info(self, idx: int) -> dict:
        """Annotation of video ``idx`` (the wrapped dataset's)."""
        self.full_init()
        return self.dataset.get_data_info(idx)

    def get_len_per_video(self, idx: int) -> int:
        """Number of frames of video ``idx``."""
        self.full_init()
        return self.dataset.get_len_per_video(idx)

    def get_cat_ids(self, index) -> List[int]:
        """Labels of a video, or of one frame for ``(video, frame)``."""
        self.full_init()
        return self.dataset.get_cat_ids(index)

    @property
    def num_all_imgs(self) -> int:
        """Number of frames of all videos."""
        self.full_init()
        return self.dataset.num_all_imgs

    def __len__(self) -> int:
        """Number of videos."""
        self.full_init()
        return len(self.dataset)

    def get_subset_(self, indices) -> None:
        """Keep a subset of the wrapped dataset's videos (in place)."""
        self.full_init()
        self.dataset.get_subset_(indices)

    def get_subset(self, indices) -> 'ClipMixDataset':
        """A wrapper (same transforms) over a subset of the videos."""
        self.full_init()
        sub = copy.copy(self)
        sub.dataset = self.dataset.get_subset(indices)
        return sub

    def update_skip_type_keys(self, skip_type_keys: Sequence[str]) -> None:
        """Set the transform types to skip.

        Args:
            skip_type_keys (Sequence[str]): Transform type names.
        """
        if not all(isinstance(k, str) for k in skip_type_keys):
            raise TypeError('ClipMixDataset: skip_type_keys must be strings,'
                            f' got {list(skip_type_keys)}')
        self._skip_type_keys = list(skip_type_keys)

    # ------------------------------------------------------------------
    def prepare_data(self, idx) -> Optional[dict]:
        """The clip ``dataset[idx]`` through the wrapper's transforms.

        Args:
            idx (int | tuple[int, int]): A video index or a ``(video index,
                frame index)`` pair.

        Returns:
            dict | None: The transformed clip; None if a transform dropped
            it.
        """
        results = self.dataset[idx]
        for transform, name in zip(self.transforms, self.transform_types):
            if name in self._skip_type_keys:
                continue
            if hasattr(transform, 'get_indexes'):
                indexes = transform.get_indexes(self.dataset)
                if not isinstance(indexes, collections.abc.Sequence):
                    indexes = [indexes]
                results['mix_results'] = [self.dataset[i] for i in indexes]
            results = transform(results)
            if results is None:
                return None
            results.pop('mix_results', None)
        return results

    def __getitem__(self, idx) -> dict:
        """The ``idx``-th training sample.

        Args:
            idx (int | tuple[int, int]): A video index (``DefaultSampler``)
                or a ``(video index, frame index)`` pair
                (``TrackImgSampler``).

        Returns:
            dict: The output of the last transform.
        """
        self.full_init()
        first = idx
        for _ in range(self.max_refetch + 1):
            data = self.prepare_data(idx)
            if data is not None:
                return data
            if self.test_mode:
                raise RuntimeError(
                    f'ClipMixDataset: the pipeline returned None for index '
                    f'{idx} in test mode; check the transforms '
                    f'{self.transform_types}')
            idx = self._rand_another()
        raise RuntimeError(
            f'ClipMixDataset: the pipeline returned None for index {first} '
            f'and {self.max_refetch} other random videos; check the '
            f'transforms {self.transform_types}')

    def _rand_another(self) -> int:
        """A random video index."""
        return int(np.random.randint(0, len(self)))

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(dataset={type(self.dataset).__name__}'
                f'({len(self.dataset) if self._fully_initialized else "?"} '
                f'videos), pipeline={self.transform_types}, '
                f'skip_type_keys={self._skip_type_keys})')
