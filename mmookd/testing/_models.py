# Copyright (c) mmookd authors. All rights reserved.
"""Tiny models for tests: they build and run in a second on a CPU."""
from typing import Optional


def tiny_idol_cfg(dims: int = 32,
                  base_channels: int = 16,
                  num_queries: int = 20,
                  num_classes: int = 3,
                  enc_layers: int = 2,
                  dec_layers: int = 2,
                  tracker: Optional[dict] = None,
                  test_cfg: Optional[dict] = None) -> dict:
    """The config of a tiny IDOL with the real parts of the full model.

    ResNet-18 of ``base_channels`` (its res3..res5 have 2x, 4x and 8x that
    many channels), a ``dims``-d deformable transformer (4 heads, 2 points,
    FFN ``2 * dims``, no dropout), the official heads and losses.

    Args:
        dims (int): Transformer width. Defaults to 32.
        base_channels (int): ResNet stem width. Defaults to 16.
        num_queries (int): Object queries. Defaults to 20.
        num_classes (int): Classes. Defaults to 3.
        enc_layers (int): Encoder layers. Defaults to 2.
        dec_layers (int): Decoder layers. Defaults to 2.
        tracker (dict, optional): Tracker config. Defaults to None.
        test_cfg (dict, optional): The detector's test config.

    Returns:
        dict: A model config for ``MODELS.build``.
    """
    attn = dict(
        embed_dims=dims,
        num_heads=4,
        num_points=2,
        dropout=0.0,
        batch_first=True)
    ffn = dict(embed_dims=dims, feedforward_channels=2 * dims, ffn_drop=0.0)
    detector = dict(
        type='IDOLDeformableDETR',
        num_queries=num_queries,
        with_box_refine=True,
        as_two_stage=False,
        backbone=dict(
            type='ResNet',
            depth=18,
            base_channels=base_channels,
            out_indices=(1, 2, 3),
            norm_cfg=dict(type='BN'),
            norm_eval=False),
        neck=dict(
            type='ChannelMapper',
            in_channels=[2 * base_channels, 4 * base_channels,
                         8 * base_channels],
            kernel_size=1,
            out_channels=dims,
            act_cfg=None,
            bias=True,
            norm_cfg=dict(type='GN', num_groups=dims // 4),
            num_outs=4),
        encoder=dict(
            num_layers=enc_layers,
            layer_cfg=dict(self_attn_cfg=attn, ffn_cfg=ffn)),
        decoder=dict(
            num_layers=dec_layers,
            return_intermediate=True,
            layer_cfg=dict(
                self_attn_cfg=dict(
                    embed_dims=dims,
                    num_heads=4,
                    dropout=0.0,
                    batch_first=True),
                cross_attn_cfg=attn,
                ffn_cfg=ffn),
            post_norm_cfg=None),
        positional_encoding=dict(
            num_feats=dims // 2, normalize=True, offset=-0.5),
        bbox_head=dict(
            type='IDOLHead',
            num_classes=num_classes,
            embed_dims=dims,
            embed_channels=dims,
            mask_head=dict(type='IDOLDynamicMaskHead', in_channels=dims),
            loss_cls=dict(type='FocalLoss', use_sigmoid=True, loss_weight=2.0),
            loss_bbox=dict(type='L1Loss', loss_weight=5.0),
            loss_iou=dict(type='GIoULoss', loss_weight=2.0)),
        train_cfg=dict(assigner=dict(type='IDOLSimOTAAssigner')))
    if test_cfg is not None:
        detector['test_cfg'] = test_cfg
    return dict(
        type='IDOL',
        data_preprocessor=dict(
            type='TrackDataPreprocessor',
            mean=[123.675, 116.28, 103.53],
            std=[58.395, 57.12, 57.375],
            bgr_to_rgb=True,
            pad_mask=True,
            pad_size_divisor=32),
        detector=detector,
        tracker=tracker)


def tiny_ookd_config(data_root: str,
                     student: dict,
                     teacher: dict,
                     teacher_checkpoint: Optional[str] = None,
                     scale: tuple = (1333, 64),
                     max_teacher_frames: int = 6) -> tuple:
    """A runnable OOKD config on a tiny SynthVIS (:func:`tiny_synthvis`),
    for the cache and diagnostics tools.

    Args:
        data_root (str): The SynthVIS root.
        student (dict): The student's model config.
        teacher (dict): ``model.teacher`` (a config or ``cfg_path`` dict).
        teacher_checkpoint (str, optional): ``model.teacher_checkpoint``.
        scale (tuple): Resize scale of every frame.
        max_teacher_frames (int): ``OOKDFrameSample``'s teacher frames.

    Returns:
        tuple: the ``Config`` (``model``, ``train_dataloader`` with a
        ``ClipMixDataset`` over the training videos, ``test_dataloader``'s
        un-augmented pipeline) and the training dataset's config.
    """
    from mmengine.config import Config
    loading = [
        dict(type='LoadVISFrame'),
        dict(type='LoadTrackAnnotations', with_mask=True),
        dict(type='Resize', scale=scale, keep_ratio=True),
    ]
    dataset = dict(
        type='VISDataset',
        dataset_version='synthvis',
        data_root=str(data_root),
        ann_file='annotations/synthvis_train.json',
        data_prefix=dict(img_path='train/JPEGImages'),
        pipeline=[
            dict(
                type='OOKDFrameSample',
                max_teacher_frames=max_teacher_frames),
            dict(type='TransformBroadcaster', transforms=loading),
            dict(type='PackTrackInputs', meta_keys=('ookd_frame_role', )),
        ])
    test_pipeline = [
        dict(
            type='TransformBroadcaster',
            transforms=[
                dict(type='LoadVISFrame'),
                dict(type='Resize', scale=scale, keep_ratio=True)
            ]),
        dict(type='PackTrackInputs')
    ]
    cfg = Config(
        dict(
            default_scope='mmdet',
            model=dict(
                type='OOKD',
                student=student,
                teacher=teacher,
                teacher_checkpoint=teacher_checkpoint),
            train_dataloader=dict(
                dataset=dict(
                    type='ClipMixDataset', dataset=dataset, pipeline=[])),
            test_dataloader=dict(dataset=dict(pipeline=test_pipeline))))
    return cfg, dataset
