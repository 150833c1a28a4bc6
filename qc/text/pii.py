"""Mask buyer personal data for ``--mask-pii``, keeping every other word readable.

Applied to every text ``qc show``, ``qc report``, ``qc review export`` and ``qc feedback
export`` print when the flag is given. What counts as personal data, and the evidence each
kind needs, is configuration: ``lexicons/pii.toml`` holds the gazetteers (provinces, cities,
surnames, titles, address units, courier prefixes) and the patterns built from them. The rule
behind every pattern: masking needs evidence, never a common word on its own. A phone number
is digits in a phone's shape; an address needs a place word and a number or an address unit
(文三路90号, 阳光花园3栋502室, 杭州市西湖区), so 自己, 路上, 订单里 and 这条路 stay; a name needs
a surname and a title (张女士) or a label (收件人：李明).

A reviewer reads masked text as evidence, so a mask replaces exactly the personal data and
nothing around it (a pattern's ``pii`` group, when it has one, is all that is replaced).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from itertools import accumulate
from pathlib import Path
from typing import Any

from qc.errors import ConfigError
from qc.paths import lexicons_dir
from qc.text.invisible import INVISIBLE

__all__ = [
    "PiiKind",
    "PiiSettings",
    "load_pii_settings",
    "mask_pii",
    "mask_pieces",
    "find_pii",
    "luhn_valid",
    "shown_value",
    "shown_id",
    "Masker",
]

_REFERENCE = re.compile(r"<<([A-Za-z_][A-Za-z0-9_]*)>>")
_HALF_WIDTH = {0xFF01 + i: 0x21 + i for i in range(0x5E)} | {0x3000: 0x20}
# Characters that show nothing (zero-width space, joiners, direction marks, soft hyphen, BOM): pasted
# inside a phone number (139\u200b1234\u200b5678) they hid it from every pattern (audits 168 L3,
# 171 L2). The patterns read the text without them; a mask covers those inside its data.
_INVISIBLE = INVISIBLE


@dataclass(frozen=True, slots=True)
class PiiKind:
    """One kind of personal data: its mask, its compiled patterns and its guard words."""

    name: str
    mask: str
    patterns: tuple[re.Pattern[str], ...]
    guard_words: tuple[str, ...] = ()
    # Labels after which a match is someone else's number (商品ID 652345678901, 条形码 69…): folded.
    unless_after: tuple[str, ...] = ()
    # Words that take back the first character of a guard word they overlap (一下 in 问一下周老师).
    guard_voids: tuple[str, ...] = ()
    # A match jieba's dictionary knows as a word (文具店, 顾客) is no name: for patterns whose
    # context cannot tell a name from a word (李小花电话138… beside 文具店电话138…).
    dictionary_guard: bool = False

    def guarded(self, text: str, start: int) -> bool:
        """True when the character at ``start`` is inside a guard word that begins before it.

        Not a guard word whose first character a void word takes back: in 问一下周老师 the 下 of 下周
        is 一下's, and 周老师 is Mr 周 (audit 133 M3), unless that void word is itself inside a
        guard word (万一下周经理 is "in case next week"). Only the void words do so: any guard word
        overlapping another made 零钱包女士 a Ms 包 (audit 136 M3).
        """
        return any(not self._voided(text, at) for at in self._over(text, start, self.guard_words))

    @staticmethod
    def _over(text: str, start: int, words: Sequence[str]) -> Iterator[int]:
        """Where the ``words`` that hold ``start`` as their second or a later character begin."""
        for word in words:
            for back in range(1, len(word)):
                if start - back >= 0 and text.startswith(word, start - back):
                    yield start - back

    def _voided(self, text: str, at: int) -> bool:
        """True when a void word, not itself held by a guard word, takes the character at ``at``."""
        return any(
            next(self._over(text, void_at, self.guard_words), None) is None
            for void_at in self._over(text, at, self.guard_voids)
        )

    def labelled_otherwise(self, text: str, start: int) -> bool:
        """True when the match at ``start`` follows one of ``unless_after`` (spaces, a colon or = between).

        A code's letters may stand between too: 型号AB1234567890 is a model's number, not an order's
        (audit 159 H7), while 订单号NO2026… stays an order's (its label is no ``unless_after``).
        """
        at = start
        while (
            at > 0
            and start - at < _CODE_LETTERS
            and text[at - 1].isascii()
            and (text[at - 1].isalpha() or text[at - 1] == "-")
        ):
            at -= 1
        gap = at
        while at > 0 and gap - at < 3 and text[at - 1] in _LABEL_GAP:
            at -= 1
        before = text[max(0, at - _LONGEST_LABEL) : at].lower()
        return any(before.endswith(word) for word in self.unless_after)


# What may stand between a label and its number: a space, a colon, an equals sign (?id=…), a hash.
_LABEL_GAP = frozenset(" :：=#")
# How many letters of a code may stand between a label and its digits (型号AB…, 款号ZA-…).
_CODE_LETTERS = 6
_LONGEST_LABEL = 12


@dataclass(frozen=True, slots=True)
class PiiSettings:
    """The kinds of ``lexicons/pii.toml``, in the order they are applied."""

    version: str
    kinds: tuple[PiiKind, ...]
    source: str = ""
    # A buyer's own nick written in their conversation: its mask, and the shortest nick masked.
    nick_mask: str = "[买家]"
    nick_min_length: int = 3
    # Everyday words a nick may be (亲爱的, 开心就好): never masked as one, as an agent writes them
    # to every buyer (audit 159 M1).
    nick_keep: frozenset[str] = frozenset()

    def kind(self, name: str) -> PiiKind:
        """One kind by name (``KeyError`` when the file has none of that name)."""
        for k in self.kinds:
            if k.name == name:
                return k
        raise KeyError(name)


def load_pii_settings(path: Path | None = None) -> PiiSettings:
    """Read and compile the masking settings (the bundled ``lexicons/pii.toml`` by default).

    Raises:
        ConfigError: the file is missing, not TOML, or a pattern does not compile or names an
            unknown list or part; the message names the file, the key and the fix.
    """
    return _load(str(path or lexicons_dir() / "pii.toml"))


@lru_cache(maxsize=4)
def _load(path: str) -> PiiSettings:
    from qc.readers.encoding import read_config_toml

    data = read_config_toml(Path(path), "pii settings")
    # A misspelt key was ignored and the code's value used (min_lenght = 8: the nicks still
    # masked from 3 characters), unsaid (audit 104 H4).
    _known_keys(data, ("version", "nicks", "lists", "parts", "kinds"), "the top level", path)
    lists = _table(data, "lists", path)
    parts = _table(data, "parts", path)
    expand = _Expander(path, lists, parts)
    kinds = []
    for number, raw in enumerate(data.get("kinds") or [], start=1):
        where = f"kinds[{number}]"
        if not isinstance(raw, dict) or not raw.get("name") or not isinstance(raw.get("mask"), str):
            raise ConfigError(f"pii settings {path}: {where} needs a name and a mask")
        _known_keys(
            raw,
            ("name", "mask", "patterns", "guard_words", "guard_voids", "unless_after", "dictionary_guard"),
            where,
            path,
        )
        name = str(raw["name"])
        dictionary = raw.get("dictionary_guard", False)
        if not isinstance(dictionary, bool):
            raise ConfigError(f"pii settings {path}: {where} ({name}).dictionary_guard must be true or false")
        compiled = []
        for index, pattern in enumerate(raw.get("patterns") or []):
            key = f"{where} ({name}).patterns[{index}]"
            regex = expand.compile(str(pattern), key)
            if regex.search("") is not None:
                # ".*" masked every message whole: every excerpt of a masked report was 【邮箱】.
                raise ConfigError(
                    f"pii settings {path}: {key} matches an empty text, so it would mask every"
                    " message; make it match the data itself (at least one character)"
                )
            compiled.append(regex)
        if not compiled:
            raise ConfigError(f"pii settings {path}: {where} ({name}) has no patterns")
        guards = tuple(str(w) for w in raw.get("guard_words") or ())
        voids = tuple(str(w) for w in raw.get("guard_voids") or ())
        labels = raw.get("unless_after") or []
        if not isinstance(labels, list) or not all(
            isinstance(w, str) and 0 < len(w) <= _LONGEST_LABEL for w in labels
        ):
            raise ConfigError(
                f"pii settings {path}: {where} ({name}).unless_after must be a list of labels of 1 to"
                f' {_LONGEST_LABEL} characters, such as ["商品ID", "条形码"]'
            )
        unless = tuple(w.translate(_HALF_WIDTH).lower() for w in labels)
        kinds.append(PiiKind(name, str(raw["mask"]), tuple(compiled), guards, unless, voids, dictionary))
    if not kinds:
        raise ConfigError(f"pii settings {path}: no [[kinds]]; see the bundled lexicons/pii.toml")
    nicks = _table(data, "nicks", path)
    _known_keys(nicks, ("mask", "min_length", "keep"), "[nicks]", path)
    if "mask" not in nicks or "min_length" not in nicks:
        raise ConfigError(
            f'pii settings {path}: [nicks] needs mask (such as "[买家]") and min_length (the shortest'
            " nick masked inside a text, such as 3)"
        )
    nick_mask, min_length = nicks["mask"], nicks["min_length"]
    if not isinstance(nick_mask, str) or not nick_mask:
        raise ConfigError(f'pii settings {path}: [nicks] mask must be a non-empty string such as "[买家]"')
    if isinstance(min_length, bool) or not isinstance(min_length, int) or min_length < 1:
        raise ConfigError(f"pii settings {path}: [nicks] min_length must be a whole number of 1 or more")
    keep = nicks.get("keep", [])
    if not isinstance(keep, list) or not all(isinstance(k, str) and k for k in keep):
        raise ConfigError(f'pii settings {path}: [nicks] keep must be a list of words such as ["亲爱的"]')
    return PiiSettings(
        str(data.get("version", "")),
        tuple(kinds),
        path,
        nick_mask,
        min_length,
        frozenset(k.casefold() for k in keep),
    )


def _known_keys(table: Mapping[str, Any], known: Sequence[str], where: str, path: str) -> None:
    unknown = sorted(set(table) - set(known))
    if unknown:
        raise ConfigError(
            f"pii settings {path}: {where}: unknown key {unknown[0]!r}; known: {', '.join(known)}"
        )


def _table(data: Mapping[str, Any], key: str, path: str) -> dict[str, Any]:
    value = data.get(key) or {}
    if not isinstance(value, dict):
        raise ConfigError(f"pii settings {path}: [{key}] must be a table")
    return value


class _Expander:
    """Turns ``<<name>>`` references into regex: lists become escaped alternations, parts their text."""

    def __init__(self, path: str, lists: dict[str, Any], parts: dict[str, Any]) -> None:
        self.path = path
        self.lists = lists
        self.parts = parts

    def expand(self, pattern: str, key: str, seen: tuple[str, ...] = ()) -> str:
        def one(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in seen:
                raise ConfigError(f"pii settings {self.path}: {key}: <<{name}>> refers to itself")
            if name in self.lists:
                words = sorted({str(w) for w in self.lists[name]}, key=lambda w: (-len(w), w))
                return "(?:" + "|".join(re.escape(w) for w in words) + ")"
            if name in self.parts:
                return "(?:" + self.expand(str(self.parts[name]), key, (*seen, name)) + ")"
            raise ConfigError(
                f"pii settings {self.path}: {key}: unknown <<{name}>>; define it under [lists] or [parts]"
            )

        return _REFERENCE.sub(one, pattern)

    def compile(self, pattern: str, key: str) -> re.Pattern[str]:
        try:
            return re.compile(self.expand(pattern, key))
        except re.error as exc:
            raise ConfigError(f"pii settings {self.path}: {key}: not a valid regex ({exc})") from None


def find_pii(
    text: str, settings: PiiSettings | None = None, nicks: Sequence[str] = ()
) -> list[tuple[str, str]]:
    """``(kind, matched text)`` of every piece of personal data in ``text``, in masking order.

    For tests and explanations: it applies the masks as :func:`mask_pii` does and reports what
    each one replaced (a buyer's nick as kind ``nick``).
    """
    found: list[tuple[str, str]] = []
    _mask(text, settings or load_pii_settings(), lambda kind, piece: found.append((kind, piece)), nicks)
    return found


def mask_pii(text: str, settings: PiiSettings | None = None, nicks: Sequence[str] = ()) -> str:
    """``text`` with every phone, ID, order and tracking number, account, address and name masked.

    ``nicks`` are the buyer's nicks in the conversation the text belongs to: a message that
    writes one (木子晴天666您好) names the buyer as surely as the speaker column does, which
    masking shows as 买家. Nicks shorter than the settings' ``[nicks] min_length`` are kept.
    """
    return _mask(text, settings or load_pii_settings(), nicks=nicks)[0]


@lru_cache(maxsize=256)
def _nick_kind(settings: PiiSettings, nicks: tuple[str, ...]) -> PiiKind | None:
    """The buyer's nicks as one kind, longest first; ``None`` when none is long enough to mask.

    A nick that starts or ends with a Latin letter or digit is not masked inside a longer run of
    them (tb_123 in tb_1234 is another account). Its letters match in any case and width, as the
    text is matched folded (an agent writing TB_88213 names tb_88213, audit 94 #13). Cached: a
    conversation's texts share it.
    """
    kept = sorted(
        {n for n in nicks if len(n) >= settings.nick_min_length and n.casefold() not in settings.nick_keep},
        key=lambda n: (-len(n), n),
    )
    if not kept:
        return None
    pattern = "|".join(
        ("(?<![A-Za-z0-9_])" if n[0].isascii() and (n[0].isalnum() or n[0] == "_") else "")
        + re.escape(n)
        + ("(?![A-Za-z0-9_])" if n[-1].isascii() and (n[-1].isalnum() or n[-1] == "_") else "")
        for n in (k.translate(_HALF_WIDTH) for k in kept)
    )
    return PiiKind("nick", settings.nick_mask, (re.compile(pattern, re.IGNORECASE),))


def _mask(
    text: str,
    settings: PiiSettings,
    report: Callable[[str, str], None] | None = None,
    nicks: Sequence[str] = (),
) -> tuple[str, list[int]]:
    """``text`` masked, and for each character of the result the index in ``text`` it stands for.

    Kinds apply in order, each to what the ones before left; a mask stands where its data
    began. The buyer's nicks come first: a nick holding digits (tb_13812345678) is the buyer's
    nick, not a phone number. ``report`` hears every ``(kind, replaced text)``.
    """
    origin = list(range(len(text)))
    nick = _nick_kind(settings, tuple(nicks)) if nicks else None
    # Matched on the text with full-width letters, digits and signs folded to ASCII (one
    # character for one, so spans hold): １３８ １２３４ ５６７８, （０５７１）８８８８６６６６ and
    # zhangsan＠qq.com are the same data as their ASCII spelling. Folded again only when masked.
    folded, seen = _readable(text)
    for kind in (nick, *settings.kinds) if nick is not None else settings.kinds:
        for pattern in kind.patterns:
            out: list[str] = []
            moved: list[int] = []
            last = 0
            for match in pattern.finditer(folded):
                span = _masked_span(kind, match)
                if span is None:
                    continue
                start, end = span
                if seen is not None:  # back to the text's own positions, the invisible inside
                    start = seen[start] if start < len(seen) else len(text)
                    end = seen[end - 1] + 1 if end > 0 else 0
                if report is not None:
                    report(kind.name, text[start:end])
                out.append(text[last:start])
                moved += origin[last:start]
                out.append(kind.mask)
                at = origin[start] if start < len(origin) else (origin[-1] + 1 if origin else 0)
                moved += [at] * len(kind.mask)
                last = end
            if not out:
                continue
            out.append(text[last:])
            moved += origin[last:]
            text, origin = "".join(out), moved
            folded, seen = _readable(text)
    return text, origin


def _readable(text: str) -> tuple[str, list[int] | None]:
    """``text`` as the patterns read it, and where each of its characters is in ``text``.

    Full width is folded and the invisible characters are left out; the positions are ``None``
    when nothing was left out (the common case: the text read as it is).
    """
    folded = text.translate(_HALF_WIDTH)
    if _INVISIBLE.isdisjoint(text):
        return folded, None
    seen = [i for i, ch in enumerate(text) if ch not in _INVISIBLE]
    return "".join(folded[i] for i in seen), seen


def _masked_span(kind: PiiKind, match: re.Match[str]) -> tuple[int, int] | None:
    """Where a match's personal data is (its ``pii`` group, else all of it); ``None`` when guarded.

    A match whose ``luhn`` group fails the Luhn check digit is no card number (a price list).
    """
    if kind.guard_words and kind.guarded(match.string, match.start()):
        return None
    if kind.unless_after and kind.labelled_otherwise(match.string, match.start()):
        return None
    if "luhn" in match.re.groupindex and not luhn_valid(match.group("luhn") or ""):
        return None
    if "pii" in match.re.groupindex and match.group("pii") is not None:
        span = match.start("pii"), match.end("pii")
    else:
        span = match.start(), match.end()
    if kind.dictionary_guard and _known_word(match.string[span[0] : span[1]]):
        return None
    return span


@lru_cache(maxsize=1)
def _dictionary() -> Mapping[str, int]:
    """The word frequencies of jieba's dictionary, loaded on the first match that asks (once)."""
    from qc.text.tokens import _quiet_jieba

    jieba = _quiet_jieba()
    jieba.initialize()
    return jieba.dt.FREQ


def _known_word(text: str) -> bool:
    """True when jieba's dictionary knows ``text`` as a word, not as a full name: 顾客, 梅花, 文具店.

    A word of three characters it tags as a person's name (nr) is one: 王建军, 李建国 are
    everyday names, and were left visible beside a phone (audit 173 H1). Two characters it tags
    so are as often everyday words (李子, 杨桃, 安静, 黎明, 余杭, 胡桃) as names (李娜, 高峰), and
    stay words: a missed two-character name over 12,000 masked words (audit 174 M1). The
    three-character everyday words it tags as names (金银花, 杜鹃花, 石景山) are masked unless
    listed in not_names_before_phone, which names the ones found so far.
    """
    return bool(_dictionary().get(text)) and not (len(text) >= 3 and text in _person_names())


@lru_cache(maxsize=1)
def _person_names() -> frozenset[str]:
    """The words jieba's dictionary tags as a person's name (nr, nrfg, nrt), read once when asked."""
    from qc.text.tokens import _quiet_jieba

    names = set()
    with _quiet_jieba().get_dict_file() as lines:
        for raw in lines:
            parts = raw.decode("utf-8").split()
            if len(parts) >= 3 and parts[2].startswith("nr"):
                names.add(parts[0])
    return frozenset(names)


def luhn_valid(number: str) -> bool:
    """True when the digits of ``number`` pass the Luhn check digit every payment card number carries."""
    digits = [int(ch) for ch in number if ch.isdigit()]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return bool(digits) and total % 10 == 0


def mask_pieces(
    pieces: Sequence[str], settings: PiiSettings | None = None, nicks: Sequence[str] = ()
) -> list[str]:
    """One text cut into ``pieces`` (a message around its highlighted phrases), masked as one text.

    Masking each part on its own misses data a cut runs through (an address half inside a
    highlighted phrase); masking the whole text and cutting the result where the parts met
    does not. A mask goes with the part its data began in, so the parts still join to
    :func:`mask_pii` of the whole text.
    """
    text, origin = _mask("".join(pieces), settings or load_pii_settings(), nicks=nicks)
    bounds = list(accumulate(len(p) for p in pieces))
    masked = [""] * len(pieces)
    part = 0
    for ch, at in zip(text, origin, strict=True):
        part = bisect_right(bounds, at, lo=part)  # origins never go back: search from the last part
        masked[min(part, len(pieces) - 1)] += ch
    return masked


def shown_value(text: str, limit: int = 16) -> str:
    """A value from a file as an error message may quote it: personal data masked, cut at ``limit``.

    Errors name a bad cell, key or label so the user can find it; when that value is really a
    message (a shifted row, a headerless sheet, a document keyed by buyer), the buyer's phone
    and address must not reach the terminal or run.json.
    """
    # Only the head is masked: a whole line of a headerless 20 MB file took minutes. It is long
    # enough that a number cut at its end lies far past what is shown, even after masks shorten it.
    size = limit * 4 + 64
    while True:
        try:
            masked = mask_pii(text[:size])
        except ConfigError:  # a broken pii.toml is reported where masking is asked for, not here
            masked = "…" if text else ""
            break
        if size >= len(text) or len(masked) > limit + 32:
            break
        size *= 4
    return masked if len(masked) <= limit else masked[: limit - 1] + "…"


# The kinds that name a person whatever they sit in: an id built from them is a buyer's.
_IDENTITY_KINDS = ("email", "id_number", "bank_card", "phone")


def shown_id(text: str) -> str:
    """An id as a warning may name it: a phone, ID or card number or e-mail in it masked.

    Some exports build a conversation id from the buyer's phone, and warnings reach the
    terminal and run.json. Order-like ids stay whole: the user needs them to find the chat.
    """
    try:
        return mask_pii(text, _identity_kinds(load_pii_settings()))
    except ConfigError:  # a broken pii.toml is reported where masking is asked for, not here
        return text


@lru_cache(maxsize=8)
def _identity_kinds(settings: PiiSettings) -> PiiSettings:
    return replace(settings, kinds=tuple(k for k in settings.kinds if k.name in _IDENTITY_KINDS))


class Masker:
    """Callable that masks one text; identity when disabled (so callers never branch).

    A masker for one conversation also masks its buyer's nicks (:meth:`for_buyers`).
    """

    def __init__(self, enabled: bool, settings: PiiSettings | None = None, nicks: Sequence[str] = ()) -> None:
        self.enabled = enabled
        self.settings = (settings or load_pii_settings()) if enabled else settings
        self.nicks = tuple(nicks)

    def for_buyers(self, nicks: Iterable[str | None]) -> Masker:
        """This masker for texts of one conversation, whose buyer wrote under ``nicks``.

        Empty senders are no nick; callers leave out role words (买家), which name nobody.
        """
        kept = sorted({n.strip() for n in nicks if n and n.strip()})
        return Masker(self.enabled, self.settings, kept)

    @property
    def labels(self) -> tuple[str, ...]:
        """Every mask this masker writes (``[电话]``, ``[买家]`` …); none when disabled."""
        if not self.enabled or self.settings is None:
            return ()
        return tuple(dict.fromkeys([self.settings.nick_mask, *(k.mask for k in self.settings.kinds)]))

    def __call__(self, text: str) -> str:
        """The text with personal data masked (unchanged when disabled)."""
        if not self.enabled or not text:
            return text
        return mask_pii(text, self.settings, self.nicks)

    def identifier(self, text: str) -> str:
        """An id as a masked page shows it: a phone, ID or card number or e-mail in it masked.

        Some exports build a conversation id from the buyer's phone; the order-number pattern
        is left out, as a platform's ids are long numbers that would all read [订单号].
        """
        if not self.enabled or not text or self.settings is None:
            return text
        return mask_pii(text, _identity_kinds(self.settings))

    def pieces(self, pieces: Sequence[str]) -> list[str]:
        """One text's parts masked as the whole text (:func:`mask_pieces`; unchanged when disabled)."""
        if not self.enabled:
            return list(pieces)
        return mask_pieces(pieces, self.settings, self.nicks)
