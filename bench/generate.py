"""Generate a benchmark day of N messages as one-message-per-line JSONL (seeded).

Two kinds of day:

* ``generated`` (default): conversations from :mod:`qc.synth.conversations` (agents, buyers,
  timing, the full mix of findings), written conversation after conversation, streaming.
  Its texts repeat far more than a real shop's; ``--vary P`` makes a share ``P`` of the
  messages distinct by giving each its own order number, amount or product code.
* ``real`` (``--from-realchats PATH``): copies of the real chats in
  ``../shared/realchats`` (read at benchmark time, never committed), the way a shop's day
  repeats them: every copy gets its own order numbers, amounts, names, dates and phone
  numbers in place of the corpus's placeholders (``[订单x]``, ``[金额x]``, ``[姓名x]`` …),
  fresh timestamps and one of the shop's agents; template replies repeat as in a shop, replies
  that carry data stay distinct. JD system notices become system messages.

Usage:
    python bench/generate.py 1000000 bench/out/day-1m.jsonl [--seed 7] [--day 2026-11-24] [--vary 0.2]
    python bench/generate.py 1000000 bench/out/real-1m.jsonl \\
        --from-realchats ../shared/realchats/real_conversations.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from qc.readers.roles import is_platform_notice
from qc.synth.conversations import iter_conversations
from qc.synth.exports import write_jsonl_messages

_TZ = timezone(timedelta(hours=8))
_PLACEHOLDER = re.compile(
    r"\[(数字|订单|金额|姓名|日期|时间|站点|链接|地址|电话|邮箱|身份证|组织机构|数字x)x?\]"
)
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚"
_PLACES = (
    "朝阳区建国路",
    "海淀区学院路",
    "浦东新区世纪大道",
    "天河区体育西路",
    "武侯区人民南路",
    "西湖区文三路",
)
_SHOPS = ("柚子优选旗舰店", "青禾家居专营店", "小满数码旗舰店")
_AGENTS = ("小雨", "阿杰", "木木", "阿宁", "小满", "豆豆")


def generate(
    n_messages: int, path: Path, seed: int = 7, day: date = date(2026, 11, 24), vary: float = 0.0
) -> int:
    """Write exactly ``n_messages`` generated messages of one day into ``path``; return the count."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conversations = iter_conversations(day, seed, n_messages=n_messages)
    if vary <= 0:
        return write_jsonl_messages(conversations, path)
    rng = random.Random(seed * 7919 + 1)
    count = 0
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        from qc.synth.exports import message_records

        for conversation in conversations:
            for record in message_records(conversation):
                if record["text"] and rng.random() < vary:
                    record["text"] = _vary(record["text"], rng)
                fh.write(json.dumps(record, ensure_ascii=False) + "\n")
                count += 1
    return count


def _vary(text: str, rng: random.Random) -> str:
    """The same message with data of its own (an order number, an amount or a product code)."""
    choice = rng.randrange(3)
    if choice == 0:
        return f"{text} 订单号{rng.randrange(10**11, 10**12)}"
    if choice == 1:
        return f"{text}（{rng.randrange(9, 999)}.{rng.randrange(100):02d}元）"
    return f"{text} 型号{rng.choice('ABCDEFGH')}{rng.randrange(100, 9999)}"


def _fill(text: str, rng: random.Random, copy: dict[str, str]) -> str:
    """The corpus's placeholders filled with this copy's data (the same placeholder, the same value)."""

    def value(kind: str) -> str:
        if kind not in copy:
            copy[kind] = {
                "数字": lambda: str(rng.randrange(1, 10 ** rng.randrange(1, 6))),
                "订单": lambda: str(rng.randrange(10**11, 10**12)),
                "金额": lambda: f"{rng.randrange(9, 3000)}.{rng.randrange(100):02d}",
                "姓名": lambda: (
                    rng.choice(_SURNAMES) + rng.choice(_GIVEN) + rng.choice(("", rng.choice(_GIVEN)))
                ),
                "日期": lambda: f"{rng.randrange(1, 13)}月{rng.randrange(1, 29)}日",
                "时间": lambda: f"{rng.randrange(8, 23):02d}:{rng.randrange(60):02d}",
                "站点": lambda: rng.choice(_PLACES)[:3] + "站",
                "链接": lambda: f"https://item.example.com/{rng.randrange(10**6, 10**7)}.html",
                "地址": lambda: f"{rng.choice(_PLACES)}{rng.randrange(1, 300)}号",
                "电话": lambda: f"1{rng.choice('3589')}{rng.randrange(10**8, 10**9)}",
            }.get(kind, lambda: str(rng.randrange(1000)))()
        return copy[kind]

    return _PLACEHOLDER.sub(lambda m: value(m.group(1)), text)


def _real_conversations(source: Path) -> list[dict]:
    with source.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def real_day(n_messages: int, path: Path, source: Path, seed: int = 7, day: date = date(2026, 11, 24)) -> int:
    """Write exactly ``n_messages`` messages of a shop day made of copies of the real chats."""
    corpus = _real_conversations(source)
    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    count = number = 0
    start_of_day = datetime(day.year, day.month, day.day, 8, 0, tzinfo=_TZ)
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        while count < n_messages:
            conversation = rng.choice(corpus)
            number += 1
            shop = rng.choice(_SHOPS)
            agent = f"{shop}:{rng.choice(_AGENTS)}"
            buyer = f"tb_{rng.randrange(10**6, 10**7)}"
            at = start_of_day + timedelta(seconds=rng.randrange(0, 14 * 3600))
            copy: dict[str, str] = {}
            for message in conversation["messages"]:
                if count >= n_messages:
                    break
                text = _fill(message["text"], rng, copy)
                role = message["role"]
                if role == "agent" and is_platform_notice(text):
                    role = "system"
                at += timedelta(seconds=rng.randrange(3, 90) if role == "agent" else rng.randrange(5, 240))
                record = {
                    "conversation_id": f"r{number:08d}",
                    "role": role,
                    "sender": agent if role == "agent" else buyer if role == "customer" else "系统",
                    "timestamp": at.isoformat(),
                    "text": text,
                    "shop": shop,
                    "auto_reply": False,
                }
                if role == "agent":
                    record["agent_id"] = agent
                fh.write(json.dumps(record, ensure_ascii=False) + "\n")
                count += 1
    return count


def distinct_share(path: Path, role: str = "agent") -> float:
    """Share of distinct texts among the messages of ``role`` in a day file."""
    texts: list[str] = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            record = json.loads(line)
            if record["role"] == role:
                texts.append(record["text"])
    return len(set(texts)) / len(texts) if texts else 0.0


def iter_lines(path: Path) -> Iterator[str]:
    """The lines of a day file (for quick checks)."""
    with path.open(encoding="utf-8") as fh:
        yield from fh


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n_messages", type=int)
    parser.add_argument("path", type=Path)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--day", type=date.fromisoformat, default=date(2026, 11, 24))
    parser.add_argument(
        "--vary", type=float, default=0.0, help="generated day: share of messages made distinct"
    )
    parser.add_argument("--from-realchats", type=Path, default=None, help="build the day from the real chats")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    if args.from_realchats is not None:
        count = real_day(args.n_messages, args.path, args.from_realchats, args.seed, args.day)
    else:
        count = generate(args.n_messages, args.path, args.seed, args.day, args.vary)
    share = distinct_share(args.path)
    print(
        f"{count} messages → {args.path} in {time.perf_counter() - started:.1f}s;"
        f" distinct agent texts {share:.1%}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
