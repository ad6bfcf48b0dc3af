# Copyright (c) mmookd authors. All rights reserved.
# OOKD, R-50, YouTube-VIS 2022: the YouTube-VIS 2021 training set, student
# and stage-1 IDOL; the teacher of configs/ookd_teacher/ookd-teacher_r50_
# 8xb2-40k_youtube-vis-2022.py (the 2021 teacher model, trained on the same
# set); validation on the 2022 set, short and long videos (mAP_S, mAP_L and
# AP = their mean; name the long videos with `long_video_ids`, see
# configs/_base_/datasets/youtube_vis_2022.py). The paper's Tab. 3-7 use
# this dataset.
_base_ = ['./ookd_r50_8xb4-12k_youtube-vis-2021.py']

dataset_version = 'youtube_vis_2022'
model = dict(
    teacher=dict(cfg_path='configs/ookd_teacher/'
                 'ookd-teacher_r50_8xb2-40k_youtube-vis-2022.py'),
    teacher_checkpoint='work_dirs/ookd-teacher_r50_8xb2-40k_youtube-vis-'
    '2022/iter_40000.pth')
train_dataloader = dict(
    dataset=dict(dataset=dict(dataset_version=dataset_version)))
val_dataloader = dict(
    dataset=dict(
        dataset_version=dataset_version,
        data_root='data/youtube_vis_2022/',
        ann_file='valid/instances.json',
        data_prefix=dict(img_path='valid/JPEGImages'),
        long_video_ids=None))
test_dataloader = val_dataloader

val_evaluator = dict(outfile_prefix='work_dirs/youtube_vis_2022_results')
test_evaluator = val_evaluator
