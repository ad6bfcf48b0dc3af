# Copyright (c) mmookd authors. All rights reserved.
"""browse_dataset.py renders real SynthVIS clips to a PNG contact sheet."""
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.config import Config

from mmookd.testing import load_tool, tiny_synthvis

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


browse_dataset = load_tool('tools/analysis_tools/browse_dataset.py')


@pytest.fixture(scope='module')
def synthvis_cfg(tmp_path_factory):
    root = tmp_path_factory.mktemp('synthvis')
    data_root = tiny_synthvis(root, num_val_long_videos=2)
    cfg = Config.fromfile(
        osp.join(ROOT, 'configs', '_base_', 'datasets', 'synthvis.py'))
    for split in ('train', 'val'):
        cfg[f'{split}_dataloader'].dataset.data_root = data_root
    return cfg


def test_contact_sheet_tiles_images():
    a = np.full((2, 3, 3), 10, np.uint8)
    b = np.full((2, 3, 3), 20, np.uint8)
    sheet = browse_dataset.contact_sheet([[a, b], [b]], pad=1)
    assert sheet.shape == (2 * 3 + 1, 2 * 4 + 1, 3)
    assert (sheet[1:3, 1:4] == 10).all()
    assert (sheet[1:3, 5:8] == 20).all()
    assert (sheet[4:6, 1:4] == 20).all()
    assert (sheet[4:6, 5:8] == 255).all()  # the short row is padded
    assert browse_dataset.pick(10, 4) == [0, 3, 6, 9]
    assert browse_dataset.pick(3, 6) == [0, 1, 2]


def test_raw_mode_draws_masks_ids_and_names(synthvis_cfg, tmp_path):
    out = str(tmp_path / 'raw.png')
    browse_dataset.browse(
        synthvis_cfg, out, num_videos=2, num_frames=3, scale=2.0)
    sheet = cv2.imread(out)
    # 2 rows x 3 columns of 128x128 frames with 4 px padding.
    assert sheet.shape[:2] == (2 * 132 + 4, 3 * 132 + 4)
    # The drawing changed the frames: compare one cell with its raw frame.
    ds_cfg = synthvis_cfg.train_dataloader.dataset
    frame_path = osp.join(ds_cfg.data_root, ds_cfg.data_prefix.img_path,
                          'train_0001', '00000.jpg')
    raw = cv2.resize(cv2.imread(frame_path), None, fx=2, fy=2,
                     interpolation=cv2.INTER_NEAREST)
    cell = sheet[4:132, 4:132]
    assert np.abs(cell.astype(int) - raw.astype(int)).mean() > 1.0


def test_pipeline_and_long_only_modes(synthvis_cfg, tmp_path):
    out = str(tmp_path / 'pipe.png')
    browse_dataset.browse(
        synthvis_cfg, out, mode='pipeline', num_videos=2, scale=1.0)
    sheet = cv2.imread(out)
    # Two rows (videos), each with the 2 sampled frames of a training pair.
    assert sheet.shape[0] > 2 * 64 and sheet.shape[1] > 2 * 64
    out_long = str(tmp_path / 'long.png')
    browse_dataset.browse(
        synthvis_cfg,
        out_long,
        split='val',
        num_videos=5,
        num_frames=4,
        scale=1.0,
        long_only=True)
    # Only the 2 long videos exist: 2 rows.
    assert cv2.imread(out_long).shape[0] == 2 * 68 + 4
    with pytest.raises(ValueError, match='long videos'):
        browse_dataset.browse(
            synthvis_cfg, out_long, split='val', start=5, long_only=True)
