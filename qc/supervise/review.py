"""Review decisions (复核) on stored findings, the audit trail, and re-scoring with them.

A QA reviewer confirms or rejects a finding by its stable id (:attr:`qc.schema.Finding.id`).
Every decision is appended to the store's ``review_log`` with who, when, why and the state
before and after; nothing is ever updated or deleted there. A finding's current state is the
latest decision (``pending`` when there is none). A rejected finding stops costing points: the
scorer sees it as suppressed (:func:`mark_rejected`), in ``qc export``, ``qc report`` and when
the same day is inspected again (finding ids are stable across runs, so a decision stays
attached when the same finding comes back). :func:`export_scores` writes the agents files of
any stored day or period (:func:`qc.batch.stored.score_stored`, the one scoring path).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from qc.batch.stored import score_stored
from qc.errors import EXIT_USAGE, QcError
from qc.outputs.writers import write_score_outputs
from qc.schema import Deduction
from qc.scoring.card import (
    CONFIRMED,
    DECISIONS,
    REJECTED,
    REJECTED_CUE,
    Scorecard,
    load_scorecard,
    mark_rejected,
)
from qc.scoring.periods import Period, Windows, parse_period
from qc.scoring.scores import agent_columns
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
    "mark_rejected",
    "PeriodScores",
    "score_period",
    "export_scores",
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
class PeriodScores:
    """A stored day or period scored with the review decisions applied.

    ``rows`` and ``deductions`` are the window's (pooled when it is a period); ``daily_rows``
    and ``daily_deductions`` the daily view of its days (the same as ``rows`` for a day).
    """

    period: Period
    rows: list[dict[str, Any]]
    deductions: list[Deduction]
    daily_rows: list[dict[str, Any]]
    daily_deductions: list[Deduction]
    rejected: set[str]


def score_period(store: Store, period: Period, card: Scorecard | None = None) -> PeriodScores:
    """Score a stored day, week, month or range from the store, decisions applied.

    Raises:
        ReviewError: nothing is stored for the period.
        ConfigError: the period's conversations were saved with another day rule or other
            evidence limits than the card's.
    """
    card = card or load_scorecard()
    daily = score_stored(store, card, period.first, period.last)
    if not daily.scores.rows:
        raise ReviewError(f"nothing stored for {period.label}: inspect those days with --db first")
    if period.kind == "day":
        pooled = daily
    else:
        pooled = score_stored(store, card, period.first, period.last, Windows.only(period))
    return PeriodScores(
        period=period,
        rows=pooled.scores.rows,
        deductions=pooled.scores.deductions,
        daily_rows=daily.scores.rows,
        daily_deductions=daily.scores.deductions,
        rejected=daily.rejected,
    )


def export_scores(store: Store, period: Period, out_dir: Path, card: Scorecard | None = None) -> PeriodScores:
    """Write the agents files of a stored day or period, decisions applied.

    agents.csv/.xlsx/.json and deductions.jsonl hold the period's rows (one per agent, pooled);
    for a week, month or range, agents_daily.* and deductions_daily.jsonl hold the daily view.
    """
    card = card or load_scorecard()
    result = score_period(store, period, card)
    out_dir.mkdir(parents=True, exist_ok=True)
    columns = agent_columns(card)
    write_score_outputs(out_dir, result.deductions, result.rows, columns)
    if period.kind != "day":
        write_score_outputs(out_dir, result.daily_deductions, result.daily_rows, columns, daily=True)
    return result


def export_day(store: Store, date: str, out_dir: Path, card: Scorecard | None = None) -> PeriodScores:
    """Write agents.csv/.xlsx/.json and deductions.jsonl of a stored day, decisions applied."""
    return export_scores(store, parse_period(date), out_dir, card)
