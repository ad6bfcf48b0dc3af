# Copyright (c) mmookd authors. All rights reserved.
"""Mask2FormerVISTeacher: mmdet's Mask2Former-VIS (the SynthVIS peer's
config, random weights) as OOKD's offline teacher: its knowledge, its cache
and the diagnostics tool on it."""
import copy
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from mmdet.models.vis import Mask2FormerVideo
from mmdet.registry import DATASETS, MODELS
from mmdet.structures import DetDataSample, TrackDataSample
from mmdet.utils import register_all_modules
from mmengine.config import Config
from mmengine.dataset import pseudo_collate

import mmookd  # noqa: F401
from mmookd.models.vis import Mask2FormerVISTeacher
from mmookd.models.vis.ookd import teacher_has_base
from mmookd.testing import (REPO_ROOT, load_tool, tiny_idol_cfg,
                            tiny_ookd_config, tiny_synthvis)

register_all_modules()

PEER = osp.join(REPO_ROOT, 'configs', 'mask2former_vis',
                'mask2former_r18-w32_1xb4-2k_synthvis.py')
NUM_CLASSES = 8  # the peer config's (SynthVIS)


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _teacher_cfg():
    return dict(cfg_path=PEER, type='Mask2FormerVISTeacher')


def _build_teacher():
    torch.manual_seed(0)
    model = Config.fromfile(PEER).model
    model.type = 'Mask2FormerVISTeacher'
    teacher = MODELS.build(model)
    teacher.init_weights()
    return teacher.eval()


def _clips(num, frames, hw, img_hw):
    clips = []
    for _ in range(num):
        samples = []
        for t in range(frames):
            s = DetDataSample()
            s.set_metainfo(
                dict(img_shape=img_hw, batch_input_shape=hw, frame_id=t))
            samples.append(s)
        clips.append(TrackDataSample(video_data_samples=samples))
    return clips


def test_offline_knowledge_of_each_clip():
    teacher = _build_teacher()
    assert isinstance(teacher, Mask2FormerVideo)  # mmdet's weights load
    dims = teacher.feature_dims
    assert dims == dict(queries=64, embeds=64)
    queries = teacher.num_video_queries
    torch.manual_seed(1)
    inputs = torch.randn(2, 3, 3, 64, 96)
    clips = _clips(2, 3, (64, 96), (60, 90))
    out = teacher.extract_offline(inputs, clips, with_masks=True)
    assert out['queries'].shape == (2, queries, 64)
    assert out['embeds'].shape == (2, queries, 64)
    assert out['cls_logits'].shape == (2, queries, NUM_CLASSES)
    assert out['mask_bboxes'].shape == (2, 3, queries, 4)
    assert out['mask_valid'].shape == (2, 3, queries)
    assert out['mask_logits'].shape == (2, 3, queries, 16, 24)
    assert out['valid'] is None and out['bboxes'] is out['mask_bboxes']
    # boxes inside the unpadded frame; an empty mask has a zero box
    boxes = out['mask_bboxes']
    assert float(boxes[..., 0::2].max()) <= 90
    assert float(boxes[..., 1::2].max()) <= 60
    assert torch.all(boxes[~out['mask_valid']] == 0)
    inside = out['mask_logits'][..., :15, :23] > 0  # 60 x 90 at stride 4
    assert torch.equal(out['mask_valid'], inside.flatten(-2).any(-1))
    # each clip is its own video: clip 1 alone gives its own output
    alone = teacher.extract_offline(inputs[1:], clips[1:])
    assert torch.allclose(alone['queries'][0], out['queries'][1], atol=1e-5)
    # the features are the last layer's: they give its class and mask
    # predictions again (cls_embed after the final norm; mask_embed)
    head = teacher.track_head
    last = teacher.video_queries(inputs[0])
    assert torch.allclose(head.cls_embed(last['queries']),
                          last['cls_scores'], atol=1e-5)
    assert torch.allclose(head.mask_embed(last['queries']), last['embeds'],
                          atol=1e-5)
    # sigmoid logits of the softmax class probabilities (no "no object")
    probs = F.softmax(last['cls_scores'], -1)[:, :-1]
    assert torch.allclose(out['cls_logits'][0].sigmoid(), probs, atol=1e-4)
    # the hooks are gone
    assert not head.mask_embed._forward_hooks
    assert not head.transformer_decoder.post_norm._forward_hooks
    with pytest.raises(ValueError, match=r'\(B, T, 3, H, W\)'):
        teacher.extract_offline(inputs[0], clips[:1])
    teacher.train()
    with pytest.raises(RuntimeError, match='eval mode'):
        teacher.extract_offline(inputs, clips)


def _setup(tmp_path):
    """Tiny SynthVIS, a stage-1 IDOL and a Mask2Former-VIS checkpoint, an
    OOKD config with the Mask2Former-VIS teacher."""
    data = tmp_path / 'synthvis'
    tiny_synthvis(
        data,
        train_length=(4, 6),
        num_val_short_videos=0,
        radius_range=(9.0, 16.0))
    student = tiny_idol_cfg(dims=64, num_classes=NUM_CLASSES)
    torch.manual_seed(0)
    idol = MODELS.build(copy.deepcopy(student))  # build changes the dict
    idol.init_weights()
    torch.save(dict(state_dict=idol.state_dict()), tmp_path / 'idol.pth')
    # an mmdet Mask2FormerVideo checkpoint: the teacher loads it as it is
    model = Config.fromfile(PEER).model
    m2f = MODELS.build(model)
    m2f.init_weights()
    torch.save(dict(state_dict=m2f.state_dict()), tmp_path / 'm2f.pth')
    cfg, dataset = tiny_ookd_config(
        str(data),
        student=student,
        teacher=_teacher_cfg(),
        teacher_checkpoint=str(tmp_path / 'm2f.pth'))
    cfg_path = str(tmp_path / 'ookd_m2f_tiny.py')
    cfg.dump(cfg_path)
    return cfg, cfg_path, dataset


def test_it_sits_on_no_stage1_idol():
    assert not teacher_has_base(_teacher_cfg())
    assert not teacher_has_base(PEER)
    assert teacher_has_base(
        osp.join(REPO_ROOT, 'configs', 'ookd_teacher',
                 'ookd-teacher_r18-w32_1xb4-2k_synthvis.py'))


def test_ookd_distils_from_it_live_and_from_its_cache(tmp_path):
    cfg, cfg_path, dataset_cfg = _setup(tmp_path)
    live = MODELS.build(cfg.model)
    assert isinstance(live.teacher, Mask2FormerVISTeacher)
    assert not live.teacher.training
    assert all(not p.requires_grad for p in live.teacher.parameters())
    # the teacher checkpoint was loaded (mmdet's own keys)
    saved = torch.load(tmp_path / 'm2f.pth', weights_only=True)['state_dict']
    key = next(k for k in saved if k.endswith('query_feat.weight'))
    assert torch.equal(live.teacher.state_dict()[key], saved[key])

    cache_file = str(tmp_path / 'cache.pth')
    load_tool('tools/ookd/cache_teacher.py').main(
        [cfg_path, '--out', cache_file, '--device', 'cpu', '--no-progress'])
    state = torch.load(cache_file, weights_only=True)
    assert state['meta']['base_checkpoint'] is None  # no IDOL under it
    assert state['meta']['feature_dim'] == 64
    ann_file = osp.join(dataset_cfg['data_root'], dataset_cfg['ann_file'])
    cached = MODELS.build(
        dict(
            cfg.model, teacher_cache=dict(file=cache_file, ann_file=ann_file)))
    assert cached.teacher is None
    cached.student.load_state_dict(live.student.state_dict())
    dataset = DATASETS.build(dataset_cfg)
    batch = pseudo_collate([dataset[(v, 1)] for v in range(3)])
    losses = {}
    for name, model in (('live', live), ('cached', cached)):
        data = model.data_preprocessor(batch, True)
        losses[name] = model.loss(**data)
    assert float(losses['live']['loss_kd']) > 0.01
    assert abs(
        float(losses['live']['loss_kd']) -
        float(losses['cached']['loss_kd'])) < 1e-5
    # the distillation reaches the student, never the teacher
    losses['live']['loss_kd'].backward()
    grads = [p.grad for p in live.student.parameters() if p.grad is not None]
    assert grads and any(float(g.abs().sum()) > 0 for g in grads)
    assert all(p.grad is None for p in live.teacher.parameters())


def test_teacher_knowledge_runs_the_stage1_idol_on_its_own(tmp_path):
    _, cfg_path, _ = _setup(tmp_path)
    tool = load_tool('tools/analysis_tools/teacher_knowledge.py')
    result = tool.main([
        str(tmp_path), '--config', cfg_path, '--idol-checkpoint',
        str(tmp_path / 'idol.pth'), '--teacher-checkpoint',
        str(tmp_path / 'm2f.pth'), '--out',
        str(tmp_path / 'k.png'), '--no-progress'
    ])
    assert result['rows'] > 0
    for side in ('teacher', 'student'):
        assert 0.0 <= result[f'{side}_pick_quality'] <= 1.0
        assert result[f'{side}_picked'] == 1.0
