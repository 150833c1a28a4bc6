"""JSON Lines cut into chunks of whole conversations, read by the workers of ``--jobs``.

With ``--jobs N`` the main process is the one every message goes through. Reading a
message in full (parsing, validating, building conversations, packing them for a worker)
costs it several times what finding where a conversation ends does, so for UTF-8 JSON
Lines input (bulk exports) the main process only does the latter:

* :class:`LineSplit` reads the lines, parses each just far enough to know its conversation
  id, and cuts the input into :class:`LineChunk` s of whole conversations (a chunk never ends
  inside a conversation or inside a line);
* a worker turns a chunk into conversations with :func:`read_chunk`: the very reader,
  validation and assembly :func:`~qc.readers.stream.stream_inputs` runs, so records,
  rejects, duplicates, counts and warnings are the same;
* :meth:`LineSplit.add` puts each chunk's :class:`ChunkRead` (counts, rejects, warnings)
  back into one :class:`~qc.readers.options.ReadResult`, in input order.

A line with no readable conversation id (not JSON, no id) stays with the conversation
before it; the worker rejects it. A conversation id that comes back after another one
raises :class:`~qc.readers.stream.NotContiguousError` and the caller reads the batch whole,
as it does for the stream. The main process also raises it when a record it cannot see is
invalid splits a conversation (``A, B with no text, A``), which the stream would have read;
reading whole then gives the same outputs, only slower.

Only a file's opening is checked to be UTF-8 before the split: the workers decode their
lines anyway, and one that finds a garbled line raises
:class:`~qc.readers.stream.GarbledLinesError`, so the caller reads the batch whole, where the
ordinary reader reports the file as it always has.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from qc.readers.closed_ids import ClosedIds
from qc.readers.encoding import bare_cr_lines
from qc.readers.files import FileOutcome, Resolved, resolve_options, validated
from qc.readers.jsonl import _CONVERSATION_KEYS, _fields, _plan, parse_line, read_jsonl
from qc.readers.options import FileReport, ReadOptions, ReadResult, expand_inputs
from qc.readers.records import _as_str
from qc.readers.stream import (
    ConversationAssembler,
    GarbledLinesError,
    LineEndsError,
    NotContiguousError,
    _Lines,
    _streamable,
)
from qc.schema import Conversation, Reject

__all__ = ["ChunkRead", "LineChunk", "LineSplit", "read_chunk"]

# Bytes the main process reads at a time, and the first window a run of lines is looked for in.
_BLOCK = 1 << 22
_WINDOW = 1 << 12
# Chunks of one size before they double (LineSplit.chunks with grow_to).
_GROW_EVERY = 4


@dataclass(slots=True)
class LineChunk:
    """Consecutive input lines holding whole conversations.

    ``segments`` has one ``(file index, number of the first line, bytes)`` per file the chunk
    touches (a conversation may go on in the next file): the lines as they are in the file,
    one block (one object to pickle, decoded once by the worker).
    """

    segments: list[tuple[int, int, bytes]]


@dataclass(slots=True)
class SegmentRead:
    """What reading one segment of a chunk gave, for its file's report."""

    file: int
    read: int
    accepted: int
    rejected: int
    rejects: list[Reject]
    duplicate: list[bool]  # per reject: an exact duplicate (sorted after the line's own rejects)
    warnings: list[str]


@dataclass(slots=True)
class ChunkRead:
    """What reading one chunk gave, besides its conversations."""

    segments: list[SegmentRead]
    warnings: list[str]  # the conversations' own (out of time order), in order
    conversations: int
    # Replies refused as their conversation was built (too wide an account), listed after all rejects.
    wide: list[Reject] = field(default_factory=list)


@dataclass(slots=True)
class _FileState:
    report: FileReport
    rejects: list[tuple[Reject, bool]] = field(default_factory=list)
    warnings: dict[str, None] = field(default_factory=dict)


class LineSplit:
    """Main side: the chunks of a batch of JSON Lines files, and the read result put back together."""

    def __init__(self, files: list[tuple[Path, str]], resolved: Resolved) -> None:
        self.files = files
        self.resolved = resolved
        self.names = [str(path) for path, _ in files]
        self._states = [_FileState(FileReport(path=str(p), format="jsonl", encoding=c)) for p, c in files]
        self._warnings: list[str] = []
        self._wide: list[Reject] = []
        self.conversations = 0

    @classmethod
    def of(cls, paths: list[Path], options: ReadOptions) -> LineSplit | None:
        """The split of ``paths`` if every file is JSON Lines the stream reads line by line, else ``None``.

        Raises:
            ConfigError: A forced format, encoding or time zone is unknown.
        """
        resolved = resolve_options(options)
        files = []
        for path in expand_inputs(list(paths)):
            codec = _streamable(path, resolved, whole=False)  # the workers check the rest
            if codec is None:
                return None
            files.append((path, codec))
        return cls(files, resolved) if files else None

    def chunks(self, size: int, grow_to: int | None = None) -> Iterator[LineChunk]:
        """The input as chunks of about ``size`` conversations, lazily.

        With ``grow_to`` the chunks double every ``_GROW_EVERY`` chunks until they hold that
        many: a short input is still shared among the workers, and a long one pays the
        per-chunk cost of the pool (pickling, pipes, a process switch) less often. What a
        chunk holds never changes what is read.

        Raises:
            NotContiguousError: A conversation id comes back after another one.
        """
        sizes = _sizes(size, grow_to or size)
        size = next(sizes)
        column_map = self.resolved.options.column_map
        closed = ClosedIds()  # finished ids, as the stream keeps them
        current: str | None = None
        runs = 0
        segments: list[tuple[int, int, bytes]] = []
        for index, (path, codec) in enumerate(self.files):
            plans: dict[tuple[Any, ...], str | None] = {}
            known: dict[str, str | None] = {}
            first, pieces = 1, []
            number = 0  # lines of this file read so far
            # The opening bytes that mark a plain line of the current conversation (see _same_opening),
            # and whether its lines are still worth matching as runs (see _run).
            opening: bytes | None = None
            marker = id_key = b""
            try_runs = False
            for block in _blocks(path, codec == "utf-8-sig"):
                start = at = 0  # block[start:at] is read and not yet in ``pieces``
                end = len(block)
                while at < end:
                    if opening is not None and block.startswith(opening, at):
                        if try_runs and (run := _run(block, at, marker, id_key)) is not None:
                            at, count = run
                            number += count
                            continue
                        # One failed run (a line that is not plain, or the id coming back after
                        # another) and the rest of this conversation goes line by line.
                        try_runs = False
                    newline = block.find(b"\n", at)
                    after = end if newline < 0 else newline + 1
                    raw = block[at:after]
                    number += 1
                    if opening is not None and raw.startswith(opening) and _plain(raw, opening):
                        at = after
                        continue
                    try:
                        obj = orjson.loads(raw)
                    except orjson.JSONDecodeError:
                        obj = None
                    # Most lines go on with the conversation before them: that needs one lookup.
                    where = plans.get(tuple(obj), "") if type(obj) is dict else ""
                    if where and (value := obj[where]) == current and type(value) is str:
                        if opening is None and (opening := _same_opening(raw, where, value)):
                            marker, id_key, try_runs = b"\n" + opening, _quoted_key(opening), True
                        at = after
                        continue
                    opening = None
                    for position, key in enumerate(_conversation_keys(obj, raw, column_map, plans, known)):
                        if key == current:
                            continue
                        if key in closed:
                            raise NotContiguousError(key)
                        if current is not None:
                            closed.add(current)
                        # Cut only before a line: its conversations all go to the same worker.
                        if position == 0 and runs >= size:
                            pieces.append(block[start:at])
                            if joined := b"".join(pieces):
                                segments.append((index, first, joined))
                            yield LineChunk(segments)
                            segments, first, pieces, runs, start = [], number, [], 0, at
                            size = next(sizes)
                        current = key
                        runs += 1
                    # A flat line that opens a conversation gives the opening its next lines share.
                    if type(obj) is dict and (where := plans.get(tuple(obj))) and obj.get(where) == current:
                        value = obj[where]
                        if type(value) is str and (opening := _same_opening(raw, where, value)):
                            marker, id_key, try_runs = b"\n" + opening, _quoted_key(opening), True
                    at = after
                pieces.append(block[start:end])
            if joined := b"".join(pieces):
                segments.append((index, first, joined))
        if segments:
            yield LineChunk(segments)

    def add(self, read: ChunkRead) -> None:
        """Count one chunk's reading (chunks in input order)."""
        for segment in read.segments:
            state = self._states[segment.file]
            report = state.report
            report.read += segment.read
            report.accepted += segment.accepted
            report.rejected += segment.rejected
            state.rejects.extend(zip(segment.rejects, segment.duplicate, strict=True))
            state.warnings.update(dict.fromkeys(segment.warnings))
        self._warnings.extend(read.warnings)
        self._wide.extend(read.wide)
        self.conversations += read.conversations

    def finish(self, result: ReadResult) -> None:
        """Put the files, rejects and warnings into ``result`` as :func:`stream_inputs` would."""
        for state in self._states:
            result.files.append(state.report)
            rejects = state.rejects
            if any(duplicate for _, duplicate in rejects):
                rejects = sorted(rejects, key=lambda pair: (pair[0].line, pair[1]))
            result.rejects.extend(reject for reject, _ in rejects)
            result.warnings.extend(state.warnings)
        result.rejects.extend(self._wide)
        result.warnings.extend(self._warnings)


def _sizes(size: int, grow_to: int) -> Iterator[int]:
    """Chunk sizes: ``size``, doubled every ``_GROW_EVERY`` chunks up to ``grow_to``, for ever."""
    size = max(1, size)
    while True:
        for _ in range(_GROW_EVERY):
            yield size
        size = max(size, min(grow_to, size * 2))


def _blocks(path: Path, bom: bool) -> Iterator[bytes]:
    """The file in blocks of whole lines (about ``_BLOCK`` bytes), the byte-order mark dropped.

    Every block but the last ends with a newline; the last one may end with a line that has
    none. Lines are cut on newline bytes alone, as ``_read_lines`` and binary file iteration cut them.
    """
    with path.open("rb") as fh:
        if bom:
            fh.read(3)
        rest = b""
        while data := fh.read(_BLOCK):
            data = rest + data if rest else data
            cut = data.rfind(b"\n") + 1
            rest = data[cut:]
            if cut:
                yield data[:cut]
        if rest:
            yield rest


def _run(block: bytes, at: int, marker: bytes, id_key: bytes) -> tuple[int, int] | None:
    """Where the run of plain lines that open like the line at ``at`` ends, and how many they are.

    ``marker`` is a newline and the opening (see :func:`_same_opening`) that the line at ``at``
    starts with; ``id_key`` is the quoted id key. The run is found and checked with a few scans
    of the block instead of a step per line (the main process of ``--jobs`` reads every line):
    the last opening within a window that grows until the run ends inside it, then counts that
    say every line in between opens the same way and is plain (:func:`_plain`). ``None`` when the
    check fails: the opening comes back after another line, or a line is not plain; the caller
    then reads line by line. The run ends before a last line that has no newline.
    """
    end = len(block)
    window = _WINDOW
    while True:
        limit = min(end, at + window)
        last = block.rfind(marker, at, limit)
        line = at if last < 0 else last + 1
        newline = block.find(b"\n", line)
        if newline < 0:  # the file's last line, with no newline: left to the caller
            stop = line
            break
        stop = newline + 1
        # The line after the run would have shown its marker inside the window.
        if stop - 1 + len(marker) <= limit or limit == end:
            break
        window *= 4
    lines = block.count(b"\n", at, stop)
    if (
        lines == 0
        or block.count(marker, at, stop) != lines - 1
        or block.find(b"\\", at, stop) >= 0
        or block.count(b"{", at, stop) != lines
        or block.count(id_key, at, stop) != lines
    ):
        return None
    return stop, lines


def _same_opening(raw: bytes, key: str, value: str) -> bytes | None:
    """The bytes a line opens with when its first key is ``key`` holding ``value`` (``None`` if it does not).

    ``raw`` was read as a flat object whose conversation id, under ``key``, is ``value``. When
    that key comes first and the line is plain (see :func:`_plain`), every later line opening
    with the same bytes holds the same id: the reader takes the first key that names a field,
    and the value's closing quote ends the opening. Such lines are matched on their bytes,
    without parsing them (the main process of ``--jobs`` reads every line).
    """
    opening = b"{" + orjson.dumps(key)
    if not raw.startswith(opening):
        return None
    rest = raw[len(opening) :]
    colon = rest.find(b":")
    if colon < 0 or rest[:colon].strip(b" \t"):
        return None
    quoted = orjson.dumps(value)
    start = len(opening) + colon + 1
    while raw[start : start + 1] in (b" ", b"\t"):
        start += 1
    if not raw.startswith(quoted, start):
        return None
    found = raw[: start + len(quoted)]
    return found if _plain(raw, found) else None


def _plain(raw: bytes, opening: bytes) -> bool:
    """Whether a line that starts with ``opening`` (see :func:`_same_opening`) is read as it opens.

    No backslash (so no key or value is written with escapes, which could spell the id key a
    second time), one brace (a flat object: no nested messages) and the id key once (no
    duplicate key, whose last value the parser would take).
    """
    return b"\\" not in raw and raw.count(b"{") == 1 and raw.count(_quoted_key(opening)) == 1


def _quoted_key(opening: bytes) -> bytes:
    """The id key with its quotes (``"conversation_id"``) of an opening from :func:`_same_opening`."""
    return opening[1 : opening.index(b'"', 2) + 1]


def _block_lines(block: bytes) -> list[str]:
    """A segment's lines as ``_read_lines`` gives them: split on newlines, one trailing CR dropped."""
    lines = block.decode("utf-8").split("\n")
    if block.endswith(b"\n"):
        lines.pop()  # the empty text after the last newline is no line
    if b"\r" not in block:  # nearly every export: no line to look at one by one
        return lines
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def _conversation_keys(
    obj: Any,
    raw: bytes,
    column_map: Mapping[str, str],
    plans: dict[tuple[Any, ...], str | None],
    known: dict[str, str | None],
) -> list[str]:
    """The conversation ids of a line's records, as validation will find them (none if unreadable).

    ``obj`` is orjson's reading of the line ``raw`` (``None`` if it refused it). It is used
    when it holds the id exactly as the standard library reads it: a flat object whose id is
    no float (orjson rounds integers beyond 64 bits). Else the line is read again as the
    worker reads it.
    """
    flat = type(obj) is dict and "messages" not in obj
    if not (flat and type(obj.get(_id_key(tuple(obj), column_map, plans, known))) is not float):
        try:
            obj = parse_line(_block_lines(raw)[0])
        except (ValueError, RecursionError):
            return []
    if type(obj) is not dict:
        return []
    if "messages" not in obj:
        found = _as_str(obj.get(_id_key(tuple(obj), column_map, plans, known)))
        return [found] if found is not None else []
    messages = obj["messages"]
    if not isinstance(messages, list):
        return []
    outer = _fields({k: v for k, v in obj.items() if k != "messages"}, column_map)
    outer = {k: v for k, v in outer.items() if k in _CONVERSATION_KEYS}
    ids: list[str] = []
    for message in messages:
        if isinstance(message, dict):
            found = _as_str({**outer, **_fields(message, column_map)}.get("conversation_id"))
            if found is not None and (not ids or ids[-1] != found):
                ids.append(found)
    return ids


def _id_key(
    keys: tuple[Any, ...],
    column_map: Mapping[str, str],
    plans: dict[tuple[Any, ...], str | None],
    known: dict[str, str | None],
) -> str | None:
    """The key holding the conversation id in objects with these keys, as the reader maps them."""
    if keys not in plans:
        plans[keys] = next(
            (key for key, name in _plan(keys, column_map, known) if name == "conversation_id"), None
        )
    return plans[keys]


def read_chunk(
    chunk: LineChunk, names: list[str], resolved: Resolved
) -> tuple[list[Conversation], ChunkRead]:
    """Worker side: the conversations of a chunk and what reading it gave (counts, rejects, warnings).

    ``names`` are the input files (a segment gives its file by index).
    """
    assembler = ConversationAssembler(check_contiguous=False)
    conversations: list[Conversation] = []
    segments = []
    for index, first, block in chunk.segments:
        path = Path(names[index])
        outcome = FileOutcome(FileReport(path=names[index], format="jsonl"))
        try:
            text = _block_lines(block)
        except UnicodeDecodeError:
            # No text in the message: it travels back to the parent, which reads the batch whole.
            raise GarbledLinesError(f"{names[index]}: lines from {first} on are not UTF-8") from None
        if b"\r" in block and bare_cr_lines(block):
            # The whole read ends a line there (a Mac export joined below): read the batch so (129 H1).
            raise LineEndsError(f"{names[index]}: lines from {first} on end in a bare carriage return")
        lines = _Lines("utf-8", iter(text))
        items = read_jsonl(lines, names[index], resolved.options.column_map, first)
        duplicates: set[int] = set()
        conversations.extend(assembler.feed(validated(items, path, resolved, outcome), outcome, duplicates))
        report = outcome.report
        segments.append(
            SegmentRead(
                index,
                report.read,
                report.accepted,
                report.rejected,
                outcome.rejects,
                [id(r) in duplicates for r in outcome.rejects],
                outcome.warnings,
            )
        )
    conversations.extend(assembler.finish())
    for c, _ in assembler.wide:  # a reply refused as its conversation was built: its file's count
        segment = next(s for s in reversed(segments) if names[s.file] == c.file)
        segment.accepted -= 1
        segment.rejected += 1
    wide = [reject for _, reject in assembler.wide]
    return conversations, ChunkRead(segments, assembler.warnings, len(conversations), wide)
