# Copyright (c) mmookd authors. All rights reserved.
"""OOKD distiller on tiny inputs: Eq. 5 wiring, the frozen teacher, the
checkpoint hooks, the student's inference, the frame sampler and the
configs.

The teacher here is a test-only stand-in of ``OfflineTeacher`` with the same
interface (``extract_offline`` and ``feature_dims``): a tiny IDOL whose
per-frame queries are averaged over the frames of the clip.
"""
import glob
import logging
import os.path as osp
import re

import numpy as np
import pytest
import torch
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample, TrackDataSample
from mmdet.structures.mask import BitmapMasks
from mmdet.utils import register_all_modules
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.model import BaseModule
from mmengine.runner.checkpoint import load_state_dict
from mmengine.structures import InstanceData
from torch import nn

import mmookd.models.trackers.idol_tracker  # noqa: F401
from mmookd.datasets.transforms.ookd_sampling import (OOKDFrameSample,
                                                      teacher_frame_ids,
                                                      teacher_window_range)
from mmookd.models.vis.ookd import resolve_teacher_cfg
from mmookd.testing import tiny_idol_cfg as _tiny_idol_cfg

register_all_modules()

DIMS = 32
REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@MODELS.register_module(name='OOKDTestTeacher', force=True)
class FakeOfflineTeacher(BaseModule):
    """Test-only teacher: a tiny IDOL, queries averaged over the frames.

    ``extract_offline`` honours the OfflineTeacher interface: queries
    (B, Nv, C), embeds (B, Nv, Ce), cls_logits (B, Nv, K) from the averaged
    queries, bboxes (B, T, Nv, 4) the per-frame xyxy boxes. ``seen`` records
    the frame ids of every call.
    """

    def __init__(self, idol: dict, embed_out: int = None) -> None:
        super().__init__()
        self.idol = MODELS.build(idol)
        channels = self.idol.head.embed_channels
        self.proj = nn.Linear(channels, embed_out) if embed_out else None
        self.seen = []

    @property
    def feature_dims(self) -> dict:
        head = self.idol.head
        embeds = self.proj.out_features if self.proj else head.embed_channels
        return dict(queries=head.embed_dims, embeds=embeds)

    def extract_offline(self, inputs, data_samples, with_masks=False):
        num_clips, num_frames = inputs.shape[:2]
        frames = [clip[t] for clip in data_samples for t in range(len(clip))]
        outs = self.idol.extract_frame_queries(inputs.flatten(0, 1), frames)
        queries = outs['queries'].unflatten(0, (num_clips, num_frames))
        queries = queries.mean(1)
        embeds = self.idol.head.embed_head(queries)
        bboxes = outs['bboxes_xyxy'].unflatten(0, (num_clips, num_frames))
        if self.proj is not None:
            embeds = self.proj(embeds)
        self.seen.append([[s.metainfo['frame_id'] for s in clip]
                          for clip in data_samples])
        return dict(
            queries=queries,
            embeds=embeds,
            cls_logits=self.idol.head.cls_branches[-1](queries),
            bboxes=bboxes,
            mask_bboxes=bboxes,  # as if every mask were its box
            mask_valid=bboxes.new_ones(bboxes.shape[:3], dtype=torch.bool))


def tiny_idol_cfg(num_queries=20, tracker=True, num_classes=3):
    return _tiny_idol_cfg(
        dims=DIMS,
        num_queries=num_queries,
        num_classes=num_classes,
        enc_layers=1,
        dec_layers=1,
        tracker=tracker if isinstance(tracker, dict) else
        dict(type='IDOLTracker') if tracker else None)


def quiet(fn, *args, **kwargs):
    """Run ``fn`` with the current logger at WARNING (init_weights logs)."""
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        return fn(*args, **kwargs)
    finally:
        logger.setLevel(level)


def build_ookd(seed=0, embed_out=None, tracker=True, **kwargs):
    torch.manual_seed(seed)
    teacher = dict(
        type='OOKDTestTeacher',
        idol=tiny_idol_cfg(tracker=False),
        embed_out=embed_out)
    model = quiet(
        MODELS.build,
        dict(
            type='OOKD',
            student=tiny_idol_cfg(tracker=tracker),
            teacher=teacher,
            **kwargs))
    quiet(model.init_weights)
    return model


# two instances (labels 0 and 2, ids 5 and 7) moving over the frames
def boxes_at(frame_id):
    return [(8 + frame_id, 8, 30 + frame_id, 40),
            (34 - frame_id, 20, 60 - frame_id, 56)]


def make_clip(frame_ids,
              roles=None,
              size=64,
              video_length=4,
              video_id=3,
              empty=()):
    """A packed clip: uint8 (T, 3, H, W) + TrackDataSample; frames whose id
    is in ``empty`` have no GT."""
    imgs = torch.zeros(len(frame_ids), 3, size, size, dtype=torch.uint8)
    samples = []
    for t, frame_id in enumerate(frame_ids):
        boxes = [] if frame_id in empty else boxes_at(frame_id)
        masks = np.zeros((len(boxes), size, size), np.uint8)
        for i, (x1, y1, x2, y2) in enumerate(boxes):
            masks[i, y1:y2, x1:x2] = 1
            imgs[t, i, y1:y2, x1:x2] = 120 + 80 * i
        meta = dict(
            img_shape=(size, size),
            ori_shape=(size, size),
            scale_factor=(1.0, 1.0),
            frame_id=frame_id,
            video_id=video_id,
            img_id=100 * video_id + frame_id,
            ori_video_length=video_length)
        if roles is not None:
            meta['ookd_frame_role'] = roles[t]
        sample = DetDataSample(metainfo=meta)
        sample.gt_instances = InstanceData(
            bboxes=torch.tensor(boxes, dtype=torch.float).reshape(-1, 4),
            labels=torch.tensor([0, 2][:len(boxes)], dtype=torch.long),
            masks=BitmapMasks(masks, size, size),
            instances_ids=torch.tensor([5, 7][:len(boxes)]))
        samples.append(sample)
    return imgs, TrackDataSample(video_data_samples=samples)


def preprocess(model, clips, training=True):
    imgs, samples = zip(*clips)
    return model.data_preprocessor(
        dict(inputs=list(imgs), data_samples=list(samples)), training)


ROLES = ['teacher', 'student', 'student', 'teacher', 'pad']
FRAMES = [0, 1, 2, 3, 3]


# ----------------------------------------------------------------------
# the frame sampler
# ----------------------------------------------------------------------
def test_teacher_window_and_even_subsampling():
    assert teacher_window_range([10, 12], None, 40) == (0, 39)
    assert teacher_window_range([10, 12], 6, 40) == (8, 13)
    assert teacher_window_range([0, 1], 6, 40) == (0, 5)
    assert teacher_window_range([38, 39], 6, 40) == (34, 39)
    assert teacher_window_range([3, 20], 6, 40) == (3, 20)  # widened
    assert teacher_window_range([1, 2], 10, 4) == (0, 3)  # whole video
    # 40 frames, at most 8: the 2 student frames + 6 evenly spread
    assert teacher_frame_ids([10, 12], 40, None, 8) == \
        [0, 7, 10, 12, 17, 24, 32, 39]
    assert teacher_frame_ids([1, 2], 5, None, 8) == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match='outside'):
        teacher_window_range([3, 5], None, 5)


def test_frame_sample_layout_and_padding():
    sampler = OOKDFrameSample(max_teacher_frames=6)
    frame_ids, roles, key_flags = sampler.clip_layout(4, key_frame_id=2)
    assert len(frame_ids) == len(roles) == len(key_flags) == 6
    assert frame_ids[:4] == [0, 1, 2, 3] and frame_ids[4:] == [3, 3]
    assert roles[4:] == ['pad', 'pad']
    student = [f for f, r in zip(frame_ids, roles) if r == 'student']
    assert len(student) == 2 and 2 in student
    assert frame_ids[key_flags.index(True)] == 2
    # one-frame video: the student gets that frame twice, the teacher once
    frame_ids, roles, _ = sampler.clip_layout(1, key_frame_id=0)
    assert frame_ids == [0] * 6
    assert roles == ['student', 'student'] + ['pad'] * 4
    # a window of 3 frames in a 20-frame video
    frame_ids, roles, _ = OOKDFrameSample(
        frame_range=1, teacher_window=3, max_teacher_frames=4).clip_layout(
            20, key_frame_id=10)
    real = [f for f, r in zip(frame_ids, roles) if r != 'pad']
    assert len(real) == 3 and real == sorted(real)
    assert real[-1] - real[0] == 2 and 10 in real


def test_frame_sample_transform_on_video_info():
    images = [
        dict(img_path=f'{i}.jpg', frame_id=i, img_id=i, instances=[])
        for i in range(5)
    ]
    sampler = OOKDFrameSample(max_teacher_frames=8)
    results = sampler(
        dict(video_id=9, video_length=5, images=images, key_frame_id=1))
    assert results['frame_id'] == [0, 1, 2, 3, 4, 4, 4, 4]
    assert results['ookd_frame_role'].count('student') == 2
    assert results['ookd_frame_role'][5:] == ['pad'] * 3
    assert results['video_id'] == [9] * 8
    assert results['ori_video_length'] == [5] * 8
    assert sum(results['key_frame_flags']) == 1


# ----------------------------------------------------------------------
# the distiller
# ----------------------------------------------------------------------
def test_teacher_sees_its_frames_and_student_trains_on_two():
    model = build_ookd()
    data = preprocess(model, [make_clip(FRAMES, ROLES)])
    losses = model.loss(**data)
    assert model.teacher.seen[-1] == [[0, 1, 2, 3]]  # no pad, each once
    assert 'loss_kd' in losses and 'loss_embed' in losses
    assert 0.0 < float(losses['loss_kd']) < 2.0
    # a window of 2 frames around the student's frames 1 and 2
    model.teacher_window = 2
    model.loss(**data)
    assert model.teacher.seen[-1] == [[1, 2]]
    # clips of two frames need no roles
    model.teacher_window = None
    data = preprocess(model, [make_clip([0, 2]), make_clip([1, 3])])
    model.loss(**data)
    assert model.teacher.seen[-1] == [[0, 2], [1, 3]]


def test_student_loss_is_idols_loss():
    model = build_ookd()
    idol = quiet(MODELS.build, tiny_idol_cfg())
    idol.load_state_dict(model.student.state_dict())
    data = preprocess(model, [make_clip(FRAMES, ROLES)])
    torch.manual_seed(1)  # loss_embed_aux samples random negatives
    losses = model.loss(**data)
    pair = preprocess(idol, [make_clip([1, 2])])
    torch.manual_seed(1)
    expected = idol.loss(**pair)
    assert set(losses) == set(expected) | {'loss_kd'}
    for key, value in expected.items():
        assert torch.allclose(losses[key], value, atol=1e-6), key


def test_kd_loss_is_eq4_over_the_qfa_pairs():
    # eval mode: BN uses its running statistics, so a frame's outputs do
    # not depend on the other frames of the batch
    model = build_ookd(kd_weight=0.5).eval()
    data = preprocess(model, [make_clip([0, 2]), make_clip([1, 3])])
    # recompute by hand with the same student / teacher outputs
    with torch.no_grad():
        pairs = []
        for b, clip in enumerate(data['data_samples']):
            imgs = data['inputs'][b:b + 1]
            t_out = model.teacher.extract_offline(imgs, [clip])
            s_out = model.student.extract_frame_queries(
                imgs[0], [clip[0], clip[1]])
            for t in range(2):
                gt = InstanceData(
                    labels=clip[t].gt_instances.labels,
                    bboxes=clip[t].gt_instances.bboxes)
                sig = model.assigner.assign(
                    InstanceData(
                        cls_logits=s_out['cls_logits'][t],
                        bboxes=s_out['bboxes_xyxy'][t]), gt)
                sig_off = model.assigner.assign(
                    InstanceData(
                        cls_logits=t_out['cls_logits'][0],
                        bboxes=t_out['bboxes'][0, t]), gt)
                for m in range(len(sig)):
                    f = s_out['embeds'][t, sig[m]]
                    g = t_out['embeds'][0, sig_off[m]]
                    pairs.append(1 - torch.cosine_similarity(f, g, dim=0))
    losses = model.loss(**data)
    assert len(pairs) == 8
    assert torch.allclose(
        losses['loss_kd'], 0.5 * torch.stack(pairs).mean(), atol=1e-5)


def test_optimising_kd_alone_and_the_teacher_stays_frozen():
    model = build_ookd()
    model.train()
    assert not model.teacher.training  # train() keeps the teacher in eval
    assert not any(p.requires_grad for p in model.teacher.parameters())
    teacher_before = {
        k: v.clone()
        for k, v in model.teacher.state_dict(keep_vars=False).items()
    }
    data = preprocess(model, [make_clip([0, 2]), make_clip([1, 3])])
    optim = torch.optim.Adam(model.student.parameters(), lr=3e-3)
    history = []
    for _ in range(120):
        loss_kd = model.loss(**data)['loss_kd']
        history.append(float(loss_kd))
        if history[-1] < 0.05:
            break
        optim.zero_grad()
        loss_kd.backward()
        optim.step()
    assert 0.7 < history[0] < 1.3, history[0]
    assert min(history) < 0.1, history[-5:]
    for key, value in model.teacher.state_dict().items():
        assert torch.equal(value, teacher_before[key]), key
        assert value.grad is None


def test_feature_size_mismatch_fails_at_build():
    with pytest.raises(ValueError) as err:
        build_ookd(embed_out=16)
    text = str(err.value)
    assert '16' in text and '32' in text and 'embeds' in text
    # 'queries' keep 32 channels on both sides: that builds
    build_ookd(embed_out=16, distill_feature='queries')


def test_teacher_not_in_state_dict_and_resume(tmp_path):
    model = build_ookd(seed=0)
    state = model.state_dict()
    assert state and not any(k.startswith('teacher.') for k in state)
    assert any(k.startswith('student.detector.') for k in state)
    torch.save(dict(state_dict=state), tmp_path / 'ookd.pth')
    # a fresh model (another init) resumes: student loaded, no missing key
    other = build_ookd(seed=1)
    # the teacher is not initialised at build (it waits for its
    # checkpoint): give it defined values of its own, so that the check
    # below compares numbers, never what fresh memory held
    torch.manual_seed(11)
    for param in other.teacher.parameters():
        param.data.normal_()
    teacher_before = {
        k: v.clone()
        for k, v in other.teacher.state_dict().items()
    }
    logger = MMLogger.get_current_instance()
    ckpt = torch.load(tmp_path / 'ookd.pth', weights_only=True)
    load_state_dict(other, ckpt['state_dict'], strict=True, logger=logger)
    for key, value in other.student.state_dict().items():
        assert torch.equal(value, model.student.state_dict()[key]), key
    for key, value in other.teacher.state_dict().items():
        assert torch.isfinite(value.float()).all(), key
        assert torch.equal(value, teacher_before[key]), key
    # torch's own loader, strict: nothing missing or unexpected either
    result = other.load_state_dict(model.state_dict(), strict=True)
    assert not result.missing_keys and not result.unexpected_keys


def test_idol_checkpoint_loads_into_the_student():
    idol = quiet(MODELS.build, tiny_idol_cfg())
    torch.manual_seed(5)
    for param in idol.parameters():
        param.data.normal_()
    model = build_ookd()
    load_state_dict(model, idol.state_dict(), strict=True)
    for key, value in idol.state_dict().items():
        assert torch.equal(model.student.state_dict()[key], value), key


def test_teacher_checkpoint_is_loaded_at_build(tmp_path):
    source = build_ookd(seed=3)
    torch.save(
        dict(meta=dict(iter=7), state_dict=source.teacher.state_dict()),
        tmp_path / 'teacher.pth')
    model = build_ookd(
        seed=4, teacher_checkpoint=str(tmp_path / 'teacher.pth'))
    quiet(model.init_weights)  # must not re-initialise the teacher
    for key, value in source.teacher.state_dict().items():
        assert torch.equal(model.teacher.state_dict()[key], value), key
    torch.save(dict(state_dict={}), tmp_path / 'empty.pth')
    with pytest.raises(RuntimeError, match='lacks'):
        build_ookd(teacher_checkpoint=str(tmp_path / 'empty.pth'))


def test_predict_is_the_students_idol_predict():
    # an untrained model scores about 0.01: let the tracker keep those
    tracker = dict(
        type='IDOLTracker',
        select_score_thr=0.0,
        init_score_thr=0.0,
        addnew_score_thr=0.0)
    model = build_ookd(tracker=tracker).eval()
    idol = quiet(MODELS.build, tiny_idol_cfg(tracker=tracker)).eval()
    idol.load_state_dict(model.student.state_dict())
    for frame_id in range(3):
        results = []
        for net in (model, idol):
            imgs, clip = make_clip([frame_id], video_length=3)
            data = preprocess(net, [(imgs, clip)], training=False)
            with torch.no_grad():
                results.append(net(**data, mode='predict')[0])
        ours, ref = (r[0].pred_track_instances for r in results)
        assert len(ref) > 0
        for key in ('bboxes', 'scores', 'labels', 'instances_id', 'masks'):
            assert torch.equal(ours.get(key), ref.get(key)), key
    assert results[0].pred_video_instances == results[1].pred_video_instances


def test_kd_is_zero_without_gt_and_backpropagates():
    model = build_ookd()
    data = preprocess(model, [make_clip([0, 1], empty=(0, 1))])
    losses = model.loss(**data)
    assert float(losses['loss_kd']) == 0.0
    assert losses['loss_kd'].requires_grad
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    grads = [p.grad for p in model.student.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)
    # one empty frame: L_KD is the mean over the other frame's pairs
    model.eval()
    one = model.loss(**preprocess(model, [make_clip([0, 1], empty=(0, ))]))
    assert torch.isfinite(one['loss_kd']) and float(one['loss_kd']) > 0


def _one_frame_clip(labels, bboxes, ids):
    sample = DetDataSample(metainfo=dict(img_shape=(64, 64), frame_id=0))
    sample.gt_instances = InstanceData(
        labels=torch.tensor(labels),
        bboxes=torch.tensor(bboxes, dtype=torch.float),
        instances_ids=torch.tensor(ids))
    return TrackDataSample(video_data_samples=[sample])


def test_teacher_slots_marked_invalid_are_never_picked():
    model = build_ookd(teacher_boxes='reference')
    logits = torch.full((3, 3), -5.0)
    logits[0, 1] = 5.0  # slot 0 is class 1, but marked invalid
    logits[2, 1] = 0.0
    boxes = torch.tensor([[0., 0., 10., 10.], [50., 50., 60., 60.],
                          [0., 0., 11., 11.]])
    clip = _one_frame_clip([1], [[0., 0., 10., 10.]], [4])
    out = dict(cls_logits=logits, bboxes=boxes[None], valid=None)
    assert [p.tolist() for p in model.teacher_picks(out, clip)] == [[0]]
    out['valid'] = torch.tensor([False, True, True])
    assert [p.tolist() for p in model.teacher_picks(out, clip)] == [[2]]
    out['valid'] = torch.tensor([False, False, False])
    assert [p.tolist() for p in model.teacher_picks(out, clip)] == [[-1]]


def test_teacher_mask_boxes_decide_the_pick_and_empty_masks_give_none():
    """teacher_boxes='mask': QFA sees the boxes of the binarised masks; a
    query with an empty mask in the frame has no box and is not picked."""
    model = build_ookd()  # teacher_boxes='mask' is the default
    logits = torch.full((2, 3), -5.0)
    logits[:, 1] = 2.0
    ref_boxes = torch.tensor([[[0., 0., 10., 10.], [30., 30., 40., 40.]]])
    mask_boxes = torch.tensor([[[30., 30., 40., 40.], [0., 0., 10., 10.]]])
    clip = _one_frame_clip([1], [[0., 0., 10., 10.]], [4])
    out = dict(
        cls_logits=logits,
        bboxes=ref_boxes,
        mask_bboxes=mask_boxes,
        mask_valid=torch.tensor([[True, True]]),
        valid=None)
    assert model.teacher_picks(out, clip)[0].tolist() == [1]
    out['mask_valid'] = torch.tensor([[True, False]])
    assert model.teacher_picks(out, clip)[0].tolist() == [0]
    out['mask_valid'] = torch.tensor([[False, False]])
    assert model.teacher_picks(out, clip)[0].tolist() == [-1]
    ref = build_ookd(teacher_boxes='reference')
    assert ref.teacher_picks(out, clip)[0].tolist() == [0]


def test_teacher_pick_filter_drops_poor_picks_and_enters_the_cache_hash():
    """With ``teacher_pick_filter`` the argmin pick that misses its GT (IoU
    25 / 175) is not distilled; without it, it is (the paper). The filter
    is part of what a cache is checked against, and no filter leaves the
    hash of the caches made before the option as it was."""
    logits = torch.full((2, 3), -5.0)
    logits[:, 1] = 2.0
    boxes = torch.tensor([[[5., 5., 15., 15.], [40., 40., 50., 50.]]])
    clip = _one_frame_clip([1], [[0., 0., 10., 10.]], [4])
    out = dict(
        cls_logits=logits,
        bboxes=boxes,
        mask_bboxes=boxes,
        mask_valid=torch.tensor([[True, True]]),
        valid=None)
    plain = build_ookd()
    assert plain.teacher_picks(out, clip)[0].tolist() == [0]
    strict = build_ookd(teacher_pick_filter=dict(min_iou=0.5))
    assert strict.teacher_picks(out, clip)[0].tolist() == [-1]
    loose = build_ookd(teacher_pick_filter=dict(min_iou=0.1))
    assert loose.teacher_picks(out, clip)[0].tolist() == [0]
    assert 'teacher_pick_filter' not in plain.teacher_qfa_cfg
    assert strict.teacher_qfa_cfg['teacher_pick_filter'] == dict(
        min_iou=0.5, right_class=True)
    assert strict.teacher_qfa_cfg != loose.teacher_qfa_cfg
    with pytest.raises(KeyError, match='teacher_pick_filter'):
        build_ookd(teacher_pick_filter=dict(iou=0.5))


def test_bad_clips_are_named():
    model = build_ookd()
    data = preprocess(model, [make_clip([0, 1, 2])])
    with pytest.raises(ValueError, match='ookd_frame_role'):
        model.loss(**data)
    with pytest.raises(ValueError, match='distill_feature'):
        build_ookd(distill_feature='hidden')


# ----------------------------------------------------------------------
# configs
# ----------------------------------------------------------------------
def test_every_ookd_config_loads():
    files = sorted(glob.glob(osp.join(REPO, 'configs', 'ookd', 'ookd_*.py')))
    files = [f for f in files if not f.endswith('_base.py')]
    assert len(files) >= 12
    cfgs = {}
    for path in files:
        cfg = Config.fromfile(path)
        model = cfg.model
        assert model.type == 'OOKD', path
        assert model.student.type == 'IDOL', path
        assert osp.isfile(osp.join(REPO, model.teacher.cfg_path)), path
        cfgs[osp.basename(path)[:-3]] = cfg
    synth = cfgs['ookd_r18-w32_1xb4-2k_synthvis']
    # SynthVIS: the student starts like stage 1 (equal training budget)
    assert synth.model.student_checkpoint is None
    assert synth.model.teacher_checkpoint == (
        'work_dirs/ookd-teacher_r18-w32_1xb4-500_synthvis/iter_500.pth')
    assert resolve_teacher_cfg(synth.model.teacher)['type'] == \
        'OfflineTeacher'
    assert synth.model.assigner.match == 'argmin'
    assert synth.model.kd_weight == 1.0
    assert synth.model.distill_feature == 'embeds'
    inner = synth.train_dataloader.dataset.dataset.pipeline
    assert inner[0].type == 'OOKDFrameSample'
    assert inner[0].max_teacher_frames == 16
    mixing = synth.train_dataloader.dataset.pipeline
    assert [t.type for t in mixing] == ['MinorPaste', 'PackTrackInputs']
    assert set(mixing[1].meta_keys) == {'ookd_frame_role', 'paste_sources'}
    cached = cfgs['ookd_cached-teacher_r18-w32_1xb4-2k_synthvis']
    assert cached.model.teacher_cache.file.endswith('teacher_cache.pth')
    assert cached.train_dataloader.dataset.dataset.pipeline[0].type == \
        'UniformRefFrameSample'
    for name in ('r18-w32_1xb4-2k_synthvis', 'r50_8xb4-12k_youtube-vis-2022'):
        no_qfa = cfgs[f'ookd_no-qfa_{name}']
        assert no_qfa.model.assigner.match == 'index'
        assert [t.type for t in no_qfa.train_dataloader.dataset.pipeline] \
            == ['PackTrackInputs']
        avg = cfgs[f'ookd_avg-teacher_{name}']
        assert resolve_teacher_cfg(
            avg.model.teacher)['aggregator']['mode'] == 'average'
        assert avg.model.teacher_checkpoint is None


def _idol_base(path):
    """The IDOL config an OOKD config inherits (through other OOKD ones)."""
    while True:
        with open(path) as f:
            bases = re.search(r"_base_ = \[([^\]]*)\]", f.read()).group(1)
        first = re.findall(r"'([^']+)'", bases)[0]
        path = osp.normpath(osp.join(osp.dirname(path), first))
        if osp.basename(osp.dirname(path)) == 'idol':
            return path


def test_ookd_configs_train_on_the_budget_of_their_idol():
    """Every OOKD config starts its student where the IDOL it is compared
    with starts and trains as long; the fine-tune variants (ookd-ft_*)
    start from stage 1 and have an IDOL control (idol-ft_*) of the same
    extra budget."""
    files = sorted(glob.glob(osp.join(REPO, 'configs', 'ookd', 'ookd*_*.py')))
    files = [f for f in files if not f.endswith('_base.py')]
    fine_tuned = 0
    for path in files:
        cfg = Config.fromfile(path)
        idol = Config.fromfile(_idol_base(path))
        assert cfg.train_cfg.max_iters == idol.train_cfg.max_iters, path
        if osp.basename(path).startswith('ookd-ft_'):
            fine_tuned += 1
            ckpt = cfg.model.student_checkpoint
            assert ckpt and ckpt.endswith(
                f'iter_{idol.train_cfg.max_iters}.pth'), path
            controls = glob.glob(
                osp.join(REPO, 'configs', 'idol', 'idol-ft_*.py'))
            match = [
                c for c in controls
                if Config.fromfile(c).load_from == ckpt and Config.fromfile(
                    c).train_cfg.max_iters == cfg.train_cfg.max_iters
            ]
            assert match, f'{path} has no idol-ft control'
        else:
            assert cfg.model.student_checkpoint is None, path
            assert cfg.get('load_from') == idol.get('load_from'), path
    assert fine_tuned >= 2


# ----------------------------------------------------------------------
# with the real OfflineTeacher (tiny)
# ----------------------------------------------------------------------
def real_teacher_cfg(base_ckpt=None):
    return dict(
        type='OfflineTeacher',
        base=tiny_idol_cfg(tracker=False),
        base_checkpoint=base_ckpt,
        aggregator=dict(
            type='VideoQueryAggregator',
            embed_dims=DIMS,
            num_frame_queries=20,
            num_video_queries=8,
            num_enc_layers=1,
            num_dec_layers=1,
            num_heads=4,
            ffn_dims=64,
            window_size=6))


def test_with_the_real_offline_teacher(tmp_path):
    import mmookd.models.vis.offline_teacher  # noqa: F401
    torch.manual_seed(0)
    base = quiet(MODELS.build, tiny_idol_cfg(tracker=False))
    quiet(base.init_weights)
    torch.save(dict(state_dict=base.state_dict()), tmp_path / 'idol.pth')
    teacher = quiet(MODELS.build, real_teacher_cfg(str(tmp_path / 'idol.pth')))
    torch.save(dict(state_dict=teacher.state_dict()), tmp_path / 'teacher.pth')
    cfg = dict(
        type='OOKD',
        student=tiny_idol_cfg(),
        teacher=real_teacher_cfg(str(tmp_path / 'idol.pth')),
        teacher_checkpoint=str(tmp_path / 'teacher.pth'),
        student_checkpoint=str(tmp_path / 'idol.pth'))
    model = quiet(MODELS.build, cfg)
    quiet(model.init_weights)
    for key, value in base.state_dict().items():  # student from idol.pth
        assert torch.equal(model.student.state_dict()[key], value), key
    before = {k: v.clone() for k, v in model.teacher.base.state_dict().items()}
    before.update({
        f'agg.{k}': v.clone()
        for k, v in model.teacher.aggregator.state_dict().items()
    })
    model.train()
    assert not model.teacher.training and not model.teacher.base.training
    # clips with 4 and 2 teacher frames: two teacher calls
    short = make_clip([0, 1, 1, 1, 1], ['student', 'student'] + ['pad'] * 3)
    data = preprocess(model, [make_clip(FRAMES, ROLES), short])
    losses = model.loss(**data)
    assert 0.0 < float(losses['loss_kd']) < 2.0
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    assert all(p.grad is None for p in model.teacher.parameters())
    # checkpoints hold the student only; loading one keeps the teacher
    state = model.state_dict()
    assert not any(k.startswith('teacher.') for k in state)
    other = quiet(MODELS.build, cfg)
    load_state_dict(other, state, strict=True)
    agg = other.teacher.aggregator.state_dict()
    for key, value in other.teacher.base.state_dict().items():
        assert torch.equal(value, before[key]), key
    for key, value in agg.items():
        assert torch.equal(value, before[f'agg.{key}']), key
    # a student whose embeddings are 16-d does not fit this teacher's 32
    small = tiny_idol_cfg()
    small['detector']['bbox_head']['embed_channels'] = 16
    with pytest.raises(ValueError, match='size 32 .* size 16'):
        quiet(MODELS.build, dict(cfg, student=small))
