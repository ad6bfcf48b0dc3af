# Copyright (c) mmookd authors. All rights reserved.
"""The Minor-Paste / Clip-Paste configs load, build and paste; benchmark."""
import functools
import json
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmookd.testing import load_tool, tiny_synthvis

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
IDOL = osp.join(ROOT, 'configs', 'idol')

# paste config -> (its base config, the paste transform)
CONFIGS = {
    'idol_r50_8xb4-12k_minor-paste_youtube-vis-2021.py':
    ('idol_r50_8xb4-12k_youtube-vis-2021.py', 'MinorPaste'),
    'idol_r50_8xb4-12k_minor-paste_youtube-vis-2019.py':
    ('idol_r50_8xb4-12k_youtube-vis-2019.py', 'MinorPaste'),
    'idol_r50_8xb2-12k_minor-paste_ovis.py': ('idol_r50_8xb2-12k_ovis.py',
                                              'MinorPaste'),
    'idol_r18-w32_1xb4-2k_minor-paste_synthvis.py':
    ('idol_r18-w32_1xb4-2k_synthvis.py', 'MinorPaste'),
    'idol_r50_8xb4-12k_clip-paste_youtube-vis-2021.py':
    ('idol_r50_8xb4-12k_youtube-vis-2021.py', 'ClipPaste'),
    'idol_r18-w32_1xb4-2k_clip-paste_synthvis.py':
    ('idol_r18-w32_1xb4-2k_synthvis.py', 'ClipPaste'),
}


def load(name):
    return Config.fromfile(osp.join(IDOL, name))


@functools.lru_cache()
def load_cached(name):
    """A config shared between tests: do not modify it."""
    return load(name)


@pytest.mark.parametrize('name', sorted(CONFIGS))
def test_config_is_a_small_delta(name, tmp_path):
    base_name, paste = CONFIGS[name]
    cfg, base = load_cached(name), load_cached(base_name)
    mixed = cfg.train_dataloader.dataset
    assert mixed.type == 'ClipMixDataset'
    assert [t['type'] for t in mixed.pipeline] == [paste, 'PackTrackInputs']
    assert mixed.pipeline[1]['meta_keys'] == ('paste_sources', )
    assert mixed.pipeline[0]['reuse_source'] == 8
    if paste == 'MinorPaste':
        assert mixed.pipeline[0]['k'] == 0.7
        assert mixed.pipeline[0]['minor_thr'] == 0.1
    # the wrapped dataset is the base's, its pipeline without the packing
    base_ds = base.train_dataloader.dataset.to_dict()
    inner = mixed.dataset.to_dict()
    assert inner.pop('pipeline') == base_ds.pop('pipeline')[:-1]
    assert inner == base_ds
    assert base.train_pipeline[-1]['type'] == 'PackTrackInputs'
    # everything else is the base's: samplers, model, schedule, evaluation
    for key in ('model', 'optim_wrapper', 'param_scheduler', 'train_cfg',
                'val_dataloader', 'val_evaluator'):
        assert cfg[key] == base[key], key
    for key in ('sampler', 'batch_sampler', 'batch_size', 'num_workers'):
        assert cfg.train_dataloader[key] == base.train_dataloader[key], key
    # SynthVIS samples (video, frame) pairs; the real sets one video a
    # sample, as the official IDOL
    expected = 'TrackImgSampler' if 'synthvis' in name else 'DefaultSampler'
    assert cfg.train_dataloader.sampler.type == expected
    # the config can be dumped and read back (as the Runner does)
    dumped = str(tmp_path / 'dumped.py')
    cfg.dump(dumped)
    assert Config.fromfile(dumped).train_dataloader == cfg.train_dataloader


@pytest.fixture(scope='module')
def synthvis_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('synthvis')
    tiny_synthvis(
        root,
        num_train_videos=12,
        train_length=(4, 6),
        num_val_short_videos=0,
        radius_range=(9.0, 16.0))
    return str(root)


def build_loader(name, root, num_workers=0):
    from mmengine.runner import Runner

    import mmookd  # noqa: F401
    init_default_scope('mmdet')
    cfg = load(name)
    dl = cfg.train_dataloader
    dl.dataset.dataset.data_root = root + '/'
    dl.num_workers = num_workers
    dl.persistent_workers = False
    dl.batch_size = 2
    return Runner.build_dataloader(dl.to_dict(), seed=0)


@pytest.mark.parametrize('name', [
    'idol_r18-w32_1xb4-2k_minor-paste_synthvis.py',
    'idol_r18-w32_1xb4-2k_clip-paste_synthvis.py'
])
def test_synthvis_config_yields_pasted_batches(synthvis_root, name):
    from mmdet.datasets.samplers import TrackImgSampler
    loader = build_loader(name, synthvis_root)
    assert isinstance(loader.batch_sampler.sampler, TrackImgSampler)
    dataset = loader.dataset
    ann = json.load(
        open(osp.join(synthvis_root, 'annotations', 'synthvis_train.json')))
    max_ann_id = max(a['id'] for a in ann['annotations'])
    label_of = {a['id']: a['category_id'] - 1 for a in ann['annotations']}
    stats = dataset.pipeline[0].clip_index(dataset.dataset).stats
    pasted = 0
    for n, batch in enumerate(loader):
        assert len(batch['inputs']) == 2
        for inputs, track in zip(batch['inputs'], batch['data_samples']):
            assert inputs.shape[:2] == (2, 3)  # 2 frames of BGR
            sources = track[0].metainfo['paste_sources']
            for frame in track:
                assert frame.metainfo['paste_sources'] == sources
                ids = frame.gt_instances.instances_ids.tolist()
                labels = frame.gt_instances.labels.tolist()
                assert len(set(ids)) == len(ids)
                for new_id, (src_vid, src_iid) in sources.items():
                    assert new_id > max_ann_id  # past every real id
                    assert src_iid <= max_ann_id
                    if new_id in ids:
                        lab = labels[ids.index(new_id)]
                        assert lab == label_of[src_iid]
                        if 'minor-paste' in name:
                            assert stats.minor[lab]
                for i in ids:
                    assert i <= max_ann_id or i in sources
            pasted += len(sources)
        if pasted >= 3 or n == 9:
            break
    assert pasted >= 3


def test_synthvis_config_is_deterministic_with_workers(synthvis_root):
    name = 'idol_r18-w32_1xb4-2k_minor-paste_synthvis.py'

    def first_batches(num_workers):
        loader = build_loader(name, synthvis_root, num_workers)
        out = []
        for n, batch in enumerate(loader):
            out.append(batch)
            if n == 2:
                break
        return out

    a, b = first_batches(2), first_batches(2)
    assert any(f.metainfo['paste_sources'] for x in a
               for s in x['data_samples'] for f in s)
    for x, y in zip(a, b):
        for xi, yi in zip(x['inputs'], y['inputs']):
            assert xi.shape == yi.shape and (xi == yi).all()
        for xs, ys in zip(x['data_samples'], y['data_samples']):
            for xf, yf in zip(xs, ys):
                assert xf.metainfo['paste_sources'] == yf.metainfo[
                    'paste_sources']
                np.testing.assert_array_equal(xf.gt_instances.masks.masks,
                                              yf.gt_instances.masks.masks)


def test_benchmark_reads_the_config(synthvis_root, capsys):
    bench = load_tool('tools/analysis_tools/benchmark_minor_paste.py')
    res = bench.main([
        osp.join(IDOL,
                 'idol_r18-w32_1xb4-2k_minor-paste_synthvis.py'), '--ann-file',
        osp.join(synthvis_root, 'annotations',
                 'synthvis_train.json'), '--img-prefix',
        osp.join(synthvis_root, 'train', 'JPEGImages'), '--num-clips', '12',
        '--runs', '2', '--reuse-source', '2', '--with-mmdet', '--json'
    ])
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert json.loads(last)['ratio'] == res['ratio']
    assert res['transforms'] == ['MinorPaste'] and res['reuse_source'] == [2]
    assert len(res['ratios']) == 2
    assert res['ratio'] == pytest.approx(np.median(res['ratios']))
    assert res['ratio'] > 0.5 and res['mmdet_ratio'] > 0.5
    assert 0 < res['source_loaded_frac'] <= 0.5  # one load per 2 clips
    assert res['num_videos'] == 12
