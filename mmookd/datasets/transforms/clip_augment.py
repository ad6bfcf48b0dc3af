# Copyright (c) mmookd authors. All rights reserved.
"""The official IDOL clip augmentation: a per-frame random crop and boxes
recomputed from the masks after augmentation.

The official training data mapper (VNext ``projects/IDOL/idol/data/
dataset_mapper.py`` and ``augmentation.py``) augments a clip of two frames
as follows:

1. once per clip, with probability 0.5, decide to crop;
2. if so, crop **every frame independently**: detectron2's
   ``RandomCrop('absolute_range', (384, 600))`` draws, for each frame, a
   crop height and width in ``[min(side, 384), min(side, 600)]`` and a
   position;
3. resize (one short side for the whole clip) and flip (one decision for the
   clip), as mmdet's ``TransformBroadcaster(share_random_params=True)``
   does;
4. take every box as the tight box of the augmented mask, and drop the
   instances whose mask became empty.

:class:`ClipRandomCrop` is step 1-2 on a clip (a dict of per-frame lists,
after loading and before the resize), :class:`BoxesFromMasks` step 4 on one
frame (wrap it in ``TransformBroadcaster``). Frames cropped on their own
differ in size after the resize; :class:`PadClipFrames` pads them to a
common size so that ``PackTrackInputs`` can stack them (as the official
model pads the images of a batch).
"""
from typing import Sequence

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform, TransformBroadcaster
from mmdet.registry import TRANSFORMS
from mmdet.structures.bbox import BaseBoxes

from .minor_paste import tight_boxes

__all__ = ['ClipRandomCrop', 'BoxesFromMasks', 'PadClipFrames']

# per-instance keys that must stay aligned with the masks
INSTANCE_KEYS = ('gt_bboxes', 'gt_bboxes_labels', 'gt_ignore_flags',
                 'gt_instances_ids')


@TRANSFORMS.register_module()
class ClipRandomCrop(BaseTransform):
    """With probability ``prob`` per clip, crop each frame on its own.

    The official IDOL crop (see the module docstring): the decision to crop
    is taken once for the clip; the crop window (size and position) is
    drawn independently for every frame by mmdet's ``RandomCrop`` (same
    ``absolute_range`` sampling as detectron2's). Boxes are clipped to the
    crop and recomputed from the cropped masks; instances whose box left the
    crop are dropped (with their masks, labels and ids); a frame may end
    without instances (it is kept, as the official code keeps it).

    Place it after loading and before the clip-shared resize::

        dict(type='TransformBroadcaster', share_random_params=True,
             transforms=[dict(type='LoadVISFrame'),
                         dict(type='LoadTrackAnnotations', with_mask=True)]),
        dict(type='ClipRandomCrop', crop_size=(384, 600), prob=0.5),
        dict(type='TransformBroadcaster', share_random_params=True,
             transforms=[dict(type='RandomChoiceResize', ...),
                         dict(type='RandomFlip', prob=0.5)]),

    Required Keys (lists, one element per frame):

    - img
    - gt_bboxes, gt_bboxes_labels, gt_masks, gt_instances_ids,
      gt_ignore_flags (optional)

    Modified Keys: img, img_shape and the instance keys.

    Args:
        crop_size (tuple[int, int]): ``(min, max)`` side of the crop for
            ``'absolute_range'`` (official: (384, 600)); see mmdet's
            ``RandomCrop`` for the other crop types.
        crop_type (str): Defaults to ``'absolute_range'``.
        prob (float): Probability that a clip is cropped. Defaults to 0.5.
        share_crop (bool): Use one crop window for all the frames (VITA's
            clip crop) instead of one per frame (IDOL). Defaults to False.
        bbox_clip_border (bool): Clip boxes to the crop. Defaults to True.
    """

    def __init__(self,
                 crop_size: Sequence[int] = (384, 600),
                 crop_type: str = 'absolute_range',
                 prob: float = 0.5,
                 share_crop: bool = False,
                 bbox_clip_border: bool = True) -> None:
        if not 0.0 <= prob <= 1.0:
            raise ValueError(f'ClipRandomCrop: prob must be in [0, 1], got '
                             f'{prob}')
        self.crop_size = tuple(crop_size)
        self.crop_type = crop_type
        self.prob = prob
        self.share_crop = share_crop
        self.bbox_clip_border = bbox_clip_border
        self.broadcaster = TransformBroadcaster(
            transforms=[
                dict(
                    type='mmdet.RandomCrop',
                    crop_size=self.crop_size,
                    crop_type=crop_type,
                    allow_negative_crop=True,
                    recompute_bbox=True,
                    bbox_clip_border=bbox_clip_border)
            ],
            share_random_params=share_crop)

    def transform(self, results: dict) -> dict:
        """Crop the frames of a clip (or none of them).

        Args:
            results (dict): A clip: every key holds a list with one element
                per frame.

        Returns:
            dict: The clip; ``results['clip_cropped']`` says whether the
            frames were cropped.
        """
        if not isinstance(results.get('img'), list):
            raise TypeError('ClipRandomCrop works on a clip (lists of '
                            'frames); put it outside TransformBroadcaster')
        crop = self.prob > 0 and np.random.rand() < self.prob
        if crop:
            results = self.broadcaster(results)
            # RandomCrop records its homography per frame; it is of no use
            # downstream and not every frame may have one.
            results.pop('homography_matrix', None)
        results['clip_cropped'] = [bool(crop)] * len(results['img'])
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(crop_size={self.crop_size}, '
                f'crop_type={self.crop_type!r}, prob={self.prob}, '
                f'share_crop={self.share_crop}, '
                f'bbox_clip_border={self.bbox_clip_border})')


@TRANSFORMS.register_module()
class BoxesFromMasks(BaseTransform):
    """Boxes = tight boxes of the masks; instances with empty masks dropped.

    The official IDOL takes the boxes from the masks after every
    augmentation (``gt_masks.get_bounding_boxes()``) and then removes the
    instances whose mask is empty (``filter_empty_instances``). Resizing or
    cropping a box and resizing or cropping its mask do not give the same
    box (a mask shrinks inside a clipped box; a rescaled box is off by up to
    a pixel): this transform makes them agree. Apply it to every frame,
    after the last geometric transform::

        dict(type='TransformBroadcaster',
             transforms=[dict(type='BoxesFromMasks')]),

    Required Keys: gt_masks (BitmapMasks), gt_bboxes; optional:
    gt_bboxes_labels, gt_ignore_flags, gt_instances_ids.

    Modified Keys: gt_bboxes (``x2 = max x + 1``, mmdet's convention) and,
    when ``drop_empty``, every instance key.

    Args:
        drop_empty (bool): Drop the instances whose mask is empty. Defaults
            to True.
    """

    def __init__(self, drop_empty: bool = True) -> None:
        self.drop_empty = drop_empty

    def transform(self, results: dict) -> dict:
        """Recompute the boxes of one frame.

        Args:
            results (dict): One frame.

        Returns:
            dict: The frame.
        """
        masks = results.get('gt_masks')
        if masks is None:
            return results
        array = np.asarray(masks.masks if hasattr(masks, 'masks') else masks)
        boxes = tight_boxes(array).reshape(-1, 4)
        old = results.get('gt_bboxes')
        if isinstance(old, BaseBoxes):
            results['gt_bboxes'] = type(old)(boxes)
        else:
            results['gt_bboxes'] = boxes
        if self.drop_empty and len(array):
            keep = array.reshape(len(array), -1).any(axis=1)
            if not keep.all():
                self._select(results, np.flatnonzero(keep))
        return results

    @staticmethod
    def _select(results: dict, inds: np.ndarray) -> None:
        """Keep the instances ``inds`` in every instance key."""
        results['gt_masks'] = results['gt_masks'][inds]
        for key in INSTANCE_KEYS:
            if results.get(key) is not None:
                results[key] = results[key][inds]

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(drop_empty={self.drop_empty})'


@TRANSFORMS.register_module()
class PadClipFrames(BaseTransform):
    """Pad the images of a clip (bottom, right) to the clip's largest size.

    ``PackTrackInputs`` stacks the frames of a clip, which needs one size;
    after :class:`ClipRandomCrop` each frame has its own. Only ``img``
    changes: ``img_shape`` keeps each frame's own size (boxes are
    normalized by it), and masks keep their size (the model pads its mask
    targets to the batch). Put it just before ``PackTrackInputs``.

    Required Keys: img (list). Modified Keys: img.

    Args:
        pad_val (int): Padding value. Defaults to 0.
    """

    def __init__(self, pad_val: int = 0) -> None:
        self.pad_val = pad_val

    def transform(self, results: dict) -> dict:
        """Pad the frames of one clip.

        Args:
            results (dict): A clip (lists of frames).

        Returns:
            dict: The clip, every ``img`` of the same size.
        """
        imgs = results['img']
        if not isinstance(imgs, list):
            raise TypeError('PadClipFrames works on a clip (lists of '
                            'frames); put it outside TransformBroadcaster')
        pad_h = max(img.shape[0] for img in imgs)
        pad_w = max(img.shape[1] for img in imgs)
        results['img'] = [
            img if img.shape[:2] == (pad_h, pad_w) else mmcv.impad(
                img, shape=(pad_h, pad_w), pad_val=self.pad_val)
            for img in imgs
        ]
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(pad_val={self.pad_val})'
