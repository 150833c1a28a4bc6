"""The inspector: annotate conversations, run every rule, collect findings.

One contract for every way qc runs: :meth:`Inspector.inspect` takes a batch of conversations
and returns one :class:`ConversationResult` each, and :meth:`Inspector.describe` says which
rules, lexicon and model made them. Executors (:mod:`qc.run.executors`, :mod:`qc.run.pool`,
:mod:`qc.run.spark`) decide where the batches run; they never change a result. No I/O here:
readers feed conversations in, the batch layer writes the results out.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

# The built-in rule modules register their factories when imported.
import qc.attitude.rule  # noqa: F401 - registers attitude_classifier.v1
import qc.rules.forbidden_phrase  # noqa: F401 - registers forbidden_phrase.v1
import qc.rules.transfer  # noqa: F401 - registers transfer_handover.v1
from qc.readers.limits import load_limits
from qc.rules import Item, Rule, RuleSettings, registered_rule_names, rule_factory
from qc.schema import Conversation, Finding, MessageFeatures
from qc.text.annotate import make_annotator

__all__ = [
    "Annotator",
    "ConversationResult",
    "Inspector",
    "InspectorInfo",
    "build_inspector",
    "chunked",
    "make_rule",
    "no_features",
    "registered_rules",
    "settle_heap",
]

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

    def __reduce__(self) -> tuple[Any, ...]:
        # mypyc: a compiled frozen dataclass cannot be unpickled field by field
        return (type(self), (self.conversation, self.features, self.findings))


@dataclass(frozen=True, slots=True)
class InspectorInfo:
    """What an inspector runs: its rules and the lexicon and model versions its findings depend on.

    Plain data, so a worker process can describe its inspector to the parent, which then
    never loads a model just to write run.json.
    """

    rules: tuple[str, ...]
    lexicon_version: str | None = None
    lexicon_strict: bool | None = None
    model_version: str | None = None

    def versions(self) -> dict[str, Any]:
        """The component versions as run.json and the store record them."""
        return {
            "lexicon_version": self.lexicon_version,
            "lexicon_strict": self.lexicon_strict,
            "model_version": self.model_version,
        }

    def __reduce__(self) -> tuple[Any, ...]:
        # mypyc: a compiled frozen dataclass cannot be unpickled field by field
        return (type(self), (self.rules, self.lexicon_version, self.lexicon_strict, self.model_version))


def _by_position(finding: Finding) -> tuple[int, int, str]:
    return (finding.message_index, finding.start if finding.start is not None else -1, finding.kind)


def clipped(conversation: Conversation, max_chars: int | None) -> Conversation:
    """``conversation`` with every message longer than ``max_chars`` cut to its first ``max_chars``.

    What the rules see of an over-long message (the reader warned about it); the conversation
    itself, written to every output, stays whole. Findings on the first characters keep their
    offsets.
    """
    if max_chars is None or all(len(m.text) <= max_chars for m in conversation.messages):
        return conversation
    messages = tuple(
        replace(m, text=m.text[:max_chars]) if len(m.text) > max_chars else m for m in conversation.messages
    )
    return replace(conversation, messages=messages)


class Inspector:
    """Runs one annotator and a fixed rule set over batches of conversations.

    Messages longer than ``max_chars`` are judged on their first ``max_chars`` characters, so a
    hostile 1 MB message costs what a long reply does.
    """

    def __init__(
        self, rules: Sequence[Rule] = (), annotator: Annotator = no_features, max_chars: int | None = None
    ) -> None:
        self.rules = tuple(rules)
        self.annotator = annotator
        self.max_chars = max_chars

    def describe(self) -> InspectorInfo:
        """The rule names and the lexicon and model versions (the last rule naming one wins)."""
        found: dict[str, Any] = {}
        for rule in self.rules:
            found.update(rule.describe())
        return InspectorInfo(
            tuple(r.name for r in self.rules),
            found.get("lexicon_version"),
            found.get("lexicon_strict"),
            found.get("model_version"),
        )

    def inspect(self, conversations: Sequence[Conversation]) -> list[ConversationResult]:
        """Annotate and judge a batch; findings of each conversation in message order.

        Every rule gets the whole batch in one call, so a model runs once per batch; the
        results never depend on how conversations are batched.
        """
        judged = [clipped(c, self.max_chars) for c in conversations]
        items: list[Item] = [(c, tuple(self.annotator(c))) for c in judged]
        found: list[list[Finding]] = [[] for _ in items]
        for rule in self.rules:
            for acc, more in zip(found, rule.check_batch(items), strict=True):
                acc.extend(more)
        results = []
        for c, (_, features), findings in zip(conversations, items, found, strict=True):
            findings.sort(key=_by_position)
            results.append(ConversationResult(c, tuple(features), tuple(findings)))
        return results

    def inspect_one(self, conversation: Conversation) -> ConversationResult:
        """One conversation: :meth:`inspect` of a batch of one."""
        return self.inspect([conversation])[0]


def make_rule(name: str, settings: RuleSettings | None = None) -> Rule:
    """Build the built-in or registered rule ``name`` from ``settings`` (the defaults when ``None``)."""
    rule: Rule = rule_factory(name)(settings or RuleSettings())
    return rule


def registered_rules() -> tuple[str, ...]:
    """Names of every rule that can be built (the built-in ones and any registered since)."""
    return registered_rule_names()


def build_inspector(settings: RuleSettings | None = None) -> Inspector:
    """The inspector for these settings: each named rule, plus the annotator if any rule needs it."""
    settings = settings or RuleSettings()
    rules = [make_rule(name, settings) for name in settings.rules]
    annotator: Annotator = no_features
    if settings.annotate or any(r.needs_features for r in rules):
        annotator = make_annotator(settings.user_dict)
    return Inspector(rules, annotator, load_limits().max_message_chars)


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
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(_GC_YOUNG, middle, old)
