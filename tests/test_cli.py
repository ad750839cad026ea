"""The ``uxlab`` command line: one line and a non-zero exit for a user's mistake."""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from recorder import __version__, simulate
from recorder.cli import build_parser, main
from recorder.settings import SETTINGS
from recorder.storage import store
from tests.conftest import uxlab_cmd


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(uxlab_cmd(*args), capture_output=True, text=True, timeout=60)


def test_study_and_session_round_trip(tmp_path: Path) -> None:
    db = str(tmp_path / "u.db")
    study = tmp_path / "demo.toml"
    out = run("study", "example", "-o", str(study), "--url", "http://127.0.0.1:9999")
    assert out.returncode == 0, out.stderr
    assert "http://127.0.0.1:9999/demo/A/" in study.read_text()
    out = run("study", "create", str(study), "--db", db)
    assert out.returncode == 0 and "created study 'demo-shop'" in out.stdout
    out = run("study", "create", str(study), "--db", db)
    assert "updated study 'demo-shop'" in out.stdout
    out = run("study", "list", "--db", db)
    assert "demo-shop" in out.stdout
    out = run("session", "new", "demo-shop", "--participant", "P07", "--variant", "B", "--db", db)
    assert out.returncode == 0
    assert out.stdout.startswith("session 1 of demo-shop for P07 on variant B")
    token = out.stdout.split("token: ")[1].split()[0]
    assert f"http://127.0.0.1:9999/demo/B/?uxlab={token}" in out.stdout
    out = run("session", "close", token, "--db", db)
    assert out.returncode == 0 and "closed" in out.stdout
    out = run("session", "list", "demo-shop", "--db", db)
    assert "closed" in out.stdout


def test_a_token_that_begins_with_a_dash_closes_after_double_dash(tmp_path: Path) -> None:
    """New tokens never begin with '-'; one from an earlier uxlab is given after ``--``."""
    db = str(tmp_path / "u.db")
    study = tmp_path / "demo.toml"
    assert run("study", "example", "-o", str(study)).returncode == 0
    assert run("study", "create", str(study), "--db", db).returncode == 0
    out = run("session", "new", "demo-shop", "--participant", "P01", "--variant", "A", "--db", db)
    token = out.stdout.split("token: ")[1].split()[0]
    conn = store.open_db(db)
    with conn:
        conn.execute("UPDATE sessions SET token = ? WHERE token = ?", ("-Old" + token, token))
    conn.close()
    out = run("session", "close", "-Old" + token, "--db", db)
    assert out.returncode == 2 and "give it after --" in run("session", "close", "-h").stdout
    out = run("session", "close", "--db", db, "--", "-Old" + token)
    assert out.returncode == 0 and "closed" in out.stdout, out.stderr


MISTAKES = [
    (["study", "create", "missing.toml"], "cannot read missing.toml"),
    (["session", "new", "nope", "--participant", "P1", "--variant", "A"], "no study 'nope'"),
    (["session", "close", "no-such-token"], "no session with that token"),
    (["analyze", "nope"], "no study 'nope'"),
]


@pytest.mark.parametrize(("args", "message"), MISTAKES)
def test_mistakes_are_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    out = run(*args, "--db", str(tmp_path / "u.db"))
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], out.stderr


BAD_STUDIES = [
    ("id = 'x'\n", "variants"),
    ("id = 'x'\n[[variants]]\nid = 'A'\nurl = 'ftp://x'\n", "variants[0].url"),
    (
        "id = 'x'\n[[variants]]\nid='A'\nurl='http://h/'\n[[tasks]]\nid='t'\nsuccess={url='cart'}\n",
        "tasks[0].success.url",
    ),
    ("id = 'bad id'\n[[variants]]\nid='A'\nurl='http://h/'\n[[tasks]]\nid='t'\n", "id"),
    ("id = [\n", "not valid TOML"),
    (
        "id = 'x'\n[[variants]]\nid='A'\nurl='http://h/'\n[[tasks]]\nid='t'\nsucess={url='/'}\n",
        "tasks[0].sucess: unknown key (did you mean 'success'?)",
    ),
]


@pytest.mark.parametrize(("text", "field"), BAD_STUDIES)
def test_bad_study_file_names_the_field(
    tmp_path: Path, text: str, field: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "s.toml"
    path.write_text(text)
    assert main(["study", "create", str(path), "--db", str(tmp_path / "u.db")]) == 2
    err = capsys.readouterr().err
    assert field in err and len(err.strip().splitlines()) == 1


def test_database_in_missing_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["study", "list", "--db", str(tmp_path / "no" / "u.db")]) == 2
    assert "no such folder" in capsys.readouterr().err


def test_a_binary_file_as_study_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "s.toml"
    path.write_bytes(bytes(range(256)) * 4)
    assert main(["study", "create", str(path), "--db", str(tmp_path / "u.db")]) == 2
    err = capsys.readouterr().err.strip()
    assert "not a text file" in err and str(path) in err and len(err.splitlines()) == 1


def test_someone_elses_sqlite_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import sqlite3

    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE notes (x)")
    assert main(["study", "list", "--db", str(other)]) == 2
    assert "not a uxlab database" in capsys.readouterr().err
    with sqlite3.connect(other) as conn:
        assert [
            t for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        ] == ["notes"]


def test_links_to_another_port_are_warned_with_the_fix(tmp_path: Path) -> None:
    """`study example` without --url, then `serve --port 0`: links would point at 8642."""
    db = str(tmp_path / "u.db")
    assert run("study", "example", "-o", str(tmp_path / "demo.toml")).returncode == 0
    assert run("study", "create", str(tmp_path / "demo.toml"), "--db", db).returncode == 0
    env = {**os.environ, "UXLAB_ADMIN_TOKEN": "t", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(uxlab_cmd("serve", "--db", db, "--port", "0"), stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, env=env)  # fmt: skip
    try:
        assert proc.stdout is not None
        lines: list[str] = []  # up to the snippet line, printed last; warnings come before it
        for _ in range(10):
            lines.append(proc.stdout.readline())
            if not lines[-1] or lines[-1].startswith("snippet:"):
                break
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    base = re.search(r"serving on (http://127\.0\.0\.1:\d+)", lines[0])
    assert base, lines
    fix = f"uxlab study example --url {base.group(1)} -o demo-shop.toml && uxlab study create demo-shop.toml --db {db}"
    assert lines[2].startswith("warning: study demo-shop: variants A, B point at port 8642")
    assert fix in lines[2]
    out = run("session", "new", "demo-shop", "--participant", "P01", "--variant", "A", "--db", db)
    assert out.returncode == 0 and "session 1 of demo-shop" in out.stdout
    assert "point at port 8642" in out.stderr and fix in out.stderr


def test_links_to_this_server_are_not_warned(tmp_path: Path) -> None:
    db = str(tmp_path / "u.db")
    run("study", "example", "-o", str(tmp_path / "demo.toml"))
    run("study", "create", str(tmp_path / "demo.toml"), "--db", db)
    conn = store.open_db(db)
    store.meta_set(conn, store.SERVED_URL, "http://127.0.0.1:8642")
    conn.close()
    out = run("session", "new", "demo-shop", "--participant", "P01", "--variant", "A", "--db", db)
    assert out.returncode == 0 and out.stderr == ""


# -- what a newcomer expects of the command line ---------------------------------------------


def _parsers(parser: argparse.ArgumentParser, name: str = "uxlab") -> Iterator[tuple[str, Any]]:
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub_name, sub in action.choices.items():
                yield from _parsers(sub, f"{name} {sub_name}")


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"uxlab {__version__}"


def test_every_argument_and_option_has_help() -> None:
    missing = [
        f"{name}: {action.dest}"
        for name, parser in _parsers(build_parser())
        for action in parser._actions
        if not isinstance(action, argparse._SubParsersAction | argparse._HelpAction)
        and not (action.help or "").strip()
    ]
    assert missing == []


@pytest.mark.parametrize("command", ["study", "session"])
def test_study_and_session_help_show_examples(command: str) -> None:
    text = run(command, "--help").stdout
    assert "examples:" in text and f"uxlab {command} " in text.split("examples:")[1]


@pytest.mark.parametrize("command", ["analyze", "export"])
def test_format_choices_are_explained(command: str) -> None:
    parsers = dict(_parsers(build_parser()))
    action = next(a for a in parsers[f"uxlab {command}"]._actions if a.dest == "format")
    assert action.choices
    for choice in action.choices:
        assert f"{choice}:" in action.help, choice


def test_serve_help_lists_every_uxlab_variable() -> None:
    text = run("serve", "--help").stdout
    for name, _, _ in SETTINGS:
        assert f"UXLAB_{name.upper()}" in text


def test_serve_prints_the_demo_shops_urls(tmp_path: Path) -> None:
    env = {**os.environ, "UXLAB_WARM_KERNELS": "0", "UXLAB_ADMIN_TOKEN": "t"}
    proc = subprocess.Popen(uxlab_cmd("serve", "--db", str(tmp_path / "u.db"), "--port", "0"),
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)  # fmt: skip
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(4)]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        if proc.stdout is not None:
            proc.stdout.close()
    base = lines[0].split("serving on ")[1].split()[0]
    assert f"demo shop: {base}/demo/A/ and {base}/demo/B/" in "".join(lines)


def test_export_csv_to_a_csv_file_name_says_it_writes_a_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "u.db"
    store.open_db(db).close()
    target = tmp_path / "demo.csv"
    args = ["export", "demo-shop", "--format", "csv", "-o", str(target), "--db", str(db)]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "csv export writes a folder" in err
    assert f"{tmp_path / 'demo'}-csv" in err and not target.exists()


def test_analyze_and_report_into_a_missing_folder_say_the_same(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "u.db"
    store.open_db(db).close()
    said = []
    for command, name in (("analyze", "out.json"), ("report", "out.html")):
        output = tmp_path / "missing" / name
        assert main([command, "demo-shop", "-o", str(output), "--db", str(db)]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1
        said.append(err.replace(name, "FILE"))
    assert said[0] == said[1]
    assert f"the folder {tmp_path / 'missing'} does not exist" in said[0]


def test_simulate_of_many_participants_says_how_far_it_is(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert simulate._progress(simulate.PROGRESS_FROM - 1) is None  # a few seconds: quiet
    say = simulate._progress(100)
    assert say is not None
    for done in range(1, 101):
        say(done, 100)
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "uxlab: 10/100 sessions sent" and lines[-1] == "uxlab: 100/100 sessions sent"
    assert len(lines) == 10
