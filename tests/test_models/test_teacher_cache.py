# Copyright (c) mmookd authors. All rights reserved.
"""The teacher knowledge cache: file format, lookups (MinorPaste's pasted
instances included), refusal of stale caches, and the same L_KD as the live
teacher on an un-augmented batch (the real ``OfflineTeacher``, tiny)."""
import json
import math
import os.path as osp

import pytest
import torch
from mmdet.registry import DATASETS, MODELS
from mmdet.utils import register_all_modules
from mmengine.dataset import pseudo_collate

import mmookd.datasets.transforms.loading  # noqa: F401
import mmookd.datasets.transforms.ookd_sampling  # noqa: F401
import mmookd.datasets.vis_dataset  # noqa: F401
import mmookd.models.vis.offline_teacher  # noqa: F401
import mmookd.models.vis.ookd  # noqa: F401
from mmookd.testing import load_tool, tiny_ookd_config, tiny_synthvis
from mmookd.utils.teacher_cache import (CACHE_VERSION, StaleTeacherCacheError,
                                        TeacherCache, TeacherCacheWriter,
                                        config_dump, file_sha256)

register_all_modules()

# helpers of the model tests (tiny IDOL config, quiet builds)
_ookd = load_tool('tests/test_models/test_ookd.py', '_ookd_test_helpers')
_tool = load_tool('tools/ookd/cache_teacher.py', '_cache_teacher')


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# ----------------------------------------------------------------------
# the file
# ----------------------------------------------------------------------
def _small_cache(tmp_path, meta=None):
    writer = TeacherCacheWriter(feature='embeds', feature_dim=3)
    feats = torch.arange(12, dtype=torch.float).reshape(4, 3)
    # video 1: instance 5 picks query 2 in frames 0 and 1, query 0 in frame 2
    writer.add_frame(1, 0, [5, 6], torch.tensor([2, -1]), feats)
    writer.add_frame(1, 1, [5], torch.tensor([2]), feats)
    writer.add_frame(1, 2, [5, 6], torch.tensor([0, 3]), feats)
    writer.add_frame(2, 0, [5], torch.tensor([1]), feats + 100, group=1)
    writer.add_video(3)  # processed, no entry
    path = str(tmp_path / 'cache.pth')
    writer.save(
        path,
        dict(
            meta or {},
            teacher_checkpoint_sha256='abc',
            ann_file='a.json',
            ann_file_sha256='123'))
    return path, feats


def test_round_trip_and_lookups(tmp_path):
    path, feats = _small_cache(tmp_path)
    state = torch.load(path, weights_only=True)  # plain tensors and dicts
    assert state['format'] == 'mmookd.teacher_cache'
    assert state['version'] == CACHE_VERSION
    assert state['features'].shape == (4, 3)  # (1,q2) (1,q0) (1,q3) (2,q1)
    cache = TeacherCache.load(path)
    assert len(cache) == 5 and cache.feature == 'embeds'
    out, found = cache.lookup(1, 0, [5, 6, 9])
    assert found.tolist() == [True, False, False]
    assert torch.equal(out[0], feats[2]) and not out[1:].any()
    out, found = cache.lookup(1, 2, [6, 5])
    assert torch.equal(out, feats[[3, 0]]) and found.all()
    out, found = cache.lookup(2, 0, [5])
    assert torch.equal(out[0], feats[1] + 100)
    # pasted instance 50 is a copy of instance 5 of video 1: its track
    # entry is the query picked in most frames (q2, 2 of 3 frames)
    out, found = cache.lookup(3, 7, [50, 5], paste_sources={50: (1, 5)})
    assert found.tolist() == [True, False]
    assert torch.equal(out[0], feats[2])
    # a tie (instance 6: q3 once) -> its only pick; a source instance the
    # teacher never picked -> none
    out, found = cache.lookup(
        3, 7, [60, 61], paste_sources={
            60: (1, 6),
            61: (2, 9)
        })
    assert found.tolist() == [True, False]
    assert torch.equal(out[0], feats[3])
    # a video the cache never saw is an error, never "no knowledge"
    with pytest.raises(KeyError, match='no video 4'):
        cache.lookup(4, 0, [5])
    with pytest.raises(KeyError, match='no video 9'):
        cache.lookup(3, 0, [61], paste_sources={61: (9, 9)})
    cache.check_videos([1, 2, 3], 'train.json')
    with pytest.raises(StaleTeacherCacheError, match='video 4'):
        cache.check_videos([1, 4, 5], 'train.json')


def test_broken_cache_files_are_refused_and_writes_are_atomic(
        tmp_path, monkeypatch):
    path, _ = _small_cache(tmp_path)
    data = open(path, 'rb').read()
    (tmp_path / 'empty.pth').write_bytes(b'')
    with pytest.raises(StaleTeacherCacheError, match='empty'):
        TeacherCache.load(str(tmp_path / 'empty.pth'))
    (tmp_path / 'cut.pth').write_bytes(data[:len(data) // 2])
    with pytest.raises(StaleTeacherCacheError, match='truncated'):
        TeacherCache.load(str(tmp_path / 'cut.pth'))
    state = torch.load(path, weights_only=True)
    state['frame_ids'] = state['frame_ids'][:-1]
    torch.save(state, tmp_path / 'short.pth')
    with pytest.raises(StaleTeacherCacheError, match='different lengths'):
        TeacherCache.load(str(tmp_path / 'short.pth'))
    state = torch.load(path, weights_only=True)
    state['videos'] = torch.tensor([1])
    torch.save(state, tmp_path / 'novideo.pth')
    with pytest.raises(StaleTeacherCacheError, match='does not list'):
        TeacherCache.load(str(tmp_path / 'novideo.pth'))
    # a crash while writing leaves the old file intact and no temporary
    writer = TeacherCacheWriter(feature='embeds', feature_dim=3)

    def crash(*args, **kwargs):
        raise OSError('disk full')

    monkeypatch.setattr(torch, 'save', crash)
    with pytest.raises(OSError, match='disk full'):
        writer.save(path, {})
    assert open(path, 'rb').read() == data
    assert sorted(p.name for p in tmp_path.iterdir()
                  if p.name.startswith('.cache')) == []


def test_stale_caches_are_refused(tmp_path):
    path, _ = _small_cache(tmp_path)
    with pytest.raises(StaleTeacherCacheError) as err:
        TeacherCache.load(path, dict(teacher_checkpoint_sha256='def'))
    assert 'teacher checkpoint' in str(err.value)
    assert "'abc'" in str(err.value) and "'def'" in str(err.value)
    with pytest.raises(StaleTeacherCacheError, match='annotation file'):
        TeacherCache.load(path, dict(ann_file_sha256='456'))
    with pytest.raises(StaleTeacherCacheError, match='distilled feature'):
        TeacherCache.load(path, dict(feature='queries'))
    state = torch.load(path, weights_only=True)
    state['version'] = CACHE_VERSION + 1
    torch.save(state, tmp_path / 'v2.pth')
    with pytest.raises(StaleTeacherCacheError, match='version'):
        TeacherCache.load(str(tmp_path / 'v2.pth'))
    torch.save(dict(format='something else'), tmp_path / 'other.pth')
    with pytest.raises(StaleTeacherCacheError, match='not an mmookd'):
        TeacherCache.load(str(tmp_path / 'other.pth'))
    with pytest.raises(FileNotFoundError, match='cache_teacher'):
        TeacherCache.load(str(tmp_path / 'missing.pth'))


def test_cache_passes():
    assert _tool.cache_passes(5, None, None) == [[0, 1, 2, 3, 4]]
    assert _tool.cache_passes(5, None, 2) == [[0, 3], [1, 4], [2]]
    assert _tool.cache_passes(5, 2, None) == [[0, 1], [2, 3], [4]]
    assert _tool.cache_passes(6, 4, 2) == [[0, 2], [1, 3], [4, 5]]


# ----------------------------------------------------------------------
# the live teacher vs its cache
# ----------------------------------------------------------------------
NUM_CLASSES = 8
SCALE = (1333, 64)


def _teacher_cfg(base_ckpt):
    return dict(
        type='OfflineTeacher',
        base=_ookd.tiny_idol_cfg(tracker=False, num_classes=NUM_CLASSES),
        base_checkpoint=base_ckpt,
        aggregator=dict(
            type='VideoQueryAggregator',
            embed_dims=_ookd.DIMS,
            num_frame_queries=20,
            num_video_queries=8,
            num_enc_layers=1,
            num_dec_layers=1,
            num_heads=4,
            ffn_dims=64,
            window_size=6))


def _setup(tmp_path):
    """Tiny SynthVIS, a base IDOL and a teacher checkpoint, a config."""
    data = tmp_path / 'synthvis'
    tiny_synthvis(
        data,
        train_length=(4, 6),
        num_val_short_videos=1,
        val_short_length=(12, 16),
        num_val_long_videos=1,
        val_long_length=(6, 6),
        radius_range=(9.0, 16.0))
    torch.manual_seed(0)
    base = _ookd.quiet(MODELS.build,
                       _ookd.tiny_idol_cfg(num_classes=NUM_CLASSES))
    _ookd.quiet(base.init_weights)
    torch.save(dict(state_dict=base.state_dict()), tmp_path / 'idol.pth')
    teacher = _ookd.quiet(MODELS.build,
                          _teacher_cfg(str(tmp_path / 'idol.pth')))
    torch.save(dict(state_dict=teacher.state_dict()), tmp_path / 'teacher.pth')
    cfg, dataset = tiny_ookd_config(
        str(data),
        student=_ookd.tiny_idol_cfg(num_classes=NUM_CLASSES),
        teacher=_teacher_cfg(str(tmp_path / 'idol.pth')),
        teacher_checkpoint=str(tmp_path / 'teacher.pth'),
        scale=SCALE)
    cfg_path = str(tmp_path / 'ookd_tiny.py')
    cfg.dump(cfg_path)
    return cfg, cfg_path, dataset


def test_cache_gives_the_live_teachers_kd_loss(tmp_path):
    cfg, cfg_path, dataset_cfg = _setup(tmp_path)
    cache_file = str(tmp_path / 'cache.pth')
    _tool.main(
        [cfg_path, '--out', cache_file, '--device', 'cpu', '--no-progress'])
    state = torch.load(cache_file, weights_only=True)
    ann_file = osp.join(dataset_cfg['data_root'], dataset_cfg['ann_file'])
    assert state['meta']['ann_file'] == ann_file
    assert state['meta']['teacher_config'] == config_dump(cfg.model.teacher)[0]
    assert len(state['video_ids']) > 0

    live = _ookd.quiet(MODELS.build, cfg.model)
    cached = _ookd.quiet(
        MODELS.build,
        dict(
            cfg.model, teacher_cache=dict(file=cache_file, ann_file=ann_file)))
    assert cached.teacher is None and cached.cache is not None
    cached.student.load_state_dict(live.student.state_dict())

    dataset = DATASETS.build(dataset_cfg)
    assert [dataset.get_len_per_video(i) for i in range(3)] != [6, 6, 6]
    batch = pseudo_collate([dataset[(v, 1)] for v in range(3)])
    losses = {}
    for name, model in (('live', live), ('cached', cached)):
        data = model.data_preprocessor(batch, True)
        losses[name] = model.loss(**data)['loss_kd']
    assert float(losses['live']) > 0.1
    assert abs(float(losses['live']) - float(losses['cached'])) < 1e-5

    # the same teacher config with another teacher checkpoint: refused
    teacher = torch.load(tmp_path / 'teacher.pth', weights_only=True)
    key = next(k for k in teacher['state_dict'] if 'aggregator' in k)
    teacher['state_dict'][key] = teacher['state_dict'][key] + 1
    torch.save(teacher, tmp_path / 'teacher2.pth')
    with pytest.raises(StaleTeacherCacheError, match='teacher checkpoint'):
        MODELS.build(
            dict(
                cfg.model,
                teacher_checkpoint=str(tmp_path / 'teacher2.pth'),
                teacher_cache=cache_file))
    # ... or another base IDOL under the teacher (same teacher file)
    base = torch.load(tmp_path / 'idol.pth', weights_only=True)
    key = next(iter(base['state_dict']))
    base['state_dict'][key] = base['state_dict'][key] + 1
    torch.save(base, tmp_path / 'idol2.pth')
    other_base = cfg.model.to_dict()
    other_base['teacher']['base_checkpoint'] = str(tmp_path / 'idol2.pth')
    with pytest.raises(StaleTeacherCacheError, match='base IDOL'):
        MODELS.build(dict(other_base, teacher_cache=cache_file))
    # ... or other teacher frames
    with pytest.raises(StaleTeacherCacheError, match='teacher_window'):
        MODELS.build(
            dict(cfg.model, teacher_window=3, teacher_cache=cache_file))
    with pytest.raises(StaleTeacherCacheError, match='max_teacher_frames'):
        MODELS.build(
            dict(cfg.model, teacher_cache=dict(file=cache_file, max_frames=4)))
    # ... or an annotation file with a video the cache lacks
    with open(ann_file) as f:
        ann = json.load(f)
    ann['videos'].append(dict(ann['videos'][0], id=999))
    more = tmp_path / 'more.json'
    more.write_text(json.dumps(ann))
    state = torch.load(cache_file, weights_only=True)
    state['meta']['ann_file_sha256'] = file_sha256(str(more))
    torch.save(state, tmp_path / 'cache_more.pth')
    with pytest.raises(StaleTeacherCacheError, match='video 999'):
        MODELS.build(
            dict(
                cfg.model,
                teacher_cache=dict(
                    file=str(tmp_path / 'cache_more.pth'),
                    ann_file=str(more))))
    # ... or another annotation file
    other = tmp_path / 'other.json'
    other.write_text('{}')
    with pytest.raises(StaleTeacherCacheError, match='annotation file'):
        MODELS.build(
            dict(
                cfg.model,
                teacher_cache=dict(file=cache_file, ann_file=str(other))))


def test_teacher_knowledge_tool_reports_its_figures(tmp_path):
    """tools/analysis_tools/teacher_knowledge.py on the tiny setup: every
    figure is in range and the JSON keys the issue asks for are there."""
    cfg, cfg_path, _ = _setup(tmp_path)
    tool = load_tool('tools/analysis_tools/teacher_knowledge.py')
    out = str(tmp_path / 'knowledge.png')
    result = tool.main([
        str(tmp_path), '--config', cfg_path, '--idol-checkpoint',
        str(tmp_path / 'idol.pth'), '--teacher-checkpoint',
        str(tmp_path / 'teacher.pth'), '--out', out, '--no-progress'
    ])
    for key in ('teacher_pick_quality', 'student_pick_quality', 'collisions',
                'switches', 'teacher_auc', 'student_auc'):
        assert key in result
    assert result['rows'] > 0 and osp.isfile(out)
    for key in ('teacher_pick_quality', 'student_pick_quality'):
        assert 0.0 <= result[key] <= 1.0
    track = tool.main([
        str(tmp_path), '--config', cfg_path, '--idol-checkpoint',
        str(tmp_path / 'idol.pth'), '--teacher-checkpoint',
        str(tmp_path / 'teacher.pth'), '--out', out, '--no-progress',
        '--teacher-match', 'track'
    ])
    # one query per track: no switches, no two tracks on one query
    assert track['switches'] == 0.0
    assert track['collisions'] == 0.0 or math.isnan(track['collisions'])
    assert torch.is_grad_enabled()  # the tool leaves the caller's mode
