"""Odd input that once gave a 500 now gets a clear 4xx (or is taken as it should be), over real
HTTP on a real SQLite file, and changes nothing stored. Each case was found by a hunt through
every route with values Python's parsers refuse: digits ``int()`` cannot read, integers past
SQLite's 64 bits, a NUL in a file name, ``~nosuchuser``, TOML nested past recursion, a Host
header ``urlsplit`` cannot read.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from recorder.storage import store
from recorder.wire.studyfile import StudyError, read_study

STUDY = "checkout-2026"
ADMIN = {"Authorization": "Bearer test-admin-token"}
API = f"/api/v1/studies/{STUDY}"


def rows(db_path: Path) -> list[tuple[Any, ...]]:
    """What the tests could change: findings, studies' sources, sessions."""
    with sqlite3.connect(db_path) as conn:
        return [
            *conn.execute("SELECT * FROM findings ORDER BY id"),
            *conn.execute("SELECT id, source FROM studies ORDER BY id"),
            *conn.execute("SELECT id, status FROM sessions ORDER BY id"),
        ]


@pytest.mark.parametrize(
    "cookie",
    ["v1.\u00b2.a.b", "v1.\u0661\u0662.a.b", "v1." + "1" * 5000 + ".a.b"],
    ids=["superscript two", "arabic-indic digits", "5000 digits"],
)
async def test_a_sign_in_cookie_int_cannot_read_is_no_sign_in(client: Any, cookie: str) -> None:
    resp = await client.get("/api/v1/studies", headers={"Cookie": f"uxlab_console={cookie}"})
    assert resp.status == 401
    assert (await client.get("/", headers={"Cookie": f"uxlab_console={cookie}"})).status in (
        200,  # the sign-in page
        401,
    )


async def finding(client: Any, fresh_db: sqlite3.Connection) -> int:
    store.new_session(fresh_db, STUDY, "P01", "A")
    body = {"title": "Missed the cart", "severity": 2, "evidence": []}
    resp = await client.post(f"{API}/findings", json=body, headers=ADMIN)
    assert resp.status == 201, await resp.text()
    return int((await resp.json())["id"])


@pytest.mark.parametrize(
    ("method", "query", "body", "field"),
    [
        ("DELETE", "?version=%C2%B2", None, "version"),
        ("DELETE", "?version=" + "1" * 5000, None, "version"),
        ("PATCH", "", {"version": 2**63}, "version"),
        ("PATCH", "", {"version": 1, "add_evidence": [{"session": 2**64 - 1, "t_s": 0}]}, "session"),
        ("POST", "", {"title": "x", "severity": 1, "evidence": [{"session": 2**63, "t_s": 0}]},
         "session"),
    ],
)  # fmt: skip
async def test_findings_numbers_past_sqlites_are_400(
    client: Any, fresh_db: sqlite3.Connection, db_path: Path, method: str, query: str,
    body: Any, field: str,
) -> None:  # fmt: skip
    fid = await finding(client, fresh_db)
    before = rows(db_path)
    path = f"{API}/findings" if method == "POST" else f"{API}/findings/{fid}"
    resp = await client.request(method, path + query, json=body, headers=ADMIN)
    assert resp.status == 400, await resp.text()
    assert field in (await resp.json())["error"]
    assert rows(db_path) == before


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/tmp/x\x00y.toml", "not a file name"),
        ("~nosuchuser-uxlab/study.toml", "path:"),
        ("/dev/zero", "not a file"),
        (".", "not a file"),
    ],
)
async def test_a_study_path_that_cannot_be_read_is_400(
    client: Any, db_path: Path, path: str, message: str
) -> None:
    before = rows(db_path)
    resp = await client.post("/studies", data={"path": path}, headers=ADMIN)
    assert resp.status == 400, await resp.text()
    assert message in (await resp.json())["error"]
    assert rows(db_path) == before


async def test_a_study_file_nested_past_recursion_is_400(client: Any, db_path: Path) -> None:
    before = rows(db_path)
    deep = b"x = " + b"[" * 3000 + b"]" * 3000 + b"\n"
    form = aiohttp.FormData()
    form.add_field("study", deep, filename="deep.toml", content_type="application/toml")
    resp = await client.post("/studies", data=form, headers=ADMIN)
    assert resp.status == 400, await resp.text()
    assert "not valid TOML (nested too deeply)" in (await resp.json())["error"]
    assert rows(db_path) == before


def test_the_cli_reads_the_same_study_files_with_one_line_errors(tmp_path: Path) -> None:
    deep = tmp_path / "deep.toml"
    deep.write_text("x = " + "[" * 3000 + "]" * 3000 + "\n")
    big = tmp_path / "big.toml"
    big.write_bytes(b"# " + b"x" * (2 << 20))
    for path, message in [(deep, "nested too deeply"), (big, "larger than 1 MB"),
                          (tmp_path, "not a file"), ("a\x00b", "not a file name")]:  # fmt: skip
        with pytest.raises(StudyError, match=message):
            read_study(path)


async def test_a_host_header_urlsplit_cannot_read_is_no_500(client: Any) -> None:
    """The study page compares the server's own URL (from the Host header) with the variants'."""
    resp = await client.get(f"/studies/{STUDY}", headers={**ADMIN, "Host": "[x"})
    assert resp.status < 500, await resp.text()


async def test_numbers_in_paths_are_ascii_digits(client: Any, fresh_db: sqlite3.Connection,
                                                 db_path: Path) -> None:  # fmt: skip
    """A route's number matched other scripts' digits (int() reads "\u0661" as 1): session 1
    was closed by ``/sessions/\u0661/close``. Now such a path is no route."""
    store.new_session(fresh_db, STUDY, "P01", "A")
    before = rows(db_path)
    resp = await client.post(f"{API}/sessions/\u0661/close", headers=ADMIN)
    assert resp.status == 404
    assert rows(db_path) == before
    assert (await client.post(f"{API}/sessions/1/close", headers=ADMIN)).status == 200


async def test_a_participant_id_with_control_characters_is_400(client: Any, db_path: Path) -> None:
    before = rows(db_path)
    body = {"participant": "P\u0000\u001f", "variant": "A"}
    resp = await client.post(f"{API}/sessions", json=body, headers=ADMIN)
    assert resp.status == 400
    assert "participant" in (await resp.json())["error"]
    assert rows(db_path) == before


@pytest.mark.parametrize("port", ["99999999", "abc"])
def test_a_variant_port_that_is_no_port_is_refused(port: str) -> None:
    from recorder.wire.studyfile import parse_study
    from tests.conftest import STUDY_DOC

    doc = {**STUDY_DOC, "variants": [{"id": "A", "url": f"http://proto.test:{port}/A/"}]}
    with pytest.raises(StudyError, match=r"variants\[0\]\.url: must be an http\(s\) URL"):
        parse_study(doc)


@pytest.mark.parametrize(("t", "status"), [("5", 200), ("inf", 400), ("1e999", 400), ("nan", 400)])
async def test_the_replay_page_takes_finite_seconds(
    client: Any, fresh_db: sqlite3.Connection, t: str, status: int
) -> None:
    """``?t=inf`` put ``Infinity`` in the page's JSON, which no browser parses."""
    store.new_session(fresh_db, STUDY, "P01", "A")
    assert (await client.get("/login?token=test-admin-token", allow_redirects=False)).status == 303
    resp = await client.get(f"/studies/{STUDY}/sessions/1/replay?t={t}")
    assert resp.status == status, await resp.text()
    assert "Infinity" not in await resp.text()
