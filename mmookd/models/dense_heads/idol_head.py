# Copyright (c) mmookd authors. All rights reserved.
"""IDOL's head: Deformable DETR class/box branches, a dynamic (CondInst)
mask head and a contrastive embedding head.

Shape shorthand: ``L`` decoder layers, ``B`` images, ``N`` queries, ``C``
transformer channels (256), ``K`` classes, ``E`` embedding channels (256),
``P`` dynamic mask parameters per query (169), ``G`` ground truths of an
image, ``(h8, w8)`` / ``(h4, w4)`` the stride-8 / stride-4 sizes of the
padded input.

The dict returned by :meth:`IDOLHead.forward_frame_queries` is the one
interface to the per-frame queries (used by the losses, by the online
inference of :class:`mmookd.models.vis.IDOL`, and by the offline teacher
and the distiller):

=================  ============  ===========================================
key                shape         meaning
=================  ============  ===========================================
hidden_states      (L, B, N, C)  decoder outputs of every layer
all_cls_logits     (L, B, N, K)  class logits of every layer
all_bboxes         (L, B, N, 4)  boxes of every layer, normalized cxcywh
all_mask_params    (L, B, N, P)  dynamic mask parameters of every layer
all_references     (L, B, N, 2)  reference point (x, y) fed *into* every
                                 layer, in input pixels
mask_feats         (B, 8, h8, w8)  mask features (stride 8, padded input)
queries            (B, N, C)     last-layer decoder outputs
embeds             (B, N, E)     contrastive embeddings (raw, last layer)
cls_logits         (B, N, K)     last-layer class logits
bboxes             (B, N, 4)     last-layer boxes, normalized cxcywh (by the
                                 unpadded input size ``img_shape``)
bboxes_xyxy        (B, N, 4)     the same boxes, xyxy in input pixels
mask_params        (B, N, P)     last-layer dynamic mask parameters
references         (B, N, 2)     reference points fed into the last layer,
                                 (x, y) in input pixels
=================  ============  ===========================================

Masks are decoded with :meth:`IDOLHead.decode_masks` from ``mask_params``,
``references`` and ``mask_feats`` of one image.
"""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmdet.models.dense_heads import DeformableDETRHead
from mmdet.models.layers.transformer import MLP
from mmdet.registry import MODELS
from mmdet.structures import SampleList
from mmdet.structures.bbox import (bbox_cxcywh_to_xyxy, bbox_xyxy_to_cxcywh,
                                   get_box_tensor)
from mmdet.utils import ConfigType, InstanceList
from mmengine.structures import InstanceData
from torch import Tensor, nn

# importing registers the mask head, the losses and the assigner
from ..layers import dynamic_mask_head  # noqa: F401
from ..losses import contrastive_loss  # noqa: F401
from ..task_modules import idol_simota_assigner  # noqa: F401


def _wh_factor(img_meta: dict, like: Tensor) -> Tensor:
    """(4, ) tensor ``[w, h, w, h]`` of the unpadded input size."""
    img_h, img_w = img_meta['img_shape'][:2]
    return like.new_tensor([img_w, img_h, img_w, img_h])


def gt_masks_to_tensor(gt_instances: InstanceData, pad_shape: Tuple[int, int],
                       device: torch.device) -> Tensor:
    """GT masks as a float tensor padded (bottom/right) to ``pad_shape``.

    Args:
        gt_instances (:obj:`InstanceData`): With ``masks`` (BitmapMasks or a
            (G, H, W) tensor).
        pad_shape (tuple[int, int]): (H, W) of the padded batch input.
        device (torch.device): Target device.

    Returns:
        Tensor: (G, H, W) float.
    """
    masks = gt_instances.masks
    if isinstance(masks, Tensor):
        masks = masks.to(device=device, dtype=torch.float)
    else:
        masks = masks.to_tensor(dtype=torch.float, device=device)
    pad_h, pad_w = pad_shape
    h, w = masks.shape[-2:]
    masks = masks[:, :pad_h, :pad_w]
    if (h, w) != (pad_h, pad_w):
        masks = F.pad(masks, (0, max(pad_w - w, 0), 0, max(pad_h - h, 0)))
    return masks


@MODELS.register_module()
class IDOLHead(DeformableDETRHead):
    """Head of IDOL (In Defense of Online models for VIS).

    On top of mmdet's ``DeformableDETRHead`` (sigmoid focal classification,
    box refinement, one branch per decoder layer) it adds

    - ``controller``: MLP(C, C, P, 3 layers) -> dynamic mask parameters of
      every query of every layer;
    - ``mask_head``: :class:`IDOLDynamicMaskHead` (mask features from the
      encoder memory + the dynamic convolutions);
    - ``embed_head``: MLP(C, C, E, 3 layers) on the last decoder layer ->
      contrastive embeddings (the official ``reid_embed_head``).

    Losses (all weights are config fields; defaults = the official IDOL):
    on the key frame, per decoder layer with its own
    :class:`IDOLSimOTAAssigner` assignment: focal class (2.0), L1 (5.0),
    GIoU (2.0), mask focal (2.0, mean over pixels), dice (5.0), each a sum
    over the positive queries / #positives; on the pair (key, reference):
    :class:`ContrastiveLoss` (2.0) and :class:`ContrastiveAuxLoss` (3.0).

    Args:
        mask_head (dict): Config of the dynamic mask head.
        embed_channels (int): Embedding channels E. Defaults to 256.
        loss_mask (dict): Per-pixel mask loss (sigmoid focal).
        loss_dice (dict): Dice loss (``naive_dice``, +1 smoothing).
        loss_embed (dict): Multi-positive contrastive loss.
        loss_embed_aux (dict): Auxiliary cosine loss.
        mask_target_stride (int): Stride of the mask targets (pixel
            ``(s/2 + s i, s/2 + s j)`` of the padded mask). Defaults to 4.
        *args, **kwargs: Those of ``DeformableDETRHead``. ``train_cfg``
            holds ``assigner`` and the contrastive selection's
            ``embed_pos_topk`` (10), ``embed_neg_topk`` (100) and
            ``embed_shared_cost`` (True: the official chaining of the two
            runs on one cost, see :meth:`select_contrastive_pairs`);
            ``test_cfg`` ``max_per_img`` and ``mask_thr`` for the
            image-level :meth:`predict`.
    """

    def __init__(self,
                 *args,
                 mask_head: ConfigType = dict(type='IDOLDynamicMaskHead'),
                 embed_channels: int = 256,
                 loss_mask: ConfigType = dict(
                     type='FocalLoss',
                     use_sigmoid=True,
                     gamma=2.0,
                     alpha=0.25,
                     loss_weight=2.0),
                 loss_dice: ConfigType = dict(
                     type='DiceLoss',
                     use_sigmoid=True,
                     activate=True,
                     naive_dice=True,
                     eps=1.0,
                     loss_weight=5.0),
                 loss_embed: ConfigType = dict(
                     type='ContrastiveLoss', loss_weight=2.0),
                 loss_embed_aux: ConfigType = dict(
                     type='ContrastiveAuxLoss', loss_weight=3.0),
                 mask_target_stride: int = 4,
                 **kwargs) -> None:
        self.mask_head_cfg = mask_head
        self.embed_channels = embed_channels
        self.mask_target_stride = mask_target_stride
        super().__init__(*args, **kwargs)
        self.loss_mask = MODELS.build(loss_mask)
        self.loss_dice = MODELS.build(loss_dice)
        self.loss_embed = MODELS.build(loss_embed)
        self.loss_embed_aux = MODELS.build(loss_embed_aux)
        train_cfg = self.train_cfg or dict()
        self.embed_pos_topk = train_cfg.get('embed_pos_topk', 10)
        self.embed_neg_topk = train_cfg.get('embed_neg_topk', 100)
        self.embed_shared_cost = train_cfg.get('embed_shared_cost', True)

    def _init_layers(self) -> None:
        """Class/box branches (parent), controller, mask and embed heads."""
        super()._init_layers()
        self.mask_head = MODELS.build(self.mask_head_cfg)
        self.controller = MLP(self.embed_dims, self.embed_dims,
                              self.mask_head.num_params, 3)
        self.embed_head = MLP(self.embed_dims, self.embed_dims,
                              self.embed_channels, 3)

    def init_weights(self) -> None:
        """Official init: focal prior bias -log(99) for the classes, zero
        last box layer (bias[2:] = -2 for layer 0), xavier-uniform / zero
        bias controller, kaiming-uniform (a=1) mask convs; the embedding
        MLP keeps PyTorch's default init (as the official)."""
        super().init_weights()
        self.mask_head.init_weights()
        for layer in self.controller.layers:
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)

    # ------------------------------------------------------------------
    # forward
    # ------------------------------------------------------------------
    def forward_frame_queries(self, hidden_states: Tensor,
                              references: List[Tensor],
                              mask_memory: Sequence[Tensor],
                              batch_img_metas: List[dict]) -> Dict:
        """All per-frame outputs of the head (see the module docstring).

        Args:
            hidden_states (Tensor): (L, B, N, C) decoder outputs.
            references (list[Tensor]): L + 1 references from the decoder:
                (B, N, 2) initial points, then (B, N, 4) refined boxes
                (normalized by the unpadded input size).
            mask_memory (Sequence[Tensor]): Encoder memory maps of strides
                8, 16, 32, (B, C, h, w) each.
            batch_img_metas (list[dict]): With ``img_shape``.

        Returns:
            dict: the frame outputs (module docstring table).
        """
        num_layers = hidden_states.size(0)
        all_cls, all_bboxes = self(hidden_states, references)
        all_params = self.controller(hidden_states)
        wh = torch.stack(
            [_wh_factor(m, hidden_states)[:2] for m in batch_img_metas])
        all_refs = torch.stack(
            [references[lvl][..., :2] for lvl in range(num_layers)])
        all_refs = all_refs * wh[None, :, None, :]
        bboxes = all_bboxes[-1]
        bboxes_xyxy = bbox_cxcywh_to_xyxy(bboxes) * wh.repeat(1, 2)[:, None]
        return dict(
            hidden_states=hidden_states,
            all_cls_logits=all_cls,
            all_bboxes=all_bboxes,
            all_mask_params=all_params,
            all_references=all_refs,
            mask_feats=self.mask_head.forward_feats(mask_memory),
            queries=hidden_states[-1],
            embeds=self.embed_head(hidden_states[-1]),
            cls_logits=all_cls[-1],
            bboxes=bboxes,
            bboxes_xyxy=bboxes_xyxy,
            mask_params=all_params[-1],
            references=all_refs[-1])

    def decode_masks(self, mask_params: Tensor, references: Tensor,
                     mask_feats: Tensor) -> Tensor:
        """Stride-4 mask logits of some queries of one image.

        Args:
            mask_params (Tensor): (n, P) dynamic parameters.
            references (Tensor): (n, 2) reference points (x, y) in input
                pixels (``references`` / ``all_references[l]`` rows).
            mask_feats (Tensor): (8, h8, w8) mask features of the image.

        Returns:
            Tensor: (n, h4, w4) mask logits of the padded input.
        """
        return self.mask_head.forward_dynamic(mask_feats, mask_params,
                                              references)

    # ------------------------------------------------------------------
    # losses
    # ------------------------------------------------------------------
    def loss(self,
             frame_outs: Dict,
             batch_data_samples: SampleList,
             ref_frame_outs: Optional[Dict] = None,
             ref_data_samples: Optional[SampleList] = None) -> dict:
        """IDOL losses of key frames and, optionally, reference frames.

        Args:
            frame_outs (dict): :meth:`forward_frame_queries` of the key
                frames.
            batch_data_samples (list[:obj:`DetDataSample`]): Key frames,
                with ``gt_instances`` (``bboxes`` xyxy pixels, ``labels``,
                ``masks`` and, for the contrastive loss, ``instances_ids``).
            ref_frame_outs (dict, optional): The same for the reference
                frames; when given, the contrastive losses are added.
            ref_data_samples (list[:obj:`DetDataSample`], optional):
                Reference frames, in the order of the key frames.

        Returns:
            dict: ``loss_cls``, ``loss_bbox``, ``loss_iou``, ``loss_mask``,
            ``loss_dice`` (last layer), ``d{i}.loss_*`` (layers 0..L-2) and,
            with reference frames, ``loss_embed`` and ``loss_embed_aux``.
        """
        gts = [s.gt_instances for s in batch_data_samples]
        metas = [s.metainfo for s in batch_data_samples]
        losses, assign_results = self.loss_by_feat(frame_outs, gts, metas)
        if ref_frame_outs is not None:
            if ref_data_samples is None or \
                    len(ref_data_samples) != len(batch_data_samples):
                raise ValueError('IDOLHead.loss: ref_data_samples must give '
                                 'one reference frame per key frame')
            losses.update(
                self.loss_embed_by_feat(
                    frame_outs, ref_frame_outs, assign_results, gts,
                    [s.gt_instances for s in ref_data_samples],
                    [s.metainfo for s in ref_data_samples]))
        return losses

    def loss_by_feat(
            self, frame_outs: Dict, batch_gt_instances: InstanceList,
            batch_img_metas: List[dict]) -> Tuple[Dict[str, Tensor], list]:
        """Detection and mask losses of every decoder layer.

        Args:
            frame_outs (dict): :meth:`forward_frame_queries` outputs.
            batch_gt_instances (list[:obj:`InstanceData`]): GT per image.
            batch_img_metas (list[dict]): With ``img_shape`` and
                ``batch_input_shape``.

        Returns:
            tuple: the loss dict and the last layer's ``AssignResult`` of
            every image (its ``matched_query_inds`` pick the key queries
            of the contrastive loss).
        """
        mask_feats = frame_outs['mask_feats']
        mask_size = (mask_feats.size(-2) * 2, mask_feats.size(-1) * 2)
        gt_masks = self.get_mask_targets(batch_gt_instances, batch_img_metas,
                                         mask_size, mask_feats.device)
        num_layers = frame_outs['all_cls_logits'].size(0)
        losses = dict()
        assign_results = None
        for lvl in range(num_layers):
            layer_losses, assign_results = self.loss_by_feat_single(
                frame_outs['all_cls_logits'][lvl],
                frame_outs['all_bboxes'][lvl],
                frame_outs['all_mask_params'][lvl],
                frame_outs['all_references'][lvl], mask_feats,
                batch_gt_instances, gt_masks, batch_img_metas)
            prefix = '' if lvl == num_layers - 1 else f'd{lvl}.'
            for name, value in layer_losses.items():
                losses[prefix + name] = value
        return losses, assign_results

    def get_mask_targets(self, batch_gt_instances: InstanceList,
                         batch_img_metas: List[dict], mask_size: Tuple[int,
                                                                       int],
                         device: torch.device) -> List[Tensor]:
        """Stride-4 mask targets: pixel (2 + 4 i, 2 + 4 j) of the padded
        masks (the official subsampling).

        Args:
            batch_gt_instances (list[:obj:`InstanceData`]): With ``masks``.
            batch_img_metas (list[dict]): With ``batch_input_shape``.
            mask_size (tuple[int, int]): (h4, w4) of the predicted logits.
            device (torch.device): Target device.

        Returns:
            list[Tensor]: (G, h4, w4) float per image.
        """
        stride = self.mask_target_stride
        targets = []
        for gt, meta in zip(batch_gt_instances, batch_img_metas):
            if 'masks' not in gt:
                raise KeyError(
                    'IDOLHead: the ground truth of image '
                    f'{meta.get("img_path", meta.get("img_id"))} has no '
                    'masks (LoadTrackAnnotations / LoadAnnotations need '
                    'with_mask=True)')
            pad_shape = meta.get('batch_input_shape', meta.get('pad_shape'))
            masks = gt_masks_to_tensor(gt, pad_shape[:2], device)
            masks = masks[:, stride // 2::stride, stride // 2::stride]
            masks = masks[:, :mask_size[0], :mask_size[1]]
            if tuple(masks.shape[-2:]) != tuple(mask_size):
                raise ValueError(
                    f'IDOLHead: mask targets of image {meta.get("img_path")}'
                    f' have size {tuple(masks.shape[-2:])} but the mask '
                    f'logits have {tuple(mask_size)}; the padded input must '
                    f'be divisible by {stride}')
            targets.append(masks)
        return targets

    def assign_single(self,
                      cls_logits: Tensor,
                      bboxes: Tensor,
                      gt_instances: InstanceData,
                      img_meta: dict,
                      candidate_topk: Optional[int] = None):
        """SimOTA assignment of the queries of one image.

        Args:
            cls_logits (Tensor): (N, K).
            bboxes (Tensor): (N, 4) normalized cxcywh.
            gt_instances (:obj:`InstanceData`): ``bboxes``, ``labels``.
            img_meta (dict): With ``img_shape``.
            candidate_topk (int, optional): Override of the assigner's.

        Returns:
            :obj:`AssignResult`: see :class:`IDOLSimOTAAssigner`.
        """
        pred = InstanceData(
            scores=cls_logits.detach(),
            bboxes=bbox_cxcywh_to_xyxy(bboxes.detach()) *
            _wh_factor(img_meta, bboxes))
        return self.assigner.assign(
            pred, gt_instances, img_meta, candidate_topk=candidate_topk)

    def loss_by_feat_single(self, cls_logits: Tensor, bboxes: Tensor,
                            mask_params: Tensor, references: Tensor,
                            mask_feats: Tensor,
                            batch_gt_instances: InstanceList,
                            batch_gt_masks: List[Tensor],
                            batch_img_metas: List[dict]) -> Tuple[dict, list]:
        """Losses of one decoder layer with its own assignment.

        Args:
            cls_logits (Tensor): (B, N, K).
            bboxes (Tensor): (B, N, 4) normalized cxcywh.
            mask_params (Tensor): (B, N, P).
            references (Tensor): (B, N, 2) pixel reference points fed into
                this layer.
            mask_feats (Tensor): (B, 8, h8, w8).
            batch_gt_instances (list[:obj:`InstanceData`]): GT per image.
            batch_gt_masks (list[Tensor]): (G, h4, w4) stride-4 targets.
            batch_img_metas (list[dict]): With ``img_shape``.

        Returns:
            tuple: dict of ``loss_cls``, ``loss_bbox``, ``loss_iou``,
            ``loss_mask``, ``loss_dice``; list of ``AssignResult``.
        """
        batch_size, num_queries, _ = cls_logits.shape
        labels = cls_logits.new_full((batch_size, num_queries),
                                     self.num_classes,
                                     dtype=torch.long)
        pos_bboxes, tgt_bboxes, factors = [], [], []
        mask_logits, mask_targets = [], []
        assign_results = []
        for b in range(batch_size):
            gt = batch_gt_instances[b]
            meta = batch_img_metas[b]
            result = self.assign_single(cls_logits[b], bboxes[b], gt, meta)
            assign_results.append(result)
            pos = (result.gt_inds > 0).nonzero(as_tuple=True)[0]
            if pos.numel() == 0:
                continue
            pos_gt = result.gt_inds[pos] - 1
            labels[b, pos] = gt.labels[pos_gt].long()
            factor = _wh_factor(meta, bboxes)
            gt_xyxy = get_box_tensor(gt.bboxes).to(bboxes)[pos_gt]
            pos_bboxes.append(bboxes[b, pos])
            tgt_bboxes.append(bbox_xyxy_to_cxcywh(gt_xyxy / factor))
            factors.append(factor.expand(pos.numel(), 4))
            mask_logits.append(
                self.decode_masks(mask_params[b, pos], references[b, pos],
                                  mask_feats[b]))
            mask_targets.append(batch_gt_masks[b][pos_gt])

        num_pos = sum(t.size(0) for t in tgt_bboxes)
        avg_factor = max(num_pos, 1)
        loss_cls = self.loss_cls(
            cls_logits.reshape(-1, self.cls_out_channels),
            labels.reshape(-1),
            avg_factor=avg_factor)
        if num_pos == 0:
            zero = (bboxes.sum() + mask_params.sum() + mask_feats.sum()) * 0
            return dict(
                loss_cls=loss_cls,
                loss_bbox=zero,
                loss_iou=zero,
                loss_mask=zero,
                loss_dice=zero), assign_results

        pos_bboxes = torch.cat(pos_bboxes)
        tgt_bboxes = torch.cat(tgt_bboxes)
        factors = torch.cat(factors)
        loss_bbox = self.loss_bbox(
            pos_bboxes, tgt_bboxes, avg_factor=avg_factor)
        loss_iou = self.loss_iou(
            bbox_cxcywh_to_xyxy(pos_bboxes) * factors,
            bbox_cxcywh_to_xyxy(tgt_bboxes) * factors,
            avg_factor=avg_factor)
        mask_logits = torch.cat(mask_logits)
        mask_targets = torch.cat(mask_targets)
        loss_mask = self.loss_mask(
            mask_logits.flatten(1),
            mask_targets.flatten(1),
            avg_factor=avg_factor * mask_logits[0].numel())
        loss_dice = self.loss_dice(
            mask_logits, mask_targets, avg_factor=avg_factor)
        return dict(
            loss_cls=loss_cls,
            loss_bbox=loss_bbox,
            loss_iou=loss_iou,
            loss_mask=loss_mask,
            loss_dice=loss_dice), assign_results

    def select_contrastive_pairs(
            self, ref_cls_logits: Tensor, ref_bboxes: Tensor,
            key_gt: InstanceData, ref_gt: InstanceData,
            ref_img_meta: dict) -> Tuple[Tensor, Tensor, Tensor]:
        """Items, positives and negatives of the contrastive loss (one pair).

        An item is a key-frame GT also present in the reference frame. On
        the reference frame, restricted to those GTs (objects absent from
        the key frame are dropped), two SimOTA assignments are run: with
        top-``embed_pos_topk`` IoU candidates (its queries of the item are
        the positives) and with top-``embed_neg_topk`` (every query *not*
        given to the item is a negative, so borderline queries are neither,
        and queries of other instances are negatives). The item's queries
        are its column of the matching matrix (in the assigner's
        ``'official'`` conflict mode a query shared by two items is a
        positive of both).

        ``embed_shared_cost`` (train_cfg, default True) runs the two
        assignments as the official code does, on one cost tensor that the
        first run penalises in place when its every-GT-gets-a-query loop
        runs (crowded frames): the top-10 positives taken before that loop
        then rank last in the top-100 run and become negatives of their own
        item too. ``False`` gives each run a fresh cost (a stricter
        variant: a query is then a positive and a negative of one item
        only through a conflict of the two runs).

        Args:
            ref_cls_logits (Tensor): (N, K) last-layer reference logits.
            ref_bboxes (Tensor): (N, 4) last-layer reference boxes,
                normalized cxcywh.
            key_gt (:obj:`InstanceData`): Key-frame GT with
                ``instances_ids``.
            ref_gt (:obj:`InstanceData`): Reference-frame GT with
                ``instances_ids``.
            ref_img_meta (dict): With ``img_shape``.

        Returns:
            tuple[Tensor, Tensor, Tensor]: key GT index of every item (M, ),
            positives (M, N) bool, negatives (M, N) bool.
        """
        num_queries = ref_cls_logits.size(0)
        device = ref_cls_logits.device
        key_ids = key_gt.instances_ids.tolist()
        ref_ids = ref_gt.instances_ids.tolist()
        ref_index = {inst_id: r for r, inst_id in enumerate(ref_ids)}
        key_idx = [
            j for j, inst_id in enumerate(key_ids) if inst_id in ref_index
        ]
        if not key_idx:
            empty = torch.zeros((0, num_queries),
                                dtype=torch.bool,
                                device=device)
            return torch.zeros((0, ), dtype=torch.long,
                               device=device), empty, empty
        ref_idx = torch.tensor([ref_index[key_ids[j]] for j in key_idx],
                               dtype=torch.long,
                               device=device)
        valid_ref_gt = InstanceData(
            bboxes=get_box_tensor(ref_gt.bboxes)[ref_idx],
            labels=ref_gt.labels[ref_idx])
        pred = InstanceData(
            scores=ref_cls_logits.detach(),
            bboxes=bbox_cxcywh_to_xyxy(ref_bboxes.detach()) *
            _wh_factor(ref_img_meta, ref_bboxes))
        pos_result, neg_result = self.assigner.assign_many(
            pred,
            valid_ref_gt,
            ref_img_meta, (self.embed_pos_topk, self.embed_neg_topk),
            shared_cost=self.embed_shared_cost)
        pos_mask = pos_result.get_extra_property('matching').t()
        neg_mask = ~neg_result.get_extra_property('matching').t()
        return (torch.tensor(key_idx, dtype=torch.long,
                             device=device), pos_mask, neg_mask)

    def loss_embed_by_feat(self, key_outs: Dict, ref_outs: Dict,
                           key_assign_results: list,
                           key_gt_instances: InstanceList,
                           ref_gt_instances: InstanceList,
                           ref_img_metas: List[dict]) -> Dict[str, Tensor]:
        """Contrastive losses between key and reference frames.

        The key embedding of an item is that of the GT's matched query
        (its lowest-cost positive in the last layer's assignment).

        Args:
            key_outs (dict): Key-frame :meth:`forward_frame_queries`.
            ref_outs (dict): Reference-frame :meth:`forward_frame_queries`.
            key_assign_results (list): Last-layer ``AssignResult`` of every
                key frame.
            key_gt_instances (list[:obj:`InstanceData`]): Key-frame GT.
            ref_gt_instances (list[:obj:`InstanceData`]): Reference GT.
            ref_img_metas (list[dict]): Reference metas (``img_shape``).

        Returns:
            dict: ``loss_embed`` and ``loss_embed_aux``.
        """
        key_items, batch_items, pos_masks, neg_masks = [], [], [], []
        for b, (key_gt,
                ref_gt) in enumerate(zip(key_gt_instances, ref_gt_instances)):
            key_idx, pos_mask, neg_mask = self.select_contrastive_pairs(
                ref_outs['cls_logits'][b], ref_outs['bboxes'][b], key_gt,
                ref_gt, ref_img_metas[b])
            if key_idx.numel() == 0:
                continue
            matched = key_assign_results[b].get_extra_property(
                'matched_query_inds')
            key_items.append(key_outs['embeds'][b, matched[key_idx]])
            batch_items.append(key_idx.new_full((key_idx.numel(), ), b))
            pos_masks.append(pos_mask)
            neg_masks.append(neg_mask)

        ref_embeds = ref_outs['embeds']
        if not key_items:
            zero = key_outs['embeds'].sum() * 0 + ref_embeds.sum() * 0
            return dict(loss_embed=zero, loss_embed_aux=zero)
        key_items = torch.cat(key_items)
        ref_items = ref_embeds[torch.cat(batch_items)]
        pos_masks = torch.cat(pos_masks)
        neg_masks = torch.cat(neg_masks)
        return dict(
            loss_embed=self.loss_embed(key_items, ref_items, pos_masks,
                                       neg_masks),
            loss_embed_aux=self.loss_embed_aux(key_items, ref_items, pos_masks,
                                               neg_masks))

    # ------------------------------------------------------------------
    # image-level prediction
    # ------------------------------------------------------------------
    def postprocess_masks(self,
                          mask_logits: Tensor,
                          img_meta: dict,
                          rescale: bool = True) -> Tensor:
        """Stride-4 logits -> probabilities at the input or original size.

        Bilinear x4 to the padded size, crop to ``img_shape``, then (when
        ``rescale``) resize to ``ori_shape``.

        Args:
            mask_logits (Tensor): (n, h4, w4).
            img_meta (dict): ``img_shape``, ``ori_shape``.
            rescale (bool): Resize to the original size.

        Returns:
            Tensor: (n, h, w) probabilities.
        """
        stride = self.mask_target_stride
        h4, w4 = mask_logits.shape[-2:]
        probs = F.interpolate(
            mask_logits[None],
            size=(h4 * stride, w4 * stride),
            mode='bilinear',
            align_corners=False)[0].sigmoid()
        img_h, img_w = img_meta['img_shape'][:2]
        probs = probs[:, :img_h, :img_w]
        if rescale:
            probs = F.interpolate(
                probs[None],
                size=tuple(img_meta['ori_shape'][:2]),
                mode='bilinear',
                align_corners=False)[0]
        return probs

    def predict(self,
                frame_outs: Dict,
                batch_data_samples: SampleList,
                rescale: bool = True) -> InstanceList:
        """Image-level instance segmentation (e.g. for COCO evaluation).

        Top ``max_per_img`` (query, class) pairs by sigmoid probability,
        with their boxes and thresholded masks.

        Args:
            frame_outs (dict): :meth:`forward_frame_queries` outputs.
            batch_data_samples (list[:obj:`DetDataSample`]): One per image.
            rescale (bool): Boxes and masks at the original size.

        Returns:
            list[:obj:`InstanceData`]: ``scores`` (k, ), ``labels`` (k, ),
            ``bboxes`` (k, 4), ``masks`` (k, h, w) bool.
        """
        test_cfg = self.test_cfg or dict()
        max_per_img = test_cfg.get('max_per_img', 100)
        mask_thr = test_cfg.get('mask_thr', 0.5)
        results = []
        for b, sample in enumerate(batch_data_samples):
            meta = sample.metainfo
            probs = frame_outs['cls_logits'][b].sigmoid()
            scores, index = probs.flatten().topk(
                min(max_per_img, probs.numel()))
            query = index // self.num_classes
            bboxes = frame_outs['bboxes_xyxy'][b, query]
            img_h, img_w = meta['img_shape'][:2]
            bboxes[:, 0::2] = bboxes[:, 0::2].clamp(0, img_w)
            bboxes[:, 1::2] = bboxes[:, 1::2].clamp(0, img_h)
            if rescale:
                bboxes = bboxes / bboxes.new_tensor(
                    meta['scale_factor']).repeat(2)
            logits = self.decode_masks(frame_outs['mask_params'][b, query],
                                       frame_outs['references'][b, query],
                                       frame_outs['mask_feats'][b])
            masks = self.postprocess_masks(logits, meta, rescale) > mask_thr
            results.append(
                InstanceData(
                    scores=scores,
                    labels=index % self.num_classes,
                    bboxes=bboxes,
                    masks=masks))
        return results
