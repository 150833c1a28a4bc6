"""``qc reconcile``: qc's timing figures beside a 生意参谋/千牛 performance report, agent by agent.

The reports here are written by the tests from the demo day's own agents table, with known
offsets, in the shapes a platform export comes in: GBK CSV with a title row and bare nicks,
percents with and without their sign, a clock-written time, a 合计 row, an XLSX with a 日期
column. Every difference qc prints is the offset the test put in.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qc.cli import app
from qc.errors import ConfigError
from qc.outputs.compare import load_agents_table
from qc.outputs.reconcile import read_platform_report, reconcile, summary_lines

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()
DAY = "2026-11-24"
HEADER = "客服,咨询人数,未回复人数,平均响应时长(秒),旺旺回复率,首次响应时长(秒),答问比"


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("reconcile") / "day"
    res = runner.invoke(app, ["inspect", str(ROOT / "demo" / "day"), "--out", str(out), "-q"])
    assert res.exit_code == 0, res.output
    return out


def agents_of(run: Path, day: str = DAY) -> list[dict]:
    rows = json.loads((run / "agents.json").read_text(encoding="utf-8"))
    return [r for r in rows if r["date"] == day and not r["agent"].endswith(":unassigned")]


def platform_csv(path: Path, rows: list[dict], *, slower_by: float = 3.0) -> Path:
    """The platform's report of the demo day: every agent's 平均响应时长 ``slower_by`` above qc's."""
    lines = ["客服绩效报表（2026-11-24）,,,,,,", HEADER]
    for r in rows:
        first = "-" if r["first_response_s"] is None else f"{r['first_response_s']}"
        missed = r["buyers_received"] - r["buyers_replied"]
        lines.append(
            f"{r['agent'].split(':')[-1]},{r['buyers_received']},{missed},"
            f"{r['avg_response_s'] + slower_by:.2f},{r['reply_rate'] * 100:.2f}%,{first},"
            f"{r['answer_ratio'] * 100:.2f}"  # a percent written without its sign
        )
    lines.append("合计,999,0,30,100%,10,120%")
    path.write_text("\n".join(lines) + "\n", encoding="gbk")
    return path


def test_every_gap_is_the_offset_the_report_holds(demo_run, tmp_path):
    rows = agents_of(demo_run)
    report = read_platform_report(platform_csv(tmp_path / "p.csv", rows))
    assert report.columns["avg_response_s"] == "平均响应时长(秒)" and len(report.rows) == len(rows)
    result = reconcile(report, load_agents_table(demo_run), window=DAY)
    assert result.only_platform == [] and result.only_qc == []
    by = {(g.agent, g.figure.key): g for g in result.gaps}
    for r in rows:
        assert by[(r["agent"], "avg_response_s")].difference == -3.0
        assert by[(r["agent"], "buyers_received")].difference == 0
        assert by[(r["agent"], "reply_rate")].platform == pytest.approx(r["reply_rate"], abs=1e-4)
        # 104.23 without a % sign is a percent: the answer ratio 1.0423
        assert by[(r["agent"], "answer_ratio")].difference == pytest.approx(0, abs=1e-4)
    lines = summary_lines(result)
    assert (
        f"平均响应时长(秒): {len(rows)} agents; qc higher for 0, lower for {len(rows)}, equal for 0;"
        in lines[3]
    )
    assert "median gap 3.0 s" in lines[3]
    assert lines[0] == f"咨询人数: {len(rows)} agents; qc higher for 0, lower for 0: every one equal"


def test_the_command_prints_writes_and_names_what_it_left_out(demo_run, tmp_path):
    rows = agents_of(demo_run)
    path = platform_csv(tmp_path / "p.csv", rows)
    with path.open("a", encoding="gbk") as fh:
        fh.write("外包小刘,3,0,30,100%,10,120%\n")
        fh.write(f"{rows[0]['agent'].split(':')[-1]}x,3,0,暂无,100%,10,120%\n")
    out = tmp_path / "gaps.csv"
    res = runner.invoke(app, ["reconcile", str(path), str(demo_run), "--window", DAY, "--csv", str(out)])
    assert res.exit_code == 0, res.output
    assert f"row {len(rows) + 4}: '外包小刘' is no agent of" in res.stderr
    assert "平均响应时长(秒) '暂无' is no number; left out of the comparison" in res.stderr
    assert f"{len(rows)} agent rows matched, 2 only in the report, 0 only in qc's table" in res.stderr
    assert "平均响应时长(秒)" in res.stdout and "-3.0" in res.stdout
    sheet = list(csv.reader(out.read_text(encoding="utf-8-sig").splitlines()))
    assert sheet[0][:3] == ["客服", "窗口", "指标"] and sheet[1][:3] == ["agent", "window", "figure"]
    mine = [s for s in sheet[2:] if s[0] == rows[0]["agent"] and s[2] == "咨询人数"]
    received = str(rows[0]["buyers_received"])
    assert mine == [[rows[0]["agent"], DAY, "咨询人数", received, received, "0", "3"]]  # no 56.0
    res = runner.invoke(app, ["reconcile", str(path), str(demo_run), "--window", DAY, "--format", "json"])
    records = [json.loads(line) for line in res.stdout.splitlines()]
    assert {r["figure"] for r in records} == {
        "buyers_received",
        "buyers_missed",
        "reply_rate",
        "avg_response_s",
        "first_response_s",
        "answer_ratio",
    }
    assert all(r["difference"] == -3 for r in records if r["figure"] == "avg_response_s")


def test_an_xlsx_report_by_day_matches_each_day_and_reads_clock_times(demo_run, tmp_path):
    from openpyxl import Workbook

    rows = json.loads((demo_run / "agents.json").read_text(encoding="utf-8"))
    rows = [r for r in rows if not r["agent"].endswith(":unassigned")]
    assert len({r["date"] for r in rows}) == 2  # a conversation runs past midnight into the 25th
    wb = Workbook()
    ws = wb.active
    ws.append(["统计日期", "旺旺", "平均响应时长"])
    for r in rows:
        seconds = round(r["avg_response_s"]) + 60
        ws.append([r["date"].replace("-", "/"), r["agent"], f"00:{seconds // 60:02d}:{seconds % 60:02d}"])
    path = tmp_path / "p.xlsx"
    wb.save(path)
    result = reconcile(read_platform_report(path), load_agents_table(demo_run))
    assert len(result.gaps) == len(rows) and result.only_qc == []
    for g in result.gaps:
        assert g.figure.key == "avg_response_s"
        assert g.difference == pytest.approx(-60 + (g.qc - round(g.qc)), abs=1e-6)
    # An agent missing from the report is named with the day it is missing on (audit 152 L2).
    ws.delete_rows(ws.max_row)
    wb.save(path)
    gone = rows[-1]
    result = reconcile(read_platform_report(path), load_agents_table(demo_run))
    assert result.only_qc == [f"{gone['agent']} ({gone['date']})"]


def test_a_nick_two_shops_share_is_not_guessed(tmp_path):
    table = tmp_path / "agents.json"
    table.write_text(
        json.dumps(
            [
                {"agent": "店A:小二", "date": DAY, "avg_response_s": 30.0, "total_points": 0},
                {"agent": "店B:小二", "date": DAY, "avg_response_s": 50.0, "total_points": 0},
            ],
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    report = tmp_path / "p.csv"
    report.write_text("客服,平均响应时长\n小二,40\n店B:小二,52\n", encoding="utf-8")
    result = reconcile(read_platform_report(report), load_agents_table(table))
    assert result.only_platform == [(2, "小二")]
    assert [(g.agent, g.difference) for g in result.gaps] == [("店B:小二", -2.0)]
    assert result.only_qc == ["店A:小二"]


@pytest.mark.parametrize(
    ("report", "args", "said"),
    [
        ("买家,金额\n甲,3\n", [], "no row names an agent column"),
        (f"{HEADER}\n小满,1,0,30,100%,10,120%\n", [], "say which one the report covers with --window"),
        (
            f"{HEADER}\n小满,1,0,30,100%,10,120%\n",
            ["--window", "2026-12-01"],
            "--window 2026-12-01: the agents",
        ),
        (
            f"{HEADER}\n小满,1,0,30,100%,10,120%\n小满,2,0,30,100%,10,120%\n",
            ["--window", DAY],
            "rows 2 and 3 are both 柚子优选旗舰店:小满 for 2026-11-24",
        ),
        (f"{HEADER}\n小满,1,0,30,100%,10,120%\n", ["--window", DAY, "--format", "xml"], "--format 'xml'"),
    ],
)
def test_refusals_say_why_and_exit_2(demo_run, tmp_path, report, args, said):
    path = tmp_path / "p.csv"
    path.write_text(report, encoding="utf-8")
    res = runner.invoke(app, ["reconcile", str(path), str(demo_run), *args])
    assert res.exit_code == 2 and said in res.stderr, res.output
    assert "Traceback" not in res.output


def test_a_missing_report_or_a_folder_is_exit_2_naming_it_and_a_bad_csv_path_prints_nothing(
    demo_run, tmp_path
):
    """Exit 1 for a report that is not there, 2 for a run folder that is not (audit 152 M7); a --csv
    the system refuses was said after the whole table (L3)."""
    res = runner.invoke(app, ["reconcile", str(tmp_path / "nope.csv"), str(demo_run)])
    assert res.exit_code == 2 and "nope.csv: no such file; give the platform's" in res.stderr
    res = runner.invoke(app, ["reconcile", str(tmp_path), str(demo_run)])
    assert res.exit_code == 2 and "is a folder: give the platform's performance report file" in res.stderr
    path = platform_csv(tmp_path / "p.csv", agents_of(demo_run))
    (tmp_path / "blocker").write_text("a file, not a folder", encoding="utf-8")
    res = runner.invoke(
        app,
        [
            "reconcile",
            str(path),
            str(demo_run),
            "--window",
            DAY,
            "--csv",
            str(tmp_path / "blocker" / "x.csv"),
        ],
    )
    assert res.exit_code == 2 and res.stdout == "" and "Traceback" not in res.output


def test_a_duration_columns_unit_is_read_from_its_header(demo_run, tmp_path):
    """平均响应时长(分钟) was read in seconds: a false 38 s gap for every agent (audit 152 M2); a
    negative figure was shown as a gap (L1)."""
    rows = agents_of(demo_run)
    lines = ["客服,平均响应时长(分钟),首次响应时长（ms）,答问比"]
    for r in rows:
        first = r["first_response_s"] or 0
        lines.append(f"{r['agent'].split(':')[-1]},{r['avg_response_s'] / 60:.4f},{first * 1000:.0f},-1.5")
    path = tmp_path / "minutes.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = read_platform_report(path)
    result = reconcile(report, load_agents_table(demo_run), window=DAY)
    gaps = [g for g in result.gaps if g.figure.key in ("avg_response_s", "first_response_s") and g.qc]
    assert gaps and all(abs(g.difference or 0) < 0.01 for g in gaps)
    assert all(g.platform is None for g in result.gaps if g.figure.key == "answer_ratio")
    assert sum("'-1.5' is negative; left out" in w for w in report.warnings) == len(rows)
    # a cell holding a buyer's phone is quoted masked (audit 168 L4)
    path.write_text("客服,平均响应时长(秒)\n小满,电话13911112222\n", encoding="utf-8")
    (warning,) = read_platform_report(path).warnings
    assert "'电话[电话]' is no number" in warning and "13911112222" not in warning
    # A note beside the unit, or no unit word, keeps seconds; 单位:分 is minutes (audit 155 M2, M3).
    from qc.outputs.reconcile import _seconds_per

    assert [
        _seconds_per(f"平均响应时长{b}") for b in ("(秒/人)", "（单位：秒）", "(Sec.)", "(人工)", "(单位:分)")
    ] == [
        1,
        1,
        1,
        1,
        60,
    ]
    path.write_text("客服,平均响应时长(单位:分)\n小满,0.5\n", encoding="utf-8")
    assert read_platform_report(path).rows[0][3] == {"avg_response_s": 30}


def test_the_platforms_number_forms(tmp_path):
    from qc.outputs.reconcile import _value

    assert _value("98.5%", "share") == pytest.approx(0.985)
    assert _value("98.5", "share") == pytest.approx(0.985)  # the sign left out
    assert _value("1.3", "share") == 1.3  # an answer ratio written as a ratio
    assert _value("1:05", "seconds") == 65 and _value("01:00:05", "seconds") == 3605
    assert _value("65秒", "seconds") == 65 and _value("1,234", "count") == 1234
    assert (
        _value("1分5秒", "seconds") == 65 and _value("2分钟", "seconds") == 120
    )  # 千牛's way (audit 152 L1)
    assert _value("1小时3分", "seconds") == 3780 and _value("1.5", "seconds", 60) == 90
    assert _value("65秒", "seconds", 60) == 65  # a cell's own unit wins over its column's
    assert _value("12%", "seconds") is None and _value("暂无", "count") is None


def test_a_report_days_cell_names_its_window():
    """A month's range is the month (audit 115 M4); a Monday to Sunday range is its ISO week,
    which was read as its Monday (audit 117 L3)."""
    from qc.outputs.reconcile import _day

    assert _day("2026-11-01~2026-11-30") == "2026-11" and _day("2026年11月") == "2026-11"
    assert _day("2026-11-23~2026-11-29") == "2026-W48" and _day("2026-12-28~2027-01-03") == "2026-W53"
    assert _day("2026/11/24") == "2026-11-24" and _day("20261124") == "2026-11-24"
    assert _day("46350") == _day("46350.0") == "2026-11-24"  # an Excel day number a CSV kept (audit 152 L1)
    # another range is itself, as `qc export --from … --to …` labels it (it was its first day, 118 M4)
    assert _day("2026-11-20~2026-11-26") == "2026-11-20~2026-11-26"


@pytest.mark.parametrize(
    ("written", "window"),
    [
        ("2026-11-20~2026-11-26", "2026-11-20~2026-11-26"),
        ("2026-11-23~2026-11-29", "2026-11-23~2026-11-29"),  # a week's report, a --from/--to table
        ("2026-11-01~2026-11-30", "2026-11-01~2026-11-30"),
    ],
)
def test_a_report_of_a_range_matches_the_table_of_that_range(tmp_path, written, window):
    """qc export --from 2026-11-23 --to 2026-11-29 labels its table 2026-11-23~2026-11-29; a report of
    those days (read as the ISO week, or as its first day) never matched it (audit 118 M4)."""
    table = tmp_path / "agents.json"
    rows = [{"agent": "柚子店:小雨", "date": window, "avg_response_s": 30.0, "total_points": 0}]
    table.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    report = tmp_path / "p.csv"
    report.write_text(f"日期,客服,平均响应时长\n{written},小雨,33\n", encoding="utf-8")
    (gap,) = reconcile(read_platform_report(report), load_agents_table(table)).gaps
    assert gap.window == window and gap.difference == -3.0


def test_a_report_without_figures_is_refused_by_the_function_too(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("客服,备注\n小满,好\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="beside a figure qc computes"):
        read_platform_report(path)


def test_another_shops_account_is_never_matched_by_its_nick(tmp_path):
    """A 暖阳小铺 report was paired with 柚子优选旗舰店's agents by nick, and a report of both shops was
    refused as duplicates (audit 115 M1). A bare nick still finds the one agent who has it; a
    note after a name (小雨(售前)) is no part of it (L6)."""
    table = tmp_path / "agents.json"
    rows = [{"agent": "柚子店:小雨", "date": DAY, "avg_response_s": 30.0, "total_points": 0}]
    table.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    report = tmp_path / "p.csv"
    report.write_text("客服,平均响应时长(s)\n暖阳小铺:小雨,40\n柚子店:小雨,33\n总计：,99\n", encoding="utf-8")
    result = reconcile(read_platform_report(report), load_agents_table(table))
    assert [(g.agent, g.difference) for g in result.gaps] == [("柚子店:小雨", -3.0)]  # (s) read as seconds
    assert result.only_platform == [(2, "暖阳小铺:小雨")]
    report.write_text("客服,平均响应时长\n小雨(售前),35\n", encoding="utf-8")
    assert [g.difference for g in reconcile(read_platform_report(report), load_agents_table(table)).gaps] == [
        -5.0
    ]
    report.write_text("客服,平均响应时长\n暖阳小铺:小雨,40\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="no row matched qc's table: no agent of the report"):
        reconcile(read_platform_report(report), load_agents_table(table))


def test_a_months_report_written_as_its_range_matches_a_months_table_and_other_days_are_said(tmp_path):
    """统计日期 2026-11-01~2026-11-30 was read as 11-01, and every agent was "no agent of" a month's
    table with exit 0 (audit 115 M4)."""
    table = tmp_path / "agents.json"
    rows = [{"agent": "柚子店:小雨", "date": "2026-11", "reply_rate": 0.9, "total_points": 0}]
    table.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    report = tmp_path / "p.csv"
    report.write_text(
        "统计日期,客服,旺旺回复率,咨询数比\n2026-11-01~2026-11-30,小雨,8.5,3\n", encoding="utf-8"
    )
    read = read_platform_report(report)
    assert read.warnings and "咨询数比 not compared" in read.warnings[0]  # a figure qc does not know is said
    (gap,) = reconcile(read, load_agents_table(table)).gaps
    assert gap.window == "2026-11" and gap.platform == pytest.approx(0.085)  # 8.5 is a percent (L2)
    report.write_text("日期,客服,旺旺回复率\n2026-11-02,小雨,90%\n", encoding="utf-8")
    res = runner.invoke(app, ["reconcile", str(report), str(table)])
    assert res.exit_code == 2 and "its days (2026-11-02) are none of the table's (2026-11)" in res.stderr


def test_a_path_with_brackets_is_shown_as_written(demo_run, tmp_path):
    """A report under x[/b]/ ended in an internal error, rich reading the path as markup (audit 115 M6)."""
    folder = tmp_path / "x[/b]"  # the folders x[ and b] inside it
    folder.mkdir(parents=True)
    path = platform_csv(folder / "p[final].csv", agents_of(demo_run))
    res = runner.invoke(app, ["reconcile", str(path), str(demo_run), "--window", DAY])
    assert res.exit_code == 0, res.output
    assert "p[final].csv" in res.stdout and "Traceback" not in res.output


def test_the_csv_is_never_written_over_an_input_and_a_refused_run_makes_no_folder(demo_run, tmp_path):
    """--csv naming the platform's report replaced it with the comparison (audit 155 L1); a run
    refused after the --csv check left its folder made (L2)."""
    path = platform_csv(tmp_path / "p.csv", agents_of(demo_run))
    before = path.read_bytes()
    for target in (path, demo_run / "agents.csv"):
        res = runner.invoke(
            app, ["reconcile", str(path), str(demo_run), "--window", DAY, "--csv", str(target)]
        )
        assert res.exit_code == 2 and "is one of the files compared" in res.stderr
    assert path.read_bytes() == before
    res = runner.invoke(
        app, ["reconcile", str(path), str(tmp_path / "none"), "--csv", str(tmp_path / "made" / "x.csv")]
    )
    assert res.exit_code == 2 and not (tmp_path / "made").exists()
