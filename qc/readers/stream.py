"""Streaming reading: conversations come out while the input is still being read.

:func:`~qc.readers.read_inputs` holds a whole batch in memory before the first
conversation can be inspected. :func:`stream_inputs` gives the *same* conversations,
rejects, counts and warnings, but yields each conversation as soon as it is complete,
so memory no longer grows with the input and inspection overlaps reading.

Two things make that exact:

* A UTF-8 JSON Lines file (the format of bulk exports, sniffed as usual) is read line by
  line. Any other file (CSV, XLSX, text exports, one JSON document, other encodings, files
  with garbled lines) is read whole by the ordinary reader and its records join the stream
  in order.
* A conversation is complete when a record of another conversation follows it, which
  holds when each conversation's messages are contiguous in the input, as exports write
  them. If a conversation turns up again after another one, the stream raises
  :class:`NotContiguousError`; the caller then reads the batch the ordinary way (what
  ``qc inspect`` does), so nothing is lost or reordered. Exact duplicates share their
  conversation id, so they are found within the open conversation.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qc.readers.assemble import build_conversation, count_refused, wide_accounts
from qc.readers.closed_ids import ClosedIds
from qc.readers.encoding import _SAMPLE, _utf16_without_bom, bare_cr_lines, looks_binary
from qc.readers.files import FileOutcome, Resolved, read_file, resolve_options, stem_warnings, validated
from qc.readers.jsonl import read_jsonl
from qc.readers.options import FileReport, ReadOptions, ReadResult, expand_inputs
from qc.readers.records import Candidate, RawRecord, duplicate_reject
from qc.readers.sniff import _SNIFF_LINES, OLE_MAGIC, ZIP_MAGIC, json_layout, sniff_text_format
from qc.schema import Conversation, Reject

__all__ = ["ConversationAssembler", "NotContiguousError", "StreamRead", "stream_inputs"]

_CHUNK = 1 << 22  # bytes per read while checking a file's encoding


class ReadWholeError(Exception):
    """The input cannot be read in pieces as the whole read reads it: read the batch whole.

    The whole read gives the same outputs, only more slowly; the pieces read so far are dropped.
    """


class NotContiguousError(ReadWholeError):
    """A conversation's messages are split by another conversation's: read the batch whole."""


class GarbledLinesError(ReadWholeError):
    """Lines a worker was given are not valid UTF-8: the ordinary reader reports them, so read whole."""


class LineEndsError(ReadWholeError):
    """Lines a worker was given hold a bare carriage return, where the ordinary reader ends a line."""


@dataclass(slots=True)
class StreamRead:
    """What :func:`stream_inputs` found; complete once its iterator is exhausted.

    ``result`` has the files, rejects and warnings of a :class:`ReadResult` but no
    conversation list (they were yielded); ``conversations`` counts them.
    """

    result: ReadResult = field(default_factory=ReadResult)
    conversations: int = 0


def stream_inputs(paths: list[Path], options: ReadOptions, read: StreamRead) -> Iterator[Conversation]:
    """Yield the conversations of ``paths`` as :func:`read_inputs` builds them, one by one.

    Fills ``read`` as it goes; its counts, rejects and warnings equal ``read_inputs``'s
    once the iterator is exhausted.

    Raises:
        ConfigError: A forced format, encoding or time zone is unknown (before any reading).
        NotContiguousError: A conversation continues after another one began.
    """
    files = expand_inputs(list(paths))
    resolved = resolve_options(options).with_files(files)
    assembler = ConversationAssembler(check_contiguous=True)
    result = read.result
    result.warnings.extend(stem_warnings(resolved.stems))
    for path in files:
        outcome, items = _open(path, resolved)
        result.files.append(outcome.report)
        if items is None:  # read whole: candidates and rejects are already there
            candidates: Iterable[Candidate] = outcome.candidates
            outcome.candidates = []
        else:
            candidates = validated(items, path, resolved, outcome)
        duplicates: set[int] = set()
        for conversation in assembler.feed(candidates, outcome, duplicates):
            read.conversations += 1
            yield conversation
        if duplicates:
            # The ordinary reader's order: by line, and on one line its own rejects before duplicates.
            outcome.rejects.sort(key=lambda r: (r.file, r.line, id(r) in duplicates))
        result.warnings.extend(outcome.warnings)
        result.rejects.extend(outcome.rejects)
    for conversation in assembler.finish():
        read.conversations += 1
        yield conversation
    count_refused(assembler.wide, result)
    assembler.wide.clear()
    result.warnings.extend(assembler.warnings)


class ConversationAssembler:
    """Valid records in → conversations out, each as soon as a record of the next one arrives.

    Drops exact duplicates within a conversation (into the outcome's rejects, ids noted in
    ``duplicates``); ``warnings`` collects the conversations' own warnings (out of time order),
    in order. With ``check_contiguous`` a conversation that starts again after another one
    raises :class:`NotContiguousError`. ``wide`` collects the replies refused as a conversation
    is built (:func:`~qc.readers.assemble.wide_accounts`), for the caller to count to their files.
    """

    __slots__ = ("check_contiguous", "closed", "group", "warnings", "wide")

    def __init__(self, check_contiguous: bool) -> None:
        self.check_contiguous = check_contiguous
        self.closed = ClosedIds()
        self.group = _Group()
        self.warnings: list[str] = []
        self.wide: list[tuple[Candidate, Reject]] = []

    def feed(
        self, candidates: Iterable[Candidate], outcome: FileOutcome, duplicates: set[int]
    ) -> Iterator[Conversation]:
        """Add one file's (or one stretch of a file's) valid records; yield what they complete."""
        group = self.group
        for c in candidates:
            if c.conversation_id != group.id:
                if self.check_contiguous:
                    if c.conversation_id in self.closed:
                        raise NotContiguousError(c.conversation_id)
                    if group.id is not None:
                        self.closed.add(group.id)
                if group.id is not None and (built := group.build(self.warnings, self.wide)) is not None:
                    yield built
                group = self.group = _Group(c.conversation_id)
            first = group.seen.get(c.key) if c.key is not None else None
            if first is None:
                if c.key is not None:
                    group.seen[c.key] = c
                group.members.append(c)
                continue
            reject = duplicate_reject(first, c)
            duplicates.add(id(reject))
            outcome.rejects.append(reject)
            outcome.report.accepted -= 1
            outcome.report.rejected += 1

    def finish(self) -> Iterator[Conversation]:
        """The last conversation, once the input has ended."""
        if self.group.id is not None:
            built = self.group.build(self.warnings, self.wide)
            self.group = _Group()
            if built is not None:
                yield built


class _Group:
    """The open conversation: its kept records and their duplicate keys."""

    __slots__ = ("id", "members", "seen")

    def __init__(self, conversation_id: str | None = None) -> None:
        self.id = conversation_id
        self.members: list[Candidate] = []
        self.seen: dict[tuple[Any, ...], Candidate] = {}

    def build(self, warnings: list[str], wide: list[tuple[Candidate, Reject]]) -> Conversation | None:
        assert self.id is not None  # built once a record has opened the group
        members, refused = wide_accounts(self.members)
        wide.extend(refused)
        return build_conversation(self.id, members, warnings) if members else None


@dataclass(slots=True)
class _Lines:
    """A :class:`~qc.readers.jsonl.DecodedLines` for :func:`read_jsonl`: lines read lazily."""

    encoding: str
    lines: Iterator[str]
    garbled: frozenset[int] = frozenset()


def _open(path: Path, resolved: Resolved) -> tuple[FileOutcome, Iterator[RawRecord | Reject] | None]:
    """A streamable file's outcome and records, or a file read whole (records ``None``)."""
    codec = _streamable(path, resolved)
    if codec is None:
        return read_file(path, resolved), None
    report = FileReport(path=str(path), format="jsonl", encoding=codec)
    outcome = FileOutcome(report)
    lines = _Lines(codec, _read_lines(path, codec == "utf-8-sig"))
    return outcome, read_jsonl(lines, str(path), resolved.options.column_map)


def _streamable(path: Path, resolved: Resolved, whole: bool = True) -> str | None:
    """The codec when the ordinary reader would read ``path`` as UTF-8 JSON Lines, else ``None``.

    ``utf-8`` or ``utf-8-sig`` (with a byte-order mark); only files with no garbled line
    qualify, so reading them line by line gives the same records. With ``whole`` false only
    the opening sample is checked: the caller decodes every line itself and raises
    :class:`GarbledLinesError` on a bad one (the line split, whose workers decode their lines
    anyway, so the main process does not decode the file once more before the first chunk).
    """
    if resolved.format not in (None, "jsonl") or resolved.encoding is not None:
        return None  # a forced encoding has its own BOM rules: the ordinary reader applies them
    try:
        with path.open("rb") as fh:
            head = fh.read(_SAMPLE)
            if not head.strip(b" \t\r\n\x00\xef\xbb\xbf"):
                return None  # empty: the ordinary reader says so (a failed download?)
            bom = head.startswith(codecs.BOM_UTF8)
            if head.startswith((ZIP_MAGIC, OLE_MAGIC, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                return None
            if not bom and (_utf16_without_bom(head) or looks_binary(head)) or bare_cr_lines(head):
                return None
            decoder = codecs.getincrementaldecoder("utf-8")()
            decoder.decode(head[3:] if bom else head)
            last = head[-1:]
            while whole and (chunk := fh.read(_CHUNK)):
                decoder.decode(chunk)
                # A bare carriage return past the head ends a line to the whole-file reader (a
                # Mac export joined below): read whole, or half the day was one reject (audit 129 H1).
                if bare_cr_lines(last + chunk):
                    return None
                last = chunk[-1:]
            if whole:
                decoder.decode(b"", final=True)
    except (OSError, UnicodeDecodeError):
        return None  # unreadable or garbled: the ordinary reader reports it as it always has
    try:
        first = [line for _, line in zip(range(_SNIFF_LINES * 4), _read_lines(path, bom), strict=False)]
    except (OSError, UnicodeDecodeError):
        return None  # beyond the sample checked (whole=False): the ordinary reader reports it
    if resolved.format is None:
        if sniff_text_format(first, path, resolved.options.column_map)[0] != "jsonl":
            return None
    elif json_layout(first) != "jsonl":
        return None  # one JSON document, forced as jsonl: parsed whole by the ordinary reader
    return "utf-8-sig" if bom else "utf-8"


def _read_lines(path: Path, bom: bool) -> Iterator[str]:
    """Lines split on newline bytes only, one trailing CR dropped, as the ordinary decoder does."""
    with path.open("rb") as fh:
        first = True
        for raw in fh:
            if first:
                first = False
                if bom:
                    raw = raw[3:]
            text = raw.decode("utf-8")
            if text.endswith("\n"):
                text = text[:-1]
            yield text[:-1] if text.endswith("\r") else text
