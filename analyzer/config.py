"""Numba options and analysis thresholds, in one place.

The thresholds are the metric definitions of the README ("Metrics");
changing one changes what a metric means, so they are named here once and
passed to the kernels as arguments (never read as globals inside a kernel,
which numba would freeze into its on-disk cache).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Every kernel is compiled once and kept on disk (numba's cache, in uxlab's cache
# folder: see numba_cache_dir), so that only the first analysis pays for compilation.
NUMBA_OPTIONS: dict[str, Any] = {"cache": True, "nogil": True}
# Kernels that loop over sessions or attempts with ``prange``.
PARALLEL_OPTIONS: dict[str, Any] = {**NUMBA_OPTIONS, "parallel": True}


def cache_home(environ: Mapping[str, str] = os.environ, platform: str = sys.platform) -> Path:
    """uxlab's cache folder for this user.

    ``$XDG_CACHE_HOME/uxlab`` (else ``~/.cache/uxlab``) on Linux and the BSDs,
    ``~/Library/Caches/uxlab`` on macOS, ``%LOCALAPPDATA%\\uxlab\\Cache`` on Windows.
    """
    if platform == "win32":
        base = environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "uxlab" / "Cache"
    if platform == "darwin":
        return Path.home() / "Library" / "Caches" / "uxlab"
    xdg = environ.get("XDG_CACHE_HOME", "")
    base_path = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache"
    return base_path / "uxlab"


def numba_cache_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """Where numba keeps the compiled kernels: ``NUMBA_CACHE_DIR`` if set, else ``<cache_home>/numba``.

    Not beside the installed modules (numba's default ``__pycache__``): an
    install into a read-only place (a system package, a container image, a
    shared venv) would compile every kernel on every run.
    """
    return Path(environ.get("NUMBA_CACHE_DIR") or cache_home(environ) / "numba")


def use_numba_cache_dir(environ: MutableMapping[str, str] = os.environ) -> Path:
    """Point numba's cache at :func:`numba_cache_dir`; ``NUMBA_CACHE_DIR`` still wins.

    Called on ``import analyzer``, before any kernel is defined. Numba reads
    the variable when it is first imported; when something imported numba
    earlier, its already-read setting is changed too (the kernels' cache
    locators read it when they are defined).
    """
    folder = numba_cache_dir(environ)
    if not environ.get("NUMBA_CACHE_DIR"):
        environ["NUMBA_CACHE_DIR"] = str(folder)
    numba_config = sys.modules.get("numba.core.config")
    if numba_config is not None and not getattr(numba_config, "CACHE_DIR", ""):
        numba_config.CACHE_DIR = str(folder)  # type: ignore[attr-defined]
    return folder


# A click on a non-interactive element is a misclick unless a page event follows
# within this many milliseconds (inclusive: a page exactly 1000 ms later saves it).
MISCLICK_MS = 1000.0
# Rage click: at least RAGE_CLICK_MIN clicks, each within RAGE_CLICK_MS and
# RAGE_CLICK_PX (Euclidean, inclusive) of the click before it.
RAGE_CLICK_MS = 1000.0
RAGE_CLICK_PX = 30.0
RAGE_CLICK_MIN = 3
# Dead click: no `page` and no `reaction` event (DOM change, focus, scroll, input, navigation
# away, as the snippet observed them) within this many milliseconds (inclusive).
DEAD_CLICK_MS = 1000.0


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The click-rule thresholds handed to the kernels."""

    misclick_ms: float = MISCLICK_MS
    rage_ms: float = RAGE_CLICK_MS
    rage_px: float = RAGE_CLICK_PX
    rage_min: int = RAGE_CLICK_MIN
    dead_ms: float = DEAD_CLICK_MS

    def __post_init__(self) -> None:
        if not (
            self.misclick_ms >= 0 and self.rage_ms >= 0 and self.rage_px >= 0 and self.dead_ms >= 0
        ):
            raise ValueError("thresholds: times and distances must be >= 0")
        if self.rage_min < 2:
            raise ValueError("thresholds: a rage-click burst needs at least 2 clicks")


DEFAULT_THRESHOLDS = Thresholds()

# Findings (README, "Findings"): when the analyzer suggests a candidate problem.
# The same element misclicked, the same field failing validation, the same wrong turn or
# the same dead end: by at least this many participants.
SUGGEST_MIN_PARTICIPANTS = 2
# Rage clicks and JavaScript errors are suggested from the first participant.
SUGGEST_MIN_PARTICIPANTS_RAGE = 1
SUGGEST_MIN_PARTICIPANTS_JS_ERROR = 1
# A page whose median load time (Navigation Timing) is at least this slow.
SLOW_PAGE_MS = 3000.0
# A task whose success interval's upper bound lies below this rate: Sauro's average task
# completion rate, 78% (Sauro 2011, "What is a good task-completion rate?", 1,100 tasks).
# A study file may set its own: [findings] success_benchmark = 0.7
SUCCESS_BENCHMARK = 0.78
