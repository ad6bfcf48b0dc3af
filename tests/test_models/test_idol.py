# Copyright (c) mmookd authors. All rights reserved.
"""IDOL model parts on tiny inputs: dynamic mask head, mask targets, the
per-frame query interface, the losses, the contrastive selection and the
online inference wiring."""
import logging

import numpy as np
import pytest
import torch
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample, TrackDataSample
from mmdet.structures.bbox import bbox_cxcywh_to_xyxy, bbox_overlaps
from mmdet.structures.mask import BitmapMasks
from mmdet.utils import register_all_modules
from mmengine.logging import MMLogger
from mmengine.structures import InstanceData

from mmookd.models.layers.dynamic_mask_head import IDOLDynamicMaskHead
from mmookd.models.vis.idol import IDOL
from mmookd.testing import tiny_idol_cfg as _tiny_idol_cfg

register_all_modules()

DIMS = 32


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny inputs: one thread is faster than two on a shared 2-core box."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def tiny_idol_cfg(num_classes=3, num_queries=20, num_layers=2, tracker=None):
    """A small IDOL: ResNet-18 (width 16), 32-d transformer."""
    return _tiny_idol_cfg(
        dims=DIMS,
        base_channels=16,
        num_queries=num_queries,
        num_classes=num_classes,
        enc_layers=num_layers,
        dec_layers=num_layers,
        tracker=tracker,
        test_cfg=dict(max_per_img=5))


def build_tiny_idol(**kwargs):
    torch.manual_seed(0)
    model = MODELS.build(tiny_idol_cfg(**kwargs))
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)  # init_weights logs every parameter
    model.init_weights()
    logger.setLevel(level)
    return model


BOXES = [[(8, 8, 30, 40), (34, 20, 60, 56)],
         [(10, 10, 32, 42), (32, 18, 58, 54)]]


def make_clip(
        frame_ids=(0, 1), size=64, with_gt=True, ori_size=None,
        video_length=2):
    """A packed two-frame clip: uint8 (T, 3, H, W) + TrackDataSample."""
    imgs = torch.zeros(len(frame_ids), 3, size, size, dtype=torch.uint8)
    samples = []
    ori = ori_size or size
    for t, frame_id in enumerate(frame_ids):
        masks = np.zeros((2, size, size), np.uint8)
        for i, (x1, y1, x2, y2) in enumerate(BOXES[t % 2]):
            masks[i, y1:y2, x1:x2] = 1
            imgs[t, i, y1:y2, x1:x2] = 200
        sample = DetDataSample(
            metainfo=dict(
                img_shape=(size, size),
                ori_shape=(ori, ori),
                scale_factor=(size / ori, size / ori),
                frame_id=frame_id,
                video_id=3,
                img_id=10 + frame_id,
                ori_video_length=video_length))
        if with_gt:
            sample.gt_instances = InstanceData(
                bboxes=torch.tensor(BOXES[t % 2], dtype=torch.float),
                labels=torch.tensor([0, 2]),
                masks=BitmapMasks(masks, size, size),
                instances_ids=torch.tensor([5, 7]))
        samples.append(sample)
    track = TrackDataSample()
    track.video_data_samples = samples
    return imgs, track


# ----------------------------------------------------------------------
# dynamic mask head
# ----------------------------------------------------------------------
def test_dynamic_params_count_and_layout():
    head = IDOLDynamicMaskHead(in_channels=32)
    # weights 10*8 + 8*8 + 8*1, biases 8 + 8 + 1
    assert head.num_params == 80 + 64 + 8 + 8 + 8 + 1 == 169
    params = torch.arange(2 * 169, dtype=torch.float).reshape(2, 169)
    weights, biases = head.parse_dynamic_params(params)
    assert [tuple(w.shape) for w in weights] == [(16, 10, 1, 1), (16, 8, 1, 1),
                                                 (2, 8, 1, 1)]
    assert [tuple(b.shape) for b in biases] == [(16, ), (16, ), (2, )]
    # all weights first, each (out, in) row-major, then the biases
    assert weights[0][0, :, 0, 0].tolist() == list(range(0, 10))
    assert weights[0][1, 0, 0, 0] == 10  # out channel 1 starts at 10
    assert weights[1][0, 0, 0, 0] == 80
    assert weights[2][0, :, 0, 0].tolist() == list(range(144, 152))
    assert biases[0].tolist()[:8] == list(range(152, 160))
    assert biases[1][0] == 160 and biases[2][0] == 168
    assert weights[0][8, 0, 0, 0] == 169  # instance 1
    with pytest.raises(ValueError, match='169'):
        head.parse_dynamic_params(torch.zeros(1, 168))


def test_relative_coords_in_pixels():
    head = IDOLDynamicMaskHead(in_channels=32)
    rel = head.relative_coords(torch.tensor([[20.0, 10.0]]), (3, 4))
    # cell centres x = 4, 12, 20, 28; y = 4, 12, 20
    assert rel[0, 0, 0].tolist() == [16.0, 8.0, 0.0, -8.0]
    assert rel[0, 1, :, 0].tolist() == [6.0, -2.0, -10.0]
    assert (rel[0, 0] == rel[0, 0, :1]).all()  # rel_x constant per column


def test_dynamic_convs_use_rel_coords_and_features():
    """Hand-set parameters: out = relu(relu(input channel c)) + 0.5."""
    head = IDOLDynamicMaskHead(in_channels=32)
    params = torch.zeros(3, 169)
    params[0, 0] = 1.0  # instance 0 reads rel_x
    params[1, 1] = 1.0  # instance 1 reads rel_y
    params[2, 2] = 1.0  # instance 2 reads mask feature channel 0
    params[:, 80] = 1.0  # layer 1: hidden 0 <- hidden 0
    params[:, 144] = 1.0  # layer 2: out <- hidden 0
    params[:, 168] = 0.5  # layer 2 bias
    feat = torch.zeros(8, 3, 4)
    feat[0] = 3.0
    refs = torch.tensor([[20.0, 10.0]] * 3)
    logits = head.forward_dynamic(feat, params, refs)
    assert logits.shape == (3, 6, 8)
    # aligned bilinear x2: output (2i + 1, 2j + 1) is stride-8 cell (i, j)
    cells = logits[:, 1::2, 1::2]
    assert cells[0, 0].tolist() == [16.5, 8.5, 0.5, 0.5]
    assert cells[1, :, 0].tolist() == [6.5, 0.5, 0.5]
    assert torch.allclose(cells[2], torch.full((3, 4), 3.5))
    assert head.forward_dynamic(feat, params[:0], refs[:0]).shape == (0, 6, 8)


def test_mask_features_fuse_three_levels():
    head = IDOLDynamicMaskHead(in_channels=32)
    head.init_weights()
    feats = [
        torch.randn(2, 32, 8, 8),
        torch.randn(2, 32, 4, 4),
        torch.randn(2, 32, 2, 2)
    ]
    out = head.forward_feats(feats)
    assert out.shape == (2, 8, 8, 8) and (out >= 0).all()
    # a change in the stride-32 map reaches every stride-8 cell it covers
    feats2 = [f.clone() for f in feats]
    feats2[2][:, :, 0, 0] += 10
    diff = (head.forward_feats(feats2) - out).abs().sum((0, 1))
    assert diff[:4, :4].sum() > 0


# ----------------------------------------------------------------------
# losses and the per-frame interface
# ----------------------------------------------------------------------
def test_mask_targets_take_pixel_2_plus_4i():
    model = build_tiny_idol()
    masks = np.zeros((1, 64, 64), np.uint8)
    masks[0, 6, 10] = 1  # = (2 + 4 * 1, 2 + 4 * 2)
    masks[0, 5, 30] = 1  # not on the sampling grid
    gt = InstanceData(masks=BitmapMasks(masks, 64, 64))
    meta = dict(batch_input_shape=(64, 64))
    target = model.head.get_mask_targets([gt], [meta], (16, 16), 'cpu')[0]
    assert target.shape == (1, 16, 16)
    assert target.sum() == 1 and target[0, 1, 2] == 1
    # unpadded masks are padded to the batch input first
    small = InstanceData(masks=BitmapMasks(masks[:, :40, :40], 40, 40))
    target = model.head.get_mask_targets([small], [meta], (16, 16), 'cpu')[0]
    assert target.shape == (1, 16, 16) and target[0, 1, 2] == 1


def test_tiny_idol_loss_keys_and_gradients():
    model = build_tiny_idol(num_layers=2)
    imgs, clip = make_clip()
    data = model.data_preprocessor(
        dict(inputs=[imgs], data_samples=[clip]), True)
    losses = model(**data, mode='loss')
    names = ['loss_cls', 'loss_bbox', 'loss_iou', 'loss_mask', 'loss_dice']
    expected = set(names) | {f'd0.{n}'
                             for n in names
                             } | {'loss_embed', 'loss_embed_aux'}
    assert set(losses) == expected
    assert all(torch.isfinite(v) for v in losses.values())
    assert losses['loss_cls'] > 0 and losses['loss_embed'] > 0
    sum(losses.values()).backward()
    head = model.head
    for module in (head.controller, head.embed_head, head.mask_head.lay2,
                   head.mask_head.lay3, model.detector.backbone.conv1):
        grads = [p.grad for p in module.parameters()]
        assert all(g is not None for g in grads)
        assert sum(g.abs().sum() for g in grads) > 0


def _official_focal(logits, targets, alpha=0.25, gamma=2.0):
    """Element-wise sigmoid focal loss as written in the official code."""
    prob = logits.sigmoid()
    ce = torch.nn.functional.binary_cross_entropy_with_logits(
        logits, targets, reduction='none')
    p_t = prob * targets + (1 - prob) * (1 - targets)
    alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
    return alpha_t * ce * (1 - p_t)**gamma


def test_layer_losses_match_the_official_formulas():
    head = build_tiny_idol().head
    torch.manual_seed(1)
    size = 64
    masks = np.zeros((1, size, size), np.uint8)
    masks[0, 8:40, 8:40] = 1
    gt = InstanceData(
        bboxes=torch.tensor([[8., 8., 40., 40.]]),
        labels=torch.tensor([1]),
        masks=BitmapMasks(masks, size, size))
    meta = dict(img_shape=(size, size), batch_input_shape=(size, size))
    cls_logits = torch.randn(1, 4, 3)
    bboxes = torch.tensor([[[0.38, 0.37, 0.5, 0.5], [0.36, 0.40, 0.45, 0.55],
                            [0.40, 0.36, 0.52, 0.48], [0.9, 0.9, 0.1, 0.1]]])
    params = torch.randn(1, 4, 169) * 0.3
    refs = bboxes[..., :2] * size
    feats = torch.rand(1, 8, 8, 8)
    targets = head.get_mask_targets([gt], [meta], (16, 16), 'cpu')
    losses, results = head.loss_by_feat_single(cls_logits, bboxes, params,
                                               refs, feats, [gt], targets,
                                               [meta])
    pos = (results[0].gt_inds > 0).nonzero().flatten()
    num_pos = len(pos)
    assert pos.tolist() == [0, 2]  # q3 is far away, q1 loses on cost
    onehot = torch.zeros(4, 3)
    onehot[pos, 1] = 1
    expect_cls = 2.0 * _official_focal(cls_logits[0], onehot).sum() / num_pos
    target_box = torch.tensor([0.375, 0.375, 0.5, 0.5])
    expect_l1 = 5.0 * (bboxes[0, pos] - target_box).abs().sum() / num_pos
    gious = bbox_overlaps(
        bbox_cxcywh_to_xyxy(bboxes[0, pos]),
        bbox_cxcywh_to_xyxy(target_box[None]),
        mode='giou')[:, 0]
    expect_giou = 2.0 * (1 - gious).sum() / num_pos
    logits = head.decode_masks(params[0, pos], refs[0, pos], feats[0])
    tgt = torch.from_numpy(masks[0, 2::4,
                                 2::4]).float()[None].expand_as(logits)
    expect_mask = 2.0 * _official_focal(logits.flatten(1),
                                        tgt.flatten(1)).mean(1).sum() / num_pos
    prob = logits.sigmoid().flatten(1)
    dice = 1 - (2 * (prob * tgt.flatten(1)).sum(1) + 1) / (
        prob.sum(1) + tgt.flatten(1).sum(1) + 1)
    expect_dice = 5.0 * dice.sum() / num_pos
    got = [
        losses[k].item() for k in ('loss_cls', 'loss_bbox', 'loss_iou',
                                   'loss_mask', 'loss_dice')
    ]
    expected = [
        expect_cls.item(),
        expect_l1.item(),
        expect_giou.item(),
        expect_mask.item(),
        expect_dice.item()
    ]
    assert got == pytest.approx(expected, rel=1e-4)


def test_loss_without_instances_in_the_key_frame():
    model = build_tiny_idol(num_layers=1)
    imgs, clip = make_clip()
    empty = clip[0].gt_instances[:0]  # the key frame has no instance
    clip[0].gt_instances = empty
    data = model.data_preprocessor(
        dict(inputs=[imgs], data_samples=[clip]), True)
    losses = model(**data, mode='loss')
    assert losses['loss_cls'] > 0  # every query is a negative
    for key in ('loss_bbox', 'loss_iou', 'loss_mask', 'loss_dice',
                'loss_embed', 'loss_embed_aux'):
        assert losses[key].item() == 0.0, key
    sum(losses.values()).backward()


def test_frame_queries_interface_and_references():
    model = build_tiny_idol(num_layers=2).eval()
    imgs, clip = make_clip()
    data = model.data_preprocessor(
        dict(inputs=[imgs], data_samples=[clip]), False)
    clip = data['data_samples'][0]  # with batch_input_shape now
    frames = [clip[0], clip[1]]
    with torch.no_grad():
        outs = model.extract_frame_queries(data['inputs'][0], frames)
    n, q, k = 2, 20, 3
    shapes = dict(
        queries=(n, q, DIMS),
        embeds=(n, q, DIMS),
        cls_logits=(n, q, k),
        bboxes=(n, q, 4),
        bboxes_xyxy=(n, q, 4),
        mask_params=(n, q, 169),
        references=(n, q, 2),
        mask_feats=(n, 8, 8, 8),
        hidden_states=(2, n, q, DIMS),
        all_cls_logits=(2, n, q, k),
        all_bboxes=(2, n, q, 4),
        all_mask_params=(2, n, q, 169),
        all_references=(2, n, q, 2))
    for key, shape in shapes.items():
        assert tuple(outs[key].shape) == shape, key
    assert torch.allclose(outs['bboxes_xyxy'],
                          bbox_cxcywh_to_xyxy(outs['bboxes']) * 64)
    # layer 1 is fed the boxes refined by layer 0 (centres, in pixels)
    assert torch.allclose(
        outs['all_references'][1],
        outs['all_bboxes'][0][..., :2] * 64,
        atol=1e-5)
    assert torch.equal(outs['references'], outs['all_references'][-1])
    # layer 0 is fed the initial points sigmoid(fc(query_pos))
    detector = model.detector
    query_pos = detector.query_embedding.weight[:, :DIMS]
    init = detector.reference_points_fc(query_pos).sigmoid() * 64
    assert torch.allclose(outs['all_references'][0][0], init, atol=1e-5)
    masks = model.decode_masks(outs['mask_params'][1], outs['references'][1],
                               outs['mask_feats'][1])
    assert masks.shape == (q, 16, 16)
    # tensor mode: the same outputs for every frame of the clips
    with torch.no_grad():
        tensor_outs = model(data['inputs'], [clip], mode='tensor')
    assert torch.allclose(tensor_outs['embeds'], outs['embeds'], atol=1e-5)


def test_key_frame_is_the_earlier_frame():
    _, forward = make_clip(frame_ids=(3, 8))
    _, backward = make_clip(frame_ids=(9, 4))
    assert IDOL.split_key_ref([forward, backward]) == ([0, 1], [1, 0])
    _, three = make_clip(frame_ids=(0, 1, 2))
    with pytest.raises(ValueError, match='video 3'):
        IDOL.split_key_ref([three])


def test_contrastive_selection_hand_example():
    head = build_tiny_idol().head
    # candidate IoUs summed for the dynamic k: 1 for the positives, 3 for
    # the negatives (10 and 100 in IDOL; small here to fit 6 queries)
    head.embed_pos_topk, head.embed_neg_topk = 1, 3
    meta = dict(img_shape=(100, 100))
    key_gt = InstanceData(instances_ids=torch.tensor([5, 7, 9]))
    # reference frame: ids 9 and 5 (7 is absent), plus 11 (absent in key)
    ref_gt = InstanceData(
        bboxes=torch.tensor([[60., 60., 90., 90.], [10., 10., 40., 40.],
                             [0., 60., 20., 100.]]),
        labels=torch.tensor([1, 0, 2]),
        instances_ids=torch.tensor([9, 5, 11]))
    ref_bboxes = torch.tensor([
        [0.25, 0.25, 0.3, 0.3],  # q0 = box of id 5 (IoU 1)
        [0.26, 0.25, 0.3, 0.3],  # q1: IoU 0.935 with id 5
        [0.75, 0.75, 0.3, 0.3],  # q2 = box of id 9
        [0.10, 0.80, 0.2, 0.4],  # q3 = box of id 11 (a dropped GT)
        [0.50, 0.50, 0.1, 0.1],  # q4 far from everything
        [0.25, 0.27, 0.3, 0.3],  # q5: IoU 0.875 with id 5
    ])
    logits = torch.zeros(6, 3)
    key_idx, pos, neg = head.select_contrastive_pairs(logits, ref_bboxes,
                                                      key_gt, ref_gt, meta)
    assert key_idx.tolist() == [0, 2]  # ids 5 and 9, in key order
    # id 5: top-1 IoU sum 1 -> k = 1: q0; id 9: q2
    assert pos.int().tolist() == [[1, 0, 0, 0, 0, 0], [0, 0, 1, 0, 0, 0]]
    # negatives: top-3 IoU sum 2.81 -> k = 2: id 5 takes q0 and q1, so q1
    # is neither positive nor negative; id 9's query is a negative of id 5
    # and the query of the dropped id 11 is a negative of both
    assert neg.int().tolist() == [[0, 0, 1, 1, 1, 1], [1, 1, 0, 1, 1, 1]]
    # no shared instance -> no item
    none = InstanceData(instances_ids=torch.tensor([1]))
    key_idx, pos, _ = head.select_contrastive_pairs(logits, ref_bboxes, none,
                                                    ref_gt, meta)
    assert key_idx.numel() == 0 and pos.shape == (0, 6)


def _crowded_selection(shared_cost: bool, conflict_resolution: str):
    """select_contrastive_pairs on a crowded reference frame whose cost is
    set by hand: three instances all want q0."""
    head = build_tiny_idol().head
    head.embed_pos_topk, head.embed_neg_topk = 1, 3
    head.embed_shared_cost = shared_cost
    head.assigner.conflict_resolution = conflict_resolution
    cost = torch.tensor([[0.0, 1.0, 1.0], [9.0, 3.0, 2.0], [10.0, 4.0, 5.0],
                         [11.0, 8.0, 8.0]])
    # top-1 IoU sums 1.0 -> k = 1; top-3 sums 2.1 -> k = 2
    ious = torch.tensor([[1.0] * 3, [0.6] * 3, [0.5] * 3, [0.0] * 3])
    head.assigner.compute_cost = lambda *args: (cost.clone(), ious)
    ids = torch.tensor([1, 2, 3])
    key_gt = InstanceData(instances_ids=ids)
    ref_gt = InstanceData(
        bboxes=torch.tensor([[10., 10., 40., 40.]] * 3),
        labels=torch.tensor([0, 1, 2]),
        instances_ids=ids)
    _, pos, neg = head.select_contrastive_pairs(
        torch.zeros(4, 3), torch.full((4, 4), 0.25), key_gt, ref_gt,
        dict(img_shape=(100, 100)))
    return pos.int().tolist(), neg.int().tolist()


def test_contrastive_selection_crowded_official_shared_cost():
    """The official code: the top-1 run takes q0 for GT0, its loop
    penalises q0 in place and gives the free q1 to GT1 and GT2 (shared);
    the top-3 run then sees q0 as the costliest query, so q0 (GT0's
    positive) is also one of GT0's negatives, and q1 one of GT1's."""
    pos, neg = _crowded_selection(True, 'official')
    assert pos == [[1, 0, 0, 0], [0, 1, 0, 0], [0, 1, 0, 0]]
    # top-3 run on the penalised cost: GT0 {q3}, GT1 {q2}, GT2 {q1}
    assert neg == [[1, 1, 1, 0], [1, 1, 0, 1], [1, 0, 1, 1]]


def test_contrastive_selection_crowded_fresh_cost():
    """The stricter variant: the top-3 run gets a fresh cost, and GT0's
    positive q0 is no longer among its negatives."""
    pos, neg = _crowded_selection(False, 'official')
    assert pos == [[1, 0, 0, 0], [0, 1, 0, 0], [0, 1, 0, 0]]
    # top-3 run on the plain cost: GT0 {q0}, GT1 {q2}, GT2 {q1}
    assert neg == [[0, 1, 1, 1], [1, 1, 0, 1], [1, 0, 1, 1]]
    # strict conflicts: every instance has a positive of its own
    pos, _ = _crowded_selection(False, 'strict')
    assert pos == [[1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0]]


def test_official_is_the_default():
    head = build_tiny_idol().head
    assert head.embed_shared_cost is True
    assert head.assigner.conflict_resolution == 'official'


# ----------------------------------------------------------------------
# online inference
# ----------------------------------------------------------------------
@MODELS.register_module(name='_TestRecordingTracker', force=True)
class _RecordingTracker:
    """Test-only stand-in that records what IDOL.predict passes."""

    def __init__(self):
        self.calls, self.resets = [], 0

    def reset(self):
        self.resets += 1

    def track(self, frame_id, cls_logits, bboxes, embeds, mask_logits,
              img_meta):
        self.calls.append(
            dict(
                frame_id=frame_id,
                cls_logits=cls_logits,
                bboxes=bboxes,
                embeds=embeds,
                mask_logits=mask_logits,
                img_meta=img_meta))
        return InstanceData(
            bboxes=bboxes[:1],
            scores=cls_logits[:1, 0].sigmoid(),
            labels=torch.zeros(1, dtype=torch.long),
            instances_id=torch.tensor([frame_id]),
            masks=torch.zeros(1, *img_meta['ori_shape'], dtype=torch.bool))

    def video_results(self):
        return [dict(score=0.5, label=0, segmentations=[None, None])]


def test_predict_frame_by_frame_with_stub_tracker():
    model = build_tiny_idol(tracker=dict(type='_TestRecordingTracker')).eval()
    tracker = model.tracker
    for frame_id in range(2):
        # test mode: one frame a sample, original frames 96 x 96
        imgs, clip = make_clip(
            frame_ids=(frame_id, ), with_gt=False, ori_size=96)
        data = model.data_preprocessor(
            dict(inputs=[imgs], data_samples=[clip]), False)
        with torch.no_grad():
            results = model(**data, mode='predict')
            outs = model.extract_frame_queries(data['inputs'][:, 0],
                                               [results[0][0]])
        frame = results[0][0]
        call = tracker.calls[-1]
        assert call['frame_id'] == frame_id
        assert call['cls_logits'].shape == (20, 3)
        assert call['embeds'].shape == (20, DIMS)
        expected_masks = model.decode_masks(outs['mask_params'][0],
                                            outs['references'][0],
                                            outs['mask_feats'][0])
        assert torch.allclose(call['mask_logits'], expected_masks)
        # boxes in original pixels: input boxes / (64 / 96), clipped
        expected_boxes = (outs['bboxes_xyxy'][0] * 1.5).clamp(0, 96)
        assert torch.allclose(call['bboxes'], expected_boxes, atol=1e-4)
        meta = call['img_meta']
        assert meta['img_shape'] == (64, 64)
        assert meta['ori_shape'] == (96, 96)
        assert meta['pad_shape'] == (64, 64)
        assert meta['frame_id'] == frame_id and meta['video_id'] == 3
        assert meta['ori_video_length'] == 2
        assert frame.pred_track_instances.instances_id.tolist() == [frame_id]
        has_video = 'pred_video_instances' in results[0]
        assert has_video == (frame_id == 1)  # only after the last frame
    assert tracker.resets == 1  # reset at frame 0 only


def test_detector_image_level_predict():
    model = build_tiny_idol().eval()
    imgs, clip = make_clip(ori_size=96)
    data = model.data_preprocessor(
        dict(inputs=[imgs], data_samples=[clip]), False)
    clip = data['data_samples'][0]
    with torch.no_grad():
        results = model.detector.predict(data['inputs'][0], [clip[0], clip[1]])
    pred = results[0].pred_instances
    assert pred.scores.shape == (5, ) and pred.bboxes.shape == (5, 4)
    assert pred.masks.shape == (5, 96, 96) and pred.masks.dtype == torch.bool
    assert (pred.scores[:-1] >= pred.scores[1:]).all()
    assert pred.bboxes.max() <= 96
