"""The demo shop (recorder/demo/shop.py) and its study file (recorder/demo/study.toml)."""

from __future__ import annotations

import asyncio
import re
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from aiohttp import web

from recorder.demo import shop as demo
from recorder.wire.studyfile import read_study

STUDY_FILE = Path(demo.__file__).parent / "study.toml"
PAGES = [
    "/",
    "/shoes",
    "/shoes/42",
    "/cart",
    "/checkout",
    "/done",
    "/help",
    "/help/returns",
    "/help/payment",
]


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    text: str


class Shop:
    """The demo routes alone, served from a thread of their own on a real socket.

    A thread and plain urllib keep these tests independent of any event loop
    that other fixtures (playwright's sync API) may hold in the main thread.
    """

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.url = ""
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()
        self.ready.wait(10)

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        app = web.Application()
        demo.add_routes(app)
        self.runner = web.AppRunner(app)
        self.loop.run_until_complete(self.runner.setup())
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        self.loop.run_until_complete(site.start())
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}"
        self.ready.set()
        self.loop.run_forever()
        self.loop.run_until_complete(self.runner.cleanup())
        self.loop.close()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    def get(self, path: str, follow: bool = True) -> Answer:
        opener = (
            urllib.request.build_opener() if follow else urllib.request.build_opener(_NoRedirect)
        )
        try:
            with opener.open(self.url + path, timeout=10) as resp:
                return Answer(resp.status, dict(resp.headers), resp.read().decode())
        except urllib.error.HTTPError as exc:
            return Answer(exc.code, dict(exc.headers), exc.read().decode())


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object) -> None:  # type: ignore[override]
        return None


@pytest.fixture(scope="module")
def shop() -> Iterator[Shop]:
    server = Shop()
    yield server
    server.stop()


@pytest.mark.parametrize("variant", ["A", "B"])
@pytest.mark.parametrize("path", PAGES)
def test_every_page_is_plain_html_that_loads_the_snippet(
    shop: Shop, variant: str, path: str
) -> None:
    resp = shop.get(f"/demo/{variant}{path}")
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/html")
    html = resp.text
    assert '<script src="/uxlab.js" async></script>' in html
    # No external resources: every src and href stays on this server.
    for url in re.findall(r'(?:src|href)="([^"]*)"', html):
        assert not urlsplit(url).netloc, url
    for url in re.findall(r'(?:src|href)="(/demo/[^"]*)"', html):
        assert shop.get(url).status == 200, url


@pytest.mark.parametrize(
    "path", ["/demo/C/", "/demo/A/shoes/999", "/demo/A/help/nothing", "/demo/A/assets/nope.js"]
)
def test_unknown_pages_are_404(shop: Shop, path: str) -> None:
    assert shop.get(path).status == 404


def test_a_variant_without_its_slash_redirects_keeping_the_token(shop: Shop) -> None:
    resp = shop.get("/demo/B?uxlab=tok123", follow=False)
    assert resp.status == 302
    assert resp.headers["Location"] == "/demo/B/?uxlab=tok123"


def test_the_variants_differ_in_how_the_cart_is_reached(shop: Shop) -> None:
    a = shop.get("/demo/A/shoes/42").text
    b = shop.get("/demo/B/shoes/42").text
    # A: an icon button with no text and no accessible name; the cart link hides in its menu.
    toggle = re.search(r'<button id="menu-toggle"[^>]*>(.*?)</button>', a, re.S)
    assert toggle and "aria-label" not in toggle.group(0)
    assert re.sub(r"<[^>]+>", "", toggle.group(1)).strip() == ""
    assert 'id="menu-cart"' in a and 'id="cart-link"' not in a and 'id="view-cart"' not in a
    # B: a visible, labelled Cart link and a confirmation that links to the cart.
    assert re.search(r'<a id="cart-link"[^>]*>Cart ', b)
    assert 'id="view-cart"' in b and 'id="menu-toggle"' not in b


@pytest.mark.parametrize("variant", ["A", "B"])
def test_checkout_validates_in_the_browser(shop: Shop, variant: str) -> None:
    html = shop.get(f"/demo/{variant}/checkout").text
    form = re.search(r"<form.*?</form>", html, re.S)
    assert form
    fields = dict(re.findall(r'<input id="(\w+)"([^>]*)>', form.group(0)))
    assert set(fields) == {"name", "email", "address", "zip", "card", "expiry"}
    assert all("required" in attrs for attrs in fields.values())
    assert 'type="email"' in fields["email"]
    assert re.search(r'pattern="\\d\{5\}"', fields["zip"])
    assert ("novalidate" in form.group(0)) is (variant == "B")  # B shows its own messages
    assert ("<label" in form.group(0)) is (variant == "B")  # A: placeholders only


def test_the_catalog_has_one_trail_running_shoe_under_100_and_it_is_42() -> None:
    cheap_trail = [s.id for s in demo.CATALOG if s.kind == "Trail running" and s.price < 100]
    assert cheap_trail == [42]


def test_the_study_file_matches_the_shop(shop: Shop) -> None:
    study, text = read_study(STUDY_FILE)
    assert study.id == "demo-shop"
    assert study.origins == ["http://127.0.0.1:8642"]
    assert "http://127.0.0.1:8642" in text  # `uxlab study example --url` replaces this string
    assert [(v.id, v.url) for v in study.variants] == [
        ("A", "http://127.0.0.1:8642/demo/A/"),
        ("B", "http://127.0.0.1:8642/demo/B/"),
    ]
    assert study.questionnaires == {"after_task": "SEQ", "after_session": ["SUS"]}
    tasks = {t.id: t for t in study.tasks}
    assert set(tasks) == {"find-shoes", "checkout", "find-returns"}
    for variant in study.variants:
        base = urlsplit(variant.url).path.rstrip("/")
        for task in study.tasks:
            for key in [*task.expected_path, task.success.get("url", "/")]:
                assert shop.get(base + key).status == 200, (variant.id, task.id, key)
        returns = shop.get(base + "/help/returns").text
        assert 'id="returns-days"' in returns
    assert tasks["find-returns"].success == {"click": "#returns-days"}
    assert tasks["checkout"].success == {"event": "order-placed"}
    shop_js = (Path(demo.__file__).parent / "assets" / "shop.js").read_text()
    assert "uxlab.track('order-placed'" in shop_js
