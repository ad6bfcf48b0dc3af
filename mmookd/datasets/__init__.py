# Copyright (c) mmookd authors. All rights reserved.
from . import transforms  # noqa: F401
from .metainfo import SYNTHVIS_METAINFO, VIS_METAINFO
from .vis_dataset import VISDataset, VISDatasetError, frame_index_of

__all__ = [
    'VISDataset', 'VISDatasetError', 'frame_index_of', 'VIS_METAINFO',
    'SYNTHVIS_METAINFO'
]
