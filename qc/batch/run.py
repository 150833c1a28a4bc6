"""``qc inspect`` as an importable function: read → inspect → write → score.

The CLI wraps :func:`run_inspection`; tests and other programs call it directly. The local
engine (one process or ``--jobs``) runs through it; the Spark engine
(:mod:`qc.batch.spark_day`) reads and inspects on Spark and finishes with the same pieces from
here (:class:`LeanScoring`, :func:`run_record`, :func:`score_from_store`). Every way a run
scores ends in the one scoring function :func:`qc.scoring.scores.score_agents`: from the run's
own tally (:class:`LeanScoring`, :func:`score_report`) or, with a store, from what the store
holds after the run upserted its conversations (:func:`qc.batch.stored.score_stored`).
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import orjson

from qc import __version__
from qc.batch.chunks import (
    ChunkOutput,
    ChunkOutputTask,
    ChunkRecords,
    ChunkRecordsTask,
    ScoreTally,
    with_evidence,
)
from qc.batch.splits import Continuations, find_continuations
from qc.batch.spool import RecordSpool, VerdictSpool
from qc.compiled import compiled_modules
from qc.errors import ConfigError
from qc.outputs.staging import OutputStage
from qc.outputs.writers import (
    CONVERSATIONS_FILE,
    FINDINGS_FILE,
    REJECTS_FILE,
    conversation_summary,
    dumps,
    export_leftovers,
    finding_records,
    reject_records,
    write_jsonl,
    write_score_outputs,
)
from qc.readers import read_inputs
from qc.readers.line_chunks import LineSplit
from qc.readers.options import EMPTY_FILE, SUBFOLDER, FileReport, ReadOptions, ReadResult, refused_inputs
from qc.readers.stream import ReadWholeError, StreamRead, stream_inputs
from qc.run.executors import Executor, findings_of
from qc.run.inspector import ConversationResult, InspectorInfo, chunked
from qc.schema import NAMELESS_AGENT, Conversation, Deduction, Finding
from qc.scoring.card import MessageVerdict, Scorecard, load_scorecard, mark_rejected
from qc.scoring.metrics import UNDATED, time_span
from qc.scoring.periods import Windows, period_of
from qc.scoring.scores import (
    ConversationRecord,
    EvidenceRef,
    ScoreInputs,
    Scores,
    agent_columns,
    conversation_record,
    score_agents,
)
from qc.text.pii import shown_id

if TYPE_CHECKING:  # the store (SQLAlchemy) is imported by the runs that have one
    from qc.store.database import Store

# (items, total) -> items; total is None when the input is streamed and its size unknown.
Progress = Callable[[Iterable[Any], int | None], Iterable[Any]]


def _no_progress(items: Iterable[Any], total: int | None) -> Iterable[Any]:
    return items


@dataclass(slots=True)
class InspectionReport:
    """What one ``qc inspect`` run did, for the summary line, the store and tests.

    ``results`` holds every conversation with its findings (evidence findings included); a
    lean run (``keep_results=False``, no store) keeps none (its outputs are written as it
    goes). ``conversations`` and ``finding_count`` count them either way. ``agents`` are the
    per-agent rows of each day the run touched; with a store, ``period_agents`` are the rows of
    the card's appraisal periods those days fall in, as the store holds them now.
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
    period_agents: list[dict[str, Any]] = field(default_factory=list)
    evidence_count: int = 0

    @property
    def findings(self) -> list[Finding]:
        """Every finding of the run, in conversation then message order."""
        return [f for r in self.results for f in r.findings]

    @property
    def exit_code(self) -> int:
        """1 when any input file could not be read, or the run inspected nothing it was given, else 0.

        Nothing it was given: every record was rejected, or the inputs held no chat export (an
        empty folder, a folder of agents' folders, files that are no chat export). Empty exports
        are a quiet day: 0, said.
        """
        read = self.read
        # A skipped agents' folder is the day's chats unread, beside an empty export too (audit 175 L4).
        folders = any(f.skipped == SUBFOLDER for f in read.files)
        nothing = not read.accepted and (read.read > 0 or folders or not self._empty_exports)
        return 1 if read.failed_files or nothing else 0

    @property
    def _empty_exports(self) -> list[FileReport]:
        """The inputs read as chat exports that held no record, or were empty: a day without chats."""
        return [
            f
            for f in self.read.files
            if (f.skipped is None and f.error is None) or (f.skipped or "").startswith(EMPTY_FILE)
        ]

    @property
    def nothing_read(self) -> str | None:
        """Why the run inspected no message at all, or ``None``; said even under ``--quiet``.

        An empty folder, a folder of agents' folders, or an export whose every record was
        rejected (a wrong format or column map) wrote empty outputs and exited 0; under
        ``--quiet`` nothing was said, and a daily job passed over the day unseen (audit 172 F1).
        """
        read = self.read
        if read.accepted:
            return None
        if read.read:
            return (
                f"all {read.read} records were rejected (each with its file, line and why in rejects.jsonl):"
                " is it the export you meant? a --format or --column may be needed"
            )
        failed = len(read.failed_files)
        folders = sum(1 for f in read.skipped_files if f.skipped == SUBFOLDER)
        why = []  # each said, whatever else the input held (audit 174 L4)
        if failed:
            why.append(
                ("1 input could not be read" if failed == 1 else f"{failed} inputs could not be read")
                + " (each is named with why)"
            )
        if folders:
            were = (
                "1 folder inside the input was"
                if folders == 1
                else f"{folders} folders inside the input were"
            )
            why.append(
                f"{were} not read (folders are read one level deep): name each (qc inspect DAY/小雨 DAY/小满)"
            )
        if why:
            empty = len(self._empty_exports)
            if empty:  # said as well: under -q an empty export is not named otherwise (audit 175 L3)
                why.append("1 export holds no record" if empty == 1 else f"{empty} exports hold no record")
            return "no chat export was read: " + "; ".join(why)
        if not read.files:
            return "no chat export was read: the input holds no file"
        if not self._empty_exports:
            return (
                "no chat export was read: no input is one (each is named with why it was skipped, and in"
                " run.json)"
            )
        return "no chat export was read: its files hold no record (a day without chats, or a failed export?)"


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
    on_saved: Callable[[int], None] | None = None,
    on_committing: Callable[[int], None] | None = None,
) -> InspectionReport:
    """Read every input, inspect every conversation on ``executor``, write the results into ``out_dir``.

    ``scorecard`` scores the agents (the packaged default when ``None``); ``store`` is a
    SQLite path or SQLAlchemy URL the run is also saved to: its conversations are upserted,
    and the agents files then hold the store's scores of every day the run touched (other
    runs' conversations of those days included, review decisions applied).

    Conversations reach the executor while the input is still being read
    (:func:`qc.readers.stream.stream_inputs`); input whose conversations are not contiguous
    is read whole instead. Both give the same outputs. With ``keep_results=False`` and no
    store, the run keeps no results, only what scoring needs (per agent and day counters,
    one verdict per agent message with findings), so memory grows little with the input;
    an executor whose workers read JSON Lines themselves then gets the file in chunks.
    ``on_saved`` is called with the store's run id once the save is committed (before the
    files are published), so a stop or an error after it can say the store holds the run;
    ``on_committing`` as the save commits (a stop then may leave the run saved or not).
    """
    # Everything is written into a temporary folder beside out_dir and published as a set at
    # the end, run.json ("complete": true) last: a run that stops early leaves out_dir as it was.
    with OutputStage(out_dir) as stage:
        report = _run_inspection(
            inputs,
            stage.path,
            executor,
            options,
            progress,
            run_info,
            scorecard,
            store,
            keep_results,
            on_saved,
            on_committing,
        )
        publish_inspection(stage, report, out_dir, inputs)
    return report


def publish_inspection(
    stage: OutputStage, report: InspectionReport, out_dir: Path, inputs: Sequence[Path | str]
) -> None:
    """Publish an inspection's staged files into ``out_dir``, run.json last (either engine).

    An earlier ``qc export``'s own files there are removed, and the run says so
    (:func:`~qc.outputs.writers.export_leftovers`).
    """
    leftovers = export_leftovers(out_dir, [Path(p) for p in inputs if "://" not in str(p)])
    if leftovers:
        _said(report, f"{out_dir}: an earlier qc export's own files were removed: {', '.join(leftovers)}")
    stage.write_marker(report.run)
    stage.publish(remove=leftovers)


def _run_inspection(
    inputs: list[Path],
    out_dir: Path,
    executor: Executor,
    options: ReadOptions | None,
    progress: Progress,
    run_info: dict[str, Any] | None,
    scorecard: Scorecard | None,
    store: str | None,
    keep_results: bool,
    on_saved: Callable[[int], None] | None = None,
    on_committing: Callable[[int], None] | None = None,
) -> InspectionReport:
    """:func:`run_inspection` writing into ``out_dir`` (the stage), all but run.json."""
    started = time.perf_counter()
    card = scorecard or load_scorecard()
    options = (options or ReadOptions()).for_card(card.day.timezone)
    lean = not keep_results and store is None
    # With a store and no results kept, the records wait on disk for the save (bounded memory).
    spool = RecordSpool() if store is not None and not keep_results else None
    try:
        return _run(
            inputs,
            out_dir,
            executor,
            options,
            progress,
            run_info,
            card,
            store,
            lean,
            spool,
            started,
            on_saved,
            on_committing,
        )
    finally:
        if spool is not None:
            spool.close()


def _run(
    inputs: list[Path],
    out_dir: Path,
    executor: Executor,
    options: ReadOptions,
    progress: Progress,
    run_info: dict[str, Any] | None,
    card: Scorecard,
    store: str | None,
    lean: bool,
    spool: RecordSpool | None,
    started: float,
    on_saved: Callable[[int], None] | None = None,
    on_committing: Callable[[int], None] | None = None,
) -> InspectionReport:
    """:func:`run_inspection` once its options are settled."""
    streamed = StreamRead()
    report: InspectionReport | None = InspectionReport(read=streamed.result)
    # JSON Lines for workers that read lines: they read, inspect and make what this run keeps.
    readable = (lean or spool is not None) and executor.reads_lines
    split = LineSplit.of(inputs, options) if readable else None
    scoring: LeanScoring | None = None
    conversations: Iterable[Conversation]
    try:
        if split is not None and spool is not None:  # --db: records come back packed
            assert report is not None
            packed = executor.map_lines(split, ChunkRecordsTask(card))
            ticks = progress(_per_conversation(packed), None)
            _write_packed(report, (o for o in ticks if o is not None), out_dir, spool)
            split.finish(streamed.result)
            streamed.conversations = split.conversations
        elif split is not None:
            outputs = executor.map_lines(split, ChunkOutputTask(card))
            ticks = progress(_per_conversation(outputs), None)
            scoring = _write_lean((o for o in ticks if o is not None), out_dir, card)
            split.finish(streamed.result)
            streamed.conversations = split.conversations
        else:
            conversations = stream_inputs(inputs, options, streamed)
            assert report is not None
            scoring = _inspect_and_write(
                report, progress(conversations, None), out_dir, executor, lean, card, spool
            )
    except ReadWholeError:
        report = None  # read whole below; the files written so far are replaced
    else:
        assert report is not None
        report.conversations = streamed.conversations
    if report is None:
        if spool is not None:
            spool.clear()
        read = read_inputs(inputs, options)
        report = InspectionReport(read=read, conversations=len(read.conversations))
        conversations = progress(read.conversations, len(read.conversations))
        scoring = _inspect_and_write(report, conversations, out_dir, executor, lean, card, spool)
    read = report.read
    with (out_dir / REJECTS_FILE).open("w", encoding="utf-8") as fh:
        write_jsonl(fh, reject_records(read.rejects))
    report.scorecard = card
    if scoring is not None:
        scoring.write(report, out_dir)
        report.finding_count = scoring.findings
        report.evidence_count = scoring.evidence
    elif spool is None:
        report.finding_count = len(report.findings)
        report.evidence_count = sum(1 for f in report.findings if f.kind in card.evidence_kinds)
    read.files.extend(refused_inputs(inputs))  # links out of a folder, FIFOs …: listed, never read
    read.warnings.extend(identity_warnings(report.agents, read.warnings))
    report.seconds = time.perf_counter() - started
    report.run = run_record(report, executor.describe(), run_info)
    if store is not None:
        from qc.store.database import open_store  # SQLAlchemy: only a run with a store needs it

        with open_store(store, save=True) as db:
            damaged = {reject.file for reject in read.rejects}
            # The store's earlier parts are read under the save's write lock (the records are
            # made inside its transaction): a run saving the other half at the same moment
            # waits, then is joined, instead of being overwritten.
            if spool is not None:
                kept = spool  # named for the closure (mypy keeps no narrowing inside one)
                run_id, joined, changed = save_continued(
                    db, report, kept.spans, lambda: kept, executor, card, damaged, on_committing
                )
                touched = spool.days | changed
            else:
                records = [
                    conversation_record(r.conversation, with_evidence(r, card).findings, card)
                    for r in report.results
                ]
                spans = {
                    (r.conversation.shop or "", r.conversation.id): time_span(r.conversation) for r in records
                }
                timed = {key: span for key, span in spans.items() if span is not None}
                saved: list[ConversationRecord] = []

                def whole() -> Iterable[ConversationRecord]:
                    later = find_continuations(timed, records, db, executor, card, damaged)
                    _note_continuations(report, later)
                    moves.update(later.renamed)
                    taken.update(later.adopted)
                    rejoined.extend(later.records.values())
                    earlier.update(later.stored_days)
                    by_key = {(r.conversation.shop or "", r.conversation.id): r for r in later.apply(records)}
                    saved.extend(by_key.values())
                    return saved

                moves: dict[str, str] = {}
                taken: dict[tuple[str, str], str] = {}
                rejoined: list[ConversationRecord] = []
                earlier: set[str] = set()
                run_id = db.save_run_streamed(
                    run=report.run, records=whole, renamed=moves, adopted=taken, committing=on_committing
                )
                touched = touched_days(saved) | earlier
                joined = rejoined
            # Committed: said before the files are rewritten, not after, as a stop in those seconds
            # was told the store "may hold the run" when it did (audit 157 M1).
            if on_saved is not None:
                on_saved(run_id)
            rewrite_continued(out_dir, joined, card)
            report.run["orphaned_decisions"] = db.run_orphans(run_id)
            report.run["moved_decisions"] = db.run_moves(run_id)
            score_from_store(report, db, touched | left_days(report, db, run_id), out_dir)
    elif scoring is None:
        score_report(report, out_dir, card)
    return report


def save_continued(
    db: Store,
    report: InspectionReport,
    spans: Mapping[tuple[str, str], tuple[int, datetime, datetime]],
    records: Callable[[], Iterable[ConversationRecord]],
    executor: Executor,
    card: Scorecard,
    damaged: Collection[str],
    committing: Callable[[int], None] | None = None,
) -> tuple[int, list[ConversationRecord], set[str]]:
    """Save a run streamed, each conversation that continues a stored copy joined with it first.

    Why one function: the lean local run and Spark's driver save the same way (the joined
    conversations found and inspected again inside the save's transaction, their decisions
    moved). ``records`` makes the run's records (read once to find the new copies, once to
    save). Returns the run id, the joined records and every day they changed (theirs and those
    their stored copies counted on), which the run touched too.
    """
    joined: list[ConversationRecord] = []
    renamed: dict[str, str] = {}
    adopted: dict[tuple[str, str], str] = {}
    days: set[str] = set()

    def continued() -> Iterable[ConversationRecord]:
        later = find_continuations(spans, records(), db, executor, card, damaged)
        _note_continuations(report, later)
        joined.extend(later.records.values())
        renamed.update(later.renamed)
        adopted.update(later.adopted)
        days.update(later.stored_days)
        return later.apply(records())

    run_id = db.save_run_streamed(
        run=report.run, records=continued, renamed=renamed, adopted=adopted, committing=committing
    )
    return run_id, joined, days | touched_days(joined)


# A written line's conversation id: the key itself, never a value, as a quote inside a value is escaped.
_CONVERSATION_ID = re.compile(rb'"conversation_id":("(?:[^"\\]|\\.)*")')


def rewrite_continued(out_dir: Path, joined: Collection[ConversationRecord], card: Scorecard) -> None:
    """Make the run's findings.jsonl and conversations.jsonl say what the store now holds for joined chats.

    The run wrote its own part of a conversation cut at midnight as it read it; the save joined
    that part with the stored one and inspected the whole again, so its findings have other
    message indexes and ids (and the slow replies across the cut). `qc review` takes ids from
    findings.jsonl, and deductions.jsonl, scored from the store, cites the store's: the joined
    conversation's lines are replaced, where its first line was, by the store's (added at the
    end when the run's part had none).
    """
    if not joined:
        return
    by_key = {(r.conversation.shop or "", r.conversation.id): r for r in joined}
    ids = {key[1] for key in by_key}

    def findings_lines(record: ConversationRecord) -> Iterable[dict[str, Any]]:
        return finding_records(a.finding for a in record.findings)

    def summary_lines(record: ConversationRecord) -> Iterable[dict[str, Any]]:
        result = ConversationResult(record.conversation, (), tuple(a.finding for a in record.findings))
        return (conversation_summary(result, card),)

    # A finding line names no shop: its conversation's, by id, from the agents it is charged to.
    shops = {key[1]: key[0] for key in by_key}
    for name, lines_of, shop_of in (
        (CONVERSATIONS_FILE, summary_lines, lambda data: data.get("shop") or ""),
        (FINDINGS_FILE, findings_lines, lambda data: shops.get(data["conversation_id"], "")),
    ):
        path = out_dir / name
        if not path.exists():
            continue
        staged = path.with_name(f".{name}.joined")
        written: set[tuple[str, str]] = set()
        with path.open("rb") as old, staged.open("wb") as new:
            for line in old:
                # The line's own id, looked up: every joined id searched in every line took 22 s of
                # a 62 s re-run that joined 6,676 chats (audit 157 M1).
                found = _CONVERSATION_ID.search(line)
                data = orjson.loads(line) if found and orjson.loads(found[1]) in ids else None
                key = (shop_of(data), data["conversation_id"]) if data is not None else None
                if key is None or key not in by_key:
                    new.write(line)
                    continue
                if key not in written:
                    written.add(key)
                    new.writelines(f"{dumps(x)}\n".encode() for x in lines_of(by_key[key]))
            # A joined chat the run's own part gave no line (its quiet first minutes, read after
            # the rest): the store's lines go at the end, or the file lists none of its findings.
            for key in sorted(by_key.keys() - written):
                new.writelines(f"{dumps(x)}\n".encode() for x in lines_of(by_key[key]))
        staged.replace(path)


def _note_continuations(report: InspectionReport, later: Continuations) -> None:
    """Say in run.json (and as a warning) which conversations were joined with the store's earlier part."""
    if not later.records:
        return
    joined = later.describe()
    report.run["continued_conversations"] = joined
    days = sorted(later.stored_days | touched_days(later.records.values()))
    warning = (
        f"{len(joined)} conversation(s) continue a copy already in the store (split across exports, or"
        " read here with lines rejected): the stored messages this run's copy lacks were kept and the"
        f" whole conversation inspected again; the agents files here score {', '.join(days)} as the store"
        " now holds them (files sent on for those days before are out of date)"
    )
    _said(report, warning)


def identity_warnings(agents: Sequence[dict[str, Any]], said: Sequence[str]) -> list[str]:
    """What a run whose inputs name no agent or give no time must say, once for the whole run.

    A file read whole says it of itself (``said`` holds those warnings); JSON Lines, read in
    pieces, said nothing: 3,925 chats of six helpdesks were scored as one agent, ``unknown``, and
    none of their replies was timed, without a word (audit 164 M2).
    """
    out: list[str] = []
    if not agents:
        return out
    nameless = all(str(r["agent"]).rsplit(":", 1)[-1] == NAMELESS_AGENT for r in agents)
    if nameless and not any("names its agent" in w for w in said):
        out.append(
            f"no agent message names its agent (no sender, agent id or nick that reads as one): every"
            f" conversation is scored under one agent, '{NAMELESS_AGENT}'; give the export its senders"
            " (--column sender=FIELD names the field), or --agent-nick for the shop's nicks"
        )
    if all(r["date"] == UNDATED for r in agents) and not any(
        "no row gives a time" in w or "no message has a time" in w for w in said
    ):
        out.append(
            "no message has a time: no reply is timed (the response-time items score no turn) and every"
            " conversation is on the undated day; give the export its times (--column timestamp=FIELD"
            " names the field), or --date for times written as clocks only"
        )
    return out


def _said(report: InspectionReport, warning: str) -> None:
    """Add ``warning`` to the run's warnings (stderr and run.json)."""
    report.read.warnings.append(warning)
    listed = report.run.setdefault("warnings", [])
    if listed is not report.read.warnings:
        listed.append(warning)


def _inspect_and_write(
    report: InspectionReport,
    conversations: Iterable[Conversation],
    out_dir: Path,
    executor: Executor,
    lean: bool,
    card: Scorecard,
    spool: RecordSpool | None = None,
) -> LeanScoring | None:
    """Inspect ``conversations``, writing findings and summaries as results arrive.

    Fills ``report.results`` with every conversation, or with ``lean`` keeps no results
    and returns the scoring accumulated batch by batch (each batch's output lines and
    tally made where it was inspected). With a ``spool`` each conversation's store record
    goes there instead of ``report.results``, and the report's finding counts are kept.
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
                result = with_evidence(ConversationResult(conversation, (), findings), card)
                write_jsonl(findings_fh, finding_records(result.findings))
                write_jsonl(conversations_fh, (conversation_summary(result, card),))
                if spool is None:
                    report.results.append(result)
                    continue
                spool.add(conversation_record(conversation, result.findings, card))
                report.finding_count += len(result.findings)
                report.evidence_count += sum(1 for f in result.findings if f.kind in card.evidence_kinds)
    return None


Out = TypeVar("Out", ChunkOutput, ChunkRecords)


def _per_conversation(outputs: Iterable[Out]) -> Iterator[Out | None]:
    """Each chunk's output, after one ``None`` per other conversation in it.

    A progress bar then counts conversations, as it does when the main process reads them
    itself (a chunk has one summary line per conversation). A chunk whose lines were all
    rejected has no conversation, so nothing to write or add: it yields nothing.
    """
    for output in outputs:
        count = output.summaries.count(b"\n")
        if count == 0:
            continue
        for _ in range(count - 1):
            yield None
        yield output


def _write_chunks(outputs: Iterable[Out], out_dir: Path, keep: Callable[[Out], None]) -> None:
    """Write the lines of each chunk's output as it arrives, then hand the chunk to ``keep``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    # Binary: the lines come as UTF-8 bytes (qc.batch.chunks).
    with (
        (out_dir / FINDINGS_FILE).open("wb") as findings_fh,
        (out_dir / CONVERSATIONS_FILE).open("wb") as conversations_fh,
    ):
        for output in outputs:
            findings_fh.write(output.findings)
            conversations_fh.write(output.summaries)
            keep(output)


def _write_lean(outputs: Iterable[ChunkOutput], out_dir: Path, card: Scorecard) -> LeanScoring:
    """Write the lines of each chunk's output as it arrives and add up the tallies for scoring."""
    scoring = LeanScoring(card, spool_dir=out_dir)
    _write_chunks(outputs, out_dir, scoring.merge_output)
    return scoring


def _write_packed(
    report: InspectionReport, outputs: Iterable[ChunkRecords], out_dir: Path, spool: RecordSpool
) -> None:
    """Write each chunk's lines as it arrives and put its packed records in the spool (``--db``)."""

    def keep(output: ChunkRecords) -> None:
        spool.add_packed(output.records)
        report.finding_count += output.finding_count
        report.evidence_count += output.evidence_count

    _write_chunks(outputs, out_dir, keep)


class LeanScoring:
    """What :func:`score_report` needs, added up one chunk of conversations at a time.

    Keeps the agents' day counters in memory and one verdict per agent message with findings
    (finding ids, kinds, agent, day) and one reference per evidence finding in a temporary file
    (:class:`~qc.batch.spool.VerdictSpool`), not the conversations and findings themselves.
    """

    def __init__(self, card: Scorecard, spool_dir: Path | None = None) -> None:
        self.card = card
        self.tally = ScoreTally(card)
        # In the run's temporary output folder when given: removed with it on any exit.
        self.verdicts = VerdictSpool(spool_dir)
        self.evidence = 0  # evidence findings counted (slow replies, unanswered buyers)

    @property
    def findings(self) -> int:
        """Findings counted so far."""
        return self.tally.findings

    def merge(self, tally: ScoreTally) -> None:
        """Add a chunk's tally; its verdicts and evidence go to the spool, not to memory."""
        self.verdicts.extend(tally.verdicts)
        self.verdicts.extend_evidence(tally.evidence)
        self.evidence += len(tally.evidence)
        tally.verdicts = []
        tally.evidence = []
        self.tally.merge(tally)

    def merge_output(self, output: ChunkOutput) -> None:
        """Add a chunk's tally and its verdicts and evidence, which come as ready spool rows."""
        self.verdicts.add(output.rows)
        self.evidence += output.rows.refs
        self.tally.merge(output.tally)

    def extend(self, verdicts: Iterable[MessageVerdict], evidence: Iterable[EvidenceRef]) -> None:
        """Add verdicts and evidence references that reached this process apart from their tallies.

        Spark writes them to part files instead of sending them in the tallies; they go to the
        spool, a batch at a time, as a merged tally's do.
        """
        for batch in chunked(verdicts, 10_000):
            self.verdicts.extend(batch)
        for refs in chunked(evidence, 10_000):
            self.verdicts.extend_evidence(refs)
            self.evidence += len(refs)

    def scores(self) -> Scores:
        """The daily scores of everything merged: :func:`~qc.scoring.scores.score_agents`."""
        tally = self.tally
        inputs = ScoreInputs(tally.metrics.parts(), self.verdicts, tally.held_by, self.verdicts.evidence())
        return score_agents(inputs, self.card, Windows.daily(), sorted_evidence=True)

    def write(self, report: InspectionReport, out_dir: Path) -> None:
        """Score every day the run touched and write the agents files."""
        card = self.card
        report.scorecard = card
        with self.verdicts:
            scores = self.scores()
        report.deductions, report.agents = scores.deductions, scores.rows
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
        "evidence_findings": report.evidence_count,
        "files": [
            {
                "path": f.path,
                "format": f.format,
                "encoding": f.encoding,
                "read": f.read,
                "accepted": f.accepted,
                "rejected": f.rejected,
                "error": f.error,
                "skipped": f.skipped,
            }
            for f in read.files
        ],
        "warnings": read.warnings,
        "seconds": round(report.seconds, 3),
        # The hot modules running compiled (scripts/compile.py): which build a speed figure is of.
        "compiled_modules": len(compiled_modules()),
        **info.versions(),
        **scorecard_info(report.scorecard),
        # No review decision applies to a run's own findings; with --db the tables score the
        # store with its decisions, and score_from_store counts the rejections it applied.
        "rejected_findings": 0,
        **(run_info or {}),
    }


def settings_record(options: ReadOptions, user_dict: Path | None) -> dict[str, Any]:
    """What run.json records of the settings beside the card, lexicon and model that change scores.

    ``--timezone UTC`` moved a demo day's response-time points from -86 to -203, and a limits
    file or a user dictionary changes what is read and how it is cut, under the same scorecard
    hash (audit 104 M7): the time zone naive times were read in, the limits in force and where
    they come from, and the user dictionary's file and SHA-256.
    """
    from dataclasses import asdict

    from qc.readers.limits import limits_source, load_limits

    settings: dict[str, Any] = {
        "timezone": options.timezone,
        "limits": {"source": limits_source(), **asdict(load_limits())},
    }
    if user_dict is not None:
        digest = hashlib.sha256(Path(user_dict).read_bytes()).hexdigest()
        settings["user_dict"] = {"path": str(user_dict), "sha256": digest}
    return {"settings": settings}


def inspected_with_record(store: Store, date_from: str, date_to: str) -> list[dict[str, Any]]:
    """What made the stored findings of a range, as export.json and a ``--db`` run.json write it.

    One entry per distinct way the range's runs were made: the card (hash, name), the lexicon
    and whether it ran strict, the model, and the readers' settings (time zone, the limits'
    values, the user dictionary's SHA-256; ``None`` where an older run did not record them).
    ``qc compare`` reads these: two exports of the same findings read under other settings
    were "the same configuration" (audit 113 H3, H5).
    """
    return [
        {
            "hash": r["scorecard_hash"],
            "name": r["scorecard_name"],
            "lexicon": r["lexicon_version"],
            "strict": r["lexicon_strict"],
            "model": r["model_version"],
            "timezone": r["timezone"],
            "limits": r["limits"],
            "user_dict": r["user_dict"],
        }
        for r in store.inspected_with(date_from, date_to)
    ]


def store_state(store: Store, date_from: str, date_to: str) -> dict[str, Any]:
    """The state of the store's range a table was scored from: its newest run and newest decision.

    Two exports of one month before and after a day was re-inspected differed only in their
    time (audit 114 L3); with this, ``qc compare`` says the range changed between them. Of the
    range only: a save of another month said "changed" of two equal tables (audit 115 M7).
    """
    run, decision = store.window_state(date_from, date_to)
    return {"store": store.url, "newest_run": run, "newest_decision": decision}


def scorecard_info(card: Scorecard | None) -> dict[str, Any]:
    """What run.json and export.json record about the scorecard that scored them.

    Its hash above all, and the effective card itself (``effective``: the bundled card with the
    shop's file read over it, as ``qc scorecard show`` prints it): the file on disk may change
    after the run, and without the card's content the hash could not be checked, nor
    ``qc compare`` say which settings two runs' cards differ in (audit 104 L1).
    """
    if card is None:
        return {}
    return {
        "scorecard": {
            "name": card.name,
            "version": card.version,
            "hash": card.hash,
            "source": card.source,
            "effective": card.data,
        }
    }


def touched_days(records: Iterable[ConversationRecord]) -> set[str]:
    """The days saved conversations count on: of their metric parts and of their findings."""
    days: set[str] = set()
    for r in records:
        days |= r.counted_days
    return days


def left_days(report: InspectionReport, store: Store, run_id: int) -> set[str]:
    """The days the run's save took stored conversations off, named in a warning, to be scored again.

    A time-only export re-filed under its right date, or naive times re-read in another zone:
    the old day lost the conversations, and neither the run's agents files nor its warnings said
    so (audit 114 M1). They are written with the run's days, as the store now holds them.
    """
    repeats = store.run_repeats(run_id)
    if repeats:
        report.run["repeated_conversations"] = repeats
    # The same chat filed twice (a file renamed to its right day, a copy): counted twice. A whole
    # export filed twice repeats every chat of it: one warning, run.json lists them all. Counted
    # by the run's conversations, each naming every stored one it repeats (audit 122 L1).
    by_conversation: dict[str, list[str]] = {}
    for r in repeats:
        by_conversation.setdefault(r["conversation"], []).append(shown_id(r["repeats"]))
    fix = (
        " (it looks like the same chat under another file name): both are counted; if it is the same"
        " export filed twice, take the wrong copy off with `qc store forget ID --why …` (--dry-run first)"
    )
    for cid, stored in by_conversation.items() if len(by_conversation) <= 3 else ():
        report.read.warnings.append(
            f"conversation {shown_id(cid)} repeats the stored conversation{'s' if len(stored) > 1 else ''}"
            f" {', '.join(stored)} message for message{fix}"
        )
    if len(by_conversation) > 3:
        shown = ", ".join(f"{shown_id(c)} repeats {s[0]}" for c, s in list(by_conversation.items())[:3])
        report.read.warnings.append(
            f"{len(by_conversation)} conversations repeat stored conversations of other ids message for"
            f" message ({shown} …; run.json lists them under repeated_conversations){fix}; if this"
            f" whole run is the wrong copy, `qc store forget --run {run_id} --dry-run` shows taking it off"
        )
    back = store.run_returns(run_id)
    if back:
        report.run["forgotten_conversations_back"] = back
        first = back[0]
        more = f" and {len(back) - 1} more (run.json forgotten_conversations_back)" if len(back) > 1 else ""
        report.read.warnings.append(
            f"conversation {shown_id(first['conversation'])}{more} had been taken off the store by"
            f" `qc store forget` (run {first['forget_run']}, by {first['forgotten_by']}) and is stored and"
            " counted again by this run; forget it again if it is still the wrong copy"
        )
    left = store.run_left_days(run_id)
    days = sorted({d["date"] for d in left})
    if days:
        report.run["left_days"] = left
        report.read.warnings.append(
            f"conversations stored on {', '.join(days)} count on other days in this run: {', '.join(days)}"
            " lost them and are scored again with this run's days (in its agents files, unless left empty)"
        )
    return set(days)


def score_from_store(report: InspectionReport, store: Store, touched: Iterable[str], out_dir: Path) -> None:
    """Score every day the saved run touched from the store and write the agents files.

    ``touched`` are the days the run's conversations count on (:func:`touched_days`). The days
    hold whatever the store holds of them (other runs' conversations too) with the review
    decisions applied. ``report.period_agents`` gets the rows of the card's appraisal periods
    those days fall in.
    """
    from qc.batch.stored import score_stored  # imports the store (SQLAlchemy): runs with one only

    card = report.scorecard or load_scorecard()
    days = sorted(set(touched))
    dated = [d for d in days if d != UNDATED]
    deductions: list[Deduction] = []
    rows: list[dict[str, Any]] = []
    rejected: set[str] = set()
    for lo, hi in ([(dated[0], dated[-1])] if dated else []) + (
        [(UNDATED, UNDATED)] if UNDATED in days else []
    ):
        stored = score_stored(store, card, lo, hi)
        scores = stored.scores
        deductions += [d for d in scores.deductions if d.date in days]
        rows += [r for r in scores.rows if r["date"] in days]
        rejected |= {s.id for s in stored.findings if s.id in stored.rejected and s.date in days}
    report.deductions, report.agents = deductions, rows
    # With a store the agents are known here only, after the run's own record was made (audit 165 M1).
    for warning in identity_warnings(rows, report.read.warnings):
        _said(report, warning)
    write_score_outputs(out_dir, deductions, rows, agent_columns(card))
    if dated:
        # The agents files score every stored conversation of these days, other runs' too: what
        # made them is what made those (audit 113 H5), and the review decisions applied.
        report.run["inspected_with"] = inspected_with_record(store, dated[0], dated[-1])
        report.run["store_state"] = store_state(store, dated[0], dated[-1])
    report.run["rejected_findings"] = len(rejected)
    periods = {p.label: p for d in dated if (p := period_of(d, card.appraisal)) is not None}
    if periods:
        first = min(p.first for p in periods.values())
        last = max(p.last for p in periods.values())
        try:
            scored = score_stored(store, card, first, last, Windows.every(card.appraisal)).scores
        except ConfigError as other_days:
            # Other days of the period were saved under other evidence limits. The run was saved
            # and its days scored; only the period-so-far table cannot be, and a run that stopped
            # here with exit 2 had saved the day unsaid (audit 107).
            report.read.warnings.append(f"the appraisal period so far is not scored: {other_days}")
            return
        report.period_agents = [r for r in scored.rows if r["date"] in periods]
        from qc.outputs.compare import other_cards

        other = other_cards(store.inspected_with(first, last), card)
        if other:
            # The period so far pools days other runs saved under other cards (audit 113 M1).
            names = ", ".join(f"{name or 'unnamed'} ({h[:12]})" for h, name in sorted(other.items()))
            report.read.warnings.append(
                f"the {card.appraisal} so far ({first}…{last}) holds days inspected with scorecard {names}:"
                f" its table scores them with this run's {card.name} ({card.hash[:12]})"
            )


def score_report(
    report: InspectionReport,
    out_dir: Path,
    scorecard: Scorecard | None = None,
    rejected: frozenset[str] = frozenset(),
) -> None:
    """Score an inspected batch kept in ``report.results`` and write the agents files.

    Writes agents.csv, agents.xlsx, agents.json and deductions.jsonl into ``out_dir`` and
    keeps the deductions and rows on the report. Any engine that fills ``report.results``
    calls this to score the batch the same way (the tally a lean run makes, then
    :func:`~qc.scoring.scores.score_agents`). Findings whose id is in ``rejected`` are scored
    as suppressed: they no longer cost points.
    """
    card = scorecard or load_scorecard()
    tally = ScoreTally(card)
    for result in report.results:
        result = with_evidence(result, card)
        if rejected:
            findings = tuple(mark_rejected(result.findings, rejected))
            result = ConversationResult(result.conversation, result.features, findings)
        tally.add(result, card)
    inputs = ScoreInputs(tally.metrics.parts(), tally.verdicts, tally.held_by, tally.evidence)
    scores = score_agents(inputs, card, Windows.daily())
    report.scorecard = card
    report.deductions, report.agents = scores.deductions, scores.rows
    write_score_outputs(out_dir, report.deductions, report.agents, agent_columns(card))
