"""The store's schema: table definitions and the ordered, append-only list of migrations.

Schema changes are named :data:`MIGRATIONS`, applied in order, each in its own transaction and
recorded in ``schema_migrations``. A database whose schema is newer than this code is refused.

The schema after every migration (:data:`TABLES`, what queries use):

* ``runs``: every run, as an audit log (qc version, scorecard hash, versions, counts, days).
* ``conversations``: one row per (shop, conversation id), upserted by the run that read it
  last: its first and last day, its own metrics, its ``basis`` (the day rule and evidence
  limits its days and evidence were made with).
* ``messages``, ``findings``, ``parts``: a conversation's messages (each with its day), its
  findings (each with the agent and day it is charged to) and its metric counters per agent
  and day. Replaced whole, with the conversation, whenever a run saves it again.
* ``review_log`` (append-only) and ``appeals``: human decisions, keyed by finding id; they
  stay attached when the same finding comes back.
* ``archived_deductions``, ``archived_agent_days``, ``superseded_conversations``: what qc
  before schema 4 stored as scores (scores are now derived), kept as they were, never read.
* ``people`` (7): who reviews, rules and appeals; ``credentials`` (8): their sign-in password
  hashes, apart from the people rows so listing people never reads a hash.
* ``calibration_rounds``, ``calibration_items``, ``calibration_verdicts`` (8): blind rounds of
  several reviewers on one fixed sample; their verdicts are kept apart from review decisions.
* ``search_docs``, ``search_meta`` and, on SQLite, the FTS5 table ``search_fts`` (9): the
  message search index, rebuilt from ``messages`` (never the other way round).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
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
    text,
)

from qc.schema import MAX_ACCOUNT_CHARS, MAX_CONVERSATION_ID_CHARS, Conversation
from qc.scoring.metrics import UNASSIGNED, DayRule, conversation_parts, message_days
from qc.store.engine import StoreError, migration_lock, write_transaction
from qc.store.rows import conversation_from_rows, finding_row, part_row

__all__ = [
    "MIGRATIONS",
    "PEOPLE_TABLES",
    "ACCOUNTS_TABLE",
    "SEARCH_TABLES",
    "WORKBENCH_TABLES",
    "RESULT_TABLES",
    "REVIEW_TABLES",
    "ARCHIVED_TABLES",
    "StoreError",
    "TABLES",
    "applied_migrations",
    "database_url",
    "migrate",
]


# Module-level tables (TABLES, at the end of this section) describe the CURRENT schema and are
# what queries use. A migration that changes a table updates them here, and never edits an
# earlier migration.
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
            Column("shop", String(MAX_ACCOUNT_CHARS), nullable=False, default=""),
            Column("date", String(10), nullable=False),
            Column("conversation_id", String(MAX_CONVERSATION_ID_CHARS), nullable=False),
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
            Column("shop", String(MAX_ACCOUNT_CHARS), nullable=False, default=""),
            Column("date", String(10), nullable=False),
            Column("finding_id", String(32), nullable=False, index=True),
            Column("conversation_id", String(MAX_CONVERSATION_ID_CHARS), nullable=False),
            Column("message_index", Integer, nullable=False),
            Column("agent", String(MAX_ACCOUNT_CHARS)),
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
            Column("shop", String(MAX_ACCOUNT_CHARS), nullable=False, default=""),
            Column("date", String(10), nullable=False),
            Column("agent", String(MAX_ACCOUNT_CHARS), nullable=False),
            Column("item", String(100), nullable=False),
            Column("points", Float, nullable=False),
            Column("reason", Text, nullable=False),
            Column("finding_ids", Text, nullable=False, default="[]"),
        ),
        "agent_days": Table(
            "agent_days",
            md,
            Column("run_id", Integer, nullable=False, index=True),
            Column("shop", String(MAX_ACCOUNT_CHARS), nullable=False, default=""),
            Column("date", String(10), nullable=False),
            Column("agent", String(MAX_ACCOUNT_CHARS), nullable=False),
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


MIGRATIONS_TABLE = Table(
    "schema_migrations",
    METADATA,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("name", String(200), nullable=False),
    Column("applied_at", String(40), nullable=False),
)


def _m0001_initial(conn: Connection) -> None:
    md = MetaData()
    tables = _tables(md)
    md.create_all(conn, tables=list(tables.values()))


def _m0002_day_indexes(conn: Connection) -> None:
    from sqlalchemy import Index

    md = MetaData()
    tables = _tables(md)
    for name in ("conversations", "findings", "deductions", "agent_days"):
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
            Column("shop", String(MAX_ACCOUNT_CHARS), nullable=False, default=""),
            Column("conversation_id", String(MAX_CONVERSATION_ID_CHARS), nullable=False, index=True),
            Column("idx", Integer, nullable=False),
            Column("date", String(10), nullable=False),
            Column("role", String(20), nullable=False),
            Column("text", Text, nullable=False, default=""),
            Column("sender", String(MAX_ACCOUNT_CHARS)),
            Column("sent_at", String(40)),
            Column("auto_reply", Boolean, nullable=False, default=False),
            Column("agent_id", String(MAX_ACCOUNT_CHARS)),
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
            Column("agent", String(MAX_ACCOUNT_CHARS), nullable=False),
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


def _m0003_review_appeal_messages(conn: Connection) -> None:
    md = MetaData()
    tables = _review_tables(md)
    md.create_all(conn, tables=list(tables.values()))


# ------------------------------------------- conversations by id, derived scores (0004-0006)
# Issue 16: the store keeps conversations and derives every score. A run upserts the
# conversations it read, keyed by (shop, conversation id), with their messages, findings and
# metric parts; it never deletes a conversation it did not read. Saved scores (deductions,
# agent_days) are no longer written: they are archived as they were.

ARCHIVED_TABLES: tuple[str, ...] = ("archived_deductions", "archived_agent_days", "superseded_conversations")


def _parts_table(md: MetaData) -> Table:
    """The table created by migration 0005 (frozen: later changes go in new migrations)."""
    return Table(
        "parts",
        md,
        Column("run_id", Integer, nullable=False),
        Column("shop", String(MAX_ACCOUNT_CHARS), nullable=False, default=""),
        Column("conversation_id", String(MAX_CONVERSATION_ID_CHARS), nullable=False),
        Column("agent", String(MAX_ACCOUNT_CHARS), nullable=False),
        Column("date", String(10), nullable=False),
        Column("conversations", Integer, nullable=False, default=0),
        Column("buyers_received", Integer, nullable=False, default=0),
        Column("buyers_replied", Integer, nullable=False, default=0),
        Column("messages", Integer, nullable=False, default=0),
        Column("buyer_messages", Integer, nullable=False, default=0),
        Column("turns", Integer, nullable=False, default=0),
        Column("turns_replied", Integer, nullable=False, default=0),
        Column("timed_turns", Integer, nullable=False, default=0),
        Column("delay_us", BigInteger, nullable=False, default=0),
        Column("first_responses", Integer, nullable=False, default=0),
        Column("first_us", BigInteger, nullable=False, default=0),
    )


def _columns(md: MetaData, table: str, *names: str) -> Table:
    """A table with only the named columns (as untyped text), for a migration's own statements.

    Migrations 4 to 6 name the columns they read and write here instead of using the current
    schema, so a later change to a table never changes what an earlier migration does.
    """
    return Table(table, md, *(Column(name) for name in names))


def _add_column(conn: Connection, table: str, column: str, sql_type: str) -> None:
    conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} {sql_type}"))


def _m0004_conversations_by_id(conn: Connection) -> None:
    from sqlalchemy import Index, and_, delete, func, update

    md = MetaData()
    old = _tables(md)
    convs = old["conversations"]
    for name in ("deductions", "agent_days"):
        conn.execute(text(f"ALTER TABLE {name} RENAME TO archived_{name}"))
    # A conversation saved under two dates (another day rule) had two rows: the newest stays,
    # the others move to superseded_conversations unchanged.
    superseded = Table("superseded_conversations", md, *(c._copy() for c in convs.columns))
    superseded.create(conn)
    newest = (
        select(convs.c.shop, convs.c.conversation_id, func.max(convs.c.run_id).label("run_id"))
        .group_by(convs.c.shop, convs.c.conversation_id)
        .having(func.count() > 1)
    )
    for shop, cid, run_id in conn.execute(newest).all():
        older = and_(convs.c.shop == shop, convs.c.conversation_id == cid, convs.c.run_id < run_id)
        rows = [dict(r._mapping) for r in conn.execute(select(convs).where(older))]
        conn.execute(superseded.insert(), rows)
        conn.execute(delete(convs).where(older))
        # Two rows of one run (cannot happen with qc's own writes): keep one.
        twins = conn.execute(
            select(func.count())
            .select_from(convs)
            .where(convs.c.shop == shop, convs.c.conversation_id == cid)
        ).scalar_one()
        if twins > 1:
            raise StoreError(
                f"store: conversation {cid!r} of shop {shop!r} has {twins} rows from run {run_id};"
                " remove the extra rows by hand, then open the store again"
            )
    _add_column(conn, "conversations", "last_date", "VARCHAR(10)")
    _add_column(conn, "conversations", "saved_at", "VARCHAR(40)")
    _add_column(conn, "findings", "scored_agent", "VARCHAR(200)")
    md = MetaData()
    convs = _columns(md, "conversations", "shop", "conversation_id", "date", "last_date")
    findings = _columns(md, "findings", "shop", "conversation_id", "message_index", "agent", "scored_agent")
    messages = _columns(
        md, "messages", "shop", "conversation_id", "idx", "date", "role", "agent_id", "sender"
    )
    last = (
        select(func.max(messages.c.date))
        .where(
            messages.c.shop == convs.c.shop,
            messages.c.conversation_id == convs.c.conversation_id,
            messages.c.date != "undated",
        )
        .scalar_subquery()
    )
    conn.execute(update(convs).values(last_date=func.coalesce(last, convs.c.date)))
    # The agent a finding is charged to: its own, else its message's (Message.agent), else
    # "unassigned" (qc.scoring.card.attribute).
    sender = (
        select(func.coalesce(messages.c.agent_id, messages.c.sender, "unknown"))
        .where(
            messages.c.shop == findings.c.shop,
            messages.c.conversation_id == findings.c.conversation_id,
            messages.c.idx == findings.c.message_index,
            messages.c.role == "agent",
        )
        .scalar_subquery()
    )
    conn.execute(update(findings).values(scored_agent=func.coalesce(findings.c.agent, sender, "unassigned")))
    unique = Index("ux_conversations_shop_conversation", convs.c.shop, convs.c.conversation_id, unique=True)
    unique.create(conn)
    Index("ix_messages_shop_conversation", messages.c.shop, messages.c.conversation_id).create(conn)
    Index("ix_findings_shop_conversation", findings.c.shop, findings.c.conversation_id).create(conn)


def _stored_conversations(conn: Connection) -> Iterator[tuple[Any, Conversation, list[str]]]:
    """Every conversation that has a row and messages: (its row, rebuilt, its stored message days)."""
    md = MetaData()
    convs = _columns(md, "conversations", "run_id", "shop", "conversation_id")
    messages = _review_tables(MetaData())["messages"]
    rows = conn.execute(select(convs).order_by(convs.c.shop, convs.c.conversation_id)).all()
    for start in range(0, len(rows), 200):
        chunk = rows[start : start + 200]
        by_key: dict[tuple[str, str], list[Any]] = {}
        for shop in {r.shop for r in chunk}:
            ids = [r.conversation_id for r in chunk if r.shop == shop]
            q = select(messages).where(messages.c.shop == shop, messages.c.conversation_id.in_(ids))
            for m in conn.execute(q.order_by(messages.c.conversation_id, messages.c.idx)):
                by_key.setdefault((m.shop, m.conversation_id), []).append(m)
        for r in chunk:
            found = by_key.get((r.shop, r.conversation_id))
            if found:
                yield r, conversation_from_rows(r.conversation_id, found), [m.date for m in found]


def _m0005_parts(conn: Connection) -> None:
    from sqlalchemy import Index

    md = MetaData()
    parts = _parts_table(md)
    parts.create(conn)
    Index("ix_parts_shop_date", parts.c.shop, parts.c.date).create(conn)
    Index("ix_parts_shop_conversation", parts.c.shop, parts.c.conversation_id).create(conn)
    # Metric parts of the stored conversations, on the days their messages were stored with
    # (the day rule of the run that saved them).
    batch: list[dict[str, Any]] = []
    for row, conv, days in _stored_conversations(conn):
        for part in conversation_parts(conv, days=days):
            batch.append({**part_row(part), "run_id": row.run_id})
        if len(batch) >= 1000:
            conn.execute(parts.insert(), batch)
            batch = []
    if batch:
        conn.execute(parts.insert(), batch)


def _m0006_evidence_and_basis(conn: Connection) -> None:
    from dataclasses import replace

    from sqlalchemy import update

    from qc.scoring.card import load_scorecard
    from qc.scoring.evidence import timing_findings

    _add_column(conn, "conversations", "basis", "TEXT")
    md = MetaData()
    convs = _columns(md, "conversations", "shop", "conversation_id", "basis")
    findings = Table("findings", md, *(c._copy() for c in _tables(MetaData())["findings"].columns))
    findings.append_column(Column("scored_agent", String(MAX_ACCOUNT_CHARS)))
    # Runs before schema 4 recorded neither their day rule nor slow replies: a conversation's
    # stored days tell which day rule made them; its evidence is made with the packaged
    # card's limits. A conversation matching neither rule keeps no basis: scoring it asks for
    # the day to be inspected again.
    card = load_scorecard()
    cards = [replace(card, day=DayRule(card.day.timezone, by)) for by in ("reply", "conversation_start")]
    for row, conv, days in _stored_conversations(conn):
        chosen = next((c for c in cards if message_days(conv, c.day) == days), None)
        if chosen is None:
            continue
        evidence = [
            {
                **finding_row(f, conv.shop, days[f.message_index], f.agent or UNASSIGNED),
                "run_id": row.run_id,
            }
            for f in timing_findings(conv, chosen, days)
        ]
        if evidence:
            conn.execute(findings.insert(), evidence)
        where = (convs.c.shop == row.shop) & (convs.c.conversation_id == row.conversation_id)
        conn.execute(update(convs).where(where).values(basis=chosen.basis))


# The columns migration 14 adds to ``appeals``: the account charged, who opened the appeal, and
# the shop and conversation of its finding (kept when a re-inspection no longer finds it).
_APPEAL_PARTIES: tuple[tuple[str, int], ...] = (
    ("account", 200),
    ("opened_by", 200),
    ("shop", 200),
    ("conversation_id", 400),
)


def _current_tables(md: MetaData) -> dict[str, Table]:
    """The schema after the last migration: what the store's queries use."""
    first = _tables(MetaData())  # 0001's and 0003's columns, copied into ``md``
    review = _review_tables(MetaData())
    conversations = Table(
        "conversations",
        md,
        *(c._copy() for c in first["conversations"].columns),
        Column("last_date", String(10)),
        Column("saved_at", String(40)),
        Column("basis", Text),
        Column("fingerprint", String(40)),
        Column("first_run_id", Integer),
    )
    findings = Table(
        "findings",
        md,
        *(c._copy() for c in first["findings"].columns),
        Column("scored_agent", String(MAX_ACCOUNT_CHARS)),
    )
    return {
        "runs": Table("runs", md, *(c._copy() for c in first["runs"].columns)),
        "conversations": conversations,
        "findings": findings,
        "parts": _parts_table(md),
        "messages": Table("messages", md, *(c._copy() for c in review["messages"].columns)),
        "review_log": Table("review_log", md, *(c._copy() for c in review["review_log"].columns)),
        "appeals": Table(
            "appeals",
            md,
            *(c._copy() for c in review["appeals"].columns),
            *(Column(name, String(size)) for name, size in _APPEAL_PARTIES),
        ),
    }


TABLES = _current_tables(METADATA)
# The tables a run writes (per conversation, replaced whole when the conversation is saved again).
RESULT_TABLES: tuple[str, ...] = ("conversations", "messages", "findings", "parts")
REVIEW_TABLES = {name: TABLES[name] for name in ("messages", "review_log", "appeals")}


# ------------------------------------------------------------------------ people (0007)
# Added for accountable reviews (issue 17): who may review, rule and appeal. A person is never
# deleted: removing one clears ``active`` (and records when and by whom), so every name in the
# audit trail still resolves to a role. Numbered 7, after migrations 4-6 (conversations by id).


def _people_tables(md: MetaData) -> dict[str, Table]:
    """The tables created by migration 0007 (frozen: later changes go in new migrations)."""
    return {
        "people": Table(
            "people",
            md,
            Column("id", Integer, primary_key=True, autoincrement=True),
            Column("name", String(200), nullable=False, index=True),
            Column("role", String(20), nullable=False),
            Column("agent_id", String(MAX_ACCOUNT_CHARS)),
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


# --------------------------------------------------- sign-in and calibration (0008)
# Added for the workbench (issue 18). ``credentials`` holds one argon2 hash per person (the
# hash string carries its own salt and parameters); it is a table of its own so that people
# rows, which the CLI lists and logs, never carry it. A calibration round is a fixed sample
# of findings (``calibration_items``, in order) that several reviewers judge blind; their
# verdicts (``calibration_verdicts``, one per reviewer and finding) are an exercise, never a
# review decision: they do not reach ``review_log`` or the scores.


def _workbench_tables(md: MetaData) -> dict[str, Table]:
    """The tables created by migration 0008 (frozen: later changes go in new migrations)."""
    from sqlalchemy import UniqueConstraint

    return {
        "credentials": Table(
            "credentials",
            md,
            Column("person_id", Integer, primary_key=True, autoincrement=False),
            Column("password_hash", String(400), nullable=False),
            Column("set_at", String(40), nullable=False),
            Column("set_by", String(200), nullable=False, default=""),
        ),
        "calibration_rounds": Table(
            "calibration_rounds",
            md,
            Column("id", Integer, primary_key=True, autoincrement=True),
            Column("name", String(200), nullable=False),
            Column("created_at", String(40), nullable=False),
            Column("created_by", String(200), nullable=False),
            Column("date_from", String(10), nullable=False),
            Column("date_to", String(10), nullable=False),
            Column("seed", Integer, nullable=False),
            Column("size", Integer, nullable=False),
            Column("reviewers", Text, nullable=False, default="[]"),
            Column("closed_at", String(40)),
        ),
        "calibration_items": Table(
            "calibration_items",
            md,
            Column("round_id", Integer, nullable=False, index=True),
            Column("position", Integer, nullable=False),
            Column("finding_id", String(32), nullable=False),
            UniqueConstraint("round_id", "position", name="ux_calibration_items_position"),
        ),
        "calibration_verdicts": Table(
            "calibration_verdicts",
            md,
            Column("id", Integer, primary_key=True, autoincrement=True),
            Column("round_id", Integer, nullable=False, index=True),
            Column("finding_id", String(32), nullable=False),
            Column("reviewer", String(200), nullable=False),
            Column("verdict", String(20), nullable=False),
            Column("note", Text, nullable=False, default=""),
            Column("at", String(40), nullable=False),
            UniqueConstraint("round_id", "finding_id", "reviewer", name="ux_calibration_verdicts_once"),
        ),
    }


# The columns migration 16 adds to ``calibration_rounds``: who closed a round, and why.
_ROUND_CLOSING: tuple[tuple[str, int | None], ...] = (("closed_by", 200), ("close_note", None))


def _current_workbench_tables(md: MetaData) -> dict[str, Table]:
    """The workbench's tables after the last migration (0008's, and 0016's closing columns)."""
    tables = _workbench_tables(md)
    rounds = tables["calibration_rounds"]
    for name, size in _ROUND_CLOSING:
        rounds.append_column(Column(name, String(size) if size else Text))
    return tables


WORKBENCH_TABLES = _current_workbench_tables(METADATA)


def _m0008_workbench(conn: Connection) -> None:
    md = MetaData()
    tables = _workbench_tables(md)
    md.create_all(conn, tables=list(tables.values()))


# ------------------------------------------------------------- message search (0009)
# The search index: one row per message with its search tokens (jieba's search mode, joined
# by spaces), made from ``messages`` by :meth:`qc.store.database.Store.refresh_search_index`
# and refreshed lazily: ``search_meta`` records what the index was built from (tokenizer
# version, newest run, conversation count) and each row the run that saved its conversation.
# Full text: SQLite's FTS5 table ``search_fts`` (rowid = ``search_docs.id``; the default
# unicode61 tokenizer splits on the spaces), PostgreSQL's GIN index on
# ``to_tsvector('simple', tokens)``. The index is derived data: dropping it loses nothing.


def _search_tables(md: MetaData) -> dict[str, Table]:
    """The tables created by migration 0009 (frozen: later changes go in new migrations)."""
    return {
        "search_docs": Table(
            "search_docs",
            md,
            Column("id", Integer, primary_key=True, autoincrement=True),
            Column("run_id", Integer, nullable=False),
            Column("shop", String(MAX_ACCOUNT_CHARS), nullable=False, default=""),
            Column("conversation_id", String(MAX_CONVERSATION_ID_CHARS), nullable=False),
            Column("idx", Integer, nullable=False),
            Column("date", String(10), nullable=False),
            Column("role", String(20), nullable=False),
            Column("tokens", Text, nullable=False, default=""),
        ),
        "search_meta": Table(
            "search_meta",
            md,
            Column("key", String(40), primary_key=True, autoincrement=False),
            Column("value", Text, nullable=False),
        ),
    }


SEARCH_TABLES = _search_tables(METADATA)


def _m0009_search_index(conn: Connection) -> None:
    from sqlalchemy import Index

    md = MetaData()
    tables = _search_tables(md)
    md.create_all(conn, tables=list(tables.values()))
    docs = tables["search_docs"]
    # One row per message: a second refresh racing the first fails instead of doubling hits.
    Index("ux_search_docs_message", docs.c.shop, docs.c.conversation_id, docs.c.idx, unique=True).create(conn)
    Index("ix_search_docs_date", docs.c.date).create(conn)
    if conn.dialect.name == "sqlite":
        from sqlalchemy.exc import OperationalError

        try:
            conn.execute(text("CREATE VIRTUAL TABLE search_fts USING fts5(tokens)"))
        except OperationalError:  # an SQLite built without FTS5: search scans the tokens instead
            pass
    elif conn.dialect.name == "postgresql":
        conn.execute(
            text("CREATE INDEX ix_search_docs_fts ON search_docs USING gin (to_tsvector('simple', tokens))")
        )


# ------------------------------------------------------- stable finding identity (0010)
# Issue 19: a finding's id comes from what it is about (conversation, message, kind, lexicon
# entry or scorecard item, span), no longer from the rule or the model version, which the
# evidence records beside it (``version``). The classifier's findings kept the model version
# in ``entry`` (evidence ``pattern``): it moves to the evidence's ``version``. Every stored
# finding gets its new id, and so does every decision pointing at it: review_log, appeals and
# the calibration rounds. A decision whose finding is no longer stored keeps its id (it is
# reported as orphaned).

_CLASSIFIER_RULE = "attitude_classifier.v1"  # frozen: the rule name the classifier's findings carry


def _finding_id_v2(
    conversation_id: str, message_index: int, kind: str, entry: str | None, start: Any, end: Any
) -> str:
    """The id :func:`qc.schema.finding_id` gave when migration 10 was written (frozen copy)."""
    import hashlib

    key = "\x1f".join(
        str(part) for part in ("finding/2", conversation_id, message_index, kind, entry, start, end)
    )
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


def _m0010_finding_identity(conn: Connection) -> None:
    import json

    from sqlalchemy import bindparam, update

    md = MetaData()
    names = (
        "finding_id",
        "conversation_id",
        "message_index",
        "kind",
        "rule",
        "entry",
        "start",
        "end",
        "evidence",
    )
    findings = _columns(md, "findings", *names)
    renamed: dict[str, str] = {}
    changes: list[dict[str, Any]] = []
    for row in conn.execute(select(findings)).all():
        entry, evidence = row.entry, row.evidence
        if row.rule == _CLASSIFIER_RULE:
            data = json.loads(evidence or "{}")
            data["version"] = data.get("version") or data.get("pattern") or entry
            data["pattern"] = None
            entry, evidence = None, json.dumps(data, ensure_ascii=False, sort_keys=True)
        elif evidence and '"version"' not in evidence:
            data = json.loads(evidence)
            details = data.get("details") or {}
            data["version"] = details.get("lexicon") if isinstance(details, dict) else None
            evidence = json.dumps(data, ensure_ascii=False, sort_keys=True)
        new = _finding_id_v2(row.conversation_id, int(row.message_index), row.kind, entry, row.start, row.end)
        renamed[row.finding_id] = new
        changes.append({"old": row.finding_id, "new": new, "new_entry": entry, "new_evidence": evidence})
    where = findings.c.finding_id == bindparam("old")
    statement = (
        update(findings)
        .where(where)
        .values(finding_id=bindparam("new"), entry=bindparam("new_entry"), evidence=bindparam("new_evidence"))
    )
    # Old ids are keys of a hash, new ids never equal an old one: updating in any order is safe.
    for start in range(0, len(changes), 1000):
        conn.execute(statement, changes[start : start + 1000])
    pairs = [{"old": old, "new": new} for old, new in renamed.items() if old != new]
    for table in ("review_log", "appeals", "calibration_items", "calibration_verdicts"):
        t = _columns(md, table, "finding_id")
        moved = update(t).where(t.c.finding_id == bindparam("old")).values(finding_id=bindparam("new"))
        for start in range(0, len(pairs), 1000):
            conn.execute(moved, pairs[start : start + 1000])


# ------------------------------------------------------- natural keys, unique (0011)
# Issue 19: concurrent saves of one conversation could store its rows twice (PostgreSQL,
# before saves took the store's write lock). ``conversations`` is unique on its key since
# migration 4 (and now upserted on it); the tables of a conversation's rows get a unique
# index on their natural key too, so it can never happen again. Rows stored twice before are
# merged first: of each key the row of the newest run stays (one of them, when a run stored
# it twice: they are copies).

_NATURAL_KEYS: dict[str, tuple[str, ...]] = {
    "messages": ("shop", "conversation_id", "idx"),
    "findings": ("shop", "conversation_id", "finding_id"),
    "parts": ("shop", "conversation_id", "agent", "date"),
}


def _m0011_natural_keys(conn: Connection) -> None:
    from sqlalchemy import Index, and_, delete, func

    for name, key in _NATURAL_KEYS.items():
        md = MetaData()
        table = Table(name, md, autoload_with=conn)
        columns = [table.c[k] for k in key]
        twice = select(*columns).group_by(*columns).having(func.count() > 1)
        for values in conn.execute(twice).all():
            match = and_(*(c == v for c, v in zip(columns, values, strict=True)))
            rows = [dict(r._mapping) for r in conn.execute(select(table).where(match))]
            if "run_id" in table.c:
                rows.sort(key=lambda r: r["run_id"])
            conn.execute(delete(table).where(match))
            conn.execute(table.insert().values(**rows[-1]))
        Index(f"ux_{name}_key", *columns, unique=True).create(conn)


# ------------------------------------------------------- agents by shop (0012)
# Audit 73: a bare agent nick (小二) of two shops was one agent, scored in one row under the
# first shop. The readers now write a shop's bare nicks as 店铺名:nick and a shop's turns no agent
# holds as 店铺名:unassigned (qc.readers.roles.shop_account); the stored rows are renamed to
# match, or a month spanning the upgrade would show each such agent twice. Ids from an
# agent_id column are accounts as given and stay.


def _m0012_agents_by_shop(conn: Connection) -> None:
    from sqlalchemy import bindparam, update

    from qc.readers.roles import shop_account

    md = MetaData()
    messages = _columns(md, "messages", "shop", "conversation_id", "role", "sender", "agent_id")
    bare = (
        select(messages.c.shop, messages.c.conversation_id, messages.c.sender)
        .where(
            messages.c.shop != "",
            messages.c.role == "agent",
            messages.c.agent_id.is_(None),
            messages.c.sender.is_not(None),
            messages.c.sender.not_like("%:%"),
        )
        .distinct()
    )
    renames: dict[tuple[str, str], dict[str, str]] = {}
    for shop, cid, sender in conn.execute(bare).all():
        new = shop_account(sender, shop)
        if new != sender:
            renames.setdefault((shop, cid), {})[sender] = new
    changes = _rename_params(renames)
    where_sent = (
        (messages.c.shop == bindparam("b_shop"))
        & (messages.c.conversation_id == bindparam("b_cid"))
        & (messages.c.role == "agent")
        & messages.c.agent_id.is_(None)
        & (messages.c.sender == bindparam("b_old"))
    )
    _each(conn, update(messages).where(where_sent).values(sender=bindparam("b_new")), changes)
    # A shop's turns no agent holds: 店铺名:unassigned, in every conversation of the shop.
    findings = _columns(md, "findings", "shop", "conversation_id", "finding_id", "agent", "scored_agent")
    parts = Table("parts", md, autoload_with=conn)
    held = select(parts.c.shop, parts.c.conversation_id).where(
        parts.c.agent == UNASSIGNED, parts.c.shop != ""
    )
    charged = select(findings.c.shop, findings.c.conversation_id).where(
        findings.c.scored_agent == UNASSIGNED, findings.c.shop != ""
    )
    for shop, cid in conn.execute(held.union(charged)).all():
        renames.setdefault((shop, cid), {})[UNASSIGNED] = shop_account(UNASSIGNED, shop)
    _rename_agents(conn, renames)
    # A person bound to a bare nick follows it when one shop has it; of two, neither is guessed.
    people = _columns(md, "people", "id", "agent_id")
    accounts: dict[str, set[str]] = {}
    for names in renames.values():
        for old, new in names.items():
            if old != UNASSIGNED:
                accounts.setdefault(old, set()).add(new)
    for person in conn.execute(select(people).where(people.c.agent_id.is_not(None))).all():
        targets = accounts.get(person.agent_id, set())
        if len(targets) == 1:
            conn.execute(update(people).where(people.c.id == person.id).values(agent_id=targets.pop()))


# ------------------------------------------------------- nameless replies by shop (0013)
# Audit 79: an agent's reply that names nobody (a role column, no sender) counted under the
# shop-less agent "unknown", so two shops' nameless replies met in one row under the first
# shop. The readers now write it as the shop's account, 店铺名:unknown; the stored rows follow.

_NAMELESS = "unknown"  # frozen: the name a reply without a sender was stored under


def _m0013_nameless_by_shop(conn: Connection) -> None:
    from sqlalchemy import Boolean, Column, bindparam, or_, update

    from qc.readers.roles import shop_account

    md = MetaData()
    messages = Table(
        "messages",
        md,
        *(Column(name) for name in ("shop", "conversation_id", "role", "sender", "agent_id")),
        Column("auto_reply", Boolean),
    )
    nameless = (
        messages.c.shop != "",
        messages.c.role == "agent",
        messages.c.agent_id.is_(None),
        or_(messages.c.sender.is_(None), messages.c.sender == ""),
        messages.c.auto_reply.is_not(True),
    )
    found = select(messages.c.shop, messages.c.conversation_id).where(*nameless).distinct()
    renames = {
        (shop, cid): {_NAMELESS: shop_account(_NAMELESS, shop)} for shop, cid in conn.execute(found).all()
    }
    changes = [
        {"b_shop": shop, "b_cid": cid, "b_new": names[_NAMELESS]} for (shop, cid), names in renames.items()
    ]
    mine = (messages.c.shop == bindparam("b_shop")) & (messages.c.conversation_id == bindparam("b_cid"))
    _each(conn, update(messages).where(mine, *nameless).values(sender=bindparam("b_new")), changes)
    _rename_agents(conn, renames)
    # A person bound to the nameless agent follows it when one shop has nameless replies (as
    # migration 12 moves a bare nick's person); of two, neither is guessed.
    accounts = {names[_NAMELESS] for names in renames.values()}
    if len(accounts) == 1:
        people = _columns(MetaData(), "people", "id", "agent_id")
        conn.execute(update(people).where(people.c.agent_id == _NAMELESS).values(agent_id=accounts.pop()))


# ------------------------------------------------------- who an appeal is about (0014)
# Audits 16, 76 and 78: an appeal kept only ``agent``, the person's name when the agent opened
# it and the charged account when a supervisor did (migration 12 made some names accounts),
# and no conversation: once a re-inspection no longer found its finding, nobody could tell
# whose account it was about or mask its buyer's nick in its reason. Each appeal now keeps the
# account charged, who opened it and its shop and conversation. Old appeals get them from
# their finding and the audit trail; an appeal its agent opened names that person again.


def _m0014_appeal_parties(conn: Connection) -> None:
    from sqlalchemy import update

    for name, size in _APPEAL_PARTIES:
        _add_column(conn, "appeals", name, f"VARCHAR({size})")
    md = MetaData()
    appeals = _columns(md, "appeals", "id", "finding_id", "agent")
    findings = _columns(md, "findings", "finding_id", "shop", "conversation_id", "scored_agent")
    log = _columns(md, "review_log", "id", "appeal_id", "action", "actor")
    people = _columns(md, "people", "name", "role", "agent_id")
    found = {
        row.finding_id: row
        for row in conn.execute(
            select(findings).where(findings.c.finding_id.in_(select(appeals.c.finding_id)))
        )
    }
    opened = {
        row.appeal_id: row.actor
        for row in conn.execute(
            select(log.c.appeal_id, log.c.actor)
            .where(log.c.action == "appeal_open")
            .order_by(log.c.id.desc())
        )
    }
    persons = {row.name: row for row in conn.execute(select(people))}
    target = _columns(MetaData(), "appeals", "id", "agent", *(n for n, _ in _APPEAL_PARTIES))
    for row in conn.execute(select(appeals)).all():
        finding = found.get(row.finding_id)
        opener = opened.get(row.id)
        agent = (
            opener
            if opener is not None and getattr(persons.get(opener), "role", None) == "agent"
            else row.agent
        )
        person = persons.get(agent)
        if finding is not None:
            account = finding.scored_agent
        elif person is not None:
            account = person.agent_id
        else:
            account = agent  # a supervisor opened it without naming a person: the account
        values = {
            "agent": agent,
            "account": account,
            "opened_by": opener,
            "shop": finding.shop if finding is not None else None,
            "conversation_id": finding.conversation_id if finding is not None else None,
        }
        conn.execute(update(target).where(target.c.id == row.id).values(**values))


# ------------------------------------------------------- parked decisions (0015)
# Audit 82: a re-run whose copy of a decided message differs (an edited re-export) parks the
# message's decisions under ``ID~RUN`` when the id now names the edited message's finding, so
# they never pass to a message nobody reviewed. Inspecting the original export again brought the
# finding back as it was, undecided and charged (an overturned appeal too), the decisions still
# parked. What each parked decision was about is kept here, so the finding coming back as it was
# takes them back.


def _parked_table(md: MetaData) -> Table:
    """The table created by migration 0015 (frozen: later changes go in new migrations)."""
    return Table(
        "parked_decisions",
        md,
        Column("parked_id", String(64), primary_key=True, autoincrement=False),
        Column("finding_id", String(32), nullable=False, index=True),
        Column("shop", String(MAX_ACCOUNT_CHARS), nullable=False, default=""),
        Column("conversation_id", String(MAX_CONVERSATION_ID_CHARS), nullable=False),
        Column("about", Text, nullable=False),  # JSON: kind, entry, span, the message as written
        Column("run_id", Integer, nullable=False),
    )


PARKED_TABLE = _parked_table(METADATA)


def _m0015_parked_decisions(conn: Connection) -> None:
    md = MetaData()
    _parked_table(md).create(conn)


# ------------------------------------------------------- closing a calibration round (0016)
# Audit 80: ``closed_at`` was checked, never set: a round could not be closed. Closing is a
# supervisor's decision, kept with who and why.


def _m0016_round_closing(conn: Connection) -> None:
    for name, size in _ROUND_CLOSING:
        _add_column(conn, "calibration_rounds", name, f"VARCHAR({size})" if size else "TEXT")


def _rename_agents(conn: Connection, renames: dict[tuple[str, str], dict[str, str]]) -> None:
    """Rename agents in what a conversation led to: findings, parts, its agent list, summaries, appeals.

    ``renames`` maps (shop, conversation id) to {old name: new name}; the messages are the caller's.
    """
    from sqlalchemy import bindparam, update

    md = MetaData()
    findings = _columns(md, "findings", "shop", "conversation_id", "finding_id", "agent", "scored_agent")
    parts = Table("parts", md, autoload_with=conn)
    changes = _rename_params(renames)
    for column in ("agent", "scored_agent"):
        col = findings.c[column]
        where_found = (
            (findings.c.shop == bindparam("b_shop"))
            & (findings.c.conversation_id == bindparam("b_cid"))
            & (col == bindparam("b_old"))
        )
        _each(conn, update(findings).where(where_found).values({column: bindparam("b_new")}), changes)
    keys = list(renames)
    for start in range(0, len(keys), 200):
        chunk = keys[start : start + 200]
        for shop in {k[0] for k in chunk}:
            cids = [cid for s, cid in chunk if s == shop]
            _rename_parts(conn, parts, shop, cids, renames)
            _rename_conversation_agents(conn, shop, cids, renames)
            _rename_in_summaries(conn, shop, cids, renames)
    # An appeal names the agent its finding was charged to.
    appeals = _columns(md, "appeals", "id", "finding_id", "agent")
    appealed = select(appeals.c.id, appeals.c.agent, findings.c.shop, findings.c.conversation_id).join(
        findings, findings.c.finding_id == appeals.c.finding_id
    )
    moves = {
        row.id: moved_to
        for row in conn.execute(appealed).all()
        if (moved_to := renames.get((row.shop, row.conversation_id), {}).get(row.agent)) is not None
    }
    for appeal_id, moved_to in moves.items():
        conn.execute(update(appeals).where(appeals.c.id == appeal_id).values(agent=moved_to))


def _rename_params(renames: dict[tuple[str, str], dict[str, str]]) -> list[dict[str, Any]]:
    """The bound parameters of one rename per (shop, conversation, old name)."""
    return [
        {"b_shop": shop, "b_cid": cid, "b_old": old, "b_new": new}
        for (shop, cid), names in renames.items()
        for old, new in names.items()
    ]


def _each(conn: Connection, statement: Any, params: list[dict[str, Any]]) -> None:
    for start in range(0, len(params), 1000):
        conn.execute(statement, params[start : start + 1000])


# Counters of one conversation's part that say whether (0/1), not how many: merged by max.
_ONCE = frozenset({"conversations", "buyers_received", "buyers_replied"})


def _rename_parts(
    conn: Connection, parts: Table, shop: str, cids: list[str], renames: dict[tuple[str, str], dict[str, str]]
) -> None:
    """Rename the agents of these conversations' parts; two names of one account become one part."""
    from sqlalchemy import and_, delete

    where = and_(parts.c.shop == shop, parts.c.conversation_id.in_(cids))
    merged: dict[tuple[str, str, str], dict[str, Any]] = {}
    for found in conn.execute(select(parts).where(where)).all():
        part = dict(found._mapping)
        names = renames.get((shop, part["conversation_id"]), {})
        part["agent"] = names.get(part["agent"], part["agent"])
        key = (part["conversation_id"], part["agent"], part["date"])
        into = merged.setdefault(key, part)
        if into is part:
            continue
        for name, value in part.items():
            if name in ("shop", "conversation_id", "agent", "date"):
                continue
            into[name] = max(into[name], value) if name in _ONCE or name == "run_id" else into[name] + value
    conn.execute(delete(parts).where(where))
    if merged:
        conn.execute(parts.insert(), list(merged.values()))


def _rename_in_summaries(
    conn: Connection, shop: str, cids: list[str], renames: dict[tuple[str, str], dict[str, str]]
) -> None:
    """Rename the agent a missed buyer's summary names ("buyer received by 小二 on 2026-11-24 …")."""
    import json

    from sqlalchemy import update

    from qc.store.rows import json_text

    found = _columns(MetaData(), "findings", "shop", "conversation_id", "finding_id", "evidence")
    q = select(found).where(
        found.c.shop == shop, found.c.conversation_id.in_(cids), found.c.evidence.like("%received by %")
    )
    for row in conn.execute(q).all():
        evidence = json.loads(row.evidence)
        summary = str(evidence.get("summary") or "")
        for old, new in renames.get((shop, row.conversation_id), {}).items():
            summary = summary.replace(f"received by {old} on ", f"received by {new} on ")
        if summary != evidence.get("summary"):
            evidence["summary"] = summary
            where = (
                (found.c.shop == shop)
                & (found.c.conversation_id == row.conversation_id)
                & (found.c.finding_id == row.finding_id)
            )
            conn.execute(update(found).where(where).values(evidence=json_text(evidence)))


def _rename_conversation_agents(
    conn: Connection, shop: str, cids: list[str], renames: dict[tuple[str, str], dict[str, str]]
) -> None:
    """Rename the agents listed on these conversations' rows (first reply order kept, each once)."""
    import json

    from sqlalchemy import update

    convs = _columns(MetaData(), "conversations", "shop", "conversation_id", "agents")
    for found in conn.execute(
        select(convs).where(convs.c.shop == shop, convs.c.conversation_id.in_(cids))
    ).all():
        names = renames.get((shop, found.conversation_id), {})
        agents = json.loads(found.agents or "[]")
        new = list(dict.fromkeys(names.get(a, a) for a in agents))
        if new != agents:
            where = (convs.c.shop == shop) & (convs.c.conversation_id == found.conversation_id)
            conn.execute(update(convs).where(where).values(agents=json.dumps(new, ensure_ascii=False)))


# ------------------------------------------------------------ a person's accounts (0017)
# Audit 86 M4: a person was bound to one account (``people.agent_id``), but a lead or agent who
# chats in two shops has two (店a:老张 and 店b:老张): they reviewed their own findings under the
# second one, and could appeal none of them. ``person_accounts`` holds every account a person is
# bound to, with who bound it and when; migration 17 copies each ``people.agent_id`` into it, and
# from then on ``people.agent_id`` is neither read nor written (an older qc refuses the store).


def _accounts_table(md: MetaData) -> Table:
    """The table created by migration 0017 (frozen: later changes go in new migrations)."""
    from sqlalchemy import UniqueConstraint

    return Table(
        "person_accounts",
        md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("person_id", Integer, nullable=False, index=True),
        Column("account", String(200), nullable=False),
        Column("bound_at", String(40), nullable=False),
        Column("bound_by", String(200), nullable=False, default=""),
        UniqueConstraint("person_id", "account", name="ux_person_accounts_once"),
    )


ACCOUNTS_TABLE = _accounts_table(METADATA)


def _m0017_person_accounts(conn: Connection) -> None:
    md = MetaData()
    table = _accounts_table(md)
    table.create(conn)
    people = _columns(md, "people", "id", "agent_id", "added_at", "added_by")
    rows = [
        {"person_id": p.id, "account": p.agent_id, "bound_at": p.added_at, "bound_by": p.added_by or ""}
        for p in conn.execute(select(people).where(people.c.agent_id.is_not(None))).all()
        if p.agent_id
    ]
    if rows:
        conn.execute(table.insert(), rows)


def _m0018_fingerprints(conn: Connection) -> None:
    """A fingerprint of each conversation named after its file, to tell the same export filed twice.

    Conversations stored before it have none: they are not compared until saved again.
    """
    from sqlalchemy import Index

    _add_column(conn, "conversations", "fingerprint", "VARCHAR(40)")
    convs = _columns(MetaData(), "conversations", "shop", "fingerprint")
    Index("ix_conversations_shop_fingerprint", convs.c.shop, convs.c.fingerprint).create(conn)


def _m0019_first_run(conn: Connection) -> None:
    """The run that first stored each conversation, kept when later runs read it again.

    ``qc store forget --run N`` takes off what run N brought in, not what it read again of an
    earlier run (a chat it continued past midnight, moved to another day or re-read): those
    earlier runs' messages went with it, and their files did not bring them back (audit 141 M1).
    A conversation stored before it counts as its last run's own.
    """
    _add_column(conn, "conversations", "first_run_id", "INTEGER")
    conn.execute(text("UPDATE conversations SET first_run_id = run_id"))


def _m0020_review_log_states_as_text(conn: Connection) -> None:
    """A decision log's before and after as text of any length, as SQLite always kept them.

    ``qc store forget`` writes what it took (``5 messages, 1 findings on 2026-11-24, 2026-11-25``):
    past 40 characters PostgreSQL refused the whole forget, every chat across midnight among
    them (audit 148 M1).
    """
    if conn.dialect.name == "postgresql":
        conn.execute(
            text(
                "ALTER TABLE review_log ALTER COLUMN state_before TYPE TEXT,"
                " ALTER COLUMN state_after TYPE TEXT"
            )
        )


# Append-only: (number, name, function). Never edit or reorder a published migration.
MIGRATIONS: tuple[tuple[int, str, Callable[[Connection], None]], ...] = (
    (1, "0001_initial", _m0001_initial),
    (2, "0002_shop_date_indexes", _m0002_day_indexes),
    (3, "0003_review_appeal_messages", _m0003_review_appeal_messages),
    (4, "0004_conversations_by_id", _m0004_conversations_by_id),
    (5, "0005_parts", _m0005_parts),
    (6, "0006_evidence_and_basis", _m0006_evidence_and_basis),
    (7, "0007_people", _m0007_people),
    (8, "0008_workbench", _m0008_workbench),
    (9, "0009_search_index", _m0009_search_index),
    (10, "0010_finding_identity", _m0010_finding_identity),
    (11, "0011_natural_keys", _m0011_natural_keys),
    (12, "0012_agents_by_shop", _m0012_agents_by_shop),
    (13, "0013_nameless_by_shop", _m0013_nameless_by_shop),
    (14, "0014_appeal_parties", _m0014_appeal_parties),
    (15, "0015_parked_decisions", _m0015_parked_decisions),
    (16, "0016_round_closing", _m0016_round_closing),
    (17, "0017_person_accounts", _m0017_person_accounts),
    (18, "0018_fingerprints", _m0018_fingerprints),
    (19, "0019_first_run", _m0019_first_run),
    (20, "0020_review_log_states_as_text", _m0020_review_log_states_as_text),
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


def _refuse_another_programs(engine: Engine, where: str) -> None:
    """Refuse a database that holds tables but no qc schema: another program's (a CRM, a shop system).

    Migrating it wrote qc's tables beside that program's, from any command (``qc flagged`` too),
    and failed half-way where a name was taken (messages). A new store is an empty database, or
    one another qc is creating (its ``schema_migrations`` exists first).
    """
    # One look: qc creates schema_migrations before any other table, so a list without it holds
    # no qc table (two looks raced another qc creating the store: it had made it in between).
    names = sorted(inspect(engine).get_table_names())
    if names and "schema_migrations" not in names:
        listed = ", ".join(names[:5]) + (" …" if len(names) > 5 else "")
        raise StoreError(
            f"{where} is not a qc store: it holds another program's tables ({listed}) and no qc schema;"
            " nothing was written. Give --db a qc store, or a new file or database"
        )


def _check_known(done: list[tuple[int, str]], where: str) -> None:
    """Refuse a database whose migrations this qc does not know (newer, or another program's)."""
    known = {number: name for number, name, _ in MIGRATIONS}
    newest = MIGRATIONS[-1][0]
    for number, name in done:
        if number > newest:
            raise StoreError(
                f"store {where} has schema version {number} ({name}),"
                f" newer than this qc (up to {newest}); upgrade qc to use it"
            )
        if known.get(number) != name:
            ours = repr(known[number]) if number in known else "unknown"
            raise StoreError(
                f"store {where}: migration {number} is {name!r} in the database but {ours} in this qc;"
                " it was written by a different program: give --db a store qc made, or a new file"
            )


def migrate(engine: Engine, wait: float = 30.0) -> list[str]:
    """Apply the missing migrations in order, one transaction each; returns the names applied.

    Any number of qc processes may open one store at once: a store already up to date is
    only read; otherwise the steps run under the store's migration lock (PostgreSQL) and each
    in a write transaction (:func:`~qc.store.engine.write_transaction`) that checks again
    whether another process applied it meanwhile, so every step runs exactly once. ``wait``
    bounds each lock wait (seconds).

    Raises:
        StoreError: the database has migrations this qc does not know (newer schema), or
            records a different migration under a known number.
    """
    where = engine.url.render_as_string(hide_password=True)
    done = applied_migrations(engine)
    if not done:
        _refuse_another_programs(engine, where)
    _check_known(done, where)
    if len(done) == len(MIGRATIONS):
        return []
    applied = []
    with migration_lock(engine, wait):
        with write_transaction(engine, wait, exclusive=True) as conn:
            MIGRATIONS_TABLE.create(conn, checkfirst=True)
        for number, name, step in MIGRATIONS:
            with write_transaction(engine, wait, exclusive=True) as conn:
                have = conn.execute(
                    select(MIGRATIONS_TABLE.c.version).where(MIGRATIONS_TABLE.c.version == number)
                ).first()
                if have is not None:
                    continue
                step(conn)
                conn.execute(MIGRATIONS_TABLE.insert().values(version=number, name=name, applied_at=_now()))
            applied.append(name)
        _check_known(applied_migrations(engine), where)
    return applied
