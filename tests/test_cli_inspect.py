"""`qc inspect` exit codes through the CLI: 0 ran, 1 unreadable file (rest still done), 2 usage."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qc.cli import app

DATA = Path(__file__).parent / "data" / "readers"
runner = (
    CliRunner(mix_stderr=False) if "mix_stderr" in CliRunner.__init__.__code__.co_varnames else CliRunner()
)


def day_folder(tmp_path: Path, *names: str) -> Path:
    folder = tmp_path / "day"
    folder.mkdir()
    for name in names:
        shutil.copy(DATA / name, folder / name)
    return folder


def jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_exit_0_on_good_input_with_counts_kept(tmp_path: Path) -> None:
    folder = day_folder(tmp_path, "gb18030.csv", "messages.jsonl", "旺旺聊天记录_2026-11-24.txt")
    out = tmp_path / "out"
    res = runner.invoke(app, ["inspect", str(folder), "--out", str(out)])
    assert res.exit_code == 0, res.stderr
    assert "read 30 records: 17 accepted, 13 rejected" in res.stderr
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["counts"] == {"read": 30, "accepted": 17, "rejected": 13}
    assert len(jsonl(out / "rejects.jsonl")) == 13
    summaries = jsonl(out / "conversations.jsonl")
    assert sum(s["messages"] for s in summaries) == 17
    assert res.stdout == ""  # data goes to files, messages to stderr


def test_exit_1_when_one_file_is_unreadable_and_the_rest_is_done(tmp_path: Path) -> None:
    folder = day_folder(tmp_path, "bom.csv", "conversations.jsonl")
    (folder / "broken.xlsx").write_bytes(b"PK\x03\x04 this is not a workbook")
    out = tmp_path / "out"
    res = runner.invoke(app, ["inspect", str(folder), "--out", str(out), "--quiet"])
    assert res.exit_code == 1
    assert "broken.xlsx" in res.stderr and "cannot open as XLSX" in res.stderr
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["counts"] == {"read": 25, "accepted": 12, "rejected": 13}
    by_name = {Path(f["path"]).name: f for f in run["files"]}
    assert by_name["broken.xlsx"]["error"] and by_name["broken.xlsx"]["read"] == 0
    assert by_name["bom.csv"]["accepted"] == 3 and by_name["conversations.jsonl"]["accepted"] == 9
    assert len(jsonl(out / "conversations.jsonl")) == 4
    assert len(jsonl(out / "rejects.jsonl")) == 13


def test_exit_1_for_forced_encoding_that_fails(tmp_path: Path) -> None:
    folder = day_folder(tmp_path, "gb18030.csv")
    res = runner.invoke(app, ["inspect", str(folder), "--out", str(tmp_path / "o"), "--encoding", "utf-8"])
    assert res.exit_code == 1
    assert "try --encoding gb18030" in res.stderr


def test_a_gbk_export_with_too_many_bad_lines_to_sniff_says_gb18030_reads_it(tmp_path: Path) -> None:
    """Two good GBK lines and a garbled one: the hint is --encoding gb18030 (it said big5), which reads it."""
    folder = tmp_path / "day"
    folder.mkdir()
    lines = [
        '{"conversation_id": "c1", "role": "customer", "timestamp": "2026-11-24 10:00:00", "text": "在吗"}',
        '{"conversation_id": "c1", "role": "agent", "timestamp": "2026-11-24 10:00:05", "text": "在的亲"}',
    ]
    data = b"\n".join(line.encode("gbk") for line in lines) + b'\n{"text": "\x81\x20\xff\xfe"}\n'
    (folder / "day.jsonl").write_bytes(data)
    res = runner.invoke(app, ["inspect", str(folder), "--out", str(tmp_path / "o"), "-q"])
    assert res.exit_code == 1
    assert "as GB18030, 1 of its 3 lines does not decode" in res.stderr
    assert "--encoding gb18030 reads it with that line as a reject" in res.stderr
    again = runner.invoke(
        app, ["inspect", str(folder), "--out", str(tmp_path / "o"), "-q", "--encoding", "gb18030"]
    )
    assert again.exit_code == 0, again.output
    run = json.loads((tmp_path / "o" / "run.json").read_text(encoding="utf-8"))
    assert (run["counts"]["accepted"], run["counts"]["rejected"]) == (2, 1)


@pytest.mark.parametrize(
    "args",
    [
        ["--input-format", "nonsense"],
        ["--date", "2026-13-40"],
        ["--encoding", "no-such-codec"],
        ["--column", "colour=颜色"],
        ["--timezone", "Mars/Olympus"],
        ["--encoding", "rot13"],
        ["--encoding", "base64"],
        ["--date", "1900-01-01"],
    ],
    ids=["format", "date", "encoding", "column", "timezone", "rot13", "base64", "date-1900"],
)
def test_exit_2_for_bad_options(tmp_path: Path, args: list[str]) -> None:
    res = runner.invoke(app, ["inspect", str(DATA / "bom.csv"), "--out", str(tmp_path / "o"), *args])
    assert res.exit_code == 2
    assert res.stderr.startswith("qc: ")
    assert "Traceback" not in res.stderr


@pytest.mark.parametrize(
    "content",
    [b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\n\r\n,,\n"],
    ids=["empty", "utf-8-bom", "utf-16-bom", "blank-rows"],
)
def test_exit_0_for_a_csv_without_any_row_as_for_an_empty_jsonl(tmp_path: Path, content: bytes) -> None:
    day = tmp_path / "day.csv"
    day.write_bytes(content)
    res = runner.invoke(app, ["inspect", str(day), "--out", str(tmp_path / "o"), "-q"])
    assert res.exit_code == 0, res.output
    assert "qc: nothing inspected: no chat export was read: its files hold no record" in res.stderr
    run = json.loads((tmp_path / "o" / "run.json").read_text(encoding="utf-8"))
    assert run["counts"] == {"read": 0, "accepted": 0, "rejected": 0}
    assert [f["error"] for f in run["files"]] == [None]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (
            ["--agent-nick", "小明", "--customer-nick", "小明"],
            "小明 is given as both --agent-nick and --customer-nick",
        ),
        (["--agent-nick", "小明 ", "--customer-nick", "小明"], "小明 is given as both"),
        (["--agent-nick", " "], "--agent-nick '': give the nick"),
        (
            ["--column", "text=内容", "--column", "text=消息内容"],
            "--column text= is given twice (内容 and 消息内容)",
        ),
        (  # every agent's id became its message's text (audit 154 L3)
            ["--column", "text=内容", "--column", "sender=内容"],
            "--column sender=内容: 内容 is already named for text",
        ),
        # a field's name mistyped is named as the scorecard and lexicon checks name it (audit 162 L7)
        (["--column", "txt=聊天内容"], "unknown field 'txt'; did you mean 'text'?"),
        (["--column", "colour=颜色"], "unknown field 'colour'; use one of conversation_id"),
    ],
    ids=[
        "nick-both-roles",
        "nick-both-roles-spaced",
        "empty-nick",
        "column-twice",
        "header-twice",
        "field-slip",
        "field-unknown",
    ],
)
def test_options_that_contradict_each_other_are_refused(tmp_path: Path, args: list[str], says: str) -> None:
    """Each ran with exit 0, one of them silently losing (audit 84 L7)."""
    out = tmp_path / "o"
    res = runner.invoke(app, ["inspect", str(DATA / "bom.csv"), "--out", str(out), *args])
    assert res.exit_code == 2 and says in res.stderr and not out.exists()


def test_exit_2_for_missing_input(tmp_path: Path) -> None:
    res = runner.invoke(app, ["inspect", str(tmp_path / "nope"), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_exit_2_for_a_pipe_instead_of_waiting_for_ever(tmp_path: Path) -> None:
    # `qc inspect <(zcat day.jsonl.gz)` names a pipe; the readers open an input twice, and the
    # second open of a pipe blocks until another writer comes. Refused at once, with the fix.
    pipe = tmp_path / "day.jsonl"
    os.mkfifo(pipe)
    res = runner.invoke(app, ["inspect", str(DATA / "bom.csv"), str(pipe), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2
    assert res.stderr.startswith(f"qc: {pipe}: a pipe or device, not a file")
    assert "Save it to a file first" in res.stderr
    assert not (tmp_path / "o").exists()


def test_exit_2_when_out_is_an_existing_file(tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    out.write_text("not a folder", encoding="utf-8")
    res = runner.invoke(app, ["inspect", str(DATA / "bom.csv"), "--out", str(out)])
    assert res.exit_code == 2
    assert res.stderr == f"qc: --out {out} is a file; give a folder (it is created when missing)\n"
    assert out.read_text(encoding="utf-8") == "not a folder"


def test_exit_2_when_out_is_a_link_in_a_loop_or_to_nothing(tmp_path: Path) -> None:
    """A loop was "internal error … a bug in qc" (exit 70) and a link to nothing "File exists" (audit
    141 L1): each is said, exit 2, and nothing is written."""
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    (tmp_path / "gone").symlink_to(tmp_path / "nowhere")
    loop = runner.invoke(app, ["inspect", str(DATA / "bom.csv"), "--out", str(tmp_path / "a")])
    assert loop.exit_code == 2 and "is a link in a loop" in loop.stderr
    nothing = runner.invoke(app, ["export", "--date", "2026-11-24", "--out", str(tmp_path / "gone")])
    assert (
        nothing.exit_code == 2
        and f"is a link to {tmp_path / 'nowhere'}, which does not exist" in nothing.stderr
    )
    assert not (tmp_path / "nowhere").exists()
    below = runner.invoke(app, ["inspect", str(DATA / "bom.csv"), "--out", str(tmp_path / "a" / "day")])
    assert below.exit_code == 2 and f"{tmp_path / 'a'} is a link in a loop" in below.stderr  # audit 143 L1


def test_exit_2_when_out_is_an_input_folder_and_nothing_is_written(tmp_path: Path) -> None:
    folder = day_folder(tmp_path, "bom.csv")
    before = sorted(p.name for p in folder.iterdir())
    res = runner.invoke(app, ["inspect", str(folder), "--out", str(folder / ".")])
    assert res.exit_code == 2
    assert f"is the input folder {folder}: the next run over it would read qc's own files" in res.stderr
    assert sorted(p.name for p in folder.iterdir()) == before
    # A folder of its own inside the input folder is fine: folders are read one level deep, so a
    # second run reads exactly what the first did.
    res = runner.invoke(app, ["inspect", str(folder), "--out", str(folder / "qc-out"), "-q"])
    assert res.exit_code == 0, res.output
    first = json.loads((folder / "qc-out" / "run.json").read_text(encoding="utf-8"))["counts"]
    again = runner.invoke(app, ["inspect", str(folder), "--out", str(folder / "qc-out"), "-q"])
    assert again.exit_code == 0, again.output
    assert json.loads((folder / "qc-out" / "run.json").read_text(encoding="utf-8"))["counts"] == first
    assert first["read"] > 0


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.mkdir(), "is a folder, not a store file: give a file path, e.g. --db {db}/qc.sqlite"),
        (
            lambda p: p.write_bytes(b"garbage, not SQLite" * 20),
            "file is not a database (not a qc store, or a damaged one): give --db a qc store",
        ),
        (lambda p: p.write_bytes(b""), "is read-only and a run saves into it: make it writable"),
    ],
    ids=["folder", "garbage", "read-only"],
)
def test_a_store_that_cannot_serve_is_exit_2_before_the_day_is_inspected(
    tmp_path: Path, monkeypatch, make, message
):
    import qc.batch.run

    db = tmp_path / "qc.sqlite"
    make(db)
    if "read-only" in message:  # as for a user without write permission (root may write any file)
        access = os.access
        monkeypatch.setattr(
            os, "access", lambda p, mode: access(p, mode) and not (Path(p) == db and mode & os.W_OK)
        )
    inspected = []
    monkeypatch.setattr(qc.batch.run, "run_inspection", lambda *a, **k: inspected.append(1))
    res = runner.invoke(
        app, ["inspect", str(DATA / "bom.csv"), "--out", str(tmp_path / "o"), "--db", str(db)]
    )
    assert res.exit_code == 2
    assert f"qc: --db {db}" in res.stderr and message.format(db=db) in res.stderr
    assert inspected == [] and not (tmp_path / "o").exists()


def test_exit_2_when_the_store_would_sit_in_an_input_folder(tmp_path: Path) -> None:
    folder = day_folder(tmp_path, "bom.csv")
    before = sorted(p.name for p in folder.iterdir())
    res = runner.invoke(
        app, ["inspect", str(folder), "--out", str(tmp_path / "o"), "--db", str(folder / "qc.sqlite")]
    )
    assert res.exit_code == 2
    assert (
        f"--db {folder / 'qc.sqlite'} is in the input folder {folder}: the next run over it would read"
        in res.stderr
    )
    assert sorted(p.name for p in folder.iterdir()) == before and not (tmp_path / "o").exists()
    # one level down is fine, as for --out: the reader never opens it
    res = runner.invoke(
        app,
        [
            "inspect",
            str(folder),
            "--out",
            str(tmp_path / "o"),
            "--db",
            str(folder / "store" / "qc.sqlite"),
            "-q",
        ],
    )
    assert res.exit_code == 0, res.output


def test_exit_70_for_a_bug_in_qc_names_the_place_never_the_text(tmp_path: Path, monkeypatch) -> None:
    # A bug (here a KeyError whose text quotes a buyer) must not reach the user as a traceback
    # or print the text it quotes; the run publishes nothing.
    from qc.attitude import rule

    def broken(self, inputs):
        raise KeyError("买家电话13800138000，地址上海市浦东新区")

    monkeypatch.setattr(rule.AttitudeClassifierRule, "probabilities", broken)
    folder = day_folder(tmp_path, "messages.jsonl")
    out = tmp_path / "out"
    res = runner.invoke(app, ["inspect", str(folder), "--out", str(out)])
    assert res.exit_code == 70, res.stderr
    assert "internal error (KeyError in qc/attitude/rule.py line" in res.stderr
    assert "13800138000" not in res.stderr + res.stdout and "Traceback" not in res.stderr
    assert not out.exists()
    monkeypatch.setenv("QC_DEBUG", "1")  # for whoever debugs it: the exception itself
    res = runner.invoke(app, ["inspect", str(folder), "--out", str(out)])
    assert isinstance(res.exception, KeyError) and not out.exists()


def test_a_reader_closing_the_pipe_ends_a_command_quietly_and_other_pipe_errors_still_count() -> None:
    """``qc lexicon show | head -1``: the reader has what it wanted; not a failure to report."""
    import subprocess
    import sys

    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before qc writes its first line
    try:
        done = subprocess.run(
            [sys.executable, "-m", "qc", "lexicon", "show"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
        )
    finally:
        os.close(write_end)
    assert (done.returncode, done.stderr) == (0, "")
    # a broken pipe that is not standard output's is still an error (exit 1, named)
    script = (
        "import sys; from qc.cli._common import handle_errors\n"
        "@handle_errors\n"
        "def run():\n    raise BrokenPipeError(32, 'Broken pipe')\n"
        "try:\n    run()\nexcept BaseException as exc:\n    sys.exit(getattr(exc, 'exit_code', 99))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert (done.returncode, done.stderr) == (1, "qc: Broken pipe\n")


def test_a_closed_pipe_after_a_rich_table_or_transcript_exits_0_too(tmp_path: Path) -> None:
    """rich answered a closed pipe with its own SystemExit(1): `qc show ID | head -1` exited 1
    where every other command exits 0 (audit 70)."""
    import subprocess
    import sys

    store = tmp_path / "qc.sqlite"
    day = Path(__file__).resolve().parents[1] / "demo" / "day"
    assert (
        runner.invoke(
            app, ["inspect", str(day), "--out", str(tmp_path / "o"), "--db", str(store), "-q"]
        ).exit_code
        == 0
    )
    for command in (
        ["show", "c20261124_000082", "--db", str(store), "--no-mood"],
        ["check", "哦", "--context", "能发货吗", "--format", "table"],
    ):
        read_end, write_end = os.pipe()
        os.close(read_end)
        try:
            done = subprocess.run(
                [sys.executable, "-m", "qc", *command], stdout=write_end, stderr=subprocess.PIPE, text=True
            )
        finally:
            os.close(write_end)
        assert (done.returncode, done.stderr) == (0, ""), command


def test_a_file_whose_name_is_not_utf8_is_refused_and_the_rest_is_read(tmp_path: Path) -> None:
    """unzip of a zip made on Chinese Windows names files in GBK: one failed input, not an internal error."""
    folder = day_folder(tmp_path, "bom.csv")
    gbk = os.fsdecode(b"\xc1\xc4\xcc\xec.csv")  # 聊天.csv in GBK
    (folder / gbk).write_bytes((DATA / "bom.csv").read_bytes())
    res = runner.invoke(app, ["inspect", str(folder), "--out", str(tmp_path / "o"), "-q"])
    assert res.exit_code == 1, res.output
    shown = f"{folder}/\\xc1\\xc4\\xcc\\xec.csv"
    assert f"qc: {shown}: file name is not UTF-8" in res.stderr and "convmv -f gbk -t utf-8" in res.stderr
    run = json.loads((tmp_path / "o" / "run.json").read_text(encoding="utf-8"))
    assert {f["path"]: bool(f.get("error")) for f in run["files"]} == {
        str(folder / "bom.csv"): False,
        shown: True,
    }
    assert run["counts"]["accepted"] > 0


def test_a_full_disk_says_what_to_free_when_the_error_names_no_file(capsys) -> None:
    """A write to an open file on a full disk printed only "qc: No space left on device" (audit 69)."""
    import errno

    import typer

    from qc.cli._common import handle_errors

    @handle_errors
    def full() -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(typer.Exit) as stopped:
        full()
    assert stopped.value.exit_code == 1
    said = capsys.readouterr().err
    assert (
        "qc: No space left on device; free space on the disk qc writes to (its output, --out or --db, or the"
        " temporary folder, TMPDIR, where a run keeps its records)" in said
    )


def test_sqlite_full_is_a_full_disk_naming_the_output_folder_not_a_bug(tmp_path, capsys) -> None:
    """SQLite's "database or disk is full" (the verdict spool beside --out) was reported as a bug in qc,
    exit 70; and a full disk under `qc inspect` or `qc export` named no folder (audit 130 M4, M5)."""
    import sqlite3

    import typer
    from sqlalchemy.exc import OperationalError

    from qc.cli._common import handle_errors, output_folder

    for raised in (
        sqlite3.OperationalError("database or disk is full"),
        OperationalError("INSERT …", {}, sqlite3.OperationalError("database or disk is full")),
    ):

        @handle_errors
        def full(error: Exception = raised) -> None:
            output_folder(tmp_path / "out")
            raise error

        with pytest.raises(typer.Exit) as stopped:
            full()
        assert stopped.value.exit_code == 1
        said = capsys.readouterr().err
        assert said.startswith(f"qc: {tmp_path / 'out'}: No space left on device; free space on the disk")
        assert "bug" not in said


def test_the_summary_says_where_the_rejected_records_are(tmp_path):
    """`8 rejected` said neither which lines nor where to look (audit 91 #20)."""
    day = tmp_path / "day"
    day.mkdir()
    good = '{"conversation_id":"a","role":"customer","text":"在吗","timestamp":"2026-11-24T10:00:00+08:00"}'
    (day / "x.jsonl").write_text(good + "\n{broken\n", encoding="utf-8")
    done = runner.invoke(app, ["inspect", str(day), "--out", str(tmp_path / "o"), "--jobs", "1"])
    assert done.exit_code == 0, done.stderr
    assert (
        f"the 1 rejected records, each with its file, line and why: {tmp_path / 'o' / 'rejects.jsonl'}"
        in done.stderr
    )
    (reject,) = [json.loads(line) for line in (tmp_path / "o" / "rejects.jsonl").read_text().splitlines()]
    assert reject["line"] == 2


def test_an_out_folder_that_cannot_be_made_is_named_as_given(tmp_path):
    """The error named qc's temporary folder beside it (.x.qc-tmp-fx0n…) (audit 93 #5)."""
    from typer.testing import CliRunner

    from qc.cli import app

    day = tmp_path / "day.jsonl"
    day.write_text(
        '{"conversation_id": "c1", "role": "买家", "text": "在吗", "timestamp": "2026-11-24 10:00:00"}\n',
        encoding="utf-8",
    )
    r = CliRunner().invoke(app, ["inspect", str(day), "--out", "/proc/self/qc-out", "-q"])
    assert r.exit_code == 1 and "/proc/self/qc-out: cannot write there" in r.output
    assert "qc-tmp" not in r.output and "Traceback" not in r.output


@pytest.mark.parametrize(
    "jobs", [[], ["--jobs", "2"], ["--db", "STORE"]], ids=["one-process", "jobs", "with-a-store"]
)
def test_a_run_naming_no_agent_and_no_time_says_so_once(tmp_path: Path, jobs: list[str]) -> None:
    """JSON Lines of roles and texts only: every chat scored as one agent 'unknown', no reply
    timed, and run.json's warnings empty (audit 164 M2)."""
    jobs = [str(tmp_path / "qc.sqlite") if a == "STORE" else a for a in jobs]  # with a store: audit 165 M1
    day = tmp_path / "chats.jsonl"
    lines = [
        {"conversation_id": f"n{i}", "role": role, "text": text}
        for i in range(3)
        for role, text in (("customer", "在吗"), ("agent", "在的亲"))
    ]
    day.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8")
    res = runner.invoke(app, ["inspect", str(day), "--out", str(tmp_path / "o"), "-q", *jobs])
    assert res.exit_code == 0, res.output
    warnings = json.loads((tmp_path / "o" / "run.json").read_text(encoding="utf-8"))["warnings"]
    assert sum("no agent message names its agent" in w for w in warnings) == 1
    assert sum("no message has a time" in w for w in warnings) == 1
    # a sheet says it of itself, and the run does not say it twice
    sheet = tmp_path / "chats.csv"
    sheet.write_text("会话ID,角色,内容\nn1,买家,在吗\nn1,客服,在的亲\n", encoding="utf-8")
    res = runner.invoke(app, ["inspect", str(sheet), "--out", str(tmp_path / "s"), "-q", *jobs])
    warnings = json.loads((tmp_path / "s" / "run.json").read_text(encoding="utf-8"))["warnings"]
    assert sum("names its agent" in w for w in warnings) == 1
    assert not any("no message has a time" in w for w in warnings)


def test_the_terminal_table_counts_what_waits_for_a_reviewer(tmp_path: Path) -> None:
    """With the classifier's verdicts held by the default card, nothing on the terminal said the
    findings were there (audit 165 M5)."""
    day = tmp_path / "2026-11-24.jsonl"
    messages = [
        {"role": "customer", "sender": "b1", "timestamp": "2026-11-24T10:00:00+08:00", "text": "这个怎么用"},
        {
            "role": "agent",
            "sender": "店:小王",
            "timestamp": "2026-11-24T10:00:09+08:00",
            "text": "你自己看不懂吗",
        },
    ]
    day.write_text(
        json.dumps({"conversation_id": "c1", "messages": messages}, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    res = runner.invoke(app, ["inspect", str(day), "--out", str(tmp_path / "o")], env={"COLUMNS": "300"})
    assert res.exit_code == 0, res.output
    lines = res.stderr.splitlines()
    at = next(i for i, line in enumerate(lines) if "agent" in line and "date" in line)
    above = [c.strip() for c in lines[at - 1].split("┃")]
    heads = [c.strip() for c in lines[at].split("┃")]
    row = next(line for line in lines if "小王" in line)
    cells = [c.strip() for c in row.split("│")]
    column = heads.index("held")
    assert above[column] == "待复核" and cells[column] == "1"


def test_a_dash_for_standard_input_is_refused_with_the_fix(tmp_path: Path) -> None:
    """`qc inspect -` said "no such file or folder: -" (audit 172 F10)."""
    res = runner.invoke(app, ["inspect", "-", "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "reads files, not standard input; save the export to a file" in res.stderr
