"""Timing and volume metrics per conversation and per agent per day, from timestamps alone.

Definitions (DOMAIN.md, seed 000 and seed 004), made precise here:

* Only buyer messages and messages an agent typed count. Auto-replies (自动回复) and system
  notices are skipped entirely: they neither answer a buyer nor split a buyer turn.
* A **turn** is a run of consecutive buyer messages. It is **replied** by the next agent
  message; its **delay** runs from the turn's first buyer message to that reply.
* **Average response time** (平均响应时间): mean delay over the replied turns whose two
  timestamps are known. A turn missing either timestamp is left out; with no timed turn the
  metric is unknown (``None``), never zero.
* **First response time** (首次响应): delay of the conversation's first turn, i.e. the buyer's
  first message to the first agent reply after it; credited to the agent who wrote that reply.
* **Reply rate** (回复率): buyers replied to ÷ buyers received. An agent *received* a buyer
  (a conversation) on a day when a turn of that conversation is attributed to the agent on
  that day; the buyer counts as *replied* when the agent replied to at least one of those turns.
* **Answer ratio** (答问比): the agent's messages ÷ the buyer messages of the turns attributed
  to the agent.
* **Attribution**: a replied turn belongs to the agent who wrote the reply, so a transferred
  conversation is split reply by reply. An unanswered turn belongs to the agent who replied
  last before it (the one holding the conversation); when nobody replied before it, to the
  conversation's first agent; with no agent at all, to the agent named on an auto-reply, else
  to :data:`UNASSIGNED`.
* **Day**: see :class:`DayRule`. By default each reply belongs to the day it was sent and an
  unanswered turn to the day of its first buyer message, so a conversation crossing midnight
  counts on both days. A message without a timestamp takes the day of the nearest earlier
  timestamped message of its conversation (else the nearest later one, else ``undated``).

Everything here is pure: conversations in, frozen dataclasses out.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from statistics import fmean
from typing import Any
from zoneinfo import ZoneInfo

from qc.schema import Conversation, Message, Role

__all__ = [
    "AgentDayMetricsBuilder",
    "ExactSum",
    "UNASSIGNED",
    "UNDATED",
    "DayRule",
    "Turn",
    "ConversationMetrics",
    "AgentDayMetrics",
    "METRIC_NAMES",
    "message_days",
    "conversation_turns",
    "conversation_metrics",
    "agent_day_metrics",
]

UNASSIGNED = "unassigned"
UNDATED = "undated"


@dataclass(frozen=True, slots=True)
class DayRule:
    """Which calendar day a message belongs to.

    ``by`` is ``"reply"`` (each message on its own day) or ``"conversation_start"`` (the whole
    conversation on the day of its first timestamped message). Naive timestamps are read as
    local time of ``timezone``.
    """

    timezone: str = "Asia/Shanghai"
    by: str = "reply"


def _local_date(value: datetime, zone: ZoneInfo) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(zone).date().isoformat()


def message_days(conversation: Conversation, rule: DayRule) -> list[str]:
    """The day (``YYYY-MM-DD`` or ``undated``) each message of the conversation belongs to."""
    zone = ZoneInfo(rule.timezone)
    own = [_local_date(m.sent_at, zone) if m.sent_at is not None else None for m in conversation.messages]
    known = [d for d in own if d is not None]
    if not known:
        return [UNDATED] * len(own)
    if rule.by == "conversation_start":
        return [known[0]] * len(own)
    days: list[str] = []
    last: str | None = None
    for d in own:
        last = d if d is not None else last
        days.append(last if last is not None else known[0])
    return days


@dataclass(frozen=True, slots=True)
class Turn:
    """Consecutive buyer messages and the agent reply that ended them, if any."""

    conversation_id: str
    first_index: int
    buyer_messages: int
    reply_index: int | None
    agent: str
    date: str
    delay_s: float | None

    @property
    def replied(self) -> bool:
        """True when an agent answered the turn."""
        return self.reply_index is not None


def _counts(message: Message) -> bool:
    return message.role is Role.CUSTOMER or message.counts_as_agent


def _delay(start: Message, reply: Message) -> float | None:
    if start.sent_at is None or reply.sent_at is None:
        return None
    try:
        seconds = (reply.sent_at - start.sent_at).total_seconds()
    except TypeError:  # one aware, one naive: not comparable, so unknown
        return None
    return seconds if seconds >= 0 else None


def _fallback_agent(conversation: Conversation) -> str:
    if conversation.agents:
        return conversation.agents[0]
    for m in conversation.messages:
        if m.role is Role.AGENT and m.auto_reply and (m.agent_id or m.sender):
            return m.agent_id or m.sender or UNASSIGNED
    return UNASSIGNED


def conversation_turns(
    conversation: Conversation, rule: DayRule | None = None, days: Sequence[str] | None = None
) -> list[Turn]:
    """Split a conversation into buyer turns, each attributed to an agent and a day.

    ``days`` is :func:`message_days` of the conversation when the caller has it already.
    """
    if days is None:
        days = message_days(conversation, rule or DayRule())
    turns: list[Turn] = []
    holder: str | None = None  # the agent who replied last
    start: Message | None = None
    count = 0
    for m in conversation.messages:
        if not _counts(m):
            continue
        if m.role is Role.CUSTOMER:
            if start is None:
                start, count = m, 0
            count += 1
            continue
        agent = m.agent or UNASSIGNED
        if start is not None:
            turns.append(
                Turn(conversation.id, start.index, count, m.index, agent, days[m.index], _delay(start, m))
            )
            start = None
        holder = agent
    if start is not None:
        agent = holder or _fallback_agent(conversation)
        turns.append(Turn(conversation.id, start.index, count, None, agent, days[start.index], None))
    return turns


@dataclass(frozen=True, slots=True)
class ConversationMetrics:
    """Metrics of one conversation (all agents together)."""

    conversation_id: str
    shop: str | None
    date: str
    agents: tuple[str, ...]
    buyer_messages: int
    agent_messages: int
    turns: int
    turns_replied: int
    avg_response_s: float | None
    first_response_s: float | None
    answer_ratio: float | None

    @property
    def replied(self) -> bool:
        """True when the buyer got at least one agent reply."""
        return self.turns_replied > 0


def _mean(values: list[float]) -> float | None:
    return fmean(values) if values else None


def conversation_metrics(conversation: Conversation, rule: DayRule | None = None) -> ConversationMetrics:
    """Metrics of one conversation; unknown times are ``None``."""
    rule = rule or DayRule()
    turns = conversation_turns(conversation, rule)
    days = message_days(conversation, DayRule(rule.timezone, "conversation_start"))
    buyer = sum(1 for m in conversation.messages if m.role is Role.CUSTOMER)
    agent = len(conversation.agent_messages())
    delays = [t.delay_s for t in turns if t.delay_s is not None]
    return ConversationMetrics(
        conversation_id=conversation.id,
        shop=conversation.shop,
        date=days[0] if days else UNDATED,
        agents=conversation.agents,
        buyer_messages=buyer,
        agent_messages=agent,
        turns=len(turns),
        turns_replied=sum(1 for t in turns if t.replied),
        avg_response_s=_mean(delays),
        first_response_s=turns[0].delay_s if turns and turns[0].replied else None,
        answer_ratio=agent / buyer if buyer else None,
    )


@dataclass(frozen=True, slots=True)
class AgentDayMetrics:
    """Metrics of one agent on one day; ``None`` means unknown, never zero."""

    agent: str
    date: str
    shop: str | None = None
    conversations: int = 0
    messages: int = 0
    buyer_messages: int = 0
    turns: int = 0
    turns_replied: int = 0
    timed_turns: int = 0
    buyers_received: int = 0
    buyers_replied: int = 0
    avg_response_s: float | None = None
    first_responses: int = 0
    first_response_s: float | None = None
    reply_rate: float | None = None
    answer_ratio: float | None = None


# Metrics a scorecard item may name.
METRIC_NAMES: tuple[str, ...] = (
    "avg_response_s",
    "first_response_s",
    "reply_rate",
    "answer_ratio",
    "conversations",
    "messages",
    "buyer_messages",
    "turns",
    "turns_replied",
    "buyers_received",
    "buyers_replied",
)


class ExactSum:
    """A running float sum that stays exact: :meth:`value` is ``math.fsum`` of every value added.

    Keeps a few non-overlapping partials (Shewchuk's algorithm, as ``math.fsum`` does inside)
    instead of the values, so an agent's average response time over a million turns needs no
    list of a million delays and is the same number :func:`statistics.fmean` gives.
    """

    __slots__ = ("count", "_partials")

    def __init__(self) -> None:
        self.count = 0
        self._partials: list[float] = []

    def add(self, x: float) -> None:
        """Add one value."""
        self.count += 1
        self._absorb(x)

    def merge(self, other: ExactSum) -> None:
        """Add everything ``other`` holds (its partials are exact, so the sum stays exact)."""
        for partial in other._partials:
            self._absorb(partial)
        self.count += other.count

    def _absorb(self, x: float) -> None:
        partials = self._partials
        i = 0
        for y in partials:
            if abs(x) < abs(y):
                x, y = y, x
            hi = x + y
            lo = y - (hi - x)
            if lo:
                partials[i] = lo
                i += 1
            x = hi
        partials[i:] = [x]

    def value(self) -> float:
        """The correctly rounded sum (what ``math.fsum`` gives for the same values)."""
        return math.fsum(self._partials)

    def mean(self) -> float | None:
        """The mean as :func:`statistics.fmean` computes it, or ``None`` with no values."""
        return self.value() / self.count if self.count else None


@dataclass(slots=True)
class _Acc:
    shop: str | None = None
    # Input position of the conversation the shop came from (None: position not given).
    shop_at: Any = None
    conversations: int = 0
    messages: int = 0
    buyer_messages: int = 0
    turns: int = 0
    turns_replied: int = 0
    delays: ExactSum = field(default_factory=ExactSum)
    first: ExactSum = field(default_factory=ExactSum)
    received: int = 0
    replied: int = 0


def _earlier(at: Any, than: Any) -> bool:
    """Whether input position ``at`` comes before ``than`` (never, when either is not known)."""
    return at is not None and than is not None and bool(at < than)


def agent_day_metrics(
    conversations: Iterable[Conversation], rule: DayRule | None = None
) -> list[AgentDayMetrics]:
    """Aggregate every conversation into one row per agent per day, sorted by day then agent."""
    builder = AgentDayMetricsBuilder(rule)
    for conv in conversations:
        builder.add(conv)
    return builder.rows()


class AgentDayMetricsBuilder:
    """:func:`agent_day_metrics` one conversation at a time, for a run that streams its input.

    Keeps per agent and day only counts and exact running sums of the delays, so its memory
    grows with agents and days, not with conversations or messages.
    """

    def __init__(self, rule: DayRule | None = None) -> None:
        self.rule = rule or DayRule()
        self._acc: dict[tuple[str, str], _Acc] = defaultdict(_Acc)

    def add(self, conv: Conversation, days: Sequence[str] | None = None, order: Any = None) -> None:
        """Count one conversation's messages and turns (each conversation once: ids are not kept).

        ``days`` is :func:`message_days` of the conversation under this builder's rule, when
        the caller has it already. ``order`` is the conversation's position in the input
        (any comparable value), for builders fed in another order and merged afterwards:
        an agent-day's shop is then still that of the first conversation in input order.
        Without it, conversations are taken to come in input order.
        """
        rule, acc = self.rule, self._acc
        shop = conv.shop
        if days is None:
            days = message_days(conv, rule)
        # Per agent and day this conversation touches: what it counts towards (kept only while
        # the conversation is added, so memory does not grow with the number of conversations).
        touched: set[tuple[str, str]] = set()
        received: set[tuple[str, str]] = set()
        replied: set[tuple[str, str]] = set()
        for m in conv.messages:
            if m.counts_as_agent:
                key = (m.agent or UNASSIGNED, days[m.index])
                a = acc[key]
                a.messages += 1
                touched.add(key)
                if a.shop is None or (order is not None and shop is not None and _earlier(order, a.shop_at)):
                    a.shop, a.shop_at = shop, order
        for position, turn in enumerate(conversation_turns(conv, rule, days)):
            key = (turn.agent, turn.date)
            a = acc[key]
            if a.shop is None or (order is not None and shop is not None and _earlier(order, a.shop_at)):
                a.shop, a.shop_at = shop, order
            touched.add(key)
            a.buyer_messages += turn.buyer_messages
            a.turns += 1
            received.add(key)
            if turn.replied:
                a.turns_replied += 1
                replied.add(key)
                if turn.delay_s is not None:
                    a.delays.add(turn.delay_s)
                    if position == 0:
                        a.first.add(turn.delay_s)
        for key in touched:
            acc[key].conversations += 1
        for key in received:
            acc[key].received += 1
        for key in replied:
            acc[key].replied += 1

    def merge(self, other: AgentDayMetricsBuilder) -> None:
        """Add the counts of a builder fed the conversations that come after this one's.

        Gives the rows one builder fed all the conversations in that order would give (a
        worker of ``qc inspect --jobs`` counts its chunk, the main process merges in order).
        Builders given each conversation's ``order`` (see :meth:`add`) may be merged in any
        order and grouping, as Spark merges the tallies of its partitions.
        """
        for key, b in other._acc.items():
            a = self._acc[key]
            if a.shop is None or (b.shop is not None and _earlier(b.shop_at, a.shop_at)):
                a.shop, a.shop_at = b.shop, b.shop_at
            a.conversations += b.conversations
            a.messages += b.messages
            a.buyer_messages += b.buyer_messages
            a.turns += b.turns
            a.turns_replied += b.turns_replied
            a.delays.merge(b.delays)
            a.first.merge(b.first)
            a.received += b.received
            a.replied += b.replied

    def rows(self) -> list[AgentDayMetrics]:
        """One row per agent per day so far, sorted by day then agent."""
        acc = self._acc
        rows = []
        for (agent, day), a in sorted(acc.items(), key=lambda kv: (kv[0][1], kv[0][0])):
            rows.append(
                AgentDayMetrics(
                    agent=agent,
                    date=day,
                    shop=a.shop,
                    conversations=a.conversations,
                    messages=a.messages,
                    buyer_messages=a.buyer_messages,
                    turns=a.turns,
                    turns_replied=a.turns_replied,
                    timed_turns=a.delays.count,
                    buyers_received=a.received,
                    buyers_replied=a.replied,
                    avg_response_s=a.delays.mean(),
                    first_responses=a.first.count,
                    first_response_s=a.first.mean(),
                    reply_rate=a.replied / a.received if a.received else None,
                    answer_ratio=a.messages / a.buyer_messages if a.buyer_messages else None,
                )
            )
        return rows
