"""The shipped snippet is a reproducible build of js_snippet/src, within its size budget."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SNIPPET = ROOT / "js_snippet"
SHIPPED = ROOT / "recorder" / "collector" / "static" / "uxlab.js"
GZIP_BUDGET = 5 * 1024  # bytes; DESIGN: at most 5 KB gzip
BUNDLES = ("uxlab-replay.js", "uxlab-player.js", "uxlab-player.css")


def _node_missing() -> str | None:
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (./test.sh installs Node and runs npm ci)"
    if not (SNIPPET / "node_modules" / "esbuild").is_dir():
        return "js_snippet/node_modules is missing: run `npm ci` inside js_snippet (./test.sh does)"
    return None


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """Build js_snippet/src into a temporary file; returns a function doing one build."""
    reason = _node_missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"CI must check the snippet build: {reason}")
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp("snippet")

    def one(name: str) -> bytes:
        out = folder / name
        subprocess.run(["node", "build.mjs", str(out)], cwd=SNIPPET, check=True, timeout=120,
                       capture_output=True)  # fmt: skip
        return out.read_bytes()

    one.folder = folder  # type: ignore[attr-defined]
    return one


def test_the_build_is_reproducible(build) -> None:  # type: ignore[no-untyped-def]
    assert build("first.js") == build("second.js")


def test_the_shipped_snippet_is_a_fresh_build_of_the_sources(build) -> None:  # type: ignore[no-untyped-def]
    assert SHIPPED.read_bytes() == build("fresh.js"), (
        "recorder/collector/static/uxlab.js is stale: run `npm run build` inside js_snippet and commit it"
    )


@pytest.mark.parametrize("name", BUNDLES)
def test_the_shipped_recording_bundles_are_fresh_builds(build, name: str) -> None:  # type: ignore[no-untyped-def]
    fresh = build("fresh.js")
    room = "collector" if name == "uxlab-replay.js" else "console"  # the player is the console's
    shipped = ROOT / "recorder" / room / "static" / name
    assert fresh is not None
    built = (Path(build.folder) / name).read_bytes()
    assert shipped.read_bytes() == built, (
        f"recorder/{room}/static/{name} is stale: run `npm run build` inside js_snippet and commit it"
    )


def test_the_recorder_module_is_separate_from_the_snippet() -> None:
    """rrweb is in the recorder module, which the snippet loads only for replay studies."""
    snippet = SHIPPED.read_text(encoding="utf-8")
    recorder_module = (SHIPPED.parent / "uxlab-replay.js").read_text(encoding="utf-8")
    assert "uxlab-replay.js" in snippet and "rr_dataURL" not in snippet
    assert "maskAllInputs" in recorder_module or "data-uxlab-mask" in recorder_module
    assert "/api/v1/replay" not in snippet


def test_the_shipped_snippet_is_one_small_self_contained_script() -> None:
    code = SHIPPED.read_text(encoding="utf-8")
    assert len(gzip.compress(code.encode(), 9)) <= GZIP_BUDGET
    assert code.count("\n") <= 2, "one minified file"
    assert "import " not in code and "require(" not in code, "no runtime dependencies"
    assert "/api/v1/collect" in code


def test_esbuild_is_pinned_and_locked() -> None:
    package = json.loads((SNIPPET / "package.json").read_text())
    lock = json.loads((SNIPPET / "package-lock.json").read_text())
    assert package.get("dependencies", {}) == {}, "the snippet has no runtime dependencies"
    version = package["devDependencies"]["esbuild"]
    assert version[0].isdigit(), "esbuild pinned to an exact version"
    assert lock["packages"]["node_modules/esbuild"]["version"] == version
    for name in ("rrweb", "@rrweb/record", "@rrweb/packer"):  # the recorder module and the player
        version = package["devDependencies"][name]
        assert version[0].isdigit(), f"{name} pinned to an exact version"
        assert lock["packages"][f"node_modules/{name}"]["version"] == version
