"""Hostile inputs against their budgets (issue 19, item 4): time and peak memory of `qc inspect`.

Builds, in a temporary folder, (1) a ~5 KB XLSX whose sheet declares ``A1:XFD1048576``, (2) an
XLSX of N rows with no <dimension> (``--rows``), (3) a day with one agent message of
``--chars`` characters dense in lexicon hits, (4) a text export line of a date and ``--chars``
spaces, (5) CSV time cells of a clock and spaces, (6) a minute text export of ``--rows`` / 50
messages whose buyer's lines lack their colon, and runs ``qc inspect`` on each in a fresh process,
printing wall time, exit code and the child's peak RSS. Usage:
    python bench/hostile_inputs.py [--rows 1000000] [--chars 100000]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

HEADER = ["会话ID", "角色", "昵称", "时间", "内容"]
DENSE_UNIT = "我不知道自己看不懂说过了不行不好意思"

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml"'
    ' ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml"'
    ' ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    ' xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WB_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
)


def _cell(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def write_xlsx(path: Path, rows: list[list[str]] | None, dimension: str | None, repeat: int = 0) -> None:
    """A minimal workbook: ``rows``, then the last row repeated ``repeat`` times (streamed to disk)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", _CONTENT_TYPES)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("xl/workbook.xml", _WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", _WB_RELS)
        with z.open("xl/worksheets/sheet1.xml", "w") as fh:
            fh.write(
                b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            )
            if dimension:
                fh.write(f'<dimension ref="{dimension}"/>'.encode())
            fh.write(b"<sheetData>")
            n = 0
            for n, row in enumerate(rows or [], start=1):
                cells = "".join(_cell(f"{chr(65 + i)}{n}", v) for i, v in enumerate(row))
                fh.write(f'<row r="{n}">{cells}</row>'.encode())
            last = (rows or [[]])[-1]
            for k in range(n + 1, n + 1 + repeat):
                cells = "".join(_cell(f"{chr(65 + i)}{k}", v) for i, v in enumerate(last))
                fh.write(f'<row r="{k}">{cells}</row>'.encode())
            fh.write(b"</sheetData></worksheet>")


def run(label: str, inputs: list[Path], out: Path) -> None:
    """``qc inspect`` in a child process: wall time, exit code, the child's peak RSS."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "qc", "inspect", *map(str, inputs), "--out", str(out), "-q"],
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    size = sum(p.stat().st_size for p in inputs)
    print(
        f"{label}: {size / 1024:,.0f} KB in, exit {done.returncode}, {seconds:.2f} s,"
        f" peak RSS {max(peak, before) / 1024:,.0f} MB (max over children so far)"
    )
    line = (done.stderr.strip().splitlines() or [""])[-1]
    print(f"  {line[:240]}")


def main() -> None:
    """Build the six hostile inputs and time `qc inspect` on each."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--chars", type=int, default=100_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        row = ["c1", "客服", "店:小王", "2026-11-24 10:00:00", "好的"]
        sparse = root / "sparse.xlsx"
        write_xlsx(sparse, [HEADER, row], "A1:XFD1048576")
        run("sparse XLSX declaring A1:XFD1048576", [sparse], root / "o1")
        big = root / "rows.xlsx"
        write_xlsx(big, [HEADER, row], None, repeat=args.rows - 2)
        run(f"XLSX of {args.rows:,} rows, no dimension", [big], root / "o2")
        dense = root / "dense.jsonl"
        text = (DENSE_UNIT * (args.chars // len(DENSE_UNIT) + 1))[: args.chars]
        lines = [
            {
                "conversation_id": "d1",
                "role": "customer",
                "sender": "tb_x",
                "timestamp": "2026-11-24 10:00:00",
                "text": "这个怎么用",
            },
            {
                "conversation_id": "d1",
                "role": "agent",
                "sender": "店:小王",
                "timestamp": "2026-11-24 10:00:30",
                "text": text,
            },
        ]
        dense.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8")
        run(f"one {args.chars:,}-character message dense in lexicon hits", [dense], root / "o3")
        # A text export whose reply holds a date and then a long run of spaces: the header patterns
        # backtracked quadratically on it (20,000 spaces took a minute to read, audit 116 M2).
        spaces = root / "chat_2026-11-24.txt"
        spaces.write_text(
            "买家 2026-11-24 10:00:01\n在吗\n店:小王 2026-11-24 10:00:20\n"
            f"买家 2026-11-24{' ' * args.chars}x\n",
            encoding="utf-8",
        )
        run(f"a text export line of a date and {args.chars:,} spaces", [spaces], root / "o4")
        # Time cells of a clock and then a long run of spaces: the timestamp patterns backtracked
        # quadratically on them (20,000 spaces: 1.8 s a cell, audit 121 M4).
        cells = root / "times_2026-11-24.csv"
        cells.write_text(
            "会话ID,角色,发送人,时间,内容\n"
            + "".join(f"c{k},买家,tb_x,10:0{k}{' ' * args.chars}x,在吗\n" for k in range(10)),
            encoding="utf-8",
        )
        run(f"ten CSV time cells of a clock and {args.chars:,} spaces", [cells], root / "o5")
        # One buyer's lines without their colon, thousands of them under the agent's replies of a
        # day's export written to the minute: each asked whether it quotes her earlier lines, which
        # walked all of them (24,000 messages: 48 s, audit 132 M1). A nick, not 买家: a role word's
        # lines never ask (audit 134 L1).
        quotes = root / "minutes_2026-11-24.txt"
        turns = max(1, args.rows // 100)
        clock = [f"{k // 60 % 24:02d}:{k % 60:02d}" for k in range(turns + 1)]
        quotes.write_text(
            "".join(
                f"小鹿 2026-11-24 {clock[k]}\n在吗\n店:小王 2026-11-24 {clock[k]}\n亲，在的\n"
                f"小鹿({clock[k + 1]}) 烦死了\n"
                for k in range(turns)
            ),
            encoding="utf-8",
        )
        run(
            f"a minute export of {2 * turns:,} messages, {turns:,} lines without their colon",
            [quotes],
            root / "o6",
        )


if __name__ == "__main__":
    main()
