"""The import graph keeps the pipeline's direction (docs/architecture.md).

Read from the source with :mod:`ast`, imports inside functions included, so a
cycle cannot hide behind a lazy import. The rules:

- no cycle among uxlab's modules;
- nothing imports the CLI (``recorder.cli``) but ``recorder.__main__``;
- the rooms point one way: ``wire`` imports no other room; ``storage`` only
  ``wire``; the collector never the console; nothing of the recorder imports
  the server that wires it;
- the recorder imports the analyzer only where documented, and only inside a
  function (so ``import recorder`` does not import numba);
- in the analyzer: stats knows nothing of loading, kernels, metrics or the
  report; kernels know nothing of metrics, stats or the report; metrics know
  nothing of the report or exports.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("recorder", "analyzer")

# (importer, imported module): the recorder's documented, lazy uses of the analyzer.
RECORDER_USES_ANALYZER = {
    ("recorder.cli", "analyzer.commands"),  # analyze, report and export commands
    ("recorder.cli", "analyzer.export"),
    ("recorder.console.report", "analyzer.report.render"),  # the console's report page
    ("recorder.console.findings", "analyzer.metrics.analyze"),  # the Findings page's suggestions
    ("recorder.console.replay", "analyzer.metrics.timeline"),  # the replay page's timeline
    ("recorder.console.report", "analyzer.warm"),  # "compiling the kernels" said once
}

LAZY_IMPORTERS = {importer for importer, _ in RECORDER_USES_ANALYZER} | {
    "analyzer.warm",  # the CLI's compile notices need none of the analysis it warms
}

# room -> rooms it may not import (prefix match on module names)
FORBIDDEN = {
    "recorder.wire": ("recorder.storage", "recorder.web", "recorder.auth", "recorder.collector",
                      "recorder.console", "recorder.demo", "recorder.server", "recorder.simulate"),
    "recorder.storage": ("recorder.web", "recorder.auth", "recorder.collector", "recorder.console",
                         "recorder.demo", "recorder.server", "recorder.simulate"),
    "recorder.web": ("recorder.auth", "recorder.collector", "recorder.console", "recorder.server"),
    "recorder.auth": ("recorder.collector", "recorder.console", "recorder.server"),
    "recorder.collector": ("recorder.console", "recorder.demo", "recorder.server"),
    "recorder.console": ("recorder.collector", "recorder.server"),
    "recorder.findings": ("recorder.collector", "recorder.server"),
    "recorder.demo": ("recorder.collector", "recorder.console", "recorder.server",
                      "recorder.storage"),
    "analyzer.stats": ("analyzer.load", "analyzer.kernels", "analyzer.metrics", "analyzer.report",
                       "analyzer.export", "recorder"),
    "analyzer.kernels": ("analyzer.load", "analyzer.metrics", "analyzer.stats", "analyzer.report",
                         "analyzer.export"),
    "analyzer.load": ("analyzer.metrics", "analyzer.stats", "analyzer.report", "analyzer.export"),
    "analyzer.metrics": ("analyzer.report", "analyzer.export", "analyzer.commands"),
}  # fmt: skip


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = _modules()


def _imports(path: Path) -> Iterator[tuple[str, bool]]:
    """(module imported, inside a function?) for every import of uxlab's own modules."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nested: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            nested.update(id(inner) for inner in ast.walk(node) if inner is not node)
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{alias.name}" for alias in node.names]
            names = [n if n in MODULES else node.module for n in names]
        for name in names:
            if name.split(".")[0] in PACKAGES and name in MODULES:
                yield name, id(node) in nested


def _graph() -> dict[str, set[tuple[str, bool]]]:
    return {name: set(_imports(path)) for name, path in MODULES.items()}


GRAPH = _graph()


def test_the_graph_is_read() -> None:
    """A guard on the guard: the reader finds the imports it must judge."""
    assert ("recorder.storage.store", False) in GRAPH["recorder.storage.writer"]
    assert ("analyzer.report.render", True) in GRAPH["recorder.console.report"]
    assert len(MODULES) > 30


def test_no_import_cycle() -> None:
    edges = {m: {target for target, _ in GRAPH[m] if target != m} for m in GRAPH}
    # Importing ``a.b.c`` runs ``a/__init__`` and ``a/b/__init__`` too: count those edges.
    for module in list(edges):
        for target in list(edges[module]):
            parts = target.split(".")
            edges[module].update(".".join(parts[:i]) for i in range(1, len(parts)))
        edges[module].discard(module)
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                cycle = [*stack[stack.index(nxt) :], nxt]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module)


def test_nothing_imports_the_cli() -> None:
    importers = sorted(m for m, targets in GRAPH.items()
                       for target, _ in targets if target == "recorder.cli")  # fmt: skip
    assert importers == ["recorder.__main__"]


@pytest.mark.parametrize("room", sorted(FORBIDDEN))
def test_rooms_point_one_way(room: str) -> None:
    wrong = sorted(
        f"{module} -> {target}"
        for module, targets in GRAPH.items()
        if module == room or module.startswith(room + ".")
        for target, _ in targets
        if any(target == f or target.startswith(f + ".") for f in FORBIDDEN[room])
    )
    assert wrong == []


def test_recorder_imports_the_analyzer_only_where_documented() -> None:
    uses = {(m, target, lazy) for m, targets in GRAPH.items() if m.startswith("recorder")
            for target, lazy in targets if target.startswith("analyzer")}  # fmt: skip
    assert {(m, t) for m, t, _ in uses} <= RECORDER_USES_ANALYZER
    assert all(lazy for _, _, lazy in uses), "the recorder imports the analyzer inside functions"


def test_lazy_imports_only_where_documented() -> None:
    """Imports inside functions dodge nothing: only the CLI's commands and the report page."""
    lazy = sorted(f"{m} -> {t}" for m, targets in GRAPH.items() for t, inner in targets
                  if inner and m not in LAZY_IMPORTERS)  # fmt: skip
    assert lazy == []


def test_importing_the_recorder_does_not_import_numba() -> None:
    code = (
        "import sys, recorder.server, recorder.cli, recorder.console.pages;"
        "print('numba' in sys.modules, 'analyzer' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
