"""Small-sample statistics for usability tests: intervals and variant comparisons.

Pure functions over plain Python numbers; numpy and scipy do the arithmetic.
Quantiles and tail areas come from ``scipy.special`` (``ndtri``, ``stdtrit``,
``ndtr``, ``stdtr``: the functions behind ``scipy.stats.norm`` and
``scipy.stats.t``, giving the same values), because ``scipy.stats`` takes
about half a second to import; the exact tests (Fisher's, the binomial) come
from ``scipy.special`` too (:mod:`analyzer.stats.exact`). Nothing here knows of SQLite
or HTTP. Results are frozen dataclasses of Python floats, ints, strings and
None: where a figure cannot be computed (no data, a single value, no
variation) it is None and ``reason`` or ``note`` says why, never NaN.
Questionnaire scores (SUS, UMUX-Lite, NPS) live in
:mod:`analyzer.stats.questionnaires`.

Direction: every comparison is variant B against variant A. A difference is
B - A, a ratio is B / A, and swapping the variants flips the sign of a
difference (inverts a ratio) while keeping the p-value.

Sources
-------
- Sauro, J. & Lewis, J. R. (2016). *Quantifying the User Experience*, 2nd ed.
  Morgan Kaufmann: adjusted-Wald interval and geometric mean of task times
  (ch. 3); N-1 two-proportion test, adjusted-Wald interval of a difference,
  McNemar exact test and the matched-pairs interval (ch. 5).
- Agresti, A. & Coull, B. A. (1998); Agresti, A. & Caffo, B. (2000);
  Agresti, A. & Min, S. (2005): the adjusted-Wald intervals.
- Campbell, I. (2007). Chi-squared and Fisher-Irwin tests of two-by-two
  tables with small sample recommendations. *Statistics in Medicine* 26:
  the N-1 test wherever every expected cell count is at least 1, the
  Fisher-Irwin test (two-sided by Irwin's rule) only where one is below 1.
- R's ``t.test`` (stats package): a t-test whose standard error is below
  ``10 * .Machine$double.eps`` times the mean's size stops with "data are
  essentially constant"; uxlab treats such data as constant too.
- Sauro & Lewis (2016, ch. 8) for the scales intervals are clipped to: SEQ
  1-7, SUS and UMUX-Lite 0-100, NPS -100 to 100; times are above 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from scipy import special

from analyzer.stats.exact import binomial_test_half, fisher_exact

CONFIDENCE = 0.95
#: Expected cell count below which a 2x2 comparison reports the Fisher-Irwin test (Campbell 2007).
MIN_EXPECTED = 1.0
#: Fewer attempts (ratings, pairs) than this in a sample earn a caution that its interval is wide.
SMALL_CELL = 5
#: A standard error below this times the mean's size is no variation (R's ``t.test``).
CONSTANT_TOLERANCE = 10.0 * float(np.finfo(float).eps)
#: The range of each rating scale (Sauro & Lewis 2016): intervals are clipped to it.
SCALES: dict[str, tuple[float, float]] = {
    "seq": (1.0, 7.0),
    "sus": (0.0, 100.0),
    "umux_lite": (0.0, 100.0),
    "nps": (-100.0, 100.0),
}

TEST_N1 = "N-1 two-proportion"
TEST_FISHER = "Fisher exact"  # the Fisher-Irwin test, two-sided by Irwin's rule
TEST_MCNEMAR = "McNemar exact"
TEST_WELCH_LOG = "Welch t on log times"
TEST_PAIRED_LOG = "paired t on log times"
TEST_WELCH = "Welch t"
TEST_PAIRED = "paired t"


# ---------------------------------------------------------------- intervals


@dataclass(frozen=True)
class Proportion:
    """A proportion x/n with its adjusted-Wald interval."""

    successes: int
    n: int
    estimate: float | None
    adjusted: float | None
    low: float | None
    high: float | None
    reason: str | None = None


@dataclass(frozen=True)
class MeanSummary:
    """An arithmetic mean with its t interval, the standard deviation and the median."""

    n: int
    mean: float | None
    low: float | None
    high: float | None
    sd: float | None
    median: float | None
    reason: str | None = None
    clipped: str | None = None  # "low", "high" or "both": the bound(s) set to the scale's end


@dataclass(frozen=True)
class TimeSummary:
    """Task times: geometric mean with its t interval on log times, median, mean."""

    n: int
    geometric_mean: float | None
    low: float | None
    high: float | None
    median: float | None
    mean: float | None
    reason: str | None = None


def _critical(confidence: float, df: float | None = None) -> float:
    """Two-sided critical value of the normal (df None) or t distribution."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence!r}")
    q = 0.5 + confidence / 2.0
    return float(special.ndtri(q) if df is None else special.stdtrit(df, q))


def _check_counts(successes: int, n: int) -> None:
    if n < 0 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n, got successes={successes}, n={n}")


def _array(values: Sequence[float], what: str = "values") -> np.ndarray:
    data = np.asarray(values, dtype=float).reshape(-1)
    if not np.all(np.isfinite(data)):
        raise ValueError(f"{what} must be finite numbers, got {list(values)!r}")
    return data


def _sd(data: np.ndarray) -> float:
    """Sample standard deviation; exactly 0.0 for identical values."""
    if np.all(data == data[0]):
        return 0.0
    return float(np.std(data, ddof=1))


def essentially_constant(se: float, *means: float) -> bool:
    """Whether a standard error is no variation at all: R's ``t.test`` rule.

    R stops with "data are essentially constant" when the standard error is
    below ``10 * .Machine$double.eps`` times the largest absolute mean
    (``stats:::t.test.default``); rounding noise (log 90 - log 45 against
    log 60 - log 30) then never becomes a t of 4.6e15.
    """
    return se == 0.0 or se < CONSTANT_TOLERANCE * max(abs(m) for m in means)


def clip(
    low: float, high: float, scale: tuple[float, float] | None
) -> tuple[float, float, str | None]:
    """An interval clipped to a scale, and which bound was clipped ("low", "high", "both")."""
    if scale is None:
        return low, high, None
    bottom, top = scale
    cut_low, cut_high = low < bottom, high > top
    which = {(True, True): "both", (True, False): "low", (False, True): "high"}.get(
        (cut_low, cut_high)
    )
    return max(low, bottom), min(high, top), which


def adjusted_wald(successes: int, n: int, confidence: float = CONFIDENCE) -> Proportion:
    """Adjusted-Wald (Agresti-Coull) interval of a proportion.

    Adds z²/2 successes and z² trials, then takes the Wald interval around the
    adjusted proportion, clipped to [0, 1] (Sauro & Lewis 2016, ch. 3). The
    point estimate stays the plain x/n; the interval contains it.

    Parameters
    ----------
    successes : int
        Number of successes, 0 <= successes <= n.
    n : int
        Number of trials (attempts).
    confidence : float
        Confidence level, 0.95 by default.

    Returns
    -------
    Proportion
        ``estimate`` = x/n, ``adjusted`` = the interval's centre, ``low`` and
        ``high``; all None (with a ``reason``) when n is 0.
    """
    _check_counts(successes, n)
    if n == 0:
        return Proportion(0, 0, None, None, None, None, "no attempts")
    z = _critical(confidence)
    n_adj = n + z * z
    p_adj = (successes + z * z / 2.0) / n_adj
    half = z * math.sqrt(p_adj * (1.0 - p_adj) / n_adj)
    low, high = max(0.0, p_adj - half), min(1.0, p_adj + half)
    return Proportion(successes, n, successes / n, p_adj, low, high)


def mean_interval(
    values: Sequence[float],
    confidence: float = CONFIDENCE,
    scale: tuple[float, float] | None = None,
) -> MeanSummary:
    """Arithmetic mean with a t interval (SEQ, SUS and other ratings).

    Parameters
    ----------
    values : sequence of float
        Finite numbers.
    confidence : float
        Confidence level, 0.95 by default.
    scale : (float, float), optional
        The rating scale's ends (:data:`SCALES`): a t interval reaching past
        them is clipped to them, and ``clipped`` says which bound was.

    Returns
    -------
    MeanSummary
        With no values everything is None; with one value the mean and median
        but no interval; when all values are equal (R's "essentially
        constant") the mean, sd 0 and no interval, ``reason`` saying why: an
        interval of no width would read as certainty.
    """
    data = _array(values)
    n = int(data.size)
    if n == 0:
        return MeanSummary(0, None, None, None, None, None, "no values")
    mean, median = float(np.mean(data)), float(np.median(data))
    if n == 1:
        return MeanSummary(1, mean, None, None, None, median, "one value: no interval")
    sd = _sd(data)
    if essentially_constant(sd / math.sqrt(n), mean):
        reason = f"all {n} values are equal ({data[0]:g}): no interval"
        return MeanSummary(n, float(data[0]), None, None, 0.0, median, reason)
    half = _critical(confidence, n - 1) * sd / math.sqrt(n)
    low, high, clipped = clip(mean - half, mean + half, scale)
    return MeanSummary(n, mean, low, high, sd, median, clipped=clipped)


def time_summary(times_s: Sequence[float], confidence: float = CONFIDENCE) -> TimeSummary:
    """Geometric mean of task times with a t interval on log times, plus median and mean.

    Task times are right-skewed; for small samples Sauro & Lewis (2016, ch. 3)
    recommend the geometric mean (exp of the mean log time) as the typical
    time and the t interval computed on log times, transformed back.

    Parameters
    ----------
    times_s : sequence of float
        Times in seconds, each > 0 (callers drop missing or zero times).
    confidence : float
        Confidence level, 0.95 by default.

    Returns
    -------
    TimeSummary
        All None with no times; no interval (``reason`` says why) with one
        time or when all times are equal. The interval, exp of one on log
        times, lies above 0 s by construction.
    """
    data = _array(times_s, "times")
    if np.any(data <= 0):
        raise ValueError(f"times must be > 0 seconds, got {list(times_s)!r}")
    n = int(data.size)
    if n == 0:
        return TimeSummary(0, None, None, None, None, None, "no times")
    median, mean = float(np.median(data)), float(np.mean(data))
    log_summary = mean_interval(np.log(data).tolist(), confidence)
    assert log_summary.mean is not None
    gm = math.exp(log_summary.mean)
    if log_summary.low is None or log_summary.high is None:
        reason = log_summary.reason
        if log_summary.sd == 0.0:
            reason = f"all {n} times are equal ({data[0]:g} s): no interval"
        return TimeSummary(n, gm, None, None, median, mean, reason)
    return TimeSummary(n, gm, math.exp(log_summary.low), math.exp(log_summary.high), median, mean)


# -------------------------------------------------------------- comparisons


@dataclass(frozen=True, kw_only=True)
class _Tested:
    """What every comparison of B against A carries besides its effect.

    ``test`` names the test behind ``statistic`` and ``p_value`` and is None
    when no test could run; ``note`` says why a test was chosen or not run.
    """

    test: str | None = None
    statistic: float | None = None
    p_value: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    value_a: float | None = None
    value_b: float | None = None
    n_a: int = 0
    n_b: int = 0
    paired: bool = False
    note: str | None = None
    constant: bool = False  # no variation at all (R: "essentially constant"): no test, no interval
    clipped: str | None = None  # "low", "high" or "both": the interval bound(s) set to the scale's


@dataclass(frozen=True, kw_only=True)
class Comparison(_Tested):
    """B against A as a difference B - A, with its interval and test."""

    difference: float | None = None

    @property
    def effect(self) -> float | None:
        """The difference (the table's ``difference`` column)."""
        return self.difference


@dataclass(frozen=True, kw_only=True)
class TimeComparison(_Tested):
    """B against A as a ratio of geometric-mean times B / A, with its interval and test.

    ``clipped`` is never set for times: a ratio's interval lies above 0 already.
    """

    ratio: float | None = None

    @property
    def effect(self) -> float | None:
        """The ratio (the table's ``difference`` column for times)."""
        return self.ratio


def adjusted_wald_difference(
    x_a: int, n_a: int, x_b: int, n_b: int, confidence: float = CONFIDENCE
) -> tuple[float, float]:
    """Adjusted-Wald interval of the difference of two independent proportions, B - A.

    Adds z²/4 successes and z²/2 trials to each sample, then takes the Wald
    interval of the difference (Agresti & Caffo 2000, as generalised by Sauro
    & Lewis 2016, ch. 5), clipped to [-1, 1].

    Parameters
    ----------
    x_a, n_a, x_b, n_b : int
        Successes and trials of A and of B; n_a and n_b > 0.
    confidence : float
        Confidence level, 0.95 by default.

    Returns
    -------
    tuple of float
        (low, high).
    """
    z2 = _critical(confidence) ** 2
    n_adj_a, n_adj_b = n_a + z2 / 2.0, n_b + z2 / 2.0
    p_a, p_b = (x_a + z2 / 4.0) / n_adj_a, (x_b + z2 / 4.0) / n_adj_b
    half = math.sqrt(z2 * (p_a * (1.0 - p_a) / n_adj_a + p_b * (1.0 - p_b) / n_adj_b))
    return max(-1.0, p_b - p_a - half), min(1.0, p_b - p_a + half)


def n1_two_proportion_test(
    x_a: int, n_a: int, x_b: int, n_b: int, confidence: float = CONFIDENCE
) -> Comparison:
    """N-1 two-proportion test (Campbell 2007; Sauro & Lewis 2016, ch. 5).

    z = (p_b - p_a) / sqrt(P Q (1/n_a + 1/n_b)) x sqrt((N - 1) / N), with P
    the pooled proportion, Q = 1 - P and N = n_a + n_b; two-sided p from the
    normal distribution. Where both samples are all successes (or all
    failures) the observed difference is exactly zero: z = 0, p = 1.

    Parameters
    ----------
    x_a, n_a, x_b, n_b : int
        Successes and trials of A and of B.
    confidence : float
        Confidence level of the adjusted-Wald difference interval.

    Returns
    -------
    Comparison
        ``difference`` = p_b - p_a (plain proportions) with its adjusted-Wald
        interval, ``statistic`` = z; no test when a sample is empty.
    """
    _check_counts(x_a, n_a)
    _check_counts(x_b, n_b)
    p_a, p_b = (x_a / n_a if n_a else None), (x_b / n_b if n_b else None)
    if p_a is None or p_b is None:
        note = "a variant has no attempts: nothing to compare"
        return Comparison(value_a=p_a, value_b=p_b, n_a=n_a, n_b=n_b, note=note)
    big_n, pooled = n_a + n_b, (x_a + x_b) / (n_a + n_b)
    z, p = 0.0, 1.0
    if 0.0 < pooled < 1.0:
        se = math.sqrt(pooled * (1.0 - pooled) * (1.0 / n_a + 1.0 / n_b))
        z = (p_b - p_a) / se * math.sqrt((big_n - 1) / big_n)
        p = float(2.0 * special.ndtr(-abs(z)))
    low, high = adjusted_wald_difference(x_a, n_a, x_b, n_b, confidence)
    return Comparison(
        test=TEST_N1,
        statistic=z,
        p_value=p,
        difference=p_b - p_a,
        ci_low=low,
        ci_high=high,
        value_a=p_a,
        value_b=p_b,
        n_a=n_a,
        n_b=n_b,
    )


def min_expected_count(x_a: int, n_a: int, x_b: int, n_b: int) -> float:
    """Smallest expected cell count of the 2x2 table variant x (success, failure)."""
    big_n, successes = n_a + n_b, x_a + x_b
    return min(n_a, n_b) * min(successes, big_n - successes) / big_n if big_n else 0.0


def compare_proportions(
    x_a: int, n_a: int, x_b: int, n_b: int, confidence: float = CONFIDENCE
) -> Comparison:
    """Compare two independent proportions (success or error rates), B - A.

    Campbell's (2007) recommendation: the N-1 two-proportion test wherever
    every expected cell count is at least 1 (:data:`MIN_EXPECTED`); the
    Fisher-Irwin test (two-sided by Irwin's rule, :func:`fisher_exact`) only
    where one is below 1. Campbell found the N-1 test's type I error close
    to nominal down to expected counts of 1, where Fisher's test is
    conservative (0/3 against 3/3: N-1 p = 0.025, Fisher p = 0.10).
    ``test`` names the test that produced ``statistic`` and ``p_value``; for
    Fisher the statistic is the sample odds ratio of B against A, None where
    a zero cell makes it infinite or undefined. The difference interval is
    the adjusted-Wald one either way.

    Parameters
    ----------
    x_a, n_a, x_b, n_b : int
        Successes and trials of A and of B.
    confidence : float
        Confidence level, 0.95 by default.

    Returns
    -------
    Comparison
        ``note`` says why Fisher's test was chosen.
    """
    n1 = n1_two_proportion_test(x_a, n_a, x_b, n_b, confidence)
    expected = min_expected_count(x_a, n_a, x_b, n_b)
    if n1.test is None or expected >= MIN_EXPECTED:
        return n1
    odds, p = fisher_exact(x_b, n_b - x_b, x_a, n_a - x_a)
    return replace(
        n1,
        test=TEST_FISHER,
        statistic=odds if math.isfinite(odds) else None,
        p_value=min(1.0, float(p)),
        note=(
            f"Fisher-Irwin test used: the smallest expected cell count, {expected:.2g}, "
            "is below 1 (Campbell 2007)."
        ),
    )


def compare_paired_proportions(
    success_a: Sequence[bool], success_b: Sequence[bool], confidence: float = CONFIDENCE
) -> Comparison:
    """McNemar's exact test for paired successes (within-subjects), B - A.

    The p-value is the two-sided binomial test (:func:`binomial_test_half`,
    p = 1/2) on the discordant pairs; ``statistic`` is the number of pairs in
    which only B succeeded. The interval of the difference of paired
    proportions is the adjusted-Wald one of Sauro & Lewis (2016, ch. 5; after
    Agresti & Min 2005): add z²/8 to each of the four cells, then Wald.

    Parameters
    ----------
    success_a, success_b : sequence of bool
        Outcomes of the same participants, aligned by position.
    confidence : float
        Confidence level, 0.95 by default.

    Returns
    -------
    Comparison
        ``paired`` is True; ``n_a`` = ``n_b`` = the number of pairs.
    """
    if len(success_a) != len(success_b):
        raise ValueError("paired outcomes need the same number of participants in A and B")
    n = len(success_a)
    if n == 0:
        note = "no participant has attempts in both variants: nothing to compare"
        return Comparison(paired=True, note=note)
    pairs = list(zip(success_a, success_b, strict=True))
    both = sum(bool(a and b) for a, b in pairs)
    only_a = sum(bool(a and not b) for a, b in pairs)
    only_b = sum(bool(b and not a) for a, b in pairs)
    discordant = only_a + only_b
    p = 1.0
    if discordant:
        p = binomial_test_half(only_b, discordant)
    z = _critical(confidence)
    n_adj = n + z * z / 2.0
    p12, p21 = (only_a + z * z / 8.0) / n_adj, (only_b + z * z / 8.0) / n_adj
    half = z * math.sqrt(max(0.0, p12 + p21 - (p21 - p12) ** 2) / n_adj)
    return Comparison(
        test=TEST_MCNEMAR,
        statistic=float(only_b),
        p_value=min(1.0, p),
        difference=(only_b - only_a) / n,
        ci_low=max(-1.0, p21 - p12 - half),
        ci_high=min(1.0, p21 - p12 + half),
        value_a=(both + only_a) / n,
        value_b=(both + only_b) / n,
        n_a=n,
        n_b=n,
        paired=True,
    )


@dataclass(frozen=True)
class _TResult:
    difference: float
    statistic: float | None = None
    p_value: float | None = None
    low: float | None = None
    high: float | None = None
    note: str | None = None
    constant: bool = False


def _t_result(
    difference: float, se: float, df: float, confidence: float, *means: float
) -> _TResult:
    if essentially_constant(se, *means):
        note = "no variation: the data are essentially constant, so there is no t-test or interval"
        return _TResult(difference, note=note, constant=True)
    t = difference / se
    p = min(1.0, float(2.0 * special.stdtr(df, -abs(t))))
    half = _critical(confidence, df) * se
    return _TResult(difference, t, p, difference - half, difference + half)


def _t_test(a: np.ndarray, b: np.ndarray, confidence: float, paired: bool) -> _TResult:
    """Welch's t (Welch-Satterthwaite df) or the paired t, on B - A."""
    if paired:
        d = b - a
        mean_d = float(np.mean(d))
        return _t_result(mean_d, _sd(d) / math.sqrt(d.size), d.size - 1, confidence, mean_d)
    var_a, var_b = _sd(a) ** 2 / a.size, _sd(b) ** 2 / b.size
    se = math.sqrt(var_a + var_b)
    df = (var_a + var_b) ** 2 / (var_a**2 / (a.size - 1) + var_b**2 / (b.size - 1)) if se else 1.0
    mean_a, mean_b = float(np.mean(a)), float(np.mean(b))
    return _t_result(mean_b - mean_a, se, df, confidence, mean_a, mean_b)


def _samples(
    values_a: Sequence[float], values_b: Sequence[float], paired: bool, what: str
) -> tuple[np.ndarray, np.ndarray, str | None]:
    """Validate two samples; return them and why no test can run (or None)."""
    a, b = _array(values_a, what), _array(values_b, what)
    if paired and a.size != b.size:
        raise ValueError(f"paired {what} need the same number of participants in A and B")
    reason = None
    if a.size == 0 or b.size == 0:
        reason = "a variant has no values: nothing to compare"
    elif min(a.size, b.size) < 2:
        reason = "fewer than two values in a variant: no interval or test"
    return a, b, reason


def compare_means(
    values_a: Sequence[float],
    values_b: Sequence[float],
    confidence: float = CONFIDENCE,
    paired: bool = False,
    scale: tuple[float, float] | None = None,
) -> Comparison:
    """Compare two means (SEQ, SUS) by Welch's t-test, or the paired t-test, B - A.

    Parameters
    ----------
    values_a, values_b : sequence of float
        Ratings of A and of B; aligned by participant when ``paired``.
    confidence : float
        Confidence level, 0.95 by default.
    paired : bool
        Within-subjects: the same participants, in the same order.
    scale : (float, float), optional
        The rating scale's ends: the interval of the difference is clipped to
        plus or minus the scale's width, ``clipped`` naming the bound.

    Returns
    -------
    Comparison
        ``difference`` = mean B - mean A with its t interval (Welch-Satterthwaite
        df, or n - 1 when paired). No test (``test`` None, ``note`` says why)
        with fewer than two values in a variant, or no variation at all
        (``constant``: R's "data are essentially constant", e.g. every
        participant exactly one point higher in B).
    """
    a, b, reason = _samples(values_a, values_b, paired, "values")
    mean_a = float(np.mean(a)) if a.size else None
    mean_b = float(np.mean(b)) if b.size else None
    diff = None if mean_a is None or mean_b is None else mean_b - mean_a
    result = _TResult(0.0, note=reason) if reason else _t_test(a, b, confidence, paired)
    low, high, clipped = result.low, result.high, None
    if low is not None and high is not None and scale is not None:
        width = scale[1] - scale[0]
        low, high, clipped = clip(low, high, (-width, width))
    return Comparison(
        test=(TEST_PAIRED if paired else TEST_WELCH) if result.p_value is not None else None,
        statistic=result.statistic,
        p_value=result.p_value,
        difference=diff,
        ci_low=low,
        ci_high=high,
        value_a=mean_a,
        value_b=mean_b,
        n_a=int(a.size),
        n_b=int(b.size),
        paired=paired,
        note=result.note,
        constant=result.constant,
        clipped=clipped,
    )


def compare_times(
    times_a: Sequence[float],
    times_b: Sequence[float],
    confidence: float = CONFIDENCE,
    paired: bool = False,
) -> TimeComparison:
    """Compare task times by a t-test on log times, as the ratio of geometric means B / A.

    Welch's t-test on log times (Sauro & Lewis 2016, ch. 5), or the paired
    t-test on log times within subjects. The ratio of geometric means is
    exp(mean log B - mean log A); its interval is exp of the interval of the
    log difference (Welch-Satterthwaite df, or n - 1 when paired).

    Parameters
    ----------
    times_a, times_b : sequence of float
        Times in seconds (> 0), usually of successful attempts; aligned by
        participant when ``paired``.
    confidence : float
        Confidence level, 0.95 by default.
    paired : bool
        Within-subjects: the same participants, in the same order.

    Returns
    -------
    TimeComparison
        ``ratio`` < 1 means B is faster; ``value_a``/``value_b`` are the
        geometric means. Where the log times leave no variation (every
        participant exactly twice as long, R's "essentially constant")
        ``constant`` is set and there is no test or interval.
    """
    a, b, reason = _samples(times_a, times_b, paired, "times")
    if np.any(a <= 0) or np.any(b <= 0):
        raise ValueError("times must be > 0 seconds")
    log_a, log_b = np.log(a), np.log(b)
    gm_a = math.exp(float(np.mean(log_a))) if a.size else None
    gm_b = math.exp(float(np.mean(log_b))) if b.size else None
    ratio = None if gm_a is None or gm_b is None else gm_b / gm_a
    result = _TResult(0.0, note=reason) if reason else _t_test(log_a, log_b, confidence, paired)
    return TimeComparison(
        test=(TEST_PAIRED_LOG if paired else TEST_WELCH_LOG)
        if result.p_value is not None
        else None,
        statistic=result.statistic,
        p_value=result.p_value,
        ratio=ratio,
        ci_low=None if result.low is None else math.exp(result.low),
        ci_high=None if result.high is None else math.exp(result.high),
        value_a=gm_a,
        value_b=gm_b,
        n_a=int(a.size),
        n_b=int(b.size),
        paired=paired,
        note=result.note,
        constant=result.constant,
    )
