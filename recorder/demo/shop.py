"""The demo prototype: a small shoe shop in two design variants, at ``/demo/A/`` and ``/demo/B/``.

It is what a new user tries first (``uxlab serve``, then the study in
``recorder/demo/study.toml``) and what the browser tests drive. Pages have clean
URLs whose keys, relative to the variant's URL, are ``/``, ``/shoes``,
``/shoes/{id}``, ``/cart``, ``/checkout``, ``/done``, ``/help`` and
``/help/{topic}`` (the help centre switches topics in the page, with
``history.pushState``). The cart lives in the tab's sessionStorage.

The variants differ where a usability test notices:

- A hides the cart and help behind an unlabelled menu icon, says nothing when
  shoes go into the cart, and its checkout form has placeholder-only fields and
  the browser's vague validation messages.
- B has visible, labelled Cart and Help links, confirms "Added to your cart"
  with a link to it, and its checkout form has labels, hints and specific
  inline errors.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

import jinja2
from aiohttp import web

from recorder import templating

HERE = Path(__file__).parent
EXAMPLE_STUDY = HERE / "study.toml"  # what `uxlab study example` writes
VARIANTS = {
    "A": "menu icon hides cart and help; vague form errors",
    "B": "visible Cart and Help; specific form errors",
}
HELP_TOPICS = {"shipping": "Shipping", "returns": "Returns", "payment": "Payment"}
ASSETS = {"shop.css": "text/css", "shop.js": "application/javascript"}


@dataclass(frozen=True, slots=True)
class Shoe:
    """One product of the demo shop."""

    id: int
    name: str
    kind: str
    price: int
    colour: str
    blurb: str


CATALOG = [
    Shoe(42, "Trailblazer 2", "Trail running", 89, "#2f855a",
         "Grippy lugs and a rock plate for muddy trails, at a friendly price."),
    Shoe(17, "Summit Pro", "Trail running", 139, "#c05621",
         "A cushioned ultra-distance trail shoe with a waterproof upper."),
    Shoe(23, "Roadrunner", "Road running", 95, "#2b6cb0",
         "A light daily trainer for pavement and park paths."),
    Shoe(77, "Scree Guard", "Trail running", 119, "#6b46c1",
         "Stiff, protective and stable on loose mountain ground."),
    Shoe(8, "Cloudstride", "Road running", 129, "#d53f8c",
         "Soft foam for long, easy road miles."),
    Shoe(31, "Ridgeline GTX", "Hiking", 159, "#744210",
         "A waterproof hiking boot for rough, wet days."),
    Shoe(56, "Metro Knit", "Everyday", 69, "#4a5568",
         "A breathable knit sneaker for the city."),
    Shoe(64, "Pace Racer", "Road racing", 149, "#e53e3e",
         "A carbon-plated racer for race day."),
]  # fmt: skip
SHOES = {shoe.id: shoe for shoe in CATALOG}


@cache
def _templates() -> jinja2.Environment:
    return templating.environment(HERE / "templates")


def render(variant: str, template: str, status: int = 200, **context: object) -> web.Response:
    """A page of the shop in ``variant``."""
    html = (
        _templates()
        .get_template(template)
        .render(
            variant=variant,
            base=f"/demo/{variant}",
            catalog=[asdict(shoe) for shoe in CATALOG],
            **context,
        )
    )
    return web.Response(text=html, status=status, content_type="text/html",
                        headers={"Cache-Control": "no-cache"})  # fmt: skip


def _variant(request: web.Request) -> str:
    variant = request.match_info["variant"]
    if variant not in VARIANTS:
        raise web.HTTPNotFound(text=f"no demo variant {variant!r}; try /demo/A/ or /demo/B/")
    return variant


def page(template: str, title: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    """A handler that renders one fixed page of the shop."""

    async def handler(request: web.Request) -> web.Response:
        return render(_variant(request), template, title=title, path=request.path)

    return handler


async def product(request: web.Request) -> web.Response:
    """``/shoes/{id}``: one shoe, or the shop's own "not found" page."""
    variant = _variant(request)
    shoe = SHOES.get(int(request.match_info["id"]))
    if shoe is None:
        return render(variant, "notfound.html", 404, title="Not found", path=request.path)
    return render(variant, "product.html", title=shoe.name, shoe=shoe, path=request.path)


async def help_topic(request: web.Request) -> web.Response:
    """``/help`` and ``/help/{topic}``: the help centre opened on one topic."""
    variant = _variant(request)
    topic = request.match_info.get("topic", "shipping")
    if topic not in HELP_TOPICS:
        return render(variant, "notfound.html", 404, title="Not found", path=request.path)
    return render(variant, "help.html", title=f"Help: {HELP_TOPICS[topic]}", topic=topic,
                  topics=HELP_TOPICS, path=request.path)  # fmt: skip


async def asset(request: web.Request) -> web.Response:
    """The shop's stylesheet and script (shared by both variants)."""
    name = request.match_info["name"]
    if name not in ASSETS:
        raise web.HTTPNotFound()
    return web.Response(body=(HERE / "assets" / name).read_bytes(), content_type=ASSETS[name],
                        headers={"Cache-Control": "no-cache"})  # fmt: skip


async def index(request: web.Request) -> web.Response:
    """``/demo/``: the two variants, and how to record a session on them."""
    html = _templates().get_template("index.html").render(variants=VARIANTS)
    return web.Response(text=html, content_type="text/html")


async def add_slash(request: web.Request) -> web.Response:
    """``/demo/A`` -> ``/demo/A/``, keeping the query (it carries the session token)."""
    query = request.query_string
    raise web.HTTPFound(request.path + "/" + (f"?{query}" if query else ""))


def add_routes(app: web.Application) -> None:
    """Register the demo shop's GET routes under ``/demo/``."""
    add = app.router.add_get
    add("/demo", add_slash)
    add("/demo/", index)
    add("/demo/{variant}", add_slash)
    add("/demo/{variant}/", page("home.html", "Running shoes"))
    add("/demo/{variant}/shoes", page("shoes.html", "Shoes"))
    add(r"/demo/{variant}/shoes/{id:[0-9]{1,6}}", product)
    add("/demo/{variant}/cart", page("cart.html", "Your cart"))
    add("/demo/{variant}/checkout", page("checkout.html", "Checkout"))
    add("/demo/{variant}/done", page("done.html", "Order placed"))
    add("/demo/{variant}/help", help_topic)
    add("/demo/{variant}/help/{topic}", help_topic)
    add("/demo/{variant}/assets/{name}", asset)
