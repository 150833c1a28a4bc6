"""Forgetting stored conversations: the wrong copy of an export filed twice, taken off the store.

The same export filed under two names (a file renamed to its right day, a copy in another
folder) is stored and counted twice, and ``qc inspect`` can only warn about it (run.json
``repeated_conversations``). A supervisor takes the wrong copy off with ``qc store forget``:
looked at first (``--dry-run``), recorded with who and why, its decisions kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from qc.supervise.people import NAME_MAX, PeopleError, check_plain, list_people, manager

if TYPE_CHECKING:
    from qc.store.database import ForgetPlan, Store

__all__ = ["Forgotten", "forget_conversations"]

# A reason, not a document: it is printed with the run that records it.
_LONGEST_WHY = 2000


@dataclass(frozen=True, slots=True)
class Forgotten:
    """What ``qc store forget`` did (``run`` is ``None`` for a dry run): one plan per conversation."""

    plans: tuple[ForgetPlan, ...]
    run: int | None
    by: str
    empty: tuple[str, ...] = ()  # days the forget left without any conversation
    from_run: int | None = None  # the run whose conversations these are (--run)
    stored: int = 0  # how many conversations that run stored, its copies or not
    # That run's conversations that repeat a conversation the store holds and keeps (asked now).
    repeats: frozenset[str] = frozenset()
    # Conversations that run continued (an earlier copy's messages kept in them): left, named.
    continued: tuple[str, ...] = ()
    # Its own conversations that replaced whole an earlier run's copy (id, that run): taken.
    replaced: tuple[tuple[str, int], ...] = ()

    @property
    def days(self) -> list[str]:
        """The days that score differently without the conversations, in order."""
        return sorted({d for p in self.plans for d in p.days})


def forget_conversations(
    store: Store,
    conversation_ids: Sequence[str],
    *,
    by: str = "",
    why: str = "",
    park_decisions: bool = False,
    dry_run: bool = False,
    run: int | None = None,
) -> Forgotten:
    """Take stored conversations off the store, or say what that would take (``dry_run``).

    Only a supervisor (or the store's administrator, who is not registered) may: it changes what
    every agent of those days is charged. ``why`` is required and kept with the run that records
    it. ``run`` names a whole run instead of ids: the conversations it stored that are still its
    copies (a day filed under the wrong date is hundreds of ids). See
    :meth:`~qc.store.database.Store.forget` for what goes and what is kept.

    Raises:
        PeopleError: no ids and no run, both, no reason, or ``by`` is an agent or reviewer (exit 2).
        ConfigError: an id the store does not hold, a run with nothing to forget, or decisions
            without ``park_decisions``.
    """
    ids = [i.strip() for i in conversation_ids if i.strip()]
    if ids and run is not None:
        raise PeopleError("name conversations or a run (--run), not both")
    if not ids and run is None:
        raise PeopleError(
            "name the conversations to forget, e.g. qc store forget c20261124_000082 --why …,"
            " or a whole run with --run N (qc store runs lists them)"
        )
    check_plain("the name", by, NAME_MAX)
    who = manager(list_people(store), by, duty="stored conversations are forgotten")
    about: dict[str, Any] = {}
    own: list[str] = []
    if run is not None:
        own = store.run_held(run)  # refuses a run with nothing of its own to forget
        about = {
            "from_run": run,
            "stored": sum(r.conversations for r in store.runs(only=run)),
            "repeats": _live_repeats(store, run, set(own)),
            "continued": tuple(store.run_continued(run)),
            "replaced": tuple(store.run_replaced(run).items()),
        }
    if dry_run:
        planned = tuple(store.forget_plan(ids if run is None else own))
        return Forgotten(plans=planned, run=None, by=who, **about)
    if not why.strip():
        raise PeopleError(
            "say why with --why (kept with the run that records it), e.g. --why 同一导出文件存了两次"
        )
    check_plain("the reason", why, _LONGEST_WHY)
    done, plans = store.forget(ids, actor=who, note=why.strip(), park_decisions=park_decisions, run=run)
    days = sorted({d for p in plans for d in p.days})
    empty = tuple(d for d in days if not store.parts(d, d))
    return Forgotten(plans=tuple(plans), run=done, by=who, empty=empty, **about)


def _live_repeats(store: Store, run: int, own: set[str]) -> frozenset[str]:
    """The run's conversations that repeat one the store holds now and that the forget keeps.

    run.json's repeats are of the day it saved: a copy whose original was forgotten since is the
    only copy, and calling it a copy made forgetting the run look safe (audit 141 M2).
    """
    pairs = store.run_repeats(run)
    held = store.held_conversations({(p["shop"], p["repeats"]) for p in pairs})
    return frozenset(
        p["conversation"] for p in pairs if (p["shop"], p["repeats"]) in held and p["repeats"] not in own
    )
