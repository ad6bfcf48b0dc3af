# Copyright (c) mmookd authors. All rights reserved.
# IDOL Swin-L on YouTube-VIS 2019: 8 GPUs x 4 clips, 12k iterations (the
# official ytvis19_swinL.yaml). Set `load_from` to the Swin-L COCO
# pseudo-video pretrained checkpoint
# (idol_swin-l-p4-w12-384_8xb2-148k_coco-pseudo-video.py).
_base_ = [
    './idol_swin-l-p4-w12-384_base.py',
    '../_base_/datasets/youtube_vis_2019.py'
]

load_from = None
