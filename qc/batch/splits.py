"""Conversations split across exports: a stored copy's earlier or later messages are kept.

Daily exports cut a conversation that runs past midnight in two: its first messages in one
day's file, the rest in the next. Inspected in one run, the reader joins the two parts; saved
by two runs, the second used to replace the first, and the conversation lost its first half.
Before a run is saved, each conversation it read is compared with the store's copy: when the
stored copy holds messages **outside the time span** of the run's copy (before its first
message or after its last), the conversation goes on in another export, so the stored
messages there are kept, the two are joined in time order (exact repeats once), and the whole
conversation is inspected again, as one run over both files would. A stored copy whose
messages all fall within the new copy's span is replaced, as before: that is a corrected
export of the same messages (a re-read with another encoding, a fixed line), not a
continuation. So is a copy that re-reads the stored messages with its clock moved, a line or two
edited (:func:`~qc.readers.reexport.realign`): the span is asked on the corrected clock. Only
timed conversations are compared; an untimed one is replaced.

Except where the run could not read all of it: when a file of the conversation had lines the
run rejected and the new copy holds fewer messages than the stored one, a stored message whose
place (time and role) the new copy leaves empty is kept too, so a damaged line in a re-export
never deletes what the store read before (nor orphans the decisions on it).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from qc.batch.chunks import with_evidence
from qc.errors import ConfigError
from qc.readers.reexport import as_said, realign
from qc.readers.roles import shop_account
from qc.run.executors import Executor, findings_of
from qc.run.inspector import ConversationResult
from qc.schema import NAMELESS_AGENT, Conversation, Message, Role, finding_id
from qc.scoring.card import Scorecard
from qc.scoring.metrics import time_span
from qc.scoring.scores import ConversationRecord, conversation_record

if TYPE_CHECKING:  # the store (SQLAlchemy) is imported by the runs that have one
    from qc.store.database import Store

__all__ = ["Continuations", "continued", "find_continuations", "time_span"]


def _key(m: Message) -> tuple[object, ...]:
    return (m.sent_at, m.role, m.sender, m.text)


def _said(m: Message) -> tuple[object, ...]:
    return (m.role, m.sender, m.text)


def continued(new: Conversation, stored: Conversation, fill_gaps: bool = False) -> Conversation | None:
    """``new`` joined with the messages of ``stored`` outside its time span, or ``None`` when there are none.

    With ``fill_gaps`` (a file of ``new`` had rejected lines), stored messages inside the span
    whose time and role no message of ``new`` has are kept as well. The joined conversation
    has every message once (an exact repeat of a message of ``new`` is dropped), in time order
    (ties keep the stored part first, then ``new``'s order), indexed from 0, and names the
    sources of both copies.
    """
    span = time_span(new)
    if span is None or time_span(stored) is None:
        return None
    shop = new.shop or stored.shop
    # A part read from an export without the shop kept its agents' bare nicks: joined under the
    # shop, they are the shop's accounts, as one run reading both files names them.
    mine, theirs = _in_shop(new.messages, shop), _in_shop(stored.messages, shop)
    if [_said(m) for m in theirs] == [_said(m) for m in mine]:
        return None  # the same messages read at other times (another --timezone): a re-read
    _, first, last = span
    seen = {_key(m) for m in mine}
    stored_said, new_said = (
        [as_said(m.role.value, m.sender, m.text, m.sent_at, m.auto_reply) for m in part]
        for part in (theirs, mine)
    )
    again = realign(stored_said, new_said, damaged=fill_gaps)
    offset = timedelta(0)
    if again is not None:
        # A re-export with its clock corrected (and a line or two edited): the stored messages it
        # re-reads are replaced, and whether another is in its span is asked on the corrected
        # clock (audit 115 H1). A stored message outside the span keeps its time: another export's
        # part, this run did not read it; one inside the span (a damaged line's) was read from this
        # export with the wrong clock: it takes the corrected one (audit 122 H2).
        offset = again.offset
        theirs = tuple(m for i, m in enumerate(theirs) if i not in again.pairs)
    extra = [m for m in theirs if m.sent_at is not None and not first <= m.sent_at + offset <= last]
    if fill_gaps:
        slots = {(m.sent_at, m.role) for m in mine}
        extra += [
            replace(m, sent_at=m.sent_at + offset)
            for m in theirs
            if m.sent_at is not None
            and first <= m.sent_at + offset <= last
            and (m.sent_at + offset, m.role) not in slots
        ]
    extra = [m for m in extra if _key(m) not in seen]
    if not extra:
        return None
    joined = sorted([*extra, *mine], key=lambda m: m.sent_at or first)
    sources = [s.strip() for c in (stored, new) for s in (c.source or "").split(",") if s.strip()]
    return Conversation(
        id=new.id,
        messages=tuple(replace(m, index=i) for i, m in enumerate(joined)),
        shop=shop,
        source=", ".join(dict.fromkeys(sources)),
    )


def _in_shop(messages: tuple[Message, ...], shop: str | None) -> tuple[Message, ...]:
    """``messages`` with each bare agent nick made the account of ``shop`` (:func:`shop_account`).

    A typed reply that names nobody becomes the shop's nameless agent, as the readers write it.
    """
    if not shop:
        return messages
    return tuple(
        replace(m, sender=shop_account(m.sender or NAMELESS_AGENT, shop))
        if m.role is Role.AGENT
        and m.agent_id is None
        and (m.sender and ":" not in m.sender or not m.sender and not m.auto_reply)
        else m
        for m in messages
    )


@dataclass(slots=True)
class Continuations:
    """The run's conversations that an earlier export began (or a later one goes on with), re-inspected.

    ``records`` replace the run's own records of those conversations in the save; ``kept``
    counts the stored messages each kept, for run.json and the warning. ``renamed`` maps the id
    of each stored finding whose message moved in the joined conversation (an earlier part
    put in front renumbers it) to the id the same finding has now, so the save carries its
    decisions over instead of orphaning them.
    """

    records: dict[tuple[str, str], ConversationRecord] = field(default_factory=dict)
    kept: dict[tuple[str, str], int] = field(default_factory=dict)
    renamed: dict[str, str] = field(default_factory=dict)
    # Stored copies saved without a shop that a joined record continues under its shop: the
    # save re-keys them (:meth:`~qc.store.database.Store.save_run_streamed`).
    adopted: dict[tuple[str, str], str] = field(default_factory=dict)
    # The days the replaced stored copies counted on: the run changes their scores too (a turn
    # left unanswered before midnight is answered after it; under conversation_start the whole
    # conversation moves to its first day).
    stored_days: set[str] = field(default_factory=set)

    def apply(self, records: Iterable[ConversationRecord]) -> Iterator[ConversationRecord]:
        """The run's records with each continued conversation's joined record in its place."""
        for r in records:
            yield self.records.get((r.conversation.shop or "", r.conversation.id), r)

    def describe(self) -> list[dict[str, object]]:
        """One entry per joined conversation (for run.json): shop, id and the stored messages kept."""
        return [
            {"shop": shop, "conversation_id": cid, "stored_messages_kept": n}
            for (shop, cid), n in sorted(self.kept.items())
        ]


def find_continuations(
    spans: Mapping[tuple[str, str], tuple[int, datetime, datetime]],
    records: Iterable[ConversationRecord],
    store: Store,
    executor: Executor,
    card: Scorecard,
    damaged: Collection[str] = (),
) -> Continuations:
    """Compare the run's conversations with the store's copies and re-inspect those that continue.

    ``spans`` are the run's timed conversations (:func:`time_span`, by shop and id); the store
    answers with its copies' spans in one grouped query per few hundred conversations, and only
    the conversations whose stored copy reaches outside the run's span are read in full. Then
    ``records`` is read once (only when there is such a conversation) for their new copies.
    ``damaged`` are the files this run rejected lines of: a conversation read from one whose
    stored copy has more messages keeps the stored messages the new copy has no place for.
    """
    found = Continuations()
    stored_spans = store.message_spans(list(spans))
    # A chat cut at midnight whose part before held buyer messages only has no shop there (the
    # shop comes from the agents' nicks): its stored copy has none and the run's has one, or
    # the other way round. The two are one conversation when nothing else has the id.
    alias = _shopless_aliases(store, spans, stored_spans)
    stored_spans.update(store.message_spans(sorted(set(alias.values()))))
    candidates = {
        key
        for key in spans
        if (found_span := stored_spans.get(alias.get(key, key))) is not None
        and (
            _parse(found_span[1]) < spans[key][1]
            or _parse(found_span[2]) > spans[key][2]
            or (bool(damaged) and found_span[0] > spans[key][0])
        )
    }
    if not candidates:
        return found
    stored = store.stored_conversations(sorted({alias.get(key, key) for key in candidates}))
    joined: list[tuple[tuple[str, str], Conversation, int]] = []
    for r in records:
        key = (r.conversation.shop or "", r.conversation.id)
        at = alias.get(key, key)
        if key in candidates and at in stored:
            _refuse_another_buyer(at, stored[at], r.conversation, card.day.timezone)
            files = {f.strip() for f in (r.conversation.source or "").split(",")}
            both = continued(r.conversation, stored[at], fill_gaps=not files.isdisjoint(damaged))
            if both is not None:
                joined.append((key, both, len(both.messages) - len(r.conversation.messages)))
                if at != key and not at[0]:
                    found.adopted[at] = key[0]
    if not joined:
        return found
    # The joined copy has the shop either part had; the run's record is found by the run's key.
    run_key = {(c.shop or "", c.id): key for key, c, _ in joined}
    for batch, results in executor.map([c for _, c, _ in joined], findings_of):
        for conversation, findings in zip(batch, results, strict=True):
            key = run_key[(conversation.shop or "", conversation.id)]
            result = with_evidence(ConversationResult(conversation, (), findings), card)
            found.records[key] = conversation_record(conversation, result.findings, card)
    found.kept = {key: n for key, _, n in joined}
    for key, both, _ in joined:
        at = alias.get(key, key)
        found.renamed.update(_moved_findings(store, at, stored[at], both))
        found.stored_days |= conversation_record(stored[at], (), card).counted_days
    return found


def _shopless_aliases(
    store: Store,
    spans: Mapping[tuple[str, str], Any],
    stored_spans: Mapping[tuple[str, str], Any],
) -> dict[tuple[str, str], tuple[str, str]]:
    """Run key → stored key of the same id where one of the two has no shop and only one is stored.

    A run's (shop, id) whose own key the store does not hold is the store's shopless copy of
    that id; a run's shopless key is the store's copy under a shop when exactly one shop has
    the id. Two shops with the id, or the run's own key stored, are left as they are.
    """
    missing = [key for key in spans if key not in stored_spans]
    if not missing:
        return {}
    shops = store.shops_of([cid for _, cid in missing])
    alias: dict[tuple[str, str], tuple[str, str]] = {}
    for shop, cid in missing:
        held = shops.get(cid, set())
        if shop and held == {""}:
            alias[(shop, cid)] = ("", cid)
        elif not shop and len(held) == 1 and "" not in held:
            alias[(shop, cid)] = (next(iter(held)), cid)
    return alias


def _refuse_another_buyer(key: tuple[str, str], stored: Conversation, new: Conversation, zone: str) -> None:
    """Refuse to join two copies of one id whose buyers differ: an export that numbers chats anew each day.

    Raises:
        ConfigError: the id, both buyers and days, and the fix (exit 2; nothing is saved).
    """

    def buyers(conv: Conversation) -> set[str]:
        return {m.sender for m in conv.messages if m.role is Role.CUSTOMER and m.sender}

    before, now = buyers(stored), buyers(new)
    if before and now and before.isdisjoint(now):
        shop, cid = key
        first = next((m.sent_at for m in stored.messages if m.sent_at), None)
        day = f" on {first.astimezone(ZoneInfo(zone)).date()}" if first else ""  # the shop's day
        where = f" of {shop}" if shop else ""
        raise ConfigError(
            f"conversation {cid!r}{where} is stored with buyer {', '.join(sorted(before))}{day} and this"
            f" run has it with buyer {', '.join(sorted(now))}: the export numbers its conversations"
            " anew (each day?), so two chats share one id and would be joined into one. Give the ids a"
            " day or file prefix before inspecting, or keep such days in stores of their own. Nothing of"
            " this run was saved"
        )


def _moved_findings(
    store: Store, key: tuple[str, str], stored: Conversation, joined: Conversation
) -> dict[str, str]:
    """Old id → new id of the stored findings of ``key`` whose message has another index in ``joined``.

    A finding's id holds its message's index; the message is the same one (same time, role,
    sender and text), so the finding is too.
    """
    at = {_key(m): m.index for m in joined.messages}
    moved: dict[str, str] = {}
    for s in store.findings(conversation_ids=[key[1]]):
        f = s.finding
        if s.shop != key[0] or not 0 <= f.message_index < len(stored.messages):
            continue
        now = at.get(_key(stored.messages[f.message_index]))
        if now is not None and now != f.message_index:
            moved[f.id] = finding_id(f.conversation_id, now, f.kind, f.entry, f.start, f.end)
    return moved


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text)
