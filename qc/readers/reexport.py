"""A re-export of a conversation: the same messages, read again with another clock, a few edited.

A shop corrects an export and sends it again: the clock of the machine that exported it was
off, or the day was read in the wrong time zone, and a line the first export cut off is now
whole. Every message of the new copy has moved by the same amount of time, and a message or
two differs. Compared time by time, the stored copy's messages all lie outside the new copy's
span, as if another export held them, and the two copies were joined: each message twice,
every charge doubled, the decisions on the old copy orphaned (audit 115 H1).

:func:`realign` lines the two copies up by what was said (role, sender and text, in order,
with :class:`difflib.SequenceMatcher`) and accepts the alignment as a re-export only when the
aligned messages moved by one offset (to the second: an export that drops fractions of a
second moves each message by a different fraction) and make up at least half of one copy (the
stored copy, or the new one when the store had joined the chat's part from another day).
A conversation that goes on another day with the same greeting and auto-reply does not: its
messages do not keep their gaps to the second, and two messages are not enough to tell.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from difflib import SequenceMatcher

__all__ = ["Realigned", "realign"]

# A message as the alignment sees it: what was said (compared for equality) and when.
Said = tuple[Hashable, datetime | None]

_SAME_OFFSET = timedelta(seconds=1)
# An alignment that leaves out part of the stored copy is a re-export only when it is long
# enough that its one offset cannot be chance, and covers this share of one copy's messages.
_MIN_ALIGNED = 3
_MIN_SHARE = 0.5


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
    Accepted when the pairs are all of both copies (the same messages in order, however timed:
    the offset is then zero unless one moved them all), or when they are at least three and half
    of one copy, every pair is timed, and those that moved (at least three) moved by one offset,
    within a second. A pair that did not move is a message the store kept from another export
    and saves again as it was; a single moved pair proves nothing (one 好的 answered later).
    """
    if not stored or not new:
        return None
    matcher = SequenceMatcher(None, [s for s, _ in stored], [s for s, _ in new], autojunk=False)
    pairs = {block.a + k: block.b + k for block in matcher.get_matching_blocks() for k in range(block.size)}
    everything = len(pairs) == len(stored) == len(new)
    if not everything and (len(pairs) < _MIN_ALIGNED or len(pairs) < _MIN_SHARE * min(len(stored), len(new))):
        return None
    offsets = [_between(new[b][1], stored[a][1]) for a, b in pairs.items()]
    moved = sorted(d for d in offsets if d)
    if None not in offsets and not moved:
        return Realigned(offset=timedelta(0), pairs=pairs)  # the same messages at the same times
    if None not in offsets and len(moved) >= _MIN_ALIGNED and moved[-1] - moved[0] < _SAME_OFFSET:
        return Realigned(offset=moved[len(moved) // 2], pairs=pairs)
    return Realigned(offset=timedelta(0), pairs=pairs) if everything else None
