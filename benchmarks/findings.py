"""Findings speed: the suggestions and findings tables, and the console's Findings page data.

Reuses the analyzer benchmark's studies (``benchmarks/analyze.py``: 100 thousand,
1 million, 10 million events, kept in ``benchmarks/out/``), copies one, stores
``--findings`` findings of ``--evidence`` moments each through the findings
store, then prints the seconds of: the ``suggestions`` table, the five findings
tables, and the Findings page's data (markers, notes, suggestions, findings),
each on results whose kernels already ran (a warm, cached load).

    .venv/bin/python benchmarks/findings.py --sizes 100k,1m
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import analyze as bench  # noqa: E402  (the analyzer benchmark's study builder)

from analyzer.metrics import analyze as metrics  # noqa: E402
from recorder.console import findings as console_findings  # noqa: E402
from recorder.findings import store as fs  # noqa: E402
from recorder.storage import store  # noqa: E402


def add_findings(db: Path, count: int, moments: int, seed: int = 1) -> None:
    """``count`` findings, each with ``moments`` evidence moments in random sessions."""
    rng = random.Random(seed)
    conn = store.connect(db)
    sessions = [r[0] for r in conn.execute("SELECT id FROM sessions WHERE study_id = 'bench'")]
    spans = {}
    for n in range(count):
        evidence = []
        for sid in rng.sample(sessions, min(moments, len(sessions))):
            if sid not in spans:
                spans[sid] = fs.session_span_s(conn, sid)
            evidence.append(
                {"session": sid, "t_s": round(rng.uniform(0, spans[sid]), 1), "text": f"moment {n}"}
            )
        fs.create_finding(
            conn,
            "bench",
            {"title": f"Problem {n}", "severity": rng.randint(0, 4), "evidence": evidence},
        )
    conn.close()


def seconds(fn: object) -> float:
    started = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - started


def measure(db: Path) -> tuple[float, float, float, int]:
    """Seconds of the suggestions, the findings tables and the page data; the session count."""
    results = metrics.analyze(db, "bench")
    _ = results.attempts, results.tasks, results.page_speed  # what both read
    suggest = seconds(lambda: results.suggestions)
    tables = seconds(lambda: results.findings)
    conn = store.connect(db, readonly=True)
    sessions = len(store.study_sessions(conn, "bench"))
    page = seconds(lambda: console_findings.page_data(conn, str(db), "bench"))
    conn.close()
    return suggest, tables, page, sessions


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100k,1m")
    parser.add_argument("--findings", type=int, default=30)
    parser.add_argument("--evidence", type=int, default=8)
    args = parser.parse_args()
    out = ROOT / "benchmarks" / "out"
    out.mkdir(exist_ok=True)
    print(
        f"{'size':>6} {'sessions':>8} {'suggestions':>12} {'findings tables':>16} {'page data':>10}"
    )
    for size in args.sizes.split(","):
        source = bench.study_db(out, size, rebuild=False)
        db = out / f"findings-{size}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        shutil.copy(source, db)
        store.open_db(db).close()  # migrate to the findings schema
        add_findings(db, args.findings, args.evidence)
        metrics.analyze(db, "bench")  # build the columnar cache; compile
        suggest, tables, page, sessions = measure(db)
        print(
            f"{size:>6} {sessions:>8} {suggest:>11.2f}s {tables:>15.2f}s {page:>9.2f}s", flush=True
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
