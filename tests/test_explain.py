"""The workbench's Chinese reasons: every cue the forbidden-phrase rule writes has a translation."""

from __future__ import annotations

import re

from qc.schema import Evidence, Finding
from qc.scoring.scores import KIND_LABELS
from qc.supervise.explain import cue_zh, why_zh


def _forbidden(cues: tuple[str, ...], implies: str | None) -> Finding:
    ev = Evidence(
        rule="forbidden_phrase.v1", summary="x", pattern="FP-0010", cues=cues, details={"implies": implies}
    )
    return Finding(conversation_id="c", message_index=1, kind="forbidden_phrase", score=1.0, evidence=ev)


def test_known_cues_read_in_chinese_and_unknown_ones_are_kept():
    cases = {
        "no buyer message in view": "看不到买家消息",
        "follows a yes/no question, read as an acknowledgement": "跟在买家的是非问之后，视为应答",
        "reply to a reported problem": "回应的是买家反映的问题",
        "no help offer / explanation in the message": "回复里没有主动帮忙、解释",
        "a longer reply (14 chars) that says more than the phrase": "回复较长（14 字），不只这一句",
        "the buyer asked about size 「尺码」": "买家问的正是「尺码」",
    }
    for english, chinese in cases.items():
        assert cue_zh(english) == chinese
    assert cue_zh("a cue nobody wrote down") == "a cue nobody wrote down"


def test_every_cue_of_the_rule_source_is_translated():
    from pathlib import Path

    import qc.rules.forbidden_phrase as rule

    source = Path(rule.__file__).read_text(encoding="utf-8")
    literal = re.findall(r'(?:cues|vetoes|keep_cues)\.append\("([^"{]+)"\)', source)
    assert literal, "the rule's cue phrases moved: update this test"
    for cue in literal:
        assert re.search(r"[\u4e00-\u9fff]", cue_zh(cue)), cue


def test_why_names_the_entry_the_verdict_and_the_cues():
    live = why_zh(_forbidden(("reply to a question",), "impatience"), {}, KIND_LABELS)
    assert live == f"禁用语 FP-0010：计为「{KIND_LABELS['impatience']}」。依据：回应的是买家的提问"
    from dataclasses import replace

    vetoed_finding = replace(
        _forbidden(("follows thanks, read as an acknowledgement",), None), suppressed=True
    )
    vetoed = why_zh(vetoed_finding, {}, KIND_LABELS)
    assert vetoed == "禁用语 FP-0010：按上下文不计分。依据：跟在买家的道谢之后，视为应答"


def test_every_veto_of_the_rule_reads_in_chinese():
    from qc.rules.forbidden_phrase import scan

    cases = {
        ("不清楚哦，我帮您问一下仓库", "这个哪里发货"): "同一条回复里有主动帮忙「帮您」",
        ("您是不知道在哪里填地址吗？", "怎么下单"): "是客服自己在提问",
        (
            "颜色您可以自己选择哦，都有现货",
            "有什么颜色",
        ): "属于正常用语「自己选择」：在介绍一个选项或功能",
    }
    for (text, buyer), chinese in cases.items():
        (hit,) = scan(text, [buyer])
        assert hit["suppressed"] and cue_zh(str(hit["cue"])) == chinese
    formed = {
        "the reply goes on with help offer 「查」 in its next message": (
            "客服下一条接着有主动帮忙「查」（视为同一回复）"
        ),
        "inside the word 「亲自」": "只是词语「亲自」的一部分",
        "an A-not-A question 「是不是」": "是客服自己的正反问句「是不是」",
    }
    for english, chinese in formed.items():
        assert cue_zh(english) == chinese


def test_every_allow_reason_of_the_bundled_lexicon_reads_in_chinese():
    from qc.rules.lexicon import load_lexicon

    reasons = {a.reason for a in load_lexicon().allow}
    assert len(reasons) > 10
    for reason in reasons:
        said = cue_zh(f"part of 「x」 ({reason})")
        assert said.startswith("属于正常用语「x」：") and not re.search(r"[A-Za-z]{2,}", said), reason


def test_a_shops_own_allow_reason_is_shown_as_written():
    assert cue_zh("part of 「不贵」 (店里的说法)") == "属于正常用语「不贵」：店里的说法"


def test_the_reason_follows_what_became_of_the_finding():
    """A rejected phrase read 计为「不够耐心」 beside its 0 points, its first 依据 in English, and a
    live phrase that implies no verdict (!!!!) read 按上下文不计分 (audit 169 F2)."""
    from dataclasses import replace

    from qc.scoring.card import REJECTED_CUE, mark_rejected

    live = replace(_forbidden(("no help offer in the message",), "impatience"), text="我不知道")
    (rejected,) = mark_rejected([live], [live.id])
    said = why_zh(rejected, {}, KIND_LABELS)
    assert said.startswith("禁用语 FP-0010「我不知道」：已驳回（复核或申诉），不计分。依据：回复里没有")
    assert said.count("驳回") == 1  # said once (audit 170 F9)
    assert REJECTED_CUE not in said
    bang = replace(_forbidden(("listed phrase in the agent's reply",), None), text="!!!!")
    assert why_zh(bang, {}, KIND_LABELS).startswith(
        "禁用语 FP-0010「!!!!」：计入禁用语，不指向服务态度的判定"
    )
    vetoed = replace(_forbidden(("follows thanks, read as an acknowledgement",), None), suppressed=True)
    assert "按上下文不计分" in why_zh(vetoed, {}, KIND_LABELS)
    held = replace(live, needs_review=True)
    assert "待复核，确认后计为「不够耐心」" in why_zh(held, {}, KIND_LABELS)


def test_why_quotes_the_phrase_the_rule_found():
    from dataclasses import replace

    quoted = replace(_forbidden(("reply to a question",), "impatience"), text="自己看")
    assert why_zh(quoted, {}, KIND_LABELS).startswith("禁用语 FP-0010「自己看」：")
