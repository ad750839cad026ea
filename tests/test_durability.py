"""Killing ``uxlab serve`` mid-load loses no acknowledged event."""

from __future__ import annotations

import json
import os
import signal
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


def writer_process_of(pid: int) -> int:
    """The writer process of a server (not multiprocessing's resource tracker)."""
    for child in writer_children(pid):
        cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        if b"resource_tracker" not in cmdline:
            return child
    raise AssertionError("no writer process")


def test_a_killed_writer_process_is_restarted(server: Server) -> None:
    study = server.load_study(STUDY_DOC)
    tokens = [server.new_session(study, f"P{i:02}", "A") for i in range(4)]
    assert server.proc is not None
    acked: set[tuple[str, int]] = set()
    sent: set[tuple[str, int]] = set()
    answers: list[int] = []
    lock = threading.Lock()
    stop, give_up = threading.Event(), threading.Event()

    def client(token: str) -> None:
        seq, waiting = 0, []  # like the snippet: a refused batch is sent again
        while (not stop.is_set() or waiting) and not give_up.is_set():
            if waiting:
                doc = waiting.pop(0)
            else:
                t = now_ms()
                events = [{"seq": seq + i, "t": t, "type": "scroll", "depth": 5} for i in range(10)]
                doc = {"v": 1, "session": token, "page": "load-1", "sent": t, "events": events}
                seq += 10
            keys = {(token, e["seq"]) for e in doc["events"]}  # type: ignore[attr-defined]
            status, _ = server.request("POST", "/api/v1/collect", doc)
            with lock:
                answers.append(status)
                sent.update(keys)
                if status == 200:
                    acked.update(keys)
            if status != 200:
                waiting.append(doc)
                time.sleep(0.1)

    threads = [threading.Thread(target=client, args=(t,)) for t in tokens]
    for thread in threads:
        thread.start()
    try:
        for restarts in (1, 2):  # twice: the second restart comes after a back-off
            time.sleep(1.0)
            with lock:
                before = set(acked)
            writer = writer_process_of(server.proc.pid)
            os.kill(writer, signal.SIGKILL)
            assert wait_gone([writer])
            deadline = time.monotonic() + 30
            while server.request("GET", "/healthz")[1].get("writer_restarts", 0) < restarts:
                assert time.monotonic() < deadline, "the writer process was not restarted"
                time.sleep(0.1)
            assert writer_process_of(server.proc.pid) != writer
            with sqlite3.connect(server.db_path) as conn:
                stored = set(conn.execute(
                    "SELECT s.token, e.seq FROM events e JOIN sessions s ON s.id = e.session_id"
                ).fetchall())  # fmt: skip
            assert before <= stored, "acknowledged events lost"
    finally:
        stop.set()
        deadline = time.monotonic() + 30
        for thread in threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        stuck = any(t.is_alive() for t in threads)
        give_up.set()
    assert not stuck, "batches still refused: the writer stayed dead"
    assert 500 not in answers
    assert server.request("GET", "/healthz")[1]["writer_restarts"] == 2
    with sqlite3.connect(server.db_path) as conn:
        stored = set(conn.execute(
            "SELECT s.token, e.seq FROM events e JOIN sessions s ON s.id = e.session_id"
        ).fetchall())  # fmt: skip
        assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == len(stored)
    assert acked == sent == stored
    log = server.log.read_text()
    assert "the writer process died (killed by signal SIGKILL)" in log
    assert "writer process restarted" in log
