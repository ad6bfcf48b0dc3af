# Copyright (c) mmookd authors. All rights reserved.
"""Tests of MinorPaste / ClipPaste on hand-built clips and small datasets."""
import copy
import json

import cv2
import numpy as np
import pytest
from mmdet.structures.bbox import HorizontalBoxes
from mmdet.structures.mask import BitmapMasks

from mmookd.datasets.transforms.minor_paste import (ClipPaste, MinorPaste,
                                                    frame_mapping, tight_boxes)

HW = (16, 20)


def make_clip(video_id, tracks, num_frames=2, hw=HW, seed=0):
    """A clip in mmdet's per-frame list format.

    Args:
        video_id (int): The video id.
        tracks (list[tuple]): ``(instance_id, label, rects)`` with ``rects``
            one ``(x0, y0, x1, y1)`` or None per frame.
        num_frames (int): ``T``.
        hw (tuple): Frame size.
        seed (int): Seed of the random pixels.

    Returns:
        dict: The clip.
    """
    h, w = hw
    rng = np.random.RandomState(seed)
    clip = dict(
        img=[],
        img_shape=[],
        video_id=[],
        frame_id=[],
        img_id=[],
        gt_masks=[],
        gt_bboxes=[],
        gt_bboxes_labels=[],
        gt_instances_ids=[],
        gt_ignore_flags=[])
    for t in range(num_frames):
        clip['img'].append(rng.randint(0, 256, (h, w, 3)).astype(np.uint8))
        clip['img_shape'].append(hw)
        clip['video_id'].append(video_id)
        clip['frame_id'].append(t)
        clip['img_id'].append(video_id * 100 + t)
        masks, ids, labels = [], [], []
        for iid, label, rects in tracks:
            if rects[t] is None:
                continue
            x0, y0, x1, y1 = rects[t]
            m = np.zeros(hw, dtype=np.uint8)
            m[y0:y1, x0:x1] = 1
            masks.append(m)
            ids.append(iid)
            labels.append(label)
        masks = np.stack(masks) if masks else np.zeros((0, h, w), np.uint8)
        clip['gt_masks'].append(BitmapMasks(masks, h, w))
        clip['gt_bboxes'].append(tight_boxes(masks))
        clip['gt_bboxes_labels'].append(np.array(labels, dtype=np.int64))
        clip['gt_instances_ids'].append(np.array(ids, dtype=np.int32))
        clip['gt_ignore_flags'].append(np.zeros(len(ids), dtype=bool))
    return clip


def with_source(target, source):
    results = copy.deepcopy(target)
    results['mix_results'] = [copy.deepcopy(source)]
    return results


def always_minor_paste(**kwargs):
    """MinorPaste where label 7 is the rarest class (p^s = k = 1)."""
    return MinorPaste(
        k=1.0, class_counts=[50, 20, 10, 8, 5, 4, 2, 1], **kwargs)


def check_consistency(out):
    """Boxes are tight boxes of the masks; masks never overlap."""
    for t in range(len(out['img'])):
        masks = out['gt_masks'][t].masks
        n = len(masks)
        assert len(out['gt_bboxes'][t]) == n
        assert len(out['gt_bboxes_labels'][t]) == n
        assert len(out['gt_instances_ids'][t]) == n
        assert len(out['gt_ignore_flags'][t]) == n
        boxes = out['gt_bboxes'][t]
        if isinstance(boxes, HorizontalBoxes):
            boxes = boxes.numpy()
        np.testing.assert_array_equal(boxes, tight_boxes(masks))
        assert masks.astype(np.int64).sum(axis=0).max(initial=0) <= 1
        assert masks.any(axis=(1, 2)).all()
        assert len(set(out['gt_instances_ids'][t].tolist())) == n


def test_frame_mapping():
    assert frame_mapping(2, 2) == [0, 1]
    assert frame_mapping(3, 3) == [0, 1, 2]
    assert frame_mapping(2, 5) == [0, 4]
    assert frame_mapping(5, 2) == [0, 0, 1, 1, 1]
    assert frame_mapping(1, 4) == [0]
    assert frame_mapping(3, 1) == [0, 0, 0]


def test_tight_boxes():
    m = np.zeros((2, 5, 6), dtype=np.uint8)
    m[0, 1:3, 2:5] = 1
    np.testing.assert_array_equal(tight_boxes(m), [[2, 1, 5, 3], [0, 0, 0, 0]])


def test_paste_pixels_masks_ids_and_occlusion():
    # target: instance 3 (label 0) and instance 9 (label 1)
    target = make_clip(
        5, [
            (3, 0, [(2, 2, 8, 8), (2, 2, 8, 8)]),
            (9, 1, [(12, 10, 18, 14), (14, 10, 16, 12)]),
        ],
        seed=1)
    # source: minor instance 4 (label 7) and a major one (label 0)
    source = make_clip(
        8, [
            (4, 7, [(5, 5, 10, 12), (1, 1, 9, 9)]),
            (6, 0, [(0, 12, 4, 16), (0, 12, 4, 16)]),
        ],
        seed=2)
    out = always_minor_paste()(with_source(target, source))
    check_consistency(out)
    new_id = 9 + 1  # past the largest id of target and source
    assert out['paste_sources'] == [{new_id: (8, 4)}] * 2
    # frame 0: instance 3 partly occluded, 9 untouched, pasted on top
    np.testing.assert_array_equal(out['gt_instances_ids'][0], [3, 9, new_id])
    np.testing.assert_array_equal(out['gt_bboxes_labels'][0], [0, 1, 7])
    m3 = np.zeros(HW, np.uint8)
    m3[2:8, 2:8] = 1
    m3[5:8, 5:8] = 0
    np.testing.assert_array_equal(out['gt_masks'][0].masks[0], m3)
    np.testing.assert_array_equal(out['gt_masks'][0].masks[1],
                                  target['gt_masks'][0].masks[1])
    np.testing.assert_array_equal(out['gt_masks'][0].masks[2],
                                  source['gt_masks'][0].masks[0])
    # frame 1: instance 3 fully hidden -> absent; the major one not pasted
    np.testing.assert_array_equal(out['gt_instances_ids'][1], [9, new_id])
    np.testing.assert_array_equal(out['gt_bboxes'][1],
                                  [[14, 10, 16, 12], [1, 1, 9, 9]])
    # pixels: the source crop under the pasted mask, the target elsewhere
    for t in range(2):
        pasted = source['gt_masks'][t].masks[0].astype(bool)
        np.testing.assert_array_equal(out['img'][t][pasted],
                                      source['img'][t][pasted])
        np.testing.assert_array_equal(out['img'][t][~pasted],
                                      target['img'][t][~pasted])
    assert out['img'][0].dtype == np.uint8


def test_empty_source_and_empty_target():
    target = make_clip(1, [(2, 0, [(0, 0, 4, 4), (0, 0, 4, 4)])])
    empty_src = make_clip(2, [])
    out = always_minor_paste()(with_source(target, empty_src))
    for t in range(2):
        np.testing.assert_array_equal(out['img'][t], target['img'][t])
        np.testing.assert_array_equal(out['gt_instances_ids'][t], [2])
    assert out['paste_sources'] == [{}, {}]
    # no mix_results at all
    out = always_minor_paste()(copy.deepcopy(target))
    assert out['paste_sources'] == [{}, {}]
    # an empty target gets the pasted instance alone
    empty_tgt = make_clip(3, [])
    source = make_clip(4, [(11, 7, [(1, 2, 5, 6), None])], seed=3)
    out = always_minor_paste()(with_source(empty_tgt, source))
    check_consistency(out)
    np.testing.assert_array_equal(out['gt_instances_ids'][0], [12])
    np.testing.assert_array_equal(out['gt_bboxes'][0], [[1, 2, 5, 6]])
    # absent in source frame 1 -> absent in target frame 1
    assert len(out['gt_instances_ids'][1]) == 0
    assert out['gt_masks'][1].masks.shape == (0, ) + HW
    np.testing.assert_array_equal(out['img'][1], empty_tgt['img'][1])
    assert out['paste_sources'][0] == {12: (4, 11)}


def test_two_pastes_keep_both_records():
    target = make_clip(1, [])
    out = always_minor_paste()(
        with_source(target, make_clip(2, [(4, 7, [(0, 0, 3, 3)] * 2)])))
    out['mix_results'] = [make_clip(3, [(6, 2, [(5, 5, 8, 8)] * 2)])]
    out = ClipPaste()(out)
    check_consistency(out)
    assert out['paste_sources'] == [{5: (2, 4), 7: (3, 6)}] * 2
    np.testing.assert_array_equal(out['gt_instances_ids'][1], [5, 7])


def test_same_video_is_not_pasted():
    clip = make_clip(1, [(2, 7, [(0, 0, 4, 4), (0, 0, 4, 4)])])
    out = always_minor_paste()(with_source(clip, clip))
    np.testing.assert_array_equal(out['gt_instances_ids'][0], [2])
    assert out['paste_sources'] == [{}, {}]


def test_pasted_masks_do_not_overlap_each_other():
    target = make_clip(1, [])
    source = make_clip(
        2,
        [
            (1, 7, [(0, 0, 10, 10), (0, 0, 10, 10)]),
            (2, 7, [(5, 5, 15, 15), (0, 0, 10, 10)]),  # on top of 1
        ])
    out = always_minor_paste()(with_source(target, source))
    check_consistency(out)
    np.testing.assert_array_equal(out['gt_instances_ids'][0], [3, 4])
    # frame 1: instance 1 is fully covered by instance 2 -> absent
    np.testing.assert_array_equal(out['gt_instances_ids'][1], [4])
    assert out['paste_sources'][1] == {3: (2, 1), 4: (2, 2)}


def test_lengths_sizes_and_offset():
    # source: 3 frames of 24 x 30, the object near the right border
    source = make_clip(
        2, [(5, 7, [(20, 3, 28, 9), (22, 4, 30, 10), (21, 5, 29, 11)])],
        num_frames=3,
        hw=(24, 30),
        seed=4)
    target = make_clip(1, [(1, 0, [(0, 0, 3, 3), (0, 0, 3, 3)])])
    out = always_minor_paste()(with_source(target, source))
    check_consistency(out)
    # frames 0 -> 0 and 1 -> 2; their clip box x in [20, 29) must fit in
    # 20 columns: dx = 20 - 29 = -9; y in [3, 11) fits in 16 rows: dy = 0.
    for t, st in ((0, 0), (1, 2)):
        src_mask = source['gt_masks'][st].masks[0].astype(bool)
        ys, xs = np.nonzero(src_mask)
        exp = np.zeros(HW, bool)
        exp[ys, xs - 9] = True
        np.testing.assert_array_equal(out['gt_masks'][t].masks[-1], exp)
        np.testing.assert_array_equal(out['img'][t][exp],
                                      source['img'][st][src_mask])
    # random offsets stay inside the frame and are the same in both frames
    np.random.seed(3)
    tr = always_minor_paste(random_offset=True)
    for _ in range(5):
        out = tr(with_source(target, source))
        b0, b1 = out['gt_bboxes'][0][-1], out['gt_bboxes'][1][-1]
        assert b0[0] >= 0 and b1[2] <= HW[1] and b0[3] <= HW[0]
        # source boxes differ by (+1, +2) between frames 0 and 2
        np.testing.assert_array_equal(b1 - b0, [1, 2, 1, 2])


def test_scale_jitter_is_clip_consistent():
    src = make_clip(2, [(5, 7, [(2, 2, 6, 5), (3, 3, 7, 6)])], seed=5)
    for t in range(2):  # a uniform colour per frame for exact pixels
        src['img'][t][:] = (40 + t, 80, 120)
    tr = always_minor_paste(scale_range=(2.0, 2.0))
    out = tr(with_source(make_clip(1, []), src))
    check_consistency(out)
    np.testing.assert_array_equal(out['gt_bboxes'][0], [[4, 4, 12, 10]])
    np.testing.assert_array_equal(out['gt_bboxes'][1], [[6, 6, 14, 12]])
    for t in range(2):
        m = out['gt_masks'][t].masks[0].astype(bool)
        assert m.sum() == 8 * 6
        assert (out['img'][t][m] == (40 + t, 80, 120)).all()


def test_horizontal_boxes_and_ignore_flags_kept():
    target = make_clip(1, [(1, 0, [(0, 0, 6, 6), (0, 0, 6, 6)])])
    target['gt_bboxes'] = [HorizontalBoxes(b) for b in target['gt_bboxes']]
    target['gt_ignore_flags'][0][:] = True
    source = make_clip(2, [(4, 7, [(3, 3, 8, 8), (3, 3, 8, 8)])])
    out = always_minor_paste()(with_source(target, source))
    assert isinstance(out['gt_bboxes'][0], HorizontalBoxes)
    check_consistency(out)
    np.testing.assert_array_equal(out['gt_ignore_flags'][0], [True, False])
    np.testing.assert_array_equal(out['gt_ignore_flags'][1], [False, False])


def test_minor_paste_selects_only_minor_tracks():
    source = make_clip(
        2,
        [
            (1, 0, [(0, 0, 3, 3)] * 2),  # most frequent class: p^s = 0
            (2, 6, [(4, 0, 7, 3)] * 2),  # minor
            (3, 7, [(8, 0, 11, 3)] * 2),  # rarest: p^s = k
        ])
    np.random.seed(0)
    tr = MinorPaste(
        k=0.7, class_counts=[50, 20, 10, 8, 5, 4, 2, 1], only_minor=False)
    counts, num = np.zeros(8), 1000
    for _ in range(num):
        out = tr(with_source(make_clip(1, []), source))
        for _, (vid, iid) in out['paste_sources'][0].items():
            counts[{1: 0, 2: 6, 3: 7}[iid]] += 1
    assert counts[0] == 0
    assert abs(counts[7] / num - 0.7) < 4 * np.sqrt(0.7 * 0.3 / num)
    ps6 = 0.7 * (50 - 2) / 49
    assert abs(counts[6] / num - ps6) < 4 * np.sqrt(ps6 * (1 - ps6) / num)


def test_clip_paste_max_num():
    source = make_clip(2, [(i, i % 3, [(2 * i, 0, 2 * i + 2, 2)] * 2)
                           for i in range(1, 8)])
    np.random.seed(0)
    out = ClipPaste(max_num_pasted=3)(with_source(make_clip(1, []), source))
    check_consistency(out)
    assert len(out['paste_sources'][0]) == 3
    src_ids = sorted(i for _, i in out['paste_sources'][0].values())
    assert len(set(src_ids)) == 3 and set(src_ids) <= set(range(1, 8))
    out = ClipPaste()(with_source(make_clip(1, []), source))
    assert len(out['gt_instances_ids'][0]) == 7
    np.testing.assert_array_equal(
        sorted(out['gt_instances_ids'][0]), range(8, 15))


def test_same_seed_same_output():
    target = make_clip(1, [(1, 0, [(0, 0, 9, 9), (2, 2, 11, 11)])])
    source = make_clip(2, [(4, 7, [(3, 3, 10, 12), (4, 4, 11, 13)]),
                           (5, 6, [(10, 1, 18, 6), (11, 2, 19, 7)])])

    def run(seed):
        np.random.seed(seed)
        tr = MinorPaste(
            k=0.7,
            class_counts=[50, 20, 10, 8, 5, 4, 2, 1],
            scale_range=(0.5, 1.5),
            random_offset=True)
        return [tr(with_source(target, source)) for _ in range(6)]

    a, b = run(7), run(7)
    for x, y in zip(a, b):
        assert x['paste_sources'] == y['paste_sources']
        for t in range(2):
            np.testing.assert_array_equal(x['img'][t], y['img'][t])
            np.testing.assert_array_equal(x['gt_masks'][t].masks,
                                          y['gt_masks'][t].masks)
            np.testing.assert_array_equal(x['gt_bboxes'][t], y['gt_bboxes'][t])
    # the draws do vary between clips
    assert len({tuple(map(tuple, x['gt_bboxes'][0])) for x in a}) > 1


def test_unknown_statistics_raise():
    with pytest.raises(RuntimeError, match='class statistics'):
        MinorPaste()(
            with_source(
                make_clip(1, []), make_clip(2, [(1, 0, [(0, 0, 2, 2)] * 2)])))


# ---------------------------------------------------------------------------
# source clips through a dataset


class FakeVideoDataset:
    """An in-memory video dataset: every track is in every frame."""

    def __init__(self, videos, num_classes=8, num_frames=2):
        # videos: list of lists of labels (one entry per track)
        self.metainfo = dict(
            classes=tuple(f'c{i}' for i in range(num_classes)))
        self.videos = videos
        self.num_frames = num_frames
        self.info_calls = 0

    def __len__(self):
        return len(self.videos)

    def get_data_info(self, idx):
        self.info_calls += 1
        labels = self.videos[idx]
        insts = [
            dict(instance_id=100 * idx + j, bbox_label=lab, ignore_flag=0)
            for j, lab in enumerate(labels)
        ]
        return dict(
            video_id=idx + 1,
            video_length=self.num_frames,
            images=[
                dict(instances=copy.deepcopy(insts))
                for _ in range(self.num_frames)
            ])

    def __getitem__(self, idx):
        tracks = [(100 * idx + j, lab,
                   [(3 * j, 0, 3 * j + 2, 2)] * self.num_frames)
                  for j, lab in enumerate(self.videos[idx])]
        return make_clip(
            idx + 1, tracks, self.num_frames, hw=(4, 40), seed=idx)


def make_long_tailed_videos(counts, seed=0):
    rng = np.random.RandomState(seed)
    labels = np.concatenate([[c] * n for c, n in enumerate(counts)])
    rng.shuffle(labels)
    videos, i = [], 0
    while i < len(labels):
        n = rng.randint(1, 5)
        videos.append(sorted(labels[i:i + n].tolist()))
        i += n
    return videos


@pytest.mark.parametrize('prob,reuse,wrapped', [
    (1.0, 1, False),
    (0.5, 4, False),
    (1.0, 1, True),
    (1.0, 8, True),
])
def test_paste_counts_follow_eq6(prob, reuse, wrapped):
    """Eq. 6 over 1,000 clips, by hand or through ClipMixDataset."""
    from mmookd.datasets.dataset_wrappers import ClipMixDataset
    counts = [60, 30, 18, 12, 9, 6, 4, 2]
    videos = make_long_tailed_videos(counts)
    # the last video has no track: the target clip of the wrapped runs
    ds = FakeVideoDataset(videos + [[]])
    k, thr, num_clips = 0.7, 0.1, 1000
    # Eq. 6 and the source clips, derived independently of the module
    p = np.array(counts) / sum(counts)
    ps = k * (p.max() - p) / (p.max() - p.min())
    minor = p < thr
    sources = [i for i, v in enumerate(videos) if any(minor[lab] for lab in v)]
    n_cv = np.array([[v.count(c) for c in range(8)] for v in videos])

    np.random.seed(0)
    tr = MinorPaste(k=k, minor_thr=thr, prob=prob, reuse_source=reuse)
    wrapper = ClipMixDataset(ds, [tr])
    target = make_clip(0, [], hw=(4, 40))
    pasted, offered = np.zeros(8), np.zeros(8)
    draws, new_ids = [], []
    for _ in range(num_clips):
        if wrapped:
            out = wrapper[len(videos)]
            assert 'mix_results' not in out
        else:
            idx = tr.get_indexes(ds)
            results = copy.deepcopy(target)
            results['mix_results'] = [ds[i] for i in idx]
            out = tr(results)
        if tr.last_source_index is not None:
            draws.append(tr.last_source_index)
            offered += np.where(minor, n_cv[tr.last_source_index], 0)
        for new_id, (vid, iid) in out['paste_sources'][0].items():
            pasted[videos[vid - 1][iid % 100]] += 1
            new_ids.append(new_id)
        assert len(out['gt_instances_ids'][0]) == len(out['paste_sources'][0])
    assert ds.info_calls == len(videos) + 1  # the index is built once
    # a clip is pasted onto with `prob`, from a uniform source video
    # (`reuse` consecutive clips share one)
    n = len(draws)
    assert abs(n - prob * num_clips) <= 4 * np.sqrt(num_clips * prob *
                                                    (1 - prob)) + 1e-9
    assert set(draws) <= set(sources)
    windows = np.array(draws[:n - n % reuse]).reshape(-1, reuse)
    assert (windows == windows[:, :1]).all()
    freq = np.bincount(windows[:, 0], minlength=len(videos))[sources]
    m = len(windows)
    assert (np.abs(freq - m / len(sources))
            <= 4 * np.sqrt(m / len(sources))).all()
    # each offered track of class c is pasted with p^s_c (binomial, 4 sd)
    exp, sd = ps * offered, np.sqrt(ps * (1 - ps) * offered)
    assert (np.abs(pasted - exp) <= 4 * sd + 1e-9).all(), (pasted, exp)
    assert abs(pasted.sum() - exp.sum()) <= 4 * np.sqrt((sd**2).sum())
    assert pasted[0] == 0 and pasted[~minor].sum() == 0
    assert offered[7] > 30
    assert abs(pasted[7] / offered[7] - k) <= 4 * sd[7] / offered[7]
    # the per-class paste shares follow from Eq. 6 and the sources
    exp_share = ps * n_cv[sources].mean(0) * minor
    exp_share /= exp_share.sum()
    assert np.abs(pasted / pasted.sum() - exp_share).max() < 0.06
    # pasted ids are past the largest id of the dataset
    max_id = max(100 * i + len(v) - 1 for i, v in enumerate(videos))
    assert min(new_ids) == max_id + 1


def test_reuse_source_loads_once_per_window():
    ds = FakeVideoDataset([[0, 1], [2], [1, 1, 3]], num_classes=4)
    tr = ClipPaste(reuse_source=3)
    np.random.seed(1)
    loads, sources = [], []
    for _ in range(6):
        idx = tr.get_indexes(ds)
        results = make_clip(0, [], hw=(4, 40))
        results['mix_results'] = [ds[i] for i in idx]
        loads.append(len(idx))
        out = tr(results)
        src = out['paste_sources'][0]
        assert len(src) == len(ds.videos[next(iter(src.values()))[0] - 1])
        sources.append({vid for vid, _ in src.values()})
    assert loads == [1, 0, 0, 1, 0, 0]
    assert sources[0] == sources[1] == sources[2]
    assert sources[3] == sources[4] == sources[5]


def test_pickle_drops_the_cache():
    import pickle
    ds = FakeVideoDataset([[0, 1], [2]], num_classes=3)
    tr = ClipPaste()
    tr.get_indexes(ds)
    clone = pickle.loads(pickle.dumps(tr))
    assert len(clone._indexes) == 0 and clone._source is None
    assert clone.get_indexes(ds) in ([0], [1])
    assert ds.info_calls == 4  # rebuilt once by the clone


def test_get_indexes_skips_loading_when_nothing_is_drawn():
    ds = FakeVideoDataset([[0, 0], [0, 1], [1]], num_classes=2)
    # shares 3/5, 2/5: no class below 10 % -> no source clip at all
    tr = MinorPaste()
    assert all(tr.get_indexes(ds) == [] for _ in range(5))
    tr = ClipPaste(prob=0.0)
    assert all(tr.get_indexes(ds) == [] for _ in range(5))
    tr = ClipPaste()
    assert all(len(tr.get_indexes(ds)) == 1 for _ in range(5))


# ---------------------------------------------------------------------------
# a real video pipeline: VISDataset + ClipMixDataset (or mmdet's
# MultiImageMixDataset) + PackTrackInputs


def write_tiny_ytvis(root,
                     num_videos=4,
                     num_frames=3,
                     hw=(32, 40),
                     empty_videos=0):
    """PNG frames and a YouTube-VIS JSON; video 1 holds a rare 'crescent'.

    Videos ``num_videos + 1 ..`` (``empty_videos`` of them) have no
    annotation.
    """
    import pycocotools.mask as mask_utils

    from mmookd.datasets.metainfo import SYNTHVIS_CLASSES
    h, w = hw
    videos, anns = [], []
    rng = np.random.RandomState(0)
    for v in range(1, num_videos + empty_videos + 1):
        names = []
        for t in range(num_frames):
            name = f'vid{v}/{t:05d}.png'
            (root / 'JPEGImages' / f'vid{v}').mkdir(
                parents=True, exist_ok=True)
            cv2.imwrite(
                str(root / 'JPEGImages' / name),
                rng.randint(0, 256, (h, w, 3)).astype(np.uint8))
            names.append(name)
        videos.append(
            dict(id=v, width=w, height=h, length=num_frames, file_names=names))
        if v > num_videos:
            continue
        labels = [1] * 6 if v > 1 else [8, 1]  # 'disc' and one 'crescent'
        for j, cat in enumerate(labels):
            segs, boxes, areas = [], [], []
            for t in range(num_frames):
                m = np.zeros(hw, dtype=np.uint8, order='F')
                x0 = 6 * j + t
                m[4 + j:14 + j, x0:x0 + 5] = 1
                rle = mask_utils.encode(m)
                rle['counts'] = rle['counts'].decode()
                segs.append(rle)
                boxes.append([x0, 4 + j, 5, 10])
                areas.append(50)
            anns.append(
                dict(
                    id=len(anns) + 1,
                    video_id=v,
                    category_id=cat,
                    iscrowd=0,
                    segmentations=segs,
                    bboxes=boxes,
                    areas=areas,
                    height=h,
                    width=w,
                    length=num_frames))
    cats = [
        dict(id=i + 1, name=n, supercategory='shape')
        for i, n in enumerate(SYNTHVIS_CLASSES)
    ]
    path = root / 'train.json'
    path.write_text(
        json.dumps(dict(videos=videos, annotations=anns, categories=cats)))
    return path


def build_mixed(root,
                wrapper='ClipMixDataset',
                num_ref_imgs=1,
                paste=None,
                augment=False,
                empty_videos=0):
    """A paste wrapper over a VISDataset of a tiny YouTube-VIS set."""
    from mmdet.registry import DATASETS
    from mmdet.utils import register_all_modules
    from mmengine.registry import DefaultScope

    import mmookd.datasets.dataset_wrappers  # noqa: F401
    import mmookd.datasets.vis_dataset  # noqa: F401
    register_all_modules(init_default_scope=False)
    ann = write_tiny_ytvis(root, empty_videos=empty_videos)
    per_frame = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadTrackAnnotations', with_mask=True),
    ]
    if augment:
        per_frame += [
            dict(
                type='RandomChoiceResize',
                scales=[(64, 24), (64, 32), (64, 40)],
                keep_ratio=True),
            dict(type='RandomFlip', prob=0.5),
        ]
    inner = dict(
        type='VISDataset',
        ann_file=str(ann),
        dataset_version='synthvis',
        data_prefix=dict(img_path=str(root / 'JPEGImages')),
        # keep the frames without instances of the empty videos
        filter_cfg=dict(filter_empty_gt=not empty_videos),
        pipeline=[
            dict(
                type='UniformRefFrameSample',
                num_ref_imgs=num_ref_imgs,
                frame_range=2,
                filter_key_img=True),
            dict(
                type='TransformBroadcaster',
                share_random_params=True,
                transforms=per_frame),
        ])
    with DefaultScope.overwrite_default_scope('mmdet'):
        return DATASETS.build(
            dict(
                type=wrapper,
                dataset=inner,
                pipeline=[
                    paste or dict(type='MinorPaste', k=1.0),
                    dict(
                        type='PackTrackInputs', meta_keys=('paste_sources', )),
                ]))


def seed_all(seed):
    import random
    random.seed(seed)
    np.random.seed(seed)


@pytest.mark.parametrize('wrapper,num_ref_imgs', [('ClipMixDataset', 1),
                                                  ('ClipMixDataset', 2),
                                                  ('MultiImageMixDataset', 1)])
def test_in_a_mixing_wrapper(tmp_path, wrapper, num_ref_imgs):
    ds = build_mixed(tmp_path, wrapper, num_ref_imgs)
    paste = ds.pipeline[0]
    assert paste.reuse_source == 8  # the default
    seed_all(0)
    for i in (1, 2, 3):
        data = ds[i]
        samples = data['data_samples'].video_data_samples
        assert data['inputs'].shape == (num_ref_imgs + 1, 3, 32, 40)
        src = samples[0].metainfo['paste_sources']
        # the rare 'crescent' track of video 1 (annotation id 1) pasted
        assert list(src.values()) == [(1, 1)]
        new_id = list(src)[0]
        assert new_id == 21  # past the largest annotation id (20)
        # the source clip (kept by reuse_source, read-only)
        kept = paste._source['clip']
        assert kept['video_id'][0] == 1
        assert not kept['img'][0].flags.writeable
        fmap = frame_mapping(len(samples), len(kept['img']))
        for t, s in enumerate(samples):
            assert s.metainfo['paste_sources'] == src
            ids = s.gt_instances.instances_ids.tolist()
            assert ids.count(new_id) == 1
            row = ids.index(new_id)
            assert s.gt_instances.labels[row].item() == 7
            masks = s.gt_instances.masks.masks
            assert masks.astype(int).sum(0).max() <= 1
            np.testing.assert_array_equal(s.gt_instances.bboxes.numpy(),
                                          tight_boxes(masks))
            # the pasted pixels are the source's, under the source's mask
            src_ids = kept['gt_instances_ids'][fmap[t]].tolist()
            src_mask = kept['gt_masks'][fmap[t]].masks[src_ids.index(1)]
            np.testing.assert_array_equal(masks[row], src_mask)
            img = data['inputs'][t].permute(1, 2, 0).numpy()
            on = src_mask.astype(bool)
            np.testing.assert_array_equal(img[on], kept['img'][fmap[t]][on])
    # the target of video 1 itself is never pasted onto from itself
    data = ds[0]
    assert data['data_samples'].video_data_samples[0].metainfo[
        'paste_sources'] == {}


def test_empty_target_video_in_clip_mix_dataset(tmp_path):
    ds = build_mixed(tmp_path, empty_videos=1)
    assert len(ds) == 5
    seed_all(0)
    data = ds[4]  # video 5: no annotation
    for s in data['data_samples'].video_data_samples:
        assert s.gt_instances.instances_ids.tolist() == [21]
        assert s.gt_instances.labels.tolist() == [7]
        assert s.metainfo['paste_sources'] == {21: (1, 1)}


def test_same_seed_same_output_in_clip_mix_dataset(tmp_path):
    paste = dict(
        type='MinorPaste',
        k=1.0,
        scale_range=(0.5, 1.5),
        random_offset=True,
        reuse_source=2)

    def run(root, seed):
        ds = build_mixed(root, paste=paste, augment=True)
        seed_all(seed)
        return [ds[i % 4] for i in range(1, 7)]

    a = run(tmp_path / 'a', 3)
    b = run(tmp_path / 'b', 3)
    c = run(tmp_path / 'c', 4)
    differ = False
    for x, y, z in zip(a, b, c):
        assert x['inputs'].shape == y['inputs'].shape
        assert (x['inputs'] == y['inputs']).all()
        for sx, sy in zip(x['data_samples'], y['data_samples']):
            assert sx.metainfo['paste_sources'] == sy.metainfo['paste_sources']
            np.testing.assert_array_equal(sx.gt_instances.bboxes.numpy(),
                                          sy.gt_instances.bboxes.numpy())
            np.testing.assert_array_equal(sx.gt_instances.masks.masks,
                                          sy.gt_instances.masks.masks)
        differ |= (
            x['inputs'].shape != z['inputs'].shape
            or not (x['inputs'] == z['inputs']).all())
    assert differ  # another seed gives other clips
    assert sum(
        len(s.metainfo['paste_sources']) for x in a
        for s in x['data_samples']) >= 4
