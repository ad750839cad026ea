"""The single writer (recorder/storage/writer.py): group commit, Busy, answers only after COMMIT.

Real SQLite files, in both of the writer's modes: a thread of the server
(``process=False``) and the default writer process fed over a pipe. To know
which batches share a transaction, a test holds the writer's queue lock
while it submits (the writer cannot take anything meanwhile), so grouping is
certain, not a matter of timing.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from recorder.storage import store
from recorder.storage.live import Live
from recorder.storage.writer import GROUP_EVENTS, Busy, Writer
from recorder.wire import schema
from tests.conftest import STUDY_DOC

T = 1_764_000_000_000.0
MODES = [pytest.param(False, id="thread"), pytest.param(True, id="process")]


def scrolls(n: int, first_seq: int = 0) -> list[schema.Row]:
    events = [
        {"seq": first_seq + i, "t": T + i, "type": "scroll", "depth": i % 100} for i in range(n)
    ]
    return schema.validate_events(events, schema.Options(types=schema.EVENT_TYPES))


def batch(info: store.SessionInfo, rows: list[schema.Row], page: str = "load-1") -> schema.Batch:
    return schema.Batch(info.token, page, T + 1000, rows)


def stored(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM events").fetchone()[0])


@pytest.fixture
def session(fresh_db: sqlite3.Connection) -> store.SessionInfo:
    return store.new_session(fresh_db, STUDY_DOC["id"], "P1", "A")


@pytest.fixture(params=MODES)
async def writer(
    request: pytest.FixtureRequest, db_path: Path, fresh_db: sqlite3.Connection
) -> AsyncIterator[Writer]:
    live = Live()
    writer = Writer(db_path, queue_events=50_000, live=live, process=request.param)
    writer.start(asyncio.get_running_loop())
    yield writer
    writer.stop()


async def test_batches_queued_together_commit_together(writer: Writer, session: store.SessionInfo,
                                                       db_path: Path) -> None:  # fmt: skip
    with writer._wake:  # the writer waits for this lock before it takes a group
        futures = [writer.submit(session, schema.SOURCE_SNIPPET, batch(session, scrolls(10), f"load-{i}"), T)
                   for i in range(30)]  # fmt: skip
        assert writer.pending == 300
    assert await asyncio.gather(*futures) == [(10, 0)] * 30
    assert writer.commits == 1 and writer.pending == 0
    assert stored(db_path) == 300


async def test_a_group_holds_at_most_group_events(
    writer: Writer, session: store.SessionInfo, db_path: Path
) -> None:
    per_batch = 500
    count = GROUP_EVENTS // per_batch + 1
    with writer._wake:
        futures = [writer.submit(session, schema.SOURCE_SNIPPET, batch(session, scrolls(per_batch), f"l{i}"), T)
                   for i in range(count)]  # fmt: skip
    await asyncio.gather(*futures)
    assert writer.commits == 2  # GROUP_EVENTS in the first transaction, the last batch in the next
    assert stored(db_path) == count * per_batch


async def test_an_answer_means_the_events_are_on_disk(writer: Writer, session: store.SessionInfo,
                                                      db_path: Path) -> None:  # fmt: skip
    seen_at_answer: list[int] = []
    for i in range(5):
        future = writer.submit(
            session, schema.SOURCE_SNIPPET, batch(session, scrolls(20), f"load-{i}"), T
        )
        # Read by another connection the moment the future resolves, before anything else runs.
        future.add_done_callback(lambda _: seen_at_answer.append(stored(db_path)))
        assert await future == (20, 0)
    assert seen_at_answer == [20, 40, 60, 80, 100]


async def test_a_batch_sent_again_is_counted_as_duplicates(writer: Writer, session: store.SessionInfo,
                                                          db_path: Path) -> None:  # fmt: skip
    again = batch(session, scrolls(8))
    assert await writer.submit(session, schema.SOURCE_SNIPPET, again, T) == (8, 0)
    assert await writer.submit(session, schema.SOURCE_SNIPPET, again, T + 5) == (0, 8)
    overlapping = batch(session, scrolls(12))  # seq 0..11: 8 known, 4 new
    assert await writer.submit(session, schema.SOURCE_SNIPPET, overlapping, T + 9) == (4, 8)
    assert stored(db_path) == 12


async def test_a_refused_batch_fails_alone_in_its_group(writer: Writer, session: store.SessionInfo,
                                                        db_path: Path) -> None:  # fmt: skip
    # A moderator's batch naming a task the study no longer has (removed after validation).
    opts = schema.Options(types=schema.MODERATOR_TYPES, tasks=frozenset({"gone"}))
    ghost = schema.validate_events([{"seq": 0, "t": T, "type": "task_start", "task": "gone"}], opts)
    with writer._wake:
        good = writer.submit(session, schema.SOURCE_SNIPPET, batch(session, scrolls(3)), T)
        bad = writer.submit(session, schema.SOURCE_MODERATOR, batch(session, ghost, "console"), T)
        also_good = writer.submit(
            session, schema.SOURCE_SNIPPET, batch(session, scrolls(2), "load-2"), T
        )
    assert await good == (3, 0) and await also_good == (2, 0)
    with pytest.raises(store.StoreError, match="gone"):
        await bad
    assert writer.commits == 1 and stored(db_path) == 5


async def test_live_watchers_get_committed_events(
    writer: Writer, session: store.SessionInfo
) -> None:
    assert writer.live is not None
    queue = writer.live.subscribe(session.id)
    await writer.submit(session, schema.SOURCE_SNIPPET, batch(session, scrolls(3)), T)
    got = [queue.get_nowait() for _ in range(3)]
    assert [(e["type"], e["seq"], e["value"], e["source"], e["load"]) for e in got] == [
        ("scroll", i, i, "participant", "load-1") for i in range(3)]  # fmt: skip
    assert queue.empty()


@pytest.mark.parametrize("process", MODES)
async def test_a_full_queue_says_busy_until_it_drains(process: bool, db_path: Path, fresh_db: sqlite3.Connection,
                                                      session: store.SessionInfo) -> None:  # fmt: skip
    writer = Writer(db_path, queue_events=10, process=process)
    writer.start(asyncio.get_running_loop())
    try:
        with writer._wake:
            first = writer.submit(session, schema.SOURCE_SNIPPET, batch(session, scrolls(6)), T)
            with pytest.raises(Busy):
                writer.submit(
                    session, schema.SOURCE_SNIPPET, batch(session, scrolls(5, 100), "l2"), T
                )
            fits = writer.submit(
                session, schema.SOURCE_SNIPPET, batch(session, scrolls(4, 200), "l3"), T
            )
        assert (await first, await fits) == ((6, 0), (4, 0))
        assert writer.pending == 0
        assert await writer.submit(
            session, schema.SOURCE_SNIPPET, batch(session, scrolls(10, 300), "l4"), T
        ) == (10, 0)
    finally:
        writer.stop()
    assert stored(db_path) == 20  # the refused batch left nothing


@pytest.mark.parametrize("process", MODES)
async def test_stop_commits_what_is_queued(process: bool, db_path: Path, fresh_db: sqlite3.Connection,
                                           session: store.SessionInfo) -> None:  # fmt: skip
    writer = Writer(db_path, queue_events=1000, process=process)
    writer.start(asyncio.get_running_loop())
    with writer._wake:
        futures = [writer.submit(session, schema.SOURCE_SNIPPET, batch(session, scrolls(5), f"l{i}"), T)
                   for i in range(4)]  # fmt: skip
    writer.stop()
    assert stored(db_path) == 20
    assert await asyncio.gather(*futures) == [(5, 0)] * 4


async def test_a_database_that_cannot_be_opened_fails_at_start(tmp_path: Path) -> None:
    folder = tmp_path / "not-a-file"
    folder.mkdir()
    for process in (False, True):
        writer = Writer(folder, queue_events=10, process=process)
        with pytest.raises((store.StoreError, sqlite3.Error)):
            writer.start(asyncio.get_running_loop())
