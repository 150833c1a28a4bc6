"""Appeals (申诉): the charged agent disputes a finding, QA answers, a supervisor rules.

States (:mod:`qc.supervise.states`): ``open`` (the agent's reason) → ``answered`` (a reviewer's
or supervisor's reply) → ``upheld`` or ``overturned`` (final). Overturned means the finding is
rejected, so it stops costing points; with ``with_message`` the supervisor also rejects the other
findings that charge the same message's verdict (a forbidden phrase implying the impatience the
agent appealed), so the reply costs nothing. Upheld confirms the finding, and confirms again
those the same appeal's earlier overturn rejected (after a reopen). A ruling is final: reviews of the
finding are refused until a supervisor reopens the appeal (``reopened``), which lets the
finding be reviewed again and the appeal be ruled again.

Who may do what (:mod:`qc.supervise.people`):

* open: the agent the finding is charged to (``--agent``), or a supervisor on their behalf
  (``--by``); never for a finding that costs nothing (rejected) or was already overturned;
* answer: a reviewer or supervisor, not the charged agent;
* rule: a supervisor who neither is the charged agent, nor reviewed the finding, nor answered
  the appeal (one person must not confirm a finding and then judge its appeal);
* reopen: a supervisor other than the charged agent, with the reason.

Every step is appended to the store's ``review_log`` (state before and after, who, when, why)
in the same transaction as the change it records; the ruling also records the finding decision
it implies. Any other transition is refused with :class:`~qc.supervise.review.ReviewError`
(exit 2) saying what is allowed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from qc.scoring.card import Scorecard, apply_decisions, load_scorecard, qualifies
from qc.store.database import APPEAL_STEPS, Store
from qc.supervise.filters import match_agent
from qc.supervise.people import AGENT, REVIEWERS, SUPERVISOR, Person, charged_to, list_people, require_person
from qc.supervise.review import (
    CLOSED_ALONG,
    PENDING,
    REJECTED,
    ReviewError,
    check_not_own,
    finding_states,
    held_siblings,
    is_blank,
    last_decisions,
    now,
    record_decision,
    reviewers_of,
    ruled_along,
    stored_finding,
    verdict_kin,
    verdict_siblings,
)
from qc.supervise.states import ANSWERED, FINAL, OPEN, OVERTURNED, REOPENED, STATES, UPHELD

__all__ = [
    "OPEN",
    "ANSWERED",
    "UPHELD",
    "OVERTURNED",
    "REOPENED",
    "FINAL",
    "STATES",
    "Appeal",
    "open_appeal",
    "answer_appeal",
    "rule_appeal",
    "decided_along",
    "reopen_appeal",
    "get_appeal",
    "list_appeals",
    "appeal_versions",
]

# step → the states it may start from
_ALLOWED = {"answer": (OPEN,), "rule": (ANSWERED, REOPENED), "reopen": FINAL}
_HINT = {
    OPEN: "answer it first: qc appeal answer {id} --by REVIEWER --note TEXT",
    ANSWERED: "rule it: qc appeal rule {id} --uphold|--overturn --by SUPERVISOR --note WHY",
    UPHELD: "it is final (upheld); a supervisor can reopen it: qc appeal reopen {id} --by NAME --note WHY",
    OVERTURNED: "it is final (overturned); a supervisor can reopen it:"
    " qc appeal reopen {id} --by NAME --note WHY",
    REOPENED: "rule it again: qc appeal rule {id} --uphold|--overturn --by SUPERVISOR --note WHY",
}
# The same, as the workbench's 申诉 Appeals page offers each step.
_WEB_HINT = {
    OPEN: "a reviewer answers it first on the 申诉 Appeals page",
    ANSWERED: "a supervisor rules it on the 申诉 Appeals page",
    UPHELD: "it is final (upheld); a supervisor can reopen it on the 申诉 Appeals page",
    OVERTURNED: "it is final (overturned); a supervisor can reopen it on the 申诉 Appeals page",
    REOPENED: "a supervisor rules it again on the 申诉 Appeals page",
}


@dataclass(frozen=True, slots=True)
class Appeal:
    """An appeal's current state (its history is in the audit trail).

    ``agent`` is whose appeal it is: the agent's name, or the charged account when a supervisor
    opened it without naming a person; ``account`` is always the account charged.
    """

    id: int
    finding_id: str
    agent: str
    reason: str
    state: str
    opened_at: str
    answer: str | None = None
    answered_by: str | None = None
    ruling: str | None = None
    ruled_by: str | None = None
    answered_at: str | None = None
    ruled_at: str | None = None
    # The account the finding was charged to, who opened the appeal (the agent, or a supervisor
    # on their behalf) and where its finding is: kept when a re-inspection no longer finds it.
    account: str | None = None
    opened_by: str | None = None
    shop: str | None = None
    conversation_id: str | None = None
    # The other findings of the appealed message its rulings decided with it (see rule_appeal).
    decided_with: tuple[str, ...] = ()
    # Its findings held for review that its ruling in force keeps closed with the message.
    closed_with: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """A JSON-safe dict."""
        out = {k: getattr(self, k) for k in self.__slots__}
        out["decided_with"] = list(self.decided_with)
        out["closed_with"] = list(self.closed_with)
        return out


def _from_row(r: dict[str, Any], decided: list[str] | None = None, closed: list[str] | None = None) -> Appeal:
    return Appeal(
        r["id"],
        r["finding_id"],
        r["agent"],
        r["reason"],
        r["state"],
        r["opened_at"],
        r["answer"],
        r["answered_by"],
        r["ruling"],
        r["ruled_by"],
        r.get("answered_at"),
        r.get("ruled_at"),
        r.get("account"),
        r.get("opened_by"),
        r.get("shop"),
        r.get("conversation_id"),
        tuple(fid for fid in decided or () if fid != r["finding_id"]),
        tuple(closed or ()),
    )


def get_appeal(store: Store, appeal_id: int) -> Appeal:
    """One appeal by number.

    Raises:
        ReviewError: no such appeal.
    """
    # A number past the store's 64-bit ids names no appeal (and would overflow the query).
    row = store.appeal_row(appeal_id) if 0 < appeal_id < 2**63 else None
    if row is None:
        raise ReviewError(f"no appeal #{appeal_id}; list them with `qc appeal list`")
    closed = _closed_now(store, store.decided_with([appeal_id], (CLOSED_ALONG,)))
    return _from_row(row, store.decided_with([appeal_id]).get(appeal_id), closed.get(appeal_id))


def list_appeals(store: Store, state: str | None = None) -> list[Appeal]:
    """Every appeal (or those in one state), oldest first."""
    rows = store.appeal_rows(state)
    decided = store.decided_with([r["id"] for r in rows])
    closed = _closed_now(store, store.decided_with([r["id"] for r in rows], (CLOSED_ALONG,)))
    return [_from_row(r, decided.get(r["id"]), closed.get(r["id"])) for r in rows]


def _closed_now(store: Store, closed: dict[int, list[str]]) -> dict[int, list[str]]:
    """Per appeal, the findings its ruling in force keeps closed (an overturn with the message, standing).

    Every finding an earlier ruling closed was listed after a reopen, or an overturn without the
    message, though a review of it was open again (audit 174 M3).
    """
    out: dict[int, list[str]] = {}
    for appeal_id, finding_ids in closed.items():
        for fid in finding_ids:
            ruling = ruled_along(store, fid)
            if ruling is not None and ruling.get("closed") and ruling["id"] == appeal_id:
                out.setdefault(appeal_id, []).append(fid)
    return out


def _appellant(store: Store, finding_agent: str | None, agent: str, by: str) -> tuple[Person, str]:
    """(who acts, whose appeal it is) for an appeal against a finding charged to ``finding_agent``."""
    charged = finding_agent or "unknown"
    if by.strip():
        supervisor = require_person(store, by, (SUPERVISOR,), "an appeal on an agent's behalf")
        if supervisor.charged_with(finding_agent):
            raise ReviewError(
                f"{supervisor.name} cannot appeal on their own behalf as supervisor; use --agent"
            )
        if agent.strip():
            person = _agent_person(store, agent, charged)
            return supervisor, person.name
        return supervisor, charged
    if not agent.strip():
        raise ReviewError(
            f"--agent is required: name the agent this finding is charged to ({charged}),"
            " or appeal on their behalf with --by SUPERVISOR"
        )
    person = _agent_person(store, agent, charged)
    return person, person.name


def _agent_person(store: Store, agent: str, charged: str) -> Person:
    """The registered agent named ``agent``: a person's name, or the charged account's id or short name."""
    name = agent.strip()
    person = next((p for p in list_people(store) if p.name == name), None)
    if person is None and match_agent(name, [charged]):
        person = next(iter(charged_to(store, charged)), None)
    # Not registered: require_person explains (no people yet, or how to add this one).
    by_name = person or require_person(store, name, (AGENT,), "an appeal", option="--agent")
    if by_name.role != AGENT:
        raise ReviewError(
            f"{by_name.name} is not an agent but {by_name.role}; an agent appeals with --agent,"
            " a supervisor on their behalf with --by"
        )
    if not by_name.charged_with(charged):
        raise ReviewError(
            f"{by_name.name} was not charged with this finding: it is charged to {charged};"
            " only that agent, or a supervisor on their behalf (--by), may appeal it"
        )
    return by_name


def open_appeal(
    store: Store,
    finding_id: str,
    *,
    agent: str = "",
    by: str = "",
    reason: str,
    source: str = "cli",
    card: Scorecard | None = None,
) -> Appeal:
    """Open an appeal against a stored finding, by the charged agent or a supervisor for them.

    ``card`` (default: the packaged one) says which findings cost points: one it holds back
    takes no appeal.

    Raises:
        ReviewError: unknown finding, no reason, the wrong agent, the finding costs nothing
            (vetoed, held for review or rejected), already has an appeal that is not final, or
            was ruled on.
        PeopleError: the agent or supervisor is not registered.
    """
    found = stored_finding(store, finding_id)
    actor, appellant = _appellant(store, found.finding.agent, agent, by)
    if is_blank(reason):
        raise ReviewError(
            "--reason is required: say why the finding is wrong",
            web="请写明申诉理由 (an appeal needs its reason: say why the finding is wrong)",
        )
    if found.finding.suppressed:
        raise ReviewError(
            f"finding {finding_id} was vetoed by a context rule ({found.finding.cue or 'suppressed'}):"
            " it costs no points, nothing to appeal"
        )
    # The finding's own history first: one overturned, ruled on or rejected says so, not that it is
    # held (a held finding a reviewer rejected is no longer confirmed, so it would read as held).
    _check_appealable(store, finding_id)
    card = card or load_scorecard()
    # Held, or under the card's threshold, unless a reviewer confirmed it: then it costs points.
    if not qualifies(apply_decisions([found.finding], finding_states(store, [finding_id]), card)[0], card):
        raise ReviewError(
            f"finding {finding_id} is held for review (below its confidence threshold, or a kind the"
            " scorecard only reviews): it costs no points, nothing to appeal"
        )
    on_behalf = f" (by {actor.name} on behalf of {appellant})" if actor.name != appellant else ""
    with store.transaction() as conn:
        # Checked under the write lock: a second appeal opened at the same moment waits and is
        # refused, and a save that removed the finding meanwhile leaves nothing to appeal.
        stored_finding(store, finding_id)
        _check_appealable(store, finding_id)
        _still_registered(store, actor)
        appeal_id = store.insert_appeal(
            conn,
            finding_id=finding_id,
            agent=appellant,
            account=found.scored_agent or found.finding.agent,
            opened_by=actor.name,
            shop=found.shop,
            conversation_id=found.finding.conversation_id,
            reason=reason,
            state=OPEN,
            opened_at=now(),
        )
        store.append_log(
            conn,
            finding_id=finding_id,
            action="appeal_open",
            actor=actor.name,
            note=reason + on_behalf,
            before="none",
            after=OPEN,
            appeal_id=appeal_id,
            source=source,
        )
    return get_appeal(store, appeal_id)


def _check_appealable(store: Store, finding_id: str) -> None:
    """Refuse an appeal on a finding that has one open, was ruled on, or was rejected in review.

    A ruling is final until a supervisor reopens that appeal: a new appeal would let the agent
    ask another supervisor until one overturns it.
    """
    for a in map(_from_row, store.appeal_rows(finding_id=finding_id)):
        if a.state not in FINAL:
            raise ReviewError(
                f"finding {finding_id} already has appeal #{a.id} ({a.state}); "
                + _HINT[a.state].format(id=a.id),
                web=f"finding {finding_id} already has appeal #{a.id} ({a.state}); {_WEB_HINT[a.state]}",
            )
        if a.state == OVERTURNED:
            raise ReviewError(
                f"finding {finding_id} was already overturned by appeal #{a.id}; nothing to appeal"
            )
        raise ReviewError(
            f"finding {finding_id} was ruled on by appeal #{a.id}; " + _HINT[a.state].format(id=a.id),
            web=f"finding {finding_id} was ruled on by appeal #{a.id}; {_WEB_HINT[a.state]}",
        )
    if finding_states(store, [finding_id]).get(finding_id) == REJECTED:
        raise ReviewError(
            f"finding {finding_id} was rejected in review: it costs no points, nothing to appeal"
        )
    ruling = ruled_along(store, finding_id)
    if ruling is not None and ruling.get("closed"):
        raise ReviewError(
            f"finding {finding_id} was closed with appeal #{ruling['id']}, which cleared its whole reply:"
            " it costs no points, nothing to appeal"
        )


def appeal_versions(store: Store, appeals: Sequence[Appeal]) -> dict[int, str]:
    """What a page shows of each appeal, for its forms to send back: its state and step count.

    A form sent from a page that showed an older version is refused (:func:`_check_seen`): a
    supervisor's 维持 from a page that showed the appeal answered was taken after another
    supervisor had overturned and reopened it, and charged the agent again (audit 112 H1).
    """
    steps = store.appeal_steps([a.id for a in appeals])
    return {a.id: f"{a.state}:{steps.get(a.id, 0)}" for a in appeals}


def _check_seen(store: Store, appeal: Appeal, seen: str | None) -> None:
    """Refuse a step sent from a page that showed the appeal otherwise than it is now (who did what)."""
    if seen is None or seen == appeal_versions(store, [appeal])[appeal.id]:
        return
    steps = [
        r
        for r in store.audit_trail(appeal.finding_id)
        if r["appeal_id"] == appeal.id and r["action"] in APPEAL_STEPS
    ]
    shown, _, count = seen.partition(":")
    # Every step since the page, not only the last: an overturn between an answer and a reopen
    # was left out (audit 116 L1). A page's own values only: a forged one is not echoed.
    since = steps[int(count) :] if count.isdigit() and int(count) <= len(steps) else steps[-1:]
    done = "; ".join(
        f"{r['actor']} {_DONE.get(r['action'], r['action'])} it at {r['at']}"
        + (f" ({r['note']})" if r["note"] else "")
        for r in since
    )
    page = f" {shown}" if shown in STATES else ""
    raise ReviewError(
        f"申诉 #{appeal.id} 已有人处理，请刷新页面后再操作 (appeal #{appeal.id} changed since your page"
        f" showed it{page}: {done}; it is {appeal.state} now: reload the page and decide again)"
    )


# An appeal step as a refusal tells it (the audit log's action names are not English).
_DONE = {
    "appeal_open": "opened",
    "appeal_answer": "answered",
    "appeal_rule": "ruled",
    "appeal_reopen": "reopened",
}


def _check(appeal: Appeal, step: str) -> None:
    if appeal.state not in _ALLOWED[step]:
        raise ReviewError(
            f"appeal #{appeal.id} is {appeal.state}, cannot {step} it; "
            + _HINT[appeal.state].format(id=appeal.id),
            web=f"appeal #{appeal.id} is {appeal.state}, cannot {step} it; {_WEB_HINT[appeal.state]}",
        )


def _still_registered(store: Store, person: Person | str) -> None:
    """Refuse a step by someone removed (or whose role changed) since their role was checked.

    Checked again under the write lock: a ruling by a supervisor removed a moment earlier was
    recorded (audit 88 #5).
    """
    name = person if isinstance(person, str) else person.name
    role = None if isinstance(person, str) else person.role
    now_as = next((p for p in list_people(store) if p.name == name), None)
    if now_as is None or (role is not None and now_as.role != role):
        raise ReviewError(
            f"{name} was removed (or their role changed) while this step was being made: nothing"
            " changed; `qc people list` shows who may decide"
        )


def _step(
    store: Store, appeal: Appeal, step: str, actor: str, note: str, after: str, source: str, **values: Any
) -> None:
    """Move ``appeal`` to ``after`` and log it, in one transaction (refused if it changed meanwhile)."""
    with store.transaction() as conn:
        _still_registered(store, actor)
        if not store.update_appeal(conn, appeal.id, appeal.state, state=after, **values):
            raise ReviewError(f"appeal #{appeal.id} changed meanwhile; look again with `qc appeal list`")
        store.append_log(
            conn,
            finding_id=appeal.finding_id,
            action=f"appeal_{step}",
            actor=actor,
            note=note,
            before=appeal.state,
            after=after,
            appeal_id=appeal.id,
            source=source,
        )


def answer_appeal(
    store: Store, appeal_id: int, *, by: str, note: str, source: str = "cli", seen: str | None = None
) -> Appeal:
    """A reviewer or supervisor answers an open appeal.

    ``seen`` is the appeal's version the page showed (:func:`appeal_versions`), when a form sent it.

    Raises:
        ReviewError: unknown appeal, no answer, the appeal is not open, or the finding is the
            answerer's own.
        PeopleError: ``by`` is not a registered reviewer or supervisor.
    """
    appeal = get_appeal(store, appeal_id)
    _check_seen(store, appeal, seen)
    _check(appeal, "answer")
    person = require_person(store, by, REVIEWERS, "answering an appeal")
    if is_blank(note):
        raise ReviewError(
            "--note is required: the answer the agent will read",
            web="请填写回复 (an answer needs its text: the agent will read it)",
        )
    check_not_own(person, stored_finding(store, appeal.finding_id).finding, "answer an appeal on")
    _step(
        store,
        appeal,
        "answer",
        person.name,
        note,
        ANSWERED,
        source,
        answer=note,
        answered_by=person.name,
        answered_at=now(),
    )
    return get_appeal(store, appeal_id)


def rule_appeal(
    store: Store,
    appeal_id: int,
    *,
    overturn: bool,
    by: str,
    note: str,
    source: str = "cli",
    card: Scorecard | None = None,
    with_message: bool = False,
    seen: str | None = None,
) -> Appeal:
    """A supervisor rules an answered (or reopened) appeal final: overturned (rejected) or upheld (confirmed).

    The ruling and the finding decisions it implies are written in one transaction. Overturned
    ``with_message``, the other findings that charge the same message's verdict are rejected with
    it (``card`` says which kinds back a verdict; the bundled card when ``None``): an agent who
    won the appeal on 我不知道 was still charged by the forbidden phrase behind the same verdict,
    and had to appeal again (audit 97 #1). It is the supervisor's choice, never implied: another
    phrase of the message (爱买不买 beside 我不知道) may be an offence the appeal never argued.
    Upheld after a reopen, those an earlier overturn of this appeal rejected are confirmed
    again. A finding with an appeal of its own, in any state (reopened too), is left to it. The
    returned appeal's ``decided_with`` is what this ruling decided beside the appealed finding
    (a listed appeal's is every finding its rulings decided). ``seen``: the version a page showed.
    Overturned ``with_message``, the message's findings held for review are closed with it
    (``closed_with``): no decision, as the store has no way back to "held" when the appeal is
    reopened, but no review may confirm them while the ruling stands (audit 169 F6).

    Raises:
        ReviewError: unknown appeal, no reason, the appeal is not answered yet or already final,
            or the supervisor is the charged agent, reviewed the finding, opened the appeal (on
            the agent's behalf) or answered it.
        PeopleError: ``by`` is not a registered supervisor.
    """
    appeal = get_appeal(store, appeal_id)
    _check_seen(store, appeal, seen)
    _check(appeal, "rule")
    supervisor = require_person(store, by, (SUPERVISOR,), "a ruling")
    if is_blank(note):
        raise ReviewError(
            "--note is required: the reason for the ruling", web="请填写裁定理由 (a ruling needs its reason)"
        )
    found = stored_finding(store, appeal.finding_id)
    check_not_own(supervisor, found.finding, "rule an appeal on")
    if supervisor.name in reviewers_of(store, appeal.finding_id):
        raise ReviewError(
            f"{supervisor.name} reviewed finding {appeal.finding_id} or answered its appeal, so cannot"
            " also rule on it; another supervisor must rule (qc people list)"
        )
    opened_by = {
        row["actor"]
        for row in store.audit_trail(appeal.finding_id)
        if row["action"] == "appeal_open" and row["appeal_id"] == appeal_id
    }
    if supervisor.name in opened_by:
        raise ReviewError(
            f"{supervisor.name} opened appeal #{appeal_id} on the agent's behalf, so cannot also rule on"
            " it; another supervisor must rule (qc people list)"
        )
    final = OVERTURNED if overturn else UPHELD
    card = card if card is not None else load_scorecard(None)
    siblings = decided_along(store, appeal, overturn, card) if with_message or not overturn else []
    closing = closed_along(store, appeal, card) if with_message and overturn else []
    held_states = finding_states(store, closing)
    with store.transaction() as conn:
        _still_registered(store, supervisor)
        changed = store.update_appeal(
            conn, appeal_id, appeal.state, state=final, ruling=note, ruled_by=supervisor.name, ruled_at=now()
        )
        if not changed:
            raise ReviewError(f"appeal #{appeal_id} changed meanwhile; look again with `qc appeal list`")
        store.append_log(
            conn,
            finding_id=appeal.finding_id,
            action="appeal_rule",
            actor=supervisor.name,
            note=note,
            before=appeal.state,
            after=final,
            appeal_id=appeal_id,
            source=source,
        )
        for finding_id in (appeal.finding_id, *siblings):
            record_decision(
                store,
                conn,
                finding_id,
                "reject" if overturn else "confirm",
                actor=supervisor.name,
                note=note,
                source=f"appeal #{appeal_id}",
                appeal_id=appeal_id,
            )
        for finding_id in closing:
            state = held_states.get(finding_id, PENDING)
            store.append_log(
                conn,
                finding_id=finding_id,
                action=CLOSED_ALONG,
                actor=supervisor.name,
                note=note,
                before=state,
                after=state,
                appeal_id=appeal_id,
                source=f"appeal #{appeal_id}",
            )
    # What this ruling decided, not every finding the appeal's rulings ever did: after a reopen, a
    # plain overturn said "rejected with it" of findings it left charging (audit 99 F5).
    return replace(get_appeal(store, appeal_id), decided_with=tuple(siblings), closed_with=tuple(closing))


def decided_along(store: Store, appeal: Appeal, overturn: bool, card: Scorecard) -> list[str]:
    """The other findings of the appealed message a ruling decides with it (see :func:`rule_appeal`).

    Overturning: those still charging the message's verdict that no appeal of their own decides
    (what the workbench offers beside 撤销); upholding: those an overturn of this appeal rejected,
    held ones too: a held verdict a reviewer had confirmed, rejected by the overturn, no longer
    counts among the message's charges, and stayed rejected after the uphold (audit 171 H1).
    """
    found = (
        verdict_siblings(store, appeal.finding_id, card)
        if overturn
        else verdict_kin(store, appeal.finding_id, card)
    )
    others = [s.id for s in found]
    states = finding_states(store, others)
    out = []
    last = last_decisions(store, others)
    for finding_id in others:
        if store.appeal_rows(finding_id=finding_id):
            continue  # its own appeal decides it, pending, ruled or reopened (audit 100 N3)
        if ruled_along(store, finding_id) is not None:
            continue  # another appeal's ruling in force decided it
        if overturn and states.get(finding_id) != REJECTED:
            out.append(finding_id)
        elif (
            not overturn and states.get(finding_id) == REJECTED and last[finding_id]["appeal_id"] == appeal.id
        ):
            out.append(finding_id)  # an overturn of this appeal rejected it
    return out


def closed_along(store: Store, appeal: Appeal, card: Scorecard) -> list[str]:
    """The findings of the appealed message held for review that an overturn with the message closes.

    As :func:`decided_along` leaves a finding with an appeal of its own, or one another ruling in
    force decides, to that appeal.
    """
    return [
        s.id
        for s in held_siblings(store, appeal.finding_id, card)
        if not store.appeal_rows(finding_id=s.id) and ruled_along(store, s.id) is None
    ]


def reopen_appeal(
    store: Store, appeal_id: int, *, by: str, note: str, source: str = "cli", seen: str | None = None
) -> Appeal:
    """A supervisor reopens a final appeal: the finding can be reviewed and the appeal ruled again.

    ``seen``: the version a page showed (a stale 重开 reopened a ruling made after it, audit 112 H1).

    Raises:
        ReviewError: unknown appeal, no reason, the appeal is not final, or the supervisor is
            the charged agent.
        PeopleError: ``by`` is not a registered supervisor.
    """
    appeal = get_appeal(store, appeal_id)
    _check_seen(store, appeal, seen)
    _check(appeal, "reopen")
    supervisor = require_person(store, by, (SUPERVISOR,), "reopening a ruling")
    if is_blank(note):
        raise ReviewError(
            "--note is required: say why the ruling is reopened",
            web="请填写重开理由 (say why the ruling is reopened)",
        )
    check_not_own(supervisor, stored_finding(store, appeal.finding_id).finding, "reopen an appeal on")
    _step(store, appeal, "reopen", supervisor.name, note, REOPENED, source)
    return get_appeal(store, appeal_id)
