# Copyright (c) mmookd authors. All rights reserved.
# Ablation of the SynthVIS OOKD: distillation from the cached teacher
# without Minor-Paste (compare with ookd_cached-teacher_*: KD + paste, and
# configs/idol/idol_r18-w32_1xb4-2k_minor-paste_synthvis.py: paste alone).
# Build the cache first (tools/ookd/cache_teacher.py) or let
# tools/ookd_pipeline.py wire the paths; README "Status and results".
_base_ = ['./ookd_cached-teacher_r18-w32_1xb4-2k_synthvis.py']

train_dataloader = dict(dataset=dict(pipeline=[_base_.ookd_pack]))
