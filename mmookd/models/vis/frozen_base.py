# Copyright (c) mmookd authors. All rights reserved.
"""A frozen base IDOL loaded from a checkpoint, and its record in the
state dict of the model that holds it (the offline teacher).

The state dict of such a model leaves the base out; its metadata
(``state_dict._metadata[prefix]``) records ``base_checkpoint`` and its
``base_sha256``. Loading restores the rest, keeps the base loaded from
``base_checkpoint`` and refuses a checkpoint trained on another base.
"""
import logging
import os.path as osp
from typing import Optional

from mmengine.logging import print_log
from mmengine.runner.checkpoint import load_checkpoint

from ...utils import compat  # noqa: F401  (the weights_only loader)
from ...utils.teacher_cache import file_sha256


def _drop_base_state(module: 'FrozenBaseMixin', state_dict: dict, prefix: str,
                     local_metadata: dict) -> None:
    """State-dict hook: keep only the aggregator, record the base."""
    base_prefix = prefix + 'base.'
    for key in [k for k in state_dict if k.startswith(base_prefix)]:
        del state_dict[key]
    metadata = getattr(state_dict, '_metadata', None)
    if metadata is not None:
        for key in [
                k for k in metadata
                if k == prefix + 'base' or k.startswith(base_prefix)
        ]:
            del metadata[key]
    local_metadata['base_checkpoint'] = module.base_checkpoint
    local_metadata['base_sha256'] = module.base_sha256


def _restore_base_state(module: 'FrozenBaseMixin', state_dict: dict,
                        prefix: str, local_metadata: dict, *args) -> None:
    """Load pre-hook: check the recorded base, keep the loaded base.

    The base's entries are filled in with the tensors the base holds now
    (from ``base_checkpoint``), so they are neither missing nor overwritten;
    ``base.*`` entries of the file, if any, are ignored.
    """
    module.check_base_record(local_metadata)
    base_prefix = prefix + 'base.'
    ignored = [k for k in state_dict if k.startswith(base_prefix)]
    if ignored:
        print_log(
            f'OfflineTeacher: ignoring {len(ignored)} "base.*" entries of '
            'the loaded state dict; the base comes from base_checkpoint '
            f'({module.base_checkpoint})',
            logger='current',
            level=logging.WARNING)
    state_dict.update(module.base.state_dict(prefix=base_prefix))


class FrozenBaseMixin:
    """Load, hash and check the frozen ``self.base`` of a model.

    The model sets ``self.base`` and ``self.check_base`` and calls
    :meth:`setup_frozen_base` once.
    """

    def setup_frozen_base(self, path: Optional[str],
                          expected_sha256: Optional[str]) -> None:
        """Load ``self.base`` from ``path``, freeze it, register the hooks."""
        self.base_checkpoint = path
        self.base_sha256 = None
        self._load_base(path, expected_sha256)
        for param in self.base.parameters():
            param.requires_grad_(False)
        self.base.eval()
        self._register_state_dict_hook(_drop_base_state)
        self._register_load_state_dict_pre_hook(
            _restore_base_state, with_module=True)

    def _load_base(self, path: Optional[str],
                   expected_sha256: Optional[str]) -> None:
        """Load the frozen IDOL from ``path`` (or init it randomly)."""
        if path is None:
            if expected_sha256 is not None:
                raise ValueError('OfflineTeacher: base_checkpoint_sha256 is '
                                 'set but model.base_checkpoint is None')
            print_log(
                'OfflineTeacher: model.base_checkpoint is None, the frozen '
                'IDOL keeps a random initialisation (only useful in tests)',
                logger='current',
                level=logging.WARNING)
            self.base.init_weights()
            return
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'OfflineTeacher: model.base_checkpoint not found: {path} '
                '(train the stage-1 IDOL first, or point the config at it)')
        self.base_sha256 = file_sha256(path)
        if expected_sha256 is not None and (expected_sha256.lower()
                                            != self.base_sha256):
            raise ValueError(
                f'OfflineTeacher: model.base_checkpoint {path} has SHA-256 '
                f'{self.base_sha256}, but model.base_checkpoint_sha256 is '
                f'{expected_sha256}: refusing a different base IDOL')
        try:
            load_checkpoint(
                self.base,
                path,
                map_location='cpu',
                strict=True,
                logger='current')
        except RuntimeError as err:
            raise RuntimeError(
                f'OfflineTeacher: model.base_checkpoint {path} does not fit '
                f'model.base: {err}') from err

    def check_base_record(self, local_metadata: dict) -> None:
        """Compare the base recorded in a loaded state dict with ours.

        Args:
            local_metadata (dict): The teacher's state-dict metadata, with
                ``base_checkpoint`` and ``base_sha256`` when saved by an
                :class:`OfflineTeacher`.

        Raises:
            ValueError: both hashes are known and differ (``check_base``).
        """
        if 'base_sha256' not in local_metadata:
            print_log(
                'OfflineTeacher: the loaded state dict does not record its '
                'base IDOL; loading the aggregator without checking it',
                logger='current',
                level=logging.WARNING)
            return
        recorded = local_metadata['base_sha256']
        if recorded is None or self.base_sha256 is None:
            if recorded != self.base_sha256:
                print_log(
                    'OfflineTeacher: cannot check the base IDOL (checkpoint '
                    f'records {recorded}, model.base_checkpoint is '
                    f'{self.base_checkpoint})',
                    logger='current',
                    level=logging.WARNING)
            return
        if recorded != self.base_sha256 and self.check_base:
            raise ValueError(
                'OfflineTeacher: this teacher checkpoint was trained on the '
                f'base IDOL {local_metadata.get("base_checkpoint")} '
                f'(SHA-256 {recorded}), but model.base_checkpoint '
                f'{self.base_checkpoint} has SHA-256 {self.base_sha256}. Set '
                'model.base_checkpoint to the IDOL the teacher was trained '
                'on (or check_base=False to override).')
