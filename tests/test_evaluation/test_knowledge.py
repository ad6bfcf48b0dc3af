# Copyright (c) mmookd authors. All rights reserved.
"""The distillation diagnostics on hand-built picks and features."""
import math

import numpy as np
import pytest

from mmookd.evaluation.functional.knowledge import (auc, box_iou,
                                                    collision_rate,
                                                    pick_quality, separation,
                                                    switch_rate)


def test_box_iou_rows():
    a = np.array([[0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 0, 0]])
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [0, 0, 0, 0]])
    assert box_iou(a, b).tolist() == pytest.approx([1.0, 50 / 150, 0.0])


def test_pick_quality_needs_box_and_class_and_a_pick():
    gt = np.array([[0, 0, 10, 10]] * 4)
    pred = np.array([[0, 0, 10, 10], [0, 0, 10, 10], [8, 8, 20, 20],
                     [0, 0, 10, 10]])
    # good; wrong class; IoU too low; no pick
    q = pick_quality([True, True, True, False], pred, [1, 2, 1, 1], gt,
                     [1, 1, 1, 1])
    assert q == 0.25
    assert math.isnan(pick_quality([], np.zeros((0, 4)), [], np.zeros(
        (0, 4)), []))


def test_collisions_count_frames_with_two_picked_gts():
    frames = [[4, 4], [1, 2], [3, -1], [5, 5, 6], [-1, -1]]
    # counted: frames 0, 1, 3 (frame 2 and 4 have < 2 picks)
    assert collision_rate(frames) == pytest.approx(2 / 3)
    assert math.isnan(collision_rate([[1], [-1, 2]]))


def test_switches_count_tracks_picked_twice():
    tracks = {(1, 5): [2, 2, -1, 2], (1, 6): [2, 3], (1, 7): [4]}
    assert switch_rate(tracks) == 0.5
    assert math.isnan(switch_rate({(1, 7): [4, -1]}))


def test_separation_and_auc_with_ties():
    feats = {
        (1, 5): [np.array([1., 0.]), np.array([1., 0.])],
        (1, 6): [np.array([0., 1.]), np.array([1., 0.])],
        (2, 5): [np.array([0., 1.])],  # another video: no pair with video 1
    }
    sims = separation(feats)
    assert sorted(sims['same']) == pytest.approx([0.0, 1.0])
    # different pairs of video 1: (5,6) rows: [0, 1, 0, 1]
    assert sorted(sims['different']) == pytest.approx([0., 0., 1., 1.])
    # same 1.0 beats two 0s and ties two 1s: 3 of 4; same 0.0 ties two 0s:
    # 1 of 4 -> (3 + 1) / 8
    assert auc(sims['same'], sims['different']) == pytest.approx(0.5)
    assert auc([1.0], [0.0]) == 1.0 and auc([0.5], [0.5]) == 0.5
    assert math.isnan(auc([], [0.1]))
