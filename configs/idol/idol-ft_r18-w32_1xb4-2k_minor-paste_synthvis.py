# Copyright (c) mmookd authors. All rights reserved.
# The control of configs/ookd/ookd-ft_r18-w32_1xb4-2k_synthvis.py: the
# finished stage-1 SynthVIS IDOL trained 2k more iterations with
# Minor-Paste and no KD (the same extra budget and data as OOKD-ft).
_base_ = ['./idol_r18-w32_1xb4-2k_minor-paste_synthvis.py']

load_from = 'work_dirs/idol_r18-w32_1xb4-2k_synthvis/iter_2000.pth'
