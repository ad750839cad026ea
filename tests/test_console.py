"""The moderator console over real HTTP: sign-in, CSRF, observers, pages, history and live feed.

Every console page and API is tried without sign-in, with a participant's
session token, with a forged or missing CSRF token and with an observer's
link; the refusals must leave the database as it was.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import time
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest

from recorder import auth as console_auth
from recorder.console import pages as console
from recorder.storage import store
from recorder.wire.studyfile import parse_study
from tests.conftest import STUDY_DOC, now_ms

STUDY = "checkout-2026"
ADMIN_TOKEN = "test-admin-token"
CSRF_RE = re.compile(r'<meta name="csrf-token" content="([^"]*)">')


@pytest.fixture
def session(fresh_db: sqlite3.Connection) -> store.SessionInfo:
    """An open session of P01 on variant A."""
    return store.new_session(fresh_db, STUDY, "P01", "A")


async def sign_in(client: Any) -> str:
    """Sign in with the login link; return the page's CSRF token."""
    resp = await client.get(f"/login?token={ADMIN_TOKEN}", allow_redirects=False)
    assert resp.status == 303
    page = await client.get("/")
    assert page.status == 200
    match = CSRF_RE.search(await page.text())
    assert match and match.group(1)
    return match.group(1)


def sign_out(client: Any) -> None:
    client.session.cookie_jar.clear()


def batch(events: list[dict[str, Any]], page: str = "console-1") -> dict[str, Any]:
    return {"v": 1, "page": page, "sent": now_ms(), "events": events}


def moderator_events(t: float | None = None) -> list[dict[str, Any]]:
    t = t or now_ms()
    return [
        {"seq": 0, "t": t, "type": "task_start", "task": "buy-shoes"},
        {"seq": 1, "t": t + 1000, "type": "marker", "kind": "error", "text": "typed into search",
         "task": "buy-shoes"},
        {"seq": 2, "t": t + 2000, "type": "task_end", "task": "buy-shoes", "outcome": "success"},
        {"seq": 3, "t": t + 3000, "type": "rating", "item": "SEQ", "task": "buy-shoes", "value": 6},
    ]  # fmt: skip


def upload(raw: bytes, name: str = "study.toml") -> aiohttp.FormData:
    """A multipart form with a study file, as the console's file input sends it."""
    form = aiohttp.FormData()
    form.add_field("study", raw, filename=name, content_type="application/toml")
    return form


def count(db_path: Path, sql: str) -> int:
    with sqlite3.connect(db_path) as conn:
        return int(conn.execute(sql).fetchone()[0])


def pages(session: store.SessionInfo) -> list[str]:
    return ["/", f"/studies/{STUDY}", f"/studies/{STUDY}/sessions/{session.number}"]


def json_gets(session: store.SessionInfo) -> list[str]:
    return [
        f"/studies/{STUDY}/sessions.json",
        f"/studies/{STUDY}/sessions/{session.number}/state",
        "/api/v1/studies",
        f"/api/v1/studies/{STUDY}",
    ]


def changes(session: store.SessionInfo) -> list[tuple[str, Any]]:
    """Every state-changing request, each with a body that would succeed when authorized."""
    return [
        ("/studies", {"demo": "1"}),
        (f"/api/v1/studies/{STUDY}/sessions", orjson.dumps({"participant": "P09", "variant": "A"})),
        (f"/api/v1/sessions/{session.token}/events", orjson.dumps(batch(moderator_events()))),
        (f"/api/v1/sessions/{session.token}/close", None),
    ]


def nothing_changed(db_path: Path) -> None:
    assert count(db_path, "SELECT count(*) FROM events") == 0
    assert count(db_path, "SELECT count(*) FROM sessions") == 1
    assert count(db_path, "SELECT count(*) FROM sessions WHERE status = 'open'") == 1
    assert count(db_path, "SELECT count(*) FROM studies") == 1


async def assert_json_error(resp: Any, status: int) -> None:
    assert resp.status == status
    body = await resp.json()
    assert body["status"] == status and body["error"]


# -- without sign-in -------------------------------------------------------------------------


async def test_pages_answer_401_with_the_sign_in_form(client: Any, session: Any) -> None:
    for path in pages(session):
        resp = await client.get(path, allow_redirects=False)
        assert resp.status == 401, path
        html = await resp.text()
        assert 'name="token"' in html and 'action="/login"' in html
        assert f'name="next" value="{path}"' in html  # back to this page after signing in
        assert session.token not in html


async def test_json_api_and_websocket_answer_401(client: Any, session: Any, db_path: Path) -> None:
    for path in json_gets(session):
        await assert_json_error(await client.get(path), 401)
    for path, body in changes(session):
        await assert_json_error(await client.post(path, data=body), 401)
    ws_path = f"/studies/{STUDY}/sessions/{session.number}/ws"
    await assert_json_error(await client.get(ws_path), 401)
    nothing_changed(db_path)


async def test_a_participants_token_opens_nothing(client: Any, session: Any, db_path: Path) -> None:
    resp = await client.get(f"/login?token={session.token}", allow_redirects=False)
    assert resp.status == 401
    assert console_auth.COOKIE not in resp.cookies
    resp = await client.post("/login", data={"token": session.token, "next": "/"},
                             allow_redirects=False)  # fmt: skip
    assert resp.status == 401
    assert (await client.get("/", allow_redirects=False)).status == 401
    bearer = {"Authorization": f"Bearer {session.token}"}
    as_cookie = {"Cookie": f"{console_auth.COOKIE}={session.token}"}
    for headers in (bearer, as_cookie):
        for path in pages(session):
            assert (await client.get(path, headers=headers)).status == 401, path
        for path in json_gets(session):
            await assert_json_error(await client.get(path, headers=headers), 401)
        for path, body in changes(session):
            await assert_json_error(await client.post(path, data=body, headers=headers), 401)
    nothing_changed(db_path)


# -- the sign-in cookie and CSRF -------------------------------------------------------------


async def test_sign_in_link_sets_a_signed_http_only_cookie(client: Any) -> None:
    resp = await client.get(f"/login?token={ADMIN_TOKEN}&next=/studies/{STUDY}",
                            allow_redirects=False)  # fmt: skip
    assert resp.status == 303
    assert resp.headers["Location"] == f"/studies/{STUDY}"
    cookie = resp.cookies[console_auth.COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/"
    assert ADMIN_TOKEN not in cookie.value
    assert (await client.get(f"/studies/{STUDY}")).status == 200


async def test_sign_in_form_and_sign_out(client: Any) -> None:
    resp = await client.post("/login", data={"token": "wrong", "next": "/"}, allow_redirects=False)
    assert resp.status == 401
    assert "not the moderator token" in await resp.text()
    resp = await client.post("/login", data={"token": ADMIN_TOKEN, "next": f"/studies/{STUDY}"},
                             allow_redirects=False)  # fmt: skip
    assert (resp.status, resp.headers["Location"]) == (303, f"/studies/{STUDY}")
    csrf = CSRF_RE.search(await (await client.get("/")).text()).group(1)  # type: ignore[union-attr]
    # Signing out needs the page's CSRF token too: another site cannot sign you out.
    resp = await client.post("/logout", data={"csrf": "forged"}, allow_redirects=False)
    assert resp.status == 403
    assert (await client.get("/")).status == 200
    resp = await client.post("/logout", data={"csrf": csrf}, allow_redirects=False)
    assert (resp.status, resp.headers["Location"]) == (303, "/login")
    assert (await client.get("/", allow_redirects=False)).status == 401


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example"])
async def test_sign_in_never_redirects_to_another_site(client: Any, target: str) -> None:
    resp = await client.get("/login", params={"token": ADMIN_TOKEN, "next": target},
                            allow_redirects=False)  # fmt: skip
    assert (resp.status, resp.headers["Location"]) == (303, "/")


async def test_forged_or_expired_cookies_are_refused(client: Any, session: Any) -> None:
    key = console_auth.signing_key(ADMIN_TOKEN)
    now = int(time.time())
    good = console_auth.cookie_value(key, now, "nonce1")
    forged = [
        good[:-2] + ("AA" if not good.endswith("AA") else "BB"),  # a changed signature
        good.replace(f"v1.{now}.", f"v1.{now + 3600}."),  # a changed issue time
        console_auth.cookie_value(console_auth.signing_key("another token"), now, "nonce1"),
        console_auth.cookie_value(key, now - 8 * 86_400, "nonce1"),  # expired
        "",
    ]
    cookie_ok = {"Cookie": f"{console_auth.COOKIE}={good}"}
    assert (await client.get("/", headers=cookie_ok)).status == 200
    for value in forged:
        headers = {"Cookie": f"{console_auth.COOKIE}={value}"}
        for path in pages(session):
            assert (await client.get(path, headers=headers)).status == 401, (value, path)
        for path in json_gets(session):
            await assert_json_error(await client.get(path, headers=headers), 401)


async def test_a_day_old_cookie_is_renewed_and_keeps_its_csrf_token(client: Any) -> None:
    key = console_auth.signing_key(ADMIN_TOKEN)
    old = console_auth.cookie_value(key, int(time.time()) - 2 * 86_400, "nonce2")
    resp = await client.get("/", headers={"Cookie": f"{console_auth.COOKIE}={old}"})
    assert resp.status == 200
    renewed = resp.cookies[console_auth.COOKIE].value
    assert renewed != old and renewed.split(".")[2] == "nonce2"
    assert console_auth.csrf_token(key, "nonce2") in await resp.text()


async def test_changes_need_the_csrf_token(client: Any, session: Any, db_path: Path) -> None:
    other_csrf = await sign_in(client)  # a sign-in of another browser: its token is not ours
    sign_out(client)
    csrf = await sign_in(client)
    assert csrf != other_csrf
    refused = [{}, {"X-CSRF-Token": ""}, {"X-CSRF-Token": "forged" * 5},
               {"X-CSRF-Token": other_csrf},
               {"X-CSRF-Token": csrf, "Origin": "http://evil.example"}]  # fmt: skip
    for headers in refused:
        for path, body in changes(session):
            resp = await client.post(path, data=body, headers=headers)
            await assert_json_error(resp, 403)
    nothing_changed(db_path)
    # With its own token the same requests go through (so the refusals were about CSRF).
    for path, body in changes(session):
        resp = await client.post(path, data=body, headers={"X-CSRF-Token": csrf})
        assert resp.status in (200, 201), (path, await resp.text())
    assert count(db_path, "SELECT count(*) FROM events") == 4
    assert count(db_path, "SELECT count(*) FROM sessions WHERE status = 'closed'") == 1


async def test_the_bearer_token_still_works_without_a_cookie(client: Any, session: Any) -> None:
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    resp = await client.post(f"/api/v1/sessions/{session.token}/events",
                             data=orjson.dumps(batch(moderator_events())), headers=headers)  # fmt: skip
    assert resp.status == 200
    resp = await client.get(f"/studies/{STUDY}/sessions/{session.number}/state", headers=headers)
    assert resp.status == 401  # the console's own endpoints are for signed-in browsers


# -- observers -------------------------------------------------------------------------------


async def observer_link(client: Any) -> str:
    html = await (await client.get(f"/studies/{STUDY}")).text()
    match = re.search(r'id="observer-link"[^>]*value="http://[^/]+(/observe/[^"]+)"', html)
    assert match, html
    return match.group(1)


async def test_an_observer_sees_the_study_and_its_live_sessions(
    client: Any, session: Any, fresh_db: sqlite3.Connection
) -> None:
    await sign_in(client)
    base = await observer_link(client)
    sign_out(client)
    resp = await client.get(base)
    assert resp.status == 200
    html = await resp.text()
    assert "Observer · read-only" in html and session.token not in html
    assert 'id="new-session"' not in html and 'id="observer-link"' not in html
    sessions = (await (await client.get(f"{base}/sessions.json")).json())["sessions"]
    assert [(s["participant"], s["status"]) for s in sessions] == [("P01", "open")]
    assert "token" not in sessions[0] and "link" not in sessions[0]
    resp = await client.get(f"{base}/sessions/{session.number}")
    html = await resp.text()
    assert resp.status == 200 and session.token not in html
    assert 'data-marker="error"' not in html and 'id="close-session"' not in html
    async with client.ws_connect(f"{base}/sessions/{session.number}/ws") as ws:
        first = await ws.receive_json(timeout=5)
        assert first["kind"] == "state" and first["status"] == "open"


async def test_an_observer_link_changes_nothing(client: Any, session: Any, db_path: Path) -> None:
    await sign_in(client)
    base = await observer_link(client)
    key = base.rsplit("/", 1)[1]
    sign_out(client)
    for headers in ({"Authorization": f"Bearer {key}"},
                    {"Cookie": f"{console_auth.COOKIE}={key}"}):  # fmt: skip
        for path, body in changes(session):
            await assert_json_error(await client.post(path, data=body, headers=headers), 401)
        assert (await client.get("/", headers=headers)).status == 401
    for path in (base, f"{base}/sessions.json", f"{base}/sessions/{session.number}"):
        assert (await client.post(path, data=b"{}")).status == 405
    nothing_changed(db_path)


async def test_an_observer_link_opens_only_its_own_study(
    client: Any, session: Any, fresh_db: sqlite3.Connection
) -> None:
    other = dict(STUDY_DOC, id="other-study")
    store.save_study(fresh_db, parse_study(other))
    store.new_session(fresh_db, "other-study", "P00", "A")
    other_session = store.new_session(fresh_db, "other-study", "P01", "A")
    assert other_session.number == 2  # numbers count per study: this study has only session 1
    await sign_in(client)
    key = (await observer_link(client)).rsplit("/", 1)[1]
    sign_out(client)
    for path in (f"/observe/other-study/{key}", f"/observe/other-study/{key}/sessions.json",
                 f"/observe/{STUDY}/{key}x", f"/observe/{STUDY}/{'A' * 22}"):  # fmt: skip
        assert (await client.get(path)).status == 403, path
    # A session of another study is not found under this study's link.
    resp = await client.get(f"/observe/{STUDY}/{key}/sessions/{other_session.number}/state")
    await assert_json_error(resp, 404)


# -- studies and sessions --------------------------------------------------------------------


async def test_studies_page_lists_studies(client: Any) -> None:
    await sign_in(client)
    html = await (await client.get("/")).text()
    assert "Checkout redesign" in html and f'href="/studies/{STUDY}"' in html


async def test_create_and_update_a_study_from_an_upload_or_a_path(
    client: Any, tmp_path: Path, db_path: Path
) -> None:
    csrf = await sign_in(client)
    headers = {"X-CSRF-Token": csrf}
    text = (Path(__file__).parent.parent / "recorder" / "demo" / "study.toml").read_text()
    resp = await client.post("/studies", data=upload(text.encode()), headers=headers)
    assert resp.status == 201
    assert await resp.json() == {"study": "demo-shop", "created": True, "url": "/studies/demo-shop"}
    path = tmp_path / "renamed.toml"
    path.write_text(text.replace('name = "Stride demo shop', 'name = "Renamed shop'))
    resp = await client.post("/studies", data={"path": str(path)}, headers=headers)
    assert (resp.status, (await resp.json())["created"]) == (200, False)
    with sqlite3.connect(db_path) as conn:
        name = conn.execute("SELECT name FROM studies WHERE id = 'demo-shop'").fetchone()[0]
    assert name.startswith("Renamed shop")


@pytest.mark.parametrize(
    ("form", "message"),
    [
        (b"id = 'x'\n[[variants", "not valid TOML"),
        (b"id = 'x'\nname = 'X'", "variants"),
        (b"\xff\xfe", "not UTF-8"),
        (
            b"id = 'x'\n[questionaires]\n",
            "questionaires: unknown key (did you mean 'questionnaires'?)",
        ),
        ({"path": "/no/such/study.toml"}, "cannot read"),
        ({}, "upload a study file"),
    ],
)
async def test_a_bad_study_file_is_refused_with_its_reason(
    client: Any, form: bytes | dict[str, Any], message: str
) -> None:
    csrf = await sign_in(client)
    data = upload(form) if isinstance(form, bytes) else form
    resp = await client.post("/studies", data=data, headers={"X-CSRF-Token": csrf})
    await assert_json_error(resp, 400)
    assert message in (await resp.json())["error"]


async def test_demo_study_points_at_this_server(client: Any, db_path: Path) -> None:
    csrf = await sign_in(client)
    resp = await client.post("/studies", data={"demo": "1"}, headers={"X-CSRF-Token": csrf})
    assert resp.status == 201
    with sqlite3.connect(db_path) as conn:
        urls = [r[0] for r in conn.execute("SELECT url FROM variants WHERE study_id = 'demo-shop'")]
    assert urls == [f"http://{client.host}:{client.port}/demo/A/",
                    f"http://{client.host}:{client.port}/demo/B/"]  # fmt: skip


async def test_the_console_opens_and_closes_sessions(client: Any, db_path: Path) -> None:
    csrf = await sign_in(client)
    headers = {"X-CSRF-Token": csrf}
    resp = await client.post(f"/api/v1/studies/{STUDY}/sessions",
                             data=orjson.dumps({"participant": "P07", "variant": "B"}), headers=headers)  # fmt: skip
    assert resp.status == 201
    created = await resp.json()
    assert created["link"] == f"http://proto.test/B/?uxlab={created['token']}"
    html = await (await client.get(f"/studies/{STUDY}")).text()
    assert created["link"] in html  # the study page offers the link again
    resp = await client.post(f"/api/v1/sessions/{created['token']}/close", headers=headers)
    assert (resp.status, (await resp.json())["status"]) == (200, "closed")
    sessions = (await (await client.get(f"/studies/{STUDY}/sessions.json")).json())["sessions"]
    assert [(s["participant"], s["variant"], s["status"]) for s in sessions] == [
        ("P07", "B", "closed")
    ]


async def test_sessions_show_their_progress(client: Any, session: Any) -> None:
    csrf = await sign_in(client)
    start = {"seq": 4, "t": now_ms(), "type": "task_start", "task": "find-help"}
    events = [*moderator_events()[:3], start]
    resp = await client.post(f"/api/v1/sessions/{session.token}/events", data=orjson.dumps(batch(events)),
                             headers={"X-CSRF-Token": csrf})  # fmt: skip
    assert resp.status == 200
    body = await (await client.get(f"/studies/{STUDY}/sessions.json")).json()
    (row,) = body["sessions"]
    assert (row["events"], row["tasks_done"], row["current_task"]) == (4, 1, "find-help")
    assert row["last_event_at"] == pytest.approx(time.time(), abs=30)
    assert row["url"] == f"/studies/{STUDY}/sessions/{session.number}"


# -- the live session ------------------------------------------------------------------------


async def collect(client: Any, token: str, events: list[dict[str, Any]], page: str = "p-1") -> None:
    doc = {"v": 1, "session": token, "page": page, "sent": now_ms(), "events": events}
    resp = await client.post("/api/v1/collect", data=orjson.dumps(doc))
    assert resp.status == 200, await resp.text()


async def test_state_rebuilds_the_session_from_the_database(client: Any, session: Any) -> None:
    csrf = await sign_in(client)
    t = now_ms()
    await collect(client, session.token, [
        {"seq": 0, "t": t - 500, "type": "page", "url": "http://proto.test/A/", "title": "Home"},
        {"seq": 1, "t": t + 1500, "type": "click", "x": 5, "y": 6, "sel": "#go", "label": "Go",
         "interactive": True},
    ])  # fmt: skip
    resp = await client.post(f"/api/v1/sessions/{session.token}/events",
                             data=orjson.dumps(batch(moderator_events(t))), headers={"X-CSRF-Token": csrf})  # fmt: skip
    assert resp.status == 200
    state = await (await client.get(f"/studies/{STUDY}/sessions/{session.number}/state")).json()
    assert state["status"] == "open"
    assert state["server_now"] == pytest.approx(now_ms(), abs=5000)
    got = [(e["source"], e["type"], e.get("task"), e.get("outcome") or e.get("kind") or e.get("item"))
           for e in state["events"]]  # fmt: skip
    assert got == [
        ("participant", "page", None, None),
        ("moderator", "task_start", "buy-shoes", None),
        ("moderator", "marker", "buy-shoes", "error"),
        ("participant", "click", None, None),
        ("moderator", "task_end", "buy-shoes", "success"),
        ("moderator", "rating", "buy-shoes", "SEQ"),
    ]
    marker = state["events"][2]
    assert (marker["label"], marker["load"], marker["seq"]) == ("typed into search", "console-1", 1)
    assert all(abs(e["ts"] - e["t"]) < 5000 for e in state["events"])  # same clock here


async def test_the_websocket_sends_history_then_live_events(client: Any, session: Any) -> None:
    await sign_in(client)
    await collect(client, session.token, [{"seq": 0, "t": now_ms(), "type": "page",
                                           "url": "http://proto.test/A/"}])  # fmt: skip
    async with client.ws_connect(f"/studies/{STUDY}/sessions/{session.number}/ws") as ws:
        state = await ws.receive_json(timeout=5)
        assert state["kind"] == "state"
        assert [e["type"] for e in state["events"]] == ["page"]
        await collect(client, session.token, [{"seq": 1, "t": now_ms(), "type": "click", "x": 1,
                                               "y": 2, "sel": "#buy", "interactive": True}])  # fmt: skip
        message = await ws.receive_json(timeout=5)
        assert message["kind"] == "events"
        (click,) = message["events"]
        assert (click["type"], click["sel"], click["source"]) == ("click", "#buy", "participant")
        assert click["ts"] == pytest.approx(now_ms(), abs=5000)


async def test_the_websocket_refuses_other_sites(client: Any, session: Any) -> None:
    await sign_in(client)
    path = f"/studies/{STUDY}/sessions/{session.number}/ws"
    resp = await client.get(path, headers={"Origin": "http://evil.example", "Upgrade": "websocket",
                                           "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
                                           "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="})  # fmt: skip
    await assert_json_error(resp, 403)


async def test_the_websocket_reports_a_session_closed_elsewhere(
    client: Any, session: Any, fresh_db: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(console, "STATUS_POLL_S", 0.1)
    await sign_in(client)
    async with client.ws_connect(f"/studies/{STUDY}/sessions/{session.number}/ws") as ws:
        assert (await ws.receive_json(timeout=5))["kind"] == "state"
        store.close_session(fresh_db, session.token)  # e.g. `uxlab session close` in a terminal
        assert await ws.receive_json(timeout=5) == {"kind": "status", "status": "closed"}


async def test_session_page_carries_what_the_console_needs(client: Any, session: Any) -> None:
    await sign_in(client)
    html = await (await client.get(f"/studies/{STUDY}/sessions/{session.number}")).text()
    match = re.search(
        r'<script type="application/json" id="console-config">(.*?)</script>', html, re.S
    )
    assert match
    config = orjson.loads(match.group(1))
    assert config["role"] == "moderator"
    # By study and number: the participant's write token stays out of URLs (and proxy logs).
    assert config["urls"]["events"] == f"/api/v1/studies/{STUDY}/sessions/{session.id}/events"
    assert config["urls"]["close"] == f"/api/v1/studies/{STUDY}/sessions/{session.id}/close"
    assert [t["id"] for t in config["study"]["tasks"]] == ["buy-shoes", "find-help", "subscribe"]
    assert config["study"]["tasks"][0]["success"] == {"url": "/cart"}
    assert config["session"]["variant_url"] == "http://proto.test/A/"
    assert not re.search(r'(?:src|href)="https?://', html)  # nothing from other sites


async def test_an_unknown_session_is_404(client: Any, session: Any) -> None:
    await sign_in(client)
    resp = await client.get(f"/studies/{STUDY}/sessions/999")
    assert resp.status == 404 and "no session 999" in await resp.text()
    await assert_json_error(await client.get(f"/studies/{STUDY}/sessions/999/state"), 404)
    resp = await client.get("/studies/no-such-study")
    assert resp.status == 404 and "no study" in await resp.text()


async def test_static_files_are_served_and_others_are_not(client: Any) -> None:
    for name in console.STATIC_FILES:
        resp = await client.get(f"/console/static/{name}")
        assert resp.status == 200 and len(await resp.read()) > 1000
    assert (await client.get("/console/static/..%2Fapp.py")).status == 404
    assert (await client.get("/console/static/uxlab.js")).status == 404


# -- small helpers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("existing", "expected"),
    [([], "P01"), (["P01", "P02"], "P03"), (["P09", "P10"], "P11"), (["U007", "x"], "U008")],
)
def test_next_participant(existing: list[str], expected: str) -> None:
    assert console.next_participant(existing) == expected


def test_next_variant_balances_the_design() -> None:
    study = parse_study(STUDY_DOC)
    assert console.next_variant(study, []) == "A"
    assert console.next_variant(study, [{"variant": "A"}]) == "B"
    assert console.next_variant(study, [{"variant": "A"}, {"variant": "B"}]) == "A"


async def test_a_slow_console_does_not_hold_up_the_collector(client: Any, session: Any) -> None:
    """Ten watchers and a burst of participant events: every batch is acknowledged."""
    await sign_in(client)
    sockets = [
        await client.ws_connect(f"/studies/{STUDY}/sessions/{session.number}/ws") for _ in range(10)
    ]
    try:
        for ws in sockets:
            assert (await ws.receive_json(timeout=5))["kind"] == "state"
        t = now_ms()
        await asyncio.gather(*(collect(client, session.token, [
            {"seq": i, "t": t + i, "type": "scroll", "depth": 50}], page=f"p-{i}") for i in range(50)))  # fmt: skip
        seen = 0
        while seen < 50:
            seen += len((await sockets[-1].receive_json(timeout=5))["events"])
        assert seen == 50
    finally:
        for ws in sockets:
            await ws.close()


# -- studies without their optional sections (issue 12, item 10) ------------------------------


def _without(path: str) -> dict[str, Any]:
    """The test study with one optional part removed (``tasks.*.key`` from every task)."""
    doc = orjson.loads(orjson.dumps(STUDY_DOC))
    doc["id"] = "bare"
    table, _, key = path.partition(".")
    if table == "tasks":
        for task in doc["tasks"]:
            task.pop(key.removeprefix("*."), None)
    elif key:
        doc[table].pop(key)
    else:
        doc.pop(table)
    return doc


OPTIONAL_PARTS = ["questionnaires", "questionnaires.after_task", "questionnaires.after_session",
                  "origins", "name", "tasks.*.prompt", "tasks.*.success", "tasks.*.expected_path"]  # fmt: skip
HTML = {"Accept": "text/html,application/xhtml+xml"}


@pytest.mark.parametrize("absent", OPTIONAL_PARTS)
async def test_every_page_of_a_study_without_an_optional_part(
    client: Any, fresh_db: sqlite3.Connection, absent: str
) -> None:
    store.save_study(fresh_db, parse_study(_without(absent)))
    bare = store.new_session(fresh_db, "bare", "P01", "A")
    await sign_in(client)
    events = moderator_events()[:3]  # a task started, a marker, the task ended
    resp = await client.post(f"/api/v1/sessions/{bare.token}/events", data=orjson.dumps(batch(events)),
                             headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})  # fmt: skip
    assert resp.status == 200, await resp.text()
    html = await (await client.get("/studies/bare", headers=HTML)).text()
    base = "/studies/bare"
    observer = re.search(r'id="observer-link"[^>]*value="https?://[^/]+([^"]+)"', html)
    assert observer, html
    for prefix in (base, observer.group(1)):
        for path in ("", "/sessions.json", "/sessions/1", "/sessions/1/state", "/report"):
            resp = await client.get(prefix + path, headers=HTML)
            assert resp.status == 200, (prefix + path, await resp.text())
    assert (await client.get("/", headers=HTML)).status == 200


async def test_errors_in_a_browser_are_pages_and_stay_json_for_the_api(
    client: Any, session: Any
) -> None:
    await sign_in(client)
    for path in (f"/studies/{STUDY}/sessions/999", f"/studies/{STUDY}/sessions/999/state",
                 f"/studies/{STUDY}/sessions/abc", "/no-such-page"):  # fmt: skip
        resp = await client.get(path, headers=HTML)
        assert resp.status == 404 and resp.content_type == "text/html", path
        text = await resp.text()
        assert "<!doctype html>" in text and '"error"' not in text
    for path in (f"/studies/{STUDY}/sessions/999/state", "/api/v1/studies/nope"):
        await assert_json_error(await client.get(path), 404)
        await assert_json_error(await client.get(path, headers={"Accept": "application/json"}), 404)
    await assert_json_error(await client.get("/api/v1/studies/nope", headers=HTML), 404)


async def test_console_urls_and_rows_use_the_number_within_the_study(
    client: Any, fresh_db: sqlite3.Connection
) -> None:
    other = dict(STUDY_DOC, id="other-study")
    store.save_study(fresh_db, parse_study(other))
    for participant in ("P01", "P02"):  # ids 1 and 2 go to the other study
        store.new_session(fresh_db, "other-study", participant, "A")
    mine = store.new_session(fresh_db, STUDY, "P07", "B")
    assert (mine.id, mine.number) == (3, 1)
    await sign_in(client)
    rows = (await (await client.get(f"/studies/{STUDY}/sessions.json")).json())["sessions"]
    assert [(r["number"], r["url"]) for r in rows] == [(1, f"/studies/{STUDY}/sessions/1")]
    assert "id" not in rows[0]
    html = await (await client.get(f"/studies/{STUDY}/sessions/1")).text()
    assert "Session 1:" in html and "P07" in html
    assert (await client.get(f"/studies/{STUDY}/sessions/3")).status == 404
    resp = await client.post(f"/api/v1/studies/{STUDY}/sessions", data=orjson.dumps(
        {"participant": "P08", "variant": "A"}), headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})  # fmt: skip
    assert (await resp.json())["session"] == 2


async def test_the_study_page_warns_of_links_to_another_port(
    client: Any, fresh_db: sqlite3.Connection
) -> None:
    await sign_in(client)
    here = f"http://127.0.0.1:{client.port}"
    for study_id, base in (("elsewhere", "http://127.0.0.1:8642"), ("here", here)):
        doc = dict(STUDY_DOC, id=study_id, origins=[base],
                   variants=[{"id": "A", "url": f"{base}/demo/A/"}])  # fmt: skip
        store.save_study(fresh_db, parse_study(doc))
    html = await (await client.get("/studies/elsewhere")).text()
    assert 'id="link-warning"' in html and "points at port 8642" in html
    assert f'this console is at <span class="mono">{here}</span>' in html
    assert "edit the variant urls of elsewhere&#39;s study file to start with " + here in html
    assert "uxlab study create FILE --db " in html  # the database this server uses
    assert 'id="link-warning"' not in await (await client.get("/studies/here")).text()
    assert 'id="link-warning"' not in await (await client.get(f"/studies/{STUDY}")).text()


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        ({"text": "x"}, "events[0].marker: must be {page, seq}"),
        ({"marker": {"seq": 1}, "text": "x"}, "events[0].marker.page: required"),
        ({"marker": {"page": "console-1", "seq": -1}}, "events[0].marker.seq: out of range"),
        (
            {"marker": {"page": "console-1", "seq": 1}, "text": 5},
            "events[0].text: must be a string",
        ),
    ],
)
async def test_a_bad_marker_text_is_refused_naming_the_field(
    client: Any, session: Any, db_path: Path, edit: dict[str, Any], field: str
) -> None:
    event = {"seq": 0, "t": now_ms(), "type": "marker_text", **edit}
    resp = await client.post(f"/api/v1/sessions/{session.token}/events", data=orjson.dumps(batch([event])),
                             headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})  # fmt: skip
    await assert_json_error(resp, 400)
    assert (await resp.json())["error"].startswith(field)
    assert count(db_path, "SELECT count(*) FROM events") == 0
