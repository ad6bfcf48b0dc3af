# Copyright (c) mmookd authors. All rights reserved.
# OOKD offline teacher (stage 2), R-50, OVIS: the stage-1 IDOL of
# configs/idol/idol_r50_8xb2-12k_ovis.py, frozen, + a VITA-size
# VideoQueryAggregator (docs/offline_teacher.md).
#   python tools/train.py \
#       configs/ookd_teacher/ookd-teacher_r50_8xb2-15k_ovis.py
_base_ = ['../idol/idol_r50_8xb2-12k_ovis.py', './ookd-teacher_base.py']

model = dict(
    _delete_=True,
    type='OfflineTeacher',
    data_preprocessor={{_base_.model.data_preprocessor}},
    base={{_base_.model}},
    base_checkpoint='work_dirs/idol_r50_8xb2-12k_ovis/iter_12000.pth',
    aggregator={{_base_.teacher_aggregator}},
    reference_cfg={{_base_.teacher_reference_cfg}},
    video_head={{_base_.teacher_video_head}},
    train_cfg={{_base_.teacher_train_cfg}},
    # VITA keeps 20 predictions a video on OVIS (10 on YouTube-VIS)
    test_cfg=dict(
        frames_per_chunk=18, max_per_video=20, mask_thr=0.5, mask_score=True))

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

# VITA trains OVIS for 150k iterations of 8 clips, 20% of them (ratio
# 0.25 : 1.0 with COCO pseudo-videos) from OVIS: 240k video clips, lr x0.1
# at 1/3 and 5/6. With the frame detector frozen the teacher keeps the video
# clips: 240k / 16 = 15k iterations, lr x0.1 at 5k and 12.5k.
max_iters = 15000
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
param_scheduler = [
    dict(
        type='MultiStepLR',
        begin=0,
        end=max_iters,
        by_epoch=False,
        milestones=[5000, 12500],
        gamma=0.1)
]
default_hooks = dict(checkpoint=dict(interval=2500, max_keep_ckpts=3))
auto_scale_lr = dict(enable=False, base_batch_size=16)
load_from = None
