"""A tiny inspected day in a store, shared by the review, report, flagged and sample tests.

Four conversations on 2026-11-24 (made-up wording): a conflict (爱买不买, −5) by 阿杰, a bare
negative (没有, −1) by 小美 after a buyer message carrying a ``<script>`` tag, and two clean
chats. The buyer of the first gives a phone number, an order number and an address.
"""

from __future__ import annotations

import json
from pathlib import Path

SHOP = "测试店"
DAY = "2026-11-24"
SCRIPT_TEXT = "<script>alert('x')</script>有赠品吗"
PHONE = "13812345678"
ORDER = "3719283746152837465"
ADDRESS = "浙江省杭州市西湖区文三路90号3栋502室"


def msg(role: str, sender: str, t: str, text: str) -> dict:
    return {
        "role": role,
        "sender": sender,
        "timestamp": f"{DAY}T{t}+08:00",
        "text": text,
        "auto_reply": False,
    }


CONVERSATIONS = [
    {
        "conversation_id": "cA",
        "shop": SHOP,
        "messages": [
            msg("customer", "buyer1", "10:00:00", "能便宜点吗"),
            msg("agent", "测试店:阿杰", "10:01:30", "爱买不买"),
            msg("customer", "buyer1", "10:02:00", f"我的电话{PHONE}，订单{ORDER}，地址{ADDRESS}"),
            msg("agent", "测试店:阿杰", "10:02:10", "好的亲，已经帮您备注了"),
        ],
    },
    {
        "conversation_id": "cB",
        "shop": SHOP,
        "messages": [
            msg("customer", "buyer2", "11:00:00", SCRIPT_TEXT),
            msg("agent", "测试店:小美", "11:00:05", "没有"),
            msg("customer", "buyer2", "11:00:30", "好吧"),
            msg("agent", "测试店:小美", "11:00:40", "亲，收藏店铺可以领券哦"),
        ],
    },
    {
        "conversation_id": "cC",
        "shop": SHOP,
        "messages": [
            msg("customer", "buyer3", "12:00:00", "发什么快递"),
            msg("agent", "测试店:阿杰", "12:00:05", "亲，默认中通快递哦，一般两三天到"),
        ],
    },
    {
        "conversation_id": "cD",
        "shop": SHOP,
        "messages": [
            msg("customer", "buyer4", "13:00:00", "这款有现货吗"),
            msg("agent", "测试店:小美", "13:00:06", "有现货的亲，今天下单今天发"),
        ],
    },
]


# Who may decide in the tests' stores (issue 17: reviews and appeal steps need registered people).
TEAM = (
    ("质检小王", "reviewer", None),
    ("qa", "reviewer", None),
    ("a", "reviewer", None),
    ("张主管", "supervisor", None),
    ("boss", "supervisor", None),
    ("b", "supervisor", None),
    ("阿杰", "agent", f"{SHOP}:阿杰"),
    ("小美", "agent", f"{SHOP}:小美"),
)


def add_team(db: Path, team=TEAM) -> None:
    """Register ``team`` (name, role, agent id) in the store at ``db``."""
    from qc.store.database import open_store
    from qc.supervise.people import add_person

    with open_store(db) as store:
        for name, role, agent_id in team:
            add_person(store, name, role, accounts=[agent_id] if agent_id else [], by="test")


def write_day(folder: Path, conversations: list[dict] | None = None) -> Path:
    """Write the day (or other conversations) as a conversations JSON Lines file; returns its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{DAY}_conversations.jsonl"
    rows = CONVERSATIONS if conversations is None else conversations
    path.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in rows), encoding="utf-8")
    return path


def inspect_day(  # noqa: ANN201
    tmp: Path, db: Path | None = None, conversations: list[dict] | None = None, people: bool = True
):
    """Inspect the day with the forbidden-phrase rule into ``tmp/out`` and the store ``db``.

    With ``people`` the store also gets :data:`TEAM` (once: inspecting again keeps them).
    """
    from qc.batch.run import run_inspection
    from qc.rules.forbidden_phrase import ForbiddenPhraseRule
    from qc.rules.lexicon import load_lexicon
    from qc.run.executors import LocalExecutor
    from qc.run.inspector import Inspector

    db = db or tmp / "qc.sqlite"
    executor = LocalExecutor(Inspector([ForbiddenPhraseRule(load_lexicon())]))
    fresh = not db.exists()
    report = run_inspection([write_day(tmp / "in", conversations)], tmp / "out", executor, store=str(db))
    if people and fresh:
        add_team(db)
    return report


def phrase_ids(report) -> dict[str, str]:  # noqa: ANN001
    """The id of each conversation's forbidden-phrase finding (cA's 爱买不买, cB's 没有).

    The day also has evidence findings (cA's 90 s reply is a slow_response): these tests review
    the phrases.
    """
    return {f.conversation_id: f.id for f in report.findings if f.kind == "forbidden_phrase"}
