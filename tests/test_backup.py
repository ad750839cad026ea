"""``uxlab backup``: a consistent copy while ``uxlab serve`` writes."""

from __future__ import annotations

import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import STUDY_DOC, Server, now_ms, uxlab_cmd


def stored_events(path: Path) -> set[tuple[str, int]]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT s.token, e.seq FROM events e JOIN sessions s ON s.id = e.session_id"
        ).fetchall()
    conn.close()
    return set(rows)


@pytest.mark.slow
def test_a_backup_under_load_holds_every_event_acknowledged_before_it(
    server: Server, tmp_path: Path
) -> None:
    study = server.load_study(STUDY_DOC)
    tokens = [server.new_session(study, f"P{i:02}", "A") for i in range(4)]
    acked: set[tuple[str, int]] = set()
    lock = threading.Lock()
    stop = threading.Event()

    def client(token: str) -> None:
        seq = 0
        while not stop.is_set():
            t = now_ms()
            events = [{"seq": seq + i, "t": t, "type": "click", "x": 1, "y": 2, "sel": f"#b{seq}",
                       "tag": "a", "label": f"L{seq + i}", "interactive": True} for i in range(25)]  # fmt: skip
            doc = {"v": 1, "session": token, "page": "load-1", "sent": t, "events": events}
            seq += 25
            if server.request("POST", "/api/v1/collect", doc)[0] == 200:
                with lock:
                    acked.update((token, e["seq"]) for e in events)  # type: ignore[index]

    threads = [threading.Thread(target=client, args=(t,)) for t in tokens]
    for thread in threads:
        thread.start()
    try:
        while len(acked) < 2000:
            time.sleep(0.05)
        with lock:
            before = set(acked)
        copy = tmp_path / "backups" / "copy.db"
        copy.parent.mkdir()
        out = subprocess.run(uxlab_cmd("backup", "--db", str(server.db_path), "-o", str(copy)),
                             capture_output=True, text=True, timeout=120)  # fmt: skip
        time.sleep(0.3)  # the load goes on after the backup
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"backed up {server.db_path} to {copy}")
    assert len(acked) > len(before), "the server stopped writing during the backup"

    assert sorted(p.name for p in copy.parent.iterdir()) == ["copy.db"]  # one file, no -wal
    with sqlite3.connect(copy) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    conn.close()
    in_copy = stored_events(copy)
    assert before <= in_copy, f"{len(before - in_copy)} acknowledged events missing from the copy"
    assert in_copy <= stored_events(server.db_path)

    # Restoring is copying the file back: uxlab reads it like the original.
    restored = tmp_path / "restored.db"
    restored.write_bytes(copy.read_bytes())
    listed = subprocess.run(uxlab_cmd("study", "list", "--db", str(restored)),
                            capture_output=True, text=True, check=True)  # fmt: skip
    assert STUDY_DOC["id"] in listed.stdout


def test_backup_refuses_to_overwrite_without_force(fresh_db: sqlite3.Connection, db_path: Path,
                                                    tmp_path: Path) -> None:  # fmt: skip
    target = tmp_path / "kept.db"
    target.write_bytes(b"precious")
    cmd = uxlab_cmd("backup", "--db", str(db_path), "-o", str(target))
    out = subprocess.run(cmd, capture_output=True, text=True)
    assert out.returncode == 2
    assert out.stderr == f"uxlab: error: {target} exists; give --force to overwrite it\n"
    assert target.read_bytes() == b"precious"

    out = subprocess.run([*cmd, "--force"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    with sqlite3.connect(target) as conn:
        assert conn.execute("SELECT id FROM studies").fetchall() == [(STUDY_DOC["id"],)]
    conn.close()


@pytest.mark.parametrize(
    ("db", "message"),
    [("missing.db", "no database at"), ("other.db", "is not a uxlab database")],
)
def test_backup_of_no_uxlab_database_is_one_line(tmp_path: Path, db: str, message: str) -> None:
    if db == "other.db":
        with sqlite3.connect(tmp_path / db) as conn:
            conn.execute("CREATE TABLE mine (x)")
        conn.close()
    out = subprocess.run(uxlab_cmd("backup", "--db", str(tmp_path / db), "-o", str(tmp_path / "b.db")),
                         capture_output=True, text=True)  # fmt: skip
    assert out.returncode == 2
    assert message in out.stderr and out.stderr.count("\n") == 1, out.stderr
    assert not (tmp_path / "b.db").exists()
