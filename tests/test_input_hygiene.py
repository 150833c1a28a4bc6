"""Input hygiene through `qc inspect` (issue 17, item 6).

Agent ids that differ only in colon width, spaces or case are one agent; a `--column` header
that is not in the file is an error naming the headers that are; a README in an input folder
is skipped with a warning, never counted as rejects of a chat file.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qc.cli import app
from qc.readers.roles import fold_agent_id

runner = (
    CliRunner(mix_stderr=False) if "mix_stderr" in CliRunner.__init__.__code__.co_varnames else CliRunner()
)
DAY = "2026-11-24"


def _message(cid: str, role: str, sender: str, t: str, text: str) -> dict:
    return {"conversation_id": cid, "role": role, "sender": sender, "timestamp": f"{DAY} {t}", "text": text}


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("spelling", "folded"),
    [
        ("柚子优选旗舰店：小雨", "柚子优选旗舰店:小雨"),
        ("柚子优选旗舰店 : 小雨", "柚子优选旗舰店:小雨"),
        (" 柚子优选旗舰店:小 雨 ", "柚子优选旗舰店:小雨"),
        ("柚子优选旗舰店\u3000：小雨", "柚子优选旗舰店:小雨"),
        ("Shop:XiaoYu", "shop:xiaoyu"),
        ("ＳＨＯＰ：ＸＩＡＯＹＵ", "shop:xiaoyu"),
        ("柚子优选旗舰店:小雨", "柚子优选旗舰店:小雨"),
        ("柚子优选旗舰店:\u200b小雨", "柚子优选旗舰店:小雨"),  # zero-width space
        ("\ufeff柚子优选旗舰店:小\u200d雨\u2060", "柚子优选旗舰店:小雨"),
    ],
)
def test_fold_agent_id(spelling, folded):
    assert fold_agent_id(spelling) == folded


def test_colon_width_spaces_and_case_fold_to_one_agent(tmp_path: Path) -> None:
    spellings = [
        "柚子优选旗舰店:小雨",
        "柚子优选旗舰店：小雨",
        "柚子优选旗舰店 : 小雨",
        "Shop:Amy",
        "shop:AMY",
        "柚子优选旗舰店:\u200b小雨",
    ]
    rows = []
    for i, agent in enumerate(spellings):
        cid = f"c{i}"
        rows += [
            _message(cid, "买家", f"buyer{i}", "10:00:00", "在吗"),
            _message(cid, "客服", agent, "10:00:05", "在的亲，请问有什么可以帮您"),
        ]
    day = _jsonl(tmp_path / "day.jsonl", rows)
    res = runner.invoke(app, ["inspect", str(day), "--out", str(tmp_path / "out"), "-q"])
    assert res.exit_code == 0, res.stderr
    agents = json.loads((tmp_path / "out" / "agents.json").read_text(encoding="utf-8"))
    assert sorted((a["agent"], a["conversations"]) for a in agents) == [
        ("shop:amy", 2),
        ("柚子优选旗舰店:小雨", 4),
    ]


def test_a_role_word_with_an_invisible_character_is_still_the_role(tmp_path: Path) -> None:
    rows = [
        _message("c1", "买家\u200b", "tb_a", "10:00:00", "在吗"),
        _message("c1", "\ufeff客服", "店:小雨", "10:00:05", "在的亲"),
    ]
    day = _jsonl(tmp_path / "day.jsonl", rows)
    res = runner.invoke(app, ["inspect", str(day), "--out", str(tmp_path / "out"), "-q"])
    assert res.exit_code == 0, res.stderr
    run = json.loads((tmp_path / "out" / "run.json").read_text(encoding="utf-8"))
    assert (run["counts"]["accepted"], run["counts"]["rejected"]) == (2, 0)


@pytest.mark.parametrize("column", [[], ["--column", "text=聊天内容"]], ids=["no-header", "named-column"])
def test_a_file_without_a_header_row_is_named_without_its_first_rows_text(tmp_path: Path, column) -> None:
    """The first row of a headerless export is a message: the error shows role words and header
    names only, the rest as what it looks like; the buyer's nick and the start of the message
    (a name, part of an ID number) were shown, masked for phones and addresses only (audit 84 H3)."""
    path = tmp_path / "chat.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(
            [
                "c1",
                "买家",
                "tb_wangxiaoming88",
                f"{DAY} 10:00:00",
                "收件人张女士 13912345678 地址浙江省杭州市西湖区文三路90号",
            ]
        )
        w.writerow(["c1", "客服", "店:小雨", f"{DAY} 10:00:05", "好的亲"])
    out = tmp_path / "out"
    res = runner.invoke(app, ["inspect", str(path), "--out", str(out), "-q", *column])
    assert res.exit_code == 1
    error = json.loads((out / "run.json").read_text(encoding="utf-8"))["files"][0]["error"]
    for shown in (res.stderr, error):
        assert (
            "its first row holds <text of 2 characters>, 买家, <text of 17 characters>, <a date-time>,"
            " <text of 36 characters>"
        ) in shown
        assert "13912345678" not in shown and "文三路" not in shown and "张女士" not in shown
        assert "wangxiao" not in shown and "收件人" not in shown


def test_a_column_header_that_is_not_in_the_file_is_an_error_naming_the_headers(tmp_path: Path) -> None:
    path = tmp_path / "chats.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["会话ID", "角色", "发送人", "时间", "内容"])
        w.writerow(["c1", "买家", "b1", f"{DAY} 10:00:00", "你好"])
        w.writerow(["c1", "客服", "店:小雨", f"{DAY} 10:00:05", "在的"])
    out = tmp_path / "out"
    res = runner.invoke(app, ["inspect", str(path), "--out", str(out), "--column", "text=聊天内容", "-q"])
    assert res.exit_code == 1
    assert (
        "--column text=聊天内容: no such header in line 1; the headers are 会话ID, 角色, 发送人, 时间, 内容"
        in (res.stderr)
    )
    assert "Traceback" not in res.stderr
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["counts"] == {"read": 0, "accepted": 0, "rejected": 0}
    assert "no such header" in run["files"][0]["error"]
    # the same file with a header that exists is read
    ok = runner.invoke(
        app, ["inspect", str(path), "--out", str(tmp_path / "ok"), "--column", "text=内容", "-q"]
    )
    assert ok.exit_code == 0, ok.stderr


def test_a_readme_in_the_input_folder_is_skipped_with_a_warning(tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    _jsonl(
        folder / f"{DAY}.jsonl",
        [
            _message("c1", "买家", "b1", "10:00:00", "在吗"),
            _message("c1", "客服", "店:小雨", "10:00:05", "在的亲"),
        ],
    )
    (folder / "README.txt").write_text(
        "These are the exports of the day.\nOpen them with qc inspect.\n\nAsk the QA lead.\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    res = runner.invoke(app, ["inspect", str(folder), "--out", str(out)])
    assert res.exit_code == 0, res.stderr
    assert "README.txt: skipped: not a chat export" in res.stderr
    assert "read 2 records: 2 accepted, 0 rejected" in res.stderr
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["counts"] == {"read": 2, "accepted": 2, "rejected": 0}
    readme = next(f for f in run["files"] if f["path"].endswith("README.txt"))
    assert readme["skipped"] and readme["error"] is None and readme["read"] == 0
    assert any("README.txt: skipped" in w for w in run["warnings"])
    assert (out / "rejects.jsonl").read_text(encoding="utf-8") == ""


def test_every_character_validation_refuses_is_unprintable() -> None:
    # validate() searches a field for refused characters only when str.isprintable() says it
    # holds an unprintable one: that shortcut is exact only if no refused character is printable.
    from qc.readers.records import _BAD_IN_ID, _BAD_IN_TEXT

    refused = [c for c in map(chr, range(0x110000)) if _BAD_IN_ID.match(c) or _BAD_IN_TEXT.match(c)]
    assert len(refused) > 2000 and not any(c.isprintable() for c in refused)


def test_role_words_are_looked_up_folded_or_as_they_are() -> None:
    # parse_role_word tries the value as it is first: exact only while every key is folded.
    from qc.readers.roles import _ROLE_WORDS, parse_role_word

    assert all(k == k.strip().lower().replace("_", "").replace(" ", "") for k in _ROLE_WORDS)
    assert parse_role_word("agent") == parse_role_word(" Agent ") == parse_role_word("AGENT") is not None
    assert parse_role_word("auto_reply") == parse_role_word("autoreply") and parse_role_word("nobody") is None


def _joined(tmp_path: Path, name: str, part: str) -> Path:
    """Two exports joined with cat: the second keeps its byte-order mark, now mid-file."""
    path = tmp_path / name
    path.write_bytes(
        ("\ufeff" + part.replace("ID", "1") + "\ufeff" + part.replace("ID", "2")).encode("utf-8")
    )
    return path


@pytest.mark.parametrize(
    ("name", "part", "rejected"),
    [
        (
            "day.txt",
            "===== 会话 cID =====\n买家(2026-11-24 10:0ID:00): 在吗\n店:小雨(2026-11-24 10:0ID:09): 在的亲\n",
            [],
        ),
        (
            "day.jsonl",
            json.dumps(_message("cID", "买家", "tb_a", "10:0ID:00", "在吗"), ensure_ascii=False)
            + "\n"
            + json.dumps(_message("cID", "客服", "店:小雨", "10:0ID:09", "在的亲"), ensure_ascii=False)
            + "\n",
            [],
        ),
        (
            "day.csv",
            "会话ID,角色,发送人,发送时间,内容\n"
            "cID,买家,tb_a,2026-11-24 10:0ID:00,在吗\n"
            "cID,客服,店:小雨,2026-11-24 10:0ID:09,在的亲\n",
            ["the header row again (files joined one after another?): not a message"],
        ),
    ],
    ids=["text", "jsonl", "csv"],
)
def test_exports_joined_with_cat_read_as_two(
    tmp_path: Path, name: str, part: str, rejected: list[str]
) -> None:
    """A byte-order mark at the start of a later line was a reject (JSON Lines, CSV) or hid a
    divider, so the second conversation's messages joined the first (text)."""
    if name.endswith(".csv"):
        part = part.replace("会话ID", "会话编号")  # the header itself must not take the id
    day = _joined(tmp_path, name, part)
    res = runner.invoke(app, ["inspect", str(day), "--out", str(tmp_path / "out"), "-q"])
    assert res.exit_code == 0, res.stderr
    out = tmp_path / "out"
    conversations = [
        json.loads(x)["conversation_id"] for x in (out / "conversations.jsonl").read_text("utf-8").split()
    ]
    assert conversations == ["c1", "c2"]
    rejects = (out / "rejects.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(r)["reason"] for r in rejects] == rejected


def test_quiet_still_names_a_file_it_did_not_read(tmp_path: Path) -> None:
    """A cron run with -q said nothing of a day's export it skipped as not a chat export (exit 0)."""
    day = _jsonl(tmp_path / "day.jsonl", [_message("c1", "买家", "tb_a", "10:00:00", "在吗")])
    notes = tmp_path / "notes.txt"
    notes.write_text("今天的备注\n没有时间的一行\n", encoding="utf-8")
    res = runner.invoke(app, ["inspect", str(day), str(notes), "--out", str(tmp_path / "out"), "-q"])
    assert res.exit_code == 0, res.stderr
    assert res.stderr.splitlines() == [
        f"qc: {notes}: skipped: " + res.stderr.split(": skipped: ", 1)[1].strip()
    ]
    assert "not a chat export" in res.stderr


def test_same_named_exports_of_two_folders_are_two_conversations_in_qc_inspect(tmp_path: Path) -> None:
    """The streaming reader of qc inspect names them as the whole-batch reader does."""
    for agent in ("小雨", "小满"):
        (tmp_path / agent).mkdir()
        (tmp_path / agent / "2026-11-24.txt").write_text(
            f"tb_{agent}(10:00:00): 在吗\n柚子优选旗舰店:{agent}(10:00:30): 在的亲\n", encoding="utf-8"
        )
    for jobs in ("1", "2"):
        out = tmp_path / f"out{jobs}"
        res = runner.invoke(
            app,
            [
                "inspect",
                str(tmp_path / "小雨"),
                str(tmp_path / "小满"),
                "--out",
                str(out),
                "-q",
                "--jobs",
                jobs,
            ],
        )
        assert res.exit_code == 0, res.stderr
        rows = [json.loads(x) for x in (out / "conversations.jsonl").read_text("utf-8").splitlines()]
        assert [(r["conversation_id"], r["agents"]) for r in rows] == [
            ("2026-11-24@小雨", ["柚子优选旗舰店:小雨"]),
            ("2026-11-24@小满", ["柚子优选旗舰店:小满"]),
        ]


def test_a_run_that_inspects_nothing_says_so_under_quiet_and_exits_1(tmp_path: Path) -> None:
    """A folder of agents' folders, an empty folder and an export whose every record was rejected
    each wrote empty outputs, exited 0 and, with -q, said nothing (audit 172 F1)."""
    day = tmp_path / "day"
    for agent in ("小雨", "小满"):
        (day / agent).mkdir(parents=True)
        (day / agent / "2026-11-24.txt").write_text(
            f"tb_{agent}(10:00:00): 在吗\n柚子优选旗舰店:{agent}(10:00:30): 在的亲\n", encoding="utf-8"
        )
    res = runner.invoke(app, ["inspect", str(day), "--out", str(tmp_path / "o1"), "-q"])
    assert res.exit_code == 1, res.stderr
    assert f"qc: {day / '小雨'}: skipped: a folder inside the input folder" in res.stderr
    assert "qc: nothing inspected: no chat export was read" in res.stderr
    assert "2 folders inside the input were not read (folders are read one level deep)" in res.stderr
    run = json.loads((tmp_path / "o1" / "run.json").read_text(encoding="utf-8"))
    assert sorted(Path(f["path"]).name for f in run["files"] if f["skipped"]) == ["小满", "小雨"]
    # named one by one, they are read; a folder beside a day's files is said, the run goes on
    res = runner.invoke(
        app, ["inspect", str(day / "小雨"), str(day / "小满"), "--out", str(tmp_path / "o2"), "-q"]
    )
    assert res.exit_code == 0 and res.stderr == "", res.stderr
    _jsonl(day / f"{DAY}.jsonl", [_message("c1", "买家", "b1", "10:00:00", "在吗")])
    res = runner.invoke(app, ["inspect", str(day), "--out", str(tmp_path / "o3"), "-q"])
    assert res.exit_code == 0 and "nothing inspected" not in res.stderr
    assert res.stderr.count("skipped: a folder inside the input folder") == 2
    empty = tmp_path / "empty"
    empty.mkdir()
    res = runner.invoke(app, ["inspect", str(empty), "--out", str(tmp_path / "o4"), "-q"])
    assert (
        res.exit_code == 1
        and "qc: nothing inspected: no chat export was read: the input holds no file" in res.stderr
    )
    # files that are no chat export: exit 1; the escape and the line break of a file name are not
    # printed as they are (audit 172 F8)
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "a\x1b[31mred\nline.txt").write_text("今天的备注\n没有时间的一行\n", encoding="utf-8")
    res = runner.invoke(app, ["inspect", str(notes), "--out", str(tmp_path / "o7"), "-q"])
    assert res.exit_code == 1 and "no chat export was read: no input is one" in res.stderr
    assert "\x1b" not in res.stderr and "a[31mred\\nline.txt: skipped: not a chat export" in res.stderr
    # a file that failed beside an empty export: the failure is said, not a day without chats (audit 174 L4)
    (notes / "day.jsonl.gz").write_bytes(b"\x1f\x8b\x08\x00" + b"\x00" * 20)
    (notes / "empty.jsonl").write_text("", encoding="utf-8")
    res = runner.invoke(app, ["inspect", str(notes), "--out", str(tmp_path / "o8"), "-q"])
    assert res.exit_code == 1 and "no chat export was read: 1 input could not be read" in res.stderr
    assert (
        "a day without chats" not in res.stderr and "1 export holds no record" in res.stderr
    )  # audit 175 L3
    # an empty export beside an agents' folder: the folder's chats are unread, exit 1 (audit 175 L4)
    (notes / "day.jsonl.gz").unlink()
    (notes / "小雨").mkdir()
    res = runner.invoke(app, ["inspect", str(notes), "--out", str(tmp_path / "o9"), "-q"])
    assert res.exit_code == 1 and "1 folder inside the input was not read" in res.stderr
    # an empty export is a day without chats: said, and not a failure
    (empty / f"{DAY}.jsonl").write_text("", encoding="utf-8")
    res = runner.invoke(app, ["inspect", str(empty), "--out", str(tmp_path / "o6"), "-q"])
    assert res.exit_code == 0 and "its files hold no record" in res.stderr
    wrong = _jsonl(
        tmp_path / "wrong.jsonl",
        [{"conversation_id": f"c{i}", "role": "买家", "text": " "} for i in range(3)],
    )
    res = runner.invoke(app, ["inspect", str(wrong), "--out", str(tmp_path / "o5"), "-q"])
    assert res.exit_code == 1, res.stderr
    assert "qc: nothing inspected: all 3 records were rejected" in res.stderr


@pytest.mark.parametrize(
    ("sender", "reason"),
    [
        ({"nick": {"id": 3}}, "sender.nick is an object, not text"),
        ({"name": ["小雨"], "role": "客服"}, "sender.name is a list, not text"),
        ({"nick": True}, "sender.nick is true/false, not text"),
        ({"wangwang": "小雨"}, "sender is an object with none of the keys qc reads"),
    ],
)
def test_a_sender_object_whose_nick_is_not_text_is_a_reject(tmp_path: Path, sender, reason) -> None:
    """Such a reply became the shop's 店铺名:unknown, charged to nobody, while the same value at the
    top level was a reject (audit 172 F4)."""
    rows = [
        _message("c1", "买家", "b1", "10:00:00", "在吗"),
        {**_message("c1", "客服", "x", "10:00:05", "在的亲"), "sender": sender},
    ]
    res = runner.invoke(
        app, ["inspect", str(_jsonl(tmp_path / f"{DAY}.jsonl", rows)), "--out", str(tmp_path / "o"), "-q"]
    )
    assert res.exit_code == 0, res.stderr
    (reject,) = [json.loads(x) for x in (tmp_path / "o" / "rejects.jsonl").read_text("utf-8").splitlines()]
    assert reject["line"] == 2 and reject["reason"].startswith(reason), reject["reason"]


@pytest.mark.parametrize(
    "sender",
    [
        {"nick": "店:小雨", "name": {"first": "雨"}},
        {"nick": "店:小雨", "type": True},
        {"nick": "店:小雨", "role": {"x": 1}},
        {"nick": "店:小雨", "staff_id": {"id": 7}},  # an agent id qc cannot read is left out (audit 174 L5)
    ],
)
def test_a_sender_object_with_a_text_nick_is_read_by_it_whatever_else_it_holds(
    tmp_path: Path, sender
) -> None:
    """A text nick beside a key qc does not need (a name as an object, a type as true/false, a role
    the record gives at its top level) was read by the nick, and was a reject for a while (audit 173 L4)."""
    rows = [
        _message("c1", "买家", "b1", "10:00:00", "在吗"),
        {**_message("c1", "客服", "x", "10:00:05", "在的亲"), "sender": sender},
    ]
    out = tmp_path / "o"
    res = runner.invoke(
        app, ["inspect", str(_jsonl(tmp_path / f"{DAY}.jsonl", rows)), "--out", str(out), "-q"]
    )
    assert res.exit_code == 0, res.stderr
    assert (out / "rejects.jsonl").read_text("utf-8") == ""
    (conversation,) = [json.loads(x) for x in (out / "conversations.jsonl").read_text("utf-8").splitlines()]
    assert conversation["agents"] == ["店:小雨"]
