# Copyright (c) mmookd authors. All rights reserved.
"""Convert an official IDOL checkpoint (VNext, detectron2) to mmookd.

Usage::

    python tools/model_converters/vnext_idol_to_mmookd.py SRC DST \\
        [--backbone r50|swin-l] [--config CONFIG] [--trust-source]

``SRC`` is a VNext IDOL ``.pth`` file (``cocopretrain_R50.pth``, a YTVIS or
OVIS model, ...): a dict with the state dict under ``'model'`` (what
detectron2's checkpointer writes) or a bare state dict. ``DST`` is an
mmengine checkpoint ``{'state_dict': ..., 'meta': {...}}`` (tensors and
plain types only) for ``load_from=DST`` in an mmookd IDOL config.

Every source tensor lands in exactly one tensor of the IDOL model built from
``CONFIG`` (default: the mmookd config of that backbone and class count),
with the same shape; the conversion fails with the list of offending keys
when a source tensor has no rule, when a model tensor gets no value, or when
a shape differs. Documented exceptions:

- dropped: ``detr.detr.transformer.decoder.bbox_embed.*`` (the decoder's
  alias of ``detr.detr.bbox_embed.*``, checked to be equal) and the Swin
  ``norm0.*`` (the LayerNorm of the stride-4 output res2, which IDOL
  computes and never uses; mmdet's Swin with ``out_indices=(1, 2, 3)`` has
  no such norm);
- added: ``num_batches_tracked`` (0) of every mmdet BN (detectron2's
  FrozenBN has none);
- transformed: the Swin patch-merging ``downsample.reduction.weight`` and
  ``downsample.norm.*`` have their 4C input channels reordered (see
  :func:`unfold_channel_order`).

Source files are unpickled with ``torch.load(weights_only=True)``; only with
``--trust-source`` does a file that needs more fall back to
``weights_only=False``, which can run code from the file.
"""
import argparse
import os
import os.path as osp
import pickle
import re
from collections import OrderedDict
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple, Union

import numpy as np
import torch
from torch import Tensor

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG_DIR = REPO_ROOT / 'configs' / 'idol'

BACKBONES = ('r50', 'swin-l')
BACKBONE_TYPES = {'r50': 'ResNet', 'swin-l': 'SwinTransformer'}

# (backbone, number of classes) -> the mmookd config of that model
DEFAULT_CONFIGS = {
    ('r50', 40): 'idol_r50_8xb4-12k_youtube-vis-2019.py',
    ('r50', 25): 'idol_r50_8xb2-12k_ovis.py',
    ('r50', 80): 'idol_r50_8xb4-59k_coco-pseudo-video.py',
    ('swin-l', 40): 'idol_swin-l-p4-w12-384_8xb4-12k_youtube-vis-2019.py',
    ('swin-l', 25): 'idol_swin-l-p4-w12-384_8xb2-12k_ovis.py',
    ('swin-l', 80): 'idol_swin-l-p4-w12-384_8xb2-148k_coco-pseudo-video.py',
}

SRC_BACKBONE = 'detr.detr.backbone.0.backbone.'
SRC_CLASS_KEY = 'detr.detr.class_embed.0.weight'
DST_PREFIX = 'detector.'

TRUST_HELP = (
    'Official VNext files are pickles written by detectron2. They are first '
    'loaded with torch.load(weights_only=True), which only rebuilds tensors '
    'and plain containers. A file that needs more (Python objects) is '
    'refused unless --trust-source is given; then it is loaded with '
    'weights_only=False, which runs code stored in the file: only do this '
    'for a file from a source you trust (e.g. the official VNext model zoo).')


class ConversionError(ValueError):
    """The checkpoint does not convert one to one (the message lists why)."""


class UntrustedSourceError(pickle.UnpicklingError):
    """The file needs ``weights_only=False`` and ``--trust-source`` is off."""


# ---------------------------------------------------------------------------
# Rules: (regex on the official key, target template or callable, transform)
# A target of None drops the key (documented above). Templates use
# ``re.Match.expand`` syntax; every target gets ``detector.`` in front.
# ---------------------------------------------------------------------------
Target = Union[str, Callable[[re.Match], str], None]
Rule = Tuple[str, Target, Optional[str]]

_P = r'(weight|bias)'
_BN = r'(weight|bias|running_mean|running_var)'
_MSDA = r'(sampling_offsets|attention_weights|value_proj|output_proj)'


def _res(m: re.Match, rest: str) -> str:
    """``res{s}.{b}`` (detectron2) -> ``layer{s - 1}.{b}`` (mmdet)."""
    return f'backbone.layer{int(m.group(1)) - 1}.{m.group(2)}.{rest}'


_RESNET_RULES: List[Rule] = [
    (r'stem\.conv1\.weight', 'backbone.conv1.weight', None),
    (rf'stem\.conv1\.norm\.{_BN}', r'backbone.bn1.\1', None),
    (r'res([2-5])\.(\d+)\.conv([1-3])\.weight',
     lambda m: _res(m, f'conv{m.group(3)}.weight'), None),
    (rf'res([2-5])\.(\d+)\.conv([1-3])\.norm\.{_BN}',
     lambda m: _res(m, f'bn{m.group(3)}.{m.group(4)}'), None),
    (r'res([2-5])\.(\d+)\.shortcut\.weight',
     lambda m: _res(m, 'downsample.0.weight'), None),
    (rf'res([2-5])\.(\d+)\.shortcut\.norm\.{_BN}',
     lambda m: _res(m, f'downsample.1.{m.group(3)}'), None),
]

_BLOCK = r'layers\.(\d+)\.blocks\.(\d+)\.'
_STAGE_BLOCK = r'backbone.stages.\1.blocks.\2.'
_SWIN_RULES: List[Rule] = [
    (rf'patch_embed\.proj\.{_P}', r'backbone.patch_embed.projection.\1', None),
    (rf'patch_embed\.norm\.{_P}', r'backbone.patch_embed.norm.\1', None),
    (rf'{_BLOCK}norm([12])\.{_P}', _STAGE_BLOCK + r'norm\3.\4', None),
    (rf'{_BLOCK}attn\.(relative_position_bias_table|'
     r'relative_position_index|qkv\.weight|qkv\.bias|proj\.weight|'
     r'proj\.bias)', _STAGE_BLOCK + r'attn.w_msa.\3', None),
    (rf'{_BLOCK}mlp\.fc1\.{_P}', _STAGE_BLOCK + r'ffn.layers.0.0.\3', None),
    (rf'{_BLOCK}mlp\.fc2\.{_P}', _STAGE_BLOCK + r'ffn.layers.1.\3', None),
    (r'layers\.(\d+)\.downsample\.reduction\.weight',
     r'backbone.stages.\1.downsample.reduction.weight', 'unfold_order'),
    (rf'layers\.(\d+)\.downsample\.norm\.{_P}',
     r'backbone.stages.\1.downsample.norm.\2', 'unfold_order'),
    (rf'norm([1-3])\.{_P}', r'backbone.norm\1.\2', None),
    # LayerNorm of res2 (stride 4): computed by the official backbone but
    # never used by IDOL; mmdet's Swin with out_indices (1, 2, 3) has none.
    (rf'norm0\.{_P}', None, None),
]

_ENC = r'detr\.detr\.transformer\.encoder\.layers\.(\d+)\.'
_DEC = r'detr\.detr\.transformer\.decoder\.layers\.(\d+)\.'
_DST_ENC = r'encoder.layers.\1.'
_DST_DEC = r'decoder.layers.\1.'
_DETR_RULES: List[Rule] = [
    # input_proj -> ChannelMapper: 1x1 conv + GN on res3..res5, and the
    # extra 3x3 stride-2 conv + GN on the raw res5 (stride 64)
    (rf'detr\.detr\.input_proj\.([0-2])\.0\.{_P}', r'neck.convs.\1.conv.\2',
     None),
    (rf'detr\.detr\.input_proj\.([0-2])\.1\.{_P}', r'neck.convs.\1.gn.\2',
     None),
    (rf'detr\.detr\.input_proj\.3\.0\.{_P}', r'neck.extra_convs.0.conv.\1',
     None),
    (rf'detr\.detr\.input_proj\.3\.1\.{_P}', r'neck.extra_convs.0.gn.\1',
     None),
    # queries and levels; query_embed is (N, 2C) = [query_pos | query] in
    # both codebases
    (r'detr\.detr\.query_embed\.weight', 'query_embedding.weight', None),
    (r'detr\.detr\.transformer\.level_embed', 'level_embed', None),
    (rf'detr\.detr\.transformer\.reference_points\.{_P}',
     r'reference_points_fc.\1', None),
    # encoder layer: MSDeformAttn -> norm1 -> FFN -> norm2
    (rf'{_ENC}self_attn\.{_MSDA}\.{_P}', _DST_ENC + r'self_attn.\2.\3', None),
    (rf'{_ENC}norm1\.{_P}', _DST_ENC + r'norms.0.\2', None),
    (rf'{_ENC}norm2\.{_P}', _DST_ENC + r'norms.1.\2', None),
    (rf'{_ENC}linear1\.{_P}', _DST_ENC + r'ffn.layers.0.0.\2', None),
    (rf'{_ENC}linear2\.{_P}', _DST_ENC + r'ffn.layers.1.\2', None),
    # decoder layer: MHA -> norm2 -> MSDeformAttn -> norm1 -> FFN -> norm3;
    # mmdet numbers its norms in that order (norms.0, norms.1, norms.2)
    (rf'{_DEC}self_attn\.(in_proj_weight|in_proj_bias)',
     _DST_DEC + r'self_attn.attn.\2', None),
    (rf'{_DEC}self_attn\.out_proj\.{_P}',
     _DST_DEC + r'self_attn.attn.out_proj.\2', None),
    (rf'{_DEC}cross_attn\.{_MSDA}\.{_P}', _DST_DEC + r'cross_attn.\2.\3',
     None),
    (rf'{_DEC}norm2\.{_P}', _DST_DEC + r'norms.0.\2', None),
    (rf'{_DEC}norm1\.{_P}', _DST_DEC + r'norms.1.\2', None),
    (rf'{_DEC}norm3\.{_P}', _DST_DEC + r'norms.2.\2', None),
    (rf'{_DEC}linear1\.{_P}', _DST_DEC + r'ffn.layers.0.0.\2', None),
    (rf'{_DEC}linear2\.{_P}', _DST_DEC + r'ffn.layers.1.\2', None),
    # heads; the official MLP's layers 0, 1, 2 are mmdet's Sequential
    # (Linear, ReLU, Linear, ReLU, Linear) entries 0, 2, 4
    (rf'detr\.detr\.class_embed\.(\d+)\.{_P}', r'bbox_head.cls_branches.\1.\2',
     None),
    (rf'detr\.detr\.bbox_embed\.(\d+)\.layers\.0\.{_P}',
     r'bbox_head.reg_branches.\1.0.\2', None),
    (rf'detr\.detr\.bbox_embed\.(\d+)\.layers\.1\.{_P}',
     r'bbox_head.reg_branches.\1.2.\2', None),
    (rf'detr\.detr\.bbox_embed\.(\d+)\.layers\.2\.{_P}',
     r'bbox_head.reg_branches.\1.4.\2', None),
    # the decoder's alias of bbox_embed (box refinement): dropped once
    # checked equal to detr.detr.bbox_embed
    (r'detr\.detr\.transformer\.decoder\.bbox_embed\.(\d+)\.layers\.\d\.'
     r'(weight|bias)', None, 'alias'),
    (rf'detr\.controller\.layers\.([0-2])\.{_P}',
     r'bbox_head.controller.layers.\1.\2', None),
    (rf'detr\.mask_head\.(lay1|lay2|lay3|lay4|dcn)\.{_P}',
     r'bbox_head.mask_head.\1.\2', None),
    (rf'detr\.reid_embed_head\.layers\.([0-2])\.{_P}',
     r'bbox_head.embed_head.layers.\1.\2', None),
]

DROP_REASONS = {
    'alias': 'alias of detr.detr.bbox_embed (checked equal)',
    'norm0': 'Swin res2 output norm, unused by IDOL',
}

# official block k of each unfold position u = (0,0), (0,1), (1,0), (1,1)
_UNFOLD_TO_OFFICIAL = [0, 2, 1, 3]


def unfold_channel_order(tensor: Tensor) -> Tensor:
    """Reorder the 4C input channels of a Swin patch-merging layer.

    The official (Mask2Former-style) ``PatchMerging`` concatenates the four
    pixels of a 2x2 cell as ``[x(0,0), x(1,0), x(0,1), x(1,1)]`` ((row, col)
    offsets), C channels each: input channel ``k * C + c``. mmdet's
    ``PatchMerging`` samples with ``nn.Unfold``: input channel
    ``c * 4 + u`` with ``u = 2 * row + col``. mmdet's ``swin_converter``
    does the same reordering, but only for ``init_cfg`` (ImageNet) weights,
    not for ``load_from``, so the converter applies it here.

    Args:
        tensor (Tensor): ``reduction.weight`` (2C, 4C) or ``norm.weight`` /
            ``norm.bias`` (4C, ), in the official order.

    Returns:
        Tensor: The same shape, channels in mmdet's order.
    """
    channels = tensor.shape[-1] // 4
    blocks = tensor.reshape(*tensor.shape[:-1], 4, channels)
    blocks = blocks[..., _UNFOLD_TO_OFFICIAL, :]
    return blocks.transpose(-1, -2).reshape(tensor.shape).contiguous()


TRANSFORMS: Dict[str, Callable[[Tensor], Tensor]] = {
    'unfold_order': unfold_channel_order,
}


def _rules(backbone: str) -> List[Rule]:
    """All rules of a backbone, backbone rules prefixed with its path."""
    if backbone not in BACKBONES:
        raise ValueError(f'unknown backbone {backbone!r}, expected one of '
                         f'{BACKBONES}')
    bb_rules = _RESNET_RULES if backbone == 'r50' else _SWIN_RULES
    prefix = re.escape(SRC_BACKBONE)
    rules = [(prefix + pat, tgt, tf) for pat, tgt, tf in bb_rules]
    return rules + _DETR_RULES


def map_key(key: str,
            rules: List[Rule]) -> Tuple[bool, Optional[str], Optional[str]]:
    """Find the rule of one official key.

    Args:
        key (str): Official key, e.g. ``detr.detr.query_embed.weight``.
        rules (list): From :func:`_rules`.

    Returns:
        tuple: ``(matched, target, transform)``; ``target`` is the mmookd
        key (``detector.`` included) or None for a dropped key.
    """
    for pattern, target, transform in rules:
        match = re.fullmatch(pattern, key)
        if match is None:
            continue
        if target is None:
            return True, None, transform
        name = target(match) if callable(target) else match.expand(target)
        return True, DST_PREFIX + name, transform
    return False, None, None


def group_of(key: str) -> str:
    """Module group of an mmookd key, for the summary."""
    parts = key[len(DST_PREFIX):].split('.')
    if parts[0] == 'bbox_head':
        return 'bbox_head.' + parts[1]
    if parts[0] in ('level_embed', 'query_embedding', 'reference_points_fc'):
        return 'queries/levels'
    return parts[0]


def _alias_source(key: str) -> str:
    """``...transformer.decoder.bbox_embed.X`` -> ``detr.detr.bbox_embed.X``.
    """
    return key.replace('detr.detr.transformer.decoder.bbox_embed.',
                       'detr.detr.bbox_embed.', 1)


def detect_backbone(state_dict: Dict[str, Tensor]) -> str:
    """``'r50'`` or ``'swin-l'`` from the backbone keys of a checkpoint.

    Raises:
        ConversionError: no key of a known backbone.
    """
    if SRC_BACKBONE + 'stem.conv1.weight' in state_dict:
        return 'r50'
    if SRC_BACKBONE + 'patch_embed.proj.weight' in state_dict:
        return 'swin-l'
    raise ConversionError(
        f'no {SRC_BACKBONE}stem.conv1.weight (ResNet) nor '
        f'{SRC_BACKBONE}patch_embed.proj.weight (Swin) in the checkpoint: '
        'is it a VNext IDOL checkpoint?')


def infer_num_classes(state_dict: Dict[str, Tensor]) -> int:
    """Classes of the checkpoint: rows of ``class_embed.0.weight``."""
    if SRC_CLASS_KEY not in state_dict:
        raise ConversionError(f'no {SRC_CLASS_KEY} in the checkpoint: is it '
                              'a VNext IDOL checkpoint?')
    return int(state_dict[SRC_CLASS_KEY].shape[0])


def convert_state_dict(
        state_dict: Dict[str, Tensor], backbone: str
) -> Tuple['OrderedDict[str, Tensor]', Dict[str, List[str]]]:
    """Rename (and where documented, reorder) every official tensor.

    Args:
        state_dict (dict[str, Tensor]): Official VNext IDOL state dict.
        backbone (str): ``'r50'`` or ``'swin-l'``.

    Returns:
        tuple: the mmookd state dict (keys ``detector.*``) and a report
        ``{'dropped': [source keys], 'added': [target keys],
        'transformed': [target keys]}``.

    Raises:
        ConversionError: keys without a rule, two keys mapped to one target,
            or an alias that differs from its original; all are listed.
    """
    rules = _rules(backbone)
    out: 'OrderedDict[str, Tensor]' = OrderedDict()
    sources: Dict[str, str] = {}
    report: Dict[str, List[str]] = dict(dropped=[], added=[], transformed=[])
    unmapped, problems = [], []
    for key, value in state_dict.items():
        matched, target, transform = map_key(key, rules)
        if not matched:
            unmapped.append(key)
            continue
        if target is None:
            if transform == 'alias':
                original = state_dict.get(_alias_source(key))
                if original is None or not torch.equal(original, value):
                    problems.append(f'{key} differs from (or lacks) its '
                                    f'original {_alias_source(key)}')
            report['dropped'].append(key)
            continue
        if target in sources:
            problems.append(f'{key} and {sources[target]} both map to '
                            f'{target}')
            continue
        if transform is not None:
            value = TRANSFORMS[transform](value)
            report['transformed'].append(target)
        sources[target] = key
        out[target] = value
    if unmapped or problems:
        lines = [f'cannot convert the {backbone} checkpoint:']
        if unmapped:
            lines.append(f'{len(unmapped)} source keys have no rule:')
            lines += [f'  {k} {tuple(state_dict[k].shape)}' for k in unmapped]
        lines += problems
        raise ConversionError('\n'.join(lines))
    # detectron2's FrozenBN keeps no batch counter; mmdet's BN does.
    for key in [k for k in out if k.endswith('.running_var')]:
        counter = key[:-len('running_var')] + 'num_batches_tracked'
        out[counter] = torch.tensor(0, dtype=torch.long)
        report['added'].append(counter)
    return out, report


# Buffers that are constants of the architecture: checked, not trusted.
CONSTANT_BUFFERS = ('relative_position_index', )


def check_against_target(converted: Dict[str, Tensor],
                         target: Dict[str, Tensor]) -> None:
    """Check the converted dict against the model's own state dict.

    Args:
        converted (dict[str, Tensor]): From :func:`convert_state_dict`.
        target (dict[str, Tensor]): ``model.state_dict()`` of the mmookd
            IDOL model (keys ``detector.*``).

    Raises:
        ConversionError: missing or unexpected keys, shape mismatches or
            constant buffers that differ, all listed.
    """
    missing = [k for k in target if k not in converted]
    unexpected = [k for k in converted if k not in target]
    mismatched = [
        f'  {k}: converted {tuple(v.shape)}, model '
        f'{tuple(target[k].shape)}' for k, v in converted.items()
        if k in target and tuple(v.shape) != tuple(target[k].shape)
    ]
    constants = [
        f'  {k}' for k, v in converted.items()
        if k.rsplit('.', 1)[-1] in CONSTANT_BUFFERS and k in target
        and tuple(v.shape) == tuple(target[k].shape)
        and not torch.equal(v.to(target[k].dtype), target[k])
    ]
    if not (missing or unexpected or mismatched or constants):
        return
    lines = ['the converted checkpoint does not match the model:']
    if missing:
        lines.append(f'{len(missing)} model keys get no value:')
        lines += [f'  {k} {tuple(target[k].shape)}' for k in missing]
    if unexpected:
        lines.append(f'{len(unexpected)} converted keys are not in the '
                     'model:')
        lines += [f'  {k} {tuple(converted[k].shape)}' for k in unexpected]
    if mismatched:
        lines.append(f'{len(mismatched)} shapes differ:')
        lines += mismatched
    if constants:
        lines.append('constant buffers differ from the model\'s:')
        lines += constants
    raise ConversionError('\n'.join(lines))


def summarize(converted: Dict[str, Tensor], report: Dict[str,
                                                         List[str]]) -> str:
    """A table of tensors and elements per module group."""
    added = set(report['added'])
    rows: Dict[str, List[int]] = OrderedDict()
    for key, value in converted.items():
        if key in added:
            continue
        row = rows.setdefault(group_of(key), [0, 0])
        row[0] += 1
        row[1] += value.numel()
    lines = [f'{"group":<26}{"tensors":>8}{"elements":>14}']
    for name, (count, numel) in rows.items():
        lines.append(f'{name:<26}{count:>8}{numel:>14,}')
    count = sum(row[0] for row in rows.values())
    numel = sum(row[1] for row in rows.values())
    lines.append(f'{"total":<26}{count:>8}{numel:>14,}')
    reasons = OrderedDict()
    for key in report['dropped']:
        reason = DROP_REASONS['norm0' if '.norm0.' in key else 'alias']
        reasons[reason] = reasons.get(reason, 0) + 1
    for reason, count in reasons.items():
        lines.append(f'dropped {count} source tensors: {reason}')
    if report['transformed']:
        lines.append(f'reordered {len(report["transformed"])} Swin '
                     'patch-merging tensors (unfold channel order)')
    if added:
        lines.append(f'added {len(added)} BN num_batches_tracked (0)')
    return '\n'.join(lines)


# ---------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------
def extract_state_dict(ckpt, path: str) -> 'OrderedDict[str, Tensor]':
    """The state dict of a loaded VNext checkpoint.

    Args:
        ckpt: What ``torch.load`` returned: ``{'model': state_dict, ...}``
            (detectron2) or a bare state dict.
        path (str): The file, for messages.

    Returns:
        OrderedDict[str, Tensor]: keys as in the file (a ``module.`` prefix
        on every key is removed); numpy arrays become tensors.

    Raises:
        ConversionError: not a dict of tensors.
    """
    if not isinstance(ckpt, dict):
        raise ConversionError(f'{path}: expected a dict, got '
                              f'{type(ckpt).__name__}')
    state = ckpt.get('model', ckpt)
    if not isinstance(state, dict):
        raise ConversionError(f"{path}: 'model' is a "
                              f'{type(state).__name__}, not a state dict')
    if state and all(k.startswith('module.') for k in state):
        state = {k[len('module.'):]: v for k, v in state.items()}
    out = OrderedDict()
    for key, value in state.items():
        if isinstance(value, np.ndarray):
            value = torch.from_numpy(value)
        if not isinstance(value, Tensor):
            raise ConversionError(f'{path}: {key} is a '
                                  f'{type(value).__name__}, not a tensor')
        out[key] = value
    return out


def load_vnext_checkpoint(path: str,
                          trust_source: bool = False
                          ) -> 'OrderedDict[str, Tensor]':
    """Load a VNext checkpoint safely (see ``TRUST_HELP``).

    Args:
        path (str): The ``.pth`` file.
        trust_source (bool): Fall back to ``weights_only=False`` for a file
            that ``weights_only=True`` refuses.

    Returns:
        OrderedDict[str, Tensor]: The official state dict.

    Raises:
        FileNotFoundError: no such file.
        UntrustedSourceError: the file needs full unpickling and
            ``trust_source`` is False.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'VNext checkpoint not found: {path}')
    try:
        ckpt = torch.load(path, map_location='cpu', weights_only=True)
    except pickle.UnpicklingError as err:
        if not trust_source:
            reason = str(err).strip().splitlines()
            raise UntrustedSourceError(
                f'{path} cannot be loaded with torch.load(weights_only=True)'
                f' ({reason[0] if reason else "unpickling refused"}). '
                'It holds Python objects besides tensors; unpickling them '
                'can run code from the file. If you trust the file, rerun '
                'with --trust-source (weights_only=False).') from err
        print(f'--trust-source: loading {path} with weights_only=False')
        ckpt = torch.load(path, map_location='cpu', weights_only=False)
    return extract_state_dict(ckpt, path)


def default_config(backbone: str, num_classes: int) -> str:
    """The mmookd config of a backbone and class count (repo-relative).

    Raises:
        ConversionError: no config of that kind; pass ``--config``.
    """
    name = DEFAULT_CONFIGS.get((backbone, num_classes))
    if name is None:
        raise ConversionError(
            f'no default config for backbone {backbone} with {num_classes} '
            'classes (known: 40 YTVIS, 25 OVIS, 80 COCO): pass --config')
    return str(CONFIG_DIR / name)


def check_config(cfg, config_path: str, backbone: str,
                 num_classes: int) -> None:
    """The config must describe the checkpoint's backbone and classes.

    Raises:
        ConversionError: names the checkpoint's and the config's values.
    """
    detector = cfg.model.detector
    cfg_classes = detector.bbox_head.num_classes
    if cfg_classes != num_classes:
        raise ConversionError(
            f'the checkpoint has {num_classes} classes ({SRC_CLASS_KEY}) but '
            f'{config_path} has model.detector.bbox_head.num_classes='
            f'{cfg_classes}; convert with a config of {num_classes} classes '
            '(load_from then skips the class branches of a model with '
            'another class count)')
    cfg_type = detector.backbone.type
    if cfg_type != BACKBONE_TYPES[backbone]:
        raise ConversionError(
            f'the checkpoint has a {backbone} backbone but {config_path} '
            f'has model.detector.backbone.type={cfg_type!r}')


def build_target_state(cfg) -> Dict[str, Tensor]:
    """``state_dict()`` of the mmookd model of a config (built on CPU)."""
    from mmdet.registry import MODELS
    from mmdet.utils import register_all_modules

    import mmookd  # noqa: F401  (registers IDOL)
    register_all_modules(init_default_scope=True)
    model_cfg = cfg.model.deepcopy()
    model_cfg.detector.backbone.init_cfg = None  # never download
    return MODELS.build(model_cfg).state_dict()


def save_checkpoint(state_dict: Dict[str, Tensor], meta: dict,
                    path: str) -> None:
    """Write ``{'state_dict', 'meta'}`` (tensors and plain types only)."""
    parent = osp.dirname(osp.abspath(path))
    os.makedirs(parent, exist_ok=True)
    torch.save({'state_dict': OrderedDict(state_dict), 'meta': meta}, path)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Convert an official IDOL checkpoint (VNext, '
        'detectron2) into an mmookd checkpoint for load_from.',
        epilog=TRUST_HELP)
    parser.add_argument('src', help='VNext IDOL checkpoint (.pth)')
    parser.add_argument('dst', help='output mmengine checkpoint (.pth)')
    parser.add_argument(
        '--backbone',
        choices=BACKBONES,
        help='backbone of SRC (default: detected from its keys)')
    parser.add_argument(
        '--config',
        help='mmookd IDOL config whose model receives the weights (default: '
        'configs/idol/ of the backbone and class count: 40 YTVIS-2019, '
        '25 OVIS, 80 COCO pseudo-video)')
    parser.add_argument(
        '--trust-source',
        action='store_true',
        help='if torch.load(weights_only=True) refuses SRC, load it with '
        'weights_only=False, which can run code from the file: only for '
        'files you trust')
    return parser.parse_args(argv)


def main(argv=None) -> Dict[str, Tensor]:
    """Run the conversion; returns the converted state dict."""
    args = parse_args(argv)
    from mmengine.config import Config

    src = load_vnext_checkpoint(args.src, args.trust_source)
    backbone = detect_backbone(src)
    if args.backbone is not None and args.backbone != backbone:
        raise ConversionError(f'--backbone {args.backbone}, but {args.src} '
                              f'holds a {backbone} backbone')
    num_classes = infer_num_classes(src)
    config_path = args.config or default_config(backbone, num_classes)
    cfg = Config.fromfile(config_path)
    check_config(cfg, config_path, backbone, num_classes)

    converted, report = convert_state_dict(src, backbone)
    check_against_target(converted, build_target_state(cfg))
    print(f'{args.src}: {backbone}, {num_classes} classes -> model of '
          f'{config_path}')
    print(summarize(converted, report))
    meta = dict(
        converted_from=osp.basename(args.src),
        converter='tools/model_converters/vnext_idol_to_mmookd.py',
        source_format='VNext IDOL (detectron2)',
        backbone=backbone,
        num_classes=num_classes,
        config=osp.basename(config_path))
    save_checkpoint(converted, meta, args.dst)
    print(f'saved {len(converted)} tensors to {args.dst}')
    return converted


if __name__ == '__main__':
    main()
