# Copyright (c) mmookd authors. All rights reserved.
# Ablation (paper Tab. 6, "Token Average", YouTube-VIS 2022: mAP_S 45.5,
# mAP_L 38.3): the teacher averages the frozen IDOL's tokens of an instance
# over the frames (configs/ookd_teacher/ookd-teacher_r50_avg_youtube-vis-
# 2021.py: no parameters, no teacher checkpoint), with Minor-Paste.
_base_ = ['./ookd_r50_8xb4-12k_youtube-vis-2022.py']

model = dict(
    teacher=dict(cfg_path='configs/ookd_teacher/'
                 'ookd-teacher_r50_avg_youtube-vis-2021.py'),
    teacher_checkpoint=None)
