# Copyright (c) mmookd authors. All rights reserved.
"""benchmark_train_step.py on a tiny generated SynthVIS set: the three
models run on the same batches and the JSON line carries the figures."""
import json
import os.path as osp

import torch
from mmdet.structures import DetDataSample, TrackDataSample

from mmookd.testing import load_tool, tiny_synthvis


def _tool():
    return load_tool('tools/analysis_tools/benchmark_train_step.py',
                     '_bench_step')


def test_student_batch_keeps_the_students_two_frames():
    tool = _tool()
    roles = ['teacher', 'student', 'teacher', 'student', 'pad']
    samples = [
        DetDataSample(metainfo=dict(frame_id=t, ookd_frame_role=r))
        for t, r in enumerate(roles)
    ]
    imgs = torch.arange(5).view(5, 1, 1, 1).expand(5, 3, 2, 2)
    pair = tool.student_batch(
        dict(
            inputs=[imgs],
            data_samples=[TrackDataSample(video_data_samples=samples)]))
    assert pair['inputs'][0][:, 0, 0, 0].tolist() == [1, 3]
    assert [s.metainfo['frame_id'] for s in pair['data_samples'][0]] == [1, 3]


def test_benchmark_runs_and_reports(tmp_path, capsys):
    data = tmp_path / 'synthvis'
    tiny_synthvis(
        data,
        train_length=(4, 6),
        num_val_short_videos=1,
        val_short_length=(12, 16),
        num_val_long_videos=1,
        val_long_length=(6, 6),
        radius_range=(9.0, 16.0))
    threads = torch.get_num_threads()
    try:
        result = _tool().main([
            '--data-root',
            str(data), '--iters', '1', '--warmup', '0', '--batch-size', '1',
            '--num-videos', '3', '--threads', '1', '--random-weights',
            '--work-dir',
            str(tmp_path / 'work'), '--json'
        ])
    finally:
        torch.set_num_threads(threads)
    last = capsys.readouterr().out.strip().splitlines()[-1]
    printed = json.loads(last)
    assert printed['live_ratio'] == result['live_ratio']
    for key in ('idol_ms', 'live_ms', 'cached_ms', 'teacher_ms'):
        assert printed[key] > 0, key
    times = printed['times_ms']
    assert all(len(times[k]) == 1 for k in times)
    # one repetition: the ratios are those of its times
    assert abs(printed['live_ratio'] -
               times['live'][0] / times['idol'][0]) < 1e-3
    assert abs(printed['cached_ratio'] -
               times['cached'][0] / times['idol'][0]) < 1e-3
    assert printed['batch_size'] == 1
    assert printed['clip_frames'] == 16  # the config's max_teacher_frames
    assert 4 <= printed['teacher_frames_mean'] <= 6  # whole 4..6-frame video
    assert not printed['trained_weights']
    assert printed['clock'] == 'process'
    assert osp.isfile(tmp_path / 'work' / 'teacher_cache.pth')
