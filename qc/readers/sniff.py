"""Which reader a file needs: content first, file extension second.

JSON is ``jsonl`` (JSON Lines: one message or conversation per line) or, sniffed, ``json``: one
JSON document (an array of those objects, or one pretty-printed object), read whole by
:mod:`qc.readers.json_document`. Forcing ``--input-format jsonl`` (alias ``json``) keeps telling
the two apart: they are two layouts of the same records.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from qc.errors import ConfigError
from qc.readers.json_document import is_document
from qc.readers.tabular import header_score
from qc.readers.text_export import SEPARATOR_RE, is_chat_line

FORMATS: tuple[str, ...] = ("jsonl", "csv", "xlsx", "text")
_ALIASES = {
    "json": "jsonl", "ndjson": "jsonl", "jsonlines": "jsonl",
    "tsv": "csv", "tab": "csv",
    "excel": "xlsx",
    "txt": "text", "qianniu": "text", "wangwang": "text",
}  # fmt: skip
_EXTENSIONS = {
    ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl",
    ".csv": "csv", ".tsv": "csv",
    ".xlsx": "xlsx", ".xlsm": "xlsx",
    ".txt": "text", ".log": "text",
}  # fmt: skip
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"
# How many non-empty lines the sniffer looks at.
_SNIFF_LINES = 30


def check_format(name: str) -> str:
    """Validate a forced ``--input-format`` and return its canonical name."""
    folded = name.strip().lower()
    folded = _ALIASES.get(folded, folded)
    if folded not in FORMATS:
        raise ConfigError(f"--input-format {name!r} is unknown: use one of {', '.join(FORMATS)}")
    return folded


def format_from_extension(path: Path) -> str | None:
    """The format a file's extension suggests, if any."""
    return _EXTENSIONS.get(path.suffix.lower())


def sniff_text_format(lines: list[str], path: Path, column_map: Mapping[str, str]) -> tuple[str | None, str]:
    """(format, CSV delimiter) of a decoded file; format ``None`` when neither content nor name tell.

    The format is ``json`` for a file that is one JSON document (see :func:`json_layout`).
    """
    head = _head(lines)
    if not head:
        return format_from_extension(path) or "text", ","
    first = head[0].lstrip()
    if _opens_json(first):
        return ("json" if is_document(head) else "jsonl"), ","
    # A chat line is no header row, whatever words it holds: an agent asking for 抬头,税号,日期,时间
    # made a text export a CSV without a header, and the whole file failed.
    chat = [is_chat_line(line) for line in head]
    scores = [header_score(line, column_map) for line, said in zip(head[:10], chat, strict=False) if not said]
    best = max(scores, key=lambda s: s[0], default=(0, ","))
    if best[0] >= 2:
        return "csv", best[1]
    if any(chat) and not all(SEPARATOR_RE.match(x) for x in head):
        return "text", ","
    by_name = format_from_extension(path)
    if by_name == "csv":
        return "csv", guess_delimiter(head[0])
    if by_name in ("jsonl", "text"):
        return by_name, ","
    return None, ","


def _opens_json(first: str) -> bool:
    """Whether a file's first non-empty line can open JSON: ``{``, or ``[`` that starts a JSON array.

    A text export may open with a bracketed tag (``[系统消息] 会话开始``, ``[自动回复]亲，在的``),
    which is no JSON: the array a JSON export opens holds objects (``[`` alone, ``[{``), or the
    line is a whole JSON value.
    """
    if first.startswith("{"):
        return True
    if not first.startswith("["):
        return False
    rest = first[1:].lstrip()
    if not rest or rest[0] in '{[]"':
        return True
    try:
        json.loads(first)
    except ValueError:
        return False
    return True


def json_layout(lines: list[str]) -> str:
    """``json`` when a JSON file's first lines are the start of one JSON document, else ``jsonl``.

    For a forced ``--input-format jsonl``, which the sniffer does not see: every reader asks the
    same question of the same first lines, so a file is read the same way by all of them.
    """
    return "json" if is_document(_head(lines)) else "jsonl"


def _head(lines: list[str]) -> list[str]:
    """The non-empty lines the sniffers look at."""
    return [line for line in lines[: _SNIFF_LINES * 4] if line.strip()][:_SNIFF_LINES]


def guess_delimiter(line: str) -> str:
    """The delimiter of a header line with no known column names: the most frequent candidate."""
    counts = {d: line.count(d) for d in (",", "\t", ";", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","
