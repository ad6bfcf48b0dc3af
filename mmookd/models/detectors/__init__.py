# Copyright (c) mmookd authors. All rights reserved.
from .idol_deformable_detr import IDOLDeformableDETR

__all__ = ['IDOLDeformableDETR']
