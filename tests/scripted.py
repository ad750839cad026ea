"""The one way tests write sessions: through the recorder's validation and store, no HTTP.

``Recorder`` opens (or is given) a real SQLite file, saves the study, and
writes batches exactly as the collector's writer would: validated by
``recorder.wire.schema``, stored by ``recorder.storage.store.EventStore``,
each with the client's ``sent`` clock and the server's receipt time, so the
analyzer's clock correction sees what it sees in production.

Two kinds of sessions go through it:

- scripted by hand (``send``): event times are milliseconds after
  ``Recorder.clock``, so a test can work every figure out on paper;
- simulated (``record`` / ``record_all``, from ``recorder.simulate.generate``):
  events already carry epoch times, the participant's clock skew included.

The HTTP path of the same data is covered by tests/test_simulate.py and
tests/test_analyze_http.py.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from recorder.simulate import SimSession, generate
from recorder.storage import store
from recorder.wire import schema
from recorder.wire.studyfile import Study, parse_study

Event = dict[str, Any]


@dataclass
class Recorder:
    """Writes sessions of one study into a real uxlab database, as the collector would."""

    path: Path
    study: dict[str, Any]
    conn: sqlite3.Connection | None = None  # given: the caller closes it
    clock: float = 1_764_000_000_000.0  # epoch ms that scripted times count from
    infos: dict[str, store.SessionInfo] = field(default_factory=dict)
    _owned: bool = False

    def __post_init__(self) -> None:
        if self.conn is None:
            self.conn, self._owned = store.open_db(self.path), True
        self.parsed: Study = parse_study(self.study)
        store.save_study(self.conn, self.parsed)
        self.writer = store.EventStore(self.conn)

    def session(self, participant: str, variant: str) -> store.SessionInfo:
        """Open a session."""
        assert self.conn is not None
        info = store.new_session(self.conn, self.parsed.id, participant, variant)
        self.infos[info.token] = info
        return info

    def send(self, info: store.SessionInfo, events: list[Event], page: str = "load-1",
             skew: float = 0.0, delay: float = 5.0, moderator: bool = False) -> tuple[int, int]:  # fmt: skip
        """Send one scripted batch: ``t`` of each event is ms after ``clock``.

        ``skew`` is the client's clock error (added to its t and sent); ``delay`` the
        network delay from the last event to the server's receipt. Any event type
        is accepted from either side, so a script can put anything anywhere.
        Returns ``(accepted, duplicates)`` as the writer counts them.
        """
        events = [
            dict(e, seq=e.get("seq", n), t=self.clock + e["t"] + skew) for n, e in enumerate(events)
        ]
        source = schema.SOURCE_MODERATOR if moderator else schema.SOURCE_SNIPPET
        item = _batch(info, source, page, events, schema.EVENT_TYPES, skew, delay)
        result = self.writer.write([item])[0]
        if isinstance(result, store.StoreError):
            raise result
        return result

    def record(self, sim: SimSession, delay: float = 20.0) -> store.SessionInfo:
        """Write one simulated session: its page loads from the snippet, its moderator's events."""
        info = self.session(sim.participant, sim.variant)
        snippet, moderator = schema.SOURCE_SNIPPET, schema.SOURCE_MODERATOR
        items = [
            _batch(info, snippet, load, evs, schema.PARTICIPANT_TYPES, sim.skew_ms, delay)
            for load, evs in sim.loads
        ]
        if sim.moderator:
            mod = _batch(
                info, moderator, "console", sim.moderator, schema.MODERATOR_TYPES, 0, delay
            )
            items.append(mod)
        self.writer.write(items)
        return info

    def record_all(self, sims: list[SimSession]) -> list[SimSession]:
        """Write every simulated session; return them (their ``truth`` is what tests compare)."""
        for sim in sims:
            self.record(sim)
        return sims

    def simulate(self, participants: int, seed: int, end_ms: float = 1.8e12,
                 **options: Any) -> list[SimSession]:  # fmt: skip
        """Generate ``participants`` simulated sessions of the study and write them."""
        sims = generate(self.parsed, participants, seed=seed, end_ms=end_ms, **options)
        return self.record_all(sims)

    def close(self) -> None:
        """Close the connection if this recorder opened it."""
        if self._owned and self.conn is not None:
            self.conn.close()
            self.conn = None

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _batch(info: store.SessionInfo, source: int, load: str, events: list[Event],
           types: dict[str, int], skew: float, delay: float) -> tuple[Any, ...]:  # fmt: skip
    """One writer item: validated rows, the client's ``sent`` and the server's receipt."""
    rows = schema.validate_events(events, schema.Options(types=types, tasks=info.tasks))
    sent = max(e["t"] for e in events)
    return info, source, schema.Batch(info.token, load, sent, rows), sent - skew + delay


def record_simulated(db: Path, doc: dict[str, Any], participants: int, seed: int = 1,
                     end_ms: float = 1.764e12, **options: Any) -> list[SimSession]:  # fmt: skip
    """Create the study of ``doc`` in ``db`` and fill it with simulated sessions."""
    with Recorder(db, doc) as rec:
        return rec.simulate(participants, seed, end_ms=end_ms, **options)
