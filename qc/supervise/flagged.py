"""Flagged conversations from the store, worst first, with the points they put at stake.

"Points at stake" come from the scorecard itself (:func:`qc.scoring.card.message_verdicts`): each
message is charged once, for its verdict, plus any kind outside ``verdict_order`` that has
points of its own. Findings rejected in review are marked before scoring, so they no longer
count; a conversation with only suppressed or below-threshold findings is not flagged.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from qc.schema import Conversation, Finding
from qc.scoring.card import load_scorecard, mark_rejected, message_verdicts
from qc.store.database import Store
from qc.supervise.review import rejected_ids

__all__ = [
    "finding_points",
    "message_points",
    "points_at_stake",
    "FlaggedConversation",
    "flagged_conversations",
]


def points_at_stake(
    conversations: Iterable[Conversation], findings: Iterable[Finding], card: Any
) -> tuple[dict[str, float], dict[tuple[str, int], float]]:
    """``(finding_points, message_points)`` from one pass over the message verdicts.

    A finding carries the points of the verdict it stands behind, or of its kind when the card
    charges that kind on its own; a message costs its verdict once plus those kinds. Findings
    behind the same verdict each carry its whole points: the message is charged once
    whichever of them stands.
    """
    by_finding: dict[str, float] = {}
    by_message: dict[tuple[str, int], float] = {}
    findings = list(findings)
    item_points = [item.points for item in card.items if item.rule == "findings"]
    for v in message_verdicts(conversations, findings, card):
        total = 0.0
        for points in item_points:
            if v.verdict is not None:
                total += points.get(v.verdict, 0.0)
                for fid in v.verdict_findings:
                    by_finding[fid] = by_finding.get(fid, 0.0) + points.get(v.verdict, 0.0)
            for kind, ids in v.kinds.items():
                if kind not in card.verdict_order:
                    total += points.get(kind, 0.0)
                    for fid in ids:
                        by_finding[fid] = by_finding.get(fid, 0.0) + points.get(kind, 0.0)
        by_message[(v.conversation_id, v.message_index)] = total
    return {f.id: round(by_finding.get(f.id, 0.0), 6) + 0.0 for f in findings}, by_message


def finding_points(
    conversations: Iterable[Conversation], findings: Iterable[Finding], card: Any
) -> dict[str, float]:
    """Points (negative) each finding puts at stake under the card; 0 when it cannot cost points."""
    return points_at_stake(conversations, findings, card)[0]


def message_points(
    conversations: Iterable[Conversation], findings: Iterable[Finding], card: Any
) -> dict[tuple[str, int], float]:
    """Points (negative) each message with findings costs under the card, by ``(conversation, index)``."""
    return points_at_stake(conversations, findings, card)[1]


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

    ``min_points`` is a magnitude: 5 keeps conversations that cost at least 5 points.
    """
    card = card or load_scorecard()
    stored = store.findings(date_from=date_from, date_to=date_to, agent=agent)
    if not stored:
        return []
    conv_ids = sorted({s.finding.conversation_id for s in stored})
    convs = store.conversations(conv_ids)
    rejected = rejected_ids(store)
    findings = mark_rejected([s.finding for s in stored], rejected)
    where = {s.finding.id: s for s in stored}
    msg_points = message_points([convs[c] for c in conv_ids if c in convs], findings, card)
    out: dict[str, FlaggedConversation] = {}
    for f in findings:
        s = where[f.id]
        fc = out.setdefault(
            f.conversation_id,
            FlaggedConversation(f.conversation_id, s.date, s.shop, [], 0.0, 0),
        )
        if f.id in rejected:
            fc.rejected += 1
        if not f.live:
            continue
        fc.findings += 1
        fc.kinds[f.kind] = fc.kinds.get(f.kind, 0) + 1
        fc.finding_ids.append(f.id)
        if f.agent and f.agent not in fc.agents:
            fc.agents.append(f.agent)
        if not fc.excerpt:
            fc.excerpt = f.text
    for (cid, _index), pts in msg_points.items():
        if cid in out:
            out[cid].points = round(out[cid].points + pts, 6)
    rows = [
        fc
        for fc in out.values()
        if fc.points < 0 and -fc.points >= min_points and (kind is None or kind in fc.kinds)
    ]
    rows.sort(key=lambda fc: (fc.points, -fc.findings, fc.date, fc.conversation_id))
    return rows
