"""Rows of the store's tables from qc's objects and back, shared by the store API and its migrations."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from qc.schema import Conversation, Evidence, Finding, Message, Role
from qc.scoring.metrics import UNDATED, MetricPart

__all__ = [
    "PART_COUNTERS",
    "conversation_from_rows",
    "finding_from_row",
    "finding_row",
    "json_text",
    "message_rows",
    "now",
    "part_from_row",
    "part_row",
    "shop_key",
]

# The counters of a stored metric part (columns of ``parts``), as MetricPart names them.
PART_COUNTERS: tuple[str, ...] = (
    "conversations",
    "buyers_received",
    "buyers_replied",
    "messages",
    "buyer_messages",
    "turns",
    "turns_replied",
    "timed_turns",
    "delay_us",
    "first_responses",
    "first_us",
)


def now() -> str:
    """The current UTC time as the store records it."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def shop_key(value: str | None) -> str:
    """The shop as a key column holds it ('' for none)."""
    return value or ""


def json_text(value: Any) -> str:
    """JSON as the store keeps it (Chinese as is, keys sorted)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def finding_from_row(row: Any) -> Finding:
    """A :class:`Finding` from a ``findings`` row."""
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


def finding_row(f: Finding, shop: str | None, date: str, scored_agent: str) -> dict[str, Any]:
    """The ``findings`` row of a finding charged to ``scored_agent`` on ``date`` (no run id)."""
    return dict(
        shop=shop_key(shop),
        date=date,
        finding_id=f.id,
        conversation_id=f.conversation_id,
        message_index=f.message_index,
        agent=f.agent,
        scored_agent=scored_agent,
        kind=f.kind,
        rule=f.rule,
        entry=f.entry,
        score=f.score,
        suppressed=f.suppressed,
        needs_review=f.needs_review,
        start=f.start,
        end=f.end,
        text=f.text,
        evidence=json_text(f.evidence.to_json()),
    )


def message_rows(conversation: Conversation, days: Sequence[str]) -> list[dict[str, Any]]:
    """The ``messages`` rows of a conversation, each with its day."""
    return [
        dict(
            shop=shop_key(conversation.shop),
            conversation_id=conversation.id,
            idx=m.index,
            date=days[i] if i < len(days) else UNDATED,
            role=m.role.value,
            text=m.text,
            sender=m.sender,
            sent_at=m.sent_at.isoformat() if m.sent_at is not None else None,
            auto_reply=m.auto_reply,
            agent_id=m.agent_id,
            source=m.source,
            conversation_source=conversation.source,
        )
        for i, m in enumerate(conversation.messages)
    ]


def conversation_from_rows(conversation_id: str, rows: Sequence[Any]) -> Conversation:
    """A conversation rebuilt from its ``messages`` rows (in index order)."""
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
    return Conversation(
        id=conversation_id, messages=messages, shop=rows[0].shop or None, source=rows[0].conversation_source
    )


def part_row(part: MetricPart) -> dict[str, Any]:
    """The ``parts`` row of a metric part of one conversation (no run id)."""
    return dict(
        shop=shop_key(part.shop),
        conversation_id=part.conversation_id,
        agent=part.agent,
        date=part.date,
        **{name: getattr(part, name) for name in PART_COUNTERS},
    )


def part_from_row(row: Any) -> MetricPart:
    """A :class:`MetricPart` from a ``parts`` row."""
    return MetricPart(
        agent=row.agent,
        date=row.date,
        shop=row.shop or None,
        conversation_id=row.conversation_id,
        **{name: int(getattr(row, name)) for name in PART_COUNTERS},
    )
