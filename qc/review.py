"""Review decisions (复核) on stored findings, the audit trail, and re-scoring with them.

A QA reviewer confirms or rejects a finding by its stable id (:attr:`qc.schema.Finding.id`).
Every decision is appended to the store's ``review_log`` with who, when, why and the state
before and after; nothing is ever updated or deleted there. A finding's current state is the
latest decision (``pending`` when there is none). A rejected finding stops costing points: the
scorer sees it as suppressed (:func:`mark_rejected`), both in ``qc export`` and when the same
day is inspected again (finding ids are stable across runs).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from qc.errors import EXIT_USAGE, QcError
from qc.schema import Conversation, Deduction, Evidence, Finding, Message, Role

__all__ = [
    "ReviewError",
    "DECISIONS",
    "PENDING",
    "CONFIRMED",
    "REJECTED",
    "REJECTED_CUE",
    "mark_rejected",
    "finding_states",
    "rejected_ids",
    "stored_findings",
    "stored_finding",
    "load_conversations",
    "decide",
    "audit_trail",
    "DayScore",
    "rescore",
    "export_day",
]

PENDING = "pending"
CONFIRMED = "confirmed"
REJECTED = "rejected"
# decision word (CLI, CSV) → the state it leads to
DECISIONS = {"confirm": CONFIRMED, "reject": REJECTED}
REJECTED_CUE = "rejected in review"


class ReviewError(QcError):
    """A review or appeal request that cannot be carried out (unknown id, invalid transition)."""

    exit_code = EXIT_USAGE


def now() -> str:
    """The current UTC time as stored in the audit trail."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def mark_rejected(findings: Iterable[Finding], rejected: Collection[str]) -> list[Finding]:
    """Findings with the rejected ones turned into suppressed findings (pure).

    The scorer never charges a suppressed finding, so this is how a review verdict reaches
    the scorecard without a second scoring path. The id does not change (it does not depend
    on ``suppressed`` or the cues), so decisions keep applying on every re-run.
    """
    out = []
    for f in findings:
        if f.id in rejected and not f.suppressed:
            ev = f.evidence
            details = {**ev.details, "review": REJECTED}
            f = replace(
                f, suppressed=True, evidence=replace(ev, cues=(REJECTED_CUE, *ev.cues), details=details)
            )
        out.append(f)
    return out


def finding_states(engine: Engine, finding_ids: Collection[str] | None = None) -> dict[str, str]:
    """Current review state of every reviewed finding (latest decision wins)."""
    from qc.store import REVIEW_TABLES

    log = REVIEW_TABLES["review_log"]
    query = select(log.c.finding_id, log.c.state_after).where(log.c.action.in_(tuple(DECISIONS)))
    if finding_ids is not None:
        query = query.where(log.c.finding_id.in_(list(finding_ids)))
    states: dict[str, str] = {}
    with engine.connect() as conn:
        for fid, state in conn.execute(query.order_by(log.c.id)):
            states[fid] = state
    return states


def rejected_ids(engine: Engine) -> set[str]:
    """Ids of the findings whose current review state is rejected."""
    return {fid for fid, state in finding_states(engine).items() if state == REJECTED}


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


def stored_findings(
    engine: Engine,
    *,
    date_from: str | None = None,
    date_to: str | None = None,
    conversation_ids: Collection[str] | None = None,
    finding_ids: Collection[str] | None = None,
    agent: str | None = None,
    kind: str | None = None,
) -> list[StoredFinding]:
    """Findings from the store, filtered; in date, conversation and message order."""
    from qc.store import TABLES

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
    with engine.connect() as conn:
        return [StoredFinding(_finding_from_row(r), r.shop, r.date) for r in conn.execute(q)]


def stored_finding(engine: Engine, finding_id: str) -> StoredFinding:
    """One stored finding by id.

    Raises:
        ReviewError: no finding with this id in the store.
    """
    found = stored_findings(engine, finding_ids=[finding_id])
    if not found:
        raise ReviewError(
            f"no finding {finding_id!r} in the store; list ids with `qc flagged` or `qc review export`"
        )
    return found[-1]


def load_conversations(engine: Engine, conversation_ids: Collection[str]) -> dict[str, Conversation]:
    """Rebuild stored conversations (with their messages) by id."""
    from qc.store import REVIEW_TABLES

    t = REVIEW_TABLES["messages"]
    ids = list(dict.fromkeys(conversation_ids))
    rows_by: dict[str, list[Any]] = {}
    with engine.connect() as conn:
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


def _log(
    conn: Any,
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
    from qc.store import REVIEW_TABLES

    conn.execute(
        REVIEW_TABLES["review_log"]
        .insert()
        .values(
            at=now(),
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


def _actor(by: str) -> str:
    name = (by or "").strip()
    if not name:
        raise ReviewError("--by is required: name the reviewer, e.g. --by 张主管")
    return name


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of one review decision."""

    finding_id: str
    before: str
    after: str


def decide(
    engine: Engine,
    finding_id: str,
    decision: str,
    *,
    by: str,
    note: str = "",
    source: str = "cli",
    appeal_id: int | None = None,
) -> Decision:
    """Record a confirm/reject decision on a stored finding; returns the state change.

    Raises:
        ReviewError: unknown finding, unknown decision word or no reviewer name.
    """
    if decision not in DECISIONS:
        raise ReviewError(f"decision {decision!r} is unknown: use {' or '.join(DECISIONS)}")
    actor = _actor(by)
    stored_finding(engine, finding_id)
    before = finding_states(engine, [finding_id]).get(finding_id, PENDING)
    after = DECISIONS[decision]
    with engine.begin() as conn:
        _log(
            conn,
            finding_id=finding_id,
            action=decision,
            actor=actor,
            note=note,
            before=before,
            after=after,
            appeal_id=appeal_id,
            source=source,
        )
    return Decision(finding_id, before, after)


def audit_trail(engine: Engine, finding_id: str | None = None) -> list[dict[str, Any]]:
    """Every audit row (decisions and appeal steps), oldest first; one finding or all."""
    from qc.store import REVIEW_TABLES

    log = REVIEW_TABLES["review_log"]
    q = select(log).order_by(log.c.id)
    if finding_id is not None:
        q = q.where(log.c.finding_id == finding_id)
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(q)]


@dataclass(slots=True)
class DayScore:
    """A stored date range re-scored with the review decisions applied."""

    conversations: list[Conversation]
    findings: list[Finding]
    deductions: list[Deduction]
    rows: list[dict[str, Any]]
    rejected: set[str]


def rescore(engine: Engine, date_from: str, date_to: str | None = None, card: Any = None) -> DayScore:
    """Re-score stored days with the current decisions (same scorer as ``qc inspect``).

    Conversations touching the range are rebuilt from the stored messages; deductions and
    agent rows outside the range (a conversation crossing midnight) are left out.
    """
    from qc.metrics import agent_day_metrics
    from qc.scorecard import agent_rows, load_scorecard, score
    from qc.store import TABLES

    card = card or load_scorecard()
    date_to = date_to or date_from
    t = TABLES["conversations"]
    with engine.connect() as conn:
        ids = {
            r.conversation_id
            for r in conn.execute(select(t.c.conversation_id).where(t.c.date.between(date_from, date_to)))
        }
    found = stored_findings(engine, date_from=date_from, date_to=date_to)
    ids |= {s.finding.conversation_id for s in found}
    convs = load_conversations(engine, ids)
    missing = ids - set(convs)
    if missing:
        raise ReviewError(
            f"{len(missing)} conversations of {date_from}…{date_to} have no stored messages"
            " (saved by an older qc): inspect the day again with --db to re-score it"
        )
    conversations = [convs[i] for i in sorted(convs)]
    all_findings = [s.finding for s in stored_findings(engine, conversation_ids=list(convs))]
    rejected = rejected_ids(engine)
    findings = mark_rejected(all_findings, rejected)
    metrics = agent_day_metrics(conversations, card.day)
    deductions = score(conversations, findings, metrics, card)
    rows = agent_rows(conversations, findings, metrics, deductions, card)

    def inside(day: str) -> bool:
        return date_from <= day <= date_to

    return DayScore(
        conversations=conversations,
        findings=findings,
        deductions=[d for d in deductions if inside(d.date)],
        rows=[r for r in rows if inside(r["date"])],
        rejected=rejected,
    )


def export_day(engine: Engine, date: str, out_dir: Path, card: Any = None) -> DayScore:
    """Write agents.csv/.xlsx/.json and deductions.jsonl of a stored day, decisions applied."""
    from qc.scorecard import agent_columns, load_scorecard
    from qc.writers import write_score_outputs

    card = card or load_scorecard()
    result = rescore(engine, date, date, card)
    if not result.conversations:
        raise ReviewError(f"nothing stored for {date}: inspect that day with --db first")
    out_dir.mkdir(parents=True, exist_ok=True)
    write_score_outputs(out_dir, result.deductions, result.rows, agent_columns(card))
    return result
