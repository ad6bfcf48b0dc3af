# Copyright (c) mmookd authors. All rights reserved.
"""``--cfg-options`` are checked against the config before they merge."""
import argparse
import os.path as osp

import pytest
from mmengine.config import Config, DictAction

from mmookd.utils.cfg_options import (CfgOptionError, check_cfg_options,
                                      merge_cfg_options)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
OOKD = osp.join(ROOT, 'configs', 'ookd', 'ookd_r18-w32_1xb4-2k_synthvis.py')
IDOL = osp.join(ROOT, 'configs', 'idol', 'idol_r18-w32_1xb4-2k_synthvis.py')


def parse(*options):
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    return parser.parse_args(['--cfg-options', *options]).cfg_options


@pytest.fixture(scope='module')
def cfgs():
    return dict(ookd=Config.fromfile(OOKD), idol=Config.fromfile(IDOL))


@pytest.mark.parametrize(
    'option',
    [
        'train_cfg.max_iters=2',
        'val_cfg=None',
        'default_hooks.checkpoint.interval=2',
        'randomness.seed=0',  # a Runner argument the config leaves out
        'resume=True',
        'train_dataloader.dataset.pipeline.0.num_ref_imgs=2',
        # new keys the tools pass: constructor arguments left at default
        'train_cfg.val_begin=3',
        'model.teacher_checkpoint=t.pth',
        'model.teacher.base_checkpoint=i.pth',
        'optim_wrapper.paramwise_cfg.norm_decay_mult=0',
        'train_cfg.max_iters=2.0',  # a number for a number
    ])
def test_valid_options_pass(cfgs, option):
    check_cfg_options(cfgs['ookd'], parse(option))


@pytest.mark.parametrize(
    'option, message',
    [
        ('trian_cfg.max_iters=2',
         "no key 'trian_cfg'; did you mean 'train_cfg'"),
        ('train_cfg.max_itres=2',
         "train_cfg.max_itres is not in the config; did you mean "
         "'train_cfg.max_iters'"),
        ('train_cfg.max_iters=abc',
         "train_cfg.max_iters=abc: the config holds a number there (2000), "
         "got the text 'abc'"),
        ('model.detectr.num_queries=3',
         "model.detectr is not in the config; did you mean 'model.detector'"),
        ('train_dataloader.dataset.pipeline.7.type=X',
         'pipeline.7 is not an index of the 3-entry list'),
        ('no_such_thing=1', "the config has no key 'no_such_thing'"),
        ('model.detector.with_box_refine=yes',
         'holds a bool there (True)'),
    ])
def test_typos_and_wrong_types_name_the_key(cfgs, option, message):
    with pytest.raises(CfgOptionError) as info:
        check_cfg_options(cfgs['idol'], parse(option))
    assert message in str(info.value)


def test_merge_checks_first_and_leaves_the_config_alone_on_error():
    cfg = Config.fromfile(IDOL)
    with pytest.raises(CfgOptionError):
        merge_cfg_options(cfg, parse('train_cfg.max_iters=7', 'trian_cfg=1'))
    assert cfg.train_cfg.max_iters == 2000
    merge_cfg_options(cfg, parse('train_cfg.max_iters=7'))
    assert cfg.train_cfg.max_iters == 7
