"""One session's timeline for the replay player: tasks as spans, and ticks for outcomes,
markers, page errors, misclicks and rage clicks, in seconds from the session's first event.

The same rules as every other table: the loaded (clock-corrected, sorted)
events and :func:`analyzer.kernels.jit.click_flags` for misclicks and rage clicks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from analyzer.kernels import jit as kernels
from analyzer.load import StudyData, load_study_data
from recorder.wire import schema


def session_timeline(db_path: str | Path, study_id: str, session_id: int) -> dict[str, Any]:
    """``{"start_ms", "end_ms", "items": [...]}`` for one session (no events: no items).

    Each item: ``{"t": seconds, "kind": ..., "label": ...}``; task spans add
    ``"end"`` (seconds) and ``"outcome"``. Kinds: ``task``, ``outcome``, ``marker``
    (with ``"marker"``: error, note, assist, critical), ``error`` (a page error),
    ``misclick``, ``rage`` (the first click of a rage-click burst).
    """
    data = load_study_data(db_path, study_id)
    where = np.flatnonzero(data.sessions == session_id)
    if not where.size:
        return {"start_ms": None, "end_ms": None, "items": []}
    return _timeline(data, int(where[0]))


def _timeline(data: StudyData, index: int) -> dict[str, Any]:
    ev = data.events
    lo, hi = int(ev.session_start[index]), int(ev.session_start[index + 1])
    if lo == hi:
        return {"start_ms": None, "end_ms": None, "items": []}
    flags = kernels.click_flags(ev)
    t0 = float(ev.t[lo])
    items: list[dict[str, Any]] = []
    open_tasks: dict[int, dict[str, Any]] = {}
    for i in range(lo, hi):
        code, at = int(ev.type[i]), round((float(ev.t[i]) - t0) / 1000.0, 2)
        task = data.tasks[ev.task[i]] if ev.task[i] >= 0 else None
        if code == schema.TASK_START and task is not None:
            span = {"t": at, "end": None, "kind": "task", "label": task, "outcome": None}
            open_tasks[int(ev.task[i])] = span
            items.append(span)
        elif code == schema.TASK_END and task is not None:
            outcome = schema.OUTCOME_NAMES.get(int(ev.outcome[i]), "")
            begun = open_tasks.pop(int(ev.task[i]), None)
            if begun is not None:
                begun["end"], begun["outcome"] = at, outcome
            items.append({"t": at, "kind": "outcome", "label": f"{task}: {outcome}"})
        elif code == schema.MARKER:
            kind = schema.MARKER_KIND_NAMES.get(int(ev.kind[i]), "note")
            text = data.labels.get(int(ev.label[i]), "") if ev.label[i] >= 0 else ""
            items.append({"t": at, "kind": "marker", "marker": kind, "label": text or kind})
        elif code == schema.ERROR:
            items.append({"t": at, "kind": "error", "label": "page error"})
        elif code == schema.CLICK and flags.burst_start[i]:
            items.append({"t": at, "kind": "rage", "label": "rage clicks"})
        elif code == schema.CLICK and flags.misclick[i]:
            target = data.targets.get(int(ev.target[i]), "") if ev.target[i] >= 0 else ""
            items.append({"t": at, "kind": "misclick", "label": f"misclick {target}".strip()})
    return {"start_ms": t0, "end_ms": float(ev.t[hi - 1]), "items": items}
