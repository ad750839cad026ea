"""Questionnaire scores: SUS (with its grade and percentile), UMUX-Lite and NPS.

Pure functions over plain Python numbers, as :mod:`analyzer.stats.compare`; the
percentile takes the normal distribution from ``scipy.special`` (the code
``scipy.stats.norm`` itself calls), which imports in a fraction of the time.

Sources
-------
- Brooke, J. (1996). SUS: a "quick and dirty" usability scale.
- Sauro, J. & Lewis, J. R. (2016). *Quantifying the User Experience*, 2nd ed.
  Morgan Kaufmann: the curved grading scale and the norm for SUS (ch. 8).
- Lewis, J. R., Utesch, B. S. & Maher, D. E. (2013). UMUX-LITE: when there's
  no time for the SUS. CHI 2013.
- Reichheld, F. F. (2003). The one number you need to grow. HBR (NPS).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import special

#: Published SUS norm (Sauro & Lewis 2016): mean 68, standard deviation 12.5.
SUS_NORM_MEAN = 68.0
SUS_NORM_SD = 12.5

#: Sauro-Lewis curved grading scale: (lowest score of the grade, grade).
SUS_GRADES: tuple[tuple[float, str], ...] = (
    (84.1, "A+"),
    (80.8, "A"),
    (78.9, "A-"),
    (77.2, "B+"),
    (74.1, "B"),
    (72.6, "B-"),
    (71.1, "C+"),
    (65.0, "C"),
    (62.7, "C-"),
    (51.7, "D"),
    (0.0, "F"),
)


def _check_answers(responses: Sequence[int], count: int, low: int, high: int, name: str) -> None:
    if len(responses) != count or any(not low <= r <= high for r in responses):
        raise ValueError(f"{name} needs {count} answers from {low} to {high}, got {responses!r}")


def sus_score(responses: Sequence[int]) -> float:
    """SUS score of one questionnaire by Brooke's (1996) rule.

    Parameters
    ----------
    responses : sequence of int
        Ten answers, 1 (strongly disagree) to 5 (strongly agree), in item order.

    Returns
    -------
    float
        0-100: odd items contribute x - 1, even items 5 - x; the sum times 2.5.
    """
    _check_answers(responses, 10, 1, 5, "SUS")
    total = sum((r - 1) if i % 2 == 0 else (5 - r) for i, r in enumerate(responses))
    return total * 2.5


def sus_grade(score: float) -> str:
    """Letter grade of a SUS score on the Sauro-Lewis curved grading scale.

    Grades from Sauro & Lewis (2016, ch. 8): A+ 84.1-100, A 80.8-84.0,
    A- 78.9-80.7, B+ 77.2-78.8, B 74.1-77.1, B- 72.6-74.0, C+ 71.1-72.5,
    C 65.0-71.0, C- 62.7-64.9, D 51.7-62.6, F 0-51.6. The score (often a
    mean) is rounded half up to one decimal first, as the published ranges are.

    Parameters
    ----------
    score : float
        A SUS score or mean, 0-100.

    Returns
    -------
    str
        ``"A+"`` to ``"F"``.
    """
    if not 0.0 <= score <= 100.0:
        raise ValueError(f"a SUS score lies in 0-100, got {score!r}")
    rounded = math.floor(score * 10.0 + 0.5 + 1e-9) / 10.0
    return next(grade for lowest, grade in SUS_GRADES if rounded >= lowest)


def sus_percentile(score: float) -> float:
    """Percentile rank of a SUS score against the published norm.

    Assumes SUS scores across products are normally distributed with mean 68
    and standard deviation 12.5 (Sauro & Lewis 2016). This is an
    approximation: the real distribution is somewhat skewed, so near the top
    this rank is a few points below the percentiles printed beside the
    curved grades (84.1 reads as the 90th here, the 96th there).

    Parameters
    ----------
    score : float
        A SUS score or mean, 0-100.

    Returns
    -------
    float
        Percent of the norm population scoring lower, 0-100.
    """
    return float(100.0 * special.ndtr((score - SUS_NORM_MEAN) / SUS_NORM_SD))


def umux_lite_score(responses: Sequence[int]) -> float:
    """UMUX-Lite score, 0-100, from its two 7-point items (Lewis, Utesch & Maher 2013).

    Parameters
    ----------
    responses : sequence of int
        Two answers, 1-7 ("capabilities meet my requirements", "easy to use").

    Returns
    -------
    float
        ((x1 - 1) + (x2 - 1)) / 12 * 100.
    """
    _check_answers(responses, 2, 1, 7, "UMUX-Lite")
    return (responses[0] - 1 + responses[1] - 1) / 12.0 * 100.0


def umux_lite_sus_equivalent(score: float) -> float:
    """Regression-adjusted UMUX-Lite, on the SUS scale: 0.65 x score + 22.9.

    Parameters
    ----------
    score : float
        A UMUX-Lite score (or mean), 0-100.

    Returns
    -------
    float
        The SUS-equivalent score (Lewis, Utesch & Maher 2013).
    """
    return 0.65 * score + 22.9


def nps(answers: Sequence[int]) -> float | None:
    """Net Promoter Score: promoters (9-10) minus detractors (0-6), in % (Reichheld 2003).

    Parameters
    ----------
    answers : sequence of int
        Likelihood-to-recommend answers, 0-10.

    Returns
    -------
    float or None
        -100 to 100; None without answers.
    """
    _check_answers(answers, len(answers), 0, 10, "NPS")
    if not answers:
        return None
    promoters = sum(a >= 9 for a in answers)
    detractors = sum(a <= 6 for a in answers)
    return 100.0 * (promoters - detractors) / len(answers)


def scores(answers: Sequence[Sequence[int] | None], questionnaire: str) -> list[float | None]:
    """Many sessions' SUS or UMUX-Lite scores at once; None where a session has no answers.

    Equal to :func:`sus_score` or :func:`umux_lite_score` of each answer list
    (which also raise on the first malformed one), computed on one array
    where every list holds whole numbers on the scale.

    Parameters
    ----------
    answers : sequence of (sequence of int or None)
        Each session's answers, in item order.
    questionnaire : str
        ``"sus"`` or ``"umux_lite"``.

    Returns
    -------
    list of (float or None)
        Aligned with ``answers``.
    """
    score, count, high = (sus_score, 10, 5) if questionnaire == "sus" else (umux_lite_score, 2, 7)
    asked = [i for i, a in enumerate(answers) if a is not None]
    try:
        grid = np.array([answers[i] for i in asked])
    except ValueError:  # lists of different lengths
        grid = np.zeros((0, 0))
    if (
        grid.shape != (len(asked), count)
        or grid.dtype.kind not in "iu"
        or (len(asked) and not 1 <= grid.min() <= grid.max() <= high)
    ):
        return [None if a is None else score(a) for a in answers]
    if questionnaire == "sus":
        # Brooke's rule on whole numbers: odd items x - 1, even items 5 - x, the sum times 2.5.
        values = ((grid[:, ::2] - 1).sum(axis=1) + (5 - grid[:, 1::2]).sum(axis=1)) * 2.5
    else:
        values = (grid[:, 0] - 1 + grid[:, 1] - 1) / 12.0 * 100.0
    out: list[float | None] = [None] * len(answers)
    for i, value in zip(asked, values.tolist(), strict=True):
        out[i] = value
    return out
