"""The report's charts of outcomes and questionnaires, with the numbers behind them.

Success rate, time on task, errors, misclicks (per task x variant), SUS (per
variant) and SEQ (per task x variant), built from the ``tasks``,
``attempts`` and ``sessions`` tables as :class:`~analyzer.report.sections.Chart`
view models (see :mod:`analyzer.report.sections` for number formats).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from typing import Any

from analyzer.metrics.tables import sus_summary
from analyzer.numbers import plural
from analyzer.report import charts
from analyzer.report.charts import Axis, Group, Legend, Point, Row
from analyzer.report.sections import (
    OUTCOME_WORDS,
    SUS_AVERAGE,
    SUS_BANDS,
    Chart,
    Context,
    chart_rows,
    clipped_range,
    figure,
    missing,
    num,
    pct,
    pct_range,
    secs,
    secs_range,
)
from analyzer.stats.questionnaires import sus_score

# -------------------------------------------------------------------- charts


def _rate_axis(label: str) -> Axis:
    return Axis(0.0, 1.0, [0, 0.2, 0.4, 0.6, 0.8, 1.0], label, lambda v: f"{100 * v:.0f}%")


def _groups(ctx: Context, make: Any) -> list[Group]:
    return [
        Group(t, [make(ctx.task_row(t, v), v) for v in ctx.variants], ctx.prompts.get(t, ""))
        for t in ctx.tasks
    ]


def success_chart(ctx: Context) -> Chart:
    """Success rate with its adjusted-Wald interval per task x variant."""

    def make(r: Mapping[str, Any], v: str) -> Row:
        shown = f"{pct(r.get('success_rate'))} ({pct_range(r.get('success_ci_low'), r.get('success_ci_high'))})"
        return Row(v, ctx.palette[v], r.get("success_rate"), r.get("success_ci_low"), r.get("success_ci_high"),
                   shown=f"{shown}  n={r.get('attempts', 0)}", empty="no attempts")  # fmt: skip

    groups = _groups(ctx, make)
    svg = charts.row_chart("chart-success", "Success rate per task and variant", "Share of coded attempts that "
                           "succeeded, with the 95% adjusted-Wald interval.", groups,
                           _rate_axis("Success rate (95% adjusted-Wald interval)"),
                           legend=[Legend("interval", "success rate and its 95% interval")])  # fmt: skip
    rows = [[r["task"], r["variant"], r.get("attempts", 0), r.get("successes", 0), pct(r.get("success_rate")),
             pct_range(r.get("success_ci_low"), r.get("success_ci_high"))] for r in _all(ctx)]  # fmt: skip
    return Chart("chart-success", "Success rate", svg if _any(ctx) else None,
                 ("Task", "Variant", "Attempts", "Successes", "Success rate", "95% CI"), chart_rows(rows),
                 "No coded attempts yet.")  # fmt: skip


def _all(ctx: Context) -> list[dict[str, Any]]:
    return [ctx.task_row(t, v) for t in ctx.tasks for v in ctx.variants]


def _any(ctx: Context) -> bool:
    return any(r.get("attempts") for r in ctx.results.tasks)


def time_chart(ctx: Context) -> Chart:
    """Every attempt's time as a point (filled: success) plus the geometric mean of successes and its interval."""
    points: dict[tuple[str, str], list[Point]] = defaultdict(list)
    for a in ctx.results.attempts:
        if a["outcome"] != "uncoded" and not missing(a["time_s"]) and a["time_s"] > 0:
            label = f"{a['participant']} ({a['variant']}): {secs(a['time_s'])}, {OUTCOME_WORDS.get(a['outcome'], a['outcome'])}"
            points[(a["task"], a["variant"])].append(
                Point(a["time_s"], a["outcome"] == "success", label)
            )
    values = [p.value for ps in points.values() for p in ps]

    def make(r: Mapping[str, Any], v: str) -> Row:
        shown = f"GM {secs(r.get('time_gm_s'))} ({secs_range(r.get('time_ci_low'), r.get('time_ci_high'))})"
        return Row(v, ctx.palette[v], r.get("time_gm_s"), r.get("time_ci_low"), r.get("time_ci_high"),
                   points=points.get((r["task"], v), []), shown=shown, empty="no successful attempt")  # fmt: skip

    rows = [[r["task"], r["variant"], r.get("time_n", 0), secs(r.get("time_gm_s")),
             secs_range(r.get("time_ci_low"), r.get("time_ci_high")), secs(r.get("time_median_s")),
             secs(r.get("time_gm_all_s"))] for r in _all(ctx)]  # fmt: skip
    columns = (
        "Task",
        "Variant",
        "Successes timed",
        "Geometric mean",
        "95% CI",
        "Median",
        "GM, all attempts",
    )
    if not values:
        return Chart(
            "chart-time", "Time on task", None, columns, chart_rows(rows), "No timed attempts yet."
        )
    bounds = [*values, *(r.get(k) for r in _all(ctx) for k in ("time_ci_low", "time_ci_high"))]
    finite = [b for b in map(figure, bounds) if b is not None and b > 0]
    axis = charts.log_axis(
        min(finite), max(finite), "Time on task, seconds (log scale)", lambda v: f"{v:g}"
    )
    svg = charts.row_chart(
        "chart-time", "Time on task per task and variant", "Each attempt as a point (filled: success, hollow: "
        "not a success); the diamond is the geometric mean of successful attempts with its 95% interval.",
        _groups(ctx, make), axis, kind="points", value_header="Geometric mean (95% CI)",
        legend=[Legend("dot", "success", charts.MUTED), Legend("hollow", "no success", charts.MUTED),
                Legend("interval", "geometric mean of successes, 95% CI")],
    )  # fmt: skip
    return Chart("chart-time", "Time on task", svg, columns, chart_rows(rows))


def error_chart(ctx: Context) -> Chart:
    """Error rate (attempts with at least one error) with its interval."""

    def make(r: Mapping[str, Any], v: str) -> Row:
        shown = f"{pct(r.get('error_rate'))} ({pct_range(r.get('error_rate_ci_low'), r.get('error_rate_ci_high'))})"
        return Row(v, ctx.palette[v], r.get("error_rate"), r.get("error_rate_ci_low"),
                   r.get("error_rate_ci_high"), shown=f"{shown}  {num(r.get('errors_per_attempt'), 2)}/attempt",
                   empty="no attempts")  # fmt: skip

    svg = charts.row_chart("chart-errors", "Error rate per task and variant", "Share of coded attempts with at "
                           "least one user error (moderator error markers and form validation failures), with "
                           "the 95% adjusted-Wald interval.", _groups(ctx, make),
                           _rate_axis("Attempts with at least one error (95% interval)"),
                           value_header="Error rate (95% CI), per attempt",
                           legend=[Legend("interval", "error rate and its 95% interval")])  # fmt: skip
    rows = [[r["task"], r["variant"], r.get("attempts", 0), pct(r.get("error_rate")),
             pct_range(r.get("error_rate_ci_low"), r.get("error_rate_ci_high")),
             num(r.get("errors_per_attempt"), 2)] for r in _all(ctx)]  # fmt: skip
    return Chart("chart-errors", "Errors", svg if _any(ctx) else None,
                 ("Task", "Variant", "Attempts", "Error rate", "95% CI", "Errors per attempt"), chart_rows(rows),
                 "No coded attempts yet.")  # fmt: skip


def misclick_chart(ctx: Context) -> Chart:
    """Misclick rate (misclicks / clicks) per task x variant."""
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for a in ctx.results.attempts:
        if a["outcome"] != "uncoded":
            c = counts[(a["task"], a["variant"])]
            c[0], c[1], c[2] = c[0] + a["clicks"], c[1] + a["misclicks"], c[2] + a["rage_clicks"]
    top = max([r.get("misclick_rate") or 0.0 for r in ctx.results.tasks] + [0.05])

    def make(r: Mapping[str, Any], v: str) -> Row:
        clicks, mis, rage = counts[(r["task"], v)]
        return Row(v, ctx.palette[v], r.get("misclick_rate"),
                   shown=f"{pct(r.get('misclick_rate'))}  {mis} of {plural(clicks, 'click')}; {rage} rage",
                   empty="no clicks")  # fmt: skip

    axis = charts.linear_axis(top, "Misclicks / clicks (clicks on nothing clickable that led nowhere)",
                              lambda v: f"{100 * v:.0f}%")  # fmt: skip
    svg = charts.row_chart("chart-misclicks", "Misclick rate per task and variant", "Share of clicks inside "
                           "attempts that were misclicks.", _groups(ctx, make), axis, kind="bar",
                           value_header="Misclick rate, counts")  # fmt: skip
    rows = []
    for r in _all(ctx):
        clicks, mis, rage = counts[(r["task"], r["variant"])]
        rows.append([r["task"], r["variant"], clicks, mis, pct(r.get("misclick_rate")), rage])
    has = any(c[0] for c in counts.values())
    return Chart("chart-misclicks", "Misclicks", svg if has else None,
                 ("Task", "Variant", "Clicks", "Misclicks", "Misclick rate", "Rage clicks"), chart_rows(rows),
                 "No clicks recorded inside attempts.")  # fmt: skip


# ------------------------------------------------------------ questionnaires


def sus_chart(ctx: Context, summary: list[dict[str, Any]]) -> Chart:
    """SUS scores per variant: every answer, the mean with its interval, grade bands."""
    scores: dict[str, list[Point]] = defaultdict(list)
    for s in ctx.results.sessions:
        if s.get("sus"):
            score = sus_score(s["sus"])
            scores[s["variant"]].append(
                Point(score, True, f"{s['participant']} ({s['variant']}): {score:g}")
            )
    rows = []
    by = {r["variant"]: r for r in summary}
    for v in ctx.variants:
        r = by.get(v, {})
        ci = clipped_range(r.get("sus_ci_low"), r.get("sus_ci_high"), r.get("sus_ci_clipped"))
        shown = f"{num(r.get('sus_mean'))} ({ci}) {r.get('sus_grade') or ''}"
        rows.append(Row(v, ctx.palette[v], r.get("sus_mean"), r.get("sus_ci_low"), r.get("sus_ci_high"),
                        points=scores.get(v, []), shown=shown.strip(), empty="no SUS answers"))  # fmt: skip
    axis = Axis(0, 100, [0, 20, 40, 60, 80, 100], "SUS score (0–100); bands: Sauro-Lewis grades",
                bands=SUS_BANDS, references=[(SUS_AVERAGE, "average SUS (68)")])  # fmt: skip
    svg = charts.row_chart("chart-sus", "SUS score per variant", "Each participant's SUS score as a point; the "
                           "diamond is the mean with its 95% t interval, against the curved grading scale.",
                           [Group("SUS", rows)], axis, kind="points", value_header="Mean (95% CI), grade",
                           group_header="Questionnaire / variant", row_height=46,
                           legend=[Legend("dot", "one participant", charts.MUTED),
                                   Legend("interval", "mean and its 95% interval"),
                                   Legend("reference", "average SUS (68)")])  # fmt: skip
    table = [[r["variant"], r["sus_n"], num(r.get("sus_mean")),
              clipped_range(r.get("sus_ci_low"), r.get("sus_ci_high"), r.get("sus_ci_clipped")),
              num(r.get("sus_median")), r.get("sus_grade"), num(r.get("sus_percentile"), 0),
              num(r.get("umux_lite_mean")), num(r.get("nps"), 0)] for r in summary]  # fmt: skip
    has = any(r["sus_n"] for r in summary)
    return Chart("chart-sus", "SUS", svg if has else None,
                 ("Variant", "Answers", "Mean", "95% CI", "Median", "Grade", "Percentile", "UMUX-Lite", "NPS"),
                 chart_rows(table), "No SUS answers recorded.")  # fmt: skip


def seq_chart(ctx: Context) -> Chart:
    """Mean SEQ (1-7) per task x variant with its interval."""

    def make(r: Mapping[str, Any], v: str) -> Row:
        return Row(v, ctx.palette[v], r.get("seq_mean"), r.get("seq_ci_low"), r.get("seq_ci_high"),
                   shown=f"{num(r.get('seq_mean'))} "
                         f"({clipped_range(r.get('seq_ci_low'), r.get('seq_ci_high'), r.get('seq_ci_clipped'))})",
                   empty="no SEQ answers")  # fmt: skip

    answered: Counter[tuple[str, str]] = Counter(
        (a["task"], a["variant"]) for a in ctx.results.attempts if a["seq"] is not None
    )
    axis = Axis(1, 7, [1, 2, 3, 4, 5, 6, 7], "Single Ease Question, 1 (very hard) to 7 (very easy)")
    svg = charts.row_chart("chart-seq", "SEQ per task and variant", "Mean SEQ rating with its 95% t interval "
                           "(clipped to the scale's 1-7 where it reaches past, and marked so).",
                           _groups(ctx, make), axis,
                           legend=[Legend("interval", "mean SEQ and its 95% interval")])  # fmt: skip
    rows = [[r["task"], r["variant"], answered[(r["task"], r["variant"])], num(r.get("seq_mean")),
             clipped_range(r.get("seq_ci_low"), r.get("seq_ci_high"), r.get("seq_ci_clipped"))]
            for r in _all(ctx)]  # fmt: skip
    return Chart("chart-seq", "SEQ", svg if answered else None, ("Task", "Variant", "Answers", "Mean", "95% CI"),
                 chart_rows(rows), "No SEQ answers recorded.")  # fmt: skip


def sus_rows(ctx: Context) -> list[dict[str, Any]]:
    """The SUS summary per variant."""
    return sus_summary(ctx.results.sessions, ctx.variants)
