# Copyright (c) mmookd authors. All rights reserved.
# SynthVIS OOKD fine-tuned from stage 1: the student starts from the
# finished stage-1 IDOL and trains another 2k iterations with KD (cached
# teacher, Minor-Paste). Compare with its control, the same IDOL trained
# 2k more iterations with Minor-Paste and no KD:
# configs/idol/idol-ft_r18-w32_1xb4-2k_minor-paste_synthvis.py.
_base_ = ['./ookd_cached-teacher_r18-w32_1xb4-2k_synthvis.py']

model = dict(
    student_checkpoint='work_dirs/idol_r18-w32_1xb4-2k_synthvis/iter_2000.pth')
