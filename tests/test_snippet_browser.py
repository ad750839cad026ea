"""The built snippet in real headless Chromium against a real ``uxlab serve`` and the demo shop.

Every assertion reads what reached the SQLite database (or what left the page):
event types and order, page keys, selectors, labels, ``interactive`` flags, click
coordinates, delivery across page loads, collector restarts and blocked networks.
Noise the visit does not control (scroll, resize, visibility) is filtered out
where a test is not about it; the reactions that dead clicks are made of are left
out of ``Shop.events`` (tests/test_pages_browser.py checks them).
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.browser

STUDY = "demo-shop"
VIEWPORT = {"width": 1200, "height": 800}
ACTIONS = {"page", "click", "input", "submit", "invalid", "custom"}
# What the participant types at checkout: none of it may leave the page.
TYPED = {"name": "Jane Q. Tester", "email": "jane.tester", "address": "1 Secret Lane",
         "zip": "12-34", "card": "4242 4242 4242 4242", "expiry": "12/30"}  # fmt: skip
SECRETS = [
    "Jane",
    "Tester",
    "jane.tester",
    "Secret Lane",
    "4242 4242",
    "4242424242424242",
    "12/30",
    "12-34",
]

EVENTS_SQL = """
    SELECT pl.key, e.seq, e.type, p.url, t.selector, l.text, e.interactive, e.x, e.y, e.value, e.kind, e.data
    FROM events e JOIN sessions s ON s.id = e.session_id JOIN page_loads pl ON pl.id = e.load_id
    LEFT JOIN pages p ON p.id = e.page_id LEFT JOIN targets t ON t.id = e.target_id
    LEFT JOIN labels l ON l.id = e.label_id
    WHERE s.token = ? ORDER BY e.t, e.seq
"""
TYPE_NAMES = {1: "page", 2: "click", 3: "input", 4: "submit", 5: "invalid", 6: "scroll",
              7: "visibility", 8: "error", 9: "resize", 10: "custom", 11: "reaction"}  # fmt: skip


@dataclass
class Event:
    """One stored event, as a test reads it."""

    load: str
    seq: int
    type: str
    url: str | None
    sel: str | None
    label: str | None
    interactive: int | None
    x: float | None
    y: float | None
    value: float | None
    kind: int | None
    data: dict[str, Any] = field(default_factory=dict)


def page_key(url: str, variant_url: str) -> str:
    """DESIGN's page key: the path relative to the variant's URL, no query or trailing slash."""
    path = urlsplit(url).path
    base = urlsplit(variant_url).path.rstrip("/")
    if path.startswith(base):
        path = path[len(base) :]
    path = path.rstrip("/")
    return path or "/"


class Shop:
    """The demo study on a running server, and what its sessions stored."""

    def __init__(self, server: Any, browser: Any) -> None:
        self.server, self.browser = server, browser
        self.contexts: list[Any] = []
        server.load_study()

    def session(self, variant: str = "B", participant: str = "P01") -> str:
        return str(self.server.new_session(STUDY, participant, variant))

    def link(self, token: str | None, variant: str = "B", path: str = "/") -> str:
        url = f"{self.server.url}/demo/{variant}{path}"
        return f"{url}?uxlab={token}" if token else url

    def context(self) -> Any:
        """A fresh browser profile (closed with the fixture; close pages to end a visit)."""
        context = self.browser.new_context(viewport=VIEWPORT)
        self.contexts.append(context)
        return context

    def events(self, token: str, reactions: bool = False) -> list[Event]:
        conn = sqlite3.connect(f"file:{self.server.db_path}?mode=ro", uri=True)
        try:
            rows = conn.execute(EVENTS_SQL, (token,)).fetchall()
        finally:
            conn.close()
        every = Events(Event(r[0], r[1], TYPE_NAMES.get(r[2], str(r[2])), *r[3:11], json.loads(r[11] or "{}"))
                       for r in rows)  # fmt: skip
        if reactions:
            return every
        shown = Events(e for e in every if e.type != "reaction")
        shown.every = every
        return shown

    def wait(self, token: str, until: Callable[[list[Event]], bool], timeout: float = 30.0,
             page: Any = None) -> list[Event]:  # fmt: skip
        """Poll the database until ``until(events)`` holds.

        Give the ``page`` whose routes must keep answering: sync playwright runs route
        handlers only while the test is inside a playwright call.
        """
        deadline = time.monotonic() + timeout
        while True:
            events = self.events(token)
            if until(events):
                return events
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"timed out; stored so far: {[(e.type, e.seq, e.sel) for e in events]}"
                )
            if page is None:
                time.sleep(0.1)
            else:
                page.wait_for_timeout(100)


@pytest.fixture
def shop(server: Any, browser: Any) -> Iterator[Shop]:
    shop = Shop(server, browser)
    yield shop
    for context in shop.contexts:
        context.close()


def actions(events: list[Event], variant: str = "B", server_url: str = "") -> list[tuple[Any, ...]]:
    """The participant's actions in order: (type, page key or selector, label, interactive)."""
    out: list[tuple[Any, ...]] = []
    for e in events:
        if e.type not in ACTIONS:
            continue
        if e.type == "page":
            out.append(
                ("page", page_key(e.url or "", f"/demo/{variant}/"), bool(e.data.get("spa")))
            )
        elif e.type == "click":
            out.append(("click", e.sel, e.label, bool(e.interactive)))
        elif e.type == "invalid":
            out.append(("invalid", e.sel, e.data.get("kind")))
        elif e.type == "custom":
            out.append(("custom", e.label, e.data.get("data")))
        else:
            out.append((e.type, e.sel))
    return out


class Events(list[Event]):
    """Stored events; ``every`` also holds the reactions left out (for seq checks)."""

    every: list[Event] | None = None


def complete(events: list[Event], loads: int) -> bool:
    """Every one of ``loads`` page loads has its events 0..n-1, none missing."""
    seqs: dict[str, list[int]] = {}
    for e in getattr(events, "every", None) or events:
        seqs.setdefault(e.load, []).append(e.seq)
    return len(seqs) == loads and all(sorted(s) == list(range(len(s))) for s in seqs.values())


class Visit:
    """A participant's tab: clicks that remember where the target was."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.boxes: list[tuple[str, str, dict[str, float], tuple[float, float]]] = []
        self.bodies: list[str] = []
        page.on("request", self._request)
        self.errors: list[str] = []
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def _request(self, request: Any) -> None:
        if request.method == "POST":
            self.bodies.append(request.post_data or "")

    def click(self, selector: str, navigates: bool = False) -> None:
        target = self.page.locator(selector)
        target.scroll_into_view_if_needed()
        box = target.bounding_box()
        scroll = self.page.evaluate("[scrollX, scrollY]")
        tag = target.evaluate("el => el.tagName.toLowerCase()")
        self.boxes.append((selector, tag, box, tuple(scroll)))
        if navigates:
            with self.page.expect_navigation():
                target.click()
        else:
            target.click()

    def fill(self, values: dict[str, str]) -> None:
        for name, value in values.items():
            self.page.fill(f"#{name}", value)

    def stats(self) -> dict[str, Any]:
        return dict(self.page.evaluate("uxlab.stats()"))


def shop_visit_b(visit: Visit, link: str) -> None:
    """A participant on variant B finds the shoes, checks out, and looks up returns."""
    page = visit.page
    page.goto(link)
    visit.click("#nav-shoes", navigates=True)
    visit.click("#shoe-42", navigates=True)
    visit.click("#product-name")  # a heading: not interactive
    visit.click("#add-to-cart")
    visit.click("#view-cart", navigates=True)
    visit.click("#checkout-button", navigates=True)
    visit.fill(TYPED)
    visit.click("#place-order")  # email and zip are wrong
    visit.fill({"email": "jane.tester@example.org", "zip": "90210"})
    visit.click("#place-order", navigates=True)
    page.wait_for_url(re.compile(r"/done$"))
    visit.click("#order-email")  # masked: shows the typed email
    visit.click("#nav-help", navigates=True)
    visit.click("#tab-returns")  # pushState
    visit.click("#returns-days")
    page.go_back()  # popstate
    page.wait_for_url(re.compile(r"/help$"))


EXPECTED_B = [
    ("page", "/", False),
    ("click", "#nav-shoes", "Shoes", True),
    ("page", "/shoes", False),
    ("click", "#shoe-42", "Trailblazer 2 Trail running $89", True),
    ("page", "/shoes/42", False),
    ("click", "#product-name", "Trailblazer 2", False),
    ("click", "#add-to-cart", "Add to cart", True),
    ("click", "#view-cart", "View cart", True),
    ("page", "/cart", False),
    ("click", "#checkout-button", "Go to checkout", True),
    ("page", "/checkout", False),
    ("input", "#name"), ("input", "#email"), ("input", "#address"),
    ("input", "#zip"), ("input", "#card"), ("input", "#expiry"),
    ("click", "#place-order", "Place order", True),
    ("submit", "#checkout-form"),
    ("invalid", "#email", "typeMismatch"),
    ("invalid", "#zip", "patternMismatch"),
    ("input", "#email"), ("input", "#zip"),
    ("click", "#place-order", "Place order", True),
    ("submit", "#checkout-form"),
    ("page", "/done", False),
    ("custom", "order-placed", {"items": 1, "total": 89}),
    ("click", "#order-email", None, False),
    ("click", "#nav-help", "Help", True),
    ("page", "/help", False),
    ("click", "#tab-returns", "Returns", True),
    ("page", "/help/returns", True),
    ("click", "#returns-days", "How long do I have to return shoes?", True),
    ("page", "/help", True),
]  # fmt: skip


def test_a_scripted_visit_stores_exactly_the_expected_events(shop: Shop) -> None:
    token = shop.session("B")
    context = shop.context()
    visit = Visit(context.new_page())
    shop_visit_b(visit, shop.link(token, "B"))
    last = visit.stats()
    visit.page.close()  # pagehide sends what is left

    events = shop.wait(token, lambda ev: complete(ev, 7) and len(ev) >= len(EXPECTED_B))
    assert actions(events) == EXPECTED_B
    assert visit.errors == []
    # Only the participant's link carried the token, and the collector keeps no URL with it:
    # the first page is stored as the variant's root; the session survived six page loads.
    assert next(e.url or "" for e in events if e.type == "page").endswith("/demo/B/")
    assert not any(token in (e.url or "") for e in events)
    assert (
        last["seq"]
        == max(e.seq for e in shop.events(token, reactions=True) if e.load == last["page"]) + 1
    )
    # Every click sits inside the element clicked, in page and viewport coordinates.
    clicks = [e for e in events if e.type == "click"]
    assert len(clicks) == len(visit.boxes)
    for event, (selector, tag, box, (sx, sy)) in zip(clicks, visit.boxes, strict=True):
        vx, vy = event.data["vx"], event.data["vy"]
        assert box["x"] - 1 <= vx <= box["x"] + box["width"] + 1, selector
        assert box["y"] - 1 <= vy <= box["y"] + box["height"] + 1, selector
        assert (event.x, event.y) == pytest.approx((vx + sx, vy + sy), abs=1.5), selector
        assert event.data["tag"] == tag, selector
    # A real page load carries its Navigation Timing figures; an SPA route change does not.
    loads = [e for e in events if e.type == "page"]
    for event in loads:
        timing = event.data.get("timing")
        if event.data.get("spa"):
            assert timing is None
        else:
            assert timing and 0 < timing["ttfb"] <= timing["dcl"] <= timing["load"], event
        assert event.x == VIEWPORT["width"] and event.y == VIEWPORT["height"]


def test_typed_text_never_leaves_the_page(shop: Shop) -> None:
    token = shop.session("A")
    context = shop.context()
    visit = Visit(context.new_page())
    page = visit.page
    page.goto(shop.link(token, "A", "/shoes/42"))
    visit.click("#add-to-cart")
    visit.click("#menu-toggle")  # variant A: the cart hides behind an unlabelled icon
    visit.click("#menu-cart", navigates=True)
    visit.click("#checkout-button", navigates=True)
    visit.fill(TYPED)
    visit.click("#place-order")  # the browser's own messages quote what was typed
    visit.fill({"email": "jane.tester@example.org", "zip": "90210", "card": "4242424242424242"})
    visit.click("#place-order", navigates=True)
    page.wait_for_url(re.compile(r"/done$"))
    visit.click("#order-email")
    page.close()

    events = shop.wait(token, lambda ev: complete(ev, 4) and any(e.type == "custom" for e in ev)
                       and ev[-1].type == "click")  # fmt: skip
    assert [a for a in actions(events, "A") if a[0] in ("click", "invalid")][:3] == [
        ("click", "#add-to-cart", "Add to cart", True),
        ("click", "#menu-toggle", None, True),  # an icon without a name
        ("click", "#menu-cart", "Cart", True),
    ]
    invalid = [e for e in events if e.type == "invalid"]
    assert {(e.sel, e.data["kind"]) for e in invalid} == {
        ("#email", "typeMismatch"),
        ("#zip", "patternMismatch"),
        ("#card", "patternMismatch"),
    }
    # Chromium's typeMismatch message quotes the value: it is left out, the kind stays.
    assert [e.label for e in invalid if e.sel == "#email"] == [None]
    inputs = {e.sel: e.value for e in events if e.type == "input"}
    assert inputs["#name"] == len(TYPED["name"]) and inputs["#card"] == len("4242424242424242")
    assert visit.bodies, "no request left the page"
    for body in visit.bodies:
        for secret in SECRETS:
            assert secret not in body
    conn = sqlite3.connect(shop.server.db_path)
    stored = "\n".join(repr(row) for table in ("events", "pages", "targets", "labels", "page_loads")
                       for row in conn.execute(f"SELECT * FROM {table}"))  # fmt: skip
    conn.close()
    assert "order-placed" in stored
    for secret in SECRETS:
        assert secret not in stored


def test_a_validation_message_quoting_part_of_the_email_stays_in_the_page(shop: Shop) -> None:
    # Chromium says "'.' is used at a wrong position in 'Zq9Sekrit..com'": the message
    # quotes only the part after the '@', so it never contained the whole value.
    token = shop.session("B")
    visit = Visit(shop.context().new_page())
    visit.page.goto(shop.link(token, "B", "/checkout"))
    visit.fill({"email": "me@Zq9Sekrit..com"})
    message = visit.page.eval_on_selector("#email", "el => el.validationMessage")
    assert "Zq9Sekrit" in message  # the browser does quote it
    visit.click("#place-order")
    events = shop.wait(token, lambda ev: any(e.type == "invalid" and e.sel == "#email" for e in ev),
                       page=visit.page)  # fmt: skip
    visit.page.close()
    invalid = [(e.sel, e.label, e.data) for e in events if e.type == "invalid"]
    assert ("#email", None, {"kind": "typeMismatch"}) in invalid  # the other fields are empty
    assert {(label, tuple(data)) for _, label, data in invalid} == {(None, ("kind",))}
    assert visit.bodies and not [b for b in visit.bodies if "Zq9Sekrit" in b]
    db = shop.server.db_path
    for path in (db, db.with_name(db.name + "-wal")):
        if path.exists():
            assert b"Zq9Sekrit" not in path.read_bytes(), path.name


def test_spa_route_changes_are_pages_and_anchors_are_not(shop: Shop) -> None:
    token = shop.session("B")
    context = shop.context()
    visit = Visit(context.new_page())
    page = visit.page
    page.goto(shop.link(token, "B", "/help"))
    visit.click("#tab-payment")  # pushState
    page.evaluate("history.replaceState({}, '', location.href)")  # same URL: nothing new
    page.evaluate("location.hash = 'faq'")  # an in-page anchor
    page.evaluate("location.hash = '#/orders/7'")  # a hash route
    page.go_back()  # back to #faq: popstate and hashchange, one route change
    page.evaluate("history.replaceState({}, '', '/demo/B/help/returns')")
    page.go_back()
    page.wait_for_function("location.pathname.endsWith('/help/payment')")
    page.close()

    events = shop.wait(token, lambda ev: sum(e.type == "page" for e in ev) >= 6)
    pages = [(page_key(e.url or "", "/demo/B/"), urlsplit(e.url or "").fragment, bool(e.data.get("spa")))
             for e in events if e.type == "page"]  # fmt: skip
    assert pages == [
        ("/help", "", False),
        ("/help/payment", "", True),
        ("/help/payment", "/orders/7", True),
        ("/help/payment", "faq", True),
        ("/help/returns", "", True),
        ("/help/payment", "", True),
    ]


def test_without_a_token_nothing_is_recorded_and_nothing_breaks(shop: Shop) -> None:
    context = shop.context()
    visit = Visit(context.new_page())
    page = visit.page
    page.goto(shop.link(None, "B", "/shoes/42"))
    visit.click("#add-to-cart")
    visit.click("#view-cart", navigates=True)
    page.goto(shop.link(None, "B", "/done"))
    assert page.evaluate("uxlab.track('order-placed', {items: 1})") is False
    assert page.evaluate("uxlab.stats()") is None
    page.wait_for_timeout(1500)
    page.close()
    assert visit.errors == []
    assert visit.bodies == []


def test_the_script_tag_can_carry_the_session(shop: Shop) -> None:
    token = shop.session("B")
    context = shop.context()
    page = context.new_page()
    url = f"{shop.server.url}/tagged"
    html = (f'<!doctype html><title>Tagged</title><button id="go">Go</button>'
            f'<script src="/uxlab.js" data-session="{token}"></script>')  # fmt: skip
    page.route(url, lambda route: route.fulfill(body=html, content_type="text/html"))
    page.goto(url)
    page.click("#go")
    page.close()
    events = shop.wait(token, lambda ev: len(ev) >= 2)
    assert [(e.type, e.url or e.sel) for e in events] == [("page", url), ("click", "#go")]


def test_events_queued_at_pagehide_arrive(shop: Shop) -> None:
    token = shop.session("B")
    context = shop.context()
    page = context.new_page()
    page.goto(shop.link(token, "B", "/shoes/42"))
    shop.wait(token, lambda ev: len(ev) == 1)  # the page event has gone out
    page.click("#product-name")
    page.click("#add-to-cart")
    page.close()  # well before the batch's 1 s timer: only pagehide can send them
    events = shop.wait(token, lambda ev: len(ev) >= 3, timeout=10)
    assert [(e.type, e.sel) for e in events] == [("page", None), ("click", "#product-name"),
                                                 ("click", "#add-to-cart")]  # fmt: skip


def test_a_collector_restart_loses_nothing_and_stores_nothing_twice(shop: Shop) -> None:
    token = shop.session("B")
    context = shop.context()
    visit = Visit(context.new_page())
    page = visit.page
    page.goto(shop.link(token, "B", "/help"))
    shop.wait(token, lambda ev: len(ev) == 1)
    shop.server.stop()
    visit.click("#tab-returns")
    visit.click("#returns-days")
    visit.click("#tab-payment")
    page.wait_for_timeout(1500)  # a send fails and waits to retry
    shop.server.start()
    visit.click("#nav-shoes", navigates=True)
    visit.click("#shoe-42", navigates=True)
    page.close()
    events = shop.wait(token, lambda ev: complete(ev, 3) and ev[-1].type == "page")
    assert actions(events) == [
        ("page", "/help", False),
        ("click", "#tab-returns", "Returns", True),
        ("page", "/help/returns", True),
        ("click", "#returns-days", "How long do I have to return shoes?", True),
        ("click", "#tab-payment", "Payment", True),
        ("page", "/help/payment", True),
        ("click", "#nav-shoes", "Shoes", True),
        ("page", "/shoes", False),
        ("click", "#shoe-42", "Trailblazer 2 Trail running $89", True),
        ("page", "/shoes/42", False),
    ]


class PageCache:
    """Serves the shop's pages from memory, so that they load while the collector is down."""

    def __init__(self) -> None:
        self.responses: dict[str, Any] = {}

    def __call__(self, route: Any) -> None:
        key = route.request.url.split("?")[0]
        if key not in self.responses:
            response = route.fetch()
            self.responses[key] = {"status": response.status, "headers": response.headers,
                                   "body": response.body()}  # fmt: skip
        route.fulfill(**self.responses[key])

    def warm(self, context: Any, urls: list[str]) -> None:
        context.route("**/demo/**", self)
        context.route("**/uxlab.js", self)
        page = context.new_page()
        for url in urls:
            page.goto(url)  # no token: nothing is recorded
        page.close()


def test_events_kept_across_page_loads_while_the_collector_is_down_arrive_once(shop: Shop) -> None:
    token = shop.session("B")
    cache = PageCache()
    cache.warm(shop.context(), [shop.link(None, "B", p) for p in ("/shoes", "/shoes/42", "/cart")])
    context = shop.context()
    context.route("**/demo/**", cache)
    context.route("**/uxlab.js", cache)
    visit = Visit(context.new_page())
    page = visit.page
    shop.server.stop()
    page.goto(shop.link(token, "B", "/shoes"))
    visit.click("#shoe-42", navigates=True)
    visit.click("#add-to-cart")
    page.wait_for_timeout(1500)
    kept = page.evaluate("""Object.keys(localStorage).filter(k => k.startsWith('uxlab:q:'))
        .flatMap(k => JSON.parse(localStorage.getItem(k)))""")
    # This page load adopted the first one's unsent events and keeps them with its own.
    own = page.evaluate("uxlab.stats().page")
    held = {"first": 0, "own": 0}
    for batch in kept:
        held["own" if batch["p"] == own else "first"] += batch["n"]
    # Each: its page, the click, and the click's reaction (navigating away; the cart's count).
    assert held == {"first": 3, "own": 3}
    assert shop.events(token) == []
    shop.server.start()
    visit.click("#view-cart", navigates=True)
    events = shop.wait(token, lambda ev: complete(ev, 3))
    assert actions(events) == [
        ("page", "/shoes", False),
        ("click", "#shoe-42", "Trailblazer 2 Trail running $89", True),
        ("page", "/shoes/42", False),
        ("click", "#add-to-cart", "Add to cart", True),
        ("click", "#view-cart", "View cart", True),
        ("page", "/cart", False),
    ]
    page.wait_for_function("!Object.keys(localStorage).some(k => k.startsWith('uxlab:q:'))")
    page.close()


class Collector:
    """Answers the snippet's first requests with a status, then lets them through."""

    def __init__(self, statuses: list[int], headers: dict[str, str] | None = None) -> None:
        self.statuses, self.headers = list(statuses), headers or {}
        self.times: list[float] = []

    def __call__(self, route: Any) -> None:
        self.times.append(time.monotonic())
        if not self.statuses:
            route.continue_()
        elif (status := self.statuses.pop(0)) == 0:
            route.abort()
        else:
            route.fulfill(status=status, headers=self.headers, content_type="application/json",
                          body=json.dumps({"error": "test", "status": status}))  # fmt: skip


@pytest.mark.parametrize("status", [0, 408, 429, 500, 503])
def test_network_errors_408_429_and_5xx_are_retried(shop: Shop, status: int) -> None:
    token = shop.session("B")
    context = shop.context()
    collector = Collector([status, status])
    context.route("**/api/v1/collect", collector)
    page = context.new_page()
    page.goto(shop.link(token, "B", "/shoes/42"))
    events = shop.wait(token, lambda ev: len(ev) == 1, page=page)
    page.close()
    assert events[0].type == "page"
    assert len(collector.times) == 3
    first, second = collector.times[1] - collector.times[0], collector.times[2] - collector.times[1]
    assert 0.45 <= first <= 1.6 and second >= first * 0.99  # exponential backoff with jitter


def test_retry_after_is_honoured(shop: Shop) -> None:
    token = shop.session("B")
    context = shop.context()
    collector = Collector([429], {"Retry-After": "3"})
    context.route("**/api/v1/collect", collector)
    page = context.new_page()
    page.goto(shop.link(token, "B", "/"))
    shop.wait(token, lambda ev: len(ev) == 1, page=page)
    page.close()
    assert collector.times[1] - collector.times[0] >= 2.9


@pytest.mark.parametrize("status", [400, 413])
def test_a_refused_batch_is_dropped_and_recording_goes_on(shop: Shop, status: int) -> None:
    token = shop.session("B")
    context = shop.context()
    collector = Collector([status])
    context.route("**/api/v1/collect", collector)
    page = context.new_page()
    page.goto(shop.link(token, "B", "/shoes/42"))
    page.wait_for_function("uxlab.stats().queued === 0")
    page.click("#add-to-cart")
    events = shop.wait(token, lambda ev: len(ev) == 1, page=page)
    page.wait_for_timeout(1200)
    page.close()
    assert [(e.type, e.seq, e.sel) for e in shop.events(token)] == [("click", 1, "#add-to-cart")]
    assert events and len(collector.times) == 2  # the refused batch was not sent again


def test_a_closed_session_stops_the_recording(shop: Shop) -> None:
    token = shop.session("B")
    status, _ = shop.server.request(
        "POST", f"/api/v1/sessions/{token}/close", token=shop.server.admin_token
    )
    assert status == 200
    context = shop.context()
    visit = Visit(context.new_page())
    page = visit.page
    page.goto(shop.link(token, "B", "/shoes/42"))
    page.wait_for_function("uxlab.stats().queued === 0")
    page.click("#add-to-cart")
    page.click("#product-name")
    page.wait_for_timeout(1500)
    page.close()
    assert len(visit.bodies) == 1  # the 403 ended it: no retries, nothing more recorded
    assert visit.errors == []


def test_masked_and_ignored_elements_and_keyboard_and_label_clicks(shop: Shop) -> None:
    token = shop.session("B")
    context = shop.context()
    page = context.new_page()
    page.goto(shop.link(token, "B", "/checkout"))
    page.evaluate("""document.querySelector('main').insertAdjacentHTML('beforeend',
        '<div data-uxlab-ignore><button id="ignored">Not recorded</button></div>' +
        '<p id="masked" data-uxlab-mask>Private text</p>' +
        '<button id="partly">Buy <span data-uxlab-mask>private</span> now</button>' +
        '<div onclick="1"><span id="inside">Clickable box</span></div>')""")
    page.click("#ignored")
    page.click("#masked")
    page.click("#partly")
    page.click("#inside")
    page.click("label[for=email]")  # the label passes its click to the field: one click
    page.focus("#place-order")
    box = page.locator("#place-order").bounding_box()
    page.keyboard.press("Enter")  # a keyboard click: no pointer position
    page.close()
    events = shop.wait(token, lambda ev: sum(e.type == "click" for e in ev) >= 5)
    clicks = [(e.sel, e.label, bool(e.interactive)) for e in events if e.type == "click"]
    assert clicks == [
        ("#masked", None, False),
        ("#partly", "Buy now", True),
        ("main > div:nth-of-type(2)", "Clickable box", True),  # onclick on an ancestor
        ("#checkout-form > div:nth-of-type(2) > label", "Email", True),
        ("#place-order", "Place order", True),
    ]
    keyed = [e for e in events if e.type == "click"][-1]
    assert keyed.data["vx"] == pytest.approx(box["x"] + box["width"] / 2, abs=1)
    assert keyed.data["vy"] == pytest.approx(box["y"] + box["height"] / 2, abs=1)
    assert "Private" not in repr(events) and "private" not in repr(events)


def test_errors_resizes_scrolls_visibility_and_custom_events(shop: Shop) -> None:
    token = shop.session("B")
    context = shop.context()
    page = context.new_page()
    page.set_viewport_size({"width": 900, "height": 400})
    page.goto(shop.link(token, "B", "/shoes"))
    page.evaluate("setTimeout(() => { throw new Error('boom') })")
    page.evaluate("Promise.reject(new TypeError('nope')); 1")
    page.set_viewport_size({"width": 700, "height": 400})
    page.evaluate("scrollTo(0, document.documentElement.scrollHeight)")
    page.evaluate("""() => {
        const set = (state) => {
            Object.defineProperty(document, 'visibilityState', {value: state, configurable: true})
            document.dispatchEvent(new Event('visibilitychange'))
        }
        set('hidden'); set('visible')
    }""")
    assert page.evaluate("uxlab.track('filter', {kind: 'trail', max: 100})") is True
    assert page.evaluate("uxlab.track('too-big', {blob: 'x'.repeat(5000)})") is False
    page.wait_for_timeout(700)  # resize and scroll are throttled
    page.close()
    events = shop.wait(token, lambda ev: {"custom", "resize", "scroll"} <= {e.type for e in ev})
    seen = [e for e in events if e.type not in ("page", "click")]
    assert [(e.type, e.label) for e in seen if e.type == "error"] == [
        ("error", "Uncaught Error: boom"),
        ("error", "TypeError: nope"),
    ]
    assert [(e.x, e.y) for e in seen if e.type == "resize"] == [(700, 400)]
    assert [e.value for e in seen if e.type == "scroll"][-1] == 100
    assert [e.kind for e in seen if e.type == "visibility"] == [0, 1]  # hidden, visible
    assert [(e.label, e.data) for e in seen if e.type == "custom"] == [
        ("filter", {"data": {"kind": "trail", "max": 100}})
    ]


def test_stop_ends_the_recording_and_restores_history(shop: Shop) -> None:
    token = shop.session("B")
    context = shop.context()
    page = context.new_page()
    page.goto(shop.link(token, "B", "/help"))
    page.click("#tab-returns")
    page.evaluate("uxlab.stop()")
    assert page.evaluate("history.pushState.toString().includes('[native code]')")
    page.click("#tab-payment")
    page.click("#tab-shipping")
    page.wait_for_timeout(300)
    page.close()
    events = shop.wait(token, lambda ev: len(ev) >= 3)
    page_events = [(e.type, e.sel) for e in events]
    assert page_events == [("page", None), ("click", "#tab-returns"), ("page", None)]
