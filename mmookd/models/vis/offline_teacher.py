# Copyright (c) mmookd authors. All rights reserved.
"""OOKD's offline teacher: a frozen IDOL + the VideoQueryAggregator.

Stage 2 of OOKD (paper Sec. 3.2). A stage-1 IDOL, frozen, gives the per-frame
instance queries ``f_n^t`` of every frame; the :class:`VideoQueryAggregator`
turns them into video queries ``f^off_v``; those go through the frozen IDOL's
own heads (class, box, dynamic mask, contrastive embedding). Only the
aggregator learns, with IDOL's losses under video-level matching.

Shape shorthand: ``B`` clips (videos), ``T`` frames, ``Nf`` frame queries
(IDOL's ``N``), ``Nv`` video queries, ``C`` channels, ``E`` embedding
channels, ``K`` classes, ``P`` dynamic mask parameters (169), ``L``
aggregator decoder layers, ``R`` reference dims (4 = normalized cxcywh when
IDOL has >= 2 decoder layers with box refinement, else 2 = cxcy),
``(h8, w8)`` / ``(h4, w4)`` the stride-8 / stride-4 sizes of the padded
input.

Per-frame references of a video query. IDOL's box and mask heads need, in
every frame, the reference point fed into its last decoder layer: the box is
``sigmoid(delta + inverse_sigmoid(ref))`` and the dynamic mask head reads
coordinates relative to ``ref``. A video query has no such point, so it
borrows the frozen IDOL's own localisation: in frame ``t`` its reference is
the attention-weighted mean of the references of that frame's queries,
``ref[v, t] = sum_n softmax_n(<q_v, f_n^t> / tau) ref_n^t`` (see
:meth:`OfflineTeacher.offline_references`), differentiable in ``q_v``.

Checkpoints. The state dict of the teacher holds only the aggregator; its
metadata (``state_dict._metadata[prefix]``) records ``base_checkpoint`` and
its ``base_sha256``. Loading restores the aggregator, keeps the base loaded
from ``base_checkpoint`` and refuses a checkpoint trained on another base.
"""
import hashlib
import logging
import math
import os.path as osp
from contextlib import contextmanager
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmdet.models.layers.transformer import inverse_sigmoid
from mmdet.models.mot import BaseMOTModel
from mmdet.registry import MODELS, OPTIM_WRAPPER_CONSTRUCTORS, TASK_UTILS
from mmdet.structures import DetDataSample, TrackDataSample, TrackSampleList
from mmdet.structures.bbox import (bbox_cxcywh_to_xyxy, bbox_xyxy_to_cxcywh,
                                   get_box_tensor)
from mmdet.utils import OptConfigType, OptMultiConfig
from mmengine.logging import print_log
from mmengine.optim import DefaultOptimWrapperConstructor
from mmengine.runner.checkpoint import load_checkpoint
from mmengine.structures import InstanceData
from torch import Tensor, nn

# registers the aggregator, the assigners and IDOL (and the checkpoint shim)
from ...utils import compat  # noqa: F401
from ..layers import video_query_aggregator  # noqa: F401
from ..task_modules import qfa_assigner  # noqa: F401
from ..task_modules import video_hungarian_assigner  # noqa: F401
from ..trackers.idol_tracker import encode_rles
from .idol import IDOL

# Class logit of an average-mode slot that received no token: probability 0,
# so no matcher picks it (the ``valid`` mask says which slots are real).
INVALID_LOGIT = -1e4

DEFAULT_TEST_CFG = dict(
    frames_per_chunk=18, max_per_video=10, mask_thr=0.5, mask_score=True)


def file_sha256(path: str, chunk_size: int = 1 << 20) -> str:
    """SHA-256 (hex) of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(chunk_size), b''):
            digest.update(block)
    return digest.hexdigest()


def _drop_base_state(module: 'OfflineTeacher', state_dict: dict, prefix: str,
                     local_metadata: dict) -> None:
    """State-dict hook: keep only the aggregator, record the base."""
    base_prefix = prefix + 'base.'
    for key in [k for k in state_dict if k.startswith(base_prefix)]:
        del state_dict[key]
    metadata = getattr(state_dict, '_metadata', None)
    if metadata is not None:
        for key in [
                k for k in metadata
                if k == prefix + 'base' or k.startswith(base_prefix)
        ]:
            del metadata[key]
    local_metadata['base_checkpoint'] = module.base_checkpoint
    local_metadata['base_sha256'] = module.base_sha256


def _restore_base_state(module: 'OfflineTeacher', state_dict: dict,
                        prefix: str, local_metadata: dict, *args) -> None:
    """Load pre-hook: check the recorded base, keep the loaded base.

    The base's entries are filled in with the tensors the base holds now
    (from ``base_checkpoint``), so they are neither missing nor overwritten;
    ``base.*`` entries of the file, if any, are ignored.
    """
    module.check_base_record(local_metadata)
    base_prefix = prefix + 'base.'
    ignored = [k for k in state_dict if k.startswith(base_prefix)]
    if ignored:
        print_log(
            f'OfflineTeacher: ignoring {len(ignored)} "base.*" entries of '
            'the loaded state dict; the base comes from base_checkpoint '
            f'({module.base_checkpoint})',
            logger='current',
            level=logging.WARNING)
    state_dict.update(module.base.state_dict(prefix=base_prefix))


@MODELS.register_module()
class OfflineTeacher(BaseMOTModel):
    """Offline teacher of OOKD: frozen IDOL + :class:`VideoQueryAggregator`.

    **Frozen base.** ``base`` is an :class:`IDOL` loaded from
    ``base_checkpoint`` at build time (mmengine ``load_checkpoint``, strict,
    through mmookd's ``weights_only`` loader). Its parameters have
    ``requires_grad=False``, it stays in eval mode under ``train()``, runs
    under ``torch.no_grad()`` and is left alone by ``init_weights``. Only the
    aggregator has trainable parameters.

    **Heads.** A video query ``q`` (C) goes through the frozen heads of
    IDOL's last decoder layer: class logits ``cls_branches[-1](q)`` (one per
    video), dynamic mask parameters ``controller(q)``, embedding
    ``embed_head(q)`` (``f^off``), and in every frame ``t`` a box
    ``sigmoid(reg_branches[-1](q) + inverse_sigmoid(ref_t))`` and mask
    logits ``decode_masks(params, ref_t, mask_feats_t)``, with the
    per-frame reference ``ref_t`` of :meth:`offline_references`.

    **Training** (:meth:`loss`, attention mode): clips of T frames (4 in the
    configs); every video query is matched one-to-one to a ground-truth
    track with :class:`VideoHungarianAssigner` (per-frame costs combined
    over the frames where the track is present, see there); IDOL's losses
    (Eq. 1): focal
    class loss on the video-level logits (all ``Nv x K``, / #matched
    tracks), L1 + GIoU on boxes and focal + dice on stride-4 masks in the
    frames where the track is present (/ #matched (track, frame) pairs);
    deep supervision over the aggregator's decoder layers
    (``d{l}.loss_*``), each with its own matching.

    **Inference** (:meth:`predict`): one whole video a sample; the base
    runs over chunks of ``frames_per_chunk`` frames, the aggregator over the
    video (windowed encoder, chunked decoder), then the top
    ``max_per_video`` (query, class) pairs by sigmoid score get their masks
    decoded frame by frame (RLE at the original size), scored as VITA:
    class score x mean mask probability inside the mask.

    **Average mode** (``aggregator.mode='average'``, the paper's "token
    average", Tab. 6): no parameters, nothing to train. The tokens of one
    instance are averaged; which frame query belongs to which instance is
    taken from the ground truth when the frames carry it (QFA assignment of
    the frozen IDOL's predictions to the frame GT, ``train_cfg.
    token_assigner``; slot = the track's index in the clip), else from the
    base's tracker (slot = track id in order of appearance).

    Args:
        base (dict): Config of the frozen :class:`IDOL`.
        aggregator (dict): Config of the :class:`VideoQueryAggregator`.
        base_checkpoint (str, optional): Stage-1 IDOL checkpoint. None keeps
            the base randomly initialised (tests only).
        base_checkpoint_sha256 (str, optional): Expected SHA-256 of
            ``base_checkpoint``; a mismatch is refused at build time.
        check_base (bool): Refuse to load a teacher checkpoint whose recorded
            base hash differs from ``base_checkpoint``'s. Defaults to True.
        reference_cfg (dict): How a video query gets its per-frame
            references: ``space`` ``'query'`` (dot product with the frame
            queries, default) or ``'embed'`` (with the frame embeddings, the
            metric of IDOL's tracker), ``temperature`` (None: ``sqrt(C)`` for
            ``'query'``, 1 for ``'embed'``).
        loss_cls, loss_bbox, loss_iou, loss_mask, loss_dice (dict): IDOL's
            losses and weights (2, 5, 2, 2, 5).
        train_cfg (dict, optional): ``assigner`` (video-level matching,
            default :class:`VideoHungarianAssigner`) and, for the average
            mode, ``token_assigner`` (default ``QFAAssigner`` Hungarian).
        test_cfg (dict, optional): ``frames_per_chunk`` (18, base frames
            per forward; None = all), ``max_per_video`` (10), ``mask_thr``
            (0.5), ``mask_score`` (True: multiply the class score by the mask
            score).
        data_preprocessor (dict, optional): ``TrackDataPreprocessor``; None
            takes the base's.
        init_cfg (dict, optional): Unused by the base.
    """

    def __init__(self,
                 base: dict,
                 aggregator: dict,
                 base_checkpoint: Optional[str] = None,
                 base_checkpoint_sha256: Optional[str] = None,
                 check_base: bool = True,
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
        self._check_dims()
        self._setup_references(reference_cfg)

        self.loss_cls = MODELS.build(loss_cls)
        self.loss_bbox = MODELS.build(loss_bbox)
        self.loss_iou = MODELS.build(loss_iou)
        self.loss_mask = MODELS.build(loss_mask)
        self.loss_dice = MODELS.build(loss_dice)
        train_cfg = dict(train_cfg or {})
        self.assigner = TASK_UTILS.build(
            train_cfg.get('assigner', dict(type='VideoHungarianAssigner')))
        self.token_assigner = TASK_UTILS.build(
            train_cfg.get('token_assigner',
                          dict(type='QFAAssigner', match='hungarian')))
        self.test_cfg = dict(DEFAULT_TEST_CFG, **(test_cfg or {}))

        self.check_base = check_base
        self.base_checkpoint = base_checkpoint
        self.base_sha256 = None
        self._load_base(base_checkpoint, base_checkpoint_sha256)
        for param in self.base.parameters():
            param.requires_grad_(False)
        self.base.eval()
        self._register_state_dict_hook(_drop_base_state)
        self._register_load_state_dict_pre_hook(
            _restore_base_state, with_module=True)

    # ------------------------------------------------------------------
    # build helpers
    # ------------------------------------------------------------------
    @property
    def head(self):
        """:class:`IDOLHead` of the frozen base."""
        return self.base.head

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

    def _setup_references(self, reference_cfg: dict) -> None:
        space = reference_cfg.get('space', 'query')
        if space not in ('query', 'embed'):
            raise ValueError('OfflineTeacher: reference_cfg.space must be '
                             f"'query' or 'embed', got {space!r}")
        temperature = reference_cfg.get('temperature')
        if temperature is None:
            temperature = (
                math.sqrt(self.head.embed_dims) if space == 'query' else 1.0)
        if temperature <= 0:
            raise ValueError('OfflineTeacher: reference_cfg.temperature must '
                             f'be > 0, got {temperature}')
        self.reference_space = space
        self.reference_temperature = float(temperature)

    def _load_base(self, path: Optional[str],
                   expected_sha256: Optional[str]) -> None:
        """Load the frozen IDOL from ``path`` (or init it randomly)."""
        if path is None:
            if expected_sha256 is not None:
                raise ValueError('OfflineTeacher: base_checkpoint_sha256 is '
                                 'set but model.base_checkpoint is None')
            print_log(
                'OfflineTeacher: model.base_checkpoint is None, the frozen '
                'IDOL keeps a random initialisation (only useful in tests)',
                logger='current',
                level=logging.WARNING)
            self.base.init_weights()
            return
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'OfflineTeacher: model.base_checkpoint not found: {path} '
                '(train the stage-1 IDOL first, or point the config at it)')
        self.base_sha256 = file_sha256(path)
        if expected_sha256 is not None and (expected_sha256.lower()
                                            != self.base_sha256):
            raise ValueError(
                f'OfflineTeacher: model.base_checkpoint {path} has SHA-256 '
                f'{self.base_sha256}, but model.base_checkpoint_sha256 is '
                f'{expected_sha256}: refusing a different base IDOL')
        try:
            load_checkpoint(
                self.base,
                path,
                map_location='cpu',
                strict=True,
                logger='current')
        except RuntimeError as err:
            raise RuntimeError(
                f'OfflineTeacher: model.base_checkpoint {path} does not fit '
                f'model.base: {err}') from err

    def check_base_record(self, local_metadata: dict) -> None:
        """Compare the base recorded in a loaded state dict with ours.

        Args:
            local_metadata (dict): The teacher's state-dict metadata, with
                ``base_checkpoint`` and ``base_sha256`` when saved by an
                :class:`OfflineTeacher`.

        Raises:
            ValueError: both hashes are known and differ (``check_base``).
        """
        if 'base_sha256' not in local_metadata:
            print_log(
                'OfflineTeacher: the loaded state dict does not record its '
                'base IDOL; loading the aggregator without checking it',
                logger='current',
                level=logging.WARNING)
            return
        recorded = local_metadata['base_sha256']
        if recorded is None or self.base_sha256 is None:
            if recorded != self.base_sha256:
                print_log(
                    'OfflineTeacher: cannot check the base IDOL (checkpoint '
                    f'records {recorded}, model.base_checkpoint is '
                    f'{self.base_checkpoint})',
                    logger='current',
                    level=logging.WARNING)
            return
        if recorded != self.base_sha256 and self.check_base:
            raise ValueError(
                'OfflineTeacher: this teacher checkpoint was trained on the '
                f'base IDOL {local_metadata.get("base_checkpoint")} '
                f'(SHA-256 {recorded}), but model.base_checkpoint '
                f'{self.base_checkpoint} has SHA-256 {self.base_sha256}. Set '
                'model.base_checkpoint to the IDOL the teacher was trained '
                'on (or check_base=False to override).')

    # ------------------------------------------------------------------
    # frozen base
    # ------------------------------------------------------------------
    def train(self, mode: bool = True) -> 'OfflineTeacher':
        """Set the aggregator's mode; the base always stays in eval mode."""
        super().train(mode)
        self.base.eval()
        return self

    def init_weights(self) -> None:
        """Initialise the aggregator only; the base keeps its weights."""
        self.aggregator.init_weights()

    @staticmethod
    def _frame_wh(sample: DetDataSample) -> Tuple[int, int]:
        """(w, h) of a frame's unpadded input (``img_shape``)."""
        img_h, img_w = sample.metainfo['img_shape'][:2]
        return img_w, img_h

    def _last_layer_references(self, outs: Dict, wh: Tensor) -> Tensor:
        """References fed into the base's last decoder layer, normalized.

        Args:
            outs (dict): :meth:`IDOL.extract_frame_queries` of n frames.
            wh (Tensor): (n, 2) unpadded input sizes (w, h).

        Returns:
            Tensor: (n, Nf, R): the boxes refined by the layer before the
            last (R = 4), or the initial points when IDOL has one layer
            (R = 2).
        """
        if outs['all_bboxes'].size(0) >= 2:
            return outs['all_bboxes'][-2]
        return outs['all_references'][-1] / wh[:, None, :]

    @torch.no_grad()
    def frame_queries(self,
                      inputs: Tensor,
                      data_samples: TrackSampleList,
                      keep_frame_outs: bool = False,
                      track: bool = False) -> Dict:
        """Run the frozen IDOL on every frame of B clips (no gradient).

        The frames go through the base ``test_cfg.frames_per_chunk`` at a
        time (clip-major order); only the compact per-frame state below is
        kept, so the result can be cached and passed to
        :meth:`extract_offline` as ``frame_state``.

        Args:
            inputs (Tensor): (B, T, 3, H, W) normalized, padded frames.
            data_samples (list[:obj:`TrackDataSample`]): B clips of T frames
                (``img_shape``; ``batch_input_shape`` is set when missing).
            keep_frame_outs (bool): Also keep the base's full per-frame
                output dicts (``frame_outs``).
            track (bool): Also run the base's tracker over each clip and
                record ``track_assignment`` (average mode without GT).

        Returns:
            dict: ``queries`` (B, T, Nf, C) last-layer frame queries,
            ``references`` (B, T, Nf, R) normalized references fed into the
            last layer, ``mask_feats`` (B, T, 8, h8, w8), ``img_wh``
            (B, T, 2) unpadded (w, h); in average mode ``cls_logits``
            (B, T, Nf, K) and ``bboxes_xyxy`` (B, T, Nf, 4) input pixels;
            ``embeds`` (B, T, Nf, E) when ``reference_cfg.space='embed'``;
            with ``keep_frame_outs``, ``frame_outs``: a list of T dicts, the
            base's :meth:`IDOL.extract_frame_queries` of frame t of every
            clip (tensors (B, ...) or (L, B, ...)); with ``track``,
            ``track_assignment`` (B, T, Nf) long slot or -1.
        """
        self._check_video_inputs(inputs, data_samples)
        bsz, num_frames = inputs.shape[:2]
        frames = inputs.flatten(0, 1)
        samples = [
            data_samples[b][t] for b in range(bsz) for t in range(num_frames)
        ]
        batch_shape = tuple(inputs.shape[-2:])
        for sample in samples:
            if 'batch_input_shape' not in sample.metainfo:
                sample.set_metainfo(dict(batch_input_shape=batch_shape))
        keys = ['queries']
        if self.aggregator.mode == 'average':  # QFA of the tokens to GTs
            keys += ['cls_logits', 'bboxes_xyxy']
        if self.reference_space == 'embed':
            keys.append('embeds')
        chunk = self.test_cfg.get('frames_per_chunk') or len(samples)
        tracker_step = self._tracker_step(num_frames) if track else None
        state: Dict[str, Tensor] = dict()
        full_outs: List[Dict] = []
        for start in range(0, len(samples), chunk):
            imgs = frames[start:start + chunk]
            metas = samples[start:start + chunk]
            outs = self.base.extract_frame_queries(imgs, metas)
            wh = imgs.new_tensor([self._frame_wh(s) for s in metas])
            compact = {key: outs[key] for key in keys}
            compact['references'] = self._last_layer_references(outs, wh)
            compact['mask_feats'] = outs['mask_feats']
            compact['img_wh'] = wh
            if not state:  # preallocate: no list + cat copy on long videos
                state = {
                    key: value.new_empty((len(samples), ) + value.shape[1:])
                    for key, value in compact.items()
                }
            for key, value in compact.items():
                state[key][start:start + len(metas)] = value
            if keep_frame_outs:
                full_outs.append(outs)
            if tracker_step is not None:
                tracker_step(outs, metas, start)
        state = {
            key: value.reshape((bsz, num_frames) + value.shape[1:])
            for key, value in state.items()
        }
        if keep_frame_outs:
            state['frame_outs'] = self._split_frame_outs(
                full_outs, bsz, num_frames)
        if tracker_step is not None:
            state['track_assignment'] = tracker_step.assignment.reshape(
                bsz, num_frames, -1)
        return state

    @staticmethod
    def _split_frame_outs(chunks: List[Dict], bsz: int,
                          num_frames: int) -> List[Dict]:
        """Chunks of clip-major frames -> one dict per frame index t."""
        per_frame = [dict() for _ in range(num_frames)]
        for key in chunks[0]:
            # per-layer tensors are (L, n, ...), the others (n, ...)
            layered = key.startswith('all_') or key == 'hidden_states'
            dim = 1 if layered else 0
            value = torch.cat([c[key] for c in chunks], dim=dim)
            shape = value.shape[:dim] + (bsz, num_frames) + \
                value.shape[dim + 1:]
            value = value.reshape(shape)
            for t in range(num_frames):
                per_frame[t][key] = value.select(dim + 1, t)
        return per_frame

    def _tracker_step(self, num_frames: int) -> '_TrackerGrouping':
        """A per-chunk callback that groups the tokens with the base tracker.

        Raises:
            RuntimeError: the base has no tracker.
        """
        if self.base.tracker is None:
            raise RuntimeError(
                'OfflineTeacher: average mode without ground truth needs the '
                'base tracker (model.base.tracker) to group the tokens')
        return _TrackerGrouping(self.base, num_frames, self.num_video_queries)

    @staticmethod
    def _check_video_inputs(inputs: Tensor,
                            data_samples: TrackSampleList) -> None:
        if inputs.dim() != 5:
            raise ValueError('OfflineTeacher expects inputs of shape (B, T, '
                             f'3, H, W), got {tuple(inputs.shape)}')
        if len(data_samples) != inputs.size(0):
            raise ValueError(f'OfflineTeacher: {len(data_samples)} data '
                             f'samples for {inputs.size(0)} clips')
        for b, sample in enumerate(data_samples):
            if len(sample) != inputs.size(1):
                video = sample[0].metainfo.get('video_id') if len(
                    sample) else None
                raise ValueError(
                    f'OfflineTeacher: clip {b} (video {video}) has '
                    f'{len(sample)} frame samples for {inputs.size(1)} '
                    'input frames')

    # ------------------------------------------------------------------
    # aggregation and the frozen heads on the video queries
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

    def offline_references(self,
                           queries: Tensor,
                           state: Dict,
                           frames: Optional[slice] = None) -> Tensor:
        """Per-frame references of video queries (module docstring).

        ``ref[b, t, v] = sum_n softmax_n(<k(q_v), k_n^t> / tau) ref_n^t``
        with ``k`` the identity and ``k_n^t`` the frame queries
        (``space='query'``), or ``k`` the frozen embedding head and
        ``k_n^t`` the frame embeddings (``space='embed'``, the dot product
        IDOL's tracker associates with).

        Args:
            queries (Tensor): (B, Nv, C) video queries.
            state (dict): :meth:`frame_queries` output.
            frames (slice, optional): Frames to compute (all when None).

        Returns:
            Tensor: (B, Tc, Nv, R) normalized references.
        """
        frames = slice(None) if frames is None else frames
        if self.reference_space == 'query':
            keys, query = state['queries'][:, frames], queries
        else:
            keys, query = state['embeds'][:, frames], self.head.embed_head(
                queries)
        logits = torch.einsum('bvc,btnc->btvn', query, keys)
        weights = (logits / self.reference_temperature).softmax(-1)
        return torch.einsum('btvn,btnr->btvr', weights,
                            state['references'][:, frames])

    def offline_bboxes(self, queries: Tensor, references: Tensor) -> Tensor:
        """Boxes of video queries: IDOL's last box branch on the references.

        Args:
            queries (Tensor): (B, Nv, C).
            references (Tensor): (B, Tc, Nv, R) normalized.

        Returns:
            Tensor: (B, Tc, Nv, 4) normalized cxcywh.
        """
        delta = self.head.reg_branches[-1](queries)[:, None]
        ref = inverse_sigmoid(references)
        if ref.size(-1) == 4:
            return (delta + ref).sigmoid()
        delta = delta.expand(-1, ref.size(1), -1, -1)
        return torch.cat([delta[..., :2] + ref, delta[..., 2:]], -1).sigmoid()

    def _decode_frame_masks(self, params: Tensor, references: Tensor,
                            wh: Tensor, mask_feats: Tensor) -> Tensor:
        """(n, P), (n, R) normalized, (2, ), (8, h8, w8) -> (n, h4, w4)."""
        return self.head.decode_masks(params, references[:, :2] * wh,
                                      mask_feats)

    def forward_offline(self,
                        inputs: Tensor,
                        data_samples: TrackSampleList,
                        frame_state: Optional[Dict] = None) -> Dict:
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
        refs = self.offline_references(queries, state)
        factor = state['img_wh'].repeat(1, 1, 2)[:, :, None]
        bboxes = bbox_cxcywh_to_xyxy(self.offline_bboxes(queries,
                                                         refs)) * factor
        cls_logits = self.head.cls_branches[-1](queries)
        cls_logits = cls_logits.masked_fill(~valid[..., None], INVALID_LOGIT)
        return dict(
            queries=queries,
            embeds=self.head.embed_head(queries),
            cls_logits=cls_logits,
            bboxes=bboxes,
            references=refs,
            valid=valid,
            all_queries=all_queries,
            frame_outs=state.get('frame_outs'))

    def extract_offline(self,
                        inputs: Tensor,
                        data_samples: TrackSampleList,
                        frame_state: Optional[Dict] = None) -> Dict:
        """Offline knowledge of B clips (stage 3), without gradients.

        Args:
            inputs (Tensor): (B, T, 3, H, W) preprocessed, padded frames.
            data_samples (list[:obj:`TrackDataSample`]): B clips (frame
                metainfo ``img_shape``, ``batch_input_shape``/``pad_shape``;
                ``gt_instances`` with ``instances_ids`` for the average mode).
            frame_state (dict, optional): A cached :meth:`frame_queries`.

        Returns:
            dict: ``queries`` (B, Nv, C) offline queries (last aggregator
            decoder layer), ``embeds`` (B, Nv, E) offline embeddings
            ``f^off`` (frozen contrastive head), ``cls_logits`` (B, Nv, K)
            video-level class logits (``INVALID_LOGIT`` on empty
            average-mode slots), ``bboxes`` (B, T, Nv, 4) per-frame boxes,
            xyxy in input pixels of each frame, ``references`` (B, T, Nv, R)
            normalized per-frame references, ``valid`` (B, Nv) bool,
            ``all_queries`` (L, B, Nv, C), ``frame_outs`` (list of T dicts
            of the frozen IDOL's per-frame outputs, or None with a cached
            state that has none).
        """
        with torch.no_grad():
            return self.forward_offline(inputs, data_samples, frame_state)

    def _forward(self,
                 inputs: Tensor,
                 data_samples: Optional[TrackSampleList] = None,
                 **kwargs) -> Dict:
        """Tensor mode: :meth:`forward_offline`."""
        return self.forward_offline(inputs, data_samples)

    # ------------------------------------------------------------------
    # ground truth of a clip, token assignment (average mode)
    # ------------------------------------------------------------------
    @staticmethod
    def _frame_gt(sample: DetDataSample, t: int) -> InstanceData:
        gt = sample.get('gt_instances')
        if gt is None or (len(gt) and 'instances_ids' not in gt):
            raise KeyError(
                f'OfflineTeacher: frame {t} (video '
                f'{sample.metainfo.get("video_id")}, frame_id '
                f'{sample.metainfo.get("frame_id")}) has no gt_instances '
                'with instances_ids')
        return gt

    def clip_track_index(self, track_sample: TrackDataSample) -> Dict:
        """Instance id -> track index, in order of first appearance."""
        index: Dict[int, int] = dict()
        for t in range(len(track_sample)):
            gt = self._frame_gt(track_sample[t], t)
            if not len(gt):
                continue
            ids = gt.instances_ids.tolist()
            if len(set(ids)) != len(ids):
                meta = track_sample[t].metainfo
                raise ValueError(
                    f'OfflineTeacher: video {meta.get("video_id")} frame_id '
                    f'{meta.get("frame_id")} has a repeated instance id '
                    f'in {ids}')
            for inst_id in ids:
                index.setdefault(inst_id, len(index))
        return index

    def clip_targets(self, track_sample: TrackDataSample,
                     mask_size: Tuple[int, int], device) -> Dict[str, Tensor]:
        """Ground-truth tracks of one clip.

        Args:
            track_sample (:obj:`TrackDataSample`): T frames with
                ``gt_instances`` (``bboxes``, ``labels``, ``masks``,
                ``instances_ids``).
            mask_size (tuple[int, int]): (h4, w4).
            device: Target device.

        Returns:
            dict: ``labels`` (G, ), ``bboxes`` (T, G, 4) xyxy input pixels,
            ``present`` (T, G) bool, ``masks`` (T, G, h4, w4) float (zeros
            where absent). Tracks are in order of first appearance.
        """
        index = self.clip_track_index(track_sample)
        num_frames, num_gts = len(track_sample), len(index)
        labels = torch.zeros((num_gts, ), dtype=torch.long, device=device)
        bboxes = torch.zeros((num_frames, num_gts, 4), device=device)
        present = torch.zeros((num_frames, num_gts),
                              dtype=torch.bool,
                              device=device)
        masks = torch.zeros(
            (num_frames, num_gts) + tuple(mask_size), device=device)
        for t in reversed(range(num_frames)):  # labels of the first frame
            frame = track_sample[t]
            gt = self._frame_gt(frame, t)
            if not len(gt):
                continue
            cols = torch.tensor([index[i] for i in gt.instances_ids.tolist()],
                                device=device)
            labels[cols] = gt.labels.to(device).long()
            bboxes[t, cols] = get_box_tensor(gt.bboxes).to(device).float()
            present[t, cols] = True
            masks[t, cols] = self.head.get_mask_targets([gt], [frame.metainfo],
                                                        mask_size, device)[0]
        return dict(labels=labels, bboxes=bboxes, present=present, masks=masks)

    def _has_gt(self, data_samples: Optional[TrackSampleList]) -> bool:
        if not data_samples:
            return False
        for sample in data_samples:
            for t in range(len(sample)):
                gt = sample[t].get('gt_instances')
                if gt is None or (len(gt) and 'instances_ids' not in gt):
                    return False
        return True

    def _needs_tracker(self, data_samples) -> bool:
        return self.aggregator.mode == 'average' and not self._has_gt(
            data_samples)

    def token_assignment(self, state: Dict,
                         data_samples: TrackSampleList) -> Tensor:
        """Average mode: the instance slot of every frame query.

        From the ground truth when every frame carries ``gt_instances``
        with ``instances_ids``: per frame, ``token_assigner`` (QFA,
        Hungarian by default) gives each GT one of the frozen IDOL's
        queries, which gets the slot of the GT's track (its index in the
        clip, :meth:`clip_track_index`). Otherwise from the base's tracker
        (``state['track_assignment']``).

        Returns:
            Tensor: (B, T, Nf) long in ``[-1, Nv)``.
        """
        if 'track_assignment' in state:
            return state['track_assignment']
        if not self._has_gt(data_samples):
            raise ValueError('OfflineTeacher: average mode needs frames with '
                             'gt_instances (instances_ids) or a frame_state '
                             'computed with track=True')
        bsz, num_frames, num_queries = state['queries'].shape[:3]
        assignment = state['queries'].new_full((bsz, num_frames, num_queries),
                                               -1,
                                               dtype=torch.long)
        for b, track_sample in enumerate(data_samples):
            index = self.clip_track_index(track_sample)
            for t in range(num_frames):
                gt = track_sample[t].gt_instances
                if not len(gt):
                    continue
                preds = InstanceData(
                    cls_logits=state['cls_logits'][b, t],
                    bboxes=state['bboxes_xyxy'][b, t])
                gts = InstanceData(
                    labels=gt.labels.to(assignment.device),
                    bboxes=get_box_tensor(gt.bboxes).to(assignment.device))
                sigma = self.token_assigner.assign(preds, gts)
                slots = torch.tensor(
                    [index[i] for i in gt.instances_ids.tolist()],
                    device=assignment.device)
                keep = (sigma >= 0) & (slots < self.num_video_queries)
                assignment[b, t, sigma[keep]] = slots[keep]
        return assignment

    # ------------------------------------------------------------------
    # training
    # ------------------------------------------------------------------
    def loss(self, inputs: Tensor, data_samples: TrackSampleList,
             **kwargs) -> Dict[str, Tensor]:
        """IDOL's losses on the video queries of B clips.

        Args:
            inputs (Tensor): (B, T, 3, H, W) normalized, padded frames.
            data_samples (list[:obj:`TrackDataSample`]): B clips whose frames
                carry ``gt_instances`` (``bboxes``, ``labels``, ``masks``,
                ``instances_ids``).

        Returns:
            dict: ``loss_cls``, ``loss_bbox``, ``loss_iou``, ``loss_mask``,
            ``loss_dice`` of the last aggregator decoder layer and
            ``d{l}.loss_*`` of the layers before.
        """
        if self.aggregator.mode != 'attention':
            raise RuntimeError(
                'OfflineTeacher: the average mode has no parameters and '
                'nothing to train; use its config for testing or as the '
                'teacher of stage 3')
        state = self.frame_queries(inputs, data_samples)
        mask_feats = state['mask_feats']
        mask_size = (mask_feats.size(-2) * 2, mask_feats.size(-1) * 2)
        targets = [
            self.clip_targets(s, mask_size, inputs.device)
            for s in data_samples
        ]
        metas = [[s[t].metainfo for t in range(len(s))] for s in data_samples]
        all_queries, _ = self.aggregate(state['queries'])
        losses = dict()
        num_layers = all_queries.size(0)
        for layer in range(num_layers):
            prefix = '' if layer == num_layers - 1 else f'd{layer}.'
            layer_losses = self.loss_by_layer(all_queries[layer], state,
                                              targets, metas)
            for name, value in layer_losses.items():
                losses[prefix + name] = value
        return losses

    def loss_by_layer(self, queries: Tensor, state: Dict, targets: List[Dict],
                      metas: List[List[dict]]) -> Dict[str, Tensor]:
        """Losses of one aggregator decoder layer with its own matching.

        Args:
            queries (Tensor): (B, Nv, C) offline queries of the layer.
            state (dict): :meth:`frame_queries` output.
            targets (list[dict]): :meth:`clip_targets` of every clip.
            metas (list[list[dict]]): Frame metainfo of every clip.

        Returns:
            dict: ``loss_cls``, ``loss_bbox``, ``loss_iou``, ``loss_mask``,
            ``loss_dice``.
        """
        head = self.head
        bsz, num_frames = state['queries'].shape[:2]
        cls_logits = head.cls_branches[-1](queries)
        params = head.controller(queries)
        refs = self.offline_references(queries, state)
        bboxes = self.offline_bboxes(queries, refs)
        factor = state['img_wh'].repeat(1, 1, 2)[:, :, None]
        bboxes_xyxy = bbox_cxcywh_to_xyxy(bboxes) * factor
        labels = torch.full(
            cls_logits.shape[:2],
            head.num_classes,
            dtype=torch.long,
            device=queries.device)
        pos_boxes, tgt_boxes, pos_xyxy, tgt_xyxy = [], [], [], []
        mask_logits, mask_targets = [], []
        num_tracks = 0
        use_masks = getattr(self.assigner, 'mask_cost', None) is not None or \
            getattr(self.assigner, 'dice_cost', None) is not None
        for b in range(bsz):
            tgt = targets[b]
            if tgt['labels'].numel() == 0:
                continue
            match_masks = None
            if use_masks:
                with torch.no_grad():
                    match_masks = torch.stack([
                        self._decode_frame_masks(params[b], refs[b, t],
                                                 state['img_wh'][b, t],
                                                 state['mask_feats'][b, t])
                        for t in range(num_frames)
                    ])
            query_inds, gt_inds = self.assigner.assign(
                cls_logits[b], bboxes_xyxy[b], tgt['labels'], tgt['bboxes'],
                tgt['present'], metas[b], match_masks,
                tgt['masks'] if use_masks else None)
            labels[b, query_inds] = tgt['labels'][gt_inds]
            num_tracks += query_inds.numel()
            for t in range(num_frames):
                here = tgt['present'][t, gt_inds]
                if not here.any():
                    continue
                q_t, g_t = query_inds[here], gt_inds[here]
                gt_xyxy = tgt['bboxes'][t, g_t]
                pos_boxes.append(bboxes[b, t, q_t])
                tgt_boxes.append(bbox_xyxy_to_cxcywh(gt_xyxy / factor[b, t]))
                pos_xyxy.append(bboxes_xyxy[b, t, q_t])
                tgt_xyxy.append(gt_xyxy)
                mask_logits.append(
                    self._decode_frame_masks(params[b, q_t], refs[b, t, q_t],
                                             state['img_wh'][b, t],
                                             state['mask_feats'][b, t]))
                mask_targets.append(tgt['masks'][t, g_t])

        loss_cls = self.loss_cls(
            cls_logits.reshape(-1, cls_logits.size(-1)),
            labels.reshape(-1),
            avg_factor=max(num_tracks, 1))
        if not pos_boxes:
            zero = (bboxes.sum() + params.sum()) * 0
            return dict(
                loss_cls=loss_cls,
                loss_bbox=zero,
                loss_iou=zero,
                loss_mask=zero,
                loss_dice=zero)
        num_pairs = sum(len(x) for x in pos_boxes)
        mask_logits = torch.cat(mask_logits)
        mask_targets = torch.cat(mask_targets)
        return dict(
            loss_cls=loss_cls,
            loss_bbox=self.loss_bbox(
                torch.cat(pos_boxes),
                torch.cat(tgt_boxes),
                avg_factor=num_pairs),
            loss_iou=self.loss_iou(
                torch.cat(pos_xyxy), torch.cat(tgt_xyxy),
                avg_factor=num_pairs),
            loss_mask=self.loss_mask(
                mask_logits.flatten(1),
                mask_targets.flatten(1),
                avg_factor=num_pairs * mask_logits[0].numel()),
            loss_dice=self.loss_dice(
                mask_logits, mask_targets, avg_factor=num_pairs))

    # ------------------------------------------------------------------
    # inference
    # ------------------------------------------------------------------
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
    def predict_video(self, frames: Tensor,
                      track_sample: TrackDataSample) -> List[dict]:
        """VIS results of one video.

        Args:
            frames (Tensor): (1, T, 3, H, W).
            track_sample (:obj:`TrackDataSample`): Its T frames.

        Returns:
            list[dict]: the ``pred_video_instances`` of the video, by
            descending score.
        """
        average = self.aggregator.mode == 'average'
        state = self.frame_queries(frames, [track_sample], track=average)
        assignment = state.get('track_assignment')
        all_queries, valid = self.aggregate(state['queries'], assignment)
        queries = all_queries[-1][0]
        scores = self.head.cls_branches[-1](queries).sigmoid()
        scores = scores * valid[0, :, None]
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

    def decode_video_masks(
            self, queries: Tensor, state: Dict,
            track_sample: TrackDataSample) -> Tuple[List[List], Tensor]:
        """Masks of n video queries in every frame, as RLEs, frame by frame.

        Per frame: mask logits at stride 4, bilinear to the padded size,
        crop to ``img_shape``, bilinear to ``ori_shape``, sigmoid >
        ``mask_thr`` (:meth:`IDOLHead.postprocess_masks`), RLE-encoded at
        once. The references are computed ``frames_per_chunk`` frames at a
        time. Nothing dense is kept across frames.

        Args:
            queries (Tensor): (n, C).
            state (dict): :meth:`frame_queries` of the video (B = 1).
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
        params = self.head.controller(queries)
        chunk = self.test_cfg.get('frames_per_chunk') or num_frames
        thr = self.test_cfg.get('mask_thr', 0.5)
        for start in range(0, num_frames, chunk):
            stop = min(start + chunk, num_frames)
            refs = self.offline_references(queries[None], state,
                                           slice(start, stop))[0]
            for i, t in enumerate(range(start, stop)):
                meta = track_sample[t].metainfo
                frame_id = int(meta.get('frame_id', t))
                if not 0 <= frame_id < length:
                    raise ValueError(
                        f'OfflineTeacher: video {meta.get("video_id")}: '
                        f'frame_id {frame_id} outside 0..{length - 1}')
                logits = self._decode_frame_masks(params, refs[i],
                                                  state['img_wh'][0, t],
                                                  state['mask_feats'][0, t])
                probs = self.head.postprocess_masks(logits, meta)
                binary = probs > thr
                inside += (probs * binary).flatten(1).sum(1).double()
                area += binary.flatten(1).sum(1).double()
                nonempty = binary.flatten(1).any(1).tolist()
                for j, rle in enumerate(encode_rles(binary)):
                    if nonempty[j]:
                        segms[j][frame_id] = rle
        return segms, (inside / area.clamp(min=1)).float()


class _TrackerGrouping:
    """Run IDOL's tracker over clip-major frames; record each query's slot.

    Called once per chunk of frames with the base's per-frame outputs. The
    tracker is reset at the first frame of every clip; a query that the
    tracker outputs as track ``k`` gets the slot of ``k`` (slots numbered by
    the order in which the tracks appear in the clip; tracks past
    ``num_slots`` get none), every other query -1.

    Args:
        idol (:obj:`IDOL`): The base, with its tracker.
        num_frames (int): Frames per clip.
        num_slots (int): ``Nv``.
    """

    def __init__(self, idol: IDOL, num_frames: int, num_slots: int) -> None:
        self.idol = idol
        self.num_frames = num_frames
        self.num_slots = num_slots
        self.rows: List[Tensor] = []
        self.slots: Dict[int, int] = dict()

    @property
    def assignment(self) -> Tensor:
        """(B * T, Nf) long slots of the frames seen so far."""
        return torch.stack(self.rows)

    def __call__(self, outs: Dict, samples: List[DetDataSample],
                 start: int) -> None:
        tracker = self.idol.tracker
        keep = tracker.keep_video_results
        tracker.keep_video_results = False  # nothing per frame is kept
        try:
            for i, sample in enumerate(samples):
                t = (start + i) % self.num_frames
                if t == 0:
                    tracker.reset()
                    self.slots.clear()
                meta = IDOL.tracker_img_meta(sample)
                meta['frame_id'] = t
                tracker.track(
                    frame_id=t,
                    cls_logits=outs['cls_logits'][i],
                    bboxes=IDOL.bboxes_to_original(outs['bboxes_xyxy'][i],
                                                   meta),
                    embeds=outs['embeds'][i],
                    mask_logits=self.idol.decode_masks(outs['mask_params'][i],
                                                       outs['references'][i],
                                                       outs['mask_feats'][i]),
                    img_meta=meta)
                row = outs['queries'].new_full((outs['queries'].size(1), ),
                                               -1,
                                               dtype=torch.long)
                for query, tid in zip(tracker.last_candidates.tolist(),
                                      tracker.last_assignment.tolist()):
                    if tid < 0:
                        continue
                    if tid not in self.slots and len(
                            self.slots) < self.num_slots:
                        self.slots[tid] = len(self.slots)
                    row[query] = self.slots.get(tid, -1)
                self.rows.append(row)
        finally:
            tracker.keep_video_results = keep


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class TrainableOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """mmengine's default constructor over the trainable parameters only.

    Sub-modules none of whose parameters require a gradient (the frozen
    base IDOL of :class:`OfflineTeacher`) are skipped silently, instead of
    one warning per parameter; ``paramwise_cfg`` applies to the rest as
    usual. With an empty ``paramwise_cfg`` only the parameters with
    ``requires_grad`` are given to the optimizer.
    """

    def add_params(self,
                   params: List[dict],
                   module: nn.Module,
                   prefix: str = '',
                   is_dcn_module: Optional[Sequence] = None) -> None:
        """Add the parameter groups of ``module`` unless it is frozen."""
        if not any(p.requires_grad for p in module.parameters()):
            return
        super().add_params(params, module, prefix, is_dcn_module)

    def __call__(self, model: nn.Module):
        """Build the optimizer wrapper (always the paramwise path, which
        is the one that leaves frozen parameters out)."""
        if not self.paramwise_cfg:
            self.paramwise_cfg = dict(bypass_duplicate=False)
        return super().__call__(model)
