# Copyright (c) mmookd authors. All rights reserved.
"""Video query aggregator: the offline teacher's aggregation module of OOKD.

OOKD (Sec. 3.2) runs a frozen IDOL on every frame of a video, collects the
per-frame instance queries ``f_n^t`` and aggregates them into one
video-level query per instance, ``f^off_n``, with "object token
association" after VITA: an object encoder lets the frame queries talk
along time, and an object decoder embeds them into learnable video
queries. ``mode='average'`` is the "token average" baseline of the paper's
Tab. 6.

Shape shorthand: ``B`` videos, ``T`` frames, ``Nf`` frame queries per frame
(IDOL's ``N`` = 300), ``Nv`` video queries (100), ``C`` channels (256, IDOL's
hidden size, so that the output can go through IDOL's heads), ``W`` the
temporal window of the encoder (6 frames), ``L`` decoder layers (3).

Attention mode::

    frame queries (B, T, Nf, C)
      -> input_proj_dec (Linear C -> C), as VITA, before the encoder
      -> object encoder: 6 x [window self-attention + FFN], post-norm,
         over the W*Nf tokens of each window of W frames; at inference the
         odd layers use windows shifted by ceil(W / 2) frames
      -> object decoder: 3 x [cross-attention (Nv video queries -> all
         T*Nf tokens, key position fq_pos[n]) -> self-attention -> FFN]
      -> decoder_norm on every layer's output
    -> offline queries (L, B, Nv, C); [-1] is f^off of the paper

Memory is bounded by the window, not the video length: the encoder runs
windows in chunks of ``max_windows_per_chunk``, and the decoder's
cross-attention is an exact softmax over frames chunked by
``dec_frames_per_chunk`` with a running log-sum-exp. Only tensors of the
size of the frame queries themselves, ``O(B T Nf C)``, grow with ``T``.
"""
import math
from typing import Dict, Optional, Tuple

import torch
import torch.nn.functional as F
from mmcv.cnn.bricks.transformer import FFN
from mmdet.registry import MODELS
from mmengine.model import BaseModule
from torch import Tensor, nn

# Additive mask value for padded / invalid keys in the encoder (VITA uses
# -1000). A finite value keeps a window made only of padding finite (its
# outputs are discarded); exp(-1e4) is exactly 0 in float32 and float16.
ENC_MASK_VALUE = -1e4


class ObjectEncoderLayer(BaseModule):
    """Post-norm self-attention + FFN over independent token sets.

    ``x = norm1(x + drop(attn(x, x, x)))``, ``x = norm2(x + ffn(x))``. No
    positional embedding: the layer is permutation-equivariant over the
    tokens of a set.

    Args:
        embed_dims (int): Channels ``C``.
        num_heads (int): Attention heads.
        ffn_dims (int): Hidden channels of the FFN.
        dropout (float): Dropout of attention weights, residuals and FFN.
    """

    def __init__(self, embed_dims: int, num_heads: int, ffn_dims: int,
                 dropout: float) -> None:
        super().__init__()
        self.self_attn = nn.MultiheadAttention(
            embed_dims, num_heads, dropout=dropout, batch_first=True)
        self.dropout = nn.Dropout(dropout)
        self.norm1 = nn.LayerNorm(embed_dims)
        self.ffn = FFN(embed_dims, ffn_dims, ffn_drop=dropout)
        self.norm2 = nn.LayerNorm(embed_dims)

    def forward(self,
                x: Tensor,
                key_mask: Optional[Tensor] = None,
                attn_mask: Optional[Tensor] = None) -> Tensor:
        """Encode ``S`` independent sets of ``Lw`` tokens.

        Args:
            x (Tensor): Tokens, (S, Lw, C).
            key_mask (Tensor, optional): Additive float key mask, (S, Lw):
                0 for a real key, a large negative value for a masked one.
            attn_mask (Tensor, optional): Additive float mask, (Lw, Lw) or
                (S * num_heads, Lw, Lw) (used by tests for reference
                computations).

        Returns:
            Tensor: Encoded tokens, (S, Lw, C).
        """
        y = self.self_attn(
            x,
            x,
            x,
            key_padding_mask=key_mask,
            attn_mask=attn_mask,
            need_weights=False)[0]
        x = self.norm1(x + self.dropout(y))
        return self.norm2(self.ffn(x))


class ObjectDecoderLayer(BaseModule):
    """Cross-attention -> self-attention -> FFN, each post-norm.

    The video queries cross-attend to every valid token of the video (key =
    token + its frame-query slot's position ``fq_pos[n]``, value = token),
    then attend to each other, then pass an FFN.

    Args:
        embed_dims (int): Channels ``C``.
        num_heads (int): Attention heads.
        ffn_dims (int): Hidden channels of the FFN.
        dropout (float): Dropout of attention weights, residuals and FFN.
    """

    def __init__(self, embed_dims: int, num_heads: int, ffn_dims: int,
                 dropout: float) -> None:
        super().__init__()
        self.cross_attn = nn.MultiheadAttention(
            embed_dims, num_heads, dropout=dropout, batch_first=True)
        self.cross_norm = nn.LayerNorm(embed_dims)
        self.self_attn = nn.MultiheadAttention(
            embed_dims, num_heads, dropout=dropout, batch_first=True)
        self.self_norm = nn.LayerNorm(embed_dims)
        self.ffn = FFN(embed_dims, ffn_dims, ffn_drop=dropout)
        self.ffn_norm = nn.LayerNorm(embed_dims)
        self.dropout = nn.Dropout(dropout)

    def forward(self, query: Tensor, query_pos: Tensor, memory: Tensor,
                memory_pos: Tensor, memory_valid: Tensor,
                frames_per_chunk: Optional[int]) -> Tensor:
        """Update the video queries.

        Args:
            query (Tensor): Video queries, (B, Nv, C).
            query_pos (Tensor): Their positional embedding, (B, Nv, C).
            memory (Tensor): Encoded frame tokens, (B, T, Nf, C).
            memory_pos (Tensor): Key position of each frame-query slot,
                shared by all frames, (Nf, C).
            memory_valid (Tensor): Valid frames, (B, T) bool.
            frames_per_chunk (int, optional): Frames per step of the
                chunked cross-attention; None for one step.

        Returns:
            Tensor: Updated video queries, (B, Nv, C).
        """
        y = chunked_cross_attention(
            self.cross_attn,
            query + query_pos,
            memory,
            memory_pos,
            memory_valid,
            frames_per_chunk=frames_per_chunk)
        query = self.cross_norm(query + self.dropout(y))
        q = query + query_pos
        y = self.self_attn(q, q, query, need_weights=False)[0]
        query = self.self_norm(query + self.dropout(y))
        return self.ffn_norm(self.ffn(query))


def chunked_cross_attention(attn: nn.MultiheadAttention,
                            query: Tensor,
                            memory: Tensor,
                            memory_pos: Tensor,
                            memory_valid: Tensor,
                            frames_per_chunk: Optional[int] = None) -> Tensor:
    """Exact multi-head cross-attention to a long video, chunked over frames.

    Computes what ``attn(query, key, value, key_padding_mask=~valid)``
    computes with ``key = memory + memory_pos`` and ``value = memory``
    flattened to ``T * Nf`` tokens, using ``attn``'s own projection weights,
    but never holds more than ``frames_per_chunk`` frames of keys, values and
    attention scores: the softmax is accumulated chunk by chunk with a
    running maximum and normaliser (log-sum-exp). Attention dropout (in
    training) is applied to the unnormalised weights of the numerator only,
    which equals dropout on the normalised weights.

    Args:
        attn (nn.MultiheadAttention): A ``batch_first`` attention module with
            ``kdim == vdim == embed_dim``; its weights are used.
        query (Tensor): Queries (with their position added), (B, Nv, C).
        memory (Tensor): Tokens, (B, T, Nf, C).
        memory_pos (Tensor): Key position of each slot, (Nf, C).
        memory_valid (Tensor): Valid frames, (B, T) bool; every video needs
            at least one valid frame.
        frames_per_chunk (int, optional): Frames per chunk; None or >= T
            computes the whole video in one step.

    Returns:
        Tensor: Attention output after ``attn.out_proj``, (B, Nv, C).
    """
    if not (attn.batch_first and attn._qkv_same_embed_dim):
        raise ValueError('chunked_cross_attention needs a batch_first '
                         'nn.MultiheadAttention with kdim == vdim == '
                         'embed_dim')
    bsz, num_q, dims = query.shape
    num_frames, num_slots = memory.shape[1:3]
    heads = attn.num_heads
    head_dims = dims // heads
    w_q, w_k, w_v = attn.in_proj_weight.chunk(3)
    if attn.in_proj_bias is None:
        b_q = b_k = b_v = None
    else:
        b_q, b_k, b_v = attn.in_proj_bias.chunk(3)

    def split_heads(x: Tensor) -> Tensor:  # (B, L, C) -> (B, h, L, d)
        return x.reshape(bsz, x.shape[1], heads, head_dims).transpose(1, 2)

    q = split_heads(F.linear(query, w_q, b_q)) * head_dims**-0.5
    step = num_frames if frames_per_chunk is None else frames_per_chunk
    step = max(1, min(step, num_frames))
    drop = attn.dropout if attn.training else 0.0
    fill = torch.finfo(q.dtype).min / 2

    run_max = q.new_full((bsz, heads, num_q, 1), float('-inf'))
    run_sum = q.new_zeros((bsz, heads, num_q, 1))
    acc = q.new_zeros((bsz, heads, num_q, head_dims))
    for t0 in range(0, num_frames, step):
        mem = memory[:, t0:t0 + step]
        length = mem.shape[1] * num_slots
        key = (mem + memory_pos).reshape(bsz, length, dims)
        k = split_heads(F.linear(key, w_k, b_k))
        v = split_heads(F.linear(mem.reshape(bsz, length, dims), w_v, b_v))
        scores = torch.matmul(q, k.transpose(-1, -2))  # (B, h, Nv, Lc)
        invalid = ~memory_valid[:, t0:t0 + step]  # (B, Tc)
        invalid = invalid.repeat_interleave(num_slots, 1)[:, None, None]
        scores = scores.masked_fill(invalid, fill)
        # The result does not depend on the shift: no gradient through it.
        chunk_max = scores.amax(-1, keepdim=True)
        new_max = torch.maximum(run_max, chunk_max).detach()
        rescale = torch.exp(run_max - new_max)
        weights = torch.exp(scores - new_max)
        run_sum = run_sum * rescale + weights.sum(-1, keepdim=True)
        weights = F.dropout(weights, drop, training=drop > 0)
        acc = acc * rescale + torch.matmul(weights, v)
        run_max = new_max
    out = (acc / run_sum).transpose(1, 2).reshape(bsz, num_q, dims)
    return attn.out_proj(out)


def _pad_time(x: Tensor, front: int, back: int) -> Tensor:
    """Pad dim 1 (time) of ``x`` with ``front`` / ``back`` zero entries."""
    if front == 0 and back == 0:
        return x
    parts = []
    if front > 0:
        parts.append(x.new_zeros((x.shape[0], front) + x.shape[2:]))
    parts.append(x)
    if back > 0:
        parts.append(x.new_zeros((x.shape[0], back) + x.shape[2:]))
    return torch.cat(parts, dim=1)


@MODELS.register_module()
class VideoQueryAggregator(BaseModule):
    """Aggregate per-frame instance queries into video-level queries.

    The aggregation module of OOKD's offline teacher (paper Sec. 3.2), a
    VITA-style object encoder + object decoder over the frame queries of a
    frozen IDOL (``mode='attention'``), or the paper's "token average"
    baseline (Tab. 6, ``mode='average'``, no parameters).

    **Attention mode.** The object encoder has ``num_enc_layers`` post-norm
    layers of self-attention (no positional embedding) + FFN. Time is cut
    into windows of ``window_size`` frames (``T`` is zero-padded to a
    multiple of it, the padded frames masked) and all ``W * Nf`` tokens of a
    window attend to each other. In training every layer uses these plain
    windows. At inference (``self.training`` False and
    ``shift_at_inference``) the odd layers (1, 3, 5) use windows shifted by
    ``s = ceil(W / 2)`` frames, which is Swin's "roll the frames forward by
    ``s``, mask the pairs that wrapped around, roll back". It is realised
    as the identical partition obtained by padding ``s`` masked frames in
    front: windows ``[0, W - s)``, ``[W - s, 2W - s)``, ... so information
    flows across the plain windows' borders. When ``T <= W`` a plain layer
    uses one window of ``T`` frames (the same result as padding it). The
    windows are batched as ``(num_windows, W * Nf, C)`` and run
    ``max_windows_per_chunk`` at a time, so no attention matrix spans more
    than one window.

    The object decoder has ``num_dec_layers`` layers in which
    ``num_video_queries`` learnable queries (content ``query_feat``,
    position ``query_embed``) cross-attend to every encoded token of the
    video (key position ``fq_pos[n]`` for frame
    query slot ``n``, the same in every frame, no temporal embedding), then
    self-attend, then pass an FFN. The shared ``decoder_norm`` is applied
    to every layer's output (the un-normalised output feeds the next
    layer), giving one set of offline queries per layer for deep
    supervision. The cross-attention is exact but chunked over frames
    (``dec_frames_per_chunk``) with a running log-sum-exp, so its
    attention scores are ``(B, heads, Nv, chunk * Nf)`` whatever ``T``.

    **Average mode** ("token average"). The tokens of one instance are
    averaged over the valid frames. Token-to-instance assignment:

    - ``assignment`` given, (B, T, Nf) long: ``assignment[b, t, n] = v``
      says that frame query ``n`` of frame ``t`` belongs to instance slot
      ``v`` in ``[0, num_video_queries)``; ``-1`` means it belongs to no
      instance. The caller builds it, e.g. the teacher from its per-frame
      matching of queries to ground-truth instances (QFA / Hungarian) with
      ``v`` = the index of the ground-truth track in the clip, or at
      inference from the tracker's instance ids. Then
      ``offline[b, v] = mean{frame_queries[b, t, n] : assignment[b, t, n]
      == v, frame t valid}``; a slot with no token is a zero vector with
      ``valid[b, v]`` False.
    - ``assignment`` None: the naive index-based variant, slot ``n`` is the
      mean of query ``n`` over the valid frames (``Nf`` outputs). IDOL's
      query ``n`` is not tied to one instance across frames, so this is
      only a rough baseline.

    Args:
        mode (str): ``'attention'`` or ``'average'``.
        embed_dims (int): Channels ``C`` of the frame queries (IDOL's hidden
            size). Defaults to 256.
        num_frame_queries (int): Frame queries per frame ``Nf`` (IDOL's
            ``N``); the size of ``fq_pos``. Defaults to 300.
        num_video_queries (int): Video queries ``Nv`` (instance slots in
            average mode). Defaults to 100.
        num_enc_layers (int): Object encoder layers. Defaults to 6.
        num_dec_layers (int): Object decoder layers. Defaults to 3.
        num_heads (int): Attention heads. Defaults to 8.
        ffn_dims (int): FFN hidden channels. Defaults to 2048.
        dropout (float): Dropout everywhere. Defaults to 0.0.
        window_size (int): Frames per encoder window ``W``. Defaults to 6.
        shift_at_inference (bool): Shifted windows in the odd encoder layers
            at inference. Defaults to True.
        input_proj (bool): A Linear(C, C) (``input_proj_dec``) on the frame
            queries before the object encoder (VITA's place for it).
            Defaults to True.
        max_windows_per_chunk (int): Encoder windows (over the batch) run
            at once. Defaults to 4 (with Nf = 300 and W = 6 a window has
            1800 tokens, i.e. 8 x 1800^2 attention scores).
        dec_frames_per_chunk (int, optional): Frames per step of the
            decoder's cross-attention; None computes all frames at once.
            Defaults to 36.
        init_cfg (dict, optional): Initialisation config. Defaults to None:
            xavier-uniform for every weight matrix of the encoder, decoder
            and input projection (DETR / VITA style), N(0, 1) for the
            embeddings.
    """

    MODES = ('attention', 'average')

    def __init__(self,
                 mode: str = 'attention',
                 embed_dims: int = 256,
                 num_frame_queries: int = 300,
                 num_video_queries: int = 100,
                 num_enc_layers: int = 6,
                 num_dec_layers: int = 3,
                 num_heads: int = 8,
                 ffn_dims: int = 2048,
                 dropout: float = 0.0,
                 window_size: int = 6,
                 shift_at_inference: bool = True,
                 input_proj: bool = True,
                 max_windows_per_chunk: int = 4,
                 dec_frames_per_chunk: Optional[int] = 36,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if mode not in self.MODES:
            raise ValueError(f'VideoQueryAggregator: mode must be one of '
                             f'{self.MODES}, got {mode!r}')
        for key, value in (('window_size', window_size),
                           ('max_windows_per_chunk', max_windows_per_chunk),
                           ('num_video_queries', num_video_queries)):
            if value < 1:
                raise ValueError(f'VideoQueryAggregator: {key} must be '
                                 f'>= 1, got {value}')
        if dec_frames_per_chunk is not None and dec_frames_per_chunk < 1:
            raise ValueError('VideoQueryAggregator: dec_frames_per_chunk '
                             f'must be >= 1 or None, got '
                             f'{dec_frames_per_chunk}')
        if mode == 'attention' and embed_dims % num_heads != 0:
            raise ValueError(f'VideoQueryAggregator: embed_dims '
                             f'({embed_dims}) must be divisible by '
                             f'num_heads ({num_heads})')
        self.mode = mode
        self.embed_dims = embed_dims
        self.num_frame_queries = num_frame_queries
        self.num_video_queries = num_video_queries
        self.num_enc_layers = num_enc_layers
        self.num_dec_layers = num_dec_layers
        self.window_size = window_size
        self.shift_size = math.ceil(window_size / 2)
        self.shift_at_inference = shift_at_inference
        self.max_windows_per_chunk = max_windows_per_chunk
        self.dec_frames_per_chunk = dec_frames_per_chunk
        if mode == 'average':
            return
        self.encoder_layers = nn.ModuleList([
            ObjectEncoderLayer(embed_dims, num_heads, ffn_dims, dropout)
            for _ in range(num_enc_layers)
        ])
        self.input_proj_dec = nn.Linear(
            embed_dims, embed_dims) if input_proj else nn.Identity()
        self.decoder_layers = nn.ModuleList([
            ObjectDecoderLayer(embed_dims, num_heads, ffn_dims, dropout)
            for _ in range(num_dec_layers)
        ])
        self.decoder_norm = nn.LayerNorm(embed_dims)
        self.query_feat = nn.Embedding(num_video_queries, embed_dims)
        self.query_embed = nn.Embedding(num_video_queries, embed_dims)
        self.fq_pos = nn.Embedding(num_frame_queries, embed_dims)
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        """Xavier-uniform for the weight matrices of all layers."""
        for layers in (self.encoder_layers, self.decoder_layers,
                       self.input_proj_dec):
            for param in layers.parameters():
                if param.dim() > 1:
                    nn.init.xavier_uniform_(param)

    def init_weights(self) -> None:
        """Apply ``init_cfg`` if given, else the DETR-style xavier init."""
        super().init_weights()
        if self.mode == 'attention' and self.init_cfg is None:
            self._reset_parameters()

    # ------------------------------------------------------------------
    # forward
    # ------------------------------------------------------------------
    def forward(self,
                frame_queries: Tensor,
                frame_mask: Optional[Tensor] = None,
                assignment: Optional[Tensor] = None,
                return_frame_tokens: bool = False) -> Dict[str, Tensor]:
        """Aggregate the frame queries of ``B`` videos.

        Args:
            frame_queries (Tensor): Per-frame queries, (B, T, Nf, C).
            frame_mask (Tensor, optional): Valid (real, non-padded) frames,
                (B, T) bool; None means all frames are valid. Invalid frames
                are ignored as keys and contribute to no output.
            assignment (Tensor, optional): Average mode only (ignored in
                attention mode): instance slot of each token, (B, T, Nf)
                long in ``[-1, num_video_queries)``, -1 = no instance. See
                the class docstring.
            return_frame_tokens (bool): Also return the encoded tokens.

        Returns:
            dict:

            - ``offline_queries`` (Tensor): (L, B, Nv, C). Attention mode:
              the ``decoder_norm``'d output of every decoder layer
              (``L = num_dec_layers``; the last is ``f^off``). Average mode:
              ``L = 1``, ``Nv = num_video_queries`` with ``assignment``,
              ``Nv = Nf`` without.
            - ``valid`` (Tensor): (B, Nv) bool, slots that received at least
              one token (all True in attention mode).
            - ``frame_tokens`` (Tensor, if asked): (B, T, Nf, C), the
              encoder's output (attention mode; zeros at invalid frames) or
              the input frame queries (average mode).
        """
        frame_mask = self._check_inputs(frame_queries, frame_mask)
        if self.mode == 'average':
            queries, valid = self._average(frame_queries, frame_mask,
                                           assignment)
            results = dict(offline_queries=queries, valid=valid)
            if return_frame_tokens:
                results['frame_tokens'] = frame_queries
            return results
        tokens = self.encode(self.input_proj_dec(frame_queries), frame_mask)
        queries = self.decode(tokens, frame_mask)
        valid = queries.new_ones(queries.shape[1:3], dtype=torch.bool)
        results = dict(offline_queries=queries, valid=valid)
        if return_frame_tokens:
            results['frame_tokens'] = tokens.masked_fill(
                ~frame_mask[:, :, None, None], 0)
        return results

    def _check_inputs(self, frame_queries: Tensor,
                      frame_mask: Optional[Tensor]) -> Tensor:
        """Validate shapes; return the (B, T) bool frame mask."""
        if frame_queries.dim() != 4:
            raise ValueError('VideoQueryAggregator: frame_queries must be '
                             '(B, T, Nf, C), got shape '
                             f'{tuple(frame_queries.shape)}')
        bsz, num_frames, num_slots, dims = frame_queries.shape
        if dims != self.embed_dims:
            raise ValueError(f'VideoQueryAggregator: frame_queries have '
                             f'{dims} channels, embed_dims is '
                             f'{self.embed_dims}')
        if self.mode == 'attention' and num_slots != self.num_frame_queries:
            raise ValueError(f'VideoQueryAggregator: frame_queries have '
                             f'{num_slots} queries per frame, '
                             f'num_frame_queries is {self.num_frame_queries}')
        if frame_mask is None:
            return frame_queries.new_ones((bsz, num_frames), dtype=torch.bool)
        if tuple(frame_mask.shape) != (bsz, num_frames):
            raise ValueError(f'VideoQueryAggregator: frame_mask must be '
                             f'(B, T) = {(bsz, num_frames)}, got '
                             f'{tuple(frame_mask.shape)}')
        frame_mask = frame_mask.to(
            device=frame_queries.device, dtype=torch.bool)
        if self.mode == 'attention':
            empty = (~frame_mask.any(1)).nonzero().flatten().tolist()
            if empty:
                raise ValueError('VideoQueryAggregator: frame_mask marks no '
                                 f'valid frame in video(s) {empty} of the '
                                 'batch')
        return frame_mask

    # ------------------------------------------------------------------
    # attention mode
    # ------------------------------------------------------------------
    def layer_shift(self, layer_idx: int) -> int:
        """Temporal shift (frames) of encoder layer ``layer_idx``."""
        if (not self.training and self.shift_at_inference
                and layer_idx % 2 == 1):
            return self.shift_size
        return 0

    def partition(self, tokens: Tensor, frame_mask: Tensor,
                  shift: int) -> Tuple[Tensor, Tensor, int, int]:
        """Cut a video into (possibly shifted) temporal windows.

        Args:
            tokens (Tensor): (B, T, Nf, C).
            frame_mask (Tensor): (B, T) bool.
            shift (int): 0 for plain windows ``[kW, (k+1)W)``; ``s`` for
                windows ``[kW - s, (k+1)W - s)`` (Swin's shifted windows).

        Returns:
            tuple: ``windows`` (B * nW, Lw * Nf, C), ``key_valid``
            (B * nW, Lw * Nf) bool, the window length ``Lw`` in frames and
            the number ``front`` of padding frames put in front.
        """
        bsz, num_frames, num_slots, dims = tokens.shape
        if shift == 0 and num_frames <= self.window_size:
            length, front = num_frames, 0
        else:
            length, front = self.window_size, shift
        total = math.ceil((front + num_frames) / length) * length
        back = total - front - num_frames
        tokens = _pad_time(tokens, front, back)
        valid = _pad_time(frame_mask, front, back)
        num_windows = bsz * total // length
        windows = tokens.reshape(num_windows, length * num_slots, dims)
        key_valid = valid.reshape(num_windows, length, 1).expand(
            -1, -1, num_slots).reshape(num_windows, length * num_slots)
        return windows, key_valid, length, front

    def encode(self, frame_queries: Tensor, frame_mask: Tensor) -> Tensor:
        """Object encoder.

        Args:
            frame_queries (Tensor): (B, T, Nf, C), after ``input_proj_dec``.
            frame_mask (Tensor): (B, T) bool.

        Returns:
            Tensor: Encoded tokens, (B, T, Nf, C); values at invalid frames
            are unspecified.
        """
        bsz, num_frames, num_slots, dims = frame_queries.shape
        tokens = frame_queries
        for idx, layer in enumerate(self.encoder_layers):
            windows, key_valid, length, front = self.partition(
                tokens, frame_mask, self.layer_shift(idx))
            key_mask = (~key_valid).to(windows.dtype) * ENC_MASK_VALUE
            # results are written into one buffer: no list + cat copy
            out = torch.empty_like(windows)
            chunk = self.max_windows_per_chunk
            for i in range(0, windows.shape[0], chunk):
                out[i:i + chunk] = layer(windows[i:i + chunk],
                                         key_mask[i:i + chunk])
            del windows
            out = out.reshape(bsz, -1, num_slots, dims)
            tokens = out[:, front:front + num_frames]
        return tokens

    def decode(self, tokens: Tensor, frame_mask: Tensor) -> Tensor:
        """Object decoder.

        Args:
            tokens (Tensor): Encoded tokens, (B, T, Nf, C).
            frame_mask (Tensor): (B, T) bool.

        Returns:
            Tensor: ``decoder_norm``'d output of every layer, (L, B, Nv, C).
        """
        bsz = tokens.shape[0]
        memory = tokens
        query = self.query_feat.weight[None].expand(bsz, -1, -1)
        query_pos = self.query_embed.weight[None].expand(bsz, -1, -1)
        outputs = []
        for layer in self.decoder_layers:
            query = layer(query, query_pos, memory, self.fq_pos.weight,
                          frame_mask, self.dec_frames_per_chunk)
            outputs.append(self.decoder_norm(query))
        return torch.stack(outputs)

    # ------------------------------------------------------------------
    # average mode
    # ------------------------------------------------------------------
    def _average(self, frame_queries: Tensor, frame_mask: Tensor,
                 assignment: Optional[Tensor]) -> Tuple[Tensor, Tensor]:
        """Token average; see the class docstring.

        Returns:
            tuple: ``queries`` (1, B, Nv, C) and ``valid`` (B, Nv) bool.
        """
        bsz, num_frames, num_slots, dims = frame_queries.shape
        use = frame_mask[:, :, None].expand(-1, -1, num_slots)
        if assignment is None:
            weights = use.to(frame_queries.dtype)
            counts = weights.sum(1)  # (B, Nf)
            sums = (frame_queries * weights[..., None]).sum(1)
        else:
            self._check_assignment(assignment, frame_queries.shape[:3])
            use = use & (assignment >= 0)
            weights = use.to(frame_queries.dtype).reshape(bsz, -1)
            index = assignment.long().clamp(min=0).reshape(bsz, -1)
            values = frame_queries.reshape(bsz, -1, dims) * weights[..., None]
            shape = (bsz, self.num_video_queries)
            sums = values.new_zeros(shape + (dims, )).scatter_add(
                1, index[..., None].expand(-1, -1, dims), values)
            counts = weights.new_zeros(shape).scatter_add(1, index, weights)
        queries = sums / counts.clamp(min=1)[..., None]
        return queries[None], counts > 0

    def _check_assignment(self, assignment: Tensor, shape) -> None:
        """Check an average-mode assignment: (B, T, Nf) ints in [-1, Nv)."""
        if tuple(assignment.shape) != tuple(shape):
            raise ValueError(f'VideoQueryAggregator: assignment must be '
                             f'(B, T, Nf) = {tuple(shape)}, got '
                             f'{tuple(assignment.shape)}')
        if assignment.dtype.is_floating_point or assignment.dtype == (
                torch.bool):
            raise ValueError('VideoQueryAggregator: assignment must be an '
                             f'integer tensor, got {assignment.dtype}')
        bad = ((assignment < -1) |
               (assignment >= self.num_video_queries)).nonzero()
        if len(bad):
            b, t, n = bad[0].tolist()
            raise ValueError(
                f'VideoQueryAggregator: assignment[{b}, {t}, {n}] = '
                f'{int(assignment[b, t, n])} is outside [-1, '
                f'{self.num_video_queries}) (num_video_queries)')
