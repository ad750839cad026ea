"""Installs uxlab does not own: numba's cache in the user's cache folder, the kernels warmed by serve."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from analyzer import config, load
from recorder.storage import store
from tests.conftest import ROOT, STUDY_DOC
from tests.scripted import record_simulated

CACHE_CASES = [
    ({"XDG_CACHE_HOME": "/x/cache"}, "linux", "/x/cache/uxlab"),
    ({"XDG_CACHE_HOME": "relative"}, "linux", "~/.cache/uxlab"),  # XDG: absolute paths only
    ({}, "linux", "~/.cache/uxlab"),
    ({"XDG_CACHE_HOME": "/x/cache"}, "darwin", "~/Library/Caches/uxlab"),
    ({"LOCALAPPDATA": "/appdata"}, "win32", "/appdata/uxlab/Cache"),
]


@pytest.mark.parametrize(("environ", "platform", "expected"), CACHE_CASES)
def test_cache_home_is_the_platforms_user_cache(
    environ: dict[str, str], platform: str, expected: str
) -> None:
    assert config.cache_home(environ, platform) == Path(os.path.expanduser(expected))


def test_numba_cache_dir_wins_and_is_set_for_numba() -> None:
    environ: dict[str, str] = {"XDG_CACHE_HOME": "/x/cache"}
    assert config.use_numba_cache_dir(environ) == Path("/x/cache/uxlab/numba")
    assert environ["NUMBA_CACHE_DIR"] == "/x/cache/uxlab/numba"
    mine = {"NUMBA_CACHE_DIR": "/mine", "XDG_CACHE_HOME": "/x/cache"}
    assert config.use_numba_cache_dir(mine) == Path("/mine")
    assert mine["NUMBA_CACHE_DIR"] == "/mine"


def test_import_recorder_does_not_import_numba() -> None:
    code = "import sys, recorder.cli, recorder.server; print('numba' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.fixture
def read_only_install(tmp_path: Path) -> Iterator[Path]:
    """recorder/ and analyzer/ copied into a folder nobody may write to."""
    site = tmp_path / "site"
    for package in ("recorder", "analyzer"):
        shutil.copytree(ROOT / package, site / package,
                        ignore=shutil.ignore_patterns("__pycache__", "*.nbi", "*.nbc"))  # fmt: skip
    paths = [site, *site.rglob("*")]
    for path in paths:
        path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    yield site
    for path in paths:
        path.chmod(path.stat().st_mode | stat.S_IWUSR)


@pytest.mark.slow
def test_read_only_install_warms_and_analyzes(read_only_install: Path, tmp_path: Path) -> None:
    """serve (from a read-only folder, fresh cache) compiles once; analyze then finds the cache."""
    db = tmp_path / "u.db"
    record_simulated(db, STUDY_DOC, participants=4, seed=3)
    cache = tmp_path / "cache"
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env.update(PYTHONPATH=str(read_only_install), XDG_CACHE_HOME=str(cache),
               UXLAB_ADMIN_TOKEN="t", PYTHONUNBUFFERED="1", UXLAB_WARM_KERNELS="1")  # fmt: skip
    log = tmp_path / "serve.log"
    with log.open("w") as err:
        serve = subprocess.Popen([sys.executable, "-m", "recorder", "serve", "--db", str(db),
                                  "--port", "0"], stdout=subprocess.DEVNULL, stderr=err, env=env)  # fmt: skip
    try:
        deadline = time.monotonic() + 600
        described = load.cache_folder(db) / f"{STUDY_DOC['id']}.json"
        # Compiled, then the study's columnar cache kept current by the same process.
        while "analysis kernels compiled" not in log.read_text() or not described.exists():
            assert serve.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.5)
    finally:
        serve.terminate()
        serve.wait(timeout=60)
    text = log.read_text()
    conn = store.connect(db, readonly=True)
    last = conn.execute("SELECT max(id) FROM events").fetchone()[0]
    conn.close()
    assert orjson.loads(described.read_bytes())["max_id"] == last
    assert "compiling analysis kernels (about" in text and str(cache / "uxlab" / "numba") in text
    check = subprocess.run([sys.executable, "-m", "analyzer.warm", "--check"], env=env,
                           capture_output=True, text=True)  # fmt: skip
    assert check.returncode == 0, check.stdout
    out = subprocess.run([sys.executable, "-m", "recorder", "analyze", STUDY_DOC["id"], "--db",
                          str(db)], env=env, capture_output=True, text=True)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "compiling" not in out.stderr and "attempts (" in out.stdout
    assert list((cache / "uxlab" / "numba").rglob("jit._segment-*.nbi"))
    assert not list(read_only_install.rglob("*.nbi"))
    again = subprocess.run([sys.executable, "-m", "analyzer.warm"], env=env, capture_output=True,
                           text=True)  # fmt: skip
    assert again.returncode == 0 and again.stderr == ""  # a current cache: nothing to say


KEEPER_PARENT = """
import os, subprocess, sys, time
keeper = subprocess.Popen([sys.executable, "-m", "analyzer.warm", "--db", sys.argv[1],
                           "--parent", str(os.getpid())])
print(keeper.pid, flush=True)
time.sleep(600)
"""


@pytest.mark.slow
def test_the_cache_keeper_never_outlives_its_server(tmp_path: Path) -> None:
    """A server SIGKILLed (no goodbye) leaves no warm-up or keeper process behind."""
    db = tmp_path / "u.db"
    store.open_db(db).close()
    parent = subprocess.Popen([sys.executable, "-c", KEEPER_PARENT, str(db)],
                              stdout=subprocess.PIPE, text=True)  # fmt: skip
    assert parent.stdout is not None
    keeper = int(parent.stdout.readline())
    parent.kill()
    parent.wait()
    parent.stdout.close()
    deadline = time.monotonic() + 600  # a cold kernels' cache compiles first
    while True:
        try:
            os.kill(keeper, 0)
        except ProcessLookupError:
            break
        assert time.monotonic() < deadline, "the keeper outlived its server"
        time.sleep(0.5)
