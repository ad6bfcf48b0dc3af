# Copyright (c) mmookd authors. All rights reserved.
"""The teacher's VITA-style criterion (absent frames, video-level cost over
all frames, similarity loss), its mask boxes and the teacher side of QFA,
on hand-built cases."""
import math

import pytest
import torch
from mmdet.structures import DetDataSample, TrackDataSample
from mmengine.optim import build_optim_wrapper
from mmengine.structures import InstanceData

from mmookd.models.dense_heads.offline_teacher_head import mask_boxes
from mmookd.models.losses import VideoSimilarityLoss
from mmookd.models.task_modules import (QFAAssigner, VideoHungarianAssigner,
                                        check_pick_filter, filter_picks,
                                        teacher_frame_picks)
from mmookd.models.task_modules.reference_paths import smooth_reference_path
from .test_offline_teacher import build_teacher, make_clip, preprocess


# ----------------------------------------------------------------------
# similarity loss
# ----------------------------------------------------------------------
def test_similarity_loss_worked_example():
    loss = VideoSimilarityLoss(loss_weight=1.0)
    embeds = torch.tensor([[1., 0.], [1., 0.], [0., 1.]])
    value = loss(embeds, torch.tensor([7, 7, 9]))
    expect = (5 * math.log(1 + math.exp(-1)) + 4 * math.log(2)) / 9
    assert float(value) == pytest.approx(expect, rel=1e-6)
    # pairs of different clips are left out: two one-element clips leave
    # only the diagonals, BCE(1, 1) twice
    two = loss(embeds[:2], torch.tensor([7, 7]), torch.tensor([0, 1]))
    assert float(two) == pytest.approx(math.log(1 + math.exp(-1)))
    assert float(loss(embeds[:0], torch.tensor([], dtype=torch.long))) == 0
    # VITA's weight by default
    assert VideoSimilarityLoss().loss_weight == 0.5


def test_similarity_loss_prefers_separated_instances():
    loss = VideoSimilarityLoss(loss_weight=1.0)
    ids = torch.tensor([1, 1, 2, 2])
    apart = torch.tensor([[3., 0.], [3., 0.], [0., 3.], [0., 3.]])
    mixed = torch.tensor([[3., 0.], [0., 3.], [3., 0.], [0., 3.]])
    assert float(loss(apart, ids)) < float(loss(mixed, ids))


# ----------------------------------------------------------------------
# video-level matching over all frames
# ----------------------------------------------------------------------
def test_mask_cost_over_all_frames_punishes_masks_where_the_track_is_absent():
    """Track g is in frame 0 only. Query 0 paints it in both frames, query 1
    only in frame 0: over present frames they tie (query 0 wins the tie by
    index), over all frames (VITA) query 1 wins."""
    gt = torch.zeros(2, 1, 4, 4)
    gt[0, 0, :2, :2] = 1
    big = 20.0
    logits = torch.full((2, 2, 4, 4), -big)
    logits[0, :, :2, :2] = big
    logits[1, 0, :2, :2] = big  # query 0 also in the absent frame
    present = torch.tensor([[True], [False]])
    boxes = torch.zeros(2, 2, 4)
    gt_boxes = torch.zeros(2, 1, 4)
    metas = [dict(img_shape=(4, 4))] * 2
    kwargs = dict(cls_cost=None, bbox_cost=None, iou_cost=None)
    all_frames = VideoHungarianAssigner(mask_frames='all', **kwargs)
    cost = all_frames.compute_cost(
        torch.zeros(2, 3), boxes, torch.tensor([0]), gt_boxes, present, metas,
        logits, gt)
    assert cost[1, 0] < cost[0, 0] - 1.0
    assert all_frames.match(cost)[0].tolist() == [1]
    present_only = VideoHungarianAssigner(mask_frames='present', **kwargs)
    cost = present_only.compute_cost(
        torch.zeros(2, 3), boxes, torch.tensor([0]), gt_boxes, present, metas,
        logits, gt)
    assert cost[0, 0] == pytest.approx(float(cost[1, 0]), abs=1e-6)
    with pytest.raises(ValueError, match='mask_frames'):
        VideoHungarianAssigner(mask_frames='some')


# ----------------------------------------------------------------------
# absent-frame supervision and the similarity loss in the teacher
# ----------------------------------------------------------------------
class _Recorder(torch.nn.Module):
    """Wraps a loss module and records its targets and avg_factor."""

    def __init__(self, loss):
        super().__init__()
        self.loss, self.calls = loss, []

    def forward(self, pred, target, avg_factor=None, **kwargs):
        self.calls.append((target.detach().clone(), avg_factor))
        return self.loss(pred, target, avg_factor=avg_factor, **kwargs)


@pytest.mark.parametrize('absent_frames', [True, False])
def test_every_frame_of_a_matched_track_is_supervised(absent_frames):
    """Track 7 is in frames 0 and 1 of 4: with absent_frames its masks are
    supervised in all 4 frames (all-zero targets in frames 2 and 3), its
    boxes in 2; without, masks and boxes only where present."""
    model = build_teacher(video_head=dict(absent_frames=absent_frames))
    head = model.video_head
    dice = head.loss_dice = _Recorder(head.loss_dice)
    l1 = head.loss_bbox = _Recorder(head.loss_bbox)
    data = preprocess(model, [make_clip(present7=(0, 1))])
    model.loss(**data)
    targets, avg = dice.calls[-1]  # the last decoder layer
    box_targets, box_avg = l1.calls[-1]
    # track 5 in 4 frames + track 7 in 2 frames = 6 boxes
    assert box_avg == 6 and box_targets.size(0) == 6
    if absent_frames:
        assert avg == 8 and targets.size(0) == 8
        empty = (targets.flatten(1).sum(1) == 0).sum()
        assert int(empty) == 2  # track 7 in frames 2 and 3
    else:
        assert avg == 6 and (targets.flatten(1).sum(1) > 0).all()


@pytest.mark.parametrize('space', ['distilled', 'vita'])
def test_similarity_loss_trains_the_aggregator(space):
    model = build_teacher(video_head=dict(sim_space=space))
    model.train()
    data = preprocess(model, [make_clip(), make_clip(present7=(2, 3))])
    losses = model.loss(**data)
    assert torch.isfinite(losses['loss_sim']) and losses['loss_sim'] > 0
    losses['loss_sim'].backward()
    agg_grads = [p.grad for p in model.aggregator.parameters()]
    assert any(g is not None and g.abs().sum() > 0 for g in agg_grads)
    assert all(p.grad is None for p in model.base.parameters())
    optim = build_optim_wrapper(
        model,
        dict(
            type='OptimWrapper',
            constructor='TrainableOptimWrapperConstructor',
            optimizer=dict(type='AdamW', lr=1e-3)))
    in_optim = {
        id(p)
        for g in optim.optimizer.param_groups
        for p in g['params']
    }
    sim_params = {
        id(p)
        for n, p in model.video_head.named_parameters() if 'sim_embed' in n
    }
    if space == 'vita':  # VITA's own similarity heads train too
        assert sim_params and sim_params <= in_optim
    else:  # f^off = the frozen embed head on the video queries
        assert not sim_params
    assert build_teacher(video_head=dict(sim_space=None)).loss(
        **data).keys().isdisjoint({'loss_sim'})


# ----------------------------------------------------------------------
# mask boxes
# ----------------------------------------------------------------------
def test_mask_boxes_of_binarised_stride4_masks():
    logits = torch.full((3, 8, 8), -1.0)
    logits[0, 2:4, 1:6] = 1.0  # rows 2-3, columns 1-5
    logits[2, 7, 7] = 1.0  # a corner cell, clipped to the input
    boxes, valid = mask_boxes(logits, (30, 29))
    assert valid.tolist() == [True, False, True]
    assert boxes[0].tolist() == [4., 8., 24., 16.]
    assert boxes[1].tolist() == [0., 0., 0., 0.]
    # cell 7 spans [28, 32) but the input is only 29 wide and 30 high;
    # the padded rows/cols beyond ceil(30/4) = 8 are cut first
    assert boxes[2].tolist() == [28., 28., 29., 30.]


# ----------------------------------------------------------------------
# the teacher's QFA: per frame or per track
# ----------------------------------------------------------------------
def _clip(frames):
    """frames: list of (ids, boxes) per frame, label 0 for all."""
    samples = []
    for t, (ids, boxes) in enumerate(frames):
        sample = DetDataSample(
            metainfo=dict(img_shape=(100, 100), frame_id=t, video_id=1))
        sample.gt_instances = InstanceData(
            labels=torch.zeros(len(ids), dtype=torch.long),
            bboxes=torch.tensor(boxes, dtype=torch.float).reshape(-1, 4),
            instances_ids=torch.tensor(ids, dtype=torch.long))
        samples.append(sample)
    return TrackDataSample(video_data_samples=samples)


def test_track_matching_keeps_one_query_per_instance():
    """Two look-alike instances; in frame 1 query 1's box is marginally
    closer to instance a than query 0's. Per frame, argmin gives both GTs
    query 1 in frame 1 (a collision) and a switches queries; per track,
    each instance keeps the query that fits it over the clip."""
    a = [[10., 10., 30., 30.], [12., 10., 32., 30.]]
    b = [[60., 60., 80., 80.], [14., 10., 34., 30.]]  # b crosses a
    clip = _clip([([1, 2], [a[0], b[0]]), ([1, 2], [a[1], b[1]])])
    ref = torch.tensor([
        [a[0], b[0]],
        [[10., 10., 30., 30.], [13., 10., 33., 30.]],
    ])
    out = dict(
        cls_logits=torch.zeros(2, 1),
        bboxes=ref,
        mask_bboxes=ref,
        mask_valid=torch.ones(2, 2, dtype=torch.bool),
        valid=None)
    argmin = QFAAssigner(match='argmin')
    frame = teacher_frame_picks(out, clip, argmin, match='frame')
    assert [p.tolist() for p in frame] == [[0, 1], [1, 1]]
    track_assigner = VideoHungarianAssigner(
        cls_cost=None, mask_cost=None, dice_cost=None)
    track = teacher_frame_picks(
        out, clip, argmin, match='track', track_assigner=track_assigner)
    assert [p.tolist() for p in track] == [[0, 1], [0, 1]]
    with pytest.raises(ValueError, match='teacher_match'):
        teacher_frame_picks(out, clip, argmin, match='video')


def test_pick_filter_keeps_only_picks_that_localise_and_classify():
    """Frame 0: GT 1's pick overlaps it fully, GT 2's pick by IoU 1/3 (too
    little at 0.5). Frame 1: both picks fit their boxes, but query 1's top
    class is wrong for GT 2, and in frame 2 query 0's mask is empty."""
    g1, g2 = [0., 0., 20., 20.], [50., 50., 70., 70.]
    clip = _clip([([1, 2], [g1, g2])] * 3)
    clip[1].gt_instances.labels = torch.tensor([0, 1])
    boxes = torch.tensor([
        [g1, [50., 50., 70., 110.]],  # query 1 at IoU 400 / 1200
        [g1, g2],
        [g1, g2],
    ])
    out = dict(
        cls_logits=torch.tensor([[2., 0.], [3., 1.]]),  # both top class 0
        bboxes=boxes,
        mask_bboxes=boxes,
        mask_valid=torch.tensor([[True, True], [True, True], [False, True]]))
    picks = [torch.tensor([0, 1])] * 3
    kept = filter_picks(picks, out, clip, 'mask', min_iou=0.5)
    assert [k.tolist() for k in kept] == [[0, -1], [0, -1], [-1, 1]]
    # a lower IoU bar keeps frame 0's second pick; without the class test
    # frame 1 keeps both; reference boxes ignore the empty mask
    loose = filter_picks(picks, out, clip, 'reference', min_iou=0.3,
                         right_class=False)
    assert [k.tolist() for k in loose] == [[0, 1], [0, 1], [0, 1]]
    # GTs without a pick stay without one; the input is not modified
    none = filter_picks([torch.tensor([-1, 1])] * 3, out, clip, 'mask')
    assert [k.tolist() for k in none] == [[-1, -1], [-1, -1], [-1, 1]]
    assert picks[0].tolist() == [0, 1]


def test_pick_filter_config_is_checked_and_completed():
    assert check_pick_filter(None) is None
    assert check_pick_filter({}) == dict(min_iou=0.5, right_class=True)
    assert check_pick_filter(dict(min_iou=0.7)) == dict(
        min_iou=0.7, right_class=True)
    with pytest.raises(KeyError, match='min_ioU'):
        check_pick_filter(dict(min_ioU=0.5))
    with pytest.raises(ValueError, match='min_iou'):
        check_pick_filter(dict(min_iou=1.5))


def test_hard_references_pick_the_most_similar_frame_query():
    model = build_teacher(
        reference_cfg=dict(space='query', temperature=1.0, hard=True))
    head = model.video_head
    dims = head.idol.embed_dims
    frame_queries = torch.zeros(1, 1, 3, dims)
    for n in range(3):
        frame_queries[0, 0, n, n] = 1.0
    refs = torch.tensor([[[[.1, .1, .2, .2], [.5, .5, .2, .2],
                           [.9, .9, .1, .1]]]])
    state = dict(queries=frame_queries, references=refs)
    video = torch.zeros(1, 1, dims, requires_grad=True)
    with torch.no_grad():
        video[0, 0, 1] = 0.6  # closest to frame query 1, softly
    out = head.references(video, state)
    assert torch.allclose(out[0, 0, 0], refs[0, 0, 1])
    out.sum().backward()  # straight-through: the soft weights' gradient
    assert video.grad is not None and video.grad.abs().sum() > 0


def test_hard_references_only_at_test_time():
    model = build_teacher(
        reference_cfg=dict(space='query', temperature=1.0, hard='test'))
    head = model.video_head
    dims = head.idol.embed_dims
    frame_queries = torch.eye(3, dims)[None, None]
    refs = torch.tensor([[[[.1, .1, .2, .2], [.5, .5, .2, .2],
                           [.9, .9, .1, .1]]]])
    state = dict(queries=frame_queries, references=refs)
    video = torch.zeros(1, 1, dims)
    video[0, 0, 1] = 0.6
    model.train()
    soft = head.references(video, state)
    assert not torch.allclose(soft[0, 0, 0], refs[0, 0, 1])
    model.eval()
    hard = head.references(video, state)
    assert torch.allclose(hard[0, 0, 0], refs[0, 0, 1])
    with pytest.raises(ValueError, match='hard'):
        build_teacher(reference_cfg=dict(hard='sometimes'))


# ----------------------------------------------------------------------
# smoothed hard references (a path over the whole clip)
# ----------------------------------------------------------------------
def _two_instance_case():
    """3 frames, 2 frame queries per frame. Instance A is frame query 0 in
    frames 0 and 2 but frame query 1 in frame 1 (the embeddings say so);
    the video query's similarity prefers query 0 in every frame, by a
    little in frame 1."""
    a, b = torch.tensor([1., 0.]), torch.tensor([0., 1.])
    embeds = torch.stack([
        torch.stack([a, b]),
        torch.stack([b, a]),  # frame 1: the two queries swap instances
        torch.stack([a, b]),
    ])[None]  # (1, 3, 2, 2)
    weights = torch.tensor([[0.9, 0.1], [0.55, 0.45], [0.9, 0.1]])
    return weights.log()[None, :, None], embeds  # (1, 3, 1, 2)


def test_smooth_path_keeps_the_instance_the_embeddings_follow():
    log_w, embeds = _two_instance_case()
    # lam = 0: the per-frame argmax, which jumps to instance B in frame 1
    assert smooth_reference_path(log_w, embeds, 0.0)[0, :, 0].tolist() == [
        0, 0, 0
    ]
    # following instance A into frame query 1 costs log .55 - log .45 =
    # 0.2 of similarity and gains 2 * lam of continuity (cos 1 instead of
    # 0, twice): not worth it at lam = 0.01, worth it at lam = 1
    assert smooth_reference_path(log_w, embeds, 0.01)[0, :, 0].tolist() == [
        0, 0, 0
    ]
    assert smooth_reference_path(log_w, embeds, 1.0)[0, :, 0].tolist() == [
        0, 1, 0
    ]


def test_smooth_path_is_the_best_scoring_path():
    """Against brute force over every path, random inputs."""
    import itertools
    torch.manual_seed(0)
    log_w = torch.randn(2, 4, 3, 3).log_softmax(-1)
    embeds = torch.randn(2, 4, 3, 5)
    lam = 0.7
    path = smooth_reference_path(log_w, embeds, lam)
    assert path.shape == (2, 4, 3)
    unit = torch.nn.functional.normalize(embeds, dim=-1)

    def score(b, v, seq):
        total = sum(float(log_w[b, t, v, n]) for t, n in enumerate(seq))
        return total + lam * sum(
            float(unit[b, t - 1, seq[t - 1]] @ unit[b, t, seq[t]])
            for t in range(1, len(seq)))

    for b in range(2):
        for v in range(3):
            best = max(
                itertools.product(range(3), repeat=4),
                key=lambda seq: score(b, v, seq))
            assert path[b, :, v].tolist() == list(best)


def test_head_smooth_references_only_in_eval_mode():
    model = build_teacher(
        reference_cfg=dict(space='query', temperature=1.0, hard='test',
                           smooth=1.0))
    head = model.video_head
    assert head.needs_frame_embeds
    dims = head.idol.embed_dims
    _, embeds = _two_instance_case()
    # one-hot frame queries: the video query's logits are its first two
    # channels, (0.2, 0) in every frame, softmax (.55, .45) as in the case
    frame_queries = torch.eye(2, dims).expand(1, 3, 2, dims).clone()
    refs = torch.tensor([[.1, .1, .2, .2], [.8, .8, .2, .2]])
    refs = refs.expand(1, 3, 2, 4).clone()
    state = dict(queries=frame_queries, references=refs, embeds=embeds)
    video = torch.zeros(1, 1, dims)
    video[0, 0, 0] = 0.2
    model.eval()
    out = head.references(video, state)
    # frame 1: staying with instance A (frame query 1) beats the small
    # similarity gain of frame query 0
    expect = torch.stack([refs[0, 0, 0], refs[0, 1, 1], refs[0, 2, 0]])
    assert torch.allclose(out[0, :, 0], expect)
    # a chunk of frames gets the same path (chosen over the whole clip)
    assert torch.allclose(
        head.references(video, state, slice(1, 2))[0, 0, 0], refs[0, 1, 1])
    model.train()
    soft = head.references(video, state)
    assert not torch.allclose(soft[0, 1, 0], refs[0, 1, 1])
    with pytest.raises(ValueError, match='smooth'):
        build_teacher(reference_cfg=dict(smooth=-1))
