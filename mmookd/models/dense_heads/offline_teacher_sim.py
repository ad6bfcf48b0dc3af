# Copyright (c) mmookd authors. All rights reserved.
"""VITA's similarity loss in the offline teacher's head.

A mixin of :class:`OfflineTeacherHead`. The frozen IDOL's frame queries are
matched to the GTs of their frame (``frame_assigner``); the embeddings of
those frame queries and of the video queries matched to the clip's tracks
are pooled per clip and :class:`VideoSimilarityLoss` is applied (label 1
for the same instance). ``sim_space`` picks the embeddings: ``'distilled'``
(``f^off`` and the frozen IDOL's contrastive embeddings) or ``'vita'``
(VITA's ``sim_embed_frame`` / ``sim_embed_clip``).

Shape shorthand: ``B`` clips, ``T`` frames, ``Nf`` frame queries, ``Nv``
video queries, ``C`` channels, ``M_t`` GTs of frame ``t``.
"""
from typing import Dict, List, Optional

import torch
from mmdet.structures import TrackSampleList
from mmdet.structures.bbox import get_box_tensor
from mmengine.structures import InstanceData
from torch import Tensor

from ..task_modules.clip_targets import frame_gt_instances


class VideoSimilarityMixin:
    """``frame_picks`` and ``loss_similarity``; needs ``self.idol``,
    ``self.frame_assigner``, ``self.loss_sim`` and ``self.sim_space``."""

    def frame_picks(self, state: Dict,
                    data_samples: TrackSampleList) -> List[List[Tensor]]:
        """The frozen IDOL's query for every GT of every frame.

        ``frame_assigner`` (QFA, Hungarian by default) on the frame's
        ``cls_logits`` and ``bboxes_xyxy`` of the state.

        Returns:
            list[list[Tensor]]: per clip, per frame, (M_t, ) long query index
            (or -1) for the frame's GTs in their order.
        """
        picks = []
        for b, track_sample in enumerate(data_samples):
            clip = []
            for t in range(len(track_sample)):
                gt = frame_gt_instances(track_sample[t], t)
                device = state['queries'].device
                preds = InstanceData(
                    cls_logits=state['cls_logits'][b, t],
                    bboxes=state['bboxes_xyxy'][b, t])
                gts = InstanceData(
                    labels=gt.labels.to(device),
                    bboxes=get_box_tensor(gt.bboxes).to(device))
                clip.append(self.frame_assigner.assign(preds, gts))
            picks.append(clip)
        return picks

    def loss_similarity(self, queries: Tensor, frame_tokens: Optional[Tensor],
                        state: Dict, targets: List[Dict], matches: List,
                        data_samples: TrackSampleList) -> Tensor:
        """VITA's similarity loss on the last layer (``sim_space``).

        Pooled per clip: the frame embedding of every GT's matched frame
        query in every frame (``frame_picks``), and the video embedding of
        every matched video query; ids = instance ids.
        """
        if self.sim_space == 'vita':
            if frame_tokens is None:
                raise ValueError('OfflineTeacherHead: sim_space="vita" needs '
                                 'the encoded frame tokens')
            frame_embeds = self.sim_embed_frame(frame_tokens)
            video_embeds = self.sim_embed_clip(queries)
        else:
            frame_embeds = state['embeds']
            video_embeds = self.idol.embed_head(queries)
        picks = self.frame_picks(state, data_samples)
        embeds, ids, clips = [], [], []
        for b, track_sample in enumerate(data_samples):
            for t, sigma in enumerate(picks[b]):
                keep = sigma >= 0
                if not keep.any():
                    continue
                gt_ids = track_sample[t].gt_instances.instances_ids
                embeds.append(frame_embeds[b, t, sigma[keep]])
                ids.append(gt_ids.to(sigma.device)[keep].long())
                clips.append(sigma.new_full((int(keep.sum()), ), b))
            query_inds, gt_inds = matches[b]
            if query_inds is None or query_inds.numel() == 0:
                continue
            embeds.append(video_embeds[b, query_inds])
            ids.append(targets[b]['ids'][gt_inds])
            clips.append(query_inds.new_full((query_inds.numel(), ), b))
        if not embeds:
            return video_embeds.sum() * 0
        return self.loss_sim(
            torch.cat(embeds),
            torch.cat(ids).to(video_embeds.device),
            torch.cat(clips).to(video_embeds.device))
