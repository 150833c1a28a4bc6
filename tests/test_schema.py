"""Round trips and invariants of the one data model."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta, timezone

import pytest

from qc.schema import Conversation, Deduction, Evidence, Finding, Message, Reject, Role

SHANGHAI = timezone(timedelta(hours=8))


def _conversation() -> Conversation:
    return Conversation(
        id="c-001",
        shop="柚子家居旗舰店",
        source="day.jsonl:1",
        messages=(
            Message(
                0,
                Role.CUSTOMER,
                "这款有50ml装的么",
                sender="buyer_1",
                sent_at=datetime(2026, 11, 24, 10, 0, 1, tzinfo=SHANGHAI),
            ),
            Message(
                1,
                Role.AGENT,
                "亲，欢迎光临",
                sender="柚子家居旗舰店:小雨",
                auto_reply=True,
                source="day.jsonl:2",
            ),
            Message(
                2,
                Role.AGENT,
                "没有",
                sender="柚子家居旗舰店:小雨",
                agent_id="A01",
                sent_at=datetime(2026, 11, 24, 10, 0, 30, tzinfo=SHANGHAI),
            ),
            Message(3, Role.SYSTEM, "买家已下单"),
        ),
    )


def _finding() -> Finding:
    return Finding(
        conversation_id="c-001",
        message_index=2,
        kind="forbidden_phrase",
        score=1.0,
        agent="A01",
        text="没有",
        start=0,
        end=2,
        evidence=Evidence(
            rule="forbidden_phrase.v1",
            summary="bare 没有",
            pattern="FP-0007",
            cues=("bare reply to a question",),
            details={"implies": "impatience"},
        ),
    )


def _roundtrip(obj, cls):
    return cls.from_json(json.loads(json.dumps(obj.to_json(), ensure_ascii=False)))


@pytest.mark.parametrize(
    "obj",
    [
        _conversation(),
        _conversation().messages[0],
        _finding(),
        _finding().evidence,
        Deduction("A01", "2026-11-24", "service_attitude", -1.0, "impatience ×1", ("abc",)),
        Reject("day.csv", 7, "empty text", "c1,客服,,,"),
    ],
    ids=lambda o: type(o).__name__,
)
def test_json_round_trip_is_lossless(obj):
    assert _roundtrip(obj, type(obj)) == obj


def test_datetimes_keep_their_zone():
    msg = _roundtrip(_conversation().messages[0], Message)
    assert msg.sent_at is not None and msg.sent_at.utcoffset() == timedelta(hours=8)


def test_agent_messages_exclude_auto_replies_and_system():
    conv = _conversation()
    assert [m.index for m in conv.agent_messages()] == [2]
    assert conv.agents == ("A01",)


def test_agent_identity_prefers_agent_id_then_sender():
    assert Message(0, Role.AGENT, "x", sender="店:小雨").agent == "店:小雨"
    assert Message(0, Role.AGENT, "x", sender="店:小雨", agent_id="A1").agent == "A1"
    assert Message(0, Role.CUSTOMER, "x", sender="buyer").agent is None


def test_finding_id_is_stable_and_distinguishes_spans():
    f = _finding()
    assert f.id == _roundtrip(f, Finding).id
    fields = [x.name for x in dataclasses.fields(Finding) if x.init]
    moved = Finding(**{**{s: getattr(f, s) for s in fields}, "start": 1})
    assert moved.id != f.id
    # The id is kept once asked for; a changed copy asks again.
    assert dataclasses.replace(f, start=1).id == moved.id and f.id == _roundtrip(f, Finding).id


def test_finding_record_has_the_flat_keys_later_rules_share():
    record = _finding().to_json()
    for key in (
        "conversation_id",
        "message_index",
        "agent",
        "kind",
        "rule",
        "entry",
        "start",
        "end",
        "text",
        "score",
        "suppressed",
        "cue",
    ):
        assert key in record
    assert record["entry"] == "FP-0007" and record["cue"] == "bare reply to a question"


def test_live_excludes_suppressed_and_needs_review():
    f = _finding()
    assert f.live
    assert not dataclasses.replace(f, suppressed=True).live
    assert not dataclasses.replace(f, needs_review=True).live


def test_models_are_immutable():
    with pytest.raises(AttributeError):
        _conversation().id = "other"  # type: ignore[misc]
