# Copyright (c) mmookd authors. All rights reserved.
"""PseudoVideoFromImage on a generated COCO-format dataset."""
import json
import random

import cv2
import numpy as np
import torch
from mmdet.datasets import CocoDataset
from mmdet.registry import MODELS
from mmdet.utils import register_all_modules

import mmookd.datasets.transforms.pseudo_video  # noqa: F401

register_all_modules()

H, W = 60, 80
# two rectangles: (x1, y1, x2, y2), category 1 and 2
RECTS = [(5, 10, 30, 40), (45, 20, 75, 55)]


def make_coco(root):
    """One 60 x 80 image, two rectangle instances, COCO json."""
    (root / 'imgs').mkdir()
    img = np.zeros((H, W, 3), np.uint8)
    img[:, :, 2] = np.arange(W, dtype=np.uint8)[None] * 3  # x ramp (red)
    anns = []
    for i, (x1, y1, x2, y2) in enumerate(RECTS):
        img[y1:y2, x1:x2, 1] = 100 + 100 * i
        anns.append(
            dict(
                id=i + 1,
                image_id=1,
                category_id=i + 1,
                iscrowd=0,
                bbox=[x1, y1, x2 - x1, y2 - y1],
                area=(x2 - x1) * (y2 - y1),
                segmentation=[[x1, y1, x2, y1, x2, y2, x1, y2]]))
    cv2.imwrite(str(root / 'imgs' / 'a.png'), img)
    coco = dict(
        images=[dict(id=1, file_name='a.png', height=H, width=W)],
        annotations=anns,
        categories=[dict(id=1, name='a'),
                    dict(id=2, name='b')])
    (root / 'ann.json').write_text(json.dumps(coco))
    return img


def build_dataset(root, transforms):
    return CocoDataset(
        data_root=str(root),
        ann_file='ann.json',
        data_prefix=dict(img='imgs/'),
        metainfo=dict(classes=('a', 'b')),
        filter_cfg=None,
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
            dict(
                type='PseudoVideoFromImage',
                num_frames=2,
                transforms=transforms),
            dict(type='PackTrackInputs')
        ])


def test_independent_flips_keep_instance_correspondence(tmp_path):
    img = make_coco(tmp_path)
    dataset = build_dataset(tmp_path, [dict(type='RandomFlip', prob=0.5)])
    seen = set()
    for seed in range(12):
        random.seed(seed)
        np.random.seed(seed)
        item = dataset[0]
        inputs, track = item['inputs'], item['data_samples']
        assert inputs.shape == (2, 3, H, W)
        assert track.key_frames_inds == [0] and track.ref_frames_inds == [1]
        flips = []
        for t in range(2):
            frame = track[t]
            assert frame.frame_id == t and frame.video_id == 1
            gt = frame.gt_instances
            assert gt.instances_ids.tolist() == [0, 1]
            assert gt.labels.tolist() == [0, 1]
            expected = np.array(RECTS, np.float32)
            if frame.flip:
                expected[:, [0, 2]] = W - expected[:, [2, 0]]
                assert np.array_equal(inputs[t].permute(1, 2, 0).numpy(),
                                      img[:, ::-1])
            else:
                assert np.array_equal(inputs[t].permute(1, 2, 0).numpy(), img)
            assert np.allclose(gt.bboxes.numpy(), expected)
            assert gt.masks.masks[0].sum() == 25 * 30
            flips.append(bool(frame.flip))
        seen.add(tuple(flips))
    # the copies are flipped independently: all four combinations occur
    assert seen == {(False, False), (False, True), (True, False), (True, True)}


def test_crop_drops_instances_per_copy_and_pads_sizes(tmp_path):
    make_coco(tmp_path)
    transforms = [
        dict(
            type='RandomChoiceResize',
            scales=[(80, 60), (40, 30)],
            keep_ratio=True),
        dict(
            type='RandomCrop',
            crop_type='absolute',
            crop_size=(28, 36),
            allow_negative_crop=True),
    ]
    dataset = build_dataset(tmp_path, transforms)
    preprocessor = MODELS.build(
        dict(type='TrackDataPreprocessor', pad_mask=True, pad_size_divisor=32))
    sizes, id_sets = set(), set()
    for seed in range(30):
        random.seed(seed)
        np.random.seed(seed)
        item = dataset[0]
        inputs, track = item['inputs'], item['data_samples']
        pad_h, pad_w = inputs.shape[-2:]
        for t in range(2):
            frame = track[t]
            h, w = frame.img_shape
            sizes.add((h, w))
            assert (pad_h, pad_w) == (max(track[0].img_shape[0],
                                          track[1].img_shape[0]),
                                      max(track[0].img_shape[1],
                                          track[1].img_shape[1]))
            # padding is zero
            assert inputs[t, :, h:].sum() == 0 and inputs[t, :, :,
                                                          w:].sum() == 0
            ids = frame.gt_instances.instances_ids.tolist()
            labels = frame.gt_instances.labels.tolist()
            assert ids == labels  # id i is annotation i of class i
            id_sets.add(tuple(ids))
            boxes = frame.gt_instances.bboxes
            assert (boxes[:, 2] <= w).all() and (boxes[:, 3] <= h).all()
        batch = preprocessor(
            dict(inputs=[inputs], data_samples=[track]), training=True)
        for t in range(2):
            masks = batch['data_samples'][0][t].gt_instances.masks
            assert masks.masks.shape[1:] == tuple(batch['inputs'].shape[-2:])
    # copies of different sizes occur, and instances disappear per copy
    assert len(sizes) > 1
    assert {(0, ), (1, )} & id_sets and (0, 1) in id_sets
    assert isinstance(batch['inputs'], torch.Tensor)
