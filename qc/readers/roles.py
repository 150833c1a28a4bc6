"""Role words and nicks: who sent a message."""

from __future__ import annotations

import re
from functools import lru_cache

from qc.schema import Role
from qc.text.invisible import INVISIBLE_TABLE

# Role words exports use, folded to lower case. "auto" words mark an agent auto-reply.
_ROLE_WORDS: dict[str, tuple[Role, bool]] = {}
for _words, _role, _auto in (
    (
        ("customer", "buyer", "client", "user", "买家", "顾客", "客户", "用户", "消费者", "买方"),
        Role.CUSTOMER,
        False,
    ),
    (
        ("agent", "seller", "staff", "service", "cs", "客服", "商家", "卖家", "店家", "售前", "售后", "卖方"),
        Role.AGENT,
        False,
    ),
    (
        ("system", "sys", "platform", "系统", "系统消息", "系统提示", "系统通知", "平台", "平台消息"),
        Role.SYSTEM,
        False,
    ),
    # 店小蜜 and 阿里小蜜 are Taobao's service bots: auto-replies on the shop's side.
    (("auto", "autoreply", "bot", "robot", "自动回复", "机器人", "店小蜜", "阿里小蜜"), Role.AGENT, True),
):
    for _w in _words:
        _ROLE_WORDS[_w] = (_role, _auto)


@lru_cache(maxsize=1024)  # a file names its roles with a handful of words, once per record
def parse_role_word(value: str) -> tuple[Role, bool] | None:
    """The role (and whether it marks an auto-reply) a role word names, else ``None``."""
    # Most values are a key already (every key is in folded form): one lookup, no folding.
    found = _ROLE_WORDS.get(value)
    if found is not None:
        return found
    # Brackets some exports put around a role word: 【系统消息】, [系统提示], (系统).
    bare = value.translate(_INVISIBLE).strip().strip("【】[]()（）")
    return _ROLE_WORDS.get(bare.lower().replace("_", "").replace(" ", ""))


# Characters that show nothing (zero-width space, joiners, direction marks, a byte-order mark a
# pasted cell kept): 小雨 with one inside is still 小雨, not a second agent who answered nobody.
_INVISIBLE = INVISIBLE_TABLE


# Full-width ASCII (！ … ～) to ASCII, the ideographic space to a space, and the other colons
# exports use to the ASCII colon: 柚子优选旗舰店：小雨 and 柚子优选旗舰店:小雨 are one agent.
_FOLD: dict[int, int | None] = (
    {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)} | {0x3000: 0x20, 0xFE30: 0x3A, 0xFE55: 0x3A} | _INVISIBLE
)


@lru_cache(maxsize=4096)  # a day has a few hundred distinct agent ids, each seen many times
def fold_agent_id(value: str) -> str:
    """One spelling per agent: full-width to half-width, no whitespace or invisible characters, lower case.

    Exports and people write the same account as ``柚子优选旗舰店：小雨``, ``柚子优选旗舰店 : 小雨``
    or ``Shop:XiaoYu`` / ``shop:xiaoyu``; all of them fold to one id, so one agent is never
    scored twice. Only the ASCII letters change case; Chinese is unchanged.
    """
    return "".join(value.translate(_FOLD).split()).lower()


def shop_account(nick: str, shop: str) -> str:
    """The account id of an agent nick in a conversation of ``shop``: ``店铺名:nick``, as 千牛 writes it.

    A bare nick (小二) names an agent only within its shop: 千牛's sub-accounts are per shop,
    and two shops' 小二 are two people, whose numbers and deductions must not meet in one row.
    A nick that names its shop already, and the shop's main account (its own name), stay.
    Both parts are folded as :func:`fold_agent_id` folds every agent id.
    """
    if ":" in nick:
        return nick
    owner = fold_agent_id(shop)
    if not owner or nick == owner:
        return nick
    return f"{owner}:{nick}"


def split_subaccount(nick: str) -> tuple[str, str] | None:
    """``店铺名:客服名`` (ASCII or full-width colon) → (shop, agent); ``None`` for plain nicks.

    A name with no letter, digit or Chinese character is none: ``Amy:)`` is a buyer smiling,
    not the agent ``)`` of a shop ``amy``.
    """
    for colon in (":", "："):
        shop, sep, name = nick.partition(colon)
        if sep and shop.strip() and any(ch.isalnum() for ch in name):
            return shop.strip(), name.strip()
    return None


@lru_cache(maxsize=4096)  # a day has a few hundred senders, each asked for every message they send
def role_from_nick(
    nick: str, agent_nicks: frozenset[str], customer_nicks: frozenset[str]
) -> tuple[Role, bool] | None:
    """Role of a sender nick: configured lists first, then role words, then the sub-account form."""
    nick = nick.strip()
    if nick in agent_nicks:
        return Role.AGENT, False
    if nick in customer_nicks:
        return Role.CUSTOMER, False
    word = parse_role_word(nick)
    if word is not None:
        return word
    sub = split_subaccount(nick)
    if sub is not None:
        # 暖阳小铺:店小蜜 is the shop's bot as 店小蜜 is (an auto-reply), not an agent timed at 1 s
        # whose colleague's 150 s reply then went untimed; a sub-account is never a buyer.
        inner = parse_role_word(sub[1])
        return inner if inner is not None and inner[0] is not Role.CUSTOMER else (Role.AGENT, False)
    return None


# What platforms put in the agent's column that no agent typed: JD's notices (系统提示：客服MM还没有
# 等到您的回复…) and its emoticon-only bubbles (#E-s33). The corpus notes and the annotation guide
# both read them as the platform's: they neither answer a buyer nor split a buyer's turn.
# The notice's word may be 系统提示, 系统消息 or 系统通知, after a colon or in brackets (【系统提示】,
# [系统消息]), as the role words are written.
_PLATFORM_NOTICE = re.compile(
    r"\s*(?:系统(?:提示|消息|通知)\s*[:：]|[\[【(（]\s*系统(?:提示|消息|通知)\s*[\]】)）]|(?:#E-[A-Za-z0-9]+\s*)+$)"
)


# What a platform writes where a message was taken back: [撤回了一条消息], 对方撤回了一条消息,
# 暖阳小铺:阿蓝 撤回了一条消息. It asks nothing and answers nothing.
_RECALL = re.compile(
    r"\s*[\[【(（]?\s*(?:对方|你|您|[^\s\[\]【】()（）]{1,40}\s+)?撤回了一条消息\s*[\]】)）]?\s*$"
)


def is_recall_notice(text: str) -> bool:
    """True for a platform's line saying a message was taken back (撤回了一条消息), in any column."""
    return "撤回" in text and _RECALL.match(text) is not None  # the word first: every message asks


_EMOTICON_CODES = re.compile(r"\s*(?:#E-[A-Za-z0-9]+\s*)+$")


def is_emoticon_code(text: str) -> bool:
    """True for emoticon codes alone (#E-s33): the platform's in the agent's column, a buyer's in theirs."""
    return "#E-" in text and _EMOTICON_CODES.match(text) is not None


def is_platform_notice(text: str) -> bool:
    """True for a text in the agent's column that the platform wrote: a notice or an emoticon code alone.

    The readers give such a message the system role, so timing, answer ratio and the
    forbidden-phrase context rules never take it for the agent's reply.
    """
    return _PLATFORM_NOTICE.match(text) is not None
