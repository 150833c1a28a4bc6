"""qc's rules as spaCy pipeline components, for teams that already run spaCy.

    import spacy
    nlp = spacy.blank("zh")
    nlp.add_pipe("qc_forbidden_phrases")          # lexicon + context rules → doc.spans
    nlp.add_pipe("qc_attitude")                   # attitude model → doc.cats
    doc = nlp.make_doc("哦")
    doc._.qc_context = ["能今天发货吗"]            # the buyer turns before the reply (or (role, text) pairs)
    doc = nlp(doc)
    doc.spans["qc_forbidden"], doc.cats

The factories are registered through the ``spacy_factories`` entry point of the qc package,
so ``nlp.add_pipe`` finds them without importing qc first. Each component wraps the very rule
``qc inspect`` runs (tests check they agree): live findings go to ``doc.spans[spans_key]``,
vetoed ones to ``doc.spans[spans_key + "_suppressed"]``, each span labelled with its lexicon
entry; the attitude model's class probabilities go to ``doc.cats`` and its decision to
``doc._.qc_attitude`` (label, probability, needs_review). spaCy is not on qc's own hot path:
``qc inspect`` segments with jieba/rjieba directly and never builds a spaCy ``Doc``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc, Span

from qc.attitude.decision import decide
from qc.attitude.rule import AttitudeClassifierRule, context_of
from qc.rules import RuleSettings
from qc.rules.forbidden_phrase import ContextItem, ForbiddenPhraseRule, check_text, conversation_for
from qc.run.inspector import make_rule

__all__ = ["AttitudeComponent", "ForbiddenPhrasesComponent", "make_attitude", "make_forbidden_phrases"]

for _name, _default in (("qc_context", None), ("qc_attitude", None)):
    if not Doc.has_extension(_name):
        Doc.set_extension(_name, default=_default)


def _context(doc: Doc) -> Sequence[ContextItem]:
    return tuple(doc._.qc_context or ())


class ForbiddenPhrasesComponent:
    """``forbidden_phrase.v1`` on a doc holding one agent reply; its context from ``doc._.qc_context``."""

    def __init__(self, rule: ForbiddenPhraseRule, spans_key: str) -> None:
        self.rule = rule
        self.spans_key = spans_key

    def __call__(self, doc: Doc) -> Doc:
        """Add the reply's live and suppressed lexicon hits as labelled spans."""
        live: list[Span] = []
        suppressed: list[Span] = []
        for finding in check_text(self.rule, doc.text, _context(doc)):
            if finding.start is None or finding.end is None:
                continue
            label = finding.entry or ""
            span = doc.char_span(finding.start, finding.end, label=label, alignment_mode="expand")
            if span is not None:
                (suppressed if finding.suppressed else live).append(span)
        doc.spans[self.spans_key] = live
        doc.spans[self.spans_key + "_suppressed"] = suppressed
        return doc


class AttitudeComponent:
    """The attitude model on a doc holding one agent reply: probabilities in ``doc.cats``."""

    def __init__(self, rule: AttitudeClassifierRule) -> None:
        self.rule = rule

    def __call__(self, doc: Doc) -> Doc:
        """Set ``doc.cats`` (one probability per label) and ``doc._.qc_attitude`` (the decision)."""
        conversation = conversation_for(doc.text, _context(doc))
        index = len(conversation.messages) - 1
        row = self.rule.probabilities([(doc.text, context_of(conversation.messages, index))])[0]
        labels, thresholds, floors = self.rule.decision_settings
        doc.cats = {label: float(p) for label, p in zip(labels, row, strict=True)}
        doc._.qc_attitude = decide(row.tolist(), labels, thresholds, floors)
        return doc


@Language.factory(
    "qc_forbidden_phrases",
    default_config={"lexicon": None, "strict": False, "spans_key": "qc_forbidden"},
)
def make_forbidden_phrases(
    nlp: Language, name: str, lexicon: str | None, strict: bool, spans_key: str
) -> ForbiddenPhrasesComponent:
    """Build the forbidden-phrase component (``lexicon``: a lexicon file, default the bundled one)."""
    settings = RuleSettings(lexicon=Path(lexicon) if lexicon else None, strict=strict)
    rule: Any = make_rule("forbidden_phrase.v1", settings)
    return ForbiddenPhrasesComponent(rule, spans_key)


@Language.factory("qc_attitude", default_config={"model": None})
def make_attitude(nlp: Language, name: str, model: str | None) -> AttitudeComponent:
    """Build the attitude component (``model``: a model folder from ``qc train``, default the bundled one)."""
    rule: Any = make_rule("attitude_classifier.v1", RuleSettings(model=Path(model) if model else None))
    return AttitudeComponent(rule)
