# Copyright (c) mmookd authors. All rights reserved.
"""Occlusion-level AP (OVIS bands) on hand-built cases."""
import numpy as np
import pytest

from mmookd.evaluation.functional.occlusion import (OcclusionEvaluator,
                                                    box_overlap_rates,
                                                    frame_bor, top_half_mean,
                                                    video_occlusion_scores)
from mmookd.evaluation.functional.ytvis_eval import encode_masks
from mmookd.evaluation.vis_metric import VISMetric

H, W = 40, 40


def box(y0, x0, y1, x1):
    m = np.zeros((H, W), bool)
    m[y0:y1, x0:x1] = True
    return m


def rle(mask):
    return None if mask is None else encode_masks(mask[None])[0]


def track(vid, masks, cat=1, score=None, ann_id=None, occlusion=None):
    out = dict(video_id=vid, category_id=cat,
               segmentations=[rle(m) for m in masks])
    if score is None:
        out.update(id=ann_id, iscrowd=0)
        if occlusion is not None:
            out['occlusion'] = occlusion
    else:
        out['score'] = score
    return out


def test_box_overlap_rates_and_frame_bor():
    boxes = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [30, 30, 40, 40],
                      [31, 31, 33, 33]], dtype=float)
    rates = box_overlap_rates(boxes)
    # half of each of the first two; the small box lies inside the third
    np.testing.assert_allclose(rates, [0.5, 0.5, 4 / 100, 1.0])
    # three boxes covering one spot count once in the union of overlaps
    three = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [0, 0, 10, 10]], float)
    np.testing.assert_allclose(box_overlap_rates(three), [1.0, 0.5, 1.0])
    # the paper's BOR: overlap area over union area
    assert frame_bor(boxes[:2]) == pytest.approx(50 / 150)
    assert frame_bor(boxes) == pytest.approx((50 + 4) / (150 + 100))
    assert frame_bor(boxes[:1]) == 0.0
    assert box_overlap_rates(boxes[:1]).tolist() == [0.0]


def test_top_half_mean():
    assert top_half_mean([0, 0.25, 0.75]) == pytest.approx(0.5)
    assert top_half_mean([0, 0, 0.25, 0.75]) == pytest.approx(0.5)
    assert top_half_mean([0.25]) == 0.25
    assert top_half_mean([]) == 0.0


def test_scores_from_boxes_and_from_ovis_levels():
    # A (frames 0-3) lies behind B in frames 2 and 3 only; C is alone
    a = [box(0, 0, 10, 10)] * 4
    b = [box(30, 30, 40, 40)] * 2 + [box(0, 0, 10, 20)] * 2
    c = [box(30, 0, 36, 6), None, None, None]
    scores = video_occlusion_scores(
        [track(1, a, ann_id=1),
         track(1, b, ann_id=2),
         track(1, c, ann_id=3)])
    # A: rates (0, 0, 1, 1) -> top half 1; B: (0, 0, .5, .5) -> .5;
    # C: its box never meets another: 0 (the absent frames do not count)
    np.testing.assert_allclose(scores, [1.0, 0.5, 0.0])
    levels = ['no_occlusion', None, 'severe_occlusion', 'slight_occlusion']
    ovis = video_occlusion_scores(
        [track(1, a, ann_id=1, occlusion=levels), track(1, b, ann_id=2)])
    # annotated levels win over boxes: top 2 of (0, .75, .25) -> 0.5
    np.testing.assert_allclose(ovis, [0.5, 0.5])
    with pytest.raises(ValueError, match='annotation 7, frame 0'):
        video_occlusion_scores(
            [track(1, a, ann_id=7, occlusion=['partly'] * 4)])


def occluded_case():
    """Video 1: B (light) in front of A (heavy); video 2: C, alone."""
    a = [box(2, 2, 12, 12)] * 3
    b = [box(0, 0, 20, 20)] * 3
    c = [box(5, 5, 15, 25)] * 3
    gts = [track(1, a, ann_id=1), track(1, b, ann_id=2),
           track(2, c, ann_id=3)]
    return a, b, c, gts


def test_band_ap_on_hand_built_case():
    a, b, c, gts = occluded_case()
    # B: 100 / 400 = .25 of its box behind A -> light and medium
    # (OVIS's bands are closed); A: inside B -> heavy; C: 0 -> light
    preds = [track(1, b, score=0.9), track(2, c, score=0.8)]
    ev = OcclusionEvaluator(gts, preds, [1], [1, 2])
    ev.evaluate()
    assert ev.band_counts() == dict(light=2, medium=1, heavy=1)
    ap = ev.summarize()
    assert ap['light'] == pytest.approx(1.0)
    assert ap['medium'] == pytest.approx(1.0)
    # the heavily occluded A is missed; the two found (ignored there)
    # predictions are neither TP nor FP: AP 0
    assert ap['heavy'] == pytest.approx(0.0)
    # finding A as well with a low score: heavy AP 1, light AP unchanged
    ev = OcclusionEvaluator(gts, preds + [track(1, a, score=0.1)], [1],
                            [1, 2])
    ev.evaluate()
    ap = ev.summarize()
    assert ap['heavy'] == pytest.approx(1.0)
    # ... in the light band A's track is matched to the ignored A:
    # not a false positive
    assert ap['light'] == pytest.approx(1.0)
    # an unmatched prediction is a false positive in every band
    wrong = track(2, [box(30, 30, 38, 38)] * 3, score=0.95)
    ev = OcclusionEvaluator(gts, preds + [track(1, a, score=0.1), wrong],
                            [1], [1, 2])
    ev.evaluate()
    ap = ev.summarize()
    assert ap['heavy'] < 1.0 and ap['light'] < 1.0
    # only video 2: no heavy GT -> -1
    assert ev.summarize([2])['heavy'] == -1


def test_vismetric_occlusion_keys():
    a, b, c, _ = occluded_case()
    metric = VISMetric(occlusion_levels=True, round_digits=None,
                       subsets=dict(short=[2], long=[1]))
    metric.dataset_meta = dict(classes=('thing', ))
    videos = {1: [(1, a), (2, b)], 2: [(3, c)]}
    preds = {1: [(5, 0.9, b)], 2: [(6, 0.8, c)]}
    for vid, tracks in videos.items():
        for t in range(3):
            frame = dict(
                video_id=vid, frame_id=t, ori_shape=(H, W),
                ori_video_length=3,
                instances=[
                    dict(bbox_label=0, instance_id=iid, ignore_flag=0,
                         mask=rle(m[t])) for iid, m in tracks
                ],
                pred_track_instances=dict(
                    instances_id=np.array([p[0] for p in preds[vid]]),
                    scores=np.array([p[1] for p in preds[vid]]),
                    labels=np.zeros(len(preds[vid]), dtype=np.int64),
                    masks=np.stack([p[2][t] for p in preds[vid]])))
            metric.process({}, [dict(video_data_samples=[frame])])
    out = metric.evaluate(1)
    p = 'youtube_vis/'
    assert out[p + 'all_segm_mAP_occ_light'] == pytest.approx(1.0)
    assert out[p + 'all_segm_mAP_occ_heavy'] == pytest.approx(0.0)
    assert out[p + 'long_segm_mAP_occ_heavy'] == pytest.approx(0.0)
    assert out[p + 'short_segm_mAP_occ_heavy'] == -1
    # main key: mean over the subsets where it is defined
    assert out[p + 'segm_mAP_occ_heavy'] == pytest.approx(0.0)
    assert out[p + 'segm_mAP_occ_light'] == pytest.approx(1.0)
