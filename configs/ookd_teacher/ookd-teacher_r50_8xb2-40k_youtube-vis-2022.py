# Copyright (c) mmookd authors. All rights reserved.
# OOKD offline teacher, R-50, YouTube-VIS 2022: the training set (and the
# stage-1 IDOL) of YouTube-VIS 2021; validation on the 2022 set (short +
# long videos). Name the long videos with `long_video_ids` (see
# configs/_base_/datasets/youtube_vis_2022.py).
_base_ = ['./ookd-teacher_r50_8xb2-40k_youtube-vis-2021.py']

dataset_version = 'youtube_vis_2022'
train_dataloader = dict(dataset=dict(dataset_version=dataset_version))
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
