"""The ``uxlab`` command line. Errors a user caused end in one line and exit 2."""

from __future__ import annotations

import argparse
import sqlite3
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from recorder import __version__
from recorder import recordings as recording_cli
from recorder.demo.shop import EXAMPLE_STUDY
from recorder.errors import UxlabError
from recorder.settings import SETTINGS, Settings, db_path
from recorder.storage import store
from recorder.terminal import terminal_text
from recorder.wire import links
from recorder.wire.schema import participant_link
from recorder.wire.studyfile import read_study


class UsageError(UxlabError):
    """A mistake on the command line: printed as one line."""


def _db_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db", default=None, help="database file (default ./uxlab.db, or UXLAB_DB)"
    )


def _db_path(args: argparse.Namespace) -> str:
    return db_path(args.db)


def _open(args: argparse.Namespace) -> sqlite3.Connection:
    return store.open_db(_db_path(args))


# -- commands --------------------------------------------------------------------------------


def cmd_serve(args: argparse.Namespace) -> int:
    from recorder.server import run

    settings = Settings.from_env(db=args.db, host=args.host, port=args.port,
                                 access_log=True if args.access_log else None,
                                 trusted_proxy=True if args.trusted_proxy else None)  # fmt: skip
    return run(settings)


def cmd_study_create(args: argparse.Namespace) -> int:
    study, text = read_study(args.file)
    conn = _open(args)
    created = store.save_study(conn, study, text)
    word = "created" if created else "updated"
    print(f"{word} study {study.id!r}: {len(study.variants)} variants, {len(study.tasks)} tasks")
    return 0


def cmd_study_list(args: argparse.Namespace) -> int:
    rows = store.list_studies(_open(args))
    if not rows:
        print(
            "no studies yet: uxlab study create FILE (uxlab study example -o demo.toml writes one)"
        )
        return 0
    print(f"{'study':<24} {'variants':>8} {'tasks':>6} {'sessions':>9}  name")
    for row in rows:
        print(
            f"{terminal_text(row['id']):<24} {row['variants']:>8} {row['tasks']:>6} {row['sessions']:>9}"
            f"  {terminal_text(row['name'])}"
        )
    return 0


def cmd_study_example(args: argparse.Namespace) -> int:
    text = EXAMPLE_STUDY.read_text(encoding="utf-8")
    if args.url:
        text = text.replace("http://127.0.0.1:8642", args.url.rstrip("/"))
    if args.output in (None, "-"):
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"wrote {args.output}: load it with uxlab study create {args.output}")
    return 0


def cmd_session_new(args: argparse.Namespace) -> int:
    conn = _open(args)
    info = store.new_session(conn, args.study, args.participant, args.variant)
    print(
        f"session {info.number} of {info.study_id} for {info.participant} on variant {info.variant}"
    )
    print(f"token: {info.token}")
    print(f"participant's link: {participant_link(info.variant_url, info.token)}")
    served = store.meta_get(conn, store.SERVED_URL)  # where uxlab serve last listened
    if served:
        study = store.load_study(conn, info.study_id)
        line = links.warning(study, served, args.db)
        if line:
            print(f"warning: {line}", file=sys.stderr)
    return 0


def cmd_session_close(args: argparse.Namespace) -> int:
    info = store.close_session(_open(args), args.token)
    print(
        f"session {info.number} of {info.study_id} ({terminal_text(info.participant)}, {info.variant}) closed"
    )
    return 0


def cmd_session_list(args: argparse.Namespace) -> int:
    conn = _open(args)
    store.load_study(conn, args.study)
    sessions = store.study_sessions(conn, args.study)
    for s in sessions:
        who, variant = terminal_text(s.participant), terminal_text(s.variant)
        print(f"{s.number:>5}  {who:<8} {variant:<10} {s.status:<7} {s.token}")
    if not sessions:
        print(f"no sessions yet: uxlab session new {args.study} --participant P01 --variant ...")
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    from recorder.simulate import run_simulation

    return run_simulation(args)


def cmd_check(args: argparse.Namespace) -> int:
    path = _db_path(args)
    if not Path(path).is_file():
        raise store.StoreError(f"no database at {path} (give --db, or set UXLAB_DB)")
    conn = sqlite3.connect(path)  # plain: neither migrated nor switched to WAL
    try:
        problems = store.check(conn, thorough=True)
    finally:
        conn.close()
    if problems:
        for problem in problems:
            print(problem)
        raise store.StoreError(
            f"{path} is damaged ({len(problems)} problems, listed above); restore a backup"
            " (README: Durability and backups)"
        )
    print(f"{path}: ok (PRAGMA integrity_check found no damage)")
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from recorder.storage.backup import backup

    done = backup(_db_path(args), args.output, force=args.force)
    print(f"backed up {_db_path(args)} to {done.path}: {done.events} events, "
          f"{done.size / 1e6:.1f} MB, checked")  # fmt: skip
    return 0


def _lazy(module: str, name: str) -> Callable[[argparse.Namespace], int]:
    """A command that lives in the analyzer, imported only when it runs."""

    def command(args: argparse.Namespace) -> int:
        import importlib

        fn: Callable[[argparse.Namespace], int] = getattr(importlib.import_module(module), name)
        importlib.import_module("analyzer.warm").announce_waits()  # one line before numba compiles
        return fn(args)

    return command


# -- parser ----------------------------------------------------------------------------------

EPILOG = """examples:
  uxlab study example -o demo.toml && uxlab study create demo.toml
  uxlab serve
  uxlab session new demo-shop --participant P01 --variant A
  uxlab simulate demo-shop --participants 12 --seed 1
  uxlab analyze demo-shop
  uxlab backup -o uxlab-backup.db
"""


STUDY_EXAMPLES = """examples:
  uxlab study example -o demo.toml      write the demo shop's study file
  uxlab study create demo.toml          load it (again: update it)
  uxlab study list                      every study, with its sessions
"""
SESSION_EXAMPLES = """examples:
  uxlab session new demo-shop --participant P07 --variant B   prints the participant's link
  uxlab session list demo-shop                                 numbers, participants, tokens
  uxlab session close TOKEN                                    the token writes nothing more
"""


def settings_epilog() -> str:
    """``serve --help``'s list of the ``UXLAB_*`` variables, from the settings table."""
    lines = ["environment variables (a flag given wins over its variable):"]
    for name, default, text in SETTINGS:
        shown = {True: "on", False: "off", "": "unset"}.get(default, default)
        suffix = "" if "default" in text else f" (default {shown})"
        lines.append(f"  UXLAB_{name.upper():<16} {text}{suffix}")
    lines += ["", "example: uxlab serve --port 8642"]
    return "\n".join(lines)


FORMAT_HELP = {
    "analyze": "table: readable tables in the terminal (the attempts and the tasks); "
    "json: every table as one JSON object; csv: one table (the attempts, or --table)",
    "export": "csv: a folder with one CSV file per table and events.csv; xlsx: one "
    "workbook, a sheet per table; json: one JSON object of every table and the events; "
    "ndjson: the raw events, one JSON object per line",
}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every ``uxlab`` command."""
    parser = argparse.ArgumentParser(
        prog="uxlab", description="Record and analyze moderated usability tests.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    parser.add_argument("--debug", action="store_true",
                        help="show the traceback of a user's mistake too (bugs always show one)")  # fmt: skip
    parser.add_argument("--version", action="version", version=f"uxlab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    helps = {name: text for name, _, text in SETTINGS}

    p = sub.add_parser("serve", help="run the collector, console, snippet and demo",
                       description="Run the collector, the moderator console, the snippet at "
                       "/uxlab.js and the demo shop at /demo/A/ and /demo/B/.",
                       epilog=settings_epilog(),
                       formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    _db_arg(p)
    p.add_argument("--host", default=None, help=helps["host"] + " (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=None, help=helps["port"] + " (default 8642)")
    p.add_argument("--access-log", action="store_true", help=helps["access_log"])
    p.add_argument("--trusted-proxy", action="store_true", help=helps["trusted_proxy"])
    p.set_defaults(func=cmd_serve)

    study = sub.add_parser("study", help="load, update and list studies",
                           description="Load, update and list studies (one TOML file each).",
                           epilog=STUDY_EXAMPLES,
                           formatter_class=argparse.RawDescriptionHelpFormatter,
                           ).add_subparsers(dest="study_command", metavar="ACTION", required=True)  # fmt: skip
    p = study.add_parser("create", help="load or update a study from a TOML file",
                         epilog="example: uxlab study create demo.toml")  # fmt: skip
    p.add_argument("file", help="study file (TOML; uxlab study example writes one)")
    _db_arg(p)
    p.set_defaults(func=cmd_study_create)
    p = study.add_parser("list", help="list studies", epilog="example: uxlab study list")
    _db_arg(p)
    p.set_defaults(func=cmd_study_list)
    p = study.add_parser("example", help="write the bundled demo-shop study file",
                         epilog="example: uxlab study example -o demo.toml")  # fmt: skip
    p.add_argument("-o", "--output", default=None, help="file to write (default: print it)")
    p.add_argument(
        "--url", default=None, help="server URL the study points at (default http://127.0.0.1:8642)"
    )
    p.set_defaults(func=cmd_study_example)

    session = sub.add_parser("session", help="open, close and list sessions",
                             description="Open, close and list sessions (one participant, one "
                             "variant, one sitting).", epilog=SESSION_EXAMPLES,
                             formatter_class=argparse.RawDescriptionHelpFormatter,
                             ).add_subparsers(dest="session_command", metavar="ACTION",
                                              required=True)  # fmt: skip
    p = session.add_parser("new", help="open a session; print its token and the participant's link",
                           epilog="example: uxlab session new demo-shop --participant P07 --variant B")  # fmt: skip
    p.add_argument("study", help="the study's id, e.g. demo-shop (see uxlab study list)")
    p.add_argument(
        "--participant", required=True, help="pseudonymous id such as P07 (never a name)"
    )
    p.add_argument("--variant", required=True, help="variant id from the study file")
    _db_arg(p)
    p.set_defaults(func=cmd_session_new)
    p = session.add_parser(
        "close", help="close a session", epilog="example: uxlab session close TOKEN"
    )
    p.add_argument(
        "token",
        help="the session's token (uxlab session list STUDY shows them); one"
        " made by an earlier uxlab may begin with '-': give it after --, as in"
        " uxlab session close -- -Xy…",
    )
    _db_arg(p)
    p.set_defaults(func=cmd_session_close)
    p = session.add_parser(
        "list", help="list a study's sessions", epilog="example: uxlab session list demo-shop"
    )
    p.add_argument("study", help="the study's id, e.g. demo-shop")
    _db_arg(p)
    p.set_defaults(func=cmd_session_list)
    recording_cli.add_session_commands(session, _db_arg)

    p = sub.add_parser("simulate", help="send realistic simulated participants through the HTTP API",
                       epilog="example: uxlab simulate demo-shop --participants 12 --seed 1")  # fmt: skip
    p.add_argument(
        "study", help="the study's id, e.g. demo-shop (load it first: uxlab study create)"
    )
    p.add_argument("--participants", type=int, default=8, help="how many participants (default 8)")
    p.add_argument(
        "--seed", type=int, default=None, help="random seed; the same seed gives the same data"
    )
    p.add_argument("--url", default=None, help="collector URL (default http://127.0.0.1:8642)")
    p.add_argument(
        "--same", action="store_true", help="make every variant behave alike (no real difference)"
    )
    p.add_argument("--within", action="store_true", help="every participant uses every variant")
    p.add_argument("--no-findings", action="store_true",
                   help="do not group the repeated error markers into findings")  # fmt: skip
    _db_arg(p)
    p.set_defaults(func=cmd_simulate)

    p = sub.add_parser("check", help="check the database file for damage (SQLite's integrity_check)",
                       epilog="example: uxlab check --db uxlab.db")  # fmt: skip
    _db_arg(p)
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("backup", help="copy the database consistently, even while uxlab serve writes",
                       epilog="example: uxlab backup -o backups/uxlab-2026-11-29.db")  # fmt: skip
    p.add_argument("-o", "--output", required=True, help="file to write the copy to")
    p.add_argument("--force", action="store_true", help="overwrite the file if it exists")
    _db_arg(p)
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser("analyze", help="metrics tables for a study",
                       epilog="example: uxlab analyze demo-shop --format json -o results.json")  # fmt: skip
    p.add_argument("study", help="the study's id, e.g. demo-shop")
    p.add_argument("--format", choices=("table", "json", "csv"), default="table",
                   help=FORMAT_HELP["analyze"] + " (default table)")  # fmt: skip
    p.add_argument("-o", "--output", default=None, help="file to write (default: the terminal)")
    p.add_argument(
        "--table", default=None, help="only this table (attempts, tasks, participants, ...)"
    )
    _db_arg(p)
    p.set_defaults(func=_lazy("analyzer.commands", "analyze_command"))

    p = sub.add_parser("findings", help="the team's findings: terminal table, Markdown or CSV",
                       epilog="example: uxlab findings demo-shop --format markdown -o findings.md")  # fmt: skip
    p.add_argument("study", help="the study's id")
    p.add_argument("--format", choices=("table", "markdown", "csv"), default="table",
                   help="table: for the terminal; markdown: one section per finding, to paste "
                   "into an issue tracker or a document; csv: one row per finding")  # fmt: skip
    p.add_argument("-o", "--output", default=None, help="file to write (default: the terminal)")
    _db_arg(p)
    p.set_defaults(func=_lazy("analyzer.findings.command", "findings_command"))

    p = sub.add_parser("report", help="write one self-contained HTML report",
                       epilog="example: uxlab report demo-shop -o report.html")  # fmt: skip
    p.add_argument("study", help="the study's id, e.g. demo-shop")
    p.add_argument("-o", "--output", required=True, help="HTML file to write")
    _db_arg(p)
    p.set_defaults(func=_lazy("analyzer.report.render", "report_command"))

    p = sub.add_parser("clip", help="write a stretch of a session's recording as one offline HTML file",
                       epilog="example: uxlab clip demo-shop 3 --from 1:20 --to 1:45 -o clip.html")  # fmt: skip
    p.add_argument("study", help="the study's id")
    p.add_argument("session", type=int, help="the session's number within the study")
    p.add_argument(
        "--from", dest="start", required=True, help="start, M:SS from the session's first event"
    )
    p.add_argument("--to", dest="end", required=True, help="end, M:SS")
    p.add_argument("-o", "--output", required=True, help="HTML file to write")
    _db_arg(p)
    p.set_defaults(func=_lazy("analyzer.report.clip", "clip_command"))

    p = sub.add_parser("export", help="export every table and the raw events",
                       epilog="example: uxlab export demo-shop --format xlsx -o demo.xlsx")  # fmt: skip
    p.add_argument("study", help="the study's id, e.g. demo-shop")
    p.add_argument("--format", choices=("csv", "xlsx", "json", "ndjson"), required=True,
                   help=FORMAT_HELP["export"])  # fmt: skip
    p.add_argument("-o", "--output", required=True,
                   help="file to write; for csv a folder (made if missing), e.g. demo-csv")  # fmt: skip
    _db_arg(p)
    p.set_defaults(func=_lazy("analyzer.export", "export_command"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ``uxlab`` command; return its exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result: Any = args.func(args)
    except KeyboardInterrupt:
        return 130
    except UxlabError as exc:
        if args.debug:
            raise
        print(f"uxlab: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        # The file system refused a path the user named (no such folder, permission, disk full).
        if args.debug or exc.filename is None:
            raise
        print(f"uxlab: error: {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 2
    except sqlite3.DatabaseError as exc:
        if not store.damaged(exc):
            raise
        db = db_path(getattr(args, "db", None))
        print(f"uxlab: error: {store.damage_message(db, exc)}", file=sys.stderr)
        return 2
    return int(result or 0)
