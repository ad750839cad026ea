"""Tests of analyzer.stats.questionnaires: SUS (score, grade, percentile), UMUX-Lite, NPS."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats as sps

from analyzer.stats import questionnaires

# Shared with the console's scoring (recorder/console/static/test/questionnaires.test.mjs).
CASES = json.loads((Path(__file__).parent / "cases" / "questionnaires.json").read_text())


@pytest.mark.parametrize("case", CASES["sus"], ids=lambda c: str(c["score"]))
def test_sus_score_by_brookes_rule(case):
    assert questionnaires.sus_score(case["answers"]) == case["score"]


def test_sus_scores_of_the_shared_cases_at_once():
    answers = [c["answers"] for c in CASES["sus"]]
    assert questionnaires.scores(answers, "sus") == [c["score"] for c in CASES["sus"]]


@pytest.mark.parametrize("bad", CASES["malformed"])
def test_sus_score_rejects_malformed_answers(bad):
    with pytest.raises(ValueError, match="SUS"):
        questionnaires.sus_score(bad)


@pytest.mark.parametrize(
    ("score", "grade"),
    [
        (100.0, "A+"),
        (84.1, "A+"),
        (84.05, "A+"),
        (84.0, "A"),
        (80.8, "A"),
        (80.7, "A-"),
        (78.9, "A-"),
        (78.8, "B+"),
        (77.2, "B+"),
        (77.1, "B"),
        (74.1, "B"),
        (74.0, "B-"),
        (72.6, "B-"),
        (72.5, "C+"),
        (71.1, "C+"),
        (71.0, "C"),
        (68.0, "C"),
        (65.0, "C"),
        (64.9, "C-"),
        (62.7, "C-"),
        (62.6, "D"),
        (51.7, "D"),
        (51.6, "F"),
        (0.0, "F"),
    ],
)
def test_sus_grade_follows_the_sauro_lewis_curved_scale(score, grade):
    assert questionnaires.sus_grade(score) == grade


def test_sus_grade_rejects_scores_off_the_scale():
    with pytest.raises(ValueError, match="0-100"):
        questionnaires.sus_grade(101.0)


@pytest.mark.parametrize(("score", "percentile"), [(68.0, 50.0), (80.5, 84.13), (55.5, 15.87)])
def test_sus_percentile_uses_the_normal_norm(score, percentile):
    assert questionnaires.sus_percentile(score) == pytest.approx(percentile, abs=0.01)


@pytest.mark.parametrize(
    ("answers", "score"), [([7, 7], 100.0), ([1, 1], 0.0), ([4, 4], 50.0), ([6, 5], 75.0)]
)
def test_umux_lite_score(answers, score):
    assert questionnaires.umux_lite_score(answers) == pytest.approx(score)


def test_umux_lite_sus_equivalent_is_the_published_regression():
    assert questionnaires.umux_lite_sus_equivalent(100.0) == pytest.approx(87.9)
    assert questionnaires.umux_lite_sus_equivalent(0.0) == pytest.approx(22.9)


def test_umux_lite_rejects_out_of_range_answers():
    with pytest.raises(ValueError, match="UMUX-Lite"):
        questionnaires.umux_lite_score([8, 7])


@pytest.mark.parametrize(
    ("answers", "score"),
    [([10, 9, 8, 7, 6], 20.0), ([10, 10], 100.0), ([0, 6, 3], -100.0), ([7, 8], 0.0), ([], None)],
)
def test_nps_is_promoters_minus_detractors(answers, score):
    assert questionnaires.nps(answers) == score


def test_nps_rejects_answers_off_the_scale():
    with pytest.raises(ValueError, match="NPS"):
        questionnaires.nps([11])


def test_sus_percentile_equals_scipy_normal_cdf():
    for score in (0.0, 37.5, 68.0, 72.5, 84.1, 100.0):
        expected = 100.0 * sps.norm.cdf(score, loc=68.0, scale=12.5)
        assert questionnaires.sus_percentile(score) == expected


# ------------------------------------------------------- many at once

sus_answers = st.lists(st.integers(1, 5), min_size=10, max_size=10)
umux_answers = st.lists(st.integers(1, 7), min_size=2, max_size=2)


@given(st.lists(st.none() | sus_answers, max_size=30))
def test_sus_scores_of_many_sessions_equal_one_by_one(answers):
    expected = [None if a is None else questionnaires.sus_score(a) for a in answers]
    assert questionnaires.scores(answers, "sus") == expected


@given(st.lists(st.none() | umux_answers, max_size=30))
def test_umux_lite_scores_of_many_sessions_equal_one_by_one(answers):
    expected = [None if a is None else questionnaires.umux_lite_score(a) for a in answers]
    assert questionnaires.scores(answers, "umux_lite") == expected


@pytest.mark.parametrize(
    ("answers", "questionnaire", "name"),
    [
        ([[3] * 10, [3] * 9], "sus", "SUS"),
        ([[3] * 10, [6] + [3] * 9], "sus", "SUS"),
        ([None, [4, 8]], "umux_lite", "UMUX-Lite"),
        ([[4, 4, 4]], "umux_lite", "UMUX-Lite"),
    ],
)
def test_many_scores_refuse_a_malformed_session_as_one_score_does(answers, questionnaire, name):
    with pytest.raises(ValueError, match=name):
        questionnaires.scores(answers, questionnaire)


def test_many_scores_of_answers_that_are_not_whole_numbers_equal_one_by_one():
    answers = [[4.5, 4], None, [7, 7]]
    assert questionnaires.scores(answers, "umux_lite") == [
        questionnaires.umux_lite_score([4.5, 4]),
        None,
        100.0,
    ]
