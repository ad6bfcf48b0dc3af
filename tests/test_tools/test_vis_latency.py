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


@pytest.mark.parametrize('config,frame_mode', [
    ('configs/idol/idol_r18-w32_1xb4-2k_synthvis.py', True),
    ('configs/mask2former_vis/mask2former_r18-w32_1xb4-2k_synthvis.py',
     False),
])
@pytest.mark.parametrize('warmup', [0, 2])
def test_latency_times_the_same_frames_in_both_modes(
        tool, val_root, config, frame_mode, warmup, capsys):
    root, lengths = val_root
    res = tool.main([
        osp.join(ROOT, config), '--videos', '1', '--warmup',
        str(warmup), '--cfg-options', f'test_dataloader.dataset.data_root='
        f'{root}', '--json'
    ])
    # every frame of the first video is timed whatever the warm-up: frame
    # mode with one call a frame, video mode (Mask2Former-VIS) with one
    # call for the whole video
    assert res['videos'] == 1 and res['warmup'] == warmup
    assert res['frames'] == lengths[0]
    assert res['calls'] == (lengths[0] if frame_mode else 1)
    assert res['ms_per_frame'] > 0
    out = capsys.readouterr().out.strip().splitlines()
    assert json.loads(out[-1])['frames'] == res['frames']
