# Copyright (c) mmookd authors. All rights reserved.
# Ablation (paper Tab. 4, "KD without QFA", YouTube-VIS 2022: mAP_S 44.2,
# mAP_L 31.0): student query n paired with teacher query n (QFAAssigner
# match='index'), no Minor-Paste.
_base_ = ['./ookd_no-paste_r50_8xb4-12k_youtube-vis-2022.py']

model = dict(assigner=dict(match='index'))
