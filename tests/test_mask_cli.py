"""--mask-pii through the CLI keeps the words a reviewer needs (issue 17, item 2)."""

from __future__ import annotations

import csv

from cards import CHARGING
from review_day import DAY, SHOP, inspect_day, msg
from typer.testing import CliRunner

from qc.cli import app

CONVERSATION = {
    "conversation_id": "cM",
    "shop": SHOP,
    "messages": [
        msg("customer", "buyer9", "09:00:00", "我是张女士，电话13812345678，地址杭州市西湖区文三路90号"),
        msg("customer", "buyer9", "09:00:10", "收到就坏了，这条路不好走也不能摔成这样吧"),
        msg("agent", f"{SHOP}:阿杰", "09:00:40", "肯定是你自己弄坏的，爱买不买"),
        msg("customer", "buyer9", "09:01:00", "什么态度"),
        msg("agent", f"{SHOP}:阿杰", "09:01:30", "好的王先生，已经帮您登记，订单里会备注"),
    ],
}


def test_show_and_review_export_mask_personal_data_but_keep_the_words(tmp_path):
    inspect_day(tmp_path, conversations=[CONVERSATION])
    db = ["--db", str(tmp_path / "qc.sqlite")]
    runner = CliRunner()
    shown = runner.invoke(app, ["show", "cM", "--no-mood", "--mask-pii", *db], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    out = shown.stdout
    for kept in ("肯定是你自己弄坏的", "这条路不好走", "订单里会备注"):
        assert kept in out
    for hidden in ("张女士", "王先生", "13812345678", "文三路90号"):
        assert hidden not in out
    assert "[姓名]" in out and "[电话]" in out and "[地址]" in out
    sheet = tmp_path / "review.csv"
    exported = runner.invoke(app, ["review", "export", "--date", DAY, "--out", str(sheet), "--mask-pii", *db])
    assert exported.exit_code == 0, exported.output
    text = sheet.read_text(encoding="utf-8-sig")
    assert "肯定是你自己弄坏的" in text and "这条路不好走" in text
    assert "13812345678" not in text and "张女士" not in text and "[电话]" in text
    assert list(csv.reader(text.splitlines()))


def test_a_highlight_that_cuts_through_an_address_does_not_unmask_it(tmp_path):
    """A strict shop's FP-0017 marks 不夜城, the start of 不夜城花园3栋502室: the highlighted
    piece and the rest were masked apart, and neither alone looked like an address."""
    from review_day import write_day

    from qc.batch.run import run_inspection
    from qc.rules import RuleSettings
    from qc.run.executors import LocalExecutor
    from qc.run.inspector import build_inspector

    said = {
        "conversation_id": "cS",
        "shop": SHOP,
        "messages": [
            msg("customer", "buyer9", "09:00:00", "能送到吗"),
            msg("agent", f"{SHOP}:阿杰", "09:00:05", "不夜城花园3栋502室不送，爱买不买"),
        ],
    }
    executor = LocalExecutor(build_inspector(RuleSettings(strict=True)))
    report = run_inspection(
        [write_day(tmp_path / "in", [said])], tmp_path / "out", executor, store=str(tmp_path / "qc.sqlite")
    )
    assert any(f.text == "不夜城" for f in report.findings)
    db = ["--db", str(tmp_path / "qc.sqlite")]
    runner = CliRunner()
    for command in (
        ["show", "cS", "--no-mood", "--mask-pii"],
        ["report", "--from", DAY, "--to", DAY, "--out", str(tmp_path / "r.html"), "--mask-pii"],
    ):
        r = runner.invoke(app, [*command, *db], env={"COLUMNS": "200"})
        assert r.exit_code == 0, r.output
        out = r.stdout if command[0] == "show" else (tmp_path / "r.html").read_text(encoding="utf-8")
        assert "花园3栋502室" not in out and "[地址]" in out


def _store_with_team(tmp_path, said: dict) -> tuple[list[str], CliRunner]:
    """``said`` inspected into a store with the review day's team; its --db and a runner."""
    from review_day import add_team, write_day

    db = ["--db", str(tmp_path / "qc.sqlite")]
    runner = CliRunner()
    r = runner.invoke(
        app, ["inspect", str(write_day(tmp_path / "in", [said])), "--out", str(tmp_path / "out"), *db]
    )
    assert r.exit_code == 0, r.output
    add_team(tmp_path / "qc.sqlite")
    return db, runner


def test_flagged_the_audit_trail_and_appeals_mask_on_request(tmp_path):
    """qc flagged's excerpt quotes the agent's message, notes and appeal reasons quote what people
    paste: each takes --mask-pii, as qc show does."""
    import json

    phone = "13912345678"
    said = {
        "conversation_id": "cQ",
        "shop": SHOP,
        "messages": [
            msg("customer", "buyer9", "09:00:00", f"改地址 浙江省杭州市西湖区文三路90号 电话 {phone}"),
            msg(
                "agent",
                f"{SHOP}:阿杰",
                "09:00:05",
                f"地址浙江省杭州市西湖区文三路90号，电话{phone}，爱买不买",
            ),
        ],
    }
    db, runner = _store_with_team(tmp_path, said)
    card = ["--scorecard", str(CHARGING)]  # the classifier's 爱买不买 charged: the excerpt quotes it
    flagged = json.loads(runner.invoke(app, ["flagged", "--format", "json", *db, *card]).stdout)
    assert any(phone in row["excerpt"] for row in flagged)  # the excerpt quotes the buyer's number
    masked = runner.invoke(app, ["flagged", "--format", "json", "--mask-pii", *db, *card]).stdout
    assert phone not in masked and "[电话]" in masked
    table = runner.invoke(app, ["flagged", "--mask-pii", *db, *card], env={"COLUMNS": "200"}).stdout
    assert phone[:7] not in table
    finding = flagged[0]["finding_ids"][0]
    note = f"买家电话{phone}确认过"
    assert (
        runner.invoke(
            app, ["appeal", "open", finding, "--agent", "阿杰", "--reason", note, *db, *card]
        ).exit_code
        == 0
    )
    assert (
        runner.invoke(app, ["appeal", "answer", "1", "--by", "质检小王", "--note", note, *db]).exit_code == 0
    )
    for command in (["review", "log"], ["appeal", "list"]):
        plain = runner.invoke(app, [*command, *db]).stdout
        assert phone in plain
        hidden = runner.invoke(app, [*command, "--mask-pii", *db]).stdout
        assert phone not in hidden and "买家电话[电话]确认过" in hidden


def test_every_masked_surface_hides_the_buyers_nick_where_a_message_writes_it(tmp_path):
    """The speaker column said 买家 while the agent's reply named the buyer by nick, as did the
    notes and reasons that quote it; nicks too short to be sure of (小雨) stay, as do role words."""
    import json

    nick = "tb_木子晴天666"
    said = {
        "conversation_id": "cN",
        "shop": SHOP,
        "messages": [
            msg("customer", nick, "09:00:00", "东西坏了，我叫小雨"),
            msg("agent", f"{SHOP}:阿杰", "09:00:05", f"{nick}，肯定是你自己弄坏的，爱买不买，小雨"),
        ],
    }
    db, runner = _store_with_team(tmp_path, said)
    card = ["--scorecard", str(CHARGING)]  # the classifier's verdict charged, on every surface that scores
    flagged = json.loads(runner.invoke(app, ["flagged", "--format", "json", *db, *card]).stdout)
    finding = flagged[0]["finding_ids"][0]
    note = f"{nick}自己说的，小雨"
    review = ["review", finding, "--confirm", "--by", "质检小王", "--note", note]
    assert runner.invoke(app, [*review, *db]).exit_code == 0
    # Exported before the appeal: a finding under an appeal not yet ruled waits for its ruling.
    samples = tmp_path / "fb.jsonl"
    for flag, masked in (([], True), (["--show-pii"], False)):
        r = runner.invoke(app, ["feedback", "export", "--out", str(samples), *db, *flag])
        assert r.exit_code == 0, r.output
        out = samples.read_text(encoding="utf-8")
        assert (nick in out) is not masked and ("[买家]" in out) is masked, flag
    appeal = ["appeal", "open", finding, "--agent", "阿杰", "--reason", note]
    assert runner.invoke(app, [*appeal, *db, *card]).exit_code == 0
    sheet, report = tmp_path / "review.csv", tmp_path / "r.html"
    surfaces = {
        "show": (["show", "cN", "--no-mood", *card], None),
        "report": (["report", "--from", DAY, "--to", DAY, "--out", str(report), *card], report),
        "review export": (["review", "export", "--date", DAY, "--out", str(sheet), *card], sheet),
        "flagged": (["flagged", "--format", "json", *card], None),
        "review log": (["review", "log"], None),
        "appeal list": (["appeal", "list"], None),
    }
    for name, (command, path) in surfaces.items():
        for masked in (False, True):
            # The report masks unless told otherwise (it is mailed); the others on request.
            flag = ("--mask-pii" if masked else []) if name != "report" else ([] if masked else "--show-pii")
            r = runner.invoke(app, [*command, *db, *([flag] if flag else [])], env={"COLUMNS": "250"})
            assert r.exit_code == 0, (name, r.output)
            out = path.read_text(encoding="utf-8-sig") if path is not None else r.stdout
            assert (nick in out) is not masked, name
            if masked:
                assert "[买家]" in out and "小雨" in out, name


def _haggle(conversation_id: str, buyer: str = "buyer9") -> dict:
    """A buyer asks for a discount and 阿杰 answers 爱买不买 (FP-0014, conflict)."""
    return {
        "conversation_id": conversation_id,
        "shop": SHOP,
        "messages": [
            msg("customer", buyer, "09:00:00", "能便宜点吗"),
            msg("agent", f"{SHOP}:阿杰", "09:00:05", "爱买不买"),
        ],
    }


def test_a_buyer_nicknamed_like_the_charged_phrase_leaves_it_readable_on_every_list(tmp_path):
    """A buyer nicknamed 爱买不买 turned the agent's charged 爱买不买 into 「[买家]」 in qc flagged,
    the training samples and the model's row of the review sheet (audit 94 #3); a conversation id
    that is a phone number stayed whole in qc appeal list --mask-pii (#8)."""
    import json

    db, runner = _store_with_team(tmp_path, _haggle("13512345678", buyer="爱买不买"))
    rows = json.loads(runner.invoke(app, ["flagged", "--format", "json", "--mask-pii", *db]).stdout)
    assert [r["excerpt"] for r in rows] == ["爱买不买"]
    assert "13512345678" not in json.dumps(rows)
    finding = rows[0]["finding_ids"][0]
    sheet = tmp_path / "review.csv"
    r = runner.invoke(app, ["review", "export", "--date", DAY, "--out", str(sheet), "--mask-pii", *db])
    assert r.exit_code == 0, r.output
    lines = list(csv.reader(sheet.read_text(encoding="utf-8-sig").splitlines()))
    texts = {row[lines[0].index("整条消息")] for row in lines[1:] if len(row) > 1}
    assert texts == {"爱买不买"} and len(lines) > 2  # the model's row too, when it flagged the message
    # The masked sheet still goes back: its rows match what the store holds.
    with sheet.open(encoding="utf-8-sig", newline="") as fh:
        table = list(csv.reader(fh))
    table[1][table[0].index("复核结论（确认/驳回）")] = "确认"
    table[1][table[0].index("复核人")] = "质检小王"
    with sheet.open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(table)
    r = runner.invoke(app, ["review", "import", str(sheet), *db])
    assert r.exit_code == 0, r.output
    samples = tmp_path / "fb.jsonl"
    assert runner.invoke(app, ["feedback", "export", "--out", str(samples), "--mask-pii", *db]).exit_code == 0
    texts = {json.loads(line)["text"] for line in samples.read_text(encoding="utf-8").splitlines()}
    assert texts == {"爱买不买"}
    assert (
        runner.invoke(app, ["appeal", "open", finding, "--agent", "阿杰", "--reason", "冤枉", *db]).exit_code
        == 0
    )
    listed = runner.invoke(app, ["appeal", "list", "--mask-pii", *db]).stdout
    assert "13512345678" not in listed and '"conversation_id": "[电话]"' in listed
    assert "13512345678" in runner.invoke(app, ["appeal", "list", *db]).stdout
    # qc sample had no --mask-pii at all (audit 94 #12)
    for masked in (False, True):
        spot = tmp_path / f"spot{masked}.csv"
        args = ["sample", "--per-agent", "2", "--seed", "1", "--date", DAY, "--out", str(spot), *db]
        assert runner.invoke(app, [*args, *(["--mask-pii"] if masked else [])]).exit_code == 0
        text = spot.read_text(encoding="utf-8-sig")
        assert ("13512345678" in text) is not masked and ("[电话]" in text) is masked


def test_review_import_quotes_no_more_of_a_shifted_person_cell_than_of_a_decision(tmp_path):
    """A buyer's complaint in the 复核人 cell was printed 40 characters long (audit 94 #7)."""
    db, runner = _store_with_team(tmp_path, _haggle("cP"))
    sheet = tmp_path / "review.csv"
    assert runner.invoke(app, ["review", "export", "--date", DAY, "--out", str(sheet), *db]).exit_code == 0
    with sheet.open(encoding="utf-8-sig", newline="") as fh:
        table = list(csv.reader(fh))
    complaint = "我是买家欧阳娜娜住在幸福路八号请尽快处理我的投诉不然我就去找平台"
    table[1][table[0].index("复核结论（确认/驳回）")] = "确认"
    table[1][table[0].index("复核人")] = complaint
    with sheet.open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(table)
    r = runner.invoke(app, ["review", "import", str(sheet), *db])
    assert r.exit_code == 2 and "is not registered" in r.stderr
    # Cut at 16 characters (masked), as a decision cell is: the start names the row, no more.
    assert "row 2: 我是买家欧阳娜娜住在" in r.stderr and "投诉" not in r.stderr
