"""``uxlab report``: one self-contained HTML file, opened in a real Chromium.

Studies are recorded in-process (``tests/scripted.py``: simulated or
scripted sessions through the recorder's own validation and store into a
real SQLite file), or
sent over HTTP by ``uxlab simulate`` to a real ``uxlab serve``. The report
is written by the real CLI and read back in headless Chromium: nothing may
be fetched, nothing may be logged as an error, every section and chart must
be there, and every figure shown must equal ``uxlab analyze --format json``
at the precision it is displayed.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from analyzer.metrics.analyze import analyze
from analyzer.report.render import SECTIONS, render_report
from recorder.storage import store
from recorder.wire import schema
from tests.conftest import STUDY_DOC, Server, uxlab_cmd
from tests.scripted import Recorder, record_simulated

pytestmark = pytest.mark.browser

END_MS = 1_764_000_000_000.0
CHARTS = ("chart-success", "chart-time", "chart-errors", "chart-misclicks", "chart-page-speed",
          "chart-sus", "chart-seq")  # fmt: skip
NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")
NOT_A_FIGURE = re.compile(r"\b(nan|NaN|None|null|undefined|inf|Infinity)\b")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the real CLI."""
    return subprocess.run(uxlab_cmd(*args), capture_output=True, text=True, timeout=180)


def analyze_json(db: Path, study: str) -> dict[str, list[dict[str, Any]]]:
    """``uxlab analyze STUDY --format json``, parsed."""
    out = run("analyze", study, "--format", "json", "--db", str(db))
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def write_report(db: Path, study: str, path: Path) -> Path:
    out = run("report", study, "-o", str(path), "--db", str(db))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"wrote {path}"
    return path


class Opened:
    """A report open in Chromium, with every request and console error it caused."""

    def __init__(self, browser: Any, path: Path) -> None:
        self.page = browser.new_page(viewport={"width": 1280, "height": 800})
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.url = path.resolve().as_uri()
        self.page.goto(self.url)

    def eval(self, script: str, arg: Any = None) -> Any:
        return self.page.evaluate(script, arg)

    def text(self, selector: str) -> str:
        return str(self.eval("s => document.querySelector(s).textContent", selector))


@pytest.fixture
def opened(browser: Any) -> Iterator[Any]:
    pages: list[Opened] = []

    def open_report(path: Path) -> Opened:
        pages.append(Opened(browser, path))
        return pages[-1]

    yield open_report
    for report in pages:
        report.page.close()


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A 12-participant study with A/B variants, its report and its analysis."""
    folder = tmp_path_factory.mktemp("report")
    db = folder / "uxlab.db"
    record_simulated(db, STUDY_DOC, 12, seed=4)
    report = write_report(db, STUDY_DOC["id"], folder / "report.html")
    return {"db": db, "report": report, "tables": analyze_json(db, STUDY_DOC["id"])}


# -------------------------------------------------------------------- helpers


def numbers(shown: str) -> list[tuple[float, int]]:
    """The numbers in a displayed text, each with its count of decimals."""
    return [(float(n), len(n.split(".")[1]) if "." in n else 0) for n in NUMBER.findall(shown)]


def assert_shown(shown: str, *values: float | None, scale: float = 1.0) -> None:
    """``shown`` displays ``values`` (times ``scale``), each to within half its last digit."""
    if all(v is None for v in values):
        assert shown.strip() in ("—", ""), shown
        return
    found = numbers(shown)
    assert len(found) >= len(values), (shown, values)
    for (number, decimals), value in zip(found, values, strict=False):
        assert value is not None, shown
        assert abs(number - value * scale) <= 0.5 * 10.0**-decimals + 1e-9, (shown, value)


def visible_text(report: Opened) -> str:
    return str(report.eval("document.body.innerText"))


# ---------------------------------------------------------------------- tests


def test_report_opens_offline_with_every_section_and_chart(
    simulated: dict[str, Any], opened: Any
) -> None:
    report = opened(simulated["report"])
    assert report.requests == [report.url]
    assert report.errors == []
    assert report.eval("document.scripts.length") == 0
    for section, heading in SECTIONS:
        assert report.text(f"section#{section} > h2") == heading
        assert report.eval("id => !!document.querySelector(`nav a[href='#${id}']`)", section)
    tasks, variants = (
        [t["id"] for t in STUDY_DOC["tasks"]],
        [v["id"] for v in STUDY_DOC["variants"]],
    )
    flows = [f"flow-{i}-{j}" for i in range(len(tasks)) for j in range(len(variants))]
    maps = report.eval("[...document.querySelectorAll('figure[id^=clickmap-]')].map(f => f.id)")
    assert maps and maps[0] == "clickmap-0"
    for chart in [*CHARTS, *flows, *maps]:
        figure = report.eval("""id => {
            const f = document.getElementById(id), svg = f.querySelector('svg');
            return svg && {title: svg.querySelector(':scope > title').textContent,
                           axes: [...svg.querySelectorAll('text.axis-label')].map(t => t.textContent),
                           table: f.querySelectorAll('details.numbers table tbody tr').length,
                           width: svg.getBoundingClientRect().width};
        }""", chart)  # fmt: skip
        assert figure, f"{chart} has no chart"
        assert figure["title"] and len(figure["axes"]) >= 1 and figure["table"] >= 1, (
            chart,
            figure,
        )
        assert 0 < figure["width"] <= 1240, (chart, figure)
    assert report.eval("document.querySelectorAll('#top-elements table tbody tr').length") >= 2
    assert not NOT_A_FIGURE.search(visible_text(report))


def test_summary_figures_equal_the_analysis(simulated: dict[str, Any], opened: Any) -> None:
    report = opened(simulated["report"])
    cells = report.eval("""() => [...document.querySelectorAll('#task-summary td[data-metric]')].map(td => ({
        task: td.dataset.task, variant: td.dataset.variant, metric: td.dataset.metric,
        value: (td.querySelector('.v') || td).textContent, ci: td.querySelector('.ci')?.textContent}))""")
    shown = {(c["task"], c["variant"], c["metric"]): c for c in cells}
    rows = simulated["tables"]["tasks"]
    assert len(rows) == 6 and len(cells) == 6 * 11
    for row in rows:
        cell = lambda metric, row=row: shown[(row["task"], row["variant"], metric)]  # noqa: E731
        assert cell("attempts")["value"] == str(row["attempts"])
        for metric, low, high, scale in (("success_rate", "success_ci_low", "success_ci_high", 100.0),
                                         ("time_gm_s", "time_ci_low", "time_ci_high", 1.0),
                                         ("error_rate", "error_rate_ci_low", "error_rate_ci_high", 100.0)):  # fmt: skip
            assert_shown(cell(metric)["value"], row[metric], scale=scale)
            assert_shown(cell(metric)["ci"], row[low], row[high], scale=scale)
        for metric in (
            "time_median_s",
            "time_gm_all_s",
            "errors_per_attempt",
            "lostness_mean",
            "seq_mean",
        ):
            assert_shown(cell(metric)["value"], row[metric])
        for metric in ("misclick_rate", "directness_rate"):
            assert_shown(cell(metric)["value"], row[metric], scale=100.0)


def test_charts_show_the_analysis(simulated: dict[str, Any], opened: Any) -> None:
    report, tables = opened(simulated["report"]), simulated["tables"]
    success = report.eval(
        "[...document.querySelectorAll('#chart-success svg text.value')].map(t => t.textContent)"
    )
    assert len(success) == len(tables["tasks"])
    for text, row in zip(success, tables["tasks"], strict=True):  # task by task, variant by variant
        assert_shown(
            text, row["success_rate"], row["success_ci_low"], row["success_ci_high"], scale=100.0
        )
        assert text.endswith(f"n={row['attempts']}")
    timed = [a for a in tables["attempts"] if a["outcome"] != "uncoded" and (a["time_s"] or 0) > 0]
    assert report.eval(
        "document.querySelectorAll('#chart-time svg circle:has(title)').length"
    ) == len(timed)
    geometric = report.eval(
        "[...document.querySelectorAll('#chart-time svg text.value')].map(t => t.textContent)"
    )
    for text, row in zip(geometric, tables["tasks"], strict=True):
        assert_shown(text, row["time_gm_s"], row["time_ci_low"], row["time_ci_high"])
    # Flows: the table under each flow chart holds its task x variant's transitions.
    for i, task in enumerate(t["id"] for t in STUDY_DOC["tasks"]):
        for j, variant in enumerate(v["id"] for v in STUDY_DOC["variants"]):
            steps = report.eval("""id => [...document.querySelectorAll(`#${id} details tbody tr`)]
                                   .map(tr => [...tr.cells].map(c => c.textContent))""", f"flow-{i}-{j}")  # fmt: skip
            expected = {(t["from"], t["to"]): t["count"] for t in tables["transitions"]
                        if t["task"] == task and t["variant"] == variant}  # fmt: skip
            assert {(a, b): int(n) for a, b, n, _ in steps} == expected
    # Page speed: one table row per page x variant with its medians.
    speed = report.eval("""[...document.querySelectorAll('#chart-page-speed details tbody tr')]
                           .map(tr => [...tr.cells].map(c => c.textContent))""")  # fmt: skip
    by_key = {(r["page"], r["variant"]): r for r in tables["page_speed"]}
    assert len(speed) == len(by_key)
    for page, variant, loads, load_ms, ttfb_ms in speed:
        row = by_key[(page, variant)]
        assert int(loads) == row["loads"]
        assert_shown(load_ms, row["load_ms_median"])
        assert_shown(ttfb_ms, row["ttfb_ms_median"])
    # Clicks: every click with a position is drawn on its page's map.
    marks = report.eval(
        "document.querySelectorAll('figure[id^=clickmap-] svg :is(circle, g):has(> title)').length"
    )
    conn = sqlite3.connect(simulated["db"])
    clicks = conn.execute("SELECT count(*) FROM events WHERE type = ?", (schema.CLICK,)).fetchone()[
        0
    ]
    conn.close()
    assert marks == clicks


def test_matrix_comparisons_and_questionnaires_equal_the_analysis(
    simulated: dict[str, Any], opened: Any
) -> None:
    report, tables = opened(simulated["report"]), simulated["tables"]
    cells = report.eval("""() => [...document.querySelectorAll('#completion-matrix tbody tr')].flatMap(tr =>
        [...tr.querySelectorAll('td[data-metric=outcome]')].map(td => ({
            participant: tr.cells[0].textContent, variant: td.dataset.variant, task: td.dataset.task,
            text: td.textContent})))""")
    marks = {"success": "✓", "failure": "✗", "abandoned": "⊘", "skipped": "»", "uncoded": "?"}
    attempts = defaultdict(list)
    for a in tables["attempts"]:
        attempts[(a["participant"], a["variant"], a["task"])].append(a)
    assert len(cells) == len(tables["participants"]) * len(STUDY_DOC["tasks"])
    for cell in cells:
        mine = attempts[(cell["participant"], cell["variant"], cell["task"])]
        assert [part[0] for part in cell["text"].split(" s") if part.strip()] == [
            marks[a["outcome"]] for a in mine
        ]
        assert_shown(cell["text"], *(a["time_s"] for a in mine))
    rows = report.eval("""() => [...document.querySelectorAll('#comparisons tbody tr:not(.task-head)')]
                           .map(tr => [...tr.cells].map(c => c.textContent))""")  # fmt: skip
    comparisons = tables["comparisons"]
    assert len(rows) == len(comparisons)
    for (_, pair, a, b, difference, interval, test, p, reading, _), row in zip(
        rows, comparisons, strict=True
    ):
        scale = 100.0 if row["metric"].endswith("_rate") else 1.0
        assert pair == f"{row['variant_b']} vs {row['variant_a']}"
        assert_shown(a, row["value_a"], scale=scale)
        assert_shown(b, row["value_b"], scale=scale)
        assert_shown(difference, row["difference"], scale=scale)
        assert_shown(interval, row["ci_low"], row["ci_high"], scale=scale)
        assert test == (row["test"] or "—")
        if row["p_value"] is not None and row["p_value"] >= 0.001:
            assert_shown(p, row["p_value"])
        assert reading.removeprefix("Clear: ") == row["reading"]
    sus = report.eval("""[...document.querySelectorAll('#chart-sus details tbody tr')]
                         .map(tr => [...tr.cells].map(c => c.textContent))""")  # fmt: skip
    for variant, answers, mean, *_ in sus:
        scores = [
            p["sus"]
            for p in tables["participants"]
            if p["variant"] == variant and p["sus"] is not None
        ]
        assert int(answers) == len(scores)
        assert_shown(mean, sum(scores) / len(scores))
    seq = report.eval(
        "[...document.querySelectorAll('#chart-seq svg text.value')].map(t => t.textContent)"
    )
    for text, row in zip(seq, tables["tasks"], strict=True):
        assert_shown(text, row["seq_mean"], row["seq_ci_low"], row["seq_ci_high"])
    shown_markers = report.eval(
        "[...document.querySelectorAll('#markers td.note')].map(t => t.textContent)"
    )
    assert sorted(shown_markers) == sorted(m["text"] for m in tables["markers"])


def test_report_prints_one_section_per_page(simulated: dict[str, Any], opened: Any) -> None:
    report = opened(simulated["report"])
    report.page.set_viewport_size({"width": 1047, "height": 740})  # A4 landscape less 10 mm margins
    report.page.emulate_media(media="print")
    styles = report.eval(
        "[...document.querySelectorAll('section.part')].map(s => getComputedStyle(s).breakBefore)"
    )
    assert styles[0] == "auto" and set(styles[1:]) == {"page"}
    figures = report.eval(
        "[...document.querySelectorAll('figure')].map(f => getComputedStyle(f).breakInside)"
    )
    assert figures and set(figures) == {"avoid"}
    cut = report.eval("""() => [...document.querySelectorAll('table, svg, figure, .tiles')]
        .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
        .map(e => e.closest('[id]').id)""")  # fmt: skip
    assert cut == []
    pdf = report.page.pdf(prefer_css_page_size=True)
    assert pdf.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page(?!s)", pdf)) >= len(SECTIONS)


PAYLOAD = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">"quoted" \'single\' &amp;'


def test_text_from_pages_and_moderators_is_shown_never_run(db_path: Path, opened: Any) -> None:
    doc = {**STUDY_DOC, "name": f"Study {PAYLOAD}",
           "tasks": [{**STUDY_DOC["tasks"][0], "prompt": f"Prompt {PAYLOAD}"}]}  # fmt: skip
    rec = Recorder(db_path, doc)
    evil_url = "http://proto.test/A/<script>window.__pwned=3</script>"
    for n, variant in enumerate(("A", "B")):
        info = rec.session(f"P{n}", variant)
        page = [
            {"seq": 0, "t": 0, "type": "page", "url": f"http://proto.test/{variant}/", "timing": {"load": 300}},
            {"seq": 1, "t": 900, "type": "click", "x": 40, "y": 50, "sel": PAYLOAD, "label": PAYLOAD,
             "interactive": False},
            {"seq": 2, "t": 3000, "type": "page", "url": evil_url, "title": PAYLOAD},
        ]  # fmt: skip
        moderator = [
            {"seq": 0, "t": 100, "type": "task_start", "task": "buy-shoes"},
            {"seq": 1, "t": 2000, "type": "marker", "kind": "note", "text": PAYLOAD},
            {
                "seq": 2,
                "t": 5000,
                "type": "task_end",
                "task": "buy-shoes",
                "outcome": "failure",
            },
        ]
        rec.send(info, page)
        rec.send(info, moderator, page="console", moderator=True)
    rec.close()
    path = write_report(db_path, doc["id"], db_path.with_name("report.html"))
    html = path.read_text()
    assert "<script" not in html.lower() and "<img" not in html.lower()
    report = opened(path)
    assert report.eval("window.__pwned") is None
    assert report.requests == [report.url] and report.errors == []
    assert report.text("h1") == f"Study {PAYLOAD}"
    assert report.page.title().startswith(f"Study {PAYLOAD}")
    assert (
        report.eval("[...document.querySelectorAll('#markers td.note')].map(t => t.textContent)")
        == [PAYLOAD] * 2
    )
    assert report.page.get_by_text(f"Prompt {PAYLOAD}").first.is_visible()
    elements = report.eval(
        "[...document.querySelectorAll('#top-elements td.mono')].map(t => t.textContent)"
    )
    assert PAYLOAD in elements
    # Inside SVG too: the page key and the selector are text of the flow and the click map.
    flow = report.text("#flow-0-0 svg")
    assert "/<script>window.__pwned=3</script>" in flow
    assert PAYLOAD in report.text("#clickmap-0 svg")


def test_missing_data_reads_as_no_data(db_path: Path, opened: Any) -> None:
    """A variant nobody used, sessions without a single click or page load, no questionnaire."""
    doc = {
        **STUDY_DOC,
        "variants": [*STUDY_DOC["variants"], {"id": "C", "url": "http://proto.test/C/"}],
    }
    rec = Recorder(db_path, doc)
    for n, variant in enumerate(("A", "B", "A")):
        info = rec.session(f"P{n}", variant)
        moderator = [{"seq": 0, "t": 0, "type": "task_start", "task": "find-help"},
                     {"seq": 1, "t": 30_000 * (n + 1), "type": "task_end", "task": "find-help",
                      "outcome": "success" if n else "abandoned"}]  # fmt: skip
        rec.send(info, moderator, page="console", moderator=True)
    rec.close()
    report = opened(write_report(db_path, doc["id"], db_path.with_name("report.html")))
    assert report.requests == [report.url] and report.errors == []
    text = visible_text(report)
    assert not NOT_A_FIGURE.search(text), NOT_A_FIGURE.search(text)
    for section in ("click-maps", "page-speed", "questionnaires"):
        assert "No data:" in report.text(f"section#{section}")
    assert "no attempts" in report.text("#chart-success svg")  # variant C's rows
    assert report.eval("document.querySelector('#task-summary td[data-variant=C][data-metric=success_rate]')"
                       ".textContent") == "—"  # fmt: skip


def test_a_study_without_sessions_renders_in_process(db_path: Path, fresh_db: sqlite3.Connection,
                                                     opened: Any) -> None:  # fmt: skip
    """The console's call: just the results and the study, nothing recorded yet."""
    study = store.load_study(fresh_db, STUDY_DOC["id"])
    html = render_report(analyze(db_path, study.id), study)
    path = db_path.with_name("empty.html")
    path.write_text(html)
    report = opened(path)
    assert report.errors == [] and report.requests == [report.url]
    assert not NOT_A_FIGURE.search(visible_text(report))
    assert report.eval("document.querySelectorAll('p.empty').length") >= 8


@pytest.mark.parametrize(("args", "message"), [
    (["report", "nope", "-o", "{tmp}/r.html"], "no study 'nope'"),
    (["report", "checkout-2026", "-o", "{tmp}/missing/r.html"], "does not exist"),
])  # fmt: skip
def test_mistakes_are_one_line(tmp_path: Path, fresh_db: sqlite3.Connection, db_path: Path,
                               args: list[str], message: str) -> None:  # fmt: skip
    out = run(*(a.format(tmp=tmp_path) for a in args), "--db", str(db_path))
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and message in out.stderr, out.stderr


def test_report_of_a_uxlab_simulate_study(server: Server, opened: Any) -> None:
    """End to end: participants sent over HTTP by ``uxlab simulate``, then ``uxlab report``."""
    study = server.load_study()
    env = {**os.environ, "UXLAB_ADMIN_TOKEN": server.admin_token}
    out = subprocess.run(uxlab_cmd("simulate", study, "--participants", "6", "--seed", "2", "--url", server.url),
                         capture_output=True, text=True, timeout=180, env=env)  # fmt: skip
    assert out.returncode == 0, out.stderr
    path = write_report(server.db_path, study, server.db_path.with_name("demo.html"))
    report = opened(path)
    assert report.requests == [report.url] and report.errors == []
    tables = analyze_json(server.db_path, study)
    success = report.eval(
        "[...document.querySelectorAll('#chart-success svg text.value')].map(t => t.textContent)"
    )
    assert len(success) == len(tables["tasks"]) == 6
    for text, row in zip(success, tables["tasks"], strict=True):
        assert_shown(
            text, row["success_rate"], row["success_ci_low"], row["success_ci_high"], scale=100.0
        )
    for section, _ in SECTIONS:
        assert report.eval("id => !!document.getElementById(id)", section)


def test_markers_by_participant_then_time_and_a_shared_id_warned_at_a_glance(
    db_path: Path, opened: Any
) -> None:
    # Issue 12, items 16 and 5: markers ordered by participant, then time, saying what the
    # time is measured from; ids seen in both variants of a between study are warned about.
    record_simulated(db_path, STUDY_DOC, 6, seed=3, within=True)
    report = opened(write_report(db_path, STUDY_DOC["id"], db_path.with_name("within.html")))
    assert report.errors == []
    warning = report.text("#at-a-glance [data-warning=design]")
    assert "6 participant ids (P01, P02, P03, P04, P05, ...) seen in both A and B" in warning
    assert 'design = "within"' in warning
    assert "session's first event" in report.text("#markers")
    groups = report.eval("""[...document.querySelectorAll('#markers .marker-task tbody')].map(b =>
        [...b.rows].map(tr => [tr.cells[0].textContent, tr.cells[1].textContent, tr.cells[2].textContent]))""")
    assert sum(len(g) for g in groups) > 5

    def seconds(clock: str) -> int:
        minutes, secs = clock.split(":")[-2:]
        return int(minutes) * 60 + int(secs)

    for rows in groups:
        keys = [(who, variant, seconds(at)) for who, variant, at in rows]
        assert keys == sorted(keys)
