"""Exports: the output tables (README, "Output tables") and the raw events, as CSV, XLSX, JSON, NDJSON.

The tables come in as ``{name: rows}`` (rows are dicts whose keys are the
documented column names); the raw events are read from SQLite with names
resolved (URLs, selectors, labels, tasks, outcomes) and both the client's
time and the corrected time. Numbers stay numbers in XLSX and JSON; text never becomes a formula
(:mod:`analyzer.cells`).
"""

from __future__ import annotations

import csv
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from analyzer.cells import csv_cell, xlsx_cell
from analyzer.metrics.analyze import analyze
from analyzer.metrics.columns import TABLES as TABLE_COLUMNS
from recorder.errors import UxlabError
from recorder.settings import db_path
from recorder.storage import store
from recorder.wire import schema

#: The tables an export writes (then the raw events).
EXPORTED = ("attempts", "tasks", "participants", "comparisons", "markers")

EVENT_COLUMNS = ("session", "participant", "variant", "source", "load", "seq", "t", "t_corrected", "type",
                 "url", "selector", "label", "task", "outcome", "kind", "interactive", "x", "y", "value",
                 "data")  # fmt: skip

FORMATS = ("csv", "xlsx", "json", "ndjson")
XLSX_MAX_ROWS = 1_048_575  # a worksheet's rows, less the header


def columns(name: str, rows: list[dict[str, Any]]) -> list[str]:
    """A table's columns, then any its rows carry that are not listed (appended)."""
    documented = list(TABLE_COLUMNS.get(name, ()))
    for row in rows[:1]:
        documented += [key for key in row if key not in documented]
    return documented


def raw_events(conn: sqlite3.Connection, study_id: str) -> Iterator[dict[str, Any]]:
    """Every event of a study, oldest first per session, with its strings and names."""
    sql = """
        SELECT s.number, p.id, v.id, l.source, l.key, e.seq, e.t, e.t + coalesce(l.offset_ms, 0),
               e.type, pg.url, tg.selector, lb.text, tk.id, e.outcome, e.kind, e.interactive,
               e.x, e.y, e.value, e.data
        FROM events e
        JOIN sessions s ON s.id = e.session_id
        JOIN participants p ON p.pk = s.participant_pk
        JOIN variants v ON v.pk = s.variant_pk
        JOIN page_loads l ON l.id = e.load_id
        LEFT JOIN pages pg ON pg.id = e.page_id
        LEFT JOIN targets tg ON tg.id = e.target_id
        LEFT JOIN labels lb ON lb.id = e.label_id
        LEFT JOIN tasks tk ON tk.pk = e.task_pk
        WHERE s.study_id = ?
        ORDER BY e.session_id, e.t + coalesce(l.offset_ms, 0), e.load_id, e.seq
    """
    for row in conn.execute(sql, (study_id,)):
        event = dict(zip(EVENT_COLUMNS, row, strict=True))
        event["source"] = (
            "moderator" if event["source"] == schema.SOURCE_MODERATOR else "participant"
        )
        code = event["type"]
        event["type"] = schema.EVENT_TYPE_NAMES.get(code, str(code))
        event["outcome"] = schema.OUTCOME_NAMES.get(event["outcome"]) if event["outcome"] else None
        event["kind"] = _kind_name(code, event["kind"])
        if event["interactive"] is not None:
            event["interactive"] = bool(event["interactive"])
        event["data"] = orjson.loads(event["data"]) if event["data"] else None
        yield event


def _kind_name(code: int, kind: int | None) -> str | None:
    if kind is None:
        return None
    if code == schema.MARKER:
        return schema.MARKER_KIND_NAMES.get(kind)
    if code == schema.RATING:
        return schema.RATING_ITEM_NAMES.get(kind)
    if code == schema.VISIBILITY:
        return "visible" if kind else "hidden"
    return str(kind)


def export(tables: dict[str, list[dict[str, Any]]], events: Iterator[dict[str, Any]], fmt: str,
           path: str | Path) -> list[Path]:  # fmt: skip
    """Write every table and the raw events; return the files written.

    Parameters
    ----------
    tables
        ``{name: rows}`` in the order they should appear.
    events
        The raw events, e.g. :func:`raw_events`.
    fmt
        ``csv`` (a folder, one file per table and ``events.csv``), ``xlsx``
        (one sheet per table), ``json`` (one object) or ``ndjson`` (the raw
        events, one per line).
    path
        The file (the folder for ``csv``) to write.

    Returns
    -------
    list of Path
        The files written.
    """
    path = Path(path)
    if fmt not in FORMATS:
        raise UxlabError(f"--format: must be one of {', '.join(FORMATS)}")
    check_output(path, fmt)
    writer = {"csv": _csv, "xlsx": _xlsx, "json": _json, "ndjson": _ndjson}[fmt]
    return writer(tables, events, path)


def check_output(path: Path, fmt: str) -> None:
    """Refuse an output path that cannot be written, before any work is done."""
    folder = path if fmt == "csv" else path.parent
    if fmt == "csv" and path.exists() and not path.is_dir():
        raise UxlabError(f"{path}: CSV export writes a folder; that is a file")
    if fmt == "csv" and path.suffix.lower() == ".csv" and not path.is_dir():
        # Every table and the events do not fit one CSV file; a folder named *.csv surprises.
        raise UxlabError(
            f"-o {path}: csv export writes a folder (one .csv file per table, and events.csv);"
            f" give a folder name such as {path.with_suffix('')}-csv, or --format xlsx for one file"
        )
    if not (folder.parent if fmt == "csv" else folder).is_dir():
        raise UxlabError(f"{folder if fmt != 'csv' else folder.parent}: No such file or directory")
    if fmt != "csv" and path.is_dir():
        raise UxlabError(f"{path}: is a folder; give a file name")


def _csv(
    tables: dict[str, list[dict[str, Any]]], events: Iterator[dict[str, Any]], path: Path
) -> list[Path]:
    path.mkdir(exist_ok=True)
    written = []
    for name, rows in [*tables.items(), ("events", events)]:
        target = path / f"{name}.csv"
        with target.open("w", newline="", encoding="utf-8") as handle:
            cols = list(EVENT_COLUMNS) if name == "events" else columns(name, rows)  # type: ignore[arg-type]
            out = csv.writer(handle)
            out.writerow(cols)
            for row in rows:
                out.writerow([csv_cell(row.get(c)) for c in cols])
        written.append(target)
    return written


def _xlsx(
    tables: dict[str, list[dict[str, Any]]], events: Iterator[dict[str, Any]], path: Path
) -> list[Path]:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    bold, fill = Font(bold=True, color="FFFFFF"), PatternFill("solid", fgColor="2F4B7C")
    for name, rows in [*tables.items(), ("events", events)]:
        sheet = book.create_sheet(name)
        sheet.freeze_panes = "A2"
        cols = list(EVENT_COLUMNS) if name == "events" else columns(name, rows)  # type: ignore[arg-type]
        for i, col in enumerate(cols, start=1):
            sheet.column_dimensions[get_column_letter(i)].width = max(10, min(40, len(col) + 4))
        header = []
        for col in cols:
            cell = WriteOnlyCell(sheet, value=xlsx_cell(col))
            cell.font, cell.fill = bold, fill
            header.append(cell)
        sheet.append(header)
        for n, row in enumerate(rows):
            if n >= XLSX_MAX_ROWS:
                break  # a worksheet holds no more; the NDJSON export has every event
            sheet.append([xlsx_cell(row.get(c)) for c in cols])
        if cols:
            sheet.auto_filter.ref = f"A1:{get_column_letter(len(cols))}1"
    book.save(path)
    return [path]


def _json(
    tables: dict[str, list[dict[str, Any]]], events: Iterator[dict[str, Any]], path: Path
) -> list[Path]:
    doc = {
        name: [{c: row.get(c) for c in columns(name, rows)} for row in rows]
        for name, rows in tables.items()
    }
    doc["events"] = list(events)
    path.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY))
    return [path]


def _ndjson(
    tables: dict[str, list[dict[str, Any]]], events: Iterator[dict[str, Any]], path: Path
) -> list[Path]:
    with path.open("wb") as handle:
        for event in events:
            handle.write(orjson.dumps(event, option=orjson.OPT_SERIALIZE_NUMPY))
            handle.write(b"\n")
    return [path]


def export_command(args: Any) -> int:
    """``uxlab export STUDY --format F -o PATH``: analyze, then write every table and the raw events."""
    db = db_path(args.db)
    if not Path(db).exists():
        raise store.StoreError(f"no database at {db}")
    check_output(Path(args.output), args.format)
    results = analyze(db, args.study)
    tables = {name: results.table(name) for name in EXPORTED}
    conn = store.connect(db, readonly=True)
    try:
        written = export(tables, raw_events(conn, args.study), args.format, args.output)
    finally:
        conn.close()
    for path in written:
        print(f"wrote {path}")
    return 0
