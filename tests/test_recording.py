"""Recordings over real HTTP to the collector and a real SQLite file: the replay
endpoint, identity and deduplication, bad input, the per-session cap, the study
file keys, deleting a recording, and reading a session back for the player."""

from __future__ import annotations

import gzip
import os
import sqlite3
import zlib
from pathlib import Path
from typing import Any

import orjson
import pytest

from recorder.cli import main
from recorder.server import create_app
from recorder.settings import Settings
from recorder.storage import recordings as recording
from recorder.storage import store
from recorder.wire.studyfile import StudyError, parse_study
from tests.conftest import STUDY_DOC, now_ms

REPLAY_DOC = {**STUDY_DOC, "replay": True, "replay_mask": [".account"], "replay_block": ["#ads"]}


def rr_events(
    t: float, text: str = "Hello", href: str = "http://proto.test/A/"
) -> list[dict[str, Any]]:
    """A minimal rrweb stream: meta, a full snapshot holding ``text``, a mouse move."""
    snapshot = {"node": {"type": 0, "id": 1, "childNodes": [
        {"type": 2, "id": 2, "tagName": "p", "attributes": {}, "childNodes": [
            {"type": 3, "id": 3, "textContent": text}]}]}, "initialOffset": {"left": 0, "top": 0}}  # fmt: skip
    return [
        {"type": 4, "data": {"href": href, "width": 1200, "height": 800}, "timestamp": t},
        {"type": 2, "data": snapshot, "timestamp": t + 1},
        {"type": 3, "data": {"source": 1, "positions": [{"x": 1, "y": 2, "id": 3, "timeOffset": 0}]},
         "timestamp": t + 50},
    ]  # fmt: skip


def body(
    token: str, chunks: list[dict[str, Any]], page: str = "load-1", packed: bool = True
) -> bytes:
    text = orjson.dumps(
        {"v": 1, "session": token, "page": page, "sent": now_ms(), "chunks": chunks}
    )
    return gzip.compress(text) if packed else text


@pytest.fixture
def replay_session(fresh_db: sqlite3.Connection) -> store.SessionInfo:
    store.save_study(fresh_db, parse_study(REPLAY_DOC))
    return store.new_session(fresh_db, "checkout-2026", "P01", "A")


def stored(db_path: Path) -> list[tuple[int, int, int]]:
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute("SELECT session_id, seq, size FROM recordings ORDER BY seq").fetchall()
    finally:
        conn.close()


async def test_chunks_are_stored_once_and_read_back_in_order(client: Any, replay_session: Any,
                                                             db_path: Path) -> None:  # fmt: skip
    t = now_ms()
    token = replay_session.token
    link = "http://proto.test/A/?uxlab=" + token
    first = [{"seq": 0, "t": t, "events": rr_events(t, href=link)}]
    resp = await client.post("/api/v1/replay", data=body(token, first))
    assert resp.status == 200, await resp.text()
    assert await resp.json() == {"accepted": 1, "duplicates": 0}
    second = {"seq": 1, "t": t + 100, "events": rr_events(t + 100)[2:]}
    # Resent with a new chunk, uncompressed this time: the old one is a duplicate.
    resp = await client.post("/api/v1/replay", data=body(token, [first[0], second], packed=False))
    assert await resp.json() == {"accepted": 1, "duplicates": 1}
    assert [row[1] for row in stored(db_path)] == [0, 1]
    conn = store.connect(db_path)
    events = recording.session_events(conn, replay_session.id)
    assert [e["type"] for e in events] == [4, 2, 3, 3]
    assert events[0]["data"]["href"] == "http://proto.test/A/"  # no session token stored
    assert recording.recording_bytes(conn, replay_session.id) > 0


async def test_the_collect_answer_tells_the_snippet_to_record(client: Any, replay_session: Any,
                                                             fresh_db: Any) -> None:  # fmt: skip
    event = {"seq": 0, "t": now_ms(), "type": "page", "url": "http://proto.test/A/", "w": 1, "h": 1}
    doc = {
        "v": 1,
        "session": replay_session.token,
        "page": "p1",
        "sent": now_ms(),
        "events": [event],
    }
    answer = await (await client.post("/api/v1/collect", data=orjson.dumps(doc))).json()
    assert answer["replay"] is True
    assert answer["replay_mask"] == "[data-uxlab-mask], .account"
    assert answer["replay_block"] == "[data-uxlab-ignore], #ads"
    other = store.new_session(fresh_db, "checkout-2026", "P02", "A")
    store.save_study(fresh_db, parse_study(STUDY_DOC))  # replay off again
    doc["session"] = other.token
    await __import__("asyncio").sleep(2.1)  # the session cache's lifetime
    answer = await (await client.post("/api/v1/collect", data=orjson.dumps(doc))).json()
    assert "replay" not in answer


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"\x1f\x8b\x08\x00broken", "not valid gzip"),
        ("twice", "bytes after the gzip stream"),  # a second member was silently dropped
        (orjson.dumps({"v": 1, "session": "x", "page": "p", "sent": 1.7e12}), "chunks"),
        (orjson.dumps({"v": 2}), "v: must be 1"),
        (None, "chunks[0].seq"),
        (b"[1, 2]", "body"),
        ("deep", "nested too deeply"),  # found in review: orjson reads 300 levels, writes 254
    ],
)
async def test_bad_bodies_are_400_and_store_nothing(client: Any, replay_session: Any, db_path: Path,
                                                    raw: bytes | str | None, message: str) -> None:  # fmt: skip
    if raw is None:
        raw = body(
            replay_session.token, [{"seq": -1, "t": now_ms(), "events": rr_events(now_ms())}]
        )
    elif raw == "twice":
        one = body(replay_session.token, [{"seq": 0, "t": now_ms(), "events": rr_events(now_ms())}])
        raw = one + one
    elif raw == "deep":
        t = int(now_ms())
        deep = "[" * 300 + "]" * 300
        raw = (f'{{"v":1,"session":"{replay_session.token}","page":"p","sent":{t},"chunks":[{{"seq":0,'
               f'"t":{t},"events":[{{"type":2,"timestamp":{t},"data":{deep}}}]}}]}}').encode()  # fmt: skip
    resp = await client.post("/api/v1/replay", data=raw)
    assert resp.status == 400
    answer = await resp.json()
    assert message in answer["error"] and answer["status"] == 400
    assert stored(db_path) == []


async def test_a_study_without_replay_refuses_recordings(client: Any, fresh_db: Any,
                                                         db_path: Path) -> None:  # fmt: skip
    info = store.new_session(fresh_db, "checkout-2026", "P01", "A")
    t = now_ms()
    resp = await client.post(
        "/api/v1/replay", data=body(info.token, [{"seq": 0, "t": t, "events": rr_events(t)}])
    )
    assert resp.status == 403
    assert "replay" in (await resp.json())["error"]
    resp = await client.post(
        "/api/v1/replay", data=body("nope", [{"seq": 0, "t": t, "events": rr_events(t)}])
    )
    assert resp.status == 401
    assert stored(db_path) == []


async def test_past_the_cap_the_answer_is_413(
    fresh_db: Any, db_path: Path, aiohttp_client: Any
) -> None:
    store.save_study(fresh_db, parse_study(REPLAY_DOC))
    info = store.new_session(fresh_db, "checkout-2026", "P01", "A")
    settings = Settings(db=str(db_path), admin_token="x", max_body=2 << 20, replay_max_mb=1)
    client = await aiohttp_client(create_app(settings))
    t = now_ms()
    noise = os.urandom(450_000).hex()  # hardly compressible: ~500 KB stored per chunk
    statuses = []
    for seq in range(4):
        events = rr_events(t + seq, text=noise[:700_000])
        resp = await client.post(
            "/api/v1/replay", data=body(info.token, [{"seq": seq, "t": t, "events": events}])
        )
        statuses.append(resp.status)
        if resp.status == 413:
            assert "cap of 1 MB" in (await resp.json())["error"]
    assert statuses[:2] == [200, 200] and statuses[-1] == 413
    assert sum(row[2] for row in stored(db_path)) >= 1 << 20
    # Events still go in.
    event = {"seq": 0, "t": now_ms(), "type": "page", "url": "http://proto.test/A/", "w": 1, "h": 1}
    doc = {"v": 1, "session": info.token, "page": "p1", "sent": now_ms(), "events": [event]}
    assert (await client.post("/api/v1/collect", data=orjson.dumps(doc))).status == 200


async def test_delete_recording_keeps_the_events(client: Any, replay_session: Any, db_path: Path,
                                                 capsys: Any) -> None:  # fmt: skip
    t = now_ms()
    token = replay_session.token
    secret_text = "Only-In-The-Recording-7731"
    await client.post(
        "/api/v1/replay",
        data=body(token, [{"seq": 0, "t": t, "events": rr_events(t, secret_text)}]),
    )
    event = {"seq": 0, "t": t, "type": "page", "url": "http://proto.test/A/", "w": 1, "h": 1}
    doc = {"v": 1, "session": token, "page": "load-1", "sent": now_ms(), "events": [event]}
    assert (await client.post("/api/v1/collect", data=orjson.dumps(doc))).status == 200
    assert len(stored(db_path)) == 1
    sid = str(replay_session.id)
    assert main(["session", "delete-recording", "checkout-2026", sid, "--db", str(db_path)]) == 0
    assert "deleted the recording of session" in capsys.readouterr().out
    assert stored(db_path) == []
    conn = sqlite3.connect(db_path)
    assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 1
    conn.close()
    raw = b"".join(p.read_bytes() for p in db_path.parent.glob("uxlab.db*"))
    packed = zlib.compress(orjson.dumps(rr_events(t, secret_text)), 6)
    assert packed[10:40] not in raw  # the compressed chunk is gone from every file
    assert main(["session", "delete-recording", "checkout-2026", sid, "--db", str(db_path)]) == 0
    assert "has no recording" in capsys.readouterr().out
    assert main(["session", "delete-recording", "checkout-2026", "999", "--db", str(db_path)]) == 2
    assert "no session 999" in capsys.readouterr().err
    assert main(["session", "delete-recording", "nope", "1", "--db", str(db_path)]) == 2


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"replay": "yes"}, "replay: must be true or false"),
        ({"replay": True, "replay_mask": "#a"}, "replay_mask: must be a list"),
        ({"replay": True, "replay_block": ["a { color: red }"]}, "is not a CSS selector"),
        ({"replay_mask": ["#a"]}, "set replay = true"),
    ],
)
def test_study_file_replay_keys_are_checked(doc: dict[str, Any], message: str) -> None:
    with pytest.raises(StudyError, match=message):
        parse_study({**STUDY_DOC, **doc})


def test_replay_settings_survive_the_database(fresh_db: Any) -> None:
    store.save_study(fresh_db, parse_study(REPLAY_DOC))
    study = store.load_study(fresh_db, "checkout-2026")
    assert study.replay is not None and study.replay.mask == (".account",)
    assert parse_study(STUDY_DOC).replay is None


async def test_the_delete_endpoint_is_the_moderators(
    client: Any, replay_session: Any, db_path: Path
) -> None:
    t = now_ms()
    token = replay_session.token
    await client.post(
        "/api/v1/replay", data=body(token, [{"seq": 0, "t": t, "events": rr_events(t)}])
    )
    url = f"/api/v1/studies/checkout-2026/sessions/{replay_session.id}/recording"
    assert (await client.delete(url)).status == 401
    bad = await client.delete(url, headers={"Authorization": f"Bearer {token}"})
    assert bad.status == 401 and stored(db_path)
    missing = await client.delete(url.replace(f"/{replay_session.id}/", "/999/"),
                                  headers={"Authorization": "Bearer test-admin-token"})  # fmt: skip
    assert missing.status == 404
    done = await client.delete(url, headers={"Authorization": "Bearer test-admin-token"})
    assert done.status == 200 and (await done.json())["deleted_chunks"] == 1
    assert stored(db_path) == []


async def test_a_body_too_large_is_413_naming_the_body_not_the_recording(
    client: Any, replay_session: Any, db_path: Path
) -> None:
    t = now_ms()
    noise = os.urandom(300_000).hex()  # the client fixture's max body is 64 KB: 512 KB allowed here
    raw = body(
        replay_session.token, [{"seq": 0, "t": t, "events": rr_events(t, noise)}], packed=False
    )
    resp = await client.post("/api/v1/replay", data=raw)
    assert resp.status == 413
    answer = await resp.json()
    assert answer["error"].startswith("body: larger than") and "recording" not in answer["error"]
    small = body(
        replay_session.token,
        [{"seq": 0, "t": t, "events": rr_events(t, noise[:100_000])}],
        packed=False,
    )
    assert len(small) > 64 * 1024  # over UXLAB_MAX_BODY, within a recording's allowance
    assert (await client.post("/api/v1/replay", data=small)).status == 200
    assert len(stored(db_path)) == 1


async def test_events_packed_by_rrwebs_packer_are_unpacked(client: Any, replay_session: Any,
                                                           db_path: Path) -> None:  # fmt: skip
    t = now_ms()
    packed = [
        zlib.compress(orjson.dumps({**e, "v": "v1"})).decode("latin-1")
        for e in rr_events(t, "Packed text")
    ]
    resp = await client.post("/api/v1/replay", data=body(replay_session.token, [{"seq": 0, "t": t, "events": packed}],
                                                         packed=False))  # fmt: skip
    assert resp.status == 200, await resp.text()
    conn = store.connect(db_path)
    events = recording.session_events(conn, replay_session.id)
    assert [e["type"] for e in events] == [4, 2, 3] and "v" not in events[0]
    assert "Packed text" in orjson.dumps(events).decode()
    bad = body(replay_session.token, [{"seq": 1, "t": t, "events": ["not packed"]}], packed=False)
    resp = await client.post("/api/v1/replay", data=bad)
    assert resp.status == 400 and "packed by rrweb's packer" in (await resp.json())["error"]


async def test_a_body_in_a_content_encoding_is_decoded(client: Any, replay_session: Any,
                                                       db_path: Path) -> None:  # fmt: skip
    """``Content-Encoding`` is honoured here as on the collector: a deflate body is read, a
    body that does not decode as its coding is a 400 that stores nothing."""
    t = now_ms()
    plain = body(replay_session.token, [{"seq": 0, "t": t, "events": rr_events(t)}], packed=False)
    resp = await client.post("/api/v1/replay", data=zlib.compress(plain),
                             headers={"Content-Encoding": "deflate"})  # fmt: skip
    assert resp.status == 200, await resp.text()
    packed = body(replay_session.token, [{"seq": 1, "t": t, "events": rr_events(t)}])
    resp = await client.post("/api/v1/replay", data=gzip.compress(packed),
                             headers={"Content-Encoding": "gzip"})  # fmt: skip
    assert resp.status == 200, await resp.text()  # a gzip recording, sent gzip once more
    resp = await client.post("/api/v1/replay", data=plain, headers={"Content-Encoding": "gzip"})
    assert resp.status == 400
    assert "does not decode as its Content-Encoding" in (await resp.json())["error"]
    assert [seq for _, seq, _ in stored(db_path)] == [0, 1]


async def test_a_recording_never_joins_the_consoles_page_load(client: Any, replay_session: Any,
                                                              db_path: Path) -> None:  # fmt: skip
    """Recordings share the snippet's page loads; the console's keys are not theirs."""
    t = now_ms()
    console = {"v": 1, "page": "console-1", "sent": t,
               "events": [{"seq": 0, "t": t, "type": "marker", "kind": "note", "text": "hm"}]}  # fmt: skip
    resp = await client.post(f"/api/v1/sessions/{replay_session.token}/events", json=console,
                             headers={"Authorization": "Bearer test-admin-token"})  # fmt: skip
    assert resp.status == 200, await resp.text()
    chunk = [{"seq": 0, "t": t, "events": rr_events(t)}]
    resp = await client.post("/api/v1/replay", data=body(replay_session.token, chunk, "console-1"))
    assert resp.status == 400 and "another sender" in (await resp.json())["error"]
    assert stored(db_path) == []
    resp = await client.post("/api/v1/replay", data=body(replay_session.token, chunk))
    assert resp.status == 200 and len(stored(db_path)) == 1
