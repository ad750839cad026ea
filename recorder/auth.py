"""Who may do what: the moderator's bearer token, the console's signed cookie, CSRF tokens
and read-only observer links. One home for every authentication rule.

Design (nothing is stored: every secret is derived from the moderator token)
-------------------------------------------------------------------------------
- **Signing key** = HMAC-SHA256(moderator token, "uxlab console v1"). Changing the
  moderator token (``UXLAB_ADMIN_TOKEN``, or the one kept in the database)
  therefore signs every browser out and invalidates every observer link.
- **Sign-in** with the moderator token, either from the link ``uxlab serve``
  prints (``GET /login?token=...``, which redirects at once so that the token
  leaves the address bar) or from the sign-in form (``POST /login``). A
  participant's session token opens nothing: only the moderator token does.
- **Cookie** ``uxlab_console`` = ``v1.<issued>.<nonce>.<mac>``, the MAC over
  the issue time and a random nonce; ``HttpOnly``, ``SameSite=Lax``, ``Path=/``,
  ``Secure`` behind https. It lasts :data:`COOKIE_DAYS` days and is renewed
  (same nonce) by any console page opened when it is more than a day old.
- **CSRF**: the token is HMAC(key, "csrf." + nonce), so it is bound to the one
  signed-in browser. Pages carry it in ``<meta name="csrf-token">``; every
  state-changing request sends it as the ``X-CSRF-Token`` header (or the
  ``csrf`` form field of the sign-out form) and it is checked with
  :func:`hmac.compare_digest`. A request with an ``Origin`` header from
  elsewhere is refused too. Safe methods (GET, HEAD) need the cookie only.
- **Sign-out** drops the cookie in that browser. Nothing is kept server-side,
  so a copied cookie stays valid until it expires; change the moderator token
  to end every sign-in at once.
- **Observers** get a link per study, ``/observe/<study>/<key>``, with key =
  HMAC(key, "observer." + study) truncated to 128 bits. It opens that study's
  sessions and live views read-only (GET only; no controls, no session tokens
  or participant links in the pages) and nothing else.

Unauthenticated HTML pages answer ``401`` with the sign-in form in the body
(the browser shows the form, a script sees the status); JSON endpoints and
WebSockets answer the collector's JSON error shape.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
import unicodedata
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from aiohttp import web

from recorder.web import ADMIN_KEY, SETTINGS_KEY, ApiError, public_base, request_origin

COOKIE = "uxlab_console"
CSRF_HEADER = "X-CSRF-Token"
COOKIE_DAYS = 7
RENEW_AFTER_S = 86_400.0
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def signing_key(admin_token: str) -> bytes:
    """The key every console secret is signed with, derived from the moderator token."""
    return hmac.new(admin_token.encode(), b"uxlab console v1", hashlib.sha256).digest()


def _mac(key: bytes, message: str) -> str:
    return _b64(hmac.new(key, message.encode(), hashlib.sha256).digest())


def _key(request: web.Request) -> bytes:
    return signing_key(request.app[ADMIN_KEY])


@dataclass(frozen=True, slots=True)
class SignIn:
    """A valid sign-in cookie: when it was issued and its nonce."""

    issued: int
    nonce: str


def cookie_value(key: bytes, issued: int, nonce: str) -> str:
    """The signed cookie value for a sign-in issued at ``issued`` (epoch seconds)."""
    return f"v1.{issued}.{nonce}.{_mac(key, f'moderator.{issued}.{nonce}')}"


def read_cookie(request: web.Request) -> SignIn | None:
    """The request's sign-in, or None when the cookie is missing, forged or expired."""
    raw = request.cookies.get(COOKIE, "")
    parts = raw.split(".")
    # ASCII digits only, and few: str.isdigit() also says yes to "²", which int() refuses.
    if len(parts) != 4 or parts[0] != "v1" or not (parts[1].isascii() and parts[1].isdigit()):
        return None
    if len(parts[1]) > 12:
        return None
    issued, nonce = int(parts[1]), parts[2]
    expected = cookie_value(_key(request), issued, nonce)
    if not hmac.compare_digest(raw.encode(), expected.encode()):
        return None
    if not 0 <= time.time() - issued <= COOKIE_DAYS * 86_400:
        return None
    return SignIn(issued, nonce)


def csrf_token(key: bytes, nonce: str) -> str:
    """The CSRF token of the sign-in with this nonce."""
    return _mac(key, f"csrf.{nonce}")[:32]


def request_csrf(request: web.Request) -> str:
    """The CSRF token of the request's sign-in ('' when not signed in)."""
    sign_in = read_cookie(request)
    return csrf_token(_key(request), sign_in.nonce) if sign_in else ""


def csrf_ok(request: web.Request, given: str) -> bool:
    """True when ``given`` is the CSRF token of the request's sign-in."""
    sign_in = read_cookie(request)
    if sign_in is None or not given:
        return False
    return hmac.compare_digest(given.encode(), csrf_token(_key(request), sign_in.nonce).encode())


def own_origins(request: web.Request) -> set[str]:
    """Origins the console itself is served from (the request's host, and public_url)."""
    return {request_origin(request), "/".join(public_base(request).split("/")[:3])}


def foreign_origin(request: web.Request) -> str | None:
    """The request's ``Origin`` when it is another site's, else None."""
    origin = request.headers.get("Origin")
    if origin and origin not in own_origins(request):
        return origin
    return None


def console_refusal(request: web.Request) -> ApiError | None:
    """Why the console's cookie does not make this request the moderator's (None: it does).

    401 without a valid cookie; 403 for a state-changing request from another
    origin or without the sign-in's CSRF token in ``X-CSRF-Token``.
    """
    if read_cookie(request) is None:
        return ApiError(401, "sign in to the console first", {"WWW-Authenticate": "Bearer"})
    if request.method in SAFE_METHODS:
        return None
    origin = foreign_origin(request)
    if origin is not None:
        return ApiError(403, f"Origin: {origin} may not act for the moderator")
    if not csrf_ok(request, request.headers.get(CSRF_HEADER, "")):
        return ApiError(403, f"{CSRF_HEADER}: missing or wrong; reload the console page")
    return None


def set_sign_in(
    request: web.Request, response: web.StreamResponse, nonce: str | None = None
) -> None:
    """Put a freshly issued sign-in cookie on ``response``."""
    value = cookie_value(_key(request), int(time.time()), nonce or secrets.token_urlsafe(12))
    secure = request.secure or request.app[SETTINGS_KEY].public_url.startswith("https:")
    response.set_cookie(
        COOKIE, value, max_age=COOKIE_DAYS * 86_400, path="/", httponly=True,
        samesite="Lax", secure=secure,
    )  # fmt: skip


def renew_if_old(request: web.Request, response: web.StreamResponse) -> None:
    """Re-issue a day-old cookie (same nonce, so open pages keep their CSRF token)."""
    sign_in = read_cookie(request)
    if sign_in is not None and time.time() - sign_in.issued > RENEW_AFTER_S:
        set_sign_in(request, response, sign_in.nonce)


def is_admin_token(request: web.Request, given: str) -> bool:
    """True when ``given`` is the moderator token."""
    return bool(given) and hmac.compare_digest(given.encode(), request.app[ADMIN_KEY].encode())


def observer_key(key: bytes, study_id: str) -> str:
    """The secret part of a study's read-only observer link."""
    return _mac(key, f"observer.{study_id}")[:22]


def request_observer_key(request: web.Request, study_id: str) -> str:
    """The observer key of ``study_id`` under this server's moderator token."""
    return observer_key(_key(request), study_id)


def observer_ok(request: web.Request, study_id: str, given: str) -> bool:
    """True when ``given`` is the observer key of ``study_id``."""
    expected = request_observer_key(request, study_id)
    return hmac.compare_digest(given.encode(), expected.encode())


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site, never another site.

    Browsers drop tabs and newlines from a URL and read ``\\`` as ``/``, so
    ``/\t/evil.example`` or ``/\\evil.example`` would leave the site: any control
    character, whitespace or backslash refuses the target, and it must start
    with exactly one ``/``. Non-ASCII characters are percent-encoded, so the
    ``Location`` header is plain ASCII.
    """
    if not target or target[0] != "/" or target[1:2] == "/" or "\\" in target:
        return "/"
    if any(ch.isspace() or unicodedata.category(ch)[0] in "CZ" for ch in target):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return quote(target, safe="/?#&=%+:@!$'()*,;~[]-._")


# -- the moderator API ----------------------------------------------------------------------


def is_moderator(request: web.Request) -> bool:
    """True for the moderator's bearer token, or the console's sign-in cookie (with its
    CSRF token on requests that change something; see :func:`console_refusal`)."""
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() == "bearer" and given:
        return hmac.compare_digest(given.strip().encode(), request.app[ADMIN_KEY].encode())
    return console_refusal(request) is None


def require_moderator(request: web.Request) -> None:
    """401 unless the request is the moderator's; 403 for the console's cookie without CSRF."""
    if is_moderator(request):
        return
    refusal = console_refusal(request)
    if refusal is not None and refusal.status == 403:
        raise refusal
    raise ApiError(401, "Authorization: moderator token required", {"WWW-Authenticate": "Bearer"})
