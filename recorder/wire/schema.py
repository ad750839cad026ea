"""Wire format version 1: event-type codes and batch validation.

This module validates what the snippet and the console send and nothing else.
A valid batch becomes a :class:`Batch` of plain row tuples whose strings the
store interns; nothing here touches SQLite or HTTP.

The integer codes below are stored in the ``events`` table and read by the
analyzer, so they never change meaning: new types get new codes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import reduce
from operator import attrgetter, or_
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import msgspec
import orjson
from msgspec import Meta

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
    """The fields that are not None, as JSON text (None when there are none)."""
    for value in fields.values():
        if value is None:  # rarer than not, on the hot path: filter only then
            kept = {k: v for k, v in fields.items() if v is not None}
            return orjson.dumps(kept).decode() if kept else None
    return orjson.dumps(fields).decode() if fields else None


COORD = 1e7  # pixels: generous, but finite


TOKEN_PARAM = "uxlab"  # the participant's link carries the session token in this query parameter
TOKEN_MARK = f"{TOKEN_PARAM}="
_TOKEN_TEXT = re.compile("(?<=[?&])" + re.escape(TOKEN_MARK) + "[^&#]*")


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
    try:
        parts = urlsplit(url)
    except ValueError:  # no URL urlsplit reads (an unclosed "[" host): the token cut out as text
        return _TOKEN_TEXT.sub("", url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != TOKEN_PARAM]
    return urlunsplit(parts._replace(query=urlencode(query)))


# -- the snippet's events: declared once, checked two ways ------------------------------------
#
# Each participant event type declares its fields (:data:`FIELDS`) and builds its row from
# their values (:data:`BUILDERS`). The declaration is checked two ways from that one
# source: field by field in Python (:func:`validate_events`, which names the first bad field),
# and by a msgspec decoder made from the same declarations (:func:`decode_batch`), which
# checks a whole batch while parsing it, in C (18 us for 50 events, where orjson and the
# field-by-field check take 126 us; the rows are then built by the same functions, 50 us).
# The decoder only ever says yes or "ask the field-by-field check": whatever it refuses, or
# cannot take (custom events, moderator events, repeated seq), goes the Python way, which
# decides and words the error. ``tests/test_wire_decoder.py`` checks on generated batches
# that what the decoder takes gives the very rows the Python check gives.

STR, NUM, INT, BOOL, FLAG, CODE, TIMING, ANY = range(8)


@dataclass(frozen=True, slots=True)
class Field:
    """One field of an event: its check (``STR`` to ``ANY``) and that check's bounds."""

    name: str
    check: int
    lo: float = 0
    hi: float = 0  # a string's longest length; a number's highest value
    required: bool = False
    codes: dict[str, int] | None = None


def _s(name: str, limit: int, required: bool = False) -> Field:
    return Field(name, STR, hi=limit, required=required)


def _n(name: str, lo: float, hi: float, required: bool = False) -> Field:
    return Field(name, NUM, lo, hi, required)


def _i(name: str, lo: int, hi: int, required: bool = False) -> Field:
    return Field(name, INT, lo, hi, required)


MAX_TIMINGS, MAX_TIMING_NAME = 16, 32

# type -> its fields, in the order they are checked (the first bad one is reported).
FIELDS: dict[int, tuple[Field, ...]] = {
    PAGE: (Field("timing", TIMING), Field("spa", ANY), _s("url", MAX_URL_LEN, True),
           _s("title", MAX_LABEL_LEN), _n("w", 0, COORD), _n("h", 0, COORD)),
    CLICK: (Field("interactive", BOOL, required=True), Field("synthetic", FLAG), _s("tag", 32),
            _n("vx", -COORD, COORD), _n("vy", -COORD, COORD), _s("sel", MAX_SELECTOR_LEN),
            _s("label", MAX_LABEL_LEN), _n("x", -COORD, COORD, True), _n("y", -COORD, COORD, True)),
    INPUT: (_s("value", MAX_TEXT_LEN), _s("kind", 32), _s("sel", MAX_SELECTOR_LEN),
            _i("len", 0, 10_000_000)),
    SUBMIT: (_s("sel", MAX_SELECTOR_LEN),),
    INVALID: (_s("kind", 32), _s("sel", MAX_SELECTOR_LEN)),
    SCROLL: (_n("depth", 0, 100, True),),
    VISIBILITY: (Field("state", CODE, required=True, codes=VISIBILITY_STATES),),
    ERROR: (_i("line", 0, MAX_SEQ), _i("col", 0, MAX_SEQ), _s("src", MAX_URL_LEN),
            _s("msg", MAX_LABEL_LEN * 4, True)),
    RESIZE: (_n("w", 0, COORD, True), _n("h", 0, COORD, True)),
    REACTION: (Field("kind", CODE, required=True, codes=REACTION_KINDS),),
}  # fmt: skip


def _field_values(ev: dict[str, Any], w: int | str, fields: tuple[Field, ...]) -> list[Any]:
    """The fields' values, each checked; the first bad one raises :class:`BadInput`."""
    values: list[Any] = []
    for f in fields:
        check, name = f.check, f.name
        if check == STR:
            values.append(_str(ev, name, w, int(f.hi), f.required))
        elif check == NUM:
            values.append(_num(ev, name, w, f.lo, f.hi, f.required))
        elif check == INT:
            values.append(_int(ev, name, w, int(f.lo), int(f.hi), f.required))
        elif check == BOOL:
            if type(ev.get(name)) is not bool:
                raise BadInput(f"{_at(w)}.{name}: must be true or false")
            values.append(ev[name])
        elif check == FLAG:
            value = ev.get(name)
            if value is not None and type(value) is not bool:
                raise BadInput(f"{_at(w)}.{name}: must be true or false")
            values.append(value)
        elif check == CODE:
            assert f.codes is not None
            _code(ev, name, w, f.codes, f.required)
            values.append(ev.get(name))  # the word: the row builder codes it
        elif check == TIMING:
            values.append(_timing(ev, w))
        else:  # ANY: read as it came (a page's ``spa`` counts only when it is true)
            values.append(ev.get(name))
    return values


def _timing(ev: dict[str, Any], w: int | str) -> dict[str, Any] | None:
    timing = ev.get("timing")
    if timing is not None:
        if type(timing) is not dict or len(timing) > MAX_TIMINGS:
            raise BadInput(f"{_at(w)}.timing: must be an object of at most {MAX_TIMINGS} numbers")
        for key, value in timing.items():
            if (type(value) not in (int, float) or not math.isfinite(value)
                    or len(key) > MAX_TIMING_NAME):  # fmt: skip
                raise BadInput(f"{_at(w)}.timing.{key[:MAX_TIMING_NAME]}: must be a number")
    return timing


# The rows, from the fields' values in FIELDS' order; the same whichever way they were checked.


def _page_row(opts: Options, timing: Any, spa: Any, url: str, title: Any, w: Any, h: Any) -> Row:
    data = _data({"timing": timing, "spa": True if spa is True else None})
    return (without_token(url), None, title, None, None, None, None, w, h, None, data)


def _click_row(opts: Options, interactive: bool, synthetic: Any, tag: Any, vx: Any, vy: Any,
               sel: Any, label: Any, x: Any, y: Any) -> Row:  # fmt: skip
    data = _data({"tag": tag, "vx": vx, "vy": vy})
    kind = SYNTHETIC_CLICK_KIND if synthetic is True else None
    return (None, sel, label, None, None, kind, int(interactive), x, y, None, data)


def _input_row(opts: Options, value: Any, kind: Any, sel: Any, length: Any) -> Row:
    # Values are stored only where the study opted in; otherwise dropped here.
    data = _data({"kind": kind, "value": value if opts.capture_values else None})
    return (None, sel, None, None, None, None, None, None, None, length, data)


def _submit_row(opts: Options, sel: Any) -> Row:
    return (None, sel, None, None, None, None, None, None, None, None, None)


def _invalid_row(opts: Options, kind: Any, sel: Any) -> Row:
    # The validity kind only: a browser's validation message quotes what was typed
    # ("'.' is used at a wrong position in 'jane..com'"), so any ``msg`` is dropped
    # whatever ``capture_input_values`` says (old snippets still send one).
    data = _data({"kind": kind})
    return (None, sel, None, None, None, None, None, None, None, None, data)


def _scroll_row(opts: Options, depth: Any) -> Row:
    return (None, None, None, None, None, None, None, None, None, depth, None)


def _visibility_row(opts: Options, state: str) -> Row:
    return (None, None, None, None, None, VISIBILITY_STATES[state], None, None, None, None, None)


def _error_row(opts: Options, line: Any, col: Any, src: Any, msg: str) -> Row:
    data = _data({"line": line, "col": col})
    return (without_token(src), None, msg, None, None, None, None, None, None, None, data)


def _resize_row(opts: Options, w: Any, h: Any) -> Row:
    return (None, None, None, None, None, None, None, w, h, None, None)


def _reaction_row(opts: Options, kind: str) -> Row:
    return (None, None, None, None, None, REACTION_KINDS[kind], None, None, None, None, None)


BUILDERS: dict[int, Callable[..., Row]] = {
    PAGE: _page_row, CLICK: _click_row, INPUT: _input_row, SUBMIT: _submit_row,
    INVALID: _invalid_row, SCROLL: _scroll_row, VISIBILITY: _visibility_row, ERROR: _error_row,
    RESIZE: _resize_row, REACTION: _reaction_row,
}  # fmt: skip


def _declared(code: int) -> Callable[[dict[str, Any], int | str, Options], Row]:
    fields, build = FIELDS[code], BUILDERS[code]

    def parse(ev: dict[str, Any], w: int | str, opts: Options) -> Row:
        return build(opts, *_field_values(ev, w, fields))

    return parse


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
    **{code: _declared(code) for code in FIELDS},
    CUSTOM: _custom, TASK_START: _task_start, TASK_END: _task_end, MARKER: _marker,
    RATING: _rating, MARKER_TEXT: _marker_text,
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


# -- the declarations as one msgspec decoder ---------------------------------------------------


def _wire_type(f: Field) -> Any:
    """The msgspec type that takes exactly the values :func:`_field_values` takes (or fewer)."""
    if f.check == STR:
        return Annotated[str, Meta(max_length=int(f.hi))]
    if f.check == NUM:
        assert f.lo == int(f.lo) and f.hi == int(f.hi), "integer bounds: the same for ints"
        return (Annotated[int, Meta(ge=int(f.lo), le=int(f.hi))]
                | Annotated[float, Meta(ge=f.lo, le=f.hi)])  # fmt: skip
    if f.check == INT:
        return Annotated[int, Meta(ge=int(f.lo), le=int(f.hi))]
    if f.check in (BOOL, FLAG):
        return bool
    if f.check == CODE:
        assert f.codes is not None
        return Literal[tuple(f.codes)]
    if f.check == ANY:
        return bool  # the decoder takes only true or false: any other value is read field by field
    if f.check == TIMING:
        # orjson reads integers beyond 64 bits as floats, msgspec as integers: those (and
        # unsigned ones beyond int64, which msgspec cannot bound) are refused here and so left
        # to the field-by-field check, which reads them as orjson does.
        number = Annotated[int, Meta(ge=-(2**63), le=2**63 - 1)] | float
        key = Annotated[str, Meta(max_length=MAX_TIMING_NAME)]
        return Annotated[dict[key, number], Meta(max_length=MAX_TIMINGS)]
    raise AssertionError(f"no wire type for {f}")


def _wire_field(f: Field) -> tuple[str, Any, Any]:
    kind = _wire_type(f)
    if f.required:
        return (f.name, kind, msgspec.NODEFAULT)
    return (f.name, kind | None, None)


# What every event has (checked by validate_events itself, with its own words).
_COMMON = (_i("seq", 0, MAX_SEQ, True), _n("t", MIN_T, MAX_T, True), _s("frame", MAX_URL_LEN))
_ID = Annotated[str, Meta(min_length=1, max_length=MAX_ID_LEN)]
_WIRE_EVENTS = {
    code: msgspec.defstruct(
        f"Wire{EVENT_TYPE_NAMES[code].title()}",
        [_wire_field(f) for f in (*_COMMON, *fields)],
        tag_field="type", tag=EVENT_TYPE_NAMES[code], kw_only=True, gc=False,
        forbid_unknown_fields=True,
    )
    for code, fields in FIELDS.items()
}  # fmt: skip
_WIRE_BATCH = msgspec.defstruct(
    "WireBatch",
    [("v", Literal[WIRE_VERSION]), ("session", _ID), ("page", _ID),
     _wire_field(_n("sent", MIN_T, MAX_T, True)),
     ("events", Annotated[list[reduce(or_, _WIRE_EVENTS.values())],  # type: ignore[misc]
                          Meta(min_length=1, max_length=MAX_EVENTS_PER_BATCH)])],
    kw_only=True, gc=False, forbid_unknown_fields=True,
)  # fmt: skip
_DECODER = msgspec.json.Decoder(_WIRE_BATCH)

# Where msgspec reads JSON otherwise than orjson (found by review), the decoder steps aside:
# - a body that is not ASCII is checked to be strict UTF-8 first (msgspec does not check the
#   strings it skips; orjson refuses invalid UTF-8 anywhere);
# - no field is skipped or read as any value (``forbid_unknown_fields``, ``spa`` only a
#   boolean), so every number is read into a typed field, where an infinite one is refused,
#   and nothing nested is read deeply (a RecursionError is caught all the same);
# - no number is longer than 23 characters: orjson rounds decimals of more than 768 digits
#   otherwise than msgspec, and reads integers beyond 64 bits as floats. A run of 24 of the
#   characters numbers are written with, anywhere in the body, sends it field by field.
_NUMBER_CHARS = bytes(1 if chr(i) in "0123456789.eE+-" else 0 for i in range(256))
_LONG_NUMBER = b"\x01" * 24


def _getter(names: list[str]) -> Callable[[Any], tuple[Any, ...]]:
    if len(names) == 1:
        name = names[0]
        return lambda ev: (getattr(ev, name),)
    return attrgetter(*names)


# The decoder's struct type -> (type code, its fields' values in FIELDS' order, row builder).
_DECODED = {
    struct: (code, _getter([f.name for f in FIELDS[code]]), BUILDERS[code])
    for code, struct in _WIRE_EVENTS.items()
}


def decode_batch(body: bytes) -> tuple[str, str, float, list[Any]] | None:
    """A snippet's batch parsed and checked in one pass: ``(session, page, sent, events)``.

    None where the decoder does not take it: then :func:`parse_body`,
    :func:`batch_header` and :func:`validate_events` decide, and word any error.
    """
    if not body.isascii():
        try:
            body.decode()
        except UnicodeDecodeError:
            return None
    if _LONG_NUMBER in body.translate(_NUMBER_CHARS):
        return None
    try:
        batch: Any = _DECODER.decode(body)
    except (msgspec.MsgspecError, RecursionError):  # not valid, or valid only in ways left alone
        return None
    return batch.session, batch.page, batch.sent, batch.events


def decoded_rows(events: list[Any], opts: Options) -> list[Row] | None:
    """The rows of :func:`decode_batch`'s events, as :func:`validate_events` would give
    them; None where it must decide (a repeated seq, an empty frame, not the snippet's types)."""
    if opts.types != PARTICIPANT_TYPES:
        return None
    rows: list[Row] = []
    seen: set[int] = set()
    for ev in events:
        code, values, build = _DECODED[type(ev)]
        seq = ev.seq
        if seq in seen:
            return None
        seen.add(seq)
        row = build(opts, *values(ev))
        frame = ev.frame
        if frame is not None:
            if not frame:
                return None
            row = _in_frame(row, without_token(frame) or frame, code)
        rows.append((seq, float(ev.t), code, *row))
    return rows
