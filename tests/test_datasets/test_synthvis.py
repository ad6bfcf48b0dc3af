# Copyright (c) mmookd authors. All rights reserved.
"""Tests of the SynthVIS generator, its files and its CLI."""
import filecmp
import json
import os
import os.path as osp
import sys

import cv2
import numpy as np
import pycocotools.mask as mask_util
import pytest

from mmookd.datasets.metainfo import SYNTHVIS_CLASSES
from mmookd.datasets.synthvis import (DEFAULT_CLASS_SHARES, SHAPE_TESTS,
                                      SynthVISConfig, generate_synthvis,
                                      render_video, sample_class_layout,
                                      target_class_counts)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def tiny_cfg(**kwargs) -> SynthVISConfig:
    """64x64 frames, a handful of short videos: well under a second."""
    base = dict(
        frame_size=(64, 64),
        num_train_videos=8,
        train_length=(5, 7),
        num_val_short_videos=4,
        val_short_length=(5, 6),
        num_val_long_videos=3,
        val_long_length=(12, 14),
        radius_range=(7.0, 11.0))
    base.update(kwargs)
    return SynthVISConfig(**base)


@pytest.fixture(scope='module')
def tiny_set(tmp_path_factory):
    out = str(tmp_path_factory.mktemp('synthvis') / 'set')
    result = generate_synthvis(out, seed=0, cfg=tiny_cfg(), progress=False)
    data = {}
    for split, path in result['ann_files'].items():
        with open(path) as f:
            data[split] = json.load(f)
    return result, data


def decode(rle: dict) -> np.ndarray:
    return mask_util.decode(rle).astype(bool)


def test_layout_and_paths(tiny_set):
    result, _ = tiny_set
    out = result['out_dir']
    assert result['ann_files'] == {
        split: osp.join(out, 'annotations', f'synthvis_{split}.json')
        for split in ('train', 'val_short', 'val_long', 'val')
    }
    assert result['img_roots']['train'] == osp.join(out, 'train', 'JPEGImages')
    for split in ('val_short', 'val_long', 'val'):
        assert result['img_roots'][split] == osp.join(out, 'val', 'JPEGImages')
    assert sorted(os.listdir(osp.join(out, 'annotations'))) == [
        'synthvis_train.json', 'synthvis_val.json', 'synthvis_val_long.json',
        'synthvis_val_short.json'
    ]


def test_ytvis_schema(tiny_set):
    result, data = tiny_set
    for split, ann in data.items():
        assert set(ann) == {
            'info', 'licenses', 'videos', 'annotations', 'categories'
        }
        assert ann['categories'] == [
            dict(id=i + 1, name=name, supercategory='shape')
            for i, name in enumerate(SYNTHVIS_CLASSES)
        ]
        videos = {v['id']: v for v in ann['videos']}
        assert len(videos) == len(ann['videos']) > 0
        for video in ann['videos']:
            assert set(video) == {
                'id', 'width', 'height', 'length', 'file_names'
            }
            assert (video['height'], video['width']) == (64, 64)
            assert isinstance(video['id'], int)
            assert len(video['file_names']) == video['length']
            assert all(isinstance(n, str) for n in video['file_names'])
        ann_ids = [a['id'] for a in ann['annotations']]
        assert len(set(ann_ids)) == len(ann_ids) > 0
        for a in ann['annotations']:
            assert set(a) == {
                'id', 'video_id', 'category_id', 'iscrowd', 'segmentations',
                'bboxes', 'areas', 'height', 'width', 'length'
            }
            video = videos[a['video_id']]
            assert a['iscrowd'] == 0
            assert 1 <= a['category_id'] <= len(SYNTHVIS_CLASSES)
            assert (a['height'], a['width'],
                    a['length']) == (video['height'], video['width'],
                                     video['length'])
            for key in ('segmentations', 'bboxes', 'areas'):
                assert len(a[key]) == video['length'], (split, a['id'], key)
            present = [s is not None for s in a['segmentations']]
            assert present == [b is not None for b in a['bboxes']]
            assert present == [x is not None for x in a['areas']]
            assert any(present), f'annotation {a["id"]} is never visible'
            for segm, box, area in zip(a['segmentations'], a['bboxes'],
                                       a['areas']):
                if segm is None:
                    continue
                assert set(segm) == {'size', 'counts'}
                assert isinstance(segm['counts'], str)
                assert segm['size'] == [64, 64]
                assert len(box) == 4 and all(isinstance(x, float) for x in box)
                assert isinstance(area, int)


def test_masks_boxes_areas_and_no_overlap(tiny_set):
    _, data = tiny_set
    min_pixels = SynthVISConfig().min_visible_pixels
    for split in ('train', 'val_short', 'val_long'):
        ann = data[split]
        for video in ann['videos']:
            tracks = [
                a for a in ann['annotations'] if a['video_id'] == video['id']
            ]
            for t in range(video['length']):
                cover = np.zeros((64, 64), dtype=np.int32)
                for a in tracks:
                    if a['segmentations'][t] is None:
                        continue
                    mask = decode(a['segmentations'][t])
                    assert mask.shape == (64, 64)
                    assert mask.sum() == a['areas'][t] >= min_pixels
                    ys, xs = np.nonzero(mask)
                    assert a['bboxes'][t] == [
                        xs.min(),
                        ys.min(),
                        xs.max() + 1 - xs.min(),
                        ys.max() + 1 - ys.min()
                    ]
                    cover += mask
                assert cover.max() <= 1, (split, video['id'], t)


def test_frames_and_names(tiny_set):
    result, data = tiny_set
    for split, word in (('train', 'train'), ('val_short', 'short'),
                        ('val_long', 'long')):
        for video in data[split]['videos']:
            for name in video['file_names']:
                assert word in name
                assert name.startswith(f'{word}_') and name.endswith('.jpg')
                img = cv2.imread(osp.join(result['img_roots'][split], name))
                assert img is not None and img.shape == (64, 64, 3)
    # frame files are named by their step: 00000, 00003, ... in long videos
    interval = SynthVISConfig().long_frame_interval
    first = data['val_long']['videos'][0]
    steps = [int(osp.basename(n)[:-4]) for n in first['file_names']]
    assert steps == list(range(0, interval * first['length'], interval))
    short = data['val_short']['videos'][0]['file_names']
    assert [osp.basename(n) for n in short[:2]] == ['00000.jpg', '00001.jpg']


def test_val_is_short_plus_long(tiny_set):
    _, data = tiny_set
    short, long, val = data['val_short'], data['val_long'], data['val']
    assert val['videos'] == short['videos'] + long['videos']
    assert val['annotations'] == short['annotations'] + long['annotations']
    video_ids = [v['id'] for v in val['videos']]
    ann_ids = [a['id'] for a in val['annotations']]
    assert len(set(video_ids)) == len(video_ids)
    assert len(set(ann_ids)) == len(ann_ids)
    assert not {v['id']
                for v in short['videos']} & {v['id']
                                             for v in long['videos']}


def test_same_seed_same_bytes_other_seed_differs(tmp_path):
    cfg = tiny_cfg(
        num_train_videos=3, num_val_short_videos=2, num_val_long_videos=1)
    first = generate_synthvis(
        str(tmp_path / 'a'), seed=3, cfg=cfg, progress=False)
    second = generate_synthvis(
        str(tmp_path / 'b'), seed=3, cfg=cfg, progress=False)
    other = generate_synthvis(
        str(tmp_path / 'c'), seed=4, cfg=cfg, progress=False)
    for split in ('train', 'val_short', 'val_long', 'val'):
        with open(first['ann_files'][split], 'rb') as f:
            a = f.read()
        with open(second['ann_files'][split], 'rb') as f:
            b = f.read()
        with open(other['ann_files'][split], 'rb') as f:
            c = f.read()
        assert a == b, split
        assert a != c, split
    # the frames are identical too
    root_a, root_b = first['img_roots']['train'], second['img_roots']['train']
    names = sorted(os.listdir(osp.join(root_a, 'train_0001')))
    assert names
    match, mismatch, errors = filecmp.cmpfiles(
        osp.join(root_a, 'train_0001'),
        osp.join(root_b, 'train_0001'),
        names,
        shallow=False)
    assert match == names and not mismatch and not errors


def _centroid_steps(ann: dict) -> list:
    """Per-frame centroid displacements (px) of the visible masks."""
    steps = []
    for a in ann['annotations']:
        centres = []
        for segm in a['segmentations']:
            if segm is None:
                centres.append(None)
                continue
            ys, xs = np.nonzero(decode(segm))
            centres.append((xs.mean(), ys.mean()))
        for p, q in zip(centres[:-1], centres[1:]):
            if p is not None and q is not None:
                steps.append(np.hypot(q[0] - p[0], q[1] - p[1]))
    return steps


def test_long_split_moves_further_and_is_longer(tiny_set):
    result, data = tiny_set
    short = _centroid_steps(data['val_short'])
    long = _centroid_steps(data['val_long'])
    assert len(short) > 20 and len(long) > 20
    assert np.median(long) > 2 * np.median(short)
    assert min(v['length'] for v in data['val_long']['videos']) > max(
        v['length'] for v in data['val_short']['videos'])
    stats = result['stats']
    assert stats['val_long']['mean_displacement_px'] > 2 * stats['val_short'][
        'mean_displacement_px']


def test_target_class_counts():
    counts = target_class_counts(DEFAULT_CLASS_SHARES, 1000)
    assert counts.tolist() == [350, 210, 140, 100, 80, 60, 50, 10]
    counts = target_class_counts(DEFAULT_CLASS_SHARES, 37)
    assert counts.sum() == 37 and counts.min() >= 1
    assert counts.argmax() == 0
    # fewer instances than classes: no minimum of one
    assert target_class_counts(DEFAULT_CLASS_SHARES,
                               3).tolist() == [1, 1, 1, 0, 0, 0, 0, 0]


def test_class_layout_realises_the_long_tail():
    cfg = SynthVISConfig()
    rng = np.random.default_rng(0)
    layout = sample_class_layout(300, cfg, rng)
    labels = np.array([label for items in layout for label, _ in items])
    counts = np.bincount(labels, minlength=len(SYNTHVIS_CLASSES))
    assert counts.tolist() == target_class_counts(cfg.class_shares,
                                                  len(labels)).tolist()
    shares = counts / counts.sum()
    assert abs(shares[0] - 0.35) < 0.005 and abs(shares[-1] - 0.01) < 0.005
    assert np.all(np.diff(shares) <= 0)  # most to least frequent
    sizes = [len(items) for items in layout]
    assert min(sizes) >= 2 and max(sizes) <= 5
    groups = [items for items in layout if any(g == 0 for _, g in items)]
    assert 0.35 < len(groups) / len(layout) < 0.65  # lookalike_prob 0.5
    for items in groups:
        assert len({label for label, g in items if g == 0}) == 1


def test_generated_train_shares_follow_the_config(tiny_set, tmp_path):
    # tiny set: the realised counts of the JSON are the target counts
    result, data = tiny_set
    cats = [a['category_id'] - 1 for a in data['train']['annotations']]
    counts = np.bincount(cats, minlength=len(SYNTHVIS_CLASSES))
    assert result['stats']['train']['dropped_instances'] == 0
    assert counts.tolist() == target_class_counts(DEFAULT_CLASS_SHARES,
                                                  len(cats)).tolist()
    assert list(result['stats']['train']['class_counts'].values()) == (
        counts.tolist())
    # a custom tail is followed too
    shares = (0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.3)
    cfg = tiny_cfg(
        class_shares=shares,
        num_val_short_videos=0,
        num_val_long_videos=0,
        num_train_videos=20)
    other = generate_synthvis(str(tmp_path), cfg=cfg, progress=False)
    got = other['stats']['train']['class_shares']
    assert got['crescent'] == max(got.values()) > 0.25


def test_lookalikes_in_one_frame(tiny_set):
    _, data = tiny_set
    found = 0
    for a_split in ('train', 'val_short', 'val_long'):
        ann = data[a_split]
        for video in ann['videos']:
            tracks = [
                a for a in ann['annotations'] if a['video_id'] == video['id']
            ]
            for t in range(video['length']):
                cats = [
                    a['category_id'] for a in tracks
                    if a['segmentations'][t] is not None
                ]
                found += len(cats) > len(set(cats))
    assert found > 0


def test_entering_and_leaving(tiny_set):
    result, data = tiny_set
    partial = [
        a['id'] for a in data['train']['annotations']
        if None in a['segmentations']
    ]
    assert len(partial) == result['stats']['train'][
        'instances_entering_or_leaving'] > 0


def test_visible_masks_and_occlusion_events():
    cfg = SynthVISConfig(frame_size=(64, 64), radius_range=(8.0, 12.0))
    layout = sample_class_layout(12, cfg, np.random.default_rng(1))
    occlusions = 0
    for index, items in enumerate(layout):
        video = render_video(items, 8, 1, cfg, np.random.default_rng(index))
        full, visible, z = video['full'], video['visible'], video['z_order']
        assert video['frames'].shape == (8, 64, 64, 3)
        assert full.shape == visible.shape == (len(items), 8, 64, 64)
        assert video['labels'].tolist() == [label for label, _ in items]
        for i in range(len(items)):
            above = full[z > z[i]].any(axis=0)
            np.testing.assert_array_equal(visible[i], full[i] & ~above)
        full_area = full.sum(axis=(2, 3))
        vis_area = visible.sum(axis=(2, 3))
        occlusions += int(
            ((full_area > 50) & (vis_area < 0.5 * full_area)).sum())
    assert occlusions > 0


def test_occlusions_counted_in_stats(tiny_set):
    result, _ = tiny_set
    assert sum(s['occluded_instance_frames']
               for s in result['stats'].values()) > 0


def test_shapes_and_identity_cues_differ():
    # the 8 shapes are 8 different masks
    grid = np.linspace(-1, 1, 41)
    u, v = np.meshgrid(grid, grid)
    masks = {name: test(u, v) for name, test in SHAPE_TESTS.items()}
    names = list(masks)
    for i, a in enumerate(names):
        assert 0.15 < masks[a].mean() < 0.8, a
        for b in names[i + 1:]:
            assert (masks[a] != masks[b]).mean() > 0.05, (a, b)
    # look-alikes (one class, similar colour) carry different cues
    from mmookd.datasets import synthvis
    cfg = SynthVISConfig(frame_size=(64, 64))
    objects = synthvis._make_objects([(1, 0), (1, 0), (1, 0)], cfg, 4,
                                     np.random.default_rng(0), np.full(3, 0.5))
    marks = np.array([obj.mark for obj in objects])
    stripes = np.array([obj.stripe[0] for obj in objects])
    assert len({o.label for o in objects}) == 1
    assert np.abs(np.diff(stripes)).min() > 0.5
    dist = np.hypot(*(marks[:, None] - marks[None]).transpose(2, 0, 1))
    assert dist[np.triu_indices(3, 1)].min() > 0.2
    rgb = np.array([obj.color[0] for obj in objects])  # at step 0
    assert np.abs(rgb[1:] - rgb[0]).max() < 0.25


def test_class_hues_cluster_by_class():
    # each class has a typical hue (within class_hue_jitter of k / K), so
    # colour is a class cue; with None, hues spread over the whole circle
    from mmookd.datasets import synthvis
    num_classes = len(synthvis.SYNTHVIS_CLASSES)
    rng = np.random.default_rng(0)
    background = np.full(3, 0.5)
    jitter = 0.03
    cfg = SynthVISConfig(class_hue_jitter=jitter)
    for label in range(num_classes):
        hues = np.array([
            synthvis._object_color(rng, background, cfg, label)[0]
            for _ in range(50)
        ])
        offset = (hues - label / num_classes + 0.5) % 1.0 - 0.5
        assert np.abs(offset).max() <= jitter + 1e-9, label
    free = SynthVISConfig(class_hue_jitter=None)
    hues = np.array([
        synthvis._object_color(rng, background, free, 0)[0]
        for _ in range(200)
    ])
    assert np.abs((hues + 0.5) % 1.0 - 0.5).max() > 0.3
    with pytest.raises(ValueError, match='class_hue_jitter'):
        SynthVISConfig(class_hue_jitter=0.7)


def test_config_errors_name_the_field():
    with pytest.raises(ValueError, match='class_shares'):
        SynthVISConfig(class_shares=(1.0, 2.0))
    with pytest.raises(ValueError, match='val_long_length'):
        SynthVISConfig(val_long_length=(10, 5))
    with pytest.raises(ValueError, match='jpeg_quality'):
        SynthVISConfig(jpeg_quality=0)
    with pytest.raises(ValueError, match='num_train_videos'):
        SynthVISConfig(num_train_videos=2.5)
    with pytest.raises(ValueError, match='frame_size'):
        SynthVISConfig(frame_size=(8, 64))
    assert SynthVISConfig(frame_size=[64, 96]).frame_size == (64, 96)


def test_cli_json_and_overwrite(tmp_path, capsys):
    sys.path.insert(0, osp.join(REPO, 'tools', 'dataset_converters'))
    try:
        import make_synthvis
    finally:
        sys.path.pop(0)
    out = str(tmp_path / 'set')
    args = [
        '--out', out, '--seed', '1', '--frame-size', '48', '64',
        '--num-train-videos', '3', '--num-val-short-videos', '2',
        '--num-val-long-videos', '1', '--no-progress', '--json',
        '--cfg-options', 'train_length=4,5', 'val_long_length=9,9',
        'val_short_length=4,4'
    ]
    make_synthvis.main(args)
    lines = capsys.readouterr().out.strip().splitlines()
    summary = json.loads(lines[-1])
    assert summary['stats']['train']['videos'] == 3
    assert summary['stats']['val_long']['frames'] == 9
    assert summary['config']['frame_size'] == [48, 64]
    assert any(line.startswith('crescent') for line in lines)
    # a second run into the same folder with fewer videos overwrites it
    args[args.index('--num-train-videos') + 1] = '2'
    make_synthvis.main(args)
    assert sorted(os.listdir(osp.join(
        out, 'train', 'JPEGImages'))) == ['train_0001', 'train_0002']
    with open(osp.join(out, 'annotations', 'synthvis_train.json')) as f:
        assert len(json.load(f)['videos']) == 2
    with pytest.raises(ValueError, match='no_such_field'):
        make_synthvis.main(['--out', out, '--cfg-options', 'no_such_field=1'])


def test_dataset_reads_the_files(tiny_set):
    from mmdet.registry import DATASETS
    result, data = tiny_set
    dataset = DATASETS.build(
        dict(
            type='SynthVISDataset',
            ann_file=result['ann_files']['val'],
            data_prefix=dict(img_path=result['img_roots']['val']),
            long_video_ids=result['ann_files']['val_long'],
            test_mode=True))
    assert dataset.metainfo['classes'] == SYNTHVIS_CLASSES
    assert len(dataset) == len(data['val']['videos'])
    long_ids = sorted(v['id'] for v in data['val_long']['videos'])
    assert sorted(dataset.long_video_ids) == long_ids
    video = dataset.get_data_info(0)
    first = data['val']['videos'][0]
    assert video['video_length'] == first['length']
    frame = video['images'][0]
    assert osp.isfile(frame['img_path'])
    ids = {
        a['id']
        for a in data['val']['annotations']
        if a['video_id'] == first['id'] and a['segmentations'][0]
    }
    assert {i['instance_id'] for i in frame['instances']} == ids
