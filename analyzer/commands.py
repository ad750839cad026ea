"""``uxlab analyze``: the metrics tables of a study, to the terminal or a file.

``--format table`` prints readable tables (the attempts, then the tasks;
the attempts table shows its most telling columns and at most
``TERMINAL_ROWS`` rows on a terminal: json and csv carry every column and
row). ``--format json`` writes one object with one list of rows per table;
``--format csv`` writes one table, the attempts unless ``--table`` names
another. ``report`` and ``export`` live with their own modules.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson

from analyzer.cells import csv_cell
from analyzer.metrics.analyze import StudyResults, analyze
from analyzer.numbers import plural
from recorder.errors import UxlabError
from recorder.settings import db_path
from recorder.terminal import terminal_text

TERMINAL_ROWS = 200
SHOWN = {
    "attempts": ("participant", "variant", "task", "outcome", "coded_by", "time_s", "clicks", "misclicks",
                 "errors", "pages", "backtracks", "lostness", "seq", "path"),
    "tasks": ("task", "variant", "attempts", "successes", "success_rate", "success_ci_low", "success_ci_high",
              "time_gm_s", "time_median_s", "error_rate", "misclick_rate", "lostness_mean", "seq_mean"),
}  # fmt: skip
PATH_WIDTH = 60


def analyze_command(args: argparse.Namespace) -> int:
    """Run ``uxlab analyze STUDY [--format table|json|csv] [-o PATH] [--table NAME] [--db PATH]``."""
    db = db_path(args.db)
    name = getattr(args, "table", None)
    if name is not None and name not in StudyResults.TABLES:
        raise UxlabError(f"--table: no table {name!r} (tables: {', '.join(StudyResults.TABLES)})")
    output = getattr(args, "output", None)
    if output:
        check_output_folder(Path(output))
    results = analyze(db, args.study)
    fmt = getattr(args, "format", "table")
    if fmt == "json":
        names = (name,) if name else tuple(n for n in StudyResults.TABLES if n != "clicks")
        text = orjson.dumps(results.tables(names), option=orjson.OPT_INDENT_2).decode() + "\n"
    elif fmt == "csv":
        text = csv_text(results.table(name or "attempts"))
    else:
        limit = None if output else TERMINAL_ROWS
        shown = (name,) if name else ("attempts", "tasks")
        text = "\n".join(
            terminal_table(n, results.head(n, limit), limit, total=results.size(n)) for n in shown
        )
    if output:
        Path(output).write_text(text, encoding="utf-8")
        print(f"wrote {output}", file=sys.stderr)
    else:
        if fmt == "csv" and sys.stdout.isatty():  # a terminal reads it: show controls, obey none
            text = "\r\n".join(terminal_text(line) for line in text.split("\r\n"))
        sys.stdout.write(text)
    return 0


def check_output_folder(output: Path) -> None:
    """The one-line refusal of an output file whose folder does not exist (before any work)."""
    if not output.parent.is_dir():
        raise UxlabError(f"-o {output}: the folder {output.parent} does not exist")


def csv_text(rows: list[dict[str, Any]]) -> str:
    """Rows as CSV with a header (lists as JSON text, ``None`` as an empty cell, no formulas)."""
    buffer = io.StringIO()
    if rows:
        writer = csv.writer(buffer)
        writer.writerow(rows[0])
        writer.writerows([csv_cell(v) for v in row.values()] for row in rows)
    return buffer.getvalue()


def _show(value: Any, column: str) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))
    text = terminal_text(str(value))
    if column == "path" and len(text) > PATH_WIDTH:
        return "..." + text[-(PATH_WIDTH - 3) :]
    return text


def terminal_table(
    name: str,
    rows: list[dict[str, Any]],
    limit: int | None = TERMINAL_ROWS,
    total: int | None = None,
) -> str:
    """A table for reading in a terminal: a title, aligned columns, numbers to the right.

    ``total`` is the table's row count where ``rows`` holds only its first rows.
    """
    total = len(rows) if total is None else total
    title = f"{name} ({plural(total, 'row')})"
    if not rows:
        return f"{title}\n  (none)\n"
    columns = [c for c in SHOWN.get(name, rows[0].keys()) if c in rows[0]]
    shown = rows if limit is None else rows[:limit]
    cells = [[_show(row.get(c), c) for c in columns] for row in shown]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    numeric = [all(_numeric(row.get(c)) for row in shown) for c in columns]
    lines = [terminal_text(title), _line(columns, widths, [False] * len(columns))]
    lines.append("  ".join("-" * w for w in widths))
    lines += [_line(r, widths, numeric) for r in cells]
    if len(shown) < total:
        lines.append(
            f"... {plural(total - len(shown), 'more row')}: use --format csv or -o FILE for all of them"
        )
    return "\n".join(lines) + "\n"


def _numeric(value: Any) -> bool:
    return value is None or (isinstance(value, int | float) and not isinstance(value, bool))


def _line(cells: Iterable[str], widths: list[int], right: list[bool]) -> str:
    parts = [c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right, strict=True)]
    return "  ".join(parts).rstrip()
