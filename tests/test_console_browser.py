"""The moderator console in real headless Chromium against a real ``uxlab serve``.

Two browser contexts: the moderator in the console, the participant on the demo
shop with the real snippet. Assertions read what the console shows and what the
SQLite database holds. ``UXLAB_SCREENSHOTS=docs/screenshots`` also saves the
screenshots of the study page and the live session page that the docs show.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.browser

STUDY = "demo-shop"
VIEWPORT = {"width": 1280, "height": 800}
SHOTS = os.environ.get("UXLAB_SCREENSHOTS")

MODERATOR_SQL = """
    SELECT s.token, pl.key, e.seq, e.t, e.type, tk.id, e.outcome, e.kind, l.text, e.value, e.data
    FROM events e JOIN sessions s ON s.id = e.session_id JOIN page_loads pl ON pl.id = e.load_id
    LEFT JOIN tasks tk ON tk.pk = e.task_pk LEFT JOIN labels l ON l.id = e.label_id
    WHERE pl.source = 2 ORDER BY e.t, e.seq
"""
TYPE = {20: "task_start", 21: "task_end", 22: "marker", 23: "rating", 24: "marker_text"}
OUTCOME = {None: None, 1: "success", 2: "failure", 3: "abandoned", 4: "skipped"}
KIND = {None: None, 1: "error", 2: "note", 3: "assist", 4: "critical"}


def moderator_rows(db_path: Path) -> list[tuple[Any, ...]]:
    """Every moderator event in the database: (token, load, seq, t, type, task, outcome/kind, text, value)."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        rows = conn.execute(MODERATOR_SQL).fetchall()
    finally:
        conn.close()
    out = []
    for token, load, seq, t, code, task, outcome, kind, text, value, data in rows:
        coded = OUTCOME[outcome] if code == 21 else KIND.get(kind) if code == 22 else kind
        out.append((token, load, seq, t, TYPE[code], task, coded, text, value, data))
    return out


def shot(page: Any, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / name))


def sign_in(browser: Any, server: Any, target: str) -> Any:
    """A moderator's page, signed in through the link ``uxlab serve`` prints."""
    page = browser.new_context(viewport=VIEWPORT).new_page()
    page.errors = []  # uncaught exceptions, and what the browser logs as errors (CSP, 404s)
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.on("console", lambda msg: page.errors.append(msg.text) if msg.type == "error" else None)
    page.goto(f"{server.url}/login?token={server.admin_token}&next={target}")
    assert page.url == f"{server.url}{target}"
    return page


def wait_saved(page: Any) -> None:
    page.wait_for_selector("#saving:has-text('All saved')", timeout=10_000)


def test_a_moderated_task_from_sign_in_to_seq(server: Any, browser: Any) -> None:
    """The issue's scenario: the database ends with exactly the moderator's four events."""
    server.load_study()
    mod = sign_in(browser, server, f"/studies/{STUDY}")
    # A new session from the study page: participant, variant, the link to give them.
    mod.fill("#participant", "P01")
    mod.check("input[name=variant][value=B]", force=True)
    mod.click("#new-session button[type=submit]")
    mod.wait_for_selector("#new-session-result:not([hidden])")
    link = mod.input_value("#created-link")
    assert link.startswith(f"{server.url}/demo/B/?uxlab=")
    token = link.rsplit("=", 1)[1]
    mod.wait_for_selector("#sessions-body tr:has-text('P01')")
    mod.click(".created-open")
    mod.wait_for_selector("#conn:has-text('Live')")

    mod.keyboard.press("t")  # start the next task: find-shoes
    mod.wait_for_selector(".task-card.running:has-text('find-shoes')")
    wait_saved(mod)

    participant = browser.new_context(viewport={"width": 1200, "height": 800}).new_page()
    participant.goto(link)
    participant.click("#hero-shop")
    participant.click("#shoe-42")
    mod.wait_for_selector("#now-page:has-text('/shoes/42')", timeout=5000)
    clicked = time.monotonic()
    participant.click("#add-to-cart")  # no page load: it travels in the snippet's next batch
    mod.wait_for_selector("#feed li[data-type=click]:has-text('#add-to-cart')", timeout=5000)
    latency = time.monotonic() - clicked
    # The snippet sends a batch at most FLUSH_MS (250 ms) after its first event; the
    # collector and the console add milliseconds on top. The issue asks for under 1 s.
    print(f"participant click -> console feed: {latency * 1000:.0f} ms")
    assert latency < 1.0, f"click reached the console after {latency:.2f} s"
    assert mod.locator("#feed li[data-type=click]:has-text('#hero-shop')").count() == 1

    mod.keyboard.press("e")  # recorded now; its text is typed afterwards
    mod.fill("#marker-text", "looked for the cart behind the menu")
    mod.keyboard.press("Enter")
    mod.wait_for_selector(".tl-error:has-text('looked for the cart behind the menu')")

    participant.click("#view-cart")  # the success criterion: /cart reached
    mod.wait_for_selector(".criteria:has-text('Success criterion met')", timeout=5000)
    wait_saved(mod)
    shot(mod, "console-live.png")
    mod.click(".criteria button:has-text('End as success')")
    mod.wait_for_selector(".task-card:has-text('SEQ')")
    mod.keyboard.press("6")
    mod.wait_for_selector(".task-card:has-text('Next')")
    wait_saved(mod)
    assert mod.locator("[data-task=find-shoes] .outcome.success").count() == 1
    assert mod.locator("[data-task=find-shoes]:has-text('SEQ 6')").count() == 1

    rows = moderator_rows(server.db_path)
    assert [(r[0], r[2], r[4], r[5], r[6], r[7], r[8]) for r in rows] == [
        (token, 0, "task_start", "find-shoes", None, None, None),
        (token, 1, "marker", "find-shoes", "error", None, None),
        (token, 2, "marker_text", None, None, "looked for the cart behind the menu", None),
        (token, 3, "task_end", "find-shoes", "success", None, None),
        (token, 4, "rating", "find-shoes", 1, None, 6.0),  # rating kind 1 = SEQ
    ]
    assert rows[2][9] == f'{{"marker":{{"page":"{rows[1][1]}","seq":1}}}}'
    assert len({r[1] for r in rows}) == 1  # one console page load
    times = [r[3] for r in rows]
    assert times == sorted(times) and times[-1] - times[0] < 60_000
    assert abs(times[0] / 1000 - time.time()) < 120  # the moderator's epoch milliseconds

    if SHOTS:  # the study page with a few more sessions, as in a real study day
        server.new_session(STUDY, "P02", "A")
        server.request("POST", f"/api/v1/sessions/{server.new_session(STUDY, 'P03', 'B')}/close",
                       token=server.admin_token)  # fmt: skip
        mod.goto(f"{server.url}/studies/{STUDY}")
        mod.wait_for_selector("#sessions-body tr:has-text('P03')")
        shot(mod, "console-study.png")
    assert mod.errors == []


def test_the_console_resumes_after_a_reload_and_a_server_restart(server: Any, browser: Any) -> None:
    server.load_study()
    token = server.new_session(STUDY, "P02", "A")
    mod = sign_in(browser, server, f"/studies/{STUDY}")
    mod.click("#sessions-body a:has-text('Open')")
    mod.wait_for_selector("#conn:has-text('Live')")
    mod.click("[data-task=checkout] button:has-text('Start')")  # out of order, by the button
    mod.wait_for_selector(".task-card.running:has-text('checkout')")
    mod.click("[data-marker=note]")
    mod.click("#marker-text")  # the text field takes the keys only once clicked
    mod.keyboard.type("asked whether the card is real")
    mod.keyboard.press("Enter")
    wait_saved(mod)
    time.sleep(1.2)
    before = mod.inner_text("#timer")

    mod.reload()  # everything comes back from the database
    mod.wait_for_selector(".task-card.running:has-text('checkout')")
    assert mod.inner_text("#timer") >= before  # the timer runs on from the task's start
    assert mod.locator(".tl-note:has-text('asked whether the card is real')").count() == 1

    server.stop()
    mod.wait_for_selector("#conn:not(:has-text('Live'))", timeout=10_000)
    mod.keyboard.press("k")  # coded while the server is down: kept and resent
    mod.wait_for_selector("#saving:has-text('not saved yet')", timeout=10_000)
    server.start()
    mod.wait_for_selector("#conn:has-text('Live')", timeout=15_000)
    wait_saved(mod)
    assert mod.locator("[data-task=checkout] .outcome.skipped").count() == 1

    # The end-of-session SUS, answered with the keyboard.
    mod.keyboard.press("q")
    for answer in "4241524152":
        mod.keyboard.press(answer)
    mod.click("button:has-text('Save SUS')")
    wait_saved(mod)
    rows = moderator_rows(server.db_path)
    assert [(r[4], r[5], r[6], r[7]) for r in rows] == [
        ("task_start", "checkout", None, None),
        ("marker", "checkout", "note", None),
        ("marker_text", None, None, "asked whether the card is real"),
        ("task_end", "checkout", "skipped", None),
        ("rating", None, 2, None),  # rating kind 2 = SUS
    ]
    assert rows[-1][9] == '{"values":[4,2,4,1,5,2,4,1,5,2]}'
    assert {r[0] for r in rows} == {token}
    # Two console page loads, each counting seq from 0.
    loads = [r[1] for r in rows]
    assert loads[0] == loads[1] == loads[2] != loads[3] == loads[4]
    assert [r[2] for r in rows] == [0, 1, 2, 0, 1]
    assert not [e for e in mod.errors if "ERR_CONNECTION_REFUSED" not in e and "WebSocket" not in e]


def test_an_observer_watches_without_controls(server: Any, browser: Any) -> None:
    server.load_study()
    token = server.new_session(STUDY, "P03", "B")
    mod = sign_in(browser, server, f"/studies/{STUDY}")
    observer_link = mod.input_value("#observer-link")
    observer = browser.new_context(viewport=VIEWPORT).new_page()
    observer.goto(observer_link)
    observer.click("#sessions-body a:has-text('Watch')")
    observer.wait_for_selector("#conn:has-text('Live')")
    assert observer.locator(".btn-end, .btn-marker, #close-session, #start-next").count() == 0
    assert token not in observer.content()

    mod.goto(f"{server.url}/studies/{STUDY}/sessions/1")
    mod.wait_for_selector("#conn:has-text('Live')")
    mod.keyboard.press("t")
    observer.wait_for_selector(".task-card:has-text('find-shoes')", timeout=5000)
    participant = browser.new_context().new_page()
    participant.goto(f"{server.url}/demo/B/?uxlab={token}")
    observer.wait_for_selector("#now-page:has-text('/')", timeout=5000)
    observer.keyboard.press("s")  # shortcuts do nothing for an observer
    observer.keyboard.press("e")
    time.sleep(0.5)
    wait_saved(mod)
    assert [r[4] for r in moderator_rows(server.db_path)] == ["task_start"]


def open_live(browser: Any, server: Any, participant: str = "P01") -> tuple[Any, str]:
    """The demo study, one session, and its live page for the moderator."""
    server.load_study()
    token = server.new_session(STUDY, participant, "A")
    mod = sign_in(browser, server, f"/studies/{STUDY}/sessions/1")
    mod.wait_for_selector("#conn:has-text('Live')")
    return mod, token


def test_a_marker_key_never_swallows_the_next_shortcut(server: Any, browser: Any) -> None:
    mod, _ = open_live(browser, server)
    mod.keyboard.press("t")
    mod.wait_for_selector(".task-card.running:has-text('find-shoes')")
    mod.keyboard.press("e")  # an error marker, recorded at the key press ...
    mod.keyboard.press("s")  # ... and S still ends the task as a success
    mod.wait_for_selector("[data-task=find-shoes] .outcome.success")
    wait_saved(mod)
    assert mod.is_visible("#marker-form") and mod.input_value("#marker-text") == ""
    shot(mod, "console-live-marker.png")
    assert [(r[4], r[5], r[6]) for r in moderator_rows(server.db_path)] == [
        ("task_start", "find-shoes", None), ("marker", "find-shoes", "error"),
        ("task_end", "find-shoes", "success")]  # fmt: skip

    mod.keyboard.press("Escape")  # skips the SEQ; the markers stay
    mod.keyboard.press("e")
    mod.keyboard.press("n")  # two markers, the note's text field open (not focused)
    mod.wait_for_selector("#marker-label:has-text('Note')")
    mod.click("#marker-text")
    mod.keyboard.type("said the filter was hidden")
    mod.keyboard.press("Enter")
    wait_saved(mod)
    mod.wait_for_selector(".tl-note:has-text('said the filter was hidden')")
    # Any marker's text can be added later from the timeline, and changed again.
    mod.click(".tl-error:not(:has-text('find-shoes')) .tl-edit")
    mod.fill("#marker-text", "typed into the search box")
    mod.keyboard.press("Enter")
    mod.click(".tl-error:not(:has-text('find-shoes')) .tl-edit")
    assert mod.input_value("#marker-text") == "typed into the search box"
    mod.fill("#marker-text", "typed into search")
    mod.keyboard.press("Enter")
    mod.keyboard.press("c")  # Esc in its text field closes the field; the marker stays
    mod.click("#marker-text")
    mod.keyboard.type("half a thought")
    mod.keyboard.press("Escape")
    assert mod.is_hidden("#marker-form")
    wait_saved(mod)
    mod.wait_for_selector(".tl-error:has-text('typed into search')")
    rows = moderator_rows(server.db_path)
    assert [(r[4], r[6], r[7]) for r in rows[3:]] == [
        ("marker", "error", None), ("marker", "note", None),
        ("marker_text", None, "said the filter was hidden"),
        ("marker_text", None, "typed into the search box"),
        ("marker_text", None, "typed into search"), ("marker", "critical", None)]  # fmt: skip
    mod.reload()  # the texts come back from the database
    mod.wait_for_selector(".tl-error:has-text('typed into search')")
    assert mod.locator(".tl-error:has-text('typed into the search box')").count() == 0
    assert mod.errors == []


def test_sus_from_the_keyboard_survives_a_reload_and_enter_saves(server: Any, browser: Any) -> None:
    mod, _ = open_live(browser, server)
    mod.keyboard.press("q")
    for answer in "42415":
        mod.keyboard.press(answer)
    mod.keyboard.press("Enter")  # not complete: nothing is saved
    mod.reload()
    mod.wait_for_selector(".task-card:has-text('SUS · end of session')")
    mod.wait_for_selector(".task-card:has-text('5 of 10 answered')")
    for answer in "24152":
        mod.keyboard.press(answer)
    mod.wait_for_selector(".task-card:has-text('10 of 10 answered')")
    shot(mod, "console-sus.png")
    assert [r[4] for r in moderator_rows(server.db_path)] == []
    mod.keyboard.press("Enter")
    wait_saved(mod)
    mod.wait_for_selector(".task-card:not(:has-text('SUS · end of session'))")
    rows = moderator_rows(server.db_path)
    assert [(r[4], r[6], r[9]) for r in rows] == [("rating", 2, '{"values":[4,2,4,1,5,2,4,1,5,2]}')]
    mod.reload()  # saved answers are not offered again as work in progress
    mod.wait_for_selector("#conn:has-text('Live')")
    assert mod.locator(".task-card:has-text('SUS · end of session')").count() == 0


def test_the_study_page_closes_a_session_by_its_number(server: Any, browser: Any) -> None:
    """The Close button posts to /api/v1/studies/{study}/sessions/{n}/close: no token in the URL."""
    server.load_study()
    token = server.new_session(STUDY, "P01", "A")
    mod = sign_in(browser, server, f"/studies/{STUDY}")
    posted: list[str] = []
    mod.on("request", lambda r: posted.append(r.url) if r.method == "POST" else None)
    row = mod.locator("#sessions-body tr:has-text('P01')")
    row.locator("button:has-text('Close')").click()
    row.locator("button:has-text('Confirm')").click()
    row.locator(".pill-closed").wait_for()
    mod.screenshot(path="/tmp/uxlab-study-page-closed.png")
    assert [urlsplit(u).path for u in posted] == [f"/api/v1/studies/{STUDY}/sessions/1/close"]
    assert not [u for u in posted if token in u]
    conn = sqlite3.connect(server.db_path)
    assert conn.execute("SELECT status FROM sessions WHERE token = ?", (token,)).fetchone() == (
        "closed",
    )
    conn.close()
    assert mod.errors == []
