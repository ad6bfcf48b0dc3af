# Copyright (c) mmookd authors. All rights reserved.
"""Hold out whole videos of a YouTube-VIS training set for local evaluation.

The public YTVIS / OVIS validation sets have no GT; this tool splits a
training annotation file into ``train.json`` and ``heldout.json`` so that
``VISMetric(ann_file='.../heldout.json')`` measures AP locally.

Usage::

    python tools/dataset_converters/split_heldout.py \\
        data/youtube_vis_2021/annotations/youtube_vis_2021_train.json \\
        --out-dir data/youtube_vis_2021/annotations/heldout \\
        --ratio 0.1 --seed 0 [--json]

How videos are chosen (deterministic for a seed):

1. Every video gets a *stratum*: its rarest class, i.e. the class among its
   annotations that occurs in the fewest videos of the file (ties: the
   smaller category id); videos without annotations form one more stratum.
2. ``round(ratio * num_videos)`` videos are held out (at least 1, at most
   all but one), shared among the strata in proportion to their size
   (largest remainders first, rarer strata first on ties); inside a
   stratum the held-out videos are drawn at random (numpy ``default_rng``
   with the seed).
3. Repair: every class found in >= 2 videos must appear in both parts.  A
   class missing from one part gets a video that contains it moved there
   (never removing the last video of another class from a part), and,
   when possible, a video without it moved the other way, so that the
   number of held-out videos stays the same.

Categories, ``info`` and ``licenses`` (any top-level key other than
``videos`` and ``annotations``) are copied to both files; annotations follow
their videos; video and annotation ids are unchanged.
"""
import argparse
import json
import os
import os.path as osp
import sys
from collections import Counter, defaultdict

import numpy as np


def load_ytvis(path: str) -> dict:
    """Read and check a YouTube-VIS annotation file.

    Args:
        path (str): the JSON file.

    Returns:
        dict: the parsed file (``videos``, ``annotations``, ``categories``).

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: not JSON, or not in the YouTube-VIS format (the message
            names the file and what is wrong).
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'annotation file not found: {path}')
    try:
        with open(path, encoding='utf-8') as f:
            data = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f'{path} is not a JSON file: {err}') from err
    if not isinstance(data, dict):
        raise ValueError(f'{path} is not a YouTube-VIS annotation file: the '
                         'top level is not an object')
    for key in ('videos', 'annotations', 'categories'):
        if not isinstance(data.get(key), list):
            raise ValueError(f'{path} is not a YouTube-VIS annotation file: '
                             f'no "{key}" list')
    video_ids = set()
    for i, video in enumerate(data['videos']):
        if not isinstance(video, dict) or 'id' not in video:
            raise ValueError(f'{path}: videos[{i}] has no "id"')
        if video['id'] in video_ids:
            raise ValueError(f'{path}: video id {video["id"]} is duplicated')
        video_ids.add(video['id'])
    for i, ann in enumerate(data['annotations']):
        if not isinstance(ann, dict) or 'video_id' not in ann \
                or 'category_id' not in ann:
            raise ValueError(f'{path}: annotations[{i}] lacks "video_id" or '
                             '"category_id"')
        if ann['video_id'] not in video_ids:
            raise ValueError(f'{path}: annotation {ann.get("id", i)} refers '
                             f'to unknown video_id {ann["video_id"]}')
    return data


def _video_classes(data: dict) -> dict:
    """video id -> set of the category ids annotated in it."""
    classes = {v['id']: set() for v in data['videos']}
    for ann in data['annotations']:
        classes[ann['video_id']].add(ann['category_id'])
    return classes


def _allocate(sizes: list, total: int) -> list:
    """Share ``total`` among strata of the given sizes (largest remainder).

    Strata are expected rarest first; ties in the remainder go to the
    earlier (rarer) stratum.
    """
    n = sum(sizes)
    exact = [s * total / n for s in sizes]
    quota = [int(np.floor(e)) for e in exact]
    order = sorted(
        range(len(sizes)), key=lambda i: (-(exact[i] - quota[i]), i))
    for i in order[:total - sum(quota)]:
        quota[i] += 1
    return quota


def split_videos(data: dict, ratio: float, seed: int = 0) -> tuple:
    """Choose the held-out videos.

    Args:
        data (dict): a YouTube-VIS annotation dict.
        ratio (float): fraction of videos to hold out, in (0, 1).
        seed (int): random seed.

    Returns:
        tuple[set, set, list]: train video ids, held-out video ids, and the
        category ids (with >= 2 videos) that could not be put in both parts
        (normally empty).
    """
    if not 0 < ratio < 1:
        raise ValueError(f'--ratio must be in (0, 1), got {ratio}')
    classes = _video_classes(data)
    vids = [v['id'] for v in data['videos']]
    if len(vids) < 2:
        raise ValueError(f'need at least 2 videos to split, got {len(vids)}')
    n_videos = Counter(c for cs in classes.values() for c in cs)
    rng = np.random.default_rng(seed)

    def rarest(vid):
        cs = classes[vid]
        return min(cs, key=lambda c: (n_videos[c], c)) if cs else None

    strata = defaultdict(list)
    for vid in vids:
        strata[rarest(vid)].append(vid)
    keys = sorted(
        strata,
        key=lambda k: (k is None, n_videos.get(k, 0), k
                       if k is not None else 0))
    total = min(max(int(round(ratio * len(vids))), 1), len(vids) - 1)
    quota = _allocate([len(strata[k]) for k in keys], total)
    held = set()
    for key, q in zip(keys, quota):
        members = strata[key]
        perm = rng.permutation(len(members))
        held.update(members[i] for i in perm[:q])
    train = set(vids) - held
    stratum = {vid: rarest(vid) for vid in vids}
    failed = _repair(classes, n_videos, train, held, stratum, rng, vids)
    return train, held, failed


def _repair(classes, n_videos, train, held, stratum, rng, vids) -> list:
    """Move videos until every class with >= 2 videos is in both parts.

    Modifies ``train`` and ``held`` in place; returns the classes that
    could not be fixed.
    """
    order = {vid: i for i, vid in enumerate(vids)}
    needed = sorted((c for c, n in n_videos.items() if n >= 2),
                    key=lambda c: (n_videos[c], c))

    def counts(part):
        return Counter(c for vid in part for c in classes[vid])

    def removable(vid, part_counts):
        # moving vid out keeps every needed class of it in the part
        return all(part_counts[c] >= 2 for c in classes[vid]
                   if n_videos[c] >= 2)

    def pick(cands):
        cands = sorted(cands, key=order.get)
        return cands[int(rng.integers(len(cands)))] if cands else None

    failed = []
    for cls in needed:
        for dst, src in ((held, train), (train, held)):
            if counts(dst)[cls] > 0:
                continue
            src_counts, dst_counts = counts(src), counts(dst)
            mover = pick([
                v for v in src
                if cls in classes[v] and removable(v, src_counts)
            ])
            if mover is None:
                failed.append(cls)
                continue
            src.discard(mover)
            dst.add(mover)
            partners = [
                v for v in dst if v != mover and cls not in classes[v]
                and removable(v, dst_counts)
            ]
            same = [v for v in partners if stratum[v] == stratum[mover]]
            partner = pick(same or partners)
            if partner is not None:
                dst.discard(partner)
                src.add(partner)
    return sorted(set(failed))


def build_part(data: dict, video_ids: set) -> dict:
    """The annotation dict restricted to some videos (order kept)."""
    part = {}
    for key, value in data.items():
        if key == 'videos':
            part[key] = [v for v in value if v['id'] in video_ids]
        elif key == 'annotations':
            part[key] = [a for a in value if a['video_id'] in video_ids]
        else:
            part[key] = value
    return part


def part_stats(part: dict) -> dict:
    """Videos, instances and per-class counts of one part.

    Returns:
        dict: ``videos``, ``instances`` and ``per_class``:
        ``{class name: {'videos': int, 'instances': int}}``.
    """
    vids_per_cls = defaultdict(set)
    inst_per_cls = Counter()
    for ann in part['annotations']:
        vids_per_cls[ann['category_id']].add(ann['video_id'])
        inst_per_cls[ann['category_id']] += 1
    per_class = {}
    for cat in part['categories']:
        per_class[str(cat.get('name', cat['id']))] = dict(
            videos=len(vids_per_cls[cat['id']]),
            instances=inst_per_cls[cat['id']])
    return dict(
        videos=len(part['videos']),
        instances=len(part['annotations']),
        per_class=per_class)


def format_table(train: dict, held: dict) -> str:
    """A plain-text table of the two parts' statistics."""
    width = max([len(n) for n in train['per_class']] + [8])
    head = (f'{"":<{width}}  {"train vid":>9} {"train ins":>9} '
            f'{"held vid":>9} {"held ins":>9}')
    lines = [head, '-' * len(head)]
    for name in train['per_class']:
        t, h = train['per_class'][name], held['per_class'][name]
        lines.append(f'{name:<{width}}  {t["videos"]:>9} {t["instances"]:>9}'
                     f' {h["videos"]:>9} {h["instances"]:>9}')
    lines.append('-' * len(head))
    lines.append(f'{"total":<{width}}  {train["videos"]:>9} '
                 f'{train["instances"]:>9} {held["videos"]:>9} '
                 f'{held["instances"]:>9}')
    return '\n'.join(lines)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Split whole videos of a YouTube-VIS training set into '
        'train.json and heldout.json (class-stratified, seeded).')
    parser.add_argument('ann', help='YouTube-VIS annotation JSON to split')
    parser.add_argument(
        '--out-dir', required=True, help='writes train.json, heldout.json')
    parser.add_argument(
        '--ratio',
        type=float,
        default=0.1,
        help='fraction of the videos to hold out (default 0.1)')
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    parser.add_argument(
        '--json',
        action='store_true',
        help='print a JSON summary as the last line')
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    """Run the tool.

    Returns:
        dict: the summary (also printed with ``--json``).

    Raises:
        SystemExit: bad input, with a message naming the file / option.
    """
    args = parse_args(argv)
    try:
        data = load_ytvis(args.ann)
        train_ids, held_ids, failed = split_videos(data, args.ratio, args.seed)
    except (FileNotFoundError, ValueError) as err:
        raise SystemExit(f'split_heldout: error: {err}')
    train, held = build_part(data, train_ids), build_part(data, held_ids)
    os.makedirs(args.out_dir, exist_ok=True)
    paths = {}
    for name, part in (('train', train), ('heldout', held)):
        paths[name] = osp.join(args.out_dir, f'{name}.json')
        with open(paths[name], 'w', encoding='utf-8') as f:
            json.dump(part, f)
    stats_train, stats_held = part_stats(train), part_stats(held)
    cat_names = {c['id']: c.get('name', c['id']) for c in data['categories']}
    print(f'split {args.ann}: {len(data["videos"])} videos, ratio '
          f'{args.ratio}, seed {args.seed}')
    print(format_table(stats_train, stats_held))
    print(f'wrote {paths["train"]} and {paths["heldout"]}')
    if failed:
        print(
            'warning: these classes (>= 2 videos) could not be put in '
            'both parts: ' +
            ', '.join(str(cat_names.get(c, c)) for c in failed),
            file=sys.stderr)
    summary = dict(
        ann=args.ann,
        ratio=args.ratio,
        seed=args.seed,
        train=dict(path=paths['train'], **stats_train),
        heldout=dict(path=paths['heldout'], **stats_held),
        unsplit_classes=[str(cat_names.get(c, c)) for c in failed])
    if args.json:
        print(json.dumps(summary))
    return summary


if __name__ == '__main__':
    main()
