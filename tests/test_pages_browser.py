"""Real-page patterns (issue 15): small fixture apps in real Chromium, figures worked out by hand.

Each app under ``tests/fixtures/pages/`` reproduces one pattern that made figures wrong
on third-party apps: hash routes, ids in History-API routes, a tagged same-origin
iframe, a form inside nested shadow roots, an app that calls ``.click()`` itself,
duplicate and generated ids, and a page that throws while it loads. The pages are
served by playwright from the collector's origin; the snippet, the collector (a real
``uxlab serve``), the moderator's API and the analyzer are the real ones. Every
column of each attempt is worked out by hand below; ``time_s`` is wall-clock and only
checked to be there.
"""

from __future__ import annotations

import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from analyzer.metrics.analyze import analyze
from tests.conftest import uxlab_cmd

pytestmark = pytest.mark.browser

FIXTURES = Path(__file__).parent / "fixtures" / "pages"
APPS = ("hash", "notes", "frame", "shadow", "clicker", "ids", "broken")
TASKS = """
[[tasks]]
id = "hash"
success = { url = "/#/completed" }
expected_path = ["/", "/#/active", "/#/completed"]

[[tasks]]
id = "notes"
success = { url = "/note/:id" }
expected_path = ["/", "/note/:id"]

[[tasks]]
id = "frame"

[[tasks]]
id = "shadow"

[[tasks]]
id = "clicker"

[[tasks]]
id = "ids"
success = { click = "#faq-b > h2 > button" }

[[tasks]]
id = "broken"
"""
# Columns of a one-page attempt that the moderator ended as a success with nothing wrong.
PLAIN = {"study": "fx", "participant": "P1", "session": None, "outcome": "success", "coded_by": "moderator",
         "clicks": 0, "misclicks": 0, "rage_clicks": 0, "errors": 0, "moderator_errors": 0, "js_errors": 0,
         "invalid_inputs": 0, "pages": 1, "distinct_pages": 1, "backtracks": 0, "path_edit_distance": None,
         "lostness": 0.0, "direct": True, "seq": None, "path": "/", "dead_clicks": 0}  # fmt: skip


class Lab:
    """The fixture study on a running ``uxlab serve``, its pages served from tests/fixtures/pages."""

    def __init__(self, server: Any, browser: Any) -> None:
        self.server, self.browser = server, browser
        self.contexts: list[Any] = []
        self.sent = 0
        variants = "".join(
            f'\n[[variants]]\nid = "{a}"\nurl = "{server.url}/fx/{a}/"\n' for a in APPS
        )
        text = f'id = "fx"\n\n[pages]\npatterns = ["/note/:id"]\n{variants}{TASKS}'
        path = server.db_path.with_name("fx.toml")
        path.write_text(text)
        subprocess.run(uxlab_cmd("study", "create", str(path), "--db", str(server.db_path)),
                       check=True, capture_output=True)  # fmt: skip

    def open(self, app: str) -> tuple[str, Any]:
        """A participant's tab on the app's first page; the session's token."""
        token = self.server.new_session("fx", "P1", app)
        context = self.browser.new_context(viewport={"width": 1200, "height": 800})
        self.contexts.append(context)
        context.route(f"{self.server.url}/fx/**", self._serve)
        page = context.new_page()
        page.goto(f"{self.server.url}/fx/{app}/?uxlab={token}")
        page.wait_for_function("window.uxlab && window.uxlab.stats && window.uxlab.stats()")
        return token, page

    @staticmethod
    def _serve(route: Any) -> None:
        app, _, rest = urlsplit(route.request.url).path.removeprefix("/fx/").partition("/")
        file = FIXTURES / app / (rest or "index.html")
        if not file.is_file():  # a History-API route such as note/du30zwl: the app's page
            file = FIXTURES / app / "index.html"
        route.fulfill(body=file.read_text(), content_type="text/html; charset=utf-8")

    def moderator(self, token: str, type_: str, **fields: Any) -> None:
        """One moderator event, stamped now."""
        self.sent += 1
        event = {"seq": 0, "t": time.time() * 1000, "type": type_, **fields}
        body = {
            "v": 1,
            "page": f"console-{self.sent}",
            "sent": time.time() * 1000,
            "events": [event],
        }
        status, answer = self.server.request("POST", f"/api/v1/sessions/{token}/events", body,
                                             self.server.admin_token)  # fmt: skip
        assert status == 200, answer

    def attempt(self, app: str, want: dict[str, Any]) -> dict[str, Any]:
        """The app's attempt once it equals ``want`` (or, after 20 s, whatever it is)."""
        deadline = time.monotonic() + 20
        while True:
            rows = [r for r in analyze(self.server.db_path, "fx", cache=False).table("attempts")
                    if r["variant"] == app]  # fmt: skip
            got = {**rows[0], "session": None, "time_s": None} if rows else {}
            if got == want or time.monotonic() > deadline:
                assert rows and rows[0]["time_s"] is not None and rows[0]["time_s"] > 0
                return got
            time.sleep(0.3)

    def clicks(self, app: str) -> list[dict[str, Any]]:
        return [c for c in analyze(self.server.db_path, "fx", cache=False).table("clicks")
                if c["variant"] == app]  # fmt: skip


@pytest.fixture
def lab(server: Any, browser: Any) -> Iterator[Lab]:
    lab = Lab(server, browser)
    yield lab
    for context in lab.contexts:
        context.close()


def expect(app: str, **columns: Any) -> dict[str, Any]:
    return {**PLAIN, "variant": app, "task": app, "time_s": None, **columns}


def settle(page: Any) -> None:
    """Let every reaction window close and the last batch leave, then leave the page."""
    page.wait_for_timeout(1300)
    page.close()


def test_hash_routes_are_pages_and_reach_their_criterion(lab: Lab) -> None:
    token, page = lab.open("hash")
    lab.moderator(token, "task_start", task="hash")
    page.click("#hint")  # a paragraph: nothing happens (a misclick, and a dead click)
    page.wait_for_timeout(1200)
    page.click("#active")
    page.wait_for_timeout(300)
    page.click("#completed")  # the criterion: the route /#/completed, not the first route change
    settle(page)
    want = expect("hash", coded_by="criteria", clicks=3, misclicks=1, pages=3, distinct_pages=3,
                  path_edit_distance=0, path="/ > /#/active > /#/completed", dead_clicks=1)  # fmt: skip
    assert lab.attempt("hash", want) == want


def test_ids_in_history_routes_are_one_page(lab: Lab) -> None:
    token, page = lab.open("notes")
    lab.moderator(token, "task_start", task="notes")
    page.click("text=Ideas")  # pushState to note/k2p9x7q
    page.wait_for_selector("#note h1:has-text('k2p9x7q')")
    settle(page)
    want = expect("notes", coded_by="criteria", clicks=1, pages=2, distinct_pages=2, path_edit_distance=0,
                  path="/ > /note/:id")  # fmt: skip
    assert lab.attempt("notes", want) == want


def test_a_tagged_iframe_is_no_step_and_has_its_own_click_map(lab: Lab) -> None:
    token, page = lab.open("frame")
    frame = page.frame_locator("#widget")
    frame.locator("#chat").wait_for()
    page.wait_for_function("() => document.getElementById('widget').contentWindow.uxlab?.stats?.()")
    lab.moderator(token, "task_start", task="frame")
    frame.locator("#chat").click()
    page.click("#top-button")
    page.wait_for_timeout(1300)
    lab.moderator(token, "task_end", task="frame", outcome="success")
    settle(page)
    want = expect("frame", clicks=2)  # the frame's page is not a step: the path stays "/"
    assert lab.attempt("frame", want) == want
    chat, top = lab.clicks("frame")
    # The frame's click on the frame's page, in the frame's coordinates (the button is at
    # 20..120 x 30..70 inside a frame placed at 300, 200).
    assert (chat["page"], chat["target"], chat["label"]) == (
        "/widget.html",
        "#chat",
        "Chat with us",
    )
    assert 20 <= chat["x"] <= 120 and 30 <= chat["y"] <= 70
    assert (top["page"], top["target"], top["dead"]) == ("/", "#top-button", False)


def test_a_form_inside_nested_shadow_roots_is_seen(lab: Lab) -> None:
    token, page = lab.open("shadow")
    lab.moderator(token, "task_start", task="shadow")
    page.click("#email")  # playwright's CSS goes through open shadow roots
    page.keyboard.type("bad")
    page.click("#join")  # typeMismatch: an invalid input, the form is not sent
    page.wait_for_timeout(300)
    page.fill("#email", "a@b.co")
    page.click("#join")
    page.wait_for_selector("#done", state="visible")
    page.wait_for_timeout(1300)
    lab.moderator(token, "task_end", task="shadow", outcome="success")
    settle(page)
    want = expect("shadow", clicks=3, errors=1, invalid_inputs=1)
    assert lab.attempt("shadow", want) == want
    stored = _types(lab, token)
    assert (
        stored.count("submit") == 1 and stored.count("invalid") == 1 and stored.count("input") >= 1
    )


def test_clicks_the_page_fires_itself_are_not_the_participant_s(lab: Lab) -> None:
    token, page = lab.open("clicker")
    lab.moderator(token, "task_start", task="clicker")
    page.click("#mark-all")  # the app then calls .click() on three checkboxes
    page.wait_for_timeout(1300)
    lab.moderator(token, "task_end", task="clicker", outcome="success")
    settle(page)
    want = expect("clicker", clicks=1)  # not 4, and no rage burst
    assert lab.attempt("clicker", want) == want
    assert _types(lab, token).count("synthetic click") == 3


def test_duplicate_and_generated_ids_give_unique_selectors(lab: Lab) -> None:
    token, page = lab.open("ids")
    lab.moderator(token, "task_start", task="ids")
    page.click(
        "#toolbar > button"
    )  # id ":r1:", no handler: a dead click (not a misclick: a button)
    page.wait_for_timeout(1200)
    page.click("#faq-a button")  # the first #headingTwo: not the criterion
    page.wait_for_timeout(300)
    page.click("#faq-b button")  # the second #headingTwo: the criterion
    settle(page)
    want = expect("ids", coded_by="criteria", clicks=3, dead_clicks=1)
    assert lab.attempt("ids", want) == want
    assert [(c["target"], c["label"], c["dead"]) for c in lab.clicks("ids")] == [
        ("#toolbar > button", "Print", True),
        ("#faq-a > h2 > button", "Shipping", False),
        ("#faq-b > h2 > button", "Returns", False),
    ]


def test_an_error_while_the_page_loads_is_caught_by_the_stub(lab: Lab) -> None:
    token, page = lab.open("broken")
    lab.moderator(token, "task_start", task="broken")
    with page.expect_navigation():
        page.click("#to-offers")  # offers.html throws before the snippet's tag is even parsed
    page.wait_for_function("window.uxlab && window.uxlab.stats && window.uxlab.stats()")
    page.wait_for_timeout(1300)
    lab.moderator(token, "task_end", task="broken", outcome="success")
    settle(page)
    want = expect(
        "broken", clicks=1, js_errors=1, pages=2, distinct_pages=2, path="/ > /offers.html"
    )
    assert lab.attempt("broken", want) == want
    assert "custom" in _types(lab, token)  # the track call queued by the stub


def _types(lab: Lab, token: str) -> list[str]:
    """The stored participant events' types (a synthetic click named so)."""
    names = {1: "page", 2: "click", 3: "input", 4: "submit", 5: "invalid", 8: "error", 10: "custom",
             11: "reaction"}  # fmt: skip
    conn = sqlite3.connect(f"file:{lab.server.db_path}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT e.type, e.kind FROM events e JOIN sessions s ON s.id = e.session_id"
                            " WHERE s.token = ? ORDER BY e.t", (token,)).fetchall()  # fmt: skip
    finally:
        conn.close()
    return ["synthetic click" if (t, k) == (2, 1) else names.get(t, str(t)) for t, k in rows]


def test_labels_follow_the_accessible_name_and_labels_of_nothing_are_not_controls(lab: Lab) -> None:
    token, page = lab.open("ids")
    page.goto(f"{lab.server.url}/fx/ids/labels.html")
    page.wait_for_function("window.uxlab && window.uxlab.stats && window.uxlab.stats()")
    page.click("#del")
    page.click("#bg", position={"x": 600, "y": 280})  # the page background
    page.click("#orphan")
    page.click("#lab")  # labels the checkbox: one click, on the label
    page.click("#chip")
    page.click("#plain")
    settle(page)
    want = [
        ("#del", "div", "Delete account", 1),
        ("#bg", "main", None, 0),
        ("#orphan", "label", "Just a caption", 0),
        ("#lab", "label", "I agree", 1),
        ("#chip", "x-chip", "Chip", 1),
        ("#plain", "x-plain", "Plain", 0),
    ]
    deadline = time.monotonic() + 20
    while (got := _clicks(lab, token)) != want and time.monotonic() < deadline:
        time.sleep(0.3)
    assert got == want


def _clicks(lab: Lab, token: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(f"file:{lab.server.db_path}?mode=ro", uri=True)
    try:
        return conn.execute(
            "SELECT t.selector, json_extract(e.data, '$.tag'), l.text, e.interactive FROM events e"
            " JOIN sessions s ON s.id = e.session_id LEFT JOIN targets t ON t.id = e.target_id"
            " LEFT JOIN labels l ON l.id = e.label_id WHERE s.token = ? AND e.type = 2 ORDER BY e.t",
            (token,),
        ).fetchall()
    finally:
        conn.close()
