"""The OpenAPI 3.1 document of uxlab's HTTP API, served at ``/api/v1/openapi.json``.

Written here as data, next to the handlers it describes; ``tests/test_openapi.py``
checks it with openapi-spec-validator and against the application's router (every
``/api/`` route documented, every documented route served), so the two cannot
drift apart. The limits come from :mod:`recorder.wire.schema` itself.
"""

from __future__ import annotations

from typing import Any

from recorder import __version__
from recorder.wire import schema

JSON = "application/json"
ERROR = {"$ref": "#/components/schemas/Error"}


def _str(limit: int, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "maxLength": limit, **extra}


def _event(type_name: str, required: list[str], **fields: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["seq", "t", "type", *required],
        "properties": {
            "seq": {"type": "integer", "minimum": 0, "maximum": schema.MAX_SEQ},
            "t": {"type": "number", "description": "client epoch milliseconds"},
            "type": {"const": type_name},
            **(
                {
                    "frame": {
                        **URL_FIELD,
                        "description": "set on events sent from inside a child "
                        "frame: the frame's URL",
                    }
                }
                if type_name in FRAME_TYPES
                else {}
            ),
            **fields,
        },
    }


NUMBER = {"type": "number"}
URL_FIELD = {"type": "string", "maxLength": schema.MAX_URL_LEN}
FRAME_TYPES = set(schema.PARTICIPANT_TYPES)
SELECTOR = _str(schema.MAX_SELECTOR_LEN)
LABEL = _str(schema.MAX_LABEL_LEN)
URL = _str(schema.MAX_URL_LEN)

PARTICIPANT_EVENTS = {
    "page": _event("page", ["url"], url=URL, title=LABEL, w=NUMBER, h=NUMBER,
                   timing={"type": "object", "description": "Navigation Timing of a real load"},
                   spa={"type": "boolean"}),
    "click": _event("click", ["x", "y"], x=NUMBER, y=NUMBER, vx=NUMBER, vy=NUMBER, sel=SELECTOR,
                    tag=_str(32), label=LABEL, interactive={"type": "boolean"},
                    synthetic={"type": "boolean", "description": "fired by the page's script"}),
    "input": _event("input", [], sel=SELECTOR, kind=_str(32),
                    len={"type": "integer", "minimum": 0},
                    value=_str(schema.MAX_TEXT_LEN, description="dropped unless the study opts in")),
    "submit": _event("submit", [], sel=SELECTOR),
    "invalid": _event("invalid", [], sel=SELECTOR, kind=_str(32)),
    "scroll": _event("scroll", ["depth"], depth={"type": "number", "minimum": 0, "maximum": 100}),
    "visibility": _event("visibility", ["state"], state={"enum": sorted(schema.VISIBILITY_STATES)}),
    "error": _event("error", ["msg"], msg=_str(schema.MAX_LABEL_LEN * 4), src=URL,
                    line={"type": "integer"}, col={"type": "integer"}),
    # the page reacted within 1 s of a click (the analyzer's dead clicks)
    "reaction": _event("reaction", ["kind"], kind={"enum": sorted(schema.REACTION_KINDS)}),
    "resize": _event("resize", ["w", "h"], w=NUMBER, h=NUMBER),
    "custom": _event("custom", ["name"], name=_str(128),
                     data={"description": f"any JSON, at most {schema.MAX_CUSTOM_DATA_BYTES} bytes"}),
}  # fmt: skip
TASK = _str(schema.MAX_ID_LEN)
MODERATOR_EVENTS = {
    "task_start": _event("task_start", ["task"], task=TASK),
    "task_end": _event("task_end", ["task", "outcome"], task=TASK,
                       outcome={"enum": sorted(schema.OUTCOMES)}),
    "marker": _event("marker", ["kind"], kind={"enum": sorted(schema.MARKER_KINDS)},
                     text=_str(schema.MAX_TEXT_LEN), task=TASK),
    "rating": _event("rating", ["item"], item={"enum": sorted(schema.RATING_ITEMS)}, task=TASK,
                     value={"type": "number"}, values={"type": "array", "items": NUMBER}),
    "marker_text": _event("marker_text", ["marker"], text=_str(schema.MAX_TEXT_LEN),
                          marker={"type": "object", "required": ["page", "seq"],
                                  "properties": {"page": _str(schema.MAX_ID_LEN),
                                                 "seq": {"type": "integer", "minimum": 0}},
                                  "description": "the identity of the marker whose text this sets"}),
}  # fmt: skip


def _batch(events: dict[str, Any], with_session: bool) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "v": {"const": schema.WIRE_VERSION},
        "page": _str(schema.MAX_ID_LEN, description="page-load id, new on every load"),
        "sent": {"type": "number", "description": "client epoch milliseconds at sending"},
        "events": {"type": "array", "maxItems": schema.MAX_EVENTS_PER_BATCH,
                   "items": {"oneOf": list(events.values())}},
    }  # fmt: skip
    if with_session:
        properties["session"] = _str(schema.MAX_ID_LEN * 2, description="the session token")
    required = ["v", "page", "sent", "events", *(["session"] if with_session else [])]
    return {"type": "object", "required": required, "properties": properties}


def _answer(description: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": description}
    if body is not None:
        answer["content"] = {JSON: {"schema": body}}
    return answer


def _errors(*codes: int) -> dict[str, Any]:
    words = {400: "bad input: the message names the first bad field",
             401: "no or unknown token", 403: "not allowed (closed session, foreign origin, "
             "an observer, a cookie without its CSRF token)", 404: "no such study or session",
             409: "changed by someone else since it was read", 413: "body too large",
             429: "busy: retry after Retry-After seconds",
             503: "storage unavailable: retry after Retry-After seconds"}  # fmt: skip
    return {str(code): _answer(words[code], ERROR) for code in codes}


ACCEPTED = {
    "type": "object",
    "properties": {"accepted": {"type": "integer"}, "duplicates": {"type": "integer"}},
}
SESSION = {
    "type": "object",
    "properties": {k: {"type": "string"} for k in
                   ("token", "study", "participant", "variant", "status", "link")}
                  | {"session": {"type": "integer"}},
}  # fmt: skip
MODERATOR: list[dict[str, Any]] = [{"bearer": []}, {"console": []}]
READERS: list[dict[str, Any]] = [*MODERATOR, {"observer": []}]
FINDING_FIELDS = {
    "title": _str(200, minLength=1),
    "severity": {"type": "integer", "minimum": 0, "maximum": 4},
    "description": {"type": "string"},
    "recommendation": {"type": "string"},
    "tasks": {"type": "array", "items": TASK},
    "tags": {"type": "array", "items": {"type": "string"}},
    "participants": {"type": "array", "items": TASK},
    "evidence": {
        "type": "array",
        "items": {
            "type": "object",
            "required": ["session", "t_s"],
            "properties": {
                "session": {"type": "integer", "description": "the session's number"},
                "t_s": {"type": "number", "description": "seconds from its first event"},
                "text": {"type": "string"},
            },
        },
    },
}
FINDING = {
    "type": "object",
    "properties": {"id": {"type": "integer"}, "version": {"type": "integer"}, **FINDING_FIELDS},
}
NOTE = {
    "type": "object",
    "required": ["text"],
    "properties": {"text": _str(schema.MAX_TEXT_LEN, minLength=1), "author": _str(64)},
}


def _op(summary: str, responses: dict[str, Any], body: dict[str, Any] | None = None,
        security: list[dict[str, Any]] | None = None, params: tuple[str, ...] = ()) -> dict[str, Any]:  # fmt: skip
    op: dict[str, Any] = {"summary": summary, "responses": responses}
    if body is not None:
        op["requestBody"] = {"required": True, "content": {JSON: {"schema": body}}}
    op["security"] = security if security is not None else []
    if params:
        op["parameters"] = [{"name": p, "in": "path", "required": True,
                             "schema": {"type": "string"}} for p in params]  # fmt: skip
    return op


def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document (a fresh dict: callers may change it)."""
    paths: dict[str, Any] = {
        "/api/v1/collect": {
            "post": _op("The snippet's batch of events (any Content-Type is read as JSON, so "
                        "text/plain needs no CORS preflight)",
                        {"200": _answer("committed to disk", ACCEPTED),
                         **_errors(400, 401, 403, 413, 429, 503)},
                        _batch(PARTICIPANT_EVENTS, True)),
            "options": _op("CORS preflight for the study's origins",
                           {"204": _answer("allowed"), **_errors(403)}),
        },
        "/api/v1/studies/{study}/sessions/{number}/events": {
            "post": _op("The moderator's coded events for session {number} of the study",
                        {"200": _answer("committed to disk", ACCEPTED),
                         **_errors(400, 401, 403, 404, 413, 429, 503)},
                        _batch(MODERATOR_EVENTS, False), MODERATOR, ("study", "number")),
        },
        "/api/v1/studies/{study}/sessions/{number}/close": {
            "post": _op("Close session {number} of the study: its token writes nothing more",
                        {"200": _answer("closed", SESSION), **_errors(401, 403, 404)},
                        None, MODERATOR, ("study", "number")),
        },
        "/api/v1/sessions/{session}/events": {
            "post": _op("Deprecated (removed in the next release): events by the session's token",
                        {"200": _answer("committed to disk", ACCEPTED),
                         **_errors(400, 401, 403, 413, 429, 503)},
                        _batch(MODERATOR_EVENTS, False), MODERATOR, ("session",)),
        },
        "/api/v1/sessions/{session}/close": {
            "post": _op("Deprecated (removed in the next release): close by the session's token",
                        {"200": _answer("closed", SESSION), **_errors(401, 403)},
                        None, MODERATOR, ("session",)),
        },
        "/api/v1/studies": {
            "get": _op("Studies with their counts", {"200": _answer("the studies", {
                "type": "array", "items": {"type": "object"}}), **_errors(401)}, None, MODERATOR),
        },
        "/api/v1/studies/{study}": {
            "get": _op("A study in the shape of its study file",
                       {"200": _answer("the study", {"type": "object"}), **_errors(401, 404)},
                       None, MODERATOR, ("study",)),
        },
        "/api/v1/studies/{study}/sessions": {
            "post": _op("Open a session for a participant on a variant",
                        {"201": _answer("opened", SESSION), **_errors(400, 401, 403, 404)},
                        {"type": "object", "required": ["participant", "variant"],
                         "properties": {"participant": TASK, "variant": TASK}},
                        MODERATOR, ("study",)),
        },
        "/api/v1/replay": {
            "post": _op("The recorder module's chunks of one page load (rrweb events; gzip, or "
                        "packed by rrweb's packer), stored once per (session, page load, seq)",
                        {"200": _answer("committed to disk", ACCEPTED),
                         **_errors(400, 401, 403, 413, 429, 503)},
                        {"type": "object", "required": ["v", "session", "page", "sent", "chunks"],
                         "properties": {
                             "v": {"const": schema.WIRE_VERSION}, "session": _str(128),
                             "page": _str(schema.MAX_ID_LEN), "sent": NUMBER,
                             "chunks": {"type": "array", "items": {
                                 "type": "object", "required": ["seq", "t", "events"],
                                 "properties": {"seq": {"type": "integer", "minimum": 0},
                                                "t": NUMBER,
                                                "events": {"type": "array"}}}}}}),
        },
        "/api/v1/studies/{study}/sessions/{session}/recording": {
            "delete": _op("Delete one session's recording; its events stay",
                          {"200": _answer("deleted", {"type": "object"}),
                           **_errors(401, 403, 404)}, None, MODERATOR, ("study", "session")),
        },
        "/api/v1/studies/{study}/findings": {
            "get": _op("The study's findings with their evidence",
                       {"200": _answer("the findings", {"type": "object", "properties": {
                           "findings": {"type": "array", "items": FINDING}}}),
                        **_errors(401, 403, 404)}, None, READERS, ("study",)),
            "post": _op("Make a finding",
                        {"201": _answer("made", FINDING), **_errors(400, 401, 403, 404)},
                        {"type": "object", "required": ["title", "severity"],
                         "properties": FINDING_FIELDS}, MODERATOR, ("study",)),
        },
        "/api/v1/studies/{study}/findings/{finding}": {
            "patch": _op("Change a finding: send the fields to change and the version read",
                         {"200": _answer("changed", FINDING), **_errors(400, 401, 403, 404, 409)},
                         {"type": "object", "required": ["version"],
                          "properties": {**FINDING_FIELDS, "version": {"type": "integer"},
                                         "add_evidence": FINDING_FIELDS["evidence"]}},
                         MODERATOR, ("study", "finding")),
            "delete": _op("Delete a finding (``?version=`` checked when given)",
                          {"204": _answer("deleted"), **_errors(401, 403, 404, 409)},
                          None, MODERATOR, ("study", "finding")),
        },
        "/api/v1/studies/{study}/notes": {
            "get": _op("Every observer note of the study",
                       {"200": _answer("the notes", {"type": "array", "items": {"type": "object"}}),
                        **_errors(401, 403, 404)}, None, READERS, ("study",)),
        },
        "/api/v1/studies/{study}/sessions/{session}/notes": {
            "post": _op("An observer's (or the moderator's) timestamped note during a session",
                        {"201": _answer("kept", {"type": "object"}),
                         **_errors(400, 401, 403, 404)}, NOTE, READERS, ("study", "session")),
        },
        "/api/v1/openapi.json": {
            "get": _op("This document", {"200": _answer("OpenAPI 3.1", {"type": "object"})}),
        },
        "/healthz": {
            "get": _op("Liveness and the writer's queue depth",
                       {"200": _answer("serving", {"type": "object"})}),
        },
        "/uxlab.js": {
            "get": _op("The snippet", {"200": {"description": "JavaScript",
                                               "content": {"application/javascript": {}}}}),
        },
    }  # fmt: skip
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "uxlab",
            "version": __version__,
            "description": "Collector and moderator API of uxlab. Every error has the shape "
            '{"error": "...", "status": N}. Reference: docs/http-api.md.',
        },
        "paths": paths,
        "components": {
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error", "status"],
                    "properties": {"error": {"type": "string"}, "status": {"type": "integer"}},
                }
            },
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "the moderator token (UXLAB_ADMIN_TOKEN)",
                },
                "observer": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-Observer-Key",
                    "description": "the key of the study's observer link",
                },
                "console": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "uxlab_console",
                    "description": "the console's sign-in cookie; requests that change "
                    "something also send X-CSRF-Token",
                },
            },
        },
    }
