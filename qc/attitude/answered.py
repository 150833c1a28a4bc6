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

from qc.attitude.cues import CueLexicon
from qc.text.tokens import TEXT_CACHE_SIZE, fold

__all__ = [
    "ANSWER_STATES",
    "CROSSED_STATES",
    "REPEAT_STATES",
    "answer_names",
    "answer_states",
    "repeat_states",
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

_CJK_OR_ALNUM = re.compile(r"[\u3400-\u9fff0-9a-z]")
_A_NOT_A = re.compile(r"([\u4e00-\u9fff])[不没]\1")
_DIGIT = re.compile(r"[0-9]")
_LEADING_PUNCTUATION = re.compile(r"^[\s,.!?~，。！？、…:：]+")
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


@lru_cache(maxsize=TEXT_CACHE_SIZE)
def _content(cues: CueLexicon, text: str) -> tuple[frozenset[str], frozenset[str]]:
    """Content characters of a folded text and its two-character words (adjacent content chars)."""
    function_chars = _words(cues).function_chars
    chars = [c if _CJK_OR_ALNUM.match(c) and c not in function_chars else "" for c in text]
    pairs = frozenset(a + b for a, b in zip(chars, chars[1:], strict=False) if a and b)
    return frozenset(c for c in chars if c), pairs


def _strip_lead(reply: str, leads: Iterable[str]) -> str:
    """The reply without its leading addresses and greetings (亲, 您好 …) and punctuation."""
    text = reply
    changed = True
    while changed:
        changed = False
        text = _LEADING_PUNCTUATION.sub("", text)
        for lead in leads:
            if lead and text.startswith(lead):
                text = text[len(lead) :]
                changed = True
    return text


@lru_cache(maxsize=TEXT_CACHE_SIZE)
def _answer_states(cues: CueLexicon, reply: str, buyer: str, asked: bool, problem: bool) -> frozenset[str]:
    words = _words(cues)
    folded_reply = fold(reply)
    tail = fold(buyer[-cues.buyer_chars :] if cues.buyer_chars else "")
    reply_chars, reply_pairs = _content(cues, folded_reply)
    buyer_chars, buyer_pairs = _content(cues, tail)
    shares_word = bool(reply_pairs & buyer_pairs)
    shares_char = bool(reply_chars & buyer_chars)
    on: set[str] = set()
    if problem and not shares_char:
        on.add("problem_shares_nothing")
    if not asked:
        return frozenset(on)
    on.add("asked")
    on.add(
        "asked_shares_word" if shares_word else "asked_shares_char" if shares_char else "asked_shares_nothing"
    )
    question = _TRAILING_PUNCTUATION.sub("", tail)
    answered = shares_char
    a_not_a = _A_NOT_A.findall(tail)
    if a_not_a or question.endswith(words.yesno_endings) or any(w in tail for w in words.yesno_asks):
        on.add("yesno_asked")
        body = _strip_lead(folded_reply, words.leads)
        said = body.startswith(words.yesno_words) or any(verb in folded_reply for verb in a_not_a)
        on.add("yesno_answered" if said else "yesno_not_answered")
        answered = answered or said
    if any(w in question for w in words.number_asks):
        on.add("number_asked")
        given = bool(_DIGIT.search(folded_reply)) or any(c in words.number_chars for c in folded_reply)
        on.add("number_given" if given else "number_missing")
        answered = answered or given
    if any(w in question for w in words.open_asks):
        on.add("open_asked")
        if not shares_char:
            on.add("open_shares_nothing")
    if not answered:
        on.add("unanswered")
    return frozenset(on)


def answer_states(cues: CueLexicon, reply: str, buyer: str, kinds: tuple[str, ...]) -> frozenset[str]:
    """The answered-states of a reply to a buyer turn of these kinds (``ANSWER_STATES`` names)."""
    asked = ("question" in kinds or "request" in kinds) and "ends_ack" not in kinds
    return _answer_states(cues, reply, buyer, asked, "problem" in kinds)


@lru_cache(maxsize=TEXT_CACHE_SIZE)
def _bigrams(core: str) -> frozenset[str]:
    return frozenset(core[i : i + 2] for i in range(len(core) - 1)) if len(core) > 1 else frozenset({core})


def repeat_states(
    reply_core: str,
    earlier: Iterable[str],
    buyer_spoke: bool,
    reply_apology: bool,
    previous_apology: bool,
) -> frozenset[str]:
    """Whether the reply says an earlier agent message again after the buyer wrote (``REPEAT_STATES``).

    ``earlier`` are the cores of the agent messages before the reply in the window.
    """
    if not buyer_spoke or not reply_core:
        return frozenset()
    on: set[str] = set()
    if reply_apology and previous_apology:
        on.add("apology_again")
    if len(reply_core) > 3:
        mine = _bigrams(reply_core)
        for other in earlier:
            if len(other) <= 3:
                continue
            theirs = _bigrams(other)
            if len(mine & theirs) >= _NEAR_REPEAT * len(mine | theirs):
                on.add("repeats_after_buyer")
                break
    return frozenset(on)


def crossed(states: frozenset[str], length_bucket: int, reply_groups: Iterable[str]) -> frozenset[str]:
    """The block's column names that hold: the states, and the crossed states × length and groups."""
    names = {f"ans.{s}" for s in states}
    groups = tuple(reply_groups)
    for s in CROSSED_STATES:
        if s in states:
            names.add(f"ans.{s}×length{length_bucket}")
            names.update(f"ans.{s}×reply.{g}" for g in groups)
    return frozenset(names)
