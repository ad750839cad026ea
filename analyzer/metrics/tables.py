"""The ``tasks``, ``participants`` and ``comparisons`` tables, from attempt rows.

Input is the analyzer's ``attempts`` table (one dict per attempt, its
documented column names) and one dict per session (``session``,
``participant``, ``variant``, ``sus``, ``umux_lite``, ``nps``). Output rows
are dicts with the documented columns in order, then a few appended ones
(:mod:`analyzer.metrics.columns` lists both). Every value is a plain int, float, str, bool or None:
never NaN, never a numpy scalar. A figure that cannot be computed is None and
the row's ``caution`` or ``reading`` says why.

Choices (see also the functions' docstrings):

- ``uncoded`` attempts (never ended by the moderator) are left out of every
  rate, time and mean, and counted in the extra ``uncoded`` column.
- ``skipped`` attempts count as attempts that did not succeed.
- Times are of attempts with a recorded time above 0 s; ``time_gm_s`` and
  its interval and median are of successful attempts, ``time_gm_all_s`` and
  the appended ``time_all_ci_low``, ``time_all_ci_high``,
  ``time_median_all_s`` of all coded attempts.
- Where all values are equal an interval is None (no width is not
  certainty) and the ``caution`` says so; a rating's t interval is clipped to
  its scale (``stats.SCALES``) and ``seq_ci_clipped`` (``ci_clipped``,
  ``sus_ci_clipped``) names the clipped bound: "low", "high" or "both".
- Comparisons pair participants only in a study declared ``design =
  "within"``; in a between-subjects study a participant id seen in two
  variants earns a caution and the comparison stays independent.
- ``clicks_mean`` is clicks to completion (successful attempts, as the README
  defines it); ``lostness_mean`` is over coded attempts with a lostness.
- ``directness_rate`` = direct successes / successes: of those who succeeded,
  the share who never backtracked, so it does not repeat the success rate.

The attempt rows are read once into columns and grouped
(:mod:`analyzer.metrics.attempts`); a table may be given those columns
instead of the rows (the analyzer reads them from its arrays); the plain-language ``reading`` and
``caution`` columns come from :mod:`analyzer.stats.readings`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from itertools import chain, combinations
from typing import Any, TypeVar

import numpy as np

from analyzer.kernels.structures import ABANDONED, SUCCESS
from analyzer.metrics.attempts import OUTCOMES as OUTCOMES  # the outcomes the tables know
from analyzer.metrics.attempts import (
    AttemptColumns,
    Numbers,
    TaskCell,
    distinct,
    sums_by_code,
)
from analyzer.numbers import plural
from analyzer.stats import compare as stats
from analyzer.stats import questionnaires
from analyzer.stats.compare import CONFIDENCE, SMALL_CELL
from analyzer.stats.readings import AnyComparison, caution, reading

Attempt = Mapping[str, Any]
AttemptInput = Sequence[Attempt] | AttemptColumns  # the rows, or the columns read from them
Session = Mapping[str, Any]
Row = dict[str, Any]
K = TypeVar("K")
T = TypeVar("T")

#: The ``task`` of study-level comparison rows (SUS, UMUX-Lite).
STUDY_TASK = "(study)"
#: Task-level comparison metrics; ``time`` is a ratio B / A in ``difference``.
TASK_METRICS = ("success_rate", "error_rate", "time", "seq")
#: Study-level comparison metrics, present when any session has the answers.
STUDY_METRICS = ("sus", "umux_lite")


#: The study designs (the study file's ``design``): only "within" pairs participants.
BETWEEN, WITHIN = "between", "within"

# ------------------------------------------------------------------ helpers


def _ordered(declared: Iterable[K], seen: Iterable[K]) -> list[K]:
    """Declared ids in order, then ids seen in the data but not declared (never dropped)."""
    return list(dict.fromkeys(chain(declared, seen)))


def _ratio(numerator: float, denominator: float) -> float | None:
    return float(numerator) / denominator if denominator else None


def _mean(values: Sequence[float]) -> float | None:
    return _ratio(sum(values), len(values))


def _total(flags: np.ndarray) -> int:
    """How many entries are set (or the sum of a count column), as a Python int."""
    return int(flags.sum())


def _read(attempts: AttemptInput) -> AttemptColumns:
    return attempts if isinstance(attempts, AttemptColumns) else AttemptColumns(attempts)


def _join(*parts: str | None) -> str | None:
    return " ".join(p for p in parts if p) or None


# -------------------------------------------------------------- tasks table


def task_table(
    attempts: AttemptInput,
    tasks: Sequence[str],
    variants: Sequence[str],
    confidence: float = CONFIDENCE,
) -> list[Row]:
    """The ``tasks`` table: one row per task x variant.

    Parameters
    ----------
    attempts : sequence of mapping, or AttemptColumns
        Rows of the ``attempts`` table (or their columns).
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
    columns = _read(attempts)
    cells, nobody = columns.cells(), TaskCell.empty(columns)
    return [
        _task_row(task, variant, cells.get((task, variant), nobody), confidence)
        for task in _ordered(tasks, columns.codes("task")[1])
        for variant in _ordered(variants, columns.codes("variant")[1])
    ]


def _task_row(task: str, variant: str, cell: TaskCell, confidence: float) -> Row:
    n, success = cell.n, cell.success
    successes = _total(success)
    clicks, time = cell.count("clicks"), cell.number("time_s")
    direct = cell.columns.direct[cell.positions]
    success_rate = stats.adjusted_wald(successes, n, confidence)
    error = stats.adjusted_wald(_total(cell.with_error), n, confidence)
    directness = stats.adjusted_wald(_total(direct & success), successes, confidence)
    times = stats.time_summary(cell.success_time.listed(), confidence)
    seq = stats.mean_interval(cell.number("seq").listed(), confidence, stats.SCALES["seq"])
    all_times = stats.time_summary(time.value[time.positive()].tolist(), confidence)
    return {
        "task": task,
        "variant": variant,
        "attempts": n,
        "successes": successes,
        "success_rate": success_rate.estimate,
        "success_ci_low": success_rate.low,
        "success_ci_high": success_rate.high,
        "abandonment_rate": _ratio(_total(cell.outcome == ABANDONED), n),
        "time_gm_s": times.geometric_mean,
        "time_ci_low": times.low,
        "time_ci_high": times.high,
        "time_median_s": times.median,
        "time_gm_all_s": all_times.geometric_mean,
        "error_rate": error.estimate,
        "error_rate_ci_low": error.low,
        "error_rate_ci_high": error.high,
        "errors_per_attempt": _ratio(_total(cell.count("errors")), n),
        "misclick_rate": _ratio(_total(cell.count("misclicks")), _total(clicks)),
        "clicks_mean": _ratio(_total(clicks[success]), successes),
        "lostness_mean": _mean(cell.number("lostness").listed()),
        "directness_rate": directness.estimate,
        "seq_mean": seq.mean,
        "uncoded": cell.uncoded,
        "time_n": times.n,
        "directness_ci_low": directness.low,
        "directness_ci_high": directness.high,
        "seq_ci_low": seq.low,
        "seq_ci_high": seq.high,
        "caution": _task_caution(n, cell.uncoded, times=times, all_times=all_times, seq=seq),
        "time_all_ci_low": all_times.low,
        "time_all_ci_high": all_times.high,
        "time_median_all_s": all_times.median,
        "seq_ci_clipped": seq.clipped,
    }


_SUMMARY_WORDS = {"times": "Successful times", "all_times": "All times", "seq": "SEQ"}


def _task_caution(
    n: int, uncoded: int, **summaries: stats.TimeSummary | stats.MeanSummary
) -> str | None:
    left_out = f"{plural(uncoded, 'uncoded attempt')} left out (never ended by the moderator)."
    if n == 0:
        return _join("No coded attempts: nothing to report.", left_out if uncoded else None)
    few = f"Only {plural(n, 'attempt')}: the intervals are wide." if n < SMALL_CELL else None
    equal = [
        f"{_SUMMARY_WORDS[name]}: {summary.reason}."
        for name, summary in summaries.items()
        if summary.n >= 2 and summary.low is None and summary.reason
    ]
    return _join(few, *equal, left_out if uncoded else None)


# ------------------------------------------------------- participants table


def participant_table(attempts: AttemptInput, sessions: Sequence[Session]) -> list[Row]:
    """The ``participants`` table: one row per session.

    Parameters
    ----------
    attempts : sequence of mapping, or AttemptColumns
        Rows of the ``attempts`` table (or their columns).
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
    columns = _read(attempts)
    session, ids = columns.codes("session")
    known = {s["session"]: s for s in sessions}
    order = _ordered(known, ids)
    metas: list[Session] = list(known.values())
    if len(order) > len(known):  # sessions known only from their attempts
        first = np.unique(session, return_index=True)[1].tolist()
        metas += [_meta_of(columns, first[k]) for k, sid in enumerate(ids) if sid not in known]
    where = {sid: k for k, sid in enumerate(ids)}
    at = [where.get(sid, len(ids)) for sid in order]  # len(ids): a session without attempts
    figures = [[f[k] for k in at] for f in _session_figures(columns, session, len(ids))]
    sus = questionnaires.scores([m.get("sus") for m in metas], "sus")
    umux = questionnaires.scores([m.get("umux_lite") for m in metas], "umux_lite")
    grades = {score: questionnaires.sus_grade(score) for score in set(sus) if score is not None}
    return [
        {
            "participant": meta["participant"],
            "variant": meta["variant"],
            "session": sid,
            "tasks": tasks,
            "successes": successes,
            "time_total_s": time_total,
            "errors": errors,
            "sus": score,
            "uncoded": uncoded,
            "sus_grade": None if score is None else grades[score],
            "umux_lite": umux_score,
            "nps": None if meta.get("nps") is None else int(meta["nps"]),
        }
        for sid, meta, tasks, successes, time_total, errors, uncoded, score, umux_score in zip(
            order, metas, *figures, sus, umux, strict=True
        )
    ]


def _meta_of(columns: AttemptColumns, position: int) -> Session:
    """A session known only from its attempts: its participant and variant (of its first attempt)."""
    return {name: columns.value(name, position) for name in ("participant", "variant")}


def _session_figures(columns: AttemptColumns, session: np.ndarray, n: int) -> list[list[Any]]:
    """Distinct tasks, successes, total time, errors (coded attempts) and uncoded, per session.

    One list per figure, indexed by session code, plus a last entry for a
    session without attempts.
    """
    coded = columns.coded
    mine = session[coded]
    task, task_ids = columns.codes("task")
    pairs = distinct(mine * max(len(task_ids), 1) + task[coded])
    tasks = np.bincount(pairs // max(len(task_ids), 1), minlength=n)
    successes = np.bincount(session[coded & (columns.outcome == SUCCESS)], minlength=n)
    errors = np.zeros(n, dtype=np.int64)
    np.add.at(errors, mine, columns.count("errors")[coded])
    time = columns.number("time_s")
    timed = coded & time.present
    totals = sums_by_code(session[timed], time.value[timed], n)
    uncoded = np.bincount(session[~coded], minlength=n)
    counted = [np.append(c, 0).tolist() for c in (tasks, successes, errors, uncoded)]
    return [counted[0], counted[1], [*totals, None], counted[2], counted[3]]


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
    answered = _Answered(sessions)
    return [
        _summary_row(variant, answered, confidence)
        for variant in _ordered(variants, (s["variant"] for s in sessions))
    ]


class _Answered:
    """The sessions of each variant, and their questionnaire scores (each computed once)."""

    def __init__(self, sessions: Sequence[Session]) -> None:
        self.sessions = sessions
        self.by_variant: dict[Any, list[int]] = defaultdict(list)
        for i, s in enumerate(sessions):
            self.by_variant[s["variant"]].append(i)
        self._scores: dict[str, list[float | None]] = {}

    def asked(self, questionnaire: str) -> bool:
        """Whether any session has answers to the questionnaire."""
        return any(s.get(questionnaire) is not None for s in self.sessions)

    def of(self, variant: Any, questionnaire: str) -> list[tuple[Any, float]]:
        """(participant, score) of the variant's sessions that answered, in session order."""
        if questionnaire not in self._scores:
            answers = [s.get(questionnaire) for s in self.sessions]
            self._scores[questionnaire] = questionnaires.scores(answers, questionnaire)
        scores = self._scores[questionnaire]
        return [
            (self.sessions[i]["participant"], score)
            for i in self.by_variant.get(variant, [])
            if (score := scores[i]) is not None
        ]


def _summary_row(variant: str, answered: _Answered, confidence: float) -> Row:
    sus = stats.mean_interval(
        [x for _, x in answered.of(variant, "sus")], confidence, stats.SCALES["sus"]
    )
    umux = [x for _, x in answered.of(variant, "umux_lite")]
    umux_mean = _mean(umux)
    mine = [answered.sessions[i] for i in answered.by_variant.get(variant, [])]
    nps_answers = [int(s["nps"]) for s in mine if s.get("nps") is not None]
    return {
        "variant": variant,
        "sessions": len(mine),
        "sus_n": sus.n,
        "sus_mean": sus.mean,
        "sus_ci_low": sus.low,
        "sus_ci_high": sus.high,
        "sus_median": sus.median,
        "sus_grade": None if sus.mean is None else questionnaires.sus_grade(sus.mean),
        "sus_percentile": None if sus.mean is None else questionnaires.sus_percentile(sus.mean),
        "umux_lite_n": len(umux),
        "umux_lite_mean": umux_mean,
        "umux_lite_sus_equivalent": (
            None if umux_mean is None else questionnaires.umux_lite_sus_equivalent(umux_mean)
        ),
        "nps_n": len(nps_answers),
        "nps": questionnaires.nps(nps_answers),
        "sus_ci_clipped": sus.clipped,
    }


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
    attempts: AttemptInput,
    sessions: Sequence[Session],
    tasks: Sequence[str],
    variants: Sequence[str],
    confidence: float = CONFIDENCE,
    design: str = BETWEEN,
) -> list[Row]:
    """The ``comparisons`` table: one row per task x metric x pair of variants.

    Task metrics are ``success_rate`` and ``error_rate`` (difference of
    proportions B - A), ``time`` (successful attempts; ``difference`` holds
    the ratio of geometric means B / A, so 1 means no difference) and ``seq``
    (difference of means). Then, for SUS and UMUX-Lite where any session has
    answers, one study-level row per pair with ``task`` = ``STUDY_TASK``,
    "(study)". ``variant_a`` is the earlier of the pair in variant order.

    Within-subjects (``design`` = "within", declared in the study file): a
    pair of variants that shares participants is compared with paired tests
    (McNemar exact, paired t on log times, paired t) on the participants with
    data in both; the caution says how many others were left out. A
    participant's first coded attempt at a task (first answered session) in
    a variant is the one paired. A between-subjects study never pairs: a
    participant id seen in both variants of a pair earns a caution on each of
    the pair's rows (:func:`shared_participants`), and the samples are
    compared as independent.

    Parameters
    ----------
    attempts : sequence of mapping, or AttemptColumns
        Rows of the ``attempts`` table (or their columns).
    sessions : sequence of mapping
        As for ``participant_table``.
    tasks, variants : sequence of str
        The study's task and variant ids, in order.
    confidence : float
        Confidence level, 0.95 by default.
    design : str
        The study's design, "between" (default) or "within".

    Returns
    -------
    list of dict
        ``COMPARISON_COLUMNS`` then ``n_a``, ``n_b`` (sample sizes, or matched
        pairs), ``paired``, ``reading`` (plain language), ``caution`` and
        ``ci_clipped`` (the interval bound clipped to a rating scale).
    """
    if design not in (BETWEEN, WITHIN):
        raise ValueError(f"design: must be {BETWEEN!r} or {WITHIN!r}, got {design!r}")
    columns = _read(attempts)
    cells, nobody = columns.cells(), TaskCell.empty(columns)
    seen = chain(columns.codes("variant")[1], (s["variant"] for s in sessions))
    pairs = list(combinations(_ordered(variants, seen), 2))
    people = _people(columns, sessions)
    within = {(a, b): design == WITHIN and bool(people[a] & people[b]) for a, b in pairs}
    shared = {} if design == WITHIN else shared_participants(people, pairs)
    rows = [
        _task_comparison(
            task,
            metric,
            pair,
            [cells.get((task, v), nobody) for v in pair],
            within[pair],
            confidence,
            shared.get(pair),
        )
        for task in _ordered(tasks, columns.codes("task")[1])
        for metric in TASK_METRICS
        for pair in pairs
    ]
    answered = _Answered(sessions)
    for metric in STUDY_METRICS:
        if answered.asked(metric):
            rows += [
                _study_comparison(metric, p, answered, within[p], confidence, shared.get(p))
                for p in pairs
            ]
    return rows


def shared_participants(
    people: Mapping[Any, set[Any]], pairs: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], str]:
    """The caution of each pair of variants that shares participant ids in a between study."""
    cautions = {}
    for a, b in pairs:
        both = sorted(people.get(a, set()) & people.get(b, set()), key=str)
        if both:
            shown = ", ".join(map(str, both[:5])) + (", ..." if len(both) > 5 else "")
            cautions[(a, b)] = (
                f"{plural(len(both), 'participant id')} ({shown}) seen in both {a} and {b} of a "
                "between-subjects study: compared as independent samples; if the same people "
                'used both variants, declare design = "within" in the study file.'
            )
    return cautions


def between_warnings(
    attempts: AttemptInput, sessions: Sequence[Session], variants: Sequence[str], design: str
) -> list[str]:
    """Cautions of a between-subjects study whose participant ids recur across variants."""
    if design == WITHIN:
        return []
    columns = _read(attempts)
    seen = chain(columns.codes("variant")[1], (s["variant"] for s in sessions))
    pairs = list(combinations(_ordered(variants, seen), 2))
    return list(shared_participants(_people(columns, sessions), pairs).values())


def _people(columns: AttemptColumns, sessions: Sequence[Session]) -> dict[Any, set[Any]]:
    """The participants of each variant, in the attempts or the sessions."""
    variant, variants = columns.codes("variant")
    participant, participants = columns.codes("participant")
    people: dict[Any, set[Any]] = defaultdict(set)
    width = max(len(participants), 1)
    for code in distinct(variant * width + participant).tolist():
        people[variants[code // width]].add(participants[code % width])
    for s in sessions:
        people[s["variant"]].add(s["participant"])
    return people


def _match(first_a: dict[Any, T], first_b: dict[Any, T]) -> tuple[list[T], list[T], str | None]:
    """Align two variants' data by participant; say how many were left unmatched."""
    matched = [p for p in first_a if p in first_b]
    unmatched = len(first_a) + len(first_b) - 2 * len(matched)
    note = (
        f"{plural(unmatched, 'participant')} with data in only one variant left out."
        if unmatched
        else None
    )
    return [first_a[p] for p in matched], [first_b[p] for p in matched], note


def _first(items: Iterable[tuple[Any, T]]) -> dict[Any, T]:
    """Each participant's first item."""
    first: dict[Any, T] = {}
    for participant, item in items:
        first.setdefault(participant, item)
    return first


def _task_comparison(
    task: str,
    metric: str,
    pair: tuple[str, str],
    cells: Sequence[TaskCell],
    within: bool,
    confidence: float,
    shared: str | None = None,
) -> Row:
    cell_a, cell_b = cells
    uncoded = cell_a.uncoded + cell_b.uncoded
    left_out = f"{plural(uncoded, 'uncoded attempt')} left out." if uncoded else None
    if not within:
        comparison = _independent(metric, cell_a, cell_b, confidence)
        return _comparison_row(task, metric, pair, comparison, confidence, left_out, shared)
    a, b, alone = _match(cell_a.first_by_participant, cell_b.first_by_participant)
    comparison = _paired(
        metric,
        (cell_a, np.array(a, dtype=np.int64)),
        (cell_b, np.array(b, dtype=np.int64)),
        confidence,
    )
    return _comparison_row(task, metric, pair, comparison, confidence, alone, left_out)


def _hits(metric: str, cell: TaskCell) -> np.ndarray:
    return cell.success if metric == "success_rate" else cell.with_error


def _values(metric: str, cell: TaskCell) -> Numbers:
    return cell.success_time if metric == "time" else cell.number(metric)


def _independent(metric: str, a: TaskCell, b: TaskCell, confidence: float) -> AnyComparison:
    if metric in ("success_rate", "error_rate"):
        x_a, x_b = _total(_hits(metric, a)), _total(_hits(metric, b))
        return stats.compare_proportions(x_a, a.n, x_b, b.n, confidence)
    values_a, values_b = _values(metric, a).listed(), _values(metric, b).listed()
    if metric == "time":
        return stats.compare_times(values_a, values_b, confidence)
    return stats.compare_means(values_a, values_b, confidence, scale=stats.SCALES.get(metric))


def _paired(
    metric: str, a: tuple[TaskCell, np.ndarray], b: tuple[TaskCell, np.ndarray], confidence: float
) -> AnyComparison:
    """Paired tests on attempts aligned by participant (``a`` and ``b``: a cell and positions in it)."""
    (cell_a, at_a), (cell_b, at_b) = a, b
    if metric in ("success_rate", "error_rate"):
        hits_a, hits_b = _hits(metric, cell_a)[at_a].tolist(), _hits(metric, cell_b)[at_b].tolist()
        return stats.compare_paired_proportions(hits_a, hits_b, confidence)
    values_a, values_b = _values(metric, cell_a).take(at_a), _values(metric, cell_b).take(at_b)
    kept = values_a.present & values_b.present
    kept_a, kept_b = values_a.value[kept].tolist(), values_b.value[kept].tolist()
    if metric == "time":
        return stats.compare_times(kept_a, kept_b, confidence, paired=True)
    return stats.compare_means(
        kept_a, kept_b, confidence, paired=True, scale=stats.SCALES.get(metric)
    )


def _study_comparison(
    metric: str,
    pair: tuple[str, str],
    answered: _Answered,
    within: bool,
    confidence: float,
    shared: str | None = None,
) -> Row:
    scores = [answered.of(variant, metric) for variant in pair]
    scale = stats.SCALES.get(metric)
    if not within:
        a, b = ([x for _, x in variant_scores] for variant_scores in scores)
        comparison = stats.compare_means(a, b, confidence, scale=scale)
        return _comparison_row(STUDY_TASK, metric, pair, comparison, confidence, shared)
    a, b, alone = _match(_first(scores[0]), _first(scores[1]))
    comparison = stats.compare_means(a, b, confidence, paired=True, scale=scale)
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
        "ci_clipped": c.clipped,
    }
