"""The moderator console: studies, sessions and the live session page, served by ``uxlab serve``.

Pages are jinja2 templates (``recorder/console/templates/``) and JavaScript
modules served as written (``recorder/console/static/console*.js``: ``console.js`` for
the study pages, ``console_live.js`` for the live session with its pure
``console_rules.js``, ``console_outbox.js`` and ``console_questionnaires.js``);
nothing is loaded from other sites (a CSP says so). The console's actions go to
the collector's own moderator API (``/api/v1/...``), authenticated by the
sign-in cookie and CSRF header of :mod:`recorder.auth`; what it reads
comes from :mod:`recorder.console.data` and the live hub (``app[LIVE_KEY]``).

Routes (``{base}`` is ``/studies/{study}`` for the signed-in moderator and
``/observe/{study}/{key}`` for an observer, who sees the same pages read-only):

========================================  =========================================
``GET  /``                                studies (moderator)
``GET|POST /login``, ``POST /logout``     sign in (link or form), sign out
``POST /studies``                         create or update a study from a file
                                          (upload ``study``, server ``path``, or
                                          ``demo`` for the bundled demo shop)
``GET  {base}``                           a study: tasks, variants, sessions
``GET  {base}/sessions.json``             its sessions with status and progress
``GET  {base}/sessions/{n}``              the live session page (``n``: its number
                                          within the study, 1, 2, 3 ...)
``GET  {base}/sessions/{n}/state``        the session's history (rebuilds the page)
``GET  {base}/sessions/{n}/ws``           WebSocket: the history, then live events
``GET  /console/static/{name}``           the console's CSS and scripts
========================================  =========================================
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
import orjson
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from recorder import auth, templating
from recorder.auth import require_moderator
from recorder.console import data
from recorder.demo.shop import EXAMPLE_STUDY
from recorder.findings import store as findings_store
from recorder.settings import DEFAULTS
from recorder.storage import store
from recorder.web import (
    HTML_ERRORS_KEY,
    LIVE_KEY,
    SETTINGS_KEY,
    ApiError,
    in_thread,
    json_response,
    public_base,
)
from recorder.wire import links
from recorder.wire.schema import participant_link
from recorder.wire.studyfile import (
    Study,
    StudyError,
    parse_study,
    read_study,
    study_json,
    study_toml,
)

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
STATIC_FILES = {
    "console.css": "text/css",
    "console_findings.css": "text/css",
    "console_findings.js": "text/javascript",
    "console_live_notes.js": "text/javascript",
    **{
        f"{name}.js": "text/javascript"
        for name in ("console", "console_ui", "console_live", "console_rules", "console_outbox",
                     "console_questionnaires", "console_replay", "console_screen", "uxlab-player")
    },
    "uxlab-player.css": "text/css",  # rrweb's replayer, built by js_snippet/build.mjs
}  # fmt: skip
# Pages load nothing from other sites and may not be framed (their buttons act on a click).
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
# Pages that show a recording: the replayed page keeps its own inline styles and loads its
# images and fonts from the site under test; scripts stay the console's own.
REPLAY_CSP = (
    "default-src 'self'; img-src * data: blob:; style-src 'self' 'unsafe-inline'; "
    "font-src * data:; media-src *; script-src 'self'; connect-src 'self'; "
    "frame-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
STATUS_POLL_S = 5.0  # how often a live page learns that its session was closed elsewhere
SOCKETS_KEY = web.AppKey("console_sockets", set[web.WebSocketResponse])


@cache
def _templates() -> jinja2.Environment:
    env = templating.environment(TEMPLATES)
    env.globals["static"] = lambda name: f"/console/static/{name}"
    return env


def render(template: str, status: int = 200, **context: Any) -> web.Response:
    """A console page."""
    context.setdefault("csrf", "")
    context.setdefault("signed_in", False)
    context.setdefault("observer", False)
    html = _templates().get_template(template).render(**context)
    return web.Response(text=html, status=status, content_type="text/html",
                        headers={"Cache-Control": "no-store", "Content-Security-Policy": CSP,
                                 "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin"})  # fmt: skip


def error_page(status: int, message: str) -> web.Response:
    """Any error shown in a browser: a short page with its status and message."""
    return render("message.html", status, title=f"{status}", message=message)


def redirect(target: str) -> web.Response:
    """303 See Other to a path on this site."""
    return web.Response(status=303, headers={"Location": target, "Cache-Control": "no-store"})


def login_page(request: web.Request, status: int = 401, message: str = "") -> web.Response:
    """The sign-in form; after signing in the browser returns to ``request``'s page."""
    target = request.query.get("next") or (request.path_qs if request.path != "/login" else "/")
    return render("login.html", status, next=auth.safe_next(target), message=message)


# -- who is asking ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Viewer:
    """The signed-in moderator, or an observer of one study."""

    study: str
    observer: bool
    base: str  # URL prefix of this viewer's study pages
    csrf: str


def viewer(request: web.Request) -> Viewer:
    """Who may see ``{study}``: an observer with the study's key, or the moderator."""
    study = request.match_info["study"]
    key = request.match_info.get("key")
    if key is not None:
        if not auth.observer_ok(request, study, key):
            raise ApiError(403, "observer link: not valid; ask the moderator for the current one")
        return Viewer(study, True, f"/observe/{study}/{key}", "")
    refusal = auth.console_refusal(request)
    if refusal is not None:
        raise refusal
    return Viewer(study, False, f"/studies/{study}", auth.request_csrf(request))


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def html_page(handler: Handler) -> Handler:
    """Answer a page's refusals as pages: the sign-in form (401) or a short message."""

    async def page(request: web.Request) -> web.StreamResponse:
        try:
            response = await handler(request)
        except ApiError as exc:
            if exc.status == 401:
                return login_page(request)
            return render("message.html", exc.status, title=f"{exc.status}", message=exc.message)
        auth.renew_if_old(request, response)
        return response

    return page


def _signed_in(request: web.Request) -> str:
    """The CSRF token of the signed-in moderator; 401 otherwise."""
    refusal = auth.console_refusal(request)
    if refusal is not None:
        raise refusal
    return auth.request_csrf(request)


def _session_number(request: web.Request) -> int:
    """The session's number within its study, from the URL."""
    return int(request.match_info["session"])


async def read_form(request: web.Request) -> Any:
    """The request's form fields; a body that is no form is a 400, not a 500."""
    try:
        return await request.post()
    except ValueError as exc:  # aiohttp: a malformed multipart or urlencoded body
        raise ApiError(400, f"body: not a readable form ({exc})") from None
    except HttpProcessingError:  # a multipart part whose headers do not parse
        raise ApiError(400, "body: not a readable form (a part's headers are broken)") from None


# -- sign-in ---------------------------------------------------------------------------------


async def login_get(request: web.Request) -> web.StreamResponse:
    """``GET /login``: the form, or sign in with ``?token=`` (the link ``serve`` prints)."""
    token = request.query.get("token")
    if token is None:
        if auth.read_cookie(request) is not None:
            return redirect(auth.safe_next(request.query.get("next")))
        return login_page(request, 200)
    return _sign_in(request, token, auth.safe_next(request.query.get("next")))


async def login_post(request: web.Request) -> web.StreamResponse:
    """``POST /login``: the sign-in form."""
    if auth.foreign_origin(request):
        message = "Sign in from the console's own page."
        return render("message.html", 403, title="403", message=message)
    form = await read_form(request)
    token, target = form.get("token"), form.get("next")
    return _sign_in(request, token if isinstance(token, str) else "",
                    auth.safe_next(target if isinstance(target, str) else None))  # fmt: skip


def _sign_in(request: web.Request, token: str, target: str) -> web.StreamResponse:
    if not auth.is_admin_token(request, token.strip()):
        message = "That is not the moderator token. Use the login link uxlab serve printed."
        return render("login.html", 401, next=target, message=message)
    response = redirect(target)
    auth.set_sign_in(request, response)
    return response


async def logout(request: web.Request) -> web.StreamResponse:
    """``POST /logout`` (form with the CSRF token): drop the cookie."""
    form = await read_form(request)
    given = form.get("csrf")
    if auth.read_cookie(request) is None:
        return redirect("/login")
    csrf_ok = isinstance(given, str) and auth.csrf_ok(request, given)
    if auth.foreign_origin(request) or not csrf_ok:
        message = "Sign out from the console's own page."
        return render("message.html", 403, title="403", message=message)
    response = redirect("/login")
    response.del_cookie(auth.COOKIE, path="/")
    return response


# -- studies ---------------------------------------------------------------------------------


@html_page
async def studies_page(request: web.Request) -> web.StreamResponse:
    """``GET /``: every study, and a form to create one."""
    csrf = _signed_in(request)
    studies = await in_thread(request, store.list_studies)
    return render("studies.html", studies=studies, csrf=csrf, signed_in=True)


async def save_study(request: web.Request) -> web.Response:
    """``POST /studies``: create or update a study from an uploaded file, a path, or the demo."""
    require_moderator(request)
    form = await read_form(request)
    upload, path = form.get("study"), form.get("path")
    if isinstance(upload, web.FileField):
        study, text = _parse_study_text(upload.file.read(), upload.filename or "the file")
    elif isinstance(path, str) and path.strip():
        try:
            file = Path(path.strip()).expanduser()
        except RuntimeError as exc:  # ~user of no such user
            raise ApiError(400, f"path: {exc}") from None
        try:
            study, text = await asyncio.get_running_loop().run_in_executor(None, read_study, file)
        except StudyError as exc:
            raise ApiError(400, str(exc)) from None
    elif form.get("demo"):
        study, text = _parse_study_text(_demo_study_text(request).encode(), "the demo study")
    else:
        raise ApiError(400, "study: upload a study file (TOML) or give its path")
    created = await in_thread(request, lambda c: store.save_study(c, study, text))
    return json_response({"study": study.id, "created": created, "url": f"/studies/{study.id}"},
                         status=201 if created else 200)  # fmt: skip


def _parse_study_text(raw: bytes, name: str) -> tuple[Study, str]:
    try:
        text = raw.decode("utf-8")
        return parse_study(study_toml(text, name)), text
    except UnicodeDecodeError:
        raise ApiError(400, f"study: {name} is not UTF-8 text") from None
    except StudyError as exc:
        raise ApiError(400, f"study: {exc}") from None


def _demo_study_text(request: web.Request) -> str:
    """The bundled demo shop's study, pointed at the address the moderator uses."""
    here = public_base(request)
    return EXAMPLE_STUDY.read_text(encoding="utf-8").replace("http://127.0.0.1:8642", here)


@html_page
async def study_page(request: web.Request) -> web.StreamResponse:
    """``GET {base}``: a study's tasks, variants and sessions; new sessions for the moderator."""
    who = viewer(request)
    study, sessions = await in_thread(request, lambda c: (
        store.load_study(c, who.study), data.session_progress(c, who.study)))  # fmt: skip
    observer_link = ""
    if not who.observer:
        key = auth.request_observer_key(request, who.study)
        observer_link = f"{public_base(request)}/observe/{who.study}/{key}"
    config = {
        "role": "observer" if who.observer else "moderator",
        "study": study_json(study),
        "base": who.base,
        "sessions": [_session_row(s, who) for s in sessions],
        "next_participant": next_participant([s["participant"] for s in sessions]),
        "next_variant": next_variant(study, sessions),
    }
    db = request.app[SETTINGS_KEY].db
    link_problem = None if who.observer else _link_problem(study, public_base(request), db)
    return render("study.html", study=study, config=config, observer=who.observer,
                  base=who.base, csrf=who.csrf, signed_in=not who.observer,
                  observer_link=observer_link, link_problem=link_problem)  # fmt: skip


def _link_problem(study: Study, here: str, db: str) -> dict[str, Any] | None:
    """Variants whose URLs point at this host but another port, and the fix."""
    found = links.port_mismatches(study, here)
    if not found:
        return None
    db_arg = None if db == DEFAULTS["db"] else db
    return {"variants": found, "here": here, "fix": links.fix_hint(study, here, db_arg)}


async def sessions_json(request: web.Request) -> web.Response:
    """``GET {base}/sessions.json``: the study's sessions with status and progress."""
    who = viewer(request)

    def read(conn: Any) -> list[dict[str, Any]]:
        store.load_study(conn, who.study)  # 404 for a study that is not there
        return data.session_progress(conn, who.study)

    sessions = await in_thread(request, read)
    return json_response({"sessions": [_session_row(s, who) for s in sessions],
                          "server_now": data.server_now_ms()})  # fmt: skip


def _session_row(session: dict[str, Any], who: Viewer) -> dict[str, Any]:
    """A session as the study page lists it; observers get no token and no link."""
    row = {k: v for k, v in session.items() if k not in ("id", "token", "variant_url")}
    row["url"] = f"{who.base}/sessions/{session['number']}"
    row["replay"] = f"{who.base}/sessions/{session['number']}/replay"
    if not who.observer:
        row["token"] = session["token"]
        row["link"] = participant_link(session["variant_url"], session["token"])
    return row


PARTICIPANT_RE = re.compile(r"^(.*?)(\d+)$")


def next_participant(existing: list[str]) -> str:
    """A suggestion for the next participant id: P01, P02, ... after the highest number used."""
    best: tuple[int, str, int] | None = None
    for pid in existing:
        match = PARTICIPANT_RE.match(pid)
        if match and (best is None or int(match.group(2)) > best[0]):
            best = (int(match.group(2)), match.group(1), len(match.group(2)))
    if best is None:
        return "P01"
    number, prefix, width = best
    return f"{prefix}{number + 1:0{width}d}"


def next_variant(study: Study, sessions: list[dict[str, Any]]) -> str:
    """The variant with the fewest sessions so far (balances the design)."""
    counts = {v.id: 0 for v in study.variants}
    for session in sessions:
        if session["variant"] in counts:
            counts[session["variant"]] += 1
    return min(counts, key=lambda v: counts[v])


# -- the live session ------------------------------------------------------------------------


@html_page
async def session_page(request: web.Request) -> web.StreamResponse:
    """``GET {base}/sessions/{n}``: the live session page (controls for the moderator only)."""
    who = viewer(request)
    sid = _session_number(request)
    study, info = await in_thread(request, lambda c: (
        store.load_study(c, who.study), store.session_by_number(c, who.study, sid)))  # fmt: skip
    session: dict[str, Any] = {
        "number": info.number, "participant": info.participant, "variant": info.variant,
        "variant_url": info.variant_url, "status": info.status,
    }  # fmt: skip
    urls = {"study": who.base, "state": f"{who.base}/sessions/{sid}/state",
            "ws": f"{who.base}/sessions/{sid}/ws"}  # fmt: skip
    if not who.observer:
        session["token"] = info.token
        session["link"] = participant_link(info.variant_url, info.token)
        api = f"/api/v1/studies/{quote(who.study, safe='')}/sessions/{info.number}"
        urls["events"], urls["close"] = f"{api}/events", f"{api}/close"
    study_doc = study_json(study)
    del study_doc["origins"]
    if study.replay is not None:  # the live view of the participant's screen
        urls["screen"] = f"{who.base}/sessions/{sid}/recording.json?live=1"
        urls["replay"] = f"{who.base}/sessions/{sid}/replay"
    config = {"role": "observer" if who.observer else "moderator", "study": study_doc,
              "session": session, "urls": urls}  # fmt: skip
    response = render("session.html", study=study, session=session, config=config,
                      observer=who.observer, base=who.base, csrf=who.csrf,
                      signed_in=not who.observer)  # fmt: skip
    if study.replay is not None:
        response.headers["Content-Security-Policy"] = REPLAY_CSP
    return response


def _state(conn: Any, session_id: int) -> dict[str, Any]:
    notes = findings_store.session_note_events(conn, session_id)  # observers' notes
    return {
        "status": data.session_status(conn, session_id),
        "server_now": data.server_now_ms(),
        "events": sorted([*data.session_history(conn, session_id), *notes], key=lambda e: e["ts"]),
        "offsets": data.load_offsets(conn, session_id),
    }


async def _session_of(request: web.Request) -> tuple[Viewer, store.SessionInfo]:
    who = viewer(request)
    sid = _session_number(request)
    info = await in_thread(request, lambda c: store.session_by_number(c, who.study, sid))
    return who, info


async def session_state(request: web.Request) -> web.Response:
    """``GET {base}/sessions/{n}/state``: the session rebuilt from the database."""
    _, info = await _session_of(request)
    state = await in_thread(request, lambda c: _state(c, info.id))
    del state["offsets"]
    return json_response({"kind": "state", **state})


async def session_ws(request: web.Request) -> web.StreamResponse:
    """``GET {base}/sessions/{n}/ws``: the session's history, then every event as committed.

    Messages (JSON text): ``{"kind": "state", "status", "server_now", "events"}`` first
    (and again if this console fell behind), ``{"kind": "events", "events": [...]}``
    as they are committed, ``{"kind": "status", "status"}`` when the session closes.
    The subscription starts before the history is read, so nothing falls between
    the two; the page drops what it receives twice by ``(load, seq)``.
    """
    origin = auth.foreign_origin(request)
    if origin is not None:  # a WebSocket is not bound by the same-origin policy
        raise ApiError(403, f"Origin: {origin} may not watch sessions")
    _, info = await _session_of(request)
    ws = web.WebSocketResponse(heartbeat=20.0, max_msg_size=4096)
    await ws.prepare(request)
    live, sockets = request.app[LIVE_KEY], request.app[SOCKETS_KEY]
    queue = live.subscribe(info.id)
    sockets.add(ws)
    pump = asyncio.create_task(_pump(request, ws, queue, info.id))
    try:
        async for _ in ws:  # the page sends nothing that matters; this waits for the close
            pass
    finally:
        pump.cancel()
        live.unsubscribe(info.id, queue)
        sockets.discard(ws)
    return ws


async def _pump(request: web.Request, ws: web.WebSocketResponse,
                queue: asyncio.Queue[dict[str, Any]], session_id: int) -> None:  # fmt: skip
    """Send the history, then the live events with their server-clock time ``ts``."""
    offsets: dict[str, float] = {}
    status = await _send_state(request, ws, session_id, offsets)
    while not ws.closed:
        try:
            first = await asyncio.wait_for(queue.get(), STATUS_POLL_S)
        except TimeoutError:
            now = await in_thread(request, lambda c: data.session_status(c, session_id))
            if now != status:
                status = now
                await ws.send_str(orjson.dumps({"kind": "status", "status": status}).decode())
            continue
        fell_behind = queue.full()
        events = [first]
        while not queue.empty():
            events.append(queue.get_nowait())
        if fell_behind:  # the hub dropped events for us: start over from the database
            status = await _send_state(request, ws, session_id, offsets)
            continue
        if any(e["load"] not in offsets for e in events):
            offsets.update(await in_thread(request, lambda c: data.load_offsets(c, session_id)))
        # The hub shares event dicts between watchers: copy, never change them.
        stamped = [{**e, "ts": e["t"] + offsets.get(e["load"], 0.0)} for e in events
                   if e["type"] != "recording"]  # fmt: skip
        if stamped:
            await ws.send_str(orjson.dumps({"kind": "events", "events": stamped}).decode())
        screen = [e for e in events if e["type"] == "recording"]
        if screen:  # recording chunks, on the server's clock like the recording's replay
            await ws.send_str(orjson.dumps({"kind": "recording", "chunks": [
                {"load": c["load"], "seq": c["seq"], "events": [
                    {**r, "timestamp": r["timestamp"] + offsets.get(c["load"], 0.0)}
                    for r in c["events"]]} for c in screen]}).decode())  # fmt: skip


async def _send_state(request: web.Request, ws: web.WebSocketResponse, session_id: int,
                      offsets: dict[str, float]) -> str:  # fmt: skip
    state = await in_thread(request, lambda c: _state(c, session_id))
    offsets.update(state.pop("offsets"))
    await ws.send_str(orjson.dumps({"kind": "state", **state}).decode())
    return str(state["status"])


async def _close_sockets(app: web.Application) -> None:
    sockets: set[web.WebSocketResponse] = app[SOCKETS_KEY]
    for ws in list(sockets):
        await ws.close(code=1001, message=b"server shutting down")


# -- static files ----------------------------------------------------------------------------


async def static_file(request: web.Request) -> web.StreamResponse:
    """``GET /console/static/{name}``: the console's stylesheet and script modules.

    ``no-cache``: the browser revalidates (a 304 on loopback), so modules that import
    each other are never mixed across an upgrade.
    """
    name = request.match_info["name"]
    if name not in STATIC_FILES:
        raise ApiError(404, f"no console file {name!r}")
    return web.FileResponse(STATIC / name, headers={"Cache-Control": "no-cache",
                                                   "Content-Type": STATIC_FILES[name]})  # fmt: skip


def add_routes(app: web.Application) -> None:
    """Register the console's pages, its JSON and WebSocket endpoints, and its static files."""
    app[SOCKETS_KEY] = set()
    app[HTML_ERRORS_KEY] = error_page
    app.on_shutdown.append(_close_sockets)
    add = app.router.add_get
    add("/", studies_page)
    add("/login", login_get)
    app.router.add_post("/login", login_post)
    app.router.add_post("/logout", logout)
    app.router.add_post("/studies", save_study)
    for base in ("/studies/{study}", "/observe/{study}/{key}"):
        add(base, study_page)
        add(base + "/sessions.json", sessions_json)
        add(base + r"/sessions/{session:[0-9]{1,12}}", session_page)
        add(base + r"/sessions/{session:[0-9]{1,12}}/state", session_state)
        add(base + r"/sessions/{session:[0-9]{1,12}}/ws", session_ws)
    add("/console/static/{name}", static_file)
