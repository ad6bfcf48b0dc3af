# Copyright (c) mmookd authors. All rights reserved.
"""Tests of IDOLTracker on hand-built frames (no model).

A frame is built from objects, each with class probabilities, a rectangle
on the 8x8 stride-4 mask grid (+8 logits inside, -8 outside) and an
embedding. The input is 32x32 (padded 32x32) and the original frame 64x64,
so a grid rectangle ``(r0, r1, c0, c1)`` becomes the original-size mask
rows ``8*r0:8*r1``, columns ``8*c0:8*c1``.
"""
import gc
import math
import random
import tracemalloc

import pycocotools.mask as mask_util
import pytest
import torch
from mmdet.registry import MODELS

from mmookd.models.trackers.idol_tracker import (IDOLTracker, greedy_assign,
                                                 match_scores)

K, C, GRID = 3, 16, 8
# Python heap growth allowed between two probes of a long stream: the
# traced size of an unchanged state varies by about +-20 KiB (free lists).
GROWTH_BYTES = 64 * 1024
META = dict(img_shape=(32, 32), pad_shape=(32, 32), ori_shape=(64, 64))


@pytest.fixture(autouse=True, scope='module')
def one_thread():
    """Tiny tensors: thread hand-offs dominate on a busy 2-core machine."""
    num = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(num)


def logit(p):
    return math.log(p / (1 - p))


def onehot(i, scale=4.0, dim=C):
    e = torch.zeros(dim)
    e[i] = scale
    return e


def obj(label, score, cell, embed, others=0.01):
    probs = [others] * K
    probs[label] = score
    return dict(probs=probs, cell=cell, embed=embed)


def make_frame(objs, num_bg=3, bg_prob=0.02, perm_seed=None, dim=C):
    """(cls_logits (N, K), bboxes (N, 4), embeds (N, C), masks (N, 8, 8))."""
    n = len(objs) + num_bg
    cls = torch.full((n, K), logit(bg_prob))
    bboxes = torch.zeros(n, 4)
    embeds = torch.zeros(n, dim)
    masks = torch.full((n, GRID, GRID), -8.0)
    for q, o in enumerate(objs):
        cls[q] = torch.tensor([logit(p) for p in o['probs']])
        r0, r1, c0, c1 = o['cell']
        masks[q, r0:r1, c0:c1] = 8.0
        bboxes[q] = torch.tensor([c0 * 8, r0 * 8, c1 * 8, r1 * 8.0])
        embeds[q] = o['embed']
    for b in range(num_bg):
        q = len(objs) + b
        bboxes[q] = torch.tensor([b * 10.0, 60 - b, b * 10 + 3, 63 - b])
    if perm_seed is not None:
        g = torch.Generator().manual_seed(perm_seed)
        perm = torch.randperm(n, generator=g)
        cls, bboxes, embeds, masks = (cls[perm], bboxes[perm], embeds[perm],
                                      masks[perm])
    return cls, bboxes, embeds, masks


def rect(cell, size=64, scale=8):
    r0, r1, c0, c1 = cell
    m = torch.zeros(size, size, dtype=torch.bool)
    m[scale * r0:scale * r1, scale * c0:scale * c1] = True
    return m


def same_mask(mask, cell, size=64):
    """Whether ``mask`` is the rectangle of ``cell`` (bilinear upsampling
    may cut the 2x2 original pixels at each of its 4 corners)."""
    r = rect(cell, size)
    return not (mask & ~r).any() and int((r & ~mask).sum()) <= 16


def run(tracker, frames, meta=META):
    """Track a list of object lists from frame 0; return the outputs."""
    tracker.reset()
    outs = []
    for t, objs in enumerate(frames):
        outs.append(tracker.track(t, *make_frame(objs), meta))
    return outs


def ids_of(out):
    return out.instances_id.tolist()


# ----------------------------------------------------------------------
# matching primitives on hand-built matrices
# ----------------------------------------------------------------------
def test_bisoftmax_on_hand_built_matrix():
    dets = torch.tensor([[2.0, 0.0], [0.0, 1.0]])
    memo = torch.eye(2)
    s = match_scores(dets, memo, 'bisoftmax')
    e = math.e
    # rows: softmax over tracks; columns: softmax over detections
    row0 = [e**2 / (e**2 + 1), 1 / (e**2 + 1)]
    row1 = [1 / (1 + e), e / (1 + e)]
    col0 = [e**2 / (e**2 + 1), 1 / (e**2 + 1)]
    col1 = [1 / (1 + e), e / (1 + e)]
    expected = torch.tensor([[(row0[0] + col0[0]) / 2,
                              (row0[1] + col1[0]) / 2],
                             [(row1[0] + col0[1]) / 2,
                              (row1[1] + col1[1]) / 2]])
    assert torch.allclose(s, expected, atol=1e-6)
    assert greedy_assign(s, torch.ones(2)).tolist() == [0, 1]


def test_frame_count_reweighting_picks_long_track():
    scores = torch.tensor([[0.8, 0.6, 0.1]])
    counts = torch.tensor([1.0, 5.0, 2.0])
    # plain argmax: track 0; both 0 and 1 exceed 0.5 -> weighted
    # [0.8 * 1, 0.6 * 5, 0.1 * mean(1, 5)] = [0.8, 3.0, 0.3] -> track 1
    assert greedy_assign(scores, counts, frame_weight=False).tolist() == [0]
    assert greedy_assign(scores, counts).tolist() == [1]
    # a single track above 0.5: no reweighting
    scores = torch.tensor([[0.8, 0.45, 0.1]])
    assert greedy_assign(scores, counts).tolist() == [0]


def test_greedy_assign_zeroes_taken_column():
    counts = torch.ones(2)
    s = torch.tensor([[0.9, 0.1], [0.8, 0.7]])
    assert greedy_assign(s, counts).tolist() == [0, 1]
    s = torch.tensor([[0.9, 0.1], [0.8, 0.3]])
    assert greedy_assign(s, counts).tolist() == [0, -1]
    # input matrix is not modified
    assert s[1, 0] == pytest.approx(0.8)


def test_reweighting_inside_tracker():
    """A detection between two tracks goes to the one matched more often."""
    e_a, e_b = onehot(0), onehot(1)
    # frames 0..4: A and B at frame 0, then only A (B stays alive)
    frames = [[obj(0, 0.9, (0, 2, 0, 2), e_a), obj(1, 0.8, (5, 7, 5, 7), e_b)]]
    frames += [[obj(0, 0.9, (0, 2, 0, 2), e_a)] for _ in range(4)]
    # frame 5: one detection slightly closer to B than to A
    mid = (e_a + e_b) / 2 + torch.tensor([0.0, 0.05] + [0.0] * (C - 2))
    frames.append([obj(1, 0.9, (3, 5, 3, 5), mid)])
    with_fw = run(IDOLTracker(), frames)
    without = run(IDOLTracker(frame_weight=False), frames)
    assert ids_of(with_fw[0]) == [0, 1]
    assert ids_of(with_fw[5]) == [0]  # A: 5 matched frames vs B: 1
    assert ids_of(without[5]) == [1]  # nearest in embedding space


# ----------------------------------------------------------------------
# candidate selection, duplicates, low scores
# ----------------------------------------------------------------------
def test_duplicates_are_suppressed():
    tracker = IDOLTracker()
    e = onehot(0)
    cell = (1, 5, 1, 5)
    cases = [
        # same box, same mask, same class: removed by the box NMS
        ([obj(0, 0.9, cell, e),
          obj(0, 0.88, cell, e * 1.01)], 1, 1),
        # same box, other class: kept by the class-aware box NMS,
        # removed by the mask NMS
        ([obj(0, 0.9, cell, e), obj(1, 0.88, cell, e)], 2, 1),
        # mask IoU 4/6 > 0.5, box IoU < 0.9: removed by the mask NMS
        ([obj(0, 0.9, (1, 6, 1, 5), e),
          obj(0, 0.88, (2, 7, 1, 5), e)], 2, 1),
        # control: mask IoU 2/6 < 0.5: both kept
        ([obj(0, 0.9, (1, 5, 1, 5), e),
          obj(0, 0.88, (3, 7, 1, 5), onehot(1))], 2, 2),
    ]
    for objs, after_box_nms, after_mask_nms in cases:
        tracker.reset()
        cls, bboxes, embeds, masks = make_frame(objs)
        assert tracker.select_candidates(cls, bboxes).numel() == after_box_nms
        out = tracker.track(0, cls, bboxes, embeds, masks, META)
        assert len(out) == after_mask_nms
        assert tracker.last_candidates.numel() == after_mask_nms
        assert out.scores[0] == pytest.approx(0.9, abs=1e-5)
        assert out.labels[0] == 0
        assert same_mask(out.masks[0], objs[0]['cell'])


def test_single_best_query_kept_when_none_passes():
    tracker = IDOLTracker()
    objs = [obj(1, 0.08, (1, 3, 1, 3), onehot(0))]
    cls, bboxes, embeds, masks = make_frame(objs)
    cand = tracker.select_candidates(cls, bboxes)
    assert cand.tolist() == [0]  # best query although below 0.1
    out = tracker.track(0, cls, bboxes, embeds, masks, META)
    assert len(out) == 0  # 0.08 < init_score_thr
    assert out.masks.shape == (0, 64, 64)
    assert tracker.empty


def test_low_scores_do_not_start_tracks():
    e = [onehot(i) for i in range(4)]
    tracker = IDOLTracker()
    # candidates (score > 0.1) below init_score_thr 0.2
    low = [
        obj(0, 0.15, (0, 3, 0, 3), e[0]),
        obj(0, 0.14, (2, 5, 0, 3), e[1]),  # mask IoU 1/5 with the first
        obj(0, 0.13, (5, 8, 5, 8), e[2]),  # isolated
    ]
    out = run(tracker, [low])[0]
    assert len(out) == 0 and tracker.empty
    # codes: -1 backdrop (isolated), -2 (overlaps a higher-ranked one)
    assert tracker.last_assignment.tolist() == [-1, -2, -1]

    # with a track in memory, addnew_score_thr decides: 0.25 starts a track
    # with the YTVIS value 0.2, not with the OVIS value 0.3
    frames = [[obj(0, 0.9, (0, 3, 0, 3), e[0])],
              [
                  obj(0, 0.9, (0, 3, 0, 3), e[0]),
                  obj(1, 0.25, (5, 8, 5, 8), e[1])
              ]]
    ytvis = run(IDOLTracker(addnew_score_thr=0.2), frames)
    ovis = run(
        MODELS.build(
            dict(type='IDOLTracker', nms_thr_pre=0.3, addnew_score_thr=0.3)),
        frames)
    assert ids_of(ytvis[1]) == [0, 1]
    assert ids_of(ovis[1]) == [0]


# ----------------------------------------------------------------------
# identities over time
# ----------------------------------------------------------------------
def test_crossing_lookalikes_keep_ids():
    g = torch.Generator().manual_seed(0)
    base = torch.randn(C, generator=g)
    base = 3 * base / base.norm()
    d = torch.randn(C, generator=g)
    d = d - (d @ base) / (base @ base) * base
    d = 0.7 * d / d.norm()
    e_a, e_b = base + d, base - d
    assert torch.cosine_similarity(e_a, e_b, 0) > 0.89  # look-alikes
    tracker = IDOLTracker()
    num = 12
    for t in range(num):
        # A moves left -> right on rows 1..5, B right -> left on rows 3..7;
        # at t = 5, 6 they overlap (mask IoU 1/3), then have swapped sides.
        ca = round(t * 5 / (num - 1))
        cell_a, cell_b = (1, 5, ca, ca + 3), (3, 7, 5 - ca, 8 - ca)
        s_a, s_b = (0.9, 0.8) if t % 2 == 0 else (0.8, 0.9)
        noise = 0.05 * torch.randn(2, C, generator=g)
        objs = [
            obj(0, s_a, cell_a, e_a + noise[0]),
            obj(0, s_b, cell_b, e_b + noise[1])
        ]
        if t == 0:
            tracker.reset()
        out = tracker.track(t, *make_frame(objs, perm_seed=t), META)
        assert sorted(ids_of(out)) == [0, 1], t
        by_id = dict(zip(ids_of(out), out.masks))
        assert same_mask(by_id[0], cell_a), t
        assert same_mask(by_id[1], cell_b), t
    assert rect(cell_a)[8:40, 40:].all()  # A ended on the right side
    assert tracker.num_tracks == 2


@pytest.mark.parametrize('absent,same_id', [(5, True), (9, True), (10, False),
                                            (12, False)])
def test_object_leaving_and_coming_back(absent, same_id):
    p = obj(2, 0.95, (5, 8, 5, 8), onehot(0))
    a = obj(0, 0.8, (0, 3, 0, 3), onehot(1))
    frames = [[p, a]] * 5 + [[p]] * absent + [[p, a]] * 2
    outs = run(IDOLTracker(), frames)
    assert ids_of(outs[0]) == [0, 1]
    assert all(ids_of(o) == [0] for o in outs[5:5 + absent])
    expected = 1 if same_id else 2
    assert ids_of(outs[-2]) == [0, expected]
    assert ids_of(outs[-1]) == [0, expected]


def test_new_object_gets_new_id():
    a = obj(0, 0.8, (0, 3, 0, 3), onehot(0))
    b = obj(0, 0.7, (5, 8, 0, 3), onehot(1))
    c = obj(1, 0.9, (0, 3, 5, 8), onehot(2))  # the best score of its frame
    outs = run(IDOLTracker(), [[a, b]] * 3 + [[a, b, c]] * 2)
    assert ids_of(outs[2]) == [0, 1]
    assert ids_of(outs[3]) == [2, 0, 1]
    assert ids_of(outs[4]) == [2, 0, 1]
    assert same_mask(outs[4].masks[0], c['cell'])


def test_max_tracks_evicts_stalest_then_lowest_score():
    e = [onehot(i) for i in range(6)]
    p = obj(2, 0.95, (6, 8, 6, 8), e[0])
    a = obj(0, 0.9, (0, 2, 0, 2), e[1])
    b = obj(0, 0.6, (0, 2, 3, 5), e[2])
    c = obj(1, 0.8, (3, 5, 0, 2), e[3])
    tracker = IDOLTracker(max_tracks=3)
    # frame 0: P=0, A=1, B=2 (full); frame 1: A, B gone, C arrives:
    # A and B are equally stale, B has the lower score -> B evicted.
    outs = run(tracker, [[p, a, b], [p, c]])
    assert ids_of(outs[1]) == [0, 3]
    assert sorted(tracker.tracks) == [0, 1, 3]
    assert tracker.num_evicted == 1
    # frame 2: D arrives, A (last seen at 0) is the stalest -> evicted
    d = obj(1, 0.7, (3, 5, 3, 5), e[4])
    out = tracker.track(2, *make_frame([p, c, d]), META)
    assert ids_of(out) == [0, 3, 4]
    assert sorted(tracker.tracks) == [0, 3, 4]
    # frame 3: A comes back but every live track is matched in this frame:
    # nothing can be evicted, A starts no track
    out = tracker.track(3, *make_frame([p, a, c, d]), META)
    assert ids_of(out) == [0, 3, 4]
    assert tracker.last_assignment.tolist() == [0, -1, 3, 4]
    assert tracker.memory_stats()['num_tracks'] == 3


# ----------------------------------------------------------------------
# video results
# ----------------------------------------------------------------------
def test_video_results_scores_and_segmentations():
    e = [onehot(i) for i in range(4)]
    d_cell, a_cell, b_cell, c_cell = ((5, 8, 5, 8), (0, 2, 0, 2), (0, 2, 5, 8),
                                      (3, 5, 0, 3))
    d = dict(probs=[0.02, 0.03, 0.95], cell=d_cell, embed=e[0])
    a_probs = [[0.9, 0.08, 0.01], [0.7, 0.04, 0.02]]
    b = dict(probs=[0.2, 0.85, 0.01], cell=b_cell, embed=e[2])
    c = dict(probs=[0.3, 0.6, 0.01], cell=c_cell, embed=e[3])
    a_frames = [0, 1, 2, 3, 4, 5, 8, 9, 10]
    frames, a_seen = [], []
    for t in range(11):
        objs = [d]
        if t in a_frames:
            probs = a_probs[len(a_seen) % 2]
            a_seen.append(probs)
            objs.append(dict(probs=probs, cell=a_cell, embed=e[1]))
        if t in (0, 1):
            objs.append(b)  # matched twice only: dropped from frame 9 on
        if t == 10:
            objs.append(c)
        frames.append(objs)
    tracker = IDOLTracker()
    outs = run(tracker, frames)
    assert ids_of(outs[0]) == [0, 1, 2]  # D, A, B by score
    assert ids_of(outs[10]) == [0, 1, 3]  # D, A, C
    assert sorted(tracker.video_tracks) == [0, 1, 3]  # B removed
    results = tracker.video_results()
    a_mean = torch.tensor(a_seen, dtype=torch.float64).mean(0)
    expected = [(2, 0.95), (0, float(a_mean[0])), (1, float(a_mean[1])),
                (0, 0.3), (1, 0.6)]
    assert [(r['label'], pytest.approx(r['score'], abs=1e-5))
            for r in results] == expected
    assert a_mean[1] > 0.05 and a_mean[2] < 0.05
    for r in results:
        assert len(r['segmentations']) == 11
        assert all(
            isinstance(s['counts'], str) for s in r['segmentations'] if s)
    segs = {
        'd': results[0]['segmentations'],
        'a': results[1]['segmentations'],
        'c': results[3]['segmentations']
    }
    assert results[2]['segmentations'] == segs['a']
    for t in range(11):
        assert same_mask(
            torch.from_numpy(mask_util.decode(segs['d'][t])).bool(), d_cell)
        if t in a_frames:
            assert same_mask(
                torch.from_numpy(mask_util.decode(segs['a'][t])).bool(),
                a_cell)
        else:
            assert segs['a'][t] is None
        assert (segs['c'][t] is None) == (t != 10)

    single = IDOLTracker(multi_cls=False)
    run(single, frames)
    assert [r['label'] for r in single.video_results()] == [2, 0, 1]


def test_mask_crop_and_resize_to_original():
    meta = dict(img_shape=(28, 32), pad_shape=(32, 32), ori_shape=(56, 64))
    cell = (6, 8, 2, 4)  # input rows 24..32, cropped to 24..28
    tracker = IDOLTracker()
    out = tracker.track(0, *make_frame([obj(0, 0.9, cell, onehot(0))]), meta)
    expected = torch.zeros(56, 64, dtype=torch.bool)
    expected[48:56, 16:32] = True
    assert out.masks.shape == (1, 56, 64)
    # nothing outside; inside, at most the two top corners (2x2 each) cut
    assert not (out.masks[0] & ~expected).any()
    assert int((expected & ~out.masks[0]).sum()) <= 8
    bad = dict(img_shape=(40, 32), ori_shape=(40, 32))
    with pytest.raises(ValueError, match='frame 1'):
        tracker.track(1, *make_frame([obj(0, 0.9, cell, onehot(0))]), bad)


def test_masks_upsampled_only_for_output_tracks(monkeypatch):
    tracker = IDOLTracker()
    sizes = []
    orig = tracker.postprocess_masks

    def spy(mask_logits, img_meta, frame_id=-1):
        sizes.append(mask_logits.size(0))
        return orig(mask_logits, img_meta, frame_id)

    monkeypatch.setattr(tracker, 'postprocess_masks', spy)
    objs = [
        obj(0, 0.9, (0, 3, 0, 3), onehot(0)),
        obj(0, 0.15, (5, 8, 5, 8), onehot(1))
    ]
    out = tracker.track(0, *make_frame(objs, num_bg=20), META)
    assert len(out) == 1 and sizes == [1]


def test_bad_inputs_name_the_frame():
    tracker = IDOLTracker()
    cls, bboxes, embeds, masks = make_frame(
        [obj(0, 0.9, (0, 2, 0, 2), onehot(0))])
    with pytest.raises(ValueError, match='frame 3.*expected frame index 0'):
        tracker.track(3, cls, bboxes, embeds, masks, META)
    with pytest.raises(ValueError, match='frame 0: embeds'):
        tracker.track(0, cls, bboxes, embeds[:2], masks, META)
    tracker.track(0, cls, bboxes, embeds, masks, META)
    with pytest.raises(ValueError, match='frame 1: cls_logits has 2'):
        tracker.track(1, cls[:, :2], bboxes, embeds, masks, META)
    with pytest.raises(ValueError, match='max_tracks'):
        IDOLTracker(max_tracks=0)


# ----------------------------------------------------------------------
# bounded memory over a long stream
# ----------------------------------------------------------------------
def stream(num_frames, seed=0, dim=32):
    """Objects coming and going: yields the object list of every frame."""
    rng = random.Random(seed)
    g = torch.Generator().manual_seed(seed)
    live = []  # [death frame, obj]
    for t in range(num_frames):
        live = [x for x in live if x[0] > t]
        if len(live) < 6 and rng.random() < 0.3:
            e = torch.randn(dim, generator=g)
            r, c = rng.randrange(0, 6), rng.randrange(0, 6)
            o = dict(
                probs=[rng.uniform(0.3, 0.95), 0.02, 0.02],
                cell=(r, r + 2, c, c + 2),
                embed=4 * e / e.norm())
            live.append([t + rng.randrange(3, 40), o])
        yield [x[1] for x in live]


def run_stream(tracker, num_frames, probe_frames=(), max_tracks=8):
    """Run the stream; return {frame: (traced bytes, gc objects)}."""
    tracker.reset()
    probes = {}
    for t, objs in enumerate(stream(num_frames)):
        frame = make_frame(objs, num_bg=2, dim=32)
        tracker.track(t, *frame, META)
        stats = tracker.memory_stats()
        assert stats['num_tracks'] <= max_tracks
        assert stats['max_memory'] <= tracker.memory_len
        for tr in tracker.tracks.values():
            assert len(tr['scores']) <= tracker.memory_len
            # each stored embedding owns its storage (not a view of (N, C))
            assert all(e.untyped_storage().nbytes() == e.numel() * 4
                       for e in tr['embeds'])
        if t + 1 in probe_frames:
            gc.collect()
            probes[t + 1] = (tracemalloc.get_traced_memory()[0],
                             len(gc.get_objects()))
    return probes


def test_memory_bounded_over_2000_frames():
    tracker = IDOLTracker(max_tracks=8, keep_video_results=False)
    tracemalloc.start()
    try:
        probes = run_stream(tracker, 2000, probe_frames=(200, 2000))
    finally:
        tracemalloc.stop()
    stats = tracker.memory_stats()
    assert stats['num_frames'] == 2000
    assert stats['num_video_tracks'] == 0 and stats['num_video_masks'] == 0
    assert tracker.video_results() == []
    assert tracker.num_tracks > 100  # many objects came and went
    assert tracker.num_evicted > 0  # the cap was exercised
    (mem200, obj200), (mem2000, obj2000) = probes[200], probes[2000]
    print(f'\nkeep_video_results=False: traced {mem200} B / {obj200} objs '
          f'at frame 200, {mem2000} B / {obj2000} objs at frame 2000')
    assert mem2000 - mem200 < GROWTH_BYTES
    assert obj2000 - obj200 < 200


def test_video_store_is_what_grows():
    """The same probes see the RLE store grow when it is kept."""
    tracker = IDOLTracker(max_tracks=8, keep_video_results=True)
    tracemalloc.start()
    try:
        probes = run_stream(tracker, 400, probe_frames=(100, 400))
    finally:
        tracemalloc.stop()
    stats = tracker.memory_stats()
    assert stats['num_video_masks'] > 500
    mem100, mem400 = probes[100][0], probes[400][0]
    print(f'\nkeep_video_results=True: traced {mem100} B at frame 100, '
          f'{mem400} B at frame 400, {stats["num_video_masks"]} RLEs')
    assert mem400 - mem100 > GROWTH_BYTES
    results = tracker.video_results()
    assert results and all(len(r['segmentations']) == 400 for r in results)
