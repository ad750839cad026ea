"""Findings and observers' notes in SQLite: checks, reads and writes (migration 4 of store.py).

A **finding** is a usability problem the team reports (README,
"Findings"): title, severity 0-4 (Nielsen), optional description and
recommendation, tasks, tags, participants named by hand, and its evidence:
moments ``{session, t_s, text?}`` in sessions. Every finding carries a
``version`` that each change increments; a change that names an older version
is refused (:class:`Conflict`), so two people editing one finding never
silently overwrite each other.

Writes run like the console's other moderator writes (``save_study``,
``close_session``): on a thread of their own with their own connection
(``recorder.web.in_thread``), one ``BEGIN IMMEDIATE`` transaction each.
Every check runs before anything is written, so bad input stores nothing.

Evidence names a session by its number within its study (``sessions.number``);
rows keep the database id, and :func:`session_by_number` and
:func:`session_numbers` translate.
"""

from __future__ import annotations

import math
import sqlite3
import time
from dataclasses import dataclass
from typing import Any

import orjson

from recorder.storage.store import StoreError

TITLE_MAX = 200
TEXT_MAX = 10_000
TAG_MAX = 60
LIST_MAX = 500
SEVERITY_LABELS = ("not a problem", "cosmetic", "minor", "major", "catastrophe")
# An open session's evidence may lie this far beyond its last event (the moderator is quick).
OPEN_SLACK_S = 5.0
FIELDS = ("title", "severity", "description", "recommendation", "tasks", "tags", "evidence",
          "participants")  # fmt: skip


class FindingError(StoreError):
    """Bad input for a finding; the message starts with the field it names."""


class Conflict(StoreError):
    """The finding changed since the version the request read."""


class Closed(StoreError):
    """A note for a session that is closed."""


@dataclass(frozen=True, slots=True)
class SessionRow:
    """A session as evidence sees it."""

    id: int
    number: int
    participant: str
    variant: str
    status: str


# -- session numbers (the one place to switch to per-study numbers) --------------------------


def session_by_number(conn: sqlite3.Connection, study_id: str, number: int) -> SessionRow | None:
    """Session ``number`` of ``study_id`` (its number within the study), or None."""
    row = conn.execute(
        "SELECT x.id, x.number, p.id, v.id, x.status FROM sessions x"
        " JOIN participants p ON p.pk = x.participant_pk JOIN variants v ON v.pk = x.variant_pk"
        " WHERE x.study_id = ? AND x.number = ?",
        (study_id, number),
    ).fetchone()
    return SessionRow(*row) if row else None


def session_numbers(conn: sqlite3.Connection, study_id: str) -> dict[int, int]:
    """Database id -> number within the study, for every session of ``study_id``."""
    return dict(conn.execute("SELECT id, number FROM sessions WHERE study_id = ?", (study_id,)))


def session_span_s(conn: sqlite3.Connection, session_id: int) -> float:
    """Seconds from a session's first event to its last (corrected clocks); an open
    session may run on, so it is given until now (plus a little slack)."""
    first, last, status = conn.execute(
        "SELECT min(e.t + pl.offset_ms), max(e.t + pl.offset_ms), x.status"
        " FROM sessions x LEFT JOIN events e ON e.session_id = x.id"
        " LEFT JOIN page_loads pl ON pl.id = e.load_id WHERE x.id = ?",
        (session_id,),
    ).fetchone()
    if first is None:
        return OPEN_SLACK_S if status == "open" else 0.0
    if status == "open":
        return max(last, time.time() * 1000.0) / 1000.0 - first / 1000.0 + OPEN_SLACK_S
    # Observers' notes are moments of the session too (taken while it ran).
    noted = conn.execute(
        "SELECT max(t_ms) FROM observer_notes WHERE session_id = ?", (session_id,)
    ).fetchone()[0]
    return float(max(last, noted or last) - first) / 1000.0


def session_first_ms(conn: sqlite3.Connection, session_id: int) -> float | None:
    """The corrected time (epoch ms) of a session's first event, or None."""
    row = conn.execute(
        "SELECT min(e.t + pl.offset_ms) FROM events e JOIN page_loads pl ON pl.id = e.load_id"
        " WHERE e.session_id = ?",
        (session_id,),
    ).fetchone()
    return None if row[0] is None else float(row[0])


# -- checking a request's body ---------------------------------------------------------------


def _text(body: dict[str, Any], field: str, limit: int, required: bool = False) -> str | None:
    value = body.get(field)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise FindingError(f"{field}: must be text")
    value = value.strip()
    if required and not value:
        raise FindingError(f"{field}: must not be empty")
    if len(value) > limit:
        raise FindingError(f"{field}: longer than {limit} characters")
    return value


def _severity(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 4:
        raise FindingError(
            "severity: must be a whole number 0-4 (0 not a problem, 1 cosmetic, 2 minor, "
            "3 major, 4 catastrophe)"
        )
    return value


def _strings(body: dict[str, Any], field: str, limit: int = TAG_MAX) -> list[str] | None:
    value = body.get(field)
    if value is None:
        return None
    if not isinstance(value, list) or len(value) > LIST_MAX:
        raise FindingError(f"{field}: must be a list (at most {LIST_MAX})")
    out: list[str] = []
    for item in value:
        if not isinstance(item, str) or not item.strip() or len(item.strip()) > limit:
            raise FindingError(
                f"{field}: each must be non-empty text of at most {limit} characters"
            )
        if item.strip() not in out:
            out.append(item.strip())
    return out


def _known(conn: sqlite3.Connection, study_id: str, table: str, field: str,
           values: list[str]) -> None:  # fmt: skip
    known = {r[0] for r in conn.execute(f"SELECT id FROM {table} WHERE study_id = ?", (study_id,))}
    for value in values:
        if value not in known:
            raise FindingError(f"{field}: no {table[:-1]} {value!r} in study {study_id!r}")


def _evidence(conn: sqlite3.Connection, study_id: str, value: Any,
              field: str = "evidence") -> list[tuple[int, float, str | None]]:  # fmt: skip
    if not isinstance(value, list) or len(value) > LIST_MAX:
        raise FindingError(
            f"{field}: must be a list of {{session, t_s, text?}} (at most {LIST_MAX})"
        )
    out: list[tuple[int, float, str | None]] = []
    spans: dict[int, float] = {}
    for i, item in enumerate(value):
        where = f"{field}[{i}]"
        if not isinstance(item, dict):
            raise FindingError(f"{where}: must be an object {{session, t_s, text?}}")
        unknown = set(item) - {"session", "t_s", "text"}
        if unknown:
            raise FindingError(f"{where}.{sorted(unknown)[0]}: unknown field")
        number, t_s = item.get("session"), item.get("t_s")
        if isinstance(number, bool) or not isinstance(number, int) or not 0 < number < 2**63:
            raise FindingError(f"{where}.session: must be a session number")
        session = session_by_number(conn, study_id, number)
        if session is None:
            raise FindingError(f"{where}.session: no session {number} in study {study_id!r}")
        if isinstance(t_s, bool) or not isinstance(t_s, int | float) or not math.isfinite(t_s):
            raise FindingError(f"{where}.t_s: must be seconds from the session's first event")
        if session.id not in spans:
            spans[session.id] = session_span_s(conn, session.id)
        if not 0 <= t_s <= spans[session.id] + 0.01:  # the analyzer's times are rounded to ms
            raise FindingError(f"{where}.t_s: {t_s} lies outside session {number} "
                               f"(0 to {spans[session.id]:.1f} s)")  # fmt: skip
        text = _text(item, "text", TEXT_MAX)
        out.append((session.id, round(float(t_s), 3), text or None))
    return out


def check_body(conn: sqlite3.Connection, study_id: str, body: Any,
               partial: bool) -> dict[str, Any]:  # fmt: skip
    """A finding's fields from a request body, checked (``FindingError`` naming the field).

    ``partial`` (a PATCH): only the fields given, plus ``version`` (required),
    and ``add_evidence`` (moments appended to the finding's evidence).
    """
    if not isinstance(body, dict):
        raise FindingError("body: must be a JSON object")
    allowed = {*FIELDS, "version", "add_evidence"} if partial else set(FIELDS)
    unknown = set(body) - allowed
    if unknown:
        raise FindingError(f"{sorted(unknown)[0]}: unknown field (fields: {', '.join(FIELDS)})")
    out: dict[str, Any] = {}
    if not partial or "title" in body:
        out["title"] = _text(body, "title", TITLE_MAX, required=True)
    if not partial or "severity" in body:
        out["severity"] = _severity(body.get("severity"))
    for field in ("description", "recommendation"):
        if field in body:
            out[field] = _text(body, field, TEXT_MAX) or ""
    for field, table in (("tasks", "tasks"), ("participants", "participants"), ("tags", None)):
        if field in body:
            values = _strings(body, field) or []
            if table:
                _known(conn, study_id, table, field, values)
            out[field] = values
    if body.get("evidence") is not None:
        out["evidence"] = _evidence(conn, study_id, body["evidence"])
    if partial and body.get("add_evidence") is not None:
        out["add_evidence"] = _evidence(conn, study_id, body["add_evidence"], "add_evidence")
    if partial:
        version = body.get("version")
        if isinstance(version, bool) or not isinstance(version, int) or not 0 <= version < 2**63:
            raise FindingError("version: required, the finding's version you read")
        out["version"] = version
    return out


# -- reads -----------------------------------------------------------------------------------


def _study_exists(conn: sqlite3.Connection, study_id: str) -> None:
    if conn.execute("SELECT 1 FROM studies WHERE id = ?", (study_id,)).fetchone() is None:
        raise StoreError(f"no study {study_id!r}")


FINDING_SQL = """
    SELECT id, title, severity, description, recommendation, tags, tasks, participants, version,
           created_at, updated_at FROM findings
"""
EVIDENCE_SQL = """
    SELECT fe.finding_id, fe.session_id, fe.t_s, fe.text, p.id, v.id FROM finding_evidence fe
    JOIN sessions x ON x.id = fe.session_id JOIN participants p ON p.pk = x.participant_pk
    JOIN variants v ON v.pk = x.variant_pk
"""


def list_findings(conn: sqlite3.Connection, study_id: str) -> list[dict[str, Any]]:
    """A study's findings (oldest first), each with its evidence in time order."""
    _study_exists(conn, study_id)
    rows = conn.execute(FINDING_SQL + " WHERE study_id = ? ORDER BY id", (study_id,)).fetchall()
    evidence: dict[int, list[dict[str, Any]]] = {r[0]: [] for r in rows}
    numbers = session_numbers(conn, study_id)
    for fid, sid, t_s, text, participant, variant in conn.execute(
        EVIDENCE_SQL + " JOIN findings f ON f.id = fe.finding_id WHERE f.study_id = ?"
        " ORDER BY fe.session_id, fe.t_s, fe.id",
        (study_id,),
    ):
        evidence[fid].append({"session": numbers[sid], "t_s": t_s, "text": text,
                              "participant": participant, "variant": variant})  # fmt: skip
    return [_finding(row, evidence[row[0]]) for row in rows]


def get_finding(conn: sqlite3.Connection, study_id: str, finding_id: int) -> dict[str, Any]:
    """One finding, or ``StoreError`` ("no finding ...")."""
    for finding in list_findings(conn, study_id):
        if finding["id"] == finding_id:
            return finding
    raise StoreError(f"no finding {finding_id} in study {study_id!r}")


def _finding(row: tuple[Any, ...], evidence: list[dict[str, Any]]) -> dict[str, Any]:
    (fid, title, severity, description, recommendation, tags, tasks, participants, version,
     created, updated) = row  # fmt: skip
    return {
        "id": fid, "title": title, "severity": severity,
        "severity_label": SEVERITY_LABELS[severity], "description": description or "",
        "recommendation": recommendation or "", "tags": orjson.loads(tags or "[]"),
        "tasks": orjson.loads(tasks or "[]"), "participants": orjson.loads(participants or "[]"),
        "evidence": evidence, "version": version, "created_at": created, "updated_at": updated,
    }  # fmt: skip


# -- writes ----------------------------------------------------------------------------------


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def _transaction(conn: sqlite3.Connection) -> None:
    conn.execute("BEGIN IMMEDIATE")


def create_finding(conn: sqlite3.Connection, study_id: str, body: Any) -> dict[str, Any]:
    """Check and store a new finding; return it (``id``, ``version`` 1)."""
    _study_exists(conn, study_id)
    fields = check_body(conn, study_id, body, partial=False)
    now = time.time()
    _transaction(conn)
    try:
        fid = conn.execute(
            "INSERT INTO findings (study_id, title, severity, description, recommendation, tags,"
            " tasks, participants, version, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
            (study_id, fields["title"], fields["severity"], fields.get("description", ""),
             fields.get("recommendation", ""), _dumps(fields.get("tags", [])),
             _dumps(fields.get("tasks", [])), _dumps(fields.get("participants", [])), now, now),
        ).lastrowid  # fmt: skip
        assert fid is not None
        _insert_evidence(conn, fid, _new_moments(fields.get("evidence", []), set()))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return get_finding(conn, study_id, fid)


def _insert_evidence(conn: sqlite3.Connection, finding_id: int,
                     moments: list[tuple[int, float, str | None]]) -> None:  # fmt: skip
    conn.executemany(
        "INSERT INTO finding_evidence (finding_id, session_id, t_s, text) VALUES (?, ?, ?, ?)",
        [(finding_id, sid, t_s, text) for sid, t_s, text in moments],
    )


def _new_moments(moments: list[tuple[int, float, str | None]],
                 held: set[tuple[Any, ...]]) -> list[tuple[int, float, str | None]]:  # fmt: skip
    """The moments not held yet, each once: adding an observation twice keeps one piece of evidence."""
    out = []
    for moment in moments:
        if tuple(moment) not in held:
            held.add(tuple(moment))
            out.append(moment)
    return out


def update_finding(conn: sqlite3.Connection, study_id: str, finding_id: int,
                   body: Any) -> dict[str, Any]:  # fmt: skip
    """Change the fields given when ``version`` is the stored one (else :class:`Conflict`)."""
    current = get_finding(conn, study_id, finding_id)
    fields = check_body(conn, study_id, body, partial=True)
    version = fields.pop("version")
    evidence, added = fields.pop("evidence", None), fields.pop("add_evidence", None)
    columns = {k: _dumps(v) if isinstance(v, list) else v for k, v in fields.items()}
    _transaction(conn)
    try:
        sets = "".join(f", {name} = ?" for name in columns)
        cur = conn.execute(
            f"UPDATE findings SET version = version + 1, updated_at = ?{sets}"
            " WHERE id = ? AND study_id = ? AND version = ?",
            (time.time(), *columns.values(), finding_id, study_id, version),
        )
        if cur.rowcount != 1:
            raise Conflict(f"version: finding {finding_id} changed since version {version} "
                           f"(now {current['version']}); reload it")  # fmt: skip
        if evidence is not None:
            conn.execute("DELETE FROM finding_evidence WHERE finding_id = ?", (finding_id,))
            _insert_evidence(conn, finding_id, _new_moments(evidence, set()))
        if added:
            held = set(conn.execute("SELECT session_id, t_s, text FROM finding_evidence"
                                    " WHERE finding_id = ?", (finding_id,)).fetchall())  # fmt: skip
            _insert_evidence(conn, finding_id, _new_moments(added, held))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return get_finding(conn, study_id, finding_id)


def delete_finding(conn: sqlite3.Connection, study_id: str, finding_id: int,
                   version: int | None) -> None:  # fmt: skip
    """Delete a finding and its evidence (``Conflict`` when ``version`` is given and stale)."""
    current = get_finding(conn, study_id, finding_id)
    if version is not None and version != current["version"]:
        raise Conflict(f"version: finding {finding_id} changed since version {version} "
                       f"(now {current['version']}); reload it")  # fmt: skip
    _transaction(conn)
    try:
        conn.execute("DELETE FROM finding_evidence WHERE finding_id = ?", (finding_id,))
        conn.execute("DELETE FROM findings WHERE id = ?", (finding_id,))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


# -- observers' notes ------------------------------------------------------------------------


def add_note(conn: sqlite3.Connection, study_id: str, number: int, body: Any) -> dict[str, Any]:
    """Store an observer's (or the moderator's) timestamped note on a session; return it.

    The note is stamped with the server's clock now; ``t_s`` is seconds from the
    session's first event (0 before the participant's first event).
    """
    if not isinstance(body, dict):
        raise FindingError("body: must be a JSON object {text, author?}")
    unknown = set(body) - {"text", "author"}
    if unknown:
        raise FindingError(f"{sorted(unknown)[0]}: unknown field (fields: text, author)")
    text = _text(body, "text", TEXT_MAX, required=True)
    author = _text(body, "author", TAG_MAX) or "observer"
    session = session_by_number(conn, study_id, number)
    if session is None:
        _study_exists(conn, study_id)
        raise StoreError(f"no session {number} in study {study_id!r}")
    if session.status != "open":
        raise Closed(f"session: session {number} is closed; notes are taken while it runs")
    now_ms = time.time() * 1000.0
    first = session_first_ms(conn, session.id)
    t_s = round(max(0.0, (now_ms - first) / 1000.0), 3) if first is not None else 0.0
    nid = conn.execute(
        "INSERT INTO observer_notes (session_id, t_ms, t_s, author, text, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (session.id, now_ms, t_s, author, text, now_ms / 1000.0),
    ).lastrowid
    return {"id": nid, "session": number, "session_id": session.id, "participant": session.participant,
            "variant": session.variant, "t_s": t_s, "ts": now_ms, "author": author,
            "text": text}  # fmt: skip


def list_notes(conn: sqlite3.Connection, study_id: str) -> list[dict[str, Any]]:
    """Every observer note of a study, by session then time."""
    rows = conn.execute(
        "SELECT n.id, n.session_id, n.t_s, n.t_ms, n.author, n.text, p.id, v.id"
        " FROM observer_notes n JOIN sessions x ON x.id = n.session_id"
        " JOIN participants p ON p.pk = x.participant_pk JOIN variants v ON v.pk = x.variant_pk"
        " WHERE x.study_id = ? ORDER BY n.session_id, n.t_ms, n.id",
        (study_id,),
    )
    numbers = session_numbers(conn, study_id)
    return [{"id": nid, "session": numbers[sid], "t_s": t_s, "ts": t_ms, "author": author,
             "text": text, "participant": p, "variant": v}
            for nid, sid, t_s, t_ms, author, text, p, v in rows]  # fmt: skip


NOTE_LOAD = "observer-notes"  # the live page's load key of notes (they have no page load)


def note_event(note_id: int, t_ms: float, author: str, text: str) -> dict[str, Any]:
    """A note as the live page's timeline shows it (an observer's, not the moderator's)."""
    return {"type": "note", "source": "observer", "load": NOTE_LOAD, "seq": note_id, "t": t_ms,
            "ts": t_ms, "author": author, "label": text}  # fmt: skip


def session_note_events(conn: sqlite3.Connection, session_id: int) -> list[dict[str, Any]]:
    """A session's notes as live-page events (they rebuild the timeline after a reload)."""
    rows = conn.execute(
        "SELECT id, t_ms, author, text FROM observer_notes WHERE session_id = ? ORDER BY t_ms, id",
        (session_id,),
    )
    return [note_event(*row) for row in rows]
