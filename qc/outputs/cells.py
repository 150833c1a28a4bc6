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
* Numbers stay numbers in both.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

__all__ = ["FORMULA_TRIGGERS", "inert_text", "csv_value", "InertCsvWriter", "open_csv", "append_inert"]

# The first characters that make Excel, WPS or LibreOffice read a cell as a formula (OWASP).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# A plain decimal number, signed or not: spreadsheets read it as a number, never as a formula.
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def _risky(text: str) -> bool:
    return text.startswith(FORMULA_TRIGGERS) and _PLAIN_NUMBER.fullmatch(text) is None


def inert_text(text: str) -> str:
    """``text`` as a CSV cell that cannot run: a quote in front when it would start a formula."""
    return "'" + text if _risky(text) else text


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
    """A CSV file for people: UTF-8 with a BOM (Excel on a Chinese Windows opens it as is)."""
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        yield InertCsvWriter(fh)


def append_inert(ws: Any, values: Sequence[Any]) -> None:
    """Append a row to an openpyxl worksheet with every text cell stored as a string, never a formula."""
    ws.append(list(values))
    row = ws.max_row
    for column, value in enumerate(values, start=1):
        if isinstance(value, str):
            cell = ws.cell(row=row, column=column)
            cell.data_type = "s"
            if _risky(value):
                cell.quotePrefix = True
