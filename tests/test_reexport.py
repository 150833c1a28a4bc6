"""Lining a re-export up with the stored copy of its conversation (``qc.readers.reexport``).

A corrected re-export moves every time by one offset and may complete a line or two; a chat
that goes on with the same words later is not one (audits 115 H1, 122 H1, H3).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from qc.readers.reexport import realign

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
SENDERS = {"b": "tb_a", "a": "店:小王", "r": "店:小王", "s": None}


def copy(texts: list[str], gaps: list[int] | None = None, start: datetime = T0, roles: str | None = None):
    """Messages as realign takes them; roles: b buyer, a agent, s platform notice, r auto-reply."""
    at, out = start, []
    for k, text in enumerate(texts):
        at += timedelta(seconds=(gaps or [30] * len(texts))[k])
        role = (roles or "ba" * len(texts))[k]
        out.append(((role.replace("r", "a"), SENDERS[role], text), at, role in "ba"))
    return out


def moved(messages, seconds: float):
    return [(said, at + timedelta(seconds=seconds), typed) for said, at, typed in messages]


def edited(messages, k: int, text: str):
    (role, sender, _), at, typed = messages[k]
    return [*messages[:k], ((role, sender, text), at, typed), *messages[k + 1 :]]


SAID = ["杯子保温吗", "保温的", "能便宜吗", "上面写着呢", "那算了", "好的"]


@given(st.integers(min_value=-14 * 3600, max_value=14 * 3600).filter(bool), st.integers(0, 5))
def test_a_copy_moved_by_one_offset_with_one_line_completed_is_a_re_export(seconds, k):
    again = edited(moved(copy(SAID), seconds), k, SAID[k] + "，补全")
    found = realign(copy(SAID), again)
    assert found is not None and found.offset == timedelta(seconds=seconds)
    assert found.pairs == {i: i for i in range(len(SAID)) if i != k}


def test_an_export_without_fractions_of_a_second_is_the_same_copy_moved_by_its_clock():
    stored = [(said, at + timedelta(milliseconds=170 * k), t) for k, (said, at, t) in enumerate(copy(SAID))]
    again = [(said, (at + timedelta(seconds=7)).replace(microsecond=0), t) for said, at, t in stored]
    found = realign(stored, edited(again, 4, "那算了吧"))
    assert found is not None and timedelta(seconds=6) < found.offset <= timedelta(seconds=7)


def test_a_message_added_in_front_shifts_the_pairs():
    found = realign(copy(SAID), [(("b", "tb_a", "有人吗"), T0, True), *moved(copy(SAID), 6)])
    assert found is not None and found.pairs == {k: k + 1 for k in range(len(SAID))}


def test_the_offset_comes_first_so_a_reply_sent_twice_pairs_with_its_own_send():
    """哦 sent twice and the exchange between the two sends changed in the re-export: aligned by
    text alone, the first 哦 paired with the second, the offsets disagreed and the two copies were
    joined, every message twice (audit 122 H3). The first 哦 is held by its neighbours (在吗 and
    the edited question beside both copies), so its decisions follow it."""
    texts = ["在吗", "哦", "这个能退吗", "哦", "你们怎么这样", "按规定来", "那我投诉", "您请便"]
    stored = copy(texts)
    again = edited(edited(moved(stored, 3600), 2, "这个能退吗？"), 3, "哦。")
    found = realign(stored, again)
    assert found is not None and found.offset == timedelta(hours=1)
    assert found.pairs == {0: 0, 1: 1, 4: 4, 5: 5, 6: 6, 7: 7}  # 哦 with its own send
    assert found.sure[1] == 1 and found.sure[0] == 0


def test_a_re_export_that_drops_stored_messages_is_no_re_export():
    """Messages of the stored copy missing from the new one, within its span and with no edited
    copy at their time: a chat that went on, whose first part would be deleted (audits 122 H1, 125
    H2), unless lines of the new file were damaged (the caller keeps those messages)."""
    texts = ["在吗", "哦", "这个能退吗", "哦", "你们怎么这样", "按规定来", "那我投诉", "您请便"]
    stored = copy(texts)
    again = [m for k, m in enumerate(moved(stored, 3600)) if k != 2]
    assert realign(stored, again) is None
    found = realign(stored, again, damaged=True)
    assert found is not None and found.pairs == {0: 0, 1: 1, 3: 2, 4: 3, 5: 4, 6: 5, 7: 6}


def test_messages_that_kept_their_gaps_only_roughly_are_another_conversation():
    # The same words a day later at other gaps, and a question more: a chat that goes on.
    later = copy([*SAID, "还在吗"], gaps=[30, 31, 30, 33, 30, 29, 40], start=T0 + timedelta(days=1))
    assert realign(copy(SAID), later) is None


def test_a_buyer_back_after_midnight_through_the_same_page_is_no_re_export():
    """The platform's notice, 在吗 and the auto-reply open both parts one second apart: the second
    part was taken for a re-export of the first, and most of the first was deleted (audit 122 H1)."""
    opening = ["买家从商品详情页发起咨询：保温杯", "在吗", "您好，欢迎光临"]
    first = copy(
        [*opening, "亲在的", "这个有现货吗", "哦", "能便宜点吗", "爱买不买"],
        [0, 1, 1, 30, 30, 30, 30, 30],
        roles="sbrababa",
    )
    second = copy(
        [*opening, "我又来了", "刚才那个", "还有吗"],
        [0, 1, 1, 30, 30, 30],
        start=T0 + timedelta(minutes=40),
        roles="sbrbba",
    )
    assert realign(first, second) is None


def test_one_repeated_reply_at_another_time_is_no_re_export():
    stored = copy(["在吗", "在的", "好的"])
    again = stored[:2] + [
        (("b", "tb_a", "好的呢"), stored[2][1], True),
        (("b", "tb_a", "好的"), stored[2][1] + timedelta(minutes=3), True),
    ]
    assert realign(stored, again) is None  # its decisions must not pass to the later 好的


def test_a_greeting_and_auto_reply_repeated_the_next_day_are_not_enough():
    stored = copy(["在吗", "您好，有什么可以帮您"], roles="br")
    again = copy(["在吗", "您好，有什么可以帮您", "这个有货吗"], start=T0 + timedelta(days=1), roles="brb")
    assert realign(stored, again) is None


def test_a_stored_part_from_another_export_stays_put_beside_the_moved_messages():
    before = copy(["在吗", "在的亲"], start=T0 - timedelta(hours=10))
    again = edited(moved(copy(SAID), 6), 1, "保温的，六小时")
    found = realign(before + copy(SAID), again)
    assert found is not None and found.offset == timedelta(seconds=6)
    assert found.pairs == {2: 0, 4: 2, 5: 3, 6: 4, 7: 5}


def test_untimed_or_half_zoned_copies_align_only_when_every_message_is_the_same():
    naive = [(said, at.replace(tzinfo=None), t) for said, at, t in copy(SAID)]
    found = realign(copy(SAID), naive)
    assert found is not None and found.offset == timedelta(0)
    assert realign(copy(SAID), edited(naive, 3, "改过")) is None
    assert realign([], naive) is None


def test_a_short_chat_re_exported_whole_bar_one_edit_is_a_re_export():
    """Notice, 在吗, auto-reply, 爱买不买, 什么态度 with the clock fixed and the last line completed: two
    typed messages moved, fewer than three, and the chat was stored twice, −10 for −5 (audit 123
    H5). A buyer back later whose only typed message is 在吗 again is no re-export."""
    stored = copy(
        ["买家从商品页发起咨询", "在吗", "您好，欢迎光临", "爱买不买", "什么态度"],
        [0, 1, 1, 20, 30],
        roles="sbrab",
    )
    found = realign(stored, edited(moved(stored, 3600), 4, "什么态度啊你们"))
    assert found is not None and found.pairs == {0: 0, 1: 1, 2: 2, 3: 3}
    first = stored[:3]
    again = [*moved(first, 2400), (("b", "tb_a", "有货吗"), first[-1][1] + timedelta(seconds=2430), True)]
    assert realign(first, again) is None


def test_a_re_export_that_brings_back_lines_a_damaged_read_lost_is_a_re_export():
    """Six of ten messages stored (four lines were damaged), then the whole file read in the right
    zone: four new messages of ten were more than one in three, and the chat was doubled (audit 123
    H6). Every stored message is re-read, so the new ones are lines that came back."""
    texts = ["在吗", "在的", "有货吗", "有的", "几号发", "明天", "能便宜吗", "爱买不买", "什么态度", "抱歉"]
    whole = copy(texts)
    stored = [m for k, m in enumerate(whole) if k not in (2, 4, 6, 9)]
    found = realign(stored, moved(whole, -3600))
    assert found is not None and found.offset == timedelta(hours=-1)
    assert found.pairs == {0: 0, 1: 1, 2: 3, 3: 5, 4: 7, 5: 8}


def test_a_reply_sent_again_as_far_apart_as_the_clock_fix_keeps_its_own_pairing():
    """好的 sent three times a minute apart and a re-export moved by that minute with the second 好的
    edited: the first new 好的 sat at the second stored one's time, was paired with it as a
    message that did not move, and its rejection passed to the first (audit 123 H7)."""
    texts = ["能便宜吗", "好的", "包邮吗", "好的", "送赠品吗", "好的"]
    stored = copy(texts, [0, 50, 10, 50, 10, 50])
    again = edited(edited(moved(stored, 60), 0, "能便宜吗？"), 3, "好的哦")
    found = realign(stored, again)
    assert found is not None and found.pairs == {1: 1, 2: 2, 4: 4, 5: 5}  # each 好的 with its own send


def _repeats(seconds: int, changed: set[int], dropped: int | None):
    """A chat of 好的 sent again and again, and its re-export moved, ``changed`` lines edited, one dropped.

    Returns the stored copy, the re-export and each re-exported message's place in the stored copy.
    """
    texts = ["在吗", "好的", "能便宜吗", "好的", "包邮吗", "好的", "行吧"]
    stored = copy(texts, [0, 50, 10, 50, 10, 50, 10])
    again = moved(stored, seconds)
    for k in changed:
        again = edited(again, k, texts[k] + "！")
    origin = [k for k in range(len(texts)) if k != dropped]
    return stored, [m for k, m in enumerate(again) if k != dropped], origin


@given(
    st.sampled_from([30, 50, 60, 100, 3600, -60, -3600]),
    st.sets(st.integers(0, 6), max_size=2),
    st.one_of(st.none(), st.integers(0, 6)),
)
def test_an_accepted_alignment_pairs_each_message_with_itself_only(seconds, changed, dropped):
    """Replies sent again and again (好的 a minute apart), any clock fix, two lines edited and one
    dropped: whatever realign accepts pairs a stored message only with its own re-read copy, never
    with another send of the same words (audit 123 H7)."""
    stored, again, origin = _repeats(seconds, changed, dropped)
    found = realign(stored, again)
    assert found is None or all(origin[j] == i for i, j in found.pairs.items())


def test_a_buyer_back_whose_opening_and_quick_reply_repeat_is_no_re_export():
    """Notice, 在吗, auto-reply and the agent's quick 亲在的 five seconds later open both nights; the
    first night also had 爱买不买. Two typed messages moved by one offset took the second night for a
    re-export, and the first, with its −5, was deleted (audit 125 H2)."""
    opening = ["买家从商品详情页发起咨询：保温杯", "在吗", "您好，欢迎光临", "亲在的"]
    first = copy([*opening, "爱买不买"], [0, 1, 1, 5, 20], roles="sbraa")
    second = copy([*opening, "这个有货吗"], [0, 1, 1, 5, 20], start=T0 + timedelta(minutes=22), roles="sbrab")
    assert realign(first, second) is None
    # with nothing of the first night's own left out, and a question after it: still none
    assert realign(first[:4], second) is None


@given(
    st.sampled_from([30, 50, 60, 100, 3600, -60, -3600]),
    st.sets(st.integers(0, 6), max_size=2),
    st.one_of(st.none(), st.integers(0, 6)),
    st.integers(0, 2),
)
def test_a_decision_follows_only_a_message_its_own_copy(seconds, changed, dropped, more):
    """The pairs a decision follows (``sure``) never join a stored message to another send of the
    same words, with the chat going on after the re-export as well (audit 125 H4)."""
    stored, again, origin = _repeats(seconds, changed, dropped)
    for n in range(more):  # the chat goes on: 那快点 / 好的 a clock fix apart
        again.append(
            (
                ("ba"[n % 2], SENDERS["ba"[n % 2]], ["那快点", "好的"][n % 2]),
                again[-1][1] + timedelta(seconds=abs(seconds)),
                True,
            )
        )
    found = realign(stored, again, damaged=dropped is not None)
    assert found is None or all(j < len(origin) and origin[j] == i for i, j in found.sure.items())


def test_a_buyers_shorter_second_visit_is_no_re_export_of_the_first():
    """The second visit re-read only the first visit's opening (notice, 在吗, auto-reply, 亲在的):
    two typed messages moved by one offset took it for a re-export, and the opening left the first
    day with its decisions (audit 126 H3). Stored messages it does not re-read need three."""
    opening = ["买家从商品详情页发起咨询：保温杯", "在吗", "您好，欢迎光临", "亲在的"]
    first = copy(
        [*opening, "这个有货吗", "有的", "能便宜吗", "爱买不买"],
        [0, 1, 1, 5, 20, 20, 20, 20],
        roles="sbrababa",
    )
    second = copy(opening, [0, 1, 1, 5], start=T0 + timedelta(minutes=30), roles="sbra")
    assert realign(first, second) is None


def test_a_short_chats_re_export_whose_last_line_was_damaged_is_one():
    """Notice, 在吗, auto-reply, 亲在的, 多少钱 read again in the right zone with its last line cut (a
    reject): the one stored message it did not re-read took it for a continuation, and the chat
    was stored twice (audit 127 H2). Without a damaged line it is none (audit 126 H3)."""
    stored = copy(
        ["买家从商品详情页发起咨询", "在吗", "您好，欢迎光临", "亲在的", "多少钱"],
        [0, 1, 1, 87, 10],
        roles="sbrab",
    )
    again = moved(stored, -3600)[:4]
    assert realign(stored, again) is None
    found = realign(stored, again, damaged=True)
    assert found is not None and found.pairs == {0: 0, 1: 1, 2: 2, 3: 3}
