"""Random spot-checks (随机抽查): a reproducible, stratified sample of conversations per agent.

For each agent, half of the sample (rounded up) is drawn from the agent's flagged
conversations and the rest from the unflagged ones; when one stratum is short, the other
fills the gap. Draws use :class:`random.Random` seeded with the seed and the agent, over
candidates sorted by id, so the same store, seed and size give the same sample, and adding an
agent does not change the others' draws.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qc.outputs.cells import open_csv, text_id
from qc.store.database import Store
from qc.supervise.flagged import flagged_conversations

__all__ = ["SampleRow", "draw_sample", "write_sample_csv", "SAMPLE_COLUMNS"]

SAMPLE_COLUMNS = (
    "agent",
    "date",
    "conversation_id",
    "stratum",
    "points",
    "findings",
    "verdict",
    "by",
    "note",
)


@dataclass(frozen=True, slots=True)
class SampleRow:
    """One sampled conversation for one agent."""

    agent: str
    date: str
    conversation_id: str
    stratum: str  # "flagged" or "unflagged"
    points: float
    findings: int


def draw_sample(
    store: Store, per_agent: int, seed: int, *, date: str | None = None, card: Any = None
) -> list[SampleRow]:
    """Draw ``per_agent`` conversations per agent (stratified, reproducible)."""
    by_agent: dict[str, dict[str, str]] = {}
    for cid, day, agents in store.conversation_agents(date):
        for agent in agents:
            by_agent.setdefault(agent, {})[cid] = day
    flagged = {
        (agent, f.conversation_id): f
        for f in flagged_conversations(store, date_from=date, date_to=date, card=card)
        for agent in f.agents
    }
    rows: list[SampleRow] = []
    for agent in sorted(by_agent):
        convs = by_agent[agent]
        bad = sorted(c for c in convs if (agent, c) in flagged)
        good = sorted(c for c in convs if (agent, c) not in flagged)
        rng = random.Random(f"{seed}:{agent}")
        want_bad = min(len(bad), (per_agent + 1) // 2)
        want_good = min(len(good), per_agent - want_bad)
        want_bad = min(len(bad), per_agent - want_good)
        for stratum, pool, n in (("flagged", bad, want_bad), ("unflagged", good, want_good)):
            for cid in sorted(rng.sample(pool, n)):
                f = flagged.get((agent, cid))
                rows.append(
                    SampleRow(agent, convs[cid], cid, stratum, f.points if f else 0.0, f.findings if f else 0)
                )
    return rows


def write_sample_csv(rows: list[SampleRow], out: Path) -> None:
    """The sample as a CSV for manual review (UTF-8 with BOM; empty verdict/by/note columns).

    Cells are inert (:mod:`qc.outputs.cells`): an agent nick never runs as a formula, and a
    conversation id that reads as a number keeps its digits in Excel.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    with open_csv(out) as w:
        w.writerow(SAMPLE_COLUMNS)
        for r in rows:
            w.writerow(
                [
                    text_id(r.agent),
                    r.date,
                    text_id(r.conversation_id),
                    r.stratum,
                    f"{r.points:g}",
                    r.findings,
                    "",
                    "",
                    "",
                ]
            )
