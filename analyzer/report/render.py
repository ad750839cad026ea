"""``uxlab report``: one self-contained HTML file of a study's findings.

:func:`render_report` is pure (metric tables and the study in, HTML out),
so the console serves the same page at ``/studies/{id}/report``;
:func:`report_command` loads the study from SQLite and writes the file.

The file needs nothing from the network: CSS is inline, charts are inline
SVG (:mod:`analyzer.report.charts`), fonts are the system's, there is no script.
Every text that came from a page or a moderator goes through jinja2's
autoescaping (and :func:`analyzer.report.charts.el` inside SVG), so it is shown as
text and never run. Print CSS starts each section on a new page and keeps
charts and table rows whole.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from analyzer.commands import check_output_folder
from analyzer.metrics.analyze import StudyResults, analyze
from analyzer.numbers import plural
from analyzer.report import figures, pages, sections
from analyzer.report import findings as report_findings
from analyzer.report.page_images import page_images
from recorder import templating
from recorder.settings import db_path
from recorder.storage import store
from recorder.wire.studyfile import Study

#: Section ids and headings, in order: the table of contents and the tests read them.
SECTIONS = (
    ("at-a-glance", "At a glance"),
    ("findings", "Findings"),
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
    """The report's jinja2 environment (:func:`recorder.templating.environment`, and its filters)."""
    env = templating.environment(Path(__file__).parent / "templates")
    env.filters.update(
        pct=sections.pct, secs=sections.secs, num=sections.num, dash=_dash, plural=plural
    )
    return env


def _dash(value: Any) -> Any:
    return sections.DASH if sections.missing(value) or value == "" else value


def render_report(
    results: StudyResults,
    study: Study,
    *,
    generated: datetime | None = None,
    pictures: pages.Pictures | None = None,
    replay_base: str | None = None,
) -> str:
    """The HTML report of one study's results.

    Parameters
    ----------
    results : StudyResults
        ``analyzer.metrics.analyze(db, study_id)``.
    study : Study
        The study the results are of (tasks, prompts, variants, expected paths).
    generated : datetime, optional
        The time printed as the report's date; now (UTC) by default.
    pictures : callable, optional
        Given the page keys of the click maps, (page key, variant) -> the page as
        participants saw it (:func:`analyzer.page_images.page_images`): clicks are
        drawn on it.
    replay_base : str, optional
        The console's ``/studies/{study}`` (or observer) path: markers link to their
        moment in the session's replay. A report written to a file has no such links.

    Returns
    -------
    str
        One self-contained HTML document.
    """
    ctx = sections.Context(results, study)
    times = sections.session_times(results)
    sus = figures.sus_rows(ctx)
    maps, maps_hidden, elements = pages.click_sections(ctx, pictures)
    markers, markers_hidden = sections.marker_groups(ctx, replay_base)
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
            findings=report_findings.section(results),
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


def study_report(db: str | Path, study_id: str, replay_base: str | None = None) -> str:
    """Load, analyze and render one study: the HTML ``uxlab report`` writes and the console serves."""
    conn = store.connect(db, readonly=True)
    try:
        study = store.load_study(conn, study_id)  # StoreError for an unknown study, before any work
    finally:
        conn.close()
    results = analyze(db, study_id)
    return render_report(results, study, pictures=lambda keys: page_images(db, study_id, keys),
                         replay_base=replay_base)  # fmt: skip


def report_command(args: Any) -> int:
    """``uxlab report STUDY -o report.html [--db PATH]``: analyze the study and write its report."""
    db = db_path(args.db)
    if not Path(db).exists():
        raise store.StoreError(f"no database at {db}")
    output = Path(args.output)
    check_output_folder(output)
    output.write_text(study_report(db, args.study), encoding="utf-8")
    print(f"wrote {output}")
    return 0
