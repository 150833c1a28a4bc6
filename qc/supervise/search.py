"""Chinese full-text search over the stored messages (the workbench's search page).

Chinese has no spaces, so both the index and the query are segmented the same way: jieba's
search mode (``cut_for_search``: every dictionary word, plus the shorter words inside long
ones, so 共和国 is found in 中华人民共和国), after width and case folding, without punctuation
and whitespace. The tokens are stored joined by spaces (:meth:`Store.refresh_search_index`):
SQLite's FTS5 and PostgreSQL's ``to_tsvector('simple', …)`` then split them on the spaces and
match whole tokens. A query matches a message holding every one of its tokens.

The index is refreshed lazily before each search: nothing is done when no run was saved since
the last refresh, and only the conversations a newer run saved are indexed again.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from qc.store.database import Store
from qc.supervise.transcript import shop_time
from qc.text.invisible import INVISIBLE_TABLE
from qc.text.tokens import fold

__all__ = ["SearchHit", "refresh_index", "search_messages", "search_tokens", "tokenizer_name"]

# What parts a token: punctuation, symbols and spaces. A token is a run of letters, digits and
# Chinese characters only, so SQLite's FTS5, PostgreSQL's parser and the plain-SQL fallback all
# read it as one word: 138-1234-5678, a.b@c.com or v1.2.3 kept whole matched 5678 on SQLite
# (FTS5 splits it again) and not on PostgreSQL (its parser keeps it), audit 166 F2.
_PARTS = re.compile(r"[\W_]+")


@lru_cache(maxsize=1)
def _cutter() -> tuple[str, Callable[[str], list[str]]]:
    """(its name, jieba's search-mode cut): rjieba's when installed (the same words, faster)."""
    try:
        import rjieba

        return "rjieba-search", lambda text: rjieba.cut_for_search(text, True)
    except ImportError:
        from qc.text.tokens import _quiet_jieba

        jieba = _quiet_jieba()
        return "jieba-search", lambda text: list(jieba.cut_for_search(text))


# The index records this name; a change (another segmenter, a new version) rebuilds it. 3: the
# characters that show nothing are dropped before cutting. 4: tokens are parted at punctuation.
# 5: compatibility characters are spelt out (① → 1, ㎡ → m2). 6: every format character (Cf) that
# shows nothing is dropped, the direction marks too (audit 171 L2). 7: an enclosed digit is a
# token of its own (③④ is 3 and 4), a styled one beyond the BMP is spelt (𝟏 → 1). 8: a radical
# look-alike (⽣) stays in its word as the character it looks like.
TOKENIZER_FORMAT = "8"

# Characters that show nothing (zero-width space, joiners, direction marks, soft hyphen, a BOM): 零宽
# did not find 零\u200b宽, which reads the same (audits 161 L6, 171 L2).
_INVISIBLE = INVISIBLE_TABLE


@lru_cache(maxsize=1)
def _compatible() -> dict[int, str]:
    """How search spells each compatibility character (its NFKC form), as a translation.

    A full-width, half-width, styled or raised letter or digit is that letter or digit, in its
    word (１２３ → 123, 𝟏 → 1, m² → m2); an enclosed or other compatibility one stands apart as
    a token of its own, as a word of letters and digits does (③④ → 3 4, so 3 finds it: audit 171
    L5; ㎡ → m2, so 120㎡ is found by 120, audit 170 F11); anything else (½ → 1⁄2, ℃ → °C) only
    parts the words around it, so ½ is not read as a 1 and a 2. The Basic Multilingual Plane, the
    mathematical letters and digits and the enclosed supplement.
    """
    table: dict[int, str] = {}
    for code in (*range(0x80, 0x10000), *range(0x1D400, 0x1D800), *range(0x1F100, 0x1F200)):
        ch = chr(code)
        kind = unicodedata.decomposition(ch).split(" ", 1)[0]
        if not kind.startswith("<"):
            continue
        spelt = unicodedata.normalize("NFKC", ch)
        if spelt == ch:
            continue
        if len(spelt) == 1 and (kind in _IN_WORD or _HAN.match(spelt)):
            # a radical or compatibility ideograph copied from a PDF (⽣产) is the character in its
            # word (audit 174 L1)
            table[code] = spelt
        else:
            table[code] = f" {spelt} " if spelt.isalnum() else " "
    return table


# The compatibility kinds that are a letter or digit written another way, read within its word.
_IN_WORD = frozenset(("<wide>", "<narrow>", "<font>", "<super>", "<sub>"))


def tokenizer_name() -> str:
    """The name and version of the search tokenizer, as the index records it."""
    return f"{_cutter()[0]}-{TOKENIZER_FORMAT}"


_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def search_tokens(text: str, *, index: bool = False) -> list[str]:
    """The search tokens of a text, in order, punctuation dropped.

    With ``index`` (what the index stores) each Chinese character of a longer word is a token
    too, so a one-character query (慢, 退) finds the words that hold it (慢慢, 退货); a query's
    own tokens are the words alone.
    """
    cut = _cutter()[1]
    # Compatibility characters as every store reads them alike (:func:`_compatible`): ① or Ⅻ
    # are letters and digits to Python and SQLite, nothing to PostgreSQL's parser (audit 169 F9).
    # Before folding, which would join an enclosed digit to its neighbours (③④ read as 34).
    plain = fold(text.translate(_INVISIBLE).translate(_compatible()))
    words = [part for tok in cut(plain) for part in _PARTS.split(tok.lower()) if part]
    if not index:
        return words
    out: list[str] = []
    for w in words:
        out.append(w)
        if len(w) > 1:
            out.extend(ch for ch in w if _HAN.match(ch))
    return out


def _index_tokens(text: str) -> list[str]:
    return search_tokens(text, index=True)


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One message that matches, with where it is."""

    conversation_id: str
    shop: str
    index: int
    date: str
    role: str
    text: str
    sender: str | None
    sent_at: str | None
    auto_reply: bool

    def when(self, timezone: str) -> str:
        """When it was sent (YYYY-MM-DD HH:MM:SS) on the shop's clock, ``timezone`` the card's day zone.

        The calendar day of that clock, not :attr:`date` (the day the card counts it on, which
        is the conversation's first day under ``by = "conversation_start"``). Without a time,
        the counted day.
        """
        try:
            sent = datetime.fromisoformat(self.sent_at) if self.sent_at else None
        except ValueError:
            sent = None
        local = shop_time(sent, ZoneInfo(timezone))
        return local.strftime("%Y-%m-%d %H:%M:%S") if local is not None else self.date


# Searches of one workbench run in several threads: one refresh at a time.
_REFRESH = threading.Lock()


def refresh_index(store: Store) -> int:
    """Bring the store's search index up to date; returns the conversations (re)indexed."""
    with _REFRESH:
        return store.refresh_search_index(_index_tokens, tokenizer_name())


def search_messages(
    store: Store,
    query: str,
    *,
    agent: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    kind: str | None = None,
    limit: int = 200,
    offset: int = 0,
) -> list[SearchHit]:
    """Messages holding every word of ``query``, newest day first (the index refreshed first).

    ``agent`` keeps the conversations that agent counts for, ``kind`` those with a finding of
    that kind, the dates the message's day; ``limit`` hits after the first ``offset`` (a page).
    """
    terms = search_tokens(query)
    if not terms:
        return []
    refresh_index(store)
    rows = store.search_messages(
        terms, agent=agent, date_from=date_from, date_to=date_to, kind=kind, limit=limit, offset=offset
    )
    return [
        SearchHit(
            conversation_id=r["conversation_id"],
            shop=r["shop"],
            index=int(r["idx"]),
            date=r["date"],
            role=r["role"],
            text=r["text"] or "",
            sender=r["sender"],
            sent_at=r["sent_at"],
            auto_reply=bool(r["auto_reply"]),
        )
        for r in rows
    ]


def count_hits(
    store: Store,
    query: str,
    *,
    agent: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    kind: str | None = None,
) -> int:
    """How many messages :func:`search_messages` finds in all, so a page of them says of how many."""
    terms = search_tokens(query)
    if not terms:
        return 0
    refresh_index(store)
    return store.count_search_messages(terms, agent=agent, date_from=date_from, date_to=date_to, kind=kind)
