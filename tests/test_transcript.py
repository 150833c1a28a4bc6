"""qc.supervise.transcript: what one message costs when several findings share its charge."""

from __future__ import annotations

import pytest
from cards import charging_card

from qc.schema import Conversation, Evidence, Finding, Message, Role
from qc.scoring.card import load_scorecard
from qc.supervise.transcript import build_view
from qc.text.pii import Masker

AGENT = "店:小王"


def _conversation() -> Conversation:
    return Conversation(
        "c1",
        (
            Message(0, Role.CUSTOMER, "能今天发货吗", sender="买家"),
            Message(1, Role.AGENT, "自己看详情页", sender=AGENT),
            Message(2, Role.CUSTOMER, "你什么态度", sender="买家"),
            Message(3, Role.AGENT, "爱买不买", sender=AGENT),
        ),
    )


def _phrase(index: int, text: str, implies: str) -> Finding:
    evidence = Evidence("forbidden_phrase.v1", "phrase", "FP-x", (), {"implies": implies})
    return Finding("c1", index, "forbidden_phrase", 1.0, evidence, AGENT, text, 0, len(text))


def _model(index: int, kind: str, needs_review: bool = False) -> Finding:
    evidence = Evidence("attitude_classifier.v1", "model")
    return Finding("c1", index, kind, 0.99, evidence, AGENT, "", needs_review=needs_review)


@pytest.mark.parametrize(
    ("findings", "charges", "shared", "shown"),
    [
        # a phrase implying impatience and the model's impatience: one −1 charge, both show it
        (
            [_phrase(1, "自己看", "impatience"), _model(1, "impatience")],
            {1: -1.0, 3: 0.0},
            {1: True},
            [-1, -1],
        ),
        # one finding alone: its own points, nothing shared
        ([_model(1, "impatience")], {1: -1.0}, {1: False}, [-1]),
        # the phrase implies conflict, the model says impatience: charged once, as conflict;
        # the impatience finding stands behind nothing, so nothing is shared
        ([_phrase(3, "爱买不买", "conflict"), _model(3, "impatience")], {3: -5.0}, {3: False}, [-5, 0]),
        # a finding held for review costs nothing and shares nothing
        ([_model(3, "conflict", needs_review=True)], {3: 0.0}, {3: False}, [0]),
    ],
    ids=["implied-and-model", "single", "conflict-wins", "needs-review"],
)
def test_a_message_is_charged_once_and_the_view_says_so(findings, charges, shared, shown):
    view = build_view(_conversation(), findings, charging_card(), explain=True)
    by_index = {mv.message.index: mv for mv in view.messages}
    assert {i: by_index[i].charge for i in charges} == charges
    assert {i: by_index[i].shared_charge for i in shared} == shared
    # each finding stands behind the whole charge, never a share of it
    assert [view.points[f.id] for f in findings] == shown
    # listed, the first of those sharing a charge shows it and the rest 0 (同上): a list adds up
    # to what the message cost (audit 162 M2)
    listed = [by_index[f.message_index].points_shown(f, view.points) for f in findings]
    assert sum(listed) == sum(charges.values())
    assert [f.id in by_index[f.message_index].same_as_above for f in findings] == [
        shared.get(f.message_index, False) and i > 0 for i, f in enumerate(findings)
    ]


@pytest.mark.parametrize(
    ("findings", "lines"),
    [
        ([_phrase(1, "自己看", "impatience"), _model(1, "impatience")], 1),
        ([_model(1, "impatience")], 0),
        ([_phrase(3, "爱买不买", "conflict"), _model(3, "impatience")], 0),
    ],
    ids=["shared", "single", "outranked"],
)
def test_the_report_says_once_what_a_shared_message_costs(findings, lines):
    from types import SimpleNamespace

    from qc.supervise.report import _render_conversation, load_reply_patterns

    view = build_view(_conversation(), findings, charging_card())
    heading = SimpleNamespace(date="2026-11-24", agents=[AGENT], points=-1.0)
    html = _render_conversation(heading, view, load_reply_patterns(), Masker(False))
    assert html.count("这条消息实扣 -1 分") == lines
    assert html.count("0 分 (同上)") == lines


@pytest.mark.parametrize(
    ("summary", "state", "shown"),
    [
        ("不够耐心（扣分）：催促买家", "rejected", "不够耐心（已驳回，不扣分）：催促买家"),
        ("与买家冲突（待复核）：反问", "rejected", "与买家冲突（已驳回，不扣分）：反问"),
        ("与买家冲突（待复核）：反问", "confirmed", "与买家冲突（扣分）：反问"),
        ("不够耐心（扣分）：催促买家", "pending", "不够耐心（扣分）：催促买家"),
        ("replied 39 s after the buyer's message", "rejected", "replied 39 s after the buyer's message"),
    ],
    ids=["charged-rejected", "held-rejected", "held-confirmed", "pending", "no-head"],
)
def test_a_summary_says_what_review_made_of_its_finding(summary, state, shown):
    """A rejected finding still read 不够耐心（扣分） beside "0 pts · rejected" (audit 162 L4)."""
    from qc.supervise.transcript import as_decided

    assert as_decided(summary, state) == shown


def test_the_report_suggests_the_missing_hand_over_not_avoiding_the_agents_good_reply():
    """For a silent transfer the report read 不说「the agent's correct last reply」 (audit 162 L8)."""
    from types import SimpleNamespace

    from qc.supervise.report import _render_conversation, load_reply_patterns

    last = "亲，这个问题我帮您记下了"
    evidence = Evidence("transfer.v1", "转接未告知", "transfer")
    found = Finding("c1", 1, "silent_transfer", 1.0, evidence, AGENT, last, 0, len(last))
    conversation = Conversation(
        "c1", (Message(0, Role.CUSTOMER, "能退吗", sender="买家"), Message(1, Role.AGENT, last, sender=AGENT))
    )
    view = build_view(conversation, [found], load_scorecard())
    heading = SimpleNamespace(date="2026-11-24", agents=[AGENT], points=0.0)
    html = _render_conversation(heading, view, load_reply_patterns(), Masker(False))
    assert "转接之前少了一句告知：" in html and f"不说「{last}」" not in html


def _priced_card(tmp_path):  # noqa: ANN001, ANN202 - a Scorecard
    """The classifier's verdicts charged, and a forbidden phrase priced at −2 on its own."""
    card_file = tmp_path / "card.toml"
    card_file.write_text(
        "[findings]\nreview_only = []\n"
        "[items.service_attitude]\npoints = { conflict = -5, impatience = -1, forbidden_phrase = -2 }\n",
        encoding="utf-8",
    )
    return load_scorecard(card_file)


def test_a_finding_priced_on_its_own_shows_its_own_part_after_the_shared_charge(tmp_path):
    """A card pricing the phrase itself at −2: 同上 showed its whole −3 as 0, and a conversation
    charged −8.09 listed −6.09 (audit 163 H2)."""
    card = _priced_card(tmp_path)
    for findings in (
        [_model(1, "impatience"), _phrase(1, "自己看", "impatience")],
        [_phrase(1, "自己看", "impatience"), _model(1, "impatience")],
    ):
        view = build_view(_conversation(), findings, card, explain=True)
        mv = next(m for m in view.messages if m.message.index == 1)
        shown = {f.kind: mv.points_shown(f, view.points) for f in findings}
        assert sum(shown.values()) == mv.charge == -3
        second = findings[1]
        assert second.id in mv.same_as_above
        assert shown[second.kind] == (-2 if second.kind == "forbidden_phrase" else 0)


def test_phrases_implying_two_verdicts_show_each_charge_once_and_never_a_positive_amount(tmp_path):
    """A phrase implying impatience beside one implying conflict: the lines read +1.5 and −3.5
    (audit 165 H1). The verdict (−5) and the priced phrase kind (−2 per message) are each shown
    once, on the first finding behind them."""
    card = _priced_card(tmp_path)

    def phrase(entry: str, start: int, implies: str) -> Finding:
        evidence = Evidence("forbidden_phrase.v1", "phrase", entry, (), {"implies": implies})
        return Finding(
            "c1", 3, "forbidden_phrase", 1.0, evidence, AGENT, "爱买不买"[start : start + 2], start, start + 2
        )

    findings = [_model(3, "impatience"), phrase("FP-a", 0, "impatience"), phrase("FP-b", 2, "conflict")]
    view = build_view(_conversation(), findings, card, explain=True)
    mv = next(m for m in view.messages if m.message.index == 3)
    shown = [mv.points_shown(f, view.points) for f in findings]
    assert shown == [0, -2, -5] and sum(shown) == mv.charge == -7
    assert [f.id in mv.same_as_above for f in findings] == [False, False, True]
    # the model's conflict listed first (the audit's case): −5, then the phrase's own −2, then 同上
    findings = [_model(3, "conflict"), phrase("FP-a", 0, "impatience"), phrase("FP-b", 2, "conflict")]
    view = build_view(_conversation(), findings, card, explain=True)
    mv = next(m for m in view.messages if m.message.index == 3)
    assert [mv.points_shown(f, view.points) for f in findings] == [-5, -2, 0]
