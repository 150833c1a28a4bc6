"""Annotated samples, their split, and what the evaluation counts as a verdict."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from qc.schema import Evidence, Finding, Role
from qc.training.evaluate import message_verdict, sample_conversation
from qc.training.samples import Sample, SampleError, is_evaluation, load_samples, split_bucket, split_samples
from qc.training.train import train

TINY = Path(__file__).parent / "data" / "attitude_tiny.jsonl"
SAMPLES = Path(__file__).resolve().parents[1] / "annotated_samples"


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --- samples and split --------------------------------------------------------------------


def test_split_bucket_is_the_documented_hash():
    for sample_id in ("h00001", "u0001", "生成-7"):
        expected = int(hashlib.sha256(sample_id.encode("utf-8")).hexdigest()[:8], 16) % 10
        assert split_bucket(sample_id) == expected


def test_generated_samples_are_never_held_out():
    held_ids = [f"x{i}" for i in range(200) if split_bucket(f"x{i}") < 3]
    assert held_ids, "some ids must fall into the held-out buckets"
    for sample_id in held_ids:
        assert is_evaluation(Sample(sample_id, "嗯", (), "ok"))
        assert not is_evaluation(Sample(sample_id, "嗯", (), "ok", generated=True))


def test_split_is_deterministic_and_disjoint():
    samples = load_samples(TINY)
    train_a, held_a = split_samples(samples)
    train_b, held_b = split_samples(list(reversed(samples)))
    assert [s.id for s in train_a] == [s.id for s in train_b]
    assert [s.id for s in held_a] == [s.id for s in held_b]
    assert not {s.id for s in train_a} & {s.id for s in held_a}
    assert len(train_a) + len(held_a) == len(samples) == 60


def test_generated_file_is_training_only(tmp_path):
    line = json.dumps({"id": "h00001", "context": [], "text": "嗯", "label": "ok"}, ensure_ascii=False)
    _write(tmp_path / "generated.jsonl", [line.replace("h00001", f"g{i}") for i in range(30)])
    samples = load_samples(tmp_path)
    assert all(s.generated for s in samples)
    assert split_samples(samples)[1] == []


@pytest.mark.parametrize(
    "line, message",
    [
        ("{not json", r"bad\.jsonl:2: not valid JSON"),
        ('{"id": "a2", "context": [], "text": "嗯", "label": "rude"}', r"bad\.jsonl:2: label 'rude'"),
        (  # a shifted field: the label holds a message, quoted masked and short
            '{"id": "a2", "context": [], "text": "嗯",'
            ' "label": "bad收件人张女士 13912345678 地址文三路90号"}',
            r"bad\.jsonl:2: label 'bad收件人\[姓名\] \[电话\]…' is not one of",
        ),
        ('{"id": "a2", "context": [], "label": "ok"}', r"bad\.jsonl:2: 'text'"),
        (
            '{"id": "a2", "context": [{"role": "boss", "text": "x"}], "text": "嗯", "label": "ok"}',
            r"bad\.jsonl:2: context\[0\]",
        ),
        (
            '{"id": "a1", "context": [], "text": "嗯", "label": "ok"}',
            r"bad\.jsonl:2: id 'a1' already used at .*:1",
        ),
        (
            '{"id": "a2", "context": [], "text": "嗯", "label": "ok", "forbidden": "嗯"}',
            r"bad\.jsonl:2: 'forbidden'",
        ),
        (
            '{"id": "a2", "context": [], "text": "\\ud800嗯", "label": "ok"}',
            r"bad\.jsonl:2: text has a lone surrogate \(not encodable text\) U\+D800 at character 1",
        ),
        (
            '{"id": "a2", "context": [{"role": "customer", "text": "在吗\\u0007"}],'
            ' "text": "嗯", "label": "ok"}',
            r"bad\.jsonl:2: context\[0\]\.text has a control character U\+0007 at character 3",
        ),
    ],
    ids=[
        "bad-json",
        "bad-label",
        "label-holding-a-message",
        "no-text",
        "bad-role",
        "duplicate-id",
        "forbidden-not-list",
        "surrogate",
        "control-character",
    ],
)
def test_bad_sample_line_names_file_and_line(tmp_path, line, message):
    good = '{"id": "a1", "context": [], "text": "嗯", "label": "ok"}'
    path = _write(tmp_path / "bad.jsonl", [good, line])
    with pytest.raises(SampleError, match=message):
        load_samples(path)


def test_training_refuses_held_out_samples():
    samples = load_samples(TINY)
    with pytest.raises(ValueError, match="evaluation-split"):
        train(samples, [], [], seed=0)


def test_verdict_takes_the_most_severe_live_finding():
    def finding(kind, review=False, implies=None):
        return Finding(
            "c", 2, kind, 1.0, Evidence("r.v1", "s", details={"implies": implies}), needs_review=review
        )

    assert message_verdict([finding("impatience"), finding("conflict")], 2) == "conflict"
    assert message_verdict([finding("impatience"), finding("conflict", review=True)], 2) == "impatience"
    assert message_verdict([finding("forbidden_phrase", implies="impatience")], 2) == "impatience"
    assert message_verdict([finding("forbidden_phrase")], 2) == "ok"
    assert message_verdict([finding("conflict")], 3) == "ok"


def test_sample_becomes_a_conversation_with_the_message_last():
    sample = Sample(
        "s1", "没有", (("customer", "有赠品吗"), ("agent", "亲在的"), ("customer", "有吗")), "impatience"
    )
    conv = sample_conversation(sample)
    assert [m.role for m in conv.messages] == [Role.CUSTOMER, Role.AGENT, Role.CUSTOMER, Role.AGENT]
    assert conv.messages[-1].text == "没有" and conv.messages[-1].counts_as_agent
