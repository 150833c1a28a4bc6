"""Whether qc runs compiled, where the compiled build lives, and what compiling asks of the code.

``scripts/compile.py`` (``make demo``, ``make compiled``) compiles the per-message hot path
(readers, rules, scoring, outputs: :data:`HOT_MODULES`) with mypyc into C extensions in
``build/compiled/`` beside the package, with a manifest of the SHA-256 of every source it
compiled. :class:`CompiledFinder`, installed when ``qc`` is imported, loads those extensions in
place of the sources only while every hot source still has the hash it was compiled from, all
of them or none: a compiled module calls the others' compiled code directly, so one edited
source (a pull, a fix) makes the whole run pure Python, with the same outputs, only slower.
Nothing else changes: the same code, the same outputs, about a quarter less CPU per message.
``QC_PURE=1`` asks for the sources (the test suite sets it: it patches Python functions, which
compiled callers never see). :func:`compiled_modules` names the modules in use (``run.json``
records them, so a benchmark figure says which build made it).

What compiling asks of these modules' code, which Python alone never enforces:

* a frozen dataclass that travels between processes pickles through its own ``__reduce__``
  (its init fields in order; tests/test_compiled.py checks them): a compiled one cannot be
  unpickled field by field;
* a class whose ``__init__`` takes arguments and travels stays a Python class
  (:func:`mypyc_attr` ``native_class=False``), or it cannot be unpickled;
* one name per exception type in a function's ``except`` clauses: a name bound to two types
  is a type error compiled;
* no lone surrogate in a string literal (write it as a regex escape instead).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import sys
import sysconfig
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.machinery import ExtensionFileLoader, ModuleSpec
from pathlib import Path
from types import ModuleType
from typing import TypeVar

__all__ = [
    "HOT_MODULES",
    "MANIFEST",
    "PINNED_ENV",
    "PURE_ENV",
    "Build",
    "CompiledFinder",
    "build_folder",
    "compiled_modules",
    "extension_path",
    "install",
    "mypyc_attr",
    "children_pinned",
    "pin_value",
    "pinned_build_gone",
    "read_build",
    "source_digests",
    "unused_build_note",
]

# The environment variable that asks for the Python sources even where a current build exists.
PURE_ENV = "QC_PURE"
# Set by a qc process for the processes it starts: the build folder it runs, or "" for the sources.
PINNED_ENV = "QC_COMPILED_FROM"
# What scripts/compile.py writes last into the build folder: the hashes it compiled.
MANIFEST = "manifest.json"
EXT_SUFFIX: str = sysconfig.get_config_var("EXT_SUFFIX") or ".so"

# The modules scripts/compile.py compiles: every one a message passes through in a worker.
HOT_MODULES = (
    "qc.readers.records",
    "qc.readers.jsonl",
    "qc.readers.timestamps",
    "qc.readers.assemble",
    "qc.readers.files",
    "qc.readers.stream",
    "qc.schema",
    "qc.scoring.metrics",
    "qc.scoring.evidence",
    "qc.scoring.card",
    "qc.scoring.scores",
    "qc.batch.chunks",
    "qc.batch.verdict_rows",
    "qc.outputs.writers",
    "qc.outputs.cells",
    "qc.attitude.features",
    "qc.attitude.rule",
    "qc.attitude.answered",
    "qc.attitude.slot_cache",
    "qc.attitude.model",
    "qc.attitude.hashing",
    "qc.attitude.cues",
    "qc.attitude.decision",
    "qc.text.tokens",
    "qc.rules.lexicon",
    "qc.rules.forbidden_phrase",
    "qc.run.inspector",
)

_T = TypeVar("_T")

try:
    from mypy_extensions import mypyc_attr
except ImportError:  # a pure install without mypy: the attribute only means something compiled

    def mypyc_attr(*attrs: str, **kwattrs: object) -> Callable[[_T], _T]:
        """No-op stand-in for :func:`mypy_extensions.mypyc_attr`."""
        return lambda cls: cls


def compiled_modules() -> list[str]:
    """The hot modules loaded from a compiled extension, in :data:`HOT_MODULES` order."""
    out = []
    for name in HOT_MODULES:
        module = sys.modules.get(name)
        loader = getattr(getattr(module, "__spec__", None), "loader", None)
        if isinstance(loader, ExtensionFileLoader):
            out.append(name)
    return out


def build_folder(root: Path | None = None) -> Path:
    """Where the compiled build of the project at ``root`` lives (default: this package's project).

    ``scripts/compile.py`` makes it a link to the folder of the newest build, replaced in one step:
    a process resolves it once and loads every module from that one folder.
    """
    return (root if root is not None else _project_root()) / "build" / "compiled"


def _project_root() -> Path:
    return Path(__file__).resolve().parents[1]


def extension_path(folder: Path, name: str) -> Path:
    """Where module ``name``'s extension lies under ``folder`` (``qc.schema`` → ``qc/schema.<suffix>``)."""
    *packages, last = name.split(".")
    return folder.joinpath(*packages, last + EXT_SUFFIX)


def source_digests(root: Path) -> dict[str, str]:
    """SHA-256 of each hot module's source under ``root`` (``""`` for a missing file)."""
    out = {}
    for name in HOT_MODULES:
        path = root.joinpath(*name.split(".")).with_suffix(".py")
        try:
            out[name] = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            out[name] = ""
    return out


@dataclass(frozen=True)
class Build:
    """What the build folder holds, and why it cannot be used when it cannot.

    ``usable`` only when a manifest is there, for this Python, and every hot source has the
    hash it was compiled from; ``changed`` names the sources that differ (``why`` says the rest).
    """

    folder: Path
    present: bool
    usable: bool
    changed: tuple[str, ...] = ()
    why: str = ""
    shared: tuple[str, ...] = ()


def read_build(root: Path | None = None) -> Build:
    """The state of the compiled build of the project at ``root``, from its manifest and the sources.

    A manifest that cannot be read, or was written for another Python, makes the build unusable
    (never an error: qc then runs its sources).
    """
    root = root if root is not None else _project_root()
    folder = build_folder(root)
    try:
        folder = folder.resolve(strict=True)
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Build(folder, present=False, usable=False, why="no compiled build")
    except RuntimeError as exc:  # a loop of links
        return Build(folder, present=True, usable=False, why=f"its folder cannot be found ({exc})")
    except (OSError, ValueError) as exc:  # a folder it may not read too
        return Build(folder, present=True, usable=False, why=f"its manifest is unreadable ({exc})")
    return _checked(folder, manifest, source_digests(root))


def _checked(folder: Path, manifest: object, now: dict[str, str] | None) -> Build:
    """The build in ``folder`` with its ``manifest``, against the sources' digests ``now``.

    ``now`` is ``None`` for a process that runs what its parent runs: the sources are not compared.
    """
    if not isinstance(manifest, dict) or not isinstance(manifest.get("sources"), dict):
        return Build(folder, present=True, usable=False, why="its manifest names no sources")
    if manifest.get("ext_suffix") != EXT_SUFFIX:
        why = f"it was built for another Python ({manifest.get('ext_suffix')}, this is {EXT_SUFFIX})"
        return Build(folder, present=True, usable=False, why=why)
    built = manifest["sources"]
    changed: tuple[str, ...] = ()
    if now is not None:
        changed = tuple(name for name in HOT_MODULES if not now[name] or built.get(name) != now[name])
    shared = tuple(str(name) for name in manifest.get("shared", ()))
    if changed:
        named = [str(Path(*name.split("."))) + ".py" for name in changed]
        why = f"the code changed after it was built ({', '.join(named[:3])}{' …' if len(named) > 3 else ''})"
        return Build(folder, present=True, usable=False, changed=changed, why=why, shared=shared)
    files = manifest.get("files")
    damaged = _damaged(folder, files, shared) if isinstance(files, dict) else "it lists no files"
    if damaged:
        return Build(folder, present=True, usable=False, why=damaged, shared=shared)
    return Build(folder, present=True, usable=True, shared=shared)


def _damaged(folder: Path, files: dict[str, object], shared: tuple[str, ...]) -> str:
    """Why the build's extensions are not the ones compiled (missing, cut short), or ``""``.

    A stat per file, not a hash: it catches a build copied in part or truncated at the cost of
    microseconds, where hashing its megabytes would cost every process start.
    """
    wanted = [extension_path(folder, name) for name in (*HOT_MODULES, *shared)]
    for path in wanted:
        size = files.get(str(path.relative_to(folder)))
        try:
            found = path.stat().st_size
        except OSError:
            return f"its file {path.name} is missing"
        if found != size:
            return f"its file {path.name} is not the one compiled ({found} bytes, {size} when built)"
    return ""


class CompiledFinder:
    """Loads the hot modules from a current compiled build, all of them or none (a meta path finder).

    The decision is taken once, at the first hot import of the process, and holds for its
    life: a process never mixes compiled and Python hot modules.
    """

    def __init__(self, root: Path | None = None) -> None:
        self.root = root
        self._names = frozenset(HOT_MODULES)
        self._decided = False
        self._use: Build | None = None

    def build(self) -> Build | None:
        """The build this process loads from, or ``None`` when it runs the sources (decided once).

        A process started by a qc process that pinned its choice (:func:`children_pinned`)
        makes the same one: the workers of a run exchange objects with it, and a compiled class
        and its Python twin do not pickle into each other (a run hung, audit 150 H1).
        """
        if not self._decided:
            pinned = os.environ.get(PINNED_ENV)
            if pinned:
                found: Build | None = _pinned(Path(pinned))
            elif pinned == "" or os.environ.get(PURE_ENV):
                found = None
            else:
                found = read_build(self.root)
            self._use = found if found is not None and found.usable else None
            self._decided = True
        return self._use

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        """The extension's spec for a hot module (or mypyc's shared library) of a current build."""
        if fullname not in self._names and not fullname.endswith("__mypyc"):
            return None
        build = self.build()
        if build is None or (fullname not in self._names and fullname not in build.shared):
            return None
        file = extension_path(build.folder, fullname)
        if not file.is_file():
            # Loading the source instead would mix the two in one process (audit 150 M1).
            raise _gone(build, file.name)
        return importlib.util.spec_from_file_location(
            fullname, file, loader=ExtensionFileLoader(fullname, str(file))
        )


def _pinned(folder: Path) -> Build:
    """The build a parent process runs, which this one must run too: refused when it is gone."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = None
    build = _checked(folder, manifest, None)
    if not build.usable:
        raise _gone(build, MANIFEST)
    return build


def pinned_build_gone(pin: str) -> Exception | None:
    """Why the build ``pin`` names (a :func:`pin_value`) can no longer be loaded, or ``None``.

    Asked by a process whose worker server failed to start: the server exits without a word when
    the build goes before it loads it, and this names the cause (audit 151 H1).
    """
    from qc.errors import CompiledBuildGoneError

    if not pin:
        return None
    try:
        _pinned(Path(pin))
    except CompiledBuildGoneError as exc:
        return exc
    return None


def _gone(build: Build, name: str) -> Exception:
    from qc.errors import CompiledBuildGoneError

    return CompiledBuildGoneError(
        f"the compiled build this run started with ({build.folder}) lost its file {name} while qc ran"
        " (`make pure`, `make clean`, or two builds since): nothing was written; run qc again"
    )


def pin_value() -> str:
    """What :data:`PINNED_ENV` tells the processes this one starts: its build folder, or ``""``.

    Decides now if this process has not yet. Each process decided on its own otherwise: a build
    landing, or a pull, between the start of ``qc inspect --jobs`` and its workers' made one side
    compiled and the other pure.
    """
    for finder in sys.meta_path:
        if isinstance(finder, CompiledFinder):
            build = finder.build()
            return str(build.folder) if build is not None else ""
    return ""


@contextmanager
def children_pinned() -> Iterator[None]:
    """Set :data:`PINNED_ENV` while the caller starts processes (a pool, a Spark session), then put it back.

    A process that later starts another ``qc`` lets that one decide for itself: a pin left behind
    ran old compiled code after a pull (audit 151 H3).
    """
    before = os.environ.get(PINNED_ENV)
    os.environ[PINNED_ENV] = pin_value()
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(PINNED_ENV, None)
        else:
            os.environ[PINNED_ENV] = before


def unused_build_note() -> str | None:
    """Why this process runs its sources although a compiled build is there, or ``None``.

    ``None`` also when there is no build, or ``QC_PURE`` asked for the sources: nothing to say.
    """
    if os.environ.get(PURE_ENV):
        return None
    build = read_build()
    if not build.present or build.usable:
        return None
    return (
        f"the compiled build is not used: {build.why}. This run uses the Python code, with the same"
        f" results, about a quarter slower; `make compiled` builds it again ({build.folder})"
    )


def install() -> CompiledFinder:
    """Put the compiled build's finder first on ``sys.meta_path`` (once; ``import qc`` does it)."""
    for finder in sys.meta_path:
        if isinstance(finder, CompiledFinder):
            return finder
    finder = CompiledFinder()
    sys.meta_path.insert(0, finder)
    return finder
