# Copyright (c) mmookd authors. All rights reserved.
"""The frame-level detector of IDOL: Deformable DETR + IDOLHead.

Shape shorthand: ``B`` images, ``C`` channels (256), ``L`` decoder layers,
``N`` queries; see :class:`mmookd.models.dense_heads.IDOLHead` for the
outputs of :meth:`IDOLDeformableDETR.forward_frame_queries`.
"""
from typing import Dict, List, Tuple

from mmdet.models.detectors import DeformableDETR
from mmdet.registry import MODELS
from mmdet.structures import OptSampleList, SampleList
from torch import Tensor, nn


@MODELS.register_module()
class IDOLDeformableDETR(DeformableDETR):
    """Deformable DETR (box refinement, one stage) that feeds IDOL's heads.

    mmdet's ``pre_transformer -> forward_encoder -> pre_decoder ->
    forward_decoder`` are used as they are. On top of them this class

    - keeps the encoder memory of the first ``num_mask_levels`` levels
      reshaped to maps (input of the dynamic mask head), and
    - passes the references fed into every decoder layer (mmdet's
      ``references[l]`` for layer ``l``) to :class:`IDOLHead`, which turns
      them into the pixel reference points of the relative coordinates.

    Args:
        num_mask_levels (int): Memory levels used for the mask features
            (strides 8, 16, 32). Defaults to 3.
        *args, **kwargs: Those of mmdet's ``DeformableDETR``.
    """

    def __init__(self, *args, num_mask_levels: int = 3, **kwargs) -> None:
        self.num_mask_levels = num_mask_levels
        super().__init__(*args, **kwargs)
        if self.as_two_stage:
            raise ValueError('IDOLDeformableDETR: IDOL is one-stage, set '
                             'as_two_stage=False')
        if num_mask_levels > self.num_feature_levels:
            raise ValueError(
                f'IDOLDeformableDETR: num_mask_levels ({num_mask_levels}) > '
                f'num_feature_levels ({self.num_feature_levels})')

    def _init_layers(self) -> None:
        """mmdet's layers, with ``level_embed`` given a defined value.

        mmdet allocates ``level_embed`` (num_feature_levels, C) with
        ``torch.Tensor(...)``, i.e. uninitialised memory, and draws it only
        in :meth:`init_weights`. A model that is not initialised (a frozen
        teacher that waits for its checkpoint, a test) would otherwise hold
        whatever that memory held (NaN at times). Zeros take no random
        number, so seeded builds draw the same weights as before;
        :meth:`init_weights` still draws it from N(0, 1).
        """
        super()._init_layers()
        nn.init.zeros_(self.level_embed)

    @staticmethod
    def memory_to_maps(memory: Tensor, spatial_shapes: Tensor,
                       level_start_index: Tensor,
                       num_levels: int) -> List[Tensor]:
        """Reshape the first levels of the flattened memory to maps.

        Args:
            memory (Tensor): (B, S, C) encoder output, S = sum of h_l * w_l.
            spatial_shapes (Tensor): (num_feature_levels, 2) (h_l, w_l).
            level_start_index (Tensor): (num_feature_levels, ) offsets.
            num_levels (int): Levels to return.

        Returns:
            list[Tensor]: ``num_levels`` maps of shape (B, C, h_l, w_l),
            finest first.
        """
        batch_size, _, channels = memory.shape
        maps = []
        for lvl in range(num_levels):
            h, w = (int(v) for v in spatial_shapes[lvl])
            start = int(level_start_index[lvl])
            level = memory[:, start:start + h * w]
            maps.append(
                level.transpose(1, 2).reshape(batch_size, channels, h, w))
        return maps

    def forward_transformer(self,
                            img_feats: Tuple[Tensor],
                            batch_data_samples: OptSampleList = None) -> Dict:
        """mmdet's four transformer steps, also returning the memory maps.

        Args:
            img_feats (tuple[Tensor]): Neck outputs, (B, C, h_l, w_l) each.
            batch_data_samples (list[:obj:`DetDataSample`]): Need
                ``batch_input_shape`` and ``img_shape``.

        Returns:
            dict: ``hidden_states`` (L, B, N, C); ``references``, a list of
            L + 1 tensors, ``references[0]`` (B, N, 2) the initial points,
            ``references[l]`` (B, N, 4) the boxes refined by layer l - 1
            (all normalized by the unpadded image size); ``mask_memory``,
            the memory maps of strides 8, 16, 32, (B, C, h, w) each.
        """
        encoder_inputs, decoder_inputs = self.pre_transformer(
            img_feats, batch_data_samples)
        encoder_outputs = self.forward_encoder(**encoder_inputs)
        mask_memory = self.memory_to_maps(encoder_outputs['memory'],
                                          encoder_inputs['spatial_shapes'],
                                          encoder_inputs['level_start_index'],
                                          self.num_mask_levels)
        tmp_dec_in, _ = self.pre_decoder(**encoder_outputs)
        decoder_inputs.update(tmp_dec_in)
        decoder_outputs = self.forward_decoder(**decoder_inputs)
        return dict(
            hidden_states=decoder_outputs['hidden_states'],
            references=decoder_outputs['references'],
            mask_memory=mask_memory)

    def forward_frame_queries(self, img_feats: Tuple[Tensor],
                              batch_data_samples: SampleList) -> Dict:
        """Transformer + heads on neck features.

        Args:
            img_feats (tuple[Tensor]): Neck outputs, (B, C, h_l, w_l) each.
            batch_data_samples (list[:obj:`DetDataSample`]): One per image.

        Returns:
            dict: see :meth:`IDOLHead.forward_frame_queries`.
        """
        head_inputs = self.forward_transformer(img_feats, batch_data_samples)
        return self.bbox_head.forward_frame_queries(
            **head_inputs,
            batch_img_metas=[s.metainfo for s in batch_data_samples])

    def extract_frame_queries(self, batch_inputs: Tensor,
                              batch_data_samples: SampleList) -> Dict:
        """Backbone, neck, transformer and heads on a batch of images.

        Args:
            batch_inputs (Tensor): (B, 3, H, W) normalized, padded images.
            batch_data_samples (list[:obj:`DetDataSample`]): One per image.

        Returns:
            dict: see :meth:`IDOLHead.forward_frame_queries`.
        """
        return self.forward_frame_queries(
            self.extract_feat(batch_inputs), batch_data_samples)

    def loss(self, batch_inputs: Tensor,
             batch_data_samples: SampleList) -> dict:
        """Image-level losses (classes, boxes, masks; no contrastive term).

        Args:
            batch_inputs (Tensor): (B, 3, H, W).
            batch_data_samples (list[:obj:`DetDataSample`]): With
                ``gt_instances`` (``bboxes``, ``labels``, ``masks``).

        Returns:
            dict: losses, see :meth:`IDOLHead.loss`.
        """
        frame_outs = self.extract_frame_queries(batch_inputs,
                                                batch_data_samples)
        return self.bbox_head.loss(frame_outs, batch_data_samples)

    def predict(self,
                batch_inputs: Tensor,
                batch_data_samples: SampleList,
                rescale: bool = True) -> SampleList:
        """Image-level instance segmentation (top-k over queries x classes).

        Args:
            batch_inputs (Tensor): (B, 3, H, W).
            batch_data_samples (list[:obj:`DetDataSample`]): One per image.
            rescale (bool): Return boxes and masks at the original size.

        Returns:
            list[:obj:`DetDataSample`]: with ``pred_instances`` (``scores``,
            ``labels``, ``bboxes``, ``masks``).
        """
        frame_outs = self.extract_frame_queries(batch_inputs,
                                                batch_data_samples)
        results = self.bbox_head.predict(
            frame_outs, batch_data_samples, rescale=rescale)
        return self.add_pred_to_datasample(batch_data_samples, results)

    def _forward(self,
                 batch_inputs: Tensor,
                 batch_data_samples: OptSampleList = None) -> Dict:
        """Tensor mode: the dict of :meth:`extract_frame_queries`."""
        return self.extract_frame_queries(batch_inputs, batch_data_samples)
