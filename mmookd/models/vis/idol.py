# Copyright (c) mmookd authors. All rights reserved.
"""IDOL: In Defense of Online models for Video Instance Segmentation.

Shape shorthand: ``B`` clips, ``T`` frames a clip (2 in training: key and
reference), ``N`` queries, ``K`` classes, ``E`` embedding channels,
``(H, W)`` the padded input size, ``(h4, w4) = (H / 4, W / 4)``.
"""
from typing import Dict, List, Optional, Tuple

import torch
from mmdet.models.mot import BaseMOTModel
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample, TrackSampleList
from mmdet.utils import OptConfigType, OptMultiConfig
from torch import Tensor

# importing registers the head (and through it its parts) and the detector
from ..dense_heads.idol_head import IDOLHead
from ..detectors import idol_deformable_detr  # noqa: F401


@MODELS.register_module()
class IDOL(BaseMOTModel):
    """Online VIS model of IDOL: a per-frame detector + a memory tracker.

    Training (``loss``): clips of two frames; the earlier frame is the key
    frame (detection and mask losses), the later one the reference frame
    (contrastive losses only). The backbone runs once on all ``2B``
    frames, the transformer and heads once on the key and once on the
    reference frames (shared weights), as the official code.

    Inference (``predict``): frame by frame; every frame goes through the
    detector and then ``tracker.track``; the tracker is reset at frame 0,
    and at the last frame of a video its video-level results are attached
    as ``pred_video_instances``.

    Args:
        detector (dict): Config of :class:`IDOLDeformableDETR`.
        tracker (dict, optional): Config of the tracker (``IDOLTracker``).
        data_preprocessor (dict, optional): ``TrackDataPreprocessor``.
        init_cfg (dict, optional): Initialization config.
    """

    def __init__(self,
                 detector: dict,
                 tracker: Optional[dict] = None,
                 data_preprocessor: OptConfigType = None,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(data_preprocessor, init_cfg)
        self.detector = MODELS.build(detector)
        self.tracker = MODELS.build(tracker) if tracker is not None else None

    @property
    def head(self) -> IDOLHead:
        """:class:`IDOLHead`: the detector's head."""
        return self.detector.bbox_head

    # ------------------------------------------------------------------
    # per-frame interface (used by the teacher and the distiller too)
    # ------------------------------------------------------------------
    def extract_frame_queries(self, imgs: Tensor,
                              data_samples: List[DetDataSample]) -> Dict:
        """Per-frame queries and predictions of a batch of frames.

        Args:
            imgs (Tensor): (n, 3, H, W) normalized, padded frames.
            data_samples (list[:obj:`DetDataSample`]): One per frame, with
                ``img_shape`` and ``batch_input_shape``.

        Returns:
            dict: ``queries`` (n, N, C), ``embeds`` (n, N, E),
            ``cls_logits`` (n, N, K), ``bboxes`` (n, N, 4) normalized cxcywh,
            ``bboxes_xyxy`` (n, N, 4) input pixels, ``mask_params``
            (n, N, P), ``references`` (n, N, 2) input pixels, ``mask_feats``
            (n, 8, H / 8, W / 8) and the per-layer ``all_*`` tensors; see
            :mod:`mmookd.models.dense_heads.idol_head`.
        """
        return self.detector.extract_frame_queries(imgs, data_samples)

    def decode_masks(self, mask_params: Tensor, references: Tensor,
                     mask_feats: Tensor) -> Tensor:
        """Stride-4 mask logits of some queries of one frame.

        Args:
            mask_params (Tensor): (n, P).
            references (Tensor): (n, 2) input pixels.
            mask_feats (Tensor): (8, H / 8, W / 8).

        Returns:
            Tensor: (n, h4, w4) mask logits of the padded input.
        """
        return self.head.decode_masks(mask_params, references, mask_feats)

    def _forward(self,
                 inputs: Tensor,
                 data_samples: Optional[TrackSampleList] = None,
                 **kwargs) -> Dict:
        """Tensor mode: the per-frame outputs of every frame of the batch.

        Args:
            inputs (Tensor): (B, T, 3, H, W).
            data_samples (list[:obj:`TrackDataSample`]): B clips.

        Returns:
            dict: :meth:`extract_frame_queries` of the B * T frames (clip
            major).
        """
        frames = [clip[t] for clip in data_samples for t in range(len(clip))]
        return self.extract_frame_queries(inputs.flatten(0, 1), frames)

    # ------------------------------------------------------------------
    # training
    # ------------------------------------------------------------------
    @staticmethod
    def split_key_ref(
            data_samples: TrackSampleList) -> Tuple[List[int], List[int]]:
        """Index of the key (earlier) and reference (later) frame of every
        two-frame clip.

        Args:
            data_samples (list[:obj:`TrackDataSample`]): Clips of 2 frames.

        Returns:
            tuple[list[int], list[int]]: key and reference frame index per
            clip.
        """
        key_inds, ref_inds = [], []
        for clip_idx, track_sample in enumerate(data_samples):
            if len(track_sample) != 2:
                raise ValueError(
                    f'IDOL.loss: clip {clip_idx} (video '
                    f'{track_sample[0].metainfo.get("video_id")}) has '
                    f'{len(track_sample)} frames, expected 2')
            frame_ids = [
                track_sample[t].metainfo.get('frame_id', t) for t in range(2)
            ]
            key = 0 if frame_ids[0] <= frame_ids[1] else 1
            key_inds.append(key)
            ref_inds.append(1 - key)
        return key_inds, ref_inds

    def loss(self, inputs: Tensor, data_samples: TrackSampleList,
             **kwargs) -> dict:
        """Losses of a batch of two-frame clips.

        Args:
            inputs (Tensor): (B, 2, 3, H, W) normalized, padded frames.
            data_samples (list[:obj:`TrackDataSample`]): B clips whose frames
                carry ``gt_instances`` (``bboxes``, ``labels``, ``masks``,
                ``instances_ids``).

        Returns:
            dict: see :meth:`IDOLHead.loss`.
        """
        if inputs.dim() != 5 or inputs.size(1) != 2:
            raise ValueError('IDOL.loss expects inputs of shape (B, 2, 3, H, '
                             f'W), got {tuple(inputs.shape)}')
        key_inds, ref_inds = self.split_key_ref(data_samples)
        batch = torch.arange(inputs.size(0), device=inputs.device)
        key_imgs = inputs[batch, key_inds]
        ref_imgs = inputs[batch, ref_inds]
        key_samples = [s[k] for s, k in zip(data_samples, key_inds)]
        ref_samples = [s[r] for s, r in zip(data_samples, ref_inds)]

        num_clips = inputs.size(0)
        feats = self.detector.extract_feat(torch.cat([key_imgs, ref_imgs]))
        key_feats = tuple(f[:num_clips] for f in feats)
        ref_feats = tuple(f[num_clips:] for f in feats)
        key_outs = self.detector.forward_frame_queries(key_feats, key_samples)
        ref_outs = self.detector.forward_frame_queries(ref_feats, ref_samples)
        return self.head.loss(key_outs, key_samples, ref_outs, ref_samples)

    # ------------------------------------------------------------------
    # inference
    # ------------------------------------------------------------------
    @staticmethod
    def tracker_img_meta(sample: DetDataSample) -> dict:
        """The metas ``IDOLTracker.track`` needs, from a frame sample."""
        meta = sample.metainfo
        video_length = meta.get('ori_video_length', meta.get('video_length'))
        return dict(
            img_shape=meta['img_shape'],
            pad_shape=meta.get('pad_shape', meta.get('batch_input_shape')),
            ori_shape=meta['ori_shape'],
            scale_factor=meta.get('scale_factor', (1.0, 1.0)),
            video_id=meta.get('video_id'),
            frame_id=meta.get('frame_id'),
            ori_video_length=video_length)

    def predict(self,
                inputs: Tensor,
                data_samples: TrackSampleList,
                rescale: bool = True,
                **kwargs) -> TrackSampleList:
        """Online inference, one frame after the other.

        Args:
            inputs (Tensor): (1, T, 3, H, W); in test mode T = 1 (one frame
                a sample, in order).
            data_samples (list[:obj:`TrackDataSample`]): One clip whose
                frames carry ``frame_id`` and ``ori_video_length``.
            rescale (bool): Unused (results are always at the original
                size, as the metric expects).

        Returns:
            list[:obj:`TrackDataSample`]: the clip with
            ``pred_track_instances`` on every frame (``bboxes``, ``scores``,
            ``labels``, ``instances_id``, ``masks`` at the original size)
            and, after the last frame of a video, ``pred_video_instances``
            (list of ``{'score', 'label', 'segmentations'}``).
        """
        if inputs.dim() != 5:
            raise ValueError('IDOL.predict expects inputs of shape (1, T, 3,'
                             f' H, W), got {tuple(inputs.shape)}')
        if len(data_samples) != 1:
            raise ValueError('IDOL.predict supports one clip a batch, got '
                             f'{len(data_samples)}')
        if self.tracker is None:
            raise RuntimeError('IDOL.predict needs a tracker (model.tracker)')
        track_sample = data_samples[0]
        for t in range(len(track_sample)):
            frame = track_sample[t]
            img_meta = self.tracker_img_meta(frame)
            frame_id = img_meta['frame_id']
            if frame_id is None:
                raise KeyError('IDOL.predict: frame metainfo lacks frame_id '
                               f'(video {img_meta["video_id"]})')
            if frame_id == 0:
                self.tracker.reset()
            outs = self.extract_frame_queries(inputs[:, t], [frame])
            mask_logits = self.decode_masks(outs['mask_params'][0],
                                            outs['references'][0],
                                            outs['mask_feats'][0])
            bboxes = self.bboxes_to_original(outs['bboxes_xyxy'][0], img_meta)
            frame.pred_track_instances = self.tracker.track(
                frame_id=frame_id,
                cls_logits=outs['cls_logits'][0],
                bboxes=bboxes,
                embeds=outs['embeds'][0],
                mask_logits=mask_logits,
                img_meta=img_meta)
            video_length = img_meta['ori_video_length']
            if video_length is not None and frame_id == video_length - 1:
                track_sample.pred_video_instances = \
                    self.tracker.video_results()
        return [track_sample]

    @staticmethod
    def bboxes_to_original(bboxes: Tensor, img_meta: dict) -> Tensor:
        """xyxy boxes in input pixels -> original-frame pixels, clipped.

        Args:
            bboxes (Tensor): (N, 4) in input (resized) pixels.
            img_meta (dict): ``scale_factor`` (w, h) and ``ori_shape``.

        Returns:
            Tensor: (N, 4).
        """
        scale = bboxes.new_tensor(img_meta['scale_factor']).repeat(2)
        bboxes = bboxes / scale
        ori_h, ori_w = img_meta['ori_shape'][:2]
        bboxes[:, 0::2] = bboxes[:, 0::2].clamp(0, ori_w)
        bboxes[:, 1::2] = bboxes[:, 1::2].clamp(0, ori_h)
        return bboxes
