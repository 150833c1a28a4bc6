"""Round trips from Excel (issue 17, item 3), through the CLI.

`qc review export` writes Chinese headers and says why a row costs nothing; whatever Excel or
WPS saves it back as (UTF-8, UTF-8 with BOM, GBK, GB18030, UTF-16 text, XLSX) `qc review
import` reads with the readers' sniffing. Other files people edit (drafts for `qc check
--file`, a scorecard) read the same way. No traceback reaches the user.
"""

from __future__ import annotations

import csv
import io
import json

import openpyxl
import pytest
from review_day import CONVERSATIONS, DAY, SHOP, inspect_day, msg
from typer.testing import CliRunner

from qc.cli import app
from qc.supervise.people import current_user

runner = (
    CliRunner(mix_stderr=False) if "mix_stderr" in CliRunner.__init__.__code__.co_varnames else CliRunner()
)
# A held-back finding: the lexicon hit is vetoed by the offer to find out.
HELD = {
    "conversation_id": "cH",
    "shop": SHOP,
    "messages": [
        msg("customer", "buyer7", "14:00:00", "这个能防水吗"),
        msg("agent", f"{SHOP}:小美", "14:00:05", "我不清楚呢，马上帮您问一下"),
    ],
}


@pytest.fixture()
def day(tmp_path):
    report = inspect_day(tmp_path, conversations=[*CONVERSATIONS, HELD])
    ids = {f.conversation_id: f.id for f in report.findings}
    return ids, ["--db", str(tmp_path / "qc.sqlite")], tmp_path


def run(*args):
    return runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "200"})


def exported(tmp, db, name="review.csv"):
    out = tmp / name
    r = run("review", "export", "--date", DAY, "--out", out, *db)
    assert r.exit_code == 0, r.stderr
    return out


def rows_of(path):
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


def test_the_sheet_has_chinese_headers_and_says_why_a_row_costs_nothing(day):
    ids, db, tmp = day
    header, *rows = rows_of(exported(tmp, db))
    assert header[:13] == [
        "发现编号",
        "日期",
        "客服",
        "会话编号",
        "消息序号",
        "类型",
        "词条",
        "扣分",
        "考核期",
        "考核期扣分",
        "不扣分原因",
        "复核状态",
        "申诉",
    ]
    assert header[-3:] == ["复核结论（确认/驳回）", "复核人", "备注（驳回必填）"]
    by_id = {r[0]: dict(zip(header, r, strict=True)) for r in rows}
    charged = by_id[ids["cA"]]
    assert (charged["扣分"], charged["考核期"], charged["考核期扣分"], charged["不扣分原因"]) == (
        "-5",
        "2026-11",
        "-5",
        "",
    )
    held = by_id[ids["cH"]]
    assert held["扣分"] == "0" and held["考核期扣分"] == "0"
    assert held["不扣分原因"].startswith("上下文已排除") and "suppressed by context" in held["不扣分原因"]
    # the veto worded in Chinese, as the workbench words it
    why = held["不扣分原因"]
    assert "同一条回复里有主动帮忙「马上」" in why and "same message has" not in why


def _fill(path, decisions):
    """The exported CSV with decision/by/note filled for some finding ids, as rows."""
    header, *rows = rows_of(path)
    for row in rows:
        if row[0] in decisions:
            row[-3:] = decisions[row[0]]
    return [header, *rows]


def _csv_bytes(rows, encoding, delimiter=","):
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


@pytest.mark.parametrize(
    ("encoding", "delimiter"),
    [("utf-8", ","), ("utf-8-sig", ","), ("gbk", ","), ("gb18030", ","), ("utf-16", "\t")],
    ids=["utf-8", "utf-8-bom", "gbk", "gb18030", "utf-16-tab"],
)
def test_import_reads_what_excel_saves(day, encoding, delimiter):
    ids, db, tmp = day
    rows = _fill(
        exported(tmp, db), {ids["cA"]: ["驳回", "质检小王", "熟客之间开玩笑"], ids["cB"]: ["确认", "", ""]}
    )
    edited = tmp / f"edited-{encoding}.csv"
    edited.write_bytes(_csv_bytes(rows, encoding, delimiter))
    r = run("review", "import", edited, "--by", "张主管", *db)
    assert r.exit_code == 0, r.stderr
    assert "Traceback" not in r.stderr and "2 changed" in r.stderr
    log = [json.loads(line) for line in run("review", "log", ids["cA"], *db).stdout.splitlines()]
    assert [(x["actor"], x["state_after"], x["note"]) for x in log] == [
        ("质检小王", "rejected", "熟客之间开玩笑")
    ]
    log = [json.loads(line) for line in run("review", "log", ids["cB"], *db).stdout.splitlines()]
    assert [(x["actor"], x["state_after"]) for x in log] == [
        ("张主管", "confirmed")
    ]  # --by fills empty 复核人


def test_import_reads_an_edited_xlsx(day):
    ids, db, tmp = day
    path = exported(tmp, db, "review.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    assert ws.title == "复核" and ws["A1"].value == "发现编号"
    for row in ws.iter_rows(min_row=2):
        if row[0].value == ids["cA"]:
            row[-3].value, row[-2].value, row[-1].value = "驳回", "质检小王", "joke"
    wb.save(path)
    r = run("review", "import", path, *db)
    assert r.exit_code == 0, r.stderr
    assert "1 changed" in r.stderr and "(XLSX)" in r.stderr


def test_refused_rows_are_listed_by_row_number_and_exit_2(day):
    ids, db, tmp = day
    rows = _fill(
        exported(tmp, db),
        {
            ids["cA"]: ["驳回", "质检小王", ""],
            ids["cB"]: ["maybe", "质检小王", ""],
            ids["cH"]: ["确认", "路人", ""],
        },
    )
    edited = tmp / "edited.csv"
    edited.write_bytes(_csv_bytes(rows, "gbk"))
    r = run("review", "import", edited, *db)
    assert r.exit_code == 2
    line = {row[0]: n for n, row in enumerate(rows, start=1)}
    assert f"row {line[ids['cA']]}: a rejection needs a note" in r.stderr and "备注 column" in r.stderr
    assert f"row {line[ids['cB']]}: decision 'maybe' is unknown" in r.stderr
    assert f"row {line[ids['cH']]}: 路人 is not registered" in r.stderr
    assert "0 changed" in r.stderr and "3 refused (CSV, gb18030)" in r.stderr


def test_unreadable_or_missing_sheets_are_clear_errors(day):
    _, db, tmp = day
    junk = tmp / "junk.csv"
    junk.write_bytes(b"\x01\x02\x03\x04\x05\x06" * 100)
    r = run("review", "import", junk, *db)
    assert (
        r.exit_code == 1 and "junk.csv: looks like a binary file" in r.stderr and "Traceback" not in r.stderr
    )
    r = run("review", "import", tmp / "missing.csv", *db)
    assert r.exit_code == 2 and "no such file" in r.stderr
    # A folder is not "no such file" (audit 119 L3).
    r = run("review", "import", tmp, *db)
    assert r.exit_code == 2 and f"{tmp}: is a folder; give the sheet file" in r.stderr
    assert "no such file" not in r.stderr
    other = tmp / "other.csv"
    other.write_text("a,b\n1,2\n", encoding="utf-8")
    r = run("review", "import", other, *db)
    assert r.exit_code == 2 and "no column 发现编号 (finding_id)" in r.stderr
    other.write_text("发现编号,复核人\nffff,质检小王\n", encoding="utf-8")
    r = run("review", "import", other, *db)
    assert r.exit_code == 2 and "no column 复核结论（确认/驳回） (decision)" in r.stderr
    # a column qc reads, twice: the second's decisions were passed over unsaid (audit 172 F10)
    other.write_text("发现编号,复核结论,复核人,decision\nffff,,质检小王,驳回\n", encoding="utf-8")
    r = run("review", "import", other, *db)
    assert r.exit_code == 2 and "the sheet has two columns 复核结论（确认/驳回）: keep one" in r.stderr


def test_export_out_must_be_a_file_not_a_folder(day):
    _, db, tmp = day
    r = run("review", "export", "--date", DAY, "--out", tmp, *db)
    assert r.exit_code == 2 and "is a folder; give a file name" in r.stderr


def test_other_edited_files_read_as_gbk(tmp_path):
    drafts = tmp_path / "drafts.txt"
    drafts.write_bytes("哦\n亲，有现货的哦\n".encode("gbk"))
    r = run("check", "--file", drafts)
    assert r.exit_code == 0, r.stderr
    assert [json.loads(line)["text"] for line in r.stdout.splitlines()] == ["哦", "亲，有现货的哦"]
    card = tmp_path / "shop.toml"
    card.write_bytes('[card]\nname = "某店考核表"\n'.encode("gb18030"))
    r = run("scorecard", "show", "--scorecard", card)
    assert r.exit_code == 0, r.stderr
    assert 'name = "某店考核表"' in r.stdout


# Several messages before a finding: the 上文 cell holds line breaks, so a CSV record spans lines.
CONTEXT = "买家: 在吗\n客服: 在的亲\n买家: 能便宜点吗"


def test_refused_rows_are_named_by_the_sheet_row_excel_shows_not_the_csv_line(day):
    ids, db, tmp = day
    header, *rows = _fill(
        exported(tmp, db), {ids["cA"]: ["驳回", "质检小王", "熟客"], ids["cB"]: ["maybe", "质检小王", ""]}
    )
    for row in rows:
        row[header.index("上文")] = CONTEXT
    rows.sort(key=lambda r: r[0] != ids["cA"])  # cA's row first: row 2, the rest after it
    edited = tmp / "edited.csv"
    edited.write_bytes(_csv_bytes([header, *rows], "utf-8-sig"))
    r = run("review", "import", edited, *db)
    assert r.exit_code == 2
    row_of = {row[0]: n for n, row in enumerate([header, *rows], start=1)}
    assert row_of[ids["cA"]] == 2 and row_of[ids["cB"]] > 2
    assert f"row 2: {ids['cA']} pending → rejected" in r.stderr
    assert f"{edited}: row {row_of[ids['cB']]}: decision 'maybe' is unknown" in r.stderr
    assert CONTEXT.splitlines()[0] not in r.stderr  # never the chat text
    log = [json.loads(line) for line in run("review", "log", ids["cA"], *db).stdout.splitlines()]
    # the row names its reviewer; who imported it, and the login that ran qc, are beside (audit 168 M1)
    assert [x["source"] for x in log] == [f"csv:edited.csv:2 · login {current_user()}"]


def _log(db, finding_id):
    return [json.loads(line) for line in run("review", "log", finding_id, *db).stdout.splitlines()]


def test_a_finding_confirmed_and_rejected_in_one_sheet_is_refused_in_both_rows(day):
    ids, db, tmp = day
    header, *rows = _fill(
        exported(tmp, db), {ids["cA"]: ["确认", "质检小王", ""], ids["cB"]: ["驳回", "质检小王", "熟客"]}
    )
    again = next(r for r in rows if r[0] == ids["cA"])
    rows.append([*again[:-3], "reject", "张主管", "joke"])  # the same finding, the other decision
    edited = tmp / "edited.csv"
    edited.write_bytes(_csv_bytes([header, *rows], "utf-8-sig"))
    r = run("review", "import", edited, *db)
    assert r.exit_code == 2 and "Traceback" not in r.stderr
    first, last = (n for n, row in enumerate([header, *rows], start=1) if row[0] == ids["cA"])
    refused = f"finding {ids['cA']} has conflicting decisions in rows {first} and {last} (confirm and reject)"
    assert f"{edited}: row {first}: {refused}" in r.stderr and f"{edited}: row {last}: {refused}" in r.stderr
    assert "1 changed" in r.stderr and "2 refused" in r.stderr
    assert _log(db, ids["cA"]) == []  # nothing applied for it
    assert [x["state_after"] for x in _log(db, ids["cB"])] == ["rejected"]  # the good row still is


def test_the_same_decision_twice_is_applied_once_with_a_warning(day):
    ids, db, tmp = day
    header, *rows = _fill(exported(tmp, db), {ids["cA"]: ["确认", "质检小王", ""]})
    again = next(r for r in rows if r[0] == ids["cA"])
    rows.append([*again[:-3], "confirm", "质检小王", ""])
    edited = tmp / "edited.csv"
    edited.write_bytes(_csv_bytes([header, *rows], "utf-8-sig"))
    r = run("review", "import", edited, *db)
    assert r.exit_code == 0, r.stderr
    first, last = (n for n, row in enumerate([header, *rows], start=1) if row[0] == ids["cA"])
    assert f"warning: {edited}: rows {first} and {last} both confirm finding {ids['cA']}" in r.stderr
    assert "1 changed, 1 unchanged" in r.stderr
    assert [x["state_after"] for x in _log(db, ids["cA"])] == ["confirmed"]


def test_a_shifted_row_is_refused_without_quoting_the_chat_it_holds(day):
    """Two extra cells move the message into the decision column: refused, and no message text echoed."""
    ids, db, tmp = day
    header, *rows = _fill(
        exported(tmp, db), {ids["cA"]: ["确认", "质检小王", "ok"], ids["cB"]: ["确认", "质检小王", ""]}
    )
    shifted = next(r for r in rows if r[0] == ids["cA"])
    at = header.index("整条消息")
    shifted[at:at] = ["13912345678这个号我不知道，浙江省杭州市西湖区文三路90号", "x"]
    edited = tmp / "edited.csv"
    edited.write_bytes(_csv_bytes([header, *rows], "utf-8-sig"))
    r = run("review", "import", edited, *db)
    assert r.exit_code == 2 and "13912345678" not in r.stderr and "文三路" not in r.stderr
    row = 1 + next(n for n, cells in enumerate(rows, start=1) if cells[0] == ids["cA"])
    assert (
        f"{edited}: row {row}: has {len(header) + 2} cells, the header {len(header)}: a cell was split"
        in r.stderr
    )
    assert _log(db, ids["cA"]) == [] and [x["state_after"] for x in _log(db, ids["cB"])] == ["confirmed"]
    # an unknown decision word is quoted masked and short
    header, *rows = _fill(
        exported(tmp, db, "again.csv"), {ids["cA"]: ["电话13912345678地址在文三路", "质检小王", ""]}
    )
    edited.write_bytes(_csv_bytes([header, *rows], "utf-8-sig"))
    r = run("review", "import", edited, *db)
    assert r.exit_code == 2 and "decision '电话[电话]地址在文三路' is unknown" in r.stderr


def test_a_sheet_does_not_overturn_a_decision_made_after_its_export(day):
    ids, db, tmp = day
    sheet = exported(tmp, db)  # 复核状态 pending for both
    r = run("review", ids["cA"], "--reject", "--by", "张主管", "--note", "熟客开玩笑", *db)
    assert r.exit_code == 0, r.stderr
    edited = tmp / "edited.csv"
    filled = _fill(sheet, {ids["cA"]: ["确认", "质检小王", ""], ids["cB"]: ["确认", "质检小王", ""]})
    edited.write_bytes(_csv_bytes(filled, "utf-8-sig"))
    r = run("review", "import", edited, *db)
    assert r.exit_code == 2
    row = next(n for n, cells in enumerate(filled, start=1) if cells[0] == ids["cA"])
    assert (
        f"{edited}: row {row}: finding {ids['cA']} is rejected now, not pending as on your page or sheet"
        in r.stderr
    )
    assert [x["state_after"] for x in _log(db, ids["cA"])] == ["rejected"]  # the later decision stands
    assert [x["state_after"] for x in _log(db, ids["cB"])] == ["confirmed"]  # the other row applied
    # the reviewer changes their own mind in the same sheet and imports it again: allowed
    filled = _fill(sheet, {ids["cA"]: ["", "", ""], ids["cB"]: ["驳回", "质检小王", "看错了"]})
    edited.write_bytes(_csv_bytes(filled, "utf-8-sig"))
    r = run("review", "import", edited, *db)
    assert r.exit_code == 0, r.stderr
    assert [x["state_after"] for x in _log(db, ids["cB"])] == ["confirmed", "rejected"]


def test_another_reviewers_sheet_of_the_same_name_does_not_overturn_a_decision(day):
    """Both reviewers save the README's review.csv: the name alone is not the sheet."""
    ids, db, tmp = day
    (tmp / "wang").mkdir()
    (tmp / "qa").mkdir()
    mine, theirs = exported(tmp, db, "wang/review.csv"), exported(tmp, db, "qa/review.csv")
    mine.write_bytes(_csv_bytes(_fill(mine, {ids["cA"]: ["驳回", "质检小王", "熟客开玩笑"]}), "utf-8-sig"))
    assert run("review", "import", mine, *db).exit_code == 0
    filled = _fill(theirs, {ids["cA"]: ["确认", "qa", ""]})  # still shows pending
    theirs.write_bytes(_csv_bytes(filled, "utf-8-sig"))
    r = run("review", "import", theirs, *db)
    assert r.exit_code == 2
    assert f"finding {ids['cA']} is rejected now, not pending as on your page or sheet" in r.stderr
    assert [x["state_after"] for x in _log(db, ids["cA"])] == ["rejected"]
    # the first reviewer changing their own mind in their sheet is still allowed
    mine.write_bytes(_csv_bytes(_fill(mine, {ids["cA"]: ["确认", "质检小王", ""]}), "utf-8-sig"))
    assert run("review", "import", mine, *db).exit_code == 0
    assert [x["state_after"] for x in _log(db, ids["cA"])] == ["rejected", "confirmed"]


def test_a_sheet_holding_a_message_longer_than_pythons_csv_cell_limit_reads_back(tmp_path):
    """qc keeps a message whole; its own sheet must import although a cell passes 131,072 characters."""
    said = "爱买不买" + "，" * 140_000
    long = {
        "conversation_id": "cL",
        "shop": SHOP,
        "messages": [
            msg("customer", "buyer9", "09:00:00", "能便宜点吗"),
            msg("agent", "测试店:阿杰", "09:00:30", said),
        ],
    }
    report = inspect_day(tmp_path, conversations=[long])
    fid = next(f.id for f in report.findings if f.conversation_id == "cL" and not f.suppressed)
    db = ["--db", str(tmp_path / "qc.sqlite")]
    sheet = exported(tmp_path, db)
    assert max(len(cell) for row in rows_of(sheet) for cell in row) > 131_072
    sheet.write_bytes(_csv_bytes(_fill(sheet, {fid: ["驳回", "质检小王", "熟客"]}), "utf-8-sig"))
    r = run("review", "import", sheet, *db)
    assert r.exit_code == 0, r.stderr
    assert [x["state_after"] for x in _log(db, fid)] == ["rejected"]


def test_a_finding_id_typed_in_upper_case_is_the_finding(day):
    ids, db, tmp = day
    header, *rows = _fill(exported(tmp, db), {ids["cA"]: ["驳回", "质检小王", "熟客"]})
    for row in rows:
        row[0] = row[0].upper()
    edited = tmp / "edited.csv"
    edited.write_bytes(_csv_bytes([header, *rows], "utf-8-sig"))
    r = run("review", "import", edited, *db)
    assert r.exit_code == 0, r.stderr
    assert [x["state_after"] for x in _log(db, ids["cA"])] == ["rejected"]


def test_a_finding_that_costs_nothing_takes_no_appeal(day):
    ids, db, tmp = day  # cH's lexicon hit is vetoed by the offer to find out
    r = run("appeal", "open", ids["cH"], "--agent", "小美", "--reason", "I offered to ask", *db)
    assert r.exit_code == 2
    assert f"finding {ids['cH']} was vetoed by a context rule" in r.stderr and "nothing to appeal" in r.stderr
    # a shop card that only reviews forbidden phrases: cA's 爱买不买 costs nothing there either
    card = tmp / "shop.toml"
    card.write_text('[findings]\nreview_only = ["forbidden_phrase"]\n', encoding="utf-8")
    args = ["appeal", "open", ids["cA"], "--agent", "阿杰", "--reason", "the buyer joked"]
    r = run(*args, "--scorecard", card, *db)
    assert r.exit_code == 2 and "a kind the scorecard only reviews" in r.stderr
    assert run(*args, *db).exit_code == 0  # on the packaged card it is charged: appealable


def test_a_row_cut_off_mid_row_is_refused_not_skipped(day):
    ids, db, tmp = day
    header, *rows = _fill(
        exported(tmp, db), {ids["cA"]: ["驳回", "质检小王", "熟客"], ids["cB"]: ["驳回", "质检小王", "熟客"]}
    )
    cut = next(n for n, row in enumerate(rows) if row[0] == ids["cA"])
    rows[cut] = rows[cut][: header.index("消息序号") + 1]  # ends after 消息序号: the decision is lost
    edited = tmp / "edited.csv"
    edited.write_bytes(_csv_bytes([header, *rows], "utf-8-sig"))
    r = run("review", "import", edited, *db)
    assert r.exit_code == 2 and "Traceback" not in r.stderr
    assert f"{edited}: row {cut + 2}: cut off after 消息序号 (5 of 19 cells)" in r.stderr
    assert "1 changed" in r.stderr and "1 refused" in r.stderr
    assert _log(db, ids["cA"]) == []
    assert [x["state_after"] for x in _log(db, ids["cB"])] == ["rejected"]


def test_a_row_without_the_trailing_cells_excel_leaves_out_is_read(day):
    """Excel may drop a CSV row's trailing empty cells; the export leaves 复核结论, 复核人, 备注 empty."""
    ids, db, tmp = day
    header, *rows = rows_of(exported(tmp, db))
    decided = header.index("复核结论（确认/驳回）")
    for row in rows:
        del row[decided:]
        if row[0] == ids["cA"]:
            row.append("确认")  # 复核人 and 备注 left out
    edited = tmp / "edited.csv"
    edited.write_bytes(_csv_bytes([header, *rows], "utf-8-sig"))
    r = run("review", "import", edited, "--by", "质检小王", *db)
    assert r.exit_code == 0, r.stderr
    assert f"1 changed, 0 unchanged, {len(rows) - 1} without decision, 0 refused" in r.stderr
    assert [(x["actor"], x["state_after"]) for x in _log(db, ids["cA"])] == [("质检小王", "confirmed")]


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("review.xlsx", b"not a zip", "review.xlsx: is not an XLSX workbook"),
        ("review.xlsx", b"\xd0\xcf\x11\xe0" + bytes(60), "review.xlsx: is a password-protected workbook"),
        ("review.csv", b"", "review.csv: is empty"),
        ("review.csv", b"\xef\xbb\xbf\r\n,,,\r\n", "review.csv: is empty"),
        ("review.csv", b"\xff\xfe", "review.csv: is empty"),
    ],
    ids=["fake-xlsx", "encrypted-xlsx", "empty", "blank-rows", "utf16-bom-only"],
)
def test_a_sheet_qc_cannot_read_exits_1_naming_the_file_and_the_fix(day, name, data, message):
    _, db, tmp = day
    sheet = tmp / name
    sheet.write_bytes(data)
    r = run("review", "import", sheet, *db)
    assert r.exit_code == 1, r.stderr
    assert f"qc: {sheet}: " in r.stderr and message in r.stderr and "Traceback" not in r.stderr
    assert "qc review export" in r.stderr or "save it" in r.stderr  # the fix


def test_an_empty_workbook_exits_1(day):
    _, db, tmp = day
    sheet = tmp / "review.xlsx"
    openpyxl.Workbook().save(sheet)
    r = run("review", "import", sheet, *db)
    assert r.exit_code == 1 and f"qc: {sheet}: is empty" in r.stderr


def test_a_workbook_whose_sheet_xml_is_damaged_exits_1(day):
    # A noncharacter written into the sheet's XML (as an older qc could) breaks only the rows.
    import zipfile

    _, db, tmp = day
    good = tmp / "good.xlsx"
    book = openpyxl.Workbook()
    book.active.append(["发现编号", "复核结论（确认/驳回）"])
    book.active.append(["abc", "确认"])
    book.save(good)
    sheet = tmp / "review.xlsx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(sheet, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace("确认".encode(), "确认\uffff".encode())
            dst.writestr(item, data)
    r = run("review", "import", sheet, *db)
    assert r.exit_code == 1, r.stderr
    assert f"qc: {sheet}: the sheet cannot be read" in r.stderr and "Traceback" not in r.stderr


def test_a_sheet_without_the_state_column_overturns_nobody_silently(day):
    """qc review refuses to overturn another person's decision without --overturn; a sheet of
    three columns did it anyway, logged as the importer's (audit 72). A sheet that shows the
    state the reviewer saw may still change it."""
    ids, db, tmp = day
    fid = ids["cA"]
    assert (
        run("review", fid, "--reject", "--by", "张主管", "--note", "joke between regulars", *db).exit_code
        == 0
    )
    bare = tmp / "bare.csv"
    bare.write_text(f"发现编号,复核结论（确认/驳回）,复核人\n{fid},确认,质检小王\n", encoding="utf-8")
    r = run("review", "import", bare, *db)
    assert r.exit_code == 2 and "was rejected by 张主管" in r.stderr and "fresh review sheet" in r.stderr
    trail = json.loads("[" + ",".join(run("review", "log", fid, *db).stdout.splitlines()) + "]")
    assert [(row["action"], row["actor"]) for row in trail] == [("reject", "张主管")]
    # the same decision again records nothing: one row unchanged
    again = tmp / "again.csv"
    again.write_text(
        "发现编号,复核结论（确认/驳回）,复核人,备注（驳回必填）\n"
        f"{fid},驳回,质检小王,joke between regulars\n",
        encoding="utf-8",
    )
    r = run("review", "import", again, *db)
    assert r.exit_code == 0 and "0 changed, 1 unchanged" in r.stderr, r.stderr
    # a fresh sheet shows 张主管's reject in 复核状态: its confirm is a deliberate overturn
    sheet = exported(tmp, db)
    rows = rows_of(sheet)
    header, body = rows[0], rows[1:]
    row = next(r for r in body if r[0].lstrip("'") == fid)
    row[header.index("复核结论（确认/驳回）")], row[header.index("复核人")] = "确认", "质检小王"
    with sheet.open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows([header, row])
    # ... with a reason of its own: overturning a colleague's decision needs one (audit 116 M4)
    r = run("review", "import", sheet, *db)
    assert r.exit_code == 2 and "overturning their decision needs a note saying why" in r.stderr
    row[header.index("备注（驳回必填）")] = "重听录音后确认"
    with sheet.open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows([header, row])
    r = run("review", "import", sheet, *db)
    assert r.exit_code == 0 and "1 changed" in r.stderr, r.stderr


def _later_part_first(tmp_path, said):
    """Conversation J1 in two exports: all but its first two messages inspected first, with a
    reviewer registered; the earlier part's folder is left for the test to inspect after."""
    parts = {}
    for name, part in (("earlier", said[:2]), ("later", said[2:])):
        folder = tmp_path / name
        folder.mkdir()
        lines = [{"conversation_id": "J1", "shop": SHOP, **msg(*m)} for m in part]
        (folder / "day.jsonl").write_text(
            "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), "utf-8"
        )
        parts[name] = folder
    db = ["--db", tmp_path / "qc.sqlite"]
    assert run("inspect", parts["later"], "--out", tmp_path / "o1", "-q", *db).exit_code == 0
    assert run("people", "add", "质检小王", "--role", "reviewer", *db).exit_code == 0
    return parts, db


def test_a_sheet_row_on_a_repeated_reply_that_a_later_run_renumbered_is_refused(tmp_path):
    """The agent said 不知道 twice; a later run put the chat's earlier part in front, so the
    sheet's id named the other 不知道: the words matched, and the rejection landed on the message
    the reviewer never read, the one read still charged (audit 86 H1). The 上文 tells them apart."""
    said = [
        ("customer", "b1", "09:58:00", "你好"),
        ("agent", f"{SHOP}:小美", "09:58:10", "您好，在的，请问有什么可以帮您"),
        ("customer", "b1", "10:01:00", "能今天发货吗"),
        ("agent", f"{SHOP}:小美", "10:01:10", "不知道"),
        ("customer", "b1", "10:02:00", "那明天能发吗"),
        ("agent", f"{SHOP}:小美", "10:02:10", "不知道"),
    ]
    parts, db = _later_part_first(tmp_path, said)
    sheet = exported(tmp_path, db)
    header, *rows = rows_of(sheet)
    (row,) = [
        r
        for r in rows
        if r[header.index("上文")].endswith("那明天能发吗")
        and r[header.index("命中内容")] == "不知道"
        and r[header.index("类型")] == "impatience"
    ]
    fid = row[0]
    assert run("inspect", parts["earlier"], "--out", tmp_path / "o2", "-q", *db).exit_code == 0
    filled = _fill(sheet, {fid: ["驳回", "质检小王", "第二次回复前已说明"]})
    edited = tmp_path / "edited.csv"
    edited.write_bytes(_csv_bytes(filled, "utf-8-sig"))
    r = run("review", "import", edited, *db)
    assert r.exit_code == 2, r.stderr
    assert f"finding {fid} is now on another message of the same words" in r.stderr
    assert _log(db, fid) == []


def _confirmed_retort(tmp_path):
    """The later part of a chat inspected, and a sheet whose 上面写着呢 row is confirmed.

    Returns the parts' folders, the --db option, the row's finding id and the filled sheet; the
    earlier part, inspected after, puts the retort on another message.
    """
    said = [
        ("customer", "b1", "10:00:00", "有货吗"),
        ("agent", f"{SHOP}:小美", "10:00:05", "自己看详情页"),
        ("customer", "b1", "10:05:00", "发什么快递"),
        ("agent", f"{SHOP}:小美", "10:05:10", "上面写着呢"),
    ]
    parts, db = _later_part_first(tmp_path, said)
    sheet = exported(tmp_path, db)
    header, *rows = rows_of(sheet)
    (row,) = [
        r
        for r in rows
        if r[header.index("命中内容")] == "上面写着呢" and r[header.index("类型")] == "impatience"
    ]
    filled = _fill(sheet, {row[0]: ["确认", "质检小王", "明显不耐烦"]})
    edited = tmp_path / "edited.csv"
    edited.write_bytes(_csv_bytes(filled, "utf-8-sig"))
    return parts, db, row[0], edited


def test_a_sheet_row_whose_finding_id_now_names_another_message_is_refused(tmp_path):
    """A finding id comes from its message's place in the conversation: once a later run put the
    chat's earlier part in front, the sheet's 上面写着呢 row confirmed the finding now on another
    message, and the one the reviewer read stayed undecided (audit 82 #1)."""
    parts, db, fid, edited = _confirmed_retort(tmp_path)
    assert run("inspect", parts["earlier"], "--out", tmp_path / "o2", "-q", *db).exit_code == 0
    r = run("review", "import", edited, *db)
    assert r.exit_code == 2
    assert f"finding {fid} is now on another message: the sheet shows '上面写着呢'" in r.stderr
    assert "export a fresh sheet" in r.stderr
    assert _log(db, fid) == []  # nothing decided on the message nobody reviewed
    # A masked sheet of the same day is matched as masked, and its rows apply.
    masked = tmp_path / "masked.csv"
    assert run("review", "export", "--date", DAY, "--out", masked, "--mask-pii", *db).exit_code == 0
    header, *rows = rows_of(masked)
    again = {r[0] for r in rows if r[header.index("类型")] == "impatience"}
    filled = _fill(masked, {f: ["确认", "质检小王", ""] for f in again})
    masked.write_bytes(_csv_bytes(filled, "utf-8-sig"))
    r = run("review", "import", masked, *db)
    assert r.exit_code == 0, r.stderr


def test_a_re_run_saved_while_a_sheet_is_imported_does_not_move_its_rows(tmp_path, monkeypatch):
    """The rows were checked against the store once, before any was applied: a re-run saved
    during the import (it takes seconds) renumbered the chat, and the later rows landed on
    messages nobody read (audit 88 #1). Each row is checked again under the write lock."""
    import qc.supervise.review_sheet as review_sheet

    parts, db, fid, edited = _confirmed_retort(tmp_path)
    checked = review_sheet.finding_states

    def states_then_a_re_run(*args, **kwargs):
        # The rows have been checked (their 命中内容 matches); another QA's re-run lands now.
        out = checked(*args, **kwargs)
        assert run("inspect", parts["earlier"], "--out", tmp_path / "o2", "-q", *db).exit_code == 0
        return out

    monkeypatch.setattr(review_sheet, "finding_states", states_then_a_re_run)
    r = run("review", "import", edited, *db)
    assert r.exit_code == 2, r.stderr
    assert f"finding {fid} is now on another message: the sheet shows '上面写着呢'" in r.stderr
    assert _log(db, fid) == []  # nothing decided on the message nobody reviewed


def test_the_sheet_says_which_findings_an_appeal_decides(day):
    """The sheet listed a finding with a pending appeal as pending review: QA filled the row in
    and the import refused it (its ruling decides it). The 申诉 column says so beforehand."""
    ids, db, tmp = day
    pending = run("appeal", "open", ids["cA"], "--agent", "阿杰", "--reason", "the buyer joked", *db)
    assert pending.exit_code == 0, pending.stderr
    ruled = run("appeal", "open", ids["cB"], "--agent", "小美", "--reason", "I answered", *db)
    assert ruled.exit_code == 0, ruled.stderr
    assert (
        run("appeal", "answer", ruled.stdout.strip(), "--by", "质检小王", "--note", "ok", *db).exit_code == 0
    )
    r = run("appeal", "rule", ruled.stdout.strip(), "--uphold", "--by", "张主管", "--note", "stands", *db)
    assert r.exit_code == 0, r.stderr
    for path in (exported(tmp, db), exported(tmp, db, "review.xlsx")):
        if path.suffix == ".xlsx":
            sheet = openpyxl.load_workbook(path).active
            header, *rows = [
                ["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)
            ]
        else:
            header, *rows = rows_of(path)
        cells = {r[0].lstrip("'"): r[header.index("申诉")] for r in rows}
        assert (
            cells[ids["cA"]]
            == f"#{pending.stdout.strip()} 申诉中 open · 不复核 not reviewed: the ruling decides"
        )
        assert cells[ids["cB"]] == f"#{ruled.stdout.strip()} 已裁定 upheld · 终局 final"
        assert cells[ids["cH"]] == ""
        assert [v for k, v in cells.items() if k not in (ids["cA"], ids["cB"])] == [""] * (len(cells) - 2)
    # the column is read by nobody on import: a filled sheet goes back as before
    header, *rows = rows_of(exported(tmp, db))
    held = next(r for r in rows if r[0].lstrip("'") == ids["cH"])
    held[header.index("复核结论（确认/驳回）")], held[header.index("复核人")] = "确认", "质检小王"
    with (tmp / "filled.csv").open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows([header, held])
    r = run("review", "import", tmp / "filled.csv", *db)
    assert r.exit_code == 0, r.stderr


def test_a_masked_sheet_of_a_buyer_nicknamed_like_the_charged_words_goes_back(tmp_path):
    """The export now leaves the charged 爱买不买 readable when the buyer is nicknamed 爱买不买;
    a sheet a qc before that exported (「[买家]」 in 命中内容) was refused as renumbered
    (audit 90 #2). Both go back."""
    said = [
        msg("customer", "爱买不买", "10:00:00", "能便宜点吗"),
        msg("agent", f"{SHOP}:阿杰", "10:00:30", "爱买不买"),
    ]
    inspect_day(tmp_path, conversations=[{"conversation_id": "n1", "shop": SHOP, "messages": said}])
    db = ["--db", str(tmp_path / "qc.sqlite")]
    sheet = tmp_path / "masked.csv"
    assert run("review", "export", "--date", DAY, "--out", sheet, "--mask-pii", *db).exit_code == 0
    header, *rows = rows_of(sheet)
    (row,) = [r for r in rows if r[header.index("类型")] == "forbidden_phrase"]
    assert row[header.index("命中内容")] == "爱买不买"  # the evidence, readable
    row[header.index("命中内容")] = "[买家]"  # as the export before masked it
    row[header.index("复核结论（确认/驳回）")], row[header.index("复核人")] = "确认", "质检小王"
    sheet.write_bytes(_csv_bytes([header, row], "utf-8-sig"))
    r = run("review", "import", sheet, *db)
    assert r.exit_code == 0 and "1 changed" in r.stderr, r.stderr


def test_a_masked_sheet_masks_a_conversation_id_made_of_the_buyers_phone(tmp_path):
    """`qc review export --mask-pii` printed a conversation id that is the buyer's phone (audit 90 #6);
    the import reads rows by finding id, so such a sheet still goes back."""
    chat = {**CONVERSATIONS[0], "conversation_id": "13912345678"}
    inspect_day(tmp_path, conversations=[chat])
    db = ["--db", str(tmp_path / "qc.sqlite")]
    sheet = tmp_path / "masked.csv"
    assert run("review", "export", "--date", DAY, "--out", sheet, "--mask-pii", *db).exit_code == 0
    assert "13912345678" not in sheet.read_text(encoding="utf-8-sig")
    header, *rows = rows_of(sheet)
    assert {r[header.index("会话编号")] for r in rows} == {"[电话]"}
    row = rows[0]
    row[header.index("复核结论（确认/驳回）")], row[header.index("复核人")] = "确认", "质检小王"
    sheet.write_bytes(_csv_bytes([header, row], "utf-8-sig"))
    r = run("review", "import", sheet, *db)
    assert r.exit_code == 0 and "1 changed" in r.stderr, r.stderr


def test_the_sheets_points_add_up_to_what_the_day_cost(tmp_path):
    """不行 was the model's impatience and a forbidden phrase implying it: both rows said −1, and
    the column summed to −8 for a day that cost −7 (audit 97 #4). The second row is 同上 at 0."""
    twice = {
        "conversation_id": "cW",
        "shop": SHOP,
        "messages": [
            msg("customer", "buyer8", "15:00:00", "能便宜点吗"),
            msg("agent", f"{SHOP}:小美", "15:00:05", "不知道，你自己看"),
        ],
    }
    inspect_day(tmp_path, conversations=[*CONVERSATIONS, twice])
    db = ["--db", str(tmp_path / "qc.sqlite")]
    header, *rows = rows_of(exported(tmp_path, db))
    points, why = header.index("扣分"), header.index("不扣分原因")
    attitude = sum(
        float(r["service_attitude_points"])
        for r in json.loads((tmp_path / "out" / "agents.json").read_text(encoding="utf-8"))
    )
    on_message = [r for r in rows if r[3] == "cW" and r[points] != "0"]
    shared = [r for r in rows if r[why].startswith("同上")]
    assert len(on_message) == 1 and shared and all(r[3] == "cW" and r[points] == "0" for r in shared)
    charged_kinds = {"impatience", "conflict", "forbidden_phrase"}
    assert sum(float(r[points]) for r in rows if r[5] in charged_kinds) == attitude
    # the month holds only this day: its column adds up the same, 同上 rows at 0 too
    month = header.index("考核期扣分")
    assert all(r[month] == r[points] for r in rows)


def _filled_xlsx(tmp, db, ids):
    """The exported workbook with cA rejected on its 复核 sheet."""
    path = exported(tmp, db, "review.xlsx")
    wb = openpyxl.load_workbook(path)
    for row in wb["复核"].iter_rows(min_row=2):
        if row[0].value == ids["cA"]:
            row[-3].value, row[-2].value, row[-1].value = "驳回", "质检小王", "买家先压价"
    return path, wb


def test_the_review_sheet_is_found_by_its_header_whatever_sheet_comes_first(day):
    """A 说明 sheet put in front of 复核 made the import read 说明 and advise a fresh export, which
    would lose the decisions typed on 复核 (audit 119 M3)."""
    ids, db, tmp = day
    path, wb = _filled_xlsx(tmp, db, ids)
    wb.create_sheet("说明", 0)["A1"] = "本周复核说明"
    wb.save(path)
    r = run("review", "import", path, *db)
    assert r.exit_code == 0, r.stderr
    assert "1 changed" in r.stderr and "(XLSX, sheet 复核)" in r.stderr
    # Renamed and behind a hidden sheet: the first visible sheet with the header is read.
    path, wb = _filled_xlsx(tmp, db, ids)
    wb["复核"].title = "Sheet1"
    for row in wb["Sheet1"].iter_rows(min_row=2):
        if row[0].value == ids["cA"]:
            row[-3].value, row[-1].value = "确认", "再看一遍成立"
    hidden = wb.create_sheet("草稿", 0)
    hidden.append(["发现编号", "复核结论（确认/驳回）"])
    hidden.sheet_state = "hidden"
    wb.create_sheet("说明", 0)["A1"] = "本周复核说明"
    wb.save(path)
    r = run("review", "import", path, "--by", "质检小王", *db)
    assert r.exit_code == 0, r.stderr
    assert f": {ids['cA']} rejected → confirmed" in r.stderr and "(XLSX, sheet Sheet1)" in r.stderr


def test_a_workbook_without_the_review_header_names_the_sheets_and_keeps_the_decisions(day):
    ids, db, tmp = day
    path, wb = _filled_xlsx(tmp, db, ids)
    wb["复核"].delete_rows(1)  # the header row deleted
    wb["复核"].sheet_state = "hidden"
    wb.create_sheet("说明", 0)["A1"] = "本周复核说明"
    wb.save(path)
    r = run("review", "import", path, *db)
    assert r.exit_code == 2 and "Traceback" not in r.stderr
    assert f"{path}: sheet 说明 row 1: no column 发现编号 (finding_id)" in r.stderr
    assert "sheets read: '说明'" in r.stderr and "hidden, not read: '复核'" in r.stderr
    assert "copy the header row of a fresh qc review export above them" in r.stderr


def test_a_formula_with_no_saved_value_in_a_decision_or_reviewer_cell_is_refused_by_its_cell(day):
    """A workbook written by a script stores =IF(TRUE,"驳回","") without its value: the row was
    counted as without decision, and a formula 复核人 was told --by is required (audit 119 M4)."""
    ids, db, tmp = day
    path = exported(tmp, db, "review.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb["复核"]
    header = [c.value for c in ws[1]]
    decision, by, note = (
        header.index(h) + 1 for h in ("复核结论（确认/驳回）", "复核人", "备注（驳回必填）")
    )
    at = {row[0].value: row[0].row for row in ws.iter_rows(min_row=2)}
    ws.cell(at[ids["cA"]], decision).value = '=IF(TRUE,"驳回","")'
    ws.cell(at[ids["cA"]], by).value = "质检小王"
    ws.cell(at[ids["cA"]], note).value = "买家先压价"
    ws.cell(at[ids["cB"]], decision).value = "确认"
    ws.cell(at[ids["cB"]], by).value = f"=R{at[ids['cA']]}"
    ws.cell(at[ids["cH"]], note).value = '="备注"'  # no decision in the row: nothing to read, nothing said
    wb.save(path)
    r = run("review", "import", path, "--by", "qa", *db)
    assert r.exit_code == 2 and "Traceback" not in r.stderr
    col = openpyxl.utils.get_column_letter
    cell = f"复核!{col(decision)}{at[ids['cA']]}"
    assert f"row {at[ids['cA']]}: {cell} (复核结论) holds a formula with no saved value" in r.stderr
    assert f"row {at[ids['cB']]}: 复核!{col(by)}{at[ids['cB']]} (复核人) holds a formula" in r.stderr
    assert "open the workbook in Excel or WPS and save it so each value is stored" in r.stderr
    assert "type the value in place of the formula" in r.stderr and "IF(" not in r.stderr
    assert "0 changed" in r.stderr and "2 refused" in r.stderr
    assert "--by is required" not in r.stderr  # the cell is not empty: --by does not stand in for it
    log = run("review", "log", ids["cB"], *db)
    assert "qa" not in log.stdout


def test_an_import_says_which_rejected_rows_stay_charged_and_which_confirms_cost_nothing(tmp_path):
    """Rejecting the row that carried a message's −5 left it charged through the message's other
    phrase, and `qc review import` said nothing where `qc review ID --reject` warns (audit 153 M2)."""
    two = {
        "conversation_id": "cT",
        "shop": SHOP,
        "messages": [
            msg("customer", "buyer8", "16:00:00", "能便宜点吗"),
            msg("agent", f"{SHOP}:阿杰", "16:00:05", "爱买不买，你自己看详情页"),
        ],
    }
    report = inspect_day(tmp_path, conversations=[*CONVERSATIONS, HELD, two])
    by_entry = {f.entry: f.id for f in report.findings if f.conversation_id == "cT"}
    held = next(f.id for f in report.findings if f.conversation_id == "cH")
    db = ["--db", str(tmp_path / "qc.sqlite")]
    sheet = exported(tmp_path, db)
    filled = _fill(sheet, {by_entry["FP-0014"]: ["驳回", "质检小王", "熟客"], held: ["确认", "质检小王", ""]})
    edited = tmp_path / "edited.csv"
    edited.write_bytes(_csv_bytes(filled, "utf-8-sig"))
    r = run("review", "import", edited, *db)
    assert r.exit_code == 0, r.stderr
    row_of = {row[0]: n for n, row in enumerate(filled, start=1)}
    assert (
        f"warning: row {row_of[by_entry['FP-0014']]}: its message is still charged: {by_entry['FP-0010']}"
        " (forbidden_phrase, FP-0010) also backs its verdict" in r.stderr
    )
    assert (
        f"row {row_of[held]}: suppressed by its context (vetoed): confirmed, it still costs nothing"
        in r.stderr
    )


def test_a_quote_the_text_begins_with_is_kept_and_only_qcs_own_is_taken_off(day):
    """The import took a leading ' off every cell: a note or a reply that begins with one lost it,
    and a finding on such a reply could never be decided from a sheet (audit 168 L2)."""
    from qc.supervise.review_sheet import _unquoted

    assert _unquoted("'=1+1") == "=1+1"  # the export's quote before a formula
    assert _unquoted("'007") == "007"  # ... and before an id a spreadsheet would re-type
    assert _unquoted("'好的呢") == "'好的呢" and _unquoted("好的") == "好的"
    ids, db, tmp = day
    rows = _fill(exported(tmp, db), {ids["cA"]: ["驳回", "质检小王", "'熟客' 之间开玩笑"]})
    edited = tmp / "quoted.csv"
    edited.write_bytes(_csv_bytes(rows, "utf-8-sig"))
    assert run("review", "import", edited, *db).exit_code == 0
    path = exported(tmp, db, "review.xlsx")
    wb = openpyxl.load_workbook(path)
    for row in wb.active.iter_rows(min_row=2):
        if row[0].value == ids["cB"]:
            row[-3].value, row[-2].value, row[-1].value = "驳回", "质检小王", "'=A1 是买家原话"
    wb.save(path)
    assert run("review", "import", path, *db).exit_code == 0
    notes = {
        fid: [json.loads(line)["note"] for line in run("review", "log", fid, *db).stdout.splitlines()]
        for fid in (ids["cA"], ids["cB"])
    }
    assert notes == {ids["cA"]: ["'熟客' 之间开玩笑"], ids["cB"]: ["'=A1 是买家原话"]}


def test_a_csv_sheet_excel_saved_again_as_xlsx_reads_back(tmp_path):
    """Excel shows the quote qc's CSV puts before a formula (and before an id of digits) as text,
    and keeps it when the sheet is saved as XLSX: every row of a reply starting =, +, - or @ was
    refused as moved to another message (audit 169 F1)."""
    rows = []
    for i, reply in enumerate(["=我不知道", "+我不知道", "-我不知道", "@我不知道"]):
        rows += [
            {"conversation_id": f"q{i}", "shop": "店", "role": "customer", "sender": "b",
             "timestamp": f"2026-12-03T10:0{i}:00+08:00", "text": "这个能防水吗"},
            {"conversation_id": f"q{i}", "shop": "店", "role": "agent", "sender": "店:小满",
             "timestamp": f"2026-12-03T10:0{i}:09+08:00", "text": reply},
        ]  # fmt: skip
    day = tmp_path / "2026-12-03.jsonl"
    day.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    db = ["--db", str(tmp_path / "s.sqlite")]
    assert run("inspect", day, "--out", tmp_path / "out", "-q", *db).exit_code == 0
    assert run("people", "add", "质检小王", "--role", "reviewer", *db).exit_code == 0
    assert run("review", "export", "--date", "2026-12-03", "--out", tmp_path / "s.csv", *db).exit_code == 0
    header, *body = rows_of(tmp_path / "s.csv")
    assert any(cell.startswith("'=") for row in body for cell in row)  # the CSV quoted the formula
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "复核"
    ws.append(header)
    for row in body:
        row[-3:] = ["确认", "质检小王", ""]
        ws.append(row)  # as Excel shows the CSV, the quote a part of the text
    wb.save(tmp_path / "s.xlsx")
    r = run("review", "import", tmp_path / "s.xlsx", *db)
    assert r.exit_code == 0, r.stderr
    assert f"{len(body)} changed" in r.stderr and "another message" not in r.stderr
