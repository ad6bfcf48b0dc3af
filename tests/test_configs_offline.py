# Copyright (c) mmookd authors. All rights reserved.
"""Every config loads, and none of them downloads anything at run time."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = sorted(
    glob.glob(osp.join(ROOT, 'configs', '**', '*.py'), recursive=True))


def _strings(node, path=''):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(value, f'{path}.{key}')
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            yield from _strings(value, f'{path}[{i}]')
    elif isinstance(node, str):
        yield path, node


def test_there_are_configs():
    assert len(CONFIGS) >= 10


@pytest.mark.parametrize(
    'path', CONFIGS, ids=[osp.relpath(p, ROOT) for p in CONFIGS])
def test_config_loads_and_names_no_url(path):
    cfg = Config.fromfile(path)
    urls = [(key, value) for key, value in _strings(cfg.to_dict())
            if '://' in value]
    assert not urls, f'{path} would download at run time: {urls}'
