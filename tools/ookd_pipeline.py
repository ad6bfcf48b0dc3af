# Copyright (c) mmookd authors. All rights reserved.
"""Run the three OOKD stages and evaluate them, skipping finished stages.

    python tools/ookd_pipeline.py synthvis
    python tools/ookd_pipeline.py youtube-vis-2022 --launcher pytorch ...
    python tools/ookd_pipeline.py path/to/my_configs/

Stage 1 trains IDOL (the online student architecture), stage 2 the offline
teacher (frozen stage-1 IDOL + aggregator), stage 3 OOKD (the student
distilled from the stage-2 teacher). The student starts where the stage-1
IDOL started and trains as long (an equal budget, the stage-3 configs'
default); a config that sets ``model.student_checkpoint`` (the ``ookd-ft_*``
variants) fine-tunes from the stage-1 checkpoint instead, and the pipeline
points it there. Then IDOL and
OOKD (and, with ``--eval-teacher``, the teacher) are evaluated on the
validation split(s) and a table in the paper's form is printed: AP, AP50,
AP75, AR1, AR10, mAP_S, mAP_L (where the metric has ``short`` and ``long``
subsets, as YTVIS-22 and SynthVIS do), and HOTA/AssA on the short and long
videos (where the metric has ``track_metrics``, as SynthVIS's does).

A stage whose final checkpoint loads is skipped, and so is an evaluation
whose metrics file exists: rerunning the command resumes the pipeline. A
final checkpoint that exists but does not load (a run killed while saving
it) is moved aside to ``<name>.broken`` and its stage is trained again.
A directory argument must hold exactly one ``idol_*.py``, one
``ookd-teacher_*.py`` and one ``ookd_*.py`` config.
"""
import argparse
import glob
import json
import os
import os.path as osp
import subprocess
import sys
import time
from typing import Dict, List, Optional, Tuple

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))

# dataset name -> (stage-1, stage-2, stage-3) configs
PRESETS = {
    'synthvis':
    ('configs/idol/idol_r18-w32_1xb4-2k_synthvis.py',
     'configs/ookd_teacher/ookd-teacher_r18-w32_1xb4-500_synthvis.py',
     'configs/ookd/ookd_cached-teacher_r18-w32_1xb4-2k_synthvis.py'),
}
STAGE_NAMES = ('idol', 'teacher', 'ookd')
METRIC_COLUMNS = (('AP', 'segm_mAP'), ('AP50', 'segm_mAP_50'),
                  ('AP75', 'segm_mAP_75'), ('AR1', 'segm_AR@1'),
                  ('AR10', 'segm_AR@10'), ('mAP_S', 'short_segm_mAP'),
                  ('mAP_L', 'long_segm_mAP'), ('HOTA_S', 'short_segm_HOTA'),
                  ('AssA_S', 'short_segm_AssA'),
                  ('HOTA_L', 'long_segm_HOTA'), ('AssA_L', 'long_segm_AssA'))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Train and evaluate the three OOKD stages')
    parser.add_argument(
        'target',
        help=f'a dataset name ({", ".join(sorted(PRESETS))}) or a folder '
        'with an idol_*.py, an ookd-teacher_*.py and an ookd_*.py config')
    parser.add_argument(
        '--work-dir',
        help='root of the stages\' work dirs (default: '
        'work_dirs/ookd_pipeline/<target name>)')
    parser.add_argument(
        '--eval-teacher',
        action='store_true',
        help='also evaluate the offline teacher (video-level inference)')
    parser.add_argument(
        '--stages',
        nargs='+',
        choices=STAGE_NAMES,
        default=list(STAGE_NAMES),
        help='train only these stages (the others must have checkpoints)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        default=[],
        help='passed to every tools/train.py and tools/test.py call')
    parser.add_argument(
        '--json', action='store_true', help='print the table as JSON last')
    return parser.parse_args(argv)


def resolve_configs(target: str) -> Dict[str, str]:
    """The stage configs of a dataset name or a folder."""
    if target in PRESETS:
        return dict(zip(STAGE_NAMES, PRESETS[target]))
    folder = osp.abspath(target)
    if not osp.isdir(folder):
        raise SystemExit(f'ookd_pipeline: {target!r} is neither a dataset '
                         f'name ({", ".join(sorted(PRESETS))}) nor a folder')
    patterns = dict(
        idol='idol_*.py', teacher='ookd-teacher_*.py', ookd='ookd_*.py')
    configs = {}
    for stage, pattern in patterns.items():
        found = sorted(glob.glob(osp.join(folder, pattern)))
        if len(found) != 1:
            raise SystemExit(
                f'ookd_pipeline: {folder} must hold exactly one {pattern} '
                f'(stage {stage}); found {len(found)}: {found}')
        configs[stage] = found[0]
    return configs


def schedule_end(config: str) -> Tuple[str, Optional[int]]:
    """``('iter', max_iters)`` or ``('epoch', max_epochs)`` of ``config``'s
    ``train_cfg`` (``max_epochs`` may be None)."""
    from mmengine.config import Config
    train_cfg = Config.fromfile(config).train_cfg
    max_iters = train_cfg.get('max_iters')
    if max_iters is None:
        return 'epoch', train_cfg.get('max_epochs')
    return 'iter', max_iters


def final_checkpoint(config: str, work_dir: str) -> str:
    """Path of the checkpoint a finished training of ``config`` leaves."""
    unit, last = schedule_end(config)
    return osp.join(work_dir, f'{unit}_{last}.pth')


def skip_train_val_options(config: str) -> List[str]:
    """Overrides that switch off a training's own final validation.

    The pipeline tests every stage itself (``evaluate``), so the Runner's
    validation at the end of training would evaluate the same checkpoint a
    second time. ``val_begin`` past the last iteration (or epoch) skips it.
    """
    _, last = schedule_end(config)
    if last is None:
        return []
    return [f'train_cfg.val_begin={int(last) + 1}']


def stage_done(ckpt: str) -> bool:
    """Whether a stage finished: its final checkpoint exists and loads.

    A checkpoint that exists but does not load (truncated by a run killed
    while saving) is renamed to ``<ckpt>.broken`` and the stage is not done.
    """
    path = osp.join(ROOT, ckpt)
    if not osp.exists(path):
        return False
    import mmookd  # noqa: F401  (the safe checkpoint loader)
    from mmookd.utils.tool_checks import checkpoint_problem
    problem = checkpoint_problem(path)
    if problem is None:
        return True
    os.replace(path, path + '.broken')
    print(f'    {ckpt} exists but {problem}: moved to {ckpt}.broken, the '
          'stage is trained again', flush=True)
    return False


def run(cmd: List[str], title: str) -> None:
    print(f'    $ {" ".join(cmd)}', flush=True)
    start = time.time()
    code = subprocess.run(cmd, cwd=ROOT).returncode
    if code != 0:
        raise SystemExit(f'ookd_pipeline: {title} failed (exit code {code}); '
                         'its log is in the work dir above. Fix the cause '
                         'and rerun: finished stages are skipped.')
    print(f'    {title} done in {time.time() - start:.0f} s', flush=True)


def _model_cfg(config: str):
    from mmengine.config import Config
    return Config.fromfile(config).model


def teacher_cache_file(config: str, work_dir: str) -> Optional[str]:
    """Where stage 3 keeps its teacher cache, if its config uses one."""
    if _model_cfg(config).get('teacher_cache') is None:
        return None
    return osp.join(work_dir, 'teacher_cache.pth')


def stage_options(stage: str, configs: Dict[str, str], ckpts: Dict[str, str],
                  work_dirs: Dict[str, str]) -> List[str]:
    """Config overrides that wire a stage to the previous stages."""
    if stage == 'teacher':
        return [f'model.base_checkpoint={ckpts["idol"]}']
    if stage == 'ookd':
        # the teacher is built from its own config: point it at the
        # stage-1 IDOL too (its checkpoint records that file's hash)
        options = [
            f'model.teacher_checkpoint={ckpts["teacher"]}',
            f'model.teacher.base_checkpoint={ckpts["idol"]}'
        ]
        model = _model_cfg(configs['ookd'])
        # a config that initialises its student from a checkpoint gets the
        # stage-1 one; one that starts like stage 1 keeps doing so
        if model.get('student_checkpoint'):
            options.append(f'model.student_checkpoint={ckpts["idol"]}')
        cache = teacher_cache_file(configs['ookd'], work_dirs['ookd'])
        if cache is not None:
            key = 'file' if isinstance(model.teacher_cache, dict) else None
            options.append(f'model.teacher_cache.{key}={cache}'
                           if key else f'model.teacher_cache={cache}')
        return options
    return []


def build_teacher_cache(configs: Dict[str, str], ckpts: Dict[str, str],
                        work_dirs: Dict[str, str]) -> None:
    """Run the teacher once over the training videos (cached stage 3)."""
    cache = teacher_cache_file(configs['ookd'], work_dirs['ookd'])
    if cache is None:
        return
    if osp.exists(osp.join(ROOT, cache)):
        print(f'    teacher cache {cache} exists: reused')
        return
    run([
        sys.executable, 'tools/ookd/cache_teacher.py', configs['ookd'],
        '--out', cache, '--teacher-checkpoint', ckpts['teacher'],
        '--cfg-options', f'model.teacher.base_checkpoint={ckpts["idol"]}'
    ], 'teacher cache')


def evaluate(name: str, config: str, ckpt: str, work_dir: str,
             extra: List[str], cfg_options: List[str]) -> Dict[str, float]:
    """Test a checkpoint once (cached in ``work_dir/metrics.json``)."""
    out = osp.join(work_dir, 'metrics.json')
    if osp.exists(out):
        print(f'    {name}: metrics exist ({out}), skipped')
    else:
        options = extra + cfg_options
        run([sys.executable, 'tools/test.py', config, ckpt, '--work-dir',
             work_dir, '--metrics-out', out] +
            (['--cfg-options'] + options if options else []),
            f'evaluation of {name}')
    with open(out) as f:
        return json.load(f)


def table_rows(results: Dict[str, Dict[str, float]]) -> List[dict]:
    """One row per method with the paper's columns, in percent."""
    rows = []
    for method, metrics in results.items():
        row = dict(method=method)
        for column, key in METRIC_COLUMNS:
            value = next((v for k, v in metrics.items()
                          if k.split('/')[-1] == key), None)
            row[column] = None if value is None or value < 0 else round(
                100 * value, 1)
        rows.append(row)
    return rows


def format_table(rows: List[dict]) -> str:
    header = f'{"method":<10s}' + ''.join(
        f'{column:>8s}' for column, _ in METRIC_COLUMNS)
    lines = [header, '-' * len(header)]
    for row in rows:
        cells = ''.join(f'{"-" if row[c] is None else row[c]:>8}'
                        for c, _ in METRIC_COLUMNS)
        lines.append(f'{row["method"]:<10s}{cells}')
    return '\n'.join(lines)


def main(argv=None) -> Optional[dict]:
    args = parse_args(argv)
    configs = resolve_configs(args.target)
    name = osp.basename(osp.normpath(args.target))
    root = args.work_dir or osp.join('work_dirs', 'ookd_pipeline', name)
    work_dirs = {s: osp.join(root, s) for s in STAGE_NAMES}
    ckpts = {s: final_checkpoint(configs[s], work_dirs[s])
             for s in STAGE_NAMES}
    start = time.time()
    evals = [('IDOL', 'idol'), ('OOKD', 'ookd')]
    if args.eval_teacher:
        evals.insert(1, ('teacher', 'teacher'))
    steps = len(STAGE_NAMES) + len(evals)
    for i, stage in enumerate(STAGE_NAMES, 1):
        title = f'stage {i}/3 ({stage})'
        print(f'\n==> [{i}/{steps}] train {title}: {configs[stage]}',
              flush=True)
        if stage_done(ckpts[stage]):
            print(f'    {ckpts[stage]} exists and loads: skipped')
            continue
        if stage not in args.stages:
            raise SystemExit(f'ookd_pipeline: {ckpts[stage]} is missing and '
                             f'stage {stage} is not in --stages')
        if stage == 'ookd':
            build_teacher_cache(configs, ckpts, work_dirs)
        options = (
            stage_options(stage, configs, ckpts, work_dirs) +
            skip_train_val_options(configs[stage]) + args.cfg_options)
        cmd = [
            sys.executable, 'tools/train.py', configs[stage], '--work-dir',
            work_dirs[stage]
        ]
        run(cmd + (['--cfg-options'] + options if options else []), title)

    results = {}
    for j, (method, stage) in enumerate(evals, len(STAGE_NAMES) + 1):
        print(f'\n==> [{j}/{steps}] evaluate {method}', flush=True)
        results[method] = evaluate(
            method, configs[stage], ckpts[stage],
            osp.join(work_dirs[stage], 'eval'),
            stage_options(stage, configs, ckpts, work_dirs), args.cfg_options)

    rows = table_rows(results)
    print(f'\nOOKD pipeline on {name} ({time.time() - start:.0f} s)')
    print(format_table(rows))
    summary = dict(target=name, configs=configs, checkpoints=ckpts, rows=rows)
    with open(osp.join(ROOT, root, 'results.json'), 'w') as f:
        json.dump(summary, f, indent=1)
    if args.json:
        print(json.dumps(summary))
    return summary


if __name__ == '__main__':
    main()
