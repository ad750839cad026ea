"""Cells for spreadsheets: text that no spreadsheet runs as a formula, and that XLSX accepts.

Labels, selectors, URLs, participant ids and marker texts come from browsers
and API clients. A CSV or XLSX cell starting with ``=``, ``+``, ``-``, ``@``, a
tab or a carriage return (or a line feed) is a formula to Excel, LibreOffice and
Google Sheets; following OWASP's CSV-injection guidance
(https://owasp.org/www-community/attacks/CSV_Injection) such text gets a leading
single quote. Numbers stay numbers: only ``str`` cells change, so ``-3`` the
number is a number and ``"-3"`` the label is text (``'-3``).

XLSX (XML 1.0) cannot hold most C0 control characters; openpyxl refuses the
whole workbook for one of them. They are written as ``\\xNN`` text instead.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _escape(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()):02x}" if ord(match.group()) < 0x100 else "\ufffd"


def text_cell(text: str) -> str:
    """``text`` as a spreadsheet shows it, never as a formula."""
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_cell(value: Any) -> Any:
    """A value as a CSV cell: nested data as JSON text, ``None`` empty, text defused."""
    if value is None:
        return ""
    if isinstance(value, dict | list):
        value = orjson.dumps(value).decode()
    return text_cell(value) if isinstance(value, str) else value


def xlsx_cell(value: Any) -> Any:
    """A value as an XLSX cell: like :func:`csv_cell`, control characters escaped."""
    if value is None:
        return None
    value = csv_cell(value)
    if isinstance(value, str):
        return text_cell(_XML_ILLEGAL.sub(_escape, value))
    return value
