# Copyright (c) mmookd authors. All rights reserved.
"""mmookd.utils.tool_checks: output paths, checkpoints that do not fit or do
not load."""
import pytest
import torch
from torch import nn

from mmookd.utils.tool_checks import (CheckpointMismatchError,
                                      check_checkpoint_fits,
                                      check_writable_file, checkpoint_problem,
                                      load_state_dict_of)


def test_writable_file(tmp_path):
    check_writable_file(str(tmp_path / 'a' / 'b' / 'metrics.json'), 'x')
    assert not (tmp_path / 'a').exists()  # nothing is created
    (tmp_path / 'dir.json').mkdir()
    with pytest.raises(PermissionError, match='--metrics-out .*dir.json: is '
                       'a folder'):
        check_writable_file(str(tmp_path / 'dir.json'), '--metrics-out')
    (tmp_path / 'plain').write_text('')
    with pytest.raises(PermissionError, match='plain is not a writable '
                       'folder'):
        check_writable_file(str(tmp_path / 'plain' / 'm.json'), '--out')


class Net(nn.Module):

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)
        self.bn = nn.BatchNorm2d(4)


def test_checkpoint_must_hold_the_models_weights():
    net = Net()
    state = net.state_dict()
    check_checkpoint_fits(net, state, 'ok.pth')
    # old checkpoints may lack BN's counter: fine
    check_checkpoint_fits(
        net, {k: v
              for k, v in state.items() if 'num_batches' not in k}, 'a.pth')
    with pytest.raises(CheckpointMismatchError,
                       match=r'other.pth holds none of the 7 weights'):
        check_checkpoint_fits(net, {'head.fc.weight': torch.zeros(1)},
                              'other.pth')
    partial = {k: v for k, v in state.items() if not k.startswith('bn.')}
    with pytest.raises(CheckpointMismatchError,
                       match=r"part.pth lacks 4 of the 7 .*'bn.bias'"):
        check_checkpoint_fits(net, partial, 'part.pth')


def test_checkpoint_problem_and_ddp_prefix(tmp_path):
    net = Net()
    path = tmp_path / 'iter_4.pth'
    state = {f'module.{k}': v for k, v in net.state_dict().items()}
    torch.save(dict(meta=dict(iter=4), state_dict=state), path)
    assert checkpoint_problem(str(path)) is None
    assert set(load_state_dict_of(str(path))) == set(net.state_dict())
    # a run killed while saving leaves the first part of the file
    data = path.read_bytes()
    (tmp_path / 'half.pth').write_bytes(data[:len(data) // 2])
    problem = checkpoint_problem(str(tmp_path / 'half.pth'))
    assert problem.startswith('it does not load')
    (tmp_path / 'empty.pth').write_bytes(b'')
    assert checkpoint_problem(str(tmp_path / 'empty.pth')).startswith(
        'it does not load')
    torch.save(dict(state_dict={}), tmp_path / 'none.pth')
    assert checkpoint_problem(str(tmp_path / 'none.pth')) == \
        'it holds no weights'
    assert checkpoint_problem(str(tmp_path / 'missing.pth')) == \
        'it does not exist'
