# Copyright (c) mmookd authors. All rights reserved.
"""tools/ookd_pipeline.py: how it wires the three stages (no training)."""
import os.path as osp

import pytest

from mmookd.testing import load_tool

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.fixture(scope='module')
def pipeline():
    return load_tool('tools/ookd_pipeline.py')


def test_synthvis_preset_and_final_checkpoints(pipeline):
    configs = pipeline.resolve_configs('synthvis')
    assert set(configs) == {'idol', 'teacher', 'ookd'}
    for config in configs.values():
        assert osp.isfile(osp.join(ROOT, config)), config
    idol = pipeline.final_checkpoint(osp.join(ROOT, configs['idol']), 'wd')
    teacher = pipeline.final_checkpoint(
        osp.join(ROOT, configs['teacher']), 'wd')
    assert idol == osp.join('wd', 'iter_2000.pth')
    assert teacher == osp.join('wd', 'iter_500.pth')


def test_folder_needs_one_config_per_stage(pipeline, tmp_path):
    with pytest.raises(SystemExit, match='neither a dataset name'):
        pipeline.resolve_configs(str(tmp_path / 'missing'))
    (tmp_path / 'idol_a.py').write_text('')
    (tmp_path / 'ookd-teacher_a.py').write_text('')
    with pytest.raises(SystemExit, match=r'exactly one ookd_\*\.py'):
        pipeline.resolve_configs(str(tmp_path))
    (tmp_path / 'ookd_a.py').write_text('')
    configs = pipeline.resolve_configs(str(tmp_path))
    assert osp.basename(configs['ookd']) == 'ookd_a.py'


def test_training_skips_its_own_final_validation(pipeline, tmp_path):
    # the pipeline tests each stage itself: the Runner's validation at the
    # end of training would evaluate the same checkpoint twice
    iters = tmp_path / 'iters.py'
    iters.write_text("train_cfg = dict(type='IterBasedTrainLoop', "
                     'max_iters=30, val_interval=30)\n')
    epochs = tmp_path / 'epochs.py'
    epochs.write_text("train_cfg = dict(type='EpochBasedTrainLoop', "
                      'max_epochs=4)\n')
    assert pipeline.skip_train_val_options(str(iters)) == [
        'train_cfg.val_begin=31'
    ]
    assert pipeline.skip_train_val_options(str(epochs)) == [
        'train_cfg.val_begin=5'
    ]


def test_stage_options_wire_the_stages(pipeline):
    configs = {
        k: osp.join(ROOT, v)
        for k, v in pipeline.resolve_configs('synthvis').items()
    }
    ckpts = dict(idol='w/idol.pth', teacher='w/teacher.pth', ookd='w/o.pth')
    work_dirs = dict(idol='w/idol', teacher='w/teacher', ookd='w/ookd')
    assert pipeline.stage_options('idol', configs, ckpts, work_dirs) == []
    assert pipeline.stage_options('teacher', configs, ckpts, work_dirs) == [
        'model.base_checkpoint=w/idol.pth'
    ]
    ookd = pipeline.stage_options('ookd', configs, ckpts, work_dirs)
    assert 'model.teacher_checkpoint=w/teacher.pth' in ookd
    assert 'model.teacher.base_checkpoint=w/idol.pth' in ookd
    # the SynthVIS preset reads the teacher from its cache in stage 3's dir
    assert any(
        o.startswith('model.teacher_cache') and o.endswith(
            osp.join('w/ookd', 'teacher_cache.pth')) for o in ookd), ookd


def test_table_in_percent_with_missing_columns(pipeline):
    rows = pipeline.table_rows({
        'IDOL': {
            'youtube_vis/segm_mAP': 0.0789,
            'youtube_vis/segm_mAP_50': 0.238,
            'youtube_vis/segm_mAP_75': -1.0,
            'youtube_vis/short_segm_mAP': 0.1,
            'youtube_vis/short_segm_HOTA': 0.4567,
            'youtube_vis/long_segm_AssA': 0.25,
            'youtube_vis/segm_HOTA': 0.9,
        }
    })
    assert rows == [
        dict(
            method='IDOL',
            AP=7.9,
            AP50=23.8,
            AP75=None,
            AR1=None,
            AR10=None,
            mAP_S=10.0,
            mAP_L=None,
            HOTA_S=45.7,
            AssA_S=None,
            HOTA_L=None,
            AssA_L=25.0)
    ]
    table = pipeline.format_table(rows).splitlines()
    assert table[0].split() == [
        'method', 'AP', 'AP50', 'AP75', 'AR1', 'AR10', 'mAP_S', 'mAP_L',
        'HOTA_S', 'AssA_S', 'HOTA_L', 'AssA_L'
    ]
    assert table[2].split() == [
        'IDOL', '7.9', '23.8', '-', '-', '-', '10.0', '-', '45.7', '-', '-',
        '25.0'
    ]


def test_a_stage_is_done_only_when_its_checkpoint_loads(
        pipeline, tmp_path, monkeypatch, capsys):
    import torch
    work = tmp_path / 'work'
    configs = pipeline.resolve_configs('synthvis')
    ckpts = {
        s: pipeline.final_checkpoint(
            osp.join(ROOT, configs[s]), str(work / s))
        for s in pipeline.STAGE_NAMES
    }
    for stage in ('idol', 'teacher'):
        (work / stage).mkdir(parents=True)
        torch.save(
            dict(meta=dict(iter=1), state_dict={'w': torch.ones(3)}),
            ckpts[stage])
    # the teacher's run was killed while saving: half a file
    data = open(ckpts['teacher'], 'rb').read()
    with open(ckpts['teacher'], 'wb') as f:
        f.write(data[:len(data) // 2])
    assert pipeline.stage_done(ckpts['idol'])
    assert not pipeline.stage_done(ckpts['ookd'])
    trained = []
    monkeypatch.setattr(pipeline, 'run',
                        lambda cmd, title: trained.append(cmd[2]))
    monkeypatch.setattr(pipeline, 'build_teacher_cache', lambda *a: None)
    monkeypatch.setattr(pipeline, 'evaluate', lambda *a: {})
    pipeline.main(['synthvis', '--work-dir', str(work)])
    # stage 1 skipped; the half-written teacher retrained (and stage 3)
    assert trained == [configs['teacher'], configs['ookd']]
    assert osp.exists(ckpts['teacher'] + '.broken')
    assert not osp.exists(ckpts['teacher'])
    out = capsys.readouterr().out
    assert 'iter_2000.pth exists and loads: skipped' in out
    assert 'iter_500.pth exists but it does not load' in out
