"""Hostile input is a reject, not a crash (issue 19, items 4 and 5), through `qc inspect`.

A bell in a nick, a lone surrogate in a text or id, links out of the input folder, FIFOs, a
gzip file, terminal escape sequences: each is a reject or a skipped entry with its reason,
the rest of the day is inspected, and no traceback or offending text reaches the terminal.
"""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from qc.cli import app
from qc.cli._common import plain

runner = (
    CliRunner(mix_stderr=False) if "mix_stderr" in CliRunner.__init__.__code__.co_varnames else CliRunner()
)
DAY = "2026-11-24"


def _line(cid: str, role: str, sender: str, t: str, text: str) -> str:
    row = {"conversation_id": cid, "role": role, "sender": sender, "timestamp": f"{DAY} {t}", "text": text}
    return json.dumps(row, ensure_ascii=False) + "\n"


def _good(cid: str) -> str:
    return _line(cid, "customer", "tb_buyer", "10:00:00", "在吗") + _line(
        cid, "agent", "店:小王", "10:00:20", "亲，在的"
    )


def _inspect(tmp_path: Path, *inputs: Path) -> tuple[object, Path]:
    out = tmp_path / "out"
    res = runner.invoke(app, ["inspect", *map(str, inputs), "--out", str(out), "-q"])
    return res, out


def _rejects(out: Path) -> list[dict]:
    return [json.loads(x) for x in (out / "rejects.jsonl").read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize(
    ("bad_line", "field", "code"),
    [
        (_line("c2", "agent", "店:小\x07王", "10:01:00", "好的"), "sender", "U+0007"),
        (_line("c2", "agent", "店:小王", "10:01:00", "好的\x1b[2J"), "text", "U+001B"),
        (
            '{"conversation_id": "c2", "role": "agent", "sender": "店:小王",'
            ' "timestamp": "2026-11-24 10:01:00", "text": "好\\ud800的"}\n',
            "text",
            "U+D800",
        ),
        (
            '{"conversation_id": "c\\udfff2", "role": "agent", "sender": "店:小王",'
            ' "timestamp": "2026-11-24 10:01:00", "text": "好的"}\n',
            "conversation_id",
            "U+DFFF",
        ),
        # Noncharacters: accepted, they made agents.xlsx and the review sheet invalid XML.
        (_line("c2", "agent", "店:小王\uffff", "10:01:00", "好的"), "sender", "U+FFFF"),
        (_line("c2", "agent", "店:小王", "10:01:00", "=爱买不买\ufffe"), "text", "U+FFFE"),
    ],
)
def test_control_characters_and_lone_surrogates_are_rejects_with_a_reason(tmp_path, bad_line, field, code):
    day = tmp_path / "day.jsonl"
    day.write_text(_good("c1") + bad_line + _good("c3"), encoding="utf-8")
    res, out = _inspect(tmp_path, day)
    assert res.exit_code == 0, res.output
    assert "Traceback" not in res.output
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["complete"] is True
    assert run["counts"] == {"read": 5, "accepted": 4, "rejected": 1}
    (reject,) = _rejects(out)
    assert reject["line"] == 3 and reject["file"].endswith("day.jsonl")
    assert reject["reason"].startswith(f"{field} has ") and code in reject["reason"]
    assert (out / "agents.csv").exists() and (out / "agents.xlsx").stat().st_size > 0
    load_workbook(out / "agents.xlsx", read_only=True).close()  # well-formed XML


def test_a_nick_with_a_bell_in_a_qianniu_export_is_one_reject(tmp_path):
    export = tmp_path / "qianniu_2026-11-24.txt"
    export.write_text(
        "tb_buyer 2026-11-24 10:00:00\n在吗\n"
        "店:小\x07王 2026-11-24 10:00:20\n亲，在的\n"
        "店:小王 2026-11-24 10:00:40\n请问有什么可以帮您\n",
        encoding="utf-8",
    )
    res, out = _inspect(tmp_path, export)
    assert res.exit_code == 0, res.output
    assert "\x07" not in res.output
    rejects = _rejects(out)
    assert [r["reason"].split(" at ")[0] for r in rejects] == ["sender has a control character U+0007"]
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["counts"]["read"] == run["counts"]["accepted"] + run["counts"]["rejected"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX only")
def test_links_out_of_the_folder_dangling_links_loops_and_fifos_are_listed_not_read(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n", encoding="utf-8")
    folder = tmp_path / "day"
    folder.mkdir()
    (folder / "day.jsonl").write_text(_good("c1"), encoding="utf-8")
    (folder / "passwd.txt").symlink_to(secret)
    (folder / "inside.jsonl").symlink_to(folder / "day.jsonl")
    (folder / "sub").mkdir()
    (folder / "sub" / "other.jsonl").write_text(_good("c2"), encoding="utf-8")
    (folder / "other.jsonl").symlink_to(folder / "sub" / "other.jsonl")
    (folder / "dangling.txt").symlink_to(folder / "gone.txt")
    (folder / "loop_a").symlink_to(folder / "loop_b")
    (folder / "loop_b").symlink_to(folder / "loop_a")
    os.mkfifo(folder / "pipe.jsonl")
    res, out = _inspect(tmp_path, folder)
    assert res.exit_code == 0, res.output
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    skipped = {Path(f["path"]).name: f["skipped"] for f in run["files"] if f["skipped"]}
    assert skipped["passwd.txt"].startswith("symlink leading out of the input folder: refused")
    assert skipped["dangling.txt"].startswith("dangling symlink")
    assert skipped["loop_a"] == skipped["loop_b"] == "symlink loop: not read"
    assert skipped["pipe.jsonl"].startswith("a FIFO")
    # A link that stays inside is read, once: beside its target it is the same file again.
    assert skipped["inside.jsonl"] == f"the same file as {folder / 'day.jsonl'}: read once"
    read = {Path(f["path"]).name for f in run["files"] if not f["skipped"]}
    assert read == {"day.jsonl", "other.jsonl"}
    assert run["counts"]["rejected"] == 0  # no message read twice (a duplicate is a reject)
    assert "root:x" not in (out / "rejects.jsonl").read_text(encoding="utf-8")


def test_a_file_named_twice_is_read_once(tmp_path):
    folder = tmp_path / "day"
    folder.mkdir()
    (folder / "day.jsonl").write_text(_good("c1"), encoding="utf-8")
    res, out = _inspect(tmp_path, folder, folder / "day.jsonl")
    assert res.exit_code == 0, res.output
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert [f["read"] for f in run["files"] if not f["skipped"]] == [run["counts"]["accepted"]]
    assert run["counts"]["rejected"] == 0


def test_a_gzip_file_is_named_as_such_not_given_an_encoding_hint(tmp_path):
    packed = tmp_path / "day.jsonl.gz"
    packed.write_bytes(gzip.compress(_good("c1").encode("utf-8")))
    res, out = _inspect(tmp_path, packed)
    assert res.exit_code == 1
    assert "gzip-compressed (.gz) file, not text" in res.stderr
    assert "--encoding" not in res.stderr
    # not "a day without chats" (audit 173 L6)
    assert "qc: nothing inspected: no chat export was read: 1 input could not be read" in res.stderr
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert "gzip" in run["files"][0]["error"]


def test_a_zip_of_exports_or_a_word_file_is_named_as_such_not_a_corrupt_workbook(tmp_path):
    """Every ZIP went to the workbook reader: "re-save it in Excel" (audit 172 F7)."""
    import zipfile

    folder = tmp_path / "day"
    folder.mkdir()
    with zipfile.ZipFile(folder / "exports.zip", "w") as archive:
        archive.writestr("2026-11-24.jsonl", _good("c1"))
    with zipfile.ZipFile(folder / "notes.docx", "w") as word:
        word.writestr("word/document.xml", "<w:document/>")
    (folder / "day.jsonl").write_text(_good("c2"), encoding="utf-8")
    res, out = _inspect(tmp_path, folder)
    assert res.exit_code == 1
    errors = {
        Path(f["path"]).name: f["error"] for f in json.loads((out / "run.json").read_text("utf-8"))["files"]
    }
    assert errors["exports.zip"].startswith(
        "is a ZIP archive (1 files: 2026-11-24.jsonl), not a workbook: unzip it"
    )
    assert errors["notes.docx"].startswith("is a Word document (.docx), not a chat export")
    assert errors["day.jsonl"] is None and "re-save it in Excel" not in res.stderr


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("小王\x1b[2J\x1b]0;pwned\x07", "小王[2J]0;pwned"),
        ("a\rb\x9b31mc", "ab31mc"),
        ("好\u202e的", "好的"),
        ("两行\n\t文字", "两行\n\t文字"),
        ("plain ascii", "plain ascii"),
    ],
)
def test_plain_removes_what_a_terminal_would_obey(raw, shown):
    assert plain(raw) == shown


def _workbook(path: Path, rows: list[list[str]], dimension: str | None = None) -> Path:
    import zipfile

    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    wb.save(path)
    if dimension is not None:  # what a hostile file declares, whatever its cells
        staged = path.with_suffix(".tmp")
        with zipfile.ZipFile(path) as src, zipfile.ZipFile(staged, "w", zipfile.ZIP_DEFLATED) as dst:
            for item in src.infolist():
                data = src.read(item.filename)
                if item.filename == "xl/worksheets/sheet1.xml":
                    text = data.decode("utf-8")
                    start = text.index('<dimension ref="') + len('<dimension ref="')
                    data = (text[:start] + dimension + text[text.index('"', start) :]).encode("utf-8")
                dst.writestr(item, data)
        staged.replace(path)
    return path


_SHEET = [
    ["会话ID", "角色", "昵称", "时间", "内容"],
    ["c1", "买家", "tb_buyer", f"{DAY} 10:00:00", "在吗"],
    ["c1", "客服", "店:小王", f"{DAY} 10:00:20", "亲，在的"],
]


def test_a_sheet_declaring_a_huge_dimension_is_refused_before_reading(tmp_path):
    book = _workbook(tmp_path / "sparse.xlsx", _SHEET, dimension="A1:XFD1048576")
    assert book.stat().st_size < 10_000
    res, out = _inspect(tmp_path, book)
    assert res.exit_code == 1
    assert "declares 1,048,576 rows × 16,384 columns" in res.stderr
    assert "xlsx_max_rows" in res.stderr and "Traceback" not in res.output
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["files"][0]["error"].startswith("sheet 'Sheet")


def test_the_same_sheet_with_its_true_dimension_is_read(tmp_path):
    book = _workbook(tmp_path / "fine.xlsx", _SHEET)
    res, out = _inspect(tmp_path, book)
    assert res.exit_code == 0, res.output
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["counts"] == {"read": 2, "accepted": 2, "rejected": 0}


def test_row_budget_and_message_limit_come_from_the_limits_file(tmp_path, monkeypatch):
    limits = tmp_path / "limits.toml"
    limits.write_text("[input]\nxlsx_max_rows = 2\nmax_message_chars = 10\n", encoding="utf-8")
    monkeypatch.setenv("QC_LIMITS", str(limits))
    # It declares one row (as files from some tools do): the streamed count finds the third.
    book = _workbook(tmp_path / "day.xlsx", _SHEET, dimension="A1:E1")
    res, _ = _inspect(tmp_path, book)
    assert res.exit_code == 1 and "has more than 2 rows" in res.stderr
    long_text = "亲，在的" + "好" * 20
    day = tmp_path / "day.jsonl"
    day.write_text(_line("c1", "agent", "店:小王", "10:00:00", long_text), encoding="utf-8")
    res, out = _inspect(tmp_path, day)
    assert res.exit_code == 0, res.output
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert any("line 1: a message of 24 characters; only its first 10" in w for w in run["warnings"])
    # the warning names the file that set the limit, not the bundled one (audit 72)
    assert any(f"(max_message_chars, {limits} (QC_LIMITS))" in w for w in run["warnings"])
    assert run["counts"] == {"read": 1, "accepted": 1, "rejected": 0}


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("[input]\nmax_message_chars = 0\n", "positive whole number"),
        ("[input]\nmax_chars = 10\n", "unknown keys ['max_chars']"),
        ("max_message_chars = 800\n", "['max_message_chars'] must be under an [input] line at the top"),
        ("[input\n", "not valid TOML"),
        (
            "[input]\nearliest_year = 2050\nlatest_year = 2040\n",
            "must satisfy 1 < earliest_year <= latest_year",
        ),
        ("[input]\nlatest_year = 9999\n", "must satisfy 1 < earliest_year <= latest_year < 9999"),
        ("[input]\nclock_back_rollover_minutes = 99999999999999\n", "must be less than a day (1440)"),
        ("[input]\nrule_line_followup_seconds = 100000000000000\n", "must be at most a day (86400)"),
    ],
)
def test_a_bad_limits_file_is_a_usage_error(tmp_path, monkeypatch, body, says):
    limits = tmp_path / "limits.toml"
    limits.write_text(body, encoding="utf-8")
    monkeypatch.setenv("QC_LIMITS", str(limits))
    day = tmp_path / "day.jsonl"
    day.write_text(_good("c1"), encoding="utf-8")
    res, _ = _inspect(tmp_path, day)
    assert res.exit_code == 2
    assert says in res.stderr


def _stamped(cid: str, stamp: str) -> str:
    row = {"conversation_id": cid, "role": "agent", "sender": "店:小王", "timestamp": stamp, "text": "好的"}
    return json.dumps(row, ensure_ascii=False) + "\n"


def test_timestamps_outside_the_accepted_years_are_rejects_and_the_day_still_runs(tmp_path):
    # 9999-12-31 at -12:00 is past the calendar's end in +08:00; 1900 is an empty Excel date
    # cell. Both once stopped the whole batch with an OverflowError.
    odd = tmp_path / "odd.jsonl"
    odd.write_text(
        _stamped("c9", "9999-12-31T23:59:59-12:00")
        + _stamped("c9", "0001-01-01T00:00:00+14:00")
        + _stamped("c9", "1900-01-01 10:00:00")
        + _stamped("c9", "2100-01-01 00:00:00"),
        encoding="utf-8",
    )
    good = tmp_path / "good.jsonl"
    good.write_text(_good("c1"), encoding="utf-8")
    res, out = _inspect(tmp_path, odd, good)
    assert res.exit_code == 0, res.output
    reasons = [(r["line"], r["reason"]) for r in _rejects(out)]
    assert [line for line, _ in reasons] == [1, 2, 3, 4]
    assert [reason.split(",")[0] for _, reason in reasons] == [
        "timestamp in the year 9999",
        "timestamp in the year 1",
        "timestamp in the year 1900",
        "timestamp in the year 2100",
    ]
    assert all("outside 2000–2099" in reason for _, reason in reasons)
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["counts"] == {"read": 6, "accepted": 2, "rejected": 4}
    conversations = (out / "conversations.jsonl").read_text(encoding="utf-8")
    assert '"c1"' in conversations and '"c9"' not in conversations


def test_the_accepted_years_come_from_the_limits_file(tmp_path, monkeypatch):
    limits = tmp_path / "limits.toml"
    limits.write_text("[input]\nearliest_year = 2027\n", encoding="utf-8")
    monkeypatch.setenv("QC_LIMITS", str(limits))
    day = tmp_path / "day.jsonl"
    day.write_text(_good("c1") + _stamped("c2", "2027-01-01 09:00:00"), encoding="utf-8")
    res, out = _inspect(tmp_path, day)
    assert res.exit_code == 0, res.output
    assert [r["line"] for r in _rejects(out)] == [1, 2]
    assert "outside 2027–2099" in _rejects(out)[0]["reason"]
    res = runner.invoke(
        app,
        ["export", "--date", "2026-11-24", "--out", str(tmp_path / "e"), "--db", str(tmp_path / "s.sqlite")],
    )
    assert res.exit_code == 2 and "outside the years qc accepts, 2027–2099" in res.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["report", "--from", "1900-01-01", "--to", "2026-11-30"],
        ["export", "--from", "2026-11-01", "--to", "9999-12-31"],
        ["flagged", "--date", "9999-12-31"],
    ],
)
def test_dates_outside_the_accepted_years_are_refused_by_the_store_commands(tmp_path, args):
    res = runner.invoke(
        app,
        [*args, "--db", str(tmp_path / "s.sqlite")]
        + (["--out", str(tmp_path / "r")] if args[0] != "flagged" else []),
    )
    assert res.exit_code == 2, res.output
    assert "is outside the years qc accepts, 2000–2099" in res.stderr


def test_a_folder_that_cannot_be_listed_fails_alone_and_the_rest_is_read(tmp_path, monkeypatch):
    # Tests run as root, for whom mode 000 hides nothing: the refusal is the operating system's.
    import qc.readers.options as options

    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "a.jsonl").write_text(_good("c9"), encoding="utf-8")
    good = tmp_path / "good.jsonl"
    good.write_text(_good("c1"), encoding="utf-8")
    real_scandir = os.scandir

    def scandir(path="."):
        if isinstance(path, str | os.PathLike) and Path(path) == locked:
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(options.os, "scandir", scandir)
    res, out = _inspect(tmp_path, good, locked)
    assert res.exit_code == 1, res.output
    assert f"{locked}: folder cannot be listed (Permission denied)" in res.stderr
    assert "Traceback" not in res.output
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["counts"] == {"read": 2, "accepted": 2, "rejected": 0}
    assert [f["error"] for f in run["files"] if f["path"] == str(locked)] == [
        "folder cannot be listed (Permission denied): none of its files were read; give qc read access to it"
    ]


@pytest.mark.parametrize(
    "encode",
    [
        lambda text: text.encode("gbk"),  # Notepad on a Chinese Windows machine
        lambda text: b"\xef\xbb\xbf" + text.encode("utf-8"),  # UTF-8 with a BOM
    ],
    ids=["gbk", "bom"],
)
def test_a_limits_file_saved_in_gbk_or_with_a_bom_is_read(tmp_path, monkeypatch, encode):
    """A GBK limits file was an internal error (exit 70) and a BOM a "line 1, column 1" syntax
    error, though a scorecard or lexicon saved so reads (audit 104 M4)."""
    limits = tmp_path / "limits.toml"
    limits.write_bytes(encode("# 店铺的限制\n[input]\nmax_message_chars = 10\n"))
    monkeypatch.setenv("QC_LIMITS", str(limits))
    day = tmp_path / "day.jsonl"
    day.write_text(_line("c1", "agent", "店:小王", "10:00:00", "亲，在的" + "好" * 20), encoding="utf-8")
    res, out = _inspect(tmp_path, day)
    assert res.exit_code == 0, res.output
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert any("only its first 10" in w for w in run["warnings"])


def test_a_text_cell_stored_as_a_formula_with_no_value_is_named_with_the_fix(tmp_path):
    """A workbook written without Excel stores =-= 好吧 as a formula with no saved value: the row
    was rejected as "empty text" with nothing saying why (audit 103 F6)."""
    import openpyxl

    book = tmp_path / "day.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["会话ID", "角色", "发送人", "时间", "内容"])
    ws.append(["c1", "买家", "tb_a", "2026-11-24 10:00:01", "在吗"])
    ws.append(["c1", "客服", "店:小雨", "2026-11-24 10:00:20", "在的亲"])
    ws.append(["c1", "买家", "tb_a", "2026-11-24 10:00:40", "=-= 好吧"])
    # A sender and a time as formulas: a reply sent to 店:unknown and untimed (audit 154 M6).
    ws.append(["c1", "客服", "=C3", "=D4", "好的亲"])
    wb.save(book)
    res, out = _inspect(tmp_path, book)
    assert res.exit_code == 0, res.output
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    (said,) = [w for w in run["warnings"] if "formula with no saved value" in w]
    assert "Sheet!E4" in said and "Sheet!C5" in said and "Sheet!D5" in said
    assert "open the workbook in Excel or WPS and save it" in said
    assert "好吧" not in said  # the cell's text is a chat's: never quoted
    assert run["counts"] == {"read": 4, "accepted": 3, "rejected": 1}


def test_a_formula_with_a_saved_value_is_never_named_as_unsaved(tmp_path):
    """A 序号 column of =ROW()-1, saved by Excel with its values, beside system rows with no sender,
    was named in the unsaved-formula warning (audit 158 M1)."""
    import zipfile

    import openpyxl

    made = tmp_path / "made.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["序号", "会话ID", "角色", "发送人", "时间", "内容"])
    ws.append(["=ROW()-1", "c1", "系统", "", "2026-11-24 10:00:00", "会话已接入"])
    ws.append(["=ROW()-1", "c1", "买家", "tb_a", "2026-11-24 10:00:01", "在吗"])
    ws.append(["=ROW()-1", "c1", "客服", "店:小雨", "2026-11-24 10:00:20", "在的亲"])
    wb.save(made)
    book = tmp_path / "day.xlsx"  # as Excel saves it: each formula with its value
    with zipfile.ZipFile(made) as old, zipfile.ZipFile(book, "w") as new:
        for item in old.infolist():
            data = old.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                for row in (2, 3, 4):
                    data = data.replace(
                        f'<c r="A{row}"><f>ROW()-1</f><v /></c>'.encode(),
                        f'<c r="A{row}"><f>ROW()-1</f><v>{row - 1}</v></c>'.encode(),
                    )
            new.writestr(item, data)
    res, out = _inspect(tmp_path, book)
    assert res.exit_code == 0, res.output
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["counts"]["accepted"] == 3
    assert not [w for w in run["warnings"] if "formula" in w]


def test_a_block_of_nul_bytes_near_the_start_costs_its_line_not_the_file(tmp_path):
    """A crash while a file is appended leaves a block of NUL bytes; in the first 64 KB of a small
    export it made the whole file "binary", every good record lost (audit 172 F5)."""
    lines = [_good(f"c{i}").strip() for i in range(20)]
    path = tmp_path / "day.jsonl"
    # three crashes, three blocks: a limit of two refused the file whole again (audit 174 M2)
    block = b"\x00" * 4096
    path.write_bytes(
        (lines[0] + "\n").encode()
        + block
        + (lines[1] + "\n").encode()
        + block
        + (lines[2] + "\n").encode()
        + block
        + ("\n".join(lines[3:]) + "\n").encode()
    )
    for jobs in ("1", "2"):
        res, out = _inspect(tmp_path, path, "--jobs", jobs)
        assert res.exit_code == 0, res.stderr
        run = json.loads((out / "run.json").read_text(encoding="utf-8"))
        good = sum(len(x.splitlines()) for x in lines)
        assert run["counts"]["rejected"] == 3 and run["counts"]["read"] == good
        rejects = [json.loads(x) for x in (out / "rejects.jsonl").read_text(encoding="utf-8").splitlines()]
        assert [r["line"] for r in rejects] == [3, 5, 7]  # the lines the blocks run into
    # control bytes other than a NUL block are still binary
    (tmp_path / "blob.jsonl").write_bytes(bytes(range(1, 9)) * 600 + b"\x00" * 4096)
    res, _ = _inspect(tmp_path, tmp_path / "blob.jsonl")
    assert res.exit_code == 1 and "binary" in res.stderr, res.stderr


def test_a_reply_dated_after_next_year_is_a_reject_not_a_day_of_its_own(tmp_path):
    """A mistyped year (2062 for 2026) inside a 2026 chat was accepted: a 2062 agent-day row with
    its points, and the next reply timed from it (audit 172 F3)."""
    from datetime import date

    later = date.today().year + 2
    day = tmp_path / "day.jsonl"
    day.write_text(
        _good("c1")
        + _stamped("c2", f"{later}-11-24 10:00:05")
        + _stamped("c3", f"{later - 1}-01-02 10:00:00"),
        encoding="utf-8",
    )
    res, out = _inspect(tmp_path, day)
    assert res.exit_code == 0, res.output
    (reject,) = _rejects(out)
    assert reject["line"] == 3
    assert reject["reason"].startswith(f"timestamp in the year {later}, after next year ({later - 1})")
    agents = json.loads((out / "run.json").read_text(encoding="utf-8"))["counts"]
    assert agents == {"read": 4, "accepted": 3, "rejected": 1}


def test_a_store_or_a_file_of_many_nul_runs_in_the_input_is_not_read_as_text(tmp_path):
    """With NUL runs left out of the binary check, a qc store in the input folder was read as text
    and given an encoding hint (audit 173 M2)."""
    from qc.store.database import open_store

    folder = tmp_path / "day"
    folder.mkdir()
    (folder / "day.jsonl").write_text(_good("c1"), encoding="utf-8")
    with open_store(folder / "qc.sqlite"):
        pass
    (folder / "pages.bin").write_bytes((bytes(range(1, 32)) + b"page" + b"\x00" * 64) * 200)
    res, out = _inspect(tmp_path, folder)
    assert res.exit_code == 1
    errors = {
        Path(f["path"]).name: f["error"] for f in json.loads((out / "run.json").read_text("utf-8"))["files"]
    }
    assert errors["qc.sqlite"].startswith("is a SQLite database (a qc store?), not a chat export")
    assert "binary" in errors["pages.bin"] and "--encoding" not in errors["pages.bin"]
    assert errors["day.jsonl"] is None


def test_an_opendocument_sheet_and_a_macs_zip_folder_are_named_as_what_they_are(tmp_path):
    """An .ods was told to unzip it; __MACOSX, which a Mac's zip puts beside the files, was listed
    under -q on every run with advice to inspect it (audit 173 L5, L9)."""
    import zipfile

    folder = tmp_path / "day"
    (folder / "__MACOSX").mkdir(parents=True)
    with zipfile.ZipFile(folder / "sheet.ods", "w") as ods:
        ods.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        ods.writestr("content.xml", "<office:document-content/>")
    (folder / "day.jsonl").write_text(_good("c1"), encoding="utf-8")
    res, out = _inspect(tmp_path, folder)
    assert res.exit_code == 1
    files = {Path(f["path"]).name: f for f in json.loads((out / "run.json").read_text("utf-8"))["files"]}
    assert files["sheet.ods"]["error"].startswith("is an OpenDocument file (.ods or .odt)")
    assert "__MACOSX" not in files and "__MACOSX" not in res.stderr


def test_a_tar_of_exports_and_a_sqlite_log_are_named_not_read_as_text(tmp_path):
    """With NUL runs left out of the binary check, a tar's header read as text: two made-up
    conversations and exit 0; a SQLite -wal file got an encoding hint (audit 175 M1, L1)."""
    import io
    import tarfile

    folder = tmp_path / "day"
    folder.mkdir()
    data = _good("c1").encode("utf-8")
    with tarfile.open(folder / "exports.tar", "w") as tar:
        member = tarfile.TarInfo("2026-11-24.jsonl")
        member.size = len(data)
        tar.addfile(member, io.BytesIO(data))
    (folder / "qc.sqlite-wal").write_bytes(b"\x37\x7f\x06\x82" + b"\x00\x2d\xe2\x18" + bytes(range(256)) * 20)
    (folder / "day.jsonl").write_text(_good("c2"), encoding="utf-8")
    res, out = _inspect(tmp_path, folder)
    assert res.exit_code == 1
    errors = {
        Path(f["path"]).name: f["error"] for f in json.loads((out / "run.json").read_text("utf-8"))["files"]
    }
    assert errors["exports.tar"].startswith("is a tar archive (.tar), not text: unpack it")
    assert errors["qc.sqlite-wal"].startswith("is a SQLite write-ahead log (-wal)")
    assert errors["day.jsonl"] is None
    # a crash block in the middle of a line costs that line
    lines = [_good(f"c{i}").strip() for i in range(10)]
    mid = tmp_path / "mid.jsonl"
    mid.write_bytes(lines[0].encode() + b"\x00" * 4096 + ("\n".join(lines[1:]) + "\n").encode())
    res, out = _inspect(tmp_path, mid)
    assert res.exit_code == 0 and len(_rejects(out)) == 1
