# Copyright (c) mmookd authors. All rights reserved.
# OOKD offline teacher (stage 2), R-50, YouTube-VIS 2021: the stage-1 IDOL
# of configs/idol/idol_r50_8xb4-12k_youtube-vis-2021.py, frozen, + a
# VITA-size VideoQueryAggregator trained on 4-frame clips with IDOL's
# losses under video-level matching (docs/offline_teacher.md).
#   python tools/train.py \
#       configs/ookd_teacher/ookd-teacher_r50_8xb2-40k_youtube-vis-2021.py
# Checkpoints hold the aggregator only; the base comes from
# `model.base_checkpoint` (its SHA-256 is recorded and checked).
_base_ = [
    '../idol/idol_r50_8xb4-12k_youtube-vis-2021.py', './ookd-teacher_base.py'
]

model = dict(
    _delete_=True,
    type='OfflineTeacher',
    data_preprocessor={{_base_.model.data_preprocessor}},
    base={{_base_.model}},
    base_checkpoint='work_dirs/idol_r50_8xb4-12k_youtube-vis-2021/'
    'iter_12000.pth',
    aggregator={{_base_.teacher_aggregator}},
    reference_cfg={{_base_.teacher_reference_cfg}},
    video_head={{_base_.teacher_video_head}},
    train_cfg={{_base_.teacher_train_cfg}},
    test_cfg={{_base_.teacher_test_cfg}})

# 4-frame clips; the frame sizes of the base IDOL (the teacher must see
# frames like those the IDOL and, in stage 3, the student see).
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

# VITA trains YouTube-VIS 2021 for 187.5k iterations of 8 clips, 44% of
# them (ratio 0.8 : 1.0 with COCO pseudo-videos) from the video set:
# 667k video clips, lr x0.1 at 53% of the schedule. The COCO share trains
# VITA's frame detector, which is frozen here: the teacher keeps the video
# clips, 667k / 16 = 41.7k iterations -> 40k, lr x0.1 at 21k.
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
