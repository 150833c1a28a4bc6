"""Whether a reply answers the buyer, and whether it repeats the agent: cues of feature version 5.

Impatience often hides in a reply that is polite on its own but ignores what the buyer just
asked: 标签 to 怎么洗 (while 手洗 answers it), a stock closing over an open question, the same
apology pasted again after the buyer asked for a fix. Character n-grams of the reply cannot
see that; these cues compare the reply with the buyer's turn and the agent's earlier messages:

* **answered?** — what the buyer's turn asks (a yes/no question, a number, an open question, a
  request, a reported problem) and whether the reply takes it up: it shares content characters
  or two-character words with the turn, gives a yes/no word to a yes/no question (or the verb
  of an A-not-A question: 能 to 能不能), gives a number when a number was asked;
* **repeated** — the reply is (nearly) an earlier agent message of the window again, sent
  after the buyer wrote, or an apology after an apology with the buyer's new turn between;
* **crosses** of the main states with the reply's length bucket and the reply's cue groups, so
  that "unanswered and two characters long" and "unanswered and a closing formula" weigh apart.

The words (function characters that do not count as shared content, yes/no words, what asks
for a number) are configuration: the ``[answer]`` table of the cue lexicon. Every state is
computed from characters and sets, once per distinct (reply, buyer turn) and cached.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from qc.attitude.cues import CueLexicon
from qc.attitude.slot_cache import SlotCache, share
from qc.text.tokens import TEXT_CACHE_SIZE, fold

__all__ = [
    "ANSWER_STATES",
    "CROSSED_STATES",
    "REPEAT_STATES",
    "answer_names",
    "answer_states",
    "repeat_states",
    "echo",
    "NO_ECHO",
    "NEAR_ECHO",
    "SAME_ECHO",
]

# What the buyer's turn asks and whether the reply takes it up.
ANSWER_STATES: tuple[str, ...] = (
    "asked",
    "asked_shares_word",
    "asked_shares_char",
    "asked_shares_nothing",
    "yesno_asked",
    "yesno_answered",
    "yesno_not_answered",
    "number_asked",
    "number_given",
    "number_missing",
    "open_asked",
    "open_shares_nothing",
    "problem_shares_nothing",
    "unanswered",
)
# The agent saying the same again after the buyer wrote.
REPEAT_STATES: tuple[str, ...] = ("repeats_after_buyer", "apology_again")
# States crossed with the reply's length bucket and its cue groups.
CROSSED_STATES: tuple[str, ...] = (
    "unanswered",
    "asked_shares_word",
    "asked_shares_nothing",
    "yesno_not_answered",
    "number_missing",
    "problem_shares_nothing",
    "repeats_after_buyer",
)

_PAIRS = re.compile(r"(?=(..))", re.DOTALL)
_A_NOT_A = re.compile(r"([\u4e00-\u9fff])[不没]\1")
_TRAILING_PUNCTUATION = re.compile(r"[\s,.!?~，。！？、…]+$")
# How similar (Jaccard of character 2-grams) a reply must be to an earlier agent message to
# count as saying it again.
_NEAR_REPEAT = 0.8


def answer_names(cues: CueLexicon) -> tuple[str, ...]:
    """Every column name of the block, in column order (states, then crosses)."""
    lengths = range(len(cues.length_bounds) + 1)
    groups = cues.group_names("reply")
    return (
        *(f"ans.{s}" for s in ANSWER_STATES),
        *(f"ans.{s}" for s in REPEAT_STATES),
        *(f"ans.{s}×length{i}" for s in CROSSED_STATES for i in lengths),
        *(f"ans.{s}×reply.{g}" for s in CROSSED_STATES for g in groups),
    )


@dataclass(frozen=True, slots=True)
class _Words:
    """The ``[answer]`` word lists of a cue lexicon, folded like the texts they are looked for in."""

    function_chars: frozenset[str]
    yesno_endings: tuple[str, ...]
    yesno_asks: tuple[str, ...]
    yesno_words: tuple[str, ...]
    leads: tuple[str, ...]
    number_asks: tuple[str, ...]
    number_chars: frozenset[str]
    open_asks: tuple[str, ...]

    def __reduce__(self) -> tuple[Any, ...]:
        # mypyc: a compiled frozen dataclass cannot be unpickled field by field
        return (
            type(self),
            (
                self.function_chars,
                self.yesno_endings,
                self.yesno_asks,
                self.yesno_words,
                self.leads,
                self.number_asks,
                self.number_chars,
                self.open_asks,
            ),
        )


@lru_cache(maxsize=8)
def _words(cues: CueLexicon) -> _Words:
    def words(key: str) -> tuple[str, ...]:
        return tuple(fold(w) for w in cues.answer.get(key, ()))

    return _Words(
        function_chars=frozenset("".join(words("function_chars"))),
        yesno_endings=words("yesno_endings"),
        yesno_asks=words("yesno_asks"),
        yesno_words=words("yesno_words"),
        leads=words("leads"),
        number_asks=words("number_asks"),
        number_chars=frozenset("".join(words("number_chars"))),
        open_asks=words("open_asks"),
    )


@lru_cache(maxsize=8)
def _content_patterns(cues: CueLexicon) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """A content character (CJK, a digit or a Latin letter, not a function character), and two in a row."""
    function_chars = re.escape("".join(sorted(_words(cues).function_chars)))
    char = f"(?![{function_chars}])[\u3400-\u9fff0-9a-z]" if function_chars else "[\u3400-\u9fff0-9a-z]"
    return re.compile(char), re.compile(f"(?=({char}{char}))")


def _content(cues: CueLexicon, text: str) -> tuple[frozenset[str], frozenset[str]]:
    """Content characters of a folded text and its two-character words (adjacent content chars)."""
    char, pair = _content_patterns(cues)
    return frozenset(char.findall(text)), frozenset(pair.findall(text))


@lru_cache(maxsize=64)
def _any_of(words: tuple[str, ...]) -> re.Pattern[str] | None:
    """One pattern that finds any of ``words`` (None when there are none)."""
    return re.compile("|".join(map(re.escape, words))) if words else None


def _holds(words: tuple[str, ...], text: str) -> bool:
    pattern = _any_of(words)
    return pattern is not None and pattern.search(text) is not None


@lru_cache(maxsize=8)
def _leads(cues: CueLexicon) -> re.Pattern[str]:
    """Leading punctuation, addresses and greetings (亲, 您好 …), as many as there are."""
    leads = "|".join(re.escape(lead) for lead in _words(cues).leads if lead)
    return re.compile(f"(?:[\\s,.!?~，。！？、…:：]|{leads})*" if leads else "[\\s,.!?~，。！？、…:：]*")


def _lead_end(cues: CueLexicon, reply: str) -> int:
    """Where the reply starts after its leading addresses, greetings and punctuation."""
    match = _leads(cues).match(reply)
    return match.end() if match else 0


@lru_cache(maxsize=8)
def _numbers(cues: CueLexicon) -> re.Pattern[str]:
    """A digit or one of the lexicon's number characters."""
    return re.compile(f"[0-9{re.escape(''.join(sorted(_words(cues).number_chars)))}]")


# The character and 2-gram sets of a text cost 1-3 KB each (a set table, a str per CJK
# character or pair). Full-size caches of them held about 60 MB per worker on a real-text
# day; the pair caches of the rule answer most repeats first, so on that day these smaller
# ones cost no measurable time (the reply and buyer caches hit one lookup in six even at
# 4,096 entries). The 2-gram sets serve only the near-repeat test, behind its own cache of
# 16,384 pairs: 256 of them ran as fast as 1,024 on both benchmark days, and the larger cache
# held about 2 MB more per worker once full.
_CONTENT_CACHE_SIZE = 512
_BIGRAM_CACHE_SIZE = 256


@dataclass(frozen=True, slots=True)
class _Buyer:
    """What the answered-cues read of a buyer turn: its content and what it asks."""

    chars: frozenset[str]
    pairs: frozenset[str]  # its two-character words: adjacent content characters
    a_not_a: tuple[str, ...]  # the verbs of its A-not-A questions (能 of 能不能)
    yesno: bool
    number: bool
    open: bool

    def __reduce__(self) -> tuple[Any, ...]:
        # mypyc: a compiled frozen dataclass cannot be unpickled field by field
        return (type(self), (self.chars, self.pairs, self.a_not_a, self.yesno, self.number, self.open))


@dataclass(frozen=True, slots=True)
class _Reply:
    """What the answered-cues read of a reply: content, an opening yes/no word, a number."""

    folded: str
    chars: frozenset[str]
    pairs: frozenset[str]
    yesno_word: bool
    number: bool

    def __reduce__(self) -> tuple[Any, ...]:
        # mypyc: a compiled frozen dataclass cannot be unpickled field by field
        return (type(self), (self.folded, self.chars, self.pairs, self.yesno_word, self.number))


@lru_cache(maxsize=_CONTENT_CACHE_SIZE)
def _buyer(cues: CueLexicon, buyer: str) -> _Buyer:
    words = _words(cues)
    tail = fold(cues.buyer_tail(buyer))
    chars, pairs = _content(cues, tail)
    question = _TRAILING_PUNCTUATION.sub("", tail)
    a_not_a = tuple(_A_NOT_A.findall(tail))
    return _Buyer(
        chars,
        pairs,
        a_not_a,
        yesno=bool(a_not_a) or question.endswith(words.yesno_endings) or _holds(words.yesno_asks, tail),
        number=_holds(words.number_asks, question),
        open=_holds(words.open_asks, question),
    )


@lru_cache(maxsize=_CONTENT_CACHE_SIZE)
def _reply(cues: CueLexicon, reply: str) -> _Reply:
    words = _words(cues)
    folded = fold(reply)
    chars, pairs = _content(cues, folded)
    return _Reply(
        folded,
        chars,
        pairs,
        yesno_word=folded[_lead_end(cues, folded) :].startswith(words.yesno_words),
        number=_numbers(cues).search(folded) is not None,
    )


def answer_states(cues: CueLexicon, reply: str, buyer: str, kinds: tuple[str, ...]) -> frozenset[str]:
    """The answered-states of a reply to a buyer turn of these kinds (``ANSWER_STATES`` names).

    Each text is read once (cached per distinct text); a pair costs a few set operations.
    """
    asked = ("question" in kinds or "request" in kinds) and "ends_ack" not in kinds
    problem = "problem" in kinds
    if not asked and not problem:
        return frozenset()
    r, b = _reply(cues, reply), _buyer(cues, buyer)
    shares_char = not r.chars.isdisjoint(b.chars)
    on: set[str] = set()
    if problem and not shares_char:
        on.add("problem_shares_nothing")
    if not asked:
        return frozenset(on)
    on.add("asked")
    shares_word = not r.pairs.isdisjoint(b.pairs)
    on.add(
        "asked_shares_word" if shares_word else "asked_shares_char" if shares_char else "asked_shares_nothing"
    )
    answered = shares_char
    if b.yesno:
        on.add("yesno_asked")
        said = r.yesno_word or any(verb in r.folded for verb in b.a_not_a)
        on.add("yesno_answered" if said else "yesno_not_answered")
        answered = answered or said
    if b.number:
        on.add("number_asked")
        on.add("number_given" if r.number else "number_missing")
        answered = answered or r.number
    if b.open:
        on.add("open_asked")
        if not shares_char:
            on.add("open_shares_nothing")
    if not answered:
        on.add("unanswered")
    return frozenset(on)


@lru_cache(maxsize=TEXT_CACHE_SIZE)
def _distinct(core: str) -> int:
    return len(set(core))


@lru_cache(maxsize=_BIGRAM_CACHE_SIZE)
def _bigrams(core: str) -> frozenset[str]:
    return frozenset(_PAIRS.findall(core)) if len(core) > 1 else frozenset({core})


# How a reply relates to the agent's earlier messages of its window (:func:`echo`).
NO_ECHO, NEAR_ECHO, SAME_ECHO = 0, 1, 2


# Larger than the text caches: the key is a reply with the set of the agent's earlier messages
# in its window, which recur less often than either text. On a real-text day at 4,096 entries
# three lookups in five missed, at 16,384 one in ten (nearly all first sights), and the day
# of a million messages ran 3% faster with --jobs 2. Kept by hash: the key's texts stay free.
_ECHOES: SlotCache[int] = SlotCache(4 * TEXT_CACHE_SIZE)


def echo_of(reply_core: str, earlier: frozenset[str]) -> int:
    """:func:`echo`, cached: a day repeats its stock replies after the same stock messages.

    On a real-text day of a million messages nine in ten of the reply's and window's pairs
    had come before; the near-repeat test costs several times a lookup.
    """
    key = (reply_core, earlier)
    found = _ECHOES.get(key)
    return _ECHOES.put(key, echo(reply_core, earlier)) if found is None else found


def echo(reply_core: str, earlier: Iterable[str]) -> int:
    """Whether the reply says an earlier agent message again: ``SAME_ECHO``, ``NEAR_ECHO`` or ``NO_ECHO``.

    ``earlier`` are the cores of the agent messages before the reply in the window. Only
    replies and messages of more than three characters count: the same core is ``SAME_ECHO``,
    a near repeat (Jaccard of character 2-grams at least ``_NEAR_REPEAT``) ``NEAR_ECHO``.
    The features read the earlier messages through this alone, so a turn is kept under it.
    """
    if len(reply_core) <= 3:
        return NO_ECHO
    if reply_core in earlier:
        return SAME_ECHO
    mine: frozenset[str] | None = None
    for other in earlier:
        if len(other) <= 3:
            continue
        # A text of n characters, d of them distinct, has between d - 1 and n - 1 distinct
        # 2-grams; when even these bounds cannot reach the ratio, skip building the sets.
        if len(reply_core) - 1 < _NEAR_REPEAT * (_distinct(other) - 1) or len(other) - 1 < _NEAR_REPEAT * (
            _distinct(reply_core) - 1
        ):
            continue
        mine = mine or _bigrams(reply_core)
        theirs = _bigrams(other)
        # |A ∩ B| ≥ r·|A ∪ B| needs the smaller set to hold at least r times the larger one.
        if min(len(mine), len(theirs)) < _NEAR_REPEAT * max(len(mine), len(theirs)):
            continue
        if len(mine & theirs) >= _NEAR_REPEAT * len(mine | theirs):
            return NEAR_ECHO
    return NO_ECHO


def repeat_states(
    reply_core: str,
    echoed: int,
    buyer_spoke: bool,
    reply_apology: bool,
    previous_apology: bool,
) -> frozenset[str]:
    """Whether the reply says an earlier agent message again after the buyer wrote (``REPEAT_STATES``).

    ``echoed`` is the reply's :func:`echo` of the agent messages before it in the window.
    """
    if not buyer_spoke or not reply_core:
        return frozenset()
    on: set[str] = set()
    if reply_apology and previous_apology:
        on.add("apology_again")
    if echoed != NO_ECHO:
        on.add("repeats_after_buyer")
    return frozenset(on)


@lru_cache(maxsize=TEXT_CACHE_SIZE)
def crossed(states: frozenset[str], length_bucket: int, reply_groups: frozenset[str]) -> frozenset[str]:
    """The block's column names that hold: the states, and the crossed states × length and groups."""
    names = {f"ans.{s}" for s in states}
    groups = sorted(reply_groups)
    for s in CROSSED_STATES:
        if s in states:
            names.add(f"ans.{s}×length{length_bucket}")
            names.update(f"ans.{s}×reply.{g}" for g in groups)
    return share(frozenset(names))
