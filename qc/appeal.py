"""Appeals (申诉): an agent disputes a finding, QA answers, a supervisor rules.

States: ``open`` (the agent's reason) → ``answered`` (QA's reply) → ``upheld`` or
``overturned`` (final). Overturned means the finding is rejected, so it stops costing points;
upheld confirms it. Every step is appended to the store's ``review_log`` (state before and
after, who, when, why); the ruling also records the finding decision it implies. Any other
transition is refused with :class:`~qc.review.ReviewError` (exit 2) saying what is allowed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select, update

from qc.review import ReviewError, _actor, _log, decide, now, stored_finding

__all__ = [
    "OPEN",
    "ANSWERED",
    "UPHELD",
    "OVERTURNED",
    "FINAL",
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


def _table() -> Any:
    from qc.store import REVIEW_TABLES

    return REVIEW_TABLES["appeals"]


def _from_row(r: Any) -> Appeal:
    return Appeal(
        r.id,
        r.finding_id,
        r.agent,
        r.reason,
        r.state,
        r.opened_at,
        r.answer,
        r.answered_by,
        r.ruling,
        r.ruled_by,
    )


def get_appeal(engine: Engine, appeal_id: int) -> Appeal:
    """One appeal by number.

    Raises:
        ReviewError: no such appeal.
    """
    t = _table()
    with engine.connect() as conn:
        row = conn.execute(select(t).where(t.c.id == appeal_id)).first()
    if row is None:
        raise ReviewError(f"no appeal #{appeal_id}; list them with `qc appeal list`")
    return _from_row(row)


def list_appeals(engine: Engine, state: str | None = None) -> list[Appeal]:
    """Every appeal (or those in one state), oldest first."""
    t = _table()
    q = select(t).order_by(t.c.id)
    if state:
        q = q.where(t.c.state == state)
    with engine.connect() as conn:
        return [_from_row(r) for r in conn.execute(q)]


def open_appeal(engine: Engine, finding_id: str, *, agent: str, reason: str) -> Appeal:
    """Open an appeal by an agent against a stored finding.

    Raises:
        ReviewError: unknown finding, no agent or reason, or the finding already has an appeal
            that is not final, or was already overturned.
    """
    who = _actor(agent)
    if not reason.strip():
        raise ReviewError("--reason is required: say why the finding is wrong")
    stored_finding(engine, finding_id)
    for a in list_appeals(engine):
        if a.finding_id != finding_id:
            continue
        if a.state not in FINAL:
            raise ReviewError(
                f"finding {finding_id} already has appeal #{a.id} ({a.state}); "
                + _HINT[a.state].format(id=a.id)
            )
        if a.state == OVERTURNED:
            raise ReviewError(
                f"finding {finding_id} was already overturned by appeal #{a.id}; nothing to appeal"
            )
    t = _table()
    with engine.begin() as conn:
        appeal_id = conn.execute(
            t.insert().values(finding_id=finding_id, agent=who, reason=reason, state=OPEN, opened_at=now())
        ).inserted_primary_key[0]
        _log(
            conn,
            finding_id=finding_id,
            action="appeal_open",
            actor=who,
            note=reason,
            before="none",
            after=OPEN,
            appeal_id=appeal_id,
        )
    return get_appeal(engine, int(appeal_id))


def _check(appeal: Appeal, step: str) -> None:
    if appeal.state not in _ALLOWED[step]:
        raise ReviewError(
            f"appeal #{appeal.id} is {appeal.state}, cannot {step} it; "
            + _HINT[appeal.state].format(id=appeal.id)
        )


def answer_appeal(engine: Engine, appeal_id: int, *, by: str, note: str) -> Appeal:
    """QA answers an open appeal.

    Raises:
        ReviewError: unknown appeal, no name or answer, or the appeal is not open.
    """
    who = _actor(by)
    if not note.strip():
        raise ReviewError("--note is required: the answer the agent will read")
    appeal = get_appeal(engine, appeal_id)
    _check(appeal, "answer")
    t = _table()
    with engine.begin() as conn:
        conn.execute(
            update(t)
            .where(t.c.id == appeal_id, t.c.state == OPEN)
            .values(state=ANSWERED, answer=note, answered_by=who, answered_at=now())
        )
        _log(
            conn,
            finding_id=appeal.finding_id,
            action="appeal_answer",
            actor=who,
            note=note,
            before=OPEN,
            after=ANSWERED,
            appeal_id=appeal_id,
        )
    return get_appeal(engine, appeal_id)


def rule_appeal(engine: Engine, appeal_id: int, *, overturn: bool, by: str, note: str = "") -> Appeal:
    """Rule an answered appeal final: overturned (finding rejected) or upheld (confirmed).

    Raises:
        ReviewError: unknown appeal, no name, or the appeal is not answered yet / already final.
    """
    who = _actor(by)
    appeal = get_appeal(engine, appeal_id)
    _check(appeal, "rule")
    final = OVERTURNED if overturn else UPHELD
    t = _table()
    with engine.begin() as conn:
        conn.execute(
            update(t)
            .where(t.c.id == appeal_id, t.c.state == ANSWERED)
            .values(state=final, ruling=note, ruled_by=who, ruled_at=now())
        )
        _log(
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
        engine,
        appeal.finding_id,
        "reject" if overturn else "confirm",
        by=who,
        note=note or f"appeal #{appeal_id} {final}",
        source=f"appeal #{appeal_id}",
        appeal_id=appeal_id,
    )
    return get_appeal(engine, appeal_id)
