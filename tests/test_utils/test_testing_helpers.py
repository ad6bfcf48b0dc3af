# Copyright (c) mmookd authors. All rights reserved.
"""mmookd.testing: the repo scripts as modules and the tiny SynthVIS set."""
import json
import os.path as osp

import pytest

from mmookd.testing import REPO_ROOT, TINY_SYNTHVIS, load_tool, tiny_synthvis

TESTS_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def _videos(root, split):
    with open(osp.join(root, 'annotations', f'synthvis_{split}.json')) as f:
        return json.load(f)['videos']


def test_repo_root_is_the_checkout():
    assert osp.samefile(REPO_ROOT, osp.dirname(TESTS_ROOT))
    for name in ('setup.py', 'mmookd', 'tools', 'configs'):
        assert osp.exists(osp.join(REPO_ROOT, name)), name


def test_load_tool_gives_the_scripts_module():
    tool = load_tool('tools/analysis_tools/vis_latency.py')
    assert tool.__name__ == 'vis_latency'
    assert tool.__file__ == osp.join(REPO_ROOT, 'tools', 'analysis_tools',
                                     'vis_latency.py')
    assert callable(tool.main) and callable(tool.measure)
    args = tool.parse_args(['some_config.py', '--videos', '2'])
    assert args.config == 'some_config.py' and args.videos == 2
    # a chosen name; each call executes the file anew
    again = load_tool(
        osp.join(REPO_ROOT, 'tools', 'analysis_tools', 'vis_latency.py'),
        'vis_latency_again')
    assert again.__name__ == 'vis_latency_again' and again is not tool
    assert again.parse_args is not tool.parse_args


@pytest.mark.parametrize('relpath', ['tools/no_such_tool.py', 'tools'])
def test_load_tool_names_a_missing_script(relpath):
    with pytest.raises(FileNotFoundError, match=relpath):
        load_tool(relpath)


def test_tiny_synthvis_defaults(tmp_path):
    root = tiny_synthvis(tmp_path)
    assert root == str(tmp_path) + '/'
    train, val = _videos(root, 'train'), _videos(root, 'val')
    assert len(train) == TINY_SYNTHVIS['num_train_videos'] == 3
    assert len(val) == TINY_SYNTHVIS['num_val_short_videos'] == 2
    assert _videos(root, 'val_long') == []
    for video in train + val:
        assert 5 <= video['length'] <= 6
        assert (video['height'], video['width']) == (64, 64)
        assert osp.isfile(
            osp.join(root, 'train' if video in train else 'val',
                     'JPEGImages', video['file_names'][0]))


def test_tiny_synthvis_overrides(tmp_path):
    root = tiny_synthvis(
        str(tmp_path / 'data'),
        num_train_videos=1,
        train_length=(3, 3),
        num_val_short_videos=0,
        num_val_long_videos=1,
        val_long_length=(7, 7),
        frame_size=(32, 48))
    assert root == str(tmp_path / 'data') + '/'
    train = _videos(root, 'train')
    assert [v['length'] for v in train] == [3]
    assert _videos(root, 'val_short') == []
    long = _videos(root, 'val_long')
    assert [v['length'] for v in long] == [7]
    assert [v['id'] for v in _videos(root, 'val')] == [v['id'] for v in long]
    assert (train[0]['height'], train[0]['width']) == (32, 48)
    # the defaults are not changed by a call's overrides
    assert TINY_SYNTHVIS['num_train_videos'] == 3
    with pytest.raises(TypeError):
        TINY_SYNTHVIS['num_train_videos'] = 4
    with pytest.raises(TypeError, match='no_such_field'):
        tiny_synthvis(tmp_path / 'bad', no_such_field=1)
