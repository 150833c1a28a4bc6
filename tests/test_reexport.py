"""Lining a re-export up with the stored copy of its conversation (``qc.readers.reexport``).

A corrected re-export moves every time by one offset and may complete a line or two; a chat
that goes on with the same words later is not one (audit 115 H1).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from qc.readers.reexport import realign

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def copy(texts: list[str], gaps: list[int] | None = None, start: datetime = T0):
    at, out = start, []
    for k, text in enumerate(texts):
        at += timedelta(seconds=(gaps or [30] * len(texts))[k])
        out.append((("agent" if k % 2 else "buyer", text), at))
    return out


SAID = ["杯子保温吗", "保温的", "能便宜吗", "上面写着呢", "那算了", "好的"]


@given(st.integers(min_value=-14 * 3600, max_value=14 * 3600).filter(bool), st.integers(0, 5))
def test_a_copy_moved_by_one_offset_with_one_line_completed_is_a_re_export(seconds, edited):
    again = copy(
        [t + "，补全" if k == edited else t for k, t in enumerate(SAID)],
        start=T0 + timedelta(seconds=seconds),
    )
    found = realign(copy(SAID), again)
    assert found is not None and found.offset == timedelta(seconds=seconds)
    assert found.pairs == {k: k for k in range(len(SAID)) if k != edited}


def test_an_export_without_fractions_of_a_second_is_the_same_copy_moved_by_its_clock():
    stored = [(said, at + timedelta(milliseconds=170 * k)) for k, (said, at) in enumerate(copy(SAID))]
    again = [(said, (at + timedelta(seconds=7)).replace(microsecond=0)) for said, at in stored]
    found = realign(stored, again[:4] + [(("agent", "那算了吧"), again[4][1])] + again[5:])
    assert found is not None and timedelta(seconds=6) < found.offset <= timedelta(seconds=7)


def test_a_message_added_in_front_shifts_the_pairs():
    moved = [(said, at + timedelta(seconds=6)) for said, at in copy(SAID)]
    found = realign(copy(SAID), [(("buyer", "有人吗"), T0), *moved])
    assert found is not None and found.pairs == {k: k + 1 for k in range(len(SAID))}


def test_messages_that_kept_their_gaps_only_roughly_are_another_conversation():
    # The same words a day later at other gaps, and a question more: a chat that goes on.
    later = copy([*SAID, "还在吗"], gaps=[30, 31, 30, 33, 30, 29, 40], start=T0 + timedelta(days=1))
    assert realign(copy(SAID), later) is None


def test_one_repeated_reply_at_another_time_is_no_re_export():
    stored = copy(["在吗", "在的", "好的"])
    again = stored[:2] + [
        (("agent", "好的呢"), stored[2][1]),
        (("buyer", "好的"), stored[2][1] + timedelta(minutes=3)),
    ]
    assert realign(stored, again) is None  # its decisions must not pass to the later 好的


def test_a_greeting_and_auto_reply_repeated_the_next_day_are_not_enough():
    stored = copy(["在吗", "您好，有什么可以帮您"])
    again = copy(["在吗", "您好，有什么可以帮您", "这个有货吗"], start=T0 + timedelta(days=1))
    assert realign(stored, again) is None


def test_a_stored_part_from_another_export_stays_put_beside_the_moved_messages():
    before = copy(["在吗", "在的亲"], start=T0 - timedelta(hours=10))
    today = copy(SAID)
    again = [(said, at + timedelta(seconds=6)) for said, at in today]
    found = realign(
        before + today, before + again[:1] + [(("agent", "保温的，六小时"), again[1][1])] + again[2:]
    )
    assert found is not None and found.offset == timedelta(seconds=6)
    assert found.pairs == {0: 0, 1: 1, 2: 2, 4: 4, 5: 5, 6: 6, 7: 7}


def test_untimed_or_half_zoned_copies_align_only_when_every_message_is_the_same():
    naive = [(said, at.replace(tzinfo=None)) for said, at in copy(SAID)]
    found = realign(copy(SAID), naive)
    assert found is not None and found.offset == timedelta(0)
    assert realign(copy(SAID), naive[:3] + [(("agent", "改过"), naive[3][1])] + naive[4:]) is None
    assert realign([], naive) is None
