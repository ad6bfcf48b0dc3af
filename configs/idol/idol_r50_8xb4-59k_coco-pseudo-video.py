# Copyright (c) mmookd authors. All rights reserved.
# IDOL R-50 pretraining on COCO pseudo videos (IDOL stage 2, the official
# coco_pretrain/r50_coco_sequence.yaml): every COCO image becomes a key /
# reference pair by augmenting it twice independently (PseudoVideoFromImage);
# instances correspond by annotation index. 80 classes, 8 GPUs x 4 pairs,
# AdamW lr 2e-4, 59.2k iterations, lr x0.1 at 22.2k and 44.4k.
# The official stage 1 (COCO instance segmentation) is not part of this
# config; its weights were never released.
_base_ = ['./idol_r50_base.py', './coco_pseudo_video_dataset.py']

# The ImageNet ResNet-50 (torchvision's resnet50-0676ba61.pth, or mmdet's
# converted one) is read from a local file: put it there first, nothing is
# downloaded at run time (docs/idol.md).
pretrained = 'data/pretrained/resnet50-0676ba61.pth'
model = dict(
    detector=dict(
        backbone=dict(
            init_cfg=dict(
                _delete_=True, type='Pretrained', checkpoint=pretrained)),
        bbox_head=dict(num_classes=80)))
# pretraining only, no validation / test loop
val_cfg = None
test_cfg = None

optim_wrapper = dict(optimizer=dict(lr=2e-4))
max_iters = 59200
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
param_scheduler = [
    dict(
        type='MultiStepLR',
        begin=0,
        end=max_iters,
        by_epoch=False,
        milestones=[22200, 44400],
        gamma=0.1)
]
default_hooks = dict(checkpoint=dict(interval=5000))
