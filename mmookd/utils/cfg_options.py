# Copyright (c) mmookd authors. All rights reserved.
"""Check ``--cfg-options`` against the config before merging them.

mmengine's ``Config.merge_from_dict`` adds any key it is given, so a typo
(``trian_cfg.max_iters=2``) silently does nothing, and a value of the wrong
type (``train_cfg.max_iters=abc``) fails later without naming the key.
:func:`check_cfg_options` refuses, naming the key:

- a top-level key that is neither in the config nor one the Runner reads
  (``randomness``, ``resume``, ...);
- a key that is not in its (existing) parent but is one letter or two away
  from a key that is (``max_itres`` next to ``max_iters``): a new key with
  no such neighbour is allowed (a constructor argument the config leaves at
  its default, e.g. ``model.teacher_checkpoint``);
- an index past the end of a list;
- a text value where the config holds a number or a bool.
"""
import difflib
import inspect
from typing import Any, Dict, List

__all__ = ['check_cfg_options', 'merge_cfg_options', 'CfgOptionError']

# top-level keys the tools and mmengine's Runner read besides its arguments
EXTRA_TOP_LEVEL_KEYS = ('model_wrapper_cfg', 'find_unused_parameters',
                        'custom_imports', 'runner_type', 'compile',
                        'strategy', 'work_dir', 'launcher', 'resume',
                        'load_from', 'randomness', 'env_cfg', 'log_level',
                        'train_from_scratch')


class CfgOptionError(ValueError):
    """A ``--cfg-options`` key or value that does not fit the config."""


def _runner_keys() -> List[str]:
    from mmengine.runner import Runner
    params = inspect.signature(Runner.__init__).parameters
    return [name for name in params if name != 'self']


def _close(key: str, candidates) -> List[str]:
    return difflib.get_close_matches(
        key, [str(c) for c in candidates], n=3, cutoff=0.8)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_value(path: str, old: Any, new: Any) -> None:
    """A number or bool in the config must not become text."""
    if isinstance(new, str) and (_is_number(old) or isinstance(old, bool)):
        kind = 'a bool' if isinstance(old, bool) else 'a number'
        raise CfgOptionError(
            f'--cfg-options {path}={new}: the config holds {kind} there '
            f'({old!r}), got the text {new!r}')


def check_cfg_options(cfg, options: Dict[str, Any]) -> None:
    """Refuse ``--cfg-options`` keys that are typos and values of the wrong
    type (see the module docstring).

    Args:
        cfg (mmengine.Config): The config the options will be merged into.
        options (dict): ``dotted.key -> value`` as parsed by ``DictAction``.

    Raises:
        CfgOptionError: The message names the key (and a close existing
            one where there is one).
    """
    top_level = set(cfg.keys()) | set(_runner_keys()) | set(
        EXTRA_TOP_LEVEL_KEYS)
    for path, value in options.items():
        parts = str(path).split('.')
        node: Any = cfg
        for depth, part in enumerate(parts):
            where = '.'.join(parts[:depth + 1])
            last = depth == len(parts) - 1
            if isinstance(node, (list, tuple)):
                if not part.isdigit() or int(part) >= len(node):
                    raise CfgOptionError(
                        f'--cfg-options {path}: {where} is not an index of '
                        f'the {len(node)}-entry list '
                        f'{".".join(parts[:depth]) or "<config>"}')
                node = node[int(part)]
            elif hasattr(node, 'keys'):
                if part not in node:
                    if depth == 0 and part not in top_level:
                        near = _close(part, top_level)
                        raise CfgOptionError(
                            f'--cfg-options {path}: the config has no key '
                            f'{part!r}' + (f'; did you mean {near[0]!r}?'
                                           if near else ''))
                    near = [] if depth == 0 else _close(part, node.keys())
                    if near:
                        raise CfgOptionError(
                            f'--cfg-options {path}: {where} is not in the '
                            f'config; did you mean '
                            f'{".".join(parts[:depth] + [near[0]])!r}?')
                    break  # a new key: nothing below it to check
                if last:
                    _check_value(path, node[part], value)
                node = node[part]
            else:
                # None or a scalar: replaced by what the option gives
                break


def merge_cfg_options(cfg, options: Dict[str, Any]) -> None:
    """:func:`check_cfg_options`, then ``cfg.merge_from_dict(options)``."""
    if options:
        check_cfg_options(cfg, options)
        cfg.merge_from_dict(options)
