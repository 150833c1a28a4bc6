"""Inert spreadsheet cells: nothing qc writes into a CSV or XLSX file runs as a formula.

Sender nicks, shop names and chat text come from outside: a nick such as
``=HYPERLINK("http://x","click")`` or ``+cmd|' /C calc'!A0`` would run in Excel or WPS when a
QA lead opens the file (CSV injection). Every CSV and XLSX writer of qc goes through this
module (agents.csv/.xlsx, the review sheet, the spot-check sample), so the rule lives once:

* CSV: a text cell that starts with ``=``, ``+``, ``-``, ``@``, tab or carriage return gets a
  leading single quote (the OWASP rule), unless it is a plain number such as ``-5`` or
  ``+1.5``, which spreadsheets read as that number and never as a formula.
* XLSX: every text cell is stored as a string (``data_type = "s"``); openpyxl would otherwise
  store a string starting with ``=`` as a formula. Such cells also get Excel's quote prefix
  style, so editing the cell in Excel keeps it text. The text itself is kept as it was.
* Numbers stay numbers in both. An identifier that reads as a number (a conversation id of 19
  digits, a finding id such as ``12e4…``) gets the leading quote in CSV too, via :func:`text_id`:
  Excel would show 1.23457E+18 or 1.2E+5 and save it back that way.
* An XLSX cell holds at most 32,767 characters (Excel's limit, counted in UTF-16 units); a
  longer text (a pasted log, a message kept whole past ``max_message_chars``) is cut there with
  a marker saying how long it was, so Excel opens the file instead of offering to repair it.
  CSV cells have no such limit and keep the whole text.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from qc.outputs.atomic import replacing
from qc.text.invisible import INVISIBLE

__all__ = [
    "FORMULA_TRIGGERS",
    "XLSX_MAX_CELL_CHARS",
    "inert_text",
    "csv_value",
    "fit_xlsx_cell",
    "text_id",
    "InertCsvWriter",
    "open_csv",
    "append_inert",
]

# The first characters that make Excel, WPS or LibreOffice read a cell as a formula (OWASP), and
# their full-width forms, which a Chinese input method types and WPS takes alike (audit 130 M1).
# The small forms (﹦﹢﹣﹫) too: a spreadsheet may fold them as it folds the full-width ones (audit 168 L1).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠", "﹦", "﹢", "﹣", "﹫")
# What may stand before a trigger and still let a spreadsheet read the formula: spaces of every
# width, line breaks and the characters that show nothing (zero-width space, joiners, direction
# marks an iPhone wraps a copied text in, BOM: audit 171 L2).
_LEADING = " \t\r\n\u00a0\u3000" + "".join(map(chr, range(0x2000, 0x200B))) + "".join(sorted(INVISIBLE))
# Excel's (and WPS's) limit on one cell's text, in UTF-16 code units: the file format's, not a setting.
XLSX_MAX_CELL_CHARS = 32767
# A plain decimal number, signed or not: spreadsheets read it as a number, never as a formula.
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def _risky(text: str) -> bool:
    core = text.lstrip(_LEADING)
    return (text.startswith(FORMULA_TRIGGERS) or core.startswith(FORMULA_TRIGGERS)) and (
        _PLAIN_NUMBER.fullmatch(core) is None
    )


def inert_text(text: str) -> str:
    """``text`` as a CSV cell that cannot run: a quote in front when it would start a formula."""
    return "'" + text if _risky(text) else text


def fit_xlsx_cell(text: str) -> str:
    """``text`` cut to fit one XLSX cell, with a marker naming its full length; short text as it is."""
    if len(text) <= XLSX_MAX_CELL_CHARS // 2 or len(text.encode("utf-16-le")) // 2 <= XLSX_MAX_CELL_CHARS:
        return text
    marker = f"…[已截断：原文 {len(text)} 字，全文见 CSV 或 qc show]"
    room = XLSX_MAX_CELL_CHARS - len(marker)
    kept: list[str] = []
    for ch in text:
        room -= 2 if ord(ch) > 0xFFFF else 1
        if room < 0:
            break
        kept.append(ch)
    return "".join(kept) + marker


# Text a spreadsheet opening a CSV turns into a date, time, percentage, fraction, currency or
# negative number: digits with only separators (2026-11, 1/2, 1688:1, 12%, (123), ¥12, 1,234,
# 11月24日) or an English month beside a number (Nov-26, 3-Jan).
_SEPARATORS = r"\s\-/:.,%()$¥￥年月日时分秒"
_COERCED = re.compile(rf"[{_SEPARATORS}]*\d[\d{_SEPARATORS}]*", re.IGNORECASE)
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*"
_MONTH_DATE = re.compile(rf"{_MONTH}[-/ ]\d+|\d+[-/ ]{_MONTH}(?:[-/ ]\d+)?", re.IGNORECASE)
_BOOLEAN = frozenset({"true", "false"})


def text_id(identifier: str) -> str:
    """An id as a CSV cell Excel keeps as text: one Excel would read as anything else gets a quote.

    That is a number (007, a staff id of 18 digits, 12e4), a date or time (2026-11, 1/2,
    1688:1, Nov-26), a percentage, a fraction, an amount, a negative in brackets or a truth
    value: Excel or WPS opening the CSV would keep the converted value, and a QA lead pasting
    the row into the 考核表 would paste that. Readers of qc's own sheets strip the quote again
    (``qc review import``).
    """
    text = identifier.strip()
    try:
        float(text)
    except ValueError:
        if not (_COERCED.fullmatch(text) or _MONTH_DATE.fullmatch(text) or text.casefold() in _BOOLEAN):
            return identifier
    return "'" + identifier


def csv_value(value: Any) -> Any:
    """One CSV cell value: ``None`` → empty, numbers as they are, text made inert."""
    if value is None:
        return ""
    if isinstance(value, str):
        return inert_text(value)
    return value


class InertCsvWriter:
    """``csv.writer`` whose rows go through :func:`csv_value` (the only CSV writer qc uses)."""

    def __init__(self, handle: IO[str]) -> None:
        self._writer = csv.writer(handle)

    def writerow(self, values: Iterable[Any]) -> None:
        """Write one row, every cell inert."""
        self._writer.writerow([csv_value(v) for v in values])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        """Write several rows, every cell inert."""
        for row in rows:
            self.writerow(row)


@contextmanager
def open_csv(path: Path) -> Iterator[InertCsvWriter]:
    """A CSV file for people: UTF-8 with a BOM (Excel on a Chinese Windows opens it as is).

    Written beside ``path`` and renamed over it when the block ends (:func:`replacing`): a full
    disk or an error leaves the earlier file, never an empty or cut one (audit 130 M6).
    """
    with replacing(path) as part, part.open("w", encoding="utf-8-sig", newline="") as fh:
        yield InertCsvWriter(fh)


def append_inert(ws: Any, values: Sequence[Any]) -> None:
    """Append a row to an openpyxl worksheet: text cells stored as strings (never formulas), cut to fit."""
    values = [fit_xlsx_cell(v) if isinstance(v, str) else v for v in values]
    ws.append(values)
    # The row append wrote. ws.max_row scans every cell: a month's review sheet (audit 107 M4)
    # took minutes, each row costing as much as all the rows before it.
    row = getattr(ws, "_current_row", None) or ws.max_row
    for column, value in enumerate(values, start=1):
        if isinstance(value, str):
            cell = ws.cell(row=row, column=column)
            cell.data_type = "s"
            if _risky(value):
                cell.quotePrefix = True
