"""What each Spark task of ``qc inspect --engine spark`` does (the driver side is :mod:`qc.batch.spark_day`).

Three stages, one pass over the input, one inspection:

1. **Read.** A task reads its lines where they are: a split of a UTF-8 JSON Lines file (its
   lines numbered from the block's place in the file, which the driver counted
   beforehand), or a whole UTF-8 CSV file from its first line. The readers' own code
   (:class:`~qc.readers.pieces.PieceRead`) makes the records, rejects and per-file counts.
   Files the driver had to read itself arrive as the same rows.
2. **Conversations.** Records are shuffled by conversation id and sorted by input
   position, so a task sees each conversation's records together and in read order;
   :func:`~qc.readers.assemble.assemble_group` drops exact duplicates and builds the
   conversation, and :func:`~qc.run.spark.inspect_items` inspects them in batches. Each
   conversation gets the scorecard's evidence findings (slow replies, unanswered buyers) and
   is counted into the partition's :class:`~qc.batch.chunks.ScoreTally`, both by
   :func:`~qc.batch.chunks.count_result` as every engine does, and becomes its output rows
   (summary, findings, the verdicts of its flagged messages, its evidence references).
3. **Order.** Rows are shuffled to *ranges of input position* (bounds the driver computed
   from the line counts, no sampling), so output partition ``i`` holds only positions
   before those of partition ``i + 1``; Spark sorts each partition and writes it
   partitioned by output and date. The tallies and counts go to one extra partition, where
   one task adds them up.

Every row carries its conversation's **input position**, the key the driver merges the part
files by: ``(file, group, line, duplicate, seq)`` of the conversation's first record
(``seq`` orders records of one line; ``group`` orders the sheets of a workbook read on the
driver; ``duplicate`` puts a line's exact-duplicate rejects after its other rejects, as the
readers order them), then the finding's position in the conversation.
"""

from __future__ import annotations

import json
import zlib
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain, groupby
from typing import Any

from qc.batch.chunks import ScoreTally, count_result, result_lines
from qc.outputs.writers import dumps
from qc.readers.assemble import assemble_group
from qc.readers.files import Resolved
from qc.readers.pieces import PieceCounts, PieceRead, line_text
from qc.readers.records import Candidate
from qc.run.spark import inspect_items
from qc.schema import Conversation, Reject
from qc.scoring.card import MessageVerdict, Scorecard
from qc.scoring.metrics import UNDATED, DayRule, message_days
from qc.scoring.scores import EvidenceRef

# The outputs written under the parts folder (``output=<name>/date=<day>/``).
CONVERSATIONS = "conversations"
FINDINGS = "findings"
REJECTS = "rejects"
VERDICTS = "verdicts"
EVIDENCE = "evidence"
TRANSCRIPTS = "transcripts"
# Columns of a written row, in order (the DataFrame schema of :mod:`qc.batch.spark_day`).
ROW_COLUMNS = ("output", "date", "f", "g", "l", "d", "s", "p", "conversation_id", "record", "warnings")
Position = tuple[int, int, int, int, int]


@dataclass(frozen=True, slots=True)
class FileTable:
    """What the tasks need to know about the input files (broadcast once).

    ``kinds[i]`` is ``"jsonl"`` or ``"csv"`` for a file Spark reads, ``None`` for one the
    driver read. ``bases`` maps ``(file, block start)`` to the number of lines before that
    block; ``offsets[i]`` is the global position of file ``i``'s first line; ``bounds`` cut
    the global positions into the output ranges.
    """

    labels: tuple[str, ...]
    kinds: tuple[str | None, ...]
    encodings: tuple[str | None, ...]
    delimiters: tuple[str, ...]
    bases: dict[tuple[int, int], int]
    offsets: tuple[int, ...]
    bounds: tuple[int, ...]
    resolved: Resolved

    @property
    def ranges(self) -> int:
        """Number of output ranges; the tallies go to the partition after the last."""
        return len(self.bounds) + 1

    def range_of(self, position: Position) -> int:
        """The output range (partition) of an input position."""
        file = position[0]
        line = position[2] if self.kinds[file] is not None else 0
        return bisect_right(self.bounds, self.offsets[file] + line)


@dataclass(slots=True)
class RunCounts:
    """Everything the driver needs besides the rows: per-file counts, duplicates, the score tally."""

    files: dict[int, PieceCounts] = field(default_factory=dict)
    repeats: Counter[int] = field(default_factory=Counter)  # exact duplicates per file
    conversations: int = 0
    evidence: int = 0  # evidence references written (slow replies, unanswered buyers)
    tally: ScoreTally | None = None

    def add_file(self, file: int, counts: PieceCounts) -> None:
        """Add a piece's counts."""
        mine = self.files.get(file)
        if mine is None:
            self.files[file] = counts
        else:
            mine.merge(counts)

    def merge(self, other: RunCounts) -> None:
        """Add another partition's counts (any order: every part is a sum)."""
        for file, counts in other.files.items():
            self.add_file(file, counts)
        self.repeats.update(other.repeats)
        self.conversations += other.conversations
        self.evidence += other.evidence
        if other.tally is not None:
            if self.tally is None:
                self.tally = other.tally
            else:
                self.tally.merge(other.tally)


def _value(shared: Any) -> Any:
    """A broadcast variable's value on an executor (or the value itself, when not broadcast)."""
    from pyspark import Broadcast

    return shared.value if isinstance(shared, Broadcast) else shared


# ------------------------------------------------------------------------------ stage 1: read


def _pack(candidate: Candidate) -> tuple[Any, ...]:
    # Positional, in Candidate's field order: a tuple pickles in a fraction of a dataclass's bytes.
    c = candidate
    return (
        c.conversation_id,
        c.role,
        c.text,
        c.sender,
        c.sent_at,
        c.auto_reply,
        c.agent_id,
        c.shop,
        c.file,
        c.line,
        c.raw,
        c.key,
    )


def record_rows(
    file: int, items: Iterable[Candidate | Reject], seq: Iterator[int]
) -> Iterator[tuple[tuple[Any, ...], tuple[Any, ...]]]:
    """Stage-1 rows of one file's records and rejects, read in order (``seq`` numbers them)."""
    for item in items:
        n = next(seq)
        if isinstance(item, Candidate):
            at = (file, 0, item.line, 0, n)
            yield (1, item.conversation_id, at), ("C", _pack(item), (file, 0, item.line, 1, n))
        else:
            at = (file, 0, item.line, 0, n)
            yield (0, "", at), ("R", at, dumps(item.to_json()))


def counts_row(part: int, file: int, counts: PieceCounts) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """The stage-1 row that carries a piece's counts to the driver."""
    return (0, "", (-1, part, file, 0, 0)), ("S", file, counts)


def read_jsonl_part(table: Any, part: int, rows: Iterable[Any]) -> Iterator[tuple[Any, Any]]:
    """Stage 1 on JSON Lines: rows ``(file, block start, line bytes)``, consecutive lines of each block."""
    t: FileTable = _value(table)
    readers: dict[int, PieceRead] = {}
    seq = iter(range(1, 1 << 62))
    for (file, block), lines in groupby(rows, key=lambda r: (r[0], r[1])):
        reader = readers.get(file)
        if reader is None:
            reader = readers[file] = PieceRead(
                t.labels[file], "jsonl", t.encodings[file] or "utf-8", t.resolved
            )
        bom = t.encodings[file] == "utf-8-sig" and block == 0
        texts = (line_text(r[2], bom and i == 0) for i, r in enumerate(lines))
        yield from record_rows(file, reader.jsonl(texts, t.bases[(file, block)] + 1), seq)
    for file, reader in readers.items():
        yield counts_row(part, file, reader.counts())


def read_csv_part(table: Any, file: int, part: int, rows: Iterable[Any]) -> Iterator[tuple[Any, Any]]:
    """Stage 1 on a CSV file: all its lines, in order, as ``(byte offset, text)`` (one task per file)."""
    t: FileTable = _value(table)
    reader = PieceRead(t.labels[file], "csv", t.encodings[file] or "utf-8", t.resolved)
    bom = t.encodings[file] == "utf-8-sig"

    def texts() -> Iterator[str]:
        for i, (_, text) in enumerate(rows):
            if i == 0 and bom and text.startswith("\ufeff"):
                text = text[1:]
            yield text[:-1] if text.endswith("\r") else text

    yield from record_rows(file, reader.csv(texts(), t.delimiters[file]), iter(range(1, 1 << 62)))
    yield counts_row(part, file, reader.counts())


def driver_rows(
    file: int, candidates: list[Candidate], rejects: list[Reject], counts: PieceCounts
) -> list[tuple[Any, Any]]:
    """Stage-1 rows of a file the driver read whole (formats and encodings Spark does not split).

    Records keep their read order as ``seq``; rejects are grouped by the label they carry
    (a workbook's sheets), in the order those first appear.
    """
    groups: dict[str, int] = {}
    for reject in rejects:
        groups.setdefault(reject.file, len(groups))
    rows: list[tuple[Any, Any]] = []
    for n, c in enumerate(candidates):
        at = (file, 0, n, 0, 0)
        rows.append(
            ((1, c.conversation_id, at), ("C", _pack(c), (file, groups.get(c.file, 0), c.line, 1, n)))
        )
    for n, r in enumerate(rejects):
        at = (file, groups[r.file], r.line, 0, n)
        rows.append(((0, "", at), ("R", at, dumps(r.to_json()))))
    rows.append(counts_row(-1, file, counts))
    return rows


def record_partition(partitions: int, key: tuple[Any, ...]) -> int:
    """Stage-1 shuffle: a conversation's records to one partition (a stable hash of its id)."""
    if key[0] == 1:
        return zlib.crc32(key[1].encode("utf-8", "surrogatepass")) % partitions
    at = key[2]
    return (at[2] * 31 + at[4] + at[1]) % partitions


# ----------------------------------------------------------------- stage 2: conversations, inspect


def conversation_day(conversation: Conversation, rule: DayRule) -> str:
    """The day a conversation's rows are filed under: the local date of its first timestamp."""
    return (
        message_days(conversation, DayRule(rule.timezone, "conversation_start"))[0]
        if conversation.messages
        else UNDATED
    )


def verdict_record(v: MessageVerdict) -> str:
    """A message verdict as one JSON line (:func:`verdict_from_record` reads it back)."""
    kinds = {kind: list(ids) for kind, ids in v.kinds.items()}
    fields = [v.conversation_id, v.message_index, v.agent, v.date, v.verdict, list(v.verdict_findings), kinds]
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":"))


def evidence_record(r: EvidenceRef) -> str:
    """An evidence reference as one JSON line (:func:`evidence_from_record` reads it back)."""
    fields = [r.agent, r.date, r.kind, r.finding_id, r.conversation_id, r.message_index, r.weight]
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":"))


def evidence_from_record(record: str) -> EvidenceRef:
    """The evidence reference :func:`evidence_record` wrote."""
    agent, date, kind, finding_id, cid, index, weight = json.loads(record)
    return EvidenceRef(agent, date, kind, finding_id, cid, index, weight)


def verdict_from_record(record: str) -> MessageVerdict:
    """The verdict :func:`verdict_record` wrote."""
    from types import MappingProxyType

    cid, index, agent, day, verdict, found, kinds = json.loads(record)
    return MessageVerdict(
        cid,
        index,
        agent,
        day,
        verdict,
        tuple(found),
        MappingProxyType({k: tuple(v) for k, v in kinds.items()}),
    )


@dataclass(frozen=True, slots=True)
class InspectTask:
    """Stage 2 for one run: everything a task needs, shipped once (broadcast variables)."""

    settings: Any  # Broadcast[RuleSettings] or RuleSettings
    card: Any  # Broadcast[Scorecard] or Scorecard
    table: Any  # Broadcast[FileTable] or FileTable
    transcripts: bool = False  # also write each conversation whole (for a store)
    batch_size: int = 256

    def __call__(self, part: int, rows: Iterable[tuple[Any, Any]]) -> Iterator[tuple[int, Any]]:
        """``(output range, row)`` for every output row of the partition, then its counts."""
        t: FileTable = _value(self.table)
        card: Scorecard = _value(self.card)
        last = t.ranges
        counts = RunCounts(tally=ScoreTally(card))
        rows = iter(rows)
        first = None
        for key, value in rows:
            if key[0] == 1:
                first = (key, value)
                break
            if value[0] == "R":  # a reject read in stage 1
                yield t.range_of(value[1]), (REJECTS, UNDATED, *value[1], 0, None, value[2], None)
            else:
                counts.add_file(value[1], value[2])
        pending: list[tuple[int, Any]] = []
        candidates = chain([first], rows) if first is not None else iter(())
        conversations = self._conversations(candidates, t, counts, pending)
        tally = counts.tally
        assert tally is not None
        for result, (at, warnings) in inspect_items(self.settings, conversations, self.batch_size):
            yield from pending
            pending.clear()
            conversation = result.conversation
            cid = conversation.id
            where = t.range_of(at)
            day = conversation_day(conversation, card.day)
            # Evidence findings added and the conversation counted, as every engine does.
            result = count_result(tally, result, card, order=at)
            lines, summary = result_lines(result, card)
            yield where, (CONVERSATIONS, day, *at, 0, cid, summary.decode("utf-8"), warnings or None)
            for position, line in enumerate(lines):
                yield where, (FINDINGS, day, *at, position, cid, line.decode("utf-8"), None)
            if self.transcripts:
                yield where, (TRANSCRIPTS, day, *at, 0, cid, dumps(conversation.to_json()), None)
            # Verdicts and evidence references go to files, not to the driver's memory.
            for v in tally.verdicts:
                yield where, (VERDICTS, v.date, *at, v.message_index, cid, verdict_record(v), None)
            for position, ref in enumerate(tally.evidence):
                yield where, (EVIDENCE, ref.date, *at, position, cid, evidence_record(ref), None)
            counts.evidence += len(tally.evidence)
            tally.verdicts.clear()
            tally.evidence.clear()
            counts.conversations += 1
        yield from pending
        yield last, counts

    @staticmethod
    def _conversations(
        candidates: Iterator[tuple[Any, Any]], t: FileTable, counts: RunCounts, pending: list[tuple[int, Any]]
    ) -> Iterator[tuple[Conversation, tuple[Position, list[str]]]]:
        """Each conversation (records sorted by input position) with its position and warnings.

        Exact duplicates become rejects in ``pending`` and are counted per file.
        """
        for cid, group in groupby(candidates, key=lambda kv: kv[0][1]):
            members = [(Candidate(*value[1]), value[2], key[2]) for key, value in group]
            at_of = {id(c): reject_at for c, reject_at, _ in members}
            warnings: list[str] = []
            conversation, repeats = assemble_group(cid, (c for c, _, _ in members), warnings)
            for candidate, reject in repeats:
                reject_at = at_of[id(candidate)]
                counts.repeats[reject_at[0]] += 1
                pending.append(
                    (
                        t.range_of(reject_at),
                        (REJECTS, UNDATED, *reject_at, 0, None, dumps(reject.to_json()), None),
                    )
                )
            if conversation is not None:
                yield conversation, (members[0][2], warnings)


def fold_counts(rows: Iterable[tuple[int, Any]]) -> list[RunCounts]:
    """The one task of the last partition: every partition's counts and tally added up."""
    total = RunCounts()
    for _, counts in rows:
        total.merge(counts)
    return [total]


__all__ = [
    "CONVERSATIONS",
    "EVIDENCE",
    "FINDINGS",
    "REJECTS",
    "ROW_COLUMNS",
    "TRANSCRIPTS",
    "VERDICTS",
    "FileTable",
    "InspectTask",
    "RunCounts",
    "conversation_day",
    "driver_rows",
    "evidence_from_record",
    "evidence_record",
    "fold_counts",
    "read_csv_part",
    "read_jsonl_part",
    "record_partition",
    "verdict_from_record",
    "verdict_record",
]
