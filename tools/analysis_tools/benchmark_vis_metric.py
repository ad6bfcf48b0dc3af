# Copyright (c) mmookd authors. All rights reserved.
"""Time ``VISMetric`` against mmdet's ``YouTubeVISMetric`` on one input.

Both metrics get the same ``TrackDataSample`` s (video mode: one sample
holds a whole video, as mmdet's metric needs): ``--videos`` videos of
``--frames`` frames at ``--height`` x ``--width``, ``--gts`` GT tracks and
``--preds`` predicted tracks a video (boxes that move; the predictions are
shifted or mislabelled copies of the GT plus spurious ones, with random
scores), drawn once before anything is timed.  Each metric is built fresh,
then ``process`` is timed over all samples and ``evaluate`` once; with
``--repeat`` the metrics take turns (order rotated) and medians are
reported.

mmdet 3.3's YouTube-VIS code uses ``np.float`` (removed from numpy 1.24):
this script sets ``np.float = float`` while a metric runs (and removes it
after), so that the reference metric runs under numpy 2; mmookd never does
this.  The official
code's prints are silenced.

Rows: mmdet's ``YouTubeVISMetric``, ``VISMetric`` as mmdet's (AP only), and
``VISMetric`` with ``track_metrics`` and ``occlusion_levels`` (the SynthVIS
configs' setting).  Also printed: ``segm_mAP`` of each (mmdet's and mmookd's
equal: same protocol; the area-range values differ, mmdet feeding box
areas) and the ratio mmdet time / VISMetric time.  With ``--json`` the last
line is one JSON object with the timings and ``ratio``.

Example::

    python tools/analysis_tools/benchmark_vis_metric.py --json
"""
import argparse
import contextlib
import io
import json
import time
from typing import Dict, List

import numpy as np
import torch
from mmdet.structures import DetDataSample, TrackDataSample
from mmengine.structures import InstanceData

from mmookd.evaluation.functional import encode_masks
from mmookd.evaluation.vis_metric import VISMetric


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Time VISMetric against mmdet YouTubeVISMetric')
    parser.add_argument('--videos', type=int, default=20)
    parser.add_argument('--frames', type=int, default=30)
    parser.add_argument('--height', type=int, default=360)
    parser.add_argument('--width', type=int, default=640)
    parser.add_argument('--gts', type=int, default=5, help='GT tracks/video')
    parser.add_argument(
        '--preds', type=int, default=10, help='predicted tracks/video')
    parser.add_argument('--classes', type=int, default=4)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--repeat',
        type=int,
        default=3,
        help='rounds (the metrics in turn, order rotated each round); '
        'medians are reported')
    parser.add_argument(
        '--json', action='store_true', help='print one JSON object last')
    return parser.parse_args(argv)


def _box_mask(h, w, y, x, bh, bw) -> np.ndarray:
    m = np.zeros((h, w), bool)
    y, x = int(np.clip(y, 0, h - 1)), int(np.clip(x, 0, w - 1))
    m[y:y + bh, x:x + bw] = True
    return m


def make_samples(args) -> List[TrackDataSample]:
    """The benchmark's videos (GT in ``instances``, predictions)."""
    rng = np.random.default_rng(args.seed)
    h, w, length = args.height, args.width, args.frames
    samples = []
    for vid in range(1, args.videos + 1):
        # GT tracks: a start, a velocity, a size, a class
        starts = rng.uniform([0, 0], [h * 0.7, w * 0.7], (args.gts, 2))
        speeds = rng.uniform(-3, 3, (args.gts, 2))
        sizes = rng.integers(h // 12, h // 4, (args.gts, 2))
        labels = rng.integers(0, args.classes, args.gts)
        # predictions: noisy copies of GT tracks, then spurious tracks
        sources = [p % args.gts if p < args.gts + args.gts // 2 else -1
                   for p in range(args.preds)]
        offsets = rng.integers(-4, 5, (args.preds, 2))
        p_labels = np.where(
            rng.random(args.preds) < 0.8,
            [labels[s] if s >= 0 else 0 for s in sources],
            rng.integers(0, args.classes, args.preds))
        frames = []
        for t in range(length):
            gt_masks = [
                _box_mask(h, w, *(starts[g] + t * speeds[g]), *sizes[g])
                for g in range(args.gts)
            ]
            instances = []
            for g, m in enumerate(gt_masks):
                ys, xs = np.nonzero(m)
                instances.append(
                    dict(
                        bbox=[
                            float(xs.min()),
                            float(ys.min()),
                            float(xs.max() + 1),
                            float(ys.max() + 1)
                        ],
                        bbox_label=int(labels[g]),
                        mask=encode_masks(m[None])[0],
                        instance_id=vid * 100 + g,
                        ignore_flag=0))
            p_masks = []
            for p, s in enumerate(sources):
                if s >= 0:
                    y, x = starts[s] + t * speeds[s] + offsets[p]
                    bh, bw = sizes[s]
                else:
                    y, x = rng.uniform(0, h), rng.uniform(0, w)
                    bh, bw = 20, 30
                p_masks.append(_box_mask(h, w, y, x, bh, bw))
            frame = DetDataSample(
                metainfo=dict(
                    img_id=vid * 10000 + t,
                    video_id=vid,
                    frame_id=t,
                    ori_shape=(h, w),
                    ori_video_length=length,
                    instances=instances))
            pred = InstanceData()
            pred.instances_id = torch.arange(args.preds)
            pred.scores = torch.from_numpy(
                rng.uniform(0.05, 1.0, args.preds).astype(np.float32))
            pred.labels = torch.from_numpy(p_labels.astype(np.int64))
            pred.bboxes = torch.zeros((args.preds, 4))
            pred.masks = torch.from_numpy(np.stack(p_masks))
            frame.pred_track_instances = pred
            frames.append(frame)
        sample = TrackDataSample()
        sample.video_data_samples = frames
        samples.append(sample)
    return samples


@contextlib.contextmanager
def numpy_float_alias():
    """``np.float = float`` while mmdet's metric runs, removed after."""
    added = not hasattr(np, 'float')
    if added:
        np.float = float
    try:
        yield
    finally:
        if added:
            del np.float


def _mmdet_metric():
    from mmdet.evaluation.metrics import YouTubeVISMetric
    return YouTubeVISMetric(metric_items=['mAP'])


def time_metric(name: str, metric, samples, classes) -> Dict:
    metric.dataset_meta = dict(classes=classes)
    quiet = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stdout(quiet), numpy_float_alias():
        for sample in samples:
            # what mmengine's Evaluator passes: the samples' to_dict()
            metric.process({}, [sample.to_dict()])
    processed = time.perf_counter()
    with contextlib.redirect_stdout(quiet), numpy_float_alias():
        out = metric.evaluate(len(samples))
    done = time.perf_counter()
    return dict(
        name=name,
        process_s=processed - start,
        evaluate_s=done - processed,
        total_s=done - start,
        mAP=out['youtube_vis/segm_mAP'],
        HOTA=out.get('youtube_vis/segm_HOTA'))


def main(argv=None) -> Dict:
    args = parse_args(argv)
    torch.manual_seed(args.seed)
    classes = tuple(f'c{i}' for i in range(args.classes))
    samples = make_samples(args)
    builders = [
        ('mmdet YouTubeVISMetric', _mmdet_metric),
        ('VISMetric', lambda: VISMetric(metric_items=['mAP'])),
        ('VISMetric +track +occlusion', lambda: VISMetric(
            metric_items=['mAP'], track_metrics=True, occlusion_levels=True)),
    ]
    runs = {name: [] for name, _ in builders}
    for r in range(max(1, args.repeat)):
        # rotate the order: a load change on a shared CPU hits all alike
        for name, build in builders[r % 3:] + builders[:r % 3]:
            runs[name].append(time_metric(name, build(), samples, classes))
    rows = []
    for name, _ in builders:
        row = dict(runs[name][0])
        for key in ('process_s', 'evaluate_s', 'total_s'):
            row[key] = float(np.median([x[key] for x in runs[name]]))
        rows.append(row)
    ratio = rows[0]['total_s'] / rows[1]['total_s']
    print(f'{args.videos} videos x {args.frames} frames of '
          f'{args.height}x{args.width}, {args.gts} GT and {args.preds} '
          f'predicted tracks a video; median of {max(1, args.repeat)} '
          'rounds')
    print(f'{"metric":<30}{"process s":>11}{"evaluate s":>12}'
          f'{"total s":>9}{"mAP":>7}')
    for r in rows:
        print(f'{r["name"]:<30}{r["process_s"]:>11.2f}'
              f'{r["evaluate_s"]:>12.2f}{r["total_s"]:>9.2f}'
              f'{r["mAP"]:>7.3f}')
    print(f'ratio (mmdet total / VISMetric total): {ratio:.2f}')
    res = dict(
        videos=args.videos,
        frames=args.frames,
        height=args.height,
        width=args.width,
        gts=args.gts,
        preds=args.preds,
        repeat=max(1, args.repeat),
        rows=rows,
        ratio=ratio)
    if args.json:
        print(json.dumps(res))
    return res


if __name__ == '__main__':
    main()
