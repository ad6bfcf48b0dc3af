# Copyright (c) mmookd authors. All rights reserved.
"""docs/custom_dataset.md's config trains and evaluates on a dataset of
other class names and non-contiguous category ids (2 iterations)."""
import json
import os
import os.path as osp
import re
import subprocess
import sys

import pytest

from mmookd.testing import tiny_synthvis

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DOC = osp.join(ROOT, 'docs', 'custom_dataset.md')
# SynthVIS class -> (new name, new category id)
RENAME = {
    'disc': ('plum', 41),
    'square': ('kiwi', 7),
    'triangle': ('apple', 3),
    'ring': ('lime', 12),
    'cross': ('mango', 20),
    'star': ('peach', 99),
    'hexagon': ('lemon', 55),
    'crescent': ('melon', 30),
}


def doc_config() -> str:
    """The config block of docs/custom_dataset.md."""
    with open(DOC) as f:
        text = f.read()
    blocks = re.findall(r'```python\n(.*?)```', text, re.S)
    configs = [b for b in blocks if b.startswith('_base_')]
    assert len(configs) == 1, 'docs/custom_dataset.md: one config block'
    return configs[0]


def rename_split(src: str, dst: str) -> dict:
    with open(src) as f:
        ann = json.load(f)
    old = {c['id']: c['name'] for c in ann['categories']}
    ann['categories'] = [
        dict(id=RENAME[c['name']][1], name=RENAME[c['name']][0])
        for c in ann['categories']
    ]
    for a in ann['annotations']:
        a['category_id'] = RENAME[old[a['category_id']]][1]
    with open(dst, 'w') as f:
        json.dump(ann, f)
    return ann


@pytest.fixture(scope='module')
def fruits_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('fruits')
    tiny_synthvis(root, val_short_length=(4, 5))
    ann = osp.join(str(root), 'annotations')
    rename_split(osp.join(ann, 'synthvis_train.json'),
                 osp.join(ann, 'train.json'))
    rename_split(osp.join(ann, 'synthvis_val.json'),
                 osp.join(ann, 'val.json'))
    # the doc's layout: <root>/train/<video>/..., <root>/val/<video>/...
    os.rename(osp.join(str(root), 'train', 'JPEGImages'),
              osp.join(str(root), 'train_frames'))
    os.rmdir(osp.join(str(root), 'train'))
    os.rename(osp.join(str(root), 'train_frames'), osp.join(str(root),
                                                            'train'))
    os.rename(osp.join(str(root), 'val', 'JPEGImages'),
              osp.join(str(root), 'val_frames'))
    os.rmdir(osp.join(str(root), 'val'))
    os.rename(osp.join(str(root), 'val_frames'), osp.join(str(root), 'val'))
    return str(root) + '/'


def _run(cmd):
    env = dict(
        os.environ,
        PYTHONPATH=ROOT,
        OMP_NUM_THREADS='1',
        MKL_NUM_THREADS='1')
    proc = subprocess.run(
        cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, (proc.stdout[-3000:], proc.stderr[-3000:])
    return proc


def test_doc_config_trains_and_evaluates(fruits_root, tmp_path):
    text = doc_config()
    assert "data_root = 'data/fruits/'" in text
    text = text.replace("data_root = 'data/fruits/'",
                        f'data_root = {fruits_root!r}')
    text = text.replace("'../idol/",
                        repr(osp.join(ROOT, 'configs', 'idol', ''))[:-1])
    config = tmp_path / 'idol_r18-w32_1xb4-2k_fruits.py'
    config.write_text(text)
    work_dir = str(tmp_path / 'work')
    _run([
        sys.executable,
        osp.join('tools', 'train.py'),
        str(config), '--work-dir', work_dir, '--cfg-options',
        'train_cfg.max_iters=2', 'train_cfg.val_interval=2', 'val_cfg=None',
        'val_dataloader=None', 'val_evaluator=None',
        'train_dataloader.batch_size=1', 'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'default_hooks.checkpoint.interval=2'
    ])
    ckpt = osp.join(work_dir, 'iter_2.pth')
    assert osp.isfile(ckpt)
    metrics_out = str(tmp_path / 'metrics.json')
    prefix = str(tmp_path / 'fruits_results')
    _run([
        sys.executable,
        osp.join('tools', 'test.py'),
        str(config), ckpt, '--work-dir', work_dir, '--metrics-out',
        metrics_out, '--cfg-options', 'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False',
        f'test_evaluator.outfile_prefix={prefix}',
        # a 2-iteration model scores about 0.01: let every candidate start
        # a track (at most 4 live) with its best class, so that a few
        # predictions exist
        'model.tracker.init_score_thr=0.0',
        'model.tracker.addnew_score_thr=0.0',
        'model.tracker.apply_cls_thr=0.0',
        'model.tracker.multi_cls=False',
        'model.tracker.max_tracks=4'
    ])
    with open(metrics_out) as f:
        metrics = json.load(f)
    assert -1 <= metrics['youtube_vis/segm_mAP'] <= 1
    # per-class APs under the dataset's own names
    names = {v[0] for v in RENAME.values()}
    classwise = {
        k.rsplit('segm_AP_', 1)[1]
        for k in metrics if 'segm_AP_' in k
    }
    assert classwise == names
    # predictions carry the file's category ids, not 1..8
    with open(prefix + '.json') as f:
        submitted = json.load(f)
    valid_ids = {v[1] for v in RENAME.values()}
    assert submitted and {p['category_id'] for p in submitted} <= valid_ids
