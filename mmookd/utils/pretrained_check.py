# Copyright (c) mmookd authors. All rights reserved.
"""Refuse to train a model that would start with no pretrained weight.

The official IDOL fine-tunes on YouTube-VIS / OVIS from its COCO
pseudo-video pretraining. The mmookd configs download nothing, so a run that
forgets ``load_from`` would train the whole model from random weights for
12k iterations without a word. :func:`check_pretrained` stops such a run
before it starts, with a message saying how to get the weights and how to
train from scratch on purpose (``train_from_scratch = True`` in the config,
as the SynthVIS configs do).

Where a config can take weights from (:func:`find_pretrained_sources`):

- ``load_from``; ``resume`` with a checkpoint to resume from;
- an ``init_cfg=dict(type='Pretrained', checkpoint=...)`` (or a
  ``pretrained=`` path) anywhere in the trained model;
- ``OOKD.student_checkpoint`` (the student's start; the frozen teacher's
  weights do not count, the student is what trains);
- ``OfflineTeacher.base_checkpoint`` (the frozen IDOL under the trained
  aggregator).
"""
import os.path as osp
from typing import Any, List, Optional

__all__ = [
    'FromScratchError', 'find_pretrained_sources', 'check_pretrained',
    'FROM_SCRATCH_KEY'
]

FROM_SCRATCH_KEY = 'train_from_scratch'


class FromScratchError(RuntimeError):
    """A training config whose model would start from random weights."""


def _pretrained_in(node: Any, path: str, found: List[str]) -> None:
    """Collect ``Pretrained`` init configs and ``pretrained`` paths."""
    if isinstance(node, dict):
        if node.get('type') == 'Pretrained' and node.get('checkpoint'):
            found.append(f'{path}: Pretrained {node["checkpoint"]}')
            return
        for key, value in node.items():
            if key == 'pretrained' and isinstance(value, str) and value:
                found.append(f'{path}.pretrained: {value}')
            else:
                _pretrained_in(value, f'{path}.{key}', found)
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            _pretrained_in(value, f'{path}[{i}]', found)


def _type_name(model: dict) -> str:
    return str(model.get('type', '')).split('.')[-1]


def find_pretrained_sources(cfg) -> List[str]:
    """Where the trained model of ``cfg`` takes weights from.

    Args:
        cfg (Config | dict): A training config (after ``--cfg-options``,
            ``--resume`` and ``--work-dir`` are merged in).

    Returns:
        list[str]: One line per source (empty: the model starts from
        random weights).
    """
    found = []
    if cfg.get('load_from'):
        found.append(f'load_from: {cfg.get("load_from")}')
    if cfg.get('resume') and not cfg.get('load_from'):
        work_dir = cfg.get('work_dir')
        last = osp.join(work_dir, 'last_checkpoint') if work_dir else None
        if last and osp.isfile(last):
            found.append(f'resume: {last}')
    model = cfg.get('model') or dict()
    name = _type_name(model)
    if name == 'OOKD':
        if model.get('student_checkpoint'):
            found.append(
                f'model.student_checkpoint: {model["student_checkpoint"]}')
        _pretrained_in(model.get('student'), 'model.student', found)
    else:
        if name == 'OfflineTeacher' and model.get('base_checkpoint'):
            found.append(f'model.base_checkpoint: {model["base_checkpoint"]}')
        _pretrained_in(model, 'model', found)
    return found


def from_scratch_message(config_name: str) -> str:
    """The error text: why, how to get the weights, how to opt out."""
    return (
        f'{config_name} would train from scratch: its model starts with no '
        'pretrained weight anywhere (load_from is None, no --resume '
        'checkpoint, no Pretrained init_cfg, no student/base checkpoint), '
        'and nothing is downloaded at run time. The official IDOL '
        'fine-tunes from its COCO pseudo-video pretraining. Get those '
        'weights one of two ways:\n'
        '  1. train them: python tools/train.py '
        'configs/idol/idol_r50_8xb4-59k_coco-pseudo-video.py (needs COCO '
        'and a local ImageNet ResNet-50, see docs/idol.md);\n'
        '  2. convert the official VNext cocopretrain_R50.pth (or '
        'cocopretrain_SWINL.pth): python tools/model_converters/'
        'vnext_idol_to_mmookd.py cocopretrain_R50.pth '
        'data/pretrained/idol_r50_cocopretrain_mmookd.pth (see '
        'docs/model_converters.md);\n'
        'then start from them: --cfg-options load_from=data/pretrained/'
        'idol_r50_cocopretrain_mmookd.pth (the class layers are re-learned '
        'when the class count differs). To train from scratch on purpose, '
        f'set `{FROM_SCRATCH_KEY} = True` in the config (or --cfg-options '
        f'{FROM_SCRATCH_KEY}=True).')


def check_pretrained(cfg, config_name: Optional[str] = None) -> List[str]:
    """Stop a training that would start from random weights.

    Args:
        cfg (Config | dict): The merged training config.
        config_name (str, optional): Config path, for the message.

    Returns:
        list[str]: :func:`find_pretrained_sources` (empty when the config
        opts out with ``train_from_scratch = True``).

    Raises:
        FromScratchError: No source of weights and no opt-out.
    """
    if cfg.get(FROM_SCRATCH_KEY, False):
        return []
    sources = find_pretrained_sources(cfg)
    if not sources:
        name = config_name or cfg.get('filename') or 'The config'
        raise FromScratchError(from_scratch_message(name))
    return sources
