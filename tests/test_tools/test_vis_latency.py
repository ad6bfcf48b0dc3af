# Copyright (c) mmookd authors. All rights reserved.
"""tools/analysis_tools/vis_latency.py: frame counting in both test modes."""
import json
import os.path as osp

import pytest

from mmookd.testing import load_tool, tiny_synthvis

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.fixture(scope='module')
def tool():
    return load_tool('tools/analysis_tools/vis_latency.py')


@pytest.fixture(scope='module')
def val_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('synthvis')
    data_root = tiny_synthvis(
        root,
        num_train_videos=1,
        train_length=(4, 5),
        val_short_length=(4, 5))
    with open(root / 'annotations' / 'synthvis_val.json') as f:
        lengths = [len(v['file_names']) for v in json.load(f)['videos']]
    return data_root, lengths


@pytest.mark.parametrize('config,warmup', [
    ('configs/idol/idol_r18-w32_1xb4-2k_synthvis.py', 1),
    ('configs/mask2former_vis/mask2former_r18-w32_1xb4-2k_synthvis.py', 0),
])
def test_latency_counts_the_frames_of_the_timed_videos(
        tool, val_root, config, warmup, capsys):
    root, lengths = val_root
    res = tool.main([
        osp.join(ROOT, config), '--videos', '1', '--warmup',
        str(warmup), '--cfg-options', f'test_dataloader.dataset.data_root='
        f'{root}', '--json'
    ])
    # frame mode: one call a frame, the warm-up call not counted; video
    # mode (Mask2Former-VIS): one call for the whole video
    assert res['videos'] == 1
    assert res['frames'] == lengths[0] - warmup
    assert res['calls'] == (lengths[0] if warmup else 1)
    assert res['ms_per_frame'] > 0
    out = capsys.readouterr().out.strip().splitlines()
    assert json.loads(out[-1])['frames'] == res['frames']
