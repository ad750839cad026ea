"""What every handler shares: the error type, JSON answers, the app's keys, a store call
off the event loop. A leaf: it imports nothing of the collector or the console."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web

from recorder.settings import Settings
from recorder.storage import store
from recorder.storage.live import Live
from recorder.storage.writer import Writer
from recorder.wire import schema

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
    if not message.isascii():  # text echoed from a request may hold undecodable bytes
        message = message.encode("utf-8", "backslashreplace").decode("utf-8")
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
        self.tokens: dict[tuple[str, int], str] = {}
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

    def token_of(self, study: str, number: int) -> str:
        """The token of session ``number`` of ``study`` (404 when there is none).

        A session's token never changes, so the answer is cached for good.
        """
        key = (study, number)
        token = self.tokens.get(key)
        if token is None:
            try:
                token = store.session_by_number(self.conn, study, number).token
            except store.StoreError as exc:
                raise ApiError(404, str(exc)) from None
            if len(self.tokens) > 50_000:
                self.tokens.clear()
            self.tokens[key] = token
        return token

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
# The console's error page (status, message) -> response, for a browser asking for a page.
HTML_ERRORS_KEY: web.AppKey[Callable[[int, str], web.Response]] = web.AppKey("html_errors")


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def request_origin(request: web.Request) -> str:
    """The origin the request reached: its scheme and host (behind a trusted proxy, the proxy's)."""
    return f"{request.scheme}://{request.host}"


def public_base(request: web.Request) -> str:
    """The URL people use to reach this server: ``public_url`` when set, else the request's origin.

    (:attr:`recorder.settings.Settings.base_url` is the same rule without a request: the
    host and port the server listens on.)
    """
    return request.app[SETTINGS_KEY].public_url.rstrip("/") or request_origin(request)


async def in_thread(request: web.Request, fn: Callable[[sqlite3.Connection], Any]) -> Any:
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
