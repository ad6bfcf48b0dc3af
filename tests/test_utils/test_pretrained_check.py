# Copyright (c) mmookd authors. All rights reserved.
"""A training that would start from random weights stops before it starts."""
import glob
import os.path as osp
import sys

import pytest
from mmengine.config import Config

from mmookd.testing import load_tool
from mmookd.utils.pretrained_check import (FromScratchError, check_pretrained,
                                           find_pretrained_sources)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# every folder of runnable configs, mmdet's peers included
CONFIG_DIRS = ('idol', 'ookd_teacher', 'ookd', 'masktrack_rcnn',
               'mask2former_vis')
# stage-1 configs of the real datasets: no weights unless load_from is set
REAL_IDOL = [
    'configs/idol/idol_r50_8xb4-12k_youtube-vis-2019.py',
    'configs/idol/idol_r50_8xb4-12k_youtube-vis-2021.py',
    'configs/idol/idol_r50_8xb2-12k_ovis.py',
    'configs/idol/idol_r50_8xb2-12k_minor-paste_ovis.py',
    'configs/idol/idol_swin-l-p4-w12-384_8xb4-12k_youtube-vis-2019.py',
    'configs/idol/idol_swin-l-p4-w12-384_8xb2-12k_ovis.py',
]


def _runnable_configs():
    paths = []
    for folder in CONFIG_DIRS:
        for path in sorted(glob.glob(osp.join(ROOT, 'configs', folder,
                                              '*.py'))):
            name = osp.basename(path)
            if name.endswith('_base.py') or name.endswith('_dataset.py'):
                continue
            paths.append(path)
    return paths


def test_real_idol_configs_refuse_random_start():
    for rel in REAL_IDOL:
        cfg = Config.fromfile(osp.join(ROOT, rel))
        assert find_pretrained_sources(cfg) == [], rel
        with pytest.raises(FromScratchError) as info:
            check_pretrained(cfg, rel)
        msg = str(info.value)
        assert msg.startswith(f'{rel} would train from scratch')
        # how to get the COCO pseudo-video IDOL, and how to opt out
        assert 'configs/idol/idol_r50_8xb4-59k_coco-pseudo-video.py' in msg
        assert 'vnext_idol_to_mmookd.py cocopretrain_R50.pth' in msg
        assert 'load_from=' in msg
        assert 'train_from_scratch = True' in msg
        # setting any source of weights, or opting out, lets it train
        cfg.load_from = 'checkpoints/idol_r50_coco.pth'
        assert check_pretrained(cfg) == [
            'load_from: checkpoints/idol_r50_coco.pth'
        ]
        cfg.load_from = None
        cfg.train_from_scratch = True
        assert check_pretrained(cfg) == []


def test_every_config_has_weights_or_opts_out():
    """SynthVIS trains from scratch on purpose; every other config must
    name its weights (a stage-1 IDOL, a Pretrained backbone), except the
    real-dataset stage-1 configs, which wait for load_from, and the
    equal-budget OOKD configs, which start where those do (their
    inherited load_from)."""
    seen_synthvis = 0
    for path in _runnable_configs():
        rel = osp.relpath(path, ROOT)
        cfg = Config.fromfile(path)
        synthvis = 'synthvis' in osp.basename(path)
        if synthvis:
            seen_synthvis += 1
            if cfg.get('train_from_scratch'):
                assert check_pretrained(cfg) == []
            else:  # e.g. the teacher: the stage-1 IDOL under it
                assert check_pretrained(cfg), rel
        elif rel in REAL_IDOL or (
                rel.startswith(('configs/idol/idol_', 'configs/ookd/ookd_'))
                and 'coco-pseudo-video' not in rel
                and cfg.model.get('student_checkpoint') is None):
            assert not cfg.get('train_from_scratch'), rel
            with pytest.raises(FromScratchError):
                check_pretrained(cfg, rel)
        else:
            assert not cfg.get('train_from_scratch'), rel
            assert check_pretrained(cfg), rel
    assert seen_synthvis >= 8


def test_sources_found_in_each_place(tmp_path):
    idol = dict(
        type='IDOL',
        detector=dict(backbone=dict(type='ResNet', init_cfg=None)))
    assert find_pretrained_sources(Config(dict(model=idol))) == []
    pretrained = dict(
        type='IDOL',
        detector=dict(
            backbone=dict(
                type='ResNet',
                init_cfg=dict(type='Pretrained', checkpoint='r50.pth'))))
    assert find_pretrained_sources(Config(dict(model=pretrained))) == [
        'model.detector.backbone.init_cfg: Pretrained r50.pth'
    ]
    # OOKD: the student's start counts, the frozen teacher's weights do not
    ookd = dict(
        type='OOKD',
        student=idol,
        student_checkpoint=None,
        teacher_checkpoint='teacher.pth')
    assert find_pretrained_sources(Config(dict(model=ookd))) == []
    ookd['student_checkpoint'] = 'idol.pth'
    assert find_pretrained_sources(Config(dict(model=ookd))) == [
        'model.student_checkpoint: idol.pth'
    ]
    teacher = dict(type='OfflineTeacher', base=idol, base_checkpoint='i.pth')
    assert find_pretrained_sources(Config(dict(model=teacher))) == [
        'model.base_checkpoint: i.pth'
    ]
    # --resume: only when there is a checkpoint to resume from
    cfg = Config(dict(model=idol, resume=True, work_dir=str(tmp_path)))
    assert find_pretrained_sources(cfg) == []
    (tmp_path / 'last_checkpoint').write_text('iter_10.pth')
    assert find_pretrained_sources(cfg) == [
        f'resume: {tmp_path / "last_checkpoint"}'
    ]


def test_train_tool_stops_before_training(monkeypatch, tmp_path, capsys):
    path = osp.join(ROOT, 'tools', 'train.py')
    module = load_tool(path, 'tool_train_scratch')

    def no_runner(*args, **kwargs):
        raise AssertionError('the Runner must not be built')

    monkeypatch.setattr(module.Runner, 'from_cfg', no_runner)
    config = osp.join(ROOT, REAL_IDOL[0])
    monkeypatch.setattr(
        sys, 'argv',
        [path, config, '--work-dir', str(tmp_path)])
    with pytest.raises(SystemExit) as info:
        module.main()
    assert 'would train from scratch' in str(info.value)
    # the opt-out reaches the Runner
    monkeypatch.setattr(sys, 'argv', [
        path, config, '--work-dir',
        str(tmp_path), '--cfg-options', 'train_from_scratch=True'
    ])
    with pytest.raises(AssertionError, match='must not be built'):
        module.main()
