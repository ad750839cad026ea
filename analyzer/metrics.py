"""The analyzer's public API: ``analyze(db_path, study_id) -> StudyResults``.

Loads the study once (:mod:`analyzer.load`), runs the kernels
(:mod:`analyzer.kernels`) and turns their arrays into the tables of
shared/DESIGN.md ("Output tables") as plain rows: lists of dicts whose keys
are the table's columns in order, ``None`` where a value does not exist. The
statistics tables (``tasks``, ``participants``, ``comparisons``) come from
:mod:`analyzer.tables` when it is installed; until then ``tasks`` and
``participants`` hold plain counts and rates and ``comparisons`` is empty.
No pandas needed.
"""

from __future__ import annotations

import importlib
import importlib.util
import math
import statistics
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from analyzer import kernels
from analyzer.config import DEFAULT_THRESHOLDS, Thresholds
from analyzer.load import StudyData, load_study_data, rating_answers
from recorder import schema

ATTEMPT_COLUMNS = ("study", "variant", "participant", "session", "task", "outcome", "coded_by",
                   "time_s", "clicks", "misclicks", "rage_clicks", "errors", "moderator_errors",
                   "js_errors", "invalid_inputs", "pages", "distinct_pages", "backtracks",
                   "path_edit_distance", "lostness", "direct", "seq", "path")  # fmt: skip
TASK_COLUMNS = ("task", "variant", "attempts", "successes", "success_rate", "success_ci_low",
                "success_ci_high", "abandonment_rate", "time_gm_s", "time_ci_low", "time_ci_high",
                "time_median_s", "time_gm_all_s", "error_rate", "error_rate_ci_low",
                "error_rate_ci_high", "errors_per_attempt", "misclick_rate", "clicks_mean",
                "lostness_mean", "directness_rate", "seq_mean")  # fmt: skip
PARTICIPANT_COLUMNS = ("participant", "variant", "session", "tasks", "successes", "time_total_s",
                       "errors", "sus")  # fmt: skip
MARKER_COLUMNS = ("participant", "variant", "task", "t_s", "kind", "text")
SESSION_COLUMNS = ("session", "participant", "variant", "sus", "umux_lite", "nps", "started_ms",
                   "ended_ms")  # fmt: skip
TRANSITION_COLUMNS = ("task", "variant", "from", "to", "count")
CLICK_COLUMNS = ("participant", "variant", "session", "task", "page", "x", "y", "target", "misclick",
                 "rage")  # fmt: skip
PAGE_SPEED_COLUMNS = ("page", "variant", "loads", "load_ms_median", "ttfb_ms_median")
PATH_SEPARATOR = " > "
# Outcome and coded_by words by code (kernels.UNCODED = 0; kernels.BY_* codes).
OUTCOME_WORDS = np.array(
    ["uncoded", *(schema.OUTCOME_NAMES.get(c, str(c)) for c in range(1, 16))], dtype=object
)
CODED_BY_WORDS = np.array([None, "moderator", "criteria"], dtype=object)
ANSWER_COUNTS = {item: count for item, (_, count, _, _) in schema.RATING_SCALES.items()}


@dataclass(frozen=True, eq=False)
class ClickTable:
    """Every click with its page and flags, kept as columns (a study can hold millions).

    ``rows()`` gives the ``clicks`` table rows: ``participant, variant,
    session, task`` (``None`` outside attempts), ``page`` (key on screen),
    ``x, y`` (page coordinates), ``target`` (selector), ``misclick, rage``.
    """

    data: StudyData
    position: np.ndarray  # int64: event position of each click
    session: np.ndarray  # int32 session index
    task: np.ndarray  # int32 task index, -1
    page: np.ndarray  # int32 page key id, -1
    misclick: np.ndarray  # bool
    rage: np.ndarray  # bool

    def __len__(self) -> int:
        return len(self.position)

    def rows(self) -> Iterator[dict[str, Any]]:
        """The clicks as rows, in event order."""
        d, ev, names = self.data, self.data.events, _Names.of(self.data)
        pos = self.position
        keys = np.array([*d.keys, None], dtype=object)
        targets = [d.targets.get(t) for t in ev.target[pos].tolist()]
        columns = (*names.sessions(self.session), names.tasks(self.task), keys[self.page].tolist(),
                   ev.x[pos].tolist(), ev.y[pos].tolist(), targets, self.misclick.tolist(),
                   self.rage.tolist())  # fmt: skip
        participant, variant, session, *rest = columns
        for values in zip(participant, variant, session, *rest, strict=True):
            yield dict(zip(CLICK_COLUMNS, values, strict=True))


@dataclass(frozen=True)
class StudyResults:
    """Every table of one study's analysis (shared/DESIGN.md, "Output tables")."""

    study: str
    attempts: list[dict[str, Any]]
    sessions: list[dict[str, Any]]
    markers: list[dict[str, Any]]
    transitions: list[dict[str, Any]]
    clicks: ClickTable
    page_speed: list[dict[str, Any]]
    tasks: list[dict[str, Any]] = field(default_factory=list)
    participants: list[dict[str, Any]] = field(default_factory=list)
    comparisons: list[dict[str, Any]] = field(default_factory=list)

    TABLES = ("attempts", "tasks", "participants", "comparisons", "markers", "sessions",
              "transitions", "page_speed", "clicks")  # fmt: skip

    def table(self, name: str) -> list[dict[str, Any]]:
        """One table's rows by name (``ValueError`` naming the tables for an unknown one)."""
        if name not in self.TABLES:
            raise ValueError(f"no table {name!r} (tables: {', '.join(self.TABLES)})")
        if name == "clicks":
            return list(self.clicks.rows())
        return getattr(self, name)

    def tables(self, names: tuple[str, ...] = TABLES) -> dict[str, list[dict[str, Any]]]:
        """``{name: rows}`` of the given tables (all by default), for exports."""
        return {name: self.table(name) for name in names}


@dataclass(frozen=True)
class _Names:
    """Integer indexes -> the study's ids, a whole column at a time."""

    participant: np.ndarray  # object, per session
    variant: np.ndarray  # object, per session
    session: np.ndarray  # object (int), per session: its database id
    task: np.ndarray  # object, per task index, then None for -1

    @classmethod
    def of(cls, data: StudyData) -> _Names:
        return cls(
            participant=np.array(data.participants, dtype=object)[data.session_participant],
            variant=np.array(data.variants, dtype=object)[data.events.session_variant],
            session=data.sessions.astype(object),
            task=np.array([*data.tasks, None], dtype=object),
        )  # fmt: skip

    def sessions(self, s: np.ndarray) -> tuple[list[Any], list[Any], list[Any]]:
        """Participant, variant and session id of each session index."""
        return self.participant[s].tolist(), self.variant[s].tolist(), self.session[s].tolist()

    def tasks(self, k: np.ndarray) -> list[Any]:
        """Task id of each task index (None for -1)."""
        return self.task[k].tolist()


def analyze(db_path: str | Path, study_id: str, *, cache: bool = True,
            thresholds: Thresholds = DEFAULT_THRESHOLDS) -> StudyResults:  # fmt: skip
    """Analyze one study: every metrics table of shared/DESIGN.md.

    Parameters
    ----------
    db_path : the uxlab SQLite database
    study_id : the study (``recorder.store.StoreError`` when unknown)
    cache : keep the columnar cache beside the database (``<db>.uxcache/``)
    thresholds : misclick and rage-click rules (defaults: shared/DESIGN.md)

    Returns
    -------
    :class:`StudyResults`
    """
    data = load_study_data(db_path, study_id, cache=cache)
    return results_of(data, thresholds)


def results_of(data: StudyData, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> StudyResults:
    """The tables of already loaded study data."""
    ev = data.events
    flags = kernels.click_flags(ev, thresholds)
    segments = kernels.segment_attempts(ev, data.rules)
    figures = kernels.attempt_metrics(ev, data.rules, segments, flags)
    attempts = attempt_rows(data, segments, figures)
    sessions = session_rows(data)
    tasks, participants, comparisons = stats_tables(data, attempts, sessions)
    return StudyResults(
        study=data.study.id, attempts=attempts, sessions=sessions,
        markers=marker_rows(data, segments, figures), transitions=transition_rows(data, segments, figures),
        clicks=click_table(data, segments, figures, flags), page_speed=page_speed_rows(data),
        tasks=tasks, participants=participants, comparisons=comparisons,
    )  # fmt: skip


def _nullable(values: np.ndarray, missing: np.ndarray, integer: bool = False) -> list[Any]:
    """``values`` as Python numbers, ``None`` where ``missing``."""
    out = (np.where(missing, 0, values).astype(np.int64) if integer else values).astype(object)
    out[missing] = None
    return out.tolist()


def attempt_rows(
    data: StudyData, seg: kernels.Segments, fig: kernels.Attempts
) -> list[dict[str, Any]]:
    """The ``attempts`` table: one row per attempt, by session then start."""
    names, keys = _Names.of(data), data.keys
    time_s = np.round((seg.t_end - seg.t_start) / 1000.0, 3)
    pages = np.diff(fig.path_start)
    path_keys, starts = fig.path_keys.tolist(), fig.path_start.tolist()
    paths = [PATH_SEPARATOR.join([keys[k] for k in path_keys[starts[a] : starts[a + 1]]])
             for a in range(len(seg.session))]  # fmt: skip
    participant, variant, session = names.sessions(seg.session)
    columns = (
        [data.study.id] * len(seg.session), variant, participant, session, names.tasks(seg.task),
        OUTCOME_WORDS[seg.outcome].tolist(), CODED_BY_WORDS[seg.coded_by].tolist(),
        _nullable(time_s, np.isnan(time_s)), fig.clicks.tolist(), fig.misclicks.tolist(),
        fig.rage_clicks.tolist(), (fig.moderator_errors + fig.invalid_inputs).tolist(),
        fig.moderator_errors.tolist(), fig.js_errors.tolist(), fig.invalid_inputs.tolist(), pages.tolist(),
        fig.distinct_pages.tolist(), (pages - fig.distinct_pages).tolist(),
        _nullable(fig.path_edit_distance, fig.path_edit_distance < 0, integer=True),
        _nullable(fig.lostness, np.isnan(fig.lostness)), fig.direct.tolist(),
        _nullable(fig.seq, np.isnan(fig.seq), integer=True), paths,
    )  # fmt: skip
    return [
        dict(zip(ATTEMPT_COLUMNS, values, strict=True)) for values in zip(*columns, strict=True)
    ]


def _session_of(data: StudyData, positions: np.ndarray) -> np.ndarray:
    return np.searchsorted(data.events.session_start, positions, side="right") - 1


def session_rows(data: StudyData) -> list[dict[str, Any]]:
    """The ``sessions`` table: questionnaire answers per session (the last rating of an item wins).

    ``started_ms`` and ``ended_ms`` are the session's first and last corrected
    event times (epoch ms), ``None`` for a session without events.
    """
    ev = data.events
    answers: list[dict[str, Any]] = [{} for _ in data.sessions]
    positions = np.flatnonzero((ev.type == schema.RATING) & (ev.kind != kernels.SEQ_ITEM))
    items, values = ev.kind[positions].tolist(), ev.value[positions].tolist()
    for s, code, value in zip(_session_of(data, positions).tolist(), items, values, strict=True):
        item = schema.RATING_ITEM_NAMES.get(code)
        if item is None or math.isnan(value):
            continue
        count = ANSWER_COUNTS[item]
        answers[s][item] = rating_answers(value, count) if count > 1 else int(value)
    participant, variant, session = _Names.of(data).sessions(np.arange(len(data.sessions)))
    started, ended = _session_times(data)
    return [dict(zip(SESSION_COLUMNS, (sid, p, v, a.get("SUS"), a.get("UMUX-Lite"), a.get("NPS"), t0, t1), strict=True))
            for sid, p, v, a, t0, t1 in zip(session, participant, variant, answers, started, ended,
                                            strict=True)]  # fmt: skip


def _session_times(data: StudyData) -> tuple[list[Any], list[Any]]:
    """Each session's first and last corrected event time (events are sorted by it), or None."""
    ev = data.events
    lo, hi = ev.session_start[:-1], ev.session_start[1:]
    empty = hi == lo
    t = np.append(ev.t, np.nan)  # position len(t): a session without events
    first, last = np.where(empty, len(ev.t), lo), np.where(empty, len(ev.t), hi - 1)
    return _nullable(t[first], empty), _nullable(t[last], empty)


def marker_rows(
    data: StudyData, seg: kernels.Segments, fig: kernels.Attempts
) -> list[dict[str, Any]]:
    """The ``markers`` table: moderator markers with the task of their attempt, in time order.

    ``t_s`` is seconds from the session's first event; ``task`` is the
    marker's attempt's task, or the task it names, or ``None``.
    """
    ev, names = data.events, _Names.of(data)
    positions = np.flatnonzero(ev.type == schema.MARKER)
    s = _session_of(data, positions)
    attempt = fig.event_attempt[positions]
    task = np.where(
        attempt >= 0, seg.task[np.maximum(attempt, 0)] if len(seg.task) else -1, ev.task[positions]
    )
    t_s = np.round((ev.t[positions] - ev.t[ev.session_start[s]]) / 1000.0, 3)
    kinds = [schema.MARKER_KIND_NAMES.get(k) for k in ev.kind[positions].tolist()]
    texts = [data.labels.get(label) for label in ev.label[positions].tolist()]
    participant, variant, _ = names.sessions(s)
    columns = (participant, variant, names.tasks(task), t_s.tolist(), kinds, texts)
    return [dict(zip(MARKER_COLUMNS, values, strict=True)) for values in zip(*columns, strict=True)]


def transition_rows(
    data: StudyData, seg: kernels.Segments, fig: kernels.Attempts
) -> list[dict[str, Any]]:
    """The ``transitions`` table: page-to-page steps of the attempts' paths per task x variant."""
    variant = data.events.session_variant[seg.session]
    tr = kernels.transition_counts(fig.path_start, fig.path_keys, seg.task, variant, len(data.study.tasks),
                                   len(data.study.variants), max(len(data.keys), 1))  # fmt: skip
    tasks, variants, keys = data.tasks, data.variants, data.keys
    return [dict(zip(TRANSITION_COLUMNS, (tasks[k], variants[v], keys[a], keys[b], c), strict=True))
            for k, v, a, b, c in zip(tr.task.tolist(), tr.variant.tolist(), tr.source.tolist(),
                                     tr.target.tolist(), tr.n.tolist(), strict=True)]  # fmt: skip


def click_table(data: StudyData, seg: kernels.Segments, fig: kernels.Attempts,
                flags: kernels.ClickFlags) -> ClickTable:  # fmt: skip
    """The ``clicks`` table as columns: every click of the study, inside an attempt or not."""
    positions = np.flatnonzero(data.events.type == schema.CLICK)
    attempt = fig.event_attempt[positions]
    task = np.where(attempt >= 0, seg.task[np.maximum(attempt, 0)] if len(seg.task) else -1, -1)
    return ClickTable(data, positions, _session_of(data, positions).astype(np.int32), task.astype(np.int32),
                      flags.screen_key[positions], flags.misclick[positions], flags.rage[positions])  # fmt: skip


def page_speed_rows(data: StudyData) -> list[dict[str, Any]]:
    """The ``page_speed`` table: median load time and TTFB (ms) per page key x variant.

    Only page events that carry load timing (real loads, not SPA route changes) count.
    """
    ev = data.events
    positions = np.flatnonzero(ev.type == schema.PAGE)
    load_ms, ttfb = ev.value[positions], data.ttfb[positions].astype(np.float64)
    timed = np.isfinite(load_ms) | np.isfinite(ttfb)
    positions, load_ms, ttfb = positions[timed], load_ms[timed], ttfb[timed]
    n_keys = max(len(data.keys), 1)
    codes = (
        ev.session_variant[_session_of(data, positions)].astype(np.int64) * n_keys
        + ev.key[positions]
    )
    loads, firsts = kernels.group_medians(codes, load_ms), kernels.group_medians(codes, ttfb)
    rows = []
    for code, count, load_median, ttfb_median in zip(loads.code.tolist(), loads.n.tolist(),
                                                     loads.median.tolist(), firsts.median.tolist(),
                                                     strict=True):  # fmt: skip
        v, key = divmod(code, n_keys)
        rows.append(dict(zip(PAGE_SPEED_COLUMNS, (
            data.keys[key], data.variants[v], count, _finite(load_median), _finite(ttfb_median),
        ), strict=True)))  # fmt: skip
    return rows


def _finite(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 1)


# -- statistics tables -----------------------------------------------------------------------


def stats_tables(data: StudyData, attempts: list[dict[str, Any]],
                 sessions: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], ...]:  # fmt: skip
    """``tasks``, ``participants``, ``comparisons``: from :mod:`analyzer.tables` where present.

    The statistics module is called with the attempt and session rows and the
    study's task ids and variant ids (in study order).
    """
    tasks, variants = data.tasks, data.variants
    if importlib.util.find_spec("analyzer.tables") is not None:
        try:
            tables: Any = importlib.import_module("analyzer.tables")
            return (tables.task_table(attempts, tasks, variants), tables.participant_table(attempts, sessions),
                    tables.comparison_table(attempts, sessions, tasks, variants))  # fmt: skip
        except (ImportError, AttributeError):
            pass  # not delivered yet: plain counts below
    return (
        plain_task_rows(attempts, tasks, variants),
        plain_participant_rows(attempts, sessions),
        [],
    )


def _mean(values: list[float]) -> float | None:
    return round(statistics.fmean(values), 4) if values else None


def plain_task_rows(
    attempts: list[dict[str, Any]], tasks: list[str], variants: list[str]
) -> list[dict[str, Any]]:
    """The ``tasks`` table with plain counts and rates (no intervals) until statistics arrive."""
    groups: dict[tuple[Any, Any], list[dict[str, Any]]] = {}
    for a in attempts:
        groups.setdefault((a["task"], a["variant"]), []).append(a)
    rows = []
    for task in tasks:
        for variant in variants:
            mine = groups.get((task, variant), [])
            n = len(mine)
            won = [a for a in mine if a["outcome"] == "success"]
            won_times = [a["time_s"] for a in won if a["time_s"] and a["time_s"] > 0]
            all_times = [a["time_s"] for a in mine if a["time_s"] and a["time_s"] > 0]
            clicks = sum(a["clicks"] for a in mine)
            rate = lambda count, n=n: round(count / n, 4) if n else None  # noqa: E731
            values = {
                "task": task, "variant": variant, "attempts": n, "successes": len(won),
                "success_rate": rate(len(won)),
                "abandonment_rate": rate(sum(a["outcome"] == "abandoned" for a in mine)),
                "time_gm_s": round(statistics.geometric_mean(won_times), 3) if won_times else None,
                "time_median_s": statistics.median(won_times) if won_times else None,
                "time_gm_all_s": round(statistics.geometric_mean(all_times), 3) if all_times else None,
                "error_rate": rate(sum(a["errors"] > 0 for a in mine)),
                "errors_per_attempt": _mean([a["errors"] for a in mine]),
                "misclick_rate": round(sum(a["misclicks"] for a in mine) / clicks, 4) if clicks else None,
                "clicks_mean": _mean([a["clicks"] for a in mine]),
                "lostness_mean": _mean([a["lostness"] for a in mine if a["lostness"] is not None]),
                "directness_rate": rate(sum(a["direct"] for a in mine)),
                "seq_mean": _mean([a["seq"] for a in mine if a["seq"] is not None]),
            }  # fmt: skip
            rows.append({column: values.get(column) for column in TASK_COLUMNS})
    return rows


def sus_score(answers: list[int]) -> float:
    """The SUS score (0-100) of ten answers 1-5 (Brooke 1996)."""
    return 2.5 * sum((a - 1) if i % 2 == 0 else (5 - a) for i, a in enumerate(answers))


def plain_participant_rows(
    attempts: list[dict[str, Any]], sessions: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The ``participants`` table with plain sums until statistics arrive."""
    groups: dict[int, list[dict[str, Any]]] = {}
    for a in attempts:
        groups.setdefault(a["session"], []).append(a)
    rows = []
    for session in sessions:
        mine = groups.get(session["session"], [])
        values = (session["participant"], session["variant"], session["session"], len(mine),
                  sum(a["outcome"] == "success" for a in mine),
                  round(sum(a["time_s"] or 0.0 for a in mine), 3), sum(a["errors"] for a in mine),
                  sus_score(session["sus"]) if session["sus"] else None)  # fmt: skip
        rows.append(dict(zip(PARTICIPANT_COLUMNS, values, strict=True)))
    return rows
