"""qc.supervise.transcript: what one message costs when several findings share its charge."""

from __future__ import annotations

import pytest

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
    view = build_view(_conversation(), findings, load_scorecard(), explain=True)
    by_index = {mv.message.index: mv for mv in view.messages}
    assert {i: by_index[i].charge for i in charges} == charges
    assert {i: by_index[i].shared_charge for i in shared} == shared
    # each finding shows the whole charge it stands behind, never a share of it
    assert [view.points[f.id] for f in findings] == shown


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

    view = build_view(_conversation(), findings, load_scorecard())
    heading = SimpleNamespace(date="2026-11-24", agents=[AGENT], points=-1.0)
    html = _render_conversation(heading, view, load_reply_patterns(), Masker(False))
    assert html.count("这条消息实扣 -1 分") == lines
