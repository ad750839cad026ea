"""Jitted kernels over a study's event columns, and the checked wrappers that call them.

Every ``_kernel`` here is an ``@njit(cache=True)`` function over flat numpy
arrays: events sorted by session then corrected time, sessions as CSR
offsets (``session_start[s]:session_start[s + 1]``), no Python objects, no
exceptions. Each public wrapper checks its input (``ValueError`` naming the
field), calls the kernels and returns a named structure; the structures, the
codes in them and the input checks live in :mod:`analyzer.kernels.structures` and
are importable from here too (``kernels.Events``, ``kernels.SUCCESS``). Every
wrapper has a plain-Python twin in ``tests/naive.py``.

Rules chosen where the metric definitions (README, "Metrics") are silent (the twins follow them too):

* **Attempts.** Each ``task_start`` opens one attempt and closes the attempt
  still open, if any (a participant does one task at a time): starting a
  task twice is a restart. A ``task_end`` of the open attempt's task ends it
  (``coded_by = moderator``). Any other ``task_end`` re-codes the latest
  attempt of its task in the session, if there is one, without moving its
  end (a moderator's late or corrected word wins: a task ended twice keeps
  the first end's time and the second end's outcome); a ``task_end`` for a
  task never started is ignored.
* An attempt closed without a moderator's end ends at the first event inside
  it that meets the task's success criteria (success, ``coded_by =
  criteria``), else it is ``uncoded`` with no time (``t_end`` NaN) and spans
  the events up to the next ``task_start`` or the session's last event.
  A late ``task_end`` gives such an attempt the time up to that point.
* Events inside an attempt are those after its ``task_start`` up to and
  including its end. Markers and ratings that name a task belong to the
  latest attempt of that task started before them, wherever they fall;
  the last SEQ rating wins.
* **Path.** The page on screen at ``task_start`` and then every ``page``
  event inside; a page event repeating the key just before it (a reload,
  a query-string change) is not a new entry. ``backtracks`` is therefore
  ``pages - distinct_pages``.
"""

from __future__ import annotations

import weakref

import numpy as np
from numba import njit, prange

from analyzer.config import DEFAULT_THRESHOLDS, NUMBA_OPTIONS, PARALLEL_OPTIONS, Thresholds
from analyzer.kernels.structures import (
    BY_CRITERIA,
    BY_MODERATOR,
    BY_NONE,
    CRIT_CLICK,
    CRIT_EVENT,
    CRIT_URL,
    SKIPPED,
    SUCCESS,
    UNCODED,
    Attempts,
    ClickFlags,
    Events,
    GroupMedians,
    Segments,
    TaskRules,
    Transitions,
    checked_column,
    checked_rows,
    checked_rules,
    event_columns,
    order_input,
    page_key_input,
    transition_input,
)
from analyzer.kernels.structures import CRIT_NONE as CRIT_NONE  # re-exported, as the structures are
from analyzer.kernels.structures import EVENT_DTYPES as EVENT_DTYPES
from analyzer.kernels.structures import FRAME_PAGE as FRAME_PAGE
from analyzer.kernels.structures import OUTCOME_CODES as OUTCOME_CODES
from analyzer.kernels.structures import OUTCOME_NAMES as OUTCOME_NAMES
from analyzer.kernels.structures import SYNTHETIC_CLICK as SYNTHETIC_CLICK
from recorder.wire import schema

PAGE, CLICK, INVALID, ERROR, CUSTOM, REACTION = (schema.PAGE, schema.CLICK, schema.INVALID,
                                                 schema.ERROR, schema.CUSTOM, schema.REACTION)  # fmt: skip
TASK_START, TASK_END, MARKER, RATING = (schema.TASK_START, schema.TASK_END, schema.MARKER,
                                        schema.RATING)  # fmt: skip
ERROR_MARKER = schema.MARKER_KINDS["error"]
SEQ_ITEM = schema.RATING_ITEMS["SEQ"]


# -- event order ---------------------------------------------------------------------------


@njit(**NUMBA_OPTIONS)
def _before(a: int, b: int, t: np.ndarray, load: np.ndarray, seq: np.ndarray) -> bool:
    if t[a] != t[b]:
        return t[a] < t[b]
    if load[a] != load[b]:
        return load[a] < load[b]
    return seq[a] < seq[b]


@njit(**NUMBA_OPTIONS)
def _merge_sort(
    idx: np.ndarray, buf: np.ndarray, t: np.ndarray, load: np.ndarray, seq: np.ndarray
) -> None:
    # Bottom-up and stable; an already ordered pair of runs costs one comparison,
    # so the usual nearly sorted session costs O(n).
    n = len(idx)
    width = 1
    while width < n:
        for lo in range(0, n - width, 2 * width):
            mid, hi = lo + width, min(lo + 2 * width, n)
            if not _before(idx[mid], idx[mid - 1], t, load, seq):
                continue
            buf[lo:hi] = idx[lo:hi]
            i, j, k = lo, mid, lo
            while i < mid and j < hi:
                if _before(buf[j], buf[i], t, load, seq):
                    idx[k] = buf[j]
                    j += 1
                else:
                    idx[k] = buf[i]
                    i += 1
                k += 1
            idx[k : k + mid - i] = buf[i:mid]
            k += mid - i
            idx[k : k + hi - j] = buf[j:hi]
        width *= 2


@njit(**PARALLEL_OPTIONS)
def _order_events(session: np.ndarray, n_sessions: int, t: np.ndarray, load: np.ndarray,
                  seq: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    counts = np.zeros(n_sessions + 1, np.int64)
    for i in range(len(session)):
        counts[session[i] + 1] += 1
    start = np.cumsum(counts)
    fill = start[:-1].copy()
    order = np.empty(len(session), np.int64)
    for i in range(len(session)):
        order[fill[session[i]]] = i
        fill[session[i]] += 1
    for s in prange(n_sessions):
        part = order[start[s] : start[s + 1]]
        _merge_sort(part, np.empty_like(part), t, load, seq)
    return order, start


def order_events(session: np.ndarray, n_sessions: int, t: np.ndarray, load: np.ndarray,
                 seq: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """The order of events by session, then time, page load and seq.

    Parameters
    ----------
    session : int array of session indexes in ``0..n_sessions-1``, one per event
    n_sessions : number of sessions
    t, load, seq : corrected time (ms), page-load id and seq of each event

    Returns
    -------
    (order, session_start): the permutation that sorts the events, and the
    CSR offsets of each session in the sorted order.
    """
    session, t, load, seq = order_input(session, n_sessions, t, load, seq)
    return _order_events(session, int(n_sessions), t, load, seq)


# -- page keys -----------------------------------------------------------------------------


@njit(**PARALLEL_OPTIONS)
def _page_keys(session_start: np.ndarray, session_variant: np.ndarray, type_: np.ndarray,
               page: np.ndarray, lut: np.ndarray) -> np.ndarray:  # fmt: skip
    key = np.full(len(type_), -1, np.int32)
    for s in prange(len(session_start) - 1):
        v = session_variant[s]
        for i in range(session_start[s], session_start[s + 1]):
            if (type_[i] == PAGE or type_[i] == CLICK) and 0 <= page[i] < lut.shape[1]:
                key[i] = lut[v, page[i]]
    return key


def page_keys(session_start: np.ndarray, session_variant: np.ndarray, type_: np.ndarray,
              page: np.ndarray, lut: np.ndarray) -> np.ndarray:  # fmt: skip
    """The page key id of every page event and of every click inside a frame (-1 for others).

    ``lut[v, page_id]`` is the key id of a page URL id in variant ``v``
    (keys are relative to the variant's URL, so they depend on it).
    """
    return _page_keys(*page_key_input(session_start, session_variant, type_, page, lut))


# -- click rules ---------------------------------------------------------------------------


@njit(**PARALLEL_OPTIONS)
def _click_flags(session_start: np.ndarray, t: np.ndarray, type_: np.ndarray, key: np.ndarray,
                 interactive: np.ndarray, x: np.ndarray, y: np.ndarray, misclick_ms: float,
                 rage_ms: float, rage_px: float, rage_min: int, dead_ms: float) -> tuple[np.ndarray, ...]:  # fmt: skip
    n = len(t)
    misclick, rage, dead = np.zeros(n, np.bool_), np.zeros(n, np.bool_), np.zeros(n, np.bool_)
    burst_start, screen = np.zeros(n, np.bool_), np.full(n, -1, np.int32)
    px2 = rage_px * rage_px
    for s in prange(len(session_start) - 1):
        lo, hi = session_start[s], session_start[s + 1]
        next_page, next_reaction = np.inf, np.inf
        for i in range(hi - 1, lo - 1, -1):
            if type_[i] == PAGE:
                next_page = t[i]
                next_reaction = t[i]
            elif type_[i] == REACTION:
                next_reaction = t[i]
            elif type_[i] == CLICK:
                dead[i] = not (next_reaction - t[i] <= dead_ms)
                if interactive[i] == 0:
                    misclick[i] = not (next_page - t[i] <= misclick_ms)
        current, prev, first, run = -1, -1, -1, 0
        for i in range(lo, hi):
            if type_[i] == PAGE:
                current = key[i]
            screen[i] = key[i] if type_[i] == CLICK and key[i] >= 0 else current
            if type_[i] != CLICK:
                continue
            if prev >= 0 and _near(prev, i, t, x, y, rage_ms, px2):
                run += 1
            else:
                _mark_burst(first, prev, run >= rage_min, type_, rage, burst_start)
                first, run = i, 1
            prev = i
        _mark_burst(first, prev, run >= rage_min, type_, rage, burst_start)
    return misclick, rage, burst_start, screen, dead


@njit(**NUMBA_OPTIONS)
def _near(
    a: int, b: int, t: np.ndarray, x: np.ndarray, y: np.ndarray, ms: float, px2: float
) -> bool:
    """Click b within ``ms`` and sqrt(px2) pixels of click a (both limits inclusive)."""
    dx, dy = np.float64(x[b]) - x[a], np.float64(y[b]) - y[a]
    return t[b] - t[a] <= ms and dx * dx + dy * dy <= px2


@njit(**NUMBA_OPTIONS)
def _mark_burst(first: int, last: int, is_burst: bool, type_: np.ndarray, rage: np.ndarray,
                burst_start: np.ndarray) -> None:  # fmt: skip
    """Flag the clicks of a run first..last when it is a burst (counted at its first click)."""
    if is_burst:
        burst_start[first] = True
        for j in range(first, last + 1):
            rage[j] = type_[j] == CLICK


def click_flags(events: Events, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> ClickFlags:
    """Misclicks, rage-click bursts and the page on screen, per event.

    A misclick is a click with ``interactive = false`` not followed by a
    ``page`` event within ``misclick_ms``; a burst is a run of at least
    ``rage_min`` clicks, each within ``rage_ms`` and ``rage_px`` of the click
    before it (other events between clicks do not break a run). A dead click
    has no ``page`` and no ``reaction`` event within ``dead_ms`` after it. A
    click inside a frame (its ``key`` set) is on its frame's page.
    """
    ev = check_events(events)
    out = _click_flags(ev.session_start, ev.t, ev.type, ev.key, ev.interactive, ev.x, ev.y,
                       float(thresholds.misclick_ms), float(thresholds.rage_ms),
                       float(thresholds.rage_px), int(thresholds.rage_min),
                       float(thresholds.dead_ms))  # fmt: skip
    return ClickFlags(*out)


# -- attempts ------------------------------------------------------------------------------


@njit(**NUMBA_OPTIONS)
def _meets(i: int, task: int, type_: np.ndarray, key: np.ndarray, target: np.ndarray,
           label: np.ndarray, criterion: np.ndarray, criterion_id: np.ndarray,
           url_match: np.ndarray) -> bool:  # fmt: skip
    c = criterion[task]
    if c == CRIT_URL:
        return type_[i] == PAGE and key[i] >= 0 and url_match[task, key[i]]
    if c == CRIT_CLICK:
        return type_[i] == CLICK and criterion_id[task] >= 0 and target[i] == criterion_id[task]
    if c == CRIT_EVENT:
        return type_[i] == CUSTOM and criterion_id[task] >= 0 and label[i] == criterion_id[task]
    return False


@njit(**PARALLEL_OPTIONS)
def _count_starts(session_start: np.ndarray, type_: np.ndarray,
                  task: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    # Per session: CSR offsets of its attempts (one per task_start) and of room for
    # their paths (a path holds at most its screen page and the page events inside).
    ns = len(session_start) - 1
    starts, pages = np.zeros(ns + 1, np.int64), np.zeros(ns + 1, np.int64)
    for s in prange(ns):
        for i in range(session_start[s], session_start[s + 1]):
            if type_[i] == TASK_START and task[i] >= 0:
                starts[s + 1] += 1
            elif type_[i] == PAGE:
                pages[s + 1] += 1
    return np.cumsum(starts), np.cumsum(starts + pages)


@njit(**NUMBA_OPTIONS)
def _close(a: int, crit: int, end_excl: int, closing_t: float, t: np.ndarray,
           seg: tuple[np.ndarray, ...]) -> None:  # fmt: skip
    # The window of an attempt no moderator ended: up to the next task_start (or the
    # session's last event); the first event meeting the criteria cuts it short.
    end_pos, t_end, window_end, outcome, coded_by = seg
    window_end[a] = closing_t
    if crit >= 0:
        end_pos[a], t_end[a], outcome[a], coded_by[a] = crit, t[crit], SUCCESS, BY_CRITERIA
    else:
        end_pos[a], t_end[a], outcome[a], coded_by[a] = end_excl - 1, np.nan, UNCODED, BY_NONE


@njit(**PARALLEL_OPTIONS)
def _segment(session_start: np.ndarray, first: np.ndarray, n_tasks: int, t: np.ndarray,
             type_: np.ndarray, key: np.ndarray, target: np.ndarray, label: np.ndarray,
             task: np.ndarray, outcome_: np.ndarray, criterion: np.ndarray,
             criterion_id: np.ndarray, url_match: np.ndarray) -> tuple[np.ndarray, ...]:  # fmt: skip
    na = first[-1]
    session, a_task = np.empty(na, np.int32), np.empty(na, np.int32)
    start_pos, end_pos = np.empty(na, np.int64), np.empty(na, np.int64)
    t_start, t_end, window_end = np.empty(na), np.empty(na), np.empty(na)
    outcome, coded_by = np.zeros(na, np.int8), np.zeros(na, np.int8)
    screen = np.empty(na, np.int32)
    seg = (end_pos, t_end, window_end, outcome, coded_by)
    for s in prange(len(session_start) - 1):
        lo, hi = session_start[s], session_start[s + 1]
        latest = np.full(n_tasks, -1, np.int64)
        k, open_, crit, current = first[s], -1, -1, -1
        for i in range(lo, hi):
            ty = type_[i]
            if open_ >= 0 and crit < 0 and _meets(i, a_task[open_], type_, key, target, label,
                                                 criterion, criterion_id, url_match):  # fmt: skip
                crit = i
            if ty == PAGE:
                current = key[i]
            elif ty == TASK_START and task[i] >= 0:
                if open_ >= 0:
                    _close(open_, crit, i, t[i], t, seg)
                open_, crit, k = k, -1, k + 1
                session[open_], a_task[open_], start_pos[open_] = s, task[i], i
                t_start[open_], screen[open_] = t[i], current
                latest[task[i]] = open_
            elif ty == TASK_END and task[i] >= 0:
                if open_ >= 0 and a_task[open_] == task[i]:
                    end_pos[open_], t_end[open_], window_end[open_] = i, t[i], t[i]
                    outcome[open_], coded_by[open_], open_ = outcome_[i], BY_MODERATOR, -1
                elif latest[task[i]] >= 0:
                    a = latest[task[i]]
                    outcome[a], coded_by[a] = outcome_[i], BY_MODERATOR
                    if np.isnan(t_end[a]):
                        t_end[a] = window_end[a]
        if open_ >= 0:
            _close(open_, crit, hi, t[hi - 1], t, seg)
    return (
        session,
        a_task,
        start_pos,
        end_pos,
        t_start,
        t_end,
        window_end,
        outcome,
        coded_by,
        screen,
    )


def segment_attempts(events: Events, rules: TaskRules) -> Segments:
    """Cut each session into attempts (see the module docstring for the rules).

    Parameters
    ----------
    events : the study's events (:class:`Events`)
    rules : the tasks' success criteria and expected paths (:class:`TaskRules`)

    Returns
    -------
    :class:`Segments`, one row per ``task_start``, by session then start.
    """
    ev, rules = check_events(events), check_rules(rules, events)
    first, _ = _count_starts(ev.session_start, ev.type, ev.task)
    out = _segment(ev.session_start, first, len(rules.criterion), ev.t, ev.type, ev.key,
                   ev.target, ev.label, ev.task, ev.outcome, rules.criterion,
                   rules.criterion_id, rules.url_match)  # fmt: skip
    return Segments(*out)


# -- per-attempt figures -------------------------------------------------------------------


@njit(**NUMBA_OPTIONS)
def _names_task(type_code: int, task: int) -> bool:
    """A marker or rating that names its task."""
    return (type_code == MARKER or type_code == RATING) and task >= 0  # noqa: SIM109 (numba)


@njit(**PARALLEL_OPTIONS)
def _attempt_counts(session_start: np.ndarray, first: np.ndarray, room: np.ndarray,
                    start_pos: np.ndarray, end_pos: np.ndarray, a_task: np.ndarray,
                    screen_key: np.ndarray, type_: np.ndarray, key: np.ndarray,
                    task: np.ndarray, kind: np.ndarray, value: np.ndarray,
                    misclick: np.ndarray, burst_start: np.ndarray,
                    dead: np.ndarray) -> tuple[np.ndarray, ...]:  # fmt: skip
    na = len(start_pos)
    counts = np.zeros(
        (7, na), np.int32
    )  # clicks, misclicks, rage, moderator errors, invalid, js, dead
    seq = np.full(na, np.nan)
    path_at, path_len = np.zeros(na, np.int64), np.zeros(na, np.int32)
    buf = np.empty(room[-1], np.int32)
    event_attempt = np.full(len(type_), -1, np.int32)
    for s in prange(len(session_start) - 1):
        p = room[s]
        for a in range(first[s], first[s + 1]):
            path_at[a], last = p, screen_key[a]
            if last >= 0:
                buf[p] = last
                p += 1
            event_attempt[start_pos[a]] = a
            for i in range(start_pos[a] + 1, end_pos[a] + 1):
                ty = type_[i]
                if _names_task(ty, task[i]):
                    continue  # belongs to the latest attempt of its task (below)
                event_attempt[i] = a
                if ty == CLICK:
                    counts[0, a] += 1
                    counts[1, a] += misclick[i]
                    counts[2, a] += burst_start[i]
                    counts[6, a] += dead[i]
                elif ty == MARKER and kind[i] == ERROR_MARKER:
                    counts[3, a] += 1
                elif ty == INVALID:
                    counts[4, a] += 1
                elif ty == ERROR:
                    counts[5, a] += 1
                elif ty == PAGE and key[i] >= 0 and key[i] != last:
                    buf[p], last = key[i], key[i]
                    p += 1
            path_len[a] = p - path_at[a]
        for i in range(session_start[s], session_start[s + 1]):
            if not _names_task(type_[i], task[i]):
                continue
            a = first[s + 1] - 1
            while a >= first[s] and (a_task[a] != task[i] or start_pos[a] >= i):
                a -= 1
            if a < first[s]:
                continue
            event_attempt[i] = a
            if type_[i] == MARKER and kind[i] == ERROR_MARKER:
                counts[3, a] += 1
            elif type_[i] == RATING and kind[i] == SEQ_ITEM:
                seq[a] = value[i]
    return counts, seq, path_at, path_len, buf, event_attempt


@njit(**NUMBA_OPTIONS)
def _compact(
    path_at: np.ndarray, path_len: np.ndarray, buf: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    start = np.zeros(len(path_at) + 1, np.int64)
    start[1:] = np.cumsum(path_len)
    keys = np.empty(start[-1], np.int32)
    for a in range(len(path_at)):
        keys[start[a] : start[a + 1]] = buf[path_at[a] : path_at[a] + path_len[a]]
    return start, keys


@njit(**NUMBA_OPTIONS)
def _levenshtein(a: np.ndarray, b: np.ndarray) -> int:
    prev = np.arange(len(b) + 1)
    row = np.empty(len(b) + 1, np.int64)
    for i in range(1, len(a) + 1):
        row[0] = i
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + cost)
        prev, row = row, prev
    return int(prev[len(b)])


@njit(**NUMBA_OPTIONS)
def _reference_lengths(path_start: np.ndarray, a_task: np.ndarray, a_variant: np.ndarray,
                       outcome: np.ndarray, expected_start: np.ndarray,
                       n_variants: int) -> np.ndarray:  # fmt: skip
    # R of lostness per task x variant: the expected path's length, or else the
    # shortest path among the successful attempts of that task in that variant.
    n_tasks = len(expected_start) - 1
    ref = np.full((n_tasks, n_variants), -1, np.int64)
    for a in range(len(a_task)):
        length = path_start[a + 1] - path_start[a]
        r = ref[a_task[a], a_variant[a]]
        if outcome[a] == SUCCESS and length > 0 and (r < 0 or length < r):
            ref[a_task[a], a_variant[a]] = length
    for k in range(n_tasks):
        if expected_start[k + 1] > expected_start[k]:
            ref[k, :] = expected_start[k + 1] - expected_start[k]
    return ref


@njit(**NUMBA_OPTIONS)
def _navigated(outcome: int) -> bool:
    # Path figures describe navigation toward the task's goal: a skipped attempt
    # (the participant never tried) and an uncoded one (its end is unknown) have
    # none. Abandoned and failed attempts keep theirs: the participant did
    # navigate, and how lost they got is part of why they gave up.
    return outcome != SKIPPED and outcome != UNCODED


@njit(**PARALLEL_OPTIONS)
def _path_figures(path_start: np.ndarray, path_keys: np.ndarray, a_task: np.ndarray,
                  a_variant: np.ndarray, outcome: np.ndarray, expected_start: np.ndarray,
                  expected_keys: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, ...]:  # fmt: skip
    na = len(a_task)
    distinct, edit = np.zeros(na, np.int32), np.full(na, -1, np.int32)
    lostness, direct = np.full(na, np.nan), np.zeros(na, np.bool_)
    for a in prange(na):
        path = path_keys[path_start[a] : path_start[a + 1]]
        n_pages = len(path)
        ordered = np.sort(path)
        n = 0
        for j in range(n_pages):
            if j == 0 or ordered[j] != ordered[j - 1]:
                n += 1
        distinct[a] = n
        if not _navigated(outcome[a]):
            continue
        k = a_task[a]
        if expected_start[k + 1] > expected_start[k]:
            edit[a] = _levenshtein(path, expected_keys[expected_start[k] : expected_start[k + 1]])
        r = ref[k, a_variant[a]]
        if n_pages > 0 and r > 0:
            lostness[a] = np.sqrt((n / n_pages - 1.0) ** 2 + (r / n - 1.0) ** 2)
        direct[a] = outcome[a] == SUCCESS and n == n_pages
    return distinct, edit, lostness, direct


def attempt_metrics(
    events: Events, rules: TaskRules, segments: Segments, flags: ClickFlags
) -> Attempts:
    """Counts, SEQ, path and path figures of every attempt.

    Parameters
    ----------
    events : the study's events (:class:`Events`)
    rules : the tasks' criteria and expected paths (:class:`TaskRules`)
    segments : the attempts from :func:`segment_attempts` on the same events
    flags : :func:`click_flags` of the same events

    Returns
    -------
    :class:`Attempts`, aligned with ``segments``. Lostness uses R = the
    expected path's length, else the shortest successful path of the task
    in the same variant; it is NaN where no R exists or the path is empty.
    Lostness (NaN) and path edit distance (-1) are missing for skipped and
    uncoded attempts, which did not navigate toward the goal (or whose end
    is unknown); abandoned and failed attempts keep them (:func:`navigated`).
    """
    ev, rules = check_events(events), check_rules(rules, events)
    n, na = len(ev.t), len(segments.session)
    seg, fl = checked_rows(segments, na, "segments"), checked_rows(flags, n, "flags")
    first, room = _count_starts(ev.session_start, ev.type, ev.task)
    if first[-1] != na:
        raise ValueError("segments: do not come from these events (attempt count differs)")
    counts, seq, path_at, path_len, buf, event_attempt = _attempt_counts(
        ev.session_start, first, room, seg.start_pos, seg.end_pos, seg.task, seg.screen_key,
        ev.type, ev.key, ev.task, ev.kind, ev.value, fl.misclick, fl.burst_start, fl.dead)  # fmt: skip
    path_start, path_keys = _compact(path_at, path_len, buf)
    variant = ev.session_variant[seg.session]
    ref = _reference_lengths(path_start, seg.task, variant, seg.outcome, rules.expected_start,
                             int(ev.session_variant.max(initial=-1)) + 1)  # fmt: skip
    distinct, edit, lostness, direct = _path_figures(
        path_start, path_keys, seg.task, variant, seg.outcome, rules.expected_start,
        rules.expected_keys, ref)  # fmt: skip
    clicks, misclicks, rage, moderator_errors, invalid, js_errors, dead = counts
    return Attempts(clicks, misclicks, rage, moderator_errors, invalid, js_errors, seq, path_start,
                    path_keys, distinct, edit, lostness, direct, event_attempt, dead)  # fmt: skip


def navigated(outcome: np.ndarray) -> np.ndarray:
    """Which attempts have path figures: every outcome but skipped and uncoded."""
    return (outcome != SKIPPED) & (outcome != UNCODED)


def levenshtein(a: np.ndarray, b: np.ndarray) -> int:
    """Edit distance (insertions, deletions, substitutions) between two key sequences."""
    return int(_levenshtein(checked_column(a, np.int32, "a"), checked_column(b, np.int32, "b")))


# -- aggregates for diagrams and page speed ------------------------------------------------


@njit(**NUMBA_OPTIONS)
def _transitions(path_start: np.ndarray, path_keys: np.ndarray, task: np.ndarray,
                 variant: np.ndarray, n_variants: int, n_keys: int) -> tuple[np.ndarray, ...]:  # fmt: skip
    total = 0
    for a in range(len(task)):
        total += max(path_start[a + 1] - path_start[a] - 1, 0)
    codes = np.empty(total, np.int64)
    m = 0
    for a in range(len(task)):
        group = np.int64(task[a]) * n_variants + variant[a]
        for j in range(path_start[a] + 1, path_start[a + 1]):
            codes[m] = (group * n_keys + path_keys[j - 1]) * n_keys + path_keys[j]
            m += 1
    codes.sort()
    unique, count = np.empty(total, np.int64), np.zeros(total, np.int64)
    u = -1
    for j in range(total):
        if j == 0 or codes[j] != codes[j - 1]:
            u += 1
            unique[u] = codes[j]
        count[u] += 1
    unique, count = unique[: u + 1], count[: u + 1]
    target = unique % n_keys
    source = (unique // n_keys) % n_keys
    group = unique // n_keys // n_keys
    return ((group // n_variants).astype(np.int32), (group % n_variants).astype(np.int32),
            source.astype(np.int32), target.astype(np.int32), count)  # fmt: skip


def transition_counts(path_start: np.ndarray, path_keys: np.ndarray, task: np.ndarray,
                      variant: np.ndarray, n_tasks: int, n_variants: int, n_keys: int) -> Transitions:  # fmt: skip
    """How often each page key follows another in the attempts' paths, per task x variant.

    Rows come ordered by task, variant, source key, target key.
    """
    path_start, path_keys, task, variant = transition_input(
        path_start, path_keys, task, variant, n_tasks, n_variants, n_keys
    )
    return Transitions(
        *_transitions(path_start, path_keys, task, variant, int(n_variants), int(n_keys))
    )


@njit(**NUMBA_OPTIONS)
def _group_medians(
    codes: np.ndarray, values: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    order = np.argsort(codes, kind="mergesort")
    unique = np.empty(len(codes), np.int64)
    count = np.zeros(len(codes), np.int64)
    median = np.full(len(codes), np.nan)
    u, lo = 0, 0
    while lo < len(order):
        hi = lo
        while hi < len(order) and codes[order[hi]] == codes[order[lo]]:
            hi += 1
        group = values[order[lo:hi]]
        finite = group[np.isfinite(group)]
        unique[u], count[u] = codes[order[lo]], len(finite)
        if len(finite):
            median[u] = np.median(finite)
        u, lo = u + 1, hi
    return unique[:u], count[:u], median[:u]


def group_medians(codes: np.ndarray, values: np.ndarray) -> GroupMedians:
    """Median of the finite values per group code (NaN values are left out; groups by code)."""
    codes = checked_column(codes, np.int64, "codes")
    return GroupMedians(
        *_group_medians(codes, checked_column(values, np.float64, "values", len(codes)))
    )


# -- input checks --------------------------------------------------------------------------


@njit(**PARALLEL_OPTIONS)
def _scan(
    session_start: np.ndarray, t: np.ndarray, key: np.ndarray, task: np.ndarray
) -> np.ndarray:
    # One pass per session: [first session out of time order or -1, any non-finite time,
    # largest page key, largest task index].
    ns = len(session_start) - 1
    found = np.zeros((ns, 4), np.int64)
    for s in prange(ns):
        unsorted, nonfinite, top_key, top_task = 0, 0, -1, -1
        for i in range(session_start[s], session_start[s + 1]):
            nonfinite |= not np.isfinite(t[i])
            unsorted |= i > session_start[s] and t[i] < t[i - 1]
            top_key, top_task = max(top_key, key[i]), max(top_task, task[i])
        found[s, 0], found[s, 1], found[s, 2], found[s, 3] = unsorted, nonfinite, top_key, top_task
    out = np.array([-1, 0, -1, -1], np.int64)
    for s in range(ns - 1, -1, -1):
        if found[s, 0]:
            out[0] = s
    if ns:
        out[1], out[2], out[3] = found[:, 1].max(), found[:, 2].max(), found[:, 3].max()
    return out


# The columns last checked (weakly held), with their largest page key and task index: the
# wrappers of one analysis get the same read-only Events and check them once.
_CHECKED: list[tuple[list[weakref.ref[np.ndarray]], int, int]] = []


def check_events(events: Events) -> Events:
    """Check the columns of ``events`` and return them as contiguous read-only arrays."""
    return _checked(events)[0]


def _checked(events: Events) -> tuple[Events, int, int]:
    """Checked events, their largest page key and their largest task index."""
    if not isinstance(events, Events):
        raise ValueError("events: must be an analyzer.kernels.jit.Events")
    last = _CHECKED[:1]
    if last and all(ref() is column for ref, column in zip(last[0][0], events, strict=True)):
        return events, last[0][1], last[0][2]
    checked = event_columns(events)
    unsorted, nonfinite, top_key, top_task = _scan(
        checked.session_start, checked.t, checked.key, checked.task
    ).tolist()
    if nonfinite:
        raise ValueError("t: times must be finite")
    if unsorted >= 0:
        raise ValueError(f"t: session {unsorted} is not sorted by time (use order_events)")
    _CHECKED[:] = [([weakref.ref(column) for column in checked], top_key, top_task)]
    return checked, top_key, top_task


def check_rules(rules: TaskRules, events: Events) -> TaskRules:
    """Check ``rules`` against the events they will be applied to."""
    if not isinstance(rules, TaskRules):
        raise ValueError("rules: must be an analyzer.kernels.jit.TaskRules")
    _, top_key, top_task = _checked(events)
    return checked_rules(rules, top_key, top_task)
