"""One JSON document: a top-level array of messages or of conversations, or one object.

JSON Lines (one message or conversation per line) is the bulk format and is read line by
line. Some tools write a day as one JSON document instead: ``[{…}, {…}]`` on one line, the
same array pretty-printed, or one pretty-printed conversation ``{"conversation_id": …,
"messages": [...]}``. :func:`is_document` tells such a file from JSON Lines by its first lines;
:func:`read_document` parses it whole and gives each element the records and rejects a JSON
Lines line holding that element gives (:func:`~qc.readers.jsonl.value_records`), numbered by
the line the element starts on, so ``read = accepted + rejected`` holds as for JSON Lines.

A document that is not valid JSON as a whole cannot be read element by element past the fault:
it is one :class:`DocumentError` naming the line and column, never a reject per line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Any, Protocol

from qc.readers.jsonl import _plan, envelope, json_problem, neither_reason, parse_line, value_records
from qc.readers.records import RawRecord, garbled_reason, make_reject
from qc.schema import Reject

__all__ = ["DocumentError", "is_document", "read_document"]

_WHITESPACE = re.compile(r"[ \t\n\r]*")
# What may follow the point where a document cut short stops parsing, on its last line: nothing,
# or the start of a token (a string, a number, true/false/null) the cut went through.
_CUT_TOKEN = re.compile(r'\s*(?:"(?:[^"\\\n]|\\.)*\\?|[-+.eE0-9]*|[A-Za-z]*)\s*')
# A pretty-printed element's line breaks and indentation, folded to one space in its raw text:
# JSON strings hold no raw line break, so the fold never touches a value.
_FOLD = re.compile(r"[ \t]*\n[ \t]*")
_DECODER = json.JSONDecoder()


class DocumentError(Exception):
    """The document cannot be read at all; the message names where and the fix (never chat text)."""


class DecodedText(Protocol):
    """What :func:`read_document` reads: a :class:`~qc.readers.encoding.Decoded` file."""

    @property
    def encoding(self) -> str:
        """The codec the lines were decoded with (named in a garbled element's reject)."""
        ...

    @property
    def lines(self) -> Sequence[str]:
        """The lines without terminators."""
        ...

    @property
    def garbled(self) -> Collection[int]:
        """Numbers of the lines holding bytes the codec could not decode."""
        ...


def is_document(head: Sequence[str]) -> bool:
    """Whether a file opening with these non-empty lines is one JSON document rather than JSON Lines.

    ``head`` is what the format sniffer looks at (the first non-empty lines); every reader asks
    this of the same lines, so all read a file alike. Only a first line that opens with ``[``
    or ``{`` can start a document, and then:

    * a first line that is a whole JSON value is JSON Lines (a one-line array apart, or an
      object that is no record, when it is the only line), as every valid JSON Lines file is, so
      those are read exactly as before;
    * else the lines are a document when they are one JSON value or the start of one (a
      pretty-printed array or object, complete or cut short);
    * else (a document broken within these lines, or JSON Lines whose first line is cut) they
      are JSON Lines when at least half the lines after the first are a JSON object each, as
      JSON Lines lines are and a pretty-printed document's lines are not.
    """
    if not head:
        return False
    first = head[0].strip()
    if not first.startswith(("[", "{")):
        return False
    if len(head) == 1:
        # One line: an array is a document; an object is a JSON Lines record (one line of it cut
        # short stays one reject, as it always was), unless it is no record at all: an API
        # envelope on one line ({"code": 0, "data": {"list": [...]}}) fails the file as it does
        # pretty-printed, not one reject and exit 0 (audit 93 #3). The document reader still
        # reads it as a record if --column names its keys.
        return first.startswith("[") or _no_record(first)
    if _is_object(first) is not None:
        return False
    if _starts_one_value("\n".join(head)):
        return True
    objects = sum(1 for line in head[1:] if _is_object(line))
    return objects * 2 < len(head) - 1


def _no_record(line: str) -> bool:
    """Whether a line is a JSON object that is neither a conversation nor a message by qc's own names."""
    try:
        obj = parse_line(line)
    except (ValueError, RecursionError):
        return False
    if not isinstance(obj, dict) or "messages" in obj:
        return False
    plan = _plan(tuple(obj), {}, {})
    return not plan or envelope(obj, plan)


def _is_object(line: str) -> bool | None:
    """Whether a line is a whole JSON object (``False``: another whole value; ``None``: not JSON)."""
    try:
        return isinstance(parse_line(line), dict)
    except (ValueError, RecursionError):
        return None


def _starts_one_value(text: str) -> bool:
    """Whether ``text`` is one JSON value or the start of one (cut at its end)."""
    try:
        _DECODER.decode(text)
    except json.JSONDecodeError as exc:
        return _cut_at_end(exc)
    except (ValueError, RecursionError):
        return False
    return True


def _cut_at_end(exc: json.JSONDecodeError) -> bool:
    """Whether parsing failed only because the text ended: the document is cut short, not garbled."""
    if exc.msg == "Extra data":
        return False
    return _CUT_TOKEN.fullmatch(exc.doc, exc.pos) is not None


def read_document(decoded: DecodedText, file: str, column_map: Mapping[str, str]) -> list[RawRecord | Reject]:
    """The records and rejects of a file that is one JSON document, in document order.

    Each element of a top-level array gives what a JSON Lines line holding it gives (a message
    record, a conversation's message records, or a reject with the same reason), numbered by
    the line it starts on; a top-level object is one conversation or one message. The whole
    document is parsed before any record is returned (the caller bounds its size).

    Raises:
        DocumentError: Not valid JSON as a whole (cut short or broken: the line and column and
            the fix), nested too deeply, or a top-level object that is neither a conversation
            nor a message.
    """
    text = "\n".join(decoded.lines)
    reader = _Reader(text, decoded, file, column_map)
    try:
        items = reader.read()
    except json.JSONDecodeError as exc:
        raise DocumentError(_invalid(exc, decoded)) from None
    return items


class _Reader:
    """One document's text and the state of reading it element by element."""

    __slots__ = ("column_map", "decoded", "file", "known", "line", "plans", "seen", "text")

    def __init__(self, text: str, decoded: DecodedText, file: str, column_map: Mapping[str, str]) -> None:
        self.text = text
        self.decoded = decoded
        self.file = file
        self.column_map = column_map
        # Elements of one export share their keys: map each key tuple to fields once, as read_jsonl does.
        self.known: dict[str, str | None] = {}
        self.plans: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        self.line = 1  # the line of text[self.seen]
        self.seen = 0

    def read(self) -> list[RawRecord | Reject]:
        """Every element's records and rejects; the document must be valid JSON to its end."""
        text = self.text
        start = _skip(text, 0)
        items: list[RawRecord | Reject] = []
        if text.startswith("[", start):
            end = self._array(start, items)
        else:
            value, end = self._value(start)
            self._top_object(value, start, end, items)
        after = _skip(text, end)
        if after < len(text):
            raise json.JSONDecodeError("Extra data", text, after)
        return items

    def _array(self, start: int, items: list[RawRecord | Reject]) -> int:
        """Read the top-level array opening at ``start`` into ``items``; where it ends."""
        text = self.text
        pos = _skip(text, start + 1)
        if text.startswith("]", pos):
            return pos + 1
        while True:
            value, end = self._value(pos)
            items.extend(self._element(value, pos, end))
            pos = _skip(text, end)
            if text.startswith("]", pos):
                return pos + 1
            if not text.startswith(",", pos):
                raise json.JSONDecodeError("Expecting ',' delimiter", text, pos)
            comma = pos
            pos = _skip(text, pos + 1)
            if text.startswith("]", pos):
                raise json.JSONDecodeError("Illegal trailing comma before end of array", text, comma)

    def _value(self, pos: int) -> tuple[Any, int]:
        """The JSON value at ``pos`` as ``json.loads`` reads it, and where it ends."""
        try:
            return _DECODER.raw_decode(self.text, pos)
        except json.JSONDecodeError:
            raise  # the caller names line and column; only the other ValueErrors are said here
        except RecursionError:
            raise DocumentError(
                f"is nested too deeply to read (arrays or objects inside each other, in the value"
                f" starting at line {self._line_at(pos)}); export the day as JSON Lines"
            ) from None
        except ValueError as exc:
            what = (
                "a number of more digits than qc reads" if "digits" in str(exc) else "a value qc cannot read"
            )
            raise DocumentError(
                f"has {what} in the value starting at line {self._line_at(pos)};"
                " fix it there, or export the day as JSON Lines (a bad line is one reject)"
            ) from None

    def _line_at(self, pos: int) -> int:
        """The line of ``text[pos]``; positions asked for only grow, so the count is done once."""
        self.line += self.text.count("\n", self.seen, pos)
        self.seen = pos
        return self.line

    def _element(self, value: Any, start: int, end: int) -> Iterator[RawRecord | Reject]:
        """What a JSON Lines line holding ``text[start:end]`` would give."""
        raw = self.text[start:end]
        first = self._line_at(start)
        breaks = raw.count("\n")
        if breaks:
            raw = _FOLD.sub(" ", raw)
        garbled = self.decoded.garbled
        if garbled and any(n in garbled for n in range(first, first + breaks + 1)):
            yield make_reject(self.file, first, garbled_reason(self.decoded.encoding), raw)
            return
        yield from value_records(value, self.file, first, raw, self.column_map, self.known, self.plans)

    def _top_object(self, value: Any, start: int, end: int, items: list[RawRecord | Reject]) -> None:
        """Read a top-level object: one conversation or one message, else refuse the file."""
        if isinstance(value, dict) and "messages" not in value:
            plan = _plan(tuple(value), self.column_map, self.known)
            if not plan or envelope(value, plan):
                raise DocumentError("is " + neither_reason(value))
        items.extend(self._element(value, start, end))


def _skip(text: str, pos: int) -> int:
    """Where the JSON whitespace at ``pos`` ends."""
    match = _WHITESPACE.match(text, pos)
    return match.end() if match else pos


def _invalid(exc: json.JSONDecodeError, decoded: DecodedText) -> str:
    """The error for a document that is not valid JSON: where it fails and the fix."""
    where = f"{json_problem(exc)} at line {exc.lineno} column {exc.colno}"
    if exc.lineno in decoded.garbled:
        where += f" (a line holding bytes that are not valid {decoded.encoding})"
    if exc.msg == "Extra data":
        return (
            f"is not one JSON document: a second value starts at line {exc.lineno} column {exc.colno}"
            " after the first one closed; put the values in one array ([…, …]) or export the day"
            " as JSON Lines (one message per line)"
        )
    if _cut_at_end(exc):
        return (
            f"is not valid JSON as a whole ({where}): the document ends before it closes,"
            " so the file looks cut short; copy or export it again whole, or export the day"
            " as JSON Lines (one message per line: a cut line is one reject, not the whole file)"
        )
    return (
        f"is not valid JSON as a whole ({where}); fix the document there, or export the day"
        " as JSON Lines (one message per line: a bad line is one reject, not the whole file)"
    )


def _short(text: str, limit: int = 60) -> str:
    """``text`` cut to ``limit`` characters: a key or a library message, never chat text, but may be long."""
    return text if len(text) <= limit else text[:limit] + "…"
