"""Forgetting stored conversations: the wrong copy of an export filed twice, taken off the store.

The same export filed under two names (a file renamed to its right day, a copy in another
folder) is stored and counted twice, and ``qc inspect`` can only warn about it (run.json
``repeated_conversations``). A supervisor takes the wrong copy off with ``qc store forget``:
looked at first (``--dry-run``), recorded with who and why, its decisions kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

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
) -> Forgotten:
    """Take stored conversations off the store, or say what that would take (``dry_run``).

    Only a supervisor (or the store's administrator, who is not registered) may: it changes what
    every agent of those days is charged. ``why`` is required and kept with the run that records
    it. See :meth:`~qc.store.database.Store.forget` for what goes and what is kept.

    Raises:
        PeopleError: no ids, no reason, or ``by`` is an agent or reviewer (exit 2).
        ConfigError: an id the store does not hold, or decisions without ``park_decisions``.
    """
    ids = [i.strip() for i in conversation_ids if i.strip()]
    if not ids:
        raise PeopleError("name the conversations to forget, e.g. qc store forget c20261124_000082 --why …")
    check_plain("the name", by, NAME_MAX)
    who = manager(list_people(store), by, duty="stored conversations are forgotten")
    if dry_run:
        return Forgotten(plans=tuple(store.forget_plan(ids)), run=None, by=who)
    if not why.strip():
        raise PeopleError(
            "say why with --why (kept with the run that records it), e.g. --why 同一导出文件存了两次"
        )
    check_plain("the reason", why, _LONGEST_WHY)
    run, plans = store.forget(ids, actor=who, note=why.strip(), park_decisions=park_decisions)
    days = sorted({d for p in plans for d in p.days})
    empty = tuple(d for d in days if not store.parts(d, d))
    return Forgotten(plans=tuple(plans), run=run, by=who, empty=empty)
