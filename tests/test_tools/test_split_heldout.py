# Copyright (c) mmookd authors. All rights reserved.
"""Tests of tools/dataset_converters/split_heldout.py."""
import json
from collections import Counter

import numpy as np
import pytest

from mmookd.testing import load_tool


@pytest.fixture(scope='module')
def tool():
    return load_tool('tools/dataset_converters/split_heldout.py')


def make_ann(num_videos=80, seed=0):
    """A long-tailed YTVIS-like file: 7 classes, the rarest in 2 videos,
    some videos with several classes, two videos without annotations."""
    rng = np.random.default_rng(seed)
    probs = np.array([0.4, 0.25, 0.15, 0.1, 0.06, 0.04])
    videos, anns = [], []
    ann_id = 1
    for vid in range(1, num_videos + 1):
        videos.append(
            dict(
                id=vid,
                width=8,
                height=6,
                length=2,
                file_names=[f'v{vid}/0.jpg', f'v{vid}/1.jpg']))
        if vid in (5, 6):
            continue  # no annotations
        n = int(rng.integers(1, 4))
        cats = rng.choice(6, size=n, p=probs) + 1
        if vid in (10, 40):  # the rarest class: exactly two videos
            cats = np.append(cats, 7)
        for cat in cats:
            anns.append(
                dict(
                    id=ann_id,
                    video_id=vid,
                    category_id=int(cat),
                    iscrowd=0,
                    segmentations=[None, None],
                    bboxes=[None, None],
                    areas=[None, None],
                    width=8,
                    height=6,
                    length=2))
            ann_id += 1
    cats = [
        dict(id=i, name=f'class{i}', supercategory='object')
        for i in range(1, 8)
    ]
    return dict(
        info=dict(description='test'),
        licenses=[dict(id=1)],
        videos=videos,
        annotations=anns,
        categories=cats)


def run(tool, tmp_path, ann, *extra, name='ann.json', out='out'):
    path = tmp_path / name
    path.write_text(json.dumps(ann))
    out_dir = tmp_path / out
    summary = tool.main([str(path), '--out-dir', str(out_dir), *extra])
    train = json.loads((out_dir / 'train.json').read_text())
    held = json.loads((out_dir / 'heldout.json').read_text())
    return summary, train, held


def classes_of(part):
    return {a['category_id'] for a in part['annotations']}


def test_partition_and_content(tool, tmp_path):
    ann = make_ann()
    _, train, held = run(tool, tmp_path, ann, '--ratio', '0.1')
    t_ids = [v['id'] for v in train['videos']]
    h_ids = [v['id'] for v in held['videos']]
    # every video in exactly one part
    assert not set(t_ids) & set(h_ids)
    assert sorted(t_ids + h_ids) == [v['id'] for v in ann['videos']]
    # annotations follow their videos, none lost or duplicated
    assert all(a['video_id'] in set(t_ids) for a in train['annotations'])
    assert all(a['video_id'] in set(h_ids) for a in held['annotations'])
    assert sorted(a['id']
                  for a in train['annotations'] + held['annotations']) == [
                      a['id'] for a in ann['annotations']
                  ]
    # categories, info and licenses kept; entries unchanged
    for part in (train, held):
        assert part['categories'] == ann['categories']
        assert part['info'] == ann['info']
        assert part['licenses'] == ann['licenses']
    assert train['videos'][0] in ann['videos']


def test_ratio_and_classes_in_both_parts(tool, tmp_path):
    ann = make_ann()
    summary, train, held = run(tool, tmp_path, ann, '--ratio', '0.2')
    n = len(ann['videos'])
    assert abs(len(held['videos']) - 0.2 * n) <= 3
    vids_per_class = Counter()
    for cls_set in [{
            a['category_id']
            for a in ann['annotations'] if a['video_id'] == v['id']
    } for v in ann['videos']]:
        vids_per_class.update(cls_set)
    needed = {c for c, k in vids_per_class.items() if k >= 2}
    assert 7 in needed  # the rarest class has exactly 2 videos
    assert needed <= classes_of(train)
    assert needed <= classes_of(held)
    assert summary['unsplit_classes'] == []
    # the summary counts are those of the written files
    assert summary['heldout']['videos'] == len(held['videos'])
    assert summary['train']['instances'] == len(train['annotations'])
    assert summary['heldout']['per_class']['class7'] == dict(
        videos=1, instances=1)


def test_small_ratio_still_covers_classes(tool, tmp_path):
    ann = make_ann(num_videos=30, seed=1)
    _, train, held = run(tool, tmp_path, ann, '--ratio', '0.05')
    vids = Counter(c for v in ann['videos'] for c in {
        a['category_id']
        for a in ann['annotations'] if a['video_id'] == v['id']
    })
    for cls, k in vids.items():
        if k >= 2:
            assert cls in classes_of(train) and cls in classes_of(held)


def test_deterministic_for_a_seed(tool, tmp_path):
    ann = make_ann()
    _, _, held_a = run(tool, tmp_path, ann, '--seed', '3', out='a')
    _, _, held_b = run(tool, tmp_path, ann, '--seed', '3', out='b')
    _, _, held_c = run(tool, tmp_path, ann, '--seed', '4', out='c')
    assert held_a == held_b
    assert [v['id']
            for v in held_a['videos']] != [v['id'] for v in held_c['videos']]


def test_table_and_json_line(tool, tmp_path, capsys):
    ann = make_ann()
    summary, _, held = run(tool, tmp_path, ann, '--json')
    out = capsys.readouterr().out.strip().splitlines()
    assert 'class7' in '\n'.join(out[:-1])  # per-class table
    assert 'total' in '\n'.join(out[:-1])
    last = json.loads(out[-1])
    assert last == json.loads(json.dumps(summary))
    assert last['heldout']['videos'] == len(held['videos'])
    assert last['seed'] == 0 and last['ratio'] == 0.1


def test_bad_input_names_the_file(tool, tmp_path):
    missing = tmp_path / 'missing.json'
    with pytest.raises(SystemExit, match='missing.json'):
        tool.main([str(missing), '--out-dir', str(tmp_path / 'o')])
    not_json = tmp_path / 'notjson.json'
    not_json.write_text('videos: [')
    with pytest.raises(SystemExit, match='notjson.json.*not a JSON'):
        tool.main([str(not_json), '--out-dir', str(tmp_path / 'o')])
    coco = tmp_path / 'coco.json'
    coco.write_text(json.dumps(dict(images=[], annotations=[], categories=[])))
    with pytest.raises(SystemExit, match='coco.json.*YouTube-VIS.*videos'):
        tool.main([str(coco), '--out-dir', str(tmp_path / 'o')])
    bad_ref = make_ann(num_videos=4)
    bad_ref['annotations'][0]['video_id'] = 999
    path = tmp_path / 'badref.json'
    path.write_text(json.dumps(bad_ref))
    with pytest.raises(SystemExit, match='badref.json.*video_id 999'):
        tool.main([str(path), '--out-dir', str(tmp_path / 'o')])
    good = tmp_path / 'good.json'
    good.write_text(json.dumps(make_ann(num_videos=4)))
    with pytest.raises(SystemExit, match='--ratio'):
        tool.main(
            [str(good), '--out-dir',
             str(tmp_path / 'o'), '--ratio', '1.5'])
    assert not (tmp_path / 'o').exists()
