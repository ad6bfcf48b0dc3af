# Copyright (c) mmookd authors. All rights reserved.
"""Cosine feature distillation loss of OOKD (paper Eq. 4).

Shape shorthand: ``M`` matched pairs, ``C`` feature channels. Pair ``m`` is
the student feature ``f_{sigma_m}`` and the teacher (offline) feature
``f^off_{sigma^off_m}`` of the same ground truth ``m``, gathered by the
caller from the two :class:`QFAAssigner` outputs.
"""
from typing import Optional

import torch
import torch.nn.functional as F
from mmdet.models.losses.utils import weight_reduce_loss
from mmdet.registry import MODELS
from torch import Tensor, nn

_REDUCTIONS = ('none', 'mean', 'sum')


def cosine_distance(student_feats: Tensor,
                    teacher_feats: Tensor,
                    eps: float = 1e-8) -> Tensor:
    """Per-pair ``1 - cos(f^off, f)``.

    Each vector is divided by ``max(||v||, eps)``, so a zero vector has
    cosine 0 with anything (distance 1) and a finite gradient.

    Args:
        student_feats (Tensor): (M, C).
        teacher_feats (Tensor): (M, C).
        eps (float): Smallest norm. Defaults to 1e-8.

    Returns:
        Tensor: (M, ) distances in [0, 2].
    """
    student = F.normalize(student_feats, dim=-1, eps=eps)
    teacher = F.normalize(teacher_feats, dim=-1, eps=eps)
    return 1 - (student * teacher).sum(dim=-1)


@MODELS.register_module()
class CosineKDLoss(nn.Module):
    """``L_KD = 1/M sum_m (1 - cos(f^off_{sigma^off_m}, f_{sigma_m}))``.

    Reductions (over the valid pairs only):

    - ``'mean'`` (default, Eq. 4): the mean over the valid pairs, or their
      sum divided by ``avg_factor`` when one is given (e.g. the number of
      valid pairs of the whole batch, for a batch-level mean).
    - ``'sum'``: the sum over the valid pairs (a caller that sums frames).
    - ``'none'``: (M, ) per-pair losses, 0 at invalid pairs.

    With no valid pair (``M = 0`` or ``valid`` all False) ``'mean'`` and
    ``'sum'`` return ``student_feats.sum() * 0``: a zero that is still
    connected to the student graph (never NaN).

    Args:
        loss_weight (float): ``lambda_4`` of Eq. 5. Defaults to 1.0.
        reduction (str): ``'mean'``, ``'sum'`` or ``'none'``. Defaults to
            ``'mean'``.
        teacher_detach (bool): Detach the teacher features, so that no
            gradient reaches the teacher. Defaults to True.
        eps (float): Smallest norm in the cosine. Defaults to 1e-8.
    """

    def __init__(self,
                 loss_weight: float = 1.0,
                 reduction: str = 'mean',
                 teacher_detach: bool = True,
                 eps: float = 1e-8) -> None:
        super().__init__()
        if reduction not in _REDUCTIONS:
            raise ValueError(f'CosineKDLoss: reduction must be one of '
                             f'{_REDUCTIONS}, got {reduction!r}')
        self.loss_weight = loss_weight
        self.reduction = reduction
        self.teacher_detach = teacher_detach
        self.eps = eps

    def forward(self,
                student_feats: Tensor,
                teacher_feats: Tensor,
                valid: Optional[Tensor] = None,
                avg_factor: Optional[float] = None,
                reduction_override: Optional[str] = None) -> Tensor:
        """Compute the loss.

        Args:
            student_feats (Tensor): (M, C) student features ``f_{sigma_m}``.
            teacher_feats (Tensor): (M, C) teacher features
                ``f^off_{sigma^off_m}``, row ``m`` paired with row ``m``.
            valid (Tensor, optional): (M, ) bool, the pairs to use (e.g.
                ``(sigma >= 0) & (sigma_off >= 0)``). Defaults to None: all.
            avg_factor (float, optional): Divisor of the ``'mean'``
                reduction instead of the number of valid pairs.
            reduction_override (str, optional): Overrides ``reduction``.

        Returns:
            Tensor: scalar loss (``'mean'``/``'sum'``) or (M, ) per-pair
            losses (``'none'``), multiplied by ``loss_weight``.
        """
        reduction = reduction_override or self.reduction
        if reduction not in _REDUCTIONS:
            raise ValueError(f'CosineKDLoss: reduction_override must be one '
                             f'of {_REDUCTIONS}, got {reduction!r}')
        if student_feats.dim() != 2 or \
                student_feats.shape != teacher_feats.shape:
            raise ValueError(
                'CosineKDLoss: student_feats and teacher_feats must both be '
                f'(M, C), got {tuple(student_feats.shape)} and '
                f'{tuple(teacher_feats.shape)}')
        num_pairs = student_feats.size(0)
        if valid is None:
            valid = student_feats.new_ones((num_pairs, ), dtype=torch.bool)
        elif valid.shape != (num_pairs, ):
            raise ValueError(
                f'CosineKDLoss: valid must be ({num_pairs}, ), got '
                f'{tuple(valid.shape)}')
        valid = valid.to(device=student_feats.device, dtype=torch.bool)
        if self.teacher_detach:
            teacher_feats = teacher_feats.detach()

        if reduction == 'none':
            loss = cosine_distance(student_feats, teacher_feats, self.eps)
            return self.loss_weight * loss.masked_fill(~valid, 0.0)
        if not bool(valid.any()):
            return student_feats.sum() * 0.0
        loss = cosine_distance(student_feats[valid], teacher_feats[valid],
                               self.eps)
        loss = weight_reduce_loss(
            loss, reduction=reduction, avg_factor=avg_factor)
        return self.loss_weight * loss
