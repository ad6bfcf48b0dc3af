# Copyright (c) mmookd authors. All rights reserved.
from .qfa_assigner import LabelCrossEntropyCost, QFAAssigner

__all__ = ['LabelCrossEntropyCost', 'QFAAssigner']
