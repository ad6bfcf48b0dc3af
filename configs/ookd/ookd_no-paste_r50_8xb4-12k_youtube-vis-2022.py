# Copyright (c) mmookd authors. All rights reserved.
# Ablation (paper Tab. 4 / Tab. 5 row "KD + QFA", YouTube-VIS 2022: mAP_S
# 45.6, mAP_L 38.3): OOKD without Minor-Paste.
_base_ = ['./ookd_r50_8xb4-12k_youtube-vis-2022.py']

train_dataloader = dict(dataset=dict(pipeline=[_base_.ookd_pack]))
