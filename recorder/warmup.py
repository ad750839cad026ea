"""The analysis kernels' warm-up that ``uxlab serve`` starts beside itself.

numba compiles the analyzer's kernels on first use (about half a minute on a
2-core laptop) and caches them on disk. ``uxlab serve`` runs
``python -m analyzer.warm`` in a process of its own at start, so that the
compile happens while the first sessions are recorded, not when someone asks
for the first analysis or report. When the kernels' cache is current it
skips the compile; otherwise it logs one line before compiling and one after,
on the server's stderr. Then it keeps the database's columnar caches
(``<db>.uxcache/``) current as events arrive, so that the first analysis of
a big study reads no rows cold. The server never imports numba itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys

log = logging.getLogger("uxlab.warmup")


async def start(db: str) -> asyncio.subprocess.Process | None:
    """Start the warm-up process (its stderr is the server's); None if it cannot start."""
    try:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "analyzer.warm", "--db", db, "--parent", str(os.getpid()),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
    except OSError as exc:  # the server runs without it: the first analysis compiles
        log.warning("cannot start the analysis kernels' warm-up: %s", exc)
        return None


async def stop(proc: asyncio.subprocess.Process | None) -> None:
    """End the warm-up if it still runs (a half-done compile is redone next start)."""
    if proc is None or proc.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.terminate()
    await proc.wait()
