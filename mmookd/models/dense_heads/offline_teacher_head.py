# Copyright (c) mmookd authors. All rights reserved.
"""The head of OOKD's offline teacher: video queries -> predictions, losses.

:class:`mmookd.models.vis.OfflineTeacher` orchestrates (frozen IDOL, the
aggregator); this head computes. A video query ``q`` (C) goes through the
frozen IDOL head of the base (``bind``): class logits
``cls_branches[-1](q)`` (one per video), dynamic mask parameters
``controller(q)``, embedding ``embed_head(q)`` (``f^off``), and in every
frame ``t`` a box ``sigmoid(reg_branches[-1](q) + inverse_sigmoid(ref_t))``
and mask logits ``decode_masks(params, ref_t, mask_feats_t)``.

Per-frame references of a video query. IDOL's box and mask heads need, in
every frame, the reference point fed into its last decoder layer. A video
query borrows the frozen IDOL's localisation: in frame ``t`` its reference
is the attention-weighted mean of the references of that frame's queries,
``ref[v, t] = sum_n softmax_n(<k(q_v), k_n^t> / tau) ref_n^t``
(:meth:`references`), differentiable in ``q_v``.

Losses (VITA's video-level criterion on IDOL's losses): per aggregator
decoder layer, the video queries are matched one-to-one to the clip's
ground-truth tracks (:class:`VideoHungarianAssigner`, mask costs over all
frames); focal class loss on the video logits; L1 + GIoU on the boxes of
the frames where the track is present; mask focal + dice in *every* frame
of the clip, with an all-zero target where the track is absent
(``absent_frames=True``). On the last layer, VITA's similarity loss
(:class:`VideoSimilarityLoss`, 0.5): see ``sim_space``.

Shape shorthand: ``B`` clips, ``T`` frames, ``Nf`` frame queries, ``Nv``
video queries, ``C`` channels, ``E`` embedding channels, ``K`` classes,
``P`` dynamic mask parameters, ``R`` reference dims, ``G`` tracks,
``(h4, w4)`` / ``(h8, w8)`` stride-4 / stride-8 sizes of the padded input.
"""
import math
from typing import Dict, List, Optional, Tuple

import torch
from mmdet.models.layers.transformer import inverse_sigmoid
from mmdet.registry import MODELS, TASK_UTILS
from mmdet.structures import TrackSampleList
from mmdet.structures.bbox import bbox_cxcywh_to_xyxy, bbox_xyxy_to_cxcywh
from mmengine.model import BaseModule
from torch import Tensor, nn

from ..losses import video_sim_loss  # noqa: F401
from ..task_modules import qfa_assigner  # noqa: F401
from ..task_modules import video_hungarian_assigner  # noqa: F401
from ..task_modules.clip_targets import clip_targets
from .offline_teacher_predict import OfflineVideoPredictMixin
from .offline_teacher_refs import VideoReferenceMixin
from .offline_teacher_sim import VideoSimilarityMixin

SIM_SPACES = ('distilled', 'vita', None)


def mask_boxes(mask_logits: Tensor,
               img_hw: Tuple[int, int],
               stride: int = 4) -> Tuple[Tensor, Tensor]:
    """Boxes of binarised stride-``s`` masks (logit > 0), input pixels.

    Args:
        mask_logits (Tensor): (..., h4, w4) logits of the padded input.
        img_hw (tuple[int, int]): (h, w) of the unpadded input.
        stride (int): Mask stride. Defaults to 4.

    Returns:
        tuple[Tensor, Tensor]: boxes (..., 4) xyxy (cell ``i`` spans
        ``[s i, s (i + 1))``, clipped to the input) and ``valid`` (...)
        bool, False for an empty mask (its box is zeros).
    """
    img_h, img_w = img_hw
    hc, wc = math.ceil(img_h / stride), math.ceil(img_w / stride)
    binary = mask_logits[..., :hc, :wc] > 0
    rows, cols = binary.any(-1), binary.any(-2)  # (..., hc), (..., wc)
    valid = rows.any(-1)

    def first_last(flags: Tensor) -> Tuple[Tensor, Tensor]:
        idx = torch.arange(flags.size(-1), device=flags.device)
        first = torch.where(flags, idx, flags.size(-1)).amin(-1)
        last = torch.where(flags, idx, -1).amax(-1)
        return first, last

    y0, y1 = first_last(rows)
    x0, x1 = first_last(cols)
    boxes = torch.stack(
        [x0 * stride, y0 * stride, (x1 + 1) * stride,
         (y1 + 1) * stride], -1).float()
    limit = boxes.new_tensor([img_w, img_h, img_w, img_h])
    boxes = torch.minimum(boxes, limit) * valid[..., None]
    return boxes, valid


@MODELS.register_module()
class OfflineTeacherHead(VideoReferenceMixin, OfflineVideoPredictMixin,
                         VideoSimilarityMixin, BaseModule):
    """Predictions and VITA-style losses of the teacher's video queries.

    Args:
        reference_cfg (dict): ``space`` ``'query'`` (dot product with the
            frame queries, default) or ``'embed'`` (with the frame
            embeddings), ``temperature`` (None: ``sqrt(C)`` for ``'query'``,
            1 for ``'embed'``), ``hard`` (False: the softmax-weighted mean
            of the frame references; True: the reference of the most
            similar frame query, with straight-through gradients; ``'test'``:
            soft in training, hard in eval mode, which is how the teacher
            runs in stage 3 and at inference), ``smooth`` (0, off: each
            frame's hard choice on its own; > 0: in eval mode the hard
            choices of a video query over the whole clip by Viterbi, with
            this weight on the cosine of consecutive choices' frozen IDOL
            embeddings, :func:`smooth_reference_path`).
        loss_cls, loss_bbox, loss_iou, loss_mask, loss_dice (dict): IDOL's
            losses and weights (2, 5, 2, 2, 5).
        loss_sim (dict, optional): VITA's similarity loss (0.5); None: off.
        sim_space (str, optional): Where the similarity loss is computed:
            ``'distilled'`` (default): between ``f^off = embed_head(q_v)``
            and the frozen IDOL's contrastive embeddings of the matched
            frame queries, so that the feature OOKD distills is trained to
            identify its instance; ``'vita'``: VITA's own heads,
            ``sim_embed_frame`` on the encoded frame tokens and
            ``sim_embed_clip`` on the video queries (Linear C -> C each);
            None: no similarity loss.
        absent_frames (bool): Supervise the masks of a matched track in the
            frames where it is absent (all-zero target), as VITA. Defaults
            to True; False: only where present.
        assigner (dict): Video-level matching. Defaults to
            :class:`VideoHungarianAssigner` (mask costs over all frames).
        frame_assigner (dict): Matching of the frozen IDOL's frame queries
            to the GTs of a frame (similarity loss, average mode). Defaults
            to ``QFAAssigner(match='hungarian')``.
        test_cfg (dict, optional): ``frames_per_chunk`` (18),
            ``max_per_video`` (10), ``mask_thr`` (0.5), ``mask_score``
            (True).
        embed_dims (int): ``C``, for the VITA similarity heads. Defaults
            to 256.
    """

    def __init__(self,
                 reference_cfg: dict = dict(space='query', temperature=None),
                 loss_cls: dict = dict(
                     type='FocalLoss',
                     use_sigmoid=True,
                     gamma=2.0,
                     alpha=0.25,
                     loss_weight=2.0),
                 loss_bbox: dict = dict(type='L1Loss', loss_weight=5.0),
                 loss_iou: dict = dict(type='GIoULoss', loss_weight=2.0),
                 loss_mask: dict = dict(
                     type='FocalLoss',
                     use_sigmoid=True,
                     gamma=2.0,
                     alpha=0.25,
                     loss_weight=2.0),
                 loss_dice: dict = dict(
                     type='DiceLoss',
                     use_sigmoid=True,
                     activate=True,
                     naive_dice=True,
                     eps=1.0,
                     loss_weight=5.0),
                 loss_sim: Optional[dict] = dict(
                     type='VideoSimilarityLoss', loss_weight=0.5),
                 sim_space: Optional[str] = 'distilled',
                 absent_frames: bool = True,
                 assigner: dict = dict(type='VideoHungarianAssigner'),
                 frame_assigner: dict = dict(
                     type='QFAAssigner', match='hungarian'),
                 test_cfg: Optional[dict] = None,
                 embed_dims: int = 256,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg)
        if sim_space not in SIM_SPACES:
            raise ValueError('OfflineTeacherHead: sim_space must be one of '
                             f'{SIM_SPACES}, got {sim_space!r}')
        self.init_references(reference_cfg)
        self.loss_cls = MODELS.build(loss_cls)
        self.loss_bbox = MODELS.build(loss_bbox)
        self.loss_iou = MODELS.build(loss_iou)
        self.loss_mask = MODELS.build(loss_mask)
        self.loss_dice = MODELS.build(loss_dice)
        self.loss_sim = None if loss_sim is None or sim_space is None \
            else MODELS.build(loss_sim)
        self.sim_space = sim_space if self.loss_sim is not None else None
        self.absent_frames = absent_frames
        self.assigner = TASK_UTILS.build(assigner)
        self.frame_assigner = TASK_UTILS.build(frame_assigner)
        self.test_cfg = dict(
            frames_per_chunk=18,
            max_per_video=10,
            mask_thr=0.5,
            mask_score=True)
        self.test_cfg.update(test_cfg or {})
        if self.sim_space == 'vita':
            self.sim_embed_frame = nn.Linear(embed_dims, embed_dims)
            self.sim_embed_clip = nn.Linear(embed_dims, embed_dims)
        self._idol = []  # the frozen IDOL head, not a sub-module

    # ------------------------------------------------------------------
    # the frozen IDOL head
    # ------------------------------------------------------------------
    def bind(self, idol_head: nn.Module) -> None:
        """Use ``idol_head`` (the frozen base's :class:`IDOLHead`)."""
        self._idol[:] = [idol_head]
        self.bind_references(idol_head)

    @property
    def idol(self) -> nn.Module:
        """The bound :class:`IDOLHead`."""
        if not self._idol:
            raise RuntimeError('OfflineTeacherHead: call bind(idol_head) '
                               'first')
        return self._idol[0]

    @property
    def needs_frame_embeds(self) -> bool:
        """The frame state must hold the frozen IDOL's embeddings."""
        return (self.reference_space == 'embed' or self.sim_space is not None
                or self.reference_smooth > 0)

    # ------------------------------------------------------------------
    # predictions of video queries
    # ------------------------------------------------------------------
    def bboxes(self, queries: Tensor, references: Tensor) -> Tensor:
        """(B, Nv, C), (B, Tc, Nv, R) -> (B, Tc, Nv, 4) normalized cxcywh."""
        delta = self.idol.reg_branches[-1](queries)[:, None]
        ref = inverse_sigmoid(references)
        if ref.size(-1) == 4:
            return (delta + ref).sigmoid()
        delta = delta.expand(-1, ref.size(1), -1, -1)
        return torch.cat([delta[..., :2] + ref, delta[..., 2:]], -1).sigmoid()

    def frame_masks(self, params: Tensor, references: Tensor, wh: Tensor,
                    mask_feats: Tensor) -> Tensor:
        """(n, P), (n, R) normalized, (2, ), (8, h8, w8) -> (n, h4, w4)."""
        return self.idol.decode_masks(params, references[:, :2] * wh,
                                      mask_feats)

    def forward(self,
                queries: Tensor,
                state: Dict,
                with_masks: bool = False) -> Dict[str, Tensor]:
        """All predictions of the video queries of B clips.

        Args:
            queries (Tensor): (B, Nv, C).
            state (dict): The frame state of the clips.
            with_masks (bool): Also decode every mask of every frame.

        Returns:
            dict: ``cls_logits`` (B, Nv, K), ``params`` (B, Nv, P),
            ``references`` (B, T, Nv, R), ``bboxes`` (B, T, Nv, 4)
            normalized cxcywh, ``bboxes_xyxy`` (B, T, Nv, 4) input pixels,
            ``embeds`` (B, Nv, E) ``f^off``; with ``with_masks``,
            ``mask_logits`` (B, T, Nv, h4, w4).
        """
        refs = self.references(queries, state)
        bboxes = self.bboxes(queries, refs)
        factor = state['img_wh'].repeat(1, 1, 2)[:, :, None]
        out = dict(
            cls_logits=self.idol.cls_branches[-1](queries),
            params=self.idol.controller(queries),
            references=refs,
            bboxes=bboxes,
            bboxes_xyxy=bbox_cxcywh_to_xyxy(bboxes) * factor,
            embeds=self.idol.embed_head(queries))
        if with_masks:
            out['mask_logits'] = self.clip_mask_logits(out, state)
        return out

    def clip_mask_logits(self, out: Dict, state: Dict) -> Tensor:
        """(B, T, Nv, h4, w4) mask logits of every query and frame."""
        bsz, num_frames = state['queries'].shape[:2]
        return torch.stack([
            torch.stack([
                self.frame_masks(out['params'][b], out['references'][b, t],
                                 state['img_wh'][b, t], state['mask_feats'][b,
                                                                            t])
                for t in range(num_frames)
            ]) for b in range(bsz)
        ])

    # ------------------------------------------------------------------
    # losses
    # ------------------------------------------------------------------
    def targets(self, data_samples: TrackSampleList,
                mask_size: Tuple[int, int], device) -> List[Dict]:
        """:func:`clip_targets` of every clip."""
        return [
            clip_targets(s, mask_size, self.idol.get_mask_targets, device)
            for s in data_samples
        ]

    def loss(self, all_queries: Tensor, frame_tokens: Optional[Tensor],
             state: Dict, data_samples: TrackSampleList) -> Dict[str, Tensor]:
        """Losses of every aggregator decoder layer.

        Args:
            all_queries (Tensor): (L, B, Nv, C).
            frame_tokens (Tensor, optional): (B, T, Nf, C) encoded frame
                tokens (needed by ``sim_space='vita'``).
            state (dict): The frame state of the clips.
            data_samples (list[:obj:`TrackDataSample`]): B clips with GT.

        Returns:
            dict: ``loss_cls``, ``loss_bbox``, ``loss_iou``, ``loss_mask``,
            ``loss_dice`` (``d{l}.`` prefixed for the earlier layers) and
            ``loss_sim`` when on.
        """
        mask_feats = state['mask_feats']
        mask_size = (mask_feats.size(-2) * 2, mask_feats.size(-1) * 2)
        targets = self.targets(data_samples, mask_size, mask_feats.device)
        metas = [[s[t].metainfo for t in range(len(s))] for s in data_samples]
        losses = dict()
        num_layers = all_queries.size(0)
        for layer in range(num_layers):
            prefix = '' if layer == num_layers - 1 else f'd{layer}.'
            layer_losses, matches = self.loss_by_layer(all_queries[layer],
                                                       state, targets, metas)
            for name, value in layer_losses.items():
                losses[prefix + name] = value
        if self.sim_space is not None:
            losses['loss_sim'] = self.loss_similarity(all_queries[-1],
                                                      frame_tokens, state,
                                                      targets, matches,
                                                      data_samples)
        return losses

    def loss_by_layer(self, queries: Tensor, state: Dict, targets: List[Dict],
                      metas: List[List[dict]]) -> Tuple[Dict, List]:
        """Losses of one decoder layer with its own matching.

        Returns:
            tuple: the loss dict and per clip ``(query_inds, gt_inds)``.
        """
        out = self.forward(queries, state)
        bsz, num_frames = state['queries'].shape[:2]
        labels = torch.full(
            out['cls_logits'].shape[:2],
            self.idol.num_classes,
            dtype=torch.long,
            device=queries.device)
        factor = state['img_wh'].repeat(1, 1, 2)[:, :, None]
        boxes, box_targets, xyxy, xyxy_targets = [], [], [], []
        mask_logits, mask_targets, matches = [], [], []
        num_tracks = 0
        with torch.no_grad():
            match_masks = self.clip_mask_logits(out, state)
        for b in range(bsz):
            tgt = targets[b]
            if tgt['labels'].numel() == 0:
                matches.append((None, None))
                continue
            query_inds, gt_inds = self.assigner.assign(
                out['cls_logits'][b], out['bboxes_xyxy'][b], tgt['labels'],
                tgt['bboxes'], tgt['present'], metas[b], match_masks[b],
                tgt['masks'])
            matches.append((query_inds, gt_inds))
            labels[b, query_inds] = tgt['labels'][gt_inds]
            num_tracks += query_inds.numel()
            for t in range(num_frames):
                here = tgt['present'][t, gt_inds]
                if here.any():
                    q_t, g_t = query_inds[here], gt_inds[here]
                    boxes.append(out['bboxes'][b, t, q_t])
                    box_targets.append(
                        bbox_xyxy_to_cxcywh(tgt['bboxes'][t, g_t] /
                                            factor[b, t]))
                    xyxy.append(out['bboxes_xyxy'][b, t, q_t])
                    xyxy_targets.append(tgt['bboxes'][t, g_t])
                mq, mg = (query_inds, gt_inds) if self.absent_frames else (
                    query_inds[here], gt_inds[here])
                if mq.numel():
                    mask_logits.append(
                        self.frame_masks(out['params'][b, mq],
                                         out['references'][b, t, mq],
                                         state['img_wh'][b, t],
                                         state['mask_feats'][b, t]))
                    mask_targets.append(tgt['masks'][t, mg])
        logits = out['cls_logits']
        losses = dict(
            loss_cls=self.loss_cls(
                logits.reshape(-1, logits.size(-1)),
                labels.reshape(-1),
                avg_factor=max(num_tracks, 1)))
        zero = (out['bboxes'].sum() + out['params'].sum()) * 0
        if boxes:
            num_boxes = sum(len(x) for x in boxes)
            losses['loss_bbox'] = self.loss_bbox(
                torch.cat(boxes), torch.cat(box_targets), avg_factor=num_boxes)
            losses['loss_iou'] = self.loss_iou(
                torch.cat(xyxy), torch.cat(xyxy_targets), avg_factor=num_boxes)
        else:
            losses['loss_bbox'] = losses['loss_iou'] = zero
        if mask_logits:
            logits_m = torch.cat(mask_logits)
            targets_m = torch.cat(mask_targets)
            losses['loss_mask'] = self.loss_mask(
                logits_m.flatten(1),
                targets_m.flatten(1),
                avg_factor=logits_m.size(0) * logits_m[0].numel())
            losses['loss_dice'] = self.loss_dice(
                logits_m, targets_m, avg_factor=logits_m.size(0))
        else:
            losses['loss_mask'] = losses['loss_dice'] = zero
        return losses, matches
