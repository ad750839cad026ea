"""Exact tests for small samples: Fisher's 2x2 test and the binomial test against 1/2.

Both as ``scipy.stats`` defines them, computed from ``scipy.special`` (the
functions behind scipy's distributions), because importing ``scipy.stats``
costs about half a second on every command that compares small cells.
``tests/test_stats.py`` checks them against ``scipy.stats`` table by table.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special


def fisher_exact(a: int, b: int, c: int, d: int) -> tuple[float, float]:
    """Fisher's exact test of the 2x2 table ``[[a, b], [c, d]]``: (odds ratio, two-sided p).

    The two-sided p-value is the probability, under the hypergeometric
    distribution of the table's margins, of every table no more likely than
    the observed one (with scipy's relative tolerance of 1e-7), exactly as
    ``scipy.stats.fisher_exact`` defines it; the probabilities come from
    ``scipy.special.gammaln``, since ``scipy.stats`` costs half a second to
    import. The odds ratio is ``a*d / (b*c)``: infinite or NaN where a zero
    cell makes it so.
    """
    row, col, n = a + b, a + c, a + b + c + d
    lo, hi = max(0, col - (n - row)), min(row, col)
    k = np.arange(lo, hi + 1, dtype=np.float64)
    log_p = (special.gammaln(row + 1) + special.gammaln(n - row + 1) + special.gammaln(col + 1)
             + special.gammaln(n - col + 1) - special.gammaln(n + 1) - special.gammaln(k + 1)
             - special.gammaln(row - k + 1) - special.gammaln(col - k + 1)
             - special.gammaln(n - row - col + k + 1))  # fmt: skip
    probs = np.exp(log_p)
    p_value = float(probs[probs <= probs[a - lo] * (1 + 1e-7)].sum())
    zero_cell = math.inf if a * d else math.nan
    odds = a * d / (b * c) if b * c else zero_cell
    return odds, min(1.0, p_value)


def binomial_test_half(k: int, n: int) -> float:
    """Two-sided exact binomial test of ``k`` successes in ``n`` trials against p = 1/2.

    With p = 1/2 the distribution is symmetric, so the two-sided p-value is
    twice the smaller tail, capped at 1 (what ``scipy.stats.binomtest``
    gives); ``scipy.special.bdtr`` is the binomial distribution function.
    """
    if n == 0:
        return 1.0
    tail = float(special.bdtr(min(k, n - k), n, 0.5))
    return min(1.0, 2.0 * tail)
