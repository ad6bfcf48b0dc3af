# Copyright (c) mmookd authors. All rights reserved.
"""Tests of ``VISDataset`` and the dataset base configs.

Every test writes its own tiny YouTube-VIS-format set (JSON + frames) under
``tmp_path``: frames are 48x64 (h x w) unless said otherwise, masks are
rectangles so that boxes and RLEs are known exactly.
"""
import copy
import json
import logging
import os
import os.path as osp
import random

import cv2
import numpy as np
import pycocotools.mask as mask_utils
import pytest
import torch
from mmdet.datasets.samplers import (TrackAspectRatioBatchSampler,
                                     TrackImgSampler)
from mmdet.registry import DATA_SAMPLERS, DATASETS, TRANSFORMS
from mmdet.utils import register_all_modules
from mmengine.config import Config
from mmengine.dataset import Compose

import mmookd.datasets.transforms.loading  # noqa: F401  (LoadVISFrame)
from mmookd.datasets.metainfo import (OVIS_CLASSES, SYNTHVIS_CLASSES,
                                      VIS_METAINFO, YTVIS_2019_CLASSES,
                                      YTVIS_2021_CLASSES)
from mmookd.datasets.vis_dataset import (VISDataset, VISDatasetError,
                                         frame_index_of)

register_all_modules(init_default_scope=True)

CONFIG_DIR = osp.join(
    osp.dirname(__file__), '..', '..', 'configs', '_base_', 'datasets')
H, W = 48, 64


# ----------------------------------------------------------------------
# helpers that write a tiny data set
# ----------------------------------------------------------------------
def box_mask(x, y, w, h, height=H, width=W):
    """A (height, width) uint8 mask that is 1 inside [x, x+w) x [y, y+h)."""
    mask = np.zeros((height, width), np.uint8)
    mask[y:y + h, x:x + w] = 1
    return mask


def rle(mask):
    """Compressed RLE with a str ``counts``, as in the official files."""
    out = mask_utils.encode(np.asfortranarray(mask))
    return dict(
        size=[int(s) for s in out['size']],
        counts=out['counts'].decode('ascii'))


def uncompressed_rle(mask):
    """Uncompressed RLE (``counts`` a list of run lengths, column-major)."""
    flat = mask.flatten(order='F')
    counts, current, run = [], 0, 0
    for value in flat:
        if value != current:
            counts.append(run)
            current, run = value, 0
        run += 1
    counts.append(run)
    return dict(size=list(mask.shape), counts=counts)


def write_frames(img_dir, video_name, num_frames, height=H, width=W):
    """Write JPEG frames whose pixel value is 10 * (frame index + 1)."""
    names = []
    for i in range(num_frames):
        name = f'{video_name}/{i * 5:05d}.jpg'
        path = osp.join(str(img_dir), name)
        os.makedirs(osp.dirname(path), exist_ok=True)
        cv2.imwrite(path, np.full((height, width, 3), 10 * (i + 1), np.uint8))
        names.append(name)
    return names


def video_entry(video_id, file_names, height=H, width=W):
    return dict(
        id=video_id,
        width=width,
        height=height,
        length=len(file_names),
        file_names=file_names)


def track(ann_id,
          video_id,
          category_id,
          boxes,
          iscrowd=0,
          height=H,
          width=W,
          mask_form=rle):
    """An annotation with rectangle masks; None in ``boxes`` = absent."""
    segms, bboxes, areas = [], [], []
    for box in boxes:
        if box is None:
            segms.append(None)
            bboxes.append(None)
            areas.append(None)
        else:
            segms.append(mask_form(box_mask(*box, height, width)))
            bboxes.append(list(box))
            areas.append(box[2] * box[3])
    return dict(
        id=ann_id,
        video_id=video_id,
        category_id=category_id,
        iscrowd=iscrowd,
        segmentations=segms,
        bboxes=bboxes,
        areas=areas,
        height=height,
        width=width,
        length=len(boxes))


def write_json(path, obj):
    with open(path, 'w') as f:
        json.dump(obj, f)
    return str(path)


# The categories of the two-video set: YTVIS-21 names with ids that are
# neither 1-based nor in the order of the classes.
CATS_2021 = [
    dict(id=5, name='person', supercategory='object'),
    dict(id=2, name='cat', supercategory='object')
]
PERSON, CAT = YTVIS_2021_CLASSES.index('person'), YTVIS_2021_CLASSES.index(
    'cat')


def two_video_set(root):
    """Two videos: id 3 (2 frames) and id 7 (3 frames).

    - ann 11 (person) in both frames of video 3,
    - ann 12 (cat) only in frame 1 of video 3,
    - ann 21 (cat) in frames 0 and 2 of video 7 (null in frame 1),
    - ann 22 (person, iscrowd) only in frame 2 of video 7, uncompressed RLE
      and no box (computed from the mask).
    Frame 1 of video 7 has no instance.
    """
    img_dir = osp.join(str(root), 'train', 'JPEGImages')
    names3 = write_frames(img_dir, 'vid_three', 2)
    names7 = write_frames(img_dir, 'vid_seven', 3)
    anns = [
        track(11, 3, 5, [(1, 2, 10, 20), (3, 4, 10, 20)]),
        track(12, 3, 2, [None, (30, 5, 8, 6)]),
        track(21, 7, 2, [(0, 0, 16, 16), None, (40, 20, 20, 20)]),
        track(
            22,
            7,
            5, [None, None, (2, 30, 12, 9)],
            iscrowd=1,
            mask_form=uncompressed_rle),
    ]
    anns[3]['bboxes'][2] = None
    raw = dict(
        info={},
        videos=[video_entry(3, names3),
                video_entry(7, names7)],
        annotations=anns,
        categories=copy.deepcopy(CATS_2021))
    ann_file = write_json(osp.join(str(root), 'train.json'), raw)
    return ann_file, raw


def build(ann_file, root, **kwargs):
    kwargs.setdefault('dataset_version', 'youtube_vis_2021')
    kwargs.setdefault('data_prefix', dict(img_path='train/JPEGImages'))
    return VISDataset(ann_file=ann_file, data_root=str(root), **kwargs)


def video_infos(dataset):
    out = []
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        info.pop('sample_idx')
        out.append(info)
    return out


def inst(bbox, label, box_xywh, instance_id, ignore_flag=0):
    return dict(
        bbox=bbox,
        bbox_label=label,
        mask=rle(box_mask(*box_xywh)),
        instance_id=instance_id,
        ignore_flag=ignore_flag)


def frame(root, name, video_id, frame_id, instances):
    return dict(
        img_path=osp.join(str(root), 'train', 'JPEGImages', name),
        img_id=video_id * 10000 + frame_id,
        video_id=video_id,
        frame_id=frame_id,
        height=H,
        width=W,
        is_long=False,
        instances=instances)


def expected_two_video_list(root):
    f3 = [
        frame(root, 'vid_three/00000.jpg', 3, 0,
              [inst([1., 2., 11., 22.], PERSON, (1, 2, 10, 20), 11)]),
        frame(root, 'vid_three/00005.jpg', 3, 1, [
            inst([3., 4., 13., 24.], PERSON, (3, 4, 10, 20), 11),
            inst([30., 5., 38., 11.], CAT, (30, 5, 8, 6), 12)
        ]),
    ]
    f7 = [
        frame(root, 'vid_seven/00000.jpg', 7, 0,
              [inst([0., 0., 16., 16.], CAT, (0, 0, 16, 16), 21)]),
        frame(root, 'vid_seven/00005.jpg', 7, 1, []),
        frame(root, 'vid_seven/00010.jpg', 7, 2, [
            inst([40., 20., 60., 40.], CAT, (40, 20, 20, 20), 21),
            inst([2., 30., 14., 39.], PERSON, (2, 30, 12, 9), 22, 1)
        ]),
    ]
    return [
        dict(video_id=3, video_length=2, is_long=False, images=f3),
        dict(video_id=7, video_length=3, is_long=False, images=f7),
    ]


# ----------------------------------------------------------------------
# the data list
# ----------------------------------------------------------------------
def test_two_videos_load_exactly(tmp_path):
    ann_file, _ = two_video_set(tmp_path)
    expected = expected_two_video_list(tmp_path)

    # test mode keeps every frame
    dataset = build(ann_file, tmp_path, test_mode=True)
    assert video_infos(dataset) == expected
    assert dataset.cat2label == {5: PERSON, 2: CAT}
    assert dataset.metainfo['classes'] == YTVIS_2021_CLASSES
    assert dataset.metainfo['dataset_version'] == 'youtube_vis_2021'

    # train mode keeping empty frames: the same list
    dataset = build(ann_file, tmp_path, filter_cfg=dict(filter_empty_gt=False))
    assert video_infos(dataset) == expected

    # train mode, default filter: frame 1 of video 7 is dropped
    dataset = build(ann_file, tmp_path)
    infos = video_infos(dataset)
    expected[1]['images'].pop(1)
    expected[1]['video_length'] = 2
    assert infos == expected
    assert [f['frame_id'] for f in infos[1]['images']] == [0, 2]
    assert dataset.num_all_imgs == 4
    assert dataset.get_cat_ids((1, 1)) == [CAT, PERSON]


def test_img_ids_unique_and_invertible(tmp_path):
    ann_file, _ = two_video_set(tmp_path)
    dataset = build(ann_file, tmp_path, test_mode=True)
    img_ids = [f['img_id'] for v in video_infos(dataset) for f in v['images']]
    assert img_ids == [30000, 30001, 70000, 70001, 70002]
    assert frame_index_of(70002) == (7, 2)


def test_masks_and_ids_round_trip_through_load_track_annotations(tmp_path):
    """Decoded GT masks equal the drawn ones; ids are the annotation ids."""
    ann_file, raw = two_video_set(tmp_path)
    dataset = build(ann_file, tmp_path, test_mode=True)
    load = Compose([
        dict(type='LoadVISFrame'),
        dict(type='LoadTrackAnnotations', with_mask=True)
    ])
    frame_info = dataset.get_data_info(1)['images'][2]
    out = load(copy.deepcopy(frame_info))
    assert out['img'].shape == (H, W, 3)
    assert abs(int(out['img'].mean()) - 30) <= 2  # frame index 2 -> 30
    np.testing.assert_array_equal(out['gt_instances_ids'], [21, 22])
    np.testing.assert_array_equal(out['gt_bboxes_labels'], [CAT, PERSON])
    np.testing.assert_array_equal(out['gt_ignore_flags'], [False, True])
    np.testing.assert_array_equal(out['gt_masks'].masks[0],
                                  box_mask(40, 20, 20, 20))
    np.testing.assert_array_equal(out['gt_masks'].masks[1],
                                  box_mask(2, 30, 12, 9))
    np.testing.assert_allclose(out['gt_bboxes'],
                               [[40, 20, 60, 40], [2, 30, 14, 39]])


def test_polygon_masks_are_kept(tmp_path):
    ann_file, raw = two_video_set(tmp_path)
    polygon = [[1.0, 2.0, 11.0, 2.0, 11.0, 22.0, 1.0, 22.0]]
    raw['annotations'][0]['segmentations'][0] = polygon
    raw['annotations'][0]['bboxes'][0] = None  # box from the polygon
    write_json(ann_file, raw)
    dataset = build(ann_file, tmp_path, test_mode=True)
    instance = dataset.get_data_info(0)['images'][0]['instances'][0]
    assert instance['mask'] == polygon
    assert instance['bbox'] == [1.0, 2.0, 11.0, 22.0]


@pytest.mark.parametrize('version,classes', [
    ('youtube_vis_2019', YTVIS_2019_CLASSES),
    ('youtube_vis_2021', YTVIS_2021_CLASSES),
    ('youtube_vis_2022', YTVIS_2021_CLASSES),
    ('ovis', OVIS_CLASSES),
    ('synthvis', SYNTHVIS_CLASSES),
])
def test_versions_classes_and_mapping_by_name(tmp_path, version, classes):
    num_classes = dict(
        youtube_vis_2019=40,
        youtube_vis_2021=40,
        youtube_vis_2022=40,
        ovis=25,
        synthvis=8)[version]
    names = write_frames(tmp_path / 'train' / 'JPEGImages', 'v', 1)
    # categories reversed, ids 1..K in the reversed order
    cats = [dict(id=i + 1, name=n) for i, n in enumerate(classes[::-1])]
    last = len(classes)  # id of classes[0]
    raw = dict(
        videos=[video_entry(1, names)],
        annotations=[track(1, 1, last, [(0, 0, 8, 8)])],
        categories=cats)
    ann_file = write_json(tmp_path / 'a.json', raw)
    dataset = build(ann_file, tmp_path, dataset_version=version)
    assert len(dataset.metainfo['classes']) == num_classes
    assert tuple(dataset.metainfo['classes']) == tuple(classes)
    assert dataset.get_cat_ids(0) == [0]
    assert dataset.cat2label == {
        i + 1: num_classes - 1 - i
        for i in range(num_classes)
    }


def test_metainfo_is_per_instance(tmp_path):
    names = write_frames(tmp_path / 'train' / 'JPEGImages', 'v', 1)
    raw = dict(videos=[video_entry(1, names)])
    ann_file = write_json(tmp_path / 'test.json', raw)
    class_attr = copy.deepcopy(VISDataset.METAINFO)
    ovis = build(ann_file, tmp_path, dataset_version='ovis', test_mode=True)
    ytvis = build(
        ann_file, tmp_path, dataset_version='youtube_vis_2019', test_mode=True)
    assert len(ovis.metainfo['classes']) == 25
    assert len(ytvis.metainfo['classes']) == 40
    assert VISDataset.METAINFO == class_attr
    assert VIS_METAINFO['ovis']['classes'] == OVIS_CLASSES
    # a user subset of classes: other categories are skipped, not errors
    ann_file, _ = two_video_set(tmp_path)
    subset = build(
        ann_file, tmp_path, test_mode=True, metainfo=dict(classes=('cat', )))
    labels = [
        i['bbox_label'] for v in video_infos(subset) for f in v['images']
        for i in f['instances']
    ]
    ids = [
        i['instance_id'] for v in video_infos(subset) for f in v['images']
        for i in f['instances']
    ]
    assert labels == [0, 0, 0] and ids == [12, 21, 21]


def test_test_mode_file_without_annotations(tmp_path):
    img_dir = tmp_path / 'valid' / 'JPEGImages'
    raw = dict(
        info={},
        videos=[
            video_entry(4, write_frames(img_dir, 'a', 3)),
            video_entry(9, write_frames(img_dir, 'b', 1))
        ],
        categories=CATS_2021)
    ann_file = write_json(tmp_path / 'valid.json', raw)
    pipeline = [
        dict(
            type='TransformBroadcaster',
            transforms=[
                dict(type='LoadVISFrame'),
                dict(type='Resize', scale=(96, 32), keep_ratio=True),
            ]),
        dict(type='PackTrackInputs')
    ]
    dataset = build(
        ann_file,
        tmp_path,
        data_prefix=dict(img_path='valid/JPEGImages'),
        test_mode=True,
        pipeline=pipeline)
    infos = video_infos(dataset)
    assert [v['video_id'] for v in infos] == [4, 9]
    assert [v['video_length'] for v in infos] == [3, 1]
    assert all(f['instances'] == [] for v in infos for f in v['images'])
    # the same file without categories (some test sets) loads as well
    del raw['categories']
    write_json(ann_file, raw)
    dataset = build(
        ann_file,
        tmp_path,
        data_prefix=dict(img_path='valid/JPEGImages'),
        test_mode=True,
        pipeline=pipeline)
    # frame-level test sampling, as TrackImgSampler does
    sampler = TrackImgSampler(dataset, seed=0)
    indices = list(iter(sampler))
    assert indices == [(0, 0), (0, 1), (0, 2), (1, 0)]
    packed = dataset[indices[1]]
    assert packed['inputs'].shape == (1, 3, 32, 43)
    sample = packed['data_samples'][0]
    assert sample.img_id == 40001 and sample.frame_id == 1
    assert sample.video_id == 4 and sample.ori_video_length == 3
    assert sample.ori_shape == (H, W)
    # a train-mode dataset needs the annotations
    with pytest.raises(VISDatasetError) as info:
        build(ann_file, tmp_path, data_prefix=dict(img_path='valid/J'))
    assert 'valid.json' in str(info.value)
    assert 'annotations' in str(info.value)


def test_annotations_null_in_test_mode(tmp_path):
    names = write_frames(tmp_path / 'train' / 'JPEGImages', 'v', 2)
    raw = dict(
        videos=[video_entry(1, names)], annotations=None, categories=None)
    ann_file = write_json(tmp_path / 'valid.json', raw)
    dataset = build(ann_file, tmp_path, test_mode=True)
    assert dataset.num_all_imgs == 2


# ----------------------------------------------------------------------
# long videos
# ----------------------------------------------------------------------
def _short_long_set(root):
    img_dir = root / 'train' / 'JPEGImages'
    videos = [
        video_entry(1, write_frames(img_dir, 'short_0001', 2)),
        video_entry(2, write_frames(img_dir, 'long_0001', 4)),
        video_entry(5, write_frames(img_dir, 'long_0002', 3)),
    ]
    raw = dict(videos=videos, annotations=[], categories=CATS_2021)
    ann_file = write_json(root / 'val.json', raw)
    long_raw = dict(videos=videos[1:], annotations=[], categories=CATS_2021)
    write_json(root / 'val_long.json', long_raw)
    (root / 'long_ids.txt').write_text('# long videos\n2\n\n5  # second\n')
    return ann_file


@pytest.mark.parametrize('spec',
                         [[2, 5],
                          (5, 2), 'long_ids.txt', 'val_long.json', 'ABS_JSON'])
def test_long_video_ids_forms(tmp_path, spec):
    ann_file = _short_long_set(tmp_path)
    if spec == 'ABS_JSON':
        spec = str(tmp_path / 'val_long.json')
    dataset = build(
        ann_file,
        tmp_path,
        test_mode=True,
        long_video_ids=spec,
        dataset_version='youtube_vis_2022')
    assert dataset.long_video_ids == [2, 5]
    infos = video_infos(dataset)
    assert [v['is_long'] for v in infos] == [False, True, True]
    assert all(f['is_long'] == v['is_long'] for v in infos
               for f in v['images'])
    assert dataset.get_video_ids(long=True) == [2, 5]
    assert dataset.get_video_ids(long=False) == [1]
    assert dataset.get_video_ids() == [1, 2, 5]


def test_long_video_ids_default_and_errors(tmp_path):
    ann_file = _short_long_set(tmp_path)
    dataset = build(ann_file, tmp_path, test_mode=True)
    assert dataset.long_video_ids == []
    # ids absent from the file are ignored (with a log line)
    dataset = build(
        ann_file, tmp_path, test_mode=True, long_video_ids=[2, 999])
    assert dataset.long_video_ids == [2]
    (tmp_path / 'bad_ids.txt').write_text('2\nlong_0002\n')
    with pytest.raises(VISDatasetError) as info:
        build(ann_file, tmp_path, test_mode=True, long_video_ids='bad_ids.txt')
    assert 'bad_ids.txt' in str(info.value) and 'line 2' in str(info.value)
    with pytest.raises(FileNotFoundError) as info:
        build(ann_file, tmp_path, test_mode=True, long_video_ids='nowhere.txt')
    assert 'nowhere.txt' in str(info.value)


# ----------------------------------------------------------------------
# legal but odd input
# ----------------------------------------------------------------------
def test_video_without_annotations_and_one_frame_video(tmp_path):
    ann_file, raw = two_video_set(tmp_path)
    img_dir = tmp_path / 'train' / 'JPEGImages'
    raw['videos'].append(video_entry(8, write_frames(img_dir, 'empty', 2)))
    raw['videos'].append(video_entry(9, write_frames(img_dir, 'one', 1)))
    raw['annotations'].append(track(31, 9, 2, [(4, 4, 20, 20)]))
    write_json(ann_file, raw)

    test_set = build(ann_file, tmp_path, test_mode=True)
    assert [v['video_id'] for v in video_infos(test_set)] == [3, 7, 8, 9]
    keep = build(ann_file, tmp_path, filter_cfg=dict(filter_empty_gt=False))
    assert [v['video_length'] for v in video_infos(keep)] == [2, 3, 2, 1]
    # default training filter: the empty video disappears
    train = build(ann_file, tmp_path, pipeline=_train_pipeline())
    assert [v['video_id'] for v in video_infos(train)] == [3, 7, 9]

    # the one-frame video goes through the training pipeline: the
    # reference frame is the key frame itself
    random.seed(0)
    np.random.seed(0)
    packed = train[(2, 0)]
    assert packed['inputs'].shape[:2] == (2, 3)
    samples = packed['data_samples'].video_data_samples
    assert [s.frame_id for s in samples] == [0, 0]
    for s in samples:
        assert s.gt_instances.instances_ids.tolist() == [31]
        assert s.gt_instances.labels.tolist() == [CAT]


def test_degenerate_boxes_are_skipped(tmp_path):
    ann_file, raw = two_video_set(tmp_path)
    raw['annotations'][0]['bboxes'][0] = [1, 2, 0.5, 20]  # narrower than 1
    raw['annotations'][0]['bboxes'][1] = [100, 100, 5, 5]  # off the frame
    write_json(ann_file, raw)
    dataset = build(ann_file, tmp_path, test_mode=True)
    frames = dataset.get_data_info(0)['images']
    assert frames[0]['instances'] == []
    assert [i['instance_id'] for i in frames[1]['instances']] == [12]


# ----------------------------------------------------------------------
# bad input
# ----------------------------------------------------------------------
def _error_of(tmp_path, mutate, error=VISDatasetError, **kwargs):
    ann_file, raw = two_video_set(tmp_path)
    mutate(raw)
    write_json(ann_file, raw)
    with pytest.raises(error) as info:
        build(ann_file, tmp_path, test_mode=True, **kwargs)
    return str(info.value)


def test_truncated_json(tmp_path):
    ann_file, _ = two_video_set(tmp_path)
    text = open(ann_file).read()
    with open(ann_file, 'w') as f:
        f.write(text[:200])
    with pytest.raises(VISDatasetError) as info:
        build(ann_file, tmp_path)
    msg = str(info.value)
    assert ann_file in msg
    assert 'line 1' in msg and 'char 200' in msg


def test_malformed_json(tmp_path):
    ann_file = tmp_path / 'bad.json'
    ann_file.write_text('{"videos": [\n  {"id": 1,, "file_names": []}]}')
    with pytest.raises(VISDatasetError) as info:
        build(str(ann_file), tmp_path)
    msg = str(info.value)
    assert str(ann_file) in msg and 'line 2' in msg and 'column 12' in msg


def test_binary_file(tmp_path):
    ann_file = tmp_path / 'frames.json'
    ann_file.write_bytes(b'\xff\xd8\xff\xe0 not json')
    with pytest.raises(VISDatasetError) as info:
        build(str(ann_file), tmp_path)
    assert str(ann_file) in str(info.value) and 'byte 0' in str(info.value)


def test_missing_annotation_file(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        build('nothing_here.json', tmp_path)
    assert 'nothing_here.json' in str(info.value)


@pytest.mark.parametrize('key', ['videos', 'annotations', 'categories'])
def test_missing_top_level_key(tmp_path, key):
    ann_file, raw = two_video_set(tmp_path)
    del raw[key]
    write_json(ann_file, raw)
    with pytest.raises(VISDatasetError) as info:
        build(ann_file, tmp_path)
    msg = str(info.value)
    assert 'train.json' in msg and f"'{key}'" in msg


@pytest.mark.parametrize('key', ['segmentations', 'bboxes', 'areas'])
def test_per_frame_list_length(tmp_path, key):

    def mutate(raw):
        raw['annotations'][0][key].append(None)  # 3 entries, 2 frames

    msg = _error_of(tmp_path, mutate)
    assert 'train.json' in msg
    assert 'annotation id 11' in msg and 'video id 3' in msg
    assert key in msg and '3 entries' in msg and '2 frames' in msg


def test_unknown_category_id(tmp_path):

    def mutate(raw):
        raw['annotations'][2]['category_id'] = 99

    msg = _error_of(tmp_path, mutate)
    assert 'train.json' in msg
    assert 'annotation id 21' in msg and 'video id 7' in msg
    assert 'category id 99' in msg


def test_negative_box_size(tmp_path):

    def mutate(raw):
        raw['annotations'][2]['bboxes'][2] = [40, 20, -3, 20]

    msg = _error_of(tmp_path, mutate)
    assert 'train.json' in msg
    assert 'annotation id 21' in msg and 'video id 7' in msg
    assert 'frame 2' in msg and 'negative' in msg


def test_mask_size_differs_from_video(tmp_path):

    def mutate(raw):
        raw['annotations'][1]['segmentations'][1] = rle(
            np.zeros((10, 10), np.uint8))

    msg = _error_of(tmp_path, mutate)
    assert 'annotation id 12' in msg and 'frame 1' in msg
    assert '[10, 10]' in msg and '[48, 64]' in msg


def test_annotation_of_unknown_video(tmp_path):

    def mutate(raw):
        raw['annotations'][1]['video_id'] = 555

    msg = _error_of(tmp_path, mutate)
    assert 'annotation id 12' in msg and 'video id 555' in msg


def test_duplicate_annotation_id(tmp_path):

    def mutate(raw):
        raw['annotations'][1]['id'] = 11

    msg = _error_of(tmp_path, mutate)
    assert 'annotation id 11' in msg and 'twice' in msg


def test_video_length_mismatch(tmp_path):

    def mutate(raw):
        raw['videos'][1]['length'] = 4

    msg = _error_of(tmp_path, mutate)
    assert 'video id 7' in msg and '4' in msg and '3 frames' in msg


def test_category_outside_the_version(tmp_path):

    def mutate(raw):
        raw['categories'].append(dict(id=40, name='sedan'))

    msg = _error_of(tmp_path, mutate)
    assert 'sedan' in msg and 'youtube_vis_2021' in msg


def test_unknown_dataset_version(tmp_path):
    ann_file, _ = two_video_set(tmp_path)
    with pytest.raises(ValueError) as info:
        build(ann_file, tmp_path, dataset_version='youtube_vis_2020')
    assert 'youtube_vis_2020' in str(info.value)


def test_check_frames_names_missing_and_empty_frames(tmp_path):
    ann_file, _ = two_video_set(tmp_path)
    build(ann_file, tmp_path, check_frames=True)  # all present: fine
    missing = tmp_path / 'train' / 'JPEGImages' / 'vid_seven' / '00005.jpg'
    missing.unlink()
    empty = tmp_path / 'train' / 'JPEGImages' / 'vid_three' / '00000.jpg'
    empty.write_bytes(b'')
    with pytest.raises(FileNotFoundError) as info:
        build(ann_file, tmp_path, check_frames=True)
    msg = str(info.value)
    assert '2 frame file(s)' in msg
    assert f'{missing} (video id 7, frame 1)' in msg
    assert f'{empty} (video id 3, frame 0)' in msg
    # without the check the dataset builds; the loader names the frame
    dataset = build(
        ann_file,
        tmp_path,
        filter_cfg=dict(filter_empty_gt=False),
        pipeline=_train_pipeline())
    with pytest.raises(FileNotFoundError) as info:
        # key frame 1 of video 7 (the missing one)
        dataset[(1, 1)]
    msg = str(info.value)
    assert str(missing) in msg and 'video id 7' in msg and 'frame 1' in msg


# ----------------------------------------------------------------------
# samplers and the training pipeline
# ----------------------------------------------------------------------
def _train_pipeline():
    return [
        dict(
            type='UniformRefFrameSample',
            num_ref_imgs=1,
            frame_range=10,
            filter_key_img=True),
        dict(
            type='TransformBroadcaster',
            share_random_params=True,
            transforms=[
                dict(type='LoadVISFrame'),
                dict(type='LoadTrackAnnotations', with_mask=True),
                dict(type='RandomFlip', prob=0.5),
            ]),
        dict(type='PackTrackInputs')
    ]


def test_track_samplers(tmp_path):
    ann_file, _ = two_video_set(tmp_path)
    dataset = build(ann_file, tmp_path, pipeline=_train_pipeline())
    sampler = TrackImgSampler(dataset, seed=0)
    assert sorted(sampler) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    batches = list(
        TrackAspectRatioBatchSampler(sampler, batch_size=2, drop_last=False))
    assert sorted(i for b in batches for i in b) == sorted(sampler)
    random.seed(1)
    np.random.seed(1)
    packed = dataset[batches[0][0]]
    assert packed['inputs'].shape == (2, 3, H, W)
    assert packed['inputs'].dtype == torch.uint8


# ----------------------------------------------------------------------
# the base configs
# ----------------------------------------------------------------------
CONFIGS = [
    'youtube_vis_2019', 'youtube_vis_2021', 'youtube_vis_2022', 'ovis',
    'synthvis'
]


def _types(pipeline):
    for step in pipeline:
        yield step['type']
        yield from _types(step.get('transforms', []))


@pytest.mark.parametrize('name', CONFIGS)
def test_configs_load(name):
    cfg = Config.fromfile(osp.join(CONFIG_DIR, f'{name}.py'))
    train = cfg.train_dataloader.dataset
    val = cfg.val_dataloader.dataset
    assert train.type == val.type == 'VISDataset'
    assert train.dataset_version == val.dataset_version == name
    assert val.test_mode and not train.get('test_mode', False)
    # the real sets sample one video at a time (official IDOL); SynthVIS
    # keeps (video, frame) samples
    assert cfg.train_dataloader.sampler.type == (
        'TrackImgSampler' if name == 'synthvis' else 'DefaultSampler')
    assert train.filter_cfg.filter_empty_gt == (name == 'synthvis')
    assert cfg.val_dataloader.sampler.type == 'TrackImgSampler'
    assert cfg.train_dataloader.batch_sampler.type == \
        'TrackAspectRatioBatchSampler'
    assert cfg.test_dataloader == cfg.val_dataloader
    assert cfg.val_evaluator.type == 'VISMetric'
    assert cfg.val_evaluator.format_only == (name != 'synthvis')
    for pipeline in (train.pipeline, val.pipeline):
        for type_name in _types(pipeline):
            assert TRANSFORMS.get(type_name) is not None, type_name
    assert DATASETS.get(train.type) is VISDataset
    assert DATA_SAMPLERS.get('TrackImgSampler') is TrackImgSampler
    sample = train.pipeline[0]
    assert (sample.type, sample.num_ref_imgs, sample.frame_range,
            sample.filter_key_img) == ('UniformRefFrameSample', 1, 10, True)
    if name == 'synthvis':
        broadcast = train.pipeline[1]
        geometric = broadcast.transforms
    else:  # load, per-frame crop, clip-shared resize + flip, boxes, pad
        broadcast = train.pipeline[1]
        assert [t.type for t in train.pipeline[2:]] == [
            'ClipRandomCrop', 'TransformBroadcaster', 'TransformBroadcaster',
            'PadClipFrames', 'PackTrackInputs'
        ]
        assert train.pipeline[3].share_random_params
        geometric = broadcast.transforms + train.pipeline[3].transforms
    assert broadcast.share_random_params
    assert [t.type for t in geometric] == [
        'LoadVISFrame', 'LoadTrackAnnotations', 'RandomChoiceResize',
        'RandomFlip'
    ]
    assert geometric[1].with_mask
    assert geometric[3].prob == 0.5
    assert 'LoadTrackAnnotations' not in list(_types(val.pipeline))


@pytest.mark.parametrize('name,short_sides,max_side,test_scale', [
    ('youtube_vis_2019', list(range(320, 641, 32))[:2] + [392, 416] +
     list(range(448, 641, 32)), 768, (1333, 480)),
    ('youtube_vis_2021',
     [320, 352, 392, 416, 448, 480, 512, 544, 576, 608, 640], 768,
     (1333, 480)),
    ('youtube_vis_2022',
     [320, 352, 392, 416, 448, 480, 512, 544, 576, 608, 640], 768,
     (1333, 480)),
    ('ovis', list(range(480, 801, 32)), 1333, (1333, 720)),
])
def test_config_sizes_follow_idol(name, short_sides, max_side, test_scale):
    cfg = Config.fromfile(osp.join(CONFIG_DIR, f'{name}.py'))
    resize = cfg.train_dataloader.dataset.pipeline[3].transforms[0]
    assert [min(s) for s in resize.scales] == short_sides
    assert {max(s) for s in resize.scales} == {max_side}
    assert resize.keep_ratio
    test_resize = cfg.val_dataloader.dataset.pipeline[0].transforms[1]
    assert tuple(test_resize.scale) == test_scale and test_resize.keep_ratio


def test_config_files_and_layout():
    cfg19 = Config.fromfile(osp.join(CONFIG_DIR, 'youtube_vis_2019.py'))
    cfg22 = Config.fromfile(osp.join(CONFIG_DIR, 'youtube_vis_2022.py'))
    ovis = Config.fromfile(osp.join(CONFIG_DIR, 'ovis.py'))
    synth = Config.fromfile(osp.join(CONFIG_DIR, 'synthvis.py'))
    assert cfg19.train_dataloader.dataset.ann_file == 'train.json'
    assert cfg22.train_dataloader.dataset.data_root == \
        'data/youtube_vis_2021/'
    assert cfg22.train_dataloader.dataset.ann_file == 'train/instances.json'
    assert cfg22.val_dataloader.dataset.data_root == 'data/youtube_vis_2022/'
    assert 'long_video_ids' in cfg22.val_dataloader.dataset
    assert ovis.train_dataloader.dataset.data_prefix.img_path == 'train'
    assert ovis.train_dataloader.batch_size == 2
    assert synth.val_dataloader.dataset.long_video_ids == \
        'annotations/synthvis_val_long.json'
    assert synth.val_evaluator.ann_file == \
        'data/synthvis/annotations/synthvis_val.json'
    assert synth.val_evaluator.subsets == dict(
        short='data/synthvis/annotations/synthvis_val_short.json',
        long='data/synthvis/annotations/synthvis_val_long.json')


def _make_synthvis_like(root):
    """A tiny set in the SynthVIS layout: 2 train videos of 3 frames 128x128
    with 2 instances each in every frame, and a short + a long val video."""
    size = 128
    train_dir = root / 'train' / 'JPEGImages'
    cats = [dict(id=i + 1, name=n) for i, n in enumerate(SYNTHVIS_CLASSES)]
    videos, anns = [], []
    for v in range(2):
        names = write_frames(train_dir, f'video_{v:04d}', 3, size, size)
        videos.append(video_entry(v + 1, names, size, size))
        for k in range(2):
            boxes = [(8 + 40 * k + 4 * t, 10 + 30 * k, 30, 24)
                     for t in range(3)]
            anns.append(
                track(
                    100 * (v + 1) + k,
                    v + 1,
                    1 + k + v,
                    boxes,
                    height=size,
                    width=size))
    (root / 'annotations').mkdir()
    write_json(root / 'annotations' / 'synthvis_train.json',
               dict(videos=videos, annotations=anns, categories=cats))
    val_dir = root / 'val' / 'JPEGImages'
    short = video_entry(1, write_frames(val_dir, 'short_0001', 2, size, size),
                        size, size)
    long = video_entry(2, write_frames(val_dir, 'long_0001', 4, size, size),
                       size, size)
    for name, vids in (('synthvis_val', [short, long]),
                       ('synthvis_val_short', [short]), ('synthvis_val_long',
                                                         [long])):
        write_json(root / 'annotations' / f'{name}.json',
                   dict(videos=vids, annotations=[], categories=cats))


def test_synthvis_config_builds_and_runs_train_pipeline(tmp_path):
    _make_synthvis_like(tmp_path)
    cfg = Config.fromfile(osp.join(CONFIG_DIR, 'synthvis.py'))
    cfg.train_dataloader.dataset.data_root = str(tmp_path)
    cfg.val_dataloader.dataset.data_root = str(tmp_path)
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    assert len(dataset) == 2 and dataset.num_all_imgs == 6
    assert len(dataset.metainfo['classes']) == 8

    random.seed(3)
    np.random.seed(3)
    packed = dataset[(1, 1)]
    inputs = packed['inputs']
    assert inputs.dtype == torch.uint8
    assert inputs.shape[:2] == (2, 3)
    side = inputs.shape[2]
    assert side in (96, 112, 128, 144) and inputs.shape[3] == side
    samples = packed['data_samples'].video_data_samples
    assert len(samples) == 2
    frame_ids = [s.frame_id for s in samples]
    assert 1 in frame_ids and set(frame_ids) in ({0, 1}, {1, 2})
    assert samples[0].img_shape == samples[1].img_shape == (side, side)
    # each frame's pixels are 10 * (frame index + 1)
    for img, frame_id in zip(inputs, frame_ids):
        assert abs(float(img.float().mean()) - 10 * (frame_id + 1)) < 2
    for s in samples:
        gt = s.gt_instances
        assert gt.masks.masks.shape == (2, side, side)
        assert tuple(gt.bboxes.shape) == (2, 4)
        assert gt.instances_ids.tolist() == [200, 201]
        assert gt.labels.tolist() == [1, 2]
        # each mask's box is the GT box (up to resize rounding)
        for mask, box in zip(gt.masks.masks, gt.bboxes):
            ys, xs = np.nonzero(mask)
            np.testing.assert_allclose(
                [xs.min(), ys.min(),
                 xs.max() + 1, ys.max() + 1],
                box.numpy(),
                atol=2)

    val = DATASETS.build(cfg.val_dataloader.dataset)
    assert val.long_video_ids == [2]
    assert val.get_video_ids(long=False) == [1]
    packed = val[(1, 3)]
    assert packed['inputs'].shape == (1, 3, 128, 128)
    assert packed['data_samples'][0].img_id == 20003


# ----------------------------------------------------------------------
# corrupt or odd input that used to pass silently (docs/robustness.md)
# ----------------------------------------------------------------------
@pytest.mark.parametrize('value', ['48', 48.0, 0, True])
def test_video_size_must_be_a_positive_int(tmp_path, value):

    def mutate(raw):
        raw['videos'][1]['height'] = value

    msg = _error_of(tmp_path, mutate)
    assert 'video id 7' in msg and "'height' must be a positive int" in msg
    assert repr(value) in msg


@pytest.mark.parametrize('form', ['string', 'list'])
@pytest.mark.parametrize('delta', [-5, 7])
def test_rle_counts_must_add_up_to_the_frame(tmp_path, form, delta):
    mask = box_mask(30, 5, 8, 6)
    runs = uncompressed_rle(mask)['counts']
    runs[-1] += delta  # the last run (background) is too short / too long
    bad = dict(size=[H, W], counts=runs)
    if form == 'string':
        bad = dict(bad, counts=mask_utils.frPyObjects(
            bad, H, W)['counts'].decode('ascii'))

    def mutate(raw):
        raw['annotations'][1]['segmentations'][1] = bad

    msg = _error_of(tmp_path, mutate)
    assert 'annotation id 12' in msg and 'video id 3' in msg
    assert 'frame 1' in msg and 'corrupt RLE' in msg
    assert f'add up to {H * W + delta} pixels' in msg


def test_garbage_rle_string_is_refused(tmp_path):

    def mutate(raw):
        raw['annotations'][0]['segmentations'][0]['counts'] = 'oooo'

    msg = _error_of(tmp_path, mutate)
    assert 'annotation id 11' in msg and 'frame 0' in msg
    assert 'truncated' in msg


def test_box_with_nan_is_refused(tmp_path):

    def mutate(raw):
        raw['annotations'][2]['bboxes'][2] = [40, float('nan'), 20, 20]

    msg = _error_of(tmp_path, mutate)
    assert 'annotation id 21' in msg and 'video id 7' in msg
    assert 'frame 2' in msg and 'not a finite number' in msg


def test_all_zero_mask_with_a_box_is_absent_and_reported(tmp_path):
    ann_file, raw = two_video_set(tmp_path)
    # annotation 12, frame 1: a box but an empty mask
    raw['annotations'][1]['segmentations'][1] = rle(
        np.zeros((H, W), np.uint8))
    write_json(ann_file, raw)
    from mmengine.logging import MMLogger
    logs = []
    logger = MMLogger.get_current_instance()
    handler = logging.Handler()
    handler.emit = lambda record: logs.append(record.getMessage())
    logger.addHandler(handler)
    try:
        dataset = build(ann_file, tmp_path, test_mode=True)
    finally:
        logger.removeHandler(handler)
    frames = dataset.get_data_info(0)['images']
    assert [i['instance_id'] for i in frames[1]['instances']] == [11]
    warning = [m for m in logs if 'all zero' in m]
    assert len(warning) == 1
    assert 'annotation id 12 (video id 3, frame 1' in warning[0]


@pytest.mark.parametrize('poly', [[1, 2, 30, 40], [1, 2, 30, 40, 5],
                                  [1, 2, 30, 40, 5, None]])
def test_polygon_of_fewer_than_3_points_is_refused(tmp_path, poly):

    def mutate(raw):
        raw['annotations'][0]['segmentations'][1] = [
            [1, 1, 9, 1, 9, 9], poly
        ]

    msg = _error_of(tmp_path, mutate)
    assert 'annotation id 11' in msg and 'frame 1' in msg
    assert 'polygon 1' in msg


def _pipeline_error(tmp_path, pipeline, test_mode):
    """A frame on disk of another size than its video's JSON size."""
    ann_file, _ = two_video_set(tmp_path)
    path = osp.join(str(tmp_path), 'train', 'JPEGImages', 'vid_three',
                    '00005.jpg')
    cv2.imwrite(path, np.full((H - 8, W, 3), 20, np.uint8))
    dataset = build(
        ann_file, tmp_path, pipeline=pipeline, test_mode=test_mode)
    with pytest.raises(ValueError) as info:
        if test_mode:
            dataset[0]
        else:
            dataset[(0, 0)]
    return str(info.value)


@pytest.mark.parametrize('which', ['train', 'test'])
def test_frame_of_another_size_than_the_json_names_it(tmp_path, which):
    cfg = Config.fromfile(osp.join(CONFIG_DIR, 'synthvis.py'))
    pipeline = cfg[f'{which}_pipeline']
    msg = _pipeline_error(tmp_path, pipeline, which == 'test')
    assert 'vid_three/00005.jpg' in msg
    assert 'video id 3' in msg and 'frame 1' in msg
    assert f'{H - 8}x{W}' in msg and f'{H}x{W}' in msg
