"""The loader: rows to sorted columns, page keys, and the columnar cache beside the database."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analyzer import load
from recorder.storage import store
from recorder.wire import pages, schema
from tests.scripted import Recorder

STUDY: dict[str, Any] = {
    "id": "shop",
    "variants": [{"id": "A", "url": "http://proto.test/demo/A/"}, {"id": "B", "url": "http://proto.test/demo/B/"}],
    "tasks": [{"id": "buy", "success": {"url": "/cart"}, "expected_path": ["/", "/shoes/", "/cart"]},
              {"id": "help", "success": {"click": "#help"}}],
}  # fmt: skip


# -- a plain reading of the database to compare with -------------------------------------------


def naive_rows(db: Path, study_id: str) -> list[dict[str, Any]]:
    """Every event of the study with corrected time and page key, sorted the obvious way."""
    conn = sqlite3.connect(db)
    rows = conn.execute("""
        SELECT e.session_id, e.t + l.offset_ms, e.load_id, e.seq, e.type, pg.url, v.url, tk.id,
               e.outcome, e.kind, e.interactive, e.x, e.y, e.value, e.target_id, e.label_id
        FROM events e JOIN page_loads l ON l.id = e.load_id JOIN sessions s ON s.id = e.session_id
        JOIN variants v ON v.pk = s.variant_pk LEFT JOIN pages pg ON pg.id = e.page_id
        LEFT JOIN tasks tk ON tk.pk = e.task_pk WHERE s.study_id = ?""", (study_id,)).fetchall()  # fmt: skip
    conn.close()
    rows.sort(key=lambda r: (r[0], r[1], r[2], r[3]))
    names = ("session", "t", "load", "seq", "type", "key", "task", "outcome", "kind", "interactive", "x", "y",
             "value", "target", "label")  # fmt: skip
    out = []
    for r in rows:
        key = pages.page_key(r[5], r[6]) if r[4] == schema.PAGE else None
        values = (r[0], r[1], r[2], r[3], r[4], key, r[7], r[8] or 0, r[9] or 0,
                  -1 if r[10] is None else r[10], r[11], r[12], r[13] if r[4] != schema.PAGE else None,
                  -1 if r[14] is None else r[14], -1 if r[15] is None else r[15])  # fmt: skip
        out.append(dict(zip(names, values, strict=True)))
    return out


def loaded_rows(data: load.StudyData) -> list[dict[str, Any]]:
    ev = data.events
    session = np.repeat(data.sessions, np.diff(ev.session_start))
    out = []
    for i in range(len(ev.t)):
        is_page, is_rating = ev.type[i] == schema.PAGE, ev.type[i] == schema.RATING
        value = None if is_page or np.isnan(ev.value[i]) else float(ev.value[i])
        if is_rating and ev.kind[i] != schema.RATING_ITEMS["SEQ"]:
            value = None  # multi-answer ratings are packed; compared in test_metrics
        out.append({
            "session": int(session[i]), "t": float(ev.t[i]), "load": int(data.load[i]), "seq": int(data.seq[i]),
            "type": int(ev.type[i]), "key": data.keys[ev.key[i]] if is_page else None,
            "task": data.tasks[ev.task[i]] if ev.task[i] >= 0 else None, "outcome": int(ev.outcome[i]),
            "kind": int(ev.kind[i]), "interactive": int(ev.interactive[i]),
            "x": None if np.isnan(ev.x[i]) else float(ev.x[i]), "y": None if np.isnan(ev.y[i]) else float(ev.y[i]),
            "value": value, "target": int(ev.target[i]), "label": int(ev.label[i]),
        })  # fmt: skip
    return out


def comparable(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for row in rows:
        if row["type"] == schema.RATING and row["kind"] != schema.RATING_ITEMS["SEQ"]:
            row["value"] = None
    return rows


def assert_same_data(a: load.StudyData, b: load.StudyData) -> None:
    assert loaded_rows(a) == loaded_rows(b)
    assert a.sessions.tolist() == b.sessions.tolist()
    assert a.events.session_start.tolist() == b.events.session_start.tolist()


# -- sessions to record ------------------------------------------------------------------------


def shop_session(
    rec: Recorder, participant: str, variant: str, skew: float = 0.0
) -> store.SessionInfo:
    info = rec.session(participant, variant)
    base = f"http://proto.test/demo/{variant}"
    rec.send(info, [
        {"type": "page", "t": 0, "url": f"{base}/?uxlab={info.token}", "title": "Home",
         "timing": {"responseStart": 40, "loadEventEnd": 300}},
        {"type": "click", "t": 900, "x": 10, "y": 20, "sel": "a#shoes", "interactive": True},
    ], page="home", skew=skew)  # fmt: skip
    rec.send(info, [
        {"type": "page", "t": 1000, "url": f"{base}/shoes/?sort=price", "timing": {"ttfb": 55, "load": 280}},
        {"type": "click", "t": 1500, "x": 100, "y": 200, "sel": "div.card", "interactive": False},
        {"type": "invalid", "t": 1600, "sel": "#qty", "msg": "too many"},
        {"type": "page", "t": 2000, "url": f"{base}/cart", "title": "Cart"},
    ], page="shoes", skew=skew)  # fmt: skip
    rec.send(info, [
        {"type": "task_start", "t": 500, "task": "buy"},
        {"type": "marker", "t": 1700, "kind": "note", "text": "hesitates"},
        {"type": "task_end", "t": 2500, "task": "buy", "outcome": "success"},
        {"type": "rating", "t": 2600, "item": "SEQ", "task": "buy", "value": 6},
        {"type": "rating", "t": 3000, "item": "SUS", "values": [4, 2, 4, 1, 5, 2, 4, 2, 4, 1]},
    ], page="console", moderator=True, skew=-skew / 2)  # fmt: skip
    return info


@pytest.fixture
def recorder(db_path: Path) -> Any:
    rec = Recorder(db_path, STUDY)
    yield rec
    rec.close()


def test_load_matches_a_plain_reading(recorder: Recorder, db_path: Path) -> None:
    shop_session(recorder, "P1", "A", skew=0)
    shop_session(recorder, "P2", "B", skew=40_000)  # a participant's clock 40 s fast
    data = load.load_study_data(db_path, "shop", cache=False)
    assert comparable(loaded_rows(data)) == comparable(naive_rows(db_path, "shop"))
    assert data.participants == ["P1", "P2"] and data.variants == ["A", "B"]
    assert data.events.session_variant.tolist() == [0, 1]
    assert {data.keys[k] for k in data.events.key if k >= 0} == {"/", "/shoes", "/cart"}


def test_corrected_time_puts_moderator_and_participant_events_in_order(
    recorder: Recorder, db_path: Path
) -> None:
    shop_session(recorder, "P2", "B", skew=40_000)
    data = load.load_study_data(db_path, "shop", cache=False)
    names = [schema.EVENT_TYPE_NAMES[c] for c in data.events.type]
    assert names == ["page", "task_start", "click", "page", "click", "invalid", "marker", "page", "task_end",
                     "rating", "rating"]  # fmt: skip


def test_page_timing_and_packed_answers(recorder: Recorder, db_path: Path) -> None:
    shop_session(recorder, "P1", "A")
    data = load.load_study_data(db_path, "shop", cache=False)
    pages = data.events.type == schema.PAGE
    assert data.events.value[pages].tolist()[:2] == [300.0, 280.0]
    assert data.ttfb[pages].tolist()[:2] == [40.0, 55.0]
    sus = data.events.value[(data.events.type == schema.RATING) & (data.events.kind == 2)][0]
    assert load.rating_answers(sus, 10) == [4, 2, 4, 1, 5, 2, 4, 2, 4, 1]


def test_rules_use_page_keys_and_interned_selectors(recorder: Recorder, db_path: Path) -> None:
    info = shop_session(recorder, "P1", "A")
    recorder.send(info, [{"type": "click", "t": 5000, "x": 1, "y": 1, "sel": "#help", "interactive": True}],
                  page="help")  # fmt: skip
    data = load.load_study_data(db_path, "shop", cache=False)
    expected = data.rules.expected_keys.tolist()
    assert [data.keys[k] for k in expected] == ["/", "/shoes", "/cart"]
    assert [data.keys[k] for k in np.flatnonzero(data.rules.url_match[0])] == ["/cart"]
    assert data.targets[int(data.rules.criterion_id[1])] == "#help"


def test_unknown_study_and_missing_database(
    recorder: Recorder, db_path: Path, tmp_path: Path
) -> None:
    with pytest.raises(store.StoreError, match="no study 'nope' \\(studies: shop\\)"):
        load.load_study_data(db_path, "nope")
    with pytest.raises(store.StoreError, match="no study 'shop': no database"):
        load.load_study_data(tmp_path / "absent.db", "shop")


def test_empty_study_loads(recorder: Recorder, db_path: Path) -> None:
    recorder.session("P1", "A")
    data = load.load_study_data(db_path, "shop")
    assert len(data.events.t) == 0 and data.events.session_start.tolist() == [0, 0]


# -- the cache ---------------------------------------------------------------------------------


def reads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """Record the event-id ranges the loader reads from SQLite."""
    seen: list[tuple[int, int]] = []
    original = load._read_events

    def spy(conn: sqlite3.Connection, db: Path | None, study_id: str, after: int, upto: int,
            scan: bool, only: bool = False) -> dict[str, np.ndarray]:  # fmt: skip
        seen.append((after, upto))
        return original(conn, db, study_id, after, upto, scan, only)

    monkeypatch.setattr(load, "_read_events", spy)
    return seen


def test_second_load_reads_no_event_twice(
    recorder: Recorder, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop_session(recorder, "P1", "A")
    seen = reads(monkeypatch)
    first = load.load_study_data(db_path, "shop")
    second = load.load_study_data(db_path, "shop")
    assert seen == [(0, 11)]
    assert load.cache_folder(db_path).is_dir()
    assert_same_data(first, second)


def test_cache_tops_up_with_new_events_and_new_sessions(recorder: Recorder, db_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    info = shop_session(recorder, "P1", "A")
    load.load_study_data(db_path, "shop")
    shop_session(recorder, "P2", "B", skew=-5000)
    # An older event of P1 arriving late, and a later batch of the same page load whose
    # smaller delay lowers that load's clock offset (moving its earlier events too).
    late = {"seq": 2, "type": "click", "t": 950, "x": 5, "y": 5, "sel": "a", "interactive": True}
    recorder.send(info, [late], page="home", delay=1.0)
    seen = reads(monkeypatch)
    warm = load.load_study_data(db_path, "shop")
    assert seen == [(11, 23)]
    assert_same_data(warm, load.load_study_data(db_path, "shop", cache=False))
    assert (
        len([p for p in load.cache_folder(db_path).iterdir() if p.is_dir()]) == 1
    )  # old columns gone


def test_each_study_keeps_its_own_cache(db_path: Path) -> None:
    shop, similar = Recorder(db_path, STUDY), Recorder(db_path, dict(STUDY, id="shop.v2"))
    shop_session(similar, "Q1", "B")
    info = shop_session(shop, "P1", "A")
    load.load_study_data(db_path, "shop.v2")
    load.load_study_data(db_path, "shop")
    shop.send(
        info, [{"type": "click", "t": 9000, "x": 1, "y": 1, "interactive": True}], page="late"
    )
    load.load_study_data(db_path, "shop")  # rewrites shop's columns, leaves shop.v2's alone
    parts = sorted(
        p.name.split(".")[:-1] for p in load.cache_folder(db_path).iterdir() if p.is_dir()
    )
    assert parts == [["shop"], ["shop", "v2"]]
    assert load.load_study_data(db_path, "shop.v2").participants == ["Q1"]
    shop.close()
    similar.close()


def test_offsets_lowered_by_a_resent_batch_reorder_the_cache(
    recorder: Recorder, db_path: Path
) -> None:
    info = shop_session(recorder, "P1", "A")
    load.load_study_data(db_path, "shop")
    # A duplicate arriving with less delay: the home page load's offset drops from 5 ms
    # to 1 ms, so the cached corrected times of that load's events must move.
    body = [
        {
            "seq": 1,
            "type": "click",
            "t": 502,
            "x": 10,
            "y": 20,
            "sel": "a#shoes",
            "interactive": True,
        }
    ]
    assert recorder.send(info, body, page="home", delay=1.0) == (0, 1)
    warm = load.load_study_data(db_path, "shop")
    assert_same_data(warm, load.load_study_data(db_path, "shop", cache=False))


def test_other_studies_events_cost_no_resort(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rec = Recorder(db_path, STUDY)
    shop_session(rec, "P1", "A")
    other = Recorder(db_path, dict(STUDY, id="other"))
    load.load_study_data(db_path, "shop")
    shop_session(other, "Q1", "A")
    seen = reads(monkeypatch)
    load.load_study_data(db_path, "shop")
    load.load_study_data(db_path, "shop")
    assert seen == [(11, 22)]  # the other study's new ids are passed over once
    rec.close()
    other.close()


def test_replaced_database_is_never_mixed_with_its_cache(
    recorder: Recorder, db_path: Path, tmp_path: Path
) -> None:
    shop_session(recorder, "P1", "A")
    backup = tmp_path / "backup.db"
    target = sqlite3.connect(backup)
    recorder.conn.backup(target)
    target.close()
    load.load_study_data(db_path, "shop")
    shop_session(recorder, "P2", "B")
    load.load_study_data(db_path, "shop")
    recorder.close()
    # Restored from the backup: fewer events than the cache holds.
    for suffix in ("-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    shutil.copy(backup, db_path)
    assert_same_data(
        load.load_study_data(db_path, "shop"), load.load_study_data(db_path, "shop", cache=False)
    )
    # Replaced by another database with the same study and as many events.
    db_path.unlink()
    other = Recorder(db_path, STUDY)
    shop_session(other, "P9", "B", skew=7)
    shop_session(other, "P8", "A")
    other.close()
    data = load.load_study_data(db_path, "shop")
    assert data.participants == ["P9", "P8"]
    assert_same_data(data, load.load_study_data(db_path, "shop", cache=False))


def test_unwritable_cache_folder_only_costs_speed(recorder: Recorder, db_path: Path) -> None:
    shop_session(recorder, "P1", "A")
    load.cache_folder(db_path).write_text("not a folder")
    data = load.load_study_data(db_path, "shop")
    assert_same_data(data, load.load_study_data(db_path, "shop", cache=False))


# -- generated batches -------------------------------------------------------------------------

batch_strategy = st.tuples(
    st.integers(0, 2),  # session
    st.sampled_from(["l1", "l2", "console"]),  # page load
    st.floats(-3e4, 3e4, allow_nan=False),  # clock skew
    st.floats(0, 500, allow_nan=False),  # network delay
    st.lists(st.tuples(st.sampled_from(["page", "click", "task_start", "task_end", "marker"]),
                       st.integers(0, 20).map(lambda n: n * 100.0)), min_size=1, max_size=6),
)  # fmt: skip


def _event(kind: str, t: float, n: int) -> dict[str, Any]:
    return {
        "page": {"type": "page", "url": f"http://proto.test/demo/A/p{n % 3}/"},
        "click": {
            "type": "click",
            "x": n,
            "y": 2 * n,
            "sel": f"#b{n % 2}",
            "interactive": n % 2 == 0,
        },
        "task_start": {"type": "task_start", "task": "buy"},
        "task_end": {"type": "task_end", "task": "buy", "outcome": "failure"},
        "marker": {"type": "marker", "kind": "error", "text": f"m{n}"},
    }[kind] | {"t": t}


@settings(max_examples=25, deadline=None)
@given(st.lists(batch_strategy, min_size=1, max_size=8), st.integers(0, 8))
def test_generated_batches_load_as_a_plain_reading_does(
    batches: list[Any], cached_after: int
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "u.db"
        rec = Recorder(db, STUDY)
        infos = [rec.session(f"P{n}", "A") for n in range(3)]
        seq: dict[tuple[int, str], int] = {}
        for n, (s, page_load, skew, delay, events) in enumerate(batches):
            if n == cached_after:
                load.load_study_data(db, "shop")  # a cache made part-way
            first = seq.get((s, page_load), 0)
            body = [
                dict(_event(kind, t, first + k), seq=first + k)
                for k, (kind, t) in enumerate(events)
            ]
            seq[s, page_load] = first + len(body)
            rec.send(
                infos[s],
                body,
                page=page_load,
                skew=skew,
                delay=delay,
                moderator=page_load == "console",
            )
        rec.close()
        data = load.load_study_data(db, "shop")
        assert comparable(loaded_rows(data)) == comparable(naive_rows(db, "shop"))
        assert_same_data(data, load.load_study_data(db, "shop", cache=False))


def test_a_long_read_is_announced_once(
    recorder: Recorder, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    said: list[str] = []
    monkeypatch.setattr(load, "notice", said.append)
    monkeypatch.setattr(load, "NOTICE_FROM", 1)
    shop_session(recorder, "P1", "A", 0)
    load.load_study_data(db_path, "shop")
    assert len(said) == 1 and said[0].startswith("uxlab: reading up to ")
    load.load_study_data(db_path, "shop")  # from the cache: nothing to say
    assert len(said) == 1


# -- the cache never disagrees with the database -----------------------------------------------

KILLED_WRITER = """
import os, sys
from analyzer import load
db, study = sys.argv[1], sys.argv[2]
folder = load.cache_folder(db)
print("ready", flush=True)
while True:  # every round writes a whole new set of columns and replaces the description
    (folder / f"{study}.json").unlink(missing_ok=True)
    load.load_study_data(db, study)
"""


def test_a_cache_writer_killed_mid_write_leaves_a_cache_that_agrees(
    recorder: Recorder, db_path: Path
) -> None:
    import random
    import signal
    import subprocess
    import sys
    import time

    for n in range(6):
        shop_session(recorder, f"P{n}", "AB"[n % 2], skew=1000.0 * n)
    fresh = load.load_study_data(db_path, "shop", cache=False)
    rng = random.Random(7)
    for _ in range(5):
        proc = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(db_path), "shop"],
                                stdout=subprocess.PIPE, text=True)  # fmt: skip
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.05, 0.6))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        assert_same_data(load.load_study_data(db_path, "shop"), fresh)
    assert_same_data(load.load_study_data(db_path, "shop"), fresh)


def test_a_migrated_database_drops_the_cache(
    recorder: Recorder, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop_session(recorder, "P1", "A")
    load.load_study_data(db_path, "shop")
    version = recorder.conn.execute("PRAGMA user_version").fetchone()[0]
    recorder.conn.execute(f"PRAGMA user_version = {version + 1}")  # as a migration leaves it
    seen = reads(monkeypatch)
    again = load.load_study_data(db_path, "shop")
    assert seen == [(0, 11)]  # read whole: the cached columns came from the older schema
    assert_same_data(again, load.load_study_data(db_path, "shop", cache=False))


def test_a_study_edit_changes_what_a_cached_load_gives(recorder: Recorder, db_path: Path) -> None:
    from recorder.wire.studyfile import parse_study

    shop_session(recorder, "P1", "A")
    shop_session(recorder, "P2", "B")
    load.load_study_data(db_path, "shop")
    edited = dict(STUDY, variants=[{"id": "A", "url": "http://proto.test/"},
                                   {"id": "B", "url": "http://proto.test/demo/B/"}],
                  tasks=[*STUDY["tasks"], {"id": "search", "success": {"url": "/search"}}])  # fmt: skip
    store.save_study(recorder.conn, parse_study(edited))
    cached = load.load_study_data(db_path, "shop")
    assert_same_data(cached, load.load_study_data(db_path, "shop", cache=False))
    assert "/demo/A" in cached.keys and cached.tasks == ["buy", "help", "search"]


def test_a_clock_offset_change_after_the_cache_moves_cached_times(
    recorder: Recorder, db_path: Path
) -> None:
    info = shop_session(recorder, "P1", "A", skew=20_000)
    before = load.load_study_data(db_path, "shop")
    click = {"seq": 1, "type": "click", "t": 502, "x": 10, "y": 20, "sel": "a#shoes",
             "interactive": True}  # fmt: skip
    recorder.send(info, [click], page="home", skew=20_000, delay=0.5)  # a smaller delay seen
    after = load.load_study_data(db_path, "shop")
    assert_same_data(after, load.load_study_data(db_path, "shop", cache=False))
    assert not np.array_equal(before.events.t, after.events.t)


# -- the native reader against Python's sqlite3 ------------------------------------------------


def _read_both(db: Path, study_id: str, after: int, upto: int, scan: bool,
               only: bool) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:  # fmt: skip
    conn = store.connect(db, readonly=True)
    try:
        native = load._read_events(conn, db, study_id, after, upto, scan, only)
        python = load._read_events(
            conn, None, study_id, after, upto, scan, only
        )  # no path: sqlite3
    finally:
        conn.close()
    return native, python


def _by_id(rows: dict[str, np.ndarray]) -> list[tuple[Any, ...]]:
    """Rows in a fixed order, every value as the cache stores it (NaN as None)."""
    cols = {name: np.asarray(rows[name]).astype(dtype) for name, dtype in load.COLUMNS.items()}
    cols["session"] = np.asarray(rows["session"], np.int64)
    names = sorted(cols)
    out = [tuple(None if isinstance(v, float) and np.isnan(v) else v
                 for v in (cols[n][i].item() for n in names)) for i in range(len(cols["t"]))]  # fmt: skip
    return sorted(out, key=lambda r: tuple((v is None, v or 0) for v in r))


@pytest.mark.skipif(not load.sqlite_rows.available(),
                    reason="this Python's sqlite3 is not linked to a shared SQLite library")  # fmt: skip
@pytest.mark.parametrize(("parallel_from", "chunk"), [(10**9, 1 << 20), (1, 1 << 20), (1, 3)])
def test_the_native_reader_reads_what_sqlite3_reads(db_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    parallel_from: int, chunk: int) -> None:  # fmt: skip
    """Every column of every event alike, NULLs, page timing and packed SUS answers included,
    read in one thread or two (the second half's rows moved down past another study's ids),
    into arrays that grow three rows at a time, filtered by study or not."""
    monkeypatch.setattr(load, "PARALLEL_FROM", parallel_from)
    monkeypatch.setattr(load.sqlite_rows, "CHUNK", chunk)
    shop, other = Recorder(db_path, STUDY), Recorder(db_path, dict(STUDY, id="shop.v2"))
    for k in range(3):  # the two studies' events interleave in the id order
        shop_session(shop, f"P{k}", "AB"[k % 2], skew=300.0 * k)
        shop_session(other, f"Q{k}", "B", skew=-100.0 * k)
    shop.send(shop.session("P9", "A"), [
        {"type": "scroll", "t": 10, "depth": 40}, {"type": "error", "t": 20, "msg": "boom"},
        {"type": "rating", "t": 30, "item": "UMUX-Lite", "values": [6, 5]},
        {"type": "page", "t": 40, "url": "http://proto.test/demo/A/x", "timing": {}},
    ], page="odd")  # fmt: skip
    conn = store.connect(db_path, readonly=True)
    upto = conn.execute("SELECT max(id) FROM events").fetchone()[0]
    conn.close()
    checked = 0
    for study_id, only in (("shop", False), ("shop.v2", False)):
        for after in (0, upto // 3):
            for scan in (True, False):
                native, python = _read_both(db_path, study_id, after, upto, scan, only)
                assert set(native) == set(python)
                assert len(native["t"]) == len(python["t"]) > 0
                assert _by_id(native) == _by_id(python), (study_id, after, scan)
                checked += 1
    # Unfiltered (`only`), over a database of one study: the same again.
    assert checked == 8
    with sqlite3.connect(db_path) as raw:
        raw.execute("DELETE FROM events WHERE session_id IN"
                    " (SELECT id FROM sessions WHERE study_id = 'shop.v2')")  # fmt: skip
    native, python = _read_both(db_path, "shop", 0, upto, True, True)
    assert _by_id(native) == _by_id(python)
    paged = np.asarray(python["ttfb"])[np.asarray(python["type"]) == schema.PAGE]
    assert np.isfinite(paged).any() and np.isnan(paged).any()  # both kinds of page row were read
    shop.close()
    other.close()


def test_a_load_without_the_native_reader_is_the_same(recorder: Recorder, db_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    for k in range(4):
        shop_session(recorder, f"P{k}", "AB"[k % 2], skew=250.0 * k)
    native = load.load_study_data(db_path, "shop", cache=False)
    monkeypatch.setattr(load, "NATIVE", False)
    assert_same_data(native, load.load_study_data(db_path, "shop", cache=False))


@pytest.mark.skipif(not load.sqlite_rows.available(),
                    reason="this Python's sqlite3 is not linked to a shared SQLite library")  # fmt: skip
def test_the_native_reader_says_what_sqlite_says(db_path: Path, tmp_path: Path) -> None:
    store.open_db(db_path).close()
    with pytest.raises(sqlite3.OperationalError, match="no such column: nope"):
        load.sqlite_rows.read(db_path, "SELECT nope FROM events", (), 1, 0)
    with pytest.raises(sqlite3.OperationalError, match="cannot open"):
        load.sqlite_rows.read(tmp_path / "absent.db", "SELECT 1", (), 1, 0)
    ints, floats = load.sqlite_rows.read(db_path, "SELECT 7, NULL, 2.5 UNION ALL SELECT ?, ?, NULL",
                                         (8, 1.5), 1, 2, size_hint=1)  # fmt: skip
    assert ints.tolist() == [[7], [8]]
    assert np.isnan(floats[0, 0]) and floats[0, 1] == 2.5
    assert floats[1, 0] == 1.5 and np.isnan(floats[1, 1])
