# Copyright (c) mmookd authors. All rights reserved.
"""The full-size IDOL configs: official hyper-parameters, the R-50 model
built and run (loss and online predict) on 2 frames of 64 x 64, and its
parameter count against the official module tree."""
from pathlib import Path

import numpy as np
import pytest
import torch
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample, TrackDataSample
from mmdet.structures.mask import BitmapMasks
from mmdet.utils import register_all_modules
from mmengine.config import Config
from mmengine.structures import InstanceData

import mmookd.datasets.transforms.pseudo_video  # noqa: F401
import mmookd.models.trackers.idol_tracker  # noqa: F401
import mmookd.models.vis.idol  # noqa: F401

register_all_modules()
CONFIG_DIR = Path(__file__).parents[2] / 'configs' / 'idol'


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny inputs: one thread is faster than two on a shared 2-core box."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def load_cfg(name):
    cfg = Config.fromfile(str(CONFIG_DIR / name))
    cfg.model.detector.backbone.init_cfg = None  # no download in tests
    return cfg


# name: num_classes, clips a GPU, lr, max_iters, lr steps, backbone,
# tracker nms_thr_pre / addnew_score_thr
CONFIGS = {
    'idol_r50_8xb4-12k_youtube-vis-2019.py': (40, 4, 1e-4, 12000, [8000],
                                              'ResNet', 0.5, 0.2),
    'idol_r50_8xb4-12k_youtube-vis-2021.py': (40, 4, 1e-4, 12000, [8000],
                                              'ResNet', 0.5, 0.2),
    'idol_r50_8xb2-12k_ovis.py': (25, 2, 1e-4, 12000, [8000], 'ResNet', 0.3,
                                  0.3),
    'idol_swin-l-p4-w12-384_8xb4-12k_youtube-vis-2019.py':
    (40, 4, 1e-4, 12000, [8000], 'SwinTransformer', 0.5, 0.2),
    'idol_swin-l-p4-w12-384_8xb4-12k_youtube-vis-2021.py':
    (40, 4, 1e-4, 12000, [8000], 'SwinTransformer', 0.5, 0.2),
    'idol_swin-l-p4-w12-384_8xb2-12k_ovis.py': (25, 2, 1e-4, 12000, [8000],
                                                'SwinTransformer', 0.3, 0.3),
    'idol_r50_8xb4-59k_coco-pseudo-video.py':
    (80, 4, 2e-4, 59200, [22200, 44400], 'ResNet', 0.5, 0.2),
    'idol_swin-l-p4-w12-384_8xb2-148k_coco-pseudo-video.py':
    (80, 2, 2e-4, 148000, [59200, 118400], 'SwinTransformer', 0.5, 0.2),
}


@pytest.mark.parametrize('name', sorted(CONFIGS))
def test_config_hyper_parameters(name):
    (num_classes, clips, lr, max_iters, steps, backbone, nms_pre,
     add_new) = CONFIGS[name]
    cfg = load_cfg(name)
    det = cfg.model.detector
    assert det.bbox_head.num_classes == num_classes
    assert cfg.train_dataloader.batch_size == clips
    assert cfg.optim_wrapper.optimizer.type == 'AdamW'
    assert cfg.optim_wrapper.optimizer.lr == lr
    assert cfg.optim_wrapper.optimizer.weight_decay == 1e-4
    assert cfg.optim_wrapper.paramwise_cfg.custom_keys == dict(
        backbone=dict(lr_mult=0.1))
    assert cfg.optim_wrapper.clip_grad == dict(max_norm=0.01, norm_type=2)
    assert cfg.train_cfg.type == 'IterBasedTrainLoop'
    assert cfg.train_cfg.max_iters == max_iters
    assert cfg.param_scheduler[0].milestones == steps
    assert det.backbone.type == backbone
    assert det.num_queries == 300 and det.with_box_refine
    assert not det.as_two_stage
    assert cfg.model.tracker.nms_thr_pre == nms_pre
    assert cfg.model.tracker.addnew_score_thr == add_new
    head = det.bbox_head
    weights = [
        head.loss_cls.loss_weight, head.loss_bbox.loss_weight,
        head.loss_iou.loss_weight, head.loss_mask.loss_weight,
        head.loss_dice.loss_weight, head.loss_embed.loss_weight,
        head.loss_embed_aux.loss_weight
    ]
    assert weights == [2.0, 5.0, 2.0, 2.0, 5.0, 2.0, 3.0]
    if backbone == 'SwinTransformer':
        assert det.backbone.embed_dims == 192
        assert det.backbone.depths == [2, 2, 18, 2]
        assert det.neck.in_channels == [384, 768, 1536]


def official_idol_r50_params(num_classes=40):
    """Parameters of VNext's IDOL R-50 outside the backbone, counted from
    its module tree (facts, section 7), with d_model 256, FFN 1024, 8 heads,
    4 levels, 4 points, 300 queries, 6 + 6 layers."""
    d, ffn, heads, levels, points = 256, 1024, 8, 4, 4

    def linear(cin, cout):
        return cin * cout + cout

    # input_proj: 1x1 conv (+bias) + GN on res3/4/5; 3x3 s2 conv on res5
    input_proj = sum(linear(c, d) + 2 * d for c in (512, 1024, 2048))
    input_proj += 2048 * d * 9 + d + 2 * d
    ms_deform_attn = (
        linear(d, heads * levels * points * 2) +  # offsets
        linear(d, heads * levels * points) +  # attn weights
        linear(d, d) + linear(d, d))  # value / output proj
    encoder_layer = (
        ms_deform_attn + 2 * d + linear(d, ffn) + linear(ffn, d) + 2 * d)
    mha = 3 * d * d + 3 * d + linear(d, d)  # in_proj + out_proj
    decoder_layer = (
        ms_deform_attn + 2 * d + mha + 2 * d + linear(d, ffn) +
        linear(ffn, d) + 2 * d)
    transformer = (
        4 * d +  # level_embed
        linear(d, 2) +  # reference_points
        6 * encoder_layer + 6 * decoder_layer)
    query_embed = 300 * 2 * d
    class_embed = 6 * linear(d, num_classes)
    bbox_embed = 6 * (linear(d, d) + linear(d, d) + linear(d, 4))
    controller = linear(d, d) + linear(d, d) + linear(d, 169)
    mask_head = (
        3 * (d * d * 9 + d) +  # lay3, lay4, dcn
        (64 * d * 9 + 64) + (8 * 64 * 9 + 8))  # lay1, lay2
    reid_embed_head = 3 * linear(d, d)
    return (input_proj + transformer + query_embed + class_embed + bbox_embed +
            controller + mask_head + reid_embed_head)


def make_frames(num_frames=2,
                size=64,
                ori=64,
                with_gt=True,
                first_id=0,
                video_length=2):
    """Packed frames: uint8 (T, 3, H, W) + a TrackDataSample."""
    rng = np.random.default_rng(0)
    imgs = torch.from_numpy(
        rng.integers(0, 255, (num_frames, 3, size, size), dtype=np.uint8))
    samples = []
    for t in range(num_frames):
        sample = DetDataSample(
            metainfo=dict(
                img_shape=(size, size),
                ori_shape=(ori, ori),
                scale_factor=(size / ori, size / ori),
                frame_id=first_id + t,
                video_id=1,
                img_id=first_id + t,
                ori_video_length=video_length))
        if with_gt:
            masks = np.zeros((2, size, size), np.uint8)
            masks[0, 10:40, 12:50] = 1
            masks[1, 30:60, 5:25] = 1
            sample.gt_instances = InstanceData(
                bboxes=torch.tensor([[12., 10., 50., 40.], [5., 30., 25.,
                                                            60.]]),
                labels=torch.tensor([3, 7]),
                masks=BitmapMasks(masks, size, size),
                instances_ids=torch.tensor([1, 2]))
        samples.append(sample)
    track = TrackDataSample()
    track.video_data_samples = samples
    return imgs, track


def run_loss_and_predict(model):
    """Loss + backward on a 2-frame clip, then online predict on 2 frames.

    Returns:
        tuple: the loss dict and the per-frame predict outputs.
    """
    model.train()
    imgs, clip = make_frames()
    data = model.data_preprocessor(
        dict(inputs=[imgs], data_samples=[clip]), True)
    losses = model(**data, mode='loss')
    sum(losses.values()).backward()

    model.eval()
    outputs = []
    for frame_id in range(2):
        imgs, clip = make_frames(1, ori=96, with_gt=False, first_id=frame_id)
        data = model.data_preprocessor(
            dict(inputs=[imgs], data_samples=[clip]), False)
        with torch.no_grad():
            outputs.append(model(**data, mode='predict')[0])
    return losses, outputs


def check_loss_and_predict(losses, outputs):
    names = ['loss_cls', 'loss_bbox', 'loss_iou', 'loss_mask', 'loss_dice']
    expected = set(names) | {'loss_embed', 'loss_embed_aux'}
    expected |= {f'd{i}.{n}' for i in range(5) for n in names}
    assert set(losses) == expected
    assert all(torch.isfinite(v) and v >= 0 for v in losses.values())
    for frame_id, track_sample in enumerate(outputs):
        pred = track_sample[0].pred_track_instances
        for key in ('bboxes', 'scores', 'labels', 'instances_id', 'masks'):
            assert key in pred
        assert pred.masks.shape[1:] == (96, 96)
        assert pred.masks.dtype == torch.bool
        if frame_id == 1:
            assert isinstance(track_sample.pred_video_instances, list)
        else:
            assert 'pred_video_instances' not in track_sample


def test_r50_parameter_count_matches_official():
    model = MODELS.build(
        load_cfg('idol_r50_8xb4-12k_youtube-vis-2019.py').model)
    total = sum(p.numel() for p in model.parameters())
    backbone = sum(p.numel() for p in model.detector.backbone.parameters())
    # mmdet's ResNet-50 without fc, BN affine parameters included (d2's
    # FrozenBN keeps them as buffers, so only the rest is compared exactly)
    assert backbone == 23_508_032
    assert total - backbone == official_idol_r50_params() == 19_610_875


def test_r50_config_loss_and_predict():
    torch.manual_seed(0)
    model = MODELS.build(
        load_cfg('idol_r50_8xb4-12k_youtube-vis-2019.py').model)
    model.detector.init_weights()
    losses, outputs = run_loss_and_predict(model)
    check_loss_and_predict(losses, outputs)
    grads = [p.grad for p in model.detector.bbox_head.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)


def test_swin_l_config_loss_and_predict():
    torch.manual_seed(0)
    cfg = load_cfg('idol_swin-l-p4-w12-384_8xb4-12k_youtube-vis-2019.py')
    model = MODELS.build(cfg.model)
    model.detector.init_weights()
    backbone = model.detector.backbone
    assert backbone.num_features == [192, 384, 768, 1536]
    losses, outputs = run_loss_and_predict(model)
    check_loss_and_predict(losses, outputs)
    grads = [p.grad for p in backbone.stages[1].parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
