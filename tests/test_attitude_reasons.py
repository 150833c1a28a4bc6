"""A charged attitude verdict's reasons are things a QA lead can check against the message.

The model weighs a reply's length, polite words (亲, 您, a closing formula) and the buyer's own
words, and the strongest of them used to lead a finding's reasons: 「回复7–15个字」 explained a
−5 conflict, 「称呼买家（亲、您）」 an impatience (audit 75 B7, audit 77 B7). The cue lexicon's
``[explain] not_reasons`` names what is never a reason; these tests read the bundled model's copy.
"""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from qc.attitude.cues import parse_cues
from qc.attitude.features import Featurizer
from qc.attitude.model import default_model_dir, load_cached
from qc.attitude.rule import AttitudeClassifierRule
from qc.errors import ConfigError
from qc.paths import demo_dir
from qc.readers import ReadOptions, read_inputs
from qc.rules.lexicon import default_lexicon_path
from qc.text.tokens import fold

_QUOTED = re.compile(r"(?:回复含|回复用词|.+时回复)「(.+)」")


@pytest.fixture(scope="module")
def charge_everything() -> AttitudeClassifierRule:
    """The bundled model with every threshold at 0: every typed reply gets a finding and reasons."""
    model = load_cached(default_model_dir())
    zero = {"impatience": 0.0, "conflict": 0.0}
    return AttitudeClassifierRule(
        replace(model, meta={**model.meta, "thresholds": zero, "review_floor": zero})
    )


def _never_said(featurizer: Featurizer) -> tuple[set[str], set[str]]:
    """The labels that are never a reason alone, and those no reason may start with (as the rule
    reads them when it leaves a named part out of a cross)."""
    from qc.attitude.rule import _never_alone

    alone, starts = _never_alone(featurizer)
    return set(alone), set(starts)


def test_what_is_never_a_reason_alone_holds_lengths_buyer_kinds_and_polite_cues():
    featurizer = load_cached(default_model_dir()).featurizer
    alone, starts = _never_said(featurizer)
    assert {
        "回复1–2个字",
        "问候语（您好、很高兴为您服务）",
        "买家在提问",
        "买家在提问时回复3–6个字",
    } <= alone
    assert "把买家推开（自己看、去问别人）" not in alone and "买家的问题没有得到回答" not in alone
    assert {"买家说「", "客服上一句「"} <= starts


def test_the_bundled_model_lists_what_is_never_a_reason():
    cues = load_cached(default_model_dir()).featurizer.cues
    assert {"length", "buyer", "previous", "reply.address", "reply.closing"} <= cues.not_reasons
    assert "reply.pushaway" not in cues.not_reasons and "ans.unanswered" not in cues.not_reasons


def test_no_reason_is_a_length_a_polite_word_or_the_buyers_words(charge_everything):
    featurizer = charge_everything.model.featurizer
    alone, starts = _never_said(featurizer)
    read = read_inputs([demo_dir() / "day"], ReadOptions())
    conversations = read.conversations[:80]
    findings = [f for c in conversations for f in charge_everything.check(c, [])]
    assert len(findings) > 200  # every typed reply of 80 chats is judged
    said = [cue for f in findings for cue in f.evidence.cues]
    assert said
    for cue in said:
        assert cue not in alone, cue
        assert not cue.startswith(tuple(starts)), cue
        quoted = _QUOTED.fullmatch(cue)
        if quoted:
            assert fold(quoted.group(1)) not in featurizer._not_reason_words, cue
    for f in findings:
        assert f.evidence.cues or "没有能单独指明的原因" in f.evidence.summary, f.evidence.summary


def test_what_is_wrong_in_a_reply_is_still_named(charge_everything):
    pushed = charge_everything.explain("你自己看吧", [("customer", "是纯棉的吗")], "impatience")
    assert "把买家推开（自己看、去问别人）" in pushed
    # 哦 is a friendly particle and a bare interjection: alone after a question it is named.
    bare = charge_everything.explain("哦", [("customer", "能今天发货吗")], "impatience")
    assert bare and any("哦" in cue for cue in bare), bare


def test_a_name_that_is_no_cue_in_not_reasons_is_refused():
    raw = default_lexicon_path().with_name("attitude_cues.toml").read_text(encoding="utf-8")
    raw = raw.replace('"reply.address",', '"reply.adress",', 1)
    with pytest.raises(ConfigError, match=r"explain.not_reasons: reply.adress names no cue, state or block"):
        parse_cues(raw.encode("utf-8"), "cues.toml")


@pytest.mark.parametrize(
    ("reply", "buyer", "label"),
    [
        ("亲,您去过售后了吗", "我的手机坏了", "conflict"),
        ("请问还有其他还可以帮到您的吗?", "哪天能到货?", "impatience"),
        ("怎么这么巧", "我也是杭州的", "impatience"),
    ],
)
def test_a_word_is_named_once_and_short_words_come_after_the_cues(reply, buyer, label):
    """「亲,」 named twice (回复用词 and 回复含) explained a −5 conflict, and 「还有」「其他」 came before
    the cue that carried the verdict (audit 164 M1)."""
    rule = AttitudeClassifierRule(load_cached(default_model_dir().resolve()))
    said = rule.explain(reply, (("customer", buyer),), label)
    words = [m[1] for what in said if (m := re.search(r"「([^」]*)」$", what))]
    assert len(words) == len(set(words)), said
    short = [i for i, what in enumerate(said) if (m := re.search(r"「([^」]*)」$", what)) and len(m[1]) <= 2]
    cues = [i for i, what in enumerate(said) if "「" not in what]
    assert not short or not cues or max(cues) < min(short), said


def test_a_cue_crossed_with_others_is_named_once():
    """把买家推开（自己看、去问别人）was named alone, then crossed with the unanswered question,
    then with the yes/no question: three times in one line (the demo day's held findings)."""
    from qc.attitude.model import load_cached
    from qc.attitude.rule import AttitudeClassifierRule

    rule = AttitudeClassifierRule(load_cached(default_model_dir()))
    said = rule.explain("自己看规则", [("customer", "这个可以七天无理由吗")], "impatience")
    pushed = "把买家推开（自己看、去问别人）"
    assert sum(part == pushed for cue in said for part in cue.split("，")) == 1, said
    assert "买家的问题没有得到回答" in said  # the cross's other part still stands


def test_a_cross_whose_new_part_is_no_reason_alone_is_left_out():
    """买家的问题没有得到回答 was named, then again crossed with the reply's length, which is no
    reason on its own: the line named it twice (audit 171 L1)."""
    from qc.attitude.model import load_cached
    from qc.attitude.rule import AttitudeClassifierRule

    rule = AttitudeClassifierRule(load_cached(default_model_dir()))
    pairs = (("我不知道，你爱咋咋地", "到底什么时候发货"), ("自己看规则", "这个可以七天无理由吗"))
    for reply, buyer in pairs:
        for label in ("impatience", "conflict"):
            said = rule.explain(reply, [("customer", buyer)], label)
            parts = [part for cue in said for part in cue.split("，")]
            assert len(parts) == len(set(parts)), said
