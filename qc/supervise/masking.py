"""Maskers that know whose conversation a text comes from, so the buyer's nick in it is masked too.

``--mask-pii`` shows a buyer as 买家 in the speaker column; a message that writes the buyer's
nick (木子晴天666您好, 已转告 tb_8812) must not name them either. The masker of one conversation
masks its buyer's nicks (:meth:`qc.text.pii.Masker.for_buyers`); this module finds them, in the
messages at hand or, for lists of excerpts, in the store.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping

from qc.readers.roles import parse_role_word
from qc.schema import Message, Role
from qc.store.database import Store
from qc.text.pii import Masker

__all__ = ["buyer_nicks", "conversation_masker", "finding_maskers", "page_masker", "StoredMaskers"]


def buyer_nicks(senders: Iterable[str | None]) -> list[str]:
    """The buyer's nicks among ``senders``: role words (买家, customer) name nobody and stay."""
    return sorted({s.strip() for s in senders if s and s.strip() and parse_role_word(s.strip()) is None})


def conversation_masker(mask: Masker, messages: Iterable[Message], spared: Iterable[str] = ()) -> Masker:
    """``mask`` for the texts of the conversation these messages belong to (its buyer's nicks too).

    ``spared`` are the words the machine charged (the findings' texts): a nick inside one is
    not masked. A buyer nicknamed 爱买不买 or 小仙女 turned the agent's charged 爱买不买 into
    「[买家]」, and nobody could see what cost the points; the speaker column still says 买家.
    """
    if not mask.enabled:
        return mask
    nicks = buyer_nicks(m.sender for m in messages if m.role is Role.CUSTOMER)
    words = [w for w in spared if w]
    return mask.for_buyers([n for n in nicks if not any(n in w for w in words)])


class StoredMaskers:
    """Conversation id → its masker, the buyers' nicks read from the store in one query.

    For pages and lists that quote several conversations (flagged excerpts, appeals, the
    review sheet): each text is masked with the nicks of the conversation it comes from.
    """

    def __init__(self, mask: Masker, store: Store, conversation_ids: Collection[str]) -> None:
        self.mask = mask
        self._nicks = store.buyer_nicks(conversation_ids) if mask.enabled and conversation_ids else {}

    def __call__(self, conversation_id: str | None) -> Masker:
        """The masker for texts of ``conversation_id`` (the plain one for an unknown id)."""
        nicks = self._nicks.get(conversation_id or "")
        return self.mask.for_buyers(buyer_nicks(nicks)) if nicks else self.mask


def page_masker(mask: Masker, store: Store, conversation_ids: Iterable[str]) -> Masker:
    """One masker for a page quoting several conversations: every one of their buyers' nicks.

    A page's template masks each text alike; a nick of one of its buyers is personal data in
    any of its rows.
    """
    if not mask.enabled:
        return mask
    ids = set(conversation_ids)
    found = store.buyer_nicks(ids) if ids else {}
    return mask.for_buyers(buyer_nicks(n for nicks in found.values() for n in nicks))


def finding_maskers(
    mask: Masker, store: Store, finding_ids: Collection[str], known: Mapping[str, str] | None = None
) -> Callable[[str], Masker]:
    """Finding id → the masker of its conversation: notes, reasons and rulings quote the buyer too.

    ``known`` gives the conversation of findings the store may no longer hold (an orphaned
    appeal keeps its conversation id): its buyer's nick is still masked.
    """
    if not mask.enabled or not finding_ids:
        return lambda _finding_id: mask
    where = dict(known or {})
    where.update(
        (s.id, s.finding.conversation_id) for s in store.findings(finding_ids=list(set(finding_ids)))
    )
    maskers = StoredMaskers(mask, store, set(where.values()))
    return lambda finding_id: maskers(where.get(finding_id))
