"""Inline SVG charts for the HTML report, drawn by hand.

Every chart is a string of SVG markup (:class:`markupsafe.Markup`) built with
:func:`el`, which escapes every attribute value and every text child: labels,
selectors and page keys from the data are shown as text, never parsed as
markup. Each SVG carries a ``<title>`` and ``<desc>`` (read out by screen
readers), labelled axes, and ``<title>`` tooltips on its marks. The numbers
behind a chart are rendered by the report as a table beside it.

Layouts:

- :func:`row_chart`: groups (tasks, pages) of rows (variants) against one
  horizontal axis: intervals (success rate, error rate, SEQ, SUS), bars
  (misclick rate, page speed), or points plus an interval (time on task).
- :func:`flow_chart`: page-to-page steps of one task in one variant, the
  expected path on a top row and the pages off it below.
- :func:`click_map`: click positions on one page, misclicks and rage clicks
  drawn as other shapes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup, escape

#: Okabe-Ito colours (safe for the common colour-vision deficiencies), one per variant.
VARIANT_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000")
INK, MUTED, GRID, BAND = "#17202c", "#5b6676", "#dfe4eb", "#f3f5f8"
ON_PATH, OFF_PATH, BACK = "#2557d6", "#c2410c", "#8a94a3"
MISCLICK, RAGE = "#c0262d", "#7434c9"

WIDTH = 1000
LABEL_W, PLOT_X, PLOT_W, TEXT_X = 150, 200, 520, 740
ROW_H, GROUP_GAP, TOP, BOTTOM = 24, 14, 34, 52
TIME_ROW_H = 34


# -------------------------------------------------------------------- markup


def _attr(value: Any) -> str:
    if isinstance(value, float):
        text = f"{value:.1f}"
        return text[:-2] if text.endswith(".0") else text
    return str(value)


def el(name: str, *children: Any, **attrs: Any) -> Markup:
    """One SVG element; ``class_`` is ``class``, other underscores become hyphens.

    Attribute values and text children are escaped; :class:`Markup` children
    are kept as they are. ``None`` attributes and children are left out.
    """
    parts = [
        f' {key.rstrip("_").replace("_", "-")}="{escape(_attr(value))}"'
        for key, value in attrs.items()
        if value is not None
    ]
    inner = "".join(str(escape(c)) for c in children if c is not None)
    return Markup(f"<{name}{''.join(parts)}>{inner}</{name}>")


def text(x: float, y: float, words: str, **attrs: Any) -> Markup:
    """A ``<text>`` element."""
    return el("text", words, x=x, y=y, **attrs)


def tip(words: str) -> Markup:
    """A tooltip (``<title>``) for the element it sits in."""
    return el("title", words)


def svg(chart_id: str, title: str, desc: str, height: float, *body: Markup,
        width: float = WIDTH) -> Markup:  # fmt: skip
    """The outer ``<svg>``: sized by its viewBox, titled for assistive technology."""
    return el(
        "svg", el("title", title, id=f"{chart_id}-title"), el("desc", desc, id=f"{chart_id}-desc"),
        *body, xmlns="http://www.w3.org/2000/svg", viewBox=f"0 0 {_attr(width)} {_attr(height)}",
        width=width, height=height, role="img", class_="chart", id=f"{chart_id}-svg",
        aria_labelledby=f"{chart_id}-title {chart_id}-desc",
    )  # fmt: skip


def short(words: str, limit: int) -> str:
    """``words`` cut to ``limit`` characters with an ellipsis."""
    return words if len(words) <= limit else words[: limit - 1] + "…"


# ---------------------------------------------------------------------- axes


@dataclass(frozen=True)
class Axis:
    """A horizontal value axis: its range, ticks, label, and optional bands and reference lines."""

    low: float
    high: float
    ticks: Sequence[float]
    label: str
    tick_text: Callable[[float], str] = lambda v: f"{v:g}"
    log: bool = False
    bands: Sequence[tuple[float, float, str]] = ()  # (from, to, label), shaded alternately
    references: Sequence[tuple[float, str]] = ()  # (value, label): dashed vertical lines

    def x(self, value: float) -> float:
        """The value's x coordinate in the plot area (clamped to it)."""
        low, high, v = self.low, self.high, value
        if self.log:
            low, high, v = math.log(low), math.log(high), math.log(max(value, self.low))
        share = (v - low) / (high - low) if high > low else 0.0
        return PLOT_X + PLOT_W * min(1.0, max(0.0, share))


def linear_axis(high: float, label: str, tick_text: Callable[[float], str] | None = None,
                low: float = 0.0, **extra: Any) -> Axis:  # fmt: skip
    """A linear axis from ``low`` to a round number at or above ``high``."""
    span = max(high - low, 1e-9)
    step = 10 ** math.floor(math.log10(span / 4))
    for factor in (1, 2, 2.5, 5, 10):
        if span / (step * factor) <= 6:
            step *= factor
            break
    top = low + step * math.ceil(span / step - 1e-9)
    ticks = [low + step * k for k in range(round((top - low) / step) + 1)]
    return Axis(low, top, ticks, label, tick_text or (lambda v: f"{v:g}"), **extra)


def log_axis(low: float, high: float, label: str, tick_text: Callable[[float], str]) -> Axis:
    """A log axis from the 1-2-5 tick at or below ``low`` to the one at or above ``high``."""
    low = max(low, 0.1)
    high = max(high, low * 1.5)
    exponents = range(math.floor(math.log10(low)) - 1, math.ceil(math.log10(high)) + 1)
    candidates = [m * 10.0**e for e in exponents for m in (1, 2, 5)]
    bottom = max(c for c in candidates if c <= low * 1.0001)
    top = min(c for c in candidates if c >= high * 0.9999)
    ticks = [c for c in candidates if bottom <= c <= top]
    return Axis(bottom, top, ticks, label, tick_text, log=True)


def _x_axis(axis: Axis, y_top: float, y_bottom: float) -> list[Markup]:
    parts = []
    for i, (lo, hi, label) in enumerate(axis.bands):
        x0, x1 = axis.x(lo), axis.x(hi)
        fill = BAND if i % 2 == 0 else "#ffffff"
        parts.append(el("rect", x=x0, y=y_top, width=x1 - x0, height=y_bottom - y_top, fill=fill))
        parts.append(text((x0 + x1) / 2, y_top - 4, label, class_="band", text_anchor="middle"))
    for tick in axis.ticks:
        x = axis.x(tick)
        parts.append(el("line", x1=x, x2=x, y1=y_top, y2=y_bottom, stroke=GRID))
        parts.append(
            text(x, y_bottom + 15, axis.tick_text(tick), class_="tick", text_anchor="middle")
        )
    for value, label in axis.references:  # named in the chart's legend
        x = axis.x(value)
        parts.append(el("line", tip(label), x1=x, x2=x, y1=y_top, y2=y_bottom, stroke=INK,
                        stroke_width=1.2, stroke_dasharray="5 3"))  # fmt: skip
    parts.append(el("line", x1=PLOT_X, x2=PLOT_X + PLOT_W, y1=y_bottom, y2=y_bottom, stroke=MUTED))
    parts.append(text(PLOT_X + PLOT_W / 2, y_bottom + 36, axis.label, class_="axis-label",
                      text_anchor="middle"))  # fmt: skip
    return parts


# ---------------------------------------------------------------- row charts


@dataclass(frozen=True)
class Point:
    """One attempt (or answer) drawn as a dot: filled when ``filled`` (e.g. a success)."""

    value: float
    filled: bool
    label: str


@dataclass(frozen=True)
class Row:
    """One variant's mark in a group: a value, its interval, and the words beside it."""

    variant: str
    colour: str
    value: float | None
    low: float | None = None
    high: float | None = None
    inner: float | None = None  # bars: a part of the value drawn darker (TTFB within load time)
    points: Sequence[Point] = ()
    shown: str = ""  # the figure printed to the right, e.g. "67% (35–89%)"
    empty: str = "no data"  # printed instead when value is None


@dataclass(frozen=True)
class Group:
    """A task (or page) and its variants' rows."""

    label: str
    rows: Sequence[Row]
    detail: str = ""  # tooltip of the group label, e.g. the task prompt


@dataclass(frozen=True)
class Legend:
    """A legend entry: a swatch kind (``dot``, ``hollow``, ``bar``, ``inner``, ``interval``) and words."""

    kind: str
    words: str
    colour: str = INK


def row_chart(chart_id: str, title: str, desc: str, groups: Sequence[Group], axis: Axis, *,
              kind: str = "interval", value_header: str = "Value (95% CI)",
              group_header: str = "Task / variant", row_height: float | None = None,
              legend: Sequence[Legend] = ()) -> Markup:  # fmt: skip
    """Groups of variant rows against one axis.

    ``kind`` is ``interval`` (a dot and its interval), ``bar`` (a bar from
    the axis' start, with an optional darker ``inner`` part) or ``points``
    (every point, then the summary value and interval below them).
    """
    row_h = row_height or (TIME_ROW_H if kind == "points" else ROW_H)
    top = TOP + (14 if axis.bands else 0) + (18 if legend else 0)
    height = top + sum(len(g.rows) * row_h for g in groups) + GROUP_GAP * max(len(groups) - 1, 0)
    body: list[Markup] = [*_legend(legend, 14)] if legend else []
    y_axis_top = top - 6
    body += _x_axis(axis, y_axis_top, height + 4)
    body.append(text(8, top - 12, group_header, class_="axis-label"))
    body.append(text(TEXT_X, top - 12, value_header, class_="axis-label"))
    y = float(top)
    for n, group in enumerate(groups):
        if n:
            body.append(el("line", x1=8, x2=WIDTH - 8, y1=y - GROUP_GAP / 2, y2=y - GROUP_GAP / 2,
                           stroke=GRID))  # fmt: skip
        body.append(el("text", tip(group.detail or group.label), short(group.label, 22),
                       x=8, y=y + row_h / 2 + 4, class_="group"))  # fmt: skip
        for row in group.rows:
            body += _row(row, axis, y, row_h, kind)
            y += row_h
        y += GROUP_GAP
    return svg(chart_id, title, desc, height + BOTTOM, *body)


def _legend(entries: Sequence[Legend], y: float, x: float = PLOT_X) -> list[Markup]:
    parts: list[Markup] = []
    for entry in entries:
        parts.append(_swatch(entry.kind, x + 6, y - 4, entry.colour))
        parts.append(text(x + 16, y, entry.words, class_="legend"))
        x += 24 + 6.4 * len(entry.words)
    return parts


def _swatch(kind: str, x: float, y: float, colour: str) -> Markup:
    if kind == "hollow":
        return el("circle", cx=x, cy=y, r=4, fill="#ffffff", stroke=colour, stroke_width=1.5)
    if kind == "bar":
        return el("rect", x=x - 6, y=y - 5, width=12, height=10, fill=colour, opacity=0.55)
    if kind == "inner":
        return el("rect", x=x - 6, y=y - 5, width=12, height=10, fill=colour)
    if kind == "interval":
        return el("g", el("line", x1=x - 7, x2=x + 7, y1=y, y2=y, stroke=colour, stroke_width=2),
                  el("rect", x=x - 3, y=y - 3, width=6, height=6, fill=colour))  # fmt: skip
    if kind == "reference":
        return el("line", x1=x, x2=x, y1=y - 7, y2=y + 6, stroke=colour, stroke_width=1.5,
                  stroke_dasharray="4 2")  # fmt: skip
    if kind == "cross":
        return _cross(x, y, colour)
    if kind == "triangle":
        return _triangle(x, y, colour)
    return el("circle", cx=x, cy=y, r=4, fill=colour, stroke=colour)


def _row(row: Row, axis: Axis, y: float, row_h: float, kind: str) -> list[Markup]:
    mid = y + row_h / 2
    parts = [
        el("circle", cx=LABEL_W + 12, cy=mid, r=5, fill=row.colour, stroke=INK, stroke_width=0.6),
        text(LABEL_W + 22, mid + 4, short(row.variant, 6), class_="variant"),
    ]
    if kind == "points":
        parts += _points(row, axis, y, row_h)
    if row.value is None:
        parts.append(text(PLOT_X + 6, mid + 4, row.empty, class_="empty"))
        parts.append(text(TEXT_X, mid + 4, "—", class_="value"))
        return parts
    if kind == "bar":
        parts += _bar(row, axis, mid)
    else:
        parts += _interval(row, axis, mid + (8 if kind == "points" else 0), big=kind != "points")
    parts.append(text(TEXT_X, mid + 4, row.shown, class_="value"))
    return parts


def _bar(row: Row, axis: Axis, mid: float) -> list[Markup]:
    assert row.value is not None
    x0, x1 = axis.x(axis.low), axis.x(row.value)
    parts = [el("rect", tip(f"{row.variant}: {row.shown}"), x=x0, y=mid - 8, width=max(x1 - x0, 1.5),
                height=16, fill=row.colour, opacity=0.55)]  # fmt: skip
    if row.inner is not None:
        xi = axis.x(row.inner)
        parts.append(
            el("rect", x=x0, y=mid - 8, width=max(xi - x0, 1.0), height=16, fill=row.colour)
        )
    return parts


def _interval(row: Row, axis: Axis, mid: float, big: bool) -> list[Markup]:
    assert row.value is not None
    parts = []
    if row.low is not None and row.high is not None:
        xl, xh = axis.x(row.low), axis.x(row.high)
        parts += [
            el("line", x1=xl, x2=xh, y1=mid, y2=mid, stroke=INK, stroke_width=2),
            el("line", x1=xl, x2=xl, y1=mid - 5, y2=mid + 5, stroke=INK, stroke_width=2),
            el("line", x1=xh, x2=xh, y1=mid - 5, y2=mid + 5, stroke=INK, stroke_width=2),
        ]
    x, size = axis.x(row.value), 6 if big else 5
    parts.append(el("rect", tip(f"{row.variant}: {row.shown}"), x=x - size, y=mid - size,
                    width=2 * size, height=2 * size, fill=row.colour, stroke=INK,
                    stroke_width=1.2, transform=f"rotate(45 {_attr(x)} {_attr(mid)})"))  # fmt: skip
    return parts


def _points(row: Row, axis: Axis, y: float, row_h: float) -> list[Markup]:
    parts = []
    band = row_h - 16  # the points sit above the summary line
    for k, point in enumerate(row.points):
        jitter = ((k * 0.618034) % 1.0) * band
        parts.append(el("circle", tip(point.label), cx=axis.x(point.value), cy=y + 3 + jitter, r=3.2,
                        fill=row.colour if point.filled else "#ffffff", stroke=row.colour,
                        stroke_width=1.3, fill_opacity=0.8))  # fmt: skip
    return parts


# ---------------------------------------------------------------- flow chart


@dataclass(frozen=True)
class Step:
    """A page-to-page step and how many times it was taken."""

    source: str
    target: str
    count: int
    expected: bool  # a step of the expected path, in its direction


@dataclass(frozen=True)
class PageNode:
    """A page of the flow: on the expected path (top row) or off it (bottom row)."""

    key: str
    on_path: bool
    started: int = 0  # attempts whose path began here
    succeeded: int = 0  # attempts that ended here with a success
    failed: int = 0  # attempts that ended here without one


@dataclass
class _Place:
    x: float
    y: float
    w: float = 120.0
    h: float = 40.0


ROW_GAP = 190.0  # from the top row of boxes to the bottom row
FLOW_LABELS = (
    12  # with more steps than this, steps taken once go unlabelled (their tooltip and table say 1)
)


def flow_chart(chart_id: str, title: str, desc: str, nodes: Sequence[PageNode],
               steps: Sequence[Step]) -> Markup:  # fmt: skip
    """Pages as boxes, steps as arrows whose width grows with their count.

    The expected path runs left to right along the top row (blue arrows);
    pages off it sit on the bottom row, and steps that leave the path are
    orange and dashed, steps back to it grey.
    """
    top = [n for n in nodes if n.on_path]
    bottom = [n for n in nodes if not n.on_path]
    places: dict[str, _Place] = {}
    box_w = min(130.0, (WIDTH - 40) / max(len(top), len(bottom), 1) - 24)
    order = {n.key: i for i, n in enumerate(top)}
    arcs_above = any(order.get(s.source, -1) > order.get(s.target, 1 << 30) for s in steps)
    top_y = 90.0 if arcs_above else 60.0  # room for arcs back along the path
    for row, y in ((top, top_y), (bottom, top_y + ROW_GAP)):
        gap = (WIDTH - 40) / max(len(row), 1)
        for i, node in enumerate(row):
            places[node.key] = _Place(20 + gap * (i + 0.5), y, box_w)
    bottom_arcs = any(s.source in places and s.target in places and places[s.source].y == places[s.target].y
                      and s.source != s.target for s in steps if s.source not in order)  # fmt: skip
    height = top_y + (ROW_GAP if bottom else 0) + (140 if bottom_arcs else 80)
    most = max((s.count for s in steps), default=1)
    defs = el("defs", *(_arrowhead(f"{chart_id}-{name}", colour)
                        for name, colour in (("on", ON_PATH), ("off", OFF_PATH), ("back", BACK))))  # fmt: skip
    body = [defs, *_flow_legend(chart_id, top_y + ROW_GAP if bottom else None, height)]
    on_path = {n.key for n in top}
    drawn = [s for s in steps if s.source in places and s.target in places and s.source != s.target]
    few = len(drawn) <= FLOW_LABELS
    arrows = [_arrow(chart_id, s, places, most, s.target in on_path, top_y, few or s.count > 1)
              for s in sorted(drawn, key=lambda s: s.count)]  # fmt: skip
    body += [a for a, _ in arrows]
    body += [_node(node, places[node.key]) for node in nodes]
    body += [label for _, label in arrows if label is not None]  # counts over boxes and lines
    return svg(chart_id, title, desc, height, *body)


def _arrowhead(marker_id: str, colour: str) -> Markup:
    return el("marker", el("path", d="M0,0 L10,5 L0,10 z", fill=colour), id=marker_id,
              viewBox="0 0 10 10", refX=8, refY=5, markerWidth=11, markerHeight=11,
              markerUnits="userSpaceOnUse", orient="auto")  # fmt: skip


def _edge_point(place: _Place, toward: tuple[float, float]) -> tuple[float, float]:
    """Where the line from the box's centre toward a point leaves the box."""
    dx, dy = toward[0] - place.x, toward[1] - place.y
    if dx == 0 and dy == 0:
        return place.x, place.y
    scale = min((place.w / 2 + 3) / abs(dx) if dx else math.inf,
                (place.h / 2 + 3) / abs(dy) if dy else math.inf)  # fmt: skip
    return place.x + dx * scale, place.y + dy * scale


def _curve(step: Step, a: _Place, b: _Place, top_y: float) -> tuple[tuple[float, float], ...]:
    """The four points of the step's cubic Bézier curve.

    Steps of the expected path are straight; other steps within a row arc
    outward (above the top row, below the bottom one; steps back arc less,
    so A->B and B->A nest); steps across rows leave and enter the boxes
    vertically, downward steps a little left of upward ones.
    """
    dx, dy = b.x - a.x, b.y - a.y
    if step.expected:
        p0, p3 = _edge_point(a, (b.x, b.y)), _edge_point(b, (a.x, a.y))
        return p0, p0, p3, p3
    side = 1.0 if dx >= 0 else -1.0
    if dy == 0:
        out = -1.0 if a.y == top_y else 1.0
        lift = min(110.0, 40.0 + 0.2 * abs(dx)) * (1.0 if dx > 0 else 0.65)
        p0 = (a.x + 14 * side, a.y + out * a.h / 2)
        p3 = (b.x - 14 * side, b.y + out * b.h / 2)
        return p0, (p0[0], p0[1] + out * lift), (p3[0], p3[1] + out * lift), p3
    down = 1.0 if dy > 0 else -1.0
    lane = -8.0 * down

    def spread(here: _Place, there: _Place) -> float:
        return max(-here.w * 0.3, min(here.w * 0.3, (there.x - here.x) * 0.1)) + lane

    p0 = (a.x + spread(a, b), a.y + down * (a.h / 2 + 2))
    p3 = (b.x + spread(b, a), b.y - down * (b.h / 2 + 2))
    return p0, (p0[0], p0[1] + dy * 0.45), (p3[0], p3[1] - dy * 0.45), p3


def _arrow(chart_id: str, step: Step, places: dict[str, _Place], most: int, back: bool,
           top_y: float, labelled: bool) -> tuple[Markup, Markup | None]:  # fmt: skip
    """The step's arrow, and its count label (drawn last, over boxes and lines)."""
    p0, p1, p2, p3 = _curve(step, places[step.source], places[step.target], top_y)
    kind = "on" if step.expected else ("back" if back else "off")
    colour = {"on": ON_PATH, "off": OFF_PATH, "back": BACK}[kind]
    words = f"{step.source} → {step.target}: {step.count}"
    d = "M{} C{} {} {}".format(*(f"{_attr(x)},{_attr(y)}" for x, y in (p0, p1, p2, p3)))
    arrow = el("path", tip(words), d=d, fill="none", stroke=colour, stroke_width=1.5 + 5.5 * step.count / most,
               stroke_opacity=0.85 if step.expected else 0.4 + 0.5 * step.count / most,
               stroke_dasharray=None if kind == "on" else "6 4",
               marker_end=f"url(#{chart_id}-{kind})", class_=f"step step-{kind}")  # fmt: skip
    if not labelled:
        return arrow, None
    mx = (p0[0] + 3 * p1[0] + 3 * p2[0] + p3[0]) / 8
    my = (p0[1] + 3 * p1[1] + 3 * p2[1] + p3[1]) / 8 - (9 if step.expected else 0)
    return arrow, el(
        "text", tip(words), str(step.count), x=mx, y=my + 4, class_="count", text_anchor="middle"
    )


def _node(node: PageNode, place: _Place) -> Markup:
    fill, stroke = ("#e8effc", ON_PATH) if node.on_path else ("#fff4ec", OFF_PATH)
    notes = []
    if node.started:
        notes.append(f"▶{node.started}")
    if node.succeeded:
        notes.append(f"✓{node.succeeded}")
    if node.failed:
        notes.append(f"✗{node.failed}")
    words = (
        f"{node.key}: {node.started} started here, {node.succeeded} ended here with a success, "
        f"{node.failed} without"
    )
    key_y = place.y + (-3 if notes else 4)
    return el("g", tip(words),
              el("rect", x=place.x - place.w / 2, y=place.y - place.h / 2, width=place.w, height=place.h,
                 rx=6, fill=fill, stroke=stroke, stroke_width=1.5,
                 stroke_dasharray=None if node.on_path else "4 3"),
              text(place.x, key_y, short(node.key, max(6, int(place.w / 7.2))), class_="page",
                   text_anchor="middle"),
              text(place.x, place.y + 13, "  ".join(notes), class_="node-note", text_anchor="middle")
              if notes else None)  # fmt: skip


def _flow_legend(chart_id: str, bottom_y: float | None, height: float) -> list[Markup]:
    off = bottom_y is not None
    y = height - 10
    entries: list[tuple[str, str, str, str | None]] = [("on", ON_PATH, "expected path", None)]
    if off:
        entries += [
            ("off", OFF_PATH, "left the path", "6 4"),
            ("back", BACK, "back onto it", "6 4"),
        ]
    parts, x = [text(20, 16, "Expected path", class_="axis-label")], 20.0
    if bottom_y is not None:
        parts.append(text(20, bottom_y - 36, "Pages off the expected path", class_="axis-label"))
    for kind, colour, words, dash in entries:
        parts.append(el("line", x1=x, x2=x + 26, y1=y - 4, y2=y - 4, stroke=colour, stroke_width=3,
                        stroke_dasharray=dash, marker_end=f"url(#{chart_id}-{kind})"))  # fmt: skip
        parts.append(text(x + 34, y, words, class_="legend"))
        x += 44 + 7 * len(words)
    parts.append(
        text(
            x + 10,
            y,
            "width and number: times taken · in a page: ▶ started here, "
            "✓ / ✗ ended here with / without success",
            class_="legend",
        )
    )
    return parts


# ----------------------------------------------------------------- click map


@dataclass(frozen=True)
class Click:
    """One click on a page: position in page pixels and its flags."""

    x: float
    y: float
    misclick: bool
    rage: bool
    label: str
    burst: bool = False  # the first click of a rage-click burst (a burst counts once)
    dead: bool = False  # no reaction within 1 s


MAP_W, MAP_MAX_H = 300.0, 420.0


def click_map(chart_id: str, title: str, desc: str, panels: Sequence[tuple[str, Sequence[Click]]],
              page_w: float, page_h: float, hidden: int = 0,
              pictures: Mapping[str, str] | None = None) -> Markup:  # fmt: skip
    """Side-by-side panels (one per variant) of a page with its clicks at their positions,
    drawn over a picture of the page (a data URI per variant) where there is one."""
    scale = min(MAP_W / page_w, MAP_MAX_H / page_h)
    pw, ph = page_w * scale, page_h * scale
    panel_step = pw + 70
    width = max(40 + panel_step * len(panels), 420)
    height = ph + 110
    body = [*_legend([Legend("dot", "click", VARIANT_COLOURS[0]), Legend("cross", "misclick", MISCLICK),
                      Legend("triangle", "rage click", RAGE)], 16, x=50.0)]  # fmt: skip
    for i, (variant, clicks) in enumerate(panels):
        x0, y0 = 50 + i * panel_step, 44
        body += _panel(variant, clicks, x0, y0, pw, ph, scale, page_w, page_h,
                       (pictures or {}).get(variant))  # fmt: skip
    note = f"; {hidden} more clicks not drawn" if hidden else ""
    body.append(
        text(20, height - 12, f"x, y: page position in CSS pixels{note}", class_="axis-label")
    )
    return svg(chart_id, title, desc, height, *body, width=width)


def _panel(variant: str, clicks: Iterable[Click], x0: float, y0: float, pw: float, ph: float,
           scale: float, page_w: float, page_h: float, picture: str | None = None) -> list[Markup]:  # fmt: skip
    parts = [
        text(x0, y0 - 8, f"Variant {variant}", class_="group"),
        el("rect", x=x0, y=y0, width=pw, height=ph, fill="#fbfcfd", stroke=MUTED),
    ]
    if picture is not None:  # the page as participants saw it, cut at the panel's bottom
        parts.append(el("image", href=picture, x=x0, y=y0, width=pw, height=ph,
                        preserveAspectRatio="xMinYMin slice", opacity=0.8))  # fmt: skip
        parts.append(el("rect", x=x0, y=y0, width=pw, height=ph, fill="none", stroke=MUTED))
    for value in _ticks(page_w):
        x = x0 + value * scale
        parts.append(el("line", x1=x, x2=x, y1=y0 + ph, y2=y0 + ph + 4, stroke=MUTED))
        parts.append(text(x, y0 + ph + 16, f"{value:g}", class_="tick", text_anchor="middle"))
    for value in _ticks(page_h):
        y = y0 + value * scale
        parts.append(el("line", x1=x0, x2=x0 + pw, y1=y, y2=y, stroke=GRID))
        parts.append(text(x0 - 4, y + 4, f"{value:g}", class_="tick", text_anchor="end"))
    parts.append(
        text(x0 + pw / 2, y0 + ph + 32, "x (px)", class_="axis-label", text_anchor="middle")
    )
    parts.append(text(x0 - 40, y0 + ph / 2, "y (px)", class_="axis-label",
                      transform=f"rotate(-90 {_attr(x0 - 40)} {_attr(y0 + ph / 2)})"))  # fmt: skip
    plain = [c for c in clicks if not c.misclick and not c.rage]
    flagged = [c for c in clicks if c.misclick or c.rage]
    for c in [*plain, *flagged]:  # flagged clicks on top
        x, y = x0 + min(c.x, page_w) * scale, y0 + min(c.y, page_h) * scale
        if c.rage:
            parts.append(el("g", tip(c.label), _triangle(x, y, RAGE)))
        elif c.misclick:
            parts.append(el("g", tip(c.label), _cross(x, y, MISCLICK)))
        else:
            parts.append(el("circle", tip(c.label), cx=x, cy=y, r=3.5, fill=VARIANT_COLOURS[0],
                            fill_opacity=0.6))  # fmt: skip
    return parts


def _ticks(extent: float) -> list[float]:
    step = linear_axis(extent, "").ticks
    return [t for t in step if t <= extent]


def _cross(x: float, y: float, colour: str) -> Markup:
    d = f"M{_attr(x - 4)},{_attr(y - 4)} L{_attr(x + 4)},{_attr(y + 4)} M{_attr(x - 4)},{_attr(y + 4)} L{_attr(x + 4)},{_attr(y - 4)}"
    return el("path", d=d, stroke=colour, stroke_width=2.2, fill="none")


def _triangle(x: float, y: float, colour: str) -> Markup:
    d = f"M{_attr(x)},{_attr(y - 5)} L{_attr(x + 5)},{_attr(y + 4)} L{_attr(x - 5)},{_attr(y + 4)} z"
    return el("path", d=d, fill=colour, fill_opacity=0.75, stroke=colour)


@dataclass
class Palette:
    """Variant id -> colour, in study order."""

    variants: Sequence[str]
    colours: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        self.colours = {
            v: VARIANT_COLOURS[i % len(VARIANT_COLOURS)] for i, v in enumerate(self.variants)
        }

    def __getitem__(self, variant: str) -> str:
        return self.colours.get(variant, MUTED)
