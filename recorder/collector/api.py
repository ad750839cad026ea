"""The collector's HTTP API: the snippet's batches, the moderator's events and sessions.

Handlers validate, hand batches to the single :class:`~recorder.storage.writer.Writer`
and answer after commit. Errors are :class:`~recorder.web.ApiError` (or aiohttp's own
HTTP exceptions), turned into one JSON shape by the server's error middleware.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path
from typing import Any

from aiohttp import web

from recorder.auth import require_moderator
from recorder.collector import openapi
from recorder.http_guards import read_body
from recorder.storage import store
from recorder.storage.writer import Busy
from recorder.web import (
    SESSIONS_KEY,
    SETTINGS_KEY,
    SNIPPET_KEY,
    WRITER_KEY,
    ApiError,
    in_thread,
    json_response,
    request_origin,
)
from recorder.wire import schema
from recorder.wire.schema import participant_link
from recorder.wire.studyfile import Replay, study_json

log = logging.getLogger("uxlab")
STATIC = Path(__file__).parent / "static"


CORS_PATHS = frozenset({"/api/v1/collect", "/api/v1/replay"})  # what a study's pages post to


def add_cors(request: web.Request, response: web.StreamResponse) -> None:
    """Let a study's pages read the collector's answers (errors included)."""
    origin = request.headers.get("Origin")
    if origin and (
        origin == request_origin(request) or origin in request.app[SESSIONS_KEY].all_origins()
    ):
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = "Retry-After"
        response.headers["Vary"] = "Origin"


def replay_answer(replay: Replay | None) -> dict[str, Any]:
    """What a ``200`` from ``/api/v1/collect`` adds for a study that records replays: the
    snippet then loads the recorder module with these mask and block selectors."""
    if replay is None:
        return {}
    return {
        "replay": True,
        "replay_mask": ", ".join(("[data-uxlab-mask]", *replay.mask)),
        "replay_block": ", ".join(("[data-uxlab-ignore]", *replay.block)),
    }


async def _read_batch(request: web.Request) -> dict[str, Any]:
    # Any Content-Type is read as JSON: the snippet sends text/plain (no CORS
    # preflight), the console application/json, curl form-encoded by default.
    return _parse(await read_body(request, request.app[SETTINGS_KEY].max_body))


def _parse(body: bytes) -> dict[str, Any]:
    if not body:
        raise schema.BadInput("body: empty")
    return schema.parse_body(body)


async def collect(request: web.Request) -> web.Response:
    """``POST /api/v1/collect``: a batch of the snippet's events.

    Parsed and checked in one pass by :func:`~recorder.wire.schema.decode_batch`; any batch
    it does not take is read again field by field, which decides and words the error.
    """
    received = time.time() * 1000.0
    body = await read_body(request, request.app[SETTINGS_KEY].max_body)
    decoded = schema.decode_batch(body)
    token, page, sent, events = decoded or schema.batch_header(_parse(body), needs_session=True)
    assert token is not None
    entry = request.app[SESSIONS_KEY].get(token)
    origin = request.headers.get("Origin")
    if origin and origin not in entry.info.origins and origin != request_origin(request):
        raise ApiError(403, f"Origin: {origin} may not send events to this study")
    rows = None if decoded is None else schema.decoded_rows(events, entry.options)
    if rows is None:
        if decoded is not None:
            events = schema.batch_header(_parse(body), needs_session=True)[3]
        rows = schema.validate_events(events, entry.options)
    del body, events
    return await _store(
        request,
        entry.info,
        schema.SOURCE_SNIPPET,
        schema.Batch(token, page, sent, rows),
        received,
        replay_answer(entry.info.replay),
    )


async def _store(request: web.Request, info: store.SessionInfo, source: int, batch: schema.Batch,
                 received: float, extra: dict[str, Any] | None = None) -> web.Response:  # fmt: skip
    writer = request.app[WRITER_KEY]
    try:
        future = writer.submit(info, source, batch, received)
    except Busy:
        raise ApiError(429, "collector busy: retry later", {"Retry-After": "1"}) from None
    del batch
    try:
        accepted, duplicates = await future
    except store.StoreError as exc:
        raise ApiError(400, str(exc)) from None
    except sqlite3.Error:  # logged by the writer, once per incident
        raise ApiError(503, "storage unavailable: retry later", {"Retry-After": "2"}) from None
    return json_response({"accepted": accepted, "duplicates": duplicates, **(extra or {})})


async def preflight(request: web.Request) -> web.Response:
    """CORS preflight for ``/api/v1/collect`` (JSON bodies need one; text/plain does not)."""
    origin = request.headers.get("Origin", "")
    allowed = origin == request_origin(request) or origin in request.app[SESSIONS_KEY].all_origins()
    if not allowed:
        raise ApiError(403, f"Origin: {origin or 'missing'} may not send events here")
    return web.Response(status=204, headers={
        "Access-Control-Allow-Methods": "POST, OPTIONS",
        "Access-Control-Allow-Headers": "Content-Type",
        "Access-Control-Max-Age": "86400",
    })  # fmt: skip


def _addressed_session(request: web.Request) -> str:
    """The token of the session a moderator route names.

    ``/api/v1/studies/{study}/sessions/{n}/...`` names it by study and number;
    the deprecated ``/api/v1/sessions/{token}/...`` (kept for one release) by its
    token, which puts the participant's write token in every proxy's log.
    """
    number = request.match_info.get("number")
    if number is None:
        return request.match_info["session"]
    return request.app[SESSIONS_KEY].token_of(request.match_info["study"], int(number))


async def moderator_events(request: web.Request) -> web.Response:
    """``POST /api/v1/studies/{study}/sessions/{n}/events``: the console's coded events."""
    received = time.time() * 1000.0
    require_moderator(request)
    token = _addressed_session(request)
    sessions = request.app[SESSIONS_KEY]
    entry = sessions.get(token, moderator=True)
    doc = await _read_batch(request)
    _, page, sent, events = schema.batch_header(doc, needs_session=False)
    rows = schema.validate_events(events, entry.options)
    return await _store(
        request,
        entry.info,
        schema.SOURCE_MODERATOR,
        schema.Batch(token, page, sent, rows),
        received,
    )


async def create_session(request: web.Request) -> web.Response:
    """``POST /api/v1/studies/{study}/sessions`` {participant, variant}: open a session."""
    require_moderator(request)
    body = schema.parse_body(await read_body(request, request.app[SETTINGS_KEY].max_body))
    participant, variant = body.get("participant"), body.get("variant")
    if not isinstance(participant, str) or not participant:
        raise schema.BadInput("participant: required, e.g. P07")
    if not isinstance(variant, str) or not variant:
        raise schema.BadInput("variant: required")
    study = request.match_info["study"]
    info = await in_thread(request, lambda c: store.new_session(c, study, participant, variant))
    return json_response(_session_json(info), status=201)


def _session_json(info: store.SessionInfo) -> dict[str, Any]:
    return {
        "session": info.number, "token": info.token, "study": info.study_id,
        "participant": info.participant, "variant": info.variant, "status": info.status,
        "link": participant_link(info.variant_url, info.token),
    }  # fmt: skip


async def close_session(request: web.Request) -> web.Response:
    """``POST /api/v1/studies/{study}/sessions/{n}/close``: the token writes nothing more."""
    require_moderator(request)
    token = _addressed_session(request)
    try:
        info = await in_thread(request, lambda c: store.close_session(c, token))
    except ApiError as exc:
        raise ApiError(401, exc.message) from None
    request.app[SESSIONS_KEY].forget(token)
    return json_response(_session_json(info))


async def get_study(request: web.Request) -> web.Response:
    """``GET /api/v1/studies/{study}``: the study as loaded (variants, tasks, questionnaires)."""
    require_moderator(request)
    study_id = request.match_info["study"]
    study = await in_thread(request, lambda c: store.load_study(c, study_id))
    return json_response(study_json(study))


async def list_studies(request: web.Request) -> web.Response:
    """``GET /api/v1/studies``: studies with their counts."""
    require_moderator(request)
    return json_response(await in_thread(request, store.list_studies))


async def snippet(request: web.Request) -> web.Response:
    """The built snippet, ``/uxlab.js``."""
    return web.Response(body=request.app[SNIPPET_KEY], content_type="application/javascript",
                        headers={"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"})  # fmt: skip


async def openapi_json(request: web.Request) -> web.Response:
    """``GET /api/v1/openapi.json``: the API described (public: it holds no secret)."""
    return json_response(openapi.document())


def add_routes(app: web.Application) -> None:
    """The collector's routes, and the snippet at ``/uxlab.js``."""
    app[SNIPPET_KEY] = (STATIC / "uxlab.js").read_bytes()
    app.router.add_post("/api/v1/collect", collect)
    app.router.add_route("OPTIONS", "/api/v1/collect", preflight)
    session = r"/api/v1/studies/{study}/sessions/{number:[0-9]{1,12}}"
    app.router.add_post(session + "/events", moderator_events)
    app.router.add_post(session + "/close", close_session)
    # Deprecated (removed in the next release): the session's token in the path.
    app.router.add_post("/api/v1/sessions/{session}/events", moderator_events)
    app.router.add_post("/api/v1/sessions/{session}/close", close_session)
    app.router.add_post("/api/v1/studies/{study}/sessions", create_session)
    app.router.add_get("/api/v1/studies", list_studies)
    app.router.add_get("/api/v1/studies/{study}", get_study)
    app.router.add_get("/uxlab.js", snippet)
    app.router.add_get("/api/v1/openapi.json", openapi_json)
