"""Shared fixtures: real SQLite files, a real ``uxlab serve`` process, real Chromium."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings

from recorder.settings import Settings
from recorder.storage import store
from recorder.wire.studyfile import parse_study

# No per-example deadline: one scheduler stall on a busy two-core CI machine would fail a
# property with "Unreliable test timings" though the property holds.
hypothesis_settings.register_profile("uxlab", deadline=None)
hypothesis_settings.load_profile("uxlab")

ROOT = Path(__file__).resolve().parent.parent
DEMO_STUDY = ROOT / "recorder" / "demo" / "study.toml"

# A small study used where the demo shop is not needed.
STUDY_DOC: dict[str, Any] = {
    "id": "checkout-2026",
    "name": "Checkout redesign",
    "origins": ["http://proto.test"],
    "variants": [
        {"id": "A", "url": "http://proto.test/A/"},
        {"id": "B", "url": "http://proto.test/B/"},
    ],
    "tasks": [
        {"id": "buy-shoes", "prompt": "Buy shoes.", "success": {"url": "/cart"},
         "expected_path": ["/", "/shoes", "/shoes/42", "/cart"]},
        {"id": "find-help", "prompt": "Find help.", "success": {"click": "#returns-days"},
         "expected_path": ["/", "/help"]},
        {"id": "subscribe", "prompt": "Subscribe.", "success": {"event": "subscribed"}},
    ],
    "questionnaires": {"after_task": "SEQ", "after_session": "SUS"},
}  # fmt: skip


def now_ms() -> float:
    """The client clock tests send: epoch milliseconds."""
    return time.time() * 1000.0


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Path of a database file that does not exist yet."""
    return tmp_path / "uxlab.db"


@pytest.fixture
def fresh_db(db_path: Path) -> Iterator[sqlite3.Connection]:
    """A migrated database holding the small test study."""
    conn = store.open_db(db_path)
    store.save_study(conn, parse_study(STUDY_DOC))
    yield conn
    conn.close()


@pytest.fixture
async def client(fresh_db: sqlite3.Connection, db_path: Path, aiohttp_client: Any) -> Any:
    """An aiohttp test client on the collector over a real socket and a real SQLite file."""
    from recorder.server import create_app

    settings = Settings(db=str(db_path), admin_token="test-admin-token", max_body=64 * 1024)
    return await serve_app(aiohttp_client, create_app(settings))


async def serve_app(aiohttp_client: Any, app: Any) -> Any:
    """A test client on ``app`` served with the runner options `uxlab serve` uses.

    ``aiohttp_client(app, server_kwargs=...)`` hands them to ``TestServer.__init__``, which
    drops them (aiohttp 3.14): they go to ``start_server`` here.
    """
    from aiohttp.test_utils import TestServer

    from recorder.http_guards import RUNNER_OPTIONS

    server = TestServer(app)
    await server.start_server(**RUNNER_OPTIONS)
    return await aiohttp_client(server)


def uxlab_cmd(*args: str) -> list[str]:
    """Run the installed package's CLI with this interpreter."""
    return [sys.executable, "-m", "recorder", *args]


class Server:
    """A real ``uxlab serve`` subprocess on loopback, restartable on the same port."""

    def __init__(self, db_path: Path, admin_token: str = "test-admin-token",
                 env: dict[str, str] | None = None) -> None:  # fmt: skip
        self.db_path = db_path
        self.admin_token = admin_token
        self.env = env or {}  # extra UXLAB_* settings
        self.port = 0
        self.proc: subprocess.Popen[str] | None = None
        self.drain = threading.Thread()
        self.log = db_path.with_suffix(".log")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Server:
        env = {
            "UXLAB_WARM_KERNELS": "0",
            **os.environ,
            "UXLAB_ADMIN_TOKEN": self.admin_token,
            "PYTHONUNBUFFERED": "1",
            **self.env,
        }  # fmt: skip  (the warm-up: test_install.py)
        with self.log.open("a") as logfile:  # the child keeps its own descriptor
            self.proc = subprocess.Popen(
                uxlab_cmd("serve", "--db", str(self.db_path), "--port", str(self.port)),
                stdout=subprocess.PIPE, stderr=logfile, text=True, env=env,
            )  # fmt: skip
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        match = re.search(r"serving on http://127\.0\.0\.1:(\d+)", line)
        if not match:
            self.stop(signal.SIGKILL)
            raise RuntimeError(f"uxlab serve did not start: {line!r}\n{self.log.read_text()}")
        self.port = int(match.group(1))
        # Keep draining what it prints so that it never blocks on a full pipe.
        self.drain = threading.Thread(target=self.proc.stdout.read, daemon=True)
        self.drain.start()
        return self

    def stop(self, sig: int = signal.SIGTERM) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(sig)
            proc.wait(timeout=30)
        if self.drain.is_alive():  # not started when the server never came up
            self.drain.join(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()

    def kill(self) -> None:
        """SIGKILL: no cleanup, no goodbye."""
        self.stop(signal.SIGKILL)

    def request(self, method: str, path: str, body: Any = None, token: str | None = None,
                raw: bytes | None = None) -> tuple[int, Any]:  # fmt: skip
        """One HTTP request; returns ``(status, parsed JSON body)``."""
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def load_study(self, doc: dict[str, Any] | None = None) -> str:
        """Load a study (the demo shop pointed at this server by default); return its id."""
        if doc is None:
            text = DEMO_STUDY.read_text().replace("http://127.0.0.1:8642", self.url)
            path = self.db_path.with_name("study.toml")
            path.write_text(text)
        else:
            path = self.db_path.with_name(f"{doc['id']}.json.toml")
            path.write_text(_to_toml(doc))
        out = subprocess.run(uxlab_cmd("study", "create", str(path), "--db", str(self.db_path)),
                             capture_output=True, text=True, check=True)  # fmt: skip
        return out.stdout.split("'")[1]

    def new_session(self, study: str, participant: str, variant: str) -> str:
        """Open a session through the moderator API; return its token."""
        status, body = self.request("POST", f"/api/v1/studies/{study}/sessions",
                                    {"participant": participant, "variant": variant}, self.admin_token)  # fmt: skip
        assert status == 201, body
        return str(body["token"])


def _to_toml(doc: dict[str, Any]) -> str:
    """Write the small subset of TOML that study documents use."""

    def value(v: Any) -> str:
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{k} = {value(x)}" for k, x in v.items()) + " }"
        return json.dumps(v)

    lines = [
        f"{k} = {value(v)}"
        for k, v in doc.items()
        if not isinstance(v, list | dict) or k == "origins"
    ]
    for table in ("variants", "tasks"):
        for item in doc.get(table, []):
            lines.append(f"\n[[{table}]]")
            lines.extend(f"{k} = {value(v)}" for k, v in item.items())
    if "questionnaires" in doc:
        lines.append("\n[questionnaires]")
        lines.extend(f"{k} = {value(v)}" for k, v in doc["questionnaires"].items())
    return "\n".join(lines) + "\n"


@pytest.fixture
def server(db_path: Path) -> Iterator[Server]:
    """A running ``uxlab serve`` on a fresh database (no study loaded yet)."""
    srv = Server(db_path).start()
    yield srv
    srv.stop()


CHROMIUM = os.environ.get("UXLAB_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-quic", "--no-first-run", "--disable-component-update", "--disable-sync"]  # fmt: skip


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """A real headless Chromium (Debian's package), driven by playwright."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("chromium is missing in CI: ./test.sh installs it with apt-get")
        pytest.skip("chromium is not installed (./test.sh installs it with apt-get)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run browser tests last.

    The session-scoped sync playwright keeps its own event loop alive, and
    pytest-asyncio cannot start one for an async test while it does.
    """
    items.sort(key=lambda item: "browser" in item.fixturenames)
