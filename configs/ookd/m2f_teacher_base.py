# Copyright (c) mmookd authors. All rights reserved.
# mmdet's Mask2Former-VIS as OOKD's teacher (docs/ookd.md, "Mask2Former-VIS
# as the teacher"): the SynthVIS peer of
# configs/mask2former_vis/mask2former_r18-w32_1xb4-2k_synthvis.py, trained
# on its own and frozen. The OOKD configs that use it set
#   model = dict(teacher={{_base_.m2f_teacher}},
#                teacher_checkpoint={{_base_.m2f_teacher_checkpoint}})
m2f_teacher = dict(
    _delete_=True,  # replaces the IDOL-based teacher of the base config
    cfg_path='configs/mask2former_vis/mask2former_r18-w32_1xb4-2k_synthvis.py',
    type='Mask2FormerVISTeacher')
m2f_teacher_checkpoint = ('work_dirs/mask2former_r18-w32_1xb4-2k_synthvis/'
                          'iter_2000.pth')
