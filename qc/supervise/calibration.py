"""Calibration rounds: several reviewers judge the same findings blind, then see how far they agree.

A supervisor opens a round on a period: a fixed, reproducible sample of the period's live
findings (:func:`draw_findings`: the findings, of the kinds asked for, sorted by id, drawn with
:class:`random.Random` seeded with the seed) and the reviewers who take part (two or more reviewers or
supervisors). Each of them gives every finding of the sample a verdict (confirm or reject,
with an optional note), without seeing anybody else's: a reviewer sees the results only once
they have given all their verdicts (a supervisor who does not take part sees them at any
time). Verdicts are stored apart from review decisions (``calibration_verdicts``): a round is
an exercise and never changes a finding's state or a score.

Agreement is Cohen's κ for every pair of reviewers over the findings both judged, and overall
the mean of the pairwise κ (Light's κ); the findings they disagree on are listed with each
verdict and note, which is what the team talks through.
"""

from __future__ import annotations

import json
import random
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from qc.scoring.card import DECISIONS
from qc.store.database import Store, local_now
from qc.supervise.errors import ReviewError
from qc.supervise.people import REVIEWERS, SUPERVISOR, Person, require_person

__all__ = [
    "Round",
    "RoundResults",
    "cohen_kappa",
    "draw_findings",
    "get_round",
    "list_rounds",
    "close_round",
    "next_item",
    "open_round",
    "record_verdict",
    "results",
]


@dataclass(frozen=True, slots=True)
class Round:
    """A calibration round: its sample and who takes part."""

    id: int
    name: str
    created_by: str
    created_at: str
    date_from: str
    date_to: str
    seed: int
    reviewers: tuple[str, ...]
    finding_ids: tuple[str, ...]
    closed_at: str | None = None
    closed_by: str | None = None
    close_note: str | None = None


@dataclass(slots=True)
class RoundResults:
    """Agreement in a round: every verdict, κ per pair and overall, and the disagreements."""

    round: Round
    verdicts: dict[str, dict[str, dict[str, Any]]]  # finding id → reviewer → verdict row
    done: dict[str, int]  # reviewer → verdicts given
    pairwise: dict[tuple[str, str], float | None] = field(default_factory=dict)
    overall: float | None = None
    # (findings both judged alike, findings both judged) per pair: κ swings on one vote where
    # nearly every finding is confirmed, and is undefined where a pair gave one label to all.
    agreed: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)
    disagreements: list[str] = field(default_factory=list)
    # Sampled findings a later inspection no longer finds: left out of what is still to judge.
    gone: list[str] = field(default_factory=list)

    @property
    def kappa_pairs(self) -> int:
        """How many pairs the overall κ averages (the pairs whose κ is defined)."""
        return sum(1 for k in self.pairwise.values() if k is not None)

    @property
    def overall_agreement(self) -> float | None:
        """The share of pairwise judgements that agree, over every pair (``None`` before any)."""
        same = sum(a for a, _ in self.agreed.values())
        total = sum(n for _, n in self.agreed.values())
        return round(same / total, 4) if total else None

    @property
    def overall_shown(self) -> str:
        """:attr:`overall_agreement` as the page shows it (see :func:`percent`)."""
        same = sum(a for a, _ in self.agreed.values())
        return percent(same, sum(n for _, n in self.agreed.values()))


def percent(same: int, total: int) -> str:
    """``same`` of ``total`` as a percentage cut (never rounded up) to a tenth: 199 of 200 is 99.5%.

    Rounded, 199 of 200 read 100%, as if every judgement agreed.
    """
    if not total:
        return "–"
    return f"{same * 1000 // total / 10:g}%"


def cohen_kappa(a: Sequence[str], b: Sequence[str]) -> float | None:
    """Cohen's κ of two raters' labels on the same items: (observed − chance) / (1 − chance).

    ``None`` when it is undefined: no items, or both raters gave one and the same label to
    everything (chance agreement is 1).
    """
    if len(a) != len(b):
        raise ValueError("both raters must label the same items")
    n = len(a)
    if n == 0:
        return None
    observed = sum(x == y for x, y in zip(a, b, strict=True)) / n
    labels = set(a) | set(b)
    chance = sum((a.count(label) / n) * (b.count(label) / n) for label in labels)
    if chance >= 1.0:
        return None
    return round((observed - chance) / (1.0 - chance), 4)


def draw_findings(
    store: Store, date_from: str, date_to: str, size: int, seed: int, kinds: Collection[str] | None = None
) -> list[str]:
    """A reproducible sample of ``size`` live findings dated in the range (ids, in draw order).

    Live as the rules flagged them, whatever a review or an appeal decided since: a round measures
    how alike the reviewers judge, blind, not what is still to decide (audit 97 #8 asked).

    ``kinds`` keeps findings of those kinds only (the workbench leaves out the evidence of metric
    items, slow replies and unanswered buyers: a measurement, not a judgement to calibrate).
    """
    ids = sorted(
        s.id
        for s in store.findings(date_from=date_from, date_to=date_to)
        if s.finding.live and (kinds is None or s.finding.kind in kinds)
    )
    rng = random.Random(f"calibration:{seed}")
    return rng.sample(ids, min(size, len(ids)))


def _round(row: dict[str, Any], items: list[str]) -> Round:
    return Round(
        id=int(row["id"]),
        name=row["name"],
        created_by=row["created_by"],
        created_at=row["created_at"],
        date_from=row["date_from"],
        date_to=row["date_to"],
        seed=int(row["seed"]),
        reviewers=tuple(json.loads(row["reviewers"])),
        finding_ids=tuple(items),
        closed_at=row["closed_at"],
        closed_by=row.get("closed_by"),
        close_note=row.get("close_note"),
    )


def get_round(store: Store, round_id: int) -> Round:
    """One round by number.

    Raises:
        ReviewError: no such round.
    """
    row = store.calibration_round(round_id)
    if row is None:
        raise ReviewError(f"no calibration round #{round_id}")
    return _round(row, store.calibration_items(round_id))


def list_rounds(store: Store) -> list[Round]:
    """Every round, newest first."""
    return [_round(row, store.calibration_items(int(row["id"]))) for row in store.calibration_rounds()]


def open_round(
    store: Store,
    *,
    name: str,
    by: str,
    reviewers: Sequence[str],
    date_from: str,
    date_to: str,
    size: int,
    seed: int,
    kinds: Collection[str] | None = None,
) -> Round:
    """A supervisor opens a round: the sample is drawn and fixed now.

    Raises:
        ReviewError: fewer than two reviewers, a size below 1, or no live finding in the range.
        PeopleError: ``by`` is not a supervisor, or a reviewer is not a registered reviewer or
            supervisor.
    """
    supervisor = require_person(store, by, (SUPERVISOR,), "opening a calibration round")
    names = list(dict.fromkeys(r.strip() for r in reviewers if r.strip()))
    if len(names) < 2:
        raise ReviewError("a calibration round needs at least two reviewers")
    people = [require_person(store, n, REVIEWERS, "a calibration round") for n in names]
    if size < 1:
        raise ReviewError("the sample size must be at least 1")
    sample = draw_findings(store, date_from, date_to, size, seed, kinds)
    if not sample:
        raise ReviewError(f"no live finding stored from {date_from} to {date_to} to calibrate on")
    with store.transaction() as conn:
        round_id = store.insert_calibration_round(
            conn,
            sample,
            name=name.strip() or f"{date_from}~{date_to} #{seed}",
            created_at=local_now(),
            created_by=supervisor.name,
            date_from=date_from,
            date_to=date_to,
            seed=seed,
            size=size,
            reviewers=json.dumps([p.name for p in people], ensure_ascii=False),
        )
    return get_round(store, round_id)


def gone_items(store: Store, rnd: Round) -> set[str]:
    """The round's sampled findings the store no longer holds (a later inspection did not find them).

    They cannot be shown or judged any more; a round waiting for them could never be finished.
    """
    held = {s.id for s in store.findings(finding_ids=list(rnd.finding_ids))} if rnd.finding_ids else set()
    return {fid for fid in rnd.finding_ids if fid not in held}


def next_item(store: Store, round_id: int, reviewer: str) -> str | None:
    """The first finding of the sample ``reviewer`` has not judged yet (``None``: all done).

    Findings the store no longer holds are passed over (:func:`gone_items`).
    """
    rnd = get_round(store, round_id)
    if rnd.closed_at:
        return None  # closed: nothing more to judge, the results are shown
    given = {v["finding_id"] for v in store.calibration_verdicts(round_id, reviewer)}
    gone = gone_items(store, rnd)
    return next((fid for fid in rnd.finding_ids if fid not in given and fid not in gone), None)


def record_verdict(
    store: Store, round_id: int, finding_id: str, *, reviewer: str, verdict: str, note: str = ""
) -> None:
    """Record one reviewer's blind verdict (confirm or reject) on one finding of the round.

    Raises:
        ReviewError: unknown round, the round is closed, the reviewer does not take part, the
            finding is not in the sample, an unknown verdict, or a verdict already given.
    """
    rnd = get_round(store, round_id)
    if rnd.closed_at:
        raise ReviewError(
            f"calibration round #{round_id} was closed by {rnd.closed_by or 'a supervisor'} at"
            f" {rnd.closed_at}: it takes no more verdicts"
        )
    if reviewer not in rnd.reviewers:
        raise ReviewError(f"{reviewer} does not take part in calibration round #{round_id}")
    if finding_id not in rnd.finding_ids:
        raise ReviewError(f"finding {finding_id} is not in calibration round #{round_id}")
    if finding_id in gone_items(store, rnd):
        raise ReviewError(
            f"finding {finding_id} is no longer stored (a later inspection no longer finds it):"
            " the round leaves it out; go on with the next item"
        )
    if verdict not in DECISIONS:
        raise ReviewError(f"verdict {verdict!r} is unknown: use {' or '.join(DECISIONS)}")
    if any(v["finding_id"] == finding_id for v in store.calibration_verdicts(round_id, reviewer)):
        raise ReviewError(f"{reviewer} already gave a verdict on {finding_id} in round #{round_id}")
    with store.transaction() as conn:
        store.insert_calibration_verdict(
            conn,
            round_id=round_id,
            finding_id=finding_id,
            reviewer=reviewer,
            verdict=verdict,
            note=note.strip(),
            at=local_now(),
        )


def close_round(store: Store, round_id: int, *, by: str, note: str) -> Round:
    """A supervisor closes a round: it takes no more verdicts, and its results are final.

    Kept with who closed it, when and why (a round whose reviewers left, or whose period is
    appraised). Its participants may see the results from then on, finished or not.

    Raises:
        ReviewError: unknown round, no reason given, or the round is closed already.
        PeopleError: ``by`` is not a supervisor.
    """
    supervisor = require_person(store, by, (SUPERVISOR,), "closing a calibration round")
    if not note.strip():
        raise ReviewError(
            "a reason is required: say why the round is closed (--note, or the page's 关闭理由)",
            web="请填写关闭理由 (a reason is required: say why the round is closed)",
        )
    rnd = get_round(store, round_id)
    if rnd.closed_at:
        raise ReviewError(
            f"calibration round #{round_id} was closed already by {rnd.closed_by} at {rnd.closed_at}"
        )
    with store.transaction() as conn:
        if not store.close_calibration_round(
            conn, round_id, closed_at=local_now(), closed_by=supervisor.name, close_note=note.strip()
        ):
            raise ReviewError(f"calibration round #{round_id} was closed meanwhile")
    return get_round(store, round_id)


def results(store: Store, round_id: int, viewer: Person) -> RoundResults:
    """The round's agreement, for a viewer allowed to see it.

    Whoever takes part, a supervisor too, sees it once they have judged every finding of the
    sample (the round is blind until then); a supervisor not taking part sees it at any time.

    Raises:
        ReviewError: unknown round, or the viewer may not see the results yet.
    """
    rnd = get_round(store, round_id)
    rows = store.calibration_verdicts(round_id)
    done = {name: 0 for name in rnd.reviewers}
    by_finding: dict[str, dict[str, dict[str, Any]]] = {fid: {} for fid in rnd.finding_ids}
    for row in rows:
        by_finding.setdefault(row["finding_id"], {})[row["reviewer"]] = row
        done[row["reviewer"]] = done.get(row["reviewer"], 0) + 1
    gone = gone_items(store, rnd)
    if viewer.role != SUPERVISOR and viewer.name not in rnd.reviewers:
        raise ReviewError(f"{viewer.name} does not take part in calibration round #{round_id}")
    if viewer.name in rnd.reviewers:
        # Blind for everyone taking part, a supervisor too: one who saw the others' verdicts
        # first gave informed ones, and the round's κ meant nothing.
        judged = sum(1 for fid in rnd.finding_ids if fid not in gone and viewer.name in by_finding[fid])
        if judged < len(rnd.finding_ids) - len(gone) and not rnd.closed_at:
            raise ReviewError("the round is blind: give all your verdicts first, then see the agreement")
    out = RoundResults(rnd, by_finding, done, gone=[fid for fid in rnd.finding_ids if fid in gone])
    kappas: list[float] = []
    for a, b in combinations(rnd.reviewers, 2):
        both = [fid for fid in rnd.finding_ids if a in by_finding[fid] and b in by_finding[fid]]
        k = cohen_kappa(
            [by_finding[f][a]["verdict"] for f in both], [by_finding[f][b]["verdict"] for f in both]
        )
        out.pairwise[(a, b)] = k
        out.agreed[(a, b)] = (
            sum(by_finding[f][a]["verdict"] == by_finding[f][b]["verdict"] for f in both),
            len(both),
        )
        if k is not None:
            kappas.append(k)
    out.overall = round(sum(kappas) / len(kappas), 4) if kappas else None
    out.disagreements = [
        fid for fid in rnd.finding_ids if len({v["verdict"] for v in by_finding[fid].values()}) > 1
    ]
    return out
