"""The hand-written annotated samples: valid, unique, counted as documented, enough to evaluate on."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parents[1] / "annotated_samples"
HANDWRITTEN = SAMPLES / "handwritten.jsonl"
README = SAMPLES / "README.md"

LABELS = ("ok", "impatience", "conflict")
REQUIRED = {"id", "context", "text", "label"}
OPTIONAL = {"note", "category", "forbidden", "source"}

# The exact counts documented in README.md ("Counts"): label -> (all, training, evaluation).
EXPECTED = {
    "ok": (3185, 2313, 872),
    "impatience": (1472, 1068, 404),
    "conflict": (931, 680, 251),
}
# Phrases a forbidden-word lexicon typically lists (README.md; LEXICON_PHRASES in generate.py).
LEXICON_PHRASES = (
    "不", "哦", "嗯", "恩", "不知道", "不清楚", "不懂",
    "自己选", "自己看", "投诉", "爱买不买", "没有", "不能", "不行",
)  # fmt: skip


def _held_out(sample_id: str) -> bool:
    """The documented split rule: hand-written and sha256(id)[:8] as int % 10 < 3."""
    return int(hashlib.sha256(sample_id.encode("utf-8")).hexdigest()[:8], 16) % 10 < 3


@pytest.fixture(scope="module")
def lines() -> list[str]:
    return HANDWRITTEN.read_text(encoding="utf-8").splitlines()


@pytest.fixture(scope="module")
def records(lines) -> list[dict]:
    return [json.loads(line) for line in lines]


def _split_counts(records: list[dict]) -> dict[str, tuple[int, int, int]]:
    all_, held = Counter(), Counter()
    for r in records:
        all_[r["label"]] += 1
        held[r["label"]] += _held_out(r["id"])
    return {label: (all_[label], all_[label] - held[label], held[label]) for label in LABELS}


def _no_phrase(records: list[dict], label: str) -> list[dict]:
    return [r for r in records if r["label"] == label and not any(p in r["text"] for p in LEXICON_PHRASES)]


# --- validity ------------------------------------------------------------------------


def test_every_line_is_a_valid_sample(lines):
    for number, line in enumerate(lines, start=1):
        where = f"handwritten.jsonl:{number}"
        record = json.loads(line)
        assert isinstance(record, dict), where
        assert REQUIRED <= record.keys(), f"{where}: missing {REQUIRED - record.keys()}"
        assert record.keys() <= REQUIRED | OPTIONAL, (
            f"{where}: unknown keys {record.keys() - REQUIRED - OPTIONAL}"
        )
        assert re.fullmatch(r"h\d{5}", record["id"]), where
        assert record["label"] in LABELS, where
        assert isinstance(record["text"], str) and record["text"].strip(), where
        assert isinstance(record["context"], list), where
        for turn in record["context"]:
            assert set(turn) == {"role", "text"}, where
            assert turn["role"] in ("customer", "agent"), where
            assert isinstance(turn["text"], str) and turn["text"].strip(), where


def test_forbidden_lists_name_phrases_that_occur_in_the_text(records):
    for r in records:
        assert isinstance(r["forbidden"], list), r["id"]
        for phrase in r["forbidden"]:
            assert phrase in r["text"], f"{r['id']}: {phrase!r} not in the text"


def test_the_project_loader_reads_the_file():
    from qc.training.samples import load_samples

    samples = load_samples(HANDWRITTEN)
    assert len(samples) == sum(n for n, _, _ in EXPECTED.values())
    assert not any(s.generated for s in samples)


# --- uniqueness ----------------------------------------------------------------------


def test_ids_are_unique(records):
    ids = [r["id"] for r in records]
    duplicated = [i for i, n in Counter(ids).items() if n > 1]
    assert not duplicated, duplicated[:5]


def test_every_line_is_a_distinct_situation(records):
    keys = Counter((json.dumps(r["context"], ensure_ascii=False), r["text"]) for r in records)
    assert max(keys.values()) == 1


# --- documented counts ---------------------------------------------------------------


def test_label_counts_and_split_counts_are_exactly_the_documented_ones(records):
    assert _split_counts(records) == EXPECTED


def test_readme_states_the_same_counts(records):
    documented = {
        label: tuple(int(n) for n in numbers)
        for label, *numbers in re.findall(
            r"^\| `(ok|impatience|conflict)` \| (\d+) \| (\d+) \| (\d+) \|$", README.read_text("utf-8"), re.M
        )
    }
    assert documented == _split_counts(records)
    total = len(records)
    held = sum(_held_out(r["id"]) for r in records)
    assert f"| total | {total} | {total - held} | {held} |" in README.read_text("utf-8")


def test_split_rule_is_the_one_the_classifier_uses(records):
    from qc.training.samples import split_bucket

    for r in records:
        assert (split_bucket(r["id"]) < 3) == _held_out(r["id"]), r["id"]


def test_label_mix_stays_in_its_documented_ranges(records):
    """ok is the majority (real agents ask and confirm more than they refuse) but never swamps
    the deductible labels: each has enough samples to learn and to be evaluated on."""
    share = {label: n / len(records) for label, n in Counter(r["label"] for r in records).items()}
    assert 0.45 <= share["ok"] <= 0.60
    assert 0.25 <= share["impatience"] <= 0.35
    assert 0.12 <= share["conflict"] <= 0.25


# --- what the evaluation needs -------------------------------------------------------


def test_evaluation_split_is_large_enough(records):
    held = Counter(r["label"] for r in records if _held_out(r["id"]))
    assert held["impatience"] >= 120
    assert held["conflict"] >= 80


@pytest.mark.parametrize("label", ["impatience", "conflict"])
def test_no_phrase_rows_in_readme_match_the_file(records, label):
    total = sum(r["label"] == label for r in records)
    clean = len(_no_phrase(records, label))
    assert f"| `{label}` | {total} | {clean} | {clean / total:.1%} |" in README.read_text("utf-8")


def test_a_third_of_impatience_and_conflict_has_no_lexicon_phrase(records):
    bad = [r for r in records if r["label"] != "ok"]
    clean = _no_phrase(records, "impatience") + _no_phrase(records, "conflict")
    assert len(clean) >= len(bad) / 3
    for label in ("impatience", "conflict"):
        assert len(_no_phrase(records, label)) >= sum(r["label"] == label for r in records) / 3, label


def test_hard_negatives_are_present(records):
    ok_texts = [r["text"] for r in records if r["label"] == "ok"]
    for marker in ("不好意思", "抱歉", "不会的", "的哦", "嗯嗯", "不客气", "不冲突"):
        assert sum(marker in t for t in ok_texts) >= 2, marker
    bare_acks = [r for r in records if r["label"] == "ok" and r["text"] in ("嗯", "恩", "哦")]
    assert len(bare_acks) >= 5


@pytest.mark.parametrize(
    ("buyer", "reply", "label"),
    [
        pytest.param("这个坚果是今年的新货吗", "嗯", "impatience", id="lone-en-to-a-question"),
        pytest.param("订单号 5923017748", "恩", "ok", id="lone-en-after-order-number"),
        pytest.param("今天能发货吗", "哦", "impatience", id="lone-o-to-a-question"),
        pytest.param("这个T恤是纯棉的吗", "是的", "ok", id="bare-yes-answers"),
        pytest.param("包邮吗", "不包", "impatience", id="bare-bu-bao"),
        pytest.param("我要投诉你们", "那您去投诉吧", "conflict", id="dare-to-complain"),
        # conventions settled by the label audit (README.md)
        pytest.param("你好在吗", "在", "ok", id="lone-zai-answers-zai-ma"),
        pytest.param("猫粮颗粒大吗", "不大不小", "ok", id="curt-answer-gives-the-fact"),
        pytest.param("这本书是正版吗", "正版，页面写了", "impatience", id="fact-with-reproach"),
        pytest.param("有没有发票", "有，自己申请", "impatience", id="fact-then-push-away"),
        pytest.param("我165 120斤穿M还是L", "亲~您自己判断一下呢", "impatience", id="polite-brush-off"),
        pytest.param(
            "我要退货", "好的亲，请问您是要退哪一件呢？您在店里下了两单", "ok", id="clarifying-question"
        ),
    ],
)
def test_guideline_hard_cases_and_audited_conventions_are_labelled_as_documented(
    records, buyer, reply, label
):
    found = [
        r["label"]
        for r in records
        if r["text"] == reply and r["context"] and r["context"][-1]["text"] == buyer
    ]
    assert found == [label]


def test_evaluation_split_is_hand_written_only(records):
    assert all(r["id"].startswith("h") for r in records)
    assert not any(r.get("source", "").startswith("generated") for r in records)


def test_every_id_of_the_label_audit_is_ok_in_the_file(records):
    section = README.read_text("utf-8").split("## Label audit", 1)[1].split("\n## ", 1)[0]
    audited = re.findall(r"^\| (h\d{5}) \|", section, re.M)
    assert len(audited) >= 10
    label = {r["id"]: r["label"] for r in records}
    assert {i: label[i] for i in audited} == dict.fromkeys(audited, "ok")
