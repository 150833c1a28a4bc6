"""千牛/旺旺 style plain-text chat exports.

Two shapes, which may be mixed in one file:

* inline lines ``买家(14:59:42): 你好`` / ``客服（2026-11-24 14:59:47）：您好`` —
  one message per line; the speaker is a role word or a nick;
* blocks: a header line ``昵称 2026-11-24 10:00:01`` (or ``昵称(2026-11-24 10:00:01):``)
  followed by the message's lines up to the next header. One block is one
  message (a multi-line bubble keeps its line breaks); its line is the header's.

Conversations: a line of three or more ``-``/``=``/``*`` (optionally with a
label, e.g. ``===== 会话: A123 =====``) starts a new conversation. A label
naming a conversation (``会话``/``会话ID``/``conversation`` + id) gives its id;
otherwise the id is the file stem (with its folder's name when another file of the batch
has that stem), with ``#2``, ``#3`` … when the file holds
several conversations.

Roles: a sub-account nick ``店铺名:客服名`` is an agent; ``--agent-nick`` and
``--customer-nick`` name others; role words (买家/客服/系统) work as nicks. In a
conversation where some agent is known, the remaining unknown nicks are the
buyer; otherwise their lines are rejected with the fix.

Time-only lines take their day from ``--date`` or the file name; without one the
time stays unknown (never invented) and the reader warns once for the file.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo

from qc.readers.encoding import Decoded
from qc.readers.limits import load_limits
from qc.readers.records import AUTO_MARKS, RawRecord, garbled_reason, make_reject
from qc.readers.roles import (
    is_platform_notice,
    is_recall_notice,
    parse_role_word,
    role_from_nick,
    split_subaccount,
)
from qc.readers.timestamps import DATETIME_RE, TIME_RE, parse_timestamp
from qc.schema import Reject, Role

_DATE = r"\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?"
# Seconds may carry a fraction (10:00:21.350), as some exports write them and the timestamps take.
_FRAC = r"(?:[.,]\d{1,6})?"
_HMS = rf"\d{{1,2}}:\d{{2}}:\d{{2}}{_FRAC}"
_AMPM = r"(?:上午|下午|凌晨|早上|中午|晚上)"
# After the clock, as exports set to an English 12-hour clock or to UTC offsets write it:
# 3:05:20 PM, 10:00:01+08:00 (the time styles the other readers take).
# An offset is one a zone can have (±14:00 at most), and a clock without seconds takes no negative
# one: 售后(9:00-18:00) or 售后 9:00:00-18:00 alone on a line of a reply is a range of hours, and
# read as a header it took the agent's lines under it (audit 118 M1).
_AFTER = r"(?:\s?(?:AM|PM|am|pm))?(?:Z|[+-](?:0\d|1[0-4]):?[0-5]\d)?"
_AFTER_MINUTES = r"(?:\s?(?:AM|PM|am|pm))?(?:Z|\+(?:0\d|1[0-4]):?[0-5]\d)?"
_HM_CLOCK = rf"(?:\d{{1,2}}:\d{{2}}:\d{{2}}{_FRAC}{_AFTER}|\d{{1,2}}:\d{{2}}{_AFTER_MINUTES})"
# 10时03分20秒: the clock some Chinese exports write, in every header style (audit 93 #1).
_ZH_CLOCK = r"\d{1,2}时\d{1,2}分(?:\d{1,2}秒)?"
_ZH_HMS = r"\d{1,2}时\d{1,2}分\d{1,2}秒"
_CLOCK = rf"(?:{_HM_CLOCK}|{_ZH_CLOCK}{_AFTER})"
# The date with possessive spaces for the header patterns: a date and a long run of spaces with no
# clock after them backtracked quadratically (20,000 spaces: a minute to read, audit 116 M2).
_DATE_P = _DATE.replace(r"\s*", r"\s*+")
_TS = rf"(?:{_DATE_P}[\sT]*+)?(?:{_AMPM}\s*+)?{_CLOCK}"
_WHO = r"[^()（）\r\n]{1,64}?"
# A header nick before a bare time may carry a note in brackets: 森林杂货铺:阿青(售前).
_WHO_NOTED = r"[^\r\n]{1,64}?"
# The note in brackets a nick may carry before the bracket of its time: 森林杂货铺:阿青(售前)(10:00:01).
_NOTE = r"(?:\s*+[(（][^()（）\r\n]{1,12}[)）])?"
# With a date, a header's time may leave out the seconds (2026-11-24 10:03); a bare time needs them.
_HEADER_TS = (
    rf"{_DATE_P}\s*+(?:{_AMPM}\s*+)?{_CLOCK}"
    rf"|(?:{_AMPM}\s*+)?(?:{_HMS}|{_ZH_HMS}){_AFTER}"
)
# Possessive quantifiers (\s*+) keep matching linear on long lines of spaces or parens.
# An inline nick may carry a note in brackets too: 柚子优选旗舰店:小雨(售前)(16:00:05): 在的.
INLINE_RE = re.compile(
    rf"^\s*+(?P<who>{_WHO}(?:\s*[(（][^()（）\r\n]{{1,12}}[)）])?)\s*+[(（]\s*+(?P<ts>{_TS})\s*+[)）]\s*+[:：](?P<text>.*)$"
)
HEADER_RE = re.compile(
    rf"^\s*+(?:(?P<who>{_WHO})\s*+[(（]\s*+(?P<ts1>{_TS})\s*+[)）]\s*+[:：]?"
    rf"|(?P<who2>{_WHO_NOTED})\s++(?P<ts2>{_HEADER_TS}))\s*+$"
)
# A note in brackets after a header nick: (售前), (自动回复).
_NICK_NOTE_RE = re.compile(r"^(?P<nick>.+?)\s*[(（](?P<note>[^()（）]{1,12})[)）]$")
SEPARATOR_RE = re.compile(r"^\s*+[-=*─—#~]{3,}+(?P<label>.*)$")
_RULE_CHARS = frozenset("-=*─—#~")
# The words of a divider's label, as a nick may stand among them (客户：tb_海风  接待：柚子店:阿青).
_WORD_RE = re.compile(r"[^\s：,，;；|/()（）【】\[\]<>《》=*#~—─]{2,}")  # a nick may hold a - (tb-海风)
_LONGEST_DIVIDER_LABEL = 40
# What exports write on their dividers: a conversation or session, its start or end, the next
# customer, a count of messages, a transfer, a date or a time.
_DIVIDER_WORDS_RE = re.compile(
    r"会话|对话|聊天|开始|结束|客户|顾客|消息|记录|分隔|转接|第\s*\d|共\s*\d|\d\s*条"
    r"|\d{1,4}\s*[-/.年月]\s*\d{1,2}|\d{1,2}\s*[:：]\s*\d{2}"
)
_LABEL_ID_RE = re.compile(
    r"(?:会话编号|会话ID|会话|对话ID|对话|conversation(?:\s*id)?|session(?:\s*id)?)\s*[:：#]?\s*(?P<id>[^\s=*#~]+)",
    re.IGNORECASE,
)
_DATE_ONLY_RE = re.compile(r"\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?")
# A divider label that is a day and nothing else (a weekday may follow): a day line.
_DAY_LABEL_RE = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*(?:(?:星期|周|礼拜)[一二三四五六日天])?\s*$"
)


# What frames a platform line: rules, spaces and brackets (———— 以上是历史消息 ————, 【以下为新消息】).
_DECORATION = " \t-=*─—#~【】[]()（）<>《》"
# 旺旺 and 千牛 mark where the history ends and the new messages begin.
# Only these: a buyer's own 以下是聊天记录 (pasting a chat) is a message.
_MARKER_RE = re.compile(r"以下[为是](?:新|最新的?)消息|以上[为是]历史(?:消息|聊天记录)")
# A line that is a day and nothing else, between messages: 2026年11月24日 星期二 (a day header).
_BARE_DAY_RE = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*(?P<weekday>(?:星期|周|礼拜)[一二三四五六日天])?"
)
# A title line naming the buyer of the chat after it (与 tb_海风 的聊天记录): a new conversation.
_TITLE_RE = re.compile(r"与\s*\S.{0,63}?\s*的(?:聊天记录|会话记录|对话记录)")
# A line that states the day of the clock-only times after it: 日期：2026-11-24 (旺旺's classic layout).
_DATE_LINE_RE = re.compile(
    r"(?:日期|date)\s*[:：]\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"\s*(?:(?:星期|周|礼拜)[一二三四五六日天])?",
    re.IGNORECASE,
)


def _divider_label(sep: re.Match[str]) -> str | None:
    """The label of a divider line that names no conversation ("" when bare), else ``None``.

    Such a line (``————``, ``***温馨提示***``, ``—— 2026-11-25 ——``) may be a line of a
    message or a day line inside a conversation; one naming a conversation is a separator.
    """
    text = sep["label"].strip(" \t-=*─—#~")
    label = _LABEL_ID_RE.search(text)
    return None if label and _is_conversation_id(label["id"].strip("-—─")) else text


def _rule_then_words(line: str, sep: re.Match[str]) -> str | None:
    """How a divider-like line that runs on into words may read: ``"short"``, ``"long"`` or ``None``.

    ``***承诺：七天无理由退换`` (an agent's pitch) and a buyer's ``=-= 好吧`` start like a divider but
    are not closed by the rule and name no conversation, title or day. Such a line inside a
    message is held, and what comes next decides (:meth:`TextExportReader._hold`): ``"short"``
    (a label of at most 40 characters without the words exports label dividers with) is text when
    the conversation's buyer goes on; ``"long"`` (the real pitches run 68 to 178 characters) also
    when the same writer goes on, and whatever words it holds. ``None``: a divider (closed by the
    rule, naming a conversation, title or day, or short with a divider's words: ``==== 对话开始``,
    ``———— 下一位客户``, ``----- 共 12 条消息``). Taken for dividers, the real lines cut their
    conversations in two and lost their text (audit 103 F1); taken for text by their words alone,
    unknown dividers merged two chats and charged one agent for another's buyer (audits 105 F1,
    106 F1).
    """
    label = sep["label"].strip()
    if not label or label[-1] in _RULE_CHARS:
        return None
    text = _divider_label(sep)
    if not text or _DAY_LABEL_RE.match(text) or _TITLE_RE.search(line):
        return None
    if len(text) > _LONGEST_DIVIDER_LABEL:
        return "long"
    return None if _DIVIDER_WORDS_RE.search(line) else "short"


def _is_conversation_id(label: str) -> bool:
    """True when a divider's label is an id: it has a digit or a Latin letter and is not a date.

    ``===== 对话开始 =====`` and ``===== 与 tb_x 的会话 2026-11-24 =====`` name no conversation:
    taken as ids, every conversation of the file (and of every day's file) shared one.
    """
    has_id_character = any(ch.isascii() and ch.isalnum() for ch in label)
    return has_id_character and _DATE_ONLY_RE.fullmatch(label) is None


# Lines after an inline message that are not more of its text: a chat line cut off (买家(15:00:1)
# or with a garbled time (买家(14:6O:2l): 在吗) and the platform's note in brackets of its own
# (（以下为系统提示）).
# Only that: a line with a number in brackets (尺码M(160-165cm), 1.（7天无理由退换）) or a note of its
# own ([图片], （专员小树）) is text, and was cut off the real messages (audit 103 F3).
# Every mark of the day the headers take (_AMPM) may open the bracket: with 上午/下午 alone, the buyer's
# tb_大橘(晚上9:0O:4l): 爱买不买 or tb_a(凌晨1:01) 烦死了 was the agent's text (line corpus F3).
_AMPM_CHARACTERS = "".join(sorted(set(re.sub(r"[^\u4e00-\u9fff]", "", _AMPM))))
_CUT_OR_GARBLED_RE = re.compile(
    # who(15, who(2026-11-2 or who(15:00:1, cut off; who(14:6O:2l): …, who(10时O1分3l秒) …, who(O9:00:01),
    # who(下午2:6O:2l), who(14.6O.2l): …, who(2026-11-24 14:06:21 …: a time (a colon, 时 or h.m.s in
    # it) garbled in any style the reader takes, dated or with an offset (audits 105 F4, 106 F4)
    # The nick may carry its note: 森林杂货铺:阿青(售前)(1O:00:4l): 爱买不买 was the buyer's text (line
    # corpus F4).
    rf"^\s*+[^()（）\s]{{1,64}}{_NOTE}\s*[(（]\s*(?:\d|[OolI]\d|{_AMPM})"
    r"(?:[\d\s\-/.年月日]*$|(?=[^)）]*(?:[:：时]|\d\.[0-9A-Za-z]{2}\.))"
    rf"[0-9A-Za-z:：\s\-/.+年月日时分秒点{_AMPM_CHARACTERS}]{{0,40}}"
    r"(?:[)）].*|\s.*)?$)"
)
# A line that is one note in brackets: 【以下为尺码表】, （以下为系统提示）.
_BRACKETED_RE = re.compile(r"^\s*+[(（【\[](?P<inside>[^()（）【】\[\]]*)[)）】\]]\s*$")
# The platform's note among them: （以下为系统提示）, 【以上是历史消息】; an agent's （以上价格为活动价）
# is text.
_PLATFORM_NOTE_RE = re.compile(r"(?:以下|以上).*(?:消息|提示|记录)|系统(?:提示|消息|通知)")


def _garbled(pattern: str) -> str:
    """A header piece with a letter allowed wherever a digit goes (O for 0, l or I for 1)."""
    return pattern.replace(r"\d", r"[\dOolI]")


# The header's own pieces (above) with letters for digits: every style the reader takes as a header
# has a garbled twin; a pattern of its own knew only `nick date H:MM:SS` and let 买家(… 1O:00:4l):,
# 上午1O:00:4l, 1O时00分4l秒 or a joined date through as the agent's text (audit 113 H1).
# A full-width colon too: 1O：00：4l under an agent's message was a reject, and is (audit 117 H2).
_G_CLOCK = _garbled(rf"(?:\d{{1,2}}[:：]\d{{2}}(?:[:：]\d{{2}}{_FRAC})?|{_ZH_CLOCK}){_AFTER}")
# Possessive spaces: a date followed by a long run of spaces and no clock backtracked quadratically
# (a 20,000-space line took 107 s, audit 116 M2).
_G_DATED = _garbled(rf"{_DATE_P}[\sT]*+(?:{_AMPM}\s*+)?") + _G_CLOCK
# Without a date a header's clock has its seconds (as _HEADER_TS): 售前 8:3O in a reply's list of
# hours is no header, and cut as one it took the agent's lines with it (audit 113 H2).
_G_BARE = _garbled(rf"(?:{_AMPM}\s*+)?(?:\d{{1,2}}[:：]\d{{2}}[:：]\d{{2}}{_FRAC}|{_ZH_HMS}){_AFTER}")
# A nick with no space or sentence mark, perhaps with a note (买家(售前)): a line of text ending in a
# mistyped time (截单时间是 16:0O, 付款时间：2026-11-24 O9:12:33) stays in its message (audits 110 N1,
# 111 F1); and only a nick that may write is a header's (TextExportReader._garbled_header).
_G_WHO = r"[^\s()（）]{1,40}"
_G_NOTE = _NOTE
_GARBLED_HEADER_RE = re.compile(
    rf"^\s*+(?:(?P<who1>{_G_WHO}{_G_NOTE})\s*+[(（]\s*+(?P<ts1>{_G_DATED}|{_G_BARE})\s*+[)）]\s*+[:：]?"
    rf"|(?P<who2>{_G_WHO}(?:\s{_G_WHO})??{_G_NOTE})\s++(?P<ts2>{_G_DATED}|{_G_BARE}))\s*+$"
)
# No header is this long: longer lines are not tried against the header patterns at all.
_LONGEST_HEADER = 200
_LETTER_FOR_DIGIT_RE = re.compile(r"[OolI]")
_GARBLED_HEADER = (
    "a chat line or header whose time is garbled (a letter where a digit goes, a full-width colon, a"
    " time cut short): the message under it is not read; write the time as the other headers do"
)

# A well-formed bracket with no colon after it, of a sender (tb_a(10:01:10) 烦死了): said as what it
# is, not as a garbled time (audit 127 L2).
_COLONLESS_CHAT_LINE = (
    "a chat line with no colon after its time (who(time) words, of a sender of this file): it and the"
    " lines under it are not read; write who(time): text, or, where the agent quoted an earlier line,"
    " that line's time as its header has it"
)


def _time_label(nick: str) -> bool:
    """Whether a nick reads as a typed list's label naming a time (截单时间, 预计送达)."""
    return bool(nick) and _TIME_LABEL_RE.fullmatch(nick) is not None


def _system_word(nick: str) -> bool:
    """Whether a nick is a platform's role word (系统, 系统消息): no buyer of the chat (audit 140 H3)."""
    found = parse_role_word(nick)
    return found is not None and found[0] is Role.SYSTEM


def _bare_nick(who: str) -> str:
    """A nick without its note in brackets: 森林杂货铺:阿青(售前) is 森林杂货铺:阿青."""
    noted = _NICK_NOTE_RE.match(who)
    return noted["nick"].strip() if noted else who


def _platform_note(line: str) -> bool:
    """True for the platform's note in brackets of its own: （以下为系统提示）, 【以上是历史消息】."""
    note = _BRACKETED_RE.match(line)
    # A note is short; bounded, a long line of 以下 stays linear to check (audit 106 F3).
    return (
        note is not None
        and len(note["inside"]) <= 40
        and _PLATFORM_NOTE_RE.search(note["inside"]) is not None
    )


# A date or a clock time inside a would-be nick: 导出时间：2026-11-25 before a bare time.
_DATE_IN_NICK_RE = re.compile(rf"{_DATE}|\d{{1,2}}[:：]\d{{2}}")
# A clock with its seconds, in any style the headers write: 10:01:10, 10时01分10秒.
_SECONDS_RE = re.compile(r"\d[:：]\d{2}[:：]\d{2}|\d\s*秒")
# What an agent's list labels a line with (截单时间, 周末): Chinese characters only, short.
_LABEL_RE = re.compile(r"[\u4e00-\u9fff]{1,8}")
# A label of a typed list that names a time (截单时间(17:00)：…, 揽收时间(15:30)：…, 预计送达(…)：…): under
# another one it is the list's next line, never a new buyer's chat (audit 138 H1, H2, M3).
# Not a bare 开始/结束: 新的开始 and 从心开始 are buyers' nicks (audit 140 H1).
_TIME_LABEL_RE = re.compile(
    r"[\u4e00-\u9fff]{0,6}(?:时间|日期|时段|时效|时刻|截止|截单|送达|到货|发货|揽收|签收|付款|下单"
    r"|(?:活动|预售|直播|抢购|秒杀|优惠|领券|拼团|团购|开团|报名|促销|满减)(?:开始|结束))"
)
# A promotion's time labels (活动开始, 领券结束, 活动时间): the next line of a list whose line above
# was folded, in turn by its time or not (audit 149 M2), where a nick that merely ends like one
# (快乐时间) is a buyer's (audit 148 H2).
_PROMOTION_LABEL_RE = re.compile(
    r"(?:活动|预售|直播|抢购|秒杀|优惠|领券|拼团|团购|开团|报名|促销|满减)(?:开始|结束|时间|日期|截止)"
)
# The labels of a shop's delivery rules: no buyer's nick, whatever line they stand under (顺丰(17:00)
# then 截单时间(15:30); a list pasted in two chats, audit 142 H2).
_LOGISTICS_LABEL_RE = re.compile(
    r"(?:截单|截止|揽收|发货|到货|送达|签收|付款|下单|配送|出库)(?:时间|日期|时段)?|预计(?:送达|到货|发货)(?:时间)?"
)
# A mark of the day may come before the second clock (营业时间(早上9:00-晚上10:00)): without it the
# agent's hours were a garbled chat line, a reject, and its 爱买不买 under them too (audit 132 H1).
_TIME_RANGE_RE = re.compile(rf"\d{{1,2}}[:：]\d{{2}}\s*[-~—至到]\s*(?:{_AMPM}\s*)?\d{{1,2}}[:：]\d{{2}}")
# A range of hours, a mistyped one too, whose first clock is no clock's seconds: 1O:00:55-08:00
# is a time in a zone, not 00:55 to 08:00 (audit 123 H4).
_HOURS_RANGE_RE = re.compile(r"(?<![\dOolI][:：])(?<![\dOolI])" + _garbled(_TIME_RANGE_RE.pattern))
_NICK_AND_BRACKET_RE = re.compile(rf"\s*+([^()（）\s]{{1,64}}{_NOTE})\s*[(（]([^)）]{{0,40}})")
# After the bracket, the colon of a chat line (买家(10:00:4): …), not a label's words (客服(18:00)前回复).
# What a label's bracket may hold before its colon that no chat line has: a clean clock after a day
# without its year (预计送达(11月25日 18:00)：…), see TextExportReader._labels_time.
# An hour alone (客服(晚上9时)：下线) is a label's too: no chat line writes its time so (audit 132 H1).
_LABELS_CLOCK_RE = re.compile(
    rf"(?:\d{{1,2}}\s*[-/.月]\s*\d{{1,2}}\s*日?\s*)?(?:{_AMPM}\s*)?(?:{_CLOCK}|\d{{1,2}}时)"
)
_CHAT_COLON_RE = re.compile(r"[)）]\s*[:：]")


_AMPM_RE = re.compile(_AMPM)
# How many header-like lines of nicks that never wrote a look ahead steps over before it gives up
# (see TextExportReader._answered_before): a bound, so a hostile file of such lines stays linear.
_LOOKAHEAD_UNKNOWN = 4


def _stamp_shape(stamp: str) -> tuple[bool, bool, bool]:
    """How a header writes its time: with a date, with seconds, with a 上午/下午 mark."""
    return (
        DATETIME_RE.match(stamp) is not None,
        _SECONDS_RE.search(stamp) is not None,
        _AMPM_RE.search(stamp) is not None,
    )


_LONE_PLATFORM_LINE = "a platform line with no message of a conversation beside it: not a chat line"

# Any day, for comparing two clock-only times of one file that has no day of its own.
_ANY_DAY = date(2000, 1, 1)


def _sender_time_and_shape(line: str) -> tuple[str, str, bool] | None:
    """A header or inline line's nick (bare, :func:`_bare_nick`) and time, and whether it is a header alone.

    A header alone has no text after it. ``None`` for any other line. A label and its value
    (付款时间：2026-11-24 09:12:33) is no sender: ``None``.
    """
    header = HEADER_RE.match(line)
    found = header or INLINE_RE.match(line)
    if found is None:
        return None
    groups = found.groupdict()
    who = (groups.get("who") or groups.get("who2") or "").strip()
    if who.endswith((":", "：")) or _DATE_IN_NICK_RE.search(who):
        return None
    stamp = (groups.get("ts") or groups.get("ts1") or groups.get("ts2") or "").strip()
    return _bare_nick(who), stamp, header is not None


def is_chat_line(line: str) -> bool:
    """True when a line looks like an inline message or a block header (used for sniffing)."""
    return bool(INLINE_RE.match(line) or HEADER_RE.match(line))


@dataclass(slots=True)
class _Segment:
    label_id: str | None
    items: list[RawRecord | Reject] = field(default_factory=list)
    agent_known: bool = False
    last_clock: datetime | None = None
    day_shift: int = 0
    # The clock of the line before the last roll-over (23:57 before 00:05): see _before_roll.
    pre_roll: datetime | None = None
    # How often each (sender, time as written, text) has come in this conversation so far.
    copies: dict[tuple[str, str, str], int] = field(default_factory=dict)
    # The nicks that have written in this conversation (as their header or line names them).
    writers: set[str] = field(default_factory=set)
    # The day a date line (———— 2026-11-25 ————) gave this conversation's clock-only times.
    day: date | None = None
    # When each nick (bare) first wrote in this conversation in each minute and each second of the
    # clock: what a quote asks (TextExportReader._quoted). Of this conversation alone: asked of the
    # file, another buyer's 10:01 made 买家(10:01) 烦死了 a quote (audit 132 H3); by minute, one look
    # each, where walking every earlier line took 48 s on a busy day's file (M1).
    said_minutes: dict[tuple[str, int, int], datetime] = field(default_factory=dict)
    said_seconds: dict[tuple[str, int, int, int], datetime] = field(default_factory=dict)


@dataclass(slots=True)
class _Block:
    line: int
    who: str
    stamp: str
    header: str
    body: list[str] = field(default_factory=list)
    # An inline message (买家(10:00:01): 在吗) is a block too, its header line holding the text's
    # first line: the lines after it that are no chat line are the rest of its text.
    inline: bool = False
    first: str = ""
    # The header writes its time in brackets: 买家(10:00:01), or any inline message.
    bracketed: bool = False


class TextExportReader:
    """Parse one decoded text export into raw records and rejects (see the module docstring)."""

    def __init__(
        self,
        decoded: Decoded,
        file: str,
        stem: str,
        day: date | None,
        tz: tzinfo,
        agent_nicks: frozenset[str] = frozenset(),
        customer_nicks: frozenset[str] = frozenset(),
    ) -> None:
        self.decoded = decoded
        self.file = file
        self.stem = stem
        # A clock-only time going back further than this is the next day's (limits.toml).
        limits = load_limits()
        self.rollover = limits.rollover
        self.out_of_turn = limits.out_of_turn
        self.followup = limits.rule_line_followup
        self.day = day
        self.tz = tz
        self.agent_nicks = agent_nicks
        self.customer_nicks = customer_nicks
        self.missing_day = False
        # Times written with seconds and without (买家(15:06) beside 阿木(15:07:30)): files.py warns.
        self.timed_to_second = 0
        self.timed_to_minute = 0
        # The header-like lines read as a buyer's text by the look ahead (files.py says which).
        self.folded: list[int] = []
        self._senders_by_line: list[tuple[str, str] | None] | None = None  # see _line_senders
        self._every_sender: Counter[str] | None = None  # see _file_senders
        self._every_time: Counter[str] | None = None  # see _nick_times
        self._header_nicks: frozenset[str] = frozenset()  # nicks heading a header line alone (_line_senders)
        self._headers_to_second = True  # the file's usual header has seconds, or it has none (_line_senders)
        self._every_shop: frozenset[str] | None = None  # see _file_shops
        self._segments: list[_Segment] = [_Segment(None)]
        self._block: _Block | None = None
        self._nicks: set[str] = set()  # header nicks seen so far in the file, bare (_bare_nick)
        self._file_said = _Segment(None)  # when each nick wrote, in the whole file (see _quoted)
        self._shops: set[str] = set()  # shops whose sub-accounts (店铺:客服) wrote in the file
        # A divider naming no conversation inside an open message and the lines after it,
        # until the next message says what they were (see _hold).
        self._held: list[tuple[int, str]] | None = None
        self._held_first = False  # the held lines began as the open message's first line
        self._at = 0  # the number of the line being read (a look ahead starts after it)

    def records(self) -> list[RawRecord | Reject]:
        """Every record of the file in line order, with conversation ids assigned."""
        for number, line in enumerate(self.decoded.lines, start=1):
            if self._held is None or not self._hold(number, line):
                self._line(number, line)
        if self._held is not None:
            self._release("separator")  # a footer after the last divider (共 2 条消息)
        self._close_block()
        return self._assign_ids()

    def _hold(self, number: int, line: str) -> bool:
        """Keep a line after a held divider; False when ``line`` settles what the held lines were.

        Agents format long replies with divider lines (售后须知 / ———— / 1. 七天无理由 …). The
        held lines are the open message's text when they end in text and the next message
        goes on with the conversation (:meth:`_goes_on`); a day line when they are date lines
        only and it goes on; otherwise (a new buyer, the shop, an earlier time, a named
        separator, the end of the file) a separator with whatever stands between (a title, a
        footer), as without holding. Taken for a separator, a formatting divider would split
        the conversation, cut the reply at it and reject the reply's last lines.
        """
        held = self._held
        assert held is not None
        self._at = number
        if not line.strip():
            return True
        sep = SEPARATOR_RE.match(line)
        garbled = number in self.decoded.garbled
        if sep and _divider_label(sep) is not None and not garbled:
            held.append((number, line))
            return True
        header = self._header(line)
        inline = INLINE_RE.match(line)
        if sep is not None or garbled or header is not None or inline is not None:
            found = header or inline
            labels = [_divider_label(m) for m in map(SEPARATOR_RE.match, (text for _, text in held)) if m]
            dated = any(label and _DAY_LABEL_RE.match(label) for label in labels)
            words = [
                w for _, text in held if (r := SEPARATOR_RE.match(text)) and (w := _rule_then_words(text, r))
            ]
            if sep is not None or garbled or found is None:
                goes_on = False
            elif words:
                goes_on = self._words_go_on(found, words, held)
            else:
                goes_on = self._goes_on(found, dated)
            # Held lines ending in a divider are a separator (a title or footer between two
            # dividers): a reply's own closing divider reads so too, as without holding.
            last = held[-1][1]
            ends_in_text = not (rule := SEPARATOR_RE.match(last)) or _rule_then_words(last, rule) is not None
            if goes_on and ends_in_text:
                self._release("text")
            elif goes_on and labels and all(label and _DAY_LABEL_RE.match(label) for label in labels):
                self._release("day")  # a date line inside a conversation going on another day
            else:
                self._release("separator")
            return False
        garbled_header = self._block is not None and self._garbled_header(line)
        if garbled_header or (
            self._block is not None and self._block.inline and self._no_text_after_inline(line)
        ):
            # 买家(O9:00:01): 爱买不买 after ***温馨提示 under an agent's inline message: a chat line
            # with no time to tell whether the chat went on, never the agent's text (audit 108 F3).
            # The held lines separate, as without holding, and the line is a reject.
            self._release("separator")
            return False
        held.append((number, line))
        return True

    def _words_go_on(self, found: re.Match[str], words: list[str], held: list[tuple[int, str]]) -> bool:
        """True when the conversation goes on after held lines that run on from a rule (***承诺：…).

        The next writer has written in the conversation and comes within
        ``rule_line_followup_seconds`` of the open message (a session's divider, ==== 售后咨询,
        before the buyer's next-morning question was read as text, and the night timed as the
        agent's reply, audit 108 F1): the buyer, an agent answering a buyer's message that was
        that line alone (=-= 好吧), or after a line of more than 40 characters (a pitch) the same
        writer. Never when a held rule line names a sender of the file from
        outside the conversation (==== 会话开始 客户：tb_海风 …).
        """
        block, groups = self._block, found.groupdict()
        who = _bare_nick((groups.get("who") or groups.get("who2") or "").strip())
        if block is None or who not in self._segment.writers or self._names_another_sender(held):
            return False
        times = self._open_and_next(block, groups)
        if times is None:
            return False
        then, now, _ = times
        if then is None or now is None or not timedelta(0) <= now - then <= self.followup:
            return False
        staff = self._is_agent(who) or who in self._shops or parse_role_word(who) is not None
        opened_by_staff = self._is_agent(block.who.strip()) or block.who.strip() in self._shops
        if who == _bare_nick(block.who.strip()):
            return not staff or "long" in words
        if staff:
            # An agent answers a buyer's message that was only the rule line (=-= 好吧): after the
            # buyer's own words, ==== 售后咨询 then the agent's 催付 to the next buyer is a divider,
            # and read as an answer it merged two buyers (audit 109 F1).
            return not opened_by_staff and self._held_first
        return True

    def _garbled_header(self, line: str) -> bool:
        """True for a block header whose clock is garbled (买家 2026-11-24 1O:00:4l) of a nick that may write.

        A role word, a nick that wrote or heads another line of the file, or a known shop's
        account: the other lines ending in such a time are text (audit 111 F1).
        """
        found = _GARBLED_HEADER_RE.match(line) if len(line) <= _LONGEST_HEADER else None
        # A letter where a digit goes, in the clock or in the date (买家 2O26-11-24 10:00:41); AM and
        # PM are no such letters.
        stamp = found and re.sub(r"\s?(?:AM|PM|am|pm)", "", found["ts1"] or found["ts2"])
        if found is None or not stamp:
            return False
        who = (found["who1"] or found["who2"]).strip()
        if _LETTER_FOR_DIGIT_RE.search(stamp):
            return self._sender_may_write(who)
        # Or full-width colons in the clock (tb_大橘 2026-11-24 10：00：41), which no header has, of a
        # nick that has written: as text, the buyer's 爱买不买 under it was the agent's (audit 118).
        # The agent's role word's (客服 2026-11-25 18：00 in a reply) is text, also where the headers'
        # senders are role words (audits 121 M3, 123 H2); the buyer's is her header: as text,
        # 买家 2026-11-24 10：01：10 put her 爱买不买 under it on the agent (line corpus F9).
        # Under the buyer's message the agent's role word's is its header (客服 2026-11-24 10：00：30
        # put the agent's 爱买不买 in her text, audit 132 H4), as the bracket form is (F8); so is a
        # nick's that may write though it has not yet (a shop's new sub-account).
        if "：" not in stamp:
            return False
        role = parse_role_word(_bare_nick(who))
        if role is not None:
            return role[0] is Role.CUSTOMER or not self._opened_by_agent()
        # Not "heads two lines": a label the reader folded as text heads one per paste (134 H4).
        return self._has_written(who) or self._may_write(_bare_nick(who))

    def _sender_may_write(self, who: str) -> bool:
        """True for the nick of a garbled chat line that is someone's.

        It may write, heads a header line alone somewhere in the file (a buyer whose only clean
        header comes later, audit 117 H1), or heads two chat lines: a label the reader itself read
        as text (截单时间(16:00)：当天发出 in a reply) heads one, and its later 截单时间 2026-11-25 16:3O
        cut the reply, the agent's 我也没办法 under it uncharged (audit 116 H2).
        """
        senders, nick = self._file_senders(), _bare_nick(who)  # reads the lines and the header nicks
        return self._may_write(nick) or nick in self._header_nicks or senders.get(nick, 0) >= 2

    def _garbled_chat_line(self, line: str, inline: bool = False) -> bool:
        """True for a chat line under a message that is no text of it (see _chat_line_reason)."""
        return self._chat_line_reason(line, inline) is not None

    def _chat_line_reason(self, line: str, inline: bool = False) -> str | None:
        """Why a line under a message is a chat line, not its text: cut, garbled, or without its colon.

        tb_大橘(1O:00:4l): 爱买不买 and 买家(15:00:1) are garbled; tb_a(10:01:10) 烦死了 lacks its colon.

        Under a block export's message it was the message's text: the buyer's words, charged to
        the agent (audit 116 H1). Of a nick that may write (under an inline message, any nick), a
        line cut before its bracket closes, a letter for a digit in it, or a chat line's colon
        after it: tb_大橘(10:00:4): 爱买不买 went to the agent once only a letter counted (audit 118
        H1). A range of hours is a label's (售后(9:00-21:00)都能处理, 客服(9:OO-18:00)在线, audit 117
        H5), unless a writer's garbled clock (tb_c(1O:00:55-08:00): …, audit 123 H4). A clean bracket
        and words after it, no colon, is text in a block export: a role word's hours (客服(18:00:00)
        前回复) or the agent quoting the buyer (tb_a(09:58)说的那句) were cut with the lines under them
        (audits 121 H1, 123 H2, H3). Under an inline message it is a buyer's line without its colon
        (tb_new(10:01) 烦死了, 买家(10:01) …: the agent was charged, audits 121 H2, 123 H1) unless
        a label's that never wrote (预计送达(11月25日 18:00), 客服(6:00pm)下班). ``None`` for text.
        """
        if len(line) > 4 * _LONGEST_HEADER or not _CUT_OR_GARBLED_RE.match(line):
            return None
        inside = _NICK_AND_BRACKET_RE.match(line)
        if inside is None:
            return None
        who, content, rest = inside[1], inside[2], line[inside.end() :]
        nick = _bare_nick(who)
        role = parse_role_word(nick)
        letter = _LETTER_FOR_DIGIT_RE.search(content) is not None
        if _HOURS_RANGE_RE.search(content) and not (letter and role is None and self._has_written(who)):
            return None
        if not (inline or self._sender_may_write(who)):
            return None
        if not rest.startswith((")", "）")) or letter:
            return _GARBLED_HEADER
        if _CHAT_COLON_RE.match(rest):
            return None if self._labels_time(who, content) else _GARBLED_HEADER
        # A clean bracket and words after it, no colon: a chat line of a sender of this file (one
        # that wrote, was given, or heads a chat line anywhere in it), else a label's (EMS(16:00)前
        # 揽收, whatever its script, audit 125 M2). In a block export only with a full stamp: the
        # agent quoting the buyer (tb_a(09:58)说的那句) is text, tb_a(10:01:10) 烦死了 the buyer's
        # words (audits 123 H3, 125 H5). Full as the file's headers write it: where they have no
        # seconds, tb_a(10:01) 烦死了 was the agent's text (line corpus F10). The buyer's role word
        # is a sender (买家(10:01) …).
        # (A line shaped as a header, SKU(10:00) alone, counts itself: another line must say so.)
        itself = 1 if _sender_time_and_shape(line) is not None else 0
        sender = role is None and (self._given(nick) or self._file_senders().get(nick, 0) > itself)
        if inline:
            chat_line = sender or (role is not None and role[0] is Role.CUSTOMER)
        else:
            self._line_senders()  # reads the headers' usual shape
            chat_line = sender and (_SECONDS_RE.search(content) is not None or not self._headers_to_second)
        return _COLONLESS_CHAT_LINE if chat_line and not self._quoted(nick, content) else None

    def _labels_time(self, who: str, content: str) -> bool:
        """True for a whole bracket before a colon that holds a label's time, not a chat line's garbled one.

        A day without its year and a clean clock (预计送达(11月25日 18:00)：请留意) of a nick that may
        not write: under an inline reply any nick's was a garbled chat line, and the agent's words
        were rejects (line corpus F6). Under the agent's message, its role word's hours with
        full-width colons (客服(18：00)：下班), as 客服 18：00：00 is (audits 121 M3, 123 H2): a reject,
        its 爱买不买 went uncharged (line corpus F8). Under a buyer's message such a line may be the
        agent's, its offence hidden in her text: a reject.
        """
        role = parse_role_word(_bare_nick(who))
        if role is not None and role[0] is not Role.CUSTOMER:
            if not self._opened_by_agent():
                return False
        elif self._sender_may_write(who):
            return False
        elif "：" in content and not self._opened_by_agent():
            return False
        # A clock typed with the Chinese colon (截单时间(16：00)：…, 直播(今晚)(20：00)：开播) is a label's
        # too, under the agent's message: a reject, it hid the agent's lines (audit 132 H5).
        return _LABELS_CLOCK_RE.fullmatch(content.strip().replace("：", ":")) is not None

    def _opened_by_agent(self) -> bool:
        """True when the open message is an agent's: a sub-account, an agent's nick or role word, the shop."""
        block = self._block
        if block is None:
            return False
        who = _bare_nick(block.who.strip())
        return self._is_agent(who) or who in self._file_shops()

    def _quoted(self, nick: str, clock: str) -> bool:
        """True when a bracket names the time of an earlier message of ``nick``: the agent quoting it.

        tb_a(09:58) 这句是您自己说的 in a 10:00:40 reply quotes the buyer's 09:58 line: cut as the buyer's
        line, the agent's 爱买不买 under it went uncharged. Asked of the file's own lines, not of the
        clock alone: 小鹿(10:00) under a 10:00:20 reply, or 小鹿(10:03) under a 10:05 reply of an export
        out of time order, was the buyer's line and was charged to the agent (audits 126 H1, 127
        H3); a quote across midnight or in a 12-hour file without its PM was the buyer's (127 H1).
        A clock without seconds names its minute; without am/pm, either half of the day. A bracket
        dated before the open message's day quotes yesterday's chat. Both messages are taken at their
        time in the conversation, across midnight too: 小鹿(23:58) under a reply at 00:00:40 of a file
        of bare clocks lay after the reply, and the agent's 爱买不买 under it went uncharged (line corpus
        F2).
        """
        block = self._block
        if block is None:
            return False
        try:
            then = self._placed(block.stamp)
            quoted = parse_timestamp(clock.strip(), self.tz, then.date()) if then else None
        except ValueError:
            return False
        if then is None or quoted is None:
            return False
        if DATETIME_RE.match(clock.strip()) is not None and quoted.date() < then.date():
            return True
        seconds = _SECONDS_RE.search(clock) is not None
        either = _AMPM_RE.search(clock) is None and not re.search(r"(?i)\b[ap]m\b", clock)
        # Done before the reply, its minute too when the bracket names only the minute: else it is
        # her new line of this minute.
        slack = timedelta(0) if seconds else timedelta(seconds=59)
        # A role word is every buyer of the file: only its conversation's lines count (audit 132
        # H3); a nick is one person, whose line of an earlier session or day she may be quoted
        # from (audit 134 H2).
        seg = self._segment if parse_role_word(nick) is not None else self._file_said
        for hour in {quoted.hour, (quoted.hour + 12) % 24} if either else {quoted.hour}:
            said = (
                seg.said_seconds.get((nick, hour, quoted.minute, quoted.second))
                if seconds
                else seg.said_minutes.get((nick, hour, quoted.minute))
            )
            if said is not None and said + slack < then:
                return True
        return False

    def _has_written(self, who: str) -> bool:
        """True for a nick that is a sender of this file: it wrote, was given, or heads a header line.

        Not a bare role word (客服, 售后): an agent's text names them in its lists of hours.
        """
        nick = _bare_nick(who)
        self._file_senders()  # reads the header nicks with the lines
        return self._given(nick) or nick in self._header_nicks

    def _given(self, nick: str) -> bool:
        """True for a nick that wrote in the file so far or was given (--agent-nick, --customer-nick)."""
        return nick in self._nicks or nick in self.agent_nicks or nick in self.customer_nicks

    def _no_text_after_inline(self, line: str) -> bool:
        """True for a line after an inline message that is none of its text: a chat line, a platform note."""
        return self._garbled_chat_line(line, inline=True) or _platform_note(line)

    def _open_and_next(
        self, block: _Block, groups: dict[str, str | None]
    ) -> tuple[datetime | None, datetime | None, str] | None:
        """The open message's time, the next line's time and its stamp as written; ``None`` if unreadable."""
        stamp = (groups.get("ts") or groups.get("ts1") or groups.get("ts2") or "").strip()
        try:
            then = parse_timestamp(block.stamp.strip(), self.tz, self.day or _ANY_DAY)
            now = parse_timestamp(stamp, self.tz, self.day or _ANY_DAY)
        except ValueError:
            return None
        return then, now, stamp

    def _goes_on(self, found: re.Match[str], dated: bool = False) -> bool:
        """True when a header or line after held lines continues the open conversation.

        Its writer is a buyer who has written in the conversation before (named by a nick, not
        a role word), and its time is not before the open message's (exports list a
        conversation in time order; a clock-only time further back than the rollover window is
        the next day's). A shop account after held text may open the next conversation (a
        title line, then the shop's 催付), and a new buyer is one: both separate.
        """
        block, groups = self._block, found.groupdict()
        who = _bare_nick((groups.get("who") or groups.get("who2") or "").strip())
        buyer = (
            who in self._segment.writers
            and not self._is_agent(who)
            and who not in self._shops  # the shop's main account writing under the shop's name
            and parse_role_word(who) is None
        )
        if block is None or not buyer:
            return False
        held = self._held or []
        if any(who in text for _, text in held):
            return False  # a title naming the buyer (与 tb_大橘 的聊天记录): the next session
        if dated:
            return True  # after a date line the next message is on that day, whatever its clock
        times = self._open_and_next(block, groups)
        if times is None:
            return False
        then, now, stamp = times
        if then is None or now is None or now >= then:
            return True
        clock_only = TIME_RE.match(stamp) is not None and TIME_RE.match(block.stamp.strip()) is not None
        return clock_only and now < then - self.rollover

    def _names_another_sender(self, held: list[tuple[int, str]]) -> bool:
        """True when a held line names a sender of the file who has not written in this conversation.

        ``=========== 会话开始  客户：tb_海风  接待客服：…`` is the next chat's header, however long.
        """
        senders, writers = self._file_senders(), self._segment.writers
        for _, text in held:
            if SEPARATOR_RE.match(text):  # not the message's own lines
                # Its words, one by one (客户：tb_海风 → 客户, tb_海风): a nick searched in every
                # line grew with the file's senders times the held lines (audit 108 F2).
                words = _WORD_RE.findall(text)  # 店:阿青 whole, and 客户:tb_海风 split at its colon
                words += [part for w in words if ":" in w for part in w.split(":")]
                # ----------买家:tb_海风----来源: a nick written against a run of dashes (audit 110 N4)
                words += [part.strip("-") for w in words if "--" in w for part in re.split(r"-{2,}", w)]
                if any(w in senders and w not in writers for w in words):
                    return True
        return False

    def _is_agent(self, who: str) -> bool:
        found = role_from_nick(who, self.agent_nicks, self.customer_nicks)
        return found is not None and found[0] is Role.AGENT

    def _release(self, held_as: str) -> None:
        """Settle the held lines: the open message's ``"text"``, a ``"day"`` line, or a ``"separator"``.

        A separator is read as without holding (a new conversation; a title or footer line
        after it a reject); a day line inside a conversation is dropped.
        """
        held, self._held = self._held or [], None
        if held_as == "text":
            assert self._block is not None
            self._block.body.extend(line for _, line in held)
        elif held_as == "separator":
            for number, line in held:
                self._line(number, line, hold=False)
        else:  # a day line: the clock-only times after it (not the open message's) are on its day
            self._close_block()
            self._set_day(self._segment, held[-1][1])

    @staticmethod
    def _set_day(seg: _Segment, line: str) -> None:
        sep = SEPARATOR_RE.match(line)
        found = _DAY_LABEL_RE.match(_divider_label(sep) or "") if sep else None
        if found is not None:
            TextExportReader._day_from(seg, found)

    @staticmethod
    def _day_from(seg: _Segment, found: re.Match[str]) -> None:
        """Date the segment's clock-only times from a day line's year, month and day (groups 1-3)."""
        try:
            seg.day = date(int(found[1]), int(found[2]), int(found[3]))
        except ValueError:
            return
        seg.day_shift, seg.last_clock = 0, None

    @property
    def _segment(self) -> _Segment:
        return self._segments[-1]

    def _line(self, number: int, line: str, hold: bool = True) -> None:
        self._at = number
        if number in self.decoded.garbled:
            if self._block is not None and self._block.inline:
                self._close_block()  # the garbled line may have been the next message's
            self._segment.items.append(
                make_reject(self.file, number, garbled_reason(self.decoded.encoding), line)
            )
            return
        if line.startswith("\ufeff"):  # the byte-order mark of a file joined on with cat
            line = line[1:]
        if not line.strip():
            return
        bare = line.strip(_DECORATION)
        if _MARKER_RE.fullmatch(bare):
            # 旺旺's 以上是历史消息 / 以下为新消息: the platform's, neither a message's text nor a
            # conversation's end.
            self._close_block()
            return
        if self._block is None and (dated := _DATE_LINE_RE.fullmatch(bare)) is not None:
            # Only between messages: inside an agent's reply (发货日期：2026-12-12) it is its text.
            self._close_block()
            self._day_from(self._segment, dated)
            return
        dated = _BARE_DAY_RE.fullmatch(bare) if self._block is None or self._block.inline else None
        if dated is not None and (self._block is None or (dated["weekday"] and self._later_day(dated))):
            # A day alone on its line between messages, or with its weekday (2026年11月25日 星期三)
            # under an inline message: the day of the times after it. It was a reject, and every
            # time of the file was left empty. A bare 2026-11-25 under a message is its text (a
            # buyer's "deliver by" date).
            self._close_block()
            self._day_from(self._segment, dated)
            return
        if (self._block is None or self._block.inline) and _TITLE_RE.fullmatch(bare):
            # The next buyer's chat in a log of several: two buyers were one conversation.
            self._close_block()
            day = self._segment.day
            self._segments.append(_Segment(None))
            self._segment.day = day
            return
        sep = SEPARATOR_RE.match(line)
        words = _rule_then_words(line, sep) if sep and self._block is not None else None
        if sep:
            block = self._block
            # Held, what comes next says whether it was the message's text: a divider naming no
            # conversation after text, or a short =-= 好吧 as a message's first line.
            if hold and _divider_label(sep) is not None and block is not None and (block.body or words):
                self._held = [(number, line)]
                # the rule line is the message's first line (an inline message's is on its header line)
                self._held_first = not block.body and not block.first
                return
            self._close_block()
            label = _LABEL_ID_RE.search(sep["label"].strip(" \t-=*─—#~"))
            label_id = label["id"].strip("-—─") if label else ""
            before = self._segment
            self._segments.append(_Segment(label_id if _is_conversation_id(label_id) else None))
            if not before.items and before.label_id is None:
                # ==== / 日期：2026-11-24 / ====: the rule under a title line keeps its day.
                self._segment.day = before.day
            self._set_day(self._segment, line)  # ===== 2026-11-25 ===== dates what follows
            return
        header = self._header(line)
        if header:
            self._close_block()
            who = (header["who"] or header["who2"]).strip()
            # Stored bare, as every look up asks: 森林杂货铺:阿青(售前) wrote, so 森林杂货铺:阿青(10:01:10)
            # 爱买不买 is a line of a sender of the file (line corpus F5).
            nick = _bare_nick(who)
            self._nicks.add(nick)
            self._segment.writers.add(nick)
            sub = split_subaccount(nick)
            if sub is not None:
                self._shops.add(sub[0])
            self._block = _Block(
                number, who, header["ts1"] or header["ts2"], line, bracketed=header["ts1"] is not None
            )
            return
        inline = INLINE_RE.match(line)
        if inline and self._inline_text(inline):
            # 截单时间(16:00)：当天发出 in the agent's list of rules: a line of the open message.
            assert self._block is not None
            self._block.body.append(line)
            return
        if inline:
            self._close_block()
            nick = _bare_nick(inline["who"].strip())
            self._segment.writers.add(nick)
            self._nicks.add(nick)
            first = inline["text"].strip()
            self._block = _Block(
                number, inline["who"], inline["ts"], line, inline=True, first=first, bracketed=True
            )
            return
        reason = _GARBLED_HEADER if self._garbled_header(line) else None
        if reason is None and self._block is not None:
            reason = self._chat_line_reason(line, inline=self._block.inline)
        if reason is not None:
            # 买家 2026-11-24 1O:00:4l under an agent's message: a header whose time is garbled. As the
            # agent's text, with the buyer's 爱买不买 under it, the agent was charged −5 (audit 109
            # P1); so was tb_大橘(1O:00:4l): 爱买不买 (audit 116 H1). The message ends; the line and
            # the lines under it, no one's, are rejects: under an inline message too, where the
            # buyer's next line was the agent's (audit 125 H6).
            self._close_block()
            self._segment.items.append(make_reject(self.file, number, reason, line))
            return
        if self._block is not None and not (self._block.inline and _platform_note(line)):
            self._block.body.append(line)
            return
        if self._block is None and (is_platform_notice(line.strip()) or is_recall_notice(line.strip())):
            # [系统消息] 会话开始 on its own line before the first message (or after a divider): the
            # platform's, untimed. It was a reject, "not a chat line" (audit 98 F7).
            self._message(number, "系统", "", line.strip(), line)
            return
        self._segment.items.append(
            make_reject(
                self.file,
                number,
                "not a chat line: expected 'who(time): text' or a 'nick YYYY-MM-DD HH:MM:SS' header",
                line,
            )
        )

    def _header(self, line: str) -> re.Match[str] | None:
        """The line as a block header, or ``None`` when it only looks like one.

        A line ending in a time reads like a header whatever comes before the time: a label
        (导出时间：2026-11-25 08:00:00, 会话时间：… - …) names no sender, and a line inside a
        message (an agent's 预计送达 2026-11-26 18:00, a buyer's new address ending in a date)
        is text. Taken for headers they made fake agents and buyers, cut the message and hid the
        real headers after them.
        """
        header = HEADER_RE.match(line)
        if header is None:
            return None
        who = (header["who"] or header["who2"] or "").strip()
        if who.endswith((":", "：")) or _DATE_IN_NICK_RE.search(who):
            return None  # a label and its value, not a nick
        return None if self._inside_message(header) else header

    def _may_write(self, who: str) -> bool:
        """True for a nick that may write: one that has, a role word, a nick given, a known shop's account."""
        nick = _bare_nick(who)
        if self._given(nick):
            return True
        if parse_role_word(nick) is not None:
            return True
        sub = split_subaccount(nick)
        return sub is not None and sub[0] in self._shops

    def _later_day(self, found: re.Match[str]) -> bool:
        """True when a day line is not before the day the open conversation has reached."""
        seg = self._segment
        known = seg.day or self.day
        if known is None:
            return True
        try:
            day = date(int(found[1]), int(found[2]), int(found[3]))
        except ValueError:
            return False
        return (day - known).days >= seg.day_shift

    def _inline_text(self, inline: re.Match[str]) -> bool:
        """True for an inline-looking line that is a line of the open message's text.

        A time range in brackets (周一至周五(9:00-18:00)：…) is never a message's time. Otherwise, as
        :meth:`_inside_message` tells for headers, its nick never wrote in the file and may not
        (no role word, no known shop's account), and the line reads as a line of a typed list.
        """
        block = self._block
        who = _bare_nick(inline["who"].strip())
        if block is None:
            return False
        stamp, opened = inline["ts"].strip(), block.stamp.strip()
        if _TIME_RANGE_RE.fullmatch(stamp):
            # 周一至周五(9:00-18:00)：全天在线, or 客服(9:00-18:00)：… in an agent's hours: a range is never a
            # message's time (its -18:00 read as an offset made 周一至周五 a buyer and cut the reply).
            return True
        if who in self._nicks or self._may_write(who):  # _nicks: every writer so far
            return False
        # Only a list an agent types (截单时间(16:00)：当天发出, 到货时间(2026-11-25 18:00)：…): a label of
        # Chinese characters only and a time to the minute, where the messages write seconds.
        # Anything weaker opens a message: a new buyer whose time an export wrote another way was
        # swallowed, and their 爱买不买 charged to the agent. A dated label was a buyer on the 25th,
        # the rest of the chat a day later (line corpus F7).
        if _LABEL_RE.fullmatch(who) is None or _SECONDS_RE.search(stamp) is not None:
            return False
        # Where the messages too are written to the minute, only the chat's order tells: the
        # conversation goes on around the line at a time it cannot have. Every label of such a
        # file was a buyer, the chat after it a day later (line corpus F1).
        # Never a nick writing at two times of the file: a buyer listed out of turn who writes again
        # was folded into the reply, and her 爱买不买 charged to the agent (audit 132 H2). A label
        # pasted in two replies repeats its own time, and stays the agent's (audit 134 H1).
        if _SECONDS_RE.search(opened) is not None:
            return True
        # The next delivery label of a list whose line above was folded (揽收时间(15:30) under
        # 截单时间(17:00)) is the list's even in turn by its time: read alone, it was a buyer of its
        # own (audit 138 w2). It folds under any folded line, however often the file lists it
        # (截单时间 under 顺丰, again in another chat's list: 142 H2, 145 H2).
        under_fold = bool(self.folded) and self.folded[-1] == self._at - 1
        delivery = _LOGISTICS_LABEL_RE.fullmatch(who) is not None
        if under_fold and delivery:
            self.folded.append(self._at)
            return True
        # A delivery label listed in two chats with two times is the shop's list, no buyer (146 H1).
        if self._nick_times().get(who, 0) >= 2 and not delivery:
            return False
        # A promotion's next label under its folded one is the list's; any other label under a
        # folded line must lie out of turn too: a buyer whose nick reads as one (快乐时间, 爱下单)
        # writing in turn under a folded list was folded into the reply, and her 爱买不买 charged to
        # the agent (audit 148 H2).
        promotion = _PROMOTION_LABEL_RE.fullmatch(who) is not None
        listed = under_fold and promotion and _time_label(self._nick_at(self._at - 1))
        if not listed and not self._out_of_turn(stamp, opened):
            return False
        self.folded.append(self._at)  # said in the file's fold warning (audit 134 M1)
        return True

    def _out_of_turn(self, stamp: str, opened: str) -> bool:
        """True when the conversation goes on right past a line whose time lies hours after it.

        The next sender's line is a writer's of this conversation, follows the open message and
        lies more than the rollover window before the line: 截单时间(16:00) in a 10:01 reply, then
        the buyer's 好 at 10:02. A sender listed hours out of order comes before another chat's
        lines, a new buyer's (an export sorted by buyer, audit 100 N1), and stays a sender. A
        clock-only time is read on the day of the others; with no day known, only times written alike.
        """
        found = self._next_sender()
        # The shop's side writing next counts too, a colleague who has not written yet (a transfer to
        # 售后): the list was left a buyer of its own, the colleague timed to it (audit 142 H3).
        # Only under a label: another chat's agent follows a buyer listed out of turn in a file of
        # several chats sorted by buyer, and that buyer was folded into the reply above.
        if found is None or (
            found[0] not in self._segment.writers
            and not (self._shop_side(found[0]) and self._list_at(self._at))
        ):
            return False
        stamps = (opened.strip(), found[1].strip(), stamp.strip())
        dated = [DATETIME_RE.match(s) is not None for s in stamps]
        day = self._segment.day or self.day
        if day is None and len(set(dated)) != 1:
            return False  # with no day known, only times written alike compare
        try:
            first, nxt, suspect = (parse_timestamp(s, self.tz, day or _ANY_DAY) for s in stamps)
        except ValueError:
            return False
        if first is None or nxt is None or suspect is None:
            return False
        # A clock-only time lies in the day that starts the rollover window before the open message:
        # a reply at 23:50, the buyer's 00:01 after it (audit 132 H6); a reply at 00:05, a line of
        # 23:58 listed out of order just before it (audit 134 H3). So a label in an evening reply
        # naming today's 16:00 reads as tomorrow's, hours away, and is one, as at noon.
        late, one = first - self.rollover, timedelta(days=1)

        def placed(t: datetime, written_dated: bool) -> datetime:
            return t if written_dated else t + one if t < late else t - one if t >= late + one else t

        nxt, suspect = placed(nxt, dated[1]), placed(suspect, dated[2])
        if not first <= nxt < suspect - self.rollover:
            return False
        # A nick that never wrote, in time order between the message and that line, is a new buyer's
        # chat: the line is a sender listed out of order before it (sorted by buyer, audit 135 H2).
        # Under a time label, not the list's next label (揽收时间(15:30) under 截单时间(17:00), audit
        # 137 R3, 138 H2), and not while the conversation has no buyer yet: a chat the agent opens
        # (催付) is answered by its own first buyer (138 H3). A line of another nick is judged by
        # the walk whatever: 小芳(15:00) over another buyer's line (140 H2).
        label = _time_label(self._nick_at(self._at))
        if label and not self._has_buyer():
            return True
        lines, senders = self.decoded.lines, self._line_senders()
        for number in range(self._at + 1, len(lines) + 1):
            other = senders[number - 1]
            if other is None:
                continue
            if other == found:
                break
            nick = _bare_nick(other[0].strip())
            if (label and _time_label(nick)) or (_LOGISTICS_LABEL_RE.fullmatch(nick) is not None):
                continue  # the list's next label (140 H1, 142 H2)
            written_dated = DATETIME_RE.match(other[1].strip()) is not None
            if day is None and written_dated != dated[0]:
                return False  # with no day known it cannot be placed: the safe side (audit 137 R4)
            try:
                t = parse_timestamp(other[1], self.tz, day or _ANY_DAY)
            except ValueError:
                continue
            if t is not None and first <= placed(t, written_dated) <= nxt:
                return False
        return True

    def _list_at(self, number: int) -> bool:
        """Whether line ``number`` reads as a typed list's: a time label, or right over a delivery label.

        顺丰(17:00) then 截单时间(18:00): the courier's line is the list's too (audit 146 H2). Not
        over any nick that merely reads as a time label: a buyer named 快乐时间 made the out-of-turn
        buyer above her a list line, folded into the reply (audit 148 H1).
        """
        below = self._nick_at(number + 1)
        return _time_label(self._nick_at(number)) or _LOGISTICS_LABEL_RE.fullmatch(below) is not None

    def _shop_side(self, who: str) -> bool:
        """Whether a nick writes for the shop: an agent, or an account of a shop of the file."""
        sub = split_subaccount(_bare_nick(who))
        return self._is_agent(who) or (sub is not None and sub[0] in self._file_shops())

    def _has_buyer(self) -> bool:
        """Whether a buyer (no agent, no shop's account, no 系统) has written in the open conversation yet."""
        shops = self._file_shops()
        return any(
            not self._is_agent(w) and w not in shops and not _system_word(w) for w in self._segment.writers
        )

    def _nick_at(self, number: int) -> str:
        """The bare nick heading line ``number`` (from 1) as a sender line, ``""`` for none."""
        senders = self._line_senders()
        found = senders[number - 1] if 1 <= number <= len(senders) else None
        return _bare_nick(found[0].strip()) if found is not None else ""

    def _inside_message(self, header: re.Match[str]) -> bool:
        """True for a header-like line that is a line of the open message's text.

        Its nick was never a sender in the file, and either its time is written in another shape
        than the open message's header (an export writes every header one way; a person pastes
        预计送达 2026-11-26 18:00 without seconds), or it lies before the message it would
        interrupt (付款时间 2026-11-24 09:12:33: an export lists messages in time order), or the
        next writer's line lies between the two (:meth:`_answered_before`).
        """
        block = self._block
        who = _bare_nick((header["who"] or header["who2"] or "").strip())
        if block is None or who in self._nicks:
            return False
        stamp = (header["ts1"] or header["ts2"] or "").strip()
        if _stamp_shape(stamp) != _stamp_shape(block.stamp.strip()) and not self._may_write(who):
            return True
        if (header["ts1"] is not None) != block.bracketed and self._pasted_in_the_other_style(
            who, stamp, block.stamp.strip()
        ):
            return True
        # Only inside a buyer's message: folded into an agent's, a buyer listed hours out of order
        # (an export sorted by buyer) had her 爱买不买 charged to the agent (audit 100 N1).
        if (
            not self._may_write(who)
            and not self._is_agent(block.who)
            and block.who not in self._file_shops()  # the main account writing under the shop's name
            and self._file_senders().get(who, 0) < 2  # a nick heading two lines is a sender
            and self._answered_before(stamp, block.stamp.strip())
        ):
            self.folded.append(self._at)
            return True
        if not block.body or not (DATETIME_RE.match(stamp) and DATETIME_RE.match(block.stamp.strip())):
            return False
        try:
            return parse_timestamp(stamp, self.tz) < parse_timestamp(block.stamp.strip(), self.tz)  # type: ignore[operator]
        except ValueError:
            return False

    def _pasted_in_the_other_style(self, who: str, stamp: str, opened: str) -> bool:
        """True for a line in the other header style than the open message's that is its text.

        客服小王 10:01:02 pasted into a reply of an inline export (小雨(08:00:30): …) was a buyer,
        the rest of the chat a day later, and the agent charged a 22-hour reply (audit 103 F2).
        It is text, even in an agent's message, when its nick never wrote, may not, heads no
        other line of the file, and the next sender's line goes back from it by more than the
        rollover window (:meth:`_answered_before`). The other style alone is no evidence: in a
        file that mixes the styles, a new buyer in time order was swallowed and her 爱买不买
        charged to the agent (audits 105 F2, 106 F2, F6). Such folds are said in a warning.
        """
        if (
            self._may_write(who)
            or self._file_senders().get(who, 0) >= 2
            or not self._answered_before(stamp, opened)
        ):
            return False
        self.folded.append(self._at)
        return True

    def _line_senders(self) -> list[tuple[str, str] | None]:
        """Each line's nick and time as a header or inline line (:func:`_sender_time_and_shape`), by index.

        Read once, when the look ahead first asks: it and :meth:`_file_senders` read them from here.
        """
        if self._senders_by_line is None:
            shaped = [_sender_time_and_shape(line) for line in self.decoded.lines]
            self._senders_by_line = [f[:2] if f is not None else None for f in shaped]
            # Only a header written as the file's headers are: an agent's 预计送达 2026-11-25 18:00 in a
            # reply (no seconds, where the headers have them) made 预计送达 a sender, and its typo
            # later cut the reply, the 爱买不买 under it uncharged (audit 118 H2).
            alone = [(f[0], _stamp_shape(f[1])) for f in shaped if f is not None and f[2]]
            usual = Counter(shape for _, shape in alone).most_common(1)
            self._header_nicks = frozenset(who for who, shape in alone if usual and shape == usual[0][0])
            self._headers_to_second = not usual or usual[0][0][1]
        return self._senders_by_line

    def _nick_times(self) -> Counter[str]:
        """How many distinct lines each nick heads in the whole file, by time and words (a label's repeat)."""
        if self._every_time is None:
            # Keyed by the line's words too: a buyer's two lines of one minute are two (audit 135 H1);
            # a label pasted twice repeats its time and its words.
            lines, seen = self.decoded.lines, set()
            for k, f in enumerate(self._line_senders()):
                if f is None:
                    continue
                shaped = _sender_time_and_shape(lines[k])
                words = lines[k + 1].strip() if shaped and shaped[2] and k + 1 < len(lines) else ""
                seen.add((f[0], lines[k].strip(), words))
            self._every_time = Counter(nick for nick, _, _ in seen)
        return self._every_time

    def _file_senders(self) -> Counter[str]:
        """How many lines of the file each nick heads as a sender.

        A pasted 预计送达 18:30:00 heads one line; a sender (a shop account whose first reply is
        listed hours late) heads more, and is never folded into a buyer's message (audit 101 A1).
        """
        if self._every_sender is None:
            self._every_sender = Counter(f[0] for f in self._line_senders() if f is not None)
        return self._every_sender

    def _file_shops(self) -> frozenset[str]:
        """Every shop whose sub-account (店铺:客服) heads a line anywhere in the file.

        The main account writes under the shop's bare name, perhaps before any sub-account has:
        a buyer listed hours out of order was folded into its message and charged to it (audit 101
        A1, 102 B1). Only guards the look ahead: a buyer's pasted 快递:中通 18:30:00 names no shop
        that may write (audit 102 B2).
        """
        if self._every_shop is None:
            self._every_shop = frozenset(
                sub[0] for nick in self._file_senders() if (sub := split_subaccount(nick)) is not None
            )
        return self._every_shop

    def _answered_before(self, stamp: str, opened: str) -> bool:
        """True when the next line of a writer comes between the open message and a would-be header.

        ``买家小林 10:00:01`` / ``预计送达 18:30:00`` / ``柚子店:阿青 10:00:30``: read as a
        header, 预计送达 was a second buyer at 18:30, the reply after it went on into the next
        day and its wait of a day fed the average response time (audit 95 E1). An export lists
        messages in time order, so a header whose time the next real sender's line goes back
        from, while that line still follows the open message, is a line of the message's text.
        The next sender is a nick that may write or a shop's account (店铺:客服): another line of
        a nick that never wrote may be pasted text too. Both times are read alike: both with a
        date, or both clock-only on one day.
        """
        found = self._next_sender()
        return found is not None and self._between(opened, found[1], stamp)

    def _next_sender(self) -> tuple[str, str] | None:
        """The next line after the one being read of a nick that may write or a shop's account: nick and time.

        ``None`` at a divider (the conversation ends) or past a few lines of nicks that never wrote.
        """
        unknown, lines, senders = 0, self.decoded.lines, self._line_senders()
        for number in range(self._at + 1, len(lines) + 1):
            line = lines[number - 1]
            if number in self.decoded.garbled or (
                (sep := SEPARATOR_RE.match(line)) and _rule_then_words(line, sep) is None
            ):
                return None  # a divider: the conversation ends (=-= 是不是太慢了 is text, audit 105 F3)
            found = senders[number - 1]
            if found is None:
                continue
            if not (self._may_write(found[0]) or split_subaccount(found[0]) is not None):
                unknown += 1
                if unknown >= _LOOKAHEAD_UNKNOWN:
                    return None
                continue
            return found
        return None

    def _between(self, opened: str, then: str, stamp: str) -> bool:
        """True when ``opened`` <= ``then`` and ``then`` lies more than the rollover window before ``stamp``.

        All three written alike (dated or clock-only).
        """
        dated = [DATETIME_RE.match(s) is not None for s in (opened, then, stamp)]
        if len(set(dated)) != 1:
            return False
        day = self._segment.day or self.day or _ANY_DAY
        try:
            times = [parse_timestamp(s, self.tz, day) for s in (opened, then, stamp)]
        except ValueError:
            return False
        if None in times:
            return False
        first, nxt, suspect = times
        # Only a jump no reordering explains: exports slightly out of order (a reply listed a few
        # seconds before the line it follows) folded a real second sender into the message and
        # charged the agent with the buyer's words (audit 99 F1). Further back than the rollover
        # window, a clock-only time would be the next day's; here it still follows the message.
        return first <= nxt and nxt < suspect - self.rollover  # type: ignore[operator]

    def _close_block(self) -> None:
        block, self._block = self._block, None
        if block is None:
            return
        if block.inline:
            # The platform's lines at its end (【系统提示】买家已离开会话, a recall) are its messages
            # at that time, not more of this one's text: they hid a bare 哦 from the rules.
            body, notices = list(block.body), list[str]()
            while body and (is_platform_notice(body[-1].strip()) or is_recall_notice(body[-1].strip())):
                notices.insert(0, body.pop())
            text = "\n".join([block.first] * bool(block.first) + [b.strip() for b in body])
            self._message(block.line, block.who, block.stamp, text, "\n".join([block.header, *body]))
            for at, notice in enumerate(notices, start=block.line + 1 + len(body)):
                self._message(at, "系统", block.stamp, notice.strip(), notice)
            return
        if not block.body:
            self._segment.items.append(
                make_reject(
                    self.file, block.line, "header without message text; truncated export?", block.header
                )
            )
            return
        text = "\n".join(b.strip() for b in block.body)
        self._message(block.line, block.who, block.stamp, text, "\n".join([block.header, *block.body]))

    def _when(self, stamp: str) -> tuple[datetime | None, datetime | None]:
        """A message's time as stored, and where it lies in the conversation (:meth:`_placed`).

        The clock goes on from message to message: a clock-only time far back is the next day's.
        Without a day the stored time is ``None``, but the clock still goes on, for quotes.
        """
        stamp = stamp.strip()
        if DATETIME_RE.match(stamp):
            at = parse_timestamp(stamp, self.tz)
            self._tally(stamp)  # only a time that parsed: a rejected 25:00:00 counts nowhere (audit 138 M1)
            if at is not None:
                # 买家(2026-11-24 23:59:50) then 买家(00:00:30): the clock-only times go on from
                # the dated one's day and roll over from its clock.
                seg, local = self._segment, at.astimezone(self.tz) if at.tzinfo else at
                before = None if seg.last_clock is None else seg.last_clock + timedelta(days=seg.day_shift)
                seg.day, seg.day_shift, seg.last_clock = local.date(), 0, local
                # A dated line that crosses midnight arms the out-of-turn rule as a clock-only one
                # does (小鹿(2026-11-25 00:05) after 23:57, then 23:58, audit 140 M2): the line before
                # it, on the new line's day.
                if before is not None and local.date() == before.date() + timedelta(days=1):
                    seg.pre_roll = before + timedelta(days=1)
                elif before != local:
                    seg.pre_roll = None
            return at, at
        if not TIME_RE.match(stamp):
            if stamp:
                # 2026-11-2410:00:41, a date run into its clock: the header's shape takes it, no
                # timestamp form does; the message was kept with no time, unsaid (audit 113 L3).
                self._tally(stamp)
                raise ValueError(
                    f"time {stamp!r} not understood: write the date and the time apart (2026-11-24 10:00:41)"
                )
            return None, None
        seg = self._segment
        day = seg.day or self.day
        # Without a day the clock still goes on (on any day) for _placed: a quote across midnight.
        clock = parse_timestamp(stamp, self.tz, day or _ANY_DAY)
        self._tally(stamp)
        if day is None:
            self.missing_day = True
        if clock is None:
            return None, None
        if self._before_roll(clock):
            placed = clock + timedelta(days=seg.day_shift - 1)
            return (None if day is None else placed), placed
        if seg.last_clock is not None and clock < seg.last_clock - self.rollover:
            seg.day_shift += 1
            seg.pre_roll = seg.last_clock
        elif clock != seg.last_clock:
            # Only lines right after the crossing: once the chat goes on, 23:58 is the next night's
            # (a buyer back the next evening was put on the night before, audit 140 M1). A line at
            # the crossing line's own time (a notice of it, a second bubble) goes on nothing (142 H1).
            seg.pre_roll = None
        seg.last_clock = clock
        placed = clock + timedelta(days=seg.day_shift)
        return (None if day is None else placed), placed

    def _tally(self, stamp: str) -> None:
        """Count a message's time as written to the second or to the minute (the file's mix is warned)."""
        if _SECONDS_RE.search(stamp):
            self.timed_to_second += 1
        else:
            self.timed_to_minute += 1

    def _before_roll(self, clock: datetime) -> bool:
        """True for a clock-only time listed a few minutes out of turn just after the chat crossed midnight.

        23:57, 00:05, then 23:58: the 23:58 lies minutes before the line that crossed midnight and
        not before the line ahead of it, so it is the night before (audit 135 H4, 138 M2), and the
        clock is not moved. A time before that line (23:20 the next evening, audit 137 R1) or further
        back than ``clock_out_of_turn_minutes`` (a wide rollover window, 137 R2) goes on as before.
        """
        seg = self._segment
        if seg.last_clock is None or seg.pre_roll is None:
            return False
        window = min(self.rollover, self.out_of_turn)
        return clock >= seg.last_clock + timedelta(days=1) - window and clock >= seg.pre_roll

    def _placed(self, stamp: str) -> datetime | None:
        """Where a message's time lies in the open conversation, as :meth:`_when` will take it; saves nothing.

        A clock-only time is on the conversation's day (any day when the file has none), a day
        later for each roll-over so far and one more when it goes back past the rollover window
        from the last message. ``None`` for no time; ``ValueError`` for one not understood.
        """
        stamp = stamp.strip()
        if DATETIME_RE.match(stamp):
            return parse_timestamp(stamp, self.tz)
        if not TIME_RE.match(stamp):
            return None
        seg = self._segment
        clock = parse_timestamp(stamp, self.tz, seg.day or self.day or _ANY_DAY)
        if clock is None:
            return None
        if self._before_roll(clock):
            return clock + timedelta(days=seg.day_shift - 1)
        back = seg.last_clock is not None and clock < seg.last_clock - self.rollover
        return clock + timedelta(days=seg.day_shift + int(back))

    def _message(self, number: int, who: str, stamp: str, text: str, raw: str) -> None:
        who = who.strip()
        if len(who) > 2 and who[0] in "【[" and who[-1] in "】]":
            # 【柚子优选旗舰店:小雨】 is 柚子优选旗舰店:小雨, not another agent of a shop 【柚子优选旗舰店.
            who = who[1:-1].strip()
        noted = _NICK_NOTE_RE.match(who)
        note_auto = False
        if noted and parse_role_word(noted["nick"]) is None:
            # 森林杂货铺:阿青(售前) is the agent 森林杂货铺:阿青; (自动回复) marks an auto-reply.
            who, note_auto = noted["nick"].strip(), "自动回复" in noted["note"]
        try:
            when, placed = self._when(stamp)
        except ValueError as bad:
            said = str(bad) if str(bad).startswith("time ") else "time out of range"
            self._segment.items.append(make_reject(self.file, number, said, raw))
            return
        found = role_from_nick(who, self.agent_nicks, self.customer_nicks)
        is_word = parse_role_word(who) is not None
        role: Role | None = None
        said = text.strip()
        auto = note_auto or said.startswith(AUTO_MARKS) or said.endswith(AUTO_MARKS)
        if found is not None:
            role, auto_word = found
            auto = auto or auto_word
            if role is Role.AGENT and not is_word:
                self._segment.agent_known = True
        # The same line twice in one conversation of one export is a double send (an export
        # never repeats a line); its n-th copy in another file's copy of the conversation is
        # the same send, so only copies after the first carry their number into the key.
        if placed is not None:
            nick = _bare_nick(who)
            for seg in (self._segment, self._file_said):
                minute = (nick, placed.hour, placed.minute)
                if minute not in seg.said_minutes or placed < seg.said_minutes[minute]:
                    seg.said_minutes[minute] = placed
                second = (*minute, placed.second)
                if second not in seg.said_seconds or placed < seg.said_seconds[second]:
                    seg.said_seconds[second] = placed
        seen = self._segment.copies
        copy = seen[(who, stamp, text)] = seen.get((who, stamp, text), -1) + 1
        self._segment.items.append(
            RawRecord(
                file=self.file,
                line=number,
                raw=raw,
                role=role,
                sender=None if is_word else who,
                timestamp=when,
                text=text,
                auto_reply=auto,
                dedupe=("copy", copy) if copy else None,
            )
        )

    def _assign_ids(self) -> list[RawRecord | Reject]:
        # The shop's main account writes under the shop's own name (森林杂货铺, beside its
        # sub-accounts 森林杂货铺:阿青): an agent, not the buyer.
        shops = {
            sub[0]
            for seg in self._segments
            for i in seg.items
            if isinstance(i, RawRecord)
            and i.role is Role.AGENT
            and isinstance(i.sender, str)
            and (sub := split_subaccount(i.sender)) is not None
        }
        for seg in self._segments:
            if seg.items and not any(self._speaks(i, seg, shops) for i in seg.items):
                # A platform line after a divider with no buyer or agent beside it (对方撤回了一条消息,
                # then a row whose role nobody tells) made a conversation of its own with nothing in
                # it (audit 99 F8, 100 N4): a reject, as before it was read as the platform's.
                seg.items = [
                    make_reject(self.file, i.line, _LONE_PLATFORM_LINE, i.raw)
                    if isinstance(i, RawRecord) and i.role is Role.SYSTEM
                    else i
                    for i in seg.items
                ]
        used = [s for s in self._segments if any(isinstance(i, RawRecord) for i in s.items)]
        single = len(used) == 1 and used[0].label_id is None
        out: list[RawRecord | Reject] = []
        for k, seg in enumerate(used, start=1):
            cid = seg.label_id or (self.stem if single else f"{self.stem}#{k}")
            for item in seg.items:
                if isinstance(item, RawRecord):
                    item.conversation_id = cid
                    if item.role is None and isinstance(item.sender, str) and item.sender.strip() in shops:
                        item.role = Role.AGENT
                    elif item.role is None and seg.agent_known:
                        item.role = Role.CUSTOMER
        for seg in self._segments:
            out.extend(seg.items)
        out.sort(key=lambda i: i.line)
        return out

    @staticmethod
    def _speaks(item: RawRecord | Reject, seg: _Segment, shops: set[str]) -> bool:
        """True for a record that is (or will be read as) a buyer's or an agent's message."""
        if isinstance(item, Reject) or item.role is Role.SYSTEM:
            return False
        if item.role is not None:
            return True
        return seg.agent_known or (isinstance(item.sender, str) and item.sender.strip() in shops)
