# Copyright (c) mmookd authors. All rights reserved.
# OOKD offline teacher on SynthVIS, small enough for a 2-core CPU: the
# SynthVIS IDOL of configs/idol/idol_r18-w32_1xb4-2k_synthvis.py (64-d,
# 30 queries), frozen, + a small aggregator (64-d, 2 encoder / 2 decoder
# layers, 20 video queries, FFN 128), trained on clips of 4 frames for 500
# iterations (about 3 minutes on 2 cores).
#   python tools/train.py configs/idol/idol_r18-w32_1xb4-2k_synthvis.py
#   python tools/train.py \
#       configs/ookd_teacher/ookd-teacher_r18-w32_1xb4-500_synthvis.py
_base_ = ['../idol/idol_r18-w32_1xb4-2k_synthvis.py', './ookd-teacher_base.py']

embed_dims = 64
model = dict(
    _delete_=True,
    type='OfflineTeacher',
    data_preprocessor={{_base_.model.data_preprocessor}},
    base={{_base_.model}},
    base_checkpoint='work_dirs/idol_r18-w32_1xb4-2k_synthvis/iter_2000.pth',
    aggregator=dict(
        type='VideoQueryAggregator',
        mode='attention',
        embed_dims=embed_dims,
        num_frame_queries=30,
        num_video_queries=20,
        num_enc_layers=2,
        num_dec_layers=2,
        num_heads=4,
        ffn_dims=128,
        dropout=0.0,
        window_size=6,
        shift_at_inference=True,
        input_proj=True,
        max_windows_per_chunk=4,
        dec_frames_per_chunk=36),
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
train_dataloader = dict(
    batch_size=4, num_workers=1, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1, num_workers=1, sampler={{_base_.teacher_video_sampler}})
test_dataloader = val_dataloader
val_evaluator = dict(outfile_prefix='work_dirs/synthvis_teacher_results')
test_evaluator = val_evaluator

# A small aggregator from scratch in a few minutes: a larger lr and a looser
# gradient clip than VITA's (as the SynthVIS IDOL config does).
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    constructor='TrainableOptimWrapperConstructor',
    optimizer=dict(type='AdamW', lr=4e-4, weight_decay=0.05),
    clip_grad=dict(max_norm=0.1, norm_type=2),
    paramwise_cfg={{_base_.teacher_optim_wrapper.paramwise_cfg}})
max_iters = 500
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
param_scheduler = [
    dict(
        type='MultiStepLR',
        begin=0,
        end=max_iters,
        by_epoch=False,
        milestones=[400],
        gamma=0.1)
]
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(interval=250, max_keep_ckpts=2))
randomness = dict(seed=0)
auto_scale_lr = dict(base_batch_size=4)
load_from = None
