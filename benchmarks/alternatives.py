"""The attempts table as an analyst would write it in DuckDB SQL and in polars.

Same rules as the kernels and as ``pandas_attempts`` in ``benchmarks/analyze.py``
(the same columns, checked equal to the kernels' output there), on the same
loaded arrays: the timing is the query, from numpy columns to the table.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from analyzer import config, load
from analyzer.kernels import jit as kernels
from recorder.wire import schema

CONSTANTS = {
    "PAGE": schema.PAGE, "CLICK": schema.CLICK, "TASK_START": schema.TASK_START,
    "TASK_END": schema.TASK_END, "MARKER": schema.MARKER, "RATING": schema.RATING,
    "INVALID": schema.INVALID, "ERROR": schema.ERROR, "CUSTOM": schema.CUSTOM,
    "ERROR_MARKER": kernels.ERROR_MARKER, "SEQ_ITEM": kernels.SEQ_ITEM, "SUCCESS": kernels.SUCCESS,
    "BY_MODERATOR": kernels.BY_MODERATOR, "BY_CRITERIA": kernels.BY_CRITERIA,
    "CRIT_URL": kernels.CRIT_URL, "CRIT_CLICK": kernels.CRIT_CLICK, "CRIT_EVENT": kernels.CRIT_EVENT,
    "MISCLICK_MS": config.MISCLICK_MS, "RAGE_MS": config.RAGE_CLICK_MS,
    "RAGE_PX2": config.RAGE_CLICK_PX**2, "RAGE_MIN": config.RAGE_CLICK_MIN,
}  # fmt: skip

ATTEMPTS_SQL = """
WITH e AS (
  SELECT *,
    type = {CLICK} AND interactive = 0 AND NOT coalesce(
      min(CASE WHEN type = {PAGE} THEN t END) OVER (PARTITION BY session ORDER BY pos
          ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) - t <= {MISCLICK_MS}, false) AS misclick,
    coalesce(last_value(CASE WHEN type = {PAGE} THEN key END IGNORE NULLS) OVER (
      PARTITION BY session ORDER BY pos ROWS UNBOUNDED PRECEDING), -1) AS screen,
    type = {TASK_START} AND task >= 0 AS is_start,
    type IN ({MARKER}, {RATING}) AND task >= 0 AS tagged
  FROM ev),
links AS (
  SELECT pos, coalesce(t - lag(t) OVER s <= {RAGE_MS}
      AND (x - lag(x) OVER s) ** 2 + (y - lag(y) OVER s) ** 2 <= {RAGE_PX2}, false) AS linked
  FROM e WHERE type = {CLICK} WINDOW s AS (PARTITION BY session ORDER BY pos)),
runs AS (SELECT pos, linked, sum(CASE WHEN linked THEN 0 ELSE 1 END) OVER (ORDER BY pos) AS run
         FROM links),
bursts AS (SELECT pos, NOT linked AND count(*) OVER (PARTITION BY run) >= {RAGE_MIN} AS burst
           FROM runs),
w0 AS (
  SELECT e.*, coalesce(b.burst, false) AS burst,
    CASE WHEN sum(is_start::INT) OVER (PARTITION BY session ORDER BY pos) > 0
         THEN sum(is_start::INT) OVER (ORDER BY pos) - 1 ELSE -1 END AS win
  FROM e LEFT JOIN bursts b USING (pos)),
att AS (SELECT win AS attempt, session, task, pos AS start, t AS t_start, screen, variant
        FROM w0 WHERE is_start),
w AS (
  SELECT w0.*, a.task AS wtask, r.criterion, r.criterion_id
  FROM w0 JOIN att a ON w0.win = a.attempt JOIN rules r ON r.task = a.task),
marks AS (
  SELECT win,
    min(pos) FILTER (WHERE type = {TASK_END} AND task = wtask) AS end_mod,
    min(pos) FILTER (WHERE
      (criterion = {CRIT_URL} AND type = {PAGE} AND key >= 0
         AND EXISTS (SELECT 1 FROM url_match m WHERE m.task = wtask AND m.key = w.key))
      OR (criterion = {CRIT_CLICK} AND type = {CLICK} AND criterion_id >= 0 AND target = criterion_id)
      OR (criterion = {CRIT_EVENT} AND type = {CUSTOM} AND criterion_id >= 0 AND label = criterion_id)
    ) AS crit,
    max(pos) AS last
  FROM w GROUP BY win),
ended AS (
  SELECT a.*, m.end_mod IS NOT NULL AS moderator, m.end_mod IS NULL AND m.crit IS NOT NULL AS criteria,
    coalesce(m.end_mod, m.crit, m.last) AS end_pos
  FROM att a JOIN marks m ON m.win = a.attempt),
coded AS (
  SELECT d.*,
    CASE WHEN moderator THEN x.outcome WHEN criteria THEN {SUCCESS} ELSE 0 END AS outcome,
    CASE WHEN moderator THEN {BY_MODERATOR} WHEN criteria THEN {BY_CRITERIA} ELSE 0 END AS coded_by,
    CASE WHEN moderator OR criteria THEN x.t - d.t_start END AS time
  FROM ended d JOIN ev x ON x.pos = d.end_pos),
inside AS (
  SELECT w.*, w.win AS attempt, false AS late FROM w JOIN ended d ON d.attempt = w.win
  WHERE w.pos <= d.end_pos AND NOT w.tagged),
owned AS (
  SELECT pos, attempt, type, kind, value, misclick, burst, key, late FROM inside
  UNION ALL
  SELECT e.pos, a.attempt, e.type, e.kind, e.value, e.misclick, false, e.key, true
  FROM e ASOF JOIN att a ON e.session = a.session AND e.task = a.task AND e.pos > a.start
  WHERE e.tagged),
sums AS (
  SELECT attempt,
    count(*) FILTER (WHERE type = {CLICK}) AS clicks,
    count(*) FILTER (WHERE misclick) AS misclicks,
    count(*) FILTER (WHERE burst) AS rage,
    count(*) FILTER (WHERE type = {MARKER} AND kind = {ERROR_MARKER}) AS moderr,
    count(*) FILTER (WHERE type = {INVALID}) AS invalid,
    count(*) FILTER (WHERE type = {ERROR}) AS js,
    arg_max(value, late::INT * 1e15 + pos) FILTER (WHERE type = {RATING} AND kind = {SEQ_ITEM}
                                                   AND NOT isnan(value)) AS seq
  FROM owned GROUP BY attempt),
entries AS (
  SELECT attempt, start AS pos, screen AS key FROM att WHERE screen >= 0
  UNION ALL
  SELECT attempt, pos, key FROM inside WHERE type = {PAGE} AND key >= 0),
steps AS (
  SELECT *, key IS DISTINCT FROM lag(key) OVER (PARTITION BY attempt ORDER BY pos) AS new
  FROM entries),
paths AS (
  SELECT attempt, count(*) AS pages, count(DISTINCT key) AS distinct_pages,
    string_agg(chr(48 + key), '' ORDER BY pos) AS path
  FROM steps WHERE new GROUP BY attempt),
figures AS (
  SELECT c.attempt, c.task, c.variant, c.outcome, c.coded_by, c.time,
    coalesce(s.clicks, 0) AS clicks, coalesce(s.misclicks, 0) AS misclicks,
    coalesce(s.rage, 0) AS rage, coalesce(s.moderr, 0) AS moderr,
    coalesce(s.invalid, 0) AS invalid, coalesce(s.js, 0) AS js, s.seq,
    coalesce(p.pages, 0) AS pages, coalesce(p.distinct_pages, 0) AS distinct_pages,
    CASE WHEN r.expected_len > 0 THEN levenshtein(coalesce(p.path, ''), r.expected) ELSE -1 END AS edit,
    r.expected_len
  FROM coded c LEFT JOIN sums s USING (attempt) LEFT JOIN paths p USING (attempt)
  JOIN rules r ON r.task = c.task),
shortest AS (
  SELECT task, variant, min(pages) AS shortest FROM figures
  WHERE outcome = {SUCCESS} AND pages > 0 GROUP BY task, variant)
SELECT f.*, CASE WHEN f.expected_len > 0 THEN f.expected_len ELSE coalesce(h.shortest, 0) END AS r
FROM figures f LEFT JOIN shortest h USING (task, variant)
ORDER BY attempt
"""


def _frames(data: load.StudyData) -> tuple[dict[str, Any], ...]:
    ev, rules = data.events, data.rules
    n_sessions = len(ev.session_start) - 1
    session = np.repeat(np.arange(n_sessions), np.diff(ev.session_start))
    events = {
        "pos": np.arange(len(ev.t)), "session": session, "variant": ev.session_variant[session],
        "t": ev.t, "type": ev.type, "key": ev.key, "target": ev.target, "label": ev.label,
        "task": ev.task, "outcome": ev.outcome, "kind": ev.kind, "interactive": ev.interactive,
        "x": ev.x.astype(np.float64), "y": ev.y.astype(np.float64), "value": ev.value,
    }  # fmt: skip
    n_tasks = len(rules.criterion)
    if len(data.keys) > 70:
        raise ValueError("the DuckDB twin spells paths with one ASCII character per page key")
    expected = ["".join(chr(48 + k) for k in rules.expected_keys[rules.expected_start[i]:rules.expected_start[i + 1]])
                for i in range(n_tasks)]  # fmt: skip
    task_rules = {
        "task": np.arange(n_tasks), "criterion": rules.criterion.astype(np.int64),
        "criterion_id": rules.criterion_id.astype(np.int64), "expected": expected,
        "expected_len": np.diff(rules.expected_start),
    }  # fmt: skip
    task_ids, key_ids = np.nonzero(rules.url_match)
    return events, task_rules, {"task": task_ids, "key": key_ids}


def duckdb_attempts(data: load.StudyData) -> pd.DataFrame:
    """The attempts table in DuckDB SQL (window functions, an ASOF join, ``levenshtein``)."""
    import duckdb

    events, task_rules, url_match = (pd.DataFrame(f) for f in _frames(data))
    con = duckdb.connect()
    try:
        con.register("ev", events)
        con.register("rules", task_rules)
        con.register("url_match", url_match)
        att = con.execute(ATTEMPTS_SQL.format(**CONSTANTS)).df()
    finally:
        con.close()
    return _finish(att)


def _finish(att: pd.DataFrame) -> pd.DataFrame:
    s, n, r = (att[c].to_numpy(dtype=float) for c in ("pages", "distinct_pages", "r"))
    with np.errstate(divide="ignore", invalid="ignore"):
        att["lostness"] = np.where(
            (s > 0) & (r > 0), np.sqrt((n / s - 1) ** 2 + (r / n - 1) ** 2), np.nan
        )
    att["direct"] = (att["outcome"] == kernels.SUCCESS) & (s == n)
    # Skipped and uncoded attempts did not navigate toward the goal: no path figures.
    navigated = ~att["outcome"].isin([kernels.SKIPPED, kernels.UNCODED]).to_numpy()
    att["edit"] = np.where(navigated, att["edit"].to_numpy(), -1)
    att["lostness"] = np.where(navigated, att["lostness"].to_numpy(), np.nan)
    att["distinct"] = att["distinct_pages"]
    att["time"] = att["time"].astype(float)
    att["seq"] = att["seq"].astype(float)
    return att


def polars_attempts(data: load.StudyData) -> pd.DataFrame:
    """The attempts table in polars (window expressions, ``join_asof``; Levenshtein per row)."""
    import polars as pl

    k = CONSTANTS
    events, task_rules, url_match = (pl.DataFrame(f) for f in _frames(data))
    col = pl.col
    page_t = pl.when(col("type") == k["PAGE"]).then(col("t"))
    page_key = pl.when(col("type") == k["PAGE"]).then(col("key"))
    e = events.with_columns(
        misclick=(col("type") == k["CLICK"]) & (col("interactive") == 0)
        & ~((page_t.backward_fill().over("session") - col("t")) <= k["MISCLICK_MS"]).fill_null(False),
        screen=page_key.forward_fill().over("session").fill_null(-1),
        is_start=(col("type") == k["TASK_START"]) & (col("task") >= 0),
        tagged=col("type").is_in([k["MARKER"], k["RATING"]]) & (col("task") >= 0),
    )  # fmt: skip
    clicks = e.filter(col("type") == k["CLICK"]).select("pos", "session", "t", "x", "y")
    clicks = clicks.with_columns(linked=(
        ((col("t") - col("t").shift().over("session")) <= k["RAGE_MS"])
        & ((col("x") - col("x").shift().over("session")) ** 2
           + (col("y") - col("y").shift().over("session")) ** 2 <= k["RAGE_PX2"])).fill_null(False))  # fmt: skip
    clicks = clicks.with_columns(run=(~col("linked")).cast(pl.Int64).cum_sum())
    clicks = clicks.with_columns(burst=~col("linked") & (pl.len().over("run") >= k["RAGE_MIN"]))
    starts = col("is_start").cast(pl.Int64)
    e = (
        e.join(clicks.select("pos", "burst"), on="pos", how="left")
        .with_columns(
            burst=col("burst").fill_null(False),
            win=pl.when(starts.cum_sum().over("session") > 0)
            .then(starts.cum_sum() - 1)
            .otherwise(-1),
        )
        .sort("pos")
    )
    att = e.filter(col("is_start")).select(
        attempt=col("win"), session="session", task="task", start="pos", t_start="t",
        screen="screen", variant="variant")  # fmt: skip
    w = e.filter(col("win") >= 0).join(
        att.select(win="attempt", wtask="task"), on="win").join(
        task_rules.select(wtask="task", criterion="criterion", criterion_id="criterion_id"),
        on="wtask").join(
        url_match.select(wtask="task", key="key", url_ok=pl.lit(True)), on=["wtask", "key"],
        how="left")  # fmt: skip
    meets = (
        ((col("criterion") == k["CRIT_URL"]) & (col("type") == k["PAGE"]) & (col("key") >= 0)
         & col("url_ok").fill_null(False))
        | ((col("criterion") == k["CRIT_CLICK"]) & (col("type") == k["CLICK"])
           & (col("criterion_id") >= 0) & (col("target") == col("criterion_id")))
        | ((col("criterion") == k["CRIT_EVENT"]) & (col("type") == k["CUSTOM"])
           & (col("criterion_id") >= 0) & (col("label") == col("criterion_id")))
    )  # fmt: skip
    marks = w.group_by("win").agg(
        end_mod=col("pos").filter((col("type") == k["TASK_END"]) & (col("task") == col("wtask"))).min(),
        crit=col("pos").filter(meets).min(), last=col("pos").max())  # fmt: skip
    ends = events.select(end_pos="pos", end_t="t", end_outcome="outcome")
    ended = (
        att.join(marks.rename({"win": "attempt"}), on="attempt")
        .with_columns(
            moderator=col("end_mod").is_not_null(),
            criteria=col("end_mod").is_null() & col("crit").is_not_null(),
            end_pos=pl.coalesce("end_mod", "crit", "last"),
        )
        .join(ends, on="end_pos")
    )
    coded = ended.with_columns(
        outcome=pl.when("moderator").then(col("end_outcome").cast(pl.Int64))
        .when("criteria").then(pl.lit(k["SUCCESS"], pl.Int64)).otherwise(0),
        coded_by=pl.when("moderator").then(pl.lit(k["BY_MODERATOR"], pl.Int64))
        .when("criteria").then(pl.lit(k["BY_CRITERIA"], pl.Int64)).otherwise(0),
        time=pl.when(col("moderator") | col("criteria")).then(col("end_t") - col("t_start")),
    )  # fmt: skip
    inside = w.join(ended.select(win="attempt", end_pos="end_pos"), on="win").filter(
        (col("pos") <= col("end_pos")) & ~col("tagged")).with_columns(
        attempt=col("win"), late=pl.lit(False))  # fmt: skip
    fields = ["pos", "attempt", "type", "kind", "value", "misclick", "burst", "key", "late"]
    tagged = e.filter(col("tagged")).sort("pos").join_asof(
        att.select("attempt", "session", "task", apos=col("start")).sort("apos"),
        left_on="pos", right_on="apos", by=["session", "task"], strategy="backward",
        allow_exact_matches=False, check_sortedness=False).filter(col("attempt").is_not_null()).with_columns(
        burst=pl.lit(False), late=pl.lit(True))  # fmt: skip
    owned = pl.concat([inside.select(fields), tagged.select(fields)], how="vertical_relaxed")
    is_seq = (
        (col("type") == k["RATING"]) & (col("kind") == k["SEQ_ITEM"]) & col("value").is_not_nan()
    )
    sums = owned.sort("late", "pos").group_by("attempt").agg(
        clicks=(col("type") == k["CLICK"]).sum(), misclicks=col("misclick").sum(),
        rage=col("burst").sum(), moderr=((col("type") == k["MARKER"]) & (col("kind") == k["ERROR_MARKER"])).sum(),
        invalid=(col("type") == k["INVALID"]).sum(), js=(col("type") == k["ERROR"]).sum(),
        seq=col("value").filter(is_seq).last())  # fmt: skip
    entries = pl.concat([
        att.filter(col("screen") >= 0).select("attempt", pos="start", key="screen"),
        inside.filter((col("type") == k["PAGE"]) & (col("key") >= 0)).select("attempt", "pos", "key"),
    ], how="vertical_relaxed").sort("attempt", "pos")  # fmt: skip
    entries = entries.filter(col("key").ne_missing(col("key").shift().over("attempt")))
    paths = entries.group_by("attempt").agg(
        pages=pl.len(), distinct_pages=col("key").n_unique(), path=col("key")
    )
    table = coded.join(sums, on="attempt", how="left").join(paths, on="attempt", how="left").join(
        task_rules.select("task", "expected_len", "expected"), on="task").sort("attempt")  # fmt: skip
    table = table.with_columns(pl.col(c).fill_null(0) for c in
                               ("clicks", "misclicks", "rage", "moderr", "invalid", "js", "pages",
                                "distinct_pages"))  # fmt: skip
    shortest = table.filter((col("outcome") == k["SUCCESS"]) & (col("pages") > 0)).group_by(
        "task", "variant").agg(shortest=col("pages").min())  # fmt: skip
    table = table.join(shortest, on=["task", "variant"], how="left").sort("attempt").with_columns(
        r=pl.when(col("expected_len") > 0).then(col("expected_len"))
        .otherwise(col("shortest").fill_null(0)))  # fmt: skip
    att_pd = pd.DataFrame({c: table[c].to_numpy() for c in table.columns if c != "path"})
    att_pd["edit"] = [
        levenshtein(list(path) if path is not None else [], [ord(c) - 48 for c in expected])
        if expected
        else -1
        for path, expected in zip(table["path"].to_list(), table["expected"].to_list(), strict=True)
    ]
    return _finish(att_pd)


def levenshtein(a: list[int], b: list[int]) -> int:
    """Edit distance of two paths, in plain Python (the twins' and pandas' per-row step)."""
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        row = [i]
        for j, y in enumerate(b, 1):
            row.append(min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = row
    return prev[-1]
