"""recorder/auth.py: the console's signed cookie, its expiry and renewal, CSRF, observer keys, safe_next.

The rules run inside a small aiohttp app over a real loopback socket
(aiohttp's test client), so cookies, headers and origins are the ones a
browser would send. The whole console is exercised end to end in
tests/test_console.py; here each rule is pinned on its own.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from aiohttp import web

from recorder import auth
from recorder.settings import Settings
from recorder.web import ADMIN_KEY, SETTINGS_KEY

TOKEN = "moderator-secret-token"
KEY = auth.signing_key(TOKEN)


async def _sign_in(request: web.Request) -> web.Response:
    response = web.json_response({})
    auth.set_sign_in(request, response)
    return response


async def _whoami(request: web.Request) -> web.Response:
    refusal = auth.console_refusal(request)
    sign_in = auth.read_cookie(request)
    response = web.json_response({
        "moderator": auth.is_moderator(request),
        "refusal": None if refusal is None else [refusal.status, refusal.message],
        "nonce": sign_in.nonce if sign_in else None,
        "csrf": auth.request_csrf(request),
    })  # fmt: skip
    auth.renew_if_old(request, response)
    return response


async def _observe(request: web.Request) -> web.Response:
    study, key = request.match_info["study"], request.match_info["key"]
    return web.json_response({"ok": auth.observer_ok(request, study, key)})


def make_app(token: str = TOKEN, public_url: str = "") -> web.Application:
    app = web.Application()
    app[ADMIN_KEY] = token
    app[SETTINGS_KEY] = Settings(admin_token=token, public_url=public_url)
    app.router.add_post("/sign-in", _sign_in)
    app.router.add_route("*", "/whoami", _whoami)
    app.router.add_get("/observe/{study}/{key}", _observe)
    return app


@pytest.fixture
async def http(aiohttp_client: Any) -> Any:
    return await aiohttp_client(make_app())


async def whoami(http: Any, method: str = "GET", **kwargs: Any) -> dict[str, Any]:
    resp = await http.request(method, "/whoami", **kwargs)
    assert resp.status == 200
    answer: dict[str, Any] = await resp.json()
    return answer


def cookie(issued: float, nonce: str = "nonce123", key: bytes = KEY) -> dict[str, str]:
    return {"Cookie": f"{auth.COOKIE}={auth.cookie_value(key, int(issued), nonce)}"}


async def test_sign_in_sets_a_cookie_the_browser_cannot_read_and_that_opens_the_console(
    http: Any,
) -> None:
    assert (await whoami(http))["refusal"] == [401, "sign in to the console first"]
    resp = await http.post("/sign-in")
    morsel = resp.cookies[auth.COOKIE]
    assert morsel["httponly"] and morsel["samesite"] == "Lax" and morsel["path"] == "/"
    assert int(morsel["max-age"]) == 7 * 86_400 and not morsel["secure"]  # plain http on loopback
    me = await whoami(http)
    assert me["moderator"] and me["refusal"] is None and len(me["csrf"]) == 32


async def test_behind_https_the_cookie_is_secure(aiohttp_client: Any) -> None:
    http = await aiohttp_client(make_app(public_url="https://ux.example.org/"))
    assert (await http.post("/sign-in")).cookies[auth.COOKIE]["secure"]


@pytest.mark.parametrize(("age_s", "valid"), [
    (0, True), (6 * 86_400, True), (7 * 86_400 - 60, True), (7 * 86_400 + 60, False),
    (-3600, False),  # issued in the future: forged or a broken clock
])  # fmt: skip
async def test_a_cookie_lasts_seven_days(http: Any, age_s: float, valid: bool) -> None:
    me = await whoami(http, headers=cookie(time.time() - age_s))
    assert me["moderator"] is valid
    assert me["nonce"] == ("nonce123" if valid else None)


@pytest.mark.parametrize("forged", [
    "v1.{issued}.nonce123.AAAA",  # a made-up signature
    "v2.{issued}.nonce123.{mac}",  # another version
    "v1.{issued}.other.{mac}",  # the signature of another nonce
    "v1.{later}.nonce123.{mac}",  # the issue time moved forward
    "v1.{issued}.nonce123",  # a part missing
    "v1.x{issued}.nonce123.{mac}",
    "",
])  # fmt: skip
async def test_a_forged_cookie_opens_nothing(http: Any, forged: str) -> None:
    issued = int(time.time()) - 3 * 86_400
    mac = auth.cookie_value(KEY, issued, "nonce123").rsplit(".", 1)[1]
    value = forged.format(issued=issued, later=issued + 86_400, mac=mac)
    me = await whoami(http, headers={"Cookie": f"{auth.COOKIE}={value}"})
    assert not me["moderator"] and me["refusal"][0] == 401


async def test_a_new_moderator_token_signs_every_browser_out(aiohttp_client: Any) -> None:
    old = cookie(time.time())
    http = await aiohttp_client(make_app(token="a-new-token"))
    assert not (await whoami(http, headers=old))["moderator"]


async def test_a_day_old_cookie_is_renewed_with_the_same_nonce(http: Any) -> None:
    resp = await http.get("/whoami", headers=cookie(time.time() - 2 * 86_400))
    renewed = resp.cookies[auth.COOKIE].value
    issued = int(renewed.split(".")[1])
    assert renewed.split(".")[2] == "nonce123" and abs(issued - time.time()) < 600
    # An hour-old cookie is left alone.
    assert (
        auth.COOKIE not in (await http.get("/whoami", headers=cookie(time.time() - 3600))).cookies
    )


async def test_a_change_needs_the_csrf_token_of_this_sign_in(http: Any) -> None:
    signed_in = cookie(time.time())
    csrf = (await whoami(http, headers=signed_in))["csrf"]
    assert csrf == auth.csrf_token(KEY, "nonce123")
    assert (await whoami(http, "POST", headers=signed_in))["refusal"] == [
        403, "X-CSRF-Token: missing or wrong; reload the console page"]  # fmt: skip
    wrong = auth.csrf_token(KEY, "another-browser")
    assert (await whoami(http, "POST", headers={**signed_in, auth.CSRF_HEADER: wrong}))["refusal"][
        0
    ] == 403
    ok = await whoami(http, "DELETE", headers={**signed_in, auth.CSRF_HEADER: csrf})
    assert ok["moderator"] and ok["refusal"] is None
    # Reading needs the cookie only.
    assert (await whoami(http, "GET", headers=signed_in))["moderator"]


async def test_a_change_from_another_site_is_refused_even_with_the_token(http: Any) -> None:
    signed_in = cookie(time.time())
    csrf = (await whoami(http, headers=signed_in))["csrf"]
    headers = {**signed_in, auth.CSRF_HEADER: csrf, "Origin": "https://evil.example"}
    assert (await whoami(http, "POST", headers=headers))["refusal"] == [
        403, "Origin: https://evil.example may not act for the moderator"]  # fmt: skip
    own = f"http://{http.host}:{http.port}"
    assert (await whoami(http, "POST", headers={**headers, "Origin": own}))["refusal"] is None


@pytest.mark.parametrize(("authorization", "moderator"), [
    (f"Bearer {TOKEN}", True), (f"bearer {TOKEN}", True), (f"Bearer {TOKEN} ", True),
    ("Bearer wrong", False), (f"Basic {TOKEN}", False), ("Bearer ", False), (TOKEN, False),
])  # fmt: skip
async def test_the_bearer_token_needs_no_cookie_and_no_csrf(
    http: Any, authorization: str, moderator: bool
) -> None:
    me = await whoami(http, "POST", headers={"Authorization": authorization})
    assert me["moderator"] is moderator


async def test_an_observer_key_opens_one_study_under_one_token(
    http: Any, aiohttp_client: Any
) -> None:
    key = auth.observer_key(KEY, "checkout")
    assert len(key) == 22 and key != auth.observer_key(KEY, "checkout-2")
    assert (await (await http.get(f"/observe/checkout/{key}")).json())["ok"]
    assert not (await (await http.get(f"/observe/other/{key}")).json())["ok"]
    assert not (await (await http.get(f"/observe/checkout/{key[:-1]}x")).json())["ok"]
    rotated = await aiohttp_client(make_app(token="a-new-token"))
    assert not (await (await rotated.get(f"/observe/checkout/{key}")).json())["ok"]


@pytest.mark.parametrize(("target", "goes_to"), [
    ("/studies/checkout", "/studies/checkout"), ("/studies?x=1#top", "/studies?x=1#top"),
    (None, "/"), ("", "/"), ("https://evil.example/", "/"), ("//evil.example/", "/"),
    ("/\\evil.example", "/"), ("evil.example", "/"), ("javascript:alert(1)", "/"),
])  # fmt: skip
def test_after_sign_in_only_a_path_on_this_site(target: str | None, goes_to: str) -> None:
    assert auth.safe_next(target) == goes_to


def test_every_secret_derives_from_the_moderator_token() -> None:
    assert auth.signing_key(TOKEN) == KEY and auth.signing_key(TOKEN + "x") != KEY
    assert auth.csrf_token(KEY, "n1") != auth.csrf_token(KEY, "n2")
    assert auth.csrf_token(auth.signing_key("other"), "n1") != auth.csrf_token(KEY, "n1")
