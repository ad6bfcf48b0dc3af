# Copyright (c) mmookd authors. All rights reserved.
# OOKD offline teacher (stage 2), Swin-L, YouTube-VIS 2021: the stage-1
# IDOL of configs/idol/idol_swin-l-p4-w12-384_8xb4-12k_youtube-vis-2021.py,
# frozen, + the same VITA-size aggregator and schedule as the R-50 teacher
# (VITA uses one aggregator size and one schedule per dataset for R-50 and
# Swin-L; IDOL has 300 frame queries with either backbone).
#   python tools/train.py configs/ookd_teacher/\
#       ookd-teacher_swin-l-p4-w12-384_8xb2-40k_youtube-vis-2021.py
_base_ = [
    '../idol/idol_swin-l-p4-w12-384_8xb4-12k_youtube-vis-2021.py',
    './ookd-teacher_base.py'
]

model = dict(
    _delete_=True,
    type='OfflineTeacher',
    data_preprocessor={{_base_.model.data_preprocessor}},
    base={{_base_.model}},
    base_checkpoint='work_dirs/idol_swin-l-p4-w12-384_8xb4-12k_youtube-vis-'
    '2021/iter_12000.pth',
    aggregator={{_base_.teacher_aggregator}},
    reference_cfg={{_base_.teacher_reference_cfg}},
    video_head={{_base_.teacher_video_head}},
    train_cfg={{_base_.teacher_train_cfg}},
    test_cfg={{_base_.teacher_test_cfg}})

train_pipeline = [{{_base_.teacher_clip_sampler}},
                  dict(
                      type='TransformBroadcaster',
                      share_random_params=True,
                      transforms=[
                          dict(type='LoadVISFrame', backend_args=None),
                          dict(type='LoadTrackAnnotations', with_mask=True),
                          dict(
                              type='RandomChoiceResize',
                              scales={{_base_.train_scales}},
                              keep_ratio=True),
                          dict(type='RandomFlip', prob=0.5),
                      ]),
                  dict(type='PackTrackInputs')]
train_dataloader = dict(batch_size=2, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=1, sampler={{_base_.teacher_video_sampler}})
test_dataloader = val_dataloader

optim_wrapper = {{_base_.teacher_optim_wrapper}}

# The schedule of the R-50 teacher (see there): 40k x 16 clips, lr x0.1 at
# 21k.
max_iters = 40000
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
param_scheduler = [
    dict(
        type='MultiStepLR',
        begin=0,
        end=max_iters,
        by_epoch=False,
        milestones=[21000],
        gamma=0.1)
]
default_hooks = dict(checkpoint=dict(interval=5000, max_keep_ckpts=3))
auto_scale_lr = dict(enable=False, base_batch_size=16)
load_from = None
