"""Live feed: committed events fanned out to the consoles watching a session.

The writer publishes each committed batch here (on the event loop thread);
a console's WebSocket subscribes to one session. Nothing is built or kept
when nobody watches, so the collector's hot path pays one dict lookup.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

from recorder.storage.recordings import SOURCE_RECORDING, live_message
from recorder.wire import schema

QUEUE_LIMIT = (
    1000  # a console that falls this far behind misses events (it can reload the timeline)
)


def describe(row: schema.Row, source: int, load: str) -> dict[str, Any]:
    """A validated row as the console shows it: names, not codes."""
    event = {k: v for k, v in zip(schema.ROW_FIELDS, row, strict=True) if v is not None}
    code = event["type"]
    event["type"] = schema.EVENT_TYPE_NAMES[code]
    event["source"] = "moderator" if source == schema.SOURCE_MODERATOR else "participant"
    event["load"] = load
    if code == schema.TASK_END:
        event["outcome"] = schema.OUTCOME_NAMES[event["outcome"]]
    elif code == schema.MARKER:
        event["kind"] = schema.MARKER_KIND_NAMES[event["kind"]]
    elif code == schema.RATING:
        event["item"] = schema.RATING_ITEM_NAMES[event.pop("kind")]
    elif code == schema.CLICK:
        event["interactive"] = bool(event.get("interactive"))
    return event


class Live:
    """Session id -> queues of the consoles watching it."""

    def __init__(self) -> None:
        self.watchers: dict[int, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)

    def subscribe(self, session_id: int) -> asyncio.Queue[dict[str, Any]]:
        """A queue that receives every event of the session committed from now on."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_LIMIT)
        self.watchers[session_id].add(queue)
        return queue

    def unsubscribe(self, session_id: int, queue: asyncio.Queue[dict[str, Any]]) -> None:
        """Stop feeding a queue."""
        watchers = self.watchers.get(session_id)
        if watchers is not None:
            watchers.discard(queue)
            if not watchers:
                del self.watchers[session_id]

    def publish(self, session_id: int, source: int, load: str, rows: list[schema.Row]) -> None:
        """Hand committed rows to the session's watchers (drop for a full queue)."""
        watchers = self.watchers.get(session_id)
        if not watchers:
            return
        if source == SOURCE_RECORDING:
            events = [live_message(row, load) for row in rows]
        else:
            events = [describe(row, source, load) for row in rows]
        for queue in watchers:
            for event in events:
                if queue.full():
                    break
                queue.put_nowait(event)
