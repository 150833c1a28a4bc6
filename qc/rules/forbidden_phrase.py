"""``forbidden_phrase.v1``: lexicon phrases in agent replies, judged in context.

Candidates come from the lexicon's character matcher (bare replies by exact
comparison, other phrases by Aho-Corasick). Context rules then keep or veto
each candidate: what the buyer said before (a question or a reported problem
versus thanks, a statement or data), allowlisted phrases around the match
(不好意思, 不会的), token boundaries, an explanation or offer of help in the
same message, short-reply limits and the strict-shop switch. A vetoed
candidate is still reported, with ``suppressed=True`` and the veto cue, so
QA staff can see why it does not count. Buyers are never charged and
auto-replies are skipped.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from qc.readers.records import is_marked_auto_reply, role_in_text
from qc.readers.roles import is_emoticon_code, is_platform_notice
from qc.rules import BaseRule, RuleSettings, register_rule
from qc.rules.lexicon import (
    Candidate,
    ContextSettings,
    Entry,
    Lexicon,
    iter_examples,
    load_lexicon,
    strip_decoration,
)
from qc.schema import Conversation, Evidence, Finding, Message, MessageFeatures, Role
from qc.text.tokens import TEXT_CACHE_SIZE, fold, token_bounds, tokenize

__all__ = [
    "RULE_NAME",
    "KIND",
    "BuyerTurn",
    "ForbiddenPhraseRule",
    "make_forbidden_phrase_rule",
    "check_text",
    "conversation_for",
    "example_failures",
    "scan",
]

RULE_NAME = "forbidden_phrase.v1"
KIND = "forbidden_phrase"

# 么 closes a question unless it is part of 这么/那么/怎么/什么/多么/要么 (grammar, not a threshold).
_FINAL_PARTICLE = r"(?:{words})(?=[\s,.!?~;:，。！？…、；：]|$)"
_NOT_QUESTION_ME = "这那怎什多要"
_SENTENCE_END = "。！？!?\n"
_CLAUSE_SPLIT = re.compile(r"[\s,.!?~;:，。！？…、；：]+")

# Most telling kind first: a turn that is a problem and a question is described as the problem.
_TURN_PRIORITY = ("problem", "wh", "yes_no", "question", "presence", "thanks", "data", "ack", "statement")
_TURN_WORDING = {
    "question": "a question",
    "yes_no": "a yes/no question",
    "wh": "a what/how/when question",
    "problem": "a reported problem",
    "presence": "a presence check (在吗)",
    "thanks": "thanks",
    "ack": "an acknowledgement",
    "data": "data (order number, address)",
    "statement": "a statement",
    "none": "no buyer message in view",
}


@dataclass(frozen=True, slots=True)
class BuyerTurn:
    """The buyer's last turn before an agent message, as the context rules read it."""

    kinds: frozenset[str]
    text: str

    @property
    def main(self) -> str:
        """The kind that best describes the turn, for cues and evidence."""
        for kind in _TURN_PRIORITY:
            if kind in self.kinds:
                return kind
        return "none"

    def __reduce__(self) -> tuple[Any, ...]:
        # mypyc: a compiled frozen dataclass cannot be unpickled field by field
        return (type(self), (self.kinds, self.text))


class ForbiddenPhraseRule(BaseRule):
    """Reports forbidden phrases in agent messages, live or suppressed, with the cue that decided."""

    name = RULE_NAME
    # Tokens are computed here, only for the few candidates whose entry checks token
    # boundaries (cached per text): the annotator need not segment every message.
    needs_features = False

    def __init__(self, lexicon: Lexicon, strict: bool = False, feature_tokens: bool = True) -> None:
        self.lexicon = lexicon
        self.strict = strict
        # With a shop user dictionary the annotator's tokens differ; boundary checks use the base tokenizer.
        self.feature_tokens = feature_tokens
        finals = [w for w in lexicon.cues["question_final"] if w != "么"]
        alts = [re.escape(w) for w in finals]
        if "么" in lexicon.cues["question_final"]:
            alts.append(f"(?<![{_NOT_QUESTION_ME}])么")
        self._final_re = re.compile(_FINAL_PARTICLE.format(words="|".join(alts)))
        self._digits_re = re.compile(rf"\d{{{max(lexicon.context.data_min_digits, 1)},}}")
        self._presence_re = re.compile(
            "|".join(
                re.escape(w)
                for w in sorted(lexicon.cues["presence"] + lexicon.cues["greeting"], key=len, reverse=True)
            )
        )
        self._turn_cache = lru_cache(maxsize=TEXT_CACHE_SIZE)(self._classify_uncached)
        self._may_flag = lru_cache(maxsize=TEXT_CACHE_SIZE)(self._may_flag_uncached)

    def describe(self) -> dict[str, Any]:
        """What run.json records about this rule: the lexicon version and the strict switch."""
        if not self.lexicon.label:
            return {}
        return {"lexicon_version": self.lexicon.label, "lexicon_strict": self.strict}

    # -- buyer context -------------------------------------------------------------------------

    def classify_turn(self, text: str) -> frozenset[str]:
        """Kinds of a buyer turn: question (yes_no / wh), problem, presence, thanks, ack, data, statement."""
        return self._turn_cache(text)

    def _classify_uncached(self, text: str) -> frozenset[str]:
        lex = self.lexicon
        folded = fold(text)
        kinds: set[str] = set()
        if lex.cue("problem", folded):
            kinds.add("problem")
        core = self._presence_re.sub(" ", folded)
        had_presence = core != folded
        if lex.cue("wh", core):
            kinds.update(("question", "wh"))
        if lex.cue("yes_no", core) or self._final_re.search(core):
            kinds.update(("question", "yes_no"))
        if lex.cue("question_marks", core) and strip_decoration(core):
            kinds.add("question")
        if kinds:
            return frozenset(kinds)
        if had_presence and not strip_decoration(core):
            return frozenset({"presence"})
        if lex.cue("thanks", folded):
            return frozenset({"thanks"})
        if self._digits_re.search(folded) or lex.cue("data_markers", folded):
            return frozenset({"data"})
        if lex.cue("ack", folded) and len(strip_decoration(folded)) <= self.lexicon.context.ack_max_chars:
            return frozenset({"ack"})
        return frozenset({"statement"})

    def buyer_turn(self, conversation: Conversation, index: int) -> BuyerTurn:
        """The buyer messages right before message ``index`` (within the lexicon's lookback window)."""
        ctx = self.lexicon.context
        msgs = conversation.messages
        collected: list[str] = []
        seen = 0
        for j in range(index - 1, -1, -1):
            m = msgs[j]
            if m.role is not Role.CUSTOMER and not m.counts_as_agent:
                # Platform notices and auto-replies answer no buyer and split no turn: six
                # transfer notices pushed the buyer's 我先去付款了 out of view of the bare 哦.
                continue
            seen += 1
            if seen > ctx.lookback:
                break
            if m.role is Role.CUSTOMER:
                collected.append(m.text)
                if len(collected) >= ctx.turn_messages:
                    break
            elif collected:
                break
        if not collected:
            return BuyerTurn(frozenset({"none"}), "")
        text = "\n".join(reversed(collected))
        closing = self._closing_ack(collected[0])
        if closing is not None:
            # the buyer's turn ends on 好的 / 谢谢: whatever came before, the reply acknowledges that
            return BuyerTurn(frozenset({closing}), text)
        kinds: set[str] = set()
        for t in collected:
            kinds |= self.classify_turn(t)
        if len(kinds) > 1:
            # one message's thanks or ack does not close a question or a problem in the same turn
            if kinds & {"question", "problem"}:
                kinds -= {"thanks", "ack", "data", "statement", "presence"}
            elif "presence" in kinds:
                kinds.discard("presence")
        if kinds & {"question", "problem"} and self._ends_with_data(collected[0]):
            # "地址写错了，应该是…路12号": the buyer ends by sending data; a bare 嗯 may be receipt
            kinds.add("data")
        return BuyerTurn(frozenset(kinds), text)

    def _ends_with_data(self, latest: str) -> bool:
        """True when data (digits, an address) comes after the last question or problem cue."""
        folded = fold(latest)
        last_cue = -1
        for name in ("problem", "wh", "yes_no", "question_marks"):
            for m in self.lexicon.cue_iter(name, folded):
                last_cue = max(last_cue, m.end())
        for m in self._final_re.finditer(folded):
            last_cue = max(last_cue, m.end())
        if last_cue < 0:
            return False
        tail = folded[last_cue:]
        return bool(self._digits_re.search(tail) or self.lexicon.cue("data_markers", tail))

    def _closing_ack(self, latest: str) -> str | None:
        """``ack`` or ``thanks`` when the buyer's latest message ends on a short acknowledgement clause."""
        clauses = [c for c in _CLAUSE_SPLIT.split(fold(latest)) if strip_decoration(c)]
        if len(clauses) < 2:
            return None
        last = clauses[-1]
        if len(last) > self.lexicon.context.closing_ack_max_chars or (
            self.classify_turn(last) & {"question", "problem"}
        ):
            return None
        kinds = self.classify_turn(last)
        for kind in ("thanks", "ack"):
            if kind in kinds:
                return kind
        return None

    # -- the rule ------------------------------------------------------------------------------

    def check(self, conversation: Conversation, features: Sequence[MessageFeatures]) -> Iterator[Finding]:
        """Findings for every agent message (auto-replies, system notices and buyers never)."""
        msgs = conversation.messages
        for i, m in enumerate(msgs):
            if not m.counts_as_agent or not m.text:
                continue
            feats = features[i] if i < len(features) else None
            yield from self._check_message(conversation, i, m, feats)

    def check_message(
        self, conversation: Conversation, index: int, features: MessageFeatures | None = None
    ) -> Iterator[Finding]:
        """Findings of the one agent message at ``index`` (what :meth:`check` yields for it)."""
        m = conversation.messages[index]
        if m.counts_as_agent and m.text:
            yield from self._check_message(conversation, index, m, features)

    def may_flag(self, text: str) -> bool:
        """Whether an agent reply ``text`` holds anything this rule judges: a bare reply or a phrase.

        When it is False the rule finds nothing in the reply whatever the buyer said before
        (the context only ever vetoes or keeps a match), so a caller can skip the context.
        """
        return self._may_flag(text)

    def _may_flag_uncached(self, text: str) -> bool:
        if not text:
            return False
        return self.lexicon.bare_entry(text) is not None or bool(
            self.lexicon.find(text, strict=self.strict)[0]
        )

    def _tokens(self, message: Message, feats: MessageFeatures | None) -> tuple[str, ...]:
        if (
            self.feature_tokens
            and feats is not None
            and feats.tokens
            and "".join(feats.tokens) == message.text
        ):
            return feats.tokens
        return tokenize(message.text)

    def _check_message(
        self, conv: Conversation, index: int, message: Message, feats: MessageFeatures | None
    ) -> Iterator[Finding]:
        text = message.text
        # Most replies hold nothing the lexicon judges, and a day repeats its replies: the
        # cached answer skips folding and scanning them again.
        if not self._may_flag(text):
            return
        bare = self.lexicon.bare_entry(text)
        if bare is not None:
            yield self._bare_finding(conv, index, message, *bare)
            return
        hits, allows = self.lexicon.find(text, strict=self.strict)
        if not hits:
            return
        turn: BuyerTurn | None = None
        spans: _TokenSpans | None = None
        # Everything a hit asks of the whole message is computed once per message, so a long
        # message dense in hits costs time linear in its length (issue 19).
        allowed = _AllowIndex(allows)
        cues = self.lexicon.cue_index(text)
        questions = _Sentences(text, self._final_re)
        buyer_cues: dict[str, str | None] = {}
        bare_len: int | None = None
        for cand in hits:
            entry = cand.entry
            assert entry is not None
            start, end = cand.start, cand.end
            if (entry.extend_to_token or entry.token_boundary) and spans is None:
                spans = _TokenSpans(self._tokens(message, feats))
            if entry.extend_to_token and spans is not None:
                start, end = spans.extend(start, end)
            vetoes: list[str] = []
            keep_cues: list[str] = []
            a = allowed.first_overlap(start, end)
            if a is not None and a.allow is not None:
                vetoes.append(f"part of 「{text[a.start : a.end]}」 ({a.allow.reason})")
            if entry.not_in_question:
                asked = questions.in_question(cand.start, cand.end)
                if asked:
                    vetoes.append(asked)
            if entry.token_boundary and spans is not None:
                word = spans.crossed_word(start, end)
                if word:
                    vetoes.append(f"inside the word 「{word}」")
            for name in entry.unless:
                found = cues.outside(name, start, end)
                if found:
                    vetoes.append(f"same message has {name.replace('_', ' ')} 「{found}」")
                    break
            if entry.unless and not vetoes:
                # 不清楚, then 我帮您问一下厂家哦 a few seconds later: one reply in two bubbles, read as
                # one, as a bare reply is (audit 139 M3).
                went_on = self._went_on_with(conv, index, entry.unless)
                if went_on:
                    vetoes.append(went_on)
            if entry.unless_buyer and not vetoes:
                turn = turn or self.buyer_turn(conv, index)
                for name in entry.unless_buyer:
                    if name not in buyer_cues:
                        buyer_cues[name] = self.lexicon.cue(name, turn.text)
                    found = buyer_cues[name]
                    if found:
                        vetoes.append(f"the buyer asked about {name.replace('_', ' ')} 「{found}」")
                        break
            if entry.max_len is not None:
                if bare_len is None:
                    bare_len = len(strip_decoration(text))
                n = bare_len
                if n > entry.max_len:
                    vetoes.append(f"a longer reply ({n} chars) that says more than the phrase")
            if entry.live_after:
                turn = turn or self.buyer_turn(conv, index)
                keep, cue = self._judge_turn(entry, turn)
                (keep_cues if keep else vetoes).append(cue)
            elif entry.strict_only and entry.unless:
                keep_cues.append("strict shop: a 不-word with no apology or explanation")
            elif entry.strict_only:
                keep_cues.append("strict shop: a house rule's phrase in the agent's reply")
            elif entry.unless:
                keep_cues.append(f"no {' / '.join(n.replace('_', ' ') for n in entry.unless)} in the message")
            else:
                keep_cues.append("listed phrase in the agent's reply")
            yield self._finding(
                conv,
                message,
                entry,
                (start, end),
                not vetoes,
                vetoes or keep_cues,
                turn,
                "a phrase in the reply",
            )

    def _bare_finding(
        self, conv: Conversation, index: int, message: Message, entry: Entry, core: str
    ) -> Finding:
        """The finding for a reply that is nothing but a bare-scope phrase ``core``."""
        start = fold(message.text).find(core)
        span = (start, start + len(core)) if start >= 0 else (None, None)
        turn = self.buyer_turn(conv, index)
        keep, vetoes = self._judge_bare(conv, index, entry, turn)
        return self._finding(conv, message, entry, span, keep, vetoes, turn, "the whole reply")

    def _in_question(self, text: str, start: int, end: int) -> str | None:
        """A veto cue when the match is part of the agent's own question (是不是, …点亮吗？)."""
        return _Sentences(text, self._final_re).in_question(start, end)

    def _judge_turn(self, entry: Entry, turn: BuyerTurn) -> tuple[bool, str]:
        if "none" in turn.kinds:
            keep = self.lexicon.context.no_context == "live"
            return keep, "no buyer message in view" + ("" if keep else " (lexicon: no_context = suppressed)")
        quiet = [k for k in entry.quiet_after if k in turn.kinds]
        if quiet:
            return False, f"follows {_TURN_WORDING[quiet[0]]}, read as an acknowledgement"
        matched = [k for k in _TURN_PRIORITY if k in entry.live_after and k in turn.kinds]
        if matched:
            return True, f"reply to {_TURN_WORDING[matched[0]]}"
        return False, f"follows {_TURN_WORDING[turn.main]}, read as an acknowledgement"

    def _went_on_with(self, conv: Conversation, index: int, names: Sequence[str]) -> str:
        """The veto when the agent's next bubbles of this reply hold a cue of ``names``, else ``""``."""
        for m in _continued(conv.messages, index, self.lexicon.context):
            for name in names:
                found = self.lexicon.cue(name, m.text)
                if found:
                    return f"the reply goes on with {name.replace('_', ' ')} 「{found}」 in its next message"
        return ""

    def _judge_bare(
        self, conv: Conversation, index: int, entry: Entry, turn: BuyerTurn
    ) -> tuple[bool, list[str]]:
        vetoes: list[str] = []
        cues: list[str] = []
        if _goes_on(conv.messages, index, self.lexicon.context):
            vetoes.append("the agent goes on in the next message (read as one reply)")
        if entry.live_after:
            keep, cue = self._judge_turn(entry, turn)
            (cues if keep else vetoes).append(cue)
        else:
            cues.append("bare reply, whatever came before")
        return not vetoes, vetoes or cues

    def _finding(
        self,
        conv: Conversation,
        message: Message,
        entry: Entry,
        span: tuple[int | None, int | None],
        live: bool,
        cues: Sequence[str],
        turn: BuyerTurn | None,
        where: str,
    ) -> Finding:
        start, end = span
        matched = message.text[start:end] if start is not None else message.text
        verdict = "counts" if live else "suppressed"
        summary = f"「{matched}」 ({where}) is {entry.id} {entry.title}: {verdict}"
        if cues:
            summary += f", {cues[0]}"
        return Finding(
            conversation_id=conv.id,
            message_index=message.index,
            kind=KIND,
            score=1.0 if live else 0.0,
            agent=message.agent,
            text=matched,
            start=start,
            end=end,
            suppressed=not live,
            evidence=Evidence(
                rule=RULE_NAME,
                summary=summary,
                pattern=entry.id,
                version=self.lexicon.label,
                cues=tuple(cues),
                details={
                    "implies": entry.implies if live else None,
                    "context": turn.main if turn is not None else None,
                    "lexicon": self.lexicon.label,
                    "strict": self.strict,
                },
            ),
        )


class _TokenSpans:
    """The character spans of a message's tokens, for span questions by bisection."""

    def __init__(self, tokens: Sequence[str]) -> None:
        self.tokens = tuple(tokens)
        self.bounds = token_bounds(self.tokens)
        self.spans: list[tuple[int, int]] = []
        pos = 0
        for tok in self.tokens:
            self.spans.append((pos, pos + len(tok)))
            pos += len(tok)
        # non-empty tokens only: their starts increase strictly, so bisection finds the one at a offset
        self._nonempty = [k for k, (s, e) in enumerate(self.spans) if e > s]
        self._starts = [self.spans[k][0] for k in self._nonempty]

    def containing(self, offset: int) -> int | None:
        """Index of the token whose span holds ``offset`` (start included, end excluded)."""
        i = bisect_right(self._starts, offset) - 1
        if i < 0:
            return None
        k = self._nonempty[i]
        s, e = self.spans[k]
        return k if s <= offset < e else None

    def extend(self, start: int, end: int) -> tuple[int, int]:
        """Grow a span to whole tokens; a lone 不 token takes the word after it (不/能 → 不能)."""
        k = self.containing(start)
        if k is None:
            return start, end
        s, e = self.spans[k]
        new_start, new_end = s, max(e, end)
        if e - s == end - start and k + 1 < len(self.spans):
            nxt = self.tokens[k + 1]
            if strip_decoration(nxt) == nxt and not nxt.isspace():
                new_end = self.spans[k + 1][1]
        return new_start, new_end

    def crossed_word(self, start: int, end: int) -> str | None:
        """The token a span cuts through at either edge, or None when both edges are token boundaries."""
        if start in self.bounds and end in self.bounds:
            return None
        # the token cut at the start comes first; the one cut at the end otherwise
        for offset in (start, end):
            k = self.containing(offset)
            if k is not None and self.spans[k][0] < offset:
                return self.tokens[k]
        return None


def _extend(tokens: Sequence[str], start: int, end: int) -> tuple[int, int]:
    """Grow a span to whole tokens; a lone 不 token takes the word after it (不/能 → 不能)."""
    return _TokenSpans(tokens).extend(start, end)


def _crossed_word(tokens: Sequence[str], start: int, end: int) -> str | None:
    """The token a span cuts through at either edge, or None when both edges are token boundaries."""
    return _TokenSpans(tokens).crossed_word(start, end)


class _AllowIndex:
    """Allowlist matches in text order, to find the first one overlapping a span by bisection."""

    def __init__(self, allows: Sequence[Candidate]) -> None:
        self.allows = list(allows)
        self.ends = [a.end for a in self.allows]
        self.longest = max((a.end - a.start for a in self.allows), default=0)
        # the matcher reports matches by where they end; anything else is scanned whole
        self.ordered = all(x <= y for x, y in zip(self.ends, self.ends[1:], strict=False))

    def first_overlap(self, start: int, end: int) -> Candidate | None:
        """The first allowlist match (in the matcher's order) that overlaps ``[start, end)`` and vetoes it.

        A shorter allowed phrase wholly inside the hit does not: the allowlist's 要不 (要不您试试)
        is no reason to let 你到底要不要 pass.
        """
        if not self.ordered:
            return next(
                (a for a in self.allows if a.start < end and start < a.end and _covers(a, start, end)), None
            )
        # past end + longest every match starts at or after end
        for i in range(bisect_right(self.ends, start), len(self.allows)):
            a = self.allows[i]
            if a.end >= end + self.longest:
                break
            if a.start < end and _covers(a, start, end):
                return a
        return None


def _covers(allowed: Candidate, start: int, end: int) -> bool:
    """False for an allowed phrase strictly shorter than the hit ``[start, end)`` and inside it."""
    return allowed.start < start or allowed.end > end or allowed.end - allowed.start >= end - start


def _goes_on(messages: Sequence[Message], index: int, context: ContextSettings) -> bool:
    """Whether the agent of reply ``index`` goes on with it before the buyer speaks (:func:`_continued`)."""
    return next(_continued(messages, index, context), None) is not None


def _continued(messages: Sequence[Message], index: int, context: ContextSettings) -> Iterator[Message]:
    """The messages with which the agent of reply ``index`` goes on with it before the buyer speaks again.

    That is the same agent's next messages within ``continuation`` messages, each within
    ``continuation_seconds`` of the agent's message before it (when both have times; 0: any time
    later), as the attitude model chains a reply's bubbles: measured from the reply, a third bubble
    read by the model was too late for the lexicon (audit 156 H3). Platform
    notices and auto-replies between them are passed over, as the attitude model passes over
    them: a transfer notice does not turn 嗯, 我帮您查一下物流 into a bare 嗯.
    """
    reply = messages[index]
    counted = 0
    last = reply.sent_at
    for m in messages[index + 1 :]:
        if m.role is Role.CUSTOMER or counted >= context.continuation:
            break
        if not m.counts_as_agent:
            continue
        counted += 1
        if m.agent == reply.agent:
            limit = context.continuation_seconds
            late = (
                limit
                and last is not None
                and m.sent_at is not None
                and not 0 <= (m.sent_at - last).total_seconds() <= limit
            )
            if late:
                return
            last = m.sent_at if m.sent_at is not None else last
            yield m


class _Sentences:
    """A message cut at sentence ends, each sentence judged once: is it the agent's own question?"""

    def __init__(self, text: str, final_re: re.Pattern[str]) -> None:
        self.text = text
        self.final_re = final_re
        self._ends: list[int] | None = None
        self._asked: dict[tuple[int, int], bool] = {}

    def in_question(self, start: int, end: int) -> str | None:
        """A veto cue when the span ``[start, end)`` is part of the agent's own question."""
        text = self.text
        if end - start == 1 and 0 < start and end < len(text) and text[start - 1] == text[end]:
            return f"an A-not-A question 「{text[start - 1 : end + 1]}」"
        if self._ends is None:
            self._ends = [i for i, ch in enumerate(text) if ch in _SENTENCE_END]
        ends = self._ends
        k = bisect_left(ends, start)
        left = ends[k - 1] + 1 if k > 0 else 0
        k = bisect_left(ends, end)
        right = ends[k] if k < len(ends) else len(text)
        key = (left, right)
        if key not in self._asked:
            sentence = fold(text[left : right + 1])
            self._asked[key] = "?" in sentence or bool(self.final_re.search(sentence))
        return "part of the agent's own question" if self._asked[key] else None


@register_rule(RULE_NAME)
def make_forbidden_phrase_rule(settings: RuleSettings | None = None) -> ForbiddenPhraseRule:
    """Build the rule from pipeline settings: lexicon file (bundled default), strict switch."""
    lexicon = load_lexicon(settings.lexicon if settings is not None else None)
    strict = bool(settings.strict) if settings is not None else False
    feature_tokens = settings is None or settings.user_dict is None
    return ForbiddenPhraseRule(lexicon, strict=strict, feature_tokens=feature_tokens)


# A context turn: a buyer text, (role, text), or (role, text, auto_reply) for the shop's auto-reply.
ContextItem = str | tuple[str, str] | tuple[str, str, bool]

# The context is timed a day before the checked reply and its bubbles: an agent turn given as
# context is an earlier reply, never the first bubble of this one (which --then gives), as a
# day's inspection reads a bubble sent minutes before. Untimed, it was read as one reply with
# the draft: 等着吧 after an agent turn was ok, where inspect charges it.
_CONTEXT_AT = datetime(2000, 1, 1, tzinfo=UTC)
_REPLY_AT = _CONTEXT_AT + timedelta(days=1)


def conversation_for(
    text: str, context: Sequence[ContextItem] = (), agent: str = "agent", then: Sequence[str] = ()
) -> Conversation:
    """A small conversation: the context (buyer texts, or (role, text) pairs), ``text`` by the agent.

    ``then`` are the agent's next messages right after ``text``, before the buyer writes again
    (the rest of a reply sent in several bubbles, which a day's inspection reads with it). A
    text marked ``[自动回复]`` is the shop's auto-reply and a platform notice (系统提示：…) the
    platform's, as the readers take them from an export, even given as a buyer text: the buyer
    writes neither, and read as the buyer's words they made one question of two.
    """
    msgs: list[Message] = []
    for item in context:
        told = False
        if isinstance(item, str):
            role, body = Role.CUSTOMER, item
        else:
            role, body = Role(item[0]), item[1]
            told = len(item) > 2 and bool(item[2])
        # A buyer's emoticon alone (#E-s33) stays the buyer's turn, as the readers keep it: taken
        # for a notice, the bare 嗯 after it answered the question before it (audit 156 H2).
        if role is Role.CUSTOMER and (
            is_marked_auto_reply(body) or (is_platform_notice(body) and not is_emoticon_code(body))
        ):
            role = Role.AGENT
        sender = agent if role is Role.AGENT else "buyer"
        msgs.append(_as_read(len(msgs), role, body, sender, _CONTEXT_AT, told))
    for body in (text, *then):
        msgs.append(_as_read(len(msgs), Role.AGENT, body, agent, _REPLY_AT))
    return Conversation("check", tuple(msgs))


def _as_read(index: int, role: Role, text: str, sender: str, at: datetime, auto: bool = False) -> Message:
    """A message as the readers take it from an export: marked auto-replies, platform notices."""
    role, auto = role_in_text(role, text, auto, auto)
    return Message(index, role, text, sender=sender, sent_at=at, auto_reply=auto)


def check_text(rule: ForbiddenPhraseRule, text: str, context: Sequence[ContextItem] = ()) -> list[Finding]:
    """Findings (live and suppressed) for one agent text after the given context, e.g. a draft reply."""
    conv = conversation_for(text, context)
    last = len(conv.messages) - 1
    return [f for f in rule.check(conv, ()) if f.message_index == last]


def example_failures(lexicon: Lexicon) -> list[str]:
    """Every lexicon example that does not behave as declared, as messages naming entry and line.

    A hit example must give a live finding of its entry; a miss example must
    give none (suppressed findings are fine).
    """
    rules = {False: ForbiddenPhraseRule(lexicon), True: ForbiddenPhraseRule(lexicon, strict=True)}
    problems: list[str] = []
    for entry, kind, ex in iter_examples(lexicon):
        findings = check_text(rules[ex.strict], ex.text, ex.context)
        live = [f for f in findings if f.live and f.entry == entry.id]
        if kind == "hit" and not live:
            why = (
                "; ".join(f"{f.entry} {f.cue}" for f in findings if f.entry == entry.id)
                or "no candidate matched"
            )
            problems.append(
                f"entry {entry.id} (line {entry.line}): hit example {ex.text!r} is not a live hit ({why})"
            )
        elif kind == "miss" and live:
            problems.append(
                f"entry {entry.id} (line {entry.line}): miss example {ex.text!r} is a live hit"
                f" ({live[0].cue})"
            )
    return problems


@lru_cache(maxsize=2)
def _default_rule(strict: bool) -> ForbiddenPhraseRule:
    return ForbiddenPhraseRule(load_lexicon(), strict=strict)


def scan(text: str, context: Sequence[ContextItem] = (), strict: bool = False) -> list[dict[str, object]]:
    """The bundled lexicon's view of one agent text, as plain dicts (entry, span, suppressed, implies, cue).

    For feature extractors (the attitude classifier's lexicon cues): no Finding objects, no settings.
    """
    return [
        {
            "entry": f.entry,
            "start": f.start,
            "end": f.end,
            "suppressed": f.suppressed,
            "implies": f.evidence.details.get("implies"),
            "cue": f.cue,
        }
        for f in check_text(_default_rule(strict), text, context)
    ]
