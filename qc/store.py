"""The results store: SQLite by default, any SQLAlchemy URL (PostgreSQL) otherwise.

``qc inspect --db out/qc.sqlite`` (or ``--db postgresql+psycopg://user@host/db``) saves each run
here. Every run is recorded in ``runs`` with the qc version, scorecard hash, lexicon and model
versions and the read/accepted/rejected counts. The results (``conversations``, ``findings``,
``deductions``, ``agent_days``) carry the ``shop`` and ``date`` they belong to; saving a run
first deletes every result row of the (shop, date) pairs the run covers, then inserts, in one
transaction. Inspecting the same day again therefore replaces that day, never adds to it. The
``runs`` table keeps every run as an audit log.

Schema changes are an append-only list of named :data:`MIGRATIONS`, applied in order, each in
its own transaction and recorded in ``schema_migrations``. A database whose schema is newer
than this code is refused. Findings keep their stable id (``Finding.id``) so a later review or
appeal table can refer to a finding across re-runs.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
    create_engine,
    delete,
    inspect,
    select,
)
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

from qc.errors import EXIT_USAGE, QcError
from qc.metrics import DayRule, conversation_metrics, message_days
from qc.schema import Conversation, Deduction, Finding

if TYPE_CHECKING:
    from qc.inspection import InspectionReport

__all__ = [
    "StoreError",
    "MIGRATIONS",
    "database_url",
    "open_store",
    "migrate",
    "applied_migrations",
    "save_run",
    "save_report",
    "RESULT_TABLES",
    "REVIEW_TABLES",
    "save_messages",
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


# Append-only: (number, name, function). Never edit or reorder a published migration.
MIGRATIONS: tuple[tuple[int, str, Callable[[Connection], None]], ...] = (
    (1, "0001_initial", _m0001_initial),
    (2, "0002_shop_date_indexes", _m0002_day_indexes),
    (3, "0003_review_appeal_messages", _m0003_review_appeal_messages),
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


def open_store(target: str | Path) -> Engine:
    """Open (and migrate) the store at a SQLite path or SQLAlchemy URL.

    Raises:
        StoreError: unknown URL, missing database driver, unreachable server or newer schema.
    """
    url = database_url(target)
    try:
        engine = create_engine(url, future=True)
    except NoSuchModuleError:
        raise StoreError(
            f"--db {target}: no SQLAlchemy dialect for this URL; use a path or postgresql+psycopg://…"
        ) from None
    except ArgumentError:
        raise StoreError(
            f"--db {target}: not a database URL; use a file path or postgresql+psycopg://user@host/db"
        ) from None
    except ModuleNotFoundError as exc:
        raise StoreError(f"--db {target}: driver {exc.name} is missing; pip install 'qc[postgres]'") from None
    try:
        migrate(engine)
    except OperationalError as exc:
        engine.dispose()
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "cannot connect"
        raise StoreError(f"--db {engine.url.render_as_string(hide_password=True)}: {reason}") from None
    return engine


def _shop(value: str | None) -> str:
    return value or ""


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def save_run(
    target: str | Path | Engine,
    *,
    run: dict[str, Any],
    conversations: Sequence[Conversation],
    findings: Iterable[Finding],
    deductions: Iterable[Deduction],
    agents: Iterable[dict[str, Any]],
    day: DayRule | None = None,
) -> int:
    """Save one run: record it in ``runs`` and replace the results of the days it covers.

    The (shop, date) pairs covered are those of every result row of the run. All of it runs in
    one transaction: a failure leaves the store as it was. Returns the new run id.
    """
    if not isinstance(target, Engine):
        engine = open_store(target)
        try:
            return save_run(
                engine,
                run=run,
                conversations=conversations,
                findings=findings,
                deductions=deductions,
                agents=agents,
                day=day,
            )
        finally:
            engine.dispose()
    engine = target
    day = day or DayRule()
    convs = {c.id: c for c in conversations}
    days_of = {c.id: message_days(c, day) for c in conversations}
    conv_rows = []
    for c in conversations:
        m = conversation_metrics(c, day)
        conv_rows.append(
            dict(
                shop=_shop(c.shop),
                date=m.date,
                conversation_id=c.id,
                agents=_json(list(m.agents)),
                buyer_messages=m.buyer_messages,
                agent_messages=m.agent_messages,
                turns=m.turns,
                turns_replied=m.turns_replied,
                avg_response_s=m.avg_response_s,
                first_response_s=m.first_response_s,
                answer_ratio=m.answer_ratio,
                source=c.source,
            )
        )
    finding_rows = []
    for f in findings:
        conv = convs.get(f.conversation_id)
        days = days_of.get(f.conversation_id, [])
        finding_rows.append(
            dict(
                shop=_shop(conv.shop if conv else None),
                date=days[f.message_index] if 0 <= f.message_index < len(days) else "undated",
                finding_id=f.id,
                conversation_id=f.conversation_id,
                message_index=f.message_index,
                agent=f.agent,
                kind=f.kind,
                rule=f.rule,
                entry=f.entry,
                score=f.score,
                suppressed=f.suppressed,
                needs_review=f.needs_review,
                start=f.start,
                end=f.end,
                text=f.text,
                evidence=_json(f.evidence.to_json()),
            )
        )
    agent_list = list(agents)
    shop_of = {(r["agent"], r["date"]): _shop(r.get("shop")) for r in agent_list}
    agent_rows = [
        dict(
            shop=_shop(r.get("shop")),
            date=r["date"],
            agent=r["agent"],
            conversations=r.get("conversations", 0),
            avg_response_s=r.get("avg_response_s"),
            first_response_s=r.get("first_response_s"),
            reply_rate=r.get("reply_rate"),
            answer_ratio=r.get("answer_ratio"),
            impatience=r.get("impatience", 0),
            conflict=r.get("conflict", 0),
            forbidden_phrase=r.get("forbidden_phrase", 0),
            total_points=r.get("total_points", 0.0),
            total_score=r.get("total_score", 0.0),
            row=_json(r),
        )
        for r in agent_list
    ]
    deduction_rows = [
        dict(
            shop=shop_of.get((d.agent, d.date), ""),
            date=d.date,
            agent=d.agent,
            item=d.item,
            points=d.points,
            reason=d.reason,
            finding_ids=_json(list(d.finding_ids)),
        )
        for d in deductions
    ]
    by_table = {
        "conversations": conv_rows,
        "findings": finding_rows,
        "deductions": deduction_rows,
        "agent_days": agent_rows,
    }
    covered = sorted({(r["shop"], r["date"]) for rows in by_table.values() for r in rows})
    counts = run.get("counts", {})
    scorecard = run.get("scorecard") or {}
    with engine.begin() as conn:
        run_id = conn.execute(
            TABLES["runs"]
            .insert()
            .values(
                started_at=run.get("started_at") or _now(),
                qc_version=str(run.get("qc_version", "")),
                scorecard_hash=scorecard.get("hash"),
                scorecard_name=scorecard.get("name"),
                lexicon_version=run.get("lexicon_version"),
                model_version=run.get("model_version"),
                read_count=int(counts.get("read", 0)),
                accepted_count=int(counts.get("accepted", 0)),
                rejected_count=int(counts.get("rejected", 0)),
                conversation_count=len(conv_rows),
                finding_count=len(finding_rows),
                inputs=_json([f.get("path") for f in run.get("files", [])]),
                days=_json([{"shop": s, "date": d} for s, d in covered]),
                run_json=_json(run),
            )
        ).inserted_primary_key[0]
        for name in RESULT_TABLES:
            table = TABLES[name]
            for shop, date in covered:
                conn.execute(delete(table).where(table.c.shop == shop, table.c.date == date))
            rows = by_table[name]
            if rows:
                conn.execute(table.insert(), [{**r, "run_id": run_id} for r in rows])
        save_messages(conn, conversations, days_of)
    return int(run_id)


def save_messages(
    conn: Connection, conversations: Sequence[Conversation], days_of: dict[str, list[str]]
) -> None:
    """Replace the stored messages of these conversations (inside the caller's transaction).

    Keyed by (shop, conversation id): a conversation saved again, by any run, is replaced whole.
    """
    table = REVIEW_TABLES["messages"]
    by_shop: dict[str, list[str]] = {}
    for c in conversations:
        by_shop.setdefault(_shop(c.shop), []).append(c.id)
    for shop, ids in by_shop.items():
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            conn.execute(delete(table).where(table.c.shop == shop, table.c.conversation_id.in_(chunk)))
    rows = [
        dict(
            shop=_shop(c.shop),
            conversation_id=c.id,
            idx=m.index,
            date=days_of.get(c.id, [])[i] if i < len(days_of.get(c.id, [])) else "undated",
            role=m.role.value,
            text=m.text,
            sender=m.sender,
            sent_at=m.sent_at.isoformat() if m.sent_at is not None else None,
            auto_reply=m.auto_reply,
            agent_id=m.agent_id,
            source=m.source,
            conversation_source=c.source,
        )
        for c in conversations
        for i, m in enumerate(c.messages)
    ]
    if rows:
        conn.execute(table.insert(), rows)


def save_report(target: str | Path | Engine, report: InspectionReport) -> int:
    """Save a finished :func:`~qc.inspection.run_inspection` report (see :func:`save_run`)."""
    card = report.scorecard
    return save_run(
        target,
        run=report.run,
        conversations=[r.conversation for r in report.results],
        findings=report.findings,
        deductions=report.deductions,
        agents=report.agents,
        day=card.day if card is not None else None,
    )
