"""Canonical record fields and the header names exports use for them.

CSV, XLSX and JSON readers map each header (or JSON key) to one of
:data:`CANONICAL_FIELDS`; ``--column FIELD=HEADER`` overrides the mapping.
Header matching ignores case, spaces, underscores and hyphens, so
``Conversation ID``, ``conversation_id`` and ``会话 ID`` are the same header.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

CANONICAL_FIELDS: tuple[str, ...] = (
    "conversation_id",
    "role",
    "sender",
    "timestamp",
    "text",
    "agent_id",
    "shop",
    "auto_reply",
    "date",
    "message_id",
)

# Header spellings seen in exports, per field (normalised with :func:`normalize_header`).
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "conversation_id": (
        "conversation_id", "conversation", "conv_id", "session_id", "session", "chat_id", "dialog_id",
        "会话ID", "会话编号", "会话", "会话号", "对话ID", "对话编号", "咨询编号",
    ),
    "role": ("role", "speaker_role", "角色", "身份", "发送方", "消息方向"),
    "sender": (
        "sender", "nick", "nickname", "from", "发送人", "昵称", "发送者", "发言人", "旺旺名", "用户名",
    ),
    "timestamp": (
        "timestamp", "time", "datetime", "sent_at", "created_at",
        "时间", "发送时间", "消息时间", "聊天时间", "日期时间", "消息发送时间", "send_time",
        "msg_time", "message_time",
    ),
    "text": ("text", "content", "message", "msg", "内容", "消息内容", "聊天内容", "对话内容", "消息", "文本"),
    "agent_id": ("agent_id", "agent", "staff_id", "客服ID", "客服账号", "客服工号", "客服", "接待客服"),
    "shop": ("shop", "store", "shop_name", "店铺", "店铺名", "店铺名称"),
    "auto_reply": ("auto_reply", "auto", "is_auto_reply", "自动回复", "是否自动回复"),
    # The day of a time column that holds a clock only (日期 | 时间 as two columns).
    "date": ("date", "日期", "聊天日期", "消息日期", "发送日期"),
    # The platform's id of each message: the only thing that tells a double send (two ids)
    # from the same message exported twice (one id). A bare ``id`` is not read as one: it is
    # as often a row number or the conversation's id (``--column message_id=id`` says it is).
    "message_id": (
        "message_id", "msg_id", "msgid", "message_key", "消息ID", "消息编号", "消息序号", "消息流水号",
    ),
}  # fmt: skip


# Names platform API dumps give a field, read only where no column or key of
# :data:`HEADER_ALIASES` names it: a session's 创建时间 before the messages' 发送时间 gave every
# message the session's time.
FALLBACK_ALIASES: dict[str, tuple[str, ...]] = {
    "sender": ("from_nick", "sender_nick", "from_user"),
    "timestamp": ("create_time", "send_at", "创建时间", "消息创建时间"),
}
# A fallback field as :func:`field_for_key` returns it: the field and this mark.
FALLBACK = "~"

# Dropped when folding a header: spaces, tabs, line breaks (a header wrapped with Alt+Enter),
# underscores, hyphens, a byte-order mark, the ideographic space.
_HEADER_DROP = dict.fromkeys(map(ord, " \t\r\n_-\ufeff\u3000"))


def normalize_header(name: str) -> str:
    """Fold a header for matching: lower case, no spaces, line breaks, underscores, hyphens or BOM."""
    return name.strip().lower().translate(_HEADER_DROP)


_ALIAS_TO_FIELD: dict[str, str] = {
    normalize_header(alias): field + FALLBACK
    for field, aliases in FALLBACK_ALIASES.items()
    for alias in aliases
} | {normalize_header(alias): field for field, aliases in HEADER_ALIASES.items() for alias in aliases}


def is_header_name(text: str) -> bool:
    """True when ``text`` is one of the header names qc knows (会话ID, 角色, text …)."""
    return normalize_header(text) in _ALIAS_TO_FIELD


def competing_headers(
    headers: Sequence[object], found: Mapping[str, int], column_map: Mapping[str, str] | None = None
) -> dict[str, list[int]]:
    """Per field :func:`map_headers` mapped by alias, the other columns whose header names it too.

    The first column wins: an export with an empty 消息内容 before 内容 had every row rejected as
    empty text, and nothing named the other column (audit 120 M4). A field ``--column`` names is
    the user's choice, never competing; a fallback alias (a weaker name) does not compete.
    """
    folded = [normalize_header(h) if isinstance(h, str) else "" for h in headers]
    out: dict[str, list[int]] = {}
    for field, at in found.items():
        if field in (column_map or {}):
            continue
        others = [
            i
            for i, key in enumerate(folded)
            if i != at and i not in found.values() and _ALIAS_TO_FIELD.get(key) == field
        ]
        if others:
            out[field] = others
    return out


def map_headers(headers: Iterable[object], column_map: Mapping[str, str] | None = None) -> dict[str, int]:
    """Map canonical fields to column positions for one header row.

    Args:
        headers: The header cells, in column order (non-strings are ignored).
        column_map: ``field -> header`` overrides from ``--column``; they win
            over the built-in aliases.

    Returns:
        ``{field: column index}``; the first column matching a field wins.
    """
    folded = [normalize_header(h) if isinstance(h, str) else "" for h in headers]
    found: dict[str, int] = {}
    for field, header in (column_map or {}).items():
        key = normalize_header(header)
        if key in folded:
            found[field] = folded.index(key)
    taken = set(found.values())
    for fallback in (False, True):
        for i, key in enumerate(folded):
            alias_of = _ALIAS_TO_FIELD.get(key, "")
            if alias_of.endswith(FALLBACK) is not fallback:
                continue
            alias_of = alias_of.removesuffix(FALLBACK)
            if alias_of and alias_of not in found and i not in taken:
                found[alias_of] = i
                taken.add(i)
    return found


def field_for_key(key: str, column_map: Mapping[str, str] | None = None) -> str | None:
    """The canonical field a JSON key stands for, or ``None`` for unknown keys.

    A name of :data:`FALLBACK_ALIASES` comes back marked (``timestamp~``): the caller reads it
    only where no other key names that field.
    """
    folded = normalize_header(key)
    for field, header in (column_map or {}).items():
        if normalize_header(header) == folded:
            return field
    return _ALIAS_TO_FIELD.get(folded)
