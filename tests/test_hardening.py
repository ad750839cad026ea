"""Issue 10 over real HTTP against a real ``uxlab serve``: bad bytes and bodies get a JSON 4xx,
never a 500; sign-in never redirects off-site; no token reaches a log; the moderator API
addresses sessions by study and number; the trusted-proxy setting; ``invalid`` events keep
no message.
"""

from __future__ import annotations

import gzip
import json
import logging
import re
import socket
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest

from recorder.http_guards import RedactingFilter
from tests.conftest import STUDY_DOC, Server, now_ms

STUDY = STUDY_DOC["id"]
ADMIN = "test-admin-token"


class Response:
    """One raw HTTP response: status, headers (lower-case names), body."""

    def __init__(self, raw: bytes) -> None:
        head, _, self.body = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split()[1]) if lines[0].startswith("HTTP/") else 0
        self.headers: dict[str, list[str]] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            self.headers.setdefault(name.strip().lower(), []).append(value.strip())

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), [""])[0]

    def json(self) -> Any:
        return json.loads(self.body)


def send(port: int, data: bytes) -> Response:
    """Send raw bytes on a fresh connection; read the one response (the server closes or
    ``Content-Length`` says where it ends)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        raw = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            raw += chunk
            head, sep, body = raw.partition(b"\r\n\r\n")
            length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
            if sep and length and len(body) >= int(length.group(1)):
                break
    return Response(raw)


def request(port: int, method: str, path: str, body: bytes = b"",
            headers: tuple[bytes, ...] = ()) -> Response:  # fmt: skip
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n"
    data = head.encode() + f"Content-Length: {len(body)}\r\n".encode()
    for line in headers:
        data += line + b"\r\n"
    return send(port, data + b"\r\n" + body)


def batch(token: str | None, events: list[dict[str, Any]], page: str = "load-1") -> bytes:
    doc: dict[str, Any] = {"v": 1, "page": page, "sent": now_ms(), "events": events}
    if token is not None:
        doc["session"] = token
    return json.dumps(doc).encode()


def digest(db: Path) -> list[tuple[str, int]]:
    """Row counts of every table: what a refused request must not change."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return [(t, conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]) for t in tables]
    finally:
        conn.close()


@pytest.fixture
def served(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    """``uxlab serve`` with its access log on, the small study loaded."""
    monkeypatch.setenv("UXLAB_ACCESS_LOG", "1")
    srv = Server(db_path).start()
    srv.load_study(STUDY_DOC)
    yield srv
    srv.stop()


def sign_in_cookie(port: int) -> str:
    response = request(port, "GET", f"/login?token={ADMIN}")
    assert response.status == 303
    return response.header("set-cookie").split(";")[0]


def csrf_of(port: int, cookie: str) -> str:
    page = request(port, "GET", "/", headers=(f"Cookie: {cookie}".encode(),))
    match = re.search(rb'name="csrf-token" content="([^"]+)"', page.body)
    assert match, page.body[:300]
    return match.group(1).decode()


# -- 5: bad input gets a JSON 4xx, never a 500 -----------------------------------------------


def _scroll(token: str) -> bytes:
    return batch(token, [{"seq": 0, "t": now_ms(), "type": "scroll", "depth": 5}])


def _bad_requests(srv: Server, token: str, cookie: str, csrf: str) -> dict[str, Response]:
    port = srv.port
    scroll = _scroll(token)
    deep = batch(token, [{"seq": 0, "t": now_ms(), "type": "custom", "name": "x",
                          "data": json.loads("[" * 300 + "1" + "]" * 300)}])  # fmt: skip
    zipped = gzip.compress(scroll * 50)
    moderator = f"/api/v1/studies/{STUDY}/sessions"
    return {
        "custom.data nested 300 levels": request(port, "POST", "/api/v1/collect", deep),
        "Origin not UTF-8": request(port, "POST", "/api/v1/collect", scroll,
                                    (b"Origin: http://\xff\xfe.test",)),
        "preflight Origin not UTF-8": request(port, "OPTIONS", "/api/v1/collect", b"",
                                              (b"Origin: http://\xff",)),
        "Authorization not UTF-8": request(port, "GET", "/api/v1/studies", b"",
                                           (b"Authorization: Bearer \xff\xfe",)),
        "cookie not UTF-8": request(port, "GET", "/", b"",
                                    (b"Cookie: uxlab_console=v1.1795985095.\xff.x",)),
        "X-CSRF-Token not UTF-8": request(port, "POST", moderator, b"{}",
                                          (f"Cookie: {cookie}".encode(), b"X-CSRF-Token: \xff")),
        "console Origin not UTF-8": request(port, "POST", moderator, b"{}",
                                            (f"Cookie: {cookie}".encode(),
                                             f"X-CSRF-Token: {csrf}".encode(), b"Origin: \xff")),
        "broken multipart on /login": request(port, "POST", "/login", b"--xx\r\nbroken",
                                              (b"Content-Type: multipart/form-data; boundary=xx",)),
        "multipart without its end": request(
            port, "POST", "/login", b'--xx\r\nContent-Disposition: form-data; name="token"\r\n\r\nab',
            (b"Content-Type: multipart/form-data; boundary=xx",)),
        "gzip body that is not gzip": request(port, "POST", "/api/v1/collect",
                                              b"\x1f\x8b\x08\x00garbage!", (b"Content-Encoding: gzip",)),
        "truncated gzip body": request(port, "POST", "/api/v1/collect", zipped[: len(zipped) // 2],
                                       (b"Content-Encoding: gzip",)),
        "bytes after a gzip body": request(port, "POST", "/api/v1/collect", zipped + zipped,
                                           (b"Content-Encoding: gzip",)),
        "deflate body that is not deflate": request(port, "POST", "/api/v1/collect", b"garbage!",
                                                    (b"Content-Encoding: deflate",)),
        "unknown Content-Encoding": request(port, "POST", "/api/v1/collect", scroll,
                                            (b"Content-Encoding: x-unknown",)),
        "Content-Encoding br": request(port, "POST", "/api/v1/collect", b"\x0b\x02\x80{}\x03",
                                       (b"Content-Encoding: br",)),
        "Content-Encoding zstd": request(port, "POST", "/api/v1/collect", b"(\xb5/\xfd\x00",
                                         (b"Content-Encoding: zstd",)),
        "gzip bomb": request(port, "POST", "/api/v1/collect", gzip.compress(b" " * 10_000_000),
                             (b"Content-Encoding: gzip",)),
        "gzip form on /login": request(port, "POST", "/login", gzip.compress(b"token=x"),
                                       (b"Content-Encoding: gzip",
                                        b"Content-Type: application/x-www-form-urlencoded")),
    }  # fmt: skip


def test_bad_bytes_and_bodies_get_a_json_4xx_and_change_nothing(served: Server) -> None:
    token = served.new_session(STUDY, "P01", "A")
    cookie = sign_in_cookie(served.port)
    csrf = csrf_of(served.port, cookie)
    before = digest(served.db_path)
    answers = _bad_requests(served, token, cookie, csrf)
    assert digest(served.db_path) == before
    for case, response in answers.items():
        assert 400 <= response.status < 500, (case, response.status, response.body[:200])
        assert response.header("content-type").startswith("application/json"), case
        body = response.json()
        assert body["status"] == response.status and body["error"], case
    assert "nested too deeply" in answers["custom.data nested 300 levels"].json()["error"]
    assert answers["Origin not UTF-8"].json()["error"] == "Origin: not valid UTF-8"
    assert answers["gzip bomb"].status == 413 and answers["Content-Encoding br"].status == 415
    assert (
        answers["bytes after a gzip body"].json()["error"]
        == "body: bytes after the compressed stream"
    )
    zipped = request(served.port, "POST", "/api/v1/collect", gzip.compress(_scroll(token)),
                     (b"Content-Encoding: gzip",))  # fmt: skip
    assert (zipped.status, zipped.json()) == (200, {"accepted": 1, "duplicates": 0})
    assert "Traceback" not in served.log.read_text()


@pytest.mark.parametrize("next_", ["/%0a/x", "/%0d/x", "/%0d%0aSet-Cookie:%20x=1", "/a%00b"])
def test_control_characters_in_next_redirect_home(served: Server, next_: str) -> None:
    for cookie in ((), (sign_in_cookie(served.port).encode(),)):
        response = request(served.port, "GET", f"/login?next={next_}&token={ADMIN}",
                           headers=tuple(b"Cookie: " + c for c in cookie))  # fmt: skip
        assert response.status == 303 and response.header("location") == "/"
        assert "x" not in {c.split("=")[0] for c in response.headers.get("set-cookie", [])}
    assert "Traceback" not in served.log.read_text()


@pytest.mark.parametrize("raw", [b"FO@O / HTTP/1.1\r\nHost: x\r\n\r\n", b"GARBAGE\r\n\r\n",
    b"POST /api/v1/collect HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"])  # fmt: skip
def test_what_aiohttp_refuses_itself_is_a_plain_400_and_one_log_line(
    served: Server, raw: bytes
) -> None:
    """The README's list of answers uxlab cannot shape: aiohttp's parser answers them."""
    response = send(served.port, raw)
    assert response.status == 400 and response.header("content-type").startswith("text/plain")
    served.stop()
    assert "Traceback" not in served.log.read_text()


# -- 6: open redirect ------------------------------------------------------------------------


def browser_location(base: str, location: str) -> str:
    """Where a browser goes for ``Location: location`` (WHATWG URL parsing, in short):
    tabs and newlines vanish, leading and trailing C0 controls and spaces are trimmed,
    and a backslash is a slash in http(s) URLs."""
    cleaned = re.sub(r"[\t\n\r]", "", location).strip(
        "\x00\x01\x02\x03\x04\x05\x06\x07\x08"
        "\x0b\x0c\x0e\x0f\x10\x11\x12\x13\x14\x15"
        "\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f "
    )
    return urljoin(base, cleaned.replace("\\", "/"))


OFF_SITE = ["/%09/evil.test/x", "/%0a/evil.test", "/%0d/evil.test", "/%09%09/evil.test",
            "//evil.test", "///evil.test", "/\\evil.test", "/%5cevil.test", "\\/evil.test",
            "%2f%2fevil.test", "/%2f/evil.test/", "https://evil.test", "http:evil.test",
            "//evil.test@127.0.0.1", "/%20/evil.test", "%20//evil.test", "/%e3%80%80/evil.test",
            "/%c2%a0/evil.test", "/%0b/evil.test", "javascript:alert(1)", "%09/evil.test",
            "/%ef%bc%8fevil.test", "/.//evil.test"]  # fmt: skip
ON_SITE = ["/", "/studies/checkout-2026", "/studies/checkout-2026/sessions/3?x=1",
           "/observe/s/k", "/a/b//c"]  # fmt: skip


def test_sign_in_never_redirects_off_site(served: Server) -> None:
    cookie = sign_in_cookie(served.port)
    base = served.url + "/login"
    landed_at: dict[tuple[str, bool], tuple[str, str, str]] = {}
    for target in OFF_SITE + ON_SITE:
        for signed_in in (False, True):  # signing in now, and signed in already
            headers = (f"Cookie: {cookie}".encode(),) if signed_in else ()
            response = request(
                served.port, "GET", f"/login?token={ADMIN}&next={target}", b"", headers
            )
            assert response.status == 303, (target, response.body[:200])
            location = response.header("location")
            landed = urlsplit(browser_location(base, location))
            landed_at[target, signed_in] = (landed.scheme, landed.netloc, location)
    here = ("http", f"127.0.0.1:{served.port}")
    assert {k: v for k, v in landed_at.items() if v[:2] != here} == {}
    assert {k[0]: v[2] for k, v in landed_at.items() if k[0] in ON_SITE} == {t: t for t in ON_SITE}
    assert "Traceback" not in served.log.read_text()


# -- 9: tokens in logs, sessions by study and number -----------------------------------------


def test_no_token_reaches_the_log(served: Server) -> None:
    created = served.request("POST", f"/api/v1/studies/{STUDY}/sessions",
                             {"participant": "P01", "variant": "A"}, ADMIN)[1]  # fmt: skip
    token, number = created["token"], created["session"]
    port = served.port
    assert request(port, "GET", f"/demo/A/?uxlab={token}").status == 200
    assert request(port, "GET", f"/login?token={ADMIN}&next=/").status == 303
    assert request(port, "GET", f"/login?next=/studies&token={ADMIN}x").status == 401
    event = [{"seq": 0, "t": now_ms(), "type": "marker", "kind": "note", "text": "x"}]
    bearer = f"Authorization: Bearer {ADMIN}".encode()
    assert request(port, "POST", f"/api/v1/sessions/{token}/events", batch(None, event),
                   (bearer,)).status == 200  # the deprecated alias still works  # fmt: skip
    assert request(port, "POST", f"/api/v1/sessions/{token}x/events", batch(None, event),
                   (bearer,)).status == 401  # fmt: skip
    assert request(port, "GET", f"/observe/{STUDY}/{token}").status in (401, 403, 404)
    referer = f"Referer: http://proto.test/A/?uxlab={token}".encode()
    assert request(port, "POST", "/api/v1/collect", b"{}", (referer,)).status == 400
    # A request aiohttp's parser refuses, with secrets in its request line.
    good = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    send(
        port, good + f"G@T /login?token={ADMIN}&uxlab={token} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    )
    close = request(
        port, "POST", f"/api/v1/studies/{STUDY}/sessions/{number}/close", b"", (bearer,)
    )
    assert close.status == 200 and close.json()["status"] == "closed"
    served.stop()
    log = served.log.read_text()
    assert log.count('"GET /demo/A/?uxlab=[redacted] HTTP/1.1" 200') == 1, log
    assert "/api/v1/sessions/[redacted]/events" in log and "[redacted]" in log
    assert "Traceback" not in log
    for secret in (token, ADMIN, token[:12]):
        assert secret not in log


def test_error_lines_and_their_tracebacks_are_redacted(capsys: pytest.CaptureFixture[str]) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("uxlab.test-redaction")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        raise ValueError("bad /api/v1/sessions/SECRETtok/close and /observe/s/SECRETkey?x=1")
    except ValueError:
        logger.exception("unexpected error on %s %s", "GET", "/demo/A/?a=1&uxlab=SECRETlink")
    finally:
        logger.removeHandler(handler)
    err = capsys.readouterr().err
    assert "SECRET" not in err
    assert "/api/v1/sessions/[redacted]/close" in err and "/observe/s/[redacted]?x=1" in err
    assert "?a=1&uxlab=[redacted]" in err and "Traceback" in err


def test_the_moderator_api_names_sessions_by_study_and_number(served: Server) -> None:
    created = served.request("POST", f"/api/v1/studies/{STUDY}/sessions",
                             {"participant": "P01", "variant": "A"}, ADMIN)[1]  # fmt: skip
    api = f"/api/v1/studies/{STUDY}/sessions/{created['session']}"
    start = [{"seq": 0, "t": now_ms(), "type": "task_start", "task": "buy-shoes"}]
    assert served.request("POST", api + "/events", json.loads(batch(None, start)), ADMIN) == (
        200, {"accepted": 1, "duplicates": 0})  # fmt: skip
    assert served.request("POST", api + "/events", json.loads(batch(None, start)))[0] == 401
    other = {**STUDY_DOC, "id": "other-study"}
    served.load_study(other)
    wrong = f"/api/v1/studies/other-study/sessions/{created['session']}/events"
    status, body = served.request("POST", wrong, json.loads(batch(None, start)), ADMIN)
    assert (status, body["status"]) == (404, 404)
    assert served.request("POST", api + "/close", None, ADMIN)[1]["status"] == "closed"
    assert served.request("POST", api + "/events", json.loads(batch(None, start)), ADMIN)[0] == 403
    participant = [{"seq": 0, "t": now_ms(), "type": "scroll", "depth": 5}]
    assert (
        served.request("POST", "/api/v1/collect", json.loads(batch(created["token"], participant)))[
            0
        ]
        == 403
    )


# -- 10: trusted proxy -----------------------------------------------------------------------


@pytest.mark.parametrize("trusted", [True, False])
def test_forwarded_headers_count_only_behind_a_trusted_proxy(
    db_path: Path, monkeypatch: pytest.MonkeyPatch, trusted: bool
) -> None:
    monkeypatch.setenv("UXLAB_ACCESS_LOG", "1")
    if trusted:
        monkeypatch.setenv("UXLAB_TRUSTED_PROXY", "1")
    srv = Server(db_path).start()
    try:
        forwarded = (b"X-Forwarded-Proto: https", b"X-Forwarded-For: 198.51.100.1, 203.0.113.9")
        signed_in = request(srv.port, "GET", f"/login?token={ADMIN}", b"", forwarded)
        plain = request(srv.port, "GET", f"/login?token={ADMIN}")
        # Behind the proxy the console's own origin is https: its API calls pass the origin check.
        cookie = signed_in.header("set-cookie").split(";")[0]
        csrf = csrf_of(srv.port, cookie)
        origin = f"Origin: https://127.0.0.1:{srv.port}".encode()
        headers = (
            *forwarded,
            origin,
            f"Cookie: {cookie}".encode(),
            f"X-CSRF-Token: {csrf}".encode(),
        )
        created = request(srv.port, "POST", "/api/v1/studies/nope/sessions",
                          b'{"participant": "P01", "variant": "A"}', headers)  # fmt: skip
    finally:
        srv.stop()
    assert ("Secure" in signed_in.header("set-cookie")) is trusted
    assert "Secure" not in plain.header("set-cookie")
    assert created.status == (404 if trusted else 403), created.body
    log = srv.log.read_text()
    assert ("203.0.113.9 " in log) is trusted
    assert "198.51.100.1" not in log  # only the entry the proxy appended counts


# -- 2: invalid events keep the validity kind only -------------------------------------------


@pytest.mark.parametrize("capture", [False, True])
def test_invalid_events_keep_no_message(db_path: Path, capture: bool) -> None:
    srv = Server(db_path).start()
    try:
        srv.load_study({**STUDY_DOC, "capture_input_values": capture})
        token = srv.new_session(STUDY, "P01", "A")
        events = [{"seq": 0, "t": now_ms(), "type": "invalid", "sel": "#email", "kind": "typeMismatch",
                   "msg": "'.' is used at a wrong position in 'Zq9Sekrit..com'."}]  # fmt: skip
        assert srv.request("POST", "/api/v1/collect", json.loads(batch(token, events)))[0] == 200
        conn = sqlite3.connect(db_path)
        labels = conn.execute("SELECT text FROM labels").fetchall()
        stored = conn.execute("SELECT label_id, data FROM events WHERE type = 5").fetchall()
        conn.close()
    finally:
        srv.stop()
    assert stored == [(None, '{"kind":"typeMismatch"}')]
    assert not [t for (t,) in labels if "Zq9Sekrit" in (t or "")]
    for path in db_path.parent.glob(db_path.name + "*"):
        assert b"Zq9Sekrit" not in path.read_bytes(), path.name
