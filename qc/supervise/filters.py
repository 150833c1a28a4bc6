"""Filters that answer: ``--agent``, ``--kind``, ``--state`` and dates checked against what exists.

A filter that matches nothing because it was mistyped must say so, not print an empty table
(dates are checked by the CLI, ``qc.cli._common.check_day``):
an agent is named by its full id or by a unique short name (阿杰 for 柚子优选旗舰店:阿杰), in any
spelling the readers fold to the same id (full-width colon, spaces, case); an ambiguous short
name is an error listing the candidates; an unknown kind or state is an error naming the
accepted values. Every such error is a usage error (exit 2).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from qc.errors import ConfigError
from qc.readers.roles import fold_agent_id
from qc.scoring.scores import KIND_LABELS
from qc.store.database import Store

__all__ = ["FilterError", "agents_named", "check_choice", "known_kinds", "match_agent", "resolve_agent"]

_SHOWN = 20  # candidates listed in an error message


class FilterError(ConfigError):
    """A filter names something that does not exist (exit 2, with the accepted values)."""


def check_choice(value: str, option: str, accepted: Iterable[str]) -> str:
    """``value`` if it is one of ``accepted``.

    Raises:
        FilterError: it is not; the message lists the accepted values.
    """
    allowed = list(dict.fromkeys(accepted))
    if value in allowed:
        return value
    raise FilterError(f"{option} {value!r} is unknown: use one of {', '.join(allowed)}")


def known_kinds(store: Store, card: Any) -> list[str]:
    """Finding kinds ``--kind`` accepts: the card's, the scorecard labels' and those stored."""
    return sorted({*card.kinds, *KIND_LABELS, *store.finding_kinds()})


def _listing(names: list[str]) -> str:
    more = f" … ({len(names)} in all)" if len(names) > _SHOWN else ""
    return ", ".join(names[:_SHOWN]) + more


def match_agent(query: str, agents: Iterable[str]) -> list[str]:
    """The agents ``query`` names: the one whose folded id equals it, else those with that short name."""
    want = fold_agent_id(query)
    names = list(dict.fromkeys(agents))
    exact = [a for a in names if fold_agent_id(a) == want]
    if exact:
        return exact[:1]
    return [a for a in names if ":" in a and fold_agent_id(a.rpartition(":")[2]) == want]


def agents_named(store: Store, query: str, agents: list[str] | None = None) -> list[str]:
    """The stored agents ``query`` names: by id or short name (:func:`match_agent`), else by nick.

    An agent whose messages carried an account id (客服ID) is stored by that id; its nick
    (``柚子优选旗舰店:小雨`` or ``小雨``) names it when no stored id matches.
    """
    agents = store.agents() if agents is None else agents
    found = match_agent(query, agents)
    if found or not agents:
        return found
    known = set(agents)
    return [a for a, nicks in sorted(store.agent_nicks().items()) if a in known and match_agent(query, nicks)]


def resolve_agent(store: Store, query: str, option: str = "--agent") -> str:
    """The stored agent id ``query`` names (a full id, a unique short name, or a nick: :func:`agents_named`).

    Raises:
        FilterError: no stored agent has that id, short name or nick, or several share it;
            the message lists the candidates.
    """
    agents = store.agents()
    found = agents_named(store, query, agents)
    if len(found) == 1:
        return found[0]
    if found:
        raise FilterError(f"{option} {query!r} is ambiguous: it names {_listing(found)}; give the full id")
    if not agents:
        raise FilterError(f"{option} {query!r}: the store has no agents yet; inspect a day with --db first")
    nicks = store.agent_nicks()
    shown = [f"{a} ({', '.join(sorted(nicks[a]))})" if a in nicks else a for a in agents]
    raise FilterError(f"{option} {query!r} names no agent in the store; agents: {_listing(shown)}")
