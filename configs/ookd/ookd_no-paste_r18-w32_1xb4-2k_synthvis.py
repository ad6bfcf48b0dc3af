# Copyright (c) mmookd authors. All rights reserved.
# Ablation (paper Tab. 4 / Tab. 5, row "KD + QFA" without Minor-Paste): OOKD
# on SynthVIS without Minor-Paste.
_base_ = ['./ookd_r18-w32_1xb4-2k_synthvis.py']

train_dataloader = dict(dataset=dict(pipeline=[_base_.ookd_pack]))
