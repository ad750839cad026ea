"""A hostile session's text in exports and on the terminal: no formula, no broken workbook,
no terminal escape obeyed (issue 10, items 3, 4 and 8).

The session is written as the collector writes it (real SQLite); the exports and the
analysis come from the real CLI; the XLSX is read as the zip of XML it is.
"""

from __future__ import annotations

import csv
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from analyzer.cells import csv_cell, text_cell, xlsx_cell
from recorder.storage import store
from recorder.terminal import terminal_text
from recorder.wire import schema
from recorder.wire.studyfile import parse_study
from tests.conftest import STUDY_DOC
from tests.scripted import _batch
from tests.test_report import run

STUDY = STUDY_DOC["id"]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
HOSTILE = ["=HYPERLINK(\"http://evil.test\",\"x\")", "+1+1", "-3", "@SUM(A1:A9)", "\tx", "\rx",
           "=1+2", "-cmd|' /C calc'!A0"]  # fmt: skip
T0 = 1_764_000_000_000.0


def hostile_study(db: Path) -> None:
    """One session whose participant id, URLs, selectors, labels and markers attack."""
    conn = store.open_db(db)
    try:
        store.save_study(conn, parse_study(STUDY_DOC))
        for n, participant in enumerate(["=cmd|'/C calc'!A0", "-3", "P\x1b]0;pwned\x07", "@P4"]):
            if participant.isprintable():
                info = store.new_session(conn, STUDY, participant, "AB"[n % 2])
            else:  # refused since session 4; a database from before may still hold one
                info = store.new_session(conn, STUDY, f"P{n}", "AB"[n % 2])
                conn.execute("UPDATE participants SET id = ? WHERE id = ?", (participant, f"P{n}"))
            base = f"http://proto.test/{info.variant}"
            page = [
                {"seq": 0, "t": T0, "type": "page", "url": f"{base}/"},
                {"seq": 1, "t": T0 + 900, "type": "page", "url": f"{base}/\x1b[2J\x01x"},
            ]
            clicks = [
                {"seq": 2 + i, "t": T0 + 1000 + 10 * i, "type": "click", "x": 5, "y": 5,
                 "sel": text, "label": text + "\x02\x1b]0;owned\x07", "interactive": True}
                for i, text in enumerate(HOSTILE)
            ]  # fmt: skip
            moderator = [
                {"seq": 0, "t": T0 + 10, "type": "task_start", "task": "buy-shoes"},
                *[{"seq": 1 + i, "t": T0 + 20 + i, "type": "marker", "kind": "note", "text": text}
                  for i, text in enumerate(HOSTILE)],
                {"seq": 20, "t": T0 + 5000, "type": "task_end", "task": "buy-shoes",
                 "outcome": "success"},
            ]  # fmt: skip
            store.EventStore(conn).write([
                _batch(info, schema.SOURCE_SNIPPET, "load-1", page + clicks, schema.PARTICIPANT_TYPES,
                       0.0, 20.0),
                _batch(info, schema.SOURCE_MODERATOR, "console", moderator, schema.MODERATOR_TYPES,
                       0.0, 20.0),
            ])  # fmt: skip
    finally:
        conn.close()


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("hostile") / "uxlab.db"
    hostile_study(db)
    return db


def _number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _cells(rows: list[list[str]]) -> list[str]:
    return [cell for row in rows for cell in row]


def test_xlsx_has_no_formula_and_survives_control_characters(
    hostile_db: Path, tmp_path: Path
) -> None:
    path = tmp_path / "study.xlsx"
    out = run("export", STUDY, "--format", "xlsx", "-o", str(path), "--db", str(hostile_db))
    assert out.returncode == 0, out.stderr  # before: openpyxl's IllegalCharacterError
    with zipfile.ZipFile(path) as book:
        sheets = {n: book.read(n) for n in book.namelist() if n.startswith("xl/worksheets/sheet")}
    assert sheets and not {n for n, xml in sheets.items() if b"<f>" in xml or b"<f " in xml}
    workbook = load_workbook(path, read_only=True)
    texts = [
        c
        for ws in workbook
        for row in ws.iter_rows(values_only=True)
        for c in row
        if isinstance(c, str)
    ]
    assert not [t for t in texts if t.startswith(FORMULA_START)]
    assert "'=1+2" in texts and "'-3" in texts and "'@P4" in texts
    assert any("\\x01x" in t for t in texts) and any("\\x02" in t for t in texts)
    attempts = list(workbook["attempts"].iter_rows(values_only=True))
    header = attempts[0]
    for row in attempts[1:]:  # numbers stay numbers
        assert isinstance(row[header.index("time_s")], float)
        assert isinstance(row[header.index("clicks")], int)
    events = list(workbook["events"].iter_rows(values_only=True))
    assert isinstance(events[1][events[0].index("seq")], int)


def test_csv_cells_never_start_a_formula(hostile_db: Path, tmp_path: Path) -> None:
    folder = tmp_path / "csv"
    out = run("export", STUDY, "--format", "csv", "-o", str(folder), "--db", str(hostile_db))
    assert out.returncode == 0, out.stderr
    cells: list[str] = []
    for path in folder.glob("*.csv"):
        with path.open(newline="", encoding="utf-8") as handle:
            cells += _cells(list(csv.reader(handle)))
    for table in ("attempts", "markers", "participants"):
        out = run("analyze", STUDY, "--format", "csv", "--table", table, "--db", str(hostile_db))
        assert out.returncode == 0, out.stderr
        cells += _cells(list(csv.reader(out.stdout.splitlines())))
    assert not [c for c in cells if c.startswith(FORMULA_START) and not _number(c)]
    assert "'=1+2" in cells and "'-3" in cells and "'-cmd|' /C calc'!A0" in cells
    assert "5.0" in cells or "5" in cells  # the clicks' x and other numbers are still plain numbers


def test_analyze_escapes_terminal_control_characters(hostile_db: Path) -> None:
    out = run("analyze", STUDY, "--db", str(hostile_db))
    assert out.returncode == 0, out.stderr
    assert "\x1b" not in out.stdout and "\x07" not in out.stdout and "\x01" not in out.stdout
    assert "P\\x1b]0;pwned\\x07" in out.stdout  # the participant, shown, not obeyed
    assert "\\x1b[2J\\x01x" in out.stdout  # the page's key in the path
    listed = run("session", "list", STUDY, "--db", str(hostile_db))
    assert "\x1b" not in listed.stdout and "P\\x1b]0;pwned\\x07" in listed.stdout


@pytest.mark.parametrize(("value", "csv_value", "xlsx_value"), [
    (-3, -3, -3), (2.5, 2.5, 2.5), (None, "", None), (True, True, True), ("-3", "'-3", "'-3"),
    ("=A1", "'=A1", "'=A1"), ("a=b", "a=b", "a=b"), ("\tx", "'\tx", "'\tx"), ("\x01=x", "\x01=x", "\\x01=x"),
    (["=x"], '["=x"]', '["=x"]'), ({"a": 1}, '{"a":1}', '{"a":1}'), ("\x00", "\x00", "\\x00"),
])  # fmt: skip
def test_cells(value: Any, csv_value: Any, xlsx_value: Any) -> None:
    assert csv_cell(value) == csv_value
    assert xlsx_cell(value) == xlsx_value
    assert text_cell("+1") == "'+1" and text_cell("1+") == "1+"


def test_terminal_text_escapes_every_control_character() -> None:
    every = "".join(chr(c) for c in [*range(0x20), *range(0x7F, 0xA0)]) + "\u202e\u2066"
    shown = terminal_text("a" + every + "é✓")
    assert re.fullmatch(r"a(\\x[0-9a-f]{2}|\\u[0-9a-f]{4})+é✓", shown)
