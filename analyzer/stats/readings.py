"""Plain-language ``reading`` and ``caution`` of one comparison, for the ``comparisons`` table.

A reading says which variant is higher (or faster) and by how much, the
interval of the difference (or ratio) and whether it excludes "no
difference", and the test's p-value; where the interval and the test
disagree it says so rather than picking one. A caution marks a sample too
small for its interval to mean much.
"""

from __future__ import annotations

from analyzer.stats.compare import CONFIDENCE, SMALL_CELL, Comparison, TimeComparison

AnyComparison = Comparison | TimeComparison
#: Most decimals a bound gets when more are needed to keep it off "no difference".
MAX_DECIMALS = 12

METRIC_WORDS = {
    "success_rate": "success rate",
    "error_rate": "error rate",
    "time": "typical time on successful attempts (geometric mean)",
    "seq": "mean SEQ rating",
    "sus": "mean SUS score",
    "umux_lite": "mean UMUX-Lite score",
}


def _decimals(size: float) -> int:
    """The decimals a reader needs for a number of this size (41, 4.1, 0.41)."""
    return 0 if size >= 10 else 1 if size >= 1 else 2


def _fixed(x: float, decimals: int) -> str:
    text = f"{x:.{decimals}f}"
    return text.lstrip("-") if float(text) == 0.0 else text


def _num(x: float, ref: float | None = None) -> str:
    """A number with the decimals a reader needs (41, 4.1, 0.41), judged on ``ref`` if given."""
    return _fixed(x, _decimals(abs(x if ref is None else ref)))


def _bounds(low: float, high: float, decimals: int, null: float, excludes: bool) -> str:
    """The interval as "low to high", with more decimals where a bound would read as ``null``.

    An interval that excludes "no difference" (``null``: 0, or 1 for a ratio)
    must not read as reaching it: 0.04 to 1.3 prints as "0.04 to 1.30", not
    "0.0 to 1.3". Both bounds get the same decimals.
    """
    while excludes and decimals < MAX_DECIMALS and _reads_as(null, decimals, low, high):
        decimals += 1
    return f"{_fixed(low, decimals)} to {_fixed(high, decimals)}"


def _reads_as(null: float, decimals: int, *values: float) -> bool:
    """Whether any of ``values``, printed with ``decimals``, reads as ``null``."""
    return any(float(_fixed(value, decimals)) == null for value in values)


def _p_text(p: float) -> str:
    if p < 0.001:
        return "p < 0.001"
    return f"p = {p:.3f}" if p < 0.01 else f"p = {p:.2f}"


def _conclusion(excludes: bool, p_value: float | None, confidence: float) -> str:
    if p_value is None:
        return "."
    if excludes == (p_value < 1.0 - confidence):
        return "." if excludes else ": this sample cannot tell the variants apart."
    return ": the interval and the test disagree, so treat the difference as uncertain."


def _difference_effect(c: AnyComparison, label: str, va: str, vb: str, rate: bool) -> str:
    assert c.value_a is not None and c.value_b is not None and c.effect is not None
    scale, sign = (100.0, "%") if rate else (1.0, "")
    value_a, value_b = f"{_num(scale * c.value_a)}{sign}", f"{_num(scale * c.value_b)}{sign}"
    if c.effect == 0.0:
        return f"{vb}'s {label} equals {va}'s ({value_a})"
    direction = "higher" if c.effect > 0 else "lower"
    size = _num(abs(scale * c.effect))
    return f"{vb}'s {label} is {direction} by {size} points ({va} {value_a}, {vb} {value_b})"


def _ratio_effect(c: AnyComparison, label: str, va: str, vb: str) -> str:
    assert c.value_a is not None and c.value_b is not None and c.effect is not None
    times = f"{va} {_num(c.value_a)} s, {vb} {_num(c.value_b)} s"
    if c.effect == 1.0:
        return f"{vb}'s {label} equals {va}'s ({times})"
    change, direction = (1 - c.effect, "shorter") if c.effect < 1 else (c.effect - 1, "longer")
    return (
        f"{vb}'s {label} is {_num(100 * change)}% {direction} than {va}'s "
        f"({times}; ratio {c.effect:.2f})"
    )


def _interval(c: AnyComparison, ratio: bool, rate: bool, confidence: float) -> tuple[str, bool]:
    """The interval's sentence, and whether it excludes "no difference"."""
    assert c.ci_low is not None and c.ci_high is not None
    level = f"{_num(100 * confidence)}%"
    if ratio:
        excludes = c.ci_low > 1.0 or c.ci_high < 1.0
        bounds = _bounds(c.ci_low, c.ci_high, 2, 1.0, excludes)
        verb = "excludes" if excludes else "includes"
        return f"the {level} interval of the ratio, {bounds}, {verb} 1", excludes
    excludes = c.ci_low > 0.0 or c.ci_high < 0.0
    scale = 100.0 if rate else 1.0
    low, high = scale * c.ci_low, scale * c.ci_high
    decimals = _decimals(max(abs(low), abs(high)))
    bounds = f"{_bounds(low, high, decimals, 0.0, excludes)} points"
    verb = "excludes" if excludes else "includes"
    return f"the {level} interval of the difference, {bounds}, {verb} zero", excludes


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
    prefix = f"Within subjects, {c.n_a} matched participants: " if c.paired else ""
    if c.value_a is None or c.value_b is None:
        missing = " and ".join(
            v for v, x in ((variant_a, c.value_a), (variant_b, c.value_b)) if x is None
        )
        return f"{prefix}No comparison of the {label}: no data for {missing}."
    ratio = isinstance(c, TimeComparison)
    rate = metric.endswith("_rate") and not ratio
    if ratio:
        effect = _ratio_effect(c, label, variant_a, variant_b)
    else:
        effect = _difference_effect(c, label, variant_a, variant_b, rate)
    if c.ci_low is None or c.ci_high is None:
        return f"{prefix}{effect}; {c.note or 'no interval'}."
    interval, excludes = _interval(c, ratio, rate, confidence)
    test = f" ({c.test}, {_p_text(c.p_value)})" if c.p_value is not None else ""
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
    small = [f"{where} ({n})" for where, n in counts if n < SMALL_CELL]
    if not small:
        return None
    return (
        f"Fewer than five {'matched participants' if paired else unit}{' and'.join(small)}: "
        "the interval is wide and a real difference can go unseen."
    )
