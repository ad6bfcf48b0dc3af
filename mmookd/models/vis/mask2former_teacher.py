# Copyright (c) mmookd authors. All rights reserved.
"""mmdet's Mask2Former-VIS as OOKD's offline teacher (an mmookd addition).

The paper's teacher is the frozen IDOL plus a VITA-style aggregator. On
SynthVIS that teacher is weaker than its own student, while mmdet's
Mask2Former-VIS, an offline model trained end to end at the same budget,
is the strongest model of the study (docs/study.md, "Peers"). Its video
queries are what OOKD distils: one feature per instance for the whole
video. :class:`Mask2FormerVISTeacher` is ``Mask2FormerVideo`` (the same
weights, so a Mask2Former-VIS checkpoint loads as it is) with the teacher
interface that :class:`~mmookd.models.vis.OOKD` and
``tools/ookd/cache_teacher.py`` call: :attr:`feature_dims` and
:meth:`extract_offline`.

The distilled feature lives in Mask2Former's space, not in the student's:
the cosine loss then asks the student to give the frames of an instance
the direction of that instance's video query, as with the paper's teacher.
"""
from typing import Dict, List

import torch
import torch.nn.functional as F
from mmdet.models.vis import Mask2FormerVideo
from mmdet.registry import MODELS
from mmdet.structures import TrackSampleList
from torch import Tensor

from ..dense_heads.offline_teacher_head import mask_boxes


@MODELS.register_module()
class Mask2FormerVISTeacher(Mask2FormerVideo):
    """``Mask2FormerVideo`` that also gives OOKD its offline knowledge.

    Features of the last decoder layer (``Q`` video queries):

    - ``queries``: the decoder output after its final norm, (Q, C);
    - ``embeds``: the mask embedding of each query (``mask_embed``, the
      kernel its masks are the dot product of), (Q, C).

    Class logits: Mask2Former classifies with a softmax over ``K`` classes
    and "no object"; OOKD's QFA cost reads sigmoid logits, so the teacher
    gives ``logit(p_k)`` of the softmax probabilities ``p_k`` of the K
    classes (the sigmoid of it is ``p_k`` again).
    """

    @property
    def feature_dims(self) -> Dict[str, int]:
        """Channels of ``queries`` and ``embeds``."""
        head = self.track_head
        norm = head.transformer_decoder.post_norm
        return dict(
            queries=int(norm.normalized_shape[0]),
            embeds=int(head.mask_embed[-1].out_features))

    @property
    def num_video_queries(self) -> int:
        """``Q``: the video queries."""
        return int(self.track_head.num_queries)

    def video_queries(self, frames: Tensor) -> Dict[str, Tensor]:
        """The last decoder layer on the frames of one video.

        Args:
            frames (Tensor): (T, 3, H, W) preprocessed, padded frames.

        Returns:
            dict: ``queries`` (Q, C), ``embeds`` (Q, C), ``cls_scores`` (Q,
            K + 1) logits, ``mask_logits`` (T, Q, H/4, W/4).
        """
        head = self.track_head
        seen: Dict[str, Tensor] = {}

        def keep(name):

            def hook(module, args, output):
                seen[name] = output  # the last call is the last layer

            return hook

        hooks = [
            head.transformer_decoder.post_norm.register_forward_hook(
                keep('queries')),
            head.mask_embed.register_forward_hook(keep('embeds'))
        ]
        try:
            cls_list, mask_list = head(self.backbone(frames), None)
        finally:
            for h in hooks:
                h.remove()
        return dict(
            queries=seen['queries'][0],
            embeds=seen['embeds'][0],
            cls_scores=cls_list[-1][0],
            mask_logits=mask_list[-1][0].transpose(0, 1))

    def extract_offline(self,
                        inputs: Tensor,
                        data_samples: TrackSampleList,
                        with_masks: bool = False) -> Dict:
        """Offline knowledge of B clips, without gradients.

        Each clip is one Mask2Former-VIS pass over its frames (the model
        sees a whole clip at once, as in its inference).

        Args:
            inputs (Tensor): (B, T, 3, H, W) preprocessed, padded frames.
            data_samples (list[:obj:`TrackDataSample`]): B clips (frame
                metainfo ``img_shape``).
            with_masks (bool): Also return every mask logit.

        Returns:
            dict: ``queries`` (B, Q, C), ``embeds`` (B, Q, C),
            ``cls_logits`` (B, Q, K) sigmoid logits of the softmax class
            probabilities, ``bboxes`` and ``mask_bboxes`` (B, T, Q, 4) the
            boxes of the binarised masks (xyxy, input pixels of each
            frame), ``mask_valid`` (B, T, Q) bool (False: empty mask),
            ``valid`` None (every query is a video query); with
            ``with_masks``, ``mask_logits`` (B, T, Q, H/4, W/4).
        """
        if inputs.dim() != 5:
            raise ValueError('Mask2FormerVISTeacher: inputs must be (B, T, '
                             f'3, H, W), got {tuple(inputs.shape)}')
        if self.training:
            raise RuntimeError('Mask2FormerVISTeacher: extract_offline runs '
                               'in eval mode (the head folds a whole clip '
                               'into one video only then)')
        outs: List[Dict[str, Tensor]] = []
        with torch.no_grad():
            for frames, clip in zip(inputs, data_samples):
                out = self.video_queries(frames)
                probs = F.softmax(out['cls_scores'], -1)[:, :-1]
                out['cls_logits'] = torch.logit(probs, eps=1e-6)
                boxes, valid = [], []
                for t, logits in enumerate(out['mask_logits']):
                    img_h, img_w = clip[t].metainfo['img_shape'][:2]
                    box, ok = mask_boxes(logits, (int(img_h), int(img_w)))
                    boxes.append(box)
                    valid.append(ok)
                out['mask_bboxes'] = torch.stack(boxes)
                out['mask_valid'] = torch.stack(valid)
                outs.append(out)
        result = dict(
            queries=torch.stack([o['queries'] for o in outs]),
            embeds=torch.stack([o['embeds'] for o in outs]),
            cls_logits=torch.stack([o['cls_logits'] for o in outs]),
            mask_bboxes=torch.stack([o['mask_bboxes'] for o in outs]),
            mask_valid=torch.stack([o['mask_valid'] for o in outs]),
            valid=None)
        result['bboxes'] = result['mask_bboxes']
        if with_masks:
            result['mask_logits'] = torch.stack(
                [o['mask_logits'] for o in outs])
        return result
