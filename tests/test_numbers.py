"""analyzer.numbers: how every reading, table title and report cell writes numbers (issue 12, item 6)."""

from __future__ import annotations

import pytest

from analyzer import numbers
from analyzer.commands import terminal_table


@pytest.mark.parametrize(
    ("p", "text"),
    [
        (0.045, "p = 0.045"),  # 0.045 and 0.051 both printed "p = 0.05"
        (0.051, "p = 0.051"),
        (0.0996, "p = 0.100"),
        (0.1, "p = 0.10"),
        (0.32, "p = 0.32"),
        (0.001, "p = 0.001"),
        (0.0009, "p < 0.001"),
    ],
)
def test_p_values_have_three_decimals_below_0_1(p, text):
    assert numbers.p_text(p) == text
    assert numbers.p_cell(p) == text.removeprefix("p = ").replace("p < ", "<")


@pytest.mark.parametrize(
    ("x", "text"),
    [(1899.13, "1900"), (0.002134, "0.00213"), (0.61, "0.610"), (2.0, "2.00"), (-0.5, "-0.500")],
)
def test_ratios_have_significant_figures(x, text):
    assert numbers.sig(x) == text


@pytest.mark.parametrize(
    ("x", "text"), [(0.0, "0"), (0.004, "0.004"), (-0.0004, "-0.0004"), (41.3, "41"), (4.13, "4.1")]
)
def test_a_number_that_is_not_zero_never_reads_as_zero(x, text):
    assert numbers.num(x) == text


def test_a_share_short_of_a_whole_never_reads_as_whole():
    assert numbers.num_apart(99.79, 100.0) == "99.8"
    assert numbers.num_apart(100.0, 100.0) == "100"


@pytest.mark.parametrize(
    ("n", "noun", "text"),
    [
        (1, "variant", "1 variant"),
        (2, "variant", "2 variants"),
        (1, "task", "1 task"),
        (1, "entry", "1 entry"),
        (3, "entry", "3 entries"),
        (0, "entry", "0 entries"),
        (1, "matched participant", "1 matched participant"),
        (6, "error", "6 errors"),
        (2, "day", "2 days"),
    ],
)
def test_counts_have_their_noun_in_the_right_number(n, noun, text):
    assert numbers.plural(n, noun) == text


def test_terminal_table_titles_count_rows_in_words():
    assert terminal_table("tasks", [{"task": "a"}]).startswith("tasks (1 row)\n")
    assert terminal_table("tasks", [{"task": "a"}] * 3).startswith("tasks (3 rows)\n")
