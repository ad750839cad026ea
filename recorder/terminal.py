"""Stored text shown in a terminal: control characters escaped, never obeyed.

A label, URL or participant id comes from a browser or an API client. Printed
raw, ``\\x1b]0;...`` retitles the terminal, ``\\x1b[2J`` clears it and a
bidirectional override (U+202E) reorders what the moderator reads. Every
CLI line that shows stored text goes through :func:`terminal_text`.
"""

from __future__ import annotations

import re

# C0 controls, DEL, C1 controls, and the bidirectional embeddings, overrides and isolates.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal_text(text: str) -> str:
    """``text`` with every control character written as ``\\xNN`` (``\\uNNNN``)."""
    return _CONTROL.sub(_escape, text)
