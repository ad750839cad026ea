"""The kernels' named inputs and results, and the checks of the wrappers' input.

:mod:`analyzer.kernels.jit` holds the jitted kernels and the public wrappers
that call them. A wrapper checks its input with the functions here
(``ValueError`` naming the field), calls its kernels and returns one of the
named structures below. :mod:`analyzer.kernels.jit` re-exports every public name
of this module, so callers keep writing ``kernels.Events``,
``kernels.SUCCESS`` and so on.
"""

from __future__ import annotations

from typing import NamedTuple, TypeVar

import numpy as np

from analyzer.numbers import plural
from recorder.wire import schema

# Outcome codes: the stored ones (recorder.wire.schema.OUTCOMES) and UNCODED for an attempt
# nobody ended and no criterion met. The one set of the analyzer: the kernels, the attempt
# columns and the tables all hold these.
UNCODED = 0
SUCCESS = schema.OUTCOMES["success"]
ABANDONED = schema.OUTCOMES["abandoned"]
SKIPPED = schema.OUTCOMES["skipped"]
OUTCOME_CODES = {**schema.OUTCOMES, "uncoded": UNCODED}  # outcome word -> code
OUTCOME_NAMES = {code: word for word, code in OUTCOME_CODES.items()}  # code -> outcome word
# (recorder.wire.schema.OUTCOME_NAMES is the same without "uncoded"; the report says
# outcomes in its own words, analyzer.report.sections.OUTCOME_WORDS)
# Other codes in the structures' columns.
BY_NONE, BY_MODERATOR, BY_CRITERIA = 0, 1, 2  # coded_by codes
CRIT_NONE, CRIT_URL, CRIT_CLICK, CRIT_EVENT = 0, 1, 2, 3  # success criterion kinds
# Analysis-only event type codes (never stored; recorder.wire.schema's codes stay below 30): the
# loader gives them to clicks the page's script fired and to pages shown inside a child
# frame, so that no rule counts them as the participant's clicks or as steps of a path.
SYNTHETIC_CLICK, FRAME_PAGE = 41, 42


class Events(NamedTuple):
    """A study's events as the kernels see them, sorted by session then corrected time."""

    session_start: np.ndarray  # int64[n_sessions + 1]: CSR offsets into the columns below
    session_variant: np.ndarray  # int32[n_sessions]: variant index of each session
    t: np.ndarray  # float64: corrected time, epoch ms
    type: np.ndarray  # int8: recorder.wire.schema event type code
    key: np.ndarray  # int32: page key id of page events and of clicks inside a frame, -1 otherwise
    target: np.ndarray  # int32: interned selector id, -1
    label: np.ndarray  # int32: interned label id (custom event name, marker text), -1
    task: np.ndarray  # int32: task index, -1
    outcome: np.ndarray  # int8: task_end outcome code, 0
    kind: np.ndarray  # int8: marker kind / rating item code, 0
    interactive: np.ndarray  # int8: clicks: 1 or 0; -1 otherwise
    x: np.ndarray  # float32: click page coordinates
    y: np.ndarray  # float32
    value: np.ndarray  # float64: rating value (NaN when none)


class TaskRules(NamedTuple):
    """Per task: its success criterion and its expected path (page key ids)."""

    criterion: np.ndarray  # int8[n_tasks]: CRIT_* code
    criterion_id: np.ndarray  # int32[n_tasks]: selector id (click) or label id (event), -1
    url_match: np.ndarray  # bool[n_tasks, n_keys]: page keys meeting a url criterion
    expected_start: np.ndarray  # int64[n_tasks + 1]: CSR offsets into expected_keys
    expected_keys: np.ndarray  # int32


class ClickFlags(NamedTuple):
    """Per event: click rules and the page on screen."""

    misclick: np.ndarray  # bool: a misclick (1 s rule)
    rage: np.ndarray  # bool: a click inside a rage-click burst
    burst_start: np.ndarray  # bool: the first click of a burst (a burst counts once)
    screen_key: (
        np.ndarray
    )  # int32: key of the last page event at or before the event (a frame's click: its frame's), -1
    dead: np.ndarray  # bool: a click with no page and no reaction event after it within dead_ms


class Segments(NamedTuple):
    """Attempts as segmented: one row per ``task_start``, by session then start."""

    session: np.ndarray  # int32
    task: np.ndarray  # int32
    start_pos: np.ndarray  # int64: position of the task_start event
    end_pos: np.ndarray  # int64: position of the last event inside (its end)
    t_start: np.ndarray  # float64
    t_end: np.ndarray  # float64: NaN when the attempt has no time
    window_end: np.ndarray  # float64: time of the event that closed the attempt's window
    outcome: np.ndarray  # int8: outcome code (OUTCOME_CODES)
    coded_by: np.ndarray  # int8: BY_* code
    screen_key: np.ndarray  # int32: page on screen at task_start, -1


class Attempts(NamedTuple):
    """Per-attempt figures (aligned with :class:`Segments`) and the paths."""

    clicks: np.ndarray  # int32
    misclicks: np.ndarray  # int32
    rage_clicks: np.ndarray  # int32
    moderator_errors: np.ndarray  # int32
    invalid_inputs: np.ndarray  # int32
    js_errors: np.ndarray  # int32
    seq: np.ndarray  # float64, NaN
    path_start: np.ndarray  # int64[n_attempts + 1]: CSR offsets into path_keys
    path_keys: np.ndarray  # int32
    distinct_pages: np.ndarray  # int32
    path_edit_distance: np.ndarray  # int32, -1 where the task has no expected path
    lostness: np.ndarray  # float64, NaN where undefined
    direct: np.ndarray  # bool
    event_attempt: np.ndarray  # int32[n_events]: the attempt an event belongs to, -1
    dead_clicks: np.ndarray  # int32


class Transitions(NamedTuple):
    """Page-to-page transition counts per task x variant (for path diagrams)."""

    task: np.ndarray  # int32
    variant: np.ndarray  # int32
    source: np.ndarray  # int32 page key
    target: np.ndarray  # int32 page key
    n: np.ndarray  # int64: how many times


class GroupMedians(NamedTuple):
    """Median of the finite values of each group code."""

    code: np.ndarray  # int64
    n: np.ndarray  # int64: finite values in the group
    median: np.ndarray  # float64


# -- input checks --------------------------------------------------------------------------

EVENT_DTYPES = {"t": np.float64, "type": np.int8, "key": np.int32, "target": np.int32,
                "label": np.int32, "task": np.int32, "outcome": np.int8, "kind": np.int8,
                "interactive": np.int8, "x": np.float32, "y": np.float32, "value": np.float64}  # fmt: skip


def checked_column(
    values: object, dtype: type | np.dtype, name: str, length: int | None = None
) -> np.ndarray:
    """A contiguous read-only 1-D array of ``dtype`` (read-only: one compiled variant)."""
    try:
        col = np.ascontiguousarray(values, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: cannot be read as {np.dtype(dtype).name} ({exc})") from None
    if col.ndim != 1:
        raise ValueError(f"{name}: must be one-dimensional, got shape {col.shape}")
    if length is not None and len(col) != length:
        raise ValueError(f"{name}: has {plural(len(col), 'entry')}, expected {length}")
    if col.flags.writeable:
        col = col.view()
        col.flags.writeable = False
    return col


def checked_offsets(
    values: object, total: int | None, name: str, length: int | None = None
) -> np.ndarray:
    """CSR offsets: a checked int64 column from 0, never decreasing, ending at ``total``."""
    offsets = checked_column(values, np.int64, name, length)
    if len(offsets) == 0 or offsets[0] != 0 or (np.diff(offsets) < 0).any():
        raise ValueError(f"{name}: CSR offsets must start at 0 and never decrease")
    if total is not None and offsets[-1] != total:
        raise ValueError(f"{name}: must end at {total} (the number of rows), ends at {offsets[-1]}")
    return offsets


R = TypeVar("R", "Segments", "ClickFlags")


def checked_rows(rows: R, length: int, name: str) -> R:
    """Each column of a per-row structure (segments, flags) checked to ``length`` entries."""
    return type(rows)(*(checked_column(col, np.asarray(col).dtype, f"{name}.{field}", length)
                        for field, col in zip(rows._fields, rows, strict=True)))  # fmt: skip


def event_columns(events: Events) -> Events:
    """The columns of ``events`` as checked read-only arrays (no scan of their values)."""
    n = len(np.asarray(events.t))
    cols = {
        name: checked_column(getattr(events, name), dtype, name, n)
        for name, dtype in EVENT_DTYPES.items()
    }
    start = checked_offsets(events.session_start, n, "session_start")
    variant = checked_column(events.session_variant, np.int32, "session_variant", len(start) - 1)
    if len(variant) and variant.min() < 0:
        raise ValueError("session_variant: variant indexes must be >= 0")
    return Events(session_start=start, session_variant=variant, **cols)


def checked_rules(rules: TaskRules, top_key: int, top_task: int) -> TaskRules:
    """``rules`` checked against events whose largest page key and task index are given."""
    criterion = checked_column(rules.criterion, np.int8, "criterion")
    n_tasks = len(criterion)
    url_match = np.ascontiguousarray(rules.url_match, dtype=np.bool_)
    if url_match.ndim != 2 or url_match.shape[0] != n_tasks:
        raise ValueError(f"url_match: must have shape (n_tasks={n_tasks}, n_keys)")
    n_keys = url_match.shape[1]
    expected_start = checked_offsets(rules.expected_start, None, "expected_start", n_tasks + 1)
    expected_keys = checked_column(rules.expected_keys, np.int32, "expected_keys",
                                   int(expected_start[-1]))  # fmt: skip
    tops = (("expected_keys", expected_keys.max(initial=-1), n_keys), ("key", top_key, n_keys),
            ("task", top_task, n_tasks))  # fmt: skip
    for name, top, limit in tops:
        if top >= limit:
            raise ValueError(f"{name}: values must be below {limit}")
    if len(expected_keys) and expected_keys.min() < 0:
        raise ValueError("expected_keys: page key ids must be >= 0")
    return TaskRules(criterion, checked_column(rules.criterion_id, np.int32, "criterion_id", n_tasks),
                     url_match, expected_start, expected_keys)  # fmt: skip


def order_input(session: np.ndarray, n_sessions: int, t: np.ndarray, load: np.ndarray,
                seq: np.ndarray) -> tuple[np.ndarray, ...]:  # fmt: skip
    """The checked input of ``order_events``: session, t, load and seq columns."""
    session = checked_column(session, np.int64, "session")
    n = len(session)
    t, load, seq = (
        checked_column(t, np.float64, "t", n),
        checked_column(load, np.int32, "load", n),  # as the loader keeps them: no copy
        checked_column(seq, np.int32, "seq", n),
    )
    if n and (session.min() < 0 or session.max() >= n_sessions):
        raise ValueError(f"session: indexes must lie in 0..{n_sessions - 1}")
    if not np.isfinite(t).all():
        raise ValueError("t: times must be finite")
    return session, t, load, seq


def page_key_input(session_start: np.ndarray, session_variant: np.ndarray, type_: np.ndarray,
                   page: np.ndarray, lut: np.ndarray) -> tuple[np.ndarray, ...]:  # fmt: skip
    """The checked input of ``page_keys``, in its order."""
    session_start = checked_offsets(session_start, len(type_), "session_start")
    session_variant = checked_column(session_variant, np.int32, "session_variant",
                                     len(session_start) - 1)  # fmt: skip
    lut = np.ascontiguousarray(lut, dtype=np.int32)
    if lut.ndim != 2 or (len(session_variant) and session_variant.max() >= lut.shape[0]):
        raise ValueError("lut: must be 2-D with a row for every variant")
    return (session_start, session_variant, checked_column(type_, np.int8, "type"),
            checked_column(page, np.int32, "page", len(type_)), lut)  # fmt: skip


def transition_input(path_start: np.ndarray, path_keys: np.ndarray, task: np.ndarray,
                     variant: np.ndarray, n_tasks: int, n_variants: int,
                     n_keys: int) -> tuple[np.ndarray, ...]:  # fmt: skip
    """The checked input of ``transition_counts``: path_start, path_keys, task, variant."""
    task = checked_column(task, np.int32, "task")
    variant = checked_column(variant, np.int32, "variant", len(task))
    path_start = checked_offsets(path_start, None, "path_start", len(task) + 1)
    path_keys = checked_column(path_keys, np.int32, "path_keys", int(path_start[-1]))
    for name, col, top in (
        ("task", task, n_tasks),
        ("variant", variant, n_variants),
        ("path_keys", path_keys, n_keys),
    ):
        if len(col) and (col.min() < 0 or col.max() >= top):
            raise ValueError(f"{name}: values must lie in 0..{top - 1}")
    if n_tasks * n_variants * n_keys * n_keys >= 2**62:
        raise ValueError("n_keys: too many distinct pages for transition codes")
    return path_start, path_keys, task, variant
