"""``uxlab export``: every format reads back with the documented columns and ``uxlab analyze``'s values.

One simulated study is exported once per format by the real CLI; each file
is read back with the tool a UX team would use (the csv module, openpyxl,
json) and compared, value by value, with ``uxlab analyze --format json``.
"""

from __future__ import annotations

import csv
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from analyzer.metrics.columns import TABLES as TABLE_COLUMNS
from recorder.cli import main
from tests.conftest import STUDY_DOC
from tests.scripted import record_simulated
from tests.test_report import analyze_json, run

# The "Output tables" of the README, word for word: a spreadsheet built on them must keep working.
DOCUMENTED = {
    "attempts": "study, variant, participant, session, task, outcome, coded_by, time_s, clicks, misclicks, "
    "rage_clicks, errors, moderator_errors, js_errors, invalid_inputs, pages, distinct_pages, backtracks, "
    "path_edit_distance, lostness, direct, seq, path",
    "tasks": "task, variant, attempts, successes, success_rate, success_ci_low, success_ci_high, "
    "abandonment_rate, time_gm_s, time_ci_low, time_ci_high, time_median_s, time_gm_all_s, error_rate, "
    "error_rate_ci_low, error_rate_ci_high, errors_per_attempt, misclick_rate, clicks_mean, lostness_mean, "
    "directness_rate, seq_mean",
    "participants": "participant, variant, session, tasks, successes, time_total_s, errors, sus",
    "comparisons": "task, metric, variant_a, variant_b, value_a, value_b, difference, ci_low, ci_high, test, "
    "statistic, p_value",
    "markers": "participant, variant, task, t_s, kind, text",
}
COLUMNS = {name: words.split(", ") for name, words in DOCUMENTED.items()}
TEXT_COLUMNS = {"study", "variant", "participant", "task", "outcome", "coded_by", "path", "metric", "variant_a",
                "variant_b", "test", "kind", "text"}  # fmt: skip
STUDY = STUDY_DOC["id"]


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A 10-participant study, its analysis, and one export per format."""
    folder = tmp_path_factory.mktemp("export")
    db = folder / "uxlab.db"
    record_simulated(db, STUDY_DOC, 10, seed=9)
    paths = {"csv": folder / "csv", "xlsx": folder / "study.xlsx", "json": folder / "study.json",
             "ndjson": folder / "events.ndjson"}  # fmt: skip
    for fmt, path in paths.items():
        assert main(["export", STUDY, "--format", fmt, "-o", str(path), "--db", str(db)]) == 0
    conn = sqlite3.connect(db)
    events = conn.execute("SELECT count(*) FROM events").fetchone()[0]
    conn.close()
    return {"paths": paths, "tables": analyze_json(db, STUDY), "events": events, "db": db}


def assert_columns(name: str, header: list[str]) -> None:
    """Exactly the documented columns, in order; extra ones only after them, as listed in one place."""
    assert header[: len(COLUMNS[name])] == COLUMNS[name], name
    assert not set(header[len(COLUMNS[name]) :]) & set(COLUMNS[name])
    assert header == list(TABLE_COLUMNS[name]), name


def assert_number_columns(name: str, rows: list[dict[str, Any]]) -> None:
    for row in rows:
        for column in COLUMNS[name]:
            value = row[column]
            if column not in TEXT_COLUMNS and value is not None:
                assert isinstance(value, int | float), (name, column, value)


def test_json_holds_every_table_with_analyze_values(exported: dict[str, Any]) -> None:
    doc = json.loads(exported["paths"]["json"].read_text())
    assert list(doc) == [*COLUMNS, "events"]
    for name in COLUMNS:
        rows = doc[name]
        assert rows, name
        assert_columns(name, list(rows[0]))
        assert rows == exported["tables"][name]
        assert_number_columns(name, rows)
    assert len(doc["events"]) == exported["events"]


def _from_csv(cell: str, value: Any) -> Any:
    """A CSV cell read back as the type of the analysis' value."""
    if value is None or cell == "":
        return None if cell == "" else cell
    if isinstance(value, bool):
        return {"True": True, "False": False}.get(cell, cell)
    if isinstance(value, int | float):
        return type(value)(cell)
    if isinstance(value, list | dict):
        return json.loads(cell)
    return cell


def test_csv_is_one_file_per_table_with_analyze_values(exported: dict[str, Any]) -> None:
    folder = exported["paths"]["csv"]
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [*(f"{n}.csv" for n in COLUMNS), "events.csv"]
    )
    for name in COLUMNS:
        with (folder / f"{name}.csv").open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            header = next(reader)
            lines = list(reader)
        assert_columns(name, header)
        expected = exported["tables"][name]
        assert len(lines) == len(expected)
        for line, row in zip(lines, expected, strict=True):
            assert {c: _from_csv(cell, row[c]) for c, cell in zip(header, line, strict=True)} == row
    with (folder / "events.csv").open(newline="", encoding="utf-8") as handle:
        assert sum(1 for _ in csv.reader(handle)) == exported["events"] + 1


def test_xlsx_is_one_sheet_per_table_numbers_as_numbers(exported: dict[str, Any]) -> None:
    book = load_workbook(exported["paths"]["xlsx"])
    assert book.sheetnames == [*COLUMNS, "events"]
    for name in [*COLUMNS, "events"]:
        sheet = book[name]
        assert sheet.freeze_panes == "A2", name
        first = sheet["A1"]
        assert first.font.b and first.fill.fill_type == "solid", name
    for name in COLUMNS:
        values = list(book[name].iter_rows(values_only=True))
        header, lines = [str(h) for h in values[0]], values[1:]
        assert_columns(name, header)
        rows = [dict(zip(header, line, strict=True)) for line in lines]
        expected = exported["tables"][name]
        assert len(rows) == len(expected)
        for row, want in zip(rows, expected, strict=True):
            # openpyxl writes 16 significant digits (Excel keeps 15): floats agree to that.
            assert row == {
                c: pytest.approx(v, rel=1e-14) if isinstance(v, float) else v
                for c, v in want.items()
            }
        assert_number_columns(name, rows)
    assert book["events"].max_row == exported["events"] + 1


def test_ndjson_is_one_raw_event_per_line(exported: dict[str, Any]) -> None:
    lines = exported["paths"]["ndjson"].read_bytes().splitlines()
    assert len(lines) == exported["events"]
    events = [json.loads(line) for line in lines]
    doc = json.loads(exported["paths"]["json"].read_text())
    assert events == doc["events"]
    types = {e["type"] for e in events}
    assert {"page", "click", "task_start", "task_end", "marker", "rating"} <= types
    for event in events:
        assert event["participant"] and event["variant"] in ("A", "B")
        assert isinstance(event["t"], float) and isinstance(event["seq"], int)
    sus = [e for e in events if e["type"] == "rating" and e["kind"] == "SUS"]
    assert len(sus) == 10 and all(isinstance(e["data"]["values"], list) for e in sus)


@pytest.mark.parametrize(("fmt", "output", "message"), [
    ("json", "{tmp}/out.json", "no study 'nope'"),
    ("xlsx", "{tmp}/missing/out.xlsx", "No such file or directory"),
    ("json", "{tmp}/missing/out.json", "No such file or directory"),
    ("ndjson", "{tmp}/missing/out.ndjson", "No such file or directory"),
    ("csv", "{tmp}/taken.txt", "that is a file"),
])  # fmt: skip
def test_bad_input_is_one_line_and_exit_2(exported: dict[str, Any], tmp_path: Path, fmt: str, output: str,
                                          message: str) -> None:  # fmt: skip
    (tmp_path / "taken.txt").write_text("mine")
    study = "nope" if "nope" in message else STUDY
    out = run(
        "export",
        study,
        "--format",
        fmt,
        "-o",
        output.format(tmp=tmp_path),
        "--db",
        str(exported["db"]),
    )
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and message in out.stderr, out.stderr
    assert (tmp_path / "taken.txt").read_text() == "mine"
    assert not (tmp_path / "missing").exists()
