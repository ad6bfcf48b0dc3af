# Copyright (c) mmookd authors. All rights reserved.
"""VITA's similarity loss (``loss_vita_sim``), used by OOKD's teacher.

VITA (Heo et al., NeurIPS 2022) trains its video queries to *identify* their
instance: the similarity embeddings of the frame queries matched to a
ground-truth instance (one per frame) and of the video query matched to it
are pooled, every pair of the same clip gets the logit ``<e_i, e_j>`` (a
plain dot product) and the label 1 if both belong to the same instance,
else 0, and the loss is the binary cross entropy with logits averaged over
all pairs of the same clip (the diagonal included, as VITA's criterion).

Shape shorthand: ``n`` pooled embeddings, ``E`` channels.

Worked example (2 embeddings of instance 7 and one of instance 9, one
clip)::

    embeds = [[1, 0], [1, 0], [0, 1]]   ids = [7, 7, 9]
    logits = [[1, 1, 0], [1, 1, 0], [0, 0, 1]]
    labels = [[1, 1, 0], [1, 1, 0], [0, 0, 1]]
    loss   = mean of BCE(1, 1) x 5 and BCE(0, 0) x 4
           = (5 log(1 + e^-1) + 4 log 2) / 9
"""
from typing import Optional

import torch
import torch.nn.functional as F
from mmdet.registry import MODELS
from torch import Tensor, nn


@MODELS.register_module()
class VideoSimilarityLoss(nn.Module):
    """Pairwise same-instance BCE over embeddings of one or more clips.

    Args:
        loss_weight (float): Weight of the loss. Defaults to 0.5 (VITA's
            ``SIM_WEIGHT``).
    """

    def __init__(self, loss_weight: float = 0.5) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self,
                embeds: Tensor,
                instance_ids: Tensor,
                clip_ids: Optional[Tensor] = None) -> Tensor:
        """Compute the loss.

        Args:
            embeds (Tensor): (n, E) similarity embeddings (frame and video
                embeddings pooled).
            instance_ids (Tensor): (n, ) long, the instance of each
                embedding (ids are compared within a clip only).
            clip_ids (Tensor, optional): (n, ) long, the clip of each
                embedding; pairs of different clips are left out. None: one
                clip.

        Returns:
            Tensor: scalar, ``loss_weight`` x the mean BCE over same-clip
            pairs (0 with a graph to ``embeds`` when ``n == 0``).
        """
        if embeds.dim() != 2 or instance_ids.shape != embeds.shape[:1]:
            raise ValueError(
                'VideoSimilarityLoss: embeds must be (n, E) and '
                f'instance_ids (n, ), got {tuple(embeds.shape)} and '
                f'{tuple(instance_ids.shape)}')
        if embeds.size(0) == 0:
            return embeds.sum() * 0
        if clip_ids is None:
            clip_ids = torch.zeros_like(instance_ids)
        elif clip_ids.shape != instance_ids.shape:
            raise ValueError('VideoSimilarityLoss: clip_ids must be (n, ), '
                             f'got {tuple(clip_ids.shape)}')
        logits = embeds @ embeds.t()
        same_inst = instance_ids[:, None] == instance_ids[None]
        same_clip = (clip_ids[:, None] == clip_ids[None]).to(logits)
        labels = (same_inst.to(logits)) * same_clip
        loss = F.binary_cross_entropy_with_logits(
            logits, labels, reduction='none') * same_clip
        return self.loss_weight * loss.sum() / same_clip.sum().clamp(min=1)
