"""Turn a study's rows into numpy columns once, with a columnar cache beside the database.

One query per table, inside one read transaction (a consistent snapshot
while the collector keeps writing). Events come out sorted by session, then
corrected time (``t + page_loads.offset_ms``: the client clock shifted by
the smallest server-receive minus client-sent seen for its page load), then
page load id, then seq. Page URLs become page keys by the study's ``[pages]``
rules (``recorder/pages.py``, the one home of that rule), interned as integer ids.

Rows are read by :mod:`analyzer.kernels.sqlite_rows`, a jitted loop over SQLite's
own C library that writes each value straight into typed arrays (about 1.5
million events/s cold with two threads on a 2-core laptop; Python's sqlite3,
the fallback where SQLite is not a shared library, makes a tuple per row and
reads 0.4 million/s). The sorted columns are kept in ``<db>.uxcache/`` as
``.npy`` files, so later loads read almost nothing. A later
load reads only events with an id above the cached maximum (events are
append-only and their ids grow) and re-sorts only when something changed:
new events, or a page load whose clock offset a later batch lowered. The
cache is dropped when its format, the database's schema version, the
study's creation time or the stored identity of the last event id it read
no longer match: a replaced or restored database file is never mixed up
with the one the cache was made from.

Decoded here from the events' JSON ``data`` (inside SQLite, with
``json_extract``): page load timing (``timing.load`` or ``timing.loadEventEnd``
as load ms, ``timing.ttfb`` or ``timing.responseStart`` as TTFB ms; zero or
missing is unknown), and the answers of multi-item ratings (SUS, UMUX-Lite),
packed four bits per answer into ``value`` (see :func:`rating_answers`).
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from analyzer import marker_edits
from analyzer.kernels import jit as kernels
from analyzer.kernels import sqlite_rows
from recorder.storage import store
from recorder.wire import pages, schema
from recorder.wire.studyfile import Study

CACHE_FORMAT = 2
MAX_ANSWERS = 12  # answers packed into a float64 value, four bits each

# name -> dtype of every cached per-event column, in sorted order.
COLUMNS = {"t": np.float64, "load": np.int32, "seq": np.int32, "type": np.int8, "page": np.int32,
           "target": np.int32, "label": np.int32, "task_pk": np.int32, "outcome": np.int8,
           "kind": np.int8, "interactive": np.int8, "x": np.float32, "y": np.float32,
           "value": np.float64, "ttfb": np.float32}  # fmt: skip

# Decoded from an event's JSON: a page's load and TTFB ms, and a multi-item rating's answers.
_PACKED = " | ".join(
    f"(ifnull(json_extract(data, '$.values[{k}]'), 0) << {4 * k})" for k in range(MAX_ANSWERS)
)
_LOAD_MS = (
    "coalesce(json_extract(data, '$.timing.load'), json_extract(data, '$.timing.loadEventEnd'))"
)
_TTFB_MS = (
    "coalesce(json_extract(data, '$.timing.ttfb'), json_extract(data, '$.timing.responseStart'))"
)
_ANSWERS_IN_JSON = f"type = {schema.RATING} AND value IS NULL AND data IS NOT NULL"
STUDY_FILTER = "AND {session} IN (SELECT id FROM sessions WHERE study_id = ?)"

EVENTS_SQL = f"""
SELECT (session_id << 32) | load_id,
       seq | (type << 32) | (ifnull(outcome, 0) << 40) | (ifnull(kind, 0) << 48)
           | ((ifnull(interactive, -1) + 1) << 56),
       ifnull(page_id, -1), ifnull(target_id, -1), ifnull(label_id, -1), ifnull(task_pk, -1),
       t, x, y,
       CASE WHEN type = {schema.PAGE} THEN {_LOAD_MS} WHEN {_ANSWERS_IN_JSON} THEN {_PACKED}
            ELSE value END,
       CASE WHEN type = {schema.PAGE} THEN {_TTFB_MS} END
FROM events WHERE id > ? AND id <= ? {{filter}}
"""
# The native reader (analyzer.kernels.sqlite_rows.fill_events) reads the plain columns in one
# pass and decodes the JSON only of the rows that need it in a second: json_extract on every row
# of the first would cost it a third of its time. A study holding every session needs no filter.
NATIVE_SQL = """
SELECT id, session_id, load_id, seq, ifnull(page_id, -1), ifnull(target_id, -1), ifnull(label_id, -1),
       ifnull(task_pk, -1), type, ifnull(outcome, 0), ifnull(kind, 0), ifnull(interactive, -1),
       t, x, y, value
FROM events WHERE id > ? AND id <= ? {filter}
"""
NATIVE_DATA_SQL = f"""
SELECT id,
       CASE WHEN type = {schema.PAGE} THEN {_LOAD_MS} ELSE {_PACKED} END,
       CASE WHEN type = {schema.PAGE} THEN {_TTFB_MS} END
FROM events WHERE id > ? AND id <= ? AND (type = {schema.PAGE} OR ({_ANSWERS_IN_JSON})) {{filter}}
ORDER BY id
"""
ROW_DTYPE = np.dtype([("sl", np.int64), ("packed", np.int64), ("page", np.int64), ("target", np.int64),
                      ("label", np.int64), ("task_pk", np.int64), ("t", np.float64), ("x", np.float64),
                      ("y", np.float64), ("value", np.float64), ("ttfb", np.float64)])  # fmt: skip


@dataclass(frozen=True)
class StudyData:
    """A study's events as sorted columns, with the names behind their integer ids."""

    study: Study
    sessions: np.ndarray  # int64: database id of each session, ascending (internal)
    numbers: np.ndarray  # int64: each session's number within the study (what tables show)
    session_participant: np.ndarray  # int32: index into participants
    participants: list[str]
    keys: list[str]  # page key of each page key id
    events: kernels.Events  # sorted by session, then corrected time
    rules: kernels.TaskRules
    load: np.ndarray  # int32: page load id of each event
    seq: np.ndarray  # int32
    page: np.ndarray  # int32: interned URL id (pages table)
    ttfb: np.ndarray  # float32: page events' time to first byte (their load ms is in value), NaN
    targets: dict[int, str]  # selector of every clicked target id and every invalid field's
    labels: dict[int, str]  # text of every marker's and click's label id

    @property
    def variants(self) -> list[str]:
        """Variant ids, in study order (the index in ``events.session_variant``)."""
        return [v.id for v in self.study.variants]

    @property
    def tasks(self) -> list[str]:
        """Task ids, in study order (the index in ``events.task``)."""
        return [t.id for t in self.study.tasks]


def rating_answers(value: float, count: int) -> list[int]:
    """The answers of a multi-item rating, unpacked from the loaded ``value``."""
    packed = int(value)
    return [(packed >> (4 * k)) & 15 for k in range(count)]


# -- reading the database ------------------------------------------------------------------


def load_study_data(db_path: str | Path, study_id: str, cache: bool = True) -> StudyData:
    """Load a study's events as sorted columns.

    Parameters
    ----------
    db_path : the uxlab SQLite database
    study_id : the study to load (``StoreError`` when unknown)
    cache : keep and use the columnar cache in ``<db>.uxcache/``

    Returns
    -------
    :class:`StudyData`
    """
    conn = _connect(db_path, study_id)
    try:
        conn.execute("BEGIN")  # one snapshot for every query below
        study = store.load_study(conn, study_id)
        meta = _db_meta(conn, study_id)
        folder = cache_folder(db_path) if cache else None
        columns = _sorted_columns(conn, study_id, meta, folder, db_path)
        data = _study_data(conn, study, columns)
        conn.execute("COMMIT")
    finally:
        conn.close()
    return data


def _connect(db_path: str | Path, study_id: str) -> sqlite3.Connection:
    if not Path(db_path).is_file():
        raise store.StoreError(
            f"no study {study_id!r}: no database at {db_path} (give --db, or set UXLAB_DB)"
        )
    try:
        conn = store.connect(db_path, readonly=True)
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise store.StoreError(f"cannot read {db_path} as a uxlab database: {exc}") from None
    if version < 1:
        conn.close()
        raise store.StoreError(f"{db_path} is not a uxlab database (no schema)")
    return conn


def _db_meta(conn: sqlite3.Connection, study_id: str) -> dict[str, Any]:
    """What the cache must match, and the snapshot's event-id bound."""
    created = conn.execute("SELECT created_at FROM studies WHERE id = ?", (study_id,)).fetchone()[0]
    max_id = conn.execute("SELECT max(id) FROM events").fetchone()[0] or 0
    study_sessions, all_sessions = conn.execute(
        "SELECT sum(study_id = ?), count(*) FROM sessions", (study_id,)).fetchone()  # fmt: skip
    return {"format": CACHE_FORMAT, "schema": conn.execute("PRAGMA user_version").fetchone()[0],
            "study_created_at": created, "max_id": max_id, "last": _row_identity(conn, max_id),
            "scan": 4 * (study_sessions or 0) >= all_sessions,
            "only": (study_sessions or 0) == all_sessions}  # fmt: skip


# Told before a long read from SQLite (the CLI and the console set it: one line on stderr
# or in the log); None says nothing. A person should not wonder whether it hangs.
notice: Callable[[str], None] | None = None
NOTICE_FROM = 1_000_000  # events to read
# events/s read from SQLite on a 2-core laptop (benchmarks/): natively, and through Python's sqlite3
READ_RATE = {True: 1_500_000, False: 300_000}
# Read natively where SQLite's shared library is at hand (tests turn it off to compare the two).
NATIVE = True
PARALLEL_FROM = 400_000  # ids to read before a second reader thread pays


def _read_events(conn: sqlite3.Connection, db_path: str | Path | None, study_id: str, after: int,
                 upto: int, scan: bool, only: bool = False) -> dict[str, np.ndarray]:  # fmt: skip
    """Events with ids in ``(after, upto]`` of the study, unsorted, as columns.

    ``scan``: read in id order rather than through the session index; ``only``: the
    study holds every session (no filter at all).
    """
    native = bool(NATIVE and db_path is not None and sqlite_rows.available())
    if notice is not None and upto - after >= NOTICE_FROM:
        notice(f"uxlab: reading up to {upto - after:,} events from the database (about"
               f" {max(1, round((upto - after) / READ_RATE[native]))} s; later analyses use the"
               " cache beside it)")  # fmt: skip
    # A unary + keeps SQLite off the session index: when the study holds most of the
    # events, one pass in id order beats an index lookup per row.
    session = "+session_id" if scan else "session_id"
    if native:
        assert db_path is not None
        try:
            return _read_native(db_path, study_id, after, upto, session, scan, only)
        except sqlite3.OperationalError:  # the library refused (a locked file, say): the slow way
            pass
    sql = EVENTS_SQL.format(filter=STUDY_FILTER.format(session=session))
    rows = np.fromiter(conn.execute(sql, (after, upto, study_id)), dtype=ROW_DTYPE)
    sl, packed = rows["sl"], rows["packed"]
    return {
        "session": sl >> 32, "load": sl & 0xFFFFFFFF, "seq": packed & 0xFFFFFFFF,
        "type": (packed >> 32) & 0xFF, "outcome": (packed >> 40) & 0xFF, "kind": (packed >> 48) & 0xFF,
        "interactive": ((packed >> 56) & 0xFF) - 1, "page": rows["page"], "target": rows["target"],
        "label": rows["label"], "task_pk": rows["task_pk"], "t": rows["t"], "x": rows["x"],
        "y": rows["y"], "value": rows["value"], "ttfb": rows["ttfb"],
    }  # fmt: skip


class _Columns:
    """The native reader's typed arrays, grown or compacted together."""

    def __init__(self, rows: int) -> None:
        self.session = np.empty(rows, np.int64)
        self.i32 = np.empty((rows, 6), np.int32)  # load, seq, page, target, label, task_pk
        self.i8 = np.empty((rows, 4), np.int8)  # type, outcome, kind, interactive
        self.t, self.value = np.empty(rows), np.empty(rows)
        self.xy = np.empty((rows, 2), np.float32)
        self.ttfb = np.empty(rows, np.float32)  # NaN but on page rows (from the JSON)
        self.need = np.empty((rows, 2), np.int64)  # (row, id) of rows whose value is in the JSON

    ARRAYS = ("session", "i32", "i8", "t", "xy", "value", "ttfb", "need")

    def grow(self, rows: int) -> None:
        for name in self.ARRAYS:
            old = getattr(self, name)
            new = np.empty((rows, *old.shape[1:]), old.dtype)
            new[: len(old)] = old
            setattr(self, name, new)

    def move(self, src: int, dst: int, count: int) -> None:
        for name in self.ARRAYS[:-1]:
            array = getattr(self, name)
            array[dst : dst + count] = array[src : src + count]

    def decode(self, db_path: str | Path, sql: str, params: tuple[Any, ...], first: int,
               end: int) -> None:  # fmt: skip
        """``value`` and ``ttfb`` from the JSON of the rows ``need[first:end]`` names."""
        need = self.need[first:end]
        if not len(need):
            return
        ids, decoded = sqlite_rows.read(db_path, sql, params, 1, 2, size_hint=len(need))
        order = np.argsort(need[:, 1], kind="stable")
        pos = need[order[np.searchsorted(need[order, 1], ids[:, 0])], 0]
        self.value[pos] = decoded[:, 0]
        self.ttfb[pos] = decoded[:, 1]


def _read_native(db_path: str | Path, study_id: str, after: int, upto: int, session: str,
                 scan: bool, only: bool) -> dict[str, np.ndarray]:  # fmt: skip
    """:func:`_read_events` through SQLite's C library (:mod:`analyzer.kernels.sqlite_rows`).

    Reading in id order, every row has its own slot (ids are unique): the arrays are
    allocated for the whole id range (untouched memory costs nothing) and two threads
    fill the two halves at once (the jitted loop releases the GIL), each then
    decoding the JSON of its page rows; the second half's rows then move down to
    follow the first's.
    """
    filter_sql = "" if only else STUDY_FILTER.format(session=session)
    extra = () if only else (study_id,)
    span = upto - after
    parts = 2 if scan and span >= PARALLEL_FROM and (os.cpu_count() or 1) > 1 else 1
    cols = _Columns(span if scan else min(span, sqlite_rows.CHUNK))
    bounds = [after + span * k // parts for k in range(parts)] + [upto]

    def part(k: int) -> tuple[int, int]:
        start = bounds[k] - after if parts > 1 else 0
        params = (bounds[k], bounds[k + 1], *extra)
        with sqlite_rows.Query(db_path, NATIVE_SQL.format(filter=filter_sql), params) as query:
            n, n_need, pending = start, start, False
            while True:
                stop = bounds[k + 1] - after if parts > 1 else len(cols.session)
                n, n_need, state = sqlite_rows.fill_events(
                    query.functions, query.stmt, n, stop, cols.session, cols.i32, cols.i8, cols.t,
                    cols.xy, cols.value, cols.need, n_need, schema.PAGE, schema.RATING, pending)  # fmt: skip
                pending = True
                if state == 1:
                    break
                if state < 0:
                    raise query.failed(state)
                if parts > 1:  # cannot happen: a half has at most as many rows as ids
                    raise sqlite3.OperationalError("more events than ids in a range")
                cols.grow(len(cols.session) + max(sqlite_rows.CHUNK, len(cols.session) // 2))
        cols.ttfb[start:n] = np.nan
        cols.decode(db_path, NATIVE_DATA_SQL.format(filter=filter_sql), params, start, n_need)
        return start, n

    if parts == 1:
        spans = [part(0)]
    else:
        with ThreadPoolExecutor(parts) as pool:
            spans = list(pool.map(part, range(parts)))
    n = spans[0][1]
    for start, end in spans[1:]:
        if start != n:
            cols.move(start, n, end - start)
        n += end - start
    i32, i8, xy = cols.i32[:n], cols.i8[:n], cols.xy[:n]
    return {
        "session": cols.session[:n], "load": i32[:, 0], "seq": i32[:, 1], "page": i32[:, 2],
        "target": i32[:, 3], "label": i32[:, 4], "task_pk": i32[:, 5], "type": i8[:, 0],
        "outcome": i8[:, 1], "kind": i8[:, 2], "interactive": i8[:, 3], "t": cols.t[:n],
        "x": xy[:, 0], "y": xy[:, 1], "value": cols.value[:n], "ttfb": cols.ttfb[:n],
    }  # fmt: skip


def _offsets(conn: sqlite3.Connection, study_id: str) -> tuple[np.ndarray, np.ndarray]:
    """Page load ids of the study (ascending) and their clock offsets (ms)."""
    rows = np.fromiter(conn.execute(
        "SELECT id, ifnull(offset_ms, 0) FROM page_loads WHERE session_id IN"
        " (SELECT id FROM sessions WHERE study_id = ?) ORDER BY id", (study_id,)),
        dtype=np.dtype([("id", np.int64), ("offset", np.float64)]))  # fmt: skip
    return rows["id"], rows["offset"]


def _offsets_digest(conn: sqlite3.Connection, study_id: str) -> list[Any]:
    """Count, largest id and sum of the study's page-load offsets, computed inside SQLite.

    Offsets only ever decrease, so an unchanged digest means unchanged offsets
    (up to a float sum's rounding, far below the resolution of epoch-ms times).
    """
    row = conn.execute(
        "SELECT count(*), ifnull(max(id), 0), total(offset_ms) FROM page_loads WHERE session_id IN"
        " (SELECT id FROM sessions WHERE study_id = ?)", (study_id,)).fetchone()  # fmt: skip
    return list(row)


def _offset_table(load_ids: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Offset by page load id (a dense table: one gather per event)."""
    table = np.zeros(int(load_ids.max(initial=0)) + 1)
    table[load_ids] = offsets
    return table


def _shift(table: np.ndarray, loads: np.ndarray) -> np.ndarray:
    return table[np.minimum(loads, len(table) - 1)]


def _sorted_columns(conn: sqlite3.Connection, study_id: str, meta: dict[str, Any],
                    folder: Path | None, db_path: str | Path | None = None) -> dict[str, np.ndarray]:  # fmt: skip
    """The study's events, sorted: from the cache, topped up, or read whole."""
    meta = dict(meta, offsets=_offsets_digest(conn, study_id))
    cached = read_cache(conn, folder, study_id, meta) if folder else None
    if cached and cached["max_id"] == meta["max_id"] and cached["offsets"] == meta["offsets"]:
        return cached["columns"]  # the usual warm load: nothing to read, nothing to sort
    load_ids, offsets = _offsets(conn, study_id)
    table = _offset_table(load_ids, offsets)
    # Topping up reads an id range: always by rowid, never through the session index.
    fresh = _read_events(conn, db_path, study_id, cached["max_id"] if cached else 0,
                         meta["max_id"], scan=bool(cached) or meta["scan"], only=meta["only"])  # fmt: skip
    fresh["t"] = fresh["t"] + _shift(table, fresh["load"])
    if cached:
        old = cached["columns"]
        shift = None
        if cached["offsets"] != meta["offsets"]:
            loads = old["load"].astype(np.int64)
            old_table = _offset_table(old["load_ids"], old["offsets"])
            shift = _shift(table, loads) - _shift(old_table, loads)
        if not len(fresh["t"]) and (shift is None or not shift.any()):
            meta = dict(meta, n_events=cached["n_events"])
            write_cache(folder, study_id, meta, None, load_ids, offsets, part=cached["part"])  # type: ignore[arg-type]
            return old
        session = np.repeat(old["session_ids"], np.diff(old["session_start"]))
        merged = {name: np.concatenate([old[name], fresh[name]]) for name in COLUMNS}
        if shift is not None:
            merged["t"][: len(shift)] += shift
        merged["session"] = np.concatenate([session, fresh["session"]])
    else:
        merged = fresh
    columns = _sort(merged)
    if folder:
        write_cache(
            folder, study_id, dict(meta, n_events=len(columns["t"])), columns, load_ids, offsets
        )
    return columns


def _sort(rows: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    # Session ids to indexes through a table, not np.unique: O(n), no sort of every event.
    session_ids = np.array(_used(rows["session"]), dtype=np.int64)
    index = np.zeros(int(session_ids.max(initial=0)) + 1, np.int64)
    index[session_ids] = np.arange(len(session_ids))
    session = index[rows["session"]]
    order, start = kernels.order_events(
        session, len(session_ids), rows["t"], rows["load"], rows["seq"]
    )
    # np.take lets go of the GIL: two threads gather two columns at once.
    with ThreadPoolExecutor(min(len(COLUMNS), os.cpu_count() or 1)) as pool:
        taken = pool.map(lambda name: np.take(rows[name], order).astype(COLUMNS[name], copy=False),
                         COLUMNS)  # fmt: skip
        out = dict(zip(COLUMNS, taken, strict=True))
    out["session_ids"], out["session_start"] = session_ids.astype(np.int64), start
    return out


def _lookup(ids: np.ndarray, values: np.ndarray, wanted: np.ndarray, fill: float = 0) -> np.ndarray:
    """``values`` of the sorted ``ids`` at each of ``wanted`` (``fill`` where absent)."""
    if not len(ids):
        return np.full(len(wanted), fill)
    pos = np.minimum(np.searchsorted(ids, wanted), len(ids) - 1)
    return np.where(ids[pos] == wanted, values[pos], fill)


def _study_data(conn: sqlite3.Connection, study: Study, cols: dict[str, np.ndarray]) -> StudyData:
    sid = study.id
    variant_pks = {pk: i for i, (pk,) in enumerate(conn.execute(
        "SELECT pk FROM variants WHERE study_id = ? ORDER BY position", (sid,)))}  # fmt: skip
    task_rows = conn.execute(
        "SELECT pk FROM tasks WHERE study_id = ? ORDER BY position", (sid,)
    ).fetchall()
    part_rows = conn.execute(
        "SELECT pk, id FROM participants WHERE study_id = ? ORDER BY pk", (sid,)
    ).fetchall()
    part_index = {pk: i for i, (pk, _) in enumerate(part_rows)}
    session_rows = conn.execute(
        "SELECT id, participant_pk, variant_pk, number FROM sessions WHERE study_id = ? ORDER BY id", (sid,)).fetchall()  # fmt: skip
    sessions = np.array([r[0] for r in session_rows], dtype=np.int64)
    numbers = np.array([r[3] for r in session_rows], dtype=np.int64)
    session_variant = np.array([variant_pks[r[2]] for r in session_rows], dtype=np.int32)
    # Every session of the study gets a (possibly empty) range of the sorted events.
    counts = _lookup(cols["session_ids"], np.diff(cols["session_start"]), sessions, 0).astype(
        np.int64
    )
    session_start = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)

    type_ = analysis_types(cols["type"], cols["kind"])
    # Page events, and clicks inside a frame (their page is the frame's), get keys.
    page_pos = np.flatnonzero(
        ((type_ == schema.PAGE) | (type_ == schema.CLICK)) & (cols["page"] >= 0)
    )
    page_variant = session_variant[np.searchsorted(session_start, page_pos, side="right") - 1]
    keys, lut = _page_keys(conn, study, page_variant, cols["page"][page_pos])
    top = max(max((pk for (pk,) in task_rows), default=0), int(cols["task_pk"].max(initial=-1)))
    task_lut = np.full(top + 2, -1, np.int32)  # task pk + 1 -> task index (pk -1: none)
    for i, (pk,) in enumerate(task_rows):
        task_lut[pk + 1] = i
    task = task_lut[cols["task_pk"] + 1]
    key = kernels.page_keys(session_start, session_variant, type_, cols["page"], lut)
    crit_targets = {t.success["click"] for t in study.tasks if "click" in t.success}
    crit_labels = {t.success["event"] for t in study.tasks if "event" in t.success}
    # Clicks' elements, and the form fields that failed validation (the findings' suggestions).
    targets = _texts(conn, "targets", "selector",
                     _used(cols["target"], (type_ == schema.CLICK) | (type_ == schema.INVALID)),
                     crit_targets)  # fmt: skip
    label = marker_edits.final_labels(conn, sessions, session_start, cols)
    labels = _texts(conn, "labels", "text",
                    _used(label, (type_ == schema.MARKER) | (type_ == schema.CLICK)), crit_labels)  # fmt: skip
    rules = _rules(study, keys, targets, labels)
    events = kernels.Events(
        session_start=session_start, session_variant=session_variant, t=cols["t"], type=type_,
        key=key, target=cols["target"], label=label, task=task, outcome=cols["outcome"],
        kind=cols["kind"], interactive=cols["interactive"], x=cols["x"], y=cols["y"],
        value=cols["value"],
    )  # fmt: skip
    return StudyData(
        study=study, sessions=sessions, numbers=numbers,
        session_participant=np.array([part_index[r[1]] for r in session_rows], dtype=np.int32),
        participants=[pid for _, pid in part_rows], keys=keys, events=kernels.check_events(events),
        rules=rules, load=cols["load"], seq=cols["seq"], page=cols["page"], ttfb=cols["ttfb"],
        targets=targets, labels=labels,
    )  # fmt: skip


def analysis_types(type_: np.ndarray, kind: np.ndarray) -> np.ndarray:
    """Event types as the kernels see them: the page's own clicks and a frame's pages apart.

    A click the page's script fired (``synthetic``) becomes ``kernels.SYNTHETIC_CLICK`` and a
    page shown inside a child frame ``kernels.FRAME_PAGE``: no rule counts them as the
    participant's clicks or as steps of a path (shared/DESIGN.md, second wave).
    """
    out = np.array(type_, dtype=np.int8, copy=True)
    out[(type_ == schema.CLICK) & (kind == schema.SYNTHETIC_CLICK_KIND)] = kernels.SYNTHETIC_CLICK
    out[(type_ == schema.PAGE) & (kind == schema.FRAME_PAGE_KIND)] = kernels.FRAME_PAGE
    return out


def _used(ids: np.ndarray, mask: np.ndarray | None = None) -> list[int]:
    """The distinct non-negative ids among ``ids[mask]`` (O(n), no sort)."""
    chosen = ids if mask is None else ids[mask]
    chosen = chosen[chosen >= 0]
    if not len(chosen):
        return []
    seen = np.zeros(int(chosen.max()) + 1, np.bool_)
    seen[chosen] = True
    return np.flatnonzero(seen).tolist()


def _texts(
    conn: sqlite3.Connection, table: str, column: str, ids: list[int], wanted: set[str]
) -> dict[int, str]:
    """``id -> text`` for the given ids and for the wanted texts that the table holds."""
    rows = conn.execute(
        f"SELECT id, {column} FROM {table} WHERE id IN (SELECT value FROM json_each(?))"
        f" OR {column} IN (SELECT value FROM json_each(?))",
        (orjson.dumps(ids).decode(), orjson.dumps(sorted(wanted)).decode())).fetchall()  # fmt: skip
    return dict(rows)


def _page_keys(conn: sqlite3.Connection, study: Study, variant: np.ndarray,
               page: np.ndarray) -> tuple[list[str], np.ndarray]:  # fmt: skip
    """Key strings and the ``[variant, page id] -> key id`` table, for the pairs seen."""
    page_ids = _used(page)
    width = (page_ids[-1] + 1) if page_ids else 0
    pairs = _used(variant.astype(np.int64) * width + page)
    urls = dict(conn.execute("SELECT id, url FROM pages WHERE id IN (SELECT value FROM json_each(?))",
                             (orjson.dumps(page_ids).decode(),)).fetchall())  # fmt: skip
    ids: dict[str, int] = {}
    lut = np.full((len(study.variants), width), -1, np.int32)
    for pair in pairs:
        v, page_id = divmod(pair, width)
        key = pages.page_key(urls[page_id], study.variants[v].url, study.pages)
        lut[v, page_id] = ids.setdefault(key, len(ids))
    for task in study.tasks:
        written = [task.success["url"]] if "url" in task.success else []
        for path in [*task.expected_path, *written]:
            # Also an undeclared pattern (a study stored before [pages] existed): it names
            # no recorded page, but the expected path keeps its length.
            ids.setdefault(pages.written_key(path, study.pages), len(ids))
    return list(ids), lut


def _rules(
    study: Study, keys: list[str], targets: dict[int, str], labels: dict[int, str]
) -> kernels.TaskRules:
    key_id = {k: i for i, k in enumerate(keys)}
    target_id = {s: i for i, s in targets.items()}
    label_id = {s: i for i, s in labels.items()}
    n = len(study.tasks)
    criterion, criterion_id = np.zeros(n, np.int8), np.full(n, -1, np.int32)
    url_match = np.zeros((n, len(keys)), np.bool_)
    expected: list[int] = []
    expected_start = [0]
    for k, task in enumerate(study.tasks):
        success = task.success
        if "url" in success:
            criterion[k] = kernels.CRIT_URL
            wanted = pages.written_key(success["url"], study.pages)
            url_match[k] = [pages.matches(wanted, key) for key in keys]
        elif "click" in success:
            criterion[k], criterion_id[k] = kernels.CRIT_CLICK, target_id.get(success["click"], -1)
        elif "event" in success:
            criterion[k], criterion_id[k] = kernels.CRIT_EVENT, label_id.get(success["event"], -1)
        expected += [key_id[pages.written_key(p, study.pages)] for p in task.expected_path]
        expected_start.append(len(expected))
    return kernels.TaskRules(criterion, criterion_id, url_match, np.array(expected_start, np.int64),
                             np.array(expected, np.int32))  # fmt: skip


# -- the columnar cache --------------------------------------------------------------------


def cache_folder(db_path: str | Path) -> Path:
    """The cache folder kept beside a database: ``<db>.uxcache/``."""
    path = Path(db_path)
    return path.with_name(path.name + ".uxcache")


def read_cache(conn: sqlite3.Connection, folder: Path, study_id: str,
               meta: dict[str, Any]) -> dict[str, Any] | None:  # fmt: skip
    """The cached columns of a study, or None when absent or not made from this database."""
    try:
        saved = orjson.loads((folder / f"{study_id}.json").read_bytes())
        keep = ("format", "schema", "study_created_at")
        if any(saved.get(k) != meta[k] for k in keep) or saved["max_id"] > meta["max_id"]:
            return None
        if saved["max_id"] and saved["last"] != _row_identity(conn, saved["max_id"]):
            return None
        part = folder / saved["part"]
        names = [*COLUMNS, "session_ids", "session_start", "load_ids", "offsets"]
        arrays = {name: np.asarray(np.load(part / f"{name}.npy", mmap_mode="r")) for name in names}
        if any(len(arrays[name]) != saved["n_events"] for name in COLUMNS):
            return None
        return {"max_id": saved["max_id"], "offsets": saved["offsets"], "part": saved["part"],
                "n_events": saved["n_events"], "columns": arrays}  # fmt: skip
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _row_identity(conn: sqlite3.Connection, event_id: int) -> list[Any] | None:
    row = conn.execute(
        "SELECT session_id, load_id, seq, t FROM events WHERE id = ?", (event_id,)
    ).fetchone()
    return list(row) if row else None


def write_cache(folder: Path, study_id: str, meta: dict[str, Any], columns: dict[str, np.ndarray] | None,
                load_ids: np.ndarray, offsets: np.ndarray, part: str | None = None) -> None:  # fmt: skip
    """Write a study's sorted columns; readers see the old or the new set, never a mix.

    With ``columns=None`` only the description is rewritten (a newer event id
    bound, the same columns in ``part``).
    """
    fresh = part is None
    part = part or f"{study_id}.{uuid.uuid4().hex[:12]}"
    try:
        if columns is not None:
            folder.mkdir(exist_ok=True)
            (folder / part).mkdir()
            arrays = {**columns, "load_ids": load_ids, "offsets": offsets}
            where = folder / part

            def save(name: str) -> None:
                np.save(where / f"{name}.npy", np.ascontiguousarray(arrays[name]))

            with ThreadPoolExecutor(min(len(arrays), os.cpu_count() or 1)) as pool:
                for _ in pool.map(save, arrays):
                    pass  # an OSError of any column comes out here
        tmp = folder / f"{study_id}.{uuid.uuid4().hex[:12]}.json"
        tmp.write_bytes(orjson.dumps(dict(meta, part=part)))
        os.replace(tmp, folder / f"{study_id}.json")
    except OSError:
        if fresh:
            shutil.rmtree(folder / part, ignore_errors=True)
        return  # a read-only folder: analyze without a cache
    # Drop every older set of columns of this study (also one a concurrent writer orphaned).
    own = re.compile(re.escape(study_id) + r"\.[0-9a-f]{12}")
    for stale in folder.iterdir():
        if stale.name != part and own.fullmatch(stale.name) and stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)
