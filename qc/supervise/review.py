"""Review decisions (复核) on stored findings, the audit trail, and re-scoring with them.

A QA reviewer confirms or rejects a finding by its stable id (:attr:`qc.schema.Finding.id`).
Every decision is appended to the store's ``review_log`` with who, when, why and the state
before and after; nothing is ever updated or deleted there. A finding's current state is the
latest decision (``pending`` when there is none). A rejected finding stops costing points: the
scorer sees it as suppressed (:func:`mark_rejected`), both in ``qc export`` and when the same
day is inspected again (finding ids are stable across runs).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from qc.errors import EXIT_USAGE, QcError
from qc.outputs.writers import write_score_outputs
from qc.schema import Conversation, Deduction, Finding
from qc.scoring.card import (
    CONFIRMED,
    DECISIONS,
    REJECTED,
    REJECTED_CUE,
    agent_columns,
    agent_rows,
    load_scorecard,
    mark_rejected,
    score,
)
from qc.scoring.metrics import agent_day_metrics
from qc.store.database import Store, StoredFinding

__all__ = [
    "ReviewError",
    "DECISIONS",
    "PENDING",
    "CONFIRMED",
    "REJECTED",
    "REJECTED_CUE",
    "actor_name",
    "finding_states",
    "rejected_ids",
    "stored_finding",
    "decide",
    "audit_trail",
    "DayScore",
    "rescore",
    "export_day",
]

PENDING = "pending"


def now() -> str:
    """The current UTC time, as decisions and appeals record it."""
    return datetime.now(UTC).isoformat(timespec="seconds")


class ReviewError(QcError):
    """A review or appeal request that cannot be carried out (unknown id, invalid transition)."""

    exit_code = EXIT_USAGE


def finding_states(store: Store, finding_ids: Collection[str] | None = None) -> dict[str, str]:
    """Current review state of every reviewed finding (latest decision wins)."""
    return store.latest_states(tuple(DECISIONS), finding_ids)


def rejected_ids(store: Store) -> set[str]:
    """Ids of the findings whose current review state is rejected."""
    return {fid for fid, state in finding_states(store).items() if state == REJECTED}


def stored_finding(store: Store, finding_id: str) -> StoredFinding:
    """One stored finding by id.

    Raises:
        ReviewError: no finding with this id in the store.
    """
    found = store.finding(finding_id)
    if found is None:
        raise ReviewError(
            f"no finding {finding_id!r} in the store; list ids with `qc flagged` or `qc review export`"
        )
    return found


def actor_name(by: str) -> str:
    """The name of who decides, stripped; required.

    Raises:
        ReviewError: no name given.
    """
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
    store: Store,
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
    actor = actor_name(by)
    stored_finding(store, finding_id)
    before = finding_states(store, [finding_id]).get(finding_id, PENDING)
    after = DECISIONS[decision]
    with store.transaction() as conn:
        store.append_log(
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


def audit_trail(store: Store, finding_id: str | None = None) -> list[dict[str, Any]]:
    """Every audit row (decisions and appeal steps), oldest first; one finding or all."""
    return store.audit_trail(finding_id)


@dataclass(slots=True)
class DayScore:
    """A stored date range re-scored with the review decisions applied."""

    conversations: list[Conversation]
    findings: list[Finding]
    deductions: list[Deduction]
    rows: list[dict[str, Any]]
    rejected: set[str]


def rescore(store: Store, date_from: str, date_to: str | None = None, card: Any = None) -> DayScore:
    """Re-score stored days with the current decisions (same scorer as ``qc inspect``).

    Conversations touching the range are rebuilt from the stored messages; deductions and
    agent rows outside the range (a conversation crossing midnight) are left out.
    """
    card = card or load_scorecard()
    date_to = date_to or date_from
    ids = store.conversation_ids(date_from, date_to)
    found = store.findings(date_from=date_from, date_to=date_to)
    ids |= {s.finding.conversation_id for s in found}
    convs = store.conversations(ids)
    missing = ids - set(convs)
    if missing:
        raise ReviewError(
            f"{len(missing)} conversations of {date_from}…{date_to} have no stored messages"
            " (saved by an older qc): inspect the day again with --db to re-score it"
        )
    conversations = [convs[i] for i in sorted(convs)]
    all_findings = [s.finding for s in store.findings(conversation_ids=list(convs))]
    rejected = rejected_ids(store)
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


def export_day(store: Store, date: str, out_dir: Path, card: Any = None) -> DayScore:
    """Write agents.csv/.xlsx/.json and deductions.jsonl of a stored day, decisions applied."""
    card = card or load_scorecard()
    result = rescore(store, date, date, card)
    if not result.conversations:
        raise ReviewError(f"nothing stored for {date}: inspect that day with --db first")
    out_dir.mkdir(parents=True, exist_ok=True)
    write_score_outputs(out_dir, result.deductions, result.rows, agent_columns(card))
    return result
