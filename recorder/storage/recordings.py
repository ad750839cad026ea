"""Recordings (session replay): the wire format of recording chunks, and reading them back.

A study with ``replay = true`` has the snippet load a second file,
``/uxlab-replay.js`` (rrweb's recorder), which posts the page's rrweb events
in seq-numbered chunks to ``POST /api/v1/replay``::

    {"v": 1, "session": "<token>", "page": "<page-load id>", "sent": 1764000000123.4,
     "chunks": [{"seq": 0, "t": 1764000000001.2, "events": [<rrweb events>]}]}

The body is gzip when the browser has ``CompressionStream`` (recognised by
its magic bytes, no header needed, so no CORS preflight); otherwise JSON whose
events are each packed by rrweb's packer (a string of zlib bytes), unpacked here.
``(session, page, seq)`` is a chunk's identity: the collector stores each
once, like events. Chunks are kept zlib-compressed; a page load's chunks in
seq order are its rrweb event stream, starting with a full snapshot.

Privacy is the recorder's (inputs masked, ``data-uxlab-mask`` text masked,
``data-uxlab-ignore`` blocked); here the session token is taken out of the
URLs rrweb records (its meta events), as it is out of events' URLs.
"""

from __future__ import annotations

import base64
import sqlite3
import zlib
from dataclasses import dataclass
from typing import Any

import orjson

from recorder.wire import schema

# The writer's item kind for recording chunks (events carry schema.SOURCE_*).
SOURCE_RECORDING = 3
MAX_CHUNKS_PER_BATCH = 500
MAX_INFLATED = 32 * 1024 * 1024  # a gzip body may not unpack to more than this
GZIP_MAGIC = b"\x1f\x8b"
RRWEB_META = 4  # rrweb EventType.Meta: {href, width, height}
RRWEB_FULL_SNAPSHOT = 2


@dataclass(frozen=True, slots=True)
class Chunk:
    """A stored chunk: its page load, seq, first timestamp and rrweb events."""

    load: str
    seq: int
    t: float
    events: list[dict[str, Any]]


def inflate(body: bytes) -> bytes:
    """The JSON text of a recording body, unpacking gzip; :class:`schema.BadInput` if broken."""
    if not body.startswith(GZIP_MAGIC):
        return body
    unpack = zlib.decompressobj(wbits=31)
    try:
        text = unpack.decompress(body, MAX_INFLATED)
    except zlib.error as exc:
        raise schema.BadInput(f"body: not valid gzip ({exc})") from None
    if unpack.unconsumed_tail:
        raise schema.BadInput(f"body: unpacks to more than {MAX_INFLATED} bytes")
    if not unpack.eof:
        raise schema.BadInput("body: not valid gzip (truncated)")
    if unpack.unused_data:  # bytes after the stream (a second member): not silently dropped
        raise schema.BadInput("body: bytes after the gzip stream")
    return text


def parse_recording(body: bytes) -> schema.Batch:
    """Check a recording body; rows are ``(seq, t, data)``, ``data`` the chunk's rrweb
    events as zlib-compressed JSON in base64 (it crosses the pipe to the writer process)."""
    doc = schema.parse_body(inflate(body))
    if type(doc.get("v")) is not int or doc.get("v") != schema.WIRE_VERSION:
        raise schema.BadInput(f"v: must be {schema.WIRE_VERSION}")
    token, page, sent = doc.get("session"), doc.get("page"), doc.get("sent")
    if not isinstance(token, str) or not token or len(token) > schema.MAX_ID_LEN:
        raise schema.BadInput("session: required, a session token")
    if not isinstance(page, str) or not page or len(page) > schema.MAX_ID_LEN:
        raise schema.BadInput("page: required, the page load's id")
    if not _epoch_ms(sent):
        raise schema.BadInput("sent: must be epoch milliseconds")
    chunks = doc.get("chunks")
    if type(chunks) is not list or not chunks:
        raise schema.BadInput("chunks: must be a non-empty list")
    if len(chunks) > MAX_CHUNKS_PER_BATCH:
        raise schema.BadInput(f"chunks: more than {MAX_CHUNKS_PER_BATCH} in one batch")
    rows: list[schema.Row] = []
    seen: set[int] = set()
    for i, chunk in enumerate(chunks):
        rows.append(_chunk_row(chunk, i, seen))
    return schema.Batch(token, page, float(sent), rows)  # type: ignore[arg-type]


def _epoch_ms(value: Any) -> bool:
    return type(value) in (int, float) and schema.MIN_T <= value <= schema.MAX_T


def _chunk_row(chunk: Any, i: int, seen: set[int]) -> schema.Row:
    if type(chunk) is not dict:
        raise schema.BadInput(f"chunks[{i}]: must be an object")
    seq: Any = chunk.get("seq")
    t, events = chunk.get("t"), chunk.get("events")
    if type(seq) is not int or not 0 <= seq <= schema.MAX_SEQ or seq in seen:
        raise schema.BadInput(f"chunks[{i}].seq: must be an integer 0..{schema.MAX_SEQ}, once")
    seen.add(seq)
    if not _epoch_ms(t):
        raise schema.BadInput(f"chunks[{i}].t: must be epoch milliseconds")
    if type(events) is not list or not events:
        raise schema.BadInput(f"chunks[{i}].events: must be a non-empty list of rrweb events")
    for j, event in enumerate(events):
        if type(event) is str:  # packed by rrweb's packer (a browser without CompressionStream)
            event = events[j] = _unpack_event(event, f"chunks[{i}].events[{j}]")
        if type(event) is not dict or type(event.get("type")) is not int:
            raise schema.BadInput(f"chunks[{i}].events[{j}]: not an rrweb event")
        stamp = event.get("timestamp")
        if not _epoch_ms(stamp):
            raise schema.BadInput(f"chunks[{i}].events[{j}].timestamp: must be epoch milliseconds")
        if event["type"] == RRWEB_META and type(event.get("data")) is dict:
            href = event["data"].get("href")
            if isinstance(href, str):
                event["data"]["href"] = schema.without_token(href)
    first = float(events[0]["timestamp"])
    try:
        text = orjson.dumps(events)
    except orjson.JSONEncodeError:  # nested deeper than orjson writes (254 levels)
        raise schema.BadInput(f"chunks[{i}].events: nested too deeply") from None
    packed = zlib.compress(text, 6)
    return (seq, first, base64.b64encode(packed).decode("ascii"))


def _unpack_event(text: str, where: str) -> Any:
    """An event packed by ``@rrweb/packer``: zlib bytes as a latin-1 string, JSON with ``v``."""
    try:
        unpacker = zlib.decompressobj()
        raw = unpacker.decompress(text.encode("latin-1"), MAX_INFLATED)
        event = orjson.loads(raw)
    except (UnicodeEncodeError, zlib.error, orjson.JSONDecodeError):
        raise schema.BadInput(
            f"{where}: not an rrweb event (nor one packed by rrweb's packer)"
        ) from None
    if type(event) is dict:
        event.pop("v", None)
    return event


def unpack(data: bytes) -> list[dict[str, Any]]:
    """A stored chunk's rrweb events."""
    events: list[dict[str, Any]] = orjson.loads(zlib.decompress(data))
    return events


def live_message(row: schema.Row, load: str) -> dict[str, Any]:
    """A committed chunk as the live feed sends it (``t`` for the feed's clock stamp)."""
    seq, t, data = row
    return {"type": "recording", "load": load, "seq": seq, "t": t,
            "events": unpack(base64.b64decode(data))}  # fmt: skip


# -- reading ---------------------------------------------------------------------------------


def recording_bytes(conn: sqlite3.Connection, session_id: int) -> int:
    """The stored size of a session's recording (compressed bytes)."""
    row = conn.execute(
        "SELECT coalesce(sum(size), 0) FROM recordings WHERE session_id = ?", (session_id,)
    ).fetchone()
    return int(row[0])


def has_recording(conn: sqlite3.Connection, session_id: int) -> bool:
    """True when the session has any recording chunk."""
    row = conn.execute(
        "SELECT 1 FROM recordings WHERE session_id = ? LIMIT 1", (session_id,)
    ).fetchone()
    return row is not None


def session_chunks(
    conn: sqlite3.Connection, session_id: int, load: str | None = None
) -> list[Chunk]:
    """A session's chunks (or one page load's) in time order; timestamps on the server's clock.

    Each page load's client clock is corrected by its offset (server receive
    time - client send time), as events' ``ts`` are, so recordings line up
    with the moderator's markers.
    """
    sql = (
        "SELECT pl.key, r.seq, r.t + pl.offset_ms, pl.offset_ms, r.data FROM recordings r"
        " JOIN page_loads pl ON pl.id = r.load_id WHERE r.session_id = ?"
    )
    args: tuple[Any, ...] = (session_id,)
    if load is not None:
        sql += " AND pl.key = ?"
        args += (load,)
    chunks = []
    for key, seq, t, offset, data in conn.execute(sql + " ORDER BY r.load_id, r.seq", args):
        events = unpack(data)
        for event in events:
            event["timestamp"] = round(event["timestamp"] + offset, 1)
        chunks.append(Chunk(key, seq, t, events))
    chunks.sort(key=lambda c: c.t)  # page loads in time order, each in seq order
    return chunks


def session_events(conn: sqlite3.Connection, session_id: int) -> list[dict[str, Any]]:
    """A session's rrweb events for the replayer: page loads in order, each from its full
    snapshot (chunks before a load's first full snapshot cannot be replayed)."""
    out: list[dict[str, Any]] = []
    by_load: dict[str, list[dict[str, Any]]] = {}
    order: list[str] = []
    for chunk in session_chunks(conn, session_id):
        if chunk.load not in by_load:
            by_load[chunk.load] = []
            order.append(chunk.load)
        by_load[chunk.load].extend(chunk.events)
    for load in order:
        events = by_load[load]
        start = next((i for i, e in enumerate(events) if e["type"] == RRWEB_FULL_SNAPSHOT), None)
        if start is None:
            continue
        meta = next((e for e in events[:start] if e["type"] == RRWEB_META), None)
        if meta is not None:
            out.append(meta)
        out.extend(events[start:])
    out.sort(key=lambda e: e["timestamp"])
    return out
