"""Executors: where an :class:`~qc.run.inspector.Inspector` runs, never what it finds.

An executor takes batches of conversations and a *task* (a picklable function of the
batch's results, such as "the findings" or "the output lines and score counters") and
yields the task's answer for each batch, in input order. :class:`LocalExecutor` runs in
this process; :class:`qc.run.pool.PoolExecutor` runs on worker processes and can also read
JSON Lines chunks in the workers; Spark wraps the same inspector per partition
(:mod:`qc.run.spark`), where the data already is, so it takes no batches from this
process. The way spaCy's ``Language.pipe(n_process=)`` and Presidio's
``BatchAnalyzerEngine`` wrap one engine is the model: one contract, many executors, the
same results from each.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from types import TracebackType
from typing import Protocol, TypeVar

from qc.readers.line_chunks import LineSplit, read_chunk
from qc.run.inspector import ConversationResult, Inspector, InspectorInfo, chunked
from qc.schema import Conversation, Finding

__all__ = ["Executor", "LocalExecutor", "Task", "findings_of"]

R = TypeVar("R")
# What a worker does with the results of one batch before sending an answer back.
Task = Callable[[list[ConversationResult]], R]


def findings_of(results: list[ConversationResult]) -> list[tuple[Finding, ...]]:
    """The task "just the findings": the parent keeps the conversations, so only findings travel."""
    return [r.findings for r in results]


class Executor(Protocol):
    """Runs an inspector over batches; every executor gives the same answers in the same order."""

    batch_size: int
    # Whether map_lines can read JSON Lines chunks in the workers (else callers read and call map).
    reads_lines: bool

    def describe(self) -> InspectorInfo:
        """The inspector's rules and component versions."""
        ...

    def map(
        self, conversations: Iterable[Conversation], task: Callable[[list[ConversationResult]], R]
    ) -> Iterator[tuple[list[Conversation], R]]:
        """``(batch, task(inspect(batch)))`` for batches of ``batch_size`` conversations, in order, lazily."""
        ...

    def map_lines(self, split: LineSplit, task: Callable[[list[ConversationResult]], R]) -> Iterator[R]:
        """``task(inspect(chunk))`` for each chunk of ``split`` read where the inspection runs.

        What reading each chunk gave is added to ``split`` (call ``split.finish`` afterwards).
        """
        ...

    def close(self) -> None:
        """Release workers or sessions; the executor is not used afterwards."""
        ...


class LocalExecutor:
    """Runs the inspector in this process, one batch at a time."""

    reads_lines = False  # it could; the stream reader is as fast in one process

    def __init__(self, inspector: Inspector, batch_size: int = 256) -> None:
        self.inspector = inspector
        # Conversations per inspect call; results never depend on it.
        self.batch_size = max(1, batch_size)

    def describe(self) -> InspectorInfo:
        """The inspector's own description."""
        return self.inspector.describe()

    def map(
        self, conversations: Iterable[Conversation], task: Callable[[list[ConversationResult]], R]
    ) -> Iterator[tuple[list[Conversation], R]]:
        """Inspect lazily, ``batch_size`` conversations at a time, answers in input order."""
        for batch in chunked(conversations, self.batch_size):
            yield batch, task(self.inspector.inspect(batch))

    def map_lines(self, split: LineSplit, task: Callable[[list[ConversationResult]], R]) -> Iterator[R]:
        """Read each chunk of ``split`` here, then as :meth:`map`."""
        for chunk in split.chunks(self.batch_size):
            conversations, read = read_chunk(chunk, split.names, split.resolved)
            split.add(read)
            yield task(self.inspector.inspect(conversations))

    def inspect(self, conversations: Sequence[Conversation]) -> list[ConversationResult]:
        """One batch, results with features (for callers that want everything in memory)."""
        return self.inspector.inspect(conversations)

    def close(self) -> None:
        """Nothing to release."""

    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
