"""Scored windows (day, ISO week, month, range), point rounding, and the metric items' evidence findings."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from qc.errors import ConfigError
from qc.schema import Conversation, Message, Role
from qc.scoring.card import load_scorecard
from qc.scoring.evidence import timing_findings
from qc.scoring.periods import Windows, parse_period, period_of, range_period

CST = timezone(timedelta(hours=8))
MEI, WANG = "店:小美", "店:小王"


@pytest.mark.parametrize(
    ("text", "label", "first", "last", "kind"),
    [
        ("2026-11", "2026-11", "2026-11-01", "2026-11-30", "month"),
        ("2026-02", "2026-02", "2026-02-01", "2026-02-28", "month"),
        ("2026-W48", "2026-W48", "2026-11-23", "2026-11-29", "week"),
        ("2026-W01", "2026-W01", "2025-12-29", "2026-01-04", "week"),  # ISO weeks cross years
        ("2026-11-24", "2026-11-24", "2026-11-24", "2026-11-24", "day"),
        ("0001-W01", "0001-W01", "0001-01-01", "0001-01-07", "week"),  # labelled 1-W01 (audit 153 L2)
        ("0001-01", "0001-01", "0001-01-01", "0001-01-31", "month"),
    ],
)
def test_periods_parse_from_their_labels(text, label, first, last, kind):
    p = parse_period(text)
    assert (p.label, p.first, p.last, p.kind) == (label, first, last, kind)
    assert p.holds(first) and p.holds(last) and not p.holds("2027-01-01")
    assert (p.days()[0], p.days()[-1]) == (first, last)


@pytest.mark.parametrize(
    "text", ["2026-13", "2026-W54", "November", "2026-11-31", "", "0000-01", "0000-W01", "0000-01-01"]
)
def test_a_bad_period_names_the_forms_it_takes(text):
    with pytest.raises(ConfigError, match="write a month as 2026-11, an ISO week as 2026-W48") as info:
        parse_period(text)
    assert info.value.exit_code == 2


def test_week_53_of_a_52_week_year_says_so():
    """2027-W53 got the generic "not a period" (audit 114 L4)."""
    with pytest.raises(ConfigError, match=r"2027 has 52 ISO weeks, no week 53 \(its last is 2027-W52\)"):
        parse_period("2027-W53")
    assert parse_period("2026-W53").first == "2026-12-28"


def test_the_last_week_of_the_calendar_ends_with_the_calendar():
    # 9999-12-31 is a Friday: its week's Sunday does not exist. A store written before qc
    # refused such dates may still hold one; scoring it must not overflow.
    assert parse_period("9999-W52") == period_of("9999-12-31", "week")
    assert (period_of("9999-12-31", "week").first, period_of("9999-12-31", "week").last) == (
        "9999-12-27",
        "9999-12-31",
    )


def test_ranges_and_the_windows_a_day_falls_in():
    assert range_period("2026-11-01", "2026-11-15").label == "2026-11-01~2026-11-15"
    assert range_period("2026-11-24", "2026-11-24").kind == "day"
    with pytest.raises(ConfigError, match="--from 2026-11-25 is after --to 2026-11-24"):
        range_period("2026-11-25", "2026-11-24")
    assert period_of("2026-11-30", "week").label == "2026-W49"  # Monday 30 November
    assert period_of("2026-11-29", "week").label == "2026-W48"
    assert period_of("undated", "month") is None and period_of("undated", "day").label == "undated"
    one = Windows.only(range_period("2026-11-01", "2026-11-15"))
    assert one.of("2026-11-15").label == "2026-11-01~2026-11-15" and one.of("2026-11-16") is None
    assert one.of("undated") is None


@pytest.mark.parametrize(
    ("decimals", "value", "expected"),
    [(0, -15.06, -15), (0, -2.5, -3), (0, 2.5, 3), (0, -0.4, 0), (1, -28.97, -29.0), (2, -28.965, -28.97)],
)
def test_points_round_as_the_card_says_halves_away_from_zero(decimals, value, expected):
    from dataclasses import replace

    card = replace(load_scorecard(), decimals=decimals)
    assert card.round_points(value) == expected
    # Whole points are whole numbers in every file (-15, as the 考核表 keeps them, not -15.0).
    assert json.dumps(card.round_points(value)) == json.dumps(expected)


def at(clock: str, day: str = "2026-11-24") -> datetime:
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=CST)


def test_slow_replies_are_findings_with_their_turn_and_seconds_over_the_limit():
    c = Conversation(
        "c1",
        (
            Message(0, Role.CUSTOMER, "在吗", "b", at("10:00:00")),
            Message(1, Role.CUSTOMER, "有货吗", "b", at("10:00:20")),
            Message(2, Role.AGENT, "有的亲", MEI, at("10:01:05")),  # 65 s after message 0: slow
            Message(3, Role.CUSTOMER, "好", "b", at("10:02:00")),
            Message(4, Role.AGENT, "感谢您", MEI, at("10:02:32")),  # exactly 32 s: not over
        ),
        shop="店",
    )
    (slow,) = timing_findings(c, load_scorecard())
    assert (slow.kind, slow.rule, slow.message_index, slow.agent, slow.text) == (
        "slow_response",
        "response_time.v1",
        2,
        MEI,
        "有的亲",
    )
    details = slow.evidence.details
    assert [details[k] for k in ("buyer_index", "reply_index", "delay_s", "over_s")] == [0, 2, 65, 33]
    assert details["limit_s"] == 32 and details["delay_us"] == 65_000_000
    assert "33 s over the 32 s limit of 平均响应时间" in slow.evidence.summary
    assert slow.live and slow.score == 1.0
    assert slow.id == timing_findings(c, load_scorecard())[0].id  # stable across runs


def test_a_slow_reply_in_a_chat_written_to_the_minute_says_what_it_is_at_least():
    """Its times have no seconds: the reply is charged only for what it surely took (audit 81 #1)."""
    c = Conversation(
        "c3",
        (
            Message(0, Role.CUSTOMER, "在吗", "b", at("10:00:00")),
            Message(1, Role.AGENT, "在的亲", MEI, at("10:10:00")),
        ),
        shop="店",
    )
    (slow,) = timing_findings(c, load_scorecard())
    assert slow.evidence.details["delay_s"] == 541
    assert "replied at least 541 s after the buyer's message 0 (both times fall on a whole minute" in (
        slow.evidence.summary
    )
    assert "509 s over the 32 s limit" in slow.evidence.summary and slow.evidence.details["to_the_minute"]
    # The workbench's reason says it in Chinese too (audit 83 #9).
    from qc.supervise.explain import why_zh

    said = why_zh(slow, {"average_response": "平均响应时间"}, {})
    assert "之后至少 541 秒才回复" in said and "时间只记到分钟" in said
    # The badges of `qc show`, `qc report` and the workbench say "at least" too (audit 139 L1).
    from qc.supervise.transcript import build_view

    view = build_view(c, [slow], load_scorecard())
    assert [(mv.slow_s, mv.slow_at_least) for mv in view.messages] == [(None, False), (541.0, True)]


def test_a_reply_a_hair_over_the_limit_says_by_how_much_not_zero():
    """ "0 s over the 32 s limit" was written for a reply 32.004 s late, a finding with a share of
    the item's points (audit 79, #2)."""
    late = datetime.fromisoformat("2026-11-24T10:00:32.004").replace(tzinfo=CST)
    c = Conversation(
        "c2",
        (Message(0, Role.CUSTOMER, "在吗", "b", at("10:00:00")), Message(1, Role.AGENT, "在的亲", MEI, late)),
        shop="店",
    )
    (slow,) = timing_findings(c, load_scorecard())
    assert "0.004 s over the 32 s limit" in slow.evidence.summary


def test_a_buyer_never_answered_that_day_is_a_missed_reply_per_agent_and_day():
    c = Conversation(
        "c2",
        (
            Message(0, Role.CUSTOMER, "问", "b", at("09:00:00")),
            Message(1, Role.AGENT, "答", MEI, at("09:00:10")),
            Message(2, Role.AGENT, "还有什么可以帮您", MEI, at("23:59:00")),
            # the next day, 小美 holds the conversation and never answers: one missed buyer-day
            Message(3, Role.CUSTOMER, "还在吗", "b", at("00:10:00", "2026-11-25")),
            Message(4, Role.CUSTOMER, "人呢", "b", at("00:20:00", "2026-11-25")),
        ),
        shop="店",
    )
    (missed,) = timing_findings(c, load_scorecard())
    assert (missed.kind, missed.message_index, missed.agent) == ("missed_reply", 3, MEI)
    assert missed.evidence.details["turns"] == 1
    # the same conversation under conversation_start: all one day, the buyer was answered
    from dataclasses import replace

    from qc.scoring.metrics import DayRule

    one_day = replace(load_scorecard(), day=DayRule("Asia/Shanghai", "conversation_start"))
    assert timing_findings(c, one_day) == []


def _handed_over(after: list[Message]) -> Conversation:
    """小美 answers, the chat is transferred, 小王 takes it over; then ``after``."""
    return Conversation(
        "t1",
        (
            Message(0, Role.CUSTOMER, "在吗", "b", at("10:00:00")),
            Message(1, Role.AGENT, "在的亲", MEI, at("10:00:10")),
            Message(2, Role.SYSTEM, "小美将会话转接给小王", None, at("10:00:30")),
            Message(3, Role.AGENT, "您好，售后小王为您服务", WANG, at("10:00:40")),
            *after,
        ),
        shop="店",
    )


@pytest.mark.parametrize("last", ["好的谢谢", "发票抬头怎么填"], ids=["signs-off", "asks-again"])
def test_the_agent_a_chat_was_transferred_to_answers_what_the_buyer_says_next(tmp_path, last):
    """The buyer wrote to 小王 after he took the chat over, and nobody answered: a buyer he received
    and never answered (a greeting answers nothing, audit 99 F3). A sign-off needs no reply only
    where the shop's card lists closing words (audit 97 #2)."""
    from dataclasses import replace

    c = _handed_over([Message(4, Role.CUSTOMER, last, "b", at("10:01:00"))])
    (missed,) = timing_findings(c, load_scorecard())
    assert (missed.kind, missed.agent, missed.message_index) == ("missed_reply", WANG, 4)
    card = load_scorecard()
    closing = replace(card, day=replace(card.day, closing_words=("好的", "谢谢")))
    assert [f.agent for f in timing_findings(c, closing)] == ([] if last == "好的谢谢" else [WANG])


def test_an_agent_who_only_greeted_before_the_buyer_wrote_did_not_reply():
    """A greeting answers nothing: the agent who greets and then ignores the question missed the buyer."""
    greeted = Conversation(
        "g1",
        (
            Message(0, Role.AGENT, "您好，有什么可以帮您", MEI, at("10:00:00")),
            Message(1, Role.CUSTOMER, "这个什么时候发货", "b", at("10:00:20")),
        ),
        shop="店",
    )
    (missed,) = timing_findings(greeted, load_scorecard())
    assert (missed.kind, missed.agent, missed.message_index) == ("missed_reply", MEI, 1)


def test_a_first_response_item_with_points_makes_its_own_evidence(tmp_path):
    card_file = tmp_path / "shop.toml"
    card_file.write_text(
        '[items.first_response]\npoints_missed = -1\nevidence = "slow_first_response"\n', encoding="utf-8"
    )
    c = Conversation(
        "c3",
        (
            Message(0, Role.CUSTOMER, "在吗", "b", at("10:00:00")),
            Message(1, Role.AGENT, "在的", WANG, at("10:00:40")),
        ),
    )
    kinds = sorted(f.kind for f in timing_findings(c, load_scorecard(card_file)))
    assert kinds == ["slow_first_response", "slow_response"]
