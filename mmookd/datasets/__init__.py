# Copyright (c) mmookd authors. All rights reserved.
from . import transforms  # noqa: F401
from .metainfo import SYNTHVIS_METAINFO, VIS_METAINFO
from .synthvis import SynthVISConfig, SynthVISDataset, generate_synthvis
from .vis_dataset import VISDataset, VISDatasetError, frame_index_of

__all__ = [
    'SynthVISConfig', 'SynthVISDataset', 'generate_synthvis', 'VISDataset',
    'VISDatasetError', 'frame_index_of', 'VIS_METAINFO', 'SYNTHVIS_METAINFO'
]
