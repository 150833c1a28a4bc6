"""The compiled hot path (``make compiled``, issue 15): the same outputs as the Python sources.

mypyc changes what Python lets slide: a compiled frozen dataclass cannot be unpickled field by
field, a class whose ``__init__`` takes arguments cannot be unpickled at all, and an exception
variable reused across ``except`` clauses of two types is a type error. Each of these broke a
``--jobs`` run (one hung for good: its result thread died on an unpicklable worker result).
This test compiles a copy of the project and runs a day through it as a shop would: with
workers, a store, a bad line and an unreadable file, and compares every output file with the
Python sources' run. The rest of the suite runs on the sources (it patches Python functions,
which compiled callers never see).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from outputs import COMPARABLE_OUTPUTS

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from compile import built_files, missing_prerequisite  # noqa: E402 - scripts/ is no package

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def compiled_copy(tmp_path_factory) -> Path:
    """A copy of the project's package and data with the hot modules compiled (about 2 minutes)."""
    problem = missing_prerequisite()
    if problem is not None:
        pytest.skip(f"cannot compile here: {problem}")
    copy = tmp_path_factory.mktemp("compiled")
    for name in ("qc", "lexicons", "models", "annotated_samples", "scripts"):
        shutil.copytree(ROOT / name, copy / name, ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    done = subprocess.run(
        [sys.executable, str(copy / "scripts" / "compile.py"), "--root", str(copy)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert len(built_files(copy)) > 20
    return copy


def _inspect(pythonpath: Path, day: list[Path], out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    command = [sys.executable, "-m", "qc", "inspect", *map(str, day), "--out", str(out), "-q", *args]
    # Run from the output's folder: python -m puts the working folder first on the path.
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=out.parent, timeout=600)


def test_a_day_through_the_compiled_hot_path_gives_the_sources_outputs(compiled_copy, tmp_path):
    day = tmp_path / "in"
    shutil.copytree(ROOT / "demo" / "day", day)
    with (day / "2026-11-24_conversations.jsonl").open("a", encoding="utf-8") as fh:
        fh.write('{"conversation_id": "x", "role": "nobody", "text": "坏行"}\n{"total": 1, "data": [1]}\n')
    (day / "broken.xlsx").write_bytes(b"PK\x03\x04 not a workbook")
    runs = {}
    for name, path in (("sources", ROOT), ("compiled", compiled_copy)):
        out = tmp_path / name
        done = _inspect(path, [day], out, "--jobs", "2", "--db", str(tmp_path / f"{name}.sqlite"))
        assert done.returncode == 1, done.stderr[-2000:]  # the unreadable workbook, the rest read
        assert "broken.xlsx" in done.stderr and "Traceback" not in done.stderr
        runs[name] = json.loads((out / "run.json").read_text(encoding="utf-8"))
        # and once more into the same store: the spool and continuations pickle conversations
        again = _inspect(
            path, [day], tmp_path / f"{name}-again", "--jobs", "2", "--db", str(tmp_path / f"{name}.sqlite")
        )
        assert again.returncode == 1, again.stderr[-2000:]
    assert runs["sources"]["compiled_modules"] == 0
    assert runs["compiled"]["compiled_modules"] > 20  # it did run compiled
    for name in COMPARABLE_OUTPUTS:
        for run in ("", "-again"):
            sources = (tmp_path / f"sources{run}" / name).read_bytes()
            assert (tmp_path / f"compiled{run}" / name).read_bytes() == sources, name
    assert (
        runs["compiled"]["counts"] == runs["sources"]["counts"] and runs["sources"]["counts"]["rejected"] > 0
    )


def test_a_compiled_tree_whose_sources_changed_says_it_runs_the_old_code(compiled_copy, tmp_path):
    """Python imports the extension whatever its source says: after a pull or an edit, a tree
    compiled once ran the old code silently."""
    day = ROOT / "demo" / "day"
    done = _inspect(compiled_copy, [day], tmp_path / "fresh")
    assert done.returncode == 0 and "older than their sources" not in done.stderr
    source = compiled_copy / "qc" / "readers" / "jsonl.py"
    later = time.time() + 3600  # edited after the build
    os.utime(source, (later, later))
    done = _inspect(compiled_copy, [day], tmp_path / "edited")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "1 compiled modules are older than their sources (qc.readers.jsonl" in done.stderr
    assert "make compiled" in done.stderr


def test_every_hand_written_reduce_passes_the_init_fields_in_order():
    """A field added to a frozen dataclass and not to its ``__reduce__`` would be lost in a worker
    result (or fail to unpickle) on the compiled build only: checked here on the sources."""
    import dataclasses
    import importlib
    import inspect
    import re

    from qc.compiled import HOT_MODULES

    checked = 0
    for name in HOT_MODULES:
        module = importlib.import_module(name)
        for cls in vars(module).values():
            if not (inspect.isclass(cls) and cls.__module__ == name and dataclasses.is_dataclass(cls)):
                continue
            if "__reduce__" not in vars(cls):
                continue
            lines = inspect.getsource(vars(cls)["__reduce__"]).splitlines()
            code = "".join("".join(line.split("#")[0].split()) for line in lines)
            given = re.search(r"return\(type\(self\),\((.*?),?\),?\)$", code)
            if given is None:  # a reduce of its own making (rebuilt from other data)
                continue
            passed = [
                part.strip().removeprefix("self.") for part in given.group(1).split(",") if part.strip()
            ]
            wanted = [f.name for f in dataclasses.fields(cls) if f.init]
            assert passed == wanted, f"{name}.{cls.__name__}.__reduce__ passes {passed}, not {wanted}"
            checked += 1
    assert checked >= 30
