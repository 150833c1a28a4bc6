"""Compile qc's per-message hot path with mypyc, in place (``make compiled``); ``--clean`` undoes it.

The modules of :data:`qc.compiled.HOT_MODULES` (readers, rules, attitude features, scoring,
outputs) become C extensions beside their sources, which Python then imports instead: the same
code and outputs for about a quarter less CPU per message (issue 15's benchmark). Needs a C
compiler (``$CC``, else Python's), the Python headers, mypy and setuptools, which mypyc builds
with: ``pip install -e '.[compile]'``. Run it again after every pull or edit of those modules:
Python imports an extension whatever its source says (``qc inspect`` warns when one is older).

Exit codes: 0 compiled (or cleaned); 2 a prerequisite is missing (the message names it);
1 mypyc failed (its output is shown).
"""

from __future__ import annotations

import argparse
import importlib.metadata
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

from qc.compiled import HOT_MODULES  # noqa: E402 - the project root first, as when run from a clone


def built_files(root: Path) -> list[Path]:
    """The compiled extensions under ``root`` (the package's and mypyc's shared library)."""
    suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
    found = [p for p in (root / "qc").rglob("*" + suffix) if p.is_file()]
    found += [p for p in root.glob("*__mypyc*") if p.is_file()]
    return sorted(found)


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
    """Remove every compiled extension; the sources run as Python again."""
    files = built_files(root)
    for path in files:
        path.unlink()
    print(f"removed {len(files)} compiled files: qc runs as pure Python", file=sys.stderr)
    return 0


def compile_hot(root: Path) -> int:
    """Run mypyc on the hot modules in ``root``; the extensions land beside the sources."""
    problem = missing_prerequisite()
    if problem is not None:
        print(f"compile: {problem}", file=sys.stderr)
        return 2
    paths = [str(Path(*name.split(".")).with_suffix(".py")) for name in HOT_MODULES]
    mypyc = Path(sys.executable).parent / "mypyc"
    started = time.monotonic()
    # Built from a folder that holds the package only: setuptools, which mypyc drives, would
    # read this project's pyproject.toml and refuse its layout. The extensions land beside the
    # sources through the link; mypyc's shared library is moved to the root, beside the package.
    with tempfile.TemporaryDirectory(prefix="qc-compile-") as work:
        (Path(work) / "qc").symlink_to(root / "qc", target_is_directory=True)
        config = ["--config-file", str(root / "pyproject.toml")]  # the type checking settings
        done = subprocess.run([str(mypyc), *config, *paths], cwd=work, capture_output=True, text=True)
        for shared in Path(work).glob("*__mypyc*"):
            if shared.is_file():
                shutil.move(str(shared), root / shared.name)
    if done.returncode != 0:
        print(done.stdout[-4000:], done.stderr[-4000:], sep="\n", file=sys.stderr)
        print(f"compile: mypyc failed (exit {done.returncode}); qc still runs as Python", file=sys.stderr)
        clean(root)
        return 1
    seconds = time.monotonic() - started
    print(
        f"compiled {len(paths)} modules in {seconds:.0f} s ({len(built_files(root))} files)", file=sys.stderr
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    """Compile, or with ``--clean`` remove the compiled files."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clean", action="store_true", help="remove the compiled files")
    parser.add_argument("--root", type=Path, default=ROOT, help="project root (default: this clone)")
    args = parser.parse_args(argv)
    return clean(args.root) if args.clean else compile_hot(args.root)


if __name__ == "__main__":
    sys.exit(main())
