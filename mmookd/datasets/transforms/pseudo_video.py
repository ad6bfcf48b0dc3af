# Copyright (c) mmookd authors. All rights reserved.
"""Pseudo videos from still images (IDOL's COCO key/reference pairs)."""
import copy
from typing import List, Optional

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform, Compose
from mmdet.registry import TRANSFORMS
from mmdet.structures.bbox import BaseBoxes


@TRANSFORMS.register_module()
class PseudoVideoFromImage(BaseTransform):
    """Make a ``num_frames``-frame pseudo video of one annotated image.

    The image and its annotations are copied ``num_frames`` times and every
    copy goes through ``transforms`` on its own (independent random flips,
    crops, resizes: IDOL's ``PRETRAIN_SAME_CROP False``). Instances keep
    their annotation index as ``gt_instances_ids`` in every copy, so an
    instance cropped out of one copy is simply absent from that frame.

    The output has the list-per-key layout that mmdet's video pipelines
    produce (as after ``TransformBroadcaster``), ready for
    ``PackTrackInputs``: the first frame is the key frame
    (``key_frame_flags``), ``frame_id`` is 0, 1, ..., ``video_id`` the image
    id. Because ``PackTrackInputs`` stacks the frames, the images are padded
    (bottom / right, ``pad_val``) to the largest copy; ``img_shape`` keeps
    each copy's own size, so the model masks the padding.

    Required Keys:

    - img, img_shape, ori_shape, img_id
    - gt_bboxes (BaseBoxes or ndarray (n, 4)), gt_bboxes_labels (n, ),
      gt_ignore_flags (n, ), gt_masks (optional)

    Added / Modified Keys (lists of ``num_frames`` items):

    - every key the transforms produce, plus gt_instances_ids (n_t, ),
      frame_id, video_id, video_length, ori_video_length;
      key_frame_flags (one list).

    Args:
        transforms (list[dict]): Per-copy augmentation pipeline.
        num_frames (int): Copies. Defaults to 2.
        pad_val (int): Image padding value. Defaults to 0.
        max_retries (int): Tries per copy when a transform returns None
            (e.g. a crop without any instance). Defaults to 10.
    """

    def __init__(self,
                 transforms: List[dict],
                 num_frames: int = 2,
                 pad_val: int = 0,
                 max_retries: int = 10) -> None:
        if num_frames < 1:
            raise ValueError('PseudoVideoFromImage: num_frames must be >= 1,'
                             f' got {num_frames}')
        self.transforms = Compose(transforms)
        self.num_frames = num_frames
        self.pad_val = pad_val
        self.max_retries = max_retries

    def _augment_copy(self, results: dict) -> Optional[dict]:
        """One independently augmented copy (None if every try fails)."""
        for _ in range(self.max_retries):
            out = self.transforms(copy.deepcopy(results))
            if out is not None:
                return out
        return None

    @staticmethod
    def _to_numpy_boxes(boxes) -> np.ndarray:
        """(n, 4) float32 array from BaseBoxes or an array."""
        if isinstance(boxes, BaseBoxes):
            boxes = boxes.numpy()
        return np.asarray(boxes, dtype=np.float32).reshape(-1, 4)

    def transform(self, results: dict) -> Optional[dict]:
        """Make the pseudo video.

        Args:
            results (dict): One image's results (loaded image and
                annotations).

        Returns:
            dict or None: list-per-key video results; None if a copy could
            not be made (the dataset then draws another image).
        """
        num_insts = len(results['gt_bboxes'])
        results['gt_instances_ids'] = np.arange(num_insts, dtype=np.int64)
        frames = []
        for frame_id in range(self.num_frames):
            frame = self._augment_copy(results)
            if frame is None:
                return None
            frame['frame_id'] = frame_id
            frame['video_id'] = results['img_id']
            frame['video_length'] = self.num_frames
            frame['ori_video_length'] = self.num_frames
            frame['gt_bboxes'] = self._to_numpy_boxes(frame['gt_bboxes'])
            frames.append(frame)

        pad_h = max(f['img'].shape[0] for f in frames)
        pad_w = max(f['img'].shape[1] for f in frames)
        for frame in frames:
            if frame['img'].shape[:2] != (pad_h, pad_w):
                frame['img'] = mmcv.impad(
                    frame['img'], shape=(pad_h, pad_w), pad_val=self.pad_val)

        keys = set(frames[0]).intersection(*frames[1:])
        video = {key: [frame[key] for frame in frames] for key in keys}
        video['key_frame_flags'] = [t == 0 for t in range(self.num_frames)]
        return video

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(num_frames={self.num_frames}, '
                f'transforms={self.transforms})')
