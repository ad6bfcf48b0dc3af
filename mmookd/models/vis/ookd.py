# Copyright (c) mmookd authors. All rights reserved.
"""OOKD: Offline-to-Online Knowledge Distillation for VIS (paper Sec. 3.3).

Eq. 5, ``L_total = L_IDOL + lambda_4 * L_KD``, with Eq. 4 over the pairs that
QFA (Eq. 2-3) gives in every student frame::

    sigma_m     = QFA(student's predictions of frame t, GT of frame t)
    sigma_m^off = QFA(teacher's predictions for frame t, GT of frame t)
    L_KD        = mean over the pairs of all frames of
                  1 - cos(f^off[sigma_m^off], f[sigma_m])

Shape shorthand: ``B`` clips, ``T`` packed frames a clip (the student's 2
plus the teacher's, see :class:`mmookd.datasets.transforms.OOKDFrameSample`),
``T_b`` the teacher's frames of clip ``b``, ``N`` student queries, ``Nv``
teacher (video) queries, ``K`` classes, ``C`` the distilled feature size,
``M`` GTs of a frame.
"""
import copy
import json
import os.path as osp
from collections import OrderedDict
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple, Union

import torch
from mmdet.registry import MODELS, TASK_UTILS
from mmdet.structures import DetDataSample, TrackDataSample, TrackSampleList
from mmdet.structures.bbox import get_box_tensor
from mmengine.config import Config, ConfigDict
from mmengine.logging import print_log
from mmengine.model import BaseModel
from mmengine.structures import InstanceData
from torch import Tensor, nn

# importing registers the parts OOKD builds
from ...datasets.transforms.ookd_sampling import (PAD, ROLE_KEY, STUDENT,
                                                  teacher_window_range)
from ...utils.compat import safe_torch_load
from ...utils.teacher_cache import TeacherCache, config_dump, file_sha256
from ..losses import cosine_kd_loss  # noqa: F401
from ..task_modules import qfa_assigner  # noqa: F401
from ..task_modules.teacher_qfa import (TEACHER_BOXES, TEACHER_MATCHES,
                                        check_pick_filter, filter_picks,
                                        teacher_frame_picks)
from . import idol  # noqa: F401

DISTILL_FEATURES = ('embeds', 'queries')


class ClipView(NamedTuple):
    """Where the student's and the teacher's frames lie in a packed clip.

    ``student``: the 2 entries of the student's frames; ``teacher``: the
    entries the teacher sees (distinct frames, in order).
    """
    student: List[int]
    teacher: List[int]


class StudentFrame(NamedTuple):
    """One frame the student trained on, with what L_KD needs of it.

    ``clip``: its clip index ``b``; ``sample``: its ``DetDataSample``;
    ``feats`` (N, C): the student's distilled features; ``preds``:
    ``InstanceData(cls_logits (N, K), bboxes (N, 4) xyxy input pixels)``.
    """
    clip: int
    sample: DetDataSample
    feats: Tensor
    preds: InstanceData


def frame_gt(sample: DetDataSample) -> InstanceData:
    """``labels`` (M,) and xyxy ``bboxes`` (M, 4) of a frame's GT."""
    gt = sample.gt_instances
    return InstanceData(labels=gt.labels, bboxes=get_box_tensor(gt.bboxes))


def resolve_teacher_cfg(teacher: Union[str, dict]) -> dict:
    """The teacher's model config.

    Args:
        teacher (str | dict): A model config, or ``dict(cfg_path=FILE,
            **overrides)`` / ``FILE``: the ``model`` of that config file
            (a path relative to the working directory or to the mmookd
            repository), updated recursively with ``overrides`` (a dict
            with ``_delete_=True`` replaces instead of updating).

    Returns:
        dict: A plain model config.
    """
    if isinstance(teacher, str):
        teacher = dict(cfg_path=teacher)
    teacher = copy.deepcopy(
        teacher.to_dict() if hasattr(teacher, 'to_dict') else dict(teacher))
    cfg_path = teacher.pop('cfg_path', None)
    if cfg_path is None:
        return teacher
    path = cfg_path
    if not osp.isfile(path):
        repo = osp.dirname(osp.dirname(osp.dirname(osp.dirname(__file__))))
        path = osp.join(repo, cfg_path)
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'OOKD: model.teacher.cfg_path {cfg_path} does not exist')
    base = Config.fromfile(path).model.to_dict()

    def merge(into: dict, update: dict) -> dict:
        for key, value in update.items():
            if isinstance(value, dict) and value.get('_delete_', False):
                into[key] = {k: v for k, v in value.items() if k != '_delete_'}
            elif isinstance(value, dict) and isinstance(into.get(key), dict):
                merge(into[key], value)
            else:
                into[key] = value
        return into

    return merge(base, teacher)


def teacher_has_base(teacher: Union[str, dict]) -> bool:
    """Whether a teacher (a model config, ``dict(cfg_path=...)`` or a
    config file, as :func:`resolve_teacher_cfg` takes) sits on a frozen
    stage-1 IDOL, set by ``base_checkpoint`` (``OfflineTeacher``); a
    teacher of its own (``Mask2FormerVISTeacher``) has none."""
    return 'base_checkpoint' in resolve_teacher_cfg(teacher)


def annotation_video_ids(ann_file: str) -> List[int]:
    """The video ids of a YouTube-VIS style annotation file."""
    with open(ann_file) as f:
        return [int(v['id']) for v in json.load(f).get('videos', [])]


def load_weights(filename: str, what: str) -> dict:
    """The state dict of a checkpoint file, read with ``weights_only=True``.

    Args:
        filename (str): A plain state dict or an mmengine checkpoint with
            ``state_dict``.
        what (str): The config key that named the file (for messages).

    Returns:
        dict: The state dict, ``module.`` prefixes removed, with its
        ``_metadata`` (the per-module records some models check).
    """
    if not osp.isfile(filename):
        raise FileNotFoundError(f'OOKD: {what} {filename} does not exist')
    ckpt = safe_torch_load(filename, map_location='cpu', weights_only=True)
    state = ckpt.get('state_dict', ckpt)
    metadata = getattr(state, '_metadata', None)
    plain = OrderedDict(
        (k[len('module.'):] if k.startswith('module.') else k, v)
        for k, v in state.items())
    if metadata is not None:
        plain._metadata = OrderedDict(
            (k[len('module.'):] if k.startswith('module.') else k, v)
            for k, v in metadata.items())
    return plain


def load_teacher_checkpoint(teacher: nn.Module, filename: str) -> None:
    """Load the teacher's weights (``weights_only=True``, never more).

    Args:
        teacher (nn.Module): The teacher.
        filename (str): A checkpoint of the teacher (stage 2).

    Raises:
        RuntimeError: the file lacks some of the teacher's weights.
    """
    state = load_weights(filename, 'model.teacher_checkpoint')
    result = teacher.load_state_dict(state, strict=False)
    if result.missing_keys:
        raise RuntimeError(
            f'OOKD: teacher_checkpoint {filename} lacks '
            f'{len(result.missing_keys)} weights of the teacher, e.g. '
            f'{result.missing_keys[:5]}')
    if result.unexpected_keys:
        print_log(
            f'OOKD: teacher_checkpoint {filename} has '
            f'{len(result.unexpected_keys)} keys the teacher does not use, '
            f'e.g. {result.unexpected_keys[:5]}',
            logger='current',
            level=30)


def student_state(state: dict) -> dict:
    """An IDOL state dict from an IDOL (``detector.*``) or an OOKD
    (``student.*``) checkpoint."""
    if any(k.startswith('student.') for k in state):
        return OrderedDict((k[len('student.'):], v) for k, v in state.items()
                           if k.startswith('student.'))
    return state


def _drop_teacher_state(module: nn.Module, state_dict: dict, prefix: str,
                        local_metadata: dict) -> None:
    """state_dict hook: the teacher is never saved with the student."""
    for key in [k for k in state_dict if k.startswith(prefix + 'teacher.')]:
        del state_dict[key]


def _fill_load_state(module: 'OOKD', state_dict: dict, prefix: str, *args):
    """load_state_dict pre-hook.

    - The teacher always keeps the weights of ``teacher_checkpoint``: its
      keys in the file (if any) are replaced by its current tensors, so they
      are neither loaded nor reported missing.
    - A checkpoint of a plain IDOL (``detector.*`` keys, no ``student.*``)
      is loaded into the student (stage 3 starts from stage 1's idol.pth
      via ``load_from``).
    """
    keys = [k for k in state_dict if k.startswith(prefix)]
    if not any(k.startswith(prefix + 'student.') for k in keys) and \
            any(k.startswith(prefix + 'detector.') for k in keys):
        for key in keys:
            state_dict[prefix + 'student.' +
                       key[len(prefix):]] = state_dict.pop(key)
    for key in [k for k in state_dict if k.startswith(prefix + 'teacher.')]:
        del state_dict[key]
    if module.teacher is not None:
        for key, value in module.teacher.state_dict().items():
            state_dict[prefix + 'teacher.' + key] = value


@MODELS.register_module()
class OOKD(BaseModel):
    """The OOKD distiller: an IDOL student and a frozen offline teacher.

    Training (:meth:`loss`): the student's own IDOL losses on its key and
    reference frames (IDOL's loss path and keys, unchanged) plus
    ``loss_kd = kd_weight * L_KD``. L_KD is computed on both student frames:
    in each, QFA matches the student's queries and the teacher's video
    queries to the frame's GT, and the cosine loss runs over the pairs
    where both sides have a query (and, with a cache, the GT has an entry),
    averaged over the pairs of all frames of the batch.

    The teacher is frozen (``requires_grad=False``), always in eval mode,
    run under ``no_grad``, built and loaded from ``teacher_checkpoint`` at
    build time, and left out of the model's state dict (so checkpoints of
    OOKD hold the student only; resuming rebuilds the teacher from the
    config). With ``teacher_cache`` the teacher is not built at all.

    Inference (:meth:`predict`): the student alone (``IDOL.predict``).

    Args:
        student (dict): IDOL config.
        teacher (dict | str): OfflineTeacher config, or ``dict(cfg_path=
            FILE)`` naming a config file whose ``model`` is the teacher.
        teacher_checkpoint (str, optional): The teacher's weights (stage 2),
            loaded at build time.
        student_checkpoint (str, optional): Weights the student starts from
            (stage 1's IDOL, or an OOKD checkpoint), loaded by
            :meth:`init_weights` (so ``--resume`` still wins). ``load_from``
            with an IDOL checkpoint does the same.
        assigner (dict): QFA assigner. Defaults to ``QFAAssigner`` with
            ``match='argmin'`` (Eq. 3).
        loss_kd (dict): Distillation loss. Defaults to ``CosineKDLoss``.
        kd_weight (float): ``lambda_4`` of Eq. 5. Defaults to 1.0.
        distill_feature (str): ``'embeds'`` (the contrastive embeddings
            ``f`` and ``f^off``, as the paper) or ``'queries'`` (the
            decoder outputs). Defaults to ``'embeds'``.
        teacher_match (str): How the teacher's QFA gives GTs video queries:
            ``'frame'`` (Eq. 3 per frame) or ``'track'`` (one query per GT
            track, video-level matching); see
            :mod:`mmookd.models.task_modules.teacher_qfa`. Defaults to
            ``'frame'``.
        teacher_boxes (str): The teacher's per-frame boxes for QFA:
            ``'mask'`` (the box of its binarised mask; an empty mask is no
            box) or ``'reference'``. Defaults to ``'mask'``.
        teacher_pick_filter (dict, optional): ``dict(min_iou=0.5,
            right_class=True)`` keeps a teacher pick only where the picked
            query's box (``teacher_boxes``) overlaps its GT by ``min_iou``
            and its top class is the GT's
            (:func:`~mmookd.models.task_modules.filter_picks`); other
            frame-GTs are not distilled. None (default): every pick, as
            the paper.
        teacher_window (int, optional): The teacher sees only the frames
            of this many consecutive frames around the student's (see
            ``teacher_window_range``); None (default): every frame of the
            clip (the whole video, as the paper, up to the sampler's bound).
        teacher_cache (str | dict, optional): A cache of the teacher's
            knowledge (``tools/ookd/cache_teacher.py``), or ``dict(file=...,
            ann_file=..., max_frames=..., frames_pipeline=...)`` to also
            check the annotation file it was made from (its hash, and that
            every video of it is in the cache), the teacher's frame bound
            and the un-augmented pipeline. The cache's teacher checkpoint,
            teacher and QFA configs, base IDOL and ``teacher_window`` are
            always checked. None (default): run the teacher live.
        data_preprocessor (dict, optional): Defaults to the student's.
        init_cfg (dict, optional): Unused (the student initialises itself;
            the teacher keeps its checkpoint).
    """

    def __init__(self,
                 student: dict,
                 teacher: Union[dict, str],
                 teacher_checkpoint: Optional[str] = None,
                 student_checkpoint: Optional[str] = None,
                 assigner: dict = dict(type='QFAAssigner', match='argmin'),
                 loss_kd: dict = dict(type='CosineKDLoss', loss_weight=1.0),
                 kd_weight: float = 1.0,
                 distill_feature: str = 'embeds',
                 teacher_match: str = 'frame',
                 teacher_boxes: str = 'mask',
                 teacher_pick_filter: Optional[dict] = None,
                 teacher_window: Optional[int] = None,
                 teacher_cache: Optional[Union[str, dict]] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if data_preprocessor is None:
            data_preprocessor = copy.deepcopy(student.get('data_preprocessor'))
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if distill_feature not in DISTILL_FEATURES:
            raise ValueError(f'OOKD: distill_feature must be one of '
                             f'{DISTILL_FEATURES}, got {distill_feature!r}')
        self.distill_feature = distill_feature
        if teacher_match not in TEACHER_MATCHES:
            raise ValueError(f'OOKD: teacher_match must be one of '
                             f'{TEACHER_MATCHES}, got {teacher_match!r}')
        if teacher_boxes not in TEACHER_BOXES:
            raise ValueError(f'OOKD: teacher_boxes must be one of '
                             f'{TEACHER_BOXES}, got {teacher_boxes!r}')
        self.teacher_match = teacher_match
        self.teacher_boxes = teacher_boxes
        self.teacher_pick_filter = check_pick_filter(teacher_pick_filter)
        self.kd_weight = kd_weight
        self.teacher_window = teacher_window
        self.teacher_checkpoint = teacher_checkpoint
        self.student_checkpoint = student_checkpoint
        # mmdet's detectors write into their config: build from copies
        self.student = MODELS.build(copy.deepcopy(student))
        self.assigner_cfg = copy.deepcopy(assigner)
        self.assigner = TASK_UTILS.build(copy.deepcopy(assigner))
        self.loss_kd = MODELS.build(copy.deepcopy(loss_kd))
        self.teacher_cfg = resolve_teacher_cfg(teacher)

        self.teacher = None
        self.cache = None
        if teacher_cache is None:
            self.teacher = self.build_teacher()
        else:
            self.cache = self.load_cache(teacher_cache)
        self.register_state_dict_post_hook(_drop_teacher_state)
        self.register_load_state_dict_pre_hook(_fill_load_state)

    # ------------------------------------------------------------------
    # build
    # ------------------------------------------------------------------
    @property
    def student_feature_dim(self) -> int:
        """int: C of the student's distilled feature."""
        head = self.student.head
        return head.embed_channels if self.distill_feature == 'embeds' \
            else head.embed_dims

    def check_feature_dim(self, teacher_dim: int, what: str) -> None:
        """Raise if the teacher's feature size differs from the student's."""
        if teacher_dim != self.student_feature_dim:
            raise ValueError(
                f'OOKD: the {what} gives {self.distill_feature} of size '
                f'{teacher_dim} but the student\'s {self.distill_feature} '
                f'have size {self.student_feature_dim} '
                f'(distill_feature={self.distill_feature!r}); L_KD needs '
                'both sides in one feature space')

    def build_teacher(self) -> nn.Module:
        """Build the teacher, load ``teacher_checkpoint`` and freeze it."""
        # a ConfigDict: mmdet's models read their sub-configs as attributes
        teacher = MODELS.build(ConfigDict(copy.deepcopy(self.teacher_cfg)))
        self.check_feature_dim(
            int(teacher.feature_dims[self.distill_feature]),
            f'teacher ({self.teacher_cfg.get("type")})')
        if self.teacher_checkpoint is not None:
            load_teacher_checkpoint(teacher, self.teacher_checkpoint)
        else:
            print_log(
                'OOKD: no teacher_checkpoint, the teacher keeps the weights '
                'it was built with',
                logger='current')
        teacher.eval()
        for param in teacher.parameters():
            param.requires_grad_(False)
        return teacher

    def cache_expectations(self) -> dict:
        """The ``meta`` values a teacher cache must hold for this model."""
        if self.teacher_checkpoint is not None and not osp.isfile(
                self.teacher_checkpoint):
            raise FileNotFoundError(
                f'OOKD: model.teacher_checkpoint {self.teacher_checkpoint} '
                'does not exist (its SHA-256 identifies the teacher of a '
                'teacher cache)')
        base = self.teacher_cfg.get('base_checkpoint')
        if base is not None and not osp.isfile(base):
            raise FileNotFoundError(
                f'OOKD: model.teacher.base_checkpoint {base} does not exist '
                '(its SHA-256 identifies the stage-1 IDOL of a teacher '
                'cache)')
        return dict(
            teacher_checkpoint_sha256=file_sha256(self.teacher_checkpoint),
            teacher_config_sha256=config_dump(self.teacher_cfg)[1],
            assigner_config_sha256=config_dump(self.teacher_qfa_cfg)[1],
            base_checkpoint_sha256=file_sha256(base),
            teacher_window=self.teacher_window,
            feature=self.distill_feature)

    @property
    def teacher_qfa_cfg(self) -> dict:
        """Everything that decides the teacher's picks: the QFA assigner,
        ``teacher_match``, ``teacher_boxes`` and ``teacher_pick_filter``
        (hashed into the cache; no filter adds nothing, so the caches made
        before the option existed stay valid)."""
        cfg = dict(
            self.assigner_cfg,
            teacher_match=self.teacher_match,
            teacher_boxes=self.teacher_boxes)
        if self.teacher_pick_filter is not None:
            cfg['teacher_pick_filter'] = self.teacher_pick_filter
        return cfg

    def load_cache(self, teacher_cache: Union[str, dict]) -> TeacherCache:
        """Load the teacher cache and check that it belongs to this model."""
        if isinstance(teacher_cache, str):
            teacher_cache = dict(file=teacher_cache)
        unknown = set(teacher_cache) - {
            'file', 'ann_file', 'max_frames', 'frames_pipeline'
        }
        if unknown:
            raise KeyError(f'OOKD: unknown model.teacher_cache keys '
                           f'{sorted(unknown)} (file, ann_file, max_frames, '
                           'frames_pipeline)')
        expected = self.cache_expectations()
        if teacher_cache.get('ann_file') is not None:
            expected['ann_file_sha256'] = file_sha256(
                teacher_cache['ann_file'])
        if 'max_frames' in teacher_cache:
            expected['max_frames'] = teacher_cache['max_frames'] or None
        if teacher_cache.get('frames_pipeline') is not None:
            expected['frames_pipeline_sha256'] = config_dump(
                teacher_cache['frames_pipeline'])[1]
        cache = TeacherCache.load(teacher_cache['file'], expected)
        if teacher_cache.get('ann_file') is not None:
            cache.check_videos(
                annotation_video_ids(teacher_cache['ann_file']),
                f'the annotation file {teacher_cache["ann_file"]}')
        self.check_feature_dim(cache.feature_dim,
                               f'teacher cache {teacher_cache["file"]}')
        if self.assigner.match != 'argmin':
            print_log(
                f'OOKD: QFA match={self.assigner.match!r} depends on the set '
                'of GTs of a frame, which augmentation changes: the cache '
                'holds the picks on the un-augmented frames (see '
                'docs/ookd.md)',
                logger='current',
                level=30)
        return cache

    def init_weights(self) -> None:
        """Initialise the student (from ``student_checkpoint`` if set); the
        teacher keeps the weights of its checkpoint."""
        self.student.init_weights()
        if self.student_checkpoint is not None:
            state = student_state(
                load_weights(self.student_checkpoint,
                             'model.student_checkpoint'))
            try:
                self.student.load_state_dict(state, strict=True)
            except RuntimeError as err:
                raise RuntimeError(
                    'OOKD: model.student_checkpoint '
                    f'{self.student_checkpoint} does not fit model.student: '
                    f'{err}') from err
            print_log(
                f'OOKD: student initialised from {self.student_checkpoint}',
                logger='current')

    def train(self, mode: bool = True) -> 'OOKD':
        """Set the student's mode; the teacher stays in eval mode."""
        super().train(mode)
        if self.teacher is not None:
            self.teacher.eval()
        return self

    def forward(self,
                inputs: Tensor,
                data_samples: Optional[TrackSampleList] = None,
                mode: str = 'tensor',
                **kwargs):
        """``'loss'``: :meth:`loss`; ``'predict'``: :meth:`predict`;
        ``'tensor'``: :meth:`_forward`."""
        if mode == 'loss':
            return self.loss(inputs, data_samples, **kwargs)
        if mode == 'predict':
            return self.predict(inputs, data_samples, **kwargs)
        if mode == 'tensor':
            return self._forward(inputs, data_samples, **kwargs)
        raise ValueError(f'OOKD: invalid mode {mode!r}, expected "loss", '
                         '"predict" or "tensor"')

    # ------------------------------------------------------------------
    # training
    # ------------------------------------------------------------------
    def loss(self, inputs: Tensor, data_samples: TrackSampleList,
             **kwargs) -> dict:
        """Eq. 5: the student's L_IDOL and ``loss_kd = lambda_4 * L_KD``.

        Args:
            inputs (Tensor): (B, T, 3, H, W) packed clips.
            data_samples (list[:obj:`TrackDataSample`]): B clips; frames with
                ``gt_instances`` (``bboxes``, ``labels``, ``masks``,
                ``instances_ids``) and, for clips of more than 2 frames,
                ``ookd_frame_role`` metainfo.

        Returns:
            dict: IDOL's losses (``loss_cls``, ..., ``d{i}.loss_*``,
            ``loss_embed``, ``loss_embed_aux``) and ``loss_kd``.
        """
        views = [
            self.clip_view(clip, b) for b, clip in enumerate(data_samples)
        ]
        losses, frames = self.student_loss(inputs, data_samples, views)
        teacher_feats, found = self.teacher_knowledge(inputs, data_samples,
                                                      views, frames)
        student_feats, matched = self.student_knowledge(frames)
        loss_kd = self.loss_kd(student_feats, teacher_feats.to(student_feats),
                               matched & found.to(matched.device))
        losses['loss_kd'] = self.kd_weight * loss_kd
        return losses

    def clip_view(self, clip: TrackDataSample, index: int) -> ClipView:
        """Split a packed clip into the student's and the teacher's frames.

        Args:
            clip (:obj:`TrackDataSample`): ``T`` frames; with
                ``ookd_frame_role`` metainfo unless ``T == 2``.
            index (int): Its place in the batch (for messages).

        Returns:
            ClipView: the student's 2 entries and the teacher's entries
            (distinct frames in the window, in order).
        """
        roles = [clip[t].metainfo.get(ROLE_KEY) for t in range(len(clip))]
        if all(role is None for role in roles):
            if len(clip) != 2:
                raise ValueError(
                    f'OOKD: clip {index} (video '
                    f'{clip[0].metainfo.get("video_id")}) has {len(clip)} '
                    f'frames and no "{ROLE_KEY}" metainfo: sample it with '
                    'OOKDFrameSample and add meta_keys=("ookd_frame_role", '
                    ') to PackTrackInputs')
            roles = [STUDENT, STUDENT]
        student = [t for t, role in enumerate(roles) if role == STUDENT]
        if len(student) != 2:
            raise ValueError(
                f'OOKD: clip {index} (video {clip[0].metainfo.get("video_id")}'
                f') has {len(student)} student frames, expected 2')
        frame_ids = [
            clip[t].metainfo.get('frame_id', t) for t in range(len(clip))
        ]
        lo, hi = 0, max(frame_ids)
        if self.teacher_window is not None:
            length = clip[0].metainfo.get('ori_video_length') or hi + 1
            lo, hi = teacher_window_range([frame_ids[t] for t in student],
                                          self.teacher_window, length)
        teacher, seen = [], set()
        for t, (role, frame_id) in enumerate(zip(roles, frame_ids)):
            if role != PAD and lo <= frame_id <= hi and frame_id not in seen:
                seen.add(frame_id)
                teacher.append(t)
        return ClipView(student, teacher)

    def student_loss(self, inputs: Tensor, data_samples: TrackSampleList,
                     views: List[ClipView]) -> Tuple[dict, List[StudentFrame]]:
        """L_IDOL of the student's pairs, through IDOL's own loss path.

        The same steps as :meth:`IDOL.loss` (backbone once on the key and
        reference frames, transformer and heads once on each, then
        ``IDOLHead.loss``); the per-frame outputs are kept for L_KD.

        Returns:
            tuple: IDOL's loss dict and the ``2B`` student frames (the key
            frames, then the reference frames).
        """
        net = self.student
        batch = torch.arange(inputs.size(0), device=inputs.device)
        entries = torch.tensor([v.student for v in views],
                               device=inputs.device)
        clips = [
            TrackDataSample(video_data_samples=[clip[t] for t in v.student])
            for clip, v in zip(data_samples, views)
        ]
        key_inds, ref_inds = net.split_key_ref(clips)
        key_imgs = inputs[batch, entries[batch, key_inds]]
        ref_imgs = inputs[batch, entries[batch, ref_inds]]
        key_samples = [c[k] for c, k in zip(clips, key_inds)]
        ref_samples = [c[r] for c, r in zip(clips, ref_inds)]
        feats = net.detector.extract_feat(torch.cat([key_imgs, ref_imgs]))
        num = inputs.size(0)
        key_outs = net.detector.forward_frame_queries(
            tuple(f[:num] for f in feats), key_samples)
        ref_outs = net.detector.forward_frame_queries(
            tuple(f[num:] for f in feats), ref_samples)
        losses = net.head.loss(key_outs, key_samples, ref_outs, ref_samples)
        frames = [
            StudentFrame(
                b, sample, outs[self.distill_feature][b],
                InstanceData(
                    cls_logits=outs['cls_logits'][b],
                    bboxes=outs['bboxes_xyxy'][b]))
            for outs, samples in ((key_outs, key_samples), (ref_outs,
                                                            ref_samples))
            for b, sample in enumerate(samples)
        ]
        return losses, frames

    def student_knowledge(
            self, frames: Sequence[StudentFrame]) -> Tuple[Tensor, Tensor]:
        """``f[sigma_m]`` of every GT of every student frame.

        Returns:
            tuple[Tensor, Tensor]: (sum M, C) features and (sum M,) bool,
            True where QFA gave the GT a student query.
        """
        feats, matched = [], []
        for frame in frames:
            sigma = self.assigner.assign(frame.preds, frame_gt(frame.sample))
            feats.append(frame.feats[sigma.clamp(min=0)])
            matched.append(sigma >= 0)
        return torch.cat(feats), torch.cat(matched)

    # ------------------------------------------------------------------
    # the teacher's side
    # ------------------------------------------------------------------
    @torch.no_grad()
    def teacher_knowledge(
            self, inputs: Tensor, data_samples: TrackSampleList,
            views: List[ClipView],
            frames: Sequence[StudentFrame]) -> Tuple[Tensor, Tensor]:
        """``f^off[sigma_m^off]`` of every GT of every student frame.

        Live: the teacher runs on each clip's teacher frames and QFA picks
        its query for each GT of the frame. Cached: the entry of the GT's
        ``(video, frame, instance)`` (a pasted instance: its source's).

        Returns:
            tuple[Tensor, Tensor]: (sum M, C) features (zeros where not
            found) and (sum M,) bool, True where the teacher has one.
        """
        feats, found = [], []
        if self.cache is not None:
            for frame in frames:
                meta = frame.sample.metainfo
                feat, hit = self.cache.lookup(
                    meta['video_id'], meta['frame_id'],
                    frame.sample.gt_instances.instances_ids.tolist(),
                    meta.get('paste_sources'))
                feats.append(feat)
                found.append(hit)
        else:
            outs = self.run_teacher(inputs, data_samples,
                                    [v.teacher for v in views])
            picks = [
                self.teacher_picks(
                    out,
                    TrackDataSample(video_data_samples=[
                        data_samples[b][t] for t in views[b].teacher
                    ])) for b, out in enumerate(outs)
            ]
            for frame in frames:
                out = outs[frame.clip]
                t = out['frame_ids'].index(frame.sample.metainfo['frame_id'])
                teacher_gt = data_samples[frame.clip][views[frame.clip].
                                                      teacher[t]].gt_instances
                by_id = dict(
                    zip(teacher_gt.instances_ids.tolist(),
                        picks[frame.clip][t].tolist()))
                sigma = torch.tensor([
                    by_id.get(i, -1)
                    for i in frame.sample.gt_instances.instances_ids.tolist()
                ],
                                     dtype=torch.long,
                                     device=out['feats'].device)
                feats.append(out['feats'][sigma.clamp(min=0)])
                found.append(sigma >= 0)
        return torch.cat(feats), torch.cat(found)

    @torch.no_grad()
    def run_teacher(self, inputs: Tensor, data_samples: TrackSampleList,
                    entries: List[List[int]]) -> List[Dict]:
        """Run the frozen teacher on the given frames of every clip.

        Clips with the same number of teacher frames go through
        ``teacher.extract_offline`` together.

        Args:
            inputs (Tensor): (B, T, 3, H, W).
            data_samples (list[:obj:`TrackDataSample`]): B clips.
            entries (list[list[int]]): The teacher's entries of each clip.

        Returns:
            list[dict]: Per clip ``feats`` (Nv, C) the distilled feature,
            ``cls_logits`` (Nv, K), ``bboxes`` (T_b, Nv, 4) reference boxes
            and ``mask_bboxes`` (T_b, Nv, 4) mask boxes, xyxy input pixels,
            ``mask_valid`` (T_b, Nv) bool, ``valid`` (Nv,) bool or None
            (the teacher's ``valid``: average-mode slots that received no
            token are False), ``frame_ids`` (list of T_b ints) and, with
            ``teacher_match='track'``, ``mask_logits`` (T_b, Nv, h4, w4).
        """
        if self.teacher is None:
            raise RuntimeError('OOKD: the teacher is not built (teacher_cache'
                               ' is set)')
        outs: List[Optional[Dict]] = [None] * len(data_samples)
        groups: Dict[int, List[int]] = {}
        for b, ent in enumerate(entries):
            groups.setdefault(len(ent), []).append(b)
        for clip_inds in groups.values():
            clips = [
                TrackDataSample(video_data_samples=[
                    data_samples[b][t] for t in entries[b]
                ]) for b in clip_inds
            ]
            imgs = torch.stack([inputs[b, entries[b]] for b in clip_inds])
            result = self.teacher.extract_offline(
                imgs, clips, with_masks=self.teacher_match == 'track')
            for i, b in enumerate(clip_inds):
                outs[b] = self.clip_knowledge(result, i, clips[i])
        return outs

    def clip_knowledge(self, result: Dict, index: int,
                       clip: TrackDataSample) -> Dict:
        """Clip ``index`` of ``teacher.extract_offline``'s batch output, as
        :meth:`run_teacher` returns it (see there)."""
        valid = result.get('valid')
        out = dict(
            feats=result[self.distill_feature][index],
            cls_logits=result['cls_logits'][index],
            bboxes=result['bboxes'][index],
            mask_bboxes=result['mask_bboxes'][index],
            mask_valid=result['mask_valid'][index],
            valid=None if valid is None else valid[index],
            frame_ids=[
                clip[t].metainfo.get('frame_id', t) for t in range(len(clip))
            ])
        if 'mask_logits' in result:
            out['mask_logits'] = result['mask_logits'][index]
        return out

    def teacher_picks(self, out: Dict,
                      clip: TrackDataSample) -> List[Tensor]:
        """The teacher's QFA, ``sigma^off``, in every frame of its clip.

        Args:
            out (dict): One clip of :meth:`run_teacher`.
            clip (:obj:`TrackDataSample`): The teacher's frames, with GT.

        Returns:
            list[Tensor]: per teacher frame, (M_t,) long, the teacher query
            of each GT of the frame or -1 (see
            :func:`teacher_frame_picks`).
        """
        head = getattr(self.teacher, 'video_head', None)
        picks = teacher_frame_picks(
            out,
            clip,
            self.assigner,
            match=self.teacher_match,
            boxes=self.teacher_boxes,
            track_assigner=None if head is None else head.assigner,
            mask_targets=None if head is None else head.idol.get_mask_targets)
        if self.teacher_pick_filter is not None:
            picks = filter_picks(picks, out, clip, self.teacher_boxes,
                                 **self.teacher_pick_filter)
        return picks

    # ------------------------------------------------------------------
    # inference
    # ------------------------------------------------------------------
    def predict(self, inputs: Tensor, data_samples: TrackSampleList,
                **kwargs) -> TrackSampleList:
        """The student's online inference (:meth:`IDOL.predict`)."""
        return self.student.predict(inputs, data_samples, **kwargs)

    def _forward(self,
                 inputs: Tensor,
                 data_samples: Optional[TrackSampleList] = None,
                 **kwargs):
        """Tensor mode: the student's per-frame outputs."""
        return self.student._forward(inputs, data_samples, **kwargs)
