"""Simulated studies written straight into a real SQLite file (no HTTP), for analyzer tests.

The HTTP path of the same data is covered by tests/test_simulate.py; here the
point is many studies quickly, through the same store code the collector uses.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from recorder.simulate import SimSession, generate
from recorder.storage import store
from recorder.wire import schema
from recorder.wire.studyfile import Study, parse_study


def write_sessions(conn: sqlite3.Connection, study: Study, sessions: list[SimSession]) -> None:
    """Store simulated sessions as the collector would (clock skew and all)."""
    events = store.EventStore(conn)
    tasks = frozenset(t.id for t in study.tasks)
    participant = schema.Options(types=schema.PARTICIPANT_TYPES)
    moderator = schema.Options(types=schema.MODERATOR_TYPES, tasks=tasks)
    now = max(e["t"] for s in sessions for _, ev in s.loads for e in ev) + 60_000
    for sim in sessions:
        info = store.new_session(conn, study.id, sim.participant, sim.variant)
        items: list[tuple[Any, ...]] = []
        for load, evs in sim.loads:
            rows = schema.validate_events(evs, participant)
            items.append(
                (
                    info,
                    schema.SOURCE_SNIPPET,
                    schema.Batch(info.token, load, now + sim.skew_ms, rows),
                    now,
                )
            )
        rows = schema.validate_events(sim.moderator, moderator)
        items.append(
            (info, schema.SOURCE_MODERATOR, schema.Batch(info.token, "console", now, rows), now)
        )
        events.write(items)


def simulated_study(conn: sqlite3.Connection, doc: dict[str, Any], participants: int, seed: int,
                    **options: Any) -> list[SimSession]:  # fmt: skip
    """Create the study of ``doc`` (its id made unique by the caller) and fill it."""
    study = parse_study(doc)
    store.save_study(conn, study)
    sessions = generate(study, participants, seed=seed, end_ms=1.8e12, **options)
    write_sessions(conn, study, sessions)
    return sessions
