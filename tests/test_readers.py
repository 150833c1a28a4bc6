"""Readers: every format and encoding on small real-looking files, with exact counts."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from qc.errors import ConfigError
from qc.readers import ReadOptions, ReadResult, read_inputs
from qc.readers.columns import CANONICAL_FIELDS, map_headers
from qc.readers.records import garbled_reason
from qc.readers.timestamps import TimestampError, parse_timestamp
from qc.schema import Conversation, Role

DATA = Path(__file__).parent / "data" / "readers"
SH = ZoneInfo("Asia/Shanghai")


def read(*paths: Path, **options: object) -> ReadResult:
    return read_inputs(list(paths), ReadOptions(**options))  # type: ignore[arg-type]


def assert_balanced(result: ReadResult) -> None:
    for f in result.files:
        assert f.read == f.accepted + f.rejected, f
    assert result.read == result.accepted + result.rejected
    assert result.accepted == sum(len(c.messages) for c in result.conversations)
    assert result.rejected == len(result.rejects)


def reasons(result: ReadResult) -> list[tuple[int, str]]:
    return [(r.line, r.reason) for r in result.rejects]


def warned(result: ReadResult, *parts: str) -> bool:
    """True when one warning of the read says every part."""
    return any(all(p in w for p in parts) for w in result.warnings)


# Fixtures in tests/data/readers (all wording invented for qc), and what each exercises:
# - messages.jsonl: role aliases, epoch/年月日 times, duplicate, out-of-order, missing role/id,
#   bad hour, truncated line, non-object line.
# - conversations.jsonl: `label` ignored, realchats shape, repeated line, bad/empty messages,
#   truncated and garbled lines.
# - gb18030.csv (GB18030, CRLF, Chinese headers): multi-line quoted field, duplicate, short row,
#   garbled row, role-less row.
# - bom.csv (UTF-8 BOM): out-of-order, empty text, extra field.
# - unicode_text.txt (UTF-16 LE BOM, tabs: Excel "Unicode text"): sniffed as CSV despite .txt.
# - 千牛导出_20261124.txt: inline lines, separators with/without id, date from the file name,
#   midnight rollover, truncated/garbled/junk lines.
# - 旺旺聊天记录_2026-11-24.txt: header blocks, multi-line block, sub-account agent, out-of-order,
#   [自动回复], header without text, garbled line.
# - inline_nodate.txt: time-only and no date: times stay unknown, one warning.
# - message_ids.jsonl: message ids (msg_id, 消息ID, msgId in a conversation line) decide
#   duplicates: double sends kept, a repeated id rejected, a bad id.
# file, format, encoding, read, accepted, rejected
FIXTURES = [
    ("messages.jsonl", "jsonl", "utf-8", 14, 7, 7),
    ("conversations.jsonl", "jsonl", "utf-8", 20, 9, 11),
    ("gb18030.csv", "csv", "gb18030", 9, 5, 4),
    ("bom.csv", "csv", "utf-8-sig", 5, 3, 2),
    ("unicode_text.txt", "csv", "utf-16-le", 4, 3, 1),
    ("千牛导出_20261124.txt", "text", "utf-8", 11, 7, 4),
    ("旺旺聊天记录_2026-11-24.txt", "text", "utf-8", 7, 5, 2),
    ("inline_nodate.txt", "text", "utf-8", 2, 2, 0),
    ("message_ids.jsonl", "jsonl", "utf-8", 14, 10, 4),
]


@pytest.mark.parametrize(
    ("name", "fmt", "encoding", "n_read", "accepted", "rejected"), FIXTURES, ids=[f[0] for f in FIXTURES]
)
def test_fixture_counts(
    name: str, fmt: str, encoding: str, n_read: int, accepted: int, rejected: int
) -> None:
    result = read(DATA / name)
    (report,) = result.files
    assert (report.format, report.encoding, report.error) == (fmt, encoding, None)
    assert (report.read, report.accepted, report.rejected) == (n_read, accepted, rejected)
    assert_balanced(result)


def test_whole_folder_balances_and_sources_point_at_lines() -> None:
    result = read(DATA)
    assert_balanced(result)
    assert len(result.files) == len(FIXTURES)
    assert result.read == sum(f[3] for f in FIXTURES)
    for conv in result.conversations:
        assert [m.index for m in conv.messages] == list(range(len(conv.messages)))
        for m in conv.messages:
            file, _, line = m.source.rpartition(":")
            assert Path(file).exists() and int(line) >= 1
            assert m.sent_at is None or m.sent_at.tzinfo is not None


def test_message_jsonl_roles_times_duplicates_and_order() -> None:
    result = read(DATA / "messages.jsonl")
    assert reasons(result) == [
        (4, "exact duplicate of line 2"),
        (9, "missing role (and the sender nick does not tell; use --agent-nick/--customer-nick)"),
        (10, "missing conversation_id"),
        (11, "unknown role (use customer/agent/system or 买家/客服/系统)"),
        (12, "timestamp out of range (hour must be in 0..23)"),
        (13, "not valid JSON (Unterminated string starting at column 74); truncated or garbled line?"),
        (15, "a JSON list, not an object"),
    ]
    convs = {c.id: c for c in result.conversations}
    m1 = convs["M-001"]
    # the system line was written third but happened first: sorted, with a warning naming no text
    assert [m.source.rsplit(":", 1)[1] for m in m1.messages] == ["3", "1", "2", "5", "6"]
    assert [m.role for m in m1.messages] == [
        Role.SYSTEM,
        Role.CUSTOMER,
        Role.AGENT,
        Role.CUSTOMER,
        Role.AGENT,
    ]
    assert m1.messages[3].sent_at == datetime(2026, 11, 24, 9, 15, 50, tzinfo=SH)  # epoch seconds
    assert m1.messages[2].agent == "xiaoman"
    assert m1.shop == "青禾家居旗舰店"
    (warning,) = result.warnings
    assert "M-001" in warning and "out of time order" in warning and "收纳箱" not in warning
    m2 = convs["M-002"]
    assert m2.messages[0].auto_reply and not m2.messages[0].counts_as_agent
    assert m2.messages[1].sent_at == datetime(2026, 11, 24, 10, 1, 30, tzinfo=SH)  # 年月日 form


def test_conversation_jsonl_shapes() -> None:
    result = read(DATA / "conversations.jsonl")
    convs = {c.id: c for c in result.conversations}
    assert set(convs) == {"C-101", "R-7", "C-104"}
    c101 = convs["C-101"]
    assert c101.shop == "森屿数码专营店"
    assert c101.agents == ("ajie",)  # conversation-level agent_id applies to agent messages
    assert all(m.source.endswith(":1") for m in c101.messages)
    r7 = convs["R-7"]  # role + text only, no times: kept in order, repeated "好的" kept
    assert [m.role for m in r7.messages] == [Role.CUSTOMER, Role.AGENT, Role.CUSTOMER, Role.CUSTOMER]
    assert all(m.sent_at is None for m in r7.messages)
    assert reasons(result) == [
        (3, "exact duplicate of line 2"),
        (3, "exact duplicate of line 2"),
        (3, "exact duplicate of line 2"),
        (3, "exact duplicate of line 2"),
        (4, "'messages' is not a list"),
        (5, "conversation has no messages"),
        (6, "message 1 is not an object"),
        (6, "empty text"),
        (6, "missing role (and the sender nick does not tell; use --agent-nick/--customer-nick)"),
        (7, "not valid JSON (Unterminated string starting at column 60); truncated or garbled line?"),
        (8, garbled_reason("utf-8")),
    ]


def test_gb18030_csv_with_multiline_field() -> None:
    result = read(DATA / "gb18030.csv")
    assert reasons(result) == [
        (7, "exact duplicate of line 5"),
        (9, "row has 5 fields, the header 8; truncated row?"),
        (10, garbled_reason("gb18030")),
        (12, "missing role (and the sender nick does not tell; use --agent-nick/--customer-nick)"),
    ]
    g1 = next(c for c in result.conversations if c.id == "G-01")
    assert g1.messages[-1].text == "好的，那我\n再考虑一下"
    assert [m.auto_reply for m in g1.messages] == [False, False, True, False]
    assert g1.shop == "暖冬服饰" and g1.agents == ("xiaoxue",)


def test_gb18030_csv_with_customer_nick_option_accepts_roleless_row() -> None:
    result = read(DATA / "gb18030.csv", customer_nicks=frozenset({"tb_大橘"}))
    assert result.files[0].accepted == 6
    g2 = next(c for c in result.conversations if c.id == "G-02")
    assert [m.role for m in g2.messages] == [Role.AGENT, Role.CUSTOMER]


def test_bom_csv_reorders_and_rejects_extra_field() -> None:
    result = read(DATA / "bom.csv")
    assert reasons(result) == [
        (5, "empty text"),
        (6, "row has 9 fields, the header 8; unquoted delimiter in a field?"),
    ]
    (conv,) = result.conversations
    assert [m.source.rsplit(":", 1)[1] for m in conv.messages] == ["2", "4", "3"]
    assert warned(result, "B-1")


def test_utf16_unicode_text_is_tab_separated() -> None:
    result = read(DATA / "unicode_text.txt")
    (conv,) = result.conversations
    assert conv.id == "U-1"
    assert [m.role for m in conv.messages] == [Role.CUSTOMER, Role.AGENT, Role.SYSTEM]
    assert reasons(result) == [(4, "exact duplicate of line 3")]


def test_inline_text_export_separators_rollover_and_rejects() -> None:
    result = read(DATA / "千牛导出_20261124.txt")
    convs = {c.id: c for c in result.conversations}
    assert list(convs) == ["T-501", "千牛导出_20261124#2"]
    t501 = convs["T-501"]
    assert [m.role for m in t501.messages] == [Role.CUSTOMER, Role.AGENT, Role.CUSTOMER, Role.AGENT]
    assert t501.messages[0].sent_at == datetime(2026, 11, 24, 14, 59, 42, tzinfo=SH)  # date from file name
    assert t501.messages[2].text == "改成公司地址"  # full-width parens and colon
    second = convs["千牛导出_20261124#2"]
    # unknown nick is the buyer once a sub-account agent is known; 00:00:20 is the next day
    assert [m.role for m in second.messages] == [Role.CUSTOMER, Role.AGENT, Role.SYSTEM]
    assert second.messages[1].sent_at == datetime(2026, 11, 25, 0, 0, 20, tzinfo=SH)
    assert second.shop == "青禾家居旗舰店"
    assert [line for line, _ in reasons(result)] == [6, 7, 11, 12]
    assert reasons(result)[1][1] == "header without message text; truncated export?"
    assert reasons(result)[2][1] == garbled_reason("utf-8")
    # the reason says what it is and the fix (it said only "not valid utf-8", audit 120 L3)
    assert reasons(result)[2][1].startswith("garbled bytes: not valid utf-8 (a line in another encoding")
    assert reasons(result)[2][1].endswith("save the file again in one encoding")


def test_block_text_export() -> None:
    result = read(DATA / "旺旺聊天记录_2026-11-24.txt")
    (conv,) = result.conversations
    assert conv.id == "旺旺聊天记录_2026-11-24"
    assert conv.messages[0].text == "这件毛衣起球吗\n我之前买的别家的起球很严重"
    assert conv.messages[0].sender == "tb_晴天" and conv.messages[0].role is Role.CUSTOMER
    assert conv.agents == ("暖阳旗舰店:阿杰",)
    assert conv.messages[-1].auto_reply  # [自动回复] marker
    assert [m.source.rsplit(":", 1)[1] for m in conv.messages] == ["1", "4", "9", "7", "11"]
    assert reasons(result) == [
        (13, "header without message text; truncated export?"),
        (14, garbled_reason("utf-8")),
    ]


def test_time_only_without_date_stays_unknown_with_one_warning() -> None:
    result = read(DATA / "inline_nodate.txt")
    (conv,) = result.conversations
    assert [m.sent_at for m in conv.messages] == [None, None]
    assert len(result.warnings) == 1 and "--date" in result.warnings[0]
    dated = read(DATA / "inline_nodate.txt", date=date(2026, 11, 24))
    assert dated.conversations[0].messages[1].sent_at == datetime(2026, 11, 24, 10, 0, 9, tzinfo=SH)
    assert dated.warnings == []


def test_unknown_nicks_need_nick_options(tmp_path: Path) -> None:
    path = tmp_path / "chat_2026-11-24.txt"
    path.write_text(
        "阿花 2026-11-24 09:00:00\n请问有现货吗\n小李 2026-11-24 09:00:10\n有的\n", encoding="utf-8"
    )
    plain = read(path)
    assert plain.accepted == 0 and plain.rejected == 2
    assert "--agent-nick" in plain.rejects[0].reason
    named = read(path, agent_nicks=frozenset({"小李"}))
    assert named.accepted == 2
    assert [m.role for m in named.conversations[0].messages] == [Role.CUSTOMER, Role.AGENT]


def make_xlsx(path: Path) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["2026-11-24 聊天记录导出"])
    ws.append(["会话ID", "角色", "昵称", "时间", "内容", "店铺"])
    ws.append([1001, "买家", "tb_青柠", datetime(2026, 11, 24, 18, 0, 0), "包邮吗", None])
    ws.append([1001, "客服", "柚子小铺:阿圆", "2026-11-24 18:00:15", "亲，满59包邮哦", "柚子小铺"])
    ws.append([1001, "买家", "tb_青柠", datetime(2026, 11, 24, 18, 1, 0), "", None])
    ws.append([1001, "买家", "tb_青柠", datetime(2026, 11, 24, 18, 1, 30), 59, None])
    wb.save(path)


def test_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "导出.xlsx"
    make_xlsx(path)
    result = read(path)
    (report,) = result.files
    assert (report.format, report.read, report.accepted, report.rejected) == ("xlsx", 5, 3, 2)
    assert reasons(result) == [(1, "row above the header row"), (5, "empty text")]
    (conv,) = result.conversations
    assert conv.id == "1001" and conv.shop == "柚子小铺"
    assert conv.messages[0].sent_at == datetime(2026, 11, 24, 18, 0, tzinfo=SH)
    assert conv.messages[2].text == "59"
    assert conv.messages[1].source == f"{path}:4"


def test_column_map_overrides_headers(tmp_path: Path) -> None:
    path = tmp_path / "custom.csv"
    path.write_text("单号,谁,说了什么\nK1,买家,你好\nK1,客服,您好\n", encoding="utf-8")
    unmapped = read(path)
    assert unmapped.files[0].error is not None and "--column" in unmapped.files[0].error
    result = read(path, column_map={"conversation_id": "单号", "role": "谁", "text": "说了什么"})
    assert result.files[0].accepted == 2 and result.conversations[0].id == "K1"


def test_duplicates_across_files_name_the_first_file(tmp_path: Path) -> None:
    row = '{"conversation_id":"D1","role":"买家","timestamp":"2026-11-24 10:00:00","text":"你好"}\n'
    (tmp_path / "a.jsonl").write_text(row, encoding="utf-8")
    (tmp_path / "b.jsonl").write_text(row, encoding="utf-8")
    result = read(tmp_path)
    assert result.accepted == 1 and result.rejected == 1
    assert result.rejects[0].reason == f"exact duplicate of {tmp_path / 'a.jsonl'}:1"
    assert_balanced(result)


@pytest.mark.parametrize(
    ("content", "encoding", "expected"),
    [
        (
            "会话ID,角色,内容\nc1,买家,你好吗我想问下\n".encode("gb18030"),
            "utf-8",
            "looks like GB18030: try --encoding gb18030",
        ),
        ("会话ID,角色,内容\nc1,买家,你好\n".encode("utf-16"), "gb18030", "cannot decode as gb18030"),
        (bytes(range(256)) * 8, None, "looks like a binary file"),
        (b"\xd0\xcf\x11\xe0" + b"\x00" * 100, None, "old binary Excel"),
        (b"PK\x03\x04 not really a zip", None, "cannot open as XLSX"),
    ],
    ids=["gb18030-forced-utf8", "utf16-forced-gb", "binary", "xls", "corrupt-xlsx"],
)
def test_unreadable_file_reports_the_fix_and_batch_continues(
    tmp_path: Path, content: bytes, encoding: str | None, expected: str
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_bytes(content)
    good = tmp_path / "good.jsonl"
    good.write_text('{"conversation_id":"c","role":"agent","text":"您好"}\n', encoding="utf-8")
    result = read(bad, good, encoding=encoding) if encoding else read(bad, good)
    bad_report, good_report = result.files
    assert bad_report.error is not None and expected in bad_report.error
    assert (bad_report.read, bad_report.accepted, bad_report.rejected) == (0, 0, 0)
    if encoding is None:
        assert good_report.error is None and good_report.accepted == 1
    assert "你好" not in bad_report.error


@pytest.mark.parametrize("bom", [b"\xef\xbb\xbf", b""], ids=["utf8-bom", "no-bom"])
@pytest.mark.parametrize("name", ["chat.txt", "day.csv"])
def test_a_file_read_in_a_wrong_forced_encoding_fails_not_skipped(
    tmp_path: Path, bom: bytes, name: str
) -> None:
    """--encoding utf-16 on a UTF-8 export turned every line into other characters, and the file
    was skipped as "not a chat export", exit 0 (audit 84 M7); a CSV said "no header row" and
    named a text of 530 characters (audit 120 L2): the file is UTF-8, and the error says so."""
    said = (
        "===== 会话 K1 =====\n买家(10:00:05): 在吗在吗\n店A:小王(10:00:20): 在的亲\n"
        if name.endswith(".txt")
        else "会话ID,角色,发送人,时间,内容\nK1,买家,b1,2026-11-24 10:00:05,在吗在吗\n"
    )
    data = bom + said.encode("utf-8")
    path = tmp_path / name
    path.write_bytes(data + b"\n" * (len(data) % 2))
    (report,) = read(path, encoding="utf-16", date=date(2026, 11, 24)).files
    assert report.error is not None and not report.skipped
    assert ("UTF-8 byte-order mark" if bom else "cannot decode as utf-16: the file is UTF-8") in report.error
    assert "在吗" not in report.error


def test_a_forced_encoding_that_garbles_what_reads_cleanly_is_warned_about(tmp_path: Path) -> None:
    """--encoding latin-1 on a GBK export read it without an error, and its agents were scored
    under mojibake names with exit 0, unsaid (audit 87 M7)."""
    path = tmp_path / "chat.txt"
    said = "===== 会话 K1 =====\n买家(10:00:05): 在吗在吗\n店A:小王(10:00:20): 在的亲\n"
    path.write_bytes(said.encode("gbk"))
    result = read(path, encoding="latin-1", date=date(2026, 11, 24))
    assert warned(result, "but it reads cleanly as gb18030: names and texts may be garbled")
    assert not warned(read(path, encoding="gbk", date=date(2026, 11, 24)), "reads cleanly as")


@pytest.mark.parametrize("name", ["notes.md", "README.txt", "README"])
def test_text_without_a_message_is_skipped_with_a_warning_not_rejected(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text("今天天气不错\n明天再说\n", encoding="utf-8")
    result = read(path)
    (report,) = result.files
    assert report.error is None and report.skipped and "--input-format" in report.skipped
    assert (report.read, report.accepted, report.rejected) == (0, 0, 0) and result.rejects == []
    assert result.warnings == [f"{path}: skipped: {report.skipped}"]
    assert "天气" not in result.warnings[0]


def test_text_with_messages_after_a_long_preamble_is_still_read(tmp_path: Path) -> None:
    path = tmp_path / "export.dat"
    preamble = "".join(f"说明第{i}行\n" for i in range(60))
    path.write_text(preamble + "买家(14:59:42): 你好\n店:小雨(14:59:47): 在的\n", encoding="utf-8")
    (report,) = read(path, date=date(2026, 11, 24)).files
    assert report.skipped is None and report.format == "text" and report.accepted == 2


@pytest.mark.parametrize(
    "options",
    [{"format": "nonsense"}, {"encoding": "no-such-codec"}, {"timezone": "Mars/Base"}],
    ids=["format", "encoding", "timezone"],
)
def test_bad_forced_options_are_config_errors(options: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        read(DATA / "bom.csv", **options)


def test_forced_format_wins_over_sniffing(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("买家(10:00:00): 你好\n", encoding="utf-8")
    assert read(path, date=date(2026, 11, 24)).files[0].format == "text"
    forced = read(path, format="csv").files[0]
    assert forced.format == "csv" and forced.error is not None


@pytest.mark.parametrize(
    "opening", ["[系统消息] 会话开始", "[自动回复]亲，欢迎光临本店", "[2026-11-24 星期二] 聊天记录"]
)
def test_a_text_export_opening_with_a_bracketed_tag_is_no_json(tmp_path: Path, opening: str) -> None:
    path = tmp_path / "qianniu_2026-11-24.txt"
    path.write_text(f"{opening}\n买家(10:00:00): 你好\n柚子优选旗舰店:小雨(10:00:05): 亲，在的\n", "utf-8")
    result = read(path)
    assert_balanced(result)
    assert (result.files[0].format, result.files[0].error) == ("text", None)
    texts = [m.text for c in result.conversations for m in c.messages]
    if opening.startswith("[系统消息]"):  # the platform's own line: an untimed system message
        assert texts == [opening, "你好", "亲，在的"] and result.rejects == []
    else:
        assert texts == ["你好", "亲，在的"] and [r.line for r in result.rejects] == [1]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-24 10:00:01", datetime(2026, 11, 24, 10, 0, 1, tzinfo=SH)),
        ("2026/11/24 10:00:01", datetime(2026, 11, 24, 10, 0, 1, tzinfo=SH)),
        ("2026年11月24日 10:00:01", datetime(2026, 11, 24, 10, 0, 1, tzinfo=SH)),
        ("2026-11-24T02:00:01Z", datetime(2026, 11, 24, 10, 0, 1, tzinfo=SH)),
        ("2026-11-24T10:00:01+08:00", datetime(2026, 11, 24, 10, 0, 1, tzinfo=SH)),
        (1795485601, datetime(2026, 11, 24, 10, 0, 1, tzinfo=SH)),
        ("1795485601000", datetime(2026, 11, 24, 10, 0, 1, tzinfo=SH)),
        (datetime(2026, 11, 24, 10, 0, 1), datetime(2026, 11, 24, 10, 0, 1, tzinfo=SH)),
        ("1795485601.250", datetime(2026, 11, 24, 10, 0, 1, 250000, tzinfo=SH)),
        ("2026-11-24 下午 3:05:20", datetime(2026, 11, 24, 15, 5, 20, tzinfo=SH)),
        ("2026年11月24日上午12:05:00", datetime(2026, 11, 24, 0, 5, 0, tzinfo=SH)),
        ("2026-11-24 3:05:20 PM", datetime(2026, 11, 24, 15, 5, 20, tzinfo=SH)),
        ("2026-11-24 晚上11:59:00", datetime(2026, 11, 24, 23, 59, 0, tzinfo=SH)),
        ("2026-11-24 晚上12:10:00", datetime(2026, 11, 25, 0, 10, 0, tzinfo=SH)),  # not noon
        ("2026年11月24日 10时03分", datetime(2026, 11, 24, 10, 3, 0, tzinfo=SH)),  # audit 127 M2
        ("2026-11-24 下午3时05分20秒", datetime(2026, 11, 24, 15, 5, 20, tzinfo=SH)),
        (46350.5, datetime(2026, 11, 24, 12, 0, 0, tzinfo=SH)),  # an Excel date serial stored as a number
        (46350, datetime(2026, 11, 24, 0, 0, 0, tzinfo=SH)),
        ("", None),
        ("10:00:01", None),
    ],
    ids=[
        "dash",
        "slash",
        "chinese",
        "iso-z",
        "iso-offset",
        "epoch-s",
        "epoch-ms",
        "cell",
        "epoch-fraction",
        "xiawu",
        "shangwu-12",
        "pm",
        "wanshang-11",
        "wanshang-12",
        "chinese-clock-minutes",
        "chinese-clock-seconds",
        "excel-serial",
        "excel-serial-whole-day",
        "empty",
        "time-only",
    ],
)
def test_parse_timestamp(value: object, expected: datetime | None) -> None:
    got = parse_timestamp(value, SH)
    assert got == expected
    if got is not None:
        assert got.tzinfo is not None


@pytest.mark.parametrize(
    "value", ["yesterday", "2026-11-24", "2026-13-01 10:00:00", True, float("nan"), 10**400, -(10**400)]
)
def test_parse_timestamp_rejects(value: object) -> None:
    with pytest.raises(TimestampError):
        parse_timestamp(value, SH)


def test_headers_map_chinese_and_english() -> None:
    assert CANONICAL_FIELDS == (
        "conversation_id",
        "role",
        "sender",
        "timestamp",
        "text",
        "agent_id",
        "shop",
        "auto_reply",
        "date",
        "message_id",
    )
    headers = ["会话编号", "发送者", "发送时间", "消息内容", "客服ID", "自动回复", "备注", "日期", "消息ID"]
    got = map_headers(headers)
    assert got == {
        "conversation_id": 0,
        "sender": 1,
        "timestamp": 2,
        "text": 3,
        "agent_id": 4,
        "auto_reply": 5,
        "date": 7,
        "message_id": 8,
    }
    assert map_headers(["Conversation ID", "ROLE", "text"]) == {"conversation_id": 0, "role": 1, "text": 2}
    assert map_headers(["内容", "聊天"], {"text": "聊天"}) == {"text": 1}


def test_pathological_long_lines_are_read_in_linear_time(tmp_path: Path) -> None:
    # Used to backtrack for minutes; a hang here fails the suite by timeout, not by a timer.
    path = tmp_path / "long_2026-11-24.txt"
    lines = ["买家(10:00:00): " + "好 " * 50000, " " * 50000 + "x", "(" * 50000, "-" * 50000 + " 会话: L1"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = read(path)
    # The two lines after the inline message are more of its text.
    assert (result.files[0].read, result.files[0].accepted, result.files[0].rejected) == (1, 1, 0)
    assert result.conversations[0].id == "long_2026-11-24"


def test_raw_records_take_the_canonical_fields_in_order_after_file_line_and_raw() -> None:
    # The JSON Lines reader builds records positionally, one canonical field after another.
    import dataclasses

    from qc.readers.columns import CANONICAL_FIELDS
    from qc.readers.records import RawRecord

    names = [f.name for f in dataclasses.fields(RawRecord)]
    assert names[:3] == ["file", "line", "raw"]
    assert tuple(names[3 : 3 + len(CANONICAL_FIELDS)]) == CANONICAL_FIELDS
    assert names[3 + len(CANONICAL_FIELDS) :] == ["dedupe"]


def test_validate_puts_every_value_in_its_own_field() -> None:
    from datetime import datetime, timedelta, timezone
    from zoneinfo import ZoneInfo

    from qc.readers.records import RawRecord, validate

    rec = RawRecord(
        "f.jsonl",
        7,
        "{…}",
        " c1 ",
        "客服",
        " 店:小王 ",
        "2026-11-24T10:00:00+08:00",
        "在的",
        " a9 ",
        " 店 ",
        "否",
    )
    got = validate(rec, ZoneInfo("Asia/Shanghai"), None, (frozenset(), frozenset()), (2000, 2099))
    at = datetime(2026, 11, 24, 10, tzinfo=timezone(timedelta(hours=8)))
    assert (got.conversation_id, got.role, got.text, got.sender, got.sent_at) == (
        "c1",
        Role.AGENT,
        "在的",
        "店:小王",
        at,
    )
    assert (got.auto_reply, got.agent_id, got.shop, got.file, got.line, got.raw) == (
        False,
        "a9",
        "店",
        "f.jsonl",
        7,
        "{…}",
    )
    assert got.key == ("c1", Role.AGENT, "店:小王", at, "在的", "a9", False, None)


@pytest.mark.parametrize(
    "value", ["2026-11-24 10:00:00+99:00", "2026-11-24T10:00:00+24:00", "2026-11-24 10:00:00+08:61"]
)
def test_an_impossible_utc_offset_is_named_in_plain_words(value):
    # +08:61 once read as +09:01 (Python's fromisoformat carries the minutes over).
    with pytest.raises(TimestampError) as caught:
        parse_timestamp(value, ZoneInfo("Asia/Shanghai"))
    assert str(caught.value) == (
        f"timestamp has an impossible UTC offset {value[19:]} (offsets run from -23:59 to +23:59)"
    )


def test_the_widest_real_offsets_are_read():
    sh = ZoneInfo("Asia/Shanghai")
    assert parse_timestamp("2026-11-24 10:00:00+23:59", sh).utcoffset().total_seconds() == 23 * 3600 + 59 * 60
    assert parse_timestamp("2026-11-24 10:00:00-12:00", sh).utcoffset().total_seconds() == -12 * 3600


def _workbook(path: Path, sheets: dict[str, list[list[object]]], hidden: tuple[str, ...] = ()) -> Path:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
        if title in hidden:
            ws.sheet_state = "hidden"
    wb.save(path)
    return path


_HEADER = ["会话ID", "角色", "发送人", "时间", "内容"]


def test_a_hidden_sheet_is_left_out_and_a_sheet_without_a_header_is_named(tmp_path: Path) -> None:
    """A hidden template of example rows is no chat; a sheet qc cannot read is said, not dropped unsaid."""
    book = _workbook(
        tmp_path / "day_2026-11-24.xlsx",
        {
            "上午": [
                _HEADER,
                ["a1", "买家", "b1", "2026-11-24 10:00:00", "在吗"],
                ["a1", "客服", "店:小王", "2026-11-24 10:00:20", "在的"],
            ],
            "下午": [
                ["编号", "身份", "旺旺", "几点", "说了什么"],
                ["p1", "买家", "b2", "2026-11-24 15:00:00", "嗯"],
            ],
            "模板": [_HEADER, ["x1", "客服", "店:示例", "2026-01-01 09:00:00", "示例回复"]],
        },
        hidden=("模板",),
    )
    result = read(book)
    assert {c.id for c in result.conversations} == {"a1"}
    assert warned(result, "sheet '模板' is hidden: not read")
    assert warned(result, "sheet '下午': no header row with a text column", "this sheet was not read")


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("消息发送时间", "timestamp"),
        ("send_time", "timestamp"),
        ("message_time", "timestamp"),
        ("对话内容", "text"),
    ],
)
def test_more_header_names_exports_use_are_read(header: str, field: str) -> None:
    assert field in map_headers(["会话ID", "角色", header, "内容" if field != "text" else "时间"], {})


@pytest.mark.parametrize(
    ("divider", "ids"),
    [
        ("===== 对话开始 =====", {"chat#1", "chat#2"}),
        ("===== 与 tb_小鹿 的会话 2026-11-24 =====", {"chat#1", "chat#2"}),
        ("===== 会话ID: S{n} =====", {"S1", "S2"}),
    ],
)
def test_a_divider_label_is_an_id_only_when_it_looks_like_one(
    tmp_path: Path, divider: str, ids: set[str]
) -> None:
    """A divider that names no conversation (对话开始, a date) must not give every conversation one id."""
    blocks = []
    for n in (1, 2):
        blocks += [
            divider.replace("{n}", str(n)),
            f"tb_买家{n} 2026-11-24 10:0{n}:01",
            "请问有货吗",
            f"店:小王 2026-11-24 10:0{n}:20",
            "有的亲",
        ]
    path = tmp_path / "chat.txt"
    path.write_text("\n".join(blocks) + "\n", encoding="utf-8")
    result = read(path)
    assert {c.id for c in result.conversations} == ids
    assert all(len(c.messages) == 2 for c in result.conversations)


def test_system_lines_bots_and_a_trailing_auto_reply_mark_are_read_as_such(tmp_path: Path) -> None:
    """【系统消息】/系统提示 are the platform, 店小蜜 the shop's bot, and "…[自动回复]" an auto-reply."""
    path = tmp_path / "chat_2026-11-24.txt"
    path.write_text(
        "tb_小鹿 2026-11-24 10:00:01\n请问有货吗\n"
        "【系统消息】 2026-11-24 10:00:05\n会话已转交\n"
        "系统提示 2026-11-24 10:00:06\n买家已下单\n"
        "店小蜜 2026-11-24 10:00:07\n亲，稍等哦\n"
        "店:小林 2026-11-24 10:00:08\n您好，欢迎光临[自动回复]\n"
        "店:小林 2026-11-24 10:02:20\n有货的亲\n",
        encoding="utf-8",
    )
    (conv,) = read(path).conversations
    assert [(m.role, m.auto_reply) for m in conv.messages] == [
        (Role.CUSTOMER, False),
        (Role.SYSTEM, False),
        (Role.SYSTEM, False),
        (Role.AGENT, True),
        (Role.AGENT, True),
        (Role.AGENT, False),
    ]


def test_one_conversation_id_in_two_shops_files_is_said(tmp_path: Path) -> None:
    """Two shops' exports both numbering a chat K2: read as one conversation, a warning names both shops."""
    rows = {
        "a.csv": ("森林杂货铺", "tb_小鹿", "森林杂货铺:阿青"),
        "b.csv": ("山川数码", "tb_阿伟", "山川数码:小周"),
    }
    paths = []
    for name, (shop, buyer, agent) in rows.items():
        path = tmp_path / name
        path.write_text(
            "会话ID,店铺,角色,发送人,时间,内容\n"
            f"K2,{shop},买家,{buyer},2026-11-24 10:00:00,在吗\n"
            f"K2,{shop},客服,{agent},2026-11-24 10:00:30,在的\n",
            encoding="utf-8",
        )
        paths.append(path)
    result = read(*paths)
    assert warned(result, "conversation K2", "messages of 2 shops (森林杂货铺, 山川数码) share this id")


def test_the_shops_of_a_shared_id_are_masked_in_the_warning(tmp_path: Path) -> None:
    """A second export joined below the first with 店铺 and 内容 swapped put the buyers' messages, phone
    and address included, in the shops this warning listed (audit 120 H4)."""
    path = tmp_path / "day.csv"
    path.write_text(
        "会话ID,店铺,角色,发送人,时间,内容\n"
        "K2,森林杂货铺,买家,tb_小鹿,2026-11-24 10:00:00,在吗\n"
        "K2,我电话13912345678地址杭州市西湖区文三路88号,买家,tb_小鹿,2026-11-24 10:00:10,森林杂货铺\n"
        + "".join(f"K2,第{k}句话,买家,tb_小鹿,2026-11-24 10:00:{20 + k},森林杂货铺\n" for k in range(3)),
        encoding="utf-8",
    )
    (warning,) = [w for w in read(path).warnings if "share this id" in w]
    assert "13912345678" not in warning and "文三路" not in warning
    assert "messages of 5 shops (森林杂货铺, " in warning and " …) share this id" in warning


def test_header_lines_real_exports_write_and_a_pasted_time_inside_a_message(tmp_path: Path) -> None:
    """Headers without seconds or with a note after the nick; 付款时间 2026-… inside a reply stays text."""
    path = tmp_path / "chat_2026-11-24.txt"
    path.write_text(
        "tb_阿伟 2026-11-24 10:05:00\n帮我查下订单\n"
        "森林杂货铺:阿青(售前) 2026-11-24 10:05:30\n亲，您的订单信息如下：\n"
        "付款时间 2026-11-24 09:12:33\n预计明天发出\n"
        "tb_阿伟 2026-11-24 10:06\n好的\n"
        "森林杂货铺:阿青(自动回复) 2026-11-24 10:06:01\n感谢您的咨询\n",
        encoding="utf-8",
    )
    (conv,) = read(path).conversations
    assert [(m.role, m.sender, m.auto_reply, m.text.splitlines()[0]) for m in conv.messages] == [
        (Role.CUSTOMER, "tb_阿伟", False, "帮我查下订单"),
        (Role.AGENT, "森林杂货铺:阿青", False, "亲，您的订单信息如下："),
        (Role.CUSTOMER, "tb_阿伟", False, "好的"),
        (Role.AGENT, "森林杂货铺:阿青", True, "感谢您的咨询"),
    ]
    assert conv.messages[1].text.splitlines()[1:] == ["付款时间 2026-11-24 09:12:33", "预计明天发出"]
    assert conv.messages[2].sent_at == datetime(2026, 11, 24, 10, 6, tzinfo=SH)


def test_an_inline_nick_with_a_note_in_brackets_is_its_own_message(tmp_path: Path) -> None:
    """`店:小雨(售前)(16:00:05): 在的` was glued into the buyer's message before it: the reply
    vanished and the buyer was charged as unanswered (audit 72). The block style took the note."""
    path = tmp_path / "chat_2026-11-24.txt"
    path.write_text(
        "tb_大橘(16:00:01): 在吗\n"
        "柚子优选旗舰店:小雨(售前)(16:00:05): 在的\n"
        "柚子优选旗舰店:小雨（自动回复）（16:00:06）：感谢您的咨询\n"
        "tb_大橘(16:00:20): 好的\n",
        encoding="utf-8",
    )
    result = read(path)
    (conv,) = result.conversations
    assert [(m.role, m.sender, m.auto_reply, m.text) for m in conv.messages] == [
        (Role.CUSTOMER, "tb_大橘", False, "在吗"),
        (Role.AGENT, "柚子优选旗舰店:小雨", False, "在的"),
        (Role.AGENT, "柚子优选旗舰店:小雨", True, "感谢您的咨询"),
        (Role.CUSTOMER, "tb_大橘", False, "好的"),
    ]
    assert reasons(result) == []


def read_chat(tmp_path: Path, text: str) -> tuple[ReadResult, Conversation]:
    """A text export of one conversation (chat_2026-11-24.txt) read, its counts checked."""
    path = tmp_path / "chat_2026-11-24.txt"
    path.write_text(text, encoding="utf-8")
    result = read(path)
    assert_balanced(result)
    (conv,) = result.conversations
    return result, conv


def test_lines_that_end_in_a_time_are_text_or_rejects_never_senders(tmp_path: Path) -> None:
    """A line ending in a time reads like a header whatever comes before it (audit 68, B1).

    An export's preface, a buyer's new address ending in a delivery date, an agent's pasted
    delivery estimate without seconds and 付款时间：… typed with a full-width colon made fake
    agents and buyers (one named by the buyer's address and phone, printed in the agent table),
    cut the messages and hid the real headers after them.
    """
    result, conv = read_chat(
        tmp_path,
        "森林杂货铺 聊天记录\n导出时间：2026-11-25 08:00:00\n"
        "=====================\n"
        "tb_阿伟 2026-11-24 10:00:01\n帮我改一下收货地址\n"
        "新地址：杭州市西湖区文三路1号 李四 13900001111 2026-11-25 15:00\n谢谢\n"
        "森林杂货铺:阿青 2026-11-24 10:00:30\n好的亲，已经改好了：\n"
        "付款时间：2026-11-24 09:12:33\n预计发货：2026-11-25 18:00:00\n"
        "预计送达 2026-11-26 18:00\n请您耐心等待哦\n"
        "tb_阿伟 2026-11-24 10:01:00\n好的\n",
    )
    assert [(m.role, m.sender) for m in conv.messages] == [
        (Role.CUSTOMER, "tb_阿伟"),
        (Role.AGENT, "森林杂货铺:阿青"),
        (Role.CUSTOMER, "tb_阿伟"),
    ]
    assert conv.messages[0].text.splitlines()[1:] == [
        "新地址：杭州市西湖区文三路1号 李四 13900001111 2026-11-25 15:00",
        "谢谢",
    ]
    assert conv.messages[1].text.splitlines()[1:] == [
        "付款时间：2026-11-24 09:12:33",
        "预计发货：2026-11-25 18:00:00",
        "预计送达 2026-11-26 18:00",
        "请您耐心等待哦",
    ]
    assert [line for line, _ in reasons(result)] == [1, 2]  # the preface: rejects, not a sender


@pytest.mark.parametrize(
    ("first", "pasted", "reply"),
    [
        ("10时00分01秒", "18时30分00秒", "10时00分30秒"),
        ("10:00:01", "18:30:00", "10:00:30"),
        ("2026-11-24 10:00:01", "2026-11-24 18:30:00", "2026-11-24 10:00:30"),
    ],
    ids=["shi-fen-miao", "colon-clock", "dated"],
)
def test_a_time_line_inside_a_message_that_the_next_reply_goes_back_from_is_text(
    tmp_path: Path, first: str, pasted: str, reply: str
) -> None:
    """预计送达 18:30:00 inside a buyer's message was a second buyer (audit 95 E1): the agent's reply
    after it went on into the next day, and a wait of a day fed the average response time."""
    _, conv = read_chat(
        tmp_path,
        f"买家小林 {first}\n快递员说\n预计送达 {pasted}\n能准时吗\n柚子店:阿青 {reply}\n可以的亲\n",
    )
    assert [(m.sender, m.text) for m in conv.messages] == [
        ("买家小林", f"快递员说\n预计送达 {pasted}\n能准时吗"),
        ("柚子店:阿青", "可以的亲"),
    ]
    assert conv.messages[1].sent_at == datetime(2026, 11, 24, 10, 0, 30, tzinfo=SH)


@pytest.mark.parametrize(
    "after",
    ["柚子店:阿青 10:00:40\n在的\n", "小周 10:00:30\n在吗\n", ""],
    ids=["reply-after-both", "same-new-sender-again", "nothing-after"],
)
def test_a_new_sender_in_time_order_stays_a_sender(tmp_path: Path, after: str) -> None:
    """Only a reply that goes back from the would-be header, yet not from the open message, makes
    it text: a second buyer who writes in time order (or last) is a sender, as before."""
    _, conv = read_chat(
        tmp_path, f"柚子店:阿青 10:00:00\n欢迎\n买家小林 10:00:01\n你好\n小周 10:00:20\n我也想问\n{after}"
    )
    assert [m.sender for m in conv.messages][:3] == ["柚子店:阿青", "买家小林", "小周"]


@pytest.mark.parametrize("clock", ["{}", "2026-11-24 {}"], ids=["clock-only", "dated"])
def test_a_sender_listed_a_little_out_of_time_order_stays_a_sender(tmp_path: Path, clock: str) -> None:
    """老王 10:00:40 listed before 买家小林 10:00:20 (an export a little out of order) was folded into
    阿青's message, and the agent charged −5 for 老王's 烦死了 (audit 99 F1): only a jump further back
    than the rollover window, which no reordering explains, makes a would-be header text."""
    t = clock.format
    _, conv = read_chat(
        tmp_path,
        f"买家小林 {t('10:00:01')}\n我要退货\n柚子店:阿青 {t('10:00:10')}\n好的亲，请稍等\n"
        f"老王 {t('10:00:40')}\n你们怎么回事，烦死了\n买家小林 {t('10:00:20')}\n好的\n"
        f"柚子店:阿青 {t('10:00:50')}\n已经帮您登记了\n",
    )
    assert ("老王", "你们怎么回事，烦死了") in [(m.sender, m.text) for m in conv.messages]
    assert all("烦死了" not in m.text for m in conv.messages if m.role is Role.AGENT)


def test_a_pasted_time_line_after_a_new_sender_does_not_fold_the_sender_into_the_message(
    tmp_path: Path,
) -> None:
    """A line of a nick that never wrote is no evidence: 小周's own pasted 下单 10:00:15 (a time
    between the two headers) must not turn 小周's header into text of 小林's message."""
    _, conv = read_chat(
        tmp_path,
        "买家小林 10:00:01\n你好\n小周 10:00:20\n我的订单\n下单 10:00:15\n柚子店:阿青 10:00:40\n在的\n",
    )
    assert [m.sender for m in conv.messages] == ["买家小林", "小周", "柚子店:阿青"]


def test_the_lines_after_an_inline_message_are_its_text(tmp_path: Path) -> None:
    """A multi-line reply in the inline style (audit 68, B5): its second line was a reject and the
    reply was inspected cut to its first (亲，退换货须知：), so what it said was never judged."""
    result, conv = read_chat(
        tmp_path,
        "===== 会话 c1 =====\n"
        "买家(14:59:40): 怎么退货\n"
        "森林杂货铺:阿青(14:59:50): 亲，退换货须知：\n1. 七天内未使用可退\n2. 请保留吊牌\n"
        "买家(15:00:10): 好的\n"
        "买家(15:00:1\n"
        "（以下为系统提示）\n",
    )
    assert [m.text for m in conv.messages] == [
        "怎么退货",
        "亲，退换货须知：\n1. 七天内未使用可退\n2. 请保留吊牌",
        "好的",
    ]
    # A chat line cut off and a note in brackets are no message's text.
    assert [line for line, _ in reasons(result)] == [7, 8]


@pytest.mark.parametrize(
    ("first", "second", "at"),
    [
        ("3:05:20 PM", "3:05:30 PM", datetime(2026, 11, 24, 15, 5, 30, tzinfo=SH)),
        (
            "2026-11-24 10:00:01+08:00",
            "2026-11-24 10:00:09+08:00",
            datetime(2026, 11, 24, 10, 0, 9, tzinfo=SH),
        ),
        ("10时00分01秒", "10时00分09秒", datetime(2026, 11, 24, 10, 0, 9, tzinfo=SH)),
    ],
    ids=["english-12-hour", "utc-offset", "shi-fen-miao"],
)
def test_text_exports_take_the_time_styles_the_other_readers_take(tmp_path: Path, first, second, at) -> None:
    """Such a file was skipped as "not a chat export" with exit 0, and silently with -q (audit 68, B3)."""
    _, conv = read_chat(tmp_path, f"买家({first}): 在吗\n森林杂货铺:阿青({second}): 在的亲\n")
    assert [m.text for m in conv.messages] == ["在吗", "在的亲"] and conv.messages[1].sent_at == at


def test_a_chat_line_naming_columns_does_not_make_a_text_export_a_csv(tmp_path: Path) -> None:
    """Read as a CSV without a header, the whole file failed, naming a wrong fix (audit 68, B2)."""
    result, conv = read_chat(
        tmp_path,
        "买家(10:00:00): 我要开发票\n"
        "森林杂货铺:阿青(10:00:09): 亲，麻烦按这个格式发我：抬头,税号,日期,时间\n",
    )
    assert (result.files[0].format, result.files[0].error) == ("text", None)
    assert conv.messages[1].text.endswith("抬头,税号,日期,时间")


def test_same_named_exports_of_two_folders_stay_two_conversations(tmp_path: Path) -> None:
    """Two agents' folders of one day gave two chats one id, read as one conversation: one
    agent's slow reply vanished and a buyer's question went to the other's reply (audit 68, B7)."""
    for agent, buyer in (("阿青", "tb_小鹿"), ("阿杰", "tb_阿伟")):
        (tmp_path / agent).mkdir()
        (tmp_path / agent / "2026-11-24.txt").write_text(
            f"{buyer}(10:00:00): 在吗\n森林杂货铺:{agent}(10:00:30): 在的亲\n", encoding="utf-8"
        )
    (tmp_path / "阿青" / "2026-11-25.txt").write_text("tb_a(10:00:00): 在吗\n森林杂货铺:阿青(10:00:05): 在\n")
    result = read(tmp_path / "阿青", tmp_path / "阿杰")
    assert_balanced(result)
    assert [(c.id, [m.sender for m in c.messages]) for c in result.conversations] == [
        ("2026-11-24@阿青", ["tb_小鹿", "森林杂货铺:阿青"]),
        ("2026-11-25", ["tb_a", "森林杂货铺:阿青"]),  # a stem no other file has keeps its id
        ("2026-11-24@阿杰", ["tb_阿伟", "森林杂货铺:阿杰"]),
    ]
    # A run of one folder alone would call them by the stem: the warning says to keep them together.
    assert warned(result, "files of 2 folders are named 2026-11-24", "2026-11-24@阿青, 2026-11-24@阿杰")


def test_only_text_exports_of_two_folders_take_their_folders_name() -> None:
    """A sheet and a CSV of one stem in one folder (the demo day's chat_export_2026-11-24.csv and
    .xlsx) name their conversations from their data: no folder name, no warning."""
    from qc.readers.files import stem_warnings, unique_stems

    same_folder = [
        Path("day/chat_2026-11-24.csv"),
        Path("day/chat_2026-11-24.xlsx"),
        Path("day/chat_2026-11-24.txt"),
    ]
    assert unique_stems(same_folder) == {} and stem_warnings(unique_stems(same_folder)) == []
    sheets = [Path("a/2026-11-24.csv"), Path("b/2026-11-24.csv")]
    assert unique_stems(sheets) == {}
    texts = [Path("x/a/2026-11-24.txt"), Path("y/a/2026-11-24.txt"), Path("z/b/2026-11-24.txt")]
    assert unique_stems(texts) == {
        "x/a/2026-11-24.txt": "2026-11-24@x@a",  # the folder alone is not unique: its parent too
        "y/a/2026-11-24.txt": "2026-11-24@y@a",
        "z/b/2026-11-24.txt": "2026-11-24@z@b",
    }


def test_a_header_on_a_12_hour_clock_keeps_the_nick_and_the_afternoon(tmp_path: Path) -> None:
    path = tmp_path / "chat.txt"
    path.write_text(
        "tb_小鹿 2026-11-24 下午 3:05:03\n在吗\n森林杂货铺:阿青 2026-11-24 下午 3:05:20\n在的\n",
        encoding="utf-8",
    )
    (conv,) = read(path).conversations
    assert [(m.sender, m.sent_at) for m in conv.messages] == [
        ("tb_小鹿", datetime(2026, 11, 24, 15, 5, 3, tzinfo=SH)),
        ("森林杂货铺:阿青", datetime(2026, 11, 24, 15, 5, 20, tzinfo=SH)),
    ]


@pytest.mark.parametrize("dated", [True, False])
def test_a_block_header_whose_clock_is_written_in_chinese_is_a_header(tmp_path: Path, dated: bool) -> None:
    """10时03分20秒 was read in inline lines only: in block headers the agent's reply went into the
    buyer's message, and a file written so throughout was skipped as no chat export (audit 93 #1)."""
    day = "2026-11-24 " if dated else ""
    path = tmp_path / "2026-11-24_chat.txt"
    path.write_text(
        f"tb_橙子 {day}10时03分00秒\n请问发什么快递\n柚子店:小雨 {day}10时03分20秒\n默认中通哦\n"
        f"柚子店:小雨 {day}10时03分30秒\n还有别的问题吗亲\n",
        encoding="utf-8",
    )
    result = read(path)
    (conv,) = result.conversations
    assert [(m.role, m.sender, m.sent_at, m.text) for m in conv.messages] == [
        (Role.CUSTOMER, "tb_橙子", datetime(2026, 11, 24, 10, 3, 0, tzinfo=SH), "请问发什么快递"),
        (Role.AGENT, "柚子店:小雨", datetime(2026, 11, 24, 10, 3, 20, tzinfo=SH), "默认中通哦"),
        (Role.AGENT, "柚子店:小雨", datetime(2026, 11, 24, 10, 3, 30, tzinfo=SH), "还有别的问题吗亲"),
    ]
    assert not result.rejects


@pytest.mark.parametrize("name", ["day_2026-11-24.csv", "导出"])
def test_a_workbook_named_otherwise_is_read_as_the_workbook_it_is(tmp_path: Path, name: str) -> None:
    """openpyxl refuses a name not ending .xlsx: a sniffed workbook saved as .csv, or a download
    with no extension, was called corrupt (audit 81 #5)."""
    book = _workbook(
        tmp_path / "book.xlsx",
        {
            "s": [
                _HEADER,
                ["W1", "买家", "b1", "2026-11-24 10:00:00", "在吗"],
                ["W1", "客服", "店:小王", "2026-11-24 10:00:20", "在的"],
            ]
        },
    )
    renamed = book.rename(tmp_path / name)
    (conv,) = read(renamed).conversations
    assert [m.text for m in conv.messages] == ["在吗", "在的"]


def test_a_long_numeric_id_in_a_sheet_is_said_to_be_rounded(tmp_path: Path) -> None:
    """Excel keeps 15 significant digits: an 18-digit id stored as a number is no longer the id."""
    book = _workbook(
        tmp_path / "day_2026-11-24.xlsx",
        {
            "s": [
                _HEADER,
                [202611240000000095, "买家", "b1", "2026-11-24 10:00:00", "在吗"],
                [202611240000000095, "客服", "店:小王", "2026-11-24 10:00:20", "在的"],
            ]
        },
    )
    result = read(book)
    assert warned(
        result, "1 conversation id(s) are numbers of 16 digits or more", "format the id column as text"
    )


def test_a_long_id_a_spreadsheet_wrote_in_scientific_notation_is_rejected(tmp_path: Path) -> None:
    """A CSV that went through Excel writes 2.02611E+18 for every 19-digit id: two buyers and two
    agents read as one conversation, without a word (audit 81 #2)."""
    path = tmp_path / "day_2026-11-24.csv"
    path.write_text(
        "会话ID,角色,发送人,时间,内容\n"
        "2.02611E+18,买家,tb_a,2026-11-24 10:00:00,在吗\n"
        "2.02611E+18,客服,店:小雨,2026-11-24 10:00:09,在的\n"
        "20261124000001,买家,tb_b,2026-11-24 11:00:00,有货吗\n",
        encoding="utf-8",
    )
    result = read(path)
    assert [c.id for c in result.conversations] == ["20261124000001"]
    assert [r.line for r in result.rejects] == [2, 3]
    assert all(
        "scientific notation" in r.reason and "format the id column as text" in r.reason
        for r in result.rejects
    )


def test_a_file_whose_times_have_no_seconds_says_replies_are_timed_to_the_minute(tmp_path: Path) -> None:
    """Excel shows and saves 2026/11/24 9:01; the replies' seconds are gone (audit 81 #1)."""
    rows = "".join(
        f"M{i},买家,tb_{i},2026/11/24 9:0{i},在吗\nM{i},客服,店:小雨,2026/11/24 9:0{i + 1},在的\n"
        for i in range(3)
    )
    path = tmp_path / "day_2026-11-24.csv"
    path.write_text("会话ID,角色,发送人,时间,内容\n" + rows, encoding="utf-8")
    assert warned(read(path), "its times have no seconds", "the minutes apart less 59 s")
    path.write_text(
        "会话ID,角色,发送人,时间,内容\n" + rows.replace("9:01,在的", "9:01:12,在的"), encoding="utf-8"
    )
    assert not any("no seconds" in w for w in read(path).warnings)


def test_time_only_rows_crossing_midnight_go_on_into_the_next_day(tmp_path: Path) -> None:
    """23:59:40 then 00:00:30 in one conversation of a file dated 2026-11-24: the reply is on the 25th."""
    path = tmp_path / "day_2026-11-24.csv"
    path.write_text(
        "会话ID,角色,发送人,时间,内容\n"
        "N1,买家,tb_小鹿,23:59:40,在吗\n"
        "N2,买家,tb_阿伟,23:59:50,有货吗\n"
        "N1,客服,店:阿青,00:00:30,在的亲\n"
        "N2,客服,店:阿青,23:59:58,有的\n",
        encoding="utf-8",
    )
    convs = {c.id: c for c in read(path).conversations}
    assert [m.sent_at for m in convs["N1"].messages] == [
        datetime(2026, 11, 24, 23, 59, 40, tzinfo=SH),
        datetime(2026, 11, 25, 0, 0, 30, tzinfo=SH),
    ]
    assert [m.sent_at.day for m in convs["N2"].messages] == [24, 24]  # its own clock never went back


def test_the_shops_main_account_beside_its_sub_accounts_is_an_agent(tmp_path: Path) -> None:
    """森林杂货铺 writing beside 森林杂货铺:阿青 is the shop's main account (the manager), not the buyer."""
    path = tmp_path / "chat_2026-11-24.txt"
    path.write_text(
        "tb_小鹿 2026-11-24 10:00:01\n能进洗碗机吗\n"
        "森林杂货铺:阿青 2026-11-24 10:00:20\n可以的亲\n"
        "森林杂货铺 2026-11-24 10:02:00\n补充一下，杯盖不能进洗碗机\n",
        encoding="utf-8",
    )
    (conv,) = read(path).conversations
    assert [(m.role, m.sender) for m in conv.messages] == [
        (Role.CUSTOMER, "tb_小鹿"),
        (Role.AGENT, "森林杂货铺:阿青"),
        (Role.AGENT, "森林杂货铺"),
    ]


def test_a_date_column_beside_a_clock_only_time_column_dates_each_row(tmp_path: Path) -> None:
    """日期 | 时间 as two columns: each row's own day, no rollover guess; else the file name's day."""
    path = tmp_path / "聊天记录_2026-11-20.csv"
    path.write_text(
        "会话ID,日期,时间,角色,发送人,内容\n"
        "D1,2026-11-24,23:59:40,买家,tb_小鹿,在吗\n"
        "D1,2026/11/25,00:00:30,客服,店:阿青,在的亲\n"
        "D2,2026年11月26日,09:00:00,买家,tb_阿伟,有货吗\n"
        "D2,2026-11-26,09:00:20,客服,店:阿青,有的\n"
        "D5,,09:00:20,客服,店:阿青,有的\n"  # an empty date cell: the date above (a merged cell)
        "D3,20261127,10:00:00,买家,tb_阿伟,发货了吗\n"
        "D3,2026-11-24,2026-11-28 10:00:30,客服,店:阿青,发了\n"  # a full time keeps its own day
        "D4,下周一,10:00:00,买家,tb_阿伟,能退吗\n"  # names no day: the file's
        "D4,2026-13-01,10:00:00,买家,tb_阿伟,能退吗?\n"
        "D6,2026-11-24 星期二,10:00:00,买家,tb_阿伟,在吗\n"  # a weekday after the date
        "D7,2026-11-24 14:00:05,,买家,tb_阿伟,在吗\n"  # the date cell is the whole time
        "D8,11/24/2026,10:00:00,买家,tb_阿伟,在吗\n"  # month first: refused, not left untimed
        "D8,24.11.2026,10:00:09,客服,店:阿青,在的\n",
        encoding="utf-8",
    )
    result = read(path)
    assert_balanced(result)
    convs = {c.id: [m.sent_at for m in c.messages] for c in result.conversations}
    assert convs["D1"] == [
        datetime(2026, 11, 24, 23, 59, 40, tzinfo=SH),
        datetime(2026, 11, 25, 0, 0, 30, tzinfo=SH),
    ]
    assert convs["D2"] == [
        datetime(2026, 11, 26, 9, 0, tzinfo=SH),
        datetime(2026, 11, 26, 9, 0, 20, tzinfo=SH),
    ]
    assert convs["D5"] == [datetime(2026, 11, 26, 9, 0, 20, tzinfo=SH)]
    assert convs["D3"] == [
        datetime(2026, 11, 27, 10, 0, tzinfo=SH),
        datetime(2026, 11, 28, 10, 0, 30, tzinfo=SH),
    ]
    assert convs["D4"] == [datetime(2026, 11, 20, 10, 0, tzinfo=SH)]
    assert convs["D6"] == [datetime(2026, 11, 24, 10, 0, tzinfo=SH)]
    assert convs["D7"] == [datetime(2026, 11, 24, 14, 0, 5, tzinfo=SH)]
    fix = "date not understood (use YYYY-MM-DD, YYYY/MM/DD or YYYY年MM月DD日"
    assert reasons(result)[0] == (10, "date out of range (month must be in 1..12)")
    assert [(line, why[: len(fix)]) for line, why in reasons(result)[1:]] == [(13, fix), (14, fix)]
    assert "D8" not in convs


def test_a_date_cell_and_a_time_cell_in_a_workbook_make_one_timestamp(tmp_path: Path) -> None:
    from datetime import time

    path = _workbook(
        tmp_path / "export.xlsx",
        {
            "聊天": [
                ["会话ID", "聊天日期", "发送时间", "角色", "发送人", "内容"],
                ["X1", datetime(2026, 11, 24), time(23, 59, 50), "买家", "tb_小鹿", "在吗"],
                ["X1", datetime(2026, 11, 25), time(0, 0, 20), "客服", "店:阿青", "在的"],
                ["X2", 46350, "08:30:00", "买家", "tb_阿伟", "到了吗"],  # a date serial stored as a number
            ]
        },
    )
    result = read(path)
    assert not result.rejects and not result.warnings
    convs = {c.id: [m.sent_at for m in c.messages] for c in result.conversations}
    assert convs["X1"] == [
        datetime(2026, 11, 24, 23, 59, 50, tzinfo=SH),
        datetime(2026, 11, 25, 0, 0, 20, tzinfo=SH),
    ]
    assert convs["X2"] == [datetime(2026, 11, 24, 8, 30, tzinfo=SH)]


def test_a_message_lines_date_dates_its_clock_only_time_and_a_conversation_date_does_not(
    tmp_path: Path,
) -> None:
    """A conversation's date is the day it began, not each message's: its messages take the file's day."""
    path = tmp_path / "api_2026-11-20.jsonl"
    path.write_text(
        '{"conversation_id": "J1", "date": "2026-11-24", "messages": ['
        '{"role": "买家", "time": "10:00:00", "text": "在吗"},'
        '{"role": "客服", "sender": "店:阿青", "time": "10:00:30", "text": "在的亲"}]}\n'
        '{"conversation_id": "J2", "role": "买家", "date": "2026-11-25", "time": "11:00:00", "text": "好"}\n'
        '{"conversation_id": "J3", "role": "买家", "date": 1795485600000, "time": "11:00:00", "text": "嗯"}'
        "\n",
        encoding="utf-8",
    )
    result = read(path)
    assert not result.rejects
    convs = {c.id: [m.sent_at for m in c.messages] for c in result.conversations}
    assert convs == {
        "J1": [datetime(2026, 11, 20, 10, 0, tzinfo=SH), datetime(2026, 11, 20, 10, 0, 30, tzinfo=SH)],
        "J2": [datetime(2026, 11, 25, 11, 0, tzinfo=SH)],
        "J3": [datetime(2026, 11, 24, 11, 0, tzinfo=SH)],  # epoch milliseconds: its day in the zone
    }


_TEMPLATE_DAY = (
    "tb_小鹿 2026-11-24 09:59:00\n"
    "怎么退货\n"
    "森林杂货铺:阿青 2026-11-24 10:00:00\n"
    "亲，退换货须知如下：\n"
    "————————————\n"
    "1. 签收七天内可无理由退换\n"
    "————————————\n"
    "2. 请保持吊牌完好\n"
    "tb_小鹿 2026-11-24 10:01:00\n"
    "好的谢谢\n"
)
_REPLY = "森林杂货铺:阿青 2026-11-24 11:00:30\n在的\n"


def _conversation_line(*said: tuple[str, str, str, str], cid: str = "V1") -> str:
    messages = [{"role": r, "sender": s, "timestamp": t, "text": x} for r, s, t, x in said]
    return json.dumps({"conversation_id": cid, "messages": messages}, ensure_ascii=False) + "\n"


def test_overlapping_pages_of_one_conversation_hold_each_timed_message_once(tmp_path: Path) -> None:
    """Paged API pulls repeat the last messages of a page at the top of the next."""
    buyer, agent = ("买家", "tb_小鹿"), ("客服", "店:阿青")
    path = tmp_path / "pages.jsonl"
    path.write_text(
        _conversation_line(
            (*buyer, "2026-11-24 10:00:01", "能装热水吗"), (*agent, "2026-11-24 10:00:20", "嗯")
        )
        + _conversation_line(
            (*agent, "2026-11-24 10:00:20", "嗯"), (*buyer, "2026-11-24 10:01:00", "微波炉呢")
        )
        + _conversation_line(
            (*buyer, "2026-11-24 10:01:00", "微波炉呢"), (*agent, "2026-11-24 10:01:10", "不行")
        ),
        encoding="utf-8",
    )
    result = read(path)
    assert_balanced(result)
    (conv,) = result.conversations
    assert [m.text for m in conv.messages] == ["能装热水吗", "嗯", "微波炉呢", "不行"]
    assert [(r.line, r.reason.split(";")[0]) for r in result.rejects] == [
        (2, "exact duplicate of line 1"),
        (3, "exact duplicate of line 2"),
    ]


def test_a_double_send_inside_one_line_is_kept_and_its_overlap_held_once(tmp_path: Path) -> None:
    """The same reply twice in one second is two sends; the next page repeating both is not."""
    agent = ("客服", "店:阿青")
    double = [(*agent, "2026-11-24 10:00:20", "嗯"), (*agent, "2026-11-24 10:00:20", "嗯")]
    path = tmp_path / "pages.jsonl"
    path.write_text(
        _conversation_line(("买家", "tb_小鹿", "2026-11-24 10:00:01", "在吗"), *double)
        + _conversation_line(*double, ("买家", "tb_小鹿", "2026-11-24 10:01:00", "好"))
        # clock-only times on an unknown day: the same words at other times are other messages
        + _conversation_line((*agent, "10:00:00", "好的"), cid="V2")
        + _conversation_line((*agent, "11:00:00", "好的"), cid="V2"),
        encoding="utf-8",
    )
    result = read(path)
    assert_balanced(result)
    convs = {c.id: [m.text for m in c.messages] for c in result.conversations}
    assert convs == {"V1": ["在吗", "嗯", "嗯", "好"], "V2": ["好的", "好的"]}
    assert [r.line for r in result.rejects] == [2, 2]


def test_a_double_send_in_a_text_export_is_kept_and_another_exports_copy_is_a_duplicate(
    tmp_path: Path,
) -> None:
    day = (
        "===== 会话 T-9 =====\n"
        "买家(10:00:00): 在吗\n"
        "森林杂货铺:阿青(10:00:05): 在的亲\n"
        "森林杂货铺:阿青(10:00:05): 在的亲\n"
    )
    first, again = tmp_path / "a_2026-11-24.txt", tmp_path / "b_2026-11-24.txt"
    first.write_text(day, encoding="utf-8")
    again.write_text(day + "买家(10:01:00): 好\n", encoding="utf-8")
    result = read(first, again)
    assert_balanced(result)
    (conv,) = result.conversations
    assert [m.text for m in conv.messages] == ["在吗", "在的亲", "在的亲", "好"]
    assert [(r.file, r.line) for r in result.rejects] == [(str(again), 2), (str(again), 3), (str(again), 4)]


def test_message_ids_tell_double_sends_from_repeats() -> None:
    """Different ids are different messages however alike; the same id and content is one message."""
    result = read(DATA / "message_ids.jsonl")
    assert_balanced(result)
    convs = {c.id: [m.text for m in c.messages] for c in result.conversations}
    assert convs == {
        # a double send at one second; an id repeated with the same words; the same id with
        # other words (an edited message) kept beside the first
        "I-01": ["在吗", "在吗", "在的亲，请说", "在的亲，您请说"],
        # no times: the ids alone make line 7 a repeat and line 8 another send
        "I-02": ["好的", "好的"],
        # a double send split over two pages of a pull; the third page repeats the second's
        "I-03": ["能便宜点吗", "亲，已经是活动价了哦", "亲，已经是活动价了哦", "那算了"],
    }
    assert [(line, reason.split(";")[0]) for line, reason in reasons(result)] == [
        (4, "exact duplicate of line 3"),
        (7, "exact duplicate of line 6"),
        (9, "message_id has a control character U+0007 at character 3"),
        (12, "exact duplicate of line 11"),
    ]


@pytest.mark.parametrize("header", ["消息ID", "msg_id", "消息编号"])
def test_a_sheets_message_id_column_keeps_identical_rows_of_two_sends(tmp_path: Path, header: str) -> None:
    path = tmp_path / "export.csv"
    path.write_text(
        f"会话ID,{header},角色,发送人,时间,内容\n"
        "S1,a1,买家,tb_阿梨,2026-11-24 10:00,在吗\n"
        "S1,a2,买家,tb_阿梨,2026-11-24 10:00,在吗\n"
        "S1,a3,客服,店:小满,2026-11-24 10:01,在的\n"
        "S1,a3,客服,店:小满,2026-11-24 10:01,在的\n",
        encoding="utf-8",
    )
    other = tmp_path / "again.csv"  # another export holding the same message: a duplicate by its id
    other.write_text(
        f"会话ID,{header},角色,发送人,时间,内容\nS1,a2,买家,tb_阿梨,2026-11-24 10:00,在吗\n", "utf-8"
    )
    result = read(path, other)
    assert_balanced(result)
    (conv,) = result.conversations
    assert [m.text for m in conv.messages] == ["在吗", "在吗", "在的"]
    assert [(Path(r.file).name, r.line, r.reason) for r in result.rejects] == [
        ("export.csv", 5, "exact duplicate of line 4"),
        ("again.csv", 2, f"exact duplicate of {path}:3"),
    ]


def test_a_bare_id_is_a_message_id_only_when_the_column_map_says_so(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    row = {"conversation_id": "R1", "role": "买家", "timestamp": "2026-11-24 10:00:00", "text": "在吗"}
    path.write_text("".join(json.dumps({"id": n, **row}) + "\n" for n in (1, 2)), encoding="utf-8")
    assert [r.line for r in read(path).rejects] == [2]  # row numbers: identical rows are repeats
    assert read(path, column_map={"message_id": "id"}).rejects == []


def test_a_csv_cell_longer_than_pythons_csv_limit_is_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    said = "亲" * 150_000
    path.write_text(
        "会话ID,角色,发送人,时间,内容\n"
        "L1,买家,tb_阿梨,2026-11-24 10:00:00,在吗\n"
        f"L1,客服,店:小满,2026-11-24 10:00:10,{said}\n",
        encoding="utf-8",
    )
    result = read(path)
    assert_balanced(result)
    assert [m.text for c in result.conversations for m in c.messages] == ["在吗", said]


def test_a_row_the_csv_module_cannot_read_under_the_header_is_a_reject_not_skipped(tmp_path: Path) -> None:
    import csv

    from qc.readers.tabular import allow_long_cells

    path = tmp_path / "export.csv"
    path.write_text(
        "会话ID,角色,发送人,时间,内容\n"
        "L1,买家,tb_阿梨,2026-11-24 10:00:00,在吗\n"
        f"L1,客服,店:小满,2026-11-24 10:00:10,{'亲' * 300}\n"
        "L1,买家,tb_阿梨,2026-11-24 10:01:00,好\n",
        encoding="utf-8",
    )
    csv.field_size_limit(100)  # a row csv refuses, as its default limit refuses a longer cell
    try:
        result = read(path)
    finally:
        allow_long_cells()
    assert_balanced(result)
    assert [(r.line, r.reason) for r in result.rejects] == [
        (3, "not valid CSV (field larger than field limit (100))")
    ]


def _rows(path: Path, *said: tuple[str, str | None, str]) -> Path:
    lines = []
    for role, at, text in said:
        row = {"conversation_id": "N1", "role": role, "sender": "店:小王" if role == "客服" else "tb_阿梨"}
        lines.append(json.dumps({**row, **({"timestamp": f"2026-11-24 {at}"} if at else {}), "text": text}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("rows", "warning"),
    [
        (  # a reply in its question's second stays after it
            [
                ("客服", "10:00:40", "有的哦"),
                ("买家", "10:00:20", "有现货吗"),
                ("客服", "10:00:05", "亲，在的"),
                ("买家", "10:00:05", "在吗"),
            ],
            "messages out of time order; sorted by time",
        ),
        (  # an untimed message: no sort, but newest first throughout is read in reverse
            [
                ("客服", None, "有的哦"),
                ("买家", "10:01:00", "有现货吗"),
                ("客服", "10:00:10", "亲，在的"),
                ("买家", "10:00:00", "在吗"),
            ],
            "messages listed newest first; read in reverse",
        ),
    ],
    ids=["same-second-reply", "untimed-message"],
)
def test_a_conversation_listed_newest_first_is_read_oldest_first(
    tmp_path: Path, rows: list[tuple[str, str | None, str]], warning: str
) -> None:
    result = read(_rows(tmp_path / "newest.jsonl", *rows))
    assert [m.text for c in result.conversations for m in c.messages] == [
        "在吗",
        "亲，在的",
        "有现货吗",
        "有的哦",
    ]
    assert warned(result, "N1", warning)


def test_a_conversation_out_of_order_with_an_untimed_message_keeps_the_files_order(tmp_path: Path) -> None:
    # not newest first throughout: the file's order stands, and the warning says why times may be wrong
    path = _rows(
        tmp_path / "mixed.jsonl",
        ("买家", "10:01:00", "有现货吗"),
        ("买家", "10:00:00", "在吗"),
        ("客服", None, "有的"),
        ("客服", "10:01:30", "亲，在的"),
    )
    result = read(path)
    assert [m.text for c in result.conversations for m in c.messages] == [
        "有现货吗",
        "在吗",
        "有的",
        "亲，在的",
    ]
    assert warned(
        result, "N1", "messages out of time order, and 1 without a time, so kept in the file's order"
    )


def test_an_auto_reply_marked_only_in_its_text_is_an_auto_reply_in_every_format(tmp_path: Path) -> None:
    """A typed reply is what response times count: a marked auto-reply at 1 s would flatter the agent."""
    rows = [
        ("买家", "tb_阿梨", "10:00:00", "在吗", ""),
        ("客服", "店:小满", "10:00:01", "[自动回复]您好，欢迎光临", ""),
        ("客服", "店:小满", "10:00:02", "亲，稍等（自动回复）", ""),
        ("客服", "店:小满", "10:00:30", "【自动回复】亲，在的", "否"),  # the column says otherwise: it wins
        ("买家", "tb_阿梨", "10:01:00", "[自动回复]是什么", ""),  # a buyer quoting the mark
    ]
    sheet = tmp_path / "export.csv"
    sheet.write_text(
        "会话ID,角色,发送人,时间,内容,自动回复\n"
        + "".join(f"A1,{r},{w},2026-11-24 {t},{x},{a}\n" for r, w, t, x, a in rows),
        encoding="utf-8",
    )
    lines = tmp_path / "export.jsonl"
    lines.write_text(
        "".join(
            json.dumps(
                {"conversation_id": "A2", "role": r, "sender": w, "timestamp": f"2026-11-24 {t}", "text": x}
                | ({"auto_reply": False} if a else {}),
                ensure_ascii=False,
            )
            + "\n"
            for r, w, t, x, a in rows
        ),
        encoding="utf-8",
    )
    result = read(sheet, lines)
    assert_balanced(result)
    for conv in result.conversations:
        assert [m.auto_reply for m in conv.messages] == [False, True, True, False, False], conv.id


def test_a_sender_object_gives_the_nick_role_and_agent_id(tmp_path: Path) -> None:
    def msg(cid: str, sender: dict, at: str, text: str, **more: object) -> dict:
        return {
            "conversation_id": cid,
            "sender": sender,
            "timestamp": f"2026-11-24 {at}",
            "text": text,
            **more,
        }

    lines = [
        msg("N1", {"nick": "tb_小鹿", "role": "buyer"}, "10:00:00", "在吗"),
        msg("N1", {"Nick_Name": "店:阿青", "type": "staff", "staff_id": "AQ 01"}, "10:00:10", "在的"),
        # a role beside the object wins over the one inside it
        msg("N1", {"name": "平台", "type": "staff"}, "10:00:20", "会话已转接", role="系统"),
        {
            "conversation_id": "N2",
            "messages": [
                {
                    "from": {"昵称": "tb_阿伟", "身份": "买家"},
                    "time": "2026-11-24 11:00:00",
                    "content": "发货了吗",
                },
                {
                    "from": {"name": "店:阿青", "type": "agent"},
                    "time": "2026-11-24 11:00:30",
                    "content": "发了",
                },
            ],
        },
        msg("N1", {"userNick": "tb_小鹿", "userType": "buyer"}, "10:00:30", "好的"),
        # an object that names nobody and no role: the usual reject
        msg("N3", {"avatar": "x.png"}, "12:00:00", "在吗"),
    ]
    path = tmp_path / "api.jsonl"
    path.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8")
    result = read(path)
    assert_balanced(result)
    convs = {c.id: c for c in result.conversations}
    got = [(m.role, m.sender, m.agent_id) for m in convs["N1"].messages]
    assert got == [
        (Role.CUSTOMER, "tb_小鹿", None),
        (Role.AGENT, "店:阿青", "aq01"),
        (Role.SYSTEM, "平台", None),
        (Role.CUSTOMER, "tb_小鹿", None),
    ]
    assert [(m.role, m.sender) for m in convs["N2"].messages] == [
        (Role.CUSTOMER, "tb_阿伟"),
        (Role.AGENT, "店:阿青"),
    ]
    assert [(r.line, r.reason.split(" (")[0]) for r in result.rejects] == [(6, "missing role")]


def test_a_group_header_above_the_real_one_is_skipped(tmp_path: Path) -> None:
    """Merged cells 会话 | 消息 over the real header: the first complete header wins."""
    path = _workbook(
        tmp_path / "grouped.xlsx",
        {
            "导出": [
                ["会话", None, "消息", None, None],
                ["会话ID", "角色", "发送时间", "发送人", "内容"],
                ["G1", "买家", "2026-11-24 10:00:00", "tb_小鹿", "在吗"],
                ["G1", "客服", "2026-11-24 10:00:09", "店:阿青", "在的"],
            ]
        },
    )
    result = read(path)
    assert_balanced(result)
    (conv,) = result.conversations
    assert [m.text for m in conv.messages] == ["在吗", "在的"]
    assert reasons(result) == [(1, "row above the header row")]
    # A group row that names a conversation, a sender side and the text (会话 | 发送方 | 消息)
    # is complete too: the real header names more columns.
    grouped = tmp_path / "grouped.csv"
    grouped.write_text(
        "会话,,发送方,,消息,\n会话ID,日期,角色,昵称,时间,内容\nc1,2026-11-24,买家,tb_a,10:00:00,在吗\n",
        encoding="utf-8",
    )
    found = read(grouped)
    assert [(m.text, m.sender, m.sent_at) for c in found.conversations for m in c.messages] == [
        ("在吗", "tb_a", datetime(2026, 11, 24, 10, 0, tzinfo=SH))
    ]
    assert reasons(found) == [(1, "row above the header row")]
    # A header naming text but no conversation column, with no better row below, still says so.
    lone = tmp_path / "lone.csv"
    lone.write_text("消息,发送人\n在吗,tb_小鹿\n", encoding="utf-8")
    failed = read(lone)
    assert failed.files[0].error and "the header has no conversation_id column" in failed.files[0].error


_OVERNIGHT_CSV = (
    "会话ID,角色,发送人,时间,内容\n"
    "O1,买家,tb_小鹿,20:00:00,明天能发吗\n"
    "O1,客服,店:阿青,10:00:00,早上好亲，今天发\n"  # the next morning: the clock went back 10 h
    "O2,客服,店:阿青,15:00:05,[自动回复]您好\n"
    "O2,买家,tb_阿伟,15:00:00,在吗\n"  # five seconds back: the same day, sorted before it
)
_OVERNIGHT_TXT = (
    "===== 会话 T1 =====\n买家(20:00:00): 明天能发吗\n森林杂货铺:阿青(10:00:00): 早上好亲，今天发\n"
)


@pytest.mark.parametrize(
    ("name", "content", "key"),
    [
        # a text export lists a conversation in time order: a step back of an hour is the next day
        ("夜_2026-11-24.txt", _OVERNIGHT_TXT, "clock_back_rollover_minutes"),
        # a sheet may be sorted otherwise: the shop says so with its own window (default 12 h)
        ("夜_2026-11-24.csv", _OVERNIGHT_CSV, "sheet_clock_back_rollover_minutes"),
    ],
)
def test_a_reply_the_next_morning_is_on_the_next_day_as_each_formats_window_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, content: str, key: str
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")

    def days(minutes: int) -> list[int]:
        limits = tmp_path / f"limits-{minutes}.toml"  # the limits are cached by file
        limits.write_text(f"[input]\n{key} = {minutes}\n", encoding="utf-8")
        monkeypatch.setenv("QC_LIMITS", str(limits))
        return [m.sent_at.day for m in read(path).conversations[0].messages]

    monkeypatch.delenv("QC_LIMITS", raising=False)
    first = read(path).conversations[0]
    assert [m.sent_at.day for m in first.messages] == ([24, 25] if name.endswith(".txt") else [24, 24])
    assert days(60) == [24, 25]  # 20:00, then 10:00: the next morning
    assert days(720) == [24, 24]
    if name.endswith(".csv"):  # five seconds back stays on the day, sorted
        second = read(path).conversations[1]
        assert [m.sent_at.day for m in second.messages] == [24, 24]
        assert second.messages[0].text == "在吗"


_FIRST_CHAT = "tb_aaa 2026-11-24 15:00:00\n在吗\n店:小雨 2026-11-24 15:00:10\n在的亲\n"


_TEMPLATE_TEXT = (
    "亲，退换货须知如下：\n————————————\n1. 签收七天内可无理由退换\n————————————\n2. 请保持吊牌完好"
)


@pytest.mark.parametrize(
    ("day", "chats", "agent_text", "rejected"),
    [
        # the agent's divider lines are lines of the reply: one conversation, nothing rejected
        (_TEMPLATE_DAY, 1, _TEMPLATE_TEXT, []),
        # a bare divider right before the next header is a separator
        (_TEMPLATE_DAY + "==========\ntb_阿伟 2026-11-24 11:00:00\n在吗\n" + _REPLY, 2, _TEMPLATE_TEXT, []),
        # a title between two dividers is a separator too (the title a reject)
        (
            _TEMPLATE_DAY
            + "==========\n会话对象：tb_阿伟\n==========\ntb_阿伟 2026-11-24 11:00:00\n在吗\n"
            + _REPLY,
            2,
            _TEMPLATE_TEXT,
            [12],
        ),
        # a new buyer's header after a divider starts a conversation, whatever its time
        (
            _FIRST_CHAT
            + "————————\ntb_bbb 2026-11-24 09:00:00\n发货了吗\n店:小雨 2026-11-24 09:00:30\n已发货\n",
            2,
            "在的亲",
            [],
        ),
        # so it does after a divider and a title line
        (
            _FIRST_CHAT + "-----\n与 tb_bbb 的聊天记录\ntb_bbb 2026-11-24 16:00:00\n发货了吗\n"
            "店:小雨 2026-11-24 16:00:30\n已发货\n",
            2,
            "在的亲",
            [],  # the title names the next chat's buyer: no reject (audit 91 #4)
        ),
        # a footer after the last divider is not the agent's words
        (_FIRST_CHAT + "==========\n共 2 条消息\n", 1, "在的亲", [6]),
        # held lines ending in a divider separate, as a footer between two dividers must: a
        # reply's own closing divider reads so too (its last line and the answer, rejects)
        (
            _FIRST_CHAT + "————\n1. 签收七天内可退\n————\ntb_aaa 2026-11-24 15:01:00\n好的\n",
            1,
            "在的亲",
            [6, 8],
        ),
        # a footer between two conversations, the next one opened by the shop: two conversations
        (
            _FIRST_CHAT + "==========\n共 2 条消息\n==========\n店:小雨 2026-11-24 16:00:00\n亲，还没付款哦\n"
            "tb_二哈 2026-11-24 16:05:00\n马上付\n",
            2,
            "在的亲",
            [6],
        ),
        # the buyer answering a formatted reply after midnight (clock-only headers) goes on
        (
            "tb_aaa 23:59:40\n在吗\n店:小雨 23:59:50\n须知如下\n————\n1. 七天可退\ntb_aaa 00:00:40\n好\n",
            1,
            "须知如下\n————\n1. 七天可退",
            [],
        ),
        # a shop account after held text may open the next conversation: it separates
        (_FIRST_CHAT + "————\n1. 签收七天内可退\n店:阿青 2026-11-24 15:03:00\n我来跟进\n", 2, "在的亲", [6]),
        # a title, then the shop's 催付 to the next buyer: two conversations
        (
            _FIRST_CHAT + "------\n与 tb_小鹿 的聊天记录\n店:小雨 2026-11-24 16:05:00\n亲，还没付款哦\n"
            "tb_小鹿 2026-11-24 16:05:30\n马上付\n",
            2,
            "在的亲",
            [],
        ),
        # buyers named by the role word only are no one in particular: they separate
        (
            "买家 2026-11-24 10:00:00\n在吗\n店:小雨 2026-11-24 10:00:09\n在的\n------\n共 2 条\n"
            "买家 2026-11-24 10:05:00\n发货了吗\n店:小雨 2026-11-24 10:05:09\n发了\n",
            2,
            "在的",
            [6],
        ),
        # a pasted 付款时间 line after a formatting divider is a line of the reply
        (
            _FIRST_CHAT + "————\n付款时间 2026-11-24 09:12:33\n请核对\ntb_aaa 2026-11-24 15:01:00\n好的\n",
            1,
            "在的亲\n————\n付款时间 2026-11-24 09:12:33\n请核对",
            [],
        ),
        # a starred heading inside a reply is a line of it
        (
            _FIRST_CHAT + "***温馨提示***\n下单前请核对地址\ntb_aaa 2026-11-24 15:02:00\n好\n",
            1,
            "在的亲\n***温馨提示***\n下单前请核对地址",
            [],
        ),
        # a date line inside a conversation going on past midnight neither splits nor is a reject
        (_FIRST_CHAT + "—————— 2026-11-25 ——————\ntb_aaa 2026-11-25 09:00:00\n发了吗\n", 1, "在的亲", []),
        # …but before a new buyer it separates, as any divider
        (
            _FIRST_CHAT
            + "—————— 2026-11-25 ——————\ntb_ccc 2026-11-25 09:00:00\n在吗\n店:小雨 2026-11-25 09:00:09\n在\n",
            2,
            "在的亲",
            [],
        ),
    ],
    ids=[
        "divider-in-a-reply",
        "divider-before-a-header",
        "title-between-dividers",
        "new-buyer-earlier",
        "title-then-new-buyer",
        "footer",
        "closing-divider",
        "footer-between-chats",
        "reply-across-midnight",
        "shop-account-separates",
        "title-then-shop-opens",
        "role-word-buyers",
        "pasted-time-after-divider",
        "starred-heading",
        "date-line-same-buyer",
        "date-line-new-buyer",
    ],
)
def test_held_divider_lines_go_to_the_message_only_when_the_same_conversation_goes_on(
    tmp_path: Path, day: str, chats: int, agent_text: str, rejected: list[int]
) -> None:
    path = tmp_path / "导出_2026-11-24.txt"
    path.write_text(day, encoding="utf-8")
    result = read(path)
    assert_balanced(result)
    assert len(result.conversations) == chats
    first = min(result.conversations, key=lambda c: c.id)
    assert [m.text for m in first.messages if m.role is Role.AGENT][0] == agent_text
    assert [line for line, _ in reasons(result)] == rejected


def test_a_conversation_listed_newest_first_stays_on_its_day(tmp_path: Path) -> None:
    path = tmp_path / "desc_2026-11-24.csv"
    path.write_text(
        "会话ID,角色,发送人,时间,内容\n"
        "c5,客服,店:小雨,15:00:00,好的亲 已经安排\n"
        "c5,买家,tb_a,14:59:00,快点发货\n"
        "c5,客服,店:小雨,11:00:00,在的\n"
        "c5,买家,tb_a,10:58:00,在吗\n",
        encoding="utf-8",
    )
    result = read(path)
    (conv,) = result.conversations
    assert [m.sent_at.day for m in conv.messages] == [24, 24, 24, 24]
    assert [m.text for m in conv.messages] == ["在吗", "在的", "快点发货", "好的亲 已经安排"]
    assert warned(result, "c5", "messages out of time order")


@pytest.mark.parametrize(
    ("rows", "days"),
    [
        # newest first, its first step back a big one: the file's order, not a midnight
        (
            ["A1,15:00:00,买家,tb_a,还在吗", "A1,10:00:10,客服,店:小雨,有的", "A1,10:00:00,买家,tb_a,有吗"],
            [24, 24, 24],
        ),
        # in time order, with an auto-reply stamped a second early: it crosses midnight
        (
            ["A1,23:58:01,买家,tb_a,在吗", "A1,23:58:00,客服,店:小雨,[自动回复]欢迎光临",
             "A1,00:05:00,客服,店:小雨,在的亲", "A1,00:06:00,买家,tb_a,有货吗"],
            [24, 24, 25, 25],
        ),
    ],
    ids=["newest-first-big-step", "in-order-with-jitter"],
)  # fmt: skip
def test_a_file_listed_newest_first_stays_on_its_day_and_one_in_order_rolls_over(
    tmp_path: Path, rows: list[str], days: list[int]
) -> None:
    path = tmp_path / "desc_2026-11-24.csv"
    path.write_text("会话ID,时间,角色,发送人,内容\n" + "\n".join(rows) + "\n", encoding="utf-8")
    (conv,) = read(path).conversations
    assert sorted(m.sent_at.day for m in conv.messages) == days


def test_a_rollover_on_a_daylight_saving_night_takes_the_next_days_offset(tmp_path: Path) -> None:
    path = tmp_path / "d1_2026-03-28.csv"
    path.write_text(
        "会话ID,时间,角色,发送人,内容\nB1,23:59:00,买家,tb_a,在吗\nB1,03:30:00,客服,店:小雨,早上好\n",
        encoding="utf-8",
    )
    (conv,) = read(path, timezone="Europe/Berlin").conversations
    assert [m.sent_at.isoformat() for m in conv.messages] == [
        "2026-03-28T23:59:00+01:00",
        "2026-03-29T03:30:00+02:00",
    ]


@pytest.mark.parametrize(
    ("cell", "day"),
    [
        (20261124, date(2026, 11, 24)),  # typed as a number
        ("20261124", date(2026, 11, 24)),
        ("1795485601000", date(2026, 11, 24)),  # epoch milliseconds written as text
        (46350, date(2026, 11, 24)),  # an Excel serial
        ("2026-11-24 周二", date(2026, 11, 24)),
        ("12345", None),  # no day: the file's
        ("11-24", None),
        (None, None),
    ],
)
def test_a_date_cell_is_read_as_the_day_it_names(cell: object, day: date | None) -> None:
    from qc.readers.timestamps import day_of

    assert day_of(cell, SH) == day


@pytest.mark.parametrize("later", ["14:00:00", "09:30:00"])
def test_a_date_line_dates_the_clock_only_times_after_it(tmp_path: Path, later: str) -> None:
    path = tmp_path / "导出_2026-11-24.txt"
    path.write_text(
        "tb_大橘 10:00:00\n在吗，这个有货吗\n店:小雨 10:00:30\n亲，有的\n"
        f"———————— 2026-11-25 ————————\ntb_大橘 {later}\n昨天问的那个还有吗\n店:小雨 {later[:6]}20\n有的亲\n",
        encoding="utf-8",
    )
    result = read(path)
    assert_balanced(result)
    (conv,) = result.conversations
    assert [m.sent_at.date() for m in conv.messages] == [date(2026, 11, 24)] * 2 + [date(2026, 11, 25)] * 2


def test_a_date_separator_dates_the_conversations_after_it(tmp_path: Path) -> None:
    path = tmp_path / "导出.txt"  # no day in the name
    path.write_text(
        "======== 2026-11-25 ========\ntb_大橘 10:00:00\n在吗\n店:小雨 10:00:30\n在的\n",
        encoding="utf-8",
    )
    result = read(path)
    (conv,) = result.conversations
    assert [m.sent_at for m in conv.messages] == [
        datetime(2026, 11, 25, 10, 0, tzinfo=SH),
        datetime(2026, 11, 25, 10, 0, 30, tzinfo=SH),
    ]
    assert not result.warnings


def test_an_excel_serial_a_csv_wrote_as_text_is_a_time() -> None:
    assert parse_timestamp("46350.42", SH) == datetime(2026, 11, 24, 10, 4, 48, tzinfo=SH)
    with pytest.raises(TimestampError):
        parse_timestamp("12345", SH)  # a number outside the serials is no time


@pytest.mark.parametrize(
    ("second_header", "row_end"),
    [
        ("会话ID,角色,发送人,时间,内容", ""),
        ("会话ID,角色,发送人,时间,内容,", ","),
        ("会话ID,角色,发送人,时间,内容,备注", ","),
    ],
    ids=["the-same-header", "trailing-comma", "one-more-column"],
)
def test_a_second_exports_header_below_rows_of_data_is_not_the_header(
    tmp_path: Path, second_header: str, row_end: str
) -> None:
    path = tmp_path / "joined_2026-11-24.csv"
    path.write_text(
        "会话ID,角色,发送人,时间,内容\na1,买家,tb_大橘,2026-11-24 10:00:00,在吗\n"
        f"a1,客服,店:小雨,2026-11-24 10:00:05,在的\n{second_header}\n"
        f"b2,买家,tb_小鹿,2026-11-24 11:00:00,发货吗{row_end}\n",
        encoding="utf-8",
    )
    result = read(path)
    assert sorted(c.id for c in result.conversations) == ["a1", "b2"]
    assert [line for line, _ in reasons(result)] == [4]  # the second header


@pytest.mark.parametrize(
    ("rows", "days", "said"),
    [
        # past midnight: the next day, said in a warning
        ("a1,买家,tb_大橘,23:59:50,在吗\na1,客服,店:小雨,00:00:20,在的\n", [24, 25], True),
        # so with the same session date on every row (a 聊天日期 column)
        (
            "a1,买家,tb_大橘,23:59:50,在吗,2026-11-24\na1,客服,店:小雨,00:00:20,在的,2026-11-24\n",
            [24, 25],
            True,
        ),
        # sorted by sender: steps back of an hour or two are the sort (the 12 h window)
        (
            "a1,买家,tb_大橘,10:00:00,在吗\na1,买家,tb_大橘,11:30:00,还在吗\n"
            "a1,客服,店:小雨,10:00:20,在的\na1,客服,店:小雨,11:30:10,在的亲\n",
            [24, 24, 24, 24],
            False,
        ),
    ],
    ids=["past-midnight", "same-session-date", "sorted-by-sender"],
)
def test_a_sheet_rolls_over_midnight_only_past_its_window_and_says_so(
    tmp_path: Path, rows: str, days: list[int], said: bool
) -> None:
    path = tmp_path / "d7_2026-11-24.csv"
    header = "会话ID,角色,发送人,时间,内容" + (",聊天日期" if rows.count(",") > 4 * rows.count("\n") else "")
    path.write_text(header + "\n" + rows, encoding="utf-8")
    result = read(path)
    assert [m.sent_at.day for m in result.conversations[0].messages] == days
    assert warned(result, "1 conversation(s) (e.g. a1) went past midnight") is said


def test_a_date_above_does_not_carry_into_the_next_sheet(tmp_path: Path) -> None:
    path = _workbook(
        tmp_path / "s1_2026-11-24.xlsx",
        {
            "昨日": [
                ["会话ID", "日期", "时间", "角色", "发送人", "内容"],
                ["a1", "2026-11-23", "10:00:00", "买家", "tb_大橘", "在吗"],
            ],
            "今日": [
                ["会话ID", "时间", "角色", "发送人", "内容"],
                ["b2", "10:00:00", "买家", "tb_小鹿", "发货吗"],
            ],
        },
    )
    days = {c.id: c.messages[0].sent_at.date() for c in read(path).conversations}
    assert days == {"a1": date(2026, 11, 23), "b2": date(2026, 11, 24)}


@pytest.mark.parametrize(
    ("after", "chats"),
    [
        # the shop's main account (its name alone) is the shop, not a buyer going on
        (
            "————————\n与 tb_小鹿 的聊天记录\n柚子优选旗舰店 2026-11-24 10:05:00\n欢迎光临\n"
            "tb_小鹿 2026-11-24 10:05:10\n发货了吗\n",
            2,
        ),
        # a title naming the same buyer starts that buyer's next session
        (
            "————————\n与 tb_大橘 的聊天记录\ntb_大橘 2026-11-24 15:00:00\n又来了\n"
            "柚子优选旗舰店:小雨 2026-11-24 15:00:10\n欢迎回来\n",
            2,
        ),
    ],
    ids=["main-account", "title-names-the-buyer"],
)
def test_held_text_before_the_shop_or_a_title_naming_the_buyer_separates(
    tmp_path: Path, after: str, chats: int
) -> None:
    path = tmp_path / "n_2026-11-24.txt"
    path.write_text(
        "tb_大橘 2026-11-24 10:00:01\n在吗\n柚子优选旗舰店 2026-11-24 10:00:03\n欢迎光临\n"
        "柚子优选旗舰店:小雨 2026-11-24 10:00:09\n在的亲\n" + after,
        encoding="utf-8",
    )
    result = read(path)
    assert_balanced(result)
    assert len(result.conversations) == chats
    first = min(result.conversations, key=lambda c: c.id)
    assert first.messages[-1].text == "在的亲"


def test_a_divider_label_that_starts_with_a_date_is_not_a_day_line(tmp_path: Path) -> None:
    path = tmp_path / "n10_2026-11-24.txt"
    path.write_text(
        "tb_大橘 10:00:00\n双十二有活动吗\n店:小雨 10:00:20\n有的亲\n———— 2026-12-12 零点开抢 ————\n"
        "tb_大橘 10:01:00\n好的\n",
        encoding="utf-8",
    )
    result = read(path)
    assert {m.sent_at.date() for c in result.conversations for m in c.messages} == {date(2026, 11, 24)}


@pytest.mark.parametrize(
    ("rows", "merged", "expected"),
    [
        # a merged 日期 dates the rows under it, and they roll over midnight
        (
            [("M1", "2026-11-24", "23:59:40"), ("M1", "", "23:59:50"), ("M1", "", "00:00:30")],
            ["B2:B4"],
            ["2026-11-24 23:59:40", "2026-11-24 23:59:50", "2026-11-25 00:00:30"],
        ),
        # a rollover right after the date, and a new date starting the clock again
        (
            [("A1", "2026-11-24", "23:59:50"), ("A1", "", "00:00:20"), ("A1", "2026-11-25", "00:10:00"),
             ("A1", "", "00:20:00")],
            ["B2:B3", "B4:B5"],
            ["2026-11-24 23:59:50", "2026-11-25 00:00:20", "2026-11-25 00:10:00", "2026-11-25 00:20:00"],
        ),
        # newest first, over two conversations: every row under the merged cell is on its day
        (
            [("a1", "2026-11-25", "10:20:00"), ("a1", "", "10:15:00"), ("b2", "", "10:00:09"),
             ("b2", "", "10:00:01")],
            ["B2:B5"],
            ["2026-11-25 10:00:01", "2026-11-25 10:00:09", "2026-11-25 10:15:00", "2026-11-25 10:20:00"],
        ),
    ],
    ids=["rows-under-it", "rollover-and-new-date", "newest-first-two-conversations"],
)  # fmt: skip
def test_a_merged_date_cell_dates_the_rows_under_it(
    tmp_path: Path, rows: list[tuple[str, str, str]], merged: list[str], expected: list[str]
) -> None:
    import openpyxl

    path = tmp_path / "merged_2026-11-23.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["会话ID", "日期", "时间", "角色", "发送人", "内容"])
    for n, (cid, day, clock) in enumerate(rows):
        cell = datetime.fromisoformat(day) if day else None  # an Excel date cell, or a merged one
        buyer = n % 2 == 1
        ws.append([cid, cell, datetime.strptime(clock, "%H:%M:%S").time(), "买家" if buyer else "客服",
                   "tb_a" if buyer else "店:小雨", f"第{n}句"])  # fmt: skip
    for cells in merged:
        ws.merge_cells(cells)
    wb.save(path)
    got = sorted(m.sent_at for c in read(path).conversations for m in c.messages)
    assert got == [datetime.fromisoformat(t).replace(tzinfo=SH) for t in expected]


def test_platform_notices_and_emoticon_codes_in_the_agents_column_are_the_platforms(tmp_path: Path) -> None:
    """JD puts its timeout notices and emoticon-only bubbles under the agent's name: an emoticon
    answered the buyer within seconds, split one turn in three and counted in the answer ratio."""
    from qc.scoring.metrics import conversation_metrics, conversation_turns

    agent = ("客服", "店:阿青")
    path = tmp_path / "jd.jsonl"
    path.write_text(
        _conversation_line(
            ("买家", "jd_小鹿", "2026-11-24 10:00:00", "发票怎么开"),
            (*agent, "2026-11-24 10:00:03", "#E-s33"),
            ("买家", "jd_小鹿", "2026-11-24 10:00:10", "在吗"),
            (*agent, "2026-11-24 10:00:12", " #E-s12 #E-s33 "),
            (*agent, "2026-11-24 10:00:30", "系统提示：尊敬的客户，客服还没有等到您的回复"),
            (*agent, "2026-11-24 10:00:56", "#E-s33 亲，下单时选电子发票就可以"),
        ),
        encoding="utf-8",
    )
    (conv,) = read(path).conversations
    assert [m.role for m in conv.messages] == [
        Role.CUSTOMER, Role.SYSTEM, Role.CUSTOMER, Role.SYSTEM, Role.SYSTEM, Role.AGENT
    ]  # fmt: skip
    (turn,) = conversation_turns(conv)
    assert (turn.first_index, turn.buyer_messages, turn.reply_index, turn.delay_s) == (0, 2, 5, 56.0)
    assert conversation_metrics(conv).agent_messages == 1


@pytest.mark.parametrize(
    ("text", "platform"),
    [
        ("系统提示：客服正在赶来", True),
        ("系统消息：买家已进入会话，正在为您转接", True),
        ("【系统提示】客服正在赶来，请稍候", True),
        ("[系统消息] 会话已转接", True),
        ("（系统通知）您有一条新消息", True),
        ("#E-s33#E-s12", True),
        ("亲，系统消息显示已经发货了", False),  # the agent quoting the system
        ("系统提示一下您哦", False),
    ],
)
def test_a_notice_in_the_agents_column_is_the_platforms_however_it_is_marked(text, platform):
    """Only a bare 系统提示： was the platform's: 【系统提示】… or 系统消息：… answered the buyer in
    2 s where the real reply took 50 s (audit 79, #5)."""
    from qc.readers.roles import is_platform_notice

    assert is_platform_notice(text) is platform


def _read_text(tmp_path: Path, name: str, text: str) -> list[tuple[str, str, str | None, str]]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    result = read(path)
    assert not result.rejects, result.rejects
    return [
        (c.id, m.role.value, m.sent_at.isoformat() if m.sent_at else None, m.text)
        for c in result.conversations
        for m in c.messages
    ]


def test_clock_only_lines_go_on_from_the_day_of_a_dated_line_before_them(tmp_path: Path) -> None:
    """买家(2026-11-24 23:59:50) then 买家(00:00:30): the clock-only lines took the file's day without
    rolling over, and landed before the chat's start (audit 81 #6)."""
    said = (
        "===== 会话 D1 =====\n买家(2026-11-24 23:59:50): 在吗\n"
        "柚子优选旗舰店:小满(2026-11-25 00:00:10): 在的\n"
        "买家(00:00:30): 跨天了\n柚子优选旗舰店:小满(00:00:40): 好\n"
    )
    for name in ("qianniu_2026-11-24.txt", "nodate.txt"):
        assert [at for _, _, at, _ in _read_text(tmp_path, name, said)] == [
            "2026-11-24T23:59:50+08:00",
            "2026-11-25T00:00:10+08:00",
            "2026-11-25T00:00:30+08:00",
            "2026-11-25T00:00:40+08:00",
        ], name


@pytest.mark.parametrize("marker", ["———— 以上是历史消息 ————", "以下为新消息", "【以上为历史消息】"])
def test_wangwangs_history_markers_neither_split_a_chat_nor_join_a_message(
    tmp_path: Path, marker: str
) -> None:
    """The dashed 以上是历史消息 split one chat in two (the buyer counted twice); the bare 以下为新消息
    was read as the end of the agent's reply (audit 81 #7)."""
    said = (
        "tb_大橘 2026-11-24 10:00:01\n在吗\n柚子优选旗舰店:小雨 2026-11-24 10:00:09\n在的亲\n"
        f"{marker}\n"
        "tb_大橘 2026-11-24 10:05:00\n发货了吗\n柚子优选旗舰店:小雨 2026-11-24 10:05:20\n今天发\n"
    )
    read_back = _read_text(tmp_path, "h.txt", said)
    assert [(cid, text) for cid, _, _, text in read_back] == [
        ("h", "在吗"),
        ("h", "在的亲"),
        ("h", "发货了吗"),
        ("h", "今天发"),
    ]


def test_a_date_line_between_rules_dates_the_clock_only_times_after_it(tmp_path: Path) -> None:
    """旺旺's classic layout: a 日期：2026-11-24 line framed by rules was a reject, and every time
    after it was dropped (audit 81 #8)."""
    rule = "=" * 64
    said = (
        f"{rule}\n日期：2026-11-24\n{rule}\n"
        "tb_大橘 (10:00:01):\n  在吗\n柚子优选旗舰店:小雨 (10:00:09):\n  在的\n  今天发货\n"
    )
    assert [(role, at, text) for _, role, at, text in _read_text(tmp_path, "wangwang.txt", said)] == [
        ("customer", "2026-11-24T10:00:01+08:00", "在吗"),
        ("agent", "2026-11-24T10:00:09+08:00", "在的\n今天发货"),
    ]


def test_two_files_that_give_one_id_to_different_buyers_are_warned_about(tmp_path: Path) -> None:
    """Per-agent exports numbering their chats 1, 2, 3 … merged two buyers' chats without a word
    (audit 81 #3); a chat cut at midnight across two files keeps its buyer, unwarned."""
    header = "会话ID,角色,发送人,时间,内容\n"
    (tmp_path / "a_小雨.csv").write_text(
        header + "1,买家,tb_a,2026-11-24 10:00:00,在吗\n1,客服,店:小雨,2026-11-24 10:00:09,在的\n", "utf-8"
    )
    (tmp_path / "b_小满.csv").write_text(
        header + "1,买家,tb_b,2026-11-24 15:00:00,有货吗\n1,客服,店:小满,2026-11-24 15:00:05,有的\n", "utf-8"
    )
    result = read(tmp_path / "a_小雨.csv", tmp_path / "b_小满.csv")
    assert warned(result, "give this id to different buyers", "inspect them apart")
    (tmp_path / "b_小满.csv").write_text(header + "1,买家,tb_a,2026-11-25 00:00:30,还在吗\n", "utf-8")
    result = read(tmp_path / "a_小雨.csv", tmp_path / "b_小满.csv")
    assert not any("different buyers" in w for w in result.warnings)


def test_a_header_wrapped_with_alt_enter_is_still_the_header(tmp_path: Path) -> None:
    """A 消息\\n内容 header cell (Alt+Enter in Excel) was no header, and the error quoted it over
    two lines (audit 81 #16)."""
    book = _workbook(
        tmp_path / "day_2026-11-24.xlsx",
        {
            "s": [
                ["会话ID", "角色", "发送\n时间", "消息\n内容"],
                ["W1", "买家", "2026-11-24 10:00:00", "在吗"],
            ]
        },
    )
    (conv,) = read(book).conversations
    assert [(m.text, m.sent_at is not None) for m in conv.messages] == [("在吗", True)]


@pytest.mark.parametrize("name", ["day.csv", "day.jsonl", "day.xlsx", "day.txt"])
def test_an_empty_file_is_skipped_with_a_warning(tmp_path: Path, name: str) -> None:
    """A 0-byte .xlsx, .csv or .jsonl passed without a word while an empty .txt was skipped with
    one: an empty export is usually a failed download (audit 81 #19)."""
    (tmp_path / name).write_bytes(b"")
    result = read(tmp_path / name)
    assert warned(result, "is empty (a failed download or copy?)")
    assert not result.conversations and not result.rejects


def test_a_csv_with_carriage_returns_only_is_read_line_by_line(tmp_path: Path) -> None:
    """Excel's "CSV (Macintosh)" ends lines with CR alone: the file read as one line, "no header
    row" (audit 81 #18)."""
    path = tmp_path / "mac.csv"
    rows = [
        "会话ID,角色,发送人,时间,内容",
        "M1,买家,b1,2026-11-24 10:00:00,在吗",
        "M1,客服,店:小王,2026-11-24 10:00:05,在的",
    ]
    path.write_bytes("\r".join(rows).encode("gbk") + b"\r")
    (conv,) = read(path).conversations
    assert [m.text for m in conv.messages] == ["在吗", "在的"]


def test_a_mac_csv_with_a_line_break_inside_a_cell_is_still_read_row_by_row(tmp_path: Path) -> None:
    """A cell's Alt+Enter line break is a line feed even in a CR-ended file: the one LF made
    the whole file read as LF-split, "no header row" and nothing read, exit 1 (audit 83 #5)."""
    path = tmp_path / "mac.csv"
    rows = [
        "会话ID,角色,发送人,时间,内容",
        "M1,买家,b1,2026-11-24 10:00:00,在吗",
        'M1,客服,店:小王,2026-11-24 10:00:05,"在的亲\n请问有什么可以帮您"',
        "M1,买家,b1,2026-11-24 10:00:20,有货吗",
    ]
    path.write_bytes("\r".join(rows).encode("utf-8") + b"\r")
    (conv,) = read(path).conversations
    assert [m.text for m in conv.messages] == ["在吗", "在的亲\n请问有什么可以帮您", "有货吗"]


def test_a_small_mac_csv_whose_cell_holds_more_line_feeds_than_it_has_rows_is_read(tmp_path: Path) -> None:
    """Three line breaks in one address cell outnumbered the file's two CR-ended rows: read as
    LF-split, no header, nothing read (audit 87 M6). Line feeds all inside quotes are cell text."""
    path = tmp_path / "mac.csv"
    rows = [
        "会话ID,角色,发送人,时间,内容",
        'M1,买家,b1,2026-11-24 10:00:00,"地址：\n杭州市\n西湖区\n文三路"',
        "M1,客服,店:小王,2026-11-24 10:00:05,好的亲",
    ]
    path.write_bytes("\r".join(rows).encode("gbk") + b"\r")
    (conv,) = read(path).conversations
    assert [m.text for m in conv.messages] == ["地址：\n杭州市\n西湖区\n文三路", "好的亲"]


def test_a_buyer_message_in_two_exports_that_name_the_buyer_differently_is_read_once(tmp_path: Path) -> None:
    """The CSV names the buyer tb_大橘, the text export 买家: each buyer message of the chat in
    both files was read twice, two questions for every one asked (audit 81 #13)."""
    (tmp_path / "a.csv").write_text(
        "会话ID,角色,发送人,时间,内容\n"
        "K1,买家,tb_大橘,2026-11-24 10:00:05,在吗\n"
        "K1,客服,店A:小王,2026-11-24 10:00:20,在的亲\n",
        encoding="utf-8",
    )
    (tmp_path / "a.txt").write_text(
        "===== 会话 K1 =====\n买家(10:00:05): 在吗\n店A:小王(10:00:20): 在的亲\n买家(10:01:05): 有货吗\n",
        encoding="utf-8",
    )
    result = read(tmp_path / "a.csv", tmp_path / "a.txt", date=date(2026, 11, 24))
    (conv,) = result.conversations
    assert [(m.role.value, m.text) for m in conv.messages] == [
        ("customer", "在吗"),
        ("agent", "在的亲"),
        ("customer", "有货吗"),
    ]
    assert [r.reason for r in result.rejects] == [
        f"exact duplicate of {tmp_path / 'a.csv'}:2",
        f"exact duplicate of {tmp_path / 'a.csv'}:3",
    ]


def test_a_nick_in_brackets_is_the_nick(tmp_path: Path) -> None:
    """【柚子优选旗舰店:小雨】 was a second agent, of a shop named 【柚子优选旗舰店 (audit 81 #12)."""
    said = "【tb_大橘】 2026-11-24 10:00:01\n在吗\n【柚子优选旗舰店:小雨】 2026-11-24 10:00:09\n在的亲\n"
    path = tmp_path / "h.txt"
    path.write_text(said, encoding="utf-8")
    (conv,) = read(path).conversations
    assert [(m.role.value, m.sender) for m in conv.messages] == [
        ("customer", "tb_大橘"),
        ("agent", "柚子优选旗舰店:小雨"),
    ]
    assert conv.shop == "柚子优选旗舰店"


def test_a_conversation_id_merged_over_its_rows_is_read_for_each_row(tmp_path: Path) -> None:
    """QA sheets merge the 会话ID cell over a conversation's rows: every row but the first was a
    reject, "missing conversation_id", with no fix (audit 81 #10)."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(_HEADER)
    ws.append(["X1", "买家", "b1", "2026-11-24 10:00:00", "在吗"])
    ws.append([None, "客服", "店:小王", "2026-11-24 10:00:05", "在的"])
    ws.append(["X2", "买家", "b2", "2026-11-24 11:00:00", "有货吗"])
    ws.append([None, "客服", "店:小王", "2026-11-24 11:00:04", "有的"])
    ws.merge_cells("A2:A3")
    ws.merge_cells("A4:A5")
    wb.save(tmp_path / "merged.xlsx")
    result = read(tmp_path / "merged.xlsx")
    assert not result.rejects
    assert [(c.id, [m.text for m in c.messages]) for c in result.conversations] == [
        ("X1", ["在吗", "在的"]),
        ("X2", ["有货吗", "有的"]),
    ]
    # The merge says whose the rows are: nothing was guessed, so nothing is said.
    assert not warned(result, "empty 会话ID")


def test_an_empty_conversation_id_outside_a_merge_takes_the_id_above_with_a_warning(tmp_path: Path) -> None:
    """An id left empty (not merged) is still read as the row above's, and the warning says so."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(_HEADER)
    ws.append(["X1", "买家", "b1", "2026-11-24 10:00:00", "在吗"])
    ws.append([None, "客服", "店:小王", "2026-11-24 10:00:05", "在的"])
    wb.save(tmp_path / "empty_id.xlsx")
    result = read(tmp_path / "empty_id.xlsx")
    assert [(c.id, len(c.messages)) for c in result.conversations] == [("X1", 2)]
    assert warned(result, "1 row(s) with an empty 会话ID took the id of the row above")


def test_role_and_sender_cells_merged_over_an_agents_replies_are_read_for_each_row(tmp_path: Path) -> None:
    """A 角色 and 发送人 merged over three replies in a row left two without a role or sender:
    each was refused, and the buyer waited on a reply qc never saw (audit 154 M2)."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(_HEADER)
    ws.append(["X1", "买家", "b1", "2026-11-24 10:00:00", "这个有蓝色吗"])
    ws.append(["X1", "客服", "店:小王", "2026-11-24 10:00:05", "有的亲"])
    ws.append(["X1", None, None, "2026-11-24 10:00:09", "蓝色是新到的"])
    ws.append(["X1", None, None, "2026-11-24 10:00:14", "今天下单明天发"])
    ws.append(["X1", "买家", "b1", "2026-11-24 10:01:00", "好的"])
    ws.merge_cells("B3:B5")
    ws.merge_cells("C3:C5")
    wb.save(tmp_path / "roles.xlsx")
    result = read(tmp_path / "roles.xlsx")
    assert not result.rejects
    (conv,) = result.conversations
    assert [(m.role.value, m.sender, m.text) for m in conv.messages][1:4] == [
        ("agent", "店:小王", "有的亲"),
        ("agent", "店:小王", "蓝色是新到的"),
        ("agent", "店:小王", "今天下单明天发"),
    ]


def test_a_role_column_left_empty_without_a_merge_is_still_refused(tmp_path: Path) -> None:
    """Only a merge says the cell above stands for the row: an empty role is no guess."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(_HEADER)
    ws.append(["X1", "客服", "店:小王", "2026-11-24 10:00:05", "有的亲"])
    ws.append(["X1", None, None, "2026-11-24 10:00:09", "蓝色是新到的"])
    wb.save(tmp_path / "empty_role.xlsx")
    result = read(tmp_path / "empty_role.xlsx")
    assert [r.line for r in result.rejects] == [3]


def test_a_text_merged_over_rows_is_one_message_and_a_row_of_its_own_under_it_is_refused(
    tmp_path: Path,
) -> None:
    """A text merged over two rows is one message, read once from its top; a row under it with a
    time of its own is two messages sharing one text, refused with the fix."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(_HEADER)
    ws.append(["X1", "买家", "b1", "2026-11-24 10:00:00", "发什么快递"])
    ws.append(["X1", "客服", "店:小王", "2026-11-24 10:00:05", "默认中通哦"])
    ws.append([None, None, None, None, None])
    ws.append(["X1", "客服", "店:小王", "2026-11-24 10:00:30", "也可以发顺丰"])
    ws.append(["X1", "客服", "店:小王", "2026-11-24 10:00:40", None])
    ws.merge_cells("A3:A4")
    ws.merge_cells("B3:B4")
    ws.merge_cells("C3:C4")
    ws.merge_cells("D3:D4")
    ws.merge_cells("E3:E4")
    ws.merge_cells("E5:E6")
    wb.save(tmp_path / "texts.xlsx")
    result = read(tmp_path / "texts.xlsx")
    (conv,) = result.conversations
    assert [m.text for m in conv.messages] == ["发什么快递", "默认中通哦", "也可以发顺丰"]
    (reject,) = result.rejects
    assert reject.line == 6 and "the text cell is merged with the row above" in reject.reason


def test_a_group_header_merged_across_columns_fills_no_other_column(tmp_path: Path) -> None:
    """A merge across the columns of one row (a group header above the header) is no value of the
    columns beside its first."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["会话", None, None, "消息", None])
    ws.append(_HEADER)
    ws.append(["X1", "买家", "b1", "2026-11-24 10:00:00", "在吗"])
    ws.merge_cells("A1:C1")
    ws.merge_cells("D1:E1")
    wb.save(tmp_path / "group.xlsx")
    result = read(tmp_path / "group.xlsx")
    assert [(c.id, [m.text for m in c.messages]) for c in result.conversations] == [("X1", ["在吗"])]


@pytest.mark.parametrize("in_time_column", [True, False], ids=["date-and-time-number", "date-column-number"])
def test_plain_number_dates_of_a_1904_workbook_count_from_1904(tmp_path: Path, in_time_column: bool) -> None:
    """A workbook saved with 1904 dates keeps a date whose format was reset as days since
    1904-01-01: read as the 1900 system's, the chat was dated 2022-11-23 (audit 154 M7)."""
    import openpyxl
    from openpyxl.utils.datetime import CALENDAR_MAC_1904

    wb = openpyxl.Workbook()
    wb.epoch = CALENDAR_MAC_1904
    ws = wb.active
    ws.append([*_HEADER, "日期"])
    day_1904 = (date(2026, 11, 24) - date(1904, 1, 1)).days  # 44,887
    # 2026-11-24 10:00 as a number (days and a fraction), or its day alone beside a clock.
    first = day_1904 + 10 / 24 if in_time_column else "10:00:00"
    ws.append(["X1", "买家", "b1", first, "在吗", day_1904])
    ws.append(["X1", "客服", "店:小王", "10:00:06", "在的", day_1904])
    wb.save(tmp_path / "mac.xlsx")
    result = read(tmp_path / "mac.xlsx")
    assert not result.rejects
    (conv,) = result.conversations
    assert [m.sent_at for m in conv.messages] == [
        datetime(2026, 11, 24, 10, 0, 0, tzinfo=SH),
        datetime(2026, 11, 24, 10, 0, 6, tzinfo=SH),
    ]


def test_a_date_cell_of_a_1904_workbook_is_read_as_openpyxl_reads_it(tmp_path: Path) -> None:
    """A formatted date cell is converted by openpyxl by the workbook's own system: not shifted again."""
    import openpyxl
    from openpyxl.utils.datetime import CALENDAR_MAC_1904

    wb = openpyxl.Workbook()
    wb.epoch = CALENDAR_MAC_1904
    ws = wb.active
    ws.append(_HEADER)
    ws.append(["X1", "买家", "b1", datetime(2026, 11, 24, 10, 0, 0), "在吗"])
    wb.save(tmp_path / "mac_dates.xlsx")
    (conv,) = read(tmp_path / "mac_dates.xlsx").conversations
    assert conv.messages[0].sent_at == datetime(2026, 11, 24, 10, 0, 0, tzinfo=SH)


def test_a_date_line_or_a_chat_paste_inside_a_message_stays_its_text(tmp_path: Path) -> None:
    """A 日期：2026-12-12 line inside an agent's reply cut the reply and moved the rest of the chat
    18 days on; a buyer's 以下是聊天记录 was dropped as a platform marker (audit 83 #4)."""
    said = (
        "tb_大橘 2026-11-24 10:00:01\n什么时候发货\n"
        "柚子优选旗舰店:小雨 2026-11-24 10:00:09\n亲，预计发货\n日期：2026-12-12\n请耐心等待\n"
        "tb_大橘 2026-11-24 10:01:00\n以下是聊天记录\n上次说好的\n"
    )
    read_back = _read_text(tmp_path, "h.txt", said)
    assert [(at, text) for _, _, at, text in read_back] == [
        ("2026-11-24T10:00:01+08:00", "什么时候发货"),
        ("2026-11-24T10:00:09+08:00", "亲，预计发货\n日期：2026-12-12\n请耐心等待"),
        ("2026-11-24T10:01:00+08:00", "以下是聊天记录\n上次说好的"),
    ]


def test_an_empty_json_lines_file_is_skipped_with_a_warning_when_streamed_too(tmp_path: Path) -> None:
    """qc inspect reads JSON Lines as a stream: an empty .jsonl passed there without a word (audit
    83 #6)."""
    from qc.readers.stream import StreamRead, stream_inputs

    (tmp_path / "day.jsonl").write_bytes(b"\n\n")
    streamed = StreamRead()
    assert list(stream_inputs([tmp_path / "day.jsonl"], ReadOptions(), streamed)) == []
    assert any("is empty (a failed download or copy?)" in w for w in streamed.result.warnings)


def test_a_cover_sheet_before_a_hidden_data_sheet_says_to_unhide_it(tmp_path: Path) -> None:
    """The error named only the cover sheet and suggested --column, and a header below row 10 got a
    --column fix that could not work (audit 81 #16)."""
    book = _workbook(
        tmp_path / "day_2026-11-24.xlsx",
        {
            "封面": [["聊天记录导出"], ["导出人", "小王"]],
            "数据": [_HEADER, ["W1", "买家", "b1", "2026-11-24 10:00:00", "在吗"]],
        },
        hidden=("数据",),
    )
    result = read(book)
    (failed,) = [f for f in result.files if f.error]
    assert "hidden sheet(s) '数据' not read: unhide the one holding the chats" in failed.error
    assert "the header must be within the first 10 rows" in failed.error


def test_a_buyer_nick_with_a_smiley_after_a_colon_is_no_shops_agent(tmp_path: Path) -> None:
    """Amy:) was the agent ')' of a new shop 'amy', and the real agent was filed under that shop
    (audit 81 #9)."""
    said = (
        "Amy:) 2026-11-24 10:00:01\n在吗\n柚子优选旗舰店:小雨 2026-11-24 10:00:09\n在的亲\n"
        "Amy:) 2026-11-24 10:01:00\n好的\n"
    )
    path = tmp_path / "c1.txt"
    path.write_text(said, encoding="utf-8")
    result = read(path)
    (conv,) = result.conversations
    assert [m.role.value for m in conv.messages] == ["customer", "agent", "customer"]
    assert conv.shop == "柚子优选旗舰店" and not any("shops" in w for w in result.warnings)


@pytest.mark.parametrize("pretty", [False, True], ids=["line", "document"])
def test_a_conversation_whose_messages_sit_under_another_key_says_so(tmp_path: Path, pretty: bool) -> None:
    """{"conversation_id": "K2", "msg_list": [...]} was one message without text: one reject,
    "empty text", for a whole conversation (audit 81 #14)."""
    import json

    record = {
        "conversation_id": "K2",
        "msg_list": [
            {"role": "买家", "text": "在吗", "timestamp": "2026-11-24 10:00:00"},
            {"role": "客服", "text": "在的", "timestamp": "2026-11-24 10:00:05"},
        ],
    }
    path = tmp_path / "conv.json"
    path.write_text(json.dumps(record, ensure_ascii=False, indent=2 if pretty else None) + "\n", "utf-8")
    result = read(path)
    (reject,) = result.rejects
    assert (
        'key "msg_list" holds a list of objects' in reject.reason
        and 'name that list "messages"' in reject.reason
    )
    assert "empty text" not in reject.reason


def test_a_duration_clock_cell_is_its_time_of_day_and_a_zero_date_cell_is_refused(tmp_path: Path) -> None:
    """A [h]:mm:ss cell (a duration to openpyxl) was refused with no fix; a 0 in a date-time cell
    was read as 00:00 of the file's day and opened the chat with a 12-hour reply (audit 81 #4,
    #17)."""
    from datetime import time, timedelta

    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["会话ID", "角色", "日期", "时间", "内容"])
    ws.append(["T", "买家", "2026-11-24", time(10, 0, 1), "在吗"])
    ws.append(["T", "客服", "2026-11-24", timedelta(hours=10, seconds=9), "在的"])
    ws["D3"].number_format = "[h]:mm:ss"
    ws.append(["Z", "买家", None, 0, "空的日期单元格"])
    ws["D4"].number_format = "yyyy-mm-dd hh:mm:ss"
    ws.append(["Z", "客服", None, datetime(2026, 11, 24, 12, 0), "您好"])
    wb.save(tmp_path / "day_2026-11-24.xlsx")
    result = read(tmp_path / "day_2026-11-24.xlsx")
    by_id = {c.id: c for c in result.conversations}
    assert [m.sent_at for m in by_id["T"].messages] == [
        datetime(2026, 11, 24, 10, 0, 1, tzinfo=SH),
        datetime(2026, 11, 24, 10, 0, 9, tzinfo=SH),
    ]
    (reject,) = result.rejects
    assert reject.line == 4 and "1899" in reject.reason
    assert [m.text for m in by_id["Z"].messages] == ["您好"]


# ------------------------------------------------------------ text exports, audit 91 (#1-#4)


def _chat(result: ReadResult) -> list[tuple[str, str, str]]:
    """Every message as (role, time, text), in conversation and message order."""
    return [
        (m.role.value, m.sent_at.strftime("%m-%d %H:%M:%S") if m.sent_at else "", m.text)
        for c in sorted(result.conversations, key=lambda c: c.id)
        for m in c.messages
    ]


def test_fractional_seconds_are_read_in_both_text_layouts(tmp_path: Path) -> None:
    """10:00:21.350 was no time: a reply went into the buyer's message and the next was timed at
    18,349 s; an inline file was skipped as no chat export."""
    header = tmp_path / "a_2026-11-24.txt"
    header.write_text(
        "tb_松果 2026/11/24 10:00:01\n你们几点下班\n暖阳小铺:阿青 2026/11/24 10:00:21.350\n晚上十一点哦\n",
        encoding="utf-8",
    )
    inline = tmp_path / "b_2026-11-24.txt"
    inline.write_text(
        "tb_松果(10:00:00.120)：你们几点下班\n暖阳小铺:阿青(10:00:21,350)：晚上十一点哦\n", encoding="utf-8"
    )
    for path in (header, inline):
        result = read(path)
        assert_balanced(result)
        assert [(role, text) for role, _, text in _chat(result)] == [
            ("customer", "你们几点下班"),
            ("agent", "晚上十一点哦"),
        ], path.name
        assert _chat(result)[1][1] == "11-24 10:00:21"


def test_a_day_alone_on_its_line_dates_the_times_after_it(tmp_path: Path) -> None:
    """2026年11月24日 星期二 over a day's messages was a reject and left every time empty; the
    next day's line went into the buyer's message."""
    path = tmp_path / "ww.txt"
    path.write_text(
        "2026年11月24日 星期二\ntb_山间小路（23:58:00）：你好 还能发货吗\n"
        "暖阳小铺：阿青（23:58:20）：亲，今天的已经截单了\n"
        "tb_山间小路（23:59:50）：那明天呢\n2026年11月25日 星期三\n"
        "暖阳小铺：阿青（00:00:30）：明天上午发出哦\n",
        encoding="utf-8",
    )
    result = read(path)
    assert_balanced(result)
    assert reasons(result) == [] and not result.warnings
    assert [(when, text) for _, when, text in _chat(result)] == [
        ("11-24 23:58:00", "你好 还能发货吗"),
        ("11-24 23:58:20", "亲，今天的已经截单了"),
        ("11-24 23:59:50", "那明天呢"),
        ("11-25 00:00:30", "明天上午发出哦"),
    ]


def test_a_date_alone_inside_a_reply_that_is_no_next_day_stays_its_text(tmp_path: Path) -> None:
    path = tmp_path / "d_2026-11-24.txt"
    path.write_text(
        "tb_a(10:00:00)：哪天到\n店:阿青(10:00:10)：预计这天到\n2026-12-12\ntb_a(10:01:00)：好\n",
        encoding="utf-8",
    )
    result = read(path)
    assert [text for _, _, text in _chat(result)] == ["哪天到", "预计这天到\n2026-12-12", "好"]
    assert _chat(result)[2][1] == "11-24 10:01:00"


def test_notices_and_titles_under_an_inline_message_are_not_its_text(tmp_path: Path) -> None:
    """【系统提示】买家已离开会话 under a bare 哦 became the agent's text (and the 哦 went uncharged);
    与 tb_海风 的聊天记录 glued the next buyer's chat onto the reply above it."""
    path = tmp_path / "log_2026-11-24.txt"
    path.write_text(
        "与 tb_松果 的聊天记录\ntb_松果(10:00:00)：这个有货吗\n暖阳小铺:阿青(10:00:10)：哦\n"
        "【系统提示】买家已离开会话\n"
        "与 tb_海风 的聊天记录\ntb_海风(10:00:40)：我的快递到哪了\n暖阳小铺:阿青(10:03:00)：亲，已到杭州\n",
        encoding="utf-8",
    )
    result = read(path)
    assert_balanced(result)
    assert reasons(result) == []
    assert len(result.conversations) == 2
    first, second = sorted(result.conversations, key=lambda c: c.messages[0].sent_at)
    assert [(m.role.value, m.text) for m in first.messages] == [
        ("customer", "这个有货吗"),
        ("agent", "哦"),
        ("system", "【系统提示】买家已离开会话"),
    ]
    assert [m.text for m in second.messages] == ["我的快递到哪了", "亲，已到杭州"]


def test_a_list_of_rules_with_times_in_an_agents_reply_stays_the_reply(tmp_path: Path) -> None:
    """截单时间(16:00)：当天发出 inside 阿青's reply was a new buyer's message, and the reply was
    cut to its first line (charged as impatience)."""
    path = tmp_path / "k_2026-11-24.txt"
    path.write_text(
        "tb_松果(10:00:00)：什么时候发货\n暖阳小铺:阿青(10:00:15)：亲，发货规则如下\n截单时间(16:00)：当天发出\n"
        "周末(10:00)：次日发出\ntb_松果(10:01:00)：好的\n",
        encoding="utf-8",
    )
    result = read(path)
    assert_balanced(result)
    assert [(role, text) for role, _, text in _chat(result)] == [
        ("customer", "什么时候发货"),
        ("agent", "亲，发货规则如下\n截单时间(16:00)：当天发出\n周末(10:00)：次日发出"),
        ("customer", "好的"),
    ]


def test_the_shops_bot_written_as_a_sub_account_is_its_bot(tmp_path: Path) -> None:
    """暖阳小铺:店小蜜 was scored as a human agent answering in 1 s, and 阿青's 150 s reply went
    untimed (audit 91 #7)."""
    path = tmp_path / "bot_2026-11-24.txt"
    path.write_text(
        "tb_松果(10:00:00)：在吗\n暖阳小铺:店小蜜(10:00:01)：亲亲，欢迎光临\n"
        "tb_松果(10:00:30)：这个杯子能进洗碗机吗\n暖阳小铺:阿青(10:02:30)：亲，可以的\n",
        encoding="utf-8",
    )
    (conv,) = read(path).conversations
    assert [(m.role.value, m.auto_reply, m.counts_as_agent) for m in conv.messages] == [
        ("customer", False, False),
        ("agent", True, False),
        ("customer", False, False),
        ("agent", False, True),
    ]


def test_a_conversation_id_holding_a_phone_is_masked_in_warnings(tmp_path: Path) -> None:
    """Warnings reach the terminal and run.json: a phone used as conversation id was printed whole
    (audit 91 #12); an order-like id stays whole, to find the chat by."""
    rows = [
        {
            "conversation_id": cid,
            "role": role,
            "sender": who,
            "timestamp": f"2026-11-24T10:00:{sec}+08:00",
            "text": "在吗",
        }
        for cid in ("13812345678", "c20261124_000001")
        for role, who, sec in (("agent", "店:阿青", "30"), ("customer", "b1", "00"))
    ]
    path = tmp_path / "p.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    shown = " ".join(read(path).warnings)
    assert "13812345678" not in shown and "conversation [电话]" in shown
    assert "conversation c20261124_000001" in shown


def test_a_sheet_whose_time_or_sender_column_qc_does_not_know_says_so(tmp_path: Path) -> None:
    """A time or sender column under a name qc does not read left every time empty and every
    agent 'unknown', with exit 0 and no word (audit 91 #5); common API names are read."""
    odd = tmp_path / "odd.csv"
    odd.write_text(
        "会话ID,角色,客服名字,创建时刻,内容\nD1,买家,,2026-11-24 10:00:00,能今天发吗\n"
        "D1,客服,阿青,2026-11-24 10:03:00,可以的\n",
        encoding="utf-8",
    )
    said = " ".join(read(odd).warnings)
    assert "odd.csv: no row gives a time" in said and "--column timestamp=HEADER" in said
    assert "no agent row names its agent" in said and "--column sender=HEADER" in said
    named = tmp_path / "api.csv"
    named.write_text(
        "会话ID,角色,from_nick,create_time,内容\nD1,买家,b1,2026-11-24 10:00:01,能今天发吗\n"
        "D1,客服,店:阿青,2026-11-24 10:03:05,可以的\n",
        encoding="utf-8",
    )
    result = read(named)
    assert not result.warnings
    (conv,) = result.conversations
    assert [(m.sender, m.sent_at is not None) for m in conv.messages] == [("b1", True), ("店:阿青", True)]


def test_two_buyers_in_one_chat_of_one_file_are_warned_about(tmp_path: Path) -> None:
    """One agent's log without dividers read two buyers as one conversation: the second buyer's
    140 s wait was never timed, without a word (audit 91 #6)."""
    path = tmp_path / "agent_2026-11-24.txt"
    path.write_text(
        "tb_松果 2026-11-24 10:00:00\n这个有货吗\ntb_海风 2026-11-24 10:00:40\n我的快递到哪了\n"
        "暖阳小铺:阿青 2026-11-24 10:00:50\n有货的亲\n暖阳小铺:阿青 2026-11-24 10:03:00\n亲，已到杭州\n",
        encoding="utf-8",
    )
    said = " ".join(read(path).warnings)
    assert "holds messages of 2 buyers (tb_松果, tb_海风), read as one conversation" in said
    assert "put a divider line" in said
    # a sheet whose rows name their conversation is not warned about, nor a nick's case (audit 92 #9)
    sheet = tmp_path / "ids.csv"
    sheet.write_text(
        "会话ID,时间,角色,发送人,内容\nS1,2026-11-24 10:00:00,买家,b1,在吗\n"
        "S1,2026-11-24 10:00:05,买家,b2,我也问\n"
        "S1,2026-11-24 10:00:20,客服,店:阿青,在的\n",
        encoding="utf-8",
    )
    assert not read(sheet).warnings
    case = tmp_path / "case_2026-11-24.txt"
    case.write_text(
        "TB_Song(10:00:00)：在吗\n店:阿青(10:00:10)：在的\ntb_song(10:00:20)：好\n", encoding="utf-8"
    )
    assert not read(case).warnings


def test_a_recalled_message_notice_is_the_platforms_in_any_column(tmp_path: Path) -> None:
    """A buyer's [撤回了一条消息] was a buyer turn, the agent's next reply timed from it; the
    agent's recall line under a message was its text (audit 91 #19, #4)."""
    path = tmp_path / "r_2026-11-24.txt"
    path.write_text(
        "tb_山间小路(10:00:00)：在吗\n暖阳小铺:阿蓝(10:00:20)：在的\n暖阳小铺:阿蓝 撤回了一条消息\n"
        "tb_山间小路(10:02:00)：[撤回了一条消息]\n暖阳小铺:阿蓝(10:02:30)：亲，还在吗\n",
        encoding="utf-8",
    )
    result = read(path)
    assert_balanced(result)
    assert [(role, text) for role, _, text in _chat(result)] == [
        ("customer", "在吗"),
        ("agent", "在的"),
        ("system", "暖阳小铺:阿蓝 撤回了一条消息"),
        ("system", "[撤回了一条消息]"),
        ("agent", "亲，还在吗"),
    ]


def test_an_excel_time_kept_as_a_fraction_of_a_day_is_that_time(tmp_path: Path) -> None:
    """A time cell whose format was reset holds 0.5 for 12:00: beside a 日期 column it was read
    as epoch seconds, 1970, and the row rejected (audit 91 #9)."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["会话ID", "日期", "时间", "角色", "发送人", "内容"])
    ws.append(["X1", date(2026, 11, 24), 0.5, "买家", "b1", "在吗"])
    ws.append(["X1", date(2026, 11, 24), 0.500405092592593, "客服", "店:阿青", "在的"])
    path = tmp_path / "serial.xlsx"
    wb.save(path)
    result = read(path)
    assert reasons(result) == []
    (conv,) = result.conversations
    assert [m.sent_at.strftime("%Y-%m-%d %H:%M:%S") for m in conv.messages if m.sent_at] == [
        "2026-11-24 12:00:00",
        "2026-11-24 12:00:35",
    ]


def test_a_workbook_of_one_sheet_per_day_dates_each_sheets_times(tmp_path: Path) -> None:
    """Sheets 2026-11-24 and 2026-11-25 of one workbook all took the file name's day for their
    clock-only times: the second day's chats were scored on the first (audit 91 #10)."""
    from openpyxl import Workbook

    wb = Workbook()
    for n, title in enumerate(("2026-11-24", "2026-11-25")):
        ws = wb.active if n == 0 else wb.create_sheet()
        assert ws is not None
        ws.title = title
        ws.append(["会话ID", "时间", "角色", "发送人", "内容"])
        ws.append([f"H{n}", "09:00:00", "买家", "b1", "在吗"])
        ws.append([f"H{n}", "09:00:20", "客服", "店:阿青", "在的"])
    path = tmp_path / "perday_2026-11-24.xlsx"
    wb.save(path)
    starts = {c.id: c.messages[0].sent_at.date().isoformat() for c in read(path).conversations}
    assert starts == {"H0": "2026-11-24", "H1": "2026-11-25"}
    # --date still dates every sheet
    forced = {
        c.id: c.messages[0].sent_at.date().isoformat()
        for c in read(path, date=date(2026, 11, 30)).conversations
    }
    assert forced == {"H0": "2026-11-30", "H1": "2026-11-30"}


def test_a_date_under_a_message_is_its_text_and_a_weekday_header_any_later_day(tmp_path: Path) -> None:
    """A buyer's 2026-11-25 alone on a line (deliver by) moved every later time a day and made a
    24 h slow reply; a day header three days on was glued onto a reply and the times invented
    (audit 92 #1, #5)."""
    path = tmp_path / "t1_2026-11-24.txt"
    path.write_text(
        "tb_松果(10:00:01)：这天之前能送到吗\n2026-11-25\n柚子铺:阿青(10:00:40)：亲，可以的\n"
        "2026年11月27日 星期五\ntb_松果(09:00:00)：收到了\n柚子铺:阿青(09:00:30)：好的亲\n",
        encoding="utf-8",
    )
    result = read(path)
    assert reasons(result) == []
    assert _chat(result) == [
        ("customer", "11-24 10:00:01", "这天之前能送到吗\n2026-11-25"),
        ("agent", "11-24 10:00:40", "亲，可以的"),
        ("customer", "11-27 09:00:00", "收到了"),
        ("agent", "11-27 09:00:30", "好的亲"),
    ]


def test_a_new_buyer_whose_time_is_written_another_way_opens_a_message(tmp_path: Path) -> None:
    """tb_急性子(10:03) after 阿青(10:01:05) was taken as a line of 阿青's reply, and the buyer's
    爱买不买 charged to the agent (audit 92 #2)."""
    path = tmp_path / "t4_2026-11-24.txt"
    path.write_text(
        "tb_松果(10:01:00)：好\n柚子铺:阿青(10:01:05)：好的亲，还有其他问题吗\n"
        "tb_急性子(10:03)：你们爱买不买是吧\n小仙女(10:03)：在吗\n柚子铺:阿青(10:03:30)：亲，非常抱歉\n",
        encoding="utf-8",
    )
    assert [(role, text) for role, _, text in _chat(read(path))] == [
        ("customer", "好"),
        ("agent", "好的亲，还有其他问题吗"),
        ("customer", "你们爱买不买是吧"),
        ("customer", "在吗"),
        ("agent", "亲，非常抱歉"),
    ]


def test_a_notice_inside_a_reply_leaves_the_rest_of_the_reply_the_agents(tmp_path: Path) -> None:
    """#E-s33 on a line of 阿青's reply made the rest of it a system message: her rude line was
    no longer hers (audit 92 #4). Only notices at the end of a message are the platform's."""
    path = tmp_path / "t5_2026-11-24.txt"
    path.write_text(
        "tb_松果(10:00:00)：到哪了\n柚子铺:阿青(10:00:20)：亲亲稍等\n#E-s33\n你烦不烦啊，催什么催\n"
        "【系统提示】买家已离开会话\n",
        encoding="utf-8",
    )
    assert [(role, text) for role, _, text in _chat(read(path))] == [
        ("customer", "到哪了"),
        ("agent", "亲亲稍等\n#E-s33\n你烦不烦啊，催什么催"),
        ("system", "【系统提示】买家已离开会话"),
    ]


def test_a_title_like_line_inside_a_block_message_is_its_text(tmp_path: Path) -> None:
    """与你们客服的聊天 in a buyer's message split the conversation (audit 92 #7): a title is 与 X
    的聊天记录, between messages."""
    path = tmp_path / "t9_2026-11-24.txt"
    path.write_text(
        "tb_松果 2026-11-24 10:00:00\n我截图了\n与你们客服的聊天记录\n都在这\n"
        "柚子铺:阿青 2026-11-24 10:00:30\n好的亲\n",
        encoding="utf-8",
    )
    result = read(path)
    assert reasons(result) == [] and len(result.conversations) == 1
    assert _chat(result)[0][2] == "我截图了\n与你们客服的聊天记录\n都在这"


def test_api_names_are_read_only_where_no_other_column_names_the_field(tmp_path: Path) -> None:
    """A session's 创建时间 before the messages' 发送时间 gave every message the session's time:
    5-minute replies read 0 s (audit 92 #3). Such names are read only where nothing else is."""
    both = tmp_path / "both.csv"
    both.write_text(
        "会话ID,创建时间,发送时间,角色,发送人,内容\n"
        "S1,2026-11-24 09:00:00,2026-11-24 10:00:01,买家,b1,在吗\n"
        "S1,2026-11-24 09:00:00,2026-11-24 10:05:02,客服,店:阿青,在的\n",
        encoding="utf-8",
    )
    (conv,) = read(both).conversations
    assert [m.sent_at.strftime("%H:%M:%S") for m in conv.messages if m.sent_at] == ["10:00:01", "10:05:02"]
    dump = tmp_path / "dump.jsonl"
    rows = [
        {"session_id": "S1", "create_time": "2026-11-24 09:00:00", "send_time": f"2026-11-24 10:0{n}:01",
         "role": role, "from_user": who, "text": "在"}
        for n, (role, who) in enumerate((("customer", "b1"), ("agent", "店:阿青")))
    ]  # fmt: skip
    dump.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    (conv,) = read(dump).conversations
    assert [(m.sender, m.sent_at.strftime("%H:%M:%S")) for m in conv.messages if m.sent_at] == [
        ("b1", "10:00:01"),
        ("店:阿青", "10:01:01"),
    ]


def test_the_bot_in_a_sheet_with_a_role_column_is_an_auto_reply(tmp_path: Path) -> None:
    """角色 客服 and 发送人 店:店小蜜: the bot's 1 s reply was timed as the agent's (audit 92 #6)."""
    sheet = tmp_path / "bot.csv"
    sheet.write_text(
        "会话ID,时间,角色,发送人,内容\n"
        "B1,2026-11-24 10:00:00,买家,b1,在吗\n"
        "B1,2026-11-24 10:00:01,客服,柚子铺:店小蜜,亲亲，欢迎光临\n"
        "B1,2026-11-24 10:03:00,客服,柚子铺:阿青,在的亲\n",
        encoding="utf-8",
    )
    (conv,) = read(sheet).conversations
    assert [(m.sender, m.auto_reply) for m in conv.messages if m.role is Role.AGENT] == [
        ("柚子铺:店小蜜", True),
        ("柚子铺:阿青", False),
    ]


def test_a_person_writing_that_they_took_a_message_back_is_still_them(tmp_path: Path) -> None:
    """我刚才撤回了一条消息 in a buyer's words became a system message (audit 92 #8)."""
    path = tmp_path / "r_2026-11-24.txt"
    path.write_text("tb_a(10:00:00)：我刚才撤回了一条消息\n店:阿青(10:00:10)：好的\n", encoding="utf-8")
    assert [role for role, _, _ in _chat(read(path))] == ["customer", "agent"]


def test_a_utf16_file_with_a_stray_last_byte_is_read(tmp_path: Path) -> None:
    """One byte too many at the end of a UTF-16 export refused the whole file (audit 91 #17)."""
    path = tmp_path / "odd16_2026-11-24.txt"
    text = "tb_a(10:00:00)：在吗\n店:阿青(10:00:10)：在的\n"
    path.write_bytes(b"\xff\xfe" + text.encode("utf-16-le") + b"\n")
    result = read(path)
    assert [m.text for c in result.conversations for m in c.messages] == ["在吗", "在的"]
    assert not [f for f in result.files if f.error]


_NO_ROLE = ["会话ID", "时间", "发送人", "内容"]
_NO_ROLE_ROWS = [
    ["k1", "2026-11-24 10:00:01", "tb_松果", "这个有货吗"],
    ["k1", "2026-11-24 10:00:20", "暖阳小铺:阿青", "有的亲"],
    ["k1", "2026-11-24 10:01:00", "tb_松果", "好的谢谢"],
    ["k2", "2026-11-24 11:00:00", "tb_青柠", "在吗"],
    ["k2", "2026-11-24 11:00:30", "小雨", "在的"],
    ["k3", "2026-11-24 12:00:00", "暖阳小铺:店小蜜", "欢迎光临"],
    ["k3", "2026-11-24 12:00:10", "tb_海风", "发货了吗"],
]


def _no_role_sheet(tmp_path: Path, kind: str, rows: list[list[str]]) -> Path:
    if kind == "xlsx":
        return _workbook(tmp_path / "day.xlsx", {"明细": [_NO_ROLE, *rows]})
    path = tmp_path / "day.csv"
    path.write_text("\n".join(",".join(r) for r in [_NO_ROLE, *rows]) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_in_a_sheet_without_a_role_column_the_other_senders_of_an_agents_chat_are_the_buyer(
    tmp_path: Path, kind: str
) -> None:
    """Every buyer row of such a sheet was a reject, and the only fix was naming each buyer with
    --customer-nick (audit 91 #8). As in a text export, where a shop account (or the shop's bot)
    names the agent, the other named senders are the buyer; a chat where no nick tells stays rejected."""
    result = read(_no_role_sheet(tmp_path, kind, _NO_ROLE_ROWS))
    assert_balanced(result)
    convs = {c.id: c for c in result.conversations}
    assert [(m.role, m.sender) for m in convs["k1"].messages] == [
        (Role.CUSTOMER, "tb_松果"),
        (Role.AGENT, "暖阳小铺:阿青"),
        (Role.CUSTOMER, "tb_松果"),
    ]
    assert [m.role for m in convs["k3"].messages] == [Role.AGENT, Role.CUSTOMER]
    assert "k2" not in convs
    assert [r.reason.split(" (")[0] for r in result.rejects] == ["missing role", "missing role"]
    assert any("no role given" in w and "2 conversation(s)" in w for w in result.warnings)


def test_a_sheet_without_a_role_column_names_a_chat_with_two_would_be_buyers(tmp_path: Path) -> None:
    """An agent written without the shop (小雨 beside 暖阳小铺:阿青) reads as a second buyer: said,
    with the fix, and --agent-nick makes 小雨 the agent."""
    rows = [*_NO_ROLE_ROWS[:3], ["k1", "2026-11-24 10:01:30", "小雨", "我来补充一下"]]
    path = _no_role_sheet(tmp_path, "csv", rows)
    warned = [w for w in read(path).warnings if "k1 has 2 senders read as the buyer" in w]
    assert len(warned) == 1 and "tb_松果" in warned[0] and "--agent-nick" in warned[0]
    result = read(path, agent_nicks=frozenset({"小雨"}))
    (conv,) = result.conversations
    assert [m.role for m in conv.messages][-1] is Role.AGENT
    assert not any("read as the buyer" in w and "k1" in w for w in result.warnings)


def test_an_empty_cell_of_a_role_column_is_still_a_reject(tmp_path: Path) -> None:
    """With a role column, an empty cell says nothing of the row: it may be an agent's, so no default."""
    path = tmp_path / "day.csv"
    path.write_text(
        "会话ID,角色,时间,发送人,内容\n"
        "k1,,2026-11-24 10:00:01,tb_松果,这个有货吗\n"
        "k1,客服,2026-11-24 10:00:20,暖阳小铺:阿青,有的亲\n",
        encoding="utf-8",
    )
    result = read(path)
    assert [(r.line, r.reason.split(" (")[0]) for r in result.rejects] == [(2, "missing role")]
    assert not any("no role given" in w for w in result.warnings)


def test_a_platform_line_before_the_first_message_is_the_platforms_not_a_reject(tmp_path: Path) -> None:
    """[系统消息] 会话开始 on its own line, as the README's example opens an export, was a reject
    ("not a chat line") (audit 98 F7): it is an untimed system message, neither asking nor answering."""
    result, conv = read_chat(
        tmp_path,
        "===== 会话 T10 =====\n[系统消息] 会话开始\n"
        "柚香小铺:阿木(09:59:58): 您好，欢迎光临\n买家(10:00:04): 有没有满减\n",
    )
    assert result.rejects == []
    assert [(m.role, m.text, m.sent_at) for m in conv.messages][0] == (
        Role.SYSTEM,
        "[系统消息] 会话开始",
        None,
    )
    assert [m.role for m in conv.messages[1:]] == [Role.AGENT, Role.CUSTOMER]


@pytest.mark.parametrize(
    ("question", "reply", "mixed"),
    [("15:06", "15:07:30", True), ("15:06:10", "15:07:30", False), ("15:06", "15:07", False)],
    ids=["mixed", "seconds", "minutes"],
)
def test_a_text_export_mixing_times_to_the_minute_and_to_the_second_says_so(
    tmp_path: Path, question: str, reply: str, mixed: bool
) -> None:
    """买家(15:06) answered at 15:07:30 is timed 90 s though it may have been 31 s, and nothing said
    so: the minute warning needed every time without seconds (audit 98 F1)."""
    result, _ = read_chat(tmp_path, f"买家({question}): 在吗\n柚香小铺:阿木({reply}): 在的\n")
    said = [w for w in result.warnings if "written to the minute and" in w]
    assert bool(said) is mixed
    if mixed:
        assert "1 of its times are written to the minute and 1 to the second" in said[0]


def test_an_agents_replies_without_her_staff_id_take_the_id_her_other_replies_carry(tmp_path: Path) -> None:
    """One reply named 暖阳小铺:阿青 with staff id 3301, the others only 阿青: one agent scored as two
    rows, 3301 and 暖阳小铺:阿青 (audit 91 #16). A nick seen with two ids keeps its own."""

    def line(role: str, who: object, clock: str, text: str, cid: str = "J1") -> dict[str, object]:
        key = "from" if isinstance(who, dict) else "sender"
        return {"conversation_id": cid, "role": role, "shop": "暖阳小铺", key: who,
                "timestamp": f"2026-11-24 {clock}", "text": text}  # fmt: skip

    rows = [
        line("customer", "tb_松果", "10:00:00", "在吗"),
        line("agent", {"name": "暖阳小铺:阿青", "staff_id": "3301"}, "10:00:10", "在的亲"),
        line("customer", "tb_松果", "10:01:00", "发什么快递"),
        line("agent", "阿青", "10:01:20", "默认中通哦"),
        line("customer", "阿青", "11:00:00", "我也叫阿青", "J2"),  # a buyer of another chat
        line("agent", {"name": "小满", "staff_id": "a1"}, "11:00:05", "您好", "J2"),
        line("agent", {"name": "小满", "staff_id": "a2"}, "11:00:09", "在的", "J2"),
        line("agent", "小满", "11:00:20", "请问有什么可以帮您", "J2"),
    ]
    path = tmp_path / "dump.json"
    path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    result = read(path)
    assert_balanced(result)
    convs = {c.id: c for c in result.conversations}
    assert convs["J1"].agents == ("3301",)
    assert [m.agent_id for m in convs["J2"].messages] == [None, "a1", "a2", None]


def test_a_buyer_nick_with_a_colon_is_no_shop_account_beside_another_shops_column(tmp_path: Path) -> None:
    """jd:小林 in 柚子店's sheet without roles made the conversation one with a known agent, and the
    real agent 阿木 was read as the buyer (audit 99 F4): a shop account counts for its own shop only."""
    path = tmp_path / "day.csv"
    path.write_text(
        "会话ID,店铺,时间,发送人,内容\n"
        "k1,柚子店,2026-11-24 10:00:01,jd:小林,烦死了怎么还不发货\n"
        "k1,柚子店,2026-11-24 10:00:20,阿木,马上安排\n"
        "k2,柚子店,2026-11-24 11:00:01,tb_阿梨,在吗\n"
        "k2,柚子店,2026-11-24 11:00:09,柚子店:阿青,在的亲\n",
        encoding="utf-8",
    )
    result = read(path)
    convs = {c.id: c for c in result.conversations}
    assert [m.role for m in convs["k2"].messages] == [Role.CUSTOMER, Role.AGENT]
    assert [(r.line, r.reason.split(" (")[0]) for r in result.rejects] == [
        (3, "missing role")
    ]  # 阿木, as before


def test_a_platform_line_alone_after_a_divider_is_a_reject_not_a_conversation(tmp_path: Path) -> None:
    """对方撤回了一条消息 alone under a divider made a conversation of one system message (audit 99 F8)."""
    path = tmp_path / "chat_2026-11-24.txt"
    path.write_text(
        "===== 会话 A1 =====\n买家(10:00:00): 在吗\n柚子店:阿青(10:00:05): 在的\n"
        "===== 会话 B1 =====\n对方撤回了一条消息\n",
        encoding="utf-8",
    )
    result = read(path)
    assert_balanced(result)
    assert [c.id for c in result.conversations] == ["A1"]
    assert [(r.line, r.reason.split(":")[0]) for r in result.rejects] == [
        (5, "a platform line with no message of a conversation beside it")
    ]


def test_a_sender_hours_out_of_order_after_an_agents_message_is_never_folded_into_it(tmp_path: Path) -> None:
    """小芳 15:00:00 listed before an earlier chat (an export sorted by buyer) was folded into 阿青's
    message and 阿青 charged −5 for her 爱买不买 (audit 100 N1): the look ahead reads only into a
    buyer's message, and says so when it does."""
    result, conv = read_chat(
        tmp_path,
        "买家小林 09:00:00\n在吗\n柚子店:阿青 09:00:10\n在的亲\n小芳 15:00:00\n你们怎么回事，爱买不买是吧\n"
        "买家小王 10:00:00\n发什么快递\n柚子店:阿青 10:00:20\n默认中通\n",
    )
    assert ("小芳", "你们怎么回事，爱买不买是吧") in [(m.sender, m.text) for m in conv.messages]
    assert all("爱买不买" not in m.text for m in conv.messages if m.role is Role.AGENT)
    assert not any("read as part of the message" in w for w in result.warnings)
    pasted, _ = read_chat(
        tmp_path, "买家小林 10:00:01\n快递员说\n预计送达 18:30:00\n柚子店:阿青 10:00:30\n可以的亲\n"
    )
    assert any("line(s) 3 read as part of the message above" in w for w in pasted.warnings)


def test_a_platform_line_after_a_divider_beside_rows_nobody_can_place_is_a_reject(tmp_path: Path) -> None:
    """对方撤回了一条消息 then a buyer's row with no agent to tell its role: the row is a reject, and
    the platform line made an empty conversation of its own (audit 100 N4)."""
    path = tmp_path / "chat_2026-11-24.txt"
    path.write_text(
        "===== 会话 A1 =====\n买家(10:00:00): 在吗\n柚子店:阿青(10:00:05): 在的\n"
        "===== 会话 B1 =====\n对方撤回了一条消息\n买家小王(11:00:01): 在吗\n",
        encoding="utf-8",
    )
    result = read(path)
    assert [c.id for c in result.conversations] == ["A1"]
    assert [r.line for r in result.rejects] == [5, 6]


@pytest.mark.parametrize(
    ("agent_row", "buyer_row", "agent_named"),
    [
        ("k1,,2026-11-24 10:00:01,jd:小林,烦死了", "k1,柚子店,2026-11-24 10:00:20,阿木,马上安排", False),
        (
            "k1,柚子店,2026-11-24 10:00:20,客服：小周,马上安排",
            "k1,柚子店,2026-11-24 10:00:01,tb_阿梨,在吗",
            True,
        ),
        (
            "k1,柚子店,2026-11-24 10:00:20,柚子店旗舰店:阿青,在的",
            "k1,柚子店,2026-11-24 10:00:01,tb_阿梨,在吗",
            False,
        ),
    ],
    ids=[
        "empty-shop-cell-takes-the-chats-shop",
        "role-word-before-the-colon",
        "another-spelling-of-the-shop",
    ],
)
def test_which_nicks_name_the_agent_of_a_role_less_sheet(
    tmp_path: Path, agent_row: str, buyer_row: str, agent_named: bool
) -> None:
    """A 店铺 cell left empty takes the conversation's shop, so jd:小林 still names no agent of 柚子店;
    客服：小周 does (audit 100 N6). Another spelling of the shop (柚子店旗舰店 for 柚子店) names none:
    a reject naming the fix, never a wrong buyer (audit 102 B4)."""
    path = tmp_path / "day.csv"
    path.write_text(f"会话ID,店铺,时间,发送人,内容\n{agent_row}\n{buyer_row}\n", encoding="utf-8")
    result = read(path)
    defaulted = [m for c in result.conversations for m in c.messages if m.role is Role.CUSTOMER]
    assert bool(defaulted) is agent_named
    assert not any(
        m.sender == "阿木" and m.role is Role.CUSTOMER for c in result.conversations for m in c.messages
    )


def test_a_workbook_tells_role_less_sheets_one_by_one(tmp_path: Path) -> None:
    """One role cell on another sheet made every role-less row of 聊天 a reject (audit 100 N6)."""
    book = _workbook(
        tmp_path / "day_2026-11-24.xlsx",
        {
            "聊天": [_NO_ROLE, *_NO_ROLE_ROWS[:3]],
            "旧表": [
                _HEADER,
                ["z1", "客服", "店:阿青", "2026-11-24 09:00:00", "您好"],
                ["z1", "", "tb_y", "2026-11-24 09:00:10", "在吗"],
            ],
        },
    )
    result = read(book)
    convs = {c.id: c for c in result.conversations}
    assert [m.role for m in convs["k1"].messages] == [Role.CUSTOMER, Role.AGENT, Role.CUSTOMER]
    assert [r.reason.split(" (")[0] for r in result.rejects] == ["missing role"]  # 旧表's empty cell


def test_the_shops_main_account_and_a_shop_account_are_never_folded_or_folded_into(tmp_path: Path) -> None:
    """An unanswered buyer listed hours out of order was folded into the main account 柚子店's message,
    which was charged for her 爱买不买; a shop account's first, late line was folded into a buyer's
    (audit 101 A1)."""
    _, conv = read_chat(
        tmp_path,
        "买家小林 09:00:00\n有货吗\n柚子店:阿青 09:00:10\n有的\n买家小林 09:01:00\n今天发吗\n"
        "柚子店 09:01:30\n可以的\n阿梅 15:00:00\n爱买不买是吧\n"
        "买家小王 10:00:00\n在吗\n柚子店:阿青 10:00:20\n在的\n",
    )
    assert ("阿梅", "爱买不买是吧") in [(m.sender, m.text) for m in conv.messages]
    late, conv = read_chat(
        tmp_path,
        "买家小林 09:00:00\n能改地址吗\n柚子店:阿青 15:00:00\n改好了\n买家小王 10:00:00\n能开发票吗\n"
        "柚子店:阿青 10:00:20\n可以的\n",
    )
    assert ("柚子店:阿青", "改好了") in [(m.sender, m.text) for m in conv.messages]
    assert not any("read as part of the message" in w for w in late.warnings)


def test_a_platform_prefix_inside_the_shops_name_names_no_agent(tmp_path: Path) -> None:
    """京东:小林 beside 店铺 京东柚子自营店 made the real agent 阿木 the buyer (audit 101 A2): only the shop
    or a longer name of it vouches for the agent."""
    path = tmp_path / "day.csv"
    path.write_text(
        "会话ID,店铺,时间,发送人,内容\nc1,京东柚子自营店,2026-11-24 10:00:01,京东:小林,烦死了\n"
        "c1,京东柚子自营店,2026-11-24 10:00:20,阿木,抱歉亲\n",
        encoding="utf-8",
    )
    result = read(path)
    assert [(r.line, r.reason.split(" (")[0]) for r in result.rejects] == [(3, "missing role")]


def test_the_main_account_writing_first_and_a_pasted_colon_label_are_each_read_right(tmp_path: Path) -> None:
    """The main account 柚子店 wrote before any sub-account, and a buyer listed hours out of order was
    folded into its message and charged to it (audit 102 B1); a buyer's pasted 快递:中通 18:30:00 was
    an agent 快递:中通 charged −5 for the buyer's words (B2)."""
    _, conv = read_chat(
        tmp_path,
        "买家小林 09:00:00\n有货吗\n柚子店 09:00:30\n有的亲\n阿梅 15:00:00\n爱买不买是吧\n"
        "买家小王 10:00:00\n能开发票吗\n柚子店:阿青 10:00:20\n可以开的亲\n",
    )
    assert ("阿梅", "爱买不买是吧") in [(m.sender, m.text) for m in conv.messages]
    _, conv = read_chat(
        tmp_path,
        "买家小林 10:00:01\n物流上写着\n快递:中通 18:30:00\n还没动，烦死了\n柚子店:阿青 10:00:30\n在派送了\n",
    )
    assert [(m.sender, m.role) for m in conv.messages] == [
        ("买家小林", Role.CUSTOMER),
        ("柚子店:阿青", Role.AGENT),
    ]
    assert "快递:中通 18:30:00" in conv.messages[0].text


def test_a_fans_name_with_the_shops_name_in_it_names_no_agent(tmp_path: Path) -> None:
    """柚子店铁粉:小桃 in 柚子店's role-less sheet made the agent 阿木 the buyer (audit 102 B4): only the
    shop's own name vouches for the agent."""
    path = tmp_path / "day.csv"
    path.write_text(
        "会话ID,店铺,时间,发送人,内容\nc1,柚子店,2026-11-24 10:00:01,柚子店铁粉:小桃,烦死了\n"
        "c1,柚子店,2026-11-24 10:00:20,阿木,抱歉亲\n",
        encoding="utf-8",
    )
    assert [(r.line, r.reason.split(" (")[0]) for r in read(path).rejects] == [(3, "missing role")]


def test_a_line_that_starts_like_a_divider_and_runs_on_into_words_is_text(tmp_path: Path) -> None:
    """Real agents open a pitch with ***…, and a buyer wrote =-= …: read as dividers, the message
    was lost, its conversation cut in two and the lines around it rejected (audit 103 F1). A pitch
    that runs on is text; a short one is text when the conversation's buyer goes on after it."""
    pitch = "***多功能破壁机（上市时间2019年9月2日）一机多用，开始使用前请阅读说明书，送您一份使用记录表"
    result, conv = read_chat(
        tmp_path,
        "===== 会话 m5 =====\n"
        "tb_a 2026-11-24 10:00:01\n这款保修多久\n"
        "柚子店:小雨 2026-11-24 10:00:30\n***承诺：七天无理由退换\n"
        "tb_a 2026-11-24 10:01:10\n=-= 好吧\n"
        "tb_a 2026-11-24 10:01:20\n那我再看看\n"
        "柚子店:小雨 2026-11-24 10:01:30\n亲，保修说明如下\n~~~ 整机一年\n"
        "tb_a 2026-11-24 10:01:35\n嗯\n"
        f"柚子店:小雨 2026-11-24 10:01:40\n{pitch}\n"
        f"柚子店:小雨 2026-11-24 10:01:50\n{pitch}\n"  # the same agent goes on: a long pitch is text
        "tb_a 2026-11-24 10:02:10\n好的\n",
    )
    assert [(m.sender, m.text) for m in conv.messages] == [
        ("tb_a", "这款保修多久"),
        ("柚子店:小雨", "***承诺：七天无理由退换"),
        ("tb_a", "=-= 好吧"),
        ("tb_a", "那我再看看"),
        ("柚子店:小雨", "亲，保修说明如下\n~~~ 整机一年"),
        ("tb_a", "嗯"),
        ("柚子店:小雨", pitch),
        ("柚子店:小雨", pitch),
        ("tb_a", "好的"),
    ]
    assert not result.rejects and conv.id == "m5"


@pytest.mark.parametrize(
    "divider",
    [
        "==== 对话开始",
        "==== tb_b",  # the next buyer's nick: no divider word, yet a new buyer comes next
        "———— 2号客服",
        "----- New chat",
        "**** 评价：满意",
        "----- 会话结束",
        "———— 下一位客户",
        "----- 共 12 条消息",
        "----- 11月25日",
        "——— 转接记录",
        "----- 2026-11-25 10:00",
        "~~~~~ 分隔线",
        "===== 会话 c2",
        "———— 与 tb_b 的聊天记录",
        "=========== 会话开始  客户：tb_b  接待客服：柚子店:阿青  开始时间：2026-11-24 14:00:00",
    ],
)
def test_a_divider_whose_words_are_a_dividers_still_separates(tmp_path: Path, divider: str) -> None:
    """Unclosed dividers with a label were read as text for a while: two chats merged, and 阿青 was
    charged a 4-hour reply to a buyer only 小雨 spoke to (audit 105 F1)."""
    path = tmp_path / "chat_2026-11-24.txt"
    path.write_text(
        "tb_a 2026-11-24 10:00:01\n在吗\n柚子店:小雨 2026-11-24 10:00:30\n在的\n"
        "tb_a 2026-11-24 10:01:10\n那我拍了\n"
        f"{divider}\n"
        "柚子店:阿青 2026-11-24 14:00:00\n亲，您拍下的订单还没付款哦\n"
        "tb_b 2026-11-24 14:00:30\n马上付\n柚子店:阿青 2026-11-24 14:00:45\n好的亲\n",
        encoding="utf-8",
    )
    result = read(path)
    assert [[(m.sender, m.text) for m in c.messages] for c in result.conversations] == [
        [("tb_a", "在吗"), ("柚子店:小雨", "在的"), ("tb_a", "那我拍了")],
        [("柚子店:阿青", "亲，您拍下的订单还没付款哦"), ("tb_b", "马上付"), ("柚子店:阿青", "好的亲")],
    ]


def test_a_colleagues_header_pasted_in_the_other_style_out_of_time_order_stays_in_the_message(
    tmp_path: Path,
) -> None:
    """客服小王 10:01:02 inside an inline export's reply was a buyer, and the rest of the chat a
    day later: the agent was charged a 79,228 s reply (audit 103 F2)."""
    lines = [
        ("tb_a", "08:00:01", "在吗"),
        ("柚子店:小雨", "08:00:30", "亲，在的，之前同事回复您的是：\n客服小王 10:01:02\n这款周五发货"),
        ("tb_a", "08:01:10", "好的谢谢"),
        ("柚子店:小雨", "08:01:30", "不客气"),
    ]
    result, conv = read_chat(tmp_path, "".join(f"{who}({at}): {words}\n" for who, at, words in lines))
    assert [(m.sender, m.text) for m in conv.messages] == [(w, t) for w, _, t in lines]
    assert {m.sent_at.date() for m in conv.messages if m.sent_at} == {date(2026, 11, 24)}
    assert not result.rejects and warned(result, "line(s) 3 read as part of")


def test_a_buyers_inline_line_out_of_order_in_a_block_export_is_never_an_agents_text(tmp_path: Path) -> None:
    """tb_b(…15:00:00): 你们爱买不买 listed hours early in a block export was folded into 小雨's reply
    for a while, and 小雨 charged −5 for the buyer's words (audit 106 F6)."""
    result, conv = read_chat(
        tmp_path,
        "tb_a 2026-11-24 10:00:01\n在吗\n柚子店:小雨 2026-11-24 10:00:20\n亲，有的呢\n"
        "tb_b(2026-11-24 15:00:00): 你们爱买不买是吧\n"
        "柚子店:小雨 2026-11-24 10:05:00\n亲，还需要别的吗\n柚子店:阿青 2026-11-24 15:00:30\n亲，在处理了\n",
    )
    assert ("tb_b", "你们爱买不买是吧") in [(m.sender, m.text) for m in conv.messages]
    assert all("爱买不买" not in m.text for m in conv.messages if m.role is Role.AGENT)


@pytest.mark.parametrize("stamp", ["2026-11-24 10:03:00", "10:03:00"], ids=["dated", "clock-only"])
def test_a_new_sender_in_the_other_style_and_in_time_order_is_a_sender(tmp_path: Path, stamp: str) -> None:
    """In a file that mixes the styles, a buyer's first inline line after a block reply was read as
    the reply's text for a while, also when its time was written without the date: her 爱买不买
    charged to the agent (audits 105 F2, 106 F2)."""
    result, conv = read_chat(
        tmp_path,
        "tb_a 2026-11-24 10:00:01\n在吗\n柚子店:小雨 2026-11-24 10:00:20\n亲，有的呢\n"
        f"tb_b({stamp}): 上次客服跟我说爱买不买\n"
        "柚子店:小雨 2026-11-24 10:03:40\n亲，非常抱歉\n",
    )
    assert [(m.role, m.sender) for m in conv.messages] == [
        (Role.CUSTOMER, "tb_a"),
        (Role.AGENT, "柚子店:小雨"),
        (Role.CUSTOMER, "tb_b"),
        (Role.AGENT, "柚子店:小雨"),
    ]
    assert conv.messages[1].text == "亲，有的呢"


def test_the_look_ahead_steps_over_a_line_of_text_that_starts_like_a_divider(tmp_path: Path) -> None:
    """预计送达 18:30:00 then =-= 是不是太慢了 in a buyer's message: the look ahead stopped at the =-=
    line, 预计送达 became a buyer and the reply a day later, −172,794 points (audit 105 F3)."""
    path = tmp_path / "2026-11-24.txt"
    path.write_text(
        "tb_a 10:00:01\n帮我看下物流，页面上写着\n预计送达 18:30:00\n=-= 是不是太慢了\n"
        "tb_a 10:00:10\n快点\n柚子店:小雨 10:00:30\n亲，帮您催一下\n",
        encoding="utf-8",
    )
    result = read(path)
    (conv,) = result.conversations
    assert [(m.sender, m.text) for m in conv.messages] == [
        ("tb_a", "帮我看下物流，页面上写着\n预计送达 18:30:00\n=-= 是不是太慢了"),
        ("tb_a", "快点"),
        ("柚子店:小雨", "亲，帮您催一下"),
    ]
    assert conv.messages[2].sent_at == datetime(2026, 11, 24, 10, 0, 30, tzinfo=SH)
    assert not any(m.sender == "预计送达" for c in result.conversations for m in c.messages)


def test_continuation_lines_with_numbers_or_notes_in_brackets_are_the_messages_text(tmp_path: Path) -> None:
    """尺码M(160-165cm) read as a chat line cut off, and [图片] or a （专员小树） sign-off as a note of
    its own: rejected, each cut a real message short (audit 103 F3)."""
    body = "\n".join(
        [
            "亲，有的哦，尺码建议如下：",
            "尺码M(160-165cm)",
            "M码(160/84A)：适合100-115斤",
            "[图片]",
            "1.（7天无理由退换）",
            "型号(2021款)：黑色",
            "（以上价格为活动价）",
            "周一至周五(9:00-18:00)：全天在线",
            "客服(9:00-18:00)：在线",
            "（专员小树）",
            "客服(6:00pm)下班，售后(18:00:00)前回复",
        ]
    )
    result, conv = read_chat(tmp_path, f"tb_a(10:00:01): 这款有货吗\n柚子店:小雨(10:00:30): {body}\n")
    assert [m.text for m in conv.messages] == ["这款有货吗", body] and not result.rejects


@pytest.mark.parametrize(
    "line",
    [
        "tb_a(10时O1分3l秒): 爱买不买是吧",
        "买家(14:6O:2l): 好的",
        "买家(2026年11月24日 14:0",
        "买家(2026-11-24 14:6O:2l+08:00): 好的",
        "买家(14:6O:2l) 好的",
        "买家(15:00:1",
        "tb_a(2026-11-2",
        "tb_a(2026-11-24 14:06:21 爱买不买",
        "买家(14.6O.2l): 好的",
        "买家(O9:00:01): 好的",
        "买家(下午2:6O:2l): 好的",
        "（以下为系统提示）",
        "tb_a(10:01) 烦死了爱买不买",  # the buyer, who wrote: a chat line without its colon (audit 121 H2)
        "买家(10:01) 烦死了爱买不买",  # the buyer's role word (audit 123 H1)
        "tb_a(1O:00:55-08:00): 烦死了",  # a garbled time in a zone, no range of hours (audit 123 H4)
    ],
)
def test_a_chat_line_cut_off_or_with_a_garbled_time_is_a_reject_not_the_agents_text(
    tmp_path: Path, line: str
) -> None:
    """A garbled buyer line after an agent's message, in any time style the reader takes, was the
    agent's text for a while, and the buyer's 爱买不买 charged to the agent (audit 105 F4)."""
    result, conv = read_chat(
        tmp_path,
        f"tb_a(10时00分01秒): 在吗\n柚子店:小雨(10时00分20秒): 亲，帮您查一下\n{line}\n"
        "tb_a(10时02分00秒): 快点\n",
    )
    assert conv.messages[1].text == "亲，帮您查一下"
    assert [n for n, _ in reasons(result)] == [3]


@pytest.mark.parametrize(
    "label", ["==== 售后咨询", "----- New session", "~~~~~ 来源：手机淘宝", "==== 接待：柚子店:小雨"]
)
def test_a_divider_between_two_sessions_of_one_buyer_separates_them(tmp_path: Path, label: str) -> None:
    """==== 售后咨询 before the buyer's next-morning question was read as text for a while: the two
    sessions merged and the night was timed as the agent's reply, −115,056 points (audit 108 F1)."""
    path = tmp_path / "chat.txt"
    path.write_text(
        "tb_a 2026-11-24 17:00:01\n这件外套有L码吗\n柚子店:小雨 2026-11-24 17:00:20\n亲，有的呢\n"
        f"tb_a 2026-11-24 17:01:10\n好的我考虑一下\n{label}\n"
        "tb_a 2026-11-25 09:00:01\n我拍了，今天能发吗\n柚子店:小雨 2026-11-25 09:00:30\n亲，今天就发\n",
        encoding="utf-8",
    )
    result = read(path)
    assert [[m.text for m in c.messages] for c in result.conversations] == [
        ["这件外套有L码吗", "亲，有的呢", "好的我考虑一下"],
        ["我拍了，今天能发吗", "亲，今天就发"],
    ]


def test_a_buyers_short_rule_line_answered_at_once_by_the_agent_is_her_text(tmp_path: Path) -> None:
    """=-= 好吧 as a buyer's message, answered by the agent a few seconds later: the most common
    thing to follow it, and the message was lost and the chat split (audit 108, both trees)."""
    result, conv = read_chat(
        tmp_path,
        "tb_a 2026-11-24 10:00:01\n这款保修多久\n柚子店:小雨 2026-11-24 10:00:30\n一年哦\n"
        "tb_a 2026-11-24 10:01:10\n=-= 好吧\n柚子店:小雨 2026-11-24 10:01:30\n亲，还有什么可以帮您\n",
    )
    assert [(m.sender, m.text) for m in conv.messages][2:] == [
        ("tb_a", "=-= 好吧"),
        ("柚子店:小雨", "亲，还有什么可以帮您"),
    ]
    assert not result.rejects


def test_a_garbled_chat_line_after_a_held_rule_line_is_never_the_agents_text(tmp_path: Path) -> None:
    """***温馨提示 then 买家(O9:00:01): 爱买不买是吧 under an agent's inline message: the garbled line was
    released with the held line as the agent's text, and the agent charged −5 (audit 108 F3)."""
    path = tmp_path / "chat.txt"
    path.write_text(
        "tb_a(2026-11-24 10:00:01): 在吗，几点发货\n柚子店:小雨(2026-11-24 10:00:20): 亲，说明如下：\n"
        "***温馨提示\n买家(O9:00:01): 爱买不买是吧\n"
        "tb_a(2026-11-24 10:01:00): 好的\n柚子店:小雨(2026-11-24 10:01:20): 不客气\n",
        encoding="utf-8",
    )
    result = read(path)
    agents = [m.text for c in result.conversations for m in c.messages if m.role is Role.AGENT]
    assert agents and all("爱买不买" not in t for t in agents)
    assert 4 in [r.line for r in result.rejects]


def test_the_agents_first_message_to_the_next_buyer_after_a_divider_is_no_answer(tmp_path: Path) -> None:
    """好的我考虑一下 / ==== 售后咨询 / the agent's 催付 to the next buyer 50 s later: read as an answer,
    the two buyers merged and a slow reply was charged (audit 109 F1)."""
    path = tmp_path / "chat.txt"
    path.write_text(
        "tb_a 2026-11-24 10:00:01\n这件外套有L码吗\n柚子店:小雨 2026-11-24 10:00:20\n亲，有的呢\n"
        "tb_a 2026-11-24 10:01:10\n好的我考虑一下\n==== 售后咨询\n"
        "柚子店:小雨 2026-11-24 10:02:00\n亲，您拍下的订单还没付款哦\n"
        "tb-b 2026-11-24 10:05:30\n马上付\n柚子店:小雨 2026-11-24 10:05:45\n好的亲\n",
        encoding="utf-8",
    )
    result = read(path)
    assert [[m.sender for m in c.messages] for c in result.conversations] == [
        ["tb_a", "柚子店:小雨", "tb_a"],
        ["柚子店:小雨", "tb-b", "柚子店:小雨"],
    ]


@pytest.mark.parametrize(
    "header",
    [
        "买家 2026-11-24 1O:00:4l",
        "tb_a 2026-11-24 10:0O",
        "tb_a 1O:00:4l",
        "买家 2O26-11-24 10:00:41",  # the letter in the date (audit 110 N3)
        "买家(售前) 2026-11-24 1O:00:4l",  # a note on the nick
        # every other header style the reader takes, garbled (audit 113 H1)
        "买家(2026-11-24 1O:00:4l):",
        "买家 2026-11-24 上午1O:00:4l",
        "买家 2026-11-24 1O时00分4l秒",
        "买家 2026-11-241O:00:4l",
        "买家 2026年11月24日1O:00:4l",
        "买家 2026-11-24 10:00:4l.500",
        "买家 2026-11-24 1O:00:4l+08:00",
        "买家 1O:00:4l PM",
        # a garbled chat line with its text, and a noted bracketed header (audit 116 H1)
        "tb_a(1O:00:4l): 爱买不买",
        "tb_a(2026-11-24 1O:00:4l): 爱买不买",
        "柚子店:小雨(售前)(2026-11-24 1O:00:4l):",
        "买家 2026-11-24 1O：00：4l",  # full-width colons (audit 117 H2)
        # a chat line cut short or mistyped without a letter, and a clean header with full-width
        # colons: the buyer's words were the agent's (audit 118 H1, P1)
        "tb_a(10:00:4): 爱买不买",
        "tb_a(1000:41): 爱买不买",
        "tb_a(10.00.41): 爱买不买",
        "tb_a(10时00分41): 爱买不买",
        "买家(15:00:1",
        "tb_a(2026-11-2",
        "tb_a 2026-11-24 10：00：41",
    ],
)
def test_a_block_header_with_a_garbled_time_is_a_reject_never_the_agents_text(
    tmp_path: Path, header: str
) -> None:
    """买家 2026-11-24 1O:00:4l / 爱买不买是吧 under an agent's message became the agent's text, and the
    agent was charged −5 for the buyer's words (audit 109 P1)."""
    path = tmp_path / "chat.txt"
    path.write_text(
        "tb_a 2026-11-24 10:00:01\n在吗，几点发货\n柚子店:小雨 2026-11-24 10:00:20\n亲，说明如下：\n"
        f"{header}\n爱买不买是吧\n"
        "tb_a 2026-11-24 10:01:00\n好的\n柚子店:小雨 2026-11-24 10:01:20\n不客气\n",
        encoding="utf-8",
    )
    result = read(path)
    (conv,) = result.conversations
    assert [m.text for m in conv.messages] == ["在吗，几点发货", "亲，说明如下：", "好的", "不客气"]
    assert [r.line for r in result.rejects] == [5, 6] and "time is garbled" in result.rejects[0].reason


def test_a_buyers_garbled_header_before_her_only_clean_one_is_a_reject(tmp_path: Path) -> None:
    """tb_大橘's garbled header came before her only clean header: needing two lines of the file, it
    was the agent's text and charged −5 (audit 117 H1). A header alone on its line counts from one."""
    path = tmp_path / "chat.txt"
    path.write_text(
        "店:小北 2026-11-24 09:59:30\n亲，欢迎光临\ntb_大橘 2026-11-24 1O:00:4l\n爱买不买是吧\n"
        "tb_大橘 2026-11-24 10:02:10\n人呢\n店:小北 2026-11-24 10:02:40\n在的\n",
        encoding="utf-8",
    )
    result = read(path)
    assert [r.line for r in result.rejects] == [3, 4]
    assert [m.text for c in result.conversations for m in c.messages] == ["亲，欢迎光临", "人呢", "在的"]


def test_a_label_read_as_text_is_no_sender_of_a_garbled_header(tmp_path: Path) -> None:
    """截单时间(16:00)：当天发出 was read as the reply's text, yet as "a sender of the file" it made a
    later 截单时间 2026-11-25 16:3O a garbled header: the reply was cut and its 我也没办法 went
    uncharged (audit 116 H2)."""
    result, conv = read_chat(
        tmp_path,
        "tb_大橘(10:00:01): 今天能发吗\n柚子店:小雨(10:00:20): 亲，规则如下：\n截单时间(16:00)：当天发出\n"
        "tb_大橘(10:01:00): 那明天呢\n柚子店:小雨(10:01:20): 明天是\n截单时间 2026-11-25 16:3O\n"
        "过了就后天发，我也没办法\ntb_大橘(10:02:00): 好的\n",
    )
    assert not result.rejects
    assert conv.messages[3].text == "明天是\n截单时间 2026-11-25 16:3O\n过了就后天发，我也没办法"


@pytest.mark.parametrize("stamp", ["10:00:01+08:00", "02:00:01Z", "10:00:01 am"])
def test_a_clock_only_header_with_an_offset_or_lower_case_am_pm_is_timed(tmp_path: Path, stamp: str) -> None:
    """(10:00:01+08:00), (02:00:01Z) and 10:00:01 am headers were rejects "write the date and the
    time apart", the wrong fix, for every message (audit 116 M1); before that, kept untimed."""
    result, conv = read_chat(tmp_path, f"tb_大橘({stamp}): 在吗\n柚子店:小雨(10:00:20): 在的\n")
    assert not result.rejects
    assert conv.messages[0].sent_at is not None
    assert (
        conv.messages[0].sent_at.astimezone(conv.messages[1].sent_at.tzinfo).strftime("%H:%M:%S")
        == "10:00:01"
    )


def test_a_header_whose_date_runs_into_its_clock_is_a_reject_naming_the_fix(tmp_path: Path) -> None:
    """买家 2026-11-2410:00:41: the header's shape took it, no timestamp form did, and the message was
    kept with no time and no word said (audit 113 L3)."""
    path = tmp_path / "chat.txt"
    path.write_text(
        "买家 2026-11-24 10:00:01\n在吗\n柚子店:小雨 2026-11-24 10:00:20\n在的亲\n"
        "买家 2026-11-2410:00:41\n好的\n",
        encoding="utf-8",
    )
    result = read(path)
    assert_balanced(result)
    assert [m.text for m in result.conversations[0].messages] == ["在吗", "在的亲"]
    (reject,) = result.rejects
    assert reject.line == 5 and "write the date and the time apart (2026-11-24 10:00:41)" in reject.reason


def test_an_inline_reply_listing_mistyped_hours_keeps_its_lines(tmp_path: Path) -> None:
    """售前 8:3O / 售后 9:OO in an inline export's reply, and 截单时间 16:3O after the same label was
    text earlier (截单时间(16:00)：…): read as garbled headers, the reply's lines were rejects and the
    agent's 我也没办法 under them went uncharged (audit 113 H2)."""
    result, conv = read_chat(
        tmp_path,
        "tb_大橘(10:00:01): 今天能发吗\n柚子店:小雨(10:00:20): 亲，发货规则如下：\n"
        "截单时间(16:00)：当天发出\n售前 8:3O\n售后 9:OO\n"
        "tb_大橘(10:01:00): 现在几点截单\n柚子店:小雨(10:01:20): 今天是\n"
        "截单时间 16:3O\n过了就明天发，我也没办法\ntb_大橘(10:02:00): 好的\n",
    )
    assert not result.rejects
    assert conv.messages[1].text == "亲，发货规则如下：\n截单时间(16:00)：当天发出\n售前 8:3O\n售后 9:OO"
    assert conv.messages[3].text == "今天是\n截单时间 16:3O\n过了就明天发，我也没办法"


@pytest.mark.parametrize(
    "line",
    [
        "亲，截单时间是 16:0O",
        "Order 2026-11-24 lO:00",
        "屏幕比例 16:lO",
        "营业时间 9:00 - 2l:00",
        "型号 A1 版本 1O:2",
        "付款时间：2026-11-24 O9:12:33",  # audit 111 F1: a label and a time to the second
        "SKU12 2026-11-24 1O:3O:00",
        "倒计时 OO:59:59",
        # a role word or a label before a clock with no seconds and no date is no header: its
        # lines were cut and an agent's 我也没办法 under them went uncharged (audit 113 H2)
        "售前 8:3O",
        "售后(周末) 1O:00",
        "截单时间 16:3O",
        "下午 3:OO PM",
        # a range of hours in a bracket is no garbled chat line (audit 117 H5)
        "售后(9:00-21:00)都能处理",
        "客服(10:00前下单)当天发货",
        # nor a clean clock without seconds, a mistyped range, or a range alone on its line (audit 118)
        "售后(9:00)后再联系",
        "客服(9:OO-18:00)在线",
        "售后(9:00-18:00)",
        "售后 9:00:00-18:00",
        # nor the agent quoting the buyer's words and time (audit 123 H3)
        "tb_a(09:58)说的那句是您自己打的",
        # nor a role word's hours in other styles, its full-width clock (audit 121 H1, M3)
        "客服(9:30 以后)都在",
        "客服(6:00pm)下班",
        "客服(9:00 AM - 6:00 PM)在线",
        "客服(2026-11-25 18:00)给您回电",
        "客服(18:00:00)前回复",
        "客服(9:00 ～ 18:00)",
        "客服 2026-11-25 18：00",
        "客服 18：00：00",
    ],
)
def test_a_line_of_text_ending_in_a_mistyped_time_stays_in_the_message(tmp_path: Path, line: str) -> None:
    """Taken for a garbled header, such a line cut its message and the lines after it were rejected
    (audit 110 N1)."""
    result, conv = read_chat(
        tmp_path,
        "tb_a 2026-11-24 10:00:01\n几点截单\n柚子店:小雨 2026-11-24 10:00:20\n"
        f"亲，说明如下：\n{line}\n今天发\ntb_a 2026-11-24 10:01:00\n好的\n",
    )
    assert conv.messages[1].text == f"亲，说明如下：\n{line}\n今天发" and not result.rejects


def test_a_garbled_header_after_a_held_line_and_a_divider_against_dashes(tmp_path: Path) -> None:
    """买家 2026-11-24 1O:00:4l after a held ***温馨提示 was still the agent's text (audit 110 N3); a
    nick written against a run of dashes on a long divider was missed, and two buyers merged (N4)."""
    path = tmp_path / "a.txt"
    path.write_text(
        "tb_a 2026-11-24 10:00:01\n在吗\n柚子店:小雨 2026-11-24 10:00:20\n亲，说明如下：\n***温馨提示\n"
        "买家 2026-11-24 1O:00:4l\n爱买不买是吧\ntb_a 2026-11-24 10:01:00\n好的\n",
        encoding="utf-8",
    )
    agents = [m.text for c in read(path).conversations for m in c.messages if m.role is Role.AGENT]
    assert agents and all("爱买不买" not in t for t in agents)
    path = tmp_path / "b.txt"
    path.write_text(
        "tb_b 2026-11-24 09:00:01\n你好\n柚子店:小雨 2026-11-24 09:00:20\n亲，在的\n==========\n"
        "tb_a 2026-11-24 10:00:01\n在吗\n柚子店:小雨 2026-11-24 10:00:20\n亲，有的呢\n"
        "----------买家:tb_b----来源:商品详情页 咨询商品:加厚羽绒服（黑色XL） 订单状态:待付款\n"
        "柚子店:小雨 2026-11-24 10:01:00\n亲，您拍下的订单还没付款哦\ntb_b 2026-11-24 10:05:30\n马上付\n",
        encoding="utf-8",
    )
    assert [[m.sender for m in c.messages] for c in read(path).conversations][-1] == ["柚子店:小雨", "tb_b"]


def test_in_an_inline_export_the_agents_message_to_the_next_buyer_is_no_answer(tmp_path: Path) -> None:
    """好的我考虑一下 / ==== 退款 / the agent's 催付 to the next buyer still merged in an inline
    export: the buyer's message had its words on its header line (audit 110 N2)."""
    path = tmp_path / "2026-11-24.txt"
    path.write_text(
        "tb_a(10:00:01): 这件有L码吗\n柚子店:小雨(10:00:20): 亲，有的呢\ntb_a(10:01:10): 好的我考虑一下\n"
        "==== 退款\n柚子店:小雨(10:02:00): 亲，您拍下的订单还没付款哦\ntb_b(10:05:30): 马上付\n",
        encoding="utf-8",
    )
    assert [[m.sender for m in c.messages] for c in read(path).conversations] == [
        ["tb_a", "柚子店:小雨", "tb_a"],
        ["柚子店:小雨", "tb_b"],
    ]


def test_a_garbled_block_header_inside_an_inline_export_is_never_the_agents_text(tmp_path: Path) -> None:
    """买家 2026-11-24 1O:00:4l / 爱买不买是吧 after an inline reply was the agent's text (audit 110 N3)."""
    path = tmp_path / "2026-11-24.txt"
    path.write_text(
        "tb_a(10:00:01): 在吗\n柚子店:小雨(10:00:20): 亲，说明如下：\n"
        "买家 2026-11-24 1O:00:4l\n爱买不买是吧\ntb_a(10:01:00): 好的\n",
        encoding="utf-8",
    )
    result = read(path)
    agents = [m.text for c in result.conversations for m in c.messages if m.role is Role.AGENT]
    assert agents == ["亲，说明如下："] and [r.line for r in result.rejects] == [3, 4]


def test_a_range_of_hours_is_no_time_in_a_zone() -> None:
    """9:00-18:00 was read as 09:00 at UTC−18:00 once clock-only times took an offset (audit 117 M1)."""
    from qc.readers.timestamps import TIME_RE

    assert TIME_RE.match("9:00-18:00") is None and TIME_RE.match("9:00-21:00") is None
    assert TIME_RE.match("10:00:01+08:00") and TIME_RE.match("02:00:01Z") and TIME_RE.match("10:00:01 pm")


@pytest.mark.parametrize(
    "written",
    [
        "10:00:01.250+08:00",
        "10:00:01 +08:00",
        "10:00:01 PM+08:00",
        "10时00分01秒+08:00",
        "10:00+08:00",
        "10:00:01,250Z",
    ],
)
def test_a_clock_only_time_in_a_zone_is_read_in_every_reader(tmp_path: Path, written: str) -> None:
    """Once an offset had to follow two-digit seconds, these were rejects in text exports, CSV and
    JSON Lines alike (audit 118 H3)."""
    from qc.readers.timestamps import TIME_RE, parse_timestamp

    assert TIME_RE.match(written)
    at = parse_timestamp(written, ZoneInfo("Asia/Shanghai"), date(2026, 11, 24))
    assert at is not None and at.utcoffset() == timedelta(hours=0 if written.endswith("Z") else 8)
    path = tmp_path / "2026-11-24.jsonl"
    rows = [("c1", "customer", "tb_a", "在吗"), ("c1", "agent", "店:小北", "在的")]
    path.write_text(
        "".join(
            json.dumps(
                {"conversation_id": c, "role": r, "sender": s, "timestamp": written, "text": t},
                ensure_ascii=False,
            )
            + "\n"
            for c, r, s, t in rows
        ),
        encoding="utf-8",
    )
    result = read(path)
    assert not result.rejects and [len(c.messages) for c in result.conversations] == [2]


def test_a_clock_only_time_with_am_or_pm_is_its_24_hour_time() -> None:
    """parse_time_only read 3:05:20 pm as 03:05:20 (audit 117 L1): the newest-first sort guess of a
    sheet's time column took afternoon rows for morning ones."""
    from datetime import time

    from qc.readers.timestamps import parse_time_only

    assert parse_time_only("3:05:20 pm") == time(15, 5, 20) and parse_time_only("下午3:05:20") == time(
        15, 5, 20
    )
    assert parse_time_only("12:00:01 AM") == time(0, 0, 1) and parse_time_only("10:00:01") == time(10, 0, 1)


def test_a_label_written_like_a_header_in_a_reply_is_no_sender_of_its_later_typo(tmp_path: Path) -> None:
    """到货时间 2026-11-25 18:00 in one reply (no seconds, where the headers have them) made 到货时间 a
    sender; its mistyped twin in a later reply cut that reply, and the 爱买不买 under it went
    uncharged (audit 118 H2)."""
    result, conv = read_chat(
        tmp_path,
        "tb_b 2026-11-24 10:00:01\n几号能到\n柚子店:小雨 2026-11-24 10:00:20\n亲，查到了：\n"
        "到货时间 2026-11-25 18:00\n注意接电话\ntb_b 2026-11-24 10:01:00\n再快点行吗\n"
        "柚子店:小雨 2026-11-24 10:01:30\n地址改了得重新算\n到货时间 2026-11-26 1O:00\n催也没用，爱买不买\n",
    )
    assert not result.rejects
    assert conv.messages[-1].text == "地址改了得重新算\n到货时间 2026-11-26 1O:00\n催也没用，爱买不买"


def test_a_range_of_hours_under_an_inline_reply_is_its_text(tmp_path: Path) -> None:
    """售后(9:00-18:00) on its own line, or with words after it, under an inline reply was a reject and
    the agent's words on it were never inspected (audit 118 M1, L)."""
    path = tmp_path / "2026-11-24.txt"
    path.write_text(
        "tb_c(10:00:01): 售后几点有人\n柚子店:小雨(10:00:30): 亲，安排如下\n售后(9:00-18:00)\n"
        "客服(9:00-18:00)都在，别老催烦不烦\ntb_c(10:01:00): 好\n",
        encoding="utf-8",
    )
    result = read(path)
    assert not result.rejects
    assert [m.text for c in result.conversations for m in c.messages][1] == (
        "亲，安排如下\n售后(9:00-18:00)\n客服(9:00-18:00)都在，别老催烦不烦"
    )


def test_a_workbook_time_kept_as_a_fraction_of_a_day_rolls_over_midnight(tmp_path: Path) -> None:
    """23:59:30 and 00:00:20 as plain numbers (a time cell whose format was reset): the reply went on
    the same day, before the question, and the agent was charged a missed reply (audit 120 H5)."""
    path = _workbook(
        tmp_path / "n_2026-11-24.xlsx",
        {
            "对话": [
                ["会话ID", "时间", "角色", "发送人", "内容"],
                ["k2", (23 * 3600 + 59 * 60 + 30) / 86400, "买家", "tb_大橘", "还在吗"],
                ["k2", 20 / 86400, "客服", "店:小七", "在的亲"],
            ]
        },
    )
    result = read(path)
    (conv,) = result.conversations
    assert [m.text for m in conv.messages] == ["还在吗", "在的亲"]
    assert [m.sent_at.day for m in conv.messages] == [24, 25] and warned(result, "went past midnight")


def test_a_workbook_of_one_sheet_named_by_its_day_dates_its_times(tmp_path: Path) -> None:
    """One sheet titled 2026-11-24 and clock-only times: every reply went untimed, where the same
    sheet beside another was dated (audit 120 M3). A sheet of another name leaves the file's day."""
    rows = [["会话ID", "时间", "角色", "发送人", "内容"], ["d1", "10:00:00", "买家", "tb_a", "在吗"]]
    result = read(_workbook(tmp_path / "export.xlsx", {"2026-11-24": rows}))
    assert [m.sent_at.date() for c in result.conversations for m in c.messages] == [date(2026, 11, 24)]
    result = read(_workbook(tmp_path / "export_2026-11-25.xlsx", {"Sheet1": rows}))
    assert [m.sent_at.date() for c in result.conversations for m in c.messages] == [date(2026, 11, 25)]
    # a file named by its day keeps it, whatever its only sheet's title says, and says so (audit 121 M1)
    result = read(_workbook(tmp_path / "2026-11-24.xlsx", {"导出于20261201": rows}))
    assert [m.sent_at.date() for c in result.conversations for m in c.messages] == [date(2026, 11, 24)]
    assert warned(
        result, "names 2026-12-01, the file's name 2026-11-24: clock-only times are read on 2026-11-24"
    )


def test_two_columns_naming_the_text_are_said_with_the_fix(tmp_path: Path) -> None:
    """An empty 消息内容 before 内容: every row was rejected as empty text and nothing named the
    other column (audit 120 M4). --column picks it; two columns of one name need a rename."""
    path = tmp_path / "day.csv"
    path.write_text(
        "会话ID,角色,发送人,时间,消息内容,内容\nK1,买家,tb_a,2026-11-24 09:00:05,,台灯几号发货\n",
        encoding="utf-8",
    )
    result = read(path)
    assert reasons(result) == [(2, "empty text")]
    assert warned(
        result, "line 1: the header names the text in 2 columns (消息内容, 内容)", "--column text=内容"
    )
    fixed = read(path, column_map={"text": "内容"})
    assert [m.text for c in fixed.conversations for m in c.messages] == ["台灯几号发货"]
    assert not [w for w in fixed.warnings if "names the text" in w]
    path.write_text(
        "会话ID,角色,发送人,时间,内容,内容\nK1,买家,tb_a,2026-11-24 09:00:05,台灯几号发货,\n",
        encoding="utf-8",
    )
    assert warned(read(path), "(内容, 内容)", "rename it in the header")


def test_a_chat_cut_across_two_files_given_in_reverse_is_sorted_without_a_warning(tmp_path: Path) -> None:
    """Each part in order, the later file first: "messages out of time order" was said for every chat
    cut at midnight (audit 120 L6). A part out of order in its own file is still said."""
    late, early = tmp_path / "a_2026-11-25.csv", tmp_path / "b_2026-11-24.csv"
    header = "会话ID,角色,发送人,时间,内容\n"
    late.write_text(header + "c1,客服,店:小王,2026-11-25 00:00:20,在的\n", encoding="utf-8")
    early.write_text(header + "c1,买家,b1,2026-11-24 23:59:50,在吗\n", encoding="utf-8")
    result = read(late, early)
    assert [m.text for c in result.conversations for m in c.messages] == ["在吗", "在的"]
    assert not warned(result, "out of time order")
    late.write_text(
        header + "c1,客服,店:小王,2026-11-25 00:00:40,好的\nc1,客服,店:小王,2026-11-25 00:00:20,在的\n",
        encoding="utf-8",
    )
    assert warned(read(late, early), "conversation c1", "messages out of time order")
    # two files whose parts interleave are two exports mixed into one chat: said (audit 121 L1)
    late.write_text(header + "c1,客服,店:小王,2026-11-24 23:59:40,在的\n", encoding="utf-8")
    early.write_text(
        header + "c1,买家,b1,2026-11-24 23:59:30,在吗\nc1,买家,b1,2026-11-24 23:59:50,人呢\n",
        encoding="utf-8",
    )
    assert warned(read(late, early), "conversation c1", "messages out of time order")


def test_a_summary_row_under_the_messages_is_said_as_one(tmp_path: Path) -> None:
    """合计,,,,共 2 条 under the rows was a reject "missing role" (audit 120 L4)."""
    path = tmp_path / "day.csv"
    path.write_text(
        "会话ID,角色,发送人,时间,内容\nK1,买家,tb_a,2026-11-24 09:00:05,在吗\n"
        "K1,客服,店:小王,2026-11-24 09:00:20,在的\n合计,,,,共 2 条\n",
        encoding="utf-8",
    )
    result = read(path)
    assert reasons(result) == [(4, "a summary row (合计, 总计): not a message")]
    assert [m.text for c in result.conversations for m in c.messages] == ["在吗", "在的"]
    # its label in another column than the id's (audit 154 L1)
    path.write_text(
        "会话ID,角色,发送人,时间,内容\nK1,买家,tb_a,2026-11-24 09:00:05,在吗\n,,,总计：,2 条\n",
        encoding="utf-8",
    )
    assert reasons(read(path)) == [(3, "a summary row (合计, 总计): not a message")]
    # a conversation whose id is sum has a role and a sender: a chat (audit 121 H5)
    path.write_text(
        "会话ID,角色,发送人,时间,内容\nsum,客服,店:小王,2026-11-24 09:00:20,爱买不买\n", encoding="utf-8"
    )
    assert [c.id for c in read(path).conversations] == ["sum"]


@pytest.mark.parametrize("label", ["客服(18:00:00)前回复", "客服(6:00pm)下班", "客服 2026-11-25 18：00"])
def test_a_role_words_hours_stay_text_where_role_words_are_the_senders(tmp_path: Path, label: str) -> None:
    """An export whose headers are 买家 … and 客服 …: the role word heads headers, so its hours in a
    reply were a chat line, and the 爱买不买 under them went uncharged (audit 123 H2)."""
    result, conv = read_chat(
        tmp_path,
        "买家 2026-11-24 10:00:01\n几点有人\n客服 2026-11-24 10:00:20\n亲，说明如下：\n"
        f"{label}\n别老催了，爱买不买\n买家 2026-11-24 10:01:00\n好吧\n",
    )
    assert not result.rejects and conv.messages[1].text == f"亲，说明如下：\n{label}\n别老催了，爱买不买"


@pytest.mark.parametrize(
    ("nick", "options"),
    [("tb_new", {}), ("小鹿", {}), ("小鹿", {"customer_nicks": frozenset({"小鹿"})})],
    ids=["ascii", "chinese-heading-a-line", "chinese-given"],
)
def test_a_buyers_first_line_without_its_colon_is_no_agent_text(tmp_path: Path, nick: str, options) -> None:
    """tb_new(10:01) 烦死了 under the agent's first message, the buyer's first line: the agent was
    charged −5 (audit 123 H1), and with a Chinese nick even when given (audit 125 H1); the buyer's
    next line joined the agent's message too (audit 125 H6)."""
    path = tmp_path / "2026-11-24.txt"
    later = "" if options else f"{nick}(10:02:00): 人呢\n"
    path.write_text(
        f"柚子店:小雨(10:00:00): 亲，包裹到驿站了\n{nick}(10:01) 烦死了\n爱买不买的破店\n{later}"
        "柚子店:小雨(10:02:30): 亲请说\n",
        encoding="utf-8",
    )
    result = read(path, **options)
    agents = [m.text for c in result.conversations for m in c.messages if m.role is Role.AGENT]
    assert agents == ["亲，包裹到驿站了", "亲请说"] and [r.line for r in result.rejects] == [2, 3]


@pytest.mark.parametrize(
    ("reply", "line", "after"),
    [
        ("10:00:20", "小鹿(10:00) 烦死了", "小鹿(10:02:00): 人呢"),  # a minute clock names its whole minute
        ("23:59:50", "小鹿(00:00) 烦死了", "小鹿(00:01:00): 人呢"),  # just after midnight
    ],
)
def test_a_buyers_colonless_line_of_this_minute_is_no_quote(
    tmp_path: Path, reply: str, line: str, after: str
) -> None:
    """小鹿(10:00) 烦死了 under a 10:00:20 reply was read as the agent quoting an earlier line, and
    charged to the agent (audit 126 H1)."""
    path = tmp_path / "2026-11-24.txt"
    path.write_text(
        f"小鹿(10:00:00): 在吗\n柚子店:小雨({reply}): 亲，到驿站了\n{line}\n{after}\n", encoding="utf-8"
    )
    result = read(path)
    agents = [m.text for c in result.conversations for m in c.messages if m.role is Role.AGENT]
    assert agents == ["亲，到驿站了"] and [r.line for r in result.rejects] == [3]


@pytest.mark.parametrize(
    ("said", "reply", "quote", "quoted_away"),
    [
        ("2026-11-24 23:58:00", "2026-11-25 00:00:30", "小鹿(23:58) 您说的这句", True),  # across midnight
        ("9:58:00 PM", "10:00:30 PM", "小鹿(9:58) 您说的这句", True),  # a 12-hour file, no PM in the quote
        ("10:00:00", "10:05:00", "小鹿(10:03) 烦死了", False),  # out of time order: the buyer's line
    ],
)
def test_a_quote_names_an_earlier_line_of_its_nick(
    tmp_path: Path, said: str, reply: str, quote: str, quoted_away: bool
) -> None:
    """Asked of the clock alone, a quote across midnight or without its PM was the buyer's line, the
    agent's 爱买不买 under it hidden, and a buyer's line of an export out of time order was a quote,
    charged to the agent (audit 127 H1, H3)."""
    path = tmp_path / "2026-11-24.txt"
    path.write_text(
        f"小鹿({said}): 怎么还没发货\n柚子店:小雨({reply}): 亲\n{quote}\n爱买不买，催什么催\n",
        encoding="utf-8",
    )
    result = read(path)
    agents = [m.text for c in result.conversations for m in c.messages if m.role is Role.AGENT]
    if quoted_away:
        assert agents == [f"亲\n{quote}\n爱买不买，催什么催"] and not result.rejects
    else:
        assert agents == ["亲"] and [r.line for r in result.rejects] == [3, 4]


def test_the_agent_quoting_a_full_stamp_under_a_block_reply_is_its_text(tmp_path: Path) -> None:
    """tb_a(09:58:10)说的我们看到了 in a 10:00:00 reply was cut as the buyer's line, and the 爱买不买
    under it went uncharged (audit 126 H2)."""
    result, conv = read_chat(
        tmp_path,
        "tb_a 2026-11-24 09:58:10\n不发货就差评\n柚子店:小雨 2026-11-24 10:00:00\n"
        "tb_a(09:58:10)说的我们看到了\n爱买不买，催什么催\ntb_a 2026-11-24 10:01:00\n什么态度\n",
    )
    assert not result.rejects and conv.messages[1].text == "tb_a(09:58:10)说的我们看到了\n爱买不买，催什么催"


def test_an_agents_labels_of_any_script_stay_its_text_under_an_inline_reply(tmp_path: Path) -> None:
    """EMS(16:00)前揽收 and SF(17:30)截单 in a reply were cut as chat lines, their words lost (audit
    125 M2): a nick that heads no chat line of the file and never wrote is a label."""
    result, conv = read_chat(
        tmp_path,
        "tb_k(10:00:00): 今天能发吗\n柚子店:小雨(10:00:20): 亲，各快递截单时间：\nEMS(16:00)前揽收\n"
        "SF(17:30)截单，过了别催我\nSKU(10:00)\ntb_k(10:02:00): 好吧\n",
    )
    assert not result.rejects
    assert conv.messages[1].text.endswith("EMS(16:00)前揽收\nSF(17:30)截单，过了别催我\nSKU(10:00)")


def test_the_agent_quoting_the_buyers_earlier_words_under_an_inline_reply_is_its_text(tmp_path: Path) -> None:
    """tb_a(09:58) 这句是您自己说的 in the agent's 10:00:40 reply is a quote of an earlier time, not the
    buyer's line: cut as one, the agent's 爱买不买 under it went uncharged."""
    result, conv = read_chat(
        tmp_path,
        "tb_a(09:58:05): 你们昨天答应今天发\n柚子店:小雨(10:00:40): 我看了下记录\n"
        "tb_a(09:58) 这句是您自己说的\n爱买不买，别瞎说\ntb_a(10:01:30): 好吧\n",
    )
    assert not result.rejects
    assert conv.messages[1].text == "我看了下记录\ntb_a(09:58) 这句是您自己说的\n爱买不买，别瞎说"


def test_a_buyers_full_stamp_without_its_colon_under_a_block_reply_is_a_reject(tmp_path: Path) -> None:
    """tb_a(10:01:10) 烦死了 under the agent's block message was the agent's text, −5 (audit 125 H5);
    the agent quoting the buyer's minute clock stays text (audit 123 H3)."""
    result, conv = read_chat(
        tmp_path,
        "tb_a 2026-11-24 10:00:01\n在吗\n柚子店:小雨 2026-11-24 10:00:20\n亲，稍等\n"
        "tb_a(10:01:10) 烦死了爱买不买\ntb_a 2026-11-24 10:02:00\n人呢\n",
    )
    assert [m.text for m in conv.messages] == ["在吗", "亲，稍等", "人呢"] and [
        r.line for r in result.rejects
    ] == [5]


@pytest.mark.parametrize(
    "text",
    [
        "tb_橙子 2026-11-24 10时03分\n请问发什么快递\n柚子店:小雨 2026-11-24 10时05分\n默认中通哦\n",
        "tb_橙子(2026-11-24 10时03分): 请问发什么快递\n柚子店:小雨(2026-11-24 10时05分): 默认中通哦\n",
        "tb_橙子(10时03分): 请问发什么快递\n柚子店:小雨(10时05分): 默认中通哦\n",
    ],
    ids=["block-dated", "inline-dated", "inline-clock"],
)
def test_a_chinese_clock_without_seconds_is_a_time_in_every_header_style(tmp_path: Path, text: str) -> None:
    """10时03分 matched the header patterns, but the timestamps refused it: every header written so was
    a reject, "time not understood", and the file's messages were lost (audit 127 M2's cause). A bare
    clock of a block header still needs its seconds (售前 8:30 in a reply's list is no header)."""
    result, conv = read_chat(tmp_path, text)
    assert not result.rejects
    assert [(m.role, m.sent_at, m.text) for m in conv.messages] == [
        (Role.CUSTOMER, datetime(2026, 11, 24, 10, 3, tzinfo=SH), "请问发什么快递"),
        (Role.AGENT, datetime(2026, 11, 24, 10, 5, tzinfo=SH), "默认中通哦"),
    ]


@pytest.mark.parametrize("clock", ["9时58分", "09时58分05秒", "上午9时58分"])
def test_the_agent_quoting_the_buyer_with_a_chinese_clock_is_its_text(tmp_path: Path, clock: str) -> None:
    """小鹿(9时58分) 这句是您自己说的 in the agent's reply was refused as a time, so the quote was read as the
    buyer's line: a reject, and the agent's 爱买不买 under it went uncharged (audit 127 M2)."""
    result, conv = read_chat(
        tmp_path,
        "小鹿(09:58:05): 你们昨天答应今天发\n柚子店:小雨(10:00:40): 我看了下记录\n"
        f"小鹿({clock}) 这句是您自己说的\n爱买不买，别瞎说\n小鹿(10:01:30): 好吧\n",
    )
    assert not result.rejects
    assert conv.messages[1].text == f"我看了下记录\n小鹿({clock}) 这句是您自己说的\n爱买不买，别瞎说"


def test_a_buyers_line_without_its_colon_is_a_reject_that_says_so(tmp_path: Path) -> None:
    """A well-formed bracket with no colon after it was rejected as "a chat line or header whose time is
    garbled", which sent the reader to look for a letter in the time (audit 127 L2)."""
    result, conv = read_chat(
        tmp_path,
        "小鹿(09:58:05): 在吗\n柚子店:小雨(10:00:40): 在的\n"
        "小鹿(10:01) 烦死了\n爱买不买\n小鹿(10:02:00): 好吧\n",
    )
    assert [m.text for m in conv.messages] == ["在吗", "在的", "好吧"]
    assert [r.line for r in result.rejects] == [3, 4]
    assert result.rejects[0].reason.startswith("a chat line with no colon after its time")
    assert "garbled" not in result.rejects[0].reason


@pytest.mark.parametrize("stamp", ["10:01:10", "10时01分10秒"])
def test_a_buyers_full_stamp_in_any_clock_style_under_a_block_reply_is_a_reject(
    tmp_path: Path, stamp: str
) -> None:
    """tb_a(10时01分10秒) 烦死了 under the agent's block message was the agent's text: only a colon clock
    counted as one with seconds (audit 125 H5 in the 时分秒 style)."""
    result, conv = read_chat(
        tmp_path,
        "tb_a 2026-11-24 10:00:01\n在吗\n柚子店:小雨 2026-11-24 10:00:20\n亲，稍等\n"
        f"tb_a({stamp}) 烦死了爱买不买\ntb_a 2026-11-24 10:02:00\n人呢\n",
    )
    assert [m.text for m in conv.messages] == ["在吗", "亲，稍等", "人呢"]
    assert [r.line for r in result.rejects] == [5]


@pytest.mark.parametrize("windows_rows", [2, 40], ids=["mac-majority", "windows-majority"])
def test_a_windows_export_joined_to_a_mac_one_is_read_or_said(tmp_path: Path, windows_rows: int) -> None:
    """A CSV whose Windows rows (CRLF) sit beside a Mac export's (CR alone) was split on one kind:
    every Windows row a reject in Python's words (audit 129 M1). Where the Mac lines are more, both
    halves are read; where fewer, the file is read on line feeds (a CR alone may be JSON's space)
    and the Mac half is one reject that says what to do."""
    header = "会话ID,角色,发送人,时间,内容"

    def rows(cid: str, n: int) -> list[str]:
        return [
            f"{cid},{'买家' if k % 2 == 0 else '客服'},{'b1' if k % 2 == 0 else '店:小王'},"
            f"2026-11-24 10:{k // 60:02d}:{k % 60:02d},第{k}句"
            for k in range(n)
        ]

    windows, mac = rows("W1", windows_rows), rows("M1", 20)
    path = tmp_path / "joined.csv"
    path.write_bytes(
        ("\r\n".join([header, *windows]) + "\r\n" + "\r".join([header, *mac]) + "\r").encode("utf-8")
    )
    result = read(path)
    read_rows = {c.id: len(c.messages) for c in result.conversations}
    if windows_rows < 20:
        assert read_rows == {"W1": windows_rows, "M1": 20}
        assert [r.line for r in result.rejects] == [windows_rows + 2]  # the Mac export's repeated header
    else:
        assert read_rows == {"W1": windows_rows}
        (reject,) = result.rejects
        assert reject.reason.startswith("not valid CSV: a line holds carriage returns alone")


def test_an_api_envelope_on_one_line_of_json_lines_says_how_to_get_its_messages(tmp_path: Path) -> None:
    """{"code":0,"msg":"ok","data":{"list":[…]}} on a line was "missing conversation_id" (msg names a
    text); the same envelope as a whole file names the list and the jq command (audit 129 L1)."""
    path = tmp_path / "day.jsonl"
    message = {
        "conversation_id": "c1",
        "role": "customer",
        "timestamp": "2026-11-24T10:00:00+08:00",
        "text": "在吗",
    }
    path.write_text(
        json.dumps(message, ensure_ascii=False)
        + "\n"
        + json.dumps({"code": 0, "msg": "ok", "data": {"list": [message]}}, ensure_ascii=False)
        + "\n",
        encoding="utf-8",
    )
    result = read(path)
    (reject,) = result.rejects
    assert reject.line == 2 and '"data"."list" holds a list' in reject.reason and "jq -c" in reject.reason


def test_a_mac_block_in_json_lines_of_line_feeds_says_how_to_fix_it(tmp_path: Path) -> None:
    """Mac lines (CR alone) at the end of a file of line feeds ran together into one line, rejected as
    "truncated or garbled line?" (audit 131 M4): the reason says the line ends differ."""
    rows = [
        json.dumps(
            {
                "conversation_id": f"c{n}",
                "role": "customer",
                "timestamp": "2026-11-24T10:00:00+08:00",
                "text": "在吗",
            },
            ensure_ascii=False,
        )
        for n in range(6)
    ]
    path = tmp_path / "day.jsonl"
    path.write_bytes(("\n".join(rows[:4]) + "\n" + "\r".join(rows[4:]) + "\r").encode("utf-8"))
    result = read(path)
    assert len(result.conversations) == 4
    (reject,) = result.rejects
    assert reject.line == 5 and reject.reason.startswith(
        "not valid JSON: a line holds carriage returns alone"
    )


def test_a_utf16_mac_export_with_windows_rows_joined_is_read_row_by_row(tmp_path: Path) -> None:
    """UTF-16 split a CR-ended file at its carriage returns only: each CRLF row started with a line feed,
    a reject (audit 131 L3)."""
    header = "会话ID\t角色\t发送人\t时间\t内容"
    rows = [
        f"M1\t{'买家' if k % 2 == 0 else '客服'}\tb{k % 2}\t2026-11-24 10:00:{k:02d}\t第{k}句"
        for k in range(8)
    ]
    text = "\r\n".join([header, *rows[:2]]) + "\r\n" + "\r".join(rows[2:]) + "\r"
    path = tmp_path / "joined.csv"
    path.write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))
    result = read(path)
    assert not result.rejects and [len(c.messages) for c in result.conversations] == [8]


def test_a_quote_names_a_line_of_its_own_conversation_not_another_buyers(tmp_path: Path) -> None:
    """买家(10:01) 烦死了 under the agent's reply was taken for a quote of another conversation's 10:01
    line (the role word is every buyer's nick), and the buyer's 爱买不买 was charged to the agent
    (audit 132 H3)."""
    path = tmp_path / "chat_2026-11-24.txt"
    path.write_text(
        "=====  会话 c001  =====\n买家(10:01): 这个有红色吗\n柚子店:小雨(10:02): 有的亲\n"
        "=====  会话 c002  =====\n买家(10:03): 我的快递到哪了\n柚子店:小雨(10:05): 亲，您稍等\n"
        "买家(10:01) 烦死了，爱买不买是吧\n柚子店:小雨(10:06): 已经在派送了\n",
        encoding="utf-8",
    )
    result = read(path)
    second = next(c for c in result.conversations if c.id == "c002")
    assert [m.text for m in second.messages] == ["我的快递到哪了", "亲，您稍等", "已经在派送了"]
    assert [r.line for r in result.rejects] == [7]


def test_one_json_record_holding_a_carriage_return_is_no_mac_block(tmp_path: Path) -> None:
    """A single record with a raw CR in its text was told to save the file with one kind of line end,
    which would cut it in two (audit 133 M5): only records parted by CRs alone are said so."""
    path = tmp_path / "day.jsonl"
    path.write_text(
        '{"conversation_id": "c1", "role": "customer", "text": "在吗\r还在吗"}\n',
        encoding="utf-8",
        newline="",
    )
    (reject,) = read(path).rejects
    assert reject.reason.startswith("not valid JSON (") and "carriage returns" not in reject.reason


def test_the_agent_quoting_the_buyers_line_of_yesterdays_chat_is_its_text(tmp_path: Path) -> None:
    """tb_海风(23:58:10) quoted in the next day's chat is her line of the day before: asked of the open
    conversation alone, the quote was a reject and the agent's 爱买不买 under it went uncharged (audit
    134 H2). Only a role word, every buyer's, is asked of its own conversation (audit 132 H3)."""
    path = tmp_path / "chat_2026-11-24.txt"
    path.write_text(
        "tb_海风 2026-11-24 23:58:10\n不用开发票，直接发\n柚子店:小雨 2026-11-24 23:58:40\n好的亲\n"
        "———— 2026-11-25 ————\n柚子店:小雨 2026-11-25 09:00:05\n亲，您昨晚说的\n"
        "tb_海风(23:58:10) 不用开发票，直接发\n所以没开，别再问了，爱买不买\n"
        "tb_海风 2026-11-25 09:01:10\n什么态度\n",
        encoding="utf-8",
    )
    result = read(path)
    assert not result.rejects
    said = [m.text for c in result.conversations for m in c.messages]
    assert "亲，您昨晚说的\ntb_海风(23:58:10) 不用开发票，直接发\n所以没开，别再问了，爱买不买" in said


def test_a_mac_block_whose_last_record_is_cut_still_says_its_line_ends_differ(tmp_path: Path) -> None:
    """Records parted by CRs alone, the last one cut, got "truncated or garbled line?" (audit 136 L1)."""
    rows = [
        json.dumps({"conversation_id": f"c{n}", "role": "customer", "text": "在吗"}, ensure_ascii=False)
        for n in range(12)
    ]
    path = tmp_path / "day.jsonl"
    path.write_bytes(
        ("\n".join(rows[:9]) + "\n" + "\r".join([*rows[9:], rows[0][:20]]) + "\r").encode("utf-8")
    )
    reject = next(r for r in read(path).rejects if r.line == 10)
    assert reject.reason.startswith("not valid JSON: a line holds carriage returns alone")


def test_a_minute_export_sorted_by_buyer_without_a_day_keeps_its_buyer(tmp_path: Path) -> None:
    """小芳(15:00) listed before 小王's chat of a file without a day was folded into 阿青's reply when
    小王's line carried its date, and her 爱买不买 charged to the agent (audit 137 R4)."""
    path = tmp_path / "chat.txt"
    path.write_text(
        "小林(09:00)：在吗\n柚子店:阿青(09:01)：在的亲\n小芳(15:00)：你们怎么回事，爱买不买是吧\n"
        "小王(2026-11-24 10:00)：发什么快递\n柚子店:阿青(10:01)：默认中通\n",
        encoding="utf-8",
    )
    result = read(path)
    said = {m.text: m.role for c in result.conversations for m in c.messages}
    assert said["你们怎么回事，爱买不买是吧"] is Role.CUSTOMER and said["在的亲"] is Role.AGENT


@pytest.mark.parametrize(
    ("name", "rest"),
    [
        # 截单时间(17:00) under a 15:01 reply was read as a buyer once the list's next label (15:30) lay in
        # time order before the buyer's answer: taken for a new buyer's chat (audit 137 R3).
        ("chat_2026-11-24.txt", "揽收时间(15:30)：快递上门\n小鹿(15:40)：好的\n"),
        # With no day known, 到货时间(2026-11-25 18:00) was a new buyer's chat that could not be placed
        # (audit 138 M3).
        (
            "chat.txt",
            "到货时间(2026-11-25 18:00)：请留意\n柚子店:小雨(15:02)：还有问题吗\n小鹿(15:40)：好的\n",
        ),
    ],
)
def test_an_agents_label_list_keeps_its_first_label_whatever_its_next_line(
    tmp_path: Path, name: str, rest: str
) -> None:
    """The list's first label un-folded, a buyer of its own, and the agent's 爱买不买 went uncharged."""
    path = tmp_path / name
    path.write_text(
        "小鹿(15:00)：今天能发吗\n柚子店:小雨(15:01)：亲，规则如下\n截单时间(17:00)：当天发出，别问了，爱买不买\n"
        + rest,
        encoding="utf-8",
    )
    replies = [m.text for c in read(path).conversations for m in c.messages if m.role is Role.AGENT]
    assert replies[0].startswith("亲，规则如下\n截单时间(17:00)：当天发出，别问了，爱买不买")


def test_a_rejected_time_counts_in_no_tally_of_minutes_seconds_or_missing_days(tmp_path: Path) -> None:
    """A line rejected for its time (25:00:00, 2026-02-30) raised "no date" and mixed minutes and seconds
    warnings about times no message kept (audit 138 M1)."""
    undated = tmp_path / "chat.txt"
    undated.write_text(
        "小鹿(25:00:00)：在吗\n柚子店:小雨(2026-11-24 10:00:05)：在的\n小鹿(2026-11-24 10:01:00)：好\n",
        encoding="utf-8",
    )
    mixed = tmp_path / "chat_2026-11-24.txt"
    mixed.write_text(
        "小鹿(10:00:00)：在吗\n柚子店:小雨(10:00:30)：在的\n小鹿(2026-02-30 10:01)：好\n", encoding="utf-8"
    )
    for path in (undated, mixed):
        result = read(path)
        assert result.rejected == 1 and [r.line for r in result.rejects] == [1 if path == undated else 3]
        assert not [w for w in result.warnings if "no date" in w or "written to the minute" in w], path


def test_a_wide_rollover_window_keeps_a_next_evening_line_on_its_day(tmp_path: Path, monkeypatch) -> None:
    """With clock_back_rollover_minutes = 600, 23:00 after a night crossed at 08:00 was dated the night
    before (audit 137 R2); a line listed minutes out of turn is still that night (138 M2)."""
    limits = tmp_path / "limits.toml"
    limits.write_text("[input]\nclock_back_rollover_minutes = 600\n", encoding="utf-8")
    monkeypatch.setenv("QC_LIMITS", str(limits))
    path = tmp_path / "chat_2026-11-24.txt"
    path.write_text(
        "小鹿(22:00)：在吗，这个能退吗\n柚子店:小雨(08:00)：亲，早上好，可以退的\n"
        "小鹿(23:00)：刚下班，怎么退\n柚子店:小雨(23:05)：亲，点申请退款就行\n",
        encoding="utf-8",
    )
    times = [m.sent_at for c in read(path).conversations for m in c.messages]
    assert [t.strftime("%d %H:%M") for t in times if t] == ["24 22:00", "25 08:00", "25 23:00", "25 23:05"]


def test_a_platform_line_before_an_agents_list_is_no_buyer_of_the_chat(tmp_path: Path) -> None:
    """系统消息(09:55) before a chat the agent opens counted as its buyer, so the list's first label was
    a buyer again and its 爱买不买 uncharged, the chat timed a day late (audit 140 H3)."""
    path = tmp_path / "chat_2026-11-24.txt"
    path.write_text(
        "系统消息(09:55)：买家已拍下，待付款\n柚子店:小雨(09:56)：亲，您拍的宝贝发货规则如下\n"
        "截单时间(16:00)：当天发出，过了就明天，爱买不买\n小王(10:40)：好的知道了\n柚子店:小雨(10:55)：亲，还有别的问题吗\n",
        encoding="utf-8",
    )
    messages = [m for c in read(path).conversations for m in c.messages]
    assert messages[1].text.endswith("爱买不买") and messages[1].role is Role.AGENT
    assert [m.sender for m in messages if m.role is Role.CUSTOMER] == ["小王"]
    assert {m.sent_at.day for m in messages if m.sent_at} == {24}


def test_the_out_of_turn_rule_after_midnight_can_be_turned_off(tmp_path: Path, monkeypatch) -> None:
    """clock_out_of_turn_minutes = 0 was refused, so the rule could not be switched off (audit 140 L2)."""
    limits = tmp_path / "limits.toml"
    limits.write_text("[input]\nclock_out_of_turn_minutes = 0\n", encoding="utf-8")
    path = tmp_path / "chat_2026-11-24.txt"
    path.write_text(
        "小鹿(23:40)：在吗\n柚子店:小雨(23:48)：在的亲\n小鹿(00:02)：这个还有货吗\n柚子店:小雨(23:58)：亲，您看下链接\n",
        encoding="utf-8",
    )
    on = [m.sent_at.day for c in read(path).conversations for m in c.messages if m.sent_at]
    monkeypatch.setenv("QC_LIMITS", str(limits))
    off = [m.sent_at.day for c in read(path).conversations for m in c.messages if m.sent_at]
    assert sorted(on) == [24, 24, 24, 25] and sorted(off) == [24, 24, 25, 25]


@pytest.mark.parametrize(
    ("text", "reply"),
    [
        # 揽收时间 heading a line in another chat's list too was walked as a new buyer's chat (audit 142 H2)
        (
            "小鹿(09:00)：什么时候发\n柚子店:小雨(09:01)：亲，规则如下\n截单时间(16:00)：当天发出，爱买不买\n"
            "揽收时间(09:30)：次日揽收\n小鹿(10:00)：好\n柚子店:小雨(10:01)：不客气\n=====\n"
            "阿花(14:00)：什么时候揽收\n柚子店:小雨(14:01)：亲\n揽收时间(18:30)：当天揽收\n阿花(14:02)：好的\n",
            "亲，规则如下\n截单时间(16:00)：当天发出，爱买不买",
        ),
        # 顺丰(17:00) then 截单时间(15:30), 截单时间 listed again in another chat (audit 145 H2)
        (
            "小鹿(15:00)：今天能发吗\n柚子店:小雨(15:01)：亲，规则如下\n顺丰(17:00)：当天发出，爱买不买\n"
            "截单时间(15:30)：第二天发\n小鹿(15:40)：好的\n柚子店:小雨(15:41)：不客气\n=====\n"
            "阿花(16:00)：能发顺丰吗\n柚子店:小雨(16:01)：亲，规则如下\n截单时间(16:30)：当天发出\n阿花(16:05)：好的\n",
            "亲，规则如下\n顺丰(17:00)：当天发出，爱买不买\n截单时间(15:30)",
        ),
    ],
    ids=["label-in-two-chats", "under-a-courier"],
)
def test_a_delivery_label_the_file_lists_in_two_chats_is_still_no_new_buyer(
    tmp_path: Path, text: str, reply: str
) -> None:
    """The list un-folded: its 爱买不买 uncharged and the rest of the chat put a day late."""
    path = tmp_path / "chat_2026-11-24.txt"
    path.write_text(text, encoding="utf-8")
    first = read(path).conversations[0].messages
    assert first[1].text.startswith(reply)
    assert {m.sent_at.day for m in first if m.sent_at} == {24}


def test_a_notice_at_a_dated_midnight_line_keeps_the_slipped_reply_that_night(tmp_path: Path) -> None:
    """A platform notice at the instant of a dated line crossing midnight switched the out-of-turn rule
    off: the 23:58 reply listed after it went to the next night (audit 142 H1, 145 L2)."""
    path = tmp_path / "chat_2026-11-24.txt"
    path.write_text(
        "小鹿(23:50)：在吗\n柚子店:小雨(23:57)：在的亲\n小鹿(2026-11-25 00:05)：有货吗\n"
        "【系统提示】买家已离开会话\n柚子店:小雨(23:58)：亲您看下\n小鹿(00:07)：好\n",
        encoding="utf-8",
    )
    reply = next(m for c in read(path).conversations for m in c.messages if m.text == "亲您看下")
    assert reply.sent_at is not None and (reply.sent_at.day, reply.sent_at.hour) == (24, 23)


@pytest.mark.parametrize(
    "text",
    [
        # 揽收时间 listed in two chats with two times, under the reply itself (audit 146 H1)
        "阿花(14:00)：什么时候揽收\n柚子店:小雨(14:01)：亲，规则如下\n揽收时间(18:30)：当天揽收，爱买不买\n"
        "阿花(14:02)：好的\n柚子店:小雨(14:03)：不客气\n=====\n"
        "小鹿(09:00)：什么时候揽收\n柚子店:小雨(09:01)：亲，规则如下\n揽收时间(17:30)：当天揽收\n小鹿(09:02)：好\n",
        # a courier's line over a delivery label, then a colleague takes over (audit 146 H2)
        "小鹿(15:00)：能发中通吗\n柚子店:小雨(15:01)：亲，快递如下\n顺丰(17:00)：当天发出，爱买不买\n"
        "截单时间(18:00)：第二天发\n柚子店:阿青(15:20)：亲，我是售后阿青，转接过来了\n小鹿(15:21)：好的\n",
    ],
    ids=["label-in-two-chats", "courier-over-label-then-colleague"],
)
def test_a_shops_list_stays_the_agents_text_and_its_charge_stands(tmp_path: Path, text: str) -> None:
    """The list's first line became a buyer: the agent's 爱买不买 went uncharged and the chat slid a day."""
    path = tmp_path / "chat_2026-11-24.txt"
    path.write_text(text, encoding="utf-8")
    first = read(path).conversations[0].messages
    assert "爱买不买" in first[1].text and first[1].role is Role.AGENT
    assert {m.sent_at.day for m in first if m.sent_at} == {24}


@pytest.mark.parametrize(
    "text",
    [
        # a buyer named like a time label writes twice, a colleague answers her (audit 148 H1)
        "阿花(10:00)：在吗\n柚子店:小雨(10:01)：亲，在的\n小周(15:00)：你们怎么回事，爱买不买是吧\n"
        "快乐时间(09:50)：在吗\n柚子店:阿青(10:05)：亲，在的\n快乐时间(10:06)：好\n",
        "阿花(10:00)：在吗\n柚子店:小雨(10:01)：亲，在的\n小周(15:00)：你们怎么回事，爱买不买是吧\n"
        "等发货(09:50)：在吗\n柚子店:阿青(10:05)：亲，在的\n等发货(10:06)：好\n",
        # a buyer named like a time label writes in turn right under a folded delivery list (148 H2)
        "小鹿(11:00)：在吗\n柚子店:小雨(11:08)：亲，规则如下\n截单时间(17:14)：当天发出\n截单时间(11:12)：第二天发\n"
        "快乐时间(11:09)：怎么没人理，爱买不买是吧\n柚子店:小雨(11:21)：明天发\n",
    ],
    ids=["over-a-time-named-buyer-who-writes-twice", "over-dengfahuo", "in-turn-under-a-folded-list"],
)
def test_a_buyer_named_like_a_label_is_never_folded_into_the_agents_reply(tmp_path: Path, text: str) -> None:
    """The buyer's 爱买不买 went into the agent's reply, and the agent was charged for it."""
    path = tmp_path / "chat_2026-11-24.txt"
    path.write_text(text, encoding="utf-8")
    messages = [m for c in read(path).conversations for m in c.messages]
    said = [m for m in messages if "爱买不买" in m.text]
    assert len(said) == 1 and said[0].role is Role.CUSTOMER and said[0].text.startswith(("你们", "怎么"))


def test_a_promotions_next_label_in_turn_under_its_folded_one_stays_the_agents(tmp_path: Path) -> None:
    """活动结束 at a time that fits the chat's order was read as a fourth buyer (audit 149 M2)."""
    path = tmp_path / "chat_2026-11-24.txt"
    path.write_text(
        "小鹿(19:50)：今晚有活动吗\n橙子铺:小雨(19:52)：亲，时间如下\n活动开始(23:00)：满300减40\n"
        "活动结束(19:53)：过时不候\n小鹿(19:58)：好的\n",
        encoding="utf-8",
    )
    (chat,) = read(path).conversations
    assert [m.role for m in chat.messages] == [Role.CUSTOMER, Role.AGENT, Role.CUSTOMER]
    assert chat.messages[1].text.endswith("活动结束(19:53)：过时不候")


def test_one_chat_as_conversation_json_and_as_rows_or_other_times_is_read_once(tmp_path: Path) -> None:
    """The chat given as conversation JSON Lines and as a CSV, or as two conversation lines writing
    one instant as ISO and as epoch seconds, was read twice, every deduction doubled (audit 154 H4);
    two sends of one line at one second stay two."""
    said = [
        ("买家", "tb_小鹿", "2026-11-24T10:00:00+08:00", 1795485600, "在吗"),
        ("客服", "店:阿青", "2026-11-24T10:00:40+08:00", 1795485640, "在的亲"),
        ("客服", "店:阿青", "2026-11-24T10:00:40+08:00", 1795485640, "在的亲"),  # sent twice
    ]

    def line(at: int) -> str:
        messages = [{"role": r, "sender": s, "timestamp": t[at], "text": x} for r, s, *t, x in said]
        return json.dumps({"conversation_id": "D1", "messages": messages}, ensure_ascii=False) + "\n"

    iso, epoch, sheet = tmp_path / "iso.jsonl", tmp_path / "epoch.jsonl", tmp_path / "rows.csv"
    iso.write_text(line(0), encoding="utf-8")
    epoch.write_text(line(1), encoding="utf-8")
    sheet.write_text(
        "会话ID,角色,发送人,时间,内容\n"
        + "".join(f"D1,{r},{s},{t[:19].replace('T', ' ')},{x}\n" for r, s, t, _, x in said),
        encoding="utf-8",
    )
    for other in (epoch, sheet):
        result = read(iso, other)
        assert_balanced(result)
        (conv,) = result.conversations
        assert [m.text for m in conv.messages] == ["在吗", "在的亲", "在的亲"]
        assert len(result.rejects) == 3 and all("duplicate" in r.reason for r in result.rejects)


def test_clock_only_rows_after_a_fully_dated_row_are_on_its_day_and_cross_midnight(tmp_path: Path) -> None:
    """An export that writes the date only when it changes: the rows under a dated row took the
    file name's day (the export's), and a 10 s reply read as 86,410 s (audit 154 H5)."""
    path = tmp_path / "导出_2026-11-26.csv"
    path.write_text(
        "会话ID,角色,发送人,时间,内容\n"
        "M1,买家,tb_小鱼,2026-11-24 23:59:30,在吗\n"
        "M2,买家,tb_阿伟,10:00:00,有货吗\n"
        "M1,客服,店:阿青,23:59:40,在的亲\n"
        "M1,买家,tb_小鱼,00:00:20,能开发票吗\n"
        "M1,客服,店:阿青,00:00:35,可以的\n",
        encoding="utf-8",
    )
    result = read(path)
    assert_balanced(result)
    convs = {c.id: [m.sent_at for m in c.messages] for c in result.conversations}
    assert convs["M1"] == [
        datetime(2026, 11, 24, 23, 59, 30, tzinfo=SH),
        datetime(2026, 11, 24, 23, 59, 40, tzinfo=SH),
        datetime(2026, 11, 25, 0, 0, 20, tzinfo=SH),
        datetime(2026, 11, 25, 0, 0, 35, tzinfo=SH),
    ]
    assert convs["M2"] == [datetime(2026, 11, 26, 10, 0, tzinfo=SH)]  # no date of its own: the file's


def test_a_buyer_nick_with_a_colon_beside_the_shops_agent_is_the_buyer(tmp_path: Path) -> None:
    """jd:小林 in 暖阳小铺's sheet without roles, beside 暖阳小铺:阿青, was a second agent: her words
    charged to it and 阿青's reply never timed (audit 154 H1). A prefix holding the shop's name may be
    another spelling of it: not made the buyer."""
    path = tmp_path / "day.csv"
    path.write_text(
        "会话ID,店铺,时间,发送人,内容\n"
        "k1,暖阳小铺,2026-11-24 10:00:01,jd:小林,这个能便宜点吗\n"
        "k1,暖阳小铺,2026-11-24 10:00:41,暖阳小铺:阿青,亲，已经是最低价了\n"
        "k1,暖阳小铺,2026-11-24 10:01:00,jd:小林,你们服务太差了\n"
        "k2,暖阳小铺,2026-11-24 11:00:01,tb_阿梨,在吗\n"
        "k2,暖阳小铺,2026-11-24 11:00:09,暖阳小铺:阿青,在的亲\n"
        "k2,暖阳小铺,2026-11-24 11:00:30,暖阳小铺旗舰店:阿木,我来跟进\n",
        encoding="utf-8",
    )
    result = read(path)
    assert_balanced(result)
    convs = {c.id: c for c in result.conversations}
    assert [(m.role, m.sender) for m in convs["k1"].messages] == [
        (Role.CUSTOMER, "jd:小林"),
        (Role.AGENT, "暖阳小铺:阿青"),
        (Role.CUSTOMER, "jd:小林"),
    ]
    assert [m.role for m in convs["k2"].messages] == [Role.CUSTOMER, Role.AGENT, Role.AGENT]


def test_a_receiving_agent_column_never_charges_a_colleagues_words_to_that_agent(tmp_path: Path) -> None:
    """接待客服 names the chat's receiving agent on every row; after a transfer 阿蓝's 烦不烦啊 was
    scored as 阿青's (audit 154 H2). An opaque 客服ID beside a nick still names the agent."""
    path = tmp_path / "day_2026-11-24.csv"
    path.write_text(
        "会话ID,角色,发送人,接待客服,时间,内容\n"
        "T1,买家,tb_小鱼,暖阳小铺:阿青,10:00:00,在吗\n"
        "T1,客服,暖阳小铺:阿青,暖阳小铺:阿青,10:00:10,在的亲\n"
        "T1,客服,暖阳小铺:阿蓝,暖阳小铺:阿青,10:01:10,烦不烦啊\n"
        "T2,买家,tb_小鹿,3301,10:00:00,在吗\n"
        "T2,客服,暖阳小铺:阿青,3301,10:00:10,在的亲\n",
        encoding="utf-8",
    )
    result = read(path)
    assert_balanced(result)
    convs = {c.id: c for c in result.conversations}
    assert [m.agent for m in convs["T1"].messages if m.role is Role.AGENT] == [
        "暖阳小铺:阿青",
        "暖阳小铺:阿蓝",
    ]
    assert [m.agent for m in convs["T2"].messages if m.role is Role.AGENT] == ["3301"]


def test_an_iso_offset_of_hours_alone_is_read() -> None:
    """2026-11-24T10:01:00+08 was a reject, "timestamp not understood" (audit 154 L2)."""
    assert parse_timestamp("2026-11-24T10:01:00+08", SH) == datetime(2026, 11, 24, 10, 1, tzinfo=SH)
    assert parse_timestamp("2026-11-24 10:01:00-05", SH) == datetime(2026, 11, 24, 23, 1, tzinfo=SH)


def test_a_role_column_of_values_qc_does_not_read_is_said_with_the_fix(tmp_path: Path) -> None:
    """A 发送方 column holding the nicks lost every row with exit 0 and no word of the fix (audit 154 M3)."""
    path = tmp_path / "day_2026-11-24.csv"
    path.write_text(
        "会话ID,发送方,时间,内容\n"
        "S1,tb_小鱼,2026-11-24 10:00:00,在吗\n"
        "S1,暖阳小铺:阿青,2026-11-24 10:00:10,在的亲\n",
        encoding="utf-8",
    )
    result = read(path)
    assert result.accepted == 0
    assert any(
        "2 of 2 rows have a role qc does not read" in w and "--column sender=HEADER" in w
        for w in result.warnings
    )
    fixed = read(path, column_map={"sender": "发送方"})
    assert fixed.accepted == 2 and not any("role qc does not read" in w for w in fixed.warnings)


def test_a_header_without_rows_or_an_empty_json_list_is_said(tmp_path: Path) -> None:
    """Read as 0 records without a word: a failed export looked like a quiet day (audit 154 L4)."""
    sheet, dump = tmp_path / "a.csv", tmp_path / "b.json"
    sheet.write_text("会话ID,角色,发送人,时间,内容\n", encoding="utf-8")
    dump.write_text("[]", encoding="utf-8")
    result = read(sheet, dump)
    assert result.read == 0
    for path in (sheet, dump):
        assert (
            f"{path}: no message in it (a header without rows, or an empty list): a failed export?"
            in result.warnings
        )


def test_clock_only_times_in_a_json_document_roll_over_midnight_unless_dated_or_newest_first(
    tmp_path: Path,
) -> None:
    """23:59:30 then 00:00:10 in a JSON document was sorted reply-first, and the buyer's question then
    never answered that day (audit 154 H3). A record's own date starts its clock again, and a
    conversation listed newest first does not roll (audit 158 H1, H2)."""

    def doc(name: str, said: list[tuple[str, str, str, str]], **more: str) -> Path:
        rows = [
            {"conversation_id": "J", "role": r, "sender": s, "timestamp": t, "text": x, **more}
            for r, s, t, x in said
        ]
        path = tmp_path / name
        path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
        return path

    crossing = doc(
        "a_2026-11-24.json",
        [("买家", "tb_小鱼", "23:59:30", "在吗"), ("客服", "店:阿青", "00:00:10", "在的亲")],
    )
    (conv,) = read(crossing).conversations
    assert [m.sent_at for m in conv.messages] == [
        datetime(2026, 11, 24, 23, 59, 30, tzinfo=SH),
        datetime(2026, 11, 25, 0, 0, 10, tzinfo=SH),
    ]
    dated = doc(
        "b_2026-11-24.json",
        [("买家", "tb_小鱼", "10:00:00", "在吗"), ("客服", "店:阿青", "10:00:10", "在的亲")],
    )
    rows = json.loads(dated.read_text(encoding="utf-8"))
    rows[0]["date"], rows[1]["date"] = "2026-11-24", "2026-11-24"
    rows += [
        {**rows[0], "date": "2026-11-23", "timestamp": "15:00:00"},
        {**rows[1], "date": "2026-11-23", "timestamp": "15:00:20"},
    ]
    dated.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    (conv,) = read(dated).conversations
    assert [m.sent_at.day for m in conv.messages] == [23, 23, 24, 24]
    newest = doc(
        "c_2026-11-24.json",
        [
            ("买家", "tb_小鱼", "21:00:05", "收到了谢谢"),
            ("客服", "店:阿青", "08:01:00", "今天下午发"),
            ("买家", "tb_小鱼", "08:00:40", "今天能发吗"),
        ],
    )
    (conv,) = read(newest).conversations
    assert [m.sent_at.day for m in conv.messages] == [24, 24, 24]


def test_a_row_in_utf8_inside_a_gbk_export_reads_as_written(tmp_path: Path) -> None:
    """Pasted in UTF-8 into a GBK file, 就这个价爱买不买 was read as mojibake (its phrase never found)
    or refused with the whole file, as its Chinese runs were even or odd (audit 154 M1); a GBK 哦,
    whose bytes are also UTF-8, stays 哦."""
    head = "会话ID,角色,发送人,时间,内容\nG1,买家,tb_小鱼,2026-11-24 10:00:00,能便宜点吗\n".encode("gbk")
    pasted = "G1,客服,店:阿青,2026-11-24 10:00:20,就这个价爱买不买\n".encode()
    odd = "G1,客服,店:阿青,2026-11-24 10:00:30,不议价哦\n".encode()
    tail = "G1,买家,tb_小鱼,2026-11-24 10:01:00,哦\n".encode("gbk")
    path = tmp_path / "day_2026-11-24.csv"
    path.write_bytes(head + pasted + odd + tail)
    result = read(path)
    assert_balanced(result)
    (conv,) = result.conversations
    assert [m.text for m in conv.messages] == ["能便宜点吗", "就这个价爱买不买", "不议价哦", "哦"]


def test_a_json_document_without_role_keys_reads_its_buyers_as_a_sheet_does(tmp_path: Path) -> None:
    """Every buyer message of a JSON document without role keys was a reject, where the same chat
    as a sheet without a role column read them (audit 154 M4)."""
    rows = [
        {
            "conversation_id": "K1",
            "sender": "tb_橙子",
            "timestamp": "2026-11-24 10:00:05",
            "text": "能装开水吗",
        },
        {
            "conversation_id": "K1",
            "sender": "暖阳小铺:阿青",
            "timestamp": "2026-11-24 10:00:30",
            "text": "可以的亲",
        },
    ]
    path = tmp_path / "chats.json"
    path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    result = read(path)
    assert_balanced(result)
    (conv,) = result.conversations
    assert [m.role for m in conv.messages] == [Role.CUSTOMER, Role.AGENT]
    assert any("are read as the buyer" in w for w in result.warnings)


def test_a_shortened_shop_prefix_stays_an_agent_and_a_platforms_is_the_buyer(tmp_path: Path) -> None:
    """暖阳:阿紫 in 暖阳小铺's sheet was read as the buyer after audit 154 H1: her 自己看说明 went
    uncharged and her colleague got a missed reply (audit 158 M3). 京东:小林 beside 京东柚子自营店 is
    a buyer's nick (README)."""
    path = tmp_path / "day.csv"
    path.write_text(
        "会话ID,店铺,时间,发送人,内容\n"
        "k1,暖阳小铺,2026-11-24 10:00:01,tb_阿梨,怎么用\n"
        "k1,暖阳小铺,2026-11-24 10:00:20,暖阳小铺:阿青,您好\n"
        "k1,暖阳小铺,2026-11-24 10:00:40,暖阳:阿紫,自己看说明\n"
        "k2,京东柚子自营店,2026-11-24 11:00:01,京东:小林,到了吗\n"
        "k2,京东柚子自营店,2026-11-24 11:00:09,京东柚子自营店:阿木,在路上了\n",
        encoding="utf-8",
    )
    convs = {c.id: c for c in read(path).conversations}
    assert [m.role for m in convs["k1"].messages] == [Role.CUSTOMER, Role.AGENT, Role.AGENT]
    assert [m.role for m in convs["k2"].messages] == [Role.CUSTOMER, Role.AGENT]


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("role", {"x": 1}, "role is an object, not text"),
        ("role", True, "role is true/false, not text"),
        ("sender", ["店:甲"], "sender is a list, not text"),
        ("shop", ["s"], "shop is a list, not text"),
        ("message_id", {"a": 1}, "message_id is an object, not text"),
        ("date", ["x"], "date is a list, not text"),
        ("agent_id", [1], "agent_id is a list, not text"),
        ("conversation_id", ["h1"], "conversation_id is a list, not text"),
    ],
)
def test_a_field_given_as_a_list_an_object_or_true_false_is_a_reject_naming_it(
    tmp_path: Path, field: str, value: object, reason: str
) -> None:
    """Read as absent, the record was kept with another role, shop or no message id, unsaid;
    the same mistake in text or timestamp was a reject (audit 162 M3)."""
    good = {
        "conversation_id": "h1",
        "role": "客服",
        "sender": "店:甲",
        "text": "好的",
        "timestamp": "2026-11-24 10:00:05",
    }
    path = tmp_path / "day.jsonl"
    path.write_text(
        json.dumps({**good, "text": "在吗", "role": "买家", "sender": "b1"}, ensure_ascii=False)
        + "\n"
        + json.dumps({**good, field: value}, ensure_ascii=False)
        + "\n",
        encoding="utf-8",
    )
    result = read(path)
    assert reasons(result) == [(2, f"{reason}: write it as a string")]
    assert [m.text for c in result.conversations for m in c.messages] == ["在吗"]


def test_a_note_merged_down_beside_the_table_fills_no_row(tmp_path: Path) -> None:
    """A note merged over the rows to the right of the header gave each row a cell past it: every
    message was refused as too wide (audit 163 H1)."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(_HEADER)
    ws.append(["X1", "买家", "b1", "2026-11-24 10:00:00", "在吗", None, "备注：11月24日导出"])
    ws.append(["X1", "客服", "店:小王", "2026-11-24 10:00:05", "在的"])
    ws.append(["X1", "买家", "b1", "2026-11-24 10:00:30", "好的"])
    ws.merge_cells("G2:G4")
    wb.save(tmp_path / "note.xlsx")
    result = read(tmp_path / "note.xlsx")
    assert [r.line for r in result.rejects] == [2]  # the note's own row, as before
    assert [m.text for c in result.conversations for m in c.messages] == ["在的", "好的"]


def test_blank_rows_inside_a_merged_range_stay_blank(tmp_path: Path) -> None:
    """A date merged down a page over two messages made each empty row under it a message with
    no text, refused, with a warning about ids taken from above (audit 163 H3)."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["日期", *_HEADER])
    ws.append(["2026-11-24", "X1", "买家", "b1", "10:00:00", "在吗"])
    ws.append([None, "X1", "客服", "店:小王", "10:00:05", "在的"])
    for _ in range(20):
        ws.append([None] * 6)
    ws.merge_cells("A2:A23")
    wb.save(tmp_path / "page.xlsx")
    result = read(tmp_path / "page.xlsx")
    assert not result.rejects and not warned(result, "empty 会话ID")
    assert [m.text for c in result.conversations for m in c.messages] == ["在吗", "在的"]


def test_a_header_cell_merged_into_the_data_is_no_value_of_it(tmp_path: Path) -> None:
    """A 店铺 header merged down over the data put every message in shop 店铺 (audit 163 L5)."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([*_HEADER, "店铺"])
    ws.append(["X1", "买家", "b1", "2026-11-24 10:00:00", "在吗"])
    ws.append(["X1", "客服", "柚子店:小王", "2026-11-24 10:00:05", "在的"])
    ws.merge_cells("F1:F3")
    wb.save(tmp_path / "shop.xlsx")
    (conv,) = read(tmp_path / "shop.xlsx").conversations
    assert conv.shop == "柚子店"


def test_a_total_row_with_a_date_or_number_before_its_label_is_a_summary_row(tmp_path: Path) -> None:
    """2026-11-24,合计,,,,共2条 was refused as "missing role" once the label had to come first
    (audit 163 M2)."""
    path = tmp_path / "day.csv"
    path.write_text(
        "日期,会话ID,角色,发送人,时间,内容\n2026-11-24,cv1,买家,b1,10:00:00,在吗\n"
        "2026-11-24,cv1,客服,店:阿明,10:00:20,在的\n2026-11-24,合计,,,,共2条\n",
        encoding="utf-8",
    )
    assert reasons(read(path)) == [(4, "a summary row (合计, 总计): not a message")]
