"""The finished-id set of the stream readers: exact membership, however many ids it holds."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from qc.readers import closed_ids
from qc.readers.closed_ids import ClosedIds


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=6), max_size=300), st.lists(st.text(max_size=6), max_size=50))
def test_membership_equals_a_plain_set_across_folds(ids, probes):
    added: set[str] = set()
    closed = ClosedIds()
    for i, conversation_id in enumerate(ids):
        closed.add(conversation_id)
        added.add(conversation_id)
        if i % 7 == 0:  # asked between adds, before and after folds
            assert all((p in closed) == (p in added) for p in probes[:5])
    assert all((p in closed) == (p in added) for p in [*probes, *ids])


def test_folds_keep_recent_ids_small_and_every_id_found(monkeypatch):
    monkeypatch.setattr(closed_ids, "_RECENT", 4)
    closed = ClosedIds()
    ids = [f"C{n:05d}" for n in range(1000)]
    for n, conversation_id in enumerate(ids):
        assert conversation_id not in closed
        closed.add(conversation_id)
        assert conversation_id in closed and ids[n // 2] in closed
    assert len(closed) == 1000
    assert len(closed._recent) < 1000 // 4  # the rest were folded into the sorted array
    assert list(closed._sorted) == sorted(closed._sorted)
    assert all(i in closed for i in ids)
    assert "C01000" not in closed and "" not in closed
