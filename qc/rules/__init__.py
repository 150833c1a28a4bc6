"""Rules turn an annotated conversation into findings.

A rule is an object with a versioned ``name`` (``forbidden_phrase.v1``), a ``check_batch``
method that returns the findings of many conversations at once, and ``describe()`` for the
versions a run records. Rules are built by registered factories, so a configured rule set is
a list of names. A published name never changes behaviour: a new behaviour gets ``.v2``.

This package holds the registry; the run layer (:mod:`qc.run.inspector`) imports the built-in
rule modules, so their factories are registered before any rule is built by name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from qc.schema import Conversation, Finding, MessageFeatures

__all__ = [
    "DEFAULT_RULES",
    "BaseRule",
    "Item",
    "Rule",
    "RuleSettings",
    "register_rule",
    "registered_rule_names",
    "rule_factory",
]

# Rules run by `qc inspect` unless settings say otherwise, in this order.
DEFAULT_RULES: tuple[str, ...] = ("forbidden_phrase.v1", "transfer_handover.v1", "attitude_classifier.v1")

# (conversation, annotator features of its messages): what a rule judges.
Item = tuple[Conversation, Sequence[MessageFeatures]]


class Rule(Protocol):
    """What an inspector calls: findings for a batch of annotated conversations."""

    name: str
    # Whether the rule reads the annotator's tokens and sentiment (else the annotator may be skipped).
    needs_features: bool

    def check(self, conversation: Conversation, features: Sequence[MessageFeatures]) -> Iterable[Finding]:
        """The findings of one conversation; ``features[i]`` belongs to message i."""
        ...

    def check_batch(self, items: Sequence[Item]) -> list[list[Finding]]:
        """One findings list per item, the same as :meth:`check` on each (a model runs once per batch)."""
        ...

    def describe(self) -> dict[str, Any]:
        """Versions this rule's findings depend on (lexicon, model), for run.json and the store."""
        ...


class BaseRule:
    """Defaults for the optional parts of :class:`Rule`: a rule that judges one conversation at a time.

    A subclass sets ``name`` and implements ``check``; ``check_batch`` runs it on each item
    and ``describe`` reports no component versions.
    """

    name: str = ""
    needs_features: bool = False

    def check(self, conversation: Conversation, features: Sequence[MessageFeatures]) -> Iterable[Finding]:
        """The findings of one conversation (subclasses implement this)."""
        raise NotImplementedError

    def check_batch(self, items: Sequence[Item]) -> list[list[Finding]]:
        """:meth:`check` of each item, in order."""
        return [list(self.check(conversation, features)) for conversation, features in items]

    def describe(self) -> dict[str, Any]:
        """No lexicon or model behind this rule."""
        return {}


@dataclass(frozen=True, slots=True)
class RuleSettings:
    """Which rules an inspection runs and the files and switches their factories read.

    Paths ``None`` mean the bundled default. Picklable, so worker processes and Spark
    executors build the same rules from it.
    """

    rules: tuple[str, ...] = DEFAULT_RULES
    lexicon: Path | None = None
    model: Path | None = None
    user_dict: Path | None = None
    strict: bool = False
    annotate: bool = False
    extra: dict[str, object] = field(default_factory=dict)


F = TypeVar("F", bound=Callable[..., Any])

_FACTORIES: dict[str, Callable[..., Any]] = {}


def register_rule(name: str) -> Callable[[F], F]:
    """Register a rule factory (``settings -> rule``) under a versioned name (``forbidden_phrase.v1``)."""
    if "." not in name or not name.rsplit(".", 1)[1].startswith("v"):
        raise ValueError(f"rule names carry a version suffix, e.g. 'forbidden_phrase.v1': {name!r}")

    def decorate(factory: F) -> F:
        if name in _FACTORIES:
            raise ValueError(f"rule {name!r} is already registered")
        _FACTORIES[name] = factory
        return factory

    return decorate


def registered_rule_names() -> tuple[str, ...]:
    """Names of every rule factory registered so far, sorted."""
    return tuple(sorted(_FACTORIES))


def rule_factory(name: str) -> Callable[..., Any]:
    """The factory registered under ``name``.

    Raises:
        KeyError: no rule of that name is registered (the message lists those that are).
    """
    try:
        return _FACTORIES[name]
    except KeyError:
        known = ", ".join(sorted(_FACTORIES)) or "none"
        raise KeyError(f"unknown rule {name!r}; registered: {known}") from None
