"""The findings API and observers' notes over real HTTP on a real SQLite file.

Every answer of the README's "Findings": 201/200/204, 409 on a stale
version, 400 naming the field (nothing stored), 401 for nobody or a
participant's token, 403 for an observer's write or the console's cookie
without its CSRF token, 404 for what is not there.
"""

from __future__ import annotations

import copy
import gzip
import re
import sqlite3
from pathlib import Path
from typing import Any

import orjson
import pytest

from recorder import auth as console_auth
from recorder.storage import store
from tests.conftest import now_ms

STUDY = "checkout-2026"
ADMIN = {"Authorization": "Bearer test-admin-token"}
API = f"/api/v1/studies/{STUDY}"
CSRF_RE = re.compile(r'<meta name="csrf-token" content="([^"]*)">')


@pytest.fixture
def sessions(fresh_db: sqlite3.Connection) -> list[store.SessionInfo]:
    """P01 on A (open), P02 on B (closed after its events), P03 on A (no events)."""
    return [
        store.new_session(fresh_db, STUDY, p, v)
        for p, v in (("P01", "A"), ("P02", "B"), ("P03", "A"))
    ]


async def record(client: Any, token: str, seconds: float) -> None:
    """A task attempt of ``seconds`` from the moderator's console, a marker half-way."""
    t = now_ms() - seconds * 1000
    events = [
        {"seq": 0, "t": t, "type": "task_start", "task": "buy-shoes"},
        {"seq": 1, "t": t + seconds * 500, "type": "marker", "kind": "error", "text": "missed the cart"},
        {"seq": 2, "t": t + seconds * 1000, "type": "task_end", "task": "buy-shoes", "outcome": "failure"},
    ]  # fmt: skip
    body = {"v": 1, "page": "console-1", "sent": now_ms(), "events": events}
    resp = await client.post(f"/api/v1/sessions/{token}/events", json=body, headers=ADMIN)
    assert resp.status == 200, await resp.text()


@pytest.fixture
async def recorded(client: Any, sessions: list[store.SessionInfo]) -> list[store.SessionInfo]:
    """P01's session lasts 60 s so far and stays open; P02's lasted 40 s and is closed."""
    await record(client, sessions[0].token, 60)
    await record(client, sessions[1].token, 40)
    resp = await client.post(f"/api/v1/sessions/{sessions[1].token}/close", headers=ADMIN)
    assert resp.status == 200
    return sessions


def good(sessions: list[store.SessionInfo]) -> dict[str, Any]:
    return {
        "title": "Cart link not noticed", "severity": 3, "description": "Two missed it.",
        "recommendation": "Make the cart a button.", "tasks": ["buy-shoes"], "tags": ["navigation"],
        "evidence": [{"session": sessions[0].id, "t_s": 30.0, "text": "where is the cart?"},
                     {"session": sessions[1].id, "t_s": 20}],
        "participants": ["P03"],
    }  # fmt: skip


async def call(client: Any, method: str, path: str, body: Any = None,
               headers: dict[str, str] | None = None) -> tuple[int, Any]:  # fmt: skip
    data = None if body is None else (body if isinstance(body, bytes) else orjson.dumps(body))
    resp = await client.request(
        method, path, data=data, headers=ADMIN if headers is None else headers
    )
    raw = await resp.read()
    return resp.status, orjson.loads(raw) if raw else None


def stored(db_path: Path) -> tuple[int, int, list[Any]]:
    with sqlite3.connect(db_path) as conn:
        return (
            conn.execute("SELECT count(*) FROM findings").fetchone()[0],
            conn.execute("SELECT count(*) FROM finding_evidence").fetchone()[0],
            conn.execute("SELECT title, severity, version FROM findings ORDER BY id").fetchall(),
        )


def observer(client: Any) -> dict[str, str]:
    key = console_auth.observer_key(console_auth.signing_key("test-admin-token"), STUDY)
    return {"X-Observer-Key": key}


# -- the moderator's round trip --------------------------------------------------------------


async def test_create_read_update_delete(client: Any, recorded: list[store.SessionInfo],
                                         db_path: Path) -> None:  # fmt: skip
    status, finding = await call(client, "POST", f"{API}/findings", good(recorded))
    assert status == 201, finding
    assert finding["version"] == 1 and finding["severity_label"] == "major"
    assert [(e["session"], e["t_s"], e["participant"], e["variant"], e["text"]) for e in finding["evidence"]] == [
        (recorded[0].id, 30.0, "P01", "A", "where is the cart?"), (recorded[1].id, 20.0, "P02", "B", None)]  # fmt: skip
    assert finding["participants"] == ["P03"] and finding["tasks"] == ["buy-shoes"]

    status, listed = await call(client, "GET", f"{API}/findings")
    assert status == 200 and listed == {"findings": [finding]}

    path = f"{API}/findings/{finding['id']}"
    status, changed = await call(client, "PATCH", path, {"severity": 4, "version": 1,
                                                         "tags": ["navigation", "cart"]})  # fmt: skip
    assert status == 200 and changed["version"] == 2 and changed["severity"] == 4
    assert changed["title"] == finding["title"] and changed["evidence"] == finding["evidence"]
    assert changed["tags"] == ["navigation", "cart"]

    status, added = await call(client, "PATCH", path, {"version": 2, "add_evidence": [
        {"session": recorded[0].id, "t_s": 10, "text": "hesitated"}]})  # fmt: skip
    assert status == 200 and len(added["evidence"]) == 3 and added["version"] == 3

    # The same observation added again (from the live page, say) is one piece of evidence.
    status, again = await call(client, "PATCH", path, {"version": 3, "add_evidence": [
        {"session": recorded[0].id, "t_s": 10, "text": "hesitated"},
        {"session": recorded[0].id, "t_s": 30.0, "text": "where is the cart?"}]})  # fmt: skip
    assert status == 200 and again["evidence"] == added["evidence"] and again["version"] == 4
    assert stored(db_path)[1] == 3

    status, _ = await call(client, "DELETE", path + "?version=4")
    assert status == 204
    assert stored(db_path) == (0, 0, [])
    assert (await call(client, "PATCH", path, {"title": "gone?", "version": 3}))[0] == 404


async def test_stale_version_is_409_and_changes_nothing(client: Any, recorded: list[store.SessionInfo],
                                                        db_path: Path) -> None:  # fmt: skip
    _, finding = await call(client, "POST", f"{API}/findings", good(recorded))
    path = f"{API}/findings/{finding['id']}"
    assert (await call(client, "PATCH", path, {"title": "First edit", "version": 1}))[0] == 200
    status, body = await call(client, "PATCH", path, {"title": "Second edit", "version": 1})
    assert status == 409 and body["status"] == 409 and "version" in body["error"]
    status, body = await call(client, "DELETE", path + "?version=1")
    assert status == 409
    assert stored(db_path)[2] == [("First edit", 3, 2)]


async def test_unknown_study_and_finding_are_404(
    client: Any, recorded: list[store.SessionInfo]
) -> None:
    assert (await call(client, "GET", "/api/v1/studies/nope/findings"))[0] == 404
    assert (await call(client, "POST", "/api/v1/studies/nope/findings", good(recorded)))[0] == 404
    status, body = await call(client, "PATCH", f"{API}/findings/999", {"title": "x", "version": 1})
    assert status == 404 and "finding 999" in body["error"]
    assert (await call(client, "DELETE", f"{API}/findings/999"))[0] == 404


# -- bad input: 400 naming the field, nothing stored -----------------------------------------

BAD = [
    ({"title": ""}, "title"),
    ({"title": "   "}, "title"),
    ({"title": "x" * 201}, "title"),
    ({"title": 7}, "title"),
    ({"severity": 5}, "severity"),
    ({"severity": -1}, "severity"),
    ({"severity": 2.5}, "severity"),
    ({"severity": "3"}, "severity"),
    ({"severity": True}, "severity"),
    ({"severity": None}, "severity"),
    ({"tasks": ["no-such-task"]}, "tasks"),
    ({"tasks": "buy-shoes"}, "tasks"),
    ({"participants": ["P99"]}, "participants"),
    ({"tags": [""]}, "tags"),
    ({"evidence": [{"session": 99999, "t_s": 1}]}, "evidence[0].session"),
    ({"evidence": [{"session": "1", "t_s": 1}]}, "evidence[0].session"),
    ({"evidence": [{"session": "P02", "t_s": 41}]}, "evidence[0].session"),
    ({"evidence": [{"session": 0, "t_s": -1}]}, "evidence[0].t_s"),
    ({"evidence": [{"session": 0, "t_s": "soon"}]}, "evidence[0].t_s"),
    ({"evidence": [{"session": 1, "t_s": 41}]}, "evidence[0].t_s"),  # past P02's closed 40 s
    ({"evidence": [{"session": 0, "t_s": 5, "who": "x"}]}, "evidence[0].who"),
    ({"evidence": {"session": 0}}, "evidence"),
    ({"colour": "red"}, "colour"),
]


@pytest.mark.parametrize(("change", "field"), BAD, ids=[f"{c}" for c, _ in BAD])
async def test_bad_finding_is_400_naming_the_field(client: Any, recorded: list[store.SessionInfo],
                                                   db_path: Path, change: dict[str, Any],
                                                   field: str) -> None:  # fmt: skip
    body, change = good(recorded), copy.deepcopy(change)
    for moment in change.get("evidence", []) if isinstance(change.get("evidence"), list) else []:
        if isinstance(moment.get("session"), int) and moment["session"] < 10:
            moment["session"] = recorded[moment["session"]].id  # index -> the session's number
    body.update(change)
    status, answer = await call(client, "POST", f"{API}/findings", body)
    assert status == 400, answer
    assert answer["error"].startswith(field + ":") or answer["error"].startswith(field + " "), (
        answer
    )
    assert stored(db_path) == (0, 0, [])


async def test_bad_patch_changes_nothing(
    client: Any, recorded: list[store.SessionInfo], db_path: Path
) -> None:
    _, finding = await call(client, "POST", f"{API}/findings", good(recorded))
    path = f"{API}/findings/{finding['id']}"
    for change, field in [
        *BAD[:10],
        ({"title": "ok"}, "version"),
        ({"title": "ok", "version": "1"}, "version"),
    ]:
        body = {"version": 1, **change} if field != "version" else change
        status, answer = await call(client, "PATCH", path, body)
        assert status == 400 and answer["error"].startswith(field), (change, answer)
    assert stored(db_path) == (1, 2, [("Cart link not noticed", 3, 1)])


@pytest.mark.parametrize("raw", [b"", b"not json", b"[1, 2]", b'"title"'])
async def test_malformed_body_is_400(client: Any, recorded: list[store.SessionInfo], db_path: Path,
                                     raw: bytes) -> None:  # fmt: skip
    status, answer = await call(client, "POST", f"{API}/findings", raw)
    assert status == 400 and answer["status"] == 400
    assert stored(db_path)[0] == 0


async def test_a_gzip_body_is_read_as_on_the_collector(
    client: Any, recorded: list[store.SessionInfo], db_path: Path
) -> None:
    """``Content-Encoding: gzip`` is decoded; a body that does not decode is a 400."""
    headers = {**ADMIN, "Content-Encoding": "gzip"}
    raw = gzip.compress(orjson.dumps(good(recorded)))
    status, answer = await call(client, "POST", f"{API}/findings", raw, headers)
    assert status == 201, answer
    status, answer = await call(client, "POST", f"{API}/findings", orjson.dumps(good(recorded)),
                                headers)  # fmt: skip
    assert status == 400 and "does not decode as its Content-Encoding" in answer["error"]
    assert stored(db_path)[:2] == (1, 2)


# -- who may do what -------------------------------------------------------------------------


async def test_nobody_and_participants_are_refused(client: Any, recorded: list[store.SessionInfo],
                                                   db_path: Path) -> None:  # fmt: skip
    _, finding = await call(client, "POST", f"{API}/findings", good(recorded))
    path = f"{API}/findings/{finding['id']}"
    participant = {"Authorization": f"Bearer {recorded[0].token}"}
    wrong_key = {"X-Observer-Key": "not-the-key"}
    for headers in ({}, participant, wrong_key):
        assert (await call(client, "GET", f"{API}/findings", headers=headers))[0] == 401
        assert (await call(client, "POST", f"{API}/findings", good(recorded), headers))[0] == 401
        assert (await call(client, "PATCH", path, {"title": "x", "version": 1}, headers))[0] == 401
        assert (await call(client, "DELETE", path, headers=headers))[0] == 401
        assert (await call(client, "GET", f"{API}/notes", headers=headers))[0] == 401
        note = f"{API}/sessions/{recorded[0].id}/notes"
        assert (await call(client, "POST", note, {"text": "hi"}, headers))[0] == 401
    assert stored(db_path) == (1, 2, [("Cart link not noticed", 3, 1)])


async def test_observers_read_and_cannot_write(client: Any, recorded: list[store.SessionInfo],
                                               db_path: Path) -> None:  # fmt: skip
    _, finding = await call(client, "POST", f"{API}/findings", good(recorded))
    path, obs = f"{API}/findings/{finding['id']}", observer(client)
    status, listed = await call(client, "GET", f"{API}/findings", headers=obs)
    assert status == 200 and listed["findings"][0]["id"] == finding["id"]
    for method, target, body in (("POST", f"{API}/findings", good(recorded)),
                                 ("PATCH", path, {"title": "x", "version": 1}), ("DELETE", path, None)):  # fmt: skip
        status, answer = await call(client, method, target, body, obs)
        assert status == 403 and "observer" in answer["error"]
    # Another study's observer key opens nothing here.
    other = console_auth.observer_key(console_auth.signing_key("test-admin-token"), "other")
    assert (await call(client, "GET", f"{API}/findings", headers={"X-Observer-Key": other}))[
        0
    ] == 401
    assert stored(db_path) == (1, 2, [("Cart link not noticed", 3, 1)])


async def test_console_cookie_needs_csrf(
    client: Any, recorded: list[store.SessionInfo], db_path: Path
) -> None:
    assert (await client.get("/login?token=test-admin-token", allow_redirects=False)).status == 303
    match = CSRF_RE.search(await (await client.get("/")).text())
    assert match
    status, _ = await call(client, "GET", f"{API}/findings", headers={})
    assert status == 200
    status, answer = await call(client, "POST", f"{API}/findings", good(recorded), {})
    assert status == 403 and "CSRF" in answer["error"]
    assert stored(db_path)[0] == 0
    status, _ = await call(
        client, "POST", f"{API}/findings", good(recorded), {"X-CSRF-Token": match.group(1)}
    )
    assert status == 201


# -- observers' notes ------------------------------------------------------------------------


async def test_observers_and_moderator_take_notes(client: Any, recorded: list[store.SessionInfo],
                                                  db_path: Path) -> None:  # fmt: skip
    first = recorded[0]
    note_path = f"{API}/sessions/{first.id}/notes"
    status, note = await call(client, "POST", note_path, {"text": "  She sighed at the cart.  ",
                                                          "author": "Ana"}, observer(client))  # fmt: skip
    assert status == 201, note
    assert note["text"] == "She sighed at the cart." and note["author"] == "Ana"
    assert note["participant"] == "P01" and note["session"] == first.id
    assert 59 <= note["t_s"] <= 120  # posted now; the session's first event was 60 s ago
    status, note2 = await call(
        client, "POST", note_path, {"text": "second observer"}, observer(client)
    )
    assert status == 201 and note2["author"] == "observer"
    assert (
        await call(client, "POST", note_path, {"text": "from the moderator", "author": "moderator"})
    )[0] == 201
    status, listed = await call(client, "GET", f"{API}/notes", headers=observer(client))
    assert status == 200
    assert [n["text"] for n in listed["notes"]] == ["She sighed at the cart.", "second observer",
                                                   "from the moderator"]  # fmt: skip


@pytest.mark.parametrize(("session", "body", "status", "field"), [
    (0, {"text": ""}, 400, "text"),
    (0, {"text": "x" * 10_001}, 400, "text"),
    (0, {"text": 3}, 400, "text"),
    (0, {"text": "ok", "mood": "sad"}, 400, "mood"),
    (0, ["text"], 400, "body"),
    (99999, {"text": "ok"}, 404, "no session"),
    (1, {"text": "ok"}, 403, "session: session"),  # P02's session is closed
])  # fmt: skip
async def test_bad_note(client: Any, recorded: list[store.SessionInfo], db_path: Path, session: int,
                        body: Any, status: int, field: str) -> None:  # fmt: skip
    number = recorded[session].id if session < 10 else session
    got, answer = await call(
        client, "POST", f"{API}/sessions/{number}/notes", body, observer(client)
    )
    assert got == status and answer["error"].startswith(field), answer
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT count(*) FROM observer_notes").fetchone()[0] == 0


async def test_note_reaches_the_live_page(client: Any, recorded: list[store.SessionInfo]) -> None:
    """A moderator watching the session's WebSocket receives the observer's note as it is stored."""
    first = recorded[0]
    key = observer(client)["X-Observer-Key"]
    async with client.ws_connect(f"/observe/{STUDY}/{key}/sessions/{first.id}/ws") as ws:
        state = orjson.loads((await ws.receive()).data)
        assert state["kind"] == "state"
        status, _ = await call(client, "POST", f"{API}/sessions/{first.id}/notes",
                               {"text": "lost again", "author": "Ana"}, observer(client))  # fmt: skip
        assert status == 201
        message = orjson.loads((await ws.receive(timeout=10)).data)
    assert message["kind"] == "events"
    (event,) = message["events"]
    assert (event["type"], event["source"], event["author"], event["label"]) == ("note", "observer", "Ana",
                                                                                  "lost again")  # fmt: skip
    assert abs(event["ts"] - now_ms()) < 60_000


# -- the console's Findings page -------------------------------------------------------------


async def test_findings_page_for_moderator_observer_and_nobody(
    client: Any, recorded: list[store.SessionInfo]
) -> None:
    _, finding = await call(client, "POST", f"{API}/findings", good(recorded))
    key = observer(client)["X-Observer-Key"]
    resp = await client.get(f"/studies/{STUDY}/findings")
    assert resp.status == 401 and "token" in await resp.text()  # the sign-in form
    assert (await client.get(f"/studies/{STUDY}/findings/data.json")).status == 401
    resp = await client.get(f"/observe/{STUDY}/{key}/findings")
    page = await resp.text()
    assert resp.status == 200 and 'id="new-finding"' not in page and "read-only" in page
    data = await (await client.get(f"/observe/{STUDY}/{key}/findings/data.json")).json()
    assert [f["title"] for f in data["findings"]] == ["Cart link not noticed"]
    assert data["findings"][0]["figures"]["participants_affected"] == 3  # P01, P02 + P03 by hand
    markers = [o for o in data["observations"] if o["source"] == "moderator"]
    assert [(o["participant"], o["kind"], o["task"], o["text"]) for o in markers] == [
        ("P01", "error", "buy-shoes", "missed the cart"), ("P02", "error", "buy-shoes", "missed the cart")]  # fmt: skip
    assert markers[0]["t_s"] == pytest.approx(30.0, abs=0.01)
    assert (await client.get(f"/observe/{STUDY}/wrong-key/findings")).status == 403
    await client.get("/login?token=test-admin-token", allow_redirects=False)
    page = await (await client.get(f"/studies/{STUDY}/findings")).text()
    assert 'id="new-finding"' in page and "console_findings.js" in page
    assert finding["id"]


async def test_a_closed_sessions_notes_count_as_its_moments(client: Any, recorded: list[store.SessionInfo],
                                                           db_path: Path) -> None:  # fmt: skip
    """A note taken after the participant's last event is still evidence once the session closes."""
    first = recorded[0]
    status, note = await call(client, "POST", f"{API}/sessions/{first.id}/notes", {"text": "still talking"},
                              observer(client))  # fmt: skip
    assert status == 201
    with sqlite3.connect(db_path) as conn:  # the note came 20 s after the participant's last event
        conn.execute(
            "UPDATE observer_notes SET t_ms = t_ms + 20000, t_s = t_s + 20 WHERE id = ?",
            (note["id"],),
        )
    assert (await client.post(f"/api/v1/sessions/{first.token}/close", headers=ADMIN)).status == 200
    moment = {"session": first.id, "t_s": note["t_s"] + 20, "text": "still talking"}
    status, _ = await call(client, "POST", f"{API}/findings", {"title": "Talks on", "severity": 1,
                                                              "evidence": [moment]})  # fmt: skip
    assert status == 201
    late = {**moment, "t_s": note["t_s"] + 25}
    status, answer = await call(client, "POST", f"{API}/findings", {"title": "Too late", "severity": 1,
                                                                   "evidence": [late]})  # fmt: skip
    assert status == 400 and answer["error"].startswith("evidence[0].t_s")
