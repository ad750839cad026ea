"""Findings tables, problem discovery and suggestions (analyzer.findings.tables, analyzer.findings.suggestions).

The discovery formulas are checked against published figures and examples
worked out by hand here (every step written down), against the naive twin in
tests/naive.py, and by Hypothesis properties. The tables come from a real
SQLite file written through the recorder's store.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analyzer.findings import tables as findings
from analyzer.metrics import analyze as metrics
from analyzer.metrics import columns
from recorder.findings import store as findings_store
from tests import naive
from tests.scripted import Recorder

# -- published figures -----------------------------------------------------------------------


@pytest.mark.parametrize(("p", "goal", "n"), [
    # The sample sizes for problem discovery of Sauro & Lewis, Quantifying the User Experience
    # (2016), ch. 7: n = ceil(ln(1 - goal) / ln(1 - p)), each worked by hand here. Published
    # worked example: Sauro (2008), "Deriving a Problem Discovery Sample Size" (MeasuringU):
    # p = 0.10 at 90% gives ln(0.10) / ln(0.90) = 21.85, "22 users" (the row marked below).
    (0.30, 0.85, 6),   # ln .15 / ln .70 = -1.8971 / -0.3567 = 5.32 -> 6
    (0.30, 0.90, 7),   # -2.3026 / -0.3567 = 6.46 -> 7
    (0.30, 0.95, 9),   # -2.9957 / -0.3567 = 8.40 -> 9
    (0.25, 0.85, 7),   # -1.8971 / -0.2877 = 6.59 -> 7
    (0.25, 0.90, 9),   # -2.3026 / -0.2877 = 8.004 -> 9
    (0.25, 0.95, 11),  # -2.9957 / -0.2877 = 10.41 -> 11
    (0.10, 0.85, 19),  # -1.8971 / -0.1054 = 18.006 -> 19 (0.9^18 = 0.1501: 18 fall just short)
    (0.10, 0.90, 22),  # -2.3026 / -0.1054 = 21.85 -> 22: Sauro (2008), published
    (0.10, 0.95, 29),  # -2.9957 / -0.1054 = 28.43 -> 29
    (0.50, 0.90, 4),   # 1 - 0.5^4 = 0.9375 >= 0.90 > 1 - 0.5^3 = 0.875
    # Nielsen & Landauer's p = 0.31: five users find 1 - 0.69^5 = 84.4% of the problems, just short
    # of 85%, so 85% takes six (ln .15 / ln .69 = -1.8971 / -0.3711 = 5.11 -> 6).
    (0.31, 0.85, 6),
    (0.31, 0.80, 5),   # 0.844 >= 0.80
])  # fmt: skip
def test_participants_needed_match_the_published_table(p: float, goal: float, n: int) -> None:
    assert findings.n_for(p, goal) == n
    assert findings.share_found(p, n) >= goal > findings.share_found(p, n - 1)


def test_five_users_at_p_031_find_84_percent() -> None:
    # Nielsen & Landauer (1993) / Virzi: the "five users" figure.
    assert findings.share_found(0.31, 5) == pytest.approx(0.8436, abs=1e-4)


def test_lewis_adjustment_worked_by_hand() -> None:
    """Four participants, five problems (rows P1..P4, columns F1..F5)::

        F1 F2 F3 F4 F5
    P1   1  1  0  0  0
    P2   1  1  0  0  1
    P3   1  0  1  0  0
    P4   0  0  0  1  1

    p̂ = 9 / 20 = 0.45; singletons: F3, F4 = 2.
    normalization: (0.45 - 1/4)(1 - 1/4) = 0.20 * 0.75 = 0.15
    Good-Turing: 0.45 / (1 + 2/5) = 0.45 / 1.4 = 0.321429
    p_adj = 0.15/2 + 0.321429/2 = 0.075 + 0.160714 = 0.235714
    share = 1 - 0.764286^4 = 1 - 0.341211 = 0.658789; total = 5 / 0.658789 = 7.5897
    n_85 = ceil(1.89712 / 0.268829 = 7.057) = 8; n_90 = ceil(8.565) = 9; n_95 = ceil(11.144) = 12
    """
    matrix = {"F1": {"P1", "P2", "P3"}, "F2": {"P1", "P2"}, "F3": {"P3"}, "F4": {"P4"},
              "F5": {"P2", "P4"}}  # fmt: skip
    row = findings.discovery(matrix, ["P1", "P2", "P3", "P4"])
    assert row["participants"] == 4 and row["findings"] == 5 and row["singletons"] == 2
    assert row["p_hat"] == pytest.approx(0.45)
    assert row["p_adj"] == pytest.approx(0.235714, abs=1e-6)
    assert row["share_found"] == pytest.approx(0.658789, abs=1e-6)
    assert row["estimated_total"] == pytest.approx(7.5897, abs=1e-4)
    assert (row["n_for_85"], row["n_for_90"], row["n_for_95"]) == (8, 9, 12)
    assert "rough" in row["caution"]  # four participants


#: Sauro & Lewis, Quantifying the User Experience (2nd ed. 2016), ch. 7, Table 7.11: Lewis's (2008)
#: formative test of an interactive voice response application, six participants, twelve problems.
#: The table prints each participant's count (2, 5, 2, 3, 4, 4, proportions .17 .42 .17 .25 .33 .33)
#: and each problem's count (1 2 3 1 1 1 1 1 1 1 5 2, total 20). Every discovery figure depends on
#: those margins only (p̂ on the total, singletons on the problem counts), so the arrangement of the
#: X's below is one with exactly the published margins, checked in the test.
LEWIS_2008 = [
    # problems 1..12
    [0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0],  # participant 1: 2
    [0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 1, 1],  # participant 2: 5
    [0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0],  # participant 3: 2
    [0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 1],  # participant 4: 3
    [1, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0],  # participant 5: 4
    [0, 0, 1, 1, 0, 0, 0, 0, 0, 1, 1, 0],  # participant 6: 4
]


def test_lewis_2008_table_7_11_gives_the_chapters_answers() -> None:
    """The chapter's review questions 4–6 on Table 7.11, worked here step by step::

    p̂ = 20 / (6 × 12) = 0.2778 ("0.28")
    singletons = 8 (problems 1, 4, 5, 6, 7, 8, 9, 10)
    normalization: (0.2778 − 1/6)(1 − 1/6) = 0.1111 × 0.8333 = 0.09259
    Good-Turing: 0.2778 / (1 + 8/12) = 0.2778 / 1.6667 = 0.16667
    p_adj = (0.09259 + 0.16667) / 2 = 0.12963 ("0.13")
    share found = 1 − 0.870370^6 = 1 − 0.434735 = 0.565265 ("about 57%")
    estimated total = 12 / 0.565265 = 21.23 ("about 21", so about 9 not yet seen)
    n for 85% = ceil(ln 0.15 / ln 0.870370 = 13.66) = 14; 90% = ceil(16.58) = 17; 95% = ceil(21.58) = 22
    """
    assert [sum(r) for r in LEWIS_2008] == [2, 5, 2, 3, 4, 4]
    assert [sum(c) for c in zip(*LEWIS_2008, strict=True)] == [1, 2, 3, 1, 1, 1, 1, 1, 1, 1, 5, 2]
    people = [f"P{i + 1}" for i in range(6)]
    matrix = {f"F{j + 1}": {people[i] for i in range(6) if LEWIS_2008[i][j]} for j in range(12)}
    row = findings.discovery(matrix, people)
    assert (row["participants"], row["findings"], row["singletons"]) == (6, 12, 8)
    assert round(row["p_hat"], 2) == 0.28 and row["p_hat"] == pytest.approx(20 / 72)
    assert round(row["p_adj"], 2) == 0.13 and row["p_adj"] == pytest.approx(0.129630, abs=1e-6)
    assert round(row["share_found"], 2) == 0.57
    assert row["share_found"] == pytest.approx(0.565265, abs=1e-6)
    assert round(row["estimated_total"]) == 21 and round(row["estimated_total"]) - 12 == 9
    assert (row["n_for_85"], row["n_for_90"], row["n_for_95"]) == (14, 17, 22)
    twin = naive.discovery(LEWIS_2008)
    assert row["p_adj"] == pytest.approx(twin["p_adj"], rel=1e-12)


@pytest.mark.parametrize(("matrix", "people", "why"), [
    ({}, ["P1", "P2", "P3"], "no findings"),
    ({"F1": {"P1"}}, ["P1"], "fewer than 2 participants"),
])  # fmt: skip
def test_too_little_data_gives_nulls_and_a_caution(matrix: dict[str, set[str]], people: list[str],
                                                   why: str) -> None:  # fmt: skip
    row = findings.discovery(matrix, people)
    assert why in row["caution"]
    assert all(row[c] is None for c in ("p_hat", "p_adj", "share_found", "estimated_total", "n_for_85",
                                        "n_for_90", "n_for_95"))  # fmt: skip


# -- the naive twin and properties -----------------------------------------------------------

matrices = st.integers(2, 12).flatmap(lambda n: st.lists(
    st.lists(st.booleans(), min_size=n, max_size=n).filter(any), min_size=1, max_size=15))  # fmt: skip


def _as_sets(columns: list[list[bool]]) -> dict[str, set[str]]:
    return {f"F{j}": {f"P{i}" for i, hit in enumerate(col) if hit} for j, col in enumerate(columns)}


@settings(max_examples=200, deadline=None)
@given(matrices)
def test_discovery_equals_the_naive_twin(columns: list[list[bool]]) -> None:
    n = len(columns[0])
    row = findings.discovery(_as_sets(columns), [f"P{i}" for i in range(n)])
    twin = naive.discovery([[int(col[i]) for col in columns] for i in range(n)])
    for name, value in twin.items():
        assert row[name] == pytest.approx(value, rel=1e-9), name


@settings(max_examples=200, deadline=None)
@given(matrices)
def test_discovery_properties(columns: list[list[bool]]) -> None:
    n = len(columns[0])
    row = findings.discovery(_as_sets(columns), [f"P{i}" for i in range(n)])
    assert 0.0 <= row["p_hat"] <= 1.0 and 0.0 < row["p_adj"] < 1.0
    assert 0.0 <= row["share_found"] <= 1.0
    assert row["estimated_total"] >= row["findings"]
    assert row["n_for_85"] <= row["n_for_90"] <= row["n_for_95"]


@given(st.floats(0.001, 0.999), st.lists(st.floats(0.01, 0.99), min_size=2, max_size=6))
def test_participants_needed_never_fall_as_the_goal_rises(p: float, goals: list[float]) -> None:
    needed = [findings.n_for(p, g) for g in sorted(goals)]
    assert needed == sorted(needed)
    for goal, n in zip(sorted(goals), needed, strict=True):
        assert n is not None and 0.0 <= findings.share_found(p, n) <= 1.0
        assert findings.share_found(p, n) >= goal - 1e-9


# -- the tables, from a real database --------------------------------------------------------

STUDY: dict[str, Any] = {
    "id": "shop",
    "variants": [{"id": "A", "url": "http://proto.test/A/"}, {"id": "B", "url": "http://proto.test/B/"}],
    "tasks": [{"id": "buy", "success": {"url": "/cart"}, "expected_path": ["/", "/shoes", "/cart"]},
              {"id": "help"}],
}  # fmt: skip


def url(variant: str, path: str) -> str:
    return f"http://proto.test/{variant}{path}"


def click(t: float, sel: str, x: float, interactive: bool = False) -> dict[str, Any]:
    return {"type": "click", "t": t, "sel": sel, "x": x, "y": 10, "interactive": interactive}


def lost_on_help(rec: Recorder, participant: str, variant: str, misclick: bool, invalid: bool,
                 rage: bool = False, js_error: bool = False) -> Any:  # fmt: skip
    """An attempt at buy that turns off to /help (instead of /shoes) and fails there."""
    info = rec.session(participant, variant)
    events: list[dict[str, Any]] = [
        {"type": "page", "t": 0, "url": url(variant, "/"), "timing": {"load": 500}},
        {"type": "page", "t": 3000, "url": url(variant, "/help"), "timing": {"load": 4000}},
    ]
    if misclick:
        events.append(click(4000, "div.banner", 50))
    if invalid:
        events.append({"type": "invalid", "t": 4500, "sel": "#qty", "kind": "rangeOverflow"})
    if rage:
        events += [click(5000 + 100 * i, "img.logo", 200 + 5 * i) for i in range(3)]
    if js_error:
        events.append({"type": "error", "t": 5500, "msg": "TypeError"})
    rec.send(info, events, page=f"{participant}-load")
    rec.send(info, [
        {"type": "task_start", "t": 100, "task": "buy"},
        {"type": "marker", "t": 2000, "kind": "error", "text": "cannot find the shoes"},
        {"type": "task_end", "t": 9000, "task": "buy", "outcome": "failure"},
    ], page=f"{participant}-console", moderator=True)  # fmt: skip
    return info


def successful(rec: Recorder, participant: str, variant: str) -> Any:
    info = rec.session(participant, variant)
    rec.send(info, [{"type": "page", "t": 0, "url": url(variant, "/")},
                    {"type": "page", "t": 1000, "url": url(variant, "/shoes")},
                    {"type": "page", "t": 2000, "url": url(variant, "/cart")}], page=f"{participant}-load")  # fmt: skip
    rec.send(info, [{"type": "task_start", "t": 100, "task": "buy"},
                    {"type": "task_end", "t": 2500, "task": "buy", "outcome": "success"}],
             page=f"{participant}-console", moderator=True)  # fmt: skip
    return info


@pytest.fixture
def shop(db_path: Path) -> tuple[Path, list[Any]]:
    """P1, P2 on A get lost on /help; P3 on A and P4 on B succeed."""
    rec = Recorder(db_path, STUDY)
    sessions = [lost_on_help(rec, "P1", "A", misclick=True, invalid=True, rage=True, js_error=True),
                lost_on_help(rec, "P2", "A", misclick=True, invalid=True),
                successful(rec, "P3", "A"), successful(rec, "P4", "B")]  # fmt: skip
    conn = rec.conn
    findings_store.create_finding(conn, "shop", {
        "title": "Shoes hidden behind Help", "severity": 3, "tasks": ["buy"],
        "recommendation": "Put Shoes in the top bar.",
        "evidence": [{"session": sessions[0].id, "t_s": 2.0, "text": "cannot find the shoes"},
                     {"session": sessions[1].id, "t_s": 2.0}]})  # fmt: skip
    findings_store.create_finding(conn, "shop", {"title": "Logo looks clickable", "severity": 1,
                                                 "participants": ["P4"]})  # fmt: skip
    findings_store.create_finding(conn, "shop", {"title": "Likes the colours", "severity": 0,
                                                 "participants": ["P3"]})  # fmt: skip
    rec.close()
    return db_path, sessions


def test_finding_tables_worked_by_hand(shop: tuple[Path, list[Any]]) -> None:
    db, sessions = shop
    results = metrics.analyze(db, "shop", cache=False)
    rows = {r["title"]: r for r in results.findings}
    assert [r["title"] for r in results.findings] == [
        "Shoes hidden behind Help",
        "Logo looks clickable",
        "Likes the colours",
    ]  # severity first
    hidden = rows["Shoes hidden behind Help"]
    # buy was attempted by all four; P1 and P2 are affected: 2 of 4.
    # Adjusted Wald by hand: z² = 3.841459; (2 + 1.920729) / 7.841459 = 0.5; half =
    # 1.959964 * sqrt(0.25 / 7.841459) = 0.349952 -> [0.150048, 0.849952].
    assert (hidden["participants_affected"], hidden["participants_observed"]) == (2, 4)
    assert hidden["frequency"] == 0.5
    assert hidden["frequency_ci_low"] == pytest.approx(0.150048, abs=1e-5)
    assert hidden["frequency_ci_high"] == pytest.approx(0.849952, abs=1e-5)
    assert hidden["severity_label"] == "major" and hidden["tasks"] == "buy"
    assert hidden["evidence_count"] == 2 and hidden["affected"] == "P1, P2"
    assert hidden["variants"] == "A, B" and hidden["recommendation"] == "Put Shoes in the top bar."
    # Variant A: 2 of 3 -> (2 + 1.920729) / 6.841459 = 0.573080, half = 1.959964 *
    # sqrt(0.573080 * 0.426920 / 6.841459) = 0.370641 -> [0.202439, 0.943721]. B: 0 of 1.
    by_variant = [(r["variant"], r["participants_affected"], r["participants_observed"])
                  for r in results.finding_variants if r["finding"] == hidden["finding"]]  # fmt: skip
    assert by_variant == [("A", 2, 3), ("B", 0, 1)]
    a_row = next(
        r
        for r in results.finding_variants
        if (r["finding"], r["variant"]) == (hidden["finding"], "A")
    )
    assert (a_row["frequency_ci_low"], a_row["frequency_ci_high"]) == (
        pytest.approx(0.202439, abs=1e-5), pytest.approx(0.943721, abs=1e-5))  # fmt: skip
    assert hidden["variant_a"] == "A" and hidden["variant_b"] == "B"
    assert hidden["difference"] == pytest.approx(-2 / 3) and hidden["test"] == "Fisher exact"
    evidence = [(r["participant"], r["session"], r["task"], r["t_s"], r["text"])
                for r in results.finding_evidence if r["finding"] == hidden["finding"]]  # fmt: skip
    assert evidence == [("P1", sessions[0].id, "buy", 2.0, "cannot find the shoes"),
                        ("P2", sessions[1].id, "buy", 2.0, None)]  # fmt: skip
    logo = rows["Logo looks clickable"]
    assert (logo["participants_affected"], logo["participants_observed"]) == (1, 4)


def test_problem_discovery_and_curve_worked_by_hand(shop: tuple[Path, list[Any]]) -> None:
    """Severity >= 1: F1 {P1, P2}, F2 {P4}; four participants.

    p̂ = 3 / 8 = 0.375; singletons 1; (0.375 - 0.25)(0.75) = 0.09375; 0.375 / 1.5 = 0.25;
    p_adj = 0.046875 + 0.125 = 0.171875; 0.828125^2 = 0.685791, ^4 = 0.470309;
    share = 0.529691; total = 2 / 0.529691 = 3.775789; n_85 = ceil(1.89712 / 0.188591 = 10.06) = 11,
    n_90 = ceil(2.302585 / 0.188591 = 12.21) = 13, n_95 = ceil(2.995732 / 0.188591 = 15.88) = 16.
    """
    results = metrics.analyze(shop[0], "shop", cache=False)
    (row,) = results.problem_discovery
    assert (row["participants"], row["findings"], row["singletons"]) == (4, 2, 1)
    assert row["p_adj"] == pytest.approx(0.171875)
    assert row["share_found"] == pytest.approx(0.529691, abs=1e-6)
    assert row["estimated_total"] == pytest.approx(3.775789, abs=1e-5)
    assert (row["n_for_85"], row["n_for_90"], row["n_for_95"]) == (11, 13, 16)
    curve = results.discovery_curve
    assert [r["participant"] for r in curve] == ["P1", "P2", "P3", "P4"]
    assert [r["findings_seen"] for r in curve] == [1, 1, 1, 2]
    expected = [3.775789 * (1 - 0.828125**k) for k in range(1, 5)]
    assert [r["findings_expected"] for r in curve] == pytest.approx(expected, abs=1e-5)
    assert math.isclose(
        curve[-1]["findings_expected"], 2.0, abs_tol=1e-9
    )  # the model meets the data at n


def test_suggestions_ranked_by_participants(shop: tuple[Path, list[Any]]) -> None:
    results = metrics.analyze(shop[0], "shop", cache=False)
    found = {(r["kind"], r["task"], r["page"], r["element"]): r for r in results.suggestions}
    assert found[("misclick", "buy", None, "div.banner")]["participant_ids"] == "P1, P2"
    assert found[("invalid", "buy", None, "#qty")]["participants"] == 2
    assert found[("rage_click", "buy", "/help", "img.logo")]["participants"] == 1
    assert found[("js_error", None, "/help", None)]["participant_ids"] == "P1"
    turn = found[("wrong_turn", "buy", "/", "/ → /help (expected /shoes)")]
    assert turn["participants"] == 2 and turn["variant"] == "A"
    assert found[("dead_end", "buy", "/help", None)]["participants"] == 2
    assert found[("slow_page", None, "/help", None)]["participants"] == 2
    # buy in A: 1 success of 3, upper bound 0.7976 > 0.78: no low-success suggestion by default.
    assert not any(r["kind"] == "low_success" for r in results.suggestions)
    counts = [r["participants"] for r in results.suggestions]
    assert counts == sorted(counts, reverse=True)
    assert [r["suggestion"] for r in results.suggestions] == list(range(1, len(counts) + 1))
    moments = found[("misclick", "buy", None, "div.banner")]["evidence"]
    assert [(m["participant"], m["session"], m["t_s"]) for m in moments] == [
        ("P1", shop[1][0].id, 4.0), ("P2", shop[1][1].id, 4.0)]  # fmt: skip


def test_the_study_sets_its_own_benchmark(shop: tuple[Path, list[Any]]) -> None:
    import sqlite3

    with sqlite3.connect(shop[0]) as conn:
        conn.execute("UPDATE studies SET source = ? WHERE id = 'shop'",
                     ('id = "shop"\n[findings]\nsuccess_benchmark = 0.85\n',))  # fmt: skip
    results = metrics.analyze(shop[0], "shop", cache=False)
    low = [r for r in results.suggestions if r["kind"] == "low_success"]
    assert [(r["task"], r["variant"], r["participant_ids"]) for r in low] == [
        ("buy", "A", "P1, P2")
    ]


def test_json_and_exports_hold_the_tables(shop: tuple[Path, list[Any]], tmp_path: Path) -> None:
    from analyzer.export import export

    results = metrics.analyze(shop[0], "shop", cache=False)
    names = ("findings", "finding_variants", "finding_evidence", "problem_discovery", "suggestions")
    tables = results.tables(names)
    export(tables, iter(()), "csv", tmp_path / "csv")
    header = (tmp_path / "csv" / "findings.csv").read_text().splitlines()[0]
    assert header.startswith(",".join(columns.FINDING_COLUMNS))
    export(tables, iter(()), "xlsx", tmp_path / "t.xlsx")
    assert (tmp_path / "t.xlsx").stat().st_size > 0


@pytest.mark.parametrize(("table", "message"), [
    ({"success_benchmark": 1.5}, "findings.success_benchmark"),
    ({"success_benchmark": "high"}, "findings.success_benchmark"),
    ({"benchmark": 0.7}, "findings.benchmark: unknown key"),
])  # fmt: skip
def test_study_file_findings_table_is_checked(table: dict[str, Any], message: str) -> None:
    from recorder.wire.studyfile import StudyError, parse_study

    with pytest.raises(StudyError, match=message.replace(".", r"\.")):
        parse_study({**STUDY, "findings": table})
    assert parse_study({**STUDY, "findings": {"success_benchmark": 0.7}}).id == "shop"


def test_findings_command(
    shop: tuple[Path, list[Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import sqlite3

    from recorder.cli import main

    db = str(shop[0])
    with sqlite3.connect(db) as conn:  # text a person typed that looks like a formula or markup
        conn.execute(
            "UPDATE findings SET recommendation = '=HYPERLINK(\"x\")' WHERE title LIKE 'Logo%'"
        )
        conn.execute(
            "UPDATE finding_evidence SET text = '<b>*cannot*</b> find' WHERE text IS NOT NULL"
        )
    assert (
        main(["findings", "shop", "--db", db, "--format", "markdown", "-o", str(tmp_path / "f.md")])
        == 0
    )
    text = (tmp_path / "f.md").read_text()
    sections = text.split("\n## ")[1:]
    assert [s.splitlines()[0] for s in sections] == ["Shoes hidden behind Help", "Logo looks clickable",
                                                     "Likes the colours"]  # fmt: skip
    first = sections[0]
    assert "- **Severity:** 3 (major)" in first
    assert "- **Frequency:** 2 of 4 participants (50%; 95% CI 15%–85%)" in first
    assert "  - variant A: 2 of 3 participants (67%; 95% CI 20%–94%)" in first
    assert "> “\\<b\\>\\*cannot\\*\\</b\\> find” — P1, session 1 at 0:02 (buy)" in first
    assert "**Recommendation:** Put Shoes in the top bar." in first
    assert "Problem discovery: 4 participants revealed 2 problems" in text
    assert main(["findings", "shop", "--db", db, "--format", "csv"]) == 0
    out = capsys.readouterr().out
    assert "'=HYPERLINK" in out and ",=HYPERLINK" not in out
    assert main(["findings", "shop", "--db", db]) == 0
    assert "Shoes hidden behind Help" in capsys.readouterr().out
    assert main(["findings", "nope", "--db", db]) == 2
    assert "no study 'nope'" in capsys.readouterr().err


def test_suggestions_rank_by_participants_then_kind_and_place() -> None:
    from analyzer.findings.suggestions import rank

    found = [(("rage_click", "buy", None, "/cart", "img"), [], ["P1"]),
             (("rage_click", None, None, None, "img"), [], ["P2"]),  # None beside text: no TypeError
             (("misclick", "buy", None, None, "div"), [], ["P1", "P2"])]  # fmt: skip
    assert [f[0][0:2] for f in sorted(found, key=rank)] == [("misclick", "buy"), ("rage_click", None),
                                                          ("rage_click", "buy")]  # fmt: skip


def test_report_findings_section(shop: tuple[Path, list[Any]]) -> None:
    """Ordered by severity, k of n with its interval, quotes; text from people shown as text."""
    import sqlite3

    from analyzer.report.render import render_report
    from recorder.storage import store

    db = shop[0]
    with sqlite3.connect(db) as conn:
        conn.execute(
            "UPDATE findings SET title = '<script>alert(1)</script> Logo' WHERE title LIKE 'Logo%'"
        )
    conn2 = store.connect(db, readonly=True)
    study = store.load_study(conn2, "shop")
    conn2.close()
    html = render_report(metrics.analyze(db, "shop", cache=False), study)
    section = html[html.index('<section class="part" id="findings">') :]
    section = section[: section.index("</section>")]
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; Logo" in section
    assert (
        section.index("Shoes hidden behind Help")
        < section.index("Logo")
        < section.index("Likes the colours")
    )
    assert "2 of 4 participants (50%; 95% CI 15%–85%)" in section
    assert "A: 2 of 3 participants (67%; 95% CI 20%–94%)" in section
    assert "“cannot find the shoes” — P1 (session 1 at 0:02, buy)" in section
    assert "Put Shoes in the top bar." in section and 'id="discovery-curve-svg"' in section
    assert (
        html.index('id="at-a-glance"') < html.index('id="findings"') < html.index('id="overview"')
    )
