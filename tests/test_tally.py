"""Tallies made chunk by chunk (as --jobs workers make them) add up to one tally of the whole run."""

from __future__ import annotations

import pickle
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from qc.batch.chunks import ScoreTally, chunk_output, count_result
from qc.batch.verdict_rows import SpoolRows
from qc.rules import RuleSettings
from qc.run.inspector import ConversationResult, build_inspector
from qc.scoring.card import load_scorecard
from qc.synth.conversations import iter_conversations

CARD = load_scorecard()


def _results() -> list[ConversationResult]:
    inspector = build_inspector(RuleSettings(rules=("forbidden_phrase.v1",)))
    conversations = list(iter_conversations(date(2026, 11, 24), seed=3, n_messages=1500))
    return [ConversationResult(r.conversation, (), r.findings) for r in inspector.inspect(conversations)]


RESULTS = _results()


def _state(tally: ScoreTally) -> tuple:
    held = {k: dict(v) for k, v in tally.held_by.items() if v}
    evidence = sorted(tally.evidence, key=repr)
    return tally.metrics.rows(), sorted(tally.verdicts, key=repr), held, evidence, tally.findings


@given(st.lists(st.integers(0, len(RESULTS)), max_size=6))
@settings(max_examples=25, deadline=None)
def test_chunk_tallies_merged_in_order_equal_one_tally(cuts):
    # Any cut of the run into chunks, each tallied apart and sent through pickle (as a worker
    # sends it), must give the metrics, verdicts, held counts and lines of one pass.
    bounds = [0, *sorted(cuts), len(RESULTS)]
    whole = chunk_output(RESULTS, CARD)
    merged = ScoreTally(CARD)
    findings, summaries, verdict_rows, evidence_rows = [], [], [], []
    for a, b in zip(bounds, bounds[1:], strict=False):
        part = pickle.loads(pickle.dumps(chunk_output(RESULTS[a:b], CARD)))
        merged.merge(part.tally)
        findings.append(part.findings)
        summaries.append(part.summaries)
        verdict_rows += part.rows.verdicts
        evidence_rows += part.rows.evidence
    assert _state(merged) == _state(whole.tally)
    assert b"".join(findings) == whole.findings and b"".join(summaries) == whole.summaries
    # The verdicts and evidence refs leave the tally as spool rows: the same rows, in input order.
    assert verdict_rows == whole.rows.verdicts and evidence_rows == whole.rows.evidence
    one = ScoreTally(CARD)
    for result in RESULTS:
        count_result(one, result, CARD)
    assert whole.rows == SpoolRows.of(one.verdicts, one.evidence)
    assert not whole.tally.verdicts and not whole.tally.evidence
    # Every finding of the rules is counted, and the evidence findings (slow replies) on top.
    assert whole.tally.findings > sum(len(r.findings) for r in RESULTS) > 0
    assert whole.rows.evidence and whole.rows.verdicts
