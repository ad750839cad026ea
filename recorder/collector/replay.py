"""The collector's side of recordings: ``POST /api/v1/replay`` and ``/uxlab-replay.js``.

A chunk batch is checked (:func:`recorder.storage.recordings.parse_recording`), the
session's cap on stored recording bytes is checked, and the batch goes to
the single writer like an event batch: ``200`` means on disk. Past the cap
the answer is ``413`` and the snippet stops recording (its events go on).
"""

from __future__ import annotations

import time
from pathlib import Path

from aiohttp import web

from recorder.collector.api import _store
from recorder.http_guards import decode_body
from recorder.storage import recordings as recording
from recorder.web import SESSIONS_KEY, SETTINGS_KEY, ApiError, request_origin

STATIC = Path(__file__).parent / "static"
RECORDER_FILE = "uxlab-replay.js"
RECORDER_KEY = web.AppKey("recorder_module", bytes)
# A recording body may be this many times UXLAB_MAX_BODY: a page's full snapshot sent as
# plain JSON (a browser without CompressionStream, or a page that is leaving) is large.
BODY_FACTOR = 8


async def _read_body(request: web.Request, limit: int) -> bytes:
    """The request body, up to ``limit`` bytes (413 "body: ..." above: that batch only)."""
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(413, f"body: larger than {limit} bytes")
    parts, size = [], 0
    async for block in request.content.iter_chunked(1 << 16):
        size += len(block)
        if size > limit:
            raise ApiError(413, f"body: larger than {limit} bytes")
        parts.append(block)
    return b"".join(parts)


async def post_recording(request: web.Request) -> web.Response:
    """``POST /api/v1/replay``: a batch of recording chunks of one page load."""
    received = time.time() * 1000.0
    limit = request.app[SETTINGS_KEY].max_body * BODY_FACTOR
    body = decode_body(request, await _read_body(request, limit), limit)
    if not body:
        raise ApiError(400, "body: empty")
    batch = recording.parse_recording(body)
    del body
    sessions = request.app[SESSIONS_KEY]
    entry = sessions.get(batch.session)
    origin = request.headers.get("Origin")
    if origin and origin not in entry.info.origins and origin != request_origin(request):
        raise ApiError(403, f"Origin: {origin} may not send recordings to this study")
    if entry.info.replay is None:
        raise ApiError(403, "session: its study does not record replays (replay = true)")
    cap = request.app[SETTINGS_KEY].replay_max_mb * 1024 * 1024
    stored = recording.recording_bytes(sessions.conn, entry.info.id)
    if stored >= cap:
        raise ApiError(413, f"recording: this session's recording reached its cap of "
                            f"{request.app[SETTINGS_KEY].replay_max_mb} MB")  # fmt: skip
    return await _store(request, entry.info, recording.SOURCE_RECORDING, batch, received)


async def recorder_module(request: web.Request) -> web.Response:
    """The recorder module, ``/uxlab-replay.js``: rrweb's recorder and uxlab's glue."""
    return web.Response(body=request.app[RECORDER_KEY], content_type="application/javascript",
                        headers={"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"})  # fmt: skip


def add_routes(app: web.Application) -> None:
    """Register the recording endpoint and the recorder module."""
    app[RECORDER_KEY] = (STATIC / RECORDER_FILE).read_bytes()
    app.router.add_post("/api/v1/replay", post_recording)
    app.router.add_get("/" + RECORDER_FILE, recorder_module)
