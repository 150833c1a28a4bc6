"""Atomic output folders: a run writes beside ``--out`` and publishes its files as a set.

A run writes every file into a temporary folder next to the output folder (same file system,
so a rename is atomic), named ``.<out>.qc-tmp-<random>`` and holding a lock while the run
lives. When the run has finished, :meth:`OutputStage.publish` first takes the completion
marker (run.json) out of the output folder, then renames each new file into place, and
renames the new run.json, which carries ``"complete": true``, last. So:

* a run that is killed or interrupted before it publishes leaves the output folder exactly
  as it was (the previous complete run);
* a folder whose run.json says ``"complete": true`` holds only whole files of that run: a kill
  in the middle of publishing leaves a folder without run.json, which no reader takes as done;
* temporary folders are removed on every exit path Python sees (an exception, SIGINT, SIGTERM
  through :func:`qc.cli._common` handlers); a folder left by SIGKILL or a power cut is removed
  by the next run that writes beside it (its lock is free once its process is gone).

Files in the output folder that a run does not write (a store, notes) are never touched.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from qc.errors import InputError
from qc.outputs.writers import RUN_FILE, write_json

__all__ = ["COMPLETE_KEY", "STAGE_MARK", "OutputStage", "is_complete", "stale_stages"]

COMPLETE_KEY = "complete"
STAGE_MARK = ".qc-tmp-"
_LOCK = ".qc-lock"
_RUN_FILE = RUN_FILE
# A stage without a lock file is one whose run died between creating it and locking it;
# one that young may still be starting.
_UNLOCKED_GRACE_S = 60.0

try:  # POSIX: a lock the kernel releases when its process dies, however it dies
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


def _try_lock(handle: IO[str]) -> bool:
    if fcntl is None:  # pragma: no cover - Windows: no stale cleanup, stages stay until removed
        return False
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def stale_stages(out_dir: Path) -> list[Path]:
    """Temporary folders of earlier runs beside ``out_dir`` whose process is gone (their lock is free)."""
    out_dir = Path(out_dir)
    parent = out_dir.parent
    prefix = f".{out_dir.name}{STAGE_MARK}"
    found: list[Path] = []
    try:
        entries = list(parent.iterdir())
    except OSError:
        return found
    for entry in entries:
        if not entry.name.startswith(prefix) or entry.is_symlink() or not entry.is_dir():
            continue
        lock = entry / _LOCK
        try:
            with lock.open("a") as handle:
                if _try_lock(handle):
                    found.append(entry)
        except FileNotFoundError:
            with suppress(OSError):
                if time.time() - entry.stat().st_mtime > _UNLOCKED_GRACE_S:
                    found.append(entry)
        except OSError:
            continue
    return found


# A run's files besides run.json: a folder holding one without run.json is a run stopped while it
# was published (run.json is written last), still one run's.
_RUN_TABLES = ("findings.jsonl", "conversations.jsonl")


def holds_run(out_dir: Path) -> bool:
    """Whether ``out_dir`` holds a ``qc inspect`` run, finished or not.

    Its run.json is qc's record (qc's keys, not only ``complete``: a user's own run.json is no run,
    audit 163 L1), or a run's tables lie there without any record (a run stopped while published).
    """
    folder = Path(out_dir)
    try:
        data = json.loads((folder / _RUN_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        data = None
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    if data is not None:
        return isinstance(data, dict) and {COMPLETE_KEY, "qc_version", "counts"} <= set(data)
    return any((folder / name).is_file() for name in _RUN_TABLES) and not (folder / "export.json").is_file()


def is_complete(out_dir: Path) -> bool:
    """Whether ``out_dir`` holds a run that finished: its run.json says ``"complete": true``."""
    try:
        data = json.loads((Path(out_dir) / _RUN_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get(COMPLETE_KEY) is True


@contextmanager
def _signals_held() -> Iterator[None]:
    """SIGINT and SIGTERM wait until the block ends (publishing is a few renames, never half done)."""
    held = {signal.SIGINT, signal.SIGTERM}
    try:
        old = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    except (AttributeError, OSError, ValueError):  # pragma: no cover - no sigmask here
        yield
        return
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class OutputStage:
    """The temporary folder one run writes into, published into ``out_dir`` as a set.

    Use it as a context manager: leaving the block without :meth:`publish` (an exception,
    an interrupt) removes the temporary folder and leaves ``out_dir`` as it was.
    """

    def __init__(self, out_dir: Path, last: str = _RUN_FILE) -> None:
        self.out_dir = Path(out_dir)
        # The file published last, whose presence says the folder is whole: run.json for a
        # run; meta.json (which vouches for the arrays by hash) for a model.
        self.last = last
        parent = self.out_dir.parent
        import tempfile

        try:
            parent.mkdir(parents=True, exist_ok=True)
            for stale in stale_stages(self.out_dir):
                shutil.rmtree(stale, ignore_errors=True)
            self.path = Path(tempfile.mkdtemp(prefix=f".{self.out_dir.name}{STAGE_MARK}", dir=parent))
        except OSError as exc:
            # Named after the folder the user gave, not qc's temporary one beside it (audit 93 #5).
            raise InputError(
                f"{self.out_dir}: cannot write there ({exc.strerror or exc}); give --out a folder in a"
                " place you can write"
            ) from None
        self._lock: IO[str] | None = (self.path / _LOCK).open("w")
        _try_lock(self._lock)
        self.published = False

    def __enter__(self) -> OutputStage:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.discard()

    def write_marker(self, run: dict[str, Any]) -> None:
        """Write run.json into the stage with ``"complete": true``: the file published last."""
        data = {**run, COMPLETE_KEY: True}
        write_json(self.path / _RUN_FILE, data)

    def publish(self, remove: Sequence[str] = ()) -> list[str]:
        """Move every file of the stage into ``out_dir``, ``last`` (run.json) last; the names moved.

        Each file is flushed to disk before it is renamed, and the folder after, so even a power
        cut leaves either the old marker, no marker, or the new one over whole files. ``remove``
        names files of an earlier run this one does not write (an export's daily view beside a
        day's rows): deleted while no marker vouches for the folder.
        """
        # qc-*: the run's own scratch (the verdict spool), never an output
        skip = (_LOCK, self.last)
        names = sorted(
            p.name for p in self.path.iterdir() if p.name not in skip and not p.name.startswith("qc-")
        )
        marker = self.path / self.last
        with _signals_held():
            for name in [*names, self.last]:
                p = self.path / name
                if p.is_file():
                    _fsync(p)
            self.out_dir.mkdir(parents=True, exist_ok=True)
            # No marker while files are replaced: a kill now leaves a folder nobody takes as done.
            with suppress(FileNotFoundError):
                (self.out_dir / self.last).unlink()
            for name in remove:
                if name not in names:
                    (self.out_dir / name).unlink(missing_ok=True)
            for name in names:
                source, target = self.path / name, self.out_dir / name
                if source.is_dir() and target.is_dir() and not target.is_symlink():
                    old = self.path / f"qc-old-{name}"
                    os.replace(target, old)
                os.replace(source, target)
            if marker.exists():
                os.replace(marker, self.out_dir / self.last)
            with suppress(OSError):
                _fsync(self.out_dir)
            self.published = True
        return [*names, self.last]

    def discard(self) -> None:
        """Remove the temporary folder (what is left of it after :meth:`publish`, or all of it)."""
        if self._lock is not None:
            self._lock.close()
            self._lock = None
        shutil.rmtree(self.path, ignore_errors=True)
