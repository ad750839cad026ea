"""The collector: aiohttp application, routes, errors and CORS.

Handlers validate, hand batches to the single :class:`~recorder.writer.Writer`
and answer after commit. Errors are :class:`ApiError` (or aiohttp's own HTTP
exceptions) turned into one JSON shape by :func:`error_middleware`:
``{"error": "...", "status": 400}``.
"""

from __future__ import annotations

import asyncio
import gc
import hmac
import logging
import signal
import sqlite3
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web

from recorder import __version__, schema, store, warmup
from recorder.live import Live
from recorder.settings import Settings
from recorder.studyfile import Study
from recorder.writer import Busy, Writer

log = logging.getLogger("uxlab")
STATIC = Path(__file__).parent / "static"
SESSION_TTL_S = 2.0  # a session closed by another process is noticed this quickly


class ApiError(Exception):
    """An error answered to the client with its status and a message."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


def json_response(
    payload: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """A JSON response serialised with orjson."""
    return web.Response(
        body=orjson.dumps(payload), status=status, content_type="application/json", headers=headers
    )


def error_response(
    status: int, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    """The one JSON shape of every error uxlab answers."""
    return json_response({"error": message, "status": status}, status, headers)


@dataclass(slots=True)
class CachedSession:
    info: store.SessionInfo
    options: schema.Options
    fetched: float


class Sessions:
    """Session tokens -> session info, read through a small time-limited cache."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.cache: dict[tuple[str, bool], CachedSession] = {}
        self.origins: frozenset[str] = frozenset()
        self.origins_at = 0.0

    def get(self, token: str, moderator: bool = False) -> CachedSession:
        """The open session of ``token``; 401 when unknown, 403 when closed.

        The moderator's view of a session allows other event types than the
        participant's, so the two are cached apart.
        """
        now = time.monotonic()
        key = (token, moderator)
        entry = self.cache.get(key)
        if entry is None or now - entry.fetched > SESSION_TTL_S:
            info = store.find_session(self.conn, token)
            if info is None:
                self.cache.pop(key, None)
                raise ApiError(401, "session: unknown session token")
            types = schema.MODERATOR_TYPES if moderator else schema.PARTICIPANT_TYPES
            options = schema.Options(
                types=types, tasks=info.tasks, capture_values=info.capture_values
            )
            entry = CachedSession(info, options, now)
            if len(self.cache) > 50_000:
                self.cache.clear()
            self.cache[key] = entry
        if entry.info.status != "open":
            raise ApiError(403, "session: this session is closed")
        return entry

    def forget(self, token: str) -> None:
        """Drop a token from the cache (after the session changed)."""
        self.cache.pop((token, False), None)
        self.cache.pop((token, True), None)

    def all_origins(self) -> frozenset[str]:
        """Every origin any study allows (for CORS preflight)."""
        now = time.monotonic()
        if now - self.origins_at > SESSION_TTL_S:
            found: set[str] = set()
            for (text,) in self.conn.execute("SELECT origins FROM studies"):
                found.update(orjson.loads(text))
            self.origins, self.origins_at = frozenset(found), now
        return self.origins


SETTINGS_KEY = web.AppKey("settings", Settings)
WRITER_KEY = web.AppKey("writer", Writer)
SESSIONS_KEY = web.AppKey("sessions", Sessions)
ADMIN_KEY = web.AppKey("admin_token", str)
SNIPPET_KEY = web.AppKey("snippet", bytes)
LIVE_KEY = web.AppKey("live", Live)


# -- middleware ------------------------------------------------------------------------------

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn every error into ``{"error", "status"}``; never a 500 for bad input."""
    try:
        response = await handler(request)
    except ApiError as exc:
        response = error_response(exc.status, exc.message, exc.headers)
    except schema.BadInput as exc:
        response = error_response(400, str(exc))
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        message = exc.reason
        if exc.status == 413:
            message = f"body: larger than {request.app[SETTINGS_KEY].max_body} bytes"
        response = error_response(
            exc.status, message, {k: v for k, v in exc.headers.items() if k == "Allow"}
        )
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("unexpected error on %s %s", request.method, request.path)
        response = error_response(500, "internal error; see the server log")
    if request.path == "/api/v1/collect":
        _cors(request, response)
    return response


def _cors(request: web.Request, response: web.StreamResponse) -> None:
    """Let a study's pages read the collector's answers (errors included)."""
    origin = request.headers.get("Origin")
    if origin and (
        origin == _own_origin(request) or origin in request.app[SESSIONS_KEY].all_origins()
    ):
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = "Retry-After"
        response.headers["Vary"] = "Origin"


def _own_origin(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


# -- participant events ----------------------------------------------------------------------


async def _read_batch(request: web.Request) -> dict[str, Any]:
    # Any Content-Type is read as JSON: the snippet sends text/plain (no CORS
    # preflight), the console application/json, curl form-encoded by default.
    body = await request.read()
    if not body:
        raise schema.BadInput("body: empty")
    return schema.parse_body(body)


async def collect(request: web.Request) -> web.Response:
    """``POST /api/v1/collect``: a batch of the snippet's events."""
    received = time.time() * 1000.0
    doc = await _read_batch(request)
    token, page, sent, events = schema.batch_header(doc, needs_session=True)
    assert token is not None
    entry = request.app[SESSIONS_KEY].get(token)
    origin = request.headers.get("Origin")
    if origin and origin not in entry.info.origins and origin != _own_origin(request):
        raise ApiError(403, f"Origin: {origin} may not send events to this study")
    rows = schema.validate_events(events, entry.options)
    del doc, events
    return await _store(
        request, entry.info, schema.SOURCE_SNIPPET, schema.Batch(token, page, sent, rows), received
    )


async def _store(request: web.Request, info: store.SessionInfo, source: int, batch: schema.Batch,
                 received: float) -> web.Response:  # fmt: skip
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
    except sqlite3.Error as exc:
        log.error("storage failed: %s", exc)
        raise ApiError(503, "storage unavailable: retry later", {"Retry-After": "2"}) from None
    return json_response({"accepted": accepted, "duplicates": duplicates})


async def preflight(request: web.Request) -> web.Response:
    """CORS preflight for ``/api/v1/collect`` (JSON bodies need one; text/plain does not)."""
    origin = request.headers.get("Origin", "")
    allowed = origin == _own_origin(request) or origin in request.app[SESSIONS_KEY].all_origins()
    if not allowed:
        raise ApiError(403, f"Origin: {origin or 'missing'} may not send events here")
    return web.Response(status=204, headers={
        "Access-Control-Allow-Methods": "POST, OPTIONS",
        "Access-Control-Allow-Headers": "Content-Type",
        "Access-Control-Max-Age": "86400",
    })  # fmt: skip


# -- moderator API ---------------------------------------------------------------------------


def is_moderator(request: web.Request) -> bool:
    """True for the moderator's bearer token, or the console's sign-in cookie (with its
    CSRF token on requests that change something; see :mod:`recorder.console_auth`)."""
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() == "bearer" and given:
        return hmac.compare_digest(given.strip().encode(), request.app[ADMIN_KEY].encode())
    from recorder.console_auth import console_refusal  # the console imports this module

    return console_refusal(request) is None


def require_moderator(request: web.Request) -> None:
    """401 unless the request is the moderator's; 403 for the console's cookie without CSRF."""
    if is_moderator(request):
        return
    from recorder.console_auth import console_refusal

    refusal = console_refusal(request)
    if refusal is not None and refusal.status == 403:
        raise refusal
    raise ApiError(401, "Authorization: moderator token required", {"WWW-Authenticate": "Bearer"})


async def moderator_events(request: web.Request) -> web.Response:
    """``POST /api/v1/sessions/{session}/events``: the console's coded events."""
    received = time.time() * 1000.0
    require_moderator(request)
    token = request.match_info["session"]
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


async def _in_thread(request: web.Request, fn: Callable[[sqlite3.Connection], Any]) -> Any:
    """Run a store call on its own connection off the event loop."""
    path = request.app[SETTINGS_KEY].db

    def call() -> Any:
        conn = store.connect(path)
        try:
            return fn(conn)
        finally:
            conn.close()

    try:
        return await asyncio.get_running_loop().run_in_executor(None, call)
    except store.StoreError as exc:
        status = 404 if str(exc).startswith("no ") else 400
        raise ApiError(status, str(exc)) from None


async def create_session(request: web.Request) -> web.Response:
    """``POST /api/v1/studies/{study}/sessions`` {participant, variant}: open a session."""
    require_moderator(request)
    body = schema.parse_body(await request.read())
    participant, variant = body.get("participant"), body.get("variant")
    if not isinstance(participant, str) or not participant:
        raise schema.BadInput("participant: required, e.g. P07")
    if not isinstance(variant, str) or not variant:
        raise schema.BadInput("variant: required")
    study = request.match_info["study"]
    info = await _in_thread(request, lambda c: store.new_session(c, study, participant, variant))
    return json_response(_session_json(info), status=201)


def _session_json(info: store.SessionInfo) -> dict[str, Any]:
    from recorder.cli import participant_link  # cli imports app lazily: no cycle at import time

    return {
        "session": info.id, "token": info.token, "study": info.study_id,
        "participant": info.participant, "variant": info.variant, "status": info.status,
        "link": participant_link(info.variant_url, info.token),
    }  # fmt: skip


async def close_session(request: web.Request) -> web.Response:
    """``POST /api/v1/sessions/{session}/close``: the token writes nothing more."""
    require_moderator(request)
    token = request.match_info["session"]
    try:
        info = await _in_thread(request, lambda c: store.close_session(c, token))
    except ApiError as exc:
        raise ApiError(401, exc.message) from None
    request.app[SESSIONS_KEY].forget(token)
    return json_response(_session_json(info))


async def get_study(request: web.Request) -> web.Response:
    """``GET /api/v1/studies/{study}``: the study as loaded (variants, tasks, questionnaires)."""
    require_moderator(request)
    study_id = request.match_info["study"]
    study = await _in_thread(request, lambda c: store.load_study(c, study_id))
    return json_response(study_json(study))


def study_json(study: Study) -> dict[str, Any]:
    """A study in the shape of its study file."""
    return {
        "id": study.id, "name": study.name, "origins": study.origins,
        "variants": [{"id": v.id, "url": v.url} for v in study.variants],
        "tasks": [{"id": t.id, "prompt": t.prompt, "success": t.success, "expected_path": t.expected_path}
                  for t in study.tasks],
        "questionnaires": study.questionnaires, "capture_input_values": study.capture_values,
    }  # fmt: skip


async def list_studies(request: web.Request) -> web.Response:
    """``GET /api/v1/studies``: studies with their counts."""
    require_moderator(request)
    return json_response(await _in_thread(request, store.list_studies))


# -- plain pages -----------------------------------------------------------------------------


async def healthz(request: web.Request) -> web.Response:
    """Liveness and the writer's queue depth."""
    writer = request.app[WRITER_KEY]
    return json_response({"status": "ok", "version": __version__, "pending_events": writer.pending,
                          "commits": writer.commits})  # fmt: skip


async def snippet(request: web.Request) -> web.Response:
    """The built snippet, ``/uxlab.js``."""
    return web.Response(body=request.app[SNIPPET_KEY], content_type="application/javascript",
                        headers={"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"})  # fmt: skip


# -- application -----------------------------------------------------------------------------


async def _resources(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS_KEY]
    live = Live()
    writer = Writer(settings.db, settings.queue_events, live, process=settings.writer_process)
    await asyncio.get_running_loop().run_in_executor(None, writer.start, asyncio.get_running_loop())
    reader = store.connect(settings.db)
    app[WRITER_KEY] = writer
    app[LIVE_KEY] = live
    app[SESSIONS_KEY] = Sessions(reader)
    app[ADMIN_KEY] = store.admin_token(reader, settings.admin_token)
    try:
        yield
    finally:
        await asyncio.get_running_loop().run_in_executor(None, writer.stop)
        reader.close()


def create_app(settings: Settings) -> web.Application:
    """Build the collector application for ``settings``."""
    app = web.Application(middlewares=[error_middleware], client_max_size=settings.max_body)
    app[SETTINGS_KEY] = settings
    app[SNIPPET_KEY] = (STATIC / "uxlab.js").read_bytes()
    app.cleanup_ctx.append(_resources)
    app.router.add_post("/api/v1/collect", collect)
    app.router.add_route("OPTIONS", "/api/v1/collect", preflight)
    app.router.add_post("/api/v1/sessions/{session}/events", moderator_events)
    app.router.add_post("/api/v1/sessions/{session}/close", close_session)
    app.router.add_post("/api/v1/studies/{study}/sessions", create_session)
    app.router.add_get("/api/v1/studies", list_studies)
    app.router.add_get("/api/v1/studies/{study}", get_study)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/uxlab.js", snippet)
    from recorder import console, demo  # both import this module: imported once it is loaded

    demo.add_routes(app)
    console.add_routes(app)  # "/" is the console's studies page
    return app


def run(settings: Settings) -> int:
    """``uxlab serve``: run until interrupted."""
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # The request path makes many short-lived dicts and tuples: collect the young
    # generation less often, and keep start-up objects out of full collections.
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)
    conn = store.open_db(settings.db)  # migrate (or fail with one line) before listening
    token = store.admin_token(conn, settings.admin_token)
    conn.close()
    return asyncio.run(_serve(settings, token))


async def _serve(settings: Settings, token: str) -> int:
    runner = web.AppRunner(create_app(settings), access_log=log if settings.access_log else None)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise OSError(f"cannot listen on {settings.host}:{settings.port}: {exc.strerror}") from None
    port = runner.addresses[0][1]
    settings.port = port
    base = settings.base_url
    print(f"uxlab {__version__} serving on {base} (database {settings.db})", flush=True)
    where = "UXLAB_ADMIN_TOKEN" if settings.admin_token else "the database"
    print(f"moderator login: {base}/login?token={token}  (token from {where})", flush=True)
    print(f'snippet: <script src="{base}/uxlab.js" async></script>', flush=True)
    demo = f"{base}/demo/A/ and {base}/demo/B/"
    print(f"demo shop: {demo}  (its study: uxlab study example -o demo.toml)", flush=True)
    sys.stdout.flush()
    warm = await warmup.start(settings.db) if settings.warm_kernels else None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        print("uxlab: stopping; committing what is queued", flush=True)
        await warmup.stop(warm)
        await runner.cleanup()
    return 0
