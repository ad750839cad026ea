"""The benchmark scripts still import: a moved module breaks them at once, not at the next measurement.

Each script under ``benchmarks/`` is loaded as a module (its ``main`` guarded by
``__name__``), so every import it names at the top must resolve against today's
tree. Running them is for people (``benchmarks/README.md``): they time things.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
SCRIPTS = sorted(BENCHMARKS.glob("*.py"))


def test_there_are_benchmarks() -> None:
    assert {p.stem for p in SCRIPTS} >= {"analyze", "alternatives", "findings", "ingest"}


@pytest.mark.parametrize("script", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_a_benchmark_script_imports(script: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(BENCHMARKS))  # they import each other by name
    name = f"uxlab_benchmark_{script.stem}"
    spec = importlib.util.spec_from_file_location(name, script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)
    spec.loader.exec_module(module)
    assert callable(getattr(module, "main", None)) or script.stem == "alternatives"
