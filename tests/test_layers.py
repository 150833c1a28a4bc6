"""The module graph points one way: no import cycle, no import of a higher layer, no training at run time.

Every ``import`` of every module under ``qc/`` counts, at module level or inside a function
(a function-level import is still a dependency, only a later one). Read from the source: no
import runs, except in the test that checks what an inspection loads. Spark's executor and the
piece reader get a stricter rule of their own: they import only what they wrap.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "qc"

# Lowest first. A module may import its own layer and the layers below it, never one above.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("qc", "qc.schema", "qc.errors", "qc.paths"),
    ("qc.readers", "qc.text"),
    ("qc.rules",),
    ("qc.attitude",),
    ("qc.run",),
    ("qc.scoring",),
    ("qc.outputs",),
    ("qc.store",),
    ("qc.batch",),
    ("qc.supervise",),
    # Beside the runtime: nothing below imports them.
    ("qc.training", "qc.synth", "qc.integrations"),
    # Entry points. spark-submit's driver script lives beside the Spark engine (spark-submit
    # needs a file of the installed package) but is the CLI run on a cluster.
    ("qc.cli", "qc.serve", "qc.__main__", "qc.batch.spark_submit"),
)


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The qc modules ``name`` imports (``from qc.x import y`` counts y when y is a module)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name and (target == "qc" or target.startswith("qc.")):
                found.add(target)
    return found


def layer_of(name: str) -> int:
    best, level = -1, -1
    for index, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (name == prefix or name.startswith(prefix + ".")) and len(prefix) > best:
                best, level = len(prefix), index
    assert level >= 0, f"{name} is in no layer: add its package to LAYERS"
    return level


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {name: imports_of(name, path, known) for name, path in mods.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_every_module_is_in_a_layer() -> None:
    for name in modules():
        layer_of(name)


def test_no_module_imports_a_higher_layer() -> None:
    upward = [
        f"{name} (layer {layer_of(name)}) imports {target} (layer {layer_of(target)})"
        for name, targets in graph().items()
        for target in sorted(targets)
        if layer_of(target) > layer_of(name)
    ]
    assert upward == []


def test_the_module_graph_has_no_cycle() -> None:
    assert cycles(graph()) == []


def test_the_checks_see_a_cycle_and_an_upward_import() -> None:
    # The checks themselves: a made-up graph with both faults is caught.
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert layer_of("qc.cli.inspect_cmd") > layer_of("qc.run.inspector") > layer_of("qc.rules.lexicon")
    edges = imports_of("qc.rules.forbidden_phrase", PACKAGE / "rules" / "forbidden_phrase.py", set(modules()))
    assert "qc.rules.lexicon" in edges and "qc.schema" in edges


@pytest.mark.parametrize(
    "module, allowed",
    [
        # Spark's executor wraps the inspector and nothing else: no batch, scoring or output code.
        ("qc.run.spark", ("qc.run", "qc.rules", "qc.attitude", "qc.readers", "qc.text", "qc.schema")),
        # Reading a file in pieces is the readers' own code, for any distributed reader.
        ("qc.readers.pieces", ("qc.readers", "qc.schema", "qc.errors")),
    ],
)
def test_spark_pieces_import_only_what_they_wrap(module: str, allowed: tuple[str, ...]) -> None:
    mods = modules()
    imported = imports_of(module, mods[module], set(mods))
    above = sorted(n for n in imported if not any(n == a or n.startswith(a + ".") for a in allowed))
    assert above == [], f"{module} imports {above}"


@pytest.mark.parametrize(
    "code",
    [
        "import qc.batch.run, qc.run.pool, qc.supervise.review, qc.cli.inspect_cmd",
        "import qc.batch.spark, qc.batch.spark_day, qc.batch.spark_tasks, qc.run.spark, qc.readers.pieces",
        "from qc.run.inspector import build_inspector; build_inspector()",
    ],
    ids=["import", "import-spark", "build"],
)
def test_running_an_inspection_never_loads_training_or_demo_code(code: str) -> None:
    beside = "('qc.training', 'qc.synth')"
    probe = f"import sys; {code}; print(sorted(m for m in sys.modules if m.startswith({beside})))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_an_inspection_imports_neither_scikit_learn_nor_scipy(tmp_path) -> None:
    # The model file is arrays + JSON: a worker's start-up must not pay scikit-learn's or
    # scipy's imports (about 2 s of CPU per process when it did).
    demo = Path(__file__).resolve().parent.parent / "demo" / "day"
    probe = (
        "import sys; from pathlib import Path; from qc.readers import ReadOptions, read_inputs;"
        " from qc.run.inspector import build_inspector;"
        f" convs = read_inputs([Path({str(demo)!r})], ReadOptions()).conversations;"
        " found = sum(len(r.findings) for r in build_inspector().inspect(convs));"
        " heavy = sorted(m for m in sys.modules"
        " if m.split('.')[0] in ('sklearn', 'scipy', 'skops', 'snownlp'));"
        " print(found, heavy)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    found, heavy = out.stdout.strip().split(" ", 1)
    assert int(found) > 100 and heavy == "[]"
