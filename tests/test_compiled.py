"""The compiled hot path (``make demo``/``make compiled``, issue 15): the same outputs as the sources.

mypyc changes what Python lets slide: a compiled frozen dataclass cannot be unpickled field by
field, a class whose ``__init__`` takes arguments cannot be unpickled at all, and an exception
variable reused across ``except`` clauses of two types is a type error. Each of these broke a
``--jobs`` run (one hung for good: its result thread died on an unpicklable worker result).
These tests run a day as a shop would, with workers, a store, a bad line and an unreadable file,
through the build that make left in ``build/compiled`` (or one compiled for them when that is
missing or not current), and compare every output file with the sources' run. The rest of the
suite runs on the sources (``QC_PURE=1``, set in conftest: it patches Python functions, which
compiled callers never see).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from outputs import COMPARABLE_OUTPUTS

from qc.compiled import HOT_MODULES, PINNED_ENV, PURE_ENV, build_folder, read_build

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from compile import built_files, missing_prerequisite  # noqa: E402 - scripts/ is no package

pytestmark = pytest.mark.slow

_DATA = ("lexicons", "models", "annotated_samples")


@pytest.fixture(scope="module")
def compiled_root(tmp_path_factory) -> Path:
    """A project whose compiled build is current: this one after make, else a copy compiled here."""
    if read_build(ROOT).usable:
        return ROOT
    problem = missing_prerequisite()
    if problem is not None:
        pytest.skip(f"cannot compile here: {problem}")
    copy = tmp_path_factory.mktemp("compiled")
    for name in ("qc", *_DATA, "scripts"):
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


def _inspect(
    root: Path, day: list[Path], out: Path, *args: str, pure: bool = False, quiet: bool = True
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in (PURE_ENV, PINNED_ENV)}
    env["PYTHONPATH"] = str(root)
    if pure:
        env[PURE_ENV] = "1"
    command = [sys.executable, "-m", "qc", "inspect", *map(str, day), "--out", str(out), *args]
    command += ["-q"] if quiet else []
    # Run from the output's folder: python -m puts the working folder first on the path.
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=out.parent, timeout=600)


def _compiled_count(out: Path) -> int:
    return int(json.loads((out / "run.json").read_text(encoding="utf-8"))["compiled_modules"])


def test_a_day_through_the_compiled_hot_path_gives_the_sources_outputs(compiled_root, tmp_path):
    day = tmp_path / "in"
    shutil.copytree(ROOT / "demo" / "day", day)
    with (day / "2026-11-24_conversations.jsonl").open("a", encoding="utf-8") as fh:
        fh.write('{"conversation_id": "x", "role": "nobody", "text": "坏行"}\n{"total": 1, "data": [1]}\n')
    (day / "broken.xlsx").write_bytes(b"PK\x03\x04 not a workbook")
    runs = {}
    for name, pure in (("sources", True), ("compiled", False)):
        out = tmp_path / name
        db = str(tmp_path / f"{name}.sqlite")
        done = _inspect(compiled_root, [day], out, "--jobs", "2", "--db", db, pure=pure)
        assert done.returncode == 1, done.stderr[-2000:]  # the unreadable workbook, the rest read
        assert "broken.xlsx" in done.stderr and "Traceback" not in done.stderr
        runs[name] = json.loads((out / "run.json").read_text(encoding="utf-8"))
        # and once more into the same store: the spool and continuations pickle conversations
        again = _inspect(
            compiled_root, [day], tmp_path / f"{name}-again", "--jobs", "2", "--db", db, pure=pure
        )
        assert again.returncode == 1, again.stderr[-2000:]
    assert runs["sources"]["compiled_modules"] == 0
    assert runs["compiled"]["compiled_modules"] == len(HOT_MODULES)  # all of them, none left to the sources
    for name in COMPARABLE_OUTPUTS:
        for run in ("", "-again"):
            sources = (tmp_path / f"sources{run}" / name).read_bytes()
            assert (tmp_path / f"compiled{run}" / name).read_bytes() == sources, name
    assert (
        runs["compiled"]["counts"] == runs["sources"]["counts"] and runs["sources"]["counts"]["rejected"] > 0
    )


def test_a_build_whose_sources_changed_is_not_used_and_the_run_says_so(compiled_root, tmp_path):
    """An extension is what Python would import whatever its source says: before the build was
    kept apart with its sources' hashes, a tree compiled once ran the old code after a pull."""
    copy = tmp_path / "copy"
    for name in ("qc", *_DATA):
        shutil.copytree(compiled_root / name, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(build_folder(compiled_root), build_folder(copy))
    day = [ROOT / "demo" / "day"]
    done = _inspect(copy, day, tmp_path / "fresh", quiet=False)
    assert done.returncode == 0 and "not used" not in done.stderr, done.stderr[-2000:]
    assert _compiled_count(tmp_path / "fresh") == len(HOT_MODULES)
    # A source outside the hot path changes nothing.
    with (copy / "qc" / "cli" / "show_cmd.py").open("a", encoding="utf-8") as fh:
        fh.write("\n# an edit outside the hot path\n")
    done = _inspect(copy, day, tmp_path / "cold-edit")
    assert done.returncode == 0 and _compiled_count(tmp_path / "cold-edit") == len(HOT_MODULES)
    # One hot source edited: the whole run is the sources', with the same outputs, and says why.
    source = copy / "qc" / "readers" / "jsonl.py"
    source.write_text(source.read_text(encoding="utf-8") + "\n# an edit\n", encoding="utf-8")
    done = _inspect(copy, day, tmp_path / "edited", quiet=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert _compiled_count(tmp_path / "edited") == 0
    said = "note: the compiled build is not used: the code changed after it was built (qc/readers/jsonl.py)"
    assert said in done.stderr and "`make compiled` builds it again" in done.stderr
    # Under -q it says nothing: the results are the same.
    done = _inspect(copy, day, tmp_path / "edited-quiet")
    assert done.returncode == 0 and "not used" not in done.stderr
    for name in COMPARABLE_OUTPUTS:
        assert (tmp_path / "edited" / name).read_bytes() == (tmp_path / "fresh" / name).read_bytes(), name
    # QC_PURE asks for the sources: nothing to say.
    done = _inspect(copy, day, tmp_path / "asked", pure=True, quiet=False)
    assert done.returncode == 0 and "not used" not in done.stderr
    assert _compiled_count(tmp_path / "asked") == 0


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


_FLIP = """
import os, runpy, sys
mode = sys.argv.pop(1)
if mode == "main-pure":
    os.environ["QC_PURE"] = "1"
import qc.schema  # the main process decides here
if mode == "main-pure":
    del os.environ["QC_PURE"]  # a build now current for any process started later
else:
    os.environ["QC_PURE"] = "1"  # the build now gone for any process started later
sys.argv = ["qc", *sys.argv[1:]]
runpy.run_module("qc", run_name="__main__")
"""


@pytest.mark.parametrize("mode", ["main-pure", "main-compiled"])
def test_a_runs_workers_run_what_its_main_process_runs(compiled_root, tmp_path, mode):
    """A build landing (or removed) between a run's first import and its workers' start made one
    side compiled and the other pure: their answers did not unpickle, and the run hung for ever
    or ended in an internal error (audit 150 H1)."""
    env = {k: v for k, v in os.environ.items() if k not in (PURE_ENV, PINNED_ENV)}
    env["PYTHONPATH"] = str(compiled_root)
    day = ROOT / "demo" / "day"
    out = tmp_path / mode
    command = [sys.executable, "-c", _FLIP, mode, "inspect", str(day), "--out", str(out), "--jobs", "2", "-q"]
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert _compiled_count(out) == (0 if mode == "main-pure" else len(HOT_MODULES))
    pure = _inspect(compiled_root, [day], tmp_path / "pure", "--jobs", "2", pure=True)
    assert pure.returncode == 0
    for name in COMPARABLE_OUTPUTS:
        assert (out / name).read_bytes() == (tmp_path / "pure" / name).read_bytes(), name
