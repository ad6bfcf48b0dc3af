# Copyright (c) mmookd authors. All rights reserved.
# OOKD fine-tuned from stage 1 (DESIGN's "init from idol.pth"): the student
# starts from the finished stage-1 IDOL and trains another 12k iterations
# with KD. This spends twice IDOL's budget; compare it with its control
# configs/idol/idol-ft_r50_8xb4-12k_youtube-vis-2021.py (the same IDOL
# fine-tuned 12k more iterations without KD), not with the stage-1 IDOL.
# The equal-budget OOKD is ookd_r50_8xb4-12k_youtube-vis-2021.py.
_base_ = ['./ookd_r50_8xb4-12k_youtube-vis-2021.py']

model = dict(
    student_checkpoint='work_dirs/idol_r50_8xb4-12k_youtube-vis-2021/'
    'iter_12000.pth')
load_from = None
