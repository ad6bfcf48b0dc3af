# Copyright (c) mmookd authors. All rights reserved.
from .contrastive_loss import ContrastiveAuxLoss, ContrastiveLoss
from .cosine_kd_loss import CosineKDLoss

__all__ = ['ContrastiveAuxLoss', 'ContrastiveLoss', 'CosineKDLoss']
