"""What a lean run keeps of each inspected conversation: its output lines and score counters.

A lean ``qc inspect`` (no store, no results kept) writes findings and summaries as they come
and scores at the end from counters. :func:`chunk_output` turns inspected conversations into
exactly that: the findings.jsonl and conversations.jsonl text, and a :class:`ScoreTally`
(per agent-day metrics, verdicts of flagged messages, held-back counts). With ``--jobs`` the
workers make it, so the main process only writes text and adds tallies; without, the main
process makes it itself from the same function, so the outputs cannot differ.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from qc.outputs.writers import conversation_summary, dumps, finding_records
from qc.run.inspector import ConversationResult
from qc.scoring.card import MessageVerdict, Scorecard, add_held_counts, message_verdicts
from qc.scoring.metrics import AgentDayMetricsBuilder, message_days

__all__ = ["ChunkOutput", "ChunkOutputTask", "ScoreTally", "chunk_output", "result_lines"]


class ScoreTally:
    """Score counters of some conversations; picklable, and added up with :meth:`merge`."""

    __slots__ = ("metrics", "verdicts", "held_by", "findings")

    def __init__(self, card: Scorecard) -> None:
        self.metrics = AgentDayMetricsBuilder(card.day)
        self.verdicts: list[MessageVerdict] = []
        # partial, not a lambda: the tally travels back from the workers.
        self.held_by: defaultdict[tuple[str, str], defaultdict[str, int]]
        self.held_by = defaultdict(partial(defaultdict, int))
        self.findings = 0

    def add(self, result: ConversationResult, card: Scorecard, order: Any = None) -> None:
        """Count one inspected conversation.

        ``order`` is its position in the input, for tallies counted out of input order and
        merged in any order (Spark partitions); see :meth:`AgentDayMetricsBuilder.add`.
        """
        conversation, findings = result.conversation, result.findings
        # The days of the messages, computed once for the metrics, verdicts and held counts.
        days: dict[str, Sequence[str]] = {conversation.id: message_days(conversation, card.day)}
        self.metrics.add(conversation, days[conversation.id], order)
        if findings:
            self.findings += len(findings)
            self.verdicts.extend(message_verdicts([conversation], findings, card, days))
            add_held_counts(self.held_by, [conversation], findings, card, days)

    def merge(self, other: ScoreTally) -> None:
        """Add the tally of the conversations that come after this one's.

        Tallies whose conversations were added with their ``order`` merge in any order and
        grouping to the same counters (the verdicts' order differs; scoring sorts them).
        """
        self.metrics.merge(other.metrics)
        self.verdicts.extend(other.verdicts)
        for key, counts in other.held_by.items():
            mine = self.held_by[key]
            for kind, n in counts.items():
                mine[kind] += n
        self.findings += other.findings


@dataclass(slots=True)
class ChunkOutput:
    """Inspected conversations as a lean run keeps them: output text and a tally."""

    findings: str  # findings.jsonl lines
    summaries: str  # conversations.jsonl lines
    tally: ScoreTally


@dataclass(frozen=True, slots=True)
class ChunkOutputTask:
    """The executor task of a lean run: a batch's results → its :class:`ChunkOutput` (picklable)."""

    card: Scorecard

    def __call__(self, results: list[ConversationResult]) -> ChunkOutput:
        """The batch's output lines and tally."""
        return chunk_output(results, self.card)


def result_lines(result: ConversationResult) -> tuple[list[str], str]:
    """One inspected conversation's findings.jsonl lines and its conversations.jsonl line, without newlines.

    The one place those lines are made, for every engine (local, ``--jobs``, Spark).
    """
    return [dumps(record) for record in finding_records(result.findings)], dumps(conversation_summary(result))


def chunk_output(results: Iterable[ConversationResult], card: Scorecard) -> ChunkOutput:
    """The lines and the tally of ``results``, in their order."""
    tally = ScoreTally(card)
    findings: list[str] = []
    summaries: list[str] = []
    for result in results:
        lines, summary = result_lines(result)
        findings.extend(line + "\n" for line in lines)
        summaries.append(summary + "\n")
        tally.add(result, card)
    return ChunkOutput("".join(findings), "".join(summaries), tally)
