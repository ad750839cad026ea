"""The report's view models, in-process and without a browser: what a reader would see.

A small study is scripted by hand (``tests/scripted.py``: a real SQLite file
through the recorder's validation and store), analyzed by the real
``analyze()``, and turned into the report's view models
(``analyzer.report.sections``, ``figures``, ``pages``). Every figure asserted
here is worked out by hand from the script below; the browser tests
(tests/test_report.py) keep what only a browser shows.

The script (times in ms after the recorder's clock; A, B and C are variants, C unused):

- P1 (A): buy: / -> /shoes -> /cart, the moderator codes success at 10.1 s
  (10.0 s after the start); SEQ 6. help: started on /cart at 11 s, clicks
  #help at 12 s (the study's criterion: success, 1.0 s). SUS all 3s (50).
  A critical incident at 15 s, outside any task.
- P2 (A): buy: a click on a card that is not clickable (a misclick), an error
  marker at 1.5 s, /help at 5 s, failure at 20.1 s (20.0 s); SEQ 2. No help
  attempt. SUS 5,1,5,1,... (100).
- P3 (B): buy: / -> /shoes -> /cart, success at 5.1 s (5.0 s); SEQ 7. help:
  gave up after 2.0 s, a note at 7 s. SUS 4,1,4,1,... (87.5).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from analyzer.metrics.analyze import analyze
from analyzer.report import figures, pages, sections
from analyzer.report.sections import DASH, Context
from recorder.wire.studyfile import parse_study
from tests.scripted import Recorder

STUDY: dict[str, Any] = {
    "id": "views",
    "name": "Checkout <views> & more",
    "variants": [{"id": "A", "url": "http://proto.test/A/"}, {"id": "B", "url": "http://proto.test/B/"},
                 {"id": "C", "url": "http://proto.test/C/"}],
    "tasks": [{"id": "buy", "prompt": "Buy shoes.", "success": {"url": "/cart"},
               "expected_path": ["/", "/shoes", "/cart"]},
              {"id": "help", "prompt": "Find help.", "success": {"click": "#help"}}],
    "questionnaires": {"after_task": "SEQ", "after_session": "SUS"},
}  # fmt: skip
SUS_50, SUS_100, SUS_87 = [3] * 10, [5, 1] * 5, [4, 1] * 5
Z = 1.959963984540054


def url(variant: str, path: str) -> str:
    return f"http://proto.test/{variant}{path}"


def click(t: float, sel: str, x: float, y: float, interactive: bool = True) -> dict[str, Any]:
    return {"type": "click", "t": t, "sel": sel, "x": x, "y": y, "interactive": interactive}


def record(db: Path) -> None:
    """The three sessions of the module docstring."""
    with Recorder(db, STUDY) as rec:
        p1 = rec.session("P1", "A")
        rec.send(p1, [{"type": "page", "t": 0, "url": url("A", "/"), "timing": {"ttfb": 40, "load": 300}},
                      click(1000, "a#shoes", 10, 20)], page="p1-1")  # fmt: skip
        rec.send(p1, [{"type": "page", "t": 1100, "url": url("A", "/shoes"),
                       "timing": {"ttfb": 100, "load": 500}},
                      click(2000, "#add", 300, 400),
                      {"type": "page", "t": 2100, "url": url("A", "/cart"), "spa": True},
                      click(12000, "#help", 1500, 900)], page="p1-2")  # fmt: skip
        rec.send(p1, [
            {"type": "task_start", "t": 100, "task": "buy"},
            {"type": "task_end", "t": 10100, "task": "buy", "outcome": "success"},
            {"type": "rating", "t": 10200, "item": "SEQ", "task": "buy", "value": 6},
            {"type": "task_start", "t": 11000, "task": "help"},
            {"type": "marker", "t": 15000, "kind": "critical", "text": "page froze"},
            {"type": "rating", "t": 16000, "item": "SUS", "values": SUS_50},
        ], page="console-1", moderator=True)  # fmt: skip
        p2 = rec.session("P2", "A")
        rec.send(p2, [{"type": "page", "t": 0, "url": url("A", "/")},
                      click(500, "div.card", 100, 200, interactive=False),
                      {"type": "page", "t": 5000, "url": url("A", "/help"), "spa": True}], page="p2-1")  # fmt: skip
        rec.send(p2, [
            {"type": "task_start", "t": 100, "task": "buy"},
            {"type": "marker", "t": 1500, "kind": "error", "text": "typed in search"},
            {"type": "task_end", "t": 20100, "task": "buy", "outcome": "failure"},
            {"type": "rating", "t": 20200, "item": "SEQ", "task": "buy", "value": 2},
            {"type": "rating", "t": 21000, "item": "SUS", "values": SUS_100},
        ], page="console-2", moderator=True)  # fmt: skip
        p3 = rec.session("P3", "B")
        rec.send(p3, [{"type": "page", "t": 0, "url": url("B", "/"), "timing": {"ttfb": 60, "load": 500}},
                      {"type": "page", "t": 1000, "url": url("B", "/shoes"), "spa": True},
                      {"type": "page", "t": 2000, "url": url("B", "/cart"), "spa": True}], page="p3-1")  # fmt: skip
        rec.send(p3, [
            {"type": "task_start", "t": 100, "task": "buy"},
            {"type": "task_end", "t": 5100, "task": "buy", "outcome": "success"},
            {"type": "rating", "t": 5200, "item": "SEQ", "task": "buy", "value": 7},
            {"type": "task_start", "t": 6000, "task": "help"},
            {"type": "marker", "t": 7000, "kind": "note", "text": "liked <b>it</b>", "task": "help"},
            {"type": "task_end", "t": 8000, "task": "help", "outcome": "abandoned"},
            {"type": "rating", "t": 9000, "item": "SUS", "values": SUS_87},
        ], page="console-3", moderator=True)  # fmt: skip


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> Context:
    db = tmp_path_factory.mktemp("views") / "uxlab.db"
    record(db)
    return Context(analyze(db, STUDY["id"], cache=False), parse_study(STUDY))


@pytest.fixture(scope="module")
def empty(tmp_path_factory: pytest.TempPathFactory) -> Context:
    """The same study with nothing recorded yet (the console's report before the first session)."""
    db = tmp_path_factory.mktemp("empty") / "uxlab.db"
    Recorder(db, STUDY).close()
    return Context(analyze(db, STUDY["id"], cache=False), parse_study(STUDY))


def wald(successes: int, n: int) -> str:
    """The adjusted-Wald 95% interval (Agresti-Coull) as the report shows it, by the formula."""
    n_adj = n + Z * Z
    p = (successes + Z * Z / 2) / n_adj
    margin = Z * math.sqrt(p * (1 - p) / n_adj)
    return f"{100 * max(p - margin, 0):.0f}–{100 * min(p + margin, 1):.0f}%"


def texts(cells: list[Any]) -> list[str]:
    return [c.text for c in cells]


# ----------------------------------------------------------------- formatting


@pytest.mark.parametrize(("shown", "expected"), [
    (sections.pct(2 / 3), "67%"), (sections.pct(None), DASH), (sections.pct(math.nan), DASH),
    (sections.pct_range(0.09, 0.91), "9–91%"), (sections.pct_range(0.1, None), DASH),
    (sections.secs(9.96), "10.0 s"), (sections.secs(99.94), "99.9 s"), (sections.secs(123.4), "123 s"),
    (sections.secs(math.inf), DASH), (sections.secs_range(10.24, 27.9), "10.2–27.9"),
    (sections.num(4.25, 2), "4.25"), (sections.num_range(4.2, 5.44), "4.2–5.4"), (sections.ms(299.6), "300 ms"),
    (sections.clock(7.9), "0:07"), (sections.clock(3725), "1:02:05"), (sections.clock(None), DASH),
    (sections.p_text(0.0004), "<0.001"), (sections.p_text(0.04999), "0.050"), (sections.p_text(None), DASH),
    (sections.day(1_764_000_000_000), "2025-11-24"), (sections.minute(1_764_000_000_000), "2025-11-24 16:00"),
])  # fmt: skip
def test_figures_read_at_the_documented_precision(shown: str, expected: str) -> None:
    assert shown == expected


# ---------------------------------------------------------------- the sections


def test_context_keeps_the_study_order(ctx: Context) -> None:
    assert ctx.variants == ["A", "B", "C"] and ctx.tasks == ["buy", "help"]
    assert ctx.prompts == {"buy": "Buy shoes.", "help": "Find help."}
    assert len({ctx.palette[v] for v in ctx.variants}) == 3  # one colour per variant
    assert ctx.task_row("buy", "C")["attempts"] == 0  # nobody used C: an empty row, not a KeyError


def test_overview_counts_who_took_part(ctx: Context) -> None:
    view = sections.overview(ctx, sections.session_times(ctx.results))
    assert (view.name, view.participants, view.sessions, view.attempts) == (
        "Checkout <views> & more",
        3,
        3,
        5,
    )
    assert view.dates == "2025-11-24"
    assert view.variants == [["A", "http://proto.test/A/", "2", "2"], ["B", "http://proto.test/B/", "1", "1"],
                             ["C", "http://proto.test/C/", "0", "0"]]  # fmt: skip
    assert view.tasks == [["buy", "Buy shoes.", "reached page /cart", "/ > /shoes > /cart"],
                          ["help", "Find help.", "clicked #help", DASH]]  # fmt: skip
    assert view.questionnaires == "SEQ after each task; SUS after the session"


def test_glance_tiles_tallies_and_hardest_tasks(ctx: Context) -> None:
    view = sections.glance(ctx, figures.sus_rows(ctx))
    a, b, c = view.tiles
    # A: buy 1 of 2, help 1 of 1; B: buy 1 of 1, help 0 of 1 (gave up); C: nobody.
    assert (a.variant, a.sessions, a.success, a.success_ci, a.success_detail) == (
        "A",
        2,
        "67%",
        wald(2, 3),
        "2 of 3 attempts",
    )
    assert (b.sessions, b.success, b.success_ci, b.success_detail) == (
        1,
        "50%",
        wald(1, 2),
        "1 of 2 attempts",
    )
    assert (c.sessions, c.success, c.success_ci, c.success_detail) == (0, DASH, DASH, "no attempts")
    # SUS: A (50 + 100) / 2 = 75.0, grade B (74.1-77.1); B 87.5, A+ (from 84.1); C none.
    assert (a.sus, a.sus_grade, b.sus, b.sus_grade, c.sus, c.sus_grade) == (
        "75.0",
        "B",
        "87.5",
        "A+",
        DASH,
        DASH,
    )
    assert b.sus_ci == DASH  # one answer: no interval
    assert view.tallies == [("B against A", [
        "success rate higher on 1 of 2 tasks, lower on 1", "time on task shorter on 1 of 1 task",
        "error rate lower on 1 of 2 tasks", "SEQ higher on 1 of 1 task",
        "mean SUS 87.5 against 75.0 (not clearly different)"])]  # fmt: skip
    # Three participants support no difference; four comparisons have an interval that includes none.
    assert (view.clear, view.more_clear, view.unclear) == ([], 0, 4)
    assert view.hardest == [f"help in B: 0% success (95% CI {wald(0, 1)}), 0 of 1 attempt",
                            f"buy in A: 50% success (95% CI {wald(1, 2)}), 1 of 2 attempts"]  # fmt: skip


def test_task_summary_rows_per_variant(ctx: Context) -> None:
    buy, help_ = sections.task_summaries(ctx)
    assert (buy.task, buy.prompt, help_.task) == ("buy", "Buy shoes.", "help")
    assert len(buy.rows[0]) == len(sections.SUMMARY_COLUMNS)
    # buy in A: P1 succeeded in 10.0 s, P2 failed after 20.0 s (GM of all: sqrt(200) = 14.1 s) with one
    # error marker and one misclick of 3 clicks; P2's path / > /help has lostness
    # sqrt((2/2 - 1)^2 + (3/2 - 1)^2) = 0.5, P1's 0: mean 0.25. SEQ (6 + 2) / 2.
    assert texts(buy.rows[0]) == ["A", "2", "50%", "10.0 s", "10.0 s", "14.1 s", "50%", "0.50", "33%", "0.25",
                                  "100%", "4.0"]  # fmt: skip
    assert [c.ci for c in buy.rows[0][2:4]] == [
        f"({wald(1, 2)})",
        None,
    ]  # one success: no time interval
    assert texts(buy.rows[1]) == ["B", "1", "100%", "5.0 s", "5.0 s", "5.0 s", "0%", "0.00", DASH, "0.00",
                                  "100%", "7.0"]  # fmt: skip
    assert texts(buy.rows[2]) == ["C", "0", *[DASH] * 10]
    assert all("none" in c.css for c in buy.rows[2][2:])  # missing figures are styled as missing
    # help in B: gave up after 2.0 s, so no success time, but a time of all attempts.
    assert texts(help_.rows[1])[:6] == ["B", "1", "0%", DASH, DASH, "2.0 s"]
    assert (buy.rows[0][2].metric, buy.rows[0][2].task, buy.rows[0][2].variant) == (
        "success_rate",
        "buy",
        "A",
    )
    assert buy.cautions[-1] == "C: No coded attempts: nothing to report."
    assert buy.cautions[0].startswith("A: Only 2 attempt")


def test_completion_matrix_one_row_per_session(ctx: Context) -> None:
    matrix = sections.completion_matrix(ctx, sections.session_times(ctx.results))
    assert matrix.tasks == [("buy", "Buy shoes."), ("help", "Find help.")]
    assert [texts(row) for row in matrix.rows] == [
        ["P1", "A", "2025-11-24 16:00", "✓ 10.0 s", "✓ 1.0 s", "2/2", "50.0", "F"],
        ["P2", "A", "2025-11-24 16:00", "✗ 20.0 s", "·", "0/1", "100.0", "A+"],
        ["P3", "B", "2025-11-24 16:00", "✓ 5.0 s", "⊘ 2.0 s", "1/2", "87.5", "A+"],
    ]
    not_tried = matrix.rows[1][4]
    assert (not_tried.title, "none" in not_tried.css) == ("not attempted", True)
    assert matrix.rows[1][3].title == "failure, 20.0 s, 1 error, path / > /help"
    assert [texts(row)[:5] for row in matrix.footer] == [
        ["A: succeeded", "A", "", "1/2", "1/1"], ["B: succeeded", "B", "", "1/1", "0/1"],
        ["C: succeeded", "C", "", DASH, DASH]]  # fmt: skip
    assert matrix.hidden == 0
    assert [m for _, m, _ in matrix.legend] == ["✓", "✗", "⊘", "»", "?"]


def test_comparisons_in_each_metrics_unit(ctx: Context) -> None:
    groups = {g.task: g for g in sections.comparisons(ctx)}
    assert list(groups) == ["buy", "help", "Whole study"]
    buy = {(r[0].text, r[1].text): texts(r) for r in groups["buy"].rows}
    # Rates read as percentages and their difference in points; times as a ratio B / A.
    assert buy[("Success rate", "B vs A")][2:5] == ["50%", "100%", "+50 pts"]
    assert buy[("Error rate", "B vs A")][2:5] == ["50%", "0%", "-50 pts"]
    assert buy[("Time on task (successes)", "B vs A")][2:6] == ["10.0 s", "5.0 s", "×0.500", DASH]
    assert buy[("SEQ", "B vs A")][2:5] == ["4.0", "7.0", "+3.0"]
    # Nothing recorded for C: the row says so in words, never a made-up figure.
    no_c = buy[("Success rate", "C vs A")]
    assert no_c[3:8] == [DASH] * 5 and "no data for C" in no_c[8]
    sus = {r[1].text: texts(r) for r in groups["Whole study"].rows}
    assert sus["B vs A"][:5] == ["SUS", "B vs A", "75.0", "87.5", "+12.5"]
    assert not any(c for g in groups.values() for c in g.clear)  # three people decide nothing
    assert not any(r[8].text.startswith("Clear: ") for g in groups.values() for r in g.rows)


def test_markers_by_task_then_outside_any_task(ctx: Context) -> None:
    groups, hidden = sections.marker_groups(ctx)
    assert hidden == 0
    assert [(g.task, g.prompt, g.counts) for g in groups] == [
        ("buy", "Buy shoes.", "1 error"), ("help", "Find help.", "1 note"),
        ("outside any task", "", "1 critical incident")]  # fmt: skip
    assert [texts(g.rows[0]) for g in groups] == [
        ["P2", "A", "0:01", "error", "typed in search"], ["P3", "B", "0:07", "note", "liked <b>it</b>"],
        ["P1", "A", "0:15", "critical incident", "page froze"]]  # fmt: skip


# ----------------------------------------------------------------- the figures


def test_success_and_error_charts(ctx: Context) -> None:
    success = figures.success_chart(ctx)
    assert success.svg is not None and "Success rate per task and variant" in success.svg
    assert success.rows == [
        ["buy", "A", "2", "1", "50%", wald(1, 2)], ["buy", "B", "1", "1", "100%", wald(1, 1)],
        ["buy", "C", "0", "0", DASH, DASH], ["help", "A", "1", "1", "100%", wald(1, 1)],
        ["help", "B", "1", "0", "0%", wald(0, 1)], ["help", "C", "0", "0", DASH, DASH]]  # fmt: skip
    assert "no attempts" in success.svg  # C's rows say why they are empty
    errors = figures.error_chart(ctx)
    assert errors.rows[:2] == [
        ["buy", "A", "2", "50%", wald(1, 2), "0.50"],
        ["buy", "B", "1", "0%", wald(0, 1), "0.00"],
    ]


def test_time_chart_points_and_geometric_means(ctx: Context) -> None:
    chart = figures.time_chart(ctx)
    assert chart.rows[:2] == [["buy", "A", "1", "10.0 s", DASH, "10.0 s", "14.1 s"],
                              ["buy", "B", "1", "5.0 s", DASH, "5.0 s", "5.0 s"]]  # fmt: skip
    assert chart.rows[4] == ["help", "B", "0", DASH, DASH, DASH, "2.0 s"]
    assert chart.svg is not None
    for tooltip in ("P1 (A): 10.0 s, success", "P2 (A): 20.0 s, failure", "P3 (B): 2.0 s, gave up"):
        assert f"<title>{tooltip}</title>" in chart.svg


def test_misclick_seq_and_sus_charts(ctx: Context) -> None:
    misclicks = figures.misclick_chart(ctx)
    assert misclicks.rows[0] == ["buy", "A", "3", "1", "33%", "0"]  # a card, then two links
    assert misclicks.rows[1] == ["buy", "B", "0", "0", DASH, "0"]  # P3 never clicked
    seq = figures.seq_chart(ctx)
    assert [r[:4] for r in seq.rows[:3]] == [["buy", "A", "2", "4.0"], ["buy", "B", "1", "7.0"],
                                             ["buy", "C", "0", DASH]]  # fmt: skip
    sus = figures.sus_chart(ctx, figures.sus_rows(ctx))
    assert [[*r[:3], *r[4:6]] for r in sus.rows] == [["A", "2", "75.0", "75.0", "B"], ["B", "1", "87.5", "87.5", "A+"],
                                                 ["C", "0", DASH, DASH, DASH]]  # fmt: skip
    assert sus.svg is not None
    for score in ("P1 (A): 50", "P2 (A): 100", "P3 (B): 87.5"):
        assert f"<title>{score}</title>" in sus.svg


# ------------------------------------------------------------------- the pages


def test_flows_highlight_the_expected_path_and_the_way_astray(ctx: Context) -> None:
    (buy, help_) = pages.flows(ctx)
    a, b, c = buy.flows
    assert (a.id, a.task, a.variant) == ("flow-0-0", "buy", "A")
    assert a.reference == "Top row: the study's expected path (/ > /shoes > /cart)."
    assert a.followed == "1 of 2 attempts followed it exactly."
    assert a.astray == ["/ → /help instead of /shoes: 1 time"]
    assert sorted(list(r) for r in a.chart.rows) == [["/", "/help", "1", "no"], ["/", "/shoes", "1", "yes"],
                                    ["/shoes", "/cart", "1", "yes"]]  # fmt: skip
    assert b.followed == "1 of 1 attempt followed it exactly." and b.astray == []
    assert (c.chart.svg, c.chart.empty, c.followed) == (
        None,
        "No attempts at this task in this variant.",
        "",
    )
    # help sets no expected path: the shortest successful one stands in, or nothing.
    assert help_.flows[0].reference == (
        "Top row: the shortest successful path (the study sets no expected path) (/cart)."
    )
    assert help_.flows[1].reference == "Top row: no expected path and no successful attempt."


def test_click_maps_and_top_elements(ctx: Context) -> None:
    maps, hidden, elements = pages.click_sections(ctx)
    assert ([m.page for m in maps], hidden) == (["/", "/shoes", "/cart"], 0)  # most clicked first
    home = maps[0].chart
    assert (home.id, home.title) == ("clickmap-0", "Click map of /")
    assert home.rows == [
        ["A", "2", "1", "0", "1", "50%"],  # P2's click on the card got no reaction: dead
        ["B", "0", "0", "0", "0", DASH],
        ["C", "0", "0", "0", "0", DASH],
    ]
    assert home.svg is not None and "P2: misclick on div.card" in home.svg
    # label (none recorded here), selector, page, variant, clicks, misclicks, rage bursts, dead clicks
    assert elements.misclicked == [["", "div.card", "/", "A", "1", "1", "0", "1"]]
    assert [row[1] for row in elements.clicked] == ["#add", "#help", "a#shoes", "div.card"]


def test_speed_chart_medians_per_page(ctx: Context) -> None:
    chart = pages.speed_chart(ctx)
    # Only real loads carry Navigation Timing; single-page navigations are not timed.
    assert chart.rows == [["/", "A", "1", "300 ms", "40 ms"], ["/", "B", "1", "500 ms", "60 ms"],
                          ["/shoes", "A", "1", "500 ms", "100 ms"]]  # fmt: skip
    assert chart.svg is not None and chart.note == ""


# ------------------------------------------------------------- missing data


def test_a_study_without_sessions_says_so_everywhere(empty: Context) -> None:
    times = sections.session_times(empty.results)
    view = sections.overview(empty, times)
    assert (view.dates, view.participants, view.sessions, view.attempts) == (
        "no sessions recorded",
        0,
        0,
        0,
    )
    assert [t.success_detail for t in sections.glance(empty, figures.sus_rows(empty)).tiles] == [
        "no attempts"
    ] * 3
    expected_empty = {
        "chart-success": "No coded attempts yet.", "chart-time": "No timed attempts yet.",
        "chart-errors": "No coded attempts yet.", "chart-misclicks": "No clicks recorded inside attempts.",
        "chart-seq": "No SEQ answers recorded.", "chart-sus": "No SUS answers recorded.",
        "chart-page-speed": "No page loads with Navigation Timing recorded.",
    }  # fmt: skip
    charts = [figures.success_chart(empty), figures.time_chart(empty), figures.error_chart(empty),
              figures.misclick_chart(empty), figures.seq_chart(empty),
              figures.sus_chart(empty, figures.sus_rows(empty)), pages.speed_chart(empty)]  # fmt: skip
    assert {c.id: c.empty for c in charts if c.svg is None} == expected_empty
    assert pages.click_sections(empty) == ([], 0, pages.Elements([], []))
    assert sections.marker_groups(empty) == ([], 0)
    assert sections.completion_matrix(empty, times).rows == []
    cells = [c.text for s in sections.task_summaries(empty) for row in s.rows for c in row[2:]]
    assert set(cells) == {DASH}


# -------------------------------------------------------------- hostile text


PAYLOAD = '<script>alert(1)</script><img src=x onerror="alert(2)">'


def test_text_from_the_data_is_escaped_in_every_chart(tmp_path: Path) -> None:
    doc = {**STUDY, "tasks": [{**STUDY["tasks"][0], "id": "buy", "prompt": PAYLOAD}]}
    db = tmp_path / "uxlab.db"
    with Recorder(db, doc) as rec:
        p1 = rec.session("P1", "A")
        rec.send(p1, [{"type": "page", "t": 0, "url": url("A", "/<b>x</b>"), "timing": {"load": 200}},
                      click(900, PAYLOAD, 10, 10, interactive=False)])  # fmt: skip
        rec.send(p1, [{"type": "task_start", "t": 100, "task": "buy"},
                      {"type": "task_end", "t": 3000, "task": "buy", "outcome": "failure"}],
                 page="console", moderator=True)  # fmt: skip
    hostile = Context(analyze(db, "views", cache=False), parse_study(doc))
    maps, _, elements = pages.click_sections(hostile)
    drawn = [maps[0].chart.svg, pages.flows(hostile)[0].flows[0].chart.svg, figures.success_chart(hostile).svg,
             pages.speed_chart(hostile).svg]  # fmt: skip
    for svg in drawn:
        assert svg is not None
        assert "<script" not in svg and "<img" not in svg and "<b>" not in svg
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in str(
        maps[0].chart.svg
    )  # shown as text, not dropped
    assert "/&lt;b&gt;x&lt;/b&gt;" in str(pages.flows(hostile)[0].flows[0].chart.svg)
    assert elements.misclicked[0][1:3] == [
        PAYLOAD,
        "/<b>x</b>",
    ]  # the table gets plain text; Jinja escapes it
