# Copyright (c) mmookd authors. All rights reserved.
# IDOL Swin-L pretraining on COCO pseudo videos (the official
# coco_pretrain/swin_coco_sequence.yaml): 80 classes, 8 GPUs x 2 pairs,
# AdamW lr 2e-4, 148k iterations, lr x0.1 at 59.2k and 118.4k.
_base_ = ['./idol_swin-l-p4-w12-384_base.py', './coco_pseudo_video_dataset.py']

# The ImageNet-22k Swin-L (swin_large_patch4_window12_384_22k.pth of the
# Swin Transformer release) is read from a local file: put it there first,
# nothing is downloaded at run time (docs/idol.md).
pretrained = 'data/pretrained/swin_large_patch4_window12_384_22k.pth'
model = dict(
    detector=dict(
        backbone=dict(
            init_cfg=dict(
                _delete_=True, type='Pretrained', checkpoint=pretrained)),
        bbox_head=dict(num_classes=80)))
# pretraining only, no validation / test loop
val_cfg = None
test_cfg = None

train_dataloader = dict(batch_size=2)
optim_wrapper = dict(optimizer=dict(lr=2e-4))
max_iters = 148000
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
param_scheduler = [
    dict(
        type='MultiStepLR',
        begin=0,
        end=max_iters,
        by_epoch=False,
        milestones=[59200, 118400],
        gamma=0.1)
]
default_hooks = dict(checkpoint=dict(interval=5000))
auto_scale_lr = dict(base_batch_size=16)
