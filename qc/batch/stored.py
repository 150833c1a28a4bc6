"""Scores of what the store holds: the one scoring function fed from stored conversations.

``qc inspect --db``, ``qc export``, ``qc report``, ``qc flagged`` and ``qc show`` all score
through :func:`score_stored`, which reads the stored metric parts and findings of a range of
days, applies the review decisions, and calls :func:`qc.scoring.scores.score_agents`, the
same function a run without a store scores its own tally with.

Review decisions reach the scores here: a rejected finding is suppressed (it costs nothing);
a rejected evidence finding also takes its event out of the metric (a slow reply rejected in
review is no longer a timed turn, a buyer left unanswered no longer counts as received), so
what a QA lead rejects stops costing points whichever item it backed. A finding the card
holds back (``review_only``, under ``min_score``) leaves here held for review, as the scores
count it, so every surface fed from here shows it as 待复核.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from qc.errors import ConfigError
from qc.scoring.card import (
    DECISIONS,
    REJECTED,
    AttributedFinding,
    MessageVerdict,
    Scorecard,
    apply_decisions,
    basis_refusal,
    mark_held,
)
from qc.scoring.metrics import MetricPart
from qc.scoring.periods import Windows
from qc.scoring.scores import ScoreInputs, Scores, finding_inputs, finding_parts, finding_stakes, score_agents
from qc.store.database import Store, StoredFinding

__all__ = ["StoredScores", "check_basis", "score_stored", "score_stored_views"]


@dataclass(slots=True)
class StoredScores:
    """The scores of a stored range and what they were made of.

    ``findings`` are the range's stored findings with the rejected ones marked suppressed and
    those the card holds back marked held for review (:func:`~qc.scoring.card.mark_held`);
    ``verdicts`` the message verdicts decided from them; ``states`` every reviewed finding's
    current state.
    """

    scores: Scores
    findings: list[StoredFinding]
    verdicts: list[MessageVerdict]
    rejected: set[str]
    states: dict[str, str]

    def rejected_here(
        self, agent: str | None = None, date_from: str | None = None, date_to: str | None = None
    ) -> set[str]:
        """The ids of this range's findings rejected in review (one agent's with ``agent``).

        ``rejected`` holds every rejection in the store, of any day or agent: what a page or
        export of this range says it did not charge is only this. ``date_from``/``date_to``
        narrow it to the days of one period of a range scored wider (a dashboard's month
        among the months of its trend).
        """
        return {
            s.finding.id
            for s in self.findings
            if s.finding.id in self.rejected
            and (agent is None or s.scored_agent == agent)
            and (date_from is None or s.date >= date_from)
            and (date_to is None or s.date <= date_to)
        }

    def stakes(self, card: Scorecard) -> tuple[dict[str, float], dict[tuple[str, int], float]]:
        """Points each finding and each message puts at stake (:func:`~qc.scoring.scores.finding_stakes`)."""
        return finding_stakes(self.scores, self.verdicts, card)

    def parts(self, card: Scorecard) -> dict[str, tuple[tuple[str, float], ...]]:
        """The charges each finding stands behind (:func:`~qc.scoring.scores.finding_parts`)."""
        return finding_parts(self.scores, self.verdicts, card)


def check_basis(store: Store, card: Scorecard, date_from: str, date_to: str) -> None:
    """Refuse to score stored days whose days or evidence were made another way than the card says.

    Raises:
        ConfigError: what differs, and the two ways out (inspect again with the card, or score with
            the card the days were saved with).
    """
    for basis, keys in store.bases(date_from, date_to).items():
        if basis == card.basis:
            continue
        raise ConfigError(
            basis_refusal(store.url, keys, f"{date_from}…{date_to}", basis, card.source, card.basis)
        )


def _drop_rejected_events(
    parts: list[MetricPart], rejected: list[AttributedFinding], card: Scorecard
) -> None:
    """Count the events behind rejected evidence as the reviewer said they were: not the agent's fault.

    A rejected slow reply is timed at the item's limit, on time: taken out of the average, one
    faster than the agent's other replies raised it, and a rejection cost the agent a point.
    A rejected unanswered buyer is no longer a buyer received.
    """
    index = {(p.conversation_id, p.agent, p.date): p for p in parts}
    items = card.evidence_kinds
    for a in rejected:
        f = a.finding
        part = index.get((f.conversation_id, a.agent, a.date))
        item = items.get(f.kind)
        if part is None or item is None:
            continue
        delay = f.evidence.details.get("delay_us")
        limit = round((item.threshold or 0) * 1_000_000)
        if item.metric == "avg_response_s" and isinstance(delay, int) and part.timed_turns > 0:
            part.delay_us -= max(0, delay - limit)
        elif item.metric == "first_response_s" and isinstance(delay, int) and part.first_responses > 0:
            part.first_us -= max(0, delay - limit)
        elif item.metric == "reply_rate":
            part.buyers_received = 0


def score_stored(
    store: Store,
    card: Scorecard,
    date_from: str,
    date_to: str,
    windows: Windows | None = None,
    *,
    decisions: bool = True,
) -> StoredScores:
    """Score the stored days ``date_from`` … ``date_to`` (inclusive) with the review decisions applied.

    ``windows`` groups the days (default: each day on its own); a window reaching outside the
    range only pools the range's days, so pass the range of the whole windows you want. With
    ``decisions`` off the findings are scored as the machine flagged them, every review and
    ruling left out: what ``qc sample`` draws its strata from, so a review does not reshuffle them.

    Raises:
        ConfigError: conversations in the range were saved with another day rule or other
            evidence limits than the card's (inspect them again, or use their card).
    """
    (scored,) = score_stored_views(
        store, card, date_from, date_to, [(date_from, windows)], decisions=decisions
    )
    return scored


# How often a read that met a save in the middle is made again before it is used as read.
_READ_TRIES = 5


def _read_consistent(
    store: Store, date_from: str, date_to: str
) -> tuple[list[MetricPart], list[StoredFinding], dict[str, str]]:
    """The range's metric parts, findings and decisions as of one moment of the store.

    They are three reads: a save (a re-run moving decisions to their findings' new ids) that
    committed between them gave a mix, with deductions charged to ids a reviewer had rejected
    (audit 88 #4). The store's data version (newest run, newest audit row) is read before and
    after; when it moved, everything is read again.
    """
    for _ in range(_READ_TRIES):
        before = store.data_version()
        parts = store.parts(date_from, date_to)
        stored = store.findings(date_from=date_from, date_to=date_to)
        states = store.latest_states(tuple(DECISIONS))
        if store.data_version() == before:
            break
    # Saves kept landing (a store written without pause): the last read is used, as before.
    return parts, stored, states


def score_stored_views(
    store: Store,
    card: Scorecard,
    date_from: str,
    date_to: str,
    views: Sequence[tuple[str, Windows | None]],
    *,
    decisions: bool = True,
) -> list[StoredScores]:
    """Several groupings of one stored range, read from the store once.

    Each view is ``(first day, windows)``: the days from its first day (not before
    ``date_from``) to ``date_to`` scored with its windows, as :func:`score_stored` would. The
    workbench's dashboard scores a month by months and by weeks: one read instead of two.
    ``decisions`` as in :func:`score_stored`.
    """
    check_basis(store, card, date_from, date_to)
    parts, stored, states = _read_consistent(store, date_from, date_to)
    if not decisions:
        states = {}
    rejected = {fid for fid, state in states.items() if state == REJECTED}
    marked = mark_held(apply_decisions([s.finding for s in stored], states, card), card)
    findings = [StoredFinding(f, s.shop, s.date, s.scored_agent) for f, s in zip(marked, stored, strict=True)]
    attributed = [AttributedFinding(s.finding, s.scored_agent, s.date) for s in findings]
    evidence = card.evidence_kinds
    _drop_rejected_events(
        parts, [a for a in attributed if a.finding.kind in evidence and a.finding.id in rejected], card
    )
    out = []
    for first, windows in views:
        if first <= date_from:
            view_parts, view_findings, view_attributed = parts, findings, attributed
        else:
            view_parts = [p for p in parts if p.date >= first]
            view_findings = [s for s in findings if s.date >= first]
            view_attributed = [a for a in attributed if a.date >= first]
        inputs = finding_inputs(view_attributed, card)
        scores = score_agents(
            ScoreInputs(view_parts, inputs.verdicts, inputs.held, inputs.evidence), card, windows
        )
        out.append(StoredScores(scores, view_findings, inputs.verdicts, rejected, states))
    return out
