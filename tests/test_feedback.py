"""qc feedback export: verdicts become annotated samples; rejected hits become allowlist entries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from review_day import CONVERSATIONS, inspect_day, msg, phrase_ids
from typer.testing import CliRunner

from qc.cli import app
from qc.rules.forbidden_phrase import ForbiddenPhraseRule
from qc.rules.lexicon import load_lexicon, parse_lexicon
from qc.schema import Conversation, MessageFeatures
from qc.store.database import open_store
from qc.supervise.feedback import allow_phrase, allow_snippet, feedback_samples
from qc.supervise.review import decide

UNSURE = {
    "conversation_id": "cE",
    "shop": "测试店",
    "messages": [
        msg("customer", "buyer5", "14:00:00", "这个保质期多久"),
        msg("agent", "测试店:阿杰", "14:00:05", "这个我不清楚哦亲"),
    ],
}


@pytest.fixture()
def store(tmp_path):
    report = inspect_day(tmp_path, conversations=[*CONVERSATIONS, UNSURE])
    store = open_store(tmp_path / "qc.sqlite")
    yield store, phrase_ids(report), tmp_path
    store.close()


def test_decisions_become_samples_in_the_annotation_format(store):
    store, ids, _ = store
    decide(store, ids["cA"], "reject", by="qa", note="regular customer, joking")
    decide(store, ids["cB"], "confirm", by="qa")
    result = feedback_samples(store)
    by_text = {s["text"]: s for s in result.samples}
    assert set(by_text) == {"爱买不买", "没有"}  # unreviewed findings are not exported
    assert by_text["爱买不买"]["label"] == "ok"
    assert by_text["爱买不买"]["context"] == [{"role": "customer", "text": "能便宜点吗"}]
    assert by_text["爱买不买"]["note"] == "rejected by qa: regular customer, joking"
    assert by_text["没有"]["label"] == "impatience"  # the verdict the forbidden phrase implies
    assert by_text["没有"]["context"][0]["role"] == "customer"
    for s in result.samples:
        assert {"id", "context", "text", "label"} <= set(s)
        assert s["label"] in ("ok", "impatience", "conflict")
    # a bare reply cannot be fixed by an allow phrase
    assert [(a["hit"], a["phrase"]) for a in result.allow] == [("爱买不买", None)]


@pytest.mark.parametrize(
    ("text", "span", "expected"),
    [
        ("我不知道您要哪个颜色", (1, 4), "不知道您"),  # 我不知道 is itself a lexicon phrase
        ("这个我也不清楚呢，我帮您问问", (4, 7), "不清楚呢"),
        ("不知道", (0, 3), None),
        ("嗯", (0, 1), None),
        ("好的，不知道。", (3, 6), None),  # never across punctuation
        ("亲您自己看库存吧", (2, 5), "您自己看"),  # ends on words: 自己看库 was suggested (audit 152 L7)
        ("说了多少遍了", (0, 5), None),  # only the whole bare reply would do (audit 152 M8)
    ],
    ids=["grow-past-phrase", "grow-right", "bare", "bare-one-char", "clause", "words", "whole-clause"],
)
def test_allow_phrase_is_the_smallest_non_lexicon_phrase(text, span, expected):
    phrases = [p for e in load_lexicon().entries for p in e.phrases]
    assert allow_phrase(text, *span, phrases) == expected


def test_the_suggested_allow_entry_really_suppresses_the_rejected_hit(store, tmp_path):
    store, ids, _ = store
    decide(store, ids["cE"], "reject", by="qa", note="fine here")
    result = feedback_samples(store)
    (suggestion,) = [a for a in result.allow if a["finding_id"] == ids["cE"]]
    assert suggestion["phrase"] and "不清楚" in suggestion["phrase"]
    lexicon = load_lexicon()
    raw = open(lexicon.path, "rb").read() + b"\n" + allow_snippet(result.allow).encode("utf-8")
    patched = parse_lexicon(raw, "patched.toml")
    conv = Conversation.from_json(
        {
            "id": "cE",
            "messages": [
                {"index": i, "role": m["role"], "text": m["text"]} for i, m in enumerate(UNSURE["messages"])
            ],
        }
    )
    feats = [MessageFeatures() for _ in conv.messages]
    before = [f for f in ForbiddenPhraseRule(lexicon).check(conv, feats) if f.live]
    after = [f for f in ForbiddenPhraseRule(patched).check(conv, feats) if f.live]
    assert len(before) == 1 and after == []


def test_no_allow_phrase_for_a_message_the_same_export_labels_impatient(tmp_path):
    """The model's impatience on 我说了多少遍了，不包邮 confirmed and the lexicon's hit on it rejected
    (the two said one thing): the export taught the model impatience and suggested the lexicon allow
    说了多少遍了 (audit 152 M8)."""
    repeated = {
        "conversation_id": "cR",
        "shop": "测试店",
        "messages": [
            msg("customer", "buyer7", "16:00:00", "包邮吗包邮吗"),
            msg("agent", "测试店:阿杰", "16:00:05", "我说了多少遍了，不包邮"),
        ],
    }
    from review_day import add_team, write_day

    day = write_day(tmp_path / "in", [repeated])
    args = ["inspect", str(day), "--out", str(tmp_path / "out"), "--db", str(tmp_path / "qc.sqlite"), "-q"]
    assert CliRunner().invoke(app, args).exit_code == 0  # with the model, not only the lexicon
    add_team(tmp_path / "qc.sqlite")
    with open_store(tmp_path / "qc.sqlite") as store:
        found = {
            s.finding.rule.split(".")[0]: s for s in store.findings() if s.finding.conversation_id == "cR"
        }
        assert {"attitude_classifier", "forbidden_phrase"} <= set(found)
        decide(store, found["forbidden_phrase"].id, "reject", by="qa", note="the model's finding counts")
        decide(store, found["attitude_classifier"].id, "confirm", by="qa")
        result = feedback_samples(store)
    (sample,) = [s for s in result.samples if s["text"] == "我说了多少遍了，不包邮"]
    assert sample["label"] == "impatience"
    (hint,) = [a for a in result.allow if a["finding_id"] == found["forbidden_phrase"].id]
    assert hint["phrase"] is None and hint["labelled"] == "impatience"
    snippet = allow_snippet(result.allow)
    assert "[[allow]]" not in snippet and "its message is exported as impatience" in snippet


def test_a_notes_line_breaks_stay_inside_its_comment_in_the_snippet(store):
    """A note is the reviewer's free text: its later lines must not become allow entries."""
    import tomllib

    store, ids, _ = store
    note = 'fine here\n[[allow]]\nreason = "x"\nphrases = ["哦"]\r\nbell\x07 del\x7f'
    decide(store, ids["cE"], "reject", by="qa", note=note)
    decide(store, ids["cA"], "reject", by="qa", note=note)
    result = feedback_samples(store)
    snippet = allow_snippet(result.allow)
    parsed = tomllib.loads(snippet)  # valid TOML, whatever the note holds
    assert [entry["phrases"] for entry in parsed["allow"]] == [
        [a["phrase"] for a in result.allow if a["finding_id"] == ids["cE"]]
    ]
    assert snippet.count(json.dumps(note, ensure_ascii=False).replace("\x7f", "\\u007f")) == 2


def test_cli_writes_samples_and_allow_snippet(store):
    store, ids, tmp = store
    decide(store, ids["cE"], "reject", by="qa", note="fine here")
    out = tmp / "fb" / "review.jsonl"
    result = CliRunner().invoke(
        app, ["feedback", "export", "--out", str(out), "--db", str(tmp / "qc.sqlite")]
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(r["text"], r["label"]) for r in rows] == [("这个我不清楚哦亲", "ok")]
    assert "[[allow]]" in (tmp / "fb" / "review.allow.toml").read_text(encoding="utf-8")


def test_an_output_that_is_a_stream_gets_no_allowlist_file_beside_it(store):
    """--out /dev/stdout wrote its allowlist to a new file /dev/stdout.allow.toml inside /dev, and
    /dev/fd/3's failed naming a hidden part (audit 143 M5): a stream's snippet goes to stderr."""
    import os

    store, ids, tmp = store
    decide(store, ids["cE"], "reject", by="qa", note="fine here")
    target = tmp / "samples.jsonl"
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    try:
        args = ["feedback", "export", "--out", f"/dev/fd/{fd}", "--db", str(tmp / "qc.sqlite")]
        result = CliRunner().invoke(app, args)
    finally:
        os.close(fd)
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["text"] for line in target.read_text(encoding="utf-8").splitlines()] == [
        "这个我不清楚哦亲"
    ]
    assert "[[allow]]" in result.stderr and not list(tmp.glob("*.allow.toml"))
    assert not Path(f"/dev/fd/.{fd}.allow.toml").exists()


PHONE = {
    "conversation_id": "cP",
    "shop": "测试店",
    "messages": [
        msg("customer", "buyer6", "15:00:00", "我的号码对吗"),
        msg("agent", "测试店:阿杰", "15:00:05", "号码13800138000不清楚"),
    ],
}


def test_masked_export_masks_the_note_and_never_suggests_a_phrase_cut_from_personal_data(tmp_path):
    from qc.text.pii import Masker

    report = inspect_day(tmp_path, conversations=[*CONVERSATIONS, PHONE])
    with open_store(tmp_path / "qc.sqlite") as store:
        fid = phrase_ids(report)["cP"]
        decide(store, fid, "reject", by="qa", note="买家给的13800138000没问题")
        plain = feedback_samples(store)
        masked = feedback_samples(store, mask=Masker(True))
    (hint,) = [a for a in plain.allow if a["finding_id"] == fid]
    assert hint["phrase"] and hint["phrase"][0] in "0123456789"  # unmasked: cut next to the number
    (hint,) = [a for a in masked.allow if a["finding_id"] == fid]
    assert hint["phrase"] is None and hint["touches_pii"]
    assert "13800138000" not in hint["note"] and "[电话]" in hint["note"]
    (sample,) = [s for s in masked.samples if s["id"] == f"review-{fid}"]
    assert "13800138000" not in sample["note"] and "13800138000" not in sample["text"]
    snippet = allow_snippet(masked.allow)
    assert "13800138000" not in snippet and "write the allow phrase by hand" in snippet


def test_decisions_on_timing_are_no_attitude_samples(tmp_path):
    """A rejected slow reply became an `ok` sample of its words (说了多少遍了 too), and a rejected
    unanswered buyer one of the buyer's own 在吗 (audit 76 A3): a decision about timing or
    reply rate says nothing about wording."""
    from review_day import SHOP

    unanswered = {
        "conversation_id": "cU",
        "shop": SHOP,
        "messages": [msg("customer", "buyer9", "15:00:00", "在吗")],
    }
    inspect_day(tmp_path, conversations=[*CONVERSATIONS, unanswered])
    with open_store(tmp_path / "qc.sqlite") as store:
        slow = store.findings(kind="slow_response")
        missed = store.findings(kind="missed_reply")
        assert slow and missed
        decide(store, slow[0].id, "reject", by="qa", note="the PC's clock was wrong")
        decide(store, missed[0].id, "reject", by="qa", note="the buyer left at once")
        if len(slow) > 1:
            decide(store, slow[1].id, "confirm", by="qa")
        result = feedback_samples(store)
    assert result.samples == []
    assert {line.split(":")[0] for line in result.skipped} >= {slow[0].id, missed[0].id}


def test_a_message_is_labelled_as_the_worst_of_its_confirmed_findings(tmp_path):
    """我不知道，爱买不买 with FP-0007 (impatience) and FP-0014 (conflict) confirmed was exported
    impatience, whichever came first, while the store charges it -5 as conflict (audit 91 #11)."""
    said = [
        msg("customer", "b1", "10:00:00", "能便宜点吗"),
        msg("agent", "测试店:阿杰", "10:00:20", "我不知道，爱买不买"),
    ]
    report = inspect_day(
        tmp_path, conversations=[{"conversation_id": "m1", "shop": "测试店", "messages": said}]
    )
    implied = {f.evidence.details.get("implies") for f in report.findings if f.kind == "forbidden_phrase"}
    assert implied == {"impatience", "conflict"}
    with open_store(tmp_path / "qc.sqlite") as store:
        for f in sorted(report.findings, key=lambda f: f.evidence.details.get("implies") != "impatience"):
            if f.kind == "forbidden_phrase":
                decide(store, f.id, "confirm", by="qa")
        (sample,) = feedback_samples(store).samples
    assert sample["label"] == "conflict"


def test_a_rejection_is_no_ok_sample_while_another_finding_still_charges_the_message(tmp_path):
    """Rejecting one finding of 我不知道，爱买不买 exported the reply as ok while its other phrase,
    pending, still charged it (audit 119 M2): it is left out until that one is decided too."""
    said = [
        msg("customer", "b1", "10:00:00", "能便宜点吗"),
        msg("agent", "测试店:阿杰", "10:00:20", "我不知道，爱买不买"),
    ]
    report = inspect_day(
        tmp_path, conversations=[{"conversation_id": "m1", "shop": "测试店", "messages": said}]
    )
    by_implied = {
        f.evidence.details.get("implies"): f.id for f in report.findings if f.kind == "forbidden_phrase"
    }
    with open_store(tmp_path / "qc.sqlite") as store:
        decide(store, by_implied["conflict"], "reject", by="qa", note="买家先压价")
        result = feedback_samples(store)
        assert result.samples == []
        (skipped,) = result.skipped
        assert skipped.startswith(f"{by_implied['conflict']}: rejected, but its message is still charged")
        assert f"{by_implied['impatience']} (forbidden_phrase " in skipped and "pending" in skipped
        assert "我不知道" not in skipped  # no transcript in the message
        # The rejected hit still suggests its allow entry: the rejection itself stands.
        assert [a["finding_id"] for a in result.allow] == [by_implied["conflict"]]
        decide(store, by_implied["impatience"], "confirm", by="qa")
        assert [s["label"] for s in feedback_samples(store).samples] == ["impatience"]
        decide(store, by_implied["impatience"], "reject", by="qa", note="确实不知道", overturn=True)
        assert [s["label"] for s in feedback_samples(store).samples] == ["ok"]


def test_the_export_masks_by_default_and_never_writes_its_snippet_over_its_samples(store):
    """The README's command wrote buyers' numbers into annotated_samples/, and --allow-out naming
    the --out file replaced the samples with the snippet, exit 0 (audit 152 M9, M4)."""
    store, ids, tmp = store
    decide(store, ids["cE"], "reject", by="qa", note="买家留的13800138000不用管")
    out = tmp / "fb" / "review.jsonl"
    db = ["--db", str(tmp / "qc.sqlite")]
    same = CliRunner().invoke(app, ["feedback", "export", "--out", str(out), "--allow-out", str(out), *db])
    assert same.exit_code == 2 and "is the --out file" in same.output and not out.exists()
    masked = CliRunner().invoke(app, ["feedback", "export", "--out", str(out), *db])
    assert masked.exit_code == 0, masked.output
    text = out.read_text(encoding="utf-8")
    assert "13800138000" not in text and "[电话]" in text
    shown = CliRunner().invoke(app, ["feedback", "export", "--show-pii", *db])
    assert "13800138000" in shown.stdout


def test_a_finding_under_an_appeal_not_yet_ruled_waits_and_lost_decisions_are_counted(store):
    """A confirmed finding under an open appeal was exported as settled (audit 152 L6); decisions
    whose finding is gone were dropped without a word (L5)."""
    from qc.supervise.appeal import open_appeal

    store, ids, tmp = store
    decide(store, ids["cA"], "confirm", by="qa")
    decide(store, ids["cB"], "confirm", by="qa")
    before = {s["source"] for s in feedback_samples(store).samples}
    assert {f"review:{ids['cA']}", f"review:{ids['cB']}"} <= before
    appeal = open_appeal(store, ids["cA"], agent="阿杰", reason="买家先开的玩笑")
    result = feedback_samples(store)
    assert f"review:{ids['cA']}" not in {s["source"] for s in result.samples}
    assert f"review:{ids['cB']}" in {s["source"] for s in result.samples}
    assert (
        f"{ids['cA']}: confirmed, but appeal #{appeal.id} is open: exported once it is ruled"
        in result.skipped
    )
    # 小美's 没有 was mistyped in the export: the day inspected again no longer finds it
    fixed = [
        {
            **c,
            "messages": [
                {**m, "text": "亲，这款没有赠品的"} if m["text"] == "没有" else m for m in c["messages"]
            ],
        }
        for c in [*CONVERSATIONS, UNSURE]
    ]
    inspect_day(tmp, conversations=fixed)
    assert "1 decision no longer attached to a stored finding (qc review log --orphaned)" in (
        feedback_samples(store).skipped
    )


def test_two_exports_of_one_store_side_by_side_are_refused_saying_why(store, tmp_path):
    """The README kept one file a month; the second repeated the first's ids and training stopped
    on "ids must be unique" with no word of why (audit 152 M3)."""
    from qc.training.samples import SampleError, load_samples

    store, ids, _ = store
    decide(store, ids["cA"], "reject", by="qa", note="熟客开玩笑")
    lines = "".join(json.dumps(s, ensure_ascii=False) + "\n" for s in feedback_samples(store).samples)
    folder = tmp_path / "samples"
    folder.mkdir()
    (folder / "review_2026-11.jsonl").write_text(lines, encoding="utf-8")
    (folder / "review_2026-12.jsonl").write_text(lines, encoding="utf-8")
    with pytest.raises(SampleError, match="writes every decision the store holds: keep only its latest file"):
        load_samples(folder)


def test_no_allow_phrase_while_a_finding_under_appeal_still_charges_the_message(tmp_path):
    """Its confirmed impatience under an open appeal, the message's rejected phrase got an allow
    phrase, and the advice to settle it with qc review was refused (audit 155 M6)."""
    from review_day import add_team, write_day

    from qc.supervise.appeal import open_appeal

    said = {
        "conversation_id": "cW",
        "shop": "测试店",
        "messages": [
            msg("customer", "buyer7", "16:00:00", "尺码怎么选"),
            msg("agent", "测试店:阿杰", "16:00:05", "详情页都写着呢，自己看"),
        ],
    }
    day = write_day(tmp_path / "in", [said])
    args = ["inspect", str(day), "--out", str(tmp_path / "out"), "--db", str(tmp_path / "qc.sqlite"), "-q"]
    assert CliRunner().invoke(app, args).exit_code == 0
    add_team(tmp_path / "qc.sqlite")
    with open_store(tmp_path / "qc.sqlite") as store:
        found = {
            x.finding.rule.split(".")[0]: x for x in store.findings() if x.finding.conversation_id == "cW"
        }
        model, phrase = found["attitude_classifier"], found["forbidden_phrase"]
        decide(store, model.id, "confirm", by="qa")
        decide(store, phrase.id, "reject", by="qa", note="the model's finding counts")
        appeal = open_appeal(store, model.id, agent="阿杰", reason="买家没看详情页")
        result = feedback_samples(store)
    (hint,) = [a for a in result.allow if a["finding_id"] == phrase.id]
    assert hint["phrase"] is None and hint["labelled"] in ("impatience", "still charged")
    assert "[[allow]]" not in allow_snippet(result.allow)
    skipped = " ".join(result.skipped)
    assert f"appeal #{appeal.id}" in skipped and f"qc review {model.id}" not in skipped


def test_a_rejected_hit_its_context_vetoed_is_skipped_saying_so(tmp_path):
    """A suppressed hit, rejected, was skipped as "has no attitude label" (audit 159 L3)."""
    vetoed = {
        "conversation_id": "cV",
        "shop": "测试店",
        "messages": [
            msg("customer", "buyer8", "17:00:00", "这个能防水吗"),
            msg("agent", "测试店:小美", "17:00:05", "我不清楚呢，马上帮您问一下"),
        ],
    }
    report = inspect_day(tmp_path, conversations=[*CONVERSATIONS, vetoed])
    (hit,) = [f for f in report.findings if f.conversation_id == "cV" and f.kind == "forbidden_phrase"]
    assert hit.suppressed
    with open_store(tmp_path / "qc.sqlite") as store:
        decide(store, hit.id, "reject", by="qa", note="offered to ask")
        result = feedback_samples(store)
    assert (
        f"{hit.id}: forbidden_phrase rejected was suppressed by its context (cost nothing): no sample"
        in result.skipped
    )


def test_by_id_writes_label_lines_without_text_that_the_real_label_reader_takes(store):
    """The export wrote whole chat texts, masked, into annotated_samples/, where a corpus licensed
    for labels only may put nothing but labels by id (audit 164 H5)."""
    from qc.training.real import load_real_labels

    store, ids, tmp = store
    decide(store, ids["cA"], "reject", by="qa", note="he said 爱买不买 as a joke")  # a note quoting the chat
    decide(store, ids["cB"], "confirm", by="qa")
    out = tmp / "real-review" / "labels.jsonl"
    result = CliRunner().invoke(
        app, ["feedback", "export", "--by-id", "--out", str(out), "--db", str(tmp / "qc.sqlite")]
    )
    assert result.exit_code == 0, result.output
    assert "2 labels by id" in result.stderr
    written = out.read_text(encoding="utf-8")
    assert "爱买不买" not in written and "没有" not in written and "能便宜点吗" not in written
    rows = [json.loads(line) for line in written.splitlines()]
    assert all(set(r) == {"conversation_id", "index", "label", "reason", "pass"} for r in rows)
    labels = {(x.conversation_id, x.index): (x.label, x.reason) for x in load_real_labels(out.parent)}
    by_text = {s["text"]: s for s in feedback_samples(store).samples}
    found = {s.id: s.finding for s in store.findings()}
    where = {c: (found[ids[c]].conversation_id, found[ids[c]].message_index) for c in ("cA", "cB")}
    assert labels == {
        where["cA"]: (
            by_text["爱买不买"]["label"],
            f"rejected by qa (forbidden_phrase, {found[ids['cA']].entry})",
        ),
        where["cB"]: (
            by_text["没有"]["label"],
            f"confirmed by qa (forbidden_phrase, {found[ids['cB']].entry})",
        ),
    }
