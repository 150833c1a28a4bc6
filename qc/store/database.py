"""The store API: one object for every query and write of the results store.

``qc inspect --db out/qc.sqlite`` (or ``--db postgresql+psycopg://user@host/db``) saves each
run here; every supervision command and the workbench read and write through :class:`Store`,
never through the tables directly. Every run is recorded in ``runs`` with the qc version,
scorecard hash, lexicon and model versions and the read/accepted/rejected counts. The results
(``conversations``, ``findings``, ``deductions``, ``agent_days``) carry the ``shop`` and ``date``
they belong to; saving a run first deletes every result row of the (shop, date) pairs the run
covers, then inserts, in one transaction. The ``runs`` table keeps every run as an audit log;
``review_log`` is append-only. The store knows no workflow: states and actions are strings the
supervision layer gives it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import chain
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, delete, select, update
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

from qc.schema import Conversation, Deduction, Evidence, Finding, Message, Role
from qc.scoring.metrics import DayRule, conversation_metrics, message_days
from qc.store.tables import (
    RESULT_TABLES,
    REVIEW_TABLES,
    TABLES,
    StoreError,
    database_url,
    migrate,
)

__all__ = ["Store", "StoreError", "StoredFinding", "open_store"]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _shop(value: str | None) -> str:
    return value or ""


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _finding_from_row(row: Any) -> Finding:
    return Finding(
        conversation_id=row.conversation_id,
        message_index=row.message_index,
        kind=row.kind,
        score=row.score,
        evidence=Evidence.from_json(json.loads(row.evidence)),
        agent=row.agent,
        text=row.text,
        start=row.start,
        end=row.end,
        suppressed=bool(row.suppressed),
        needs_review=bool(row.needs_review),
    )


def _day_of(days: Sequence[str], index: int) -> str:
    return days[index] if 0 <= index < len(days) else "undated"


def _conversation_date(c: Conversation, day: DayRule) -> str:
    """The date a conversation row is filed under: that of its first timestamped message."""
    return conversation_metrics(c, day).date


def _conversation_row(c: Conversation, day: DayRule) -> dict[str, Any]:
    m = conversation_metrics(c, day)
    return dict(
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


def _finding_row(f: Finding, conv: Conversation | None, days: Sequence[str]) -> dict[str, Any]:
    return dict(
        shop=_shop(conv.shop if conv else None),
        date=_day_of(days, f.message_index),
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


def _agent_and_deduction_rows(
    agents: Iterable[dict[str, Any]], deductions: Iterable[Deduction]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
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
    return agent_rows, deduction_rows


@dataclass(frozen=True, slots=True)
class StoredFinding:
    """A finding as stored, with where it belongs (shop, date)."""

    finding: Finding
    shop: str
    date: str

    @property
    def id(self) -> str:
        """The finding's stable id."""
        return self.finding.id


class Store:
    """An open, migrated store: queries and writes. Close it (or use ``with``) when done."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @property
    def url(self) -> str:
        """The database URL, password hidden (for messages)."""
        return self.engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        """Release the connection pool."""
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A connection inside one transaction: everything written through it commits or none of it."""
        with self.engine.begin() as conn:
            yield conn

    # ------------------------------------------------------------------ runs and results

    def save_run(
        self,
        *,
        run: dict[str, Any],
        conversations: Sequence[Conversation],
        findings: Iterable[Finding],
        deductions: Iterable[Deduction],
        agents: Iterable[dict[str, Any]],
        day: DayRule | None = None,
    ) -> int:
        """Save one run: record it in ``runs`` and replace the results of the days it covers.

        The (shop, date) pairs covered are those of every result row of the run. All of it runs
        in one transaction: a failure leaves the store as it was. Returns the new run id.
        """
        day = day or DayRule()
        convs = {c.id: c for c in conversations}
        days_of = {c.id: message_days(c, day) for c in conversations}
        conv_rows = [_conversation_row(c, day) for c in conversations]
        finding_rows = [
            _finding_row(f, convs.get(f.conversation_id), days_of.get(f.conversation_id, []))
            for f in findings
        ]
        agent_rows, deduction_rows = _agent_and_deduction_rows(agents, deductions)
        by_table = {
            "conversations": conv_rows,
            "findings": finding_rows,
            "deductions": deduction_rows,
            "agent_days": agent_rows,
        }
        covered = sorted({(r["shop"], r["date"]) for rows in by_table.values() for r in rows})
        with self.engine.begin() as conn:
            run_id = self._insert_run(conn, run, covered, len(conv_rows), len(finding_rows))
            for name in RESULT_TABLES:
                table = TABLES[name]
                for shop, date in covered:
                    conn.execute(delete(table).where(table.c.shop == shop, table.c.date == date))
                rows = by_table[name]
                if rows:
                    conn.execute(table.insert(), [{**r, "run_id": run_id} for r in rows])
            self._save_messages(conn, conversations, days_of)
        return int(run_id)

    def save_run_streamed(
        self,
        *,
        run: dict[str, Any],
        results: Callable[[], Iterable[tuple[Conversation, Sequence[Finding]]]],
        deductions: Iterable[Deduction],
        agents: Iterable[dict[str, Any]],
        day: DayRule | None = None,
        chunk: int = 1000,
    ) -> int:
        """:meth:`save_run` for a run too big to hold: its conversations and findings read twice, in chunks.

        ``results()`` yields every conversation of the run with its findings; it is called
        twice, once to find the (shop, date) pairs covered and once to insert (``chunk``
        conversations at a time), inside one transaction as :meth:`save_run`. The store then
        holds what :meth:`save_run` would have saved from the same run.
        """
        day = day or DayRule()
        agent_rows, deduction_rows = _agent_and_deduction_rows(agents, deductions)
        covered_set = {(r["shop"], r["date"]) for rows in (agent_rows, deduction_rows) for r in rows}
        conversations = findings = 0
        for c, found in results():
            days = message_days(c, day)
            covered_set.add((_shop(c.shop), _conversation_date(c, day)))
            covered_set.update((_shop(c.shop), _day_of(days, f.message_index)) for f in found)
            conversations += 1
            findings += len(found)
        covered = sorted(covered_set)
        with self.engine.begin() as conn:
            run_id = self._insert_run(conn, run, covered, conversations, findings)
            for name in RESULT_TABLES:
                table = TABLES[name]
                for shop, date in covered:
                    conn.execute(delete(table).where(table.c.shop == shop, table.c.date == date))
            for name, rows in (("deductions", deduction_rows), ("agent_days", agent_rows)):
                if rows:
                    conn.execute(TABLES[name].insert(), [{**r, "run_id": run_id} for r in rows])
            batch: list[tuple[Conversation, Sequence[Finding]]] = []
            for pair in chain(results(), [None]):
                if pair is not None:
                    batch.append(pair)
                if batch and (pair is None or len(batch) >= chunk):
                    self._insert_results(conn, run_id, batch, day)
                    batch = []
        return int(run_id)

    def _insert_results(
        self, conn: Connection, run_id: int, batch: list[tuple[Conversation, Sequence[Finding]]], day: DayRule
    ) -> None:
        """One chunk of a streamed run: its conversations, findings and messages."""
        days_of = {c.id: message_days(c, day) for c, _ in batch}
        conv_rows = [{**_conversation_row(c, day), "run_id": run_id} for c, _ in batch]
        finding_rows = [
            {**_finding_row(f, c, days_of[c.id]), "run_id": run_id} for c, found in batch for f in found
        ]
        conn.execute(TABLES["conversations"].insert(), conv_rows)
        if finding_rows:
            conn.execute(TABLES["findings"].insert(), finding_rows)
        self._save_messages(conn, [c for c, _ in batch], days_of)

    def _insert_run(
        self,
        conn: Connection,
        run: dict[str, Any],
        covered: list[tuple[str, str]],
        conversations: int,
        findings: int,
    ) -> int:
        """The run's row in ``runs`` (the audit log); returns its id."""
        counts = run.get("counts", {})
        scorecard = run.get("scorecard") or {}
        inserted = conn.execute(
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
                conversation_count=conversations,
                finding_count=findings,
                inputs=_json([f.get("path") for f in run.get("files", [])]),
                days=_json([{"shop": s, "date": d} for s, d in covered]),
                run_json=_json(run),
            )
        ).inserted_primary_key
        assert inserted is not None
        return int(inserted[0])

    def conversation_ids(self, date_from: str, date_to: str) -> set[str]:
        """Ids of the stored conversations dated within ``date_from`` … ``date_to``."""
        t = TABLES["conversations"]
        q = select(t.c.conversation_id).where(t.c.date.between(date_from, date_to))
        with self.engine.connect() as conn:
            return {r.conversation_id for r in conn.execute(q)}

    def conversation_agents(self, date: str | None = None) -> list[tuple[str, str, list[str]]]:
        """``(conversation id, date, agents)`` of every stored conversation (of one date)."""
        t = TABLES["conversations"]
        q = select(t.c.conversation_id, t.c.date, t.c.agents)
        if date:
            q = q.where(t.c.date == date)
        with self.engine.connect() as conn:
            return [(cid, day, json.loads(agents or "[]")) for cid, day, agents in conn.execute(q)]

    def findings(
        self,
        *,
        date_from: str | None = None,
        date_to: str | None = None,
        conversation_ids: Collection[str] | None = None,
        finding_ids: Collection[str] | None = None,
        agent: str | None = None,
        kind: str | None = None,
    ) -> list[StoredFinding]:
        """Stored findings, filtered; in date, conversation and message order."""
        t = TABLES["findings"]
        q = select(t)
        if date_from:
            q = q.where(t.c.date >= date_from)
        if date_to:
            q = q.where(t.c.date <= date_to)
        if conversation_ids is not None:
            q = q.where(t.c.conversation_id.in_(list(conversation_ids)))
        if finding_ids is not None:
            q = q.where(t.c.finding_id.in_(list(finding_ids)))
        if agent:
            q = q.where(t.c.agent == agent)
        if kind:
            q = q.where(t.c.kind == kind)
        q = q.order_by(t.c.date, t.c.conversation_id, t.c.message_index, t.c.start)
        with self.engine.connect() as conn:
            return [StoredFinding(_finding_from_row(r), r.shop, r.date) for r in conn.execute(q)]

    def finding(self, finding_id: str) -> StoredFinding | None:
        """One stored finding by id (the latest stored copy), or ``None``."""
        found = self.findings(finding_ids=[finding_id])
        return found[-1] if found else None

    def conversations(self, conversation_ids: Collection[str]) -> dict[str, Conversation]:
        """Stored conversations rebuilt with their messages, by id (ids with no messages are absent)."""
        t = REVIEW_TABLES["messages"]
        ids = list(dict.fromkeys(conversation_ids))
        rows_by: dict[str, list[Any]] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(ids), 500):
                q = select(t).where(t.c.conversation_id.in_(ids[start : start + 500])).order_by(t.c.idx)
                for r in conn.execute(q):
                    rows_by.setdefault(r.conversation_id, []).append(r)
        out = {}
        for cid, rows in rows_by.items():
            messages = tuple(
                Message(
                    index=r.idx,
                    role=Role(r.role),
                    text=r.text,
                    sender=r.sender,
                    sent_at=datetime.fromisoformat(r.sent_at) if r.sent_at else None,
                    auto_reply=bool(r.auto_reply),
                    agent_id=r.agent_id,
                    source=r.source,
                )
                for r in rows
            )
            out[cid] = Conversation(
                id=cid, messages=messages, shop=rows[0].shop or None, source=rows[0].conversation_source
            )
        return out

    # ------------------------------------------------------------------ the audit log

    def append_log(
        self,
        conn: Connection,
        *,
        finding_id: str,
        action: str,
        actor: str,
        note: str,
        before: str,
        after: str,
        appeal_id: int | None = None,
        source: str = "cli",
    ) -> None:
        """Append one audit row inside the caller's transaction (:meth:`transaction`)."""
        conn.execute(
            REVIEW_TABLES["review_log"]
            .insert()
            .values(
                at=_now(),
                finding_id=finding_id,
                action=action,
                actor=actor,
                note=note,
                state_before=before,
                state_after=after,
                appeal_id=appeal_id,
                source=source,
            )
        )

    def latest_states(
        self, actions: Collection[str], finding_ids: Collection[str] | None = None
    ) -> dict[str, str]:
        """Each finding's ``state_after`` of its latest audit row whose action is one of ``actions``."""
        log = REVIEW_TABLES["review_log"]
        query = select(log.c.finding_id, log.c.state_after).where(log.c.action.in_(tuple(actions)))
        if finding_ids is not None:
            query = query.where(log.c.finding_id.in_(list(finding_ids)))
        states: dict[str, str] = {}
        with self.engine.connect() as conn:
            for fid, state in conn.execute(query.order_by(log.c.id)):
                states[fid] = state
        return states

    def audit_trail(self, finding_id: str | None = None) -> list[dict[str, Any]]:
        """Every audit row, oldest first; of one finding or all."""
        log = REVIEW_TABLES["review_log"]
        q = select(log).order_by(log.c.id)
        if finding_id is not None:
            q = q.where(log.c.finding_id == finding_id)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]

    # ------------------------------------------------------------------ appeals

    def appeal_row(self, appeal_id: int) -> dict[str, Any] | None:
        """One appeal's row by number, or ``None``."""
        t = REVIEW_TABLES["appeals"]
        with self.engine.connect() as conn:
            row = conn.execute(select(t).where(t.c.id == appeal_id)).first()
        return dict(row._mapping) if row is not None else None

    def appeal_rows(self, state: str | None = None, finding_id: str | None = None) -> list[dict[str, Any]]:
        """Appeal rows (of one state, of one finding), oldest first."""
        t = REVIEW_TABLES["appeals"]
        q = select(t).order_by(t.c.id)
        if state:
            q = q.where(t.c.state == state)
        if finding_id is not None:
            q = q.where(t.c.finding_id == finding_id)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]

    def insert_appeal(self, conn: Connection, **values: Any) -> int:
        """Add an appeal inside the caller's transaction; returns its number."""
        t = REVIEW_TABLES["appeals"]
        inserted = conn.execute(t.insert().values(**values)).inserted_primary_key
        assert inserted is not None
        return int(inserted[0])

    def update_appeal(self, conn: Connection, appeal_id: int, expect_state: str, **values: Any) -> int:
        """Change an appeal that is still in ``expect_state``; returns the rows changed (0 or 1)."""
        t = REVIEW_TABLES["appeals"]
        result = conn.execute(
            update(t).where(t.c.id == appeal_id, t.c.state == expect_state).values(**values)
        )
        return int(result.rowcount)

    def _save_messages(
        self, conn: Connection, conversations: Sequence[Conversation], days_of: Mapping[str, Sequence[str]]
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


def open_store(target: str | Path) -> Store:
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
    return Store(engine)
