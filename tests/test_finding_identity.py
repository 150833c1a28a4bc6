"""A finding's id is what it is about; reviews and appeals follow it across model and lexicon versions.

A decision whose finding a re-inspection no longer finds is kept and reported as orphaned
(run.json of the re-inspection, ``qc review log``, ``qc export``), never dropped or charged
again; an appeal step on it is refused with nothing written.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from cards import charging_card
from test_store import chat, run_kwargs, target  # noqa: F401 - the sqlite / postgresql fixture

from qc.schema import Evidence, Finding, finding_id
from qc.store.database import open_store
from qc.supervise.appeal import answer_appeal, open_appeal, rule_appeal
from qc.supervise.errors import ReviewError
from qc.supervise.people import add_person
from qc.supervise.review import decide, orphaned_decisions, rejected_ids


def model_finding(cid: str, index: int, version: str, kind: str = "impatience") -> Finding:
    evidence = Evidence("attitude_classifier.v1", kind, pattern=None, version=version)
    return Finding(cid, index, kind, 0.9, evidence, agent="店:小美")


def phrase_finding(cid: str, index: int, lexicon: str, start: int = 0, end: int = 1) -> Finding:
    evidence = Evidence("forbidden_phrase.v1", "禁用语", pattern="FP-0002", version=lexicon)
    return Finding(cid, index, "forbidden_phrase", 1.0, evidence, agent="店:小美", start=start, end=end)


def test_the_id_is_the_sha1_of_its_parts_joined_as_saved_stores_expect():
    """The recipe every saved id was made with: ``str`` of each part, joined by U+001F, SHA-1, 16 hex digits.

    Stores, reviews and appeals hold these ids, so a faster way of writing the key must give
    the same bytes (None as "None", Chinese kept, numbers in decimal).
    """
    import hashlib

    cases = [
        ("c1", 1, "impatience", None, None, None),
        ("会话-7", 0, "forbidden_phrase", "FP-0002", 3, 9),
        ("c\u00e9", 12, "slow_reply", "average_response", None, None),
    ]
    for parts in cases:
        key = "\x1f".join(str(p) for p in ("finding/2", *parts))
        assert finding_id(*parts) == hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]
    # The value saved before this test was written.
    assert finding_id("c1", 1, "impatience", None, None, None) == "971dd5ec869a1f8f"


def test_the_id_ignores_rule_and_version_but_not_what_the_finding_is_about():
    a, b = model_finding("c1", 1, "attitude@1.0.0"), model_finding("c1", 1, "attitude@2.0.0")
    assert a.id == b.id == finding_id("c1", 1, "impatience", None, None, None)
    assert replace(a, evidence=replace(a.evidence, rule="another.v2")).id == a.id
    assert model_finding("c1", 3, "attitude@1.0.0").id != a.id  # another message
    assert model_finding("c1", 1, "attitude@1.0.0", "conflict").id != a.id  # another kind
    assert phrase_finding("c1", 1, "1+aaa").id == phrase_finding("c1", 1, "2+bbb").id
    assert phrase_finding("c1", 1, "1+aaa", 0, 1).id != phrase_finding("c1", 1, "1+aaa", 2, 3).id
    assert a.to_json()["version"] == "attitude@1.0.0" and a.to_json()["entry"] is None


def _people(store):
    add_person(store, "张主管", "supervisor", by="test")
    add_person(store, "王主管", "supervisor", by="test")
    add_person(store, "李复核", "reviewer", by="test")


def test_reviews_stay_attached_after_a_retrain_and_a_lexicon_edit(target):  # noqa: F811
    convs = [chat("c1", "2026-11-24"), chat("c2", "2026-11-24")]
    before = [model_finding("c1", 1, "attitude@1.0.0"), phrase_finding("c2", 3, "1.0+aaaa")]
    after = [model_finding("c1", 1, "attitude@1.1.0"), phrase_finding("c2", 3, "1.1+bbbb")]
    with open_store(target) as store:
        store.save_run(**run_kwargs(convs, before))
        _people(store)
        decide(store, before[0].id, "reject", by="李复核", note="买家先动手")
        decide(store, before[1].id, "confirm", by="李复核")
        run_id = store.save_run(**run_kwargs(convs, after))  # retrained model, edited lexicon
        assert store.run_orphans(run_id) == []
        assert orphaned_decisions(store) == {}
        assert rejected_ids(store) == {after[0].id}
        stored = {f.id: f.finding for f in store.findings()}
        assert stored[after[0].id].version == "attitude@1.1.0"  # the new version, recorded beside it
        assert stored[after[1].id].version == "1.1+bbbb"


def test_a_stale_sheet_row_says_what_became_of_its_finding_and_to_export_afresh(target, tmp_path):  # noqa: F811
    """A sheet exported before a re-inspection said only "finding id X is not in the store" (audit 119 L4)."""
    from qc.supervise.review_sheet import import_review_sheet

    convs = [chat("c1", "2026-11-24")]
    gone, stays = model_finding("c1", 1, "attitude@1.0.0"), model_finding("c1", 3, "attitude@1.0.0")
    sheet = tmp_path / "stale.csv"
    sheet.write_text(
        "发现编号,复核结论,复核人,备注\n"
        f"{gone.id},确认,李复核,\n"  # decided, then lost by the re-run: parked
        f"{stays.id[::-1]},确认,李复核,\n",  # an id the store never had
        encoding="utf-8",
    )
    with open_store(target) as store:
        store.save_run(**run_kwargs(convs, [gone, stays]))
        _people(store)
        decide(store, gone.id, "reject", by="李复核", note="买家先动手")
        run_id = store.save_run(**run_kwargs(convs, [stays]))
        result = import_review_sheet(store, sheet)
    parked, unknown = (p.message for p in result.problems)
    assert parked.startswith(
        f"finding id '{gone.id}' is not in the store: a re-inspection no longer found it"
    )
    assert f"kept as {gone.id}~{run_id} (qc review log {gone.id}~{run_id})" in parked
    assert "renumbered or removed it, or the id was mistyped" in unknown
    for message in (parked, unknown):
        assert message.endswith("export a fresh sheet with qc review export and decide it there")


def test_a_finding_that_disappears_leaves_its_decision_orphaned_and_reported(target, tmp_path):  # noqa: F811
    convs = [chat("c1", "2026-11-24")]
    gone, stays = model_finding("c1", 1, "attitude@1.0.0"), model_finding("c1", 3, "attitude@1.0.0")
    with open_store(target) as store:
        store.save_run(**run_kwargs(convs, [gone, stays]))
        _people(store)
        decide(store, gone.id, "reject", by="李复核", note="买家先动手")
        appeal = open_appeal(store, stays.id, by="张主管", reason="语气正常", card=charging_card())
        answer_appeal(store, appeal.id, by="李复核", note="维持")
        run_id = store.save_run(**run_kwargs(convs, [stays]))  # the new model no longer finds it
        orphans = store.run_orphans(run_id)
        # Parked under the id and the run that lost it, with what it was about (audit 88 #2).
        kept = f"{gone.id}~{run_id}"
        assert orphans == [
            {
                "finding_id": gone.id,
                "conversation_id": "c1",
                "kind": "impatience",
                "state": "rejected",
                "kept_as": kept,
            }
        ]
        assert orphaned_decisions(store) == {kept: "rejected"}
        log = [r for r in store.audit_trail() if r["finding_id"] == kept]
        assert [r["action"] for r in log] == ["reject"]  # kept, not dropped
        # The appeal's finding disappears too: ruling on it is refused, nothing is written.
        store.save_run(**run_kwargs(convs, []))
        rows = len(store.audit_trail())
        try:
            rule_appeal(store, appeal.id, overturn=False, by="王主管", note="维持原判", card=charging_card())
        except ReviewError as exc:
            assert "no longer stored" in str(exc) and "orphaned" in str(exc)
        else:
            raise AssertionError("a ruling on an orphaned finding was accepted")
        assert len(store.audit_trail()) == rows
        assert store.appeal_row(appeal.id)["state"] == "answered"
    env = {**os.environ, "QC_DB_WAIT": "5"}
    qc = [sys.executable, "-m", "qc"]
    done = subprocess.run(
        [
            *qc,
            "appeal",
            "rule",
            str(appeal.id),
            "--uphold",
            "--by",
            "王主管",
            "--note",
            "维持",
            "--db",
            target,
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == 2 and "orphaned" in done.stderr and "Traceback" not in done.stderr
    done = subprocess.run(
        [*qc, "review", "log", "--orphaned", "--db", target], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    # each parked under its id and the run that lost it
    assert {r["finding_id"].split("~")[0] for r in rows} == {gone.id, stays.id} and all(
        r["orphaned"] for r in rows
    )
    assert all("~" in r["finding_id"] for r in rows)
    # The appeal can take no step: the list says why it stays answered (audit 69, A2).
    done = subprocess.run([*qc, "appeal", "list", "--db", target], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert [(r["id"], r["orphaned"]) for r in map(json.loads, done.stdout.splitlines())] == [
        (appeal.id, True)
    ]
    out = tmp_path / "export"
    done = subprocess.run(
        [*qc, "export", "--date", "2026-11-24", "--out", str(out), "--db", target],
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    # the store's orphans, whatever the window: said so (audit 153 L4)
    assert "2 decided findings of the store, of any day, are no longer stored (orphaned)" in done.stderr
    listed = [json.loads(line) for line in (out / "orphaned_decisions.jsonl").read_text().splitlines()]
    assert {r["finding_id"].split("~")[0] for r in listed} == {gone.id, stays.id}
    assert json.loads((out / "agents.json").read_text(encoding="utf-8"))  # the day is still scored
    deductions = [json.loads(line) for line in (out / "deductions.jsonl").read_text().splitlines()]
    assert gone.id not in {i for d in deductions for i in d["finding_ids"]}  # never charged again


def test_a_re_inspection_reports_its_orphans_in_run_json(tmp_path):
    from pathlib import Path

    from qc.batch.run import run_inspection
    from qc.rules.forbidden_phrase import ForbiddenPhraseRule
    from qc.rules.lexicon import load_lexicon
    from qc.run.executors import LocalExecutor
    from qc.run.inspector import Inspector

    day = Path(__file__).parents[1] / "demo" / "day" / "2026-11-24_conversations.jsonl"
    db = str(tmp_path / "qc.sqlite")
    lexicon_run = LocalExecutor(Inspector([ForbiddenPhraseRule(load_lexicon())]))
    first = run_inspection([day], tmp_path / "a", lexicon_run, store=db, keep_results=False)
    with open_store(db) as store:
        phrase = next(f for f in store.findings() if f.finding.kind == "forbidden_phrase")
        _people(store)
        decide(store, phrase.id, "reject", by="李复核", note="引用买家原话")
    assert first.run["orphaned_decisions"] == []
    # Inspected again without the lexicon rule: the phrase finding is gone, its decision orphaned.
    second = run_inspection([day], tmp_path / "b", LocalExecutor(Inspector([])), store=db, keep_results=False)
    run = json.loads((tmp_path / "b" / "run.json").read_text(encoding="utf-8"))
    assert run["orphaned_decisions"] == second.run["orphaned_decisions"]
    assert [o["finding_id"] for o in run["orphaned_decisions"]] == [phrase.id]
    assert run["orphaned_decisions"][0]["state"] == "rejected"


def _corrected(conversation, added: int = 2, edit: dict[int, str] | None = None):
    """The conversation as a corrected export gives it: ``added`` buyer messages before the rest
    (every message's index, and so every finding's id, moves up), and the texts ``edit`` names."""
    from datetime import timedelta

    from qc.schema import Message, Role

    first = conversation.messages[0]
    early = [
        Message(k, Role.CUSTOMER, "有人吗", "buyer", first.sent_at - timedelta(seconds=30 - k))
        for k in range(added)
    ]
    later = [
        replace(m, index=m.index + added, text=(edit or {}).get(m.index, m.text))
        for m in conversation.messages
    ]
    return replace(conversation, messages=tuple(early + later))


def test_decisions_follow_their_finding_when_messages_are_added_before_it(target):  # noqa: F811
    """An id comes from the message's index: two messages added before a rejected finding gave
    its old id to the finding of an earlier message, and the rejection (and an appeal) went with
    the id to a message nobody reviewed, while the reviewed one was charged again (audit 69, B1)."""
    conv = chat("c1", "2026-11-24")
    one, three = model_finding("c1", 1, "m@1"), model_finding("c1", 3, "m@1")
    with open_store(target) as store:
        store.save_run(**run_kwargs([conv], [one, three]))
        _people(store)
        decide(store, three.id, "reject", by="李复核", note="买家催的")
        appeal = open_appeal(store, one.id, by="张主管", reason="语气正常", card=charging_card())
        after = [model_finding("c1", 3, "m@1"), model_finding("c1", 5, "m@1")]
        assert after[0].id == three.id  # the earlier message's finding now has the reviewed id
        run_id = store.save_run(**run_kwargs([_corrected(conv)], after))
        assert rejected_ids(store) == {after[1].id}
        assert store.appeal_row(appeal.id)["finding_id"] == after[0].id
        assert sorted(store.run_moves(run_id), key=lambda m: m["to"]) == sorted(
            [{"from": three.id, "to": after[1].id}, {"from": one.id, "to": after[0].id}],
            key=lambda m: m["to"],
        )
        assert store.run_orphans(run_id) == [] and orphaned_decisions(store) == {}


def test_a_decision_whose_message_changed_is_orphaned_not_passed_to_the_finding_that_took_its_id(target):  # noqa: F811
    conv = chat("c1", "2026-11-24")
    three = model_finding("c1", 3, "m@1")
    with open_store(target) as store:
        store.save_run(**run_kwargs([conv], [model_finding("c1", 1, "m@1"), three]))
        _people(store)
        decide(store, three.id, "reject", by="李复核", note="买家催的")
        edited = _corrected(conv, edit={3: "答，改过"})  # the reviewed reply was edited
        run_id = store.save_run(
            **run_kwargs([edited], [model_finding("c1", 3, "m@1"), model_finding("c1", 5, "m@1")])
        )
        stored = {f.id for f in store.findings()}
        assert three.id in stored and rejected_ids(store) & stored == set()  # nothing stored was reviewed
        assert [o["finding_id"] for o in store.run_orphans(run_id)] == [three.id]
        # Kept in the audit log under its id and the run that lost it, attached to nothing.
        assert orphaned_decisions(store) == {f"{three.id}~{run_id}": "rejected"}
        assert [r["note"] for r in store.audit_trail() if r["finding_id"].startswith(three.id)] == [
            "买家催的"
        ]


def _reject_and_overturn(store, conv, three: Finding, five: Finding):
    """Store ``conv`` with ``three`` rejected in review and ``five`` overturned on appeal; the appeal."""
    store.save_run(**run_kwargs([conv], [three, five]))
    _people(store)
    decide(store, three.id, "reject", by="李复核", note="买家催的")
    appeal = open_appeal(store, five.id, by="张主管", reason="语气正常", card=charging_card())
    answer_appeal(store, appeal.id, by="李复核", note="看过整段")
    rule_appeal(store, appeal.id, overturn=True, by="王主管", note="情有可原", card=charging_card())
    return appeal


@pytest.mark.parametrize("shift", ["utc", "clock", "clock_and_utc"])
def test_decisions_stay_with_a_finding_whose_message_is_only_timed_otherwise(target, shift):  # noqa: F811
    """The same moments written in UTC, or an export whose clock was corrected by 7 s: the finding
    came back with its id, yet its rejection and a supervisor's final overturn were parked and the
    conflict charged again (audit 114 H1)."""
    from datetime import UTC, timedelta

    conv = chat("c1", "2026-11-24")
    three, five = model_finding("c1", 3, "m@1"), model_finding("c1", 5, "m@1")

    def retimed(m):
        at = m.sent_at + (timedelta(seconds=7) if "clock" in shift else timedelta())
        return replace(m, sent_at=at.astimezone(UTC) if "utc" in shift else at)

    with open_store(target) as store:
        appeal = _reject_and_overturn(store, conv, three, five)
        again = replace(conv, messages=tuple(retimed(m) for m in conv.messages))
        run_id = store.save_run(
            **run_kwargs([again], [model_finding("c1", 3, "m@1"), model_finding("c1", 5, "m@1")])
        )
        assert store.run_orphans(run_id) == [] and orphaned_decisions(store) == {}
        assert rejected_ids(store) == {three.id, five.id}
        assert store.appeal_row(appeal.id)["finding_id"] == five.id


@pytest.mark.parametrize("change", ["completed", "added_before", "fractions_dropped"])
def test_decisions_follow_a_clock_corrected_re_export_that_also_changed_a_line(target, change):  # noqa: F811
    """A re-export whose clock moved by 7 s and that completed the buyer's cut-off first line (or
    gained a message in front, or lost the fractions of its seconds): only an exact re-timing kept
    its decisions, so this one orphaned the rejection and the final overturn, and charged the
    conflict again (audit 115 H1)."""
    from datetime import timedelta

    from qc.schema import Message, Role

    conv = chat("c1", "2026-11-24")
    if change == "fractions_dropped":
        conv = replace(
            conv,
            messages=tuple(
                replace(m, sent_at=m.sent_at + timedelta(milliseconds=150 * m.index)) for m in conv.messages
            ),
        )
    three, five = model_finding("c1", 3, "m@1"), model_finding("c1", 5, "m@1")
    added = 1 if change == "added_before" else 0
    moved = []
    for m in conv.messages:
        at = m.sent_at + timedelta(seconds=7)
        at = at.replace(microsecond=0) if change == "fractions_dropped" else at
        text = "问，要大号的" if change == "completed" and m.index == 0 else m.text
        moved.append(replace(m, index=m.index + added, sent_at=at, text=text))
    if added:
        moved.insert(
            0, Message(0, Role.CUSTOMER, "有人吗", "buyer", moved[0].sent_at - timedelta(seconds=20))
        )
    with open_store(target) as store:
        appeal = _reject_and_overturn(store, conv, three, five)
        after = [model_finding("c1", 3 + added, "m@1"), model_finding("c1", 5 + added, "m@1")]
        run_id = store.save_run(**run_kwargs([replace(conv, messages=tuple(moved))], after))
        assert store.run_orphans(run_id) == [] and orphaned_decisions(store) == {}
        assert rejected_ids(store) == {f.id for f in after}
        assert store.appeal_row(appeal.id)["finding_id"] == after[1].id


def test_two_sends_within_one_second_keep_their_decisions_apart(target):  # noqa: F811
    """不知道 sent twice 500 ms apart, the second rejected, then an export with a message in front:
    times cut to the second made the two sends one, and the rejection stayed on the first (audit
    115 H3)."""
    from datetime import timedelta

    from test_store import CST

    from qc.schema import Conversation, Message, Role

    t0 = datetime.fromisoformat("2026-11-24T16:00:00").replace(tzinfo=CST)
    said = [
        Message(0, Role.CUSTOMER, "这个能用多久", "buyer", t0),
        Message(1, Role.AGENT, "不知道", "店:小美", t0 + timedelta(seconds=20, milliseconds=200)),
        Message(2, Role.AGENT, "不知道", "店:小美", t0 + timedelta(seconds=20, milliseconds=700)),
    ]
    conv = Conversation("c1", tuple(said), shop="柚子家居", source="2026-11-24.jsonl:1")
    first, second = model_finding("c1", 1, "m@1"), model_finding("c1", 2, "m@1")
    with open_store(target) as store:
        store.save_run(**run_kwargs([conv], [first, second]))
        _people(store)
        decide(store, second.id, "reject", by="李复核", note="第二条是重复发送")
        notice = Message(0, Role.SYSTEM, "会话开始", None, t0 - timedelta(seconds=5))
        again = replace(conv, messages=(notice, *(replace(m, index=m.index + 1) for m in said)))
        after = [model_finding("c1", 2, "m@1"), model_finding("c1", 3, "m@1")]
        assert after[0].id == second.id  # the first send now has the reviewed id
        store.save_run(**run_kwargs([again], after))
        assert rejected_ids(store) == {after[1].id}  # the rejection followed the second send


def test_findings_come_back_in_one_order_from_every_store(target):  # noqa: F811
    """A whole-message finding (no span) and a phrase on the same message: SQLite listed the first
    first and PostgreSQL last, so excerpts, deductions.jsonl and every list differed (audit 69, B3)."""
    conv = chat("c1", "2026-11-24")
    whole, phrase = model_finding("c1", 1, "m@1"), phrase_finding("c1", 1, "1+a", 0, 1)
    with open_store(target) as store:
        store.save_run(**run_kwargs([conv], [phrase, whole]))
        assert [f.id for f in store.findings()] == [whole.id, phrase.id]


@pytest.mark.parametrize("step", ["review", "appeal"])
def test_a_step_that_waited_for_a_save_removing_its_finding_writes_nothing(target, monkeypatch, step):  # noqa: F811
    """A review or an appeal checked its finding before it waited for the store's write lock: a
    save that removed the finding meanwhile left a decision on nothing, the command said nothing
    was changed, and the save's orphan list did not have it (audit 69, B2)."""
    from qc.store.database import Store

    conv = chat("c1", "2026-11-24")
    found = model_finding("c1", 1, "m@1")
    with open_store(target) as store:
        store.save_run(**run_kwargs([conv], [found]))
        _people(store)
        rows = len(store.audit_trail())
        original = Store.transaction

        def after_a_save(self):  # the save the step waited for commits first
            store.save_run(**run_kwargs([conv], []))
            return original(self)

        monkeypatch.setattr(Store, "transaction", after_a_save)
        with pytest.raises(ReviewError, match="no finding"):
            if step == "review":
                decide(store, found.id, "reject", by="李复核", note="买家先动手")
            else:
                open_appeal(store, found.id, by="张主管", reason="语气正常", card=charging_card())
        assert len(store.audit_trail()) == rows and orphaned_decisions(store) == {}


def test_a_confirm_with_an_invisible_note_records_what_was_confirmed(target):  # noqa: F811
    conv = chat("c1", "2026-11-24")
    found = model_finding("c1", 1, "m@1")
    with open_store(target) as store:
        store.save_run(**run_kwargs([conv], [found]))
        _people(store)
        decide(store, found.id, "confirm", by="李复核", note="\u200b")
        (row,) = [r for r in store.audit_trail() if r["finding_id"] == found.id]
        assert row["note"].startswith("confirmed as found")


def test_qc_inspect_says_when_it_orphaned_or_moved_decisions(tmp_path):
    """Only run.json said so: a QA lead re-running a corrected day never heard that a reviewed
    finding was gone and its message charged again (audit 69, A1)."""
    from typer.testing import CliRunner

    from qc.cli import app

    def day(agent_text: str, early: bool) -> Path:
        rows = [("buyer", "tb_a", "10:00:00", "有人吗")] if early else []
        rows += [("buyer", "tb_a", "10:00:05", "能便宜点吗"), ("agent", "店:小美", "10:00:20", agent_text)]
        path = tmp_path / f"day{len(list(tmp_path.glob('day*')))}.jsonl"
        path.write_text(
            "".join(
                json.dumps(
                    {
                        "conversation_id": "c1",
                        "role": r,
                        "sender": s,
                        "timestamp": f"2026-11-24 {t}",
                        "text": x,
                    },
                    ensure_ascii=False,
                )
                + "\n"
                for r, s, t, x in rows
            ),
            encoding="utf-8",
        )
        return path

    db = str(tmp_path / "qc.sqlite")
    runner = CliRunner()

    def inspect(path: Path) -> str:
        result = runner.invoke(app, ["inspect", str(path), "--out", str(tmp_path / "out"), "--db", db])
        assert result.exit_code == 0, result.output
        return result.stderr

    assert "decisions" not in inspect(day("爱买不买，不买拉倒", early=False))
    with open_store(db) as store:
        _people(store)
        (charged,) = [f for f in store.findings() if f.finding.kind == "forbidden_phrase"][:1]
        decide(store, charged.id, "reject", by="李复核", note="引用买家原话")
    assert "1 decisions followed their findings to new ids" in inspect(day("爱买不买，不买拉倒", early=True))
    said = inspect(day("爱买不买，不买拉倒！！", early=True))
    assert "warning: 1 reviewed findings are gone from this run's conversations" in said


def test_a_decision_whose_finding_is_gone_never_passes_to_another_message_with_its_id(tmp_path):
    """Orphaned with no other finding on its id, a decision stayed under the bare id, and a later
    run that put another agent's finding on that id gave it the rejection (audit 88 #2). It is
    parked with what it was about; the same finding coming back as it was takes it back."""
    from review_day import inspect_day, msg

    def one_chat(agent: str, words: str) -> list[dict]:
        said = [msg("customer", "b1", "10:00:00", "这个什么时候发货"), msg("agent", agent, "10:00:20", words)]
        return [{"conversation_id": "cx2", "shop": "测试店", "messages": said}]

    db = tmp_path / "qc.sqlite"
    first = inspect_day(tmp_path / "r1", db=db, conversations=one_chat("测试店:小雨", "我不知道"))
    (fid,) = [f.id for f in first.findings if f.kind == "forbidden_phrase"]
    with open_store(db) as store:
        decide(store, fid, "reject", by="质检小王", note="小雨 was right: no date yet")
    inspect_day(tmp_path / "r2", db=db, conversations=one_chat("测试店:小雨", "亲，明天发货哦"))  # corrected
    third = inspect_day(tmp_path / "r3", db=db, conversations=one_chat("测试店:小满", "我不知道"))
    assert fid in {f.id for f in third.findings}  # 小满's message has the id now ...
    with open_store(db) as store:
        assert store.audit_trail(fid) == []  # ... and none of the decision about 小雨's
        assert fid not in rejected_ids(store)
        assert list(orphaned_decisions(store).values()) == ["rejected"]
    inspect_day(
        tmp_path / "r4", db=db, conversations=one_chat("测试店:小雨", "我不知道")
    )  # the original again
    with open_store(db) as store:
        assert [r["note"] for r in store.audit_trail(fid)] == ["小雨 was right: no date yet"]
        assert rejected_ids(store) == {fid} and orphaned_decisions(store) == {}


def test_scores_read_while_a_save_lands_are_those_of_one_moment(tmp_path, monkeypatch):
    """Parts, findings and decisions were three reads: a save committed between them moved the
    decisions to new ids and the scores charged the ids a reviewer had rejected (audit 88 #4)."""
    from review_day import DAY, inspect_day, msg

    from qc.batch.stored import score_stored
    from qc.scoring.card import load_scorecard
    from qc.store.database import Store

    said = [
        ("customer", "b1", "23:58:00", "怎么还没发货啊"),
        ("agent", "测试店:小雨", "23:58:10", "我不知道"),
        ("customer", "b1", "23:59:00", "那什么时候"),
        ("agent", "测试店:小雨", "23:59:10", "不知道"),
    ]
    chat = [{"conversation_id": "cx1", "shop": "测试店", "messages": [msg(*m) for m in said]}]
    db = tmp_path / "qc.sqlite"
    later = inspect_day(
        tmp_path / "r1", db=db, conversations=[{**chat[0], "messages": chat[0]["messages"][2:]}]
    )
    with open_store(db) as store:
        for f in later.findings:
            if f.kind == "forbidden_phrase":
                decide(store, f.id, "reject", by="质检小王", note="the buyer was joking")
        card = load_scorecard()
        day = DAY
        reads, findings = [], Store.findings

        def findings_then_a_save(self, *args, **kwargs):
            out = findings(self, *args, **kwargs)
            if not reads:  # another QA's re-run with the chat's earlier part lands now, once
                reads.append(True)
                inspect_day(tmp_path / "r2", db=db, conversations=chat)
            return out

        monkeypatch.setattr(Store, "findings", findings_then_a_save)
        raced = score_stored(store, card, day, day)
        monkeypatch.undo()
        serial = score_stored(store, card, day, day)
    charged = {i for d in raced.scores.deductions for i in d.finding_ids}
    assert charged == {i for d in serial.scores.deductions for i in d.finding_ids}
    assert not charged & raced.rejected


def test_a_decision_set_aside_and_back_is_not_called_a_renumbering(target):  # noqa: F811
    """qc review log said decisions "moved here from ID~2 … which renumbered the finding" when a run
    set them aside and the next found the finding again (audit 157 L1)."""
    from typer.testing import CliRunner

    from qc.cli import app

    convs = [chat("c1", "2026-11-24")]
    found = model_finding("c1", 1, "attitude@1.0.0")
    with open_store(target) as store:
        store.save_run(**run_kwargs(convs, [found]))
        _people(store)
        decide(store, found.id, "reject", by="李复核", note="买家先动手")
        parked = store.save_run(**run_kwargs(convs, []))
        back = store.save_run(**run_kwargs(convs, [found]))
        assert rejected_ids(store) == {found.id}
    runner = (
        CliRunner(mix_stderr=False)
        if "mix_stderr" in CliRunner.__init__.__code__.co_varnames
        else CliRunner()
    )
    res = runner.invoke(app, ["review", "log", found.id, "--db", str(target)])
    assert res.exit_code == 0, res.output
    assert (
        f"decisions set aside as {found.id}~{parked} came back with the finding in run #{back}" in res.stderr
    )
    assert "renumbered" not in res.stderr
