"""The single writer: every waiting batch committed in one transaction (group commit).

Handlers validate a batch, then :meth:`Writer.submit` it and await the
future. A thread takes everything queued since the last commit and has it
written through :class:`recorder.store.EventStore` in one transaction; the
futures resolve only after ``COMMIT`` returned, so a 200 always means "on
disk". Nothing is kept after the commit.

By default the ``EventStore`` lives in a writer *process* fed over a pipe:
binding rows to SQLite statements is Python work, and in the server's own
process it competes for one GIL with the event loop that parses and
validates the requests (measured: the event loop alone takes 260 000
events/s; sharing the GIL with the writer, 80 000). It is still one writer
with one connection. ``process=False`` keeps the writer in a thread of the
server (one core).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import signal
import sqlite3
import threading
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import orjson

from recorder import schema, store
from recorder.live import Live

log = logging.getLogger("uxlab.writer")

# A transaction holds at most this many events; more waiting go in the next one.
GROUP_EVENTS = 20_000


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

    def _run(self) -> None:
        try:
            kind = _ProcessTarget if self.process else _ThreadTarget
            target = kind(self.db_path, self.max_page_count)
        except BaseException as exc:
            self._failed = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            while (group := self._take()) is not None:
                self._commit(target, group)
                del group
        finally:
            target.close()

    def _commit(self, target: _ThreadTarget | _ProcessTarget, group: list[tuple[Any, ...]]) -> None:
        assert self._loop is not None
        futures = [item[4] for item in group]
        count = sum(len(item[2].rows) for item in group)
        try:
            results: list[Any] = target.write([item[:4] for item in group])
        except Exception as exc:
            log.error("writing %d batches failed: %s", len(group), exc)
            results = [exc] * len(group)
        self.commits += 1
        with self._wake:
            self.pending -= count
        watched = None
        if self.live is not None and self.live.watchers:
            watched = [item[:3] for item, result in zip(group, results, strict=True)
                       if not isinstance(result, BaseException)]  # fmt: skip
        self._loop.call_soon_threadsafe(_settle, futures, results, self.live, watched)


class _ThreadTarget:
    """The event store in this process."""

    def __init__(self, db_path: str, max_page_count: int = 0) -> None:
        self.conn = open_writer_db(db_path, max_page_count)
        self.events = store.EventStore(self.conn)

    def write(self, items: list[tuple[Any, ...]]) -> list[Any]:
        return list(self.events.write(items))

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
        payload = [(s.id, s.study_id, source, b.page, b.sent, received, b.rows)
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
            live.publish(session.id, source, batch.page, batch.rows)
    for future, result in zip(futures, results, strict=True):
        if future.done():  # the client went away
            continue
        if isinstance(result, BaseException):
            future.set_exception(result)
        else:
            future.set_result(result)
