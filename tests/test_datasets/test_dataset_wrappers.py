# Copyright (c) mmookd authors. All rights reserved.
"""Tests of ClipMixDataset: delegation, samplers, no copies, refetch."""
import os.path as osp
import pickle

import numpy as np
import pytest
from mmdet.datasets import BaseVideoDataset
from mmdet.datasets.samplers import (TrackAspectRatioBatchSampler,
                                     TrackImgSampler)
from mmdet.registry import DATASETS
from mmdet.utils import register_all_modules
from mmengine.registry import DefaultScope

from mmookd.datasets.dataset_wrappers import ClipMixDataset
from mmookd.testing import tiny_synthvis

register_all_modules(init_default_scope=False)


@pytest.fixture(scope='module')
def synthvis(tmp_path_factory):
    """A tiny SynthVIS training set: (ann_file, img_root)."""
    root = tiny_synthvis(
        tmp_path_factory.mktemp('synthvis'),
        num_train_videos=5,
        train_length=(3, 5),
        num_val_short_videos=0,
        radius_range=(9.0, 16.0))
    return (osp.join(root, 'annotations', 'synthvis_train.json'),
            osp.join(root, 'train', 'JPEGImages'))


def clip_dataset_cfg(synthvis):
    ann_file, img_root = synthvis
    return dict(
        type='VISDataset',
        ann_file=ann_file,
        dataset_version='synthvis',
        data_prefix=dict(img_path=img_root),
        pipeline=[
            dict(
                type='UniformRefFrameSample',
                num_ref_imgs=1,
                frame_range=2,
                filter_key_img=True),
            dict(
                type='TransformBroadcaster',
                share_random_params=True,
                transforms=[
                    dict(type='LoadVISFrame'),
                    dict(type='LoadTrackAnnotations', with_mask=True),
                ]),
        ])


def build(cfg):
    with DefaultScope.overwrite_default_scope('mmdet'):
        return DATASETS.build(cfg)


def mixed_cfg(synthvis, paste=None):
    return dict(
        type='ClipMixDataset',
        dataset=clip_dataset_cfg(synthvis),
        pipeline=[
            paste or dict(type='ClipPaste'),
            dict(type='PackTrackInputs', meta_keys=('paste_sources', )),
        ])


def test_delegates_to_the_video_dataset(synthvis):
    ds = build(mixed_cfg(synthvis))
    inner = ds.dataset
    assert isinstance(ds, BaseVideoDataset)
    assert len(ds) == len(inner) == 5
    assert ds.metainfo == inner.metainfo
    assert ds.metainfo['classes'][0] == 'disc'
    assert ds.test_mode is False
    assert ds.data_list is inner.data_list
    for v in range(len(ds)):
        assert ds.get_data_info(v) == inner.get_data_info(v)
        assert ds.get_len_per_video(v) == inner.get_len_per_video(v)
        assert ds.get_cat_ids(v) == inner.get_cat_ids(v)
    assert ds.num_all_imgs == inner.num_all_imgs
    assert [type(t).__name__
            for t in ds.pipeline] == ['ClipPaste', 'PackTrackInputs']
    sub = ds.get_subset([1, 3])
    assert isinstance(sub, ClipMixDataset) and len(sub) == 2
    assert sub.get_data_info(1)['video_id'] == inner.get_data_info(
        3)['video_id']
    assert len(ds) == 5  # untouched


def test_track_img_sampler_and_batch_sampler(synthvis):
    ds = build(mixed_cfg(synthvis))
    sampler = TrackImgSampler(ds, seed=0)
    plain = TrackImgSampler(ds.dataset, seed=0)
    assert sampler.indices == plain.indices
    assert len(sampler) == ds.num_all_imgs
    assert list(sampler) == list(plain)
    batches = list(TrackAspectRatioBatchSampler(sampler, batch_size=2))
    assert sum(len(b) for b in batches) == len(sampler)
    np.random.seed(0)
    for video_idx, frame_idx in batches[0]:
        data = ds[(video_idx, frame_idx)]
        track = data['data_samples']
        key = track.video_data_samples[track.key_frames_inds[0]]
        frame = ds.get_data_info(video_idx)['images'][frame_idx]
        assert key.metainfo['frame_id'] == frame['frame_id']
        assert key.metainfo['video_id'] == frame['video_id']
        assert 'paste_sources' in key.metainfo


@pytest.mark.parametrize('sampler', ['TrackImgSampler', 'DefaultSampler'])
def test_runner_dataloader(synthvis, sampler):
    from mmengine.runner import Runner
    sampler_cfg = dict(type=sampler)
    if sampler == 'DefaultSampler':
        sampler_cfg['shuffle'] = True
    with DefaultScope.overwrite_default_scope('mmdet'):
        loader = Runner.build_dataloader(
            dict(
                batch_size=2,
                num_workers=0,
                sampler=sampler_cfg,
                batch_sampler=dict(type='TrackAspectRatioBatchSampler'),
                dataset=mixed_cfg(synthvis)),
            seed=0)
    num_samples = (
        loader.dataset.num_all_imgs
        if sampler == 'TrackImgSampler' else len(loader.dataset))
    assert len(loader.batch_sampler.sampler) == num_samples
    batch = next(iter(loader))
    assert len(batch['inputs']) == 2
    assert batch['inputs'][0].shape == (2, 3, 64, 64)
    pasted = [
        len(s.metainfo['paste_sources']) for track in batch['data_samples']
        for s in track
    ]
    assert sum(pasted) > 0  # ClipPaste pastes every track of the source


class RecordingDataset:
    """A video dataset that remembers what it returned."""

    def __init__(self, num_videos=4):
        self.metainfo = dict(classes=('a', 'b'))
        self.num_videos = num_videos
        self.returned = []

    def __len__(self):
        return self.num_videos

    def get_data_info(self, idx):
        return dict(video_id=idx + 1, images=[])

    def __getitem__(self, idx):
        clip = dict(idx=idx, img=[np.full((2, 2, 3), idx, np.uint8)])
        self.returned.append(clip)
        return clip


class RecordingMix:
    """A mixing transform that checks what it is given."""

    def __init__(self, dataset, indexes=(1, 2), drop=()):
        self.dataset = dataset
        self.indexes = list(indexes)
        self.drop = set(drop)
        self.calls, self.mixes = [], []

    def get_indexes(self, dataset):
        assert dataset is self.dataset  # the wrapped dataset, not the wrapper
        return self.indexes

    def __call__(self, results):
        self.calls.append(results)
        self.mixes.append(list(results.get('mix_results', [])))
        if results['idx'] in self.drop:
            return None
        results['mixed'] = [m['idx'] for m in results['mix_results']]
        return results


def test_no_copies_and_mix_results_removed():
    inner = RecordingDataset()
    mix = RecordingMix(inner)
    ds = ClipMixDataset(inner, [mix])
    out = ds[3]
    target, *sources = inner.returned
    # the very objects of the wrapped dataset: nothing was deep-copied
    assert out is target and mix.calls[0] is target
    assert len(sources) == 2
    assert all(m is s for m, s in zip(mix.mixes[0], sources))
    assert out['mixed'] == [1, 2]
    assert 'mix_results' not in out
    assert len(inner.returned) == 3


def test_skip_type_keys():
    inner = RecordingDataset()
    mix = RecordingMix(inner)
    ds = ClipMixDataset(inner, [mix], skip_type_keys=['RecordingMix'])
    out = ds[0]
    assert 'mixed' not in out and mix.calls == []
    assert len(inner.returned) == 1  # no source loaded
    ds.update_skip_type_keys([])
    assert ds[0]['mixed'] == [1, 2]
    with pytest.raises(TypeError, match='skip_type_keys'):
        ds.update_skip_type_keys([1])


def test_none_refetches_another_video():
    inner = RecordingDataset()
    mix = RecordingMix(inner, indexes=[], drop={0})
    ds = ClipMixDataset(inner, [mix])
    np.random.seed(0)
    out = ds[0]
    assert out['idx'] != 0  # another video was drawn
    assert mix.calls[0]['idx'] == 0
    # nothing but dropped clips: a clear error
    ds = ClipMixDataset(
        inner, [RecordingMix(inner, [], drop={0, 1, 2, 3})], max_refetch=3)
    with pytest.raises(RuntimeError, match='index 2 and 3 other'):
        ds[2]
    inner.test_mode = True
    with pytest.raises(RuntimeError, match='test mode'):
        ds[2]


def test_bad_arguments():
    with pytest.raises(TypeError, match=r"has no \['get_data_info'"):
        ClipMixDataset([1, 2], [])
    with pytest.raises(KeyError, match=r'pipeline\[0\]'):
        ClipMixDataset(RecordingDataset(), [dict(prob=1.0)])
    with pytest.raises(TypeError, match=r'pipeline\[1\]'):
        ClipMixDataset(RecordingDataset(), [lambda r: r, 3])
    with pytest.raises(ValueError, match='max_refetch'):
        ClipMixDataset(RecordingDataset(), [], max_refetch=-1)


def test_pickles_for_workers(synthvis):
    ds = build(mixed_cfg(synthvis, dict(type='MinorPaste', reuse_source=4)))
    np.random.seed(0)
    ds[0]
    clone = pickle.loads(pickle.dumps(ds))
    assert len(clone) == len(ds)
    assert clone.pipeline[0]._source is None  # the cache is not carried
    np.random.seed(1)
    data = clone[1]
    assert data['inputs'].shape == (2, 3, 64, 64)
