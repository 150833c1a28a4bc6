"""The per-conversation summary line counts what the data model says, in one pass."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qc.outputs.writers import conversation_summary
from qc.run.inspector import ConversationResult
from qc.schema import Conversation, Evidence, Finding, Message, Role

_BASE = datetime(2026, 11, 24, 23, 59, tzinfo=timezone(timedelta(hours=8)))
_ZONES = [timezone(timedelta(hours=h)) for h in (8, 0, -5)]


def _reference(result: ConversationResult) -> dict:
    """The summary read straight off the data model's properties."""
    conv = result.conversation
    times = [m.sent_at for m in conv.messages if m.sent_at is not None]
    live = Counter(f.kind for f in result.findings if f.live)
    return {
        "conversation_id": conv.id,
        "shop": conv.shop,
        "source": conv.source,
        "agents": list(conv.agents),
        "messages": len(conv.messages),
        "customer_messages": sum(1 for m in conv.messages if m.role == "customer"),
        "agent_messages": len(conv.agent_messages()),
        "started_at": min(times).isoformat() if times else None,
        "ended_at": max(times).isoformat() if times else None,
        "findings": dict(sorted(live.items())),
        "suppressed": sum(1 for f in result.findings if f.suppressed),
        "needs_review": sum(1 for f in result.findings if f.needs_review),
    }


_message = st.tuples(
    st.sampled_from(list(Role)),
    st.booleans(),
    st.sampled_from([None, "a1"]),
    st.sampled_from([None, "店:小王", "店:小李"]),
    st.one_of(st.none(), st.tuples(st.integers(0, 5), st.sampled_from(_ZONES))),
)
_finding = st.tuples(
    st.sampled_from(["impatience", "conflict", "forbidden_phrase"]), st.booleans(), st.booleans()
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_message, max_size=10), st.lists(_finding, max_size=5))
def test_summary_equals_the_data_models_reading(rows: list, flags: list) -> None:
    messages = tuple(
        Message(
            i,
            role,
            "文字",
            sender,
            None if at is None else (_BASE + timedelta(minutes=at[0])).astimezone(at[1]),
            auto,
            agent_id,
        )
        for i, (role, auto, agent_id, sender, at) in enumerate(rows)
    )
    findings = tuple(
        Finding("c1", 0, kind, 0.9, Evidence(rule="r", summary="s"), suppressed=sup, needs_review=rev)
        for kind, sup, rev in flags
    )
    result = ConversationResult(Conversation("c1", messages, "店", "f.jsonl"), (), findings)
    assert conversation_summary(result) == _reference(result)


# --------------------------------------------------------------- the JSON line format (dumps)

_json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False).filter(lambda x: x == 0 or abs(x) >= 1e-4)
    | st.text(st.characters(exclude_categories=("Cs",)))
)
_json_values = st.recursive(
    _json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.text(max_size=8), _json_values, max_size=6))
def test_dumps_writes_the_standard_librarys_compact_line(record: dict) -> None:
    """Chinese, control characters, escapes, numbers: the text of json.dumps, compact, ensure_ascii=False."""
    import json

    from qc.outputs.writers import dumps

    assert dumps(record) == json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def test_dumps_falls_back_to_the_standard_library_for_what_orjson_refuses() -> None:
    """A lone surrogate, an integer beyond 64 bits or a non-string key still gives a line."""
    import json

    from qc.outputs.writers import dumps

    for record in ({"text": "a\udc80b"}, {"n": 2**70}, {"d": {1: "x"}}):
        assert dumps(record) == json.dumps(record, ensure_ascii=False, separators=(",", ":"))


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=8), _json_values, max_size=6))
def test_dumpb_is_the_line_of_dumps_in_utf8(record: dict) -> None:
    """The bytes a worker sends and the main process writes are the text of dumps, UTF-8."""
    from qc.outputs.writers import dumpb, dumps

    assert dumpb(record) == dumps(record).encode("utf-8")


def test_dumpb_falls_back_as_dumps_does_and_refuses_what_utf8_cannot_hold() -> None:
    """What orjson refuses goes through the standard library; a lone surrogate cannot be UTF-8."""
    from qc.outputs.writers import dumpb, dumps

    for record in ({"n": 2**70}, {"d": {1: "x"}}):
        assert dumpb(record) == dumps(record).encode("utf-8")
    with pytest.raises(UnicodeEncodeError):
        dumpb({"text": "a\udc80b"})


def test_dumps_writes_numbers_json_can_hold() -> None:
    """NaN and infinity become null (JSON has neither); tiny floats keep their value."""
    import json

    from qc.outputs.writers import dumps

    assert dumps({"a": float("nan"), "b": float("inf")}) == '{"a":null,"b":null}'
    assert json.loads(dumps({"x": 5e-06}))["x"] == 5e-06
