# Copyright (c) mmookd authors. All rights reserved.
"""Coverage, switches, purity and spill of predicted tracks, on hand-built
masks; and tools/analysis_tools/track_errors.py on tiny files."""
import json

import numpy as np
import pytest

from mmookd.evaluation.functional import (dataset_track_errors, encode_masks,
                                          frame_owners, track_errors)
from mmookd.testing import load_tool

TOOL = 'tools/analysis_tools/track_errors.py'


def _box(x0, x1, size=10):
    """An RLE of columns x0..x1-1 of a size x size frame."""
    mask = np.zeros((1, size, size), np.uint8)
    mask[0, :, x0:x1] = 1
    return encode_masks(mask)[0]


LEFT, RIGHT, MID = _box(0, 4), _box(6, 10), _box(0, 3)


def test_owner_is_the_best_prediction_above_the_iou_bar():
    gt = [LEFT, LEFT, None, LEFT]
    preds = [
        [LEFT, RIGHT, LEFT, None],  # covers frame 0 exactly
        [MID, LEFT, None, MID],  # IoU 3/4 in frames 0 and 3, exact in 1
    ]
    assert frame_owners(gt, preds) == [0, 1, None, 1]
    # a stricter bar leaves frame 3 (IoU 0.75) without an owner
    assert frame_owners(gt, preds, iou_thr=0.8) == [0, 1, None, None]
    assert frame_owners(gt, []) == [None, None, None, None]


def test_track_errors_count_switches_purity_and_spill():
    gt = [LEFT, LEFT, LEFT, None, None, LEFT]
    preds = [
        [LEFT, None, LEFT, LEFT, None, LEFT],  # main: frames 0, 2, 5
        [None, LEFT, None, None, None, None],  # takes over in frame 1
    ]
    out = track_errors(gt, preds)
    assert out['coverage'] == 1.0 and out['present'] == 4
    assert out['switches'] == 2  # 0 -> 1 -> 0
    assert out['purity'] == pytest.approx(3 / 4)
    # the main track paints frame 3 of the 2 absent frames
    assert out['spill'] == pytest.approx(1 / 2)
    # a GT present in every frame has no spill; an unowned one no purity
    full = track_errors([LEFT, LEFT], [[LEFT, LEFT]])
    assert full['spill'] is None and full['switches'] == 0
    none = track_errors([LEFT, None], [[RIGHT, RIGHT]])
    assert none['coverage'] == 0.0 and none['purity'] is None
    assert none['spill'] is None


def _files(tmp_path):
    gt = dict(
        videos=[
            dict(id=1, length=3, height=10, width=10),
            dict(id=2, length=2, height=10, width=10)
        ],
        annotations=[
            dict(id=1, video_id=1, segmentations=[LEFT, LEFT, LEFT]),
            dict(id=2, video_id=1, segmentations=[RIGHT, None, RIGHT]),
            dict(id=3, video_id=2, segmentations=[LEFT, None]),
        ])
    results = [
        dict(video_id=1, score=0.9, segmentations=[LEFT, LEFT, None]),
        dict(video_id=1, score=0.8, segmentations=[RIGHT, RIGHT, RIGHT]),
        dict(video_id=1, score=0.1, segmentations=[None, None, LEFT]),
        dict(video_id=2, score=0.5, segmentations=[LEFT, LEFT]),
    ]
    ann = tmp_path / 'ann.json'
    res = tmp_path / 'res.json'
    ann.write_text(json.dumps(gt))
    res.write_text(json.dumps(results))
    sub = tmp_path / 'sub.json'
    sub.write_text(json.dumps(dict(videos=[gt['videos'][1]])))
    return gt, results, ann, res, sub


def test_dataset_figures_average_over_gt_tracks(tmp_path):
    gt, results, *_ = _files(tmp_path)
    out = dataset_track_errors(gt, results)
    # track 1: owners 0, 0, 2 (1 switch, purity 2/3); track 2: owned in
    # frames 0, 2 by track 1 (spill 1: it paints frame 1); track 3: spill 1
    assert out['tracks'] == 3
    assert out['coverage'] == pytest.approx(1.0)
    assert out['switches'] == pytest.approx(1 / 3)
    assert out['switches_per_100'] == pytest.approx(100 / 6)
    assert out['purity'] == pytest.approx((2 / 3 + 1 + 1) / 3)
    assert out['spill'] == pytest.approx(1.0)
    # a score threshold drops the 0.1 prediction: track 1 loses frame 2
    high = dataset_track_errors(gt, results, score_thr=0.2)
    assert high['coverage'] == pytest.approx((2 / 3 + 1 + 1) / 3)
    assert high['switches'] == 0
    # only video 2
    two = dataset_track_errors(gt, results, video_ids=[2])
    assert two['tracks'] == 1 and two['spill'] == 1.0
    with pytest.raises(ValueError, match='video 1 has 3 frames'):
        dataset_track_errors(
            gt, [dict(video_id=1, score=1, segmentations=[LEFT])])


def test_tool_prints_a_table_and_json(tmp_path, capsys):
    _, _, ann, res, sub = _files(tmp_path)
    out = load_tool(TOOL).main([
        str(ann),
        str(res),
        str(res), '--labels', 'a', 'b', '--subset', f'two={sub}', '--json'
    ])
    assert set(out) == {'a', 'b'} and set(out['a']) == {'all', 'two'}
    assert out['a']['two']['tracks'] == 1
    text = capsys.readouterr().out
    assert 'switches_per_100' in text
    assert json.loads(text.strip().splitlines()[-1])['b']['all']['tracks'] \
        == 3
    with pytest.raises(SystemExit, match='does not exist'):
        load_tool(TOOL).main([str(ann), str(tmp_path / 'missing.json')])
    with pytest.raises(SystemExit, match='one label per results file'):
        load_tool(TOOL).main([str(ann), str(res), '--labels', 'a', 'b'])
