# Copyright (c) mmookd authors. All rights reserved.
"""Association metrics (HOTA, AssA, IDF1, IDSW) of VISMetric via TrackEval."""
import json
import os.path as osp

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from mmookd.evaluation.functional.track_eval import TrackEvaluator
from mmookd.evaluation.functional.ytvis_eval import encode_masks
from mmookd.evaluation.vis_metric import VISMetric

trackeval = pytest.importorskip('trackeval')

H, W = 20, 30
ITEMS = ('HOTA', 'DetA', 'AssA', 'LocA', 'IDF1', 'IDSW')


def box(y0, x0, y1, x1):
    m = np.zeros((H, W), bool)
    m[y0:y1, x0:x1] = True
    return m


def rle(mask):
    return None if mask is None else encode_masks(mask[None])[0]


def moving(row, length, start=0, dx=2, size=5):
    """Masks of a box moving right along ``row``."""
    return [box(row, start + dx * t, row + size, start + dx * t + size)
            for t in range(length)]


def gt_track(vid, ann_id, cat, masks):
    return dict(id=ann_id, video_id=vid, category_id=cat, iscrowd=0,
                segmentations=[rle(m) for m in masks])


def dt_track(vid, cat, score, masks):
    return dict(video_id=vid, category_id=cat, score=score,
                segmentations=[rle(m) for m in masks])


def summary(gts, dts, cat_ids, video_ids, **kwargs):
    ev = TrackEvaluator(gts, dts, cat_ids, video_ids, **kwargs)
    ev.evaluate()
    return ev.summarize()


def two_crossing_tracks(length=6):
    """Two GT objects of class 1 in one video, on two rows."""
    return moving(2, length), moving(11, length, start=20, dx=-2)


def test_perfect_predictions_give_one():
    a, b = two_crossing_tracks()
    gts = [gt_track(1, 1, 1, a), gt_track(1, 2, 1, b)]
    dts = [dt_track(1, 1, 0.9, a), dt_track(1, 1, 0.8, b)]
    values = summary(gts, dts, [1], [1])
    for key in ('HOTA', 'DetA', 'AssA', 'LocA', 'IDF1'):
        assert values[key] == pytest.approx(1.0)
    assert values['IDSW'] == 0
    # GT without annotation ids (ranked by their order instead)
    no_ids = [dict(g, id=None) for g in gts]
    assert summary(no_ids, dts, [1], [1])['HOTA'] == pytest.approx(1.0)


def test_swapped_ids_lower_assa_and_idf1_not_deta():
    length = 6
    a, b = two_crossing_tracks(length)
    gts = [gt_track(1, 1, 1, a), gt_track(1, 2, 1, b)]
    half = length // 2
    swap_1 = a[:half] + b[half:]
    swap_2 = b[:half] + a[half:]
    right = summary(gts, [dt_track(1, 1, .9, a), dt_track(1, 1, .8, b)],
                    [1], [1])
    swapped = summary(
        gts, [dt_track(1, 1, .9, swap_1), dt_track(1, 1, .8, swap_2)], [1],
        [1])
    # every detection is still found: DetA and LocA do not move
    assert swapped['DetA'] == pytest.approx(right['DetA']) == 1.0
    assert swapped['LocA'] == pytest.approx(1.0)
    # each GT is covered half by each prediction: Jaccard 3 / (6 + 6 - 3)
    assert swapped['AssA'] == pytest.approx(1 / 3)
    assert swapped['HOTA'] == pytest.approx(np.sqrt(1 / 3))
    assert swapped['IDF1'] == pytest.approx(0.5)
    assert swapped['IDSW'] == 2
    assert swapped['AssA'] < right['AssA'] and swapped['IDF1'] < right[
        'IDF1']


def test_score_threshold_and_empty_classes():
    a, b = two_crossing_tracks()
    gts = [gt_track(1, 1, 1, a)]
    dts = [dt_track(1, 1, 0.9, a), dt_track(1, 1, 0.1, b)]
    all_preds = summary(gts, dts, [1], [1])
    kept = summary(gts, dts, [1], [1], score_thr=0.5)
    # the low-scoring extra track is 6 false positives: DetA = 6 / 12
    assert all_preds['DetA'] == pytest.approx(0.5)
    assert kept['DetA'] == pytest.approx(1.0)
    # a category with neither GT nor prediction does not count
    assert summary(gts, dts, [1, 2, 3], [1])['HOTA'] == pytest.approx(
        all_preds['HOTA'])
    # ... one with only a false positive does
    fp_other = dts[:1] + [dt_track(1, 2, 0.5, b)]
    values = summary(gts, fp_other, [1, 2], [1])
    assert values['HOTA'] == pytest.approx(0.5)
    assert values['IDF1'] == pytest.approx(0.5)
    # nothing at all: undefined
    assert summary([], [], [1], [1])['HOTA'] == -1


def _hand_built_case():
    """Two videos, two classes, noisy and overlapping predictions."""
    rng = np.random.default_rng(3)
    length = 7
    videos = {}
    gts, dts = [], []
    ann_id = 10
    for vid in (1, 2):
        gt_masks = []
        for row, cat in ((1, 1), (8, 2), (13, 1)):
            masks = moving(row, length, start=rng.integers(0, 6))
            # absent frames
            for t in rng.choice(length, 2, replace=False):
                if rng.random() < 0.5:
                    masks[t] = None
            gt_masks.append((cat, masks))
            gts.append(gt_track(vid, ann_id, cat, masks))
            ann_id += 7
        videos[vid] = length
        for k, (cat, masks) in enumerate(gt_masks):
            # a shifted copy, split in two ids half-way for one track
            shifted = [
                None if m is None else np.roll(m, rng.integers(-1, 2), 1)
                for m in masks
            ]
            if k == 0:
                first = shifted[:3] + [None] * (length - 3)
                second = [None] * 3 + shifted[3:]
                dts.append(dt_track(vid, cat, 0.7, first))
                dts.append(dt_track(vid, cat, 0.6, second))
            else:
                dts.append(dt_track(vid, cat, 0.9 - 0.1 * k, shifted))
        # an overlapping duplicate and a wrong-class track
        cat, masks = gt_masks[1]
        dts.append(
            dt_track(vid, cat, 0.3,
                     [None if m is None else m | np.roll(m, 2, 0)
                      for m in masks]))
        dts.append(dt_track(vid, 2, 0.2, gt_masks[2][1]))
    return gts, dts, videos


def _uncompressed(rle_dict):
    """GT RLE with list counts (TrackEval's reader wants these)."""
    if rle_dict is None:
        return None
    mask = mask_utils.decode(rle_dict)
    flat = mask.flatten(order='F')
    counts, value, run = [], 0, 0
    for pixel in flat:
        if pixel == value:
            run += 1
        else:
            counts.append(run)
            value, run = pixel, 1
    counts.append(run)
    return dict(size=[H, W], counts=[int(c) for c in counts])


def _run_trackeval(tmp_path, gts, dts, videos):
    """TrackEval's own YouTubeVIS dataset class on files written here."""
    split = 'val'
    gt_dir = tmp_path / 'gt' / f'youtube_vis_{split}'
    tr_dir = tmp_path / 'trackers' / f'youtube_vis_{split}' / 'ours' / 'data'
    gt_dir.mkdir(parents=True)
    tr_dir.mkdir(parents=True)
    gt_json = dict(
        videos=[
            dict(id=v, height=H, width=W,
                 file_names=[f'video{v}/{t:05d}.jpg' for t in range(n)])
            for v, n in videos.items()
        ],
        categories=[dict(id=1, name='a'), dict(id=2, name='b')],
        annotations=[
            dict(id=g['id'], video_id=g['video_id'],
                 category_id=g['category_id'], iscrowd=0, height=H,
                 width=W,
                 segmentations=[_uncompressed(s)
                                for s in g['segmentations']],
                 areas=[None if s is None else float(mask_utils.area(s))
                        for s in g['segmentations']])
            for g in gts
        ])
    (gt_dir / 'gt.json').write_text(json.dumps(gt_json))
    (tr_dir / 'results.json').write_text(json.dumps(dts))
    dataset = trackeval.datasets.YouTubeVIS(
        dict(GT_FOLDER=str(tmp_path / 'gt') + osp.sep,
             TRACKERS_FOLDER=str(tmp_path / 'trackers') + osp.sep,
             SPLIT_TO_EVAL=split, PRINT_CONFIG=False))
    evaluator = trackeval.Evaluator(
        dict(PRINT_RESULTS=False, PRINT_CONFIG=False, TIME_PROGRESS=False,
             OUTPUT_SUMMARY=False, OUTPUT_DETAILED=False, PLOT_CURVES=False,
             LOG_ON_ERROR=None, USE_PARALLEL=False))
    metrics = [
        trackeval.metrics.HOTA(),
        trackeval.metrics.Identity(dict(PRINT_CONFIG=False)),
        trackeval.metrics.CLEAR(dict(PRINT_CONFIG=False))
    ]
    res, msg = evaluator.evaluate([dataset], metrics)
    assert msg['YouTubeVIS']['ours'] == 'Success'
    return res['YouTubeVIS']['ours']['COMBINED_SEQ']


def test_equals_trackeval_youtubevis_on_files(tmp_path):
    gts, dts, videos = _hand_built_case()
    ev = TrackEvaluator(gts, [dict(d) for d in dts], [1, 2], list(videos))
    ev.evaluate()
    ours = ev.summarize()
    theirs = _run_trackeval(tmp_path, gts, dts, videos)
    comb = theirs['cls_comb_cls_av']
    expected = dict(
        HOTA=np.mean(comb['HOTA']['HOTA']),
        DetA=np.mean(comb['HOTA']['DetA']),
        AssA=np.mean(comb['HOTA']['AssA']),
        LocA=np.mean(comb['HOTA']['LocA']),
        IDF1=comb['Identity']['IDF1'],
        IDSW=comb['CLEAR']['IDSW'])
    for key in ITEMS:
        assert ours[key] == pytest.approx(expected[key], abs=1e-12), key
    # a case that exercises the metric, not a trivial one
    assert 0.2 < ours['HOTA'] < 0.95 and ours['IDSW'] > 0
    per_class = ev.combine()['per_class']
    for cat, name in ((1, 'a'), (2, 'b')):
        np.testing.assert_allclose(per_class[cat]['HOTA']['HOTA'],
                                   theirs[name]['HOTA']['HOTA'], atol=1e-12)
        assert per_class[cat]['Identity']['IDF1'] == pytest.approx(
            theirs[name]['Identity']['IDF1'])


# ----------------------------------------------------------------------
# through VISMetric
# ----------------------------------------------------------------------
def frame_dict(vid, t, length, gts, preds):
    """A frame as mmengine's Evaluator passes it (``to_dict()`` form).

    ``gts``: ``(instance_id, label, masks)``; ``preds``: ``(id, score,
    label, masks)`` with a mask or None per frame.
    """
    instances = [
        dict(bbox_label=label, instance_id=iid, ignore_flag=0,
             mask=rle(masks[t])) for iid, label, masks in gts
        if masks[t] is not None
    ]
    present = [p for p in preds if p[3][t] is not None]
    pred = dict(
        instances_id=np.array([p[0] for p in present], dtype=np.int64),
        scores=np.array([p[1] for p in present], dtype=np.float32),
        labels=np.array([p[2] for p in present], dtype=np.int64),
        masks=np.stack([p[3][t] for p in present])
        if present else np.zeros((0, H, W), bool))
    return dict(video_id=vid, frame_id=t, ori_shape=(H, W),
                ori_video_length=length, instances=instances,
                pred_track_instances=pred)


def run_metric(videos, **kwargs):
    metric = VISMetric(round_digits=None, **kwargs)
    metric.dataset_meta = dict(classes=('a', 'b'))
    for vid, (length, gts, preds) in videos.items():
        for t in range(length):
            metric.process({}, [dict(video_data_samples=[
                frame_dict(vid, t, length, gts, preds)])])
    return metric.evaluate(1)


def test_vismetric_keys_and_subsets():
    length = 6
    a, b = two_crossing_tracks(length)
    half = length // 2
    videos = {
        # right ids
        1: (length, [(1, 0, a), (2, 0, b)], [(1, .9, 0, a), (2, .8, 0, b)]),
        # ids swapped half-way
        2: (length, [(1, 0, a), (2, 0, b)],
            [(1, .9, 0, a[:half] + b[half:]),
             (2, .8, 0, b[:half] + a[half:])]),
    }
    out = run_metric(
        videos, track_metrics=True, subsets=dict(short=[1], long=[2]))
    p = 'youtube_vis/'
    assert out[p + 'short_segm_AssA'] == pytest.approx(1.0)
    assert out[p + 'long_segm_AssA'] == pytest.approx(1 / 3)
    assert out[p + 'long_segm_IDF1'] == pytest.approx(0.5)
    assert out[p + 'long_segm_IDSW'] == 2
    assert out[p + 'long_segm_DetA'] == pytest.approx(1.0)
    # main keys: the mean of the subsets, as for AP
    assert out[p + 'segm_AssA'] == pytest.approx((1 + 1 / 3) / 2)
    # pooled over both videos: TrackEval's combination of the sequences
    ev = TrackEvaluator(
        [gt_track(v, i, 1, m) for v in (1, 2)
         for i, _, m in videos[v][1]],
        [dt_track(v, 1, s, m) for v in (1, 2)
         for _, s, _, m in videos[v][2]], [1, 2], [1, 2])
    ev.evaluate()
    pooled = ev.summarize()
    for key in ITEMS:
        assert out[p + f'all_segm_{key}'] == pytest.approx(pooled[key])
    # off by default
    plain = run_metric(videos)
    assert not any('HOTA' in k for k in plain)
