"""Collector throughput: ``uxlab serve`` under concurrent clients vs raw SQLite inserts.

Starts ``uxlab serve`` in a subprocess on a fresh database, drives it over
loopback with ``--clients`` concurrent simulated participants, each sending
``--batch``-event batches as fast as the answers come back, for
``--seconds``; prints events/s and the p50/p99 latency of a batch. In the
same run it inserts the same rows with ``sqlite3.executemany`` into a fresh
WAL database (plain table, and uxlab's own schema with its unique index) and
prints the ratio.

    .venv/bin/python benchmarks/ingest.py --seconds 10 --clients 64
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from recorder.storage import store  # noqa: E402
from recorder.wire import schema  # noqa: E402
from recorder.wire.studyfile import parse_study  # noqa: E402

ADMIN = "bench-admin-token"
STUDY = {
    "id": "bench", "name": "Ingest benchmark", "origins": ["http://proto.test"],
    "variants": [{"id": "A", "url": "http://proto.test/A/"}],
    "tasks": [{"id": "t1"}],
}  # fmt: skip
SELECTORS = [f"main > section:nth-child({i}) > a.product" for i in range(40)]
LABELS = [f"Product {i}" for i in range(40)]


def make_events(rng: random.Random, seq0: int, n: int, t0: float) -> list[dict[str, object]]:
    """A realistic mix: mostly clicks and scrolls, some inputs and page loads."""
    events: list[dict[str, object]] = []
    for i in range(n):
        t = t0 + i * 37.0
        roll = rng.random()
        if roll < 0.55:
            k = rng.randrange(40)
            ev = {"type": "click", "x": rng.randrange(1280), "y": rng.randrange(3000), "vx": 10, "vy": 10,
                  "sel": SELECTORS[k], "tag": "a", "label": LABELS[k], "interactive": rng.random() < 0.85}  # fmt: skip
        elif roll < 0.8:
            ev = {"type": "scroll", "depth": rng.randrange(101)}
        elif roll < 0.95:
            ev = {"type": "input", "sel": "input#email", "kind": "email", "len": rng.randrange(30)}
        else:
            ev = {"type": "page", "url": f"http://proto.test/A/shoes/{rng.randrange(200)}", "title": "Shoe",
                  "w": 1280, "h": 800, "timing": {"ttfb": 80.1, "dcl": 210.4, "load": 380.0}}  # fmt: skip
        events.append({"seq": seq0 + i, "t": t, **ev})
    return events


def start_server(db: Path) -> tuple[subprocess.Popen[str], str]:
    # The collector alone, as before issue 16: no kernels' warm-up, no columnar-cache keeper.
    env = {"UXLAB_WARM_KERNELS": "0", **os.environ, "UXLAB_ADMIN_TOKEN": ADMIN}
    proc = subprocess.Popen([sys.executable, "-m", "recorder", "serve", "--db", str(db), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)  # fmt: skip
    assert proc.stdout is not None
    match = re.search(r"serving on (http://\S+)", proc.stdout.readline())
    if not match:
        proc.kill()
        raise SystemExit("uxlab serve did not start")
    return proc, match.group(1)


async def drive(
    url: str, tokens: list[str], seconds: float, batch: int
) -> tuple[int, list[float], int]:
    """Every client posts batches back to back until time is up."""
    latencies: list[float] = []
    accepted = 0
    rejected = 0
    deadline = time.perf_counter() + seconds

    async def client(http: aiohttp.ClientSession, token: str, seed: int) -> None:
        nonlocal accepted, rejected
        rng = random.Random(seed)
        seq, page = 0, f"load-{seed}"
        while time.perf_counter() < deadline:
            now = time.time() * 1000.0
            body = orjson.dumps({"v": 1, "session": token, "page": page, "sent": now,
                                 "events": make_events(rng, seq, batch, now)})  # fmt: skip
            started = time.perf_counter()
            async with http.post(
                url + "/api/v1/collect", data=body, headers={"Content-Type": "text/plain"}
            ) as r:
                answer = await r.read()
            if r.status == 200:
                latencies.append(time.perf_counter() - started)
                accepted += orjson.loads(answer)["accepted"]
                seq += batch
            else:
                rejected += 1
                await asyncio.sleep(float(r.headers.get("Retry-After", "0.05")))

    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        await asyncio.gather(*(client(http, tok, i) for i, tok in enumerate(tokens)))
    return accepted, latencies, rejected


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds so far of a process and its children, e.g. the writer (Linux)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if stat.parent.name == str(pid) or fields[1] == str(pid):
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


NULL_ADAPTER = (type(None), sqlite3.PrepareProtocol)


def raw_rates(
    rows: list[tuple[object, ...]], folder: Path, name: str = "raw"
) -> tuple[float, float]:
    """executemany of the same rows: a plain table, and uxlab's schema with its unique index."""
    plain = sqlite3.connect(folder / f"{name}.db", isolation_level=None)
    plain.execute("PRAGMA journal_mode = WAL")
    cols = ("session_id, load_id, seq, t, type, page_id, target_id, label_id, task_pk, outcome, kind,"
            " interactive, x, y, value, data")  # fmt: skip
    plain.execute(f"CREATE TABLE events (id INTEGER PRIMARY KEY, {cols})")
    marks = ",".join("?" * 16)
    started = time.perf_counter()
    plain.execute("BEGIN")
    plain.executemany(f"INSERT INTO events ({cols}) VALUES ({marks})", rows)
    plain.execute("COMMIT")
    plain_rate = len(rows) / (time.perf_counter() - started)
    plain.close()

    conn = store.open_db(folder / f"{name}-schema.db")
    started = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany(store.INSERT_EVENT, rows)
    conn.execute("COMMIT")
    schema_rate = len(rows) / (time.perf_counter() - started)
    conn.close()
    return plain_rate, schema_rate


def sample_rows(n: int) -> list[tuple[object, ...]]:
    """The rows the store writes for ``n`` benchmark events (interned ids, as integers)."""
    rng = random.Random(1)
    rows = []
    options = schema.Options(types=schema.PARTICIPANT_TYPES)
    strings: dict[object, int] = {}
    for b in range(n // 50):
        events = make_events(rng, 0, 50, 1.8e12)
        for r in schema.validate_events(events, options):
            seq, t, code, page, target, label, task, outcome, kind, inter, x, y, value, data = r
            ids = [
                strings.setdefault(s, len(strings)) if s is not None else None
                for s in (page, target, label)
            ]
            rows.append((b, 1, seq, t, code, *ids, task, outcome, kind, inter, x, y, value, data))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--batch", type=int, default=50)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        db = folder / "bench.db"
        conn = store.open_db(db)
        store.save_study(conn, parse_study(STUDY))
        tokens = [
            store.new_session(conn, "bench", f"P{i:03}", "A").token for i in range(args.clients)
        ]
        conn.close()
        proc, url = start_server(db)
        cpu0, server0 = time.process_time(), _cpu_seconds(proc.pid)
        try:
            accepted, latencies, rejected = asyncio.run(
                drive(url, tokens, args.seconds, args.batch)
            )
            client_cpu = (time.process_time() - cpu0) / args.seconds
            server_cpu = (_cpu_seconds(proc.pid) - server0) / args.seconds
        finally:
            proc.terminate()
            proc.wait(timeout=60)
        with sqlite3.connect(db) as check:
            stored = check.execute("SELECT count(*) FROM events").fetchone()[0]
        rate = accepted / args.seconds
        lat = sorted(latencies)
        p50 = statistics.median(lat) * 1000
        p99 = lat[int(len(lat) * 0.99) - 1] * 1000
        rows = sample_rows(min(stored, 1_000_000))
        # The baseline is executemany as Python's sqlite3 binds by default. Importing uxlab's
        # store registers its NULL adapter (see recorder/storage/store.py), which makes
        # executemany itself faster; it is measured too, for comparison, not as the baseline.
        adapter = sqlite3.adapters.pop(NULL_ADAPTER)
        try:
            plain_rate, schema_rate = raw_rates(rows, folder)
        finally:
            sqlite3.adapters[NULL_ADAPTER] = adapter
        _, adapted_rate = raw_rates(rows, folder, "adapted")

    print(
        f"collector: {args.clients} clients x {args.batch}-event batches for {args.seconds:.0f} s"
    )
    print(
        f"  accepted      {accepted:>12,} events ({stored:,} stored; {rejected} batches answered 429)"
    )
    print(f"  throughput    {rate:>12,.0f} events/s   ({len(lat) / args.seconds:,.0f} batches/s)")
    print(f"  latency       p50 {p50:.1f} ms   p99 {p99:.1f} ms")
    print(
        f"  cpu           server {server_cpu:.0%} of a core (with its writer process), load generator {client_cpu:.0%}"
    )
    print(
        "raw sqlite3.executemany (Python's default binding), same rows, one transaction, fresh WAL database:"
    )
    print(f"  plain table   {plain_rate:>12,.0f} rows/s   collector/raw = {rate / plain_rate:.2f}")
    print(
        f"  uxlab schema  {schema_rate:>12,.0f} rows/s   collector/raw = {rate / schema_rate:.2f}"
    )
    print(
        f"  uxlab schema, with uxlab's NULL adapter {adapted_rate:>9,.0f} rows/s   collector/that = {rate / adapted_rate:.2f}"
    )
    if stored != accepted:
        raise SystemExit(f"MISMATCH: {accepted} acknowledged but {stored} stored")


if __name__ == "__main__":
    main()
