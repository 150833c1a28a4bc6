"""The attitude decision: class probabilities of one agent message → label, probability, review.

Used at run time by the attitude rule and at training time to pick and check thresholds, so
both judge a probability row the same way. Thresholds and review floors come from the
model's meta, never from code.
"""

from __future__ import annotations

from collections.abc import Sequence

LABELS: tuple[str, ...] = ("conflict", "impatience", "ok")
# Finding kinds the classifier emits, most severe first: the verdict takes the first one live.
ATTITUDE_KINDS: tuple[str, ...] = ("conflict", "impatience")


def combine_verdicts(*labels: str) -> str:
    """The most severe of several verdicts for one message (conflict > impatience > ok)."""
    return next((kind for kind in ATTITUDE_KINDS if kind in labels), "ok")


def decide(
    proba_row: Sequence[float],
    labels: Sequence[str],
    thresholds: dict[str, float],
    review_floor: dict[str, float],
) -> tuple[str, float, bool]:
    """Turn one message's class probabilities into ``(label, probability, needs_review)``.

    ``conflict`` when its probability reaches its threshold; else ``impatience`` when the
    probability of at least impatience (impatience + conflict) reaches its threshold; else,
    when either score reaches its review floor, that label with ``needs_review=True``;
    else ``ok``. Ties lean mild, as the annotation guideline asks.
    """
    if len(proba_row) != len(labels):
        raise ValueError(f"{len(proba_row)} probabilities for {len(labels)} labels")
    p_conflict = float(proba_row[labels.index("conflict")])
    p_bad = p_conflict + float(proba_row[labels.index("impatience")])
    if p_conflict >= thresholds["conflict"]:
        return "conflict", p_conflict, False
    if p_bad >= thresholds["impatience"]:
        return "impatience", p_bad, False
    if p_conflict >= review_floor["conflict"]:
        return "conflict", p_conflict, True
    if p_bad >= review_floor["impatience"]:
        return "impatience", p_bad, True
    return "ok", float(proba_row[labels.index("ok")]), False


def live_label(decision: tuple[str, float, bool]) -> str:
    """The label a decision deducts: its label when live, ``ok`` when it only needs review."""
    label, _, needs_review = decision
    return "ok" if needs_review else label
