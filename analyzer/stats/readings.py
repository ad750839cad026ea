"""Plain-language ``reading`` and ``caution`` of one comparison, for the ``comparisons`` table.

A reading says which variant is higher (or faster) and by how much, the
interval of the difference (or ratio) and whether it excludes "no
difference", and the test's p-value; where the interval and the test
disagree it says so rather than picking one. Data without variation (R's
"essentially constant") are said in words instead of a test: "every matched
participant took exactly twice as long in B as in A". A caution marks a
sample too small for its interval to mean much. Numbers are written by
:mod:`analyzer.numbers`.
"""

from __future__ import annotations

from analyzer.numbers import MAX_DECIMALS, decimals_for, fixed, num, num_apart, p_text, plural, sig
from analyzer.stats.compare import CONFIDENCE, SMALL_CELL, Comparison, TimeComparison

AnyComparison = Comparison | TimeComparison
#: Significant figures of a ratio's bounds (more where a bound would read as 1).
RATIO_FIGURES = 2

METRIC_WORDS = {
    "success_rate": "success rate",
    "error_rate": "error rate",
    "time": "typical time on successful attempts (geometric mean)",
    "seq": "mean SEQ rating",
    "sus": "mean SUS score",
    "umux_lite": "mean UMUX-Lite score",
}


#: What one value of a metric is, for readings of data without variation.
VALUE_WORDS = {"seq": "rating", "sus": "SUS score", "umux_lite": "UMUX-Lite score"}


def _bounds(low: float, high: float, decimals: int, null: float, excludes: bool) -> str:
    """The interval as "low to high", with more decimals where a bound would read as ``null``.

    An interval that excludes "no difference" (``null``: 0, or 1 for a ratio)
    must not read as reaching it: 0.04 to 1.3 prints as "0.04 to 1.30", not
    "0.0 to 1.3". Both bounds get the same decimals.
    """
    while excludes and decimals < MAX_DECIMALS and _reads_as(null, decimals, low, high):
        decimals += 1
    return f"{fixed(low, decimals)} to {fixed(high, decimals)}"


def _ratio_bounds(low: float, high: float, excludes: bool) -> str:
    """A ratio's interval in significant figures ("0.0021 to 1900"), none reading as 1 if it excludes 1."""
    figures = RATIO_FIGURES
    while (
        excludes
        and figures < MAX_DECIMALS
        and 1.0 in (float(sig(low, figures)), float(sig(high, figures)))
    ):
        figures += 1
    return f"{sig(low, figures)} to {sig(high, figures)}"


def _reads_as(null: float, decimals: int, *values: float) -> bool:
    """Whether any of ``values``, printed with ``decimals``, reads as ``null``."""
    return any(float(fixed(value, decimals)) == null for value in values)


def _conclusion(excludes: bool, p_value: float | None, confidence: float) -> str:
    if p_value is None:
        return "."
    if excludes == (p_value < 1.0 - confidence):
        return "." if excludes else ": this sample cannot tell the variants apart."
    return ": the interval and the test disagree, so treat the difference as uncertain."


def _difference_effect(c: AnyComparison, label: str, va: str, vb: str, rate: bool) -> str:
    assert c.value_a is not None and c.value_b is not None and c.effect is not None
    scale, sign = (100.0, "%") if rate else (1.0, "")
    value_a, value_b = (f"{num_apart(scale * v, 100.0) if rate else num(v)}{sign}"
                        for v in (c.value_a, c.value_b))  # fmt: skip
    if c.effect == 0.0:
        return f"{vb}'s {label} equals {va}'s ({value_a})"
    direction = "higher" if c.effect > 0 else "lower"
    size = num(abs(scale * c.effect))
    return f"{vb}'s {label} is {direction} by {size} points ({va} {value_a}, {vb} {value_b})"


def _ratio_effect(c: AnyComparison, label: str, va: str, vb: str) -> str:
    assert c.value_a is not None and c.value_b is not None and c.effect is not None
    times = f"{va} {num(c.value_a)} s, {vb} {num(c.value_b)} s"
    if c.effect == 1.0:
        return f"{vb}'s {label} equals {va}'s ({times})"
    change, direction = (1 - c.effect, "shorter") if c.effect < 1 else (c.effect - 1, "longer")
    return (
        f"{vb}'s {label} is {num_apart(100 * change, 100.0)}% {direction} than {va}'s "
        f"({times}; ratio {sig(c.effect, RATIO_FIGURES)})"
    )


def _times_as_long(ratio: float) -> str:
    """A constant ratio in words: "twice as long", "half as long", "1.5 times as long"."""
    shown = sig(ratio)
    words = {"2.00": "twice as long", "0.500": "half as long", "1.00": "exactly as long"}
    return words.get(shown, f"{sig(ratio).rstrip('0').rstrip('.')} times as long")


def _exact(x: float) -> str:
    """A value shared by every participant: whole numbers without decimals (5, not 5.0)."""
    return str(round(x)) if abs(x - round(x)) < 1e-9 else num(x)


def _constant(c: AnyComparison, metric: str, va: str, vb: str) -> str:
    """Data without variation (R: "essentially constant") said in words, in place of a test."""
    assert c.value_a is not None and c.value_b is not None and c.effect is not None
    if isinstance(c, TimeComparison):
        if c.paired:
            how = _times_as_long(c.effect)
            exactly = "" if how == "exactly as long" else "exactly "
            return (
                f"every participant took {exactly}{how} in {vb} as in {va} "
                f"({va} {num(c.value_a)} s, {vb} {num(c.value_b)} s)"
            )
        return (
            f"every time in {va} was {num(c.value_a)} s and every time in {vb} {num(c.value_b)} s"
        )
    value = VALUE_WORDS.get(metric, "value")
    if c.paired:
        if c.effect == 0.0:
            return f"every participant gave the same {value} in {va} and {vb}"
        direction = "higher" if c.effect > 0 else "lower"
        points = "point" if _exact(abs(c.effect)) == "1" else "points"
        return (
            f"every participant's {value} was exactly {_exact(abs(c.effect))} {points} "
            f"{direction} in {vb} than in {va}"
        )
    return f"every {value} in {va} was {_exact(c.value_a)} and every {value} in {vb} {_exact(c.value_b)}"


def _interval(c: AnyComparison, ratio: bool, rate: bool, confidence: float) -> tuple[str, bool]:
    """The interval's sentence, and whether it excludes "no difference"."""
    assert c.ci_low is not None and c.ci_high is not None
    level = f"{num(100 * confidence)}%"
    if ratio:
        excludes = c.ci_low > 1.0 or c.ci_high < 1.0
        bounds = _ratio_bounds(c.ci_low, c.ci_high, excludes)
        verb = "excludes" if excludes else "includes"
        return f"the {level} interval of the ratio, {bounds}, {verb} 1", excludes
    excludes = c.ci_low > 0.0 or c.ci_high < 0.0
    scale = 100.0 if rate else 1.0
    low, high = scale * c.ci_low, scale * c.ci_high
    decimals = decimals_for(max(abs(low), abs(high)))
    bounds = f"{_bounds(low, high, decimals, 0.0, excludes)} points"
    if c.clipped:
        bounds += f" ({CLIPPED_WORDS[c.clipped]})"
    verb = "excludes" if excludes else "includes"
    return f"the {level} interval of the difference, {bounds}, {verb} zero", excludes


#: How a reading marks an interval clipped to the rating scale's range.
CLIPPED_WORDS = {
    "low": "lower bound clipped to the scale",
    "high": "upper bound clipped to the scale",
    "both": "both bounds clipped to the scale",
}


def reading(
    comparison: AnyComparison,
    metric: str,
    variant_a: str = "A",
    variant_b: str = "B",
    confidence: float = CONFIDENCE,
) -> str:
    """A careful plain-language reading of one comparison.

    Rates (metrics ending in ``_rate``) read in percentage points, times as
    a ratio of geometric means, other metrics as a difference of means. The
    reading says whether the interval excludes "no difference" (0, or 1 for a
    ratio) and gives the test's p-value; where the two disagree it says so
    rather than picking one; where nothing could be computed it says why.

    Parameters
    ----------
    comparison : Comparison or TimeComparison
        The result of a ``compare_*`` function.
    metric : str
        ``success_rate``, ``error_rate``, ``time``, ``seq``, ``sus``, ... .
    variant_a, variant_b : str
        The variants' ids as the reader knows them.
    confidence : float
        The confidence level the comparison was computed with.

    Returns
    -------
    str
        One or two sentences, e.g. "B's success rate is higher by 22 points
        (A 60%, B 82%); the 95% interval of the difference, 3 to 41 points,
        excludes zero (N-1 two-proportion, p = 0.03)."
    """
    c, label = comparison, METRIC_WORDS.get(metric, metric)
    prefix = f"Within subjects, {plural(c.n_a, 'matched participant')}: " if c.paired else ""
    if c.value_a is None or c.value_b is None:
        missing = " and ".join(
            v for v, x in ((variant_a, c.value_a), (variant_b, c.value_b)) if x is None
        )
        return f"{prefix}No comparison of the {label}: no data for {missing}."
    ratio = isinstance(c, TimeComparison)
    rate = metric.endswith("_rate") and not ratio
    if c.constant:
        words = _constant(c, metric, variant_a, variant_b)
        text = f"{prefix}{words[0].upper()}{words[1:]}" if not prefix else f"{prefix}{words}"
        return (
            f"{text}: no variation, so no test or interval (R's t.test: data essentially constant)."
        )
    if ratio:
        effect = _ratio_effect(c, label, variant_a, variant_b)
    else:
        effect = _difference_effect(c, label, variant_a, variant_b, rate)
    if c.ci_low is None or c.ci_high is None:
        return f"{prefix}{effect}; {c.note or 'no interval'}."
    interval, excludes = _interval(c, ratio, rate, confidence)
    test = f" ({c.test}, {p_text(c.p_value)})" if c.p_value is not None else ""
    return f"{prefix}{effect}; {interval}{test}{_conclusion(excludes, c.p_value, confidence)}"


def caution(
    n_a: int,
    n_b: int,
    variant_a: str = "A",
    variant_b: str = "B",
    unit: str = "attempts",
    paired: bool = False,
) -> str | None:
    """A caution where a variant has fewer than five attempts (or ratings, or pairs).

    Parameters
    ----------
    n_a, n_b : int
        Sample sizes of A and of B (both the number of pairs when ``paired``).
    variant_a, variant_b : str
        The variants' ids.
    unit : str
        What was counted, plural: "attempts", "SEQ ratings", ... .
    paired : bool
        Within-subjects: one count of matched participants.

    Returns
    -------
    str or None
        None when every sample has at least five.
    """
    counts = [("", n_a)] if paired else [(f" in {variant_a}", n_a), (f" in {variant_b}", n_b)]
    # Not the choice of test (that follows Campbell 2007, in analyzer.stats.compare): a sample size.
    small = [f"{where} ({n})" for where, n in counts if n < SMALL_CELL]
    if not small:
        return None
    return (
        f"Fewer than five {'matched participants' if paired else unit}{' and'.join(small)}: "
        "the interval is wide and a real difference can go unseen."
    )
