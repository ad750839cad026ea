"""Settings: one table of (name, default, help), overridable by flags and UXLAB_* variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from typing import Any

from recorder.errors import UxlabError

# name, default, help. The environment variable is UXLAB_<NAME>.
SETTINGS: list[tuple[str, Any, str]] = [
    ("db", "uxlab.db", "SQLite database file"),
    ("host", "127.0.0.1", "address to listen on (0.0.0.0 to accept other machines)"),
    ("port", 8642, "port to listen on (0 picks a free one)"),
    ("admin_token", "", "moderator token; made once and kept in the database when unset"),
    ("public_url", "", "base URL printed in links (default http://HOST:PORT)"),
    ("max_body", 1_048_576, "largest request body in bytes (413 above it)"),
    ("queue_events", 200_000, "events waiting for the writer before clients get 429"),
    ("access_log", False, "log every request (costs about a third of the throughput)"),
    ("writer_process", True, "write events from a process of their own (off: a thread; one core)"),
    (
        "max_page_count",
        0,
        "for fault tests: cap the writer's database at this many pages "
        "(SQLite's PRAGMA max_page_count), a full disk on demand; 0 = no cap",
    ),
    ("trusted_proxy", False, "behind a TLS proxy: trust its X-Forwarded-Proto and X-Forwarded-For"),
    ("replay_max_mb", 50, "stored recording per session in MB (compressed) before 413"),
    (
        "warm_kernels",
        True,
        "compile the analysis kernels in the background at start (once per install) and keep"
        " the studies' columnar caches current",
    ),
]


DEFAULTS: dict[str, Any] = {name: default for name, default, _ in SETTINGS}


def db_path(given: str | None = None) -> str:
    """The database file: ``given`` (a ``--db`` flag), else ``UXLAB_DB``, else ``uxlab.db``."""
    return given or os.environ.get("UXLAB_DB") or DEFAULTS["db"]


@dataclass
class Settings:
    """The collector's settings; see :data:`SETTINGS` for their meaning."""

    db: str = DEFAULTS["db"]
    host: str = DEFAULTS["host"]
    port: int = DEFAULTS["port"]
    admin_token: str = DEFAULTS["admin_token"]
    public_url: str = DEFAULTS["public_url"]
    max_body: int = DEFAULTS["max_body"]
    queue_events: int = DEFAULTS["queue_events"]
    access_log: bool = DEFAULTS["access_log"]
    writer_process: bool = DEFAULTS["writer_process"]
    max_page_count: int = DEFAULTS["max_page_count"]
    trusted_proxy: bool = DEFAULTS["trusted_proxy"]
    replay_max_mb: int = DEFAULTS["replay_max_mb"]
    warm_kernels: bool = DEFAULTS["warm_kernels"]

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, then ``UXLAB_*`` variables, then explicit overrides (None = not given)."""
        environ = dict(os.environ) if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = environ.get(f"UXLAB_{f.name.upper()}")
            if raw is not None and raw != "":
                values[f.name] = _convert(f.name, raw, type(getattr(cls, f.name)))
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    @property
    def base_url(self) -> str:
        """The URL people use to reach this server."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{host}:{self.port}"


def _convert(name: str, raw: str, kind: type) -> Any:
    if kind is bool:
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if kind is int:
        try:
            return int(raw)
        except ValueError:
            raise UxlabError(f"UXLAB_{name.upper()}: must be a whole number, got {raw!r}") from None
    return raw
