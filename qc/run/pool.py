"""``qc inspect --jobs N``: the same inspection on N worker processes.

Each worker builds the inspector ONCE (models, lexicon, tokenizer) in its pool initializer,
from picklable :class:`~qc.rules.RuleSettings`, so it works with the ``spawn`` and
``forkserver`` start methods as well as ``fork``. The parent cuts the conversation stream
into batches (or, for JSON Lines, the file into chunks of whole conversations that the
workers read themselves), keeps at most a few batches in flight (memory stays bounded
however long the input), and gets each batch's answer back in input order, so the output
is byte for byte that of one process.

The pool starts when the executor is made: ``qc inspect --jobs`` makes it first, so the
workers load their models while the parent checks its settings and opens the input.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import timezone
from types import TracebackType
from typing import Any, TypeVar

from qc.compiled import PINNED_ENV, pin_value, pinned_build_gone
from qc.errors import WorkerLost
from qc.readers.files import Resolved
from qc.readers.line_chunks import ChunkRead, LineChunk, LineSplit, read_chunk
from qc.rules import RuleSettings
from qc.run.inspector import (
    ConversationResult,
    Inspector,
    InspectorInfo,
    build_inspector,
    chunked,
    settle_heap,
)
from qc.schema import Conversation, Message

__all__ = [
    "CHUNK_GROWTH",
    "PoolExecutor",
    "default_start_method",
    "pack_conversations",
    "unpack_conversations",
]

R = TypeVar("R")
# Batches queued per worker: enough to keep every worker busy while the parent reads,
# few enough that memory does not grow with the input.
_IN_FLIGHT_PER_JOB = 3
# Line chunks grow to this many times the batch size on a long input: each chunk costs the
# pool a pickle, a trip through the pipes and process switches (on a real-text day of a
# million messages, --jobs 2, about 3 s of CPU less with chunks of 1,024 conversations than
# of 256), while the first, small chunks keep a short input shared among the workers.
CHUNK_GROWTH = 4
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
# How often a wait for a worker's answer checks that the workers are alive, and how long stopping
# a pool a worker died in may take: a dead worker's tasks are never answered, and it may have
# died holding the task queue's lock, on which multiprocessing's Pool.terminate waits for ever.
_POLL_S = 0.5
_STOP_S = 5.0

_worker: Inspector | None = None
# Why this worker has no inspector (a bad model or lexicon): raised by every task, so the
# parent gets the error instead of a pool that restarts failing workers forever.
_init_error: BaseException | None = None


def default_start_method() -> str:
    """``forkserver`` where the platform has it (no inherited locks or threads), else ``spawn``."""
    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


def _init_worker(settings: RuleSettings) -> None:
    """Pool initializer: build this worker's inspector once (or keep why it failed)."""
    global _worker, _init_error
    # Ctrl-C reaches the whole process group: the parent stops the pool and says what happened;
    # a worker's own KeyboardInterrupt would only print a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        _worker = build_inspector(settings)
    except Exception as exc:  # noqa: BLE001 - re-raised in the parent by the first task
        _init_error = exc
        return
    settle_heap()


def _ready_worker() -> Inspector:
    if _init_error is not None:
        raise _init_error
    assert _worker is not None, "worker not initialised"
    return _worker


def _describe() -> InspectorInfo:
    """Worker side: the inspector's description (raises the worker's start-up error)."""
    return _ready_worker().describe()


def _run_batch(packed: tuple[list[Any], list[Any]], task: Callable[[list[ConversationResult]], R]) -> R:
    """Worker side: ``task`` of the inspected batch (only its answer travels back)."""
    return task(_ready_worker().inspect(unpack_conversations(packed)))


def _run_lines(
    chunk: LineChunk, names: list[str], resolved: Resolved, task: Callable[[list[ConversationResult]], R]
) -> tuple[R, ChunkRead]:
    """Worker side on JSON Lines: read the chunk here, then as :func:`_run_batch`."""
    conversations, read = read_chunk(chunk, names, resolved)
    return task(_ready_worker().inspect(conversations)), read


class PoolExecutor:
    """Runs the inspector on ``jobs`` worker processes; same answers, same order as one process."""

    reads_lines = True

    def __init__(
        self,
        settings: RuleSettings,
        jobs: int,
        batch_size: int = 256,
        start_method: str | None = None,
        preload: Sequence[str] = (),
    ) -> None:
        """Start ``jobs`` workers that build their inspector from ``settings``.

        ``preload`` names modules the ``forkserver`` imports before it forks the workers
        (``qc inspect`` passes :mod:`qc.batch.preload`), so each worker starts with them loaded.
        The forkserver is one per process: the first pool's ``preload`` is the one it gets.
        """
        if jobs < 1:
            raise ValueError("jobs must be at least 1")
        self.settings = settings
        self.jobs = jobs
        self.batch_size = max(1, batch_size)
        self.start_method = start_method or default_start_method()
        self._info: InspectorInfo | None = None
        self._pin = pin_value()  # the workers run the code this process runs, compiled or not
        ctx = multiprocessing.get_context(self.start_method)
        if preload and self.start_method == "forkserver":
            # The server imports these once; workers fork from it with them loaded.
            ctx.set_forkserver_preload(list(preload))
        # The pool starts on a thread: forking the workers waits for the forkserver to import
        # the preloaded modules (a few tenths of a second), which this process spends on its
        # own imports and checks meanwhile. Every use of the pool waits for it (_started).
        self._pool: Any = None
        self._workers: list[Any] = []  # the processes the pool started (it replaces a dead one)
        self._start_error: BaseException | None = None
        self._start_done = threading.Event()
        self._starter = threading.Thread(target=self._start, args=(ctx, settings), name="qc-pool-start")
        self._starter.start()

    def _start(self, ctx: Any, settings: RuleSettings) -> None:
        try:
            if hasattr(signal, "pthread_sigmask"):
                # Ctrl-C reaches the whole process group: this process stops the pool and says what
                # happened. The forkserver and the workers are started from this thread and inherit its
                # blocked SIGINT from their first instruction; one that took it while importing its
                # modules (the first half second) printed a KeyboardInterrupt traceback after qc's message.
                # multiprocessing's resource tracker starts first: starting it unblocks SIGINT after.
                from multiprocessing import resource_tracker

                resource_tracker.ensure_running()
                signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
            saved = {v: os.environ.get(v) for v in (*_THREAD_VARS, PINNED_ENV)}
            # One BLAS thread per worker: N workers on N cores, not N × cores threads.
            os.environ.update(dict.fromkeys(_THREAD_VARS, "1"))
            os.environ[PINNED_ENV] = self._pin  # for the forkserver and the workers only
            try:
                # Workers live for the whole run (no maxtasksperchild): their warm text caches
                # are most of a long day's speed. Replaced every 8 chunks on a real-text day of a
                # million messages (--jobs 2), the run took 50% longer (23 s → 34.6 s) and no
                # worker's memory peaked lower (171-180 MB against 176-181).
                self._pool = ctx.Pool(self.jobs, initializer=_init_worker, initargs=(settings,))
                self._workers = list(self._pool._pool)
            finally:
                for var, value in saved.items():
                    if value is None:
                        os.environ.pop(var, None)
                    else:
                        os.environ[var] = value
            # Asked now, read when needed: a worker that could not build its rules fails this.
            self._described = self._pool.apply_async(_describe)
        except BaseException as exc:  # noqa: BLE001 - raised in the caller's thread by _started
            # The worker server ends when the build this process chose went before it loaded it.
            gone = pinned_build_gone(self._pin) if isinstance(exc, Exception) else None
            self._start_error = exc if gone is None else gone
        finally:
            self._start_done.set()

    def _wait_start(self) -> None:
        """Wait until the starting thread has made the pool (or failed to).

        Not ``Thread.join``: a Ctrl-C that interrupts a join marks the thread stopped while it still
        runs (CPython 3.11), so the join in :meth:`close` returned at once, the run ended before the
        pool was made, and the workers it then started found its semaphores gone (a traceback each).
        """
        while not self._start_done.wait(_POLL_S):
            pass

    def _started(self) -> Any:
        """The pool, once started (raises what starting it raised)."""
        self._wait_start()
        if self._start_error is not None:
            raise self._start_error
        return self._pool

    def describe(self) -> InspectorInfo:
        """The workers' inspector description (waits for a worker to start; raises its start-up error)."""
        if self._info is None:
            self._started()
            self._info = self._answer(self._described)
        return self._info

    def map(
        self, conversations: Iterable[Conversation], task: Callable[[list[ConversationResult]], R]
    ) -> Iterator[tuple[list[Conversation], R]]:
        """``(batch, task(results))`` per batch, computed on the workers, in input order, lazily."""
        batches = chunked(conversations, self.batch_size)
        yield from self._run((batch, (pack_conversations(batch), task)) for batch in batches)

    def map_lines(self, split: LineSplit, task: Callable[[list[ConversationResult]], R]) -> Iterator[R]:
        """``task(results)`` per chunk of ``split``, read and inspected on the workers.

        The parent only cuts the lines into chunks of whole conversations
        (:class:`~qc.readers.line_chunks.LineSplit`) and adds up what reading them gave.
        """
        names, resolved = split.names, split.resolved
        chunks = split.chunks(self.batch_size, grow_to=CHUNK_GROWTH * self.batch_size)
        tasks = ((None, (chunk, names, resolved, task)) for chunk in chunks)
        for _, (answer, read) in self._run(tasks, _run_lines):
            split.add(read)
            yield answer

    def _run(
        self, tasks: Iterable[tuple[Any, tuple[Any, ...]]], fn: Any = _run_batch
    ) -> Iterator[tuple[Any, Any]]:
        """``(kept, fn(*args))`` for each ``(kept, args)`` of ``tasks``, in order; a few in flight."""
        pool = self._started()
        pending: deque[tuple[Any, Any]] = deque()
        limit = self.jobs * _IN_FLIGHT_PER_JOB
        for kept, args in tasks:
            pending.append((kept, pool.apply_async(fn, args)))
            if len(pending) >= limit:
                kept, result = pending.popleft()
                yield kept, self._answer(result)
        while pending:
            kept, result = pending.popleft()
            yield kept, self._answer(result)

    def _answer(self, result: Any) -> Any:
        """A task's answer; an error, not a wait for ever, once a worker has died."""
        while True:
            try:
                return result.get(_POLL_S)
            except multiprocessing.TimeoutError:
                self._check_workers()

    def _check_workers(self) -> None:
        """Raise when a worker died: the tasks it held will never be answered.

        A worker stopped by SIGTERM, SIGINT or SIGHUP was signalled with its process group, as a
        supervisor stops a job: the signal is given to this process too, so the run stops as if
        it had come here first (``qc inspect`` exits 143 with its message). Any other death (a
        SIGKILL from the out-of-memory killer, a crash) is :class:`~qc.errors.WorkerLost`.
        """
        for proc in self._workers:
            code = proc.exitcode
            if code is None:
                continue
            stopping = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
            if code < 0 and -code in stopping and callable(signal.getsignal(-code)):
                os.kill(os.getpid(), -code)  # its handler raises here, in the main thread
            how = f"killed by {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"
            raise WorkerLost(
                f"worker process {proc.pid} ended ({how}) with conversations in hand; nothing of"
                " this run was published. If memory ran out, run again with fewer --jobs"
            )
        # The pool's thread that reads the workers' answers ends on one it cannot unpickle, and
        # every later answer waited for ever (audit 150 H1).
        if self._reader_dead():
            raise WorkerLost(
                "the workers' answers could not be read back (the thread reading them ended); nothing"
                " of this run was published. Run it again"
            )

    def _reader_dead(self) -> bool:
        reader = getattr(self._pool, "_result_handler", None)
        return reader is not None and not reader.is_alive() and getattr(self._pool, "_state", "") == "RUN"

    def close(self) -> None:
        """Stop the workers; in a pool a worker died in, without waiting on its locks."""
        self._wait_start()
        if self._pool is None:
            return
        reader_dead = self._reader_dead()
        if reader_dead:
            # Pool.terminate refuses a pool with answers pending and no thread to read them.
            self._pool._cache.clear()
        # With no one reading the answers, a worker may hold the answer queue's lock on a full
        # pipe for ever: stopped like a pool a worker died in (audit 151 H2).
        if reader_dead or any(proc.exitcode is not None for proc in self._workers):
            for proc in self._workers:
                if proc.exitcode is None:
                    proc.kill()
            stopper = threading.Thread(target=self._pool.terminate, name="qc-pool-stop", daemon=True)
            stopper.start()
            stopper.join(_STOP_S)
            return
        self._pool.terminate()
        self._pool.join()

    def __enter__(self) -> PoolExecutor:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


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
