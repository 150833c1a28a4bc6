"""Random spot-checks (随机抽查): a reproducible, stratified sample of conversations per agent.

For each agent, half of the sample (rounded up) is drawn from the agent's flagged
conversations and the rest from the unflagged ones; when one stratum is short, the other
fills the gap. Flagged means the machine judged one of the agent's replies there (an attitude
verdict or a forbidden phrase that costs points), as it flagged it, before any review or
ruling: a rejection, a confirmed held finding or an appeal changes the points and kinds shown,
never the strata, so a draw made on Monday is drawn again on Friday. A conversation with only
a slow reply or an unanswered buyer would fill the flagged half with cents of timing (248 of
the demo day's 300 conversations) and leave the judgements a spot-check is for unchecked. A
shop's ``unassigned`` (its unanswered buyers) is nobody to spot-check. Draws use
:class:`random.Random` seeded with the seed and the agent, over candidates sorted by id, so the
same store, seed and size give the same sample, and adding an agent does not change the others'
draws.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qc.batch.stored import score_stored
from qc.outputs.cells import open_csv, text_id
from qc.scoring.card import load_scorecard
from qc.scoring.periods import Windows, range_period
from qc.scoring.scores import KIND_LABELS
from qc.store.database import Store
from qc.supervise.flagged import flagged_from, listing_windows
from qc.supervise.people import is_unassigned
from qc.text.pii import Masker

__all__ = ["SampleRow", "draw_sample", "write_sample_csv", "SAMPLE_COLUMNS"]

SAMPLE_COLUMNS = (
    "agent",
    "date",
    "conversation_id",
    "stratum",
    "points",
    "findings",
    "kinds",
    "finding_ids",
)


@dataclass(frozen=True, slots=True)
class SampleRow:
    """One sampled conversation for one agent: that agent's own points and findings in it."""

    agent: str
    date: str
    conversation_id: str
    stratum: str  # "flagged" or "unflagged"
    points: float
    findings: int
    kinds: str = ""  # what the machine found for the agent there: 与买家冲突×1 慢回复×2
    finding_ids: tuple[str, ...] = ()  # to confirm or reject with qc review, one by one


def draw_sample(
    store: Store,
    per_agent: int,
    seed: int,
    *,
    date: str | None = None,
    date_to: str | None = None,
    agent: str | None = None,
    card: Any = None,
) -> list[SampleRow]:
    """Draw ``per_agent`` conversations per agent (stratified, reproducible).

    ``date`` alone is one day; with ``date_to`` the days ``date`` … ``date_to`` (a week, the
    month a scorecard appraises); neither, the whole store. ``agent`` (an account as stored)
    draws that agent's only, the same rows as in the draw of everyone.
    """
    card = card or load_scorecard()
    by_agent: dict[str, dict[str, str]] = {}
    # A conversation over two days in the range is one candidate, on its first day there.
    for cid, day, agents in store.conversation_agents(date, date_to):
        for who in agents:
            if not is_unassigned(who) and (agent is None or who == agent):
                by_agent.setdefault(who, {}).setdefault(cid, day)
    scores = []
    # The whole store's undated conversations are scored on their own, as the dated days are:
    # they were drawn as unflagged at 0 points while charged (audit 152 M1).
    for lo, hi in listing_windows(store, date, date_to or date) if by_agent else ():
        window = Windows.only(range_period(lo, hi))
        # The strata as the machine flagged them: a review or ruling since changes the shown
        # points and kinds, never which conversations are drawn (audit 119 M1).
        scores.append(
            (
                score_stored(store, card, lo, hi, window),
                score_stored(store, card, lo, hi, window, decisions=False),
            )
        )
    timing = set(card.evidence_kinds)
    rows: list[SampleRow] = []
    for who in sorted(by_agent):
        convs = by_agent[who]
        # The agent's own share of each conversation, as `qc flagged --agent` counts it.
        found = {
            f.conversation_id: f
            for scored, _ in scores
            for f in flagged_from(scored, card, agent=who, costly_only=False)
        }
        flagged = [
            f for _, machine in scores for f in flagged_from(machine, card, agent=who, costly_only=False)
        ]
        # Judged: a verdict or forbidden phrase that costs points (not one worth 0, not timing),
        # before any decision.
        judged = {f.conversation_id for f in flagged if set(f.charged) - timing}
        bad = sorted(c for c in convs if c in judged)
        good = sorted(c for c in convs if c not in judged)
        rng = random.Random(f"{seed}:{who}")
        want_bad = min(len(bad), (per_agent + 1) // 2)
        want_good = min(len(good), per_agent - want_bad)
        want_bad = min(len(bad), per_agent - want_good)
        for stratum, pool, n in (("flagged", bad, want_bad), ("unflagged", good, want_good)):
            for cid in sorted(rng.sample(pool, n)):
                f = found.get(cid)
                # As agents.csv counts it: the raw findings said 禁用语×2 不够耐心×1 where the
                # agent was charged 不够耐心 twice (two phrases implying it).
                kinds = f.charged_text(KIND_LABELS) if f else ""
                if f and f.held:  # what waits for a reviewer there, at 0 points (audit 167 L3)
                    waits = f.held_text(KIND_LABELS)
                    kinds = f"{kinds} (待复核 held: {waits})" if kinds else f"待复核 held: {waits}"
                rows.append(
                    SampleRow(
                        who,
                        convs[cid],
                        cid,
                        stratum,
                        f.points if f else 0.0,
                        f.findings if f else 0,
                        kinds,
                        (*f.finding_ids, *f.held_ids) if f else (),
                    )
                )
    return rows


def write_sample_csv(rows: list[SampleRow], out: Path, mask: Masker | None = None) -> None:
    """The sample as a CSV for manual review (UTF-8 with BOM).

    No verdict columns: nothing would read them back. A checker decides each finding with
    ``qc review`` (its ids are in ``finding_ids``), or in the workbench's queue, which draws
    each day as this draws that day (``date`` alone), for the same seed and size.

    Cells are inert (:mod:`qc.outputs.cells`): an agent nick never runs as a formula, and a
    conversation id that reads as a number keeps its digits in Excel. An enabled ``mask`` masks a
    conversation id made of the buyer's phone, as ``qc flagged --mask-pii`` does.
    """
    shown = (mask or Masker(False)).identifier
    out.parent.mkdir(parents=True, exist_ok=True)
    with open_csv(out) as w:
        w.writerow(SAMPLE_COLUMNS)
        for r in rows:
            w.writerow(
                [
                    text_id(r.agent),
                    r.date,
                    text_id(shown(r.conversation_id)),
                    r.stratum,
                    f"{r.points:g}",
                    r.findings,
                    r.kinds,
                    text_id(" ".join(r.finding_ids)),
                ]
            )
