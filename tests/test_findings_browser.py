"""Findings in real headless Chromium against a real ``uxlab serve``: two browser contexts.

The moderator groups five observations of three sessions into two findings (keyboard
and mouse), sets severities, accepts a suggestion and attaches a fresh marker from the
live page; an observer adds a note during the live session (the moderator's timeline
shows it) and cannot edit a finding. The report then shows the findings with the k of
n and intervals worked out by hand below. ``UXLAB_SCREENSHOTS=docs/screenshots`` saves
the screenshots the docs show.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from recorder import auth as console_auth
from tests.conftest import STUDY_DOC, now_ms

pytestmark = pytest.mark.browser

STUDY = "checkout-2026"
VIEWPORT = {"width": 1400, "height": 900}
SHOTS = os.environ.get("UXLAB_SCREENSHOTS")


def shot(page: Any, name: str, full: bool = False) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / name), full_page=full)


def context_page(browser: Any) -> Any:
    page = browser.new_context(viewport=VIEWPORT).new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.on("console", lambda msg: page.errors.append(msg.text) if msg.type == "error" else None)
    return page


def record(server: Any, token: str, markers: list[tuple[str, str]], misclick: bool) -> None:
    """A buy-shoes attempt 60 s ago: the participant's pages (and a misclick), the markers."""
    t = now_ms() - 60_000
    events = [{"seq": 0, "t": t, "type": "page", "url": "http://proto.test/A/"}]
    if misclick:
        events.append({"seq": 1, "t": t + 5000, "type": "click", "x": 10, "y": 10, "sel": "img.cart-icon",
                       "tag": "img", "label": "", "interactive": False})  # fmt: skip
    status, _ = server.request("POST", "/api/v1/collect", {"v": 1, "session": token, "page": f"p-{token[:6]}",
                                                          "sent": now_ms(), "events": events})  # fmt: skip
    assert status == 200
    coded = [{"seq": 0, "t": t + 1000, "type": "task_start", "task": "buy-shoes"}]
    for i, (kind, text) in enumerate(markers, 1):
        coded.append(
            {"seq": i, "t": t + 1000 + 10_000 * i, "type": "marker", "kind": kind, "text": text}
        )
    coded.append(
        {"seq": 9, "t": t + 50_000, "type": "task_end", "task": "buy-shoes", "outcome": "failure"}
    )
    status, _ = server.request("POST", f"/api/v1/sessions/{token}/events",
                               {"v": 1, "page": f"c-{token[:6]}", "sent": now_ms(), "events": coded},
                               server.admin_token)  # fmt: skip
    assert status == 200


def select(page: Any, text: str) -> None:
    page.click(f"#observations li.obs:has-text('{text}') .obs-text")


def test_findings_from_observations_to_the_report(server: Any, browser: Any) -> None:
    server.load_study(STUDY_DOC)
    tokens = [
        server.new_session(STUDY, p, v) for p, v in (("P01", "A"), ("P02", "A"), ("P03", "B"))
    ]
    record(
        server,
        tokens[0],
        [("error", "cart icon missed"), ("note", "liked the photos")],
        misclick=True,
    )
    record(server, tokens[1], [("error", "cart icon missed again")], misclick=True)
    record(
        server,
        tokens[2],
        [("error", "typed into search"), ("critical", "gave up at checkout")],
        misclick=False,
    )

    mod = context_page(browser)
    mod.goto(f"{server.url}/login?token={server.admin_token}&next=/studies/{STUDY}/findings")
    mod.wait_for_selector("#observations li.obs:has-text('gave up at checkout')", timeout=60_000)
    suggestion = mod.locator("#observations li.obs", has_text="Clicks on img.cart-icon do nothing")
    assert "2 participants: P01, P02" in suggestion.inner_text()

    # Finding 1 by mouse: three observations.
    for text in ("cart icon missed again", "cart icon missed", "typed into search"):
        select(mod, text)
    assert mod.inner_text("#selected-count") == "3 observations selected"
    mod.fill("#new-title", "Cart icon not recognised")
    mod.select_option("#new-severity", "3")
    mod.click("#new-finding button[type=submit]")
    mod.wait_for_selector("article.finding[data-title='Cart icon not recognised']")
    # Finding 2 by keyboard: move the cursor with J/K, select with X, N for the title.
    mod.click("h1")
    texts = [t.strip() for t in mod.locator("#observations li.obs .obs-text").all_inner_texts()]
    for wanted in ("liked the photos", "gave up at checkout"):
        steps = texts.index(wanted)
        mod.keyboard.press("Home")
        for _ in range(len(texts)):
            mod.keyboard.press("k")
        for _ in range(steps):
            mod.keyboard.press("j")
        mod.keyboard.press("x")
    assert mod.inner_text("#selected-count") == "2 observations selected"
    mod.keyboard.press("n")
    mod.keyboard.type("Checkout feels like a dead end")
    mod.keyboard.press("Enter")
    mod.wait_for_selector("article.finding[data-title='Checkout feels like a dead end']")
    card = mod.locator("article.finding[data-title='Checkout feels like a dead end']")
    card.locator("select").select_option("4")  # severity, edited in place
    mod.wait_for_selector("article.finding.sev-4")
    card = mod.locator("article.finding.sev-4")
    card.locator("textarea").nth(1).fill("Show the order summary before payment.")
    card.locator("textarea").nth(1).blur()
    mod.wait_for_function(
        "document.querySelector('article.finding.sev-4 textarea:nth-of-type(1)') !== null"
    )
    # Accept the suggestion: a finding with its evidence.
    suggestion = mod.locator("#observations li.obs", has_text="Clicks on img.cart-icon do nothing")
    suggestion.locator("button.accept").click()
    mod.wait_for_selector(
        "article.finding[data-title='Clicks on img.cart-icon do nothing in buy-shoes']"
    )
    mod.wait_for_selector("#matrix td.hit")
    assert (
        "✓ in “Cart icon not recognised”"
        in mod.locator("li.obs", has_text="typed into search").inner_text()
    )
    assert "✓ in “Clicks on img.cart-icon do nothing in buy-shoes”" in suggestion.inner_text()
    mod.wait_for_selector("#toast", state="hidden")
    shot(mod, "findings-page.png")

    # Someone else's change in between: 409, the page says so and reloads.
    conn = sqlite3.connect(server.db_path)
    conn.execute(
        "UPDATE findings SET version = version + 1 WHERE title = 'Cart icon not recognised'"
    )
    conn.commit()
    conn.close()
    first = mod.locator("article.finding[data-title='Cart icon not recognised']")
    first.locator("textarea").first.fill("Three of three missed it.")
    first.locator("textarea").first.blur()
    mod.wait_for_selector("#conflict:not([hidden])")
    assert "Someone else changed this" in mod.inner_text("#conflict")
    mod.click("#conflict-reload")
    mod.wait_for_selector("#conflict", state="hidden")

    # The observer: a note during P01's live session, read-only findings.
    key = console_auth.observer_key(console_auth.signing_key(server.admin_token), STUDY)
    live = context_page(browser)
    live.goto(f"{server.url}/login?token={server.admin_token}&next=/studies/{STUDY}/sessions/1")
    live.wait_for_selector("#conn:has-text('Live')", timeout=20_000)
    obs = context_page(browser)
    obs.goto(f"{server.url}/observe/{STUDY}/{key}/sessions/1")
    obs.fill("#note-author", "Ana")
    obs.fill("#note-text", "She looked for the cart at the bottom")
    obs.keyboard.press("Enter")
    live.wait_for_selector(
        "#timeline li.tl-observer:has-text('She looked for the cart at the bottom')"
    )
    assert "Observer note · Ana" in live.inner_text("#timeline li.tl-observer")
    # From the live page, the marker just made goes to a finding in one step.
    live.keyboard.press("e")
    live.fill("#marker-text", "hunted for the cart again")
    live.keyboard.press("Enter")
    live.wait_for_selector("#attach-marker:not([hidden])")
    live.select_option("#attach-to", label="Cart icon not recognised (severity 3)")
    live.click("#attach-marker button[type=submit]")
    live.wait_for_selector("#toast:has-text('Added to “Cart icon not recognised”')")
    live.wait_for_selector("#attach-marker", state="hidden")

    # ... or a moment without a marker, in one step too.
    def dead_end_moments() -> list[dict[str, Any]]:
        _, listed = server.request(
            "GET", f"/api/v1/studies/{STUDY}/findings", token=server.admin_token
        )
        return next(f for f in listed["findings"]
                    if f["title"] == "Checkout feels like a dead end")["evidence"]  # fmt: skip

    before = dead_end_moments()
    live.click("#attach-moment")
    assert "Add this moment (" in live.inner_text("#attach-label")
    live.select_option("#attach-to", label="Checkout feels like a dead end (severity 4)")
    live.click("#attach-marker button[type=submit]")
    live.wait_for_selector("#toast:has-text('Added to “Checkout feels like a dead end”')")
    added = [m for m in dead_end_moments() if m not in before]
    assert len(added) == 1 and added[0]["session"] == 1 and not added[0].get("text")
    obs.goto(f"{server.url}/observe/{STUDY}/{key}/findings")
    obs.wait_for_selector("article.finding")
    assert obs.locator("#new-finding").count() == 0 and obs.locator("button.accept").count() == 0
    assert (
        obs.locator("article.finding input.finding-title").first.get_attribute("readonly")
        is not None
    )
    assert obs.locator("li.obs:has-text('She looked for the cart at the bottom')").count() == 1
    status, _ = server.request(
        "PATCH", f"/api/v1/studies/{STUDY}/findings/1", {"title": "x", "version": 9}
    )
    assert (
        status == 401
    )  # nobody's request; the observer's key gives 403 (tests/test_findings_api.py)

    # The report: hand-worked k of n and adjusted-Wald intervals (z = 1.959964, z² = 3.841459).
    # "Cart icon not recognised" (buy-shoes): P01, P02, P03 of the three who attempted it: 3 of 3,
    #   p_adj = 4.920729 / 6.841459 = 0.719246, half = 1.959964 * sqrt(0.719246 * 0.280754 / 6.841459)
    #   = 0.336726 -> [38%, 100%] (the upper bound clipped at 1).
    # "Checkout feels like a dead end" (buy-shoes): P01, P03: 2 of 3 -> [20%, 94%].
    # "Clicks on img.cart-icon ...": P01, P02: 2 of 3 -> [20%, 94%]. Per variant A: 2 of 2, B: 0 of 1.
    report = context_page(browser)
    report.goto(f"{server.url}/login?token={server.admin_token}&next=/studies/{STUDY}/report")
    section = report.locator("#findings")
    text = section.inner_text()
    assert text.index("Checkout feels like a dead end") < text.index(
        "Cart icon not recognised"
    )  # severity 4 first
    assert "3 of 3" in text and "38%–100%" in text
    assert "2 of 3" in text and "20%–94%" in text
    assert "Show the order summary before payment." in text
    assert "hunted for the cart again" in text and "P01" in text
    if SHOTS:
        section.screenshot(path=str(Path(SHOTS) / "report-findings.png"))
    # The one error logged is the browser's note of the 409 this test provoked.
    assert mod.errors == [
        "Failed to load resource: the server responded with a status of 409 (Conflict)"
    ]
    for page in (live, obs, report):
        assert page.errors == [], page.errors
