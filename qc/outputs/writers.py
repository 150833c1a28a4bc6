"""Writers for the files ``qc inspect --out DIR`` produces.

JSON is written with ``ensure_ascii=False`` so Chinese stays readable.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

import orjson

from qc.outputs.atomic import save_workbook
from qc.outputs.cells import append_inert, open_csv, text_id
from qc.run.inspector import ConversationResult
from qc.schema import NAMELESS_AGENT, Finding, Reject, Role
from qc.scoring.card import Scorecard

FINDINGS_FILE = "findings.jsonl"
CONVERSATIONS_FILE = "conversations.jsonl"
REJECTS_FILE = "rejects.jsonl"
RUN_FILE = "run.json"
# What only `qc export` writes: its record, and the decisions no longer attached to a finding.
EXPORT_RECORD = "export.json"
ORPHANED_FILE = "orphaned_decisions.jsonl"


def dumps(record: dict[str, Any]) -> str:
    """One JSON line, Chinese kept as is, no spaces: the line format of every JSON Lines output.

    orjson writes it, about four times faster than the standard library (every finding and
    conversation of a run passes here). Its text is the standard library's
    ``json.dumps(record, ensure_ascii=False, separators=(",", ":"))`` except for floats below
    1e-4, written without the exponent's leading zero (``5e-6``, not ``5e-06``), and NaN or
    infinity, written as ``null`` (JSON has no such numbers). What orjson refuses (a lone
    surrogate, an integer beyond 64 bits, a non-string key) the standard library writes.
    """
    try:
        return orjson.dumps(record).decode("utf-8")
    except TypeError:
        return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def dumpb(record: dict[str, Any]) -> bytes:
    """:func:`dumps` as UTF-8 bytes, for lines that go to a file without ever being a str.

    A worker's output lines travel to the main process and on to the file as bytes: orjson
    makes bytes, and a str would be decoded, pickled (encoded), unpickled (decoded) and written
    (encoded) again on the way, about 1 µs per message of a real-text day.
    """
    try:
        return orjson.dumps(record)
    except TypeError:
        # dumps's own fallback (rare); strict, as writing the text to a UTF-8 file is.
        return dumps(record).encode("utf-8")


def write_jsonl(handle: IO[str], records: Iterable[dict[str, Any]]) -> int:
    """Write records as JSON Lines; returns how many were written."""
    n = 0
    for record in records:
        handle.write(dumps(record))
        handle.write("\n")
        n += 1
    return n


def conversation_summary(result: ConversationResult, card: Scorecard | None = None) -> dict[str, Any]:
    """The per-conversation summary line: who, how long, what was found.

    With the run's ``card``, a finding the card holds back (``review_only``, under ``min_score``)
    counts under ``needs_review``, as the agents' scores count it, not under ``findings``; without
    one (Spark's DataFrame API, which scores nothing) the findings count as the rules made them.
    """
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
            agents.setdefault(m.agent_id or m.sender or NAMELESS_AGENT)  # Message.agent
        if m.sent_at is not None:
            times.append(m.sent_at)
    live: Counter[str] = Counter()
    suppressed = review = 0
    for f in result.findings:
        if f.suppressed:
            suppressed += 1
        if f.needs_review:
            review += 1
        elif f.live:
            # held_back() in one call: a review_only kind's threshold is infinite
            if card is not None and f.score < card.threshold(f.kind):
                review += 1
            else:
                live[f.kind] += 1
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
# The daily view beside a period's rows (``qc export --period``): the same files, this suffix.
DAILY_SUFFIX = "_daily"

# Columns shown as percentages in agents.xlsx (values stay fractions, 0.95 = 95%).
_PERCENT_COLUMNS = frozenset({"reply_rate", "answer_ratio"})


def _cell(value: Any) -> Any:
    if isinstance(value, bool):
        return "是" if value else "否"
    return value


def short_agent_names(agents: Iterable[str]) -> dict[str, str]:
    """How a table names each agent: 柚子优选旗舰店:小满 as 小满, unless another agent shown is 小满 too.

    Tables on a terminal have no room for the shop; two shops' 小二 (or unassigned) shown as
    the same short name read as one person, so those keep their full account.
    """
    accounts = list(dict.fromkeys(agents))
    short = {a: a.rpartition(":")[2] for a in accounts}
    uses = Counter(short.values())
    return {a: name if uses[name] == 1 else a for a, name in short.items()}


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
            out.writerow([agents_csv_cell(k, row.get(k)) for k, _ in columns])


# Columns holding an account or shop name: one that reads as a number (007, a staff id of 18
# digits) would lose its digits in Excel, and that is what a QA lead pastes into the 考核表.
_ID_COLUMNS = frozenset({"agent", "shop"})


# A scored window's label: a day stays as it is (Excel reads it as that very day); a month
# (2026-11), which Excel would read as its first day and show as Nov-26, is kept as text.
_DAY_LABEL = re.compile(r"\d{4}-\d{2}-\d{2}")


def agents_csv_cell(key: str, value: Any) -> Any:
    """One cell of an agents table's CSV row: an account, shop or period label Excel keeps as text."""
    if isinstance(value, str) and (key in _ID_COLUMNS or (key == "date" and not _DAY_LABEL.fullmatch(value))):
        return text_id(value)
    return _cell(value)


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
                cell.number_format = "0.00%"  # the rate as scored: to 0.01 % (audit 139 M1)
    ws.freeze_panes = "C3"
    save_workbook(wb, path)


def write_agents_json(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    """agents.json: a list of objects, one per agent per day, with the agents.csv keys."""
    write_json(path, list(rows))


def deduction_records(deductions: Iterable[Any]) -> Iterable[dict[str, Any]]:
    """deductions.jsonl records (each lists the ids of the findings behind it)."""
    return (d.to_json() for d in deductions)


def _named(name: str, daily: bool) -> str:
    if not daily:
        return name
    stem, dot, ext = name.partition(".")
    return f"{stem}{DAILY_SUFFIX}{dot}{ext}"


def score_output_names(daily: bool = False) -> tuple[str, ...]:
    """The files :func:`write_score_outputs` writes (the daily view's with ``daily``)."""
    return tuple(_named(n, daily) for n in (DEDUCTIONS_FILE, AGENTS_CSV, AGENTS_XLSX, AGENTS_JSON))


def export_only_names() -> tuple[str, ...]:
    """The files only ``qc export`` writes into a folder (a period's daily view, its record, the orphans)."""
    return (*score_output_names(daily=True), EXPORT_RECORD, ORPHANED_FILE)


def export_leftovers(out_dir: Path, inputs: Iterable[Path] = ()) -> tuple[str, ...]:
    """The files an earlier ``qc export`` left in ``out_dir``, which an inspection there would contradict.

    An inspection into a folder an export wrote showed its agents table beside the export's older
    daily view: two figures for one agent and day (audit 153 M3). Only where ``export.json`` is
    qc's export record, and never a file among ``inputs``: a user's own export.json, or a chat
    dump of that name inspected into its own folder, was deleted (audit 155 H1, H2).
    """
    record = out_dir / EXPORT_RECORD
    try:
        data = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return ()
    if not isinstance(data, dict) or not {"qc_version", "exported_at", "window", "scorecard"} <= set(data):
        return ()
    given = set()
    for path in inputs:
        try:
            given.add(path.resolve())
        except OSError:
            continue
    if any(p in given for p in (record.resolve(), out_dir.resolve())):
        return ()
    return tuple(
        name
        for name in export_only_names()
        if (out_dir / name).is_file() and (out_dir / name).resolve() not in given
    )


def write_score_outputs(
    out_dir: Path, deductions: Iterable[Any], rows: list[dict[str, Any]], columns: Any, *, daily: bool = False
) -> None:
    """Write deductions.jsonl and agents.csv/.xlsx/.json: what `qc inspect` and `qc export` hand over.

    With ``daily`` the files are named agents_daily.* and deductions_daily.jsonl (the daily
    view written beside a period's rows).
    """
    with (out_dir / _named(DEDUCTIONS_FILE, daily)).open("w", encoding="utf-8") as fh:
        write_jsonl(fh, deduction_records(deductions))
    write_agents_csv(out_dir / _named(AGENTS_CSV, daily), rows, columns)
    write_agents_xlsx(out_dir / _named(AGENTS_XLSX, daily), rows, columns)
    write_agents_json(out_dir / _named(AGENTS_JSON, daily), rows)


# ---------------------------------------------------------------- the printed agents table


_METRIC_FORMAT = {
    # As the agents files give them and their points are computed (scores.SHOWN_DECIMALS).
    "avg_response_s": ("{:.2f}", "timed_turns"),
    "first_response_s": ("{:.2f}", "first_responses"),
    "reply_rate": ("{:.2%}", "buyers_received"),
    "answer_ratio": ("{:.2%}", "buyer_messages"),
}


def _metric_cell(row: dict[str, Any], metric: str) -> str:
    fmt, sample = _METRIC_FORMAT.get(metric, ("{:g}", ""))
    value = row.get(metric)
    text = "–" if value is None else fmt.format(value)
    return f"{text} ({row.get(sample, 0)})" if sample else text


def _points_cell(row: dict[str, Any], item_id: str) -> str:
    return f"{row[f'{item_id}_points']:g}" + (" too few" if row.get(f"{item_id}_note") else "")


def _met_cell(row: dict[str, Any], item_id: str) -> str:
    met = row.get(f"{item_id}_met")
    return "–" if met is None else ("是" if met else "否")


def summary_table(rows: Iterable[dict[str, Any]], card: Any) -> tuple[list[str], list[list[str]]]:
    """The agents table a person reads (``qc inspect``, ``qc export``, ``qc report``): headers and cells.

    Headers may have two lines (label, then pts / score / (n) / met). Agent (without the shop
    prefix), window and conversations; then each item of the card in order: the 服务态度 item as
    its charged counts, points and score; a metric item as its value (with the count it
    averages in brackets), points and score, the points saying "too few" when the sample is
    below ``min_sample``; a target item worth nothing as met or not. Then the total.
    """
    from qc.scoring.scores import KIND_LABELS

    # (header, how to fill the cell): ("key", k) a field, ("metric", m), ("points", item id),
    # ("score", item id), ("met", item id).
    columns: list[tuple[str, str, str]] = [("agent", "agent", "agent"), ("date", "key", "date")]
    columns.append(("conv", "key", "conversations"))
    for item in card.items:
        if item.rule == "findings":
            charged = [k for k in (*card.verdict_order, *item.points) if item.points.get(k, 0) != 0]
            columns += [(KIND_LABELS.get(k, k), "key", k) for k in dict.fromkeys(charged)]
            # What waits for a reviewer, costing nothing yet: with the classifier's verdicts held by
            # the default card, nothing on the terminal said so (audit 165 M5).
            columns.append(("待复核\nheld", "key", "needs_review"))
        else:
            sample = _METRIC_FORMAT.get(item.metric, ("", ""))[1]
            columns.append((item.label + ("\n(n)" if sample else ""), "metric", item.metric))
            worth = item.max_points != 0 or item.deducts or item.points_met > 0 or item.points_missed > 0
            if not worth:
                if item.rule == "target":
                    columns.append((f"{item.label}\nmet", "met", item.id))
                continue
        columns += [(f"{item.label}\npts", "points", item.id), (f"{item.label}\nscore", "score", item.id)]
    columns += [("total\npts", "key", "total_points"), ("total\nscore", "key", "total_score")]

    shown = short_agent_names(str(r["agent"]) for r in rows)

    def cell(row: dict[str, Any], how: str, key: str) -> str:
        if how == "agent":
            return shown[str(row["agent"])]
        if how == "metric":
            return _metric_cell(row, key)
        if how == "points":
            return _points_cell(row, key)
        if how == "score":
            return f"{row[f'{key}_score']:g}"
        if how == "met":
            return _met_cell(row, key)
        value = row.get(key, 0)
        return f"{value:g}" if isinstance(value, float) else str(value)

    return [c[0] for c in columns], [[cell(r, how, key) for _, how, key in columns] for r in rows]
