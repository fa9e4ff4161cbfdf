"""Layers import one way: markets ← agents ← simulation ← experiments; no circles.

Walks every import of the four packages with ``ast`` — module-level and
function-level ones, and those under ``TYPE_CHECKING`` — and checks that no
module imports a higher layer, and that the intra-package import graph of
each package has no cycle. Also keeps source files to a readable size.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYER = {"markets": 0, "agents": 1, "simulation": 2, "experiments": 3}


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path, module: str | None = None) -> list[str]:
    tree = ast.parse(path.read_text())
    out: list[str] = []
    pkg = (module or _module_name(path)).split(".")
    if path.name != "__init__.py":
        pkg = pkg[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg[: len(pkg) - node.level + 1]
                mod = ".".join([*base, node.module] if node.module else base)
            else:
                mod = node.module or ""
            out.append(mod)
            # `from package import module` imports the submodule too.
            out.extend(f"{mod}.{a.name}" for a in node.names)
    return out


def _sources() -> list[Path]:
    return sorted(p for pkg in LAYER for p in (ROOT / pkg).rglob("*.py"))


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_import_runs_up_the_layers(path):
    own = LAYER[path.relative_to(ROOT).parts[0]]
    up = [m for m in _imports(path) if LAYER.get(m.split(".")[0], -1) > own]
    assert not up, f"{path.relative_to(ROOT)} imports a higher layer: {up}"


def test_no_import_cycle_between_modules():
    modules = {_module_name(p): p for p in _sources()}
    graph = {
        name: {m for m in _imports(p) if m in modules and m != name} for name, p in modules.items()
    }
    # A package's __init__ re-exporting its own submodules is not a cycle.
    for name in graph:
        graph[name] = {m for m in graph[name] if not m.startswith(f"{name}.")}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = [*stack[stack.index(nxt) :], nxt]
                raise AssertionError(f"import cycle: {' -> '.join(cycle)}")
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name)


def test_the_walk_sees_function_level_and_type_checking_imports(tmp_path):
    src = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from simulation.model import ParkModel\n"
        "def f():\n    import experiments.cli\n"
    )
    probe = tmp_path / "probe.py"
    probe.write_text(src)
    mods = _imports(probe, "agents.probe")
    assert "simulation.model" in mods and "experiments.cli" in mods


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_source_files_stay_readable(path):
    lines = len(path.read_text().splitlines())
    assert lines <= 520, f"{path.relative_to(ROOT)} has {lines} lines (split it by topic)"
