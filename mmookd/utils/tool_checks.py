# Copyright (c) mmookd authors. All rights reserved.
"""Checks the tools run before they start long work.

- :func:`check_writable_file`: an output path that cannot be written fails
  before the evaluation that fills it, not after.
- :func:`check_checkpoint_fits`: a checkpoint that does not hold the
  model's weights is refused instead of testing random weights.
- :func:`checkpoint_problem`: whether a checkpoint file loads at all (a
  half-written one does not).
"""
import os
import os.path as osp
from typing import Dict, Optional

from torch import nn

__all__ = [
    'CheckpointMismatchError', 'check_writable_file', 'load_state_dict_of',
    'check_checkpoint_fits', 'checkpoint_problem'
]


class CheckpointMismatchError(RuntimeError):
    """A checkpoint whose weights do not fit the model."""


def check_writable_file(path: str, what: str) -> None:
    """Raise now if ``path`` cannot be written later.

    Nothing is created: the nearest existing folder on the way to ``path``
    must be a writable directory (the missing ones are made when writing),
    and ``path`` must not be a directory or a read-only file.

    Args:
        path (str): The output file.
        what (str): What it is, for the message (e.g. ``'--metrics-out'``).

    Raises:
        PermissionError: Naming ``what``, ``path`` and the reason.
    """
    if osp.isdir(path):
        raise PermissionError(f'{what} {path}: is a folder, not a file')
    if osp.exists(path) and not os.access(path, os.W_OK):
        raise PermissionError(f'{what} {path}: the file is read-only')
    folder = osp.dirname(osp.abspath(path))
    while not osp.exists(folder):
        folder = osp.dirname(folder)
    if not osp.isdir(folder) or not os.access(folder, os.W_OK | os.X_OK):
        raise PermissionError(
            f'{what} {path}: {folder} is not a writable folder')


def load_state_dict_of(path: str) -> Dict:
    """The model weights of a checkpoint file (``state_dict`` if present),
    without a DDP ``module.`` prefix; loaded as mmengine's Runner does
    (through mmookd's safe loader)."""
    from mmengine.runner.checkpoint import _load_checkpoint
    checkpoint = _load_checkpoint(path, map_location='cpu')
    if not isinstance(checkpoint, dict):
        raise CheckpointMismatchError(
            f'checkpoint {path} holds a {type(checkpoint).__name__}, not a '
            'dict of weights')
    state = checkpoint.get('state_dict', checkpoint)
    return {
        (k[len('module.'):] if k.startswith('module.') else k): v
        for k, v in state.items()
    }


def check_checkpoint_fits(model: nn.Module, state_dict: Dict,
                          path: str) -> None:
    """Refuse a checkpoint that would leave model weights uninitialised.

    Args:
        model (nn.Module): The (unwrapped) model to test.
        state_dict (dict): The checkpoint's weights.
        path (str): The checkpoint file, for the message.

    Raises:
        CheckpointMismatchError: The checkpoint holds none of the model's
            weights, or lacks some of them (``num_batches_tracked``
            counters excepted); the message lists examples of both sides.
    """
    model_keys = set(model.state_dict())
    ckpt_keys = set(state_dict)
    if not model_keys & ckpt_keys:
        raise CheckpointMismatchError(
            f'checkpoint {path} holds none of the {len(model_keys)} weights '
            f'of the model {type(model).__name__} (model: '
            f'{sorted(model_keys)[:3]}; checkpoint: '
            f'{sorted(ckpt_keys)[:3]}): a checkpoint of another model or '
            'config? Testing it would evaluate random weights.')
    missing = sorted(k for k in model_keys - ckpt_keys
                     if not k.endswith('num_batches_tracked'))
    if missing:
        raise CheckpointMismatchError(
            f'checkpoint {path} lacks {len(missing)} of the '
            f'{len(model_keys)} weights of the model '
            f'{type(model).__name__} (e.g. {missing[:5]}); they would stay '
            'random. A checkpoint of another config?')


def checkpoint_problem(path: str) -> Optional[str]:
    """Why ``path`` is not a loadable checkpoint with weights, or None.

    A run killed while saving leaves a truncated file; such a file exists
    but does not load.
    """
    if not osp.isfile(path):
        return 'it does not exist'
    try:
        state = load_state_dict_of(path)
    except Exception as err:  # noqa: B902 (any failure means "not usable")
        return f'it does not load ({type(err).__name__}: {err})'
    if not state:
        return 'it holds no weights'
    return None
