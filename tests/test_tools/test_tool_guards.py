# Copyright (c) mmookd authors. All rights reserved.
"""tools/train.py and tools/test.py refuse bad input before long work:
typos in --cfg-options, unwritable outputs, a checkpoint that does not fit
the model, an empty ``last_checkpoint`` (docs/robustness.md)."""
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

from mmookd.testing import load_tool
from mmookd.utils.cfg_options import CfgOptionError

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(ROOT, 'configs', 'idol', 'idol_r18-w32_1xb4-2k_synthvis.py')


def run_test_tool(monkeypatch, tmp_path, *args):
    """tools/test.py in this process; every case here fails before the
    Runner is built (so before any evaluation): no work dir appears."""
    tool = load_tool('tools/test.py', 'tool_test')
    work_dir = tmp_path / 'work'
    monkeypatch.setattr(sys, 'argv', [
        'test.py', CONFIG,
        str(tmp_path / 'unused.pth'), '--work-dir',
        str(work_dir), *args
    ])
    try:
        tool.main()
    finally:
        assert not work_dir.exists()


def test_test_tool_refuses_a_misspelled_option(monkeypatch, tmp_path):
    with pytest.raises(CfgOptionError, match="did you mean 'train_cfg'"):
        run_test_tool(monkeypatch, tmp_path, '--cfg-options',
                      'trian_cfg.max_iters=2')


def test_test_tool_checks_outputs_before_evaluating(monkeypatch, tmp_path):
    (tmp_path / 'file').write_text('')
    with pytest.raises(PermissionError, match='--metrics-out'):
        run_test_tool(monkeypatch, tmp_path, '--metrics-out',
                      str(tmp_path / 'file' / 'metrics.json'))
    with pytest.raises(PermissionError, match='--out'):
        run_test_tool(monkeypatch, tmp_path, '--out',
                      str(tmp_path / 'file' / 'results.pkl'))
    with pytest.raises(ValueError, match='must be a .pkl'):
        run_test_tool(monkeypatch, tmp_path, '--out',
                      str(tmp_path / 'results.txt'))
    # the server zip of format_only (VISMetric's outfile_prefix)
    with pytest.raises(PermissionError, match='outfile_prefix.*VISMetric'):
        run_test_tool(
            monkeypatch, tmp_path, '--cfg-options',
            'test_evaluator.format_only=True',
            f'test_evaluator.outfile_prefix={tmp_path}/file/results')


def test_test_tool_refuses_a_checkpoint_without_the_models_weights(
        tmp_path):
    ckpt = tmp_path / 'other.pth'
    torch.save(dict(meta={}, state_dict={'fc.weight': torch.zeros(2, 2)}),
               ckpt)
    proc = subprocess.run(
        [
            sys.executable,
            osp.join('tools', 'test.py'), CONFIG,
            str(ckpt), '--work-dir',
            str(tmp_path / 'work'), '--metrics-out',
            str(tmp_path / 'metrics.json')
        ],
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=ROOT, OMP_NUM_THREADS='1'),
        capture_output=True,
        text=True,
        timeout=300)
    assert proc.returncode != 0
    assert 'CheckpointMismatchError' in proc.stderr
    assert f'{ckpt} holds none of the' in proc.stderr
    assert not (tmp_path / 'metrics.json').exists()


def train_args(*args):
    tool = load_tool('tools/train.py', 'tool_train')
    argv = sys.argv
    sys.argv = ['train.py', CONFIG, *args]
    try:
        return tool, tool.parse_args()
    finally:
        sys.argv = argv


def test_train_tool_refuses_a_misspelled_option():
    tool, args = train_args('--cfg-options', 'trian_cfg.max_iters=2')
    with pytest.raises(CfgOptionError, match="'trian_cfg'"):
        tool.build_cfg(args)
    tool, args = train_args('--cfg-options', 'train_cfg.max_iters=abc')
    with pytest.raises(CfgOptionError, match='train_cfg.max_iters=abc'):
        tool.build_cfg(args)


def test_resume_with_an_empty_last_checkpoint_says_what_to_do(tmp_path):
    work_dir = tmp_path / 'work'
    work_dir.mkdir()
    (work_dir / 'last_checkpoint').write_text('')
    for name in ('iter_2.pth', 'iter_10.pth', 'iter_4.pth'):
        (work_dir / name).write_bytes(b'x')
    tool, args = train_args('--work-dir', str(work_dir), '--resume')
    with pytest.raises(FileNotFoundError) as info:
        tool.build_cfg(args)
    msg = str(info.value)
    assert 'last_checkpoint is empty' in msg
    assert "['iter_2.pth', 'iter_4.pth', 'iter_10.pth']" in msg
    assert f'--resume {work_dir}/iter_10.pth' in msg
    (work_dir / 'last_checkpoint').write_text(str(work_dir / 'gone.pth'))
    with pytest.raises(FileNotFoundError, match='gone.pth, which does not'):
        tool.build_cfg(args)
    (work_dir / 'last_checkpoint').write_text(str(work_dir / 'iter_4.pth'))
    assert tool.build_cfg(args).resume is True
