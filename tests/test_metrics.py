"""Golden tests of the timing metrics on hand-built conversations.

Every expected number is worked out in the comments next to the conversation. Times are
Asia/Shanghai (UTC+8) unless the test says otherwise.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from statistics import fmean
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qc.schema import Conversation, Message, Role
from qc.scoring.metrics import (
    UNASSIGNED,
    UNDATED,
    DayRule,
    MetricPool,
    agent_day_metrics,
    conversation_metrics,
    conversation_parts,
    conversation_turns,
    message_days,
    to_the_minute,
)

CST = timezone(timedelta(hours=8))
C, A, S = Role.CUSTOMER, Role.AGENT, Role.SYSTEM


def at(clock: str | None, day: str = "2026-11-24", tz=CST) -> datetime | None:
    if clock is None:
        return None
    return datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=tz)


def conv(cid: str, *rows, shop: str | None = "柚子家居") -> Conversation:
    """rows: (role, sender, sent_at[, auto_reply])."""
    messages = []
    for i, row in enumerate(rows):
        role, sender, sent_at, *rest = row
        messages.append(
            Message(
                index=i,
                role=role,
                text=f"m{i}",
                sender=sender,
                sent_at=sent_at,
                auto_reply=bool(rest and rest[0]),
            )
        )
    return Conversation(cid, tuple(messages), shop=shop)


def by_agent(rows):
    return {(r.agent, r.date): r for r in rows}


# Two buyer messages 20 s apart form ONE turn; the delay runs from the first (10:00:00) to
# the reply (10:00:50) = 50 s, not 30 s. Second turn: 10:01:00 → 10:01:10 = 10 s.
# avg = (50 + 10) / 2 = 30; first response = 50; answer ratio = 2 agent / 3 buyer.
CONSECUTIVE = conv(
    "consecutive",
    (C, "buyer", at("10:00:00")),
    (C, "buyer", at("10:00:20")),
    (A, "店:小美", at("10:00:50")),
    (C, "buyer", at("10:01:00")),
    (A, "店:小美", at("10:01:10")),
)

# The auto-reply (10:00:01) and the system notice (10:00:02) are skipped: they do not answer
# the buyer and do not split the turn. One turn of 2 buyer messages from 10:00:00, replied at
# 10:01:00 → 60 s. Agent messages = 1 (the auto-reply does not count).
AUTO_REPLY = conv(
    "auto",
    (C, "buyer", at("10:00:05")),
    (A, "店:小美", at("10:00:06"), True),
    (S, None, at("10:00:07")),
    (C, "buyer", at("10:00:35")),
    (A, "店:小美", at("10:01:05")),
)

# Transfer from 小美 to 小王. Turns: [0]→1 by 小美 5 s; [2]→3 by 小美 20 s; [5]→6 by 小王 40 s;
# [7] unanswered → the holder at that point, 小王.
# 小美: turns 2 replied 2, avg 12.5, first 5, buyer msgs 2, msgs 2, ratio 1.0, reply rate 1/1.
# 小王: turns 2 replied 1, avg 40, no first response, buyer msgs 2, msgs 1, ratio 0.5,
#       received 1 buyer, replied 1 → reply rate 1.0.
TRANSFER = conv(
    "transfer",
    (C, "buyer", at("10:00:00")),
    (A, "店:小美", at("10:00:05")),
    (C, "buyer", at("10:01:00")),
    (A, "店:小美", at("10:01:20")),
    (S, None, at("10:01:21")),
    (C, "buyer", at("10:02:00")),
    (A, "店:小王", at("10:02:40")),
    (C, "buyer", at("10:03:00")),
)

# Only an auto-reply answered: the unanswered turn goes to the auto-reply's account 小美.
UNANSWERED = conv(
    "unanswered",
    (C, "buyer", at("11:00:00")),
    (A, "店:小美", at("11:00:01"), True),
)

# Crossing midnight (timestamps given in UTC: 15:59:00Z is 23:59:00 in Shanghai).
# [0] 23:59:00 → [1] 23:59:20 = 20 s, reply on the 24th.
# [2] 23:59:50 → [3] 00:00:30 = 40 s, reply on the 25th.
# [4] 00:01:00 unanswered → the 25th (day of the buyer message), held by 小美.
MIDNIGHT = conv(
    "midnight",
    (C, "buyer", at("15:59:00", tz=UTC)),
    (A, "店:小美", at("15:59:20", tz=UTC)),
    (C, "buyer", at("15:59:50", tz=UTC)),
    (A, "店:小美", at("16:00:30", tz=UTC)),
    (C, "buyer", at("16:01:00", tz=UTC)),
)

# Missing timestamps: turn [0] has no start time → unknown; turn [2] has no reply time →
# unknown; turn [4] 10:01:00 → 10:01:30 = 30 s. avg = 30 over 1 timed turn; first response
# unknown (None, never 0). Message 0 takes the day of the next timestamped message.
MISSING = conv(
    "missing",
    (C, "buyer", None),
    (A, "店:小美", at("10:00:10")),
    (C, "buyer", at("10:00:20")),
    (A, "店:小美", None),
    (C, "buyer", at("10:01:00")),
    (A, "店:小美", at("10:01:30")),
)

NO_TIMES = conv("no-times", (C, "buyer", None), (A, "店:小美", None))


def test_consecutive_buyer_messages_form_one_turn():
    turns = conversation_turns(CONSECUTIVE)
    assert [(t.first_index, t.buyer_messages, t.reply_index, t.delay_s) for t in turns] == [
        (0, 2, 2, 50.0),
        (3, 1, 4, 10.0),
    ]
    (row,) = agent_day_metrics([CONSECUTIVE])
    assert (row.agent, row.date, row.shop) == ("店:小美", "2026-11-24", "柚子家居")
    assert row.avg_response_s == 30.0
    assert row.first_response_s == 50.0
    assert row.turns == row.turns_replied == row.timed_turns == 2
    assert (row.messages, row.buyer_messages) == (2, 3)
    assert row.answer_ratio == pytest.approx(2 / 3)
    assert (row.buyers_received, row.buyers_replied, row.reply_rate) == (1, 1, 1.0)
    assert row.conversations == 1


# 09:00-12:00 and 13:30-23:00 on the shop's clock.
HOURS = DayRule(service_hours=((540, 720), (810, 1380)))


@pytest.mark.parametrize(
    ("asked", "answered", "seconds"),
    [
        (at("10:00:00"), at("10:00:20"), 20.0),  # inside the hours: the wall clock
        (at("02:00:00"), at("09:00:05"), 5.0),  # asked while closed: the clock starts at opening
        (at("22:30:00"), at("09:00:05", "2026-11-25"), 1805.0),  # half an hour before closing counts
        (at("11:50:01"), at("13:35:01"), 900.0),  # the lunch break does not
        # Closed throughout: untimed, no 0 s reply that lowers the average (audit 162 H1).
        (at("23:10:01"), at("23:50:01"), None),
        (at("12:17:06"), at("12:21:44"), None),  # over lunch
        (at("10:00:01"), at("10:00:01", "2026-11-27"), 3 * 45_000.0),  # three days of 12.5 open hours
        (at("10:00:01"), at("10:00:01"), 0.0),  # in the same second, while open: an instant reply
        (at("11:59:50"), at("12:04:00"), 10.0),  # answered over lunch: the open seconds before it
    ],
    ids=["open", "asked-at-night", "across-the-night", "across-lunch", "closed", "lunch", "days", "instant",
         "answered-at-lunch"],
)  # fmt: skip
def test_service_hours_time_a_reply_only_while_the_shop_is_open(asked, answered, seconds):
    # Times with seconds: two on a whole minute would read as a chat written to the minute.
    c = conv("hours", (C, "buyer", asked), (A, "店:小美", answered))
    (turn,) = conversation_turns(c, HOURS)
    assert turn.delay_s == seconds
    assert conversation_turns(c)[0].delay_s == (answered - asked).total_seconds()  # no hours: all of it


def test_a_turn_asked_and_answered_while_closed_is_replied_but_out_of_the_average():
    """Timed as 0 s, 50 lunch-time and night turns took 阿杰's average from 38.8 s to 25.9 s and his
    -14 points to 0 (audit 162 H1); left out, the average is the open turns' alone."""
    c = conv(
        "lunch",
        (C, "buyer", at("10:00:00")),
        (A, "店:小美", at("10:00:40")),
        (C, "buyer", at("12:17:06")),
        (A, "店:小美", at("12:21:44")),
    )
    (part,) = conversation_parts(c, HOURS)
    assert (part.turns, part.turns_replied, part.timed_turns) == (2, 2, 1)
    assert part.delay_us == 40_000_000
    (to_the_minute_part,) = conversation_parts(
        conv("m", (C, "buyer", at("12:17:00")), (A, "店:小美", at("12:17:00"))), HOURS
    )
    assert (to_the_minute_part.turns_replied, to_the_minute_part.timed_turns) == (1, 0)


def test_service_hours_follow_the_shops_wall_clock_on_a_daylight_saving_night():
    berlin = ZoneInfo("Europe/Berlin")
    rule = DayRule(timezone="Europe/Berlin", service_hours=((0, 60), (240, 1440)))
    # 00:30 to 04:30 on the spring night: 30 min before 01:00 and 30 min after 04:00 (02:00 never came)
    asked = datetime(2026, 3, 29, 0, 30, 1, tzinfo=berlin).astimezone(UTC)
    answered = datetime(2026, 3, 29, 4, 30, 1, tzinfo=berlin).astimezone(UTC)
    c = conv("dst", (C, "buyer", asked), (A, "店:小美", answered))
    assert conversation_turns(c, rule)[0].delay_s == 3600.0


@pytest.mark.parametrize(
    ("asked", "answered", "seconds"),
    [
        ("09:01", "09:01", 0.0),  # the same minute: 0 to 59 s
        ("09:01", "09:02", 1.0),  # the next: 1 to 119 s
        ("09:01", "09:11", 541.0),  # ten minutes apart: at least 9 min 1 s
    ],
)
def test_a_turn_written_to_the_minute_is_timed_at_the_least_it_can_have_taken(asked, answered, seconds):
    """Excel saves 2026/11/24 9:01: a reply 15 s after the question read as 60 s, and 25 such
    chats cost -56 points on 平均响应时间 with no word (audit 81 #1)."""
    c = conv("m", (C, "buyer", at(asked + ":00")), (A, "店:小美", at(answered + ":00")))
    assert to_the_minute(at(asked + ":00"), at(answered + ":00"))
    (turn,) = conversation_turns(c)
    assert turn.delay_s == seconds
    # A time with seconds, and the turn is timed as written.
    exact = conv("s", (C, "buyer", at(asked + ":00")), (A, "店:小美", at(answered + ":07")))
    assert conversation_turns(exact)[0].delay_s == (at(answered + ":07") - at(asked + ":00")).total_seconds()


def test_a_turn_to_the_minute_is_timed_at_its_least_inside_the_service_hours_too():
    """Asked at 02:00 while closed, answered at 9:01: the shop was open at least the minute from
    09:00 to 9:01:00, not 1 s (audit 83 #2)."""
    c = conv("h", (C, "buyer", at("02:00:00")), (A, "店:小美", at("09:01:00")))
    assert conversation_turns(c, HOURS)[0].delay_s == 60.0
    c = conv("h2", (C, "buyer", at("02:00:00")), (A, "店:小美", at("09:03:00")))
    assert conversation_turns(c, HOURS)[0].delay_s == 180.0
    c = conv("h3", (C, "buyer", at("10:00:00")), (A, "店:小美", at("10:03:00")))
    assert conversation_turns(c, HOURS)[0].delay_s == 121.0


def test_a_chat_joined_from_an_export_to_the_second_and_one_to_the_minute_is_timed_turn_by_turn():
    """Precision was told per conversation: a minute-only part joined to a part with seconds was
    timed as if exact, its replies charged at 60 s (audit 83 #3)."""
    c = conv(
        "j",
        (C, "buyer", at("09:00:13")),
        (A, "店:小美", at("09:00:20")),
        (C, "buyer", at("09:05:00")),
        (A, "店:小美", at("09:06:00")),
        (C, "buyer", at("09:07:00")),
    )
    assert [t.delay_s for t in conversation_turns(c)][:2] == [7.0, 1.0]


def test_a_turn_landing_on_whole_minutes_in_a_chat_timed_to_the_second_is_timed_as_written():
    """Once in 3,600 turns both ends fall on :00: a 60 s reply was timed as 1 s and its slow
    reply lost (audit 164 M4). The messages around it have seconds: it is timed as written."""
    c = conv(
        "s",
        (C, "buyer", at("11:20:13")),
        (A, "店:小美", at("11:20:31")),
        (C, "buyer", at("11:22:00")),
        (A, "店:小美", at("11:23:00")),
        (C, "buyer", at("11:23:41")),
        (A, "店:小美", at("11:23:50")),
    )
    assert [t.delay_s for t in conversation_turns(c)] == [18.0, 60.0, 9.0]


def test_auto_replies_and_system_notices_are_skipped():
    (turn,) = conversation_turns(AUTO_REPLY)
    assert (turn.first_index, turn.buyer_messages, turn.reply_index, turn.delay_s) == (0, 2, 4, 60.0)
    (row,) = agent_day_metrics([AUTO_REPLY])
    assert row.messages == 1
    assert row.answer_ratio == 0.5
    assert row.avg_response_s == row.first_response_s == 60.0


def test_transfer_is_attributed_reply_by_reply():
    rows = by_agent(agent_day_metrics([TRANSFER]))
    mei, wang = rows[("店:小美", "2026-11-24")], rows[("店:小王", "2026-11-24")]
    assert (mei.turns, mei.turns_replied, mei.avg_response_s, mei.first_response_s) == (2, 2, 12.5, 5.0)
    assert (mei.buyer_messages, mei.messages, mei.answer_ratio, mei.reply_rate) == (2, 2, 1.0, 1.0)
    assert (wang.turns, wang.turns_replied, wang.avg_response_s, wang.first_response_s) == (2, 1, 40.0, None)
    assert wang.first_responses == 0
    assert (wang.buyer_messages, wang.messages, wang.answer_ratio) == (2, 1, 0.5)
    assert (wang.buyers_received, wang.buyers_replied, wang.reply_rate) == (1, 1, 1.0)
    whole = conversation_metrics(TRANSFER)
    assert whole.agents == ("店:小美", "店:小王")
    assert (whole.turns, whole.turns_replied) == (4, 3)
    assert whole.avg_response_s == pytest.approx((5 + 20 + 40) / 3)
    assert whole.first_response_s == 5.0


def test_unanswered_buyer_lowers_the_reply_rate():
    # 小美 received two buyers (consecutive + unanswered) and replied to one: 50%.
    row = by_agent(agent_day_metrics([CONSECUTIVE, UNANSWERED]))[("店:小美", "2026-11-24")]
    assert (row.buyers_received, row.buyers_replied, row.reply_rate) == (2, 1, 0.5)
    assert (row.turns, row.turns_replied) == (3, 2)
    assert row.conversations == 2
    # The unanswered buyer does not change the response times (no reply, no delay).
    assert row.avg_response_s == 30.0
    assert conversation_metrics(UNANSWERED).replied is False


def said(cid: str, *rows) -> Conversation:
    """rows: (role, clock, text); the agent is 店:小美, the buyer tb_阿梨."""
    return Conversation(
        cid,
        tuple(
            Message(i, role, text, "店:小美" if role is A else "tb_阿梨", at(clock))
            for i, (role, clock, text) in enumerate(rows)
        ),
        shop="柚子家居",
    )


CLOSING = DayRule(closing_words=("好", "好的", "谢谢", "嗯", "ok"))


@pytest.mark.parametrize(
    ("tail", "closing"),
    [
        ([(C, "10:05:00", "好的谢谢！")], True),
        ([(C, "10:05:00", "ＯＫ[微笑]"), (C, "10:05:10", "👍")], True),  # width, emoji codes, pictures
        ([(C, "10:05:00", "好的"), (C, "10:05:10", "那什么时候发货")], False),  # then a question
        ([(C, "10:05:00", "好的吧你们真慢")], False),
        # no word at all is a buyer still waiting, not one signing off (audit 79, #1)
        ([(C, "10:05:00", "？？？")], False),
        ([(C, "10:05:00", "😡😡")], False),
        ([(C, "10:05:00", "[图片]"), (C, "10:05:10", "[视频]")], False),
        ([(C, "10:05:00", "好的"), (C, "10:05:10", "[图片]")], False),  # a photo is something to answer
    ],
    ids=[
        "thanks",
        "ok-and-emoji",
        "then-a-question",
        "more-than-thanks",
        "question-marks",
        "angry-emoji",
        "media",
        "thanks-then-a-photo",
    ],
)
def test_a_last_unanswered_thanks_awaits_no_reply_when_the_card_lists_closing_words(tail, closing):
    # the agent's notice, then the buyer's last words, unanswered
    c = said("notice", (A, "10:00:00", "亲，您的订单已发货"), *tail)
    (turn,) = conversation_turns(c, CLOSING)
    assert turn.closing is closing and not conversation_turns(c)[0].closing  # no list: a turn as ever
    (row,) = agent_day_metrics([c], CLOSING)
    expected = (0, 0, None) if closing else (1, 0, 0.0)
    assert (row.buyers_received, row.buyers_replied, row.reply_rate) == expected
    assert row.buyer_messages == len(tail)  # the answer ratio still counts what the buyer wrote
    assert conversation_metrics(c, CLOSING).turns == (0 if closing else 1)


def test_closing_words_leave_answered_turns_as_they_are():
    c = said("thanks", (C, "10:00:00", "谢谢"), (A, "10:00:40", "不客气亲"))
    (turn,) = conversation_turns(c, CLOSING)
    assert (turn.closing, turn.delay_s) == (False, 40.0)


def test_conversation_without_any_agent_is_unassigned():
    lonely = conv("lonely", (C, "buyer", at("09:00:00")), (S, None, at("09:00:01")))
    (row,) = agent_day_metrics([lonely])
    assert (row.agent, row.reply_rate, row.answer_ratio, row.avg_response_s) == (
        "柚子家居:unassigned",  # the shop's own: two shops' unanswered buyers are two rows
        0.0,
        0.0,
        None,
    )
    (row,) = agent_day_metrics([conv("no-shop", (C, "buyer", at("09:00:00")), shop=None)])
    assert (row.agent, row.shop) == (UNASSIGNED, None)


@pytest.mark.parametrize("bot", ["店:店小蜜", "店小蜜", "店:机器人"])
def test_a_buyer_only_the_shops_bot_answered_is_the_shops_unassigned(bot):
    """The bot got a scorecard row of its own, charged a missed buyer (audit 98 F4); an agent's
    own auto-reply still names the agent who holds the buyer (UNANSWERED above)."""
    (row,) = agent_day_metrics([conv("bot", (C, "buyer", at("11:00:00")), (A, bot, at("11:00:01"), True))])
    assert (row.agent, row.buyers_received, row.buyers_replied) == ("柚子家居:unassigned", 1, 0)
    (row,) = agent_day_metrics([UNANSWERED])
    assert row.agent == "店:小美"


def test_unanswered_turn_before_any_reply_goes_to_the_first_agent():
    # The agent writes first (outreach), the buyer answers, nobody replies: 小美 holds it.
    c = conv("outreach", (A, "店:小美", at("09:00:00")), (C, "buyer", at("09:05:00")))
    (turn,) = conversation_turns(c)
    assert (turn.agent, turn.replied) == ("店:小美", False)


def test_conversation_crossing_midnight_counts_each_reply_on_its_day():
    assert message_days(MIDNIGHT, DayRule()) == [
        "2026-11-24",
        "2026-11-24",
        "2026-11-24",
        "2026-11-25",
        "2026-11-25",
    ]
    rows = by_agent(agent_day_metrics([MIDNIGHT]))
    first, second = rows[("店:小美", "2026-11-24")], rows[("店:小美", "2026-11-25")]
    assert (first.turns, first.avg_response_s, first.first_response_s, first.messages) == (1, 20.0, 20.0, 1)
    assert (second.turns, second.turns_replied, second.avg_response_s, second.first_response_s) == (
        2,
        1,
        40.0,
        None,
    )
    assert (second.messages, second.buyer_messages, second.reply_rate) == (1, 2, 1.0)


def test_conversation_start_rule_keeps_a_conversation_on_one_day():
    (row,) = agent_day_metrics([MIDNIGHT], DayRule(by="conversation_start"))
    assert (row.date, row.turns, row.avg_response_s, row.first_response_s) == ("2026-11-24", 3, 30.0, 20.0)


def test_day_follows_the_configured_time_zone():
    # 23:59 Shanghai is 15:59 UTC: in UTC the whole conversation is on the 24th.
    assert set(message_days(MIDNIGHT, DayRule(timezone="UTC"))) == {"2026-11-24"}


def test_naive_timestamps_are_read_in_the_day_time_zone():
    c = conv(
        "naive",
        (C, "buyer", datetime(2026, 11, 24, 23, 59, 50)),
        (A, "店:小美", datetime(2026, 11, 25, 0, 0, 5)),
    )
    (row,) = agent_day_metrics([c])
    assert (row.date, row.avg_response_s) == ("2026-11-25", 15.0)


def test_missing_timestamps_make_time_metrics_unknown_never_zero():
    turns = conversation_turns(MISSING)
    assert [t.delay_s for t in turns] == [None, None, 30.0]
    assert message_days(MISSING, DayRule())[0] == "2026-11-24"
    (row,) = agent_day_metrics([MISSING])
    assert (row.avg_response_s, row.timed_turns, row.first_response_s, row.first_responses) == (
        30.0,
        1,
        None,
        0,
    )
    assert (row.turns_replied, row.reply_rate) == (3, 1.0)


def test_no_timestamps_at_all():
    (row,) = agent_day_metrics([NO_TIMES])
    assert (row.date, row.avg_response_s, row.first_response_s) == (UNDATED, None, None)
    assert (row.turns_replied, row.answer_ratio) == (1, 1.0)
    assert conversation_metrics(NO_TIMES).date == UNDATED


def test_rows_are_sorted_by_day_then_agent():
    rows = agent_day_metrics([MIDNIGHT, TRANSFER, AUTO_REPLY])
    assert [(r.date, r.agent) for r in rows] == sorted((r.date, r.agent) for r in rows)
    assert len(rows) == 3


# Random conversations: roles, auto-replies, gaps (some missing) and two agents.
_message = st.tuples(
    st.sampled_from([C, C, A, S]),
    st.sampled_from(["店:小美", "店:小王"]),
    st.one_of(st.none(), st.integers(min_value=0, max_value=600)),
    st.booleans(),
)


def _conversations(specs) -> list[Conversation]:
    """Conversations from drawn specs: a clock from 23:50, gaps in seconds (None: no time)."""
    convs = []
    for n, spec in enumerate(specs):
        clock = at("23:50:00")
        rows = []
        for role, agent, gap, auto in spec:
            clock = clock + timedelta(seconds=gap or 0)
            sender = agent if role is A else ("buyer" if role is C else None)
            rows.append((role, sender, clock if gap is not None else None, auto and role is A))
        convs.append(conv(f"p{n}", *rows))
    return convs


@given(st.lists(st.lists(_message, min_size=1, max_size=12), min_size=1, max_size=4))
@settings(max_examples=150, deadline=None)
def test_agent_day_rows_add_up_to_the_conversations(specs):
    convs = _conversations(specs)
    rows = agent_day_metrics(convs)
    per_conv = [conversation_metrics(c) for c in convs]
    assert sum(r.turns for r in rows) == sum(m.turns for m in per_conv)
    assert sum(r.turns_replied for r in rows) == sum(m.turns_replied for m in per_conv)
    assert sum(r.messages for r in rows) == sum(m.agent_messages for m in per_conv)
    assert sum(r.buyer_messages for r in rows) == sum(m.buyer_messages for m in per_conv)
    for r in rows:
        assert r.turns_replied <= r.turns and r.buyers_replied <= r.buyers_received
        assert r.reply_rate is None or 0 <= r.reply_rate <= 1
        assert r.avg_response_s is None or r.avg_response_s >= 0
        assert (r.avg_response_s is None) == (r.timed_turns == 0)
        assert (r.first_response_s is None) == (r.first_responses == 0)


@given(
    st.lists(st.lists(_message, min_size=1, max_size=12), min_size=1, max_size=5),
    st.randoms(use_true_random=False),
)
@settings(max_examples=150, deadline=None)
def test_parts_pool_to_the_same_metrics_in_any_order_and_grouping(specs, rnd):
    # Delays are whole microseconds and parts are integer counters: pooling them in any order,
    # or first into day aggregates, gives the same metrics to the last bit. A conversation
    # crossing midnight counts once in a window holding both its days.
    convs = _conversations(specs)
    parts = [p for c in convs for p in conversation_parts(c)]
    shuffled = list(parts)
    rnd.shuffle(shuffled)
    agents = {p.agent for p in parts}
    for agent in agents:
        mine = [p for p in parts if p.agent == agent]
        one, other = MetricPool(), MetricPool()
        for p in mine:
            one.add(p)
        for p in shuffled:
            if p.agent == agent:
                other.add(p)
        assert one.metrics(agent, "w") == other.metrics(agent, "w")
        assert one.metrics(agent, "w").conversations == len({p.conversation_id for p in mine})
    by_day = {(r.agent, r.date): r for r in agent_day_metrics(convs)}
    for (agent, day), row in by_day.items():
        pool = MetricPool()
        for p in shuffled:
            if (p.agent, p.date) == (agent, day):
                pool.add(p)
        assert pool.metrics(agent, day) == row


@given(st.lists(st.lists(_message, min_size=1, max_size=12), min_size=1, max_size=5))
@settings(max_examples=150, deadline=None)
def test_agent_day_rows_equal_the_turns_counted_by_hand(specs):
    # The builder keeps counters, not conversation ids or delay lists: its rows must equal
    # what the conversations' turns say when counted the long way, with sets and lists.
    convs = _conversations(specs)
    expected: dict = {}
    for c in convs:
        days = message_days(c, DayRule())
        for m in c.messages:
            if m.counts_as_agent:
                e = expected.setdefault((m.agent or UNASSIGNED, days[m.index]), _blank())
                e["messages"] += 1
                e["convs"].add(c.id)
        for position, t in enumerate(conversation_turns(c)):
            e = expected.setdefault((t.agent, t.date), _blank())
            e["convs"].add(c.id)
            e["received"].add(c.id)
            if t.replied:
                e["replied"].add(c.id)
                if t.delay_s is not None:
                    e["delays"].append(t.delay_s)
                    if position == 0:
                        e["first"].append(t.delay_s)
    rows = by_agent(agent_day_metrics(convs))
    assert set(rows) == set(expected)
    for key, e in expected.items():
        r = rows[key]
        assert r.conversations == len(e["convs"])
        assert r.messages == e["messages"]
        assert (r.buyers_received, r.buyers_replied) == (len(e["received"]), len(e["replied"]))
        assert r.avg_response_s == (fmean(e["delays"]) if e["delays"] else None)
        assert r.first_response_s == (fmean(e["first"]) if e["first"] else None)
        assert r.timed_turns == len(e["delays"]) and r.first_responses == len(e["first"])


def _blank() -> dict:
    return {"messages": 0, "convs": set(), "received": set(), "replied": set(), "delays": [], "first": []}


_ZONES = st.sampled_from(
    [
        None,
        CST,
        UTC,
        timezone(timedelta(hours=-5, minutes=-30)),
        ZoneInfo("Asia/Shanghai"),
        ZoneInfo("America/New_York"),
    ]
)


@given(
    st.lists(
        st.one_of(
            st.none(),
            st.tuples(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1)), _ZONES),
        ),
        min_size=1,
        max_size=8,
    ),
    st.sampled_from(["Asia/Shanghai", "America/New_York", "UTC"]),
)
@settings(max_examples=200, deadline=None)
def test_a_message_day_is_its_time_read_in_the_rule_zone(
    stamps: list[tuple[datetime, object] | None], zone_name: str
) -> None:
    """Whatever zone a timestamp carries (none: the rule's), its day is its instant's in the rule's zone."""
    zone = ZoneInfo(zone_name)
    times = [None if s is None else s[0].replace(tzinfo=s[1]) for s in stamps]  # type: ignore[arg-type]
    conversation = conv("d", *[(C, "b", t) for t in times])
    own = [
        None if t is None else (t if t.tzinfo is not None else t.replace(tzinfo=zone)).astimezone(zone).date()
        for t in times
    ]
    days = message_days(conversation, DayRule(timezone=zone_name))
    known = [d.isoformat() for d in own if d is not None]
    if not known:
        assert days == [UNDATED] * len(times)
        return
    for day, mine in zip(days, own, strict=True):
        if mine is not None:
            assert day == mine.isoformat()
