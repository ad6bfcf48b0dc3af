# Copyright (c) mmookd authors. All rights reserved.
"""Whole-video decoding of the offline teacher's video queries (VITA style).

A mixin of :class:`OfflineTeacherHead`: the top ``max_per_video`` (query,
class) pairs by sigmoid score get their masks decoded frame by frame (RLE
at the original size, nothing dense kept across frames), scored as VITA:
class score x mean mask probability inside the mask.

Shape shorthand: ``Nv`` video queries, ``C`` channels, ``T`` frames.
"""
from typing import Dict, List, Tuple

import torch
from mmdet.structures import TrackDataSample
from torch import Tensor

from ..trackers.idol_tracker import encode_rles


class OfflineVideoPredictMixin:
    """``predict_video`` and ``decode_video_masks`` of the teacher head.

    Needs ``self.idol`` (the frozen :class:`IDOLHead`), ``self.references``,
    ``self.frame_masks`` and ``self.test_cfg``.
    """

    @torch.no_grad()
    def predict_video(self, queries: Tensor, valid: Tensor, state: Dict,
                      track_sample: TrackDataSample) -> List[dict]:
        """VIS results of one video.

        Args:
            queries (Tensor): (Nv, C) video queries (last layer).
            valid (Tensor): (Nv, ) bool, queries that may be output.
            state (dict): The frame state of the video (B = 1).
            track_sample (:obj:`TrackDataSample`): Its T frames.

        Returns:
            list[dict]: ``{'score', 'label', 'segmentations'}`` by
            descending score (the ``pred_video_instances`` of the video).
        """
        scores = self.idol.cls_branches[-1](queries).sigmoid()
        scores = scores * valid[:, None]
        num_classes = scores.size(1)
        topk = min(int(self.test_cfg['max_per_video']), scores.numel())
        top_scores, index = scores.flatten().topk(topk)
        top_queries = index // num_classes
        labels = index % num_classes
        selected, inverse = torch.unique(top_queries, return_inverse=True)
        segms, mask_scores = self.decode_video_masks(queries[selected], state,
                                                     track_sample)
        if self.test_cfg.get('mask_score', True):
            top_scores = top_scores * mask_scores[inverse]
        order = top_scores.argsort(descending=True).tolist()
        return [
            dict(
                score=float(top_scores[i]),
                label=int(labels[i]),
                segmentations=list(segms[int(inverse[i])])) for i in order
        ]

    @torch.no_grad()
    def decode_video_masks(
            self, queries: Tensor, state: Dict,
            track_sample: TrackDataSample) -> Tuple[List[List], Tensor]:
        """Masks of n video queries in every frame, as RLEs, frame by frame.

        Per frame: mask logits at stride 4, bilinear to the padded size,
        crop to ``img_shape``, bilinear to ``ori_shape``, sigmoid >
        ``mask_thr`` (:meth:`IDOLHead.postprocess_masks`), RLE-encoded at
        once. The references are computed ``frames_per_chunk`` frames at a
        time.

        Args:
            queries (Tensor): (n, C).
            state (dict): The frame state of the video (B = 1).
            track_sample (:obj:`TrackDataSample`): The frames' metainfo.

        Returns:
            tuple: per query the list of per-frame RLEs (None where the mask
            is empty; indexed by ``frame_id``, of the video's length), and
            the mask scores (n, ): mean probability inside the binary masks
            over all frames (0 for a query with empty masks).
        """
        num_frames = state['queries'].size(1)
        first = track_sample[0].metainfo
        length = first.get('ori_video_length') or first.get(
            'video_length') or num_frames
        num = queries.size(0)
        segms = [[None] * int(length) for _ in range(num)]
        inside = queries.new_zeros((num, ), dtype=torch.float64)
        area = queries.new_zeros((num, ), dtype=torch.float64)
        params = self.idol.controller(queries)
        chunk = self.test_cfg.get('frames_per_chunk') or num_frames
        thr = self.test_cfg.get('mask_thr', 0.5)
        for start in range(0, num_frames, chunk):
            stop = min(start + chunk, num_frames)
            refs = self.references(queries[None], state, slice(start, stop))[0]
            for i, t in enumerate(range(start, stop)):
                meta = track_sample[t].metainfo
                frame_id = int(meta.get('frame_id', t))
                if not 0 <= frame_id < length:
                    raise ValueError(
                        f'OfflineTeacher: video {meta.get("video_id")}: '
                        f'frame_id {frame_id} outside 0..{length - 1}')
                logits = self.frame_masks(params, refs[i], state['img_wh'][0,
                                                                           t],
                                          state['mask_feats'][0, t])
                probs = self.idol.postprocess_masks(logits, meta)
                binary = probs > thr
                inside += (probs * binary).flatten(1).sum(1).double()
                area += binary.flatten(1).sum(1).double()
                nonempty = binary.flatten(1).any(1).tolist()
                for j, rle in enumerate(encode_rles(binary)):
                    if nonempty[j]:
                        segms[j][frame_id] = rle
        return segms, (inside / area.clamp(min=1)).float()
