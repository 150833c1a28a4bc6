"""Flagged conversations from the store, worst first, with the points they put at stake.

"Points at stake" come from the one scoring function (:func:`qc.batch.stored.score_stored`) on
the range asked for, scored as one window (a single day is that day's view): each message is
charged once, for its verdict, plus any kind outside ``verdict_order`` that has points of its
own; and every evidence finding (a slow reply, a buyer left unanswered) carries its share of
the metric item it backs, in proportion to its seconds over the limit. So the response-time
points of an agent's day are listed conversation by conversation. Findings rejected in review
no longer count; a conversation whose findings cost nothing is not flagged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from qc.batch.stored import score_stored
from qc.scoring.card import load_scorecard
from qc.scoring.periods import Windows, range_period
from qc.store.database import Store

__all__ = [
    "FlaggedConversation",
    "flagged_conversations",
]


@dataclass(slots=True)
class FlaggedConversation:
    """One flagged conversation and why."""

    conversation_id: str
    date: str
    shop: str
    agents: list[str]
    points: float
    findings: int
    kinds: dict[str, int] = field(default_factory=dict)
    rejected: int = 0
    excerpt: str = ""
    finding_ids: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """A JSON-safe dict."""
        return {k: getattr(self, k) for k in self.__slots__}


def flagged_conversations(
    store: Store,
    *,
    agent: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    kind: str | None = None,
    min_points: float = 0.0,
    card: Any = None,
) -> list[FlaggedConversation]:
    """Conversations with findings that cost points, worst (most points) first.

    The range (every stored day when none is given) is scored as one window. ``min_points``
    is a magnitude: 5 keeps conversations that cost at least 5 points.
    """
    card = card or load_scorecard()
    span = store.day_range()
    if span is None:
        return []
    lo, hi = date_from or span[0], date_to or span[1]
    if lo > hi:
        return []
    scored = score_stored(store, card, lo, hi, Windows.only(range_period(lo, hi)))
    _, msg_points = scored.stakes(card)
    out: dict[str, FlaggedConversation] = {}
    messages: dict[str, set[int]] = {}
    for s in scored.findings:
        if agent and s.scored_agent != agent:
            continue
        f = s.finding
        fc = out.setdefault(
            f.conversation_id, FlaggedConversation(f.conversation_id, s.date, s.shop, [], 0.0, 0)
        )
        messages.setdefault(f.conversation_id, set()).add(f.message_index)
        if f.id in scored.rejected:
            fc.rejected += 1
        if not f.live:
            continue
        fc.findings += 1
        fc.kinds[f.kind] = fc.kinds.get(f.kind, 0) + 1
        fc.finding_ids.append(f.id)
        who = f.agent or s.scored_agent
        if who and who not in fc.agents:
            fc.agents.append(who)
        if not fc.excerpt:
            fc.excerpt = f.text
    for cid, fc in out.items():
        fc.points = round(sum(msg_points.get((cid, i), 0.0) for i in messages[cid]), 2) + 0.0
    rows = [
        fc
        for fc in out.values()
        if fc.points < 0 and -fc.points >= min_points and (kind is None or kind in fc.kinds)
    ]
    rows.sort(key=lambda fc: (fc.points, -fc.findings, fc.date, fc.conversation_id))
    return rows
