"""The inspection engine: annotate a conversation, run every rule, collect findings.

No I/O of its own: readers feed it conversations, writers take its results.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from qc.rules import Rule
from qc.schema import Conversation, Finding, MessageFeatures

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

    def __init__(self, rules: Sequence[Rule] = (), annotator: Annotator = no_features) -> None:
        self.rules = tuple(rules)
        self.annotator = annotator

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

    def inspect_all(self, conversations: Iterable[Conversation]) -> Iterable[ConversationResult]:
        """Inspect conversations one by one, lazily."""
        for conversation in conversations:
            yield self.inspect(conversation)
