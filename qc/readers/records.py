"""Raw records as format readers produce them, and their validation into messages.

Every format reader yields :class:`RawRecord` or :class:`~qc.schema.Reject`
items, one per input record; :func:`validate` turns a raw record into a
:class:`Candidate` (a message waiting for its conversation) or a reject. Reject
reasons describe the problem and never quote the message text.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from typing import Any

from qc.readers.limits import limits_source, load_limits
from qc.readers.roles import (
    fold_agent_id,
    is_platform_notice,
    is_recall_notice,
    parse_role_word,
    role_from_nick,
    split_subaccount,
)
from qc.readers.timestamps import TimestampError, day_of, parse_timestamp, steady, timed
from qc.schema import (
    MAX_ACCOUNT_CHARS,
    MAX_CONVERSATION_ID_CHARS,
    NAMELESS_AGENT,
    SHOP_ACCOUNT_SUFFIX_CHARS,
    Reject,
    Role,
)
from qc.text.pii import shown_value

# Rejects keep the raw record; longer ones are cut here (Reject.raw is "a few KB").
MAX_RAW_CHARS = 4096

# Characters no export means and no output can carry: C0/C1 controls (a bell in a nick aborts a
# spreadsheet write and rings a reviewer's terminal) and lone surrogates (a "\\ud800" JSON
# escape: not encodable as UTF-8 at all). Text keeps tab, line feed and carriage return.
# U+FFFE and U+FFFF are noncharacters: XML (so every XLSX cell) cannot hold them.
_BAD_IN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\\ud800-\\udfff\ufffe\uffff]")
_BAD_IN_ID = re.compile("[\x00-\x1f\x7f-\x9f\\ud800-\\udfff\ufffe\uffff]")
_SURROGATES = re.compile("[\\ud800-\\udfff]")

_TRUE = {"true", "1", "yes", "y", "t", "是", "对", "自动", "自动回复"}
_FALSE = {"false", "0", "no", "n", "f", "否", "", "非自动", "人工"}


def clip_raw(raw: str) -> str:
    """The raw record, cut to :data:`MAX_RAW_CHARS` with a marker saying how much was cut."""
    if len(raw) <= MAX_RAW_CHARS:
        return raw
    return raw[:MAX_RAW_CHARS] + f"…[{len(raw) - MAX_RAW_CHARS} more characters in the file]"


def mixed_line_ends(kind: str) -> str:
    """The reject reason of a CSV or JSON line holding carriage returns alone in a file of line feeds.

    Two exports joined with different line ends (a Mac export below a Windows one): the line is the
    Mac part's rows run together, and Python's words (audit 129 M1) or "truncated or garbled line?"
    (audit 131 M4) did not say so.
    """
    return (
        f"not valid {kind}: a line holds carriage returns alone, as a Mac export's lines end (two"
        " exports joined with different line ends?): save the file again with one kind of line end"
        " (in Excel: CSV UTF-8), or give the exports as separate files"
    )


def garbled_reason(encoding: str) -> str:
    """The reject reason of a line whose bytes are not valid in its file's encoding, with the fix.

    It said only "not valid utf-8" (audit 120 L3): such a line is usually one pasted from another
    encoding (a GBK line in a UTF-8 file), or damaged.
    """
    return (
        f"garbled bytes: not valid {encoding} (a line in another encoding, or damaged bytes): export or"
        " save the file again in one encoding"
    )


def make_reject(file: str, line: int, reason: str, raw: str) -> Reject:
    """A reject with its raw record clipped and made writable (lone surrogates escaped)."""
    return Reject(file=safe_text(file), line=line, reason=reason, raw=clip_raw(safe_text(raw)))


def safe_text(text: str) -> str:
    """``text`` with every lone surrogate written as its escape, so it can be written as UTF-8."""
    if text.isascii() or not _SURROGATES.search(text):
        return text
    return _SURROGATES.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


def text_problem(field_name: str, value: str) -> str | None:
    """Why a message text cannot be taken (a control character or lone surrogate), as for a record.

    For every command that takes message text outside a transcript (``qc check``, sample files):
    the same characters are refused, with the same reason, as in ``qc inspect``.
    """
    # Every character the pattern refuses is unprintable: printable text needs no search.
    return None if value.isprintable() else bad_character(field_name, value, _BAD_IN_TEXT)


def bad_character(field_name: str, value: str, pattern: re.Pattern[str]) -> str | None:
    """Why ``value`` cannot be taken as it is: a control character or lone surrogate, named by code point.

    The reason names the field, the code point and its place, never the text around it.
    """
    m = pattern.search(value)
    if m is None:
        return None
    code = ord(m.group(0))
    if 0xD800 <= code <= 0xDFFF:
        what = "a lone surrogate (not encodable text)"
    elif code in (0xFFFE, 0xFFFF):
        what = "a noncharacter (no spreadsheet can hold it)"
    else:
        what = "a control character"
    return (
        f"{field_name} has {what} U+{code:04X} at character {m.start() + 1};"
        " fix or re-export the record (qc neither guesses nor drops characters)"
    )


@dataclass(slots=True)
class RawRecord:
    """One input record with its fields as found (strings, numbers, datetimes or ``None``).

    ``role`` may be a :class:`Role` already (text exports decide it themselves).
    ``dedupe`` replaces the timestamp in the duplicate key for records that have
    none but whose position makes them comparable (messages of a conversation line).
    ``message_id``, the platform's id of the message, replaces ``dedupe`` when given.
    """

    file: str
    line: int
    raw: str
    conversation_id: Any = None
    role: Any = None
    sender: Any = None
    timestamp: Any = None
    text: Any = None
    agent_id: Any = None
    shop: Any = None
    auto_reply: Any = None
    # A date column beside a time column that holds a clock only: the day of that clock.
    date: Any = None
    message_id: Any = None
    dedupe: tuple[Any, ...] | None = None


@dataclass(slots=True)
class Candidate:
    """A valid record waiting to be placed in its conversation."""

    conversation_id: str
    role: Role
    text: str
    sender: str | None
    sent_at: datetime | None
    auto_reply: bool
    agent_id: str | None
    shop: str | None
    file: str
    line: int
    raw: str
    key: tuple[Any, ...] | None = field(default=None)

    @property
    def source(self) -> str:
        """``file:line`` of the record."""
        return f"{self.file}:{self.line}"


def scalar_text(value: Any) -> str | None:
    """A JSON number or string as the readers take a message's text (``5.0`` → ``"5"``), for `qc check`."""
    return _as_str(value)


def _as_str(value: Any) -> str | None:
    """A scalar cell or JSON value as a stripped string; ``None`` for empty or non-scalars."""
    if type(value) is str:  # nearly every value: the one check it needs
        return value.strip() or None
    if value is None or isinstance(value, bool | dict | list):
        return None
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        if value.is_integer():
            value = int(value)
    text = str(value).strip()
    return text or None


# Keys of a sender object ({"nick": …, "role": …}) as API dumps nest them, folded like headers.
_SENDER_KEYS: dict[str, tuple[str, ...]] = {
    "sender": (
        "nick",
        "nickname",
        "name",
        "displayname",
        "username",
        "usernick",
        "sendernick",
        "sendername",
        "fromnick",
        "fromname",
        "昵称",
        "名称",
        "用户名",
        "旺旺名",
    ),
    "role": (
        "role",
        "type",
        "usertype",
        "userrole",
        "sendertype",
        "senderrole",
        "fromtype",
        "角色",
        "身份",
        "类型",
    ),
    "agent_id": ("agentid", "staffid", "客服id", "客服账号", "工号"),
}


def _too_long(
    conversation_id: str, shop: str | None, sender: str | None, agent_id: str | None, role: Role
) -> str | None:
    """Why a record holds a value wider than the store keeps (:data:`~qc.schema.MAX_ACCOUNT_CHARS`), or None.

    Such a value is a shifted row far more often than a name: a reply read as the sender.
    """
    fix = "; a value this long is usually a shifted column (a message read as a name): check the row"
    if len(conversation_id) > MAX_CONVERSATION_ID_CHARS:
        return (
            f"conversation_id has {len(conversation_id)} characters, over the"
            f" {MAX_CONVERSATION_ID_CHARS} the store keeps{fix}"
        )
    for name, value in (("sender", sender), ("agent_id", agent_id)):
        if value is not None and len(value) > MAX_ACCOUNT_CHARS:
            return f"{name} has {len(value)} characters, over the {MAX_ACCOUNT_CHARS} the store keeps{fix}"
    widest = MAX_ACCOUNT_CHARS - SHOP_ACCOUNT_SUFFIX_CHARS
    if shop is not None and len(shop) > widest:
        # the shop's own accounts (店铺名:unassigned, its unanswered buyers) must fit too
        return (
            f"shop has {len(shop)} characters, over the {widest} the store keeps for a shop (its"
            f" accounts 店铺名:… hold at most {MAX_ACCOUNT_CHARS}){fix}"
        )
    if role is Role.AGENT and shop and agent_id is None and (sender is None or ":" not in sender):
        # a bare nick (or none) becomes the shop's account 店铺名:nick (店铺名:unknown)
        account = len(shop) + 1 + len(sender or NAMELESS_AGENT)
        if account > MAX_ACCOUNT_CHARS:
            return (
                f"the agent account 店铺名:nick made of shop and sender has {account} characters, over the"
                f" {MAX_ACCOUNT_CHARS} the store keeps{fix}"
            )
    return None


def unnest_sender(rec: RawRecord) -> str | None:
    """Take the nick, role and agent id out of a sender given as an object, in place.

    ``{"sender": {"nick": "tb_小鹿", "role": "buyer"}}`` is how several platforms' APIs write a
    message's sender; a role or agent id given beside the object wins over one inside it.
    Returns why the record is refused, or ``None``: a nick given only as a list, an object or
    true/false, or an object none of whose keys qc reads. Either was read as no sender, and an
    agent's reply was charged to the shop's 店铺名:unknown (audit 172 F4).
    """
    inner = {
        "".join(ch for ch in str(k).strip().lower() if ch not in " _-"): v for k, v in rec.sender.items()
    }
    told = _as_str(rec.role) is not None or isinstance(rec.role, Role)  # else: the usual "missing role"
    # Only the nick, when the object holds no text for it: a text nick beside a name given as an
    # object is read by the nick (audit 173 L4), and a role or agent id qc cannot read is left out
    # as a missing one is (a missing role is the usual reject; audit 174 L5).
    nicks = _SENDER_KEYS["sender"]
    if not any(_as_str(inner.get(k)) is not None for k in nicks):
        for k in nicks:
            if (wrong := _not_text(f"sender.{k}", inner.get(k))) is not None:
                return wrong
    if told and inner and not any(k in inner for keys in _SENDER_KEYS.values() for k in keys):
        names = ", ".join(shown_value(str(k), 20) for k in list(rec.sender)[:5])
        return (
            f"sender is an object with none of the keys qc reads as a nick, role or agent id (it has"
            f" {names}): write the sender's nick under nick or name, or as text"
        )
    found = {
        field: next((inner[k] for k in keys if _as_str(inner.get(k)) is not None), None)
        for field, keys in _SENDER_KEYS.items()
    }
    rec.sender = found["sender"]
    if _as_str(rec.role) is None and not isinstance(rec.role, Role):
        rec.role = found["role"]
    if _as_str(rec.agent_id) is None:
        rec.agent_id = found["agent_id"]
    return None


# How exports mark an auto-reply in its text, before or after it.
AUTO_MARKS = ("[自动回复]", "【自动回复】", "(自动回复)", "（自动回复）")


def is_marked_auto_reply(text: str) -> bool:
    """True when an agent text starts or ends with an auto-reply mark, as 千牛 writes it in exports."""
    said = text.strip()
    return said.startswith(AUTO_MARKS) or said.endswith(AUTO_MARKS)


def role_in_text(role: Role, text: str, auto: bool, told: bool) -> tuple[Role, bool]:
    """``(role, auto_reply)`` of a message once its text is read, as every reader and `qc check` reads it.

    A platform's notice in the agent's column is the platform's (:func:`is_platform_notice`);
    an agent text marked ``[自动回复]`` is an auto-reply unless an auto-reply column or key
    said otherwise (``told``), as 千牛 marks them in exports with no such column.
    """
    if role is not Role.SYSTEM and is_recall_notice(text):
        # A buyer's 撤回了一条消息 was a buyer turn, the agent's next reply timed from it.
        return Role.SYSTEM, False
    if role is Role.AGENT:
        if is_platform_notice(text):
            return Role.SYSTEM, False
        if not auto and not told:
            return role, is_marked_auto_reply(text)
    return role, auto


def has_value(value: Any) -> bool:
    """True for a field that holds something: not ``None``, not a blank string."""
    if isinstance(value, str):
        return bool(value.strip())
    return value is not None


def _as_bool(value: Any) -> bool | None:
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        folded = value.strip().lower()
        if folded in _TRUE:
            return True
        if folded in _FALSE:
            return False
    return None


# How a JSON value that is no text is named in a reject.
_JSON_KINDS: dict[type, str] = {list: "a list", dict: "an object", bool: "true/false"}
# A number as a spreadsheet shows it in scientific notation (2.02611E+18, 2.02611e+18).
_SCIENTIFIC = re.compile(r"\d(?:\.\d+)?[eE]\+\d+")


def validate(
    rec: RawRecord,
    tz: tzinfo,
    day: date | None,
    nicks: tuple[frozenset[str], frozenset[str]],
    years: tuple[int, int],
) -> Candidate | Reject:
    """Check one raw record and turn it into a candidate message or a reject with the reason.

    Args:
        rec: The record as the format reader found it.
        tz: Zone for naive timestamps.
        day: Day for time-only timestamps (``None``: they stay unknown).
        nicks: ``(agent_nicks, customer_nicks)`` deciding roles from sender nicks.
        years: First and last year a timestamp may fall in (``earliest_year``, ``latest_year``
            of the limits file); a timestamp outside them is a reject.
    """
    value = rec.text
    if isinstance(value, str):
        text = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        text = _as_str(value) or ""
    elif value is None:
        text = ""
    else:
        return make_reject(rec.file, rec.line, f"text is a {type(value).__name__}, not a string", rec.raw)
    if not text.strip():
        return make_reject(rec.file, rec.line, "empty text", rec.raw)
    # Every character the patterns refuse is unprintable: printable text needs no search.
    if not text.isprintable():
        bad = bad_character("text", text, _BAD_IN_TEXT)
        if bad:
            return make_reject(rec.file, rec.line, bad, rec.raw)
    conversation_id = _as_str(rec.conversation_id)
    if conversation_id is None:
        reason = _not_text("conversation_id", rec.conversation_id) or "missing conversation_id"
        return make_reject(rec.file, rec.line, reason, rec.raw)
    if _SCIENTIFIC.fullmatch(conversation_id):
        # 2.02611E+18: what a spreadsheet writes for a long id it took for a number. The id is
        # lost, and every conversation of the day would read as one.
        return make_reject(
            rec.file,
            rec.line,
            f"conversation_id {conversation_id} is a long id a spreadsheet turned into a number in"
            " scientific notation: the id is lost and different conversations would share it;"
            " format the id column as text in Excel or WPS and export again, or take the platform's export",
            rec.raw,
        )
    if type(rec.sender) is dict and (refused := unnest_sender(rec)) is not None:
        return make_reject(rec.file, rec.line, refused, rec.raw)
    sender = _as_str(rec.sender)
    # A field given as a list, an object or true/false was read as absent and the record kept:
    # another shop, another role or no message id, unsaid (audit 162 M3). Looked at only where
    # the value read as nothing, so a normal record pays nothing.
    if sender is None and (wrong := _not_text("sender", rec.sender)):
        return make_reject(rec.file, rec.line, wrong, rec.raw)
    kinds = _JSON_KINDS
    if (
        type(rec.shop) in kinds
        or type(rec.message_id) in kinds
        or type(rec.agent_id) in kinds
        or type(rec.date) in kinds
    ):
        for name, value in (
            ("shop", rec.shop),
            ("message_id", rec.message_id),
            ("agent_id", rec.agent_id),
            ("date", rec.date),
        ):
            if wrong := _not_text(name, value):
                return make_reject(rec.file, rec.line, wrong, rec.raw)
    for name, value in (
        ("conversation_id", conversation_id),
        ("sender", sender),
        ("agent_id", rec.agent_id),
        ("shop", rec.shop),
        ("role", rec.role),
        ("message_id", rec.message_id),
    ):
        if type(value) is str and not value.isprintable():
            bad = bad_character(name, value, _BAD_IN_ID)
            if bad:
                return make_reject(rec.file, rec.line, bad, rec.raw)
    auto = _as_bool(rec.auto_reply)
    if auto is None:
        reason = "auto_reply is not a yes/no value (use true/false, 1/0 or 是/否)"
        return make_reject(rec.file, rec.line, reason, rec.raw)
    if isinstance(rec.role, Role):
        role = rec.role
    else:
        role_text = _as_str(rec.role)
        if role_text is None and (wrong := _not_text("role", rec.role)):
            return make_reject(rec.file, rec.line, wrong, rec.raw)
        found = parse_role_word(role_text) if role_text else None
        if found is None and role_text is None and sender:
            found = role_from_nick(sender, *nicks)
        if found is None:
            if role_text is None:
                reason = "missing role (and the sender nick does not tell; use --agent-nick/--customer-nick)"
            else:
                reason = "unknown role (use customer/agent/system or 买家/客服/系统)"
            return make_reject(rec.file, rec.line, reason, rec.raw)
        role, auto_word = found
        auto = auto or auto_word
    if role is Role.AGENT and not auto and sender and not has_value(rec.auto_reply):
        # A role column says 客服 and the sender is the shop's bot (店:店小蜜, 店小蜜): its
        # replies are auto-replies, as where the nick alone tells the role.
        auto = role_from_nick(sender, *nicks) == (Role.AGENT, True)
    role, auto = role_in_text(role, text, auto, has_value(rec.auto_reply))
    try:
        if rec.date is None:
            sent_at = parse_timestamp(rec.timestamp, tz, day)
        else:
            stamp = rec.timestamp
            if not has_value(stamp):
                stamp = timed(rec.date)  # the date column is the whole timestamp
            # The date is read only for a clock-only time (None here): a full timestamp says
            # the day itself.
            sent_at = parse_timestamp(stamp, tz, None)
            if sent_at is None:
                sent_at = parse_timestamp(stamp, tz, day_of(rec.date, tz) or day)
    except TimestampError as exc:
        return make_reject(rec.file, rec.line, str(exc), rec.raw)
    if sent_at is not None:
        if not years[0] <= sent_at.year <= years[1]:
            return make_reject(rec.file, rec.line, out_of_years(sent_at.year, years), rec.raw)
        sent_at = steady(sent_at)
    agent_id = _as_str(rec.agent_id) if role is Role.AGENT else None
    if role is Role.AGENT:
        # One spelling per agent account (full-width colon, spaces, case): one agent, one score.
        if sender:
            sender = fold_agent_id(sender)
        if agent_id:
            agent_id = fold_agent_id(agent_id)
        if (
            agent_id
            and sender
            and agent_id != sender
            and split_subaccount(agent_id)
            and split_subaccount(sender)
        ):
            # Two shop accounts: a chat's receiving agent (接待客服, a conversation's "agent") beside
            # the account that typed the message. The typist answers for it: a colleague's 烦不烦啊
            # after a transfer was charged to the receiving agent (audit 154 H2). An opaque id
            # (a 工号, 3301) beside a nick is the same person's and still names the agent.
            agent_id = None
    shop = _as_str(rec.shop)
    if shop is None and role is Role.AGENT and sender:
        sub = split_subaccount(sender)
        shop = sub[0] if sub else None
    too_long = _too_long(conversation_id, shop, sender, agent_id, role)
    if too_long:
        return make_reject(rec.file, rec.line, too_long, rec.raw)
    # With the platform's message id, the same message is the same id (and the same content: an
    # id reused for other words, a recalled and edited message, keeps both); without, the same
    # content at the same time. A conversation has one buyer, whom one export names by account
    # (tb_大橘) and another by the role word 买家 or a nick: the buyer's name is not part of it.
    message_id = _as_str(rec.message_id)
    dedupe = ("id", message_id) if message_id is not None else rec.dedupe
    if sent_at is not None and dedupe is not None and len(dedupe) == 3 and dedupe[0] == "copy":
        # A conversation line's timed message: the same send as the row or line of another
        # export at that instant, however its time is written (epoch or ISO). Keyed by the time
        # as written, it was never one, and the chat given twice was counted twice (audit 154 H4).
        dedupe = ("copy", dedupe[2]) if dedupe[2] else None
    key: tuple[Any, ...] | None = None
    if sent_at is not None or dedupe is not None:
        writer = None if role is Role.CUSTOMER else sender
        key = (conversation_id, role, writer, sent_at, text, agent_id, auto, dedupe)
    # Positional, in Candidate's field order: this runs once per message.
    return Candidate(
        conversation_id,
        role,
        text,
        sender,
        sent_at,
        auto,
        agent_id,
        shop,
        rec.file,
        rec.line,
        rec.raw,
        key,
    )


def _not_text(name: str, value: Any) -> str | None:
    """The reject reason for a field given as a list, an object or true/false; ``None`` for any other."""
    kind = _JSON_KINDS.get(type(value))
    return f"{name} is {kind}, not text: write it as a string" if kind else None


def out_of_years(year: int, years: tuple[int, int]) -> str:
    """The reason a timestamp in ``year`` is refused: which years are accepted and where that is set."""
    latest = load_limits().latest_year  # the setting's; years[1] may be next year (message_years)
    if years[1] < year <= latest:
        return (
            f"timestamp in the year {year}, after next year ({years[1]}) by this machine's clock: a mistyped"
            " year? fix the record's date"
        )
    return (
        f"timestamp in the year {year}, outside {years[0]}–{latest} (earliest_year, latest_year in"
        f" {limits_source()}): an empty date cell or a wrong clock?"
    )


def duplicate_reject(first: Candidate, again: Candidate) -> Reject:
    """The reject of ``again``, an exact repeat of the earlier record ``first``, naming where that one is.

    One wording for every reader (whole batch, stream, line chunks, Spark), so their rejects match.
    """
    where = f"line {first.line}" if first.file == again.file else f"{first.file}:{first.line}"
    return make_reject(again.file, again.line, f"exact duplicate of {where}", again.raw)


def dumps_raw(value: Any) -> str:
    """A JSON value as one line of text for a reject's raw field."""
    return json.dumps(value, ensure_ascii=False, default=str)
