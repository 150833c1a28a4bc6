"""The shared Chinese tokenizer and offset-keeping text folding.

Tokens come from jieba in accurate mode, exactly the segmenter behind spaCy's
blank ``zh`` pipeline with ``segmenter = "jieba"``; :func:`tokenize` keeps
whitespace tokens as well, so tokens always concatenate back to the text and
token offsets are character offsets. Building a spaCy ``Doc`` per message
costs about a quarter more than jieba alone and no rule needs one, so
:func:`tokenize` calls jieba directly and :func:`nlp` (the spaCy pipeline) is
there for code that wants a ``Doc``.

A shop's user dictionary (product names) goes into a *separate* jieba
tokenizer (:func:`user_tokenizer`); the global jieba dictionary, and with it
every lexicon decision, never changes.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = [
    "core",
    "fold",
    "nlp",
    "tokenize",
    "jieba_tokens",
    "token_bounds",
    "user_tokenizer",
    "make_tokenize",
]

_FOLD_TABLE: dict[int, str] | None = None
_FOLDABLE: re.Pattern[str] | None = None

# Entries of each per-text cache (fold, tokens, turn kinds, features). Chats repeat short
# replies and stock phrases, which a cache this size keeps (the rest, with order numbers and
# addresses, never repeats anyway). A worker's memory grows while its caches (these and the
# attitude rule's) fill, and stops when they are full: after a few hundred thousand
# messages on the benchmark days.
TEXT_CACHE_SIZE = 4096


def _fold_table() -> dict[int, str]:
    """Map every BMP character whose NFKC + lower-case form is ONE other character."""
    global _FOLD_TABLE
    if _FOLD_TABLE is None:
        table: dict[int, str] = {}
        for code in range(0x10000):
            if 0xD800 <= code <= 0xDFFF:
                continue
            ch = chr(code)
            folded = unicodedata.normalize("NFKC", ch)
            if len(folded) != 1:
                continue
            folded = folded.lower()
            if len(folded) == 1 and folded != ch:
                table[code] = folded
        _FOLD_TABLE = table
    return _FOLD_TABLE


def char_class(codes: Iterable[int], repeat: bool = False) -> re.Pattern[str]:
    """A pattern matching any one of ``codes`` (a run of them with ``repeat``), as ranges.

    What a translation table does one dictionary lookup per character for, a character class
    does in the regex engine: about half the time on Chinese text, the same result.
    """
    ranges: list[tuple[int, int]] = []
    for code in sorted(codes):
        if ranges and code == ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], code)
        else:
            ranges.append((code, code))
    parts = "".join(f"\\u{a:04x}" if a == b else f"\\u{a:04x}-\\u{b:04x}" for a, b in ranges)
    return re.compile(f"[{parts}]" + ("+" if repeat else ""))


def _foldable() -> re.Pattern[str]:
    global _FOLDABLE
    if _FOLDABLE is None:
        _FOLDABLE = char_class(_fold_table())
    return _FOLDABLE


def _fold_char(match: re.Match[str]) -> str:
    return _fold_table()[ord(match.group())]


@lru_cache(maxsize=TEXT_CACHE_SIZE)
def fold(text: str) -> str:
    """Fold width and case character by character, keeping every offset.

    Cached: the lexicon folds the same message and buyer turn several times per reply.

    Full-width ``ＯＫ，！`` become ``ok,!``; a character whose NFKC form is
    longer than one character (``…``, ``㈱``) stays as it is, so
    ``len(fold(t)) == len(t)`` and an offset into the folded text is an offset
    into the original.
    """
    return _foldable().sub(_fold_char, text)  # as text.translate(_fold_table()), in half the time


# Emoji and emoticon codes ([微笑], #E-s33, /:) …); with whitespace and punctuation they are not
# part of a message's "core": what its length means, and what its words are without decoration.
_EMOJI = re.compile(r"\[[^\[\]\n]{1,6}\]|#E-\w+|/:\S{1,4}|[\U0001F300-\U0001FAFF\u2600-\u27BF]")
_NOT_CORE = re.compile(r"[\s\W_]+")


def core(text: str) -> str:
    """The text without emoji codes, punctuation and spaces (what a reply's length means)."""
    return _NOT_CORE.sub("", _EMOJI.sub("", text))


def _quiet_jieba() -> Any:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    return jieba


@lru_cache(maxsize=1)
def nlp() -> Any:
    """The spaCy blank ``zh`` pipeline with the jieba segmenter, built once per process."""
    _quiet_jieba()
    import spacy

    return spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})


# Text where rjieba's port departs from jieba goes to jieba itself: (1) characters jieba
# segments with its own regex and HMM rules (digits, Latin letters, ``+#&._%-``): ``1.5kg``
# is one token in rjieba, two in jieba; (2) Han characters outside jieba's ``\u4E00-\u9FD5``
# block (CJK extension A, U+9FD6 on, compatibility ideographs, the supplementary planes),
# which rjieba joins into one word and jieba keeps apart (``㐀㐁``: rjieba ``㐀㐁``, jieba
# ``㐀`` ``㐁``); (3) a Han character three or more times in a row, where the two break ties
# between equally likely splits differently (``好货货货货货``, ``下亲亲亲``: about 1 in 70 such
# strings, never with runs of two in 40,000 random strings). On all other text rjieba's
# tokens equal jieba's. Cases (1) and (2) are handled below with jieba's own rules on top of
# rjieba (no dictionary needed); only (3) and a stretch holding c++, C# or AT&T still ask
# jieba, 51 blocks in the 25,344 distinct texts of the real chats. tests/test_fast_paths.py
# checks every distinct text of a generated day, of the annotated samples and of the real
# chats, and random strings over mixed alphabets, with letters and digits and with runs.
_JIEBA_ONLY = re.compile(
    "[A-Za-z0-9+#&._%\\-\uff10-\uff19\uff21-\uff3a\uff41-\uff5a"
    "\u3400-\u4dbf\u9fd6-\u9fff\uf900-\ufaff\U00020000-\U0003ffff]"
    "|([\u4e00-\u9fd5])\\1\\1"
)


# jieba's block pattern (``jieba.re_han_default``; tests/test_fast_paths.py checks it is the
# same): jieba segments each match on its own, and the text between them character by
# character (``re_skip_default``: whitespace kept whole).
_BLOCKS = re.compile("([\u4e00-\u9fd5a-zA-Z0-9+#&\\._%\\-]+)")
_WHITESPACE = re.compile("(\r\n|\\s)")

# Within a block, jieba's HMM step (``jieba.finalseg.cut``) splits the non-Han stretch of
# letters, digits and ``+#&._%-`` with this pattern: letter-and-digit runs, with one decimal
# part and a percent sign, are tokens and each stretch between them is one token (``1.5kg``
# → ``1.5`` ``kg``, ``400-830`` → ``400`` ``-`` ``830``). rjieba keeps such a stretch whole;
# its tokens are re-split by jieba's own rule instead of asking jieba.
_JIEBA_SKIP = re.compile(r"([a-zA-Z0-9]+(?:\.\d+)?%?)")
_ASCII_TOKEN = re.compile(r"[a-zA-Z0-9+#&._%\-]+")
# jieba's dictionary words made only of those characters (tests/test_fast_paths.py derives
# them from jieba's dict.txt): the route takes them whole, so a stretch holding one goes to jieba.
_ASCII_WORDS = ("AT&T", "c#", "C#", "c++", "C++")
# What the re-split does not cover inside a block: a Han character three times in a row.
_TRIPLE_RUN = re.compile("([\u4e00-\u9fd5])\\1\\1")


def _resplit(tokens: list[str]) -> list[str] | None:
    """The tokens of one block: rjieba's, with jieba's rule for letters and digits (None: ask jieba)."""
    out: list[str] = []
    run: list[str] = []

    def flush() -> bool:
        if run:
            stretch = "".join(run)
            if any(word in stretch for word in _ASCII_WORDS):
                return False
            out.extend(x for x in _JIEBA_SKIP.split(stretch) if x)
            run.clear()
        return True

    for tok in tokens:
        if _ASCII_TOKEN.fullmatch(tok):
            run.append(tok)
        elif not flush():
            return None
        else:
            out.append(tok)
    return out if flush() else None


@lru_cache(maxsize=1)
def _jieba_cut() -> Callable[[str], list[str]]:
    jieba = _quiet_jieba()
    jieba.initialize()
    cut = jieba.dt.cut
    return lambda text: list(cut(text, cut_all=False))


@lru_cache(maxsize=1)
def _rjieba_cut() -> Callable[[str], list[str]] | None:
    try:
        import rjieba
    except ImportError:  # optional speed-up; jieba gives the same tokens, slower
        return None
    return rjieba.cut


def jieba_tokens(text: str) -> tuple[str, ...]:
    """Tokens of ``text`` from jieba itself (accurate mode, HMM on): the reference output."""
    return tuple(tok for tok in _jieba_cut()(text) if tok)


@lru_cache(maxsize=TEXT_CACHE_SIZE)
def tokenize(text: str) -> tuple[str, ...]:
    """Segment ``text`` with the default jieba dictionary (spaCy's zh tokens, whitespace kept).

    Uses rjieba (same dictionary and algorithm, compiled, about 17× faster) when it is
    installed, with jieba's rules for letters, digits and the text between blocks applied on
    top; jieba itself only for the rare blocks those rules do not cover (its dictionary takes
    about a second to load). Cached: chats repeat short replies (嗯, 好的, 在的) very often.
    """
    rcut = _rjieba_cut()
    if rcut is None:
        return jieba_tokens(text)
    if not _JIEBA_ONLY.search(text):
        return tuple(tok for tok in rcut(text) if tok)
    # jieba cuts each run of Han and alphanumerics, and each run between them, on its own
    # (jieba.Tokenizer.cut: re_han.split, then every block apart). So only the blocks that
    # hold a character where rjieba departs need jieba's rules: in ``这款10kg的还有货吗`` that
    # is ``这款10kg的还有货吗`` itself, but in ``[数字x]号订单什么时候发货`` only ``数字x``.
    out: list[str] = []
    for block in _BLOCKS.split(text):
        if not block:
            continue
        if not _JIEBA_ONLY.search(block):
            out.extend(tok for tok in rcut(block) if tok)
            continue
        if not _BLOCKS.fullmatch(block):
            out.extend(_between_blocks(block))
            continue
        fast = None if _TRIPLE_RUN.search(block) else _resplit([tok for tok in rcut(block) if tok])
        out.extend(fast if fast is not None else (tok for tok in _jieba_cut()(block) if tok))
    return tuple(out)


def _between_blocks(text: str) -> list[str]:
    """The tokens jieba gives text between blocks: whitespace kept whole, each other character alone.

    (``jieba.Tokenizer.cut``: ``re_skip_default`` splits it; no dictionary is needed.)
    """
    out: list[str] = []
    for part in _WHITESPACE.split(text):
        if _WHITESPACE.fullmatch(part):
            out.append(part)
        else:
            out.extend(part)
    return out


@lru_cache(maxsize=8)
def user_tokenizer(user_dict: Path) -> Any:
    """A separate jieba tokenizer with a shop's user dictionary loaded.

    The global jieba dictionary is left untouched, so spaCy's pipeline and the
    lexicon's token-boundary checks behave as without the dictionary.
    """
    import io

    from qc.readers.encoding import decode_text

    jieba = _quiet_jieba()
    tok = jieba.Tokenizer()
    tok.initialize()
    # jieba reads UTF-8 only; a dictionary saved as GBK on a Chinese Windows machine is decoded
    # here with the readers' sniffing (the CLI checked it decodes before any work).
    text, _ = decode_text(Path(user_dict).read_bytes())
    tok.load_userdict(io.BytesIO(text.encode("utf-8")))
    return tok


def make_tokenize(user_dict: Path | None = None) -> Callable[[str], tuple[str, ...]]:
    """The tokenize function for the annotator: the default, or one with a user dictionary."""
    if user_dict is None:
        return tokenize
    cut = user_tokenizer(Path(user_dict)).cut

    @lru_cache(maxsize=TEXT_CACHE_SIZE)
    def tokenize_with_user_dict(text: str) -> tuple[str, ...]:
        return tuple(tok for tok in cut(text, cut_all=False) if tok)

    return tokenize_with_user_dict


def token_bounds(tokens: Sequence[str]) -> frozenset[int]:
    """Character offsets where a token starts or ends (0 and ``len(text)`` included)."""
    bounds = {0}
    pos = 0
    for tok in tokens:
        pos += len(tok)
        bounds.add(pos)
    return frozenset(bounds)
