"""The kernels against their plain-Python twins, on hand-made sessions and on Hypothesis' own."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzer.config import DEFAULT_THRESHOLDS, Thresholds
from analyzer.kernels import jit as K
from recorder.wire import schema
from tests import naive

# -- building events by hand -------------------------------------------------------------------

Event = dict[str, Any]


def ev(type_: str, t: float, **fields: Any) -> Event:
    return {"type": schema.EVENT_TYPES[type_], "t": float(t), **fields}


def page(t: float, key: int) -> Event:
    return ev("page", t, key=key)


def click(
    t: float, x: float = 0, y: float = 0, interactive: bool = True, target: int = -1
) -> Event:
    return ev("click", t, x=x, y=y, interactive=int(interactive), target=target)


def start(t: float, task: int = 0) -> Event:
    return ev("task_start", t, task=task)


def end(t: float, task: int = 0, outcome: str = "success") -> Event:
    return ev("task_end", t, task=task, outcome=schema.OUTCOMES[outcome])


def marker(t: float, kind: str = "error", task: int = -1) -> Event:
    return ev("marker", t, kind=schema.MARKER_KINDS[kind], task=task)


def seq_rating(t: float, value: int, task: int = 0) -> Event:
    return ev("rating", t, kind=schema.RATING_ITEMS["SEQ"], task=task, value=value)


DEFAULTS = {"key": -1, "target": -1, "label": -1, "task": -1, "outcome": 0, "kind": 0,
            "interactive": -1, "x": np.nan, "y": np.nan, "value": np.nan}  # fmt: skip


def build(sessions: list[list[Event]], variants: list[int] | None = None) -> K.Events:
    """Events of several sessions, given in any order, sorted as the loader sorts them."""
    flat = [(s, n, e) for s, events in enumerate(sessions) for n, e in enumerate(events)]
    column = lambda name: np.array([e.get(name, DEFAULTS.get(name)) for _, _, e in flat])  # noqa: E731
    session = np.array([s for s, _, _ in flat], dtype=np.int64)
    load = np.array([e.get("load", 1) for _, _, e in flat], dtype=np.int64)
    seq = np.array([n for _, n, _ in flat], dtype=np.int64)
    t = column("t").astype(np.float64) if flat else np.zeros(0)
    order, session_start = K.order_events(session, len(sessions), t, load, seq)
    cols = {name: (column(name) if flat else np.zeros(0))[order].astype(dtype)
            for name, dtype in K.EVENT_DTYPES.items()}  # fmt: skip
    variant = np.array(variants if variants is not None else [0] * len(sessions), dtype=np.int32)
    return K.check_events(K.Events(session_start=session_start, session_variant=variant, **cols))


def rules(n_keys: int = 8, criteria: list[tuple[str, Any]] | None = None,
          expected: list[list[int]] | None = None, n_tasks: int = 2) -> K.TaskRules:  # fmt: skip
    criteria = criteria or [("none", None)] * n_tasks
    expected = expected or [[] for _ in criteria]
    kinds = {"none": K.CRIT_NONE, "url": K.CRIT_URL, "click": K.CRIT_CLICK, "event": K.CRIT_EVENT}
    url_match = np.zeros((len(criteria), n_keys), bool)
    ids = np.full(len(criteria), -1, np.int32)
    for k, (kind, arg) in enumerate(criteria):
        if kind == "url":
            url_match[k, arg] = True
        elif kind in ("click", "event"):
            ids[k] = arg
    starts = np.cumsum([0] + [len(p) for p in expected])
    return K.TaskRules(np.array([kinds[k] for k, _ in criteria], np.int8), ids, url_match, starts,
                       np.array([k for p in expected for k in p], np.int32))  # fmt: skip


def run(
    events: K.Events, task_rules: K.TaskRules, th: Thresholds = DEFAULT_THRESHOLDS
) -> list[dict[str, Any]]:
    """Every kernel on ``events``, checked against its twin; the attempts as dicts."""
    flags = K.click_flags(events, th)
    twin_flags = naive.click_flags(events, th)
    for got, want in zip(flags, twin_flags, strict=True):
        assert got.tolist() == want
    seg = K.segment_attempts(events, task_rules)
    twin = naive.attempt_metrics(
        events, task_rules, naive.segment_attempts(events, task_rules), twin_flags
    )
    fig = K.attempt_metrics(events, task_rules, seg, flags)
    attempts = []
    for a, want in enumerate(twin):
        got = {name: getattr(seg, name)[a].item() for name in K.Segments._fields}
        got.update({name: getattr(fig, name)[a].item() for name in K.Attempts._fields
                    if name not in ("path_start", "path_keys", "event_attempt")})  # fmt: skip
        got["path"] = fig.path_keys[fig.path_start[a] : fig.path_start[a + 1]].tolist()
        got["pages"] = len(got["path"])
        got["backtracks"] = got["pages"] - got["distinct_pages"]
        got["events"] = np.flatnonzero(fig.event_attempt == a).tolist()
        got = {name: _nan_none(value) for name, value in got.items()}
        for name, value in want.items():
            if name != "variant":
                assert got[name] == _nan_none(value), (
                    f"attempt {a}, {name}: kernel {got[name]!r}, twin {value!r}"
                )
        attempts.append(got)
    assert len(seg.session) == len(twin)
    return attempts


def _nan_none(value: Any) -> Any:
    return None if isinstance(value, float) and math.isnan(value) else value


# -- hand-made sessions ------------------------------------------------------------------------


def test_no_events_no_attempts() -> None:
    assert run(build([]), rules()) == []
    assert run(build([[], []]), rules()) == []
    assert run(build([[page(0, 1), click(5)]]), rules()) == []


def test_moderator_start_and_end() -> None:
    (a,) = run(
        build(
            [[page(0, 0), start(1000), click(1500), page(2000, 1), end(4000, outcome="failure")]]
        ),
        rules(),
    )
    assert (a["outcome"], a["coded_by"]) == (schema.OUTCOMES["failure"], K.BY_MODERATOR)
    assert a["t_end"] - a["t_start"] == 3000
    assert a["clicks"] == 1 and a["path"] == [0, 1]


def test_task_never_ended_is_uncoded_and_timeless() -> None:
    (a,) = run(build([[page(0, 0), start(1000), click(1500), page(2000, 1), click(9000)]]), rules())
    assert (a["outcome"], a["coded_by"]) == (K.UNCODED, K.BY_NONE)
    assert a["t_end"] is None and a["clicks"] == 2 and a["window_end"] == 9000


def test_criteria_end_an_attempt_nobody_ended() -> None:
    events = [
        page(0, 0),
        start(1000),
        page(2000, 1),
        click(2500),
        page(3000, 2),
        click(3500),
        page(4000, 2),
    ]
    (a,) = run(build([events]), rules(criteria=[("url", 2), ("none", None)]))
    assert (a["outcome"], a["coded_by"]) == (K.SUCCESS, K.BY_CRITERIA)
    assert a["t_end"] == 3000 and a["clicks"] == 1 and a["path"] == [0, 1, 2]


@pytest.mark.parametrize(("criterion", "meeting"), [
    (("click", 7), click(3000, target=7)),
    (("event", 3), ev("custom", 3000, label=3)),
])  # fmt: skip
def test_click_and_custom_event_criteria(criterion: tuple[str, int], meeting: Event) -> None:
    events = [start(1000), click(2000, target=6), ev("custom", 2500, label=2), meeting, click(5000)]
    (a,) = run(build([events]), rules(criteria=[criterion, ("none", None)]))
    assert (a["outcome"], a["coded_by"], a["t_end"]) == (K.SUCCESS, K.BY_CRITERIA, 3000)


def test_moderator_overrides_criteria() -> None:
    events = [start(1000), page(2000, 2), click(2500), end(5000, outcome="failure")]
    (a,) = run(build([events]), rules(criteria=[("url", 2), ("none", None)]))
    assert (a["outcome"], a["coded_by"], a["t_end"], a["clicks"]) == (2, K.BY_MODERATOR, 5000, 1)


def test_task_ended_twice_keeps_first_time_and_last_word() -> None:
    events = [
        start(1000),
        click(1500),
        end(3000, outcome="success"),
        click(3500),
        end(4000, outcome="failure"),
    ]
    (a,) = run(build([events]), rules())
    assert (a["outcome"], a["coded_by"], a["t_end"], a["clicks"]) == (2, K.BY_MODERATOR, 3000, 1)


def test_task_end_without_start_is_ignored() -> None:
    assert run(build([[click(0), end(1000, task=1)]]), rules()) == []
    (a,) = run(build([[start(0, task=0), end(1000, task=1), end(2000, task=0)]]), rules())
    assert (a["task"], a["t_end"]) == (0, 2000)


def test_task_started_twice_is_a_restart() -> None:
    (a, b) = run(build([[start(0), click(500), start(1000), click(1500), end(2000)]]), rules())
    assert (a["outcome"], a["clicks"], a["window_end"]) == (K.UNCODED, 1, 1000)
    assert (b["outcome"], b["clicks"], b["t_start"], b["t_end"]) == (K.SUCCESS, 1, 1000, 2000)


def test_late_end_recodes_the_attempt_the_next_start_closed() -> None:
    (a, b) = run(
        build([[start(0, 0), start(4000, 1), end(5000, 0, "abandoned"), end(6000, 1)]]), rules()
    )
    assert (a["outcome"], a["coded_by"], a["t_end"]) == (
        schema.OUTCOMES["abandoned"],
        K.BY_MODERATOR,
        4000,
    )
    assert (b["outcome"], b["t_end"]) == (K.SUCCESS, 6000)


def test_page_revisited_backtracks_and_lostness() -> None:
    # path / > /shoes > / > /shoes > /cart: S = 5, N = 3, R = 3 (expected / > /shoes > /cart)
    events = [page(0, 0), start(10), page(20, 1), page(30, 0), page(40, 1), page(50, 2), end(60)]
    (a,) = run(build([events]), rules(expected=[[0, 1, 2], []]))
    assert a["path"] == [0, 1, 0, 1, 2] and a["backtracks"] == 2 and a["distinct_pages"] == 3
    assert a["lostness"] == pytest.approx(math.sqrt((3 / 5 - 1) ** 2 + (3 / 3 - 1) ** 2))
    assert a["path_edit_distance"] == 2 and a["direct"] is False


def test_reloads_are_not_new_path_entries() -> None:
    (a,) = run(
        build([[page(0, 0), start(10), page(20, 0), page(30, 1), page(40, 1), end(50)]]), rules()
    )
    assert a["path"] == [0, 1] and a["direct"] is True


def test_lostness_from_shortest_success_of_same_variant() -> None:
    short = [page(0, 0), start(10), page(20, 2), end(30)]
    long = [page(0, 0), start(10), page(20, 1), page(30, 0), page(40, 2), end(50)]
    other = [page(0, 0), start(10), page(20, 1), page(30, 2), end(40)]
    a, b, c = run(build([short, long, other], variants=[0, 0, 1]), rules())
    assert a["lostness"] == 0.0
    assert b["lostness"] == pytest.approx(math.sqrt((3 / 4 - 1) ** 2 + (2 / 3 - 1) ** 2))
    assert c["lostness"] == 0.0  # its own variant's shortest success is itself
    assert a["path_edit_distance"] == -1


@pytest.mark.parametrize(("gap", "is_misclick"), [(1000.0, False), (1000.5, True), (0.0, False)])
def test_misclick_at_the_one_second_limit(gap: float, is_misclick: bool) -> None:
    (a,) = run(
        build([[start(0), click(100, interactive=False), page(100 + gap, 1), end(5000)]]), rules()
    )
    assert a["misclicks"] == int(is_misclick)


def test_interactive_click_is_never_a_misclick() -> None:
    (a,) = run(build([[start(0), click(100), click(200, interactive=False), end(5000)]]), rules())
    assert (a["clicks"], a["misclicks"]) == (2, 1)


@pytest.mark.parametrize(("dx", "dy", "dt", "bursts"), [
    (18, 24, 1000, 1),  # exactly 30 px and 1 s apart: still one burst
    (30, 0, 1000, 1),
    (30.5, 0, 1000, 0),
    (0, 0, 1000.5, 0),
])  # fmt: skip
def test_rage_click_limits(dx: float, dy: float, dt: float, bursts: int) -> None:
    clicks = [click(100 + n * dt, 500 + n * dx, 300 + n * dy) for n in range(3)]
    (a,) = run(build([[start(0), *clicks, end(9000)]]), rules())
    assert a["rage_clicks"] == bursts


def test_a_burst_counts_once() -> None:
    clicks = [click(100 + n * 100, 500, 300) for n in range(7)]
    (a,) = run(build([[start(0), *clicks, click(5000, 900, 900), end(9000)]]), rules())
    assert (a["clicks"], a["rage_clicks"]) == (8, 1)


@pytest.mark.parametrize(("after", "dead"), [
    ([ev("reaction", 1100, kind=1)], False),  # a DOM change exactly 1 s later
    ([ev("reaction", 1100.5, kind=1)], True),
    ([page(600, 1)], False),  # a page event is a reaction too
    ([ev("invalid", 300), ev("error", 400)], True),  # no reaction among them
    ([], True),
])  # fmt: skip
def test_dead_clicks_at_the_one_second_limit(after: list[Event], dead: bool) -> None:
    (a,) = run(build([[start(0), click(100), *after, end(5000)]]), rules())
    assert (a["clicks"], a["dead_clicks"]) == (1, int(dead))


def test_a_reaction_saves_every_click_before_it_within_the_limit() -> None:
    clicks = [click(100), click(300, 200, 200), click(2000, 400, 400)]
    (a,) = run(build([[start(0), *clicks, ev("reaction", 900, kind=2), end(5000)]]), rules())
    assert (a["clicks"], a["dead_clicks"]) == (3, 1)


def test_synthetic_clicks_and_frame_pages_count_for_nothing() -> None:
    """The loader's analysis-only codes: the page's own .click() calls, a frame's pages."""
    synthetic = [{"type": K.SYNTHETIC_CLICK, "t": 100.0 + n * 50, "x": 10.0, "y": 10.0, "interactive": 0}
                 for n in range(5)]  # fmt: skip
    frame = {"type": K.FRAME_PAGE, "t": 400.0, "key": -1}
    (a,) = run(build([[page(0, 1), start(50), *synthetic, frame, click(500, 10, 10, interactive=False),
                       end(5000)]]), rules())  # fmt: skip
    assert (a["clicks"], a["misclicks"], a["rage_clicks"], a["dead_clicks"]) == (1, 1, 0, 1)
    assert a["path"] == [1]


def test_a_click_inside_a_frame_is_on_the_frame_s_page() -> None:
    events = build([[page(0, 1), start(50), dict(click(100), key=3), click(200), end(5000)]])
    flags = K.click_flags(events)
    (a,) = run(events, rules())
    assert flags.screen_key.tolist()[2:4] == [3, 1] and a["path"] == [1]


def test_errors_markers_and_seq() -> None:
    events = [start(0, 0), ev("invalid", 100), ev("invalid", 200), ev("error", 300), marker(400),
              marker(450, kind="note"), end(500, 0), marker(600, task=0), seq_rating(700, 3, task=0),
              seq_rating(800, 6, task=0), marker(900)]  # fmt: skip
    (a,) = run(build([events]), rules())
    assert (a["invalid_inputs"], a["js_errors"], a["moderator_errors"], a["seq"]) == (2, 1, 2, 6.0)


def test_events_out_of_order_are_sorted_first() -> None:
    in_order = [page(0, 0), start(1000), page(2000, 1), click(2500), end(3000)]
    shuffled = [in_order[3], in_order[1], in_order[4], in_order[0], in_order[2]]
    assert run(build([shuffled]), rules()) == run(build([in_order]), rules())


def test_ties_in_time_break_by_load_then_seq() -> None:
    events = [dict(page(1000, 5), load=2), dict(page(1000, 4), load=1), dict(click(1000), load=1)]
    built = build([events])
    assert built.type.tolist() == [schema.PAGE, schema.CLICK, schema.PAGE]
    assert built.key.tolist() == [4, -1, 5]


# -- checked wrappers --------------------------------------------------------------------------


def test_wrappers_name_the_bad_field() -> None:
    events = build([[page(0, 0), start(10), end(20)]])
    with pytest.raises(ValueError, match="session_start"):
        K.click_flags(events._replace(session_start=np.array([0, 2])))
    with pytest.raises(ValueError, match="not sorted"):
        K.click_flags(events._replace(t=events.t[::-1].copy()))
    with pytest.raises(ValueError, match="kind: has 2 entries"):
        K.click_flags(events._replace(kind=np.zeros(2, np.int8)))
    with pytest.raises(ValueError, match="key: values must be below 1"):
        K.segment_attempts(events._replace(key=np.array([3, -1, -1])), rules(n_keys=1))
    with pytest.raises(ValueError, match="segments"):
        K.attempt_metrics(
            events, rules(), K.segment_attempts(build([[]]), rules()), K.click_flags(events)
        )
    with pytest.raises(ValueError, match="session: indexes"):
        K.order_events(np.array([0, 3]), 2, np.zeros(2), np.zeros(2), np.zeros(2))
    with pytest.raises(ValueError, match="path_keys: values"):
        K.transition_counts(
            np.array([0, 2]), np.array([0, 9]), np.array([0]), np.array([0]), 1, 1, 4
        )


# -- Hypothesis-generated sessions -------------------------------------------------------------

N_TASKS, N_KEYS = 3, 5
times = st.integers(0, 40).map(lambda n: n * 250.0) | st.floats(0, 10_000, allow_nan=False)
coords = st.integers(0, 6).map(lambda n: n * 15.0) | st.sampled_from([18.0, 24.0, 30.0, 30.5])
tasks = st.integers(0, N_TASKS - 1)

event_strategy = st.one_of(
    st.builds(page, times, st.integers(0, N_KEYS - 1)),
    st.builds(click, times, coords, coords, st.booleans(), st.integers(-1, 2)),
    st.builds(start, times, tasks),
    st.builds(end, times, tasks, st.sampled_from(list(schema.OUTCOMES))),
    st.builds(
        marker, times, st.sampled_from(list(schema.MARKER_KINDS)), st.integers(-1, N_TASKS - 1)
    ),
    st.builds(seq_rating, times, st.integers(1, 7), tasks),
    st.builds(lambda t: ev("invalid", t), times),
    st.builds(lambda t: ev("error", t), times),
    st.builds(lambda t, label: ev("custom", t, label=label), times, st.integers(0, 2)),
    st.builds(lambda t, kind: ev("reaction", t, kind=kind), times, st.integers(1, 5)),
    st.builds(lambda t, k: dict(click(t), key=k), times, st.integers(0, N_KEYS - 1)),  # in a frame
    st.builds(lambda t: {"type": K.SYNTHETIC_CLICK, "t": t, "interactive": 0}, times),
    st.builds(lambda t: {"type": K.FRAME_PAGE, "t": t}, times),
).flatmap(lambda e: st.integers(1, 3).map(lambda load: dict(e, load=load)))

criterion_strategy = st.one_of(
    st.just(("none", None)),
    st.tuples(st.just("url"), st.lists(st.integers(0, N_KEYS - 1), min_size=1, max_size=2)),
    st.tuples(st.just("click"), st.integers(0, 2)),
    st.tuples(st.just("event"), st.integers(0, 2)),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sessions=st.lists(st.lists(event_strategy, max_size=25), max_size=4),
    criteria=st.lists(criterion_strategy, min_size=N_TASKS, max_size=N_TASKS),
    expected=st.lists(
        st.lists(st.integers(0, N_KEYS - 1), max_size=4), min_size=N_TASKS, max_size=N_TASKS
    ),
    variants=st.lists(st.integers(0, 1), min_size=4, max_size=4),
)
def test_kernels_match_twins_on_generated_sessions(sessions: list[list[Event]], criteria: list[Any],
                                                   expected: list[list[int]], variants: list[int]) -> None:  # fmt: skip
    events = build(sessions, variants[: len(sessions)])
    task_rules = rules(N_KEYS, criteria, expected)
    attempts = run(events, task_rules)
    assert len(attempts) == sum(e["type"] == schema.TASK_START for s in sessions for e in s)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 3), st.integers(0, 30).map(float), st.integers(0, 2), st.integers(0, 9)
        ),
        max_size=60,
    )
)
def test_order_events_matches_twin(rows: list[tuple[int, float, int, int]]) -> None:
    session, t, load, seq = (
        (np.array(c) for c in zip(*rows, strict=True)) if rows else [np.zeros(0)] * 4
    )
    order, start_ = K.order_events(session.astype(np.int64), 4, t.astype(float), load, seq)
    twin_order, twin_start = naive.order_events(session, 4, t, load, seq)
    keyed = lambda o: [(session[i], t[i], load[i], seq[i]) for i in o]  # noqa: E731
    assert keyed(order.tolist()) == keyed(twin_order) and start_.tolist() == twin_start


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 4), max_size=12), st.lists(st.integers(0, 4), max_size=12))
def test_levenshtein_matches_twin(a: list[int], b: list[int]) -> None:
    assert K.levenshtein(np.array(a), np.array(b)) == naive.levenshtein(a, b)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(st.lists(st.integers(0, 3), max_size=6), st.integers(0, 1), st.integers(0, 1)),
        max_size=10,
    )
)
def test_transition_counts_match_twin(attempts: list[tuple[list[int], int, int]]) -> None:
    paths = [p for p, _, _ in attempts]
    task, variant = [k for _, k, _ in attempts], [v for _, _, v in attempts]
    starts = np.cumsum([0] + [len(p) for p in paths])
    tr = K.transition_counts(starts, np.array([k for p in paths for k in p]), np.array(task), np.array(variant),
                             2, 2, 4)  # fmt: skip
    got = {(a, b, c, d): n for a, b, c, d, n in zip(*(col.tolist() for col in tr), strict=True)}
    assert got == naive.transition_counts(paths, task, variant)
    assert list(got) == sorted(got)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.floats(0, 1e4) | st.just(math.nan)), max_size=30))
def test_group_medians_match_twin(pairs: list[tuple[int, float]]) -> None:
    codes, values = [c for c, _ in pairs], [v for _, v in pairs]
    gm = K.group_medians(np.array(codes, dtype=np.int64), np.array(values, dtype=float))
    twin = naive.group_medians(codes, values)
    assert gm.code.tolist() == sorted(twin)
    for code, count, median in zip(
        gm.code.tolist(), gm.n.tolist(), gm.median.tolist(), strict=True
    ):
        want_count, want_median = twin[code]
        assert count == want_count
        assert (math.isnan(median) and math.isnan(want_median)) or median == pytest.approx(
            want_median
        )


def test_page_keys_match_twin() -> None:
    events = build([[page(0, 0)], [page(0, 0)]], variants=[0, 1])
    lut = np.array([[5, 6], [7, 8]])
    page_ids = np.array([1, 1])
    got = K.page_keys(events.session_start, events.session_variant, events.type, page_ids, lut)
    assert got.tolist() == naive.page_keys(
        events.session_start, events.session_variant, events.type, page_ids, lut
    )
    assert got.tolist() == [6, 8]
