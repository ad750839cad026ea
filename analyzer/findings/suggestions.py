"""Suggestions: candidate usability problems the recorded data already show.

Each detector groups moments by what they share (an element, a form field, a
wrong turn, a page) and keeps the groups that enough participants hit (the
thresholds are in :mod:`analyzer.config`). The ``suggestions`` table
(README, "Findings") lists them ranked by participants affected;
``evidence`` holds the moments ``{session, participant, t_s, text}`` that
accepting a suggestion turns into a finding's evidence. Kinds:

==============  ================================================================
``misclick``    the same element misclicked by >= 2 participants in a task
``rage_click``  rage clicks on an element
``invalid``     the same form field failing validation for >= 2 participants
``wrong_turn``  the same step off the task's expected path by >= 2 participants
``dead_end``    failed or abandoned attempts ending on the same page (>= 2)
``js_error``    JavaScript errors on a page during attempts
``slow_page``   a page whose median load time is >= 3 s
``low_success`` a task whose success interval lies below the benchmark (78%)
==============  ================================================================
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np

from analyzer import config
from analyzer.kernels import jit as kernels
from analyzer.load import StudyData
from analyzer.metrics.columns import TABLES as TABLE_COLUMNS
from recorder.wire import schema

SUGGESTION_COLUMNS = TABLE_COLUMNS["suggestions"]
MAX_MOMENTS = 20  # evidence moments kept per suggestion
GroupKey = tuple[
    str, str | None, str | None, str | None, str | None
]  # kind, task, variant, page, element


@dataclass(frozen=True)
class Inputs:
    """The analysis pieces the detectors read."""

    data: StudyData
    segments: kernels.Segments
    figures: kernels.Attempts
    flags: kernels.ClickFlags
    attempts: list[dict[str, Any]]
    tasks: list[dict[str, Any]]
    page_speed: list[dict[str, Any]]
    benchmark: float


class _Groups:
    """Moments grouped by what they share."""

    def __init__(self) -> None:
        self.moments: dict[GroupKey, list[dict[str, Any]]] = defaultdict(list)

    def add(self, key: GroupKey, session: int, participant: str, t_s: float, text: str) -> None:
        self.moments[key].append({"session": session,
                                  "participant": participant, "t_s": round(t_s, 3), "text": text})  # fmt: skip

    def rows(self, minimum: int) -> list[tuple[GroupKey, list[dict[str, Any]], list[str]]]:
        out = []
        for key, moments in self.moments.items():
            people = sorted({m["participant"] for m in moments})
            if len(people) >= minimum:
                out.append((key, _first_per_session(moments), people))
        return out


def _first_per_session(moments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: set[int] = set()
    out = []
    for m in sorted(moments, key=lambda m: (m["session"], m["t_s"])):
        if m["session"] not in seen:
            seen.add(m["session"])
            out.append(m)
    return out[:MAX_MOMENTS]


def suggestion_rows(inp: Inputs) -> list[dict[str, Any]]:
    """The ``suggestions`` table, ranked by participants affected (then kind and place)."""
    found = [*_clicks(inp), *_invalid(inp), *_paths(inp), *_js_errors(inp), *_slow_pages(inp),
             *_low_success(inp)]  # fmt: skip
    found.sort(key=rank)
    rows = []
    for number, (key, moments, people) in enumerate(found, 1):
        kind, task, variant, page, element = key
        rows.append(dict(zip(SUGGESTION_COLUMNS, (
            number, kind, task, variant, page, element, len(people), moments,
            _title(key), ", ".join(people)), strict=True)))  # fmt: skip
    return rows


def rank(found: tuple[GroupKey, list[dict[str, Any]], list[str]]) -> tuple[Any, ...]:
    """Most participants first; ties by kind and place (a missing task or page sorts first)."""
    key, _moments, people = found
    return (-len(people), *("" if part is None else part for part in key))


def _title(key: GroupKey) -> str:
    kind, task, _variant, page, element = key
    where = f" on {page}" if page else ""
    during = f" in {task}" if task else ""
    return {
        "misclick": f"Clicks on {element} do nothing{during}",
        "rage_click": f"Repeated clicks on {element}{where}",
        "invalid": f"Form field {element} fails validation{during}",
        "wrong_turn": f"Wrong turn {element}{during}",
        "dead_end": f"Attempts{during} fail or are abandoned{where}",
        "js_error": f"JavaScript errors{where}",
        "slow_page": f"Slow page{where}",
        "low_success": f"Low success{during}",
    }[kind]


# -- event-based detectors -------------------------------------------------------------------


def _session_of(data: StudyData, positions: np.ndarray) -> np.ndarray:
    return np.searchsorted(data.events.session_start, positions, side="right") - 1


def _where(
    inp: Inputs, positions: np.ndarray
) -> tuple[list[int], list[int], list[float], list[int]]:
    """Session index, task index (-1), seconds from session start and page on screen."""
    ev, seg, fig = inp.data.events, inp.segments, inp.figures
    s = _session_of(inp.data, positions)
    attempt = fig.event_attempt[positions]
    task = np.where(attempt >= 0, seg.task[np.maximum(attempt, 0)] if len(seg.task) else -1, -1)
    t_s = (ev.t[positions] - ev.t[ev.session_start[s]]) / 1000.0
    return s.tolist(), task.tolist(), t_s.tolist(), inp.flags.screen_key[positions].tolist()


def _names(inp: Inputs) -> tuple[list[str], list[int], list[str], list[str], list[str]]:
    d = inp.data
    participants = [d.participants[i] for i in d.session_participant.tolist()]
    variants = [d.variants[v] for v in d.events.session_variant.tolist()]
    return participants, d.numbers.tolist(), variants, d.tasks, d.keys


def _clicks(inp: Inputs) -> list[Any]:
    ev, flags = inp.data.events, inp.flags
    participants, sessions, _variants, tasks, keys = _names(inp)
    misclicks, rage = _Groups(), _Groups()
    for mask, groups, in_task in (
        ((ev.type == schema.CLICK) & flags.misclick, misclicks, True),
        ((ev.type == schema.CLICK) & flags.burst_start, rage, False),
    ):
        positions = np.flatnonzero(mask)
        targets = ev.target[positions].tolist()
        for s, k, t_s, key, target in zip(*_where(inp, positions), targets, strict=True):
            if in_task and k < 0:
                continue
            element = inp.data.targets.get(target, "?")
            page = keys[key] if key >= 0 else None
            task = tasks[k] if k >= 0 else None
            groups.add(("misclick" if in_task else "rage_click", task, None, None if in_task else page,
                        element), sessions[s], participants[s], t_s,
                       f"{'misclicked' if in_task else 'rage clicks on'} {element}")  # fmt: skip
    return [*misclicks.rows(config.SUGGEST_MIN_PARTICIPANTS),
            *rage.rows(config.SUGGEST_MIN_PARTICIPANTS_RAGE)]  # fmt: skip


def _invalid(inp: Inputs) -> list[Any]:
    ev = inp.data.events
    participants, sessions, _variants, tasks, _keys = _names(inp)
    groups = _Groups()
    positions = np.flatnonzero(ev.type == schema.INVALID)
    targets = ev.target[positions].tolist()
    for s, k, t_s, _key, target in zip(*_where(inp, positions), targets, strict=True):
        element = inp.data.targets.get(target, "?")
        groups.add(("invalid", tasks[k] if k >= 0 else None, None, None, element), sessions[s],
                   participants[s], t_s, f"{element} failed validation")  # fmt: skip
    return groups.rows(config.SUGGEST_MIN_PARTICIPANTS)


def _js_errors(inp: Inputs) -> list[Any]:
    ev = inp.data.events
    participants, sessions, _variants, _tasks, keys = _names(inp)
    groups = _Groups()
    positions = np.flatnonzero((ev.type == schema.ERROR) & (inp.figures.event_attempt >= 0))
    for s, _k, t_s, key in zip(*_where(inp, positions), strict=True):
        page = keys[key] if key >= 0 else None
        groups.add(("js_error", None, None, page, None), sessions[s], participants[s], t_s,
                   "JavaScript error")  # fmt: skip
    return groups.rows(config.SUGGEST_MIN_PARTICIPANTS_JS_ERROR)


def _slow_pages(inp: Inputs) -> list[Any]:
    ev = inp.data.events
    participants, sessions, variants, _tasks, keys = _names(inp)
    slow = {(r["page"], r["variant"]) for r in inp.page_speed
            if r["load_ms_median"] is not None and r["load_ms_median"] >= config.SLOW_PAGE_MS}  # fmt: skip
    groups = _Groups()
    positions = np.flatnonzero((ev.type == schema.PAGE) & np.isfinite(ev.value))
    s_all, _k, t_all, _screen = _where(inp, positions)
    for pos, s, t_s in zip(positions.tolist(), s_all, t_all, strict=True):
        page = keys[ev.key[pos]] if ev.key[pos] >= 0 else None
        if (page, variants[s]) in slow:
            groups.add(("slow_page", None, variants[s], page, None), sessions[s], participants[s],
                       t_s, f"loaded in {ev.value[pos] / 1000:.1f} s")  # fmt: skip
    return groups.rows(1)


# -- attempt-based detectors -----------------------------------------------------------------


def _paths(inp: Inputs) -> list[Any]:
    """Wrong turns (the first step off the expected path) and dead ends of failed attempts."""
    expected = {t.id: t.expected_path for t in inp.data.study.tasks}
    turns, ends = _Groups(), _Groups()
    for row, t_s in zip(inp.attempts, _starts(inp), strict=True):
        path = row["path"].split(" > ") if row["path"] else []
        want = expected.get(row["task"]) or []
        session, participant = row["session"], row["participant"]
        for i in range(1, min(len(path), len(want))):
            if path[i] != want[i]:
                if path[i - 1] == want[i - 1]:
                    step = f"{path[i - 1]} → {path[i]} (expected {want[i]})"
                    turns.add(("wrong_turn", row["task"], row["variant"], path[i - 1], step), session,
                              participant, t_s, f"went {path[i - 1]} → {path[i]}")  # fmt: skip
                break
        if row["outcome"] in ("failure", "abandoned") and path:
            ends.add(("dead_end", row["task"], row["variant"], path[-1], None), session, participant,
                     t_s, f"{row['outcome']} on {path[-1]}")  # fmt: skip
    minimum = config.SUGGEST_MIN_PARTICIPANTS
    return [*turns.rows(minimum), *ends.rows(minimum)]


def _starts(inp: Inputs) -> list[float]:
    """Each attempt's start, in seconds from its session's first event."""
    ev, seg = inp.data.events, inp.segments
    return ((seg.t_start - ev.t[ev.session_start[seg.session]]) / 1000.0).tolist()


def _low_success(inp: Inputs) -> list[Any]:
    """Tasks whose success interval lies wholly below the benchmark; the evidence is their
    attempts that did not succeed."""
    low = {(r["task"], r["variant"]): r["success_ci_high"] for r in inp.tasks
           if r.get("success_ci_high") is not None and r["success_ci_high"] < inp.benchmark}  # fmt: skip
    if not low:
        return []
    groups = _Groups()
    for attempt, t_s in zip(inp.attempts, _starts(inp), strict=True):
        high = low.get((attempt["task"], attempt["variant"]))
        if high is not None and attempt["outcome"] != "success":
            groups.add(("low_success", attempt["task"], attempt["variant"], None, None),
                       attempt["session"], attempt["participant"], t_s,
                       f"{attempt['outcome']} (success interval up to {high:.0%}, "
                       f"benchmark {inp.benchmark:.0%})")  # fmt: skip
    return groups.rows(1)
