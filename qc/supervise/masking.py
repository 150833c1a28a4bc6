"""Maskers that know whose conversation a text comes from, so the buyer's nick in it is masked too.

``--mask-pii`` shows a buyer as 买家 in the speaker column; a message that writes the buyer's
nick (木子晴天666您好, 已转告 tb_8812) must not name them either. The masker of one conversation
masks its buyer's nicks (:meth:`qc.text.pii.Masker.for_buyers`); this module finds them, in the
messages at hand or, for lists of excerpts, in the store.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping

from qc.readers.roles import parse_role_word
from qc.schema import Finding, Message, Role
from qc.store.database import Store
from qc.text.pii import Masker

__all__ = [
    "PageMasker",
    "StoredMaskers",
    "buyer_nicks",
    "conversation_masker",
    "finding_maskers",
    "page_masker",
    "spans_of",
]


def spans_of(findings: Iterable[Finding]) -> list[str]:
    """The texts of the findings that point at a span of their message (a lexicon phrase).

    What masking spares: a model's judgement covers its whole message, and a message that writes
    the buyer's nick besides the charged words must still hide it.
    """
    return [f.text for f in findings if f.text and f.start is not None]


def _unspared(nicks: Iterable[str], spared: Iterable[str]) -> list[str]:
    words = [w for w in spared if w]
    return [n for n in nicks if not any(n in w for w in words)]


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
    return mask.for_buyers(_unspared(nicks, spared))


class StoredMaskers:
    """Conversation id → its masker, the buyers' nicks and charged phrases read from the store.

    For pages and lists that quote several conversations (flagged excerpts, appeals, the
    review sheet): each text is masked with the nicks of the conversation it comes from, and a
    nick inside a phrase the lexicon charged in that conversation stays readable, as in
    :func:`conversation_masker` (a buyer nicknamed 爱买不买 turned the agent's charged 爱买不买
    into 「[买家]」 in qc flagged and the training samples, audit 94 #3).
    """

    def __init__(self, mask: Masker, store: Store, conversation_ids: Collection[str]) -> None:
        self.mask = mask
        ids = set(conversation_ids) if mask.enabled else set()
        self._nicks = store.buyer_nicks(ids) if ids else {}
        self._spared = store.charged_spans(self._nicks) if self._nicks else {}
        self._cache: dict[str, Masker] = {}

    def __call__(self, conversation_id: str | None) -> Masker:
        """The masker for texts of ``conversation_id`` (the plain one for an unknown id)."""
        cid = conversation_id or ""
        nicks = self._nicks.get(cid)
        if not nicks:
            return self.mask
        if cid not in self._cache:
            self._cache[cid] = self.mask.for_buyers(_unspared(buyer_nicks(nicks), self._spared.get(cid, ())))
        return self._cache[cid]

    def all_nicks(self) -> Masker:
        """One masker holding every listed conversation's buyer nicks, for a text of none of them."""
        return self.mask.for_buyers(buyer_nicks(n for nicks in self._nicks.values() for n in nicks))


class PageMasker:
    """The masker of a page quoting several conversations: each row with its own conversation's.

    ``mask(text, conversation_id)`` masks a row's text with the nicks of the buyer of that
    conversation (sparing the phrases the lexicon charged there); a text of no one conversation
    (``mask(text)``) is masked with every listed buyer's nick. One masker for the whole page hid
    an everyday phrase in every row because one buyer somewhere was nicknamed so (audit 94 #4).
    """

    def __init__(self, mask: Masker, store: Store, conversation_ids: Iterable[str]) -> None:
        self._rows = StoredMaskers(mask, store, set(conversation_ids))
        self._all = self._rows.all_nicks() if mask.enabled else mask
        self.enabled = mask.enabled

    @property
    def labels(self) -> tuple[str, ...]:
        """The masks' own words ([电话], [买家] …), which a search never highlights."""
        return self._all.labels

    def identifier(self, text: str) -> str:
        """An id (a conversation id that is a phone number) as the page shows it."""
        return self._all.identifier(text)

    def of(self, conversation_id: str | None) -> Masker:
        """The masker of one conversation's texts."""
        return self._rows(conversation_id) if conversation_id else self._all

    def __call__(self, text: str, conversation_id: str | None = None) -> str:
        """``text`` masked: with its conversation's buyer nicks when it names one, else every listed one's."""
        return self.of(conversation_id)(text) if conversation_id is not None else self._all(text)


def page_masker(mask: Masker, store: Store, conversation_ids: Iterable[str]) -> PageMasker:
    """The masker of a page quoting several conversations (see :class:`PageMasker`)."""
    return PageMasker(mask, store, conversation_ids)


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
