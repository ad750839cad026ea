"""Tests of analyzer.attempt_columns: attempt rows read once into columns and grouped."""

from __future__ import annotations

import numpy as np
import pytest

from analyzer.attempt_columns import (
    AttemptColumns,
    Cell,
    Numbers,
    distinct,
    factorize,
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
    empty = Cell.empty(AttemptColumns(attempts))
    assert (empty.n, empty.uncoded) == (0, 0)
