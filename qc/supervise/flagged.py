"""Flagged conversations from the store, worst first, with the points they put at stake.

"Points at stake" come from the scorecard itself (:func:`qc.scoring.card.message_verdicts`): each
message is charged once, for its verdict, plus any kind outside ``verdict_order`` that has
points of its own. Findings rejected in review are marked before scoring, so they no longer
count; a conversation with only suppressed or below-threshold findings is not flagged.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from qc.schema import Conversation, Finding
from qc.scoring.card import KIND_LABELS, counted_kind, load_scorecard, mark_rejected, message_verdicts
from qc.store.database import Store
from qc.supervise.review import rejected_ids

__all__ = [
    "finding_points",
    "free_reasons",
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


def _label(kind: str) -> str:
    return f"{KIND_LABELS[kind]} {kind}" if kind in KIND_LABELS else kind


def free_reasons(
    conversations: Iterable[Conversation],
    findings: Iterable[Finding],
    card: Any,
    rejected: Collection[str] = (),
) -> dict[str, str]:
    """Why each finding that puts no points at stake costs nothing (Chinese, with the English key).

    The review sheet shows it beside the points so QA sees at once that a row is a rejected,
    vetoed, held-back or already-charged finding rather than a missing deduction. Findings that
    do cost points are absent. ``findings`` are as stored (:func:`mark_rejected` is applied
    here with ``rejected``).
    """
    conversations = list(conversations)
    marked = mark_rejected(list(findings), rejected)
    points = finding_points(conversations, marked, card)
    verdict_of = {
        (v.conversation_id, v.message_index): v.verdict for v in message_verdicts(conversations, marked, card)
    }
    item_points = [item.points for item in card.items if item.rule == "findings"]
    reasons: dict[str, str] = {}
    for f in marked:
        if points.get(f.id, 0.0) != 0.0:
            continue
        threshold = card.threshold(f.kind)
        verdict = counted_kind(f, card)
        charged = verdict_of.get((f.conversation_id, f.message_index))
        if f.id in rejected:
            reason = "已驳回，不再扣分 (rejected in review)"
        elif f.suppressed:
            cue = f"：{f.cue}" if f.cue else ""
            reason = f"上下文已排除{cue} (suppressed by context, never charged)"
        elif f.kind in card.review_only:
            reason = f"{_label(f.kind)} 只进复核队列，不直接扣分 (review_only in the scorecard)"
        elif f.needs_review:
            reason = "待复核：把握不足，确认前不扣分 (needs review)"
        elif f.score < threshold:
            reason = f"置信度 {f.score:.2f} 低于扣分线 {threshold:g} (below min_score)"
        elif verdict is None:
            reason = f"{_label(f.kind)} 本身不扣分，也未指向扣分类别 (the scorecard gives it no points)"
        elif charged is not None and charged != verdict:
            reason = f"同一条消息已按 {_label(charged)} 扣分，一条消息只扣一次 (one message, one charge)"
        elif not any(p.get(verdict, 0.0) for p in item_points):
            reason = f"评分卡给 {_label(verdict)} 0 分 (0 points in the scorecard)"
        else:
            reason = "不扣分 (no points at stake)"
        reasons[f.id] = reason
    return reasons


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
