"""The docs cannot drift from the code (in the manner of sqlite-utils' tests/test_docs.py).

Each test walks what the code has — the CLI's parser, the analyzer's tables, the
application's router, the study-file parser's keys, the wire format's event
types — and fails naming what the README or ``docs/`` does not describe:

- every ``uxlab`` command (nested ``study`` / ``session`` actions too) has its
  row in the README's command table, and every option of it is in that row;
- every column of every output table is in ``docs/tables.md`` under the
  table's heading, and DESIGN's base tables (and the findings tables) are in
  the README with every column;
- every route the server answers is in ``docs/http-api.md``, and every
  ``/api/`` route that page names is served;
- every key of every ``*_KEYS`` tuple of the study-file parser is in
  ``docs/study-file.md`` under its table's heading;
- every event type (with its fields) is in ``docs/wire-format.md``.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

import pytest

from analyzer.metrics import analyze as metrics
from analyzer.metrics.columns import TABLES as TABLE_COLUMNS  # every table's columns, in order
from recorder.cli import build_parser
from recorder.collector import openapi
from recorder.demo.shop import EXAMPLE_STUDY
from recorder.findings import store as findings_store
from recorder.server import create_app
from recorder.settings import Settings
from recorder.wire import schema, studyfile
from tests.scripted import Recorder

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def section(text: str, heading: str) -> str:
    """The text under a Markdown heading line (any level), up to the next heading of its level."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.lstrip("#") != line and line.lstrip("#").strip() == heading:
            level = len(line) - len(line.lstrip("#"))
            rest = []
            for other in lines[i + 1 :]:
                depth = len(other) - len(other.lstrip("#"))
                if 0 < depth <= level and other[depth : depth + 1] == " ":
                    break
                rest.append(other)
            return "\n".join(rest)
    raise AssertionError(f"no heading {heading!r}")


def first_cells(text: str) -> list[str]:
    """The first cell of every Markdown table row in ``text``."""
    return [re.split(r"(?<!\\)\|", line)[1].strip() for line in text.splitlines()
            if line.startswith("|") and not line.startswith("|---")]  # fmt: skip


def code_spans(text: str) -> list[str]:
    """The inline code of ``text`` (fenced blocks left out)."""
    return re.findall(r"`([^`\n]+)`", re.sub(r"^```.*?^```", "", text, flags=re.M | re.S))


# -- the command line --------------------------------------------------------------------------

SHARED = {"--db"}  # documented once, under the table: "Every command but ... takes `--db PATH`"


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def commands(
    parser: argparse.ArgumentParser | None = None, path: tuple[str, ...] = ()
) -> dict[tuple[str, ...], list[list[str]]]:
    """Every leaf command's path (``("study", "create")``) -> its options' option strings."""
    parser = parser or build_parser()
    found: dict[tuple[str, ...], list[list[str]]] = {}
    subs = _subcommands(parser)
    for name, sub in subs.items():
        found.update(commands(sub, (*path, name)))
    if not subs:
        found[path] = [list(a.option_strings) for a in parser._actions
                       if a.option_strings and not isinstance(a, argparse._HelpAction)]  # fmt: skip
    return found


def top_options() -> list[list[str]]:
    return [list(a.option_strings) for a in build_parser()._actions
            if a.option_strings and not isinstance(a, argparse._HelpAction)]  # fmt: skip


def command_rows() -> dict[tuple[str, ...], str]:
    """The README command table: each row's command path -> the row's first cell.

    A row's path is the longest run of its first words that is a command
    (``uxlab session close TOKEN`` -> ``("session", "close")``); ``()`` for a row
    of the global options (``uxlab --debug COMMAND``).
    """
    known = commands()
    rows: dict[tuple[str, ...], str] = {}
    for cell in first_cells(section(_read(ROOT / "README.md"), "Command line")):
        if not cell.startswith("`uxlab"):
            continue
        words = tuple(cell.strip("`").split()[1:])
        path = next((words[:n] for n in (2, 1) if words[:n] in known), words[:1])
        if words[:1] and words[0].startswith("-"):
            path = ()
        assert path == () or path not in rows, f"two rows for uxlab {' '.join(path)}"
        rows[path] = rows.get(path, "") + cell
    return rows


def _named(option: str, text: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", text) is not None


def test_every_command_has_its_row_in_the_readme() -> None:
    missing = sorted(" ".join(path) for path in commands() if path not in command_rows())
    assert missing == [], f"README, Command line: no row for uxlab {missing}"


def test_every_readme_row_names_a_command() -> None:
    stale = sorted(" ".join(p) for p in command_rows() if p and p not in commands())
    assert stale == [], f"README rows for commands uxlab does not have: {stale}"


@pytest.mark.parametrize("path", sorted(commands()), ids=" ".join)
def test_every_option_is_in_its_commands_row(path: tuple[str, ...]) -> None:
    row = command_rows().get(path, "")
    missing = [strings[-1] for strings in commands()[path]
               if not SHARED & set(strings) and not any(_named(s, row) for s in strings)]  # fmt: skip
    assert missing == [], f"README row of uxlab {' '.join(path)} lacks {missing}"


def test_global_options_are_in_the_table() -> None:
    rows = " ".join(command_rows().values())
    missing = [s[-1] for s in top_options() if not any(_named(o, rows) for o in s)]
    assert missing == [], f"README command table lacks {missing}"


def test_the_shared_db_option_is_described_truly() -> None:
    text = section(_read(ROOT / "README.md"), "Command line")
    match = re.search(r"Every command (?:but (.+?) )?takes `--db PATH`", " ".join(text.split()))
    assert match, "README, Command line: the sentence on --db is gone"
    named = set(code_spans(match.group(1) or ""))
    without = {" ".join(p) for p, options in commands().items()
               if not any("--db" in strings for strings in options)}  # fmt: skip
    assert named == without, "the commands without --db and the README's exceptions differ"


# -- output tables -----------------------------------------------------------------------------

#: The README's sections that list every column of these tables.
README_TABLES = {"Output tables": ("attempts", "tasks", "participants", "comparisons", "markers"),
                 "Findings": ("findings", "finding_variants", "finding_evidence",
                              "problem_discovery", "discovery_curve", "suggestions")}  # fmt: skip


def test_every_table_is_known_here() -> None:
    assert set(TABLE_COLUMNS) == set(metrics.StudyResults.TABLES), (
        "a table was added or removed: name its columns in analyzer/metrics/columns.py and docs/tables.md"
    )


@pytest.mark.parametrize("table", sorted(TABLE_COLUMNS))
def test_every_column_is_in_docs_tables(table: str) -> None:
    documented = [
        cell.strip("`") for cell in first_cells(section(_read(DOCS / "tables.md"), table))
    ]
    missing = [c for c in TABLE_COLUMNS[table] if c not in documented]
    assert missing == [], f"docs/tables.md, {table}: no row for {missing}"
    extra = [c for c in documented if c not in TABLE_COLUMNS[table] and c != "column"]
    assert extra == [], f"docs/tables.md, {table}: columns the table does not have: {extra}"


@pytest.mark.parametrize("table", [t for tables in README_TABLES.values() for t in tables])
def test_every_column_of_designs_tables_is_in_the_readme(table: str) -> None:
    heading = next(h for h, tables in README_TABLES.items() if table in tables)
    text = section(_read(ROOT / "README.md"), heading)
    missing = [c for c in TABLE_COLUMNS[table] if not _named(c, text)]
    assert missing == [], f"README, {heading}: {table} lacks {missing}"


def test_the_analyzers_rows_have_exactly_these_columns(db_path: Path) -> None:
    """What ``analyze`` outputs is what TABLE_COLUMNS says (so the checks above see the truth)."""
    import tomllib

    with Recorder(db_path, tomllib.loads(_read(EXAMPLE_STUDY))) as rec:
        rec.simulate(6, seed=3)
        assert rec.conn is not None
        findings_store.create_finding(rec.conn, rec.parsed.id, {"title": "Filter hidden",
                                                                "severity": 2})  # fmt: skip
        study = rec.parsed.id
    results = metrics.analyze(db_path, study, cache=False)
    seen = []
    for name in metrics.StudyResults.TABLES:
        rows = results.table(name)
        for row in rows[:1]:
            seen.append(name)
            assert tuple(row) == TABLE_COLUMNS[name], name
    assert {"attempts", "tasks", "participants", "comparisons", "findings"} <= set(seen)


# -- the HTTP API ------------------------------------------------------------------------------

METHODS = {"GET", "POST", "PATCH", "DELETE", "PUT", "OPTIONS"}
CONSOLE_BASES = ("/studies/{}", "/observe/{}/{}")


def _shape(path: str) -> str:
    """A route's path with its parameters unnamed: ``/x/{study}/y/{n:\\d+}`` -> ``/x/{}/y/{}``."""
    return re.sub(r"\{[^{}]*(?:\{[^{}]*\}[^{}]*)*\}", "{}", path)


def served() -> set[str]:
    """``"METHOD shape"`` of every route; console pages under ``{base}``; the demo shop aside."""
    app = create_app(Settings(db=":memory:"))
    found = set()
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = _shape(info.get("path") or info.get("formatter", ""))
        if route.method not in METHODS or path.startswith("/demo"):
            continue
        for base in CONSOLE_BASES:
            if path == base or path.startswith(base + "/"):
                path = "{base}" + path[len(base) :]
        found.add(f"{route.method} {path}")
    return found


def documented() -> set[str]:
    text = _read(DOCS / "http-api.md")
    spans = (s for s in code_spans(text)
             if re.fullmatch(r"[A-Z]+ [/{]\S*", s) and s.split()[0] in METHODS)  # fmt: skip
    shapes = ((s.split()[0], _shape(s.split()[1].replace("{base}", "BASE"))) for s in spans)
    return {f"{method} {path.split('?')[0].replace('BASE', '{base}')}" for method, path in shapes}


def test_every_route_is_in_docs_http_api() -> None:
    missing = sorted(served() - documented())
    assert missing == [], f"docs/http-api.md lacks {missing}"


def test_every_api_route_documented_is_served() -> None:
    stale = sorted(r for r in documented() - served() if r.split()[1].startswith("/api/"))
    assert stale == [], f"docs/http-api.md names routes the server does not have: {stale}"


def test_the_demo_shop_and_the_openapi_document_are_named() -> None:
    text = _read(DOCS / "http-api.md")
    assert "`GET /demo/`" in text
    assert "recorder/collector/openapi.py" in text and "/api/v1/openapi.json" in text


# -- the study file ----------------------------------------------------------------------------

#: Each ``*_KEYS`` tuple of the parser -> the heading of docs/study-file.md that lists its keys.
KEY_SECTIONS = {
    "TOP_KEYS": "Top level",
    "VARIANT_KEYS": "`[[variants]]`",
    "TASK_KEYS": "`[[tasks]]`",
    "QUESTIONNAIRE_KEYS": "`[questionnaires]`",
    "PAGES_KEYS": "`[pages]`",
    "FINDINGS_KEYS": "`[findings]`",
    "SUCCESS_KEYS": "`[[tasks]]`",
}


def key_tuples() -> dict[str, tuple[str, ...]]:
    return {name: value for name, value in vars(studyfile).items()
            if name.endswith("_KEYS") and isinstance(value, tuple)}  # fmt: skip


def test_every_key_tuple_has_its_section() -> None:
    assert set(key_tuples()) == set(KEY_SECTIONS), (
        "the parser's *_KEYS tuples changed: map the new one to its section of docs/study-file.md"
    )


@pytest.mark.parametrize("name", sorted(KEY_SECTIONS))
def test_every_study_file_key_is_in_docs(name: str) -> None:
    text = section(_read(DOCS / "study-file.md"), KEY_SECTIONS[name])
    cells = {c.strip("`").strip("[]") for c in first_cells(text)}
    if name == "SUCCESS_KEYS":  # written as `{ url = "/cart" }` in the success row
        missing = [k for k in key_tuples()[name] if f"{{ {k} = " not in text]
    else:
        missing = [k for k in key_tuples()[name] if k not in cells]
    assert missing == [], f"docs/study-file.md, {KEY_SECTIONS[name]}: no row for {missing}"


# -- the wire format ---------------------------------------------------------------------------

ENVELOPE = {"seq", "t", "type", "frame"}


def _event_rows() -> dict[str, str]:
    text = _read(DOCS / "wire-format.md")
    return {line.split("|")[1].strip().strip("`"): line for line in text.splitlines()
            if line.startswith("| `")}  # fmt: skip


@pytest.mark.parametrize("event", sorted(schema.EVENT_TYPES))
def test_every_event_type_and_field_is_in_docs_wire_format(event: str) -> None:
    rows = _event_rows()
    assert event in rows, f"docs/wire-format.md: no row for the event type {event!r}"
    spec: dict[str, Any] = {**openapi.PARTICIPANT_EVENTS, **openapi.MODERATOR_EVENTS}[event]
    fields = set(spec["properties"]) - ENVELOPE
    missing = sorted(f for f in fields if not re.search(rf"`{f}\??`", rows[event]))
    assert missing == [], f"docs/wire-format.md, {event}: fields {missing} not named"


def test_frames_are_described() -> None:
    assert "`frame`" in _read(DOCS / "wire-format.md")
