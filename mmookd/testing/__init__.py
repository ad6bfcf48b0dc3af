# Copyright (c) mmookd authors. All rights reserved.
"""Helpers for tests: tiny models, repo scripts as modules, tiny data."""
from ._models import tiny_idol_cfg, tiny_ookd_config
from ._utils import REPO_ROOT, TINY_SYNTHVIS, load_tool, tiny_synthvis

__all__ = [
    'REPO_ROOT', 'TINY_SYNTHVIS', 'load_tool', 'tiny_idol_cfg',
    'tiny_ookd_config', 'tiny_synthvis'
]
