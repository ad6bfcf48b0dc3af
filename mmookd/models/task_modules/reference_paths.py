# Copyright (c) mmookd authors. All rights reserved.
"""Temporally consistent hard references of video queries (offline).

The offline teacher gives a video query, in every frame, the reference of
one frame query of the frozen IDOL (``OfflineTeacherHead.references``). The
per-frame argmax of the similarity picks each frame on its own, so a video
query may follow one instance in a frame and another in the next (measured
by ``tools/analysis_tools/track_errors.py``: the teacher's tracks switch
owner about ten times as often as IDOL's). An offline model sees the whole
video, so it can choose the frame queries of all frames together:
:func:`smooth_reference_path` picks, per video query, the sequence
``n_1..n_T`` that maximises

    sum_t log w[t, n_t] + lam * sum_{t>1} cos(e[t-1, n_{t-1}], e[t, n_t])

(Viterbi), with ``w`` the query's softmax similarity weights over the frame
queries and ``e`` the frozen IDOL's contrastive embeddings (what its online
tracker associates with): the frame-query similarity says *which* instance,
the embedding term keeps it the *same* instance from frame to frame.

Shape shorthand: ``B`` clips, ``T`` frames, ``Nv`` video queries, ``Nf``
frame queries, ``E`` embedding channels.
"""
import torch
import torch.nn.functional as F
from torch import Tensor


@torch.no_grad()
def smooth_reference_path(log_weights: Tensor, embeds: Tensor,
                          lam: float) -> Tensor:
    """The best frame query of every video query in every frame, jointly.

    Args:
        log_weights (Tensor): (B, T, Nv, Nf) log similarity weights (any
            per-frame score; the path maximises their sum).
        embeds (Tensor): (B, T, Nf, E) frame-query embeddings.
        lam (float): Weight of the cosine between consecutive choices; 0
            gives the per-frame argmax.

    Returns:
        Tensor: (B, T, Nv) long, the chosen frame query per frame.
    """
    b, t_len, nv, nf = log_weights.shape
    if t_len == 0:
        return log_weights.new_zeros((b, 0, nv), dtype=torch.long)
    unit = F.normalize(embeds.float(), dim=-1)
    # (B, T-1, Nf_prev, Nf_cur) cosine between consecutive frames' queries
    trans = lam * torch.einsum('btme,btne->btmn', unit[:, :-1], unit[:, 1:])
    score = log_weights[:, 0].float()  # (B, Nv, Nf)
    back = []
    for t in range(1, t_len):
        cand = score[..., :, None] + trans[:, t - 1, None]  # (B,Nv,Np,Nc)
        score, prev = cand.max(dim=2)
        score = score + log_weights[:, t].float()
        back.append(prev)
    path = [score.argmax(-1)]  # (B, Nv)
    for prev in reversed(back):
        path.append(prev.gather(-1, path[-1][..., None])[..., 0])
    return torch.stack(path[::-1], dim=1)
