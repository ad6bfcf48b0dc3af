# Copyright (c) mmookd authors. All rights reserved.
# The control of configs/ookd/ookd-ft_r50_8xb4-12k_youtube-vis-2021.py: the
# finished stage-1 IDOL trained another 12k iterations with the same
# recipe and no KD, so that OOKD fine-tuned from stage 1 is compared at an
# equal (doubled) budget.
_base_ = ['./idol_r50_8xb4-12k_youtube-vis-2021.py']

load_from = 'work_dirs/idol_r50_8xb4-12k_youtube-vis-2021/iter_12000.pth'
