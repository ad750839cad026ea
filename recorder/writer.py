"""The single writer: a thread that commits every waiting batch in one transaction.

Handlers validate a batch, then :meth:`Writer.submit` it and await the
future. The thread takes everything queued since its last commit, writes it
through :class:`recorder.store.EventStore` in one transaction (group commit)
and resolves the futures only after ``COMMIT`` returned, so a 200 always
means "on disk". Nothing is kept after the commit: the rows go out of scope.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from pathlib import Path
from typing import Any

from recorder import schema, store
from recorder.live import Live

log = logging.getLogger("uxlab.writer")

# A transaction holds at most this many events; more waiting go in the next one.
GROUP_EVENTS = 20_000


class Busy(Exception):
    """The writer's queue is full: the client should retry later (429)."""


class Writer:
    """Owns the one write connection; runs in its own thread."""

    def __init__(self, db_path: str | Path, queue_events: int, live: Live | None = None) -> None:
        self.db_path = db_path
        self.queue_events = queue_events
        self.live = live
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
        """Open the database in the writer thread and start taking batches."""
        self._loop = loop
        self._thread = threading.Thread(target=self._run, name="uxlab-writer", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._failed is not None:
            raise self._failed

    def submit(
        self, session: store.SessionInfo, source: int, batch: schema.Batch, received: float
    ) -> asyncio.Future[tuple[int, int]]:
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
        """Commit what is queued, then close the connection."""
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
            conn = store.open_db(self.db_path)
            events = store.EventStore(conn)
        except BaseException as exc:
            self._failed = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            while (group := self._take()) is not None:
                self._commit(events, group)
                del group
        finally:
            conn.close()

    def _commit(self, events: store.EventStore, group: list[tuple[Any, ...]]) -> None:
        assert self._loop is not None
        futures = [item[4] for item in group]
        count = sum(len(item[2].rows) for item in group)
        try:
            results: list[Any] = events.write(item[:4] for item in group)
        except Exception as exc:
            log.exception("writing %d batches failed", len(group))
            results = [exc] * len(group)
        self.commits += 1
        with self._wake:
            self.pending -= count
        watched = None
        if self.live is not None and self.live.watchers:
            watched = [item[:3] for item, result in zip(group, results, strict=True)
                       if not isinstance(result, BaseException)]  # fmt: skip
        self._loop.call_soon_threadsafe(_settle, futures, results, self.live, watched)


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
