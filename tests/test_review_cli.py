"""The review, appeal, export and show commands as people type them (exit codes and messages)."""

from __future__ import annotations

import csv
import json

import pytest
from review_day import DAY, ORDER, PHONE, inspect_day, phrase_ids
from typer.testing import CliRunner

from qc.cli import app
from qc.supervise.review_sheet import REVIEW_COLUMNS, REVIEW_HEADERS


@pytest.fixture()
def day(tmp_path):
    report = inspect_day(tmp_path)
    return phrase_ids(report), ["--db", str(tmp_path / "qc.sqlite")], tmp_path


def run(*args):
    return CliRunner().invoke(app, [str(a) for a in args], env={"COLUMNS": "200"})


def test_review_shortcut_then_export_stops_charging(day):
    ids, db, tmp = day
    r = run("review", f" {ids['cA'].upper()} ", "--reject", "--by", "张主管", "--note", "joke", *db)  # pasted
    assert r.exit_code == 0, r.output
    assert f"finding {ids['cA']}: pending → rejected" in r.output
    r = run("export", "--date", DAY, "--out", tmp / "exp", *db)
    assert r.exit_code == 0, r.output
    rows = json.loads((tmp / "exp" / "agents.json").read_text(encoding="utf-8"))
    assert next(x for x in rows if x["agent"] == "测试店:阿杰")["service_attitude_points"] == 0
    log = [json.loads(line) for line in run("review", "log", ids["cA"].upper(), *db).stdout.splitlines()]
    assert [(x["actor"], x["state_before"], x["state_after"]) for x in log] == [
        ("张主管", "pending", "rejected")
    ]


def _two_phrases_on_one_message(tmp_path):
    """The review day plus 阿杰's 我不知道，爱买不买: two forbidden phrases on one message (ids), and --db."""
    from review_day import CONVERSATIONS, SHOP, msg

    twice = {
        "conversation_id": "cT",
        "shop": SHOP,
        "messages": [
            msg("customer", "buyer9", "16:00:00", "发货了吗"),
            msg("agent", f"{SHOP}:阿杰", "16:00:05", "我不知道，爱买不买"),
        ],
    }
    report = inspect_day(tmp_path, conversations=[*CONVERSATIONS, twice])
    first, second = sorted(
        f.id for f in report.findings if f.conversation_id == "cT" and f.kind == "forbidden_phrase"
    )
    return first, second, ["--db", str(tmp_path / "qc.sqlite")]


def _held_phrases(tmp_path):
    """The two phrases of 我不知道，爱买不买 on a card that holds forbidden phrases for review.

    (我不知道's finding, 爱买不买's, --db, and --db with --scorecard of that card.)
    """
    from qc.store.database import open_store

    _, _, db = _two_phrases_on_one_message(tmp_path)
    with open_store(tmp_path / "qc.sqlite") as store:
        entry = {s.finding.entry: s.id for s in store.findings(conversation_ids=["cT"])}
    card = tmp_path / "held.toml"
    card.write_text('[findings]\nreview_only = ["forbidden_phrase"]\n', encoding="utf-8")
    return entry["FP-0007"], entry["FP-0014"], db, [*db, "--scorecard", card]


def test_the_still_charged_warning_follows_the_shops_card(tmp_path):
    """Two forbidden phrases on one message: which of them charges the verdict is the card's say."""
    first, second, db = _two_phrases_on_one_message(tmp_path)
    r = run("review", first, "--reject", "--by", "张主管", "--note", "quoted", *db)
    assert r.exit_code == 0 and f"warning: its message is still charged: {second}" in r.output
    shop = tmp_path / "shop.toml"
    shop.write_text("[findings]\nimplies_verdict = []\n", encoding="utf-8")
    r = run("review", second, "--reject", "--by", "张主管", "--note", "quoted", "--scorecard", shop, *db)
    assert r.exit_code == 0 and "still charged" not in r.output
    # a card that cannot be read stops the command before any decision is written
    r = run("review", second, "--confirm", "--by", "张主管", "--scorecard", tmp_path / "missing.toml", *db)
    assert r.exit_code == 2
    log = [json.loads(line) for line in run("review", "log", second, *db).stdout.splitlines()]
    assert [x["state_after"] for x in log] == ["rejected"]
    # a phrase the card only reviews charges nothing: it backs no verdict either
    held = tmp_path / "held.toml"
    held.write_text('[findings]\nreview_only = ["forbidden_phrase"]\n', encoding="utf-8")
    for fid in (second, first):
        assert run("review", fid, "--confirm", "--by", "张主管", *db).exit_code == 0
    r = run("review", first, "--reject", "--by", "张主管", "--note", "again", *db)
    assert r.exit_code == 0 and "still charged" in r.output  # the default card: the other phrase charges
    assert run("review", first, "--confirm", "--by", "张主管", *db).exit_code == 0
    # the card only reviews the phrases, but a reviewer confirmed the other: it charges (audit 167 H1)
    r = run("review", first, "--reject", "--by", "张主管", "--note", "again", "--scorecard", held, *db)
    assert r.exit_code == 0 and f"still charged: {second}" in r.output


def test_a_phrase_the_card_only_reviews_backs_no_verdict_until_confirmed(tmp_path):
    first, second, db = _two_phrases_on_one_message(tmp_path)
    held = tmp_path / "held.toml"
    held.write_text('[findings]\nreview_only = ["forbidden_phrase"]\n', encoding="utf-8")
    r = run("review", first, "--reject", "--by", "张主管", "--note", "quoted", "--scorecard", held, *db)
    assert r.exit_code == 0 and "still charged" not in r.output


def test_an_overturned_appeal_lists_what_still_charges_its_message(tmp_path):
    """Overturned, the appeal's finding costs nothing, but another phrase on the same message
    still charges it: `qc appeal list` said only "overturned" (audit 86 L6)."""
    first, second, db = _two_phrases_on_one_message(tmp_path)
    appeal = run("appeal", "open", first, "--agent", "阿杰", "--reason", "引用买家原话", *db).stdout.strip()
    assert run("appeal", "answer", appeal, "--by", "质检小王", "--note", "看过", *db).exit_code == 0
    assert run("appeal", "rule", appeal, "--overturn", "--by", "张主管", "--note", "引用", *db).exit_code == 0
    (row,) = [json.loads(x) for x in run("appeal", "list", *db).stdout.splitlines()]
    assert (row["state"], row["message_still_charged_by"]) == ("overturned", [second])


def _appeal_to_ruling(first, db):
    appeal = run("appeal", "open", first, "--agent", "阿杰", "--reason", "引用买家原话", *db).stdout.strip()
    assert run("appeal", "answer", appeal, "--by", "质检小王", "--note", "看过", *db).exit_code == 0
    return appeal


def _states(db, *ids):
    logs = [[json.loads(x) for x in run("review", "log", fid, *db).stdout.splitlines()] for fid in ids]
    return [[x["state_after"] for x in log if x["action"] in ("confirm", "reject")] for log in logs]


def test_an_appeal_overturned_with_its_message_clears_the_whole_reply(tmp_path):
    """The agent won the appeal on the reply, yet the other phrase behind the same verdict kept
    charging it, and they had to appeal again (audit 97 #1). The supervisor may now overturn the
    whole reply in one ruling, recorded on each finding with who, when and why; a reopened appeal
    ruled upheld charges both again."""
    first, second, db = _two_phrases_on_one_message(tmp_path)
    appeal = _appeal_to_ruling(first, db)
    r = run("appeal", "rule", appeal, "--overturn", "--with-message", "--by", "张主管", "--note", "引用", *db)
    assert r.exit_code == 0, r.output
    assert f"the same message's {second} rejected with it" in r.output and "still charged" not in r.output
    (row,) = [json.loads(x) for x in run("appeal", "list", *db).stdout.splitlines()]
    assert (row["state"], row["decided_with"], row.get("message_still_charged_by")) == (
        "overturned",
        [second],
        [],
    )
    log = [json.loads(x) for x in run("review", "log", second, *db).stdout.splitlines()]
    assert [(x["actor"], x["state_after"], x["note"], x["source"]) for x in log] == [
        ("张主管", "rejected", "引用", f"appeal #{appeal}")
    ]
    r = run("export", "--date", DAY, "--out", tmp_path / "exp", *db)
    rows = json.loads((tmp_path / "exp" / "agents.json").read_text(encoding="utf-8"))
    before = json.loads((tmp_path / "out" / "agents.json").read_text(encoding="utf-8"))
    points = {x["agent"]: x["service_attitude_points"] for x in rows}
    was = {x["agent"]: x["service_attitude_points"] for x in before}
    assert points["测试店:阿杰"] > was["测试店:阿杰"]  # the reply costs nothing now
    # final for both: a reviewer cannot flip the other finding back (audit 99 F2)
    r = run("review", second, "--confirm", "--overturn", "--by", "质检小王", "--note", "x", *db)
    assert r.exit_code == 2 and f"decided with appeal #{appeal} on finding {first}" in r.output
    # ... and the review sheet says so before QA fills the row in (audit 100 N7)
    assert run("review", "export", "--date", DAY, "--out", tmp_path / "s.csv", *db).exit_code == 0
    cells = {fid: row["appeal"] for fid, row in _sheet(tmp_path / "s.csv").items()}
    assert cells[second].startswith(f"随 #{appeal} 已裁定 overturned · 终局 final")
    assert run("appeal", "reopen", appeal, "--by", "张主管", "--note", "买家补充了聊天", *db).exit_code == 0
    r = run("appeal", "rule", appeal, "--uphold", "--by", "张主管", "--note", "不是引用", *db)
    assert r.exit_code == 0 and f"the same message's {second} confirmed with it" in r.output
    assert _states(db, first, second) == [["rejected", "confirmed"], ["rejected", "confirmed"]]
    # reopened and overturned without the message: says only what this ruling did (audit 99 F5)
    assert run("appeal", "reopen", appeal, "--by", "张主管", "--note", "再看", *db).exit_code == 0
    r = run("appeal", "rule", appeal, "--overturn", "--by", "张主管", "--note", "引用", *db)
    assert r.exit_code == 0 and "with it" not in r.output and f"still charged: {second}" in r.output
    # ... and the finding this ruling left is reviewable, as the warning says (audit 100 N2)
    r = run("review", second, "--reject", "--overturn", "--by", "质检小王", "--note", "引用", *db)
    assert r.exit_code == 0, r.output


def test_after_a_reopen_the_finding_ruled_along_is_decided_again_without_overturn(tmp_path):
    """The appealed finding needed no --overturn after a reopen, the one its ruling rejected along
    (--with-message) did: "was rejected by 张主管 … --overturn" (audit 119 L2). The README's rule is
    one: after a reopen, the first decision since needs none; a repeat of it records nothing."""
    first, second, db = _two_phrases_on_one_message(tmp_path)
    appeal = _appeal_to_ruling(first, db)
    r = run("appeal", "rule", appeal, "--overturn", "--with-message", "--by", "张主管", "--note", "引用", *db)
    assert r.exit_code == 0, r.output
    assert run("appeal", "reopen", appeal, "--by", "boss", "--note", "重新看", *db).exit_code == 0
    r = run("review", second, "--confirm", "--by", "质检小王", "--note", "禁用语成立", *db)
    assert r.exit_code == 0, r.output
    assert f"finding {second}: rejected → confirmed" in r.output
    r = run("review", second, "--confirm", "--by", "质检小王", "--note", "禁用语成立", *db)
    assert r.exit_code == 0 and _states(db, second) == [["rejected", "confirmed"]]  # the repeat: nothing
    # Decided since the reopen: overturning that decision is a colleague's again.
    r = run("review", second, "--reject", "--by", "qa", "--note", "引用", *db)
    assert r.exit_code == 2 and "--overturn" in r.output


def test_an_overturn_without_its_message_leaves_the_other_phrase_to_the_supervisor(tmp_path):
    """爱买不买 beside the appealed 我不知道 may be an offence the appeal never argued: an overturn
    clears only what was appealed unless the supervisor says so, and --with-message needs --overturn."""
    first, second, db = _two_phrases_on_one_message(tmp_path)
    appeal = _appeal_to_ruling(first, db)
    r = run("appeal", "rule", appeal, "--uphold", "--with-message", "--by", "张主管", "--note", "x", *db)
    assert r.exit_code == 2 and "--with-message goes with --overturn" in r.output
    r = run("appeal", "rule", appeal, "--overturn", "--by", "张主管", "--note", "引用", *db)
    assert r.exit_code == 0 and f"still charged: {second}" in r.output and "with it" not in r.output
    assert _states(db, first, second) == [["rejected"], []]


def test_a_finding_whose_own_appeal_was_reopened_is_left_to_it(tmp_path):
    """Its appeal reopened, the other phrase was swept into this ruling and its reviews refused
    (audit 100 N3): an appeal of its own, in any state, decides it."""
    first, second, db = _two_phrases_on_one_message(tmp_path)
    own = _appeal_to_ruling(second, db)
    assert run("appeal", "rule", own, "--uphold", "--by", "张主管", "--note", "不是引用", *db).exit_code == 0
    assert run("appeal", "reopen", own, "--by", "张主管", "--note", "再看", *db).exit_code == 0
    appeal = _appeal_to_ruling(first, db)
    r = run("appeal", "rule", appeal, "--overturn", "--with-message", "--by", "boss", "--note", "引用", *db)
    assert r.exit_code == 0 and "with it" not in r.output
    assert _states(db, second) == [["confirmed"]]


def test_a_finding_with_its_own_appeal_is_left_to_that_appeal(tmp_path):
    """The other phrase's own appeal, still open, decides it: the ruling on the first does not."""
    first, second, db = _two_phrases_on_one_message(tmp_path)
    appeal = _appeal_to_ruling(first, db)
    assert run("appeal", "open", second, "--agent", "阿杰", "--reason", "也是引用", *db).exit_code == 0
    r = run("appeal", "rule", appeal, "--overturn", "--with-message", "--by", "张主管", "--note", "引用", *db)
    assert r.exit_code == 0 and "with it" not in r.output and f"still charged: {second}" in r.output
    assert _states(db, first, second) == [["rejected"], []]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["review", "{cA}", "--by", "x"], "exactly one of --confirm or --reject"),
        (["review", "{cA}", "--confirm", "--reject", "--by", "x"], "exactly one of --confirm or --reject"),
        (["review", "0123456789abcdef", "--reject", "--by", "x"], "no finding"),
        (["review", "{cA}", "--reject"], "--by is required"),
        (["appeal", "answer", "7", "--by", "qa", "--note", "n"], "no appeal #7"),
        (["appeal", "rule", str(2**64), "--uphold", "--by", "b", "--note", "n"], f"no appeal #{2**64}"),
        (["appeal", "open", "{cA}", "--agent", "阿杰"], "--reason is required"),
        (["export", "--date", "yesterday", "--out", "x"], "not a date"),
        (["export", "--date", "2026-01-01", "--out", "x"], "nothing stored for 2026-01-01"),
        (["export", "--period", "2026-10", "--out", "x"], "nothing stored for 2026-10"),
        (["export", "--period", "Nov", "--out", "x"], "write a month as 2026-11"),
        (["export", "--out", "x"], "one of --date D, --period P or --from D --to D"),
        (["export", "--date", DAY, "--period", "2026-11", "--out", "x"], "one of --date D, --period P"),
        (["export", "--from", DAY, "--out", "x"], "--from and --to go together"),
        (["export", "--from", "2026-11-25", "--to", DAY, "--out", "x"], f"is after --to {DAY}: swap them"),
        (
            ["export", "--period", "0001-W01", "--out", "x"],
            "--period '0001-W01' is outside the years qc accepts",
        ),
    ],
    ids=[
        "no-decision",
        "both-decisions",
        "unknown-finding",
        "no-reviewer",
        "unknown-appeal",
        "appeal-number-past-64-bits",
        "no-reason",
        "bad-date",
        "empty-day",
        "empty-period",
        "bad-period",
        "no-window",
        "two-windows",
        "from-without-to",
        "from-after-to",
        "period-out-of-years",
    ],
)
def test_usage_errors_exit_2_with_a_clear_message(day, args, message):
    ids, db, _ = day
    r = run(*[a.format(**ids) for a in args], *db)
    assert r.exit_code == 2
    assert message in r.output


def test_export_a_period_writes_the_pooled_rows_and_the_daily_view(day):
    _, db, tmp = day
    r = run("export", "--period", "2026-11", "--out", tmp / "month", *db)
    assert r.exit_code == 0, r.output
    month = json.loads((tmp / "month" / "agents.json").read_text(encoding="utf-8"))
    daily = json.loads((tmp / "month" / "agents_daily.json").read_text(encoding="utf-8"))
    assert [r["date"] for r in month] == ["2026-11", "2026-11"]
    assert [r["date"] for r in daily] == [DAY, DAY]
    assert [r["total_points"] for r in month] == [r["total_points"] for r in daily]  # one day stored
    assert (tmp / "month" / "deductions_daily.jsonl").exists()
    # the printed table: 服务态度 points and score, then the other items, then the total
    assert "服务态度" in r.stderr and r.stderr.index("服务态度") < r.stderr.index("total")
    r = run("export", "--from", DAY, "--to", "2026-11-30", "--out", tmp / "range", *db)
    assert r.exit_code == 0, r.output
    ranged = json.loads((tmp / "range" / "agents.json").read_text(encoding="utf-8"))
    assert {r["date"] for r in ranged} == {f"{DAY}~2026-11-30"}
    # a day exported into the month's folder leaves no daily view or orphan list of an earlier export
    (tmp / "month" / "orphaned_decisions.jsonl").write_text('{"finding_id": "x"}\n', encoding="utf-8")
    assert run("export", "--date", DAY, "--out", tmp / "month", *db).exit_code == 0
    assert sorted(p.name for p in (tmp / "month").iterdir()) == [
        "agents.csv",
        "agents.json",
        "agents.xlsx",
        "deductions.jsonl",
        "export.json",
    ]
    record = json.loads((tmp / "month" / "export.json").read_text(encoding="utf-8"))
    assert record["window"] == {"label": DAY, "first": DAY, "last": DAY, "kind": "day"}
    assert record["scorecard"]["name"] == "seed-000" and record["inspected_with"][0]["name"] == "seed-000"
    # An inspection into an export's folder leaves none of the export's own files: its daily view
    # beside the new agents table gave one agent and day two figures (audit 153 M3).
    assert run("export", "--period", "2026-11", "--out", tmp / "month", *db).exit_code == 0
    (tmp / "month" / "orphaned_decisions.jsonl").write_text('{"finding_id": "x"}\n', encoding="utf-8")
    (tmp / "month" / "notes.txt").write_text("a QA lead's own file", encoding="utf-8")
    assert run("inspect", tmp / "in", "--out", tmp / "month", "-q").exit_code == 0
    assert sorted(p.name for p in (tmp / "month").iterdir()) == [
        "agents.csv",
        "agents.json",
        "agents.xlsx",
        "conversations.jsonl",
        "deductions.jsonl",
        "findings.jsonl",
        "notes.txt",
        "rejects.jsonl",
        "run.json",
    ]


def test_rejecting_a_slow_reply_says_nothing_of_the_messages_verdict(day):
    """cA's 爱买不买 came 90 s after the question: its slow reply backs no verdict, the phrase does."""
    _, db, tmp = day
    rows = [
        json.loads(line) for line in (tmp / "out" / "findings.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    slow = next(f["id"] for f in rows if f["conversation_id"] == "cA" and f["kind"] == "slow_response")
    r = run("review", slow, "--reject", "--by", "张主管", "--note", "system lag", *db)
    assert r.exit_code == 0 and "still charged" not in r.output


def test_export_counts_only_the_periods_rejected_findings(tmp_path):
    later = {
        "conversation_id": "cN",
        "shop": "测试店",
        "messages": [
            {
                "role": "customer",
                "sender": "buyer8",
                "timestamp": "2026-11-25T10:00:00+08:00",
                "text": "能便宜吗",
            },
            {
                "role": "agent",
                "sender": "测试店:阿杰",
                "timestamp": "2026-11-25T10:00:20+08:00",
                "text": "爱买不买",
            },
        ],
    }
    from review_day import CONVERSATIONS

    ids = phrase_ids(inspect_day(tmp_path, conversations=[*CONVERSATIONS, later]))
    db = ["--db", str(tmp_path / "qc.sqlite")]
    assert run("review", ids["cN"], "--reject", "--by", "张主管", "--note", "熟客", *db).exit_code == 0
    r = run("export", "--date", DAY, "--out", tmp_path / "day", *db)
    assert r.exit_code == 0 and "0 rejected findings not charged" in r.stderr
    r = run("export", "--date", "2026-11-25", "--out", tmp_path / "next", *db)
    assert r.exit_code == 0 and "1 rejected finding not charged" in r.stderr


def test_scoring_a_store_with_another_day_rule_or_limit_is_refused_until_reinspected(day, tmp_path):
    _, db, _ = day
    shop = tmp_path / "shop.toml"
    shop.write_text("[items.average_response]\nthreshold = 25\n", encoding="utf-8")
    r = run("export", "--date", DAY, "--out", tmp_path / "x", "--scorecard", shop, *db)
    assert r.exit_code == 2
    assert "slow_response over 32 s" in r.output and "slow_response over 25 s" in r.output
    assert "inspect those days again with this scorecard" in r.output
    assert "Traceback" not in r.output
    assert run("flagged", "--date", DAY, "--scorecard", shop, *db).exit_code == 2


def test_appeal_commands_open_answer_rule_and_refuse_invalid_steps(day):
    ids, db, _ = day
    r = run("appeal", "open", ids["cB"], "--agent", "小美", "--reason", "sold out, said so before", *db)
    assert r.exit_code == 0, r.output
    appeal_id = r.stdout.strip()
    r = run("appeal", "rule", appeal_id, "--overturn", "--by", "boss", *db)
    assert r.exit_code == 2 and "is open, cannot rule" in r.output
    assert run("appeal", "answer", appeal_id, "--by", "qa", "--note", "looked", *db).exit_code == 0
    assert (
        run("appeal", "rule", appeal_id, "--overturn", "--by", "boss", "--note", "fair", *db).exit_code == 0
    )
    r = run("appeal", "rule", appeal_id, "--uphold", "--by", "boss", "--note", "no", *db)
    assert r.exit_code == 2 and "is overturned, cannot rule" in r.output
    listed = [json.loads(line) for line in run("appeal", "list", *db).stdout.splitlines()]
    assert [(a["finding_id"], a["state"]) for a in listed] == [(ids["cB"], "overturned")]


def test_show_highlights_findings_and_masks_pii(day):
    ids, db, _ = day
    r = run("show", "cA", "--no-mood", *db)
    assert r.exit_code == 0, r.output
    assert "爱买不买" in r.stdout and ids["cA"] in r.stdout and "-5 pts" in r.stdout
    assert "slow reply 90s" in r.stdout  # 10:00:00 → 10:01:30, above the card's 32 s
    # …as a slow_response finding of its own, worth 0 here: 阿杰 has 3 timed turns that day
    assert "slow_response 0 pts" in r.stdout
    assert PHONE in r.stdout
    masked = run("show", "cA", "--no-mood", "--mask-pii", *db)
    assert PHONE not in masked.stdout and ORDER not in masked.stdout and "[电话]" in masked.stdout
    assert run("show", "nope", "--no-mood", *db).exit_code == 2


def test_show_says_who_decided_a_finding_when_and_why(day):
    """qc show printed "review rejected" alone: a supervisor coaching from it could not see who
    overturned the machine, or why (audit 76 B2)."""
    ids, db, _ = day
    note = f"熟客开玩笑，电话{PHONE}"
    assert run("review", ids["cA"], "--reject", "--by", "qa", "--note", note, *db).exit_code == 0
    r = run("show", "cA", "--no-mood", "--explain", *db)  # a rejected finding charges nothing: --explain
    line = next(x for x in r.stdout.splitlines() if "rejected by qa at 20" in x)
    assert line.strip().endswith(f": {note}")
    # the finding's own line says a review rejected it, not that its context did (audit 97 #5)
    assert f"· rejected · review rejected · id {ids['cA']}" in r.stdout and "suppressed" not in r.stdout
    masked = run("show", "cA", "--no-mood", "--explain", "--mask-pii", *db).stdout
    assert "rejected by qa at" in masked and PHONE not in masked and "熟客开玩笑，电话[电话]" in masked
    assert run("review", ids["cB"], "--confirm", "--by", "qa", *db).exit_code == 0
    shown = run("show", "cB", "--no-mood", *db).stdout
    assert "confirmed by qa at 20" in shown and "rejected by" not in shown


@pytest.mark.slow
def test_show_prints_the_buyer_mood_trend(day):
    _, db, _ = day
    r = run("show", "cA", *db)
    assert r.exit_code == 0, r.output
    assert "buyer mood:" in r.stdout and "trend" in r.stdout


def test_confirming_a_held_finding_says_it_now_costs_its_points(day):
    ids, db, tmp = day
    card = tmp / "queue.toml"
    card.write_text('[findings]\nreview_only = ["forbidden_phrase"]\n', encoding="utf-8")
    r = run("review", ids["cB"], "--confirm", "--by", "质检小王", "--scorecard", card, *db)
    assert r.exit_code == 0, r.output
    assert "held for review (待复核): confirmed, it costs its points from now on" in r.output
    r = run("export", "--date", DAY, "--out", tmp / "exp", "--scorecard", card, *db)
    rows = json.loads((tmp / "exp" / "agents.json").read_text(encoding="utf-8"))
    assert next(x for x in rows if x["agent"] == "测试店:小美")["service_attitude_points"] == -1
    r = run("review", ids["cA"], "--confirm", "--by", "质检小王", *db)  # the default card charges it anyway
    assert r.exit_code == 0 and "held for review" not in r.output
    # Charged now, the agent may appeal it (a held finding costs nothing, so it took no appeal).
    r = run(
        "appeal", "open", ids["cB"], "--agent", "小美", "--reason", "I did answer", "--scorecard", card, *db
    )
    assert r.exit_code == 0, r.output


def test_an_appeal_on_a_held_finding_rejected_in_review_gives_that_reason(day):
    """A held finding a reviewer rejected was refused an appeal as "held for review" (audit 78 B4)."""
    ids, db, tmp = day
    card = tmp / "queue.toml"
    card.write_text('[findings]\nreview_only = ["forbidden_phrase"]\n', encoding="utf-8")
    assert run("review", ids["cB"], "--reject", "--by", "质检小王", "--note", "fine", *db).exit_code == 0
    r = run("appeal", "open", ids["cB"], "--agent", "小美", "--reason", "x", "--scorecard", card, *db)
    assert r.exit_code == 2 and "was rejected in review" in r.output and "held for review" not in r.output


def test_the_still_charged_advice_sends_a_finding_an_appeal_decides_to_that_appeal(tmp_path):
    """The advice said "reject it too (qc review ID --reject)" of a finding whose upheld appeal made
    any review be refused (audit 101 A3): it names the appeal to reopen instead."""
    first, second, db = _two_phrases_on_one_message(tmp_path)
    own = _appeal_to_ruling(second, db)
    assert run("appeal", "rule", own, "--uphold", "--by", "张主管", "--note", "确有此语", *db).exit_code == 0
    r = run("review", first, "--reject", "--by", "质检小王", "--note", "引用", *db)
    assert r.exit_code == 0, r.output
    assert f"{second} is decided by appeal #{own}: its ruling, or a supervisor reopening" in r.output
    assert "qc review ID --reject" not in r.output


def _sheet(path):
    """A review sheet CSV as {finding id: {key: cell}}."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))[1:]
    return {r[0]: dict(zip(REVIEW_COLUMNS, r, strict=True)) for r in rows}


def test_the_review_sheet_shows_the_appraisal_periods_stakes_beside_the_days(tmp_path):
    """A reviewer working day by day saw 0 for a slow reply the month charges, and −6 for one it
    does not (audit 97 #6): 考核期扣分 is the month's stake, the one payroll pays on."""
    from review_day import CONVERSATIONS, SHOP

    def m(role, who, day, t, text):
        return {"role": role, "sender": who, "timestamp": f"2026-11-{day}T{t}+08:00", "text": text}

    quick = [  # 阿杰 answers three buyers at once on the 25th: his month's average is fine
        {
            "conversation_id": f"q{i}",
            "shop": SHOP,
            "messages": [
                m("customer", f"b{i}", "25", f"1{i}:00:00", "在吗"),
                m("agent", f"{SHOP}:阿杰", "25", f"1{i}:00:05", "在的亲，请说"),
            ],
        }
        for i in range(3)
    ]
    slow = {  # 小美's one turn of the 25th takes 140 s: too few turns for the day, not for the month
        "conversation_id": "s1",
        "shop": SHOP,
        "messages": [
            m("customer", "b9", "25", "15:00:00", "几号发货"),
            m("agent", f"{SHOP}:小美", "25", "15:02:20", "明天就发哦"),
        ],
    }
    inspect_day(tmp_path, conversations=[*CONVERSATIONS, *quick, slow])
    card = tmp_path / "card.toml"
    card.write_text("[items.average_response]\nmin_sample = 3\n", encoding="utf-8")
    db = ["--db", str(tmp_path / "qc.sqlite"), "--scorecard", str(card)]
    for args, name in (
        (["--date", DAY], "d24.csv"),
        (["--date", "2026-11-25"], "d25.csv"),
        (["--period", "2026-11"], "month.csv"),
        (["--from", DAY, "--to", "2026-11-25"], "range.csv"),
    ):
        r = run("review", "export", *args, "--out", tmp_path / name, *db)
        assert r.exit_code == 0, r.output
    assert run("export", "--period", "2026-11", "--out", tmp_path / "exp", *db).exit_code == 0
    lines = (tmp_path / "exp" / "deductions.jsonl").read_text(encoding="utf-8").splitlines()
    payroll = {}  # finding id → the month's points of the deduction it stands behind
    for d in map(json.loads, lines):
        for fid in d["finding_ids"][:1]:  # a message's verdict: its first finding carries it
            payroll[fid] = d["points"]
    d24, d25, month = (_sheet(tmp_path / n) for n in ("d24.csv", "d25.csv", "month.csv"))
    jie = next(k for k, r in d24.items() if r["kind"] == "slow_response")
    mei = next(k for k, r in d25.items() if r["kind"] == "slow_response")
    # the 24th charges 阿杰's 90 s reply (3 turns, 35 s on average); the month does not (20 s)
    assert (d24[jie]["points"], d24[jie]["period"], d24[jie]["period_points"]) == ("-6", "2026-11", "0")
    assert jie not in payroll
    # 小美's 140 s reply is free on the 25th (one turn) and costs what the month charges
    assert (d25[mei]["points"], d25[mei]["period_points"]) == ("0", str(payroll[mei]))
    assert payroll[mei] < 0 and "样本不足" in d25[mei]["why_free"]
    # a month's sheet is scored as the month: both columns say what payroll pays, and add up to it
    assert month.keys() == d24.keys() | d25.keys()
    assert all(r["points"] == r["period_points"] for r in month.values())
    assert {k: float(r["points"]) for k, r in month.items() if float(r["points"])} == payroll
    assert _sheet(tmp_path / "range.csv").keys() == month.keys()
    # the sheet the period wrote imports like a day's: QA rejects 小美's slow reply in it
    with (tmp_path / "month.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    keys = [k for k, _ in REVIEW_HEADERS]
    for row in rows[1:]:
        if row[0] == mei:
            row[keys.index("decision")], row[keys.index("note")] = "驳回", "系统卡顿"
    with (tmp_path / "month.csv").open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(rows)
    r = run("review", "import", tmp_path / "month.csv", "--by", "质检小王", db[0], db[1])
    assert r.exit_code == 0, r.output
    (entry,) = [json.loads(x) for x in run("review", "log", mei, db[0], db[1]).stdout.splitlines()]
    assert (entry["actor"], entry["state_after"], entry["note"]) == ("质检小王", "rejected", "系统卡顿")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "one of --date D, --period P or --from D --to D"),
        (["--date", DAY, "--period", "2026-11"], "one of --date D, --period P"),
        (["--from", DAY], "--from and --to go together"),
        (["--period", "November"], "write a month as 2026-11"),
    ],
)
def test_a_review_sheet_takes_exactly_one_window(day, args, message):
    _, db, tmp = day
    r = run("review", "export", *args, "--out", tmp / "sheet.csv", *db)
    assert r.exit_code == 2 and message in r.output
    assert not (tmp / "sheet.csv").exists()


def test_a_sheet_of_the_chats_without_times_has_no_appraisal_period(tmp_path):
    """Chats without times belong to no day and no period: their sheet (`--date undated`, as
    `qc export` takes it) leaves 考核期 empty rather than guessing a month."""
    undated = {
        "conversation_id": "cU",
        "shop": "测试店",
        "messages": [
            {"role": "customer", "sender": "buyer7", "text": "能便宜吗"},
            {"role": "agent", "sender": "测试店:阿杰", "text": "爱买不买"},
        ],
    }
    inspect_day(tmp_path, conversations=[undated])
    db = ["--db", str(tmp_path / "qc.sqlite")]
    r = run("review", "export", "--date", "undated", "--out", tmp_path / "u.csv", *db)
    assert r.exit_code == 0, r.output
    rows = _sheet(tmp_path / "u.csv").values()
    charged = [r for r in rows if r["points"] != "0"]
    assert [(r["date"], r["points"], r["period"], r["period_points"]) for r in charged] == [
        ("undated", "-5", "", "")
    ]


def test_a_day_sheet_is_written_when_another_day_of_its_month_was_saved_under_other_limits(tmp_path):
    """The 考核期 columns score the whole month: a day stored under another evidence limit refused
    the day's sheet for a while, though qc export --date of that day works (audit 107 M1)."""
    from review_day import CONVERSATIONS, SHOP

    later = {
        "conversation_id": "cL",
        "shop": SHOP,
        "messages": [
            {"role": "customer", "sender": "b9", "timestamp": "2026-11-26T10:00:00+08:00", "text": "在吗"},
            {
                "role": "agent",
                "sender": f"{SHOP}:小美",
                "timestamp": "2026-11-26T10:01:00+08:00",
                "text": "在的",
            },
        ],
    }
    inspect_day(tmp_path, conversations=CONVERSATIONS)
    strict = tmp_path / "strict.toml"
    strict.write_text("[items.average_response]\nthreshold = 25\n", encoding="utf-8")
    db = ["--db", str(tmp_path / "qc.sqlite")]
    day2 = tmp_path / "in2" / "d.jsonl"
    day2.parent.mkdir()
    day2.write_text(json.dumps(later, ensure_ascii=False) + "\n", encoding="utf-8")
    # The store holds days under two evidence limits, as a store re-inspected in part may. The run
    # saves and scores its day; only the month so far cannot be scored, which it says (it was an
    # exit 2 after the save, with the day saved unsaid).
    r = run("inspect", day2, "--out", tmp_path / "o2", *db, "--scorecard", strict)
    assert r.exit_code == 0 and "the appraisal period so far is not scored" in r.stderr
    assert (tmp_path / "o2" / "agents.json").exists()
    assert (
        run("export", "--date", "2026-11-26", "--out", tmp_path / "e", *db, "--scorecard", strict).exit_code
        == 0
    )
    r = run("review", "export", "--date", DAY, "--out", tmp_path / "s.csv", *db)
    assert r.exit_code == 0, r.output
    assert "the 考核期 columns are empty" in r.stderr
    rows = _sheet(tmp_path / "s.csv").values()
    assert rows and all(row["period"] == "" and row["period_points"] == "" for row in rows)
    assert any(row["points"] not in ("", "0") for row in rows)  # the day's own stakes are there


def test_an_export_refused_for_its_card_names_what_differs_and_warns_of_nothing_first(day):
    """The refusal came after warnings about numbers never written, and set two whole bases side
    by side for the QA lead to diff (audit 153 L5)."""
    _, db, tmp = day
    card = tmp / "no-speed.toml"
    card.write_text("[items.average_response]\nenabled = false\n", encoding="utf-8")
    r = run("export", "--date", DAY, "--out", tmp / "x", "--scorecard", card, *db)
    assert r.exit_code == 2 and not (tmp / "x").exists()
    assert "were saved another way than scorecard" in r.stderr
    assert (
        "(saved with slow_response over 32 s, this card has no slow_response (its item disabled))" in r.stderr
    )
    assert "warning" not in r.stderr


def test_an_inspection_removes_only_a_qc_exports_own_files_and_never_its_input(day):
    """Removing every file named like an export's deleted a user's own export.json, and a chat dump
    of that name inspected into its own folder (audit 155 H1, H2); what goes is said."""
    _, db, tmp = day
    own = tmp / "own"
    own.mkdir()
    (own / "export.json").write_text('{"mine": 1}', encoding="utf-8")
    (own / "agents_daily.csv").write_text("x\n", encoding="utf-8")
    assert run("inspect", tmp / "in", "--out", own, "-q").exit_code == 0
    assert (own / "export.json").read_text(encoding="utf-8") == '{"mine": 1}' and (
        own / "agents_daily.csv"
    ).exists()
    assert run("export", "--period", "2026-11", "--out", tmp / "month", *db).exit_code == 0
    dump = tmp / "month" / "export.json"
    dump.write_text(
        json.dumps(
            [
                json.loads(line)
                for line in next((tmp / "in").iterdir()).read_text(encoding="utf-8").splitlines()
            ],
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    assert run("inspect", dump, "--out", tmp / "month", "-q").exit_code == 0
    assert dump.exists()  # not qc's export record: a chat dump, and the run's own input
    assert run("export", "--period", "2026-11", "--out", tmp / "again", *db).exit_code == 0
    r = run("inspect", tmp / "in", "--out", tmp / "again")
    assert r.exit_code == 0 and "an earlier qc export's own files were removed: " in r.stderr
    assert not (tmp / "again" / "export.json").exists() and not (tmp / "again" / "agents_daily.json").exists()


def test_an_export_into_a_folder_holding_an_inspection_is_refused_and_changes_nothing(day):
    """The export replaced the agents tables under the inspection's run.json ("complete", its
    counts) and beside its findings: one folder saying two runs (audit 162 M1)."""
    _, db, tmp = day
    out = tmp / "out"
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert "run.json" in before and "findings.jsonl" in before
    r = run("export", "--date", DAY, "--out", out, *db)
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert f"{out} holds a qc inspect run (run.json, findings.jsonl …)" in r.stderr
    assert f"write it to a folder of its own, e.g. {tmp / 'out-export'}" in r.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    assert run("export", "--date", DAY, "--out", tmp / "out-export", *db).exit_code == 0
    # a run.json of another program's is no run (audit 163 L1) ...
    own = tmp / "own"
    own.mkdir()
    (own / "run.json").write_text('{"complete": false, "job": "nightly etl"}', encoding="utf-8")
    assert run("export", "--date", DAY, "--out", own, *db).exit_code == 0
    # ... and a run stopped while it was published (its tables, run.json not yet written) is one
    stopped = tmp / "stopped"
    stopped.mkdir()
    (stopped / "findings.jsonl").write_bytes((out / "findings.jsonl").read_bytes())
    assert run("export", "--date", DAY, "--out", stopped, *db).exit_code == 2


def test_an_export_into_the_current_folder_holding_an_inspection_is_refused_not_a_crash(day, monkeypatch):
    """`qc export --out .` in an inspection's folder was internal error 70 (audit 165 H3)."""
    _, db, tmp = day
    monkeypatch.chdir(tmp / "out")
    r = run("export", "--date", DAY, "--out", ".", *db)
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert f"e.g. {tmp / 'out-export'}" in r.stderr


def test_a_confirmed_held_verdict_is_one_of_its_messages_charges(tmp_path):
    """On a card that holds the findings (as the bundled card holds the classifier's), a confirmed
    one charges like any other: overturning the reply's other finding --with-message left it
    charging, unsaid (audit 167 H1); confirming a finding whose message is already charged as
    severely said it costs its points from now on (L1); the sheet gave a threshold of inf as the
    reason it costs nothing (M1)."""
    unknown, conflict, db, held = _held_phrases(tmp_path)
    r = run("review", conflict, "--confirm", "--by", "质检小王", *held)
    assert "confirmed, it costs its points from now on" in r.output
    r = run("review", unknown, "--confirm", "--by", "质检小王", *held)
    assert r.exit_code == 0 and "costs its points from now on" not in r.output
    assert f"its message was already charged by {conflict} (FP-0014)" in r.output
    assert "the scores do not change" in r.output
    assert run("review", "export", "--date", DAY, "--out", tmp_path / "s.csv", *held).exit_code == 0
    why = _sheet(tmp_path / "s.csv")[unknown]["why_free"]
    assert why.startswith("同一条消息已按 与买家冲突") and "inf" not in why
    # the confirmed conflict stands behind the reply: a reject of the other says so ...
    r = run("review", unknown, "--reject", "--overturn", "--by", "张主管", "--note", "引用", *held)
    assert f"warning: its message is still charged: {conflict}" in r.output
    # ... and an overturn with the message takes it along
    r = run("review", unknown, "--confirm", "--overturn", "--by", "质检小王", "--note", "再看", *held)
    assert r.exit_code == 0, r.output
    appeal = run("appeal", "open", unknown, "--agent", "阿杰", "--reason", "引用", *held).stdout.strip()
    assert run("appeal", "answer", appeal, "--by", "质检小王", "--note", "看过", *db).exit_code == 0
    r = run("appeal", "rule", appeal, "--overturn", "--with-message", "--by", "boss", "--note", "x", *held)
    assert r.exit_code == 0 and f"the same message's {conflict} rejected with it" in r.output, r.output
    r = run("export", "--date", DAY, "--out", tmp_path / "exp", *held)
    rows = json.loads((tmp_path / "exp" / "agents.json").read_text(encoding="utf-8"))
    # the whole reply costs nothing now; cA's 爱买不买 is held, unconfirmed
    assert next(x for x in rows if x["agent"] == "测试店:阿杰")["service_attitude_points"] == 0


def test_a_decision_made_on_the_command_line_records_the_login_that_ran_it(day):
    """`--by` and a sheet's 复核人 are typed: anyone could name a supervisor. The login that ran qc
    is recorded beside the name, in the decision's source (audit 168 M1)."""
    from qc.supervise.people import current_user

    ids, db, _ = day
    assert run("review", ids["cA"], "--reject", "--by", "张主管", "--note", "熟客", *db).exit_code == 0
    appeal = run("appeal", "open", ids["cB"], "--agent", "小美", "--reason", "答了", *db).stdout.strip()
    log = [json.loads(x) for x in run("review", "log", ids["cA"], *db).stdout.splitlines()]
    assert [(x["actor"], x["source"]) for x in log] == [("张主管", f"cli · login {current_user()}")]
    (row,) = [json.loads(x) for x in run("appeal", "list", *db).stdout.splitlines()]
    assert row["id"] == int(appeal)


def test_a_held_finding_on_a_reply_cleared_with_its_message_is_closed_with_the_ruling(tmp_path):
    """An overturn --with-message clears the whole reply: a finding of it held for review, which
    the ruling could not reject (the store has no way back to held on a reopen), was confirmed
    afterwards and charged the reply the agent had won, unsaid (audit 169 F6). It is closed with
    the ruling now: no confirm, no appeal, not in the sheet's or the queue's work, until a
    supervisor reopens the appeal."""
    from qc.store.database import open_store
    from qc.supervise.people import list_people
    from qc.supervise.queue import build_queue, next_pending

    unknown, conflict, db, held = _held_phrases(tmp_path)
    card = held[-1]
    assert run("review", unknown, "--confirm", "--by", "质检小王", *held).exit_code == 0
    appeal = run("appeal", "open", unknown, "--agent", "阿杰", "--reason", "引用", *held).stdout.strip()
    assert run("appeal", "answer", appeal, "--by", "质检小王", "--note", "看过", *db).exit_code == 0
    r = run("appeal", "rule", appeal, "--overturn", "--with-message", "--by", "boss", "--note", "玩笑", *held)
    assert r.exit_code == 0 and f"the same message's {conflict}, held for review, closed with it" in r.output
    log = [json.loads(x) for x in run("review", "log", conflict, *db).stdout.splitlines()]
    assert [(x["action"], x["actor"], x["note"], x["state_after"]) for x in log] == [
        ("appeal_close", "boss", "玩笑", "pending")
    ]
    (listed,) = [json.loads(x) for x in run("appeal", "list", *db).stdout.splitlines()]
    assert listed["closed_with"] == [conflict]  # audit 173 L2
    # a confirm would charge the cleared reply: refused, naming the ruling and the way out
    r = run("review", conflict, "--confirm", "--by", "质检小王", *held)
    assert r.exit_code != 0 and f"appeal #{appeal} on finding {unknown}" in r.output
    assert f"qc appeal reopen {appeal}" in r.output
    r = run("appeal", "open", conflict, "--agent", "阿杰", "--reason", "x", *held)
    assert r.exit_code != 0 and "nothing to appeal" in r.output
    assert run("review", "export", "--date", DAY, "--out", tmp_path / "s.csv", *held).exit_code == 0
    assert "closed with it" in _sheet(tmp_path / "s.csv")[conflict]["appeal"]
    r = run("export", "--date", DAY, "--out", tmp_path / "exp", *held)
    rows = json.loads((tmp_path / "exp" / "agents.json").read_text(encoding="utf-8"))
    assert next(x for x in rows if x["agent"] == "测试店:阿杰")["service_attitude_points"] == 0
    with open_store(tmp_path / "qc.sqlite") as store:
        from qc.scoring.card import load_scorecard

        reviewer = next(p for p in list_people(store) if p.name == "质检小王")
        queue = build_queue(store, load_scorecard(card), DAY, DAY)
        assert any(i.finding_id == conflict for i in queue)
        served = []
        while (item := next_pending(store, queue, reviewer, served)[0]) is not None:
            served.append(item.finding_id)
        assert conflict not in served
    # reopened, the held finding is open to review again, still held (never decided)
    assert run("appeal", "reopen", appeal, "--by", "张主管", "--note", "再看", *db).exit_code == 0
    (listed,) = [json.loads(x) for x in run("appeal", "list", *db).stdout.splitlines()]
    assert listed["closed_with"] == []  # no longer closed (audit 174 M3)
    r = run("review", conflict, "--confirm", "--by", "质检小王", *held)
    assert r.exit_code == 0 and "costs its points from now on" in r.output, r.output


def test_an_uphold_after_a_reopen_confirms_again_a_held_verdict_the_overturn_rejected(tmp_path):
    """A reviewer confirmed a held verdict; an overturn --with-message rejected it along; reopened
    and upheld, the appeal confirmed the appealed phrase again but left the verdict rejected, as a
    rejected held finding no longer counted among the message's charges (audit 171 H1)."""
    unknown, conflict, db, held = _held_phrases(tmp_path)

    def points():
        assert run("export", "--date", DAY, "--out", tmp_path / "exp", *held).exit_code == 0
        rows = json.loads((tmp_path / "exp" / "agents.json").read_text(encoding="utf-8"))
        return next(x for x in rows if x["agent"] == "测试店:阿杰")["service_attitude_points"]

    assert run("review", conflict, "--confirm", "--by", "质检小王", *held).exit_code == 0
    charged = points()
    assert charged < 0
    assert run("review", unknown, "--confirm", "--by", "质检小王", *held).exit_code == 0
    appeal = run("appeal", "open", unknown, "--agent", "阿杰", "--reason", "引用", *held).stdout.strip()
    assert run("appeal", "answer", appeal, "--by", "质检小王", "--note", "看过", *db).exit_code == 0
    r = run("appeal", "rule", appeal, "--overturn", "--with-message", "--by", "boss", "--note", "x", *held)
    assert r.exit_code == 0 and f"the same message's {conflict} rejected with it" in r.output, r.output
    assert points() == 0
    assert run("appeal", "reopen", appeal, "--by", "张主管", "--note", "再看", *db).exit_code == 0
    r = run("appeal", "rule", appeal, "--uphold", "--by", "boss", "--note", "不是引用", *held)
    assert r.exit_code == 0 and f"the same message's {conflict} confirmed with it" in r.output, r.output
    log = [json.loads(x) for x in run("review", "log", conflict, *db).stdout.splitlines()]
    assert [x["state_after"] for x in log] == ["confirmed", "rejected", "confirmed"]
    assert points() == charged


def test_a_phrase_whose_reply_is_charged_more_severely_says_so_in_show_and_report(tmp_path):
    """我不知道 implies impatience, 爱买不买 conflict: the reply is charged once, as conflict. The
    phrase read 计为「不够耐心」 beside its 0 points in qc show and the report, while the review sheet
    said 同一条消息已按 与买家冲突 扣分 (audit 171 L4); a confirm that adds nothing named 我不知道's
    finding, not the one charging the reply."""
    _, _, db = _two_phrases_on_one_message(tmp_path)
    from qc.store.database import open_store

    with open_store(tmp_path / "qc.sqlite") as store:
        entry = {s.finding.entry: s.id for s in store.findings(conversation_ids=["cT"])}
    r = run("show", "cT", *db)
    assert r.exit_code == 0, r.output
    block = r.output.split(f"id {entry['FP-0007']}", 1)[1].split("▲", 1)[0]
    assert "同一条消息已按「与买家冲突」扣分" in block
    block = r.output.split(f"id {entry['FP-0014']}", 1)[1].split("▲", 1)[0]
    assert "同一条消息已按" not in block
    r = run("report", "--from", DAY, "--to", DAY, "--agent", "阿杰", "--out", tmp_path / "rep.html", *db)
    assert r.exit_code == 0, r.output
    page = (tmp_path / "rep.html").read_text(encoding="utf-8")
    assert page.count("同一条消息已按「与买家冲突」扣分") == 1


def test_a_confirm_that_adds_nothing_names_the_finding_the_reply_is_charged_by(tmp_path):
    """Held by the card, 我不知道 (impatience) and 爱买不买 (conflict) confirmed: confirming 自己看
    (impatience) adds nothing, and the message named 我不知道's finding, which costs 0, not the
    conflict the reply is charged for (audit 171 L4)."""
    from review_day import CONVERSATIONS, SHOP, msg

    from qc.store.database import open_store

    three = {
        "conversation_id": "cU",
        "shop": SHOP,
        "messages": [
            msg("customer", "buyer9", "16:00:00", "这个怎么装"),
            msg("agent", f"{SHOP}:阿杰", "16:00:05", "我不知道，自己看说明书，爱买不买"),
        ],
    }
    # a phrase that implies no verdict beside a charged one says nothing of the verdict (audit 173 M3)
    mute = {
        "conversation_id": "cV",
        "shop": SHOP,
        "messages": [
            msg("customer", "buyer9", "16:10:00", "还没发货吗"),
            msg("agent", f"{SHOP}:阿杰", "16:10:05", "无语，爱买不买"),
        ],
    }
    inspect_day(tmp_path, conversations=[*CONVERSATIONS, three, mute])
    with open_store(tmp_path / "qc.sqlite") as store:
        entry = {s.finding.entry: s.id for s in store.findings(conversation_ids=["cU"])}
    assert {"FP-0007", "FP-0010", "FP-0014"} <= set(entry)
    card = tmp_path / "held.toml"
    card.write_text('[findings]\nreview_only = ["forbidden_phrase"]\n', encoding="utf-8")
    held = ["--db", tmp_path / "qc.sqlite", "--scorecard", card]
    for first in ("FP-0007", "FP-0014"):
        assert run("review", entry[first], "--confirm", "--by", "质检小王", *held).exit_code == 0
    r = run("review", entry["FP-0010"], "--confirm", "--by", "质检小王", *held)
    assert f"its message was already charged by {entry['FP-0014']} (FP-0014)" in r.output, r.output
    shown = run("show", "cV", "--db", tmp_path / "qc.sqlite").output
    assert "FP-0016" in shown and "不指向服务态度的判定" in shown and "同一条消息已按" not in shown, shown
