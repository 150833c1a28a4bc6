"""``qc scorecard show`` and the scorecard outputs of ``qc inspect`` through the CLI."""

from __future__ import annotations

import csv
import hashlib
import json
import tomllib

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from typer.testing import CliRunner

from qc.cli import app
from qc.scoring.card import load_scorecard
from qc.scoring.scores import agent_columns
from qc.store.database import open_store
from qc.store.tables import TABLES

runner = CliRunner()


def test_show_prints_the_effective_card_and_its_hash():
    result = runner.invoke(app, ["scorecard", "show"])
    assert result.exit_code == 0, result.output
    card = load_scorecard()
    assert result.stdout.splitlines()[0] == f"# scorecard hash: {card.hash}"
    assert tomllib.loads(result.stdout) == dict(card.data)
    assert card.hash in result.stderr


def test_show_json_with_an_override(tmp_path):
    shop = tmp_path / "jd.toml"
    shop.write_text("[items.average_response]\nthreshold = 25\nmin_sample = 2\n", encoding="utf-8")
    result = runner.invoke(app, ["scorecard", "show", "--scorecard", str(shop), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["scorecard"]["items"]["average_response"]["threshold"] == 25
    assert data["hash"] == load_scorecard(shop).hash != load_scorecard().hash


SHOW_ERRORS = [
    ("bad-key", "[items.average_response]\nthreshhold = 25\n", "items.average_response.threshhold"),
    ("bad-value", "[items.reply_rate]\npoints_per_unit = 'one'\n", "items.reply_rate.points_per_unit"),
    ("bad-toml", "[items\n", "not valid TOML"),
]


@pytest.mark.parametrize("text, key", [c[1:] for c in SHOW_ERRORS], ids=[c[0] for c in SHOW_ERRORS])
def test_show_bad_card_exits_2_naming_the_key(tmp_path, text, key):
    bad = tmp_path / "bad.toml"
    bad.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["scorecard", "show", "--scorecard", str(bad)])
    assert result.exit_code == 2
    assert key in result.stderr and str(bad) in result.stderr
    assert "Traceback" not in result.output


def test_show_missing_file_and_bad_format_exit_2(tmp_path):
    assert runner.invoke(app, ["scorecard", "show", "--scorecard", str(tmp_path / "no.toml")]).exit_code == 2
    result = runner.invoke(app, ["scorecard", "show", "--format", "yaml"])
    assert result.exit_code == 2 and "toml or json" in result.stderr


# ------------------------------------------------------------------------------ qc inspect


def line(cid, role, sender, clock, text, auto=False):
    return json.dumps(
        {
            "conversation_id": cid,
            "role": role,
            "sender": sender,
            "timestamp": f"2026-11-24T{clock}+08:00",
            "text": text,
            "shop": "柚子家居",
            "auto_reply": auto,
        },
        ensure_ascii=False,
    )


MEI = "柚子家居:小美"


@pytest.fixture
def day_file(tmp_path):
    # c1: the buyer waits 40 s for 小美 (turn 1), then 20 s (turn 2): avg 30 s, first 40 s.
    # c2: only an auto-reply, the buyer is never answered: 小美 (the auto-reply's account)
    #     received 2 buyers and replied to 1 → reply rate 50%. Two buyers are too few to score
    #     (min_sample 20); with min_sample 1: 50 missing percent × −1 = −50, but 其他 stops at 0: −5.
    #     c2's buyer is a missed_reply finding.
    # answer ratio: 2 typed messages / 3 buyer messages = 0.6667.
    rows = [
        line("c1", "customer", "买家甲", "10:00:00", "请问这款有现货吗"),
        line("c1", "agent", MEI, "10:00:40", "亲，有现货的，今天下单明天发货"),
        line("c1", "customer", "买家甲", "10:01:00", "好的谢谢"),
        line("c1", "agent", MEI, "10:01:20", "不客气，祝您购物愉快"),
        line("c2", "customer", "买家乙", "11:00:00", "在吗"),
        line("c2", "agent", MEI, "11:00:01", "您好，客服稍后回复您", auto=True),
    ]
    path = tmp_path / "2026-11-24_messages.jsonl"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_inspect_writes_the_agents_files_with_the_documented_columns(tmp_path, day_file):
    out = tmp_path / "out"
    result = runner.invoke(app, ["inspect", str(day_file), "--out", str(out)])
    assert result.exit_code == 0, result.output
    card = load_scorecard()
    keys = [k for k, _ in agent_columns(card)]

    (row,) = json.loads((out / "agents.json").read_text(encoding="utf-8"))
    assert list(row) == keys
    assert (row["agent"], row["date"], row["shop"]) == (MEI, "2026-11-24", "柚子家居")
    assert (row["avg_response_s"], row["first_response_s"]) == (30.0, 40.0)
    assert (row["reply_rate"], row["answer_ratio"]) == (0.5, 0.6667)
    assert (row["average_response_points"], row["reply_rate_points"]) == (0, 0)
    assert row["reply_rate_note"] == "too few buyers (2 < 20)" and row["missed_reply"] == 1
    assert row["service_attitude_points"] == -5 * row["conflict"] - row["impatience"]
    assert row["total_points"] == row["service_attitude_points"]

    with (out / "agents.csv").open(encoding="utf-8-sig", newline="") as fh:
        table = list(csv.reader(fh))
    assert table[0] == [zh for _, zh in agent_columns(card)]
    assert table[1] == keys
    assert len(table) == 3 and table[2][0] == MEI
    # One first response is too few to judge the 10 s target: empty, not 否.
    assert table[2][keys.index("first_response_met")] == ""
    assert table[2][keys.index("first_response_note")] == "too few first responses (1 < 20)"

    sheet = load_workbook(out / "agents.xlsx").active
    values = [[c.value for c in r] for r in sheet.iter_rows()]
    assert values[0][:2] == ["客服", "日期"] and values[1] == keys and values[2][0] == MEI

    deductions = [json.loads(x) for x in (out / "deductions.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [d for d in deductions if d["item"] == "reply_rate"] == []
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["scorecard"]["hash"] == card.hash
    # the effective card is recorded, so the hash can be checked after the file changes (audit 104 L1)
    effective = run["scorecard"]["effective"]
    assert effective == card.data and effective["items"]["average_response"]["threshold"] == 32
    canonical = json.dumps(effective, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert hashlib.sha256(canonical.encode("utf-8")).hexdigest() == card.hash
    assert "agents per day (daily view)" in result.stderr
    # The printed table: 服务态度 points and score first, then the other items, then the total.
    header = result.stderr[result.stderr.index("agents per day") :]
    order = [header.index(word) for word in ("服务态度", "平均响应时间", "其他(回复率)", "total")]
    assert order == sorted(order)


def test_reply_rate_stops_at_zero_and_its_missed_buyer_is_the_evidence(tmp_path, day_file):
    shop = tmp_path / "shop.toml"
    shop.write_text("[items.reply_rate]\nmin_sample = 1\n", encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(app, ["inspect", str(day_file), "--out", str(out), "--scorecard", str(shop), "-q"])
    assert result.exit_code == 0, result.output
    (row,) = json.loads((out / "agents.json").read_text(encoding="utf-8"))
    assert (row["reply_rate_points"], row["reply_rate_score"]) == (-5, 0)
    deductions = [json.loads(x) for x in (out / "deductions.jsonl").read_text(encoding="utf-8").splitlines()]
    reply = [(d["points"], d["reason"][:6]) for d in deductions if d["item"] == "reply_rate"]
    assert reply == [(-50.0, "reply_"), (45.0, "floor ")]
    found = [json.loads(x) for x in (out / "findings.jsonl").read_text(encoding="utf-8").splitlines()]
    # c1's first reply came after 40 s: a slow_response (8 s over); c2's buyer was never answered.
    assert sorted(f["kind"] for f in found) == ["missed_reply", "slow_response"]
    (missed,) = [f for f in found if f["kind"] == "missed_reply"]
    assert (missed["kind"], missed["conversation_id"], missed["message_index"]) == ("missed_reply", "c2", 0)
    assert deductions[-2]["finding_ids"] == [missed["id"]]


def test_inspect_quiet_prints_no_summary(tmp_path, day_file):
    result = runner.invoke(app, ["inspect", str(day_file), "--out", str(tmp_path / "o"), "--quiet"])
    assert result.exit_code == 0, result.output
    assert "agents per day" not in result.stderr


def test_inspect_with_a_shop_scorecard(tmp_path, day_file):
    shop = tmp_path / "shop.toml"
    shop.write_text("[items.average_response]\nthreshold = 25\nmin_sample = 2\n", encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(app, ["inspect", str(day_file), "--out", str(out), "--scorecard", str(shop), "-q"])
    assert result.exit_code == 0, result.output
    (row,) = json.loads((out / "agents.json").read_text(encoding="utf-8"))
    assert row["average_response_points"] == -10  # (30 − 25) s × −2
    assert (
        json.loads((out / "run.json").read_text(encoding="utf-8"))["scorecard"]["hash"]
        == load_scorecard(shop).hash
    )


def test_inspect_bad_scorecard_exits_2_before_reading(tmp_path, day_file):
    bad = tmp_path / "bad.toml"
    bad.write_text("[items.average_response]\nthreshold = 'x'\n", encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(app, ["inspect", str(day_file), "--out", str(out), "--scorecard", str(bad)])
    assert result.exit_code == 2
    assert "items.average_response.threshold" in result.stderr
    assert not out.exists()


def test_inspect_twice_into_the_store_leaves_one_copy(tmp_path, day_file):
    db = tmp_path / "qc.sqlite"
    for n in (1, 2):
        result = runner.invoke(
            app, ["inspect", str(day_file), "--out", str(tmp_path / f"o{n}"), "--db", str(db), "-q"]
        )
        assert result.exit_code == 0, result.output
    engine = open_store(db).engine
    with engine.connect() as conn:

        def count(name):
            return conn.execute(select(func.count()).select_from(TABLES[name])).scalar_one()

        # One copy of each conversation, its metric parts (one per agent and day) and findings.
        assert (count("runs"), count("conversations"), count("parts"), count("findings")) == (2, 2, 2, 2)
        assert count("messages") == 6
    first = json.loads((tmp_path / "o1" / "agents.json").read_text(encoding="utf-8"))
    assert json.loads((tmp_path / "o2" / "agents.json").read_text(encoding="utf-8")) == first
    engine.dispose()


@pytest.mark.skipif(not hasattr(__import__("os"), "mkfifo"), reason="POSIX FIFOs")
def test_a_scorecard_that_is_a_pipe_or_a_folder_is_refused_at_once(tmp_path) -> None:
    """--scorecard naming a FIFO hung for ever (a lexicon was refused at once, audit 130 L1)."""
    import os
    import subprocess
    import sys

    pipe = tmp_path / "card.toml"
    os.mkfifo(pipe)
    for given in (pipe, tmp_path):
        done = subprocess.run(
            [sys.executable, "-m", "qc", "scorecard", "show", "--scorecard", str(given)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 2
        assert done.stderr.strip() == (
            f"qc: scorecard {given}: a folder or special file, not a file; give the .toml file itself"
        )
