# Copyright (c) mmookd authors. All rights reserved.
"""Per-frame references of the offline teacher's video queries.

A mixin of :class:`OfflineTeacherHead` (its module docstring and
docs/offline_teacher.md say why): in frame ``t`` a video query ``q_v``
takes the softmax-weighted mean of the references of frame ``t``'s frozen
IDOL queries, ``ref[v, t] = sum_n softmax_n(<k(q_v), k_n^t> / tau)
ref_n^t``; or, hard, the reference of one frame query, chosen per frame
(argmax) or over the whole clip (``smooth``, :func:`smooth_reference_path`).

Shape shorthand: ``B`` clips, ``T`` frames, ``Nf`` frame queries, ``Nv``
video queries, ``C`` channels, ``R`` reference dims.
"""
import math
from typing import Dict, Optional

import torch
from torch import Tensor, nn

from ..task_modules.reference_paths import smooth_reference_path


class VideoReferenceMixin:
    """``init_references``, ``bind_references`` and ``references``; needs
    ``self.idol`` (the frozen :class:`IDOLHead`) and ``self.training``."""

    def init_references(self, reference_cfg: dict) -> None:
        """Check and keep ``reference_cfg`` (``OfflineTeacherHead``'s
        argument: ``space``, ``temperature``, ``hard``, ``smooth``)."""
        space = reference_cfg.get('space', 'query')
        if space not in ('query', 'embed'):
            raise ValueError('OfflineTeacherHead: reference_cfg.space must '
                             f"be 'query' or 'embed', got {space!r}")
        self.reference_space = space
        self.reference_hard = reference_cfg.get('hard', False)
        if self.reference_hard not in (False, True, 'test'):
            raise ValueError('OfflineTeacherHead: reference_cfg.hard must be '
                             f"False, True or 'test', got "
                             f'{self.reference_hard!r}')
        self.reference_smooth = float(reference_cfg.get('smooth', 0.0))
        if self.reference_smooth < 0:
            raise ValueError('OfflineTeacherHead: reference_cfg.smooth must '
                             f'be >= 0, got {self.reference_smooth}')
        self.reference_temperature = reference_cfg.get('temperature')
        if (self.reference_temperature is not None
                and self.reference_temperature <= 0):
            raise ValueError('OfflineTeacherHead: reference_cfg.temperature '
                             f'must be > 0, got {self.reference_temperature}')

    def bind_references(self, idol_head: nn.Module) -> None:
        """The default temperature: ``sqrt(C)`` in query space, else 1."""
        if self.reference_temperature is None:
            self.reference_temperature = (
                math.sqrt(idol_head.embed_dims)
                if self.reference_space == 'query' else 1.0)

    def references(self,
                   queries: Tensor,
                   state: Dict,
                   frames: Optional[slice] = None) -> Tensor:
        """Per-frame references of video queries (module docstring).

        Args:
            queries (Tensor): (B, Nv, C) video queries.
            state (dict): ``OfflineTeacher.frame_queries`` output.
            frames (slice, optional): Frames to compute (all when None).

        Returns:
            Tensor: (B, Tc, Nv, R) normalized references.
        """
        frames = slice(None) if frames is None else frames
        hard = self.reference_hard is True or (self.reference_hard == 'test'
                                               and not self.training)
        # a smoothed path is chosen over the whole clip, then cut
        smooth = hard and self.reference_smooth > 0 and not self.training
        span = slice(None) if smooth else frames
        if self.reference_space == 'query':
            keys, query = state['queries'][:, span], queries
        else:
            keys = state['embeds'][:, span]
            query = self.idol.embed_head(queries)
        logits = torch.einsum('bvc,btnc->btvn', query, keys)
        weights = (logits / self.reference_temperature).softmax(-1)
        if smooth:
            choice = smooth_reference_path(
                weights.clamp(min=1e-12).log(), state['embeds'],
                self.reference_smooth)[:, frames]
            weights = weights[:, frames]
        elif hard:
            choice = weights.argmax(-1)
        if hard:
            # the reference of the chosen frame query; gradients through
            # the soft weights (straight-through)
            one_hot = torch.zeros_like(weights).scatter_(
                -1, choice[..., None], 1.0)
            weights = one_hot + weights - weights.detach()
        return torch.einsum('btvn,btnr->btvr', weights,
                            state['references'][:, frames])
