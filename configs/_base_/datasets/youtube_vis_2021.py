# Copyright (c) mmookd authors. All rights reserved.
# YouTube-VIS 2021, read from the official JSON files by VISDataset: the
# 2019 settings (same IDOL sizes) with the 2021 files and label set.
# Layout under data/: docs/data_preparation.md.
_base_ = './youtube_vis_2019.py'

dataset_version = 'youtube_vis_2021'
data_root = 'data/youtube_vis_2021/'

train_dataloader = dict(
    dataset=dict(
        dataset_version=dataset_version,
        data_root=data_root,
        ann_file='train/instances.json',
        data_prefix=dict(img_path='train/JPEGImages')))
val_dataloader = dict(
    dataset=dict(
        dataset_version=dataset_version,
        data_root=data_root,
        ann_file='valid/instances.json',
        data_prefix=dict(img_path='valid/JPEGImages')))
test_dataloader = val_dataloader

val_evaluator = dict(outfile_prefix='work_dirs/youtube_vis_2021_results')
test_evaluator = val_evaluator
