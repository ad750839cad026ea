"""``uxlab backup``: a consistent copy of a database, taken while the server writes.

SQLite's online backup API copies the pages of one read snapshot. It is
called with ``pages=-1`` (all pages in one step): copied in several steps,
a backup restarts from the first page each time another connection writes,
and under steady load it might never finish. In WAL mode the one read
transaction does not block the writer; it only holds back checkpoints while
it lasts. The copy is written next to the target and renamed into place once
it is complete and checked, so a failed backup never leaves a half file where
a good one is expected, and it is switched to a rollback journal: one
self-contained file to keep, move or restore.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from recorder.storage import store


@dataclass(frozen=True, slots=True)
class BackupResult:
    """What a backup copied."""

    path: Path
    size: int
    events: int


def backup(db_path: str | Path, target: str | Path, force: bool = False) -> BackupResult:
    """Copy the database at ``db_path`` to ``target`` (refusing to overwrite without ``force``)."""
    source, target = Path(db_path), Path(target)
    if not source.is_file():
        raise store.StoreError(f"no database at {source} (give --db, or set UXLAB_DB)")
    if target.exists() and not force:
        raise store.StoreError(f"{target} exists; give --force to overwrite it")
    if target.exists() and target.resolve() == source.resolve():
        raise store.StoreError(f"{target} is the database itself; give another -o")
    if not target.parent.is_dir():
        raise store.StoreError(f"no such folder for the backup: {target.parent}")
    partial = target.with_name(f".{target.name}.partial")
    try:
        events = _copy(source, partial)
        os.replace(partial, target)
    except sqlite3.DatabaseError as exc:
        raise store.StoreError(f"cannot back up {source}: {exc}") from None
    finally:
        partial.unlink(missing_ok=True)
    return BackupResult(target, target.stat().st_size, events)


def _copy(source: Path, partial: Path) -> int:
    """Copy one snapshot of ``source`` to ``partial``, check it; return its number of events."""
    partial.unlink(missing_ok=True)
    # Plain, not read-only: a WAL database needs its -shm file, made by the first reader.
    src = sqlite3.connect(source, isolation_level=None)
    try:
        src.execute("PRAGMA busy_timeout = 10000")
        if src.execute("PRAGMA user_version").fetchone()[0] < 1:
            raise store.StoreError(f"{source} is not a uxlab database (no schema)")
        dst = sqlite3.connect(partial, isolation_level=None)
        try:
            src.backup(dst, pages=-1)
            dst.execute("PRAGMA journal_mode = DELETE")
            problems = [row[0] for row in dst.execute("PRAGMA quick_check")]
            if problems != ["ok"]:
                raise store.StoreError(f"the copy of {source} is damaged: {problems[0]}")
            return int(dst.execute("SELECT count(*) FROM events").fetchone()[0])
        finally:
            dst.close()
    finally:
        src.close()
