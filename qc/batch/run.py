"""``qc inspect`` as an importable function: read → inspect → write.

The CLI wraps :func:`run_inspection`; tests and other programs call it directly.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qc import __version__
from qc.batch.chunks import ChunkOutput, ChunkOutputTask, ScoreTally
from qc.batch.spool import VerdictSpool
from qc.outputs.writers import (
    CONVERSATIONS_FILE,
    FINDINGS_FILE,
    REJECTS_FILE,
    RUN_FILE,
    conversation_summary,
    finding_records,
    reject_records,
    write_json,
    write_jsonl,
    write_score_outputs,
)
from qc.readers import read_inputs
from qc.readers.line_chunks import LineSplit
from qc.readers.options import ReadOptions, ReadResult
from qc.readers.stream import NotContiguousError, StreamRead, stream_inputs
from qc.run.executors import Executor, findings_of
from qc.run.inspector import ConversationResult, InspectorInfo
from qc.schema import Conversation, Deduction, Finding
from qc.scoring.card import (
    DECISIONS,
    REJECTED,
    Scorecard,
    agent_columns,
    agent_rows,
    agent_rows_from,
    load_scorecard,
    mark_rejected,
    score,
    score_verdicts,
)
from qc.scoring.metrics import agent_day_metrics
from qc.store.database import Store, open_store

# (items, total) -> items; total is None when the input is streamed and its size unknown.
Progress = Callable[[Iterable[Any], int | None], Iterable[Any]]


def _no_progress(items: Iterable[Any], total: int | None) -> Iterable[Any]:
    return items


@dataclass(slots=True)
class InspectionReport:
    """What one ``qc inspect`` run did, for the summary line, the store and tests.

    ``results`` holds every conversation with its findings; a lean run
    (``keep_results=False``, no store) keeps none (its outputs are written as it goes).
    ``conversations`` and ``finding_count`` count them either way.
    """

    read: ReadResult
    results: list[ConversationResult] = field(default_factory=list)
    conversations: int = 0
    finding_count: int = 0
    seconds: float = 0.0
    run: dict[str, Any] = field(default_factory=dict)
    deductions: list[Deduction] = field(default_factory=list)
    agents: list[dict[str, Any]] = field(default_factory=list)
    scorecard: Scorecard | None = None

    @property
    def findings(self) -> list[Finding]:
        """Every finding of the run, in conversation then message order."""
        return [f for r in self.results for f in r.findings]

    @property
    def exit_code(self) -> int:
        """1 when any input file could not be read, else 0."""
        return 1 if self.read.failed_files else 0


def run_inspection(
    inputs: list[Path],
    out_dir: Path,
    executor: Executor,
    options: ReadOptions | None = None,
    progress: Progress = _no_progress,
    run_info: dict[str, Any] | None = None,
    scorecard: Scorecard | None = None,
    store: str | None = None,
    keep_results: bool = True,
) -> InspectionReport:
    """Read every input, inspect every conversation on ``executor``, write the results into ``out_dir``.

    ``scorecard`` scores the agents (the packaged default when ``None``); ``store`` is a
    SQLite path or SQLAlchemy URL the run is also saved to (replacing the same days).

    Conversations reach the executor while the input is still being read
    (:func:`qc.readers.stream.stream_inputs`); input whose conversations are not contiguous
    is read whole instead. Both give the same outputs. With ``keep_results=False`` and no
    store, the run keeps no results, only what scoring needs (per agent and day counters,
    one verdict per agent message with findings), so memory grows little with the input;
    an executor whose workers read JSON Lines themselves then gets the file in chunks.
    """
    started = time.perf_counter()
    options = options or ReadOptions()
    card = scorecard or load_scorecard()
    lean = not keep_results and store is None
    streamed = StreamRead()
    report: InspectionReport | None = InspectionReport(read=streamed.result)
    split = LineSplit.of(inputs, options) if lean and executor.reads_lines else None
    scoring: LeanScoring | None
    conversations: Iterable[Conversation]
    try:
        if split is not None:  # JSON Lines: the workers read the lines themselves
            outputs = executor.map_lines(split, ChunkOutputTask(card))
            ticks = progress(_per_conversation(outputs), None)
            scoring = _write_lean((o for o in ticks if o is not None), out_dir, card)
            split.finish(streamed.result)
            streamed.conversations = split.conversations
        else:
            conversations = stream_inputs(inputs, options, streamed)
            assert report is not None
            scoring = _inspect_and_write(report, progress(conversations, None), out_dir, executor, lean, card)
    except NotContiguousError:
        report = None  # read whole below; the files written so far are replaced
    else:
        assert report is not None
        report.conversations = streamed.conversations
    if report is None:
        read = read_inputs(inputs, options)
        report = InspectionReport(read=read, conversations=len(read.conversations))
        conversations = progress(read.conversations, len(read.conversations))
        scoring = _inspect_and_write(report, conversations, out_dir, executor, lean, card)
    read = report.read
    with (out_dir / REJECTS_FILE).open("w", encoding="utf-8") as fh:
        write_jsonl(fh, reject_records(read.rejects))
    if scoring is not None:
        scoring.write(report, out_dir)
        report.finding_count = scoring.findings
    else:
        # Review decisions already in the store keep applying when a day is inspected again.
        score_report(report, out_dir, card, rejected=stored_rejections(store))
        report.finding_count = len(report.findings)
    report.seconds = time.perf_counter() - started
    report.run = run_record(report, executor.describe(), run_info)
    write_json(out_dir / RUN_FILE, report.run)
    if store is not None:
        save_report(store, report)
    return report


def _inspect_and_write(
    report: InspectionReport,
    conversations: Iterable[Conversation],
    out_dir: Path,
    executor: Executor,
    lean: bool,
    card: Scorecard,
) -> LeanScoring | None:
    """Inspect ``conversations``, writing findings and summaries as results arrive.

    Fills ``report.results`` with every conversation, or with ``lean`` keeps no results
    and returns the scoring accumulated batch by batch (each batch's output lines and
    tally made where it was inspected).
    """
    report.results = []
    if lean:
        outputs = (output for _, output in executor.map(conversations, ChunkOutputTask(card)))
        return _write_lean(outputs, out_dir, card)
    out_dir.mkdir(parents=True, exist_ok=True)
    with (
        (out_dir / FINDINGS_FILE).open("w", encoding="utf-8") as findings_fh,
        (out_dir / CONVERSATIONS_FILE).open("w", encoding="utf-8") as conversations_fh,
    ):
        for batch, found in executor.map(conversations, findings_of):
            for conversation, findings in zip(batch, found, strict=True):
                # Kept without the annotator's features (tokens), which no output uses.
                result = ConversationResult(conversation, (), findings)
                write_jsonl(findings_fh, finding_records(findings))
                write_jsonl(conversations_fh, (conversation_summary(result),))
                report.results.append(result)
    return None


def _per_conversation(outputs: Iterable[ChunkOutput]) -> Iterator[ChunkOutput | None]:
    """Each chunk's output, after one ``None`` per other conversation in it.

    A progress bar then counts conversations, as it does when the main process reads them
    itself (a chunk has one summary line per conversation). A chunk whose lines were all
    rejected has no conversation, so nothing to write or add: it yields nothing.
    """
    for output in outputs:
        count = output.summaries.count("\n")
        if count == 0:
            continue
        for _ in range(count - 1):
            yield None
        yield output


def _write_lean(outputs: Iterable[ChunkOutput], out_dir: Path, card: Scorecard) -> LeanScoring:
    """Write the lines of each chunk's output as it arrives and add up the tallies for scoring."""
    out_dir.mkdir(parents=True, exist_ok=True)
    scoring = LeanScoring(card)
    with (
        (out_dir / FINDINGS_FILE).open("w", encoding="utf-8") as findings_fh,
        (out_dir / CONVERSATIONS_FILE).open("w", encoding="utf-8") as conversations_fh,
    ):
        for output in outputs:
            findings_fh.write(output.findings)
            conversations_fh.write(output.summaries)
            scoring.merge(output.tally)
    return scoring


class LeanScoring:
    """What :func:`score_report` needs, added up one chunk of conversations at a time.

    Keeps the agents' day counters in memory and one verdict per agent message with findings
    (finding ids, kinds, agent, day) in a temporary file (:class:`~qc.batch.spool.VerdictSpool`),
    not the conversations and findings themselves.
    """

    def __init__(self, card: Scorecard) -> None:
        self.card = card
        self.tally = ScoreTally(card)
        self.verdicts = VerdictSpool()

    @property
    def findings(self) -> int:
        """Findings counted so far."""
        return self.tally.findings

    def merge(self, tally: ScoreTally) -> None:
        """Add a chunk's tally; its verdicts go to the spool, not to memory."""
        self.verdicts.extend(tally.verdicts)
        tally.verdicts = []
        self.tally.merge(tally)

    def write(self, report: InspectionReport, out_dir: Path) -> None:
        """Score as :func:`score_report` does (no review decisions) and write the agents files."""
        card = self.card
        metrics = self.tally.metrics.rows()
        report.scorecard = card
        with self.verdicts:
            report.deductions = score_verdicts(self.verdicts, metrics, card)
            held = self.tally.held_by
            report.agents = agent_rows_from(self.verdicts, held, metrics, report.deductions, card)
        write_score_outputs(out_dir, report.deductions, report.agents, agent_columns(card))


def run_record(
    report: InspectionReport, info: InspectorInfo, run_info: dict[str, Any] | None
) -> dict[str, Any]:
    """What run.json holds about a finished run: counts, files, warnings, versions, scorecard, extras.

    One function for every engine, so their run.json files differ only in ``run_info``.
    """
    read = report.read
    return {
        "qc_version": __version__,
        "rules": list(info.rules),
        "counts": {"read": read.read, "accepted": read.accepted, "rejected": read.rejected},
        "conversations": report.conversations,
        "findings": report.finding_count,
        "files": [
            {
                "path": f.path,
                "format": f.format,
                "encoding": f.encoding,
                "read": f.read,
                "accepted": f.accepted,
                "rejected": f.rejected,
                "error": f.error,
            }
            for f in read.files
        ],
        "warnings": read.warnings,
        "seconds": round(report.seconds, 3),
        **info.versions(),
        **scorecard_info(report.scorecard),
        **(run_info or {}),
    }


def scorecard_info(card: Scorecard | None) -> dict[str, Any]:
    """What run.json records about the scorecard that scored the run (its hash above all)."""
    if card is None:
        return {}
    return {
        "scorecard": {"name": card.name, "version": card.version, "hash": card.hash, "source": card.source}
    }


def stored_rejections(store: str | None) -> frozenset[str]:
    """Ids of findings rejected in review in ``store`` (none without a store); they score as suppressed."""
    if store is None:
        return frozenset()
    with open_store(store) as db:
        return frozenset(
            fid for fid, state in db.latest_states(tuple(DECISIONS)).items() if state == REJECTED
        )


def save_report(target: str | Path | Store, report: InspectionReport) -> int:
    """Save a finished run (its conversations, findings, deductions and agent rows) to a store."""
    card = report.scorecard
    fields: dict[str, Any] = dict(
        run=report.run,
        conversations=[r.conversation for r in report.results],
        findings=report.findings,
        deductions=report.deductions,
        agents=report.agents,
        day=card.day if card is not None else None,
    )
    if isinstance(target, Store):
        return target.save_run(**fields)
    with open_store(target) as db:
        return db.save_run(**fields)


def score_report(
    report: InspectionReport,
    out_dir: Path,
    scorecard: Scorecard | None = None,
    rejected: frozenset[str] = frozenset(),
) -> None:
    """Compute metrics and deductions of an inspected batch and write the agents files.

    Writes agents.csv, agents.xlsx, agents.json and deductions.jsonl into ``out_dir`` and
    keeps the deductions and rows on the report. Any engine that fills ``report.results``
    calls this to score the batch the same way. Findings whose id is in ``rejected`` (review
    decisions, :mod:`qc.supervise.review`) are scored as suppressed: they no longer cost points.
    """
    card = scorecard or load_scorecard()
    conversations = [r.conversation for r in report.results]
    findings = report.findings
    if rejected:
        findings = mark_rejected(findings, rejected)
    metrics = agent_day_metrics(conversations, card.day)
    report.scorecard = card
    report.deductions = score(conversations, findings, metrics, card)
    report.agents = agent_rows(conversations, findings, metrics, report.deductions, card)
    write_score_outputs(out_dir, report.deductions, report.agents, agent_columns(card))
