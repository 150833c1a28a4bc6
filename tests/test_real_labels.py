"""Real agent messages labelled by id: the committed labels, and their join with the real chats.

The labels are in the repository; the chats are not (``../shared/realchats``, or
``$QC_REALCHATS``). Tests that need the chats skip with that reason where they are absent.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qc.cli import app
from qc.training.real import (
    RealChatsMissing,
    RealLabelError,
    default_realchats,
    load_real_labels,
    read_real_conversations,
    real_samples,
    real_split,
)

ROOT = Path(__file__).resolve().parents[1]
LABELS = ROOT / "annotated_samples" / "real"
README = (LABELS / "README.md").read_text(encoding="utf-8")
HAVE_CHATS = default_realchats().is_file()
needs_chats = pytest.mark.skipif(
    not HAVE_CHATS,
    reason=f"the real chats are not beside the project ({default_realchats()}); they are research corpora"
    " kept outside the repository (../shared/realchats/README.md), set QC_REALCHATS to use them",
)
runner = (
    CliRunner(mix_stderr=False) if "mix_stderr" in CliRunner.__init__.__code__.co_varnames else CliRunner()
)


@pytest.fixture(scope="module")
def labels():
    return load_real_labels(LABELS)


def test_every_line_is_a_label_by_id_with_its_passes(labels) -> None:
    assert len(labels) == 13_994
    assert len({(x.conversation_id, x.index) for x in labels}) == len(labels)
    rows = [json.loads(line) for line in (LABELS / "labels.jsonl").read_text(encoding="utf-8").splitlines()]
    assert {r["pass"] for r in rows} == {1, 2, 3}
    for r in rows:
        assert set(r) <= {
            "conversation_id",
            "index",
            "label",
            "reason",
            "pass",
            "first_label",
            "second_label",
        }
        assert r["pass"] != 2 or r["first_label"] == r["second_label"] == r["label"]
        assert r["pass"] != 3 or r["first_label"] != r["second_label"]


def test_reasons_are_short_and_in_our_own_words(labels) -> None:
    # No chat text in the repository: a reason may quote a word, never a phrase of the message.
    for x in labels:
        assert len(x.reason) <= 80, x.reason
        assert not re.search(r"[\u4e00-\u9fff]{7,}", x.reason), x.reason


def test_the_readme_states_the_agreement_and_the_split_counts(labels) -> None:
    rows = [json.loads(line) for line in (LABELS / "labels.jsonl").read_text(encoding="utf-8").splitlines()]
    pairs = [(r["first_label"], r["second_label"]) for r in rows if "second_label" in r]
    n = len(pairs)
    observed = sum(a == b for a, b in pairs) / n
    first, second = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    expected = sum(first[k] * second[k] for k in first) / n / n
    kappa = (observed - expected) / (1 - expected)
    assert f"{n:,} doubly read" in README
    assert f"Cohen's κ = {kappa:.2f}" in README
    counts = Counter((x.split, x.label) for x in labels)
    for split in ("train", "dev", "test"):
        row = f"| {split} | "
        line = next(line for line in README.splitlines() if line.startswith(row))
        numbers = [int(v.replace(",", "")) for v in re.findall(r"[\d,]+", line)]
        assert numbers[1:] == [
            counts[(split, "ok")],
            counts[(split, "impatience")],
            counts[(split, "conflict")],
        ]


def test_the_split_is_by_a_hash_of_the_conversation(labels) -> None:
    by_conversation: dict[str, set[str]] = {}
    for x in labels:
        by_conversation.setdefault(x.conversation_id, set()).add(x.split)
    assert all(len(s) == 1 for s in by_conversation.values())
    assert real_split("jddc2019-001cff140a5bfcb0aa1e991da00cc155") in ("train", "dev", "test")
    shares = Counter(real_split(c) for c in by_conversation)
    assert 0.45 < shares["train"] / len(by_conversation) < 0.55


@pytest.mark.parametrize(
    "written",
    [
        '{"conversation_id": "c1", "messages": [{"role": "user", "text": "在吗"}]}\n{"conversation_id": "c',
        "# Real chats\nThis folder holds the corpora.\n",
        '{"conversation_id": "c1", "messages": [{"role": "user", "text": "在吗"}]}\n{"id": "c2"}\n',
        b'{"conversation_id": "c1", "messages": [{"role": "user", "text": "\xc4\xe3"}]}\n',
    ],
    ids=["truncated", "a-readme", "other-keys", "not-utf8"],
)
def test_a_real_chats_file_that_is_not_one_is_named_with_its_line(tmp_path, written) -> None:
    """A truncated copy or another file given as --realchats was an internal error, exit 70
    (audit 84 M5)."""
    chats = tmp_path / "real_conversations.jsonl"
    if isinstance(written, bytes):
        chats.write_bytes(written)
    else:
        chats.write_text(written, encoding="utf-8")
    args = ["evaluate", "--data", str(LABELS), "--split", "test", "--realchats", str(chats)]
    res = runner.invoke(app, args)
    assert res.exit_code == 2, res.stderr
    assert f"{chats}:" in res.stderr and "not a line of the real chats" in res.stderr
    assert "internal error" not in res.stderr and "在吗" not in res.stderr


def test_a_real_chats_file_saved_with_a_byte_order_mark_reads(tmp_path) -> None:
    """Every other reader skips a BOM; this one refused the first line as not JSON (audit 87 L6)."""
    chats = tmp_path / "real_conversations.jsonl"
    line = '{"conversation_id": "c1", "messages": [{"role": "customer", "text": "在吗"}]}\n'
    chats.write_bytes(b"\xef\xbb\xbf" + line.encode("utf-8"))
    (conv,) = list(read_real_conversations(chats))
    assert conv.id == "c1" and [m.text for m in conv.messages] == ["在吗"]


def test_missing_chats_name_the_file_and_where_the_corpora_come_from(tmp_path) -> None:
    with pytest.raises(RealChatsMissing, match="no such file.*research corpora.*QC_REALCHATS"):
        list(read_real_conversations(tmp_path / "real_conversations.jsonl"))
    res = runner.invoke(
        app,
        ["evaluate", "--data", str(LABELS), "--split", "test", "--realchats", str(tmp_path / "nope.jsonl")],
    )
    assert res.exit_code == 2
    assert "no such file" in res.stderr and "QC_REALCHATS" in res.stderr
    res = runner.invoke(app, ["evaluate", "--data", str(LABELS), "--split", "eval"])
    assert res.exit_code == 2 and "train, dev, test" in res.stderr
    # qc train also says how to train without them; nothing is written.
    out = tmp_path / "model"
    res = runner.invoke(app, ["train", "--out", str(out), "--realchats", str(tmp_path / "nope.jsonl")])
    assert res.exit_code == 2
    assert "research corpora" in res.stderr and res.stderr.rstrip().endswith(
        "or train on the written samples alone with --no-real"
    )
    assert not out.exists()


@needs_chats
def test_every_label_points_at_a_judged_reply(labels) -> None:
    samples = real_samples(labels, read_real_conversations())
    assert len(samples) == len(labels)
    by_split = Counter(s.source for s in samples)
    assert by_split == Counter(f"real:{x.split}" for x in labels)


@needs_chats
def test_evaluate_on_the_real_test_split_prints_what_charging_costs() -> None:
    res = runner.invoke(app, ["evaluate", "--data", str(LABELS), "--split", "test", "--json"])
    assert res.exit_code == 0, res.stderr
    report = json.loads(res.stdout)
    charging = report["charging"]
    assert charging["n"] == 4410 and charging["non_ok"] == 9
    assert {"ok_charged_share", "charged_precision", "impatience_recall", "held_share"} <= set(charging)
    assert sum(row["n"] for row in report["calibration"]) == 4410


def _own_corpus(tmp_path: Path, labels: list[dict]) -> tuple[Path, Path]:
    """A two-message chat of our own wording in a corpus folder, and a labels folder."""
    chats = tmp_path / "realchats"
    chats.mkdir()
    chat = {
        "conversation_id": "own-1",
        "source": "own",
        "messages": [{"role": "customer", "text": "能今天发货吗"}, {"role": "agent", "text": "可以的亲"}],
    }
    (chats / "real_conversations.jsonl").write_text(
        json.dumps(chat, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    folder = tmp_path / "labels"
    folder.mkdir()
    (folder / "labels.jsonl").write_text(
        "".join(
            json.dumps({"conversation_id": "own-1", "reason": "r", "pass": 1, **x}) + "\n" for x in labels
        ),
        encoding="utf-8",
    )
    return chats, folder


def test_the_corpus_folder_works_and_label_errors_name_the_file_and_line(tmp_path) -> None:
    """The help gave a folder as --realchats' default, and a folder was "no such file"; a label
    on no judged message printed a Python tuple naming no file (audit 70)."""
    chats, folder = _own_corpus(tmp_path, [{"index": 1, "label": "ok"}, {"index": 0, "label": "ok"}])
    # the first label's message is the agent's reply; the second's is the buyer's
    with pytest.raises(RealLabelError, match=r"labels\.jsonl:2: real label own-1#0"):
        real_samples(load_real_labels(folder), read_real_conversations(chats), ("train", "dev", "test"))
    split = real_split("own-1")
    res = runner.invoke(app, ["evaluate", "--data", str(folder), "--split", split, "--realchats", str(chats)])
    assert (
        res.exit_code == 2
        and f"{folder / 'labels.jsonl'}:2: real label own-1#0 points at no judged" in res.stderr
    )
    assert "('" not in res.stderr
    for bad in ('"1"', "true"):
        (folder / "labels.jsonl").write_text(
            f'{{"conversation_id": "own-1", "index": {bad}, "label": "ok", "reason": "r", "pass": 1}}\n',
            encoding="utf-8",
        )
        with pytest.raises(
            RealLabelError, match=r"labels\.jsonl:1: not a label line .*index must be a whole number"
        ):
            load_real_labels(folder)


def _label(index: int, label: str, reason: str = "r") -> str:
    row = {"conversation_id": "own-1", "index": index, "label": label, "reason": reason, "pass": 1}
    return json.dumps(row, ensure_ascii=False) + "\n"


def test_a_labels_file_from_a_spreadsheet_reads_and_its_faults_are_named_masked(tmp_path) -> None:
    """A GBK labels file was an internal error, a BOM a Python message; a second label of one
    message silently won; a bad value was quoted whole, phone number and all (audit 152)."""
    folder = tmp_path / "real"
    folder.mkdir()
    path = folder / "labels.jsonl"
    path.write_bytes((_label(1, "ok", "礼貌地答了") + _label(3, "impatience", "没回答问题")).encode("gbk"))
    assert [(x.index, x.label, x.reason) for x in load_real_labels(folder)] == [
        (1, "ok", "礼貌地答了"),
        (3, "impatience", "没回答问题"),
    ]
    path.write_bytes(b"\xef\xbb\xbf" + _label(1, "ok").encode())
    assert [x.index for x in load_real_labels(folder)] == [1]
    path.write_bytes(bytes(range(256)) * 3)
    with pytest.raises(RealLabelError, match=r"labels\.jsonl: looks like a binary file"):
        load_real_labels(folder)
    path.write_text(_label(1, "ok") + _label(3, "ok") + _label(1, "impatience"), encoding="utf-8")
    with pytest.raises(
        RealLabelError, match=r"labels\.jsonl:3: message own-1#1 is already labelled at line 1"
    ):
        load_real_labels(folder)
    phone = "13912345678"
    path.write_text(_label(1, f"买家电话{phone}"), encoding="utf-8")
    with pytest.raises(RealLabelError, match=r"labels\.jsonl:1: label .* is not one of") as bad:
        load_real_labels(folder)
    assert phone not in str(bad.value)
    path.write_text(_label(1, "ok").replace('"index": 1', f'"index": "{phone}"'), encoding="utf-8")
    with pytest.raises(RealLabelError, match=r"index must be a whole number") as bad:
        load_real_labels(folder)
    assert phone not in str(bad.value)
    path.write_text("[1, 2]\n", encoding="utf-8")
    with pytest.raises(RealLabelError, match=r"labels\.jsonl:1: not a label line .*one JSON object with"):
        load_real_labels(folder)
    res = runner.invoke(app, ["evaluate", "--data", str(folder), "--realchats", str(tmp_path / "none.jsonl")])
    assert res.exit_code == 2 and "Traceback" not in res.stderr


@needs_chats
@pytest.mark.slow
def test_every_real_message_reads_back_exactly_in_every_format(capsys):
    """bench/realchats_readers.py: the real chats written as text exports, CSV and JSON Lines come
    back message for message (7 real messages were lost in a block export, audit 103 F1)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "realchats_readers", ROOT / "bench" / "realchats_readers.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main([str(default_realchats()), "--show", "5"]) == 0  # no message differs
    total = sum(len(c["messages"]) for c in module._conversations(default_realchats()))
    rows = [line.split(" | ") for line in capsys.readouterr().out.splitlines() if line.startswith("| ")][1:]
    assert [r[0] for r in rows] == ["| block", "| inline", "| csv", "| jsonl"]
    assert all(r[2] == f"{total:,}" and r[3] == "0" and r[6] == "0" for r in rows)  # all read, no reject
