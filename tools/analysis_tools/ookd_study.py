# Copyright (c) mmookd authors. All rights reserved.
"""The paper's ablations (Tab. 4-7) on SynthVIS, over training seeds.

    python tools/analysis_tools/ookd_study.py [--seeds 0 1 2] [--rows ...]
    python tools/analysis_tools/ookd_study.py --report [--json] [--plot PNG]

Rows (each trained ``2k`` iterations from scratch, the small CPU configs):

==================== ====================================================
``idol``             IDOL (stage 1 of the seed)
``kd_noqfa``         KD without QFA (student query m <- teacher query m)
``kd_qfa``           KD + QFA (Eq. 3 per frame)
``kd_qfa_track``     KD + QFA, one teacher target per instance (track)
``kd_qfa_avg_teacher`` token-average teacher + KD + QFA
``minor_paste``      IDOL + Minor-Paste
``minor_paste_kd_qfa`` Minor-Paste + KD + QFA (OOKD)
``clip_paste_kd_qfa``  Clip-Paste + KD + QFA
``minor_paste_kd_qfa_t500`` OOKD with ``make demo``'s teacher (500
                     iterations instead of the study's 2000)
``kd_qfa_filter``    KD + QFA, only the teacher picks that localise and
                     classify their GT (``teacher_pick_filter``)
``kd_qfa_track_filter`` the same with one target per instance
``masktrack_rcnn``   mmdet's MaskTrackRCNN at the same budget (a peer)
``mask2former_vis``  mmdet's Mask2Former-VIS at the same budget (a peer)
==================== ====================================================

Per seed ``s``: the stage-1 IDOL of seed ``s`` (row ``idol``), the teacher
trained on it (seed ``s``, 2000 iterations: ``ookd-teacher_r18-w32_1xb4-2k_
synthvis.py``; its diagnostics, ``teacher_knowledge.py``; the 500-iteration
teacher of ``make demo`` too when a row asks for it), the teacher caches,
then every other row with seed ``s``; KD rows read the seed's teacher from
its cache (a KD step costs an IDOL step). Everything
lives under ``--work-dir`` (default ``work_dirs/ookd_study``); a finished
step is skipped, so rerunning resumes. Each finished run writes its small
result file ``docs/study/{row}/seed{s}.json`` (AP, AP50, mAP_S, mAP_L,
rare-class AP, AssA when the metric reports it, per-class AP), and the
teacher diagnostics ``docs/study/teacher/seed{s}.json``: commit them as
they land.

``--report`` prints mean +- std over the seeds from those files without
training, and each row against ``idol``: the difference of the means and
``z`` = that difference / the pooled standard deviation of the two rows
(``sqrt((s_row^2 + s_idol^2) / 2)``; "beats IDOL by more than 2 std" is
``z > 2``), both over the seeds the row and ``idol`` share. With
``--json`` the last line is ``{"rows": {ROW: {METRIC: [value per seed]}},
"teacher": {...}, "teachers": {KEY: {...}}, "vs_idol": {ROW: {METRIC:
{"diff": .., "z": .., "seeds": [..]}}}}``.
"""
import argparse
import functools
import glob
import json
import os
import os.path as osp
import subprocess
import sys
import time
from typing import Dict, List, Optional, Sequence

import numpy as np

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CFG = 'configs/{}/{}_r18-w32_1xb4-{}_synthvis.py'
IDOL_CFG = CFG.format('idol', 'idol', '2k')
TEACHER_CFG = 'configs/ookd_teacher/ookd-teacher_r18-w32_1xb4-2k_synthvis.py'
# teacher key -> (config, work dir under the seed's, result folder)
TEACHERS = {
    '2k': (TEACHER_CFG, 'teacher', 'teacher'),
    '500': ('configs/ookd_teacher/ookd-teacher_r18-w32_1xb4-500_synthvis.py',
            'teacher_500', 'teacher_500'),
    # trained as the mask2former_vis peer row (the same work dir), frozen
    'm2f': ('configs/mask2former_vis/mask2former_r18-w32_1xb4-2k_synthvis.py',
            'mask2former_vis', 'teacher_m2f'),
}
# row -> (config, teacher cache key or None)
ROWS = {
    'idol': (IDOL_CFG, None),
    'kd_noqfa': (CFG.format('ookd', 'ookd_cached-teacher-no-qfa',
                            '2k'), 'noqfa'),
    'kd_qfa': (CFG.format('ookd', 'ookd_cached-teacher-no-paste',
                          '2k'), 'qfa'),
    'kd_qfa_track': (CFG.format('ookd', 'ookd_cached-teacher-track-no-paste',
                                '2k'), 'track'),
    'kd_qfa_avg_teacher':
    (CFG.format('ookd', 'ookd_cached-avg-teacher-no-paste', '2k'), 'avg'),
    'minor_paste': (CFG.format('idol', 'idol', '2k_minor-paste'), None),
    'minor_paste_kd_qfa': (CFG.format('ookd', 'ookd_cached-teacher',
                                      '2k'), 'qfa'),
    'clip_paste_kd_qfa': (CFG.format('ookd', 'ookd_cached-teacher-clip-paste',
                                     '2k'), 'qfa'),
    'minor_paste_kd_qfa_t500': (CFG.format('ookd', 'ookd_cached-teacher',
                                           '2k'), 'qfa_t500'),
    'kd_qfa_filter': (CFG.format('ookd', 'ookd_cached-teacher-filter-no-paste',
                                 '2k'), 'filter'),
    'kd_qfa_track_filter': (CFG.format(
        'ookd', 'ookd_cached-teacher-track-filter-no-paste', '2k'),
                            'track_filter'),
    # KD + QFA from mmdet's Mask2Former-VIS (the peer below) as the teacher
    'kd_qfa_m2f_teacher': (CFG.format('ookd',
                                      'ookd_cached-m2f-teacher-no-paste',
                                      '2k'), 'qfa_m2f'),
    # OOKD (Minor-Paste + KD + QFA) from the same teacher and cache
    'minor_paste_kd_qfa_m2f_teacher': (CFG.format(
        'ookd', 'ookd_cached-m2f-teacher', '2k'), 'qfa_m2f'),
    # mmdet's VIS models at IDOL's budget (docs/study.md, "Peers")
    'masktrack_rcnn':
    ('configs/masktrack_rcnn/masktrack-rcnn_r18-w32_1xb4-2k_synthvis.py',
     None),
    'mask2former_vis':
    ('configs/mask2former_vis/mask2former_r18-w32_1xb4-2k_synthvis.py', None),
}
PEERS = ('masktrack_rcnn', 'mask2former_vis')
# rows whose result files get ``latency_ms`` (the peers' table: IDOL, OOKD
# and the peers, docs/study.md "Peers")
LATENCY_ROWS = ('idol', 'minor_paste_kd_qfa') + PEERS
# the peers' table: these rows on the seeds that every peer row has
PEER_TABLE_ROWS = ('idol', 'minor_paste_kd_qfa') + PEERS
PEER_TABLE_NAMES = ('AP', 'mAP_S', 'mAP_L', 'HOTA', 'DetA', 'AssA', 'IDF1',
                    'latency_ms')
# the config each cache is built from (the live teacher and QFA of a row)
CACHES = dict(
    qfa=ROWS['kd_qfa'][0],
    noqfa=ROWS['kd_noqfa'][0],
    track=ROWS['kd_qfa_track'][0],
    avg=ROWS['kd_qfa_avg_teacher'][0],
    qfa_t500=ROWS['kd_qfa'][0],
    filter=ROWS['kd_qfa_filter'][0],
    track_filter=ROWS['kd_qfa_track_filter'][0],
    qfa_m2f=ROWS['kd_qfa_m2f_teacher'][0])
# the teacher of each cache (TEACHERS key); '2k' where not listed
CACHE_TEACHER = dict(qfa_t500='500', qfa_m2f='m2f')
# the OOKD config a teacher's diagnostics read (its teacher type and QFA);
# teacher_knowledge.py's default where not listed
TEACHER_OOKD = dict(m2f=ROWS['kd_qfa_m2f_teacher'][0])
METRICS = (('AP', 'segm_mAP'), ('AP50', 'segm_mAP_50'),
           ('mAP_S', 'short_segm_mAP'), ('mAP_L', 'long_segm_mAP'),
           ('AssA', 'segm_AssA'), ('long_AssA', 'long_segm_AssA'),
           ('HOTA', 'segm_HOTA'), ('DetA', 'segm_DetA'),
           ('IDF1', 'segm_IDF1'))
RARE_SHARE = 0.10
# the tracking figures a score threshold changes (--track-score-thr)
TRACK_NAMES = ('HOTA', 'DetA', 'AssA', 'IDF1')
TEACHER_KEYS = ('teacher_pick_quality', 'student_pick_quality', 'collisions',
                'switches', 'teacher_auc', 'student_auc', 'teacher_AP',
                'teacher_mAP_L', 'idol_mAP_L')
RESULTS = 'docs/study'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='OOKD ablations on SynthVIS over seeds')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument(
        '--rows',
        nargs='+',
        choices=list(ROWS),
        default=[r for r in ROWS if r not in PEERS],
        help='default: every row but the peers (run those with --rows '
        'masktrack_rcnn mask2former_vis --seeds 0)')
    parser.add_argument('--work-dir', default='work_dirs/ookd_study')
    parser.add_argument(
        '--results',
        default=RESULTS,
        help='folder of the per-run result files')
    parser.add_argument(
        '--report',
        action='store_true',
        help='print the table from the result files only')
    parser.add_argument('--plot', help='with --report: a PNG of the rows')
    parser.add_argument(
        '--markdown',
        action='store_true',
        help='with --report: also print the table as markdown')
    parser.add_argument(
        '--backfill',
        action='store_true',
        help='add what this version records (HOTA, DetA, IDF1, latency_ms) '
        'to '
        'the existing result files of --rows and --seeds, from their '
        'finished runs in --work-dir; trains nothing')
    parser.add_argument(
        '--redo',
        nargs='+',
        default=[],
        metavar='KEY',
        help='with --backfill: measure these keys again even where a '
        'result file has them (e.g. latency_ms after a fix of its tool)')
    parser.add_argument(
        '--track-score-thr',
        type=float,
        help='with --backfill: also test each finished run with only the '
        'tracks scoring at least this in HOTA/DetA/AssA/IDF1 and add them '
        'as HOTA@THR, ...')
    parser.add_argument('--json', action='store_true')
    return parser.parse_args(argv)


def run(cmd: List[str], title: str) -> None:
    print(f'    $ {" ".join(cmd)}', flush=True)
    start = time.time()
    code = subprocess.run(cmd, cwd=ROOT).returncode
    if code:
        raise SystemExit(f'ookd_study: {title} failed (exit {code})')
    print(f'    {title}: {time.time() - start:.0f} s', flush=True)


def final_checkpoint(config: str, work_dir: str) -> str:
    """The checkpoint a training of ``config`` in ``work_dir`` ends with."""
    from mmengine.config import Config
    max_iters = Config.fromfile(osp.join(ROOT, config)).train_cfg.max_iters
    return osp.join(work_dir, f'iter_{max_iters}.pth')


def train(config: str, work_dir: str, options: List[str], title: str) -> str:
    """Train once; return the final checkpoint (skipped when it exists)."""
    ckpt = final_checkpoint(config, work_dir)
    if osp.exists(osp.join(ROOT, ckpt)):
        print(f'    {ckpt} exists: skipped')
        return ckpt
    # no validation inside training: the study tests each run itself
    run([
        sys.executable, 'tools/train.py', config, '--work-dir', work_dir,
        '--cfg-options', 'train_cfg.val_begin=100000'
    ] + options, title)
    return ckpt


def test(config: str,
         ckpt: str,
         work_dir: str,
         options: List[str],
         title: str,
         name: str = 'metrics') -> Dict[str, float]:
    """Test once; the metrics go to ``{work_dir}/{name}.json`` (skipped
    when it exists)."""
    out = osp.join(work_dir, f'{name}.json')
    if not osp.exists(osp.join(ROOT, out)):
        eval_dir = 'eval' if name == 'metrics' else f'eval_{name}'
        run([
            sys.executable, 'tools/test.py', config, ckpt, '--work-dir',
            osp.join(work_dir, eval_dir), '--metrics-out', out
        ] + (['--cfg-options'] + options if options else []), title)
    with open(osp.join(ROOT, out)) as f:
        return json.load(f)


def rare_classes(ann_file: str) -> List[str]:
    """Classes with under RARE_SHARE of the training instances (tracks)."""
    from mmookd.datasets.class_stats import ytvis_class_stats
    stats = ytvis_class_stats(ann_file, minor_thr=RARE_SHARE)
    return [n for n, minor in zip(stats.names, stats.minor) if minor]


def summarize_metrics(metrics: Dict[str, float], rare: List[str]) -> dict:
    """The study's figures (percent) from a metrics file."""
    plain = {k.split('/')[-1]: v for k, v in metrics.items()}
    out = {}
    for name, key in METRICS:
        value = plain.get(key)
        if value is not None and value >= 0:
            out[name] = round(100 * float(value), 2)
    per_class = {
        k[len('segm_AP_'):]: v
        for k, v in plain.items()
        if k.startswith('segm_AP_') and k[len('segm_AP_'):] not in ('50', '75')
    }
    rare_aps = [
        per_class[c] for c in rare if c in per_class and per_class[c] >= 0
    ]
    if rare_aps:
        out['rare_AP'] = round(100 * float(np.mean(rare_aps)), 2)
    out['per_class_AP'] = {
        c: round(100 * float(v), 2)
        for c, v in per_class.items()
    }
    return out


@functools.lru_cache(maxsize=None)
def git_commit() -> Optional[str]:
    """The commit of the code that made a result (None outside git), read
    once, when the study starts (``main``), so that commits made while it
    runs are not claimed; ``-dirty`` when tracked files had changes."""
    proc = subprocess.run(['git', 'rev-parse', 'HEAD'],
                          cwd=ROOT,
                          capture_output=True,
                          text=True)
    commit = proc.stdout.strip() if proc.returncode == 0 else ''
    if not commit:
        return None
    dirty = subprocess.run(['git', 'status', '--porcelain', '-uno'],
                           cwd=ROOT,
                           capture_output=True,
                           text=True).stdout.strip()
    return commit + '-dirty' if dirty else commit


def write_result(results: str, row: str, seed: int, result: dict) -> None:
    """Write one run's result file (with the commit that made it)."""
    result = dict(result)
    result.setdefault('commit', git_commit())
    path = osp.join(ROOT, results, row, f'seed{seed}.json')
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(result, f, indent=1, sort_keys=True)
    print(f'    -> {osp.relpath(path, ROOT)}', flush=True)


def has_result(args, row: str, seed: int) -> bool:
    """The run's result file exists (committed results are not redone)."""
    return osp.exists(osp.join(ROOT, args.results, row, f'seed{seed}.json'))


def run_seed(seed: int, rows: List[str], args) -> None:
    """Every row of one seed; rows whose result file exists are skipped
    (the work dirs are not kept between sessions, the results are)."""
    todo = [r for r in rows if not has_result(args, r, seed)]
    kd_todo = [r for r in todo if ROWS[r][1] is not None]
    if not todo:
        print(f'\n==> seed {seed}: every result exists, skipped')
        return
    rows = todo  # the rows still without a result file
    root = osp.join(args.work_dir, f'seed{seed}')
    seed_opt = [f'randomness.seed={seed}']
    ann = 'data/synthvis/annotations/synthvis_train.json'
    rare = rare_classes(osp.join(ROOT, ann))
    idol = idol_metrics = None
    if 'idol' in todo or kd_todo:  # the KD rows need the seed's IDOL
        print(f'\n==> seed {seed}: stage-1 IDOL', flush=True)
        idol = train(IDOL_CFG, osp.join(root, 'idol'), seed_opt, 'IDOL')
        idol_metrics = test(IDOL_CFG, idol, osp.join(root, 'idol'), [],
                            'IDOL test')
        if not has_result(args, 'idol', seed):
            write_result(
                args.results, 'idol', seed,
                dict(
                    seed=seed,
                    config=IDOL_CFG,
                    latency_ms=latency(IDOL_CFG, idol),
                    **summarize_metrics(idol_metrics, rare)))
    teachers = {}
    for key in TEACHERS:
        if any(cache_teacher(ROWS[r][1]) == key for r in kd_todo):
            teachers[key] = train_teacher(args, root, key, seed, idol,
                                          idol_metrics, rare)
    for row in rows:
        if row == 'idol':
            continue
        config, cache_key = ROWS[row]
        print(f'\n==> seed {seed}: {row}', flush=True)
        wd = osp.join(root, row)
        wires = []
        if cache_key is not None:
            teacher = teachers[cache_teacher(cache_key)]
            cache = build_cache(root, cache_key, idol, teacher)
            wires = wiring(config, idol, teacher, cache)
        ckpt = train(config, wd, seed_opt + wires, row)
        metrics = test(config, ckpt, wd, wires, f'{row} test')
        extra = {}
        if row in LATENCY_ROWS:
            extra['latency_ms'] = latency(config, ckpt, wires)
        write_result(
            args.results, row, seed,
            dict(
                seed=seed,
                config=config,
                **summarize_metrics(metrics, rare),
                **extra))


def json_tool(args: List[str], title: str) -> dict:
    """Run a repo tool with ``--json`` and return its last output line (a
    JSON object); on failure, print its output's tail and stop."""
    proc = subprocess.run([sys.executable] + args + ['--json'],
                          cwd=ROOT,
                          capture_output=True,
                          text=True)
    if proc.returncode:
        print(proc.stdout[-2000:], proc.stderr[-4000:])
        raise SystemExit(f'ookd_study: {title} failed')
    return json.loads(proc.stdout.strip().splitlines()[-1])


def latency(config: str, ckpt: str, options: Sequence[str] = ()) -> float:
    """Per-frame CPU latency (ms, one thread) of a trained model:
    ``vis_latency.py``'s ``ms_per_frame`` on 8 validation videos
    (``options``: the run's ``--cfg-options``, e.g. a KD row's wiring)."""
    res = json_tool([
        'tools/analysis_tools/vis_latency.py', config, '--checkpoint', ckpt,
        '--threads', '1'
    ] + (['--cfg-options'] + list(options) if options else []),
                    f'latency of {config}')
    return round(res['ms_per_frame'], 1)


def run_wiring(row: str, root: str) -> List[str]:
    """The ``--cfg-options`` a finished run of ``row`` was tested with:
    for a KD row, its seed's IDOL, teacher and cache under ``root``."""
    config, cache_key = ROWS[row]
    if cache_key is None:
        return []
    t_cfg, folder, _ = TEACHERS[cache_teacher(cache_key)]
    return wiring(config, final_checkpoint(IDOL_CFG, osp.join(root, 'idol')),
                  final_checkpoint(t_cfg, osp.join(root, folder)),
                  osp.join(root, 'caches', f'{cache_key}.pth'))


def backfill(args) -> List[str]:
    """Complete existing result files from their finished runs.

    Result files written by an older version of the study lack figures this
    version records: HOTA, DetA and IDF1 (from the run's ``metrics.json``) and
    ``latency_ms`` (measured now for :data:`LATENCY_ROWS`). For each row
    and seed with both a result file and a run in ``{work_dir}/seed{s}``,
    the missing keys are added and listed under ``backfilled`` with the
    commit that added them; nothing is trained. A figure the result file
    already has must equal the run's (within 0.01), or the run is not the
    one of the result file and it stops.

    With ``--track-score-thr T`` each finished run is also tested again
    with only its predicted tracks scoring at least ``T`` in the tracking
    metrics (``test_evaluator.track_score_thr``; the AP is unchanged), and
    ``HOTA@T``, ``DetA@T``, ``AssA@T`` and ``IDF1@T`` are added.
    ``--redo KEY ...`` drops those keys first, so that they are measured
    again (their ``backfilled`` entry then names the new commit).

    Returns:
        list[str]: The result files changed.
    """
    git_commit()
    changed = []
    for seed in args.seeds:
        root = osp.join(args.work_dir, f'seed{seed}')
        rare = None
        for row in args.rows:
            path = osp.join(ROOT, args.results, row, f'seed{seed}.json')
            wd = osp.join(root, row)
            metrics_file = osp.join(ROOT, wd, 'metrics.json')
            if not osp.exists(path) or not osp.exists(metrics_file):
                continue
            if rare is None:
                rare = rare_classes(
                    osp.join(ROOT, 'data/synthvis/annotations/'
                             'synthvis_train.json'))
            with open(path) as f:
                result = json.load(f)
            for key in args.redo:  # measured again below
                result.pop(key, None)
            with open(metrics_file) as f:
                fresh = summarize_metrics(json.load(f), rare)
            added = {}
            for key, value in fresh.items():
                if key == 'per_class_AP':
                    continue
                if key not in result:
                    result[key] = added[key] = value
                elif abs(result[key] - value) > 0.01:
                    raise SystemExit(
                        f'ookd_study: {osp.relpath(path, ROOT)} has {key} '
                        f'{result[key]} but {wd}/metrics.json gives {value}: '
                        'that run is not the one of the result file')
            config = ROWS[row][0]
            ckpt = final_checkpoint(config, wd)
            thr = args.track_score_thr
            keys = [f'{n}@{thr}' for n in TRACK_NAMES]
            timed = row in LATENCY_ROWS and 'latency_ms' not in result
            retest = thr is not None and any(k not in result for k in keys)
            if (timed or retest) and osp.exists(osp.join(ROOT, ckpt)):
                wires = run_wiring(row, root)
            else:
                timed = retest = False
            if timed:
                print(f'==> seed {seed}: {row} latency', flush=True)
                result['latency_ms'] = added['latency_ms'] = latency(
                    config, ckpt, wires)
            if retest:
                plain = summarize_metrics(
                    test(config, ckpt, wd,
                         wires + [f'test_evaluator.track_score_thr={thr}'],
                         f'{row} test, track_score_thr {thr}',
                         f'metrics_thr{thr}'), rare)
                for name, key in zip(TRACK_NAMES, keys):
                    if key not in result and name in plain:
                        result[key] = added[key] = plain[name]
            if not added:
                continue
            result.setdefault('backfilled', {}).update(
                {k: git_commit()
                 for k in added})
            with open(path, 'w') as f:
                json.dump(result, f, indent=1, sort_keys=True)
            print(f'    {osp.relpath(path, ROOT)}: + {", ".join(added)}',
                  flush=True)
            changed.append(osp.relpath(path, ROOT))
    return changed


def cache_teacher(cache_key: str) -> str:
    """The TEACHERS key of the teacher a cache is built from."""
    return CACHE_TEACHER.get(cache_key, '2k')


def train_teacher(args, root: str, key: str, seed: int, idol: str,
                  idol_metrics: Dict[str, float], rare: List[str]) -> str:
    """Train the seed's teacher ``key`` on its IDOL; the first time, its
    diagnostics and test go to ``{results}/{folder}/seed{s}.json``."""
    config, folder, result = TEACHERS[key]
    print(f'\n==> seed {seed}: teacher {key} ({config})', flush=True)
    wd = osp.join(root, folder)
    # an IDOL-based teacher sits on the seed's IDOL; Mask2Former-VIS does not
    base = [f'model.base_checkpoint={idol}'] if has_base(config) else []
    teacher = train(config, wd, [f'randomness.seed={seed}'] + base,
                    f'teacher {key}')
    teacher_file = osp.join(ROOT, args.results, result, f'seed{seed}.json')
    if not osp.exists(teacher_file):
        diag = teacher_diagnostics(wd, root, idol, teacher, key)
        t_metrics = test(config, teacher, wd, base, f'teacher {key} test')
        t_sum = summarize_metrics(t_metrics, rare)
        diag.update(
            teacher_AP=t_sum.get('AP'),
            teacher_mAP_L=t_sum.get('mAP_L'),
            teacher_mAP_S=t_sum.get('mAP_S'),
            idol_mAP_L=summarize_metrics(idol_metrics, rare).get('mAP_L'))
        write_result(args.results, result, seed,
                     dict(seed=seed, config=config, **diag))
    return teacher


def wiring(config: str, idol: str, teacher: str,
           cache: Optional[str]) -> List[str]:
    """Point a KD config at the seed's teacher, its base and cache."""
    from mmengine.config import Config

    model = Config.fromfile(osp.join(ROOT, config)).model
    options = []
    if has_base(model.teacher):
        options.append(f'model.teacher.base_checkpoint={idol}')
    if model.get('teacher_checkpoint') is not None:
        options.append(f'model.teacher_checkpoint={teacher}')
    if cache is not None:
        options.append(f'model.teacher_cache.file={cache}')
    return options


def build_cache(root: str, key: str, idol: str, teacher: str) -> str:
    cache = osp.join(root, 'caches', f'{key}.pth')
    if osp.exists(osp.join(ROOT, cache)):
        return cache
    config = CACHES[key]
    run([
        sys.executable, 'tools/ookd/cache_teacher.py', config, '--out', cache,
        '--no-progress', '--cfg-options'
    ] + wiring(config, idol, teacher, None), f'teacher cache {key}')
    return cache


def has_base(teacher) -> bool:
    """Whether a teacher (a config file of the repo or an OOKD config's
    ``model.teacher``) sits on a stage-1 IDOL."""
    from mmookd.models.vis.ookd import teacher_has_base
    if isinstance(teacher, str):
        teacher = osp.join(ROOT, teacher)
    return teacher_has_base(teacher)


def teacher_diagnostics(wd: str,
                        root: str,
                        idol: str,
                        teacher: str,
                        key: str = '2k') -> dict:
    """``teacher_knowledge.py`` of a teacher (work dir ``wd``) and the
    seed's IDOL, kept in ``wd/knowledge.json`` (the OOKD config of the
    teacher ``key``, :data:`TEACHER_OOKD`, where it has one)."""
    out = osp.join(wd, 'knowledge.json')
    if not osp.exists(osp.join(ROOT, out)):
        config = (['--config', TEACHER_OOKD[key]]
                  if key in TEACHER_OOKD else [])
        diag = json_tool([
            'tools/analysis_tools/teacher_knowledge.py', root,
            '--idol-checkpoint', idol, '--teacher-checkpoint', teacher,
            '--out',
            osp.join(wd, 'knowledge.png'), '--no-progress'
        ] + config, 'teacher diagnostics')
        with open(osp.join(ROOT, out), 'w') as f:
            json.dump(diag, f)
    with open(osp.join(ROOT, out)) as f:
        return json.load(f)


def load_results(results: str) -> Dict[str, Dict[int, dict]]:
    found: Dict[str, Dict[int, dict]] = {}
    for path in sorted(glob.glob(osp.join(ROOT, results, '*', 'seed*.json'))):
        row = osp.basename(osp.dirname(path))
        seed = int(osp.basename(path)[4:-5])
        with open(path) as f:
            found.setdefault(row, {})[seed] = json.load(f)
    return found


def std(values) -> float:
    """Sample standard deviation (0 for one value)."""
    return float(np.std(values, ddof=1)) if len(values) > 1 else 0.0


def report(args) -> dict:
    found = load_results(args.results)
    names = ('AP', 'AP50', 'mAP_S', 'mAP_L', 'rare_AP', 'AssA', 'HOTA',
             'IDF1')
    print(f'SynthVIS study ({args.results}): mean +- std over seeds, %')
    width = max(len(r) for r in ROWS) + 2
    table = seed_values(found, names)
    print_seed_table(table, names, width)
    teachers = {}
    for key, (_, _, folder) in TEACHERS.items():
        runs = found.get(folder, {})
        if not runs and key != '2k':
            continue
        teachers[key] = {
            k: [runs[s].get(k) for s in sorted(runs)]
            for k in TEACHER_KEYS
        }
        if runs:
            print(f'\nteacher {key} ({folder}) diagnostics per seed '
                  f'{sorted(runs)}:')
            for name, values in teachers[key].items():
                print(f'  {name:<22s}' + ''.join(
                    f'{v:>9.3f}' if isinstance(v, (int, float)) else
                    f'{"-":>9s}' for v in values))
    vs_idol = versus_idol(found, names)
    if vs_idol:
        print('\nagainst idol: difference of the means (z = difference / '
              'pooled std; > 2: beyond 2 std)')
        print(f'{"row":<{width}s}' + ''.join(f'{n:>16s}' for n in names))
        for row, cells in vs_idol.items():
            print(f'{row:<{width}s}' + ''.join(
                f'{c["diff"]:>+8.2f} z{c["z"]:>+6.1f}' if c['z'] is not None
                else (f'{c["diff"]:>+8.2f}{"":>8s}' if c['diff'] is not None
                      else f'{"-":>16s}') for c in cells.values()))
    peers = peer_table(found)
    if peers:
        print(f'\npeers, on the seeds every peer row has {peers["seeds"]} '
              '(mean; latency: ms a frame, one thread):')
        print(f'{"row":<{width}s}' +
              ''.join(f'{n:>12s}' for n in PEER_TABLE_NAMES))
        for row, cells in peers['rows'].items():
            print(f'{row:<{width}s}' + ''.join(
                f'{cells[n]:>12.1f}' if cells[n] is not None else
                f'{"-":>12s}' for n in PEER_TABLE_NAMES))
    thresholded = {}
    for thr in score_thresholds(found):
        t_names = [f'{n}@{thr}' for n in TRACK_NAMES]
        t_table = {
            row: values
            for row, values in seed_values(found, t_names).items()
            if any(values.values())
        }
        thresholded[thr] = dict(
            rows=t_table, vs_idol=versus_idol(found, t_names))
        print(f'\ntracking metrics of the tracks scoring >= {thr} '
              '(mean +- std over seeds):')
        print_seed_table(t_table, t_names, width)
    if args.plot:
        plot(table, args.plot)
    if args.markdown:
        print(markdown(table, found, vs_idol))
        if peers:
            print('\n' + peer_markdown(peers))
        for thr, t in thresholded.items():
            print(f'\ntracks scoring >= {thr}:\n' + markdown(
                t['rows'], found, t['vs_idol'],
                (f'HOTA@{thr}', f'AssA@{thr}'), peers=True))
    result = dict(
        rows=table,
        teacher=teachers['2k'],
        teachers=teachers,
        vs_idol=vs_idol,
        peers=peers,
        thresholded=thresholded)
    if args.json:
        print(json.dumps(result))
    return result


def seed_values(found: Dict[str, Dict[int, dict]],
                names: Sequence[str]) -> Dict[str, Dict[str, list]]:
    """Per row of :data:`ROWS` and metric, the values of the seeds whose
    result file has it (in seed order)."""
    return {
        row: {
            n: [
                runs[s][n] for s in sorted(runs)
                if runs[s].get(n) is not None
            ]
            for n in names
        }
        for row, runs in ((r, found.get(r, {})) for r in ROWS)
    }


def print_seed_table(table: Dict[str, Dict[str, list]], names: Sequence[str],
                     width: int) -> None:
    """Print :func:`seed_values` as mean +- std, with the seeds of each
    row (those with a figure)."""
    print(f'{"row":<{width}s}{"seeds":>7s}' +
          ''.join(f'{n:>14s}' for n in names))
    for row, values in table.items():
        seeds = max((len(v) for v in values.values()), default=0)
        print(f'{row:<{width}s}{seeds:>7d}' + ''.join(
            f'{np.mean(v):>7.2f}+-{std(v):<5.2f}' if v else f'{"-":>14s}'
            for v in values.values()))


def versus_idol(found: Dict[str, Dict[int, dict]],
                names: Sequence[str]) -> Dict[str, Dict[str, dict]]:
    """Each row against ``idol`` per metric, on the seeds both have:
    ``diff``, the difference of the means (row - idol), ``z``, that
    difference over the pooled sample standard deviation ``sqrt((s_row^2 +
    s_idol^2) / 2)`` (None with fewer than 2 common seeds or no spread),
    and ``seeds``, the common seeds.

    Args:
        found (dict): row -> seed -> result (:func:`load_results`).
        names (Sequence[str]): The metrics.
    """
    base = found.get('idol', {})
    out = {}
    for row in ROWS:
        runs = found.get(row, {})
        if row == 'idol' or not runs:
            continue
        cells = {}
        for name in names:
            seeds = sorted(
                s for s in runs if s in base
                and runs[s].get(name) is not None
                and base[s].get(name) is not None)
            if not seeds:
                cells[name] = dict(diff=None, z=None, seeds=[])
                continue
            v = [runs[s][name] for s in seeds]
            b = [base[s][name] for s in seeds]
            diff = float(np.mean(v) - np.mean(b))
            pooled = np.sqrt((std(v)**2 + std(b)**2) / 2)
            z = diff / pooled if len(seeds) > 1 and pooled > 0 else None
            cells[name] = dict(
                diff=diff, z=None if z is None else float(z), seeds=seeds)
        out[row] = cells
    return out


def score_thresholds(found: Dict[str, Dict[int, dict]]) -> List[str]:
    """The ``T`` of the ``HOTA@T`` keys in the result files, sorted."""
    found_thr = {
        key.split('@', 1)[1]
        for runs in found.values() for result in runs.values()
        for key in result if key.startswith('HOTA@')
    }
    return sorted(found_thr, key=float)


def peer_table(found: Dict[str, Dict[int, dict]]) -> Optional[dict]:
    """IDOL, OOKD and the peers side by side, on the seeds that every peer
    row with results has (the peers are run on fewer seeds than the
    study): the mean of each of :data:`PEER_TABLE_NAMES` over those seeds
    (None where a result file lacks it), and its sample std. None without
    peer results.

    Returns:
        dict | None: ``seeds``, ``rows`` (row -> name -> mean) and ``std``
        (row -> name -> sample std, 0 for one seed).
    """
    peer_seeds = [set(found[r]) for r in PEERS if found.get(r)]
    if not peer_seeds:
        return None
    seeds = sorted(set.intersection(*peer_seeds))
    rows, stds = {}, {}
    for row in PEER_TABLE_ROWS:
        runs = found.get(row, {})
        if not all(s in runs for s in seeds):
            continue
        cells, spread = {}, {}
        for name in PEER_TABLE_NAMES:
            values = [runs[s].get(name) for s in seeds]
            missing = any(v is None for v in values)
            cells[name] = None if missing else float(np.mean(values))
            spread[name] = None if missing else std(values)
        rows[row], stds[row] = cells, spread
    return dict(seeds=seeds, rows=rows, std=stds)


def peer_markdown(peers: dict) -> str:
    """:func:`peer_table` in markdown (mean +- std with several seeds)."""
    lines = [
        '| row | on seeds | ' + ' | '.join(PEER_TABLE_NAMES) + ' |',
        '|---' * (len(PEER_TABLE_NAMES) + 2) + '|'
    ]
    seeds = ' '.join(str(s) for s in peers['seeds'])
    several = len(peers['seeds']) > 1
    for row, cells in peers['rows'].items():
        spread = peers['std'][row]
        lines.append(f'| {row} | {seeds} | ' + ' | '.join(
            '-' if cells[n] is None else
            (f'{cells[n]:.1f} +- {spread[n]:.1f}' if several else
             f'{cells[n]:.1f}') for n in PEER_TABLE_NAMES) + ' |')
    return '\n'.join(lines)


def markdown(table: dict,
             found: dict,
             vs_idol: Optional[dict] = None,
             against: Sequence[str] = ('AP', 'mAP_L', 'AssA'),
             peers: bool = False) -> str:
    """The table in markdown: mean +- std (seeds) per row and metric, and
    with ``vs_idol`` (:func:`versus_idol`) the difference of the metrics
    ``against`` from ``idol`` with its ``z``; the peer rows only with
    ``peers`` (they have their own table, :func:`peer_markdown`)."""
    names = list(next(iter(table.values())))
    against = tuple(against) if vs_idol is not None else ()
    lines = [
        '| row | seeds | ' + ' | '.join(names) +
        ''.join(f' | {n} - idol (z)' for n in against) + ' |',
        '|---' * (len(names) + 2 + len(against)) + '|'
    ]
    for row, values in table.items():
        # the seeds with a figure (a backfilled key may lack on some)
        seeds = max((len(v) for v in values.values()), default=0)
        if not seeds or (row in PEERS and not peers):
            continue
        cells = [
            f'{np.mean(v):.1f} +- {std(v):.1f}' if len(v) > 1 else
            (f'{v[0]:.1f}' if v else '-') for v in values.values()
        ]
        for name in against:
            c = vs_idol.get(row, {}).get(name)
            if c is None or c['diff'] is None:
                cells.append('-')
            elif c['z'] is None:
                cells.append(f'{c["diff"]:+.1f}')
            else:
                cells.append(f'{c["diff"]:+.1f} ({c["z"]:+.1f})')
        lines.append(f'| {row} | {seeds} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def plot(table: dict, out: str) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    rows = [r for r in ROWS if table[r]['AP']]
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    for ax, metric in zip(axes, ('AP', 'mAP_L')):
        for i, row in enumerate(rows):
            values = table[row][metric]
            ax.scatter([i] * len(values), values, color='tab:blue', s=14)
            if values:
                ax.hlines(np.mean(values), i - 0.3, i + 0.3, color='k')
        ax.set_xticks(range(len(rows)))
        ax.set_xticklabels(rows, rotation=35, ha='right', fontsize=8)
        ax.set_ylabel(f'{metric} (%)')
        ax.set_title(f'SynthVIS {metric}: seeds (dots), mean (bar)')
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)


def main(argv=None):
    args = parse_args(argv)
    if args.report:
        return report(args)
    if args.backfill:
        backfill(args)
        return report(args)
    start = time.time()
    git_commit()  # the code the runs use, read before they start
    for seed in args.seeds:
        run_seed(seed, args.rows, args)
    print(f'\nstudy done in {time.time() - start:.0f} s')
    return report(args)


if __name__ == '__main__':
    main()
