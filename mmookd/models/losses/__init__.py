# Copyright (c) mmookd authors. All rights reserved.
from .cosine_kd_loss import CosineKDLoss

__all__ = ['CosineKDLoss']
