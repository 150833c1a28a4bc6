"""Writers for the files ``qc inspect --out DIR`` produces.

JSON is written with ``ensure_ascii=False`` so Chinese stays readable.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from qc.outputs.cells import append_inert, open_csv
from qc.run.inspector import ConversationResult
from qc.schema import Finding, Reject, Role

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
    # One pass over the messages (this runs for every conversation of a batch).
    agents: dict[str, str | None] = {}
    customers = typed = 0
    times = []
    for m in conv.messages:
        if m.role is Role.CUSTOMER:
            customers += 1
        elif m.role is Role.AGENT and not m.auto_reply:
            typed += 1
            agents.setdefault(m.agent_id or m.sender or "unknown")  # Message.agent
        if m.sent_at is not None:
            times.append(m.sent_at)
    live: Counter[str] = Counter()
    suppressed = review = 0
    for f in result.findings:
        if f.live:
            live[f.kind] += 1
        if f.suppressed:
            suppressed += 1
        if f.needs_review:
            review += 1
    return {
        "conversation_id": conv.id,
        "shop": conv.shop,
        "source": conv.source,
        "agents": list(agents),
        "messages": len(conv.messages),
        "customer_messages": customers,
        "agent_messages": typed,
        "started_at": min(times).isoformat() if times else None,
        "ended_at": max(times).isoformat() if times else None,
        "findings": dict(sorted(live.items())),
        "suppressed": suppressed,
        "needs_review": review,
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


# --------------------------------------------------------------- scorecard outputs (agents)

AGENTS_CSV = "agents.csv"
AGENTS_XLSX = "agents.xlsx"
AGENTS_JSON = "agents.json"
DEDUCTIONS_FILE = "deductions.jsonl"

# Columns shown as percentages in agents.xlsx (values stay fractions, 0.95 = 95%).
_PERCENT_COLUMNS = frozenset({"reply_rate", "answer_ratio"})


def _cell(value: Any) -> Any:
    if isinstance(value, bool):
        return "是" if value else "否"
    return value


def write_agents_csv(path: Path, rows: Iterable[dict[str, Any]], columns: list[tuple[str, str]]) -> None:
    """agents.csv: row 1 Chinese headers, row 2 the English keys of agents.json, then one row per agent-day.

    Written as UTF-8 with a BOM so Excel on a Chinese Windows machine opens it correctly.
    Unknown values (no timestamps) are empty cells, never 0; targets met are 是/否. Text cells
    are inert (:mod:`qc.outputs.cells`): an agent nick such as ``=1+1`` never runs as a formula.
    """
    with open_csv(path) as out:
        out.writerow([zh for _, zh in columns])
        out.writerow([key for key, _ in columns])
        for row in rows:
            out.writerow([_cell(row.get(k)) for k, _ in columns])


def write_agents_xlsx(path: Path, rows: Iterable[dict[str, Any]], columns: list[tuple[str, str]]) -> None:
    """agents.xlsx: the same layout as agents.csv on a sheet named 考核, headers frozen.

    Text cells are stored as strings, never formulas (:func:`qc.outputs.cells.append_inert`).
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.worksheet import Worksheet

    wb = Workbook()
    ws = wb.active
    assert isinstance(ws, Worksheet)  # a new workbook's one sheet
    ws.title = "考核"
    append_inert(ws, [zh for _, zh in columns])
    append_inert(ws, [key for key, _ in columns])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        append_inert(ws, [_cell(row.get(k)) for k, _ in columns])
    for index, (key, zh) in enumerate(columns, start=1):
        letter = get_column_letter(index)
        ws.column_dimensions[letter].width = max(10, len(key) + 2, 2 * len(zh) + 2)
        if key in _PERCENT_COLUMNS:
            for (cell,) in ws.iter_rows(min_row=3, min_col=index, max_col=index):
                cell.number_format = "0.0%"
    ws.freeze_panes = "C3"
    wb.save(path)


def write_agents_json(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    """agents.json: a list of objects, one per agent per day, with the agents.csv keys."""
    write_json(path, list(rows))


def deduction_records(deductions: Iterable[Any]) -> Iterable[dict[str, Any]]:
    """deductions.jsonl records (each lists the ids of the findings behind it)."""
    return (d.to_json() for d in deductions)


def write_score_outputs(
    out_dir: Path, deductions: Iterable[Any], rows: list[dict[str, Any]], columns: Any
) -> None:
    """Write deductions.jsonl and agents.csv/.xlsx/.json: what `qc inspect` and `qc export` hand over."""
    with (out_dir / DEDUCTIONS_FILE).open("w", encoding="utf-8") as fh:
        write_jsonl(fh, deduction_records(deductions))
    write_agents_csv(out_dir / AGENTS_CSV, rows, columns)
    write_agents_xlsx(out_dir / AGENTS_XLSX, rows, columns)
    write_agents_json(out_dir / AGENTS_JSON, rows)
