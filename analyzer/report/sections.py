"""What each section of the HTML report shows: plain view models built from the metric tables.

Nothing here reads SQLite or writes HTML: functions take a
:class:`~analyzer.metrics.analyze.StudyResults` (and the study) and return
dataclasses of display-ready strings and charts (:mod:`analyzer.report.charts`),
which ``templates/report.html`` lays out with autoescaping. A figure that
does not exist is shown as :data:`DASH`, never as "None" or "nan".

The outcome and questionnaire charts are built in :mod:`analyzer.report.figures`,
the page-level sections (click paths, click maps, page speed) in
:mod:`analyzer.report.pages`.

Displayed precision (the report's tests read figures back at it): rates as
whole percentages, times in seconds with one decimal below 100 s and none
above, SEQ, SUS and lostness with one or two decimals as labelled.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from markupsafe import Markup

from analyzer.metrics.analyze import PATH_SEPARATOR, StudyResults
from analyzer.metrics.tables import STUDY_TASK, between_warnings
from analyzer.numbers import num as plain_num
from analyzer.numbers import num_apart, p_cell, plural, sig
from analyzer.report.charts import Palette
from analyzer.stats.compare import CONFIDENCE, adjusted_wald
from recorder.wire.studyfile import Study

DASH = "—"
#: Letter families of the Sauro-Lewis curved scale (``analyzer.stats.questionnaires.SUS_GRADES``): A- starts at 78.9.
SUS_BANDS = (
    (0.0, 51.7, "F"),
    (51.7, 62.7, "D"),
    (62.7, 72.6, "C"),
    (72.6, 78.9, "B"),
    (78.9, 100.0, "A"),
)
SUS_AVERAGE = 68.0
OUTCOME_MARKS = {"success": "✓", "failure": "✗", "abandoned": "⊘", "skipped": "»", "uncoded": "?"}
OUTCOME_WORDS = {"success": "success", "failure": "failure", "abandoned": "gave up",
                 "skipped": "skipped", "uncoded": "not coded"}  # fmt: skip
MARKER_WORDS = {
    "error": "error",
    "note": "note",
    "assist": "assist",
    "critical": "critical incident",
}
METRIC_NAMES = {"success_rate": "Success rate", "error_rate": "Error rate",
                "time": "Time on task (successes)", "seq": "SEQ", "sus": "SUS", "umux_lite": "UMUX-Lite"}  # fmt: skip
MATRIX_ROWS = 500  # sessions shown in the completion matrix
MARKER_ROWS = 2000


# ------------------------------------------------------------------- numbers


def missing(value: Any) -> bool:
    """True where a figure does not exist (None, NaN, infinite)."""
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def figure(value: Any) -> float | None:
    """A figure as a float, or None where it does not exist."""
    return None if missing(value) else float(value)


def pct(value: Any) -> str:
    """A rate as a whole percentage: ``0.667`` -> ``67%`` (never ``0%`` or ``100%`` unless it is)."""
    if missing(value):
        return DASH
    shown = f"{100 * value:.0f}"
    if 0.0 < value < 1.0 and shown in ("0", "100"):
        shown = num_apart(100 * value, float(shown))
    return f"{shown}%"


def pct_range(low: Any, high: Any) -> str:
    """An interval of rates: ``35–89%``."""
    return DASH if missing(low) or missing(high) else f"{pct(low)[:-1]}–{pct(high)}"


#: How a bound clipped to its rating scale is marked (the t interval reached past the scale).
CLIPPED_MARK = "clipped to the scale"


def clipped_note(clipped: Any) -> str:
    """`` (lower bound clipped to the scale)`` for an interval a table marks as clipped, else ``""``."""
    words = {"low": "lower bound", "high": "upper bound", "both": "both bounds"}
    return f" ({words[clipped]} {CLIPPED_MARK})" if clipped in words else ""


def secs(value: Any, unit: bool = True) -> str:
    """Seconds: one decimal below 100 s, none above."""
    if missing(value):
        return DASH
    shown = f"{value:.1f}" if abs(value) < 100 else f"{value:.0f}"
    return f"{shown} s" if unit else shown


def secs_range(low: Any, high: Any) -> str:
    """An interval of times in seconds, unit left to the value beside it: ``10.2–27.9``."""
    return DASH if missing(low) or missing(high) else f"{secs(low, False)}–{secs(high, False)}"


def num(value: Any, digits: int = 1) -> str:
    """A number with ``digits`` decimals."""
    return DASH if missing(value) else f"{value:.{digits}f}"


def num_range(low: Any, high: Any, digits: int = 1) -> str:
    """An interval of numbers: ``4.2–5.4``."""
    return DASH if missing(low) or missing(high) else f"{low:.{digits}f}–{high:.{digits}f}"


def clipped_range(low: Any, high: Any, clipped: Any) -> str:
    """A rating interval, marked ``, clipped`` where a bound was set to the scale's end."""
    shown = num_range(low, high)
    return f"{shown}, clipped" if clipped and shown != DASH else shown


def ms(value: Any) -> str:
    """Milliseconds, whole."""
    return DASH if missing(value) else f"{value:.0f} ms"


def clock(seconds: Any) -> str:
    """Seconds from the session's start as ``m:ss`` (``h:mm:ss`` past an hour)."""
    if missing(seconds):
        return DASH
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02}:{rest % 60:02}" if hours else f"{rest // 60}:{rest % 60:02}"


def day(epoch_ms: float) -> str:
    """A date (UTC) of epoch milliseconds."""
    return datetime.fromtimestamp(epoch_ms / 1000.0, UTC).strftime("%Y-%m-%d")


def minute(epoch_ms: float) -> str:
    """A date and time (UTC) of epoch milliseconds."""
    return datetime.fromtimestamp(epoch_ms / 1000.0, UTC).strftime("%Y-%m-%d %H:%M")


# ------------------------------------------------------------------- shapes


@dataclass(frozen=True)
class Cell:
    """A table cell: its text, and what it shows (``data-*`` attributes; tests read them)."""

    text: str
    metric: str | None = None
    task: str | None = None
    variant: str | None = None
    css: str = ""
    title: str | None = None
    ci: str | None = None  # an interval shown after the value, e.g. "(35–89%)"
    href: str | None = None  # a link (the console's report: a marker's moment in its replay)


@dataclass(frozen=True)
class Chart:
    """A chart and the numbers behind it (``svg`` is None where there is nothing to draw)."""

    id: str
    title: str
    svg: Markup | None
    columns: Sequence[str]
    rows: Sequence[Sequence[str]]
    empty: str = "No data."
    note: str = ""


def chart_rows(rows: Iterable[Iterable[Any]]) -> list[list[str]]:
    return [[DASH if missing(v) else str(v) for v in row] for row in rows]


@dataclass
class Context:
    """Shared lookups of one report: study order, colours, rows by key."""

    results: StudyResults
    study: Study
    variants: list[str] = field(init=False)
    tasks: list[str] = field(init=False)
    palette: Palette = field(init=False)
    task_rows: dict[tuple[str, str], dict[str, Any]] = field(init=False)
    prompts: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        seen = [r["variant"] for r in self.results.tasks]
        self.variants = list(dict.fromkeys([v.id for v in self.study.variants] + seen))
        self.tasks = list(
            dict.fromkeys(
                [t.id for t in self.study.tasks] + [r["task"] for r in self.results.tasks]
            )
        )
        self.palette = Palette(self.variants)
        self.task_rows = {(r["task"], r["variant"]): r for r in self.results.tasks}
        self.prompts = {t.id: t.prompt for t in self.study.tasks}

    def task_row(self, task: str, variant: str) -> dict[str, Any]:
        """The ``tasks`` row of a task x variant (an empty one where none exists)."""
        return self.task_rows.get(
            (task, variant), {"task": task, "variant": variant, "attempts": 0}
        )


# ------------------------------------------------------------------ overview


@dataclass(frozen=True)
class Overview:
    """Study overview: what was tested, with whom, when."""

    name: str
    study_id: str
    dates: str
    variants: list[list[str]]  # id, url, sessions, participants
    tasks: list[list[str]]  # id, prompt, success criterion, expected path
    questionnaires: str
    participants: int
    sessions: int
    attempts: int


def session_times(results: StudyResults) -> dict[int, tuple[float, float]]:
    """Session number -> (first, last) event time, epoch ms (corrected clock)."""
    data = getattr(results.clicks, "data", None)
    if data is None:
        return {}
    starts, t = data.events.session_start.tolist(), data.events.t
    out = {}
    for s, sid in enumerate(data.numbers.tolist()):
        if starts[s + 1] > starts[s]:
            out[int(sid)] = (float(t[starts[s]]), float(t[starts[s + 1] - 1]))
    return out


def _criterion(success: Mapping[str, str]) -> str:
    words = {"url": "reached page", "click": "clicked", "event": "custom event"}
    return "; ".join(f"{words.get(k, k)} {v}" for k, v in success.items()) or "moderator's call"


def overview(ctx: Context, times: Mapping[int, tuple[float, float]]) -> Overview:
    """The overview section."""
    sessions = ctx.results.participants
    by_variant: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in sessions:
        by_variant[row["variant"]].append(row)
    urls = {v.id: v.url for v in ctx.study.variants}
    variants = [[v, urls.get(v, DASH), str(len(by_variant[v])),
                 str(len({r["participant"] for r in by_variant[v]}))] for v in ctx.variants]  # fmt: skip
    tasks = [[t.id, t.prompt or DASH, _criterion(t.success), PATH_SEPARATOR.join(t.expected_path) or DASH]
             for t in ctx.study.tasks]  # fmt: skip
    spans = list(times.values())
    if spans:
        first, last = day(min(s for s, _ in spans)), day(max(e for _, e in spans))
        dates = first if first == last else f"{first} to {last}"
    else:
        dates = "dates not recorded" if sessions else "no sessions recorded"
    q = ctx.study.questionnaires
    asked = [f"{q['after_task']} after each task"] if q.get("after_task") else []
    asked += (
        [f"{', '.join(q['after_session'])} after the session"] if q.get("after_session") else []
    )
    return Overview(
        name=ctx.study.name, study_id=ctx.study.id, dates=dates, variants=variants, tasks=tasks,
        questionnaires="; ".join(asked) or "none", participants=len({r["participant"] for r in sessions}),
        sessions=len(sessions), attempts=len(ctx.results.attempts),
    )  # fmt: skip


# ---------------------------------------------------------------- at a glance


@dataclass(frozen=True)
class Tile:
    """One variant's headline figures."""

    variant: str
    colour: str
    sessions: int
    success: str
    success_ci: str
    success_detail: str
    sus: str
    sus_ci: str
    sus_grade: str


@dataclass(frozen=True)
class Glance:
    """The findings a reader should see in ten seconds."""

    tiles: list[Tile]
    tallies: list[
        tuple[str, list[str]]
    ]  # ("B against A", ["time: shorter on 3 of 3 tasks (2 clearly)", ...])
    clear: list[tuple[str, str]]  # (task, reading) of the differences the data support
    more_clear: int
    unclear: int
    hardest: list[str]
    warnings: list[str] = field(
        default_factory=list
    )  # e.g. an id in two variants of a between study


def excludes_null(row: Mapping[str, Any]) -> bool | None:
    """Whether a comparison's interval excludes "no difference" (None without an interval)."""
    low, high = figure(row.get("ci_low")), figure(row.get("ci_high"))
    if low is None or high is None:
        return None
    null = 1.0 if row["metric"] == "time" else 0.0
    return bool(low > null or high < null)


def supported(row: Mapping[str, Any]) -> bool:
    """A difference the data support: the interval excludes "no difference" and the test agrees."""
    p = figure(row.get("p_value"))
    return bool(excludes_null(row)) and (p is None or p < 1.0 - CONFIDENCE)


def glance(ctx: Context, sus_rows: list[dict[str, Any]]) -> Glance:
    """The "at a glance" section: per-variant tiles, tallies, clear differences, hardest tasks."""
    sus = {r["variant"]: r for r in sus_rows}
    tiles = []
    for v in ctx.variants:
        rows = [ctx.task_row(t, v) for t in ctx.tasks]
        n = sum(r.get("attempts") or 0 for r in rows)
        won = sum(r.get("successes") or 0 for r in rows)
        interval = adjusted_wald(won, n) if n else None
        s = sus.get(v, {})
        sus_ci = num_range(s.get("sus_ci_low"), s.get("sus_ci_high"))
        if sus_ci == DASH and (s.get("sus_n") or 0) >= 2:
            sus_ci = "none: all scores are equal"
        tiles.append(Tile(
            v, ctx.palette[v], sum(1 for p in ctx.results.participants if p["variant"] == v),
            pct(won / n) if n else DASH, pct_range(interval.low, interval.high) if interval else DASH,
            f"{won} of {plural(n, 'attempt')}" if n else "no attempts", num(s.get("sus_mean")),
            sus_ci + (clipped_note(s.get("sus_ci_clipped")) if sus_ci != DASH else ""),
            s.get("sus_grade") or DASH,
        ))  # fmt: skip
    comparisons = ctx.results.comparisons
    clear = [r for r in comparisons if supported(r)]
    order = {m: i for i, m in enumerate(METRIC_NAMES)}
    clear.sort(
        key=lambda r: (
            order.get(r["metric"], 9),
            ctx.tasks.index(r["task"]) if r["task"] in ctx.tasks else 99,
        )
    )
    unclear = sum(1 for r in comparisons if excludes_null(r) is not None and not supported(r))
    warnings = between_warnings(
        ctx.results.attempts, ctx.results.sessions, ctx.variants, ctx.study.design
    )
    return Glance(
        tiles=tiles, tallies=_tallies(ctx), more_clear=max(len(clear) - GLANCE_READINGS, 0),
        clear=[(_task_label(r["task"]), r["reading"]) for r in clear[:GLANCE_READINGS]],
        unclear=unclear, hardest=_hardest(ctx), warnings=warnings,
    )  # fmt: skip


GLANCE_READINGS = 6
#: metric -> (words, direction that is better, word when better, word when worse)
TALLIED = (("success_rate", "success rate", 1, "higher", "lower"), ("time", "time on task", -1, "shorter", "longer"),
           ("error_rate", "error rate", -1, "lower", "higher"), ("seq", "SEQ", 1, "higher", "lower"))  # fmt: skip


def _task_label(task: str) -> str:
    return "Whole study" if task == STUDY_TASK else task


def _tallies(ctx: Context) -> list[tuple[str, list[str]]]:
    """Per pair of variants: on how many tasks B did better or worse, and how many of those clearly."""
    pairs: dict[tuple[str, str], dict[str, list[dict[str, Any]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for row in ctx.results.comparisons:
        if not missing(row.get("difference")):
            pairs[(row["variant_a"], row["variant_b"])][row["metric"]].append(row)
    lines = []
    for (a, b), metrics in pairs.items():
        parts = []
        for metric, words, better, up, down in TALLIED:
            rows = metrics.get(metric, [])
            null = 1.0 if metric == "time" else 0.0
            good = [r for r in rows if (r["difference"] - null) * better > 0]
            bad = [r for r in rows if (r["difference"] - null) * better < 0]
            if rows:
                parts.append(f"{words} {up} on {_count(good, len(rows))}"
                             + (f", {down} on {_count(bad)}" if bad else ""))  # fmt: skip
        for r in metrics.get("sus", []):
            verdict = "clearly higher" if r["difference"] > 0 else "clearly lower"
            parts.append(f"mean SUS {num(r['value_b'])} against {num(r['value_a'])} "
                         f"({verdict if supported(r) else 'not clearly different'})")  # fmt: skip
        if parts:
            lines.append((f"{b} against {a}", parts))
    return lines


def _count(rows: list[dict[str, Any]], total: int | None = None) -> str:
    sure = sum(1 for r in rows if supported(r))
    of = f" of {plural(total, 'task')}" if total is not None else ""
    return f"{len(rows)}{of}" + (f" ({sure} clearly)" if sure else "")


def _hardest(ctx: Context) -> list[str]:
    rows = [
        r for r in ctx.results.tasks if r.get("attempts") and not missing(r.get("success_rate"))
    ]
    rows.sort(key=lambda r: (r["success_rate"], -(r.get("time_gm_all_s") or 0.0)))
    return [f"{r['task']} in {r['variant']}: {pct(r['success_rate'])} success "
            f"(95% CI {pct_range(r['success_ci_low'], r['success_ci_high'])}), "
            f"{r['successes']} of {plural(r['attempts'], 'attempt')}" for r in rows[:3]
            if r["success_rate"] < 1.0]  # fmt: skip


# --------------------------------------------------------------- task summary


SUMMARY_COLUMNS = ("Variant", "Attempts", "Success (95% CI)", "Time, GM of successes (95% CI)", "Median",
                   "Time, GM of all", "Error rate (95% CI)", "Errors / attempt", "Misclick rate", "Lostness",
                   "Direct", "SEQ")  # fmt: skip


@dataclass(frozen=True)
class TaskSummary:
    """One task's block of the per-task summary table."""

    task: str
    prompt: str
    rows: list[list[Cell]]
    cautions: list[str]


def task_summaries(ctx: Context) -> list[TaskSummary]:
    """Per task, one row per variant: success, time and error figures with their intervals."""
    out = []
    for task in ctx.tasks:
        rows, cautions = [], []
        for v in ctx.variants:
            r = ctx.task_row(task, v)
            cell = _cell_maker(task, v)
            rows.append([
                Cell(v, css="variant"), cell(str(r.get("attempts", 0)), "attempts"),
                cell(pct(r.get("success_rate")), "success_rate",
                     pct_range(r.get("success_ci_low"), r.get("success_ci_high"))),
                cell(secs(r.get("time_gm_s")), "time_gm_s", secs_range(r.get("time_ci_low"), r.get("time_ci_high"))),
                cell(secs(r.get("time_median_s")), "time_median_s"),
                cell(secs(r.get("time_gm_all_s")), "time_gm_all_s"),
                cell(pct(r.get("error_rate")), "error_rate",
                     pct_range(r.get("error_rate_ci_low"), r.get("error_rate_ci_high"))),
                cell(num(r.get("errors_per_attempt"), 2), "errors_per_attempt"),
                cell(pct(r.get("misclick_rate")), "misclick_rate"),
                cell(num(r.get("lostness_mean"), 2), "lostness_mean"),
                cell(pct(r.get("directness_rate")), "directness_rate"),
                cell(num(r.get("seq_mean")), "seq_mean"),
            ])  # fmt: skip
            if r.get("caution"):
                cautions.append(f"{v}: {r['caution']}")
            elif not r.get("attempts"):
                cautions.append(f"{v}: no attempts at this task.")
        out.append(TaskSummary(task, ctx.prompts.get(task, ""), rows, cautions))
    return out


def _cell_maker(task: str, variant: str) -> Any:
    def make(words: str, metric: str, interval: str | None = None) -> Cell:
        css = "num" + (" none" if words == DASH else "")
        shown = None if interval is None or interval == DASH else f"({interval})"
        return Cell(words, metric, task, variant, css, ci=shown)

    return make


# ---------------------------------------------------------- completion matrix


@dataclass(frozen=True)
class Matrix:
    """Participants x tasks: outcome and time in each cell."""

    tasks: list[tuple[str, str]]  # id, prompt
    rows: list[list[Cell]]
    footer: list[list[Cell]]
    legend: list[tuple[str, str, str]]  # outcome, mark, words
    hidden: int


def completion_matrix(ctx: Context, times: Mapping[int, tuple[float, float]]) -> Matrix:
    """The task-completion matrix, sessions sorted by variant then participant."""
    cells: dict[tuple[int, str], list[dict[str, Any]]] = defaultdict(list)
    for a in ctx.results.attempts:
        cells[(a["session"], a["task"])].append(a)
    order = {v: i for i, v in enumerate(ctx.variants)}
    sessions = sorted(
        ctx.results.participants,
        key=lambda p: (order.get(p["variant"], 99), p["participant"], p["session"]),
    )
    rows = []
    for p in sessions[:MATRIX_ROWS]:
        started = times.get(p["session"])
        row = [Cell(p["participant"], css="who", title=f"session {p['session']}"),
               Cell(p["variant"], css="variant"), Cell(minute(started[0]) if started else DASH, css="when")]  # fmt: skip
        for task in ctx.tasks:
            row.append(_matrix_cell(cells.get((p["session"], task), []), task, p))
        row += [Cell(f"{p['successes']}/{p['tasks']}", "successes", css="num"),
                Cell(num(p.get("sus")), "sus", css="num"), Cell(p.get("sus_grade") or DASH, css="num")]  # fmt: skip
        rows.append(row)
    footer = []
    for v in ctx.variants:
        line = [Cell(f"{v}: succeeded", css="who"), Cell(v, css="variant"), Cell("")]
        for task in ctx.tasks:
            r = ctx.task_row(task, v)
            n = r.get("attempts") or 0
            line.append(
                Cell(f"{r.get('successes', 0)}/{n}" if n else DASH, "successes", task, v, "num")
            )
        footer.append([*line, Cell(""), Cell(""), Cell("")])
    legend = [(o, OUTCOME_MARKS[o], OUTCOME_WORDS[o]) for o in OUTCOME_MARKS]
    return Matrix([(t, ctx.prompts.get(t, "")) for t in ctx.tasks], rows, footer, legend,
                  max(len(sessions) - MATRIX_ROWS, 0))  # fmt: skip


def _matrix_cell(attempts: list[dict[str, Any]], task: str, p: Mapping[str, Any]) -> Cell:
    if not attempts:
        return Cell("·", "outcome", task, p["variant"], "outcome none", "not attempted")
    words = " ".join(
        f"{OUTCOME_MARKS.get(a['outcome'], '?')} {secs(a['time_s'])}" for a in attempts
    )
    detail = "; ".join(
        f"{OUTCOME_WORDS.get(a['outcome'], a['outcome'])}, {secs(a['time_s'])}, {plural(a['errors'], 'error')}, path {a['path'] or DASH}"
        for a in attempts
    )
    return Cell(
        words, "outcome", task, p["variant"], f"outcome o-{attempts[-1]['outcome']}", detail
    )


# -------------------------------------------------------------- comparisons


@dataclass(frozen=True)
class ComparisonGroup:
    """A task's comparison rows."""

    task: str
    rows: list[list[Cell]]
    clear: list[bool]


def comparisons(ctx: Context) -> list[ComparisonGroup]:
    """The comparison table, grouped by task, each value shown in its metric's unit."""
    groups: dict[str, ComparisonGroup] = {}
    for r in ctx.results.comparisons:
        group = groups.setdefault(r["task"], ComparisonGroup(_task_label(r["task"]), [], []))
        value, diff = _metric_formats(r["metric"])
        clear = supported(r)
        group.rows.append([
            Cell(METRIC_NAMES.get(r["metric"], r["metric"]), r["metric"], r["task"]),
            Cell(f"{r['variant_b']} vs {r['variant_a']}"),
            Cell(value(r.get("value_a")), "value_a", r["task"], css="num"),
            Cell(value(r.get("value_b")), "value_b", r["task"], css="num"),
            Cell(diff(r.get("difference")), "difference", r["task"], css="num"),
            Cell(DASH if missing(r.get("ci_low")) else f"{diff(r['ci_low'], False)} to {diff(r['ci_high'])}"
                 + clipped_note(r.get("ci_clipped")), "ci", r["task"], css="num"),
            Cell(r.get("test") or DASH), Cell(p_text(r.get("p_value")), "p_value", r["task"], css="num"),
            Cell(("Clear: " if clear else "") + (r.get("reading") or DASH), css="reading"),
            Cell(r.get("caution") or "", css="caution"),
        ])  # fmt: skip
        group.clear.append(bool(clear))
    return list(groups.values())


def _signed(x: float, decimals: int) -> str:
    """A difference with its sign, never reading as zero when it is not (``+0.004``)."""
    text = f"{x:+.{decimals}f}"
    if x != 0.0 and float(text) == 0.0:
        text = ("+" if x > 0 else "") + plain_num(x)
    return "0" if x == 0.0 else text


def _metric_formats(metric: str) -> tuple[Any, Any]:
    """How a metric's values and differences read: rates in points, times as ratios (significant figures)."""
    if metric.endswith("_rate"):
        return (
            pct,
            lambda d, unit=True: (
                DASH if missing(d) else _signed(100 * d, 0) + (" pts" if unit else "")
            ),
        )
    if metric == "time":
        return secs, lambda d, unit=True: DASH if missing(d) else f"×{sig(d)}"
    return num, lambda d, unit=True: DASH if missing(d) else _signed(d, 1)


def p_text(p: Any) -> str:
    """A p-value as shown (:func:`analyzer.numbers.p_cell`): ``<0.001``, ``0.045``, ``0.32``."""
    return DASH if missing(p) else p_cell(p)


# ------------------------------------------------------------------- markers


@dataclass(frozen=True)
class MarkerGroup:
    """A task's moderator markers and notes."""

    task: str
    prompt: str
    rows: list[list[Cell]]
    counts: str


def _moment(replay_base: str | None, marker: Mapping[str, Any]) -> str | None:
    if replay_base is None or marker.get("session") is None:
        return None
    return f"{replay_base}/sessions/{marker['session']}/replay?t={marker['t_s']}"


def marker_groups(ctx: Context, replay_base: str | None = None) -> tuple[list[MarkerGroup], int]:
    """Markers by task in study order (then those outside any task); how many were left out.

    With ``replay_base`` (the console's ``/studies/{study}``), each marker's time links
    to that moment of its session's replay.

    Within a task, markers are ordered by participant, then variant, then time
    (``t_s``: seconds from the session's first event).
    """
    by_task: dict[str | None, list[dict[str, Any]]] = defaultdict(list)
    for m in ctx.results.markers[:MARKER_ROWS]:
        by_task[m["task"]].append(m)
    variant_order = {v: i for i, v in enumerate(ctx.variants)}
    for marks in by_task.values():
        marks.sort(
            key=lambda m: (str(m["participant"]), variant_order.get(m["variant"], 99), m["t_s"])
        )
    order: list[str | None] = [*ctx.tasks, *(t for t in by_task if t not in ctx.tasks)]
    groups = []
    for task in order:
        marks = by_task.get(task, [])
        if not marks:
            continue
        kinds = Counter(m["kind"] for m in marks)
        counts = ", ".join(
            plural(n, MARKER_WORDS.get(k or "", k or "marker")) for k, n in kinds.most_common()
        )
        rows = [[Cell(m["participant"]), Cell(m["variant"], css="variant"),
                  Cell(clock(m["t_s"]), css="num", href=_moment(replay_base, m)),
                 Cell(MARKER_WORDS.get(m["kind"] or "", m["kind"] or DASH), css=f"kind k-{m['kind']}"),
                 Cell(m["text"] or DASH, css="note")] for m in marks]  # fmt: skip
        groups.append(
            MarkerGroup(task or "outside any task", ctx.prompts.get(task or "", ""), rows, counts)
        )
    return groups, max(len(ctx.results.markers) - MARKER_ROWS, 0)
