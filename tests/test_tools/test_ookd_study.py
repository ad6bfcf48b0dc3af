# Copyright (c) mmookd authors. All rights reserved.
"""tools/analysis_tools/ookd_study.py: rows, wiring, result files and the
report (training itself is what tools/train.py and tools/test.py do, tested
elsewhere)."""
import json
import os.path as osp

import pytest

from mmookd.testing import load_tool

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
study = load_tool('tools/analysis_tools/ookd_study.py')


def test_rows_are_the_issue_rows_and_their_configs_exist():
    assert list(study.ROWS) == [
        'idol', 'kd_noqfa', 'kd_qfa', 'kd_qfa_track', 'kd_qfa_avg_teacher',
        'minor_paste', 'minor_paste_kd_qfa', 'clip_paste_kd_qfa',
        'minor_paste_kd_qfa_t500', 'kd_qfa_filter', 'kd_qfa_track_filter',
        'kd_qfa_m2f_teacher', 'minor_paste_kd_qfa_m2f_teacher',
        'masktrack_rcnn', 'mask2former_vis'
    ]
    for row, (config, cache) in study.ROWS.items():
        assert osp.isfile(osp.join(REPO, config)), row
        assert (cache is None) == (row in ('idol', 'minor_paste') +
                                   study.PEERS), row
    # the peers run only when asked for
    assert not set(study.PEERS) & set(study.parse_args([]).rows)
    for config in study.CACHES.values():
        assert osp.isfile(osp.join(REPO, config))
    for config, _, _ in study.TEACHERS.values():
        assert osp.isfile(osp.join(REPO, config))
    # every row's cache is built by a teacher the study trains
    assert {
        study.cache_teacher(cache)
        for _, cache in study.ROWS.values() if cache
    } == set(study.TEACHERS)


def test_the_m2f_teacher_is_the_mask2former_peer_without_a_base():
    config, folder, _ = study.TEACHERS['m2f']
    assert config == study.ROWS['mask2former_vis'][0]
    assert folder == 'mask2former_vis'  # the peer row's run is the teacher
    assert not study.has_base(config)
    assert study.has_base(study.TEACHERS['2k'][0])
    # no base IDOL under it: the wiring names only the teacher and cache
    assert study.wiring(study.ROWS['kd_qfa_m2f_teacher'][0], 'i.pth',
                        't.pth', 'c.pth') == [
                            'model.teacher_checkpoint=t.pth',
                            'model.teacher_cache.file=c.pth'
                        ]


def test_the_m2f_teacher_trains_without_a_base_and_is_diagnosed(
        tmp_path, monkeypatch):
    results = tmp_path / 'study'
    for row in study.ROWS:
        if 'm2f_teacher' not in row:
            study.write_result(str(results), row, 0, dict(AP=1.0))
    trained, diagnosed = [], []
    monkeypatch.setattr(
        study, 'train', lambda config, wd, opts, *a: trained.append(
            (config, opts)) or osp.join(wd, 'final.pth'))
    monkeypatch.setattr(study, 'test', lambda *a, **k: {})
    monkeypatch.setattr(study, 'rare_classes', lambda ann: [])
    monkeypatch.setattr(
        study, 'teacher_diagnostics',
        lambda wd, root, idol, teacher, key='2k': diagnosed.append(key) or {})
    monkeypatch.setattr(study, 'build_cache', lambda *a: 'c.pth')
    args = study.parse_args(
        ['--results', str(results), '--work-dir', str(tmp_path / 'w')])
    study.run_seed(0, list(study.ROWS), args)
    assert trained[1] == (study.TEACHERS['m2f'][0], ['randomness.seed=0'])
    assert diagnosed == ['m2f']
    assert osp.isfile(results / 'teacher_m2f' / 'seed0.json')


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
        study.write_result(str(results), 'kd_noqfa', seed, dict(AP=ap + 4))
    study.write_result(str(results), 'kd_qfa_track', 0, dict(AP=11.0))
    study.main(['--report', '--results', str(results), '--markdown'])
    text = capsys.readouterr().out
    assert '12.00+-2.00' in text
    # AP AP50 mAP_S mAP_L rare_AP AssA HOTA IDF1, then 3 comparisons
    assert '| row | seeds | AP | AP50 | mAP_S | mAP_L | rare_AP | AssA | ' \
        'HOTA | IDF1 |' in text
    assert ('| idol | 3 | 12.0 +- 2.0 |' + ' - |' * 7 + ' - | - | - |') in text
    assert '| AP - idol (z) | mAP_L - idol (z) | AssA - idol (z) |' in text
    assert '| kd_qfa |' not in text  # rows without runs are left out
    # against idol: +4 with pooled std 2 -> z 2; one seed: no z
    assert ('| kd_noqfa | 3 | 16.0 +- 2.0 |' + ' - |' * 7 +
            ' +4.0 (+2.0) | - | - |') in text
    # one seed: against idol's run of the same seed (10)
    assert ('| kd_qfa_track | 1 | 11.0 |' + ' - |' * 7 +
            ' +1.0 | - | - |') in text
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


def test_versus_idol_difference_and_pooled_z_on_common_seeds():
    found = {
        'idol': {s: dict(AP=10.0 + 2 * s, mAP_L=5.0) for s in (0, 1, 2)},
        'kd_qfa': {s: dict(AP=14.0 + 2 * s) for s in (0, 1, 2)},
        'kd_qfa_track': {1: dict(AP=11.0, mAP_L=7.0)},
    }
    out = study.versus_idol(found, ('AP', 'mAP_L'))
    assert set(out) == {'kd_qfa', 'kd_qfa_track'}  # rows with runs only
    # both rows: std 2, pooled std 2, difference 4 -> z 2
    assert out['kd_qfa']['AP']['diff'] == pytest.approx(4.0)
    assert out['kd_qfa']['AP']['z'] == pytest.approx(2.0)
    assert out['kd_qfa']['mAP_L'] == dict(diff=None, z=None, seeds=[])
    # one seed: compared with idol's run of that seed (12), no z
    assert out['kd_qfa_track']['AP'] == dict(diff=-1.0, z=None, seeds=[1])
    assert out['kd_qfa_track']['mAP_L']['diff'] == pytest.approx(2.0)
    found['kd_qfa'] = {s: dict(AP=8.0 + 2 * s) for s in (0, 1, 2)}
    assert study.versus_idol(found, ('AP', ))['kd_qfa']['AP']['z'] == \
        pytest.approx(-1)


def test_report_json_has_every_teacher_and_the_comparison(tmp_path, capsys):
    results = tmp_path / 'study'
    for seed in (0, 1):
        study.write_result(str(results), 'idol', seed, dict(AP=10.0 + seed))
        study.write_result(str(results), 'kd_qfa', seed, dict(AP=9.0 + seed))
        study.write_result(str(results), 'teacher_500', seed,
                           dict(teacher_auc=0.5 + seed / 10))
    study.main(['--report', '--results', str(results), '--json'])
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out['teachers']['500']['teacher_auc'] == [0.5, 0.6]
    assert out['teacher']['teacher_auc'] == []  # no 2k teacher files
    assert out['vs_idol']['kd_qfa']['AP']['diff'] == pytest.approx(-1.0)


def test_the_500_iteration_teacher_is_trained_only_for_its_row(
        tmp_path, monkeypatch):
    results = tmp_path / 'study'
    for row in study.ROWS:
        if row != 'minor_paste_kd_qfa_t500':
            study.write_result(str(results), row, 0, dict(AP=1.0))
    trained, caches = [], []
    monkeypatch.setattr(
        study, 'train', lambda config, wd, *a, **k: trained.append(config) or
        osp.join(wd, 'final.pth'))
    monkeypatch.setattr(study, 'test', lambda *a, **k: {})
    monkeypatch.setattr(study, 'rare_classes', lambda ann: [])
    monkeypatch.setattr(study, 'teacher_diagnostics', lambda *a: {})
    monkeypatch.setattr(
        study, 'build_cache',
        lambda root, key, idol, teacher: caches.append((key, teacher)) or 'c')
    args = study.parse_args(
        ['--results', str(results), '--work-dir', str(tmp_path / 'w')])
    study.run_seed(0, list(study.ROWS), args)
    assert trained == [
        study.IDOL_CFG, study.TEACHERS['500'][0],
        study.ROWS['minor_paste_kd_qfa_t500'][0]
    ]
    assert caches == [('qfa_t500',
                       osp.join(str(tmp_path / 'w'), 'seed0', 'teacher_500',
                                'final.pth'))]
    # its diagnostics and test land in their own result folder
    assert osp.isfile(results / 'teacher_500' / 'seed0.json')
    assert not osp.exists(results / 'teacher' / 'seed0.json')


def test_result_files_name_the_commit_the_study_started_from(monkeypatch):
    heads = iter(['aaa\n', '', 'ccc\n', ' M mmookd/x.py\n'])

    class Proc:

        def __init__(self, out):
            self.stdout, self.returncode = out, 0

    monkeypatch.setattr(study.subprocess, 'run',
                        lambda *a, **k: Proc(next(heads)))
    study.git_commit.cache_clear()
    try:
        assert study.git_commit() == 'aaa'
        # a commit made while the study runs is not claimed
        assert study.git_commit() == 'aaa'
        study.git_commit.cache_clear()
        # uncommitted changes to tracked files are said
        assert study.git_commit() == 'ccc-dirty'
    finally:
        study.git_commit.cache_clear()


def test_peer_rows_train_test_and_time_without_idol(tmp_path, monkeypatch):
    results = tmp_path / 'study'
    trained = []
    monkeypatch.setattr(
        study, 'train',
        lambda config, wd, *a, **k: trained.append(config) or 'p.pth')
    monkeypatch.setattr(study, 'test',
                        lambda *a, **k: {'youtube_vis/segm_HOTA': 0.25})
    monkeypatch.setattr(study, 'rare_classes', lambda ann: [])
    monkeypatch.setattr(study, 'latency', lambda config, ckpt, opts: 12.5)
    args = study.parse_args([
        '--results',
        str(results), '--work-dir',
        str(tmp_path / 'w'), '--rows', 'masktrack_rcnn'
    ])
    study.run_seed(0, args.rows, args)
    assert trained == [study.ROWS['masktrack_rcnn'][0]]
    with open(results / 'masktrack_rcnn' / 'seed0.json') as f:
        out = json.load(f)
    assert out['HOTA'] == 25.0 and out['latency_ms'] == 12.5


def test_json_tool_returns_the_last_line_and_stops_on_failure():
    code = 'import sys; print("table"); print(\'{"n": %d}\' % len(sys.argv))'
    # the tool gets --json: argv is ['-c', '--json']
    assert study.json_tool(['-c', code], 'probe') == {'n': 2}
    with pytest.raises(SystemExit, match='probe failed'):
        study.json_tool(['-c', 'import sys; sys.exit(3)'], 'probe')


def test_idol_and_ookd_results_record_their_latency(tmp_path, monkeypatch):
    """The peers' table compares IDOL and OOKD with the peers on time too:
    both rows' runs are timed, OOKD with its run's wiring."""
    results = tmp_path / 'study'
    for row in study.ROWS:
        if row not in ('idol', 'minor_paste_kd_qfa', 'kd_qfa'):
            study.write_result(str(results), row, 0, dict(AP=1.0))
    timed = []
    monkeypatch.setattr(
        study, 'train', lambda config, wd, *a, **k: osp.join(wd, 'f.pth'))
    monkeypatch.setattr(study, 'test', lambda *a, **k: {})
    monkeypatch.setattr(study, 'rare_classes', lambda ann: [])
    monkeypatch.setattr(study, 'teacher_diagnostics', lambda *a: {})
    monkeypatch.setattr(study, 'build_cache', lambda *a: 'c.pth')
    monkeypatch.setattr(
        study, 'latency',
        lambda config, ckpt, opts=(): timed.append((config, list(opts))) or
        7.0)
    args = study.parse_args(
        ['--results', str(results), '--work-dir', str(tmp_path / 'w')])
    study.run_seed(0, list(study.ROWS), args)
    assert [c for c, _ in timed] == [
        study.IDOL_CFG, study.ROWS['minor_paste_kd_qfa'][0]
    ]
    assert 'model.teacher_cache.file=c.pth' in timed[1][1]
    for row in ('idol', 'minor_paste_kd_qfa'):
        with open(results / row / 'seed0.json') as f:
            assert json.load(f)['latency_ms'] == 7.0
    with open(results / 'kd_qfa' / 'seed0.json') as f:
        assert 'latency_ms' not in json.load(f)


def _finished_run(work_dir, row, seed, metrics):
    wd = work_dir / f'seed{seed}' / row
    wd.mkdir(parents=True)
    with open(wd / 'metrics.json', 'w') as f:
        json.dump(metrics, f)
    return wd


def test_backfill_completes_old_result_files_without_training(
        tmp_path, monkeypatch):
    results, work = tmp_path / 'study', tmp_path / 'w'
    metrics = {
        'youtube_vis/segm_mAP': 0.1,
        'youtube_vis/segm_HOTA': 0.2,
        'youtube_vis/segm_DetA': 0.1,
        'youtube_vis/segm_IDF1': 0.15
    }
    for row in ('idol', 'kd_qfa', 'minor_paste_kd_qfa', 'masktrack_rcnn'):
        study.write_result(str(results), row, 0, dict(seed=0, AP=10.0))
        _finished_run(work, row, 0, metrics)
    # a result file without its run: left as it is
    study.write_result(str(results), 'kd_noqfa', 0, dict(AP=3.0))
    # the final checkpoints exist except the peer's
    for row, config in (('idol', study.IDOL_CFG),
                        ('minor_paste_kd_qfa',
                         study.ROWS['minor_paste_kd_qfa'][0])):
        ckpt = study.final_checkpoint(config, str(work / 'seed0' / row))
        open(ckpt, 'w').close()
    timed = []
    monkeypatch.setattr(study, 'rare_classes', lambda ann: [])
    monkeypatch.setattr(
        study, 'train',
        lambda *a, **k: pytest.fail('backfill must not train'))
    monkeypatch.setattr(
        study, 'latency',
        lambda config, ckpt, opts=(): timed.append((config, list(opts))) or
        9.5)
    study.main([
        '--backfill', '--seeds', '0', '--results',
        str(results), '--work-dir',
        str(work), '--rows', 'idol', 'kd_qfa', 'kd_noqfa',
        'minor_paste_kd_qfa', 'masktrack_rcnn'
    ])
    with open(results / 'kd_qfa' / 'seed0.json') as f:
        out = json.load(f)
    assert out['HOTA'] == 20.0 and out['IDF1'] == 15.0 and out['AP'] == 10.0
    assert out['DetA'] == 10.0
    assert set(out['backfilled']) == {'HOTA', 'DetA', 'IDF1'}
    assert 'latency_ms' not in out  # not a latency row
    with open(results / 'idol' / 'seed0.json') as f:
        out = json.load(f)
    assert out['latency_ms'] == 9.5 and 'latency_ms' in out['backfilled']
    # OOKD is timed with the wiring of its run (the seed's IDOL, teacher,
    # cache), the peer without a checkpoint is not timed
    assert [c for c, _ in timed] == [
        study.IDOL_CFG, study.ROWS['minor_paste_kd_qfa'][0]
    ]
    assert any(o.endswith(osp.join('seed0', 'caches', 'qfa.pth'))
               for o in timed[1][1])
    with open(results / 'masktrack_rcnn' / 'seed0.json') as f:
        assert 'latency_ms' not in json.load(f)
    with open(results / 'kd_noqfa' / 'seed0.json') as f:
        assert json.load(f) == dict(AP=3.0, commit=study.git_commit())
    # a second pass adds nothing; a figure that differs from the run stops
    timed.clear()
    study.main([
        '--backfill', '--seeds', '0', '--results',
        str(results), '--work-dir',
        str(work), '--rows', 'idol', 'kd_qfa'
    ])
    assert timed == []
    # --redo measures a key again
    study.main([
        '--backfill', '--seeds', '0', '--results',
        str(results), '--work-dir',
        str(work), '--rows', 'idol', '--redo', 'latency_ms'
    ])
    assert [c for c, _ in timed] == [study.IDOL_CFG]
    study.write_result(str(results), 'kd_qfa', 0, dict(AP=12.0))
    with pytest.raises(SystemExit, match='not the one of the result file'):
        study.main([
            '--backfill', '--seeds', '0', '--results',
            str(results), '--work-dir',
            str(work), '--rows', 'kd_qfa'
        ])


def test_peer_table_on_the_peers_seeds(tmp_path, capsys):
    results = tmp_path / 'study'
    for seed in (0, 1, 2):
        study.write_result(
            str(results), 'idol', seed,
            dict(AP=10.0 + seed, HOTA=20.0, latency_ms=50.0))
        study.write_result(str(results), 'minor_paste_kd_qfa', seed,
                           dict(AP=11.0 + seed, HOTA=21.0))
    study.write_result(str(results), 'masktrack_rcnn', 0,
                       dict(AP=4.0, HOTA=15.0, latency_ms=30.0))
    study.write_result(str(results), 'mask2former_vis', 0,
                       dict(AP=6.0, latency_ms=80.0))
    study.main(['--report', '--results', str(results), '--markdown'])
    text = capsys.readouterr().out
    # seed 0 only, as the peers; a missing figure is '-'
    assert '| idol | 0 | 10.0 | - | - | 20.0 | - | - | - | 50.0 |' in text
    assert '| minor_paste_kd_qfa | 0 | 11.0 | - | - | 21.0 | - | - | - | - |' \
        in text
    assert '| mask2former_vis | 0 | 6.0 | - | - | - | - | - | - | 80.0 |' \
        in text
    # the peers are in their table, not in the study's
    assert '| masktrack_rcnn | 1 |' not in text
    peers = study.peer_table(study.load_results(str(results)))
    assert peers['seeds'] == [0]
    assert list(peers['rows']) == list(study.PEER_TABLE_ROWS)
    assert peers['rows']['masktrack_rcnn']['latency_ms'] == 30.0
    # with several common seeds: mean +- std
    study.write_result(str(results), 'masktrack_rcnn', 1,
                       dict(AP=6.0, HOTA=15.0, latency_ms=30.0))
    study.write_result(str(results), 'mask2former_vis', 1,
                       dict(AP=8.0, latency_ms=80.0))
    peers = study.peer_table(study.load_results(str(results)))
    assert peers['seeds'] == [0, 1]
    assert peers['std']['idol']['AP'] == pytest.approx(2**0.5 / 2)
    assert '| masktrack_rcnn | 0 1 | 5.0 +- 1.4 | - | - | 15.0 +- 0.0 |' \
        in study.peer_markdown(peers)
    # no peer results: no peers' table
    assert study.peer_table({'idol': {0: dict(AP=1.0)}}) is None


def test_backfill_tests_again_with_a_track_score_threshold(
        tmp_path, monkeypatch, capsys):
    results, work = tmp_path / 'study', tmp_path / 'w'
    for seed in (0, 1):
        for row in ('idol', 'kd_qfa'):
            study.write_result(str(results), row, seed, dict(AP=10.0))
            wd = _finished_run(work, row, seed,
                               {'youtube_vis/segm_mAP': 0.1})
            config = study.ROWS[row][0]
            open(study.final_checkpoint(config, str(wd)), 'w').close()
    tested = []

    def fake_test(config, ckpt, wd, options, title, name='metrics'):
        tested.append((config, options, name))
        assoc = 0.5 if 'kd_qfa' in wd else 0.4
        assoc += 0.02 * wd.endswith(osp.join('seed1', 'kd_qfa'))
        return {
            'youtube_vis/segm_mAP': 0.1,  # the AP: not a tracking figure
            'youtube_vis/segm_HOTA': 0.3,
            'youtube_vis/segm_DetA': 0.2,
            'youtube_vis/segm_AssA': assoc,
            'youtube_vis/segm_IDF1': 0.25
        }

    monkeypatch.setattr(study, 'test', fake_test)
    monkeypatch.setattr(study, 'rare_classes', lambda ann: [])
    monkeypatch.setattr(study, 'latency', lambda *a: 5.0)
    argv = [
        '--backfill', '--track-score-thr', '0.3', '--seeds', '0', '1',
        '--results',
        str(results), '--work-dir',
        str(work), '--rows', 'idol', 'kd_qfa', '--markdown'
    ]
    out = study.main(argv)
    assert len(tested) == 4
    assert all(o[-1] == 'test_evaluator.track_score_thr=0.3'
               for _, o, _ in tested)
    assert {n for _, _, n in tested} == {'metrics_thr0.3'}
    # the KD row is tested with its run's wiring
    kd = [o for c, o, _ in tested if c == study.ROWS['kd_qfa'][0]]
    assert all(any(x.startswith('model.teacher_cache.file=') for x in o)
               for o in kd)
    with open(results / 'kd_qfa' / 'seed1.json') as f:
        res = json.load(f)
    assert res['AssA@0.3'] == 52.0 and res['HOTA@0.3'] == 30.0
    assert res['AP'] == 10.0 and 'AP@0.3' not in res
    t = out['thresholded']['0.3']
    assert t['rows']['idol']['AssA@0.3'] == [40.0, 40.0]
    assert t['vs_idol']['kd_qfa']['AssA@0.3']['diff'] == pytest.approx(11.0)
    text = capsys.readouterr().out
    assert 'tracks scoring >= 0.3:' in text
    assert '| kd_qfa | 2 | 30.0 +- 0.0 | 20.0 +- 0.0 | 51.0 +- 1.4 |' in text
    # a second pass tests nothing
    tested.clear()
    study.main(argv)
    assert tested == []
