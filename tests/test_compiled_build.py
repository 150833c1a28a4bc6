"""When qc loads the compiled build: only while every hot source has the hash it was compiled from.

No compiler needed: these build the folder's manifest by hand (tests/test_compiled.py runs a
real build).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from qc.compiled import (
    EXT_SUFFIX,
    HOT_MODULES,
    MANIFEST,
    PINNED_ENV,
    PURE_ENV,
    CompiledFinder,
    build_folder,
    extension_path,
    read_build,
    source_digests,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _unpinned(monkeypatch):
    """No choice pinned by a pool an earlier test started in this process, and none left behind."""
    monkeypatch.setenv(PINNED_ENV, "")  # recorded: what a test's pin() sets is undone after it
    monkeypatch.delenv(PINNED_ENV)


@pytest.fixture
def project(tmp_path) -> Path:
    """A copy of the package with a manifest that matches its sources and stand-ins for its extensions."""
    shutil.copytree(ROOT / "qc", tmp_path / "qc", ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    folder = build_folder(tmp_path)
    files = {}
    for name in (*HOT_MODULES, "abc__mypyc"):
        path = extension_path(folder, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"not loaded here")
        files[str(path.relative_to(folder))] = path.stat().st_size
    manifest = {
        "ext_suffix": EXT_SUFFIX,
        "shared": ["abc__mypyc"],
        "sources": source_digests(tmp_path),
        "files": files,
    }
    (folder / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    return tmp_path


def test_a_build_of_the_current_sources_is_used(project):
    build = read_build(project)
    assert build.present and build.usable and build.changed == () and build.shared == ("abc__mypyc",)


def test_one_changed_hot_source_makes_the_whole_build_unusable_and_is_named(project):
    schema = project / "qc" / "schema.py"
    schema.write_text(schema.read_text(encoding="utf-8") + "\n# later\n", encoding="utf-8")
    build = read_build(project)
    assert build.present and not build.usable
    assert build.changed == ("qc.schema",)
    assert build.why == "the code changed after it was built (qc/schema.py)"


def test_a_removed_hot_source_counts_as_changed(project):
    (project / "qc" / "attitude" / "cues.py").unlink()
    assert read_build(project).changed == ("qc.attitude.cues",)


def test_a_source_outside_the_hot_path_changes_nothing(project):
    cli = project / "qc" / "cli" / "show_cmd.py"
    cli.write_text(cli.read_text(encoding="utf-8") + "\n# later\n", encoding="utf-8")
    assert "qc.cli.show_cmd" not in HOT_MODULES
    assert read_build(project).usable


@pytest.mark.parametrize(
    ("manifest", "why"),
    [
        ("{not json", "its manifest is unreadable"),
        ('["a list"]', "its manifest names no sources"),
        ('{"ext_suffix": ".cpython-39-x.so", "sources": {}}', "it was built for another Python"),
    ],
)
def test_a_broken_or_foreign_manifest_is_never_used_and_says_why(project, manifest, why):
    (build_folder(project) / MANIFEST).write_text(manifest, encoding="utf-8")
    build = read_build(project)
    assert build.present and not build.usable and build.why.startswith(why)


def test_no_build_folder_means_the_sources(tmp_path):
    build = read_build(tmp_path)
    assert not build.present and not build.usable


def test_the_finder_loads_hot_modules_and_the_shared_library_only_from_a_current_build(project, monkeypatch):
    monkeypatch.delenv(PURE_ENV, raising=False)
    folder = build_folder(project)
    finder = CompiledFinder(project)
    spec = finder.find_spec("qc.readers.jsonl")
    assert spec is not None and spec.origin == str(folder / "qc" / "readers" / ("jsonl" + EXT_SUFFIX))
    assert finder.find_spec("abc__mypyc") is not None
    assert finder.find_spec("other__mypyc") is None  # not this build's library
    assert finder.find_spec("qc.cli.show_cmd") is None  # not a hot module
    # Decided once: a source changed after the first hot import does not split the process.
    jsonl = project / "qc" / "readers" / "jsonl.py"
    jsonl.write_text(jsonl.read_text(encoding="utf-8") + "\n# later\n", encoding="utf-8")
    assert finder.find_spec("qc.readers.jsonl") is not None
    assert CompiledFinder(project).find_spec("qc.readers.jsonl") is None  # a new process would not


@pytest.mark.parametrize(
    ("damage", "why"),
    [
        (lambda p: p.unlink(), "its file records{} is missing"),
        (
            lambda p: p.write_bytes(b"cut"),
            "its file records{} is not the one compiled (3 bytes, 15 when built)",
        ),
    ],
    ids=["missing", "cut-short"],
)
def test_an_extension_missing_or_cut_short_makes_the_build_unusable(project, damage, why):
    """A build copied in part would have loaded some modules compiled and failed on the rest."""
    damage(extension_path(build_folder(project), "qc.readers.records"))
    build = read_build(project)
    assert not build.usable and build.why == why.format(EXT_SUFFIX)
    assert CompiledFinder(project).find_spec("qc.schema") is None


def test_qc_pure_asks_for_the_sources(project, monkeypatch):
    monkeypatch.setenv(PURE_ENV, "1")
    assert CompiledFinder(project).find_spec("qc.schema") is None
    monkeypatch.delenv(PURE_ENV)
    assert CompiledFinder(project).find_spec("qc.schema") is not None


def test_this_test_run_loads_no_compiled_module():
    """conftest asks for the sources: the tests patch Python functions."""
    import qc.readers.jsonl  # noqa: F401 - a hot module, imported for the check
    from qc.compiled import compiled_modules

    assert compiled_modules() == []


def test_make_on_a_machine_without_a_compiler_runs_pure_and_says_why(tmp_path):
    """``make demo`` runs ``compile.py --or-pure``: no compiler is no failure, but it is said."""
    shutil.copytree(ROOT / "qc", tmp_path / "qc", ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    env = {**os.environ, "CC": str(tmp_path / "no-such-cc")}
    command = [sys.executable, str(ROOT / "scripts" / "compile.py"), "--root", str(tmp_path)]
    strict = subprocess.run(command, capture_output=True, text=True, env=env)
    assert strict.returncode == 2 and "no C compiler" in strict.stderr
    lenient = subprocess.run([*command, "--or-pure"], capture_output=True, text=True, env=env)
    assert lenient.returncode == 0, lenient.stderr
    assert "no C compiler" in lenient.stderr and "qc runs as pure Python" in lenient.stderr
    assert not build_folder(tmp_path).exists()


def test_each_build_lands_in_its_own_folder_and_the_link_moves_in_one_step(tmp_path):
    """The build a run started with keeps its files while the next one lands (a run resolves the
    link once); the one before that is removed. A folder from before the links is moved aside."""
    sys.path.insert(0, str(ROOT / "scripts"))
    from compile import _point

    link = build_folder(tmp_path)
    link.mkdir(parents=True)  # a build made before the links
    (link / MANIFEST).write_text("{}", encoding="utf-8")
    homes = []
    for name in ("a", "b", "c"):
        home = link.with_name(f"compiled-{name}")
        home.mkdir()
        homes.append(home)
        _point(link, home)
        assert link.is_symlink() and link.resolve() == home.resolve()
    left = sorted(p.name for p in link.parent.iterdir())
    assert left == ["compiled", "compiled-b", "compiled-c"]  # the one before the newest stays


def test_a_pinned_choice_is_what_a_child_process_makes(project, monkeypatch):
    """The workers of a run decide as its main process did, even when the sources or QC_PURE have
    changed since: their answers must unpickle into the main process's classes (audit 150 H1)."""
    from qc.errors import CompiledBuildGoneError

    monkeypatch.delenv(PURE_ENV, raising=False)
    build = CompiledFinder(project).build()
    assert build is not None and build.folder == build_folder(project).resolve()
    monkeypatch.setenv(PINNED_ENV, str(build.folder))  # what the parent's children_pinned sets
    schema = project / "qc" / "schema.py"
    schema.write_text(schema.read_text(encoding="utf-8") + "\n# a pull since\n", encoding="utf-8")
    monkeypatch.setenv(PURE_ENV, "1")
    child = CompiledFinder(project)
    assert child.find_spec("qc.schema") is not None  # compiled, as its parent
    # A parent on the sources: the child too, whatever the build says.
    monkeypatch.setenv(PINNED_ENV, "")
    monkeypatch.delenv(PURE_ENV)
    assert CompiledFinder().find_spec("qc.schema") is None
    # The parent's build gone: no child runs other code than its parent.
    monkeypatch.setenv(PINNED_ENV, str(project / "build" / "gone"))
    with pytest.raises(CompiledBuildGoneError, match="lost its file manifest.json"):
        CompiledFinder(project).find_spec("qc.schema")


def test_an_extension_removed_after_the_choice_is_refused_not_loaded_from_its_source(project, monkeypatch):
    """`make pure` during a run left a process with 6 modules compiled and the rest from the
    sources, or an internal error (audit 150 M1)."""
    from qc.errors import CompiledBuildGoneError

    monkeypatch.delenv(PURE_ENV, raising=False)
    finder = CompiledFinder(project)
    assert finder.find_spec("qc.schema") is not None
    extension_path(build_folder(project), "qc.readers.jsonl").unlink()
    with pytest.raises(CompiledBuildGoneError, match=r"lost its file jsonl.* while qc ran"):
        finder.find_spec("qc.readers.jsonl")


@pytest.mark.parametrize("broken", ["loop", "dangling"])
def test_a_broken_link_is_replaced_by_the_next_build(tmp_path, broken):
    """A looping link made the build fail with a traceback after its two minutes (audit 150 L2)."""
    sys.path.insert(0, str(ROOT / "scripts"))
    from compile import _point

    link = build_folder(tmp_path)
    link.parent.mkdir(parents=True)
    link.symlink_to(link.name if broken == "loop" else "compiled-gone")
    assert not read_build(tmp_path).usable
    home = link.with_name("compiled-new")
    home.mkdir()
    _point(link, home)
    assert link.resolve() == home.resolve()


def test_the_pin_is_set_only_while_children_start():
    """A pin left in a process that used a pool made every later `qc` it started skip the source
    check and run old compiled code after a pull, or refuse to run after two builds (audit 151 H3)."""
    from qc.compiled import children_pinned, pin_value
    from qc.rules import RuleSettings
    from qc.run.pool import PoolExecutor

    assert PINNED_ENV not in os.environ
    with children_pinned():
        assert os.environ[PINNED_ENV] == pin_value() == ""  # the test run is pure
    assert PINNED_ENV not in os.environ
    with PoolExecutor(RuleSettings(rules=()), jobs=1) as pool:
        pool.describe()
        assert PINNED_ENV not in os.environ
    assert PINNED_ENV not in os.environ


def test_a_build_gone_before_the_worker_server_loads_it_is_named_without_a_traceback(tmp_path):
    """Removed in the half second the worker server imports qc, the build ended the run with exit 70
    (an EOFError, "a bug in qc") under the server's traceback (audit 151 H1)."""
    script = (
        "import sys, qc.run.pool as pool\n"
        f"pool.pin_value = lambda: {str(tmp_path / 'compiled-gone')!r}  # chosen, then removed\n"
        "from qc.cli import main\n"
        "sys.argv[0] = 'qc'\n"
        "main()\n"
    )
    out = tmp_path / "out"
    command = [sys.executable, "-c", script, "inspect", str(ROOT / "demo" / "day"), "--jobs", "2", "--out"]
    done = subprocess.run(
        [*command, str(out)], capture_output=True, text=True, env={**os.environ, PURE_ENV: "1"}
    )
    assert done.returncode == 1, done.stderr
    assert "the compiled build this run started with" in done.stderr
    assert "lost its file manifest.json while qc ran" in done.stderr and "run qc again" in done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr
    assert not out.exists()
