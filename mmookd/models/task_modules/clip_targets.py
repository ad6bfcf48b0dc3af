# Copyright (c) mmookd authors. All rights reserved.
"""Ground-truth tracks of a clip, as the offline teacher is trained on them.

A clip of ``T`` frames holds ``G`` instance tracks: every instance present in
at least one of its frames (VITA's clip targets). A track has one label and,
in every frame, a box and a mask; where the instance is absent its mask is
all zeros (VITA supervises those frames too: the teacher must learn to say
"not here") and its box is undefined (``present`` is False there).

Shape shorthand: ``T`` frames, ``G`` tracks, ``(h4, w4)`` the stride-4 mask
size of the padded input.
"""
from typing import Callable, Dict, Tuple

import torch
from mmdet.structures import DetDataSample, TrackDataSample
from mmdet.structures.bbox import get_box_tensor
from mmengine.structures import InstanceData
from torch import Tensor


def frame_gt_instances(sample: DetDataSample, t: int) -> InstanceData:
    """The ``gt_instances`` of frame ``t``, which must carry instance ids.

    Raises:
        KeyError: naming the video and frame, when the frame has no
            ``gt_instances`` or they lack ``instances_ids``.
    """
    gt = sample.get('gt_instances')
    if gt is None or (len(gt) and 'instances_ids' not in gt):
        raise KeyError(
            f'frame {t} (video {sample.metainfo.get("video_id")}, frame_id '
            f'{sample.metainfo.get("frame_id")}) has no gt_instances with '
            'instances_ids')
    return gt


def clip_track_index(track_sample: TrackDataSample) -> Dict[int, int]:
    """Instance id -> track index, in order of first appearance.

    Raises:
        ValueError: an instance id repeats within one frame (naming the
            video and frame).
    """
    index: Dict[int, int] = dict()
    for t in range(len(track_sample)):
        gt = frame_gt_instances(track_sample[t], t)
        if not len(gt):
            continue
        ids = gt.instances_ids.tolist()
        if len(set(ids)) != len(ids):
            meta = track_sample[t].metainfo
            raise ValueError(
                f'video {meta.get("video_id")} frame_id '
                f'{meta.get("frame_id")} has a repeated instance id in {ids}')
        for inst_id in ids:
            index.setdefault(int(inst_id), len(index))
    return index


def clip_targets(track_sample: TrackDataSample, mask_size: Tuple[int, int],
                 mask_targets: Callable, device) -> Dict[str, Tensor]:
    """Ground-truth tracks of one clip.

    Args:
        track_sample (:obj:`TrackDataSample`): T frames with
            ``gt_instances`` (``bboxes``, ``labels``, ``masks``,
            ``instances_ids``).
        mask_size (tuple[int, int]): (h4, w4).
        mask_targets (callable): ``IDOLHead.get_mask_targets``:
            ``([gt], [meta], mask_size, device) -> [(M, h4, w4)]``.
        device: Target device.

    Returns:
        dict: ``labels`` (G, ) (the label of the first frame the track is
        in), ``ids`` (G, ) instance ids, ``bboxes`` (T, G, 4) xyxy input
        pixels (zeros where absent), ``present`` (T, G) bool, ``masks``
        (T, G, h4, w4) float, all zeros where absent.
    """
    index = clip_track_index(track_sample)
    num_frames, num_gts = len(track_sample), len(index)
    labels = torch.zeros((num_gts, ), dtype=torch.long, device=device)
    ids = torch.tensor(list(index), dtype=torch.long, device=device)
    bboxes = torch.zeros((num_frames, num_gts, 4), device=device)
    present = torch.zeros((num_frames, num_gts),
                          dtype=torch.bool,
                          device=device)
    masks = torch.zeros(
        (num_frames, num_gts) + tuple(mask_size), device=device)
    for t in reversed(range(num_frames)):  # labels of the first frame win
        frame = track_sample[t]
        gt = frame_gt_instances(frame, t)
        if not len(gt):
            continue
        cols = torch.tensor([index[int(i)] for i in gt.instances_ids.tolist()],
                            device=device)
        labels[cols] = gt.labels.to(device).long()
        bboxes[t, cols] = get_box_tensor(gt.bboxes).to(device).float()
        present[t, cols] = True
        masks[t, cols] = mask_targets([gt], [frame.metainfo], mask_size,
                                      device)[0]
    return dict(
        labels=labels, ids=ids, bboxes=bboxes, present=present, masks=masks)
