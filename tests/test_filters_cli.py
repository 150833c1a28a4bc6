"""Filters that answer (issue 17, item 5), through the CLI.

`--agent` takes a full id (any spelling that folds to it) or a unique short name; ambiguity and
unknown agents, kinds, states and dates are usage errors (exit 2) naming what exists; an empty
result says so on stderr while stdout keeps the data (nothing, or `[]`).
"""

from __future__ import annotations

import json

import pytest
from review_day import CONVERSATIONS, DAY, inspect_day, msg
from typer.testing import CliRunner

from qc.cli import app

runner = (
    CliRunner(mix_stderr=False) if "mix_stderr" in CliRunner.__init__.__code__.co_varnames else CliRunner()
)
OTHER_SHOP = {
    "conversation_id": "cZ",
    "shop": "二号店",
    "messages": [
        msg("customer", "buyer8", "15:00:00", "能便宜点吗"),
        msg("agent", "二号店:阿杰", "15:00:30", "爱买不买"),
    ],
}


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("filters")
    inspect_day(tmp, conversations=[*CONVERSATIONS, OTHER_SHOP])
    return ["--db", str(tmp / "qc.sqlite")], tmp


def run(*args):
    return runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "200"})


def flagged_ids(result) -> list[str]:
    assert result.exit_code == 0, result.stderr
    return [r["conversation_id"] for r in json.loads(result.stdout)]


@pytest.mark.parametrize(
    ("agent", "expected"),
    [
        ("小美", ["cB"]),
        ("测试店:阿杰", ["cA"]),
        ("测试店：阿杰", ["cA"]),
        (" 测试店 : 阿杰 ", ["cA"]),
        ("二号店:阿杰", ["cZ"]),
    ],
    ids=["short-name", "full-id", "full-width-colon", "spaces", "other-shop"],
)
def test_agent_matches_a_full_id_or_a_unique_short_name(db, agent, expected):
    args, _ = db
    assert flagged_ids(run("flagged", "--agent", agent, "--format", "json", *args)) == expected


def test_an_ambiguous_short_name_is_an_error_listing_the_candidates(db):
    args, _ = db
    r = run("flagged", "--agent", "阿杰", *args)
    assert r.exit_code == 2
    assert (
        r.stderr.strip()
        == "qc: --agent '阿杰' is ambiguous: it names 二号店:阿杰, 测试店:阿杰; give the full id"
    )


def test_an_unknown_agent_is_an_error_listing_the_agents(db):
    args, tmp = db
    r = run("flagged", "--agent", "木木", *args)
    assert r.exit_code == 2
    assert "names no agent in the store; agents: 二号店:阿杰, 测试店:小美, 测试店:阿杰" in r.stderr
    r = run("report", "--agent", "木木", "--from", DAY, "--to", DAY, "--out", tmp / "r.html", *args)
    assert r.exit_code == 2 and "names no agent" in r.stderr and not (tmp / "r.html").exists()


def test_report_refuses_an_out_file_that_is_not_html(db):
    """qc report --out x.csv wrote HTML into a .csv with exit 0 (audit 80 #9)."""
    args, tmp = db
    r = run("report", "--from", DAY, "--to", DAY, "--out", tmp / "r.csv", *args)
    assert r.exit_code == 2 and "name it .html" in r.stderr and not (tmp / "r.csv").exists()


def test_report_and_sample_write_to_a_descriptor_that_has_no_name_to_give(db):
    """--out /dev/stdout was refused "name it .html / .csv", which cannot be done (audit 144 L2)."""
    import os

    args, tmp = db
    for command, extra, first in (
        ("report", ["--from", DAY, "--to", DAY], "<!doctype html>"),
        ("sample", ["--per-agent", "1", "--seed", "1", "--date", DAY], "\ufeff"),
    ):
        target = tmp / f"{command}.out"
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        try:
            r = run(command, *extra, "--out", f"/dev/fd/{fd}", *args)
        finally:
            os.close(fd)
        assert r.exit_code == 0, r.stderr
        assert target.read_text(encoding="utf-8").lower().startswith(first), command


def test_report_for_a_short_name_is_not_empty(db):
    args, tmp = db
    out = tmp / "xm.html"
    r = run("report", "--agent", "小美", "--from", DAY, "--to", DAY, "--out", out, *args)
    assert r.exit_code == 0, r.stderr
    assert "1 of 1 flagged conversations, 1 agent →" in r.stderr
    assert "测试店:小美" in out.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["flagged", "--kind", "bogus"],
            "--kind 'bogus' is unknown: use one of conflict, forbidden_phrase, impatience",
        ),
        (["flagged", "--date", "20261124"], "--date '20261124' is not a date: write it as YYYY-MM-DD"),
        (["flagged", "--from", "2026-11-31"], "--from '2026-11-31' is not a date"),
        (["flagged", "--format", "xml"], "--format 'xml' is unknown: use one of table, json"),
        (["appeal", "list", "--state", "bogus"], "--state 'bogus' is unknown: use one of open, answered"),
        (["review", "export", "--date", "24/11/2026", "--out", "x.csv"], "is not a date"),
        (
            ["sample", "--per-agent", "1", "--seed", "1", "--out", "s.csv", "--date", "2026-1-1"],
            "is not a date",
        ),
        (["flagged", "--min-points", "nan"], "--min-points nan: give a number of points, 0 or more"),
        (["flagged", "--min-points", "-1"], "--min-points -1.0: give a number of points, 0 or more"),
        (
            ["sample", "--per-agent", "1", "--seed", "1", "--out", "s.xlsx"],
            "--out s.xlsx: qc sample writes CSV (UTF-8 with BOM, opens in Excel and WPS); name it .csv",
        ),
    ],
    ids=[
        "kind",
        "compact-date",
        "impossible-date",
        "format",
        "state",
        "review-export-date",
        "sample-date",
        "min-points-nan",
        "min-points-negative",
        "sample-not-csv",
    ],
)
def test_unknown_values_are_usage_errors_naming_the_accepted_values(db, args, message):
    db_args, _ = db
    r = run(*args, *db_args)
    assert r.exit_code == 2, r.output
    assert message in r.stderr and "Traceback" not in r.stderr


def test_an_empty_result_says_so_on_stderr_and_keeps_stdout_for_data(db):
    args, _ = db
    r = run("flagged", "--date", "2026-11-25", *args)
    assert r.exit_code == 0
    assert r.stdout == "" and r.stderr.strip() == "no flagged conversations for 2026-11-25"
    r = run("flagged", "--date", "2026-11-25", "--format", "json", *args)
    assert r.exit_code == 0 and json.loads(r.stdout) == []
    assert "no flagged conversations" in r.stderr
    r = run("flagged", "--agent", "小美", "--kind", "conflict", *args)
    assert r.exit_code == 0 and "no flagged conversations for agent 测试店:小美, kind conflict" in r.stderr
    r = run("appeal", "list", "--state", "open", *args)
    assert r.exit_code == 0 and r.stdout == "" and "no appeals in state open" in r.stderr


def test_an_os_error_is_a_message_and_exit_1_not_a_traceback(db, monkeypatch):
    from qc.supervise import sampling

    def full_disk(rows, out, mask=None):
        raise OSError(28, "No space left on device", str(out))

    monkeypatch.setattr(sampling, "write_sample_csv", full_disk)
    args, tmp = db
    r = run("sample", "--per-agent", "1", "--seed", "1", "--out", tmp / "s.csv", *args)
    assert r.exit_code == 1
    assert r.stderr.strip() == f"qc: {tmp / 's.csv'}: No space left on device"


def test_a_full_disk_names_the_file_the_command_writes(db, monkeypatch):
    """A write to an open file fails naming none: "No space left on device" alone said nothing of
    which output (audit 93 #4)."""
    from qc.supervise import sampling

    def full_disk(rows, out, mask=None):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sampling, "write_sample_csv", full_disk)
    args, tmp = db
    r = run("sample", "--per-agent", "1", "--seed", "1", "--out", tmp / "s.csv", *args)
    assert r.exit_code == 1
    assert r.stderr.startswith(f"qc: {tmp / 's.csv'}: No space left on device; free space on the disk")


def test_an_agent_keyed_by_its_account_id_is_named_by_its_nick_too(tmp_path):
    """A 客服ID column keys the agent by that id (a01): --agent 小雨 said "names no agent"."""
    said = {
        "conversation_id": "cI",
        "shop": "测试店",
        "messages": [
            msg("customer", "buyer1", "10:00:00", "能便宜点吗"),
            {**msg("agent", "测试店:小雨", "10:00:30", "爱买不买"), "agent_id": "A01"},
        ],
    }
    inspect_day(tmp_path, conversations=[*CONVERSATIONS, said])
    db = ["--db", tmp_path / "qc.sqlite"]
    for name in ("小雨", "测试店:小雨", "a01", "A01"):
        r = run("flagged", "--agent", name, "--format", "json", *db)
        assert r.exit_code == 0, (name, r.stderr)
        assert [row["conversation_id"] for row in json.loads(r.stdout)] == ["cI"]
    r = run("flagged", "--agent", "小王", *db)
    assert r.exit_code == 2 and "a01 (测试店:小雨)" in r.stderr
    # an agent registered by the nick is linked to the account the findings are charged to
    r = run("people", "add", "小雨", "--role", "agent", *db)
    assert r.exit_code == 0, r.stderr
    listed = run("people", "list", "--format", "json", *db).stdout
    assert any(p["name"] == "小雨" and p["agent_id"] == "a01" for p in map(json.loads, listed.splitlines()))


def _untimed_in_store(tmp_path, reply: str) -> list[str]:
    """A conversation whose messages have no times (the agent answers with ``reply``), inspected
    into a store; the store's options."""
    day = tmp_path / "in" / "chats.jsonl"
    day.parent.mkdir()
    untimed = {
        "conversation_id": "U1",
        "shop": "店E",
        "messages": [
            {"role": "customer", "sender": "bu", "timestamp": None, "text": "在吗"},
            {"role": "agent", "sender": "店E:小四", "timestamp": None, "text": reply},
        ],
    }
    day.write_text(json.dumps(untimed, ensure_ascii=False) + "\n", encoding="utf-8")
    db = ["--db", str(tmp_path / "qc.sqlite")]
    assert run("inspect", day.parent, "--out", tmp_path / "o", "-q", *db).exit_code == 0
    return db


def test_a_period_export_says_when_undated_conversations_are_in_no_period(tmp_path):
    """A conversation without times is charged in the inspection's daily view (undated) but
    belongs to no period: every export left its charges out without a word (audit 73)."""
    db = _untimed_in_store(tmp_path, "你烦不烦啊")
    r = run("export", "--period", "2026-11", "--out", tmp_path / "m", *db)
    assert "1 stored conversations have no time on their messages" in r.stderr, r.stderr
    assert "`qc export --date undated` scores them" in r.stderr
    # ... and scores them on their own, as the inspection's daily view did (exit 2 before).
    r = run("export", "--date", "undated", "--out", tmp_path / "u", *db)
    assert r.exit_code == 0 and "no time on their messages" not in r.stderr, r.stderr
    for name in ("agents.csv", "deductions.jsonl"):
        assert (tmp_path / "u" / name).read_bytes() == (tmp_path / "o" / name).read_bytes(), name
    assert "店e:小四,undated,店E" in (tmp_path / "u" / "agents.csv").read_text(encoding="utf-8-sig")


def test_a_period_export_counts_undated_conversations_without_findings_too(tmp_path):
    """An untimed conversation the agent answered well has no finding, and the period's export
    left its buyer and messages out without a word (audit 79, #4)."""
    db = _untimed_in_store(tmp_path, "亲，在的，有什么可以帮您")
    assert not (tmp_path / "o" / "findings.jsonl").read_text(encoding="utf-8").strip()
    r = run("export", "--period", "2026-11", "--out", tmp_path / "m", *db)
    assert "1 stored conversations have no time on their messages" in r.stderr, r.stderr
