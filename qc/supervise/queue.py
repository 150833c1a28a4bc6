"""The review queue (复核队列): what a reviewer works through, in order.

First the findings held for review (``needs_review``: the model was not sure enough to charge
them), oldest day first; then the findings of a reproducible spot-check sample (随机抽查,
:func:`qc.supervise.sampling.draw_sample` with its seed and size per agent), in the sample's
order. Only findings still waiting for a decision are served: a finding decided (by anyone),
ruled final in an appeal, or charged to the reviewer's own account is passed over, so two
reviewers working the same queue never decide the same finding twice.

Building the queue scores the period (the points at stake of each item) and draws the sample:
callers keep the built queue and ask :func:`next_pending` for the next item, which reads only
the few findings it looks at.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace

from qc.batch.stored import score_stored
from qc.scoring.card import DECISIONS, Scorecard, cost_if_confirmed
from qc.scoring.periods import Windows, range_period
from qc.store.database import Store
from qc.supervise.people import Person
from qc.supervise.review import CLOSED_ALONG, ruled_along
from qc.supervise.sampling import draw_sample
from qc.supervise.states import ANSWERED, FINAL, OPEN

__all__ = ["HELD", "SAMPLE", "QueueItem", "build_queue", "next_pending"]

HELD = "held"  # needs_review findings
SAMPLE = "sample"  # findings of the spot-check sample


@dataclass(frozen=True, slots=True)
class QueueItem:
    """One finding in the queue, why it is there and what it puts at stake."""

    finding_id: str
    conversation_id: str
    agent: str
    date: str
    section: str
    points: float
    # A held finding costs nothing until confirmed: what confirming it would charge.
    if_confirmed: float = 0.0


def build_queue(
    store: Store, card: Scorecard, date_from: str, date_to: str, *, per_agent: int = 5, seed: int = 0
) -> list[QueueItem]:
    """Every queue item of the range, held findings first, then the spot-check sample's.

    The sample is drawn per day of the range (the day :func:`draw_sample` takes), so the same
    store, range, seed and size always give the same queue.
    """
    scored = score_stored(store, card, date_from, date_to, Windows.only(range_period(date_from, date_to)))
    points, _ = scored.stakes(card)
    # What each message's verdict already costs: a held finding whose message a phrase charges as
    # much costs nothing more once confirmed, and the queue said 确认后扣 −5 (audit 165 M2).
    verdict_now: dict[tuple[str, int], float] = {}
    parts = scored.parts(card)
    for s in scored.findings:
        for key, amount in parts.get(s.id, ()):
            if ":verdict:" in key:
                where = (s.finding.conversation_id, s.finding.message_index)
                verdict_now[where] = min(verdict_now.get(where, 0.0), amount)
    held: list[QueueItem] = []
    by_conversation: dict[str, list[QueueItem]] = {}
    for s in scored.findings:
        f = s.finding
        if f.id in scored.states:
            continue
        item = QueueItem(f.id, f.conversation_id, s.scored_agent, s.date, HELD, points.get(f.id, 0.0))
        if f.needs_review and not f.suppressed:
            now = verdict_now.get((f.conversation_id, f.message_index), 0.0)
            held.append(replace(item, if_confirmed=min(0.0, cost_if_confirmed(f, card) - now)))
        elif f.live:
            by_conversation.setdefault(f.conversation_id, []).append(
                QueueItem(f.id, f.conversation_id, s.scored_agent, s.date, SAMPLE, item.points)
            )
    sampled: list[QueueItem] = []
    queued: set[str] = set()
    days = sorted({s.date for s in scored.findings})
    for day in days:
        for row in draw_sample(store, per_agent, seed, date=day, card=card):
            # A conversation two agents shared is drawn for each: each takes its own findings.
            for i in by_conversation.get(row.conversation_id, ()):
                if i.agent == row.agent and i.finding_id not in queued:
                    queued.add(i.finding_id)
                    sampled.append(i)
    return held + sampled


def next_pending(
    store: Store, queue: list[QueueItem], person: Person, skipped: Collection[str] = ()
) -> tuple[QueueItem | None, int]:
    """The first item still waiting for ``person`` (``None`` when none is) and how many wait in all.

    Passed over: decided findings, findings whose appeal was ruled final or is pending (its
    ruling decides them, and a review is refused), findings held on a reply an overturn cleared
    with its message (closed with that ruling), findings charged to the person's own account,
    and those the person skipped in this session.
    """
    candidates = [i for i in queue if i.finding_id not in skipped and not person.charged_with(i.agent)]
    if not candidates:
        return None, 0
    decided = store.latest_states(tuple(DECISIONS))
    latest = {row["finding_id"]: row["state"] for row in store.appeal_rows()}  # in order: the last wins
    appealed = {
        fid
        for fid, state in latest.items()
        if state in (OPEN, ANSWERED) or (state in FINAL and fid not in decided)
    }
    asked = {i.finding_id for i in candidates}
    closed = {
        fid
        for fid in store.latest_states((CLOSED_ALONG,))
        if fid in asked and ruled_along(store, fid) is not None
    }
    waiting = [
        i
        for i in candidates
        if i.finding_id not in decided and i.finding_id not in appealed and i.finding_id not in closed
    ]
    return (waiting[0] if waiting else None), len(waiting)
