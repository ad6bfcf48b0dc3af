# Copyright (c) mmookd authors. All rights reserved.
"""OOKD's offline teacher: a frozen IDOL + the VideoQueryAggregator.

Stage 2 of OOKD (paper Sec. 3.2). A stage-1 IDOL, frozen, gives the per-frame
instance queries ``f_n^t`` of every frame; the :class:`VideoQueryAggregator`
turns them into video queries; the :class:`OfflineTeacherHead` puts them
through the frozen IDOL's own heads (class, box, dynamic mask, contrastive
embedding ``f^off``) and computes the losses. Only the aggregator (and the
head's similarity embeddings, when VITA's are used) learns. This model
orchestrates: frozen base -> frame state -> aggregator -> head.

Shape shorthand: ``B`` clips (videos), ``T`` frames, ``Nf`` frame queries
(IDOL's ``N``), ``Nv`` video queries, ``C`` channels, ``E`` embedding
channels, ``K`` classes, ``R`` reference dims (4 = normalized cxcywh when
IDOL has >= 2 decoder layers with box refinement, else 2 = cxcy),
``(h8, w8)`` / ``(h4, w4)`` the stride-8 / stride-4 sizes of the padded
input.

Checkpoints. The state dict of the teacher holds only what it trains; its
metadata records ``base_checkpoint`` and its ``base_sha256``
(:mod:`mmookd.models.vis.frozen_base`).
"""
from contextlib import contextmanager
from typing import Dict, List, Optional, Tuple

import torch
from mmdet.models.mot import BaseMOTModel
from mmdet.registry import MODELS
from mmdet.structures import TrackSampleList
from mmdet.utils import OptConfigType, OptMultiConfig
from torch import Tensor

from ...engine.optimizers import TrainableOptimWrapperConstructor  # noqa
from ..dense_heads import offline_teacher_head  # noqa: F401
from ..dense_heads.offline_teacher_head import mask_boxes
from ..layers import video_query_aggregator  # noqa: F401
from .frame_state import FrameStateMixin
from .frozen_base import FrozenBaseMixin
from .idol import IDOL

# Class logit of an average-mode slot that received no token: probability 0,
# so no matcher picks it (the ``valid`` mask says which slots are real).
INVALID_LOGIT = -1e4


@MODELS.register_module()
class OfflineTeacher(FrozenBaseMixin, FrameStateMixin, BaseMOTModel):
    """Offline teacher of OOKD: frozen IDOL + :class:`VideoQueryAggregator`.

    **Frozen base.** ``base`` is an :class:`IDOL` loaded from
    ``base_checkpoint`` at build time (mmengine ``load_checkpoint``, strict,
    through mmookd's ``weights_only`` loader). Its parameters have
    ``requires_grad=False``, it stays in eval mode under ``train()``, runs
    under ``torch.no_grad()`` and is left alone by ``init_weights``.

    **Training** (:meth:`loss`, attention mode): clips of T frames (4 in the
    configs); the head's VITA-style criterion (see
    :class:`OfflineTeacherHead`): video-level matching over all frames,
    every frame of a matched track supervised (all-zero masks where it is
    absent), deep supervision over the aggregator's decoder layers
    (``d{l}.loss_*``) and the similarity loss ``loss_sim``.

    **Inference** (:meth:`predict`): one whole video a sample; the base
    runs over chunks of ``frames_per_chunk`` frames, the aggregator over the
    video (windowed encoder, chunked decoder), then the head decodes the
    top ``max_per_video`` (query, class) pairs frame by frame.

    **Average mode** (``aggregator.mode='average'``, the paper's "token
    average", Tab. 6): no parameters, nothing to train. The tokens of one
    instance are averaged; which frame query belongs to which instance is
    taken from the ground truth when the frames carry it (the head's
    ``frame_assigner``, slot = the track's index in the clip), else from
    the base's tracker (slot = track id in order of appearance).

    Args:
        base (dict): Config of the frozen :class:`IDOL`.
        aggregator (dict): Config of the :class:`VideoQueryAggregator`.
        video_head (dict, optional): Overrides of the
            :class:`OfflineTeacherHead` config (losses, ``sim_space``,
            ``absent_frames``, ...).
        base_checkpoint (str, optional): Stage-1 IDOL checkpoint. None keeps
            the base randomly initialised (tests only).
        base_checkpoint_sha256 (str, optional): Expected SHA-256 of
            ``base_checkpoint``; a mismatch is refused at build time.
        check_base (bool): Refuse to load a teacher checkpoint whose recorded
            base hash differs from ``base_checkpoint``'s. Defaults to True.
        reference_cfg (dict): Per-frame references of the video queries
            (head's ``reference_cfg``).
        train_cfg (dict, optional): ``assigner`` (video-level matching) and
            ``token_assigner`` (the frame queries' matching to frame GTs:
            similarity loss, average mode), given to the head.
        test_cfg (dict, optional): ``frames_per_chunk`` (18, base frames
            per forward; None = all), ``max_per_video`` (10), ``mask_thr``
            (0.5), ``mask_score`` (True).
        data_preprocessor (dict, optional): ``TrackDataPreprocessor``; None
            takes the base's.
        init_cfg (dict, optional): Unused by the base.
    """

    def __init__(self,
                 base: dict,
                 aggregator: dict,
                 video_head: Optional[dict] = None,
                 base_checkpoint: Optional[str] = None,
                 base_checkpoint_sha256: Optional[str] = None,
                 check_base: bool = True,
                 reference_cfg: dict = dict(space='query', temperature=None),
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None,
                 data_preprocessor: OptConfigType = None,
                 init_cfg: OptMultiConfig = None) -> None:
        if data_preprocessor is None:
            data_preprocessor = base.get('data_preprocessor')
        super().__init__(data_preprocessor, init_cfg)
        self.base: IDOL = MODELS.build(base)
        if not hasattr(self.base, 'extract_frame_queries'):
            raise TypeError('OfflineTeacher: model.base must be an IDOL '
                            f'config, got type {base.get("type")}')
        self.aggregator = MODELS.build(aggregator)
        train_cfg = dict(train_cfg or {})
        head_cfg = dict(
            type='OfflineTeacherHead',
            reference_cfg=reference_cfg,
            test_cfg=test_cfg,
            embed_dims=self.base.head.embed_dims)
        if 'assigner' in train_cfg:
            head_cfg['assigner'] = train_cfg['assigner']
        if 'token_assigner' in train_cfg:
            head_cfg['frame_assigner'] = train_cfg['token_assigner']
        head_cfg.update(video_head or {})
        self.video_head = MODELS.build(head_cfg)
        self.video_head.bind(self.base.head)
        self._check_dims()
        self.check_base = check_base
        self.setup_frozen_base(base_checkpoint, base_checkpoint_sha256)

    # ------------------------------------------------------------------
    # build helpers
    # ------------------------------------------------------------------
    @property
    def head(self):
        """:class:`IDOLHead` of the frozen base."""
        return self.base.head

    @property
    def test_cfg(self) -> dict:
        """Inference settings (the head's ``test_cfg``)."""
        return self.video_head.test_cfg

    @property
    def feature_dims(self) -> Dict[str, int]:
        """Channels of the offline outputs: ``queries`` C, ``embeds`` E."""
        return dict(
            queries=self.head.embed_dims, embeds=self.head.embed_channels)

    @property
    def num_video_queries(self) -> int:
        """``Nv``: video queries (attention) or instance slots (average)."""
        return self.aggregator.num_video_queries

    def _check_dims(self) -> None:
        """The aggregator must fit the base (channels, frame queries)."""
        detector = self.base.detector
        if self.aggregator.embed_dims != self.head.embed_dims:
            raise ValueError(
                f'OfflineTeacher: model.aggregator.embed_dims '
                f'({self.aggregator.embed_dims}) must equal the base IDOL\'s '
                f'hidden size model.base.detector.bbox_head.embed_dims '
                f'({self.head.embed_dims})')
        if (self.aggregator.mode == 'attention'
                and self.aggregator.num_frame_queries != detector.num_queries):
            raise ValueError(
                f'OfflineTeacher: model.aggregator.num_frame_queries '
                f'({self.aggregator.num_frame_queries}) must equal '
                f'model.base.detector.num_queries ({detector.num_queries})')
        if detector.decoder.num_layers >= 2 and not detector.with_box_refine:
            raise ValueError('OfflineTeacher: the base IDOL needs '
                             'with_box_refine=True (its references of the '
                             'last layer are the boxes of the one before)')

    # ------------------------------------------------------------------
    # frozen base
    # ------------------------------------------------------------------
    def train(self, mode: bool = True) -> 'OfflineTeacher':
        """Set the aggregator's mode; the base always stays in eval mode."""
        super().train(mode)
        self.base.eval()
        return self

    def init_weights(self) -> None:
        """Initialise the aggregator (and the head); the base keeps its
        weights."""
        self.aggregator.init_weights()
        for name in ('sim_embed_frame', 'sim_embed_clip'):
            layer = getattr(self.video_head, name, None)
            if layer is not None:
                torch.nn.init.xavier_uniform_(layer.weight)
                torch.nn.init.zeros_(layer.bias)

    # ------------------------------------------------------------------
    # aggregation
    # ------------------------------------------------------------------
    @contextmanager
    def _plain_windows_if_short(self, num_frames: int):
        """No shifted encoder windows when one window covers the clip.

        With ``T <= window_size`` the training-time partition is a single
        window; shifted windows would only cut such a short clip in two.
        Longer videos use the aggregator's shifted windows at inference.
        """
        agg = self.aggregator
        if (getattr(agg, 'mode', None) != 'attention'
                or not agg.shift_at_inference or num_frames > agg.window_size):
            yield
            return
        agg.shift_at_inference = False
        try:
            yield
        finally:
            agg.shift_at_inference = True

    def aggregate(
            self,
            frame_queries: Tensor,
            assignment: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
        """Frame queries -> offline queries of every decoder layer.

        Args:
            frame_queries (Tensor): (B, T, Nf, C).
            assignment (Tensor, optional): (B, T, Nf) slots, average mode.

        Returns:
            tuple[Tensor, Tensor]: offline queries (L, B, Nv, C) (the last
            is ``f^off``-hat) and ``valid`` (B, Nv) bool.
        """
        if self.aggregator.mode == 'average' and assignment is None:
            raise ValueError('OfflineTeacher: average mode needs a token '
                             'assignment (ground truth or tracker)')
        with self._plain_windows_if_short(frame_queries.size(1)):
            out = self.aggregator(frame_queries, assignment=assignment)
        return out['offline_queries'], out['valid']

    def forward_offline(self,
                        inputs: Tensor,
                        data_samples: TrackSampleList,
                        frame_state: Optional[Dict] = None,
                        with_masks: bool = False) -> Dict:
        """Offline queries and their head outputs (with gradients).

        See :meth:`extract_offline` (the same, without gradients).
        """
        state = frame_state
        if state is None:
            state = self.frame_queries(
                inputs,
                data_samples,
                keep_frame_outs=True,
                track=self._needs_tracker(data_samples))
        assignment = None
        if self.aggregator.mode == 'average':
            assignment = self.token_assignment(state, data_samples)
        all_queries, valid = self.aggregate(state['queries'], assignment)
        queries = all_queries[-1]
        out = self.video_head(queries, state, with_masks=True)
        cls_logits = out['cls_logits'].masked_fill(~valid[..., None],
                                                   INVALID_LOGIT)
        img_hw = [[(int(wh[1]), int(wh[0])) for wh in clip.tolist()]
                  for clip in state['img_wh']]
        boxes, box_valid = [], []
        for b, clip in enumerate(out['mask_logits']):
            per_frame = [
                mask_boxes(clip[t], img_hw[b][t]) for t in range(clip.size(0))
            ]
            boxes.append(torch.stack([p[0] for p in per_frame]))
            box_valid.append(torch.stack([p[1] for p in per_frame]))
        result = dict(
            queries=queries,
            embeds=out['embeds'],
            cls_logits=cls_logits,
            bboxes=out['bboxes_xyxy'],
            mask_bboxes=torch.stack(boxes),
            mask_valid=torch.stack(box_valid),
            references=out['references'],
            valid=valid,
            all_queries=all_queries,
            frame_outs=state.get('frame_outs'))
        if with_masks:
            result['mask_logits'] = out['mask_logits']
        return result

    def extract_offline(self,
                        inputs: Tensor,
                        data_samples: TrackSampleList,
                        frame_state: Optional[Dict] = None,
                        with_masks: bool = False) -> Dict:
        """Offline knowledge of B clips (stage 3), without gradients.

        Args:
            inputs (Tensor): (B, T, 3, H, W) preprocessed, padded frames.
            data_samples (list[:obj:`TrackDataSample`]): B clips (frame
                metainfo ``img_shape``, ``batch_input_shape``/``pad_shape``;
                ``gt_instances`` with ``instances_ids`` for the average mode).
            frame_state (dict, optional): A cached :meth:`frame_queries`.
            with_masks (bool): Also return every mask logit.

        Returns:
            dict: ``queries`` (B, Nv, C) offline queries (last aggregator
            decoder layer), ``embeds`` (B, Nv, E) offline embeddings
            ``f^off`` (frozen contrastive head), ``cls_logits`` (B, Nv, K)
            video-level class logits (``INVALID_LOGIT`` on empty
            average-mode slots), ``bboxes`` (B, T, Nv, 4) per-frame boxes
            from the references, xyxy in input pixels of each frame,
            ``mask_bboxes`` (B, T, Nv, 4) the boxes of the binarised
            per-frame masks and ``mask_valid`` (B, T, Nv) bool (False: empty
            mask, no box), ``references`` (B, T, Nv, R) normalized,
            ``valid`` (B, Nv) bool, ``all_queries`` (L, B, Nv, C),
            ``frame_outs`` (list of T dicts of the frozen IDOL's per-frame
            outputs, or None with a cached state that has none); with
            ``with_masks``, ``mask_logits`` (B, T, Nv, h4, w4).
        """
        with torch.no_grad():
            return self.forward_offline(inputs, data_samples, frame_state,
                                        with_masks)

    def _forward(self,
                 inputs: Tensor,
                 data_samples: Optional[TrackSampleList] = None,
                 **kwargs) -> Dict:
        """Tensor mode: :meth:`forward_offline`."""
        return self.forward_offline(inputs, data_samples)

    # ------------------------------------------------------------------
    # training and inference
    # ------------------------------------------------------------------
    def loss(self, inputs: Tensor, data_samples: TrackSampleList,
             **kwargs) -> Dict[str, Tensor]:
        """The head's losses on the video queries of B clips.

        Args:
            inputs (Tensor): (B, T, 3, H, W) normalized, padded frames.
            data_samples (list[:obj:`TrackDataSample`]): B clips whose frames
                carry ``gt_instances`` (``bboxes``, ``labels``, ``masks``,
                ``instances_ids``).

        Returns:
            dict: see :meth:`OfflineTeacherHead.loss`.
        """
        if self.aggregator.mode != 'attention':
            raise RuntimeError(
                'OfflineTeacher: the average mode has no parameters and '
                'nothing to train; use its config for testing or as the '
                'teacher of stage 3')
        state = self.frame_queries(inputs, data_samples)
        with self._plain_windows_if_short(state['queries'].size(1)):
            out = self.aggregator(
                state['queries'],
                return_frame_tokens=self.video_head.sim_space == 'vita')
        return self.video_head.loss(out['offline_queries'],
                                    out.get('frame_tokens'), state,
                                    data_samples)

    def predict(self,
                inputs: Tensor,
                data_samples: TrackSampleList,
                rescale: bool = True,
                **kwargs) -> TrackSampleList:
        """Offline inference on whole videos.

        Args:
            inputs (Tensor): (B, T, 3, H, W), one whole video per sample
                (test mode with ``DefaultSampler``: video-level samples).
            data_samples (list[:obj:`TrackDataSample`]): The videos; frames
                carry ``img_shape``, ``ori_shape``, ``frame_id`` and
                ``ori_video_length``.
            rescale (bool): Unused (masks are always at the original size).

        Returns:
            list[:obj:`TrackDataSample`]: with ``pred_video_instances``: a
            list of ``{'score', 'label', 'segmentations'}`` (RLE or None
            per frame of the video), the format :class:`VISMetric` reads.
        """
        self._check_video_inputs(inputs, data_samples)
        for b, track_sample in enumerate(data_samples):
            track_sample.pred_video_instances = self.predict_video(
                inputs[b:b + 1], track_sample)
        return data_samples

    @torch.no_grad()
    def predict_video(self, frames: Tensor, track_sample) -> List[dict]:
        """VIS results of one video, (1, T, 3, H, W) frames."""
        average = self.aggregator.mode == 'average'
        state = self.frame_queries(frames, [track_sample], track=average)
        all_queries, valid = self.aggregate(state['queries'],
                                            state.get('track_assignment'))
        return self.video_head.predict_video(all_queries[-1][0], valid[0],
                                             state, track_sample)
