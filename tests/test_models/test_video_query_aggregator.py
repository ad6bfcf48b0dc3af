# Copyright (c) mmookd authors. All rights reserved.
"""Tests of VideoQueryAggregator with tiny dimensions.

Shorthand: ``B`` videos, ``T`` frames, ``NF`` frame queries per frame,
``NV`` video queries, ``C`` channels, ``W`` encoder window (frames).
"""
import math

import pytest
import torch
from mmdet.registry import MODELS
from torch.utils._python_dispatch import TorchDispatchMode

from mmookd.models.layers.video_query_aggregator import (
    ENC_MASK_VALUE, VideoQueryAggregator, chunked_cross_attention)

C, NF, NV, HEADS = 16, 4, 5, 2


@pytest.fixture(autouse=True, scope='module')
def one_thread():
    """Tiny tensors: thread hand-offs dominate on a busy 2-core machine."""
    num = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(num)


def make(seed=0, **kwargs):
    torch.manual_seed(seed)
    cfg = dict(
        embed_dims=C,
        num_frame_queries=NF,
        num_video_queries=NV,
        num_enc_layers=6,
        num_dec_layers=3,
        num_heads=HEADS,
        ffn_dims=32,
        window_size=6)
    cfg.update(kwargs)
    return VideoQueryAggregator(**cfg)


def run(model, x, mask=None):
    with torch.no_grad():
        return model(x, frame_mask=mask, return_frame_tokens=True)


def close(a, b, atol=1e-5):
    return torch.allclose(a, b, atol=atol, rtol=0)


# ----------------------------------------------------------------------
# building and shapes
# ----------------------------------------------------------------------
def test_build_from_registry_and_defaults():
    model = MODELS.build(dict(type='VideoQueryAggregator'))
    assert isinstance(model, VideoQueryAggregator)
    assert len(model.encoder_layers) == 6
    assert len(model.decoder_layers) == 3
    assert model.query_feat.weight.shape == (100, 256)
    assert model.query_embed.weight.shape == (100, 256)
    assert model.fq_pos.weight.shape == (300, 256)
    assert model.encoder_layers[0].self_attn.num_heads == 8
    assert model.encoder_layers[0].ffn.feedforward_channels == 2048
    assert model.window_size == 6 and model.shift_size == 3
    avg = MODELS.build(dict(type='VideoQueryAggregator', mode='average'))
    assert sum(p.numel() for p in avg.parameters()) == 0


def test_xavier_init():
    model = make()
    # second FFN linear (32 -> 16): torch's default bound is 1/sqrt(32) =
    # 0.177, xavier's sqrt(6 / 48) = 0.354.
    weight = model.encoder_layers[0].ffn.layers[1].weight
    bound = math.sqrt(6 / (32 + C))
    assert weight.abs().max() <= bound
    assert weight.abs().max() > 0.25
    proj = model.input_proj_dec.weight
    assert proj.abs().max() <= math.sqrt(6 / (2 * C))
    assert proj.abs().max() > 1 / math.sqrt(C)
    model.input_proj_dec.weight.data.zero_()
    model.init_weights()
    assert model.input_proj_dec.weight.abs().max() > 0


def test_attention_shapes():
    model = make().eval()
    x = torch.randn(2, 7, NF, C)
    out = run(model, x)
    assert out['offline_queries'].shape == (3, 2, NV, C)
    assert out['valid'].shape == (2, NV) and out['valid'].all()
    assert out['frame_tokens'].shape == (2, 7, NF, C)
    assert torch.isfinite(out['offline_queries']).all()
    # decoder_norm output: zero mean, unit variance over channels
    last = out['offline_queries'][-1]
    assert close(last.mean(-1), torch.zeros(2, NV), atol=1e-5)
    out = model(x)
    assert 'frame_tokens' not in out


def test_average_shapes():
    model = make(mode='average')
    x = torch.randn(2, 3, NF, C)
    out = model(x)
    assert out['offline_queries'].shape == (1, 2, NF, C)
    assert out['valid'].shape == (2, NF) and out['valid'].all()
    assign = torch.full((2, 3, NF), -1, dtype=torch.long)
    out = model(x, assignment=assign)
    assert out['offline_queries'].shape == (1, 2, NV, C)
    assert not out['valid'].any()
    assert (out['offline_queries'] == 0).all()


# ----------------------------------------------------------------------
# average mode values
# ----------------------------------------------------------------------
def test_average_hand_computed():
    model = VideoQueryAggregator(
        mode='average', embed_dims=2, num_video_queries=3)
    # B = 1, T = 3, Nf = 2, C = 2; token (t, n) = [10 t + n, -(10 t + n)]
    x = torch.tensor([[[[0., 0.], [1., -1.]], [[10., -10.], [11., -11.]],
                       [[20., -20.], [21., -21.]]]])
    assign = torch.tensor([[[0, -1], [1, 0], [0, 0]]])
    mask = torch.tensor([[True, True, False]])  # frame 2 is padding
    out = model(x, frame_mask=mask, assignment=assign)
    # slot 0: tokens (0,0) and (1,1) -> mean(0, 11); (2, *) invalid frame
    # slot 1: token (1,0) -> 10; slot 2: no token
    expected = torch.tensor([[[5.5, -5.5], [10., -10.], [0., 0.]]])
    assert torch.equal(out['offline_queries'][0], expected)
    assert out['valid'].tolist() == [[True, True, False]]
    # without the frame mask frame 2 counts: slot 0 = mean(0, 11, 20, 21)
    out = model(x, assignment=assign.int())
    assert out['offline_queries'][0, 0, 0].tolist() == [13., -13.]
    # naive index-based variant: slot n = mean over valid frames of query n
    out = model(x, frame_mask=mask)
    expected = torch.tensor([[[5., -5.], [6., -6.]]])
    assert torch.equal(out['offline_queries'][0], expected)
    assert out['valid'].tolist() == [[True, True]]


def test_average_bad_assignment():
    model = VideoQueryAggregator(
        mode='average', embed_dims=2, num_video_queries=3)
    x = torch.zeros(1, 2, 2, 2)
    assign = torch.zeros(1, 2, 2, dtype=torch.long)
    assign[0, 1, 0] = 3
    with pytest.raises(ValueError, match=r'assignment\[0, 1, 0\] = 3'):
        model(x, assignment=assign)
    with pytest.raises(ValueError, match='assignment must be'):
        model(x, assignment=torch.zeros(1, 2, 3, dtype=torch.long))
    with pytest.raises(ValueError, match='integer'):
        model(x, assignment=torch.zeros(1, 2, 2))


# ----------------------------------------------------------------------
# windows
# ----------------------------------------------------------------------
def test_plain_windows_are_block_diagonal():
    """Training mode: window 1 (frames 0-5) never sees window 2 (6-11)."""
    model = make().train()
    x = torch.randn(1, 12, NF, C)
    y = x.clone()
    y[:, 6:] += torch.randn(1, 6, NF, C)
    a, b = run(model, x), run(model, y)
    assert close(a['frame_tokens'][:, :6], b['frame_tokens'][:, :6], 1e-6)
    assert not close(a['frame_tokens'][:, 6:], b['frame_tokens'][:, 6:], 0.1)
    # the decoder reads the whole video
    assert not close(a['offline_queries'], b['offline_queries'], 1e-3)
    # same at inference without shifted windows
    model = make(shift_at_inference=False).eval()
    a, b = run(model, x), run(model, y)
    assert close(a['frame_tokens'][:, :6], b['frame_tokens'][:, :6], 1e-6)


def test_shifted_windows_cross_the_border_at_inference():
    model = make().eval()
    x = torch.randn(1, 12, NF, C)
    y = x.clone()
    y[:, 6:] += torch.randn(1, 6, NF, C)
    a, b = run(model, x), run(model, y)
    diff = (a['frame_tokens'] - b['frame_tokens']).abs().amax((0, 2, 3))
    # layer 1's window [3, 9) mixes frames 3-5 with 6-8, layer 2's plain
    # window [0, 6) passes it on to frames 0-2
    assert (diff[:6] > 1e-3).all()
    assert [model.layer_shift(i) for i in range(6)] == [0, 3, 0, 3, 0, 3]
    model.train()
    assert [model.layer_shift(i) for i in range(6)] == [0] * 6


def reference_mask(num_frames, window, shift, valid):
    """Token-level additive mask of Swin-style (shifted) windows.

    Frames padded to ``Tp``; with ``shift`` the frames are rolled forward by
    ``shift`` (frame t goes to position (t + shift) mod Tp), cut into
    windows, and pairs of which only one wrapped around are blocked.
    """
    padded = math.ceil(num_frames / window) * window
    t = torch.arange(padded)
    win = ((t + shift) % padded) // window
    wrapped = (t + shift) >= padded
    ok_valid = torch.zeros(padded, dtype=torch.bool)
    ok_valid[:num_frames] = valid
    same_window = win[:, None] == win[None]
    same_side = wrapped[:, None] == wrapped[None]
    allowed = same_window & same_side & ok_valid[None]
    allowed = allowed.repeat_interleave(NF, 0).repeat_interleave(NF, 1)
    return (~allowed).float() * ENC_MASK_VALUE, padded


@pytest.mark.parametrize('num_frames,window', [(10, 4), (7, 5), (3, 4),
                                               (8, 3)])
def test_windows_match_swin_roll_reference(num_frames, window):
    """Encoder (plain, shifted) == global attention with a Swin mask."""
    model = make(num_enc_layers=2, window_size=window).eval()
    x = torch.randn(1, num_frames, NF, C)
    valid = torch.ones(num_frames, dtype=torch.bool)
    with torch.no_grad():
        out = model.encode(x, valid[None])
        ref = x
        for idx, layer in enumerate(model.encoder_layers):
            shift = math.ceil(window / 2) if idx % 2 else 0
            mask, padded = reference_mask(num_frames, window, shift, valid)
            tokens = torch.zeros(1, padded, NF, C)
            tokens[:, :num_frames] = ref
            tokens = layer(tokens.reshape(1, padded * NF, C), attn_mask=mask)
            ref = tokens.reshape(1, padded, NF, C)[:, :num_frames]
    assert close(out, ref)


def test_padding_does_not_change_real_frames():
    model = make()
    x = torch.randn(1, 8, NF, C)  # T = 8 is padded to 12 inside
    garbage = torch.cat([x, 50 * torch.randn(1, 4, NF, C)], dim=1)
    mask = torch.tensor([[True] * 8 + [False] * 4])
    for mode in ('train', 'eval'):
        getattr(model, mode)()
        a, b = run(model, x), run(model, garbage, mask)
        assert close(a['frame_tokens'], b['frame_tokens'][:, :8]), mode
        assert close(a['offline_queries'], b['offline_queries']), mode
        assert (b['frame_tokens'][:, 8:] == 0).all()
    # unpadded references with plain windows: frames 0-5 alone (T = 6 = W)
    # and frames 6-7 alone with a window of 2 frames (T = 2 = W)
    model.train()
    a = run(model, x)['frame_tokens']
    assert close(a[:, :6], run(model, x[:, :6])['frame_tokens'])
    model.window_size = 2
    assert close(a[:, 6:], run(model, x[:, 6:])['frame_tokens'])


def test_batch_of_videos_of_different_lengths():
    model = make().eval()
    long, short = torch.randn(1, 9, NF, C), torch.randn(1, 4, NF, C)
    batch = torch.cat([long, torch.cat([short, torch.randn(1, 5, NF, C)], 1)])
    mask = torch.tensor([[True] * 9, [True] * 4 + [False] * 5])
    out = run(model, batch, mask)
    assert close(out['offline_queries'][:, 0],
                 run(model, long)['offline_queries'][:, 0])
    assert close(out['offline_queries'][:, 1],
                 run(model, short)['offline_queries'][:, 0])
    message = r'no valid frame in video\(s\) \[1\]'
    with pytest.raises(ValueError, match=message):
        model(batch, frame_mask=torch.tensor([[True] * 9, [False] * 9]))


# ----------------------------------------------------------------------
# decoder
# ----------------------------------------------------------------------
@pytest.mark.parametrize('chunk', [1, 3, 4, None])
def test_chunked_cross_attention_equals_full(chunk):
    torch.manual_seed(1)
    attn = torch.nn.MultiheadAttention(C, HEADS, batch_first=True)
    query = torch.randn(2, NV, C, requires_grad=True)
    memory = torch.randn(2, 7, NF, C, requires_grad=True)
    pos = torch.randn(NF, C)
    valid = torch.ones(2, 7, dtype=torch.bool)
    valid[1, 2:6] = False
    out = chunked_cross_attention(attn, query, memory, pos, valid, chunk)
    key = (memory + pos).reshape(2, 7 * NF, C)
    pad = (~valid).repeat_interleave(NF, 1)
    ref = attn(
        query, key, memory.reshape(2, 7 * NF, C), key_padding_mask=pad)[0]
    assert close(out, ref)
    weight = torch.randn_like(out)
    grads = torch.autograd.grad((out * weight).sum(),
                                [query, memory, attn.in_proj_weight])
    grads_ref = torch.autograd.grad((ref * weight).sum(),
                                    [query, memory, attn.in_proj_weight])
    for g, g_ref in zip(grads, grads_ref):
        assert close(g, g_ref)


def test_decoder_chunk_size_does_not_change_outputs():
    x = torch.randn(1, 13, NF, C)
    a = run(make(dec_frames_per_chunk=None).eval(), x)['offline_queries']
    b = run(make(dec_frames_per_chunk=2).eval(), x)['offline_queries']
    c = run(make(max_windows_per_chunk=1).eval(), x)['offline_queries']
    assert close(a, b) and close(a, c)


def test_permutation_consistency():
    model = make().eval()
    x = torch.randn(1, 8, NF, C)
    base = run(model, x)
    pos = model.fq_pos.weight.data.clone()
    # permuting the frame-query slots together with fq_pos changes nothing
    perm = torch.tensor([2, 0, 3, 1])
    model.fq_pos.weight.data = pos[perm]
    out = run(model, x[:, :, perm])
    assert close(out['offline_queries'], base['offline_queries'])
    assert close(out['frame_tokens'], base['frame_tokens'][:, :, perm])
    # ... while permuting fq_pos alone does change the video queries
    out = run(model, x)
    assert not close(out['offline_queries'], base['offline_queries'], 1e-3)
    model.fq_pos.weight.data = pos
    # permuting the video queries permutes the outputs
    vperm = torch.tensor([4, 2, 0, 1, 3])
    model.query_feat.weight.data = model.query_feat.weight.data[vperm]
    model.query_embed.weight.data = model.query_embed.weight.data[vperm]
    out = run(model, x)
    expected = base['offline_queries'][:, :, vperm]
    assert close(out['offline_queries'], expected)


# ----------------------------------------------------------------------
# memory on long videos
# ----------------------------------------------------------------------
class AttentionSizeRecorder(TorchDispatchMode):
    """Largest batched matmul output and largest op output (numel)."""

    def __init__(self):
        super().__init__()
        self.bmm = 0
        self.any = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if isinstance(out, torch.Tensor):
            self.any = max(self.any, out.numel())
            if func.__name__.split('.')[0] in ('bmm', 'baddbmm'):
                self.bmm = max(self.bmm, out.numel())
        return out


def peak_sizes(model, num_frames):
    """Run ``num_frames`` frames; return the peak attention sizes."""
    mha_peak = [0]

    def hook(module, args, kwargs):
        query = args[0] if args else kwargs['query']
        key = args[1] if len(args) > 1 else kwargs['key']
        size = query.shape[0] * module.num_heads * query.shape[1] * (
            key.shape[1])
        mha_peak[0] = max(mha_peak[0], size)

    handles = [
        m.register_forward_pre_hook(hook, with_kwargs=True)
        for m in model.modules() if isinstance(m, torch.nn.MultiheadAttention)
    ]
    x = torch.randn(1, num_frames, 3, 8)
    recorder = AttentionSizeRecorder()
    with torch.no_grad(), recorder:
        out = model(x)
    for handle in handles:
        handle.remove()
    assert torch.isfinite(out['offline_queries']).all()
    return mha_peak[0], recorder.bmm, recorder.any, x.numel()


def test_long_video_memory_is_bounded_by_the_window():
    torch.manual_seed(0)
    model = VideoQueryAggregator(
        embed_dims=8,
        num_frame_queries=3,
        num_video_queries=5,
        num_enc_layers=2,
        num_dec_layers=2,
        num_heads=2,
        ffn_dims=16,
        window_size=6,
        max_windows_per_chunk=4,
        dec_frames_per_chunk=10).eval()
    short = peak_sizes(model, 200)
    long = peak_sizes(model, 1000)
    # encoder self-attention: 4 windows x 2 heads x (6 frames x 3)^2
    assert short[0] == long[0] == 4 * 2 * 18 * 18
    # decoder cross-attention scores: 1 video x 2 heads x 5 x (10 x 3)
    assert short[1] == long[1] == 2 * 5 * 30
    # nothing larger than a few copies of the (padded) video's tokens
    assert long[2] <= 2 * long[3]
    assert long[2] <= 5.5 * short[2]


# ----------------------------------------------------------------------
# training
# ----------------------------------------------------------------------
def test_gradients_reach_every_parameter():
    model = make().train()
    x = torch.randn(2, 7, NF, C)
    mask = torch.tensor([[True] * 7, [True] * 5 + [False] * 2])
    out = model(x, frame_mask=mask)['offline_queries']
    (out * torch.randn_like(out)).sum().backward()
    for name, param in model.named_parameters():
        assert param.grad is not None, name
        assert param.grad.abs().sum() > 0, name


def test_input_errors():
    model = make()
    with pytest.raises(ValueError, match='num_frame_queries'):
        model(torch.randn(1, 2, NF + 1, C))
    with pytest.raises(ValueError, match='embed_dims'):
        model(torch.randn(1, 2, NF, C + 1))
    with pytest.raises(ValueError, match='frame_mask'):
        model(torch.randn(1, 2, NF, C), frame_mask=torch.ones(1, 3))
    with pytest.raises(ValueError, match='mode'):
        VideoQueryAggregator(mode='mean')
    with pytest.raises(ValueError, match='max_windows_per_chunk'):
        make(max_windows_per_chunk=0)
