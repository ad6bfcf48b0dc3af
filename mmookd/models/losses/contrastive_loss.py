# Copyright (c) mmookd authors. All rights reserved.
"""IDOL's contrastive embedding losses (VNext ``deformable_detr.py``
``loss_reid`` and ``pos_neg_select.py``).

Shape shorthand: ``M`` items (one per ground-truth instance present in the
key and the reference frame), ``N`` candidate reference-frame queries,
``C`` embedding channels. For item ``m``, ``v_m`` is the key-frame
embedding of the instance and ``k_{m,j}`` the reference-frame embeddings;
``pos_mask[m, j]`` / ``neg_mask[m, j]`` say whether ``k_{m,j}`` is a
positive / negative of the item. A candidate may be both (the official
selection allows it; the pair then adds ``exp(0) = 1``) or neither.
"""
from typing import Optional

import torch
import torch.nn.functional as F
from mmdet.registry import MODELS
from mmengine.model import BaseModule
from torch import Tensor


def _expand_refs(key_embeds: Tensor, ref_embeds: Tensor) -> Tensor:
    """(N, C) or (M, N, C) reference embeddings -> (M, N, C)."""
    if ref_embeds.dim() == 2:
        return ref_embeds[None].expand(key_embeds.size(0), -1, -1)
    return ref_embeds


def multi_pos_contrastive(key_embeds: Tensor, ref_embeds: Tensor,
                          pos_mask: Tensor, neg_mask: Tensor) -> Tensor:
    """Per-item multi-positive contrastive loss.

    ``l_m = log(1 + sum_{p in pos} sum_{q in neg} exp(v.k_q - v.k_p))``
    with raw (un-normalized) dot products.

    Args:
        key_embeds (Tensor): (M, C).
        ref_embeds (Tensor): (M, N, C), or (N, C) shared by all items.
        pos_mask (Tensor): (M, N) bool.
        neg_mask (Tensor): (M, N) bool.

    Returns:
        Tensor: (M, ) loss of every item.
    """
    refs = _expand_refs(key_embeds, ref_embeds)
    logits = torch.einsum('mc,mnc->mn', key_embeds, refs)
    # diff[m, p, q] = logit_q - logit_p over valid (positive p, negative q)
    diff = logits[:, None, :] - logits[:, :, None]
    valid = pos_mask[:, :, None] & neg_mask[:, None, :]
    diff = diff.masked_fill(~valid, float('-inf')).flatten(1)
    zeros = diff.new_zeros((diff.size(0), 1))
    return torch.logsumexp(torch.cat([diff, zeros], dim=1), dim=1)


def sample_negatives(pos_mask: Tensor,
                     neg_mask: Tensor,
                     neg_pos_ratio: int = 10,
                     num_neg_without_pos: int = 10) -> Tensor:
    """Random subset of the negatives of every item.

    Item ``m`` keeps ``min(#neg, neg_pos_ratio * #pos)`` negatives, or
    ``min(#neg, num_neg_without_pos)`` when it has no positive.

    Args:
        pos_mask (Tensor): (M, N) bool.
        neg_mask (Tensor): (M, N) bool.
        neg_pos_ratio (int): Defaults to 10.
        num_neg_without_pos (int): Defaults to 10.

    Returns:
        Tensor: (M, N) bool, the kept negatives.
    """
    num_pos = pos_mask.sum(1)
    num_neg = neg_mask.sum(1)
    quota = torch.where(num_pos > 0, num_pos * neg_pos_ratio,
                        torch.full_like(num_pos, num_neg_without_pos))
    quota = torch.minimum(quota, num_neg)
    # random order of the negatives; non-negatives sort last
    keys = torch.rand(neg_mask.shape, device=neg_mask.device)
    keys = keys.masked_fill(~neg_mask, 2.0)
    rank = keys.argsort(dim=1).argsort(dim=1)
    return neg_mask & (rank < quota[:, None])


@MODELS.register_module()
class ContrastiveLoss(BaseModule):
    """IDOL's multi-positive contrastive loss, averaged over the items.

    ``L = mean_m log(1 + sum_{k+} sum_{k-} exp(v.k- - v.k+))``.

    Args:
        loss_weight (float): Defaults to 2.0 (REID_WEIGHT).
    """

    def __init__(self, loss_weight: float = 2.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self,
                key_embeds: Tensor,
                ref_embeds: Tensor,
                pos_mask: Tensor,
                neg_mask: Tensor,
                avg_factor: Optional[float] = None) -> Tensor:
        """Compute the loss.

        Args:
            key_embeds (Tensor): (M, C) key-frame embeddings of the items.
            ref_embeds (Tensor): (M, N, C) or (N, C) candidate embeddings.
            pos_mask (Tensor): (M, N) bool positives.
            neg_mask (Tensor): (M, N) bool negatives.
            avg_factor (float, optional): Divisor of the summed item losses.
                Defaults to M.

        Returns:
            Tensor: scalar loss (0 connected to the graph when M = 0).
        """
        if key_embeds.size(0) == 0:
            return key_embeds.sum() * 0 + ref_embeds.sum() * 0
        loss = multi_pos_contrastive(key_embeds, ref_embeds, pos_mask,
                                     neg_mask)
        avg_factor = key_embeds.size(0) if avg_factor is None else avg_factor
        return self.loss_weight * loss.sum() / avg_factor


@MODELS.register_module()
class ContrastiveAuxLoss(BaseModule):
    """IDOL's auxiliary cosine loss, averaged over the items.

    For item ``m``: all positives and a random subset of the negatives (see
    :func:`sample_negatives`); ``l_m = mean over them of (cos(v, k) -
    label)^2`` with label 1 for positives, 0 for negatives.

    Args:
        loss_weight (float): Defaults to 3.0 (1.5 x REID_WEIGHT).
        neg_pos_ratio (int): Defaults to 10.
        num_neg_without_pos (int): Defaults to 10.
    """

    def __init__(self,
                 loss_weight: float = 3.0,
                 neg_pos_ratio: int = 10,
                 num_neg_without_pos: int = 10) -> None:
        super().__init__()
        self.loss_weight = loss_weight
        self.neg_pos_ratio = neg_pos_ratio
        self.num_neg_without_pos = num_neg_without_pos

    def forward(self,
                key_embeds: Tensor,
                ref_embeds: Tensor,
                pos_mask: Tensor,
                neg_mask: Tensor,
                avg_factor: Optional[float] = None) -> Tensor:
        """Compute the loss (same arguments as :class:`ContrastiveLoss`).

        Returns:
            Tensor: scalar loss (0 connected to the graph when M = 0).
        """
        if key_embeds.size(0) == 0:
            return key_embeds.sum() * 0 + ref_embeds.sum() * 0
        refs = _expand_refs(key_embeds, ref_embeds)
        cos = torch.einsum('mc,mnc->mn', F.normalize(key_embeds, dim=1),
                           F.normalize(refs, dim=2))
        sampled_neg = sample_negatives(pos_mask, neg_mask, self.neg_pos_ratio,
                                       self.num_neg_without_pos)
        sq_err = ((cos - 1).pow(2) * pos_mask).sum(1) + \
            (cos.pow(2) * sampled_neg).sum(1)
        count = (pos_mask.sum(1) + sampled_neg.sum(1)).clamp(min=1)
        loss = sq_err / count
        avg_factor = key_embeds.size(0) if avg_factor is None else avg_factor
        return self.loss_weight * loss.sum() / avg_factor
