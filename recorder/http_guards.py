"""What stands between the network and the handlers: bad header bytes, a trusted proxy,
and logs that never carry a token.

- :func:`read_body` (or :func:`decode_body` for a body read otherwise) decodes a
  ``gzip`` or ``deflate`` body (aiohttp's own decoding is
  off, :data:`RUNNER_OPTIONS`, so that every bad body gets the JSON error shape).
- :func:`header_bytes_middleware` refuses a request whose header values are not
  UTF-8 (aiohttp decodes them with ``surrogateescape``; such a string cannot be
  hashed, compared as bytes, echoed or serialised, so every later step would
  fail with a 500). The answer is the collector's JSON error, naming the header.
- :func:`trusted_proxy_middleware` (only with ``UXLAB_TRUSTED_PROXY``) takes the
  scheme from ``X-Forwarded-Proto`` and the client's address from the last
  ``X-Forwarded-For`` entry (the one the proxy itself appended). Off by default:
  a client talking to uxlab directly could otherwise claim https or any address.
- :func:`redact` removes secrets from a logged line: the ``token`` and ``uxlab``
  query parameters (the moderator's login link, the participant's link), the
  session token in the deprecated ``/api/v1/sessions/{token}/...`` paths and the
  observer key in ``/observe/{study}/{key}``. :class:`AccessLogger` writes the
  access log through it, and :class:`RedactingFilter` guards every other line
  (the server's error lines quote the request); a request aiohttp's parser
  refuses is one INFO line, not a traceback.
"""

from __future__ import annotations

import logging
import re
import zlib
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.http_exceptions import HttpProcessingError

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# aiohttp decodes gzip/deflate bodies while it parses, and a body that does not decode is
# then answered by its parser (text/plain) or by the handler, depending on timing. The
# application reads the raw body and decodes it itself (:func:`read_body`): pass these
# options to every runner of the application.
RUNNER_OPTIONS = {"auto_decompress": False}
CODINGS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}
REDACTED = "[redacted]"
FORWARDED_FOR = "uxlab.forwarded_for"
_SECRET_PARAM = re.compile(r"([?&;](?:token|uxlab)=)[^&;#\s\"']*", re.IGNORECASE)
_SECRET_PATH = re.compile(r"(/api/v1/sessions/|/observe/[^/?#\s\"']+/)[^/?#\s\"']+")


def redact(text: str) -> str:
    """``text`` without session tokens, the moderator token or observer keys."""
    if "=" in text:
        text = _SECRET_PARAM.sub(r"\1" + REDACTED, text)
    if "/api/v1/sessions/" in text or "/observe/" in text:
        text = _SECRET_PATH.sub(r"\1" + REDACTED, text)
    return text


def _not_utf8(raw: bytes) -> bool:
    if raw.isascii():
        return False
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


@web.middleware
async def header_bytes_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """400 for a header value that is not UTF-8 (instead of a 500 where it is used), 415 for a
    body in a content coding aiohttp does not decode."""
    for name, value in request.raw_headers:
        if _not_utf8(value):
            raise web.HTTPBadRequest(reason=f"{name.decode('latin-1')}: not valid UTF-8")
    encoding = request.headers.get("Content-Encoding", "").strip().lower()
    if encoding not in ("", "identity", *CODINGS):  # RFC 9110 15.5.16: refuse, do not guess
        reason = f"Content-Encoding: {encoding[:40]} is not supported (gzip, deflate)"
        raise web.HTTPUnsupportedMediaType(reason=reason)
    return await handler(request)


async def read_body(request: web.Request, limit: int) -> bytes:
    """The request's body, decoded from its ``Content-Encoding``; 400 when it does not
    decode or stops short, 413 when it decodes to more than ``limit`` bytes."""
    return decode_body(request, await request.read(), limit)


def decode_body(request: web.Request, body: bytes, limit: int) -> bytes:
    """``body`` as read from ``request``, decoded from its ``Content-Encoding`` (see
    :func:`read_body`)."""
    wbits = CODINGS.get(request.headers.get("Content-Encoding", "").strip().lower())
    if wbits is None or not body:
        return body
    decoder = zlib.decompressobj(wbits)
    try:
        decoded = decoder.decompress(body, limit + 1)
    except zlib.error:
        raise web.HTTPBadRequest(reason="body: does not decode as its Content-Encoding") from None
    if len(decoded) > limit:
        raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=len(decoded))
    if not decoder.eof:
        raise web.HTTPBadRequest(reason="body: the compressed stream stops short")
    if decoder.unused_data:  # bytes after the stream (a second gzip member): not silently dropped
        raise web.HTTPBadRequest(reason="body: bytes after the compressed stream")
    return decoded


@web.middleware
async def trusted_proxy_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Honour ``X-Forwarded-Proto`` / ``X-Forwarded-For`` from the proxy in front of uxlab."""
    changes: dict[str, str] = {}
    proto = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    if proto in ("http", "https"):
        changes["scheme"] = proto
    forwarded_for = request.headers.get("X-Forwarded-For", "").split(",")[-1].strip()
    if forwarded_for:
        changes["remote"] = forwarded_for
        request[FORWARDED_FOR] = forwarded_for  # the access log sees this (original) request
    if changes:
        request = request.clone(**changes)  # type: ignore[arg-type]
    return await handler(request)


class AccessLogger(AbstractAccessLogger):
    """The access log, one line per request, with every secret redacted."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        line = (
            f'{request.get(FORWARDED_FOR) or request.remote} "{request.method} {request.path_qs} '
            f'HTTP/{request.version.major}.{request.version.minor}" '
            f"{response.status} {response.body_length} {time:.6f} "
            f'"{request.headers.get("Referer", "-")}" "{request.headers.get("User-Agent", "-")}"'
        )
        self.logger.info(redact(line))


class RedactingFilter(logging.Filter):
    """Redact every record a handler writes (messages and tracebacks alike)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = redact(record.getMessage()), None
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, HttpProcessingError | web.RequestPayloadError):  # aiohttp refused it
            reason = " ".join(str(error).split()).removeprefix("400, message: ")
            record.msg = redact(f"{record.msg}: bad request: {reason}")
            record.exc_info, record.levelno, record.levelname = None, logging.INFO, "INFO"
        if record.exc_info:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def redact_logs() -> None:
    """Put :class:`RedactingFilter` on every handler of the root logger."""
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactingFilter())
