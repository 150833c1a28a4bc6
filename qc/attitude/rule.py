"""``attitude_classifier.v1``: impatience and conflict found by the trained classifier.

All agent messages of a conversation (auto-replies excluded) are classified in one
``predict_proba`` call, each with the turns before it as context. A message whose
probability reaches the model's threshold gets a live finding; one between the review floor
and the threshold gets a ``needs_review`` finding, shown to QA and never deducted. The
thresholds and floors come from the model's ``meta.json``, never from code.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from qc.attitude.decision import decide
from qc.attitude.features import context_window
from qc.attitude.model_file import Artifact, default_model_dir, load_cached
from qc.attitude.partwise import PartwiseLogits
from qc.rules import register_rule
from qc.schema import Conversation, Evidence, Finding, Message, MessageFeatures, Role

RULE_NAME = "attitude_classifier.v1"
# Distinct (message, context) inputs whose probabilities check_batch keeps: a few MB, and
# the output is the same with or without.
_MEMO_SIZE = 8192


class AttitudeClassifierRule:
    """Classifies every agent message of a conversation with one batched model call."""

    name = RULE_NAME
    needs_features = False

    def __init__(self, artifact: Artifact) -> None:
        self.artifact = artifact
        self._memo: dict[tuple[str, tuple[tuple[str, str], ...]], Sequence[float]] = {}
        # The shipped model's scores summed from parts kept per message and per context.
        self._parts = PartwiseLogits.of(artifact.pipeline)
        # Read from the model's meta once, not once per message.
        self._decision = (artifact.labels, artifact.thresholds, artifact.review_floor)

    def describe(self) -> dict[str, Any]:
        """The model name and version its findings depend on, for run.json and the store."""
        if not self.artifact.version:
            return {}
        return {"model_version": f"{self.artifact.meta.get('name', 'attitude')}@{self.artifact.version}"}

    def check(self, conversation: Conversation, features: Sequence[MessageFeatures]) -> list[Finding]:
        """Return impatience/conflict findings (live or needs-review) for the agent messages."""
        turns = list(_agent_turns(conversation.messages))
        if not turns:
            return []
        proba = self._proba([(m.text, context) for m, context in turns])
        return [
            f for (m, _), row in zip(turns, proba, strict=True) if (f := self._finding(conversation, m, row))
        ]

    def check_batch(
        self, items: Sequence[tuple[Conversation, Sequence[MessageFeatures]]]
    ) -> list[list[Finding]]:
        """Findings of many conversations from ONE ``predict_proba`` call; same result as ``check`` each.

        The model's per-call overhead (input validation, pipeline dispatch) is about ten
        milliseconds, far more than the work for one conversation, so the engine hands over
        hundreds of conversations at a time.
        """
        targets: list[tuple[int, Message]] = []
        inputs: list[tuple[str, tuple[tuple[str, str], ...]]] = []
        for n, (c, _) in enumerate(items):
            for m, context in _agent_turns(c.messages):
                targets.append((n, m))
                inputs.append((m.text, context))
        out: list[list[Finding]] = [[] for _ in items]
        if not targets:
            return out
        for (n, m), row in zip(targets, self._predict(inputs), strict=True):
            if finding := self._finding(items[n][0], m, row):
                out[n].append(finding)
        return out

    @property
    def decision_settings(self) -> tuple[tuple[str, ...], dict[str, float], dict[str, float]]:
        """Labels, thresholds and review floors, as :func:`~qc.attitude.decision.decide` takes them."""
        return self._decision

    def probabilities(self, inputs: list[tuple[str, tuple[tuple[str, str], ...]]]) -> list[Sequence[float]]:
        """Class probabilities (in the model's label order) of ``(message, context)`` inputs."""
        return self._predict(inputs)

    def _predict(self, inputs: list[tuple[str, tuple[tuple[str, str], ...]]]) -> list[Sequence[float]]:
        """``predict_proba`` rows for ``inputs``, each distinct input computed once.

        The model maps each input row to its probabilities independently of the other
        rows, so a repeated (message, context) pair (greetings, stock replies to the
        same opening question) reuses its row; a bounded memo carries rows across batches.
        """
        memo = self._memo
        todo = list(dict.fromkeys(i for i in inputs if i not in memo))
        fresh = dict(zip(todo, _rows(self._proba(todo)), strict=True)) if todo else {}
        rows = [fresh[i] if i in fresh else memo[i] for i in inputs]
        if len(memo) + len(fresh) > _MEMO_SIZE:
            memo.clear()
        memo.update(fresh)
        return rows

    def _proba(self, inputs: list[tuple[str, tuple[tuple[str, str], ...]]]) -> Any:
        """``pipeline.predict_proba(inputs)``, summed from parts when it can (:mod:`qc.attitude.partwise`)."""
        if self._parts is None:
            return self.artifact.pipeline.predict_proba(inputs)
        return self._parts.proba(inputs)

    def _finding(self, conversation: Conversation, message: Message, row: Sequence[float]) -> Finding | None:
        art = self.artifact
        label, probability, review = decide(row, *self._decision)
        if label == "ok":
            return None
        threshold = self._decision[1][label]
        state = "below threshold, needs review" if review else "at or above threshold"
        return Finding(
            conversation_id=conversation.id,
            message_index=message.index,
            kind=label,
            score=round(probability, 4),
            evidence=Evidence(
                rule=self.name,
                summary=f"classifier: {label} p={probability:.2f} ({state} {threshold:.2f})",
                pattern=f"{art.meta.get('name', 'attitude')}@{art.version}",
                details={
                    "probability": round(probability, 4),
                    "threshold": threshold,
                    "review_floor": self._decision[2][label],
                },
            ),
            agent=message.agent,
            text=message.text,
            start=None,
            end=None,
            needs_review=review,
        )


def context_of(messages: Sequence[Message], index: int) -> tuple[tuple[str, str], ...]:
    """The ``(role, text)`` turns before message ``index``, buyer and typed agent turns only.

    System notices and auto-replies are left out: the classifier learned from annotated
    samples whose context holds only what the buyer and the agent wrote. Only the last
    :func:`qc.attitude.features.context_window` turns are kept: no feature reads further back, and a
    short key lets repeated replies to the same recent turns be computed once.
    """
    window = context_window()
    out: list[tuple[str, str]] = []
    for i in range(index - 1, -1, -1):  # no slice copy: long chats would make this quadratic
        if len(out) >= window:
            break
        m = messages[i]
        if m.role is Role.CUSTOMER:
            out.append(("customer", m.text))
        elif m.counts_as_agent:
            out.append(("agent", m.text))
    return tuple(reversed(out))


def _agent_turns(messages: Sequence[Message]) -> Iterator[tuple[Message, tuple[tuple[str, str], ...]]]:
    """Each typed, non-empty agent message with its :func:`context_of`, in one pass over the chat."""
    window = context_window()
    turns: deque[tuple[str, str]] = deque(maxlen=window)
    for m in messages:
        if m.role is Role.CUSTOMER:
            turns.append(("customer", m.text))
        elif m.role is Role.AGENT and not m.auto_reply:
            if m.text.strip():
                yield m, tuple(turns)
            turns.append(("agent", m.text))


@register_rule(RULE_NAME)
def make_attitude_classifier(settings: object = None) -> AttitudeClassifierRule:
    """Build the rule, loading the model once per process (``settings.model`` or the bundled one)."""
    model = getattr(settings, "model", None)
    model_dir = Path(model) if model is not None else default_model_dir()
    return AttitudeClassifierRule(load_cached(model_dir.resolve()))


def _rows(proba: Any) -> list[list[float]]:
    """Probability rows as lists of Python floats: reading one costs no NumPy scalar."""
    import numpy as np

    return np.asarray(proba, dtype=float).tolist()
