"""A stored conversation prepared for display: highlighted spans, points, slow replies, mood.

Shared by ``qc show`` (terminal) and ``qc report`` (HTML) so both mark the same things. Pure
given the conversation, its findings, the card and the points at stake; only
:func:`load_view` reads the store. Slow replies are the ``slow_response`` evidence findings
(:mod:`qc.scoring.evidence`), each with its share of the response-time points of its day.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from qc.batch.stored import score_stored
from qc.schema import CHARGED_HEAD, HELD_HEAD, Conversation, Finding, Message
from qc.scoring.card import Scorecard, verdict_kind
from qc.scoring.metrics import UNDATED
from qc.scoring.scores import each_charge_once, finding_parts, finding_stakes, inputs_from, score_agents
from qc.store.database import Store
from qc.supervise.masking import spans_of
from qc.supervise.review import ReviewError
from qc.text.annotate import make_annotator

__all__ = [
    "charged_words",
    "Segment",
    "MessageView",
    "ConversationView",
    "slow_reply_threshold",
    "shop_time",
    "Stakes",
    "build_view",
    "load_view",
    "buyer_sentiments",
]


@dataclass(frozen=True, slots=True)
class Segment:
    """A piece of a message's text; ``finding`` is set when the piece is highlighted."""

    text: str
    finding: Finding | None = None


@dataclass(slots=True)
class MessageView:
    """One message with its highlighted segments and what was found in it."""

    message: Message
    segments: list[Segment]
    findings: list[Finding] = field(default_factory=list)
    slow_s: float | None = None
    sentiment: float | None = None
    # What the message's verdict costs: one charge, however many findings share it (the share of
    # a metric item its evidence findings carry is on those findings, not in here).
    charge: float = 0.0
    # Several findings stand behind one charge (the verdict, or a priced kind's per message):
    # readers must be told the points are not added up.
    shared_charge: bool = False
    # The findings that share a charge with another of the message's findings.
    sharing: frozenset[str] = frozenset()
    # When it was sent on the shop's clock (the card's [day] timezone), whatever offset the
    # export wrote: QA staff read the shop's calendar day and clock, whatever the source's zone.
    local_time: datetime | None = None
    # The slow reply was timed at its least (both times to the minute): badges say "at least".
    slow_at_least: bool = False
    # The charges each finding stands behind, ``(key, points)`` (:func:`~qc.scoring.scores.finding_parts`).
    parts: Mapping[str, Sequence[tuple[str, float]]] = field(default_factory=dict)
    # A standing finding behind a verdict the message is not charged for, and the finding whose more
    # severe verdict it is charged for instead (a phrase implying impatience on a reply charged as conflict).
    covered: Mapping[str, str] = field(default_factory=dict)

    @property
    def flagged(self) -> bool:
        """True when a live finding is on this message."""
        return any(f.live for f in self.findings)

    @property
    def same_as_above(self) -> frozenset[str]:
        """The findings standing behind a charge a finding listed above them shows (同上).

        Each showed the whole charge, so the lines of one message added up to twice what it cost
        (audit 162 M2); a phrase implying a lesser verdict carries only its own points, never the
        verdict's (audit 165 H1).
        """
        return frozenset(each_charge_once((f.id for f in self.findings), self.parts)[1])

    def points_shown(self, finding: Finding, points: Mapping[str, float]) -> float:
        """``finding``'s points as a list of the message's findings adds them up: each charge once.

        A finding shows the charges it stands behind that no finding above it shows: the message's
        verdict on the first finding behind it, a priced kind's points on the first of that kind.
        """
        once = each_charge_once((f.id for f in self.findings), self.parts)[0]
        return once.get(finding.id, points.get(finding.id, 0.0))

    def charged_instead(self, finding: Finding) -> Finding | None:
        """The finding whose verdict the message is charged for when ``finding``, standing, costs nothing.

        A phrase implying impatience on a reply charged as conflict read 计为「不够耐心」 beside its
        0 points, while the review sheet said 同一条消息已按 与买家冲突 扣分 (audit 171 L4).
        """
        other = self.covered.get(finding.id)
        return next((f for f in self.findings if f.id == other), None)


@dataclass(slots=True)
class ConversationView:
    """A conversation ready to display."""

    conversation: Conversation
    messages: list[MessageView]
    points: dict[str, float]
    states: dict[str, str]
    slow_threshold_s: float | None
    mood: list[float]

    @property
    def mood_trend(self) -> float | None:
        """Last minus first buyer sentiment (negative: the buyer left unhappier)."""
        return self.mood[-1] - self.mood[0] if len(self.mood) >= 2 else None


# (finding points, message points): what each finding and message puts at stake.
Stakes = tuple[dict[str, float], dict[tuple[str, int], float]]


def slow_reply_threshold(card: Any) -> float | None:
    """The response-time threshold of the card's ``avg_response_s`` item (``over`` rule), if any."""
    for item in card.items:
        if item.rule == "over" and item.metric == "avg_response_s":
            return item.threshold
    return None


def _slow_kinds(card: Scorecard) -> set[str]:
    return {kind for kind, item in card.evidence_kinds.items() if item.metric == "avg_response_s"}


def shop_time(sent_at: datetime | None, zone: ZoneInfo) -> datetime | None:
    """``sent_at`` on the shop's clock: an aware time converted to ``zone``, a naive one as it is.

    Stored times keep the offset their export wrote (+00:00 from a server's API, +08:00 from
    千牛); shown unconverted, a reply the scorecard counts on the 25th read as sent on the 24th.
    """
    if sent_at is None or sent_at.tzinfo is None:
        return sent_at
    return sent_at.astimezone(zone)


def own_stakes(
    conversation: Conversation, findings: Sequence[Finding], card: Scorecard
) -> tuple[Stakes, dict[str, tuple[tuple[str, float], ...]]]:
    """Points at stake of a conversation scored on its own, and the charges behind each finding.

    Scored once for both: each of its days, nothing else stored; the charges are
    :func:`~qc.scoring.scores.finding_parts`.
    """
    inputs = inputs_from([conversation], findings, card)
    verdicts = list(inputs.verdicts)
    inputs.verdicts = verdicts
    scores = score_agents(inputs, card)
    return finding_stakes(scores, verdicts, card), finding_parts(scores, verdicts, card)


def _segments(text: str, findings: Sequence[Finding]) -> list[Segment]:
    spans: list[tuple[int, int, Finding]] = []
    # Spans first, whole-message findings (a slow reply) last: they never hide a phrase.
    for f in sorted(findings, key=lambda f: (not f.live, f.start is None, f.start or 0)):
        start, end = (f.start, f.end) if f.start is not None and f.end is not None else (0, len(text))
        if 0 <= start < end <= len(text) and all(end <= s or start >= e for s, e, _ in spans):
            spans.append((start, end, f))
    spans.sort(key=lambda s: s[0])
    out: list[Segment] = []
    pos = 0
    for start, end, f in spans:
        if start > pos:
            out.append(Segment(text[pos:start]))
        out.append(Segment(text[start:end], f))
        pos = end
    if pos < len(text) or not out:
        out.append(Segment(text[pos:]))
    return out


def build_view(
    conversation: Conversation,
    findings: Sequence[Finding],
    card: Any,
    *,
    states: dict[str, str] | None = None,
    explain: bool = False,
    sentiment: Callable[[Conversation], list[float | None]] | None = None,
    stakes: Stakes | None = None,
    parts: Mapping[str, Sequence[tuple[str, float]]] | None = None,
) -> ConversationView:
    """Lay out a conversation: findings on their messages, slow replies, buyer mood.

    Suppressed findings (vetoed by their context) are only highlighted with ``explain``; held
    ones (待复核) always are: they wait for a reviewer, and the default card holds every verdict of
    the attitude classifier, which a conversation's page hid (audit 164 H3). ``stakes`` are the
    points at stake as the store's scores say (:meth:`StoredScores.stakes`); without them the
    conversation is scored on its own.
    """
    if stakes is None:
        stakes, parts = own_stakes(conversation, findings, card)
    points, charges = stakes
    parts = parts or {}
    points = {f.id: points.get(f.id, 0.0) for f in findings}
    shown = [f for f in findings if explain or f.live or (f.needs_review and not f.suppressed)]
    threshold = slow_reply_threshold(card)
    slow_kinds = _slow_kinds(card)
    slow: dict[int, float] = {}
    at_least: set[int] = set()
    for f in findings:
        delay = f.evidence.details.get("delay_s")
        if f.kind in slow_kinds and f.live and isinstance(delay, int | float):
            slow[f.message_index] = float(delay)
            if f.evidence.details.get("to_the_minute"):
                at_least.add(f.message_index)
    scores = sentiment(conversation) if sentiment else [None] * len(conversation.messages)
    zone = ZoneInfo(card.day.timezone)
    views = []
    for m, s in zip(conversation.messages, scores, strict=False):
        mine = [f for f in shown if f.message_index == m.index]
        evidence = [f for f in mine if f.kind in card.evidence_kinds and f.live]
        charge = round(charges.get((conversation.id, m.index), 0.0) - sum(points[f.id] for f in evidence), 4)
        keys: dict[str, int] = {}
        for f in mine:
            for key, _ in parts.get(f.id, ()):
                keys[key] = keys.get(key, 0) + 1
        behind = frozenset(f.id for f in mine if any(keys[key] > 1 for key, _ in parts.get(f.id, ())))
        shared = bool(behind)
        charging = next((f for f in mine if any(":verdict:" in key for key, _ in parts.get(f.id, ()))), None)
        covered = {
            f.id: charging.id
            for f in mine
            if charging is not None and f.live and verdict_kind(f, card) is not None and not parts.get(f.id)
        }
        local = shop_time(m.sent_at, zone)
        views.append(
            MessageView(
                m,
                _segments(m.text, mine),
                mine,
                slow.get(m.index),
                s,
                charge,
                shared,
                behind,
                local,
                m.index in at_least,
                {f.id: parts[f.id] for f in mine if f.id in parts},
                covered,
            )
        )
    mood = [v.sentiment for v in views if v.message.role.value == "customer" and v.sentiment is not None]
    return ConversationView(conversation, views, points, states or {}, threshold, mood)


def charged_words(view: ConversationView) -> list[str]:
    """The phrases the machine charged in a view (the spans of its findings), which masking spares.

    Only spans: a model's judgement covers its whole message, and a message that writes the
    buyer's nick besides the charged words must still hide it.
    """
    return spans_of(f for mv in view.messages for f in mv.findings)


def buyer_sentiments(conversation: Conversation) -> list[float | None]:
    """Snownlp sentiment of each buyer message (``None`` for the others); needs snownlp/jieba."""
    features = make_annotator()(conversation)
    return [
        f.sentiment if m.role.value == "customer" else None
        for m, f in zip(conversation.messages, features, strict=False)
    ]


def load_view(
    store: Store,
    conversation_id: str,
    card: Any,
    *,
    explain: bool = False,
    sentiment: Callable[[Conversation], list[float | None]] | None = None,
) -> ConversationView:
    """Load a stored conversation and its findings and lay it out (see :func:`build_view`).

    Points at stake are those of the daily view: the conversation's days scored from the
    store (a slow reply's share of its agent's response-time points that day).

    Raises:
        ReviewError: the conversation is not in the store.
        ConfigError: the store's days were saved with another day rule or evidence limits.
    """
    convs = store.conversations([conversation_id])
    if conversation_id not in convs:
        raise ReviewError(f"no conversation {conversation_id!r} in the store; list them with `qc flagged`")
    days = store.conversation_days(conversation_id)
    if not days:  # messages kept by an older qc, nothing else: nothing is charged
        view = build_view(convs[conversation_id], [], card, explain=explain, sentiment=sentiment)
        view.points = {}
        return view
    dated = [d for d in days if d != UNDATED]
    scored = score_stored(store, card, *((dated[0], dated[-1]) if dated else (UNDATED, UNDATED)))
    findings = [s.finding for s in scored.findings if s.finding.conversation_id == conversation_id]
    return build_view(
        convs[conversation_id],
        findings,
        card,
        states=scored.states,
        explain=explain,
        sentiment=sentiment,
        stakes=scored.stakes(card),
        parts=scored.parts(card),
    )


# The head of a rejected finding's summary, in place of the （扣分） or （待复核） it was stored with.
REJECTED_HEAD = "（已驳回，不扣分）"


def as_decided(summary: str, state: str) -> str:
    """A finding's stored summary, its head saying what review made of it.

    The summary is written at inspection: a rejected finding still read 不够耐心（扣分） beside
    "0 pts · rejected" (audit 162 L4), and a held one confirmed still read （待复核）. ``held``: a
    finding the card holds for review, which the model stored as sure.
    """
    if state == "rejected":
        for head in (CHARGED_HEAD, HELD_HEAD):
            if head in summary:
                return summary.replace(head, REJECTED_HEAD, 1)
    elif state == "confirmed":
        return summary.replace(HELD_HEAD, CHARGED_HEAD, 1)
    elif state == "held":
        # Held by the card, not the model: stored as the model was sure (audit 165 M3).
        return summary.replace(CHARGED_HEAD, HELD_HEAD, 1)
    return summary
