"""One output file replaced whole: written beside its target, then renamed over it.

A file people open (a review sheet, a sample, a report, a ``--csv`` table) written in place was
left empty or cut short by a full disk or a kill, and an earlier good copy was lost with it
(audit 130 M6); an XLSX workbook's half-written zip even printed a traceback from the garbage
collector after qc's own one-line error (H1). Written beside the target under a hidden name
and renamed over it on success, the path holds the old file or the new one, never a part.
"""

from __future__ import annotations

import errno
import gc
import io
import os
import re
import secrets
import shutil
import stat
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["is_stream", "replacing", "save_workbook", "write_text_replacing"]

# The hidden name a file is written under beside its target (.agents.csv.qc-part-1a2b3c4d).
_PART = ".qc-part-"


@contextmanager
def replacing(target: Path) -> Iterator[Path]:
    """A path to write ``target``'s new content to; it becomes ``target`` when the block ends without error.

    On any error (a full disk, an interrupt) ``target`` is as it was. The new file is written
    beside it and renamed over it, flushed to disk first, so a power cut cannot leave a name
    pointing at unwritten data. As a write in place would (audits 131 M2, 133, 136):

    * a symlink's file is the one written, also one not made yet; a link in a loop is said;
    * an existing file keeps its permissions, and its owner and group when root writes it;
    * a file that may not be written is refused, ``PermissionError``;
    * a device or a pipe (``--csv /dev/null``) is written to, never replaced by a file;
    * where a new file could not be what the old one was (another user's file, a folder the
      writer may not add to, an owner root may not give back, a file with other hard-linked
      names), the content is written first
      to the system's temporary folder, then copied over the file with its room reserved, so a
      full disk still leaves the old file whole.
    """
    fd = _descriptor(Path(target))
    if fd is not None and _through_descriptor(fd, Path(target)):
        # /dev/stdout of `qc … --csv /dev/stdout >> log.csv`, or a link to it: the file behind it
        # is the shell's, opened to append or from its start; reopened it was cut, replaced it
        # lost the lines before (audits 141 H1, 143 H2). Written through the descriptor as it
        # stands, as a shell would; so is a socket (a service logging to the journal), which
        # cannot be opened again by name (144 M2). A pipe or a terminal streams below (143 M4).
        with _staged_elsewhere(Path(target), deliver=lambda part: _send(part, fd, Path(target))) as part:
            yield part
        return
    if _special(Path(target)):
        # A device or a pipe, named or through a link (/dev/stdout into a pipe: its link names no
        # path, pipe:[…]): written to as a shell would (audits 136 H2, 137 A2).
        yield Path(target)
        return
    target = _followed(Path(target))
    old = target.stat() if target.exists() else None
    if old is not None and not stat.S_ISREG(old.st_mode):
        yield target  # a device or a pipe: written to as a shell would (audit 136 H2)
        return
    if old is not None and not os.access(target, os.W_OK):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(target))
    root = hasattr(os, "geteuid") and os.geteuid() == 0
    mine = old is None or root or not hasattr(os, "geteuid") or old.st_uid == os.geteuid()
    # A file with other names (a hard link) keeps them all only when written in place: a rename
    # would leave the other names on the old content (audit 137 A4).
    linked = old is not None and old.st_nlink > 1
    if not mine or linked or not os.access(target.parent, os.W_OK):
        with _staged_elsewhere(target) as part:
            yield part
        return
    part = target.with_name(f".{target.name}{_PART}{secrets.token_hex(4)}")
    try:
        yield part
        with part.open("rb") as fh:
            os.fsync(fh.fileno())
        if old is not None:
            shutil.copymode(target, part)
            if root:
                try:
                    os.chown(part, old.st_uid, old.st_gid)
                except OSError:
                    # Refused (a user namespace, NFS root_squash): the file keeps its owner by
                    # taking the new content in place instead (audit 136 M2).
                    _copy_over(part, target)
                    return
        os.replace(part, target)
    except OSError as exc:
        if exc.filename != str(part):
            raise
        # The hidden name is nothing the user gave: the file asked for is named (audit 153 L7).
        raise OSError(exc.errno, exc.strerror, str(target)) from None
    finally:
        part.unlink(missing_ok=True)


# A path naming one of the process's open descriptors: /dev/stdout, /dev/fd/3, /proc/self/fd/1.
_DESCRIPTOR_RE = re.compile(r"/dev/(stdin|stdout|stderr)|/dev/fd/(\d+)|/proc/self/fd/(\d+)")


def _descriptor(target: Path) -> int | None:
    """The descriptor ``target`` names (``/dev/stdout`` is 1), through links; ``None`` for another path."""
    path = str(target)
    for _ in range(40):  # the kernel's own limit on links followed
        found = _DESCRIPTOR_RE.fullmatch(path)
        if found is not None:
            if found[1]:
                return ("stdin", "stdout", "stderr").index(found[1])
            return int(found[2] or found[3])
        if not os.path.islink(path):
            return None
        path = os.path.normpath(os.path.join(os.path.dirname(path), os.readlink(path)))
    return None


def _through_descriptor(fd: int, target: Path) -> bool:
    """Whether ``fd`` is written through itself: a file or a socket (raised, naming ``target``, if shut)."""
    import fcntl

    try:
        mode = os.fstat(fd).st_mode
        flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    except OSError:
        raise OSError(errno.EBADF, f"descriptor {fd} is not open", str(target)) from None
    if flags & os.O_ACCMODE == os.O_RDONLY:
        # /dev/stdin: written through, the file behind it was replaced (audit 143 L2).
        raise OSError(errno.EBADF, f"descriptor {fd} is open for reading, not writing", str(target))
    return stat.S_ISREG(mode) or stat.S_ISSOCK(mode)


def _send(part: Path, fd: int, target: Path) -> None:
    """``part``'s bytes written to descriptor ``fd`` as it stands (its offset, its append mode)."""
    for stream in (sys.stdout, sys.stderr):
        if stream is not None and not stream.closed:
            stream.flush()  # what qc printed before keeps its place before the file's bytes
    data = memoryview(part.read_bytes())
    try:
        out = os.dup(fd)
        try:
            while data:
                data = data[os.write(out, data) :]
        finally:
            os.close(out)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(target)) from None


def is_stream(target: Path) -> bool:
    """Whether an output path is a stream, not a file of its own: a descriptor, a device, a pipe.

    Nothing is written beside such a path (a second file next to /dev/stdout was made in /dev).
    """
    return _descriptor(Path(target)) is not None or _special(Path(target))


def _special(target: Path) -> bool:
    """Whether ``target`` (its link followed) is there and not a regular file: a device, a pipe, a socket."""
    try:
        return not stat.S_ISREG(target.stat().st_mode) and not target.is_dir()
    except (OSError, RuntimeError):
        return False  # not there yet, or a link loop: said when written, as the system says it


def _followed(target: Path) -> Path:
    """``target``, or the file its symlink names (made when it does not exist yet, as a shell makes it)."""
    if not target.is_symlink():
        return target
    try:
        return target.resolve(strict=True)
    except FileNotFoundError:
        return target.resolve()  # a link to a file not made yet (audit 136 M1)
    except RuntimeError:
        # A loop (Python 3.11 says so with RuntimeError): said as the system says it, not a bug in qc
        # (audit 133 L1).
        raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), str(target)) from None


@contextmanager
def _staged_elsewhere(target: Path, deliver: Callable[[Path], None] | None = None) -> Iterator[Path]:
    """A private file in the system's temporary folder, copied over ``target`` when the block ends well.

    ``deliver`` takes the finished file instead (a descriptor's bytes written to it).
    """
    fd, name = tempfile.mkstemp(prefix=_PART.lstrip("."))
    os.close(fd)
    part = Path(name)
    try:
        try:
            yield part
        except OSError as exc:
            if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
                raise
            # The temporary folder is full, not the output's disk: said so, with where it is
            # (a full disk message naming the output sent people to free the wrong disk, 137 A1).
            raise OSError(
                exc.errno,
                f"{exc.strerror or 'No space left on device'} in the temporary folder, where"
                f" {target.name} is staged before it is written in place; free space there, or set"
                " TMPDIR to a folder with room",
                str(part.parent),
            ) from None
        if deliver is None:
            _copy_over(part, target)
        else:
            deliver(part)
    finally:
        part.unlink(missing_ok=True)


def _copy_over(source: Path, target: Path) -> None:
    """``source``'s bytes written over ``target`` in place, its room reserved first.

    Reserving the room before the old bytes are overwritten makes a full disk fail with the old
    file whole (a workbook cut at 16 KB, audit 136 H1). Where the file system cannot reserve,
    the bytes are written all the same.
    """
    data = source.read_bytes()
    with target.open("r+b" if target.exists() else "wb") as fh:
        try:
            os.posix_fallocate(fh.fileno(), 0, max(1, len(data)))
        except OSError as exc:
            if exc.errno not in (errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
                raise OSError(exc.errno, exc.strerror, str(target)) from None
        except AttributeError:  # pragma: no cover - no posix_fallocate (macOS, Windows)
            pass
        fh.seek(0)
        fh.write(data)
        fh.truncate()
        fh.flush()
        os.fsync(fh.fileno())


def write_text_replacing(target: Path, text: str) -> None:
    """``target`` replaced whole by ``text`` (UTF-8)."""
    with replacing(target) as part:
        part.write_text(text, encoding="utf-8")


# One cleanup at a time swaps the interpreter's hook for unraisable exceptions (the workbench saves
# workbooks in threads).
_QUIET = threading.Lock()


def _quiet(unraisable: Any) -> None:
    """Drop an exception raised where none can be (a generator's cleanup): the failure was said."""


def save_workbook(workbook: Any, target: Path) -> None:
    """An openpyxl workbook saved whole to ``target``: built in memory, then written and renamed.

    openpyxl leaves its zip file open when a write fails, and the garbage collector's second
    failure printed a traceback (audit 130 H1): in memory there is nothing on disk to fail.
    """
    buffer = io.BytesIO()
    failed: OSError | None = None
    try:
        workbook.save(buffer)
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        failed = exc  # its traceback keeps openpyxl's writer alive until it can go quietly
    if failed is not None:
        # openpyxl writes each worksheet to the temporary folder first: that disk is full, not the
        # output's. Its worksheet writer, left open, failed again when collected and printed a
        # traceback after qc's own message (audit 143 H1).
        code, reason = failed.errno, failed.strerror or "No space left on device"
        with _QUIET:
            hook, sys.unraisablehook = sys.unraisablehook, _quiet
            try:
                failed = None
                gc.collect()
            finally:
                sys.unraisablehook = hook
        raise OSError(
            code,
            f"{reason} in the temporary folder, where the sheets of {Path(target).name} are built; free"
            " space there, or set TMPDIR to a folder with room",
            tempfile.gettempdir(),
        )
    with replacing(target) as part:
        part.write_bytes(buffer.getbuffer())
