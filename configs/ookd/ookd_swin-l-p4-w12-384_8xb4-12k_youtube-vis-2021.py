# Copyright (c) mmookd authors. All rights reserved.
# OOKD (stage 3), Swin-L, YouTube-VIS 2021: the student is the IDOL of
# configs/idol/idol_swin-l-p4-w12-384_8xb4-12k_youtube-vis-2021.py,
# initialised as that IDOL is (equal budget); the frozen teacher is the
# stage-2 teacher of
# configs/ookd_teacher/ookd-teacher_swin-l-p4-w12-384_8xb2-40k_youtube-vis-
# 2021.py; Minor-Paste.
_base_ = [
    '../idol/idol_swin-l-p4-w12-384_8xb4-12k_youtube-vis-2021.py',
    './ookd_base.py'
]

teacher_window = None
max_teacher_frames = 36

model = dict(
    _delete_=True,
    type='OOKD',
    data_preprocessor={{_base_.model.data_preprocessor}},
    student={{_base_.model}},
    # Equal budget: the student starts where the IDOL it is compared with
    # starts (the IDOL config's `load_from`, inherited below: the COCO
    # pseudo-video IDOL) and trains its schedule. Fine-tuning from stage 1
    # is the separate *ookd-ft* config, with its IDOL control idol-ft.
    student_checkpoint=None,
    teacher=dict(
        cfg_path='configs/ookd_teacher/'
        'ookd-teacher_swin-l-p4-w12-384_8xb2-40k_youtube-vis-2021.py'),
    teacher_checkpoint='work_dirs/ookd-teacher_swin-l-p4-w12-384_8xb2-40k_'
    'youtube-vis-2021/iter_40000.pth',
    assigner={{_base_.ookd_assigner}},
    loss_kd={{_base_.ookd_loss_kd}},
    kd_weight={{_base_.ookd_kd_weight}},
    distill_feature={{_base_.ookd_distill_feature}},
    teacher_window=teacher_window,
    teacher_cache=None)

clip_pipeline = [
    dict(
        type='OOKDFrameSample',
        num_ref_imgs=1,
        frame_range=10,
        filter_key_img=True,
        teacher_window=teacher_window,
        max_teacher_frames=max_teacher_frames)
] + [
    # IDOL's per-frame crop is left out: the teacher aggregates the whole
    # clip, whose frames must share one geometry
    t for t in _base_.train_pipeline if t['type'] not in
    ('UniformRefFrameSample', 'ClipRandomCrop', 'PackTrackInputs')
]
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='ClipMixDataset',
        dataset=dict(_base_.train_dataloader.dataset, pipeline=clip_pipeline),
        pipeline=[_base_.ookd_minor_paste, _base_.ookd_pack]))

# the teacher's frozen parameters stay out of the optimizer (silently)
optim_wrapper = dict(constructor='TrainableOptimWrapperConstructor')
# load_from: inherited from the IDOL config (the same initialisation)
