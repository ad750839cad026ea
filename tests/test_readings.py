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
            "difference, 2 to 52 points, excludes zero (N-1 two-proportion, p = 0.03).",
        ),
        (
            stats.compare_proportions(3, 5, 5, 5),
            "success_rate",
            "B's success rate is higher by 40 points (A 60%, B 100%); the 95% interval of the "
            "difference, -16 to 74 points, includes zero (Fisher exact, p = 0.44): this sample "
            "cannot tell the variants apart.",
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
            "B's mean SEQ rating is higher by 1.0 points (A 5.0, B 6.0); no variation within "
            "the samples: the t-test is undefined.",
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
    comparison = stats.compare_proportions(0, 3, 3, 3)
    assert comparison.ci_low > 0 and comparison.p_value > 0.05
    assert "the interval and the test disagree" in readings.reading(comparison, "success_rate")


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
