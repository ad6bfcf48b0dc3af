# Copyright (c) mmookd authors. All rights reserved.
"""mmookd: Offline-to-Online Knowledge Distillation for VIS on MMDetection 3.

Importing this package applies the compatibility shims of
:mod:`mmookd.utils.compat` and registers every mmookd module into mmdet's
registries, so configs use ``default_scope='mmdet'`` and
``custom_imports=dict(imports=['mmookd'])``.
"""
# isort: off
from .utils import compat  # noqa: F401  (applies the shims first)
from . import datasets, engine, evaluation, models  # noqa: F401
from .version import __version__, version_info
# isort: on

__all__ = ['__version__', 'version_info']
