"""The report's page-level sections: click paths, click maps, most-clicked elements, page speed.

View models for ``templates/report.html``, built from the ``transitions``,
``attempts``, ``clicks`` and ``page_speed`` tables (see
:mod:`analyzer.report.sections` for the shapes and number formats).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from analyzer.metrics.analyze import PATH_SEPARATOR
from analyzer.numbers import plural
from analyzer.report import charts
from analyzer.report.charts import Click, Group, Legend, PageNode, Row, Step
from analyzer.report.page_images import PageImage
from analyzer.report.sections import DASH, Chart, Context, ms, pct

OFF_PATH_PAGES = 8  # pages drawn below the path; the rest fold into OTHER
OTHER = "(other pages)"
MAP_PAGES = 12  # click maps drawn, most-clicked pages first
MAP_POINTS = 1500  # clicks drawn per panel at most
TOP_ELEMENTS = 10
SPEED_PAGES = 20


# ----------------------------------------------------------------- click paths


@dataclass(frozen=True)
class Flow:
    """One task x variant's click-path flow and where people went astray."""

    id: str
    task: str
    variant: str
    chart: Chart
    reference: str  # which path is highlighted, in words
    followed: str  # "3 of 6 attempts followed it exactly"
    astray: list[str]


@dataclass(frozen=True)
class FlowGroup:
    """A task's flows, one per variant."""

    task: str
    prompt: str
    flows: list[Flow]


def _paths(ctx: Context) -> dict[tuple[str, str], list[tuple[list[str], str]]]:
    paths: dict[tuple[str, str], list[tuple[list[str], str]]] = defaultdict(list)
    for a in ctx.results.attempts:
        if a["path"]:
            paths[(a["task"], a["variant"])].append((a["path"].split(PATH_SEPARATOR), a["outcome"]))
    return paths


def _reference(expected: list[str], paths: list[tuple[list[str], str]]) -> tuple[list[str], str]:
    if expected:
        return expected, "the study's expected path"
    won = [p for p, outcome in paths if outcome == "success"]
    if won:
        return min(won, key=len), "the shortest successful path (the study sets no expected path)"
    return [], "no expected path and no successful attempt"


def flows(ctx: Context) -> list[FlowGroup]:
    """Per task, per variant: the page-to-page flow with the expected path highlighted."""
    steps: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for t in ctx.results.transitions:
        steps[(t["task"], t["variant"])].append(t)
    paths = _paths(ctx)
    expected = {t.id: list(t.expected_path) for t in ctx.study.tasks}
    groups = []
    for i, task in enumerate(ctx.tasks):
        group = [_flow(f"flow-{i}-{j}", task, v, steps.get((task, v), []), paths.get((task, v), []),
                       expected.get(task, [])) for j, v in enumerate(ctx.variants)]  # fmt: skip
        groups.append(FlowGroup(task, ctx.prompts.get(task, ""), group))
    return groups


def _flow(chart_id: str, task: str, variant: str, transitions: list[dict[str, Any]],
          paths: list[tuple[list[str], str]], expected: list[str]) -> Flow:  # fmt: skip
    reference, words = _reference(expected, paths)
    on_path = list(dict.fromkeys(reference))
    expected_steps = set(pairwise(reference))
    traffic: Counter[str] = Counter()
    for t in transitions:
        traffic[t["from"]] += t["count"]
        traffic[t["to"]] += t["count"]
    for path, _ in paths:
        traffic.update(path[:1])
    off = [k for k, _ in traffic.most_common() if k not in on_path]
    shown_off, folded = off[:OFF_PATH_PAGES], set(off[OFF_PATH_PAGES:])

    def place(key: str) -> str:
        return OTHER if key in folded else key

    merged: Counter[tuple[str, str]] = Counter()
    for t in transitions:
        merged[(place(t["from"]), place(t["to"]))] += t["count"]
    started, ended_ok, ended_bad = Counter[str](), Counter[str](), Counter[str]()
    for path, outcome in paths:
        started[place(path[0])] += 1
        (ended_ok if outcome == "success" else ended_bad)[place(path[-1])] += 1
    keys = on_path + shown_off + ([OTHER] if folded else [])
    nodes = [PageNode(k, k in on_path, started[k], ended_ok[k], ended_bad[k]) for k in keys]
    step_list = [Step(a, b, n, (a, b) in expected_steps) for (a, b), n in merged.items()]
    title = f"Click paths: {task}, variant {variant}"
    table = sorted(([a, b, n, "yes" if (a, b) in expected_steps else "no"] for (a, b), n in merged.items()),
                   key=lambda r: -int(r[2]))  # fmt: skip
    svg = None
    if paths or merged:
        svg = charts.flow_chart(chart_id, title, f"Page-to-page steps of {task} in variant {variant}; "
                                f"the top row is {words}.", nodes, step_list)  # fmt: skip
    chart = Chart(chart_id, title, svg, ("From", "To", "Times", "On the expected path"),
                  [[str(c) for c in row] for row in table], "No attempts at this task in this variant.")  # fmt: skip
    exact = sum(1 for path, _ in paths if reference and path == reference)
    followed = (
        f"{exact} of {plural(len(paths), 'attempt')} followed it exactly."
        if paths and reference
        else ""
    )
    return Flow(chart_id, task, variant, chart, f"Top row: {words}" + (
        f" ({PATH_SEPARATOR.join(reference)})." if reference else "."), followed,
        _astray(merged, reference, expected_steps))  # fmt: skip


def _astray(merged: Mapping[tuple[str, str], int], reference: list[str],
            expected_steps: set[tuple[str, str]]) -> list[str]:  # fmt: skip
    """The most taken steps that left the path, with where the path went instead."""
    nxt = dict(pairwise(reference))
    on = set(reference)
    wrong = [
        (k, n) for k, n in merged.items() if k not in expected_steps and k[0] in on and k[1] != k[0]
    ]
    wrong.sort(key=lambda item: -item[1])
    lines = []
    for (a, b), n in wrong[:5]:
        instead = f" instead of {nxt[a]}" if a in nxt and nxt[a] != b else ""
        lines.append(f"{a} → {b}{instead}: {n} time{'s' if n != 1 else ''}")
    return lines


# ------------------------------------------------------------------ click maps


@dataclass(frozen=True)
class ClickMap:
    """A page's click map (a panel per variant)."""

    page: str
    chart: Chart


@dataclass(frozen=True)
class Elements:
    """The most-clicked and most-misclicked elements."""

    clicked: list[list[str]]
    misclicked: list[list[str]]


Pictures = Callable[[set[str]], Mapping[tuple[str, str], PageImage]]


def click_sections(ctx: Context, pictures: Pictures | None = None,
                   ) -> tuple[list[ClickMap], int, Elements]:  # fmt: skip
    """Click maps of the most-clicked pages, how many pages were left out, and the top elements.

    A page with a picture (a recorded session's full snapshot) has its clicks drawn on it.
    """
    by_page: dict[str, dict[str, list[Click]]] = defaultdict(lambda: defaultdict(list))
    elements: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    labels: dict[tuple[str, str, str], Counter[str]] = defaultdict(Counter)
    for c in ctx.results.clicks.rows():
        page = c["page"] or "(no page)"
        target = c["target"] or "(no selector)"
        counts = elements[(target, page, c["variant"])]
        counts[0] += 1
        counts[1] += bool(c["misclick"])
        counts[2] += bool(c["burst_start"])  # rage means bursts everywhere
        counts[3] += bool(c["dead"])
        if c["label"]:
            labels[(target, page, c["variant"])][c["label"]] += 1
        if c["x"] is None or c["y"] is None or math.isnan(c["x"]) or math.isnan(c["y"]):
            continue
        flag = "rage click" if c["rage"] else "misclick" if c["misclick"] else "click"
        named = f"“{c['label']}” {target}" if c["label"] else target
        by_page[page][c["variant"]].append(Click(c["x"], c["y"], bool(c["misclick"]), bool(c["rage"]),
                                                 f"{c['participant']}: {flag} on {named}",
                                                 bool(c["burst_start"]), bool(c["dead"])))  # fmt: skip
    pages = sorted(by_page, key=lambda p: -sum(len(v) for v in by_page[p].values()))
    shown = pictures(set(pages[:MAP_PAGES])) if pictures is not None and pages else {}
    maps = [_click_map(ctx, k, page, by_page[page], shown)
            for k, page in enumerate(pages[:MAP_PAGES])]  # fmt: skip
    named = {key: found.most_common(1)[0][0] for key, found in labels.items()}
    return maps, max(len(pages) - MAP_PAGES, 0), _elements(elements, named)


def _click_map(ctx: Context, k: int, page: str, panels: Mapping[str, list[Click]],
               pictures: Mapping[tuple[str, str], PageImage]) -> ClickMap:  # fmt: skip
    everything = [c for clicks in panels.values() for c in clicks]
    page_w = max(1280.0, math.ceil(max(c.x for c in everything) / 160) * 160)
    page_h = max(800.0, math.ceil((max(c.y for c in everything) + 40) / 100) * 100)
    shown = {v: pictures[(page, v)] for v in ctx.variants if (page, v) in pictures}
    if shown:  # the page as it looked: its width, down to the lowest click
        page_w = float(max(p.width for p in shown.values()))
        page_h = float(min(max(p.height for p in shown.values()), max(page_h, 800.0)))
    drawn, hidden = [], 0
    for v in ctx.variants:
        clicks = panels.get(v, [])
        stride = max(1, math.ceil(len(clicks) / MAP_POINTS))
        kept = clicks[::stride]
        hidden += len(clicks) - len(kept)
        drawn.append((v, kept))
    title = f"Click map of {page}"
    svg = charts.click_map(f"clickmap-{k}", title, f"Where participants clicked on {page}, one panel per "
                           "variant; misclicks as crosses, rage clicks as triangles.", drawn, page_w, page_h,
                           hidden, {v: p.uri for v, p in shown.items()})  # fmt: skip
    rows = []
    for v in ctx.variants:
        clicks = panels.get(v, [])
        mis = sum(c.misclick for c in clicks)
        rows.append([v, str(len(clicks)), str(mis), str(sum(c.burst for c in clicks)),
                     str(sum(c.dead for c in clicks)), pct(mis / len(clicks)) if clicks else DASH])  # fmt: skip
    return ClickMap(page, Chart(f"clickmap-{k}", title, svg, ("Variant", "Clicks", "Misclicks", "Rage bursts",
                                                               "Dead clicks", "Misclick rate"), rows))  # fmt: skip


def _elements(counts: Mapping[tuple[str, str, str], list[int]],
              labels: Mapping[tuple[str, str, str], str]) -> Elements:  # fmt: skip
    """Rows: label (the one recorded most often), selector, page, variant, clicks, misclicks,
    rage bursts, dead clicks."""

    def rows(items: Iterable[tuple[tuple[str, str, str], list[int]]]) -> list[list[str]]:
        return [
            [labels.get(key, ""), *key, str(c), str(m), str(r), str(d)]
            for key, (c, m, r, d) in items
        ]

    clicked = sorted(counts.items(), key=lambda item: (-item[1][0], item[0]))[:TOP_ELEMENTS]
    missed = sorted(
        ((k, c) for k, c in counts.items() if c[1]), key=lambda item: (-item[1][1], item[0])
    )
    return Elements(rows(clicked), rows(missed[:TOP_ELEMENTS]))


# ------------------------------------------------------------------ page speed


def speed_chart(ctx: Context) -> Chart:
    """Median load time (bar) and time to first byte (darker part) per page x variant."""
    rows_of: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    loads: Counter[str] = Counter()
    for r in ctx.results.page_speed:
        rows_of[r["page"]][r["variant"]] = r
        loads[r["page"]] += r["loads"]
    pages = [p for p, _ in loads.most_common(SPEED_PAGES)]
    groups = []
    for page in pages:
        rows = []
        for v in ctx.variants:
            r = rows_of[page].get(v, {})
            value = r.get("load_ms_median", r.get("ttfb_ms_median"))
            rows.append(Row(v, ctx.palette[v], value, inner=r.get("ttfb_ms_median"),
                            shown=f"{ms(r.get('load_ms_median'))} / {ms(r.get('ttfb_ms_median'))}  "
                            f"n={r.get('loads', 0)}", empty="no timed loads"))  # fmt: skip
        groups.append(Group(page, rows))
    table = [[r["page"], r["variant"], str(r["loads"]), ms(r.get("load_ms_median")), ms(r.get("ttfb_ms_median"))]
             for page in pages for r in (rows_of[page].get(v) for v in ctx.variants) if r]  # fmt: skip
    columns: Sequence[str] = ("Page", "Variant", "Timed loads", "Median load time", "Median TTFB")
    top = max(
        [r.get("load_ms_median") or r.get("ttfb_ms_median") or 0.0 for r in ctx.results.page_speed]
        + [0.0]
    )
    if not groups or top <= 0:
        return Chart("chart-page-speed", "Page speed", None, columns, table,
                     "No page loads with Navigation Timing recorded.")  # fmt: skip
    axis = charts.linear_axis(top, "Median time, milliseconds", lambda v: f"{v:g}")
    svg = charts.row_chart("chart-page-speed", "Page speed per page and variant", "Median load time of real "
                           "page loads (bar) and median time to first byte (darker part), from the snippet's "
                           "Navigation Timing.", groups, axis, kind="bar", value_header="Median load / TTFB, loads",
                           group_header="Page / variant",
                           legend=[Legend("bar", "median load time", charts.MUTED),
                                   Legend("inner", "median time to first byte", charts.MUTED)])  # fmt: skip
    hidden = len(loads) - len(pages)
    note = (
        f"The {len(pages)} most loaded pages; {hidden} more are in the exports." if hidden else ""
    )
    return Chart(
        "chart-page-speed",
        "Median load time and time to first byte",
        svg,
        columns,
        table,
        note=note,
    )
