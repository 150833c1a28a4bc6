"""Review decisions (复核) on stored findings, the audit trail, and re-scoring with them.

A registered reviewer or supervisor (:mod:`qc.supervise.people`) confirms or rejects a finding
by its stable id (:attr:`qc.schema.Finding.id`); nobody reviews a finding charged to their own
account. Every decision is appended to the store's ``review_log`` with who, when (local time
with its offset), why and the state before and after; nothing is ever updated or deleted there.
A reject needs a note (why the finding is wrong); a confirm without one records the rule's own
evidence as the reason. A finding's current state is the latest decision (``pending`` when
there is none). A rejected finding stops costing points: the scorer sees it as suppressed
(:func:`mark_rejected`), both in ``qc export`` and when the same day is inspected again
(finding ids are stable across runs).

A ruling on an appeal is final: later reviews of that finding are refused, with the ruling and
the way out (a supervisor reopens it, ``qc appeal reopen``).

Scores: :func:`export_scores` writes the agents files of any stored day or period
(:func:`qc.batch.stored.score_stored`, the one scoring path); a decision stays attached when
the same finding comes back.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qc.batch.stored import score_stored
from qc.errors import ConfigError
from qc.outputs.staging import OutputStage, holds_run
from qc.outputs.writers import EXPORT_RECORD, ORPHANED_FILE, score_output_names, write_score_outputs
from qc.schema import Conversation, Deduction, Finding
from qc.scoring.card import (
    CONFIRMED,
    DECISIONS,
    REJECTED,
    REJECTED_CUE,
    Scorecard,
    counted_kind,
    held_back,
    load_scorecard,
    mark_confirmed,
    mark_rejected,
    qualifies,
)
from qc.scoring.periods import Period, Windows, parse_period
from qc.scoring.scores import agent_columns
from qc.store.database import Store, StoredFinding, local_now
from qc.supervise.errors import ReviewError
from qc.supervise.people import REVIEWERS, Person, require_person
from qc.supervise.states import ANSWERED, FINAL, OPEN, OVERTURNED, REOPENED
from qc.text.pii import shown_value

if TYPE_CHECKING:  # the store hands out transactions; supervise code never queries through them
    from sqlalchemy import Connection

__all__ = [
    "ReviewError",
    "DECISIONS",
    "PENDING",
    "CONFIRMED",
    "REJECTED",
    "REJECTED_CUE",
    "check_appeal_allows_review",
    "check_not_own",
    "final_ruling",
    "ruled_along",
    "CLOSED_ALONG",
    "held_siblings",
    "verdict_kin",
    "deciding_appeal",
    "deciding_appeals",
    "finding_states",
    "last_decisions",
    "record_decision",
    "reviewers_of",
    "rejected_ids",
    "confirm_effect",
    "covered_note",
    "covering_charge",
    "stored_finding",
    "orphaned_decisions",
    "decide",
    "still_charging",
    "verdict_siblings",
    "audit_trail",
    "mark_rejected",
    "PeriodScores",
    "score_period",
    "export_scores",
    "export_day",
]

PENDING = "pending"


def now() -> str:
    """The current local time with its offset, as decisions and appeals record it."""
    return local_now()


def finding_states(store: Store, finding_ids: Collection[str] | None = None) -> dict[str, str]:
    """Current review state of every reviewed finding (latest decision wins)."""
    return store.latest_states(tuple(DECISIONS), finding_ids)


def last_decisions(store: Store, finding_ids: Collection[str]) -> dict[str, dict[str, Any]]:
    """Each finding's latest decision as its audit row: who, when, why (its note) and the state.

    A supervisor coaching from ``qc show`` saw only "review rejected": not who overturned the
    machine, when, or why.
    """
    out: dict[str, dict[str, Any]] = {}
    for fid in finding_ids:
        for row in store.audit_trail(fid):
            if row["action"] in DECISIONS:
                out[fid] = row
    return out


def rejected_ids(store: Store) -> set[str]:
    """Ids of the findings whose current review state is rejected."""
    return {fid for fid, state in finding_states(store).items() if state == REJECTED}


def stored_finding(store: Store, finding_id: str) -> StoredFinding:
    """One stored finding by id.

    Raises:
        ReviewError: no finding with this id in the store.
    """
    found = store.finding(finding_id)
    if found is None:
        orphaned = store.orphaned_decisions()
        if finding_id in orphaned:
            raise ReviewError(
                f"finding {finding_id} is no longer stored: a later inspection of its conversation did"
                f" not find it again, so its decisions ({orphaned[finding_id]}) are orphaned and kept in"
                " the audit log (qc review log --orphaned); nothing was changed"
            )
        raise ReviewError(
            f"no finding {finding_id!r} in the store; list ids with `qc flagged` or `qc review export`"
        )
    return found


def orphaned_decisions(store: Store) -> dict[str, str]:
    """Decided findings (reviews, appeals) the store no longer holds, with each one's latest state.

    A re-inspection that no longer finds what a decision was about (another span, a removed
    lexicon entry) orphans the decision: it stays in the audit log and is reported here,
    never dropped, and it charges nothing.
    """
    return store.orphaned_decisions()


def final_ruling(store: Store, finding_id: str) -> dict[str, Any] | None:
    """The finding's latest appeal when it is final (upheld or overturned), else ``None``."""
    rows = store.appeal_rows(finding_id=finding_id)
    return rows[-1] if rows and rows[-1]["state"] in FINAL else None


def check_appeal_allows_review(store: Store, finding_id: str) -> None:
    """Refuse a review of a finding whose latest appeal was ruled final or is still pending.

    So too for a finding a final ruling decided along with the appealed one (the same reply's other
    finding, ``qc appeal rule --with-message``): a reviewer flipped it back, and the reply the agent
    won on appeal was charged again without the appeal being reopened (audit 99 F2).

    Raises:
        ReviewError: the ruling (who, when, how a supervisor reopens it), or the pending appeal
            whose ruling decides the finding.
    """
    rows = store.appeal_rows(finding_id=finding_id)
    latest = rows[-1] if rows else None
    ruling = ruled_along(store, finding_id, latest)
    if ruling is not None:
        why = f": {ruling['ruling']}" if ruling.get("ruling") else ""
        what = (
            f"closed: appeal #{ruling['id']} on finding {ruling['finding_id']} (the same message) was"
            f" overturned with its message by {ruling['ruled_by']} at {ruling['ruled_at']}{why}. It was"
            " held for review on the reply that ruling cleared, and is closed with it (a confirm would"
            " charge the reply again)"
            if ruling.get("closed")
            else f"final: it was decided with appeal #{ruling['id']} on finding {ruling['finding_id']}"
            f" (the same message), {ruling['state']} by {ruling['ruled_by']} at {ruling['ruled_at']}{why}."
            " Reviews are closed"
        )
        raise ReviewError(
            f"finding {finding_id} is {what}; a supervisor can reopen it: qc appeal reopen {ruling['id']}"
            " --by NAME --note WHY"
        )
    if latest is not None and latest["state"] in FINAL:
        why = f": {latest['ruling']}" if latest.get("ruling") else ""
        raise ReviewError(
            f"finding {finding_id} is final: appeal #{latest['id']} was {latest['state']} by"
            f" {latest['ruled_by']} at {latest['ruled_at']}{why}. Reviews are closed; a supervisor"
            f" can reopen it: qc appeal reopen {latest['id']} --by NAME --note WHY"
        )
    if latest is not None and latest["state"] in (OPEN, ANSWERED):
        # A review meanwhile was overturned by the ruling, unsaid and unquoted: the appeal decides.
        raise ReviewError(
            f"finding {finding_id} has appeal #{latest['id']} {latest['state']} (opened by"
            f" {latest.get('opened_by') or latest.get('agent') or 'the agent'} at {latest['opened_at']}):"
            " its ruling decides the finding. "
            + (
                f"Answer it (qc appeal answer {latest['id']} --by NAME --note WHY) and a supervisor rules it"
                if latest["state"] == OPEN
                else f"A supervisor rules it: qc appeal rule {latest['id']} --uphold|--overturn --by NAME"
                " --note WHY"
            )
        )


def ruled_along(store: Store, finding_id: str, latest: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """The final appeal of another finding whose ruling in force decided this one along, else ``None``.

    ``qc appeal rule --with-message`` decides the same reply's other findings with the appealed
    one; they are final with it, until that appeal is reopened. So is a finding of the reply held
    for review that such an overturn closed (:data:`CLOSED_ALONG`): the ruling's row then carries
    ``closed = True``. ``latest`` is the finding's own latest appeal when the caller has it (a
    decision of its own appeal is that appeal's).
    """
    if latest is None:
        own = store.appeal_rows(finding_id=finding_id)
        latest = own[-1] if own else None
    trail = store.audit_trail(finding_id)
    decisions = [r for r in trail if r["action"] in DECISIONS]
    decision = decisions[-1] if decisions else None
    along = decision["appeal_id"] if decision is not None else None
    if decision is not None and along is not None and (latest is None or along != latest["id"]):
        ruling = store.appeal_row(along)
        if ruling is not None and ruling["state"] in FINAL and _by_ruling_in_force(store, ruling, decision):
            return ruling
    closed = [r for r in trail if r["action"] == CLOSED_ALONG]
    if not closed or latest is not None or (decision is not None and decision["id"] > closed[-1]["id"]):
        return None
    ruling = store.appeal_row(closed[-1]["appeal_id"])
    if ruling is None or ruling["state"] != OVERTURNED or not _by_ruling_in_force(store, ruling, closed[-1]):
        return None
    return {**ruling, "closed": True}


def deciding_appeal(store: Store, finding_id: str) -> int | None:
    """The appeal whose ruling decides a finding now, so no review may; ``None`` when a review may.

    Its own appeal, pending or final, or one whose ruling in force decided it along.
    Advice to "reject it too" named such findings, and the review was then refused (audit 101 A3).
    """
    own = store.appeal_rows(finding_id=finding_id)
    latest = own[-1] if own else None
    if latest is not None and latest["state"] in (*FINAL, OPEN, ANSWERED):
        return int(latest["id"])
    ruling = ruled_along(store, finding_id, latest)
    return int(ruling["id"]) if ruling is not None else None


def deciding_appeals(store: Store, findings: Iterable[StoredFinding]) -> dict[str, int]:
    """:func:`deciding_appeal` of each finding that has one: the advice beside a rejection names them."""
    return {s.id: n for s in findings if (n := deciding_appeal(store, s.id)) is not None}


def _by_ruling_in_force(store: Store, appeal: dict[str, Any], decision: dict[str, Any]) -> bool:
    """True when ``decision`` (or a closing row) was written by the appeal's latest ruling, not an earlier.

    Reopened and ruled again without the message, an appeal no longer decides what its first
    ruling took along: that finding was locked, yet the ruling told the reviewer to reject it
    (audit 100 N2).
    """
    rules = [
        r["id"]
        for r in store.audit_trail(appeal["finding_id"])
        if r["action"] == "appeal_rule" and r["appeal_id"] == appeal["id"]
    ]
    return bool(rules) and decision["id"] > rules[-1]


def check_not_own(person: Person, finding: Finding, action: str) -> None:
    """Nobody decides on a finding charged to their own account.

    Raises:
        ReviewError: ``person`` carries the agent id the finding is charged to.
    """
    if person.charged_with(finding.agent):
        other = "supervisor" if action.startswith(("rule", "reopen")) else "reviewer"  # rulings: supervisors
        raise ReviewError(
            f"{person.name} cannot {action} finding {finding.id}: it is charged to their own"
            f" account {finding.agent}; ask another {other}"
        )


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of one review decision."""

    finding_id: str
    before: str
    after: str
    # False when the finding already held this decision and nothing was recorded.
    recorded: bool = True
    # The latest decision before this one (its audit row), to say whose a repeat repeats.
    earlier: dict[str, Any] | None = None


def _undecided_since_reopen(store: Store, finding_id: str) -> bool:
    """True when no confirm or reject of the finding was logged after its appeal's latest reopen."""
    trail = store.audit_trail(finding_id)
    reopens = [r["id"] for r in trail if r["action"] == "appeal_reopen"]
    if not reopens:
        return True
    return not any(r["id"] > reopens[-1] for r in trail if r["action"] in DECISIONS)


def _reopened_along(store: Store, finding_id: str, own: dict[str, Any] | None) -> bool:
    """True when the appeal that decided the finding along (``--with-message``) was reopened since.

    The same rule as for the appealed finding: after a reopen, the first decision needs no
    ``--overturn``. It was asked of the appealed finding only: a finding the ruling rejected along
    was refused as "rejected by 李主管 … --overturn" (audit 119 L2). ``own`` is the finding's own
    latest appeal: a decision of that appeal is its own, not one taken along.
    """
    decision = last_decisions(store, [finding_id]).get(finding_id)
    along = decision["appeal_id"] if decision is not None else None
    if decision is None or along is None or (own is not None and along == own["id"]):
        return False
    appeal = store.appeal_row(along)
    if appeal is None or appeal["state"] != REOPENED:
        return False
    reopens = [
        r["id"]
        for r in store.audit_trail(appeal["finding_id"])
        if r["action"] == "appeal_reopen" and r["appeal_id"] == along
    ]
    # Nobody decided it since the reopen: its latest decision is still the ruling's.
    return bool(reopens) and decision["id"] < reopens[-1]


def latest_decision(store: Store, finding_id: str) -> dict[str, Any] | None:
    """The finding's latest confirm or reject as its audit row (who, when, why), or ``None``."""
    rows = [r for r in store.audit_trail(finding_id) if r["action"] in DECISIONS]
    return rows[-1] if rows else None


def decide(
    store: Store,
    finding_id: str,
    decision: str,
    *,
    by: str,
    note: str = "",
    source: str = "cli",
    expected: str | None = None,
    overturn: bool = True,
    check: Callable[[StoredFinding], str | None] | None = None,
) -> Decision:
    """Record a reviewer's confirm/reject decision on a stored finding; returns the state change.

    ``expected`` is the finding's state as the reviewer saw it (a page's form or the review
    sheet's 复核状态 column sends it): when
    another decision landed meanwhile, this one is refused instead of silently overturning it,
    and a form sent twice records its decision once. With ``overturn`` False (the command
    line, which shows no state) a decision that would overturn another person's is refused
    with the fix, and one the finding already holds records nothing unless it brings a new note.
    ``check`` is given the finding as stored under the write lock and returns why the decision
    no longer applies (a re-run saved meanwhile and the id now names another message), or None.

    Raises:
        ReviewError: unknown finding or decision word, a reject without a note, the finding's
            appeal was ruled final, the reviewer reviews their own finding, or the finding is
            no longer in the ``expected`` state, or it would overturn another person's decision
            without ``overturn``.
        PeopleError: ``by`` is not a registered reviewer or supervisor (or nobody is registered).
    """
    if decision not in DECISIONS:
        raise ReviewError(f"decision {decision!r} is unknown: use {' or '.join(DECISIONS)}")
    found = stored_finding(store, finding_id)
    reviewer = require_person(store, by, REVIEWERS, "a review")
    check_not_own(reviewer, found.finding, "review")
    note = note.strip()
    if decision == "reject" and is_blank(note):
        raise ReviewError(
            "a rejection needs a note saying why the finding is wrong: --note WHY (in a review sheet,"
            " the 备注 column)",
            web="驳回需要写明理由 (a rejection needs a note saying why the finding is wrong)",
        )
    reason_given = not is_blank(note)
    if is_blank(note):  # a zero-width space is no reason
        note = found_note(found)
    with store.transaction() as conn:
        # Read under the write lock: no other decision or ruling can land between these checks and
        # ours, and a save that removed the finding meanwhile (it waited for that save) is seen.
        fresh = stored_finding(store, finding_id)
        moved = check(fresh) if check is not None else None
        if moved:
            raise ReviewError(moved)
        # Again under the lock: someone removed a moment before decides nothing (audit 88 #5).
        reviewer = require_person(store, by, REVIEWERS, "a review")
        check_not_own(reviewer, fresh.finding, "review")
        check_appeal_allows_review(store, finding_id)
        current = finding_states(store, [finding_id]).get(finding_id, PENDING)
        earlier = latest_decision(store, finding_id) if not overturn else None
        appeals = store.appeal_rows(finding_id=finding_id)
        # A supervisor reopened the ruling and nobody has decided since: deciding again is what is
        # asked. Once someone has, a repeat is a repeat (audit 116 M3: every click was logged for
        # as long as the appeal stayed reopened).
        asked_again = (
            bool(appeals) and appeals[-1]["state"] == REOPENED and _undecided_since_reopen(store, finding_id)
        ) or _reopened_along(store, finding_id, appeals[-1] if appeals else None)
        if asked_again:
            earlier = None
        if earlier is not None:
            # The note is quoted masked and cut, as values from people are in messages.
            who, at, why = earlier["actor"], earlier["at"], shown_value(str(earlier["note"] or ""), 80)
            if earlier["action"] == decision and note in (earlier["note"], found_note(found)):
                return Decision(finding_id, current, current, recorded=False, earlier=earlier)
            if earlier["action"] != decision and who != reviewer.name:
                raise ReviewError(
                    f"finding {finding_id} was {current} by {who} at {at} ({why}): nothing changed."
                    " To overturn their decision, run qc review again with --overturn, or decide on a"
                    " fresh review sheet (its 复核状态 column shows their decision)"
                )
        if expected is not None and expected not in (PENDING, *DECISIONS.values()):
            raise ReviewError(
                f"the state {shown_value(expected, 20)!r} sent with the decision is not a review state"
                f" ({', '.join((PENDING, *DECISIONS.values()))}): nothing changed; reload the page"
            )
        if expected is not None and current != expected:
            # Who decided meanwhile, quoted as above: a browser user has no `qc review log` at hand.
            last = latest_decision(store, finding_id)
            if last is not None and last["actor"] == reviewer.name:
                # Their own form sent twice, another tab, or the command line: nobody else to ask.
                raise ReviewError(
                    f"finding {finding_id} is {current} now, not {expected} as on your page or sheet:"
                    f" you decided it yourself at {last['at']} (from {last.get('source') or 'elsewhere'});"
                    " nothing changed. Reload the page (or export a fresh sheet) to see it"
                )
            whose = (
                f"{last['actor']} decided it at {last['at']} ({shown_value(str(last['note'] or ''), 80)})"
                if last is not None
                else "a decision landed"
            )
            raise ReviewError(
                f"finding {finding_id} is {current} now, not {expected} as on your page or sheet:"
                f" {whose} meanwhile; nothing changed. Reload the page (or export a fresh sheet) and"
                " decide again if you still disagree, or ask them"
            )
        last = latest_decision(store, finding_id)
        if (
            last is not None
            and last["action"] != decision
            and last["actor"] != reviewer.name
            and not reason_given
            and not asked_again
        ):
            # Overturning another person's decision re-charges (or clears) the agent on one's own
            # word: a reason is asked, as for a rejection. A confirm on a colleague's rejection with
            # an empty note logged the machine's evidence as its why (audit 116 M4).
            who, at = last["actor"], last["at"]
            raise ReviewError(
                f"finding {finding_id} was {current} by {who} at {at}: overturning their decision needs"
                " a note saying why (--note WHY, or the form's 备注); nothing changed"
            )
        if (
            last is not None
            and last["action"] == decision
            and current == DECISIONS[decision]
            and note in (last["note"], found_note(found))
            and not asked_again
        ):
            # The decision the finding already holds, from a page that showed it so (the Back
            # button, a reload, a second reviewer's 确认): it was logged again and "confirmed by"
            # moved to whoever clicked last (audit 112 M3). Nothing is recorded.
            return Decision(finding_id, current, current, recorded=False, earlier=last)
        return record_decision(
            store, conn, finding_id, decision, actor=reviewer.name, note=note, source=source
        )


def finding_about(finding: Finding, conversation: Conversation | None) -> str:
    """A short fingerprint of what a decision is about, as the page deciding it showed it.

    The finding's words and its message's words and time. A finding's id comes from its
    message's place in the conversation: once a later run put an earlier part in front, the id
    names another message (with the same words, when the agent repeated a short reply). The
    workbench's forms send this with the decision, and :func:`about_check` refuses it then.
    """
    messages = conversation.messages if conversation is not None else []
    message = messages[finding.message_index] if 0 <= finding.message_index < len(messages) else None
    sent = message.sent_at.isoformat() if message is not None and message.sent_at else ""
    raw = "\0".join((finding.text, message.text if message is not None else "", sent))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:16]


def about_check(store: Store, seen: str) -> Callable[[StoredFinding], str | None]:
    """A :func:`decide` check: refused when the finding, as stored now, is not what ``seen`` was."""

    def check(fresh: StoredFinding) -> str | None:
        cid = fresh.finding.conversation_id
        if finding_about(fresh.finding, store.conversations({cid}).get(cid)) == seen:
            return None
        return (
            f"finding {fresh.id} is now on another message than your page showed (a part of its"
            " conversation inspected since renumbered its messages): nothing changed; reload the"
            " conversation and decide again"
        )

    return check


# How a confirm's note opens when the reviewer wrote none: the finding's summary follows.
FOUND_NOTE_PREFIX = "confirmed as found:"


def found_note(found: StoredFinding) -> str:
    """The note a confirm without one records: the rule's own evidence."""
    return f"{FOUND_NOTE_PREFIX} {found.finding.evidence.summary}"


def verdict_siblings(store: Store, finding_id: str, card: Any) -> list[StoredFinding]:
    """The other findings on a finding's message that charge its attitude verdict, whatever their state.

    A message is charged once for its verdict, by whichever of its findings stand: the model's
    impatience and a forbidden phrase that implies it are two findings and one charge. Empty for
    a finding that backs no verdict (a slow reply, a missed buyer); findings the card holds back
    (review_only, under min_score) charge nothing and are not listed, unless a reviewer confirmed
    them: a confirmed classifier verdict charges like any other (the bundled card holds them all,
    audit 167 H1).
    """
    return [s for s, _, _ in _verdict_siblings_as_decided(store, finding_id, card)]


# The audit-log action of a finding held for review that an overturn with its message closed
# (``qc appeal rule --with-message``): not a decision, its state stays, but no review may confirm it
# while that ruling stands, as a confirm would charge the reply the agent won (audit 169 F6).
CLOSED_ALONG = "appeal_close"


def verdict_kin(store: Store, finding_id: str, card: Any) -> list[StoredFinding]:
    """Every other finding on a finding's message of a kind that backs a verdict, charging or not."""
    return _same_message(store, finding_id, card)[0]


def held_siblings(store: Store, finding_id: str, card: Any) -> list[StoredFinding]:
    """The other findings on a finding's message that would charge its verdict once confirmed, not now.

    Those the card holds for review (the bundled card holds every classifier verdict): a ruling
    that clears the whole reply closes them with it, as it rejects :func:`verdict_siblings`. A
    finding its context vetoed charges nothing even confirmed, and is not listed.
    """
    same, marked, _ = _same_message(store, finding_id, card)
    return [
        s
        for s, m in zip(same, marked, strict=True)
        if not qualifies(m, card) and qualifies(mark_confirmed([s.finding], [s.id], card)[0], card)
    ]


def _verdict_siblings_as_decided(
    store: Store, finding_id: str, card: Any
) -> list[tuple[StoredFinding, Finding, str | None]]:
    """:func:`verdict_siblings` with each one's finding as its confirm leaves it, and its review state."""
    same, marked, states = _same_message(store, finding_id, card)
    return [(s, m, states.get(s.id)) for s, m in zip(same, marked, strict=True) if qualifies(m, card)]


def _same_message(
    store: Store, finding_id: str, card: Any
) -> tuple[list[StoredFinding], list[Finding], dict[str, str]]:
    """The other verdict-backing findings on a finding's message, as their confirms leave them, and states.

    Empty when the finding itself backs no verdict (a slow reply, a missed buyer).
    """
    f = stored_finding(store, finding_id).finding
    charging = {*card.verdict_order, *card.implies_verdict}
    if f.kind not in charging:
        return [], [], {}
    same = [
        s
        for s in store.findings(conversation_ids=[f.conversation_id])
        if s.id != finding_id and s.finding.message_index == f.message_index and s.finding.kind in charging
    ]
    states = finding_states(store, [s.id for s in same])
    confirmed = [fid for fid, state in states.items() if state == CONFIRMED]
    return same, mark_confirmed([s.finding for s in same], confirmed, card), states


def still_charging(store: Store, finding_id: str, card: Any) -> list[StoredFinding]:
    """The other findings that keep charging a rejected finding's message, for the reviewer to see.

    Rejecting the model's impatience leaves the message charged when a forbidden phrase that
    implies it still stands (:func:`verdict_siblings`). Empty when the finding is not rejected or
    nothing else charges its message.
    """
    if finding_states(store, [finding_id]).get(finding_id) != REJECTED:
        return []
    others = verdict_siblings(store, finding_id, card)
    states = finding_states(store, [s.id for s in others])
    return [s for s in others if states.get(s.id) != REJECTED]


def confirm_effect(store: Store, finding_id: str, card: Any) -> str | None:
    """What a confirm did beyond recording it: ``"charged"``, ``"covered"``, ``"suppressed"`` or None.

    ``"charged"``: the finding was held for review and costs its points from now on;
    ``"covered"``: it was held, but its message was already charged as severely by another finding
    (:func:`covering_charge`), so the scores do not change; ``"suppressed"``: its context vetoed it,
    and it still costs nothing. The reviewer should know whether a confirm changed the scores.
    """
    if finding_states(store, [finding_id]).get(finding_id) != CONFIRMED:
        return None
    f = stored_finding(store, finding_id).finding
    if f.suppressed:
        return "suppressed"
    if not (f.needs_review or held_back(f, card)):
        return None
    return "covered" if covering_charge(store, finding_id, card) is not None else "charged"


def covered_note(store: Store, finding_id: str, card: Any) -> str:
    """What a reviewer reads when a confirm adds nothing: which finding already charges the message."""
    s = covering_charge(store, finding_id, card)
    by = f" by {s.id} ({s.finding.entry or s.finding.kind})" if s is not None else ""
    return (
        f"it was held for review (待复核): confirmed, but its message was already charged{by};"
        " one message is charged once, so the scores do not change"
    )


def covering_charge(store: Store, finding_id: str, card: Any) -> StoredFinding | None:
    """Another standing finding that charges a finding's message at least as severely, if any.

    One message is charged once, for its most severe verdict: confirming a held impatience on a
    reply whose forbidden phrase already charges impatience (or conflict) adds nothing. The most
    severe such finding is named, the one the message is charged by (audit 171 L4).
    """
    f = stored_finding(store, finding_id).finding
    verdict = counted_kind(mark_confirmed([f], [finding_id], card)[0], card)
    if verdict not in card.verdict_order:
        return None
    rank = card.verdict_order.index
    covering = [
        (rank(other), s)
        for s, marked, state in _verdict_siblings_as_decided(store, finding_id, card)
        if state != REJECTED
        and (other := counted_kind(marked, card)) in card.verdict_order
        and rank(other) <= rank(verdict)
    ]
    return min(covering, key=lambda pair: pair[0])[1] if covering else None


def is_blank(text: str) -> bool:
    """True when ``text`` shows nothing: spaces, zero-width and other format characters only.

    A required note or reason must say something; a zero-width space is not a reason.
    """
    return all(ch.isspace() or unicodedata.category(ch) in ("Cf", "Cc", "Zs") for ch in text)


def record_decision(
    store: Store,
    conn: Connection,
    finding_id: str,
    decision: str,
    *,
    actor: str,
    note: str,
    source: str,
    appeal_id: int | None = None,
) -> Decision:
    """Append a decision inside the caller's transaction (a review, or the one a ruling implies)."""
    before = finding_states(store, [finding_id]).get(finding_id, PENDING)
    after = DECISIONS[decision]
    store.append_log(
        conn,
        finding_id=finding_id,
        action=decision,
        actor=actor,
        note=note,
        before=before,
        after=after,
        appeal_id=appeal_id,
        source=source,
    )
    return Decision(finding_id, before, after)


def reviewers_of(store: Store, finding_id: str) -> set[str]:
    """Who reviewed a finding (confirm/reject outside a ruling) or answered one of its appeals."""
    return {
        row["actor"]
        for row in store.audit_trail(finding_id)
        if (row["action"] in DECISIONS and row["appeal_id"] is None) or row["action"] == "appeal_answer"
    }


def audit_trail(store: Store, finding_id: str | None = None) -> list[dict[str, Any]]:
    """Every audit row (decisions and appeal steps), oldest first; one finding or all."""
    return store.audit_trail(finding_id)


@dataclass(slots=True)
class PeriodScores:
    """A stored day or period scored with the review decisions applied.

    ``rows`` and ``deductions`` are the window's (pooled when it is a period); ``daily_rows``
    and ``daily_deductions`` the daily view of its days (the same as ``rows`` for a day).
    """

    period: Period
    rows: list[dict[str, Any]]
    deductions: list[Deduction]
    daily_rows: list[dict[str, Any]]
    daily_deductions: list[Deduction]
    rejected: set[str]
    orphaned: dict[str, str] = field(default_factory=dict)


def score_period(store: Store, period: Period, card: Scorecard | None = None) -> PeriodScores:
    """Score a stored day, week, month or range from the store, decisions applied.

    Raises:
        ReviewError: nothing is stored for the period.
        ConfigError: the period's conversations were saved with another day rule or other
            evidence limits than the card's.
    """
    card = card or load_scorecard()
    daily = score_stored(store, card, period.first, period.last)
    if not daily.scores.rows:
        raise ReviewError(f"nothing stored for {period.label}: inspect those days with --db first")
    if period.kind == "day":
        pooled = daily
    else:
        pooled = score_stored(store, card, period.first, period.last, Windows.only(period))
    return PeriodScores(
        period=period,
        rows=pooled.scores.rows,
        deductions=pooled.scores.deductions,
        daily_rows=daily.scores.rows,
        daily_deductions=daily.scores.deductions,
        rejected=daily.rejected_here(),  # not another day's rejections
    )


def export_scores(store: Store, period: Period, out_dir: Path, card: Scorecard | None = None) -> PeriodScores:
    """Write the agents files of a stored day or period, decisions applied.

    Decisions on findings the store no longer holds (orphaned) are listed in
    ``orphaned_decisions.jsonl`` (written only when there are any) and on the result.

    agents.csv/.xlsx/.json and deductions.jsonl hold the period's rows (one per agent, pooled);
    for a week, month or range, agents_daily.* and deductions_daily.jsonl hold the daily view.

    Raises:
        ConfigError: ``out_dir`` holds a ``qc inspect`` run.
    """
    if holds_run(out_dir):
        # Its agents tables replaced under the inspection's run.json ("complete", its counts) and
        # beside its findings: one folder saying two runs (audit 162 M1). An inspection's files may
        # be in no store, so they are never removed for an export.
        raise ConfigError(
            f"{out_dir} holds a qc inspect run (run.json, findings.jsonl …): an export there would"
            f" mix two runs in one folder; write it to a folder of its own, e.g."
            f" {_beside(out_dir)}"
        )
    card = card or load_scorecard()
    result = score_period(store, period, card)
    columns = agent_columns(card)
    # Written beside the folder and published as a set, export.json last: a full disk or a kill
    # mid-export left the earlier export's tables mixed with new ones under a record of the
    # failed window (audit 130 M6).
    with OutputStage(out_dir, last=EXPORT_RECORD) as stage:
        write_score_outputs(stage.path, result.deductions, result.rows, columns)
        # Of its own files, an export leaves none an earlier export wrote that this one does not:
        # a month's daily view beside a day's rows, or orphans since re-attached, would mislead.
        stale: list[str] = []
        if period.kind != "day":
            write_score_outputs(stage.path, result.daily_deductions, result.daily_rows, columns, daily=True)
        else:
            stale.extend(score_output_names(daily=True))
        result.orphaned = orphaned_decisions(store)
        if result.orphaned:
            lines = [
                json.dumps({"finding_id": fid, "state": state, "orphaned": True}, ensure_ascii=False)
                for fid, state in result.orphaned.items()
            ]
            (stage.path / ORPHANED_FILE).write_text("\n".join(lines) + "\n", encoding="utf-8")
        else:
            stale.append(ORPHANED_FILE)
        _write_export_record(store, stage.path, period, card, result)
        stage.publish(remove=stale)
    return result


def _beside(out_dir: Path) -> Path:
    """A folder next to ``out_dir`` for an export of its own (``.`` has no name to add to)."""
    whole = out_dir.resolve()
    return whole.with_name(whole.name + "-export") if whole.name else whole / "export"


def _write_export_record(
    store: Store, out_dir: Path, period: Period, card: Scorecard, result: PeriodScores
) -> None:
    """``export.json``: which scorecard scored the folder's tables, the window, and the runs' cards.

    An export folder is the table payroll takes, and nothing in it said which card or which
    review state made it (audit 104 M6); ``qc compare`` reads it (and an inspection's run.json)
    to say what differs between two folders.
    """
    from qc import __version__
    from qc.batch.run import inspected_with_record, scorecard_info, store_state

    record = {
        "qc_version": __version__,
        "exported_at": local_now(),
        "window": {"label": period.label, "first": period.first, "last": period.last, "kind": period.kind},
        **scorecard_info(card),
        "inspected_with": inspected_with_record(store, period.first, period.last),
        "rejected_findings": len(result.rejected),
        "store_state": store_state(store, period.first, period.last),
    }
    text = json.dumps(record, ensure_ascii=False, indent=2) + "\n"
    (out_dir / EXPORT_RECORD).write_text(text, encoding="utf-8")


def export_day(store: Store, date: str, out_dir: Path, card: Scorecard | None = None) -> PeriodScores:
    """Write agents.csv/.xlsx/.json and deductions.jsonl of a stored day, decisions applied."""
    return export_scores(store, parse_period(date), out_dir, card)
