# Copyright (c) mmookd authors. All rights reserved.
from .contrastive_loss import ContrastiveAuxLoss, ContrastiveLoss
from .cosine_kd_loss import CosineKDLoss
from .video_sim_loss import VideoSimilarityLoss

__all__ = [
    'ContrastiveAuxLoss', 'ContrastiveLoss', 'CosineKDLoss',
    'VideoSimilarityLoss'
]
