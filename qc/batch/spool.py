"""Message verdicts and evidence of a long run, kept in a temporary SQLite file instead of memory.

A lean ``qc inspect`` decides each flagged agent message's verdict, and finds the slow replies
behind the response-time item, as its conversation comes back, but can only score once the
run ends. Kept as objects, those were the part of the main process that grew with the input
(about 550 bytes a verdict). The spool writes them to a temporary file as they come and gives
them back sorted as :func:`qc.scoring.card.message_verdicts` sorts, one at a time, as often as
the scorer asks.
"""

from __future__ import annotations

import marshal
import pickle
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator
from datetime import datetime
from operator import itemgetter
from pathlib import Path
from types import MappingProxyType

from qc.batch.chunks import PackedRecords
from qc.batch.verdict_rows import SpoolRows, key_text
from qc.scoring.card import MessageVerdict
from qc.scoring.scores import ConversationRecord, EvidenceRef

__all__ = ["RecordSpool", "VerdictSpool"]

# Rows fetched per step while reading back: enough to keep SQLite's per-row cost low.
_FETCH = 2048


class VerdictSpool:
    """An append-only, re-iterable collection of :class:`MessageVerdict` (and evidence) on disk.

    Iterating yields every verdict added so far in ``(date, agent, conversation_id,
    message_index)`` order; :meth:`evidence` yields the evidence refs in the same order.
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
        self._db.execute("CREATE TABLE e (date BLOB, agent BLOB, conversation BLOB, refs BLOB)")
        self._count = 0

    def extend(self, verdicts: Iterable[MessageVerdict]) -> None:
        """Add verdicts (any order: reading back sorts them)."""
        self.add(SpoolRows.of(verdicts, ()))

    def extend_evidence(self, refs: Iterable[EvidenceRef]) -> None:
        """Add evidence refs (any order)."""
        self.add(SpoolRows.of((), refs))

    def add(self, rows: SpoolRows) -> None:
        """Add rows made by :meth:`SpoolRows.of` (in a worker, so this process only inserts them)."""
        if rows.verdicts:
            self._db.executemany("INSERT INTO v VALUES (?, ?, ?, ?, ?)", rows.verdicts)
            self._count += len(rows.verdicts)
        if rows.evidence:
            self._db.executemany("INSERT INTO e VALUES (?, ?, ?, ?)", rows.evidence)

    def evidence(self) -> Iterator[EvidenceRef]:
        """Every evidence ref added so far, sorted as the verdicts are."""
        cursor = self._db.execute(
            "SELECT date, agent, conversation, refs FROM e ORDER BY date, agent, conversation"
        )
        texts: dict[bytes, str] = {}  # dates and agents: a handful, decoded once
        key: tuple[bytes, bytes, bytes] | None = None
        items: list[tuple[int, str, str, float]] = []
        while batch := cursor.fetchmany(_FETCH):
            for day, agent, conversation, refs in batch:
                if (day, agent, conversation) != key:
                    yield from _refs(key, items, texts)
                    key, items = (day, agent, conversation), []
                # One row per conversation from a chunk; refs added in pieces (Spark's part
                # files) may give a conversation several rows: their refs are sorted together.
                items.extend(marshal.loads(refs))
        yield from _refs(key, items, texts)

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


def _refs(
    key: tuple[bytes, bytes, bytes] | None, items: list[tuple[int, str, str, float]], texts: dict[bytes, str]
) -> Iterator[EvidenceRef]:
    """The refs of one (day, agent, conversation) in message order (a stable sort: ties stay as added)."""
    if key is None:
        return
    day, agent, conversation = key
    if (d := texts.get(day)) is None:
        d = texts[day] = key_text(day)
    if (a := texts.get(agent)) is None:
        a = texts[agent] = key_text(agent)
    cid = key_text(conversation)
    items.sort(key=itemgetter(0))
    # tuple.__new__ straight from C: the named tuple's own __new__ and _make are Python functions.
    new = tuple.__new__
    for index, kind, finding, weight in items:
        yield new(EvidenceRef, (a, d, kind, finding, cid, index, weight))


class RecordSpool:
    """Conversation records of a run saved to a store, kept in an unnamed temporary file until the save.

    ``qc inspect --db`` saves a run in one transaction once it is inspected, so the store's
    write lock is held for the save only, not the whole inspection; until then the records
    wait here instead of in memory. Iterating reads them back in the order they were added,
    one at a time (:meth:`qc.store.database.Store.save_run_streamed` saves them a chunk at a
    time). The file has no name, so nothing stays behind whatever ends the process.
    """

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile(prefix="qc-records-")
        self.count = 0
        self.days: set[str] = set()
        # (shop, conversation id) → (messages, first, last sent time) of each timed conversation,
        # so a continued conversation is found without reading the records back.
        self.spans: dict[tuple[str, str], tuple[int, datetime, datetime]] = {}

    def add(self, record: ConversationRecord) -> None:
        """Append one record and note the days it counts on."""
        packed = PackedRecords()
        packed.add(record)
        self.add_packed(packed)

    def add_packed(self, packed: PackedRecords) -> None:
        """Append records a ``--jobs`` worker packed, with their days and spans."""
        self._file.write(b"".join(packed.data))
        self.count += len(packed.data)
        self.days |= packed.days
        self.spans.update(packed.spans)

    def clear(self) -> None:
        """Forget every record (the input is read again from the start)."""
        self._file.seek(0)
        self._file.truncate()
        self.count = 0
        self.days.clear()
        self.spans.clear()

    def __iter__(self) -> Iterator[ConversationRecord]:
        self._file.flush()
        self._file.seek(0)
        for _ in range(self.count):
            yield pickle.load(self._file)
        self._file.seek(0, 2)

    def close(self) -> None:
        """Release the file (its space returns to the disk)."""
        self._file.close()

    def __enter__(self) -> RecordSpool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
