"""Review and appeal end to end on a tiny inspected day (tests/review_day.py)."""

from __future__ import annotations

import csv
import json

import pytest
from review_day import DAY, inspect_day, phrase_ids

from qc.scoring.card import load_scorecard
from qc.store.database import open_store
from qc.supervise.appeal import answer_appeal, list_appeals, open_appeal, reopen_appeal, rule_appeal
from qc.supervise.people import current_user
from qc.supervise.review import ReviewError, audit_trail, decide, export_day, rejected_ids
from qc.supervise.review_sheet import REVIEW_COLUMNS, REVIEW_HEADERS, export_review_sheet, import_review_sheet


@pytest.fixture()
def day(tmp_path):
    """The inspected day, its store (open) and the two finding ids by conversation."""
    report = inspect_day(tmp_path)
    store = open_store(tmp_path / "qc.sqlite")
    ids = phrase_ids(report)
    yield report, store, ids, tmp_path
    store.close()


def _points(folder, agent):
    rows = json.loads((folder / "agents.json").read_text(encoding="utf-8"))
    return next(r for r in rows if r["agent"] == agent)


def test_reject_round_trip_export_no_longer_charges_and_audit_keeps_previous_state(day):
    report, store, ids, tmp = day
    before = _points(tmp / "out", "测试店:阿杰")
    assert before["service_attitude_points"] == -5
    d = decide(store, ids["cA"], "reject", by="张主管", note="buyer joked first")
    assert (d.before, d.after) == ("pending", "rejected")
    export_day(store, DAY, tmp / "export", load_scorecard())
    after = _points(tmp / "export", "测试店:阿杰")
    assert after["service_attitude_points"] == 0
    assert after["total_points"] == before["total_points"] + 5
    # the other agent's deduction is untouched
    assert _points(tmp / "export", "测试店:小美")["service_attitude_points"] == -1
    trail = audit_trail(store, ids["cA"])
    assert [(r["action"], r["actor"], r["note"], r["state_before"], r["state_after"]) for r in trail] == [
        ("reject", "张主管", "buyer joked first", "pending", "rejected")
    ]
    assert trail[0]["at"]


def test_confirm_after_reject_charges_again_and_both_decisions_are_kept(day):
    _, store, ids, tmp = day
    decide(store, ids["cA"], "reject", by="a", note="sounded like a joke")
    decide(store, ids["cA"], "confirm", by="b", note="on second look it is a challenge")
    export_day(store, DAY, tmp / "export", load_scorecard())
    assert _points(tmp / "export", "测试店:阿杰")["service_attitude_points"] == -5
    states = [(r["state_before"], r["state_after"]) for r in audit_trail(store, ids["cA"])]
    assert states == [("pending", "rejected"), ("rejected", "confirmed")]


def test_a_confirmed_held_finding_is_charged_and_leaves_the_review_column(day):
    """Confirming a finding the card held for review changed nothing: it stayed 待复核 at no cost,
    so a review_only queue could never charge (audit 16 B3, audit 76 B1). A 复核 that marks a
    machine's hit 违规 charges it; a rejected one stays free."""
    from qc.supervise.flagged import flagged_conversations

    _, store, ids, tmp = day
    (tmp / "queue.toml").write_text('[findings]\nreview_only = ["forbidden_phrase"]\n', encoding="utf-8")
    card = load_scorecard(tmp / "queue.toml")
    export_day(store, DAY, tmp / "held", card)
    held = _points(tmp / "held", "测试店:小美")
    assert (held["impatience"], held["needs_review"], held["service_attitude_points"]) == (0, 1, 0)
    assert not flagged_conversations(store, card=card)
    decide(store, ids["cB"], "confirm", by="质检小王")
    decide(store, ids["cA"], "reject", by="质检小王", note="the buyer joked first")
    export_day(store, DAY, tmp / "confirmed", card)
    charged = _points(tmp / "confirmed", "测试店:小美")
    assert (charged["impatience"], charged["needs_review"], charged["service_attitude_points"]) == (1, 0, -1)
    assert _points(tmp / "confirmed", "测试店:阿杰")["service_attitude_points"] == 0
    assert [f.conversation_id for f in flagged_conversations(store, card=card)] == ["cB"]
    export_review_sheet(store, DAY, tmp / "sheet.csv", card)
    with (tmp / "sheet.csv").open(encoding="utf-8-sig", newline="") as fh:
        (row,) = [r for r in csv.reader(fh) if r[0].lstrip("'") == ids["cB"]]
    assert not any("复核队列" in cell or "待复核" in cell for cell in row), row


def test_inspecting_the_same_day_again_keeps_applying_decisions(day):
    _, store, ids, tmp = day
    decide(store, ids["cA"], "reject", by="张主管", note="regular buyer")
    again = inspect_day(tmp)
    assert phrase_ids(again) == ids  # ids are stable
    row = next(r for r in again.agents if r["agent"] == "测试店:阿杰")
    assert row["service_attitude_points"] == 0
    assert _points(tmp / "out", "测试店:阿杰")["service_attitude_points"] == 0


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda e, ids: decide(e, "0000000000000000", "reject", by="qa", note="n"), "no finding"),
        (lambda e, ids: decide(e, ids["cA"], "maybe", by="qa"), "unknown"),
        (lambda e, ids: decide(e, ids["cA"], "reject", by=" ", note="n"), "--by is required"),
        (
            lambda e, ids: decide(e, ids["cA"], "reject", by="qa"),
            "a rejection needs a note saying why the finding is wrong",
        ),
        (lambda e, ids: decide(e, ids["cA"], "reject", by="路人", note="n"), "路人 is not registered"),
        (
            lambda e, ids: decide(e, ids["cA"], "reject", by="阿杰", note="n"),
            "阿杰 is an agent; a review needs",
        ),
    ],
    ids=["unknown-finding", "bad-decision", "no-reviewer", "no-note", "unregistered", "agent-reviews"],
)
def test_bad_decisions_are_refused_and_not_logged(day, call, message):
    _, store, ids, _ = day
    before = audit_trail(store)
    with pytest.raises(ReviewError, match=message) as exc:
        call(store, ids)
    assert exc.value.exit_code == 2
    assert audit_trail(store) == before


def test_appeal_from_open_to_overturned_rejects_the_finding(day):
    _, store, ids, tmp = day
    a = open_appeal(store, ids["cA"], agent="阿杰", reason="the buyer asked me to be blunt")
    assert a.state == "open"
    assert answer_appeal(store, a.id, by="质检小王", note="checked the chat").state == "answered"
    final = rule_appeal(store, a.id, overturn=True, by="张主管", note="a joke between regulars")
    assert final.state == "overturned"
    assert ids["cA"] in rejected_ids(store)
    export_day(store, DAY, tmp / "export", load_scorecard())
    assert _points(tmp / "export", "测试店:阿杰")["service_attitude_points"] == 0
    steps = [
        (r["action"], r["state_before"], r["state_after"], r["appeal_id"])
        for r in audit_trail(store, ids["cA"])
    ]
    assert steps == [
        ("appeal_open", "none", "open", a.id),
        ("appeal_answer", "open", "answered", a.id),
        ("appeal_rule", "answered", "overturned", a.id),
        ("reject", "pending", "rejected", a.id),
    ]


def test_appeal_upheld_confirms_the_finding(day):
    _, store, ids, _ = day
    a = open_appeal(store, ids["cB"], agent="小美", reason="it was sold out")
    answer_appeal(store, a.id, by="qa", note="no softening at all")
    assert rule_appeal(store, a.id, overturn=False, by="boss", note="a bare no").state == "upheld"
    assert ids["cB"] not in rejected_ids(store)
    assert audit_trail(store, ids["cB"])[-1]["state_after"] == "confirmed"


def _first_transaction_after(store, monkeypatch, meanwhile):
    """Run ``meanwhile`` (another process's step) just before the store's next transaction begins."""
    real = store.transaction

    def transaction():
        monkeypatch.setattr(store, "transaction", real)
        meanwhile()
        return real()

    monkeypatch.setattr(store, "transaction", transaction)


def test_a_ruling_that_lands_while_a_review_waits_for_the_store_refuses_the_review(day, monkeypatch):
    """Another process rules the appeal final between the review's first checks and its write."""
    _, store, ids, _ = day
    a = open_appeal(store, ids["cA"], agent="阿杰", reason="the buyer asked me to be blunt")
    answer_appeal(store, a.id, by="质检小王", note="checked the chat")
    ruling = lambda: rule_appeal(store, a.id, overturn=False, by="张主管", note="a challenge, upheld")  # noqa: E731
    _first_transaction_after(store, monkeypatch, ruling)
    with pytest.raises(ReviewError, match="is final: appeal"):
        decide(store, ids["cA"], "reject", by="质检小王", note="no, a joke")
    assert audit_trail(store, ids["cA"])[-1]["state_after"] == "confirmed"


def test_two_appeals_opened_at_once_leave_one_open(day, monkeypatch):
    _, store, ids, _ = day
    first_click = lambda: open_appeal(store, ids["cA"], agent="阿杰", reason="first click")  # noqa: E731
    _first_transaction_after(store, monkeypatch, first_click)
    with pytest.raises(ReviewError, match="already has appeal"):
        open_appeal(store, ids["cA"], agent="阿杰", reason="second click")
    assert [x.state for x in list_appeals(store) if x.finding_id == ids["cA"]] == ["open"]


def _answered(store, fid):
    a = open_appeal(store, fid, agent="阿杰", reason="r")
    answer_appeal(store, a.id, by="qa", note="n")
    return a


@pytest.mark.parametrize(
    ("setup", "step", "message"),
    [
        (
            lambda e, f: open_appeal(e, f, agent="阿杰", reason="r"),
            lambda e, a: rule_appeal(e, a.id, overturn=True, by="b", note="n"),
            "is open, cannot rule",
        ),
        (_answered, lambda e, a: answer_appeal(e, a.id, by="qa", note="again"), "is answered, cannot answer"),
        (
            lambda e, f: rule_appeal(e, _answered(e, f).id, overturn=False, by="b", note="n"),
            lambda e, a: answer_appeal(e, a.id, by="qa", note="late"),
            "is upheld, cannot answer",
        ),
        (
            lambda e, f: open_appeal(e, f, agent="阿杰", reason="r"),
            lambda e, a: open_appeal(e, a.finding_id, agent="阿杰", reason="r2"),
            "already has appeal",
        ),
        (
            lambda e, f: rule_appeal(e, _answered(e, f).id, overturn=True, by="b", note="n"),
            lambda e, a: open_appeal(e, a.finding_id, agent="阿杰", reason="r2"),
            "already overturned",
        ),
        (  # an upheld ruling is final: no second appeal to shop for another supervisor
            lambda e, f: rule_appeal(e, _answered(e, f).id, overturn=False, by="b", note="n"),
            lambda e, a: open_appeal(e, a.finding_id, agent="阿杰", reason="again, louder"),
            r"ruled on by appeal #1; it is final \(upheld\); a supervisor can reopen it: qc appeal reopen 1",
        ),
        (
            lambda e, f: open_appeal(e, f, agent="阿杰", reason="r"),
            lambda e, a: answer_appeal(e, 999, by="qa", note="n"),
            "no appeal #999",
        ),
        (
            lambda e, f: open_appeal(e, f, agent="阿杰", reason="r"),
            lambda e, a: open_appeal(e, a.finding_id, agent="小美", reason="r2"),
            "小美 was not charged with this finding: it is charged to 测试店:阿杰",
        ),
        (
            _answered,
            lambda e, a: rule_appeal(e, a.id, overturn=True, by="qa", note="n"),
            "qa is a reviewer; a ruling needs a supervisor",
        ),
        (
            lambda e, f: rule_appeal(e, _answered(e, f).id, overturn=True, by="b", note="n"),
            lambda e, a: reopen_appeal(e, a.id, by="质检小王", note="n"),
            "质检小王 is a reviewer; reopening a ruling needs a supervisor",
        ),
        (
            lambda e, f: open_appeal(e, f, agent="阿杰", reason="r"),
            lambda e, a: reopen_appeal(e, a.id, by="b", note="n"),
            "is open, cannot reopen",
        ),
    ],
    ids=[
        "rule-before-answer",
        "answer-twice",
        "answer-after-final",
        "second-open",
        "reopen-overturned",
        "appeal-after-upheld",
        "unknown-appeal",
        "other-agent-appeals",
        "reviewer-rules",
        "reviewer-reopens",
        "reopen-before-ruling",
    ],
)
def test_invalid_appeal_transitions_are_refused(day, setup, step, message):
    _, store, ids, _ = day
    appeal = setup(store, ids["cA"])
    appeal = list_appeals(store)[-1] if not hasattr(appeal, "finding_id") else appeal
    logged = len(audit_trail(store))
    with pytest.raises(ReviewError, match=message) as exc:
        step(store, appeal)
    assert exc.value.exit_code == 2
    assert len(audit_trail(store)) == logged


def test_bulk_csv_round_trip_applies_good_rows_and_lists_bad_ones(day):
    _, store, ids, tmp = day
    path = tmp / "review.csv"
    # the two phrases and cA's 90 s reply (slow_response evidence, 0 points: too few turns)
    assert export_review_sheet(store, DAY, path, load_scorecard()) == 3
    raw = path.read_bytes()
    assert raw.startswith("\ufeff".encode())  # BOM for Excel
    with path.open(encoding="utf-8-sig", newline="") as fh:
        header, *rows = list(csv.reader(fh))
    assert header == [zh for _, zh in REVIEW_HEADERS] and header[0] == "发现编号"
    by_id = {r[0]: dict(zip(REVIEW_COLUMNS, r, strict=True)) for r in rows}
    assert by_id[ids["cA"]]["points"] == "-5" and by_id[ids["cA"]]["kind"] == "forbidden_phrase"
    assert rows[0][0] == ids["cA"]  # most points first
    assert by_id[ids["cA"]]["context"] == "买家: 能便宜点吗"
    assert by_id[ids["cA"]]["decision"] == "" and by_id[ids["cA"]]["state"] == "pending"
    assert by_id[ids["cA"]]["why_free"] == ""  # it costs points
    # the slow reply costs nothing because the window has too few turns, not "no points" (audit 86 L1)
    (slow,) = [r for r in by_id.values() if r["kind"] == "slow_response"]
    assert slow["why_free"].startswith("慢回复 slow_response 是「平均响应时间」的依据，该项在本时段未扣分")
    assert "gives it no points" not in slow["why_free"]
    by_id[ids["cA"]].update(decision="驳回", by="张主管", note="joke")
    by_id[ids["cB"]].update(decision="perhaps")
    edited = [*by_id.values(), {**by_id[ids["cA"]], "finding_id": "ffffffffffffffff", "decision": "reject"}]
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows([r[k] for k in REVIEW_COLUMNS] for r in edited)
    result = import_review_sheet(store, path)
    assert [(c.row, c.finding_id, c.before, c.after) for c in result.changed] == [
        (2, ids["cA"], "pending", "rejected")
    ]
    # rows: 2 cA's phrase, 3 cB's phrase (perhaps), 4 cA's slow reply, 5 the unknown id
    assert [(p.row, "perhaps" in p.message or "not in the store" in p.message) for p in result.problems] == [
        (3, True),
        (5, True),
    ]
    assert rejected_ids(store) == {ids["cA"]}
    assert audit_trail(store, ids["cA"])[0]["source"] == f"csv:review.csv:2 · login {current_user()}"
    again = import_review_sheet(store, path)
    assert again.changed == [] and again.unchanged == 1
    export_review_sheet(store, DAY, path, load_scorecard())
    with path.open(encoding="utf-8-sig", newline="") as fh:
        after = {r[0]: dict(zip(REVIEW_COLUMNS, r, strict=True)) for r in list(csv.reader(fh))[1:]}
    assert after[ids["cA"]]["points"] == "0" and after[ids["cA"]]["state"] == "rejected"
    assert after[ids["cA"]]["why_free"] == "已驳回，不再扣分 (rejected in review)"


def test_review_export_and_feedback_mask_pii_when_asked(tmp_path):
    from review_day import CONVERSATIONS, PHONE, msg

    from qc.supervise.feedback import feedback_samples
    from qc.text.pii import Masker

    leaky = {
        "conversation_id": "cP",
        "shop": "测试店",
        "messages": [
            msg("customer", "b", "16:00:00", f"电话{PHONE}能今天发吗"),
            msg("agent", "测试店:阿杰", "16:00:05", "不能"),
        ],
    }
    report = inspect_day(tmp_path, conversations=[*CONVERSATIONS, leaky])
    fid = next(f.id for f in report.findings if f.conversation_id == "cP")
    store = open_store(tmp_path / "qc.sqlite")
    try:
        decide(store, fid, "confirm", by="qa")
        for masked in (False, True):
            out = tmp_path / f"review-{masked}.csv"
            export_review_sheet(store, DAY, out, load_scorecard(), mask=Masker(masked))
            assert (PHONE in out.read_text(encoding="utf-8-sig")) is not masked
            sample = next(
                s for s in feedback_samples(store, mask=Masker(masked)).samples if s["text"] == "不能"
            )
            assert (PHONE in sample["context"][0]["text"]) is not masked
    finally:
        store.close()


def _answered_after(delays: list[int]) -> list[dict]:
    """One conversation per delay: a buyer's question, 小美's answer that many seconds later."""
    from datetime import datetime, timedelta

    from review_day import msg

    convs = []
    for n, delay in enumerate(delays):
        asked = datetime(2026, 11, 24, 10) + timedelta(minutes=10 * n)
        answered = asked + timedelta(seconds=delay)
        convs.append(
            {
                "conversation_id": f"s{n:02d}",
                "shop": "测试店",
                "messages": [
                    msg("customer", f"b{n}", f"{asked:%H:%M:%S}", "请问什么时候发货"),
                    msg("agent", "测试店:小美", f"{answered:%H:%M:%S}", "亲，今天下午就发"),
                ],
            }
        )
    return convs


def test_a_slow_reply_rejected_in_review_leaves_the_average_and_its_points(tmp_path):
    # 小美 answers 21 buyers: 20 after 30 s, one after 200 s (a system outage, QA decides).
    # Average (20·30 + 200) / 21 = 38.1 s → 6.1 s over 32 → −12. Rejecting the slow reply
    # times its turn at the limit, on time: (20·30 + 32) / 21 = 30.1 s → nothing.

    from qc.scoring.periods import parse_period
    from qc.supervise.review import score_period

    report = inspect_day(tmp_path, conversations=_answered_after([30] * 20 + [200]))
    (slow,) = [f for f in report.findings if f.kind == "slow_response"]
    assert slow.evidence.details["delay_s"] == 200
    (row,) = report.agents
    assert (row["timed_turns"], row["average_response_points"], row["slow_response"]) == (21, -12, 1)
    with open_store(tmp_path / "qc.sqlite") as store:
        scored = score_period(store, parse_period(DAY))
        (deduction,) = [d for d in scored.deductions if d.item == "average_response"]
        assert deduction.finding_ids == (slow.id,)
        decide(store, slow.id, "reject", by="张主管", note="system outage 10:20-10:23")
        (row,) = score_period(store, parse_period(DAY)).rows
    assert (row["timed_turns"], row["avg_response_s"], row["average_response_points"]) == (21, 30.1, 0)
    assert (row["slow_response"], row["suppressed"]) == (0, 1)


def test_rejecting_a_slow_reply_never_costs_the_agent_more(tmp_path):
    """A reply of 34 s among replies of 33 s (limit 32): taken out of the average it raised it,
    from 33.24 to 33.25 s, and the rejection cost −3 instead of −2 (audit 86 H2). Timed at the
    limit, on time as the reviewer said, it can only lower it."""

    from qc.scoring.periods import parse_period
    from qc.supervise.review import score_period

    report = inspect_day(tmp_path, conversations=_answered_after([34] * 5 + [33] * 16))
    (row,) = report.agents
    before = (row["avg_response_s"], row["average_response_points"])
    slow = next(
        f for f in report.findings if f.kind == "slow_response" and f.evidence.details["delay_s"] == 33
    )
    with open_store(tmp_path / "qc.sqlite") as store:
        decide(store, slow.id, "reject", by="张主管", note="平台消息延迟")
        (row,) = score_period(store, parse_period(DAY)).rows
    assert row["avg_response_s"] < before[0] and row["average_response_points"] >= before[1]
