"""People and roles (issue 17): who may review findings, rule appeals and appeal.

A store keeps a small ``people`` table; every decision names a registered, active person:

* ``reviewer``: reviews findings (``qc review``) and answers appeals;
* ``supervisor``: does what a reviewer does, rules appeals, reopens a ruling, and may open an
  appeal on an agent's behalf;
* ``agent``: the customer-service agent, linked to the accounts the findings are charged to
  (``--agent-id``, e.g. ``柚子优选旗舰店:阿杰``); appeals their own findings.

Any person may carry agent ids (a team lead who also chats with buyers), one per shop they chat
in (``qc people bind``): nobody reviews, answers or rules on a finding charged to any of their
own accounts, and an agent appeals the findings of each of theirs.

A store without any people refuses every review and appeal step, with the fix in the message
(``qc people add NAME --role reviewer`` …): decisions are only ever recorded under a name that
has a role. People are never deleted: ``qc people remove`` marks them inactive, so the audit
trail still says who they were. Adding and removing people is itself in the audit trail.
"""

from __future__ import annotations

import getpass
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from qc.readers.roles import fold_agent_id
from qc.scoring.metrics import UNASSIGNED
from qc.store.database import Store, local_now
from qc.supervise.errors import ReviewError
from qc.supervise.filters import agents_named, match_agent
from qc.text.pii import shown_value

__all__ = [
    "ROLES",
    "REVIEWERS",
    "SUPERVISOR",
    "AGENT",
    "PeopleError",
    "Person",
    "add_person",
    "bind_person",
    "unbind_person",
    "remove_person",
    "list_people",
    "require_person",
    "charged_to",
    "current_user",
    "check_plain",
    "manager",
    "NAME_MAX",
]

REVIEWER = "reviewer"
SUPERVISOR = "supervisor"
AGENT = "agent"
ROLES = (REVIEWER, SUPERVISOR, AGENT)
REVIEWERS = (REVIEWER, SUPERVISOR)  # who may review a finding or answer an appeal


class PeopleError(ReviewError):
    """A decision names nobody, or somebody without the role it needs (exit 2, with the fix)."""


@dataclass(frozen=True, slots=True)
class Person:
    """A registered person: their name, role and the accounts findings are charged to (agents, leads)."""

    id: int
    name: str
    role: str
    accounts: tuple[str, ...]
    active: bool
    added_at: str
    added_by: str
    note: str = ""
    removed_at: str | None = None
    removed_by: str | None = None

    @property
    def agent_id(self) -> str | None:
        """The first account bound to the person (the one most people have), or ``None``."""
        return self.accounts[0] if self.accounts else None

    def to_json(self) -> dict[str, Any]:
        """A JSON-safe dict; ``agent_id`` (the first account) as before accounts could be several."""
        out: dict[str, Any] = {k: getattr(self, k) for k in self.__slots__}
        out["accounts"] = list(self.accounts)
        out["agent_id"] = self.agent_id
        return out

    def charged_with(self, agent: str | None) -> bool:
        """True when findings charged to ``agent`` are this person's own (under any of their accounts)."""
        if not agent or not self.accounts:
            return False
        want = fold_agent_id(agent)
        return any(fold_agent_id(a) == want for a in self.accounts)


def _person(row: dict[str, Any]) -> Person:
    return Person(
        id=int(row["id"]),
        name=row["name"],
        role=row["role"],
        accounts=tuple(row["accounts"]),
        active=bool(row["active"]),
        added_at=row["added_at"],
        added_by=row["added_by"] or "",
        note=row["note"] or "",
        removed_at=row["removed_at"],
        removed_by=row["removed_by"],
    )


def current_user() -> str:
    """Who runs qc (the login name), for people changes made without ``--by``."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in some containers
        return "unknown"


def login_source(where: str) -> str:
    """``where`` a decision was made, with the login that made it (``cli · login ops``).

    A command-line decision names its reviewer with ``--by`` and a sheet row with 复核人: both
    are typed, not signed in. The login name recorded beside them says who really ran the
    command (audit 168 M1); the workbench signs people in and needs none.
    """
    return f"{where} · login {current_user()}"


def list_people(store: Store, include_removed: bool = False) -> list[Person]:
    """Registered people (active ones unless ``include_removed``), in the order they were added."""
    return [_person(r) for r in store.people(include_removed)]


def _find(people: Sequence[Person], name: str) -> Person | None:
    wanted = name.strip()
    return next((p for p in people if p.name == wanted), None)


# Longest name a person may have (the people table's columns hold 200 characters).
NAME_MAX = 100
# How much of an unknown name an error quotes (masked): a registered name is rarely longer, and
# a sheet's shifted row that puts a buyer's message in the 复核人 cell shows no more of it than
# of a decision cell (audit 94 #7: 40 characters printed a buyer's whole complaint with her name).
_SHOWN_NAME = 16
# The store keeps an agent account in 200 characters.
_ACCOUNT_MAX = 200


def check_plain(what: str, text: str, longest: int) -> None:
    """Refuse text with an invisible or control character, or longer than ``longest``.

    Raises:
        PeopleError: naming the character's code point and place, or the length.
    """
    for at, ch in enumerate(text, start=1):
        if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
            raise PeopleError(
                f"{what} has an invisible or control character U+{ord(ch):04X} at character {at};"
                f" type {what.removeprefix('the ')} plainly"
            )
    if len(text) > longest:
        raise PeopleError(f"{what} has {len(text)} characters; use at most {longest}")


def is_unassigned(account: str) -> bool:
    """Whether ``account`` is a shop's unanswered buyers (``店铺名:unassigned``), which no person holds."""
    return account.rpartition(":")[2] == UNASSIGNED


def bind_account(store: Store, agent_id: str) -> str:
    """The account ``--agent-id`` names, as findings are charged to it.

    A stored account's full id or unique short name (阿杰 for 柚子优选旗舰店:阿杰) is that
    account: a short name bound as typed matched no finding, so the guard against reviewing
    one's own findings never fired. An id no stored agent has is taken as typed (an account
    whose first day is yet to be inspected); :func:`unknown_accounts` names it afterwards.

    Raises:
        PeopleError: a control or invisible character, too long, several stored accounts share
            the short name, or a shop's ``unassigned``.
    """
    typed = agent_id.strip()
    check_plain("the agent id", typed, _ACCOUNT_MAX)
    found = [a for a in agents_named(store, typed) if not is_unassigned(a)]
    if len(found) > 1:
        raise PeopleError(
            f"--agent-id {typed} names {', '.join(found)}; give the full id of this person's account,"
            f" e.g. --agent-id {found[0]}"
        )
    account = fold_agent_id(found[0] if found else typed)
    if is_unassigned(account):
        raise PeopleError(
            f"{account} is where a shop's unanswered buyers are counted, not a person's account;"
            " give the account the person's own findings are charged to"
        )
    return account


def unknown_accounts(store: Store, people: Sequence[Person]) -> list[tuple[Person, str]]:
    """Each (person, account) where the account is one no stored agent has (mistyped, or renamed).

    Such a binding guards nothing: no finding is charged to that account, so the person could
    review their own findings under the real one, and an agent could appeal none of theirs.
    """
    stored = {fold_agent_id(a) for a in store.agents()}
    if not stored:
        return []
    return [(p, a) for p in people for a in p.accounts if a not in stored]


def _check_name(name: str, active: Sequence[Person]) -> None:
    """Refuse a name an audit trail could not show plainly, or one that passes for another's.

    Every decision is signed with the name: an invisible character makes it look empty or like
    someone else (张主管 followed by a zero-width space), and a full-width twin (Ａｌｉｃｅ beside
    Alice) is a second identity the "must not have reviewed it" checks would not connect.

    Raises:
        PeopleError: a control, format or line-separator character; over :data:`NAME_MAX`
            characters; the same as a registered name once widths and case are folded.
    """
    check_plain("the name", name, NAME_MAX)
    folded = _folded(name)
    twin = next((p for p in active if _folded(p.name) == folded), None)
    if twin is not None:
        raise PeopleError(
            f"{name} reads as {twin.name}, who is registered ({twin.role}); use their name, or a"
            " name that differs in more than width or case"
        )


def _folded(name: str) -> str:
    return unicodedata.normalize("NFKC", name).casefold()


def add_person(
    store: Store,
    name: str,
    role: str,
    *,
    accounts: Sequence[str] = (),
    by: str = "",
    note: str = "",
) -> Person:
    """Register a person with a role and the accounts they chat under; logged in the audit trail.

    An agent needs the account their findings are charged to: ``accounts``, or else ``name``
    itself when it names exactly one agent of the store (a full id or a short name such as 阿杰).
    A person who chats in several shops has one account in each: give them all.

    Raises:
        PeopleError: empty name, unknown role, the name is already registered, or an agent
            whose account cannot be told.
    """
    name = name.strip()
    if not name:
        raise PeopleError("give the person's name, e.g. qc people add 张主管 --role supervisor")
    if role not in ROLES:
        raise PeopleError(f"--role {role!r} is unknown: use one of {', '.join(ROLES)}")
    active = list_people(store)
    _check_new(name, active)
    bound = list(dict.fromkeys(bind_account(store, a) for a in accounts if a.strip()))
    if role == AGENT and not bound:
        found = [a for a in agents_named(store, name) if not is_unassigned(a)]
        if len(found) != 1:
            what = f"names {', '.join(found)}" if found else "names no agent in the store"
            example = found[0] if found else f"柚子优选旗舰店:{name}"
            raise PeopleError(
                f"{name} {what}; give the account the agent's findings are charged to,"
                f" e.g. --agent-id {example}" + (" (repeat --agent-id for each)" if len(found) > 1 else "")
            )
        bound = [fold_agent_id(found[0])]
    for account in bound:
        _check_one_agent(active, account, role)
    who = manager(active, by)
    at = local_now()
    with store.transaction() as conn:
        # Again under the write lock: two adds of one name at once were both registered, and a
        # removal then deactivated one of them only (audit 88 #3).
        now = list_people(store)
        _check_new(name, now)
        for account in bound:
            _check_one_agent(now, account, role)
        person_id = store.insert_person(
            conn, name=name, role=role, active=True, added_at=at, added_by=who, note=note
        )
        for account in bound:
            store.bind_account(conn, person_id, account, at=at, by=who)
        _log(
            store,
            conn,
            "person_add",
            who,
            name,
            note or f"{name} added as {role}" + (f" ({', '.join(bound)})" if bound else ""),
            "none",
            role,
        )
    return _registered(store, person_id)


def _check_one_agent(active: Sequence[Person], account: str, role: str, person: Person | None = None) -> None:
    """Refuse an agent an account another active agent holds: its findings are one agent's to appeal.

    A lead (reviewer, supervisor) may share an agent's account: the guard then keeps them off
    its findings. Two agents on one account saw each other's rows in the workbench, and an
    appeal by account went to whichever was added first (audit 90 #3).
    """
    if role != AGENT:
        return
    holder = next(
        (
            p
            for p in active
            if p.role == AGENT and (person is None or p.id != person.id) and p.charged_with(account)
        ),
        None,
    )
    if holder is not None:
        # Their only account cannot be unbound (an agent keeps one): then they left, or have a new one.
        fix = (
            f"qc people unbind {holder.name} {account} --note WHY first"
            if len(holder.accounts) > 1
            else f"qc people remove {holder.name} --note WHY if they left, or bind their new account first"
            f" (qc people bind {holder.name} ACCOUNT) and unbind this one"
        )
        raise PeopleError(
            f"{account} is the account of agent {holder.name}; an account's findings are one agent's to"
            f" appeal: if it changed hands, {fix}"
        )


def _check_new(name: str, active: Sequence[Person]) -> None:
    """Refuse a name already registered, or one that reads as a registered name (:func:`_check_name`)."""
    existing = _find(active, name)
    if existing is not None:
        raise PeopleError(
            f"{name} is already registered as {existing.role}; remove them first"
            f" (qc people remove {name} --note WHY) to change the role, or bind another account"
            f" with qc people bind {name} ACCOUNT"
        )
    _check_name(name, active)


def _log(
    store: Store, conn: Any, action: str, who: str, name: str, note: str, before: str, after: str
) -> None:
    """A people change in the audit trail (inside the change's transaction), with who and why."""
    store.append_log(
        conn,
        finding_id="",
        action=action,
        actor=who,
        note=note,
        before=before,
        after=after,
        source=f"person:{name}",
    )


def _registered(store: Store, person_id: int) -> Person:
    return _person(next(r for r in store.people(include_removed=True) if r["id"] == person_id))


def bind_person(store: Store, name: str, agent_id: str, *, by: str = "", note: str = "") -> Person:
    """Bind one more account to a registered person (their account in another shop); logged.

    Raises:
        PeopleError: no active person of that name, the account is theirs already, or it is
            no account a person can hold (see :func:`bind_account`).
    """
    active = list_people(store)
    person = _require_active(store, active, name)
    account = bind_account(store, agent_id)
    if person.charged_with(account):
        raise PeopleError(f"{account} is already bound to {person.name}")
    _check_one_agent(active, account, person.role, person)
    who = manager(active, by)
    at = local_now()
    with store.transaction() as conn:
        # Again under the write lock: removed, demoted or bound elsewhere meanwhile.
        now = list_people(store)
        person = _require_active(store, now, name)
        _check_one_agent(now, account, person.role, person)
        manager(now, by)
        if not store.bind_account(conn, person.id, account, at=at, by=who):
            raise PeopleError(f"{account} was bound to {person.name} meanwhile")
        # the account is in the note: the state columns hold 40 characters, an account 200
        _log(
            store,
            conn,
            "person_bind",
            who,
            person.name,
            f"{person.name} bound to {account}" + (f": {note}" if note else ""),
            "unbound",
            "bound",
        )
    return _registered(store, person.id)


def unbind_person(store: Store, name: str, agent_id: str, *, by: str = "", note: str = "") -> Person:
    """Unbind an account from a person (it changed hands, or was bound by mistake); logged.

    Raises:
        PeopleError: no active person of that name, or the account is not theirs.
    """
    active = list_people(store)
    person = _require_active(store, active, name)
    typed = agent_id.strip()
    # As bind takes it: the full id, or a short name one of their accounts has (小满).
    named = match_agent(typed, person.accounts)
    if len(named) > 1:
        raise PeopleError(
            f"{shown_value(typed, _SHOWN_NAME)} names {', '.join(named)} of {person.name}'s accounts;"
            " give the full id of the one to unbind"
        )
    if not named:
        held = ", ".join(person.accounts) or "none"
        raise PeopleError(f"{person.name} is not bound to {shown_value(typed, _SHOWN_NAME)} (bound: {held})")
    account = named[0]
    if person.role == AGENT and len(person.accounts) == 1:
        # An agent with no account appeals nothing and is checked against nothing.
        raise PeopleError(
            f"{account} is the only account of agent {person.name}: bind their new account first"
            f" (qc people bind {person.name} ACCOUNT), or remove them (qc people remove {person.name}"
            " --note WHY)"
        )
    who = manager(active, by)
    with store.transaction() as conn:
        now = list_people(store)
        _require_active(store, now, name)
        manager(now, by)
        if not store.unbind_account(conn, person.id, account):
            raise PeopleError(f"{account} was unbound from {person.name} meanwhile")
        _log(
            store,
            conn,
            "person_unbind",
            who,
            person.name,
            f"{person.name} unbound from {account}: {note}",
            "bound",
            "unbound",
        )
    return _registered(store, person.id)


def _require_active(store: Store, active: Sequence[Person], name: str) -> Person:
    """The active person ``name``, or a message saying they were removed or never registered."""
    person = _find(active, name)
    if person is not None:
        return person
    gone = _find([p for p in list_people(store, True) if p.removed_at], name)
    if gone is not None:
        raise PeopleError(f"{gone.name} was already removed, on {gone.removed_at} by {gone.removed_by}")
    shown = shown_value(name.strip(), _SHOWN_NAME)
    raise PeopleError(f"{shown!r} is not registered; list people with `qc people list`")


def remove_person(store: Store, name: str, *, by: str = "", note: str = "") -> Person:
    """Mark a person inactive (kept for the audit trail); logged.

    Raises:
        PeopleError: no active person of that name.
    """
    active = list_people(store)
    person = _require_active(store, active, name)
    who = manager(active, by)
    at = local_now()
    with store.transaction() as conn:
        if not store.deactivate_person(conn, person.id, removed_at=at, removed_by=who):
            raise PeopleError(f"{person.name} was removed meanwhile; list people with `qc people list`")
        _log(
            store,
            conn,
            "person_remove",
            who,
            person.name,
            note or f"{person.name} removed",
            person.role,
            "removed",
        )
    return _registered(store, person.id)


def manager(
    active: Sequence[Person],
    by: str,
    own: str | None = None,
    duty: str = "people and their passwords are managed",
) -> str:
    """Who manages people (adds, removes, sets passwords): a supervisor, or the store's administrator.

    An agent or reviewer named by ``--by``, by name or by the account they chat under, is
    refused: an agent registered a stand-in supervisor, or reset a supervisor's password, and
    had their own appeal ruled. ``own`` is the person acted on: anyone may set their own password.
    ``duty`` says what is a supervisor's in the refusal.
    """
    who = by.strip() or current_user()
    registered = _find(active, who) or next((p for p in active if p.charged_with(who)), None)
    if registered is not None and registered.role != SUPERVISOR and registered.name != own:
        whose = (
            f"{who} is {_a(registered.role)}"
            if who == registered.name
            else (f"{who} is the account of {registered.name}, {_a(registered.role)}")
        )
        raise PeopleError(
            f"{whose}: {duty} by a supervisor (or the store's administrator, who is not registered)"
        )
    return who


def _a(noun: str) -> str:
    """``noun`` with its English article (an agent, a reviewer)."""
    return f"an {noun}" if noun[:1] in "aeiou" else f"a {noun}"


def _roles_text(roles: Sequence[str]) -> str:
    return " or ".join(roles)


def require_person(
    store: Store, name: str, roles: Sequence[str], action: str, option: str = "--by"
) -> Person:
    """The active person ``name`` if they hold one of ``roles``.

    Raises:
        PeopleError: no name given, nobody registered yet, ``name`` unknown, or in another role;
            each message gives the command that fixes it.
    """
    wanted = (name or "").strip()
    people = list_people(store)
    if not people:
        raise PeopleError(
            f"this store has no people yet, and {action} needs a registered {_roles_text(roles)}."
            " Register who reviews and who rules first, e.g.: qc people add 质检小王 --role reviewer;"
            " qc people add 张主管 --role supervisor"
        )
    if not wanted:
        sheet = " (in a review sheet, the 复核人 column)" if option == "--by" else ""
        raise PeopleError(f"{option} is required{sheet}: {action} needs a registered {_roles_text(roles)}")
    person = _find(people, wanted)
    if person is None:
        gone = _find([p for p in list_people(store, True) if p.removed_at], wanted)
        if gone is not None:
            raise PeopleError(
                f"{gone.name} was removed on {gone.removed_at} by {gone.removed_by}, and {action} needs a"
                f" registered {_roles_text(roles)}; if they are back, add them again with:"
                f" qc people add {gone.name} --role {gone.role}"
            )
        twin = next((p for p in people if _folded(p.name) == _folded(wanted)), None)
        if twin is not None:
            # "add them" was a dead end: the add is refused as reading as the registered name.
            raise PeopleError(
                f"{shown_value(wanted, _SHOWN_NAME)} is not registered, but {twin.name} ({twin.role}) is,"
                f" differing only in width or case: use --by {twin.name}"
            )
        known = ", ".join(f"{p.name} ({p.role})" for p in people if p.role in roles) or "none yet"
        # The name may come from a sheet's 复核人 cell, and a shifted row puts a buyer's message there.
        shown = shown_value(wanted, _SHOWN_NAME)
        add = wanted if shown == wanted else "NAME"
        raise PeopleError(
            f"{shown} is not registered in this store ({' or '.join(r + 's' for r in roles)}: {known});"
            f" add them with: qc people add {add} --role {roles[0]}"
        )
    if person.role not in roles:
        raise PeopleError(f"{person.name} is {_a(person.role)}; {action} needs {_a(_roles_text(roles))}")
    return person


def charged_to(store: Store, agent: str | None) -> list[Person]:
    """The active agent people whose account is ``agent`` (the one a finding is charged to)."""
    return [p for p in list_people(store) if p.role == AGENT and p.charged_with(agent)]
