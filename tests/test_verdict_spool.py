"""The verdict spool gives back exactly the verdicts it was given, in the scorer's order."""

from __future__ import annotations

from types import MappingProxyType

from hypothesis import given, settings
from hypothesis import strategies as st

from qc.batch.spool import VerdictSpool
from qc.scoring.card import MessageVerdict
from qc.scoring.scores import EvidenceRef

# Dates, agent nicks and conversation ids as exports write them, plus text whose UTF-8 bytes
# and code points could disagree if the order were taken from anything but the code points.
_text = st.one_of(
    st.sampled_from(["2026-11-24", "2026-11-25", "undated", "柚子优选旗舰店:木木", "店:小美", "unassigned"]),
    st.text(min_size=0, max_size=6),
)


@st.composite
def _verdicts(draw):
    out, seen = [], set()
    for _ in range(draw(st.integers(0, 40))):
        key = (draw(_text), draw(_text), draw(_text), draw(st.integers(0, 500)))
        if key in seen:
            continue  # one verdict per message, as message_verdicts makes them
        seen.add(key)
        day, agent, cid, index = key
        ids = tuple(draw(st.lists(st.text(min_size=1, max_size=16), min_size=1, max_size=3)))
        verdict = draw(st.sampled_from([None, "impatience", "conflict", "forbidden_phrase"]))
        kinds = MappingProxyType({"forbidden_phrase": ids} if draw(st.booleans()) else {})
        out.append(MessageVerdict(cid, index, agent, day, verdict, ids if verdict else (), kinds))
    return out


@given(_verdicts())
@settings(max_examples=60, deadline=None)
def test_spool_gives_back_every_verdict_sorted_as_the_scorer_sorts(verdicts):
    with VerdictSpool() as spool:
        half = len(verdicts) // 2
        spool.extend(verdicts[:half])
        spool.extend(verdicts[half:])
        expected = sorted(verdicts, key=lambda v: (v.date, v.agent, v.conversation_id, v.message_index))
        assert len(spool) == len(verdicts)
        assert list(spool) == expected
        assert list(spool) == expected  # the scorer reads it once per findings item


# Conversation ids and nicks may hold a lone surrogate (a JSON escape such as \\ud800).
_key_text = st.one_of(_text, st.sampled_from(["\ud800", "a\udfff", "会话\ud83d"]))


@st.composite
def _refs(draw):
    out = []
    for n in range(draw(st.integers(0, 40))):
        day, agent, cid = draw(_key_text), draw(_key_text), draw(_key_text)
        kind = draw(st.sampled_from(["slow_response", "missed_reply", "slow_first_response"]))
        weight = draw(st.one_of(st.integers(0, 3), st.floats(0, 900, allow_nan=False)))
        out.append(EvidenceRef(agent, day, kind, f"{n:016x}", cid, draw(st.integers(0, 500)), weight))
    return out


@given(_refs())
@settings(max_examples=60, deadline=None)
def test_spool_gives_back_every_evidence_ref_sorted_as_the_scorer_sorts(refs):
    with VerdictSpool() as spool:
        spool.extend_evidence(refs[: len(refs) // 2])
        spool.extend_evidence(refs[len(refs) // 2 :])
        got = list(spool.evidence())

    def key(r: EvidenceRef) -> tuple:
        return tuple(t.encode("utf-8", "surrogatepass") for t in (r.date, r.agent, r.conversation_id)) + (
            r.message_index,
        )

    assert sorted(got, key=key) == got  # in the scorer's order
    assert sorted(got, key=repr) == sorted(refs, key=repr)  # every ref, field for field
    # An int weight (an unanswered buyer counts 1) comes back an int, not the float SQLite could make of it.
    assert [type(r.weight) for r in sorted(got, key=repr)] == [type(r.weight) for r in sorted(refs, key=repr)]


def test_spool_deletes_its_file_when_closed(tmp_path):
    spool = VerdictSpool(tmp_path)
    spool.extend([MessageVerdict("c1", 0, "店:小美", "2026-11-24", None, (), MappingProxyType({}))])
    assert any(tmp_path.iterdir())
    spool.close()
    assert not any(tmp_path.iterdir())


_CIDS = [f"c{n}" for n in range(18)] + ["会话7", "B2", "a1", "Z", "订单-03", "c1a"]
_AGENTS = ["店:小美", "柚子优选旗舰店:木木"]
_DAYS = ["2026-11-24", "2026-11-25"]


@st.composite
def _scored_refs(draw):
    keys = draw(
        st.lists(
            st.tuples(
                st.sampled_from(_DAYS),
                st.sampled_from(_AGENTS),
                st.sampled_from(_CIDS),
                st.integers(0, 60),
                st.sampled_from(["slow_response", "missed_reply"]),
            ),
            unique=True,
            max_size=80,
        )
    )
    weight = st.one_of(st.just(1), st.floats(0.1, 900, allow_nan=False))
    return [EvidenceRef(a, d, k, f"{n:016x}", c, i, draw(weight)) for n, (d, a, c, i, k) in enumerate(keys)]


@given(_scored_refs(), st.randoms(use_true_random=False))
@settings(max_examples=60, deadline=None)
def test_scoring_the_spools_sorted_refs_by_id_gives_the_scores_of_the_refs(refs, rnd):
    """A lean run scores the spool's refs keeping only their finding ids: the same deductions and rows."""
    from qc.scoring.card import load_scorecard
    from qc.scoring.metrics import MetricPart
    from qc.scoring.periods import Windows
    from qc.scoring.scores import ScoreInputs, score_agents

    card = load_scorecard()

    def parts() -> list[MetricPart]:
        # Every agent-day slow (100 s a turn) and answering only half its buyers: both items charge
        # (24 conversations: above both items' min_sample).
        return [
            MetricPart(agent, day, "店", cid, conversations=1, buyers_received=1, buyers_replied=n % 2,
                       messages=2, buyer_messages=2, turns=1, turns_replied=1, timed_turns=1,
                       delay_us=100_000_000)
            for day in _DAYS
            for agent in _AGENTS
            for n, cid in enumerate(_CIDS)
        ]  # fmt: skip

    shuffled = list(refs)
    rnd.shuffle(shuffled)
    whole = score_agents(ScoreInputs(parts(), [], {}, shuffled), card, Windows.daily())
    with VerdictSpool() as spool:
        spool.extend_evidence(shuffled)
        lean = score_agents(
            ScoreInputs(parts(), [], {}, spool.evidence()), card, Windows.daily(), sorted_evidence=True
        )
    assert lean.deductions == whole.deductions and lean.rows == whole.rows
    assert lean.evidence == {}
    if any(r.kind == "slow_response" for r in refs):
        assert any(d.finding_ids for d in whole.deductions)  # the ids were compared, not two empty lists
