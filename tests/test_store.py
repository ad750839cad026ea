"""The SQLite store: migrations, studies, sessions, interning."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from recorder import schema, store
from recorder.studyfile import parse_study
from tests.conftest import STUDY_DOC, now_ms


def test_new_database_is_wal_and_current(db_path: Path) -> None:
    conn = store.open_db(db_path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == store.SCHEMA_VERSION


def test_older_database_is_migrated_keeping_its_data(db_path: Path) -> None:
    conn = store.connect(db_path)
    assert store.migrate(conn, upto=1) == 1
    store.save_study(conn, parse_study(STUDY_DOC))
    columns = {r[1] for r in conn.execute("PRAGMA table_info(sessions)")}
    assert "last_event_at" not in columns
    conn.execute("INSERT INTO participants (study_id, id) VALUES ('checkout-2026', 'P01')")
    conn.execute(
        "INSERT INTO sessions (token, study_id, participant_pk, variant_pk, status) VALUES"
        " ('tok', 'checkout-2026', 1, 1, 'open')"
    )
    conn.close()

    conn = store.open_db(db_path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == store.SCHEMA_VERSION
    columns = {r[1] for r in conn.execute("PRAGMA table_info(sessions)")}
    assert "last_event_at" in columns
    info = store.find_session(conn, "tok")
    assert info is not None and info.participant == "P01" and info.variant == "A"


def test_newer_database_is_refused(db_path: Path) -> None:
    conn = store.open_db(db_path)
    conn.execute(f"PRAGMA user_version = {store.SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(store.StoreError, match="newer than this uxlab"):
        store.open_db(db_path)


def test_not_a_database_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello, this is not SQLite" * 100)
    with pytest.raises(store.StoreError, match="cannot open"):
        store.open_db(path)
    assert path.read_text().startswith("hello")


def test_study_update_keeps_ids_and_refuses_to_drop_used_tasks(
    fresh_db: sqlite3.Connection,
) -> None:
    session = store.new_session(fresh_db, "checkout-2026", "P01", "A")
    pk_before = fresh_db.execute("SELECT pk FROM tasks WHERE id = 'buy-shoes'").fetchone()[0]
    doc = {
        **STUDY_DOC,
        "name": "Renamed",
        "tasks": [{**STUDY_DOC["tasks"][0], "prompt": "New words."}],
    }
    # find-help and subscribe were never used: dropping them is fine.
    assert store.save_study(fresh_db, parse_study(doc)) is False
    study = store.load_study(fresh_db, "checkout-2026")
    assert study.name == "Renamed" and [t.id for t in study.tasks] == ["buy-shoes"]
    assert study.tasks[0].prompt == "New words."
    assert (
        fresh_db.execute("SELECT pk FROM tasks WHERE id = 'buy-shoes'").fetchone()[0] == pk_before
    )

    rows = schema.validate_events(
        [{"seq": 0, "t": now_ms(), "type": "task_start", "task": "buy-shoes"}],
        schema.Options(types=schema.MODERATOR_TYPES, tasks=session.tasks),
    )
    store.EventStore(fresh_db).write(
        [
            (
                session,
                schema.SOURCE_MODERATOR,
                schema.Batch(session.token, "c", now_ms(), rows),
                now_ms(),
            )
        ]
    )
    doc = {**STUDY_DOC, "tasks": [STUDY_DOC["tasks"][1]]}
    with pytest.raises(store.StoreError, match="'buy-shoes' has recorded data"):
        store.save_study(fresh_db, parse_study(doc))
    # Refused whole: the study is unchanged.
    assert [t.id for t in store.load_study(fresh_db, "checkout-2026").tasks] == ["buy-shoes"]


def test_strings_are_interned_once(fresh_db: sqlite3.Connection) -> None:
    session = store.new_session(fresh_db, "checkout-2026", "P01", "A")
    events = store.EventStore(fresh_db)
    t = now_ms()
    for load in ("l1", "l2"):
        rows = schema.validate_events(
            [{"seq": i, "t": t + i, "type": "click", "x": 1, "y": 2, "sel": "a#buy", "label": "Buy",
              "interactive": True} for i in range(3)],
            schema.Options(types=schema.PARTICIPANT_TYPES),
        )  # fmt: skip
        events.write(
            [(session, schema.SOURCE_SNIPPET, schema.Batch(session.token, load, t, rows), t + 50)]
        )
    assert fresh_db.execute("SELECT count(*) FROM targets").fetchone()[0] == 1
    assert fresh_db.execute("SELECT count(*) FROM labels").fetchone()[0] == 1
    assert fresh_db.execute("SELECT count(DISTINCT target_id) FROM events").fetchone()[0] == 1
    offsets = fresh_db.execute("SELECT key, offset_ms FROM page_loads ORDER BY key").fetchall()
    assert [(k, round(o)) for k, o in offsets] == [("l1", 50), ("l2", 50)]


def test_failed_transaction_forgets_fresh_interned_ids(fresh_db: sqlite3.Connection) -> None:
    session = store.new_session(fresh_db, "checkout-2026", "P01", "A")
    events = store.EventStore(fresh_db)
    t = now_ms()
    good = schema.validate_events(
        [{"seq": 0, "t": t, "type": "click", "x": 1, "y": 2, "sel": "#new", "interactive": True}],
        schema.Options(types=schema.PARTICIPANT_TYPES),
    )
    ghost = store.SessionInfo(
        999, "ghost", "checkout-2026", "P", "A", "", "open", (), frozenset({"x"}), False
    )
    bad = schema.validate_events(
        [{"seq": 0, "t": t, "type": "task_start", "task": "x"}],
        schema.Options(types=schema.MODERATOR_TYPES, tasks=frozenset({"x"})),
    )
    with pytest.raises(store.StoreError):
        events.write([
            (session, schema.SOURCE_SNIPPET, schema.Batch(session.token, "l1", t, good), t),
            (ghost, schema.SOURCE_MODERATOR, schema.Batch("ghost", "c", t, bad), t),
        ])  # fmt: skip
    assert fresh_db.execute("SELECT count(*) FROM events").fetchone()[0] == 0
    assert fresh_db.execute("SELECT count(*) FROM targets").fetchone()[0] == 0
    # The same batch alone now goes in, with a target id that exists.
    assert events.write(
        [(session, schema.SOURCE_SNIPPET, schema.Batch(session.token, "l1", t, good), t)]
    ) == [(1, 0)]
    row = fresh_db.execute(
        "SELECT g.selector FROM events e JOIN targets g ON g.id = e.target_id"
    ).fetchone()
    assert row == ("#new",)
