# Copyright (c) mmookd authors. All rights reserved.
# YouTube-VIS 2022: the 2021 training set and label set; its validation set
# holds the 2021 ("short", frame interval 5) videos plus long videos (frame
# interval 20) in one JSON. Name the long ones with `long_video_ids` (a list
# of ids, a text file with one id per line, or a JSON whose `videos` are the
# long ones; relative to data_root), e.g.
#   val_dataloader = dict(dataset=dict(long_video_ids='valid/long_ids.txt'))
# Layout under data/: docs/data_preparation.md.
_base_ = './youtube_vis_2021.py'

dataset_version = 'youtube_vis_2022'
data_root = 'data/youtube_vis_2022/'

train_dataloader = dict(
    dataset=dict(
        dataset_version=dataset_version,
        # the training set is YouTube-VIS 2021's
        data_root='data/youtube_vis_2021/'))
val_dataloader = dict(
    dataset=dict(
        dataset_version=dataset_version,
        data_root=data_root,
        ann_file='valid/instances.json',
        data_prefix=dict(img_path='valid/JPEGImages'),
        long_video_ids=None))
test_dataloader = val_dataloader

val_evaluator = dict(outfile_prefix='work_dirs/youtube_vis_2022_results')
test_evaluator = val_evaluator
