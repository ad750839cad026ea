"""The served OpenAPI document: valid OpenAPI 3.1, and in step with the router."""

from __future__ import annotations

import re
from typing import Any

from openapi_spec_validator import validate

from recorder.collector import openapi
from recorder.server import create_app
from recorder.settings import Settings

METHODS = {"GET", "POST", "PATCH", "DELETE", "PUT", "OPTIONS"}


def _routes() -> set[tuple[str, str]]:
    """(method, path) of every API route the application serves, in OpenAPI's path syntax."""
    app = create_app(Settings(db=":memory:"))
    found = set()
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter", "")
        path = re.sub(r"\{(\w+)(:[^}]*)?\}", r"{\1}", path)
        if route.method in METHODS and (
            path.startswith("/api/") or path in ("/healthz", "/uxlab.js")
        ):
            found.add((route.method, path))
    return found


def _documented(doc: dict[str, Any]) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in doc["paths"].items() for method in item}


def test_the_document_is_valid_openapi_3_1() -> None:
    doc = openapi.document()
    assert doc["openapi"].startswith("3.1")
    validate(doc)  # raises on any schema error


def test_every_api_route_is_documented_and_every_documented_route_served() -> None:
    served, documented = _routes(), _documented(openapi.document())
    assert served - documented == set(), "routes missing from recorder/collector/openapi.py"
    assert documented - served == set(), "documented routes the server does not have"


def test_event_types_match_the_wire_format() -> None:
    from recorder.wire import schema

    assert set(openapi.PARTICIPANT_EVENTS) == set(schema.PARTICIPANT_TYPES)
    assert set(openapi.MODERATOR_EVENTS) == set(schema.MODERATOR_TYPES)


async def test_served_at_api_v1_openapi_json(client: Any) -> None:
    resp = await client.get("/api/v1/openapi.json")
    assert resp.status == 200
    assert resp.content_type == "application/json"
    doc = await resp.json()
    assert doc == openapi.document()
