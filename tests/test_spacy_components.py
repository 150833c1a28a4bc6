"""qc's rules as spaCy components give what qc's own path gives, on the annotated samples."""

from __future__ import annotations

from pathlib import Path

import pytest

spacy = pytest.importorskip("spacy")

from qc.attitude.decision import decide  # noqa: E402
from qc.rules import RuleSettings  # noqa: E402
from qc.rules.forbidden_phrase import check_text  # noqa: E402
from qc.run.inspector import build_inspector, make_rule  # noqa: E402
from qc.training.evaluate import sample_conversation  # noqa: E402
from qc.training.samples import load_samples  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[1] / "annotated_samples" / "handwritten.jsonl"


@pytest.fixture(scope="module")
def nlp():
    import qc.integrations.spacy_components  # noqa: F401 - registers the factories without the entry point

    pipeline = spacy.blank("zh")
    pipeline.add_pipe("qc_forbidden_phrases")
    pipeline.add_pipe("qc_attitude")
    return pipeline


def _doc(nlp, text: str, context: list) -> object:
    doc = nlp.make_doc(text)
    doc._.qc_context = context
    return nlp(doc)


def _samples(n: int = 300) -> list:
    samples = load_samples(SAMPLES)
    # Every sample with a lexicon phrase, then a spread of the others.
    flagged = [s for s in samples if s.forbidden]
    return flagged[:n] + samples[:: max(1, len(samples) // n)][:n]


def test_forbidden_spans_equal_the_rules_findings(nlp) -> None:
    rule = make_rule("forbidden_phrase.v1", RuleSettings())
    checked = hits = 0
    for s in _samples():
        context = [(role, text) for role, text in s.context]
        doc = _doc(nlp, s.text, context)
        findings = check_text(rule, s.text, context)
        want_live = [(f.start, f.end, f.entry) for f in findings if not f.suppressed and f.start is not None]
        want_off = [(f.start, f.end, f.entry) for f in findings if f.suppressed and f.start is not None]
        got_live = [(sp.start_char, sp.end_char, sp.label_) for sp in doc.spans["qc_forbidden"]]
        assert got_live == want_live, s.id
        got_off = [(sp.start_char, sp.end_char, sp.label_) for sp in doc.spans["qc_forbidden_suppressed"]]
        assert got_off == want_off, s.id
        checked += 1
        hits += len(want_live)
    assert checked > 300 and hits > 100


def test_attitude_cats_and_decision_equal_the_inspection(nlp) -> None:
    inspector = build_inspector(RuleSettings(rules=("attitude_classifier.v1",)))
    (rule,) = inspector.rules
    labels, thresholds, floors = rule.decision_settings
    seen = set()
    for s in _samples(150):
        doc = _doc(nlp, s.text, [(role, text) for role, text in s.context])
        assert set(doc.cats) == set(labels) and abs(sum(doc.cats.values()) - 1) < 1e-9
        label, probability, review = doc._.qc_attitude
        row = [doc.cats[x] for x in labels]
        assert (label, probability, review) == decide(row, labels, thresholds, floors)
        conversation = sample_conversation(s)
        found = [f for f in inspector.inspect_one(conversation).findings if f.message_index == len(s.context)]
        if label == "ok":
            assert found == [], s.id
        else:
            assert [(f.kind, f.needs_review) for f in found] == [(label, review)], s.id
            assert found[0].score == round(probability, 4)
        seen.add(label)
    assert {"ok", "impatience", "conflict"} <= seen


def test_the_entry_point_registers_the_factories() -> None:
    from importlib.metadata import entry_points

    names = {e.name: e.value for e in entry_points(group="spacy_factories")}
    assert names.get("qc_forbidden_phrases") == "qc.integrations.spacy_components:make_forbidden_phrases"
    assert names.get("qc_attitude") == "qc.integrations.spacy_components:make_attitude"
