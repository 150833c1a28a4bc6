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
  conversation's first agent; with no agent at all, to the agent named on an agent's own
  auto-reply (not the shop's bot), else to :func:`unassigned_of` (the shop's ``unassigned``).
* **Day**: see :class:`DayRule`. By default each reply belongs to the day it was sent and an
  unanswered turn to the day of its first buyer message, so a conversation crossing midnight
  counts on both days. A message without a timestamp takes the day of the nearest earlier
  timestamped message of its conversation (else the nearest later one, else ``undated``).
* **Parts and pooling**: each conversation is counted into :class:`MetricPart` counters per
  agent and day (:func:`conversation_parts`); a window (a day, a month …) is scored by pooling
  its parts (:class:`MetricPool`): sums of integer counters and of delays in whole
  microseconds, a conversation and its buyer counted once however many of the window's days it
  touches. So the metrics of a window never depend on how its parts were grouped or ordered,
  and a month is its turns' mean, not a mean of days.

Everything here is pure: conversations in, frozen dataclasses out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from qc.readers.roles import parse_role_word, shop_account, split_subaccount
from qc.schema import Conversation, Message, Role
from qc.text.tokens import core, fold

__all__ = [
    "time_span",
    "AgentDayMetricsBuilder",
    "MetricPart",
    "MetricPool",
    "UNASSIGNED",
    "unassigned_of",
    "US",
    "UNDATED",
    "DayRule",
    "Turn",
    "ConversationMetrics",
    "AgentDayMetrics",
    "METRIC_NAMES",
    "message_days",
    "conversation_turns",
    "conversation_metrics",
    "conversation_parts",
    "agent_day_metrics",
    "mean_seconds",
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
    # The shop's service hours as (start, end) minutes after midnight on the zone's clock; empty:
    # all day. A reply's delay counts only the time inside them (a question at 02:00 answered at
    # 09:00:05, the shop opening at 09:00, waited 5 s).
    service_hours: tuple[tuple[int, int], ...] = ()
    # Words of a buyer's last, unanswered messages that need no reply (好的, 谢谢, as
    # :func:`closing_key` writes them); empty: every buyer turn awaits a reply.
    closing_words: tuple[str, ...] = ()

    def __reduce__(self) -> tuple[Any, ...]:
        # mypyc: a compiled frozen dataclass cannot be unpickled field by field
        return (type(self), (self.timezone, self.by, self.service_hours, self.closing_words))


def message_days(conversation: Conversation, rule: DayRule) -> list[str]:
    """The day (``YYYY-MM-DD`` or ``undated``) each message of the conversation belongs to."""
    zone = ZoneInfo(rule.timezone)
    own: list[str | None] = []
    # A conversation's messages mostly share a day: its text is made once per run of them.
    last_date: date | None = None
    text = ""
    for m in conversation.messages:
        value = m.sent_at
        if value is None:
            own.append(None)
            continue
        if value.tzinfo is not zone:  # astimezone of the zone's own time changes nothing
            value = (value.replace(tzinfo=zone) if value.tzinfo is None else value).astimezone(zone)
        day = value.date()
        if day != last_date:
            last_date, text = day, day.isoformat()
        own.append(text)
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


def closing_key(text: str) -> str:
    """``text`` as closing words are matched: width and case folded, no emoji, spaces or punctuation.

    So 好的！ and ＯＫ[微笑] are 好的 and ok.
    """
    return core(fold(text))


@lru_cache(maxsize=16)
def _closing_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    # Longest first, so 好的谢谢 is read as one word where the list has it.
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(f"(?:{alternatives})*")


# A picture, video, voice message, file, link, product or order a buyer sends: exports write
# them as bracketed placeholders, which closing_key drops with the emoticon codes. They are
# something to answer, never a sign-off.
_MEDIA = re.compile(r"\[[^\[\]\s]{0,6}(?:图片|照片|视频|语音|文件|链接|商品|订单|位置|宝贝)[^\[\]\s]{0,6}\]")


def closing_turn(texts: Sequence[str], rule: DayRule) -> bool:
    """True when a buyer's last, unanswered messages only sign off: no reply is needed.

    Each says nothing but the rule's closing words, emoji and punctuation (好的, then 👍), and
    together they say at least one of the words: ？？？, 😡 or a photo alone is a buyer still
    waiting, not one signing off.
    """
    if not rule.closing_words or not texts:
        return False
    pattern = _closing_pattern(rule.closing_words)
    keys = [closing_key(t) for t in texts]
    if any(_MEDIA.search(t) for t in texts) or not any(keys):
        return False
    return all(pattern.fullmatch(k) is not None for k in keys)


@dataclass(frozen=True, slots=True)
class Turn:
    """Consecutive buyer messages and the agent reply that ended them, if any.

    ``closing``: the conversation's last buyer messages, unanswered, say only the day rule's
    closing words (好的, 谢谢): the buyer needs no reply, so the turn is no turn of the metrics
    (only its messages count, in the answer ratio).
    """

    conversation_id: str
    first_index: int
    buyer_messages: int
    reply_index: int | None
    agent: str
    date: str
    delay_us: int | None
    closing: bool = False

    @property
    def replied(self) -> bool:
        """True when an agent answered the turn."""
        return self.reply_index is not None

    @property
    def delay_s(self) -> float | None:
        """The delay in seconds (``None`` when a timestamp is missing)."""
        return None if self.delay_us is None else self.delay_us / US

    def __reduce__(self) -> tuple[Any, ...]:
        # mypyc: a compiled frozen dataclass cannot be unpickled field by field
        return (
            type(self),
            (
                self.conversation_id,
                self.first_index,
                self.buyer_messages,
                self.reply_index,
                self.agent,
                self.date,
                self.delay_us,
                self.closing,
            ),
        )


# Microseconds per second: delays are kept as whole microseconds (what datetime resolves), so
# sums over any grouping of turns are exact and every path that adds them agrees to the bit.
US = 1_000_000


def _counts(message: Message) -> bool:
    return message.role is Role.CUSTOMER or message.counts_as_agent


# What a time written to the minute may hide: 9:01 is anything from 9:01:00 to 9:01:59.
_MINUTE_SLACK_US = 59 * US


def to_the_minute(asked: datetime | None, answered: datetime | None) -> bool:
    """Whether a turn's question and reply are both timed to the minute only (each on :00).

    Excel shows and saves a date-time as ``2026/11/24 9:01``, and some text exports write
    ``买家(15:06)``: a reply 15 s after the question then reads as 0 or 60 s. Such a turn is
    timed at the least it can have taken, so no reply is charged for seconds nobody wrote down.
    Two times with seconds both land on :00 once in 3,600 turns; each is then timed up to
    59 s short, never long. Told turn by turn: a chat joined from two exports may be to the
    second in one part and to the minute in the other.
    """
    return (
        asked is not None
        and answered is not None
        and not (asked.second or asked.microsecond or answered.second or answered.microsecond)
    )


def turn_to_the_minute(messages: Sequence[Message], first: int, reply: int) -> bool:
    """Whether the turn from message ``first`` to its reply ``reply`` is timed to the minute only.

    Both ends on :00 (:func:`to_the_minute`), and so is the timed message next to the turn, before
    or after it, when there is one: in an export to the second a question and its reply both land
    on :00 once in 3,600 turns, and such a 60 s reply was timed as 1 s, its slow reply lost
    (audit 164 M4); three in a row, once in 216,000. A part written to the minute has every time
    on :00, so a chat joined from two exports is still told part by part.
    """
    if not to_the_minute(messages[first].sent_at, messages[reply].sent_at):
        return False
    neighbours = []
    for i in range(first - 1, -1, -1):
        if (t := messages[i].sent_at) is not None:
            neighbours.append(t)
            break
    for i in range(reply + 1, len(messages)):
        if (t := messages[i].sent_at) is not None:
            neighbours.append(t)
            break
    return not neighbours or any(not (t.second or t.microsecond) for t in neighbours)


def _delay(start: Message, reply: Message, rule: DayRule, coarse: bool) -> int | None:
    begin, end = start.sent_at, reply.sent_at
    if begin is None or end is None:
        return None
    try:
        micros = (end - begin) // timedelta(microseconds=1)
    except TypeError:  # one aware, one naive: not comparable, so unknown
        return None
    if micros < 0:
        return None
    if coarse:
        # 9:01 → 9:02 is 1 to 119 s: the question as late and the reply as early as they can be.
        micros -= _MINUTE_SLACK_US
        if micros <= 0:
            micros = 0
        else:
            begin += timedelta(microseconds=_MINUTE_SLACK_US)
    if rule.service_hours:
        served = served_micros(begin, end, rule) if micros else 0
        if served == 0 and not in_service(end, rule):
            # Asked and answered while the shop was shut, no open minute between: no measure of
            # its replies, as the platforms leave out what comes outside 接待时间. Timed as 0 s, a
            # 278 s wait over lunch wiped out a deduction (audit 162 H1).
            return None
        return served
    return micros


def in_service(moment: datetime, rule: DayRule) -> bool:
    """True when ``moment`` (aware) falls inside the rule's service hours on the shop's wall clock."""
    local = moment.astimezone(ZoneInfo(rule.timezone))
    minute = local.hour * 60 + local.minute + (local.second + local.microsecond / 1e6) / 60
    return any(open_at <= minute < close_at for open_at, close_at in rule.service_hours)


def served_micros(start: datetime, end: datetime, rule: DayRule) -> int:
    """Microseconds from ``start`` to ``end`` (aware, in order) inside the rule's service hours.

    Each day's hours are wall-clock times of the rule's zone, so a daylight-saving night keeps
    them where the shop's clock has them; the overlaps are measured in UTC.
    """
    zone = ZoneInfo(rule.timezone)
    first, last = start.astimezone(zone).date(), end.astimezone(zone).date()
    begin, finish = start.astimezone(UTC), end.astimezone(UTC)
    total = timedelta(0)
    day = first
    while day <= last:
        for open_at, close_at in rule.service_hours:
            lo, hi = _wall(day, open_at, zone), _wall(day, close_at, zone)
            overlap = min(finish, hi) - max(begin, lo)
            if overlap > timedelta(0):
                total += overlap
        day += timedelta(days=1)
    return total // timedelta(microseconds=1)


def _wall(day: date, minutes: int, zone: ZoneInfo) -> datetime:
    """The instant (UTC) of ``minutes`` after ``day``'s midnight on the zone's wall clock (1440: the next)."""
    clock = time(minutes % 1440 // 60, minutes % 60)
    return datetime.combine(day + timedelta(days=minutes // 1440), clock, zone).astimezone(UTC)


def unassigned_of(conversation: Conversation) -> str:
    """Whom a conversation's turns that no agent holds count under: its shop's ``unassigned``.

    ``店铺名:unassigned`` (the shop folded as agent ids are), so the buyers no agent of one shop
    answered are never pooled with another shop's; :data:`UNASSIGNED` without a shop.
    """
    return shop_account(UNASSIGNED, conversation.shop) if conversation.shop else UNASSIGNED


def _fallback_agent(conversation: Conversation) -> str:
    if conversation.agents:
        return conversation.agents[0]
    for m in conversation.messages:
        account = m.agent_id or m.sender
        if m.role is Role.AGENT and m.auto_reply and account and not _shop_bot(account):
            return account
    return unassigned_of(conversation)


def _shop_bot(account: str) -> bool:
    """True for the shop's bot account (店小蜜, 暖阳小铺:店小蜜): its auto-replies are nobody's.

    A buyer only the bot answered got a scorecard row of the bot's, with a missed reply and the
    reply-rate item charged to it (audit 98 F4); such a buyer is the shop's ``unassigned``.
    """
    sub = split_subaccount(account)
    word = parse_role_word(sub[1] if sub else account)
    return word is not None and word[1]


def conversation_turns(
    conversation: Conversation, rule: DayRule | None = None, days: Sequence[str] | None = None
) -> list[Turn]:
    """Split a conversation into buyer turns, each attributed to an agent and a day.

    ``days`` is :func:`message_days` of the conversation when the caller has it already.
    """
    rule = rule or DayRule()
    if days is None:
        days = message_days(conversation, rule)
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
                Turn(
                    conversation.id,
                    start.index,
                    count,
                    m.index,
                    agent,
                    days[m.index],
                    _delay(start, m, rule, turn_to_the_minute(conversation.messages, start.index, m.index)),
                )
            )
            start = None
        holder = agent
    if start is not None:
        agent = holder or _fallback_agent(conversation)
        closing = closing_turn(
            [m.text for m in conversation.messages[start.index :] if m.role is Role.CUSTOMER], rule
        )
        turns.append(Turn(conversation.id, start.index, count, None, agent, days[start.index], None, closing))
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

    def __reduce__(self) -> tuple[Any, ...]:
        # mypyc: a compiled frozen dataclass cannot be unpickled field by field
        return (
            type(self),
            (
                self.conversation_id,
                self.shop,
                self.date,
                self.agents,
                self.buyer_messages,
                self.agent_messages,
                self.turns,
                self.turns_replied,
                self.avg_response_s,
                self.first_response_s,
                self.answer_ratio,
            ),
        )


def mean_seconds(total_us: int, count: int) -> float | None:
    """The mean of ``count`` delays summing to ``total_us`` microseconds, in seconds (``None`` if none).

    Integer division by Python's true division is correctly rounded, so the mean depends only
    on the two integers, however the delays were grouped before they were added.
    """
    return total_us / (count * US) if count else None


def conversation_metrics(conversation: Conversation, rule: DayRule | None = None) -> ConversationMetrics:
    """Metrics of one conversation; unknown times are ``None``."""
    rule = rule or DayRule()
    turns = [t for t in conversation_turns(conversation, rule) if not t.closing]
    days = message_days(conversation, DayRule(rule.timezone, "conversation_start"))
    buyer = sum(1 for m in conversation.messages if m.role is Role.CUSTOMER)
    agent = len(conversation.agent_messages())
    delays = [t.delay_us for t in turns if t.delay_us is not None]
    return ConversationMetrics(
        conversation_id=conversation.id,
        shop=conversation.shop,
        date=days[0] if days else UNDATED,
        agents=conversation.agents,
        buyer_messages=buyer,
        agent_messages=agent,
        turns=len(turns),
        turns_replied=sum(1 for t in turns if t.replied),
        avg_response_s=mean_seconds(sum(delays), len(delays)),
        first_response_s=turns[0].delay_s if turns and turns[0].replied else None,
        answer_ratio=agent / buyer if buyer else None,
    )


@dataclass(frozen=True, slots=True)
class AgentDayMetrics:
    """Metrics of one agent in one scored window (a day, or a pooled period); ``None`` means unknown.

    ``date`` is the window's label: the day (``2026-11-24``) or the period (``2026-11``).
    """

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

    def __reduce__(self) -> tuple[Any, ...]:
        # mypyc: a compiled frozen dataclass cannot be unpickled field by field
        return (
            type(self),
            (
                self.agent,
                self.date,
                self.shop,
                self.conversations,
                self.messages,
                self.buyer_messages,
                self.turns,
                self.turns_replied,
                self.timed_turns,
                self.buyers_received,
                self.buyers_replied,
                self.avg_response_s,
                self.first_responses,
                self.first_response_s,
                self.reply_rate,
                self.answer_ratio,
            ),
        )


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

# The counters a part adds up field by field (conversations and buyers are counted apart: a
# conversation counts once per window however many of its days the window holds).
_SUMMED = (
    "messages",
    "buyer_messages",
    "turns",
    "turns_replied",
    "timed_turns",
    "delay_us",
    "first_responses",
    "first_us",
)


@dataclass(slots=True)
class MetricPart:
    """Integer counters of one agent on one day, of one conversation or of many.

    A part of one conversation (``conversation_id`` set) has ``conversations`` 1 and
    ``buyers_received`` / ``buyers_replied`` 0 or 1; this is what the store keeps per
    conversation. An aggregate (``conversation_id`` ``None``) adds up whole conversations of
    one agent and day, as a run that keeps no conversations does. Delays are whole
    microseconds, so parts add up exactly in any grouping and order.
    """

    agent: str
    date: str
    shop: str | None = None
    conversation_id: str | None = None
    conversations: int = 0
    buyers_received: int = 0
    buyers_replied: int = 0
    messages: int = 0
    buyer_messages: int = 0
    turns: int = 0
    turns_replied: int = 0
    timed_turns: int = 0
    delay_us: int = 0
    first_responses: int = 0
    first_us: int = 0

    def absorb(self, other: MetricPart) -> None:
        """Add ``other``'s counters, conversations and buyers included (for aggregates of one day)."""
        self.shop = self.shop or other.shop
        for name in (*_SUMMED, "conversations", "buyers_received", "buyers_replied"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def conversation_parts(
    conversation: Conversation,
    rule: DayRule | None = None,
    days: Sequence[str] | None = None,
    turns: Sequence[Turn] | None = None,
) -> list[MetricPart]:
    """The conversation's counters per agent and day, sorted by day then agent.

    An agent takes part in the conversation on a day when they typed a message or a buyer turn
    is attributed to them that day; they *received* the buyer that day when a turn is
    attributed to them, and *replied* when they answered one of those turns. ``days`` is
    :func:`message_days` of the conversation and ``turns`` its :func:`conversation_turns` with
    those days, when the caller has them already.
    """
    if days is None:
        days = message_days(conversation, rule or DayRule())
    if turns is None:
        turns = conversation_turns(conversation, rule, days)
    parts: dict[tuple[str, str], MetricPart] = {}
    cid, shop = conversation.id, conversation.shop

    def part(agent: str, day: str) -> MetricPart:
        key = (agent, day)
        if key not in parts:
            parts[key] = MetricPart(agent, day, shop, cid, conversations=1)
        return parts[key]

    for m in conversation.messages:
        if m.counts_as_agent:
            part(m.agent or UNASSIGNED, days[m.index]).messages += 1
    for position, turn in enumerate(turns):
        p = part(turn.agent, turn.date)
        p.buyer_messages += turn.buyer_messages
        if turn.closing:
            continue  # 好的谢谢 at the end: messages of the answer ratio, no buyer awaiting a reply
        p.turns += 1
        p.buyers_received = 1
        if turn.replied:
            p.turns_replied += 1
            p.buyers_replied = 1
            if turn.delay_us is not None:
                p.timed_turns += 1
                p.delay_us += turn.delay_us
                if position == 0:
                    p.first_responses += 1
                    p.first_us += turn.delay_us
    return [parts[k] for k in sorted(parts, key=lambda k: (k[1], k[0]))]


class MetricPool:
    """One agent's counters over one scored window, pooled from parts.

    A period is scored by pooling, never by averaging days: the average response is the sum of
    the window's delays over its timed turns. A conversation counts once however many of the
    window's days it touches (parts of one conversation are recognised by id); aggregates of
    whole days are added as they are.
    """

    __slots__ = ("shop", "counts", "_conversations", "_received", "replied_ids", "_extra")

    def __init__(self) -> None:
        self.shop: str | None = None
        self.counts = dict.fromkeys(_SUMMED, 0)
        self._conversations: set[str] = set()
        self._received: set[str] = set()
        self.replied_ids: set[str] = set()
        # Conversations, buyers received and replied of aggregates (parts without ids).
        self._extra = [0, 0, 0]

    def add(self, part: MetricPart) -> None:
        """Pool one part."""
        self.shop = self.shop or part.shop
        counts = self.counts
        for name in _SUMMED:
            counts[name] += getattr(part, name)
        cid = part.conversation_id
        if cid is None:
            self._extra[0] += part.conversations
            self._extra[1] += part.buyers_received
            self._extra[2] += part.buyers_replied
            return
        self._conversations.add(cid)
        if part.buyers_received:
            self._received.add(cid)
        if part.buyers_replied:
            self.replied_ids.add(cid)

    def metrics(self, agent: str, label: str) -> AgentDayMetrics:
        """The pooled metrics, labelled with the window."""
        c = self.counts
        received = len(self._received) + self._extra[1]
        replied = len(self.replied_ids) + self._extra[2]
        return AgentDayMetrics(
            agent=agent,
            date=label,
            shop=self.shop,
            conversations=len(self._conversations) + self._extra[0],
            messages=c["messages"],
            buyer_messages=c["buyer_messages"],
            turns=c["turns"],
            turns_replied=c["turns_replied"],
            timed_turns=c["timed_turns"],
            buyers_received=received,
            buyers_replied=replied,
            avg_response_s=mean_seconds(c["delay_us"], c["timed_turns"]),
            first_responses=c["first_responses"],
            first_response_s=mean_seconds(c["first_us"], c["first_responses"]),
            reply_rate=replied / received if received else None,
            answer_ratio=c["messages"] / c["buyer_messages"] if c["buyer_messages"] else None,
        )


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
    """Day aggregates of conversations added one at a time, for a run that streams its input.

    Keeps one :class:`MetricPart` per agent and day (integer counters only), so its memory
    grows with agents and days, not with conversations or messages.
    """

    def __init__(self, rule: DayRule | None = None) -> None:
        self.rule = rule or DayRule()
        self._acc: dict[tuple[str, str], MetricPart] = {}
        # Input position of the conversation each agent-day's shop came from, when given.
        self._shop_at: dict[tuple[str, str], Any] = {}

    def add(self, conv: Conversation, days: Sequence[str] | None = None, order: Any = None) -> None:
        """Count one conversation (each conversation once: ids are not kept).

        ``days`` is :func:`message_days` of the conversation under this builder's rule, when
        the caller has it already. ``order`` is the conversation's position in the input
        (any comparable value), for builders fed in another order and merged afterwards:
        an agent-day's shop is then still that of the first conversation in input order.
        Without it, conversations are taken to come in input order.
        """
        self.add_parts(conversation_parts(conv, self.rule, days), order)

    def add_parts(self, parts: Iterable[MetricPart], order: Any = None) -> None:
        """Count parts of conversations (from :func:`conversation_parts`) into the day aggregates.

        ``order`` is the input position of the conversation the parts are of (see :meth:`add`).
        """
        acc = self._acc
        for p in parts:
            key = (p.agent, p.date)
            if key not in acc:
                acc[key] = MetricPart(p.agent, p.date)
            self._take_shop(key, p.shop, order)
            acc[key].absorb(p)

    def _take_shop(self, key: tuple[str, str], shop: str | None, at: Any) -> None:
        """Keep ``shop`` as the agent-day's when it is the first known, or comes earlier in the input."""
        if shop is None:
            return
        part = self._acc[key]
        if part.shop is None or _earlier(at, self._shop_at.get(key)):
            part.shop = shop
            self._shop_at[key] = at

    def merge(self, other: AgentDayMetricsBuilder) -> None:
        """Add the counts of a builder fed other conversations (a worker's chunk).

        Gives the rows one builder fed all the conversations in that order would give (a
        worker of ``qc inspect --jobs`` counts its chunk, the main process merges in order).
        Builders given each conversation's ``order`` (see :meth:`add`) may be merged in any
        order and grouping, as Spark merges the tallies of its partitions.
        """
        acc = self._acc
        for key, p in other._acc.items():
            if key not in acc:
                acc[key] = MetricPart(p.agent, p.date)
            self._take_shop(key, p.shop, other._shop_at.get(key))
            acc[key].absorb(p)

    def parts(self) -> list[MetricPart]:
        """The day aggregates so far (no conversation ids), sorted by day then agent."""
        return [self._acc[k] for k in sorted(self._acc, key=lambda k: (k[1], k[0]))]

    def rows(self) -> list[AgentDayMetrics]:
        """One row per agent per day so far, sorted by day then agent."""
        rows = []
        for p in self.parts():
            pool = MetricPool()
            pool.add(p)
            rows.append(pool.metrics(p.agent, p.date))
        return rows


def time_span(conversation: Conversation) -> tuple[int, datetime, datetime] | None:
    """``(messages, first, last)`` sent time of a conversation whose messages are all timed, else ``None``."""
    times = [m.sent_at for m in conversation.messages]
    if not times or any(t is None for t in times):
        return None
    timed = [t for t in times if t is not None]
    return len(timed), min(timed), max(timed)
