"""Appeals (申诉): an agent disputes a finding, QA answers, a supervisor rules.

States: ``open`` (the agent's reason) → ``answered`` (QA's reply) → ``upheld`` or
``overturned`` (final). Overturned means the finding is rejected, so it stops costing points;
upheld confirms it. Every step is appended to the store's ``review_log`` (state before and
after, who, when, why); the ruling also records the finding decision it implies. Any other
transition is refused with :class:`~qc.supervise.review.ReviewError` (exit 2) saying what is allowed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from qc.store.database import Store
from qc.supervise.review import ReviewError, actor_name, decide, now, stored_finding

__all__ = [
    "OPEN",
    "ANSWERED",
    "UPHELD",
    "OVERTURNED",
    "FINAL",
    "STATES",
    "Appeal",
    "open_appeal",
    "answer_appeal",
    "rule_appeal",
    "get_appeal",
    "list_appeals",
]

OPEN = "open"
ANSWERED = "answered"
UPHELD = "upheld"
OVERTURNED = "overturned"
FINAL = (UPHELD, OVERTURNED)
STATES = (OPEN, ANSWERED, UPHELD, OVERTURNED)
# step → the states it may start from
_ALLOWED = {"answer": (OPEN,), "rule": (ANSWERED,)}
_HINT = {
    OPEN: "answer it first: qc appeal answer {id} --by NAME --note TEXT",
    ANSWERED: "rule it: qc appeal rule {id} --uphold|--overturn --by NAME",
    UPHELD: "it is final (upheld)",
    OVERTURNED: "it is final (overturned)",
}


@dataclass(frozen=True, slots=True)
class Appeal:
    """An appeal's current state (its history is in the audit trail)."""

    id: int
    finding_id: str
    agent: str
    reason: str
    state: str
    opened_at: str
    answer: str | None = None
    answered_by: str | None = None
    ruling: str | None = None
    ruled_by: str | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-safe dict."""
        return {k: getattr(self, k) for k in self.__slots__}


def _from_row(r: dict[str, Any]) -> Appeal:
    return Appeal(
        r["id"],
        r["finding_id"],
        r["agent"],
        r["reason"],
        r["state"],
        r["opened_at"],
        r["answer"],
        r["answered_by"],
        r["ruling"],
        r["ruled_by"],
    )


def get_appeal(store: Store, appeal_id: int) -> Appeal:
    """One appeal by number.

    Raises:
        ReviewError: no such appeal.
    """
    row = store.appeal_row(appeal_id)
    if row is None:
        raise ReviewError(f"no appeal #{appeal_id}; list them with `qc appeal list`")
    return _from_row(row)


def list_appeals(store: Store, state: str | None = None) -> list[Appeal]:
    """Every appeal (or those in one state), oldest first."""
    return [_from_row(r) for r in store.appeal_rows(state)]


def open_appeal(store: Store, finding_id: str, *, agent: str, reason: str) -> Appeal:
    """Open an appeal by an agent against a stored finding.

    Raises:
        ReviewError: unknown finding, no agent or reason, or the finding already has an appeal
            that is not final, or was already overturned.
    """
    who = actor_name(agent)
    if not reason.strip():
        raise ReviewError("--reason is required: say why the finding is wrong")
    stored_finding(store, finding_id)
    for a in map(_from_row, store.appeal_rows(finding_id=finding_id)):
        if a.state not in FINAL:
            raise ReviewError(
                f"finding {finding_id} already has appeal #{a.id} ({a.state}); "
                + _HINT[a.state].format(id=a.id)
            )
        if a.state == OVERTURNED:
            raise ReviewError(
                f"finding {finding_id} was already overturned by appeal #{a.id}; nothing to appeal"
            )
    with store.transaction() as conn:
        appeal_id = store.insert_appeal(
            conn, finding_id=finding_id, agent=who, reason=reason, state=OPEN, opened_at=now()
        )
        store.append_log(
            conn,
            finding_id=finding_id,
            action="appeal_open",
            actor=who,
            note=reason,
            before="none",
            after=OPEN,
            appeal_id=appeal_id,
        )
    return get_appeal(store, appeal_id)


def _check(appeal: Appeal, step: str) -> None:
    if appeal.state not in _ALLOWED[step]:
        raise ReviewError(
            f"appeal #{appeal.id} is {appeal.state}, cannot {step} it; "
            + _HINT[appeal.state].format(id=appeal.id)
        )


def answer_appeal(store: Store, appeal_id: int, *, by: str, note: str) -> Appeal:
    """QA answers an open appeal.

    Raises:
        ReviewError: unknown appeal, no name or answer, or the appeal is not open.
    """
    who = actor_name(by)
    if not note.strip():
        raise ReviewError("--note is required: the answer the agent will read")
    appeal = get_appeal(store, appeal_id)
    _check(appeal, "answer")
    with store.transaction() as conn:
        store.update_appeal(
            conn, appeal_id, OPEN, state=ANSWERED, answer=note, answered_by=who, answered_at=now()
        )
        store.append_log(
            conn,
            finding_id=appeal.finding_id,
            action="appeal_answer",
            actor=who,
            note=note,
            before=OPEN,
            after=ANSWERED,
            appeal_id=appeal_id,
        )
    return get_appeal(store, appeal_id)


def rule_appeal(store: Store, appeal_id: int, *, overturn: bool, by: str, note: str = "") -> Appeal:
    """Rule an answered appeal final: overturned (finding rejected) or upheld (confirmed).

    Raises:
        ReviewError: unknown appeal, no name, or the appeal is not answered yet / already final.
    """
    who = actor_name(by)
    appeal = get_appeal(store, appeal_id)
    _check(appeal, "rule")
    final = OVERTURNED if overturn else UPHELD
    with store.transaction() as conn:
        store.update_appeal(conn, appeal_id, ANSWERED, state=final, ruling=note, ruled_by=who, ruled_at=now())
        store.append_log(
            conn,
            finding_id=appeal.finding_id,
            action="appeal_rule",
            actor=who,
            note=note,
            before=ANSWERED,
            after=final,
            appeal_id=appeal_id,
        )
    decide(
        store,
        appeal.finding_id,
        "reject" if overturn else "confirm",
        by=who,
        note=note or f"appeal #{appeal_id} {final}",
        source=f"appeal #{appeal_id}",
        appeal_id=appeal_id,
    )
    return get_appeal(store, appeal_id)
