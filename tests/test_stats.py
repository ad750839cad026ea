"""Tests of analyzer.stats.compare: published reference values, edge cases, scipy twins, properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from scipy import stats as sps

from analyzer.stats import compare as stats

# Published worked examples, copied from shared/reference/statistics.json so the
# project's tests stand alone. Tolerances: 0.001 on proportions and scores,
# 0.5 on seconds.
PROPORTION_TOL = 0.001
SECONDS_TOL = 0.5
ADJUSTED_WALD_REFERENCE = [
    # Sauro & Lewis, adjusted-Wald worked example (measuringux.com/adjustedwald.htm)
    {
        "successes": 4,
        "attempts": 5,
        "confidence": 0.95,
        "p_adj": 0.6696,
        "low": 0.3596,
        "high": 0.9797,
    },
    # Sauro & Lewis, Quantifying the User Experience (published as about 39% to 90%)
    {
        "successes": 7,
        "attempts": 10,
        "confidence": 0.95,
        "p_adj": None,
        "low": 0.392,
        "high": 0.897,
    },
]
# MeasuringU, confidence intervals for task times (published as 68 s, 95% CI 46 to 101)
TIME_REFERENCE = {
    "times_s": [55, 65, 75, 62, 45, 135],
    "confidence": 0.95,
    "geometric_mean": 68.24,
    "low": 46.01,
    "high": 101.22,
    "arithmetic_mean": 72.83,
    "median": 63.5,
}


# ------------------------------------------------------- reference values


@pytest.mark.parametrize(
    "case", ADJUSTED_WALD_REFERENCE, ids=lambda c: f"{c['successes']}of{c['attempts']}"
)
def test_adjusted_wald_matches_published_values(case):
    result = stats.adjusted_wald(case["successes"], case["attempts"], case["confidence"])
    assert result.estimate == case["successes"] / case["attempts"]
    assert result.low == pytest.approx(case["low"], abs=PROPORTION_TOL)
    assert result.high == pytest.approx(case["high"], abs=PROPORTION_TOL)
    if case["p_adj"] is not None:
        assert result.adjusted == pytest.approx(case["p_adj"], abs=PROPORTION_TOL)


def test_time_summary_matches_published_values():
    ref = TIME_REFERENCE
    result = stats.time_summary(ref["times_s"], ref["confidence"])
    assert result.n == 6
    assert result.geometric_mean == pytest.approx(ref["geometric_mean"], abs=SECONDS_TOL)
    assert result.low == pytest.approx(ref["low"], abs=SECONDS_TOL)
    assert result.high == pytest.approx(ref["high"], abs=SECONDS_TOL)
    assert result.mean == pytest.approx(ref["arithmetic_mean"], abs=SECONDS_TOL)
    assert result.median == pytest.approx(ref["median"], abs=SECONDS_TOL)


# ------------------------------------------------------------ intervals


@pytest.mark.parametrize("n", [1, 5, 20])
def test_adjusted_wald_zero_successes_reaches_zero(n):
    result = stats.adjusted_wald(0, n)
    assert result.estimate == 0.0
    assert result.low == 0.0
    assert 0.0 < result.high < 1.0


@pytest.mark.parametrize("n", [1, 5, 20])
def test_adjusted_wald_all_successes_reaches_one(n):
    result = stats.adjusted_wald(n, n)
    assert result.estimate == 1.0
    assert result.high == 1.0
    assert 0.0 < result.low < 1.0


def test_adjusted_wald_single_attempt_is_honestly_wide():
    result = stats.adjusted_wald(1, 1)
    assert result.low is not None and result.low < 0.25
    assert result.high == 1.0


def test_adjusted_wald_without_attempts_has_no_figures():
    result = stats.adjusted_wald(0, 0)
    assert (result.estimate, result.low, result.high) == (None, None, None)
    assert result.reason == "no attempts"


@pytest.mark.parametrize(("x", "n"), [(-1, 5), (6, 5), (0, -1)])
def test_adjusted_wald_rejects_impossible_counts(x, n):
    with pytest.raises(ValueError, match="successes"):
        stats.adjusted_wald(x, n)


@pytest.mark.parametrize("confidence", [0.0, 1.0, 95])
def test_confidence_must_be_a_fraction(confidence):
    with pytest.raises(ValueError, match="confidence"):
        stats.adjusted_wald(3, 5, confidence)


def test_wider_confidence_gives_wider_interval():
    narrow, wide = stats.adjusted_wald(7, 10, 0.90), stats.adjusted_wald(7, 10, 0.99)
    assert wide.low < narrow.low and wide.high > narrow.high


def test_mean_interval_matches_scipy_t_interval():
    values = [4, 5, 7, 6, 6, 3, 7]
    result = stats.mean_interval(values)
    low, high = sps.t.interval(0.95, len(values) - 1, np.mean(values), sps.sem(values))
    assert (result.low, result.high) == (pytest.approx(low), pytest.approx(high))
    assert result.median == 6.0
    assert result.sd == pytest.approx(np.std(values, ddof=1))


@pytest.mark.parametrize("summarize", [stats.mean_interval, stats.time_summary])
def test_no_values_give_no_figures_and_a_reason(summarize):
    result = summarize([])
    assert result.n == 0
    assert result.low is None and result.high is None and result.median is None
    assert result.reason


def test_one_value_gives_a_point_without_interval():
    mean, times = stats.mean_interval([6]), stats.time_summary([42.0])
    assert (mean.mean, mean.low, mean.high) == (6.0, None, None)
    assert (times.geometric_mean, times.median, times.low, times.high) == (
        pytest.approx(42.0),
        42.0,
        None,
        None,
    )
    assert "one value" in mean.reason and "one value" in times.reason


@pytest.mark.parametrize("value", [0.1, 5.0, 7.0, 30.0, 37.3])
def test_identical_values_give_no_interval_and_say_why(value):
    # Issue 12, item 3: mean_interval([7, 7, 7]) gave 7-7 and time_summary([30, 30]) 30-30,
    # a "95% interval" of no width that reads as certainty.
    mean, times = stats.mean_interval([value] * 3), stats.time_summary([value] * 2)
    assert mean.mean == value and mean.sd == 0.0 and (mean.low, mean.high) == (None, None)
    assert times.geometric_mean == pytest.approx(value) and (times.low, times.high) == (None, None)
    assert "all 3 values are equal" in mean.reason and "all 2 times are equal" in times.reason


def test_values_equal_but_for_rounding_are_equal():
    # R's t.test rule: a standard error below 10 * eps * |mean| is no variation.
    values = [0.1 + 0.2, 0.3, 0.3]
    assert values[0] != values[1]
    assert stats.mean_interval(values).low is None


@pytest.mark.parametrize(
    ("values", "scale", "low", "high", "clipped"),
    [
        # SEQ [6, 7]: the t interval 0.15-12.85 (issue 12, item 4); SEQ runs 1-7.
        ([6, 7], "seq", 1.0, 7.0, "both"),
        ([100.0, 50.0, 82.5], "sus", None, 100.0, "high"),  # SUS runs 0-100
        ([0.0, 10.0, 2.5], "umux_lite", 0.0, None, "low"),  # UMUX-Lite runs 0-100
        ([-100.0, -100.0, -50.0], "nps", -100.0, None, "low"),  # NPS runs -100 to 100
        ([3, 4, 5, 4, 4], "seq", None, None, None),
    ],
)
def test_rating_intervals_are_clipped_to_the_scale_and_marked(values, scale, low, high, clipped):
    # The scales' ranges: Sauro & Lewis (2016), Quantifying the User Experience, ch. 8.
    raw = stats.mean_interval(values)
    result = stats.mean_interval(values, scale=stats.SCALES[scale])
    assert result.clipped == clipped
    assert result.low == (raw.low if low is None else low)
    assert result.high == (raw.high if high is None else high)
    assert (
        stats.SCALES[scale][0] <= result.low <= result.mean <= result.high <= stats.SCALES[scale][1]
    )


@pytest.mark.parametrize("bad", [[0.0, 3.0], [-1.0, 3.0], [float("nan"), 3.0]])
def test_time_summary_rejects_times_a_log_cannot_take(bad):
    with pytest.raises(ValueError, match="times"):
        stats.time_summary(bad)


# ---------------------------------------------------------- proportions


def test_n1_test_matches_a_hand_computation():
    # P = 0.75, z = 0.3 / sqrt(0.75 * 0.25 * (1/20 + 1/20)) * sqrt(39/40)
    result = stats.n1_two_proportion_test(12, 20, 18, 20)
    assert result.statistic == pytest.approx(2.163331, abs=1e-6)
    assert result.p_value == pytest.approx(0.030516, abs=1e-6)
    assert result.difference == pytest.approx(0.3)
    assert result.test == stats.TEST_N1


@pytest.mark.parametrize(
    ("x_a", "n_a", "x_b", "n_b"), [(12, 20, 18, 20), (3, 11, 9, 14), (30, 40, 20, 37)]
)
def test_n1_statistic_is_pearson_chi_square_scaled_by_n_minus_1(x_a, n_a, x_b, n_b):
    table = [[x_a, n_a - x_a], [x_b, n_b - x_b]]
    chi2 = sps.chi2_contingency(table, correction=False)[0]
    big_n = n_a + n_b
    result = stats.n1_two_proportion_test(x_a, n_a, x_b, n_b)
    assert result.statistic**2 == pytest.approx(chi2 * (big_n - 1) / big_n)
    assert result.p_value == pytest.approx(sps.chi2.sf(chi2 * (big_n - 1) / big_n, 1))


def test_n1_test_when_both_variants_always_succeed():
    result = stats.n1_two_proportion_test(8, 8, 10, 10)
    assert (result.statistic, result.p_value, result.difference) == (0.0, 1.0, 0.0)


def test_difference_interval_is_close_to_agresti_caffo():
    # At 95%, z²/4 = 0.96 and z²/2 = 1.92: nearly Agresti & Caffo's "add 1 and 2".
    x_a, n_a, x_b, n_b = 7, 12, 11, 13
    p_a, p_b = (x_a + 1) / (n_a + 2), (x_b + 1) / (n_b + 2)
    half = 1.96 * math.sqrt(p_a * (1 - p_a) / (n_a + 2) + p_b * (1 - p_b) / (n_b + 2))
    low, high = stats.adjusted_wald_difference(x_a, n_a, x_b, n_b)
    assert low == pytest.approx(p_b - p_a - half, abs=0.005)
    assert high == pytest.approx(p_b - p_a + half, abs=0.005)


def test_large_expected_counts_use_the_n1_test():
    result = stats.compare_proportions(12, 20, 18, 20)
    assert result.test == stats.TEST_N1
    assert result.note is None


def test_expected_counts_from_1_to_5_use_the_n1_test():
    # Campbell (2007): the N-1 test wherever every expected cell count is at least 1.
    # 0/3 against 3/3 (expected counts 1.5): N-1 p = 0.025 where Fisher gave 0.10.
    result = stats.compare_proportions(0, 3, 3, 3)
    assert stats.min_expected_count(0, 3, 3, 3) == 1.5
    assert result.test == stats.TEST_N1 and result.p_value == pytest.approx(0.0253, abs=5e-5)
    for case in [(3, 5, 5, 5), (1, 8, 6, 9), (0, 4, 4, 4), (0, 2, 2, 2)]:
        assert 1 <= stats.min_expected_count(*case) < 5
        assert stats.compare_proportions(*case).test == stats.TEST_N1


@pytest.mark.parametrize(("x_a", "n_a", "x_b", "n_b"), [(0, 1, 3, 3), (1, 2, 8, 8), (0, 3, 4, 10)])
def test_expected_counts_below_1_report_fisher_irwin(x_a, n_a, x_b, n_b):
    # Campbell (2007): the Fisher-Irwin test (two-sided by Irwin's rule, as scipy's
    # fisher_exact) only where an expected cell count is below 1.
    assert stats.min_expected_count(x_a, n_a, x_b, n_b) < 1
    result = stats.compare_proportions(x_a, n_a, x_b, n_b)
    odds, p = sps.fisher_exact([[x_b, n_b - x_b], [x_a, n_a - x_a]])
    assert result.test == stats.TEST_FISHER
    assert result.p_value == pytest.approx(p)
    assert result.statistic == (pytest.approx(odds) if math.isfinite(odds) else None)
    assert "expected cell count" in result.note
    n1 = stats.n1_two_proportion_test(x_a, n_a, x_b, n_b)
    assert (result.difference, result.ci_low, result.ci_high) == (
        n1.difference,
        n1.ci_low,
        n1.ci_high,
    )


def test_an_empty_variant_is_not_compared():
    result = stats.compare_proportions(3, 5, 0, 0)
    assert result.test is None and result.p_value is None and result.difference is None
    assert result.value_a == 0.6 and result.value_b is None
    assert "no attempts" in result.note


def test_mcnemar_matches_binomial_test_on_discordant_pairs():
    # 10 participants: 4 succeed on both, 1 only on A, 4 only on B, 1 on neither.
    success_a = [True] * 4 + [True] + [False] * 4 + [False]
    success_b = [True] * 4 + [False] + [True] * 4 + [False]
    result = stats.compare_paired_proportions(success_a, success_b)
    assert result.test == stats.TEST_MCNEMAR and result.paired
    assert result.p_value == pytest.approx(sps.binomtest(4, 5, 0.5).pvalue)
    assert result.statistic == 4.0
    assert result.difference == pytest.approx(0.3)
    assert (result.value_a, result.value_b) == (0.5, 0.8)
    assert result.ci_low < 0.3 < result.ci_high


def test_mcnemar_without_discordant_pairs_finds_nothing():
    result = stats.compare_paired_proportions([True, False, True], [True, False, True])
    assert (result.p_value, result.difference) == (1.0, 0.0)


def test_mcnemar_needs_aligned_participants():
    with pytest.raises(ValueError, match="same number"):
        stats.compare_paired_proportions([True], [True, False])
    assert stats.compare_paired_proportions([], []).test is None


# ----------------------------------------------------------- t-tests

TIMES_A = [55.0, 65.0, 75.0, 62.0, 45.0, 135.0]
TIMES_B = [40.0, 45.0, 50.0, 38.0, 60.0, 55.0, 71.0]


def test_welch_on_log_times_matches_scipy():
    result = stats.compare_times(TIMES_A, TIMES_B)
    twin = sps.ttest_ind(np.log(TIMES_B), np.log(TIMES_A), equal_var=False)
    low, high = twin.confidence_interval(0.95)
    assert result.test == stats.TEST_WELCH_LOG
    assert result.statistic == pytest.approx(twin.statistic)
    assert result.p_value == pytest.approx(twin.pvalue)
    assert (result.ci_low, result.ci_high) == (
        pytest.approx(math.exp(low)),
        pytest.approx(math.exp(high)),
    )
    gm_a, gm_b = sps.gmean(TIMES_A), sps.gmean(TIMES_B)
    assert result.ratio == pytest.approx(gm_b / gm_a)
    assert (result.value_a, result.value_b) == (pytest.approx(gm_a), pytest.approx(gm_b))


def test_welch_on_means_matches_scipy():
    seq_a, seq_b = [5, 6, 4, 5, 6, 3], [6, 7, 6, 7, 5, 7, 7]
    result = stats.compare_means(seq_a, seq_b)
    twin = sps.ttest_ind(seq_b, seq_a, equal_var=False)
    low, high = twin.confidence_interval(0.95)
    assert result.test == stats.TEST_WELCH
    assert (result.statistic, result.p_value) == (
        pytest.approx(twin.statistic),
        pytest.approx(twin.pvalue),
    )
    assert (result.ci_low, result.ci_high) == (pytest.approx(low), pytest.approx(high))
    assert result.difference == pytest.approx(np.mean(seq_b) - np.mean(seq_a))


def test_paired_tests_match_scipy_ttest_rel():
    times_a, times_b = TIMES_A, [50.0, 52.0, 70.0, 50.0, 44.0, 100.0]
    result = stats.compare_times(times_a, times_b, paired=True)
    twin = sps.ttest_rel(np.log(times_b), np.log(times_a))
    low, high = twin.confidence_interval(0.95)
    assert result.test == stats.TEST_PAIRED_LOG and result.paired
    assert (result.statistic, result.p_value) == (
        pytest.approx(twin.statistic),
        pytest.approx(twin.pvalue),
    )
    assert (result.ci_low, result.ci_high) == (
        pytest.approx(math.exp(low)),
        pytest.approx(math.exp(high)),
    )
    ratings = stats.compare_means([5, 4, 6, 5], [6, 6, 7, 5], paired=True)
    twin = sps.ttest_rel([6, 6, 7, 5], [5, 4, 6, 5])
    assert ratings.test == stats.TEST_PAIRED
    assert ratings.p_value == pytest.approx(twin.pvalue)


def test_paired_values_must_align():
    with pytest.raises(ValueError, match="same number"):
        stats.compare_means([1, 2, 3], [1, 2], paired=True)


@pytest.mark.parametrize(("a", "b"), [([], [3.0, 4.0]), ([3.0], [4.0, 5.0])])
def test_too_few_values_give_no_test_and_say_why(a, b):
    result = stats.compare_means(a, b)
    times = stats.compare_times(a, b)
    for r in (result, times):
        assert r.test is None and r.p_value is None and r.ci_low is None
        assert r.note
    if a:
        assert result.difference == pytest.approx(1.5)
        assert times.ratio == pytest.approx(math.sqrt(20) / 3)


def test_identical_values_in_both_variants_leave_the_t_test_undefined():
    result = stats.compare_means([5, 5, 5], [6, 6])
    assert result.difference == 1.0 and result.constant
    assert result.test is None and result.statistic is None and result.ci_low is None
    assert "no variation" in result.note


@pytest.mark.parametrize(
    "compare",
    [
        lambda: stats.compare_times([30, 45, 60], [60, 90, 120], paired=True),
        lambda: stats.compare_means([3, 4, 5], [4, 5, 6], paired=True),
        lambda: stats.compare_means([0.1 + 0.2, 5.0], [0.6, 5.3], paired=True),
    ],
)
def test_constant_paired_differences_are_no_variation_as_in_r(compare):
    # Issue 12, item 2: the first gave t = 4.6e15, p = 5e-32 and an interval "2.00 to 2.00"
    # from rounding noise in constant log differences. R's t.test stops with "data are
    # essentially constant" when stderr < 10 * .Machine$double.eps * abs(mean); so does uxlab.
    result = compare()
    assert result.constant and result.test is None and result.p_value is None
    assert (result.ci_low, result.ci_high, result.statistic) == (None, None, None)


def test_identical_times_in_one_variant_still_test():
    result = stats.compare_times([30.0, 30.0, 30.0], [40.0, 50.0, 45.0])
    assert result.test == stats.TEST_WELCH_LOG
    assert result.ci_low < result.ratio < result.ci_high


# ------------------------------------------------------------ properties

counts = st.integers(min_value=1, max_value=200).flatmap(
    lambda n: st.tuples(st.integers(min_value=0, max_value=n), st.just(n))
)
confidences = st.sampled_from([0.8, 0.9, 0.95, 0.99])
times = st.lists(st.floats(min_value=1.0, max_value=3600.0), min_size=2, max_size=15)
ratings = st.lists(st.integers(min_value=1, max_value=7).map(float), min_size=2, max_size=15)


@given(counts, confidences)
def test_rate_interval_contains_the_estimate_inside_0_1(count, confidence):
    result = stats.adjusted_wald(*count, confidence)
    assert 0.0 <= result.low <= result.estimate <= result.high <= 1.0


@given(counts, counts, confidences)
def test_difference_interval_contains_the_difference(count_a, count_b, confidence):
    result = stats.compare_proportions(*count_a, *count_b, confidence)
    assert -1.0 <= result.ci_low <= result.difference <= result.ci_high <= 1.0
    assert 0.0 <= result.p_value <= 1.0


@given(counts, counts)
def test_swapping_variants_flips_a_rate_difference_and_keeps_p(count_a, count_b):
    ab, ba = (
        stats.compare_proportions(*count_a, *count_b),
        stats.compare_proportions(*count_b, *count_a),
    )
    assert ab.test == ba.test
    assert ba.difference == pytest.approx(-ab.difference, abs=1e-12)
    assert (ba.ci_low, ba.ci_high) == (pytest.approx(-ab.ci_high), pytest.approx(-ab.ci_low))
    assert ba.p_value == pytest.approx(ab.p_value, rel=1e-9)
    if ab.test == stats.TEST_N1:
        assert ba.statistic == pytest.approx(-ab.statistic)


@given(st.lists(st.tuples(st.booleans(), st.booleans()), min_size=1, max_size=60), confidences)
def test_paired_proportions_swap_and_contain(pairs, confidence):
    a, b = [x for x, _ in pairs], [y for _, y in pairs]
    ab, ba = (
        stats.compare_paired_proportions(a, b, confidence),
        stats.compare_paired_proportions(b, a, confidence),
    )
    assert -1.0 <= ab.ci_low <= ab.difference <= ab.ci_high <= 1.0
    assert ba.difference == pytest.approx(-ab.difference)
    assert (ba.ci_low, ba.ci_high) == (pytest.approx(-ab.ci_high), pytest.approx(-ab.ci_low))
    assert ba.p_value == pytest.approx(ab.p_value)


@given(times, times)
def test_swapping_variants_inverts_the_time_ratio_and_keeps_p(times_a, times_b):
    ab, ba = stats.compare_times(times_a, times_b), stats.compare_times(times_b, times_a)
    assert ba.ratio == pytest.approx(1 / ab.ratio)
    if ab.p_value is None:  # identical times in both variants
        assert ba.p_value is None
        return
    assert ba.p_value == pytest.approx(ab.p_value)
    assert (ba.ci_low, ba.ci_high) == (pytest.approx(1 / ab.ci_high), pytest.approx(1 / ab.ci_low))
    assert ab.ci_low <= ab.ratio * (1 + 1e-12) and ab.ratio <= ab.ci_high * (1 + 1e-12)


@given(ratings, ratings, st.booleans())
def test_swapping_variants_flips_a_mean_difference_and_keeps_p(values_a, values_b, paired):
    values_b = values_b[: len(values_a)] if paired else values_b
    values_a = values_a[: len(values_b)] if paired else values_a
    ab = stats.compare_means(values_a, values_b, paired=paired)
    ba = stats.compare_means(values_b, values_a, paired=paired)
    assert ba.difference == pytest.approx(-ab.difference, abs=1e-12)
    assert ba.p_value == (None if ab.p_value is None else pytest.approx(ab.p_value))
    if ab.ci_low is not None:
        assert (ba.ci_low, ba.ci_high) == (pytest.approx(-ab.ci_high), pytest.approx(-ab.ci_low))


@given(times, confidences)
@example([3600.0, 3599.9999999999995], 0.8)  # two floats, one logarithm (found by Hypothesis)
def test_time_interval_contains_the_geometric_mean(values, confidence):
    result = stats.time_summary(values, confidence)
    if result.low is None:  # all log times equal: no interval
        assert result.reason and len(set(np.log(values))) == 1
        return
    tol = 1e-9 * result.geometric_mean
    assert result.low - tol <= result.geometric_mean <= result.high + tol


# ------------------------------------------- false positives and power

REPETITIONS = 2000
# Under H0 the rejection count is binomial(2000, 0.05): sd = 0.0049, so a
# correct test lands in 0.05 ± 3 sd = [0.035, 0.065] in 99.7% of seeds.
FALSE_POSITIVE_BAND = (0.035, 0.065)


def _simulate(seed, success=(0.7, 0.7), time_log_mean=(4.0, 4.0)):
    """Rejection rates at alpha 0.05 over synthetic two-variant studies."""
    rng = np.random.default_rng(seed)
    rejected = {"n1": 0, "reported": 0, "welch_log": 0}
    for _ in range(REPETITIONS):
        n_a, n_b = (int(n) for n in rng.integers(10, 21, size=2))
        x_a, x_b = int(rng.binomial(n_a, success[0])), int(rng.binomial(n_b, success[1]))
        rejected["n1"] += stats.n1_two_proportion_test(x_a, n_a, x_b, n_b).p_value < 0.05
        rejected["reported"] += stats.compare_proportions(x_a, n_a, x_b, n_b).p_value < 0.05
        times_a = rng.lognormal(time_log_mean[0], 0.5, n_a).tolist()
        times_b = rng.lognormal(time_log_mean[1], 0.5, n_b).tolist()
        rejected["welch_log"] += stats.compare_times(times_a, times_b).p_value < 0.05
    return {name: count / REPETITIONS for name, count in rejected.items()}


@pytest.mark.parametrize(("seed", "success"), [(20260, 0.5), (20261, 0.7)])
def test_false_positive_rate_is_near_five_percent(seed, success):
    rates = _simulate(seed, success=(success, success))
    low, high = FALSE_POSITIVE_BAND
    assert low <= rates["n1"] <= high
    assert low <= rates["welch_log"] <= high
    # The reported tests (N-1, or Fisher-Irwin below an expected count of 1) keep
    # the nominal 5% (Campbell 2007).
    assert rates["reported"] <= high


def test_a_real_difference_is_found():
    # 30% vs 90% success and times 0.5x (log sd 0.5), 10-20 per variant: the
    # normal approximation puts the power near 95% for both tests; 2000
    # repetitions estimate it within about 1 point.
    rates = _simulate(20263, success=(0.3, 0.9), time_log_mean=(4.0, 4.0 + math.log(0.5)))
    assert rates["n1"] > 0.9
    assert rates["reported"] > 0.9
    assert rates["welch_log"] > 0.9


def test_fisher_exact_equals_scipy_on_every_small_table() -> None:
    from scipy import stats as scipy_stats

    from analyzer.stats.exact import fisher_exact

    for n_a in range(0, 9):
        for n_b in range(1, 9):
            for x_a in range(n_a + 1):
                for x_b in range(n_b + 1):
                    table = [[x_b, n_b - x_b], [x_a, n_a - x_a]]
                    odds, p = fisher_exact(x_b, n_b - x_b, x_a, n_a - x_a)
                    want_odds, want_p = scipy_stats.fisher_exact(table)
                    assert p == pytest.approx(min(1.0, want_p), rel=1e-9, abs=1e-12), table
                    if math.isfinite(want_odds):
                        assert odds == pytest.approx(want_odds), table
                    else:
                        assert not math.isfinite(odds) or math.isnan(want_odds), table


def test_binomial_half_equals_scipy_binomtest() -> None:
    from scipy import stats as scipy_stats

    from analyzer.stats.exact import binomial_test_half

    for n in range(0, 41):
        for k in range(n + 1):
            want = scipy_stats.binomtest(k, n, 0.5).pvalue if n else 1.0
            assert binomial_test_half(k, n) == pytest.approx(want, rel=1e-9, abs=1e-12), (k, n)
