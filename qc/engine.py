"""The inspection engine: annotate a conversation, run every rule, collect findings.

No I/O of its own: readers feed it conversations, writers take its results.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

from qc.rules import Rule
from qc.schema import Conversation, Finding, MessageFeatures

T = TypeVar("T")
Annotator = Callable[[Conversation], Sequence[MessageFeatures]]


def no_features(conversation: Conversation) -> list[MessageFeatures]:
    """Annotator that computes nothing; for rule sets that need no tokens."""
    return [MessageFeatures() for _ in conversation.messages]


@dataclass(frozen=True, slots=True)
class ConversationResult:
    """A conversation with what the annotators computed and what the rules found."""

    conversation: Conversation
    features: tuple[MessageFeatures, ...]
    findings: tuple[Finding, ...]


class Inspector:
    """Runs one annotator and a fixed rule set over conversations."""

    # inspect_all takes any iterable, one pass: run_inspection may stream the input to it.
    streams_input = True

    def __init__(
        self, rules: Sequence[Rule] = (), annotator: Annotator = no_features, batch_size: int = 256
    ) -> None:
        self.rules = tuple(rules)
        self.annotator = annotator
        # Conversations per inspect_batch call in inspect_all; results never depend on it.
        self.batch_size = max(1, batch_size)

    @property
    def rule_names(self) -> tuple[str, ...]:
        """Versioned names of the rules this inspector runs."""
        return tuple(r.name for r in self.rules)

    def inspect(self, conversation: Conversation) -> ConversationResult:
        """Annotate one conversation and return every rule's findings, in message order."""
        features = tuple(self.annotator(conversation))
        findings: list[Finding] = []
        for rule in self.rules:
            findings.extend(rule.check(conversation, features))
        findings.sort(key=lambda f: (f.message_index, f.start if f.start is not None else -1, f.kind))
        return ConversationResult(conversation, features, tuple(findings))

    def inspect_batch(self, conversations: Sequence[Conversation]) -> list[ConversationResult]:
        """Inspect many conversations at once; the same results as :meth:`inspect` on each.

        A rule with a ``check_batch(items)`` method (items: ``(conversation, features)``
        pairs; returns one findings list per item) gets the whole batch in one call, so a
        model is called once per batch instead of once per conversation.
        """
        items = [(c, tuple(self.annotator(c))) for c in conversations]
        found: list[list[Finding]] = [[] for _ in items]
        for rule in self.rules:
            batch = getattr(rule, "check_batch", None)
            if batch is not None:
                for acc, more in zip(found, batch(items), strict=True):
                    acc.extend(more)
            else:
                for acc, (c, features) in zip(found, items, strict=True):
                    acc.extend(rule.check(c, features))
        results = []
        for (c, features), findings in zip(items, found, strict=True):
            findings.sort(key=lambda f: (f.message_index, f.start if f.start is not None else -1, f.kind))
            results.append(ConversationResult(c, features, tuple(findings)))
        return results

    def inspect_all(self, conversations: Iterable[Conversation]) -> Iterable[ConversationResult]:
        """Inspect conversations lazily, :attr:`batch_size` at a time, results in input order."""
        for batch in chunked(conversations, self.batch_size):
            yield from self.inspect_batch(batch)


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """``items`` in lists of ``size`` (the last may be shorter), read lazily: streams stay streams."""
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# Allocations between young-generation collections in a long inspection. The default (700)
# makes the collector run every few messages; inspection makes few reference cycles, so a
# larger step changes no result and frees the same memory a little later.
_GC_YOUNG = 50_000


def settle_heap() -> None:
    """Tune the garbage collector for a long inspection in this process, once its models are loaded.

    Moves everything alive now (models, vocabularies, dictionaries: millions of objects that
    live as long as the process) out of the collector's sight with ``gc.freeze``, and collects
    young objects less often. The cyclic collector otherwise scanned those objects again and
    again: about 6 µs of every message's 75 (``bench/stages.py``), for nothing. Call it only
    in a process that inspects (a worker, the ``qc inspect`` command), never from a library
    function another program calls.
    """
    import gc

    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(_GC_YOUNG, middle, old)
