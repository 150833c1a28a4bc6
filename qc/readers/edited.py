"""Tables a person edited and saved again: a review sheet, a spot-check sample.

QA staff open what qc exported in Excel or WPS, fill in columns and save. What comes back may be
CSV in UTF-8 (with or without a BOM), GBK/GB18030 (Excel on a Chinese Windows machine), UTF-16
("Unicode text", tab separated) or an XLSX workbook. :func:`read_table` reads all of them with
the chat readers' own sniffing (:func:`qc.readers.encoding.decode_text`) and gives every row as
text cells with its row number as Excel or WPS shows it (header = 1), so a command can name the
row it refuses. In a CSV that is the record's number, not the line's: a cell such as the review
sheet's 上文 holds line breaks, so one record spans several lines.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qc.errors import InputError
from qc.readers.encoding import UndecodableError, decode_text
from qc.readers.sniff import OLE_MAGIC, ZIP_MAGIC, guess_delimiter
from qc.readers.tabular import allow_long_cells, open_workbook

__all__ = ["EditedTable", "read_table", "cell_text"]


@dataclass(slots=True)
class EditedTable:
    """The rows of an edited file: ``(row number as Excel shows it, cells)``; blank rows left out."""

    path: Path
    format: str  # "csv" or "xlsx"
    encoding: str | None
    rows: list[tuple[int, list[str]]] = field(default_factory=list)
    # A workbook's: the sheet read, the visible sheets in order and the hidden ones (by title).
    sheet: str | None = None
    sheets: list[str] = field(default_factory=list)
    hidden: list[str] = field(default_factory=list)


def cell_text(value: Any) -> str:
    """A cell as text: empty for nothing, ``12`` for a whole float, else ``str``; stripped."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def read_table(
    path: Path,
    *,
    sheet: str | None = None,
    is_header: Callable[[list[str]], bool] | None = None,
    header_rows: int = 0,
) -> EditedTable:
    """Every row of a CSV (any encoding qc sniffs, any common delimiter) or of one sheet of an XLSX.

    The sheet is the first one, unless ``is_header`` is given: then it is the visible sheet
    named ``sheet`` if one of its first ``header_rows`` rows with text is a header
    (``is_header``), else the first visible sheet with such a row, else the first visible sheet.
    A workbook with a 说明 sheet put in front of the review sheet was read from 说明 (audit 119
    M3). The table says which sheet was read and which the workbook has, for the messages.

    Raises:
        InputError: the file cannot be opened, is an old .xls, is not a workbook or not text, or
            is named ``.xlsx`` but is no workbook; the message names the file and the fix.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if data.startswith(ZIP_MAGIC):
        return _xlsx(path, sheet, is_header, header_rows)
    workbook_name = path.suffix.lower() in (".xlsx", ".xlsm")
    if data.startswith(OLE_MAGIC):
        if workbook_name:  # Excel writes a password-protected .xlsx in the old container
            raise InputError(
                f"{path}: is a password-protected workbook or an old .xls renamed;"
                " save it without a password as .xlsx, or as CSV"
            )
        raise InputError(f"{path}: is an old binary Excel (.xls) file; save it as .xlsx or CSV")
    if workbook_name:
        # Read as text it would pass for a one-column CSV and be refused for its columns.
        raise InputError(
            f"{path}: is not an XLSX workbook (an .xlsx is a zip archive, this file is not);"
            " open it in Excel or WPS and save it as .xlsx or CSV"
        )
    try:
        text, encoding = decode_text(data)
    except UndecodableError as exc:
        raise InputError(f"{path}: {exc}") from None
    lines = text.split("\n")
    first = next((line for line in lines if line.strip()), "")
    table = EditedTable(path, "csv", encoding)
    allow_long_cells()  # the review sheet's 整条消息 holds a message whole, however long
    reader = csv.reader((line + "\n" for line in lines), delimiter=guess_delimiter(first))
    try:
        # Every record is a row in Excel, a blank one too; reader.line_num would count lines.
        for number, cells in enumerate(reader, start=1):
            if any(c.strip() for c in cells):
                table.rows.append((number, [c.strip() for c in cells]))
    except csv.Error as exc:
        raise InputError(
            f"{path}: line {reader.line_num}: not valid CSV ({exc}); re-save it from Excel"
        ) from None
    return table


def _has_header(ws: Any, is_header: Callable[[list[str]], bool], header_rows: int) -> bool:
    """True when one of the sheet's first ``header_rows`` rows with text is a header."""
    seen = 0
    for row in ws.iter_rows(values_only=True):
        cells = [cell_text(v) for v in row]
        if not any(cells):
            continue
        if is_header(cells):
            return True
        seen += 1
        if seen >= header_rows:
            break
    return False


def _pick_sheet(
    wb: Any, table: EditedTable, sheet: str | None, is_header: Callable[[list[str]], bool] | None, rows: int
) -> Any:
    """The worksheet to read (see :func:`read_table`); fills the table's sheet lists."""
    visible = [ws for ws in wb.worksheets if getattr(ws, "sheet_state", "visible") == "visible"]
    table.sheets = [ws.title for ws in visible]
    table.hidden = [ws.title for ws in wb.worksheets if ws not in visible]
    if is_header is None or not visible:
        return wb.worksheets[0]
    named = [ws for ws in visible if ws.title == sheet]
    for ws in [*named, *(ws for ws in visible if ws not in named)]:
        if _has_header(ws, is_header, rows):
            return ws
    return visible[0]


def _xlsx(
    path: Path, sheet: str | None, is_header: Callable[[list[str]], bool] | None, header_rows: int
) -> EditedTable:
    table = EditedTable(path, "xlsx", None)
    try:
        with open_workbook(path) as wb:
            try:
                ws = _pick_sheet(wb, table, sheet, is_header, header_rows)
                table.sheet = ws.title
                for number, row in enumerate(ws.iter_rows(values_only=True), start=1):
                    cells = [cell_text(v) for v in row]
                    if any(cells):
                        table.rows.append((number, cells))
            except Exception as exc:  # noqa: BLE001 - the sheet's XML is read only now, row by row
                raise InputError(
                    f"{path}: the sheet cannot be read ({type(exc).__name__}: its XML is damaged);"
                    " re-save it in Excel or WPS, or as CSV"
                ) from None
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds on corrupt files
        raise InputError(
            f"{path}: cannot open as XLSX ({type(exc).__name__}); re-save it in Excel or as CSV"
        ) from None
    return table
