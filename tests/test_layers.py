"""Data flows one way: no import cycle between qc's modules, and the run layer stays below the batch layer.

Read from the source (no import runs): a module's top-level imports, and for the layer rules
also the imports inside its functions.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "qc"


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


MODULES = _modules()


def _imports(path: Path, top_level_only: bool) -> set[str]:
    """The qc modules ``path`` imports (``from qc.x import y`` counts y when it is a module)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "qc":
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "qc")
    return {name for name in found if name in MODULES}


def test_no_import_cycle_between_modules():
    graph = {name: _imports(path, top_level_only=True) - {name} for name, path in MODULES.items()}
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(name: str, stack: list[str]) -> None:
        state[name] = 1
        stack.append(name)
        for dep in sorted(graph[name]):
            if state.get(dep) == 1:
                cycles.append([*stack[stack.index(dep) :], dep])
            elif dep not in state:
                visit(dep, stack)
        stack.pop()
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [])
    assert cycles == []


@pytest.mark.parametrize(
    "module, allowed",
    [
        ("qc.run.spark", ("qc.run", "qc.rules", "qc.attitude", "qc.readers", "qc.text", "qc.schema")),
        ("qc.readers.pieces", ("qc.readers", "qc.schema", "qc.errors")),
    ],
)
def test_lower_layers_import_nothing_above_them(module, allowed):
    imported = _imports(MODULES[module], top_level_only=False)
    above = sorted(n for n in imported if not any(n == a or n.startswith(a + ".") for a in allowed))
    assert above == [], f"{module} imports {above}"
