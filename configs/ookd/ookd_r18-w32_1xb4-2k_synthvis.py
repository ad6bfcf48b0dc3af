# Copyright (c) mmookd authors. All rights reserved.
# OOKD (stage 3) on SynthVIS, small enough for a 2-core CPU: the SynthVIS
# IDOL of configs/idol/idol_r18-w32_1xb4-2k_synthvis.py as the student,
# initialised as stage 1 is (from scratch: an equal budget), distilled
# from the frozen SynthVIS teacher of
# configs/ookd_teacher/ookd-teacher_r18-w32_1xb4-500_synthvis.py (stage 2),
# with Minor-Paste. The teacher sees every frame of the video (SynthVIS
# training videos have 12..16 frames).
#   python tools/train.py configs/idol/idol_r18-w32_1xb4-2k_synthvis.py
#   python tools/train.py \
#       configs/ookd_teacher/ookd-teacher_r18-w32_1xb4-500_synthvis.py
#   python tools/train.py configs/ookd/ookd_r18-w32_1xb4-2k_synthvis.py
# (tools/ookd_pipeline.py synthvis runs the three stages.)
_base_ = ['../idol/idol_r18-w32_1xb4-2k_synthvis.py', './ookd_base.py']

# the teacher's frames: the whole video (None) or a window of frames around
# the student's; at most `max_teacher_frames` (evenly subsampled)
teacher_window = None
max_teacher_frames = 16

model = dict(
    _delete_=True,
    type='OOKD',
    data_preprocessor={{_base_.model.data_preprocessor}},
    student={{_base_.model}},
    # The student starts where the stage-1 IDOL started (here: from
    # scratch) and trains as long (2k iterations), so that IDOL and OOKD
    # compare at an equal budget. Set it to the stage-1 checkpoint to
    # fine-tune from it instead (DESIGN's "init from idol.pth").
    student_checkpoint=None,
    teacher=dict(cfg_path='configs/ookd_teacher/'
                 'ookd-teacher_r18-w32_1xb4-500_synthvis.py'),
    teacher_checkpoint='work_dirs/ookd-teacher_r18-w32_1xb4-500_synthvis/'
    'iter_500.pth',
    assigner={{_base_.ookd_assigner}},
    loss_kd={{_base_.ookd_loss_kd}},
    kd_weight={{_base_.ookd_kd_weight}},
    distill_feature={{_base_.ookd_distill_feature}},
    teacher_window=teacher_window,
    teacher_cache=None)

# One clip = the student's key/reference pair + the teacher's frames, with
# one resize / flip for all of them (TransformBroadcaster of the IDOL
# config); MinorPaste pastes into all of them.
clip_pipeline = [
    dict(
        type='OOKDFrameSample',
        num_ref_imgs=1,
        frame_range=10,
        filter_key_img=True,
        teacher_window=teacher_window,
        max_teacher_frames=max_teacher_frames)
] + [
    t for t in _base_.train_pipeline
    if t['type'] not in ('UniformRefFrameSample', 'PackTrackInputs')
]
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='ClipMixDataset',
        dataset=dict(_base_.train_dataloader.dataset, pipeline=clip_pipeline),
        pipeline=[_base_.ookd_minor_paste, _base_.ookd_pack]))

# the teacher's frozen parameters stay out of the optimizer (silently)
optim_wrapper = dict(constructor='TrainableOptimWrapperConstructor')
load_from = None
