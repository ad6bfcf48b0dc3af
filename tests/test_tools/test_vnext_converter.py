# Copyright (c) mmookd authors. All rights reserved.
"""Tests of tools/model_converters/vnext_idol_to_mmookd.py.

The official checkpoints are generated here from the official module tree
(VNext IDOL: detectron2 ResNet-50 or D2SwinTransformer, Deformable DETR,
CondInst mask head; facts sheet section 7), independently of the
converter's rules, and filled with random values. The full R-50 and Swin-L
models are built once per module.
"""
import datetime
from collections import OrderedDict
from pathlib import Path

import pytest
import torch
from mmdet.models.layers.transformer.utils import PatchMerging
from mmdet.registry import MODELS
from mmdet.utils import register_all_modules
from mmengine.config import Config
from mmengine.runner import load_checkpoint
from mmengine.runner.checkpoint import load_state_dict

import mmookd  # noqa: F401  (registers IDOL, applies the safe loader)
from mmookd.testing import load_tool

register_all_modules()
CONFIG_DIR = Path(__file__).parents[2] / 'configs' / 'idol'
R50_CFG = CONFIG_DIR / 'idol_r50_8xb4-12k_youtube-vis-2019.py'
SWIN_CFG = CONFIG_DIR / 'idol_swin-l-p4-w12-384_8xb4-12k_youtube-vis-2019.py'


# ---------------------------------------------------------------------------
# The official key tree (names and shapes), written from the official code
# structure, not from the converter.
# ---------------------------------------------------------------------------
def _linear(prefix, cin, cout, bias=True):
    out = {prefix + 'weight': (cout, cin)}
    if bias:
        out[prefix + 'bias'] = (cout, )
    return out


def _norm(prefix, dims):
    return {prefix + 'weight': (dims, ), prefix + 'bias': (dims, )}


def _frozen_bn(prefix, dims):
    return {
        prefix + name: (dims, )
        for name in ('weight', 'bias', 'running_mean', 'running_var')
    }


def d2_resnet50_keys():
    """detectron2 ResNet-50 (FrozenBN, STRIDE_IN_1X1 False)."""
    keys = {'stem.conv1.weight': (64, 3, 7, 7)}
    keys.update(_frozen_bn('stem.conv1.norm.', 64))
    in_ch = 64
    for stage, (blocks, mid) in enumerate([(3, 64), (4, 128), (6, 256),
                                           (3, 512)]):
        out_ch = mid * 4
        for b in range(blocks):
            p = f'res{stage + 2}.{b}.'
            cin = in_ch if b == 0 else out_ch
            convs = [(1, cin, mid, 1), (2, mid, mid, 3), (3, mid, out_ch, 1)]
            for k, ci, co, ks in convs:
                keys[f'{p}conv{k}.weight'] = (co, ci, ks, ks)
                keys.update(_frozen_bn(f'{p}conv{k}.norm.', co))
            if b == 0:
                keys[p + 'shortcut.weight'] = (out_ch, cin, 1, 1)
                keys.update(_frozen_bn(p + 'shortcut.norm.', out_ch))
        in_ch = out_ch
    return keys


def d2_swin_keys(
        depths=(2, 2, 18, 2), embed=192, heads=(6, 12, 24, 48), window=12):
    """Mask2Former-style D2SwinTransformer (APE off, patch norm, norm0..3).
    """
    keys = {
        'patch_embed.proj.weight': (embed, 3, 4, 4),
        'patch_embed.proj.bias': (embed, )
    }
    keys.update(_norm('patch_embed.norm.', embed))
    table = (2 * window - 1)**2
    for s, depth in enumerate(depths):
        dim = embed * 2**s
        for b in range(depth):
            p = f'layers.{s}.blocks.{b}.'
            keys.update(_norm(p + 'norm1.', dim))
            keys[p + 'attn.relative_position_bias_table'] = (table, heads[s])
            keys[p + 'attn.relative_position_index'] = (window**2, window**2)
            keys.update(_linear(p + 'attn.qkv.', dim, 3 * dim))
            keys.update(_linear(p + 'attn.proj.', dim, dim))
            keys.update(_norm(p + 'norm2.', dim))
            keys.update(_linear(p + 'mlp.fc1.', dim, 4 * dim))
            keys.update(_linear(p + 'mlp.fc2.', 4 * dim, dim))
        if s < len(depths) - 1:
            keys.update(
                _linear(
                    f'layers.{s}.downsample.reduction.',
                    4 * dim,
                    2 * dim,
                    bias=False))
            keys.update(_norm(f'layers.{s}.downsample.norm.', 4 * dim))
    for s in range(len(depths)):
        keys.update(_norm(f'norm{s}.', embed * 2**s))
    return keys


def official_idol_keys(backbone='r50', num_classes=40, swin_depths=None):
    """Every key and shape of VNext's IDOL state dict (``model``)."""
    d, ffn, heads, levels, points, layers = 256, 1024, 8, 4, 4, 6
    if backbone == 'r50':
        bb, channels = d2_resnet50_keys(), (512, 1024, 2048)
    else:
        bb = d2_swin_keys(depths=swin_depths or (2, 2, 18, 2))
        channels = (384, 768, 1536)
    keys = {f'detr.detr.backbone.0.backbone.{k}': v for k, v in bb.items()}
    det = 'detr.detr.'
    for lvl, cin in enumerate(channels):
        keys.update({
            f'{det}input_proj.{lvl}.0.weight': (d, cin, 1, 1),
            f'{det}input_proj.{lvl}.0.bias': (d, ),
        })
        keys.update(_norm(f'{det}input_proj.{lvl}.1.', d))
    keys[f'{det}input_proj.3.0.weight'] = (d, channels[-1], 3, 3)
    keys[f'{det}input_proj.3.0.bias'] = (d, )
    keys.update(_norm(f'{det}input_proj.3.1.', d))
    keys[f'{det}query_embed.weight'] = (300, 2 * d)
    tr = det + 'transformer.'
    keys[tr + 'level_embed'] = (levels, d)
    keys.update(_linear(tr + 'reference_points.', d, 2))

    def ms_deform_attn(p):
        out = _linear(p + 'sampling_offsets.', d, heads * levels * points * 2)
        out.update(
            _linear(p + 'attention_weights.', d, heads * levels * points))
        out.update(_linear(p + 'value_proj.', d, d))
        out.update(_linear(p + 'output_proj.', d, d))
        return out

    for i in range(layers):
        p = f'{tr}encoder.layers.{i}.'
        keys.update(ms_deform_attn(p + 'self_attn.'))
        keys.update(_norm(p + 'norm1.', d))
        keys.update(_linear(p + 'linear1.', d, ffn))
        keys.update(_linear(p + 'linear2.', ffn, d))
        keys.update(_norm(p + 'norm2.', d))
    for i in range(layers):
        p = f'{tr}decoder.layers.{i}.'
        keys.update(ms_deform_attn(p + 'cross_attn.'))
        keys.update(_norm(p + 'norm1.', d))
        keys[p + 'self_attn.in_proj_weight'] = (3 * d, d)
        keys[p + 'self_attn.in_proj_bias'] = (3 * d, )
        keys.update(_linear(p + 'self_attn.out_proj.', d, d))
        keys.update(_norm(p + 'norm2.', d))
        keys.update(_linear(p + 'linear1.', d, ffn))
        keys.update(_linear(p + 'linear2.', ffn, d))
        keys.update(_norm(p + 'norm3.', d))
    for i in range(layers):
        keys.update(_linear(f'{det}class_embed.{i}.', d, num_classes))
        for j, cout in enumerate((d, d, 4)):
            keys.update(_linear(f'{det}bbox_embed.{i}.layers.{j}.', d, cout))
    for j, cout in enumerate((d, d, 169)):
        keys.update(_linear(f'detr.controller.layers.{j}.', d, cout))
        keys.update(_linear(f'detr.reid_embed_head.layers.{j}.', d, d))
    for name, cin, cout in [('lay1', d, 64), ('lay2', 64, 8), ('lay3', d, d),
                            ('lay4', d, d), ('dcn', d, d)]:
        keys[f'detr.mask_head.{name}.weight'] = (cout, cin, 3, 3)
        keys[f'detr.mask_head.{name}.bias'] = (cout, )
    return keys


def official_relative_position_index(window):
    """The Swin table index: (dy + W - 1) * (2W - 1) + (dx + W - 1)."""
    ys, xs = torch.meshgrid(
        torch.arange(window), torch.arange(window), indexing='ij')
    ys, xs = ys.flatten(), xs.flatten()
    dy = ys[:, None] - ys[None, :] + window - 1
    dx = xs[:, None] - xs[None, :] + window - 1
    return dy * (2 * window - 1) + dx


def synthetic_checkpoint(keys, seed=0):
    """Random values with the official names and shapes; the decoder's
    bbox_embed alias shares the head's tensors, as in the official model."""
    gen = torch.Generator().manual_seed(seed)
    state = OrderedDict()
    for key, shape in keys.items():
        if key.endswith('relative_position_index'):
            state[key] = official_relative_position_index(
                int(round(shape[0]**0.5)))
        else:
            state[key] = torch.rand(shape, generator=gen)
    for key in [k for k in state if k.startswith('detr.detr.bbox_embed.')]:
        alias = key.replace('detr.detr.', 'detr.detr.transformer.decoder.')
        state[alias] = state[key]
    return state


# ---------------------------------------------------------------------------
# fixtures
# ---------------------------------------------------------------------------
@pytest.fixture(scope='module')
def tool():
    return load_tool('tools/model_converters/vnext_idol_to_mmookd.py')


@pytest.fixture(scope='module', autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def build_model(path):
    cfg = Config.fromfile(str(path))
    cfg.model.detector.backbone.init_cfg = None
    return MODELS.build(cfg.model)


@pytest.fixture(scope='module')
def r50_model():
    return build_model(R50_CFG)


@pytest.fixture(scope='module')
def r50_source():
    return synthetic_checkpoint(official_idol_keys('r50', 40), seed=1)


# ---------------------------------------------------------------------------
#
# ---------------------------------------------------------------------------
def test_r50_every_tensor_lands(tool, r50_model, r50_source):
    converted, report = tool.convert_state_dict(r50_source, 'r50')
    target = r50_model.state_dict()
    tool.check_against_target(converted, target)
    # only the alias is dropped, only the BN counters are added
    assert len(report['dropped']) == 6 * 3 * 2
    assert all('transformer.decoder.bbox_embed' in k
               for k in report['dropped'])
    assert len(report['added']) == 53  # BNs of ResNet-50
    assert len(converted) == len(r50_source) - 36 + 53 == len(target)
    assert set(converted) == set(target)
    r50_model.load_state_dict(converted, strict=True)

    sd = r50_model.state_dict()
    src = r50_source
    bb = 'detr.detr.backbone.0.backbone.'
    checks = {
        'detector.decoder.layers.3.self_attn.attn.in_proj_weight':
        'detr.detr.transformer.decoder.layers.3.self_attn.in_proj_weight',
        'detector.backbone.layer3.5.bn2.running_var':
        bb + 'res4.5.conv2.norm.running_var',
        'detector.backbone.layer2.0.downsample.1.running_mean':
        bb + 'res3.0.shortcut.norm.running_mean',
        'detector.backbone.bn1.weight': bb + 'stem.conv1.norm.weight',
        'detector.neck.extra_convs.0.conv.weight':
        'detr.detr.input_proj.3.0.weight',
        'detector.neck.convs.1.gn.bias': 'detr.detr.input_proj.1.1.bias',
        'detector.query_embedding.weight': 'detr.detr.query_embed.weight',
        'detector.reference_points_fc.weight':
        'detr.detr.transformer.reference_points.weight',
        # decoder: self-attn norm is norm2 officially, norms.0 in mmdet
        'detector.decoder.layers.0.norms.0.weight':
        'detr.detr.transformer.decoder.layers.0.norm2.weight',
        'detector.decoder.layers.0.norms.1.weight':
        'detr.detr.transformer.decoder.layers.0.norm1.weight',
        'detector.decoder.layers.5.norms.2.bias':
        'detr.detr.transformer.decoder.layers.5.norm3.bias',
        'detector.encoder.layers.2.ffn.layers.1.weight':
        'detr.detr.transformer.encoder.layers.2.linear2.weight',
        'detector.bbox_head.reg_branches.4.2.weight':
        'detr.detr.bbox_embed.4.layers.1.weight',
        'detector.bbox_head.controller.layers.2.bias':
        'detr.controller.layers.2.bias',
        'detector.bbox_head.embed_head.layers.1.weight':
        'detr.reid_embed_head.layers.1.weight',
        'detector.bbox_head.mask_head.dcn.weight': 'detr.mask_head.dcn.weight',
    }
    for ours, official in checks.items():
        assert torch.equal(sd[ours], src[official]), ours
    assert int(sd['detector.backbone.layer1.0.bn1.num_batches_tracked']) == 0


def test_errors_list_the_keys(tool, r50_source):
    extra = OrderedDict(r50_source)
    extra['detr.detr.something_new.weight'] = torch.zeros(3)
    with pytest.raises(
            tool.ConversionError,
            match=r'1 source keys have no rule:\n  '
            r'detr\.detr\.something_new\.weight \(3,\)'):
        tool.convert_state_dict(extra, 'r50')

    bad_alias = OrderedDict(r50_source)
    key = 'detr.detr.transformer.decoder.bbox_embed.2.layers.0.weight'
    bad_alias[key] = bad_alias[key] + 1
    with pytest.raises(tool.ConversionError, match='differs'):
        tool.convert_state_dict(bad_alias, 'r50')

    converted, _ = tool.convert_state_dict(r50_source, 'r50')
    target = {k: v for k, v in converted.items()}
    missing = 'detector.bbox_head.mask_head.lay2.bias'
    del converted[missing]
    target['detector.bbox_head.cls_branches.0.bias'] = torch.zeros(7)
    with pytest.raises(tool.ConversionError) as err:
        tool.check_against_target(converted, target)
    assert f'1 model keys get no value:\n  {missing} (8,)' in str(err.value)
    assert ('detector.bbox_head.cls_branches.0.bias: converted (40,), model '
            '(7,)') in str(err.value)


def test_class_count_must_match_config(tool):
    cfg = Config.fromfile(str(R50_CFG))
    with pytest.raises(tool.ConversionError) as err:
        tool.check_config(cfg, 'my_cfg.py', 'r50', 25)
    msg = str(err.value)
    assert '25 classes' in msg and 'num_classes=40' in msg
    assert 'my_cfg.py' in msg
    with pytest.raises(tool.ConversionError, match='backbone'):
        tool.check_config(cfg, 'my_cfg.py', 'swin-l', 40)
    tool.check_config(cfg, 'my_cfg.py', 'r50', 40)
    assert tool.default_config(
        'r50', 80).endswith('idol_r50_8xb4-59k_coco-pseudo-video.py')
    assert tool.default_config(
        'swin-l', 25).endswith('idol_swin-l-p4-w12-384_8xb2-12k_ovis.py')


def test_cli_end_to_end(tool, r50_model, r50_source, tmp_path, capsys):
    src = tmp_path / 'cocopretrain_like_R50.pth'
    torch.save({'model': r50_source, 'iteration': 12000}, src)
    dst = tmp_path / 'out' / 'idol_r50_mmookd.pth'
    tool.main([str(src), str(dst), '--backbone', 'r50'])
    out = capsys.readouterr().out
    assert 'bbox_head.cls_branches' in out and 'saved' in out
    assert 'dropped 36 source tensors' in out

    # mmengine's loader under mmookd's safe (weights_only) torch.load
    checkpoint = load_checkpoint(r50_model, str(dst), strict=True)
    assert checkpoint['meta']['num_classes'] == 40
    assert checkpoint['meta']['backbone'] == 'r50'
    sd = r50_model.state_dict()
    assert torch.equal(
        sd['detector.decoder.layers.1.cross_attn.value_proj.weight'],
        r50_source['detr.detr.transformer.decoder.layers.1.cross_attn.'
                   'value_proj.weight'])

    with pytest.raises(tool.ConversionError, match='holds a r50 backbone'):
        tool.main([str(src), str(dst), '--backbone', 'swin-l'])
    with pytest.raises(tool.ConversionError, match='num_classes=25'):
        tool.main([
            str(src),
            str(dst), '--config',
            str(CONFIG_DIR / 'idol_r50_8xb2-12k_ovis.py')
        ])


def test_trust_source_flag(tool, tmp_path):
    state = OrderedDict(w=torch.arange(3.))
    path = tmp_path / 'with_objects.pth'
    torch.save({'model': state, 'date': datetime.date(2022, 7, 1)}, path)
    with pytest.raises(tool.UntrustedSourceError, match='--trust-source'):
        tool.load_vnext_checkpoint(str(path))
    loaded = tool.load_vnext_checkpoint(str(path), trust_source=True)
    assert torch.equal(loaded['w'], state['w'])
    # a bare state dict with a DDP prefix
    torch.save({'module.w': state['w']}, path)
    assert list(tool.load_vnext_checkpoint(str(path))) == ['w']


# ---------------------------------------------------------------------------
# Swin-L
# ---------------------------------------------------------------------------
def test_swin_l_every_tensor_lands(tool):
    model = build_model(SWIN_CFG)  # the full Swin-L IDOL (~214M elements)
    source = synthetic_checkpoint(official_idol_keys('swin-l', 40), seed=2)
    assert tool.detect_backbone(source) == 'swin-l'
    converted, report = tool.convert_state_dict(source, 'swin-l')
    target = model.state_dict()
    tool.check_against_target(converted, target)
    # dropped: the alias (36) and norm0 (2); no BN in Swin
    assert len(report['dropped']) == 36 + 2
    assert report['added'] == []
    assert len(report['transformed']) == 3 * 3
    assert set(converted) == set(target)
    model.load_state_dict(converted, strict=True)

    sd = model.state_dict()
    bb = 'detr.detr.backbone.0.backbone.'
    checks = {
        'detector.backbone.stages.2.blocks.17.attn.w_msa.qkv.weight':
        bb + 'layers.2.blocks.17.attn.qkv.weight',
        'detector.backbone.stages.1.blocks.1.attn.w_msa.'
        'relative_position_bias_table':
        bb + 'layers.1.blocks.1.attn.relative_position_bias_table',
        'detector.backbone.stages.3.blocks.0.ffn.layers.0.0.weight':
        bb + 'layers.3.blocks.0.mlp.fc1.weight',
        'detector.backbone.patch_embed.projection.weight':
        bb + 'patch_embed.proj.weight',
        'detector.backbone.norm3.weight':
        bb + 'norm3.weight',
        'detector.neck.extra_convs.0.conv.weight':
        'detr.detr.input_proj.3.0.weight',
    }
    for ours, official in checks.items():
        assert torch.equal(sd[ours], source[official]), ours
    assert not any('norm0' in k for k in sd)

    # the reordered patch merging computes what the official one computes
    official_reduction = source[bb + 'layers.0.downsample.reduction.weight']
    assert not torch.equal(
        sd['detector.backbone.stages.0.downsample.reduction.weight'],
        official_reduction)
    stage = model.detector.backbone.stages[0].downsample
    check_patch_merging(stage, source[bb + 'layers.0.downsample.norm.weight'],
                        source[bb + 'layers.0.downsample.norm.bias'],
                        official_reduction)

    # a wrong relative_position_index is caught
    key = 'detector.backbone.stages.0.blocks.0.attn.w_msa.' \
          'relative_position_index'
    converted[key] = converted[key].flip(0)
    with pytest.raises(tool.ConversionError, match='constant buffers'):
        tool.check_against_target(converted, target)


def check_patch_merging(merging: PatchMerging, norm_w, norm_b, reduction):
    """mmdet's PatchMerging with converted weights == the official one
    (2x2 neighbours concatenated as (0,0), (1,0), (0,1), (1,1), LayerNorm,
    Linear without bias) on a random (1, 4 x 6, C) input."""
    channels = reduction.shape[1] // 4
    h, w = 4, 6
    x = torch.randn(
        1, h * w, channels, generator=torch.Generator().manual_seed(3))
    grid = x.view(1, h, w, channels)
    cat = torch.cat([
        grid[:, 0::2, 0::2], grid[:, 1::2, 0::2], grid[:, 0::2, 1::2],
        grid[:, 1::2, 1::2]
    ], -1).view(1, -1, 4 * channels)
    official = torch.nn.functional.layer_norm(cat, (4 * channels, ), norm_w,
                                              norm_b) @ reduction.t()
    with torch.no_grad():
        ours, out_hw = merging(x, (h, w))
    assert out_hw == (h // 2, w // 2)
    torch.testing.assert_close(ours, official, rtol=1e-4, atol=1e-4)


def test_coco_pretrain_into_vis_model(tool, r50_model):
    """cocopretrain_R50.pth (80 classes) -> a YTVIS model (40 classes):
    load_from's non-strict load keeps the class branches of the model (as
    detectron2 skips shape mismatches) and loads everything else."""
    source = synthetic_checkpoint(official_idol_keys('r50', 80), seed=4)
    converted, _ = tool.convert_state_dict(source, 'r50')
    head = r50_model.detector.bbox_head
    before = head.cls_branches[2].weight.detach().clone()
    load_state_dict(r50_model, converted, strict=False)
    assert torch.equal(head.cls_branches[2].weight, before)
    assert torch.equal(head.reg_branches[2][4].weight,
                       source['detr.detr.bbox_embed.2.layers.2.weight'])
