"""The one scoring function: metric parts, message verdicts and evidence in, points per agent out.

Every command that prints a score gets it from :func:`score_agents`: ``qc inspect`` (from
what the run counted, :class:`~qc.batch.chunks.ScoreTally`, or from the store with ``--db``),
``qc export``, ``qc report``, ``qc flagged``, ``qc show`` and the Spark engine (which scores
through :mod:`qc.batch`). What differs between them is only where the inputs come from; a
test checks they print the same numbers.

Inputs (:class:`ScoreInputs`), all keyed by agent and day:

* metric parts (:class:`~qc.scoring.metrics.MetricPart`): integer counters per conversation,
  agent and day, or day aggregates of them;
* message verdicts (:class:`~qc.scoring.card.MessageVerdict`): what each agent message is
  charged with;
* held-back counts (findings awaiting review or vetoed);
* evidence (:class:`EvidenceRef`): the slow replies and unanswered buyers behind the metric
  items (:mod:`qc.scoring.evidence`).

:func:`score_agents` groups the days into windows (:class:`~qc.scoring.periods.Windows`: each
day, each week or month, or one range) and scores each window by **pooling** it: the average
response of a month is the month's delays over the month's timed turns, never an average of
days. A metric item whose sample is below its ``min_sample`` reports "too few" and costs
nothing. Points are rounded as ``[points] decimals`` says; an item stops at its ``floor`` unless
the card says ``floor = "none"``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from qc.schema import Conversation, Deduction, Finding
from qc.scoring.card import (
    METRIC_SAMPLES,
    AttributedFinding,
    Item,
    MessageVerdict,
    Scorecard,
    attribute,
    qualifies,
    verdicts_of,
)
from qc.scoring.evidence import evidence_weight
from qc.scoring.metrics import (
    AgentDayMetrics,
    ConversationMetrics,
    MetricPart,
    MetricPool,
    conversation_metrics,
    conversation_parts,
    message_days,
)
from qc.scoring.periods import Period, Windows

__all__ = [
    "KIND_LABELS",
    "ConversationRecord",
    "EvidenceRef",
    "FindingInputs",
    "ScoreInputs",
    "Scores",
    "agent_columns",
    "conversation_record",
    "each_charge_once",
    "finding_inputs",
    "finding_parts",
    "finding_stakes",
    "inputs_from",
    "score_agents",
    "too_few",
]


class EvidenceRef(NamedTuple):
    """One evidence finding as scoring needs it: whose, which day, which item, how heavy.

    A named tuple, not a dataclass: a long day has one per slow reply (300,000 on a day of a
    million real-text messages), and the end of a run builds them all again from its spool,
    which a frozen dataclass makes five times slower.
    """

    agent: str
    date: str
    kind: str
    finding_id: str
    conversation_id: str
    message_index: int
    weight: float


@dataclass(frozen=True, slots=True)
class ConversationRecord:
    """One conversation as the store keeps it and scoring reads it.

    ``days`` is the day of each message under the card's day rule, ``parts`` its metric
    counters per agent and day, ``findings`` every finding with the agent and day it is
    charged to, ``summary`` the conversation's own metrics (all agents together) and
    ``basis`` what the days and evidence were made with (:attr:`Scorecard.basis`).
    """

    conversation: Conversation
    days: tuple[str, ...]
    parts: tuple[MetricPart, ...]
    findings: tuple[AttributedFinding, ...]
    summary: ConversationMetrics
    basis: str

    @property
    def counted_days(self) -> set[str]:
        """The days the conversation counts on: of its metric parts and of its findings."""
        return {p.date for p in self.parts} | {a.date for a in self.findings}

    def __reduce__(self) -> tuple[Any, ...]:
        # mypyc: a compiled frozen dataclass cannot be unpickled field by field
        return (
            type(self),
            (self.conversation, self.days, self.parts, self.findings, self.summary, self.basis),
        )


def conversation_record(
    conversation: Conversation, findings: Iterable[Finding], card: Scorecard
) -> ConversationRecord:
    """Everything scoring needs of one inspected conversation, under the card's day rule."""
    days = message_days(conversation, card.day)
    return ConversationRecord(
        conversation=conversation,
        days=tuple(days),
        parts=tuple(conversation_parts(conversation, card.day, days)),
        findings=tuple(attribute(conversation, findings, card, days)),
        summary=conversation_metrics(conversation, card.day),
        basis=card.basis,
    )


@dataclass(slots=True)
class FindingInputs:
    """What findings contribute to scoring: verdicts, held-back counts and evidence."""

    verdicts: list[MessageVerdict] = field(default_factory=list)
    held: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)
    evidence: list[EvidenceRef] = field(default_factory=list)


def finding_inputs(findings: Iterable[AttributedFinding], card: Scorecard) -> FindingInputs:
    """Verdicts of the messages, counts of findings held back, and the live evidence.

    A finding is held back when it is suppressed (vetoed, or rejected in review), awaiting
    review, or below its kind's ``min_score``. Evidence that is held back backs nothing.
    """
    attributed = list(findings)
    out = FindingInputs(verdicts=verdicts_of(attributed, card))
    evidence = card.evidence_kinds
    for a in attributed:
        f = a.finding
        if not qualifies(f, card):
            held = out.held.setdefault((a.agent, a.date), {})
            key = "suppressed" if f.suppressed else "needs_review"
            held[key] = held.get(key, 0) + 1
        elif f.kind in evidence:
            out.evidence.append(
                EvidenceRef(
                    a.agent, a.date, f.kind, f.id, f.conversation_id, f.message_index, evidence_weight(f)
                )
            )
    return out


@dataclass(slots=True)
class ScoreInputs:
    """Everything :func:`score_agents` reads, keyed by agent and day.

    ``verdicts`` and ``evidence`` are iterated once (a spool on disk will do); ``parts`` and
    ``held`` too.
    """

    parts: Iterable[MetricPart]
    verdicts: Iterable[MessageVerdict]
    held: Mapping[tuple[str, str], Mapping[str, int]]
    evidence: Iterable[EvidenceRef]


def inputs_from(
    conversations: Iterable[Conversation], findings: Iterable[Finding], card: Scorecard
) -> ScoreInputs:
    """Score inputs of whole conversations and their findings (for tests and small batches)."""
    by_conv: dict[str, list[Finding]] = defaultdict(list)
    for f in findings:
        by_conv[f.conversation_id].append(f)
    parts: list[MetricPart] = []
    attributed: list[AttributedFinding] = []
    for conv in conversations:
        record = conversation_record(conv, by_conv.pop(conv.id, []), card)
        parts.extend(record.parts)
        attributed.extend(record.findings)
    for orphans in by_conv.values():  # findings of conversations not given: undated
        attributed.extend(attribute(None, orphans, card))
    fi = finding_inputs(attributed, card)
    return ScoreInputs(parts, fi.verdicts, fi.held, fi.evidence)


@dataclass(slots=True)
class Scores:
    """Deductions and agent rows of every window, and the evidence behind each metric item.

    ``evidence`` maps ``(agent, window label, item id)`` to the evidence refs that back the
    item's points in that window (kept for :func:`finding_stakes`).
    """

    deductions: list[Deduction]
    rows: list[dict[str, Any]]
    windows: dict[str, Period]
    evidence: dict[tuple[str, str, str], list[EvidenceRef]] = field(default_factory=dict)

    def row(self, agent: str, label: str) -> dict[str, Any] | None:
        """The row of one agent in one window, if any."""
        return next((r for r in self.rows if r["agent"] == agent and r["date"] == label), None)


def _fmt(value: float) -> str:
    return f"{value:g}"


def _plain(value: float) -> str:
    """A measured value in a reason: up to four decimals, never in exponent form (14422.5, 32.002)."""
    return f"{value:.4f}".rstrip("0").rstrip(".")


def _units(item: Item, value: float, threshold: float) -> float:
    over = value - threshold if item.rule == "over" else threshold - value
    units = round(over / item.unit, 9)
    if units <= 0:
        return 0.0
    if item.rounding == "ceil":
        return float(math.ceil(units))
    if item.rounding == "floor":
        return float(math.floor(units))
    return units


def too_few(item: Item, m: AgentDayMetrics) -> str:
    """``"too few timed turns (2 < 20)"`` when the item's sample is below ``min_sample``, else ``""``."""
    if item.min_sample is None or item.metric is None or item.metric not in METRIC_SAMPLES:
        return ""
    name, words = METRIC_SAMPLES[item.metric]
    sample = getattr(m, name)
    return f"too few {words} ({sample} < {item.min_sample})" if sample < item.min_sample else ""


def _metric_deduction(
    item: Item, m: AgentDayMetrics, card: Scorecard, evidence_ids: Sequence[str]
) -> Deduction | None:
    metric, threshold = item.measure()
    value = shown(metric, getattr(m, metric))
    if value is None or too_few(item, m):
        return None
    if item.rule == "target":
        met = item.met(value)
        points = card.round_points(item.points_met if met else item.points_missed)
        if points == 0:
            return None
        word = "met" if met else "missed"
        reason = f"{metric} {_plain(value)} {word} the target {item.met_if} {_fmt(threshold)}"
    else:
        units = _units(item, value, threshold)
        points = card.round_points(units * item.points_per_unit)
        if points == 0:
            return None
        side = "above" if item.rule == "over" else "below"
        # The value, the distance and the units counted must agree on their face: "32 is 1 × 1
        # above 32" (a mean of 32.002 s, ceil) and "1.442e+04" read as errors to an agent.
        exact = round(abs(value - threshold) / item.unit, 9)
        counted = (
            ""
            if item.rounding == "exact" or exact == units
            else f", counted as {_fmt(units)} ({item.rounding})"
        )
        reason = (
            f"{metric} {_plain(value)} is {_plain(exact)} × {_fmt(item.unit)} {side} {_fmt(threshold)}"
            f"{counted} ({_fmt(item.points_per_unit)} each)"
        )
    ids = tuple(evidence_ids) if points < 0 else ()
    if ids:
        reason += f"; {len(ids)} {item.evidence} finding(s) behind it"
    return Deduction(m.agent, m.date, item.id, points, reason, ids)


def _bounded(item: Item, agent: str, label: str, raw: float, card: Scorecard) -> Deduction | None:
    """An adjustment deduction that enforces the item's cap and floor, if they bite."""
    bounded = raw
    if item.cap is not None and bounded < -item.cap:
        bounded = -item.cap
    if item.floor is not None and item.max_points + bounded < item.floor:
        bounded = item.floor - item.max_points
    adjustment = card.round_points(bounded - raw)
    if adjustment == 0:
        return None
    if item.cap is not None and bounded == -item.cap:
        limit = f"cap {_fmt(item.cap)}"
    else:
        limit = f"floor {_fmt(item.floor if item.floor is not None else bounded)}"
    # The item's score stops there, not the figure it measures: "reply_rate stops at 0" read as a
    # reply rate of 0 % (audit 139 L2).
    reason = (
        f"{limit}: the score of {item.label} ({item.id}) stops at {_fmt(item.max_points + bounded)}"
        f" of {_fmt(item.max_points)}"
    )
    return Deduction(agent, label, item.id, adjustment, reason)


def score_agents(
    inputs: ScoreInputs, card: Scorecard, windows: Windows | None = None, *, sorted_evidence: bool = False
) -> Scores:
    """Score every agent in every window: deductions (each with its reason and findings) and rows.

    The one scoring function (module docstring). ``windows`` groups days (default: each day
    its own window, the daily view); days outside every window are left out. Findings items
    charge each message once for its verdict (one deduction per agent, window, item and kind);
    kinds outside ``verdict_order`` with points of their own are a separate reason. Metric
    items compare the window's pooled metric with the threshold; their deductions list the
    evidence findings behind them. A ``cap`` or ``floor`` that bites adds an adjustment.

    ``sorted_evidence`` says the evidence refs come sorted by day, agent, conversation id and
    message index, as :class:`~qc.batch.spool.VerdictSpool` gives them back. Each item's
    finding ids are then kept in that order, without their refs: a long day has one ref per
    slow reply, and the refs were most of a run's memory at its end (about 260 bytes each
    against 73 for an id). ``Scores.evidence`` then stays empty, so such scores cannot go to
    :func:`finding_stakes`.
    """
    windows = windows or Windows.daily()
    periods: dict[str, Period] = {}

    def window(day: str) -> str | None:
        p = windows.of(day)  # cached per day by Windows
        if p is None:
            return None
        periods.setdefault(p.label, p)
        return p.label

    pools: dict[tuple[str, str], MetricPool] = defaultdict(MetricPool)
    for part in inputs.parts:
        label = window(part.date)
        if label is not None:
            pools[(part.agent, label)].add(part)

    counts: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    charged: dict[tuple[str, str, str, str], list[tuple[str, ...]]] = defaultdict(list)
    findings_items = [i for i in card.items if i.rule == "findings"]
    for v in inputs.verdicts:
        label = window(v.date)
        if label is None:
            continue
        c = counts[(v.agent, label)]
        if v.verdict:
            c[v.verdict] += 1
        for kind in v.kinds:
            if kind not in card.verdict_order:
                c[kind] += 1
        for item in findings_items:
            if v.verdict is not None and item.points.get(v.verdict, 0) != 0:
                charged[(v.agent, label, item.id, v.verdict)].append(v.verdict_findings)
            for kind, ids in v.kinds.items():
                if kind not in card.verdict_order and item.points.get(kind, 0) != 0:
                    charged[(v.agent, label, item.id, kind)].append(ids)

    held: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for (agent, day), by_kind in inputs.held.items():
        label = window(day)
        if label is not None:
            for kind, n in by_kind.items():
                held[(agent, label)][kind] += n

    evidence: dict[tuple[str, str, str], list[EvidenceRef]] = defaultdict(list)
    # Each item's finding ids in (day, conversation id, message index) order.
    evidence_ids: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    evidence_items = card.evidence_kinds
    for ref in inputs.evidence:
        label = window(ref.date)
        backed = evidence_items.get(ref.kind)
        if label is None or backed is None:
            continue
        pool = pools.get((ref.agent, label))
        # A buyer answered on another day of the window was replied in the window.
        if backed.metric == "reply_rate" and pool is not None and ref.conversation_id in pool.replied_ids:
            continue
        counts[(ref.agent, label)][ref.kind] += 1
        if sorted_evidence:
            # One agent's refs come in that order already (the spool's), and a group is one agent's.
            evidence_ids[(ref.agent, label, backed.id)].append(ref.finding_id)
        else:
            evidence[(ref.agent, label, backed.id)].append(ref)
    for group, refs in evidence.items():
        refs.sort(key=lambda e: (e.date, e.conversation_id, e.message_index))
        evidence_ids[group] = [e.finding_id for e in refs]

    deductions: list[Deduction] = []
    raw: dict[tuple[str, str, str], float] = defaultdict(float)
    for (agent, label, item_id, kind), messages in sorted(charged.items()):
        item = next(i for i in findings_items if i.id == item_id)
        each = item.points[kind]
        points = card.round_points(each * len(messages))
        ids = tuple(dict.fromkeys(i for group in messages for i in group))
        reason = f"{len(messages)} × {kind} ({_fmt(each)} each)"
        deductions.append(Deduction(agent, label, item.id, points, reason, ids, kind))
        raw[(agent, label, item.id)] += points

    metrics: dict[tuple[str, str], AgentDayMetrics] = {}
    for key in set(pools) | set(counts) | set(held):
        pool = pools.get(key)
        metrics[key] = pool.metrics(*key) if pool is not None else AgentDayMetrics(agent=key[0], date=key[1])
    for (agent, label), m in metrics.items():
        for item in card.items:
            if item.rule == "findings":
                continue
            d = _metric_deduction(item, m, card, evidence_ids.get((agent, label, item.id), ()))
            if d is not None:
                deductions.append(d)
                raw[(agent, label, item.id)] += d.points
    items = {i.id: i for i in card.items}
    for (agent, label, item_id), total in sorted(raw.items()):
        adjustment = _bounded(items[item_id], agent, label, total, card)
        if adjustment is not None:
            deductions.append(adjustment)
    order = {i.id: n for n, i in enumerate(card.items)}

    def when(label: str) -> tuple[str, str]:
        p = periods.get(label)
        return (p.first if p else label, label)

    deductions.sort(key=lambda d: (*when(d.date), d.agent, order[d.item]))
    rows = _rows(metrics, counts, held, deductions, card)
    rows.sort(key=lambda r: (*when(r["date"]), r["agent"]))
    return Scores(deductions, rows, periods, dict(evidence))


# ------------------------------------------------------------------------------ agents table

# (key, 中文 header) of the fixed metric columns of agents.csv / agents.xlsx / agents.json.
_METRIC_COLUMNS: tuple[tuple[str, str], ...] = (
    ("agent", "客服"),
    ("date", "日期"),
    ("shop", "店铺"),
    ("conversations", "接待会话数"),
    ("messages", "客服消息数"),
    ("buyer_messages", "买家消息数"),
    ("turns", "买家轮次"),
    ("turns_replied", "已回复轮次"),
    ("buyers_received", "接待人数"),
    ("buyers_replied", "回复人数"),
    ("reply_rate", "回复率"),
    ("avg_response_s", "平均响应时间(秒)"),
    ("timed_turns", "计时轮次"),
    ("first_response_s", "首次响应时间(秒)"),
    ("first_responses", "首响会话数"),
    ("answer_ratio", "答问比"),
)
# 考核表 names of the finding kinds, for tables and charts.
KIND_LABELS = {
    "impatience": "不够耐心",
    "conflict": "与买家冲突",
    "forbidden_phrase": "禁用语",
    "slow_response": "慢回复",
    "slow_first_response": "首响超时",
    "missed_reply": "未回复买家",
    "silent_transfer": "转接未告知",
}
_ALWAYS_KINDS = ("impatience", "conflict", "forbidden_phrase")


def _kinds(card: Scorecard) -> list[str]:
    return list(dict.fromkeys((*card.verdict_order, *_ALWAYS_KINDS, *card.kinds)))


def agent_columns(card: Scorecard) -> list[tuple[str, str]]:
    """Every column of the agents table as (key, 中文 header), in output order.

    Per item: the points and the score, then for a target item whether it was met, and for
    an item with ``min_sample`` a note saying when its sample was too small to score.
    """
    cols = list(_METRIC_COLUMNS)
    cols += [(k, f"{KIND_LABELS.get(k, k)}次数") for k in _kinds(card)]
    cols += [("needs_review", "待复核"), ("suppressed", "已排除")]
    for item in card.items:
        cols.append((f"{item.id}_points", f"{item.label}加减分"))
        cols.append((f"{item.id}_score", f"{item.label}得分"))
        if item.rule == "target":
            cols.append((f"{item.id}_met", f"{item.label}达标"))
        if item.min_sample is not None:
            cols.append((f"{item.id}_note", f"{item.label}说明"))
    cols += [("total_points", "合计加减分"), ("total_score", "合计得分")]
    return cols


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


# How many decimals the agents table gives each measured figure: a rate to 0.01 %, seconds to
# 0.01 s. Points are computed from the figure as shown, so a QA lead who recomputes them from
# the table gets the same points (200 of 201 buyers was shown 0.995 and scored as 0.995025, a
# half point apart, audit 139 M1).
SHOWN_DECIMALS = {"reply_rate": 4, "avg_response_s": 2, "first_response_s": 2, "answer_ratio": 4}


def shown(metric: str, value: float | None) -> float | None:
    """A measured figure as the agents table shows it, and as its points are computed from it."""
    digits = SHOWN_DECIMALS.get(metric)
    return value if digits is None else _round(value, digits)


def _rows(
    metrics: Mapping[tuple[str, str], AgentDayMetrics],
    counts: Mapping[tuple[str, str], Mapping[str, int]],
    held: Mapping[tuple[str, str], Mapping[str, int]],
    deductions: Iterable[Deduction],
    card: Scorecard,
) -> list[dict[str, Any]]:
    points: dict[tuple[str, str, str], float] = defaultdict(float)
    for d in deductions:
        points[(d.agent, d.date, d.item)] += d.points
    kinds = _kinds(card)
    rows = []
    for (agent, label), m in metrics.items():
        row: dict[str, Any] = {
            "agent": agent,
            "date": label,
            "shop": m.shop,
            "conversations": m.conversations,
            "messages": m.messages,
            "buyer_messages": m.buyer_messages,
            "turns": m.turns,
            "turns_replied": m.turns_replied,
            "buyers_received": m.buyers_received,
            "buyers_replied": m.buyers_replied,
            "reply_rate": shown("reply_rate", m.reply_rate),
            "avg_response_s": shown("avg_response_s", m.avg_response_s),
            "timed_turns": m.timed_turns,
            "first_response_s": shown("first_response_s", m.first_response_s),
            "first_responses": m.first_responses,
            "answer_ratio": shown("answer_ratio", m.answer_ratio),
        }
        c = counts.get((agent, label), {})
        for kind in kinds:
            row[kind] = c.get(kind, 0)
        h = held.get((agent, label), {})
        row["needs_review"] = h.get("needs_review", 0)
        row["suppressed"] = h.get("suppressed", 0)
        total_points = 0.0
        total_score = 0.0
        for item in card.items:
            p = card.round_points(points.get((agent, label, item.id), 0.0))
            row[f"{item.id}_points"] = p
            row[f"{item.id}_score"] = card.round_points(item.max_points + p)
            if item.rule == "target":
                metric, _ = item.measure()
                value = shown(metric, getattr(m, metric))
                row[f"{item.id}_met"] = None if too_few(item, m) else item.met(value)
            if item.min_sample is not None:
                row[f"{item.id}_note"] = too_few(item, m)
            total_points += p
            total_score += item.max_points + p
        row["total_points"] = card.round_points(total_points)
        row["total_score"] = card.round_points(total_score)
        rows.append(row)
    return rows


# ------------------------------------------------------------------------ points at stake


def _window_of(scores: Scores, day: str) -> str | None:
    """The label of the first scored window holding ``day`` (``None``: none does)."""
    return next((label for label, w in scores.windows.items() if w.first <= day <= w.last), None)


def _bounded_scale(
    scores: Scores, verdicts: list[MessageVerdict], items: list[Item], card: Scorecard
) -> dict[tuple[str, str | None, str], float]:
    """``(agent, window, item) → cost / raw`` where a cap, a floor or rounding made an item cost otherwise.

    Less than its points (a cap of 10 on 42), or more (−0.5 a message with whole points: one
    message costs −1, audit 139 M2): either way the messages' shares add up to what it cost.
    """
    raw: MutableMapping[tuple[str, str | None, str], float] = defaultdict(float)
    for v in verdicts:
        window = _window_of(scores, v.date)
        for item in items:
            if v.verdict is not None:
                raw[(v.agent, window, item.id)] += item.points.get(v.verdict, 0.0)
            for kind in v.kinds:
                if kind not in card.verdict_order:
                    raw[(v.agent, window, item.id)] += item.points.get(kind, 0.0)
    scale = {}
    for (agent, window, item_id), points in raw.items():
        row = scores.row(agent, window) if window is not None else None
        cost = row.get(f"{item_id}_points") if row else None
        if points < 0 and isinstance(cost, int | float) and cost <= 0 and cost != points:
            scale[(agent, window, item_id)] = cost / points
    return scale


def finding_parts(
    scores: Scores, verdicts: Iterable[MessageVerdict], card: Scorecard
) -> dict[str, tuple[tuple[str, float], ...]]:
    """The charges each finding stands behind, each named once per message: ``(key, points)``.

    A message's verdict is one charge every finding behind it carries, and each kind charged on
    its own (a forbidden phrase a card prices) is one charge its findings of that message carry:
    a list of findings shows each key once and adds up to what the message costs (audit 165 H1).
    Scaled as :func:`finding_stakes` scales them.
    """
    parts: dict[str, list[tuple[str, float]]] = defaultdict(list)
    items = [item for item in card.items if item.rule == "findings"]
    verdicts = list(verdicts)
    scale = _bounded_scale(scores, verdicts, items, card)
    for v in verdicts:
        window = _window_of(scores, v.date)
        here = f"{v.conversation_id}#{v.message_index}"
        for item in items:
            points, factor = item.points, scale.get((v.agent, window, item.id), 1.0)
            if v.verdict is not None and points.get(v.verdict, 0.0):
                for fid in v.verdict_findings:
                    parts[fid].append((f"{here}:verdict:{item.id}", round(points[v.verdict] * factor, 4)))
            for kind, ids in v.kinds.items():
                if kind not in card.verdict_order and points.get(kind, 0.0):
                    for fid in ids:
                        parts[fid].append((f"{here}:{kind}:{item.id}", round(points[kind] * factor, 4)))
    return {fid: tuple(p) for fid, p in parts.items()}


def each_charge_once(
    ids: Iterable[str], parts: Mapping[str, Sequence[tuple[str, float]]]
) -> tuple[dict[str, float], set[str]]:
    """What each listed finding shows so a list adds up: each charge once, on the first behind it.

    Walked in the order listed, a finding shows the charges of :func:`finding_parts` no finding
    above it shows; the second value holds the ids standing behind a charge shown above (同上).
    A finding of no charge is absent from the first value: it shows its own points.
    """
    listed: set[str] = set()
    shown: dict[str, float] = {}
    below: set[str] = set()
    for fid in ids:
        mine = parts.get(fid, ())
        if not mine:
            continue
        shown[fid] = round(sum(points for key, points in mine if key not in listed), 6) + 0.0
        if any(key in listed for key, _ in mine):
            below.add(fid)
        listed.update(key for key, _ in mine)
    return shown, below


def finding_stakes(
    scores: Scores, verdicts: Iterable[MessageVerdict], card: Scorecard
) -> tuple[dict[str, float], dict[tuple[str, int], float]]:
    """Points (negative) each finding and each message puts at stake in the scored windows.

    A finding behind a message's verdict carries the verdict's whole points (the message is
    charged once whichever of them stands); a kind charged on its own carries its points. When
    an item's cap or floor stopped its deduction in a window, each of its points there is scaled
    by what the item cost over what its findings add up to, so the messages' shares still add up
    to what the day cost (a cap of 10 on 42 points of findings: each point counts 10/42). An
    evidence finding carries its share of its item's points in its window, in proportion to
    its weight (seconds over the limit, or 1 per unanswered buyer): the shares of an item add
    up to what the item cost. Returns ``(finding_points, message_points)``, messages keyed by
    ``(conversation id, index)``.
    """
    by_finding: MutableMapping[str, float] = defaultdict(float)
    by_message: MutableMapping[tuple[str, int], float] = defaultdict(float)
    items = [item for item in card.items if item.rule == "findings"]
    verdicts = list(verdicts)
    scale = _bounded_scale(scores, verdicts, items, card)
    for v in verdicts:
        total = 0.0
        window = _window_of(scores, v.date)
        for item in items:
            points, factor = item.points, scale.get((v.agent, window, item.id), 1.0)
            if v.verdict is not None:
                total += points.get(v.verdict, 0.0) * factor
                for fid in v.verdict_findings:
                    by_finding[fid] += points.get(v.verdict, 0.0) * factor
            for kind, ids in v.kinds.items():
                if kind not in card.verdict_order:
                    total += points.get(kind, 0.0) * factor
                    for fid in ids:
                        by_finding[fid] += points.get(kind, 0.0) * factor
        by_message[(v.conversation_id, v.message_index)] += total
    for (agent, label, item_id), refs in scores.evidence.items():
        row = scores.row(agent, label)
        cost = row.get(f"{item_id}_points", 0.0) if row else 0.0
        weight = sum(r.weight for r in refs)
        if cost >= 0 or weight <= 0:
            continue
        for r in refs:
            share = cost * r.weight / weight
            by_finding[r.finding_id] += share
            by_message[(r.conversation_id, r.message_index)] += share
    return (
        {k: round(v, 4) + 0.0 for k, v in by_finding.items()},
        {k: round(v, 4) + 0.0 for k, v in by_message.items()},
    )
