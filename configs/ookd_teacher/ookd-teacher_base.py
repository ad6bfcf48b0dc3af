# Copyright (c) mmookd authors. All rights reserved.
# Settings shared by the OOKD offline-teacher configs (stage 2). Only names
# that the IDOL configs do not use live here, so a runnable config inherits
# an IDOL config *and* this file:
#   _base_ = ['../idol/<idol config>.py', './ookd-teacher_base.py']
# and builds `model` from `{{_base_.model}}` (the frozen IDOL) and the
# `teacher_*` fields below. See docs/offline_teacher.md.

# The aggregator has VITA's hyper-parameters (all its VIS configs): object
# encoder 6 layers with temporal windows of 6 frames (shifted at
# inference), object decoder 3 layers, 100 video queries, 256 channels,
# 8 heads, FFN 2048, no dropout. Its input is IDOL's 300 frame queries.
teacher_aggregator = dict(
    type='VideoQueryAggregator',
    mode='attention',
    embed_dims=256,
    num_frame_queries=300,
    num_video_queries=100,
    num_enc_layers=6,
    num_dec_layers=3,
    num_heads=8,
    ffn_dims=2048,
    dropout=0.0,
    window_size=6,
    shift_at_inference=True,
    input_proj=True,
    max_windows_per_chunk=4,
    dec_frames_per_chunk=36)

# Per-frame references of a video query: attention over the frame queries
# of that frame (scaled dot product, temperature sqrt(C)); soft (weighted
# mean) in training, the most similar frame query's at test time and in
# stage 3 (hard='test': measured on SynthVIS, AP 2.0 -> 3.0 for the same
# weights; hard in training too was worse, docs/offline_teacher.md).
teacher_reference_cfg = dict(space='query', temperature=None, hard='test')

# The head's criterion (VITA's): every frame of a matched track supervised
# (all-zero mask targets where the instance is absent), and VITA's
# similarity loss (weight 0.5), computed in the distilled space: between
# f^off = embed_head(video query) and the frozen IDOL's contrastive
# embeddings of the frame queries matched to the same instance, so that
# what OOKD distills is trained to identify its instance
# (sim_space='vita': VITA's own sim_embed_frame/clip heads instead).
teacher_video_head = dict(
    absent_frames=True,
    sim_space='distilled',
    loss_sim=dict(type='VideoSimilarityLoss', loss_weight=0.5))

# Video-level Hungarian matching, costs weighted like IDOL's losses (mask
# costs over all frames, all-zero where the track is absent, as VITA); in
# the average mode the tokens of an instance are found by QFA (Hungarian).
teacher_train_cfg = dict(
    assigner=dict(
        type='VideoHungarianAssigner',
        cls_cost=dict(type='FocalLossCost', weight=2.0),
        bbox_cost=dict(type='BBoxL1Cost', weight=5.0, box_format='xywh'),
        iou_cost=dict(type='IoUCost', iou_mode='giou', weight=2.0),
        mask_cost=dict(type='FocalLossCost', weight=2.0, binary_input=True),
        dice_cost=dict(type='DiceCost', weight=5.0, pred_act=True, eps=1.0),
        frame_reduction='mean',
        mask_frames='all'),
    token_assigner=dict(type='QFAAssigner', match='hungarian'))

# Whole-video inference: the frozen IDOL runs 18 frames at a time (VITA's
# TEST_RUN_CHUNK_SIZE); top 10 (query, class) pairs a video (VITA's
# YouTube-VIS setting; OVIS uses 20), score = class x mask score.
teacher_test_cfg = dict(
    frames_per_chunk=18, max_per_video=10, mask_thr=0.5, mask_score=True)

# Clips of 4 frames (OOKD Sec. 4.1), drawn as VITA draws its clips: a
# random reference frame and 3 other frames of [r - 8, r + 8] (VITA's
# SAMPLING_FRAME_RANGE for YouTube-VIS 2021 and OVIS), sorted. mmdet's
# sampler draws them without replacement (VITA: with replacement).
teacher_clip_sampler = dict(
    type='UniformRefFrameSample',
    num_ref_imgs=3,
    frame_range=8,
    filter_key_img=True)

# VITA's optimizer: AdamW, weight decay 0.05 (0 for norm layers and
# embeddings), gradient norm clipped to 0.01. VITA's lr 5e-5 is for 8 clips;
# the teacher trains 16 clips (8 GPUs x 2: the frozen base leaves the
# memory) and scales it linearly to 1e-4. Only the aggregator's parameters
# enter the optimizer (TrainableOptimWrapperConstructor skips the frozen
# IDOL). `_delete_`: it replaces the IDOL config's optimizer as a whole.
teacher_optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    constructor='TrainableOptimWrapperConstructor',
    optimizer=dict(type='AdamW', lr=1e-4, weight_decay=0.05),
    clip_grad=dict(max_norm=0.01, norm_type=2),
    paramwise_cfg=dict(
        norm_decay_mult=0.0,
        custom_keys=dict(
            query_feat=dict(decay_mult=0.0),
            query_embed=dict(decay_mult=0.0),
            fq_pos=dict(decay_mult=0.0))))

# Whole videos at test time: DefaultSampler over the test-mode dataset gives
# one video (all its frames) per sample.
teacher_video_sampler = dict(
    _delete_=True, type='DefaultSampler', shuffle=False)
