"""Throughput of the annotator (tokens + sentiment) and of forbidden_phrase.v1, separately.

Uses synthetic conversations built from a few handwritten lines (no real chats), repeated with
varied numbers so the tokenizer cache does not hide the cost. Usage:
    python bench/bench_forbidden.py [--conversations 2000]
"""

from __future__ import annotations

import argparse
import random
import time

from qc.rules import RuleSettings
from qc.rules.forbidden_phrase import make_forbidden_phrase_rule
from qc.schema import Conversation, Message, Role
from qc.text.annotate import make_annotator

BUYER = [
    "这款有{n}ml装的么",
    "能今天发货吗",
    "订单{n}怎么还没到",
    "好的谢谢",
    "收到的杯子是碎的",
    "在吗",
    "包邮吗",
]
AGENT = [
    "亲，有现货的哦，今天{n}点前下单当天发",
    "嗯",
    "不好意思让您久等了，我帮您查一下物流",
    "我不清楚呢，马上帮您问一下仓库",
    "没有",
    "亲,详情页第{n}张图有尺码表,我截图给您哦",
    "好的，已经帮您备注了",
]


def make(n_conv: int, seed: int = 0) -> list[Conversation]:
    rng = random.Random(seed)
    convs = []
    for c in range(n_conv):
        msgs = []
        for i in range(10):
            role = Role.CUSTOMER if i % 2 == 0 else Role.AGENT
            pool = BUYER if role is Role.CUSTOMER else AGENT
            text = rng.choice(pool).format(n=rng.randint(1, 99999))
            msgs.append(Message(i, role, text, sender="a" if role is Role.AGENT else "b"))
        convs.append(Conversation(f"c{c}", tuple(msgs)))
    return convs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--conversations", type=int, default=2000)
    args = ap.parse_args()
    settings = RuleSettings()
    annotate = make_annotator(settings.user_dict)
    rule = make_forbidden_phrase_rule(settings)
    convs = make(args.conversations)
    n = sum(len(c.messages) for c in convs)
    t = time.perf_counter()
    feats = [annotate(c) for c in convs]
    ta = time.perf_counter() - t
    t = time.perf_counter()
    found = sum(len(list(rule.check(c, f))) for c, f in zip(convs, feats, strict=True))
    tr = time.perf_counter() - t
    print(f"{n} messages: annotate {n / ta:,.0f} msgs/s ({ta / n * 1e6:.1f} us/msg), ")
    print(f"forbidden_phrase.v1 {n / tr:,.0f} msgs/s ({tr / n * 1e6:.1f} us/msg), {found} findings")


if __name__ == "__main__":
    main()
