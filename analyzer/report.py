"""``uxlab report``: one self-contained HTML file of a study's findings.

:func:`render_report` is pure (metric tables and the study in, HTML out),
so the console serves the same page at ``/studies/{id}/report``;
:func:`report_command` loads the study from SQLite and writes the file.

The file needs nothing from the network: CSS is inline, charts are inline
SVG (:mod:`analyzer.charts`), fonts are the system's, there is no script.
Every text that came from a page or a moderator goes through jinja2's
autoescaping (and :func:`analyzer.charts.el` inside SVG), so it is shown as
text and never run. Print CSS starts each section on a new page and keeps
charts and table rows whole.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from analyzer import report_figures as figures
from analyzer import report_pages as pages
from analyzer import report_sections as sections
from analyzer.commands import check_output_folder
from analyzer.metrics import StudyResults, analyze
from recorder import store
from recorder.studyfile import Study

#: Section ids and headings, in order: the table of contents and the tests read them.
SECTIONS = (
    ("at-a-glance", "At a glance"),
    ("overview", "Study overview"),
    ("task-summary", "Per-task summary"),
    ("completion-matrix", "Task completion matrix"),
    ("charts", "Success, time and errors"),
    ("click-paths", "Click paths"),
    ("click-maps", "Click maps"),
    ("page-speed", "Page speed"),
    ("questionnaires", "Questionnaires"),
    ("comparisons", "Variant comparison"),
    ("markers", "Moderator markers and notes"),
)


@cache
def environment() -> jinja2.Environment:
    """The report's jinja2 environment (autoescape on, undefined names are errors)."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("analyzer", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        pct=sections.pct, secs=sections.secs, num=sections.num, dash=_dash, plural=_plural
    )
    return env


def _dash(value: Any) -> Any:
    return sections.DASH if sections.missing(value) or value == "" else value


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def render_report(results: StudyResults, study: Study, *, generated: datetime | None = None) -> str:
    """The HTML report of one study's results.

    Parameters
    ----------
    results : StudyResults
        ``analyzer.metrics.analyze(db, study_id)``.
    study : Study
        The study the results are of (tasks, prompts, variants, expected paths).
    generated : datetime, optional
        The time printed as the report's date; now (UTC) by default.

    Returns
    -------
    str
        One self-contained HTML document.
    """
    ctx = sections.Context(results, study)
    times = sections.session_times(results)
    sus = figures.sus_rows(ctx)
    maps, maps_hidden, elements = pages.click_sections(ctx)
    markers, markers_hidden = sections.marker_groups(ctx)
    when = (generated or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    return (
        environment()
        .get_template("report.html")
        .render(
            sections=SECTIONS,
            generated=when,
            palette=ctx.palette,
            overview=sections.overview(ctx, times),
            glance=sections.glance(ctx, sus),
            summaries=sections.task_summaries(ctx),
            summary_columns=sections.SUMMARY_COLUMNS,
            matrix=sections.completion_matrix(ctx, times),
            outcome_charts=[
                figures.success_chart(ctx),
                figures.time_chart(ctx),
                figures.error_chart(ctx),
                figures.misclick_chart(ctx),
            ],
            flows=pages.flows(ctx),
            maps=maps,
            maps_hidden=maps_hidden,
            elements=elements,
            speed=pages.speed_chart(ctx),
            questionnaire_charts=[figures.sus_chart(ctx, sus), figures.seq_chart(ctx)],
            comparisons=sections.comparisons(ctx),
            markers=markers,
            markers_hidden=markers_hidden,
        )
    )


def report_command(args: Any) -> int:
    """``uxlab report STUDY -o report.html [--db PATH]``: analyze the study and write its report."""
    db = args.db or os.environ.get("UXLAB_DB") or "uxlab.db"
    if not Path(db).exists():
        raise store.StoreError(f"no database at {db}")
    output = Path(args.output)
    check_output_folder(output)
    conn = store.connect(db, readonly=True)
    try:
        study = store.load_study(conn, args.study)
    finally:
        conn.close()
    html = render_report(analyze(db, args.study), study)
    output.write_text(html, encoding="utf-8")
    print(f"wrote {output}")
    return 0
