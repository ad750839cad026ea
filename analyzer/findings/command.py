"""``uxlab findings STUDY [--format table|markdown|csv] [-o PATH]``: the team's findings.

``table`` is for the terminal; ``markdown`` has one section per finding
(title, severity, frequency with its interval, per variant, tasks, evidence
quotes with participant and time, recommendation) ready to paste into an
issue tracker or a document, then the discovery estimate; ``csv`` is the
``findings`` table (text that looks like a formula is neutralised).
"""

from __future__ import annotations

import argparse
import csv
import io
import re
import sys
from pathlib import Path
from typing import Any

from analyzer.cells import csv_cell
from analyzer.commands import terminal_table
from analyzer.findings.tables import by_finding
from analyzer.metrics.analyze import StudyResults, analyze
from recorder.settings import db_path

FORMATS = ("table", "markdown", "csv")
SHOWN = ("finding", "severity", "severity_label", "title", "participants_affected",
         "participants_observed", "frequency", "frequency_ci_low", "frequency_ci_high", "tasks")  # fmt: skip
QUOTES_SHOWN = 5
MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>#|])")


def findings_command(args: argparse.Namespace) -> int:
    """Run ``uxlab findings``."""
    fmt = getattr(args, "format", "table") or "table"
    if fmt not in FORMATS:
        raise ValueError(f"--format: must be one of {', '.join(FORMATS)}")
    db = db_path(args.db)
    results = analyze(db, args.study)
    if fmt == "markdown":
        text = markdown(results)
    elif fmt == "csv":
        text = csv_text(results.findings)
    else:
        rows = [{c: r[c] for c in SHOWN} for r in results.findings]
        text = terminal_table("findings", rows, None) + "\n" + discovery_words(results) + "\n"
    output = getattr(args, "output", None)
    if output:
        Path(output).write_text(text, encoding="utf-8")
        print(f"wrote {output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def csv_text(rows: list[dict[str, Any]]) -> str:
    """The rows as CSV, text neutralised for spreadsheets."""
    buffer = io.StringIO()
    if rows:
        writer = csv.writer(buffer)
        writer.writerow(rows[0])
        writer.writerows([csv_cell(v)
                          for v in row.values()] for row in rows)  # fmt: skip
    return buffer.getvalue()


def md(text: str | None) -> str:
    """User text as Markdown text: its markup characters escaped, on one line."""
    return MARKDOWN_SPECIAL.sub(r"\\\1", " ".join((text or "").split()))


def percent(value: float | None) -> str:
    """0.5 -> '50%'; None -> '–'."""
    return "–" if value is None else f"{value * 100:.0f}%"


def frequency_words(affected: int, observed: int, low: float | None, high: float | None) -> str:
    """'2 of 4 participants (50%; 95% CI 15%–85%)'."""
    if not observed:
        return "no participant observed yet"
    return (f"{affected} of {observed} participants ({percent(affected / observed)}; "
            f"95% CI {percent(low)}–{percent(high)})")  # fmt: skip


def clock(seconds: float) -> str:
    """81.5 -> '1:21'."""
    whole = int(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def discovery_words(results: StudyResults) -> str:
    """The discovery estimate in plain words (or why there is none)."""
    (row,) = results.problem_discovery
    if row["p_adj"] is None:
        return f"Problem discovery: not estimated ({row['caution']})."
    words = (
        f"Problem discovery: {row['participants']} participants revealed {row['findings']} "
        f"problem{'s' if row['findings'] != 1 else ''} "
        f"(severity 1 or more); each problem affects a participant with probability "
        f"{percent(row['p_adj'])} (Lewis-adjusted). These sessions have likely found "
        f"{percent(row['share_found'])} of the problems there are to find, about "
        f"{row['estimated_total']:.0f} in all. Seeing a problem that common with 85%, 90% or 95% "
        f"probability takes {row['n_for_85']}, {row['n_for_90']} or {row['n_for_95']} participants."
    )
    return words + (f" Caution: {row['caution']}." if row["caution"] else "")


def markdown(results: StudyResults) -> str:
    """One section per finding, then the discovery estimate."""
    lines = [f"# Findings: {md(results.data.study.name)}", ""]
    variants, quotes = by_finding(results.finding_variants), by_finding(results.finding_evidence)
    if not results.findings:
        lines += ["No findings yet.", ""]
    for f in results.findings:
        lines += [f"## {md(f['title'])}", "",
                  f"- **Severity:** {f['severity']} ({f['severity_label']})",
                  f"- **Frequency:** {frequency_words(f['participants_affected'], f['participants_observed'], f['frequency_ci_low'], f['frequency_ci_high'])}"]  # fmt: skip
        for v in variants.get(f["finding"], []) if len(variants.get(f["finding"], [])) > 1 else []:
            lines.append(f"  - variant {md(v['variant'])}: "
                         f"{frequency_words(v['participants_affected'], v['participants_observed'], v['frequency_ci_low'], v['frequency_ci_high'])}")  # fmt: skip
        if f["tasks"]:
            lines.append(f"- **Tasks:** {md(f['tasks'])}")
        if f["tags"]:
            lines.append(f"- **Tags:** {md(f['tags'])}")
        lines.append("")
        if f["description"]:
            lines += [md(f["description"]), ""]
        moments = quotes.get(f["finding"], [])
        for q in moments[:QUOTES_SHOWN]:
            said = f"“{md(q['text'])}” — " if q["text"] else ""
            during = f" ({md(q['task'])})" if q["task"] else ""
            lines.append(f"> {said}{md(q['participant'])}, session {q['session']} at "
                         f"{clock(q['t_s'])}{during}")  # fmt: skip
            lines.append(">")
        if moments:
            lines.pop()
            if len(moments) > QUOTES_SHOWN:
                lines.append(f"> … and {len(moments) - QUOTES_SHOWN} more moments")
            lines.append("")
        if f["recommendation"]:
            lines += [f"**Recommendation:** {md(f['recommendation'])}", ""]
    lines += ["---", "", discovery_words(results), ""]
    return "\n".join(lines)
