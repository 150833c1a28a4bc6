"""The attitude rule's fixed-size caches (qc.attitude.slot_cache): right rows, bounded memory."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qc.attitude.slot_cache import Interner, SlotCache, SlotRows, slot_count


class Key:
    """A key whose hash the test chooses, so two keys can be made to share a slot."""

    def __init__(self, name: str, h: int) -> None:
        self.name, self.h = name, h

    def __hash__(self) -> int:
        return self.h

    def __repr__(self) -> str:
        return f"Key({self.name!r}, {self.h})"


def _row(key: object) -> list[float]:
    text = key.name if isinstance(key, Key) else str(key)
    return [float(len(text)), float(sum(map(ord, text))), -1.0]


class Recording:
    """A compute function that records what it was asked."""

    def __init__(self) -> None:
        self.asked: list[list[object]] = []

    def __call__(self, keys: list[object]) -> np.ndarray:
        self.asked.append(list(keys))
        return np.array([_row(k) for k in keys], dtype=np.float64).reshape(len(keys), 3)


@pytest.mark.parametrize(("size", "slots"), [(1, 2), (2, 4), (3, 8), (4_096, 8_192), (40_000, 131_072)])
def test_slot_count_is_a_power_of_two_at_least_twice_the_size(size: int, slots: int) -> None:
    assert slot_count(size) == slots


def test_a_cache_of_no_entries_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one entry"):
        slot_count(0)


def test_rows_are_computed_once_per_missing_key_in_first_seen_order() -> None:
    compute = Recording()
    rows = SlotRows(compute, width=3, size=8)
    qin, hao, deng = Key("亲", 1), Key("好的", 2), Key("稍等", 3)
    first = [qin, hao, qin, deng]
    assert rows.get_many(first).tolist() == [_row(k) for k in first]
    assert compute.asked == [[qin, hao, deng]]
    again = [deng, hao, qin]
    assert rows.get_many(again).tolist() == [_row(k) for k in again]
    assert len(compute.asked) == 1  # all three were kept
    assert len(rows) == 3


def test_the_empty_text_is_not_taken_for_an_empty_slot() -> None:
    # "" hashes to 0, as would a naive "empty" marker; a fresh table must compute its row.
    assert hash("") == 0
    compute = Recording()
    rows = SlotRows(compute, width=3, size=4)
    assert rows.get_many([""]).tolist() == [_row("")]
    assert compute.asked == [[""]]
    cache: SlotCache[int] = SlotCache(4)
    assert cache.get("") is None
    assert cache.put("", 7) == 7 and cache.get("") == 7


def test_two_new_keys_sharing_a_slot_in_one_batch_leave_the_slot_consistent() -> None:
    compute = Recording()
    rows = SlotRows(compute, width=3, size=2)  # 4 slots: hashes 1 and 5 share slot 1
    a, b = Key("甲", 1), Key("乙乙", 5)
    assert rows.get_many([a, b, a]).tolist() == [_row(a), _row(b), _row(a)]
    assert compute.asked == [[a, b]]
    # The slot went to the last claimant; the other is recomputed, never given its neighbour's row.
    assert rows.get_many([b]).tolist() == [_row(b)]
    assert rows.get_many([a]).tolist() == [_row(a)]
    assert compute.asked[1:] == [[a]]
    assert len(rows) == 1


# Keys are told apart by hash alone, so here a hash always names the same key.
keys = st.integers(0, 40).map(lambda h: Key("亲好的稍等在的嗯"[: h % 8] + str(h), h))


@given(st.lists(st.lists(keys, max_size=12), max_size=8), st.integers(1, 6))
@settings(max_examples=200, deadline=None)
def test_every_row_is_its_own_keys_row_through_any_evictions(batches, size) -> None:
    compute = Recording()
    rows = SlotRows(compute, width=3, size=size)
    for batch in batches:
        before = len(compute.asked)
        got = rows.get_many(batch)
        assert got.shape == (len(batch), 3)
        assert got.tolist() == [_row(k) for k in batch]
        if len(compute.asked) > before:
            asked = [k.h for k in compute.asked[-1]]
            assert len(asked) == len(set(asked))  # each missing key once
            assert asked == [h for h in dict.fromkeys(k.h for k in batch) if h in set(asked)]
        assert len(rows) <= rows.slots == slot_count(size)


def test_a_slot_cache_keeps_the_last_value_put_in_a_slot() -> None:
    cache: SlotCache[str] = SlotCache(2)  # 4 slots
    a, b, c = Key("a", 2), Key("b", 6), Key("c", 3)
    assert cache.get(a) is None
    cache.put(a, "A")
    cache.put(c, "C")
    assert (cache.get(a), cache.get(c)) == ("A", "C")
    cache.put(b, "B")  # takes a's slot
    assert (cache.get(a), cache.get(b), cache.get(c)) == (None, "B", "C")
    assert len(cache) == 2


def test_a_full_cache_keeps_no_key_alive() -> None:
    # What the caches are for: a day's distinct turns do not stay in memory as they pass.
    class Turn(Key):
        pass

    cache: SlotCache[int] = SlotCache(16)
    rows = SlotRows(lambda keys: np.array([_row(k) for k in keys]), width=3, size=16)
    turn = Turn("亲，在的", 12345)
    alive = weakref.ref(turn)
    cache.put(turn, 1)
    rows.get_many([turn])
    del turn
    gc.collect()
    assert alive() is None
    assert cache.get(Key("亲，在的", 12345)) == 1  # still found by its hash


def test_the_interner_keeps_one_instance_of_each_distinct_value() -> None:
    share = Interner(3)
    first = share(frozenset({"reply.stall", "buyer.question"}))
    again = share(frozenset(["buyer.question", "reply.stall"]))
    assert again is first
    assert share(("none",)) == ("none",) and len(share) == 2


def test_the_interner_starts_again_at_its_bound_and_shared_values_stay_valid() -> None:
    share = Interner(2)
    a, b = share(frozenset({"a"})), share(frozenset({"b"}))
    c = share(frozenset({"c"}))  # the map was full: it starts again with this one
    assert len(share) == 1 and c == frozenset({"c"})
    assert share(frozenset({"a"})) == a and share(frozenset({"a"})) is not a
    assert b == frozenset({"b"})


def test_cue_scans_of_different_texts_share_one_set() -> None:
    # A scan of a new text made a new set equal to earlier ones; the caches kept each copy.
    from qc.attitude.cues import load_cues

    cues = load_cues()
    one, two = cues.scan("reply", "亲，稍等一下哦"), cues.scan("reply", "稍等一下哦亲，马上查")
    assert one and one == two
    assert one is two
