"""Tests of analyzer.kernels.structures: the kernels' named structures and input checks."""

from __future__ import annotations

import numpy as np
import pytest

from analyzer.kernels import jit as kernels
from analyzer.kernels import structures as kernel_types


@pytest.mark.parametrize(
    "name",
    ["Events", "TaskRules", "ClickFlags", "Segments", "Attempts", "Transitions", "GroupMedians",
     "SUCCESS", "UNCODED", "OUTCOME_CODES", "OUTCOME_NAMES", "BY_MODERATOR", "BY_CRITERIA", "CRIT_URL", "CRIT_NONE", "EVENT_DTYPES"],
)  # fmt: skip
def test_kernels_re_exports_every_structure_and_code(name):
    assert getattr(kernels, name) is getattr(kernel_types, name)


def test_checked_column_is_contiguous_read_only_and_typed():
    column = kernel_types.checked_column([1, 2, 3], np.int32, "key", 3)
    assert column.dtype == np.int32 and column.flags.c_contiguous
    assert not column.flags.writeable


@pytest.mark.parametrize(
    ("values", "length", "message"),
    [
        (["a"], None, "key: cannot be read as int32"),
        ([[1, 2]], None, "key: must be one-dimensional"),
        ([1, 2], 3, "key: has 2 entries, expected 3"),
    ],
)
def test_checked_column_names_the_field(values, length, message):
    with pytest.raises(ValueError, match=message):
        kernel_types.checked_column(values, np.int32, "key", length)


@pytest.mark.parametrize(
    ("offsets", "total", "message"),
    [([], None, "start at 0"), ([1, 2], None, "start at 0"), ([0, 2, 1], None, "never decrease"),
     ([0, 2], 3, "must end at 3")],
)  # fmt: skip
def test_checked_offsets_refuse_broken_csr(offsets, total, message):
    with pytest.raises(ValueError, match=message):
        kernel_types.checked_offsets(offsets, total, "session_start")
