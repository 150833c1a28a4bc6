"""Features of an agent reply in its context (feature version 6): hashed n-grams and cues.

The classifier reads one agent reply with the turns before it (a :class:`Turn`, made by
:meth:`Featurizer.turn` from :func:`canonical` text: digit runs and data placeholders such as
``[订单x]`` read as ``0``, the cue words' own numbers such as 12315 kept, so replies that differ
only in an order number or an amount are one input):

* the **reply**: character 1-3-grams and word 1-2-grams (rjieba tokens);
* the **buyer turn** (the buyer's messages since the agent last spoke): character 1-2-grams;
* the **previous agent message**: character 1-2-grams;
* **crosses**: every kind of buyer turn (question, request, problem, anger, ends with 好的 …)
  times the reply's length bucket and character 1-2-grams, so "嗯 after a question" and "嗯
  after 好的" are different features, which a linear model cannot build from the parts;
* **cues**: word groups of the cue lexicon found in the reply and the buyer turn, the reply's
  length bucket, repetition of an earlier agent message, and crosses a QA lead recognises (a
  closing formula over an open question, 不清楚 with no offer to find out …);
* **answered?** (:mod:`qc.attitude.answered`): whether the reply takes up what the buyer's turn
  asks (shared content, a yes/no word to a yes/no question, a number when one was asked) and
  whether it says an earlier agent message again after the buyer wrote, with crosses.

Text is folded to half width and lower case and digits and data placeholders (``[数字x]``)
become ``0`` before n-grams. Each block is hashed into its own range of columns, log-scaled
and L2-normalised (:mod:`qc.attitude.hashing`: whole-array NumPy, no loop per n-gram), so a
model is a weight row per column. Training and inspection build every block with these same
functions, for many texts at once; a text's values never depend on the other texts of its batch.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from qc.attitude import answered
from qc.attitude.cues import CueLexicon
from qc.attitude.hashing import (
    Columns,
    SpanBatch,
    block_columns,
    hash_columns,
    mix,
    ngram_spans,
    ragged_take,
)
from qc.text.tokens import TEXT_CACHE_SIZE, core, fold

__all__ = [
    "FEATURE_VERSION",
    "Context",
    "FeatureConfig",
    "Featurizer",
    "Turn",
    "buyer_turn",
    "canonical",
    "context_window",
    "core",
    "folded_core",
    "ngram_key",
    "normalize",
    "previous_agent",
]

# Bump whenever any feature computes something different for the same input.
FEATURE_VERSION = 6

Context = Sequence[tuple[str, str]]

_PLACEHOLDER_OR_DIGITS = re.compile(r"\[[^\[\]\n]{1,8}x\]|\d+")
# How many turns before the reply any feature reads.
_CONTEXT_TURNS = 6
# Salts of the blocks' hashes (any fixed numbers; changing one is a new feature version).
_SALT = {"reply": 0x5EED_0001, "words": 0x5EED_0002, "buyer": 0x5EED_0003, "previous": 0x5EED_0004}
_CROSS_SALT = 0x5EED_0005
_LENGTH_SALT = 0x5EED_0006


def context_window() -> int:
    """How many turns before a reply the features read (the rest never matters)."""
    return _CONTEXT_TURNS


def canonical(text: str, numbers: frozenset[str] = frozenset()) -> str:
    """The text every feature reads: digit runs and data placeholders as ``0``, the rest as it is.

    An order number, an amount or a ``[订单x]`` placeholder says nothing of the agent's
    attitude, so replies and turns that differ only there are one input (and one cached
    score). A digit run holding one of ``numbers`` (the cue words' own, such as 12315) stays.
    """
    if not numbers:
        return _PLACEHOLDER_OR_DIGITS.sub("0", text)
    return _PLACEHOLDER_OR_DIGITS.sub(lambda m: _kept(m.group(), numbers), text)


def _kept(found: str, numbers: frozenset[str]) -> str:
    if found.startswith("["):
        return "0"
    folded = fold(found)
    return found if any(n in folded for n in numbers) else "0"


def normalize(text: str) -> str:
    """Half width, lower case, digits and data placeholders as ``0``: what the n-grams read."""
    return _PLACEHOLDER_OR_DIGITS.sub("0", fold(text))


@lru_cache(maxsize=TEXT_CACHE_SIZE)
def ngram_key(text: str) -> str:
    """A text that every n-gram block reads as it reads ``text``: ``normalize(text)`` where that is stable.

    The n-gram blocks read a text only through :func:`normalize`, so texts that differ only in
    digits or data placeholders (a stock reply with another order number) share their n-gram
    scores. Where normalising twice would change the text again (a placeholder spelled by
    the digits it held), the text itself is the key.
    """
    key = normalize(text)
    # Folding twice folds nothing more (tests check the table), and every digit run of ``key``
    # is a lone 0: normalising again can only change a "00" (a placeholder beside digits) or a
    # placeholder spelled anew, which needs a "[".
    if ("[" in key or "00" in key) and normalize(key) != key:
        return text
    return key


# Every reply reads the cores of its whole window again, and stock messages recur across
# conversations. On the real-text day's attitude stage 16,384 entries ran as fast as 32,768
# and 7% faster than 4,096; 32,768 kept up to 5 MB more texts alive per worker. Buyer turns,
# nearly all distinct, are not read through it (:meth:`Featurizer.buyer_kinds`).
@lru_cache(maxsize=4 * TEXT_CACHE_SIZE)
def folded_core(text: str) -> str:
    """``core(fold(text))``, cached: a message is read again by every reply in its window."""
    return core(fold(text))


def buyer_turn(context: Context) -> str:
    """The buyer's messages since the agent last spoke, joined by spaces ('' when the agent spoke last)."""
    texts: list[str] = []
    for role, text in reversed(context):
        if role != "customer":
            break
        texts.append(text)
    return " ".join(reversed(texts))


def previous_agent(context: Context) -> str:
    """The last agent message before the reply ('' when there is none in the context)."""
    for role, text in reversed(context):
        if role == "agent":
            return text
    return ""


@dataclass(frozen=True, slots=True)
class FeatureConfig:
    """Sizes and weights of the feature blocks; a model records the config it was trained with."""

    reply_ngrams: tuple[int, int] = (1, 3)
    reply_bits: int = 18
    word_ngrams: tuple[int, int] = (1, 2)
    word_bits: int = 17
    buyer_ngrams: tuple[int, int] = (1, 2)
    buyer_bits: int = 16
    buyer_weight: float = 0.5
    previous_ngrams: tuple[int, int] = (1, 2)
    previous_bits: int = 16
    previous_weight: float = 0.5
    cross_ngrams: tuple[int, int] = (1, 2)
    cross_bits: int = 19
    answer_weight: float = 1.0
    answer_crosses: bool = True

    def to_json(self) -> dict[str, Any]:
        """A JSON-safe dict (for the model's meta.json)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FeatureConfig:
        """The config a model's meta.json records.

        Raises:
            ValueError: an unknown key (a model from a newer qc).
        """
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown feature settings: {', '.join(sorted(unknown))}")
        values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        return cls(**values)

    def __reduce__(self) -> tuple[Any, ...]:
        # mypyc: a compiled frozen dataclass cannot be unpickled field by field
        return (
            type(self),
            (
                self.reply_ngrams,
                self.reply_bits,
                self.word_ngrams,
                self.word_bits,
                self.buyer_ngrams,
                self.buyer_bits,
                self.buyer_weight,
                self.previous_ngrams,
                self.previous_bits,
                self.previous_weight,
                self.cross_ngrams,
                self.cross_bits,
                self.answer_weight,
                self.answer_crosses,
            ),
        )


class Turn(NamedTuple):
    """What the features read of one reply in its context.

    Every feature is a function of the turn alone, so a turn is also the key under which the
    rule keeps a reply's scores (a tuple: hashed and compared in C).
    """

    reply: str
    buyer: str
    previous: str
    # Whether the reply says an agent message of the window again, as the features read it
    # (see of): all they read of those messages, so turns that differ only there share a key.
    echo: int

    @classmethod
    def of(cls, message: str, context: Context) -> Turn:
        """The view of ``message`` after ``context`` (oldest first, ``(role, text)`` pairs).

        ``echo`` is :func:`answered.echo` of the agent messages in the window, where a feature
        reads it: the same words always (``reply_repeats_earlier``), a near repeat only after
        the buyer wrote and with an agent message before (``repeats_after_buyer``), else
        ``NO_ECHO``. A shorter reply never counts as a repeat, so it builds no set.
        """
        window = context[-_CONTEXT_TURNS:]
        buyer, previous = buyer_turn(window), previous_agent(window)
        body = folded_core(message)
        echoed = answered.NO_ECHO
        if len(body) > 3:
            earlier = frozenset([folded_core(t) for role, t in window if role == "agent"])
            if body in earlier:
                echoed = answered.SAME_ECHO
            elif previous and buyer.strip():
                echoed = answered.echo_of(body, earlier)
        return cls(message, buyer, previous, echoed)


def _named_columns(sets: Sequence[frozenset[str]], column_of: dict[str, int], value: float) -> Columns:
    """``value`` in the column of every name in each input's set (columns in ascending order)."""
    texts: list[int] = []
    cols: list[int] = []
    for i, on in enumerate(sets):
        for column in sorted(column_of[name] for name in on):
            texts.append(i)
            cols.append(column)
    return Columns(
        np.asarray(texts, dtype=np.int64), np.asarray(cols, dtype=np.int64), np.full(len(cols), value)
    )


def _salted(
    hashes: npt.NDArray[np.uint64], salt: int, sizes: npt.NDArray[np.int64]
) -> npt.NDArray[np.uint64]:
    # The n-gram size goes into the salt: a 2-gram never shares a column with a 1-gram by design.
    return mix(hashes ^ sizes.astype(np.uint64), salt)


class Featurizer:
    """Builds the blocks of feature version 6 from a :class:`FeatureConfig` and a cue lexicon."""

    def __init__(self, config: FeatureConfig, cues: CueLexicon) -> None:
        self.config = config
        self.cues = cues
        c = config
        self.offsets: dict[str, int] = {}
        at = 0
        for name, bits in (
            ("reply", c.reply_bits),
            ("words", c.word_bits),
            ("buyer", c.buyer_bits),
            ("previous", c.previous_bits),
            ("cross", c.cross_bits),
        ):
            self.offsets[name] = at
            at += 1 << bits
        self.cue_names = self._cue_names()
        # The folded words of the reply groups that are no reason (亲, 您, 稍等 …), unless a group
        # that is one also has them (哦 is a friendly particle, and a bare interjection too).
        words = {
            reason: {
                fold(w)
                for g, ws in cues.groups["reply"].items()
                for w in ws
                if (f"reply.{g}" in cues.not_reasons) != reason
            }
            for reason in (False, True)
        }
        self._not_reason_words = frozenset(words[False] - words[True])
        self.offsets["cues"] = at
        self._cue_column = {name: at + i for i, name in enumerate(self.cue_names)}
        at += len(self.cue_names)
        self.answer_names = answered.answer_names(cues)
        self.offsets["answer"] = at
        self._answer_column = {name: at + i for i, name in enumerate(self.answer_names)}
        self.dim = at + len(self.answer_names)
        kinds = (*cues.group_names("buyer"), "none", "statement", "ends_ack")
        self._kind_salt = {kind: _CROSS_SALT + 7919 * (i + 1) for i, kind in enumerate(kinds)}
        numbers = cues.numbers
        self._canonical = lru_cache(maxsize=1 << 12)(lambda text: canonical(text, numbers))

    def turn(self, message: str, context: Context) -> Turn:
        """The :class:`Turn` the features read of ``message`` after ``context`` (:func:`canonical` texts)."""
        keep = self._canonical
        window = context[-_CONTEXT_TURNS:]
        return Turn.of(keep(message), [(role, keep(text)) for role, text in window])

    # -- blocks of many texts ------------------------------------------------------------------

    def _chars(
        self, texts: Sequence[str], ngrams: tuple[int, int], name: str, bits: int, weight: float
    ) -> Columns:
        return self._char_block(SpanBatch.of([normalize(t) for t in texts]), ngrams, name, bits, weight)

    def _char_block(
        self, batch: SpanBatch, ngrams: tuple[int, int], name: str, bits: int, weight: float
    ) -> Columns:
        owners, begin, end = ngram_spans(batch, *ngrams)
        hashes = _salted(batch.hash_spans(begin, end), _SALT[name], end - begin)
        return block_columns(owners, hashes, len(batch.starts), self.offsets[name], bits, weight)

    def reply_columns(self, replies: Sequence[str]) -> Columns:
        """Character n-grams and word n-grams of each reply (text ``i`` is ``replies[i]``)."""
        import rjieba

        c = self.config
        normalized = [normalize(t) for t in replies]
        batch = SpanBatch.of(normalized)
        chars = self._char_block(batch, c.reply_ngrams, "reply", c.reply_bits, 1.0)
        owners, b, e = self._word_spans([rjieba.cut(t) for t in normalized])
        hashes = _salted(batch.hash_spans(b, e), _SALT["words"], e - b)
        words = block_columns(owners, hashes, len(replies), self.offsets["words"], c.word_bits, 1.0)
        return Columns.concat([chars, words])

    def _word_spans(
        self, tokens: Sequence[Sequence[str]]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """``(owner, begin, end)`` of every word n-gram (blank tokens left out) in the texts joined.

        ``tokens[i]`` are the tokens of text ``i``, which they must cover exactly.
        """
        flat = [token for text in tokens for token in text]
        lengths = np.fromiter(map(len, flat), dtype=np.int64, count=len(flat))
        blank = np.fromiter(map(str.isspace, flat), dtype=bool, count=len(flat))
        # The tokens of each text cover it exactly and the batch joins the texts with nothing
        # between them, so a token starts where the tokens before it (of any text) end.
        owner = np.repeat(
            np.arange(len(tokens), dtype=np.int64),
            np.fromiter(map(len, tokens), dtype=np.int64, count=len(tokens)),
        )
        begin = np.cumsum(lengths) - lengths
        keep = ~blank
        owner, begin, end = owner[keep], begin[keep], begin[keep] + lengths[keep]
        low, high = self.config.word_ngrams
        parts_o: list[npt.NDArray[np.int64]] = []
        parts_b: list[npt.NDArray[np.int64]] = []
        parts_e: list[npt.NDArray[np.int64]] = []
        for size in range(low, high + 1):
            if size > len(owner):
                break
            last = size - 1
            same = owner[: len(owner) - last] == owner[last:]
            parts_o.append(owner[: len(owner) - last][same])
            parts_b.append(begin[: len(owner) - last][same])
            parts_e.append(end[last:][same])
        if not parts_o:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, empty
        return np.concatenate(parts_o), np.concatenate(parts_b), np.concatenate(parts_e)

    def buyer_columns(self, buyers: Sequence[str]) -> Columns:
        """Character n-grams of each buyer turn (its last ``buyer_chars`` characters)."""
        c = self.config
        tails = [self.cues.buyer_tail(b) for b in buyers]
        return self._chars(tails, c.buyer_ngrams, "buyer", c.buyer_bits, c.buyer_weight)

    def previous_columns(self, previous: Sequence[str]) -> Columns:
        """Character n-grams of each previous agent message."""
        c = self.config
        return self._chars(previous, c.previous_ngrams, "previous", c.previous_bits, c.previous_weight)

    def buyer_kinds(self, buyer: str) -> tuple[str, ...]:
        """A buyer turn's kinds: its cue groups plus ``ends_ack``; ``none`` if empty, else ``statement``."""
        if not buyer.strip():
            return ("none",)
        # Read once per distinct buyer turn (the rule keeps the kinds): nearly every buyer turn
        # is new, and caching its scan and folded text only pushed repeated replies out.
        folded = fold(buyer)
        kinds = sorted(self.cues.scan_folded("buyer", folded))
        tail = core(folded)[-4:]
        if tail.endswith(self.cues.ack_endings) and not tail.endswith(self.cues.question_endings):
            kinds.append("ends_ack")
        return tuple(kinds) or ("statement",)

    def length_label(self, bucket: int) -> str:
        """How an explanation names a length bucket (回复2个字以内, 回复超过40个字 …)."""
        bounds = self.cues.length_bounds
        if bucket == 0:
            return "回复只有表情或标点" if bounds[0] == 0 else f"回复{bounds[0]}个字以内"
        if bucket >= len(bounds):
            return f"回复超过{bounds[-1]}个字"
        low, high = bounds[bucket - 1] + 1, bounds[bucket]
        return f"回复只有{high}个字" if low == high else f"回复{low}–{high}个字"

    def length_bucket(self, reply: str) -> int:
        """Which length bucket of the cue lexicon the reply's core falls in."""
        n = len(folded_core(reply))
        for i, bound in enumerate(self.cues.length_bounds):
            if n <= bound:
                return i
        return len(self.cues.length_bounds)

    def cross_columns(self, pairs: Sequence[tuple[tuple[str, ...], str]]) -> Columns:
        """For each ``(buyer kinds, reply)``: every kind times the reply's length bucket and 1-2-grams."""
        return self.cross_block([(kinds, core(reply), self.length_bucket(reply)) for kinds, reply in pairs])

    def cross_block(self, pairs: Sequence[tuple[tuple[str, ...], str, int]]) -> Columns:
        """:meth:`cross_columns` of ``(buyer kinds, body, length bucket)``; n-grams of ``normalize(body)``.

        The body is the reply's :func:`core`, or any text that normalises as it does (the rule
        keeps these crosses per normalised body: a stock reply with another order number is
        the same cross).
        """
        c = self.config
        cross = _Crosses.of(self, pairs)
        return block_columns(cross.owner, cross.hashes, len(pairs), self.offsets["cross"], c.cross_bits, 1.0)

    # -- cues ----------------------------------------------------------------------------------

    def _cue_names(self) -> tuple[str, ...]:
        cues = self.cues
        return (
            *(f"reply.{g}" for g in cues.group_names("reply")),
            *(f"buyer.{g}" for g in cues.group_names("buyer")),
            *(f"length{i}" for i in range(len(cues.length_bounds) + 1)),
            "buyer_none",
            "buyer_statement",
            "buyer_ends_ack",
            "agent_spoke_last",
            "reply_emoji_only",
            "reply_has_digit",
            "reply_asks",
            "reply_repeats_previous",
            "reply_repeats_earlier",
            "close_ignores_question",
            "greet_ignores_question",
            "unknown_to_question",
            "pushaway_to_question",
            "short_to_question",
            "short_to_problem",
            "emoji_to_anger",
            "interjection_to_question",
            "bare_negative_to_question",
            "repeat_to_question",
            "blame_on_problem",
            "polite_to_anger",
            "irritation_to_question",
        )

    def cue_set(self, turn: Turn, kinds: tuple[str, ...]) -> frozenset[str]:
        """The names of the cues that hold for this reply in its context."""
        cues = self.cues
        folded = fold(turn.reply)
        body = folded_core(turn.reply)
        n = len(body)
        r = cues.scan("reply", turn.reply)
        on: set[str] = {f"reply.{g}" for g in r}
        on.update(f"buyer.{k}" for k in kinds if k in cues.groups["buyer"])
        on.add(f"length{self.length_bucket(turn.reply)}")
        on.update(f"buyer_{name}" for name in ("none", "statement", "ends_ack") if name in kinds)
        if not turn.buyer.strip():
            on.add("agent_spoke_last")
        emoji_only = n == 0 and bool(folded.strip())
        if emoji_only:
            on.add("reply_emoji_only")
        if any(map(str.isdigit, folded)):
            on.add("reply_has_digit")
        if "?" in folded or "吗" in folded:
            on.add("reply_asks")
        repeats_previous = n > 0 and folded_core(turn.previous) == body
        if repeats_previous:
            on.add("reply_repeats_previous")
        if turn.echo == answered.SAME_ECHO:
            on.add("reply_repeats_earlier")
        asked = "question" in kinds or "request" in kinds
        pending = asked and "ends_ack" not in kinds
        problem = "problem" in kinds
        anger = "anger" in kinds
        short = n <= cues.short
        derived = {
            "close_ignores_question": "closing" in r and pending and n <= cues.closing_max,
            "greet_ignores_question": "greeting" in r and pending and bool(turn.previous),
            "unknown_to_question": "unknown" in r and asked and "stall" not in r and "offer" not in r,
            "pushaway_to_question": "pushaway" in r and asked,
            "short_to_question": short and asked,
            "short_to_problem": short and problem,
            "emoji_to_anger": emoji_only and (anger or problem),
            "interjection_to_question": short and "interjection" in r and (asked or problem),
            "bare_negative_to_question": (
                n <= cues.bare_negative_max and "negation" in r and "particle" not in r and asked
            ),
            "repeat_to_question": repeats_previous and (asked or problem),
            "blame_on_problem": "blame" in r and (problem or anger),
            "polite_to_anger": bool({"apology", "stall", "offer"} & r) and anger,
            "irritation_to_question": "irritation" in r and asked,
        }
        on.update(name for name, holds in derived.items() if holds)
        return frozenset(on)

    def cue_columns(self, cue_sets: Sequence[frozenset[str]]) -> Columns:
        """The cue block: 1.0 in the column of every cue that holds, per input."""
        return _named_columns(cue_sets, self._cue_column, 1.0)

    # -- answered? ------------------------------------------------------------------------------

    def answer_set(self, turn: Turn, kinds: tuple[str, ...]) -> frozenset[str]:
        """The answered-block columns that hold for this reply (:mod:`qc.attitude.answered`)."""
        return self.answer_names_of(turn.reply, self.answer_states(turn, kinds))

    def answer_states(self, turn: Turn, kinds: tuple[str, ...]) -> frozenset[str]:
        """The answered- and repeat-states of this reply (``answered.ANSWER_STATES``, ``REPEAT_STATES``)."""
        return answered.answer_states(self.cues, turn.reply, turn.buyer, kinds) | self.repeat_set(turn)

    def answer_names_of(self, reply: str, states: frozenset[str]) -> frozenset[str]:
        """The block's column names for these states of ``reply`` (the states and their crosses)."""
        if not self.config.answer_crosses:
            return frozenset(f"ans.{s}" for s in states)
        crossed = not states.isdisjoint(answered.CROSSED_STATES)
        groups = self.cues.scan("reply", reply) if crossed else frozenset()
        return answered.crossed(states, self.length_bucket(reply) if crossed else 0, groups)

    def repeat_set(self, turn: Turn) -> frozenset[str]:
        """Whether the reply says an earlier agent message again after the buyer wrote."""
        if not turn.buyer.strip() or not turn.previous:
            return frozenset()
        apologies = "apology" in self.cues.scan("reply", turn.previous) and "apology" in self.cues.scan(
            "reply", turn.reply
        )
        return answered.repeat_states(folded_core(turn.reply), turn.echo, True, apologies, apologies)

    def answer_columns(self, answer_sets: Sequence[frozenset[str]]) -> Columns:
        """The answered block: the configured weight in the column of every name that holds, per input."""
        return _named_columns(answer_sets, self._answer_column, self.config.answer_weight)

    def answer_label(self, name: str) -> str:
        """How an explanation names an answered-block column (a state, or a state × length or cue)."""
        state, _, other = name.partition("×")
        label = self.cues.label(state)
        if not other:
            return label
        if other.startswith("length"):
            return f"{label}，{self.length_label(int(other.removeprefix('length')))}"
        return f"{label}，{self.cues.label(other)}"

    # -- whole vectors (training, explanations) ------------------------------------------------

    def columns(self, inputs: Sequence[tuple[str, Context]]) -> Columns:
        """Every block of every ``(message, context)`` input; text ``i`` is input ``i``."""
        turns = [self.turn(message, context) for message, context in inputs]
        kinds = [self.buyer_kinds(t.buyer) for t in turns]
        return self.turn_columns(
            turns,
            kinds,
            [self.cue_set(t, k) for k, t in zip(kinds, turns, strict=True)],
            [self.answer_set(t, k) for k, t in zip(kinds, turns, strict=True)],
        )

    def turn_columns(
        self,
        turns: Sequence[Turn],
        kinds: Sequence[tuple[str, ...]],
        cue_sets: Sequence[frozenset[str]],
        answer_sets: Sequence[frozenset[str]],
    ) -> Columns:
        """:meth:`columns` of turns whose buyer kinds, cue sets and answered sets are known already."""
        return Columns.concat(
            [
                self.reply_columns([t.reply for t in turns]),
                self.buyer_columns([t.buyer for t in turns]),
                self.previous_columns([t.previous for t in turns]),
                self.cross_columns([(k, t.reply) for k, t in zip(kinds, turns, strict=True)]),
                self.cue_columns(cue_sets),
                self.answer_columns(answer_sets),
            ]
        )

    def describe_columns(self, message: str, context: Context) -> dict[int, str]:
        """What each active column of one input is, in words a QA lead reads (for explanations).

        Hashed columns are named by the n-grams of this input that fall in them.
        """
        return self.describe_many([(message, context)])[0]

    def describe_many(
        self,
        inputs: Sequence[tuple[str, Context]],
        wanted: Sequence[Collection[int]] | None = None,
        reasons: bool = False,
    ) -> list[dict[int, str]]:
        """:meth:`describe_columns` of many inputs, each block's n-grams hashed for all at once.

        A column is named by the first n-gram of its input that falls in it (each block's
        n-grams shortest first, left to right; crosses kind by kind, the length first); cue
        columns by their label. ``wanted`` (per input, the columns to name; all when None) spares
        an explanation, which names three columns, the words of a hundred. With ``reasons``
        only what may explain a charge is named (:meth:`is_reason`): a reply's length, a polite
        word or the buyer's own words weigh in the model but are no reason a QA lead can check.
        """
        import rjieba

        c = self.config
        turns = [self.turn(message, context) for message, context in inputs]
        kinds = [self.buyer_kinds(t.buyer) for t in turns]
        out: list[dict[int, str]] = [{} for _ in turns]
        # A reply's n-gram that is just a word of a group that is no reason (亲, 您) is none either.
        # (Set before the functions below that read it: a compiled closure reads what was bound.)
        polite = self._not_reason_words if reasons else frozenset()
        never = self.cues.not_reasons if reasons else frozenset()
        want = (
            None
            if wanted is None
            else np.array(
                [i * self.dim + col for i, cols in enumerate(wanted) for col in cols], dtype=np.int64
            )
        )

        def name(
            owner: npt.NDArray[np.int64],
            column: npt.NDArray[np.int64],
            label: Callable[[int], str],
            keep: Callable[[int], bool] | None = None,
        ) -> None:
            # Entries are in naming order within each input: the first of each (input, column) names it.
            keys = owner * self.dim + column
            at = np.arange(len(keys))
            if want is not None:
                at = at[np.isin(keys, want)]
            if keep is not None:
                at = at[[keep(j) for j in at.tolist()]] if len(at) else at
            _, first = np.unique(keys[at], return_index=True)
            for j in at[first].tolist():
                out[int(owner[j])].setdefault(int(column[j]), label(j))

        def spans(
            texts: list[str],
            batch: SpanBatch,
            owner: npt.NDArray[np.int64],
            begin: npt.NDArray[np.int64],
            end: npt.NDArray[np.int64],
            block: str,
            bits: int,
            fmt: str,
        ) -> None:
            column = hash_columns(
                _salted(batch.hash_spans(begin, end), _SALT[block], end - begin), self.offsets[block], bits
            )
            local = (begin - batch.starts[owner]).tolist()
            stop = (end - batch.starts[owner]).tolist()

            def said(j: int) -> str:
                return texts[int(owner[j])][local[j] : stop[j]]

            keep = (lambda j: fold(said(j)) not in polite) if reasons and polite else None
            name(owner, column, lambda j: fmt.format(said(j)), keep)

        def chars(texts: list[str], ngrams: tuple[int, int], block: str, bits: int, fmt: str) -> None:
            batch = SpanBatch.of(texts)
            spans(texts, batch, *ngram_spans(batch, *ngrams), block, bits, fmt)

        replies = [normalize(t.reply) for t in turns]
        batch = SpanBatch.of(replies)
        spans(replies, batch, *ngram_spans(batch, *c.reply_ngrams), "reply", c.reply_bits, "回复含「{}」")
        words = self._word_spans([rjieba.cut(t) for t in replies])
        spans(replies, batch, *words, "words", c.word_bits, "回复用词「{}」")
        if "buyer" not in never:
            tails = [normalize(self.cues.buyer_tail(t.buyer)) for t in turns]
            chars(tails, c.buyer_ngrams, "buyer", c.buyer_bits, "买家说「{}」")
        if "previous" not in never:
            previous = [normalize(t.previous) for t in turns]
            chars(previous, c.previous_ngrams, "previous", c.previous_bits, "客服上一句「{}」")
        self._name_crosses(turns, kinds, name, lengths="length" not in never, polite=polite)
        for i, (turn, input_kinds) in enumerate(zip(turns, kinds, strict=True)):
            names = out[i]
            named = None if wanted is None else set(wanted[i])
            for cue in self.cue_set(turn, input_kinds):
                column = self._cue_column[cue]
                if named is not None and column not in named:
                    continue
                if reasons and not self.is_reason(cue):
                    continue
                if cue.startswith("length"):
                    names[column] = self.length_label(int(cue.removeprefix("length")))
                else:
                    names[column] = self.cues.label(cue)
            for answer in self.answer_set(turn, input_kinds):
                column = self._answer_column[answer]
                if (named is None or column in named) and not (reasons and not self.is_reason(answer)):
                    names[column] = self.answer_label(answer)
        return out

    def is_reason(self, name: str) -> bool:
        """Whether a cue or answered-state column may explain a charge (``[explain] not_reasons``).

        A state crossed with a length or a cue group follows its state: 买家的问题没有得到回答，
        回复7–15个字 is a reason, 回复接上了买家问的内容，称呼买家 is none.
        """
        never = self.cues.not_reasons
        if name.startswith("ans."):
            return name.partition("×")[0] not in never
        if name.startswith("length"):
            return "length" not in never
        if name.startswith(("buyer.", "buyer_")) and "buyer" in never:
            return False
        return name not in never

    def _name_crosses(
        self,
        turns: Sequence[Turn],
        kinds: Sequence[tuple[str, ...]],
        name: Callable[..., None],
        lengths: bool = True,
        polite: frozenset[str] = frozenset(),
    ) -> None:
        """Name the cross columns of each input: kind by kind, its length bucket, then its 1-2-grams.

        ``lengths`` False leaves a kind crossed with the length unnamed, and an n-gram in
        ``polite`` is left unnamed too (neither is a reason on its own).
        """
        buckets = [self.length_bucket(t.reply) for t in turns]
        cross = _Crosses.of(
            self, [(k, core(t.reply), b) for k, t, b in zip(kinds, turns, buckets, strict=True)]
        )
        labels = [
            self.cues.label(f"buyer.{kind}" if kind in self.cues.groups["buyer"] else f"buyer_{kind}")
            for input_kinds in kinds
            for kind in input_kinds
        ]
        column = hash_columns(cross.hashes, self.offsets["cross"], self.config.cross_bits)
        local = cross.local.tolist()
        stop = cross.stop.tolist()

        def label(j: int) -> str:
            row, g, i = int(cross.row[j]), int(cross.gram[j]), int(cross.owner[j])
            if g < 0:
                return f"{labels[row]}时{self.length_label(buckets[i])}"
            return f"{labels[row]}时回复「{cross.bodies[i][local[g] : stop[g]]}」"

        def keep(j: int) -> bool:
            g = int(cross.gram[j])
            if g < 0:
                return lengths
            return fold(cross.bodies[int(cross.owner[j])][local[g] : stop[g]]) not in polite

        name(cross.owner, column, label, None if lengths and not polite else keep)


@dataclass(frozen=True, slots=True)
class _Crosses:
    """The cross keys of many ``(kinds, body, bucket)`` pairs, in naming order.

    Every (pair, kind) row holds the pair's length key, then its n-grams shortest first, left
    to right, each salted with the kind; rows follow the pairs' order.
    """

    bodies: list[str]  # each pair's normalised body
    owner: npt.NDArray[np.int64]  # the pair of each entry
    row: npt.NDArray[np.int64]  # the (pair, kind) row of each entry
    gram: npt.NDArray[np.int64]  # the entry's n-gram (an index into local/stop), -1 for the length
    hashes: npt.NDArray[np.uint64]
    local: npt.NDArray[np.int64]  # where each n-gram begins in its body, in key order
    stop: npt.NDArray[np.int64]

    @classmethod
    def of(cls, featurizer: Featurizer, pairs: Sequence[tuple[tuple[str, ...], str, int]]) -> _Crosses:
        """The keys of ``pairs`` as :meth:`Featurizer.cross_block` hashes them."""
        bodies = [normalize(body) for _, body, _ in pairs]
        batch = SpanBatch.of(bodies)
        owners, begin, end = ngram_spans(batch, *featurizer.config.cross_ngrams)
        order = np.argsort(owners, kind="stable")  # each pair's n-grams together, in naming order
        grams = _salted(batch.hash_spans(begin, end), _CROSS_SALT, end - begin)[order]
        n_grams = np.bincount(owners, minlength=len(pairs))
        gram_start = np.cumsum(n_grams) - n_grams
        lengths = mix(np.array([bucket for _, _, bucket in pairs], dtype=np.uint64), _LENGTH_SALT)
        rows = [(i, featurizer._kind_salt[kind]) for i, (kinds, _, _) in enumerate(pairs) for kind in kinds]
        row_pair = np.fromiter((i for i, _ in rows), dtype=np.int64, count=len(rows))
        row_salt = np.fromiter((salt for _, salt in rows), dtype=np.uint64, count=len(rows))
        sizes = n_grams[row_pair] + 1
        row = np.repeat(np.arange(len(rows), dtype=np.int64), sizes)
        gram = ragged_take(gram_start[row_pair] - 1, sizes)
        gram[np.cumsum(sizes) - sizes] = -1
        keys = np.where(
            gram >= 0, grams[np.maximum(gram, 0)] if len(grams) else np.uint64(0), lengths[row_pair[row]]
        )
        return cls(
            bodies,
            row_pair[row],
            row,
            gram,
            mix(keys.astype(np.uint64), row_salt[row]),
            (begin - batch.starts[owners])[order],
            (end - batch.starts[owners])[order],
        )

    def __reduce__(self) -> tuple[Any, ...]:
        # mypyc: a compiled frozen dataclass cannot be unpickled field by field
        return (
            type(self),
            (self.bodies, self.owner, self.row, self.gram, self.hashes, self.local, self.stop),
        )
