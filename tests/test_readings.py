"""Tests of analyzer.stats.readings: the plain-language reading and caution of a comparison."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from analyzer.stats import compare as stats
from analyzer.stats import readings
from analyzer.stats.compare import Comparison, TimeComparison

# -------------------------------------------------------------- readings


@pytest.mark.parametrize(
    ("comparison", "metric", "expected"),
    [
        (
            stats.compare_proportions(12, 20, 18, 20),
            "success_rate",
            "B's success rate is higher by 30 points (A 60%, B 90%); the 95% interval of the "
            "difference, 2 to 52 points, excludes zero (N-1 two-proportion, p = 0.031).",
        ),
        (
            stats.compare_proportions(3, 5, 5, 5),
            "success_rate",
            "B's success rate is higher by 40 points (A 60%, B 100%); the 95% interval of the "
            "difference, -16 to 74 points, includes zero (N-1 two-proportion, p = 0.13): this "
            "sample cannot tell the variants apart.",
        ),
        (
            stats.compare_times([60.0, 80.0, 70.0, 90.0], [40.0, 50.0, 45.0, 48.0]),
            "time",
            "B's typical time on successful attempts (geometric mean) is 39% shorter than A's "
            "(A 74 s, B 46 s; ratio 0.61); the 95% interval of the ratio, 0.47 to 0.80, "
            "excludes 1 (Welch t on log times, p = 0.005).",
        ),
        (
            stats.compare_means([5.0, 5.0], [6.0, 6.0]),
            "seq",
            "Every rating in A was 5 and every rating in B 6: no variation, so no test or "
            "interval (R's t.test: data essentially constant).",
        ),
        (
            stats.compare_means([5.0, 6.0, 7.0], [5.0, 7.0, 6.0]),
            "seq",
            "B's mean SEQ rating equals A's (6.0); the 95% interval of the difference, -2.3 to "
            "2.3 points, includes zero (Welch t, p = 1.00): this sample cannot tell the "
            "variants apart.",
        ),
    ],
)
def test_readings_say_what_the_numbers_support(comparison, metric, expected):
    assert readings.reading(comparison, metric, "A", "B") == expected


def test_reading_flags_an_interval_that_disagrees_with_the_test():
    # Fisher's test is conservative: the adjusted-Wald interval can exclude zero while p > 0.05.
    comparison = stats.compare_proportions(0, 1, 8, 8)
    assert comparison.test == stats.TEST_FISHER
    assert comparison.ci_low > 0 and comparison.p_value > 0.05
    assert "the interval and the test disagree" in readings.reading(comparison, "success_rate")


@pytest.mark.parametrize(
    ("comparison", "metric", "expected"),
    [
        # Issue 12, item 2; R's t.test: "data are essentially constant".
        (
            stats.compare_times([30, 45, 60], [60, 90, 120], paired=True),
            "time",
            "Within subjects, 3 matched participants: every participant took exactly twice as "
            "long in B as in A (A 43 s, B 87 s): no variation, so no test or interval",
        ),
        (
            stats.compare_means([3, 4, 5], [4, 5, 6], paired=True),
            "seq",
            "Within subjects, 3 matched participants: every participant's rating was exactly 1 "
            "point higher in B than in A: no variation",
        ),
        (
            stats.compare_times([40, 50], [20, 25], paired=True),
            "time",
            "every participant took exactly half as long in B as in A",
        ),
    ],
)
def test_data_without_variation_are_said_in_words(comparison, metric, expected):
    assert expected in readings.reading(comparison, metric, "A", "B")


@pytest.mark.parametrize(
    ("n_a", "n_b", "paired", "expected"),
    [
        (5, 12, False, None),
        (3, 12, False, "Fewer than five attempts in A (3): "),
        (0, 4, False, "Fewer than five attempts in A (0) and in B (4): "),
        (4, 4, True, "Fewer than five matched participants (4): "),
    ],
)
def test_caution_below_five_per_cell(n_a, n_b, paired, expected):
    text = readings.caution(n_a, n_b, "A", "B", "attempts", paired)
    assert text == expected if expected is None else text.startswith(expected)


# ------------------------------------------------- bounds near "no difference"


def difference(low, high, value_a=5.0, value_b=5.7, p_value=0.04):
    return Comparison(test=stats.TEST_WELCH, statistic=2.1, p_value=p_value,
                      difference=value_b - value_a, ci_low=low, ci_high=high,
                      value_a=value_a, value_b=value_b, n_a=20, n_b=20)  # fmt: skip


def ratio(low, high, p_value=0.04):
    return TimeComparison(test=stats.TEST_WELCH_LOG, statistic=-2.1, p_value=p_value, ratio=0.82,
                          ci_low=low, ci_high=high, value_a=46.0, value_b=37.7, n_a=20, n_b=20)  # fmt: skip


@pytest.mark.parametrize(
    ("comparison", "metric", "bounds"),
    [
        # 0.04 to 1.3 used to print as "0.0 to 1.3 points, excludes zero"
        (difference(0.04, 1.3), "seq", "0.04 to 1.30 points, excludes zero"),
        (difference(-1.3, -0.04), "seq", "-1.30 to -0.04 points, excludes zero"),
        (difference(0.004, 2.147), "seq", "0.004 to 2.147 points, excludes zero"),
        # a rate difference of 0.4 to 40 points used to print as "0 to 40 points"
        (difference(0.004, 0.4, 0.5, 0.7), "success_rate", "0.4 to 40.0 points, excludes zero"),
        # a ratio of 0.675 to 0.9991 used to print as "0.68 to 1.00, excludes 1"
        (ratio(0.675, 0.9991), "time", "0.675 to 0.999, excludes 1"),
        (ratio(1.0004, 1.3), "time", "1.0004 to 1.3000, excludes 1"),
        # no extra decimals where the bounds already read apart from "no difference"
        (difference(0.4, 1.3), "seq", "0.4 to 1.3 points, excludes zero"),
        (difference(-0.04, 1.3, p_value=0.2), "seq", "0.0 to 1.3 points, includes zero"),
        (ratio(0.68, 0.97), "time", "0.68 to 0.97, excludes 1"),
    ],
)
def test_a_bound_that_excludes_no_difference_never_reads_as_it(comparison, metric, bounds):
    assert f"interval of the {'ratio' if metric == 'time' else 'difference'}, {bounds}" in (
        readings.reading(comparison, metric)
    )


def printed_bounds(text):
    interval = text.split("interval of the difference, ")[1].split(" points")[0]
    low, high = interval.split(" to ")
    return float(low), float(high)


@given(
    st.floats(1e-9, 50.0),
    st.floats(1e-9, 50.0),
    st.booleans(),
    st.sampled_from(["seq", "success_rate"]),
)
def test_printed_bounds_of_an_interval_excluding_zero_are_never_zero(near, width, below, metric):
    low, high = (-near - width, -near) if below else (near, near + width)
    if metric == "success_rate":
        low, high = low / 100.0, high / 100.0
    text = readings.reading(difference(low, high, p_value=0.01), metric)
    assert "excludes zero" in text
    assert 0.0 not in printed_bounds(text)


@pytest.mark.parametrize(
    ("comparison", "metric", "wanted", "unwanted"),
    [
        # Issue 12, item 6: p = 0.045 and p = 0.051 both printed "p = 0.05".
        (difference(0.1, 1.3, p_value=0.045), "seq", "p = 0.045", "p = 0.05)"),
        (difference(-0.1, 1.3, p_value=0.051), "seq", "p = 0.051", "p = 0.05)"),
        (difference(0.1, 1.3, p_value=0.0004), "seq", "p < 0.001", "p = 0.000"),
        # ratios in significant figures, not "0.00 to 1899.13" and "ratio 0.00"
        (ratio(0.0021, 1899.13, p_value=0.3), "time", "0.0021 to 1900", "1899.13"),
        (
            TimeComparison(test=stats.TEST_WELCH_LOG, statistic=-2.1, p_value=0.04, ratio=0.0021,
                           ci_low=0.0001, ci_high=0.03, value_a=46.0, value_b=0.1, n_a=20, n_b=20),
            "time", "ratio 0.0021", "ratio 0.00)",
        ),
        # no "0.00%" next to "100%"
        (stats.compare_proportions(0, 3, 3, 3), "success_rate", "(A 0%, B 100%)", "0.00%"),
        (stats.compare_proportions(999, 1000, 1000, 1000), "success_rate", "(A 99.9%, B 100%)", "A 100%"),
        # no "higher by 0.00 points" for a difference that is not zero
        (difference(0.001, 0.005, 5.0, 5.003), "seq", "higher by 0.003 points", "0.00 points"),
    ],
)  # fmt: skip
def test_numbers_do_not_mislead(comparison, metric, wanted, unwanted):
    text = readings.reading(comparison, metric)
    assert wanted in text and unwanted not in text
