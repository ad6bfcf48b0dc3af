# Copyright (c) mmookd authors. All rights reserved.
"""demo/video_demo.py draws the tracks of a video into an mp4 and PNGs."""
import os
import os.path as osp

import cv2
import numpy as np
import pytest

from mmookd.apis import TrackDrawer, VideoWriter
from mmookd.testing import load_tool, tiny_synthvis
from .test_inferencer import (moving_frames, save_random_checkpoint,
                              tiny_vis_config, write_folder, write_mp4)

video_demo = load_tool('demo/video_demo.py')


@pytest.fixture(scope='module')
def model_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp('demo_model')
    cfg = tiny_vis_config()
    config = str(folder / 'tiny_idol.py')
    cfg.dump(config)
    ckpt = save_random_checkpoint(cfg, str(folder / 'tiny.pth'))
    return config, ckpt


def count_frames(path: str):
    cap = cv2.VideoCapture(path)
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    return frames


def test_demo_on_a_video_file(model_files, tmp_path, capsys):
    config, ckpt = model_files
    src = write_mp4(str(tmp_path / 'in.mp4'), moving_frames(4, 48, 64))
    out = str(tmp_path / 'out' / 'tracks.mp4')
    stats = video_demo.main([
        config, ckpt, src, '--out', out, '--score-thr', '0.5',
        '--frames-out',
        str(tmp_path / 'png'), '--min-size', '96'
    ])
    frames = count_frames(out)
    assert len(frames) == 4 == stats['frames']
    # 48 x 64 input, enlarged x2 for drawing
    assert frames[0].shape == (96, 128, 3)
    pngs = sorted(os.listdir(tmp_path / 'png'))
    assert pngs == [f'{t:06d}.png' for t in range(4)]
    # the drawn frame differs from the plain enlarged input (tracks drawn)
    drawn = cv2.imread(str(tmp_path / 'png' / pngs[0]))
    plain = cv2.resize(moving_frames(1, 48, 64)[0], (128, 96))
    assert np.abs(drawn.astype(int) - plain).mean() > 5
    err = capsys.readouterr()
    assert '[4/4 frames]' in err.err
    assert 'fps overall' in err.out and 'fps for the model' in err.out
    assert stats['fps'] > 0 and stats['model_fps'] >= stats['fps']


def test_demo_on_a_folder_keeps_size(model_files, tmp_path):
    config, ckpt = model_files
    folder = write_folder(str(tmp_path / 'frames'), moving_frames(3, 40, 56))
    out = str(tmp_path / 'folder.mp4')
    stats = video_demo.main(
        [config, ckpt, folder, '--out', out, '--min-size', '0'])
    frames = count_frames(out)
    assert len(frames) == 3 and frames[0].shape == (40, 56, 3)
    assert stats['tracks'] >= 1


def test_demo_bad_inputs(model_files, tmp_path):
    config, ckpt = model_files
    out = str(tmp_path / 'x.mp4')
    with pytest.raises(SystemExit, match='does not exist'):
        video_demo.main([config, ckpt, str(tmp_path / 'nope.mp4'), '--out',
                         out])
    empty = tmp_path / 'empty'
    empty.mkdir()
    with pytest.raises(SystemExit, match='holds no image'):
        video_demo.main([config, ckpt, str(empty), '--out', out])
    bad = tmp_path / 'bad.mp4'
    bad.write_bytes(b'\x00' * 64)
    with pytest.raises(SystemExit, match='bad.mp4'):
        video_demo.main([config, ckpt, str(bad), '--out', out])
    with pytest.raises(SystemExit, match='missing.pth'):
        video_demo.main([
            config,
            str(tmp_path / 'missing.pth'),
            str(empty), '--out', out
        ])
    assert not osp.exists(out)


def test_drawer_scale_and_writer_resize(tmp_path):
    drawer = TrackDrawer(('a', 'b'), min_size=100)
    assert drawer.scale_for(30, 200) == 4
    assert drawer.scale_for(100, 120) == 1
    assert TrackDrawer(min_size=0).scale_for(5, 5) == 1
    path = str(tmp_path / 'w.mp4')
    with VideoWriter(path, fps=4) as writer:
        writer.write(np.zeros((32, 48, 3), np.uint8))
        writer.write(np.full((20, 20, 3), 255, np.uint8))  # resized
    frames = count_frames(path)
    assert len(frames) == 2
    assert frames[1].shape == (32, 48, 3) and frames[1].mean() > 200


synthvis_video = load_tool('demo/synthvis_video.py')


def test_png_frame_ids():
    assert synthvis_video.png_frame_ids(40, 4) == [0, 13, 26, 39]
    assert synthvis_video.png_frame_ids(1, 4) == [0]
    assert synthvis_video.png_frame_ids(3, 5) == [0, 1, 2]
    assert synthvis_video.png_frame_ids(10, 0) == []


def test_render_long_synthvis_video(model_files, tmp_path):
    data = str(tmp_path / 'synthvis')
    tiny_synthvis(
        data,
        frame_size=(48, 48),
        num_train_videos=1,
        train_length=(3, 3),
        num_val_short_videos=1,
        val_short_length=(3, 3),
        num_val_long_videos=2,
        val_long_length=(5, 7),
        radius_range=(6.0, 9.0))
    config, ckpt = model_files
    out = str(tmp_path / 'demo_out')
    stats = synthvis_video.main([
        config, ckpt, '--data', data, '--out', out, '--num-pngs', '3',
        '--min-size', '96'
    ])
    video = synthvis_video.pick_long_video(data)
    assert video['length'] == 7  # the longest of the long split
    assert stats['video'] == video['name'] and stats['frames'] == 7
    names = sorted(os.listdir(out))
    assert names == sorted([
        f'synthvis_{video["name"]}_tracks.mp4',
        f'synthvis_{video["name"]}_frame000.png',
        f'synthvis_{video["name"]}_frame003.png',
        f'synthvis_{video["name"]}_frame006.png'
    ])
    frames = count_frames(osp.join(out, names[-1]))
    assert len(frames) == 7 and frames[0].shape == (96, 96, 3)
    with pytest.raises(SystemExit, match='generate SynthVIS first'):
        synthvis_video.main(
            [config, ckpt, '--data',
             str(tmp_path / 'none'), '--out', out])
