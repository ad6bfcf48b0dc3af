# Copyright (c) mmookd authors. All rights reserved.
"""IDOL's CondInst-style dynamic mask head.

Shape shorthand: ``B`` images, ``C`` transformer channels (256), ``c`` mask
feature channels (8), ``n`` instances (queries) of one image, ``P`` dynamic
parameters per instance (169), ``(h8, w8)`` the stride-8 feature size of
the padded input, ``(h4, w4) = (2 h8, 2 w8)``.

Pipeline (VNext ``segmentation_condInst.py``)::

    encoder memory levels, strides 32 / 16 / 8, (B, C, h, w) each
      f = relu(lay3(m32))
      f = relu(lay4(m16 + nearest_up(f)))
      f = relu(dcn(m8 + nearest_up(f)))        # a plain 3x3 conv
      f = relu(lay2(relu(lay1(f))))            # C -> C/4 -> c
    -> mask features (B, c, h8, w8)

    per instance: [rel_x, rel_y, mask features] (c + 2 channels)
      -> 1x1 conv (c+2 -> 8) -> relu -> 1x1 conv (8 -> 8) -> relu
      -> 1x1 conv (8 -> 1)     with weights generated per instance
    -> aligned bilinear x2 -> mask logits (n, h4, w4)

``rel = reference point of the instance - location``, in input pixels
(not normalized), where the locations are the stride-8 cell centres
``(8 j + 4, 8 i + 4)``.
"""
from typing import List, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmdet.models.utils import aligned_bilinear
from mmdet.registry import MODELS
from mmengine.model import BaseModule
from torch import Tensor, nn


@MODELS.register_module()
class IDOLDynamicMaskHead(BaseModule):
    """Mask feature branch + dynamic (CondInst) convolutions of IDOL.

    The module names ``lay1..lay4`` and ``dcn`` are those of the official
    ``MaskHeadSmallConv`` so that official checkpoints map one to one.

    Args:
        in_channels (int): Channels of the encoder memory. Defaults to 256.
        mask_channels (int): Channels of the mask features. Defaults to 8.
        dynamic_channels (int): Channels of the hidden dynamic convs.
            Defaults to 8.
        num_dynamic_layers (int): Dynamic 1x1 convs. Defaults to 3.
        mask_feat_stride (int): Stride of the mask features. Defaults to 8.
        mask_out_stride (int): Stride of the output logits. Defaults to 4.
        init_cfg (dict, optional): Defaults to None (the official kaiming
            uniform, a=1, zero bias init is applied in ``init_weights``).
    """

    def __init__(self,
                 in_channels: int = 256,
                 mask_channels: int = 8,
                 dynamic_channels: int = 8,
                 num_dynamic_layers: int = 3,
                 mask_feat_stride: int = 8,
                 mask_out_stride: int = 4,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        if mask_feat_stride % mask_out_stride != 0:
            raise ValueError('IDOLDynamicMaskHead: mask_feat_stride '
                             f'({mask_feat_stride}) must be a multiple of '
                             f'mask_out_stride ({mask_out_stride})')
        if num_dynamic_layers < 2:
            raise ValueError('IDOLDynamicMaskHead: num_dynamic_layers must '
                             f'be >= 2, got {num_dynamic_layers}')
        self.in_channels = in_channels
        self.mask_channels = mask_channels
        self.dynamic_channels = dynamic_channels
        self.num_dynamic_layers = num_dynamic_layers
        self.mask_feat_stride = mask_feat_stride
        self.mask_out_stride = mask_out_stride

        def conv(cin, cout):
            return nn.Conv2d(cin, cout, 3, padding=1)

        self.lay3 = conv(in_channels, in_channels)
        self.lay4 = conv(in_channels, in_channels)
        self.dcn = conv(in_channels, in_channels)
        self.lay1 = conv(in_channels, in_channels // 4)
        self.lay2 = conv(in_channels // 4, mask_channels)

        in_dims = [mask_channels + 2] + [dynamic_channels] * (
            num_dynamic_layers - 1)
        out_dims = [dynamic_channels] * (num_dynamic_layers - 1) + [1]
        self.dynamic_in_dims = in_dims
        self.dynamic_out_dims = out_dims
        self.weight_nums = [i * o for i, o in zip(in_dims, out_dims)]
        self.bias_nums = list(out_dims)

    @property
    def num_params(self) -> int:
        """int: dynamic parameters per instance (169 for IDOL)."""
        return sum(self.weight_nums) + sum(self.bias_nums)

    def init_weights(self) -> None:
        """Kaiming-uniform (a=1) weights and zero biases, as the official."""
        super().init_weights()
        for m in (self.lay1, self.lay2, self.lay3, self.lay4, self.dcn):
            nn.init.kaiming_uniform_(m.weight, a=1)
            nn.init.constant_(m.bias, 0)

    def forward_feats(self, mlvl_feats: Sequence[Tensor]) -> Tensor:
        """Fuse the encoder memory into mask features.

        Args:
            mlvl_feats (Sequence[Tensor]): Memory maps of strides 8, 16 and
                32 (in this order), (B, C, h, w) each.

        Returns:
            Tensor: (B, c, h8, w8) mask features (after ReLU).
        """
        m8, m16, m32 = mlvl_feats[:3]
        x = F.relu(self.lay3(m32))
        x = m16 + F.interpolate(x, size=m16.shape[-2:], mode='nearest')
        x = F.relu(self.lay4(x))
        x = m8 + F.interpolate(x, size=m8.shape[-2:], mode='nearest')
        x = F.relu(self.dcn(x))
        x = F.relu(self.lay1(x))
        return F.relu(self.lay2(x))

    def parse_dynamic_params(self,
                             params: Tensor) -> Tuple[List[Tensor], List]:
        """Split flat per-instance parameters into grouped-conv kernels.

        Layout of a parameter vector (169 for IDOL): all weights first,
        layer by layer, each as (out, in) row-major ([8, 10], [8, 8],
        [1, 8]), then all biases ([8], [8], [1]).

        Args:
            params (Tensor): (n, P).

        Returns:
            tuple[list[Tensor], list[Tensor]]: per layer, weights of shape
            (n * out, in, 1, 1) and biases of shape (n * out, ).
        """
        if params.dim() != 2 or params.size(1) != self.num_params:
            raise ValueError('IDOLDynamicMaskHead: expected params of shape '
                             f'(n, {self.num_params}), got '
                             f'{tuple(params.shape)}')
        n = params.size(0)
        splits = torch.split(params, self.weight_nums + self.bias_nums, 1)
        num_layers = self.num_dynamic_layers
        weights, biases = [], []
        for layer in range(num_layers):
            cin = self.dynamic_in_dims[layer]
            cout = self.dynamic_out_dims[layer]
            weights.append(splits[layer].reshape(n * cout, cin, 1, 1))
            biases.append(splits[num_layers + layer].reshape(n * cout))
        return weights, biases

    def relative_coords(self, ref_points: Tensor,
                        feat_size: Tuple[int, int]) -> Tensor:
        """Relative coordinates of the stride-8 cells to each instance.

        Args:
            ref_points (Tensor): (n, 2) instance reference points (x, y) in
                input pixels.
            feat_size (tuple[int, int]): (h8, w8).

        Returns:
            Tensor: (n, 2, h8, w8) with channel 0 ``x_ref - (8 j + 4)`` and
            channel 1 ``y_ref - (8 i + 4)``, in pixels.
        """
        h, w = feat_size
        stride = self.mask_feat_stride
        xs = torch.arange(
            w, device=ref_points.device,
            dtype=ref_points.dtype) * stride + stride // 2
        ys = torch.arange(
            h, device=ref_points.device,
            dtype=ref_points.dtype) * stride + stride // 2
        rel_x = ref_points[:, 0, None, None] - xs[None, None, :]
        rel_y = ref_points[:, 1, None, None] - ys[None, :, None]
        return torch.stack([rel_x.expand(-1, h, w),
                            rel_y.expand(-1, h, w)],
                           dim=1)

    def forward_dynamic(self, mask_feat: Tensor, params: Tensor,
                        ref_points: Tensor) -> Tensor:
        """Mask logits of the instances of one image.

        Args:
            mask_feat (Tensor): (c, h8, w8) mask features of the image.
            params (Tensor): (n, P) dynamic parameters.
            ref_points (Tensor): (n, 2) reference points (x, y) in input
                pixels.

        Returns:
            Tensor: (n, h4, w4) mask logits at ``mask_out_stride``.
        """
        n = params.size(0)
        c, h, w = mask_feat.shape
        up = self.mask_feat_stride // self.mask_out_stride
        if n == 0:
            return mask_feat.new_zeros((0, h * up, w * up))
        rel = self.relative_coords(ref_points.to(mask_feat.dtype), (h, w))
        x = torch.cat([rel, mask_feat[None].expand(n, c, h, w)], dim=1)
        x = x.reshape(1, n * (c + 2), h, w)
        weights, biases = self.parse_dynamic_params(params)
        for layer, (weight, bias) in enumerate(zip(weights, biases)):
            x = F.conv2d(x, weight, bias, groups=n)
            if layer < len(weights) - 1:
                x = F.relu(x)
        x = aligned_bilinear(x, up)
        return x[0]
