"""``transfer_handover.v1``: a buyer transferred to a colleague without being told (转接未告知).

The house rule (seed 004 §4.6): a pre-sales agent who hands a buyer to after-sales first sends
a hand-over message (亲，这个由售后同事处理，我帮您转接过去), then transfers; a direct, silent
transfer is not allowed. The buyer otherwise sees a stranger answer and has to explain again.

What counts, all of it from the lexicon's ``[transfer]`` table:

* **A transfer** is a platform notice (a system message) holding one of ``notices``
  (会话已转接至…, 甲将会话转接给乙), after which another agent is the next to type a message.
  The agent who held the conversation is the one the notice names before its transfer word
  (甲), when 甲 typed since the previous transfer; else the last one who typed. An auto-reply or
  the shop's bot holds nothing, so a bot's hand-off to a person is no agent's transfer. An
  agent who writes again after the notice, before anyone else, is still talking to the buyer,
  and a notice nobody answers moved no buyer to a colleague: neither is a transfer, and what was
  said before it still counts for the next notice.
* **A hand-over** is any of ``handover`` in that agent's last ``lookback`` messages before the
  notice.

A transfer without a hand-over is a ``silent_transfer`` finding on the agent's last message
before the notice, charged to that agent as the scorecard prices the kind. A change of agent
with no notice is not read as a transfer: nothing then tells a colleague's help or a new shift
from one, and a finding would be a guess.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from qc.rules import BaseRule, RuleSettings, register_rule
from qc.rules.lexicon import Lexicon, TransferSettings, load_lexicon
from qc.schema import Conversation, Evidence, Finding, Message, MessageFeatures, Role
from qc.text.tokens import fold

__all__ = ["KIND", "RULE_NAME", "TransferHandoverRule", "make_transfer_handover_rule"]

RULE_NAME = "transfer_handover.v1"
KIND = "silent_transfer"


def _holds(text: str, words: Sequence[str]) -> str | None:
    folded = fold(text)
    return next((w for w in words if w in folded), None)


def _named_holder(notice: str, word: str, typed: Sequence[Message]) -> str | None:
    """The agent a notice names before its transfer word (甲将会话转接给乙: 甲), if one of them typed.

    A supervisor who chimed in after the agent handed over properly was charged with the
    transfer because they wrote last (audit 95 A1).
    """
    folded = fold(notice)
    before = folded[: folded.find(word)]
    agents = list(dict.fromkeys(m.agent or "" for m in reversed(typed)))
    # A whole account first (小周服饰:阿青 names 阿青, not the 小周 of its shop), then the longest
    # short name written where a name starts (阿青青 before 阿青). Folded first: 店：阿青 is 店:阿青.
    for agent in agents:
        if fold(agent) in before:
            return agent
    found: list[tuple[int, str]] = []
    for agent in agents:
        short = fold(agent).rsplit(":", 1)[-1]
        at = before.find(short) if len(short) >= 2 else -1
        while at >= 0:
            if at == 0 or not before[at - 1].isalnum():
                found.append((len(short), agent))
                break
            at = before.find(short, at + 1)
    return max(found, key=lambda f: f[0])[1] if found else None


class TransferHandoverRule(BaseRule):
    """Finds transfers that no hand-over message announced; see the module docstring."""

    name = RULE_NAME
    needs_features = False

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        self.settings: TransferSettings | None = lexicon.transfer

    def describe(self) -> dict[str, Any]:
        """The lexicon whose ``[transfer]`` table decided, as run.json records it."""
        return {"lexicon_version": self.lexicon.label} if self.lexicon.label else {}

    def check(
        self, conversation: Conversation, features: Sequence[MessageFeatures] = ()
    ) -> Iterable[Finding]:
        """One ``silent_transfer`` finding per transfer that the transferring agent did not announce."""
        ts = self.settings
        if ts is None:
            return []
        messages = conversation.messages
        out: list[Finding] = []
        since = 0  # the first message after the previous transfer
        for i, m in enumerate(messages):
            word = _holds(m.text, ts.notices) if m.role is Role.SYSTEM else None
            if word is None or _holds(m.text, ts.failed) is not None:
                # A notice that says the transfer failed moved nobody (audit 96 #4).
                continue
            typed = [messages[k] for k in range(since, i) if messages[k].counts_as_agent]
            if not typed:
                continue
            holder = _named_holder(m.text, word, typed) or typed[-1].agent
            taker = next((n for n in messages[i + 1 :] if n.counts_as_agent), None)
            if taker is None or taker.agent == holder:
                # No transfer took place (a failed one, a ticket handed on): what was said before
                # it still counts for the next notice (audit 95 A4).
                continue
            since = i + 1
            own = [t for t in typed if t.agent == holder][-ts.lookback :]
            if not own or any(_holds(o.text, ts.handover) is not None for o in own):
                continue
            out.append(self._finding(conversation, own[-1], m, taker, len(own)))
        return out

    def _finding(
        self, conversation: Conversation, last: Message, notice: Message, taker: Message, looked: int
    ) -> Finding:
        holder = last.agent or ""
        summary = (
            f"转接未告知：{holder} 在第 {notice.index + 1} 条（平台的转接通知）之前的最后 {looked} 条"
            f"消息里没有告诉买家要转接（词库 [transfer] 的 handover 说法一个也没有），"
            f"随后由 {taker.agent} 接待"
        )
        return Finding(
            conversation_id=conversation.id,
            message_index=last.index,
            kind=KIND,
            score=1.0,
            agent=holder,
            text=last.text,
            evidence=Evidence(
                rule=RULE_NAME,
                summary=summary,
                version=self.lexicon.label,
                cues=("transfer notice with no hand-over message before it",),
                details={
                    "notice_index": notice.index,
                    "taker": taker.agent,
                    "taker_index": taker.index,
                    "looked_at": looked,
                    "lexicon": self.lexicon.label,
                },
            ),
        )


@register_rule(RULE_NAME)
def make_transfer_handover_rule(settings: RuleSettings | None = None) -> TransferHandoverRule:
    """Build the rule from pipeline settings: the lexicon file (bundled default) and its ``[transfer]``."""
    return TransferHandoverRule(load_lexicon(settings.lexicon if settings is not None else None))
