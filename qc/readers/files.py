"""Reading one file: sniff, decode, parse, validate, with per-file counts.

Anything that makes a whole file unreadable becomes ``FileReport.error`` (with
the fix) instead of an exception, so the rest of the batch is still read.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, tzinfo
from itertools import chain, islice
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from qc.errors import ConfigError
from qc.readers.encoding import Decoded, UndecodableError, check_encoding, decode, marked_kind
from qc.readers.json_document import DocumentError, read_document
from qc.readers.jsonl import read_jsonl
from qc.readers.limits import limits_source, load_limits
from qc.readers.options import EMPTY_FILE, FileReport, ReadOptions
from qc.readers.records import Candidate, RawRecord, has_value, scalar_text, validate
from qc.readers.roles import fold_agent_id, parse_role_word, role_from_nick, split_subaccount
from qc.readers.sniff import (
    OLE_MAGIC,
    ZIP_MAGIC,
    check_format,
    format_from_extension,
    json_layout,
    sniff_text_format,
)
from qc.readers.tabular import (
    UNSAVED_FORMULA_FIX,
    NoHeaderError,
    SheetTooLarge,
    csv_rows,
    formula_cells,
    hidden_sheets,
    rows_to_records,
    xlsx_sheets,
)
from qc.readers.text_export import TextExportReader, is_chat_line
from qc.readers.timestamps import (
    DATETIME_RE,
    TIME_RE,
    date_from_filename,
    from_1904_days,
    parse_time_only,
    steady,
)
from qc.schema import Reject, Role
from qc.text.pii import shown_id, shown_value


@dataclass(frozen=True, slots=True)
class Resolved:
    """Read options checked once per batch: canonical format/encoding names and the zone object."""

    options: ReadOptions
    tz: tzinfo
    format: str | None
    encoding: str | None
    # File → the name its conversations are called by when it names none (:func:`unique_stems`).
    stems: Mapping[str, str] = field(default_factory=dict)

    def __reduce__(self) -> tuple[Any, ...]:
        # mypyc: a compiled frozen dataclass cannot be unpickled field by field
        return (type(self), (self.options, self.tz, self.format, self.encoding, self.stems))

    def with_files(self, files: Sequence[Path]) -> Resolved:
        """These options for a batch of ``files`` (see :func:`unique_stems`)."""
        return replace(self, stems=unique_stems(files))


def stem_warnings(stems: Mapping[str, str]) -> list[str]:
    """One warning per stem several files share: their conversations' names depend on the batch."""
    by_stem: dict[str, list[str]] = {}
    for file, name in stems.items():
        by_stem.setdefault(Path(file).stem, []).append(name)
    return [
        f"files of {len(names)} folders are named {stem}: their conversations without a label are"
        f" called {', '.join(names)}; inspect these folders together every time (alone, a folder's"
        " are called by the stem, another conversation in the store), or give the files names of their own"
        for stem, names in by_stem.items()
    ]


def unique_stems(files: Sequence[Path]) -> dict[str, str]:
    """The name each file's unlabelled conversations take, where its stem alone is not unique.

    A text export names a conversation without a label by its file's stem. Two agents' folders
    of one day (小雨/2026-11-24.txt, 小满/2026-11-24.txt) gave two chats one id, read as one
    conversation: one agent's slow reply vanished, a buyer's question went to the other's
    reply. Such files take their folder's name too (``2026-11-24@小雨``), and further folders
    while that is not unique either; a stem no other file of the batch has stays as it is, so
    the ids of a day inspected before do not change.
    """
    by_stem: dict[str, list[Path]] = {}
    for f in files:
        if format_from_extension(f) in (None, "text"):  # a sheet's or JSON's ids are in its data
            by_stem.setdefault(f.stem, []).append(f)
    out: dict[str, str] = {}
    for stem, same in by_stem.items():
        if len({f.parent for f in same}) < 2:
            continue  # one folder's day.txt and day.log: not two folders' exports
        depth = 1
        while True:
            names = {str(f): "@".join([stem, *[p.name for p in f.parents][:depth][::-1]]) for f in same}
            if len(set(names.values())) == len(same) or depth > max(len(f.parents) for f in same):
                break
            depth += 1
        out.update(names)
    return out


@dataclass(slots=True)
class FileOutcome:
    """What one file gave: its report, valid records, rejects and warnings."""

    report: FileReport
    candidates: list[Candidate] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # The title of a workbook's only sheet: its records name the file alone, and a sheet named by
    # its day (2026-11-24) dates their clock-only times as one of several does.
    only_sheet: str | None = None


def resolve_options(options: ReadOptions) -> Resolved:
    """Check forced format, encoding and zone before any file is read.

    Raises:
        ConfigError: One of them is unknown (exit code 2).
    """
    fmt = check_format(options.format) if options.format else None
    enc = check_encoding(options.encoding) if options.encoding else None
    try:
        tz = ZoneInfo(options.zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"time zone {options.zone!r} is unknown: use an IANA name such as Asia/Shanghai"
        ) from None
    return Resolved(options, tz, fmt, enc)


def read_file(path: Path, resolved: Resolved) -> FileOutcome:
    """Read one file into candidates and rejects; never raises for bad content."""
    report = FileReport(path=str(path))
    outcome = FileOutcome(report)
    try:
        items = _items(path, resolved, outcome)
    except _NotAChatExport as exc:
        report.skipped = str(exc)
        outcome.warnings.append(f"{path}: skipped: {exc}")
        return outcome
    except _FileError as failed:
        report.error = str(failed)
        return outcome
    except Exception as unexpected:  # noqa: BLE001 - one odd file must not stop the batch
        report.error = (
            f"could not be read ({type(unexpected).__name__}); please report this with the file's format"
        )
        return outcome
    _validate(items, path, resolved, outcome)
    if not report.read and report.format in ("csv", "xlsx", "json"):
        # A header and no row, or a JSON [], said nothing: a failed export read as a quiet day
        # (audit 154 L4).
        outcome.warnings.append(
            f"{path}: no message in it (a header without rows, or an empty list): a failed export?"
        )
    return outcome


def _warn_other_encoding(path: Path, data: bytes, forced: Decoded, outcome: FileOutcome) -> None:
    """Warn when the file reads cleanly in the encoding qc would find, and differently as forced.

    Latin-1 or Big5 decode any bytes: a GB18030 export forced to them gave scorecards of agents
    whose names were mojibake, with exit 0 and no word.
    """
    try:
        found = decode(data)
    except UndecodableError:
        return
    if found.garbled or found.encoding == forced.encoding or found.lines == forced.lines:
        return
    outcome.warnings.append(
        f"{path}: read as {forced.encoding} (--encoding), but it reads cleanly as {found.encoding}:"
        " names and texts may be garbled; leave --encoding out to read it as detected"
    )


class _FileError(Exception):
    """The whole file is unreadable; the message is the fix for the person running qc."""


class _NotAChatExport(Exception):
    """The file is text without a single line that looks like a message (a README, notes)."""


def _zip_kind(data: bytes) -> str | None:
    """Why a ZIP file is not read, when it is no workbook: an archive of exports, a Word file; else ``None``.

    Every ZIP went to the workbook reader, and an archive of a day's exports was called a corrupt
    workbook to re-save in Excel (audit 172 F7). A ZIP the zipfile module cannot list is left to
    the workbook reader, which says it is corrupt.
    """
    import io
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            opendocument = archive.read("mimetype")[:80] if "mimetype" in names else b""
    except (zipfile.BadZipFile, ValueError, EOFError, OSError):
        return None
    if any(name.startswith("xl/") and name.endswith("workbook.xml") for name in names):
        return None
    if opendocument.startswith(b"application/vnd.oasis.opendocument"):
        # WPS and LibreOffice save .ods; told to unzip it (audit 173 L5)
        return "is an OpenDocument file (.ods or .odt), not a workbook qc reads: save it as .xlsx or CSV"
    if "word/document.xml" in names:
        return "is a Word document (.docx), not a chat export: export the chats as text, CSV or XLSX"
    files = [name for name in names if not name.endswith("/")]
    shown = ", ".join(shown_value(name, 40) for name in files[:3]) + (" …" if len(files) > 3 else "")
    return (
        f"is a ZIP archive ({len(files)} files: {shown}), not a workbook: unzip it and inspect the folder"
        " of files inside"
    )


def _items(path: Path, resolved: Resolved, outcome: FileOutcome) -> list[RawRecord | Reject]:
    report, options = outcome.report, resolved.options
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _FileError(f"cannot open: {exc.strerror or exc}") from None
    if not data.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        # 0 bytes or blank: more often a failed download or copy than a day without chats.
        raise _NotAChatExport(f"{EMPTY_FILE} (a failed download or copy?); nothing was read from it")
    fmt = resolved.format
    if data.startswith(ZIP_MAGIC) and fmt in (None, "xlsx"):
        if (packed := _zip_kind(data)) is not None:
            raise _FileError(packed)
        report.format = "xlsx"
        return _xlsx(path, options.column_map, outcome, options.date is not None)
    if fmt == "xlsx":
        raise _FileError(
            "is not an XLSX workbook (no zip signature); re-save it as .xlsx or export it as CSV"
        )
    if data.startswith(OLE_MAGIC):
        raise _FileError("is an old binary Excel (.xls) or Office file; save it as .xlsx or CSV")
    if (marked := marked_kind(data)) is not None:
        raise _FileError(marked)
    try:
        decoded = decode(data, resolved.encoding)
    except UndecodableError as undecodable:
        raise _FileError(str(undecodable)) from None
    report.encoding = decoded.encoding
    if resolved.encoding is not None and not data.isascii():
        _warn_other_encoding(path, data, decoded, outcome)
    delimiter = ","
    if fmt is None:
        fmt, delimiter = sniff_text_format(decoded.lines, path, options.column_map)
        # Plain text (by its name, or by nothing at all) in which no line looks like a message
        # is not a chat export: a README or notes beside the exports. Skipped, never a reject.
        if fmt in (None, "text") and not any(is_chat_line(line) for line in decoded.lines):
            if resolved.encoding is not None:
                # Read in the encoding forced on it, a chat export reads as other characters.
                raise _FileError(
                    f"no line reads as a message when decoded as {resolved.encoding} (--encoding):"
                    " the encoding is likely wrong; leave --encoding out to let qc detect it"
                )
            raise _NotAChatExport(
                "not a chat export (no line looks like a message); remove it from the input,"
                " or force its format with --input-format"
            )
        fmt = fmt or "text"
    elif fmt == "csv":
        delimiter = sniff_text_format(decoded.lines, path, options.column_map)[1]
    elif fmt == "jsonl":
        fmt = json_layout(decoded.lines)
    report.format = fmt
    file = str(path)
    if fmt == "jsonl":
        return list(read_jsonl(decoded, file, options.column_map))
    if fmt == "json":
        return _json_document(len(data), decoded, file, options.column_map)
    if fmt == "csv":
        try:
            return list(
                rows_to_records(
                    csv_rows(decoded, delimiter),
                    file,
                    options.column_map,
                    delimiter=delimiter,
                    warnings=outcome.warnings,
                )
            )
        except NoHeaderError as no_header:
            raise _FileError(str(no_header)) from None
    reader = TextExportReader(
        decoded,
        file,
        resolved.stems.get(str(path), path.stem),
        options.date or date_from_filename(path),
        resolved.tz,
        options.agent_nicks,
        options.customer_nicks,
    )
    items = reader.records()
    if reader.missing_day:
        outcome.warnings.append(_missing_day(file))
    if reader.folded:
        lines = ", ".join(map(str, reader.folded[:5])) + (" …" if len(reader.folded) > 5 else "")
        outcome.warnings.append(
            f"{file}: line(s) {lines} read as part of the message above, not as senders: each is a name"
            " and a time of a nick that never wrote, more than clock_back_rollover_minutes after the next"
            " sender's line (a pasted 预计送达 18:30:00), in the other header style than the message's"
            " (a colleague's 客服小王 10:01:02 pasted into a 小雨(10:00:30): … export), or, in a file"
            " written to the minute, a label whose time lies hours from the chat going on around it"
            " (截单时间(16:00) in a 10:01 reply); if one is a sender, the export is out of time order:"
            " sort it by time"
        )
    if reader.timed_to_minute and reader.timed_to_second:
        # A question at 15:06 answered at 15:07:30 is timed as 90 s, though it may have been 31 s:
        # the minute rule needs both times on :00 (audit 98 F1). Said, since it cannot be undone.
        outcome.warnings.append(
            f"{file}: {reader.timed_to_minute} of its times are written to the minute and"
            f" {reader.timed_to_second} to the second: a reply to a message written to the minute is"
            " timed from the start of that minute and may read up to 59 s long; export the chat"
            " records again with their seconds"
        )
    return items


def _xlsx(
    path: Path, column_map: Mapping[str, str], outcome: FileOutcome, dated: bool = False
) -> list[RawRecord | Reject]:
    """The records of every visible sheet of a workbook.

    A hidden sheet, or one without a header row while others have one, is left out with a
    warning naming it: a whole sheet is never dropped unsaid.
    """
    items: list[RawRecord | Reject] = []
    headerless: list[str] = []
    # openpyxl warns on stderr about odd cells it reads anyway (a date serial out of range
    # becomes an error value): noise naming a library file, never the fix.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            for sheet in xlsx_sheets(path):
                title = sheet.title
                label = str(path) if sheet.only else f"{path}!{title}"
                outcome.only_sheet = _only_sheet_day(path, title, outcome, dated) if sheet.only else None
                try:
                    read = rows_to_records(
                        sheet.rows, label, column_map, pad_short=True, warnings=outcome.warnings, merged=True
                    )
                    for item in read:
                        if sheet.days_from_1904 and isinstance(item, RawRecord):
                            item.timestamp, item.date = (
                                from_1904_days(item.timestamp),
                                from_1904_days(item.date),
                            )
                        items.append(item)
                except NoHeaderError as no_header:
                    headerless.append(f"sheet {title!r}: {no_header}")
        except NoHeaderError:
            raise
        except SheetTooLarge as exc:
            raise _FileError(str(exc)) from None
        except Exception as corrupt:  # noqa: BLE001 - openpyxl raises many kinds on corrupt files
            raise _FileError(
                f"cannot open as XLSX ({type(corrupt).__name__}: corrupt or not a workbook);"
                " re-save it in Excel or export it as CSV"
            ) from None
    try:
        hidden = hidden_sheets(path)
    except Exception:  # noqa: BLE001 - the workbook was read above; a second look is only for the warning
        hidden = []
    if headerless and not items:
        # A cover sheet in front of a hidden data sheet: the fix is to unhide, not to name a column.
        unhide = (
            f"; hidden sheet(s) {', '.join(repr(t) for t in hidden)} not read: unhide the one holding the"
            " chats in Excel or WPS"
            if hidden
            else ""
        )
        raise _FileError("; ".join(headerless) + unhide)
    for problem in headerless:
        outcome.warnings.append(f"{path}: {problem}: this sheet was not read")
    records = [i for i in items if isinstance(i, RawRecord)]
    empty = {(i.file, i.line) for i in records if not str(i.text or "").strip()}
    # A sender or time cell empty where the file's other rows have one: an unsaved formula there
    # sent a reply to 店铺:unknown and untimed a buyer's message, without a word (audit 154 M6).
    for name in ("sender", "timestamp"):
        if any(has_value(getattr(i, name)) for i in records):
            empty |= {(i.file, i.line) for i in records if not has_value(getattr(i, name))}
    if empty:
        _warn_unsaved_formulas(path, empty, outcome)
    for title in hidden:
        outcome.warnings.append(
            f"{path}: sheet {title!r} is hidden: not read (unhide it in Excel to inspect it)"
        )
    return items


def _warn_unsaved_formulas(path: Path, empty: set[tuple[str, int]], outcome: FileOutcome) -> None:
    """Say which empty-text rows hold a formula with no saved value, and the fix.

    A tool that writes a workbook without Excel (openpyxl's ``ws.append`` of ``=-= 好吧``) stores a
    text starting with = as a formula with no value: read, it is empty, and the row was rejected
    as "empty text" with nothing saying why (audit 103 F6). Read again only when a row is empty.
    """
    try:
        found = formula_cells(path, {line for _, line in empty})
    except Exception:  # noqa: BLE001 - the workbook was read above; this second look only words a warning
        return
    cells = [f"{sheet}!{cell}" for sheet, cell, _ in found]  # not the formula: it may be a buyer's text
    if cells:
        listed = ", ".join(cells[:5]) + (" …" if len(cells) > 5 else "")
        outcome.warnings.append(
            f"{path}: {len(cells)} cell(s) read as empty hold a formula with no saved value"
            f" ({listed}): {UNSAVED_FORMULA_FIX}, or write such texts as text (a leading ' in Excel)"
        )


def _json_document(
    size: int, decoded: Decoded, file: str, column_map: Mapping[str, str]
) -> list[RawRecord | Reject]:
    """The records of a file that is one JSON document, refused over its size limit or when invalid."""
    limit = load_limits().json_document_max_bytes
    if size > limit:
        # Parsing holds the whole document as Python objects, many times its size on disk.
        raise _FileError(
            f"is one JSON document of {size:,} bytes, over json_document_max_bytes ({limit:,} bytes,"
            f" {limits_source()}), and a document is parsed whole; export the day as JSON Lines"
            " (one message per line), which is read line by line at any size"
        )
    try:
        return read_document(decoded, file, column_map)
    except DocumentError as exc:
        raise _FileError(str(exc)) from None


def _missing_day(file: str) -> str:
    return (
        f"{file}: time-only timestamps and no date (give --date YYYY-MM-DD or put the date in the file name);"
        " their times are left empty"
    )


def _validate(
    items: Iterable[RawRecord | Reject], path: Path, resolved: Resolved, outcome: FileOutcome
) -> None:
    outcome.candidates.extend(validated(items, path, resolved, outcome))


def validated(
    items: Iterable[RawRecord | Reject], path: Path, resolved: Resolved, outcome: FileOutcome
) -> Iterator[Candidate]:
    """Validate raw records one by one, counting and rejecting into ``outcome`` as it goes.

    A generator, so a streaming reader can inspect conversations before the file ends; the
    whole-file reader simply collects it.
    """
    options, report = resolved.options, outcome.report
    day = options.date or date_from_filename(path)
    nicks = (options.agent_nicks, options.customer_nicks)
    timeless = False
    rounded_ids: set[str] = set()
    # Times read, and whether any had seconds: a file whose times are all on a whole minute
    # (Excel's 2026/11/24 9:01) times its replies to the minute only.
    timed, seconds = 0, False
    # Per conversation: its last time-only clock (as read) and the days it has rolled over.
    clocks: dict[str, tuple[datetime, int]] = {}
    rolled: set[str] = set()
    # The date of the last row that had one, and per conversation the date its clock counts
    # from: a date cell merged down leaves the rows under it empty.
    above: Any = None
    sheet = ""
    dates: dict[Any, Any] = {}
    # Per conversation, the day of its last row with a full date and time: the clock-only rows
    # after it are on that day, as an export that writes the date only when it changes means
    # them (they took the file name's day: a 10 s reply read as 86,410 s, audit 154 H5).
    full_day: dict[Any, date] = {}
    tabular = report.format in ("csv", "xlsx")
    # Read whole, in order: a sheet or a JSON document. JSON Lines may be split, and a conversation
    # line may list its messages newest first or repeat another line's (audit 158 H2, H3).
    whole = tabular or report.format == "json"
    # In a workbook, an empty 会话ID takes the id above it, as a merged cell shows it.
    merges, ids_filled = report.format == "xlsx", 0
    # A sheet without a role column: the conversations whose agent a nick names, where any other
    # named sender is the buyer (as in a text export); and those buyers' nicks per conversation.
    buyers_by_default: set[tuple[str, str]] = set()
    conversation_shops: dict[tuple[str, str], set[str]] = {}
    defaulted: dict[str, dict[str, str]] = {}
    if whole:
        items = list(items)  # read whole already; looked at twice
        if merges:
            ids_filled = _fill_merged_ids(items)
        # A JSON document without role keys as a sheet without a role column: every buyer message
        # was a reject where the sheet of the same chat read it (audit 154 M4).
        buyers_by_default, conversation_shops = _agent_conversations(items, nicks)
    rolls = whole  # a JSON document rolls over midnight as a sheet does (audit 154 H3)
    # Whether any row gave a time, and any agent row a name: a column under a name qc does not
    # read (创建时间, 客服昵称) left every time empty or every agent unknown, without a word.
    stamped, agent_rows, agents_named = False, 0, False
    unknown_roles = 0
    # A text export's buyers per conversation (by nick, case folded): several is two chats read as one.
    text_export, buyers = report.format == "text", dict[str, dict[str, str]]()
    limits = load_limits()
    max_chars, years = limits.max_message_chars, limits.message_years
    if rolls:
        # A file listing its conversations newest first never rolls over midnight: its steps
        # back are its order. Told from its first records, so a stream is read once.
        stream = iter(items)
        head = list(islice(stream, _ORDER_SAMPLE))
        rolls = not _newest_first(head, limits.sheet_rollover)
        items = chain(head, stream)
    for item in items:
        report.read += 1
        if isinstance(item, Reject):
            outcome.rejects.append(item)
            report.rejected += 1
            continue
        # A date of its own that differs from the conversation's restarts its clock; the same
        # date on every row (the session's day) lets it roll over midnight.
        restart = False
        if tabular and item.file != sheet:
            sheet, above = item.file, None  # a workbook's next sheet: nothing above
            # A workbook of one sheet per day (2026-11-25): its clock-only times are on the sheet's
            # day, not all on the file name's (--date still says for all).
            title = sheet.rpartition("!")[2] if "!" in sheet else outcome.only_sheet
            # (the only sheet's too: it was the file's day, and a day's sheet left untimed, audit 120 M3)
            named = date_from_filename(Path(title)) if merges and title else None
            day = options.date or named or date_from_filename(path)
        if buyers_by_default and _buyer_by_default(item, nicks, buyers_by_default, conversation_shops):
            cid, nick = scalar_text(item.conversation_id), scalar_text(item.sender)
            assert cid is not None and nick is not None
            item.role = Role.CUSTOMER
            defaulted.setdefault(cid, {}).setdefault(nick.casefold(), nick)
        carried = (
            full_day.get(item.conversation_id)
            if tabular and not has_value(item.date) and _time_only(item.timestamp)
            else None
        )
        if (tabular or rolls) and has_value(item.date):
            # A record's own date starts its clock again, in a JSON document as in a sheet: the
            # rollover moved a message dated the day before to the next day (audit 158 H1).
            restart = dates.get(item.conversation_id) != item.date
            above = dates[item.conversation_id] = item.date
        elif carried is not None:
            restart = dates.get(item.conversation_id) != carried
            item.date = dates[item.conversation_id] = carried
        elif tabular and above is not None:
            item.date = above
        stamped = stamped or has_value(item.timestamp)
        checked = validate(item, resolved.tz, day, nicks, years)
        if not isinstance(checked, Reject) and checked.role is Role.AGENT:
            agent_rows += 1
            agents_named = agents_named or bool(checked.sender or checked.agent_id)
        if isinstance(checked, Reject):
            outcome.rejects.append(checked)
            report.rejected += 1
            if checked.reason.startswith("unknown role"):
                unknown_roles += 1
            continue
        if checked.sent_at is None and has_value(item.timestamp) and report.format != "text":
            timeless = True
        # A row with a date of its own is on that day and starts its conversation's clock again;
        # the file's day, or a date carried down from the rows above, rolls over midnight.
        if rolls and checked.sent_at is not None and _time_only(item.timestamp):
            if restart:
                clocks[checked.conversation_id] = (checked.sent_at, 0)
            elif _roll_over_midnight(checked, clocks, limits.sheet_rollover, resolved.tz):
                rolled.add(checked.conversation_id)
        elif tabular and checked.sent_at is not None and not has_value(item.date):
            # A full date and time of its own: the clock of the rows after it starts here.
            local = checked.sent_at.astimezone(resolved.tz)
            full_day[item.conversation_id] = dates[item.conversation_id] = local.date()
            clocks[checked.conversation_id] = (checked.sent_at, 0)
        if isinstance(item.conversation_id, float) and abs(item.conversation_id) >= _EXACT_FLOAT_DIGITS:
            rounded_ids.add(checked.conversation_id)
        at = checked.sent_at
        if at is not None and not seconds:
            timed += 1
            seconds = bool(at.second or at.microsecond)
        report.accepted += 1
        if text_export and checked.role is Role.CUSTOMER and checked.sender:
            if parse_role_word(checked.sender) is None:
                buyers.setdefault(checked.conversation_id, {}).setdefault(
                    checked.sender.casefold(), checked.sender
                )
        if len(checked.text) > max_chars:
            outcome.warnings.append(
                f"{report.path} line {checked.line}: a message of {len(checked.text):,} characters;"
                f" only its first {max_chars:,} are inspected (max_message_chars, {limits_source()})"
            )
        yield checked
    if timeless:
        outcome.warnings.append(_missing_day(report.path))
    if unknown_roles and unknown_roles * 2 >= report.read and whole:
        # A column of 1/0, or of the senders' nicks, under a role header lost the whole file with
        # exit 0 and nothing naming the fix (audit 154 M3).
        outcome.warnings.append(
            f"{report.path}: {unknown_roles} of {report.read} rows have a role qc does not read (it reads"
            " 客服/买家/系统 and agent/customer/system): if that column holds the senders' nicks, name it"
            " with --column sender=HEADER; a 1/0 flag cannot tell a role: rename its header in the file so"
            " the nicks tell the roles"
        )
    _warn_defaulted_buyers(report.path, defaulted, outcome.warnings)
    for cid, nicks_of in sorted(buyers.items()):
        if len(nicks_of) > 1:
            # One agent's log with no divider between its chats read two buyers as one: the
            # second one's wait was never timed, and one buyer was received.
            nicks_seen = sorted(nicks_of.values())
            more = " …" if len(nicks_seen) > 3 else ""
            outcome.warnings.append(
                f"{report.path}: conversation {shown_id(cid)} holds messages of {len(nicks_seen)} buyers"
                f" ({', '.join(shown_value(b, 20) for b in nicks_seen[:3])}{more}),"
                " read as one conversation: if they are separate chats, put a divider line (————) or"
                " a title line (与 NICK 的聊天记录) between them"
            )
    # Said of files read whole only (JSON Lines is read in pieces by workers and Spark).
    if report.format in ("csv", "xlsx", "json") and report.accepted:
        if not stamped:
            outcome.warnings.append(
                f"{report.path}: no row gives a time (no column is one qc reads as the time, such as 时间,"
                " 发送时间 or timestamp), so no reply can be timed; name it with --column timestamp=HEADER"
            )
        if agent_rows and not agents_named:
            outcome.warnings.append(
                f"{report.path}: no agent row names its agent (no column qc reads as the sender, such as"
                " 发送人, 昵称 or 客服账号, or it is empty on every agent row), so every agent is 'unknown';"
                " name the column with --column sender=HEADER, or fill it in"
            )
    if rolled:
        outcome.warnings.append(
            f"{report.path}: {len(rolled)} conversation(s) (e.g. {min(rolled)}) went past midnight: a"
            " clock-only time stepped back by more than sheet_clock_back_rollover_minutes, so the rows"
            " from there on are on the next day; if the file is not sorted by time, give it a date column"
            " or sort it"
        )
    if ids_filled:
        outcome.warnings.append(
            f"{report.path}: {ids_filled} row(s) with an empty 会话ID took the id of the row above"
            " (a cell merged over a conversation's rows); if an id was really missing, fill it in"
        )
    # Said of the files Excel saves and of text exports, read whole; JSON Lines, which workers
    # and Spark read in pieces, would say it of some pieces only (its replies are timed alike).
    if timed > 1 and not seconds and report.format != "jsonl":
        fix = (
            "export the chat records again with their seconds (千牛's 聊天记录 export writes them)"
            if report.format == "text"
            else "format the time column yyyy-mm-dd hh:mm:ss in Excel or WPS before saving, or take"
            " the platform's export"
        )
        outcome.warnings.append(
            f"{report.path}: its times have no seconds (as Excel shows and saves 2026/11/24 9:01), so a"
            " reply is timed at the least it can have taken (the minutes apart less 59 s) and response"
            f" times read short; {fix}, for exact figures"
        )
    if rounded_ids:
        outcome.warnings.append(
            f"{report.path}: {len(rounded_ids)} conversation id(s) are numbers of 16 digits or more (e.g."
            f" {min(rounded_ids)}), which a spreadsheet keeps to 15 significant digits: ids may have"
            " changed, and different conversations may share one; format the id column as text in"
            " Excel and export again, or export CSV"
        )


def _fill_merged_ids(items: list[RawRecord | Reject]) -> int:
    """Give each row with an empty 会话ID the id of the row above it in its sheet; how many were.

    A 会话ID merged over a conversation's rows: openpyxl gives its value to the first row only.
    """
    filled, sheet, above = 0, None, None
    for item in items:
        if isinstance(item, Reject):
            continue
        if item.file != sheet:
            sheet, above = item.file, None
        if has_value(item.conversation_id):
            above = item.conversation_id
        elif above is not None:
            item.conversation_id = above
            filled += 1
    return filled


def _buyer_by_default(
    item: RawRecord,
    nicks: tuple[frozenset[str], frozenset[str]],
    conversations: set[tuple[str, str]],
    shops: dict[tuple[str, str], set[str]],
) -> bool:
    """True for a row, in a conversation whose agent a nick names, that is the buyer's.

    A row whose nick tells no role, or whose nick looks like a shop account of another shop than
    the conversation's 店铺 (jd:小林 beside 柚子店): that was read as a second agent, the buyer's
    words charged to it and the real agent's replies never timed (audit 154 H1).
    """
    if has_value(item.role) or type(item.sender) is dict:
        return False
    cid, nick = scalar_text(item.conversation_id), scalar_text(item.sender)
    if cid is None or nick is None or (item.file, cid) not in conversations:
        return False
    role = role_from_nick(nick, *nicks)
    if role is None:
        return True
    own = shops.get((item.file, cid), set())
    if role[0] is not Role.AGENT or _names_the_agent(nick, nicks[0], own):
        return False
    # A prefix holding the shop's name (柚子店旗舰店:阿木 beside 柚子店), or held in it (暖阳:阿紫
    # beside 暖阳小铺, audit 158 M3), may be another spelling of the shop: left as it was read,
    # never made the buyer. A platform's name (京东:小林 beside 京东柚子自营店) is a buyer's prefix.
    sub = split_subaccount(nick)
    if sub is None:
        return False
    prefix = fold_agent_id(sub[0])
    return prefix in _PLATFORM_PREFIXES or not any(shop in prefix or prefix in shop for shop in own)


# Platforms whose name a buyer's account starts with (jd:小林, 京东:小林, tb_…): never a shop's own.
_PLATFORM_PREFIXES = frozenset(
    ("jd", "京东", "tb", "淘宝", "天猫", "tmall", "拼多多", "pdd", "抖音", "快手", "唯品会", "苏宁", "微信")
)


def _agent_conversations(
    items: list[RawRecord | Reject], nicks: tuple[frozenset[str], frozenset[str]]
) -> tuple[set[tuple[str, str]], dict[tuple[str, str], set[str]]]:
    """In a sheet without a role column, the (sheet, conversation) pairs where a sender nick names an agent.

    There the other named senders are the buyer, as in a text export: a shop account
    (店铺:客服) or an --agent-nick tells the agent, and the buyer has no mark of their own.
    Every buyer row of such a sheet was a reject, and the only fix was naming each buyer
    (audit 91 #8). A sheet with a role column keeps its rule: an empty role cell is a reject;
    a role column empty throughout (a template's column nobody fills) says nothing, as none.
    Told sheet by sheet: one workbook may hold both. Also each conversation's shops (folded), from
    its 店铺 cells.
    """
    records = [item for item in items if isinstance(item, RawRecord)]
    with_roles = {r.file for r in records if has_value(r.role)}
    # A conversation's shop, from the rows that name one (a row with an empty 店铺 cell takes it);
    # per sheet, as a workbook's sheets may number their chats alike.
    shops: dict[tuple[str, str], set[str]] = {}
    for r in records:
        if (cid := scalar_text(r.conversation_id)) is not None and (shop := scalar_text(r.shop)) is not None:
            shops.setdefault((r.file, cid), set()).add(fold_agent_id(shop))
    found: set[tuple[str, str]] = set()
    for r in records:
        if r.file in with_roles:
            continue
        nick = scalar_text(r.sender) if type(r.sender) is not dict else None
        role = role_from_nick(nick, *nicks) if nick is not None else None
        cid = scalar_text(r.conversation_id)
        if nick is None or role is None or role[0] is not Role.AGENT or cid is None:
            continue
        if _names_the_agent(nick, nicks[0], shops.get((r.file, cid), set())):
            found.add((r.file, cid))
    return found, shops


def _names_the_agent(nick: str, agent_nicks: frozenset[str], shops: set[str]) -> bool:
    """True when an agent-like nick vouches for the agent of a conversation of ``shops`` (folded).

    jd:小林 beside a 店铺 column of 柚子店 is a buyer's nick with a colon, not the shop's account:
    taken for one, the real agent 阿木 was read as the buyer (audit 99 F4). A role word before the
    colon (客服：小周) still names the agent; a shop account only with the shop's own name.
    """
    sub = split_subaccount(nick)
    if nick in agent_nicks or not shops or sub is None:
        return True
    word = parse_role_word(sub[0])
    if word is not None and word[0] is Role.AGENT:
        return True
    # The shop itself, exactly: 京东:小林 beside 京东柚子自营店 (a platform prefix, audit 101 A2) and
    # 柚子店铁粉:小桃 beside 柚子店 (a fan's name, audit 102 B4) are buyers' nicks. A sub-account
    # written with another spelling of the shop is a reject naming the fix, never a wrong buyer.
    return fold_agent_id(sub[0]) in shops


def _warn_defaulted_buyers(path: str, defaulted: dict[str, dict[str, str]], warnings: list[str]) -> None:
    """Say that rows without a role were read as the buyer's, and name conversations with several such nicks.

    Two buyer nicks in one conversation are most often an agent written without the shop
    (小雨 beside 店铺:阿青): that agent's replies would be the buyer's, uncharged and untimed.
    """
    if not defaulted:
        return
    rows_of = sorted({nick for nicks_of in defaulted.values() for nick in nicks_of.values()})
    warnings.append(
        f"{path}: no role given (no role column, or one empty throughout): in {len(defaulted)}"
        " conversation(s) a shop account (店铺:客服) or"
        f" --agent-nick names the agent, and the other senders ({len(rows_of)} nick(s)) are read as the"
        " buyer; name any other agent with --agent-nick NICK"
    )
    for cid, nicks_of in sorted(defaulted.items()):
        if len(nicks_of) > 1:
            seen = sorted(nicks_of.values())
            more = " …" if len(seen) > 3 else ""
            warnings.append(
                f"{path}: conversation {shown_id(cid)} has {len(seen)} senders read as the buyer"
                f" ({', '.join(shown_value(b, 20) for b in seen[:3])}{more}): if one of them is an agent,"
                " name it with --agent-nick NICK"
            )


def _only_sheet_day(path: Path, title: str, outcome: FileOutcome, dated: bool) -> str | None:
    """The title of a workbook's only sheet when it gives the day, the file's name giving none.

    A file named by its day keeps that day: an only sheet titled 导出于20261201 moved every
    deduction to the export's day (audit 121 M1). When both name a day and they differ, a
    warning says which was read (none under ``dated``: --date gives the day).
    """
    titled, named = date_from_filename(Path(title)), date_from_filename(path)
    if titled is not None and named is not None and titled != named and not dated:
        outcome.warnings.append(
            f"{path}: its only sheet's title ({shown_value(title, 20)}) names {titled}, the file's name"
            f" {named}: clock-only times are read on {named}; give --date to read them on another day"
        )
    return title if titled is not None and named is None else None


def _time_only(value: Any) -> bool:
    """True for a clock-only time: a time cell, a clock as text, or a fraction of a day.

    A workbook cell of a time whose format was reset holds the fraction (23:59:30 is 0.99965):
    :func:`~qc.readers.timestamps.parse_timestamp` reads it as a clock, so it rolls over midnight as
    the others do; it did not, and a reply at 00:00:20 went before the question (audit 120 H5).
    """
    if isinstance(value, time):
        return True
    if isinstance(value, int | float) and not isinstance(value, bool):
        return 0 <= value < 1
    if not isinstance(value, str):
        return False
    text = value.strip()
    return TIME_RE.match(text) is not None and DATETIME_RE.match(text) is None


def _roll_over_midnight(
    c: Candidate, clocks: dict[str, tuple[datetime, int]], rollover: timedelta, tz: tzinfo
) -> bool:
    """Put a time-only message after midnight on the next day, as its place in the file says.

    23:59:40 then 00:00:30 in one conversation of a file dated 2026-11-24 is a conversation
    crossing midnight, not one that ran backwards: as text exports read it. True when the
    message was moved to a later day.
    """
    assert c.sent_at is not None
    last, shift = clocks.get(c.conversation_id, (None, 0))
    if last is not None and c.sent_at < last - rollover:
        shift += 1
    clocks[c.conversation_id] = (c.sent_at, shift)
    if not shift:
        return False
    # The next day's offset on the zone's clock (a daylight-saving change that night).
    c.sent_at = steady(c.sent_at.astimezone(tz) + timedelta(days=shift))
    if c.key is not None:
        c.key = (*c.key[:3], c.sent_at, *c.key[4:])
    return True


# How many records tell a file's order, and the steps too small to tell it: an auto-reply
# stamped a few seconds before the message it answers says nothing of how the file is sorted.
_ORDER_SAMPLE = 2000
_JITTER_S = 5


def _clock(value: Any) -> time | None:
    """The time of day of a clock-only value (:func:`_time_only`), ``None`` when unreadable."""
    if isinstance(value, time):
        return value
    if isinstance(value, int | float):
        seconds = round(value * 86400) % 86400
        return time(seconds // 3600, seconds // 60 % 60, seconds % 60)
    return parse_time_only(value)


def _newest_first(records: list[RawRecord | Reject], rollover: timedelta) -> bool:
    """True when the clock-only times of these records step back more often than forward.

    Only steps inside one conversation count, of more than a few seconds and at most the
    rollover window (a bigger step back is a midnight, or the order: it tells nothing).
    """
    last: dict[Any, int] = {}
    back = forward = 0
    window = rollover.total_seconds()
    for r in records:
        if isinstance(r, Reject) or not _time_only(r.timestamp):
            continue
        clock = _clock(r.timestamp)
        if clock is None:
            continue
        now = clock.hour * 3600 + clock.minute * 60 + clock.second
        before = last.get(r.conversation_id)
        last[r.conversation_id] = now
        if before is None or not _JITTER_S < abs(now - before) <= window:
            continue
        if now < before:
            back += 1
        else:
            forward += 1
    return back > forward


# A spreadsheet number keeps 15 significant digits: a numeric id this large was rounded.
_EXACT_FLOAT_DIGITS = 1e15
