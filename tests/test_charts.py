"""analyzer/report/charts.py: hand-drawn SVG that is well-formed, escaped, labelled and to scale.

Every chart is parsed back as XML (a browser would refuse or misread
anything else) and read the way a reader or a screen reader would: titles,
tooltips, the words beside each mark, where marks sit on the axis.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import pytest
from markupsafe import Markup

from analyzer.report import charts
from analyzer.report.charts import (
    PLOT_W,
    PLOT_X,
    Axis,
    Click,
    Group,
    Legend,
    PageNode,
    Palette,
    Point,
    Row,
    Step,
    el,
)

NS = "{http://www.w3.org/2000/svg}"
HOSTILE = [
    '<script>alert(1)</script>',
    '"><img src=x onerror=alert(2)>',
    "it's & <b>bold</b> ]]> <!-- -->",
    "/shoes/<42>?q=\"a\"&b='c'",
]  # fmt: skip


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def tag(node: ET.Element) -> str:
    return node.tag.removeprefix(NS)


def texts(root: ET.Element, css: str | None = None) -> list[str]:
    """Every ``<text>``'s words (with class ``css``), in document order, its tooltip left out."""
    return [_words(t) for t in root.iter(f"{NS}text") if css is None or t.get("class") == css]


def _words(node: ET.Element) -> str:
    inner = "".join(
        ("" if tag(c) == "title" else "".join(c.itertext())) + (c.tail or "") for c in node
    )
    return (node.text or "") + inner


def title_of(node: ET.Element) -> str | None:
    """The tooltip of one mark (its own ``<title>`` child)."""
    title = node.find(f"{NS}title")
    return None if title is None else title.text


def tooltips(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{NS}title")]


# ---------------------------------------------------------------------- markup


@pytest.mark.parametrize("words", HOSTILE)
def test_text_and_attributes_from_the_data_stay_text(words: str) -> None:
    markup = el("svg", el("text", words, x=1, y=2, data_label=words), el("title", words),
                xmlns="http://www.w3.org/2000/svg")  # fmt: skip
    root = parse(markup)
    text, title = list(root)
    assert (tag(text), tag(title)) == ("text", "title")  # nothing injected beside them
    assert text.text == words and title.text == words
    assert text.attrib == {"x": "1", "y": "2", "data-label": words}
    assert list(text) == []  # no child element made of the data


def test_el_names_attributes_and_keeps_markup_children() -> None:
    inner = Markup('<tspan class="k">x</tspan>')
    assert el(
        "text", inner, None, "&", class_="a", stroke_width=1.25, opacity=None, x=3.0, y=2.04
    ) == ('<text class="a" stroke-width="1.2" x="3" y="2"><tspan class="k">x</tspan>&amp;</text>')


def test_svg_is_titled_for_screen_readers() -> None:
    root = parse(charts.svg("c1", "Success <rate>", "Share & more", 120.5))
    assert root.get("role") == "img" and root.get("aria-labelledby") == "c1-title c1-desc"
    assert root.get("viewBox") == "0 0 1000 120.5" and root.get("id") == "c1-svg"
    title, desc = list(root)
    assert (title.get("id"), title.text, desc.get("id"), desc.text) == ("c1-title", "Success <rate>", "c1-desc",
                                                                        "Share & more")  # fmt: skip


@pytest.mark.parametrize(("words", "limit", "shown"), [
    ("checkout", 22, "checkout"), ("x" * 22, 22, "x" * 22), ("x" * 23, 22, "x" * 21 + "…"), ("variant", 6, "varia…"),
])  # fmt: skip
def test_short_cuts_with_an_ellipsis(words: str, limit: int, shown: str) -> None:
    assert charts.short(words, limit) == shown and len(shown) <= limit


# ------------------------------------------------------------------------ axes


@pytest.mark.parametrize(("high", "top", "step"), [
    (0.33, 0.4, 0.1), (1.0, 1.0, 0.2), (0.05, 0.05, 0.01), (7, 8, 2), (1000, 1000, 200), (1234, 1250, 250),
    (310, 400, 100), (99, 100, 20),
])  # fmt: skip
def test_linear_axis_ends_on_a_round_tick_at_or_above_the_data(
    high: float, top: float, step: float
) -> None:
    axis = charts.linear_axis(high, "ms")
    assert axis.low == 0 and axis.high == pytest.approx(top)
    assert axis.ticks == pytest.approx([step * k for k in range(round(top / step) + 1)])
    assert 2 <= len(axis.ticks) <= 7


@pytest.mark.parametrize(("low", "high", "ticks"), [
    (3.2, 47, [2, 5, 10, 20, 50]), (10, 100, [10, 20, 50, 100]), (0.01, 0.5, [0.1, 0.2, 0.5]),
    (12, 12, [10, 20]),  # a single value: the axis still spans a tick
])  # fmt: skip
def test_log_axis_runs_between_1_2_5_ticks(low: float, high: float, ticks: list[float]) -> None:
    axis = charts.log_axis(low, high, "s", lambda v: f"{v:g}")
    assert axis.log and axis.ticks == pytest.approx(ticks)
    assert (axis.low, axis.high) == (pytest.approx(ticks[0]), pytest.approx(ticks[-1]))


def test_axis_places_values_and_clamps_what_lies_outside() -> None:
    linear = Axis(0, 1, [0, 1], "rate")
    assert [linear.x(v) for v in (0, 0.5, 1, -3, 7)] == [PLOT_X, PLOT_X + PLOT_W / 2, PLOT_X + PLOT_W, PLOT_X,
                                                           PLOT_X + PLOT_W]  # fmt: skip
    log = charts.log_axis(1, 100, "s", str)
    assert log.x(10) == pytest.approx(PLOT_X + PLOT_W / 2)  # the geometric middle is the middle
    assert log.x(0) == PLOT_X  # zero has no place on a log axis: at its start, not an error
    assert Axis(5, 5, [5], "flat").x(5) == PLOT_X


# ------------------------------------------------------------------ row charts


def rows_chart(kind: str = "interval") -> ET.Element:
    groups = [
        Group("find-the-returns-policy-page", [
            Row("A", "#111111", 0.5, 0.1, 0.9, shown="50% (10–90%)",
                points=[Point(0.2, True, "P1 (A): 20%"), Point(0.8, False, "P2 (A): 80%")]),
            Row("B-variant-long", "#222222", None, empty="no attempts"),
        ], detail="Find how long returns take."),
        Group("buy", [Row("A", "#111111", 1.0, shown="100%"), Row("B-variant-long", "#222222", 0.0, shown="0%")]),
    ]  # fmt: skip
    axis = Axis(0, 1, [0, 0.5, 1], "Success rate", lambda v: f"{100 * v:.0f}%")
    return parse(charts.row_chart("chart-x", "Success", "desc", groups, axis, kind=kind,
                                  legend=[Legend("interval", "rate and interval")]))  # fmt: skip


@pytest.mark.parametrize("kind", ["interval", "bar", "points"])
def test_row_chart_labels_every_row_and_says_why_one_is_empty(kind: str) -> None:
    root = rows_chart(kind)
    assert texts(root, "group") == ["find-the-returns-poli…", "buy"]
    assert "Find how long returns take." in tooltips(root)  # the full words behind a cut label
    assert texts(root, "variant") == ["A", "B-var…", "A", "B-var…"]
    assert texts(root, "value") == ["50% (10–90%)", "—", "100%", "0%"]
    assert texts(root, "empty") == ["no attempts"]
    assert (
        texts(root, "tick") == ["0%", "50%", "100%"]
        and texts(root, "axis-label")[0] == "Success rate"
    )
    assert "A: 50% (10–90%)" in tooltips(root)
    assert ("P1 (A): 20%" in tooltips(root)) is (kind == "points")


def test_points_are_filled_for_successes_and_placed_on_the_axis() -> None:
    root = rows_chart("points")
    dots = {title_of(c): c for c in root.iter(f"{NS}circle")}
    assert float(dots["P1 (A): 20%"].get("cx", "")) == pytest.approx(PLOT_X + 0.2 * PLOT_W)
    assert (
        dots["P1 (A): 20%"].get("fill") == "#111111"
        and dots["P2 (A): 80%"].get("fill") == "#ffffff"
    )


# ------------------------------------------------------------------ flow chart


def test_flow_chart_draws_the_expected_path_and_the_ways_off_it() -> None:
    nodes = [PageNode("/", True, started=3), PageNode("/shoes", True), PageNode("/cart", True, succeeded=2),
             PageNode("/help<script>", False, failed=1)]  # fmt: skip
    steps = [Step("/", "/shoes", 2, True), Step("/shoes", "/cart", 2, True), Step("/", "/help<script>", 1, False),
             Step("/help<script>", "/shoes", 1, False), Step("/cart", "/cart", 4, False)]  # fmt: skip
    root = parse(charts.flow_chart("flow-0-0", "Click paths", "desc", nodes, steps))
    paths = {title_of(p): p.get("class") for p in root.iter(f"{NS}path") if p.get("class")}
    assert paths == {"/ → /shoes: 2": "step step-on", "/shoes → /cart: 2": "step step-on",
                     "/ → /help<script>: 1": "step step-off", "/help<script> → /shoes: 1": "step step-back"}  # fmt: skip
    assert "/cart → /cart: 4" not in paths  # a reload of the same page is no step to draw
    assert texts(root, "page") == ["/", "/shoes", "/cart", "/help<script>"]
    assert texts(root, "node-note") == ["▶3", "✓2", "✗1"]
    assert "/: 3 started here, 0 ended here with a success, 0 without" in tooltips(root)
    assert sorted(texts(root, "count")) == ["1", "1", "2", "2"]
    assert "Pages off the expected path" in texts(root, "axis-label")


# ------------------------------------------------------------------- click map


def test_click_map_draws_misclicks_and_rage_clicks_apart_and_inside_the_page() -> None:
    clicks = [Click(100, 100, False, False, "P1: click on a"), Click(200, 50, True, False, "P2: misclick on div"),
              Click(300, 60, False, True, "P3: rage click on img"),
              Click(5000, 9000, False, False, "P4: click far outside")]  # fmt: skip
    root = parse(
        charts.click_map(
            "clickmap-0", "Click map of /", "desc", [("A", clicks), ("B", [])], 1280, 800, 7
        )
    )
    assert texts(root, "group") == ["Variant A", "Variant B"]
    marks = {}
    for node in root.iter():
        title = node.find(f"{NS}title")
        if title is not None and title.text and title.text.startswith("P"):
            marks[title.text] = node
    assert tag(marks["P1: click on a"]) == "circle"
    assert tag(marks["P2: misclick on div"]) == "g" and tag(marks["P3: rage click on img"]) == "g"
    cross, triangle = (
        marks["P2: misclick on div"].find(f"{NS}path"),
        marks["P3: rage click on img"].find(f"{NS}path"),
    )
    assert cross is not None and cross.get("stroke") == charts.MISCLICK
    assert triangle is not None and triangle.get("fill") == charts.RAGE
    panel = next(r for r in root.iter(f"{NS}rect") if r.get("stroke") == charts.MUTED)
    x0, y0 = float(panel.get("x", "")), float(panel.get("y", ""))
    right, bottom = x0 + float(panel.get("width", "")), y0 + float(panel.get("height", ""))
    far = marks["P4: click far outside"]
    assert float(far.get("cx", "")) == pytest.approx(right, abs=0.1)  # kept on the page's edge
    assert float(far.get("cy", "")) == pytest.approx(bottom, abs=0.1)
    assert (
        texts(root, "axis-label")[-1]
        == "x, y: page position in CSS pixels; 7 more clicks not drawn"
    )


# --------------------------------------------------------------------- palette


def test_palette_gives_each_variant_its_colour_in_study_order() -> None:
    palette = Palette([f"V{i}" for i in range(9)])
    assert [palette[f"V{i}"] for i in range(7)] == list(charts.VARIANT_COLOURS)
    assert (
        palette["V7"] == charts.VARIANT_COLOURS[0]
    )  # more variants than colours: the cycle restarts
    assert palette["unknown"] == charts.MUTED


def test_numbers_in_attributes_are_short() -> None:
    assert (
        el("line", x1=1 / 3, x2=2.0, y1=math.pi, y2=10)
        == '<line x1="0.3" x2="2" y1="3.1" y2="10"></line>'
    )
