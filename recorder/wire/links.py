"""Participants' links that point nowhere: variant URLs on this server's host but another port.

``uxlab study example`` writes the demo study for ``http://127.0.0.1:8642``; a
server started with ``--port 0`` (or any other port) then hands out links to a
port where nothing listens. :func:`port_mismatches` finds such variants and
:func:`fix_hint` says how to repoint the study; ``uxlab serve``, ``uxlab
session new`` and the console's study page show the warning.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from recorder.wire.studyfile import Study

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "0.0.0.0", "::", ""})
DEMO_URL = "http://127.0.0.1:8642"  # what the bundled demo study points at
DEMO_STUDY_ID = "demo-shop"


@dataclass(frozen=True, slots=True)
class Mismatch:
    """A variant whose URL is on this server's host, at another port."""

    variant: str
    url: str
    port: int  # the port the variant's URL names


def _host_port(url: str) -> tuple[str, int | None]:
    try:
        parts = urlsplit(url)
    except ValueError:  # no URL urlsplit reads (the request's Host header "[x")
        return "", None
    try:
        port = parts.port
    except ValueError:  # a port out of range: not ours, whatever it is
        return parts.hostname or "", None
    default = {"http": 80, "https": 443}.get(parts.scheme)
    host = (parts.hostname or "").lower()
    return ("127.0.0.1" if host in LOOPBACK else host), (port if port is not None else default)


def port_mismatches(study: Study, server_url: str) -> list[Mismatch]:
    """The variants whose URL names this server's host but not its port."""
    host, port = _host_port(server_url)
    out = []
    for variant in study.variants:
        v_host, v_port = _host_port(variant.url)
        if v_host == host and v_port is not None and v_port != port:
            out.append(Mismatch(variant.id, variant.url, v_port))
    return out


def fix_hint(study: Study, server_url: str, db: str | None = None) -> str:
    """The command (or edit) that points the study at ``server_url``."""
    base = server_url.rstrip("/")
    db_arg = f" --db {db}" if db else ""
    if study.id == DEMO_STUDY_ID:
        return (
            f"uxlab study example --url {base} -o {study.id}.toml && "
            f"uxlab study create {study.id}.toml{db_arg}"
        )
    return (
        f"edit the variant urls of {study.id}'s study file to start with {base}, "
        f"then uxlab study create FILE{db_arg}"
    )


def warning(study: Study, server_url: str, db: str | None = None) -> str | None:
    """One line for the moderator, or None when every variant URL is fine."""
    found = port_mismatches(study, server_url)
    if not found:
        return None
    ports = sorted({m.port for m in found})
    which = ", ".join(m.variant for m in found)
    noun = "variant" if len(found) == 1 else "variants"
    port_text = ", ".join(str(p) for p in ports)
    return (
        f"study {study.id}: {noun} {which} point at port {port_text} but this server is "
        f"{server_url.rstrip('/')}: participants' links lead nowhere. Fix: {fix_hint(study, server_url, db)}"
    )
