"""The store's schema: table definitions and the ordered, append-only list of migrations.

Schema changes are named :data:`MIGRATIONS`, applied in order, each in its own transaction and
recorded in ``schema_migrations``. A database whose schema is newer than this code is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    inspect,
    select,
)

from qc.errors import EXIT_USAGE, QcError

__all__ = [
    "MIGRATIONS",
    "PEOPLE_TABLES",
    "RESULT_TABLES",
    "REVIEW_TABLES",
    "StoreError",
    "TABLES",
    "applied_migrations",
    "database_url",
    "migrate",
]


class StoreError(QcError):
    """The store cannot be opened or is newer than this qc."""

    exit_code = EXIT_USAGE


# Module-level tables describe the CURRENT schema and are what queries use. A migration that
# changes a table updates them here, and never edits an earlier migration.
METADATA = MetaData()


def _tables(md: MetaData) -> dict[str, Table]:
    """The schema created by migration 0001 (frozen: later changes go in new migrations)."""
    return {
        "runs": Table(
            "runs",
            md,
            Column("id", Integer, primary_key=True, autoincrement=True),
            Column("started_at", String(40), nullable=False),
            Column("qc_version", String(40), nullable=False),
            Column("scorecard_hash", String(64)),
            Column("scorecard_name", String(200)),
            Column("lexicon_version", String(200)),
            Column("model_version", String(200)),
            Column("read_count", Integer, nullable=False, default=0),
            Column("accepted_count", Integer, nullable=False, default=0),
            Column("rejected_count", Integer, nullable=False, default=0),
            Column("conversation_count", Integer, nullable=False, default=0),
            Column("finding_count", Integer, nullable=False, default=0),
            Column("inputs", Text, nullable=False, default="[]"),
            Column("days", Text, nullable=False, default="[]"),
            Column("run_json", Text, nullable=False, default="{}"),
        ),
        "conversations": Table(
            "conversations",
            md,
            Column("run_id", Integer, nullable=False, index=True),
            Column("shop", String(200), nullable=False, default=""),
            Column("date", String(10), nullable=False),
            Column("conversation_id", String(400), nullable=False),
            Column("agents", Text, nullable=False, default="[]"),
            Column("buyer_messages", Integer, nullable=False),
            Column("agent_messages", Integer, nullable=False),
            Column("turns", Integer, nullable=False),
            Column("turns_replied", Integer, nullable=False),
            Column("avg_response_s", Float),
            Column("first_response_s", Float),
            Column("answer_ratio", Float),
            Column("source", Text, nullable=False, default=""),
        ),
        "findings": Table(
            "findings",
            md,
            Column("run_id", Integer, nullable=False, index=True),
            Column("shop", String(200), nullable=False, default=""),
            Column("date", String(10), nullable=False),
            Column("finding_id", String(32), nullable=False, index=True),
            Column("conversation_id", String(400), nullable=False),
            Column("message_index", Integer, nullable=False),
            Column("agent", String(200)),
            Column("kind", String(60), nullable=False),
            Column("rule", String(100), nullable=False),
            Column("entry", String(200)),
            Column("score", Float, nullable=False),
            Column("suppressed", Boolean, nullable=False),
            Column("needs_review", Boolean, nullable=False),
            Column("start", Integer),
            Column("end", Integer),
            Column("text", Text, nullable=False, default=""),
            Column("evidence", Text, nullable=False, default="{}"),
        ),
        "deductions": Table(
            "deductions",
            md,
            Column("run_id", Integer, nullable=False, index=True),
            Column("shop", String(200), nullable=False, default=""),
            Column("date", String(10), nullable=False),
            Column("agent", String(200), nullable=False),
            Column("item", String(100), nullable=False),
            Column("points", Float, nullable=False),
            Column("reason", Text, nullable=False),
            Column("finding_ids", Text, nullable=False, default="[]"),
        ),
        "agent_days": Table(
            "agent_days",
            md,
            Column("run_id", Integer, nullable=False, index=True),
            Column("shop", String(200), nullable=False, default=""),
            Column("date", String(10), nullable=False),
            Column("agent", String(200), nullable=False),
            Column("conversations", Integer, nullable=False),
            Column("avg_response_s", Float),
            Column("first_response_s", Float),
            Column("reply_rate", Float),
            Column("answer_ratio", Float),
            Column("impatience", Integer, nullable=False, default=0),
            Column("conflict", Integer, nullable=False, default=0),
            Column("forbidden_phrase", Integer, nullable=False, default=0),
            Column("total_points", Float, nullable=False),
            Column("total_score", Float, nullable=False),
            Column("row", Text, nullable=False),
        ),
    }


TABLES = _tables(METADATA)
MIGRATIONS_TABLE = Table(
    "schema_migrations",
    METADATA,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("name", String(200), nullable=False),
    Column("applied_at", String(40), nullable=False),
)
RESULT_TABLES: tuple[str, ...] = ("conversations", "findings", "deductions", "agent_days")


def _m0001_initial(conn: Connection) -> None:
    md = MetaData()
    tables = _tables(md)
    md.create_all(conn, tables=list(tables.values()))


def _m0002_day_indexes(conn: Connection) -> None:
    from sqlalchemy import Index

    md = MetaData()
    tables = _tables(md)
    for name in RESULT_TABLES:
        Index(f"ix_{name}_shop_date", tables[name].c.shop, tables[name].c.date).create(conn)


# ----------------------------------------------------------- review, appeal and messages (0003)
# Added for review and appeal (issue 6). ``messages`` keeps the transcript so ``qc show`` and
# ``qc report`` can display it and a stored day can be re-scored; it is replaced per
# conversation whenever a run saves that conversation. ``review_log`` is append-only: every
# review decision and every appeal step is one row with the state before and after.
# ``appeals`` holds each appeal's current state (its history is in ``review_log``).


def _review_tables(md: MetaData) -> dict[str, Table]:
    """The tables created by migration 0003 (frozen: later changes go in new migrations)."""
    return {
        "messages": Table(
            "messages",
            md,
            Column("shop", String(200), nullable=False, default=""),
            Column("conversation_id", String(400), nullable=False, index=True),
            Column("idx", Integer, nullable=False),
            Column("date", String(10), nullable=False),
            Column("role", String(20), nullable=False),
            Column("text", Text, nullable=False, default=""),
            Column("sender", String(200)),
            Column("sent_at", String(40)),
            Column("auto_reply", Boolean, nullable=False, default=False),
            Column("agent_id", String(200)),
            Column("source", Text, nullable=False, default=""),
            Column("conversation_source", Text, nullable=False, default=""),
        ),
        "review_log": Table(
            "review_log",
            md,
            Column("id", Integer, primary_key=True, autoincrement=True),
            Column("at", String(40), nullable=False),
            Column("finding_id", String(32), nullable=False, index=True),
            Column("action", String(40), nullable=False),
            Column("actor", String(200), nullable=False),
            Column("note", Text, nullable=False, default=""),
            Column("state_before", String(40), nullable=False),
            Column("state_after", String(40), nullable=False),
            Column("appeal_id", Integer),
            Column("source", Text, nullable=False, default=""),
        ),
        "appeals": Table(
            "appeals",
            md,
            Column("id", Integer, primary_key=True, autoincrement=True),
            Column("finding_id", String(32), nullable=False, index=True),
            Column("agent", String(200), nullable=False),
            Column("reason", Text, nullable=False),
            Column("state", String(20), nullable=False),
            Column("opened_at", String(40), nullable=False),
            Column("answer", Text),
            Column("answered_by", String(200)),
            Column("answered_at", String(40)),
            Column("ruling", Text),
            Column("ruled_by", String(200)),
            Column("ruled_at", String(40)),
        ),
    }


REVIEW_TABLES = _review_tables(METADATA)


def _m0003_review_appeal_messages(conn: Connection) -> None:
    md = MetaData()
    tables = _review_tables(md)
    md.create_all(conn, tables=list(tables.values()))


# ------------------------------------------------------------------------ people (0007)
# Added for accountable reviews (issue 17): who may review, rule and appeal. A person is never
# deleted: removing one clears ``active`` (and records when and by whom), so every name in the
# audit trail still resolves to a role. Numbered 7: migrations 4-6 are reserved for issue 16.


def _people_tables(md: MetaData) -> dict[str, Table]:
    """The tables created by migration 0007 (frozen: later changes go in new migrations)."""
    return {
        "people": Table(
            "people",
            md,
            Column("id", Integer, primary_key=True, autoincrement=True),
            Column("name", String(200), nullable=False, index=True),
            Column("role", String(20), nullable=False),
            Column("agent_id", String(200)),
            Column("active", Boolean, nullable=False, default=True),
            Column("added_at", String(40), nullable=False),
            Column("added_by", String(200), nullable=False, default=""),
            Column("removed_at", String(40)),
            Column("removed_by", String(200)),
            Column("note", Text, nullable=False, default=""),
        ),
    }


PEOPLE_TABLES = _people_tables(METADATA)


def _m0007_people(conn: Connection) -> None:
    md = MetaData()
    tables = _people_tables(md)
    md.create_all(conn, tables=list(tables.values()))


# Append-only: (number, name, function). Never edit or reorder a published migration.
MIGRATIONS: tuple[tuple[int, str, Callable[[Connection], None]], ...] = (
    (1, "0001_initial", _m0001_initial),
    (2, "0002_shop_date_indexes", _m0002_day_indexes),
    (3, "0003_review_appeal_messages", _m0003_review_appeal_messages),
    (7, "0007_people", _m0007_people),
)


def database_url(target: str | Path) -> str:
    """A SQLAlchemy URL for ``--db``: a URL is kept, a path becomes a SQLite file URL.

    ``postgresql://`` is read as ``postgresql+psycopg://`` (psycopg 3, the ``postgres`` extra).
    """
    text = str(target)
    if "://" not in text:
        path = Path(text).expanduser().resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{path}"
    if text.startswith("postgresql://") or text.startswith("postgres://"):
        return "postgresql+psycopg://" + text.split("://", 1)[1]
    return text


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def applied_migrations(engine: Engine) -> list[tuple[int, str]]:
    """(version, name) of every migration recorded in the database, in order."""
    if not inspect(engine).has_table("schema_migrations"):
        return []
    with engine.connect() as conn:
        rows = conn.execute(
            select(MIGRATIONS_TABLE.c.version, MIGRATIONS_TABLE.c.name).order_by(MIGRATIONS_TABLE.c.version)
        )
        return [(int(v), str(n)) for v, n in rows]


def migrate(engine: Engine) -> list[str]:
    """Apply the missing migrations in order, one transaction each; returns the names applied.

    Raises:
        StoreError: the database has migrations this qc does not know (newer schema), or
            records a different migration under a known number.
    """
    with engine.begin() as conn:
        MIGRATIONS_TABLE.create(conn, checkfirst=True)
    done = applied_migrations(engine)
    known = {number: name for number, name, _ in MIGRATIONS}
    newest = MIGRATIONS[-1][0]
    for number, name in done:
        if number > newest:
            where = engine.url.render_as_string(hide_password=True)
            raise StoreError(
                f"store {where} has schema version {number} ({name}),"
                f" newer than this qc (up to {newest}); upgrade qc to use it"
            )
        if known[number] != name:
            raise StoreError(
                f"store migration {number} is {name!r} in the database but {known[number]!r} in this qc;"
                " it was written by a different program"
            )
    have = {number for number, _ in done}
    applied = []
    for number, name, step in MIGRATIONS:
        if number in have:
            continue
        with engine.begin() as conn:
            step(conn)
            conn.execute(MIGRATIONS_TABLE.insert().values(version=number, name=name, applied_at=_now()))
        applied.append(name)
    return applied
