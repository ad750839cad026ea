"""The server: the application factory that wires the collector, the console and the demo,
the error middleware, and ``uxlab serve``'s run loop."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import sqlite3
import sys
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from recorder import __version__, warmup
from recorder.collector import api
from recorder.collector import replay as replay_api
from recorder.console import findings as findings_pages
from recorder.console import pages, replay, report
from recorder.demo import shop
from recorder.errors import UxlabError
from recorder.findings import api as findings_api
from recorder.http_guards import (
    RUNNER_OPTIONS,
    AccessLogger,
    header_bytes_middleware,
    redact,
    redact_logs,
    trusted_proxy_middleware,
)
from recorder.settings import Settings
from recorder.storage import store
from recorder.storage.live import Live
from recorder.storage.writer import Writer
from recorder.web import (
    ADMIN_KEY,
    HTML_ERRORS_KEY,
    LIVE_KEY,
    SESSIONS_KEY,
    SETTINGS_KEY,
    WRITER_KEY,
    ApiError,
    Handler,
    Sessions,
    error_response,
    json_response,
)
from recorder.wire import links, schema

log = logging.getLogger("uxlab")


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn every error into ``{"error", "status"}``; never a 500 for bad input."""
    try:
        response = await handler(request)
    except ApiError as exc:
        response = error_response(exc.status, exc.message, exc.headers)
    except schema.BadInput as exc:
        response = error_response(400, str(exc))
    except (web.RequestPayloadError, HttpProcessingError) as exc:  # a body aiohttp cannot read
        reason = " ".join(str(exc).split()).removeprefix("400, message: ")
        response = error_response(400, f"body: {reason}")
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
    except sqlite3.DatabaseError as exc:
        if store.damaged(exc):
            log.error("%s %s: %s", request.method, request.path,
                      store.damage_message(request.app[SETTINGS_KEY].db, exc))  # fmt: skip
            response = error_response(503, "the database file is damaged; see the server log")
        elif store.out_of_space(exc):
            log.error("%s %s: storage failed: %s", request.method, request.path, exc)
            response = error_response(503, "storage unavailable: retry later", {"Retry-After": "2"})
        else:
            log.exception("unexpected error on %s %s", request.method, request.path)
            response = error_response(500, "internal error; see the server log")
    except Exception:
        log.exception("unexpected error on %s %s", request.method, redact(request.path))
        response = error_response(500, "internal error; see the server log")
    if response.status >= 400 and response.content_type == "application/json":
        response = _as_page(request, response)
    if request.path in api.CORS_PATHS:
        api.add_cors(request, response)
    return response


def wants_html(request: web.Request) -> bool:
    """A browser asking for a page (not the API, not a script's fetch of JSON)."""
    if request.path.startswith("/api/"):
        return False
    return "text/html" in request.headers.get("Accept", "")


def _as_page(request: web.Request, response: web.StreamResponse) -> web.StreamResponse:
    """An error a browser will show: the console's error page instead of raw JSON."""
    pages = request.app.get(HTML_ERRORS_KEY)
    if pages is None or not wants_html(request) or not isinstance(response, web.Response):
        return response
    body = orjson.loads(response.body) if isinstance(response.body, bytes) else {}
    page = pages(response.status, str(body.get("error", response.reason)))
    for name in ("Retry-After", "Allow"):
        if name in response.headers:
            page.headers[name] = response.headers[name]
    return page


async def healthz(request: web.Request) -> web.Response:
    """Liveness and the writer's queue depth."""
    writer = request.app[WRITER_KEY]
    return json_response({"status": "ok", "version": __version__, "pending_events": writer.pending,
                          "commits": writer.commits, "writer_restarts": writer.restarts})  # fmt: skip


# -- application -----------------------------------------------------------------------------


async def _resources(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS_KEY]
    live = Live()
    writer = Writer(settings.db, settings.queue_events, live, process=settings.writer_process,
                    max_page_count=settings.max_page_count)  # fmt: skip
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
    middlewares = [error_middleware, header_bytes_middleware]
    if settings.trusted_proxy:
        middlewares.append(trusted_proxy_middleware)
    app = web.Application(middlewares=middlewares, client_max_size=settings.max_body)
    app[SETTINGS_KEY] = settings
    app.cleanup_ctx.append(_resources)
    app.router.add_get("/healthz", healthz)
    api.add_routes(app)
    shop.add_routes(app)
    pages.add_routes(app)  # "/" is the console's studies page
    report.add_routes(app)
    replay.add_routes(app)
    replay_api.add_routes(app)
    findings_api.add_routes(app)
    findings_pages.add_routes(app)
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
    redact_logs()  # no token reaches a log line
    # The request path makes many short-lived dicts and tuples: collect the young
    # generation less often, and keep start-up objects out of full collections.
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)
    conn = store.open_db(settings.db)  # migrate (or fail with one line) before listening
    try:
        if Path(settings.db).stat().st_size <= store.CHECK_AT_START_BYTES:
            problems = store.check(conn)
            if problems:
                raise store.StoreError(store.damage_message(settings.db, problems[0]))
        token = store.admin_token(conn, settings.admin_token)
    finally:
        conn.close()
    return asyncio.run(_serve(settings, token))


def _check_in_background(db: str) -> None:
    """A big database is checked once the server listens; damage is logged in one line."""
    if Path(db).stat().st_size <= store.CHECK_AT_START_BYTES:
        return

    def check() -> None:
        conn = store.connect(db)
        try:
            problems = store.check(conn)
        finally:
            conn.close()
        if problems:
            log.error("%s", store.damage_message(db, problems[0]))

    threading.Thread(target=check, name="uxlab-check", daemon=True).start()


def _link_warnings(db: str, base: str) -> list[str]:
    """Studies whose participants' links point at this host but another port; remember ``base``."""
    conn = store.connect(db)
    try:
        store.meta_set(conn, store.SERVED_URL, base)
        studies = [store.load_study(conn, row["id"]) for row in store.list_studies(conn)]
    finally:
        conn.close()
    found = (links.warning(study, base, db) for study in studies)
    return [line for line in found if line]


async def _serve(settings: Settings, token: str) -> int:
    runner = web.AppRunner(create_app(settings), access_log=log if settings.access_log else None,
                           access_log_class=AccessLogger, **RUNNER_OPTIONS)  # fmt: skip
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise UxlabError(
            f"cannot listen on {settings.host}:{settings.port}: {exc.strerror}"
        ) from None
    port = runner.addresses[0][1]
    settings.port = port
    base = settings.base_url
    print(f"uxlab {__version__} serving on {base} (database {settings.db})", flush=True)
    where = "UXLAB_ADMIN_TOKEN" if settings.admin_token else "the database"
    print(f"moderator login: {base}/login?token={token}  (token from {where})", flush=True)
    for line in _link_warnings(settings.db, base):
        print(f"warning: {line}", flush=True)
    print(f'snippet: <script src="{base}/uxlab.js" async></script>', flush=True)
    demo = f"{base}/demo/A/ and {base}/demo/B/"
    print(f"demo shop: {demo}  (its study: uxlab study example -o demo.toml)", flush=True)
    sys.stdout.flush()
    warm = await warmup.start(settings.db) if settings.warm_kernels else None
    _check_in_background(settings.db)
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
