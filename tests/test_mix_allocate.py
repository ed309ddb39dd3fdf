"""The allocation arithmetic a mixture's row counts come from, with the values worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from pipelines.mix import allocate


def test_shares_by_size_weight_and_temperature():
    assert allocate.shares([1, 3]) == [0.25, 0.75]
    assert allocate.shares([10, 5], [3, 1]) == [0.75, 0.25]
    assert allocate.shares([10, 5], [0.5, 0.5]) == [0.5, 0.5]          # weights that already sum to 1
    # T = 2: square roots 1, 2 and 0 (an empty source has no share), normalised by 3
    assert allocate.shares([1, 4, 0], temperature=2.0) == pytest.approx([1 / 3, 2 / 3, 0.0])
    # T = 0.5: squares 4 and 16
    assert allocate.shares([2, 4], temperature=0.5) == pytest.approx([0.2, 0.8])
    # nothing to share: every share 0, no division by zero
    assert allocate.shares([0, 0]) == [0.0, 0.0] and allocate.shares([0, 0], temperature=2.0) == [0.0, 0.0]


def test_the_largest_remainders_get_the_rows_left():
    # 1.4, 3.6 and 5.0 rows: floors 1, 3, 5; the one row left goes to the largest remainder (0.6)
    assert allocate.largest_remainder(10, [0.14, 0.36, 0.5]) == [1, 4, 5]
    # equal remainders: the earlier sources first
    assert allocate.largest_remainder(10, [1 / 3] * 3) == [4, 3, 3]


def test_counts_with_and_without_a_total():
    assert allocate.counts([10, 5], [2 / 3, 1 / 3], 6, proportional=True) == [4, 2]    # a total is always split
    assert allocate.counts([10, 5], [2 / 3, 1 / 3], None, proportional=True) == [10, 5]
    # weighted, no total: the largest mixture that repeats no row (5 rows are a half: 10 in all)
    assert allocate.counts([100, 5], [0.5, 0.5], None, proportional=False) == [5, 5]
    # every source empty: no rows, not an error
    assert allocate.counts([0, 0], [0.0, 0.0], None, proportional=False) == [0, 0]


def test_draw_repeats_a_row_only_once_every_row_is_taken():
    empty = allocate.draw(0, 3, np.random.default_rng(0))                       # an empty source gives nothing
    assert empty.tolist() == [] and empty.dtype.kind == "i"
    assert allocate.draw(4, 0, np.random.default_rng(0)).tolist() == []
    for seed in range(5):
        # 19 of 10 rows: each once, then 9 distinct ones a second time
        idx = allocate.draw(10, 19, np.random.default_rng(seed))
        assert idx.dtype.kind == "i" and sorted(np.bincount(idx, minlength=10).tolist()) == [1] + [2] * 9
        assert idx.tolist() == sorted(idx.tolist())
        part = allocate.draw(10, 9, np.random.default_rng(seed))
        assert len(set(part.tolist())) == 9 and part.dtype.kind == "i"
