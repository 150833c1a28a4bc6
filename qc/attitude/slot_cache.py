"""Fixed-size caches keyed by a key's hash: the attitude rule's memory does not grow as they fill.

The attitude rule keeps what it computed per distinct reply, turn and cue set, because a shop's
day repeats them. A dictionary or ``lru_cache`` keeps every key object alive (a turn's texts, a
frozen set of cue names), so a worker's memory grew with the day's distinct turns until the
caches were full: by tens of MB between a day of 100k messages and one of a million. These
caches keep only the key's 64-bit ``hash()``, in arrays allocated whole when the cache is made,
and a value: scores in a NumPy table (:class:`SlotRows`), or a reference to a shared value
(:class:`SlotCache`; equal values are one object through :data:`share`, an
:class:`Interner`). Each key has one slot, named by its hash (direct-mapped, with at least twice
as many slots as the entries asked for); a new key replaces whatever held its slot.

Two keys count as the same when their hashes are equal. CPython's string hashes are SipHash
keyed per process, so two distinct keys share a 64-bit hash by chance alone: about once in
10¹⁹ lookups, against about ten million lookups on a day of a million messages.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Hashable, Sequence
from typing import Any, Generic, TypeVar

import numpy as np
import numpy.typing as npt

__all__ = ["Interner", "SlotCache", "SlotRows", "share", "slot_count"]

V = TypeVar("V")
H = TypeVar("H", bound=Hashable)

# hash() never returns -1 (CPython reserves it for errors), so it marks an empty slot; 0 cannot,
# since "" and 0 hash to 0.
_EMPTY = -1


def slot_count(size: int) -> int:
    """The number of slots for about ``size`` entries: a power of two, at least ``2 * size``.

    Twice as many slots keeps the share of entries lost to a shared slot small (direct-mapped,
    a slot per hash), and a power of two makes the slot a mask of the hash.
    """
    if size < 1:
        raise ValueError(f"a slot cache needs at least one entry, got {size}")
    return 1 << (2 * size - 1).bit_length()


class Interner:
    """One instance of each distinct immutable value (a frozen set of cue names, a tuple of kinds).

    The caches hold thousands of such values but few differ: a cue scan of a new text makes a new
    frozen set equal to one made before, and each costs 200–700 bytes for as long as a cache
    keeps it. At most ``size`` distinct values are kept; then the map starts again (an
    adversarial day cannot grow it without end, and a value shared before stays valid).
    """

    __slots__ = ("_seen", "_size")

    def __init__(self, size: int) -> None:
        self._size = size
        self._seen: dict[Any, Any] = {}

    def __call__(self, value: H) -> H:
        """The instance kept of values equal to ``value`` (``value`` itself when it is the first)."""
        seen = self._seen
        found = seen.get(value)
        if found is None:
            if len(seen) >= self._size:
                seen.clear()
            seen[value] = found = value
        return found

    def __len__(self) -> int:
        """How many distinct values are kept."""
        return len(self._seen)


# The process's shared instances: the cue scans, answered-cue names and the attitude rule's
# sets all draw from one closed vocabulary of cue names, so one map serves them all.
share = Interner(16_384)


class SlotCache(Generic[V]):
    """A fixed-size map key → value, one lookup at a time; the key's hash is all it keeps of it.

    Meant for values shared by many keys (interned sets, small ints): the slots hold references,
    so a value costs memory only while it is its slot's.
    """

    __slots__ = ("_hashes", "_mask", "_values")

    def __init__(self, size: int) -> None:
        slots = slot_count(size)
        self._mask = slots - 1
        self._hashes = array("q", [_EMPTY]) * slots
        self._values: list[V | None] = [None] * slots

    def get(self, key: Hashable) -> V | None:
        """The value kept under ``key``, or ``None`` if its slot holds another key (or none)."""
        h = hash(key)
        slot = h & self._mask
        return self._values[slot] if self._hashes[slot] == h else None

    def put(self, key: Hashable, value: V) -> V:
        """Keep ``value`` under ``key`` (in place of what its slot held) and return it."""
        h = hash(key)
        slot = h & self._mask
        self._hashes[slot] = h
        self._values[slot] = value
        return value

    def __len__(self) -> int:
        """How many slots hold a key (for tests and profiles; not kept, counted)."""
        return len(self._hashes) - self._hashes.count(_EMPTY)


class SlotRows:
    """A fixed-size table key → row of floats, filled in batches by one computation of the new keys.

    The rows live in one preallocated array: a cached row costs its floats and an 8-byte hash,
    and a batch's rows are gathered by one indexing operation.
    """

    def __init__(
        self, compute: Callable[[list[Any]], npt.NDArray[np.float64]], width: int, size: int
    ) -> None:
        self.compute = compute
        slots = slot_count(size)
        self._mask = slots - 1
        # Both written whole now (np.full, not the lazily mapped np.zeros): a worker holds the
        # table's memory from its first message, not page by page as the day's turns arrive.
        self._hashes = np.full(slots, _EMPTY, dtype=np.int64)
        self._table = np.full((slots, width), 0.0)

    def get_many(self, keys: Sequence[Any]) -> npt.NDArray[np.float64]:
        """The rows of ``keys``, shape ``(len(keys), width)``; the missing ones computed together."""
        hashes = np.fromiter(map(hash, keys), np.int64, len(keys))
        slots = hashes & self._mask
        out = self._table[slots]
        missed = np.flatnonzero(self._hashes[slots] != hashes)
        if not missed.size:
            return out
        # Each distinct missing key once, in the order it first appears.
        missed_hashes = hashes[missed].tolist()
        rank: dict[int, int] = {}
        first: list[int] = []
        for i, h in zip(missed.tolist(), missed_hashes, strict=True):
            if h not in rank:
                rank[h] = len(first)
                first.append(i)
        fresh = self.compute([keys[i] for i in first])
        out[missed] = fresh[[rank[h] for h in missed_hashes]]
        # One write per slot (the last new key that names it), so a slot's hash and row agree.
        claims = {int(slots[i]): n for n, i in enumerate(first)}
        at = np.fromiter(claims.keys(), np.int64, len(claims))
        rows = np.fromiter(claims.values(), np.int64, len(claims))
        self._hashes[at] = hashes[np.asarray(first, dtype=np.int64)[rows]]
        self._table[at] = fresh[rows]
        return out

    @property
    def slots(self) -> int:
        """How many slots the table has (what it can hold at most)."""
        return len(self._hashes)

    def __len__(self) -> int:
        """How many slots hold a key (for tests and profiles)."""
        return int(np.count_nonzero(self._hashes != _EMPTY))
