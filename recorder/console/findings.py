"""The console's Findings page: observations on one side, findings on the other.

``GET {base}/findings`` is the page (the moderator edits; an observer reads);
``GET {base}/findings/data.json`` gives what it shows: every observation
across the study's sessions (the moderator's markers, observers' notes and the
analyzer's suggestions), the findings, and the sessions. Changes go to the
findings API (:mod:`recorder.findings.api`) with the console's CSRF header.

The analyzer (numba) is imported only when the page asks for suggestions,
so ``import recorder`` stays light.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from recorder import auth
from recorder.console.pages import html_page, render, viewer
from recorder.findings import store as fs
from recorder.storage import store
from recorder.web import SETTINGS_KEY, in_thread, json_response
from recorder.wire import schema
from recorder.wire.studyfile import study_json

# Driven from the moderator's page loads, so that the events index (session, load, seq) is used.
MARKER_SQL = f"""
    SELECT e.session_id, e.t + pl.offset_ms AS ts, e.type, e.kind, l.text, tk.id
    FROM page_loads pl JOIN sessions x ON x.id = pl.session_id
    JOIN events e ON e.session_id = pl.session_id AND e.load_id = pl.id
    LEFT JOIN labels l ON l.id = e.label_id LEFT JOIN tasks tk ON tk.pk = e.task_pk
    WHERE x.study_id = ? AND pl.source = {schema.SOURCE_MODERATOR}
      AND e.type IN ({schema.TASK_START}, {schema.TASK_END}, {schema.MARKER})
    ORDER BY e.session_id, ts, e.id
"""


def marker_observations(conn: sqlite3.Connection, study_id: str, sessions: dict[int, store.SessionInfo],
                        first: dict[int, float]) -> list[dict[str, Any]]:  # fmt: skip
    """The moderator's markers, each with its task (named, or the attempt in progress).

    ``first`` is each session's first event (corrected epoch ms, the analyzer's
    ``sessions.started_ms``): ``t_s`` counts from it, as evidence does.
    """
    out: list[dict[str, Any]] = []
    current: dict[int, str] = {}
    for sid, ts, code, kind, text, task in conn.execute(MARKER_SQL, (study_id,)):
        if code == schema.TASK_START:
            current[sid] = task
        elif code == schema.TASK_END:
            if current.get(sid) == task:
                del current[sid]
        else:
            who = sessions[sid]
            out.append({
                "id": f"m{sid}-{len(out)}", "source": "moderator",
                "kind": schema.MARKER_KIND_NAMES.get(kind, "note"),
                "session": who.number, "participant": who.participant,
                "variant": who.variant, "task": task or current.get(sid),
                "t_s": round((ts - first.get(sid, ts)) / 1000.0, 3), "text": text or "",
            })  # fmt: skip
    return out


def note_observations(conn: sqlite3.Connection, study_id: str) -> list[dict[str, Any]]:
    """Observers' notes as observations."""
    return [{"id": f"n{n['id']}", "source": "observer", "kind": "observer note",
             "session": n["session"], "participant": n["participant"], "variant": n["variant"],
             "task": None, "t_s": n["t_s"], "text": n["text"], "author": n["author"]}
            for n in fs.list_notes(conn, study_id)]  # fmt: skip


@dataclass(frozen=True)
class Analysis:
    """What the Findings page takes from the analyzer."""

    suggestions: list[dict[str, Any]]
    figures: dict[int, dict[str, Any]]  # the ``findings`` rows by finding id
    first: dict[int, float]  # each session's first event, corrected epoch ms


def analysis(db: str, study_id: str) -> Analysis:
    """The analyzer's suggestions as observations (each with the moments behind it), its
    ``findings`` rows (frequencies, who was affected: one definition) and session starts."""
    from analyzer.metrics.analyze import analyze

    results = analyze(db, study_id)
    suggestions = [{"id": f"s{r['suggestion']}", "source": "analyzer", "kind": "suggestion",
                    "detector": r["kind"], "session": None, "participant": r["participant_ids"],
                    "variant": r["variant"], "task": r["task"], "t_s": None, "text": r["title"],
                    "moments": r["evidence"], "participants": r["participants"]}
                   for r in results.suggestions]  # fmt: skip
    first = {s["session"]: s["started_ms"] for s in results.sessions if s["started_ms"] is not None}
    return Analysis(suggestions, {r["finding"]: r for r in results.findings}, first)


def page_data(conn: sqlite3.Connection, db: str, study_id: str) -> dict[str, Any]:
    """Everything the Findings page shows."""
    study = store.load_study(conn, study_id)
    sessions = {s.id: s for s in store.study_sessions(conn, study_id)}
    found = analysis(db, study_id) if sessions else Analysis([], {}, {})
    observations = [*marker_observations(conn, study_id, sessions, found.first),
                    *note_observations(conn, study_id)]  # fmt: skip
    observations.sort(key=lambda o: (o["session"], o["t_s"]))
    findings = fs.list_findings(conn, study_id)
    for finding in findings:
        finding["figures"] = found.figures.get(finding["id"])
    return {
        "study": {"id": study.id, "name": study.name, "tasks": [t.id for t in study.tasks],
                  "variants": [v.id for v in study.variants]},
        "sessions": [{"session": s.number, "participant": s.participant,
                      "variant": s.variant} for s in sessions.values()],
        "observations": [*found.suggestions, *observations],
        "findings": findings,
    }  # fmt: skip


@html_page
async def findings_page(request: web.Request) -> web.StreamResponse:
    """``GET {base}/findings``: the Findings page."""
    who = viewer(request)
    study = await in_thread(request, lambda c: store.load_study(c, who.study))
    config: dict[str, Any] = {
        "role": "observer" if who.observer else "moderator", "base": who.base,
        "study": study_json(study), "data": f"{who.base}/findings/data.json",
        "api": f"/api/v1/studies/{who.study}/findings",
    }  # fmt: skip
    if who.observer:
        config["observer_key"] = auth.request_observer_key(request, who.study)
    return render("findings.html", study=study, config=config, observer=who.observer,
                  base=who.base, csrf=who.csrf, signed_in=not who.observer)  # fmt: skip


async def findings_data(request: web.Request) -> web.Response:
    """``GET {base}/findings/data.json``."""
    who = viewer(request)
    db = request.app[SETTINGS_KEY].db
    return json_response(await in_thread(request, lambda c: page_data(c, db, who.study)))


def add_routes(app: web.Application) -> None:
    """Register the Findings page for the moderator and for observer links."""
    for base in ("/studies/{study}", "/observe/{study}/{key}"):
        app.router.add_get(base + "/findings", findings_page)
        app.router.add_get(base + "/findings/data.json", findings_data)
