# Copyright (c) mmookd authors. All rights reserved.
"""OfflineTeacher (frozen IDOL + VideoQueryAggregator) and the video-level
Hungarian assigner, on tiny models and hand-built clips."""
import glob
import hashlib
import json
import logging
import os.path as osp
import weakref

import numpy as np
import pytest
import torch
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample, TrackDataSample
from mmdet.structures.mask import BitmapMasks
from mmdet.utils import register_all_modules
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.optim import build_optim_wrapper
from mmengine.runner.checkpoint import (load_checkpoint, save_checkpoint,
                                        weights_to_cpu)
from mmengine.structures import InstanceData
from torch.utils._python_dispatch import TorchDispatchMode

import mmookd.models.trackers.idol_tracker  # noqa: F401
from mmookd.models.task_modules.video_hungarian_assigner import \
    VideoHungarianAssigner
from mmookd.models.vis.offline_teacher import INVALID_LOGIT, OfflineTeacher
from mmookd.testing import tiny_idol_cfg as _tiny_idol_cfg

register_all_modules()

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DIMS = 16
NUM_QUERIES = 8
NUM_CLASSES = 3


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny inputs on a shared 2-core box: one thread."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(autouse=True)
def _quiet_logger():
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.ERROR)  # init_weights logs every parameter
    yield
    logger.setLevel(level)


def tiny_idol_cfg(num_layers=2, tracker=True):
    """An IDOL of ResNet-18 (width 8), 16-d transformer, 8 queries."""
    return _tiny_idol_cfg(
        dims=DIMS,
        base_channels=8,
        num_queries=NUM_QUERIES,
        num_classes=NUM_CLASSES,
        enc_layers=1,
        dec_layers=num_layers,
        tracker=dict(type='IDOLTracker') if tracker else None,
        test_cfg=dict(max_per_img=5))


def teacher_cfg(mode='attention', num_video_queries=5, **kwargs):
    aggregator = dict(
        type='VideoQueryAggregator',
        mode=mode,
        embed_dims=DIMS,
        num_frame_queries=NUM_QUERIES,
        num_video_queries=num_video_queries,
        num_enc_layers=2,
        num_dec_layers=2,
        num_heads=4,
        ffn_dims=32,
        window_size=6)
    cfg = dict(
        type='OfflineTeacher',
        base=tiny_idol_cfg(num_layers=kwargs.pop('num_layers', 2)),
        aggregator=aggregator)
    cfg.update(kwargs)
    return cfg


def build_teacher(seed=0, **kwargs):
    torch.manual_seed(seed)
    model = MODELS.build(teacher_cfg(**kwargs))
    model.init_weights()
    return model


def save_base_checkpoint(path, seed=0):
    """A stage-1 IDOL checkpoint the way the Runner writes one."""
    torch.manual_seed(seed)
    idol = MODELS.build(tiny_idol_cfg())
    idol.init_weights()
    save_checkpoint(
        dict(meta=dict(), state_dict=weights_to_cpu(idol.state_dict())),
        str(path))
    return str(path)


# Two rectangles moving right; instance 7 leaves after frame 1.
def _boxes(t):
    return {5: (4 + 2 * t, 6, 26 + 2 * t, 30), 7: (34, 30 + t, 58, 56 + t)}


def make_clip(num_frames=4, size=64, present7=(0, 1), video_id=3):
    """uint8 frames (T, 3, H, W) + a TrackDataSample with GT tracks 5, 7."""
    imgs = torch.zeros(num_frames, 3, size, size, dtype=torch.uint8)
    samples = []
    for t in range(num_frames):
        ids = [5] + ([7] if t in present7 else [])
        boxes = [_boxes(t)[i] for i in ids]
        masks = np.zeros((len(ids), size, size), np.uint8)
        for k, (x1, y1, x2, y2) in enumerate(boxes):
            masks[k, y1:y2, x1:x2] = 1
            imgs[t, k, y1:y2, x1:x2] = 220
        sample = DetDataSample(
            metainfo=dict(
                img_shape=(size, size),
                ori_shape=(size, size),
                scale_factor=(1.0, 1.0),
                frame_id=t,
                video_id=video_id,
                img_id=100 * video_id + t,
                ori_video_length=num_frames))
        sample.gt_instances = InstanceData(
            bboxes=torch.tensor(boxes, dtype=torch.float),
            labels=torch.tensor([0, 2][:len(ids)]),
            masks=BitmapMasks(masks, size, size),
            instances_ids=torch.tensor(ids))
        samples.append(sample)
    return imgs, TrackDataSample(video_data_samples=samples)


def preprocess(model, clips, training=True):
    data = dict(
        inputs=[c[0] for c in clips], data_samples=[c[1] for c in clips])
    return model.data_preprocessor(data, training)


# ----------------------------------------------------------------------
# video-level Hungarian assigner
# ----------------------------------------------------------------------
def l1_assigner(reduction='mean'):
    return VideoHungarianAssigner(
        cls_cost=None,
        bbox_cost=dict(type='BBoxL1Cost', weight=1.0, box_format='xywh'),
        iou_cost=None,
        mask_cost=None,
        dice_cost=None,
        frame_reduction=reduction)


def worked_example():
    """The docstring example: T = 2, 3 queries, tracks a and b."""
    a, b = [0., 0., .5, .5], [.5, .5, 1., 1.]
    q1 = [0., 0., .4, .5]
    bboxes = torch.tensor([[a, q1, b], [b, q1, a]])  # (T, Nv, 4)
    gt_bboxes = torch.tensor([[a, b], [a, [0., 0., 0., 0.]]])
    present = torch.tensor([[True, True], [True, False]])
    metas = [dict(img_shape=(1, 1))] * 2
    return bboxes, gt_bboxes, present, metas


def test_assigner_worked_example():
    bboxes, gt_bboxes, present, metas = worked_example()
    assigner = l1_assigner()
    labels = torch.tensor([0, 1])
    cost = assigner.compute_cost(
        torch.zeros(3, 2), bboxes, labels, gt_bboxes, present, metas)
    expected = torch.tensor([[0.5, 1.0], [0.15, 1.15], [0.5, 0.0]])
    assert torch.allclose(cost, expected, atol=1e-6)
    query_inds, gt_inds = assigner.assign(
        torch.zeros(3, 2), bboxes, labels, gt_bboxes, present, metas)
    assert query_inds.tolist() == [1, 2] and gt_inds.tolist() == [0, 1]
    # frame by frame the best queries for a differ (0, then 2)
    assert cost.new_tensor([0., 1., 1.]).argmin() == 0
    # 'sum' weighs a (2 frames) twice: a -> q1 (0.3) + b -> q2 (0)
    cost_sum = l1_assigner('sum').compute_cost(
        torch.zeros(3, 2), bboxes, labels, gt_bboxes, present, metas)
    assert torch.allclose(cost_sum[:, 0], torch.tensor([1.0, 0.3, 1.0]))
    assert torch.allclose(cost_sum[:, 1], expected[:, 1])


def test_assigner_absent_frames_cost_nothing():
    bboxes, gt_bboxes, present, metas = worked_example()
    assigner = l1_assigner()
    labels = torch.tensor([0, 1])
    base = assigner.compute_cost(
        torch.zeros(3, 2), bboxes, labels, gt_bboxes, present, metas)
    moved = bboxes.clone()
    moved[1] = torch.rand(3, 4) * 0.2  # any boxes in frame 1
    gt_moved = gt_bboxes.clone()
    gt_moved[1, 1] = torch.tensor([.9, .9, 1., 1.])  # b is absent there
    cost = assigner.compute_cost(
        torch.zeros(3, 2), moved, labels, gt_moved, present, metas)
    assert torch.allclose(cost[:, 1], base[:, 1])


def test_assigner_full_costs_and_more_tracks_than_queries():
    assigner = VideoHungarianAssigner()  # class, L1, GIoU, mask, dice
    size = 16
    gt_masks = torch.zeros(2, 3, size, size)
    gt_masks[:, 0, :8, :8] = 1
    gt_masks[:, 1, 8:, 8:] = 1
    gt_masks[:, 2, :8, 8:] = 1
    gt_bboxes = torch.tensor([[0., 0., 8., 8.], [8., 8., 16., 16.],
                              [8., 0., 16., 8.]]).expand(2, 3, 4)
    labels = torch.tensor([0, 1, 2])
    # query 0 = track 1, query 1 = track 0 (boxes, masks and classes)
    bboxes = gt_bboxes[:, [1, 0]].clone()
    mask_logits = (gt_masks[:, [1, 0]] * 2 - 1) * 10
    cls_logits = torch.full((2, 3), -5.)
    cls_logits[0, 1] = cls_logits[1, 0] = 5.
    present = torch.ones(2, 3, dtype=torch.bool)
    metas = [dict(img_shape=(size, size))] * 2
    query_inds, gt_inds = assigner.assign(cls_logits, bboxes, labels,
                                          gt_bboxes, present, metas,
                                          mask_logits, gt_masks)
    # two queries for three tracks: track 2 is left out
    assert gt_inds.tolist() == [0, 1] and query_inds.tolist() == [1, 0]
    with pytest.raises(ValueError, match='present in no frame'):
        assigner.assign(cls_logits, bboxes, labels, gt_bboxes,
                        torch.zeros(2, 3, dtype=torch.bool), metas)
    with pytest.raises(ValueError, match='gt_bboxes'):
        assigner.assign(cls_logits, bboxes, labels, gt_bboxes[:1], present,
                        metas)


# ----------------------------------------------------------------------
# frozen base, training, checkpoints
# ----------------------------------------------------------------------
def test_training_step_changes_only_the_aggregator():
    model = build_teacher()
    model.train()
    assert not model.base.training
    assert all(not m.training for m in model.base.modules())
    assert model.aggregator.training
    base_state = {
        k: v.clone()
        for k, v in model.base.state_dict(keep_vars=False).items()
    }
    agg_state = {
        k: v.clone()
        for k, v in model.aggregator.state_dict().items()
    }
    optim = build_optim_wrapper(
        model,
        dict(
            type='OptimWrapper',
            constructor='TrainableOptimWrapperConstructor',
            optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05),
            clip_grad=dict(max_norm=0.1),
            paramwise_cfg=dict(norm_decay_mult=0.0)))
    in_optim = {
        id(p)
        for group in optim.optimizer.param_groups
        for p in group['params']
    }
    assert in_optim == {id(p) for p in model.aggregator.parameters()}
    data = preprocess(model, [make_clip(), make_clip(present7=(2, 3))])
    losses = model(**data, mode='loss')
    names = ['loss_cls', 'loss_bbox', 'loss_iou', 'loss_mask', 'loss_dice']
    assert set(losses) == set(names) | {f'd0.{n}'
                                        for n in names} | {'loss_sim'}
    assert all(torch.isfinite(v) and v > 0 for v in losses.values())
    optim.update_params(sum(losses.values()))
    for key, value in model.base.state_dict().items():
        assert torch.equal(value, base_state[key]), key  # BN stats too
    assert all(not p.requires_grad for p in model.base.parameters())
    changed = [
        k for k, v in model.aggregator.state_dict().items()
        if not torch.equal(v, agg_state[k])
    ]
    assert len(changed) == len(agg_state)


def test_init_weights_leaves_the_base_alone(tmp_path):
    path = save_base_checkpoint(tmp_path / 'idol.pth')
    model = build_teacher(base_checkpoint=path)
    loaded = {k: v.clone() for k, v in model.base.state_dict().items()}
    torch.manual_seed(5)
    model.init_weights()
    for key, value in model.base.state_dict().items():
        assert torch.equal(value, loaded[key]), key
    idol = torch.load(path, weights_only=True)['state_dict']
    assert all(torch.equal(loaded[k], v) for k, v in idol.items())


def test_checkpoint_holds_only_the_aggregator_and_reloads(tmp_path):
    base_path = save_base_checkpoint(tmp_path / 'idol.pth')
    sha = hashlib.sha256(open(base_path, 'rb').read()).hexdigest()
    model = build_teacher(base_checkpoint=base_path)
    assert model.base_sha256 == sha
    data = preprocess(model, [make_clip()])
    sum(model(**data, mode='loss').values()).backward()
    with torch.no_grad():
        for p in model.aggregator.parameters():
            p.add_(0.01 * torch.randn_like(p))
    state = model.state_dict()
    assert len(state) == len(model.aggregator.state_dict()) > 0
    assert all(k.startswith('aggregator.') for k in state)
    assert state._metadata[''] == dict(
        version=1, base_checkpoint=base_path, base_sha256=sha)
    assert not any(k.startswith('base') for k in state._metadata)
    ckpt = str(tmp_path / 'teacher.pth')
    save_checkpoint(dict(meta=dict(), state_dict=weights_to_cpu(state)), ckpt)

    model.eval()
    other = build_teacher(seed=3, base_checkpoint=base_path).eval()
    inputs = data['inputs']
    clip = data['data_samples']
    before = other.extract_offline(inputs, clip)
    expect = model.extract_offline(inputs, clip)
    assert not torch.allclose(before['embeds'], expect['embeds'])
    load_checkpoint(other, ckpt, strict=True)  # nothing missing
    got = other.extract_offline(inputs, clip)
    for key in ('queries', 'embeds', 'cls_logits', 'bboxes'):
        assert torch.allclose(got[key], expect[key], atol=1e-6), key


def test_a_checkpoint_of_another_base_is_refused(tmp_path):
    base_a = save_base_checkpoint(tmp_path / 'a.pth', seed=0)
    base_b = save_base_checkpoint(tmp_path / 'b.pth', seed=1)
    ckpt = str(tmp_path / 'teacher.pth')
    model = build_teacher(base_checkpoint=base_a)
    save_checkpoint(dict(state_dict=weights_to_cpu(model.state_dict())), ckpt)
    other = build_teacher(base_checkpoint=base_b)
    with pytest.raises(ValueError, match='trained on the base IDOL'):
        load_checkpoint(other, ckpt)
    with pytest.raises(ValueError, match='base_checkpoint_sha256'):
        build_teacher(base_checkpoint=base_a, base_checkpoint_sha256='0' * 64)
    with pytest.raises(FileNotFoundError, match='model.base_checkpoint'):
        build_teacher(base_checkpoint=str(tmp_path / 'missing.pth'))


def test_build_errors_name_the_config_key():
    with pytest.raises(ValueError, match='num_frame_queries'):
        cfg = teacher_cfg()
        cfg['aggregator']['num_frame_queries'] = NUM_QUERIES + 1
        MODELS.build(cfg)
    with pytest.raises(ValueError, match='embed_dims'):
        cfg = teacher_cfg()
        cfg['aggregator']['embed_dims'] = DIMS * 2
        MODELS.build(cfg)
    model = build_teacher(mode='average')
    data = preprocess(model, [make_clip()])
    with pytest.raises(RuntimeError, match='nothing to train'):
        model(**data, mode='loss')


# ----------------------------------------------------------------------
# the offline interface
# ----------------------------------------------------------------------
def test_extract_offline_shapes_and_dtypes():
    model = build_teacher(num_video_queries=5)
    model.train()
    assert model.feature_dims == dict(queries=DIMS, embeds=DIMS)
    data = preprocess(model, [make_clip(3), make_clip(3, video_id=4)])
    out = model.extract_offline(data['inputs'], data['data_samples'])
    shapes = dict(
        queries=(2, 5, DIMS),
        embeds=(2, 5, DIMS),
        cls_logits=(2, 5, NUM_CLASSES),
        bboxes=(2, 3, 5, 4),
        references=(2, 3, 5, 4),
        valid=(2, 5),
        all_queries=(2, 2, 5, DIMS))
    for key, shape in shapes.items():
        assert tuple(out[key].shape) == shape, key
        assert not out[key].requires_grad, key
        assert out[key].dtype == (
            torch.bool if key == 'valid' else torch.float32)
    assert out['valid'].all()
    # the references are convex combinations of the frame references
    state = model.frame_queries(data['inputs'], data['data_samples'])
    lo = state['references'].min(2, keepdim=True)[0]
    hi = state['references'].max(2, keepdim=True)[0]
    assert ((out['references'] >= lo - 1e-6) &
            (out['references'] <= hi + 1e-6)).all()
    # frame_outs: the frozen IDOL's own per-frame outputs
    assert len(out['frame_outs']) == 3
    frames = [data['data_samples'][1][2]]
    idol = model.base.extract_frame_queries(data['inputs'][1, 2:3], frames)
    for key in ('queries', 'cls_logits', 'bboxes_xyxy', 'mask_feats'):
        assert torch.allclose(
            out['frame_outs'][2][key][1], idol[key][0], atol=1e-5), key
    assert out['frame_outs'][0]['all_bboxes'].shape == (2, 2, NUM_QUERIES, 4)
    # a cached frame state gives the same result
    cached = model.extract_offline(
        data['inputs'], data['data_samples'], frame_state=state)
    assert torch.allclose(cached['embeds'], out['embeds'])
    assert cached['frame_outs'] is None


@pytest.mark.parametrize('num_layers', [1, 2])
def test_heads_on_a_frame_query_reproduce_idol(num_layers):
    """A video query equal to frame query n, with n's reference, gets
    exactly IDOL's box and mask of query n: the reference conventions
    (normalized box fed into the last layer / initial point; pixel centre
    for the mask head) are IDOL's."""
    model = build_teacher(num_layers=num_layers).eval()
    data = preprocess(model, [make_clip(2)], training=False)
    state = model.frame_queries(
        data['inputs'], data['data_samples'], keep_frame_outs=True)
    t = 1
    idol = state['frame_outs'][t]
    queries = state['queries'][:, t]  # (1, Nf, C) as video queries
    refs = state['references'][:, t:t + 1]  # (1, 1, Nf, R)
    assert refs.size(-1) == (4 if num_layers == 2 else 2)
    boxes = model.video_head.bboxes(queries, refs)[0, 0]
    assert torch.allclose(boxes, idol['bboxes'][0], atol=1e-5)
    params = model.head.controller(queries[0])
    masks = model.video_head.frame_masks(params, refs[0, 0],
                                         state['img_wh'][0, t],
                                         state['mask_feats'][0, t])
    expect = model.base.decode_masks(idol['mask_params'][0],
                                     idol['references'][0],
                                     idol['mask_feats'][0])
    assert torch.allclose(masks, expect, atol=1e-4)


def test_reference_attention_on_a_hand_built_state():
    model = build_teacher(reference_cfg=dict(space='query', temperature=1.))
    frame_queries = torch.zeros(1, 2, NUM_QUERIES, DIMS)
    for n in range(NUM_QUERIES):
        frame_queries[0, :, n, n] = 1.0  # one-hot frame queries
    refs = torch.rand(1, 2, NUM_QUERIES, 4)
    state = dict(queries=frame_queries, references=refs)
    video = torch.zeros(1, 2, DIMS)
    video[0, 0, 3] = 20.0  # matches frame query 3 only
    video[0, 1, 1] = video[0, 1, 6] = 0.0  # uniform over all queries
    out = model.video_head.references(video, state)
    assert out.shape == (1, 2, 2, 4)
    assert torch.allclose(out[0, :, 0], refs[0, :, 3], atol=1e-6)
    assert torch.allclose(out[0, :, 1], refs[0].mean(1), atol=1e-6)
    # the scaled version: temperature sqrt(C) by default
    default = build_teacher()
    assert default.video_head.reference_temperature == pytest.approx(
        DIMS**0.5)


def test_short_clips_use_plain_windows_at_inference():
    model = build_teacher().eval()
    data = preprocess(model, [make_clip(4)], training=False)
    state = model.frame_queries(data['inputs'], data['data_samples'])
    out = model.extract_offline(
        data['inputs'], data['data_samples'], frame_state=state)
    assert model.aggregator.shift_at_inference  # restored
    model.aggregator.train()  # plain windows, no dropout (0.0)
    with torch.no_grad():
        plain = model.aggregator(state['queries'])['offline_queries'][-1]
    assert torch.allclose(out['queries'], plain, atol=1e-6)


# ----------------------------------------------------------------------
# average mode ("token average", Tab. 6)
# ----------------------------------------------------------------------
def test_average_mode_is_the_mean_of_the_matched_tokens():
    model = build_teacher(mode='average', num_video_queries=4)
    _, clip = make_clip(3)
    torch.manual_seed(0)
    queries = torch.randn(1, 3, NUM_QUERIES, DIMS)
    # frame t: query (t + 1) is instance 5 (class 0), query 6 instance 7
    # (class 2, frames 0 and 1 only); every other query is background
    cls_logits = torch.full((1, 3, NUM_QUERIES, NUM_CLASSES), -8.)
    bboxes = torch.tensor([60., 60., 63., 63.]).repeat(1, 3, NUM_QUERIES, 1)
    for t in range(3):
        cls_logits[0, t, t + 1, 0] = 8.
        bboxes[0, t, t + 1] = torch.tensor(_boxes(t)[5], dtype=torch.float)
        if t < 2:
            cls_logits[0, t, 6, 2] = 8.
            bboxes[0, t, 6] = torch.tensor(_boxes(t)[7], dtype=torch.float)
    state = dict(
        queries=queries,
        references=torch.rand(1, 3, NUM_QUERIES, 4),
        mask_feats=torch.rand(1, 3, 8, 8, 8),
        img_wh=torch.full((1, 3, 2), 64.),
        cls_logits=cls_logits,
        bboxes_xyxy=bboxes)
    out = model.extract_offline(None, [clip], frame_state=state)
    expect5 = (queries[0, 0, 1] + queries[0, 1, 2] + queries[0, 2, 3]) / 3
    expect7 = (queries[0, 0, 6] + queries[0, 1, 6]) / 2
    assert torch.allclose(out['queries'][0, 0], expect5, atol=1e-6)
    assert torch.allclose(out['queries'][0, 1], expect7, atol=1e-6)
    assert out['valid'][0].tolist() == [True, True, False, False]
    assert (out['cls_logits'][0, 2:] == INVALID_LOGIT).all()
    assert torch.allclose(
        out['embeds'][0, 0], model.head.embed_head(expect5), atol=1e-6)


def test_average_mode_inference_groups_tokens_with_the_tracker():
    model = build_teacher(mode='average', num_video_queries=4).eval()
    model.base.tracker.init_score_thr = 0.0  # a random IDOL: start tracks
    model.base.tracker.addnew_score_thr = 0.0
    imgs, clip = make_clip(3)
    data = preprocess(model, [(imgs, clip)], training=False)
    state = model.frame_queries(
        data['inputs'], data['data_samples'], track=True)
    assign = state['track_assignment']
    assert assign.shape == (1, 3, NUM_QUERIES)
    assert (assign >= 0).any() and assign.max() < 4
    # the tracker's last frame, query by query
    tracker = model.base.tracker
    last = torch.full((NUM_QUERIES, ), -1, dtype=torch.long)
    last[tracker.last_candidates[tracker.last_assignment >= 0]] = 0
    assert ((assign[0, 2] >= 0) == (last >= 0)).all()
    results = model.predict(data['inputs'], data['data_samples'])
    preds = results[0].pred_video_instances
    assert 0 < len(preds) <= 10
    assert all(len(p['segmentations']) == 3 for p in preds)


# ----------------------------------------------------------------------
# inference: bounded memory and the metric
# ----------------------------------------------------------------------
def _tensors(obj):
    """The tensors in nested tuples / lists / dicts (op args, outputs)."""
    if isinstance(obj, torch.Tensor):
        yield obj
    elif isinstance(obj, (tuple, list)):
        for item in obj:
            yield from _tensors(item)
    elif isinstance(obj, dict):
        for item in obj.values():
            yield from _tensors(item)


class LiveTensorBytes(TorchDispatchMode):
    """Peak bytes of the tensors created by ops inside the mode and alive
    at the same time (storages counted once, released when the last
    tensor on them dies), and the largest single new storage."""

    def __init__(self):
        super().__init__()
        self.sizes, self.refs = dict(), dict()
        self.current = self.peak = self.largest = 0
        self.watch = dict()  # id -> weak reference whose callback releases

    def _release(self, key):
        self.refs[key] -= 1
        if self.refs[key] == 0:
            del self.refs[key]
            self.current -= self.sizes.pop(key)

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        # views and in-place results of tensors made before the mode
        # (inputs, parameters) are not new memory
        given = {
            t.untyped_storage().data_ptr()
            for t in _tensors((args, kwargs))
        }
        for t in _tensors(out):
            storage = t.untyped_storage()
            key = storage.data_ptr()
            if key == 0 or (key in given and key not in self.sizes):
                continue
            if key not in self.sizes:
                self.sizes[key] = storage.nbytes()
                self.refs[key] = 0
                self.current += storage.nbytes()
                self.peak = max(self.peak, self.current)
                self.largest = max(self.largest, storage.nbytes())
            self.refs[key] += 1
            ref = weakref.ref(t, self._callback(key))
            self.watch[id(ref)] = ref
        return out

    def _callback(self, key):

        def release(ref):
            self.watch.pop(id(ref), None)
            self._release(key)

        return release


def long_video(num_frames, size=32):
    torch.manual_seed(1)
    inputs = torch.randn(1, num_frames, 3, size, size)
    frames = [
        DetDataSample(
            metainfo=dict(
                img_shape=(size, size),
                ori_shape=(size, size),
                batch_input_shape=(size, size),
                scale_factor=(1.0, 1.0),
                frame_id=t,
                video_id=9,
                ori_video_length=num_frames)) for t in range(num_frames)
    ]
    return inputs, [TrackDataSample(video_data_samples=frames)]


def measure_predict(model, num_frames):
    """Peak / largest new tensor bytes of ``predict`` and the state size."""
    one_frame = model.frame_queries(*long_video(1))  # all fields per frame
    fields = {k: v.nbytes * num_frames for k, v in one_frame.items()}
    inputs, samples = long_video(num_frames)
    with LiveTensorBytes() as mode:
        preds = model.predict(inputs, samples)[0].pred_video_instances
    assert len(preds) == 3
    assert all(len(p['segmentations']) == num_frames for p in preds)
    return dict(
        peak=mode.peak,
        largest=mode.largest,
        state=sum(fields.values()),
        field=max(fields.values()))


def test_long_video_memory_is_bounded_by_the_windowed_state():
    """200 vs 1,000 frames of 32 x 32 (Nf = 8, C = 16, chunks of 50):
    the peak grows by the per-frame state only (measured: +1.1 MB for
    +1.1 MB of state), not by IDOL's or the masks' working memory."""
    model = build_teacher(
        num_video_queries=5,
        test_cfg=dict(frames_per_chunk=50, max_per_video=3)).eval()
    model.aggregator.dec_frames_per_chunk = 50
    small = measure_predict(model, 200)
    large = measure_predict(model, 1000)
    assert large['state'] == pytest.approx(5 * small['state'])
    # what grows is a small multiple of the per-frame state (the state,
    # the aggregator's padded input, its output buffers, the decoder
    # memory); everything else is per chunk / window / frame
    growth = large['peak'] - small['peak']
    assert 0 < growth <= 3 * (large['state'] - small['state']), (small, large)
    assert large['largest'] <= max(small['largest'], 4 * large['field'])
    # the measurement sees unbounded memory: the base on all 200 frames
    # at once (no chunks) needs several times the chunked peak
    model.test_cfg['frames_per_chunk'] = None
    whole = measure_predict(model, 200)
    assert whole['peak'] > 2 * small['peak'], (small, whole)


def test_predict_results_feed_vis_metric(tmp_path):
    from mmengine.dataset import DefaultSampler, pseudo_collate

    from mmookd.datasets.vis_dataset import VISDataset
    from mmookd.evaluation.vis_metric import VISMetric
    from mmookd.testing import tiny_synthvis
    root = tiny_synthvis(
        tmp_path, num_val_long_videos=1, val_long_length=(9, 10))
    ann_file = osp.join(root, 'annotations', 'synthvis_val.json')
    dataset = VISDataset(
        ann_file=ann_file,
        data_prefix=dict(img_path=osp.join(root, 'val', 'JPEGImages')),
        dataset_version='synthvis',
        test_mode=True,
        pipeline=[
            dict(
                type='TransformBroadcaster',
                transforms=[dict(type='LoadVISFrame')]),
            dict(type='PackTrackInputs')
        ])
    sampler = DefaultSampler(dataset, shuffle=False)
    model = build_teacher(test_cfg=dict(max_per_video=4)).eval()
    metric = VISMetric(ann_file=ann_file)
    metric.dataset_meta = dataset.metainfo
    lengths = []
    for index in sampler:  # one whole video a sample
        data = model.data_preprocessor(pseudo_collate([dataset[index]]), False)
        samples = model.predict(**data)
        preds = samples[0].pred_video_instances
        length = len(samples[0])
        lengths.append(length)
        assert len(preds) == 4
        scores = [p['score'] for p in preds]
        assert scores == sorted(scores, reverse=True)
        for pred in preds:
            assert 0 <= pred['label'] < NUM_CLASSES
            assert len(pred['segmentations']) == length
            for rle in pred['segmentations']:
                assert rle is None or tuple(rle['size']) == (64, 64)
        metric.process(None, [s.to_dict() for s in samples])
    with open(ann_file) as f:
        videos = json.load(f)['videos']
    assert sorted(lengths) == sorted(v['length'] for v in videos)
    results = metric.evaluate(size=3)
    assert 'youtube_vis/segm_mAP' in results
    assert all(-1 <= v <= 1 for v in results.values())


# ----------------------------------------------------------------------
# configs
# ----------------------------------------------------------------------
CONFIGS = sorted(
    glob.glob(osp.join(ROOT, 'configs', 'ookd_teacher', 'ookd-teacher_*.py')))


def test_clip_sampler_draws_four_sorted_frames_like_vita():
    """The configs' UniformRefFrameSample(num_ref_imgs=3, frame_range=8)."""
    import random

    from mmdet.datasets.transforms import UniformRefFrameSample
    cfg = Config.fromfile(
        osp.join(ROOT, 'configs', 'ookd_teacher', 'ookd-teacher_base.py'))
    sampler = UniformRefFrameSample(**{
        k: v
        for k, v in cfg.teacher_clip_sampler.items() if k != 'type'
    })
    random.seed(0)
    seen = set()
    for _ in range(50):
        ids, flags = sampler.sampling_frames(30, key_frame_id=15)
        assert len(ids) == 4 and ids == sorted(ids)
        assert len(set(ids)) == 4 and 15 in ids and flags.count(True) == 1
        assert all(7 <= i <= 23 for i in ids)
        seen.update(ids)
    assert seen == set(range(7, 24))  # the whole range around the key
    ids, _ = sampler.sampling_frames(3, key_frame_id=0)  # short video
    assert len(ids) == 4 and set(ids) <= {0, 1, 2}


def test_every_teacher_config_loads():
    names = [osp.basename(p) for p in CONFIGS]
    for name in ('ookd-teacher_r50_8xb2-40k_youtube-vis-2021.py',
                 'ookd-teacher_r50_8xb2-40k_youtube-vis-2022.py',
                 'ookd-teacher_r50_8xb2-15k_ovis.py',
                 'ookd-teacher_swin-l-p4-w12-384_8xb2-40k_youtube-vis-2021.py',
                 'ookd-teacher_r50_avg_youtube-vis-2021.py',
                 'ookd-teacher_r18-w32_1xb4-500_synthvis.py'):
        assert name in names
    for path in CONFIGS:
        cfg = Config.fromfile(path)
        if 'model' not in cfg:  # the shared settings file
            assert 'teacher_aggregator' in cfg
            continue
        model = cfg.model
        assert model.type == 'OfflineTeacher' and model.base.type == 'IDOL'
        agg = model.aggregator
        if agg.mode == 'attention':
            assert agg.num_frame_queries == model.base.detector.num_queries
            pipeline = cfg.train_dataloader.dataset.pipeline
            assert pipeline[0].type == 'UniformRefFrameSample'
            assert pipeline[0].num_ref_imgs == 3  # 4-frame clips
            assert cfg.optim_wrapper.constructor == \
                'TrainableOptimWrapperConstructor'
            assert 'backbone' not in str(cfg.optim_wrapper)
        assert cfg.test_dataloader.sampler.type == 'DefaultSampler'
        assert cfg.test_dataloader.batch_size == 1


def test_r50_teacher_builds_with_vita_aggregator():
    cfg = Config.fromfile(
        osp.join(ROOT, 'configs', 'ookd_teacher',
                 'ookd-teacher_r50_8xb2-40k_youtube-vis-2021.py'))
    cfg.model.base_checkpoint = None
    model = MODELS.build(cfg.model)
    assert isinstance(model, OfflineTeacher)
    agg = model.aggregator
    assert (agg.num_enc_layers, agg.num_dec_layers, agg.window_size,
            agg.num_video_queries, agg.num_frame_queries) == (6, 3, 6, 100,
                                                              300)
    assert cfg.optim_wrapper.optimizer.weight_decay == 0.05
    assert cfg.optim_wrapper.clip_grad.max_norm == 0.01
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert trainable == sum(p.numel() for p in agg.parameters())
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    in_optim = sum(p.numel() for g in optim.optimizer.param_groups
                   for p in g['params'])
    assert in_optim == trainable
    no_decay = [
        g for g in optim.optimizer.param_groups if g['weight_decay'] == 0
    ]
    assert len(no_decay) >= 3  # norms and embeddings
    assert model.feature_dims == dict(queries=256, embeds=256)
