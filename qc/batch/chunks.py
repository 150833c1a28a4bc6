"""What a lean run keeps of each inspected conversation: its output lines and score counters.

A lean ``qc inspect`` (no store, no results kept) writes findings and summaries as they come
and scores at the end from counters. :func:`chunk_output` turns inspected conversations into
exactly that: the findings.jsonl and conversations.jsonl text, and a :class:`ScoreTally`
(per agent-day metric counters, verdicts of flagged messages, held-back counts, evidence). With
``--jobs`` the workers make it, so the main process only writes text and adds tallies; without,
the main process makes it itself from the same function, so the outputs cannot differ.

Every engine adds the metric items' evidence findings (slow replies, unanswered buyers,
:mod:`qc.scoring.evidence`) here, with :func:`with_evidence`, before anything is written,
counted or stored.
"""

from __future__ import annotations

import pickle
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from qc.batch.verdict_rows import SpoolRows
from qc.compiled import mypyc_attr
from qc.outputs.writers import conversation_summary, dumpb, finding_records
from qc.run.inspector import ConversationResult
from qc.schema import Finding
from qc.scoring.card import MessageVerdict, Scorecard, attribute
from qc.scoring.evidence import timing_findings
from qc.scoring.metrics import (
    AgentDayMetricsBuilder,
    Turn,
    conversation_parts,
    conversation_turns,
    message_days,
    time_span,
)
from qc.scoring.scores import ConversationRecord, EvidenceRef, conversation_record, finding_inputs

__all__ = [
    "ChunkOutput",
    "ChunkOutputTask",
    "ChunkRecords",
    "ChunkRecordsTask",
    "PackedRecords",
    "ScoreTally",
    "chunk_output",
    "count_result",
    "result_lines",
    "with_evidence",
]


def _by_position(finding: Finding) -> tuple[int, int, str]:
    # The order the inspector gives a conversation's findings (qc.run.inspector).
    return (finding.message_index, finding.start if finding.start is not None else -1, finding.kind)


def with_evidence(
    result: ConversationResult,
    card: Scorecard,
    days: Sequence[str] | None = None,
    turns: Sequence[Turn] | None = None,
) -> ConversationResult:
    """The result with the card's evidence findings added, all in message order.

    A result that already holds evidence findings of the card's kinds (made by another
    engine before) is returned as it is. ``days`` and ``turns`` are reused when given.
    """
    conversation = result.conversation
    kinds = card.evidence_kinds
    if not kinds or any(f.kind in kinds for f in result.findings):
        return result
    evidence = timing_findings(conversation, card, days, turns)
    if not evidence:
        return result
    findings = tuple(sorted((*result.findings, *evidence), key=_by_position))
    return ConversationResult(conversation, result.features, findings)


# mypyc: a native class cannot be unpickled when its __init__ takes arguments; this one travels.
@mypyc_attr(native_class=False)
class ScoreTally:
    """Score counters of some conversations; picklable, and added up with :meth:`merge`."""

    __slots__ = ("metrics", "verdicts", "held_by", "evidence", "findings")

    def __init__(self, card: Scorecard) -> None:
        self.metrics = AgentDayMetricsBuilder(card.day)
        self.verdicts: list[MessageVerdict] = []
        # partial, not a lambda: the tally travels back from the workers.
        self.held_by: defaultdict[tuple[str, str], defaultdict[str, int]]
        self.held_by = defaultdict(partial(defaultdict, int))
        self.evidence: list[EvidenceRef] = []
        self.findings = 0

    def add(
        self,
        result: ConversationResult,
        card: Scorecard,
        order: Any = None,
        days: Sequence[str] | None = None,
        turns: Sequence[Turn] | None = None,
    ) -> None:
        """Count one inspected conversation (its evidence findings already added).

        ``order`` is its position in the input, for tallies counted out of input order and
        merged in any order (Spark partitions); see :meth:`AgentDayMetricsBuilder.add`.
        ``days`` and ``turns`` are the conversation's message days and turns, when the caller
        has them already.
        """
        conversation, findings = result.conversation, result.findings
        # The days of the messages, computed once for the metrics, verdicts and held counts.
        if days is None:
            days = message_days(conversation, card.day)
        self.metrics.add_parts(conversation_parts(conversation, card.day, days, turns), order)
        if findings:
            self.findings += len(findings)
            inputs = finding_inputs(attribute(conversation, findings, card, days), card)
            self.verdicts.extend(inputs.verdicts)
            self.evidence.extend(inputs.evidence)
            for key, counts in inputs.held.items():
                mine = self.held_by[key]
                for kind, n in counts.items():
                    mine[kind] += n

    def merge(self, other: ScoreTally) -> None:
        """Add the tally of the conversations that come after this one's.

        Tallies whose conversations were added with their ``order`` merge in any order and
        grouping to the same counters (the verdicts' order differs; scoring sorts them).
        """
        self.metrics.merge(other.metrics)
        self.verdicts.extend(other.verdicts)
        self.evidence.extend(other.evidence)
        for key, counts in other.held_by.items():
            mine = self.held_by[key]
            for kind, n in counts.items():
                mine[kind] += n
        self.findings += other.findings


@dataclass(slots=True)
class ChunkOutput:
    """Inspected conversations as a lean run keeps them: output text and a tally."""

    findings: bytes  # findings.jsonl lines, UTF-8
    summaries: bytes  # conversations.jsonl lines, UTF-8
    tally: ScoreTally  # without its verdicts and evidence, which travel as ``rows``
    rows: SpoolRows


@dataclass(frozen=True, slots=True)
class ChunkOutputTask:
    """The executor task of a lean run: a batch's results → its :class:`ChunkOutput` (picklable)."""

    card: Scorecard

    def __reduce__(self) -> tuple[Any, ...]:
        # mypyc: a compiled frozen dataclass cannot be unpickled field by field
        return (type(self), (self.card,))

    def __call__(self, results: list[ConversationResult]) -> ChunkOutput:
        """The batch's output lines and tally."""
        return chunk_output(results, self.card)


def result_lines(result: ConversationResult, card: Scorecard) -> tuple[list[bytes], bytes]:
    """One inspected conversation's findings.jsonl lines and conversations.jsonl line, UTF-8, no newlines.

    The one place those lines are made, for every engine (local, ``--jobs``, Spark). Bytes,
    because they go to files as they are (:func:`~qc.outputs.writers.dumpb`).
    """
    return [dumpb(record) for record in finding_records(result.findings)], dumpb(
        conversation_summary(result, card)
    )


def count_result(
    tally: ScoreTally, result: ConversationResult, card: Scorecard, order: Any = None
) -> ConversationResult:
    """Add the card's evidence findings to one inspected conversation and count it into ``tally``.

    Returns the result as every engine writes and stores it (evidence findings included).
    ``order`` is the conversation's input position when tallies are merged out of order
    (Spark); see :meth:`ScoreTally.add`.
    """
    # Days and turns once per conversation, for the evidence and the metric counters.
    days = message_days(result.conversation, card.day)
    turns = conversation_turns(result.conversation, card.day, days)
    result = with_evidence(result, card, days, turns)
    tally.add(result, card, order, days, turns)
    return result


def chunk_output(results: Iterable[ConversationResult], card: Scorecard) -> ChunkOutput:
    """The lines, the tally and the spool rows of ``results`` (evidence findings added), in their order.

    The tally's verdicts and evidence refs leave it as :class:`~qc.batch.verdict_rows.SpoolRows`:
    that is how the lean run keeps them, and rows cost less to send back than the objects.
    """
    tally = ScoreTally(card)
    findings = bytearray()
    summaries = bytearray()
    for result in results:
        result = count_result(tally, result, card)
        lines, summary = result_lines(result, card)
        _add_lines(findings, lines)
        _add_lines(summaries, (summary,))
    rows = SpoolRows.of(tally.verdicts, tally.evidence)
    tally.verdicts, tally.evidence = [], []
    return ChunkOutput(bytes(findings), bytes(summaries), tally, rows)


def _add_lines(out: bytearray, lines: Iterable[bytes]) -> None:
    """Append each line and a newline to ``out``.

    One growing buffer, not a list of lines joined at the end: thousands of lines of 1–2 KB
    alive together left holes in the C heap that a worker kept (about 12 MB more at its peak
    on a real-text day).
    """
    for line in lines:
        out += line
        out += b"\n"


@dataclass(slots=True)
class PackedRecords:
    """Conversation records pickled back to back, as :class:`~qc.batch.spool.RecordSpool` keeps them.

    With the days they count on and the ``(messages, first, last)`` sent time of each timed
    conversation by ``(shop, id)``, which the spool keeps to find conversations continued
    from the store without reading the records back.
    """

    data: list[bytes] = field(default_factory=list)
    days: set[str] = field(default_factory=set)
    spans: dict[tuple[str, str], tuple[int, datetime, datetime]] = field(default_factory=dict)

    def add(self, record: ConversationRecord) -> None:
        """Pack one record and note its days and span."""
        self.data.append(pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL))
        self.days |= record.counted_days
        span = time_span(record.conversation)
        if span is not None:
            self.spans[(record.conversation.shop or "", record.conversation.id)] = span


@dataclass(slots=True)
class ChunkRecords:
    """Inspected conversations as a run saved to a store keeps them: output text and packed records."""

    findings: bytes  # UTF-8, as ChunkOutput's
    summaries: bytes
    records: PackedRecords
    finding_count: int
    evidence_count: int


@dataclass(frozen=True, slots=True)
class ChunkRecordsTask:
    """The executor task of ``qc inspect --db``: a batch's results → :class:`ChunkRecords` (picklable).

    With ``--jobs`` the workers make the records, so the main process only writes text and
    appends bytes to the spool, as a lean run only writes text and adds tallies.
    """

    card: Scorecard

    def __reduce__(self) -> tuple[Any, ...]:
        # mypyc: a compiled frozen dataclass cannot be unpickled field by field
        return (type(self), (self.card,))

    def __call__(self, results: list[ConversationResult]) -> ChunkRecords:
        """The batch's output lines and its conversation records, packed."""
        card = self.card
        findings = bytearray()
        summaries = bytearray()
        packed = PackedRecords()
        found = evidence = 0
        for result in results:
            result = with_evidence(result, card)
            lines, summary = result_lines(result, card)
            _add_lines(findings, lines)
            _add_lines(summaries, (summary,))
            packed.add(conversation_record(result.conversation, result.findings, card))
            found += len(result.findings)
            evidence += sum(1 for f in result.findings if f.kind in card.evidence_kinds)
        return ChunkRecords(bytes(findings), bytes(summaries), packed, found, evidence)
