"""Whether qc runs compiled, and what compiling needs from the code.

``scripts/compile.py`` compiles the per-message hot path (readers, rules, scoring, outputs)
with mypyc into C extensions beside the sources; Python imports those instead of the ``.py``
files. Nothing else changes: the same code, the same outputs, about a quarter less CPU per
message. :func:`compiled_modules` names the ones in use (``run.json`` records them, so a
benchmark figure says which build made it).

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

import importlib.util
import sys
from collections.abc import Callable
from importlib.machinery import ExtensionFileLoader
from pathlib import Path
from typing import TypeVar

__all__ = ["HOT_MODULES", "compiled_modules", "mypyc_attr", "stale_modules"]

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


def stale_modules() -> list[str]:
    """The compiled hot modules whose source changed after they were compiled (a pull, an edit).

    Python imports the extension whatever its source says: a tree compiled once keeps running
    the old code until ``make compiled`` runs again (or ``make pure``). Asked of the files, so it
    answers before the modules are imported.
    """
    out = []
    for name in HOT_MODULES:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None or not isinstance(spec.loader, ExtensionFileLoader):
            continue
        built = Path(spec.origin)
        source = built.with_name(name.rpartition(".")[2] + ".py")
        if source.exists() and source.stat().st_mtime > built.stat().st_mtime:
            out.append(name)
    return out
