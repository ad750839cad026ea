"""How the analyzer writes numbers and counts in words: one home for every reading and report.

Rules (issue 12, "Formatting that misleads"):

- a p-value has three decimals below 0.1 (0.045 and 0.051 must not both read
  "0.05"), two above, and reads "p < 0.001" below that;
- a ratio has significant figures, not fixed decimals ("0.0021 to 1900",
  never "0.00 to 1899.13");
- a figure that is not zero never reads as zero ("0.004", not "0.00"), and
  zero reads "0", not "0.00";
- a count has its noun in the right number ("1 variant", "6 errors").
"""

from __future__ import annotations

import math

#: Significant figures of a ratio or a small figure.
SIGNIFICANT = 3
#: Most decimals a figure gets when more are needed to keep it off zero.
MAX_DECIMALS = 12

_IRREGULAR = {"matched participant": "matched participants", "was": "were", "is": "are"}


def plural(n: int, noun: str, many: str | None = None) -> str:
    """``n`` and its noun in the right number: ``1 task``, ``2 tasks``, ``0 entries``."""
    if n == 1:
        return f"{n} {noun}"
    if many is None:
        many = _IRREGULAR.get(noun) or (
            f"{noun[:-1]}ies" if noun.endswith("y") and noun[-2:-1] not in "aeiou" else f"{noun}s"
        )
    return f"{n} {many}"


def fixed(x: float, decimals: int) -> str:
    """``x`` with ``decimals`` decimals, without a minus sign on a printed zero."""
    text = f"{x:.{decimals}f}"
    return text.lstrip("-") if float(text) == 0.0 else text


def decimals_for(size: float) -> int:
    """The decimals a reader needs for a number of this size (41, 4.1, 0.41)."""
    return 0 if size >= 10 else 1 if size >= 1 else 2


def num(x: float, ref: float | None = None) -> str:
    """A number with the decimals a reader needs (41, 4.1, 0.41), judged on ``ref`` if given.

    Zero reads ``0``; a number that is not zero gets more decimals until it
    does not read as zero (0.004, not 0.00).
    """
    if x == 0.0:
        return "0"
    decimals = decimals_for(abs(x if ref is None else ref))
    while decimals < MAX_DECIMALS and float(fixed(x, decimals)) == 0.0:
        decimals += 1
    return fixed(x, decimals)


def num_apart(x: float, other: float) -> str:
    """:func:`num`, with more decimals where ``x`` would read as ``other`` ("99.8% shorter", not "100%")."""
    text = num(x)
    decimals = len(text.partition(".")[2])
    while x != other and float(text) == other and decimals < MAX_DECIMALS:
        decimals += 1
        text = fixed(x, decimals)
    return text


def sig(x: float, figures: int = SIGNIFICANT) -> str:
    """``x`` with ``figures`` significant figures, in plain notation: 0.00213, 1.5, 1900."""
    if x == 0.0 or not math.isfinite(x):
        return "0" if x == 0.0 else str(x)
    magnitude = math.floor(math.log10(abs(x)))
    decimals = max(0, figures - 1 - magnitude)
    return fixed(round(x, figures - 1 - magnitude), decimals)


def p_text(p: float) -> str:
    """A p-value as a reading writes it: ``p < 0.001``, ``p = 0.045``, ``p = 0.32``."""
    if p < 0.001:
        return "p < 0.001"
    return f"p = {p:.3f}" if p < 0.1 else f"p = {p:.2f}"


def p_cell(p: float) -> str:
    """A p-value in a table cell: ``<0.001``, ``0.045``, ``0.32``."""
    return p_text(p).removeprefix("p = ").replace("p < ", "<")
