"""Every rule's work grows linearly with the length of a message (issue 19, item 4).

A message dense in lexicon hits used to cost quadratic time in forbidden_phrase.v1 (a per-hit
pass over the whole message). Work is counted, not timed: the number of Python and C calls a
rule makes (``sys.setprofile``) on a text of n characters and on one of 4n; linear work gives a
ratio near 4, quadratic near 16.
"""

from __future__ import annotations

import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qc.rules import RuleSettings
from qc.rules.forbidden_phrase import conversation_for, make_forbidden_phrase_rule
from qc.rules.lexicon import load_lexicon
from qc.run.inspector import build_inspector

_LEX = load_lexicon()
WORDS = sorted(
    {p for e in _LEX.entries for p in e.phrases}
    | {p for g in _LEX.allow for p in g.phrases}
    | {w for ws in _LEX.cues.values() for w in ws}
    | set("，。！？?!~ 的了吗么呢啊")
)
SHORT, LONG = 600, 2400


def _calls(check, text: str) -> int:
    count = 0

    def profile(frame, event, arg):  # noqa: ARG001 - the profiler's signature
        nonlocal count
        count += 1

    sys.setprofile(profile)
    try:
        check(text)
    finally:
        sys.setprofile(None)
    return count


def _dense(unit: list[str], n: int) -> str:
    # Whole repeats only: a text cut inside the unit ends in a different hit (不 of 不懂) at each
    # length, and that one hit's whole-message pass made the ratio depend on where the cut fell.
    block = "".join(unit)
    return block * max(1, round(n / len(block)))


@pytest.mark.parametrize("strict", [False, True])
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(unit=st.lists(st.sampled_from(WORDS), min_size=3, max_size=12))
def test_forbidden_phrase_work_is_linear_in_message_length(strict, unit):
    rule = make_forbidden_phrase_rule(RuleSettings(strict=strict))

    def check(text: str) -> None:
        list(rule.check(conversation_for(text, ["这个怎么用"]), ()))

    check(_dense(unit, 50))  # warm caches (tokenizer, compiled patterns) outside the count
    short, long = _calls(check, _dense(unit, SHORT)), _calls(check, _dense(unit, LONG))
    assert long <= 6 * max(short, 1), (short, long)


def test_a_message_over_the_limit_is_judged_on_its_first_characters():
    inspector = build_inspector(RuleSettings())
    limit = inspector.max_chars
    assert limit == 5000  # the documented default (qc/defaults/limits.toml)
    text = "不知道" + "好" * (limit - 3) + "爱买不买"  # the second phrase lies past the limit
    result = inspector.inspect_one(conversation_for(text, ["这个怎么用"]))
    assert result.conversation.messages[-1].text == text  # kept whole
    spans = [(f.start, f.end) for f in result.findings if f.start is not None]
    assert spans and all(end <= limit for _, end in spans)
