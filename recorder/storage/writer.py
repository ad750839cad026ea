"""The single writer: every waiting batch committed in one transaction (group commit).

Handlers validate a batch, then :meth:`Writer.submit` it and await the
future. A thread takes everything queued since the last commit and has it
written through :class:`recorder.storage.store.EventStore` in one transaction; the
futures resolve only after ``COMMIT`` returned, so a 200 always means "on
disk". Nothing is kept after the commit.

By default the ``EventStore`` lives in a writer *process* fed over a pipe:
binding rows to SQLite statements is Python work, and in the server's own
process it competes for one GIL with the event loop that parses and
validates the requests (measured: the event loop alone takes 260 000
events/s; sharing the GIL with the writer, 80 000). It is still one writer
with one connection. ``process=False`` keeps the writer in a thread of the
server (one core).

When a transaction fails (the disk is full, the writer process died) its
batches are answered 503 with ``Retry-After``, so clients resend them, and
the error is logged once per incident with, once writing works again, the
number of batches refused meanwhile. A writer process that dies is started
again before the next group; one that keeps dying is restarted after a
delay doubling from 0.25 s up to 30 s (each restart logged), and the
batches that arrive meanwhile get 503.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import signal
import sqlite3
import threading
import time
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import orjson

from recorder.storage import store
from recorder.storage.live import Live
from recorder.wire import schema

log = logging.getLogger("uxlab.writer")

# A transaction holds at most this many events; more waiting go in the next one.
GROUP_EVENTS = 20_000
# A storage error is logged again after this long, even within one incident.
LOG_AGAIN_S = 60.0
# A writer process that dies is restarted at once; one that dies within STABLE_S of
# its start waits before the next restart, twice as long each time, up to RESTART_MAX_S.
RESTART_MIN_S, RESTART_MAX_S, STABLE_S = 0.25, 30.0, 30.0


class Busy(Exception):
    """The writer's queue is full: the client should retry later (429)."""


class Writer:
    """Owns the one write connection, in a thread or in a writer process."""

    def __init__(self, db_path: str | Path, queue_events: int, live: Live | None = None,
                 process: bool = True, max_page_count: int = 0) -> None:  # fmt: skip
        self.db_path = str(db_path)
        self.max_page_count = max_page_count
        self.queue_events = queue_events
        self.live = live
        self.process = process
        self.pending = 0  # events queued and not yet committed
        self.commits = 0
        self._items: deque[tuple[Any, ...]] = deque()
        self._wake = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._failed: BaseException | None = None
        self.incidents = Incidents()
        self.restarts = 0
        self._restart_delay = 0.0
        self._next_start = 0.0
        self._started_at = 0.0

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Open the database (in the writer process or thread) and start taking batches."""
        self._loop = loop
        self._thread = threading.Thread(target=self._run, name="uxlab-writer", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._failed is not None:
            raise self._failed

    def submit(self, session: store.SessionInfo, source: int, batch: schema.Batch,
               received: float) -> asyncio.Future[tuple[int, int]]:  # fmt: skip
        """Queue a validated batch; the future gives ``(accepted, duplicates)`` after commit."""
        n = len(batch.rows)
        if self.pending + n > self.queue_events:
            raise Busy()
        assert self._loop is not None
        future: asyncio.Future[tuple[int, int]] = self._loop.create_future()
        with self._wake:
            self.pending += n
            self._items.append((session, source, batch, received, future))
            self._wake.notify()
        return future

    def stop(self) -> None:
        """Commit what is queued, then close the connection (and the writer process)."""
        with self._wake:
            self._stopping = True
            self._wake.notify()
        if self._thread is not None:
            self._thread.join()

    def _take(self) -> list[tuple[Any, ...]] | None:
        with self._wake:
            while not self._items and not self._stopping:
                self._wake.wait()
            if not self._items:
                return None
            group, events = [], 0
            while self._items and events < GROUP_EVENTS:
                item = self._items.popleft()
                events += len(item[2].rows)
                group.append(item)
            return group

    def _open(self) -> _ThreadTarget | _ProcessTarget:
        kind = _ProcessTarget if self.process else _ThreadTarget
        target = kind(self.db_path, self.max_page_count)
        self._started_at = time.monotonic()
        return target

    def _run(self) -> None:
        target: _ThreadTarget | _ProcessTarget | None
        try:
            target = self._open()
        except BaseException as exc:
            self._failed = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            while (group := self._take()) is not None:
                target = self._revive(target)
                self._commit(target, group)
                del group
        finally:
            if target is not None:
                target.close()

    def _revive(
        self, target: _ThreadTarget | _ProcessTarget | None
    ) -> _ThreadTarget | _ProcessTarget | None:
        """The target, or a new writer process where the old one died (None while waiting)."""
        now = time.monotonic()
        if target is not None:
            if target.alive():
                return target
            quick = now - self._started_at < STABLE_S
            delay = (
                min(max(self._restart_delay * 2, RESTART_MIN_S), RESTART_MAX_S) if quick else 0.0
            )
            self._restart_delay, self._next_start = delay, now + delay
            log.error("the writer process died (%s); restarting it%s", target.status(),
                      f" in {delay:g} s" if delay else "")  # fmt: skip
            target.close()
        if now < self._next_start:
            return None
        try:
            target = self._open()
        except Exception as exc:
            self._restart_delay = min(max(self._restart_delay * 2, RESTART_MIN_S), RESTART_MAX_S)
            self._next_start = now + self._restart_delay
            log.error("restarting the writer process failed: %s; next try in %g s", exc,
                      self._restart_delay)  # fmt: skip
            return None
        self.restarts += 1
        log.warning("writer process restarted (%d restarts so far)", self.restarts)
        return target

    def _commit(
        self, target: _ThreadTarget | _ProcessTarget | None, group: list[tuple[Any, ...]]
    ) -> None:
        assert self._loop is not None
        futures = [item[4] for item in group]
        count = sum(len(item[2].rows) for item in group)
        try:
            if target is None:
                raise sqlite3.OperationalError("the writer process is down; restarting it")
            results: list[Any] = target.write([item[:4] for item in group])
        except Exception as exc:
            self.incidents.failed(exc, len(group))
            results = [exc] * len(group)
        else:
            self.incidents.worked()
        self.commits += 1
        with self._wake:
            self.pending -= count
        watched = None
        if self.live is not None and self.live.watchers:
            watched = [item[:3] for item, result in zip(group, results, strict=True)
                       if not isinstance(result, BaseException)]  # fmt: skip
        self._loop.call_soon_threadsafe(_settle, futures, results, self.live, watched)


class Incidents:
    """Logs a storage error once per incident, not once per refused batch."""

    def __init__(self) -> None:
        self.failing = False
        self.refused = 0  # batches refused since the last line logged
        self.logged = False  # this incident's error was logged
        self.last_logged: dict[str, float] = {}  # message -> when

    def failed(self, exc: BaseException, batches: int) -> None:
        """A transaction of ``batches`` batches failed with ``exc``."""
        message, now = str(exc) or type(exc).__name__, time.monotonic()
        self.failing = True
        self.refused += batches
        if now - self.last_logged.get(message, -LOG_AGAIN_S) >= LOG_AGAIN_S:
            self.last_logged[message] = now
            self.logged = True
            log.error("storage failed: %s; answering 503 (clients resend) until it works again",
                      message)  # fmt: skip

    def worked(self) -> None:
        """A transaction committed."""
        if not self.failing:
            return
        self.failing = False
        if self.logged:
            log.warning("storage works again; %d batches were refused with 503 meanwhile",
                        self.refused)  # fmt: skip
            self.logged, self.refused = False, 0


class _ThreadTarget:
    """The event store in this process."""

    def __init__(self, db_path: str, max_page_count: int = 0) -> None:
        self.conn = open_writer_db(db_path, max_page_count)
        self.events = store.EventStore(self.conn)

    def write(self, items: list[tuple[Any, ...]]) -> list[Any]:
        return list(self.events.write(items))

    def alive(self) -> bool:
        return True

    def status(self) -> str:
        return "running"

    def close(self) -> None:
        self.conn.close()


class _ProcessTarget:
    """The event store in a writer process, reached over a pipe."""

    def __init__(self, db_path: str, max_page_count: int = 0) -> None:
        context = multiprocessing.get_context("spawn")
        self.pipe, child = context.Pipe()
        self.proc = context.Process(target=writer_process, args=(db_path, child, max_page_count),
                                    name="uxlab-writer", daemon=True)  # fmt: skip
        self.proc.start()
        child.close()
        answer = orjson.loads(self.pipe.recv_bytes())
        if answer != "ready":
            self.close()
            raise store.StoreError(answer["error"])

    def write(self, items: list[tuple[Any, ...]]) -> list[Any]:
        payload = [(s.id, s.study_id, source, b.load, b.sent, received, b.rows)
                   for s, source, b, received in items]  # fmt: skip
        try:
            self.pipe.send_bytes(orjson.dumps(payload))
            answer = orjson.loads(self.pipe.recv_bytes())
        except (EOFError, OSError) as exc:
            # The writer process is gone: nothing of this group was acknowledged.
            raise sqlite3.OperationalError(
                f"the writer process stopped ({exc or 'pipe closed'})"
            ) from None
        if isinstance(answer, dict):
            raise sqlite3.OperationalError(answer["error"])
        return [
            store.StoreError(r["error"]) if isinstance(r, dict) else (r[0], r[1]) for r in answer
        ]

    def alive(self) -> bool:
        return self.proc.is_alive()

    def status(self) -> str:
        code = self.proc.exitcode
        if code is not None and code < 0:
            return f"killed by signal {signal.Signals(-code).name}"
        return f"exit status {code}"

    def close(self) -> None:
        self.pipe.close()  # the process sees the end of the pipe, closes the database and exits
        self.proc.join(timeout=30)
        if self.proc.is_alive():
            self.proc.kill()


@dataclass(frozen=True, slots=True)
class _Session:
    id: int
    study_id: str


def open_writer_db(db_path: str, max_page_count: int = 0) -> sqlite3.Connection:
    """The writer's connection; ``max_page_count`` (fault tests only) makes the disk full early."""
    conn = store.open_db(db_path)
    if max_page_count:
        conn.execute(f"PRAGMA max_page_count = {int(max_page_count)}")
    return conn


def writer_process(db_path: str, pipe: Connection, max_page_count: int = 0) -> None:
    """The writer process: read groups of batches from the pipe, commit each, answer."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the server, which closes the pipe
    try:
        conn = open_writer_db(db_path, max_page_count)
    except BaseException as exc:
        pipe.send_bytes(orjson.dumps({"error": str(exc), "kind": "store"}))
        return
    events = store.EventStore(conn)
    pipe.send_bytes(b'"ready"')
    try:
        while True:
            try:
                payload = pipe.recv_bytes()
            except (EOFError, OSError):
                break
            items = [(_Session(sid, study), source, schema.Batch("", page, sent, rows), received)
                     for sid, study, source, page, sent, received, rows in orjson.loads(payload)]  # fmt: skip
            try:
                answer: Any = [{"error": str(r)} if isinstance(r, store.StoreError) else r
                               for r in events.write(items)]  # fmt: skip
            except (store.StoreError, sqlite3.Error) as exc:
                answer = {"error": str(exc)}
            try:
                pipe.send_bytes(orjson.dumps(answer))
            except (BrokenPipeError, OSError):
                break  # the server is gone; what was committed stays committed
    finally:
        conn.close()


def _settle(futures: list[asyncio.Future[tuple[int, int]]], results: list[Any], live: Live | None,
            watched: list[tuple[Any, ...]] | None) -> None:  # fmt: skip
    if live is not None and watched:
        for session, source, batch in watched:
            live.publish(session.id, source, batch.load, batch.rows)
    for future, result in zip(futures, results, strict=True):
        if future.done():  # the client went away
            continue
        if isinstance(result, BaseException):
            future.set_exception(result)
        else:
            future.set_result(result)
