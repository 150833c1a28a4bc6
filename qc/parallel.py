"""``qc inspect --jobs N``: the same inspection on N worker processes.

Each worker builds the inspector ONCE (models, lexicon, tokenizer) in its pool
initializer, from picklable :class:`~qc.pipeline.PipelineSettings`, so it works with
the ``spawn`` and ``forkserver`` start methods as well as ``fork``. The parent cuts
the conversation stream into chunks, keeps at most a few chunks in flight (memory
stays bounded however long the input), and puts the findings back in input order,
so the output is byte for byte that of one process.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import timezone
from typing import Any

from qc.engine import ConversationResult, Inspector, chunked, settle_heap
from qc.pipeline import PipelineSettings, build_inspector
from qc.readers.files import Resolved
from qc.readers.line_chunks import ChunkRead, LineChunk, LineSplit, read_chunk
from qc.schema import Conversation, Finding, Message
from qc.scorecard import Scorecard
from qc.tally import ChunkOutput, chunk_output, chunk_outputs

__all__ = ["ParallelInspector", "RuleInfo", "default_start_method"]

# Chunks queued per worker: enough to keep every worker busy while the parent reads,
# few enough that memory does not grow with the input.
_IN_FLIGHT_PER_JOB = 3
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

_worker: Inspector | None = None
# Why this worker has no inspector (a bad model or lexicon): raised by every task, so the
# parent gets the error instead of a pool that restarts failing workers forever.
_init_error: BaseException | None = None


def default_start_method() -> str:
    """``forkserver`` where the platform has it (no inherited locks or threads), else ``spawn``."""
    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


_card: Scorecard | None = None


def _init_worker(settings: PipelineSettings, batch_size: int, card: Scorecard | None = None) -> None:
    """Pool initializer: build this worker's inspector once (or keep why it failed)."""
    global _worker, _init_error, _card
    _card = card
    try:
        _worker = build_inspector(settings)
    except Exception as exc:  # noqa: BLE001 - re-raised in the parent by the first task
        _init_error = exc
        return
    _worker.batch_size = batch_size
    settle_heap()


def _ready_worker() -> Inspector:
    if _init_error is not None:
        raise _init_error
    assert _worker is not None, "worker not initialised"
    return _worker


def _inspect_chunk(packed: tuple[list[Any], list[Any]]) -> list[tuple[Finding, ...]]:
    """Worker side: the findings of each conversation of a packed chunk, in order.

    Only findings travel back; the parent already has the conversations, and
    annotator features are not part of any output.
    """
    worker = _ready_worker()
    return [r.findings for r in worker.inspect_batch(unpack_conversations(packed))]


def _inspect_chunk_lean(packed: tuple[list[Any], list[Any]]) -> ChunkOutput:
    """Worker side of a lean run: the chunk's output lines and score tally, made here.

    The parent then only writes text and adds tallies, so the one process every message
    goes through does the least it can.
    """
    worker = _ready_worker()
    assert _card is not None, "lean worker started without a scorecard"
    return chunk_output(worker.inspect_batch(unpack_conversations(packed)), _card)


def _inspect_lines_lean(
    chunk: LineChunk, names: list[str], resolved: Resolved
) -> tuple[ChunkOutput, ChunkRead]:
    """Worker side of a lean run on JSON Lines: read the chunk here, then as :func:`_inspect_chunk_lean`."""
    worker = _ready_worker()
    assert _card is not None, "lean worker started without a scorecard"
    conversations, read = read_chunk(chunk, names, resolved)
    return chunk_output(worker.inspect_batch(conversations), _card), read


def pack_conversations(conversations: Sequence[Conversation]) -> tuple[list[Any], list[Any]]:
    """Conversations as plain tuples, for the trip to a worker.

    Pickling the frozen slotted dataclasses, each timestamp with its own time-zone object,
    costs the parent about 9 µs per message; plain tuples with naive times and one table of
    the chunk's zones about 4, and the parent is the process every message goes through.
    :func:`unpack_conversations` rebuilds equal objects in the worker.
    """
    zones: dict[Any, int] = {}
    zone_list: list[Any] = []
    by_object: dict[int, int] = {}  # id(tzinfo) → index: the objects live as long as the chunk
    rows = [
        (
            c.id,
            c.shop,
            c.source,
            [
                (
                    m.index,
                    m.role,
                    m.text,
                    m.sender,
                    _pack_time(m.sent_at, zones, zone_list, by_object),
                    m.auto_reply,
                )
                + ((m.agent_id, m.source) if m.agent_id is not None or m.source else ())
                for m in c.messages
            ],
        )
        for c in conversations
    ]
    return zone_list, rows


def _pack_time(
    value: Any, zones: dict[Any, int], zone_list: list[Any], by_object: dict[int, int]
) -> tuple[Any, int] | None:
    """``(naive datetime, index of its zone in the chunk's table or -1)``."""
    if value is None:
        return None
    tz = value.tzinfo
    if tz is None:
        return value, -1
    zone = by_object.get(id(tz))
    if zone is not None:
        return value.replace(tzinfo=None), zone
    # A fixed offset is told apart by offset and name (equality alone ignores the name);
    # any other zone object (ZoneInfo instances are shared per key) by identity.
    key = (tz.utcoffset(None), tz.tzname(None)) if type(tz) is timezone else id(tz)
    zone = zones.get(key)
    if zone is None:
        zone = zones[key] = len(zone_list)
        zone_list.append(tz)
    by_object[id(tz)] = zone
    return value.replace(tzinfo=None), zone


def unpack_conversations(packed: tuple[list[Any], list[Any]]) -> list[Conversation]:
    """The conversations :func:`pack_conversations` packed, equal to the originals."""
    zone_list, rows = packed
    out = []
    for cid, shop, source, messages in rows:
        built = []
        for index, role, text, sender, at, auto, *rest in messages:
            sent_at = None
            if at is not None:
                naive, zone = at
                sent_at = naive if zone < 0 else naive.replace(tzinfo=zone_list[zone])
            built.append(Message(index, role, text, sender, sent_at, auto, *rest))
        out.append(Conversation(cid, tuple(built), shop, source))
    return out


@dataclass(frozen=True, slots=True)
class _Label:
    label: str | None


@dataclass(frozen=True, slots=True)
class _Model:
    version: str | None
    meta: dict[str, Any]


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """What the parent records about a worker's rule: its name, lexicon and model versions.

    Stands in for the rule in :func:`qc.inspection.component_versions`, so the parent
    never loads the model (seconds of start-up and a few hundred MB) just for run.json.
    """

    name: str
    lexicon: _Label | None = None
    artifact: _Model | None = None
    strict: bool | None = None


def _describe() -> tuple[RuleInfo, ...]:
    """Worker side: the :class:`RuleInfo` of each rule (raises the worker's start-up error)."""
    out = []
    for rule in _ready_worker().rules:
        lex, art = getattr(rule, "lexicon", None), getattr(rule, "artifact", None)
        out.append(
            RuleInfo(
                rule.name,
                _Label(getattr(lex, "label", None)) if lex is not None else None,
                _Model(getattr(art, "version", None), dict(getattr(art, "meta", None) or {}))
                if art is not None
                else None,
                getattr(rule, "strict", None),
            )
        )
    return tuple(out)


class ParallelInspector:
    """An inspector whose :meth:`inspect_all` runs on ``jobs`` worker processes.

    It stands in for :class:`~qc.engine.Inspector` in :func:`qc.inspection.run_inspection`.
    The parent builds the rules once too (for ``rule_names`` and the model and lexicon
    versions in run.json); workers build their own.
    """

    # inspect_all reads its input lazily, a few chunks ahead: run_inspection may stream to it.
    streams_input = True

    def __init__(
        self,
        settings: PipelineSettings,
        jobs: int,
        batch_size: int = 256,
        start_method: str | None = None,
        local: Inspector | None = None,
    ) -> None:
        if jobs < 1:
            raise ValueError("jobs must be at least 1")
        self.settings = settings
        self.jobs = jobs
        self.batch_size = max(1, batch_size)
        self.start_method = start_method or default_start_method()
        self._local = local
        self._rules: tuple[Any, ...] | None = local.rules if local is not None else None

    @property
    def local(self) -> Inspector:
        """The full inspector in this process (built on first use: workers have their own)."""
        if self._local is None:
            self._local = build_inspector(self.settings)
            self._local.batch_size = self.batch_size
        return self._local

    @property
    def rules(self) -> tuple[Any, ...]:
        """The rules: as the workers described them once a run started, else built here.

        The parent only needs them for names and lexicon/model versions; the workers do the work.
        """
        if self._rules is None:
            from qc.rules import make_rule

            self._rules = tuple(make_rule(name, settings=self.settings) for name in self.settings.rules)
        return self._rules

    @property
    def rule_names(self) -> tuple[str, ...]:
        """Versioned names of the rules the workers run."""
        return tuple(r.name for r in self.rules)

    def inspect(self, conversation: Conversation) -> ConversationResult:
        """One conversation, in this process (not worth a worker)."""
        return self.local.inspect(conversation)

    def inspect_batch(self, conversations: Sequence[Conversation]) -> list[ConversationResult]:
        """A batch in this process; same results as the workers give."""
        return self.local.inspect_batch(conversations)

    def inspect_all(self, conversations: Iterable[Conversation]) -> Iterator[ConversationResult]:
        """Inspect on the workers; results come back in input order, lazily.

        Results carry no annotator features (empty tuple): the outputs don't use them
        and shipping tokens back would cost more than the inspection saves.
        """
        if self.jobs == 1:
            for result in self.local.inspect_all(conversations):
                yield ConversationResult(result.conversation, (), result.findings)
            return
        chunks = chunked(conversations, self.batch_size)
        tasks = ((chunk, (pack_conversations(chunk),)) for chunk in chunks)
        for chunk, found in self._run(tasks, _inspect_chunk, None):
            for conversation, findings in zip(chunk, found, strict=True):
                yield ConversationResult(conversation, (), findings)

    def inspect_lean(self, conversations: Iterable[Conversation], card: Scorecard) -> Iterator[ChunkOutput]:
        """A lean run's output lines and tallies (:func:`qc.tally.chunk_output`), made by the workers.

        In input order, one per chunk; the parent keeps no conversation once it is sent.
        """
        if self.jobs == 1:
            yield from chunk_outputs(self.local.inspect_all(conversations), card, self.batch_size)
            return
        tasks = ((None, (pack_conversations(chunk),)) for chunk in chunked(conversations, self.batch_size))
        for _, output in self._run(tasks, _inspect_chunk_lean, card):
            yield output

    def inspect_lines_lean(self, split: LineSplit, card: Scorecard) -> Iterator[ChunkOutput]:
        """:meth:`inspect_lean` of JSON Lines input that the workers read themselves.

        The parent only cuts the lines into chunks of whole conversations
        (:class:`~qc.readers.line_chunks.LineSplit`) and adds up what reading them gave
        into ``split``; call ``split.finish`` once this is exhausted.
        """
        names, resolved = split.names, split.resolved
        if self.jobs == 1:
            for chunk in split.chunks(self.batch_size):
                conversations, read = read_chunk(chunk, names, resolved)
                split.add(read)
                yield chunk_output(self.local.inspect_batch(conversations), card)
            return
        tasks = ((None, (chunk, names, resolved)) for chunk in split.chunks(self.batch_size))
        for _, (output, read) in self._run(tasks, _inspect_lines_lean, card):
            split.add(read)
            yield output

    def _run(
        self, tasks: Iterable[tuple[Any, tuple[Any, ...]]], task: Any, card: Scorecard | None
    ) -> Iterator[tuple[Any, Any]]:
        """``(kept, task(*args))`` for each ``(kept, args)`` of ``tasks``, in order, from a pool of workers.

        ``tasks`` is read lazily, a few ahead of the results: memory stays bounded.
        """
        ctx = multiprocessing.get_context(self.start_method)
        saved = {v: os.environ.get(v) for v in _THREAD_VARS}
        # One BLAS thread per worker: N workers on N cores, not N × cores threads.
        os.environ.update(dict.fromkeys(_THREAD_VARS, "1"))
        try:
            pool = ctx.Pool(
                self.jobs, initializer=_init_worker, initargs=(self.settings, self.batch_size, card)
            )
        finally:
            for var, value in saved.items():
                if value is None:
                    os.environ.pop(var, None)
                else:
                    os.environ[var] = value
        try:
            # Asked now, read at the end: the parent reads input while the workers load models.
            # A worker that could not build its rules fails the first chunk (or this) instead.
            described = pool.apply_async(_describe)
            pending: deque[tuple[Any, Any]] = deque()
            limit = self.jobs * _IN_FLIGHT_PER_JOB
            for kept, args in tasks:
                pending.append((kept, pool.apply_async(task, args)))
                if len(pending) >= limit:
                    kept, result = pending.popleft()
                    yield kept, result.get()
            while pending:
                kept, result = pending.popleft()
                yield kept, result.get()
            self._rules = described.get()
        finally:
            pool.terminate()
            pool.join()
