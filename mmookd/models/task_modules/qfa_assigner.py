# Copyright (c) mmookd authors. All rights reserved.
"""Query Filtering and Association (QFA) of OOKD (paper Sec. 3.3).

For one frame with ``N`` query predictions and ``M`` ground truths (GTs),
QFA builds the cost matrix (Eq. 2)::

    S[n, m] = cls_weight * CE(C_hat_n, C_m)
              + giou_weight * (-GIoU(B_hat_n, B_m))

and gives every GT ``m`` the query ``sigma_m = argmin_n S[n, m]`` (Eq. 3).
The student and the teacher run it separately against the same frame GT;
the pair ``(sigma_m, sigma_m^off)`` then feeds the distillation loss (Eq. 4,
:class:`mmookd.models.losses.cosine_kd_loss.CosineKDLoss`).

Shape shorthand: ``N`` queries, ``M`` GTs, ``K`` class logits per query.

Worked example (costs already computed)::

    S (N=3, M=2)   GT0  GT1
    q0            [0.1, 0.2]
    q1            [0.3, 0.9]
    q2            [0.8, 0.7]

    'argmin':    sigma = [0, 0]   (q0 is best for both GTs)
    'hungarian': sigma = [1, 0]   (total 0.3 + 0.2 = 0.5, the least of all
                                   one-to-one choices; [0, 2] costs 0.8)
    'index':     sigma = [0, 1]   (whatever S is)
"""
import math
from typing import Optional, Tuple, Union

import torch
import torch.nn.functional as F
from mmdet.models.task_modules.assigners.match_cost import (BaseMatchCost,
                                                            IoUCost)
from mmdet.registry import TASK_UTILS
from mmengine.structures import InstanceData
from scipy.optimize import linear_sum_assignment
from torch import Tensor

_ACTIVATIONS = ('sigmoid', 'softmax')
_MATCH_MODES = ('argmin', 'hungarian', 'index')
# Cost of a query marked not valid (``pred_instances.valid`` False): never
# picked, a GT left with only such queries gets -1.
INVALID_COST = 1e8


@TASK_UTILS.register_module()
class LabelCrossEntropyCost(BaseMatchCost):
    """Cross-entropy class cost ``-log p_n(c_m)`` between queries and GTs.

    mmdet's ``ClassificationCost`` gives ``-p`` (not a cross entropy) and
    its ``CrossEntropyLossCost`` is a per-pixel binary cross entropy of
    masks; this cost is the cross entropy of Eq. 2 of OOKD. The probability
    comes from the classifier's own activation:

    - ``'sigmoid'``: ``p_n(c) = sigmoid(z_n[c])``, the independent per-class
      probability of a focal-loss classifier such as IDOL's. Only the GT
      class's term ``-log p_n(c_m)`` enters (no negative-class terms).
    - ``'softmax'``: ``p_n = softmax(z_n)`` over all ``K`` logits. For a
      classifier with a trailing no-object logit (DETR, Mask2Former, VITA)
      pass all ``num_classes + 1`` logits: the no-object logit takes part in
      the normalisation but is never a GT class.

    The logarithm is computed in log space (``logsigmoid`` /
    ``log_softmax``) and the cost is capped at ``-log(eps)``, which equals
    ``-log(max(p, eps))``.

    Args:
        activation (str): ``'sigmoid'`` or ``'softmax'``. Defaults to
            ``'sigmoid'``.
        eps (float): Smallest probability inside the log. Defaults to 1e-12.
        weight (float): Cost weight. Defaults to 1.0.
    """

    def __init__(self,
                 activation: str = 'sigmoid',
                 eps: float = 1e-12,
                 weight: Union[float, int] = 1.) -> None:
        super().__init__(weight=weight)
        if activation not in _ACTIVATIONS:
            raise ValueError(f'activation must be one of {_ACTIVATIONS}, '
                             f'got {activation!r}')
        if not 0 < eps < 1:
            raise ValueError(f'eps must lie in (0, 1), got {eps}')
        self.activation = activation
        self.eps = eps

    def __call__(self,
                 pred_instances: InstanceData,
                 gt_instances: InstanceData,
                 img_meta: Optional[dict] = None,
                 **kwargs) -> Tensor:
        """Compute the cost.

        Args:
            pred_instances (:obj:`InstanceData`): ``scores`` (N, K) raw
                class logits (mmdet's match costs name logits ``scores``).
            gt_instances (:obj:`InstanceData`): ``labels`` (M, ) 0-based.
            img_meta (dict, optional): Unused.

        Returns:
            Tensor: (N, M) weighted cost.
        """
        logits = pred_instances.scores.float()
        labels = gt_instances.labels.long()
        if self.activation == 'sigmoid':
            log_p = F.logsigmoid(logits)
        else:
            log_p = F.log_softmax(logits, dim=-1)
        cost = (-log_p[:, labels]).clamp(max=-math.log(self.eps))
        return cost * self.weight


@TASK_UTILS.register_module()
class QFAAssigner:
    """Query Filtering and Association (OOKD Eq. 2-3).

    Gives every ground truth of one frame the index of one query.

    Args:
        match (str): How GTs get queries.

            - ``'argmin'`` (paper, Eq. 3): ``sigma_m = argmin_n S[n, m]``
              for every GT on its own; two GTs may get the same query.
            - ``'hungarian'``: one-to-one assignment of minimal total cost
              (scipy ``linear_sum_assignment``); when ``M > N`` the GTs left
              without a query get ``-1``.
            - ``'index'``: no QFA (the "KD without QFA" row of Tab. 4):
              ``sigma_m = m`` for ``m < N`` and ``-1`` for ``m >= N``,
              whatever the predictions. The student and the teacher get
              the same indices, so student query ``n`` is distilled from
              teacher query ``n``. ``cost_thr`` does not apply.

            Defaults to ``'argmin'``.
        cls_weight (float): Weight of the cross-entropy cost. Defaults to
            1.0 (Eq. 2 has no weight on it).
        giou_weight (float): ``lambda_b`` of Eq. 2, weight of ``-GIoU``.
            Defaults to 2.0, the GIoU/class ratio of DETR's matcher (class 1,
            GIoU 2) and of the GIoU weight of IDOL's losses; the paper gives
            no value.
        activation (str): Class probability of the model's classifier:
            ``'sigmoid'`` (IDOL, focal loss) or ``'softmax'`` (may include a
            trailing no-object logit). Defaults to ``'sigmoid'``.
        cost_thr (float, optional): A GT whose assigned query costs more
            than this gets ``-1`` (the "filtering" of QFA). Defaults to None:
            no filtering.
        eps (float): Smallest probability inside the log. Defaults to 1e-12.

    Example:
        >>> assigner = QFAAssigner()
        >>> pred = InstanceData(cls_logits=torch.tensor([[4., -4.],
        ...                                              [-4., 4.]]),
        ...                     bboxes=torch.tensor([[0., 0., 10., 10.],
        ...                                          [20., 20., 30., 30.]]))
        >>> gt = InstanceData(labels=torch.tensor([1, 0]),
        ...                   bboxes=torch.tensor([[20., 20., 30., 30.],
        ...                                        [0., 0., 10., 10.]]))
        >>> assigner.assign(pred, gt)
        tensor([1, 0])
    """

    def __init__(self,
                 match: str = 'argmin',
                 cls_weight: float = 1.0,
                 giou_weight: float = 2.0,
                 activation: str = 'sigmoid',
                 cost_thr: Optional[float] = None,
                 eps: float = 1e-12) -> None:
        if match not in _MATCH_MODES:
            raise ValueError(f'QFAAssigner: match must be one of '
                             f'{_MATCH_MODES}, got {match!r}')
        self.match = match
        self.cost_thr = cost_thr
        self.cls_cost = LabelCrossEntropyCost(
            activation=activation, eps=eps, weight=cls_weight)
        # IoUCost gives -GIoU (the constant 1 of the GIoU loss is omitted,
        # it does not change any argmin).
        self.giou_cost = IoUCost(iou_mode='giou', weight=giou_weight)

    @staticmethod
    def _check_inputs(pred_instances: InstanceData,
                      gt_instances: InstanceData) -> None:
        """Raise a ValueError naming the field whose shape is wrong."""
        logits = pred_instances.cls_logits
        bboxes = pred_instances.bboxes
        labels = gt_instances.labels
        gt_bboxes = gt_instances.bboxes
        if logits.dim() != 2 or bboxes.shape != (logits.size(0), 4):
            raise ValueError(
                'QFAAssigner: pred_instances.cls_logits must be (N, K) and '
                'pred_instances.bboxes (N, 4), got '
                f'{tuple(logits.shape)} and {tuple(bboxes.shape)}')
        if labels.dim() != 1 or gt_bboxes.shape != (labels.numel(), 4):
            raise ValueError(
                'QFAAssigner: gt_instances.labels must be (M, ) and '
                'gt_instances.bboxes (M, 4), got '
                f'{tuple(labels.shape)} and {tuple(gt_bboxes.shape)}')
        if labels.numel() and (labels.min() < 0
                               or labels.max() >= logits.size(1)):
            raise ValueError(
                'QFAAssigner: gt_instances.labels must lie in '
                f'[0, {logits.size(1)}) (the columns of cls_logits), got '
                f'{labels.tolist()}')

    @torch.no_grad()
    def compute_cost(self, pred_instances: InstanceData,
                     gt_instances: InstanceData) -> Tensor:
        """Cost matrix of Eq. 2.

        Args:
            pred_instances (:obj:`InstanceData`): ``cls_logits`` (N, K) raw
                class logits, ``bboxes`` (N, 4) xyxy.
            gt_instances (:obj:`InstanceData`): ``labels`` (M, ) 0-based,
                ``bboxes`` (M, 4) xyxy, in the same units as the predictions
                (GIoU does not depend on the scale).

        Returns:
            Tensor: (N, M) float cost ``S``, on the predictions' device.
        """
        self._check_inputs(pred_instances, gt_instances)
        logits = pred_instances.cls_logits.detach()
        num_preds, num_gts = logits.size(0), gt_instances.labels.numel()
        if num_preds == 0 or num_gts == 0:
            return logits.new_zeros((num_preds, num_gts), dtype=torch.float)
        preds = InstanceData(
            scores=logits, bboxes=pred_instances.bboxes.detach().float())
        gts = InstanceData(
            labels=gt_instances.labels.to(logits.device),
            bboxes=gt_instances.bboxes.to(logits.device).float())
        cost = self.cls_cost(preds, gts) + self.giou_cost(preds, gts)
        valid = pred_instances.get('valid')
        if valid is not None:
            # a query without a box in this frame cannot be picked
            cost = cost.masked_fill(~valid.to(cost.device).bool()[:, None],
                                    INVALID_COST)
        return cost

    def _match(self, cost: Tensor) -> Tensor:
        """(N, M) cost -> (M, ) long query index per GT, -1 for none."""
        num_preds, num_gts = cost.shape
        sigma = cost.new_full((num_gts, ), -1, dtype=torch.long)
        if self.match == 'index':
            keep = min(num_preds, num_gts)
            sigma[:keep] = torch.arange(keep, device=cost.device)
            return sigma
        if num_preds == 0 or num_gts == 0:
            return sigma
        if self.match == 'argmin':
            sigma = cost.argmin(dim=0)
        else:
            rows, cols = linear_sum_assignment(cost.cpu().numpy())
            sigma[torch.from_numpy(cols).to(cost.device)] = \
                torch.from_numpy(rows).to(cost.device)
        matched = sigma >= 0
        gt_idx = torch.arange(num_gts, device=cost.device)
        best = cost[sigma.clamp(min=0), gt_idx]
        sigma[matched & (best >= INVALID_COST)] = -1
        if self.cost_thr is not None:
            sigma[matched & (best > self.cost_thr)] = -1
        return sigma

    @torch.no_grad()
    def assign(
            self,
            pred_instances: InstanceData,
            gt_instances: InstanceData,
            return_cost: bool = False) -> Union[Tensor, Tuple[Tensor, Tensor]]:
        """Give every GT of one frame one query (Eq. 3).

        Args:
            pred_instances (:obj:`InstanceData`): Predictions of all ``N``
                queries of the frame: ``cls_logits`` (N, K) raw class logits,
                ``bboxes`` (N, 4) xyxy and, optionally, ``valid`` (N, ) bool:
                a query marked False (no box in this frame, e.g. an empty
                mask) is never picked.
            gt_instances (:obj:`InstanceData`): GTs of the frame: ``labels``
                (M, ) 0-based, ``bboxes`` (M, 4) xyxy.
            return_cost (bool): Also return the cost matrix. Defaults to
                False.

        Returns:
            Tensor | tuple[Tensor, Tensor]: ``sigma`` (M, ) long, the query
            index of each GT or ``-1`` (filtered out / no query left), on
            the predictions' device; with ``return_cost``, also the (N, M)
            cost matrix ``S``.
        """
        cost = self.compute_cost(pred_instances, gt_instances)
        sigma = self._match(cost)
        return (sigma, cost) if return_cost else sigma
