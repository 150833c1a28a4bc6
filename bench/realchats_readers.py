"""Reader fidelity on real text: the real chats written out in each input format and read back.

Every conversation of ``../shared/realchats`` is written, in a temporary folder that is removed
afterwards, as a 千牛 block-style text export, an inline text export, a CSV sheet and JSON Lines
(one message per line), with made-up shop, agent and buyer nicks and times on one day. Each file
is read back with ``qc.readers.read_inputs`` and every message is compared with what was written:
the count per conversation, the order, the role, the text and the time. Real text holds what
hand-written tests lack (multi-line messages, pitches that open with ``***``, emoticons such as
``=-=``, times and dates inside messages, placeholders such as ``[数字x]``), and a reader that
mistakes one line of it for a header or a divider loses a message or charges someone else.

Nothing of the real chats is written into the repository or printed: the table gives counts, and
``--show N`` prints the ids and message indices of the first N problems, never their text.

    python bench/realchats_readers.py /work/shared/realchats/real_conversations.jsonl [--show 10]

Normalisations the README documents are not problems: a text export takes each line of a message
without its leading and trailing spaces, and what a platform writes in the agent's column
(系统提示：…, an emoticon code alone) is the platform's (role ``system``).
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from qc.readers import ReadOptions, read_inputs

SHOPS = ("柚子优选旗舰店", "暖阳小铺", "京东柚子自营店")
AGENTS = ("小雨", "小满", "阿青", "小周")
DAY = datetime(2026, 11, 24, 8, 0, 0)

Written = dict[str, list[tuple[str, str, str, str]]]  # conversation id → (role, sender, HH:MM:SS, text)


def _conversations(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _timeline(conversations: list[dict], seed: int) -> list[tuple[str, str, str, datetime, str]]:
    """(conversation id, role, sender, time, text) of every message, each chat with its own nicks."""
    rng = random.Random(seed)
    rows = []
    for i, conv in enumerate(conversations):
        shop = SHOPS[i % len(SHOPS)]
        agent, buyer = f"{shop}:{AGENTS[i % len(AGENTS)]}", f"tb_buyer{i:05d}"
        at = DAY + timedelta(seconds=10 * i)
        for message in conv["messages"]:
            sender = agent if message["role"] == "agent" else buyer
            rows.append((conv["conversation_id"], message["role"], sender, at, message["text"]))
            at += timedelta(seconds=rng.randint(20, 90))
    return rows


def _write(rows: list[tuple[str, str, str, datetime, str]], folder: Path) -> dict[str, Path]:
    """The day in each format; the text exports name each chat on a divider line."""
    by_chat: dict[str, list[tuple[str, str, str, datetime, str]]] = {}
    for row in rows:
        by_chat.setdefault(row[0], []).append(row)
    files = {
        "block": folder / "2026-11-24_block.txt",
        "inline": folder / "2026-11-24_inline.txt",
        "csv": folder / "day.csv",
        "jsonl": folder / "day.jsonl",
    }
    with (
        files["block"].open("w", encoding="utf-8") as block,
        files["inline"].open("w", encoding="utf-8") as inline,
    ):
        for n, (_, chat) in enumerate(by_chat.items(), start=1):
            for out in (block, inline):
                out.write(f"===== 会话 r{n:05d} =====\n")
            for _, _, sender, at, text in chat:
                block.write(f"{sender} {at:%Y-%m-%d %H:%M:%S}\n{text}\n")
                inline.write(f"{sender}({at:%H:%M:%S}): {text}\n")
    with files["csv"].open("w", encoding="utf-8", newline="") as fh:
        sheet = csv.writer(fh)
        sheet.writerow(["会话ID", "角色", "发送人", "时间", "内容"])
        for cid, role, sender, at, text in rows:
            sheet.writerow(
                [cid, "客服" if role == "agent" else "买家", sender, f"{at:%Y-%m-%d %H:%M:%S}", text]
            )
    with files["jsonl"].open("w", encoding="utf-8") as fh:
        for cid, role, sender, at, text in rows:
            record = {
                "conversation_id": cid,
                "role": role,
                "sender": sender,
                "timestamp": f"{at:%Y-%m-%d %H:%M:%S}",
            }
            fh.write(json.dumps({**record, "text": text}, ensure_ascii=False) + "\n")
    return files


def _lines(text: str) -> str:
    return "\n".join(line.strip() for line in text.split("\n")).strip()


def _compare(path: Path, written: dict[str, list[tuple[str, str, datetime, str]]]) -> dict:
    """Read ``path`` back and count what differs from ``written`` (by conversation id or divider label)."""
    started = time.perf_counter()
    result = read_inputs([path], ReadOptions())
    seconds = time.perf_counter() - started
    labels = {f"r{n:05d}": cid for n, cid in enumerate(written, start=1)}
    problems: list[str] = []
    system = 0
    seen = set()
    for conv in result.conversations:
        cid = labels.get(conv.id, conv.id)
        expected = written.get(cid)
        if expected is None or cid in seen:
            problems.append(f"{conv.id}: a conversation nobody wrote")
            continue
        seen.add(cid)
        if len(conv.messages) != len(expected):
            problems.append(f"{cid}: {len(conv.messages)} messages read, {len(expected)} written")
            continue
        for i, ((role, sender, at, text), message) in enumerate(zip(expected, conv.messages, strict=True)):
            if message.role.value == "system" and role == "agent":
                system += 1  # the platform's line in the agent's column, as documented
                continue
            same_text = _lines(message.text) == _lines(text)
            same_time = (
                message.sent_at is not None and message.sent_at.strftime("%H:%M:%S") == f"{at:%H:%M:%S}"
            )
            if message.role.value != role or message.sender != sender or not same_text or not same_time:
                problems.append(f"{cid} message {i}")
    problems += [f"{cid}: not read" for cid in written if cid not in seen]
    return {
        "conversations": len(result.conversations),
        "messages": sum(len(c.messages) for c in result.conversations),
        "rejects": len(result.rejects),
        "warnings": len(result.warnings),
        "platform": system,
        "problems": problems,
        "seconds": seconds,
    }


def main(argv: list[str] | None = None) -> int:
    """Write the real chats in each format, read them back, print what differs (counts only)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("realchats", type=Path)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--show", type=int, default=0, help="ids of the first N problems (never text)")
    args = parser.parse_args(argv)
    conversations = _conversations(args.realchats)
    rows = _timeline(conversations, args.seed)
    written: dict[str, list[tuple[str, str, datetime, str]]] = {}
    for cid, role, sender, at, text in rows:
        written.setdefault(cid, []).append((role, sender, at, text))
    print(f"{len(conversations):,} conversations, {len(rows):,} messages of {args.realchats}")
    print("| format | conversations | messages | rejects | warnings | platform lines | problems | read s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    failed = 0
    with tempfile.TemporaryDirectory(prefix="qc-readers-") as tmp:
        for name, path in _write(rows, Path(tmp)).items():
            found = _compare(path, written)
            failed += len(found["problems"])
            cells = [
                name,
                f"{found['conversations']:,}",
                f"{found['messages']:,}",
                *(str(found[k]) for k in ("rejects", "warnings", "platform")),
                str(len(found["problems"])),
                f"{found['seconds']:.1f}",
            ]
            print("| " + " | ".join(cells) + " |")
            for problem in found["problems"][: args.show]:
                print(f"    {name}: {problem}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
