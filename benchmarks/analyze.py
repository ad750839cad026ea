"""Analyzer speed: load (cold, warm), kernels and end-to-end, against a pandas twin.

Builds studies of 100 thousand, 1 million and 10 million events by direct
bulk insert into a WAL database (a realistic mix: many concurrent sessions,
eight tasks each, page loads with clock skew, clicks, rage bursts,
scrolls, inputs, form errors, markers, ratings), then prints per size:
cold load (no columnar cache), warm load (from the cache), kernel time and
events/s, the time of a straightforward pandas implementation of the same
attempts table on the same arrays (checked equal) with the ratio, and a
warm end-to-end ``uxlab analyze``. Last, a small study's ``uxlab analyze``
on a fresh numba cache (first run: compiling) and again (cached).

    .venv/bin/python benchmarks/analyze.py --sizes 100k,1m,10m
    .venv/bin/python benchmarks/analyze.py --sizes 100k --no-pandas

Databases are kept in ``benchmarks/out/`` and reused (``--rebuild`` to remake).
"""

from __future__ import annotations

import argparse
import importlib
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numba
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import alternatives  # noqa: E402  (benchmarks/alternatives.py: polars and DuckDB twins)

from analyzer import config, load  # noqa: E402
from analyzer.kernels import jit as kernels  # noqa: E402
from analyzer.metrics import analyze as metrics  # noqa: E402
from recorder.storage import store  # noqa: E402
from recorder.wire import schema  # noqa: E402
from recorder.wire.studyfile import parse_study  # noqa: E402

BENCH_VERSION = "2"  # 2: sessions have their number (migration 3)
SIZES = {"small": 12_000, "100k": 100_000, "1m": 1_000_000, "10m": 10_000_000}
PAGES = ["/", "/shoes", "/shoes/42", "/shoes/7", "/shoes/13", "/cart", "/checkout", "/done", "/help",
         "/help/returns", "/help/shipping", "/search", "/account", "/wishlist", "/about", "/sale"]  # fmt: skip
STUDY: dict[str, Any] = {
    "id": "bench",
    "variants": [{"id": "A", "url": "http://bench.test/A/"}, {"id": "B", "url": "http://bench.test/B/"}],
    "tasks": [
        {"id": "find-shoes", "success": {"url": "/cart"}, "expected_path": ["/", "/shoes", "/shoes/42", "/cart"]},
        {"id": "checkout", "success": {"event": "order-placed"}, "expected_path": ["/cart", "/checkout", "/done"]},
        {"id": "find-returns", "success": {"click": "#returns-days"}, "expected_path": ["/", "/help", "/help/returns"]},
        {"id": "search", "success": {"url": "/search"}},
        {"id": "compare"},
        {"id": "account", "success": {"url": "/account"}, "expected_path": ["/", "/account"]},
        {"id": "wishlist"},
        {"id": "newsletter", "success": {"event": "subscribed"}},
    ],
}  # fmt: skip
GOALS = {"find-shoes": ("page", "/cart"), "checkout": ("custom", "order-placed"), "search": ("page", "/search"),
         "find-returns": ("click", "#returns-days"), "account": ("page", "/account"),
         "newsletter": ("custom", "subscribed")}  # fmt: skip
SELECTORS = [f"main > div:nth-child({i}) > a" for i in range(300)] + ["#returns-days"]
LABELS = [f"label {i}" for i in range(200)] + [
    "order-placed",
    "subscribed",
    "filter-used",
    "typed in search",
]
OUTCOMES = ["success"] * 13 + ["failure"] * 3 + ["abandoned"] * 2 + ["skipped"] + ["criteria"] * 2
CONCURRENT = 32  # sessions whose events interleave in the events table

# -- building a study ------------------------------------------------------------------------


class Builder:
    """Direct bulk insert of a realistic study (no HTTP, no validation: sizes only)."""

    def __init__(self, path: Path, seed: int = 1) -> None:
        self.conn = store.open_db(path)
        self.conn.execute("PRAGMA synchronous = OFF")
        store.save_study(self.conn, parse_study(STUDY))
        self.rng = random.Random(seed)
        c = self.conn
        c.execute("BEGIN")
        self.task_pk = dict(
            c.execute("SELECT id, pk FROM tasks WHERE study_id = 'bench'").fetchall()
        )
        self.variant_pk = dict(
            c.execute("SELECT id, pk FROM variants WHERE study_id = 'bench'").fetchall()
        )
        self.page_id: dict[str, int] = {}
        urls = [f"http://bench.test/{v}{p}" for v in "AB" for p in PAGES]
        urls += [f"http://bench.test/{v}/search?q=term{k}" for v in "AB" for k in range(50)]
        for url in urls:
            self.page_id[url] = self._intern("pages", "url", url)
        self.target_id = {s: self._intern("targets", "selector", s) for s in SELECTORS}
        self.label_id = {s: self._intern("labels", "text", s) for s in LABELS}
        self.next_load = (c.execute("SELECT ifnull(max(id), 0) FROM page_loads").fetchone()[0]) + 1
        c.execute("COMMIT")

    def _intern(self, table: str, column: str, text: str) -> int:
        return self.conn.execute(
            f"INSERT INTO {table} ({column}) VALUES (?) RETURNING id", (text,)
        ).fetchone()[0]  # type: ignore[no-any-return]

    def build(self, n_events: int) -> None:
        made, number = 0, 0
        while made < n_events:
            group: list[tuple[float, tuple[Any, ...]]] = []
            loads: list[tuple[Any, ...]] = []
            self.conn.execute("BEGIN")
            for _ in range(CONCURRENT):
                number += 1
                group += self._session(number, loads)
            group.sort(key=lambda row: row[0])  # arrival order: sessions interleave
            rows = [row for _, row in group[: n_events - made]]
            self.conn.executemany(
                "INSERT INTO page_loads (id, session_id, key, source, offset_ms, first_seen) VALUES (?, ?, ?, ?, ?, 0)",
                loads,
            )
            self.conn.executemany(store.INSERT_EVENT, rows)
            self.conn.execute("COMMIT")
            made += len(rows)
        self.conn.execute(
            "INSERT OR REPLACE INTO meta (name, value) VALUES ('bench', ?)",
            (f"{BENCH_VERSION}:{n_events}",),
        )

    def _session(
        self, number: int, loads: list[tuple[Any, ...]]
    ) -> list[tuple[float, tuple[Any, ...]]]:
        rng, c = self.rng, self.conn
        variant = "AB"[number % 2]
        c.execute(
            "INSERT INTO participants (study_id, id, created_at) VALUES ('bench', ?, 0)",
            (f"P{number}",),
        )
        sid = c.execute(
            "INSERT INTO sessions (token, study_id, number, participant_pk, variant_pk, status,"
            " created_at) VALUES (?, 'bench', ?, last_insert_rowid(), ?, 'open', 0) RETURNING id",
            (f"tok{number}", number, self.variant_pk[variant])).fetchone()[0]  # fmt: skip
        skew, mod_skew = rng.uniform(-120_000, 120_000), rng.uniform(-2_000, 2_000)
        out: list[tuple[float, tuple[Any, ...]]] = []
        seqs: dict[int, int] = {}

        def new_load(source: int, clock: float) -> int:
            load_id, self.next_load = self.next_load, self.next_load + 1
            loads.append((load_id, sid, f"k{load_id}", source, -clock + rng.uniform(5, 60)))
            return load_id

        console = new_load(schema.SOURCE_MODERATOR, mod_skew)
        state = {"load": 0, "t": 1_764_000_000_000.0 + number * 40_000.0}

        def emit(code: int, load_id: int, clock: float, page: int | None = None, target: int | None = None,
                 label: int | None = None, task: int | None = None, outcome: int | None = None,
                 kind: int | None = None, interactive: int | None = None, x: float | None = None,
                 y: float | None = None, value: float | None = None, data: str | None = None,
                 gap: float | None = None) -> None:  # fmt: skip
            state["t"] += rng.expovariate(1 / 900) if gap is None else gap
            t = state["t"]
            seq = seqs.get(load_id, 0)
            seqs[load_id] = seq + 1
            row = (sid, load_id, seq, t + clock, code, page, target, label, task, outcome, kind, interactive,
                   x, y, value, data)  # fmt: skip
            out.append((t + rng.uniform(0, 2_000), row))

        def page(path: str, real: bool) -> None:
            if real or not state["load"]:
                state["load"] = new_load(schema.SOURCE_SNIPPET, skew)
                timing = f'{{"timing":{{"ttfb":{rng.uniform(20, 400):.1f},"load":{rng.uniform(300, 3000):.1f}}}}}'
            else:
                timing = '{"spa":true}'
            url = f"http://bench.test/{variant}{path}"
            if path == "/search":
                url += f"?q=term{rng.randrange(50)}"
            emit(
                schema.PAGE, state["load"], skew, page=self.page_id[url], x=1280, y=800, data=timing
            )

        def participant(code: int, **fields: Any) -> None:
            emit(code, state["load"], skew, **fields)

        page("/", True)
        for task_doc in STUDY["tasks"]:
            if rng.random() < 0.1:
                continue
            task_id, task_pk = task_doc["id"], self.task_pk[task_doc["id"]]
            plan = rng.choice(OUTCOMES)
            emit(schema.TASK_START, console, mod_skew, task=task_pk)
            visits = [rng.choice(PAGES) for _ in range(rng.randint(1, 6))]
            goal = GOALS.get(task_id)
            for n, path in enumerate(visits):
                last = n == len(visits) - 1
                if plan in ("success", "criteria") and last and goal and goal[0] == "page":
                    path = goal[1]
                page(path, rng.random() < 0.5)
                for _ in range(rng.randint(3, 14)):
                    self._participant_event(participant, rng)
                if rng.random() < 0.04:  # a rage burst
                    x, y = rng.uniform(0, 1200), rng.uniform(0, 3000)
                    for _ in range(rng.randint(3, 5)):
                        participant(schema.CLICK, target=self.target_id[SELECTORS[7]], interactive=0,
                                    x=x + rng.uniform(-5, 5), y=y + rng.uniform(-5, 5), data='{"tag":"img"}',
                                    gap=rng.uniform(50, 250))  # fmt: skip
            if plan in ("success", "criteria") and goal and goal[0] == "click":
                participant(
                    schema.CLICK, target=self.target_id[goal[1]], interactive=1, x=100, y=100
                )
            if plan in ("success", "criteria") and goal and goal[0] == "custom":
                participant(schema.CUSTOM, label=self.label_id[goal[1]])
            for kind, chance in (("error", 0.2), ("note", 0.25), ("assist", 0.05)):
                if rng.random() < chance:
                    emit(schema.MARKER, console, mod_skew, kind=schema.MARKER_KINDS[kind],
                         label=self.label_id["typed in search"], task=task_pk if rng.random() < 0.5 else None)  # fmt: skip
            if plan != "criteria":
                emit(
                    schema.TASK_END, console, mod_skew, task=task_pk, outcome=schema.OUTCOMES[plan]
                )
            emit(schema.RATING, console, mod_skew, task=task_pk, kind=1, value=rng.randint(1, 7))
        answers = ",".join(str(rng.randint(1, 5)) for _ in range(10))
        emit(schema.RATING, console, mod_skew, kind=2, data=f'{{"values":[{answers}]}}')
        return out

    def _participant_event(self, participant: Any, rng: random.Random) -> None:
        roll = rng.random()
        if roll < 0.5:
            participant(schema.CLICK, target=self.target_id[rng.choice(SELECTORS[:300])],
                        interactive=int(rng.random() < 0.75), x=rng.uniform(0, 1280), y=rng.uniform(0, 3000),
                        data='{"tag":"a","vx":10,"vy":10}')  # fmt: skip
        elif roll < 0.75:
            participant(schema.SCROLL, value=rng.randrange(101))
        elif roll < 0.88:
            participant(schema.INPUT, target=self.target_id[SELECTORS[rng.randrange(20)]], value=rng.randrange(30),
                        data='{"kind":"text"}')  # fmt: skip
        elif roll < 0.92:
            participant(
                schema.INVALID, target=self.target_id[SELECTORS[3]], label=self.label_id["label 1"]
            )
        elif roll < 0.93:
            participant(schema.ERROR, label=self.label_id["label 2"], data='{"line":12,"col":3}')
        elif roll < 0.96:
            participant(schema.VISIBILITY, kind=rng.randrange(2))
        elif roll < 0.98:
            participant(schema.CUSTOM, label=self.label_id["filter-used"])
        else:
            participant(schema.RESIZE, x=1280, y=800)


def study_db(folder: Path, size: str, rebuild: bool) -> Path:
    """The benchmark database of a size, built unless a matching one exists."""
    path = folder / f"analyze-{size}.db"
    if path.exists() and not rebuild:
        conn = store.connect(path, readonly=True)
        ok = store.meta_get(conn, "bench") == f"{BENCH_VERSION}:{SIZES[size]}"
        conn.close()
        if ok:
            return path
    for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        leftover.unlink(missing_ok=True)
    shutil.rmtree(load.cache_folder(path), ignore_errors=True)
    started = time.perf_counter()
    builder = Builder(path)
    builder.build(SIZES[size])
    builder.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    builder.conn.close()
    print(f"  built {path.name} in {time.perf_counter() - started:.0f} s", flush=True)
    return path


# -- the same attempts table in pandas ----------------------------------------------------------


def pandas_attempts(data: load.StudyData) -> pd.DataFrame:
    """The attempts table the straightforward pandas way (same rules as the kernels)."""
    ev, rules = data.events, data.rules
    n_sessions = len(ev.session_start) - 1
    df = pd.DataFrame({"session": np.repeat(np.arange(n_sessions), np.diff(ev.session_start)), "t": ev.t,
                       "type": ev.type, "key": ev.key, "target": ev.target, "label": ev.label, "task": ev.task,
                       "outcome": ev.outcome, "kind": ev.kind, "interactive": ev.interactive,
                       "x": ev.x.astype(float), "y": ev.y.astype(float), "value": ev.value})  # fmt: skip
    df["pos"] = np.arange(len(df))
    is_page, is_click = df["type"].eq(schema.PAGE), df["type"].eq(schema.CLICK)
    next_page = df["t"].where(is_page).groupby(df["session"]).bfill()
    df["misclick"] = (
        is_click & df["interactive"].eq(0) & ~((next_page - df["t"]) <= config.MISCLICK_MS)
    )
    clicks = df[is_click]
    by = clicks.groupby("session")
    near = (clicks["x"] - by["x"].shift()) ** 2 + (
        clicks["y"] - by["y"].shift()
    ) ** 2 <= config.RAGE_CLICK_PX**2
    linked = ((clicks["t"] - by["t"].shift()) <= config.RAGE_CLICK_MS) & near
    run = (~linked).cumsum()
    df["burst"] = False
    df.loc[clicks.index, "burst"] = ~linked & (run.map(run.value_counts()) >= config.RAGE_CLICK_MIN)
    df["screen"] = df["key"].where(is_page).groupby(df["session"]).ffill().fillna(-1).astype(int)
    is_start = df["type"].eq(schema.TASK_START) & df["task"].ge(0)
    df["window"] = np.where(is_start.groupby(df["session"]).cumsum() > 0, is_start.cumsum() - 1, -1)
    starts = df[is_start]
    att = pd.DataFrame({"session": starts["session"].to_numpy(), "task": starts["task"].to_numpy(),
                        "start": starts["pos"].to_numpy(), "t_start": starts["t"].to_numpy(),
                        "screen": starts["screen"].to_numpy()})  # fmt: skip
    na = len(att)
    w = df[df["window"] >= 0]
    wtask = att["task"].to_numpy()[w["window"].to_numpy()]
    ends = (
        w[w["type"].eq(schema.TASK_END) & (w["task"].to_numpy() == wtask)]
        .groupby("window")["pos"]
        .min()
    )
    kind, ident = rules.criterion[wtask], rules.criterion_id[wtask]
    meets = ((kind == kernels.CRIT_URL) & w["type"].eq(schema.PAGE).to_numpy()
             & rules.url_match[wtask, np.maximum(w["key"].to_numpy(), 0)] & (w["key"].to_numpy() >= 0)) | (
            (kind == kernels.CRIT_CLICK) & w["type"].eq(schema.CLICK).to_numpy() & (ident >= 0)
            & (w["target"].to_numpy() == ident)) | ((kind == kernels.CRIT_EVENT) & (ident >= 0)
            & w["type"].eq(schema.CUSTOM).to_numpy() & (w["label"].to_numpy() == ident))  # fmt: skip
    crit = w[meets].groupby("window")["pos"].min().reindex(range(na))
    end_mod = ends.reindex(range(na))
    moderator, criteria = end_mod.notna().to_numpy(), (end_mod.isna() & crit.notna()).to_numpy()
    last = w.groupby("window")["pos"].max().reindex(range(na)).to_numpy()
    end = np.where(moderator, end_mod.fillna(0), np.where(criteria, crit.fillna(0), last)).astype(
        np.int64
    )
    att["outcome"] = np.where(
        moderator, df["outcome"].to_numpy()[end], np.where(criteria, kernels.SUCCESS, 0)
    )
    att["coded_by"] = np.where(
        moderator, kernels.BY_MODERATOR, np.where(criteria, kernels.BY_CRITERIA, 0)
    )
    att["time"] = np.where(moderator | criteria, df["t"].to_numpy()[end] - att["t_start"], np.nan)
    tagged = df["type"].isin([schema.MARKER, schema.RATING]) & df["task"].ge(0)
    inside = w[(w["pos"].to_numpy() <= end[w["window"].to_numpy()]) & ~tagged[w.index].to_numpy()]
    inside = inside.assign(attempt=inside["window"])
    owners = pd.merge_asof(df[tagged][["pos", "session", "task"]],
                           att.assign(attempt=np.arange(na), pos=att["start"])[["pos", "session", "task", "attempt"]],
                           on="pos", by=["session", "task"], allow_exact_matches=False)  # fmt: skip
    owned = pd.concat([inside, df[tagged].assign(attempt=owners["attempt"].to_numpy())]).dropna(
        subset=["attempt"]
    )
    owned = owned.assign(
        clicks=owned["type"].eq(schema.CLICK), invalid=owned["type"].eq(schema.INVALID),
        js=owned["type"].eq(schema.ERROR),
        moderr=owned["type"].eq(schema.MARKER) & owned["kind"].eq(kernels.ERROR_MARKER),
        seq=owned["value"].where(owned["type"].eq(schema.RATING) & owned["kind"].eq(kernels.SEQ_ITEM)),
    )  # fmt: skip
    sums = owned.groupby("attempt").agg(clicks=("clicks", "sum"), misclicks=("misclick", "sum"),
                                        rage=("burst", "sum"), moderr=("moderr", "sum"), invalid=("invalid", "sum"),
                                        js=("js", "sum"), seq=("seq", "last")).reindex(range(na))  # fmt: skip
    att = att.join(
        sums.fillna({c: 0 for c in ("clicks", "misclicks", "rage", "moderr", "invalid", "js")})
    )
    pages = inside[inside["type"].eq(schema.PAGE) & inside["key"].ge(0)][["attempt", "pos", "key"]]
    first = pd.DataFrame({"attempt": np.arange(na), "pos": att["start"], "key": att["screen"]})
    entries = pd.concat([first[first["key"] >= 0], pages]).sort_values(["attempt", "pos"])
    entries = entries[entries["key"] != entries.groupby("attempt")["key"].shift()]
    path = entries.groupby("attempt")["key"].agg(list).reindex(range(na))
    path = path.apply(lambda p: p if isinstance(p, list) else [])
    att["pages"] = path.apply(len).to_numpy()
    att["distinct"] = path.apply(lambda p: len(set(p))).to_numpy()
    expected = [rules.expected_keys[rules.expected_start[k] : rules.expected_start[k + 1]].tolist()
                for k in range(len(rules.criterion))]  # fmt: skip
    att["edit"] = [
        alternatives.levenshtein(p, expected[k]) if expected[k] else -1
        for p, k in zip(path, att["task"], strict=True)
    ]
    att["variant"] = ev.session_variant[att["session"].to_numpy()]
    won = att[(att["outcome"] == kernels.SUCCESS) & (att["pages"] > 0)]
    shortest = won.groupby(["task", "variant"])["pages"].min()
    r = [
        len(expected[k]) or shortest.get((k, v), 0)
        for k, v in zip(att["task"], att["variant"], strict=True)
    ]
    s, n = att["pages"].to_numpy(), att["distinct"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        att["lostness"] = np.where(
            (s > 0) & (np.array(r) > 0),
            np.sqrt((n / s - 1) ** 2 + (np.array(r) / n - 1) ** 2),
            np.nan,
        )
    att["direct"] = (att["outcome"] == kernels.SUCCESS) & (s == n)
    # Skipped and uncoded attempts did not navigate toward the goal: no path figures.
    navigated = ~att["outcome"].isin([kernels.SKIPPED, kernels.UNCODED]).to_numpy()
    att["edit"] = np.where(navigated, att["edit"].to_numpy(), -1)
    att["lostness"] = np.where(navigated, att["lostness"].to_numpy(), np.nan)
    return att


def run_kernels(data: load.StudyData) -> tuple[kernels.Segments, kernels.Attempts]:
    """Every kernel behind the attempts table (and the path diagrams)."""
    flags = kernels.click_flags(data.events)
    seg = kernels.segment_attempts(data.events, data.rules)
    fig = kernels.attempt_metrics(data.events, data.rules, seg, flags)
    kernels.transition_counts(fig.path_start, fig.path_keys, seg.task, data.events.session_variant[seg.session],
                              len(data.tasks), len(data.variants), max(len(data.keys), 1))  # fmt: skip
    return seg, fig


def same_attempts(seg: kernels.Segments, fig: kernels.Attempts, att: pd.DataFrame) -> None:
    """Check the pandas table against the kernels' figures, column by column."""
    pairs = {"outcome": seg.outcome, "coded_by": seg.coded_by, "time": seg.t_end - seg.t_start,
             "clicks": fig.clicks, "misclicks": fig.misclicks, "rage": fig.rage_clicks, "moderr": fig.moderator_errors,
             "invalid": fig.invalid_inputs, "js": fig.js_errors, "seq": fig.seq, "pages": np.diff(fig.path_start),
             "distinct": fig.distinct_pages, "edit": fig.path_edit_distance, "lostness": fig.lostness,
             "direct": fig.direct}  # fmt: skip
    for name, kernel in pairs.items():
        assert np.allclose(att[name].to_numpy(dtype=float), kernel.astype(float), equal_nan=True), (
            name
        )


# -- measuring -----------------------------------------------------------------------------------


def timed(fn: Any, repeat: int = 1) -> tuple[float, Any]:
    best, result = math.inf, None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    return best, result


def cli_seconds(db: Path, env: dict[str, str] | None = None) -> float:
    return cli_run(db, env)[0]


# Runs a command and prints its peak RSS (the largest of its process tree's members, in kB).
PEAK_RSS = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, "
            "stdout=subprocess.DEVNULL); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")  # fmt: skip


def cli_run(db: Path, env: dict[str, str] | None = None) -> tuple[float, float]:
    """Seconds and peak RSS (MB) of ``uxlab analyze`` in a fresh process."""
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", PEAK_RSS, sys.executable, "-m", "recorder", "analyze", "bench",
                          "--db", str(db)], check=True, capture_output=True, text=True, env=env)  # fmt: skip
    return time.perf_counter() - started, int(out.stdout.split()[-1]) / 1024


# What `uxlab analyze --format json` outputs: every table but the per-click rows.
JSON_TABLES = (
    "attempts",
    "sessions",
    "markers",
    "transitions",
    "page_speed",
    "tasks",
    "participants",
    "comparisons",
)


def all_tables(db: Path) -> metrics.StudyResults:
    """``analyze()`` and then every table it makes lazily (what the JSON output reads)."""
    results = metrics.analyze(db, "bench")
    for name in JSON_TABLES:
        results.table(name)
    return results


def stats_seconds(db: Path) -> float:
    """The statistics tables alone, read from fresh results (they are made when first read)."""
    results = metrics.analyze(db, "bench")
    started = time.perf_counter()
    results.table("tasks"), results.table("participants"), results.table("comparisons")
    return time.perf_counter() - started


def measure(db: Path, with_pandas: bool, with_alternatives: bool = True) -> dict[str, Any]:
    # The baseline in the same run: a cold load through Python's sqlite3 (the fallback reader).
    load.NATIVE = False
    cold_sqlite3, slow = timed(lambda: load.load_study_data(db, "bench", cache=False))
    load.NATIVE = True
    shutil.rmtree(load.cache_folder(db), ignore_errors=True)
    cold, data = timed(lambda: load.load_study_data(db, "bench"))
    for name in ("t", "type", "key", "target", "label", "task", "value", "x", "y"):
        assert np.array_equal(
            getattr(slow.events, name), getattr(data.events, name), equal_nan=True
        ), name
    del slow
    shutil.rmtree(load.cache_folder(db), ignore_errors=True)
    cold_cli, _ = cli_run(db)  # the first `uxlab analyze` of a study no cache has seen
    warm, data = timed(lambda: load.load_study_data(db, "bench"), repeat=2)
    n = len(data.events.t)
    kernel, (seg, fig) = timed(lambda: run_kernels(data), repeat=5)
    row = {"events": n, "sessions": len(data.sessions), "attempts": len(seg.session), "cold": cold, "warm": warm,
           "kernels": kernel, "rate": n / kernel, "cold_sqlite3": cold_sqlite3, "cold_cli": cold_cli}  # fmt: skip
    if with_pandas:
        row["pandas"], att = timed(lambda: pandas_attempts(data))
        same_attempts(seg, fig, att)
        row["ratio"] = row["pandas"] / kernel
    if with_alternatives:
        for name, twin in (
            ("polars", alternatives.polars_attempts),
            ("duckdb", alternatives.duckdb_attempts),
        ):
            row[name], att = timed(lambda twin=twin: twin(data))
            same_attempts(seg, fig, att)
    importlib.import_module("analyzer.metrics.tables")  # its import (scipy) is not analysis time
    row["analyze"], _ = timed(lambda: all_tables(db), repeat=2)
    row["stats"] = min(stats_seconds(db) for _ in range(2))
    row["cli"], row["rss"] = cli_run(db)
    return row


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sizes", default="100k,1m,10m", help="comma-separated: small, 100k, 1m, 10m"
    )
    parser.add_argument(
        "--out", default=str(ROOT / "benchmarks" / "out"), help="folder for the databases"
    )
    parser.add_argument("--rebuild", action="store_true", help="rebuild the databases")
    parser.add_argument("--no-pandas", action="store_true", help="skip the pandas comparison")
    parser.add_argument(
        "--no-alternatives", action="store_true", help="skip the polars and DuckDB twins"
    )
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print(f"numba threads: {numba.get_num_threads()}; cores: {os.cpu_count()}")
    print(f"{'events':>10} {'sessions':>8} {'attempts':>8} {'cold load':>9} {'warm load':>9} {'kernels':>8}"
          f" {'events/s':>10} {'pandas':>8} {'ratio':>6} {'all tables':>10} {'of it stats':>11}"
          f" {'uxlab analyze':>13}")  # fmt: skip
    for size in args.sizes.split(","):
        r = measure(
            study_db(out, size.strip(), args.rebuild), not args.no_pandas, not args.no_alternatives
        )
        pandas_cells = (
            f"{r['pandas']:>7.2f}s {r['ratio']:>5.0f}x" if "pandas" in r else f"{'-':>8} {'-':>6}"
        )
        print(f"{r['events']:>10,} {r['sessions']:>8,} {r['attempts']:>8,} {r['cold']:>8.2f}s {r['warm']:>8.3f}s"
              f" {r['kernels']:>7.3f}s {r['rate'] / 1e6:>8.1f} M {pandas_cells} {r['analyze']:>9.2f}s"
              f" {r['stats']:>10.2f}s"
              f" {r['cli']:>12.2f}s", flush=True)  # fmt: skip
        line = (f"{'':>10} cold load {r['cold']:.2f} s = {r['events'] / r['cold'] / 1e6:.2f} M events/s; through"
                f" Python's sqlite3 {r['cold_sqlite3']:.2f} s ({r['cold_sqlite3'] / r['cold']:.1f}x slower);"
                f" first uxlab analyze (no cache) {r['cold_cli']:.2f} s\n"
                f"{'':>10} uxlab analyze peak RSS {r['rss']:,.0f} MB")  # fmt: skip
        if "polars" in r:
            faster = min(r["polars"], r["duckdb"])
            line += (f"; same attempts table: polars {r['polars']:.2f} s ({r['polars'] / r['kernels']:.0f}x the"
                     f" kernels), DuckDB SQL {r['duckdb']:.2f} s ({r['duckdb'] / r['kernels']:.0f}x);"
                     f" kernels vs the faster: {faster / r['kernels']:.0f}x")  # fmt: skip
        print(line, flush=True)
    small = study_db(out, "small", args.rebuild)
    with tempfile.TemporaryDirectory() as numba_cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=numba_cache)
        first, second = cli_seconds(small, env), cli_seconds(small, env)
    print(f"small study ({SIZES['small']:,} events), uxlab analyze: first run {first:.1f} s (compiling the kernels),"
          f" then {second:.2f} s")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
