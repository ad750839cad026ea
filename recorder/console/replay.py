"""The console's recordings: the replay page, the recording as JSON, and deleting it.

Routes (``{base}`` as in :mod:`recorder.console.pages`: the moderator's
``/studies/{study}`` or an observer's ``/observe/{study}/{key}``):

==============================================  ==========================================
``GET  {base}/sessions/{id}/replay``            the player and the session's timeline
                                                (``?t=SECONDS`` starts there)
``GET  {base}/sessions/{id}/recording.json``    rrweb events and the timeline (``?live=1``:
                                                the latest page load only, for the live view)
``DELETE /api/v1/studies/{study}/sessions/{id}/recording``   delete it (moderator)
==============================================  ==========================================

The timeline (tasks, outcomes, markers, page errors, misclicks, rage clicks)
comes from the analyzer, imported when a replay is opened, so ``import
recorder`` stays light.
"""

from __future__ import annotations

import math
from typing import Any

from aiohttp import web

from recorder.auth import require_moderator
from recorder.console.pages import REPLAY_CSP, _session_number, html_page, render, viewer
from recorder.storage import recordings as recording
from recorder.storage import store
from recorder.web import SETTINGS_KEY, ApiError, in_thread, json_response


def _timeline(db: str, study_id: str, session_id: int) -> dict[str, Any]:
    from analyzer.metrics.timeline import session_timeline

    return session_timeline(db, study_id, session_id)


def recording_doc(conn: Any, db: str, study_id: str, session_id: int) -> dict[str, Any]:
    """A session's rrweb events and its timeline, on one clock (the server's)."""
    return {"events": recording.session_events(conn, session_id),
            "timeline": _timeline(db, study_id, session_id)}  # fmt: skip


def live_events(conn: Any, session_id: int) -> dict[str, Any]:
    """The rrweb events of the session's latest page load from its last full snapshot, and
    the chunks they come from (``"load:seq"``: the live feed's copies are skipped)."""
    chunks = recording.session_chunks(conn, session_id)
    if not chunks:
        return {"events": [], "chunks": []}
    load = chunks[-1].load
    mine = [c for c in chunks if c.load == load]
    events = [e for c in mine for e in c.events]
    snapshots = [i for i, e in enumerate(events) if e["type"] == recording.RRWEB_FULL_SNAPSHOT]
    if not snapshots:
        return {"events": [], "chunks": []}
    start = snapshots[-1]
    meta = [e for e in events[:start] if e["type"] == recording.RRWEB_META][-1:]
    return {"events": meta + events[start:], "chunks": [f"{c.load}:{c.seq}" for c in mine]}


def _page_data(conn: Any, study_id: str, number: int) -> tuple[Any, store.SessionInfo, bool]:
    """The study, session ``number`` of it, and whether that session has a recording."""
    info = store.session_by_number(conn, study_id, number)
    return store.load_study(conn, study_id), info, recording.has_recording(conn, info.id)


@html_page
async def replay_page(request: web.Request) -> web.StreamResponse:
    """``GET {base}/sessions/{id}/replay``: the player with the session's timeline."""
    who = viewer(request)
    sid = _session_number(request)
    study, info, has = await in_thread(request, lambda c: _page_data(c, who.study, sid))
    start = request.query.get("t", "")
    try:
        t = None
        if start:
            t = float(start)
            if not math.isfinite(t):  # "inf" and "nan" read as floats
                raise ValueError(start)
            t = max(0.0, t)
    except ValueError:
        raise ApiError(
            400, f"t: give seconds from the session's first event, not {start!r}"
        ) from None
    config = {"recording": f"{who.base}/sessions/{sid}/recording.json", "t": t,
              "delete": None if who.observer else f"/api/v1/studies/{who.study}/sessions/{sid}/recording"}  # fmt: skip
    response = render("replay.html", study=study, session=info, config=config, has_recording=has,
                      observer=who.observer, base=who.base, csrf=who.csrf,
                      signed_in=not who.observer)  # fmt: skip
    response.headers["Content-Security-Policy"] = REPLAY_CSP
    return response


async def recording_json(request: web.Request) -> web.Response:
    """``GET {base}/sessions/{id}/recording.json``: what the player needs."""
    who = viewer(request)
    sid = _session_number(request)
    db = request.app[SETTINGS_KEY].db
    info = await in_thread(request, lambda c: store.session_by_number(c, who.study, sid))
    if request.query.get("live"):
        return json_response(await in_thread(request, lambda c: live_events(c, info.id)))
    doc = await in_thread(request, lambda c: recording_doc(c, db, who.study, info.id))
    return json_response(doc, headers={"Cache-Control": "no-store"})


async def delete_recording(request: web.Request) -> web.Response:
    """``DELETE /api/v1/studies/{study}/sessions/{id}/recording``: its events stay."""
    require_moderator(request)
    study, sid = request.match_info["study"], _session_number(request)

    def delete(conn: Any) -> int:
        return store.delete_recording(conn, store.session_by_number(conn, study, sid).id)

    deleted = await in_thread(request, delete)
    return json_response({"session": sid, "deleted_chunks": deleted})


def add_routes(app: web.Application) -> None:
    """Register the replay page, the recording JSON and the delete endpoint."""
    for base in ("/studies/{study}", "/observe/{study}/{key}"):
        app.router.add_get(base + r"/sessions/{session:[0-9]{1,12}}/replay", replay_page)
        app.router.add_get(base + r"/sessions/{session:[0-9]{1,12}}/recording.json", recording_json)
    app.router.add_delete(
        r"/api/v1/studies/{study}/sessions/{session:[0-9]{1,12}}/recording", delete_recording
    )
