"""Warm numba's on-disk cache, so that the first real analysis only loads the kernels.

numba compiles every kernel on its first call, about 20-45 s for all of them
on a 2-core laptop (``benchmarks/compile.py`` prints each kernel's share; most
of it is numba compiling numpy's own sort, median and array helpers inside
the kernels), and keeps the result in its cache (:func:`analyzer.config.numba_cache_dir`).
Every kernel already has one type specialisation (the wrappers convert their
input to fixed dtypes), so one compile serves every study; what remains is
to pay it before someone waits for it:

* ``uxlab serve`` starts ``python -m analyzer.warm --db DB`` in a process of
  its own at start. When the cache is current it compiles nothing; else it
  logs "compiling analysis kernels (about N s, once)" and analyzes a tiny
  simulated study (the demo shop's, in a temporary database) through the
  same code as ``uxlab analyze`` and ``uxlab report``, which compiles every
  kernel with the exact argument types a real study gives them. Then it
  keeps the database's columnar caches current (:func:`keep_caches`) until
  the server stops it.
* ``uxlab analyze``, ``report`` and ``export`` on a cold cache (no ``serve``
  ran since the install) say so in one line on stderr, with the estimate.

Not chosen: explicit signatures compile eagerly when ``analyzer.kernels.jit``
is imported, which would make every command that imports it pay the whole
compile even when it needs no kernel; numba's ahead-of-time ``pycc`` is
deprecated.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from numba.core import event

from analyzer import load
from analyzer.config import numba_cache_dir
from analyzer.kernels import jit as kernels
from analyzer.kernels import sqlite_rows
from recorder.demo.shop import EXAMPLE_STUDY
from recorder.simulate import generate
from recorder.storage import store
from recorder.wire import schema
from recorder.wire.studyfile import read_study

# The compile time of every kernel on the 2-core development machine (20-45 s with
# other work running); printed as the estimate.
ESTIMATE_S = 30
KEEP_EVERY_S = 10.0  # how often the columnar caches catch up with the database


def kernel_dispatchers() -> list[Any]:
    """Every jitted function of :mod:`analyzer.kernels.jit` and of the native SQLite reader."""
    return [v for module in (kernels, sqlite_rows) for v in vars(module).values()
            if hasattr(v, "py_func") and hasattr(v, "_cache")]  # fmt: skip


def cold_kernels() -> list[str]:
    """Names of the kernels that numba's cache holds no current compiled code for."""
    cold = []
    for dispatcher in kernel_dispatchers():
        try:
            current = bool(dispatcher._cache._cache_file._load_index())
        except Exception:  # numba's cache internals changed: assume it must compile
            current = False
        if not current:
            cold.append(dispatcher.py_func.__name__)
    return cold


def compile_notice(seconds: int = ESTIMATE_S) -> str:
    """The one line said before the kernels compile."""
    return (
        f"uxlab: compiling analysis kernels (about {seconds} s, once; "
        f"cached in {numba_cache_dir()})"
    )


class _Notice(event.Listener):
    """Says :func:`compile_notice` when numba first starts compiling one of our kernels."""

    def __init__(self, say: Callable[[str], None]) -> None:
        self.say, self.said = say, False

    def on_start(self, ev: event.Event) -> None:
        if self.said or not getattr(ev.data["dispatcher"].py_func, "__module__", "").startswith(
            "analyzer."
        ):
            return
        self.said = True
        share = len(cold_kernels()) / max(len(kernel_dispatchers()), 1)
        self.say(compile_notice(max(1, round(ESTIMATE_S * share))))

    def on_end(self, ev: event.Event) -> None:
        pass


def announce_waits(say: Callable[[str], None] | None = None) -> None:
    """From now on, say one line (on stderr by default) before a long wait.

    Before the kernels first compile (nothing is said when the cache holds
    them all), and before a load reads many events from SQLite (no columnar
    cache yet: see :data:`analyzer.load.notice`).
    """
    if _LISTENING:
        return
    _LISTENING.append(_Notice(say or _stderr))
    event.register("numba:compile", _LISTENING[0])
    load.notice = say or _stderr


_LISTENING: list[_Notice] = []  # one listener per process


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _store_demo(conn: sqlite3.Connection, participants: int) -> str:
    """A tiny simulated demo-shop study, stored as the collector would store it."""
    study, text = read_study(str(EXAMPLE_STUDY))
    store.save_study(conn, study, text)
    events = store.EventStore(conn)
    participant = schema.Options(types=schema.PARTICIPANT_TYPES)
    moderator = schema.Options(
        types=schema.MODERATOR_TYPES, tasks=frozenset(t.id for t in study.tasks)
    )
    for sim in generate(study, participants, seed=1, end_ms=1.8e12):
        info = store.new_session(conn, study.id, sim.participant, sim.variant)
        now = max(e["t"] for _, evs in sim.loads for e in evs) + 60_000
        items: list[Any] = [
            (info, schema.SOURCE_SNIPPET,
             schema.Batch(info.token, page_load, now + sim.skew_ms,
                          schema.validate_events(evs, participant)), now)
            for page_load, evs in sim.loads
        ]  # fmt: skip
        rows = schema.validate_events(sim.moderator, moderator)
        items.append(
            (info, schema.SOURCE_MODERATOR, schema.Batch(info.token, "console", now, rows), now)
        )
        events.write(items)
    return study.id


def warm() -> float:
    """Compile every kernel into the cache by analyzing a tiny study; return the seconds."""
    # Not at the top: the CLI imports this module for its notices, and report's
    # templates and scipy are not needed for those.
    from analyzer.metrics.analyze import analyze
    from analyzer.report.render import render_report

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="uxlab-warm-") as folder:
        db = Path(folder) / "warm.db"
        conn = store.open_db(db)
        try:
            study_id = _store_demo(conn, participants=4)
            study = store.load_study(conn, study_id)
        finally:
            conn.close()
        results = analyze(db, study_id)
        results.tables(tuple(results.TABLES))
        render_report(results, study)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    """``python -m analyzer.warm [--check]``: compile the kernels unless cached."""
    parser = argparse.ArgumentParser(prog="python -m analyzer.warm", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument(
        "--check", action="store_true", help="only say whether the cache is current (exit 1: cold)"
    )
    parser.add_argument("--db", default=None,
                        help="then keep this database's columnar caches current until stopped")  # fmt: skip
    parser.add_argument("--parent", type=int, default=0,
                        help="process id of the server; the keeper ends when it is gone")  # fmt: skip
    args = parser.parse_args(argv)
    parent = args.parent or os.getppid()  # the server may die meanwhile
    cold = cold_kernels()
    if args.check:
        print(f"cold: {', '.join(cold)}" if cold else f"cached in {numba_cache_dir()}")
        return 1 if cold else 0
    if cold:
        print(compile_notice(), file=sys.stderr, flush=True)
        seconds = warm()
        print(f"uxlab: analysis kernels compiled in {seconds:.0f} s", file=sys.stderr, flush=True)
    if args.db:
        keep_caches(args.db, parent)
    return 0


def keep_caches(db: str, parent: int, every_s: float = KEEP_EVERY_S) -> None:
    """Top up the columnar cache of every study of ``db`` whenever events arrive, while the parent lives.

    The cache (``<db>.uxcache/``, :mod:`analyzer.load`) reads only the events
    it has not seen, so a study recorded while ``uxlab serve`` runs has its
    sorted columns ready when someone asks for the first analysis: no cold
    read of millions of rows. It is the loader's own top-up, so the cache
    holds what a fresh load would (the loader's checks drop anything else).
    """
    seen = -1
    while os.getppid() == parent:  # a server killed without goodbye leaves no keeper behind
        time.sleep(every_s)
        try:
            seen = _top_up(db, seen)
        except (sqlite3.Error, OSError, ValueError) as exc:  # the next round tries again
            print(f"uxlab: columnar cache not updated: {exc}", file=sys.stderr, flush=True)


def _top_up(db: str, seen: int) -> int:
    """Load every study once when the database's last event id moved; return that id."""
    if not Path(db).is_file():
        return seen
    conn = store.connect(db, readonly=True)
    try:
        last = conn.execute("SELECT ifnull(max(id), 0) FROM events").fetchone()[0]
        studies = [sid for (sid,) in conn.execute("SELECT id FROM studies ORDER BY id")]
    finally:
        conn.close()
    if last == seen:
        return seen
    for study_id in studies:
        load.load_study_data(db, study_id)
    return int(last)


if __name__ == "__main__":
    sys.exit(main())
