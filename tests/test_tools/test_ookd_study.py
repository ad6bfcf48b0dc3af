# Copyright (c) mmookd authors. All rights reserved.
"""tools/analysis_tools/ookd_study.py: rows, wiring, result files and the
report (training itself is what tools/train.py and tools/test.py do, tested
elsewhere)."""
import importlib.util
import json
import os.path as osp

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _load():
    path = osp.join(REPO, 'tools', 'analysis_tools', 'ookd_study.py')
    spec = importlib.util.spec_from_file_location('ookd_study', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


study = _load()


def test_rows_are_the_issue_rows_and_their_configs_exist():
    assert list(study.ROWS) == [
        'idol', 'kd_noqfa', 'kd_qfa', 'kd_qfa_track', 'kd_qfa_avg_teacher',
        'minor_paste', 'minor_paste_kd_qfa', 'clip_paste_kd_qfa'
    ]
    for row, (config, cache) in study.ROWS.items():
        assert osp.isfile(osp.join(REPO, config)), row
        assert (cache is None) == (row in ('idol', 'minor_paste')), row
    for config in study.CACHES.values():
        assert osp.isfile(osp.join(REPO, config))


def test_wiring_points_kd_rows_at_the_seeds_teacher():
    qfa = study.wiring(study.ROWS['kd_qfa'][0], 'i.pth', 't.pth', 'c.pth')
    assert qfa == [
        'model.teacher.base_checkpoint=i.pth',
        'model.teacher_checkpoint=t.pth', 'model.teacher_cache.file=c.pth'
    ]
    # the token-average teacher has no checkpoint of its own
    avg = study.wiring(study.ROWS['kd_qfa_avg_teacher'][0], 'i.pth', 't.pth',
                       None)
    assert avg == ['model.teacher.base_checkpoint=i.pth']


def test_summarize_metrics_reads_percent_and_rare_classes():
    metrics = {
        'youtube_vis/segm_mAP': 0.1,
        'youtube_vis/segm_mAP_50': 0.3,
        'youtube_vis/short_segm_mAP': 0.2,
        'youtube_vis/long_segm_mAP': -1.0,  # undefined: left out
        'youtube_vis/segm_AP_disc': 0.5,
        'youtube_vis/segm_AP_star': 0.1,
        'youtube_vis/segm_AP_moon': -1,
    }
    out = study.summarize_metrics(metrics, ['star', 'moon'])
    assert out['AP'] == 10.0 and out['AP50'] == 30.0
    assert out['mAP_S'] == 20.0 and 'mAP_L' not in out
    assert out['rare_AP'] == 10.0  # moon has no AP
    assert out['per_class_AP']['disc'] == 50.0


def test_report_from_result_files(tmp_path, capsys):
    results = tmp_path / 'study'
    for seed, ap in ((0, 10.0), (1, 12.0), (2, 14.0)):
        study.write_result(
            str(results), 'idol', seed, dict(seed=seed, AP=ap, mAP_L=ap / 2))
    study.write_result(str(results), 'kd_qfa', 0, dict(seed=0, AP=11.0))
    study.write_result(
        str(results), 'teacher', 0,
        dict(seed=0, teacher_auc=0.9, collisions=0.1))
    out = study.main([
        '--report', '--results',
        str(results), '--json', '--plot',
        str(tmp_path / 'study.png')
    ])
    assert out['rows']['idol']['AP'] == [10.0, 12.0, 14.0]
    assert out['rows']['idol']['mAP_L'] == [5.0, 6.0, 7.0]
    assert out['rows']['kd_qfa']['AP'] == [11.0]
    assert out['rows']['minor_paste']['AP'] == []
    assert out['teacher']['teacher_auc'] == [0.9]
    # each result file records the code that made it
    with open(results / 'idol' / 'seed0.json') as f:
        assert 'commit' in json.load(f)
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert json.loads(last)['rows']['idol']['AP'] == [10.0, 12.0, 14.0]
    assert osp.isfile(tmp_path / 'study.png')


def test_report_table_shows_mean_and_std(tmp_path, capsys):
    results = tmp_path / 'study'
    for seed, ap in ((0, 10.0), (1, 12.0), (2, 14.0)):
        study.write_result(str(results), 'idol', seed, dict(AP=ap))
    study.main(['--report', '--results', str(results), '--markdown'])
    text = capsys.readouterr().out
    assert '12.00+-2.00' in text
    assert '| idol | 3 | 12.0 +- 2.0 | - | - | - | - | - |' in text
    assert '| kd_qfa |' not in text  # rows without runs are left out
    with pytest.raises(SystemExit):
        study.main(['--rows', 'nothing'])


def test_runs_with_a_result_file_are_not_redone(tmp_path, monkeypatch):
    """The work dirs do not survive a session, the committed result files
    do: a seed whose rows all have results trains nothing; a seed that
    lacks only a non-KD row trains only that row."""
    results = tmp_path / 'study'
    for row in study.ROWS:
        study.write_result(str(results), row, 0, dict(AP=1.0))
    calls = []
    monkeypatch.setattr(study, 'train',
                        lambda *a, **k: calls.append(a[0]) or 'x.pth')
    monkeypatch.setattr(study, 'test', lambda *a, **k: {})
    monkeypatch.setattr(study, 'rare_classes', lambda ann: [])
    args = study.parse_args(
        ['--results', str(results), '--work-dir', str(tmp_path / 'w')])
    study.run_seed(0, list(study.ROWS), args)
    assert calls == []
    (results / 'minor_paste' / 'seed0.json').unlink()
    study.run_seed(0, list(study.ROWS), args)
    assert calls == [study.ROWS['minor_paste'][0]]
