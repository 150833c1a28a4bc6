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

import numpy as np
import numpy.typing as npt

from qc.attitude.decision import ATTITUDE_KINDS, LABELS, decide, live_label
from qc.attitude.model import AttitudeModel, default_model_dir, load_cached
from qc.attitude.rule import AttitudeClassifierRule
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
    charging: dict[str, Any] = field(default_factory=dict)
    calibration: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """``verdict``/``classifier``/``forbidden`` map label → P/R/F1/support; matrices apart."""
        views = {"verdict": self.verdict, "classifier": self.classifier, "forbidden": self.forbidden}
        return {
            **{name: {k: v for k, v in view.items() if k != "confusion"} for name, view in views.items()},
            "confusion": {name: view.get("confusion") for name, view in views.items()},
            "charging": self.charging,
            "calibration": self.calibration,
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


def predict(model: AttitudeModel, samples: Sequence[Sample]) -> npt.NDArray[np.float64]:
    """Class probabilities of samples, computed by the inspection rule itself (the same bits)."""
    rows = AttitudeClassifierRule(model).probabilities([s.input for s in samples])
    return np.array(rows) if rows else np.zeros((0, len(LABELS)))


def evaluate(
    samples: Sequence[Sample], model_dir: Path | None = None, rules: Sequence[str] | None = None
) -> Evaluation:
    """Score the inspection verdict, the classifier alone and the forbidden-phrase findings.

    Also what charging means for agents on these samples (:func:`charging_figures`) and the
    classifier's calibration (:func:`calibration_table`).

    Args:
        samples: annotated samples; pass only an evaluation split to measure generalisation.
        model_dir: the model under test (the bundled one when None).
        rules: the inspection's rule names (``qc inspect``'s defaults when None).
    """
    model_dir = (Path(model_dir) if model_dir is not None else default_model_dir()).resolve()
    rule_names = evaluation_rules(rules)
    inspector = build_inspector(RuleSettings(rules=rule_names, model=model_dir))
    model = load_cached(model_dir)

    truth = [s.label for s in samples]
    results = inspector.inspect([sample_conversation(s) for s in samples])
    verdicts = [message_verdict(r.findings, len(s.context)) for s, r in zip(samples, results, strict=True)]
    held = [message_held(r.findings, len(s.context)) for s, r in zip(samples, results, strict=True)]

    proba = predict(model, samples)
    decided = [decide(row.tolist(), model.labels, model.thresholds, model.review_floor) for row in proba]
    alone = [live_label(d) for d in decided]
    p_bad = (
        proba[:, model.labels.index("conflict")] + proba[:, model.labels.index("impatience")]
        if len(proba)
        else proba
    )

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
        model={"path": str(model_dir), "version": model.version, "thresholds": model.thresholds},
        rules=list(rule_names),
        verdict=label_metrics(truth, verdicts, LABELS),
        classifier=label_metrics(truth, alone, LABELS),
        forbidden=forbidden,
        charging=charging_figures(truth, verdicts, held),
        calibration=calibration_table(truth, [float(p) for p in p_bad]),
        errors=errors + forbidden_errors,
    )


def message_held(findings: Sequence[Finding], message_index: int) -> bool:
    """Whether a message has an attitude finding held for review (costs nothing, shown to QA)."""
    return any(
        f.message_index == message_index and f.needs_review and not f.suppressed and f.kind in ATTITUDE_KINDS
        for f in findings
    )


def charging_figures(truth: Sequence[str], verdicts: Sequence[str], held: Sequence[bool]) -> dict[str, Any]:
    """What the verdicts cost agents: share of ok messages charged, precision of charges, recall, held share.

    A charge is right when the message is not ok (an impatient message charged as conflict,
    or the reverse, is still a right charge; the per-label views say which).
    """
    n = len(truth)
    ok = [v for t, v in zip(truth, verdicts, strict=True) if t == "ok"]
    charged = [(t, v) for t, v in zip(truth, verdicts, strict=True) if v != "ok"]
    bad = [v for t, v in zip(truth, verdicts, strict=True) if t != "ok"]
    impatient = [v for t, v in zip(truth, verdicts, strict=True) if t == "impatience"]
    right = sum(1 for t, _ in charged if t != "ok")
    return {
        "n": n,
        "non_ok": len(bad),
        "charged": len(charged),
        "charged_right": right,
        "ok_charged_share": round(sum(1 for v in ok if v != "ok") / len(ok), 5) if ok else None,
        "charged_precision": round(right / len(charged), 4) if charged else None,
        "non_ok_recall": round(sum(1 for v in bad if v != "ok") / len(bad), 4) if bad else None,
        "impatience_recall": round(sum(1 for v in impatient if v != "ok") / len(impatient), 4)
        if impatient
        else None,
        "charged_share": round(len(charged) / n, 5) if n else None,
        "held": sum(held),
        "held_share": round(sum(held) / n, 5) if n else None,
    }


# Probability bands of the calibration table (predicted probability that a message is not ok).
CALIBRATION_BANDS = (0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0000001)


def calibration_table(truth: Sequence[str], p_bad: Sequence[float]) -> list[dict[str, Any]]:
    """Per band of predicted P(not ok): how many messages, and the share that really are not ok."""
    rows = []
    for low, high in zip(CALIBRATION_BANDS, CALIBRATION_BANDS[1:], strict=False):
        inside = [t for t, p in zip(truth, p_bad, strict=True) if low <= p < high]
        rows.append(
            {
                "band": f"{low:.1f}–{min(high, 1.0):.1f}",
                "n": len(inside),
                "observed_non_ok": round(sum(1 for t in inside if t != "ok") / len(inside), 4)
                if inside
                else None,
            }
        )
    return rows


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


def verdict_summary(evaluation: Evaluation) -> dict[str, Any]:
    """The figures a model card records of one evaluation: verdict per label, charging, calibration."""
    confusion = evaluation.verdict["confusion"]
    labels, matrix = confusion["labels"], confusion["matrix"]
    conflicts = sum(matrix[labels.index("conflict")])
    as_impatience = matrix[labels.index("conflict")][labels.index("impatience")]
    return {
        "n": evaluation.n,
        "verdict": {k: v for k, v in evaluation.verdict.items() if k != "confusion"},
        "conflict_as_impatience": round(as_impatience / conflicts, 4) if conflicts else None,
        "charging": evaluation.charging,
        "calibration": evaluation.calibration,
    }


def corpus_charging(conversations: Sequence[Conversation], model_dir: Path) -> dict[str, Any]:
    """Over whole conversations as ``qc inspect`` reads them: share of agent replies charged and held."""
    inspector = build_inspector(RuleSettings(rules=evaluation_rules(), model=model_dir))
    skip = load_cached(model_dir).featurizer.cues.skip
    replies = charged = held = 0
    by_kind: dict[str, int] = {kind: 0 for kind in ATTITUDE_KINDS}
    batch_size = 256
    for start in range(0, len(conversations), batch_size):
        for result in inspector.inspect(list(conversations[start : start + batch_size])):
            for m in result.conversation.messages:
                if not m.counts_as_agent or skip(m.text) or not m.text.strip():
                    continue
                replies += 1
                verdict = message_verdict(result.findings, m.index)
                if verdict != "ok":
                    charged += 1
                    by_kind[verdict] += 1
                elif message_held(result.findings, m.index):
                    held += 1
    return {
        "agent_replies": replies,
        "charged": charged,
        "charged_share": round(charged / replies, 5) if replies else None,
        "charged_by_kind": by_kind,
        "held": held,
        "held_share": round(held / replies, 5) if replies else None,
    }


def model_figures(
    model_dir: Path,
    written_eval: Sequence[Sample],
    use_real: bool = True,
    real_labels: Path | None = None,
    realchats: Path | None = None,
) -> dict[str, Any]:
    """Every figure a model card records: written evaluation split, real dev and test, all real chats."""
    from qc.training.real import load_real_labels, read_real_conversations, real_samples

    model_dir = model_dir.resolve()
    figures: dict[str, Any] = {"written_eval": verdict_summary(evaluate(written_eval, model_dir))}
    if use_real:
        labels = load_real_labels(real_labels)
        conversations = list(read_real_conversations(realchats))
        skip = load_cached(model_dir).featurizer.cues.skip
        for split in ("dev", "test"):
            samples = real_samples(labels, conversations, (split,), skip)
            figures[f"real_{split}"] = verdict_summary(evaluate(samples, model_dir))
        figures["real_all"] = corpus_charging(conversations, model_dir)
    figures["floors"] = floors_met(figures)
    return figures


# The floors of the attitude issue; a model card says which are met.
FLOORS: dict[str, tuple[str, str, float]] = {
    "real_test_ok_charged": ("real_test.charging.ok_charged_share", "<=", 0.01),
    "real_test_charged_precision": ("real_test.charging.charged_precision", ">=", 0.80),
    "real_test_impatience_recall": ("real_test.charging.impatience_recall", ">=", 0.70),
    "written_impatience_precision": ("written_eval.verdict.impatience.precision", ">=", 0.92),
    "written_impatience_recall": ("written_eval.verdict.impatience.recall", ">=", 0.88),
    "written_conflict_precision": ("written_eval.verdict.conflict.precision", ">=", 0.92),
    "written_conflict_recall": ("written_eval.verdict.conflict.recall", ">=", 0.88),
    "written_conflict_as_impatience": ("written_eval.conflict_as_impatience", "<=", 0.05),
    "real_all_charged_share": ("real_all.charged_share", "<=", 0.015),
}


def floors_met(figures: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each floor: the measured value, the limit and whether it is met (None when not measured)."""
    out: dict[str, dict[str, Any]] = {}
    for name, (path, op, limit) in FLOORS.items():
        value: Any = figures
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        met = None if value is None else (value <= limit if op == "<=" else value >= limit)
        out[name] = {"value": value, "limit": f"{op} {limit}", "met": met}
    return out
