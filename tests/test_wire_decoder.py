"""The snippet's batches read two ways: msgspec's one-pass decoder agrees with the field-by-field check.

``recorder/wire/schema.py`` declares each participant event's fields once and
checks them two ways: :func:`schema.validate_events` (field by field, wording
the first error) and :func:`schema.decode_batch` with :func:`schema.decoded_rows`
(a msgspec decoder made from the same declarations, which the collector tries
first). The decoder may refuse more, never less: whatever it takes must give the
very rows, value for value and type for type, that the field-by-field check
gives; whatever the check refuses, the decoder must not take. Generated batches
mix valid values, values on and just past every bound, wrong types, nulls,
missing fields, integers beyond 64 bits, repeated seq, frames and tokens.
"""

from __future__ import annotations

import decimal
import json
import math
import random
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recorder.wire import schema
from recorder.wire.schema import BadInput, Options

T = 1_764_000_000_000.0
SNIPPET = Options(types=schema.PARTICIPANT_TYPES)
WITH_VALUES = Options(types=schema.PARTICIPANT_TYPES, capture_values=True)

ODD = st.sampled_from([None, True, False, 0, -1, 1.5, -0.0, 2**31, 2**63, 2**64, 2**70,
                       -(2**70), 1e300, "", "x", [], {}, {"a": 1}, [1, 2]])  # fmt: skip


def text(limit: int, valid: bool) -> st.SearchStrategy[str]:
    if not valid:
        return st.one_of(
            st.sampled_from(["é", "😀"]).map(lambda c: c * (limit + 1)),
            st.sampled_from(["\ud800", "a\udfff"]),  # lone surrogates: both readers refuse them
        )
    return st.one_of(
        st.sampled_from([0, 1, max(limit - 1, 0), limit]).map(lambda n: "é" * n),
        st.sampled_from([1, limit]).map(lambda n: "😀" * n),  # one character, four UTF-8 bytes
        st.text(st.characters(exclude_categories=["Cs"]), max_size=8),
        st.just("http://proto.test/a?uxlab=TOKEN123&q=1"[:limit]),  # the token is never kept
    )


def number(lo: float, hi: float, integer: bool, valid: bool) -> st.SearchStrategy[Any]:
    if not valid:
        wrong = [int(lo) - 1, int(hi) + 1, lo - 0.5, hi + 0.5]
        return st.sampled_from([*wrong, float(lo), 1.0] if integer else wrong)
    ints = st.sampled_from([int(lo), int(hi), (int(lo) + int(hi)) // 2])
    if integer:
        return st.one_of(ints, st.integers(int(lo), int(hi)))
    return st.one_of(
        ints,
        st.sampled_from([float(lo), float(hi), (lo + hi) / 2, hi * (1 - 1e-16)]),
        st.floats(lo, hi, allow_nan=False),
    )


def value_for(field: schema.Field, valid: bool) -> st.SearchStrategy[Any]:
    if field.check == schema.STR:
        return text(int(field.hi), valid)
    if field.check in (schema.NUM, schema.INT):
        return number(field.lo, field.hi, field.check == schema.INT, valid)
    if field.check in (schema.BOOL, schema.FLAG):
        return st.booleans() if valid else st.sampled_from([0, 1, "true"])
    if field.check == schema.CODE:
        assert field.codes is not None
        return st.sampled_from(list(field.codes)) if valid else st.just("bogus")
    if field.check == schema.TIMING:
        key = st.sampled_from(["ttfb", "load", "k" * 32] + ([] if valid else ["k" * 33]))
        numbers = st.one_of(
            st.floats(0, 1e6), st.integers(-5, 2**65)
        )  # past 64 bits: orjson's float
        values = numbers if valid else st.one_of(numbers, ODD)
        return st.dictionaries(key, values, max_size=16 if valid else 17)
    return ODD  # ANY


# Choices are made with a seeded random.Random from Hypothesis: its own integer draws
# favour the ends of a range, which would make nearly every batch wrong somewhere.
WRONG = 0.01  # the chance of each field, header value or seq being wrong
NAMES = {schema.EVENT_TYPE_NAMES[code]: code for code in schema.FIELDS}
COMMON = (schema.Field("seq", schema.INT, 0, schema.MAX_SEQ, True),
          schema.Field("t", schema.NUM, schema.MIN_T, schema.MAX_T, True))  # fmt: skip


def field_value(draw: st.DrawFn, rng: random.Random, field: schema.Field) -> Any:
    """Mostly valid; now and then wrong by a bound, by type or by being null."""
    roll = rng.random()
    if roll < WRONG / 2:
        return draw(ODD)
    return draw(value_for(field, roll >= WRONG))


@st.composite
def event(draw: st.DrawFn, rng: random.Random) -> Any:
    roll = rng.random()
    if roll < WRONG / 2:
        return draw(ODD)  # not an object
    if roll < WRONG:
        kind = draw(st.sampled_from(["custom", "task_start", "nope", 7]))
        return {"type": kind, "seq": 0, "t": T, "name": "x"}
    code = rng.choice(sorted(schema.FIELDS))
    ev: dict[str, Any] = {"type": schema.EVENT_TYPE_NAMES[code]}
    ev["seq"] = rng.randrange(2_000) if rng.random() < 0.9 else field_value(draw, rng, COMMON[0])
    ev["t"] = field_value(draw, rng, COMMON[1])
    if rng.random() < 0.15:
        ev["frame"] = draw(text(schema.MAX_URL_LEN, True)) if rng.random() > WRONG else ""
    for field in schema.FIELDS[code]:
        if field.required or rng.random() < 0.75:  # mostly present; missing is one more case
            ev[field.name] = field_value(draw, rng, field)
    if rng.random() < 0.03:
        ev["extra"] = draw(ODD)  # ignored by the check; the decoder leaves the batch to it
    if rng.random() < WRONG:
        ev.pop(rng.choice(sorted(ev)))
    return ev


@st.composite
def batch(draw: st.DrawFn) -> dict[str, Any]:
    rng = random.Random(draw(st.integers(0, 2**32)))

    def mostly(good: Any, *bad: Any) -> Any:
        return good if rng.random() > WRONG else rng.choice(bad)

    doc: dict[str, Any] = {
        "v": mostly(1, 2, 1.0, True, "1"),
        "session": mostly("tok", "", "s" * 65, 5),
        "page": mostly("p1", "", None),
        "sent": mostly(T, int(T), schema.MAX_T + 1, "now"),
        "events": [
            draw(event(rng)) for _ in range(rng.randrange(0 if rng.random() < WRONG else 1, 7))
        ],
    }
    if rng.random() < WRONG:
        del doc[rng.choice(sorted(doc))]
    # Half the batches get one wrong field at a random place, so that each field's every
    # wrong value meets an otherwise valid batch often enough to be caught taken.
    events = [ev for ev in doc.get("events", ()) if type(ev) is dict and ev.get("type") in NAMES]
    if events and rng.random() < 0.5:
        ev = rng.choice(events)
        field = rng.choice((*COMMON, *schema.FIELDS[NAMES[ev["type"]]]))
        wrong = value_for(field, False) if rng.random() < 0.8 else ODD
        ev[field.name] = draw(wrong)
    return doc


def typed(rows: list[tuple[Any, ...]]) -> list[list[tuple[str, Any]]]:
    """Rows compared type for type: 1 and 1.0 are equal in Python but not in a stored row."""
    return [[(type(v).__name__, v) for v in row] for row in rows]


def both_ways(body: bytes, opts: Options) -> tuple[Any, Any]:
    """(field-by-field result or the BadInput, decoder's result or None)."""
    try:
        session, page, sent, events = schema.batch_header(schema.parse_body(body), True)
        reference: Any = ((session, page, sent), schema.validate_events(events, opts))
    except BadInput as exc:
        reference = exc
    decoded = schema.decode_batch(body)
    fast = None
    if decoded is not None:
        rows = schema.decoded_rows(decoded[3], opts)
        fast = None if rows is None else (decoded[:3], rows)
    return reference, fast


@settings(max_examples=1500, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
@given(batch(), st.booleans(), st.booleans())
def test_what_the_decoder_takes_gives_the_field_by_field_rows(
    doc: dict[str, Any], ascii_only: bool, values: bool
) -> None:
    body = json.dumps(doc, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    reference, fast = both_ways(body, WITH_VALUES if values else SNIPPET)
    if fast is None:
        return  # the field-by-field check decides, as it always did
    assert not isinstance(reference, BadInput), f"the decoder took what is refused: {reference}"
    assert fast[0] == reference[0]
    assert typed(fast[1]) == typed(reference[1])


@pytest.mark.parametrize("code", sorted(schema.FIELDS))
def test_the_decoder_takes_every_valid_snippet_event(code: int) -> None:
    """Not a vacuous agreement: each declared type, valid, is read by the decoder, and an
    input's value is kept only where the study opted in, either way."""
    sample = {
        schema.PAGE: {
            "url": "http://proto.test/?uxlab=TOK&a=1",
            "title": "Shop",
            "w": 1280,
            "h": 800.5,
            "timing": {"ttfb": 80, "load": 380.25},
            "spa": True,
        },
        schema.CLICK: {
            "interactive": True,
            "synthetic": True,
            "tag": "a",
            "vx": 1,
            "vy": 2.5,
            "sel": "a#buy",
            "label": "Buy",
            "x": 10,
            "y": 20.5,
        },
        schema.INPUT: {"value": "jane@example.com", "kind": "email", "sel": "#email", "len": 16},
        schema.SUBMIT: {"sel": "form"},
        schema.INVALID: {"kind": "typeMismatch", "sel": "#email"},  # an old snippet's msg: checked
        schema.SCROLL: {"depth": 40},
        schema.VISIBILITY: {"state": "hidden"},
        schema.ERROR: {"line": 3, "col": 9, "src": "http://proto.test/app.js", "msg": "boom"},
        schema.RESIZE: {"w": 800, "h": 600},
        schema.REACTION: {"kind": "navigation"},
    }[code]
    events = [{"type": schema.EVENT_TYPE_NAMES[code], "seq": 0, "t": T, **sample},
              {"type": "scroll", "seq": 1, "t": int(T) + 5, "depth": 3.5,
               "frame": "http://proto.test/frame?uxlab=TOK"}]  # fmt: skip
    body = orjson.dumps({"v": 1, "session": "tok", "page": "p1", "sent": T, "events": events})
    kept = {}
    for opts in (SNIPPET, WITH_VALUES):
        reference, fast = both_ways(body, opts)
        assert fast is not None, "the decoder left a valid batch to the field-by-field check"
        assert typed(fast[1]) == typed(reference[1])
        assert "TOK" not in repr(fast[1])
        kept[opts.capture_values] = "jane" in repr(fast[1])
    assert kept == {False: False, True: code == schema.INPUT}


@pytest.mark.parametrize(
    ("event", "why"),
    [
        ({"type": "custom", "name": "x", "data": {"a": 1}}, "custom data is checked in Python"),
        ({"type": "page", "url": "u", "timing": {"load": 2**64 + 1}}, "orjson reads it as a float"),
        ({"type": "scroll", "depth": 1, "frame": ""}, "an empty frame is worded by the check"),
    ],
)
def test_batches_the_decoder_leaves_are_still_read(event: dict[str, Any], why: str) -> None:
    events = [{"seq": 0, "t": T, **event}]
    body = json.dumps({"v": 1, "session": "tok", "page": "p1", "sent": T, "events": events})
    reference, fast = both_ways(body.encode(), SNIPPET)
    assert fast is None, why
    if event.get("frame") == "":
        assert isinstance(reference, BadInput) and "frame" in str(reference)
    else:
        assert not isinstance(reference, BadInput)


def test_a_repeated_seq_is_left_to_the_check_which_refuses_it() -> None:
    events = [{"type": "scroll", "seq": 4, "t": T, "depth": 1}] * 2
    body = orjson.dumps({"v": 1, "session": "tok", "page": "p1", "sent": T, "events": events})
    reference, fast = both_ways(body, SNIPPET)
    assert fast is None
    assert str(reference) == "events[1].seq: 4 repeated in this batch"


@pytest.mark.parametrize(
    "body",
    [
        # JSON objects with a key twice (json.dumps cannot write them): orjson keeps the last.
        b'{"v":1,"session":"tok","page":"p1","sent":1764000000000.0,"events":[{"type":"scroll",'
        b'"seq":0,"t":1764000000000.0,"depth":5,"type":"resize","w":1,"h":2}]}',
        b'{"v":1,"session":"tok","page":"p1","sent":1764000000000.0,"session":"other","events":'
        b'[{"type":"scroll","seq":0,"t":1764000000000.0,"depth":5}]}',
        b'{"v":1,"session":"tok","page":"p1","sent":1764000000000.0,"events":[{"type":"scroll",'
        b'"seq":0,"t":1764000000000.0,"depth":500,"depth":5,"seq":1}]}',
        b'{"v":1,"session":"tok","page":"p1","sent":1764000000000.0,"events":[{"type":"click",'
        b'"seq":0,"t":1764000000000.0,"x":1,"y":2,"interactive":true,"x":"left"}]}',
    ],
)
def test_a_key_given_twice_reads_as_orjson_reads_it(body: bytes) -> None:
    reference, fast = both_ways(body, SNIPPET)
    if fast is not None:
        assert not isinstance(reference, BadInput)
        assert fast[0] == reference[0] and typed(fast[1]) == typed(reference[1])


def _halfway(x: float, zeros: int = 800) -> bytes:
    """A decimal exactly halfway between x and the next double, then many zeros: orjson
    rounds decimals of more than 768 digits otherwise than msgspec (and Python) do."""
    decimal.getcontext().prec = 3000
    mid = (decimal.Decimal(x) + decimal.Decimal(math.nextafter(x, math.inf))) / 2
    return (format(mid, "f") + "0" * zeros).encode()


def _scroll(extra: bytes = b"", t: bytes = b"1764000000000.0") -> bytes:
    return (b'{"v":1,"session":"tok","page":"p1","sent":1764000000000.0,"events":[{"type":"scroll",'
            b'"seq":0,"t":' + t + b',"depth":5' + extra + b"}]}")  # fmt: skip


@pytest.mark.parametrize(
    "body",
    [
        _scroll(b',"x":"\xff"'),  # invalid UTF-8 in a field nobody reads
        _scroll(b',"\xff":1'),  # ... or in a key
        _scroll(b',"x":"\xed\xa0\x80"'),  # a surrogate written as UTF-8
        _scroll(b',"x":1e400'),  # infinity where nobody reads it
        _scroll(b',"x":' + b"9" * 400),
        _scroll(b',"depth":1e400'),
        _scroll(b',"x":' + b"[" * 1000 + b"]" * 1000),  # deeper than msgspec recurses
        _scroll(b',"x":' + b"[" * 1100 + b"]" * 1100),  # deeper than orjson reads
        _scroll(b"", t=_halfway(schema.MAX_T)),  # rounds past the bound in orjson only
        _scroll(b',"depth":' + _halfway(100.0)),
        _scroll(b',"depth":' + _halfway(42.5)),  # two different doubles
        _scroll(b',"depth":1' + b"0" * 30 + b"e-30"),
        b'{"v":1,"session":"tok","page":"p1","sent":1764000000000.0,"events":[{"type":"page",'
        b'"seq":0,"t":1764000000000.0,"url":"u","spa":' + b"9" * 400 + b"}]}",
        b'{"v":1,"session":"tok","page":"p1","sent":1764000000000.0,"events":[{"type":"page",'
        b'"seq":0,"t":1764000000000.0,"url":"u","timing":{"load":1e999}}]}',
    ],
)
def test_where_msgspec_reads_json_otherwise_the_decoder_steps_aside(body: bytes) -> None:
    """Found in review: invalid UTF-8, infinite numbers and deep nesting where no field is
    read, decimals longer than 768 digits. The decoder leaves each to the field-by-field
    check (and never raises), which answers as it always did."""
    assert both_ways(body, SNIPPET)[1] is None
