"""The report's Findings section: the team's findings, who hit what, and problem discovery.

Findings come ordered by severity, then frequency (the ``findings`` table's
order); each shows its severity label, k of n participants with the 95%
adjusted-Wald interval (per variant where the study has several), its tasks,
quotes from its evidence with participant and time, and the recommendation.
The discovery estimate is said in plain words beside its curve: distinct
findings seen as sessions were added against the Lewis-adjusted model. Every
text from people goes through autoescaping (and :func:`analyzer.report.charts.el` in
the SVG).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup

from analyzer.findings.command import clock, discovery_words, frequency_words
from analyzer.findings.tables import by_finding
from analyzer.metrics.analyze import StudyResults
from analyzer.report.charts import GRID, INK, MUTED, el, svg, text, tip

QUOTES_SHOWN = 4
CHART_W, CHART_H = 640, 300
PLOT_L, PLOT_R, PLOT_T, PLOT_B = 60, 600, 30, 240
OBSERVED, EXPECTED = "#c0262d", "#2557d6"


@dataclass(frozen=True)
class FindingItem:
    """One finding as the report shows it."""

    number: int
    title: str
    severity: int
    label: str
    frequency: str
    variants: list[str]
    tasks: str
    description: str
    quotes: list[str]
    more_quotes: int
    recommendation: str
    tags: str


@dataclass(frozen=True)
class FindingsSection:
    """Everything the Findings section shows."""

    items: list[FindingItem] = field(default_factory=list)
    participants: list[str] = field(default_factory=list)
    matrix: list[tuple[int, str, list[bool], str]] = field(default_factory=list)
    discovery: str = ""
    curve: Markup | None = None
    curve_rows: list[list[Any]] = field(default_factory=list)


def section(results: StudyResults) -> FindingsSection:
    """The Findings section of ``results``."""
    variants, quotes = by_finding(results.finding_variants), by_finding(results.finding_evidence)
    items = [_item(n, f, variants.get(f["finding"], []), quotes.get(f["finding"], []))
             for n, f in enumerate(results.findings, 1)]  # fmt: skip
    people = sorted({s["participant"] for s in results.sessions})
    matrix = []
    for n, f in enumerate(results.findings, 1):
        hit = set(f["affected"].split(", ")) if f["affected"] else set()
        matrix.append((n, f["title"], [p in hit for p in people],
                       f"{f['participants_affected']}/{f['participants_observed']}"))  # fmt: skip
    curve = results.discovery_curve
    rows = [[r["sessions"], r["participant"], r["findings_seen"],
             "—" if r["findings_expected"] is None else f"{r['findings_expected']:.1f}"] for r in curve]  # fmt: skip
    return FindingsSection(items, people, matrix, discovery_words(results),
                           discovery_chart(curve) if results.findings else None, rows)  # fmt: skip


def _item(number: int, f: dict[str, Any], variants: list[dict[str, Any]],
          moments: list[dict[str, Any]]) -> FindingItem:  # fmt: skip
    by_variant = [f"{v['variant']}: " + frequency_words(v["participants_affected"], v["participants_observed"],
                                                         v["frequency_ci_low"], v["frequency_ci_high"])
                  for v in variants] if len(variants) > 1 else []  # fmt: skip
    if len(variants) > 1 and f["p_value"] is not None:
        by_variant.append(f"difference {f['variant_b']} − {f['variant_a']}: {f['difference'] * 100:+.0f} points "
                          f"(95% CI {f['difference_ci_low'] * 100:+.0f} to {f['difference_ci_high'] * 100:+.0f}; "
                          f"{f['test']}, p = {f['p_value']:.2f})")  # fmt: skip
    quotes = []
    for m in moments[:QUOTES_SHOWN]:
        said = f"“{m['text']}” — " if m["text"] else ""
        during = f", {m['task']}" if m["task"] else ""
        quotes.append(
            f"{said}{m['participant']} (session {m['session']} at {clock(m['t_s'])}{during})"
        )
    return FindingItem(
        number=number, title=f["title"], severity=f["severity"], label=f["severity_label"],
        frequency=frequency_words(f["participants_affected"], f["participants_observed"],
                                  f["frequency_ci_low"], f["frequency_ci_high"]),
        variants=by_variant, tasks=f["tasks"], description=f["description"] or "", quotes=quotes,
        more_quotes=max(0, len(moments) - QUOTES_SHOWN), recommendation=f["recommendation"] or "",
        tags=f["tags"],
    )  # fmt: skip


def discovery_chart(curve: list[dict[str, Any]]) -> Markup | None:
    """Distinct findings seen after each session, and the model's expectation (dashed)."""
    if not curve:
        return None
    n = len(curve)
    expected = [r["findings_expected"] for r in curve]
    top = max([r["findings_seen"] for r in curve] + [e for e in expected if e is not None] + [1])
    top = float(int(top) + 1)

    def x(k: float) -> float:
        return PLOT_L + (PLOT_R - PLOT_L) * ((k - 1) / max(n - 1, 1))

    def y(v: float) -> float:
        return PLOT_B - (PLOT_B - PLOT_T) * (v / top)

    body: list[Markup] = []
    step = max(1, int(top) // 5)
    for v in range(0, int(top) + 1, step):
        body.append(el("line", x1=PLOT_L, x2=PLOT_R, y1=y(v), y2=y(v), stroke=GRID))
        body.append(text(PLOT_L - 8, y(v) + 4, str(v), class_="tick", text_anchor="end"))
    for r in curve:
        body.append(
            text(
                x(r["sessions"]),
                PLOT_B + 16,
                str(r["sessions"]),
                class_="tick",
                text_anchor="middle",
            )
        )
    body.append(text((PLOT_L + PLOT_R) / 2, PLOT_B + 36, "sessions, in the order they ran", class_="axis-label",
                     text_anchor="middle"))  # fmt: skip
    body.append(text(14, (PLOT_T + PLOT_B) / 2, "distinct findings", class_="axis-label", text_anchor="middle",
                     transform=f"rotate(-90 14 {(PLOT_T + PLOT_B) / 2})"))  # fmt: skip
    seen = " ".join(f"{x(r['sessions']):.1f},{y(r['findings_seen']):.1f}" for r in curve)
    body.append(el("polyline", points=seen, fill="none", stroke=OBSERVED, stroke_width=2.5))
    for r in curve:
        body.append(el("circle", tip(f"after session {r['sessions']} ({r['participant']}): {r['findings_seen']} "
                                     "findings seen"), cx=x(r["sessions"]), cy=y(r["findings_seen"]), r=4,
                       fill=OBSERVED))  # fmt: skip
    if all(e is not None for e in expected):
        model = " ".join(f"{x(r['sessions']):.1f},{y(r['findings_expected']):.1f}" for r in curve)
        body.append(el("polyline", points=model, fill="none", stroke=EXPECTED, stroke_width=2,
                       stroke_dasharray="6 4"))  # fmt: skip
    body.append(
        el("line", x1=PLOT_L, x2=PLOT_L + 22, y1=14, y2=14, stroke=OBSERVED, stroke_width=2.5)
    )
    body.append(text(PLOT_L + 28, 18, "seen", class_="legend", fill=INK))
    body.append(el("line", x1=PLOT_L + 80, x2=PLOT_L + 102, y1=14, y2=14, stroke=EXPECTED, stroke_width=2,
                   stroke_dasharray="6 4"))  # fmt: skip
    body.append(
        text(
            PLOT_L + 108,
            18,
            "expected by the model (Lewis-adjusted p)",
            class_="legend",
            fill=MUTED,
        )
    )
    return svg("discovery-curve", "Problem discovery curve",
               "Distinct findings of severity 1 or more seen after each session, and the number the "
               "discovery model expects.", CHART_H, *body, width=CHART_W)  # fmt: skip
