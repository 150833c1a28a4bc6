"""Options and helpers shared by the commands."""

from __future__ import annotations

import errno
import os
import re
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, ParamSpec, TypeVar

import typer

import qc
from qc.errors import EXIT_INTERNAL, EXIT_RUNTIME, EXIT_USAGE, ConfigError, Interrupted, QcError

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

P = ParamSpec("P")
T = TypeVar("T")


def err(message: str) -> None:
    """Write a message for people to stderr (stdout carries data only)."""
    typer.echo(message, err=True)


def show_progress(quiet: bool) -> bool:
    """Progress bars only on an interactive stderr and never with ``--quiet``."""
    return not quiet and sys.stderr.isatty()


# What the running command has committed for good (a run saved in the store) before its files
# are published: a stop or a bug reported after it must not say that nothing was committed.
_committed: list[str] = []
_committing: list[str] = []
# The files the running command said it writes (output_file): a full disk, which names no file
# when a write to an open one fails, is reported under them (audit 93 #4).
_writing: list[Path] = []


def note_committed(what: str) -> None:
    """Record that ``what`` is committed, so a stop or an internal error after it says so."""
    _committed.append(what)


def note_committing(what: str) -> None:
    """Record that ``what`` is being committed: a stop now may leave it committed, or not."""
    _committing.append(what)


def _interruption(exc: BaseException) -> Interrupted | None:
    """The signal's :class:`Interrupted` when a library wrapped it (SQLAlchemy's ``StatementError``)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, Interrupted):
            return current
        seen.add(id(current))
        orig = getattr(current, "orig", None)
        current = orig if isinstance(orig, BaseException) else (current.__cause__ or current.__context__)
    return None


# Arguments the readers take as file names: a name in GBK is a refused input there (exit 1,
# the other inputs still read), not a usage error.
_FILE_NAME_ARGUMENTS = frozenset({"inputs"})


def _not_utf8(kwargs: dict[str, Any]) -> str | None:
    """The first text argument holding lone surrogates (bytes that were not UTF-8), named, or ``None``.

    Python turns such bytes of the command line into lone surrogates; stored, printed or
    written to JSON they would fail deep inside a command (an internal error) instead of here.
    """
    for name, value in kwargs.items():
        if name in _FILE_NAME_ARGUMENTS:
            continue
        for text in value if isinstance(value, list | tuple) else (value,):
            if isinstance(text, str | Path):
                try:
                    str(text).encode("utf-8")
                except UnicodeEncodeError:
                    shown = os.fsencode(str(text)).decode("utf-8", "backslashreplace")
                    return f"{name.replace('_', '-')} '{shown}'"
    return None


def handle_errors(func: Callable[P, T]) -> Callable[P, T]:
    """Turn :class:`~qc.errors.QcError` into ``qc: message`` on stderr and its exit code.

    An operating-system error that no command foresaw (a full disk, a file that vanished, no
    permission) becomes ``qc: FILE: reason`` and exit 1 (runtime failure). Any other exception
    is a bug in qc: it becomes one line naming its type and where in qc it happened, and exit
    70 (:func:`internal_error`). No traceback reaches a user unless ``QC_DEBUG=1`` asks for it.
    """

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        _committed.clear()
        _committing.clear()
        _writing.clear()
        if (garbled := _not_utf8(kwargs)) is not None:
            err(
                f"qc: {garbled} is not UTF-8 text (bytes the terminal or a script sent in another"
                " encoding); is the terminal set to UTF-8? Type it again, or name the file by a UTF-8 name"
            )
            raise typer.Exit(EXIT_USAGE)
        try:
            return func(*args, **kwargs)
        except QcError as exc:
            err(f"qc: {exc}")
            raise typer.Exit(exc.exit_code) from None
        except OSError as exc:
            if isinstance(exc, BrokenPipeError) and _stdout_gone():
                # The reader of our output stopped (qc review log | head -1): nothing is wrong.
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                raise typer.Exit(0) from None
            where = f"{exc.filename}: " if exc.filename else ""
            if exc.errno in (errno.ENOSPC, errno.EDQUOT) and not exc.filename:
                _disk_full(exc.strerror or str(exc))
            err(f"qc: {where}{exc.strerror or exc}")
            raise typer.Exit(EXIT_RUNTIME) from None
        except Exception as exc:
            # The CLI framework's own exits and usage errors (typer.Exit, BadParameter …) pass on.
            if os.environ.get("QC_DEBUG") or type(exc).__module__.split(".")[0] in ("typer", "click"):
                raise
            stopped = _interruption(exc)  # a signal raised inside a library call that wrapped it
            if stopped is not None:
                err(f"qc: {stopped}")
                raise typer.Exit(stopped.exit_code) from None
            if _sqlite_full(exc):
                # SQLite's own "database or disk is full" (the verdict spool, a SQLite store) is
                # no OSError: it was called a bug in qc, exit 70 (audit 130 M5).
                _disk_full("No space left on device")
            err(internal_error(exc))
            raise typer.Exit(EXIT_INTERNAL) from None

    return wrapper


def _disk_full(reason: str) -> NoReturn:
    """Say the disk is full, naming what the command writes (a write to an open file names none)."""
    where = ", ".join(map(str, _writing)) + ": " if _writing else ""
    err(
        f"qc: {where}{reason}; free space on the disk qc writes to (its output, --out or --db, or the"
        " temporary folder, TMPDIR, where a run keeps its records) and run it again"
    )
    raise typer.Exit(EXIT_RUNTIME) from None


def _sqlite_full(exc: BaseException) -> bool:
    """True when ``exc``, or an error it wraps, is SQLite's "database or disk is full"."""
    import sqlite3

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sqlite3.OperationalError) and "full" in str(current):
            return True
        wrapped = getattr(current, "orig", None)
        current = wrapped if isinstance(wrapped, BaseException) else current.__cause__ or current.__context__
    return False


def _stdout_gone() -> bool:
    """True when standard output is a pipe whose reader has closed it (not another broken pipe)."""
    import select

    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        # A socket whose reader has gone says POLLHUP where a pipe says POLLERR (audit 147 L1).
        return any(event & (select.POLLERR | select.POLLHUP) for _, event in poller.poll(0))
    except (AttributeError, OSError, ValueError):  # no poll (Windows), or no real stdout
        return False


def internal_error(exc: BaseException) -> str:
    """The one line a bug in qc prints: the exception's type and the last place in qc it passed.

    Never the exception's text: a ``KeyError`` or a worker's error can quote a message of a
    chat (buyers' phone numbers and addresses).
    """
    package = Path(qc.__file__).resolve().parent
    place = ""
    tb = exc.__traceback__
    while tb is not None:
        path = Path(tb.tb_frame.f_code.co_filename).resolve()
        if path.is_relative_to(package):
            place = f" in qc/{path.relative_to(package).as_posix()} line {tb.tb_lineno}"
        tb = tb.tb_next
    if _committed:
        kept = (
            f"{'; '.join(_committed)} before it (the store holds that, whole); the output files were not"
            " published, the output folder keeps its previous complete run."
        )
    else:
        kept = (
            "nothing of this command was published or committed (outputs and the store are"
            " written as a whole or not at all)."
        )
    return (
        f"qc: internal error ({type(exc).__name__}{place}). This is a bug in qc, not in your data or"
        f" settings: {kept} Run it again with QC_DEBUG=1 to see the traceback (it"
        " may quote chat text) and report it."
    )


# What a terminal may take as a command rather than text: C0 controls but tab and line feed
# (ESC starts colour, cursor and title sequences, BEL rings), DEL, C1 controls (CSI is U+009B),
# lone surrogates, and the bidirectional overrides that reorder what a reader sees.
_TERMINAL_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")


def plain(text: object) -> str:
    """``text`` safe to print on a terminal: control and escape characters removed.

    Chat text and nicks come from buyers and exports; an ESC in them must not recolour,
    retitle or clear a reviewer's terminal, nor hide a line (CR) behind another.
    """
    s = "" if text is None else str(text)
    if s.isascii() and s.isprintable():
        return s
    return _TERMINAL_UNSAFE.sub("", s)


def one_line(text: object) -> str:
    """``text`` as :func:`plain` makes it, and on one line: a line break is shown as a backslash and n.

    A file name or a header cell is the export's: an escape in it recoloured the terminal, and a
    line break in a file name split its error over two lines (audit 172 F8).
    """
    return plain(("" if text is None else str(text)).replace("\r", "\\r").replace("\n", "\\n"))


def table_console(stderr: bool = False) -> Console:
    """A console for printing tables: a piped or logged stream gets all the room a table needs.

    Without a terminal rich assumes 80 columns and squeezed a wide table's columns to nothing
    (``qc people list | cat`` printed no role at all).
    """
    stream = sys.stderr if stderr else sys.stdout
    return stdout_console(stderr=stderr, width=None if stream.isatty() else 400)


def stdout_console(**options: Any) -> Console:
    """A rich console whose closed pipe ends the command as every other output does (exit 0).

    rich answers a closed pipe with its own ``SystemExit(1)``: ``qc show ID | head -1`` exited 1
    where ``qc flagged | head -1`` exited 0. A BrokenPipeError goes to :func:`handle_errors`.
    """
    from rich.console import Console

    console = Console(**options)

    def closed() -> None:
        raise BrokenPipeError(32, "Broken pipe")

    console.on_broken_pipe = closed  # type: ignore[method-assign]
    return console


def cell(text: object) -> Text:
    """A rich table cell showing ``text`` literally: controls removed (:func:`plain`), no markup."""
    from rich.text import Text

    return Text(plain(text))


@contextmanager
def stop_on_signals(out: Path) -> Iterator[None]:
    """SIGINT (Ctrl-C) and SIGTERM end the block with :class:`~qc.errors.Interrupted`.

    The exception unwinds the run like any error: its temporary output folder is removed,
    worker processes are stopped, and the user reads one line saying what happened and that
    ``out`` still holds the previous complete run, then exit code 130 (SIGINT) or 143 (SIGTERM).
    """
    # A folder that held no run is not said to keep one (audit 124 L3).
    kept = (
        f"{out} keeps its previous complete run"
        if (out / "run.json").is_file()
        else f"{out} was not written"
        if not out.exists()
        else f"{out} is as it was"
    )

    def message(signum: int) -> str:
        name = signal.Signals(signum).name
        if _committed:
            return (
                f"stopped by {name} after {'; '.join(_committed)}: the store holds the run, but its files"
                f" were not published and {kept}; run the same command again to write them (the store"
                " keeps one copy of each conversation and every decision)"
            )
        if _committing:
            return (
                f"stopped by {name} as {'; '.join(_committing)}: the store may hold the run, but its files"
                f" were not published and {kept}; run the same command again (the store keeps one copy"
                " of each conversation and every decision)"
            )
        return f"stopped by {name}: nothing of this run was published; {kept}"

    def on_term(signum: int, frame: object) -> None:
        raise Interrupted(signum, message(signum))

    try:
        previous = signal.signal(signal.SIGTERM, on_term)
    except ValueError:  # not the main thread (a test calling the command): leave signals alone
        previous = None
    try:
        yield
    except KeyboardInterrupt:
        raise Interrupted(signal.SIGINT, message(signal.SIGINT)) from None
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def finding_id_arg(value: str | None) -> str | None:
    """A finding id as typed, in the store's spelling: ids are lower-case hex, pasted any case."""
    return value.strip().lower() if value is not None else None


def check_day(value: str, option: str) -> str:
    """``value`` if it is a real day written YYYY-MM-DD, in the years a message may carry.

    ``20261124`` and ``2026-11-31`` are refused, and so is a day outside ``earliest_year`` …
    ``latest_year`` of the limits file: no stored message lies outside them, and weeks and
    months near the calendar's ends overflow.

    Raises:
        ConfigError: not a date in that form, or outside those years (exit 2).
    """
    from datetime import date

    from qc.readers.limits import limits_source, load_limits

    text = value.strip()
    if len(text) == 10 and text[4] == text[7] == "-" and text.replace("-", "").isdigit():
        try:
            day = date.fromisoformat(text)
        except ValueError:
            pass
        else:
            first, last = load_limits().years
            if first <= day.year <= last:
                return text
            raise ConfigError(
                f"{option} {value!r} is outside the years qc accepts, {first}–{last}"
                f" (earliest_year, latest_year in {limits_source()})"
            )
    raise ConfigError(f"{option} {value!r} is not a date: write it as YYYY-MM-DD, e.g. 2026-11-24")


def _file_in_the_way(path: Path) -> Path | None:
    """The first of ``path`` and its parents that exists as a file, if any."""
    return next((p for p in (path, *path.parents) if p.exists() and not p.is_dir()), None)


def output_folder(path: Path, option: str = "--out") -> Path:
    """Check that ``path`` can be the folder a command writes into (it may not exist yet).

    Raises:
        ConfigError: ``path``, or a folder above it, is an existing file; or ``path`` is a link
            that leads nowhere or in a loop.
    """
    # A loop was an internal error and a link to nothing "File exists", the folder's own link or
    # one above it (audits 141 L1, 143 L1).
    for link in (path, *path.parents):
        if not link.is_symlink() or link.exists():
            continue
        try:
            link.resolve(strict=True)
        except FileNotFoundError:
            raise ConfigError(
                f"{option} {path}: {link} is a link to {os.readlink(link)}, which does not exist: create"
                " that folder first, or give another folder"
            ) from None
        except (OSError, RuntimeError):
            pass
        raise ConfigError(
            f"{option} {path}: {link} is a link in a loop (it leads back to itself); give a folder"
        )
    blocker = _file_in_the_way(path)
    if blocker == path:
        raise ConfigError(f"{option} {path} is a file; give a folder (it is created when missing)")
    if blocker is not None:
        raise ConfigError(f"{option} {path}: {blocker} is a file, not a folder; choose another place")
    _writing.append(path)  # a full disk names the folder (audit 130 M4)
    return path


def same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file (one spelt through a link or ``..`` too).

    So a command refuses to write its output over its own input: the samples replaced by their
    allow snippet (audit 152 M4), the platform's report by the comparison (audit 155 L1).
    """
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and a.samefile(b))
    except OSError:
        return False


def output_file(path: Path, option: str = "--out", example: str = "out.csv") -> Path:
    """Check that ``path`` can be the file a command writes (an existing file is replaced).

    Raises:
        ConfigError: ``path`` is an existing folder, or a folder above it is a file.
    """
    if path.is_dir():
        raise ConfigError(f"{option} {path} is a folder; give a file name, e.g. {path / example}")
    blocker = _file_in_the_way(path.parent)
    if blocker is not None:
        raise ConfigError(f"{option} {path}: {blocker} is a file, not a folder; choose another place")
    _writing.append(path)
    return path


def print_agent_table(rows: list[dict[str, Any]], card: Any, title: str, limit: int = 50) -> None:
    """A per-agent table on stderr (``qc.outputs.writers.summary_table``): what a QA lead checks first.

    The 服务态度 item's counts, points and score come first, then the other items in card order
    (metric value with its sample in brackets, points, score), then the total.
    """
    if not rows:
        return
    from rich.table import Table

    from qc.outputs.writers import summary_table

    headers, cells = summary_table(rows[:limit], card)
    table = Table(title=title, title_justify="left")
    for n, header in enumerate(headers):
        table.add_column(header, justify="left" if n < 2 else "right")
    for line in cells:
        table.add_row(*(cell(c) for c in line))
    console = table_console(stderr=True)
    console.print(table)
    if len(rows) > limit:
        console.print(f"… and {len(rows) - limit} more rows in agents.csv")
