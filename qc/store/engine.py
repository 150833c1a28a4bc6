"""How qc talks to a store's database: connections, locks, waits, and errors people can read.

Several qc processes may use one store at once: two days inspected in parallel, a reviewer
deciding while a day is saved, four first runs on a new database. What keeps them apart:

* **SQLite**: the WAL journal (readers never wait for the writer, the writer never waits for
  readers), a busy timeout of the configured wait, and every write transaction opened with
  ``BEGIN IMMEDIATE``, so writers queue for SQLite's one write lock when they start instead of
  failing half-way when a read lock cannot be upgraded. Migrations run step by step, each in
  its own ``BEGIN IMMEDIATE`` transaction that first checks whether another process applied
  the step meanwhile.
* **PostgreSQL**: a save holds the store's write lock (``pg_advisory_xact_lock``) for its
  transaction; a review, appeal or people change holds it shared, so it waits for a save in
  progress and a save waits for it; migrations hold a session advisory lock of their own.
  Each waits at most the configured time (``lock_timeout``).

The waits come from ``qc/defaults/store.toml``; ``QC_DB_SAVE_WAIT`` and ``QC_DB_WAIT``
override them. A lock that does not come in time is :class:`StoreBusyError` (exit 75, the
store is busy); any other database error is a :class:`StoreFailedError` whose message names
the store and the database's reason in one line, never the SQL or its parameters (buyers'
phones and addresses travel in them). :func:`guarded` turns SQLAlchemy's errors into those at
the store API's boundary and retries reads that met a busy SQLite.
"""

from __future__ import annotations

import os
import time
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from qc.errors import EXIT_BUSY, EXIT_RUNTIME, EXIT_USAGE, ConfigError, QcError
from qc.paths import defaults_dir

__all__ = [
    "SAVE_WAIT_ENV",
    "COMMAND_WAIT_ENV",
    "StoreBusyError",
    "StoreError",
    "StoreFailedError",
    "Waits",
    "guarded",
    "is_busy",
    "make_engine",
    "migration_lock",
    "read_connection",
    "store_waits",
    "write_transaction",
]

T = TypeVar("T")

SAVE_WAIT_ENV = "QC_DB_SAVE_WAIT"
COMMAND_WAIT_ENV = "QC_DB_WAIT"
STORE_DEFAULTS = defaults_dir() / "store.toml"

# Advisory lock keys (PostgreSQL): any two 64-bit numbers no other program of the database uses.
_WRITE_KEY = 0x71635F7772697465  # "qc_write"
_MIGRATE_KEY = 0x71635F6D69677261  # "qc_migra"
_DECIDE_KEY = 0x71635F6465636964  # "qc_decid"
# The execution option that marks a connection's transactions as writes (SQLite: IMMEDIATE).
_WRITE = "qc_write"
# SQLSTATEs of a lock that did not come in time, a deadlock or a serialization failure.
_PG_BUSY = frozenset({"55P03", "40P01", "40001"})
_SQLITE_BUSY = frozenset({5, 6})  # SQLITE_BUSY, SQLITE_LOCKED (any extended code)


class StoreError(QcError):
    """The store cannot be opened (bad URL, no driver, unreachable) or is newer than this qc."""

    exit_code = EXIT_USAGE


class StoreBusyError(QcError):
    """Another qc held the store's write lock for longer than this command waits."""

    exit_code = EXIT_BUSY


class StoreFailedError(QcError):
    """The database refused or lost an operation (its reason in one line, no SQL, no data)."""

    exit_code = EXIT_RUNTIME


@dataclass(frozen=True, slots=True)
class Waits:
    """Seconds a command waits for the store: ``save`` for ``qc inspect --db``, ``command`` for the rest."""

    save: float
    command: float


def store_waits() -> Waits:
    """The waits of ``qc/defaults/store.toml``, each overridden by its environment variable.

    Raises:
        ConfigError: the file or a variable is not a number of seconds (≥ 0).
    """
    try:
        data = tomllib.loads(STORE_DEFAULTS.read_text(encoding="utf-8"))
        table = data["wait"]
        values = {"save": float(table["save"]), "command": float(table["command"])}
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{STORE_DEFAULTS}: [wait] save and command must be seconds ({exc})") from None
    for key, env in (("save", SAVE_WAIT_ENV), ("command", COMMAND_WAIT_ENV)):
        given = os.environ.get(env, "").strip()
        if given:
            try:
                values[key] = float(given)
            except ValueError:
                raise ConfigError(f"{env}={given!r}: give a number of seconds, e.g. {env}=60") from None
    for key, value in values.items():
        if not value >= 0:
            raise ConfigError(f"the store's {key} wait must be 0 seconds or more, not {value}")
    return Waits(**values)


def make_engine(url: str, wait: float) -> Engine:
    """An engine for ``url`` whose writers wait up to ``wait`` seconds for each other.

    SQLite files get the WAL journal, a busy timeout of ``wait`` and ``BEGIN IMMEDIATE`` for
    write transactions (:func:`write_transaction`); reads begin deferred. Parameters never
    appear in SQLAlchemy's error texts (``hide_parameters``).
    """
    if url.startswith("sqlite"):
        engine = create_engine(url, hide_parameters=True, connect_args={"timeout": wait})

        @event.listens_for(engine, "connect")
        def _connect(dbapi_connection: Any, _record: Any) -> None:
            # qc sends BEGIN itself (below); the driver's own transaction handling would start
            # a deferred transaction before the first write instead.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute("PRAGMA journal_mode=WAL")  # kept in the file: a no-op after the first
            finally:
                cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            mode = "IMMEDIATE" if conn.get_execution_options().get(_WRITE) else "DEFERRED"
            conn.exec_driver_sql(f"BEGIN {mode}")

        return engine
    args: dict[str, Any] = {}
    if url.startswith("postgresql"):
        args["connect_args"] = {"connect_timeout": 10}  # an unreachable server fails within 10 s
    return create_engine(url, hide_parameters=True, **args)


def _lock_timeout(wait: float) -> str:
    # 0 would mean "wait forever" to PostgreSQL.
    return f"{max(1, int(wait * 1000))}ms"


@contextmanager
def write_transaction(
    engine: Engine, wait: float, *, exclusive: bool, serial: bool = False
) -> Iterator[Connection]:
    """A write transaction holding the store's write lock: ``exclusive`` for a save, shared otherwise.

    SQLite has one writer at a time whatever ``exclusive`` says: the transaction begins
    IMMEDIATE, waiting up to the busy timeout. PostgreSQL takes the advisory write lock, waiting
    up to ``wait`` seconds; with ``serial`` also the decision lock, exclusively, so decisions
    (reviews, appeals, people changes) run one at a time and what one checks before writing
    cannot change under it, while a save still waits for none of them but the write lock.
    Everything written through the connection commits or none of it.
    """
    with engine.connect() as conn:
        conn.execution_options(**{_WRITE: True})
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{_lock_timeout(wait)}'")
                function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
                conn.execute(text(f"SELECT {function}(:key)"), {"key": _WRITE_KEY})
                if serial:
                    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _DECIDE_KEY})
            yield conn


@contextmanager
def read_connection(engine: Engine) -> Iterator[Connection]:
    """A connection for reading (SQLite: deferred transactions, which never wait for a writer in WAL)."""
    with engine.connect() as conn:
        yield conn


@contextmanager
def migration_lock(engine: Engine, wait: float) -> Iterator[Connection]:
    """A connection holding the store's migration lock while the schema is checked and changed.

    PostgreSQL: a session advisory lock, so four first runs on a new database create its
    tables once. SQLite: no lock here; each migration step runs in a write transaction of its
    own (:func:`write_transaction` on the connection's engine) that checks the step again.
    """
    with engine.connect() as conn:
        if conn.dialect.name != "postgresql":
            yield conn
            return
        conn.exec_driver_sql(f"SET lock_timeout = '{_lock_timeout(wait)}'")
        conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _MIGRATE_KEY})
        conn.commit()
        try:
            yield conn
        finally:
            if conn.in_transaction():
                conn.rollback()
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _MIGRATE_KEY})
            conn.exec_driver_sql("RESET lock_timeout")
            conn.commit()


def is_busy(exc: DBAPIError) -> bool:
    """True when the error says another process held a lock (SQLite busy, PostgreSQL lock timeout)."""
    orig = exc.orig
    if getattr(orig, "sqlstate", None) in _PG_BUSY:
        return True
    code = getattr(orig, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in _SQLITE_BUSY
    words = str(orig).lower()
    return "database is locked" in words or "database table is locked" in words


def reason_of(exc: DBAPIError) -> str:
    """The database's reason in one line: the first line of the driver's message, no SQL, no data.

    PostgreSQL puts the values of a refused row in its DETAIL line, which is never shown.
    """
    words = str(exc.orig).strip().splitlines() if exc.orig is not None else []
    first = words[0].strip() if words else type(exc).__name__
    return first[:200]


def busy_error(where: str, wait: float, env: str) -> StoreBusyError:
    """The message of a store that stayed busy for the whole wait."""
    return StoreBusyError(
        f"the store {where} is busy: another qc is writing to it and did not finish within"
        f" {wait:g} s; nothing was changed. Try again when it is done, or wait longer with"
        f" {env}=SECONDS"
    )


def translate(exc: DBAPIError, where: str, wait: float, env: str) -> QcError:
    """The error people see for a database error at the store API's boundary."""
    if is_busy(exc):
        return busy_error(where, wait, env)
    reason = reason_of(exc)
    if "readonly database" in reason or "read-only transaction" in reason:
        # A store opened for reading cannot take a decision: a usage matter, as for a run that
        # saves (qc inspect checks it before it reads the day), not a failure of the database.
        return StoreError(
            f"store {where} is read-only and this step writes to it (a review, an appeal, a people"
            " change): make it writable, or ask its owner to run the step; nothing was changed"
        )
    return StoreFailedError(f"store {where}: {reason}")


def guarded(call: Callable[[], T], where: str, wait: float, env: str, *, retry: bool) -> T:
    """``call()``, its database errors translated; with ``retry``, retried while the store is busy.

    Reads retry (SQLite may refuse one for a moment even in WAL, e.g. while a new store is set
    up); writes do not, since their lock wait has already run its course.
    """
    deadline = time.monotonic() + wait
    delay = 0.05
    while True:
        try:
            return call()
        except DBAPIError as exc:
            if not (retry and is_busy(exc) and time.monotonic() + delay < deadline):
                raise translate(exc, where, wait, env) from None
        except PoolTimeout:
            # Every connection of this program's pool was in use for the pool's whole wait: busy,
            # but not "another qc is writing" (it was an internal error page, audit 128 M1).
            raise StoreBusyError(
                f"the store {where} is busy: all of this program's connections to it stayed in use;"
                " nothing was changed. Try again in a moment"
            ) from None
        time.sleep(delay)
        delay = min(delay * 2, 1.0)
