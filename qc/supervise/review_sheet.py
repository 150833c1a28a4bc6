"""Bulk review through a spreadsheet: export a day's findings to CSV, import the decisions.

The CSV shows each finding with its message and the messages before it (as many as the
report shows), UTF-8 with a BOM (Excel on a Chinese Windows opens it as is). QA fills the
``decision`` column with ``confirm`` or ``reject`` (确认 / 驳回 are accepted too), ``by`` and
``note``. Import validates each row: an unknown finding id or decision word is listed with
its row number and the other rows are still applied; empty decisions are skipped; a decision
equal to the finding's current state is not logged again.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qc.batch.stored import score_stored
from qc.schema import Conversation, Role
from qc.store.database import Store
from qc.supervise.report import load_reply_patterns
from qc.supervise.review import DECISIONS, ReviewError, decide, finding_states

__all__ = ["REVIEW_COLUMNS", "export_review_csv", "import_review_csv", "ImportResult"]

REVIEW_COLUMNS = (
    "finding_id",
    "date",
    "agent",
    "conversation_id",
    "message_index",
    "kind",
    "entry",
    "points",
    "state",
    "text",
    "message",
    "context",
    "decision",
    "by",
    "note",
)
# Words QA may type in the decision column → the decision.
_WORDS = {"confirm": "confirm", "确认": "confirm", "reject": "reject", "驳回": "reject"}


def export_review_csv(store: Store, date: str, out: Path, card: Any, mask: Any = None) -> int:
    """Write the day's findings (live ones first, then held-back ones) to ``out``; returns the count.

    ``points`` is what each finding puts at stake in the day's scores (a slow reply: its share
    of the response-time points; a rejected finding: 0).
    """
    mask = mask or (lambda s: s)
    window = load_reply_patterns().context_messages
    stored = store.findings(date_from=date, date_to=date)
    convs = store.conversations({s.finding.conversation_id for s in stored})
    findings = [s.finding for s in stored]
    points = score_stored(store, card, date, date).stakes(card)[0] if stored else {}
    states = finding_states(store, [f.id for f in findings])
    stored.sort(key=lambda s: (not s.finding.live, points.get(s.id, 0), s.finding.conversation_id))
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(REVIEW_COLUMNS)
        for s in stored:
            f = s.finding
            conv = convs.get(f.conversation_id)
            message = context = ""
            if conv is not None and 0 <= f.message_index < len(conv.messages):
                message = conv.messages[f.message_index].text
                context = _context(conv, f.message_index, window)
            w.writerow(
                [
                    f.id,
                    s.date,
                    f.agent or "",
                    f.conversation_id,
                    f.message_index,
                    f.kind,
                    f.entry or "",
                    f"{points.get(f.id, 0):g}",
                    states.get(f.id, "pending"),
                    mask(f.text),
                    mask(message),
                    mask(context),
                    "",
                    "",
                    "",
                ]
            )
    return len(stored)


def _context(conv: Conversation, index: int, window: int) -> str:
    """The messages before ``index`` (buyer and typed agent messages), one per line."""
    before = [m for m in conv.messages[:index] if m.role is Role.CUSTOMER or m.counts_as_agent]
    names = {Role.CUSTOMER: "买家", Role.AGENT: "客服"}
    return "\n".join(f"{names[m.role]}: {m.text}" for m in (before[-window:] if window > 0 else []))


@dataclass(frozen=True, slots=True)
class RowProblem:
    """A refused row: its 1-based line number in the file (header = 1) and why."""

    row: int
    message: str


@dataclass(frozen=True, slots=True)
class RowChange:
    """A row that changed a finding's state."""

    row: int
    finding_id: str
    before: str
    after: str


@dataclass(slots=True)
class ImportResult:
    """What an import did."""

    changed: list[RowChange] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    unchanged: int = 0
    skipped: int = 0


def import_review_csv(store: Store, path: Path, default_by: str = "") -> ImportResult:
    """Apply the decisions of an edited review CSV (see the module docstring for the rules)."""
    result = ImportResult()
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in ("finding_id", "decision") if c not in (reader.fieldnames or [])]
        if missing:
            result.problems.append(
                RowProblem(1, f"missing column(s) {', '.join(missing)}; export a fresh file")
            )
            return result
        rows = list(enumerate(reader, start=2))
    ids = {(r.get("finding_id") or "").strip() for _, r in rows}
    known = {s.id for s in store.findings(finding_ids=ids)}
    states = finding_states(store, list(known))
    for line, r in rows:
        fid = (r.get("finding_id") or "").strip()
        word = (r.get("decision") or "").strip().lower()
        if not word:
            result.skipped += 1
            continue
        if word not in _WORDS:
            result.problems.append(RowProblem(line, f"decision {word!r} is unknown: write confirm or reject"))
            continue
        if fid not in known:
            result.problems.append(RowProblem(line, f"finding id {fid!r} is not in the store"))
            continue
        decision = _WORDS[word]
        by = (r.get("by") or "").strip() or default_by
        if states.get(fid, "pending") == DECISIONS[decision]:
            result.unchanged += 1
            continue
        try:
            d = decide(
                store,
                fid,
                decision,
                by=by,
                note=(r.get("note") or "").strip(),
                source=f"csv:{path.name}:{line}",
            )
        except ReviewError as exc:
            result.problems.append(RowProblem(line, str(exc)))
            continue
        states[fid] = d.after
        result.changed.append(RowChange(line, fid, d.before, d.after))
    return result
