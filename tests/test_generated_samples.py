"""The generated training samples: reproducible, valid, labelled by the ANNOTATION.md conventions."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parents[1] / "annotated_samples"
GENERATOR = SAMPLES / "generate.py"
GENERATED = SAMPLES / "generated.jsonl"
HANDWRITTEN = SAMPLES / "handwritten.jsonl"
DOC = SAMPLES / "README.md"  # its "Generated variations" section documents the generator
LABELS = {"ok", "impatience", "conflict"}


def _load_generator():
    spec = importlib.util.spec_from_file_location("qc_samples_generate", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


gen = _load_generator()


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def records() -> list[dict]:
    return _records(GENERATED)


def _intent(record: dict) -> str:
    """Buyer intent of a generated record, recovered from its source (generated:<topic>.<move>)."""
    family = record["source"].removeprefix("generated:").split(".")[0]
    if family == "repeat":
        return "repeat"
    return next(t.intent for t in gen.TOPICS if t.id == family)


def _move(record: dict) -> str:
    return record["source"].rsplit(".", 1)[1]


# --- reproducibility -------------------------------------------------------------


def test_script_rewrites_the_committed_file_byte_identically(tmp_path):
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    for out in (first, second):
        subprocess.run([sys.executable, str(GENERATOR), "--out", str(out)], check=True, capture_output=True)
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes() == GENERATED.read_bytes(), "generated.jsonl is stale: rerun generate.py"


def test_another_seed_gives_other_samples():
    assert gen.generate(seed=1)[:50] != gen.generate(seed=2)[:50]


# --- record validity --------------------------------------------------------------


def test_every_record_is_valid(records):
    allowed_keys = {"id", "context", "text", "label", "source", "forbidden"}
    for r in records:
        assert set(r) <= allowed_keys, r["id"]
        assert re.fullmatch(r"g\d{5}", r["id"])
        assert r["label"] in LABELS, r["id"]
        assert isinstance(r["text"], str) and r["text"].strip(), r["id"]
        assert r["source"].startswith("generated:"), r["id"]
        assert r["context"] and r["context"][-1]["role"] == "customer", r["id"]
        for message in r["context"]:
            assert set(message) == {"role", "text"}
            assert message["role"] in {"customer", "agent"}
            assert message["text"].strip()
        for phrase in r.get("forbidden", []):
            assert phrase in r["text"], (r["id"], phrase)


def test_ids_are_unique_and_sequential(records):
    ids = [r["id"] for r in records]
    assert ids == [f"g{i:05d}" for i in range(1, len(ids) + 1)]


def test_no_duplicate_context_and_text(records):
    keys = [(json.dumps(r["context"], ensure_ascii=False), r["text"]) for r in records]
    assert len(keys) == len(set(keys))


def test_label_counts_match_the_documented_table(records):
    documented = dict(re.findall(r"^\| (ok|impatience|conflict) \| (\d+) \|", DOC.read_text("utf-8"), re.M))
    counts = Counter(r["label"] for r in records)
    assert {label: int(n) for label, n in documented.items()} == dict(counts)
    assert dict(counts) == dict(gen.TARGET_COUNTS)


def test_documented_tables_match_the_file(records):
    assert gen.summarize(records) in DOC.read_text("utf-8"), "rerun generate.py --stats and update the doc"


def test_label_mix_is_roughly_55_28_17(records):
    share = {label: n / len(records) for label, n in Counter(r["label"] for r in records).items()}
    assert share["ok"] == pytest.approx(0.55, abs=0.03)
    assert share["impatience"] == pytest.approx(0.28, abs=0.03)
    assert share["conflict"] == pytest.approx(0.17, abs=0.03)


def test_a_third_of_impatience_and_conflict_has_no_lexicon_phrase(records):
    bad = [r for r in records if r["label"] != "ok"]
    clean = [r for r in bad if not any(p in r["text"] for p in gen.LEXICON_PHRASES)]
    assert len(clean) >= len(bad) / 3
    # and both labels contribute, not only one of them
    assert {r["label"] for r in clean} == {"impatience", "conflict"}


def test_hard_negatives_are_present(records):
    ok_texts = [r["text"] for r in records if r["label"] == "ok"]
    for marker in ("不好意思", "不客气", "不用谢", "不会的", "的哦", "抱歉"):
        assert sum(marker in t for t in ok_texts) >= 5, marker


def test_every_record_label_agrees_with_the_labelling_function(records):
    for r in records:
        assert gen.label_for(_intent(r), _move(r)) == r["label"], r["id"]


# --- labelling conventions (ANNOTATION.md) ---------------------------------------

CONVENTIONS = [
    # (intent, move, label, why)
    ("data", "bare_interjection", "ok", "嗯 after an order number acknowledges data"),
    ("yesno", "bare_interjection", "impatience", "嗯 after 能今天发货吗 leaves the question open"),
    ("thanks", "bare_interjection", "ok", "哦 after thanks is an acknowledgement"),
    ("statement", "bare_interjection", "ok", "嗯 after 我先看看"),
    ("fault", "bare_interjection", "impatience", "嗯 to a reported problem"),
    ("yesno", "double_interjection", "ok", "嗯嗯 as a clear yes"),
    ("fault", "double_interjection", "impatience", "哦哦 leaves a reported problem unanswered"),
    ("question", "double_interjection", "impatience", "嗯嗯 does not answer an open question"),
    ("yesno", "bare_negative", "impatience", "bare 没有 to 有赠品吗"),
    ("yesno", "soft_negative", "ok", "没有的哦 with an alternative"),
    ("yesno", "bare_affirmative", "ok", "可以 answers the question"),
    ("question", "unknown_bare", "impatience", "不知道 with no way to find out"),
    ("eta", "unknown_handover", "ok", "不清楚 but hands over to the courier"),
    ("question", "pushaway", "impatience", "上面写着呢"),
    ("greeting", "bare_zai", "ok", "在 answers 在吗"),
    ("question", "bare_zai", "impatience", "a lone 在 to a product question"),
    ("repeat", "repeat_irritation", "impatience", "说了几遍了"),
    ("threat", "calm", "ok", "calm reply to an extorting buyer"),
    ("threat", "dare_complain", "conflict", "那您去投诉吧"),
    ("angry", "anger_back", "conflict", "answering anger with anger"),
    ("haggle", "sarcasm", "conflict", "您可真会砍价"),
    ("thanks", "thanks_reply", "ok", "不客气"),
    ("fault", "apology", "ok", "apology with a fix"),
    ("fault", "blame", "conflict", "blaming the buyer"),
]


@pytest.mark.parametrize(
    "intent, move, label", [c[:3] for c in CONVENTIONS], ids=[f"{c[0]}-{c[1]}" for c in CONVENTIONS]
)
def test_labelling_convention(intent, move, label):
    assert gen.label_for(intent, move) == label


@pytest.mark.parametrize(
    "intent, move",
    [
        ("thanks", "bare_negative"),
        ("angry", "bare_affirmative"),
        ("data", "bare_zai"),
        ("nonsense", "answer"),
    ],
)
def test_uncovered_pairs_are_refused(intent, move):
    with pytest.raises(ValueError):
        gen.label_for(intent, move)


def test_bare_interjections_in_the_file_follow_the_context_rule(records):
    bare = [r for r in records if re.fullmatch(r"[嗯哦恩][。.…]?", r["text"])]
    assert len(bare) > 50
    for r in bare:
        expected = "ok" if _intent(r) in gen.ACK_INTENTS else "impatience"
        assert r["label"] == expected, r["id"]
        assert r["forbidden"] == [r["text"][0]], r["id"]


def test_bare_interjection_after_order_number_and_after_shipping_question():
    # End to end through the sample builder: the same reply, two contexts, two labels.
    topics = {t.id: t for t in gen.TOPICS}
    assert gen.label_for(topics["data_info"].intent, "bare_interjection") == "ok"
    assert "能今天发货吗" in topics["ship_today"].buyer
    assert gen.label_for(topics["ship_today"].intent, "bare_interjection") == "impatience"


def test_forbidden_lists_only_forbidden_uses(records):
    for r in records:
        move = _move(r)
        if move in {"thanks_reply", "apology", "reassure", "soft_negative", "calm", "answer"}:
            assert "forbidden" not in r, r["id"]


# --- independence from the hand-written evaluation data --------------------------


def test_shares_no_sentence_with_the_handwritten_file(records):
    if not HANDWRITTEN.exists():
        pytest.skip("handwritten.jsonl not written yet")
    hand = _records(HANDWRITTEN)

    def long_texts(rs):
        return {r["text"] for r in rs if len(r["text"]) >= 8}

    shared = sorted(long_texts(records) & long_texts(hand))
    assert not shared, f"{len(shared)} sentence(s) shared with handwritten.jsonl, first: {shared[:1]}"
    assert not {r["id"] for r in records} & {r["id"] for r in hand}
