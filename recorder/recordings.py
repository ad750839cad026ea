"""Command-line commands for recordings: ``uxlab session delete-recording`` and ``uxlab clip``."""

from __future__ import annotations

import argparse
import sqlite3
from collections.abc import Callable

from recorder.settings import db_path
from recorder.storage import recordings as recording
from recorder.storage import store


class RecordingError(store.StoreError):
    """A recording command the data cannot satisfy (one-line message)."""


def session_of(conn: sqlite3.Connection, study: str, number: int) -> store.SessionInfo:
    """The session a user names as ``STUDY N`` (N: its number within the study)."""
    store.load_study(conn, study)  # "no study ..." with the known ones
    return store.session_by_number(conn, study, number)


def _open(args: argparse.Namespace) -> sqlite3.Connection:
    return store.open_db(db_path(args.db))


def cmd_delete_recording(args: argparse.Namespace) -> int:
    """Delete one session's recording; its events stay."""
    conn = _open(args)
    info = session_of(conn, args.study, args.session)
    size = recording.recording_bytes(conn, info.id)
    deleted = store.delete_recording(conn, info.id)
    if not deleted:
        print(f"session {info.id} ({info.participant}) has no recording; nothing deleted")
        return 0
    print(f"deleted the recording of session {info.id} ({info.participant}): {deleted} chunks, "
          f"{size / 1024:.0f} KB; its events are kept")  # fmt: skip
    return 0


def parse_clock(text: str) -> float:
    """Seconds from ``SS``, ``M:SS`` or ``H:MM:SS`` (fractions allowed)."""
    parts = text.strip().split(":")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise RecordingError(f"{text!r}: give a time as M:SS, e.g. 1:20") from None
    if not 1 <= len(values) <= 3 or any(v < 0 for v in values):
        raise RecordingError(f"{text!r}: give a time as M:SS, e.g. 1:20")
    seconds = 0.0
    for value in values:
        seconds = seconds * 60 + value
    return seconds


def add_session_commands(
    session: argparse._SubParsersAction,
    db_arg: Callable[[argparse.ArgumentParser], None],
) -> None:
    """``uxlab session delete-recording STUDY N``."""
    p = session.add_parser(
        "delete-recording",
        help="delete one session's recording (page replay), keeping its events",
        epilog="example: uxlab session delete-recording demo-shop 3",
    )
    p.add_argument("study", help="the study's id")
    p.add_argument("session", type=int, help="the session's number within the study")
    db_arg(p)
    p.set_defaults(func=cmd_delete_recording)
