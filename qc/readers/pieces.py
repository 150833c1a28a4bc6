"""Reading a file in pieces, where the pieces are: a stretch of JSON Lines, a CSV file as a stream.

A distributed reader (``qc inspect --engine spark``) gives each task some consecutive lines
of one file and the number of the first. :class:`PieceRead` turns them into the very
records and rejects the whole-file readers make (:func:`~qc.readers.jsonl.read_jsonl`,
:func:`~qc.readers.tabular.rows_to_records`, :func:`~qc.readers.files.validated`), in read
order, and counts them as that file's report counts them. Duplicates and conversations
are left to whoever sees all of a conversation's records
(:func:`~qc.readers.assemble.assemble_group`). Plain Python: tested without Spark.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from qc.readers.encoding import _SAMPLE, _utf16_without_bom, bare_cr_lines, looks_binary
from qc.readers.files import FileOutcome, Resolved, validated
from qc.readers.jsonl import read_jsonl
from qc.readers.options import FileReport
from qc.readers.records import Candidate, RawRecord
from qc.readers.sniff import _SNIFF_LINES, OLE_MAGIC, ZIP_MAGIC, json_layout, sniff_text_format
from qc.readers.stream import _Lines
from qc.readers.tabular import NoHeaderError, csv_line_rows, rows_to_records
from qc.schema import Reject

__all__ = ["HEAD_BYTES", "HEAD_LINES", "PieceCounts", "PieceFormat", "PieceRead", "line_text", "piece_format"]

# What piece_format looks at: the bytes the encoding sniffer reads, the lines the format sniffer reads.
HEAD_BYTES = _SAMPLE
HEAD_LINES = _SNIFF_LINES * 4


@dataclass(frozen=True, slots=True)
class PieceFormat:
    """How a file that can be read in pieces is read: format, codec label, CSV delimiter."""

    format: str  # "jsonl" or "csv"
    encoding: str  # "utf-8" or "utf-8-sig" (a byte-order mark)
    delimiter: str = ","


def piece_format(
    name: str, head: bytes, head_lines: Callable[[bool], list[str]], resolved: Resolved
) -> PieceFormat | str:
    """How to read a file in pieces as the whole-file reader would read it, or why it cannot be.

    ``head`` is the file's first :data:`HEAD_BYTES` bytes; ``head_lines(bom)`` its first
    :data:`HEAD_LINES` lines decoded from UTF-8 (the byte-order mark dropped), raising
    ``UnicodeDecodeError`` if they are not UTF-8. A file qualifies when the whole-file
    reader would decode it as UTF-8 and read it as JSON Lines or CSV; the caller must
    still check that *every* line is UTF-8 (a garbled line makes the whole-file reader
    sniff the encoding and reject lines, which is left to it). The reasons returned are for
    run.json.
    """
    if resolved.encoding is not None:
        return "a forced --encoding is applied by the whole-file reader"
    if resolved.format not in (None, "jsonl", "csv"):
        return f"--input-format {resolved.format} is read whole"
    if not head:
        return "empty file"
    if head.startswith((ZIP_MAGIC, OLE_MAGIC)):
        return "a workbook (XLSX or XLS) is read whole"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "UTF-16 is read whole"
    bom = head.startswith(codecs.BOM_UTF8)
    if not bom and _utf16_without_bom(head):
        return "UTF-16 is read whole"
    if not bom and looks_binary(head):
        return "looks binary (the whole-file reader reports it)"
    if bare_cr_lines(head):
        return "lines ending in a carriage return alone are split by the whole-file reader"
    try:
        lines = head_lines(bom)
    except UnicodeDecodeError:
        return "not UTF-8 (the whole-file reader sniffs its encoding)"
    fmt, delimiter = resolved.format, ","
    if fmt is None:
        fmt, delimiter = sniff_text_format(lines, Path(name), resolved.options.column_map)
    elif fmt == "csv":
        delimiter = sniff_text_format(lines, Path(name), resolved.options.column_map)[1]
    elif fmt == "jsonl":
        fmt = json_layout(lines)
    if fmt == "json":
        return "one JSON document (not JSON Lines) is parsed whole"
    if fmt not in ("jsonl", "csv"):
        return f"a {fmt or 'unknown'} file is read whole"
    return PieceFormat(fmt, "utf-8-sig" if bom else "utf-8", delimiter)


def line_text(raw: bytes, first_of_file_with_bom: bool = False) -> str:
    """One line's bytes (split on newline bytes only) as the readers decode it from UTF-8.

    The byte-order mark of a file's first line and one trailing carriage return are dropped,
    as :func:`~qc.readers.stream._read_lines` drops them.

    Raises:
        UnicodeDecodeError: The bytes are not UTF-8 (callers check files before they split them).
    """
    if first_of_file_with_bom and raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    text = raw.decode("utf-8")
    return text[:-1] if text.endswith("\r") else text


@dataclass(slots=True)
class PieceCounts:
    """What reading some pieces of one file gave: the counts of its report, warnings, an error.

    Added up with :meth:`merge` in any order: counts add, warnings are kept once each, in the
    file's order (each remembers the first line of the piece that said it).
    """

    read: int = 0
    accepted: int = 0
    rejected: int = 0
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    # The first line of the piece each warning came from (empty: all from ``first_line``).
    starts: list[int] = field(default_factory=list)
    first_line: int = 1

    def merge(self, other: PieceCounts) -> None:
        """Add the counts of another piece of the same file."""
        self.read += other.read
        self.accepted += other.accepted
        self.rejected += other.rejected
        mine = self._placed()
        said = set(self.warnings)
        # Spark folds the pieces of a file as their tasks end: sorted by where each piece began
        # (stable, so a piece's own warnings keep their order), run.json lists them as a local run.
        placed = sorted([*mine, *((at, w) for at, w in other._placed() if w not in said)], key=lambda p: p[0])
        self.starts = [at for at, _ in placed]
        self.warnings = [w for _, w in placed]
        self.error = self.error or other.error

    def _placed(self) -> list[tuple[int, str]]:
        starts = (
            self.starts if len(self.starts) == len(self.warnings) else [self.first_line] * len(self.warnings)
        )
        return list(zip(starts, self.warnings, strict=True))


class PieceRead:
    """Reads pieces of one file with the readers' own code; :meth:`counts` says what they gave."""

    def __init__(self, file: str, fmt: str, encoding: str, resolved: Resolved) -> None:
        self.file = file
        self.resolved = resolved
        self.outcome = FileOutcome(FileReport(path=file, format=fmt, encoding=encoding))
        self.first_line = 1

    def jsonl(self, lines: Iterable[str], first_line: int) -> Iterator[Candidate | Reject]:
        """Records and rejects of consecutive JSON Lines lines, the first numbered ``first_line``."""
        self.first_line = first_line
        decoded = _Lines(self.outcome.report.encoding or "utf-8", iter(lines))
        items = read_jsonl(decoded, self.file, self.resolved.options.column_map, first_line)
        return self._checked(items)

    def csv(self, lines: Iterable[str], delimiter: str) -> Iterator[Candidate | Reject]:
        """Records and rejects of a whole CSV file's lines, from its first (a file without header: none)."""
        rows = csv_line_rows(lines, delimiter, encoding=self.outcome.report.encoding or "utf-8")
        items = rows_to_records(
            rows,
            self.file,
            self.resolved.options.column_map,
            delimiter=delimiter,
            warnings=self.outcome.warnings,
        )
        try:
            yield from self._checked(items)
        except NoHeaderError as exc:  # the whole file is unreadable, as read_file reports it
            self.outcome.report.error = str(exc)

    def _checked(self, items: Iterable[RawRecord | Reject]) -> Iterator[Candidate | Reject]:
        """Validate records one by one; rejects come out in read order among the candidates."""
        outcome = self.outcome
        rejects = outcome.rejects
        for candidate in validated(items, Path(self.file), self.resolved, outcome):
            if rejects:
                yield from rejects
                rejects.clear()
            yield candidate
        yield from rejects
        rejects.clear()

    def counts(self) -> PieceCounts:
        """The counts so far (read = accepted + rejected; duplicates are not known here)."""
        report = self.outcome.report
        return PieceCounts(
            report.read,
            report.accepted,
            report.rejected,
            list(self.outcome.warnings),
            report.error,
            first_line=self.first_line,
        )
