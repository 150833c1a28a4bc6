"""Message verdicts of a long run, kept in a temporary SQLite file instead of memory.

A lean ``qc inspect`` decides each flagged agent message's verdict as its conversation
comes back, but can only score once the run ends. Kept as objects, those verdicts were
the part of the main process that grew with the input (about 550 bytes each). The spool
writes them to a temporary file as they come and gives them back sorted as
:func:`qc.scoring.card.message_verdicts` sorts, one at a time, as often as the scorer asks.
"""

from __future__ import annotations

import pickle
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import MappingProxyType

from qc.scoring.card import MessageVerdict

__all__ = ["VerdictSpool"]

# Rows fetched per step while reading back: enough to keep SQLite's per-row cost low.
_FETCH = 2048


def _key(text: str) -> bytes:
    # UTF-8 bytes compare as the code points do, so SQLite's byte order is Python's str order;
    # surrogatepass keeps a lone surrogate (possible from a JSON escape) in its place too.
    return text.encode("utf-8", "surrogatepass")


class VerdictSpool:
    """An append-only, re-iterable collection of :class:`MessageVerdict` on disk.

    Iterating yields every verdict added so far in ``(date, agent, conversation_id,
    message_index)`` order, the order :func:`qc.scoring.card.score_verdicts` expects.
    Close it (or use it as a context manager) to delete the file.
    """

    def __init__(self, directory: Path | None = None) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="qc-verdicts-", dir=directory)
        self._db = sqlite3.connect(Path(self._dir.name) / "verdicts.sqlite")
        self._db.execute("PRAGMA journal_mode=OFF")
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.execute(
            "CREATE TABLE v (date BLOB, agent BLOB, conversation BLOB, message INTEGER, row BLOB)"
        )
        self._count = 0

    def extend(self, verdicts: Iterable[MessageVerdict]) -> None:
        """Add verdicts (any order: reading back sorts them)."""
        rows = [
            (
                _key(v.date),
                _key(v.agent),
                _key(v.conversation_id),
                v.message_index,
                pickle.dumps(
                    (v.conversation_id, v.message_index, v.agent, v.date)
                    + (v.verdict, v.verdict_findings, dict(v.kinds)),
                    protocol=pickle.HIGHEST_PROTOCOL,
                ),
            )
            for v in verdicts
        ]
        self._db.executemany("INSERT INTO v VALUES (?, ?, ?, ?, ?)", rows)
        self._count += len(rows)

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[MessageVerdict]:
        cursor = self._db.execute("SELECT row FROM v ORDER BY date, agent, conversation, message")
        while batch := cursor.fetchmany(_FETCH):
            for (row,) in batch:
                cid, index, agent, day, verdict, found, kinds = pickle.loads(row)
                yield MessageVerdict(cid, index, agent, day, verdict, found, MappingProxyType(kinds))

    def close(self) -> None:
        """Delete the file."""
        self._db.close()
        self._dir.cleanup()

    def __enter__(self) -> VerdictSpool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
