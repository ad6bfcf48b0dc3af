# Copyright (c) mmookd authors. All rights reserved.
# IDOL with a Swin-L (patch 4, window 12, 384 input, ImageNet-22k)
# backbone: the R-50 model with the backbone swapped (the official
# D2SwinTransformer settings: embed 192, depths 2-2-18-2, heads 6-12-24-48,
# drop path 0.3). Runnable configs add a dataset base on top of it.
_base_ = './idol_r50_base.py'

model = dict(
    detector=dict(
        backbone=dict(
            _delete_=True,
            type='SwinTransformer',
            pretrain_img_size=384,
            embed_dims=192,
            depths=[2, 2, 18, 2],
            num_heads=[6, 12, 24, 48],
            window_size=12,
            mlp_ratio=4,
            qkv_bias=True,
            qk_scale=None,
            drop_rate=0.,
            attn_drop_rate=0.,
            drop_path_rate=0.3,
            patch_norm=True,
            out_indices=(1, 2, 3),
            with_cp=False,
            convert_weights=True,
            # no download at run time; see the COCO pseudo-video config
            init_cfg=None),
        neck=dict(in_channels=[384, 768, 1536])))
