"""A messy day of exports for comparing readers and engines: every edge case of the readers at once.

JSON Lines with blank, broken and CRLF lines, exact duplicates (within a file and across
files), a conversation that comes back after others, time-only stamps, a conversation line
with a non-object message and a message of another conversation; a UTF-8 file with a BOM,
CRLF and no final newline under a Chinese name; a UTF-8 CSV with title rows, a quoted field
over two lines, short and long rows and an unterminated quote; a CSV without header; a JSON
Lines file with a garbled line, and one with a garbled line far down; an empty file; notes
that are no chat export (skipped); a workbook whose sheets are not in name order with
duplicates; and the reader fixtures (GB18030, UTF-16, text exports).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

READERS = Path(__file__).parent / "data" / "readers"


def messy_day(root: Path, readers: Path = READERS) -> Path:
    day = root / "messy"
    day.mkdir(parents=True, exist_ok=True)

    def j(obj):
        return json.dumps(obj, ensure_ascii=False)

    def m(cid, role, ts, text, **kw):
        sender = kw.pop("sender", "店:小王" if role in ("agent", "客服") else "buyer")
        return j(
            {"conversation_id": cid, "role": role, "sender": sender, "timestamp": ts, "text": text, **kw}
        )

    lines = [
        m("c1", "customer", "2026-11-24 10:00:00", "这个什么时候发货？"),
        m("c1", "agent", "2026-11-24 10:00:30", "不知道"),
        "",
        "{not json",
        m("c1", "agent", "2026-11-24 10:00:30", "不知道"),  # exact duplicate
        "[1, 2]",
        m("c2", "买家", "2026-11-24 10:05:00", "在吗") + "\r",
        m("c2", "客服", "2026-11-24 10:04:00", "在的，您说") + "\r",  # out of time order
        m("c3", "nobody", "2026-11-24 10:06:00", "角色不对"),
        m("c3", "customer", "2026-11-24 10:06:00", ""),
        m("c1", "customer", "2026-11-24 10:01:00", "你们怎么回事"),  # c1 again: not contiguous
        m("c1", "agent", "2026-11-24 10:01:05", "爱买不买", auto_reply="maybe"),
        m("c1", "agent", "2026-11-24 10:01:09", "爱买不买"),
        m("c4", "customer", "10:07:00", "只有时间"),  # time-only: no day in this name
        m("c4", "agent", "10:07:30", "好的"),
        j(
            {
                "conversation_id": "c5",
                "shop": "店",
                "messages": [
                    {"role": "customer", "text": "能今天发货吗", "timestamp": "2026-11-24 11:00:00"},
                    {"role": "agent", "sender": "店:小满", "text": "哦", "timestamp": "2026-11-24 11:00:40"},
                    "not an object",
                    {
                        "conversation_id": "c6",
                        "role": "customer",
                        "text": "另一个会话",
                        "timestamp": "2026-11-24 11:02:00",
                    },
                ],
            }
        ),
        j({"conversation_id": "c7", "messages": "nope"}),
        j({"conversation_id": "c7", "messages": []}),
    ]
    for i in range(40):  # enough lines for several blocks
        cid = f"g{i % 7}"
        lines.append(
            m(
                cid,
                "customer" if i % 2 == 0 else "agent",
                f"2026-11-24 12:{i:02d}:00",
                "在吗" if i % 2 == 0 else "亲，在的哦",
            )
        )
    (day / "a_messages.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    # second file: continues c1 and g0 (across files), repeats a record of the first file
    more = [
        m("c1", "agent", "2026-11-24 10:02:00", "我不知道"),
        m("c1", "agent", "2026-11-24 10:00:30", "不知道"),  # duplicate of a line in a_messages
        m("g0", "agent", "2026-11-24 13:00:00", "好的"),
        m("c8", "customer", "2026-11-24 14:00:00", "你好"),
    ]
    (day / "b_会话_2026-11-24.jsonl").write_bytes(
        b"\xef\xbb\xbf" + ("\r\n".join(more)).encode("utf-8")
    )  # BOM, CRLF, no final newline
    csv = [
        "某店 聊天记录导出",
        "",
        "会话ID,角色,发送人,时间,内容",
        'k1,买家,buyer,2026-11-24 15:00:00,"有货吗，\n要两件"',
        "k1,客服,店:小李,2026-11-24 15:00:20,有的",
        "k1,客服,店:小李,2026-11-24 15:00:20,有的",
        "k2,买家,buyer,2026-11-24 15:01:00",
        "k2,买家,buyer,2026-11-24 15:01:00,多,了,字段",
        "c1,客服,店:小王,2026-11-24 10:03:00,不清楚",
        'k3,买家,buyer,2026-11-24 15:02:00,"没有结束的引号',
        "k3,客服,店:小李,2026-11-24 15:02:30,在的",
    ]
    (day / "c_export.csv").write_text("\r\n".join(csv) + "\r\n", encoding="utf-8")
    (day / "d_noheader.csv").write_text("a,b,c\n1,2,3\n", encoding="utf-8")
    (day / "e_garbled.jsonl").write_bytes(
        m("c9", "customer", "2026-11-24 16:00:00", "你好").encode()
        + b"\n\xff\xfe\n"
        + m("c9", "agent", "2026-11-24 16:00:10", "在").encode()
        + b"\n"
    )
    (day / "f_empty.jsonl").write_bytes(b"")
    # Notes beside the exports, not a chat export: skipped with a warning, never rejected.
    (day / "j_说明.txt").write_text("导出说明：每天一个文件夹。\n客服账号见后台。\n", encoding="utf-8")
    # Odd names: glob characters and spaces Spark reads; a ':' no Hadoop path can hold.
    (day / "i_odd name [1]{x}*.jsonl").write_text(
        m("c1", "agent", "2026-11-24 10:04:00", "好的") + "\n", "utf-8"
    )
    (day / "i_odd:colon.jsonl").write_text(m("o1", "customer", "2026-11-24 19:00:00", "在吗") + "\n", "utf-8")
    # A garbled line after the lines the format sniffer reads: only the survey of every line finds it.
    late = [
        m(f"h{i // 4}", "customer" if i % 2 == 0 else "agent", f"2026-11-24 18:{i % 60:02d}:00", "好")
        for i in range(130)
    ]
    (day / "h_late_garble.jsonl").write_bytes(
        ("\n".join(late) + "\n").encode() + b"\xe4\xbd\n" + late[0].encode() + b"\n"
    )
    from openpyxl import Workbook

    wb = Workbook()
    first = wb.active
    first.title = "Z店"
    second = wb.create_sheet("A店")
    header = ["会话ID", "角色", "发送人", "时间", "内容"]
    first.append(header)
    first.append(["x1", "买家", "buyer", "2026-11-24 17:00:00", "在吗"])
    first.append(["x1", "wrong", "buyer", "2026-11-24 17:00:01", "角色不对"])
    first.append(["x1", "客服", "店:小周", "2026-11-24 17:00:20", "不知道"])
    second.append(header)
    second.append(["x1", "客服", "店:小周", "2026-11-24 17:00:20", "不知道"])  # duplicate across sheets
    second.append(["x2", "买家", "buyer", "2026-11-24 17:05:00", ""])
    second.append(["x2", "买家", "buyer", "2026-11-24 17:05:00", "你好"])
    second.append(["x2", "买家", "buyer", "2026-11-24 17:05:00", "你好"])  # duplicate within the sheet
    wb.save(day / "g_sheets.xlsx")
    for f in readers.iterdir():
        shutil.copy(f, day / f"z_{f.name}")
    return day
