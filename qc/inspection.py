"""``qc inspect`` as an importable function: read → inspect → write.

The CLI wraps :func:`run_inspection`; tests and other programs call it directly.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qc import __version__
from qc.engine import ConversationResult, Inspector
from qc.readers import read_inputs
from qc.readers.options import ReadOptions, ReadResult
from qc.schema import Deduction, Finding
from qc.scorecard import Scorecard
from qc.writers import (
    CONVERSATIONS_FILE,
    FINDINGS_FILE,
    REJECTS_FILE,
    RUN_FILE,
    conversation_summary,
    finding_records,
    reject_records,
    write_json,
    write_jsonl,
)

Progress = Callable[[Iterable[Any], int], Iterable[Any]]


def _no_progress(items: Iterable[Any], total: int) -> Iterable[Any]:
    return items


@dataclass(slots=True)
class InspectionReport:
    """What one ``qc inspect`` run did, for the summary line, the store and tests."""

    read: ReadResult
    results: list[ConversationResult] = field(default_factory=list)
    seconds: float = 0.0
    run: dict[str, Any] = field(default_factory=dict)
    deductions: list[Deduction] = field(default_factory=list)
    agents: list[dict[str, Any]] = field(default_factory=list)
    scorecard: Scorecard | None = None

    @property
    def findings(self) -> list[Finding]:
        """Every finding of the run, in conversation then message order."""
        return [f for r in self.results for f in r.findings]

    @property
    def exit_code(self) -> int:
        """1 when any input file could not be read, else 0."""
        return 1 if self.read.failed_files else 0


def run_inspection(
    inputs: list[Path],
    out_dir: Path,
    inspector: Inspector,
    options: ReadOptions | None = None,
    progress: Progress = _no_progress,
    run_info: dict[str, Any] | None = None,
    scorecard: Scorecard | None = None,
    store: str | None = None,
) -> InspectionReport:
    """Read every input, inspect every conversation, write the results into ``out_dir``.

    ``scorecard`` scores the agents (the packaged default when ``None``); ``store`` is a
    SQLite path or SQLAlchemy URL the run is also saved to (replacing the same days).
    """
    started = time.perf_counter()
    read = read_inputs(inputs, options or ReadOptions())
    report = InspectionReport(read=read)
    report.results = list(inspector.inspect_all(progress(read.conversations, len(read.conversations))))
    out_dir.mkdir(parents=True, exist_ok=True)
    with (out_dir / FINDINGS_FILE).open("w", encoding="utf-8") as fh:
        write_jsonl(fh, finding_records(report.findings))
    with (out_dir / CONVERSATIONS_FILE).open("w", encoding="utf-8") as fh:
        write_jsonl(fh, (conversation_summary(r) for r in report.results))
    with (out_dir / REJECTS_FILE).open("w", encoding="utf-8") as fh:
        write_jsonl(fh, reject_records(read.rejects))
    # Review decisions already in the store keep applying when a day is inspected again.
    score_report(report, out_dir, scorecard, rejected=_stored_rejections(store))
    report.seconds = time.perf_counter() - started
    report.run = {
        "qc_version": __version__,
        "rules": list(inspector.rule_names),
        "counts": {"read": read.read, "accepted": read.accepted, "rejected": read.rejected},
        "conversations": len(read.conversations),
        "findings": len(report.findings),
        "files": [
            {
                "path": f.path,
                "format": f.format,
                "encoding": f.encoding,
                "read": f.read,
                "accepted": f.accepted,
                "rejected": f.rejected,
                "error": f.error,
            }
            for f in read.files
        ],
        "warnings": read.warnings,
        "seconds": round(report.seconds, 3),
        **component_versions(inspector),
        **scorecard_info(report.scorecard),
        **(run_info or {}),
    }
    write_json(out_dir / RUN_FILE, report.run)
    if store is not None:
        from qc.store import save_report

        save_report(store, report)
    return report


def component_versions(inspector: Inspector) -> dict[str, Any]:
    """Lexicon and model versions of the rules this inspector runs, for run.json and the store."""
    lexicon = model = None
    for rule in getattr(inspector, "rules", ()):  # other engines may not expose their rules
        lex = getattr(rule, "lexicon", None)
        if lex is not None and getattr(lex, "label", None):
            lexicon = lex.label
        art = getattr(rule, "artifact", None)
        if art is not None and getattr(art, "version", None):
            meta = getattr(art, "meta", None) or {}
            model = f"{meta.get('name', 'attitude')}@{art.version}"
    return {"lexicon_version": lexicon, "model_version": model}


def scorecard_info(card: Scorecard | None) -> dict[str, Any]:
    """What run.json records about the scorecard that scored the run (its hash above all)."""
    if card is None:
        return {}
    return {
        "scorecard": {"name": card.name, "version": card.version, "hash": card.hash, "source": card.source}
    }


def _stored_rejections(store: str | None) -> frozenset[str]:
    """Ids of findings rejected in review in ``store`` (none without a store)."""
    if store is None:
        return frozenset()
    from qc.review import rejected_ids
    from qc.store import open_store

    engine = open_store(store)
    try:
        return frozenset(rejected_ids(engine))
    finally:
        engine.dispose()


def score_report(
    report: InspectionReport,
    out_dir: Path,
    scorecard: Scorecard | None = None,
    rejected: frozenset[str] = frozenset(),
) -> None:
    """Compute metrics and deductions of an inspected batch and write the agents files.

    Writes agents.csv, agents.xlsx, agents.json and deductions.jsonl into ``out_dir`` and
    keeps the deductions and rows on the report. Any engine that fills ``report.results``
    calls this to score the batch the same way. Findings whose id is in ``rejected`` (review
    decisions, :mod:`qc.review`) are scored as suppressed: they no longer cost points.
    """
    from qc.metrics import agent_day_metrics
    from qc.scorecard import agent_columns, agent_rows, load_scorecard, score
    from qc.writers import write_score_outputs

    card = scorecard or load_scorecard()
    conversations = [r.conversation for r in report.results]
    findings = report.findings
    if rejected:
        from qc.review import mark_rejected

        findings = mark_rejected(findings, rejected)
    metrics = agent_day_metrics(conversations, card.day)
    report.scorecard = card
    report.deductions = score(conversations, findings, metrics, card)
    report.agents = agent_rows(conversations, findings, metrics, report.deductions, card)
    write_score_outputs(out_dir, report.deductions, report.agents, agent_columns(card))
