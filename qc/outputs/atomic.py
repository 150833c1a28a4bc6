"""One output file replaced whole: written beside its target, then renamed over it.

A file people open (a review sheet, a sample, a report, a ``--csv`` table) written in place was
left empty or cut short by a full disk or a kill, and an earlier good copy was lost with it
(audit 130 M6); an XLSX workbook's half-written zip even printed a traceback from the garbage
collector after qc's own one-line error (H1). Written beside the target under a hidden name
and renamed over it on success, the path holds the old file or the new one, never a part.
"""

from __future__ import annotations

import errno
import io
import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["replacing", "save_workbook", "write_text_replacing"]

# The hidden name a file is written under beside its target (.agents.csv.qc-part-1a2b3c4d).
_PART = ".qc-part-"


@contextmanager
def replacing(target: Path) -> Iterator[Path]:
    """A path beside ``target`` to write to; renamed over ``target`` when the block ends without error.

    On any error (a full disk, an interrupt) the partial file is removed and ``target`` is as it
    was. The new file is flushed to disk before the rename, so a power cut cannot leave a name
    pointing at unwritten data. As a write in place would (audit 131 M2): a symlink's file is
    the one replaced, the link stays; an existing file keeps its permissions, and its owner and
    group when root writes it (a report made private stays its owner's, audit 133 M1); a file
    that may not be written is refused, ``PermissionError``. Where a new file could not be what
    the old one was (another user's file, a folder the writer may not add to, audit 133 M2), the
    file is written in place, as before.
    """
    target = Path(target)
    if target.is_symlink():
        try:
            target = target.resolve(strict=True)
        except (OSError, RuntimeError):
            # A loop or a link to nowhere: named as the system names it (a loop was exit 70, 133 L1).
            raise OSError(
                errno.ELOOP, "a symbolic link that leads nowhere or in a loop", str(target)
            ) from None
    old = target.stat() if target.exists() else None
    if old is not None and not os.access(target, os.W_OK):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(target))
    root = hasattr(os, "geteuid") and os.geteuid() == 0
    mine = old is None or root or not hasattr(os, "geteuid") or old.st_uid == os.geteuid()
    if not mine or not os.access(target.parent, os.W_OK):
        yield target  # written in place: it stays the file it was
        return
    part = target.with_name(f".{target.name}{_PART}{secrets.token_hex(4)}")
    try:
        yield part
        with part.open("rb") as fh:
            os.fsync(fh.fileno())
        if old is not None:
            shutil.copymode(target, part)
            if root:
                os.chown(part, old.st_uid, old.st_gid)
        os.replace(part, target)
    finally:
        part.unlink(missing_ok=True)


def write_text_replacing(target: Path, text: str) -> None:
    """``target`` replaced whole by ``text`` (UTF-8)."""
    with replacing(target) as part:
        part.write_text(text, encoding="utf-8")


def save_workbook(workbook: Any, target: Path) -> None:
    """An openpyxl workbook saved whole to ``target``: built in memory, then written and renamed.

    openpyxl leaves its zip file open when a write fails, and the garbage collector's second
    failure printed a traceback (audit 130 H1): in memory there is nothing on disk to fail.
    """
    buffer = io.BytesIO()
    workbook.save(buffer)
    with replacing(target) as part:
        part.write_bytes(buffer.getbuffer())
