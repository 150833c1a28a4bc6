"""Rules turn an annotated conversation into findings.

A rule is any object with a versioned ``name`` (``forbidden_phrase.v1``) and a
``check(conversation, features)`` method returning findings. Rules are built by
registered factories, so the configured rule set is a list of names. A
published name never changes behaviour: a new behaviour gets ``.v2``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Protocol, TypeVar

from qc.schema import Conversation, Finding, MessageFeatures

F = TypeVar("F", bound=Callable[..., "Rule"])

_FACTORIES: dict[str, Callable[..., Rule]] = {}


class Rule(Protocol):
    """What the inspection engine calls for every conversation."""

    name: str

    def check(self, conversation: Conversation, features: Sequence[MessageFeatures]) -> Iterable[Finding]:
        """Return the findings for one conversation; ``features[i]`` belongs to message i."""
        ...


def register_rule(name: str) -> Callable[[F], F]:
    """Register a rule factory under a versioned name such as ``forbidden_phrase.v1``."""
    if "." not in name or not name.rsplit(".", 1)[1].startswith("v"):
        raise ValueError(f"rule names carry a version suffix, e.g. 'forbidden_phrase.v1': {name!r}")

    def decorate(factory: F) -> F:
        if name in _FACTORIES:
            raise ValueError(f"rule {name!r} is already registered")
        _FACTORIES[name] = factory
        return factory

    return decorate


def registered_rules() -> tuple[str, ...]:
    """Names of every registered rule factory, sorted."""
    _load_builtin_rules()
    return tuple(sorted(_FACTORIES))


def make_rule(name: str, **settings: object) -> Rule:
    """Build the rule registered under ``name`` with its settings."""
    _load_builtin_rules()
    try:
        factory = _FACTORIES[name]
    except KeyError:
        known = ", ".join(sorted(_FACTORIES)) or "none"
        raise KeyError(f"unknown rule {name!r}; registered: {known}") from None
    return factory(**settings)


def _load_builtin_rules() -> None:
    """Import the built-in rule modules so their factories register (idempotent)."""
    import importlib
    import pkgutil

    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")
