# Copyright (c) mmookd authors. All rights reserved.
"""Shims for the known breakages of the pinned stack (see STACK.md).

Applied once on ``import mmookd`` by :func:`apply_shims`; each one is narrow
(it replaces a name inside one third-party module, never a global switch):

1. **Checkpoint loading under torch >= 2.6.** ``torch.load`` defaults to
   ``weights_only=True``, and mmengine 0.10.7's checkpoints hold numpy arrays
   and mmengine objects (the message hub's ``HistoryBuffer``), so
   ``load_checkpoint`` and ``Runner.resume`` fail with ``UnpicklingError``.
   The shim keeps ``weights_only=True`` and allow-lists exactly the globals
   that mmengine checkpoints hold (:data:`CHECKPOINT_SAFE_GLOBALS`). A
   checkpoint that needs any other global is refused with a
   :class:`UntrustedCheckpointError` that names the global and the two ways
   to opt in for a file the user trusts: :func:`allow_checkpoint_globals` (a
   named global) or :func:`trust_checkpoint` (one file, fully unpickled).
2. **numpy 2 in mmdet's YouTube-VIS evaluation.** mmdet 3.3's
   ``ytviseval`` uses ``np.float``, removed in numpy 1.24. The shim gives that
   one module a numpy whose ``float`` is the builtin; numpy itself is not
   touched. (mmookd's own :class:`~mmookd.evaluation.VISMetric` does not need
   it; the shim keeps mmdet's ``YouTubeVISMetric`` working for users.)
"""
import importlib
import os
import os.path as osp
import pickle
import types
from contextlib import contextmanager
from typing import Callable, Dict, Iterable, List, Set, Union

import torch

__all__ = [
    'CHECKPOINT_SAFE_GLOBALS', 'UntrustedCheckpointError', 'apply_shims',
    'remove_shims', 'shims_disabled', 'safe_torch_load',
    'allow_checkpoint_globals', 'trust_checkpoint', 'trusted_checkpoints'
]

# Dotted names of the globals that mmengine checkpoints (model weights,
# optimizer and scheduler states, message hub, numpy scalars and arrays in
# ``meta``) are made of, beyond what ``weights_only`` already allows.
CHECKPOINT_SAFE_GLOBALS = (
    'mmengine.logging.history_buffer.HistoryBuffer',
    'numpy.ndarray',
    'numpy.dtype',
    'numpy.core.multiarray._reconstruct',
    'numpy.core.multiarray.scalar',
    'numpy._core.multiarray._reconstruct',
    'numpy._core.multiarray.scalar',
    'numpy.dtypes.Float64DType',
    'numpy.dtypes.Float32DType',
    'numpy.dtypes.Float16DType',
    'numpy.dtypes.Int64DType',
    'numpy.dtypes.Int32DType',
    'numpy.dtypes.Int16DType',
    'numpy.dtypes.Int8DType',
    'numpy.dtypes.UInt8DType',
    'numpy.dtypes.BoolDType',
    'numpy.dtypes.StrDType',
    'numpy.dtypes.ObjectDType',
    'numpy.float64',
    'numpy.float32',
    'numpy.int64',
    'numpy.int32',
    'numpy.bool_',
    'builtins.slice',
    'builtins.set',
    'builtins.frozenset',
    'collections.defaultdict',
)

_TRUSTED_FILES: Set[str] = set()
_ALLOWED: List[object] = []
_ORIGINALS: Dict[str, object] = {}


class UntrustedCheckpointError(pickle.UnpicklingError):
    """A checkpoint needs a global that is not on the allow-list."""


def _history_buffer_getattr(obj, name: str):
    """A ``getattr`` that only resolves HistoryBuffer's statistics methods.

    mmengine's ``HistoryBuffer.__getstate__`` pickles its statistics methods
    as ``getattr(HistoryBuffer, 'mean')`` and so on. Allowing the builtin
    ``getattr`` would let a checkpoint reach any attribute (and from there any
    function), so checkpoints get this narrow stand-in instead.
    """
    from mmengine.logging import HistoryBuffer
    allowed = {'min', 'max', 'mean', 'current'}
    allowed.update(HistoryBuffer._statistics_methods)
    if obj is HistoryBuffer and name in allowed:
        return getattr(obj, name)
    raise UntrustedCheckpointError(
        f'Refusing getattr({obj!r}, {name!r}) while unpickling a checkpoint: '
        'only HistoryBuffer statistics methods may be looked up.')


def _resolve(dotted: str):
    """Import ``'pkg.mod.Name'`` and return the object, or None."""
    module_name, _, attr = dotted.rpartition('.')
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return None
    return getattr(module, attr, None)


def allow_checkpoint_globals(names: Iterable[Union[str, object]]) -> None:
    """Allow more globals in checkpoints loaded with ``weights_only=True``.

    The allow-list applies only to the loads made through
    :func:`safe_torch_load` (mmengine's checkpoint loading once the shims are
    applied), not to every ``torch.load`` of the process. Only do this for
    globals of code you trust: an allowed class can run its own
    ``__setstate__`` while a checkpoint loads.

    Args:
        names (Iterable[str | object | tuple]): dotted names
            (``'pkg.mod.Class'``), the objects themselves, or
            ``(substitute, 'pkg.mod.name')`` pairs that make the unpickler use
            ``substitute`` where the file names ``pkg.mod.name``.

    Raises:
        ValueError: a dotted name cannot be imported.
    """
    for name in names:
        # A (substitute, 'dotted.name') pair is passed to torch as it is.
        obj = _resolve(name) if isinstance(name, str) else name
        if obj is None:
            raise ValueError(f'cannot import checkpoint global {name!r}')
        if obj not in _ALLOWED:
            _ALLOWED.append(obj)


def trust_checkpoint(path: str) -> None:
    """Mark one checkpoint file as trusted: it is then fully unpickled.

    This is the explicit per-file opt-in for a checkpoint that needs globals
    outside the allow-list (for example an old checkpoint of another
    codebase). Never call it for a file from an untrusted source: unpickling
    can run arbitrary code.

    Args:
        path (str): the checkpoint file.
    """
    _TRUSTED_FILES.add(osp.realpath(osp.expanduser(str(path))))


def trusted_checkpoints() -> List[str]:
    """Return the files marked with :func:`trust_checkpoint`."""
    return sorted(_TRUSTED_FILES)


def _unsupported_global(err: Exception) -> str:
    """Pull the global's dotted name out of torch's UnpicklingError text."""
    text = str(err)
    for marker in ('Unsupported global: GLOBAL ', 'GLOBAL '):
        if marker in text:
            name = text.split(marker, 1)[1].split()[0]
            return name.rstrip('.,:;')
    return '<unknown>'


def safe_torch_load(f, map_location=None, **kwargs):
    """``torch.load`` with ``weights_only=True`` and mmookd's allow-list.

    Files marked by :func:`trust_checkpoint` are loaded with
    ``weights_only=False``; an explicit ``weights_only`` argument wins.

    Raises:
        UntrustedCheckpointError: the file needs a global that is not
            allowed; the message names the file, the global and how to opt in.
    """
    if 'weights_only' not in kwargs:
        trusted = isinstance(f, (str, os.PathLike)) and (
            osp.realpath(osp.expanduser(str(f))) in _TRUSTED_FILES)
        kwargs['weights_only'] = not trusted
    try:
        with torch.serialization.safe_globals(_ALLOWED):
            return _ORIGINALS.get('torch.load', torch.load)(
                f, map_location=map_location, **kwargs)
    except pickle.UnpicklingError as err:
        if not kwargs['weights_only']:
            raise
        name = _unsupported_global(err)
        where = f if isinstance(f, str) else '<in-memory checkpoint>'
        if name == '<unknown>':  # refused by a restricted stand-in
            raise UntrustedCheckpointError(
                f'Refusing to unpickle checkpoint {where}: {err}') from err
        raise UntrustedCheckpointError(
            f'Refusing to unpickle checkpoint {where}: it needs the global '
            f"'{name}', which is not on mmookd's allow-list of checkpoint "
            'globals (mmookd.utils.compat.CHECKPOINT_SAFE_GLOBALS). If you '
            'trust this file, either allow that global with '
            f"mmookd.utils.compat.allow_checkpoint_globals(['{name}']), or "
            'load the whole file with --trust-checkpoint PATH in '
            'tools/train.py / tools/test.py (mmookd.utils.compat.'
            'trust_checkpoint(PATH) from Python). Both run code from the '
            'file: never do this for a file of unknown origin.') from err


class _ModuleProxy(types.ModuleType):
    """A stand-in for a module that overrides a few of its attributes."""

    def __init__(self, module: types.ModuleType, **overrides):
        super().__init__(module.__name__)
        self._module = module
        self.__dict__.update(overrides)

    def __getattr__(self, name):
        return getattr(self._module, name)


def _patch_module_attr(module_name: str, attr: str,
                       make: Callable[[object], object]) -> None:
    module = importlib.import_module(module_name)
    key = f'{module_name}.{attr}'
    if key in _ORIGINALS:
        return
    original = getattr(module, attr)
    _ORIGINALS[key] = original
    setattr(module, attr, make(original))


def _restore_module_attr(module_name: str, attr: str) -> None:
    key = f'{module_name}.{attr}'
    if key in _ORIGINALS:
        module = importlib.import_module(module_name)
        setattr(module, attr, _ORIGINALS.pop(key))


_CKPT_MODULES = ('mmengine.runner.checkpoint', )
_NUMPY_MODULES = ('mmdet.evaluation.functional.ytviseval', )


def apply_shims() -> None:
    """Apply every shim (idempotent)."""
    _ORIGINALS.setdefault('torch.load', torch.load)
    # Names that do not exist in the installed numpy are skipped.
    allow_checkpoint_globals(
        [obj for obj in map(_resolve, CHECKPOINT_SAFE_GLOBALS) if obj])
    allow_checkpoint_globals([(_history_buffer_getattr, 'builtins.getattr')])
    for name in _CKPT_MODULES:
        _patch_module_attr(
            name, 'torch',
            lambda mod: _ModuleProxy(mod, load=safe_torch_load))
    for name in _NUMPY_MODULES:
        try:
            _patch_module_attr(name, 'np',
                               lambda mod: _ModuleProxy(mod, float=float))
        except ImportError:  # mmdet not installed: nothing to patch
            pass


def remove_shims() -> None:
    """Undo :func:`apply_shims`."""
    for name in _CKPT_MODULES:
        _restore_module_attr(name, 'torch')
    for name in _NUMPY_MODULES:
        _restore_module_attr(name, 'np')


@contextmanager
def shims_disabled():
    """Context manager that runs its body on the unpatched stack."""
    remove_shims()
    try:
        yield
    finally:
        apply_shims()


apply_shims()
