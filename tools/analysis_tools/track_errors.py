# Copyright (c) mmookd authors. All rights reserved.
"""Where association breaks: coverage, identity switches, purity and spill
of predicted tracks against every ground-truth track, for one or more
results files (``mmookd/evaluation/functional/track_errors.py`` defines the
figures).

    python tools/analysis_tools/track_errors.py ANN_FILE RESULTS.json \\
        [RESULTS2.json ...] [--labels IDOL teacher] \\
        [--subset short=ANN_SHORT long=ANN_LONG] [--score-thr 0] [--json]

A results file is what ``VISMetric`` writes (``outfile_prefix`` + ``.json``,
YouTube-VIS format), e.g. after ``tools/test.py CONFIG CKPT --cfg-options
test_evaluator.outfile_prefix=work_dirs/idol_results``. ``--subset`` also
reports the videos of other annotation files (the same video ids, as the
SynthVIS short/long splits of ``synthvis_val.json``). With ``--json`` the
last line is ``{LABEL: {SUBSET: {tracks, coverage, switches,
switches_per_100, purity, spill}}}``.
"""
import argparse
import json
import os.path as osp
from typing import Dict, List

from mmookd.evaluation.functional.track_errors import (ERROR_ITEMS,
                                                       dataset_track_errors)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Coverage, switches, purity and spill of VIS results')
    parser.add_argument('ann_file', help='YouTube-VIS style annotations')
    parser.add_argument('results', nargs='+', help='results .json files')
    parser.add_argument('--labels', nargs='+', help='one per results file')
    parser.add_argument(
        '--subset',
        nargs='+',
        default=[],
        metavar='NAME=ANN_FILE',
        help='also report the videos of these annotation files')
    parser.add_argument('--score-thr', type=float, default=0.0)
    parser.add_argument('--iou-thr', type=float, default=0.5)
    parser.add_argument('--json', action='store_true')
    return parser.parse_args(argv)


def _load(path: str, what: str):
    if not osp.isfile(path):
        raise SystemExit(f'track_errors: {what} {path} does not exist')
    with open(path) as f:
        return json.load(f)


def main(argv=None) -> Dict[str, Dict[str, dict]]:
    args = parse_args(argv)
    labels = args.labels or [
        osp.splitext(osp.basename(p))[0] for p in args.results
    ]
    if len(labels) != len(args.results):
        raise SystemExit('track_errors: give one label per results file')
    gt = _load(args.ann_file, 'annotation file')
    subsets: Dict[str, List[int]] = {'all': [v['id'] for v in gt['videos']]}
    for item in args.subset:
        name, sep, path = item.partition('=')
        if not sep:
            raise SystemExit(f'track_errors: --subset {item!r}: NAME=FILE')
        subsets[name] = [v['id'] for v in _load(path, 'subset')['videos']]
    out: Dict[str, Dict[str, dict]] = {}
    for label, path in zip(labels, args.results):
        results = _load(path, 'results file')
        out[label] = {
            name: dataset_track_errors(gt, results, args.score_thr,
                                       args.iou_thr, ids)
            for name, ids in subsets.items()
        }
    print(f'GT tracks against predicted tracks (mask IoU >= {args.iou_thr},'
          f' predictions with score >= {args.score_thr})')
    print(f'{"model":<14s}{"subset":<8s}{"tracks":>7s}' +
          ''.join(f'{k:>18s}' for k in ERROR_ITEMS))
    for label, by_subset in out.items():
        for name, row in by_subset.items():
            print(f'{label:<14s}{name:<8s}{row["tracks"]:>7d}' + ''.join(
                f'{row[k]:>18.3f}' if row[k] is not None else f'{"-":>18s}'
                for k in ERROR_ITEMS))
    if args.json:
        print(json.dumps(out))
    return out


if __name__ == '__main__':
    main()
