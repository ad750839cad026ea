"""The wire format's validation (recorder/wire/schema.py): what is kept, what is refused, and why.

Each event type is sent with its fields and read back as the row the store
would keep; each refusal names the field a client got wrong (the collector
returns the message as its 400's ``error``). docs/wire-format.md is the
reference these cases follow.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from recorder.wire import schema
from recorder.wire.schema import BadInput, Options

T = 1_764_000_000_000.0
OPTS = Options(types=schema.EVENT_TYPES, tasks=frozenset({"buy"}))
# The row's positions, as Batch's docstring names them.
FIELDS = ("seq", "t", "type", "page", "target", "label", "task", "outcome", "kind", "interactive",
          "x", "y", "value", "data")  # fmt: skip


def stored(event: dict[str, Any], opts: Options = OPTS) -> dict[str, Any]:
    """One event, validated: the fields the store keeps (None left out, data parsed)."""
    (row,) = schema.validate_events([{"seq": 0, "t": T, **event}], opts)
    kept = {k: v for k, v in zip(FIELDS, row, strict=True) if v is not None}
    if "data" in kept:
        kept["data"] = json.loads(kept["data"])
    return kept


def refused(event: dict[str, Any], opts: Options = OPTS) -> str:
    with pytest.raises(BadInput) as err:
        schema.validate_events([{"seq": 0, "t": T, **event}], opts)
    return str(err.value)


BASE = {"seq": 0, "t": T}


@pytest.mark.parametrize(("event", "kept"), [
    ({"type": "page", "url": "http://proto.test/A/?uxlab=tok&q=1", "title": "Shop", "w": 1280, "h": 800,
      "timing": {"ttfb": 40, "load": 300.5}, "spa": True},
     {"type": schema.PAGE, "page": "http://proto.test/A/?q=1", "label": "Shop", "x": 1280, "y": 800,
      "data": {"timing": {"ttfb": 40, "load": 300.5}, "spa": True}}),
    ({"type": "page", "url": "http://proto.test/A/", "spa": "yes"},  # only true marks a route change
     {"type": schema.PAGE, "page": "http://proto.test/A/"}),
    ({"type": "click", "x": 10, "y": 20.5, "vx": 5, "vy": -3, "sel": "a#buy", "tag": "a", "label": "Buy",
      "interactive": True},
     {"type": schema.CLICK, "target": "a#buy", "label": "Buy", "interactive": 1, "x": 10, "y": 20.5,
      "data": {"tag": "a", "vx": 5, "vy": -3}}),
    ({"type": "click", "x": 0, "y": 0, "interactive": False},
     {"type": schema.CLICK, "interactive": 0, "x": 0, "y": 0}),
    ({"type": "input", "sel": "#email", "kind": "email", "len": 12, "value": "me@example.org"},
     {"type": schema.INPUT, "target": "#email", "value": 12, "data": {"kind": "email"}}),  # value dropped
    ({"type": "submit", "sel": "form#pay"}, {"type": schema.SUBMIT, "target": "form#pay"}),
    ({"type": "scroll", "depth": 55.5}, {"type": schema.SCROLL, "value": 55.5}),
    ({"type": "visibility", "state": "hidden"}, {"type": schema.VISIBILITY, "kind": 0}),
    ({"type": "visibility", "state": "visible"}, {"type": schema.VISIBILITY, "kind": 1}),
    ({"type": "error", "msg": "TypeError: x", "src": "http://proto.test/app.js?uxlab=tok", "line": 3, "col": 7},
     {"type": schema.ERROR, "page": "http://proto.test/app.js", "label": "TypeError: x",
      "data": {"line": 3, "col": 7}}),
    ({"type": "resize", "w": 390, "h": 844}, {"type": schema.RESIZE, "x": 390, "y": 844}),
    ({"type": "custom", "name": "subscribed", "data": {"plan": "pro"}},
     {"type": schema.CUSTOM, "label": "subscribed", "data": {"data": {"plan": "pro"}}}),
    ({"type": "task_start", "task": "buy"}, {"type": schema.TASK_START, "task": "buy"}),
    ({"type": "task_end", "task": "buy", "outcome": "abandoned"},
     {"type": schema.TASK_END, "task": "buy", "outcome": schema.OUTCOMES["abandoned"]}),
    ({"type": "marker", "kind": "critical", "text": "froze"},
     {"type": schema.MARKER, "label": "froze", "kind": schema.MARKER_KINDS["critical"]}),
    ({"type": "marker", "kind": "note", "text": "", "task": "buy"},  # an empty note is no text
     {"type": schema.MARKER, "task": "buy", "kind": schema.MARKER_KINDS["note"]}),
    ({"type": "rating", "item": "SEQ", "task": "buy", "value": 7},
     {"type": schema.RATING, "task": "buy", "kind": schema.RATING_ITEMS["SEQ"], "value": 7}),
    ({"type": "rating", "item": "SUS", "values": [5, 1] * 5},
     {"type": schema.RATING, "kind": schema.RATING_ITEMS["SUS"], "data": {"values": [5, 1] * 5}}),
    ({"type": "rating", "item": "UMUX-Lite", "values": [7, 1]},
     {"type": schema.RATING, "kind": schema.RATING_ITEMS["UMUX-Lite"], "data": {"values": [7, 1]}}),
    ({"type": "rating", "item": "NPS", "value": 0},
     {"type": schema.RATING, "kind": schema.RATING_ITEMS["NPS"], "value": 0}),
])  # fmt: skip
def test_each_event_type_keeps_its_fields(event: dict[str, Any], kept: dict[str, Any]) -> None:
    assert stored(event) == {"seq": 0, "t": T, **kept}


def test_typed_values_are_kept_only_where_the_study_opted_in() -> None:
    typed = {"type": "input", "sel": "#q", "len": 5, "value": "shoes"}
    assert "value" not in stored(typed).get("data", {})
    opted = Options(types=schema.EVENT_TYPES, capture_values=True)
    assert stored(typed, opted)["data"] == {"value": "shoes"}


LONG = "x" * 5000


@pytest.mark.parametrize(("event", "message"), [
    ("not an object", "events[0]: must be an object"),
    ({"type": "hover"}, "events[0].type: must be one of page, click"),
    ({"type": ["page"]}, "events[0].type: must be one of"),
    ({"type": "page", "url": "/", "seq": -1}, "events[0].seq: must be an integer 0..2147483647"),
    ({"type": "page", "url": "/", "seq": 2**31}, "events[0].seq: must be an integer"),
    ({"type": "page", "url": "/", "seq": 1.0}, "events[0].seq: must be an integer"),
    ({"type": "page", "url": "/", "t": 0}, "events[0].t: must be epoch milliseconds"),
    ({"type": "page", "url": "/", "t": "now"}, "events[0].t: must be epoch milliseconds"),
    ({"type": "page"}, "events[0].url: required"),
    ({"type": "page", "url": 7}, "events[0].url: must be a string"),
    ({"type": "page", "url": "/" + "a" * 2048}, "events[0].url: longer than 2048 characters"),
    ({"type": "page", "url": "/", "w": -1}, "events[0].w: out of range 0..1e+07"),
    ({"type": "page", "url": "/", "timing": [1]}, "events[0].timing: must be an object of at most 16 numbers"),
    ({"type": "page", "url": "/", "timing": {f"k{i}": 1 for i in range(17)}}, "events[0].timing: must be an object of at most 16"),
    ({"type": "page", "url": "/", "timing": {"load": "fast"}}, "events[0].timing.load: must be a number"),
    ({"type": "click", "x": 1, "y": 1}, "events[0].interactive: must be true or false"),
    ({"type": "click", "x": 1, "y": 1, "interactive": 1}, "events[0].interactive: must be true or false"),
    ({"type": "click", "y": 1, "interactive": True}, "events[0].x: required"),
    ({"type": "click", "x": "1", "y": 1, "interactive": True}, "events[0].x: must be a number"),
    ({"type": "click", "x": 1e8, "y": 1, "interactive": True}, "events[0].x: out of range"),
    ({"type": "click", "x": 1, "y": 1, "interactive": True, "sel": "a" * 513},
     "events[0].sel: longer than 512 characters"),
    ({"type": "click", "x": 1, "y": 1, "interactive": True, "label": "a" * 257},
     "events[0].label: longer than 256 characters"),
    ({"type": "input", "len": -1}, "events[0].len: out of range 0..10000000"),
    ({"type": "input", "len": 2.5}, "events[0].len: must be an integer"),
    ({"type": "input", "value": LONG}, "events[0].value: longer than 4000 characters"),
    ({"type": "scroll"}, "events[0].depth: required"),
    ({"type": "scroll", "depth": 101}, "events[0].depth: out of range 0..100"),
    ({"type": "visibility", "state": "gone"}, "events[0].state: must be one of hidden, visible"),
    ({"type": "error"}, "events[0].msg: required"),
    ({"type": "error", "msg": "e" * 1025}, "events[0].msg: longer than 1024 characters"),
    ({"type": "resize", "w": 1}, "events[0].h: required"),
    ({"type": "custom"}, "events[0].name: required"),
    ({"type": "custom", "name": "big", "data": LONG}, "events[0].data: larger than 4096 bytes"),
    ({"type": "task_start"}, "events[0].task: required"),
    ({"type": "task_start", "task": "nope"}, "events[0].task: no task 'nope' in this study"),
    ({"type": "task_end", "task": "buy", "outcome": "won"},
     "events[0].outcome: must be one of success, failure, abandoned, skipped"),
    ({"type": "task_end", "task": "buy"}, "events[0].outcome: must be one of"),
    ({"type": "marker", "text": "x"}, "events[0].kind: must be one of error, note, assist, critical"),
    ({"type": "marker", "kind": "note", "task": "nope"}, "events[0].task: no task 'nope'"),
    ({"type": "rating", "item": "CSAT", "value": 3}, "events[0].item: must be one of SEQ, SUS, UMUX-Lite, NPS"),
    ({"type": "rating", "item": "SEQ", "value": 5}, "events[0].task: required"),
    ({"type": "rating", "item": "SEQ", "task": "buy", "value": 8}, "events[0].value: out of range 1..7"),
    ({"type": "rating", "item": "SEQ", "task": "buy", "value": True}, "events[0].value: must be an integer"),
    ({"type": "rating", "item": "NPS", "value": 11}, "events[0].value: out of range 0..10"),
    ({"type": "rating", "item": "SUS", "values": [3] * 9}, "events[0].values: SUS needs a list of 10 answers"),
    ({"type": "rating", "item": "SUS", "values": [3, 3, 3, 6, 3, 3, 3, 3, 3, 3]},
     "events[0].values[3]: must be an integer 1..5"),
    ({"type": "rating", "item": "UMUX-Lite", "values": "77"}, "events[0].values: UMUX-Lite needs a list of 2"),
])  # fmt: skip
def test_a_bad_event_is_refused_naming_its_field(event: Any, message: str) -> None:
    if isinstance(event, dict):
        event = {**BASE, **event}
    with pytest.raises(BadInput) as err:
        schema.validate_events([event], OPTS)
    assert str(err.value).startswith(message)


def test_the_first_bad_event_is_named_by_its_position() -> None:
    events = [
        {**BASE, "type": "scroll", "depth": 1},
        {"seq": 1, "t": T, "type": "scroll", "depth": 200},
    ]
    with pytest.raises(BadInput, match=r"^events\[1\]\.depth"):
        schema.validate_events(events, OPTS)
    with pytest.raises(BadInput, match=r"^events\[1\]\.seq: 0 repeated in this batch"):
        schema.validate_events([events[0], {**events[0]}], OPTS)


def test_a_participant_cannot_send_the_moderators_events() -> None:
    participant = Options(types=schema.PARTICIPANT_TYPES, tasks=frozenset({"buy"}))
    assert "must be one of page," in refused({"type": "task_end", "task": "buy", "outcome": "success"},
                                             participant)  # fmt: skip
    moderator = Options(types=schema.MODERATOR_TYPES, tasks=frozenset({"buy"}))
    assert refused({"type": "click", "x": 1, "y": 1, "interactive": True}, moderator).startswith(
        "events[0].type: must be one of task_start, task_end, marker, rating"
    )


def batch(**fields: Any) -> dict[str, Any]:
    return {"v": 1, "session": "tok", "page": "load-1", "sent": T,
            "events": [{**BASE, "type": "scroll", "depth": 1}], **fields}  # fmt: skip


@pytest.mark.parametrize(("doc", "message"), [
    (batch(v=2), "v: must be 1"), (batch(v="1"), "v: must be 1"), (batch(v=None), "v: must be 1"),
    (batch(session=None), "batch.session: required"), (batch(session=""), "session: required"),
    (batch(session="s" * 65), "batch.session: longer than 64 characters"),
    (batch(page=""), "page: required"), (batch(page=None), "batch.page: required"),
    (batch(sent=1), "batch.sent: out of range 9.46685e+11..4.10244e+12"), (batch(sent=None), "batch.sent: required"),
    (batch(events=[]), "events: must be a non-empty list"), (batch(events={}), "events: must be a non-empty list"),
    (batch(events=[{}] * 501), "events: more than 500 in one batch"),
])  # fmt: skip
def test_a_bad_envelope_is_refused(doc: dict[str, Any], message: str) -> None:
    with pytest.raises(BadInput) as err:
        schema.batch_header(doc, needs_session=True)
    assert str(err.value) == message


def test_a_good_envelope_and_the_moderators_which_needs_no_session() -> None:
    assert schema.batch_header(batch(), needs_session=True)[:3] == ("tok", "load-1", T)
    assert schema.batch_header(batch(session=None), needs_session=False)[:3] == (None, "load-1", T)
    assert len(schema.batch_header(batch(events=[{}] * 500), needs_session=True)[3]) == 500


@pytest.mark.parametrize(("body", "message"), [
    (b"{not json", "body: not valid JSON"), (b"[1, 2]", "body: must be a JSON object"),
    (b"", "body: not valid JSON"), (b'"text"', "body: must be a JSON object"),
])  # fmt: skip
def test_a_body_that_is_no_json_object(body: bytes, message: str) -> None:
    with pytest.raises(BadInput) as err:
        schema.parse_body(body)
    assert str(err.value).startswith(message)


@pytest.mark.parametrize(("variant_url", "link"), [
    ("http://proto.test/A/", "http://proto.test/A/?uxlab=T0k"),
    ("http://proto.test/A/?lang=de", "http://proto.test/A/?lang=de&uxlab=T0k"),
    ("https://shop.example/", "https://shop.example/?uxlab=T0k"),
])  # fmt: skip
def test_participant_link_carries_the_token_and_the_stored_page_does_not(
    variant_url: str, link: str
) -> None:
    assert schema.participant_link(variant_url, "T0k") == link
    assert schema.without_token(link) == variant_url


@pytest.mark.parametrize(("url", "kept"), [
    ("http://p.test/?uxlab=T#/cart", "http://p.test/#/cart"),  # the route in the fragment stays
    ("http://p.test/?a=1&uxlab=T&b=2", "http://p.test/?a=1&b=2"),
    ("http://p.test/?uxlab=T&uxlab=U", "http://p.test/"),
    ("http://p.test/?myuxlab=1", "http://p.test/?myuxlab=1"),  # another parameter
    ("http://p.test/?q=", "http://p.test/?q="),
    # No URL urlsplit reads (an unclosed "[" host): the token is cut out of the text.
    ("http://[x/a?uxlab=T&b=1#f", "http://[x/a?&b=1#f"),
    ("http://[x/a?b=1&uxlab=T", "http://[x/a?b=1&"),
    ("http://[x/a?myuxlab=1", "http://[x/a?myuxlab=1"),
    (None, None),
])  # fmt: skip
def test_without_token(url: str | None, kept: str | None) -> None:
    assert schema.without_token(url) == kept
