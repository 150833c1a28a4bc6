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
offsets disagreed and the copies were joined (audit 122 H3). The alignment is a re-export
when typed messages (a buyer's or an agent's, not the platform's notice or an auto-reply, which
open every visit alike) moved by the offset, and either every stored message is re-read (at
least three typed: lines a damaged first read lost came back, audit 123 H6), or at most one
message in three of the new copy is new or edited and as many stored messages within its span
are gone (three typed), or the whole of a short chat bar one such edit (two typed, audit 123
H5). A buyer who came back after midnight through the same product page opens the second part
with the same notice, 在吗 and auto-reply, one second apart, and was taken for a re-export of the
first part, which lost most of its messages (audit 122 H1).
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = ["Realigned", "realign"]

# A message as the alignment sees it: what was said (compared for equality), when, and whether a
# person typed it (a buyer's or agent's message, not a platform notice or an auto-reply).
Said = tuple[Hashable, datetime | None, bool]

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
    """How a new copy re-reads a stored one: the clock offset and stored index → new index."""

    offset: timedelta
    pairs: dict[int, int]


def _between(new: datetime | None, old: datetime | None) -> timedelta | None:
    """``new - old``, or ``None`` when either is untimed or only one knows its time zone."""
    if new is None or old is None or (new.tzinfo is None) != (old.tzinfo is None):
        return None
    return new - old


def realign(stored: Sequence[Said], new: Sequence[Said]) -> Realigned | None:
    """The alignment of ``new`` with ``stored`` when ``new`` is a re-export of it, else ``None``.

    Positions are the sequences' own (a conversation's message indexes when they run from 0).
    The same messages in the same order are a re-export however timed (the offset is then zero
    unless one moved them all). Otherwise see the module's description.
    """
    if not stored or not new:
        return None
    if [s for s, _, _ in stored] == [s for s, _, _ in new]:
        moved = sorted(d for d in (_between(n[1], s[1]) for s, n in zip(stored, new, strict=True)) if d)
        one = bool(moved) and len(moved) == len(stored) and moved[-1] - moved[0] < _SAME_OFFSET
        return Realigned(moved[len(moved) // 2] if one else timedelta(0), {i: i for i in range(len(stored))})
    offset = _offset(stored, new)
    if offset is None:
        return None
    pairs = _chain(stored, new, offset)
    shifts = sorted(
        d
        for i, j in pairs.items()
        if (d := _between(new[j][1], stored[i][1])) is not None and abs(d - offset) <= _SAME_OFFSET
    )
    allowed = max(1, len(new) // _EDITED_ONE_IN)
    added, lost = len(new) - len(pairs), len(stored) - len(pairs)
    first, last = min(t for _, t, _ in new if t), max(t for _, t, _ in new if t)
    gone = sum(
        1
        for i, (_, t, _) in enumerate(stored)
        if i not in pairs and t is not None and _between(first, t) is not None and first <= t + offset <= last
    )
    if offset:
        typed = sum(
            1
            for i, j in pairs.items()
            if stored[i][2]
            and new[j][2]
            and (d := _between(new[j][1], stored[i][1]))
            and abs(d - offset) <= _SAME_OFFSET
        )
        # Every stored message re-read (lines a damaged first read lost came back), a few edited
        # (the evidence of three typed messages), or a short chat whole bar an edit (two).
        whole = lost == 0 and typed >= _MIN_TYPED
        edited = added <= allowed and gone <= allowed and typed >= _MIN_TYPED
        short = added <= allowed and lost <= allowed and typed >= _MIN_TYPED - 1
        if not (whole or edited or short):
            return None
    elif added > allowed or gone > allowed:
        return None
    return Realigned(shifts[len(shifts) // 2] if shifts else offset, pairs)


def _offset(stored: Sequence[Said], new: Sequence[Said]) -> timedelta | None:
    """The offset most pairs of equal messages moved by, to the second (the seconds around it pooled)."""
    where: dict[Hashable, list[int]] = {}
    for j, (said, _, _) in enumerate(new):
        where.setdefault(said, []).append(j)
    seconds: Counter[int] = Counter()
    for said, at, _ in stored:
        for j in where.get(said, ())[:_MAX_CANDIDATES]:
            d = _between(new[j][1], at)
            if d is not None:
                seconds[round(d.total_seconds())] += 1
    if not seconds:
        return None
    best = max(sorted(seconds), key=lambda s: seconds[s - 1] + seconds[s] + seconds[s + 1])
    return timedelta(seconds=best)


def _chain(stored: Sequence[Said], new: Sequence[Said], offset: timedelta) -> dict[int, int]:
    """The longest in-order pairing of equal messages that moved by ``offset`` (within a second).

    Then, beside them, equal messages that did not move, of stored messages whose corrected time
    falls outside the moved ones' span: a part the store kept from another export (the chat
    before midnight) and saves again as it was. Inside that span a message that did not move is
    another send of the same words: paired, a rejection passed from one 好的 to another sent a
    minute before it, when the clock fix was that minute (audit 123 H7).
    """
    where: dict[Hashable, list[int]] = {}
    for j, (said, _, _) in enumerate(new):
        where.setdefault(said, []).append(j)

    def candidates(keep: Callable[[int, timedelta], bool]) -> list[tuple[int, int]]:
        out: list[tuple[int, int]] = []
        for i, (said, at, _) in enumerate(stored):
            for j in where.get(said, ())[:_MAX_CANDIDATES]:
                d = _between(new[j][1], at)
                if d is not None and keep(i, d):
                    out.append((i, j))
        return out

    moved = _longest(candidates(lambda _, d: abs(d - offset) <= _SAME_OFFSET))
    if not offset or not moved:
        return moved
    times = [new[j][1] for j in moved.values()]
    lo, hi = min(t for t in times if t), max(t for t in times if t)

    def kept(i: int, d: timedelta) -> bool:
        at = stored[i][1]
        return not d and i not in moved and at is not None and not lo <= at + offset <= hi

    pairs = dict(moved)
    taken = set(moved.values())
    for i, j in sorted(candidates(kept)):
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
