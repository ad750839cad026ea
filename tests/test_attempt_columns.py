"""Tests of analyzer.metrics.attempts: attempt rows read once into columns and grouped."""

from __future__ import annotations

import numpy as np
import pytest

from analyzer.kernels import jit as kernels
from analyzer.metrics.attempts import (
    AttemptColumns,
    Numbers,
    TaskCell,
    distinct,
    factorize,
    factorize_codes,
    positions_by_code,
    sums_by_code,
)


def test_factorize_numbers_ids_in_order_of_first_appearance():
    codes, ids = factorize(["B", "A", "B", "C", "A"])
    assert ids == ["B", "A", "C"]
    assert codes.tolist() == [0, 1, 0, 2, 1]


def test_positions_by_code_keep_attempt_order():
    groups = positions_by_code(np.array([2, 0, 2, 0, 2]), 4)
    assert [g.tolist() for g in groups] == [[1, 3], [], [0, 2, 4], []]


def test_sums_by_code_are_python_sums_in_order_and_none_without_values():
    values = np.array([0.1] * 30 + [5.0])
    codes = np.array([1] * 30 + [0])
    assert sums_by_code(codes, values, 3) == [5.0, sum([0.1] * 30), None]


def test_distinct_codes():
    assert distinct(np.array([5, 1, 5, 3, 1])).tolist() == [1, 3, 5]
    assert distinct(np.array([], dtype=np.int64)).tolist() == []


def test_numbers_tell_none_from_zero():
    numbers = Numbers.of([None, 0.0, 3, 2.5])
    assert numbers.present.tolist() == [False, True, True, True]
    assert numbers.listed() == [0.0, 3.0, 2.5]
    assert numbers.positive().tolist() == [False, False, True, True]


def rows(*outcomes, **columns):
    return [{"outcome": o, "task": "t", "variant": "A", **columns} for o in outcomes]


def test_an_unknown_outcome_is_refused_by_name():
    columns = AttemptColumns(rows("success", "won"))
    with pytest.raises(ValueError, match="unknown outcome 'won'"):
        _ = columns.outcome


def test_outcome_words_and_the_kernels_codes_are_one_set():
    words = ["success", "failure", "abandoned", "skipped", "uncoded"]
    from_words = AttemptColumns(rows(*words)).outcome
    codes = np.array([kernels.OUTCOME_CODES[w] for w in words], dtype=np.int8)
    from_codes = AttemptColumns.of_arrays(5, {"outcome": codes}, {}).outcome
    assert (
        from_words.tolist() == from_codes.tolist() == [1, 2, 3, 4, 0]
    )  # the stored codes, 0 uncoded
    assert [kernels.OUTCOME_NAMES[c] for c in from_codes.tolist()] == words
    with pytest.raises(ValueError, match="unknown outcome '9'"):
        _ = AttemptColumns.of_arrays(1, {"outcome": np.array([9], dtype=np.int8)}, {}).outcome


def test_counts_must_be_whole_numbers():
    with pytest.raises(ValueError, match="errors: counts must be whole numbers"):
        AttemptColumns(rows("success", errors=0.5)).count("errors")


def test_a_cell_holds_its_coded_attempts_and_counts_the_others():
    attempts = [
        *rows("success", "uncoded", "failure", time_s=12.0),
        {"outcome": "success", "task": "t", "variant": "B", "time_s": None},
    ]
    cells = AttemptColumns(attempts).cells()
    assert set(cells) == {("t", "A"), ("t", "B")}
    a = cells[("t", "A")]
    assert (a.n, a.uncoded, a.positions.tolist(), a.success.tolist()) == (
        2,
        1,
        [0, 2],
        [True, False],
    )
    assert a.success_time.listed() == [12.0]
    assert cells[("t", "B")].success_time.listed() == []
    empty = TaskCell.empty(AttemptColumns(attempts))
    assert (empty.n, empty.uncoded) == (0, 0)


@pytest.mark.parametrize(
    ("codes", "ids"),
    [
        ([2, 0, 2, 1, 0], ["x", "y", "z"]),
        ([0, -1, 0], ["t", None]),  # -1: the last id (the analyzer's "no task")
        ([1, 0, 1], ["same", "same"]),  # two codes, one id: read one by one
        ([], ["x"]),
    ],
)
def test_factorize_codes_is_factorize_of_the_ids(codes, ids):
    got_codes, got_ids = factorize_codes(np.array(codes, dtype=np.int32), ids)
    want_codes, want_ids = factorize(ids[c] for c in codes)
    assert (got_codes.tolist(), got_ids) == (want_codes.tolist(), want_ids)


def test_columns_of_arrays_read_as_the_rows_would():
    attempts = [
        {"outcome": "success", "task": "t", "variant": "B", "session": 7, "participant": "P2",
         "clicks": 3, "direct": True, "time_s": 1.5},
        {"outcome": "uncoded", "task": "u", "variant": "A", "session": 5, "participant": "P1",
         "clicks": 0, "direct": False, "time_s": None},
        {"outcome": "failure", "task": "t", "variant": "A", "session": 5, "participant": "P1",
         "clicks": 2, "direct": False, "time_s": 0.0},
    ]  # fmt: skip
    arrays = AttemptColumns.of_arrays(
        3,
        {"outcome": ["success", "uncoded", "failure"], "clicks": np.array([3, 0, 2], dtype=np.int32),
         "direct": np.array([1, 0, 0], dtype=np.uint8),
         "time_s": Numbers(np.array([1.5, 0.0, 0.0]), np.array([True, False, True]))},
        {"task": (np.array([0, 1, 0]), ["t", "u"]), "variant": (np.array([1, 0, 0]), ["A", "B"]),
         "session": (np.array([1, 0, 0]), [5, 7]), "participant": (np.array([1, 0, 0]), ["P1", "P2"])},
    )  # fmt: skip
    rows = AttemptColumns(attempts)
    for name in ("task", "variant", "session", "participant"):
        assert arrays.codes(name)[0].tolist() == rows.codes(name)[0].tolist()
        assert arrays.codes(name)[1] == rows.codes(name)[1]
        assert arrays.column(name) == rows.column(name)
        assert arrays.value(name, 2) == attempts[2][name]
    assert arrays.outcome.tolist() == rows.outcome.tolist()
    assert arrays.count("clicks").tolist() == rows.count("clicks").tolist()
    assert arrays.direct.tolist() == rows.direct.tolist() == [True, False, False]
    assert arrays.number("time_s").listed() == rows.number("time_s").listed() == [1.5, 0.0]
    assert list(arrays.cells()) == list(rows.cells()) == [("t", "B"), ("t", "A"), ("u", "A")]
