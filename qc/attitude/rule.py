"""``attitude_classifier.v1``: impatience and conflict found by the trained attitude model.

Every typed agent reply (auto-replies and system notices excluded) is scored with the turns
before it. A reply whose probability reaches the model's threshold gets a live finding; one
between the review floor and the threshold gets a ``needs_review`` finding, shown to QA and
never deducted. Thresholds and floors come from the model's ``meta.json``, never from code.
Every finding says, in Chinese, which cues decided it (the features that moved the verdict
most, read off the linear model), so a QA lead can check it without a probability.

The scores of a batch are summed from parts that depend on one text each (the reply, the
buyer turn, the previous agent message, the buyer's kinds with the reply, the cue set), each
computed once per distinct value in NumPy over the batch and kept in bounded caches: a
stock reply seen a thousand times is featurised once. Their sum is kept per distinct turn
(:class:`~qc.attitude.features.Turn`): a stock exchange that recurs all day is scored once.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from qc.attitude import answered
from qc.attitude.decision import decide
from qc.attitude.features import Turn, context_window, core, folded_core, ngram_key
from qc.attitude.hashing import Columns
from qc.attitude.model import AttitudeModel, default_model_dir, load_cached, softmax
from qc.attitude.slot_cache import SlotCache, SlotRows, share
from qc.rules import BaseRule, RuleSettings, register_rule
from qc.schema import (
    CHARGED_HEAD,
    HELD_HEAD,
    Conversation,
    Evidence,
    Finding,
    Message,
    MessageFeatures,
    Role,
)

__all__ = [
    "KIND_NAMES",
    "RULE_NAME",
    "AttitudeClassifierRule",
    "agent_turns",
    "context_of",
    "make_attitude_classifier",
]

RULE_NAME = "attitude_classifier.v1"
KIND_NAMES = {"impatience": "不够耐心", "conflict": "与买家发生冲突"}
# Distinct texts (or pairs) whose score parts a rule keeps; outputs are the same without. The
# turn cache below answers six turns in seven on a real-text day, so these serve only the new
# ones: 20,000 entries each were no faster there than this size and kept tens of MB more
# alive per worker. (On the generated day the attitude stage is about 5% slower at this size.)
_CACHE_SIZE = 4_096
# Distinct turns whose scores a rule keeps; a turn found here skips every other cache. The
# table has 262,144 slots (8 MB, held from the start); against 131,072 for 40,000 turns the
# real-text attitude stage ran about 4% faster.
_TURN_CACHE_SIZE = 80_000
# How many cues an explanation names, and how many of the strongest columns are named first.
_EXPLAIN_TOP = 3
_EXPLAIN_NAMED = 8
# What a finding says when only features that are no reason (length, polite words) moved it.
_NO_REASON = "回复里没有能单独指明的原因，是模型综合字词作出的判断，请对照原文复核"


class AttitudeClassifierRule(BaseRule):
    """Scores every typed agent reply of a batch of conversations with the attitude model."""

    name = RULE_NAME
    needs_features = False

    def __init__(self, model: AttitudeModel) -> None:
        self.model = model
        f = model.featurizer
        self._decision = (model.labels, model.thresholds, model.review_floor)
        width = len(model.labels)
        size = _CACHE_SIZE
        self._kinds: SlotCache[tuple[str, ...]] = SlotCache(size)
        self._reply = SlotRows(lambda texts: model.scores(f.reply_columns(texts), len(texts)), width, size)
        self._buyer = SlotRows(lambda texts: model.scores(f.buyer_columns(texts), len(texts)), width, size)
        self._previous = SlotRows(
            lambda texts: model.scores(f.previous_columns(texts), len(texts)), width, size
        )
        self._cross = SlotRows(lambda keys: model.scores(f.cross_block(keys), len(keys)), width, size)
        self._cues = SlotRows(lambda sets: model.scores(f.cue_columns(sets), len(sets)), width, size)
        self._answers = SlotRows(lambda sets: model.scores(f.answer_columns(sets), len(sets)), width, size)
        self._turn_scores = SlotRows(self._scores, width, _TURN_CACHE_SIZE)
        self._answer_sets: SlotCache[frozenset[str]] = SlotCache(size)
        self._pair_states: SlotCache[frozenset[str]] = SlotCache(size)
        self._cue_sets: SlotCache[frozenset[str]] = SlotCache(size)
        self._explained: SlotCache[tuple[str, ...]] = SlotCache(size)
        self._alone = _never_alone(f)

    @property
    def version(self) -> str:
        """The model's ``name@version``: what findings and run.json record."""
        return f"{self.model.name}@{self.model.version}"

    @property
    def decision_settings(self) -> tuple[tuple[str, ...], dict[str, float], dict[str, float]]:
        """Labels, thresholds and review floors, as :func:`~qc.attitude.decision.decide` takes them."""
        return self._decision

    def describe(self) -> dict[str, Any]:
        """The model name and version its findings depend on, for run.json and the store."""
        return {"model_version": self.version} if self.model.version else {}

    # -- scoring --------------------------------------------------------------------------------

    def _kinds_of(self, buyer: str) -> tuple[str, ...]:
        kinds = self._kinds.get(buyer)
        if kinds is None:
            kinds = self._kinds.put(buyer, share(self.model.featurizer.buyer_kinds(buyer)))
        return kinds

    def _cue_set(self, turn: Turn, kinds: tuple[str, ...]) -> frozenset[str]:
        # The cue set depends on the reply, the kinds and where the reply repeats: a small key.
        body = folded_core(turn.reply)
        key = (
            turn.reply,
            kinds,
            bool(turn.previous),
            bool(turn.buyer.strip()),
            bool(body) and folded_core(turn.previous) == body,
            turn.echo == answered.SAME_ECHO,
        )
        found = self._cue_sets.get(key)
        if found is None:
            found = self._cue_sets.put(key, share(self.model.featurizer.cue_set(turn, kinds)))
        return found

    def _answer_set(self, turn: Turn, kinds: tuple[str, ...]) -> frozenset[str]:
        # What the reply answers depends on the reply and the buyer turn (its kinds included),
        # kept per pair; the repeats on the agent's earlier messages; the block's names on the
        # reply and its states (a handful of distinct sets).
        featurizer = self.model.featurizer
        pair = (turn.reply, turn.buyer)
        states = self._pair_states.get(pair)
        if states is None:
            states = answered.answer_states(featurizer.cues, *pair, kinds)
            states = self._pair_states.put(pair, share(states))
        key = (turn.reply, states | featurizer.repeat_set(turn))
        found = self._answer_sets.get(key)
        if found is None:
            found = self._answer_sets.put(key, share(featurizer.answer_names_of(*key)))
        return found

    def probabilities(
        self, inputs: Sequence[tuple[str, Sequence[tuple[str, str]]]]
    ) -> list[npt.NDArray[np.float64]]:
        """Class probabilities (in the model's label order) of ``(message, context)`` inputs."""
        if not inputs:
            return []
        turns = [self.model.featurizer.turn(message, context) for message, context in inputs]
        return list(softmax(self._turn_scores.get_many(turns)))

    def _scores(self, turns: list[Turn]) -> npt.NDArray[np.float64]:
        """Label scores (before the softmax) of distinct turns, summed from their cached parts."""
        kinds = [self._kinds_of(t.buyer) for t in turns]
        cue_sets = [self._cue_set(t, k) for t, k in zip(turns, kinds, strict=True)]
        # The n-gram parts read their text only normalised: kept per normalised text, a stock
        # reply with another order number is found in the cache.
        featurizer = self.model.featurizer
        reply = self._reply.get_many([ngram_key(t.reply) for t in turns])
        buyer = self._buyer.get_many([ngram_key(featurizer.cues.buyer_tail(t.buyer)) for t in turns])
        previous = self._previous.get_many([ngram_key(t.previous) for t in turns])
        cross = self._cross.get_many(
            [
                (k, ngram_key(core(t.reply)), featurizer.length_bucket(t.reply))
                for k, t in zip(kinds, turns, strict=True)
            ]
        )
        cues = self._cues.get_many(cue_sets)
        answers = self._answers.get_many([self._answer_set(t, k) for t, k in zip(turns, kinds, strict=True)])
        # Always the same order of additions: a row's bits never depend on the batch.
        scores = self.model.intercept + reply + buyer + previous
        scores = scores + cross + cues + answers
        return scores

    # -- findings -------------------------------------------------------------------------------

    def check(self, conversation: Conversation, features: Sequence[MessageFeatures]) -> list[Finding]:
        """Impatience/conflict findings (live or needs-review) of one conversation's agent replies."""
        return self.check_batch([(conversation, features)])[0]

    def check_batch(
        self, items: Sequence[tuple[Conversation, Sequence[MessageFeatures]]]
    ) -> list[list[Finding]]:
        """Findings of many conversations from one batched scoring; the same as :meth:`check` on each.

        A reply the agent continues in further bubbles before the buyer speaks again (within the
        model's ``follow_up_seconds``) is also judged together with what follows it, and the
        milder of the two readings counts: 亲，您先别着急 followed at once by 我马上联系快递员核实 is
        one calm reply. What came before a bubble never softens it: a rude last bubble after the
        shop's long greeting was read with the greeting, and not charged at all.
        """
        skip = self.model.featurizer.cues.skip
        window = float(self.model.meta.get("follow_up_seconds", 0))
        targets: list[tuple[int, Message]] = []
        inputs: list[tuple[str, tuple[tuple[str, str], ...]]] = []
        groups: list[list[int]] = []
        for n, (conversation, _) in enumerate(items):
            previous: Message | None = None
            for message, context in agent_turns(conversation.messages, skip):
                if previous is not None and _continues(previous, message, context, window):
                    groups[-1].append(len(targets))
                else:
                    groups.append([len(targets)])
                previous = message
                targets.append((n, message))
                inputs.append((message.text, context))
        rows = self.probabilities(inputs)
        # Each bubble but a turn's last, with the bubbles after it, in its own context.
        rest = [(g[at], g[at:]) for g in groups for at in range(len(g) - 1)]
        if rest:
            onward = self.probabilities(
                [(" ".join(inputs[i][0] for i in tail), inputs[i][1]) for i, tail in rest]
            )
            ok = self.model.labels.index("ok")
            for (i, _), row in zip(rest, onward, strict=True):
                if row[ok] > rows[i][ok]:
                    rows[i] = row
        decided = [
            (n, message, context, decide(row.tolist(), *self._decision))
            for (n, message), (_, context), row in zip(targets, inputs, rows, strict=True)
        ]
        flagged = [(n, message, context, d) for n, message, context, d in decided if d[0] != "ok"]
        explained = self.explain_many([(m.text, context, d[0]) for _, m, context, d in flagged])
        out: list[list[Finding]] = [[] for _ in items]
        for (n, message, _, (label, probability, review)), cues in zip(flagged, explained, strict=True):
            out[n].append(self._finding(items[n][0], message, label, probability, review, cues))
        return out

    def _finding(
        self,
        conversation: Conversation,
        message: Message,
        label: str,
        probability: float,
        review: bool,
        cues: list[str],
    ) -> Finding:
        head = KIND_NAMES.get(label, label) + (HELD_HEAD if review else CHARGED_HEAD)
        summary = f"{head}：{'；'.join(cues) if cues else _NO_REASON}"
        return Finding(
            conversation_id=conversation.id,
            message_index=message.index,
            kind=label,
            score=round(probability, 4),
            evidence=Evidence(
                rule=self.name,
                summary=summary,
                pattern=None,
                version=self.version,
                cues=tuple(cues),
                details={
                    "probability": round(probability, 4),
                    "threshold": self._decision[1][label],
                    "review_floor": self._decision[2][label],
                },
            ),
            agent=message.agent,
            text=message.text,
            start=None,
            end=None,
            needs_review=review,
        )

    def explain(self, message: str, context: Sequence[tuple[str, str]], label: str) -> list[str]:
        """The cues that moved this reply most towards ``label`` (against ok), in Chinese, strongest first."""
        return self.explain_many([(message, context, label)])[0]

    def explain_many(self, items: Sequence[tuple[str, Sequence[tuple[str, str]], str]]) -> list[list[str]]:
        """:meth:`explain` of many ``(message, context, label)``, the new ones computed together.

        Kept per distinct reading of the reply (its text, the buyer turn, the previous agent
        message and the cues that hold): stock replies that recur all day are explained once.
        """
        keys = []
        for message, context, label in items:
            turn = self.model.featurizer.turn(message, context)
            kinds = self._kinds_of(turn.buyer)
            keys.append(
                (
                    turn.reply,
                    turn.buyer,
                    turn.previous,
                    self._cue_set(turn, kinds),
                    self._answer_set(turn, kinds),
                    label,
                )
            )
        found = [self._explained.get(key) for key in keys]
        new = [i for i, said in enumerate(found) if said is None]
        new = list({keys[i]: i for i in reversed(new)}.values())  # one of each key
        fresh: dict[tuple[Any, ...], tuple[str, ...]] = {}
        if new:
            for i, said in zip(new, self._explain([items[i] for i in new]), strict=True):
                fresh[keys[i]] = self._explained.put(keys[i], tuple(said))
        return [list(fresh[key] if said is None else said) for said, key in zip(found, keys, strict=True)]

    def _explain(self, items: Sequence[tuple[str, Sequence[tuple[str, str]], str]]) -> list[list[str]]:
        featurizer = self.model.featurizer
        inputs = [(message, context) for message, context, _ in items]
        turns = [featurizer.turn(message, context) for message, context in inputs]
        kinds = [self._kinds_of(t.buyer) for t in turns]
        block = featurizer.turn_columns(
            turns,
            kinds,
            [self._cue_set(t, k) for t, k in zip(turns, kinds, strict=True)],
            [self._answer_set(t, k) for t, k in zip(turns, kinds, strict=True)],
        )
        # Each input's entries, in the order its own block would list them.
        order = np.argsort(block.texts, kind="stable")
        bounds = np.searchsorted(block.texts[order], np.arange(len(items) + 1))
        pushes: list[list[int]] = []
        for i, (_, _, label) in enumerate(items):
            mine = order[bounds[i] : bounds[i + 1]]
            own = Columns(np.zeros(len(mine), dtype=np.int64), block.columns[mine], block.values[mine])
            pushes.append([column for column, push in self.model.contributions(own, label) if push > 0])
        # Only the strongest few columns are named (the words of every n-gram cost more than the
        # rest of the explanation); where they hold fewer than three names, all are.
        names = featurizer.describe_many(inputs, [p[:_EXPLAIN_NAMED] for p in pushes], reasons=True)
        out: list[list[str]] = []
        for i, columns in enumerate(pushes):
            said = _said(columns[:_EXPLAIN_NAMED], names[i], self._alone)
            thin = len(said) < _EXPLAIN_TOP or any(_weak(what) for what in said)
            if thin and len(columns) > _EXPLAIN_NAMED:
                said = _said(columns, featurizer.describe_many([inputs[i]], reasons=True)[0], self._alone)
            out.append(said)
        return out


# A reason naming one character of the text (回复含「楚」, 回复用词「也」): nothing a QA lead can act on.
# Not the characters that carry a tone alone: 你 where the house says 您, 滚, 烦, 呵, 切.
_ONE_CHARACTER = re.compile(r"「[^你滚烦呵切]」$")


# Where a crossed cue's name joins its parts: a full-width comma outside brackets.
_PART_SPLIT = re.compile(r"，(?![^（(]*[）)])")


# The word a name quotes from the text: 回复用词「还有」 and 回复含「还有」 quote the same word.
_QUOTED = re.compile(r"「([^」]*)」$")


def _never_alone(featurizer: Any) -> tuple[frozenset[str], tuple[str, ...]]:
    """The names that are no reason on their own, and the starts no reason alone may have.

    A reply's length, a buyer kind (买家在提问), a cue the lexicon's ``[explain] not_reasons``
    lists (a greeting, 亲) and an answered-state that is no reason (买家在提问或提请求，…) explain
    a charge only crossed with something that is one.
    """
    cues = featurizer.cues
    lengths = {featurizer.length_label(i) for i in range(len(cues.length_bounds) + 1)}
    named = {cues.label(n) for n in cues.not_reasons if n not in ("length", "buyer", "previous")}
    kinds = {cues.label(f"buyer.{g}") for g in cues.group_names("buyer")}
    kinds |= {cues.label(f"buyer_{k}") for k in ("none", "statement", "ends_ack")}
    alone = lengths | named | kinds | {f"{k}时{n}" for k in kinds for n in lengths}
    states = {cues.label(n) for n in cues.not_reasons if n.startswith("ans.")}
    return frozenset(alone), (*(f"{s}，" for s in states), "买家说「", "客服上一句「")


def _said(
    columns: Sequence[int], names: dict[int, str], alone: tuple[frozenset[str], tuple[str, ...]] | None = None
) -> list[str]:
    """The first three distinct names of ``columns`` (strongest first), short words last.

    回复含「楚」 or 回复用词「也」 named as a reason left a QA lead nothing to act on (audit 156 L1),
    and so did 「还有」「其他」, or one word named twice, as 回复用词「亲,」 and 回复含「亲,」 (audit
    164 M1): a word is named once, and a name quoting one or two characters is given only where
    fewer than three others are. A cue crossed with another (买家的问题没有得到回答，把买家推开…)
    is named once too: the parts of a cross named already are left out of it, and the cross is
    left out whole where what is left is no reason on its own (``alone``: :func:`_never_alone`).
    """
    said: list[str] = []
    words: set[str] = set()
    parts: set[str] = set()
    for column in columns:
        what = names.get(column)
        if not what or what in said:
            continue
        quoted = _QUOTED.search(what)
        if quoted:
            if quoted[1] in words:
                continue
            words.add(quoted[1])
        split = _PART_SPLIT.split(what)
        new = [part for part in split if part not in parts]
        if alone is not None and len(new) < len(split):
            rest = "，".join(new)
            if not new or rest in said or rest in alone[0] or rest.startswith(alone[1]):
                # what is left adds no reason: the cross said its named part again (audit 171 L1)
                continue
            what = rest
        parts.update(split)
        said.append(what)
    said.sort(key=_weak)  # stable: strongest first within
    return said[:_EXPLAIN_TOP]


def _weak(what: str) -> int:
    """0 for a cue or a word of three characters or more, 1 for a two-character word, 2 for one."""
    if _ONE_CHARACTER.search(what):
        return 2
    quoted = _QUOTED.search(what)
    return 1 if quoted and len(quoted[1].strip(" ,，。!！?？~～")) <= 2 else 0


def _never(text: str) -> bool:
    return False


def _continues(
    previous: Message, message: Message, context: Sequence[tuple[str, str]], window: float
) -> bool:
    """Whether ``message`` goes on with ``previous`` in the same agent turn (no buyer message between).

    By the same agent only: a colleague's bubble right after a transfer softened this agent's
    reply, where the lexicon (``forbidden_phrase._continued``) never counted it (audit 156 H1).
    """
    if window <= 0 or not context or context[-1] != ("agent", previous.text):
        return False
    if previous.agent != message.agent:
        return False
    if previous.sent_at is None or message.sent_at is None:
        return True
    return 0 <= (message.sent_at - previous.sent_at).total_seconds() <= window


def agent_turns(
    messages: Sequence[Message], skip: Callable[[str], bool] = _never
) -> Iterator[tuple[Message, tuple[tuple[str, str], ...]]]:
    """Each typed, non-empty agent reply with the turns before it, in one pass over the chat.

    The context holds buyer messages and typed agent replies only, the last
    :func:`~qc.attitude.features.context_window` of them: system notices, auto-replies and
    agent-side texts that ``skip`` says are not replies are neither judged nor context. The
    model learned from samples whose context holds only what the buyer and the agent wrote.
    """
    turns: deque[tuple[str, str]] = deque(maxlen=context_window())
    for m in messages:
        if m.role is Role.CUSTOMER:
            turns.append(("customer", m.text))
        elif m.role is Role.AGENT and not m.auto_reply and not skip(m.text):
            if m.text.strip():
                yield m, tuple(turns)
            turns.append(("agent", m.text))


def context_of(
    messages: Sequence[Message], index: int, skip: Callable[[str], bool] = _never
) -> tuple[tuple[str, str], ...]:
    """The context :func:`agent_turns` gives the reply at ``index`` (``()`` if it is not a judged reply)."""
    for message, context in agent_turns(messages[: index + 1], skip):
        if message.index == messages[index].index:
            return context
    return ()


@register_rule(RULE_NAME)
def make_attitude_classifier(settings: RuleSettings | None = None) -> AttitudeClassifierRule:
    """Build the rule, loading the model once per process (``settings.model`` or the bundled one)."""
    model = settings.model if settings is not None else None
    model_dir = Path(model) if model is not None else default_model_dir()
    return AttitudeClassifierRule(load_cached(model_dir.resolve()))
