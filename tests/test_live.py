"""The live hub (recorder/storage/live.py): committed events reach the consoles watching a session.

The end-to-end path (collector -> writer -> WebSocket -> console page) is in
tests/test_console.py and tests/test_console_browser.py; here the hub's own
rules: who receives what, in which words, and that a slow console never
holds up the writer.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from recorder.storage.live import QUEUE_LIMIT, Live, describe
from recorder.wire import schema

T = 1_764_000_000_000.0
OPTS = schema.Options(types=schema.EVENT_TYPES, tasks=frozenset({"buy"}))


def rows(*events: dict[str, Any]) -> list[schema.Row]:
    return schema.validate_events([{"seq": i, "t": T + i, **e} for i, e in enumerate(events)], OPTS)


def drain(queue: asyncio.Queue[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    while not queue.empty():
        out.append(queue.get_nowait())
    return out


@pytest.mark.parametrize(("event", "source", "shown"), [
    ({"type": "click", "x": 3, "y": 4, "sel": "#buy", "label": "Buy", "interactive": True}, schema.SOURCE_SNIPPET,
     {"type": "click", "x": 3, "y": 4, "sel": "#buy", "label": "Buy", "interactive": True, "source": "participant"}),
    ({"type": "click", "x": 3, "y": 4, "interactive": False}, schema.SOURCE_SNIPPET,
     {"type": "click", "x": 3, "y": 4, "interactive": False, "source": "participant"}),
    ({"type": "page", "url": "http://p.test/?uxlab=tok"}, schema.SOURCE_SNIPPET,
     {"type": "page", "url": "http://p.test/", "source": "participant"}),  # never the token
    ({"type": "task_end", "task": "buy", "outcome": "skipped"}, schema.SOURCE_MODERATOR,
     {"type": "task_end", "task": "buy", "outcome": "skipped", "source": "moderator"}),
    ({"type": "marker", "kind": "assist", "text": "hinted"}, schema.SOURCE_MODERATOR,
     {"type": "marker", "kind": "assist", "label": "hinted", "source": "moderator"}),
    ({"type": "rating", "item": "SEQ", "task": "buy", "value": 6}, schema.SOURCE_MODERATOR,
     {"type": "rating", "item": "SEQ", "task": "buy", "value": 6, "source": "moderator"}),
    ({"type": "visibility", "state": "hidden"}, schema.SOURCE_SNIPPET,  # console_live.js: 0 "left the tab"
     {"type": "visibility", "kind": 0, "source": "participant"}),
])  # fmt: skip
def test_an_event_is_described_in_words(
    event: dict[str, Any], source: int, shown: dict[str, Any]
) -> None:
    (row,) = rows(event)
    assert describe(row, source, "load-7") == {"seq": 0, "t": T, **shown, "load": "load-7"}


async def test_each_watcher_of_a_session_gets_its_events_and_no_other() -> None:
    live = Live()
    first, second, elsewhere = live.subscribe(1), live.subscribe(1), live.subscribe(2)
    live.publish(
        1,
        schema.SOURCE_SNIPPET,
        "load-1",
        rows({"type": "scroll", "depth": 10}, {"type": "scroll", "depth": 20}),
    )
    for queue in (first, second):
        assert [(e["seq"], e["value"]) for e in drain(queue)] == [(0, 10), (1, 20)]
    assert elsewhere.empty()


async def test_nothing_is_kept_for_a_session_nobody_watches() -> None:
    live = Live()
    live.publish(5, schema.SOURCE_SNIPPET, "load-1", rows({"type": "scroll", "depth": 1}))
    assert dict(live.watchers) == {}
    queue = live.subscribe(5)
    live.unsubscribe(5, queue)
    assert dict(live.watchers) == {}  # the last watcher gone, the session is forgotten
    live.publish(5, schema.SOURCE_SNIPPET, "load-1", rows({"type": "scroll", "depth": 1}))
    assert queue.empty()  # an unsubscribed console gets nothing more
    live.unsubscribe(5, queue)  # twice, or for an unknown session: harmless
    live.unsubscribe(99, queue)


async def test_a_console_that_falls_behind_misses_events_but_never_blocks() -> None:
    live = Live()
    slow, fresh = live.subscribe(1), live.subscribe(1)
    events = [{"type": "scroll", "depth": i % 100} for i in range(QUEUE_LIMIT - 2)]
    live.publish(1, schema.SOURCE_SNIPPET, "load-1", rows(*events))
    drain(fresh)
    live.publish(1, schema.SOURCE_SNIPPET, "load-2", rows(*[{"type": "scroll", "depth": 1}] * 5))
    assert slow.qsize() == QUEUE_LIMIT  # full: the last three were dropped, not waited for
    assert [e["load"] for e in drain(fresh)] == ["load-2"] * 5  # the other console is not held back
