# Copyright (c) mmookd authors. All rights reserved.
"""Tests of ``LoadVISFrame``: odd but legal frames load, bad ones say where."""
import cv2
import numpy as np
import pytest
from mmcv.transforms import LoadImageFromFile
from mmdet.registry import TRANSFORMS

from mmookd.datasets.transforms.loading import LoadVISFrame


def _frame_results(path, video_id=7, frame_id=3):
    return dict(img_path=str(path), video_id=video_id, frame_id=frame_id)


def test_registered():
    transform = TRANSFORMS.build(dict(type='LoadVISFrame'))
    assert isinstance(transform, LoadVISFrame)
    assert isinstance(transform, LoadImageFromFile)


def test_color_frame_loads_bgr(tmp_path):
    img = np.zeros((5, 6, 3), np.uint8)
    img[..., 0], img[..., 1], img[..., 2] = 10, 20, 30  # B, G, R
    path = tmp_path / 'color.png'
    cv2.imwrite(str(path), img)
    out = LoadVISFrame()(_frame_results(path))
    np.testing.assert_array_equal(out['img'], img)
    assert out['img_shape'] == (5, 6) and out['ori_shape'] == (5, 6)


@pytest.mark.parametrize('ext', ['png', 'jpg'])
def test_grayscale_frame_loads_as_3_channels(tmp_path, ext):
    gray = np.full((4, 8), 77, np.uint8)
    gray[0, 0] = 200
    path = tmp_path / f'gray.{ext}'
    cv2.imwrite(str(path), gray)
    # sanity: the file really is single-channel on disk
    assert cv2.imread(str(path), cv2.IMREAD_UNCHANGED).ndim == 2
    for transform in (LoadVISFrame(), LoadImageFromFile()):
        out = transform(_frame_results(path))
        assert out['img'].shape == (4, 8, 3)
        assert out['img'].dtype == np.uint8
        # every channel carries the gray value
        np.testing.assert_array_equal(out['img'][..., 0], out['img'][..., 2])
        if ext == 'png':
            np.testing.assert_array_equal(out['img'][..., 1], gray)


def test_rgba_frame_drops_alpha(tmp_path):
    bgra = np.zeros((3, 5, 4), np.uint8)
    bgra[..., 0], bgra[..., 1], bgra[..., 2] = 1, 2, 3
    bgra[..., 3] = 128  # half transparent: must not change the colour
    path = tmp_path / 'rgba.png'
    cv2.imwrite(str(path), bgra)
    assert cv2.imread(str(path), cv2.IMREAD_UNCHANGED).shape == (3, 5, 4)
    out = LoadVISFrame()(_frame_results(path))
    assert out['img'].shape == (3, 5, 3)
    np.testing.assert_array_equal(out['img'], bgra[..., :3])


def test_missing_frame_names_path_video_and_frame(tmp_path):
    path = tmp_path / 'vid_a' / '00005.jpg'
    with pytest.raises(FileNotFoundError) as info:
        LoadVISFrame()(_frame_results(path, video_id=42, frame_id=5))
    msg = str(info.value)
    assert str(path) in msg
    assert 'video id 42' in msg and 'frame 5' in msg


@pytest.mark.parametrize('content', [b'', b'this is not a jpeg'])
def test_unreadable_frame_names_path_video_and_frame(tmp_path, content):
    path = tmp_path / 'broken.jpg'
    path.write_bytes(content)
    with pytest.raises(OSError) as info:
        LoadVISFrame()(_frame_results(path, video_id=9, frame_id=0))
    msg = str(info.value)
    assert str(path) in msg
    assert 'video id 9' in msg and 'frame 0' in msg


def test_ignore_empty_returns_none(tmp_path):
    path = tmp_path / 'broken.jpg'
    path.write_bytes(b'garbage')
    assert LoadVISFrame(ignore_empty=True)(_frame_results(path)) is None
    assert LoadVISFrame(ignore_empty=True)(_frame_results(
        tmp_path / 'missing.jpg')) is None
