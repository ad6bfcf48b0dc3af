# Copyright (c) mmookd authors. All rights reserved.
"""The shims of mmookd.utils.compat, each against the failure it fixes."""
import fractions
import pickle

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.model import BaseModel
from mmengine.runner import Runner, load_checkpoint
from pycocotools import mask as mask_utils

from mmookd.utils import compat


class ToyModel(BaseModel):
    """y = w x fitted to y = 2 x; enough to make a real Runner checkpoint."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(1, 1)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        x = inputs if torch.is_tensor(inputs) else torch.stack(inputs)
        x = x.float()
        pred = self.linear(x)
        if mode == 'loss':
            return dict(loss=((pred - 2 * x)**2).mean())
        return pred


def _runner(work_dir, max_iters, resume=False, load_from=None):
    dataset = [torch.tensor([float(i)]) for i in range(8)]
    return Runner(
        model=ToyModel(),
        work_dir=str(work_dir),
        train_dataloader=dict(
            dataset=dataset,
            sampler=dict(type='DefaultSampler', shuffle=False),
            batch_size=2,
            num_workers=0),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        default_hooks=dict(
            checkpoint=dict(type='CheckpointHook', interval=2,
                            by_epoch=False),
            logger=dict(type='LoggerHook', interval=1)),
        resume=resume,
        load_from=load_from,
        default_scope='mmengine',
        experiment_name=f'toy_{max_iters}_{int(resume)}',
        randomness=dict(seed=0))


def test_runner_resume_needs_the_shim(tmp_path):
    _runner(tmp_path, max_iters=2).train()
    ckpt = tmp_path / 'iter_2.pth'
    assert ckpt.exists()

    # Breakage 1 of STACK.md: without the shim, torch's weights_only
    # default refuses mmengine's own checkpoint on resume.
    with compat.shims_disabled():
        runner = _runner(tmp_path, max_iters=4, resume=True,
                         load_from=str(ckpt))
        with pytest.raises(pickle.UnpicklingError):
            runner.train()

    runner = _runner(tmp_path, max_iters=4, resume=True, load_from=str(ckpt))
    runner.train()
    assert runner.iter == 4
    # The resumed run continued from iteration 2, not from scratch.
    assert (tmp_path / 'iter_4.pth').exists()


def _foreign_checkpoint(path):
    torch.save(
        dict(
            state_dict=dict(w=torch.ones(2)),
            meta=dict(note=fractions.Fraction(1, 3))), str(path))


def test_foreign_global_is_refused_with_a_clear_message(tmp_path):
    path = tmp_path / 'foreign.pth'
    _foreign_checkpoint(path)
    model = nn.Module()
    model.w = nn.Parameter(torch.zeros(2))
    with pytest.raises(compat.UntrustedCheckpointError) as err:
        load_checkpoint(model, str(path))
    msg = str(err.value)
    assert 'fractions.Fraction' in msg
    assert str(path) in msg
    assert '--trust-checkpoint' in msg
    assert 'allow_checkpoint_globals' in msg
    # Nothing was loaded.
    assert torch.equal(model.w.data, torch.zeros(2))


def test_trusting_one_file_loads_only_that_file(tmp_path):
    trusted, other = tmp_path / 'trusted.pth', tmp_path / 'other.pth'
    _foreign_checkpoint(trusted)
    _foreign_checkpoint(other)
    compat.trust_checkpoint(str(trusted))
    try:
        ckpt = compat.safe_torch_load(str(trusted))
        assert ckpt['meta']['note'] == fractions.Fraction(1, 3)
        with pytest.raises(compat.UntrustedCheckpointError):
            compat.safe_torch_load(str(other))
    finally:
        compat._TRUSTED_FILES.clear()


def test_allow_list_is_not_global_and_can_be_extended(tmp_path):
    path = tmp_path / 'foreign.pth'
    _foreign_checkpoint(path)
    # A plain torch.load elsewhere in the process keeps torch's defaults.
    with pytest.raises(pickle.UnpicklingError):
        torch.load(str(path))
    compat.allow_checkpoint_globals(['fractions.Fraction'])
    try:
        ckpt = compat.safe_torch_load(str(path))
        assert ckpt['meta']['note'] == fractions.Fraction(1, 3)
        with pytest.raises(pickle.UnpicklingError):
            torch.load(str(path))
    finally:
        compat._ALLOWED.remove(fractions.Fraction)
    with pytest.raises(ValueError, match='no.such'):
        compat.allow_checkpoint_globals(['no.such.Thing'])


def _tiny_ytvis():
    """One 2-frame video, one GT track, one perfect prediction."""
    mask = np.zeros((8, 8), dtype=np.uint8, order='F')
    mask[2:6, 2:6] = 1
    rle = mask_utils.encode(mask)
    rle['counts'] = rle['counts'].decode()
    gt = dict(
        categories=[dict(id=1, name='thing')],
        videos=[dict(id=1, width=8, height=8, length=2, file_names=['a',
                                                                    'b'])],
        annotations=[
            dict(
                id=1,
                video_id=1,
                category_id=1,
                iscrowd=0,
                segmentations=[rle, rle],
                bboxes=[[2, 2, 4, 4]] * 2,
                areas=[16, 16],
                height=8,
                width=8,
                length=2)
        ])
    pred = [dict(video_id=1, category_id=1, score=0.9, segmentations=[rle,
                                                                      rle])]
    return gt, pred


def test_mmdet_ytvis_eval_needs_the_numpy_shim():
    from mmdet.evaluation.functional import YTVIS, YTVISeval

    def run():
        gt, pred = _tiny_ytvis()
        ytvis = YTVIS(gt)
        evaluator = YTVISeval(ytvis, ytvis.loadRes(pred), 'segm')
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
        return evaluator.stats

    # Breakage 2 of STACK.md: np.float is gone in numpy 2.
    with compat.shims_disabled():
        with pytest.raises(AttributeError, match='float'):
            run()
    stats = run()
    assert stats[0] == pytest.approx(1.0)  # a perfect prediction: AP = 1
    # numpy itself is untouched.
    assert not hasattr(np, 'float')


class _GetattrPayload:
    """Pickles as ``getattr(HistoryBuffer, attr)``, as a crafted file could.
    """

    def __init__(self, attr):
        self.attr = attr

    def __reduce__(self):
        from mmengine.logging import HistoryBuffer
        return getattr, (HistoryBuffer, self.attr)


def test_getattr_in_checkpoints_is_restricted(tmp_path):
    from mmengine.logging import HistoryBuffer

    # mmengine's own use (the buffer's statistics methods) loads ...
    good = tmp_path / 'good.pth'
    torch.save(dict(meta=dict(m=_GetattrPayload('mean'))), str(good))
    assert compat.safe_torch_load(str(good))['meta']['m'] is \
        HistoryBuffer.mean
    # ... any other attribute lookup is refused.
    bad = tmp_path / 'bad.pth'
    torch.save(dict(meta=dict(m=_GetattrPayload('__init__'))), str(bad))
    with pytest.raises(pickle.UnpicklingError, match='__init__'):
        compat.safe_torch_load(str(bad))
