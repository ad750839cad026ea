"""Tests of analyzer.metrics.tables: the tasks, participants and comparisons tables."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from analyzer.metrics import columns, tables
from analyzer.stats import compare as stats
from analyzer.stats import questionnaires

_SESSION_IDS: dict[tuple[str, str], int] = {}


def session_id(participant, variant):
    """A stable integer session id per participant and variant, as the analyzer gives."""
    return _SESSION_IDS.setdefault((participant, variant), len(_SESSION_IDS) + 1)


def attempt(participant="P01", variant="A", task="buy-shoes", outcome="success", **columns):
    """One row of the ``attempts`` table, with its documented columns and plausible defaults."""
    row = {
        "study": "checkout-2026",
        "variant": variant,
        "participant": participant,
        "session": columns.pop("session", session_id(participant, variant)),
        "task": task,
        "outcome": outcome,
        "coded_by": "moderator",
        "time_s": 60.0,
        "clicks": 10,
        "misclicks": 1,
        "rage_clicks": 0,
        "errors": 0,
        "moderator_errors": 0,
        "js_errors": 0,
        "invalid_inputs": 0,
        "pages": 4,
        "distinct_pages": 4,
        "backtracks": 0,
        "path_edit_distance": 0,
        "lostness": 0.0,
        "direct": outcome == "success",
        "seq": 6,
        "path": "/ > /shoes > /shoes/42 > /cart",
    }
    row.update(columns)
    return row


def session(participant="P01", variant="A", sus=None, umux_lite=None, nps=None, sid=None):
    return {
        "session": sid if sid is not None else session_id(participant, variant),
        "participant": participant,
        "variant": variant,
        "sus": sus,
        "umux_lite": umux_lite,
        "nps": nps,
    }


def assert_plain(rows):
    """JSON-serialisable plain values: no NaN, no infinity, no numpy scalars."""
    json.dumps(rows, allow_nan=False)
    for row in rows:
        for value in row.values():
            assert value is None or type(value) in (int, float, str, bool), (row, value)


def find(rows, **where):
    found = [r for r in rows if all(r[k] == v for k, v in where.items())]
    assert len(found) == 1, (where, found)
    return found[0]


# ------------------------------------------------------------ tasks table


def test_task_rows_have_design_columns_in_order():
    rows = tables.task_table([attempt()], ["buy-shoes"], ["A"])
    assert tuple(rows[0]) == columns.TASK_COLUMNS + columns.TASK_EXTRA_COLUMNS
    assert columns.TASK_COLUMNS[:3] == ("task", "variant", "attempts")
    assert len(columns.TASK_COLUMNS) == 22


def test_four_of_five_reports_its_adjusted_wald_interval():
    outcomes = ["success"] * 4 + ["failure"]
    rows = [attempt(f"P{i}", outcome=o) for i, o in enumerate(outcomes)]
    row = tables.task_table(rows, ["buy-shoes"], ["A"])[0]
    assert (row["attempts"], row["successes"], row["success_rate"]) == (5, 4, 0.8)
    assert row["success_ci_low"] == pytest.approx(0.3596, abs=0.001)
    assert row["success_ci_high"] == pytest.approx(0.9797, abs=0.001)
    assert "Only 5" not in (row["caution"] or "")


def test_task_times_are_geometric_means_of_successes_and_of_all():
    times = [55, 65, 75, 62, 45, 135]
    rows = [attempt(f"P{i}", time_s=float(t)) for i, t in enumerate(times)]
    rows += [
        attempt("P9", outcome="failure", time_s=300.0),
        attempt("P8", outcome="skipped", time_s=0.0),
    ]
    row = tables.task_table(rows, ["buy-shoes"], ["A"])[0]
    assert row["time_gm_s"] == pytest.approx(68.24, abs=0.5)
    assert row["time_ci_low"] == pytest.approx(46.01, abs=0.5)
    assert row["time_ci_high"] == pytest.approx(101.22, abs=0.5)
    assert row["time_median_s"] == pytest.approx(63.5, abs=0.5)
    assert row["time_n"] == 6
    # all coded attempts with a time above 0 s: the six successes and the failure
    assert row["time_gm_all_s"] == pytest.approx(sps.gmean([*times, 300.0]))


def test_task_row_counts_and_means():
    rows = [
        attempt("P1", clicks=8, misclicks=2, errors=0, seq=7, lostness=0.0),
        attempt(
            "P2", clicks=12, misclicks=0, errors=2, seq=5, lostness=0.4, direct=False, backtracks=1
        ),
        attempt(
            "P3",
            outcome="abandoned",
            clicks=20,
            misclicks=6,
            errors=1,
            seq=None,
            lostness=None,
            direct=False,
        ),
        attempt(
            "P4",
            outcome="failure",
            clicks=0,
            misclicks=0,
            errors=0,
            seq=2,
            lostness=0.8,
            direct=False,
        ),
    ]
    row = tables.task_table(rows, ["buy-shoes"], ["A"])[0]
    assert row["abandonment_rate"] == 0.25
    assert row["error_rate"] == 0.5  # two of four attempts had an error
    assert row["errors_per_attempt"] == 0.75
    assert row["misclick_rate"] == pytest.approx(8 / 40)
    assert row["clicks_mean"] == 10.0  # clicks to completion: successes only
    assert row["lostness_mean"] == pytest.approx(0.4)
    assert row["directness_rate"] == 0.5  # one of two successes was direct
    assert row["seq_mean"] == pytest.approx(14 / 3)
    assert row["error_rate_ci_low"] < 0.5 < row["error_rate_ci_high"]
    assert "Only 4 attempts" in row["caution"]


def test_uncoded_attempts_are_left_out_but_counted():
    rows = [
        attempt("P1"),
        attempt("P2", outcome="failure"),
        attempt("P3", outcome="uncoded", time_s=None),
    ]
    row = tables.task_table(rows, ["buy-shoes"], ["A"])[0]
    assert (row["attempts"], row["successes"], row["success_rate"], row["uncoded"]) == (
        2,
        1,
        0.5,
        1,
    )
    assert "1 uncoded" in row["caution"]


def test_all_uncoded_gives_an_empty_row_with_a_reason():
    rows = [attempt("P1", outcome="uncoded"), attempt("P2", outcome="uncoded")]
    row = tables.task_table(rows, ["buy-shoes"], ["A"])[0]
    assert (row["attempts"], row["uncoded"], row["success_rate"], row["time_gm_s"]) == (
        0,
        2,
        None,
        None,
    )
    assert "No coded attempts" in row["caution"]
    assert_plain([row])


def test_every_task_and_variant_appears_even_without_attempts():
    rows = tables.task_table([attempt()], ["buy-shoes", "find-help"], ["A", "B"])
    assert [(r["task"], r["variant"]) for r in rows] == [
        ("buy-shoes", "A"),
        ("buy-shoes", "B"),
        ("find-help", "A"),
        ("find-help", "B"),
    ]
    empty = find(rows, task="find-help", variant="B")
    assert empty["attempts"] == 0 and empty["uncoded"] == 0
    assert all(empty[c] is None for c in columns.TASK_COLUMNS[4:])
    assert_plain(rows)


def test_ids_only_in_the_attempts_are_appended_not_dropped():
    rows = tables.task_table([attempt(task="old-task", variant="C")], ["buy-shoes"], ["A"])
    assert [(r["task"], r["variant"]) for r in rows][-1] == ("old-task", "C")
    assert len(rows) == 4


def test_a_single_attempt_has_a_point_and_honest_intervals():
    row = tables.task_table([attempt(time_s=42.0)], ["buy-shoes"], ["A"])[0]
    assert row["success_rate"] == 1.0 and row["success_ci_high"] == 1.0
    assert row["success_ci_low"] < 0.25
    assert row["time_gm_s"] == pytest.approx(42.0)
    assert row["time_ci_low"] is None and row["seq_ci_low"] is None
    assert_plain([row])


def test_identical_times_give_no_interval_and_say_why():
    # Issue 12, item 3: a "95% interval" of 30-30 read as certainty.
    rows = [attempt(f"P{i}", time_s=30.0) for i in range(4)]
    row = tables.task_table(rows, ["buy-shoes"], ["A"])[0]
    assert row["time_gm_s"] == pytest.approx(30.0)
    assert row["time_ci_low"] is None and row["time_ci_high"] is None
    assert row["time_all_ci_low"] is None and row["time_all_ci_high"] is None
    assert "all 4 times are equal (30 s): no interval" in row["caution"]


def test_all_attempts_times_have_an_interval_and_a_median_at_the_end_of_the_row():
    # Issue 12, item 8: the README promises times "for successful and for all attempts".
    times = [55.0, 65.0, 75.0]
    rows = [attempt(f"P{i}", time_s=t) for i, t in enumerate(times)]
    rows += [
        attempt("P8", outcome="failure", time_s=300.0),
        attempt("P9", outcome="skipped", time_s=None),
    ]
    row = tables.task_table(rows, ["buy-shoes"], ["A"])[0]
    assert tuple(row)[-4:] == (
        "time_all_ci_low",
        "time_all_ci_high",
        "time_median_all_s",
        "seq_ci_clipped",
    )
    logs = [math.log(t) for t in [*times, 300.0]]
    low, high = sps.t.interval(0.95, 3, np.mean(logs), sps.sem(logs))
    assert row["time_all_ci_low"] == pytest.approx(math.exp(low))
    assert row["time_all_ci_high"] == pytest.approx(math.exp(high))
    assert row["time_median_all_s"] == pytest.approx(70.0)


def test_seq_interval_is_clipped_to_the_scale_and_marked():
    # Issue 12, item 4: SEQ [6, 7] gave 0.15-12.85. SEQ runs 1-7 (Sauro & Lewis 2016, ch. 8).
    rows = [attempt("P1", seq=6), attempt("P2", seq=7)]
    row = tables.task_table(rows, ["buy-shoes"], ["A"])[0]
    assert (row["seq_ci_low"], row["seq_ci_high"], row["seq_ci_clipped"]) == (1.0, 7.0, "both")
    rows = [attempt(f"P{i}", seq=s) for i, s in enumerate([5, 6, 7, 7, 7])]
    row = tables.task_table(rows, ["buy-shoes"], ["A"])[0]
    assert row["seq_ci_high"] == 7.0 and row["seq_ci_clipped"] == "high"
    assert 5.0 < row["seq_ci_low"] < row["seq_mean"]


def test_unknown_outcome_is_refused():
    with pytest.raises(ValueError, match="outcome"):
        tables.task_table([attempt(outcome="won")], ["buy-shoes"], ["A"])


# ----------------------------------------------------- participants table


def test_participant_rows_summarise_each_session():
    rows = [
        attempt("P1", task="t1", time_s=30.0, errors=1),
        attempt("P1", task="t2", outcome="failure", time_s=50.0, errors=2),
        attempt("P1", task="t3", outcome="uncoded", time_s=None),
    ]
    sessions = [session("P1", sus=[4, 2, 4, 1, 5, 2, 4, 2, 4, 1], umux_lite=[6, 5], nps=9)]
    row = tables.participant_table(rows, sessions)[0]
    assert tuple(row) == columns.PARTICIPANT_COLUMNS + columns.PARTICIPANT_EXTRA_COLUMNS
    assert row == {
        "participant": "P1",
        "variant": "A",
        "session": session_id("P1", "A"),
        "tasks": 2,
        "successes": 1,
        "time_total_s": 80.0,
        "errors": 3,
        "sus": 82.5,
        "uncoded": 1,
        "sus_grade": "A",
        "umux_lite": 75.0,
        "nps": 9,
    }


def test_sessions_without_attempts_and_attempts_without_sessions_both_appear():
    rows = tables.participant_table(
        [attempt("P2", variant="B", session=7, time_s=None)],
        [session("P1", sid=3)],
    )
    assert [(r["participant"], r["session"]) for r in rows] == [("P1", 3), ("P2", 7)]
    assert rows[0]["tasks"] == 0 and rows[0]["time_total_s"] is None and rows[0]["sus"] is None
    assert rows[1]["variant"] == "B" and rows[1]["time_total_s"] is None
    assert_plain(rows)


# ------------------------------------------------------------ SUS summary

SUS_HIGH = [5, 1, 5, 1, 5, 1, 5, 1, 5, 1]  # 100
SUS_MID = [3, 3, 3, 3, 3, 3, 3, 3, 3, 3]  # 50
SUS_GOOD = [4, 2, 4, 1, 5, 2, 4, 2, 4, 1]  # 82.5


def test_sus_summary_per_variant():
    sessions = [
        session("P1", sus=SUS_HIGH, umux_lite=[7, 7], nps=10),
        session("P2", sus=SUS_MID, umux_lite=[4, 4], nps=5),
        session("P3", sus=SUS_GOOD, nps=8),
        session("P4", variant="B"),
    ]
    rows = tables.sus_summary(sessions, ["A", "B", "C"])
    assert [r["variant"] for r in rows] == ["A", "B", "C"]
    a = rows[0]
    assert tuple(a) == columns.SUS_SUMMARY_COLUMNS
    assert a["sus_n"] == 3 and a["sus_mean"] == pytest.approx(77.5)
    low, high = sps.t.interval(0.95, 2, 77.5, sps.sem([100, 50, 82.5]))
    # SUS runs 0-100 (Sauro & Lewis 2016): the t interval's 140.3 is clipped and marked
    assert high > 100
    assert (a["sus_ci_low"], a["sus_ci_high"]) == (pytest.approx(low), 100.0)
    assert a["sus_ci_clipped"] == "high"
    assert a["sus_grade"] == "B+" and a["sus_percentile"] == pytest.approx(
        questionnaires.sus_percentile(77.5)
    )
    assert a["umux_lite_mean"] == 75.0 and a["umux_lite_sus_equivalent"] == pytest.approx(71.65)
    assert (a["nps_n"], a["nps"]) == (3, 0.0)
    for empty in rows[1:]:
        assert empty["sus_n"] == 0 and empty["sus_mean"] is None and empty["sus_grade"] is None
        assert empty["nps"] is None
    assert_plain(rows)


# ------------------------------------------------------ comparisons table


def between_subjects_study():
    """Variant B is better: 6/10 vs 10/10 successes, faster, higher SEQ; SUS asked."""
    rows, sessions = [], []
    for i in range(10):
        rows.append(
            attempt(
                f"A{i}",
                "A",
                outcome="success" if i < 6 else "failure",
                time_s=60.0 + 5 * i,
                seq=4 + i % 2,
                errors=1 if i < 5 else 0,
            )
        )
        rows.append(
            attempt(f"B{i}", "B", time_s=35.0 + 3 * i, seq=6 + i % 2, errors=1 if i < 2 else 0)
        )
        sessions.append(session(f"A{i}", "A", sus=SUS_MID if i % 2 else SUS_GOOD))
        sessions.append(session(f"B{i}", "B", sus=SUS_HIGH if i % 2 else SUS_GOOD))
    return rows, sessions


def test_comparison_rows_cover_task_metric_pair_and_sus():
    attempts, sessions = between_subjects_study()
    rows = tables.comparison_table(attempts, sessions, ["buy-shoes", "find-help"], ["A", "B", "C"])
    assert tuple(rows[0]) == columns.COMPARISON_COLUMNS + columns.COMPARISON_EXTRA_COLUMNS
    # 2 tasks x 4 metrics x 3 pairs, then SUS for 3 pairs (no UMUX-Lite asked)
    assert len(rows) == 2 * 4 * 3 + 3
    assert {(r["variant_a"], r["variant_b"]) for r in rows} == {("A", "B"), ("A", "C"), ("B", "C")}
    assert [r["metric"] for r in rows[-3:]] == ["sus"] * 3
    assert all(r["task"] == tables.STUDY_TASK for r in rows[-3:])
    assert_plain(rows)


def test_between_subjects_comparisons_use_independent_tests():
    attempts, sessions = between_subjects_study()
    rows = tables.comparison_table(attempts, sessions, ["buy-shoes"], ["A", "B"])
    success = find(rows, metric="success_rate")
    assert (success["value_a"], success["value_b"], success["difference"]) == (
        0.6,
        1.0,
        pytest.approx(0.4),
    )
    # expected failures: 2 per variant, at least 1: the N-1 test (Campbell 2007)
    assert success["test"] == stats.TEST_N1
    assert success["p_value"] == pytest.approx(stats.n1_two_proportion_test(6, 10, 10, 10).p_value)
    assert "B's success rate is higher by 40 points" in success["reading"]
    time = find(rows, metric="time")
    twin = sps.ttest_ind(
        [math.log(35.0 + 3 * i) for i in range(10)],
        [math.log(60.0 + 5 * i) for i in range(6)],
        equal_var=False,
    )
    assert time["test"] == stats.TEST_WELCH_LOG and time["p_value"] == pytest.approx(twin.pvalue)
    assert time["difference"] < 1 and time["ci_high"] < 1
    assert "shorter than A's" in time["reading"] and "excludes 1" in time["reading"]
    seq = find(rows, metric="seq")
    assert seq["test"] == stats.TEST_WELCH and seq["difference"] == pytest.approx(2.0)
    sus = find(rows, metric="sus")
    assert sus["test"] == stats.TEST_WELCH and sus["paired"] is False
    assert (sus["n_a"], sus["n_b"]) == (10, 10)


def test_swapping_the_variant_order_flips_every_difference():
    attempts, sessions = between_subjects_study()
    ab = tables.comparison_table(attempts, sessions, ["buy-shoes"], ["A", "B"])
    ba = tables.comparison_table(attempts, sessions, ["buy-shoes"], ["B", "A"])
    for x, y in zip(ab, ba, strict=True):
        assert (x["variant_a"], x["metric"]) == (y["variant_b"], y["metric"])
        assert y["p_value"] == pytest.approx(x["p_value"])
        if x["metric"] == "time":
            assert y["difference"] == pytest.approx(1 / x["difference"])
        else:
            assert y["difference"] == pytest.approx(-x["difference"])


def test_an_empty_variant_gives_explained_empty_comparisons():
    attempts, sessions = between_subjects_study()
    rows = tables.comparison_table(attempts, sessions, ["buy-shoes"], ["A", "B", "C"])
    for row in (r for r in rows if r["variant_b"] == "C"):
        assert row["value_b"] is None and row["difference"] is None and row["p_value"] is None
        assert row["test"] is None
        assert "no data for C" in row["reading"]
        assert "(0)" in row["caution"]
    assert_plain(rows)


def test_within_subjects_comparisons_use_paired_tests_on_matched_participants():
    attempts = []
    for i in range(8):
        attempts.append(
            attempt(
                f"P{i}", "A", outcome="success" if i < 4 else "failure", time_s=60.0 + 4 * i, seq=4
            )
        )
        attempts.append(attempt(f"P{i}", "B", time_s=40.0 + 3 * i + (i % 3), seq=5 + i % 2))
    attempts.append(attempt("P9", "B"))  # saw only B: left out of the paired tests
    attempts.append(attempt("P3", "B", outcome="failure"))  # a second try: the first one counts
    rows = tables.comparison_table(attempts, [], ["buy-shoes"], ["A", "B"], design="within")
    success = find(rows, metric="success_rate")
    assert success["test"] == stats.TEST_MCNEMAR and success["paired"] is True
    assert (success["n_a"], success["n_b"]) == (8, 8)
    assert success["p_value"] == pytest.approx(sps.binomtest(4, 4, 0.5).pvalue)
    assert (success["value_a"], success["value_b"]) == (0.5, 1.0)
    assert "1 participant with data in only one variant" in success["caution"]
    assert success["reading"].startswith("Within subjects, 8 matched participants")
    time = find(rows, metric="time")
    twin = sps.ttest_rel(
        [math.log(40.0 + 3 * i + (i % 3)) for i in range(4)],
        [math.log(60.0 + 4 * i) for i in range(4)],
    )
    assert time["test"] == stats.TEST_PAIRED_LOG and time["n_a"] == 4
    assert time["statistic"] == pytest.approx(twin.statistic)
    assert "Fewer than five matched participants (4)" in time["caution"]
    seq = find(rows, metric="seq")
    assert seq["test"] == stats.TEST_PAIRED and seq["difference"] == pytest.approx(1.5)


def test_within_subjects_sus_is_paired():
    sessions = [
        session(f"P{i}", v, sus=s)
        for i in range(5)
        for v, s in (("A", SUS_MID), ("B", SUS_GOOD if i % 2 else SUS_HIGH))
    ]
    row = find(tables.comparison_table([], sessions, [], ["A", "B"], design="within"), metric="sus")
    assert row["test"] == stats.TEST_PAIRED and row["paired"] is True and row["n_a"] == 5
    assert row["difference"] == pytest.approx((2 * 82.5 + 3 * 100) / 5 - 50)


def test_uncoded_attempts_are_noted_in_comparisons():
    attempts, sessions = between_subjects_study()
    attempts.append(attempt("B11", "B", outcome="uncoded"))
    row = find(tables.comparison_table(attempts, sessions, ["buy-shoes"], ["A", "B"]), metric="seq")
    assert "1 uncoded attempt left out." in row["caution"]
    assert row["n_b"] == 10


def test_a_between_study_never_pairs_and_warns_of_a_shared_participant_id():
    # Issue 12, item 5: one id shared by the variants of a between-subjects study switched
    # every comparison to paired tests on one pair, leaving out everyone else.
    attempts, sessions = between_subjects_study()
    attempts.append(attempt("A0", "B"))
    sessions.append(session("A0", "B", sus=SUS_GOOD))
    rows = tables.comparison_table(attempts, sessions, ["buy-shoes"], ["A", "B"])
    assert all(r["paired"] is False for r in rows)
    success = find(rows, metric="success_rate")
    assert success["test"] == stats.TEST_N1 and (success["n_a"], success["n_b"]) == (10, 11)
    assert all("1 participant id (A0) seen in both A and B" in r["caution"] for r in rows)
    assert tables.between_warnings(attempts, sessions, ["A", "B"], "between") == [
        find(rows, metric="sus")["caution"]
    ]
    assert tables.between_warnings(attempts, sessions, ["A", "B"], "within") == []
    within = tables.comparison_table(attempts, sessions, ["buy-shoes"], ["A", "B"], design="within")
    assert find(within, metric="success_rate")["test"] == stats.TEST_MCNEMAR


def test_a_rating_difference_interval_is_clipped_to_the_scale_width():
    # SEQ differences lie within +-6 (the scale runs 1-7, Sauro & Lewis 2016).
    attempts = [attempt("A1", "A", seq=1), attempt("A2", "A", seq=2)]
    attempts += [attempt("B1", "B", seq=6), attempt("B2", "B", seq=7)]
    row = find(tables.comparison_table(attempts, [], ["buy-shoes"], ["A", "B"]), metric="seq")
    assert row["ci_high"] == 6.0 and row["ci_clipped"] == "high"
    assert "upper bound clipped to the scale" in row["reading"]


def test_a_study_without_attempts_or_questionnaires_gives_plain_rows():
    rows = tables.comparison_table([], [], ["buy-shoes"], ["A", "B"])
    assert len(rows) == 4
    assert all(r["difference"] is None and r["reading"] for r in rows)
    assert_plain(rows)


# ------------------------------------------- twins: row by row, as the tables say


def naive_task_figures(rows):
    """The task row's figures, worked out attempt by attempt (the tables read columns)."""
    coded = [a for a in rows if a["outcome"] != "uncoded"]
    won = [a for a in coded if a["outcome"] == "success"]

    def times(attempts):
        return [float(a["time_s"]) for a in attempts if a["time_s"] is not None and a["time_s"] > 0]

    def ratio(x, n):
        return float(x) / n if n else None

    success = stats.adjusted_wald(len(won), len(coded))
    time = stats.time_summary(times(won))
    seq = stats.mean_interval([float(a["seq"]) for a in coded if a["seq"] is not None])
    lostness = [float(a["lostness"]) for a in coded if a["lostness"] is not None]
    return {
        "attempts": len(coded),
        "successes": len(won),
        "success_ci_low": success.low,
        "success_ci_high": success.high,
        "abandonment_rate": ratio(sum(a["outcome"] == "abandoned" for a in coded), len(coded)),
        "time_gm_s": time.geometric_mean,
        "time_ci_low": time.low,
        "time_median_s": time.median,
        "time_gm_all_s": stats.time_summary(times(coded)).geometric_mean,
        "error_rate": ratio(sum(bool(a["errors"]) for a in coded), len(coded)),
        "errors_per_attempt": ratio(sum(a["errors"] for a in coded), len(coded)),
        "misclick_rate": ratio(sum(a["misclicks"] for a in coded), sum(a["clicks"] for a in coded)),
        "clicks_mean": ratio(sum(a["clicks"] for a in won), len(won)),
        "lostness_mean": ratio(sum(lostness), len(lostness)),
        "directness_rate": ratio(sum(bool(a["direct"]) for a in won), len(won)),
        "seq_mean": seq.mean,
        "seq_ci_high": None if seq.high is None else min(seq.high, 7.0),
        "uncoded": len(rows) - len(coded),
        "time_n": time.n,
    }


def naive_participant_figures(rows):
    coded = [a for a in rows if a["outcome"] != "uncoded"]
    times = [float(a["time_s"]) for a in coded if a["time_s"] is not None]
    return {
        "tasks": len({a["task"] for a in coded}),
        "successes": sum(a["outcome"] == "success" for a in coded),
        "time_total_s": sum(times) if times else None,
        "errors": sum(a["errors"] for a in coded),
        "uncoded": len(rows) - len(coded),
    }


def generated_attempt(who, variant, task, outcome, time_s, errors, clicks, lostness, direct, seq):
    return attempt(f"P{who}", variant, task, outcome, time_s=time_s, errors=errors,
                   clicks=clicks, misclicks=clicks // 2, lostness=lostness, direct=direct, seq=seq)  # fmt: skip


attempt_rows = st.lists(
    st.builds(
        generated_attempt,
        st.integers(0, 5),
        st.sampled_from(["A", "B"]),
        st.sampled_from(["buy-shoes", "find-help"]),
        st.sampled_from(tables.OUTCOMES),
        st.none() | st.just(0.0) | st.floats(0.1, 900.0),
        st.integers(0, 3),
        st.integers(0, 9),
        st.none() | st.floats(0.0, 1.5),
        st.booleans(),
        st.none() | st.integers(1, 7),
    ),
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(attempt_rows)
def test_task_rows_equal_their_row_by_row_twin_exactly(rows):
    table = tables.task_table(rows, ["buy-shoes", "find-help"], ["A", "B"])
    for row in table:
        mine = [a for a in rows if (a["task"], a["variant"]) == (row["task"], row["variant"])]
        twin = naive_task_figures(mine)
        assert {k: row[k] for k in twin} == twin
    assert_plain(table)


@settings(max_examples=60, deadline=None)
@given(attempt_rows)
def test_participant_rows_equal_their_row_by_row_twin_exactly(rows):
    table = tables.participant_table(rows, [])
    assert [r["session"] for r in table] == list(dict.fromkeys(a["session"] for a in rows))
    for row in table:
        twin = naive_participant_figures([a for a in rows if a["session"] == row["session"]])
        assert {k: row[k] for k in twin} == twin
    assert_plain(table)


@settings(max_examples=60, deadline=None)
@given(attempt_rows)
def test_within_subjects_time_comparison_pairs_each_first_coded_attempt(rows):
    (row,) = [
        r
        for r in tables.comparison_table(rows, [], ["buy-shoes"], ["A", "B"], design="within")
        if r["task"] == "buy-shoes" and r["metric"] == "time"
    ]
    first = [{}, {}]
    for a in rows:
        if a["task"] == "buy-shoes" and a["outcome"] != "uncoded":
            first[a["variant"] == "B"].setdefault(a["participant"], a)

    def time(a):
        ok = a["outcome"] == "success" and a["time_s"] is not None and a["time_s"] > 0
        return float(a["time_s"]) if ok else None

    pairs = [(time(first[0][p]), time(first[1][p])) for p in first[0] if p in first[1]]
    kept = [(x, y) for x, y in pairs if x is not None and y is not None]
    paired = bool({a["participant"] for a in rows if a["variant"] == "A"}
                  & {a["participant"] for a in rows if a["variant"] == "B"})  # fmt: skip
    if paired:
        twin = stats.compare_times([x for x, _ in kept], [y for _, y in kept], paired=True)
        assert (row["paired"], row["n_a"], row["difference"], row["p_value"]) == (
            True,
            len(kept),
            twin.ratio,
            twin.p_value,
        )


def test_sums_of_many_floats_are_python_sums_in_attempt_order():
    # Thirty times of 0.1 s: Python's sum (3.0000000000000013 on 3.11) differs from numpy's
    # pairwise one (3.000000000000001); the tables keep the row-by-row value.
    rows = [attempt("P1", task=f"t{i}", time_s=0.1, lostness=0.1) for i in range(30)]
    (participant,) = tables.participant_table(rows, [])
    assert participant["time_total_s"] == sum([0.1] * 30) != float(np.sum([0.1] * 30))
    one_task = [attempt(f"P{i}", time_s=0.1, lostness=0.1) for i in range(30)]
    (row,) = tables.task_table(one_task, ["buy-shoes"], ["A"])
    assert row["lostness_mean"] == sum([0.1] * 30) / 30
