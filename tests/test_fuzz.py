"""Property-based fuzzing of a running ``uxlab serve`` over one keep-alive HTTP connection.

Hypothesis generates requests for every route (the collector, the moderator API
old and new, the console's pages and JSON, sign-in and sign-out, the demo, the
snippet and the console's static files): real and made-up paths, methods,
credentials (none, the moderator's, a participant's, a console cookie with or
without its CSRF token, garbage and non-UTF-8 bytes), origins, content types and
codings, and bodies from valid batches with fields replaced by arbitrary JSON to
plain junk. For every request:

- no answer is a 5xx;
- every 4xx under ``/api/`` is the JSON error shape ``{"error": "...", "status": N}``;
- a refused request (4xx) changes nothing stored: the database's ``data_version``
  (which moves with every commit by another connection) and a digest of every
  table are the same before and after.

Requests aiohttp's own parser refuses (a bad method, a malformed request line or
chunk) are not generated: aiohttp answers them before uxlab sees them (README,
"HTTP API"), and ``tests/test_hardening.py`` pins that answer.

The run is derandomized (same requests every time); ``REQUESTS`` is at least 10 000.
"""

from __future__ import annotations

import gzip
import http.client
import json
import sqlite3
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.conftest import STUDY_DOC, Server

pytestmark = pytest.mark.slow

ADMIN = "test-admin-token"
STUDY = STUDY_DOC["id"]
BATCHES, PER_BATCH = 200, 50
REQUESTS = BATCHES * PER_BATCH
MAX_BODY = 64 * 1024


class Target:
    """The running server, its credentials and one keep-alive connection."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        self.db = sqlite3.connect(f"file:{server.db_path}?mode=ro", uri=True)
        tables = [
            r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
        self.digest_sql = "SELECT " + ", ".join(
            f'(SELECT count(*) || ":" || coalesce(max(rowid), 0) FROM "{t}")' for t in tables
        ) + ", (SELECT group_concat(status) FROM sessions)"  # fmt: skip
        self.tokens: list[str] = []
        self.numbers: list[int] = []
        for n in range(4):
            status, body = server.request("POST", f"/api/v1/studies/{STUDY}/sessions",
                                          {"participant": f"P{n:02d}", "variant": "AB"[n % 2]}, ADMIN)  # fmt: skip
            assert status == 201
            self.tokens.append(body["token"])
            self.numbers.append(body["session"])
        status, headers, _ = self.send("GET", f"/login?token={ADMIN}", {}, b"")
        assert status == 303
        self.cookie = headers["set-cookie"].split(";")[0]
        _, _, page = self.send("GET", "/", {"Cookie": self.cookie}, b"")
        self.csrf = page.split(b'name="csrf-token" content="')[1].split(b'"')[0].decode()
        self.seen: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()
        self.waited = 0.0

    def state(self) -> tuple[Any, ...]:
        version = self.db.execute("PRAGMA data_version").fetchone()[0]
        return (version, *self.db.execute(self.digest_sql).fetchone())

    def send(self, method: str, path: str, headers: dict[str, Any], body: bytes
             ) -> tuple[int, dict[str, str], bytes]:  # fmt: skip
        for attempt in range(2):
            try:
                self.conn.putrequest(method, path, skip_accept_encoding=True)
                for name, value in headers.items():
                    self.conn.putheader(name, value)
                if body or method in ("POST", "PUT", "PATCH"):
                    self.conn.putheader("Content-Length", str(len(body)))
                self.conn.endheaders(body or None)
                response = self.conn.getresponse()
                data = response.read()
                found = {k.lower(): v for k, v in response.getheaders()}
                if response.will_close:
                    self.conn.close()
                return response.status, found, data
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()  # the server ended a kept-alive connection: once more, anew
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.conn.close()
        self.db.close()


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    db = tmp_path_factory.mktemp("fuzz") / "uxlab.db"
    mp = pytest.MonkeyPatch()
    mp.setenv("UXLAB_MAX_BODY", str(MAX_BODY))
    mp.setenv("UXLAB_WRITER_PROCESS", "0")  # one core for the server: the test runs beside it
    server = Server(db).start()
    mp.undo()
    server.load_study(STUDY_DOC)
    target = Target(server)
    yield target
    target.close()
    server.stop()
    assert "Traceback" not in server.log.read_text()


# -- strategies ------------------------------------------------------------------------------

JUNK_TEXT = st.text(st.characters(codec="utf-8"), max_size=8)
SEGMENT = st.one_of(
    st.sampled_from(["", "x", "..", "%2e%2e", "%00", "%ff%fe", "%0a", "%e2%80%ae", "a" * 300, "1", "0",
                     "-1", "99999999999999", "%2F", "checkout-2026", "A", "B", "demo-shop"]),
    JUNK_TEXT.map(lambda s: quote(s, safe="")),
)  # fmt: skip
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63) | st.floats(allow_nan=False, allow_infinity=False)
    | JUNK_TEXT | st.sampled_from(["page", "click", "task_start", "marker", "buy-shoes", "success", "SUS"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(JUNK_TEXT, inner, max_size=4),
    max_leaves=5,
)  # fmt: skip


EVENT_TYPES = st.sampled_from(["page", "click", "input", "submit", "invalid", "scroll", "visibility", "error",
                               "resize", "custom", "task_start", "task_end", "marker", "rating", "nope"])  # fmt: skip
EVENT_FIELDS = {"url": "http://proto.test/A/cart", "sel": "#buy", "label": "Buy", "x": 1, "y": 2,
                "interactive": True, "depth": 50, "state": "hidden", "msg": "boom", "w": 800, "h": 600,
                "name": "subscribed", "task": "buy-shoes", "outcome": "success", "kind": "note", "text": "hm",
                "item": "SEQ", "value": 5, "len": 3}  # fmt: skip
EVENT_KEYS = st.lists(st.sampled_from(["seq", "t", "type", *EVENT_FIELDS]), max_size=2)
FLIP, QUARTER, ONE_IN_30 = st.booleans(), st.integers(0, 3), st.integers(0, 30)
DEPTH = st.integers(200, 400)


@st.composite
def event(draw: st.DrawFn, seq: int) -> Any:
    """An event: usually a plausible one of any type, sometimes with fields replaced by junk."""
    ev: dict[str, Any] = {
        "seq": seq,
        "t": time.time() * 1000.0,
        "type": draw(EVENT_TYPES),
        **EVENT_FIELDS,
    }
    for key in draw(EVENT_KEYS):
        if draw(FLIP):
            ev.pop(key, None)
        else:
            ev[key] = draw(JSON)
    if draw(ONE_IN_30) == 0:
        depth = draw(DEPTH)
        ev["data"] = json.loads("[" * depth + "]" * depth)
    return ev


EVENTS = [event(seq) for seq in range(3)]
EVENT_COUNT = st.integers(1, 3)
LOADS = st.sampled_from(["load-1", "load-2", "console"])
BATCH_KEYS = st.lists(st.sampled_from(["v", "page", "sent", "events", "session"]), max_size=2)


@st.composite
def batch_body(draw: st.DrawFn, token: str | None) -> bytes:
    events = [draw(EVENTS[seq]) for seq in range(draw(EVENT_COUNT))]
    doc: dict[str, Any] = {
        "v": 1,
        "page": draw(LOADS),
        "sent": time.time() * 1000.0,
        "events": events,
    }
    if token is not None:
        doc["session"] = token
    for key in draw(BATCH_KEYS):
        doc[key] = draw(JSON)
    return json.dumps(doc).encode()


def bodies(target: Target) -> st.SearchStrategy[bytes]:
    return st.one_of(
        *(batch_body(t) for t in [*target.tokens, "nope", ""]),
        batch_body(None),
        st.fixed_dictionaries({"participant": JSON | st.just("P99"), "variant": JSON | st.sampled_from(["A", "B"])})
        .map(lambda d: json.dumps(d).encode()),
        JSON.map(lambda v: json.dumps(v).encode()),
        st.binary(max_size=64),
        st.sampled_from([b"", b"{", b"[]", b"null", b'{"v": 1}', b"token=" + ADMIN.encode(), b"token=x&next=//evil",
                         b"csrf=x", b'id = "x"\nname = "y"', b"\xff\xfe\x00"]),
        st.integers(MAX_BODY - 10, MAX_BODY + 10).map(lambda n: b"x" * n),
    )  # fmt: skip


def paths(target: Target) -> st.SearchStrategy[tuple[str, str]]:
    """``(route family, path)``: every route, with real and made-up parameters."""
    study = st.sampled_from([STUDY, quote(STUDY)]) | SEGMENT
    number = st.sampled_from([str(n) for n in target.numbers]) | SEGMENT
    token = st.sampled_from(target.tokens) | SEGMENT
    query = st.sampled_from(["", "?token=" + ADMIN, "?token=x", "?next=//evil.test", "?next=/%09/evil.test",
                             "?next=/%0a/x&token=" + ADMIN, "?uxlab=" + target.tokens[0], "?t=3",
                             "?x=%ff", "?" + "a=1&" * 50])  # fmt: skip
    families = {
        "collect": st.just("/api/v1/collect"),
        "moderator-events": st.tuples(study, number).map(lambda p: f"/api/v1/studies/{p[0]}/sessions/{p[1]}/events"),
        "moderator-close": st.tuples(study, number).map(lambda p: f"/api/v1/studies/{p[0]}/sessions/{p[1]}/close"),
        "old-events": token.map(lambda t: f"/api/v1/sessions/{t}/events"),
        "old-close": token.map(lambda t: f"/api/v1/sessions/{t}/close"),
        "new-session": study.map(lambda s: f"/api/v1/studies/{s}/sessions"),
        "studies-api": st.just("/api/v1/studies"),
        "study-api": study.map(lambda s: f"/api/v1/studies/{s}"),
        "api-other": SEGMENT.map(lambda s: f"/api/v1/{s}"),
        "console-home": st.just("/"),
        "login": st.just("/login"),
        "logout": st.just("/logout"),
        "save-study": st.just("/studies"),
        "study-page": study.map(lambda s: f"/studies/{s}"),
        "sessions-json": study.map(lambda s: f"/studies/{s}/sessions.json"),
        "session-page": st.tuples(study, number, st.sampled_from(["", "/state", "/ws"]))
        .map(lambda p: f"/studies/{p[0]}/sessions/{p[1]}{p[2]}"),
        "observe": st.tuples(study, SEGMENT, st.sampled_from(["", "/sessions.json", "/sessions/1"]))
        .map(lambda p: f"/observe/{p[0]}/{p[1]}{p[2]}"),
        "console-static": st.sampled_from(["console.js", "console.css", "nope.js", "..%2fapp.py"])
        .map(lambda n: f"/console/static/{n}"),
        "demo": st.tuples(st.sampled_from(["A", "B", "C"]) | SEGMENT,
                          st.sampled_from(["", "shoes", "shoes/42", "cart", "checkout", "done", "help"]))
        .map(lambda p: f"/demo/{p[0]}/{p[1]}"),
        "snippet": st.just("/uxlab.js"),
        "healthz": st.just("/healthz"),
        "other": SEGMENT.map(lambda s: f"/{s}"),
    }  # fmt: skip
    return st.tuples(
        st.one_of(*(s.map(lambda p, f=f: (f, p)) for f, s in families.items())), query
    ).map(lambda fpq: (fpq[0][0], fpq[0][1] + fpq[1]))


def headers(target: Target) -> st.SearchStrategy[dict[str, Any]]:
    auth = st.sampled_from([None, f"Bearer {ADMIN}", f"Bearer {target.tokens[0]}", "Bearer ", "Basic eDp5",
                            f"bearer  {ADMIN} ", b"Bearer \xff\xfe", "Bearer " + "a" * 5000])  # fmt: skip
    cookie = st.sampled_from([None, target.cookie, "uxlab_console=v1.1.x.y", b"uxlab_console=\xff",
                              target.cookie + "x", "a=b; " + target.cookie])  # fmt: skip
    csrf = st.sampled_from([None, target.csrf, "x", b"\xff\xfe", target.csrf + " "])
    origin = st.sampled_from([None, f"http://127.0.0.1:{target.server.port}", "http://proto.test",
                              "http://evil.test", "null", b"http://\xff"])  # fmt: skip
    ctype = st.sampled_from([None, "application/json", "text/plain", "application/x-www-form-urlencoded",
                             "multipart/form-data; boundary=xx", "multipart/form-data", "text/html; charset=nope"])  # fmt: skip
    encoding = st.sampled_from(
        [*[None] * 12, "gzip", "gzip", "deflate", "identity", "x-unknown", "gzip, gzip", "br"]
    )
    extra = st.sampled_from([{}, {"X-Forwarded-Proto": "https"}, {"Accept": "text/html"},
                             {"Range": "bytes=0-1"}, {"If-None-Match": "*"}, {"Expect": "100-continue"}])  # fmt: skip
    return st.fixed_dictionaries({
        "Authorization": auth, "Cookie": cookie, "X-CSRF-Token": csrf, "Origin": origin,
        "Content-Type": ctype, "Content-Encoding": encoding, "extra": extra,
    }).map(lambda h: {**{k: v for k, v in h.items() if v is not None and k != "extra"}, **h["extra"]})  # fmt: skip


POSTED = {"collect", "moderator-events", "moderator-close", "old-events", "old-close", "new-session",
          "logout", "save-study"}  # fmt: skip
OTHER_METHODS = ["OPTIONS", "HEAD", "PUT", "DELETE", "PATCH", "GET", "POST"]
# A route's own method most of the time (else most answers are a 405), any method sometimes.
METHODS = {
    "GET": st.sampled_from(["GET"] * 10 + OTHER_METHODS),
    "POST": st.sampled_from(["POST"] * 10 + OTHER_METHODS),
    "both": st.sampled_from(["GET"] * 5 + ["POST"] * 5 + OTHER_METHODS),
}
Request = tuple[str, str, str, dict[str, Any], bytes]


class Body(bytes):
    """A request body whose repr stays short in Hypothesis's report of a failing example."""

    def __repr__(self) -> str:
        head = bytes(self[:80])
        return f"Body({head!r}{'...' if len(self) > 80 else ''}, {len(self)} bytes)"


def requests(target: Target) -> st.SearchStrategy[Request]:
    """One request: ``(route family, method, path, headers, body)``.

    The strategies are built once: building them anew per request cost more than the requests.
    """
    path_s, header_s, body_s = paths(target), headers(target), bodies(target)

    @st.composite
    def one(draw: st.DrawFn) -> Request:
        family, path = draw(path_s)
        natural = "POST" if family in POSTED else "both" if family == "login" else "GET"
        method, head = draw(METHODS[natural]), draw(header_s)
        body = draw(body_s) if method in ("POST", "PUT", "PATCH", "DELETE") else b""
        coding = head.get("Content-Encoding")
        if coding in ("gzip", "gzip, gzip") and draw(FLIP):
            body = gzip.compress(body)
        if coding == "gzip" and body and draw(QUARTER) == 0:
            body = body[: len(body) // 2]  # a truncated stream
        return family, method, path, head, Body(body)

    return one()


# -- the property ----------------------------------------------------------------------------


def check(
    target: Target, family: str, method: str, path: str, head: dict[str, Any], body: bytes
) -> None:
    before = target.state()
    started = time.perf_counter()
    status, found, data = target.send(method, path, head, body)
    target.waited += time.perf_counter() - started
    target.seen[family] += 1
    target.statuses[status] += 1
    what = f"{method} {path} {head} {body[:200]!r} -> {status} {data[:300]!r}"
    assert status < 500, what
    if 400 <= status < 500:
        if path.startswith("/api/") and method != "HEAD":
            assert found.get("content-type", "").startswith("application/json"), what
            doc = json.loads(data)
            assert set(doc) == {"error", "status"} and doc["status"] == status, what
            assert isinstance(doc["error"], str) and doc["error"], what
        assert target.state() == before, "a refused request changed the database: " + what


@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning")  # a long failing example
def test_no_request_gets_a_5xx_and_no_refused_request_changes_a_row(target: Target) -> None:
    # No shrinking: against a live server whose state every request moves, a shrunk
    # sequence means little; the failing request is in the assertion message.
    @settings(max_examples=BATCHES, derandomize=True, deadline=None, database=None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(st.lists(requests(target), min_size=PER_BATCH, max_size=PER_BATCH))
    def run(batch: list[tuple[str, str, str, dict[str, Any], bytes]]) -> None:
        for request in batch:
            check(target, *request)

    started = time.perf_counter()
    run()
    took = time.perf_counter() - started
    print(
        f"fuzz: {sum(target.seen.values())} requests in {took:.1f} s, {target.waited:.1f} s of it on HTTP"
    )
    assert sum(target.seen.values()) >= 10_000
    assert set(target.seen) == {
        "collect", "moderator-events", "moderator-close", "old-events", "old-close", "new-session",
        "studies-api", "study-api", "api-other", "console-home", "login", "logout", "save-study",
        "study-page", "sessions-json", "session-page", "observe", "console-static", "demo", "snippet",
        "healthz", "other",
    }  # fmt: skip
    # The run reached past the front door: accepted writes, refusals of every kind.
    assert {200, 400, 401, 403, 404} <= set(target.statuses), target.statuses
    print(
        f"fuzz: {sum(target.seen.values())} requests; statuses {dict(sorted(target.statuses.items()))}"
    )


def test_the_fuzzed_server_still_answers_and_the_database_is_sound(target: Target) -> None:
    status, _, data = target.send("GET", "/healthz", {}, b"")
    assert status == 200 and json.loads(data)["status"] == "ok"
    db = Path(target.server.db_path)
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        conn.close()
