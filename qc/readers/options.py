"""What the readers take (options) and give back (a read result with counts)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from qc.schema import Conversation, Reject


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """How to read a batch of transcript files.

    ``encoding`` and ``format`` force what is otherwise sniffed. ``date`` gives
    the day of time-only lines in text exports (else taken from the file name).
    ``column_map`` maps a canonical field (``conversation_id``, ``role``,
    ``sender``, ``timestamp``, ``text``, ``agent_id``, ``shop``, ``auto_reply``)
    to the header used in a CSV/XLSX file. ``agent_nicks``/``customer_nicks``
    decide roles in text exports when the nick does not.
    """

    encoding: str | None = None
    format: str | None = None
    date: date | None = None
    timezone: str = "Asia/Shanghai"
    column_map: dict[str, str] = field(default_factory=dict)
    agent_nicks: frozenset[str] = frozenset()
    customer_nicks: frozenset[str] = frozenset()


@dataclass(slots=True)
class FileReport:
    """What happened to one input file."""

    path: str
    format: str | None = None
    encoding: str | None = None
    read: int = 0
    accepted: int = 0
    rejected: int = 0
    error: str | None = None
    # Why the file was not read as a chat export at all (e.g. a README in the input folder).
    skipped: str | None = None


@dataclass(slots=True)
class ReadResult:
    """Conversations built from a batch, plus everything that did not make it.

    Invariant, per file and in total: ``read == accepted + rejected``. Exact
    duplicates are rejected with the reason naming the first copy, so they are
    counted and kept.
    """

    conversations: list[Conversation] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    files: list[FileReport] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def read(self) -> int:
        """Records read in all files."""
        return sum(f.read for f in self.files)

    @property
    def accepted(self) -> int:
        """Records that became messages."""
        return sum(f.accepted for f in self.files)

    @property
    def rejected(self) -> int:
        """Records written to rejects."""
        return sum(f.rejected for f in self.files)

    @property
    def skipped_files(self) -> list[FileReport]:
        """Files that are clearly not chat exports, skipped with a warning."""
        return [f for f in self.files if f.skipped is not None]

    @property
    def failed_files(self) -> list[FileReport]:
        """Files that could not be read at all."""
        return [f for f in self.files if f.error is not None]


def expand_inputs(paths: list[Path]) -> list[Path]:
    """Files named directly, plus every file inside named directories (sorted, non-recursive)."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out.extend(sorted(c for c in p.iterdir() if c.is_file() and not c.name.startswith(".")))
        else:
            out.append(p)
    return out
