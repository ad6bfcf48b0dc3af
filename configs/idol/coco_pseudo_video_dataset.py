# Copyright (c) mmookd authors. All rights reserved.
# COCO as pseudo videos for IDOL's pretraining (the official
# coco_pretrain/*_coco_sequence.yaml data): each image is augmented twice
# independently into a key / reference pair (PseudoVideoFromImage);
# instances correspond by annotation index. Train only (no validation).
# Combine with a model base:
#   _base_ = ['./idol_r50_base.py', './coco_pseudo_video_dataset.py']
dataset_type = 'CocoDataset'
data_root = 'data/coco/'
backend_args = None
# short side 320..640 (long side <= 1333) after the optional crop
final_scales = [(1333, 320), (1333, 352), (1333, 392), (1333, 416),
                (1333, 448), (1333, 480), (1333, 512), (1333, 544),
                (1333, 576), (1333, 608), (1333, 640)]
# each copy: flip (p 0.5); with p 0.5 resize the short side to 400/500/600
# and crop an absolute (384..600) window; then the final resize
copy_transforms = [
    dict(type='RandomFlip', prob=0.5),
    dict(
        type='RandomApply',
        prob=0.5,
        transforms=[
            dict(
                type='RandomChoiceResize',
                scales=[(4200, 400), (4200, 500), (4200, 600)],
                keep_ratio=True),
            dict(
                type='RandomCrop',
                crop_type='absolute_range',
                crop_size=(384, 600),
                allow_negative_crop=True)
        ]),
    dict(type='RandomChoiceResize', scales=final_scales, keep_ratio=True),
]
train_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(
        type='PseudoVideoFromImage', num_frames=2, transforms=copy_transforms),
    dict(type='PackTrackInputs')
]
train_dataloader = dict(
    batch_size=4,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    batch_sampler=dict(type='AspectRatioBatchSampler'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/instances_train2017.json',
        data_prefix=dict(img='train2017/'),
        filter_cfg=dict(filter_empty_gt=True, min_size=32),
        pipeline=train_pipeline,
        backend_args=backend_args))
# Pretraining only: evaluate after fine-tuning on a VIS set (the image-level
# IDOLDeformableDETR.predict serves COCO evaluation if wanted).
val_dataloader = None
val_evaluator = None
test_dataloader = None
test_evaluator = None
