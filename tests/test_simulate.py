"""``uxlab simulate``: reproducible, realistic, and sent through the real HTTP API."""

from __future__ import annotations

import signal
import sqlite3
import statistics
import subprocess
import time
from pathlib import Path

import pytest

from analyzer.metrics.analyze import analyze
from recorder.simulate import generate
from recorder.wire import schema
from recorder.wire.studyfile import parse_study
from tests.conftest import STUDY_DOC, Server, uxlab_cmd

STUDY = parse_study(STUDY_DOC)


def test_same_seed_same_sessions() -> None:
    one = generate(STUDY, 6, seed=7, end_ms=1.8e12)
    two = generate(STUDY, 6, seed=7, end_ms=1.8e12)
    assert [(s.participant, s.variant, s.loads, s.moderator) for s in one] == [
        (s.participant, s.variant, s.loads, s.moderator) for s in two
    ]
    other = generate(STUDY, 6, seed=8, end_ms=1.8e12)
    assert [s.moderator for s in other] != [s.moderator for s in one]


def test_every_generated_batch_is_valid() -> None:
    for session in generate(STUDY, 10, seed=3, within=True):
        options = schema.Options(types=schema.PARTICIPANT_TYPES)
        for _, events in session.loads:
            assert events[0]["type"] == "page"
            schema.validate_events(events, options)
        mod = schema.Options(
            types=schema.MODERATOR_TYPES, tasks=frozenset(t.id for t in STUDY.tasks)
        )
        schema.validate_events(session.moderator, mod)
        starts = [e["task"] for e in session.moderator if e["type"] == "task_start"]
        assert starts == [t.id for t in STUDY.tasks]
        assert [e["t"] for e in session.moderator] == sorted(e["t"] for e in session.moderator)


def test_improved_variant_is_better_unless_same() -> None:
    def summary(same: bool) -> dict[str, tuple[float, float]]:
        out = {}
        sessions = generate(STUDY, 200, seed=11, same=same)
        for variant in ("A", "B"):
            truth = [t for s in sessions if s.variant == variant for t in s.truth]
            wins = [t for t in truth if t["outcome"] == "success"]
            out[variant] = (len(wins) / len(truth), statistics.median(t["time_s"] for t in wins))
        return out

    better = summary(same=False)
    assert better["B"][0] > better["A"][0] + 0.1
    assert better["B"][1] < better["A"][1] * 0.85
    alike = summary(same=True)
    assert abs(alike["B"][0] - alike["A"][0]) < 0.08


def test_simulate_command_sends_everything_over_http(server: Server) -> None:
    study = server.load_study(STUDY_DOC)
    out = subprocess.run(
        uxlab_cmd("simulate", study, "--participants", "6", "--seed", "5", "--url", server.url),
        capture_output=True, text=True, timeout=120, env={**_env(), "UXLAB_ADMIN_TOKEN": server.admin_token},
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    expected = generate(STUDY, 6, seed=5)
    total = sum(len(ev) for s in expected for _, ev in s.loads) + sum(
        len(s.moderator) for s in expected
    )
    assert f"{total} events accepted" in out.stdout
    with sqlite3.connect(server.db_path) as conn:
        assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == total
        assert conn.execute("SELECT count(*) FROM sessions").fetchone()[0] == 6
        moderator_types = conn.execute(
            "SELECT DISTINCT e.type FROM events e JOIN page_loads l ON l.id = e.load_id WHERE l.source = ?",
            (schema.SOURCE_MODERATOR,),
        ).fetchall()
    assert {t for (t,) in moderator_types} >= {schema.TASK_START, schema.TASK_END, schema.RATING}


def test_clock_correction_restores_the_simulated_timeline(server: Server) -> None:
    study = server.load_study(STUDY_DOC)
    subprocess.run(
        uxlab_cmd("simulate", study, "--participants", "2", "--seed", "9", "--url", server.url),
        capture_output=True, text=True, timeout=120, check=True,
        env={**_env(), "UXLAB_ADMIN_TOKEN": server.admin_token},
    )  # fmt: skip
    with sqlite3.connect(server.db_path) as conn:
        # The first page event of each session against its first task_start, both corrected.
        rows = conn.execute(
            "SELECT e.session_id, e.type, min(e.t + l.offset_ms) FROM events e"
            " JOIN page_loads l ON l.id = e.load_id WHERE e.type IN (?, ?) GROUP BY e.session_id, e.type",
            (schema.PAGE, schema.TASK_START),
        ).fetchall()
    first = {(s, t): v for s, t, v in rows}
    for session in {s for s, _, _ in rows}:
        lead = first[(session, schema.TASK_START)] - first[(session, schema.PAGE)]
        # The moderator starts the first task 24 to 75 s after the first page load (see simulate).
        assert 20_000 < lead < 80_000, lead


def _env() -> dict[str, str]:
    import os

    return dict(os.environ)


def _ratings(session) -> list[str]:  # type: ignore[no-untyped-def]
    return [e["item"] for e in session.moderator if e["type"] == "rating"]


def test_every_questionnaire_the_study_asks_is_answered() -> None:
    # Issue 12, item 9: only SUS was answered, even when the study asked UMUX-Lite and NPS.
    asks_all = parse_study(
        {**STUDY_DOC, "questionnaires": {"after_task": "SEQ",
                                         "after_session": ["SUS", "UMUX-Lite", "NPS"]}}
    )  # fmt: skip
    asks_none = parse_study({k: v for k, v in STUDY_DOC.items() if k != "questionnaires"})
    mod = schema.Options(types=schema.MODERATOR_TYPES, tasks=frozenset(t.id for t in STUDY.tasks))
    for session in generate(asks_all, 8, seed=4, end_ms=1.8e12):
        schema.validate_events(session.moderator, mod)
        assert _ratings(session) == ["SEQ"] * len(STUDY.tasks) + ["SUS", "UMUX-Lite", "NPS"]
    assert all(_ratings(s) == [] for s in generate(asks_none, 4, seed=4, end_ms=1.8e12))
    # the same seed still gives the same SEQ and SUS answers to a study asking only those
    only = generate(STUDY, 8, seed=4, end_ms=1.8e12)
    every = generate(asks_all, 8, seed=4, end_ms=1.8e12)
    first = [
        (e["item"], e.get("value"), e.get("values"))
        for e in only[0].moderator
        if e["type"] == "rating"
    ]
    assert first == [(e["item"], e.get("value"), e.get("values")) for e in every[0].moderator
                     if e["type"] == "rating"][: len(first)]  # fmt: skip


def test_simulate_within_follows_the_study_design(server: Server) -> None:
    # Issue 12, item 5: --within on a between-subjects study says how to declare it.
    between = server.load_study(STUDY_DOC)
    env = {**_env(), "UXLAB_ADMIN_TOKEN": server.admin_token}
    out = subprocess.run(
        uxlab_cmd("simulate", between, "--participants", "2", "--within", "--url", server.url),
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert out.returncode == 2 and 'design = "within"' in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    within = server.load_study({**STUDY_DOC, "id": "within-study", "design": "within"})
    out = subprocess.run(
        uxlab_cmd("simulate", within, "--participants", "6", "--seed", "3", "--url", server.url),
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "in 12 sessions" in out.stdout  # every participant used both variants
    rows = analyze(server.db_path, within, cache=False).comparisons
    assert rows and all(r["paired"] for r in rows if r["metric"] == "success_rate")


def test_simulated_sessions_are_closed_when_it_ends(server: Server) -> None:
    study = server.load_study(STUDY_DOC)
    subprocess.run(
        uxlab_cmd("simulate", study, "--participants", "3", "--seed", "2", "--url", server.url),
        capture_output=True, text=True, timeout=120, check=True,
        env={**_env(), "UXLAB_ADMIN_TOKEN": server.admin_token},
    )  # fmt: skip
    with sqlite3.connect(server.db_path) as conn:
        statuses = [s for (s,) in conn.execute("SELECT status FROM sessions")]
    assert statuses == ["closed"] * 3


def test_ctrl_c_closes_the_sessions_it_opened(server: Server) -> None:
    study = server.load_study(STUDY_DOC)
    proc = subprocess.Popen(
        uxlab_cmd("simulate", study, "--participants", "400", "--seed", "2", "--url", server.url),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**_env(), "UXLAB_ADMIN_TOKEN": server.admin_token},
    )  # fmt: skip
    opened = 0
    for _ in range(600):  # until a few sessions are on their way, then interrupt
        with sqlite3.connect(server.db_path) as conn:
            opened = conn.execute("SELECT count(*) FROM sessions").fetchone()[0]
        if opened >= 4 or proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    with sqlite3.connect(server.db_path) as conn:
        rows = conn.execute("SELECT status, count(*) FROM sessions GROUP BY status").fetchall()
    assert opened >= 4 and dict(rows).get("open", 0) == 0, rows


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("no-server", "start `uxlab serve`"),
        ("no-db", "start `uxlab serve` first, and pass --db"),
        ("no-study", "load it with `uxlab study create FILE`"),
        ("bad-token", "pass --db with the database"),
    ],
)
def test_simulate_errors_say_what_to_do(
    setup: str, message: str, server: Server, tmp_path: Path
) -> None:
    url, env = server.url, {**_env(), "UXLAB_ADMIN_TOKEN": server.admin_token}
    if setup == "no-server":
        url = "http://127.0.0.1:9"  # the discard port: nothing listens
    elif setup == "no-db":
        env.pop("UXLAB_ADMIN_TOKEN")
    elif setup == "bad-token":
        env["UXLAB_ADMIN_TOKEN"] = "wrong"
    if setup != "no-study":
        server.load_study(STUDY_DOC)
    args = ["simulate", "checkout-2026", "--url", url, "--db", str(tmp_path / "none.db")]
    out = subprocess.run(uxlab_cmd(*args), capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode == 2
    assert message in out.stderr, out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr


def test_simulate_groups_repeated_markers_into_findings(server: Server) -> None:
    """The demo shows findings, suggestions and a discovery estimate out of the box."""
    from analyzer.metrics.analyze import analyze
    from recorder.simulate import finding_docs

    study = server.load_study(STUDY_DOC)
    out = subprocess.run(
        uxlab_cmd("simulate", study, "--participants", "12", "--seed", "1", "--url", server.url),
        capture_output=True, text=True, timeout=120, env={**_env(), "UXLAB_ADMIN_TOKEN": server.admin_token},
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    expected = finding_docs(generate(STUDY, 12, seed=1))
    assert f"{len(expected)} findings grouped from repeated markers" in out.stdout
    status, body = server.request(
        "GET", f"/api/v1/studies/{study}/findings", token=server.admin_token
    )
    assert status == 200
    stored = {f["title"]: {e["participant"] for e in f["evidence"]} for f in body["findings"]}
    assert stored.keys() == {d["title"] for d in expected}
    assert (
        max(len(people) for people in stored.values()) >= 2
    )  # the same words from several participants
    results = analyze(server.db_path, study, cache=False)
    assert results.suggestions and results.problem_discovery[0]["p_adj"] is not None
    assert [r["findings_seen"] for r in results.discovery_curve][-1] == len(expected)
