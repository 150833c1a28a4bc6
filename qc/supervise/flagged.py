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

import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from qc.batch.stored import StoredScores, score_stored
from qc.schema import Conversation, Finding
from qc.scoring.card import (
    CONFIRMED,
    REJECTED,
    apply_decisions,
    counted_kind,
    load_scorecard,
    message_verdicts,
)
from qc.scoring.metrics import UNDATED
from qc.scoring.periods import Windows, range_period
from qc.scoring.scores import KIND_LABELS, each_charge_once
from qc.store.database import Store, StoredFinding
from qc.supervise.explain import cue_zh

__all__ = [
    "charged_once",
    "free_kind",
    "free_reasons",
    "FlaggedConversation",
    "flagged_conversations",
    "flagged_from",
]


def _label(kind: str) -> str:
    return f"{KIND_LABELS[kind]} {kind}" if kind in KIND_LABELS else kind


def free_reasons(
    conversations: Iterable[Conversation],
    findings: Iterable[Finding],
    card: Any,
    points: dict[str, float],
    states: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Why each finding that puts no points at stake costs nothing (Chinese, with the English key).

    The review sheet shows it beside the points so QA sees at once that a row is a rejected,
    vetoed, held-back or already-charged finding rather than a missing deduction. Findings that
    do cost points (``points``: what each puts at stake in the scores) are absent. ``findings``
    are as stored; their review ``states`` (``finding_states``) are applied here.
    """
    conversations = list(conversations)
    states = states or {}
    marked = apply_decisions(list(findings), states, card)
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
        if states.get(f.id) == REJECTED:
            reason = "已驳回，不再扣分 (rejected in review)"
        elif f.suppressed:
            cue = f"：{cue_zh(f.cue)}" if f.cue else ""  # worded as the workbench words it
            reason = f"上下文已排除{cue} (suppressed by context, never charged)"
        elif f.kind in card.review_only and states.get(f.id) != CONFIRMED:
            reason = f"{_label(f.kind)} 只进复核队列，不直接扣分 (review_only in the scorecard)"
        elif f.needs_review:
            reason = "待复核：把握不足，确认前不扣分 (needs review)"
        elif f.score < threshold and f.evidence.details.get("review") != CONFIRMED:
            reason = f"置信度 {f.score:.2f} 低于扣分线 {threshold:g} (below min_score)"
        elif f.kind in card.evidence_kinds:
            # The card prices slow replies: the item cost nothing in this window (too few turns
            # for its min_sample, or the average within the limit), not "no points".
            item = card.evidence_kinds[f.kind]
            reason = (
                f"{_label(f.kind)} 是「{item.label}」的依据，该项在本时段未扣分：样本不足或未超限"
                f" (items.{item.id} costs nothing in this window: too few turns, or within its limit)"
            )
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


def charged_once(
    rows: Sequence[StoredFinding],
    points: Mapping[str, float],
    evidence: Collection[str],
    parts: Mapping[str, Sequence[tuple[str, float]]] | None = None,
) -> tuple[dict[str, float], set[str]]:
    """Each listed finding's points as a list adds them up: a message's charge once.

    Every finding behind a message's verdict carries the verdict's whole points (any of them
    standing charges it), so a list of 爱买不买's conflict and its FP-0014 showed −5 twice and
    added up to more than the dashboard's number. The first of them listed keeps the charge;
    the others show 0 and are named in the second value, to be marked as sharing it. With
    ``parts`` (:func:`~qc.scoring.scores.finding_parts`) each charge a finding stands behind is
    shown once, on the first finding listed behind it: a phrase a card prices at −2 showed 0
    beside its verdict, and the list −7 for −14 (audit 165 H2).
    """
    shown: dict[str, float] = {}
    shared: set[str] = set()
    if parts is not None:
        once, shared = each_charge_once((s.id for s in rows), parts)
        return {s.id: once.get(s.id, points.get(s.id, 0.0)) for s in rows}, shared
    seen: set[tuple[str, int]] = set()
    for s in rows:
        f = s.finding
        at = points.get(f.id, 0.0)
        if f.kind in evidence or not at:
            shown[f.id] = at
            continue
        key = (f.conversation_id, f.message_index)
        if key in seen:
            shown[f.id] = 0.0
            shared.add(f.id)
        else:
            seen.add(key)
            shown[f.id] = at
    return shown, shared


@dataclass(slots=True)
class FlaggedConversation:
    """One flagged conversation and why.

    ``kinds`` counts its live findings by kind, as found; ``charged`` what they cost, as the
    scorecard's columns count it (a message's verdict once, a kind charged on its own, each slow
    reply with a share of its item); ``uncharged`` the live findings that cost nothing there
    (a forbidden phrase worth 0 points, a message already charged for a stronger verdict);
    ``held`` the findings held for review (待复核: the classifier's verdicts on the bundled card),
    which cost nothing until a reviewer confirms them, by kind, and ``held_ids`` their ids.
    """

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
    charged: dict[str, int] = field(default_factory=dict)
    uncharged: dict[str, int] = field(default_factory=dict)
    held: dict[str, int] = field(default_factory=dict)
    held_ids: list[str] = field(default_factory=list)

    def held_text(self, labels: Mapping[str, str] | None = None) -> str:
        """``impatience×2``: the findings held for review, by kind, named as :meth:`charged_text` does."""
        return _counts(self.held, labels)

    def to_json(self) -> dict[str, Any]:
        """A JSON-safe dict."""
        return {k: getattr(self, k) for k in self.__slots__}

    def charged_text(self, labels: Mapping[str, str] | None = None) -> str:
        """``impatience×2 (未扣分 not charged: forbidden_phrase×1)``: what it costs, then what costs nothing.

        ``labels`` names the kinds (the Chinese labels of a sheet); by default their keys.
        """
        if not self.uncharged:
            return _counts(self.charged, labels)
        free = f"未扣分 not charged: {_counts(self.uncharged, labels)}"
        return f"{_counts(self.charged, labels)} ({free})" if self.charged else free


def _counts(kinds: Mapping[str, int], labels: Mapping[str, str] | None) -> str:
    return " ".join(f"{(labels or {}).get(k, k)}×{n}" for k, n in kinds.items())


def flagged_conversations(
    store: Store,
    *,
    agent: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    kind: str | None = None,
    min_points: float = 0.0,
    card: Any = None,
    held: bool = False,
) -> list[FlaggedConversation]:
    """Conversations with findings that cost points, worst (most points) first.

    The range (every stored day when none is given) is scored as one window. ``min_points``
    is a magnitude: 5 keeps conversations that cost at least 5 points. With ``held`` only the
    conversations holding findings held for review, whether anything else costs points or not:
    on the bundled card every classifier verdict waits there, and a chat with nothing else was
    in no list but the review queue (audit 167 L3).
    """
    card = card or load_scorecard()
    # A kind the card prices at 0 charges no conversation: --kind lists where it was found.
    costly_only = kind is None or not free_kind(card, kind)
    rows = [
        row
        for lo, hi in listing_windows(store, date_from, date_to)
        for row in flagged_from(
            score_stored(store, card, lo, hi, Windows.only(range_period(lo, hi))),
            card,
            agent=agent,
            kind=kind,
            min_points=min_points,
            costly_only=costly_only,
            held=held,
        )
    ]
    rows.sort(key=lambda fc: (fc.points, -fc.findings, fc.date, fc.conversation_id))
    return rows


def listing_windows(
    store: Store, date_from: str | None = None, date_to: str | None = None
) -> list[tuple[str, str]]:
    """The windows a listing of the store scores, each as one: ``(first day, last day)``.

    The days ``date_from`` … ``date_to`` (open ends run to the store's first or last day). With
    neither, the whole store: its dated days, and the conversations without times on their own
    (``undated``, as ``qc export --date undated`` scores them), which a listing of every day
    left out while they were charged (audit 152 M1). ``undated`` itself is that window alone.
    """
    if UNDATED in (date_from, date_to):
        return [(UNDATED, UNDATED)]
    out: list[tuple[str, str]] = []
    span = store.day_range()
    if span is not None:
        lo, hi = date_from or span[0], date_to or span[1]
        if lo <= hi:
            out.append((lo, hi))
    if date_from is None and date_to is None and store.has_undated():
        out.append((UNDATED, UNDATED))
    return out


def free_kind(card: Any, kind: str) -> bool:
    """True when the card charges nothing for a finding kind (silent_transfer on the seed card).

    ``--kind silent_transfer`` said "no flagged conversations" while agents.csv counted one: a
    QA lead coaching on silent transfers had no list to pull (audit 97 #3). Such a kind is
    listed by where it was found, at 0 points.
    """
    priced = {k for item in card.items if item.rule == "findings" for k, p in item.points.items() if p}
    return kind not in priced and kind not in card.evidence_kinds and kind not in card.verdict_order


def flagged_from(
    scored: StoredScores,
    card: Any,
    *,
    agent: str | None = None,
    kind: str | None = None,
    min_points: float = 0.0,
    date_from: str | None = None,
    date_to: str | None = None,
    costly_only: bool = True,
    held: bool = False,
) -> list[FlaggedConversation]:
    """The flagged conversations of scores already made (:func:`flagged_conversations` without the scoring).

    For a caller that scored the range anyway (the workbench's dashboard): ``scored`` must be
    scored with the range as one window, or with windows that hold ``date_from`` … ``date_to``
    whole (a month of a monthly trend); findings dated outside them are left out. With
    ``costly_only`` off, conversations whose findings cost nothing are listed too (after the
    others): a spot check opens their findings as well.
    """
    finding_points, msg_points = scored.stakes(card)
    out: dict[str, FlaggedConversation] = {}
    messages: dict[str, set[int]] = {}
    first_live: dict[str, str] = {}
    first_held: dict[str, str] = {}
    held_by: dict[str, list[str]] = {}  # the agents of a chat whose findings are all held
    costliest: dict[str, float] = {}
    for s in scored.findings:
        if agent and s.scored_agent != agent:
            continue
        if (date_from and s.date < date_from) or (date_to and s.date > date_to):
            continue
        f = s.finding
        fc = out.setdefault(
            f.conversation_id, FlaggedConversation(f.conversation_id, s.date, s.shop, [], 0.0, 0)
        )
        messages.setdefault(f.conversation_id, set()).add(f.message_index)
        if f.id in scored.rejected:
            fc.rejected += 1
        elif f.needs_review and not f.suppressed:
            fc.held[f.kind] = fc.held.get(f.kind, 0) + 1
            fc.held_ids.append(f.id)
            first_held.setdefault(f.conversation_id, f.text)
            who_held = held_by.setdefault(f.conversation_id, [])
            if (agent_of := f.agent or s.scored_agent) and agent_of not in who_held:
                who_held.append(agent_of)
        if not f.live:
            continue
        fc.findings += 1
        fc.kinds[f.kind] = fc.kinds.get(f.kind, 0) + 1
        fc.finding_ids.append(f.id)
        who = f.agent or s.scored_agent
        if who and who not in fc.agents:
            fc.agents.append(who)
        # The excerpt quotes what costs the most: a 0-point finding (a silent transfer, a phrase
        # priced at 0) before the charged slow reply was quoted instead (audit 95 A5), and a
        # polite reply slow by 0.07 points before the −5 conflict (audit 112 L5). Ties: the first.
        first_live.setdefault(f.conversation_id, f.text)
        cost = finding_points.get(f.id, 0.0)
        if cost < costliest.get(f.conversation_id, 0.0):
            costliest[f.conversation_id] = cost
            fc.excerpt = f.text

    # What each conversation is charged as, as the scorecard's columns count it: a message's
    # verdict (a forbidden phrase implying conflict makes it conflict), a kind charged on its own,
    # and the evidence of metric items. --kind impatience listed a conflict charged through an
    # implied phrase, and missed the impatience charged through FP-0002.
    # A verdict or kind the card gives no points charges nothing (FP-0019 under --strict). Not
    # read from the findings' stakes: a phrase implying conflict carries the conflict's -5.
    priced = {k for item in card.items if item.rule == "findings" for k, p in item.points.items() if p}

    def costs(ids: Iterable[str]) -> bool:
        return any(finding_points.get(fid, 0.0) < 0 for fid in ids)

    charged_ids: dict[str, set[str]] = {}
    as_kind: dict[str, set[str]] = {}  # with --kind: the findings behind that charge, per conversation
    for v in scored.verdicts:
        if (
            (agent and v.agent != agent)
            or (date_from and v.date < date_from)
            or (date_to and v.date > date_to)
            or v.conversation_id not in out
        ):
            continue
        fc, ids = out[v.conversation_id], charged_ids.setdefault(v.conversation_id, set())
        if v.verdict is not None and v.verdict in priced:
            fc.charged[v.verdict] = fc.charged.get(v.verdict, 0) + 1
            ids.update(v.verdict_findings)
            if v.verdict == kind:
                as_kind.setdefault(v.conversation_id, set()).update(v.verdict_findings)
        for own, found in v.kinds.items():
            if own not in card.verdict_order and own in priced:
                fc.charged[own] = fc.charged.get(own, 0) + 1
                ids.update(found)
                if own == kind:
                    as_kind.setdefault(v.conversation_id, set()).update(found)
    evidence = card.evidence_kinds
    live_kind = {f.id: f.kind for s in scored.findings if (f := s.finding).live}
    for cid, fc in out.items():
        ids = charged_ids.setdefault(cid, set())
        for fid in fc.finding_ids:
            found_as = live_kind.get(fid, "")
            if found_as in evidence and costs((fid,)):
                fc.charged[found_as] = fc.charged.get(found_as, 0) + 1
            elif fid not in ids:
                fc.uncharged[found_as] = fc.uncharged.get(found_as, 0) + 1
        fc.charged = dict(sorted(fc.charged.items()))
        fc.uncharged = dict(sorted(fc.uncharged.items()))
    exact: dict[str, float] = {}
    behind = {fid for ids in as_kind.values() for fid in ids}
    found_by_id = {s.finding.id: s.finding for s in scored.findings if s.finding.id in behind}
    for cid, fc in out.items():
        candidates = [found_by_id[fid] for fid in as_kind.get(cid, ()) if fid in found_by_id]
        if candidates:
            # Listed for --kind impatience: its excerpt is that charge's words, not the conflict's
            # (audit 116 L3). The costliest of them, ties the first in the conversation.
            chosen = min(candidates, key=lambda f: (finding_points.get(f.id, 0.0), f.message_index))
            fc.excerpt = chosen.text
        fc.excerpt = fc.excerpt or first_live.get(cid, "") or first_held.get(cid, "")
        fc.held = dict(sorted(fc.held.items()))
        exact[cid] = sum(msg_points.get((cid, i), 0.0) for i in messages[cid])
    _to_the_cent(out, exact, pooled=date_from is None or date_from != date_to)
    for cid, fc in out.items():
        fc.agents = fc.agents or held_by.get(cid, [])
    # Filtered on the exact share: rounding first dropped conversations that cost under half a cent.
    rows = [
        fc
        for cid, fc in out.items()
        # --held: where findings wait for review, whatever the rest costs
        if (bool(fc.held) if held else exact[cid] < 0 or not costly_only)
        and -exact[cid] >= min_points
        and (
            kind is None
            # with --held, the kind held: a chat charged with conflict and holding an impatience
            # is no held conflict (audit 169 F8)
            or (kind in fc.held if held else kind in fc.charged)
            or (not held and kind not in card.verdict_order and kind in fc.kinds)
        )
    ]
    rows.sort(key=lambda fc: (fc.points, -fc.findings, fc.date, fc.conversation_id))
    return rows


def _to_the_cent(out: dict[str, FlaggedConversation], exact: dict[str, float], pooled: bool = False) -> None:
    """Each conversation's points to the cent, so the shares of an agent's day add up to what it cost.

    Rounded one by one, a day's shares came to −195.94 for −196 (audit 124 M2). Within each day
    and shop (``pooled``: the range, scored as one window, audit 125 M1) the cents are shared by
    the largest remainder twice: among the conversations' agents first, so each agent's rows add
    up to its cost (−46.99 for −47 once they were shared over the day alone, audit 126 M1), then
    among each agent's conversations. A share smaller than half a cent keeps its own digits, so no
    cost reads as 0, and is left out of the cents shared.
    """
    windows: dict[tuple[str, str], dict[tuple[str, ...], list[str]]] = {}
    small: set[str] = set()
    for cid, fc in out.items():
        if abs(exact[cid]) < 0.005:
            small.add(cid)
            continue
        window = windows.setdefault(("" if pooled else fc.date, fc.shop), {})
        window.setdefault(tuple(fc.agents), []).append(cid)
    for groups in windows.values():
        sums = {agents: sum(exact[c] * 100 for c in members) for agents, members in groups.items()}
        share = _largest_remainder(sums, round(sum(sums.values())))
        for agents, members in groups.items():
            cents = _largest_remainder({c: exact[c] * 100 for c in members}, share[agents], keep_costs=True)
            for cid in members:
                out[cid].points = cents[cid] / 100 + 0.0
    for cid in small:
        out[cid].points = round(exact[cid], 6) + 0.0


def _largest_remainder(values: Mapping[Any, float], total: int, keep_costs: bool = False) -> dict[Any, int]:
    """Whole numbers near ``values`` adding up to ``total``: the floors, one more to the largest remainders.

    With ``keep_costs`` a negative value never rounds up to 0 (a cost would read as nothing).
    """
    whole = {k: math.floor(v) for k, v in values.items()}
    short = total - sum(whole.values())
    up = [k for k in values if not (keep_costs and whole[k] == -1 and values[k] < 0)]
    for k in sorted(up, key=lambda k: (whole[k] - values[k], str(k)))[: max(0, short)]:
        whole[k] += 1
    return whole
