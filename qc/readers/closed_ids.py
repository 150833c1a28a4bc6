"""The conversation ids a streaming reader has finished, in about 8 bytes each.

A stream (or the line split of ``--jobs``) must notice a conversation id that comes back
after another conversation, so it keeps every finished id. A set of Python ints costs about
50 bytes an id and grows with the input (5 MB per million messages of a usual day); here
the recent ids sit in a small set and are folded now and then into one sorted NumPy array.
Hashes, not the ids: two ids with one hash only make a contiguous input look split, and the
caller then reads it whole (the same output, more slowly).
"""

from __future__ import annotations

from typing import Any

# Recent hashes kept in a set before a fold; a fold also waits for the set to reach an
# eighth of the array, so folding costs O(n log n) over a run, not O(n²).
_RECENT = 16384


class ClosedIds:
    """Membership of finished conversation ids (by hash): ``add(id)`` and ``id in closed``."""

    __slots__ = ("_recent", "_sorted")

    def __init__(self) -> None:
        self._recent: set[int] = set()
        self._sorted: Any = None  # a sorted int64 array once the first fold has run

    def add(self, conversation_id: str) -> None:
        """Mark ``conversation_id`` finished."""
        recent = self._recent
        recent.add(hash(conversation_id))
        if len(recent) >= _RECENT and (self._sorted is None or len(recent) >= len(self._sorted) >> 3):
            self._fold()

    def __contains__(self, conversation_id: object) -> bool:
        h = hash(conversation_id)
        if h in self._recent:
            return True
        kept = self._sorted
        if kept is None:
            return False
        i = int(kept.searchsorted(h))
        return i < len(kept) and int(kept[i]) == h

    def __len__(self) -> int:
        return len(self._recent) + (0 if self._sorted is None else len(self._sorted))

    def _fold(self) -> None:
        import numpy as np

        fresh = np.fromiter(self._recent, dtype=np.int64, count=len(self._recent))
        merged = fresh if self._sorted is None else np.concatenate((self._sorted, fresh))
        merged.sort(kind="stable")  # a sorted run and a short one: timsort merges them quickly
        self._sorted = merged
        self._recent.clear()
