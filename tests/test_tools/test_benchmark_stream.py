# Copyright (c) mmookd authors. All rights reserved.
"""benchmark_stream.py streams frames through IDOL with bounded memory."""
import json
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmookd.testing import load_tool

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(ROOT, 'configs', 'idol', 'idol_r18-w32_1xb4-2k_synthvis.py')
# A smaller IDOL than the SynthVIS config (10 queries, 64 px frames) with a
# cap of 6 live tracks, so that the cap is reached and tracks are evicted.
TINY = {
    'model.detector.num_queries': 10,
    'model.tracker.max_tracks': 6,
    'test_dataloader.dataset.pipeline.0.transforms.1.scale': (1333, 64),
}


benchmark_stream = load_tool('tools/analysis_tools/benchmark_stream.py')


@pytest.fixture
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_pingpong_and_frame_inputs():
    order = [benchmark_stream.pingpong_index(i, 3) for i in range(8)]
    assert order == [0, 1, 2, 1, 0, 1, 2, 1]
    assert [benchmark_stream.pingpong_index(i, 1) for i in range(3)] == [0] * 3
    # Clips whose back-and-forth period divides N - early: both latency
    # windows then show the same frames.
    assert benchmark_stream.aligned_clip_length(200, 2000, 200) == 181
    assert benchmark_stream.aligned_clip_length(50, 300, 100) == 26
    assert benchmark_stream.aligned_clip_length(10, 301, 100) is None
    early = [benchmark_stream.pingpong_index(i, 181) for i in range(100, 200)]
    late = [benchmark_stream.pingpong_index(i, 181) for i in range(1900, 2000)]
    assert early == late and len(set(early)) > 50
    img = np.zeros((5, 7, 3), np.uint8)
    inputs = benchmark_stream.frame_inputs(img, 4, 100, video_id=0)
    assert inputs['frame_id'] == [4]
    assert inputs['ori_video_length'] == [100]
    assert (inputs['height'], inputs['width']) == ([5], [7])
    assert all(len(v) == 1 for v in inputs.values())


def test_render_clip_is_seeded_bgr_video():
    a = benchmark_stream.render_clip(4, (32, 48), num_objects=2, seed=3)
    b = benchmark_stream.render_clip(4, (32, 48), num_objects=2, seed=3)
    assert a.shape == (4, 32, 48, 3) and a.dtype == np.uint8
    np.testing.assert_array_equal(a, b)
    assert np.abs(a[1].astype(int) - a[0].astype(int)).mean() > 0.5


def test_pipeline_swaps_the_image_loading():
    cfg = Config.fromfile(CONFIG)
    pipeline = benchmark_stream.build_frame_pipeline(cfg)
    img = np.full((64, 96, 3), 7, np.uint8)
    packed = pipeline(benchmark_stream.frame_inputs(img, 2, 10, video_id=0))
    assert tuple(packed['inputs'].shape) == (1, 3, 128, 192)
    meta = packed['data_samples'][0].metainfo
    assert meta['frame_id'] == 2 and meta['ori_video_length'] == 10
    assert meta['ori_shape'] == (64, 96)
    bad = Config(dict(test_dataloader=dict(dataset=dict(pipeline=[]))))
    with pytest.raises(KeyError, match='image loading'):
        benchmark_stream.build_frame_pipeline(bad)


def test_stream_memory_stays_bounded(one_thread):
    cfg = Config.fromfile(CONFIG)
    cfg.merge_from_dict(TINY)
    clip = benchmark_stream.render_clip(51, (64, 64), num_objects=4, seed=0)
    # cls_bias=2: a random IDOL then scores every query about 0.9, so the
    # tracker gets candidates on every frame (the focal prior of a random
    # init, about 0.01, would start no track at all).
    res = benchmark_stream.benchmark(
        cfg,
        frames=300,
        warmup=2,
        early_frame=100,
        window=40,
        clip=clip,
        cls_bias=2.0)
    json.dumps(res)  # serialisable
    for key in ('latency_ratio', 'mem_ratio', 'cpu_ratio'):
        assert res[key] > 0, key
    assert res['lat_early_ms'] > 0 and res['lat_late_ms'] > 0
    assert res['rss_early_mb'] > 100 and res['rss_late_mb'] > 100
    assert res['frames'] == 300 and res['keep_video_results'] is False
    assert res['clip_frames'] == 51 and res['windows_aligned']
    assert res['paired'] and res['lat_early_seq_ms'] > 0
    # The tracker was exercised: tracks matched over frames (full memory
    # banks), the cap reached, tracks evicted, outputs on every frame.
    top = res['tracker_max']
    assert top['num_tracks'] == 6  # the cap (max_tracks), never more
    assert top['max_memory'] == 3  # memory_len, never more
    assert top['num_memory'] <= 6 * 3
    assert res['num_evicted'] > 0 and res['num_track_ids'] > 6
    assert res['frames_with_outputs'] == 300
    # Nothing per frame is kept in a stream.
    assert top['num_video_tracks'] == 0 and top['num_video_masks'] == 0
    assert res['video_instances'] == 0
    for probe in (res['tracker_early'], res['tracker_late']):
        assert probe['num_tracks'] <= 6 and probe['max_memory'] <= 3
    assert res['tracker_late']['num_frames'] == 300
    # No Python objects pile up (a leak of one object a frame would add
    # 200), and the process does not grow by more than allocator noise.
    assert res['gc_objects_late'] - res['gc_objects_early'] < 200
    assert res['rss_delta_mb'] < 10
    assert res['mem_ratio'] < 1.05


def test_main_prints_json_last(capsys, one_thread):
    options = [f'{k}={v}' for k, v in TINY.items()]
    options[-1] = options[-1].replace(' ', '')
    res = benchmark_stream.main([
        CONFIG, '--frames', '40', '--early-frame', '10', '--window', '10',
        '--warmup', '0', '--clip-frames', '8', '--frame-size', '64', '64',
        '--keep-video-results', '--cls-bias', '2', '--tracemalloc',
        '--sequential', '--json', '--log-interval', '20', '--cfg-options'
    ] + options)
    lines = capsys.readouterr().out.strip().splitlines()
    assert sum(line.startswith('frame ') for line in lines) == 2  # progress
    assert any(line.startswith('latency ms') for line in lines)  # the table
    last = json.loads(lines[-1])
    assert last['frames'] == 40 and last['early_frame'] == 10
    assert last['latency_ratio'] == pytest.approx(res['latency_ratio'])
    assert last['py_heap_early_mb'] > 0 and last['py_heap_late_mb'] > 0
    # --sequential: the early window is the stream's own frames 0..9
    assert last['paired'] is False
    assert last['lat_early_ms'] == last['lat_early_seq_ms']
    # With the config's keep_video_results=True the video store is kept and
    # the video results come out after the last frame.
    assert last['keep_video_results'] is True
    assert last['tracker_max']['num_video_masks'] > 0
    assert last['video_instances'] > 0
