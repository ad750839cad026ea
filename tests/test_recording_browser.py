"""Recordings in real Chromium against a real ``uxlab serve`` and the demo shop.

A study with ``replay = true`` has the snippet load rrweb's recorder; what it
recorded is read back from the SQLite file (and its WAL), replayed in the
console's player, mirrored live and cut into a clip.
"""

from __future__ import annotations

import gzip
import re
import sqlite3
import subprocess
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.conftest import DEMO_STUDY, Server, uxlab_cmd

pytestmark = pytest.mark.browser

STUDY = "demo-shop"
VIEWPORT = {"width": 1200, "height": 800}
TYPED = {"name": "Jane Q. Tester", "email": "jane.tester@example.org", "address": "1 Secret Lane",
         "zip": "90210", "card": "4000 0566 5566 5556", "expiry": "11/29"}  # fmt: skip
SECRETS = ["Jane Q. Tester", "jane.tester", "Secret Lane", "0566 5566", "11/29", "90210"]


def holds(data: str | bytes, secret: str) -> bool:
    """Whether ``data`` holds the typed ``secret``. A secret of digits alone (the ZIP code)
    counts only where no digit stands beside it: rrweb's millisecond timestamps are long runs
    of digits that contain any five-digit number now and then (a flaky test otherwise)."""
    text = data.decode("latin-1") if isinstance(data, bytes) else data
    if secret.isdigit():
        return re.search(rf"(?<![0-9]){secret}(?![0-9])", text) is not None
    return secret in text


CHUNKS_SQL = """
    SELECT pl.key, r.seq, r.data FROM recordings r JOIN sessions s ON s.id = r.session_id
    JOIN page_loads pl ON pl.id = r.load_id WHERE s.token = ? ORDER BY r.load_id, r.seq
"""


def load_demo(server: Server, replay: bool, extra: str = "") -> None:
    """The demo study, pointed at this server, with or without ``replay = true``."""
    text = DEMO_STUDY.read_text().replace("http://127.0.0.1:8642", server.url)
    if replay:
        text = text.replace("\n[[variants]]", f"replay = true\n{extra}\n[[variants]]", 1)
    path = server.db_path.with_name("study.toml")
    path.write_text(text)
    subprocess.run(uxlab_cmd("study", "create", str(path), "--db", str(server.db_path)),
                   capture_output=True, text=True, check=True)  # fmt: skip


def chunks(server: Server, token: str) -> list[tuple[str, int, list[dict[str, Any]]]]:
    """The stored chunks of a session: (page load, seq, rrweb events)."""
    conn = sqlite3.connect(f"file:{server.db_path}?mode=ro", uri=True)
    try:
        rows = conn.execute(CHUNKS_SQL, (token,)).fetchall()
    finally:
        conn.close()
    return [(load, seq, orjson.loads(zlib.decompress(data))) for load, seq, data in rows]


def wait_for(probe: Callable[[], Any], page: Any = None, timeout: float = 30.0) -> Any:
    """Poll until ``probe()`` is truthy (letting the page's routes run meanwhile)."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        if page is None:
            time.sleep(0.1)
        else:
            page.wait_for_timeout(100)


def complete(found: list[tuple[str, int, Any]]) -> bool:
    """Every page load's chunks are 0..n-1, none missing."""
    seqs: dict[str, list[int]] = {}
    for load, seq, _ in found:
        seqs.setdefault(load, []).append(seq)
    return all(sorted(s) == list(range(len(s))) for s in seqs.values())


def text_of(found: list[tuple[str, int, list[dict[str, Any]]]]) -> str:
    return "\n".join(orjson.dumps(events).decode() for _, _, events in found)


def file_bytes(db_path: Path) -> bytes:
    """Every byte of the database: the main file, its WAL and shared memory."""
    parts = [p.read_bytes() for p in (db_path, db_path.with_name(db_path.name + "-wal"))
             if p.exists()]  # fmt: skip
    return b"".join(parts)


@pytest.fixture
def participant(server: Server, browser: Any) -> Iterator[Callable[[], Any]]:
    contexts: list[Any] = []

    def new_page() -> Any:
        context = browser.new_context(viewport=VIEWPORT)
        contexts.append(context)
        return context.new_page()

    yield new_page
    for context in contexts:
        context.close()


def link(server: Server, token: str, path: str = "/", variant: str = "B") -> str:
    return f"{server.url}/demo/{variant}{path}?uxlab={token}"


def test_a_visit_is_recorded_and_no_secret_is_in_any_stored_byte(
    server: Server, participant: Callable[[], Any]
) -> None:
    load_demo(server, replay=True, extra='replay_mask = ["#product-name"]')
    token = server.new_session(STUDY, "P01", "B")
    page = participant()
    bodies: list[bytes] = []
    page.on("request", lambda r: r.method == "POST" and bodies.append(r.post_data_buffer or b""))
    page.goto(link(server, token, "/shoes/42"))
    wait_for(lambda: chunks(server, token), page)
    page.click("#add-to-cart")
    with page.expect_navigation():
        page.click("#view-cart")
    with page.expect_navigation():
        page.click("#checkout-button")
    for name, value in TYPED.items():
        page.fill(f"#{name}", value)
    with page.expect_navigation():
        page.click("#place-order")
    page.wait_for_url(re.compile(r"/done$"))
    assert page.locator("#order-email").inner_text() == TYPED["email"]
    page.wait_for_timeout(1500)
    page.close()

    found = wait_for(
        lambda: (c := chunks(server, token)) and len({x[0] for x in c}) == 4 and c, None
    )
    assert complete(found)
    loads = {}
    for load, _, events in found:
        loads.setdefault(load, []).extend(events)
    for events in loads.values():  # each page load starts with its meta and full snapshot
        types = [e["type"] for e in events]
        assert types.index(4) < types.index(2) < types.index(3) if 3 in types else types.index(2)
        meta = events[types.index(4)]
        assert meta["data"]["href"].startswith(server.url + "/demo/B/")
        assert "uxlab=" not in meta["data"]["href"]  # the session token is not stored
    recorded = text_of(found)
    assert "Go to checkout" in recorded  # the page itself is there
    assert "Add to cart" in recorded
    for secret in SECRETS:
        assert not holds(recorded, secret), secret
    # Masked text (the study's #product-name, the page's data-uxlab-mask) is asterisks.
    assert "*****" in recorded
    # No request body carried a secret (gzip bodies unpacked).
    for body in bodies:
        text = gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body
        for secret in SECRETS:
            assert not holds(text, secret), secret
    # And no byte of the database files holds one, compressed or not.
    server.stop()
    raw = file_bytes(server.db_path)
    for secret in SECRETS:
        assert not holds(raw, secret), secret
    conn = sqlite3.connect(server.db_path)
    stored = b"".join(zlib.decompress(r[0]) for r in conn.execute("SELECT data FROM recordings"))
    conn.close()
    for secret in SECRETS:
        assert not holds(stored, secret), secret
    server.start()


def test_a_study_without_replay_loads_no_recorder_and_stores_no_recording(
    server: Server, participant: Callable[[], Any]
) -> None:
    load_demo(server, replay=False)
    token = server.new_session(STUDY, "P01", "B")
    page = participant()
    scripts: list[str] = []
    page.on("request", lambda r: scripts.append(r.url))
    page.goto(link(server, token, "/help"))
    page.click("#tab-returns")
    page.wait_for_timeout(2000)
    assert any(u.endswith("/uxlab.js") for u in scripts)
    assert not any("uxlab-replay" in u or "/api/v1/replay" in u for u in scripts)
    assert page.evaluate("window.uxlab.r") is None
    assert chunks(server, token) == []


def test_the_collector_down_for_30_s_mid_visit_loses_no_part_of_the_recording(
    server: Server, participant: Callable[[], Any]
) -> None:
    load_demo(server, replay=True)
    token = server.new_session(STUDY, "P01", "B")
    page = participant()
    page.goto(link(server, token, "/help"))
    wait_for(lambda: chunks(server, token), page)
    server.stop()
    for tab in ("#tab-returns", "#tab-payment", "#tab-returns", "#tab-payment"):
        page.click(tab)
        page.mouse.move(100, 300)
        page.wait_for_timeout(7500)  # 30 s in all: several sends fail and back off
    pending = page.evaluate("uxlab.r.stats()")
    assert pending["queued"] > 0  # the chunks wait in the outbox
    server.start()
    page.click("#tab-returns")

    def settled() -> Any:
        """The stored chunks once exactly the chunks cut so far are stored and none waits to
        be sent (the recorder goes on cutting one every 500 ms: the count is read each time;
        a lost or doubled chunk never settles)."""
        stats = page.evaluate("uxlab.r.stats()")
        found = chunks(server, token)
        return stats["queued"] == 0 and len(found) == stats["seq"] and found

    found = wait_for(settled, page, 90)
    assert complete(found)
    # The clicks made while the collector was down are in the recording.
    clicks = [e for _, _, events in found for e in events
              if e["type"] == 3 and e["data"].get("source") == 2 and e["data"].get("type") == 2]  # fmt: skip
    assert len(clicks) >= 5


def test_past_the_cap_the_recording_stops_and_events_go_on(
    db_path: Path, browser: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UXLAB_REPLAY_MAX_MB", "0")  # every chunk is past the cap
    server = Server(db_path).start()
    try:
        load_demo(server, replay=True)
        token = server.new_session(STUDY, "P01", "B")
        context = browser.new_context(viewport=VIEWPORT)
        page = context.new_page()
        answers: list[int] = []
        page.on("response", lambda r: "/api/v1/replay" in r.url and answers.append(r.status))
        page.goto(link(server, token, "/help"))
        wait_for(lambda: 413 in answers, page)
        page.click("#tab-returns")
        page.wait_for_timeout(1500)
        assert set(answers) == {413}
        count = len(answers)
        page.click("#tab-payment")
        page.wait_for_timeout(1500)
        assert len(answers) == count  # stopped: nothing more is sent
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        clicks = conn.execute("SELECT count(*) FROM events WHERE type = 2").fetchone()[0]
        conn.close()
        assert clicks == 2  # the snippet's events went on
        assert chunks(server, token) == []
        context.close()
    finally:
        server.stop()


def sign_in(browser: Any, server: Server, target: str) -> Any:
    """The moderator's console page ``target``, signed in."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(f"{server.url}/login?token={server.admin_token}&next={target}")
    return page


def marker(server: Server, token: str, kind: str, text: str, seq: int) -> None:
    """A moderator marker, now, through the moderator API."""
    t = time.time() * 1000.0
    doc = {"v": 1, "page": "console-test", "sent": t,
           "events": [{"seq": seq, "t": t, "type": "marker", "kind": kind, "text": text}]}  # fmt: skip
    status, answer = server.request(
        "POST", f"/api/v1/sessions/{token}/events", doc, server.admin_token
    )
    assert status == 200, answer


def session_id(server: Server, token: str) -> int:
    conn = sqlite3.connect(f"file:{server.db_path}?mode=ro", uri=True)
    try:
        return int(conn.execute("SELECT id FROM sessions WHERE token = ?", (token,)).fetchone()[0])
    finally:
        conn.close()


def replayed_text(page: Any) -> str:
    return str(page.frame_locator("#player iframe").locator("body").inner_text())


def test_the_replay_at_a_markers_moment_shows_the_page_at_that_moment(
    server: Server, participant: Callable[[], Any], browser: Any
) -> None:
    load_demo(server, replay=True)
    token = server.new_session(STUDY, "P01", "B")
    page = participant()
    page.goto(link(server, token, "/help"))
    wait_for(lambda: chunks(server, token), page)
    page.click("#tab-returns")
    page.wait_for_timeout(2000)
    marker(server, token, "note", "reads the returns policy", 0)
    page.wait_for_timeout(2000)
    page.click("#tab-payment")
    page.wait_for_timeout(2000)
    marker(server, token, "error", "lands on payment", 1)
    page.wait_for_timeout(1000)
    page.close()
    sid = session_id(server, token)

    console = sign_in(browser, server, f"/studies/{STUDY}/sessions/{sid}/replay")
    console.wait_for_selector("#player[data-ready]")
    marks = console.locator(".uxp-mark.k-marker")
    assert marks.count() == 2
    items = console.locator(".uxp-list li.k-marker a")
    times = [float(items.nth(i).get_attribute("data-t")) for i in range(2)]
    assert times[0] < times[1]

    # Opened at the first marker's moment: the returns topic is on screen, payment is not.
    console.goto(f"{server.url}/studies/{STUDY}/sessions/{sid}/replay?t={times[0]}")
    console.wait_for_selector("#player[data-ready]")
    wait_for(lambda: "Send back unworn shoes" in replayed_text(console), console)
    assert "We take all major cards" not in replayed_text(console)
    # A click on the second marker's tick jumps there: now payment is on screen.
    console.locator(".uxp-mark.k-marker").nth(1).click()
    wait_for(lambda: "We take all major cards" in replayed_text(console), console)
    assert "Send back unworn shoes" not in replayed_text(console)
    # Keyboard: [ goes back to the previous marker.
    console.locator("body").click(position={"x": 5, "y": 5})
    console.keyboard.press("[")
    wait_for(lambda: "Send back unworn shoes" in replayed_text(console), console)
    # Space plays; the speed goes up to 8x.
    console.select_option(".uxp-speed", "8")
    console.keyboard.press(" ")
    wait_for(lambda: console.locator("#player").get_attribute("data-playing") == "1", console)
    console.screenshot(path="/tmp/h14-replay.png")
    console.context.close()


def test_the_live_view_shows_the_participants_click(
    server: Server, participant: Callable[[], Any], browser: Any
) -> None:
    load_demo(server, replay=True)
    token = server.new_session(STUDY, "P01", "B")
    sid = session_id(server, token)
    page = participant()
    page.goto(link(server, token, "/help"))
    wait_for(lambda: chunks(server, token), page)
    console = sign_in(browser, server, f"/studies/{STUDY}/sessions/{sid}")
    console.wait_for_selector("#screen[data-live]")
    screen = console.frame_locator("#screen iframe").locator("body")
    wait_for(lambda: "Help centre" in screen.inner_text(), console)
    assert "Send back unworn shoes" not in screen.inner_text()
    page.click("#tab-returns")  # the participant clicks: the moderator sees it
    wait_for(lambda: "Send back unworn shoes" in screen.inner_text(), console, 10)
    with page.expect_navigation():
        page.click("#nav-shoes")  # a new page load: a new full snapshot
    wait_for(lambda: "Trailblazer 2" in screen.inner_text(), console, 10)
    console.screenshot(path="/tmp/h14-live.png")
    console.context.close()


def test_a_clip_opens_offline_and_plays_its_stretch(
    server: Server, participant: Callable[[], Any], browser: Any, tmp_path: Path
) -> None:
    load_demo(server, replay=True)
    token = server.new_session(STUDY, "P01", "B")
    page = participant()
    page.goto(link(server, token, "/help"))
    wait_for(lambda: chunks(server, token), page)
    page.wait_for_timeout(1500)
    page.click("#tab-returns")
    page.wait_for_timeout(1000)
    marker(server, token, "note", "finds returns", 0)
    page.wait_for_timeout(1500)
    page.click("#tab-payment")
    page.wait_for_timeout(1500)
    page.close()
    sid = session_id(server, token)
    from analyzer.metrics.timeline import session_timeline

    items = session_timeline(server.db_path, STUDY, sid)["items"]
    at = next(i["t"] for i in items if i["kind"] == "marker")  # 1 s after the click on Returns
    out = tmp_path / "clip.html"
    start, end = f"{at - 0.5:.1f}", f"{at + 3:.1f}"  # payment is clicked 1.5 s after
    done = subprocess.run(uxlab_cmd("clip", STUDY, str(sid), "--from", start, "--to", end,
                                    "-o", str(out), "--db", str(server.db_path)),
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "1 markers" in done.stdout
    server.stop()  # offline: nothing to ask for anyway

    context = browser.new_context(viewport={"width": 1300, "height": 900})
    requests: list[str] = []
    context.route(re.compile(r"^(https?|wss?|ftp):"),
                  lambda route: (requests.append(route.request.url), route.abort()))  # fmt: skip
    clip_page_requests: list[str] = []
    clip = context.new_page()
    clip.on("request", lambda r: clip_page_requests.append(r.url))
    clip.goto(out.as_uri())  # the page loads completely (nothing pending)
    clip.wait_for_selector("#player[data-ready]")
    screen = clip.frame_locator("#player iframe").locator("body")
    wait_for(lambda: "Send back unworn shoes" in screen.inner_text(), clip)  # at --from
    assert clip.locator(".uxp-mark.k-marker").count() == 1
    clip.keyboard.press(" ")
    wait_for(lambda: "We take all major cards" in screen.inner_text(), clip, 15)  # by --to
    assert requests == []
    assert clip_page_requests == [out.as_uri()]  # the file itself, and nothing else
    context.close()
    server.start()
    bad = subprocess.run(uxlab_cmd("clip", STUDY, str(sid), "--from", "0:09", "--to", "0:05",
                                   "-o", str(out), "--db", str(server.db_path)),
                         capture_output=True, text=True)  # fmt: skip
    assert bad.returncode == 2 and "--to: must be after --from" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_the_report_draws_clicks_on_the_recorded_page(
    server: Server, participant: Callable[[], Any], browser: Any, tmp_path: Path
) -> None:
    load_demo(server, replay=True)
    token = server.new_session(STUDY, "P01", "B")
    page = participant()
    page.goto(link(server, token, "/shoes"))
    wait_for(lambda: chunks(server, token), page)
    page.click("h1")  # not interactive: a misclick
    page.wait_for_timeout(1200)
    for _ in range(4):  # rage clicks
        page.click("h1", delay=20)
    with page.expect_navigation():
        page.click("#shoe-42")
    page.wait_for_timeout(1500)
    page.close()
    out = tmp_path / "report.html"
    done = subprocess.run(uxlab_cmd("report", STUDY, "-o", str(out), "--db", str(server.db_path)),
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = out.read_text()
    maps = report[report.index('id="click-maps"') :]
    assert maps.count('<image href="data:image/jpeg;base64,') >= 1
    assert "<script" not in report.lower()
    context = browser.new_context(viewport={"width": 1300, "height": 1000})
    view = context.new_page()
    view.goto(out.as_uri())
    figure = view.locator("#clickmap-0").first
    figure.scroll_into_view_if_needed()
    figure.screenshot(path=str(Path("/tmp/h14-report-click-map.png")))
    context.close()


def moderator_events(server: Server, token: str, events: list[dict[str, Any]]) -> None:
    t = time.time() * 1000.0
    doc = {"v": 1, "page": f"console-{t}", "sent": t,
           "events": [{"seq": i, "t": t, **e} for i, e in enumerate(events)]}  # fmt: skip
    status, answer = server.request(
        "POST", f"/api/v1/sessions/{token}/events", doc, server.admin_token
    )
    assert status == 200, answer


def test_the_replay_pages_delete_button_deletes_the_recording_and_keeps_the_events(
    server: Server, participant: Callable[[], Any], browser: Any
) -> None:
    load_demo(server, replay=True)
    token = server.new_session(STUDY, "P01", "B")
    page = participant()
    moderator_events(server, token, [{"type": "task_start", "task": "find-returns"}])
    page.goto(link(server, token, "/"))
    wait_for(lambda: chunks(server, token), page)
    page.click("h1")  # a misclick
    page.wait_for_timeout(1500)
    with page.expect_navigation():
        page.click("#nav-help")
    page.click("#tab-returns")
    page.wait_for_timeout(800)
    marker(server, token, "note", "found the returns tab", 5)
    page.click("#returns-days")
    page.wait_for_timeout(1500)
    moderator_events(
        server, token, [{"type": "task_end", "task": "find-returns", "outcome": "success"}]
    )
    page.close()
    sid = session_id(server, token)
    console = sign_in(browser, server, f"/studies/{STUDY}/sessions/{sid}/replay?t=3")
    console.wait_for_selector("#player[data-ready]")
    assert console.locator(".uxp-mark.k-task.o-success").count() == 1
    assert console.locator(".uxp-mark.k-misclick").count() == 1
    console.wait_for_timeout(500)
    console.screenshot(path="/tmp/h14-replay-full.png", full_page=True)
    console.once("dialog", lambda dialog: dialog.accept())
    console.click("#delete-recording")
    wait_for(lambda: "was deleted" in console.locator("#player").inner_text(), console)
    assert chunks(server, token) == []
    conn = sqlite3.connect(f"file:{server.db_path}?mode=ro", uri=True)
    events = conn.execute("SELECT count(*) FROM events e JOIN sessions s ON s.id = e.session_id"
                          " WHERE s.token = ?", (token,)).fetchone()[0]  # fmt: skip
    conn.close()
    assert events > 5
    console.reload()
    assert "has no recording" in console.locator("#player-none").inner_text()
    console.context.close()


def test_without_compression_stream_events_are_packed_by_rrwebs_packer(
    server: Server, browser: Any
) -> None:
    load_demo(server, replay=True)
    token = server.new_session(STUDY, "P01", "B")
    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script("delete window.CompressionStream")
    page = context.new_page()
    bodies: list[bytes] = []
    page.on(
        "request", lambda r: "/api/v1/replay" in r.url and bodies.append(r.post_data_buffer or b"")
    )
    page.goto(link(server, token, "/help"))
    wait_for(lambda: chunks(server, token), page)
    page.click("#tab-returns")
    page.wait_for_timeout(1500)
    found = wait_for(
        lambda: (c := chunks(server, token)) and "Send back unworn" in text_of(c) and c, page
    )
    assert complete(found)
    assert bodies and all(b[:1] == b"{" for b in bodies)  # JSON, not gzip
    sent = b"".join(bodies)
    assert b"Help centre" not in sent  # the page's text travelled packed
    assert "Help centre" in text_of(found)  # and is stored unpacked
    context.close()
