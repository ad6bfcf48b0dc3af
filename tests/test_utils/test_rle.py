# Copyright (c) mmookd authors. All rights reserved.
"""``mmookd.utils.rle``: run lengths read without decoding, equal to the
runs of the mask pycocotools encoded."""
import numpy as np
import pycocotools.mask as mask_utils
import pytest

from mmookd.utils.rle import rle_area, rle_problem, rle_run_lengths


def runs_of(mask):
    """Column-major run lengths, starting with a run of zeros."""
    flat = mask.flatten(order='F')
    change = np.flatnonzero(np.diff(flat)) + 1
    bounds = np.concatenate(([0], change, [flat.size]))
    runs = np.diff(bounds).tolist()
    return ([0] + runs) if flat[0] else runs


@pytest.mark.parametrize('seed', range(4))
def test_runs_equal_the_encoded_mask(seed):
    rng = np.random.default_rng(seed)
    for _ in range(50):
        h, w = (int(v) for v in rng.integers(1, 80, 2))
        mask = (rng.random((h, w)) < rng.random()).astype(np.uint8)
        rle = mask_utils.encode(np.asfortranarray(mask))
        for counts in (rle['counts'], rle['counts'].decode('ascii')):
            assert rle_run_lengths(counts).tolist() == runs_of(mask)
            assert rle_problem(counts, h, w) is None
        assert rle_area(rle['counts']) == int(mask.sum())


def test_large_runs_and_edge_masks():
    mask = np.zeros((720, 1280), np.uint8)
    mask[100:600, 200:900] = 1
    for m in (mask, np.zeros_like(mask), np.ones_like(mask)):
        rle = mask_utils.encode(np.asfortranarray(m))
        assert rle_run_lengths(rle['counts']).tolist() == runs_of(m)
    assert rle_problem([], 2, 2) == ('RLE counts add up to 0 pixels, not '
                                     'height x width = 2 x 2 = 4')


def test_problems_are_named():
    assert 'add up to 3 pixels' in rle_problem([1, 2], 2, 2)
    assert 'negative run (-2)' in rle_problem([1, -2, 5], 2, 2)
    assert 'integers' in rle_problem([1.5, 2.5], 2, 2)
    assert 'truncated' in rle_problem('1o', 2, 2)
    assert 'outside' in rle_problem('1 2', 2, 2)
    # a run two more than the frame: 4 + 2 = 6 pixels of a 2 x 2 mask
    good = mask_utils.frPyObjects(dict(size=[2, 2], counts=[4, 2]), 2, 2)
    assert 'add up to 6 pixels' in rle_problem(good['counts'], 2, 2)
