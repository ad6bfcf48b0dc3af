# Copyright (c) mmookd authors. All rights reserved.
"""Class statistics of a YouTube-VIS format training set (Minor-Paste).

Prints per class: the number of instance tracks, the share ``p_c``, the
Minor-Paste probability ``p^s_c`` of Eq. 6 and whether the class is minor;
writes a bar chart of shares and paste probabilities.

Example::

    python tools/analysis_tools/class_stats.py \
        data/synthvis/annotations/synthvis_train.json --json

With ``--json`` the last printed line is one JSON object::

    {"classes": [{"id", "name", "share", "paste_prob", "minor"}, ...],
     "counts": [...], "num_tracks": int, "k": float, "minor_thr": float,
     "png": str}
"""
import argparse
import json
import os
import os.path as osp

from mmookd.datasets.class_stats import ClassStats, ytvis_class_stats


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Class statistics and Minor-Paste probabilities (Eq. 6)'
        ' of a YouTube-VIS format annotation file')
    parser.add_argument('ann_file', help='YouTube-VIS format JSON')
    parser.add_argument(
        '--k', type=float, default=0.7, help='scale k of Eq. 6')
    parser.add_argument(
        '--minor-thr',
        type=float,
        default=0.1,
        help='a class with a share below this is minor')
    parser.add_argument(
        '--out-png',
        default=None,
        help='bar chart path (default: work_dirs/class_stats/'
        '<ann file name>.png)')
    parser.add_argument(
        '--json',
        action='store_true',
        help='print the statistics as one JSON object on the last line')
    return parser.parse_args(argv)


def format_table(stats: ClassStats) -> str:
    """A text table, one row per class, and a total line."""
    width = max([len('class')] + [len(n) for n in stats.names])
    head = (f'{"id":>4}  {"class":<{width}}  {"tracks":>7}  {"share":>7}  '
            f'{"paste p":>7}  minor')
    lines = [head, '-' * len(head)]
    for row in stats.to_rows():
        lines.append(f'{row["id"]:>4}  {row["name"]:<{width}}  '
                     f'{row["count"]:>7d}  {100 * row["share"]:>6.2f}%  '
                     f'{row["paste_prob"]:>7.3f}  '
                     f'{"yes" if row["minor"] else "no"}')
    lines.append('-' * len(head))
    lines.append(f'{int(stats.counts.sum())} tracks; k = {stats.k}; minor: '
                 f'share < {100 * stats.minor_thr:g}% '
                 f'({int(stats.minor.sum())} classes)')
    return '\n'.join(lines)


def plot_stats(stats: ClassStats, out_png: str) -> None:
    """Bar chart: share and paste probability per class."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    import numpy as np

    x = np.arange(len(stats.names))
    many = len(x) > 10
    width = 0.35 * len(x) + 2 if many else max(6, 0.9 * len(x) + 1.5)
    rotation = 60 if many else (30 if len(x) > 6 else 0)
    fig, ax = plt.subplots(figsize=(width, 4.5))
    ax.bar(x - 0.2, stats.shares, 0.4, label='share $p_c$')
    ax.bar(x + 0.2, stats.paste_probs, 0.4, label='paste prob. $p^s_c$')
    ax.axhline(
        stats.minor_thr,
        color='grey',
        linestyle='--',
        linewidth=1,
        label=f'minor threshold ({stats.minor_thr:g})')
    ax.set_xticks(x)
    ax.set_xticklabels(
        [n + (' *' if m else '') for n, m in zip(stats.names, stats.minor)],
        rotation=rotation,
        ha='right' if rotation else 'center')
    ax.set_ylim(0, 1)
    ax.set_title(f'Minor-Paste statistics (k = {stats.k:g}; * = minor)')
    ax.legend()
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(out_png)), exist_ok=True)
    fig.savefig(out_png, dpi=100)
    plt.close(fig)


def main(argv=None) -> dict:
    args = parse_args(argv)
    if not osp.isfile(args.ann_file):
        raise FileNotFoundError(f'annotation file {args.ann_file!r} '
                                'does not exist')
    stats = ytvis_class_stats(
        args.ann_file, k=args.k, minor_thr=args.minor_thr)
    out_png = args.out_png or osp.join(
        'work_dirs', 'class_stats',
        osp.splitext(osp.basename(args.ann_file))[0] + '.png')
    plot_stats(stats, out_png)
    print(format_table(stats))
    print(f'bar chart: {out_png}')
    result = dict(
        classes=[{
            key: row[key]
            for key in ('id', 'name', 'share', 'paste_prob', 'minor')
        } for row in stats.to_rows()],
        counts=[int(c) for c in stats.counts],
        num_tracks=int(stats.counts.sum()),
        k=stats.k,
        minor_thr=stats.minor_thr,
        png=out_png)
    if args.json:
        print(json.dumps(result))
    return result


if __name__ == '__main__':
    main()
