# Copyright (c) mmookd authors. All rights reserved.
"""Tests of VISMetric on hand-built TrackDataSamples."""
import json
import zipfile

import numpy as np
import pytest
import torch
from mmdet.registry import METRICS
from mmdet.structures import DetDataSample, TrackDataSample
from mmengine.structures import InstanceData

from mmookd.evaluation.functional.ytvis_eval import encode_masks
from mmookd.evaluation.vis_metric import VISMetric

H, W = 24, 32
CLASSES = ('disc', 'square', 'triangle')


def box(y0, x0, y1, x1):
    m = np.zeros((H, W), bool)
    m[y0:y1, x0:x1] = True
    return m


def gt_instances(gt_tracks, t):
    """The dataset's instance dicts of frame ``t``.

    ``gt_tracks``: list of ``(instance_id, label, [mask or None per frame])``.
    """
    out = []
    for iid, label, masks in gt_tracks:
        if masks[t] is not None:
            ys, xs = np.nonzero(masks[t])
            out.append(
                dict(
                    bbox=[xs.min(),
                          ys.min(),
                          xs.max() + 1,
                          ys.max() + 1],
                    bbox_label=label,
                    mask=encode_masks(masks[t][None])[0],
                    instance_id=iid,
                    ignore_flag=0))
    return out


def make_frame(video_id, t, length, gt_tracks, pred_tracks, with_gt=True):
    """One DetDataSample; ``pred_tracks``: ``(id, [(score, label, mask) or
    None per frame])``."""
    meta = dict(
        img_id=video_id * 1000 + t,
        video_id=video_id,
        frame_id=t,
        ori_shape=(H, W),
        ori_video_length=length)
    if with_gt:
        meta['instances'] = gt_instances(gt_tracks, t)
    frame = DetDataSample(metainfo=meta)
    ids, scores, labels, masks = [], [], [], []
    for iid, per_frame in pred_tracks:
        if per_frame[t] is not None:
            score, label, mask = per_frame[t]
            ids.append(iid)
            scores.append(score)
            labels.append(label)
            masks.append(mask)
    pred = InstanceData()
    pred.instances_id = torch.tensor(ids, dtype=torch.long)
    pred.scores = torch.tensor(scores, dtype=torch.float32)
    pred.labels = torch.tensor(labels, dtype=torch.long)
    pred.bboxes = torch.zeros((len(ids), 4))
    pred.masks = torch.from_numpy(
        np.stack(masks) if masks else np.zeros((0, H, W), bool))
    frame.pred_track_instances = pred
    return frame


def make_video(video_id, gt_tracks, pred_tracks, length, with_gt=True):
    sample = TrackDataSample()
    sample.video_data_samples = [
        make_frame(video_id, t, length, gt_tracks, pred_tracks, with_gt)
        for t in range(length)
    ]
    return sample


def run_metric(videos, frame_mode=False, to_dict=True, **kwargs):
    kwargs.setdefault('round_digits', None)
    metric = VISMetric(**kwargs)
    metric.dataset_meta = dict(classes=CLASSES)
    for sample in videos:
        if frame_mode:
            for frame in sample.video_data_samples:
                one = TrackDataSample()
                one.video_data_samples = [frame]
                metric.process({}, [one.to_dict() if to_dict else one])
        else:
            metric.process({}, [sample.to_dict() if to_dict else sample])
    return metric.evaluate(size=len(videos))


def perfect(gt_tracks, score=0.9):
    return [(iid + 100, [(score, label, m) if m is not None else None
                         for m in masks]) for iid, label, masks in gt_tracks]


def scene(seed=0, length=4):
    """Two GT tracks (disc, square) moving right, one absent in frame 2."""
    rng = np.random.default_rng(seed)
    y = int(rng.integers(0, 6))
    a = [box(y, 2 + t, y + 8, 10 + t) for t in range(length)]
    b = [
        box(12, 16 + t, 22, 26 + t) if t != 2 else None for t in range(length)
    ]
    return [(1, 0, a), (2, 1, b)]


# ----------------------------------------------------------------------
def test_registered_and_keys():
    assert METRICS.get('VISMetric') is VISMetric
    metric = METRICS.build(dict(type='VISMetric'))
    assert metric.prefix == 'youtube_vis'
    gts = scene()
    res = run_metric([make_video(1, gts, perfect(gts), 4)])
    for item in ('mAP', 'mAP_50', 'mAP_75', 'mAP_s', 'mAP_m', 'mAP_l', 'AR@1',
                 'AR@10', 'AR@100'):
        assert f'youtube_vis/segm_{item}' in res
    for cls in CLASSES:
        assert f'youtube_vis/segm_AP_{cls}' in res


def test_perfect_prediction_ap_one():
    gts = scene()
    res = run_metric([make_video(1, gts, perfect(gts), 4)], round_digits=3)
    assert res['youtube_vis/segm_mAP'] == 1.0
    assert res['youtube_vis/segm_mAP_50'] == 1.0
    assert res['youtube_vis/segm_AR@1'] == 1.0
    assert res['youtube_vis/segm_mAP_s'] == 1.0  # tiny masks: small
    assert res['youtube_vis/segm_mAP_l'] == -1.0  # no large GT
    assert res['youtube_vis/segm_AP_disc'] == 1.0
    assert res['youtube_vis/segm_AP_triangle'] == -1.0  # no GT


def test_half_correct_prediction_hand_iou():
    """Correct in 5 of 8 frames, absent in 3: IoU = 5 * 16 / (8 * 16)."""
    length = 8
    gt_masks = [box(0, 0, 4, 4) for _ in range(length)]
    gts = [(1, 0, gt_masks)]
    pred = [(7, [(0.8, 0, gt_masks[t]) if t < 5 else None
                 for t in range(length)])]
    res = run_metric([make_video(1, gts, pred, length)])
    # IoU 0.625 passes the thresholds 0.50, 0.55, 0.60 of ten
    assert res['youtube_vis/segm_mAP'] == pytest.approx(0.3, abs=1e-9)
    assert res['youtube_vis/segm_mAP_50'] == pytest.approx(1.0)
    assert res['youtube_vis/segm_mAP_75'] == 0.0


def test_track_aggregation_score_mean_majority_label():
    gts = scene()
    a, b = gts[0][2], gts[1][2]
    # track 5 follows A, labelled disc in 3 frames of 4 -> disc;
    # track 6 follows B with the wrong label in most frames -> triangle
    pred = [(5, [(0.9, 0, a[0]), (0.7, 2, a[1]), (0.8, 0, a[2]),
                 (0.6, 0, a[3])]),
            (6, [(0.9, 2, b[0]), (0.9, 1, b[1]), None, (0.9, 2, b[3])])]
    res = run_metric([make_video(1, gts, pred, 4)])
    assert res['youtube_vis/segm_AP_disc'] == pytest.approx(1.0)
    assert res['youtube_vis/segm_AP_square'] == 0.0
    metric = VISMetric(outfile_prefix=None)
    metric.dataset_meta = dict(classes=CLASSES)
    metric.process({}, [make_video(1, gts, pred, 4).to_dict()])
    rec = metric.results[0]
    scores = {p['category_id']: p['score'] for p in rec['preds']}
    assert scores[1] == pytest.approx(0.75)
    assert scores[3] == pytest.approx(0.9)
    seg = [p for p in rec['preds'] if p['category_id'] == 3][0]
    assert seg['segmentations'][2] is None
    assert isinstance(seg['segmentations'][0]['counts'], str)


def test_swapped_identity_scores_lower():
    """Right masks, but the two ids switch in the middle of the video."""
    length = 6
    a = [box(0, t, 8, 8 + t) for t in range(length)]
    b = [box(14, 20 - t, 22, 28 - t) for t in range(length)]
    gts = [(1, 0, a), (2, 0, b)]
    correct = perfect(gts)
    swapped = [
        (10, [(0.9, 0, a[t] if t < 3 else b[t]) for t in range(length)]),
        (11, [(0.8, 0, b[t] if t < 3 else a[t]) for t in range(length)]),
    ]
    good = run_metric([make_video(1, gts, correct, length)])
    bad = run_metric([make_video(1, gts, swapped, length)])
    assert good['youtube_vis/segm_mAP'] == pytest.approx(1.0)
    assert bad['youtube_vis/segm_mAP'] < good['youtube_vis/segm_mAP']
    # each swapped track overlaps each GT in half the frames: IoU 1/3
    assert bad['youtube_vis/segm_mAP_50'] == 0.0


def two_split_videos():
    """Videos 1, 2 (short) and 3, 4, 5 (long) with imperfect predictions."""
    videos = []
    for vid in (1, 2, 3, 4, 5):
        gts = scene(seed=vid, length=4 if vid < 3 else 7)
        preds = perfect(gts, score=0.5 + 0.1 * vid)
        if vid in (2, 3):  # a false positive with a high score
            preds.append((99, [(0.95, 0, box(18, 0, 24, 6))] + [None] *
                          (len(gts[0][2]) - 1)))
        if vid in (4, 5):  # square missed
            preds = preds[:1]
        videos.append(make_video(vid, gts, preds, len(gts[0][2])))
    return videos


def test_subsets_equal_separate_runs_and_mean(tmp_path):
    videos = two_split_videos()
    txt = tmp_path / 'long.txt'
    txt.write_text('3\n4\n5\n')
    short_json = tmp_path / 'short.json'
    short_json.write_text(json.dumps(dict(videos=[dict(id=1), dict(id=2)])))
    res = run_metric(
        videos, subsets=dict(short=str(short_json), long=str(txt)))
    pooled = run_metric(videos)
    alone_short = run_metric(videos[:2])
    alone_long = run_metric(videos[2:])
    p = 'youtube_vis/'
    for key in ('segm_mAP', 'segm_mAP_50', 'segm_AR@1', 'segm_AR@10',
                'segm_mAP_s', 'segm_AP_disc'):
        assert res[f'{p}short_{key}'] == pytest.approx(
            alone_short[p + key], abs=1e-12)
        assert res[f'{p}long_{key}'] == pytest.approx(
            alone_long[p + key], abs=1e-12)
        assert res[f'{p}all_{key}'] == pytest.approx(
            pooled[p + key], abs=1e-12)
        assert res[p + key] == pytest.approx(
            (alone_short[p + key] + alone_long[p + key]) / 2, abs=1e-12)
    # the subsets really differ, the mean is not the pooled value, and the
    # subset keys are not the area keys
    assert res[f'{p}short_segm_mAP'] != res[f'{p}long_segm_mAP']
    assert abs(res[p + 'segm_mAP'] - res[p + 'all_segm_mAP']) > 1e-3
    assert f'{p}segm_mAP_l' in res and f'{p}long_segm_mAP_l' in res
    # a list of ids works too; subset_mean=False keeps the pooled values
    res2 = run_metric(
        videos, subsets=dict(short=[1, 2], long=[3, 4, 5]), subset_mean=False)
    assert res2[p + 'segm_mAP'] == pytest.approx(pooled[p + 'segm_mAP'])
    assert f'{p}all_segm_mAP' not in res2
    assert res2[f'{p}long_segm_mAP'] == pytest.approx(alone_long[p +
                                                                 'segm_mAP'])


def test_ann_file_gt_equals_sample_gt(tmp_path):
    videos = two_split_videos()
    ann = dict(
        videos=[],
        annotations=[],
        categories=[dict(id=i + 1, name=c) for i, c in enumerate(CLASSES)])
    ann_id = 1
    for sample in videos:
        frames = sample.video_data_samples
        vid = frames[0].video_id
        ann['videos'].append(
            dict(id=vid, height=H, width=W, length=len(frames)))
        tracks = {}
        for t, frame in enumerate(frames):
            for inst in frame.instances:
                tr = tracks.setdefault(
                    inst['instance_id'],
                    dict(label=inst['bbox_label'], segs=[None] * len(frames)))
                tr['segs'][t] = inst['mask']
        for tr in tracks.values():
            ann['annotations'].append(
                dict(
                    id=ann_id,
                    video_id=vid,
                    category_id=tr['label'] + 1,
                    iscrowd=0,
                    segmentations=tr['segs'],
                    areas=[None if s is None else 70000 for s in tr['segs']]))
            ann_id += 1
    path = tmp_path / 'gt.json'
    path.write_text(json.dumps(ann))
    from_samples = run_metric(videos)
    # the JSON path ignores the frames' instances (dropped here)
    no_gt_videos = []
    for sample in videos:
        for frame in sample.video_data_samples:
            del frame.instances
        no_gt_videos.append(sample)
    from_file = run_metric(no_gt_videos, ann_file=str(path))
    for key in ('segm_mAP', 'segm_mAP_50', 'segm_mAP_75', 'segm_AR@1',
                'segm_AR@10', 'segm_AP_disc'):
        assert from_file['youtube_vis/' + key] == pytest.approx(
            from_samples['youtube_vis/' + key], abs=1e-12)
    # the given 'areas' (as in the official code) decide the GT's area
    # range: 70000 px -> large, whereas the masks themselves are small
    assert from_samples['youtube_vis/segm_mAP_s'] > 0
    assert from_samples['youtube_vis/segm_mAP_l'] == -1
    assert from_file['youtube_vis/segm_mAP_s'] == -1
    # ... and the small unmatched false positives are ignored in 'large'
    assert from_file['youtube_vis/segm_mAP_l'] > \
        from_file['youtube_vis/segm_mAP'] > 0
    # GT from the file and no GT in the samples: clear error otherwise
    with pytest.raises(ValueError, match='no ground truth'):
        run_metric(no_gt_videos)


def test_frame_mode_and_video_level_preds_agree():
    videos = two_split_videos()
    by_video = run_metric(videos)
    by_frame = run_metric(two_split_videos(), frame_mode=True, to_dict=False)
    assert by_frame == pytest.approx(by_video)
    # the same predictions in the video-level form
    video_level = []
    for sample in two_split_videos():
        frames = sample.video_data_samples
        tracks = {}
        for t, frame in enumerate(frames):
            pred = frame.pred_track_instances
            for i, iid in enumerate(pred.instances_id.tolist()):
                tr = tracks.setdefault(
                    iid, dict(scores=[], labels=[], segs=[None] * len(frames)))
                tr['scores'].append(float(pred.scores[i]))
                tr['labels'].append(int(pred.labels[i]))
                tr['segs'][t] = encode_masks(pred.masks[i:i + 1].numpy())[0]
            frame.pred_track_instances = InstanceData()
        sample.pred_video_instances = [
            dict(
                score=float(np.mean(tr['scores'])),
                label=int(np.bincount(tr['labels']).argmax()),
                segmentations=tr['segs']) for tr in tracks.values()
        ]
        video_level.append(sample)
    assert run_metric(video_level) == pytest.approx(by_video)


def test_format_only_writes_server_zip(tmp_path):
    gts = scene()
    prefix = str(tmp_path / 'sub' / 'results')
    metric = VISMetric(format_only=True, outfile_prefix=prefix)
    metric.dataset_meta = dict(classes=CLASSES)
    metric.process(
        {}, [make_video(3, gts, perfect(gts), 4, with_gt=False).to_dict()])
    assert metric.evaluate(1) == {}
    with zipfile.ZipFile(prefix + '.zip') as zf:
        assert zf.namelist() == ['results.json']
        results = json.loads(zf.read('results.json'))
    assert len(results) == 2
    for r in results:
        assert set(r) == {'video_id', 'score', 'category_id', 'segmentations'}
        assert r['video_id'] == 3
        assert len(r['segmentations']) == 4
    assert sorted(r['category_id'] for r in results) == [1, 2]  # 1-based
    square = [r for r in results if r['category_id'] == 2][0]
    assert square['segmentations'][2] is None
    assert square['segmentations'][0]['size'] == [H, W]
    with pytest.raises(ValueError, match='outfile_prefix'):
        VISMetric(format_only=True)


def test_errors_name_the_culprit(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.json'):
        VISMetric(ann_file=str(tmp_path / 'nope.json'))
    with pytest.raises(KeyError, match='AP_xl'):
        VISMetric(metric_items=['AP_xl'])
    with pytest.raises(FileNotFoundError, match='long.txt'):
        VISMetric(subsets=dict(long=str(tmp_path / 'long.txt')))
    with pytest.raises(ValueError, match="'all'"):
        VISMetric(subsets=dict(all=[1], long=[2]))
    path = tmp_path / 'gt.json'
    path.write_text(
        json.dumps(
            dict(
                videos=[dict(id=1, height=H, width=W, length=4)],
                annotations=[],
                categories=[
                    dict(id=i + 1, name=c) for i, c in enumerate(CLASSES)
                ])))
    gts = scene()
    with pytest.raises(ValueError, match='video 5 .*gt.json'):
        run_metric([make_video(5, gts, perfect(gts), 4)], ann_file=str(path))
    bad = make_video(1, gts, perfect(gts), 4)
    bad.video_data_samples[1].pred_track_instances.masks = torch.zeros(
        (2, H + 1, W), dtype=torch.bool)
    with pytest.raises(ValueError, match='video 1, frame 1'):
        run_metric([bad])


def test_thousand_frame_video_is_feasible():
    """Stream a 1,000-frame video frame by frame: only RLEs are kept."""
    import time
    length = 1000
    a = [box(2, t % 20, 10, 8 + t % 20) for t in range(length)]
    gts = [(1, 0, a)]
    pred = perfect(gts)
    pred[0][1][500] = None  # absent once: IoU 999/1000
    metric = VISMetric(round_digits=None)
    metric.dataset_meta = dict(classes=CLASSES)
    start = time.perf_counter()
    for t in range(length):
        # what mmengine's Evaluator passes: TrackDataSample.to_dict()
        one = dict(video_data_samples=[make_frame(1, t, length, gts, pred)])
        metric.process({}, [one])
        if t == 10:
            track = next(iter(metric._buffers[1]['tracks'].values()))
            assert all(
                isinstance(r['counts'], str) for r in track['segms'].values())
    assert not metric._buffers and len(metric.results) == 1
    res = metric.evaluate(1)
    assert time.perf_counter() - start < 20
    assert res['youtube_vis/segm_mAP'] == pytest.approx(1.0)
    assert res['youtube_vis/segm_AR@1'] == 1.0


def test_no_gt_instances_gives_minus_one_and_warns():
    gts = scene()
    video = make_video(1, [], perfect(gts), 4)  # 'instances' = [] per frame
    with pytest.warns(UserWarning, match='no ground-truth'):
        res = run_metric([video])
    assert res['youtube_vis/segm_mAP'] == -1
    assert res['youtube_vis/segm_AR@10'] == -1


def test_video_level_preds_of_wrong_length_are_rejected():
    gts = scene()
    sample = make_video(4, gts, [], 4)
    sample.pred_video_instances = [
        dict(score=0.5, label=0, segmentations=[None, None])
    ]
    with pytest.raises(ValueError, match=r'video 4: pred_video_instances\[0'):
        run_metric([sample])


def random_videos(seed, num_videos=6):
    """Random videos: 3 classes, GT tracks absent in some frames, several
    noisy / mislabeled / spurious per-frame predictions per video."""
    rng = np.random.default_rng(seed)
    videos = []
    next_id = 1
    for vid in range(1, num_videos + 1):
        length = int(rng.integers(3, 6))
        gts, preds = [], []
        for _ in range(int(rng.integers(1, 4))):
            masks = []
            for t in range(length):
                if t and rng.random() < 0.25:
                    masks.append(None)
                    continue
                y, x = rng.integers(0, 12), rng.integers(0, 18)
                masks.append(
                    box(y, x, y + int(rng.integers(4, 12)),
                        x + int(rng.integers(4, 14))))
            label = int(rng.integers(0, 3))
            gts.append((next_id, label, masks))
            next_id += 1
            for _ in range(int(rng.integers(0, 3))):
                per_frame = []
                shift = int(rng.integers(-2, 3))
                for m in masks:
                    if m is None or rng.random() < 0.15:
                        per_frame.append(None)
                        continue
                    lab = label if rng.random() < 0.85 else int(
                        rng.integers(0, 3))
                    per_frame.append(
                        (float(rng.random()), lab, np.roll(m, shift, axis=1)))
                if any(p is not None for p in per_frame):
                    preds.append((next_id, per_frame))
                    next_id += 1
        spurious = [(float(rng.random()), int(rng.integers(0, 3)),
                     box(0, 0, 5, 5)) if rng.random() < 0.7 else None
                    for _ in range(length)]
        if any(p is not None for p in spurious):
            preds.append((next_id, spurious))
            next_id += 1
        videos.append((vid, gts, preds, length))
    return videos


def ytvis_json(videos):
    """The official GT file of ``random_videos``."""
    ann = dict(
        videos=[],
        annotations=[],
        categories=[dict(id=i + 1, name=c) for i, c in enumerate(CLASSES)])
    for vid, gts, _, length in videos:
        ann['videos'].append(dict(id=vid, height=H, width=W, length=length))
        for iid, label, masks in gts:
            segs = [
                None if m is None else encode_masks(m[None])[0] for m in masks
            ]
            ann['annotations'].append(
                dict(
                    id=iid,
                    video_id=vid,
                    category_id=label + 1,
                    iscrowd=0,
                    segmentations=segs,
                    bboxes=[None] * length,
                    areas=[
                        None if m is None else float(m.sum()) for m in masks
                    ]))
    return ann


@pytest.mark.parametrize('seed', [0, 1])
def test_metric_equals_official_protocol(seed, tmp_path, monkeypatch):
    """VISMetric end to end vs mmdet's copy of the official evaluation run
    on the metric's own submission file (np.float patched here only)."""
    import contextlib
    import copy
    import io

    import mmdet.evaluation.functional.ytviseval as ytviseval_module
    from mmdet.evaluation.functional.ytvis import YTVIS

    class NumpyWithFloat:
        float = float

        def __getattr__(self, name):
            return getattr(np, name)

    videos = random_videos(seed)
    gt = ytvis_json(videos)
    ann_path = tmp_path / 'gt.json'
    ann_path.write_text(json.dumps(gt))
    samples = [
        make_video(vid, gts, preds, length, with_gt=False)
        for vid, gts, preds, length in videos
    ]
    prefix = str(tmp_path / 'results')
    mine = run_metric(samples, ann_file=str(ann_path), outfile_prefix=prefix)
    with open(prefix + '.json') as f:
        results = json.load(f)
    assert len(results) > len(videos)  # several predictions per video

    monkeypatch.setattr(ytviseval_module, 'np', NumpyWithFloat())
    with contextlib.redirect_stdout(io.StringIO()):
        ytvis = YTVIS(copy.deepcopy(gt))
        official = ytviseval_module.YTVISeval(ytvis, ytvis.loadRes(results),
                                              'segm')
        official.params.vidIds = ytvis.getVidIds()
        official.evaluate()
        official.accumulate()
        official.summarize()
    assert 0.05 < mine['youtube_vis/segm_mAP'] < 0.95
    for i, item in enumerate(('mAP', 'mAP_50', 'mAP_75', 'mAP_s', 'mAP_m',
                              'mAP_l', 'AR@1', 'AR@10', 'AR@100')):
        assert mine[f'youtube_vis/segm_{item}'] == pytest.approx(
            official.stats[i], abs=1e-6), item


# ----------------------------------------------------------------------
# category ids: labels are mapped through the dataset's class names
def three_tracks(length=4):
    """Three GT tracks, one of each class (labels 0, 1, 2)."""
    return scene(length=length) + [
        (3, 2, [box(0, 22, 6, 30) for _ in range(length)])
    ]


def ann_file_with_ids(tmp_path,
                      gts,
                      cat_ids,
                      video_id=1,
                      length=4,
                      names=CLASSES):
    """A YTVIS JSON of one video whose category ``names[i]`` has id
    ``cat_ids[i]``; GT track label ``i`` -> ``cat_ids[i]``."""
    ann = dict(
        videos=[dict(id=video_id, height=H, width=W, length=length)],
        annotations=[
            dict(
                id=iid,
                video_id=video_id,
                category_id=cat_ids[label],
                iscrowd=0,
                segmentations=[
                    None if m is None else encode_masks(m[None])[0]
                    for m in masks
                ]) for iid, label, masks in gts
        ],
        categories=[dict(id=i, name=n) for i, n in zip(cat_ids, names)])
    path = tmp_path / 'gt.json'
    path.write_text(json.dumps(ann))
    return str(path)


@pytest.mark.parametrize('cat_ids', [(3, 1, 2), (1, 5, 9), (9, 5, 1)])
def test_perfect_predictions_score_one_whatever_the_category_ids(
        tmp_path, cat_ids):
    gts = three_tracks()
    path = ann_file_with_ids(tmp_path, gts, cat_ids)
    prefix = str(tmp_path / 'results')
    res = run_metric([make_video(1, gts, perfect(gts), 4, with_gt=False)],
                     ann_file=path,
                     outfile_prefix=prefix)
    assert res['youtube_vis/segm_mAP'] == pytest.approx(1.0)
    for name in CLASSES:
        assert res[f'youtube_vis/segm_AP_{name}'] == pytest.approx(1.0)
    # the submission carries the file's ids: label i -> cat_ids[i]
    with zipfile.ZipFile(prefix + '.zip') as zf:
        results = json.loads(zf.read('results.json'))
    with open(path) as f:
        truth = {
            json.dumps(a['segmentations']): a['category_id']
            for a in json.load(f)['annotations']
        }
    assert len(results) == 3
    for r in results:
        assert r['category_id'] == truth[json.dumps(r['segmentations'])]


def test_subset_of_classes_scores_one_and_submits_the_files_ids(tmp_path):
    """``VISDataset(metainfo=dict(classes=...))`` trains a subset: its
    labels index the subset; the metric maps them back by name."""
    from pycocotools import mask as mask_utils

    from mmookd.datasets import VISDataset
    gts = three_tracks()
    path = ann_file_with_ids(tmp_path, gts, (1, 5, 9))
    with open(path) as f:
        data = json.load(f)
    data['videos'][0]['file_names'] = [f'1/{t}.jpg' for t in range(4)]
    with open(path, 'w') as f:
        json.dump(data, f)
    subset = ('triangle', 'square')  # ids 9, 5; labels 0, 1
    dataset = VISDataset(
        ann_file=path,
        dataset_version='synthvis',
        metainfo=dict(classes=subset),
        test_mode=True,
        lazy_init=False)
    assert dataset.metainfo['category_ids'] == [9, 5]
    frames = dataset.get_data_info(0)['images']
    # perfect predictions in the dataset's label space
    tracks = {}
    for t, frame in enumerate(frames):
        for inst in frame['instances']:
            mask = mask_utils.decode(inst['mask']).astype(bool)
            tracks.setdefault(inst['instance_id'],
                              [None] * 4)[t] = (0.9, inst['bbox_label'], mask)
    assert sorted(tracks) == [2, 3]  # the disc track is not trained
    preds = list(tracks.items())
    video = make_video(1, [], preds, 4, with_gt=False)
    metric = VISMetric(ann_file=path, round_digits=None)
    metric.dataset_meta = dataset.metainfo
    metric.process({}, [video.to_dict()])
    res = metric.evaluate(1)
    assert res['youtube_vis/segm_mAP'] == pytest.approx(1.0)
    assert res['youtube_vis/segm_AP_square'] == pytest.approx(1.0)
    assert res['youtube_vis/segm_AP_triangle'] == pytest.approx(1.0)
    assert 'youtube_vis/segm_AP_disc' not in res  # not trained, not scored
    # format_only without ann_file: the ids come from the dataset's file
    prefix = str(tmp_path / 'sub')
    metric = VISMetric(format_only=True, outfile_prefix=prefix)
    metric.dataset_meta = dataset.metainfo
    metric.process({}, [make_video(1, [], preds, 4, with_gt=False).to_dict()])
    metric.evaluate(1)
    with open(prefix + '.json') as f:
        results = json.load(f)
    present = {
        r['category_id']: sum(s is not None for s in r['segmentations'])
        for r in results
    }
    assert present == {5: 3, 9: 4}  # square absent in frame 2


def test_classes_missing_from_the_file_are_refused(tmp_path):
    gts = scene()
    path = ann_file_with_ids(
        tmp_path, gts, (1, 2, 3), names=('disc', 'square', 'star'))
    with pytest.raises(ValueError, match=r"\['triangle'\].*gt.json"):
        run_metric([make_video(1, gts, perfect(gts), 4, with_gt=False)],
                   ann_file=path)


def test_nan_scores_are_refused_naming_the_video(tmp_path):
    gts = scene()
    preds = perfect(gts)
    preds[0][1][1] = (float('nan'), 0, preds[0][1][1][2])
    with pytest.raises(ValueError, match='video 4, frame 1.*not finite'):
        run_metric([make_video(4, gts, preds, 4)],
                   outfile_prefix=str(tmp_path / 'r'))
    assert not (tmp_path / 'r.json').exists()
    sample = make_video(4, gts, perfect(gts), 4)
    sample.pred_video_instances = [
        dict(score=float('inf'), label=0, segmentations=[None] * 4)
    ]
    with pytest.raises(ValueError, match='video 4 .*not finite'):
        run_metric([sample])
    with pytest.raises(ValueError, match='video 7.*not finite'):
        VISMetric.dump_submission([
            dict(
                video_id=7,
                score=float('nan'),
                category_id=1,
                segmentations=[])
        ], str(tmp_path / 'x'))


def test_unwritable_outfile_prefix_fails_at_construction(tmp_path):
    blocker = tmp_path / 'file'
    blocker.write_text('')
    with pytest.raises(PermissionError, match='not a writable folder'):
        VISMetric(format_only=True, outfile_prefix=str(blocker / 'res'))
    (tmp_path / 'res.zip').mkdir()
    with pytest.raises(PermissionError, match='res.zip is a folder'):
        VISMetric(outfile_prefix=str(tmp_path / 'res'))
    # a folder that does not exist yet is fine (made when writing)
    VISMetric(outfile_prefix=str(tmp_path / 'new' / 'deeper' / 'res'))
    assert not (tmp_path / 'new').exists()


def test_ann_file_with_noncontiguous_category_ids(tmp_path):
    """Labels follow dataset_meta's classes; the file's ids are 12 (disc),
    7 (square) and 40 (triangle): predictions are written and evaluated
    with the file's ids, matched by name."""
    gts = scene()  # disc (label 0) and square (label 1)
    ids = {'disc': 12, 'square': 7, 'triangle': 40}
    video = make_video(1, gts, perfect(gts), 4)
    frames = video.video_data_samples
    tracks = {}
    for t, frame in enumerate(frames):
        for inst in frame.instances:
            tr = tracks.setdefault(
                inst['instance_id'],
                dict(label=inst['bbox_label'], segs=[None] * len(frames)))
            tr['segs'][t] = inst['mask']
        del frame.instances
    ann = dict(
        videos=[dict(id=1, height=H, width=W, length=4)],
        annotations=[
            dict(
                id=k,
                video_id=1,
                iscrowd=0,
                category_id=ids[CLASSES[tr['label']]],
                segmentations=tr['segs']) for k, tr in tracks.items()
        ],
        # another order and spelling than the classes
        categories=[
            dict(id=40, name='Triangle'),
            dict(id=12, name='disc'),
            dict(id=7, name='SQUARE')
        ])
    path = tmp_path / 'gt.json'
    path.write_text(json.dumps(ann))
    prefix = str(tmp_path / 'sub')
    res = run_metric([video], ann_file=str(path), outfile_prefix=prefix)
    assert res['youtube_vis/segm_mAP'] == pytest.approx(1.0)
    assert res['youtube_vis/segm_AP_disc'] == pytest.approx(1.0)
    # per-class keys carry the dataset's class names
    assert res['youtube_vis/segm_AP_square'] == pytest.approx(1.0)
    with open(prefix + '.json') as f:
        submitted = json.load(f)
    assert sorted({p['category_id'] for p in submitted}) == [7, 12]
    ann['categories'][2]['name'] = 'cube'
    path.write_text(json.dumps(ann))
    with pytest.raises(ValueError, match='square'):
        run_metric([make_video(1, gts, perfect(gts), 4)], ann_file=str(path))
