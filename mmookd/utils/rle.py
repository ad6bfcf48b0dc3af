# Copyright (c) mmookd authors. All rights reserved.
"""Read the run lengths of a COCO RLE without decoding the mask.

pycocotools decodes an RLE by writing its runs into an ``h * w`` buffer
without checking that they add up to ``h * w``: too few runs leave part of
the buffer as uninitialised memory (the mask then changes between calls),
too many write past it. :func:`rle_run_lengths` reads the runs of a
compressed (``str``/``bytes``) or uncompressed (``list``) ``counts`` so that
a caller can check them before anything is decoded.

The compressed form (COCO's ``rleToString``) stores each run as a LEB128-like
group of 6-bit characters (offset 48): 5 value bits a character, bit 0x20
"more characters follow", bit 0x10 of the last character the sign; from the
third run on, a run is stored as its difference to the run two before.
"""
from typing import Union

import numpy as np


def _decode_string(counts: bytes) -> np.ndarray:
    """Run lengths of a compressed ``counts`` string (may be negative if the
    string is corrupt)."""
    chars = np.frombuffer(counts, np.uint8).astype(np.int64) - 48
    if chars.size == 0:
        return np.zeros(0, np.int64)
    if chars.min() < 0 or chars.max() > 63:
        raise ValueError('RLE counts string has characters outside '
                         "'0'..'o' (not a COCO compressed RLE)")
    ends = np.flatnonzero((chars & 0x20) == 0)  # last character of a run
    if ends.size == 0 or ends[-1] != chars.size - 1:
        raise ValueError('RLE counts string is truncated (its last run is '
                         'incomplete)')
    starts = np.concatenate(([0], ends[:-1] + 1))
    lengths = ends - starts + 1
    if lengths.max() > 12:
        raise ValueError('RLE counts string has a run of more than 12 '
                         'characters (corrupt)')
    position = np.arange(chars.size) - np.repeat(starts, lengths)
    values = np.add.reduceat((chars & 0x1f) << (5 * position), starts)
    negative = (chars[ends] & 0x10) != 0
    values[negative] |= np.left_shift(np.int64(-1), 5 * lengths[negative])
    runs = values.copy()
    # runs[m] = values[m] + runs[m - 2] for m > 2
    runs[1::2] = np.cumsum(values[1::2])
    runs[2::2] = np.cumsum(values[2::2])
    return runs


def rle_run_lengths(counts: Union[str, bytes, list]) -> np.ndarray:
    """The run lengths of an RLE's ``counts``, column-major, starting with
    a run of zeros (as COCO).

    Args:
        counts (str | bytes | list[int]): Compressed or uncompressed counts.

    Returns:
        np.ndarray: (R, ) int64 run lengths; a valid RLE of an ``h x w``
        mask has all of them >= 0 and their sum equal to ``h * w``.

    Raises:
        ValueError: A string that is not a COCO compressed RLE, or a list
            with entries that are not integers.
    """
    if isinstance(counts, str):
        counts = counts.encode('ascii', errors='replace')
    if isinstance(counts, bytes):
        return _decode_string(counts)
    runs = np.asarray(counts)
    if runs.ndim != 1 or (runs.size
                          and not np.issubdtype(runs.dtype, np.integer)):
        raise ValueError('uncompressed RLE counts must be a flat list of '
                         'integers')
    return runs.astype(np.int64)


def rle_problem(counts: Union[str, bytes, list], height: int,
                width: int) -> Union[str, None]:
    """Why ``counts`` is not a valid RLE of an ``height x width`` mask.

    Returns:
        str | None: The problem in words, or None if the runs are valid
        (non-negative and adding up to ``height * width``).
    """
    try:
        runs = rle_run_lengths(counts)
    except ValueError as err:
        return str(err)
    if runs.size and runs.min() < 0:
        return f'RLE counts hold a negative run ({int(runs.min())})'
    total = int(runs.sum())
    if total != height * width:
        return (f'RLE counts add up to {total} pixels, not height x width '
                f'= {height} x {width} = {height * width}')
    return None


def rle_area(counts: Union[str, bytes, list]) -> int:
    """Foreground pixels of a valid RLE (the sum of its odd runs)."""
    return int(rle_run_lengths(counts)[1::2].sum())
