# Copyright (c) mmookd authors. All rights reserved.
"""Tests of the class statistics (Eq. 6) and the class_stats tool."""
import json

import numpy as np
import pytest

from mmookd.datasets.class_stats import (class_shares, compute_class_stats,
                                         count_tracks_data_list,
                                         count_tracks_ytvis,
                                         paste_probabilities, video_tracks,
                                         ytvis_class_stats)
from mmookd.testing import load_tool


def test_eq6_values():
    stats = compute_class_stats([60, 25, 10, 5, 0], k=0.7, minor_thr=0.1)
    np.testing.assert_allclose(stats.shares, [0.6, 0.25, 0.1, 0.05, 0.0])
    # max p = 0.6, min p over present classes = 0.05
    np.testing.assert_allclose(
        stats.paste_probs,
        [0.0, 0.7 * 0.35 / 0.55, 0.7 * 0.5 / 0.55, 0.7, 0.0])
    # 0.1 is not below 0.1; an absent class is not minor
    np.testing.assert_array_equal(stats.minor,
                                  [False, False, False, True, False])
    assert stats.names == ('class_0', 'class_1', 'class_2', 'class_3',
                           'class_4')
    assert stats.ids == (1, 2, 3, 4, 5)
    rows = stats.to_rows()
    assert rows[3] == dict(
        id=4,
        name='class_3',
        count=5,
        share=0.05,
        paste_prob=pytest.approx(0.7),
        minor=True)


def test_eq6_edge_cases():
    # balanced (max == min): no imbalance to correct
    np.testing.assert_array_equal(
        paste_probabilities([0.5, 0.5, 0.0]), [0, 0, 0])
    stats = compute_class_stats([7])
    assert stats.paste_probs.tolist() == [0.0]
    assert stats.minor.tolist() == [False]
    # empty set
    stats = compute_class_stats([0, 0, 0])
    assert stats.shares.tolist() == [0, 0, 0]
    assert stats.paste_probs.tolist() == [0, 0, 0]
    assert not stats.minor.any()
    # k scales linearly; the rarest present class gets k
    np.testing.assert_allclose(
        paste_probabilities(class_shares([3, 2, 1]), k=0.4), [0, 0.2, 0.4])
    with pytest.raises(ValueError, match='k must lie'):
        paste_probabilities([0.5, 0.5], k=1.5)
    with pytest.raises(ValueError, match='counts must be'):
        class_shares([1, -1])


def write_ytvis(path, tracks, num_frames=4, categories=None):
    """tracks: (category_id, iscrowd, frames present) per annotation."""
    categories = categories or [
        dict(id=3, name='cat'),
        dict(id=1, name='person'),
        dict(id=2, name='squirrel')
    ]
    anns = []
    for i, (cat, crowd, present) in enumerate(tracks):
        segs = [
            dict(size=[4, 4], counts='04') if t in present else None
            for t in range(num_frames)
        ]
        anns.append(
            dict(
                id=i + 1,
                video_id=1,
                category_id=cat,
                iscrowd=crowd,
                segmentations=segs,
                bboxes=[[0, 0, 1, 1] if s else None for s in segs],
                areas=[1 if s else None for s in segs]))
    data = dict(
        videos=[
            dict(
                id=1,
                width=4,
                height=4,
                length=num_frames,
                file_names=[f'v/{t}.jpg' for t in range(num_frames)])
        ],
        annotations=anns,
        categories=categories)
    path.write_text(json.dumps(data))
    return data


def test_count_tracks_ytvis_counts_tracks_not_boxes(tmp_path):
    # 'person' (id 1): a 4-frame track and a 1-frame track -> 2 tracks;
    # 'squirrel' (id 2): one track; a crowd 'cat' track and an all-null
    # 'cat' track are not counted
    data = write_ytvis(tmp_path / 'a.json', [(1, 0, {0, 1, 2, 3}), (1, 0, {2}),
                                             (2, 0, {1, 2}), (3, 1, {0}),
                                             (3, 0, set())])
    stats = count_tracks_ytvis(data)
    assert stats.names == ('person', 'squirrel', 'cat')  # sorted by id
    assert stats.ids == (1, 2, 3)
    assert stats.counts.tolist() == [2, 1, 0]
    stats = ytvis_class_stats(str(tmp_path / 'a.json'), k=0.5, minor_thr=0.5)
    np.testing.assert_allclose(stats.shares, [2 / 3, 1 / 3, 0])
    np.testing.assert_allclose(stats.paste_probs, [0, 0.5, 0])
    assert stats.minor.tolist() == [False, True, False]
    data['annotations'][0]['category_id'] = 9
    with pytest.raises(ValueError, match='unknown category_id 9'):
        count_tracks_ytvis(data, 'a.json')


def test_count_tracks_data_list():
    frame = dict(instances=[
        dict(instance_id=5, bbox_label=1, ignore_flag=0),
        dict(instance_id=6, bbox_label=0, ignore_flag=1),
    ])
    video = dict(video_id=2, images=[frame, frame, frame])
    assert video_tracks(video) == {5: 1}
    other = dict(
        video_id=3,
        images=[
            dict(instances=[
                dict(instance_id=5, bbox_label=1),
                dict(instance_id=7, bbox_label=2)
            ])
        ])
    # (video, instance) pairs: instance 5 of videos 2 and 3 are 2 tracks
    assert count_tracks_data_list([video, other], 3).tolist() == [0, 2, 1]
    bad = dict(
        video_id=4,
        images=[
            dict(instances=[dict(instance_id=1, bbox_label=0)]),
            dict(instances=[dict(instance_id=1, bbox_label=2)])
        ])
    with pytest.raises(ValueError, match='video 4, frame index 1'):
        video_tracks(bad)
    with pytest.raises(ValueError, match='outside'):
        count_tracks_data_list([other], 2)


def test_tool_json_and_png(tmp_path, capsys):
    write_ytvis(tmp_path / 'a.json',
                [(1, 0, {0})] * 6 + [(2, 0, {0})] + [(3, 0, {1})] * 3)
    tool = load_tool('tools/analysis_tools/class_stats.py',
                     'class_stats_tool')
    png = tmp_path / 'out' / 'stats.png'
    tool.main([
        str(tmp_path / 'a.json'), '--k', '0.6', '--out-png',
        str(png), '--json'
    ])
    lines = capsys.readouterr().out.strip().splitlines()
    result = json.loads(lines[-1])
    assert list(result)[0] == 'classes'
    assert [list(c) for c in result['classes']
            ] == [['id', 'name', 'share', 'paste_prob', 'minor']] * 3
    by_name = {c['name']: c for c in result['classes']}
    assert by_name['person']['share'] == pytest.approx(0.6)
    assert by_name['person']['paste_prob'] == 0.0
    assert by_name['squirrel']['paste_prob'] == pytest.approx(0.6)
    assert by_name['cat']['paste_prob'] == pytest.approx(0.6 * 0.3 / 0.5)
    assert [c['minor'] for c in result['classes']] == [False, False, False]
    assert result['counts'] == [6, 1, 3]
    assert any('squirrel' in line and '10.00%' in line for line in lines)
    with open(png, 'rb') as f:
        assert f.read(8) == b'\x89PNG\r\n\x1a\n'
    # the minor threshold is a parameter
    tool.main([
        str(tmp_path / 'a.json'), '--minor-thr', '0.2', '--out-png',
        str(png), '--json'
    ])
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert [c['minor'] for c in result['classes']] == [False, True, False]


def test_synthvis_stats_match_dataset_tracks(tmp_path):
    """JSON statistics == the tracks of VISDataset's data_list."""
    from mmookd.datasets.synthvis import SynthVISConfig, generate_synthvis
    from mmookd.datasets.transforms.minor_paste import MinorPaste
    from mmookd.datasets.vis_dataset import VISDataset
    cfg = SynthVISConfig(
        num_train_videos=12,
        num_val_short_videos=0,
        num_val_long_videos=0,
        train_length=(3, 4),
        frame_size=(48, 64))
    info = generate_synthvis(str(tmp_path), seed=0, cfg=cfg, progress=False)
    stats = ytvis_class_stats(info['ann_files']['train'])
    realised = info['stats']['train']['class_counts']
    assert stats.counts.tolist() == [realised[n] for n in stats.names]
    # a long tail: the most frequent class is never pasted, the rarest
    # present one gets k
    assert stats.paste_probs[np.argmax(stats.shares)] == 0.0
    present = stats.counts > 0
    rarest = np.flatnonzero(present)[np.argmin(stats.shares[present])]
    assert stats.paste_probs[rarest] == pytest.approx(0.7)
    assert stats.minor[rarest]
    ds = VISDataset(
        ann_file=info['ann_files']['train'],
        dataset_version='synthvis',
        data_prefix=dict(img_path=info['img_roots']['train']),
        filter_cfg=dict(filter_empty_gt=False, min_size=0),
        pipeline=[])
    index = MinorPaste().clip_index(ds)
    assert index.stats.counts.tolist() == stats.counts.tolist()
    np.testing.assert_allclose(index.stats.paste_probs, stats.paste_probs)
    # the source clips are exactly the videos holding a minor-class track
    with open(info['ann_files']['train']) as f:
        ann = json.load(f)
    minor_cats = {stats.ids[i] for i in np.flatnonzero(stats.minor)}
    vids = {
        a['video_id']
        for a in ann['annotations'] if a['category_id'] in minor_cats
    }
    assert sorted(index.video_ids[i] for i in index.sources) == sorted(vids)
