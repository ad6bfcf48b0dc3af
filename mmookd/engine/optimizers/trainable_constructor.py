# Copyright (c) mmookd authors. All rights reserved.
"""An optimizer-wrapper constructor that leaves frozen modules out."""
from typing import List, Optional, Sequence

from mmdet.registry import OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.optim import DefaultOptimWrapperConstructor
from torch import nn


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class TrainableOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """mmengine's default constructor over the trainable parameters only.

    Sub-modules none of whose parameters require a gradient (the frozen
    base IDOL of :class:`OfflineTeacher`) are skipped silently, instead of
    one warning per parameter; ``paramwise_cfg`` applies to the rest as
    usual. With an empty ``paramwise_cfg`` only the parameters with
    ``requires_grad`` are given to the optimizer.
    """

    def add_params(self,
                   params: List[dict],
                   module: nn.Module,
                   prefix: str = '',
                   is_dcn_module: Optional[Sequence] = None) -> None:
        """Add the parameter groups of ``module`` unless it is frozen."""
        if not any(p.requires_grad for p in module.parameters()):
            return
        super().add_params(params, module, prefix, is_dcn_module)

    def __call__(self, model: nn.Module):
        """Build the optimizer wrapper (always the paramwise path, which
        is the one that leaves frozen parameters out)."""
        if not self.paramwise_cfg:
            self.paramwise_cfg = dict(bypass_duplicate=False)
        return super().__call__(model)
