"""The collector over real HTTP (aiohttp's test server on loopback) and a real SQLite file."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import orjson
import pytest

from recorder.storage import store
from recorder.wire import schema
from tests.conftest import now_ms, serve_app

ADMIN = {"Authorization": "Bearer test-admin-token"}


def batch(token: str, events: list[dict[str, Any]], page: str = "load-1") -> dict[str, Any]:
    return {"v": 1, "session": token, "page": page, "sent": now_ms(), "events": events}


def clicks(n: int, start: int = 0) -> list[dict[str, Any]]:
    t = now_ms()
    return [{"seq": start + i, "t": t + i, "type": "click", "x": 10 + i, "y": 20, "sel": "button#go",
             "tag": "button", "label": "Go", "interactive": True} for i in range(n)]  # fmt: skip


def count_events(db_path: Path) -> int:
    with sqlite3.connect(db_path) as conn:
        return int(conn.execute("SELECT count(*) FROM events").fetchone()[0])


@pytest.fixture
def token(fresh_db: sqlite3.Connection) -> str:
    return store.new_session(fresh_db, "checkout-2026", "P01", "A").token


async def post(client: Any, doc: Any, path: str = "/api/v1/collect", **kw: Any) -> tuple[int, Any]:
    data = doc if isinstance(doc, bytes | str) else orjson.dumps(doc)
    resp = await client.post(path, data=data, **kw)
    return resp.status, await resp.json()


async def test_batch_is_stored_and_acknowledged(client: Any, token: str, db_path: Path) -> None:
    events = [{"seq": 0, "t": now_ms(), "type": "page", "url": "http://proto.test/A/shoes?x=1",
               "title": "Shoes", "w": 1280, "h": 800, "timing": {"ttfb": 12.5, "load": 340}},
              *clicks(2, start=1)]  # fmt: skip
    status, body = await post(client, batch(token, events), headers={"Content-Type": "text/plain"})
    assert (status, body) == (200, {"accepted": 3, "duplicates": 0})
    with sqlite3.connect(db_path) as conn:
        rows = conn.execute(
            "SELECT e.seq, e.type, p.url, g.selector, l.text, e.interactive, e.x FROM events e"
            " LEFT JOIN pages p ON p.id = e.page_id LEFT JOIN targets g ON g.id = e.target_id"
            " LEFT JOIN labels l ON l.id = e.label_id ORDER BY e.seq"
        ).fetchall()
    assert rows == [
        (0, schema.PAGE, "http://proto.test/A/shoes?x=1", None, "Shoes", None, 1280.0),
        (1, schema.CLICK, None, "button#go", "Go", 1, 10.0),
        (2, schema.CLICK, None, "button#go", "Go", 1, 11.0),
    ]


async def test_resent_batch_is_stored_once(client: Any, token: str, db_path: Path) -> None:
    doc = batch(token, clicks(5))
    assert await post(client, doc) == (200, {"accepted": 5, "duplicates": 0})
    assert await post(client, doc) == (200, {"accepted": 0, "duplicates": 5})
    # Overlapping resend: seq 3 and 4 are old, 5 to 7 new.
    doc2 = batch(token, clicks(5, start=3))
    assert await post(client, doc2) == (200, {"accepted": 3, "duplicates": 2})
    assert count_events(db_path) == 8


async def test_same_seq_on_another_page_load_is_a_new_event(
    client: Any, token: str, db_path: Path
) -> None:
    assert (await post(client, batch(token, clicks(3), page="load-1")))[0] == 200
    assert (await post(client, batch(token, clicks(3), page="load-2")))[0] == 200
    assert count_events(db_path) == 6


BAD_EVENTS = [
    ({"type": "click", "x": 1, "y": 2}, "events[1].interactive"),
    ({"type": "clack", "interactive": True, "x": 1, "y": 2}, "events[1].type"),
    ({"type": "click", "x": "1", "y": 2, "interactive": True}, "events[1].x"),
    ({"type": "page"}, "events[1].url"),
    ({"type": "page", "url": "x" * 3000}, "events[1].url"),
    ({"type": "scroll", "depth": 140}, "events[1].depth"),
    ({"type": "visibility", "state": "gone"}, "events[1].state"),
    ({"type": "error"}, "events[1].msg"),
    ({"type": "custom", "name": "big", "data": "x" * 5000}, "events[1].data"),
    ({"type": "task_end", "task": "buy-shoes", "outcome": "success"}, "events[1].type"),
    ({"type": "click", "x": 1, "y": 2, "interactive": True, "seq": -1}, "events[1].seq"),
    ({"type": "click", "x": 1, "y": 2, "interactive": True, "seq": 0}, "events[1].seq"),
    ({"type": "click", "x": 1, "y": 2, "interactive": True, "t": 12}, "events[1].t"),
    ({"type": []}, "events[1].type"),
    ({"type": {"a": 1}}, "events[1].type"),
    ({"type": "visibility", "state": {}}, "events[1].state"),
    ({"type": "visibility", "state": [1]}, "events[1].state"),
    (
        {"type": "click", "x": 1, "y": 2, "interactive": True, "synthetic": "yes"},
        "events[1].synthetic",
    ),
    ({"type": "reaction"}, "events[1].kind"),
    ({"type": "reaction", "kind": "dance"}, "events[1].kind"),
    ({"type": "scroll", "depth": 10, "frame": 7}, "events[1].frame"),
    ({"type": "scroll", "depth": 10, "frame": ""}, "events[1].frame"),
    ({"type": "page", "url": "http://h/", "frame": "x" * 3000}, "events[1].frame"),
]


async def test_second_wave_fields_are_stored(client: Any, token: str, db_path: Path) -> None:
    """`click.synthetic`, `reaction` and `frame` (shared/DESIGN.md, second wave) and where they go."""
    t, frame = now_ms(), "http://proto.test/A/widget.html?uxlab=secret"
    events = [
        {"seq": 0, "t": t, "type": "click", "x": 1, "y": 2, "interactive": True, "synthetic": True},
        {"seq": 1, "t": t + 1, "type": "reaction", "kind": "mutation"},
        {"seq": 2, "t": t + 2, "type": "page", "url": frame, "frame": frame},
        {
            "seq": 3,
            "t": t + 3,
            "type": "click",
            "x": 5,
            "y": 6,
            "interactive": False,
            "frame": frame,
        },
        {
            "seq": 4,
            "t": t + 4,
            "type": "click",
            "x": 5,
            "y": 6,
            "interactive": False,
            "synthetic": False,
        },
    ]
    assert await post(client, batch(token, events)) == (200, {"accepted": 5, "duplicates": 0})
    with sqlite3.connect(db_path) as conn:
        rows = conn.execute(
            "SELECT e.type, e.kind, p.url, json_extract(e.data, '$.frame') FROM events e"
            " LEFT JOIN pages p ON p.id = e.page_id ORDER BY e.seq"
        ).fetchall()
    bare = "http://proto.test/A/widget.html"
    assert rows == [
        (schema.CLICK, schema.SYNTHETIC_CLICK_KIND, None, None),
        (schema.REACTION, schema.REACTION_KINDS["mutation"], None, None),
        (schema.PAGE, schema.FRAME_PAGE_KIND, bare, bare),
        (schema.CLICK, None, bare, bare),
        (schema.CLICK, None, None, None),
    ]


@pytest.mark.parametrize(("bad", "field"), BAD_EVENTS)
async def test_batch_with_one_bad_event_stores_nothing(client: Any, token: str, db_path: Path,
                                                       bad: dict[str, Any], field: str) -> None:  # fmt: skip
    good = clicks(3)
    event = {"seq": 1, "t": now_ms(), **bad}
    status, body = await post(client, batch(token, [good[0], event, good[2]]))
    assert status == 400
    assert body["status"] == 400 and body["error"].startswith(field), body
    assert count_events(db_path) == 0


BAD_ENVELOPES = [
    (b"{not json", "body"),
    (b"[1, 2]", "body"),
    (orjson.dumps({"v": 2, "session": "x", "page": "p", "sent": 1.7e12, "events": []}), "v"),
    (orjson.dumps({"v": True, "session": "x", "page": "p", "sent": 1.7e12, "events": [{}]}), "v"),
    (orjson.dumps({"v": 1, "page": "p", "sent": 1.7e12, "events": [{}]}), "batch.session"),
    (orjson.dumps({"v": 1, "session": "x", "sent": 1.7e12, "events": [{}]}), "batch.page"),
    (
        orjson.dumps({"v": 1, "session": "x", "page": "p", "sent": "now", "events": [{}]}),
        "batch.sent",
    ),
    (orjson.dumps({"v": 1, "session": "x", "page": "p", "sent": 1.7e12, "events": []}), "events"),
    (
        orjson.dumps({"v": 1, "session": "x", "page": "p", "sent": 1.7e12, "events": [{}] * 501}),
        "events",
    ),
]


@pytest.mark.parametrize(("body", "field"), BAD_ENVELOPES)
async def test_bad_envelope_is_400_naming_the_field(client: Any, body: bytes, field: str) -> None:
    status, answer = await post(client, body)
    assert status == 400
    assert answer["error"].startswith(field), answer


async def test_unknown_token_is_401(
    client: Any, fresh_db: sqlite3.Connection, db_path: Path
) -> None:
    status, body = await post(client, batch("no-such-token", clicks(1)))
    assert status == 401 and "session" in body["error"]
    assert count_events(db_path) == 0


async def test_closed_session_is_403(
    client: Any, token: str, fresh_db: sqlite3.Connection, db_path: Path
) -> None:
    assert (await post(client, batch(token, clicks(1))))[0] == 200
    resp = await client.post(f"/api/v1/sessions/{token}/close", headers=ADMIN)
    assert resp.status == 200
    status, body = await post(client, batch(token, clicks(2, start=1)))
    assert status == 403 and "closed" in body["error"]
    assert count_events(db_path) == 1


async def test_body_over_limit_is_413(client: Any, token: str, db_path: Path) -> None:
    doc = batch(token, clicks(1))
    doc["events"][0]["label"] = "x" * 200
    doc["pad"] = "y" * 70_000  # the fixture's limit is 64 KiB
    status, body = await post(client, doc)
    assert status == 413 and body == {"error": body["error"], "status": 413}
    assert count_events(db_path) == 0


async def test_full_queue_is_429_with_retry_after(client: Any, token: str, db_path: Path) -> None:
    from recorder.web import WRITER_KEY

    client.server.app[WRITER_KEY].queue_events = 10
    resp = await client.post("/api/v1/collect", data=orjson.dumps(batch(token, clicks(11))))
    assert resp.status == 429
    assert resp.headers["Retry-After"] == "1"
    assert (await resp.json())["status"] == 429
    assert count_events(db_path) == 0


async def test_error_shape_is_the_same_everywhere(client: Any) -> None:
    for method, path in [
        ("GET", "/nowhere"),
        ("PUT", "/api/v1/collect"),
        ("POST", "/api/v1/collect"),
    ]:
        resp = await client.request(method, path, data=b"")
        body = await resp.json()
        assert set(body) == {"error", "status"} and body["status"] == resp.status >= 400


async def test_concurrent_clients_lose_nothing(
    client: Any, fresh_db: sqlite3.Connection, db_path: Path
) -> None:
    tokens = [
        store.new_session(fresh_db, "checkout-2026", f"P{i:02}", "AB"[i % 2]).token
        for i in range(16)
    ]

    async def participant(token: str) -> int:
        accepted = 0
        for b in range(10):
            status, body = await post(client, batch(token, clicks(20, start=b * 20)))
            assert status == 200
            accepted += body["accepted"]
        return accepted

    results = await asyncio.gather(*(participant(t) for t in tokens))
    assert results == [200] * 16
    assert count_events(db_path) == 16 * 200


async def test_input_values_are_dropped_unless_the_study_opts_in(
    client: Any, token: str, db_path: Path
) -> None:
    event = {"seq": 0, "t": now_ms(), "type": "input", "sel": "input#email", "kind": "email",
             "len": 17, "value": "secret@example.com"}  # fmt: skip
    assert (await post(client, batch(token, [event])))[0] == 200
    raw = Path(db_path).read_bytes() + Path(f"{db_path}-wal").read_bytes()
    assert b"secret@example.com" not in raw
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT value, data FROM events").fetchone() == (
            17.0,
            '{"kind":"email"}',
        )


# -- moderator events ------------------------------------------------------------------------


def mod_batch(events: list[dict[str, Any]], page: str = "console-1") -> dict[str, Any]:
    t = now_ms()
    return {"v": 1, "page": page, "sent": t,
            "events": [{"seq": i, "t": t + i, **e} for i, e in enumerate(events)]}  # fmt: skip


MODERATOR_EVENTS = [
    {"type": "task_start", "task": "buy-shoes"},
    {"type": "marker", "kind": "error", "text": "typed into search", "task": "buy-shoes"},
    {"type": "task_end", "task": "buy-shoes", "outcome": "success"},
    {"type": "rating", "item": "SEQ", "task": "buy-shoes", "value": 6},
    {"type": "rating", "item": "SUS", "values": [4, 2, 4, 1, 5, 2, 4, 2, 4, 1]},
]


async def test_moderator_events_need_the_token(client: Any, token: str, db_path: Path) -> None:
    path = f"/api/v1/sessions/{token}/events"
    assert (await post(client, mod_batch(MODERATOR_EVENTS), path))[0] == 401
    bad = {"Authorization": "Bearer wrong"}
    assert (await post(client, mod_batch(MODERATOR_EVENTS), path, headers=bad))[0] == 401
    # A participant's own token is no moderator token.
    mine = {"Authorization": f"Bearer {token}"}
    assert (await post(client, mod_batch(MODERATOR_EVENTS), path, headers=mine))[0] == 401
    assert count_events(db_path) == 0
    status, body = await post(client, mod_batch(MODERATOR_EVENTS), path, headers=ADMIN)
    assert (status, body) == (200, {"accepted": 5, "duplicates": 0})
    with sqlite3.connect(db_path) as conn:
        rows = conn.execute(
            "SELECT e.type, t.id, e.outcome, e.kind, e.value, e.data, pl.source FROM events e"
            " LEFT JOIN tasks t ON t.pk = e.task_pk JOIN page_loads pl ON pl.id = e.load_id ORDER BY e.seq"
        ).fetchall()
    assert rows == [
        (schema.TASK_START, "buy-shoes", None, None, None, None, schema.SOURCE_MODERATOR),
        (schema.MARKER, "buy-shoes", None, schema.MARKER_KINDS["error"], None, None, schema.SOURCE_MODERATOR),
        (schema.TASK_END, "buy-shoes", schema.OUTCOMES["success"], None, None, None, schema.SOURCE_MODERATOR),
        (schema.RATING, "buy-shoes", None, schema.RATING_ITEMS["SEQ"], 6.0, None, schema.SOURCE_MODERATOR),
        (schema.RATING, None, None, schema.RATING_ITEMS["SUS"], None, '{"values":[4,2,4,1,5,2,4,2,4,1]}',
         schema.SOURCE_MODERATOR),
    ]  # fmt: skip


BAD_MODERATOR = [
    ({"type": "task_start", "task": "no-such-task"}, "events[0].task"),
    ({"type": "task_end", "task": "buy-shoes", "outcome": "won"}, "events[0].outcome"),
    ({"type": "marker", "kind": "oops"}, "events[0].kind"),
    ({"type": "rating", "item": "SEQ", "task": "buy-shoes", "value": 8}, "events[0].value"),
    ({"type": "rating", "item": "SEQ", "value": 5}, "events[0].task"),
    ({"type": "rating", "item": "SUS", "values": [3] * 9}, "events[0].values"),
    ({"type": "rating", "item": ["SEQ"], "task": "buy-shoes", "value": 5}, "events[0].item"),
    ({"type": "task_end", "task": "buy-shoes", "outcome": {"x": 1}}, "events[0].outcome"),
    ({"type": "click", "x": 1, "y": 1, "interactive": True}, "events[0].type"),
]


@pytest.mark.parametrize(("event", "field"), BAD_MODERATOR)
async def test_bad_moderator_events_are_400(client: Any, token: str, db_path: Path,
                                            event: dict[str, Any], field: str) -> None:  # fmt: skip
    status, body = await post(
        client, mod_batch([event]), f"/api/v1/sessions/{token}/events", headers=ADMIN
    )
    assert status == 400 and body["error"].startswith(field), body
    assert count_events(db_path) == 0


async def test_participant_and_moderator_write_to_the_same_session(
    client: Any, token: str, db_path: Path
) -> None:
    assert (await post(client, batch(token, clicks(2))))[0] == 200
    path = f"/api/v1/sessions/{token}/events"
    assert await post(client, mod_batch(MODERATOR_EVENTS[:1]), path, headers=ADMIN) == (
        200, {"accepted": 1, "duplicates": 0})  # fmt: skip
    # ... and the participant still may not send the moderator's types.
    task_end = {
        "seq": 9,
        "t": now_ms(),
        "type": "task_end",
        "task": "buy-shoes",
        "outcome": "success",
    }
    assert (await post(client, batch(token, [task_end])))[0] == 400
    assert count_events(db_path) == 3


async def test_a_page_load_key_belongs_to_its_sender(
    client: Any, token: str, db_path: Path
) -> None:
    """The console's batches and the snippet's (with its recordings) never share a page load:
    a batch with another sender's key is a 400 that stores nothing, and each sender's own
    resend is still a duplicate, not a refusal."""
    path = f"/api/v1/sessions/{token}/events"
    assert (await post(client, batch(token, clicks(2), page="load-1")))[0] == 200
    assert (await post(client, mod_batch(MODERATOR_EVENTS[:1], page="console-1"), path,
                       headers=ADMIN))[0] == 200  # fmt: skip
    status, body = await post(client, mod_batch(MODERATOR_EVENTS[1:2], page="load-1"), path,
                              headers=ADMIN)  # fmt: skip
    assert status == 400 and body["error"].startswith("page: 'load-1' is a page load of another")
    status, body = await post(client, batch(token, clicks(2, start=5), page="console-1"))
    assert status == 400 and body["error"].startswith("page: 'console-1'")
    assert await post(client, batch(token, clicks(2), page="load-1")) == (
        200, {"accepted": 0, "duplicates": 2})  # fmt: skip
    assert await post(client, mod_batch(MODERATOR_EVENTS[:1], page="console-1"), path,
                      headers=ADMIN) == (200, {"accepted": 0, "duplicates": 1})  # fmt: skip
    with sqlite3.connect(db_path) as conn:
        loads = conn.execute("SELECT key, source FROM page_loads ORDER BY id").fetchall()
        per_load = conn.execute("SELECT pl.key, count(*) FROM events e JOIN page_loads pl"
                                " ON pl.id = e.load_id GROUP BY pl.key ORDER BY pl.key").fetchall()  # fmt: skip
    assert loads == [("load-1", schema.SOURCE_SNIPPET), ("console-1", schema.SOURCE_MODERATOR)]
    assert per_load == [("console-1", 1), ("load-1", 2)]


async def test_moderator_events_for_unknown_session_are_401(client: Any) -> None:
    path = "/api/v1/sessions/nope/events"
    assert (await post(client, mod_batch(MODERATOR_EVENTS), path, headers=ADMIN))[0] == 401


async def test_sessions_api(client: Any, db_path: Path) -> None:
    path = "/api/v1/studies/checkout-2026/sessions"
    assert (await post(client, {"participant": "P09", "variant": "B"}, path))[0] == 401
    status, body = await post(client, {"participant": "P09", "variant": "B"}, path, headers=ADMIN)
    assert status == 201
    assert body["link"] == f"http://proto.test/B/?uxlab={body['token']}"
    assert (await post(client, {"participant": "P09", "variant": "Z"}, path, headers=ADMIN))[
        0
    ] == 400
    assert (await post(client, {"participant": "", "variant": "B"}, path, headers=ADMIN))[0] == 400
    status, _ = await post(client, {"participant": "P1", "variant": "B"}, "/api/v1/studies/nope/sessions",
                           headers=ADMIN)  # fmt: skip
    assert status == 404


# -- CORS ------------------------------------------------------------------------------------


async def test_cors_for_the_studys_origins(client: Any, token: str, db_path: Path) -> None:
    allowed = {"Origin": "http://proto.test"}
    resp = await client.options(
        "/api/v1/collect", headers={**allowed, "Access-Control-Request-Method": "POST"}
    )
    assert resp.status == 204
    assert resp.headers["Access-Control-Allow-Origin"] == "http://proto.test"
    assert "Content-Type" in resp.headers["Access-Control-Allow-Headers"]
    resp = await client.post(
        "/api/v1/collect", data=orjson.dumps(batch(token, clicks(1))), headers=allowed
    )
    assert resp.status == 200 and resp.headers["Access-Control-Allow-Origin"] == "http://proto.test"
    assert resp.headers["Access-Control-Expose-Headers"] == "Retry-After"
    # Errors are readable by the page too, so the snippet knows not to retry a 400.
    resp = await client.post("/api/v1/collect", data=b"{", headers=allowed)
    assert resp.status == 400 and resp.headers["Access-Control-Allow-Origin"] == "http://proto.test"

    evil = {"Origin": "http://evil.test"}
    resp = await client.options("/api/v1/collect", headers=evil)
    assert resp.status == 403 and "Access-Control-Allow-Origin" not in resp.headers
    resp = await client.post(
        "/api/v1/collect", data=orjson.dumps(batch(token, clicks(2, 5))), headers=evil
    )
    assert resp.status == 403
    assert count_events(db_path) == 1


async def test_snippet_and_health(client: Any) -> None:
    resp = await client.get("/uxlab.js")
    assert resp.status == 200 and resp.content_type == "application/javascript"
    assert len(await resp.read()) > 0
    resp = await client.get("/healthz")
    assert resp.status == 200 and (await resp.json())["status"] == "ok"


async def test_live_feed_gets_committed_events(
    client: Any, token: str, fresh_db: sqlite3.Connection
) -> None:
    from recorder.web import LIVE_KEY

    session = store.find_session(fresh_db, token)
    assert session is not None
    queue = client.server.app[LIVE_KEY].subscribe(session.id)
    assert (await post(client, batch(token, clicks(2))))[0] == 200
    path = f"/api/v1/sessions/{token}/events"
    assert (await post(client, mod_batch(MODERATOR_EVENTS[2:3]), path, headers=ADMIN))[0] == 200
    assert (await post(client, b"{bad"))[0] == 400
    got = [await asyncio.wait_for(queue.get(), 5) for _ in range(3)]
    assert [(e["type"], e["source"]) for e in got] == [
        ("click", "participant"), ("click", "participant"), ("task_end", "moderator")]  # fmt: skip
    assert got[0]["sel"] == "button#go" and got[0]["interactive"] is True
    assert got[2]["outcome"] == "success" and got[2]["task"] == "buy-shoes"
    assert queue.empty()


async def test_in_thread_writer_stores_the_same(
    fresh_db: sqlite3.Connection, db_path: Path, aiohttp_client: Any
) -> None:
    """``writer_process = False`` (one core): the same answers, the same rows."""
    from recorder.server import create_app
    from recorder.settings import Settings

    token = store.new_session(fresh_db, "checkout-2026", "P01", "A").token
    settings = Settings(db=str(db_path), admin_token="test-admin-token", writer_process=False)
    client = await serve_app(aiohttp_client, create_app(settings))
    doc = batch(token, clicks(5))
    assert await post(client, doc) == (200, {"accepted": 5, "duplicates": 0})
    assert await post(client, doc) == (200, {"accepted": 0, "duplicates": 5})
    assert count_events(db_path) == 5


async def test_the_session_token_is_never_stored_in_a_page_url(
    client: Any, token: str, db_path: Path
) -> None:
    t = now_ms()
    events = [
        {"seq": 0, "t": t, "type": "page", "url": f"http://proto.test/A/?uxlab={token}"},
        {
            "seq": 1,
            "t": t + 1,
            "type": "page",
            "url": f"http://proto.test/A/shoes?size=42&uxlab={token}#top",
        },
        {
            "seq": 2,
            "t": t + 2,
            "type": "error",
            "msg": "x",
            "src": f"http://proto.test/A/app.js?uxlab={token}",
        },
    ]
    assert (await post(client, batch(token, events)))[0] == 200
    with sqlite3.connect(db_path) as conn:
        urls = [u for (u,) in conn.execute("SELECT url FROM pages ORDER BY id")]
    assert urls == [
        "http://proto.test/A/",
        "http://proto.test/A/shoes?size=42#top",
        "http://proto.test/A/app.js",
    ]
    with sqlite3.connect(db_path) as conn:
        texts = [t for (t,) in conn.execute(
            "SELECT url FROM pages UNION ALL SELECT text FROM labels UNION ALL SELECT selector FROM targets"
            " UNION ALL SELECT data FROM events WHERE data IS NOT NULL UNION ALL SELECT key FROM page_loads")]  # fmt: skip
    assert texts and not any(token in t for t in texts)
