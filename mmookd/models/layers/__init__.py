# Copyright (c) mmookd authors. All rights reserved.
from .dynamic_mask_head import IDOLDynamicMaskHead
from .video_query_aggregator import (VideoQueryAggregator,
                                     chunked_cross_attention)

__all__ = [
    'IDOLDynamicMaskHead', 'VideoQueryAggregator', 'chunked_cross_attention'
]
