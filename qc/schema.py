"""The one data model every stage of qc reads and writes.

Frozen dataclasses with explicit JSON round trips. Character offsets in a
:class:`Finding` always index the original ``Message.text``. This module imports
nothing from the rest of qc, so every other module may depend on it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

__all__ = [
    "Role",
    "Message",
    "Conversation",
    "Evidence",
    "Finding",
    "finding_id",
    "Deduction",
    "Reject",
    "MessageFeatures",
]


class Role(StrEnum):
    """Who sent a message: the buyer (买家), the agent (客服) or the platform (系统)."""

    CUSTOMER = "customer"
    AGENT = "agent"
    SYSTEM = "system"


def _dt_to_json(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _dt_from_json(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


# The widest values the store keeps: its column widths. PostgreSQL refuses a longer value (SQLite
# would take it), so the readers reject a record holding one, naming its file and line, and
# both stores keep the same records (audit 166 F1). A shop, a sender, an agent id and the
# account 店铺名:nick made of a shop and a nick are accounts.
MAX_CONVERSATION_ID_CHARS = 400
MAX_ACCOUNT_CHARS = 200
# The longest account qc makes of a shop itself: 店铺名:unassigned, the shop's unanswered buyers
# (qc.scoring.metrics.UNASSIGNED). Every shop must leave room for it (audit 169 F5).
SHOP_ACCOUNT_SUFFIX_CHARS = len(":unassigned")

# An agent's reply that names nobody (an export with a role column and no sender). Within a
# shop's conversation the readers write it as that shop's account, 店铺名:unknown, so two shops'
# nameless replies never meet in one row.
NAMELESS_AGENT = "unknown"


@dataclass(frozen=True, slots=True)
class Message:
    """One chat bubble (or several merged ones) as it was exported.

    ``index`` is the 0-based position in the conversation after sorting by time.
    ``source`` is ``"file:line"`` so a reviewer can find the raw record.
    """

    index: int
    role: Role
    text: str
    sender: str | None = None
    sent_at: datetime | None = None
    auto_reply: bool = False
    agent_id: str | None = None
    source: str = ""

    @property
    def agent(self) -> str | None:
        """The agent this message is attributed to (agent messages only)."""
        if self.role is not Role.AGENT:
            return None
        return self.agent_id or self.sender or NAMELESS_AGENT

    @property
    def counts_as_agent(self) -> bool:
        """True for messages an agent typed: auto-replies and system notices never count."""
        return self.role is Role.AGENT and not self.auto_reply

    def to_json(self) -> dict[str, Any]:
        """Serialize to a JSON-safe dict."""
        return {
            "index": self.index,
            "role": self.role.value,
            "text": self.text,
            "sender": self.sender,
            "sent_at": _dt_to_json(self.sent_at),
            "auto_reply": self.auto_reply,
            "agent_id": self.agent_id,
            "source": self.source,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Message:
        """Rebuild a message written by :meth:`to_json`."""
        return cls(
            index=int(data["index"]),
            role=Role(data["role"]),
            text=data["text"],
            sender=data.get("sender"),
            sent_at=_dt_from_json(data.get("sent_at")),
            auto_reply=bool(data.get("auto_reply", False)),
            agent_id=data.get("agent_id"),
            source=data.get("source", ""),
        )

    def __reduce__(self) -> tuple[Any, ...]:
        # mypyc: a compiled frozen dataclass cannot be unpickled field by field
        return (
            type(self),
            (
                self.index,
                self.role,
                self.text,
                self.sender,
                self.sent_at,
                self.auto_reply,
                self.agent_id,
                self.source,
            ),
        )


@dataclass(frozen=True, slots=True)
class Conversation:
    """A buyer's chat with a shop: messages in time order, indexed from 0."""

    id: str
    messages: tuple[Message, ...]
    shop: str | None = None
    source: str = ""

    def agent_messages(self) -> tuple[Message, ...]:
        """Messages typed by an agent (no auto-replies, no system notices)."""
        return tuple(m for m in self.messages if m.counts_as_agent)

    @property
    def agents(self) -> tuple[str, ...]:
        """Agents who wrote at least one reply, in order of first reply."""
        seen: dict[str, None] = {}
        for m in self.messages:
            if m.counts_as_agent and m.agent:
                seen.setdefault(m.agent, None)
        return tuple(seen)

    @property
    def started_at(self) -> datetime | None:
        """Time of the first timestamped message, if any."""
        return next((m.sent_at for m in self.messages if m.sent_at is not None), None)

    def to_json(self) -> dict[str, Any]:
        """Serialize to a JSON-safe dict."""
        return {
            "id": self.id,
            "shop": self.shop,
            "source": self.source,
            "messages": [m.to_json() for m in self.messages],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Conversation:
        """Rebuild a conversation written by :meth:`to_json`."""
        return cls(
            id=data["id"],
            messages=tuple(Message.from_json(m) for m in data["messages"]),
            shop=data.get("shop"),
            source=data.get("source", ""),
        )

    def __reduce__(self) -> tuple[Any, ...]:
        # mypyc: a compiled frozen dataclass cannot be unpickled field by field
        return (type(self), (self.id, self.messages, self.shop, self.source))


@dataclass(frozen=True, slots=True)
class MessageFeatures:
    """What annotators computed for one message: tokens and sentiment.

    Tokens concatenate back to the message text, so token offsets are
    character offsets. ``sentiment`` is snownlp's positive probability, a weak
    feature that never triggers a deduction on its own.
    """

    tokens: tuple[str, ...] = ()
    sentiment: float | None = None

    def __reduce__(self) -> tuple[Any, ...]:
        # mypyc: a compiled frozen dataclass cannot be unpickled field by field
        return (type(self), (self.tokens, self.sentiment))


# How a model finding's Chinese summary opens with what became of it: 不够耐心（扣分）… when the
# model was sure, （待复核） when it held the finding (so does a scorecard that holds it back).
CHARGED_HEAD = "（扣分）"
HELD_HEAD = "（待复核）"


@dataclass(frozen=True, slots=True)
class Evidence:
    """Why a finding exists, readable without rerunning the pipeline.

    ``pattern`` is what the finding is about beyond its span: the lexicon entry
    (``FP-0002``) or the scorecard item (``average_response``); ``None`` for a model's
    judgement of the whole message. ``version`` is the lexicon or model version that made
    the finding (``attitude@2.1.0``): recorded beside it, never part of its id.
    """

    rule: str
    summary: str
    pattern: str | None = None
    cues: tuple[str, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)
    version: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Serialize to a JSON-safe dict."""
        return {
            "rule": self.rule,
            "summary": self.summary,
            "pattern": self.pattern,
            "version": self.version,
            "cues": list(self.cues),
            "details": dict(self.details),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Evidence:
        """Rebuild evidence written by :meth:`to_json`."""
        return cls(
            rule=data["rule"],
            summary=data["summary"],
            pattern=data.get("pattern"),
            cues=tuple(data.get("cues", ())),
            details=dict(data.get("details") or {}),
            version=data.get("version"),
        )

    def __reduce__(self) -> tuple[Any, ...]:
        # mypyc: a compiled frozen dataclass cannot be unpickled field by field
        return (type(self), (self.rule, self.summary, self.pattern, self.cues, self.details, self.version))


def finding_id(
    conversation_id: str,
    message_index: int,
    kind: str,
    entry: str | None,
    start: int | None,
    end: int | None,
) -> str:
    """A finding's id from what it is about: conversation, message, kind, entry and span.

    ``entry`` is the lexicon entry or scorecard item (``None`` for a model's judgement of
    the whole message); ``start``/``end`` the span (``None`` for the whole message). No
    rule, model or lexicon version takes part (the store's migration 10 re-keyed the
    findings saved before with a frozen copy of it).
    """
    # An f-string writes each part as str() does (None as "None").
    key = f"finding/2\x1f{conversation_id}\x1f{message_index}\x1f{kind}\x1f{entry}\x1f{start}\x1f{end}"
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing a rule found in one message.

    ``start``/``end`` index ``Message.text``; both ``None`` means the whole
    message. ``suppressed`` findings were vetoed by a context rule: kept for
    ``--explain`` and audits, never deducted. ``needs_review`` findings fell
    below their confidence threshold: shown to QA, never deducted.
    """

    conversation_id: str
    message_index: int
    kind: str
    score: float
    evidence: Evidence
    agent: str | None = None
    text: str = ""
    start: int | None = None
    end: int | None = None
    suppressed: bool = False
    needs_review: bool = False
    # The id, computed the first time it is asked for (outputs, verdicts and evidence all ask).
    _id: str | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def rule(self) -> str:
        """Versioned name of the rule that produced the finding."""
        return self.evidence.rule

    @property
    def entry(self) -> str | None:
        """Lexicon entry id or scorecard item behind the finding (``None`` for a model's judgement)."""
        return self.evidence.pattern

    @property
    def version(self) -> str | None:
        """The lexicon or model version that made the finding (recorded beside it, not in its id)."""
        return self.evidence.version

    @property
    def cue(self) -> str | None:
        """The context cue that vetoed or qualified the finding, if any."""
        return self.evidence.cues[0] if self.evidence.cues else None

    @property
    def live(self) -> bool:
        """True when the finding may cost points (not vetoed, not awaiting review)."""
        return not self.suppressed and not self.needs_review

    @property
    def id(self) -> str:
        """Stable id from what the finding is about: :func:`finding_id` of its subject.

        The same finding on the same input always gets the same id, whatever rule, model or
        lexicon version made it, so a review or appeal stays attached after a retrain or a
        lexicon edit.
        """
        if self._id is None:
            found = finding_id(
                self.conversation_id,
                self.message_index,
                self.kind,
                self.evidence.pattern,
                self.start,
                self.end,
            )
            object.__setattr__(self, "_id", found)
            return found
        return self._id

    def to_json(self) -> dict[str, Any]:
        """Serialize to the findings.jsonl record (flat keys first, evidence nested)."""
        return {
            "id": self.id,
            "conversation_id": self.conversation_id,
            "message_index": self.message_index,
            "agent": self.agent,
            "kind": self.kind,
            "rule": self.evidence.rule,
            "entry": self.evidence.pattern,
            "version": self.evidence.version,
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "score": self.score,
            "suppressed": self.suppressed,
            "needs_review": self.needs_review,
            "cue": self.cue,
            "evidence": self.evidence.to_json(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Finding:
        """Rebuild a finding written by :meth:`to_json`."""
        return cls(
            conversation_id=data["conversation_id"],
            message_index=int(data["message_index"]),
            kind=data["kind"],
            score=float(data["score"]),
            evidence=Evidence.from_json(data["evidence"]),
            agent=data.get("agent"),
            text=data.get("text", ""),
            start=data.get("start"),
            end=data.get("end"),
            suppressed=bool(data.get("suppressed", False)),
            needs_review=bool(data.get("needs_review", False)),
        )

    def __reduce__(self) -> tuple[Any, ...]:
        # mypyc: a compiled frozen dataclass cannot be unpickled field by field (the cached id is made again)
        return (
            type(self),
            (
                self.conversation_id,
                self.message_index,
                self.kind,
                self.score,
                self.evidence,
                self.agent,
                self.text,
                self.start,
                self.end,
                self.suppressed,
                self.needs_review,
            ),
        )


@dataclass(frozen=True, slots=True)
class Deduction:
    """Points one agent gains or loses on one scorecard item in one scored window.

    ``date`` is the window: a day (``2026-11-24``) or a period (``2026-11``). ``points`` is
    negative for a deduction. ``finding_ids`` lists the findings behind it: the charged
    messages' findings, or the evidence of a metric item (slow replies, unanswered buyers).
    ``kind`` is the finding kind a findings item charged (``None`` for metric items).
    """

    agent: str
    date: str
    item: str
    points: int | float  # whole points stay an int (-10, as the 考核表 writes them), compiled or not
    reason: str
    finding_ids: tuple[str, ...] = ()
    kind: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Serialize to a JSON-safe dict."""
        return {
            "agent": self.agent,
            "date": self.date,
            "item": self.item,
            "points": self.points,
            "reason": self.reason,
            "finding_ids": list(self.finding_ids),
            "kind": self.kind,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Deduction:
        """Rebuild a deduction written by :meth:`to_json`."""
        return cls(
            agent=data["agent"],
            date=data["date"],
            item=data["item"],
            points=float(data["points"]),
            reason=data["reason"],
            finding_ids=tuple(data.get("finding_ids", ())),
            kind=data.get("kind"),
        )

    def __reduce__(self) -> tuple[Any, ...]:
        # mypyc: a compiled frozen dataclass cannot be unpickled field by field
        return (
            type(self),
            (self.agent, self.date, self.item, self.points, self.reason, self.finding_ids, self.kind),
        )


@dataclass(frozen=True, slots=True)
class Reject:
    """An input record that could not become a message, kept with its reason.

    ``raw`` is the record as read (decoded text, at most a few KB), so nothing
    is lost; it is written to the rejects file, never to logs.
    """

    file: str
    line: int
    reason: str
    raw: str

    def to_json(self) -> dict[str, Any]:
        """Serialize to a JSON-safe dict."""
        return {"file": self.file, "line": self.line, "reason": self.reason, "raw": self.raw}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Reject:
        """Rebuild a reject written by :meth:`to_json`."""
        return cls(file=data["file"], line=int(data["line"]), reason=data["reason"], raw=data["raw"])

    def __reduce__(self) -> tuple[Any, ...]:
        # mypyc: a compiled frozen dataclass cannot be unpickled field by field
        return (type(self), (self.file, self.line, self.reason, self.raw))
