"""Compile qc's per-message hot path with mypyc into ``build/compiled`` (``make demo``, ``make compiled``).

The modules of :data:`qc.compiled.HOT_MODULES` (readers, rules, attitude features, scoring,
outputs) become C extensions in ``build/compiled/`` with a manifest of the SHA-256 of each
source compiled. qc loads them in place of the sources only while every one of those sources
is unchanged (:class:`qc.compiled.CompiledFinder`): after a pull or an edit qc runs its sources,
with the same outputs, until this runs again (``make`` does it when a source is newer). Needs a
C compiler (``$CC``, else Python's), the Python headers, mypy and setuptools, which mypyc builds
with: ``pip install -e '.[compile]'``. ``--clean`` removes the build.

Exit codes: 0 compiled, already current, or cleaned (and with ``--or-pure``, also when this
machine cannot compile or mypyc failed: qc runs as pure Python, and the message says why);
2 a prerequisite is missing (the message names it); 1 mypyc failed (its output is shown).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qc.compiled import (  # noqa: E402 - the project root first, as when run from a clone
    EXT_SUFFIX,
    HOT_MODULES,
    MANIFEST,
    build_folder,
    extension_path,
    read_build,
    source_digests,
)


def built_files(root: Path) -> list[Path]:
    """The compiled extensions of ``root``'s build folder (the modules' and mypyc's shared library)."""
    folder = build_folder(root)
    return sorted(p for p in folder.rglob("*" + EXT_SUFFIX) if p.is_file()) if folder.is_dir() else []


def _in_place(root: Path) -> list[Path]:
    # Extensions an older make compiled left beside the sources: Python would import them
    # whatever the sources say, so every build and clean removes them.
    found = [p for p in (root / "qc").rglob("*" + EXT_SUFFIX) if p.is_file()]
    return found + [p for p in root.glob("*__mypyc*") if p.is_file()]


def missing_prerequisite() -> str | None:
    """What stops a build on this machine, in words with the fix; ``None`` when nothing does."""
    cc = (os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(cc) is None:
        return f"no C compiler ({cc}): install gcc (Debian: apt-get install gcc python3-dev) or set CC"
    include = Path(sysconfig.get_paths()["include"]) / "Python.h"
    if not include.exists():
        return f"no Python headers ({include}): install python3-dev"
    if shutil.which("mypyc", path=str(Path(sys.executable).parent)) is None:
        return "no mypyc beside this Python: pip install -e '.[compile]'"
    try:
        importlib.metadata.version("setuptools")
    except importlib.metadata.PackageNotFoundError:
        return "no setuptools (mypyc builds with it): pip install -e '.[compile]'"
    return None


def clean(root: Path) -> int:
    """Remove the compiled build (and any extension left beside the sources); qc runs its sources."""
    stray = _in_place(root)
    files = built_files(root) + stray
    for path in stray:
        path.unlink()
    link = build_folder(root)
    if link.is_symlink():
        link.unlink()
    shutil.rmtree(link, ignore_errors=True)  # a build folder of its own (made before the links)
    for old in link.parent.glob(link.name + "-*"):
        shutil.rmtree(old, ignore_errors=True)
    print(f"removed {len(files)} compiled files: qc runs as pure Python", file=sys.stderr)
    return 0


def compile_hot(root: Path) -> int:
    """Run mypyc on a copy of the hot modules of ``root`` and put the build in its build folder.

    The copy is what gets compiled and hashed, so an edit during the two minutes of the build
    leaves a build that is simply not used. The new build gets a folder of its own and the link
    ``build/compiled`` is pointed at it in one step (:func:`_point`).
    """
    if read_build(root).usable:
        (build_folder(root) / MANIFEST).touch()  # make's target: current
        print("compile: the compiled build is current", file=sys.stderr)
        return 0
    problem = missing_prerequisite()
    if problem is not None:
        print(f"compile: {problem}", file=sys.stderr)
        return 2
    for path in _in_place(root):
        path.unlink()
    paths = [str(Path(*name.split(".")).with_suffix(".py")) for name in HOT_MODULES]
    mypyc = Path(sys.executable).parent / "mypyc"
    started = time.monotonic()
    target = build_folder(root)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Built in a folder that holds a copy of the package only: setuptools, which mypyc drives,
    # would read this project's pyproject.toml and refuse its layout.
    with tempfile.TemporaryDirectory(prefix="qc-compile-", dir=target.parent) as work:
        shutil.copytree(root / "qc", Path(work) / "qc", ignore=shutil.ignore_patterns("__pycache__", "*.so"))
        digests = source_digests(Path(work))
        config = ["--config-file", str(root / "pyproject.toml")]  # the type checking settings
        done = subprocess.run([str(mypyc), *config, *paths], cwd=work, capture_output=True, text=True)
        if done.returncode != 0:
            print(done.stdout[-4000:], done.stderr[-4000:], sep="\n", file=sys.stderr)
            print(f"compile: mypyc failed (exit {done.returncode}); qc runs as pure Python", file=sys.stderr)
            return 1
        fresh = Path(work) / "compiled"
        for name in HOT_MODULES:
            place = extension_path(fresh, name)
            place.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(extension_path(Path(work), name)), place)
        shared = [p for p in Path(work).glob("*__mypyc*" + EXT_SUFFIX) if p.is_file()]
        for library in shared:
            shutil.move(str(library), fresh / library.name)
        manifest = {
            "ext_suffix": EXT_SUFFIX,
            "shared": sorted(p.name.removesuffix(EXT_SUFFIX) for p in shared),
            "sources": digests,
            # Each extension's size: a build copied in part or cut short is not loaded.
            "files": {
                str(p.relative_to(fresh)): p.stat().st_size for p in sorted(fresh.rglob("*" + EXT_SUFFIX))
            },
        }
        (fresh / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
        home = target.with_name(f"{target.name}-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}")
        fresh.rename(home)
    _point(target, home)
    seconds = time.monotonic() - started
    print(f"compiled {len(paths)} modules in {seconds:.0f} s into {target}", file=sys.stderr)
    return 0


def _point(link: Path, home: Path) -> None:
    """Point ``link`` at the build in ``home`` in one rename, and remove the builds before the last.

    A process resolves the link once (:func:`qc.compiled.read_build`) and loads every module from
    the folder it found: the build a run started with keeps its files while the next one lands,
    and one more build later it is removed.
    """
    try:
        previous = link.resolve(strict=True) if link.is_symlink() else None
    except (OSError, RuntimeError):  # a dangling link, or a loop of links: nothing to keep
        previous = None
    if link.exists() and not link.is_symlink():  # a build folder of its own, from before the links
        link.rename(link.with_name(f"{link.name}-unlinked-{os.getpid()}"))
    staged = link.with_name(f".{link.name}-link-{os.getpid()}")
    staged.unlink(missing_ok=True)
    staged.symlink_to(home.name, target_is_directory=True)
    os.replace(staged, link)
    for old in link.parent.glob(link.name + "-*"):
        if old.resolve() not in (home.resolve(), previous):
            shutil.rmtree(old, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    """Compile, or with ``--clean`` remove the compiled files."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clean", action="store_true", help="remove the compiled build")
    parser.add_argument(
        "--or-pure",
        action="store_true",
        help="exit 0 when this machine cannot compile or mypyc fails (make demo): qc runs as pure Python",
    )
    parser.add_argument("--root", type=Path, default=ROOT, help="project root (default: this clone)")
    args = parser.parse_args(argv)
    if args.clean:
        return clean(args.root)
    code = compile_hot(args.root)
    if code and args.or_pure:
        print("compile: qc runs as pure Python (the same results, slower)", file=sys.stderr)
        return 0
    return code


if __name__ == "__main__":
    sys.exit(main())
