"""Page keys: the one rule that turns a page's URL into the page it is (README, "Pages and routes").

A key is the URL's path relative to the variant's URL (where it starts with
it; no query, no trailing slash but on ``/``), then:

1. **Hash routes.** A fragment that is a route is kept: ``/#/completed``.
   ``hash_routes = "auto"`` (the default) takes a fragment starting with
   ``#/`` or ``#!/`` as a route (``#!`` is written ``#``), ``true`` takes every
   fragment (``#inbox`` becomes ``/#/inbox``), ``false`` none. A route's own
   query and trailing slash are dropped, and the root route (``#/``) is the
   page itself: ``/#/`` is ``/``.
2. **Aliases.** ``{"/index.html" = "/"}``: the path, then the whole key, are
   looked up and replaced.
3. **Patterns.** The first of ``patterns`` that matches names the page:
   ``/note/du30zwl`` is ``/note/*``. In a pattern ``*`` matches within one
   segment, ``**`` across segments, ``?`` one character and ``:name`` one
   whole segment.

The same rules apply to the keys a study file writes (success criteria,
expected paths). The console's live criteria use the twin in
``recorder/console/static/console_rules.js``; both are tested against
``tests/cases/page_keys.json``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

HASH_MODES: tuple[str | bool, ...] = ("auto", True, False)
_NAME_SEGMENT = re.compile(r":[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True, slots=True)
class Pages:
    """A study's ``[pages]`` table: how URLs become page keys."""

    hash_routes: str | bool = "auto"
    patterns: tuple[str, ...] = ()
    aliases: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, object]:
        """The table in the shape of the study file."""
        return {"hash_routes": self.hash_routes, "patterns": list(self.patterns),
                "aliases": dict(self.aliases)}  # fmt: skip


DEFAULT = Pages()


def pages_from_json(doc: dict[str, Any]) -> Pages:
    """A :class:`Pages` back from :meth:`Pages.as_json` (keys already in key form)."""
    return Pages(hash_routes=doc.get("hash_routes", "auto"),
                 patterns=tuple(doc.get("patterns", ())), aliases=dict(doc.get("aliases", {})))  # fmt: skip


def _strip(path: str) -> str:
    return path.rstrip("/") or "/"


def route(fragment: str, hash_routes: str | bool) -> str | None:
    """The route a URL fragment names (``/completed``), or None when it is not one."""
    if hash_routes is False or not fragment:
        return None
    if fragment.startswith("!"):
        fragment = fragment[1:]
    if not fragment.startswith("/"):
        if hash_routes != True:  # noqa: E712 -- "auto" is truthy too
            return None
        fragment = "/" + fragment
    routed = fragment.split("?", 1)[0].rstrip("/")
    return routed or None


def key_of(path: str, fragment: str, pages: Pages = DEFAULT) -> str:
    """The key of a page at ``path`` (already relative to the variant) with ``fragment``."""
    path = _strip(path)
    path = pages.aliases.get(path, path)
    routed = route(fragment, pages.hash_routes)
    key = path + "#" + routed if routed else path
    key = pages.aliases.get(key, key)
    for pattern in pages.patterns:
        if matches(pattern, key):
            return pattern
    return key


def page_key(url: str, variant_url: str, pages: Pages = DEFAULT) -> str:
    """A recorded page's key.

    ``page_key("http://h/demo/B/shoes/?x=1", "http://h/demo/B/") == "/shoes"``;
    ``page_key("http://h/app/#/active", "http://h/app/") == "/#/active"``.
    """
    base, bare = _bare(variant_url), _bare(url)
    inside = bare == base or bare.startswith(base + "/")
    if inside:
        path = bare[len(base) :]
    else:
        try:
            path = urlsplit(url).path
        except ValueError:  # no URL urlsplit reads (an unclosed "[" host): as the JS twin does
            path = bare
    fragment = url.split("#", 1)[1] if "#" in url else ""
    return key_of(path, fragment, pages)


def written_key(path: str, pages: Pages = DEFAULT) -> str:
    """A page key written in a study file (``/cart/``, ``/#/completed``), in the form keys take."""
    fragment = path.split("#", 1)[1] if "#" in path else ""
    return key_of(_bare(path), fragment, pages)


def fragment_problem(path: str, pages: Pages = DEFAULT) -> str | None:
    """Why a written key's fragment would be silently dropped, or None when it is fine."""
    if "#" not in path:
        return None
    fragment = path.split("#", 1)[1]
    if route(fragment, pages.hash_routes) is not None or fragment.strip("!/") == "":
        return None
    if pages.hash_routes is False:
        return "has a fragment, but [pages] hash_routes = false drops fragments"
    return 'has a fragment that is not a route (hash_routes = "auto" takes #/... and #!/...)'


def _bare(url: str) -> str:
    return url.split("#", 1)[0].split("?", 1)[0].rstrip("/")


def is_pattern(key: str) -> bool:
    """True when a key is a pattern (``*``, ``?`` or a ``:name`` segment) rather than one page."""
    return "*" in key or "?" in key or any(_NAME_SEGMENT.fullmatch(s) for s in key.split("/"))


@lru_cache(maxsize=1024)
def _regex(pattern: str) -> re.Pattern[str]:
    parts = []
    for i, segment in enumerate(pattern.split("/")):
        if i and _NAME_SEGMENT.fullmatch(segment):
            parts.append("[^/]+")
            continue
        body = re.sub(r"\\\*\\\*", ".*", re.escape(segment))
        body = body.replace(r"\*", "[^/]*").replace(r"\?", "[^/]")
        parts.append(body)
    return re.compile("/".join(parts))


def matches(pattern: str, key: str) -> bool:
    """True when ``key`` is one of the pages ``pattern`` names (or the pattern itself)."""
    return key == pattern or (is_pattern(pattern) and _regex(pattern).fullmatch(key) is not None)
