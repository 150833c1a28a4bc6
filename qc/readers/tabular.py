"""CSV/TSV and XLSX: one message per row under a header row.

The header is the first row (among the first few non-empty ones) that names a
text column; rows above it are rejected as "above the header". Headers are
matched with :mod:`qc.readers.columns`; ``--column`` overrides them.
"""

from __future__ import annotations

import csv
import itertools
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from qc.readers.columns import (
    FALLBACK_ALIASES,
    HEADER_ALIASES,
    competing_headers,
    is_header_name,
    map_headers,
    normalize_header,
)
from qc.readers.encoding import Decoded
from qc.readers.limits import InputLimits, load_limits
from qc.readers.records import RawRecord, garbled_reason, make_reject, mixed_line_ends
from qc.readers.roles import parse_role_word
from qc.schema import Reject
from qc.text.pii import shown_value


def allow_long_cells() -> None:
    """Let Python's csv read cells of any length (its default refuses one over 131,072 characters).

    A cell holds a whole message, and a message of any length is kept (``max_message_chars``
    only bounds what is inspected), as in JSON Lines; a sheet qc wrote must read back whole.
    """
    csv.field_size_limit(2**31 - 1)


allow_long_cells()

DELIMITERS = (",", "\t", ";", "|")
# How many leading non-empty rows may be titles before the header row.
_HEADER_SEARCH_ROWS = 10


class NoHeaderError(Exception):
    """No row looks like a header with the columns qc needs; the message says how to fix it."""


def _known(column_map: Mapping[str, str]) -> set[str]:
    names = {
        normalize_header(a)
        for table in (HEADER_ALIASES, FALLBACK_ALIASES)
        for aliases in table.values()
        for a in aliases
    }
    return names | {normalize_header(h) for h in column_map.values()}


def header_score(line: str, column_map: Mapping[str, str]) -> tuple[int, str]:
    """(known header names, delimiter) for the best delimiter of a candidate header line."""
    known = _known(column_map)
    best = (0, ",")
    for delim in DELIMITERS:
        try:
            cells = next(csv.reader([line], delimiter=delim), [])
        except csv.Error:  # e.g. a stray carriage return: not a header line
            continue
        score = sum(1 for c in cells if normalize_header(c) in known)
        if score > best[0]:
            best = (score, delim)
    return best


def _cell_text(value: Any) -> str:
    return "" if value is None else str(value)


@dataclass(frozen=True, slots=True)
class MergedCell:
    """A cell under the top of a vertically merged range of a workbook: it shows the top's value.

    openpyxl's read-only mode gives a merged range's value to its top cell only, and the cells
    under it read empty: a 角色 or 发送人 merged over an agent's three replies left two of them
    without a role, refused (audit 154 M2). :func:`rows_to_records` takes the value for a column
    the header names, in a row of its own (a blank row under a merge stays blank), from a merge
    that starts below the header; a text merged over rows is one message, read once from its top.
    """

    value: Any
    top: int  # the row the range starts on

    def __str__(self) -> str:
        return _cell_text(self.value)


def _own(cell: Any) -> Any:
    """A cell as the row itself holds it: ``None`` for one a merge above fills."""
    return None if isinstance(cell, MergedCell) else cell


def _shown(cell: Any) -> Any:
    """A cell as the sheet shows it: a merged cell's value."""
    return cell.value if isinstance(cell, MergedCell) else cell


def _header_list(cells: Sequence[Any]) -> str:
    """The non-empty cells of a header row, for an error message (a few dozen, each short and masked).

    Shown so the user can name the right column with ``--column``; when the row is data, not a
    header, no message text and no personal data reaches the terminal or run.json.
    """
    names = [shown_value(_cell_text(c).strip()) for c in cells if _cell_text(c).strip()]
    shown = ", ".join(names[:30]) + (f", … ({len(names)} in all)" if len(names) > 30 else "")
    return shown or "(empty)"


def _first_row(cells: Sequence[Any], column_map: Mapping[str, str]) -> str:
    """What the first row of a file with no header holds, for an error message, telling no data.

    Header names and role words are shown; any other cell only as what it looks like (a
    date-time, a number, text of N characters): that row is usually a message, whose nick and
    words (a name, part of an ID number) must not reach the terminal or run.json.
    """
    known = _known(column_map)
    shown: list[str] = []
    for cell in cells:
        text = _cell_text(cell).strip()
        if not text:
            continue
        if normalize_header(text) in known or parse_role_word(text) is not None:
            shown.append(shown_value(text))
        elif isinstance(cell, datetime) or (text[:4].isdigit() and text[4:5] in "-/" and len(text) >= 8):
            shown.append("<a date-time>")
        elif text.replace(".", "", 1).isdigit():
            shown.append(f"<a number of {len(text)} digit{'s' if len(text) > 1 else ''}>")
        else:
            shown.append(f"<text of {len(text)} character{'s' if len(text) > 1 else ''}>")
    listed = ", ".join(shown[:30]) + (f", … ({len(shown)} in all)" if len(shown) > 30 else "")
    return listed or "(empty)"


def rows_to_records(
    rows: Iterable[tuple[int, Sequence[Any], str, str | None]],
    file: str,
    column_map: Mapping[str, str],
    pad_short: bool = False,
    delimiter: str | None = None,
    warnings: list[str] | None = None,
    merged: bool = False,
) -> Iterator[RawRecord | Reject]:
    """Turn ``(line, cells, raw, problem)`` rows into raw records under the detected header.

    ``problem`` is ``None`` for a readable row, else the reject reason (garbled
    bytes, broken CSV quoting). ``pad_short`` treats missing trailing cells as
    empty (spreadsheets omit them) instead of as a truncated row. ``delimiter`` is a CSV's: a
    row whose quoted cell holds whole rows of the file is a stray quote (:func:`_stray_quote`).
    ``warnings`` receives a warning for each field two header cells name (the first is read).
    ``merged``: the cells may hold :class:`MergedCell` (a workbook's rows).

    Raises:
        NoHeaderError: Before yielding anything, when no header row names the
            text, conversation and role (or sender) columns.
    """
    pending: list[tuple[int, Sequence[Any], str, str | None]] = []
    mapping: dict[str, int] | None = None
    header: Sequence[Any] = ()
    line = 0
    it: Iterator[tuple[int, Sequence[Any], str, str | None]] = iter(rows)
    # The header is the first of the first rows naming the text, conversation and role (or
    # sender) columns, or a row right under it naming more (a group header of merged cells,
    # 会话 | 发送方 | 消息, stands above 会话ID … 内容). Without such a row, the first row
    # naming a text column (its missing columns are then said).
    candidates: list[tuple[int, dict[str, int]]] = []
    seen: set[tuple[str, ...]] = set()
    for row in it:
        cells, problem = row[1], row[3]
        if problem is None and not any(_cell_text(_own(c)).strip() for c in cells):
            continue  # a blank row (one that could not be read is a reject, never skipped)
        # A header cell merged down over a group header's second row names its column there too.
        found = map_headers([_shown(c) for c in cells], column_map) if problem is None else {}
        # A row the same as an earlier candidate is that header repeated (files joined one
        # after the other): a row of the data, never the header.
        names = tuple(normalize_header(_cell_text(_shown(c))) for c in cells)
        if "text" in found and names not in seen:
            candidates.append((len(pending), found))
            seen.add(names)
        pending.append(row)
        if len(pending) >= _HEADER_SEARCH_ROWS:
            break
    complete = [c for c in candidates if "conversation_id" in c[1] and ("role" in c[1] or "sender" in c[1])]
    chosen = complete[0] if complete else (candidates[0] if candidates else None)
    # A row naming more columns right under the chosen one (only header-like rows between) is
    # the header that a group row stands above; one below rows of data is a second export's.
    at_header = {at for at, _ in candidates}
    for at, found in complete[1:]:
        assert chosen is not None
        if len(found) > len(chosen[1]) and all(i in at_header for i in range(chosen[0] + 1, at)):
            chosen = (at, found)
    if chosen is not None:
        at, mapping = chosen
        line, header = pending[at][0], [_shown(c) for c in pending[at][1]]
        it = itertools.chain(pending[at + 1 :], it)
        pending = pending[:at]
    if mapping is None and not pending:
        return  # nothing but blank rows (an empty file, a BOM alone): no records, as for JSON Lines
    if mapping is None:
        first = next((cells for _, cells, _, problem in pending if problem is None), None)
        named = f"; its first row holds {_first_row(first, column_map)}" if first else ""
        # The header is looked for in the first rows only: one below them (an export with a
        # long block of export info above it) is no header a --column can name either.
        below = f"; the header must be within the first {_HEADER_SEARCH_ROWS} rows: delete the rows above it"
        if column_map.get("text"):
            raise NoHeaderError(f"--column text={column_map['text']}: no such header{named}{below}")
        raise NoHeaderError(
            f"no header row with a text column (looked for 内容/消息内容/text …){named};"
            f" name it with --column text=HEADER{below}"
        )
    # A --column the header does not have is a mistake, not a hint to ignore (issue 17).
    present = {normalize_header(_cell_text(c)) for c in header}
    absent = [f"{f}={h}" for f, h in column_map.items() if normalize_header(h) not in present]
    if absent:
        raise NoHeaderError(
            f"--column {', '.join(absent)}: no such header in line {line}; the headers are"
            f" {_header_list(header)}"
        )
    missing = [f for f in ("conversation_id",) if f not in mapping]
    if "role" not in mapping and "sender" not in mapping:
        missing.append("role")
    if missing:
        raise NoHeaderError(
            f"the header has no {' or '.join(missing)} column; name it with --column {missing[0]}=HEADER"
        )
    for line, _cells, raw, problem in pending:
        yield make_reject(file, line, problem or "row above the header row", raw)
    head = _Header.of(header, mapping, line)
    if warnings is not None:
        for field, others in competing_headers(header, mapping, column_map).items():
            shown = [shown_value(_cell_text(header[i]), 20) for i in (mapping[field], *others)]
            # --column picks a header by its name: two columns of one name need one renamed.
            fix = (
                f"name that one with --column {field}={shown[1]}"
                if len(set(shown)) == len(shown)
                else "rename it in the header so that its name is its own, and name it with --column"
            )
            warnings.append(
                f"{file}: line {line}: the header names the {field} in {len(shown)} columns"
                f" ({', '.join(shown)}); the first is read: if another holds it, {fix}"
            )
    if delimiter is not None:
        it = _stray_quotes(it, delimiter, lambda: head)
    for line, cells, raw, problem in it:
        if problem is not None:
            yield make_reject(file, line, problem, raw)
            continue
        # A row's own cells: a workbook's, less what merges above fill (CSV rows pay no call per cell).
        own = [_own(c) for c in cells] if merged else cells
        if not any(_cell_text(c).strip() for c in own):
            continue  # blank, or only what merges above it fill: no row of its own
        if (
            len(cells) > head.text_at
            and _cell_text(cells[head.text_at]).strip().lstrip("\ufeff") == head.text
            and tuple(normalize_header(_cell_text(c)) for c in cells) == head.names
        ):
            yield make_reject(
                file, line, "the header row again (files joined one after another?): not a message", raw
            )
            continue
        again = (
            map_headers(cells, column_map)
            if any(i < len(cells) and _names_a_column(_cell_text(cells[i])) for i in head.whose_at)
            else {}
        )
        if {"text", "conversation_id"} <= again.keys() and ("role" in again or "sender" in again):
            # A second export joined below the first whose columns come in another order: read by
            # the first header, its rows had the shop for their text, or an unknown role (audit
            # 120 M2). The rows under it are read by it.
            yield make_reject(
                file,
                line,
                "the header row again, its columns in another order (files joined one after another?):"
                " not a message; the rows under it are read by this header",
                raw,
            )
            head = _Header.of(cells, again, line)
            continue
        if not any(
            _cell_text(cells[i]).strip() for i in head.whose_at[1:] + head.sender_at if i < len(cells)
        ) and (
            # In the id column, or the first cell the row holds itself (,,总计,,5: audit 154 L1);
            # a date or 序号 may come before it (2026-11-24,合计,,,,共2条: audit 163 M2).
            (
                len(cells) > head.whose_at[0]
                and _SUMMARY_ROW_RE.match(_cell_text(_own(cells[head.whose_at[0]])))
            )
            or _SUMMARY_ROW_RE.match(next((t for c in cells if (t := _cell_text(_own(c))).strip()), ""))
        ):
            # 合计,,,,共 5 条: the export's total under its rows, rejected as "missing role" (audit 120
            # L4), its label in whichever column comes first (,,总计,,5: audit 154 L1). Only a row
            # of no role and no sender: a conversation whose id is sum is a chat (121 H5).
            yield make_reject(file, line, "a summary row (合计, 总计): not a message", raw)
            continue
        if pad_short and len(cells) <= head.last_used:
            cells = [*cells, *([None] * (head.last_used + 1 - len(cells)))]
        if len(cells) <= head.last_used:
            yield make_reject(
                file, line, f"row has {len(cells)} fields, the header {head.width}; truncated row?", raw
            )
            continue
        if len(cells) > head.width and any(_cell_text(c).strip() for c in own[head.width :]):
            yield make_reject(
                file,
                line,
                f"row has {len(cells)} fields, the header {head.width}; unquoted delimiter in a field?",
                raw,
            )
            continue
        fields = {f: cells[i] for f, i in head.mapping.items()}
        if merged and any(isinstance(v, MergedCell) for v in fields.values()):
            if isinstance(fields["text"], MergedCell) and fields["text"].top > head.line:
                # A text merged over rows is one message, read from its top: a row under it with
                # values of its own is two messages sharing one text.
                yield make_reject(
                    file,
                    line,
                    "the text cell is merged with the row above, though the row has values of its own:"
                    " unmerge it in Excel or WPS and give each message its own text",
                    raw,
                )
                continue
            # A merge from the header row down (a header cell merged into the data) is no value.
            fields = {
                f: (v.value if v.top > head.line else None) if isinstance(v, MergedCell) else v
                for f, v in fields.items()
            }
        yield RawRecord(file=file, line=line, raw=raw, **fields)


@dataclass(frozen=True, slots=True)
class _Header:
    """A header row and what reading rows by it asks of it."""

    line: int  # the row it is on
    mapping: Mapping[str, int]
    width: int
    last_used: int
    text_at: int
    text: str  # the text column's header as written
    names: tuple[str, ...]
    # The columns a header row names itself in (会话ID, 角色): a cheap first look for a second
    # export's header in another column order below the first (every column of it has a name).
    whose_at: list[int]
    sender_at: list[int]

    @classmethod
    def of(cls, cells: Sequence[Any], mapping: Mapping[str, int], line: int = 0) -> _Header:
        """The header of these cells on row ``line``, mapped (:func:`~qc.readers.columns.map_headers`)."""
        text_at = mapping["text"]
        return cls(
            line=line,
            mapping=mapping,
            width=len(cells),
            last_used=max(mapping.values()),
            text_at=text_at,
            text=_cell_text(cells[text_at]).strip().lstrip("\ufeff"),
            names=tuple(normalize_header(_cell_text(c)) for c in cells),
            whose_at=[mapping[f] for f in ("conversation_id", "role") if f in mapping],
            sender_at=[mapping["sender"]] if "sender" in mapping else [],
        )


@lru_cache(maxsize=4096)
def _names_a_column(text: str) -> bool:
    """True for a header name (会话ID, 角色) that is no role word: 客服 names a column and is a role.

    Cached: asked of every row's id and role cells, which repeat (a conversation's rows, 买家, 客服).
    """
    return is_header_name(text) and parse_role_word(text) is None


_SUMMARY_ROW_RE = re.compile(r"^\s*(?:合计|总计|小计|汇总|total|sum)\s*[:：]?\s*$", re.IGNORECASE)
_STRAY_QUOTE = (
    'a stray double quote (") in this row opened a quoted cell that ran over the next {n} line(s),'
    " each a row of its own: those are read as rows, this one is not; write a quote inside a cell"
    ' as "" or put the whole cell in quotes, and inspect the file again'
)
_UNTERMINATED = "unterminated quote runs to the end of the file"


def _stray_quotes(
    rows: Iterator[tuple[int, Sequence[Any], str, str | None]], delimiter: str, header: Callable[[], _Header]
) -> Iterator[tuple[int, Sequence[Any], str, str | None]]:
    """``rows`` with each row of a stray quote (:func:`_stray_quote`) cut back into its lines.

    ``header`` gives the header the caller reads rows by now (a second export's may follow).
    """
    for row in rows:
        width, mapping = header().width, header().mapping
        line, _, raw, problem = row
        lines = raw.split("\n")
        split = (
            _stray_quote(lines, delimiter, width, mapping)
            if len(lines) > 1
            and (problem == _UNTERMINATED or problem is None and not _well_quoted(raw, delimiter, width))
            else None
        )
        if split is None:
            yield row
            continue
        yield line, [], lines[0], _STRAY_QUOTE.format(n=len(lines) - 1)
        for k, cells in enumerate(split, 1):
            yield line + k, cells, lines[k], None


def _stray_quote(
    lines: Sequence[str], delimiter: str, width: int, mapping: Mapping[str, int]
) -> list[list[str]] | None:
    """The cells of each line after the first when every one of them is a row of its own, else ``None``.

    A buyer's 标着30"的 or a text opening with a quote made the cells after it one quoted cell
    running over the next rows: their messages, an agent's 爱买不买 among them, were one buyer
    message, without a word (audit 120 H1). A line break inside a real cell (an address typed
    with Alt+Enter) is not a row: it has not the header's cells with a conversation and a role
    (or sender) in their columns.
    """
    out: list[list[str]] = []
    cid, role, sender = mapping["conversation_id"], mapping.get("role"), mapping.get("sender")
    for text in lines[1:]:
        if not text.strip():
            out.append([])  # a blank line among them is a blank row (audit 121 L2)
            continue
        try:
            (cells,) = list(csv.reader([text], delimiter=delimiter))
        except (csv.Error, ValueError):
            return None
        if len(cells) != width or not cells[cid].strip():
            return None
        if role is not None and parse_role_word(cells[role]) is None:
            return None
        if role is None and sender is not None and not cells[sender].strip():
            return None
        out.append(cells)
    return out if any(out) else None


def _well_quoted(raw: str, delimiter: str, width: int) -> bool:
    """True when ``raw`` is one row of the header's width by CSV's strict rules: its quotes are no stray.

    A cell quoted whole, line breaks and all, is a cell, whatever its lines look like: a buyer's
    pasted copy of a reply (c1,客服,…,爱买不买) or an address with commas was cut into rows, the
    buyer's message lost and the paste charged to the agent (audit 121 H3, H4). A stray quote
    leaves text after its closing quote (标着30"的) or never closes, which strict rules refuse.
    """
    try:
        rows = list(csv.reader(raw.splitlines(keepends=True), delimiter=delimiter, strict=True))
    except csv.Error:
        return False
    return len(rows) == 1 and len(rows[0]) == width


def csv_rows(decoded: Decoded, delimiter: str) -> Iterator[tuple[int, Sequence[Any], str, str | None]]:
    """Rows of a decoded CSV with the line they start on, their raw text and their problem, if any."""
    return csv_line_rows(decoded.lines, delimiter, decoded.garbled, decoded.encoding)


def _csv_problem(exc: csv.Error) -> str:
    """A CSV parser's refusal as a reject reason, in words that say how to fix the file."""
    if "new-line character seen in unquoted field" in str(exc):
        return mixed_line_ends("CSV")  # a carriage return alone inside a line of a file of line feeds
    return f"not valid CSV ({exc})"


def csv_line_rows(
    lines: Iterable[str],
    delimiter: str,
    garbled: Collection[int] = frozenset(),
    encoding: str = "utf-8",
) -> Iterator[tuple[int, Sequence[Any], str, str | None]]:
    """:func:`csv_rows` over lines read as they come, holding only the lines of the row being read.

    Why: a Spark task reads a CSV file from its start as a stream of lines, and a file may be
    larger than the task's memory. ``garbled`` numbers the lines that did not decode in
    ``encoding``. The rows are those :func:`csv_rows` gives for the same lines.
    """
    source = iter(lines)
    window: list[str] = []  # the lines numbered first, first + 1, … still needed
    first = 1
    exhausted = False

    def fill(number: int) -> None:
        """Read lines from the source until line ``number`` is in the window (or the lines end)."""
        nonlocal exhausted
        while not exhausted and first + len(window) <= number:
            try:
                window.append(next(source))
            except StopIteration:
                exhausted = True

    def feed() -> Iterator[str]:
        fed = 0
        while True:
            fill(fed + 1)
            if first + len(window) <= fed + 1:
                return
            fed += 1
            yield window[fed - first] + "\n"

    reader = csv.reader(feed(), delimiter=delimiter)
    consumed = 0
    while True:
        start = consumed + 1
        problem: str | None = None
        try:
            cells: Sequence[Any] = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            cells, problem = [], _csv_problem(exc)
        consumed = reader.line_num
        end = max(consumed, start)
        fill(end)
        raw = "\n".join(window[start - first : end - first + 1])
        if problem is None and any(n in garbled for n in range(start, end + 1)):
            problem = garbled_reason(encoding)
        if problem is None and end > start and len(cells) and raw.count('"') % 2:
            fill(end + 1)
            if first + len(window) - 1 == end:  # no line after this row: the file ends inside it
                problem = _UNTERMINATED
        yield start, cells, raw, problem
        # The next row starts after the lines the reader consumed; earlier ones are done with.
        if consumed + 1 > first:
            del window[: consumed + 1 - first]
            first = consumed + 1


class SheetTooLarge(Exception):
    """A worksheet declares or holds more rows or cells than the limits file allows."""


@dataclass(frozen=True, slots=True)
class Sheet:
    """One visible worksheet as :func:`xlsx_sheets` streams it."""

    title: str
    only: bool  # the workbook's only visible sheet
    # Saved in Excel's 1904 date system (as Mac Excel long did): a date kept as a plain number
    # counts its days from 1904-01-01, not 1899-12-30.
    days_from_1904: bool
    rows: Iterator[tuple[int, Sequence[Any], str, str | None]]


def xlsx_sheets(path: Path, limits: InputLimits | None = None) -> Iterator[Sheet]:
    """Each visible worksheet of a workbook, its rows streamed.

    Hidden sheets (a template, a lookup table someone hid) are not chats: they are left out;
    :func:`hidden_sheets` names them so the reader can say so.

    The workbook is opened read-only and each sheet's rows are parsed as they are asked for.
    A sheet whose declared dimension (``<dimension ref="A1:XFD1048576"/>``) exceeds the row or
    cell budget is refused before any row is read; openpyxl is told to forget the declared size,
    so it never pads rows to it; rows and cells are counted as they stream. A cell under the top
    of a vertically merged range holds a :class:`MergedCell` of the top's value.

    Raises:
        SheetTooLarge: A sheet declares or holds more than ``xlsx_max_rows`` rows or
            ``xlsx_max_cells`` cells (the message names the sheet, the numbers and the fix).
    """
    from openpyxl.utils.datetime import CALENDAR_MAC_1904

    limits = limits or load_limits()
    with open_workbook(path) as wb:
        sheets = [ws for ws in wb.worksheets if getattr(ws, "sheet_state", "visible") == "visible"]
        for ws in sheets:
            _check_declared(ws, limits)
            if hasattr(ws, "reset_dimensions"):
                ws.reset_dimensions()
            rows = _sheet_rows(ws, limits, _vertical_merges(ws))
            yield Sheet(ws.title, len(sheets) == 1, wb.epoch == CALENDAR_MAC_1904, rows)


# A merged range in a sheet's XML (<mergeCell ref="B2:B4"/>, a prefix allowed).
_MERGE_REF = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*?\bref="([A-Z]{1,3})(\d+):([A-Z]{1,3})(\d+)"')


def _vertical_merges(ws: Any) -> list[tuple[int, int, int]]:
    """``(column index, top row, bottom row)`` of each merged range over rows, by its first column.

    Read from the sheet's XML (the read-only mode does not parse the merges, which follow the
    rows): the bytes are searched as they stream, never parsed twice. A range over columns of
    one row (a group header) fills nothing: its other cells are other columns.
    """
    from openpyxl.utils.cell import column_index_from_string

    source = getattr(ws, "_get_source", None)
    if source is None:
        return []
    found: list[tuple[int, int, int]] = []
    tail = b""
    with source() as xml:
        while chunk := xml.read(1 << 20):
            data = tail + chunk
            for m in _MERGE_REF.finditer(data):
                top, bottom = int(m[2]), int(m[4])
                if m.end() > len(tail) and bottom > top:  # one in the tail was found in the last chunk
                    found.append((column_index_from_string(m[1].decode()) - 1, top, bottom))
            tail = data[-256:]
    return sorted(found, key=lambda r: r[1])


# The fix for a formula whose value no program saved (a workbook written by a script).
UNSAVED_FORMULA_FIX = "open the workbook in Excel or WPS and save it so each value is stored"


def formula_cells(path: Path, rows: set[int], sheet: str | None = None) -> list[tuple[str, str, str]]:
    """``(sheet, cell, formula)`` of the formulas in ``rows`` of the visible sheets, read as written.

    The readers open a workbook for its saved values, where a formula no program has computed
    (a workbook written without Excel) is empty; this reads the formulas themselves. ``sheet``
    looks at that sheet only. A formula with a saved value (a 序号 column of =ROW()-1 as Excel
    saves it) is none of them: it was named in a warning on a normal workbook (audit 158 M1).
    """
    import openpyxl

    found = _formulas(path, rows, sheet)
    if not found:
        return found
    saved: dict[tuple[str, str], Any] = {}
    with path.open("rb") as handle:
        wb = openpyxl.load_workbook(handle, read_only=True, data_only=True)
        try:
            wanted = {(title, cell) for title, cell, _ in found}
            titles = {title for title, _ in wanted}
            for ws in wb.worksheets:
                if ws.title not in titles:
                    continue
                for row in ws.iter_rows(min_row=min(rows), max_row=max(rows)):
                    for cell in row:
                        key = (ws.title, getattr(cell, "coordinate", ""))
                        if key in wanted:
                            saved[key] = getattr(cell, "value", None)
        finally:
            wb.close()
    return [
        (title, cell, formula) for title, cell, formula in found if saved.get((title, cell)) in (None, "")
    ]


def _formulas(path: Path, rows: set[int], sheet: str | None) -> list[tuple[str, str, str]]:
    """``(sheet, cell, formula)`` of every formula in ``rows`` of the visible sheets, saved value or not."""
    import openpyxl

    out: list[tuple[str, str, str]] = []
    with path.open("rb") as handle:
        wb = openpyxl.load_workbook(handle, read_only=True, data_only=False)
        try:
            for ws in wb.worksheets:
                if getattr(ws, "sheet_state", "visible") != "visible" or sheet not in (None, ws.title):
                    continue
                for row in ws.iter_rows(min_row=min(rows), max_row=max(rows)):
                    for cell in row:
                        value = getattr(cell, "value", None)
                        if (
                            getattr(cell, "row", None) in rows
                            and isinstance(value, str)
                            and value.startswith("=")
                        ):
                            out.append((ws.title, cell.coordinate, value))
        finally:
            wb.close()
    return out


def hidden_sheets(path: Path) -> list[str]:
    """The titles of a workbook's hidden sheets (left out by :func:`xlsx_sheets`)."""
    with open_workbook(path) as wb:
        return [ws.title for ws in wb.worksheets if getattr(ws, "sheet_state", "visible") != "visible"]


@contextmanager
def open_workbook(path: Path) -> Iterator[Any]:
    """A workbook opened read-only from its bytes, whatever the file is named.

    openpyxl refuses a path not named .xlsx: a workbook saved as ``day.csv``, or a download
    named ``导出``, was called corrupt although the content was sniffed as XLSX.
    """
    import openpyxl

    with path.open("rb") as handle:
        wb = openpyxl.load_workbook(handle, read_only=True, data_only=True)
        try:
            yield wb
        finally:
            wb.close()


def _too_large(title: str, what: str, limits: InputLimits) -> SheetTooLarge:
    return SheetTooLarge(
        f"sheet {title!r} {what}, over the XLSX budget of {limits.xlsx_max_rows:,} rows and"
        f" {limits.xlsx_max_cells:,} cells (xlsx_max_rows, xlsx_max_cells in the limits file);"
        " export the day as CSV or JSON Lines, which are read line by line"
    )


def _check_declared(ws: Any, limits: InputLimits) -> None:
    rows, columns = getattr(ws, "max_row", None), getattr(ws, "max_column", None)
    if not rows or not columns:  # no <dimension>: the streamed count decides
        return
    if rows > limits.xlsx_max_rows or rows * columns > limits.xlsx_max_cells:
        declared = f"declares {rows:,} rows × {columns:,} columns ({rows * columns:,} cells)"
        raise _too_large(ws.title, declared, limits)


# Excel's day 0: what an empty date-time cell (a 0 formatted as a date) holds.
_EXCEL_DAY_ZERO = datetime(1899, 12, 30)


def _clock_cell(value: timedelta | time, number_format: str) -> Any:
    """A clock cell as the readers take it.

    A ``[h]:mm:ss`` cell is a duration to openpyxl: under a day, it is the time of day it shows.
    A 0 in a cell formatted as a date and time is no midnight but an empty date cell, Excel's day
    0, which the readers refuse by its year; read as 00:00 it opened the chat with a 12-hour reply.
    """
    if isinstance(value, timedelta):
        return (datetime.min + value).time() if timedelta(0) <= value < timedelta(days=1) else value
    shape = number_format.lower()
    if value == time(0) and ("y" in shape or "d" in shape) and "[h" not in shape:
        return _EXCEL_DAY_ZERO
    return value


def _sheet_rows(
    ws: Any, limits: InputLimits, merges: Sequence[tuple[int, int, int]] = ()
) -> Iterator[tuple[int, Sequence[Any], str, str | None]]:
    number = 0
    rows = cells_seen = 0
    # Merged ranges by their top row, and those the rows now read lie in: [column, top value, bottom].
    waiting, active = list(reversed(merges)), list[list[Any]]()
    for row in ws.iter_rows():
        rows += 1
        cells_seen += len(row)
        if rows > limits.xlsx_max_rows:
            raise _too_large(ws.title, f"has more than {limits.xlsx_max_rows:,} rows", limits)
        if cells_seen > limits.xlsx_max_cells:
            raise _too_large(ws.title, f"has more than {limits.xlsx_max_cells:,} cells", limits)
        cells = []
        for cell in row:
            value = getattr(cell, "value", None)
            if isinstance(value, timedelta | time):
                value = _clock_cell(value, getattr(cell, "number_format", "") or "")
            cells.append(value)
        # A row missing from the XML comes as empty cells without a row number: the next one.
        number = next((cell.row for cell in row if getattr(cell, "row", None)), number + 1)
        if waiting or active:
            _fill_merged(cells, number, waiting, active)
        while cells and cells[-1] is None:
            cells.pop()
        if not cells:
            continue
        yield number, cells, "\t".join(_cell_text(c) for c in cells), None


def _fill_merged(
    cells: list[Any], number: int, waiting: list[tuple[int, int, int]], active: list[list[Any]]
) -> None:
    """Put a :class:`MergedCell` of its top's value in each empty cell of row ``number`` under a merge.

    ``waiting`` holds the ranges not reached yet, the next on top (the end of the list);
    ``active`` those begun: ``[column, top value, bottom row, top row]``. Rows come in order, so
    each range is looked at while its rows are read, and a sheet of thousands of merges stays linear.
    """
    active[:] = [a for a in active if a[2] >= number]
    while waiting and waiting[-1][1] <= number:
        column, top, bottom = waiting.pop()
        if top == number:
            active.append([column, cells[column] if column < len(cells) else None, bottom, top])
        # A range whose top row was not read (no such row in the XML) has no value to show.
    for column, value, bottom, top in active:
        if value is None or bottom < number or (column < len(cells) and cells[column] is not None):
            continue
        if column >= len(cells):
            cells.extend([None] * (column + 1 - len(cells)))
        cells[column] = MergedCell(value, top)
