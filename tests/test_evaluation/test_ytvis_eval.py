# Copyright (c) mmookd authors. All rights reserved.
"""Tests of the YouTube-VIS evaluation core against hand values and the
official protocol (mmdet's copy of the official ytvoseval, np.float patched
here only)."""
import contextlib
import copy
import io

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from mmookd.evaluation.functional import (SUMMARY_ITEMS, YTVISEvaluator,
                                          encode_masks, frame_areas,
                                          match_tracks, mean_area, summarize,
                                          to_rle, video_iou)


def box_mask(h, w, y0, x0, y1, x1):
    """A ``(h, w)`` uint8 mask with ones in ``[y0:y1, x0:x1]``."""
    m = np.zeros((h, w), np.uint8)
    m[y0:y1, x0:x1] = 1
    return m


def rle(m):
    return encode_masks(m[None])[0]


def run_eval(gts, dts, cat_ids, video_ids=None):
    if video_ids is None:
        video_ids = sorted({t['video_id'] for t in gts + dts})
    ev = YTVISEvaluator(
        copy.deepcopy(gts), copy.deepcopy(dts), cat_ids, video_ids)
    ev.evaluate()
    acc = ev.accumulate()
    return summarize(acc['precision'], acc['recall']), acc


# ----------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------
def test_to_rle_forms_agree():
    m = box_mask(6, 7, 1, 2, 4, 6)
    compressed = rle(m)
    assert isinstance(compressed['counts'], str)
    assert compressed['size'] == [6, 7]
    # bytes counts, uncompressed RLE, polygon and dense all give the same
    as_bytes = dict(size=[6, 7], counts=compressed['counts'].encode())
    assert to_rle(as_bytes) == compressed
    fortran = np.asfortranarray(m)
    flat = fortran.flatten(order='F')
    changes = np.flatnonzero(np.diff(np.concatenate([[0], flat]))) \
        .tolist() + [flat.size]
    counts = np.diff([0] + changes).tolist()
    assert to_rle(dict(size=[6, 7], counts=counts)) == compressed
    assert to_rle(m) == compressed
    assert to_rle(None) is None
    poly = to_rle([[2.0, 1.0, 6.0, 1.0, 6.0, 4.0, 2.0, 4.0]], 6, 7)
    assert mask_utils.area(poly) > 0
    with pytest.raises(ValueError, match='frame size'):
        to_rle([[0, 0, 1, 0, 1, 1]])


def test_frame_and_mean_area():
    segs = [
        rle(box_mask(8, 8, 0, 0, 2, 2)), None,
        rle(box_mask(8, 8, 0, 0, 4, 4)),
        rle(np.zeros((8, 8), np.uint8))
    ]
    areas = frame_areas(segs)
    np.testing.assert_array_equal(areas, [4, 0, 16, 0])
    # absent and empty frames do not count in the mean
    assert mean_area(areas) == 10.0
    # a given 'areas' field wins where it is not None
    np.testing.assert_array_equal(
        frame_areas(segs, [5, None, None, None]), [5, 0, 16, 0])
    assert mean_area(np.zeros(3)) == 0.0


# ----------------------------------------------------------------------
# video IoU
# ----------------------------------------------------------------------
def test_video_iou_half_frames_by_hand():
    h = w = 10
    gt = [rle(box_mask(h, w, 0, 0, 4, 4)) for _ in range(4)]
    # correct in frames 0, 1; disjoint in frame 2; absent in frame 3
    pred = [gt[0], gt[1], rle(box_mask(h, w, 5, 5, 9, 9)), None]
    # I = 16 + 16 = 32; U = 16 + 16 + (16 + 16) + 16 = 80
    iou = video_iou([pred], [gt])
    assert iou.shape == (1, 1)
    assert iou[0, 0] == pytest.approx(32 / 80, abs=1e-12)
    # a frame where both are absent adds nothing
    iou2 = video_iou([pred + [None]], [gt + [None]])
    assert iou2[0, 0] == pytest.approx(0.4, abs=1e-12)
    # a frame where only the GT is present adds its area to the union
    iou3 = video_iou([pred + [None]], [gt + [rle(box_mask(h, w, 0, 0, 2, 2))]])
    assert iou3[0, 0] == pytest.approx(32 / 84, abs=1e-12)
    # partial overlap: 2x4 of a 4x4 in every frame -> I/U = 8/16 per frame
    half = [rle(box_mask(h, w, 0, 0, 4, 2)) for _ in range(4)]
    assert video_iou([half], [gt])[0, 0] == pytest.approx(0.5, abs=1e-12)
    # nothing anywhere -> 0, and empty inputs -> (D, 0)
    assert video_iou([[None, None]], [[None, None]])[0, 0] == 0
    assert video_iou([pred], []).shape == (1, 0)


def test_video_iou_intersections_are_exact():
    rng = np.random.default_rng(3)
    h, w, frames = 37, 53, 5
    dts, gts = [], []
    for tracks in (dts, gts):
        for _ in range(3):
            tracks.append([
                rle((rng.random((h, w)) < 0.4).astype(np.uint8))
                if rng.random() < 0.8 else None for _ in range(frames)
            ])
    iou = video_iou(dts, gts)
    for i, d in enumerate(dts):
        for j, g in enumerate(gts):
            inter = union = 0
            for a, b in zip(d, g):
                if a is not None and b is not None:
                    inter += mask_utils.area(mask_utils.merge([a, b], True))
                    union += mask_utils.area(mask_utils.merge([a, b], False))
                elif a is not None:
                    union += mask_utils.area(a)
                elif b is not None:
                    union += mask_utils.area(b)
            expected = inter / union if union else 0
            assert iou[i, j] == pytest.approx(expected, abs=1e-12)


def test_video_iou_size_mismatch_names_video_and_frame():
    a = [rle(box_mask(4, 4, 0, 0, 2, 2))]
    b = [rle(box_mask(5, 5, 0, 0, 2, 2))]
    with pytest.raises(ValueError, match='video 7, frame 0'):
        video_iou([a], [b], video_id=7)


def test_video_iou_long_video_is_fast():
    import time
    frames, h, w = 1000, 90, 160
    gt = [
        rle(box_mask(h, w, 10, 10 + t % 50, 40, 60 + t % 50))
        for t in range(frames)
    ]
    dt = [
        rle(box_mask(h, w, 12, 10 + t % 50, 40, 62 + t % 50)) if t %
        7 else None for t in range(frames)
    ]
    start = time.perf_counter()
    iou = video_iou([dt, gt], [gt])
    assert time.perf_counter() - start < 5.0
    assert iou[1, 0] == pytest.approx(1.0)
    assert 0.5 < iou[0, 0] < 1.0


# ----------------------------------------------------------------------
# matching and accumulation by hand
# ----------------------------------------------------------------------
def test_match_tracks_greedy_and_crowd():
    ious = np.array([[0.9, 0.8], [0.85, 0.1], [0.6, 0.0]])
    thrs = np.array([0.5])
    matched, ignored, gt_matched = match_tracks(ious, np.array([False, False]),
                                                np.array([False, False]), thrs)
    # dt0 takes gt0; dt1 finds gt0 taken and gt1 below 0.5; dt2 likewise
    np.testing.assert_array_equal(matched[0], [True, False, False])
    np.testing.assert_array_equal(gt_matched[0], [True, False])
    assert not ignored.any()
    # a crowd (ignored) GT takes any number of predictions
    matched, ignored, _ = match_tracks(
        np.array([[0.7], [0.6]]), np.array([True]), np.array([True]), thrs)
    np.testing.assert_array_equal(matched[0], [True, True])
    np.testing.assert_array_equal(ignored[0], [True, True])


def test_perfect_and_hand_ap():
    h = w = 16
    gt_segs = [rle(box_mask(h, w, 0, 0, 8, 8)) for _ in range(3)]
    gts = [dict(video_id=1, category_id=1, segmentations=gt_segs)]
    perfect = [
        dict(video_id=1, category_id=1, score=0.9, segmentations=gt_segs)
    ]
    stats, _ = run_eval(gts, perfect, [1, 2])
    # (precision is tp / (tp + fp + eps), as in the official code)
    assert stats['mAP'] == pytest.approx(1.0)
    assert stats['AR@1'] == 1.0
    # a higher-scored false positive in front of the true positive
    fp = dict(
        video_id=1,
        category_id=1,
        score=0.95,
        segmentations=[rle(box_mask(h, w, 9, 9, 16, 16))] * 3)
    stats, acc = run_eval(gts, perfect + [fp], [1, 2])
    # precision 1/2 at recall 1 for every threshold -> AP 0.5
    assert stats['mAP'] == pytest.approx(0.5)
    assert stats['AR@1'] == 0.0 and stats['AR@10'] == 1.0
    # category 2 has no GT: -1 everywhere, not counted
    assert (acc['precision'][:, :, 1] == -1).all()


def test_area_ranges_use_mean_mask_area_of_present_frames():
    """GT areas around 128^2 and 256^2; absent frames must not count."""
    h = w = 300

    def sq(side):
        return rle(box_mask(h, w, 0, 0, side, side))

    # A: (130^2 + 127^2) / 2 = 16514.5 > 128^2 -> medium (small if the
    # absent frame counted as 0)
    seg_a = [sq(130), None, sq(127)]
    # B: (256^2 + 257^2) / 2 = 65792.5 > 256^2 -> large (medium if the
    # absent frame counted)
    seg_b = [None, sq(256), sq(257)]
    seg_c = [sq(50)] * 3  # small, never predicted
    gts = [
        dict(video_id=1, category_id=1, segmentations=seg_a),
        dict(video_id=2, category_id=2, segmentations=seg_b),
        dict(video_id=3, category_id=3, segmentations=seg_c),
    ]
    small_fp = dict(
        video_id=1,
        category_id=1,
        score=0.99,
        segmentations=[rle(box_mask(h, w, 200, 200, 220, 220))] * 3)
    dts = [
        dict(video_id=1, category_id=1, score=0.9, segmentations=seg_a),
        dict(video_id=2, category_id=2, score=0.9, segmentations=seg_b),
        small_fp,
    ]
    stats, _ = run_eval(gts, dts, [1, 2, 3])
    assert stats['mAP_s'] == 0.0  # only C is small, missed
    # the small FP is outside 'medium': ignored there, AP_m stays 1
    assert stats['mAP_m'] == pytest.approx(1.0)
    assert stats['mAP_l'] == pytest.approx(1.0)
    # over 'all' the FP costs class 1 half its AP: (0.5 + 1 + 0) / 3
    assert stats['mAP'] == pytest.approx(0.5)
    assert stats['AR_s@100'] == 0.0 and stats['AR_l@100'] == 1.0


def test_accumulate_subset_equals_separate_evaluation():
    gts, dts = random_dataset(seed=5)[1:]
    ids = sorted({a['video_id'] for a in gts})
    part = ids[:len(ids) // 2]
    ev = YTVISEvaluator(copy.deepcopy(gts), copy.deepcopy(dts), [1, 2, 3], ids)
    ev.evaluate()
    acc = ev.accumulate(part)
    alone, acc_alone = run_eval([g for g in gts if g['video_id'] in part],
                                [d for d in dts if d['video_id'] in part],
                                [1, 2, 3], part)
    np.testing.assert_array_equal(acc['precision'], acc_alone['precision'])
    assert summarize(acc['precision'], acc['recall']) == alone


# ----------------------------------------------------------------------
# the official protocol (mmdet's copy of youtubevos/cocoapi)
# ----------------------------------------------------------------------
def random_rect(h, w, rng):
    side_y, side_x = rng.integers(40, h, 2)
    y, x = rng.integers(0, h - side_y + 1), rng.integers(0, w - side_x + 1)
    return box_mask(h, w, y, x, y + side_y, x + side_x)


def random_dataset(seed, crowd=False, num_videos=10):
    """Random videos (320x320, 3..6 frames, 3 classes) with GT tracks that
    are absent in some frames and several noisy, mislabeled and false
    predictions per video."""
    rng = np.random.default_rng(seed)
    h = w = 320
    videos, anns, preds = [], [], []
    ann_id = 1
    for vid in range(1, num_videos + 1):
        frames = int(rng.integers(3, 7))
        videos.append(dict(id=vid, height=h, width=w, length=frames))
        for _ in range(int(rng.integers(0, 4))):
            cat = int(rng.integers(1, 4))
            segs = [rle(random_rect(h, w, rng))]
            segs += [
                None if rng.random() < 0.25 else rle(random_rect(h, w, rng))
                for _ in range(frames - 1)
            ]
            anns.append(
                dict(
                    id=ann_id,
                    video_id=vid,
                    category_id=cat,
                    iscrowd=int(crowd and rng.random() < 0.25),
                    segmentations=segs,
                    areas=[
                        float(mask_utils.area(s)) if s else None for s in segs
                    ],
                    bboxes=[None] * frames))
            ann_id += 1
            for _ in range(int(rng.integers(0, 3))):  # noisy copies
                shift = rng.integers(-6, 7, 2)
                pred = []
                for s in segs:
                    if rng.random() < 0.15:
                        pred.append(None)
                    elif s is None:
                        pred.append(None if rng.random() <
                                    0.7 else rle(random_rect(h, w, rng)))
                    else:
                        m = np.roll(mask_utils.decode(s), tuple(shift), (0, 1))
                        pred.append(rle(m))
                label = cat if rng.random() < 0.8 else int(rng.integers(1, 4))
                preds.append(
                    dict(
                        video_id=vid,
                        score=float(rng.random()),
                        category_id=label,
                        segmentations=pred))
        for _ in range(int(rng.integers(0, 3))):  # false positives
            preds.append(
                dict(
                    video_id=vid,
                    score=float(rng.random()),
                    category_id=int(rng.integers(1, 4)),
                    segmentations=[
                        rle(random_rect(h, w, rng))
                        if rng.random() < 0.8 else None for _ in range(frames)
                    ]))
    cats = [dict(id=i, name=f'class{i}') for i in (1, 2, 3)]
    gt = dict(videos=videos, annotations=anns, categories=cats)
    return gt, anns, preds


def official_stats(gt, preds, monkeypatch):
    """Run mmdet's copy of the official evaluation (np.float patched)."""
    import mmdet.evaluation.functional.ytviseval as ytviseval_module
    from mmdet.evaluation.functional.ytvis import YTVIS

    class NumpyWithFloat:
        float = float

        def __getattr__(self, name):
            return getattr(np, name)

    monkeypatch.setattr(ytviseval_module, 'np', NumpyWithFloat())
    with contextlib.redirect_stdout(io.StringIO()):
        ytvis = YTVIS(copy.deepcopy(gt))
        dets = ytvis.loadRes(copy.deepcopy(preds))
        ev = ytviseval_module.YTVISeval(ytvis, dets, 'segm')
        ev.params.vidIds = ytvis.getVidIds()
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev


@pytest.mark.parametrize('seed,crowd', [(4, False), (1, False), (1, True)])
def test_equals_official_protocol(seed, crowd, monkeypatch):
    gt, anns, preds = random_dataset(seed, crowd=crowd)
    assert len(preds) > len({p['video_id'] for p in preds})  # several/video
    assert any(s is None for a in anns for s in a['segmentations'])
    mine, acc = run_eval(anns, preds, [1, 2, 3],
                         [v['id'] for v in gt['videos']])
    official = official_stats(gt, preds, monkeypatch)
    assert 0.05 < mine['mAP'] < 0.95  # a non-trivial case
    if seed == 4:  # small, medium and large GT all present
        assert min(mine['mAP_s'], mine['mAP_m'], mine['mAP_l']) > 0
    if crowd:
        assert any(a['iscrowd'] for a in anns)
    for i, name in enumerate(SUMMARY_ITEMS):
        assert mine[name] == pytest.approx(official.stats[i], abs=1e-6), \
            name
    np.testing.assert_allclose(
        acc['precision'], official.eval['precision'], atol=1e-12)
    np.testing.assert_allclose(
        acc['recall'], official.eval['recall'], atol=1e-12)
