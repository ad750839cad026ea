"""The SQLite store: migrations, studies, sessions, interning."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from recorder.storage import store
from recorder.wire import schema
from recorder.wire.studyfile import parse_study
from tests.conftest import STUDY_DOC, now_ms


def test_new_database_is_wal_and_current(db_path: Path) -> None:
    conn = store.open_db(db_path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == store.SCHEMA_VERSION


def test_older_database_is_migrated_keeping_its_data(db_path: Path) -> None:
    conn = store.connect(db_path)
    assert store.migrate(conn, upto=1) == 1
    # A study as v1 stored it (save_study writes today's columns).
    conn.execute(
        "INSERT INTO studies (id, name, origins, questionnaires, capture_values) VALUES"
        " ('checkout-2026', 'Checkout', '[]', '{}', 0)"
    )
    conn.execute("INSERT INTO variants (study_id, id, url, position) VALUES"
                 " ('checkout-2026', 'A', 'http://proto.test/A/', 0)")  # fmt: skip
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


def test_tokens_never_begin_with_a_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    """A token the command line would read as an option is drawn again (1 draw in 64)."""
    assert not any(store.new_token(18).startswith("-") for _ in range(2000))
    draws = iter(["-first", "second"])
    monkeypatch.setattr(store.secrets, "token_urlsafe", lambda n: next(draws))
    assert store.new_token(18) == "second"


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
    """A storage error (not a refused batch) rolls back the whole group, interned strings too."""
    session = store.new_session(fresh_db, "checkout-2026", "P01", "A")
    events = store.EventStore(fresh_db)
    t = now_ms()
    good = schema.validate_events(
        [{"seq": 0, "t": t, "type": "click", "x": 1, "y": 2, "sel": "#new", "interactive": True}],
        schema.Options(types=schema.PARTICIPANT_TYPES),
    )
    # A row no validation would let through: its data is a list, which SQLite cannot bind.
    broken = [
        (1, t, schema.CLICK, None, "#also-new", None, None, None, None, 1, 1.0, 1.0, None, [1])
    ]
    with pytest.raises(sqlite3.Error):
        events.write([
            (session, schema.SOURCE_SNIPPET, schema.Batch(session.token, "l1", t, good), t),
            (session, schema.SOURCE_SNIPPET, schema.Batch(session.token, "l2", t, broken), t),
        ])  # fmt: skip
    assert fresh_db.execute("SELECT count(*) FROM events").fetchone()[0] == 0
    assert fresh_db.execute("SELECT count(*) FROM targets").fetchone()[0] == 0
    assert fresh_db.execute("SELECT count(*) FROM page_loads").fetchone()[0] == 0
    # The same batch alone now goes in, with a target id that exists.
    assert events.write(
        [(session, schema.SOURCE_SNIPPET, schema.Batch(session.token, "l1", t, good), t)]
    ) == [(1, 0)]
    row = fresh_db.execute(
        "SELECT g.selector FROM events e JOIN targets g ON g.id = e.target_id"
    ).fetchone()
    assert row == ("#new",)


def test_someone_elses_sqlite_file_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as other:
        other.execute("CREATE TABLE notes (x)")
    before = path.read_bytes()
    with pytest.raises(store.StoreError, match="not a uxlab database"):
        store.open_db(path)
    assert path.read_bytes() == before


def test_a_refused_batch_leaves_the_rest_of_the_group_stored(fresh_db: sqlite3.Connection) -> None:
    session = store.new_session(fresh_db, "checkout-2026", "P01", "A")
    events = store.EventStore(fresh_db)
    t = now_ms()
    click = schema.validate_events(
        [
            {
                "seq": 0,
                "t": t,
                "type": "click",
                "x": 1,
                "y": 2,
                "sel": "#first",
                "label": "First",
                "interactive": True,
            }
        ],
        schema.Options(types=schema.PARTICIPANT_TYPES),
    )
    # A task the study no longer has (removed while the session was cached).
    stale = schema.validate_events(
        [{"seq": 0, "t": t, "type": "click", "x": 1, "y": 2, "sel": "#lost", "interactive": True},
         {"seq": 1, "t": t, "type": "task_start", "task": "gone"}],
        schema.Options(types=schema.EVENT_TYPES, tasks=frozenset({"gone"})),
    )  # fmt: skip
    later = schema.validate_events(
        [
            {
                "seq": 0,
                "t": t,
                "type": "click",
                "x": 1,
                "y": 2,
                "sel": "#second",
                "interactive": True,
            }
        ],
        schema.Options(types=schema.PARTICIPANT_TYPES),
    )
    results = events.write([
        (session, schema.SOURCE_SNIPPET, schema.Batch(session.token, "l1", t, click), t),
        (session, schema.SOURCE_MODERATOR, schema.Batch(session.token, "c1", t, stale), t),
        (session, schema.SOURCE_SNIPPET, schema.Batch(session.token, "l2", t, later), t),
    ])  # fmt: skip
    assert results[0] == (1, 0) and results[2] == (1, 0)
    assert isinstance(results[1], store.StoreError)
    selectors = [s for (s,) in fresh_db.execute(
        "SELECT g.selector FROM events e JOIN targets g ON g.id = e.target_id ORDER BY e.id")]  # fmt: skip
    assert selectors == ["#first", "#second"]
    assert (
        fresh_db.execute("SELECT count(*) FROM targets WHERE selector = '#lost'").fetchone()[0] == 0
    )
    assert fresh_db.execute("SELECT count(*) FROM page_loads WHERE key = 'c1'").fetchone()[0] == 0
    # The writer's caches forgot what was rolled back: the same strings go in again, with ids that exist.
    again = schema.validate_events(
        [{"seq": 5, "t": t, "type": "click", "x": 1, "y": 2, "sel": "#lost", "interactive": True}],
        schema.Options(types=schema.PARTICIPANT_TYPES),
    )
    assert events.write(
        [(session, schema.SOURCE_SNIPPET, schema.Batch(session.token, "c1", t, again), t)]
    ) == [(1, 0)]
    row = fresh_db.execute(
        "SELECT g.selector, l.key FROM events e JOIN targets g ON g.id = e.target_id"
        " JOIN page_loads l ON l.id = e.load_id WHERE e.seq = 5"
    ).fetchone()
    assert row == ("#lost", "c1")


def test_migration_3_numbers_existing_sessions_within_their_study(db_path: Path) -> None:
    conn = store.connect(db_path)
    assert store.migrate(conn, upto=2) == 2
    for study in ("checkout-2026", "other"):  # v2-shaped rows: save_study writes later columns
        conn.execute("INSERT INTO studies (id, name, origins, questionnaires, capture_values)"
                     " VALUES (?, ?, '[]', '{}', 0)", (study, study))  # fmt: skip
        conn.executemany("INSERT INTO variants (study_id, id, url, position) VALUES (?, ?, ?, ?)",
                         [(study, v, f"http://x.test/{v}/", n) for n, v in enumerate("AB")])  # fmt: skip
    for study, participant in [("checkout-2026", "P01"), ("other", "P01"), ("other", "P02"),
                               ("checkout-2026", "P02"), ("checkout-2026", "P03")]:  # fmt: skip
        conn.execute("INSERT OR IGNORE INTO participants (study_id, id) VALUES (?, ?)",
                     (study, participant))  # fmt: skip
        conn.execute(
            "INSERT INTO sessions (token, study_id, participant_pk, variant_pk, status)"
            " SELECT ?, ?, p.pk, v.pk, 'open' FROM participants p, variants v"
            " WHERE p.study_id = ? AND p.id = ? AND v.study_id = ? AND v.id = 'A'",
            (f"{study}-{participant}", study, study, participant, study),
        )
    conn.close()
    conn = store.open_db(db_path)
    rows = conn.execute("SELECT id, study_id, number FROM sessions ORDER BY id").fetchall()
    assert [(r[1], r[2]) for r in rows] == [("checkout-2026", 1), ("other", 1), ("other", 2),
                                            ("checkout-2026", 2), ("checkout-2026", 3)]  # fmt: skip
    # New sessions continue each study's count, in the same transaction as the insert.
    assert store.new_session(conn, "other", "P09", "B").number == 3
    assert store.new_session(conn, "checkout-2026", "P09", "B").number == 4
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("UPDATE sessions SET number = 1 WHERE token = 'other-P02'")


def test_session_by_number(fresh_db: sqlite3.Connection) -> None:
    first = store.new_session(fresh_db, "checkout-2026", "P01", "A")
    second = store.new_session(fresh_db, "checkout-2026", "P02", "B")
    assert (first.number, second.number) == (1, 2)
    found = store.session_by_number(fresh_db, "checkout-2026", 2)
    assert (found.token, found.participant) == (second.token, "P02")
    with pytest.raises(store.StoreError, match="no session 3 in study 'checkout-2026'"):
        store.session_by_number(fresh_db, "checkout-2026", 3)
    with pytest.raises(store.StoreError, match="no session 1"):
        store.session_by_number(fresh_db, "nope", 1)


def test_none_binds_null_through_the_registered_adapter(fresh_db: sqlite3.Connection) -> None:
    """The store's NULL adapter (a faster path through sqlite3's binding) still stores NULL,
    and an event's absent fields are NULL, not the text 'None' or 0."""
    assert sqlite3.adapters[(type(None), sqlite3.PrepareProtocol)](None) is None
    assert fresh_db.execute("SELECT ? IS NULL, typeof(?)", (None, None)).fetchone() == (1, "null")
    session = store.new_session(fresh_db, "checkout-2026", "P01", "A")
    t = now_ms()
    rows = schema.validate_events(
        [{"seq": 0, "t": t, "type": "scroll", "depth": 40}],
        schema.Options(types=schema.PARTICIPANT_TYPES),
    )
    store.EventStore(fresh_db).write(
        [(session, schema.SOURCE_SNIPPET, schema.Batch(session.token, "l1", t, rows), t + 5)]
    )
    stored = fresh_db.execute(
        "SELECT typeof(page_id), typeof(target_id), typeof(label_id), typeof(task_pk),"
        " typeof(outcome), typeof(kind), typeof(interactive), typeof(x), typeof(y),"
        " typeof(value), typeof(data) FROM events"
    ).fetchone()
    assert stored == ("null",) * 9 + ("real", "null")
