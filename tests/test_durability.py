"""Killing ``uxlab serve`` mid-load loses no acknowledged event."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import STUDY_DOC, Server, now_ms

pytestmark = pytest.mark.slow


def send(url: str, doc: dict[str, object]) -> dict[str, int] | None:
    req = urllib.request.Request(
        url + "/api/v1/collect", data=json.dumps(doc).encode(), method="POST"
    )
    req.add_header("Content-Type", "text/plain")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read()) if resp.status == 200 else None
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return None


def writer_children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (the writer process of a server)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == str(pid) and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def wait_gone(pids: list[int], seconds: float = 15.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not any(Path(f"/proc/{p}").exists() and "Z" not in Path(f"/proc/{p}/stat").read_text().split()[2]
                   for p in pids):  # fmt: skip
            return True
        time.sleep(0.1)
    return False


def test_the_writer_process_never_outlives_the_server(server: Server) -> None:
    assert server.proc is not None
    children = writer_children(server.proc.pid)
    assert children, "no writer process"  # the writer (and multiprocessing's resource tracker)
    server.stop()  # SIGTERM: the server closes the pipe, the writer commits and exits
    assert wait_gone(children)
    server.start()
    assert server.proc is not None
    children = writer_children(server.proc.pid)
    server.kill()  # SIGKILL: no goodbye; the writer sees the pipe end and exits by itself
    assert wait_gone(children)


def test_sigkill_mid_load_loses_no_acknowledged_event(server: Server) -> None:
    study = server.load_study(STUDY_DOC)
    tokens = [server.new_session(study, f"P{i:02}", "A") for i in range(8)]
    acked: set[tuple[str, int]] = set()
    batches: list[dict[str, object]] = []
    lock = threading.Lock()
    stop = threading.Event()

    def client(token: str) -> None:
        seq = 0
        while not stop.is_set():
            t = now_ms()
            events = [{"seq": seq + i, "t": t, "type": "scroll", "depth": 50} for i in range(25)]
            doc = {"v": 1, "session": token, "page": "load-1", "sent": t, "events": events}
            with lock:
                batches.append(doc)
            seq += 25
            if send(server.url, doc) is not None:
                with lock:
                    acked.update((token, e["seq"]) for e in events)  # type: ignore[index]

    threads = [threading.Thread(target=client, args=(t,)) for t in tokens]
    for thread in threads:
        thread.start()
    time.sleep(1.5)
    server.kill()
    time.sleep(0.3)
    stop.set()
    for thread in threads:
        thread.join()
    assert len(acked) > 1000, "the load never got going"

    with sqlite3.connect(server.db_path) as conn:
        stored = set(conn.execute(
            "SELECT s.token, e.seq FROM events e JOIN sessions s ON s.id = e.session_id"
        ).fetchall())  # fmt: skip
    assert acked <= stored, f"{len(acked - stored)} acknowledged events lost"

    # After a restart every batch can be resent: each event ends up stored exactly once.
    server.start()
    for doc in batches:
        assert send(server.url, doc) is not None
    with sqlite3.connect(server.db_path) as conn:
        total, distinct = conn.execute(
            "SELECT count(*), count(DISTINCT session_id || '/' || seq) FROM events"
        ).fetchone()
    assert total == distinct == sum(len(d["events"]) for d in batches)  # type: ignore[arg-type]


def test_a_dead_writer_process_is_a_503_not_a_500(server: Server) -> None:
    import os
    import signal

    study = server.load_study(STUDY_DOC)
    token = server.new_session(study, "P01", "A")
    assert server.proc is not None
    t = now_ms()
    doc = {
        "v": 1,
        "session": token,
        "page": "l1",
        "sent": t,
        "events": [{"seq": 0, "t": t, "type": "scroll", "depth": 5}],
    }
    assert server.request("POST", "/api/v1/collect", doc)[0] == 200
    for pid in writer_children(server.proc.pid):
        os.kill(pid, signal.SIGKILL)
    time.sleep(0.5)
    doc["events"][0]["seq"] = 1  # type: ignore[index]
    status, body = server.request("POST", "/api/v1/collect", doc)
    assert status == 503 and body["status"] == 503, body
