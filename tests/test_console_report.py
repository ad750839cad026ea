"""The console's report page: the same report as ``uxlab report``, for moderator and observers."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from analyzer.metrics.analyze import analyze
from analyzer.report.render import render_report
from tests.conftest import STUDY_DOC
from tests.scripted import Recorder
from tests.test_console import observer_link, sign_in


async def test_report_page_for_moderator_and_observer(client: Any, fresh_db: sqlite3.Connection,
                                                      db_path: Path) -> None:  # fmt: skip
    rec = Recorder(db_path, STUDY_DOC, conn=fresh_db)
    rec.simulate(6, seed=4)

    resp = await client.get("/studies/checkout-2026/report")
    assert resp.status == 401  # the sign-in form, not the report
    assert "Task completion matrix" not in await resp.text()

    await sign_in(client)
    resp = await client.get("/studies/checkout-2026/report")
    assert resp.status == 200 and resp.content_type == "text/html"
    html = await resp.text()
    results = analyze(db_path, "checkout-2026")
    expected = render_report(results, rec.parsed, replay_base="/studies/checkout-2026")
    # The page is the same report as `uxlab report` writes (its generation time aside), but
    # each marker's time links to that moment of its session's replay (issue 14).
    assert _without_stamp(html) == _without_stamp(expected)
    first = results.markers[0]
    moment = f'href="/studies/checkout-2026/sessions/{first["session"]}/replay?t={first["t_s"]}"'
    assert moment in html
    assert "/replay?t=" not in render_report(results, rec.parsed)  # a file has no console
    assert "script-src" not in resp.headers["Content-Security-Policy"]
    assert (await client.get("/studies/no-such-study/report")).status == 404

    link = await observer_link(client)
    client.session.cookie_jar.clear()
    resp = await client.get(link + "/report")
    assert resp.status == 200 and "Task completion matrix" in await resp.text()


def _without_stamp(html: str) -> str:
    import re

    return re.sub(r"generated [0-9-]+ [0-9:]+ UTC", "generated", html)


async def test_forms_that_are_no_forms_are_400(client: Any, fresh_db: sqlite3.Connection) -> None:
    csrf = await sign_in(client)
    headers = {"X-CSRF-Token": csrf, "Content-Type": "multipart/form-data; boundary=x"}
    for path in ("/studies", "/login", "/logout"):
        resp = await client.post(path, data=b"garbage", headers=headers)
        assert resp.status == 400, (path, resp.status)


async def test_a_binary_study_file_path_is_refused_with_its_reason(client: Any, fresh_db: sqlite3.Connection,
                                                                   tmp_path: Path) -> None:  # fmt: skip
    csrf = await sign_in(client)
    binary = tmp_path / "blob.toml"
    binary.write_bytes(bytes(range(256)) * 4)
    resp = await client.post("/studies", data={"path": str(binary)}, headers={"X-CSRF-Token": csrf})
    assert resp.status == 400
    assert "not a text file" in await resp.text()
