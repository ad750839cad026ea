"""The findings API and observers' notes (README, "Findings").

========================================================  =================================
``GET    /api/v1/studies/{study}/findings``                ``{"findings": [...]}`` (moderator, observer)
``POST   /api/v1/studies/{study}/findings``                ``201`` the new finding (moderator)
``PATCH  /api/v1/studies/{study}/findings/{id}``           ``200``, or ``409`` on a stale ``version``
``DELETE /api/v1/studies/{study}/findings/{id}``           ``204`` (``?version=`` checked when given)
``GET    /api/v1/studies/{study}/notes``                   every observer note (moderator, observer)
``POST   /api/v1/studies/{study}/sessions/{n}/notes``      ``201`` a timestamped note (observer, moderator)
========================================================  =================================

Who: the moderator (bearer token, or the console's cookie with its CSRF
header: :func:`recorder.auth.require_moderator`), or an observer, who shows the
study's observer key (the secret of their ``/observe/{study}/{key}`` link) in
the ``X-Observer-Key`` header. Observers read findings and write notes, nothing
else (``403``); a participant's session token opens nothing (``401``).
A note is handed to the consoles watching its session as it is stored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web

from recorder.auth import is_moderator, observer_ok, require_moderator
from recorder.findings import store as fs
from recorder.http_guards import read_body
from recorder.web import LIVE_KEY, SETTINGS_KEY, ApiError, in_thread, json_response
from recorder.wire import schema

OBSERVER_HEADER = "X-Observer-Key"


def _observer(request: web.Request) -> bool:
    given = request.headers.get(OBSERVER_HEADER, "")
    return bool(given) and observer_ok(request, request.match_info["study"], given)


def _reader(request: web.Request) -> None:
    """The moderator or the study's observer may read; 401 for anyone else."""
    if not _observer(request):
        require_moderator(request)


def _writer(request: web.Request) -> None:
    """Only the moderator changes findings: 403 for an observer, 401 for anyone else."""
    if is_moderator(request):
        return
    if _observer(request):
        raise ApiError(403, "observers read findings; only the moderator changes them")
    require_moderator(request)


async def _body(request: web.Request) -> Any:
    raw = await read_body(request, request.app[SETTINGS_KEY].max_body)
    if not raw:
        raise schema.BadInput("body: empty; send a JSON object")
    return schema.parse_body(raw)


def _finding_id(request: web.Request) -> int:
    return int(request.match_info["finding"])


async def _call(request: web.Request, fn: Callable[[Any], Any]) -> Any:
    """A store call on its own connection; a stale version is a 409, a closed session's note 403."""

    def guarded(conn: Any) -> Any:
        try:
            return fn(conn)
        except (fs.Conflict, fs.Closed) as exc:
            return exc

    result = await in_thread(request, guarded)
    if isinstance(result, fs.Conflict):
        raise ApiError(409, str(result))
    if isinstance(result, fs.Closed):
        raise ApiError(403, str(result))
    return result


async def list_findings(request: web.Request) -> web.Response:
    """``GET .../findings``."""
    _reader(request)
    study = request.match_info["study"]
    return json_response({"findings": await _call(request, lambda c: fs.list_findings(c, study))})


async def create_finding(request: web.Request) -> web.Response:
    """``POST .../findings``."""
    _writer(request)
    study, body = request.match_info["study"], await _body(request)
    finding = await _call(request, lambda c: fs.create_finding(c, study, body))
    return json_response(finding, status=201)


async def update_finding(request: web.Request) -> web.Response:
    """``PATCH .../findings/{id}`` with ``version``."""
    _writer(request)
    study, fid, body = request.match_info["study"], _finding_id(request), await _body(request)
    return json_response(await _call(request, lambda c: fs.update_finding(c, study, fid, body)))


async def delete_finding(request: web.Request) -> web.Response:
    """``DELETE .../findings/{id}`` (``?version=N`` refuses a stale delete)."""
    _writer(request)
    study, fid = request.match_info["study"], _finding_id(request)
    given = request.query.get("version")
    if given is not None and not (given.isascii() and given.isdigit() and len(given) <= 18):
        raise ApiError(400, "version: must be a whole number")
    version = int(given) if given is not None else None
    await _call(request, lambda c: fs.delete_finding(c, study, fid, version))
    return web.Response(status=204)


async def list_notes(request: web.Request) -> web.Response:
    """``GET .../notes``: every observer note of the study."""
    _reader(request)
    study = request.match_info["study"]

    def read(conn: Any) -> list[dict[str, Any]]:
        fs.list_findings(conn, study)  # 404 for an unknown study
        return fs.list_notes(conn, study)

    return json_response({"notes": await _call(request, read)})


async def add_note(request: web.Request) -> web.Response:
    """``POST .../sessions/{n}/notes`` {text, author?}: an observer's timestamped note."""
    if not _observer(request):
        require_moderator(request)
    study, number = request.match_info["study"], int(request.match_info["session"])
    body = await _body(request)
    note = await _call(request, lambda c: fs.add_note(c, study, number, body))
    _publish(request, note.pop("session_id"), note)
    return json_response(note, status=201)


def _publish(request: web.Request, session_id: int, note: dict[str, Any]) -> None:
    """Hand the note to the consoles watching its session (as an observer's note)."""
    event = fs.note_event(note["id"], note["ts"], note["author"], note["text"])
    for queue in request.app[LIVE_KEY].watchers.get(session_id) or ():
        if not queue.full():
            queue.put_nowait(event)


def add_routes(app: web.Application) -> None:
    """Register the findings API and the notes routes."""
    base = "/api/v1/studies/{study}"
    app.router.add_get(base + "/findings", list_findings)
    app.router.add_post(base + "/findings", create_finding)
    app.router.add_patch(base + r"/findings/{finding:[0-9]{1,12}}", update_finding)
    app.router.add_delete(base + r"/findings/{finding:[0-9]{1,12}}", delete_finding)
    app.router.add_get(base + "/notes", list_notes)
    app.router.add_post(base + r"/sessions/{session:[0-9]{1,12}}/notes", add_note)
