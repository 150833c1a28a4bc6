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
from qc.schema import Finding
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
) -> InspectionReport:
    """Read every input, inspect every conversation, write the results into ``out_dir``."""
    started = time.perf_counter()
    read = read_inputs(inputs, options or ReadOptions())
    report = InspectionReport(read=read)
    report.results = list(
        inspector.inspect_all(progress(read.conversations, len(read.conversations)))
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    with (out_dir / FINDINGS_FILE).open("w", encoding="utf-8") as fh:
        write_jsonl(fh, finding_records(report.findings))
    with (out_dir / CONVERSATIONS_FILE).open("w", encoding="utf-8") as fh:
        write_jsonl(fh, (conversation_summary(r) for r in report.results))
    with (out_dir / REJECTS_FILE).open("w", encoding="utf-8") as fh:
        write_jsonl(fh, reject_records(read.rejects))
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
        **(run_info or {}),
    }
    write_json(out_dir / RUN_FILE, report.run)
    return report
