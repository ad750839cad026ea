"""First-run cost: numba's compile time per kernel, and the first analyze/report of a fresh install.

On a fresh numba cache directory (a temporary one), in a child process, it
runs what ``uxlab report`` and ``uxlab analyze --format json`` run on the
small benchmark study (12 000 events, see ``benchmarks/analyze.py``) with
numba's compile events recorded, and prints each kernel's compile time
(exclusive of the kernels it calls, which are listed on their own), its
number of type specialisations, and the total. Then, each on a fresh cache
directory and in the README's order, it times the first ``uxlab analyze``,
``uxlab report`` and ``uxlab analyze --format json`` (the later ones on the
cache the earlier left), the same three again (cached), ``python -m analyzer.warm``
(the warm-up ``uxlab serve`` starts) and the first ``uxlab analyze`` after it.

    .venv/bin/python benchmarks/compile.py
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def child(db: str) -> None:
    """Run the analysis with numba's compile events recorded; print per-kernel times."""
    from numba.core import event

    from analyzer import load
    from analyzer.metrics.analyze import analyze
    from analyzer.report.render import render_report
    from recorder.storage import store

    shutil.rmtree(load.cache_folder(db), ignore_errors=True)  # sorting events compiles too
    recorder = event.RecordingListener()
    started = time.perf_counter()
    with event.install_listener("numba:compile", recorder):
        results = analyze(db, "bench")
        results.tables(tuple(n for n in results.TABLES if n != "clicks"))
        conn = store.connect(db, readonly=True)
        render_report(analyze(db, "bench"), store.load_study(conn, "bench"))
    total = time.perf_counter() - started
    own: dict[str, float] = defaultdict(float)
    specs: dict[str, int] = defaultdict(int)
    stack: list[tuple[str, float, float]] = []  # name, start, time of nested compiles
    for stamp, ev in recorder.buffer:
        func = ev.data["dispatcher"].py_func
        name = func.__name__ if func.__module__.startswith("analyzer") else "(numba's own helpers)"
        if ev.is_start:
            stack.append((name, stamp, 0.0))
            continue
        name, start, nested = stack.pop()
        own[name] += stamp - start - nested
        specs[name] += 1
        if stack:
            parent, pstart, pnested = stack[-1]
            stack[-1] = (parent, pstart, pnested + stamp - start)
    print(f"  {'kernel':<22} {'specialisations':>15} {'compile':>8}")
    for name, seconds in sorted(own.items(), key=lambda kv: -kv[1]):
        print(f"  {name:<22} {specs[name]:>15} {seconds:>7.2f}s")
    print(f"  {'all kernels':<22} {sum(specs.values()):>15} {sum(own.values()):>7.2f}s"
          f"   (whole analysis and report: {total:.1f} s)")  # fmt: skip


def timed(args: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return time.perf_counter() - started


def console_report_seconds(db: str, env: dict[str, str]) -> float:
    """Start ``uxlab serve``, sign in, and time the first GET of the study's report page."""
    env = dict(env, UXLAB_ADMIN_TOKEN="bench-token")
    serve = subprocess.Popen([sys.executable, "-m", "recorder", "serve", "--db", db, "--port", "0"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)  # fmt: skip
    try:
        assert serve.stdout is not None
        match = re.search(r"serving on (http://\S+)", serve.stdout.readline())
        assert match, "uxlab serve did not start"
        base = match.group(1)
        opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        opener.open(f"{base}/login?token=bench-token").read()
        started = time.perf_counter()
        page = opener.open(f"{base}/studies/bench/report", timeout=600).read()
        seconds = time.perf_counter() - started
        assert b"<html" in page[:500].lower()
        return seconds
    finally:
        serve.terminate()
        serve.wait(timeout=60)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument(
        "--out", default=str(ROOT / "benchmarks" / "out"), help="folder for the databases"
    )
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return 0
    import analyze as bench  # benchmarks/analyze.py: the study builder

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    db = str(bench.study_db(out, "small", False))
    base = dict(os.environ, PYTHONPATH=str(ROOT))
    print(f"cores: {os.cpu_count()}; load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as cache:
        print("compile time per kernel (fresh numba cache):")
        subprocess.run([sys.executable, __file__, "--child", db], check=True,
                       env=dict(base, NUMBA_CACHE_DIR=cache))  # fmt: skip
    uxlab = [sys.executable, "-m", "recorder"]
    steps = {
        "uxlab analyze": [*uxlab, "analyze", "bench", "--db", db],
        "uxlab report": [*uxlab, "report", "bench", "--db", db, "-o", os.devnull],
        "uxlab analyze --format json": [*uxlab, "analyze", "bench", "--db", db, "--format", "json"],
    }
    with tempfile.TemporaryDirectory() as cache:
        env = dict(base, NUMBA_CACHE_DIR=cache)
        shutil.rmtree(f"{db}.uxcache", ignore_errors=True)
        for label, command in steps.items():
            print(f"first {label}: {timed(command, env):.1f} s", flush=True)
        for label, command in steps.items():
            print(f"again {label}: {timed(command, env):.2f} s", flush=True)
        print(f"again console report page: {console_report_seconds(db, env):.2f} s")
    with tempfile.TemporaryDirectory() as cache:
        env = dict(base, NUMBA_CACHE_DIR=cache, UXLAB_WARM_KERNELS="0")
        print(f"first console report page, no warm-up: {console_report_seconds(db, env):.1f} s")
    warm = [sys.executable, "-m", "analyzer.warm"]
    with tempfile.TemporaryDirectory() as cache:
        env = dict(base, NUMBA_CACHE_DIR=cache)
        print(f"warm-up (what uxlab serve starts): {timed(warm, env):.1f} s", flush=True)
        shutil.rmtree(f"{db}.uxcache", ignore_errors=True)
        for label, command in steps.items():
            print(f"after the warm-up, first {label}: {timed(command, env):.2f} s", flush=True)
        print(
            f"after the warm-up, first console report page: {console_report_seconds(db, env):.2f} s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
