"""People and roles (issue 17, item 4), through the CLI.

Reviews need a registered reviewer, rulings a supervisor who neither is the charged agent nor
reviewed the finding nor answered its appeal, appeals the charged agent or a supervisor for
them. A ruling is final until a supervisor reopens it. Every step is in the audit trail with
who, when (local time with its offset) and why.
"""

from __future__ import annotations

import json
import re

import pytest
from review_day import inspect_day
from typer.testing import CliRunner

from qc.cli import app

runner = (
    CliRunner(mix_stderr=False) if "mix_stderr" in CliRunner.__init__.__code__.co_varnames else CliRunner()
)


def run(*args):
    return runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "200"})


@pytest.fixture()
def day(tmp_path):
    """The review day in a store with nobody registered yet; finding ids by conversation."""
    report = inspect_day(tmp_path, people=False)
    return {f.conversation_id: f.id for f in report.findings}, ["--db", str(tmp_path / "qc.sqlite")]


def team(db):
    for args in (
        ["张主管", "--role", "supervisor"],
        ["李主管", "--role", "supervisor"],
        ["质检小王", "--role", "reviewer"],
        ["阿杰", "--role", "agent"],  # the agent id comes from the store: 测试店:阿杰
        ["小美", "--role", "agent", "--agent-id", "测试店：小美"],
    ):
        r = run("people", "add", *args, "--by", "admin", *db)
        assert r.exit_code == 0, r.stderr


def log(fid, db):
    r = run("review", "log", fid, *db)
    assert r.exit_code == 0, r.stderr
    return [json.loads(line) for line in r.stdout.splitlines()]


def test_a_store_without_people_refuses_reviews_with_the_fix(day):
    ids, db = day
    r = run("review", ids["cA"], "--reject", "--by", "张主管", "--note", "joke", *db)
    assert r.exit_code == 2
    assert "this store has no people yet" in r.stderr and "qc people add" in r.stderr
    r = run("appeal", "open", ids["cA"], "--agent", "阿杰", "--reason", "r", *db)
    assert r.exit_code == 2 and "qc people add" in r.stderr
    assert log(ids["cA"], db) == []


def test_people_add_list_remove(day):
    ids, db = day
    team(db)
    r = run("people", "list", "--format", "json", *db)
    people = {p["name"]: (p["role"], p["agent_id"]) for p in map(json.loads, r.stdout.splitlines())}
    assert people["阿杰"] == ("agent", "测试店:阿杰") and people["小美"] == ("agent", "测试店:小美")
    assert people["张主管"] == ("supervisor", None)
    r = run("people", "add", "张主管", "--role", "reviewer", *db)
    assert r.exit_code == 2 and "already registered as supervisor" in r.stderr
    r = run("people", "add", "路人", "--role", "boss", *db)
    assert r.exit_code == 2 and "--role 'boss' is unknown: use one of reviewer, supervisor, agent" in r.stderr
    r = run("people", "add", "木木", "--role", "agent", *db)
    assert r.exit_code == 2 and "names no agent in the store" in r.stderr and "--agent-id" in r.stderr
    for blank in ([], ["--note", " \u200b "]):  # nothing, or a note that shows nothing
        r = run("people", "remove", "质检小王", *blank, *db)
        assert r.exit_code == 2 and "--note is required: say why the person is removed" in r.stderr
    assert run("people", "remove", "质检小王", "--note", "left the team", *db).exit_code == 0
    r = run("review", ids["cA"], "--confirm", "--by", "质检小王", *db)
    assert r.exit_code == 2 and "质检小王 was removed on " in r.stderr  # a removed person can decide nothing
    r = run("people", "list", "--all", "--format", "json", *db)
    removed = next(p for p in map(json.loads, r.stdout.splitlines()) if p["name"] == "质检小王")
    assert removed["active"] is False and removed["removed_at"]
    actions = [(row["action"], row["actor"], row["note"]) for row in log("", db) if row["finding_id"] == ""]
    assert ("person_remove", removed["removed_by"], "left the team") in actions


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("\u200b", "invisible or control character U+200B at character 1"),
        ("张主管\u200b", "invisible or control character U+200B at character 4"),
        ("张\n主管", "invisible or control character U+000A at character 2"),
        ("张\x1b[31m主管", "invisible or control character U+001B at character 2"),
        ("张" * 101, "the name has 101 characters; use at most 100"),
        ("ＺＨＡＮＧ", "ＺＨＡＮＧ reads as zhang, who is registered (supervisor)"),
        ("Zhang", "Zhang reads as zhang, who is registered (supervisor)"),
    ],
    ids=[
        "zero-width-only",
        "zero-width-twin",
        "line-break",
        "escape",
        "too-long",
        "full-width-twin",
        "case-twin",
    ],
)
def test_a_name_that_shows_wrong_or_passes_for_another_is_refused(day, name, message):
    _, db = day
    assert run("people", "add", "zhang", "--role", "supervisor", *db).exit_code == 0
    r = run("people", "add", name, "--role", "reviewer", *db)
    assert r.exit_code == 2 and message in r.stderr
    names = [
        p["name"] for p in map(json.loads, run("people", "list", "--format", "json", *db).stdout.splitlines())
    ]
    assert names == ["zhang"]


def test_a_reviewer_named_like_an_agent_is_told_to_link_the_account(day):
    _, db = day
    r = run("people", "add", "阿杰", "--role", "reviewer", *db)
    assert r.exit_code == 0
    assert (
        "warning: 阿杰 is also the name of agent 测试店:阿杰" in r.stderr
        and "qc people bind 阿杰 测试店:阿杰" in r.stderr
    )
    r = run("people", "add", "小美", "--role", "supervisor", "--agent-id", "测试店:小美", *db)
    assert r.exit_code == 0 and "warning" not in r.stderr  # linked: nothing to say
    assert "warning" not in run("people", "add", "质检小王", "--role", "reviewer", *db).stderr


def test_roles_are_enforced_for_each_step(day):
    ids, db = day
    team(db)
    # an agent cannot review; nobody appeals a finding charged to someone else
    r = run("review", ids["cA"], "--confirm", "--by", "阿杰", *db)
    assert r.exit_code == 2 and "阿杰 is an agent; a review needs a reviewer or supervisor" in r.stderr
    r = run("appeal", "open", ids["cA"], "--agent", "小美", "--reason", "not me", *db)
    assert (
        r.exit_code == 2
        and "小美 was not charged with this finding: it is charged to 测试店:阿杰" in r.stderr
    )
    r = run("appeal", "open", ids["cA"], "--reason", "x", *db)
    assert r.exit_code == 2 and "--agent is required" in r.stderr and "--by SUPERVISOR" in r.stderr
    # one person confirms, answers the appeal … and may not also rule on it
    assert run("review", ids["cA"], "--confirm", "--by", "张主管", *db).exit_code == 0
    r = run("appeal", "open", ids["cA"], "--agent", "阿杰", "--reason", "the buyer joked first", *db)
    assert r.exit_code == 0, r.stderr
    appeal = r.stdout.strip()
    assert run("appeal", "answer", appeal, "--by", "张主管", "--note", "looked at it", *db).exit_code == 0
    r = run("appeal", "rule", appeal, "--overturn", "--by", "张主管", "--note", "joke", *db)
    assert r.exit_code == 2 and "张主管 reviewed finding" in r.stderr and "another supervisor" in r.stderr
    r = run("appeal", "rule", appeal, "--overturn", "--by", "李主管", *db)
    assert r.exit_code == 2 and "--note is required" in r.stderr
    assert (
        run("appeal", "rule", appeal, "--overturn", "--by", "李主管", "--note", "a joke", *db).exit_code == 0
    )
    # the list says when each step was taken, as the audit trail does
    listed = json.loads(run("appeal", "list", *db).stdout)
    stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d"
    assert all(re.fullmatch(stamp, listed[key]) for key in ("opened_at", "answered_at", "ruled_at")), listed
    assert listed["opened_at"] <= listed["answered_at"] <= listed["ruled_at"]


def test_an_agent_or_reviewer_cannot_add_or_remove_people(day):
    """qc people add 傀儡 --role supervisor --by 阿杰 passed: an agent registered a stand-in
    supervisor to rule their own appeal (audit 86 M3). Removing someone twice says when."""
    ids, db = day
    team(db)
    # by name, or by the account the agent chats under (audit 87 H2), or resetting a supervisor's
    # sign-in password to rule their own appeal in the workbench (audit 87 H1)
    for by in ("阿杰", "质检小王", "测试店:阿杰"):
        said = "people and their passwords are managed by a supervisor"
        r = run("people", "add", "傀儡", "--role", "supervisor", "--by", by, *db)
        assert r.exit_code == 2 and said in r.stderr, r.stderr
        r = run("people", "remove", "李主管", "--by", by, "--note", "x", *db)
        assert r.exit_code == 2 and said in r.stderr
        r = run("people", "password", "张主管", "--generate", "--by", by, *db)
        assert r.exit_code == 2 and said in r.stderr, r.stderr
    assert run("people", "password", "阿杰", "--generate", "--by", "阿杰", *db).exit_code == 0  # their own
    assert run("people", "add", "新质检", "--role", "reviewer", "--by", "张主管", *db).exit_code == 0
    assert run("people", "remove", "新质检", "--by", "张主管", "--note", "left", *db).exit_code == 0
    again = run("people", "remove", "新质检", "--by", "张主管", "--note", "left", *db)
    assert (
        again.exit_code == 2
        and "新质检 was already removed, on " in again.stderr
        and "by 张主管" in again.stderr
    )


def test_a_name_differing_only_in_width_or_case_points_to_the_registered_one(day):
    """With ＺＨＡＮＧ registered, --by zhang said "add them", and the add was refused as reading
    as ＺＨＡＮＧ: a dead end (audit 86 L4)."""
    ids, db = day
    assert run("people", "add", "ＺＨＡＮＧ", "--role", "reviewer", "--by", "admin", *db).exit_code == 0
    r = run("review", ids["cA"], "--reject", "--by", "zhang", "--note", "joke", *db)
    assert (
        r.exit_code == 2 and "but ＺＨＡＮＧ (reviewer) is" in r.stderr and "use --by ＺＨＡＮＧ" in r.stderr
    )
    r = run("review", ids["cA"], "--reject", "--by", "nobody", "--note", "joke", *db)
    assert "(reviewers or supervisors: ＺＨＡＮＧ (reviewer))" in r.stderr


def test_a_ruling_is_final_until_a_supervisor_reopens_it(day):
    ids, db = day
    team(db)
    fid = ids["cB"]  # charged to 测试店:小美
    r = run("appeal", "open", fid, "--by", "张主管", "--reason", "小美 is on leave; it was sold out", *db)
    assert r.exit_code == 0, r.stderr
    appeal = r.stdout.strip()
    # While it is pending, the appeal decides the finding: a review meanwhile was overturned by
    # the ruling, unsaid and unquoted (audit 86 M5).
    for step in ("open", "answered"):
        r = run("review", fid, "--reject", "--by", "质检小王", "--note", "如实告知没货", *db)
        # Open, it is to be answered; answered, only the ruling is left (audit 93 #6).
        todo = "qc appeal answer" if step == "open" else f"qc appeal rule {appeal}"
        assert r.exit_code == 2 and f"has appeal #{appeal} {step}" in r.stderr and todo in r.stderr
        if step == "open":
            assert (
                run("appeal", "answer", appeal, "--by", "质检小王", "--note", "said so before", *db).exit_code
                == 0
            )
    # who opened the appeal for the agent is a party to it, not its judge
    r = run("appeal", "rule", appeal, "--overturn", "--by", "张主管", "--note", "sold out", *db)
    assert r.exit_code == 2 and f"张主管 opened appeal #{appeal} on the agent's behalf" in r.stderr
    assert (
        run("appeal", "rule", appeal, "--overturn", "--by", "李主管", "--note", "sold out", *db).exit_code
        == 0
    )
    r = run("review", fid, "--confirm", "--by", "质检小王", *db)
    assert r.exit_code == 2
    assert f"finding {fid} is final: appeal #{appeal} was overturned by 李主管" in r.stderr
    assert f"qc appeal reopen {appeal}" in r.stderr
    r = run("appeal", "reopen", appeal, "--by", "质检小王", "--note", "x", *db)
    assert r.exit_code == 2 and "reopening a ruling needs a supervisor" in r.stderr
    assert run("appeal", "reopen", appeal, "--by", "张主管", "--note", "new chat history", *db).exit_code == 0
    r = run("review", fid, "--confirm", "--by", "质检小王", "--note", "the history shows no stock check", *db)
    assert r.exit_code == 0, r.stderr
    listed = json.loads(run("appeal", "list", "--state", "reopened", *db).stdout)
    assert listed["id"] == int(appeal) and listed["agent"] == "测试店:小美"
    trail = log(fid, db)
    assert [(row["action"], row["actor"], row["state_before"], row["state_after"]) for row in trail] == [
        ("appeal_open", "张主管", "none", "open"),
        ("appeal_answer", "质检小王", "open", "answered"),
        ("appeal_rule", "李主管", "answered", "overturned"),
        ("reject", "李主管", "pending", "rejected"),
        ("appeal_reopen", "张主管", "overturned", "reopened"),
        ("confirm", "质检小王", "rejected", "confirmed"),
    ]
    for row in trail:
        assert row["note"], row  # why
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", row["at"]), row[
            "at"
        ]  # when, with zone
    assert "on behalf of 测试店:小美" in trail[0]["note"]


def test_nobody_reviews_a_finding_charged_to_their_own_account(day):
    ids, db = day
    team(db)
    assert (
        run("people", "add", "阿杰组长", "--role", "reviewer", "--agent-id", "测试店:阿杰", *db).exit_code
        == 0
    )
    r = run("review", ids["cA"], "--reject", "--by", "阿杰组长", "--note", "fine", *db)
    assert r.exit_code == 2 and "charged to their own account 测试店:阿杰" in r.stderr


def test_a_piped_table_keeps_every_column_however_long_an_id(day):
    """Without a terminal rich assumed 80 columns: a long agent id squeezed the role and the
    dates to nothing, so `qc people list | cat` printed nobody's role (audit 71)."""
    _, db = day
    long_id = "测试店:" + "很长的客服账号名" * 6
    r = runner.invoke(
        app, ["people", "add", "长名", "--role", "agent", "--agent-id", long_id, "--by", "admin", *db]
    )
    assert r.exit_code == 0, r.stderr
    r = runner.invoke(app, ["people", "list", *db])  # no COLUMNS: as when piped
    row = next(line for line in r.stdout.splitlines() if "长名" in line)
    assert long_id in row and "agent" in row and re.search(r"\d{4}-\d\d-\d\dT", row)


def test_the_command_line_overturns_another_persons_decision_only_when_told(day):
    """`qc review` overturned another reviewer's decision without a word, and logged a repeated
    identical decision as a new one; the workbench and the sheet import refuse both (audit 69)."""
    ids, db = day
    team(db)
    fid = ids["cA"]
    note = "buyer joked, called back 13812345678"
    assert run("review", fid, "--reject", "--by", "质检小王", "--note", note, *db).exit_code == 0
    r = run("review", fid, "--confirm", "--by", "张主管", *db)
    assert r.exit_code == 2 and "was rejected by 质检小王" in r.stderr and "buyer joked" in r.stderr
    assert "13812345678" not in r.stderr and "[电话]" in r.stderr  # the note is quoted masked
    assert "--overturn" in r.stderr and len(log(fid, db)) == 1
    r = run("review", fid, "--reject", "--by", "张主管", "--note", note, *db)  # the same again
    assert r.exit_code == 0 and "already rejected (by 质检小王" in r.stderr and "nothing recorded" in r.stderr
    assert len(log(fid, db)) == 1
    r = run("review", fid, "--confirm", "--by", "质检小王", *db)  # one's own mind may change
    assert r.exit_code == 0 and "rejected → confirmed" in r.stderr
    r = run("review", fid, "--reject", "--by", "张主管", "--note", "it was a joke", "--overturn", *db)
    assert r.exit_code == 0 and "confirmed → rejected" in r.stderr
    assert [(row["action"], row["actor"]) for row in log(fid, db)] == [
        ("reject", "质检小王"),
        ("confirm", "质检小王"),
        ("reject", "张主管"),
    ]


def test_a_step_on_a_read_only_store_is_refused_as_usage_with_nothing_changed(day):
    """A review or a people change on a store opened read-only exited 1 with SQLite's "attempt
    to write a readonly database" (audit 69): like a run that saves, it is exit 2 with the fix."""
    ids, db = day
    team(db)
    path = db[1]
    read_only = ["--db", f"sqlite:///file:{path}?mode=ro&uri=true"]
    for step in (
        ["review", ids["cA"], "--confirm", "--by", "质检小王"],
        ["people", "add", "新人", "--role", "reviewer", "--by", "admin"],
    ):
        r = run(*step, *read_only)
        assert r.exit_code == 2 and "is read-only and this step writes to it" in r.stderr, r.stderr
    assert log(ids["cA"], db) == []
    assert "新人" not in run("people", "list", "--format", "json", *db).stdout


@pytest.fixture()
def two_shops(tmp_path):
    """The review day plus a chat of 别家店 whose agent is also 阿杰, and one unanswered buyer there."""
    from review_day import CONVERSATIONS, msg

    other = {
        "conversation_id": "cZ",
        "shop": "别家店",
        "messages": [
            msg("customer", "buyer8", "16:00:00", "在吗"),
            msg("agent", "阿杰", "16:00:05", "在的亲"),
        ],
    }
    lone = {
        "conversation_id": "cY",
        "shop": "别家店",
        "messages": [msg("customer", "buyer7", "17:00:00", "在吗")],
    }
    report = inspect_day(tmp_path, conversations=[*CONVERSATIONS, other, lone], people=False)
    return {f.conversation_id: f.id for f in report.findings}, ["--db", str(tmp_path / "qc.sqlite")]


def test_an_agent_id_is_bound_to_the_stored_account_it_names(two_shops):
    """`--agent-id 小美` was stored as typed: it matched no finding (all are charged to 测试店:小美),
    so the person could reject their own finding (audit 76 A1)."""
    ids, db = two_shops
    r = run("people", "add", "美组长", "--role", "reviewer", "--agent-id", "小美", *db)
    assert r.exit_code == 0 and "added as reviewer (测试店:小美)" in r.stderr and "warning" not in r.stderr
    r = run("review", ids["cB"], "--reject", "--by", "美组长", "--note", "fine", *db)
    assert r.exit_code == 2 and "charged to their own account 测试店:小美" in r.stderr
    r = run("people", "add", "杰组长", "--role", "reviewer", "--agent-id", "阿杰", *db)
    assert r.exit_code == 2
    assert "--agent-id 阿杰 names 别家店:阿杰, 测试店:阿杰; give the full id" in r.stderr


@pytest.mark.parametrize(
    ("agent_id", "says"),
    [
        ("unassigned", "is where a shop's unanswered buyers are counted, not a person's account"),
        ("别家店:unassigned", "is where a shop's unanswered buyers are counted"),
        ("测试店:小美\a", "the agent id has an invisible or control character U+0007 at character 7"),
        ("测" * 201, "the agent id has 201 characters; use at most 200"),
    ],
    ids=["unassigned", "shop-unassigned", "control", "long"],
)
def test_an_agent_id_no_person_can_hold_is_refused(two_shops, agent_id, says):
    _, db = two_shops
    r = run("people", "add", "某人", "--role", "reviewer", "--agent-id", agent_id, *db)
    assert r.exit_code == 2 and says in r.stderr
    assert "某人" not in run("people", "list", *db).stdout


def test_a_binding_no_stored_agent_has_is_named_when_added_and_listed(two_shops):
    """A mistyped id, or a bare nick migration 12 could not give one shop, guarded nothing and no
    command said so (audit 76 A4)."""
    _, db = two_shops
    r = run("people", "add", "外人", "--role", "reviewer", "--agent-id", "测试店:小每", *db)
    assert r.exit_code == 0 and "warning: 外人 is bound to 测试店:小每, which no stored agent is" in r.stderr
    r = run("people", "list", *db)
    assert "warning: 外人 is bound to 测试店:小每, which no stored agent is" in r.stderr
    assert "qc people bind 外人 店铺名:客服名, then qc people unbind 外人 测试店:小每 --note WHY" in r.stderr


def test_a_reviewer_named_like_agents_of_two_shops_is_warned_with_both(two_shops):
    """One namesake gave a warning, two gave none (audit 76 A8)."""
    _, db = two_shops
    r = run("people", "add", "阿杰", "--role", "reviewer", *db)
    assert r.exit_code == 0
    assert "warning: 阿杰 is also the name of agents 别家店:阿杰, 测试店:阿杰" in r.stderr


def test_an_unknown_name_is_quoted_masked_and_cut(day):
    """A shifted review-sheet row put a buyer's name, phone and address in 复核人, and the refusal
    printed the whole cell twice, unmasked (audit 76 A7); `--by` takes the same path."""
    ids, db = day
    team(db)
    cell = "收件人张女士 手机13812345678 地址杭州市西湖区文三路90号5栋1单元302室 " + "这件衣服质量太差了" * 40
    r = run("review", ids["cA"], "--reject", "--by", cell, "--note", "x", *db)
    assert r.exit_code == 2 and "is not registered in this store" in r.stderr
    assert "13812345678" not in r.stderr and "文三路90号" not in r.stderr
    assert len(r.stderr) < 400 and "qc people add NAME --role reviewer" in r.stderr
    r = run("review", ids["cA"], "--reject", "--by", "新来的", "--note", "x", *db)
    assert "qc people add 新来的 --role reviewer" in r.stderr  # a plain name is shown as typed


def test_a_removed_person_is_told_so_and_a_charged_supervisor_to_ask_another_supervisor(day):
    """A removed reviewer was told they were not registered, as if never added; a supervisor who
    may not rule on their own finding was told to ask another reviewer (audit 76 B3, B6)."""
    ids, db = day
    team(db)
    assert run("people", "remove", "质检小王", "--note", "moved to the warehouse team", *db).exit_code == 0
    r = run("review", ids["cA"], "--reject", "--by", "质检小王", "--note", "x", *db)
    assert r.exit_code == 2 and "质检小王 was removed on " in r.stderr
    assert "if they are back, add them again with: qc people add 质检小王 --role reviewer" in r.stderr
    assert "is not registered" not in r.stderr
    r = run("people", "add", "杰主管", "--role", "supervisor", "--agent-id", "测试店:阿杰", *db)
    assert r.exit_code == 0, r.stderr
    appeal = run("appeal", "open", ids["cA"], "--agent", "阿杰", "--reason", "a joke", *db).stdout.strip()
    assert run("appeal", "answer", appeal, "--by", "张主管", "--note", "looked at it", *db).exit_code == 0
    r = run("appeal", "rule", appeal, "--overturn", "--by", "杰主管", "--note", "fine", *db)
    assert r.exit_code == 2 and "charged to their own account 测试店:阿杰; ask another supervisor" in r.stderr


@pytest.fixture()
def jie_in_two_shops(tmp_path):
    """The review day plus a chat of 别家店 where 阿杰 (there 别家店:阿杰) is rude to a buyer."""
    from review_day import CONVERSATIONS, msg

    other = {
        "conversation_id": "cZ",
        "shop": "别家店",
        "messages": [
            msg("customer", "buyer8", "16:00:00", "发货了吗"),
            msg("agent", "阿杰", "16:00:05", "你烦不烦啊"),
        ],
    }
    report = inspect_day(tmp_path, conversations=[*CONVERSATIONS, other], people=False)
    ids = {f.conversation_id: f.id for f in report.findings if f.agent}
    assert report.findings and {f.agent for f in report.findings if f.conversation_id == "cZ"} == {
        "别家店:阿杰"
    }
    db = ["--db", str(tmp_path / "qc.sqlite")]
    for args in (["张主管", "--role", "supervisor"], ["质检小王", "--role", "reviewer"]):
        assert run("people", "add", *args, "--by", "admin", *db).exit_code == 0
    return ids, db


def test_a_lead_with_accounts_in_two_shops_reviews_neither_shops_own_findings(jie_in_two_shops):
    """老张 chats as 店a:老张 and 店b:老张; bound to one account, they rejected the other's finding
    (audit 86 M4)."""
    ids, db = jie_in_two_shops
    r = run(
        "people", "add", "杰组长", "--role", "reviewer",
        "--agent-id", "测试店:阿杰", "--agent-id", "别家店:阿杰", "--by", "张主管", *db,
    )  # fmt: skip
    assert r.exit_code == 0 and "added as reviewer (测试店:阿杰, 别家店:阿杰)" in r.stderr, r.stderr
    for cid, account in (("cA", "测试店:阿杰"), ("cZ", "别家店:阿杰")):
        r = run("review", ids[cid], "--reject", "--by", "杰组长", "--note", "fine", *db)
        assert r.exit_code == 2 and f"charged to their own account {account}" in r.stderr, r.stderr
    listed = {
        p["name"]: p
        for p in map(json.loads, run("people", "list", "--format", "json", *db).stdout.splitlines())
    }
    assert listed["杰组长"]["accounts"] == ["测试店:阿杰", "别家店:阿杰"]
    assert listed["杰组长"]["agent_id"] == "测试店:阿杰"  # the first, as the key always said


def test_an_agent_bound_to_a_second_account_appeals_its_findings(jie_in_two_shops):
    """Bound to 测试店:阿杰 only, 阿杰 could not appeal what 别家店:阿杰 was charged (audit 86 M4)."""
    ids, db = jie_in_two_shops
    assert (
        run(
            "people", "add", "阿杰", "--role", "agent", "--agent-id", "测试店:阿杰", "--by", "张主管", *db
        ).exit_code
        == 0
    )
    r = run("appeal", "open", ids["cZ"], "--agent", "阿杰", "--reason", "the buyer swore first", *db)
    assert r.exit_code == 2 and "it is charged to 别家店:阿杰" in r.stderr, r.stderr
    # an agent or reviewer binds nothing: an agent would bind someone else's account to appeal it
    for by in ("阿杰", "质检小王"):
        r = run("people", "bind", "阿杰", "别家店:阿杰", "--by", by, *db)
        assert r.exit_code == 2 and "managed by a supervisor" in r.stderr, r.stderr
    r = run(
        "people", "bind", "阿杰", "别家店:阿杰", "--by", "张主管", "--note", "chats there on Sundays", *db
    )
    assert r.exit_code == 0 and "阿杰 (agent) is bound to 测试店:阿杰, 别家店:阿杰" in r.stderr, r.stderr
    r = run("people", "bind", "阿杰", "别家店:阿杰", "--by", "张主管", *db)
    assert r.exit_code == 2 and "别家店:阿杰 is already bound to 阿杰" in r.stderr
    r = run("appeal", "open", ids["cZ"], "--agent", "阿杰", "--reason", "the buyer swore first", *db)
    assert r.exit_code == 0, r.stderr
    # unbinding needs a reason, names what is bound, and is logged with who and why
    r = run("people", "unbind", "阿杰", "别家店:阿杰", "--by", "张主管", *db)
    assert r.exit_code == 2 and "--note is required" in r.stderr
    r = run("people", "unbind", "阿杰", "别家店:小美", "--by", "张主管", "--note", "x", *db)
    assert (
        r.exit_code == 2 and "阿杰 is not bound to 别家店:小美 (bound: 测试店:阿杰, 别家店:阿杰)" in r.stderr
    )
    r = run("people", "unbind", "阿杰", "别家店:阿杰", "--by", "张主管", "--note", "handed to 小林", *db)
    assert r.exit_code == 0 and "阿杰 (agent) is now bound to 测试店:阿杰" in r.stderr, r.stderr
    r = run("review", ids["cZ"], "--confirm", "--by", "质检小王", *db)
    assert r.exit_code == 2 and "Answer it (qc appeal answer" in r.stderr  # pending: its ruling decides
    r = run("appeal", "answer", "1", "--by", "质检小王", "--note", "看过了", *db)
    assert r.exit_code == 0, r.stderr
    r = run("review", ids["cZ"], "--confirm", "--by", "质检小王", *db)
    # Answered, only the ruling is left to do (audit 93 #6: it said to answer it again).
    assert (
        r.exit_code == 2
        and "A supervisor rules it: qc appeal rule 1" in r.stderr
        and "Answer it" not in r.stderr
    )
    trail = [(row["action"], row["actor"], row["note"]) for row in log("", db)]
    assert ("person_bind", "张主管", "阿杰 bound to 别家店:阿杰: chats there on Sundays") in trail
    assert ("person_unbind", "张主管", "阿杰 unbound from 别家店:阿杰: handed to 小林") in trail


def test_two_adds_of_one_name_at_once_register_it_once(day, monkeypatch):
    """Two `qc people add` of one name at once were both registered (the check ran before the
    write lock), and `qc people remove` then deactivated one of them (audit 88 #3)."""
    import qc.supervise.people as people
    from qc.store.database import open_store

    _, db = day
    with open_store(db[1]) as store:
        people.add_person(store, "张主管", "supervisor", by="admin")
        checked, raced = people.manager, []

        def meanwhile(*args, **kwargs):  # the other process's add commits between check and write
            if not raced:
                raced.append(True)
                people.add_person(store, "ｄｕｐ", "reviewer", by="张主管")
            return checked(*args, **kwargs)

        monkeypatch.setattr(people, "manager", meanwhile)
        with pytest.raises(people.PeopleError, match="dup reads as ｄｕｐ, who is registered"):
            people.add_person(store, "dup", "supervisor", by="张主管")
        assert [p.name for p in people.list_people(store)] == ["张主管", "ｄｕｐ"]


def test_a_reviewer_removed_while_deciding_decides_nothing(day, monkeypatch):
    """The role was checked before the write lock only: a decision by someone removed a moment
    earlier was recorded, and freed the finding (audit 88 #5)."""
    import qc.supervise.review as review
    from qc.store.database import open_store
    from qc.supervise.people import remove_person

    ids, db = day
    team(db)
    with open_store(db[1]) as store:
        checked = review.check_not_own

        def meanwhile(*args, **kwargs):
            remove_person(store, "质检小王", by="张主管", note="left the shop")
            return checked(*args, **kwargs)

        monkeypatch.setattr(review, "check_not_own", meanwhile)
        with pytest.raises(review.ReviewError, match="质检小王 was removed on "):
            review.decide(store, ids["cA"], "reject", by="质检小王", note="joke")
        assert [r["action"] for r in store.audit_trail(ids["cA"])] == []


def test_a_supervisor_removed_while_ruling_rules_nothing(day, monkeypatch):
    """Appeal steps checked the role before the write lock only (audit 88 #5)."""
    import qc.supervise.appeal as appeal
    from qc.store.database import open_store
    from qc.supervise.people import remove_person

    ids, db = day
    team(db)
    with open_store(db[1]) as store:
        opened = appeal.open_appeal(store, ids["cA"], agent="阿杰", reason="the buyer joked")
        appeal.answer_appeal(store, opened.id, by="质检小王", note="looked at it")
        checked = appeal.reviewers_of

        def meanwhile(*args, **kwargs):
            remove_person(store, "李主管", by="张主管", note="left the shop")
            return checked(*args, **kwargs)

        monkeypatch.setattr(appeal, "reviewers_of", meanwhile)
        with pytest.raises(appeal.ReviewError, match="李主管 was removed"):
            appeal.rule_appeal(store, opened.id, overturn=True, by="李主管", note="a joke")
        assert appeal.get_appeal(store, opened.id).state == "answered"


def test_an_account_is_one_agents_and_an_agent_keeps_one(jie_in_two_shops):
    """Binding 小美's account to agent 阿杰 passed: 阿杰 appealed 小美's finding and saw her rows;
    unbinding an agent's last account left them appealing nothing; unbind refused the short name
    bind took (audit 90 #3-#5)."""
    ids, db = jie_in_two_shops
    for args in (["阿杰", "--agent-id", "测试店:阿杰"], ["小美", "--agent-id", "测试店:小美"]):
        assert run("people", "add", *args, "--role", "agent", "--by", "张主管", *db).exit_code == 0
    r = run("people", "bind", "阿杰", "测试店:小美", "--by", "张主管", *db)
    assert r.exit_code == 2 and "测试店:小美 is the account of agent 小美" in r.stderr, r.stderr
    # her only account: unbinding it is refused, so the fix is removing her or binding her new one
    assert "qc people remove 小美 --note WHY if they left, or bind their new account first" in r.stderr
    r = run(
        "people", "add", "小美二号", "--role", "agent", "--agent-id", "测试店:小美", "--by", "张主管", *db
    )
    assert r.exit_code == 2 and "is the account of agent 小美" in r.stderr
    # a lead may share it: the guard keeps them off its findings
    r = run(
        "people", "add", "美组长", "--role", "reviewer", "--agent-id", "测试店:小美", "--by", "张主管", *db
    )
    assert r.exit_code == 0, r.stderr
    r = run("people", "unbind", "阿杰", "测试店:阿杰", "--by", "张主管", "--note", "x", *db)
    assert r.exit_code == 2 and "the only account of agent 阿杰: bind their new account first" in r.stderr
    assert run("people", "bind", "阿杰", "别家店:阿杰", "--by", "张主管", *db).exit_code == 0
    r = run("people", "unbind", "阿杰", "阿杰", "--by", "张主管", "--note", "x", *db)  # two of theirs
    assert (
        r.exit_code == 2
        and "阿杰 names 测试店:阿杰, 别家店:阿杰 of 阿杰's accounts; give the full id" in r.stderr
    )
    r = run("people", "bind", "美组长", "别家店:小美", "--by", "张主管", *db)  # no stored agent: a warning
    assert r.exit_code == 0
    r = run("people", "unbind", "美组长", "小美", "--by", "张主管", "--note", "mistyped", *db)
    assert r.exit_code == 2  # 测试店:小美 and 别家店:小美: the short name names two
    assert (
        run("people", "unbind", "美组长", "别家店:小美", "--by", "张主管", "--note", "typo", *db).exit_code
        == 0
    )
    r = run("people", "unbind", "美组长", "小美", "--by", "张主管", "--note", "not a lead now", *db)
    assert r.exit_code == 0 and "美组长 (reviewer) is now bound to no account" in r.stderr, r.stderr
    r = run("people", "unbind", "阿杰", "别家店:阿杰", "--by", "张主管", "--note", "x", *db)
    assert r.exit_code == 0 and "now bound to 测试店:阿杰" in r.stderr
