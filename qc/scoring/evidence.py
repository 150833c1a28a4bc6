"""Evidence for the metric items: slow replies and buyers left without a reply, as findings.

A response-time deduction is an average, but a QA lead has to see what it is made of. For each
metric item whose card entry names an ``evidence`` kind, :func:`timing_findings` makes one
finding per event behind it, with the limit taken from the item itself:

* ``avg_response_s`` (平均响应时间): every reply that came later than the item's threshold after
  the buyer turn it answers. The finding sits on the reply; its evidence names the buyer turn,
  the reply, the delay and the seconds over the limit (its weight when the item's points are
  shared out, :func:`qc.scoring.scores.finding_stakes`).
* ``first_response_s`` (首次响应): the conversation's first reply, when it came later than that.
* ``reply_rate`` (回复率): a buyer an agent received on a day and never answered that day. The
  finding sits on the first buyer message the agent left unanswered.

These findings never take part in a message's verdict (:func:`qc.scoring.card.verdicts_of`
leaves them out), so they cannot change what the attitude rules decided. They are pure
functions of the conversation and the card, so every engine makes the same ones.
"""

from __future__ import annotations

from collections.abc import Sequence

from qc.schema import Conversation, Evidence, Finding
from qc.scoring.card import Item, Scorecard
from qc.scoring.metrics import US, Turn, conversation_turns, message_days, turn_to_the_minute

__all__ = ["EVIDENCE_RULES", "timing_findings", "evidence_weight"]

# The versioned rule name behind each kind of evidence, by the metric it backs.
EVIDENCE_RULES = {
    "avg_response_s": "response_time.v1",
    "first_response_s": "first_response.v1",
    "reply_rate": "reply_rate.v1",
}


def _fmt(seconds: float) -> str:
    # Tenths, unless that shows a real excess as 0 (0.004 s over the limit still costs its share).
    places = 1 if abs(seconds) >= 0.05 or seconds == 0 else 3
    return f"{seconds:.{places}f}".rstrip("0").rstrip(".")


class _Limit:
    """A slow-reply item's limit, read and written once per conversation instead of once per turn."""

    __slots__ = ("item", "kind", "rule", "seconds", "us", "text", "what")

    def __init__(self, item: Item, kind: str, what: str) -> None:
        _, limit = item.measure()
        self.item, self.kind, self.what = item, kind, what
        self.rule = EVIDENCE_RULES[item.metric or ""]
        self.seconds, self.us, self.text = limit, round(limit * US), _fmt(limit)


def _slow(conversation: Conversation, turn: Turn, limit: _Limit) -> Finding | None:
    delay_us = turn.delay_us
    if turn.reply_index is None or delay_us is None or delay_us <= limit.us:
        return None
    item = limit.item
    delay = delay_us / US
    over = (delay_us - limit.us) / US
    details = {
        "item": item.id,
        "buyer_index": turn.first_index,
        "reply_index": turn.reply_index,
        "delay_us": delay_us,
        "delay_s": delay,
        "limit_s": limit.seconds,
        "over_s": over,
    }
    if turn_to_the_minute(conversation.messages, turn.first_index, turn.reply_index):
        # Timed at its least (9:01 → 9:11 is at least 541 s): the reasons say so.
        details["to_the_minute"] = True
        # Both times on a whole minute: written so, or one reply in 3,600 that lands there (audit 139 L1).
        when = f"at least {_fmt(delay)} s after the buyer's message {turn.first_index} (both times fall on"
        when += " a whole minute, read as written to the minute, so up to 59 s of the gap may not be there)"
    else:
        when = f"{_fmt(delay)} s after the buyer's message {turn.first_index}"
    return Finding(
        conversation_id=conversation.id,
        message_index=turn.reply_index,
        kind=limit.kind,
        score=1.0,
        evidence=Evidence(
            rule=limit.rule,
            summary=f"{limit.what} {when}: {_fmt(over)} s over the {limit.text} s limit of {item.label}",
            pattern=item.id,
            details=details,
        ),
        agent=turn.agent,
        text=conversation.messages[turn.reply_index].text,
    )


def _missed(conversation: Conversation, turns: Sequence[Turn], kind: str, item: Item) -> list[Finding]:
    by_agent_day: dict[tuple[str, str], list[Turn]] = {}
    for t in turns:
        if not t.closing:  # a last 好的谢谢 awaits no reply
            by_agent_day.setdefault((t.agent, t.date), []).append(t)
    out = []
    for (agent, day), group in by_agent_day.items():
        if any(t.replied for t in group):
            continue
        first = group[0]
        buyer = conversation.messages[first.first_index]
        out.append(
            Finding(
                conversation_id=conversation.id,
                message_index=first.first_index,
                kind=kind,
                score=1.0,
                evidence=Evidence(
                    rule=EVIDENCE_RULES["reply_rate"],
                    summary=(
                        f"buyer received by {agent} on {day} and never answered that day"
                        f" ({len(group)} buyer turn(s) without a reply): lowers {item.label}"
                    ),
                    pattern=item.id,
                    details={
                        "item": item.id,
                        "buyer_index": first.first_index,
                        "turns": len(group),
                        "buyer_indexes": [t.first_index for t in group],
                    },
                ),
                agent=agent,
                text=buyer.text,
            )
        )
    return out


def timing_findings(
    conversation: Conversation,
    card: Scorecard,
    days: Sequence[str] | None = None,
    turns: Sequence[Turn] | None = None,
) -> list[Finding]:
    """The evidence findings of one conversation under the card, in message order.

    ``days`` (:func:`~qc.scoring.metrics.message_days` under the card's day rule) and ``turns``
    (:func:`~qc.scoring.metrics.conversation_turns` with those days) are reused when the caller
    has them. Without an item naming an ``evidence`` kind: none.
    """
    kinds = card.evidence_kinds
    if not kinds:
        return []
    if turns is None:
        if days is None:
            days = message_days(conversation, card.day)
        turns = conversation_turns(conversation, card.day, days)
    out: list[Finding] = []
    for kind, item in kinds.items():
        if item.metric == "avg_response_s":
            limit = _Limit(item, kind, "replied")
            out.extend(f for t in turns if (f := _slow(conversation, t, limit)) is not None)
        elif item.metric == "first_response_s" and turns:
            first = _slow(conversation, turns[0], _Limit(item, kind, "first reply"))
            out.extend([first] if first is not None else [])
        elif item.metric == "reply_rate":
            out.extend(_missed(conversation, turns, kind, item))
    out.sort(key=lambda f: (f.message_index, f.kind))
    return out


def evidence_weight(finding: Finding) -> float:
    """How much of its item's points an evidence finding stands for.

    The seconds over the limit for a slow reply, 1 for a buyer left without a reply.
    """
    over = finding.evidence.details.get("over_s")
    return float(over) if isinstance(over, int | float) and over > 0 else 1.0
