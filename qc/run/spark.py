"""The Spark executor: the one :class:`~qc.run.inspector.Inspector` run over Spark partitions.

Presidio's ``BatchAnalyzerEngine`` wraps its engine for batches; this module wraps the
inspector for Spark tasks in the same way, and nothing else: which rows a partition holds,
how conversations are built from them and what becomes of the results is the caller's
business (:mod:`qc.batch.spark`, :mod:`qc.batch.spark_day`).

* The rule settings travel to the executors once, as a broadcast variable.
* Each Python worker process builds the inspector the first time a task needs it and keeps
  it for every later task (building one loads the lexicon, jieba and the classifier:
  seconds), then takes its models out of the garbage collector's sight
  (:func:`~qc.run.inspector.settle_heap`), as ``--jobs`` workers do.
* :func:`inspect_items` inspects a partition's conversations in batches, so the classifier
  runs once per batch, and hands each result back with whatever the caller attached to its
  conversation.

PySpark is imported inside functions only: this module is importable without it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from qc.rules import RuleSettings
from qc.run.inspector import (
    ConversationResult,
    Inspector,
    InspectorInfo,
    build_inspector,
    chunked,
    settle_heap,
)
from qc.schema import Conversation

if TYPE_CHECKING:
    from pyspark import Broadcast, SparkContext

__all__ = ["describe_on_workers", "inspect_items", "worker_inspector"]

P = TypeVar("P")

# One inspector per settings per Python worker process (see the module docstring).
_INSPECTORS: dict[str, Inspector] = {}


def _settings(value: RuleSettings | Broadcast[RuleSettings]) -> RuleSettings:
    """The settings themselves, read from the broadcast variable on an executor."""
    return value if isinstance(value, RuleSettings) else value.value


def worker_inspector(settings: RuleSettings | Broadcast[RuleSettings]) -> Inspector:
    """The inspector for ``settings`` in this process, built on first use and kept for every later task.

    Why: Spark reuses its Python workers across tasks and jobs, and building the rules costs
    seconds; built once per process they cost that once per executor core.
    """
    settings = _settings(settings)
    key = repr(settings)
    inspector = _INSPECTORS.get(key)
    if inspector is None:
        inspector = _INSPECTORS[key] = build_inspector(settings)
        settle_heap()  # a Spark Python worker inspects until its executor goes away
    return inspector


def inspect_items(
    settings: RuleSettings | Broadcast[RuleSettings],
    items: Iterable[tuple[Conversation, P]],
    batch_size: int = 256,
) -> Iterator[tuple[ConversationResult, P]]:
    """Inspect the conversations of a partition, ``batch_size`` at a time, lazily and in order.

    ``items`` pairs each conversation with anything the caller needs back with its result
    (where it came from, how to order it); the pairs come back in the same order. Read
    lazily, so a partition never needs to fit in memory, only a batch.
    """
    inspector = worker_inspector(settings)
    for batch in chunked(items, max(1, batch_size)):
        results = inspector.inspect([conversation for conversation, _ in batch])
        for result, (_, payload) in zip(results, batch, strict=True):
            yield result, payload


def _describe(
    settings: RuleSettings | Broadcast[RuleSettings], _rows: Iterable[Any]
) -> Iterator[InspectorInfo]:
    """Executor side: the inspector's description (building it, so later tasks find it ready)."""
    yield worker_inspector(settings).describe()


def describe_on_workers(sc: SparkContext, settings: RuleSettings | Broadcast[RuleSettings]) -> InspectorInfo:
    """The rules, lexicon and model versions, as an executor builds them (one small task).

    Why on an executor: the driver then never loads a model (its memory stays small), and a
    setting the executors cannot build from fails here, before any input is read.
    """
    from functools import partial

    (info,) = sc.parallelize([0], 1).mapPartitions(partial(_describe, settings)).collect()
    return info
