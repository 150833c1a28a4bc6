"""Write conversations in every input format qc reads (demo day, tests, benchmarks).

Each writer takes an iterable of :class:`~qc.schema.Conversation` and streams it
to a file, so a million generated messages never sit in memory twice. Output is
deterministic: the same conversations always give the same bytes (the XLSX
writer pins the zip and document timestamps that openpyxl would set to now).

Formats (the shapes the readers accept):

- ``jsonl``: one message per line, keys ``conversation_id, role, sender,
  timestamp, text, agent_id`` (agent messages), ``shop, auto_reply``.
- ``jsonl-conversations``: one conversation per line,
  ``{"conversation_id", "shop", "messages": [{"role", "sender", "timestamp", "text", "auto_reply"}]}``.
- ``csv``: Chinese headers (会话ID, 角色, 发送人, 时间, 内容, 店铺, 自动回复), GB18030, CRLF,
  as Excel on a Chinese Windows machine saves it.
- ``xlsx``: English headers, real date-time cells.
- ``text-lines``: ``买家(14:59:42): 你好`` lines, time only (the day comes from the file name).
- ``text-blocks``: a header line ``昵称 2026-11-24 10:00:01`` followed by the message line.

Both text styles separate conversations with ``===== 会话 <id> =====`` and mark
auto-replies with the prefix :data:`AUTO_REPLY_MARK`.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

from qc.schema import Conversation, Message, Role

__all__ = [
    "AUTO_REPLY_MARK",
    "CSV_HEADERS",
    "FORMATS",
    "ROLE_WORDS",
    "XLSX_HEADERS",
    "conversation_separator",
    "csv_row",
    "message_records",
    "write",
    "write_csv",
    "write_jsonl_conversations",
    "write_jsonl_messages",
    "write_text_blocks",
    "write_text_lines",
    "write_xlsx",
]

SHANGHAI = ZoneInfo("Asia/Shanghai")
ROLE_WORDS = {Role.CUSTOMER: "买家", Role.AGENT: "客服", Role.SYSTEM: "系统"}
CSV_HEADERS = ("会话ID", "角色", "发送人", "时间", "内容", "店铺", "自动回复")
XLSX_HEADERS = ("conversation_id", "role", "sender", "timestamp", "text", "shop", "auto_reply")
AUTO_REPLY_MARK = "[自动回复]"
SYSTEM_NICK = "系统"
# Fixed stamp for the XLSX zip entries and document properties (reproducible bytes).
_XLSX_STAMP = (2026, 1, 1, 0, 0, 0)
_XLSX_STAMP_ISO = "2026-01-01T00:00:00Z"


def conversation_separator(conversation_id: str) -> str:
    """The line that starts a conversation in the text exports."""
    return f"===== 会话 {conversation_id} ====="


def _local(ts: datetime | None) -> datetime | None:
    if ts is None:
        return None
    return ts.astimezone(SHANGHAI) if ts.tzinfo is not None else ts


def _stamp(ts: datetime | None) -> str:
    local = _local(ts)
    return local.strftime("%Y-%m-%d %H:%M:%S") if local is not None else ""


def _iso(ts: datetime | None) -> str | None:
    local = _local(ts)
    return local.isoformat() if local is not None else None


def message_records(conversation: Conversation) -> Iterator[dict[str, Any]]:
    """One-message-per-line JSON records of a conversation (the ``jsonl`` format)."""
    for m in conversation.messages:
        rec: dict[str, Any] = {
            "conversation_id": conversation.id,
            "role": m.role.value,
            "sender": m.sender,
            "timestamp": _iso(m.sent_at),
            "text": m.text,
        }
        if m.role is Role.AGENT:
            rec["agent_id"] = m.agent_id or m.sender
        rec["shop"] = conversation.shop
        rec["auto_reply"] = m.auto_reply
        yield rec


# One encoder for all records: json.dumps with options builds a new encoder per call.
_dump = json.JSONEncoder(ensure_ascii=False).encode


def write_jsonl_messages(
    conversations: Iterable[Conversation], path: Path, *, interleave: bool = False
) -> int:
    """Write one message per line (UTF-8); return the number of messages.

    Args:
        conversations: What to write.
        path: Target file.
        interleave: Order all messages by time across conversations, as a
            platform dump does (materialises the input; leave off for huge days).
    """
    count = 0
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        if interleave:
            rows = [
                (m.sent_at, n, m.index, rec)
                for n, conv in enumerate(conversations)
                for m, rec in zip(conv.messages, message_records(conv), strict=True)
            ]
            rows.sort(key=lambda r: (r[0], r[1], r[2]))
            for *_, rec in rows:
                fh.write(_dump(rec) + "\n")
            return len(rows)
        for conv in conversations:
            for rec in message_records(conv):
                fh.write(_dump(rec) + "\n")
                count += 1
    return count


def write_jsonl_conversations(conversations: Iterable[Conversation], path: Path) -> int:
    """Write one conversation per line (UTF-8); return the number of messages."""
    count = 0
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for conv in conversations:
            messages = [
                {
                    "role": m.role.value,
                    "sender": m.sender,
                    "timestamp": _iso(m.sent_at),
                    "text": m.text,
                    "auto_reply": m.auto_reply,
                }
                for m in conv.messages
            ]
            fh.write(_dump({"conversation_id": conv.id, "shop": conv.shop, "messages": messages}) + "\n")
            count += len(messages)
    return count


def csv_row(conv: Conversation, m: Message) -> list[str]:
    """One CSV row (the Chinese-header columns) for a message of a conversation."""
    return [
        conv.id,
        ROLE_WORDS[m.role],
        m.sender or "",
        _stamp(m.sent_at),
        m.text,
        conv.shop or "",
        "是" if m.auto_reply else "否",
    ]


def write_csv(conversations: Iterable[Conversation], path: Path, *, encoding: str = "gb18030") -> int:
    """Write a CSV with Chinese headers, GB18030 and CRLF by default; return the message count."""
    count = 0
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow(CSV_HEADERS)
        for conv in conversations:
            for m in conv.messages:
                writer.writerow(csv_row(conv, m))
                count += 1
    return count


def write_xlsx(
    conversations: Iterable[Conversation], path: Path, *, extra_rows: Iterable[list[Any]] = ()
) -> int:
    """Write an XLSX sheet with English headers and date-time cells; return the message count.

    ``extra_rows`` are appended as they are (test fixtures with broken rows).
    The bytes are reproducible: openpyxl stamps the current time into the zip
    entries and the document properties, so both are pinned afterwards.
    """
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("messages")
    ws.append(list(XLSX_HEADERS))
    count = 0
    for conv in conversations:
        for m in conv.messages:
            local = _local(m.sent_at)
            naive = local.replace(tzinfo=None) if local is not None else None
            ws.append([conv.id, m.role.value, m.sender, naive, m.text, conv.shop, m.auto_reply])
            count += 1
    for row in extra_rows:
        ws.append(list(row))
    buf = io.BytesIO()
    wb.save(buf)
    path.write_bytes(_pin_zip(buf.getvalue()))
    return count


_CORE_TIMES = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)")


def _pin_zip(data: bytes) -> bytes:
    """Rewrite a zip with fixed entry dates and fixed document timestamps."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = _CORE_TIMES.sub(rb"\g<1>" + _XLSX_STAMP_ISO.encode() + rb"\g<2>", body)
            pinned = zipfile.ZipInfo(info.filename, date_time=_XLSX_STAMP)
            pinned.compress_type = zipfile.ZIP_DEFLATED
            pinned.external_attr = 0o600 << 16
            dst.writestr(pinned, body)
    return out.getvalue()


def _text_body(m: Message) -> str:
    text = m.text.replace("\r", " ").replace("\n", " ")
    return AUTO_REPLY_MARK + text if m.auto_reply else text


def _write_text(fh: IO[str], conversations: Iterable[Conversation], blocks: bool) -> int:
    count = 0
    for conv in conversations:
        fh.write(conversation_separator(conv.id) + "\n")
        for m in conv.messages:
            if blocks:
                nick = SYSTEM_NICK if m.role is Role.SYSTEM else (m.sender or ROLE_WORDS[m.role])
                fh.write(f"{nick} {_stamp(m.sent_at)}\n{_text_body(m)}\n")
            else:
                local = _local(m.sent_at)
                clock = local.strftime("%H:%M:%S") if local is not None else ""
                # Agent lines carry the sub-account nick, as a shop-wide export does, so
                # replies are attributed to the agent who wrote them (a bare 客服 could not be).
                who = m.sender if m.role is Role.AGENT and m.sender else ROLE_WORDS[m.role]
                fh.write(f"{who}({clock}): {_text_body(m)}\n")
            count += 1
        fh.write("\n")
    return count


def write_text_lines(conversations: Iterable[Conversation], path: Path, *, encoding: str = "utf-8") -> int:
    """Write ``买家(14:59:42): 你好`` / ``店铺:客服(14:59:47): …`` lines (time only); return the count.

    The day is not in the lines: name the file after it (``qianniu_2026-11-24.txt``).
    """
    with path.open("w", encoding=encoding, newline="\r\n" if encoding.lower() == "gb18030" else "\n") as fh:
        return _write_text(fh, conversations, blocks=False)


def write_text_blocks(conversations: Iterable[Conversation], path: Path, *, encoding: str = "utf-8") -> int:
    """Write ``昵称 2026-11-24 10:00:01`` header lines each followed by the message; return the count."""
    with path.open("w", encoding=encoding, newline="\n") as fh:
        return _write_text(fh, conversations, blocks=True)


FORMATS = {
    "jsonl": write_jsonl_messages,
    "jsonl-conversations": write_jsonl_conversations,
    "csv": write_csv,
    "xlsx": write_xlsx,
    "text-lines": write_text_lines,
    "text-blocks": write_text_blocks,
}


def write(fmt: str, conversations: Iterable[Conversation], path: Path) -> int:
    """Write ``conversations`` to ``path`` in the named format; return the message count."""
    try:
        writer = FORMATS[fmt]
    except KeyError:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}") from None
    return writer(conversations, path)
