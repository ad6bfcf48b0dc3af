# Copyright (c) mmookd authors. All rights reserved.
"""tools/train.py, tools/test.py and tools/dist_train.sh on this CPU machine.

Every training is a subprocess of this interpreter (``sys.executable``) on
a tiny SynthVIS set generated in a temporary folder, with the SynthVIS IDOL
config (ResNet-18 at width 32, 30 queries; about 0.3 s an iteration on one
thread), batch size 1, no data workers and no validation. Most of the time
goes to starting the processes (``import mmookd`` takes about 5 s of CPU).
"""
import glob
import os
import os.path as osp
import socket
import subprocess
import sys

import pytest
import torch

from mmookd.testing import load_tool, tiny_synthvis

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join('configs', 'idol', 'idol_r18-w32_1xb4-2k_synthvis.py')
TIMEOUT = 300


@pytest.fixture(scope='module')
def synthvis_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('synthvis')
    return tiny_synthvis(
        root,
        num_val_short_videos=1,
        num_val_long_videos=1,
        val_long_length=(8, 9))


def _train_options(data_root: str, max_iters: int) -> list:
    """--cfg-options of a short CPU training on the tiny set."""
    return [
        f'train_dataloader.dataset.data_root={data_root}',
        'train_dataloader.batch_size=1',
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        f'train_cfg.max_iters={max_iters}',
        f'train_cfg.val_interval={max_iters}',
        'val_cfg=None',
        'val_dataloader=None',
        'val_evaluator=None',
        'default_hooks.checkpoint.interval=2',
        'default_hooks.logger.interval=1',
        'randomness.seed=0',
    ]


def _env(**extra) -> dict:
    env = dict(os.environ)
    # The checkout's mmookd first; one thread per process (a shared CPU
    # with two cores: more threads only fight each other).
    env['PYTHONPATH'] = os.pathsep.join(
        [ROOT] + [p for p in [env.get('PYTHONPATH')] if p])
    env.update(OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
    env.update(extra)
    return env


def _run(cmd: list, **extra_env) -> subprocess.CompletedProcess:
    return subprocess.run(
        cmd,
        cwd=ROOT,
        env=_env(**extra_env),
        capture_output=True,
        text=True,
        timeout=TIMEOUT)


def _tail(proc: subprocess.CompletedProcess, chars: int = 3000) -> str:
    return (f'exit code {proc.returncode}\n--- stdout ---\n'
            f'{proc.stdout[-chars:]}\n--- stderr ---\n{proc.stderr[-chars:]}')


def _train(work_dir: str, data_root: str, max_iters: int, *extra:
           str) -> subprocess.CompletedProcess:
    cmd = [
        sys.executable,
        osp.join('tools', 'train.py'), CONFIG, '--work-dir', work_dir, *extra,
        '--cfg-options'
    ] + _train_options(data_root, max_iters)
    proc = _run(cmd)
    assert proc.returncode == 0, _tail(proc)
    return proc


def _load(path: str) -> dict:
    # a checkpoint this test wrote itself
    return torch.load(path, map_location='cpu', weights_only=False)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def _run_log(work_dir: str) -> str:
    logs = glob.glob(osp.join(work_dir, '*', '*.log'))
    assert len(logs) == 1, f'expected one run log in {work_dir}, got {logs}'
    with open(logs[0]) as f:
        return f.read()


def _help(script: str, monkeypatch, capsys) -> str:
    """``tools/<script> --help``, run in this process (its imports are the
    ones this test already made; a subprocess would spend ~5 s on them)."""
    path = osp.join(ROOT, 'tools', script)
    module = load_tool(path, f'tool_{script[:-3]}')
    monkeypatch.setattr(sys, 'argv', [path, '--help'])
    with pytest.raises(SystemExit) as exit_info:
        module.parse_args()
    assert exit_info.value.code == 0
    return capsys.readouterr().out


def test_help_shows_the_openmmlab_arguments(monkeypatch, capsys):
    train_help = _help('train.py', monkeypatch, capsys)
    for arg in ('--work-dir', '--amp', '--auto-scale-lr', '--resume',
                '--cfg-options', '--launcher', 'config'):
        assert arg in train_help, f'train.py --help lacks {arg}'
    assert '{none,pytorch,slurm,mpi}' in train_help
    test_help = _help('test.py', monkeypatch, capsys)
    for arg in ('--work-dir', '--out', '--cfg-options', '--launcher', 'config',
                'checkpoint'):
        assert arg in test_help, f'test.py --help lacks {arg}'


def test_dist_train_runs_two_cpu_processes(synthvis_root, tmp_path):
    work_dir = str(tmp_path / 'dist')
    cmd = ['bash', osp.join('tools', 'dist_train.sh'), CONFIG, '2',
           '--work-dir', work_dir, '--cfg-options'] + \
        _train_options(synthvis_root, 2)
    proc = _run(cmd, PYTHON=sys.executable, PORT=str(_free_port()))
    assert proc.returncode == 0, _tail(proc)
    ckpt = _load(osp.join(work_dir, 'iter_2.pth'))
    assert ckpt['meta']['iter'] == 2
    assert any(k.startswith('detector.backbone.') for k in ckpt['state_dict'])
    # no DDP prefix in the saved weights
    assert not any(k.startswith('module.') for k in ckpt['state_dict'])
    log = _run_log(work_dir)
    assert 'Distributed training: True' in log
    assert 'GPU number: 2' in log  # mmengine's name for the world size
    assert 'Iter(train) [2/2]' in log


def test_resume_gives_the_uninterrupted_weights(synthvis_root, tmp_path):
    straight, resumed = str(tmp_path / 'straight'), str(tmp_path / 'resumed')
    # 4 iterations in one go (checkpoints at 2 and 4) ...
    _train(straight, synthvis_root, 4)
    # ... and 2 + 2: resume the straight run's iteration-2 checkpoint.
    proc = _train(resumed, synthvis_root, 4, '--resume',
                  osp.join(straight, 'iter_2.pth'))
    log = _run_log(resumed)
    assert 'resumed epoch: 0, iter: 2' in log, _tail(proc)
    assert 'Iter(train) [1/4]' not in log and 'Iter(train) [3/4]' in log
    a = _load(osp.join(straight, 'iter_4.pth'))
    b = _load(osp.join(resumed, 'iter_4.pth'))
    assert a['meta']['iter'] == b['meta']['iter'] == 4
    assert a['state_dict'].keys() == b['state_dict'].keys()
    differ = {
        name: (a_t.double() - b['state_dict'][name].double()).abs().max()
        for name, a_t in a['state_dict'].items()
        if not torch.equal(a_t, b['state_dict'][name])
    }
    assert not differ, (
        f'{len(differ)} of {len(a["state_dict"])} tensors differ after '
        f'resuming (largest difference {max(differ.values()):.3g}, in '
        f'{max(differ, key=differ.get)}). The data order resumes exactly '
        '(the loop replays the batches it skips); the torch RNG state '
        '(dropout, the random negatives of loss_embed_aux) is not in the '
        'checkpoint unless a hook saves it: see docs/benchmarks.md.')
    # The optimizer (AdamW moments and step counts) resumes exactly too.
    state_a, state_b = a['optimizer']['state'], b['optimizer']['state']
    assert state_a.keys() == state_b.keys()
    for key, entry in state_a.items():
        for name, value in entry.items():
            assert torch.equal(
                torch.as_tensor(value), torch.as_tensor(
                    state_b[key][name])), f'optimizer state {key}.{name}'
