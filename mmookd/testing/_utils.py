# Copyright (c) mmookd authors. All rights reserved.
"""Helpers for tests: the repository's scripts as modules, a tiny SynthVIS.

They work from the source checkout (``pip install -e .``), where
``tools/`` and ``demo/`` lie beside the package.
"""
import importlib.util
import os
import os.path as osp
from types import MappingProxyType, ModuleType
from typing import Optional, Union

from mmookd.datasets.synthvis import SynthVISConfig, generate_synthvis

#: The repository root: the folder that holds the ``mmookd`` package.
REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

#: The :class:`SynthVISConfig` fields that :func:`tiny_synthvis` sets: 64 x
#: 64 frames, 3 training videos of 5 or 6 frames, 2 short validation videos
#: of 5 or 6 frames, no long ones, and objects small enough for the frames.
TINY_SYNTHVIS = MappingProxyType(
    dict(
        frame_size=(64, 64),
        num_train_videos=3,
        train_length=(5, 6),
        num_val_short_videos=2,
        val_short_length=(5, 6),
        num_val_long_videos=0,
        val_long_length=(12, 13),
        radius_range=(7.0, 11.0)))


def load_tool(relpath: Union[str, os.PathLike],
              name: Optional[str] = None) -> ModuleType:
    """Load a script of the repository (``tools/``, ``demo/``) as a module.

    The scripts are not a package, so tests load them by path. Each call
    executes the file anew and gives a new module; it is not added to
    ``sys.modules``.

    Args:
        relpath (str | os.PathLike): The script's path relative to
            :data:`REPO_ROOT` (an absolute path is used as it is).
        name (str, optional): The module's ``__name__``. Defaults to the
            file name without its extension.

    Returns:
        ModuleType: The executed module.

    Raises:
        FileNotFoundError: If there is no such file.

    Example:
        >>> from mmookd.testing import load_tool
        >>> vis_latency = load_tool('tools/analysis_tools/vis_latency.py')
        >>> vis_latency.__name__
        'vis_latency'
        >>> res = vis_latency.main(['CONFIG', '--json'])  # doctest: +SKIP
    """
    relpath = os.fspath(relpath)
    path = osp.join(REPO_ROOT, relpath)
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'no script {relpath!r} in the repository: {path} is not a file')
    if name is None:
        name = osp.splitext(osp.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tiny_synthvis(root: Union[str, os.PathLike],
                  seed: int = 0,
                  **overrides) -> str:
    """Generate a tiny SynthVIS set in ``root`` (a few seconds on a CPU).

    The set is :func:`generate_synthvis` of a :class:`SynthVISConfig` with
    the fields of :data:`TINY_SYNTHVIS`, replaced by ``overrides``, without
    a progress bar.

    Args:
        root (str | os.PathLike): Output folder (created if missing).
        seed (int): Seed of the generator. Defaults to 0.
        **overrides: :class:`SynthVISConfig` fields, e.g.
            ``num_val_long_videos=1``.

    Returns:
        str: ``root`` ending with ``/``, as configs take a ``data_root``.

    Example:
        >>> from mmookd.testing import tiny_synthvis
        >>> data_root = tiny_synthvis(tmp_path, num_val_short_videos=0)
        ... # doctest: +SKIP
    """
    root = os.fspath(root)
    cfg = SynthVISConfig(**{**TINY_SYNTHVIS, **overrides})
    generate_synthvis(root, seed=seed, cfg=cfg, progress=False)
    return osp.join(root, '')
