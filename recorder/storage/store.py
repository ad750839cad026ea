"""Every SQLite write uxlab makes: schema, migrations, studies, sessions, events.

One file per deployment, WAL mode. Schema changes are numbered migrations
applied in order under ``PRAGMA user_version``, so opening a database made by
an older uxlab brings it up to date. Events keep integer ids; URLs,
selectors and labels are interned in their own tables.
"""

from __future__ import annotations

import base64
import contextlib
import math
import secrets
import sqlite3
import time
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import orjson

from recorder.errors import UxlabError
from recorder.storage.recordings import SOURCE_RECORDING
from recorder.wire import schema
from recorder.wire.pages import Pages, pages_from_json
from recorder.wire.studyfile import Replay, Study, StudyError, Task, Variant, design_of

if TYPE_CHECKING:  # sqlite-utils (0.3 s to import) is needed only to migrate
    import sqlite_utils

# CPython's sqlite3 binds a parameter directly only when it is exactly an int, float, str
# or bytearray; anything else, None included, first goes through its adapter protocol: a
# registry lookup, then ``__adapt__`` and ``__conform__`` looked up and not found. For
# None that search cost more than the rest of an event's row (``executemany`` of the
# collector's rows, 7 NULLs in 16 columns: 4.1 us a row, 2.7 with this). An adapter
# registered for NoneType ends the search at the registry; it returns None, which binds
# NULL exactly as before. Process-wide, like every sqlite3 adapter, and harmless so.
sqlite3.register_adapter(type(None), {}.get)  # type: ignore[arg-type]

PAGES_META = "pages:"  # meta name prefix of a study's [pages] table (JSON)


class StoreError(UxlabError):
    """A user's request the store cannot carry out (one-line message)."""


def _v1(db: sqlite_utils.Database) -> None:
    db.table("meta").create({"name": str, "value": str}, pk="name")
    db.table("studies").create(
        {"id": str, "name": str, "origins": str, "questionnaires": str, "capture_values": int,
         "source": str, "created_at": float, "updated_at": float},
        pk="id", not_null={"name"},
    )  # fmt: skip
    db.table("variants").create(
        {"pk": int, "study_id": str, "id": str, "url": str, "position": int},
        pk="pk",
        foreign_keys=[("study_id", "studies", "id")],
        not_null={"study_id", "id"},
    )
    db.table("variants").create_index(["study_id", "id"], unique=True)
    db.table("tasks").create(
        {"pk": int, "study_id": str, "id": str, "position": int, "prompt": str,
         "success": str, "expected_path": str},
        pk="pk", foreign_keys=[("study_id", "studies", "id")], not_null={"study_id", "id"},
    )  # fmt: skip
    db.table("tasks").create_index(["study_id", "id"], unique=True)
    db.table("participants").create(
        {"pk": int, "study_id": str, "id": str, "created_at": float},
        pk="pk",
        foreign_keys=[("study_id", "studies", "id")],
        not_null={"study_id", "id"},
    )
    db.table("participants").create_index(["study_id", "id"], unique=True)
    db.table("sessions").create(
        {"id": int, "token": str, "study_id": str, "participant_pk": int, "variant_pk": int,
         "status": str, "created_at": float, "closed_at": float},
        pk="id", not_null={"token", "study_id", "participant_pk", "variant_pk", "status"},
        foreign_keys=[("study_id", "studies", "id"), ("participant_pk", "participants", "pk"),
                      ("variant_pk", "variants", "pk")],
    )  # fmt: skip
    db.table("sessions").create_index(["token"], unique=True)
    db.table("sessions").create_index(["study_id"])
    db.table("page_loads").create(
        {"id": int, "session_id": int, "key": str, "source": int, "offset_ms": float,
         "first_seen": float},
        pk="id", not_null={"session_id", "key", "source"},
    )  # fmt: skip
    db.table("page_loads").create_index(["session_id", "key"], unique=True)
    db.table("pages").create({"id": int, "url": str}, pk="id", not_null={"url"})
    db.table("pages").create_index(["url"], unique=True)
    db.table("targets").create({"id": int, "selector": str}, pk="id", not_null={"selector"})
    db.table("targets").create_index(["selector"], unique=True)
    db.table("labels").create({"id": int, "text": str}, pk="id", not_null={"text"})
    db.table("labels").create_index(["text"], unique=True)
    db.table("events").create(
        {"id": int, "session_id": int, "load_id": int, "seq": int, "t": float, "type": int,
         "page_id": int, "target_id": int, "label_id": int, "task_pk": int, "outcome": int,
         "kind": int, "interactive": int, "x": float, "y": float, "value": float, "data": str},
        pk="id", not_null={"session_id", "load_id", "seq", "t", "type"},
    )  # fmt: skip
    # The identity of an event: a resent batch hits this index and is ignored.
    db.table("events").create_index(["session_id", "load_id", "seq"], unique=True)


def _v2(db: sqlite_utils.Database) -> None:
    # Sessions remember when their first and last events arrived (console progress).
    db.table("sessions").add_column("last_event_at", float)


def _v3(db: sqlite_utils.Database) -> None:
    # Sessions are numbered within their study (1, 2, 3 ...), in the order they were opened.
    db.table("sessions").add_column("number", int)
    counts: dict[str, int] = {}
    numbers = []
    for session_id, study_id in db.execute("SELECT id, study_id FROM sessions ORDER BY id"):
        counts[study_id] = counts.get(study_id, 0) + 1
        numbers.append((counts[study_id], session_id))
    # Counted here rather than with a correlated subquery, which is quadratic in a study's sessions.
    db.conn.executemany("UPDATE sessions SET number = ? WHERE id = ?", numbers)
    db.table("sessions").create_index(["study_id", "number"], unique=True)


def _v4(db: sqlite_utils.Database) -> None:
    # Findings: usability problems with their evidence; observers' notes (recorder.findings.store).
    db.table("findings").create(
        {"id": int, "study_id": str, "title": str, "severity": int, "description": str,
         "recommendation": str, "tags": str, "tasks": str, "participants": str, "version": int,
         "created_at": float, "updated_at": float},
        pk="id", foreign_keys=[("study_id", "studies", "id")],
        not_null={"study_id", "title", "severity", "version"},
    )  # fmt: skip
    db.table("findings").create_index(["study_id"])
    db.table("finding_evidence").create(
        {"id": int, "finding_id": int, "session_id": int, "t_s": float, "text": str},
        pk="id", foreign_keys=[("finding_id", "findings", "id"), ("session_id", "sessions", "id")],
        not_null={"finding_id", "session_id", "t_s"},
    )  # fmt: skip
    db.table("finding_evidence").create_index(["finding_id"])
    db.table("observer_notes").create(
        {"id": int, "session_id": int, "t_ms": float, "t_s": float, "author": str, "text": str,
         "created_at": float},
        pk="id", foreign_keys=[("session_id", "sessions", "id")],
        not_null={"session_id", "t_ms", "text"},
    )  # fmt: skip
    db.table("observer_notes").create_index(["session_id"])


def _v5(db: sqlite_utils.Database) -> None:
    # Recordings (session replay): a study's replay settings as JSON ({"mask", "block"}),
    # NULL when it records events only; the rrweb events of each page load in chunks,
    # each stored once by its identity (session, page load, seq), zlib-compressed JSON.
    db.table("studies").add_column("replay", str)
    db.table("recordings").create(
        {"id": int, "session_id": int, "load_id": int, "seq": int, "t": float, "size": int,
         "data": bytes},
        pk="id", not_null={"session_id", "load_id", "seq", "t", "size", "data"},
    )  # fmt: skip
    db.table("recordings").create_index(["session_id", "load_id", "seq"], unique=True)


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [_v1, _v2, _v3, _v4, _v5]
SCHEMA_VERSION = len(MIGRATIONS)


def connect(path: str | Path, readonly: bool = False) -> sqlite3.Connection:
    """Open a connection with uxlab's pragmas (WAL, busy timeout, foreign keys)."""
    path = str(path)
    if readonly:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    else:
        conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA busy_timeout = 10000")
    if not readonly:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def migrate(conn: sqlite3.Connection, upto: int = SCHEMA_VERSION) -> int:
    """Apply the migrations this database lacks; return the version reached."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"database schema v{version} is newer than this uxlab (v{SCHEMA_VERSION}); upgrade uxlab"
        )
    if version >= upto:
        return version
    import sqlite_utils

    db = sqlite_utils.Database(conn)
    for number in range(version + 1, upto + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            MIGRATIONS[number - 1](db)
            conn.execute(f"PRAGMA user_version = {number}")
            conn.execute("COMMIT")
        except BaseException:
            rollback(conn)
            raise
    return max(version, upto)


def _refuse_foreign(path: str | Path) -> None:
    """A SQLite file with tables of its own and no uxlab schema is somebody else's: leave it.

    Checked read-only, before anything (even WAL mode) touches the file.
    """
    if not Path(path).is_file() or Path(path).stat().st_size == 0:
        return
    conn = connect(path, readonly=True)
    try:
        if conn.execute("PRAGMA user_version").fetchone()[0]:
            return
        tables = conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[
            0
        ]
    finally:
        conn.close()
    if tables:
        raise StoreError(
            f"{path} is not a uxlab database (it holds {tables} tables of its own); give another --db"
        )


def open_db(path: str | Path) -> sqlite3.Connection:
    """Open (creating or migrating) the database at ``path`` for writing."""
    parent = Path(path).parent
    if not parent.is_dir():
        raise StoreError(f"no such folder for the database: {parent}")
    try:
        _refuse_foreign(path)
        conn = connect(path)
        migrate(conn)
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"cannot open {path} as a uxlab database: {exc}") from None
    return conn


def rollback(conn: sqlite3.Connection) -> None:
    """Undo the open transaction after an error, if SQLite has not already done so.

    A full disk makes SQLite roll back by itself; a ROLLBACK then fails with
    "cannot rollback - no transaction is active" and hides the real error.
    """
    if conn.in_transaction:
        with contextlib.suppress(sqlite3.Error):  # the error being raised says more
            conn.execute("ROLLBACK")


# -- a damaged file --------------------------------------------------------------------------

SQLITE_IOERR, SQLITE_CORRUPT, SQLITE_FULL, SQLITE_NOTADB = 10, 11, 13, 26
# uxlab serve checks a database up to this size before listening (PRAGMA quick_check reads
# every page: measured 1.5-2 s for 168 MB, 2 million events); a bigger one is checked
# in the background once the server listens.
CHECK_AT_START_BYTES = 128 * 1024 * 1024


def damaged(exc: BaseException) -> bool:
    """True when ``exc`` says the database file is damaged (not a bug in a query)."""
    code = getattr(exc, "sqlite_errorcode", None)
    return (
        isinstance(exc, sqlite3.DatabaseError)
        and code is not None
        and code & 0xFF in (SQLITE_CORRUPT, SQLITE_NOTADB)
    )


def out_of_space(exc: BaseException) -> bool:
    """True when ``exc`` is a full disk or a failing one: try again later, nothing was written."""
    code = getattr(exc, "sqlite_errorcode", None)
    return (
        isinstance(exc, sqlite3.DatabaseError)
        and code is not None
        and code & 0xFF in (SQLITE_FULL, SQLITE_IOERR)
    )


def check(conn: sqlite3.Connection, thorough: bool = False) -> list[str]:
    """What ``PRAGMA quick_check`` (``integrity_check`` when thorough) finds; [] when sound."""
    pragma = "integrity_check" if thorough else "quick_check"
    try:
        rows = [row[0] for row in conn.execute(f"PRAGMA {pragma}(20)")]
    except sqlite3.DatabaseError as exc:
        if damaged(exc):
            return [str(exc)]
        raise
    if rows == ["ok"]:
        return []
    return [line for row in rows for line in row.splitlines() if not line.startswith("***")]


def damage_message(path: str | Path, problem: object) -> str:
    """One line: what is damaged, and what to do."""
    return (
        f"{path} is damaged ({problem}); check it with uxlab check --db {path} and restore"
        " a backup (README: Durability and backups)"
    )


# -- studies ---------------------------------------------------------------------------------


def save_study(conn: sqlite3.Connection, study: Study, source: str = "") -> bool:
    """Create or update a study; return True when it was new.

    Variants and tasks are matched by id. One that the new file drops is
    removed when nothing refers to it, and refused otherwise.
    """
    now = time.time()
    row = conn.execute("SELECT created_at FROM studies WHERE id = ?", (study.id,)).fetchone()
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(
            "INSERT INTO studies (id, name, origins, questionnaires, capture_values, source, created_at, updated_at, replay)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET name=excluded.name,"
            " origins=excluded.origins, questionnaires=excluded.questionnaires,"
            " capture_values=excluded.capture_values, source=excluded.source, updated_at=excluded.updated_at,"
            " replay=excluded.replay",
            (study.id, study.name, _json(study.origins), _json(study.questionnaires),
             int(study.capture_values), source, now, now, _replay_json(study.replay)),
        )  # fmt: skip
        for position, variant in enumerate(study.variants):
            conn.execute(
                "INSERT INTO variants (study_id, id, url, position) VALUES (?, ?, ?, ?)"
                " ON CONFLICT(study_id, id) DO UPDATE SET url=excluded.url, position=excluded.position",
                (study.id, variant.id, variant.url, position),
            )
        for position, task in enumerate(study.tasks):
            conn.execute(
                "INSERT INTO tasks (study_id, id, position, prompt, success, expected_path)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(study_id, id) DO UPDATE SET"
                " position=excluded.position, prompt=excluded.prompt, success=excluded.success,"
                " expected_path=excluded.expected_path",
                (
                    study.id,
                    task.id,
                    position,
                    task.prompt,
                    _json(task.success),
                    _json(task.expected_path),
                ),
            )
        # [pages] lives in `meta` (no column of its own: that needs a migration number).
        conn.execute(
            "INSERT INTO meta (name, value) VALUES (?, ?)"
            " ON CONFLICT(name) DO UPDATE SET value=excluded.value",
            (PAGES_META + study.id, _json(study.pages.as_json())),
        )
        _drop_unused(conn, "variants", study.id, [v.id for v in study.variants],
                     "SELECT 1 FROM sessions WHERE variant_pk = ? LIMIT 1")  # fmt: skip
        _drop_unused(conn, "tasks", study.id, [t.id for t in study.tasks],
                     "SELECT 1 FROM events WHERE task_pk = ? LIMIT 1")  # fmt: skip
        conn.execute("COMMIT")
    except BaseException:
        rollback(conn)
        raise
    return row is None


def _drop_unused(
    conn: sqlite3.Connection, table: str, study_id: str, keep: list[str], used_sql: str
) -> None:
    marks = ",".join("?" * len(keep))
    gone = conn.execute(
        f"SELECT pk, id FROM {table} WHERE study_id = ? AND id NOT IN ({marks})", (study_id, *keep)
    ).fetchall()
    for pk, ident in gone:
        if conn.execute(used_sql, (pk,)).fetchone():
            kind = table[:-1]
            raise StoreError(f"{kind} {ident!r} has recorded data; keep it in the study file")
        conn.execute(f"DELETE FROM {table} WHERE pk = ?", (pk,))


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def _replay_json(replay: Replay | None) -> str | None:
    return None if replay is None else _json({"mask": replay.mask, "block": replay.block})


def _replay(text: str | None) -> Replay | None:
    if text is None:
        return None
    doc = orjson.loads(text)
    return Replay(mask=tuple(doc["mask"]), block=tuple(doc["block"]))


def list_studies(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Studies with their counts of variants, tasks and sessions."""
    sql = """
        SELECT s.id, s.name,
          (SELECT count(*) FROM variants v WHERE v.study_id = s.id) AS variants,
          (SELECT count(*) FROM tasks t WHERE t.study_id = s.id) AS tasks,
          (SELECT count(*) FROM sessions x WHERE x.study_id = s.id) AS sessions,
          s.updated_at
        FROM studies s ORDER BY s.created_at"""
    return [dict(zip(("id", "name", "variants", "tasks", "sessions", "updated_at"), r, strict=True))
            for r in conn.execute(sql)]  # fmt: skip


def load_study(conn: sqlite3.Connection, study_id: str) -> Study:
    """Read a study back from the database, or raise :class:`StoreError`."""
    row = conn.execute(
        "SELECT id, name, origins, questionnaires, capture_values, source, replay FROM studies"
        " WHERE id = ?",
        (study_id,),
    ).fetchone()
    if row is None:
        known = (
            ", ".join(r[0] for r in conn.execute("SELECT id FROM studies ORDER BY id"))
            or "none yet"
        )
        raise StoreError(f"no study {study_id!r} (studies: {known})")
    variants = [Variant(id=i, url=u) for i, u in conn.execute(
        "SELECT id, url FROM variants WHERE study_id = ? ORDER BY position", (study_id,))]  # fmt: skip
    tasks = [
        Task(id=i, prompt=p, success=orjson.loads(s), expected_path=orjson.loads(e))
        for i, p, s, e in conn.execute(
            "SELECT id, prompt, success, expected_path FROM tasks WHERE study_id = ? ORDER BY position",
            (study_id,),
        )
    ]
    pages = meta_get(conn, PAGES_META + study_id)
    return Study(
        id=row[0], name=row[1], origins=orjson.loads(row[2]), variants=variants, tasks=tasks,
        questionnaires=orjson.loads(row[3]), capture_values=bool(row[4]), design=_design(row[5]),
        replay=_replay(row[6]),
        pages=pages_from_json(orjson.loads(pages)) if pages else Pages(),
    )  # fmt: skip


def _design(source: str | None) -> str:
    """The design of a stored study, re-read from its stored study file (no column of its own).

    The file was checked when it was saved; a study saved without its text
    (older databases, tests) is between-subjects, the study file's default.
    """
    if not source or "design" not in source:  # no key, no parse (a TOML parse is ~0.3 ms)
        return "between"
    try:
        return design_of(tomllib.loads(source))
    except (
        tomllib.TOMLDecodeError,
        StudyError,
    ):  # only ever saved checked, but never guess "within"
        return "between"


# -- sessions --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """What the collector needs to know about a session token."""

    id: int  # the database's id, for uxlab's own use
    token: str
    study_id: str
    number: int  # counts within the study: what people see (``session 3``)
    participant: str
    variant: str
    variant_url: str
    status: str
    origins: tuple[str, ...]
    tasks: frozenset[str]
    capture_values: bool
    replay: Replay | None = None


def new_token(nbytes: int) -> str:
    """A URL-safe random token that does not begin with ``-``.

    A command line reads an argument that begins with ``-`` as an option, so such a token
    could not be given to ``uxlab session close``; one draw in 64 did. Drawing again costs
    under a bit of the token's randomness.
    """
    while (token := secrets.token_urlsafe(nbytes)).startswith("-"):
        pass
    return token


def new_session(
    conn: sqlite3.Connection, study_id: str, participant: str, variant: str
) -> SessionInfo:
    """Open a session for a participant on a variant (creating the participant)."""
    study = load_study(conn, study_id)
    if variant not in {v.id for v in study.variants}:
        raise StoreError(f"study {study_id!r} has no variant {variant!r} (variants: "
                         f"{', '.join(v.id for v in study.variants)})")  # fmt: skip
    if not participant or len(participant) > schema.MAX_ID_LEN or not participant.isprintable():
        raise StoreError("participant: give a short pseudonymous id such as P07")
    token = new_token(18)
    now = time.time()
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(
            "INSERT INTO participants (study_id, id, created_at) VALUES (?, ?, ?)"
            " ON CONFLICT(study_id, id) DO NOTHING",
            (study_id, participant, now),
        )
        # The next number of the study, in the same write transaction: no two alike.
        conn.execute(
            "INSERT INTO sessions (token, study_id, number, participant_pk, variant_pk, status,"
            " created_at) SELECT ?, ?, (SELECT ifnull(max(number), 0) + 1 FROM sessions"
            " WHERE study_id = ?), p.pk, v.pk, 'open', ? FROM participants p, variants v"
            " WHERE p.study_id = ? AND p.id = ? AND v.study_id = ? AND v.id = ?",
            (token, study_id, study_id, now, study_id, participant, study_id, variant),
        )
        conn.execute("COMMIT")
    except BaseException:
        rollback(conn)
        raise
    info = find_session(conn, token)
    assert info is not None
    return info


SESSION_SQL = """
    SELECT x.id, x.token, x.study_id, p.id, v.id, v.url, x.status, s.origins, s.capture_values,
           (SELECT group_concat(t.id, char(31)) FROM tasks t WHERE t.study_id = x.study_id),
           x.number, s.replay
    FROM sessions x JOIN participants p ON p.pk = x.participant_pk
    JOIN variants v ON v.pk = x.variant_pk JOIN studies s ON s.id = x.study_id
"""


def _session(row: tuple[Any, ...]) -> SessionInfo:
    tasks = frozenset(row[9].split("\x1f")) if row[9] else frozenset()
    return SessionInfo(
        id=row[0], token=row[1], study_id=row[2], number=row[10], participant=row[3], variant=row[4],
        variant_url=row[5], status=row[6], origins=tuple(orjson.loads(row[7])), tasks=tasks,
        capture_values=bool(row[8]), replay=_replay(row[11]),
    )  # fmt: skip


def find_session(conn: sqlite3.Connection, token: str) -> SessionInfo | None:
    """The session that ``token`` opens, or None."""
    row = conn.execute(SESSION_SQL + " WHERE x.token = ?", (token,)).fetchone()
    return _session(row) if row else None


def session_by_number(conn: sqlite3.Connection, study_id: str, number: int) -> SessionInfo:
    """Session ``number`` of a study, or :class:`StoreError` ("no session ...")."""
    row = conn.execute(
        SESSION_SQL + " WHERE x.study_id = ? AND x.number = ?", (study_id, number)
    ).fetchone()
    if row is None:
        raise StoreError(f"no session {number} in study {study_id!r}")
    return _session(row)


def study_sessions(conn: sqlite3.Connection, study_id: str) -> list[SessionInfo]:
    """All sessions of a study, oldest first."""
    rows = conn.execute(SESSION_SQL + " WHERE x.study_id = ? ORDER BY x.id", (study_id,))
    return [_session(r) for r in rows]


def close_session(conn: sqlite3.Connection, token: str) -> SessionInfo:
    """Close a session: its token then writes nothing more."""
    cur = conn.execute(
        "UPDATE sessions SET status = 'closed', closed_at = ? WHERE token = ? AND status = 'open'",
        (time.time(), token),
    )
    info = find_session(conn, token)
    if info is None:
        raise StoreError("no session with that token")
    if cur.rowcount == 0 and info.status != "closed":
        raise StoreError("session could not be closed")
    return info


# -- settings kept in the database -----------------------------------------------------------


def meta_get(conn: sqlite3.Connection, name: str) -> str | None:
    """A value kept in the ``meta`` table, or None."""
    row = conn.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
    return row[0] if row else None


def meta_set(conn: sqlite3.Connection, name: str, value: str) -> None:
    """Keep a value in the ``meta`` table."""
    conn.execute(
        "INSERT INTO meta (name, value) VALUES (?, ?)"
        " ON CONFLICT(name) DO UPDATE SET value = excluded.value",
        (name, value),
    )


SERVED_URL = "served_url"  # meta: the address the last ``uxlab serve`` on this database printed


def admin_token(conn: sqlite3.Connection, given: str | None) -> str:
    """The moderator token: ``given`` (from the environment) or the stored one, made once."""
    if given:
        return given
    token = meta_get(conn, "admin_token")
    if token is None:
        token = new_token(24)
        conn.execute("INSERT OR IGNORE INTO meta (name, value) VALUES ('admin_token', ?)", (token,))
        token = meta_get(conn, "admin_token")
    assert token is not None
    return token


# -- events ----------------------------------------------------------------------------------

INSERT_EVENT = (
    "INSERT OR IGNORE INTO events (session_id, load_id, seq, t, type, page_id, target_id,"
    " label_id, task_pk, outcome, kind, interactive, x, y, value, data)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
# Rows per INSERT statement: one statement of many rows costs SQLite one step and Python's
# sqlite3 one call (2.2 us a row for 50 rows against executemany's 2.9). 62 rows of 16
# parameters stay under 999, the oldest SQLite's limit on parameters of one statement.
ROWS_PER_INSERT = 62
_INSERT_MANY: dict[int, str] = {}
# How the writer's hot loop writes NULL without binding None (which, even with the adapter
# above, costs a registry lookup per NULL): a NaN binds as NULL (SQLite stores no NaN, its
# sqlite3_bind_double turns one into NULL), and for ``data``, the one text column, "" is
# turned into NULL by the statement (no event's data is the empty string: it is JSON or NULL).
NULL_NUMBER = math.nan
NULL_DATA = ""


def insert_events(conn: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> int:
    """Insert event rows (the columns of :data:`INSERT_EVENT`; NULL as None, or as
    :data:`NULL_NUMBER` and :data:`NULL_DATA`); return how many were new."""
    accepted = 0
    for start in range(0, len(rows), ROWS_PER_INSERT):
        chunk = rows[start : start + ROWS_PER_INSERT]
        sql = _INSERT_MANY.get(len(chunk))
        if sql is None:
            head, marks = INSERT_EVENT.split(" VALUES ")
            marks = marks.replace(", ?)", ", NULLIF(?, ''))")
            sql = _INSERT_MANY[len(chunk)] = f"{head} VALUES {', '.join([marks] * len(chunk))}"
        accepted += conn.execute(sql, list(chain.from_iterable(chunk))).rowcount
    return accepted


class Interner:
    """String -> id for one interned table, cached for the writer's lifetime."""

    def __init__(self, conn: sqlite3.Connection, table: str, column: str) -> None:
        self.conn, self.table, self.column = conn, table, column
        self.ids: dict[str, int] = {}

    def __call__(self, text: str | None) -> int | None:
        if text is None:
            return None
        found = self.ids.get(text)
        if found is not None:
            return found
        row = self.conn.execute(
            f"SELECT id FROM {self.table} WHERE {self.column} = ?", (text,)
        ).fetchone()
        if row is None:
            ident = self.conn.execute(
                f"INSERT INTO {self.table} ({self.column}) VALUES (?)", (text,)
            ).lastrowid
        else:
            ident = row[0]
        assert ident is not None
        self.ids[text] = ident
        return ident

    def forget(self) -> None:
        """After a failed transaction: read every id from the table again.

        Only the ids handed out in the transaction are wrong, but whether
        SQLite undid one statement or the whole transaction depends on where
        it failed; starting afresh is right in every case and costs one
        lookup per string after a rare event.
        """
        self.ids.clear()


class SessionRef(Protocol):
    """What the event writer needs of a session: its row id and its study."""

    @property
    def id(self) -> int: ...

    @property
    def study_id(self) -> str: ...


class EventStore:
    """Writes validated batches; used by one writer thread only."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.pages = Interner(conn, "pages", "url")
        self.targets = Interner(conn, "targets", "selector")
        self.labels = Interner(conn, "labels", "text")
        # (session, key) -> [id, offset, source]
        self.loads: dict[tuple[int, str], list[float]] = {}
        self.tasks: dict[tuple[str, str], int] = {}

    def write(
        self, batches: Iterable[tuple[SessionRef, int, schema.Batch, float]]
    ) -> list[tuple[int, int] | StoreError]:
        """Store batches in one transaction; return ``(accepted, duplicates)`` for each.

        Each item is ``(session, source, batch, received)``, ``received`` being the
        server's epoch milliseconds when the batch arrived. A batch the store must
        refuse (a task removed from the study meanwhile) is refused alone: its
        place in the result holds the :class:`StoreError` and the other batches
        of the group are stored. Any other error rolls back the whole group and
        is raised.
        """
        conn = self.conn
        results: list[tuple[int, int] | StoreError] = []
        if conn.in_transaction:  # left open by a ROLLBACK that failed after an error
            conn.execute("ROLLBACK")
        conn.execute("BEGIN IMMEDIATE")
        try:
            for session, source, batch, received in batches:
                try:
                    # Checked before anything of the batch is written, so a refused batch
                    # leaves nothing behind to roll back.
                    self._check(session, source, batch)
                except StoreError as exc:
                    results.append(exc)
                    continue
                if source == SOURCE_RECORDING:
                    results.append(self._write_recording(session, batch, received))
                else:
                    results.append(self._write_batch(session, source, batch, received))
            conn.execute("COMMIT")
        except BaseException:
            self.forget()
            rollback(conn)  # should it fail, the next write finds the transaction open
            raise
        return results

    def forget(self) -> None:
        """After a failed transaction: drop every cached id (some name rows that were undone)."""
        for interner in (self.pages, self.targets, self.labels):
            interner.forget()
        self.loads.clear()
        self.tasks.clear()

    def _check(self, session: SessionRef, source: int, batch: schema.Batch) -> None:
        """:class:`StoreError` for a batch the store refuses: a page-load key another sender
        already uses in this session (the snippet's loads, with their recordings, and the
        console's are kept apart), or a task the study no longer has."""
        sender = schema.SOURCE_SNIPPET if source == SOURCE_RECORDING else source
        owner = self._load_owner(session.id, batch.load)
        if owner is not None and owner != sender:
            raise StoreError(f"page: {batch.load[:64]!r} is a page load of another sender in this"
                             " session; each page load needs a key of its own")  # fmt: skip
        if source == schema.SOURCE_MODERATOR:  # only the console's events name tasks
            named = (row[schema.ROW_TASK] for row in batch.rows)
            for task in {task for task in named if task is not None}:
                self._task(session.study_id, task)

    def _load_owner(self, session_id: int, key: str) -> int | None:
        """The sender (source) of a session's page load, None for a new key."""
        cached = self.loads.get((session_id, key))
        if cached is not None:
            return int(cached[2])
        row = self.conn.execute(
            "SELECT id, offset_ms, source FROM page_loads WHERE session_id = ? AND key = ?",
            (session_id, key),
        ).fetchone()
        if row is None:
            return None
        self.loads[(session_id, key)] = [float(row[0]), row[1], float(row[2])]
        return int(row[2])

    def _write_batch(self, session: SessionRef, source: int, batch: schema.Batch,
                     received: float) -> tuple[int, int]:  # fmt: skip
        load_id = self._load(session.id, batch.load, source, received - batch.sent, received)
        rows = self._rows(session, load_id, batch.rows)
        accepted = insert_events(self.conn, rows)
        if accepted:
            self.conn.execute(
                "UPDATE sessions SET last_event_at = ? WHERE id = ?",
                (received / 1000.0, session.id),
            )
        return accepted, len(rows) - accepted

    def _write_recording(self, session: SessionRef, batch: schema.Batch,
                         received: float) -> tuple[int, int]:  # fmt: skip
        """Recording chunks (rows of :func:`recorder.storage.recordings.parse_recording`), each
        identity once; they share the page load (and its clock offset) with its events."""
        offset = received - batch.sent
        load_id = self._load(session.id, batch.load, schema.SOURCE_SNIPPET, offset, received)
        rows = []
        for seq, t, data in batch.rows:
            blob = base64.b64decode(data)
            rows.append((session.id, load_id, seq, t, len(blob), blob))
        accepted = self.conn.executemany(INSERT_CHUNK, rows).rowcount
        return accepted, len(rows) - accepted

    def _load(self, session_id: int, key: str, source: int, offset: float, received: float) -> int:
        """The page load's id; its clock offset is the smallest (received - sent) seen.

        :meth:`write` checks every batch first (:meth:`_check`), which puts a stored page load
        in ``loads``: a key missing there is new.
        """
        cached = self.loads.get((session_id, key))
        if cached is None:
            load_id = self.conn.execute(
                "INSERT INTO page_loads (session_id, key, source, offset_ms, first_seen) VALUES (?, ?, ?, ?, ?)",
                (session_id, key, source, offset, received / 1000.0),
            ).lastrowid
            assert load_id is not None
            cached = [float(load_id), offset, float(source)]
            self.loads[(session_id, key)] = cached
        if offset < cached[1]:
            self.conn.execute(
                "UPDATE page_loads SET offset_ms = ? WHERE id = ?", (offset, int(cached[0]))
            )
            cached[1] = offset
        return int(cached[0])

    def _task(self, study_id: str, task: str) -> int:
        pk = self.tasks.get((study_id, task))
        if pk is None:
            row = self.conn.execute(
                "SELECT pk FROM tasks WHERE study_id = ? AND id = ?", (study_id, task)
            ).fetchone()
            if row is None:
                raise StoreError(f"no task {task!r}")
            pk = self.tasks[(study_id, task)] = row[0]
        return pk

    def _rows(
        self, session: SessionRef, load_id: int, rows: list[schema.Row]
    ) -> list[tuple[Any, ...]]:
        """Rows with interned ids, NULL written as :data:`NULL_NUMBER` and :data:`NULL_DATA`;
        the writer's hot loop, hence the inlined lookups."""
        page, target, label, sid = self.pages, self.targets, self.labels, session.id
        pages, targets, labels = page.ids.get, target.ids.get, label.ids.get
        null = NULL_NUMBER
        out: list[tuple[Any, ...]] = []
        append = out.append
        for row in rows:
            seq, t, code, url, sel, text, task, outcome, kind, interactive, x, y, value, data = row
            append((
                sid, load_id, seq, t, code,
                null if url is None else (pages(url) or page(url)),
                null if sel is None else (targets(sel) or target(sel)),
                null if text is None else (labels(text) or label(text)),
                null if task is None else self._task(session.study_id, task),
                null if outcome is None else outcome,
                null if kind is None else kind,
                null if interactive is None else interactive,
                null if x is None else x,
                null if y is None else y,
                null if value is None else value,
                NULL_DATA if data is None else data,
            ))  # fmt: skip
        return out


INSERT_CHUNK = (
    "INSERT INTO recordings (session_id, load_id, seq, t, size, data) VALUES (?, ?, ?, ?, ?, ?)"
    " ON CONFLICT(session_id, load_id, seq) DO NOTHING"
)


def delete_recording(conn: sqlite3.Connection, session_id: int) -> int:
    """Delete one session's recording (its events stay); return the chunks deleted.

    The freed pages are overwritten with zeros (``secure_delete``) and the WAL
    is checkpointed, so the deleted recording is in no byte of the files.
    """
    conn.execute("PRAGMA secure_delete = ON")
    conn.execute("BEGIN IMMEDIATE")
    try:
        deleted = conn.execute(
            "DELETE FROM recordings WHERE session_id = ?", (session_id,)
        ).rowcount
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return deleted
