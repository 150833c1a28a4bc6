"""Writers for the files ``qc inspect --out DIR`` produces.

JSON is written with ``ensure_ascii=False`` so Chinese stays readable.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from qc.engine import ConversationResult
from qc.schema import Finding, Reject

FINDINGS_FILE = "findings.jsonl"
CONVERSATIONS_FILE = "conversations.jsonl"
REJECTS_FILE = "rejects.jsonl"
RUN_FILE = "run.json"


def dumps(record: dict[str, Any]) -> str:
    """One JSON line, Chinese kept as is."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def write_jsonl(handle: IO[str], records: Iterable[dict[str, Any]]) -> int:
    """Write records as JSON Lines; returns how many were written."""
    n = 0
    for record in records:
        handle.write(dumps(record))
        handle.write("\n")
        n += 1
    return n


def conversation_summary(result: ConversationResult) -> dict[str, Any]:
    """The per-conversation summary line: who, how long, what was found."""
    conv = result.conversation
    times = [m.sent_at for m in conv.messages if m.sent_at is not None]
    live = Counter(f.kind for f in result.findings if f.live)
    return {
        "conversation_id": conv.id,
        "shop": conv.shop,
        "source": conv.source,
        "agents": list(conv.agents),
        "messages": len(conv.messages),
        "customer_messages": sum(1 for m in conv.messages if m.role == "customer"),
        "agent_messages": len(conv.agent_messages()),
        "started_at": min(times).isoformat() if times else None,
        "ended_at": max(times).isoformat() if times else None,
        "findings": dict(sorted(live.items())),
        "suppressed": sum(1 for f in result.findings if f.suppressed),
        "needs_review": sum(1 for f in result.findings if f.needs_review),
    }


def finding_records(findings: Iterable[Finding]) -> Iterable[dict[str, Any]]:
    """findings.jsonl records."""
    return (f.to_json() for f in findings)


def reject_records(rejects: Iterable[Reject]) -> Iterable[dict[str, Any]]:
    """rejects.jsonl records."""
    return (r.to_json() for r in rejects)


def write_json(path: Path, data: Any) -> None:
    """Write one pretty JSON document."""
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
