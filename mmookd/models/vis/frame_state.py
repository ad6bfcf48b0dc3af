# Copyright (c) mmookd authors. All rights reserved.
"""The frozen IDOL's per-frame state of clips, for the offline teacher.

A mixin of :class:`OfflineTeacher`: runs the frozen base over every frame of
B clips, a chunk of frames at a time, and keeps only the compact per-frame
state the aggregator and the head need (so it can also be cached).

Shape shorthand: ``B`` clips, ``T`` frames, ``Nf`` frame queries, ``C``
channels, ``E`` embedding channels, ``K`` classes, ``R`` reference dims,
``(h8, w8)`` the stride-8 size of the padded input.
"""
from typing import Dict, List, Optional, Tuple

import torch
from mmdet.structures import DetDataSample, TrackSampleList
from torch import Tensor

from ..task_modules.clip_targets import clip_track_index
from ..trackers.tracker_grouping import TrackerGrouping


class FrameStateMixin:
    """``frame_queries``, the average mode's ``token_assignment`` and their
    helpers; needs ``self.base`` (IDOL),
    ``self.aggregator``, ``self.video_head`` and ``self.test_cfg``."""

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
            (B, T, Nf, K) and ``bboxes_xyxy`` (B, T, Nf, 4) input pixels
            (also with the similarity loss); ``embeds`` (B, T, Nf, E) when
            the head needs them (``reference_cfg.space='embed'`` or the
            similarity loss);
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
        if self.aggregator.mode == 'average' or \
                self.video_head.sim_space is not None:  # frame picks
            keys += ['cls_logits', 'bboxes_xyxy']
        if self.video_head.needs_frame_embeds:
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

    def _tracker_step(self, num_frames: int) -> TrackerGrouping:
        """A per-chunk callback that groups the tokens with the base tracker.

        Raises:
            RuntimeError: the base has no tracker.
        """
        if self.base.tracker is None:
            raise RuntimeError(
                'OfflineTeacher: average mode without ground truth needs the '
                'base tracker (model.base.tracker) to group the tokens')
        return TrackerGrouping(self.base, num_frames, self.num_video_queries)

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
    # token assignment (average mode)
    # ------------------------------------------------------------------
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
        with ``instances_ids``: per frame, ````frame_assigner`` of the head
        (QFA, Hungarian by default) gives each GT one of the frozen IDOL's
        queries, which gets the slot of the GT's track (its index in the
        clip, :func:`clip_track_index`). Otherwise from the base's tracker
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
        picks = self.video_head.frame_picks(state, data_samples)
        for b, track_sample in enumerate(data_samples):
            index = clip_track_index(track_sample)
            for t in range(num_frames):
                gt = track_sample[t].gt_instances
                if not len(gt):
                    continue
                sigma = picks[b][t]
                slots = torch.tensor(
                    [index[i] for i in gt.instances_ids.tolist()],
                    device=assignment.device)
                keep = (sigma >= 0) & (slots < self.num_video_queries)
                assignment[b, t, sigma[keep]] = slots[keep]
        return assignment
