"""Wire format version 1: event-type codes and batch validation.

This module validates what the snippet and the console send and nothing else.
A valid batch becomes a :class:`Batch` of plain row tuples whose strings the
store interns; nothing here touches SQLite or HTTP.

The integer codes below are stored in the ``events`` table and read by the
analyzer, so they never change meaning: new types get new codes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import orjson

WIRE_VERSION = 1

# Event types sent by the snippet (participant) ...
PAGE, CLICK, INPUT, SUBMIT, INVALID, SCROLL, VISIBILITY, ERROR, RESIZE, CUSTOM = range(1, 11)
REACTION = 11  # second wave: the page reacted to a click (for dead clicks)
# ... and by the moderator console.
TASK_START, TASK_END, MARKER, RATING = 20, 21, 22, 23
# A marker's text, added or changed after the marker (which was recorded at the key press).
MARKER_TEXT = 24

PARTICIPANT_TYPES = {
    "page": PAGE,
    "click": CLICK,
    "input": INPUT,
    "submit": SUBMIT,
    "invalid": INVALID,
    "scroll": SCROLL,
    "visibility": VISIBILITY,
    "error": ERROR,
    "resize": RESIZE,
    "custom": CUSTOM,
    "reaction": REACTION,
}
MODERATOR_TYPES = {
    "task_start": TASK_START,
    "task_end": TASK_END,
    "marker": MARKER,
    "rating": RATING,
    "marker_text": MARKER_TEXT,
}
EVENT_TYPES = {**PARTICIPANT_TYPES, **MODERATOR_TYPES}
EVENT_TYPE_NAMES = {code: name for name, code in EVENT_TYPES.items()}

OUTCOMES = {"success": 1, "failure": 2, "abandoned": 3, "skipped": 4}
OUTCOME_NAMES = {code: name for name, code in OUTCOMES.items()}
MARKER_KINDS = {"error": 1, "note": 2, "assist": 3, "critical": 4}
MARKER_KIND_NAMES = {code: name for name, code in MARKER_KINDS.items()}
RATING_ITEMS = {"SEQ": 1, "SUS": 2, "UMUX-Lite": 3, "NPS": 4}
RATING_ITEM_NAMES = {code: name for name, code in RATING_ITEMS.items()}
VISIBILITY_STATES = {"hidden": 0, "visible": 1}
REACTION_KINDS = {"mutation": 1, "focus": 2, "scroll": 3, "input": 4, "navigation": 5}
# The `kind` column of a click or page event: a click the page's script fired (isTrusted
# false), a page shown inside a child frame (the event came with `frame`).
SYNTHETIC_CLICK_KIND = 1
FRAME_PAGE_KIND = 1

# Where a page load's events come from (page_loads.source).
SOURCE_SNIPPET, SOURCE_MODERATOR = 1, 2

MAX_EVENTS_PER_BATCH = 500
MAX_SEQ = 2**31 - 1
MAX_ID_LEN = 64
MAX_URL_LEN = 2048
MAX_SELECTOR_LEN = 512
MAX_LABEL_LEN = 256
MAX_TEXT_LEN = 4000
MAX_CUSTOM_DATA_BYTES = 4096
# Client clocks are epoch milliseconds; anything outside 2000..2100 is a bug.
MIN_T, MAX_T = 946_684_800_000.0, 4_102_444_800_000.0


class BadInput(ValueError):
    """Input that fails validation; its message names the first bad field."""


@dataclass(slots=True)
class Batch:
    """A validated batch, ready for the store.

    ``rows`` hold one tuple per event, its fields named by :data:`ROW_FIELDS`:
    ``url`` (the page's URL), ``sel`` (the target's selector), ``label`` and
    ``task`` are strings still to be interned, ``data`` is JSON text or
    ``None``.
    """

    session: str
    load: str  # the page load's key (the batch's ``page`` on the wire)
    sent: float
    rows: list[tuple[Any, ...]]


Row = tuple[Any, ...]
#: The fields of a validated event row, in order (named as the wire format names them: the
#: page's ``url``, the target's ``sel``). A plain tuple, not a NamedTuple: rows are made per
#: event on the collector's hot path and pickled to the writer's process.
ROW_FIELDS = (
    "seq",
    "t",
    "type",
    "url",
    "sel",
    "label",
    "task",
    "outcome",
    "kind",
    "interactive",
    "x",
    "y",
    "value",
    "data",
)
ROW_TASK = ROW_FIELDS.index("task")


def parse_body(body: bytes) -> dict[str, Any]:
    """Parse a JSON request body into an object, or raise :class:`BadInput`."""
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadInput(f"body: not valid JSON ({exc.msg})") from None
    if not isinstance(doc, dict):
        raise BadInput("body: must be a JSON object")
    return doc


def _at(where: int | str) -> str:
    """The name of an event's location, made only when there is an error to report."""
    return f"events[{where}]" if type(where) is int else str(where)


def _str(
    ev: dict[str, Any], key: str, where: int | str, limit: int, required: bool = False
) -> str | None:
    value = ev.get(key)
    if value is None:
        if required:
            raise BadInput(f"{_at(where)}.{key}: required")
        return None
    if type(value) is not str:
        raise BadInput(f"{_at(where)}.{key}: must be a string")
    if len(value) > limit:
        raise BadInput(f"{_at(where)}.{key}: longer than {limit} characters")
    return value


def _num(
    ev: dict[str, Any], key: str, where: int | str, lo: float, hi: float, required: bool = False
) -> float | None:
    value = ev.get(key)
    if value is None:
        if required:
            raise BadInput(f"{_at(where)}.{key}: required")
        return None
    # orjson never yields NaN or infinity, and the range check would refuse them.
    if type(value) is not float and type(value) is not int:
        raise BadInput(f"{_at(where)}.{key}: must be a number")
    if not lo <= value <= hi:
        raise BadInput(f"{_at(where)}.{key}: out of range {lo:g}..{hi:g}")
    return value


def _int(
    ev: dict[str, Any], key: str, where: int | str, lo: int, hi: int, required: bool = False
) -> int | None:
    value = ev.get(key)
    if value is None:
        if required:
            raise BadInput(f"{_at(where)}.{key}: required")
        return None
    if type(value) is not int:
        raise BadInput(f"{_at(where)}.{key}: must be an integer")
    if not lo <= value <= hi:
        raise BadInput(f"{_at(where)}.{key}: out of range {lo}..{hi}")
    return value


def _code(
    ev: dict[str, Any], key: str, where: int | str, codes: dict[str, int], required: bool = True
) -> int | None:
    value = ev.get(key)
    if value is None and not required:
        return None
    # A list or an object is no code word (and cannot even be looked up).
    code = codes.get(value) if type(value) is str else None
    if code is None:
        raise BadInput(f"{_at(where)}.{key}: must be one of {', '.join(codes)}")
    return code


def _data(fields: dict[str, Any]) -> str | None:
    kept = {k: v for k, v in fields.items() if v is not None}
    return orjson.dumps(kept).decode() if kept else None


COORD = 1e7  # pixels: generous, but finite


TOKEN_PARAM = "uxlab"  # the participant's link carries the session token in this query parameter
TOKEN_MARK = f"{TOKEN_PARAM}="


def participant_link(variant_url: str, token: str) -> str:
    """The participant's link: the variant's URL with the session token."""
    joiner = "&" if "?" in variant_url else "?"
    return f"{variant_url}{joiner}{TOKEN_MARK}{token}"


def without_token(url: str | None) -> str | None:
    """A URL without the ``uxlab`` query parameter: a session token is never stored as a page.

    The participant's first page is their link (``...?uxlab=TOKEN``); kept as
    it came, the token would reach observers, exports and reports, and anyone
    holding it could write events as that participant.
    """
    if url is None or TOKEN_MARK not in url:
        return url
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != TOKEN_PARAM]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _page(ev: dict[str, Any], w: int | str, opts: Options) -> Row:
    timing = ev.get("timing")
    if timing is not None:
        if type(timing) is not dict or len(timing) > 16:
            raise BadInput(f"{_at(w)}.timing: must be an object of at most 16 numbers")
        for key, value in timing.items():
            if type(value) not in (int, float) or not math.isfinite(value) or len(key) > 32:
                raise BadInput(f"{_at(w)}.timing.{key[:32]}: must be a number")
    data = _data({"timing": timing, "spa": True if ev.get("spa") is True else None})
    return (
        without_token(_str(ev, "url", w, MAX_URL_LEN, True)), None, _str(ev, "title", w, MAX_LABEL_LEN), None,
        None, None, None,
        _num(ev, "w", w, 0, COORD), _num(ev, "h", w, 0, COORD), None, data,
    )  # fmt: skip


def _flag(ev: dict[str, Any], key: str, w: int | str) -> bool:
    """An optional ``true`` (absent, null and false are false)."""
    value = ev.get(key)
    if value is not None and type(value) is not bool:
        raise BadInput(f"{_at(w)}.{key}: must be true or false")
    return value is True


def _click(ev: dict[str, Any], w: int | str, opts: Options) -> Row:
    interactive = ev.get("interactive")
    if type(interactive) is not bool:
        raise BadInput(f"{_at(w)}.interactive: must be true or false")
    synthetic = SYNTHETIC_CLICK_KIND if _flag(ev, "synthetic", w) else None
    data = _data({
        "tag": _str(ev, "tag", w, 32),
        "vx": _num(ev, "vx", w, -COORD, COORD),
        "vy": _num(ev, "vy", w, -COORD, COORD),
    })  # fmt: skip
    return (
        None, _str(ev, "sel", w, MAX_SELECTOR_LEN), _str(ev, "label", w, MAX_LABEL_LEN), None,
        None, synthetic, int(interactive),
        _num(ev, "x", w, -COORD, COORD, True), _num(ev, "y", w, -COORD, COORD, True), None, data,
    )  # fmt: skip


def _input(ev: dict[str, Any], w: int | str, opts: Options) -> Row:
    value = _str(ev, "value", w, MAX_TEXT_LEN)
    # Values are stored only where the study opted in; otherwise dropped here.
    data = _data({"kind": _str(ev, "kind", w, 32), "value": value if opts.capture_values else None})
    return (
        None, _str(ev, "sel", w, MAX_SELECTOR_LEN), None, None, None, None, None, None, None,
        _int(ev, "len", w, 0, 10_000_000), data,
    )  # fmt: skip


def _submit(ev: dict[str, Any], w: int | str, opts: Options) -> Row:
    return (
        None,
        _str(ev, "sel", w, MAX_SELECTOR_LEN),
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
    )


def _invalid(ev: dict[str, Any], w: int | str, opts: Options) -> Row:
    # The validity kind only: a browser's validation message quotes what was typed
    # ("'.' is used at a wrong position in 'jane..com'"), so any ``msg`` is dropped
    # whatever ``capture_input_values`` says (old snippets still send one).
    data = _data({"kind": _str(ev, "kind", w, 32)})
    return (
        None, _str(ev, "sel", w, MAX_SELECTOR_LEN), None, None,
        None, None, None, None, None, None, data,
    )  # fmt: skip


def _scroll(ev: dict[str, Any], w: int | str, opts: Options) -> Row:
    depth = _num(ev, "depth", w, 0, 100, True)
    return (None, None, None, None, None, None, None, None, None, depth, None)


def _visibility(ev: dict[str, Any], w: int | str, opts: Options) -> Row:
    state = _code(ev, "state", w, VISIBILITY_STATES)
    return (None, None, None, None, None, state, None, None, None, None, None)


def _error(ev: dict[str, Any], w: int | str, opts: Options) -> Row:
    data = _data({"line": _int(ev, "line", w, 0, MAX_SEQ), "col": _int(ev, "col", w, 0, MAX_SEQ)})
    return (
        without_token(_str(ev, "src", w, MAX_URL_LEN)), None, _str(ev, "msg", w, MAX_LABEL_LEN * 4, True), None,
        None, None, None, None, None, None, data,
    )  # fmt: skip


def _resize(ev: dict[str, Any], w: int | str, opts: Options) -> Row:
    return (
        None, None, None, None, None, None, None,
        _num(ev, "w", w, 0, COORD, True), _num(ev, "h", w, 0, COORD, True), None, None,
    )  # fmt: skip


def _custom(ev: dict[str, Any], w: int | str, opts: Options) -> Row:
    name = _str(ev, "name", w, 128, True)
    data = None
    if ev.get("data") is not None:
        try:
            data = orjson.dumps({"data": ev["data"]}).decode()
        except orjson.JSONEncodeError:  # nested deeper than orjson writes (254 levels)
            raise BadInput(f"{_at(w)}.data: nested too deeply") from None
        if len(data) > MAX_CUSTOM_DATA_BYTES:
            raise BadInput(f"{_at(w)}.data: larger than {MAX_CUSTOM_DATA_BYTES} bytes")
    return (None, None, name, None, None, None, None, None, None, None, data)


def _reaction(ev: dict[str, Any], w: int | str, opts: Options) -> Row:
    kind = _code(ev, "kind", w, REACTION_KINDS)
    return (None, None, None, None, None, kind, None, None, None, None, None)


def _in_frame(row: Row, frame: str, code: int) -> Row:
    """An event sent from inside a child frame: the frame's URL is the event's page.

    A page event keeps its URL and is marked a frame page (``kind``); other events
    take the frame's URL as their page where they have none (an error keeps its
    source), and every event keeps ``frame`` in its data.
    """
    url, sel, label, task, outcome, kind, interactive, x, y, value, data = row
    doc = orjson.loads(data) if data else {}
    doc["frame"] = frame
    if code == PAGE:
        kind = FRAME_PAGE_KIND
    elif url is None:
        url = frame
    return (
        url,
        sel,
        label,
        task,
        outcome,
        kind,
        interactive,
        x,
        y,
        value,
        orjson.dumps(doc).decode(),
    )


def _task(ev: dict[str, Any], w: int | str, opts: Options, required: bool = True) -> str | None:
    task = _str(ev, "task", w, MAX_ID_LEN, required)
    if task is not None and task not in opts.tasks:
        raise BadInput(f"{_at(w)}.task: no task {task!r} in this study")
    return task


def _task_start(ev: dict[str, Any], w: int | str, opts: Options) -> Row:
    return (None, None, None, _task(ev, w, opts), None, None, None, None, None, None, None)


def _task_end(ev: dict[str, Any], w: int | str, opts: Options) -> Row:
    task, outcome = _task(ev, w, opts), _code(ev, "outcome", w, OUTCOMES)
    return (None, None, None, task, outcome, None, None, None, None, None, None)


def _marker(ev: dict[str, Any], w: int | str, opts: Options) -> Row:
    kind = _code(ev, "kind", w, MARKER_KINDS)
    text = _str(ev, "text", w, MAX_TEXT_LEN)
    return (
        None,
        None,
        text or None,
        _task(ev, w, opts, False),
        None,
        kind,
        None,
        None,
        None,
        None,
        None,
    )


def _marker_text(ev: dict[str, Any], w: int | str, opts: Options) -> Row:
    """``{"marker": {"page", "seq"}, "text"}``: the text of the marker with that identity.

    An edit is an event of its own (its own page load and seq), so it is resent
    and deduplicated like any other; the latest edit of a marker wins. No text
    (or ``""``) clears the marker's text.
    """
    ref = ev.get("marker")
    if type(ref) is not dict:
        raise BadInput(f"{_at(w)}.marker: must be {{page, seq}} of the marker")
    page = _str(ref, "page", f"{_at(w)}.marker", MAX_ID_LEN, True)
    seq = _int(ref, "seq", f"{_at(w)}.marker", 0, MAX_SEQ, True)
    data = orjson.dumps({"marker": {"page": page, "seq": seq}}).decode()
    text = _str(ev, "text", w, MAX_TEXT_LEN)
    return (None, None, text or None, None, None, None, None, None, None, None, data)


# item -> (needs a task, number of values, lowest, highest)
RATING_SCALES = {
    "SEQ": (True, 1, 1, 7),
    "SUS": (False, 10, 1, 5),
    "UMUX-Lite": (False, 2, 1, 7),
    "NPS": (False, 1, 0, 10),
}


def _rating(ev: dict[str, Any], w: int | str, opts: Options) -> Row:
    item = ev.get("item")
    kind = _code(ev, "item", w, RATING_ITEMS)
    needs_task, count, lo, hi = RATING_SCALES[item]  # type: ignore[index]
    task = _task(ev, w, opts, needs_task)
    if count == 1:
        value = _int(ev, "value", w, lo, hi, True)
        data = None
    else:
        values = ev.get("values")
        if type(values) is not list or len(values) != count:
            raise BadInput(f"{_at(w)}.values: {item} needs a list of {count} answers")
        for i, answer in enumerate(values):
            if type(answer) is not int or not lo <= answer <= hi:
                raise BadInput(f"{_at(w)}.values[{i}]: must be an integer {lo}..{hi}")
        value, data = None, orjson.dumps({"values": values}).decode()
    return (None, None, None, task, None, kind, None, None, None, value, data)


@dataclass(slots=True, frozen=True)
class Options:
    """What a batch may contain: which types, which tasks, whether values are kept."""

    types: dict[str, int]
    tasks: frozenset[str] = frozenset()
    capture_values: bool = False


PARSERS: dict[int, Callable[[dict[str, Any], int | str, Options], Row]] = {
    PAGE: _page, CLICK: _click, INPUT: _input, SUBMIT: _submit, INVALID: _invalid,
    SCROLL: _scroll, VISIBILITY: _visibility, ERROR: _error, RESIZE: _resize, CUSTOM: _custom,
    REACTION: _reaction, TASK_START: _task_start, TASK_END: _task_end, MARKER: _marker, RATING: _rating,
    MARKER_TEXT: _marker_text,
}  # fmt: skip


def batch_header(
    doc: dict[str, Any], needs_session: bool
) -> tuple[str | None, str, float, list[Any]]:
    """Check a batch's envelope: ``(session, page, sent, events)``."""
    if type(doc.get("v")) is not int or doc.get("v") != WIRE_VERSION:
        raise BadInput(f"v: must be {WIRE_VERSION}")
    session = _str(doc, "session", "batch", MAX_ID_LEN, needs_session) if needs_session else None
    if needs_session and not session:
        raise BadInput("session: required")
    page = _str(doc, "page", "batch", MAX_ID_LEN, True)
    if not page:
        raise BadInput("page: required")
    sent = _num(doc, "sent", "batch", MIN_T, MAX_T, True)
    events = doc.get("events")
    if type(events) is not list or not events:
        raise BadInput("events: must be a non-empty list")
    if len(events) > MAX_EVENTS_PER_BATCH:
        raise BadInput(f"events: more than {MAX_EVENTS_PER_BATCH} in one batch")
    return session, page, sent, events  # type: ignore[return-value]


def validate_events(events: list[Any], opts: Options) -> list[Row]:
    """Validate every event of a batch; the first bad one raises :class:`BadInput`."""
    rows: list[Row] = []
    seen: set[int] = set()
    types = opts.types
    for i, ev in enumerate(events):
        w = i
        if type(ev) is not dict:
            raise BadInput(f"{_at(w)}: must be an object")
        kind = ev.get("type")
        code = types.get(kind) if type(kind) is str else None
        if code is None:
            raise BadInput(f"{_at(w)}.type: must be one of {', '.join(types)}")
        seq = ev.get("seq")
        if type(seq) is not int or not 0 <= seq <= MAX_SEQ:
            raise BadInput(f"{_at(w)}.seq: must be an integer 0..{MAX_SEQ}")
        if seq in seen:
            raise BadInput(f"{_at(w)}.seq: {seq} repeated in this batch")
        seen.add(seq)
        t: Any = ev.get("t")
        if type(t) not in (int, float) or not MIN_T <= t <= MAX_T:
            raise BadInput(f"{_at(w)}.t: must be epoch milliseconds")
        row = PARSERS[code](ev, w, opts)
        if ev.get("frame") is not None and code < TASK_START:
            frame = _str(ev, "frame", w, MAX_URL_LEN)
            if not frame:
                raise BadInput(f"{_at(w)}.frame: must be the frame's URL")
            row = _in_frame(row, without_token(frame) or frame, code)
        rows.append((seq, float(t), code, *row))
    return rows
