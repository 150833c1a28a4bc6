"""Issue 17, item 1: every CSV and XLSX qc writes is inert (no formula runs when QA opens it).

Hostile sender and shop values go through `qc inspect`, `qc export`, `qc review export` (CSV
and XLSX) and `qc sample` on the command line; each output is opened with csv/openpyxl and
no cell is a formula, while numbers stay numbers.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from qc.cli import app
from qc.outputs.cells import (
    FORMULA_TRIGGERS,
    XLSX_MAX_CELL_CHARS,
    append_inert,
    csv_value,
    fit_xlsx_cell,
    inert_text,
    text_id,
)

NUMERIC_AGENT = "007"  # an account named by digits: Excel would show 7
HOSTILE_AGENTS = [
    '=HYPERLINK("http://x","click")',
    "@SUM(1+1)*cmd",
    "+cmd|' /C calc'!A0",
    "-2+3",
    NUMERIC_AGENT,
]
HOSTILE_SHOP = "=1+1"
NUMERIC_ID = "2026112400000000123"  # 19 digits: Excel would show 2.02611E+18 and lose them
DAY = "2026-11-24"


def _conversation(n: int, agent: str) -> dict:
    def m(role: str, sender: str, t: str, text: str) -> dict:
        said = {"role": role, "sender": sender, "timestamp": f"{DAY}T{t}+08:00", "text": text}
        if role == "agent" and sender == NUMERIC_AGENT:
            # an account id (a bare nick would be written 店铺名:007, no number)
            said["agent_id"] = NUMERIC_AGENT
        return said

    return {
        "conversation_id": NUMERIC_ID if n == 0 else f"evil-{n}",
        "shop": HOSTILE_SHOP,
        "messages": [
            m("customer", "=cmd|'/C notepad'!A1", "10:00:00", "能便宜点吗"),
            m("agent", agent, "10:00:20", "爱买不买"),
            m("customer", "@buyer", "10:01:00", "这款有现货吗"),
            m("agent", agent, "10:01:05", "有现货的亲，今天下单今天发"),
        ],
    }


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """Inspect a day with hostile nicks into a store, then write every spreadsheet qc makes."""
    tmp = tmp_path_factory.mktemp("inert")
    day = tmp / "day.jsonl"
    rows = [_conversation(i, a) for i, a in enumerate(HOSTILE_AGENTS)]
    day.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    db = ["--db", str(tmp / "qc.sqlite")]
    runner = CliRunner()

    def run(*args: object) -> None:
        result = runner.invoke(app, [str(a) for a in args])
        assert result.exit_code == 0, result.output

    run("inspect", day, "--out", tmp / "inspect", "-q", *db)
    run("export", "--date", DAY, "--out", tmp / "export", *db)
    run("review", "export", "--date", DAY, "--out", tmp / "review.csv", *db)
    run("review", "export", "--date", DAY, "--out", tmp / "review.xlsx", *db)
    run("sample", "--per-agent", 2, "--seed", 1, "--out", tmp / "sample.csv", *db)
    return {
        "csv": [
            tmp / "inspect" / "agents.csv",
            tmp / "export" / "agents.csv",
            tmp / "review.csv",
            tmp / "sample.csv",
        ],
        "xlsx": [tmp / "inspect" / "agents.xlsx", tmp / "export" / "agents.xlsx", tmp / "review.xlsx"],
    }


def _csv_cells(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return [cell for row in csv.reader(fh) for cell in row]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_csv_outputs_have_no_formula_and_keep_the_hostile_text_visible(outputs):
    for path in outputs["csv"]:
        cells = _csv_cells(path)
        risky = [c for c in cells if c.startswith(FORMULA_TRIGGERS) and not _is_number(c)]
        assert risky == [], f"{path.name}: formula-like cells {risky}"
        # agent ids are folded to lower case (issue 17, item 6): the nick is there as text
        assert any("hyperlink(" in c.lower() for c in cells), f"{path.name}: the hostile nick is missing"
        quoted = [c for c in cells if c.startswith("'")]
        assert quoted, f"{path.name}: hostile cells were not prefixed"


def test_xlsx_outputs_have_no_formula_cells_and_numbers_stay_numbers(outputs):
    for path in outputs["xlsx"]:
        wb = openpyxl.load_workbook(path)
        cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
        formulas = [(c.coordinate, c.value) for c in cells if c.data_type == "f"]
        assert formulas == [], f"{path.name}: formula cells {formulas}"
        texts = [c.value for c in cells if c.data_type == "s"]
        assert any(str(t).lower().startswith('=hyperlink("http://x","click")') for t in texts), path.name
        assert any(c.data_type == "n" and isinstance(c.value, int | float) for c in cells), path.name


def test_a_conversation_id_that_reads_as_a_number_stays_text(outputs):
    for path in outputs["csv"][2:]:  # the review sheet and the sample name conversations
        cells = _csv_cells(path)
        assert "'" + NUMERIC_ID in cells and NUMERIC_ID not in cells, path.name
    wb = openpyxl.load_workbook(outputs["xlsx"][2])
    ids = [c for row in wb.active.iter_rows() for c in row if c.value == NUMERIC_ID]
    assert ids and all(c.data_type == "s" for c in ids)


def test_an_agent_named_by_digits_keeps_them_in_every_csv(outputs):
    """agents.csv, the review sheet and the sample wrote the account bare (audit 68, B11)."""
    for path in outputs["csv"]:
        cells = _csv_cells(path)
        assert "'" + NUMERIC_AGENT in cells and NUMERIC_AGENT not in cells, path.name


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026112400000000123", "'2026112400000000123"),
        ("12e4567890abcdef", "12e4567890abcdef"),
        ("1234e567", "'1234e567"),
        ("evil-1", "evil-1"),
        ("c20261124_000082", "c20261124_000082"),
        # what Excel or WPS would read as a date, time, percentage, amount or truth value (audit 73 A3)
        ("2026-11", "'2026-11"),
        ("1/2", "'1/2"),
        ("1688:1", "'1688:1"),
        ("12%", "'12%"),
        ("(123)", "'(123)"),
        ("¥12", "'¥12"),
        ("1,234", "'1,234"),
        ("11月24日", "'11月24日"),
        ("Nov-26", "'Nov-26"),
        ("3-jan", "'3-jan"),
        ("TRUE", "'TRUE"),
        # names that only hold digits beside words stay as they are
        ("店b:小二", "店b:小二"),
        ("1688旗舰店", "1688旗舰店"),
        ("A01", "A01"),
        ("3号店", "3号店"),
        ("2026-W49", "2026-W49"),
        ("2026-11-01~2026-11-15", "2026-11-01~2026-11-15"),
        ("may", "may"),
    ],
)
def test_text_id_quotes_ids_a_spreadsheet_would_read_as_something_else(value, expected):
    assert text_id(value) == expected


def test_month_exports_keep_the_month_as_text_and_points_whole(tmp_path):
    """A month label 2026-11 opened in Excel became 1 November (audit 73 A3); -10.0 was not the
    考核表's whole points (A2). A day stays a plain date."""
    from qc.outputs.writers import write_agents_csv

    columns = [("agent", "客服"), ("date", "日期"), ("total_points", "合计加减分")]
    rows = [
        {"agent": "店:小二", "date": "2026-11", "total_points": -10},
        {"agent": "店:小二", "date": "2026-11-24", "total_points": -10},
        {"agent": "店:小二", "date": "2026-W49", "total_points": 0},
    ]
    write_agents_csv(tmp_path / "agents.csv", rows, columns)
    with (tmp_path / "agents.csv").open(encoding="utf-8-sig", newline="") as fh:
        body = list(csv.reader(fh))[2:]
    assert body == [
        ["店:小二", "'2026-11", "-10"],
        ["店:小二", "2026-11-24", "-10"],
        ["店:小二", "2026-W49", "0"],
    ]


def test_agents_csv_keeps_negative_points_as_numbers(outputs):
    path = outputs["csv"][0]
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    keys = rows[1]
    points = [row[keys.index("total_points")] for row in rows[2:]]
    assert points and all(_is_number(p) and not p.startswith("'") for p in points)
    assert any(p.startswith("-") for p in points)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("@SUM(1+1)*cmd", "'@SUM(1+1)*cmd"),
        ("-2+3", "'-2+3"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("＝1+1", "'＝1+1"),  # full-width, as a Chinese input method types them (audit 130 M1)
        ("＋汇优店", "'＋汇优店"),
        ("－2", "'－2"),
        ("＠SUM(A1)", "'＠SUM(A1)"),
        # after spaces, a line break or an invisible character, and the small forms (audit 168 L1)
        (" =1+1 爱买不买", "' =1+1 爱买不买"),
        ("\u3000=2+2", "'\u3000=2+2"),
        ("\u00a0=1+1", "'\u00a0=1+1"),
        ("\n=3+3", "'\n=3+3"),
        ("\u200b=cmd|' /C calc'!A0", "'\u200b=cmd|' /C calc'!A0"),
        ("﹦1+1", "'﹦1+1"),
        # the direction marks an iPhone wraps a copied text in, a left-to-right mark (audit 171 L2)
        ("\u202d=1+1\u202c", "'\u202d=1+1\u202c"),
        ("\u200e@SUM(A1)", "'\u200e@SUM(A1)"),
        ("﹢1", "'﹢1"),
        (" @SUM(A1)", "' @SUM(A1)"),
        (" -5", " -5"),
        ("  亲，在的", "  亲，在的"),
        ("-5", "-5"),
        ("+1.5", "+1.5"),
        ("柚子优选旗舰店:小雨", "柚子优选旗舰店:小雨"),
        ("a=1", "a=1"),
        ("", ""),
    ],
)
def test_inert_text_rule(value, expected):
    assert inert_text(value) == expected


def test_csv_value_keeps_numbers_and_empties_none():
    assert csv_value(-14.5) == -14.5
    assert csv_value(3) == 3
    assert csv_value(None) == ""


@pytest.mark.parametrize(
    ("text", "cut"),
    [
        ("好" * XLSX_MAX_CELL_CHARS, False),
        ("好" * (XLSX_MAX_CELL_CHARS + 1), True),
        ("😀" * (XLSX_MAX_CELL_CHARS // 2), False),  # two UTF-16 units each: exactly full
        ("😀" * (XLSX_MAX_CELL_CHARS // 2 + 1), True),
    ],
)
def test_an_xlsx_cell_is_cut_to_excels_limit_with_a_marker_naming_the_length(text, cut):
    fitted = fit_xlsx_cell(text)
    assert len(fitted.encode("utf-16-le")) // 2 <= XLSX_MAX_CELL_CHARS
    if cut:
        assert fitted.endswith(f"…[已截断：原文 {len(text)} 字，全文见 CSV 或 qc show]")
        assert text.startswith(fitted[: fitted.index("…[已截断")])
    else:
        assert fitted == text


def test_a_long_text_in_an_xlsx_row_is_saved_cut_and_inert(tmp_path: Path):
    ws_book = openpyxl.Workbook()
    ws = ws_book.active
    long = "=cmd" + "啊" * 40_000
    append_inert(ws, ["id-1", long, 5])
    ws_book.save(tmp_path / "x.xlsx")
    row = next(openpyxl.load_workbook(tmp_path / "x.xlsx").active.iter_rows(values_only=True))
    assert row[0] == "id-1" and row[2] == 5
    assert (
        len(row[1]) <= XLSX_MAX_CELL_CHARS
        and row[1].startswith("=cmd啊")
        and "已截断：原文 40004 字" in row[1]
    )
    cell = openpyxl.load_workbook(tmp_path / "x.xlsx").active["B1"]
    assert cell.data_type == "s" and cell.quotePrefix
