# Copyright (c) mmookd authors. All rights reserved.
"""VISInferencer streams videos (files, folders, arrays) through IDOL."""
import copy
import os
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

from mmookd.apis import (FrameSource, VideoInputError, VISInferencer,
                         list_frame_files, to_bgr_frame)
from mmookd.testing import tiny_idol_cfg

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(ROOT, 'configs', 'idol', 'idol_r18-w32_1xb4-2k_synthvis.py')


def tiny_vis_config() -> Config:
    """The SynthVIS config with the tests' tiny IDOL (8 classes, 64 px)."""
    cfg = Config.fromfile(CONFIG)
    cfg.model = tiny_idol_cfg(
        num_classes=8,
        num_queries=10,
        tracker=dict(type='IDOLTracker', max_tracks=6))
    cfg.test_dataloader.dataset.pipeline[0].transforms[1].scale = (1333, 64)
    return cfg


def save_random_checkpoint(cfg: Config, path: str, cls_bias: float = 2.0):
    """Random weights, class bias raised so that tracks start."""
    from mmdet.registry import MODELS
    from mmengine.registry import init_default_scope
    from mmengine.runner import save_checkpoint
    init_default_scope('mmdet')
    torch.manual_seed(0)
    model = MODELS.build(copy.deepcopy(cfg.model))
    model.init_weights()
    for branch in model.detector.bbox_head.cls_branches:
        torch.nn.init.constant_(branch.bias, cls_bias)
    save_checkpoint(model.state_dict(), path)
    return path


@pytest.fixture(scope='module')
def inferencer(tmp_path_factory):
    cfg = tiny_vis_config()
    ckpt = save_random_checkpoint(
        cfg, str(tmp_path_factory.mktemp('ckpt') / 'tiny.pth'))
    return VISInferencer(cfg, ckpt)


def moving_frames(num: int, height: int = 45, width: int = 77) -> np.ndarray:
    """(num, H, W, 3) uint8 frames of two moving coloured squares."""
    frames = np.full((num, height, width, 3), 40, np.uint8)
    for t in range(num):
        x = 5 + 3 * t
        frames[t, 8:24, x:x + 16] = (0, 60, 230)
        frames[t, 24:40, width - x - 16:width - x] = (230, 120, 0)
    return frames


def write_mp4(path: str, frames: np.ndarray, fps: float = 5.0) -> str:
    height, width = frames.shape[1:3]
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), fps,
                             (width, height))
    assert writer.isOpened()
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


def write_folder(folder: str, frames: np.ndarray, ext: str = 'png') -> str:
    os.makedirs(folder, exist_ok=True)
    for t, frame in enumerate(frames):
        # unpadded numbers: the folder must be read in natural order
        assert cv2.imwrite(osp.join(folder, f'frame_{t}.{ext}'), frame)
    return folder


def summary(results):
    return [(r.frame_id, r.track_ids.tolist(), r.labels.tolist(),
             np.round(r.scores, 5).tolist(), r.masks.sum((1, 2)).tolist())
            for r in results]


def check_results(results, num, height, width):
    assert [r.frame_id for r in results] == list(range(num))
    for r in results:
        m = len(r)
        assert r.image.shape == (height, width, 3)
        assert r.track_ids.shape == (m, ) and r.track_ids.dtype == np.int64
        assert r.labels.shape == (m, ) and r.scores.shape == (m, )
        assert r.bboxes.shape == (m, 4)
        assert r.masks.shape == (m, height, width) and r.masks.dtype == bool
        assert ((r.labels >= 0) & (r.labels < 8)).all()
        assert ((r.scores > 0) & (r.scores <= 1)).all()
        assert len(set(r.track_ids.tolist())) == m  # one id per track
        names = r.names
        assert len(names) == m and all(n in r.class_names for n in names)
        assert r.data_sample.pred_track_instances.masks.shape == (m, height,
                                                                  width)


def test_frame_source_conversions():
    gray = np.arange(12, dtype=np.uint8).reshape(3, 4)
    bgr = to_bgr_frame(gray, 0)
    assert bgr.shape == (3, 4, 3)
    assert (bgr == gray[..., None]).all()
    assert (to_bgr_frame(gray[..., None], 0) == bgr).all()
    bgra = np.dstack([bgr, np.full((3, 4), 7, np.uint8)])
    assert (to_bgr_frame(bgra, 0) == bgr).all()
    with pytest.raises(VideoInputError, match='frame 3 has dtype float32'):
        to_bgr_frame(gray.astype(np.float32), 3)
    with pytest.raises(VideoInputError, match='frame 2 has shape'):
        to_bgr_frame(np.zeros((3, 4, 2), np.uint8), 2)
    with pytest.raises(VideoInputError, match='frame 0 is a list'):
        to_bgr_frame([[1]], 0)


def test_folder_natural_order(tmp_path):
    frames = moving_frames(12)
    write_folder(str(tmp_path), frames)
    (tmp_path / 'notes.txt').write_text('not a frame')
    files = list_frame_files(str(tmp_path))
    assert [osp.basename(f) for f in files
            ] == [f'frame_{t}.png' for t in range(12)]
    read = list(FrameSource(str(tmp_path)))
    assert len(read) == 12
    assert all((a == b).all() for a, b in zip(read, frames))


def test_video_file_odd_size(inferencer, tmp_path):
    frames = moving_frames(5, 45, 77)
    path = write_mp4(str(tmp_path / 'clip.mp4'), frames)
    source = FrameSource(path)
    assert source.kind == 'video' and source.fps == pytest.approx(5.0)
    # mp4v (FFmpeg's MPEG-4) stores even sizes: 45 x 77 reads as 44 x 76
    height, width = next(iter(source)).shape[:2]
    assert (45 - height, 77 - width) in ((0, 0), (1, 1))
    results = list(inferencer(path))
    check_results(results, 5, height, width)
    assert sum(len(r) for r in results) > 0


def test_folder_equals_arrays_and_tracker_resets(inferencer, tmp_path):
    frames = moving_frames(4, 37, 51)
    folder = write_folder(str(tmp_path / 'frames'), frames)
    from_folder = list(inferencer(folder))
    check_results(from_folder, 4, 37, 51)
    from_arrays = list(inferencer(frames))
    from_list = list(inferencer(list(frames)))
    # PNG is lossless: the three inputs give the same tracks, and the
    # tracker restarts at every video (ids from 0 again).
    assert summary(from_folder) == summary(from_arrays) == summary(from_list)
    first_ids = from_folder[0].track_ids.tolist()
    assert first_ids == list(range(len(first_ids)))


def test_one_frame_video(inferencer, tmp_path):
    frames = moving_frames(1, 33, 65)
    path = write_mp4(str(tmp_path / 'one.mp4'), frames)
    height, width = next(iter(FrameSource(path))).shape[:2]
    results = list(inferencer(path))
    check_results(results, 1, height, width)


def test_grayscale_frames(inferencer, tmp_path):
    gray = moving_frames(3, 40, 48)[..., 1]
    results = list(inferencer(gray))  # (T, H, W) uint8
    check_results(results, 3, 40, 48)
    rgb = list(inferencer(np.repeat(gray[..., None], 3, axis=3)))
    assert summary(results) == summary(rgb)
    folder = str(tmp_path / 'gray')
    os.makedirs(folder)
    for t, frame in enumerate(gray):
        cv2.imwrite(osp.join(folder, f'{t:03d}.jpg'), frame)
    check_results(list(inferencer(folder)), 3, 40, 48)


def test_streams_lazily_with_bounded_memory(inferencer):
    pulled = []

    def frames():
        for t, frame in enumerate(moving_frames(25, 32, 32)):
            pulled.append(t)
            yield frame

    stream = inferencer(frames())
    first = next(stream)
    assert first.frame_id == 0 and pulled == [0]
    stats = []
    for result in stream:
        assert pulled[-1] == result.frame_id  # one frame read ahead at most
        stats.append(inferencer.tracker.memory_stats())
    assert len(stats) == 24
    # the per-video store is off; the live memory stays within its caps
    assert all(s['num_video_masks'] == 0 and s['num_video_tracks'] == 0
               for s in stats)
    assert max(s['num_tracks'] for s in stats) <= 6
    assert max(s['max_memory'] for s in stats) <= 3


def test_score_thr_filters(tmp_path, inferencer):
    frames = moving_frames(2, 32, 40)
    all_tracks = list(inferencer(frames))
    thr = float(np.median(np.concatenate([r.scores for r in all_tracks])))
    strict = VISInferencer(inferencer.cfg, None, score_thr=thr)
    strict.model.load_state_dict(inferencer.model.state_dict())
    kept = list(strict(frames))
    for a, b in zip(all_tracks, kept):
        assert b.track_ids.tolist() == a.track_ids[a.scores > thr].tolist()


def test_clear_errors(inferencer, tmp_path):
    with pytest.raises(VideoInputError, match='does not exist'):
        inferencer(str(tmp_path / 'missing.mp4'))
    empty = tmp_path / 'empty'
    empty.mkdir()
    with pytest.raises(VideoInputError, match='holds no image'):
        inferencer(str(empty))
    text = tmp_path / 'notes.mp4'
    text.write_text('this is not a video')
    with pytest.raises(VideoInputError, match='notes.mp4'):
        list(inferencer(str(text)))
    broken = tmp_path / 'broken'
    write_folder(str(broken), moving_frames(2))
    (broken / 'frame_1.png').write_bytes(b'garbage')
    with pytest.raises(VideoInputError, match="frame 1 .*'frame_1.png'"):
        list(inferencer(str(broken)))
    with pytest.raises(VideoInputError, match='no frame'):
        inferencer(np.zeros((0, 8, 8, 3), np.uint8))
    with pytest.raises(VideoInputError, match='holds no frame'):
        list(inferencer(iter([])))
    with pytest.raises(VideoInputError, match='dtype float64'):
        list(inferencer(np.zeros((2, 8, 8, 3))))
    with pytest.raises(FileNotFoundError, match='nothing.pth'):
        VISInferencer(inferencer.cfg, str(tmp_path / 'nothing.pth'))


def test_ookd_config_and_checkpoint(inferencer, tmp_path):
    """An OOKD config runs its student; `student.*` keys load into IDOL."""
    from mmengine.runner import save_checkpoint
    state = {
        f'student.{k}': v
        for k, v in inferencer.model.state_dict().items()
    }
    ckpt = str(tmp_path / 'ookd.pth')
    save_checkpoint(state, ckpt)
    cfg = copy.deepcopy(inferencer.cfg)
    cfg.model = dict(
        type='OOKD',
        student=cfg.model,
        teacher=dict(cfg_path='never/built.py'),
        teacher_checkpoint='never/loaded.pth')
    ookd = VISInferencer(cfg, ckpt)
    assert type(ookd.model).__name__ == 'IDOL'
    frames = moving_frames(2, 32, 40)
    assert summary(ookd(frames)) == summary(inferencer(frames))
    plain = VISInferencer(inferencer.cfg, ckpt)  # IDOL config, OOKD weights
    assert summary(plain(frames)) == summary(inferencer(frames))


def test_wrong_checkpoint_is_refused(inferencer, tmp_path):
    from mmengine.runner import save_checkpoint
    ckpt = str(tmp_path / 'other.pth')
    save_checkpoint({'backbone.conv1.weight': torch.zeros(1)}, ckpt)
    with pytest.raises(RuntimeError, match='missing keys'):
        VISInferencer(inferencer.cfg, ckpt)
