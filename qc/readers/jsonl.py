"""JSON Lines: one message per line, or one conversation per line with a ``messages`` list.

(A file that is one JSON document, an array of such objects or one pretty-printed object,
is read by :mod:`qc.readers.json_document`, each element as a line here.)

Keys are matched like spreadsheet headers (``conversation_id``, ``会话ID`` …);
unknown keys (``label``, ``source`` …) are ignored. Each message of a
conversation line is one record whose line number is that line.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Iterator, Mapping
from typing import Any, Protocol

import orjson

from qc.readers.columns import CANONICAL_FIELDS, FALLBACK, field_for_key
from qc.readers.records import RawRecord, dumps_raw, garbled_reason, has_value, make_reject, mixed_line_ends
from qc.schema import Reject
from qc.text.pii import shown_value

_CONVERSATION_KEYS = ("conversation_id", "shop", "agent_id")
# Values orjson gives exactly as the standard library does; a float may be an integer beyond
# 64 bits that orjson rounds (the standard library keeps it whole).
_PLAIN = frozenset((str, int, bool, type(None)))


def parse_line(line: str) -> Any:
    """One JSON Lines line as the standard library's ``json.loads`` reads it, about three times faster.

    orjson reads a flat message object; anything else (a float, a nested value, a
    conversation line, a line orjson refuses such as ``NaN`` or a lone surrogate) goes to
    ``json.loads``, so values, key order and errors are always the standard library's.

    Raises:
        ValueError: Not valid JSON (``json.JSONDecodeError`` with the standard message).
        RecursionError: Nested too deeply.
    """
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError:
        if line.startswith("\ufeff"):  # the byte-order mark of a file joined on with cat
            return parse_line(line[1:])
        return json.loads(line)
    if type(obj) is dict and _PLAIN.issuperset(map(type, obj.values())):
        return obj
    return json.loads(line)


def _fields(
    obj: Mapping[str, Any], column_map: Mapping[str, str], known: dict[str, str | None] | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    fallback: dict[str, Any] = {}
    for key, value in obj.items():
        if not isinstance(key, str):
            continue
        # Every line of a file repeats the same few keys: fold each key once per file.
        field = known.get(key, "") if known is not None else ""
        if field == "":
            field = field_for_key(key, column_map)
            if known is not None:
                known[key] = field
        if not field:
            continue
        if field.endswith(FALLBACK):
            fallback.setdefault(field.removesuffix(FALLBACK), value)
        elif field not in out:
            out[field] = value
    for field, value in fallback.items():
        out.setdefault(field, value)
    return out


def _plan(
    keys: tuple[Any, ...], column_map: Mapping[str, str], known: dict[str, str | None]
) -> tuple[tuple[str, str], ...]:
    """``(key, field)`` pairs :func:`_fields` would use for an object with these keys, in order."""
    picked = _fields({k: k for k in keys}, column_map, known)
    return tuple((key, field) for field, key in picked.items())


_ABSENT = object()  # a key no JSON object has: obj.get gives None, as a missing field is


_WHOSE = frozenset({"conversation_id", "role", "sender"})


def envelope(obj: dict[str, Any], plan: tuple[tuple[str, str], ...]) -> bool:
    """True for an API envelope: no key names whose message it is, and a list of objects sits in it.

    ``{"code": 0, "msg": "ok", "data": {"list": [...]}}``: msg names a text, so the envelope
    looked like a message, one reject "missing conversation_id" and exit 0, where the file is to
    fail naming the list and the jq command (audit 120 M1). ``plan`` is :func:`_plan`'s.
    """
    return not _WHOSE & {field for _, field in plan} and _lists_objects(obj)


def _run_together(line: str) -> bool:
    """True when ``line`` holds two or more JSON objects parted by carriage returns alone.

    Another part may be cut (a Mac block whose last record was cut, audit 136 L1); a record of its
    own with a raw CR in it parts into pieces none of which is an object.
    """
    whole = 0
    for part in line.rstrip("\r").split("\r"):
        try:
            whole += isinstance(parse_line(part), dict) if part.strip() else 0
        except (ValueError, RecursionError):
            continue
        if whole >= 2:
            return True
    return False


def _lists_objects(obj: dict[str, Any]) -> bool:
    """True when a list of objects sits in ``obj`` (at its top or one level down), as an API's does."""
    path = _list_path(obj)
    if path is None:
        return False
    listed = obj[path[0]] if len(path) == 1 else obj[path[0]][path[1]]
    return any(isinstance(item, dict) for item in listed)


def _unowned(plan: tuple[Any, ...]) -> bool:
    """True when a positional plan names no conversation, role or sender: an envelope may be one."""
    return all(plan[i] is _ABSENT for i in _WHOSE_AT)


def json_problem(exc: json.JSONDecodeError) -> str:
    """The decoder's message without its last "at" (Unterminated string starting at): a position follows."""
    return exc.msg.removesuffix(" at")


def neither_reason(obj: dict[str, Any]) -> str:
    """Why an object is no record, and what to do (naming a key that holds a list, if any).

    A whole document's top-level object, or a line's: an API dump written on one line
    (``{"total": 2, "data": [...]}``) is read as JSON Lines and gets this reason, not "empty text".
    """
    message = (
        'one JSON object that is neither a conversation (no "messages" list) nor a message'
        " (no key names a field such as conversation_id, role or text)"
    )
    path = _list_path(obj)
    if path is None:
        # Its keys may be the fields under names qc does not know (cid, who, body): --column says so.
        return (
            message + "; if its keys are a message's fields under other names, name them (--column"
            " text=KEY, --column conversation_id=KEY …), else export the day as JSON Lines, one"
            " message per line"
        )
    shown = [shown_value(str(key), 40) for key in path]  # a dump keyed by buyer would print the buyer
    name = ".".join(json.dumps(k, ensure_ascii=False) for k in shown)
    exact = all(k == key for k, key in zip(shown, path, strict=True))
    jq = "jq -c '." + "".join(f"[{json.dumps(k, ensure_ascii=False)}]" for k in shown) + "[]'"
    nested = "" if len(path) == 1 else " | objects | .[]"
    jq = jq if exact else f"jq -c '.[]{nested} | arrays | .[]'"
    return (
        f"{message}; its key {name} holds a list: if those are the messages or conversations,"
        f" write them out as JSON Lines, e.g. {jq} FILE > day.jsonl"
    )


def _list_path(obj: dict[str, Any]) -> list[Any] | None:
    """The keys to the first non-empty list in ``obj``, at its top or one object down.

    The usual API envelope nests it: ``{"code": 0, "data": {"list": [...]}}``.
    """
    for key, value in obj.items():
        if isinstance(value, list) and value:
            return [key]
    for key, value in obj.items():
        if isinstance(value, dict):
            inner = next((k for k, v in value.items() if isinstance(v, list) and v), None)
            if inner is not None:
                return [key, inner]
    return None


# The plan of an object none of whose keys names a field: it is no record.
_NO_FIELDS: tuple[Any, ...] = ()
_TEXT = CANONICAL_FIELDS.index("text")
_WHOSE_AT = tuple(CANONICAL_FIELDS.index(field) for field in sorted(_WHOSE))


def listed_reason(obj: dict[str, Any]) -> str | None:
    """Why an object with no text but a list of objects is no message, else ``None``.

    ``{"conversation_id": "K2", "msg_list": [...]}`` is a conversation whose messages sit under
    another key than ``messages``: read as one message, it was one reject, "empty text".
    """
    holder = next((k for k, v in obj.items() if isinstance(v, list) and v and isinstance(v[0], dict)), None)
    if holder is None:
        return None
    shown = shown_value(str(holder), 40)
    name = json.dumps(shown, ensure_ascii=False)
    jq = f"jq -c '.[{name}][]'" if shown == holder else "jq -c '.[] | arrays | .[]'"
    return (
        f"an object with no message text whose key {name} holds a list of objects: if it is a"
        f' conversation, name that list "messages"; or write them out as JSON Lines, e.g. {jq} FILE'
        " > day.jsonl"
    )


def _positional(plan: tuple[tuple[str, str], ...]) -> tuple[Any, ...]:
    """The key of each canonical field under ``plan`` (``_ABSENT`` when none), for one ``map``.

    :class:`RawRecord` takes the canonical fields positionally after file, line and raw.
    :data:`_NO_FIELDS` when no key names a field.
    """
    if not plan:
        return _NO_FIELDS
    key_of = {field: key for key, field in plan}
    return tuple(key_of.get(field, _ABSENT) for field in CANONICAL_FIELDS)


class DecodedLines(Protocol):
    """What :func:`read_jsonl` reads: a :class:`~qc.readers.encoding.Decoded` or lines read lazily."""

    @property
    def encoding(self) -> str:
        """The codec the lines were decoded with (named in a garbled line's reject)."""
        ...

    @property
    def lines(self) -> Iterable[str]:
        """The lines without terminators, read once in order."""
        ...

    @property
    def garbled(self) -> Collection[int]:
        """Numbers of the lines holding bytes the codec could not decode."""
        ...


def read_jsonl(
    decoded: DecodedLines, file: str, column_map: Mapping[str, str], first_line: int = 1
) -> Iterator[RawRecord | Reject]:
    """Yield one raw record or reject per message found in a JSON Lines file.

    ``decoded.lines`` may be any iterable of lines (a list, or a stream read as it goes);
    ``first_line`` is the line number of its first line (a stretch of a file starts later).
    """
    known: dict[str, str | None] = {}
    # Lines of one export share their keys: map each distinct key tuple to fields once.
    plans: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    for number, line in enumerate(decoded.lines, start=first_line):
        if not line.strip():
            continue
        if number in decoded.garbled:
            yield make_reject(file, number, garbled_reason(decoded.encoding), line)
            continue
        try:
            obj = parse_line(line)
        except (ValueError, RecursionError) as exc:
            if _run_together(line):
                # Records parted by carriage returns alone: a Mac export's lines run together (audit
                # 131 M4); a record of its own holding one is said as any other (133 M5).
                yield make_reject(file, number, mixed_line_ends("JSON"), line)
                continue
            reason = (
                f"not valid JSON ({json_problem(exc)} at column {exc.colno})"
                if isinstance(exc, json.JSONDecodeError)
                else "not valid JSON"
            )
            yield make_reject(file, number, reason + "; truncated or garbled line?", line)
            continue
        # What value_records does, inline: this loop runs once per line of the bulk format.
        if not isinstance(obj, dict):
            yield make_reject(file, number, f"a JSON {type(obj).__name__}, not an object", line)
            continue
        if "messages" not in obj:
            keys = tuple(obj)
            plan = plans.get(keys)
            if plan is None:
                plan = plans[keys] = _positional(_plan(keys, column_map, known))
            # An API envelope written on one line ({"code":0,"msg":"ok","data":{"list":[…]}}: msg
            # names a text) says how to get its messages out, as a whole file does (audit 129 L1).
            if plan is _NO_FIELDS or (_unowned(plan) and _lists_objects(obj)):
                yield make_reject(file, number, neither_reason(obj), line)
                continue
            if plan[_TEXT] is _ABSENT and (listed := listed_reason(obj)) is not None:
                yield make_reject(file, number, listed, line)
                continue
            yield RawRecord(file, number, line, *map(obj.get, plan))
            continue
        yield from _conversation_line(obj, file, number, line, column_map)


def value_records(
    obj: Any,
    file: str,
    number: int,
    raw: str,
    column_map: Mapping[str, str],
    known: dict[str, str | None],
    plans: dict[tuple[Any, ...], tuple[Any, ...]],
) -> Iterator[RawRecord | Reject]:
    """The records or reject :func:`read_jsonl` makes of a line ``raw`` that parsed to ``obj``.

    For readers of other shapes of JSON (an element of a JSON document), so they reject and
    record exactly as a JSON Lines line would. ``known`` and ``plans`` are one file's caches.
    :func:`read_jsonl` does the same in its own loop (a call per line costs the bulk format).
    """
    if not isinstance(obj, dict):
        yield make_reject(file, number, f"a JSON {type(obj).__name__}, not an object", raw)
        return
    if "messages" not in obj:
        keys = tuple(obj)
        plan = plans.get(keys)
        if plan is None:
            plan = plans[keys] = _positional(_plan(keys, column_map, known))
        if plan is _NO_FIELDS or (_unowned(plan) and _lists_objects(obj)):
            yield make_reject(file, number, neither_reason(obj), raw)
            return
        if plan[_TEXT] is _ABSENT and (listed := listed_reason(obj)) is not None:
            yield make_reject(file, number, listed, raw)
            return
        yield RawRecord(file, number, raw, *map(obj.get, plan))
        return
    yield from _conversation_line(obj, file, number, raw, column_map)


def _conversation_line(
    obj: dict[str, Any], file: str, number: int, line: str, column_map: Mapping[str, str]
) -> Iterator[RawRecord | Reject]:
    messages = obj["messages"]
    if not isinstance(messages, list):
        yield make_reject(file, number, "'messages' is not a list", line)
        return
    if not messages:
        yield make_reject(file, number, "conversation has no messages", line)
        return
    outer = _fields({k: v for k, v in obj.items() if k != "messages"}, column_map)
    outer = {k: v for k, v in outer.items() if k in _CONVERSATION_KEYS}
    # A repeated conversation line is a duplicate even when its messages carry no time.
    line_key = dumps_raw([outer.get("conversation_id"), messages])
    # A timed message's copy number within its line: the same message at the same second twice
    # in one line is two sends (both kept); the n-th copy of it in another line, as
    # overlapping pages of an API pull repeat it, is the same send (a duplicate).
    copies: dict[str, int] = {}
    for position, message in enumerate(messages):
        raw = dumps_raw({**outer, "message": message}) if outer else dumps_raw(message)
        if not isinstance(message, dict):
            yield make_reject(file, number, f"message {position} is not an object", raw)
            continue
        fields = {**outer, **_fields(message, column_map)}
        dedupe: tuple[Any, ...] = (line_key, position)
        stamp = fields.get("timestamp")
        if has_value(stamp):
            said = dumps_raw([fields.get(k) for k in _SAME_SEND])
            copy = copies[said] = copies.get(said, -1) + 1
            # The time as written stays in the key: a clock-only time on an unknown day reads
            # as no time, and two such messages are not one.
            dedupe = ("copy", str(stamp), copy)
        yield RawRecord(file=file, line=number, raw=raw, dedupe=dedupe, **fields)


# What makes two timed messages of a conversation the same send (a message id may differ
# between two pages of a pull; the send does not).
_SAME_SEND = ("role", "sender", "timestamp", "text", "agent_id", "auto_reply", "date")
