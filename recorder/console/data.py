"""What the console reads from the database: session progress and a session's history.

Read-only queries (writes go through :mod:`recorder.storage.store` and the writer).
A session's history is what rebuilds the live page after a reload of the
console or a restart of the server: every moderator event and the latest
participant events, each with ``ts``, its time on the server's clock (the
client's ``t`` plus its page load's clock offset), in the shape
:func:`recorder.storage.live.describe` gives the live feed.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

from recorder.storage.live import describe
from recorder.wire import schema

# Participant events sent with a history; moderator events are always all sent.
HISTORY_PARTICIPANT_EVENTS = 5000

PROGRESS_SQL = f"""
    SELECT x.id, x.number, x.token, p.id, v.id, v.url, x.status, x.created_at, x.closed_at, x.last_event_at,
      (SELECT count(*) FROM events e WHERE e.session_id = x.id),
      (SELECT count(DISTINCT e.task_pk) FROM events e
        WHERE e.session_id = x.id AND e.type = {schema.TASK_END}),
      (SELECT tk.id || char(31) || e.type FROM events e JOIN tasks tk ON tk.pk = e.task_pk
        WHERE e.session_id = x.id AND e.type IN ({schema.TASK_START}, {schema.TASK_END})
        ORDER BY e.id DESC LIMIT 1)
    FROM sessions x JOIN participants p ON p.pk = x.participant_pk
    JOIN variants v ON v.pk = x.variant_pk
    WHERE x.study_id = ? ORDER BY x.id
"""


def session_progress(conn: sqlite3.Connection, study_id: str) -> list[dict[str, Any]]:
    """Every session of a study with its status and progress, oldest first.

    ``id`` is the database's (uxlab's own use); ``number`` counts within the study.

    ``tasks_done`` counts the tasks the moderator ended (any outcome);
    ``current_task`` is the task started last and not ended since, if any.
    """
    out = []
    for row in conn.execute(PROGRESS_SQL, (study_id,)):
        (sid, number, token, participant, variant, variant_url, status, created, closed, last,
         events, done, latest) = row  # fmt: skip
        current = None
        if latest:
            task, _, code = latest.partition("\x1f")
            current = task if int(code) == schema.TASK_START else None
        out.append({
            "id": sid, "number": number, "token": token, "participant": participant, "variant": variant,
            "variant_url": variant_url, "status": status, "created_at": created,
            "closed_at": closed, "last_event_at": last, "events": events,
            "tasks_done": done, "current_task": current,
        })  # fmt: skip
    return out


HISTORY_SQL = """
    SELECT e.seq, e.t, e.type, p.url, g.selector, l.text, tk.id, e.outcome, e.kind,
           e.interactive, e.x, e.y, e.value, e.data, e.t + pl.offset_ms AS ts, pl.source, pl.key
    FROM events e JOIN page_loads pl ON pl.id = e.load_id
    LEFT JOIN pages p ON p.id = e.page_id LEFT JOIN targets g ON g.id = e.target_id
    LEFT JOIN labels l ON l.id = e.label_id LEFT JOIN tasks tk ON tk.pk = e.task_pk
    WHERE e.session_id = ? AND pl.source = ?
"""


def session_history(conn: sqlite3.Connection, session_id: int) -> list[dict[str, Any]]:
    """A session's events in server-clock order: all the moderator's, the latest participant's."""
    moderator = conn.execute(
        HISTORY_SQL + " ORDER BY ts, e.id", (session_id, schema.SOURCE_MODERATOR)
    ).fetchall()
    participant = conn.execute(
        HISTORY_SQL + " ORDER BY ts DESC, e.id DESC LIMIT ?",
        (session_id, schema.SOURCE_SNIPPET, HISTORY_PARTICIPANT_EVENTS),
    ).fetchall()
    n = len(schema.ROW_FIELDS)  # the event's row, then ts, source and load key
    rows = sorted(moderator + participant, key=lambda r: r[n])
    events = []
    for row in rows:
        event = describe(row[:n], row[n + 1], row[n + 2])
        event["ts"] = row[n]
        events.append(event)
    return events


def load_offsets(conn: sqlite3.Connection, session_id: int) -> dict[str, float]:
    """Page load key -> clock offset (server receive time - client send time), in ms."""
    return dict(
        conn.execute("SELECT key, offset_ms FROM page_loads WHERE session_id = ?", (session_id,))
    )


def session_status(conn: sqlite3.Connection, session_id: int) -> str:
    """``open`` or ``closed``."""
    row = conn.execute("SELECT status FROM sessions WHERE id = ?", (session_id,)).fetchone()
    return str(row[0]) if row else "closed"


def server_now_ms() -> float:
    """The server's clock in epoch milliseconds (consoles correct their own by it)."""
    return time.time() * 1000.0
