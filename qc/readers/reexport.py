"""A re-export of a conversation: the same messages, read again with another clock, a few edited.

A shop corrects an export and sends it again: the clock of the machine that exported it was
off, or the day was read in the wrong time zone, and a line the first export cut off is now
whole. Every message of the new copy has moved by the same amount of time, and a message or
two differs. Compared time by time, the stored copy's messages all lie outside the new copy's
span, as if another export held them, and the two copies were joined: each message twice,
every charge doubled, the decisions on the old copy orphaned (audit 115 H1).

:func:`realign` finds the offset first: the one most pairs of equal messages (role, sender and
text) moved by, to the second (an export that drops fractions of a second moves each message
by a different fraction). Only then does it line the copies up, in order, with the pairs that
moved by it: aligned by text alone, a 哦 sent twice was paired with the wrong one, the
offsets disagreed and the copies were joined (audit 122 H3).

The alignment is a re-export only when it loses nothing the store read: every stored message
within the new copy's span has its copy there, or an edited copy at its corrected time (a line
completed), unless lines of the new file were damaged (the caller keeps the stored messages in
their place). A buyer back after midnight through the same page opens the second part as the
first (notice, 在吗, auto-reply, a quick 亲在的, one second apart): taken for a re-export, the
first part lost its other messages and their −5 (audits 122 H1, 125 H2). Typed messages (a
buyer's or an agent's, not the notice or the auto-reply) moved by the offset are the evidence:
two, or three when the new copy has messages beyond the stored copy's span (where a
continuation adds its own), at most one in three of them. New messages within the span are
lines a damaged first read lost, come back (audit 123 H6).

A decision follows only the pairs it cannot mistake (:attr:`Realigned.sure`): words said once
in each copy, or a repeat whose neighbours pair with its copy's. Elsewhere it is parked, never
passed on: the same words at the same time in a re-export whose clock moved are another send
(a later 好的 where the first read had put the cut one, audits 123 H7, 125 H4).
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = ["Realigned", "as_said", "realign"]

# A message as the alignment sees it: what was said (compared for equality), when, and whether a
# person typed it (a buyer's or agent's message, not a platform notice or an auto-reply).
Said = tuple[Hashable, datetime | None, bool]


def as_said(role: str, sender: str | None, text: str, at: datetime | None, auto_reply: bool) -> Said:
    """A message as :func:`realign` compares it: what was said, when, and whether a person typed it."""
    return (role, sender, text), at, role in ("agent", "customer") and not auto_reply


_SAME_OFFSET = timedelta(seconds=1)
# The typed messages that must have moved by the offset: fewer could be chance.
_MIN_TYPED = 3
# How many messages of the new copy may be new or edited (and stored ones within its span gone):
# one in this many, and one in any copy.
_EDITED_ONE_IN = 3
# Equal messages compared per stored message when looking for the offset: a chat of a hundred
# 好的 stays linear.
_MAX_CANDIDATES = 64


@dataclass(frozen=True, slots=True)
class Realigned:
    """How a new copy re-reads a stored one: the clock offset and stored index → new index.

    ``sure`` are the pairs a decision may follow: messages that moved by the offset whose words are
    said once in each copy, or a repeat whose neighbours pair with its copy's (:func:`_sure`).
    """

    offset: timedelta
    pairs: dict[int, int]
    sure: dict[int, int]


def _between(new: datetime | None, old: datetime | None) -> timedelta | None:
    """``new - old``, or ``None`` when either is untimed or only one knows its time zone."""
    if new is None or old is None or (new.tzinfo is None) != (old.tzinfo is None):
        return None
    return new - old


def realign(stored: Sequence[Said], new: Sequence[Said], damaged: bool = False) -> Realigned | None:
    """The alignment of ``new`` with ``stored`` when ``new`` is a re-export of it, else ``None``.

    Positions are the sequences' own (a conversation's message indexes when they run from 0).
    The same messages in the same order are a re-export however timed (the offset is then zero
    unless one moved them all). Otherwise see the module's description. ``damaged``: lines of
    the new copy's file were rejects, so a few stored messages may have no copy in it.
    """
    if not stored or not new:
        return None
    if [s for s, _, _ in stored] == [s for s, _, _ in new]:
        shifts = [_between(n[1], s[1]) for s, n in zip(stored, new, strict=True)]
        timed = sorted(d for d in shifts if d is not None)
        everything = {i: i for i in range(len(stored))}
        if not timed:  # untimed, or read in a zone once and naive once: nothing to tell them apart by
            return Realigned(timedelta(0), everything, everything)
        if len(timed) == len(shifts) and timed[-1] - timed[0] < _SAME_OFFSET:
            # The same messages in the same order, moved by one offset: each is its own copy,
            # repeated words too. Moved otherwise, they are other sends of the same words.
            return Realigned(timed[len(timed) // 2], everything, everything)
    equal = _equal_pairs(stored, new)
    offset = _offset(equal)
    if not offset:
        return None  # nothing moved: the times tell the copies apart, as they always have
    pairs = _chain(stored, new, equal, offset)
    shifted = {i: j for i, j in pairs.items() if _moved_by(new[j][1], stored[i][1], offset)}
    typed = sum(1 for i, j in shifted.items() if stored[i][2] and new[j][2])
    first, last = min(t for _, t, _ in new if t), max(t for _, t, _ in new if t)
    edits = _edited(stored, new, pairs, offset)
    # Stored messages with no copy in the new one. Within its span: another chat's, unless a
    # damaged line of the new file lost them (the caller keeps those). Beyond it: another export's
    # part (kept), which needs the stronger evidence below.
    unread = [t for i, (_, t, _) in enumerate(stored) if i not in pairs and i not in edits and t is not None]
    lost = sum(1 for t in unread if _within(t + offset, first, last))
    # New messages beyond the stored copy's span, on the corrected clock: where a continuation adds
    # its own (a re-export may reach a little further than the first one did).
    ends = [t for i in pairs if (t := stored[i][1]) is not None]
    if not ends:
        return None
    low, high = min(ends) + offset, max(ends) + offset
    beyond = [
        j
        for j, (_, t, _) in enumerate(new)
        if j not in pairs.values() and j not in edits.values() and t is not None and not _within(t, low, high)
    ]
    allowed = max(1, len(new) // _EDITED_ONE_IN)
    if lost > (allowed if damaged else 0) or len(beyond) > allowed:
        return None
    # A buyer's shorter second visit re-read the first visit's opening only, and took it from the
    # first day with its decisions (audit 126 H3); a few at its ends may be a damaged re-export's
    # lines (its last line cut, audit 127 H2).
    elsewhere = len(unread) - lost > (allowed if damaged else 0)
    if typed < (_MIN_TYPED if beyond or elsewhere else _MIN_TYPED - 1):
        return None
    moves = sorted(d for i, j in shifted.items() if (d := _between(new[j][1], stored[i][1])) is not None)
    return Realigned(moves[len(moves) // 2], pairs, _sure(stored, new, shifted, edits))


def _moved_by(new: datetime | None, old: datetime | None, offset: timedelta) -> bool:
    d = _between(new, old)
    return d is not None and abs(d - offset) <= _SAME_OFFSET


def _within(at: datetime, first: datetime, last: datetime) -> bool:
    """Whether ``at`` falls in ``first`` … ``last`` (a second either side), when the three compare."""
    if _between(at, first) is None:
        return False
    return first - _SAME_OFFSET <= at <= last + _SAME_OFFSET


def _edited(
    stored: Sequence[Said], new: Sequence[Said], pairs: Mapping[int, int], offset: timedelta
) -> dict[int, int]:
    """Each unpaired stored message's edit: the unpaired new one of its sender at its corrected time."""
    taken = set(pairs.values())
    at: dict[tuple[Hashable, ...], list[int]] = {}
    for j, (said, _, _) in enumerate(new):
        if j not in taken:
            at.setdefault(_who(said), []).append(j)
    out: dict[int, int] = {}
    for i, (said, t, _) in enumerate(stored):
        if i in pairs or t is None:
            continue
        for j in at.get(_who(said), ()):
            if j not in out.values() and _moved_by(new[j][1], t, offset):
                out[i] = j
                break
    return out


def _who(said: Hashable) -> tuple[Hashable, ...]:
    """Role and sender of a message as compared (its key's first two parts)."""
    return tuple(said[:2]) if isinstance(said, tuple) else ()


def _sure(
    stored: Sequence[Said], new: Sequence[Said], shifted: Mapping[int, int], edits: Mapping[int, int]
) -> dict[int, int]:
    """The pairs a decision may follow: words said once in each copy, or a repeat held by its neighbours.

    A reply sent several times (好的, 好的, 好的) pairs by position and time; where an edit or a drop
    leaves the alignment room to slip, a rejection passed to a message nobody reviewed (audits 123
    H7, 125 H4). So a repeat counts only when the messages beside it in the stored copy pair with
    the messages beside its copy (or are their edits). The rest are parked, as for any finding
    whose message changed.
    """
    in_stored = Counter(said for said, _, _ in stored)
    in_new = Counter(said for said, _, _ in new)
    held = {**shifted, **edits}
    out: dict[int, int] = {}
    for i, j in shifted.items():
        if in_stored[stored[i][0]] == 1 and in_new[new[j][0]] == 1:
            out[i] = j
        elif all(held.get(i + step) == j + step for step in (-1, 1) if 0 <= i + step < len(stored)):
            out[i] = j
    return out


def _equal_pairs(stored: Sequence[Said], new: Sequence[Said]) -> list[tuple[int, int, timedelta]]:
    """Every (stored index, new index, new − stored time) of equal, timed messages."""
    where: dict[Hashable, list[int]] = {}
    for j, (said, _, _) in enumerate(new):
        where.setdefault(said, []).append(j)
    out: list[tuple[int, int, timedelta]] = []
    for i, (said, at, _) in enumerate(stored):
        for j in where.get(said, ())[:_MAX_CANDIDATES]:
            d = _between(new[j][1], at)
            if d is not None:
                out.append((i, j, d))
    return out


def _offset(equal: Sequence[tuple[int, int, timedelta]]) -> timedelta | None:
    """The offset most pairs of equal messages moved by, to the second (the seconds around it pooled)."""
    seconds = Counter(round(d.total_seconds()) for _, _, d in equal)
    if not seconds:
        return None
    best = max(sorted(seconds), key=lambda s: seconds[s - 1] + seconds[s] + seconds[s + 1])
    return timedelta(seconds=best)


def _chain(
    stored: Sequence[Said],
    new: Sequence[Said],
    equal: Sequence[tuple[int, int, timedelta]],
    offset: timedelta,
) -> dict[int, int]:
    """The longest in-order pairing of equal messages that moved by ``offset`` (within a second).

    Then, beside them, equal messages that did not move, of stored messages whose corrected time
    falls outside the moved ones' span: a part the store kept from another export (the chat
    before midnight) and saves again as it was. Inside that span a message that did not move is
    another send of the same words: paired, a rejection passed from one 好的 to another sent a
    minute before it, when the clock fix was that minute (audit 123 H7).
    """
    moved = _longest([(i, j) for i, j, d in equal if abs(d - offset) <= _SAME_OFFSET])
    if not offset or not moved:
        return moved
    times = [new[j][1] for j in moved.values()]
    lo, hi = min(t for t in times if t), max(t for t in times if t)

    def kept(i: int, d: timedelta) -> bool:
        at = stored[i][1]
        return not d and i not in moved and at is not None and not lo <= at + offset <= hi

    pairs = dict(moved)
    taken = set(moved.values())
    for i, j in sorted((i, j) for i, j, d in equal if kept(i, d)):
        # Beside the moved pairs, never in their place: each keeps the order of every pair so far.
        if i not in pairs and j not in taken and all((a < i) == (b < j) for a, b in pairs.items()):
            pairs[i] = j
            taken.add(j)
    return dict(sorted(pairs.items()))


def _longest(candidates: list[tuple[int, int]]) -> dict[int, int]:
    """The longest chain of (stored, new) index pairs increasing in both, as a stored → new map."""
    # Sorted by stored index, new index descending within one stored message, so a strictly
    # increasing subsequence of new indexes takes each stored message once.
    candidates = sorted(set(candidates), key=lambda p: (p[0], -p[1]))
    tails: list[int] = []  # smallest new index ending a chain of each length
    ends: list[int] = []  # the candidate ending it
    before: list[int] = []  # each candidate's predecessor in its chain
    for k, (_, j) in enumerate(candidates):
        pos = bisect_left(tails, j)
        before.append(ends[pos - 1] if pos else -1)
        if pos == len(tails):
            tails.append(j)
            ends.append(k)
        else:
            tails[pos], ends[pos] = j, k
    pairs: dict[int, int] = {}
    k = ends[-1] if ends else -1
    while k >= 0:
        i, j = candidates[k]
        pairs[i] = j
        k = before[k]
    return dict(sorted(pairs.items()))
