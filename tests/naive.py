"""Plain-Python twins of the analyzer's kernels.

Each twin takes what its kernel's wrapper takes and returns the same figures
as Python lists, computed the obvious way: one event, one attempt, one rule
at a time, straight from the definitions in the README ("Metrics") and the rules
in ``analyzer/kernels/jit.py``'s docstring. Tests compare the two.

Sessions are written into real databases by ``tests/scripted.py``.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections import Counter
from typing import Any

from analyzer.config import DEFAULT_THRESHOLDS, Thresholds
from analyzer.kernels import jit as K
from recorder.wire import schema

# -- twins -----------------------------------------------------------------------------------


def order_events(session, n_sessions, t, load, seq):
    """Twin of ``kernels.order_events``."""
    order = sorted(
        range(len(session)), key=lambda i: (int(session[i]), float(t[i]), int(load[i]), int(seq[i]))
    )
    start = [0]
    for s in range(n_sessions):
        start.append(start[-1] + sum(1 for i in range(len(session)) if session[i] == s))
    return order, start


def page_keys(session_start, session_variant, type_, page, lut):
    """Twin of ``kernels.page_keys``."""
    keys = [-1] * len(type_)
    for s, lo, hi in sessions(session_start):
        for i in range(lo, hi):
            if type_[i] in (schema.PAGE, schema.CLICK) and 0 <= page[i] < len(lut[0]):
                keys[i] = int(lut[session_variant[s]][page[i]])
    return keys


def sessions(session_start):
    """``(session, first, end)`` of every session."""
    return [
        (s, int(session_start[s]), int(session_start[s + 1])) for s in range(len(session_start) - 1)
    ]


def click_flags(ev: K.Events, th: Thresholds = DEFAULT_THRESHOLDS):
    """Twin of ``kernels.click_flags``: per event misclick, rage, burst_start, screen_key, dead."""
    n = len(ev.t)
    misclick, rage, burst_start, screen = [False] * n, [False] * n, [False] * n, [-1] * n
    dead = [False] * n
    for _, lo, hi in sessions(ev.session_start):
        pages = [j for j in range(lo, hi) if ev.type[j] == schema.PAGE]
        reactions = [j for j in range(lo, hi) if ev.type[j] in (schema.PAGE, schema.REACTION)]
        clicks = [j for j in range(lo, hi) if ev.type[j] == schema.CLICK]
        for i in clicks:
            if ev.interactive[i] == 0:
                misclick[i] = not any(j > i and ev.t[j] - ev.t[i] <= th.misclick_ms for j in pages)
            dead[i] = not any(j > i and ev.t[j] - ev.t[i] <= th.dead_ms for j in reactions)
        for i in range(lo, hi):
            before = [j for j in pages if j <= i]
            screen[i] = int(ev.key[before[-1]]) if before else -1
            if ev.type[i] == schema.CLICK and ev.key[i] >= 0:
                screen[i] = int(ev.key[i])  # a click inside a frame is on its frame's page
        runs: list[list[int]] = []
        for i in clicks:
            if runs and _close_click(ev, runs[-1][-1], i, th):
                runs[-1].append(i)
            else:
                runs.append([i])
        for run in runs:
            if len(run) >= th.rage_min:
                burst_start[run[0]] = True
                for i in run:
                    rage[i] = True
    return misclick, rage, burst_start, screen, dead


def _close_click(ev, a, b, th):
    dx, dy = float(ev.x[b]) - float(ev.x[a]), float(ev.y[b]) - float(ev.y[a])
    return float(ev.t[b]) - float(ev.t[a]) <= th.rage_ms and dx * dx + dy * dy <= th.rage_px**2


def _meets(ev, rules, i, task):
    kind, ident = rules.criterion[task], rules.criterion_id[task]
    if kind == K.CRIT_URL:
        return (
            ev.type[i] == schema.PAGE and ev.key[i] >= 0 and bool(rules.url_match[task][ev.key[i]])
        )
    if kind == K.CRIT_CLICK:
        return ev.type[i] == schema.CLICK and ident >= 0 and ev.target[i] == ident
    if kind == K.CRIT_EVENT:
        return ev.type[i] == schema.CUSTOM and ident >= 0 and ev.label[i] == ident
    return False


def segment_attempts(ev: K.Events, rules: K.TaskRules) -> list[dict[str, Any]]:
    """Twin of ``kernels.segment_attempts``: one dict per attempt."""
    out: list[dict[str, Any]] = []
    for s, lo, hi in sessions(ev.session_start):
        mine: list[dict[str, Any]] = []
        starts = [i for i in range(lo, hi) if ev.type[i] == schema.TASK_START and ev.task[i] >= 0]
        for n, i in enumerate(starts):
            window_end = starts[n + 1] if n + 1 < len(starts) else hi  # next start closes it
            pages = [j for j in range(lo, i) if ev.type[j] == schema.PAGE]
            a = {"session": s, "task": int(ev.task[i]), "start_pos": i, "t_start": float(ev.t[i]),
                 "screen_key": int(ev.key[pages[-1]]) if pages else -1}  # fmt: skip
            ends = [j for j in range(i + 1, window_end)
                    if ev.type[j] == schema.TASK_END and ev.task[j] == a["task"]]  # fmt: skip
            met = [
                j
                for j in range(i + 1, ends[0] if ends else window_end)
                if _meets(ev, rules, j, a["task"])
            ]
            closing_t = float(ev.t[window_end]) if window_end < hi else float(ev.t[hi - 1])
            if ends:
                j = ends[0]
                a.update(end_pos=j, t_end=float(ev.t[j]), window_end=float(ev.t[j]),
                         outcome=int(ev.outcome[j]), coded_by=K.BY_MODERATOR)  # fmt: skip
            elif met:
                a.update(end_pos=met[0], t_end=float(ev.t[met[0]]), window_end=closing_t,
                         outcome=K.SUCCESS, coded_by=K.BY_CRITERIA)  # fmt: skip
            else:
                a.update(end_pos=window_end - 1, t_end=math.nan, window_end=closing_t,
                         outcome=K.UNCODED, coded_by=K.BY_NONE)  # fmt: skip
            mine.append(a)
        # Every other task_end re-codes the latest attempt of its task started before it.
        for j in range(lo, hi):
            if ev.type[j] != schema.TASK_END or ev.task[j] < 0:
                continue
            owner = [a for a in mine if a["task"] == ev.task[j] and a["start_pos"] < j]
            if owner and owner[-1]["end_pos"] != j:
                a = owner[-1]
                a["outcome"], a["coded_by"] = int(ev.outcome[j]), K.BY_MODERATOR
                if math.isnan(a["t_end"]):
                    a["t_end"] = a["window_end"]
        out += mine
    return out


def attempt_metrics(
    ev: K.Events, rules: K.TaskRules, attempts: list[dict[str, Any]], flags
) -> list[dict[str, Any]]:
    """Twin of ``kernels.attempt_metrics``: adds counts, seq, path and path figures to each attempt."""
    misclick, _, burst_start, _, dead = flags
    owner = [-1] * len(ev.t)
    for n, a in enumerate(attempts):
        for i in range(a["start_pos"], a["end_pos"] + 1):
            if not _names_task(ev, i):
                owner[i] = n
    for s, lo, hi in sessions(ev.session_start):
        for i in range(lo, hi):
            if _names_task(ev, i):
                before = [n for n, a in enumerate(attempts)
                          if a["session"] == s and a["task"] == ev.task[i] and a["start_pos"] < i]  # fmt: skip
                owner[i] = before[-1] if before else -1
    for n, a in enumerate(attempts):
        mine = [i for i in range(len(ev.t)) if owner[i] == n]
        of = lambda code, mine=mine: [i for i in mine if ev.type[i] == code]  # noqa: E731
        a["clicks"] = len(of(schema.CLICK))
        a["misclicks"] = sum(bool(misclick[i]) for i in of(schema.CLICK))
        a["rage_clicks"] = sum(bool(burst_start[i]) for i in of(schema.CLICK))
        a["dead_clicks"] = sum(bool(dead[i]) for i in of(schema.CLICK))
        a["moderator_errors"] = sum(ev.kind[i] == K.ERROR_MARKER for i in of(schema.MARKER))
        a["invalid_inputs"] = len(of(schema.INVALID))
        a["js_errors"] = len(of(schema.ERROR))
        seqs = [float(ev.value[i]) for i in of(schema.RATING) if ev.kind[i] == K.SEQ_ITEM]
        a["seq"] = seqs[-1] if seqs else math.nan
        path = [a["screen_key"]] if a["screen_key"] >= 0 else []
        for i in of(schema.PAGE):
            if ev.key[i] >= 0 and (not path or path[-1] != ev.key[i]):
                path.append(int(ev.key[i]))
        a["path"] = path
        a["pages"], a["distinct_pages"] = len(path), len(set(path))
        a["backtracks"] = sum(1 for j, k in enumerate(path) if k in path[:j])
        expected = list(
            rules.expected_keys[
                rules.expected_start[a["task"]] : rules.expected_start[a["task"] + 1]
            ]
        )
        navigated = a["outcome"] not in (K.SKIPPED, K.UNCODED)  # no path figures (issue 12)
        a["path_edit_distance"] = levenshtein(path, expected) if expected and navigated else -1
        a["variant"] = int(ev.session_variant[a["session"]])
        a["direct"] = a["outcome"] == K.SUCCESS and a["backtracks"] == 0
    for a in attempts:
        expected_len = rules.expected_start[a["task"] + 1] - rules.expected_start[a["task"]]
        successes = [b["pages"] for b in attempts if b["task"] == a["task"] and b["variant"] == a["variant"]
                     and b["outcome"] == K.SUCCESS and b["pages"] > 0]  # fmt: skip
        r = expected_len or (min(successes) if successes else 0)
        s, n = a["pages"], a["distinct_pages"]
        navigated = a["outcome"] not in (K.SKIPPED, K.UNCODED)
        a["lostness"] = (
            math.sqrt((n / s - 1) ** 2 + (r / n - 1) ** 2) if s and r and navigated else math.nan
        )
    for n, a in enumerate(attempts):
        a["events"] = [i for i in range(len(ev.t)) if owner[i] == n]
    return attempts


def _names_task(ev, i):
    return ev.type[i] in (schema.MARKER, schema.RATING) and ev.task[i] >= 0


def levenshtein(a, b) -> int:
    """Twin of ``kernels.levenshtein``: the textbook recursion, memoised."""
    a, b = list(a), list(b)
    memo: dict[tuple[int, int], int] = {}

    def d(i: int, j: int) -> int:
        if i == 0 or j == 0:
            return i + j
        if (i, j) not in memo:
            memo[i, j] = min(
                d(i - 1, j) + 1, d(i, j - 1) + 1, d(i - 1, j - 1) + (a[i - 1] != b[j - 1])
            )
        return memo[i, j]

    return d(len(a), len(b))


def transition_counts(paths, tasks, variants):
    """Twin of ``kernels.transition_counts``: ``{(task, variant, from, to): count}``."""
    counts: Counter[tuple[int, int, int, int]] = Counter()
    for path, task, variant in zip(paths, tasks, variants, strict=True):
        for source, target in itertools.pairwise(path):
            counts[int(task), int(variant), int(source), int(target)] += 1
    return dict(counts)


def group_medians(codes, values):
    """Twin of ``kernels.group_medians``: ``{code: (count, median)}``."""
    groups: dict[int, list[float]] = {}
    for code, value in zip(codes, values, strict=True):
        groups.setdefault(int(code), [])
        if math.isfinite(value):
            groups[int(code)].append(float(value))
    return {c: (len(v), statistics.median(v) if v else math.nan) for c, v in groups.items()}


# -- problem discovery (analyzer.findings.tables), the slow way -----------------------------------


def discovery(matrix: list[list[int]]) -> dict[str, Any]:
    """Lewis (2001) from a 0/1 participant (rows) x finding (columns) matrix, cell by cell.

    ``n_for_P`` counts participants up until a problem of probability p_adj is
    seen at least once with probability P.
    """
    n, k = len(matrix), len(matrix[0])
    total = 0
    for row in matrix:
        for cell in row:
            total += cell
    p_hat = total / (n * k)
    singletons = 0
    for j in range(k):
        seen_by = 0
        for i in range(n):
            seen_by += matrix[i][j]
        if seen_by == 1:
            singletons += 1
    p_adj = ((p_hat - 1 / n) * (1 - 1 / n)) / 2 + (p_hat / (1 + singletons / k)) / 2
    missed = 1.0
    for _ in range(n):
        missed *= 1 - p_adj
    out = {"p_hat": p_hat, "singletons": singletons, "p_adj": p_adj, "share_found": 1 - missed,
           "estimated_total": k / (1 - missed)}  # fmt: skip
    for goal in (85, 90, 95):
        needed, missed = 0, 1.0
        while 1 - missed < goal / 100 - 1e-12:
            needed += 1
            missed *= 1 - p_adj
        out[f"n_for_{goal}"] = needed
    return out
