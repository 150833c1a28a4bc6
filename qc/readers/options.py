"""What the readers take (options) and give back (a read result with counts)."""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from qc.schema import Conversation, Reject

# The zone of naive timestamps when nothing names one (the bundled scorecard's).
DEFAULT_TIMEZONE = "Asia/Shanghai"


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """How to read a batch of transcript files.

    ``encoding`` and ``format`` force what is otherwise sniffed. ``date`` gives
    the day of time-only lines in text exports (else taken from the file name).
    ``column_map`` maps a canonical field (``conversation_id``, ``role``,
    ``sender``, ``timestamp``, ``text``, ``agent_id``, ``shop``, ``auto_reply``)
    to the header used in a CSV/XLSX file. ``agent_nicks``/``customer_nicks``
    decide roles in text exports when the nick does not. ``timezone`` is the zone of
    timestamps written without an offset; ``None``: the scorecard's ``[day] timezone`` where
    an inspection has a card, else :data:`DEFAULT_TIMEZONE`.
    """

    encoding: str | None = None
    format: str | None = None
    date: date | None = None
    timezone: str | None = None
    column_map: dict[str, str] = field(default_factory=dict)
    agent_nicks: frozenset[str] = frozenset()
    customer_nicks: frozenset[str] = frozenset()

    @property
    def zone(self) -> str:
        """The zone naive timestamps are read in: ``timezone``, else :data:`DEFAULT_TIMEZONE`."""
        return self.timezone or DEFAULT_TIMEZONE

    def for_card(self, timezone: str) -> ReadOptions:
        """These options with ``timezone`` (a scorecard's day zone) where they name none."""
        return self if self.timezone is not None else replace(self, timezone=timezone)


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
    """Files named directly, plus every file inside named directories (sorted, non-recursive).

    In a directory, a symlink is followed only when it stays inside the directory; links that
    leave it, dangling links, link loops, FIFOs and other special files are left out (and listed
    by :func:`refused_inputs`, so run.json can say why).
    """
    files = _listed(paths)
    again = _read_already(files)
    return [f for i, f in enumerate(files) if i not in again]


def _listed(paths: list[Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out.extend(c for c in _entries(p) if _refusal(p, c) is None and c.is_file())
        elif _name_problem(p) is None:
            out.append(p)
    return out


def _read_already(files: list[Path]) -> dict[int, Path]:
    """Index → the entry read instead, for each entry that is another's file again.

    A link beside its target, or a file named twice (alone and in its folder), was read twice:
    its messages counted double, and a link's name without the date left the copy untimed.
    The file is read once, under a name that is not a link when it has one.
    """
    first: dict[tuple[int, int], int] = {}
    again: dict[int, Path] = {}
    for i in sorted(range(len(files)), key=lambda i: (files[i].is_symlink(), i)):
        try:
            st = files[i].stat()
        except OSError:
            continue  # the reader reports it
        key = (st.st_dev, st.st_ino)
        if key in first:
            again[i] = files[first[key]]
        else:
            first[key] = i
    return again


def display_path(path: Path | str) -> str:
    r"""``path`` as text any output can hold: bytes of a name that are not UTF-8 written as ``\xNN``."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def _name_problem(path: Path) -> str | None:
    """Why a file's name keeps it from being read (not UTF-8), or ``None``.

    Its name goes into every record, run.json and the store, which hold text; a name in GBK
    (what unzip makes of a zip from a Chinese Windows machine) is not text there.
    """
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        return (
            "file name is not UTF-8 (a zip made on a Chinese Windows machine names files in GBK):"
            " not read; rename it, e.g. convmv -f gbk -t utf-8 --notest FILE, or unzip with -O gbk"
        )
    return None


def _unlisted(folder: Path) -> str | None:
    """Why ``folder`` cannot be listed (no read or search permission …), or ``None``."""
    try:
        with os.scandir(folder) as entries:
            next(entries, None)
    except OSError as exc:
        return (
            f"folder cannot be listed ({exc.strerror or type(exc).__name__}): none of its files were"
            " read; give qc read access to it"
        )
    return None


def refused_inputs(paths: list[Path]) -> list[FileReport]:
    """The entries of named directories that :func:`expand_inputs` leaves out, each with the reason.

    A named folder that cannot be listed is a failed input (``error``: the run exits 1).

    Folders are read one level deep, as documented: a sub-folder is listed as skipped, with the
    way to read it. Each agent's folder of a day (小雨/2026-11-24.txt) was passed over unsaid,
    and the run read nothing (audit 172 F1).
    """
    out: list[FileReport] = []
    for p in paths:
        if p.is_dir():
            if (why := _unlisted(p)) is not None:
                out.append(FileReport(path=display_path(p), error=why))
                continue
            for c in _entries(p):
                if (misnamed := _name_problem(c)) is not None:
                    out.append(FileReport(path=display_path(c), error=misnamed))
                elif (reason := _refusal(p, c)) is not None:
                    out.append(FileReport(path=str(c), skipped=reason))
                elif c.is_dir() and c.name != "__MACOSX":  # what a Mac's zip puts beside the files
                    out.append(FileReport(path=str(c), skipped=SUBFOLDER))
        elif (misnamed := _name_problem(p)) is not None:
            out.append(FileReport(path=display_path(p), error=misnamed))
    files = _listed(paths)
    for i, kept in sorted(_read_already(files).items()):
        out.append(FileReport(path=str(files[i]), skipped=f"the same file as {kept}: read once"))
    return out


# How the reason a file was skipped for holding nothing starts.
EMPTY_FILE = "is empty"
# Why a folder inside an input folder is not read.
SUBFOLDER = (
    "a folder inside the input folder: folders are read one level deep; name it as an input too"
    " to read its files (qc inspect DAY DAY/小雨 …)"
)


def _entries(folder: Path) -> list[Path]:
    # A folder that cannot be listed has no entries here: refused_inputs reports it as a failed
    # input, so the other inputs are still read.
    if _unlisted(folder) is not None:
        return []
    return sorted(c for c in folder.iterdir() if not c.name.startswith("."))


def _refusal(folder: Path, entry: Path) -> str | None:
    """Why ``entry`` of ``folder`` is not read, or ``None`` (a regular file, a folder or a link inside)."""
    if (misnamed := _name_problem(entry)) is not None:
        return misnamed
    if entry.is_symlink():
        try:
            target = entry.resolve(strict=True)
        except RuntimeError:  # Python 3.11 reports a loop this way
            return "symlink loop: not read"
        except FileNotFoundError:
            return "dangling symlink (its target does not exist): not read"
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                return "symlink loop: not read"
            return f"symlink that cannot be followed ({exc.strerror or type(exc).__name__}): not read"
        if not target.is_relative_to(folder.resolve()):
            return (
                "symlink leading out of the input folder: refused (copy the file into the folder to read it)"
            )
    try:
        mode = entry.stat().st_mode
    except OSError as exc:
        return f"cannot be read ({exc.strerror or type(exc).__name__})"
    if stat.S_ISDIR(mode) or stat.S_ISREG(mode):
        return None
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe), not a file: not read"
    return "a special file (socket or device), not a regular file: not read"
