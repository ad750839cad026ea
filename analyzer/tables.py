"""The ``tasks``, ``participants`` and ``comparisons`` tables of DESIGN.md, from attempt rows.

Input is the analyzer's ``attempts`` table (one dict per attempt, DESIGN's
column names) and one dict per session (``session``, ``participant``,
``variant``, ``sus``, ``umux_lite``, ``nps``). Output rows are dicts with
DESIGN's columns in DESIGN's order, then a few extra columns at the end
(``*_EXTRA_COLUMNS``). Every value is a plain int, float, str, bool or None:
never NaN, never a numpy scalar. A figure that cannot be computed is None and
the row's ``caution`` or ``reading`` says why.

Choices (see also the functions' docstrings):

- ``uncoded`` attempts (never ended by the moderator) are left out of every
  rate, time and mean, and counted in the extra ``uncoded`` column.
- ``skipped`` attempts count as attempts that did not succeed.
- Times are of attempts with a recorded time above 0 s; ``time_gm_s`` and
  its interval and median are of successful attempts, ``time_gm_all_s`` of
  all coded attempts.
- ``clicks_mean`` is clicks to completion (successful attempts, as DESIGN
  defines it); ``lostness_mean`` is over coded attempts with a lostness.
- ``directness_rate`` = direct successes / successes: of those who succeeded,
  the share who never backtracked, so it does not repeat the success rate.

``reading`` and ``caution`` (at the end) turn a comparison of
``analyzer.stats`` into the plain-language ``reading`` and ``caution`` columns.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from itertools import chain, combinations
from typing import Any, TypeVar

from analyzer import stats
from analyzer.stats import CONFIDENCE, SMALL_CELL, Comparison, TimeComparison

Attempt = Mapping[str, Any]
Session = Mapping[str, Any]
Row = dict[str, Any]
K = TypeVar("K", str, int)
T = TypeVar("T")
AnyComparison = Comparison | TimeComparison

OUTCOMES = ("success", "failure", "abandoned", "skipped", "uncoded")
#: The ``task`` of study-level comparison rows (SUS, UMUX-Lite).
STUDY_TASK = "(study)"
#: Task-level comparison metrics; ``time`` is a ratio B / A in ``difference``.
TASK_METRICS = ("success_rate", "error_rate", "time", "seq")
#: Study-level comparison metrics, present when any session has the answers.
STUDY_METRICS = ("sus", "umux_lite")


def _columns(names: str) -> tuple[str, ...]:
    return tuple(names.split())


TASK_COLUMNS = _columns(
    "task variant attempts successes success_rate success_ci_low success_ci_high "
    "abandonment_rate time_gm_s time_ci_low time_ci_high time_median_s time_gm_all_s "
    "error_rate error_rate_ci_low error_rate_ci_high errors_per_attempt misclick_rate "
    "clicks_mean lostness_mean directness_rate seq_mean"
)
TASK_EXTRA_COLUMNS = _columns(
    "uncoded time_n directness_ci_low directness_ci_high seq_ci_low seq_ci_high caution"
)
PARTICIPANT_COLUMNS = _columns(
    "participant variant session tasks successes time_total_s errors sus"
)
PARTICIPANT_EXTRA_COLUMNS = ("uncoded", "sus_grade", "umux_lite", "nps")
COMPARISON_COLUMNS = _columns(
    "task metric variant_a variant_b value_a value_b difference ci_low ci_high test "
    "statistic p_value"
)
COMPARISON_EXTRA_COLUMNS = ("n_a", "n_b", "paired", "reading", "caution")
SUS_SUMMARY_COLUMNS = _columns(
    "variant sessions sus_n sus_mean sus_ci_low sus_ci_high sus_median sus_grade "
    "sus_percentile umux_lite_n umux_lite_mean umux_lite_sus_equivalent nps_n nps"
)

# ------------------------------------------------------------------ helpers


def _ordered(declared: Iterable[K], seen: Iterable[K]) -> list[K]:
    """Declared ids in order, then ids seen in the data but not declared (never dropped)."""
    return list(dict.fromkeys(chain(declared, seen)))


def _coded(attempts: Iterable[Attempt]) -> list[Attempt]:
    """The attempts the moderator (or the criteria) ended; checks every outcome."""
    coded = []
    for attempt in attempts:
        if attempt["outcome"] not in OUTCOMES:
            raise ValueError(f"unknown outcome {attempt['outcome']!r}; expected one of {OUTCOMES}")
        if attempt["outcome"] != "uncoded":
            coded.append(attempt)
    return coded


def _group(attempts: Iterable[Attempt], *keys: str) -> dict[tuple[Any, ...], list[Attempt]]:
    groups: dict[tuple[Any, ...], list[Attempt]] = defaultdict(list)
    for attempt in attempts:
        groups[tuple(attempt[k] for k in keys)].append(attempt)
    return groups


def _ratio(numerator: float, denominator: float) -> float | None:
    return float(numerator) / denominator if denominator else None


def _mean(values: Sequence[float]) -> float | None:
    return _ratio(sum(values), len(values))


def _present(attempts: Iterable[Attempt], column: str) -> list[float]:
    return [float(a[column]) for a in attempts if a[column] is not None]


def _times(attempts: Iterable[Attempt]) -> list[float]:
    """Recorded times above 0 s (a log time needs a positive time)."""
    return [t for t in _present(attempts, "time_s") if t > 0]


def _successes(attempts: Iterable[Attempt]) -> list[Attempt]:
    return [a for a in attempts if _succeeded(a)]


def _succeeded(attempt: Attempt) -> bool:
    return attempt["outcome"] == "success"


def _with_error(attempt: Attempt) -> bool:
    return bool(attempt["errors"])


def _join(*parts: str | None) -> str | None:
    return " ".join(p for p in parts if p) or None


# -------------------------------------------------------------- tasks table


def task_table(
    attempts: Sequence[Attempt],
    tasks: Sequence[str],
    variants: Sequence[str],
    confidence: float = CONFIDENCE,
) -> list[Row]:
    """The ``tasks`` table: one row per task x variant.

    Parameters
    ----------
    attempts : sequence of mapping
        Rows of the ``attempts`` table.
    tasks, variants : sequence of str
        The study's task and variant ids, in order. Every combination gets a
        row, with ``attempts`` = 0 and None figures where nobody tried it;
        ids found only in ``attempts`` follow the declared ones.
    confidence : float
        Confidence level of the intervals, 0.95 by default.

    Returns
    -------
    list of dict
        ``TASK_COLUMNS`` then ``TASK_EXTRA_COLUMNS``: ``uncoded`` (attempts
        left out), ``time_n`` (successful attempts with a time), the
        directness and SEQ intervals, and a ``caution``.
    """
    groups = _group(attempts, "task", "variant")
    task_ids = _ordered(tasks, (a["task"] for a in attempts))
    variant_ids = _ordered(variants, (a["variant"] for a in attempts))
    return [
        _task_row(task, variant, groups.get((task, variant), []), confidence)
        for task in task_ids
        for variant in variant_ids
    ]


def _task_row(task: str, variant: str, attempts: list[Attempt], confidence: float) -> Row:
    coded = _coded(attempts)
    successes = _successes(coded)
    n, uncoded = len(coded), len(attempts) - len(coded)
    success = stats.adjusted_wald(len(successes), n, confidence)
    error = stats.adjusted_wald(sum(map(_with_error, coded)), n, confidence)
    direct = stats.adjusted_wald(
        sum(bool(a["direct"]) for a in successes), len(successes), confidence
    )
    times = stats.time_summary(_times(successes), confidence)
    seq = stats.mean_interval(_present(coded, "seq"), confidence)
    return {
        "task": task,
        "variant": variant,
        "attempts": n,
        "successes": len(successes),
        "success_rate": success.estimate,
        "success_ci_low": success.low,
        "success_ci_high": success.high,
        "abandonment_rate": _ratio(sum(a["outcome"] == "abandoned" for a in coded), n),
        "time_gm_s": times.geometric_mean,
        "time_ci_low": times.low,
        "time_ci_high": times.high,
        "time_median_s": times.median,
        "time_gm_all_s": stats.time_summary(_times(coded), confidence).geometric_mean,
        "error_rate": error.estimate,
        "error_rate_ci_low": error.low,
        "error_rate_ci_high": error.high,
        "errors_per_attempt": _ratio(sum(a["errors"] for a in coded), n),
        "misclick_rate": _ratio(
            sum(a["misclicks"] for a in coded), sum(a["clicks"] for a in coded)
        ),
        "clicks_mean": _mean([a["clicks"] for a in successes]),
        "lostness_mean": _mean(_present(coded, "lostness")),
        "directness_rate": direct.estimate,
        "seq_mean": seq.mean,
        "uncoded": uncoded,
        "time_n": times.n,
        "directness_ci_low": direct.low,
        "directness_ci_high": direct.high,
        "seq_ci_low": seq.low,
        "seq_ci_high": seq.high,
        "caution": _task_caution(n, uncoded),
    }


def _task_caution(n: int, uncoded: int) -> str | None:
    left_out = f"{uncoded} uncoded attempt(s) left out (never ended by the moderator)."
    if n == 0:
        return _join("No coded attempts: nothing to report.", left_out if uncoded else None)
    few = f"Only {n} attempt(s): the intervals are wide." if n < SMALL_CELL else None
    return _join(few, left_out if uncoded else None)


# ------------------------------------------------------- participants table


def participant_table(attempts: Sequence[Attempt], sessions: Sequence[Session]) -> list[Row]:
    """The ``participants`` table: one row per session.

    Parameters
    ----------
    attempts : sequence of mapping
        Rows of the ``attempts`` table.
    sessions : sequence of mapping
        One per session: ``session``, ``participant``, ``variant``, and the
        questionnaire answers ``sus``, ``umux_lite``, ``nps`` (each may be
        None). Sessions appear in this order, then sessions found only in
        ``attempts``.

    Returns
    -------
    list of dict
        ``PARTICIPANT_COLUMNS`` then ``uncoded``, ``sus_grade``,
        ``umux_lite`` (score 0-100) and ``nps`` (the 0-10 answer). ``tasks``
        counts distinct tasks with a coded attempt; ``time_total_s`` sums
        their recorded times (None when none was recorded).
    """
    by_session = _group(attempts, "session")
    known = {s["session"]: s for s in sessions}
    order = _ordered(known, (a["session"] for a in attempts))
    return [_participant_row(known.get(sid), sid, by_session.get((sid,), [])) for sid in order]


def _participant_row(session: Session | None, sid: int, attempts: list[Attempt]) -> Row:
    meta: Session = session or {
        "participant": attempts[0]["participant"],
        "variant": attempts[0]["variant"],
    }
    coded = _coded(attempts)
    times = _present(coded, "time_s")
    sus = _score(meta, "sus")
    return {
        "participant": meta["participant"],
        "variant": meta["variant"],
        "session": sid,
        "tasks": len({a["task"] for a in coded}),
        "successes": len(_successes(coded)),
        "time_total_s": sum(times) if times else None,
        "errors": sum(int(a["errors"]) for a in coded),
        "sus": sus,
        "uncoded": len(attempts) - len(coded),
        "sus_grade": None if sus is None else stats.sus_grade(sus),
        "umux_lite": _score(meta, "umux_lite"),
        "nps": None if meta.get("nps") is None else int(meta["nps"]),
    }


def _score(session: Session, questionnaire: str) -> float | None:
    """A session's SUS or UMUX-Lite score; None where it was not asked."""
    answers = session.get(questionnaire)
    if answers is None:
        return None
    score = stats.sus_score if questionnaire == "sus" else stats.umux_lite_score
    return score(answers)


# ------------------------------------------------------------- SUS summary


def sus_summary(
    sessions: Sequence[Session], variants: Sequence[str], confidence: float = CONFIDENCE
) -> list[Row]:
    """Questionnaire summary per variant: SUS mean, interval, grade and percentile; UMUX-Lite; NPS.

    Parameters
    ----------
    sessions : sequence of mapping
        As for ``participant_table``.
    variants : sequence of str
        The study's variant ids, in order (undeclared ones follow).
    confidence : float
        Confidence level of the t intervals, 0.95 by default.

    Returns
    -------
    list of dict
        ``SUS_SUMMARY_COLUMNS``. The grade (Sauro-Lewis curved scale) and the
        percentile (normal norm, mean 68, sd 12.5) are of the mean score.
    """
    variant_ids = _ordered(variants, (s["variant"] for s in sessions))
    return [
        _summary_row(v, [s for s in sessions if s["variant"] == v], confidence) for v in variant_ids
    ]


def _summary_row(variant: str, sessions: list[Session], confidence: float) -> Row:
    sus = stats.mean_interval(_scores(sessions, "sus"), confidence)
    umux = _scores(sessions, "umux_lite")
    umux_mean = _mean(umux)
    nps_answers = [int(s["nps"]) for s in sessions if s.get("nps") is not None]
    return {
        "variant": variant,
        "sessions": len(sessions),
        "sus_n": sus.n,
        "sus_mean": sus.mean,
        "sus_ci_low": sus.low,
        "sus_ci_high": sus.high,
        "sus_median": sus.median,
        "sus_grade": None if sus.mean is None else stats.sus_grade(sus.mean),
        "sus_percentile": None if sus.mean is None else stats.sus_percentile(sus.mean),
        "umux_lite_n": len(umux),
        "umux_lite_mean": umux_mean,
        "umux_lite_sus_equivalent": (
            None if umux_mean is None else stats.umux_lite_sus_equivalent(umux_mean)
        ),
        "nps_n": len(nps_answers),
        "nps": stats.nps(nps_answers),
    }


def _scores(sessions: Iterable[Session], questionnaire: str) -> list[float]:
    scores = (_score(s, questionnaire) for s in sessions)
    return [s for s in scores if s is not None]


# -------------------------------------------------------- comparisons table

_UNITS = {
    "success_rate": "attempts",
    "error_rate": "attempts",
    "time": "successful attempts with a time",
    "seq": "SEQ ratings",
    "sus": "SUS answers",
    "umux_lite": "UMUX-Lite answers",
}


def comparison_table(
    attempts: Sequence[Attempt],
    sessions: Sequence[Session],
    tasks: Sequence[str],
    variants: Sequence[str],
    confidence: float = CONFIDENCE,
) -> list[Row]:
    """The ``comparisons`` table: one row per task x metric x pair of variants.

    Task metrics are ``success_rate`` and ``error_rate`` (difference of
    proportions B - A), ``time`` (successful attempts; ``difference`` holds
    the ratio of geometric means B / A, so 1 means no difference) and ``seq``
    (difference of means). Then, for SUS and UMUX-Lite where any session has
    answers, one study-level row per pair with ``task`` = ``STUDY_TASK``,
    "(study)". ``variant_a`` is the earlier of the pair in variant order.

    Within-subjects: when any participant appears in both variants of a pair,
    that pair is compared with paired tests (McNemar exact, paired t on log
    times, paired t) on the participants with data in both; the caution says
    how many others were left out. A participant's first coded attempt at a
    task (first answered session) in a variant is the one paired.

    Parameters
    ----------
    attempts : sequence of mapping
        Rows of the ``attempts`` table.
    sessions : sequence of mapping
        As for ``participant_table``.
    tasks, variants : sequence of str
        The study's task and variant ids, in order.
    confidence : float
        Confidence level, 0.95 by default.

    Returns
    -------
    list of dict
        ``COMPARISON_COLUMNS`` then ``n_a``, ``n_b`` (sample sizes, or matched
        pairs), ``paired``, ``reading`` (plain language) and ``caution``.
    """
    groups = _group(attempts, "task", "variant")
    seen = [*(a["variant"] for a in attempts), *(s["variant"] for s in sessions)]
    pairs = list(combinations(_ordered(variants, seen), 2))
    people: dict[str, set[str]] = defaultdict(set)
    for row in [*attempts, *sessions]:
        people[row["variant"]].add(row["participant"])
    within = {(a, b): bool(people[a] & people[b]) for a, b in pairs}
    rows = [
        _task_comparison(task, metric, pair, groups, within[pair], confidence)
        for task in _ordered(tasks, (a["task"] for a in attempts))
        for metric in TASK_METRICS
        for pair in pairs
    ]
    for metric in STUDY_METRICS:
        if any(s.get(metric) is not None for s in sessions):
            rows += [_study_comparison(metric, p, sessions, within[p], confidence) for p in pairs]
    return rows


def _match(first_a: dict[str, T], first_b: dict[str, T]) -> tuple[list[T], list[T], str | None]:
    """Align two variants' data by participant; say how many were left unmatched."""
    matched = [p for p in first_a if p in first_b]
    unmatched = len(first_a) + len(first_b) - 2 * len(matched)
    note = (
        f"{unmatched} participant(s) with data in only one variant left out." if unmatched else None
    )
    return [first_a[p] for p in matched], [first_b[p] for p in matched], note


def _first(items: Iterable[tuple[str, T]]) -> dict[str, T]:
    """Each participant's first item."""
    first: dict[str, T] = {}
    for participant, item in items:
        first.setdefault(participant, item)
    return first


def _task_comparison(
    task: str,
    metric: str,
    pair: tuple[str, str],
    groups: Mapping[tuple[Any, ...], list[Attempt]],
    within: bool,
    confidence: float,
) -> Row:
    rows_a, rows_b = groups.get((task, pair[0]), []), groups.get((task, pair[1]), [])
    coded_a, coded_b = _coded(rows_a), _coded(rows_b)
    uncoded = len(rows_a) + len(rows_b) - len(coded_a) - len(coded_b)
    left_out = f"{uncoded} uncoded attempt(s) left out." if uncoded else None
    if not within:
        comparison = _independent(metric, coded_a, coded_b, confidence)
        return _comparison_row(task, metric, pair, comparison, confidence, left_out)
    first_a, first_b = (_first((x["participant"], x) for x in c) for c in (coded_a, coded_b))
    a, b, alone = _match(first_a, first_b)
    comparison = _paired(metric, a, b, confidence)
    return _comparison_row(task, metric, pair, comparison, confidence, alone, left_out)


def _independent(
    metric: str, a: list[Attempt], b: list[Attempt], confidence: float
) -> AnyComparison:
    if metric in ("success_rate", "error_rate"):
        hit = _succeeded if metric == "success_rate" else _with_error
        x_a, x_b = sum(map(hit, a)), sum(map(hit, b))
        return stats.compare_proportions(x_a, len(a), x_b, len(b), confidence)
    if metric == "time":
        return stats.compare_times(_times(_successes(a)), _times(_successes(b)), confidence)
    return stats.compare_means(_present(a, metric), _present(b, metric), confidence)


def _success_time(attempt: Attempt) -> float | None:
    times = _times([attempt]) if _succeeded(attempt) else []
    return times[0] if times else None


def _paired(metric: str, a: list[Attempt], b: list[Attempt], confidence: float) -> AnyComparison:
    """Paired tests on attempts aligned by participant."""
    if metric in ("success_rate", "error_rate"):
        hit = _succeeded if metric == "success_rate" else _with_error
        return stats.compare_paired_proportions(list(map(hit, a)), list(map(hit, b)), confidence)
    value = _success_time if metric == "time" else (lambda attempt: attempt[metric])
    pairs = [(value(x), value(y)) for x, y in zip(a, b, strict=True)]
    kept = [(float(x), float(y)) for x, y in pairs if x is not None and y is not None]
    values_a, values_b = [x for x, _ in kept], [y for _, y in kept]
    if metric == "time":
        return stats.compare_times(values_a, values_b, confidence, paired=True)
    return stats.compare_means(values_a, values_b, confidence, paired=True)


def _study_comparison(
    metric: str, pair: tuple[str, str], sessions: Sequence[Session], within: bool, confidence: float
) -> Row:
    answered = [
        [
            (s["participant"], x)
            for s in sessions
            if s["variant"] == variant and (x := _score(s, metric)) is not None
        ]
        for variant in pair
    ]
    if not within:
        a, b = ([x for _, x in scores] for scores in answered)
        comparison = stats.compare_means(a, b, confidence)
        return _comparison_row(STUDY_TASK, metric, pair, comparison, confidence)
    a, b, alone = _match(_first(answered[0]), _first(answered[1]))
    comparison = stats.compare_means(a, b, confidence, paired=True)
    return _comparison_row(STUDY_TASK, metric, pair, comparison, confidence, alone)


def _comparison_row(
    task: str,
    metric: str,
    pair: tuple[str, str],
    comparison: AnyComparison,
    confidence: float,
    *notes: str | None,
) -> Row:
    c, (a, b) = comparison, pair
    small = caution(c.n_a, c.n_b, a, b, _UNITS.get(metric, "values"), c.paired)
    return {
        "task": task,
        "metric": metric,
        "variant_a": a,
        "variant_b": b,
        "value_a": c.value_a,
        "value_b": c.value_b,
        "difference": c.effect,
        "ci_low": c.ci_low,
        "ci_high": c.ci_high,
        "test": c.test,
        "statistic": c.statistic,
        "p_value": c.p_value,
        "n_a": c.n_a,
        "n_b": c.n_b,
        "paired": c.paired,
        "reading": reading(c, metric, a, b, confidence),
        "caution": _join(small, c.note if c.test else None, *notes),
    }


# ----------------------------------------------------------------- readings

METRIC_WORDS = {
    "success_rate": "success rate",
    "error_rate": "error rate",
    "time": "typical time on successful attempts (geometric mean)",
    "seq": "mean SEQ rating",
    "sus": "mean SUS score",
    "umux_lite": "mean UMUX-Lite score",
}


def _num(x: float, ref: float | None = None) -> str:
    """A number with the decimals a reader needs (41, 4.1, 0.41), judged on ``ref`` if given."""
    size = abs(x if ref is None else ref)
    text = f"{x:.{0 if size >= 10 else 1 if size >= 1 else 2}f}"
    return text.lstrip("-") if float(text) == 0.0 else text


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
        bounds = f"{c.ci_low:.2f} to {c.ci_high:.2f}"
        verb = "excludes" if excludes else "includes"
        return f"the {level} interval of the ratio, {bounds}, {verb} 1", excludes
    excludes = c.ci_low > 0.0 or c.ci_high < 0.0
    scale = 100.0 if rate else 1.0
    low, high = scale * c.ci_low, scale * c.ci_high
    ref = max(abs(low), abs(high))
    bounds = f"{_num(low, ref)} to {_num(high, ref)} points"
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
