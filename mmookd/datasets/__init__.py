# Copyright (c) mmookd authors. All rights reserved.
from . import transforms  # noqa: F401
from .dataset_wrappers import ClipMixDataset
from .metainfo import SYNTHVIS_METAINFO, VIS_METAINFO
from .synthvis import SynthVISConfig, SynthVISDataset, generate_synthvis
from .vis_dataset import VISDataset, VISDatasetError, frame_index_of

__all__ = [
    'ClipMixDataset', 'SynthVISConfig', 'SynthVISDataset', 'generate_synthvis',
    'VISDataset', 'VISDatasetError', 'frame_index_of', 'VIS_METAINFO',
    'SYNTHVIS_METAINFO'
]
