"""The analyzer's public API: ``analyze(db_path, study_id) -> StudyResults``.

Loads the study once (:mod:`analyzer.load`), runs the kernels
(:mod:`analyzer.kernels.jit`) and turns their arrays into the tables of
the README ("Output tables") as plain rows: lists of dicts whose keys are the
table's columns in order, ``None`` where a value does not exist. The
statistics tables (``tasks``, ``participants``, ``comparisons``) come from
:mod:`analyzer.metrics.tables`. No pandas needed.

The kernels run when :func:`analyze` returns; each table is made when first
asked for, so that a command pays only for what it outputs: on 10 million
events the 265 000 attempt dicts alone take about a second, and the
statistics read the attempts' columns straight from the kernels' arrays
(:func:`attempt_columns`) rather than from those dicts.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from analyzer import config
from analyzer.config import DEFAULT_THRESHOLDS, Thresholds
from analyzer.findings import suggestions as suggestion_tables
from analyzer.findings import tables as findings_tables
from analyzer.kernels import jit as kernels
from analyzer.load import StudyData, load_study_data, rating_answers
from analyzer.metrics import tables as statistics_tables
from analyzer.metrics.attempts import AttemptColumns, Numbers
from analyzer.metrics.columns import (
    CLICK_COLUMNS,
    MARKER_COLUMNS,
    PAGE_SPEED_COLUMNS,
    SESSION_COLUMNS,
    TRANSITION_COLUMNS,
)
from analyzer.metrics.columns import TABLES as TABLE_COLUMNS
from recorder.errors import UxlabError
from recorder.wire import schema

ATTEMPT_COLUMNS = TABLE_COLUMNS["attempts"]  # the documented columns, then dead_clicks
PATH_SEPARATOR = " > "
# The outcome and coded_by columns' words by code (kernels.OUTCOME_CODES; kernels.BY_* codes).
OUTCOME_NAME_OF = np.array([kernels.OUTCOME_NAMES.get(c, str(c)) for c in range(16)], dtype=object)
CODED_BY_NAME_OF = np.array([None, "moderator", "criteria"], dtype=object)
ANSWER_COUNTS = {item: count for item, (_, count, _, _) in schema.RATING_SCALES.items()}


@dataclass(frozen=True, eq=False)
class ClickTable:
    """Every click with its page and flags, kept as columns (a study can hold millions).

    ``rows()`` gives the ``clicks`` table rows: ``participant, variant,
    session, task`` (``None`` outside attempts), ``page`` (key on screen),
    ``x, y`` (page coordinates), ``target`` (selector), ``misclick, rage``, then
    ``label`` (what the snippet recorded), ``dead`` (no reaction within 1 s) and
    ``burst_start`` (the first click of a rage-click burst: a burst counts once).
    """

    data: StudyData
    position: np.ndarray  # int64: event position of each click
    session: np.ndarray  # int32 session index
    task: np.ndarray  # int32 task index, -1
    key: np.ndarray  # int32: page key id of the page on screen (the ``page`` column), -1
    misclick: np.ndarray  # bool
    rage: np.ndarray  # bool
    dead: np.ndarray  # bool
    burst_start: np.ndarray  # bool

    def __len__(self) -> int:
        return len(self.position)

    def rows(self) -> Iterator[dict[str, Any]]:
        """The clicks as rows, in event order."""
        d, ev, names = self.data, self.data.events, _Names.of(self.data)
        pos = self.position
        keys = np.array([*d.keys, None], dtype=object)
        targets = [d.targets.get(t) for t in ev.target[pos].tolist()]
        labels = [d.labels.get(n) for n in ev.label[pos].tolist()]
        participant, variant, session = names.sessions(self.session)
        columns = {
            "participant": participant,
            "variant": variant,
            "session": session,
            "task": names.tasks(self.task),
            "page": keys[self.key].tolist(),
            "x": ev.x[pos].tolist(),
            "y": ev.y[pos].tolist(),
            "target": targets,
            "misclick": self.misclick.tolist(),
            "rage": self.rage.tolist(),
            "label": labels,
            "dead": self.dead.tolist(),
            "burst_start": self.burst_start.tolist(),
        }
        for values in zip(*(columns[name] for name in CLICK_COLUMNS), strict=True):
            yield dict(zip(CLICK_COLUMNS, values, strict=True))


class StudyResults:
    """Every table of one study's analysis (README, "Output tables").

    The kernels run once, when the results are made; each table is then made
    the first time it is asked for and kept, so a command pays only for the
    tables it outputs (the terminal's attempts and tasks need neither the
    265 000 attempt dicts of a large study nor the comparisons' tests).
    """

    TABLES = tuple(TABLE_COLUMNS)
    FINDING_TABLES = ("findings", "finding_variants", "finding_evidence", "problem_discovery",
                      "discovery_curve")  # fmt: skip

    def __init__(self, data: StudyData, thresholds: Thresholds = DEFAULT_THRESHOLDS,
                 stored: findings_tables.Stored | None = None) -> None:  # fmt: skip
        ev = data.events
        self.data, self.study = data, data.study.id
        self.stored = stored or findings_tables.Stored()
        self.flags = kernels.click_flags(ev, thresholds)
        self.segments = kernels.segment_attempts(ev, data.rules)
        self.figures = kernels.attempt_metrics(ev, data.rules, self.segments, self.flags)

    @cached_property
    def attempts(self) -> list[dict[str, Any]]:
        """The ``attempts`` table (:func:`attempt_rows`)."""
        return attempt_rows(self.data, self.segments, self.figures)

    @cached_property
    def sessions(self) -> list[dict[str, Any]]:
        """The ``sessions`` table (:func:`session_rows`)."""
        return session_rows(self.data)

    @cached_property
    def markers(self) -> list[dict[str, Any]]:
        """The ``markers`` table (:func:`marker_rows`)."""
        return marker_rows(self.data, self.segments, self.figures)

    @cached_property
    def transitions(self) -> list[dict[str, Any]]:
        """The ``transitions`` table (:func:`transition_rows`)."""
        return transition_rows(self.data, self.segments, self.figures)

    @cached_property
    def clicks(self) -> ClickTable:
        """The ``clicks`` table as columns (:func:`click_table`)."""
        return click_table(self.data, self.segments, self.figures, self.flags)

    @cached_property
    def page_speed(self) -> list[dict[str, Any]]:
        """The ``page_speed`` table (:func:`page_speed_rows`)."""
        return page_speed_rows(self.data)

    @cached_property
    def tasks(self) -> list[dict[str, Any]]:
        """The ``tasks`` table: statistics per task x variant."""
        return statistics_tables.task_table(
            self._attempt_columns, self.data.tasks, self.data.variants
        )

    @cached_property
    def participants(self) -> list[dict[str, Any]]:
        """The ``participants`` table: one row per session."""
        return statistics_tables.participant_table(self._attempt_columns, self.sessions)

    @cached_property
    def comparisons(self) -> list[dict[str, Any]]:
        """The ``comparisons`` table: variants compared."""
        data = self.data
        return statistics_tables.comparison_table(
            self._attempt_columns, self.sessions, data.tasks, data.variants,
            design=data.study.design,
        )  # fmt: skip

    @cached_property
    def _findings(self) -> dict[str, list[dict[str, Any]]]:
        """The findings tables (:func:`analyzer.findings.tables.finding_tables`)."""
        data, seg = self.data, self.segments
        attempted: dict[str, set[tuple[str, str]]] = {}
        for row in self.attempts:
            attempted.setdefault(row["task"], set()).add((row["participant"], row["variant"]))
        task_at: dict[int, list[tuple[float, float, str]]] = {}
        first = data.events.t[data.events.session_start[seg.session]] if len(seg.session) else []
        for row, t0, t1, t_first in zip(self.attempts, seg.t_start.tolist(),
                                         seg.window_end.tolist(), list(first), strict=True):  # fmt: skip
            span = ((t0 - t_first) / 1000.0, (t1 - t_first) / 1000.0, row["task"])
            task_at.setdefault(row["session"], []).append(span)
        # In the order they started; sessions without events (a participant named by hand) last.
        started = sorted(self.sessions, key=lambda s: (s["started_ms"] is None, s["started_ms"] or 0.0,
                                                       s["session"]))  # fmt: skip
        population = findings_tables.Population(started, attempted, task_at)
        return findings_tables.finding_tables(self.stored, population, data.variants)

    @cached_property
    def findings(self) -> list[dict[str, Any]]:
        """The ``findings`` table: the team's findings with their frequency."""
        return self._findings["findings"]

    @cached_property
    def finding_variants(self) -> list[dict[str, Any]]:
        """The ``finding_variants`` table."""
        return self._findings["finding_variants"]

    @cached_property
    def finding_evidence(self) -> list[dict[str, Any]]:
        """The ``finding_evidence`` table."""
        return self._findings["finding_evidence"]

    @cached_property
    def problem_discovery(self) -> list[dict[str, Any]]:
        """The ``problem_discovery`` table (one row)."""
        return self._findings["problem_discovery"]

    @cached_property
    def discovery_curve(self) -> list[dict[str, Any]]:
        """The ``discovery_curve`` table: findings seen as sessions are added, and the model's."""
        return self._findings["discovery_curve"]

    @cached_property
    def suggestions(self) -> list[dict[str, Any]]:
        """The ``suggestions`` table (:mod:`analyzer.findings.suggestions`)."""
        benchmark = self.stored.benchmark or config.SUCCESS_BENCHMARK
        return suggestion_tables.suggestion_rows(suggestion_tables.Inputs(
            self.data, self.segments, self.figures, self.flags, self.attempts, self.tasks,
            self.page_speed, benchmark))  # fmt: skip

    @cached_property
    def _attempt_columns(self) -> AttemptColumns:
        return attempt_columns(self.data, self.segments, self.figures)

    def table(self, name: str) -> list[dict[str, Any]]:
        """One table's rows by name (``ValueError`` naming the tables for an unknown one)."""
        if name not in self.TABLES:
            raise UxlabError(f"no table {name!r} (tables: {', '.join(self.TABLES)})")
        if name == "clicks":
            return list(self.clicks.rows())
        rows: list[dict[str, Any]] = getattr(self, name)
        return rows

    def tables(self, names: tuple[str, ...] = TABLES) -> dict[str, list[dict[str, Any]]]:
        """``{name: rows}`` of the given tables (all by default), for exports."""
        return {name: self.table(name) for name in names}

    def head(self, name: str, limit: int | None) -> list[dict[str, Any]]:
        """A table's first ``limit`` rows (all for None), making only those attempt rows if need be."""
        if name == "attempts" and limit is not None and "attempts" not in self.__dict__:
            return attempt_rows(self.data, self.segments, self.figures, stop=limit)
        rows = self.table(name)
        return rows if limit is None else rows[:limit]

    def size(self, name: str) -> int:
        """How many rows a table has (the attempts and clicks counted without making their rows)."""
        if name == "attempts":
            return len(self.segments.session)
        if name == "clicks":
            return len(self.clicks)
        return len(self.table(name))


@dataclass(frozen=True)
class _Names:
    """Integer indexes -> the study's ids, a whole column at a time."""

    participant: np.ndarray  # object, per session
    variant: np.ndarray  # object, per session
    session: np.ndarray  # object (int), per session: its number within the study
    task: np.ndarray  # object, per task index, then None for -1

    @classmethod
    def of(cls, data: StudyData) -> _Names:
        return cls(
            participant=np.array(data.participants, dtype=object)[data.session_participant],
            variant=np.array(data.variants, dtype=object)[data.events.session_variant],
            session=data.numbers.astype(object),
            task=np.array([*data.tasks, None], dtype=object),
        )  # fmt: skip

    def sessions(self, s: np.ndarray) -> tuple[list[Any], list[Any], list[Any]]:
        """Participant, variant and session number of each session index."""
        return self.participant[s].tolist(), self.variant[s].tolist(), self.session[s].tolist()

    def tasks(self, k: np.ndarray) -> list[Any]:
        """Task id of each task index (None for -1)."""
        return self.task[k].tolist()


def analyze(db_path: str | Path, study_id: str, *, cache: bool = True,
            thresholds: Thresholds = DEFAULT_THRESHOLDS) -> StudyResults:  # fmt: skip
    """Analyze one study: every output table (README, "Output tables").

    Parameters
    ----------
    db_path : the uxlab SQLite database
    study_id : the study (``recorder.storage.store.StoreError`` when unknown)
    cache : keep the columnar cache beside the database (``<db>.uxcache/``)
    thresholds : misclick and rage-click rules (defaults: analyzer.config)

    Returns
    -------
    :class:`StudyResults`
    """
    data = load_study_data(db_path, study_id, cache=cache)
    return results_of(data, thresholds, findings_tables.read_stored(db_path, study_id))


def results_of(data: StudyData, thresholds: Thresholds = DEFAULT_THRESHOLDS,
               stored: findings_tables.Stored | None = None) -> StudyResults:  # fmt: skip
    """The tables of already loaded study data (the kernels run now, each table when asked for)."""
    return StudyResults(data, thresholds, stored)


def _rows(names: tuple[str, ...], columns: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Rows of the table whose columns are ``names``, from each column's values by name."""
    assert len(columns) == len(names), "a column without a name, or a name without values"
    values = zip(*(columns[name] for name in names), strict=True)
    return [dict(zip(names, row, strict=True)) for row in values]


def _nullable(values: np.ndarray, missing: np.ndarray, integer: bool = False) -> list[Any]:
    """``values`` as Python numbers, ``None`` where ``missing``."""
    out = (np.where(missing, 0, values).astype(np.int64) if integer else values).astype(object)
    out[missing] = None
    return out.tolist()


def attempt_rows(
    data: StudyData, seg: kernels.Segments, fig: kernels.Attempts, stop: int | None = None
) -> list[dict[str, Any]]:
    """The ``attempts`` table: one row per attempt, by session then start (the first ``stop``)."""
    names, keys, n = _Names.of(data), data.keys, len(seg.session[:stop])
    head = slice(0, n)
    time_s = _time_s(seg)[head]
    pages = np.diff(fig.path_start[: n + 1])
    path_keys, starts = fig.path_keys.tolist(), fig.path_start[: n + 1].tolist()
    paths = [PATH_SEPARATOR.join([keys[k] for k in path_keys[starts[a] : starts[a + 1]]])
             for a in range(n)]  # fmt: skip
    participant, variant, session = names.sessions(seg.session[head])
    distinct_pages, edits, lostness, seq = (fig.distinct_pages[head], fig.path_edit_distance[head],
                                            fig.lostness[head], fig.seq[head])  # fmt: skip
    columns = {
        "study": [data.study.id] * n,
        "variant": variant,
        "participant": participant,
        "session": session,
        "task": names.tasks(seg.task[head]),
        "outcome": OUTCOME_NAME_OF[seg.outcome[head]].tolist(),
        "coded_by": CODED_BY_NAME_OF[seg.coded_by[head]].tolist(),
        "time_s": _nullable(time_s, np.isnan(time_s)),
        "clicks": fig.clicks[head].tolist(),
        "misclicks": fig.misclicks[head].tolist(),
        "rage_clicks": fig.rage_clicks[head].tolist(),
        "errors": _errors(fig)[head].tolist(),
        "moderator_errors": fig.moderator_errors[head].tolist(),
        "js_errors": fig.js_errors[head].tolist(),
        "invalid_inputs": fig.invalid_inputs[head].tolist(),
        "pages": pages.tolist(),
        "distinct_pages": distinct_pages.tolist(),
        "backtracks": (pages - distinct_pages).tolist(),
        "path_edit_distance": _nullable(edits, edits < 0, integer=True),
        "lostness": _nullable(lostness, np.isnan(lostness)),
        "direct": _nullable(fig.direct[head], ~kernels.navigated(seg.outcome[head])),
        "seq": _nullable(seq, np.isnan(seq), integer=True),
        "path": paths,
        "dead_clicks": fig.dead_clicks[head].tolist(),
    }
    return _rows(ATTEMPT_COLUMNS, columns)


def _time_s(seg: kernels.Segments) -> np.ndarray:
    """Each attempt's time on task in seconds (ms rounded), NaN where it has none."""
    return np.round((seg.t_end - seg.t_start) / 1000.0, 3)


def _errors(fig: kernels.Attempts) -> np.ndarray:
    """User errors per attempt: moderator-noted errors and invalid inputs."""
    return fig.moderator_errors + fig.invalid_inputs


def attempt_columns(
    data: StudyData, seg: kernels.Segments, fig: kernels.Attempts
) -> AttemptColumns:
    """The columns of the ``attempts`` table that the statistics read, straight from the arrays.

    Each holds exactly what :func:`attempt_rows`' column would, read back by
    :class:`~analyzer.metrics.attempts.AttemptColumns`: numbers as the same
    floats (an integer column through ``int``), None as absent.
    """
    time_s, seq = _time_s(seg), fig.seq
    whole_seq = np.where(np.isnan(seq), 0, seq).astype(np.int64).astype(np.float64)
    variant = data.events.session_variant[seg.session]
    columns = {
        "outcome": seg.outcome, "clicks": fig.clicks, "misclicks": fig.misclicks,
        "errors": _errors(fig), "direct": fig.direct, "time_s": _present(time_s),
        "lostness": _present(fig.lostness), "seq": Numbers(whole_seq, ~np.isnan(seq)),
    }  # fmt: skip
    ids = {
        "task": (seg.task, [*data.tasks, None]), "variant": (variant, data.variants),
        "session": (seg.session, data.numbers.tolist()),
        "participant": (data.session_participant[seg.session], data.participants),
    }  # fmt: skip
    return AttemptColumns.of_arrays(len(seg.session), columns, ids)


def _present(values: np.ndarray) -> Numbers:
    missing = np.isnan(values)
    return Numbers(np.where(missing, 0.0, values).astype(np.float64), ~missing)


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
    participant, variant, number = names.sessions(s)
    columns = (participant, variant, names.tasks(task), t_s.tolist(), kinds, texts, number)
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
                      flags.screen_key[positions], flags.misclick[positions], flags.rage[positions],
                      flags.dead[positions], flags.burst_start[positions])  # fmt: skip


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
