# Copyright (c) mmookd authors. All rights reserved.
"""The official IDOL data recipe: per-frame crop, boxes from masks, padding,
video-level sampling with empty frames kept (pixel value = frame index)."""
import json
import os
import os.path as osp
import random

import cv2
import numpy as np
import pytest
from mmcv.transforms import Compose
from mmdet.structures.bbox import HorizontalBoxes
from mmdet.structures.mask import BitmapMasks
from mmengine.config import Config
from mmengine.dataset import DefaultSampler
from mmengine.registry import DefaultScope

from mmookd.datasets import VISDataset
from mmookd.datasets.transforms import (BoxesFromMasks, ClipRandomCrop,
                                        PadClipFrames)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def coded_frame(t: int, height: int, width: int) -> np.ndarray:
    """Channel 0 = frame index, 1 = row % 251, 2 = column % 251."""
    img = np.empty((height, width, 3), np.uint8)
    img[..., 0] = t
    img[..., 1] = (np.arange(height) % 251)[:, None]
    img[..., 2] = (np.arange(width) % 251)[None, :]
    return img


def make_clip(num_frames: int = 3, height: int = 700, width: int = 800):
    """A loaded clip: one 100 x 100 square instance per frame (id 7) and one
    small one (id 9) in the top-left corner."""
    clip = dict(img=[], gt_bboxes=[], gt_bboxes_labels=[], gt_masks=[],
                gt_instances_ids=[], gt_ignore_flags=[], img_shape=[],
                frame_id=[])
    for t in range(num_frames):
        masks = np.zeros((2, height, width), np.uint8)
        masks[0, 300:400, 350:450] = 1
        masks[1, 0:20, 0:20] = 1
        clip['img'].append(coded_frame(t, height, width))
        clip['gt_bboxes'].append(
            HorizontalBoxes(
                np.array([[350, 300, 450, 400], [0, 0, 20, 20]],
                         np.float32)))
        clip['gt_bboxes_labels'].append(np.array([1, 2]))
        clip['gt_masks'].append(BitmapMasks(masks, height, width))
        clip['gt_instances_ids'].append(np.array([7, 9]))
        clip['gt_ignore_flags'].append(np.zeros(2, bool))
        clip['img_shape'].append((height, width))
        clip['frame_id'].append(t)
    return clip


def crop_offset(img: np.ndarray):
    """(y0, x0) of a crop of a coded frame (rows/cols < 251 here)."""
    return int(img[0, 0, 1]), int(img[0, 0, 2])


def test_clip_random_crop_per_frame():
    np.random.seed(0)
    crop = ClipRandomCrop(crop_size=(384, 600), prob=1.0)
    out = crop(make_clip(4, 700, 800))
    assert out['clip_cropped'] == [True] * 4
    sizes, offsets = set(), set()
    for t in range(4):
        img = out['img'][t]
        h, w = img.shape[:2]
        assert 384 <= h <= 600 and 384 <= w <= 600
        assert tuple(out['img_shape'][t]) == (h, w)
        assert (img[..., 0] == t).all()  # frames stay in order
        sizes.add((h, w))
        offsets.add(crop_offset(img))
        # masks, boxes, ids stay aligned; boxes are the masks' tight boxes
        masks = out['gt_masks'][t].masks
        assert masks.shape[1:] == (h, w)
        boxes = out['gt_bboxes'][t].numpy()
        assert len(boxes) == len(out['gt_instances_ids'][t]) == len(masks)
        for box, mask in zip(boxes, masks):
            ys, xs = np.nonzero(mask)
            assert box.tolist() == [
                xs.min(), ys.min(), xs.max() + 1, ys.max() + 1
            ]
    # independent windows: 4 frames do not share one size and offset
    assert len(sizes) > 1 and len(offsets) > 1


def test_clip_random_crop_shared_and_probability():
    np.random.seed(1)
    shared = ClipRandomCrop(prob=1.0, share_crop=True)(make_clip(3))
    assert len({img.shape for img in shared['img']}) == 1
    assert len({crop_offset(img) for img in shared['img']}) == 1
    untouched = ClipRandomCrop(prob=0.0)(make_clip(2))
    assert untouched['clip_cropped'] == [False, False]
    assert all(img.shape == (700, 800, 3) for img in untouched['img'])
    # one decision per clip, about half the clips
    np.random.seed(2)
    crop = ClipRandomCrop(prob=0.5)
    decisions = []
    for _ in range(200):
        out = crop(make_clip(2, 64, 64))  # smaller than 384: whole frame
        assert len(set(out['clip_cropped'])) == 1
        decisions.append(out['clip_cropped'][0])
    assert 70 < sum(decisions) < 130
    with pytest.raises(TypeError, match='lists of frames'):
        crop(dict(img=np.zeros((4, 4, 3), np.uint8)))


def test_crop_drops_instances_outside_and_keeps_empty_frames():
    np.random.seed(3)
    crop = ClipRandomCrop(prob=1.0)
    seen_dropped = False
    for _ in range(30):
        out = crop(make_clip(2))
        for t in range(2):
            ids = out['gt_instances_ids'][t].tolist()
            assert set(ids) <= {7, 9}
            assert len(out['gt_bboxes_labels'][t]) == len(ids)
            if 9 not in ids:  # the corner square left the crop
                seen_dropped = True
                y0, x0 = crop_offset(out['img'][t])
                assert y0 >= 20 or x0 >= 20
    assert seen_dropped


def test_boxes_from_masks_after_resize():
    masks = np.zeros((3, 10, 12), np.uint8)
    masks[0, 2:5, 3:9] = 1
    masks[1, 7, 11] = 1
    results = dict(
        gt_masks=BitmapMasks(masks, 10, 12),
        gt_bboxes=HorizontalBoxes(np.array(
            [[0, 0, 12, 10], [5, 5, 6, 6], [1, 1, 2, 2]], np.float32)),
        gt_bboxes_labels=np.array([0, 1, 2]),
        gt_instances_ids=np.array([10, 11, 12]),
        gt_ignore_flags=np.zeros(3, bool))
    out = BoxesFromMasks()(results)
    assert isinstance(out['gt_bboxes'], HorizontalBoxes)
    assert out['gt_bboxes'].numpy().tolist() == [[3, 2, 9, 5], [11, 7, 12, 8]]
    assert out['gt_instances_ids'].tolist() == [10, 11]  # empty one dropped
    assert out['gt_bboxes_labels'].tolist() == [0, 1]
    assert len(out['gt_masks']) == 2 and len(out['gt_ignore_flags']) == 2
    kept = BoxesFromMasks(drop_empty=False)(dict(
        gt_masks=BitmapMasks(masks, 10, 12),
        gt_bboxes=np.zeros((3, 4), np.float32)))
    assert kept['gt_bboxes'].tolist()[2] == [0, 0, 0, 0]


def test_pad_clip_frames():
    clip = dict(img=[np.full((5, 7, 3), 1, np.uint8),
                     np.full((6, 4, 3), 2, np.uint8)],
                img_shape=[(5, 7), (6, 4)])
    out = PadClipFrames(pad_val=0)(clip)
    assert [img.shape for img in out['img']] == [(6, 7, 3)] * 2
    assert out['img_shape'] == [(5, 7), (6, 4)]  # own sizes kept
    assert (out['img'][0][:5, :7] == 1).all() and (out['img'][0][5] == 0).all()
    assert (out['img'][1][:, 4:] == 0).all()


# --------------------------------------------------------------------------
# video-level sampling on a generated dataset
# --------------------------------------------------------------------------
def write_dataset(root: str, empty=range(10, 20)) -> str:
    """Two videos, 3 and 40 frames of 16 x 16; in the long one the frames
    ``empty`` have no instance. Frame t is filled with value t."""
    videos, annotations = [], []
    for vid, length in ((1, 3), (2, 40)):
        names = []
        for t in range(length):
            name = f'v{vid}/{t:05d}.png'
            path = osp.join(root, 'frames', name)
            os.makedirs(osp.dirname(path), exist_ok=True)
            cv2.imwrite(path, np.full((16, 16, 3), t, np.uint8))
            names.append(name)
        videos.append(
            dict(id=vid, width=16, height=16, length=length,
                 file_names=names))
        boxes, areas, segms = [], [], []
        for t in range(length):
            if vid == 2 and t in empty:
                boxes.append(None)
                areas.append(None)
                segms.append(None)
            else:
                boxes.append([2, 2, 8, 8])
                areas.append(64)
                segms.append([[2, 2, 10, 2, 10, 10, 2, 10]])
        annotations.append(
            dict(id=vid * 100, video_id=vid, category_id=1, iscrowd=0,
                 bboxes=boxes, areas=areas, segmentations=segms,
                 width=16, height=16))
    ann = dict(videos=videos, annotations=annotations,
               categories=[dict(id=1, name='disc')])
    path = osp.join(root, 'ann.json')
    with open(path, 'w') as f:
        json.dump(ann, f)
    return path


@pytest.fixture(autouse=True)
def mmdet_scope():
    with DefaultScope.overwrite_default_scope('mmdet'):
        yield


def build_dataset(root: str, filter_empty_gt: bool) -> VISDataset:
    pipeline = [
        dict(type='UniformRefFrameSample', num_ref_imgs=1, frame_range=10,
             filter_key_img=True),
        dict(type='TransformBroadcaster', share_random_params=True,
             transforms=[dict(type='LoadVISFrame'),
                         dict(type='LoadTrackAnnotations', with_mask=True)]),
        dict(type='ClipRandomCrop', crop_size=(8, 12), prob=0.5),
        dict(type='TransformBroadcaster',
             transforms=[dict(type='BoxesFromMasks')]),
        dict(type='PadClipFrames'),
        dict(type='PackTrackInputs'),
    ]
    return VISDataset(
        ann_file=osp.join(root, 'ann.json'),
        dataset_version='synthvis',
        data_prefix=dict(img_path=osp.join(root, 'frames')),
        filter_cfg=dict(filter_empty_gt=filter_empty_gt, min_size=8),
        pipeline=pipeline)


def sampled_frames(dataset, epochs: int):
    """(video index, [frame value of each sampled frame]) per sample."""
    sampler = DefaultSampler(dataset, shuffle=True, seed=0)
    out = []
    for epoch in range(epochs):
        sampler.set_epoch(epoch)
        for idx in sampler:
            packed = dataset[idx]
            imgs = packed['inputs']
            values = [int(imgs[t, 0, 0, 0]) for t in range(len(imgs))]
            out.append((idx, values, packed['data_samples']))
    return out


def test_video_level_sampling_keeps_empty_frames(tmp_path):
    write_dataset(str(tmp_path))
    random.seed(0)
    np.random.seed(0)
    dataset = build_dataset(str(tmp_path), filter_empty_gt=False)
    assert len(dataset) == 2  # one sample per video, not per frame
    samples = sampled_frames(dataset, epochs=150)
    per_video = np.bincount([idx for idx, _, _ in samples])
    assert per_video.tolist() == [150, 150]  # long videos do not dominate
    long_values = [v for idx, v, _ in samples if idx == 1]
    keys = set()
    for values, (_, _, track) in zip(long_values,
                                     [s for s in samples if s[0] == 1]):
        first, second = values
        assert first < second <= first + 10  # sorted, within +-10
        # frame_id metainfo agrees with the pixel value
        assert [track[t].frame_id for t in range(2)] == values
        keys.update(values)
        # frames of the empty range carry no instance
        for t, value in enumerate(values):
            count = len(track[t].gt_instances)
            assert (count == 0) == (10 <= value < 20)
    assert set(range(10, 20)) <= keys  # empty frames are sampled
    assert len(keys) >= 35


def test_filtering_empty_frames_stretches_the_window(tmp_path):
    """The old recipe (filter_empty_gt=True) drops frames 10..19, so the
    +-10 window spans more than 10 real frames around the gap."""
    write_dataset(str(tmp_path))
    random.seed(1)
    dataset = build_dataset(str(tmp_path), filter_empty_gt=True)
    gaps = [
        v[1] - v[0] for idx, v, _ in sampled_frames(dataset, epochs=150)
        if idx == 1
    ]
    assert max(gaps) > 10
    assert all(not (10 <= value < 20)
               for idx, v, _ in sampled_frames(dataset, epochs=5)
               if idx == 1 for value in v)


def test_real_dataset_configs_use_the_recipe():
    for rel in ('configs/idol/idol_r50_8xb4-12k_youtube-vis-2019.py',
                'configs/idol/idol_r50_8xb4-12k_youtube-vis-2021.py',
                'configs/idol/idol_r50_8xb2-12k_ovis.py'):
        cfg = Config.fromfile(osp.join(ROOT, rel))
        loader = cfg.train_dataloader
        assert loader.sampler.type == 'DefaultSampler', rel
        assert loader.dataset.filter_cfg.filter_empty_gt is False, rel
        types = [t['type'] for t in loader.dataset.pipeline]
        assert types == [
            'UniformRefFrameSample', 'TransformBroadcaster', 'ClipRandomCrop',
            'TransformBroadcaster', 'TransformBroadcaster', 'PadClipFrames',
            'PackTrackInputs'
        ], rel
        crop = loader.dataset.pipeline[2]
        assert tuple(crop.crop_size) == (384, 600) and crop.prob == 0.5
        resize = loader.dataset.pipeline[3]
        assert resize.share_random_params is True
        assert loader.dataset.pipeline[4].transforms == [
            dict(type='BoxesFromMasks')
        ]
    # the SynthVIS config keeps its frame-level sampling and no crop
    synth = Config.fromfile(
        osp.join(ROOT, 'configs/idol/idol_r18-w32_1xb4-2k_synthvis.py'))
    assert synth.train_dataloader.sampler.type == 'TrackImgSampler'
    assert 'ClipRandomCrop' not in [
        t['type'] for t in synth.train_dataloader.dataset.pipeline
    ]
    # the live-teacher OOKD clip keeps one geometry for all its frames
    ookd = Config.fromfile(
        osp.join(ROOT, 'configs/ookd/ookd_r50_8xb4-12k_youtube-vis-2021.py'))
    assert 'ClipRandomCrop' not in [
        t['type'] for t in ookd.train_dataloader.dataset.dataset.pipeline
    ]


def test_official_recipe_pipeline_runs_on_a_synthvis_clip(tmp_path):
    """The YTVIS train pipeline (scaled crop) on a generated SynthVIS set
    gives packed clips of one padded size and per-frame img_shapes."""
    from mmookd.testing import tiny_synthvis
    tiny_synthvis(
        tmp_path, num_train_videos=2, train_length=(4, 5),
        num_val_short_videos=1, val_short_length=(3, 3),
        num_val_long_videos=1, val_long_length=(4, 4))
    cfg = Config.fromfile(
        osp.join(ROOT, 'configs/idol/'
                 'idol_r18-w32_1xb4-2k_official-recipe_synthvis.py'))
    ds_cfg = cfg.train_dataloader.dataset
    np.random.seed(0)
    random.seed(0)
    dataset = VISDataset(
        ann_file=osp.join(str(tmp_path), 'annotations/synthvis_train.json'),
        dataset_version='synthvis',
        data_prefix=dict(img_path=osp.join(str(tmp_path),
                                           'train/JPEGImages')),
        filter_cfg=ds_cfg.filter_cfg,
        pipeline=Compose(ds_cfg.pipeline).transforms)
    shapes = set()
    for _ in range(6):
        packed = dataset[0]
        assert packed['inputs'].shape[0] == 2
        for t in range(2):
            sample = packed['data_samples'][t]
            h, w = sample.img_shape
            assert h <= packed['inputs'].shape[2]
            assert w <= packed['inputs'].shape[3]
            shapes.add((h, w))
            boxes = sample.gt_instances.bboxes
            boxes = getattr(boxes, 'tensor', boxes)
            assert (boxes[:, 2] <= w).all() and (boxes[:, 3] <= h).all()
    assert len(shapes) > 1
