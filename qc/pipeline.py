"""Which rules and annotators an inspection runs, built from settings.

Later capabilities plug in here by registering a rule (``qc.rules``) and
naming it in :data:`DEFAULT_RULES`; the CLI and the engine stay unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from qc.engine import Inspector, no_features
from qc.rules import make_rule

# Rules run by `qc inspect` unless --rules says otherwise, in this order.
DEFAULT_RULES: tuple[str, ...] = ("forbidden_phrase.v1", "attitude_classifier.v1")


@dataclass(frozen=True, slots=True)
class PipelineSettings:
    """Everything rule factories may need; paths ``None`` mean the bundled default."""

    rules: tuple[str, ...] = DEFAULT_RULES
    lexicon: Path | None = None
    model: Path | None = None
    scorecard: Path | None = None
    user_dict: Path | None = None
    strict: bool = False
    annotate: bool = False
    extra: dict[str, object] = field(default_factory=dict)


def build_inspector(settings: PipelineSettings) -> Inspector:
    """Build the inspector for these settings: each named rule, plus annotators if any rule needs them."""
    rules = [make_rule(name, settings=settings) for name in settings.rules]
    annotator = no_features
    if settings.annotate or any(getattr(r, "needs_features", False) for r in rules):
        from qc.annotate import make_annotator

        annotator = make_annotator(settings)
    return Inspector(rules, annotator)
