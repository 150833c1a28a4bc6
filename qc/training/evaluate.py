"""``qc evaluate`` as an importable function: score the inspection on annotated samples.

Three views, each per label with precision, recall, F1, support and a confusion matrix:

* ``verdict``: what the inspection decides for each message, built exactly as ``qc inspect``
  builds it (:func:`qc.run.inspector.build_inspector` with the default rules and the model under
  test). The most severe *live* attitude finding wins: a classifier finding, or a lexicon
  finding whose entry implies impatience or conflict. Needs-review and suppressed findings
  do not count, as they cost no points.
* ``classifier``: the classifier alone, thresholds applied with :func:`qc.training.train.decide`.
* ``forbidden``: live forbidden-phrase findings against the samples' ``forbidden`` lists
  (only samples that carry the key): per message (``forbidden``) and per phrase (``phrase``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qc.attitude.decision import ATTITUDE_KINDS, LABELS, decide, live_label
from qc.attitude.model_file import default_model_dir, load_cached
from qc.rules import DEFAULT_RULES, RuleSettings
from qc.run.inspector import build_inspector
from qc.schema import Conversation, Finding, Message, Role
from qc.training.samples import Sample

CLASSIFIER_RULE = "attitude_classifier.v1"
FORBIDDEN_RULE_PREFIX = "forbidden_phrase."
SAMPLE_AGENT = "sample-agent"


@dataclass(slots=True)
class Evaluation:
    """Scores of one evaluation run, plus the misjudged samples."""

    n: int
    model: dict[str, Any]
    rules: list[str]
    verdict: dict[str, Any]
    classifier: dict[str, Any]
    forbidden: dict[str, Any]
    errors: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """``verdict``/``classifier``/``forbidden`` map label → P/R/F1/support; matrices apart."""
        views = {"verdict": self.verdict, "classifier": self.classifier, "forbidden": self.forbidden}
        return {
            **{name: {k: v for k, v in view.items() if k != "confusion"} for name, view in views.items()},
            "confusion": {name: view.get("confusion") for name, view in views.items()},
            "n": self.n,
            "model": self.model,
            "rules": self.rules,
        }


def sample_conversation(sample: Sample) -> Conversation:
    """The sample as a one-agent conversation: its context turns, then the labelled message last."""
    messages = [
        Message(i, Role(role), text, sender=SAMPLE_AGENT if role == "agent" else None)
        for i, (role, text) in enumerate(sample.context)
    ]
    messages.append(Message(len(messages), Role.AGENT, sample.text, sender=SAMPLE_AGENT))
    return Conversation(id=sample.id, messages=tuple(messages), source=sample.source)


def finding_label(finding: Finding) -> str | None:
    """The attitude label a live finding stands for, or None (not live, or not about attitude)."""
    if not finding.live:
        return None
    if finding.kind in ATTITUDE_KINDS:
        return finding.kind
    implied = finding.evidence.details.get("implies")
    return implied if implied in ATTITUDE_KINDS else None


def message_verdict(findings: Sequence[Finding], message_index: int) -> str:
    """The verdict for one message: the most severe live attitude finding, else ``ok``."""
    found = {finding_label(f) for f in findings if f.message_index == message_index}
    return next((kind for kind in ATTITUDE_KINDS if kind in found), "ok")


def other_rules_verdicts(samples: Sequence[Sample]) -> list[str]:
    """Per sample, the verdict of ``qc inspect``'s rules without the classifier (the lexicon's).

    Training uses it to choose thresholds for the combined verdict, not the classifier alone.
    """
    rules = tuple(r for r in evaluation_rules() if r != CLASSIFIER_RULE)
    if not rules:
        return ["ok"] * len(samples)
    inspector = build_inspector(RuleSettings(rules=rules))
    return [
        message_verdict(inspector.inspect_one(sample_conversation(s)).findings, len(s.context))
        for s in samples
    ]


def evaluation_rules(rules: Sequence[str] | None = None) -> tuple[str, ...]:
    """The rule set of the verdict: ``qc inspect``'s defaults, with the classifier rule ensured."""
    chosen = tuple(rules) if rules is not None else DEFAULT_RULES
    return chosen if CLASSIFIER_RULE in chosen else (*chosen, CLASSIFIER_RULE)


def evaluate(
    samples: Sequence[Sample], model_dir: Path | None = None, rules: Sequence[str] | None = None
) -> Evaluation:
    """Score the inspection verdict, the classifier alone and the forbidden-phrase findings.

    Args:
        samples: annotated samples; pass only the evaluation split to measure generalisation.
        model_dir: the model under test (the bundled one when None).
        rules: the inspection's rule names (``qc inspect``'s defaults when None).
    """
    model_dir = (Path(model_dir) if model_dir is not None else default_model_dir()).resolve()
    rule_names = evaluation_rules(rules)
    inspector = build_inspector(RuleSettings(rules=rule_names, model=model_dir))
    artifact = load_cached(model_dir)

    truth = [s.label for s in samples]
    results = inspector.inspect([sample_conversation(s) for s in samples])
    verdicts = [message_verdict(r.findings, len(s.context)) for s, r in zip(samples, results, strict=True)]

    proba = artifact.pipeline.predict_proba([s.input for s in samples]) if samples else []
    decided = [decide(row, artifact.labels, artifact.thresholds, artifact.review_floor) for row in proba]
    alone = [live_label(d) for d in decided]

    forbidden: dict[str, Any] = {}
    forbidden_errors: list[dict[str, Any]] = []
    if any(name.startswith(FORBIDDEN_RULE_PREFIX) for name in rule_names):
        forbidden, forbidden_errors = _forbidden_scores(samples, results)
    errors = [
        {
            "id": s.id,
            "source": s.source,
            "label": s.label,
            "verdict": v,
            "classifier": c,
            "probability": round(d[1], 4),
            "text": s.text,
            "findings": [
                f"{f.rule}:{f.kind}{'' if f.live else ' (not live)'}"
                for f in r.findings
                if f.message_index == len(s.context)
            ],
        }
        for s, v, c, d, r in zip(samples, verdicts, alone, decided, results, strict=True)
        if v != s.label
    ]
    return Evaluation(
        n=len(samples),
        model={"path": str(model_dir), "version": artifact.version, "thresholds": artifact.thresholds},
        rules=list(rule_names),
        verdict=label_metrics(truth, verdicts, LABELS),
        classifier=label_metrics(truth, alone, LABELS),
        forbidden=forbidden,
        errors=errors + forbidden_errors,
    )


def _forbidden_scores(
    samples: Sequence[Sample], results: Sequence[Any]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Per-message and per-phrase scores of live forbidden-phrase hits on samples with a list."""
    truth, predicted, errors = [], [], []
    tp = fp = fn = 0
    for s, r in zip(samples, results, strict=True):
        if s.forbidden is None:
            continue
        hits = [
            f.text
            for f in r.findings
            if f.message_index == len(s.context) and f.rule.startswith(FORBIDDEN_RULE_PREFIX) and f.live
        ]
        truth.append("forbidden" if s.forbidden else "clean")
        predicted.append("forbidden" if hits else "clean")
        matched = [p for p in s.forbidden if any(_same_phrase(p, h) for h in hits)]
        extra = [h for h in hits if not any(_same_phrase(p, h) for p in s.forbidden)]
        tp, fn, fp = tp + len(matched), fn + len(s.forbidden) - len(matched), fp + len(extra)
        if extra or len(matched) < len(s.forbidden):
            errors.append(
                {"id": s.id, "source": s.source, "forbidden": list(s.forbidden), "hits": hits, "text": s.text}
            )
    if not truth:
        return {}, []
    scores = label_metrics(truth, predicted, ("forbidden", "clean"))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    scores["phrase"] = {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "support": tp + fn,
    }
    return scores, errors


def _same_phrase(listed: str, hit: str) -> bool:
    return bool(hit) and (listed == hit or listed in hit or hit in listed)


def label_metrics(truth: Sequence[str], predicted: Sequence[str], labels: Sequence[str]) -> dict[str, Any]:
    """Per-label precision, recall, F1 and support, plus the confusion matrix (rows = truth)."""
    out: dict[str, Any] = {}
    for label in labels:
        tp = sum(t == label and p == label for t, p in zip(truth, predicted, strict=True))
        fp = sum(t != label and p == label for t, p in zip(truth, predicted, strict=True))
        fn = sum(t == label and p != label for t, p in zip(truth, predicted, strict=True))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        out[label] = {
            "precision": round(precision, 4),
            "recall": round(recall, 4),
            "f1": round(f1, 4),
            "support": tp + fn,
        }
    matrix = [
        [sum(t == a and p == b for t, p in zip(truth, predicted, strict=True)) for b in labels]
        for a in labels
    ]
    out["confusion"] = {"labels": list(labels), "matrix": matrix}
    return out
