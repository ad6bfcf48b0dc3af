# Copyright (c) mmookd authors. All rights reserved.
# Ablation (paper Tab. 4, "KD without QFA"): the same distillation without
# matching queries to instances: student query n is paired with teacher
# query n (QFAAssigner match='index'), no Minor-Paste as in Tab. 4.
_base_ = ['./ookd_no-paste_r18-w32_1xb4-2k_synthvis.py']

model = dict(assigner=dict(match='index'))
