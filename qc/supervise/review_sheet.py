"""Bulk review through a spreadsheet: export a day's or period's findings to CSV or XLSX, import decisions.

The sheet has Chinese headers (QA reads them; the English key of each column is accepted on
import too) and shows each finding with its message and the messages before it (as many as
the report shows), the points it puts at stake in the sheet's window and in the scorecard's
appraisal period (考核期, what payroll sees) and, when it costs nothing, why
(``不扣分原因``: rejected, vetoed by context, held for review, already charged once …). CSV is
UTF-8 with a BOM (Excel on a Chinese Windows opens it as is); ``--out review.xlsx`` writes a
workbook, the safer round trip (Excel never re-types an id there). Every cell is inert
(:mod:`qc.outputs.cells`).

QA fills ``复核结论`` with ``确认`` / ``驳回`` (``confirm`` / ``reject``), ``复核人`` and ``备注``
and saves: as CSV in any encoding Excel or WPS writes (UTF-8, UTF-8 with BOM, GBK/GB18030,
UTF-16) or as XLSX; :func:`import_review_sheet` reads each with the readers' own sniffing
(:func:`qc.readers.edited.read_table`). Each row is validated: an unknown finding id or
decision word, a person without the reviewer role, a reject without a note, a finding whose
appeal was ruled final, a finding the sheet both confirms and rejects (each of its rows), a CSV
row cut off before a column qc reads (Excel may leave out trailing empty cells, so 复核结论,
复核人 and 备注 may be missing): listed with its row number, the other rows still applied.
Empty decisions are skipped; a decision equal to the finding's current state is not logged again
(the same decision in two rows: once, with a warning).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from qc.batch.stored import score_stored
from qc.errors import ConfigError, InputError
from qc.outputs.atomic import save_workbook
from qc.outputs.cells import append_inert, inert_text, open_csv, text_id
from qc.readers.columns import normalize_header
from qc.readers.edited import EditedTable, read_table
from qc.readers.tabular import UNSAVED_FORMULA_FIX, formula_cells
from qc.schema import Conversation, Role
from qc.scoring.card import qualifies
from qc.scoring.metrics import UNDATED
from qc.scoring.periods import Period, Windows, period_of, range_period
from qc.store.database import Store, StoredFinding
from qc.supervise.flagged import charged_once, free_reasons
from qc.supervise.masking import conversation_masker, spans_of
from qc.supervise.people import list_people, login_source
from qc.supervise.report import load_reply_patterns
from qc.supervise.review import (
    CLOSED_ALONG,
    DECISIONS,
    PENDING,
    ReviewError,
    decide,
    finding_states,
    ruled_along,
)
from qc.supervise.states import ANSWERED, OPEN, OVERTURNED, UPHELD
from qc.text.pii import Masker, shown_value

__all__ = [
    "REVIEW_COLUMNS",
    "REVIEW_HEADERS",
    "export_review_sheet",
    "import_review_sheet",
    "ImportResult",
]

# (key, 表头): the sheet's columns in order. Import finds a column by either name.
# The 不扣分原因 of a finding whose message another row above already charges.
_SHARED = "同上：与本条消息的其他发现共一次扣分 (one message, one charge: counted on the row above)"

REVIEW_HEADERS: tuple[tuple[str, str], ...] = (
    ("finding_id", "发现编号"),
    ("date", "日期"),
    ("agent", "客服"),
    ("conversation_id", "会话编号"),
    ("message_index", "消息序号"),
    ("kind", "类型"),
    ("entry", "词条"),
    ("points", "扣分"),
    ("period", "考核期"),
    ("period_points", "考核期扣分"),
    ("why_free", "不扣分原因"),
    ("state", "复核状态"),
    ("appeal", "申诉"),
    ("text", "命中内容"),
    ("message", "整条消息"),
    ("context", "上文"),
    ("decision", "复核结论（确认/驳回）"),
    ("by", "复核人"),
    ("note", "备注（驳回必填）"),
)
REVIEW_COLUMNS = tuple(key for key, _ in REVIEW_HEADERS)
# Words QA may type in the decision column → the decision.
_WORDS = {"confirm": "confirm", "确认": "confirm", "reject": "reject", "驳回": "reject"}
# The cells the export leaves empty in every row, the last three: the only ones a CSV row may lack.
_FILLED_BY_QA = frozenset({"decision", "by", "note"})
_HEADER_SEARCH_ROWS = 10
# The exported workbook's sheet: import reads it first, wherever a reviewer moved it.
SHEET_TITLE = "复核"


def _aliases() -> dict[str, str]:
    """Folded header → key: the English key, the Chinese header, and the header without its hint."""
    out: dict[str, str] = {}
    for key, zh in REVIEW_HEADERS:
        for name in (key, zh, zh.split("（")[0]):
            out[normalize_header(name)] = key
    return out


_ALIASES = _aliases()


def _is_header(cells: list[str]) -> bool:
    """True for the review sheet's header row: one with the 发现编号 (finding_id) column."""
    return any(_ALIASES.get(normalize_header(c)) == "finding_id" for c in cells)


def export_review_sheet(
    store: Store,
    days: Period | str,
    out: Path,
    card: Any,
    mask: Masker | None = None,
    notes: list[str] | None = None,
) -> int:
    """Write a day's or period's findings to a review sheet (XLSX for ``*.xlsx``, else CSV); returns how many.

    Live findings come first, most points at stake first, then the held-back ones.
    ``points`` is what each finding puts at stake in ``days`` scored as one window, as
    ``qc export`` scores it (a slow reply: its share of the response-time points; a rejected
    finding: 0); ``period_points`` what it puts at stake in the scorecard's appraisal period
    that holds its day (the stored days of that month so far, on the seed card). They differ:
    a slow reply that a day's few turns leave under ``min_sample`` may cost points in the month,
    and a day's slow replies may cost nothing in a month whose average is on target, so a
    reviewer working day by day sees what payroll will see (audit 97 #6). An enabled ``mask``
    masks each text with its conversation's buyer nicks too. ``notes`` gets what the caller
    should say: a period that cannot be scored with ``card`` leaves the 考核期 cells empty.
    """
    window = days if isinstance(days, Period) else range_period(days, days)
    mask = mask or Masker(False)
    context_size = load_reply_patterns().context_messages
    stored = store.findings(date_from=window.first, date_to=window.last)
    convs = store.conversations({s.finding.conversation_id for s in stored})
    findings = [s.finding for s in stored]
    states = finding_states(store, [f.id for f in findings])
    appeals = _appeal_cells(store, {f.id for f in findings})
    # Points with the decisions applied: a rejected finding puts nothing at stake (and says why).
    points = _stakes(store, card, window) if stored else {}
    appraisal: dict[str, str] = {}
    period_points: dict[str, float] = {}
    if stored:
        try:
            appraisal, period_points = _appraisal_stakes(store, card, window, points)
        except ConfigError as other_card:
            # Another day of the month saved under other evidence limits: the day's sheet was
            # refused whole (audit 107 M1); it is written, with the period's cells empty.
            if notes is not None:
                notes.append(f"the 考核期 columns are empty: {other_card}")
    reasons = free_reasons(list(convs.values()), findings, card, points, states)
    # Held back by the card (review_only, under min_score) sorts with the held findings.
    stored.sort(
        key=lambda s: (not qualifies(s.finding, card), points.get(s.id, 0), s.finding.conversation_id)
    )
    # A message's verdict is charged once: its other findings show 0 (同上), so the column adds up
    # to what the day cost, as the workbench's list does (audit 97 #4).
    shown, shared = charged_once(stored, points, card.evidence_kinds)
    period_shown, _ = charged_once(stored, period_points, card.evidence_kinds)
    charged: dict[str, list[str]] = {}
    for s in stored:
        charged.setdefault(s.finding.conversation_id, []).extend(spans_of([s.finding]))
    rows: list[list[Any]] = []
    for s in stored:
        f = s.finding
        conv = convs.get(f.conversation_id)
        message = context = ""
        # The words the lexicon charged in the conversation stay readable (a buyer nicknamed
        # 爱买不买), on the model's row of that message too (audit 94 #3); the import masks alike.
        spared = charged.get(f.conversation_id, [])
        mask_conv = conversation_masker(mask, conv.messages, spared) if conv is not None else mask
        if conv is not None and 0 <= f.message_index < len(conv.messages):
            message = conv.messages[f.message_index].text
            context = _context(conv, f.message_index, context_size)
        lost = shown.get(f.id, 0.0)
        rows.append(
            [
                f.id,
                s.date,
                f.agent or "",
                mask.identifier(f.conversation_id),  # some exports make it the buyer's phone
                f.message_index,
                f.kind,
                f.entry or "",
                lost,
                appraisal.get(s.date, ""),
                period_shown.get(f.id, 0.0) if s.date in appraisal else "",
                # only findings that cost nothing have a reason
                _SHARED if f.id in shared else reasons.get(f.id, ""),
                states.get(f.id, "pending"),
                appeals.get(f.id, ""),
                mask_conv(f.text),
                mask_conv(message),
                mask_conv(context),
                "",
                "",
                "",
            ]
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".xlsx":
        _write_xlsx(out, rows)
    else:
        with open_csv(out) as w:
            w.writerow(zh for _, zh in REVIEW_HEADERS)
            for row in rows:
                w.writerow(
                    [
                        text_id(row[0]),
                        row[1],
                        text_id(row[2]),
                        text_id(row[3]),
                        *row[4:7],
                        f"{row[7]:g}",
                        row[8],
                        f"{row[9]:g}" if isinstance(row[9], float) else row[9],
                        *row[10:],
                    ]
                )
    return len(rows)


def _stakes(store: Store, card: Any, window: Period) -> dict[str, float]:
    """Each finding's points at stake in ``window`` scored as one, decisions applied."""
    # A day is its own window (the undated "day" too, which no fixed window holds).
    windows = None if window.kind == "day" else Windows.only(window)
    return score_stored(store, card, window.first, window.last, windows).stakes(card)[0]


def _appraisal_stakes(
    store: Store, card: Any, window: Period, points: dict[str, float]
) -> tuple[dict[str, str], dict[str, float]]:
    """``(day → its appraisal period's label, finding id → points at stake in that period)``.

    The periods are the card's ``[period] appraisal`` windows that hold the sheet's days, scored
    whole (every stored day of them, not only the sheet's), as `qc export --period` scores them.
    ``points`` is reused when the sheet's window is that period. Days without a time belong to
    no period and are left out.
    """
    kind = card.appraisal
    ends = [period_of(day, kind) for day in (window.first, window.last) if day != UNDATED]
    if not ends or ends[0] is None or ends[-1] is None:
        return {}, {}
    first, last = ends[0], ends[-1]
    labels = {day: p.label for day in window.days() if (p := period_of(day, kind)) is not None}
    if first == last and (first.first, first.last) == (window.first, window.last):
        return labels, points
    scored = score_stored(store, card, first.first, last.last, Windows(kind))
    return labels, scored.stakes(card)[0]


def _appeal_cells(store: Store, finding_ids: set[str]) -> dict[str, str]:
    """The 申诉 cell of each finding with an appeal: its latest appeal's number and state.

    A finding whose appeal is pending or ruled is not reviewed (its ruling decides it), so the
    sheet says so before QA fills the row in, rather than the import refusing it afterwards.
    """
    latest: dict[str, dict[str, Any]] = {}
    appeals = store.appeal_rows()
    for row in appeals:
        if row["finding_id"] in finding_ids:
            latest[row["finding_id"]] = row  # oldest first: the last one stays
    words = {
        OPEN: "申诉中 open",
        ANSWERED: "申诉中 answered",
        UPHELD: "已裁定 upheld",
        OVERTURNED: "已裁定 overturned",
    }
    out: dict[str, str] = {}
    for fid, row in latest.items():
        word = words.get(row["state"])
        if word is not None:  # a reopened appeal is settled again by a new one, or left to review
            closed = (
                "不复核 not reviewed: the ruling decides"
                if row["state"] in (OPEN, ANSWERED)
                else "终局 final"
            )
            out[fid] = f"#{row['id']} {word} · {closed}"
    # The same reply's other findings a final ruling decided with the appealed one (--with-message):
    # final too, and the import refuses them, so the sheet says so (audit 100 N7).
    # So too for one held for review on a reply an overturn cleared with its message (audit 169 F6).
    decided = {fid for ids in store.decided_with([r["id"] for r in appeals]).values() for fid in ids}
    held_closed = set(store.latest_states((CLOSED_ALONG,)))
    for fid in sorted(((decided | held_closed) & finding_ids) - set(latest)):
        ruling = ruled_along(store, fid)
        if ruling is not None and ruling.get("closed"):
            out[fid] = f"随 #{ruling['id']} 整条消息撤销 · 终局 final (closed with it)"
        elif ruling is not None:
            out[fid] = f"随 #{ruling['id']} {words[ruling['state']]} · 终局 final (decided with it)"
    return out


def _write_xlsx(out: Path, rows: list[list[Any]]) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.worksheet import Worksheet

    wb = Workbook()
    ws = wb.active
    assert isinstance(ws, Worksheet)  # a new workbook's one sheet
    ws.title = SHEET_TITLE
    append_inert(ws, [zh for _, zh in REVIEW_HEADERS])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        append_inert(ws, row)
    widths = {
        "finding_id": 18,
        "why_free": 36,
        "appeal": 24,
        "text": 16,
        "message": 40,
        "context": 48,
        "note": 30,
    }
    for index, (key, zh) in enumerate(REVIEW_HEADERS, start=1):
        ws.column_dimensions[get_column_letter(index)].width = widths.get(key, max(10, 2 * len(zh) + 2))
        if key in ("why_free", "message", "context"):
            for (cell,) in ws.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "B2"
    save_workbook(wb, out)


def _context(conv: Conversation, index: int, window: int) -> str:
    """The messages before ``index`` (buyer and typed agent messages), one per line."""
    before = [m for m in conv.messages[:index] if m.role is Role.CUSTOMER or m.counts_as_agent]
    names = {Role.CUSTOMER: "买家", Role.AGENT: "客服"}
    return "\n".join(f"{names[m.role]}: {m.text}" for m in (before[-window:] if window > 0 else []))


@dataclass(frozen=True, slots=True)
class RowProblem:
    """A refused row: its row number as Excel or WPS shows it (header = 1; in a CSV the record's) and why."""

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
    """What an import did, and what it read (format and encoding, for the summary).

    ``warnings`` name rows that were applied but look like a slip (the same decision twice).
    """

    changed: list[RowChange] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    warnings: list[RowProblem] = field(default_factory=list)
    unchanged: int = 0
    skipped: int = 0
    format: str = ""
    encoding: str | None = None
    sheet: str | None = None  # the sheet read, in a workbook of several


def _value(cells: list[str], index: int | None) -> str:
    """A cell of the row, stripped (the quote qc put in front of a CSV cell is gone: :func:`_unquoted`)."""
    if index is None or index >= len(cells):
        return ""
    return cells[index].strip()


def _unquoted(cell: str) -> str:
    """A CSV cell without the quote qc's export put in front, and only that quote.

    The export quotes a cell a spreadsheet would run (``'=…``, :func:`~qc.outputs.cells.inert_text`)
    or re-type (an id such as ``'007``, :func:`~qc.outputs.cells.text_id`); any other leading ``'``
    is the text's own (a reply that starts with one), kept so that the row still matches its
    finding (audit 168 L2). An XLSX cell is never quoted: qc marks it as text instead.
    """
    text = cell.strip()
    if not text.startswith("'"):
        return cell
    rest = text[1:]
    return rest if inert_text(rest) != rest or text_id(rest) != rest else cell


def _finding_id(cells: list[str], columns: dict[str, int]) -> str:
    """The row's 发现编号 in the store's spelling (lower-case hex, whatever case was typed).

    An id never starts with a quote: one there is the quote qc's CSV put before an id of digits,
    kept by Excel when the CSV was saved again as XLSX.
    """
    return _value(cells, columns["finding_id"]).lower().removeprefix("'").strip()


def import_review_sheet(store: Store, path: Path, default_by: str = "") -> ImportResult:
    """Apply the decisions of an edited review sheet (see the module docstring for the rules).

    A readable sheet without the 发现编号 or 复核结论 column is not an error here: it comes back
    as one refused row (the caller exits 2, a usage problem like any refused row).

    Raises:
        InputError: the file cannot be read at all or has no row with text (exit 1), with the fix.
        ReviewError: the store has no people yet (exit 2), with the fix.
    """
    table = read_table(path, sheet=SHEET_TITLE, is_header=_is_header, header_rows=_HEADER_SEARCH_ROWS)
    if not table.rows:
        where = f"its sheet {table.sheet!r} has" if table.format == "xlsx" else "no row has"
        raise InputError(
            f"{path}: is empty ({where} any text); export a sheet with qc review export,"
            " fill it and save it again"
        )
    several = len(table.sheets) + len(table.hidden) > 1
    result = ImportResult(
        format=table.format, encoding=table.encoding, sheet=table.sheet if several else None
    )
    header_at = None
    columns: dict[str, int] = {}
    for position, (_line, cells) in enumerate(table.rows[:_HEADER_SEARCH_ROWS]):
        found = {
            _ALIASES[normalize_header(c)]: i
            for i, c in reversed(list(enumerate(cells)))
            if normalize_header(c) in _ALIASES
        }
        if "finding_id" in found:
            header_at, columns = position, found
            break
    if header_at is not None:
        # A column qc reads, twice (a copied 复核结论): the first was read, what was typed in the
        # other was passed over unsaid (audit 172 F10).
        keys = [
            _ALIASES[normalize_header(c)] for c in table.rows[header_at][1] if normalize_header(c) in _ALIASES
        ]
        twice = sorted({k for k in keys if keys.count(k) > 1}, key=keys.index)
        if twice:
            names = ", ".join(dict(REVIEW_HEADERS)[k] for k in twice)
            result.problems.append(
                RowProblem(
                    table.rows[header_at][0],
                    f"the sheet has two columns {names}: keep one and import it again",
                )
            )
            return result
    missing = [key for key in ("finding_id", "decision") if key not in columns]
    if header_at is None or missing:
        names = " and ".join(f"{dict(REVIEW_HEADERS)[k]} ({k})" for k in missing or ["finding_id"])
        first = table.rows[0][0] if table.rows else 1
        fix = "export a fresh sheet with qc review export"
        if header_at is None and table.format == "xlsx":
            # A reviewer told to export afresh lost what they typed on a sheet qc did not read.
            fix = _no_review_sheet(table.sheets, table.hidden)
        result.problems.append(RowProblem(first, f"no column {names}; {fix}"))
        return result
    if not list_people(store):
        raise ReviewError(
            "this store has no people yet: register the reviewers named in the sheet first,"
            " e.g. qc people add 质检小王 --role reviewer"
        )
    header = table.rows[header_at][1]
    rows = []
    for line, read in table.rows[header_at + 1 :]:
        cells = [_unquoted(c) for c in read] if table.format == "csv" else read
        cut = _cut_off(cells, header, columns) if table.format == "csv" else None
        if cut:
            result.problems.append(RowProblem(line, cut))
        else:
            rows.append((line, cells))
    ids = {_finding_id(cells, columns) for _, cells in rows}
    # The newest run before the rows are checked: a row is checked again only if a save came since.
    checked_at = store.newest_run()
    stored = {s.id: s for s in store.findings(finding_ids=ids)}
    known = set(stored)
    moved = _moved(store, rows, columns, stored)
    states = finding_states(store, list(known))
    conflicts = _conflicts(rows, columns, result)
    unsaved = _unsaved_formulas(table, rows, columns) if table.format == "xlsx" else {}
    for line, cells in rows:
        fid = _finding_id(cells, columns)
        word = _value(cells, columns["decision"]).lower()
        if line in unsaved:
            result.problems.append(RowProblem(line, unsaved[line]))
            continue
        if not word:
            result.skipped += 1
            continue
        if word not in _WORDS:
            result.problems.append(
                RowProblem(
                    line, f"decision {shown_value(word)!r} is unknown: write 确认 or 驳回 (confirm or reject)"
                )
            )
            continue
        if fid not in known:
            result.problems.append(RowProblem(line, _not_stored(store, fid)))
            continue
        if fid in conflicts:
            result.problems.append(RowProblem(line, conflicts[fid]))
            continue
        if line in moved:
            result.problems.append(RowProblem(line, moved[line]))
            continue
        decision = _WORDS[word]
        by = _value(cells, columns.get("by")) or default_by
        if states.get(fid, "pending") == DECISIONS[decision]:
            result.unchanged += 1
            continue
        # The row names its reviewer (复核人, or --by for an empty one); the login that imported
        # it is recorded beside (audit 168 M1).
        source = login_source(f"{table.format}:{path.name}:{line}")
        expected = _shown_state(store, fid, cells, columns, states, source, by)
        try:
            d = decide(
                store,
                fid,
                decision,
                by=by,
                note=_value(cells, columns.get("note")),
                source=source,
                expected=expected,
                # A sheet that shows no 复核状态 cannot vouch that the reviewer saw another
                # person's decision: as on the command line, it is not overturned silently.
                overturn=expected is not None,
                # Checked again under the write lock: a re-run saved during the import (it takes
                # seconds) renumbered the conversation, and the row landed on a message nobody read.
                check=partial(_moved_row, store, line, cells, columns, checked_at),
            )
        except ReviewError as exc:
            result.problems.append(RowProblem(line, str(exc)))
            continue
        if not d.recorded:  # the finding already holds this decision
            result.unchanged += 1
            continue
        states[fid] = d.after
        result.changed.append(RowChange(line, fid, d.before, d.after))
    result.problems.sort(key=lambda p: p.row)
    return result


def _unsaved_formulas(
    table: EditedTable, rows: list[tuple[int, list[str]]], columns: dict[str, int]
) -> dict[int, str]:
    """Rows whose empty 复核结论 (or 复核人, 备注 beside a decision) is a formula with no saved value.

    A workbook written by a script (openpyxl) stores a formula without its value: read for its
    values, ``=IF(TRUE,"驳回","")`` is empty and the row was counted as without decision, and a
    formula 复核人 was told --by is required (audit 119 M4). The cells are named as ``qc inspect``
    names them (``复核!Q12``), not the formula, which may quote a buyer.
    """
    from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

    headers = dict(REVIEW_HEADERS)
    empty: dict[int, dict[int, str]] = {}  # row → column index → key, of the cells to look at
    for line, cells in rows:
        decided = bool(_value(cells, columns["decision"]))
        for key in ("decision", "by", "note"):
            index = columns.get(key)
            if index is not None and not _value(cells, index) and (key == "decision" or decided):
                empty.setdefault(line, {})[index] = key
    if not empty:
        return {}
    try:
        found = formula_cells(table.path, set(empty), sheet=table.sheet)
    except Exception:  # noqa: BLE001 - the workbook was read above; this second look only words a refusal
        return {}
    cells_of: dict[int, list[str]] = {}
    for sheet, ref, _formula in found:
        letters, row = coordinate_from_string(ref)
        column = empty.get(row, {}).get(column_index_from_string(letters) - 1)
        if column is not None:
            cells_of.setdefault(row, []).append(f"{sheet}!{ref} ({headers[column].split('（')[0]})")
    return {
        line: (
            f"{', '.join(refs)} {'holds a formula' if len(refs) == 1 else 'hold formulas'} with no saved"
            f" value, so the row cannot be read; {UNSAVED_FORMULA_FIX}, or type the value in place of"
            " the formula (确认 or 驳回 in 复核结论); nothing was applied for this row"
        )
        for line, refs in cells_of.items()
    }


def _not_stored(store: Store, fid: str) -> str:
    """Why a row's finding id is not in the store, as far as the store knows, and the fix.

    A sheet exported before a re-inspection names ids the re-run renumbered or no longer finds:
    "is not in the store" alone gave no fix (audit 119 L4).
    """
    fresh = "export a fresh sheet with qc review export and decide it there"
    head = f"finding id {shown_value(fid, 20)!r} is not in the store"
    moved = [m for m in store.decision_moves(fid) if m["from"] == fid] if fid else []
    if moved:
        m = moved[-1]
        return (
            f"{head}: run #{m['run']} (started {m['at']}) renumbered it to {m['to']}, and its decisions"
            f" moved there (qc review log {m['to']}); {fresh}"
        )
    parked = store.parked_as(fid) if fid else []
    if parked:
        return (
            f"{head}: a re-inspection no longer found it on its message; its decisions are kept as"
            f" {parked[-1]} (qc review log {parked[-1]}); {fresh}"
        )
    return (
        f"{head}: a re-inspection since the sheet was exported renumbered or removed it, or the id"
        f" was mistyped, or the sheet is another store's (--db); {fresh}"
    )


def _no_review_sheet(sheets: list[str], hidden: list[str]) -> str:
    """The fix when no visible sheet of a workbook has the review sheet's header, naming the sheets."""
    seen = ", ".join(repr(t) for t in sheets) or "none"
    out = f"no visible sheet has the {dict(REVIEW_HEADERS)['finding_id']} header (sheets read: {seen}"
    if hidden:
        unhide = ", ".join(repr(t) for t in hidden)
        out += f"; hidden, not read: {unhide}: unhide the review sheet in Excel or WPS"
    return (
        out + "). If decisions were typed on a sheet whose header row was deleted, copy the header row"
        " of a fresh qc review export above them and import again (a fresh sheet alone would lose"
        " them); otherwise export a fresh sheet with qc review export"
    )


def _moved(
    store: Store, rows: list[tuple[int, list[str]]], columns: dict[str, int], stored: dict[str, Any]
) -> dict[int, str]:
    """Rows whose finding id now names a finding on another message than the sheet shows.

    An id is made from the message's place in its conversation: when a later run put an earlier
    part in front, the same id names what is now message 2, a greeting, not the 上面写着呢 the
    reviewer read. The sheet's 命中内容 tells (plain, or masked as the export masked it).
    """
    if "text" not in columns:
        return {}
    found = {line: s for line, cells in rows if (s := stored.get(_finding_id(cells, columns))) is not None}
    if not found:
        return {}
    convs = store.conversations({s.finding.conversation_id for s in found.values()})
    # The export spares the phrases the day's findings charged in the row's conversation.
    charged: dict[tuple[str, str], list[str]] = {}
    for other in store.findings(conversation_ids=sorted(convs)):
        charged.setdefault((other.finding.conversation_id, other.date), []).extend(spans_of([other.finding]))
    window = load_reply_patterns().context_messages
    by_line = dict(rows)
    out = {}
    for line, s in found.items():
        cells = by_line[line]
        conv = convs.get(s.finding.conversation_id)
        # As this qc exports it (the conversation's charged words spared), and as ones before it
        # did (the row's own, or every nick masked). A sheet exported masked by any of them still
        # matches its own rows.
        plain = Masker(True)
        masks = (
            [
                conversation_masker(
                    plain, conv.messages, charged.get((s.finding.conversation_id, s.date), [])
                ),
                conversation_masker(plain, conv.messages, spans_of([s.finding])),
                conversation_masker(plain, conv.messages),
            ]
            if conv is not None
            else [plain]
        )
        shown = _same_form(_value(cells, columns["text"]))
        forms = {_same_form(s.finding.text), *(_same_form(m(s.finding.text)) for m in masks)}
        # A reply of its own starting '=…: the CSV cell reads as a quoted formula, quote taken off;
        # and a CSV Excel saved again as XLSX keeps the quote qc put before a formula (audit 169 F1).
        if shown and not {shown, _same_form("'" + shown), _same_form(_unquoted(shown))} & forms:
            out[line] = (
                f"finding {s.id} is now on another message: the sheet shows {shown_value(shown, 20)!r},"
                f" the store's finding is on {shown_value(masks[-1](s.finding.text), 20)!r} (a part of"
                " conversation"
                f" {shown_value(s.finding.conversation_id, 40)} inspected since the export renumbered its"
                " messages); export a fresh sheet and decide it there"
            )
            continue
        # The same words again (不知道, 嗯: agents repeat short replies) on another message: the
        # 上文 the reviewer read tells the two apart.
        said = _same_form(_value(cells, columns["context"])) if "context" in columns else ""
        index = s.finding.message_index
        if (
            said
            and conv is not None
            and 0 <= index < len(conv.messages)
            and any(m.text == conv.messages[index].text for m in conv.messages if m.index != index)
        ):
            now = _context(conv, index, window)
            if said not in {_same_form(now), *(_same_form(m(now)) for m in masks)}:
                out[line] = (
                    f"finding {s.id} is now on another message of the same words: the 上文 the sheet shows"
                    f" is not what comes before it now (a part of conversation"
                    f" {shown_value(s.finding.conversation_id, 40)} inspected since the export renumbered"
                    " its messages); export a fresh sheet and decide it there"
                )
    return out


def _moved_row(
    store: Store, line: int, cells: list[str], columns: dict[str, int], checked_at: int, fresh: StoredFinding
) -> str | None:
    """Why one row's finding, as stored now, is on another message than the row shows (or None).

    Read again only when a run was saved since the rows were checked (``checked_at``, the newest
    run then): a conversation per row made an import of 500 rows take 1.7 times as long.
    """
    if store.newest_run() == checked_at:
        return None
    return _moved(store, [(line, cells)], columns, {fresh.id: fresh}).get(line)


def _same_form(text: str) -> str:
    """A cell's text as compared with the store's: line ends as stored, no surrounding space."""
    return text.replace("\r\n", "\n").strip()


def _shown_state(
    store: Store,
    fid: str,
    cells: list[str],
    columns: dict[str, int],
    states: dict[str, str],
    source: str,
    by: str,
) -> str | None:
    """The 复核状态 the sheet showed, for :func:`decide` to hold against the store's (None: not checked).

    A decision that landed after the export (another reviewer's, the command line's) is then
    refused instead of silently overturned, as in the workbench. Not checked when the column
    is missing or edited into something that is no state, nor when the latest decision came
    from an earlier import of this same sheet by this same reviewer (changing their own mind).
    The file name alone does not tell: two reviewers both save the README's ``review.csv``.
    """
    shown = _value(cells, columns.get("state")).lower()
    if shown not in (PENDING, *DECISIONS.values()):
        return None
    if states.get(fid, PENDING) != shown:
        sheet = source.rsplit(":", 1)[0] + ":"
        decisions = [r for r in store.audit_trail(fid) if r["action"] in DECISIONS]
        if decisions:
            last = decisions[-1]
            # A person's name is matched stripped, as decide registers the actor.
            if str(last.get("source", "")).startswith(sheet) and last.get("actor") == by.strip():
                return None
    return shown


def _cut_off(cells: list[str], header: list[str], columns: dict[str, int]) -> str | None:
    """Why a CSV row is refused as cut off (a column qc reads is missing) or shifted (extra cells), or None.

    Excel and WPS leave out a CSV row's trailing empty cells, and the export leaves only
    复核结论, 复核人 and 备注 empty in every row: a row may lack those. Any other missing column
    means the row was cut (its decision may have been lost), so nothing is applied for it.
    """
    if len(cells) > len(header):
        if not any(c.strip() for c in cells[len(header) :]):
            return None  # empty cells past the last column: nothing was shifted
        return (
            f"has {len(cells)} cells, the header {len(header)}: a cell was split or the row shifted"
            " (its decision would be read from another column), nothing applied for it; fix the row"
            " in Excel or WPS"
        )
    if len(cells) == len(header):
        return None
    missing = [key for key, index in columns.items() if index >= len(cells) and key not in _FILLED_BY_QA]
    if not missing:
        return None
    last = header[len(cells) - 1].split("（")[0] or f"column {len(cells)}"
    return (
        f"cut off after {last} ({len(cells)} of {len(header)} cells): nothing applied for it;"
        " re-save the sheet from Excel or WPS, or fill the row again"
    )


def _conflicts(
    rows: list[tuple[int, list[str]]], columns: dict[str, int], result: ImportResult
) -> dict[str, str]:
    """Finding id → why its rows are refused, for findings the sheet both confirms and rejects.

    Applying both would let the row order decide silently; the reviewer has to pick one. The
    same decision in several rows is no contradiction: it is decided once and ``result`` gets a
    warning naming the rows.
    """
    decided: dict[str, list[tuple[int, str]]] = {}
    for line, cells in rows:
        word = _value(cells, columns["decision"]).lower()
        if word in _WORDS:
            decided.setdefault(_finding_id(cells, columns), []).append((line, _WORDS[word]))
    out: dict[str, str] = {}
    for fid, found in decided.items():
        if len(found) < 2:
            continue
        lines = _rows_text([line for line, _ in found])
        decisions = {decision for _, decision in found}
        if len(decisions) > 1:
            both = " and ".join(sorted(decisions))
            out[fid] = (
                f"finding {fid} has conflicting decisions in rows {lines} ({both}):"
                " nothing applied for it; keep one row"
            )
        else:
            result.warnings.append(
                RowProblem(
                    found[0][0],
                    f"rows {lines} {'both' if len(found) == 2 else 'all'} {found[0][1]} finding {fid};"
                    " it is decided once",
                )
            )
    return out


def _rows_text(lines: list[int]) -> str:
    """``2 and 5``, ``2, 5 and 9``: row numbers for a message."""
    return ", ".join(map(str, lines[:-1])) + f" and {lines[-1]}"
