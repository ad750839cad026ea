"""Markers' texts added or changed after the key press (``marker_text`` events).

The console records a marker the moment the moderator presses its key, with
no text; a text typed afterwards travels as a ``marker_text`` event naming the
marker by its identity (the console's page load key and ``seq``), so that it
is resent and deduplicated like any event. Here the latest edit of each
marker (in corrected time order) replaces the marker's label: the loader
hands the markers table a label column that holds their final texts.
Edits are few, so each is looked up by its own identity (the events' unique
index) instead of scanning the study's events.
"""

from __future__ import annotations

import sqlite3

import numpy as np
import orjson

from recorder.wire import schema


def final_labels(
    conn: sqlite3.Connection,
    sessions: np.ndarray,
    session_start: np.ndarray,
    columns: dict[str, np.ndarray],
) -> np.ndarray:
    """The label column with every edited marker's label replaced by its latest edit's.

    ``sessions`` are the database ids of the sessions in ``session_start``'s
    order; ``columns`` the sorted event columns (``type``, ``label``, ``load``,
    ``seq``). Returns ``columns["label"]`` itself when nothing was edited. A
    cleared text is label ``-1``.
    """
    type_, label = columns["type"], columns["label"]
    edits = np.flatnonzero(type_ == schema.MARKER_TEXT)
    if not len(edits):
        return label
    out = label.copy()
    owner = np.searchsorted(session_start, edits, side="right") - 1
    for pos, s in zip(edits.tolist(), owner.tolist(), strict=True):
        target = _marker_position(conn, int(sessions[s]), columns, pos,
                                  int(session_start[s]), int(session_start[s + 1]))  # fmt: skip
        if target is not None:
            out[target] = label[pos]
    return out


def _marker_position(conn: sqlite3.Connection, session_id: int, columns: dict[str, np.ndarray],
                     pos: int, lo: int, hi: int) -> int | None:  # fmt: skip
    """Where in the sorted columns the marker that the edit at ``pos`` names stands."""
    row = conn.execute(
        "SELECT e.data, pl.id FROM events e LEFT JOIN page_loads pl ON pl.session_id = e.session_id"
        " AND pl.key = json_extract(e.data, '$.marker.page')"
        " WHERE e.session_id = ? AND e.load_id = ? AND e.seq = ?",
        (session_id, int(columns["load"][pos]), int(columns["seq"][pos])),
    ).fetchone()
    if row is None or row[1] is None:
        return None  # a marker this database never received: nothing to edit
    seq = orjson.loads(row[0])["marker"]["seq"]
    found = np.flatnonzero(
        (columns["load"][lo:hi] == row[1])
        & (columns["seq"][lo:hi] == seq)
        & (columns["type"][lo:hi] == schema.MARKER)
    )
    return lo + int(found[0]) if len(found) else None
