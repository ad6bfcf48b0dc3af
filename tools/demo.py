# Copyright (c) mmookd authors. All rights reserved.
"""The main job (``make demo``): mmookd end to end on SynthVIS, on the CPU.

Steps, each a command of the repository that can be rerun on its own:

1. generate SynthVIS (``tools/dataset_converters/make_synthvis.py``),
   skipped when the annotation files already exist (``--regenerate`` to
   force);
2. class statistics and Minor-Paste's paste probabilities of the training
   split (``tools/analysis_tools/class_stats.py``): a table and a bar chart;
3. contact sheets of training and long validation clips with masks, ids and
   class names (``tools/analysis_tools/browse_dataset.py``);
4. the three OOKD stages (IDOL, offline teacher, OOKD with a cached teacher)
   and the evaluation of IDOL, the teacher and OOKD on the short and long
   validation videos, printed as the paper's table
   (``tools/ookd_pipeline.py synthvis``; finished stages are skipped);
5. the same-instance feature similarity of IDOL vs OOKD, the paper's Fig. 6
   (``tools/analysis_tools/feature_similarity.py``);
6. the OOKD student run on the longest long-validation video, drawn with
   masks, track ids and class names into an mp4 and a few PNG frames
   (``demo/synthvis_video.py``, :class:`mmookd.apis.VISInferencer`).

Outputs go to ``--out`` (default ``outputs/demo``), the pipeline's table
among them (``ookd_results.md`` and ``ookd_results.json``), so the result
outlives the terminal.
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
DATASET_CFG = osp.join('configs', '_base_', 'datasets', 'synthvis.py')


def write_table(results: str, out: str) -> None:
    """The pipeline's table as ``ookd_results.md`` and ``.json`` in out."""
    if not osp.isfile(results):
        print(f'[demo] no pipeline results at {results}: no table written')
        return
    with open(results) as f:
        summary = json.load(f)
    rows = summary['rows']
    columns = [k for k in rows[0] if k != 'method'] if rows else []
    lines = ['| method | ' + ' | '.join(columns) + ' |',
             '|---' * (len(columns) + 1) + '|']
    for row in rows:
        cells = ['-' if row[c] is None else str(row[c]) for c in columns]
        lines.append(f'| {row["method"]} | ' + ' | '.join(cells) + ' |')
    with open(osp.join(out, 'ookd_results.md'), 'w') as f:
        f.write('SynthVIS, `tools/ookd_pipeline.py synthvis --eval-teacher`'
                ' (percent)\n\n' + '\n'.join(lines) + '\n')
    with open(osp.join(out, 'ookd_results.json'), 'w') as f:
        json.dump(summary, f, indent=1)
    print(f'[demo] table written to {out}/ookd_results.md and .json')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='mmookd demo on SynthVIS')
    parser.add_argument('--data', default='data/synthvis')
    parser.add_argument('--out', default='outputs/demo')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--work-dir',
        default='work_dirs/ookd_pipeline/synthvis',
        help='work dir of the three stages')
    parser.add_argument(
        '--skip-training',
        action='store_true',
        help='only the data steps (1-3)')
    parser.add_argument(
        '--regenerate',
        action='store_true',
        help='generate SynthVIS even if it exists')
    return parser.parse_args(argv)


class Steps:
    """Runs numbered steps as subprocesses and reports their times."""

    def __init__(self, total: int):
        self.total = total
        self.done = 0
        self.times = []

    def run(self, title: str, cmd: list) -> None:
        self.done += 1
        print(f'\n==> [{self.done}/{self.total}] {title}', flush=True)
        print('    $ ' + ' '.join(cmd), flush=True)
        start = time.time()
        result = subprocess.run(cmd, cwd=ROOT)
        elapsed = time.time() - start
        if result.returncode != 0:
            sys.exit(f'\nmake demo failed at step {self.done}/{self.total} '
                     f'({title}): the command above exited with '
                     f'{result.returncode}.')
        self.times.append((title, elapsed))
        print(f'    done in {elapsed:.1f} s', flush=True)

    def skip(self, title: str, why: str) -> None:
        self.done += 1
        print(f'\n==> [{self.done}/{self.total}] {title}: skipped ({why})')
        self.times.append((title, 0.0))


def main(argv=None):
    args = parse_args(argv)
    py = sys.executable
    data = args.data.rstrip('/')
    out = args.out
    os.makedirs(osp.join(ROOT, out), exist_ok=True)
    train_ann = osp.join(data, 'annotations', 'synthvis_train.json')
    data_opts = [
        f'{split}_dataloader.dataset.data_root={data}/'
        for split in ('train', 'val')
    ]
    steps = Steps(total=4 if args.skip_training else 7)
    start = time.time()

    if args.regenerate or not osp.exists(osp.join(ROOT, train_ann)):
        steps.run('generate SynthVIS', [
            py, 'tools/dataset_converters/make_synthvis.py', '--out', data,
            '--seed',
            str(args.seed)
        ])
    else:
        steps.skip('generate SynthVIS',
                   f'{train_ann} exists; --regenerate to redo it')
    steps.run('class statistics of the training split', [
        py, 'tools/analysis_tools/class_stats.py', train_ann, '--out-png',
        osp.join(out, 'synthvis_class_stats.png')
    ])
    steps.run('contact sheet: training clips', [
        py, 'tools/analysis_tools/browse_dataset.py', DATASET_CFG, '--out',
        osp.join(out, 'synthvis_train.png'), '--num-videos', '6',
        '--num-frames', '6', '--cfg-options'
    ] + data_opts)
    steps.run('contact sheet: long validation clips', [
        py, 'tools/analysis_tools/browse_dataset.py', DATASET_CFG, '--split',
        'val', '--long-only', '--out',
        osp.join(out, 'synthvis_val_long.png'), '--num-videos', '4',
        '--num-frames', '8', '--cfg-options'
    ] + data_opts)

    if not args.skip_training:
        # The configs read data/synthvis; another --data is passed to the
        # dataset of every stage (OOKD's is wrapped by ClipMixDataset).
        stage_opts = [] if data == 'data/synthvis' else [
            '--cfg-options', f'val_dataloader.dataset.data_root={data}/',
            f'train_dataloader.dataset.dataset.data_root={data}/'
        ]
        steps.run('the three OOKD stages and their evaluation', [
            py, 'tools/ookd_pipeline.py', 'synthvis', '--eval-teacher',
            '--work-dir', args.work_dir
        ] + stage_opts)
        wd = args.work_dir
        steps.run('same-instance feature similarity, IDOL vs OOKD', [
            py, 'tools/analysis_tools/feature_similarity.py', '--configs',
            'configs/idol/idol_r18-w32_1xb4-2k_synthvis.py',
            'configs/idol/idol_r18-w32_1xb4-2k_synthvis.py', '--checkpoints',
            osp.join(wd, 'idol', 'iter_2000.pth'),
            osp.join(wd, 'ookd', 'iter_2000.pth'), '--labels', 'IDOL', 'OOKD',
            '--out',
            osp.join(out, 'feature_similarity.png'), '--cfg-options',
            f'val_dataloader.dataset.data_root={data}/'
        ])
        write_table(osp.join(ROOT, wd, 'results.json'), osp.join(ROOT, out))
        steps.run('the OOKD student on a long validation video', [
            py, 'demo/synthvis_video.py',
            'configs/idol/idol_r18-w32_1xb4-2k_synthvis.py',
            osp.join(wd, 'ookd', 'iter_2000.pth'), '--data', data, '--out',
            out
        ])

    print('\n' + '=' * 60)
    print(f'mmookd demo finished in {time.time() - start:.1f} s')
    for title, elapsed in steps.times:
        print(f'  {title:<45s} {elapsed:7.1f} s')
    print(f'outputs in {out}/:')
    for name in sorted(os.listdir(osp.join(ROOT, out))):
        print(f'  {name}')


if __name__ == '__main__':
    main()
