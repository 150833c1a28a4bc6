"""Whether qc runs compiled, and what compiling needs from the code.

``scripts/compile.py`` compiles the per-message hot path (readers, rules, scoring, outputs)
with mypyc into C extensions beside the sources; Python imports those instead of the ``.py``
files. Nothing else changes: the same code, the same outputs, about a quarter less CPU per
message. :func:`compiled_modules` names the ones in use (``run.json`` records them, so a
benchmark figure says which build made it).
"""

from __future__ import annotations

import importlib.machinery
import sys
from collections.abc import Callable
from typing import TypeVar

__all__ = ["HOT_MODULES", "compiled_modules", "mypyc_attr"]

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
        if isinstance(loader, importlib.machinery.ExtensionFileLoader):
            out.append(name)
    return out
