"""transfer_handover.v1: a buyer transferred without a hand-over message (转接未告知, seed 004 §4.6)."""

from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qc.cli import app
from qc.rules.lexicon import LexiconProblem, default_lexicon_path, load_lexicon, parse_lexicon
from qc.rules.transfer import KIND, TransferHandoverRule
from qc.schema import Conversation, Message, Role
from qc.synth.conversations import iter_labelled

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "demo"
runner = CliRunner()

A, B, C = "店:阿青", "店:阿木", "店:小周"
T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def chat(*turns: tuple[str, str] | tuple[str, str, bool]) -> Conversation:
    """(sender, text[, auto_reply]) turns; 系统 is the platform, 买家 the buyer, anyone else an agent."""
    msgs = []
    for i, turn in enumerate(turns):
        sender, text = turn[0], turn[1]
        role = Role.SYSTEM if sender == "系统" else Role.CUSTOMER if sender == "买家" else Role.AGENT
        auto = len(turn) > 2 and bool(turn[2])
        msgs.append(
            Message(i, role, text, sender=sender, sent_at=T0 + timedelta(seconds=20 * i), auto_reply=auto)
        )
    return Conversation("t1", tuple(msgs))


@pytest.fixture(scope="module")
def rule() -> TransferHandoverRule:
    return TransferHandoverRule(load_lexicon())


def _edited(tmp_path: Path, old: str, new: str) -> Path:
    text = default_lexicon_path().read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "shop.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def _agents(out: Path) -> list[dict[str, str]]:
    """agents.csv's rows by their English keys (the second header line), with the 中文 header checked."""
    lines = (out / "agents.csv").read_text(encoding="utf-8-sig").splitlines()
    assert "转接未告知次数" in lines[0].split(",")
    return list(csv.DictReader(lines[1:]))


def test_a_transfer_with_no_hand_over_is_charged_to_the_agent_who_held_the_buyer(rule):
    conv = chat(
        ("买家", "我买的杯子裂了一道缝"),
        (A, "亲，麻烦您拍张照片给我看看"),
        ("买家", "[图片]"),
        (A, "好的收到了"),
        ("系统", f"{A}将会话转接给{B}"),
        (B, "您好，我是售后阿木，杯子的事我来跟进"),
    )
    (found,) = rule.check(conv)
    assert (found.kind, found.message_index, found.agent, found.live) == (KIND, 3, A, True)
    assert found.evidence.details["taker"] == B and found.evidence.details["notice_index"] == 4
    assert "转接未告知" in found.evidence.summary and B in found.evidence.summary


@pytest.mark.parametrize(
    "before",
    [
        ("亲，破损由售后同事处理，我帮您转过去，您稍等",),  # the last message hands over
        ("我把您转给售后的阿木，他会继续帮您", "您稍等一下哈"),  # an earlier one of the last three does
    ],
)
def test_a_hand_over_in_the_agents_last_messages_before_the_notice_is_no_finding(rule, before):
    conv = chat(
        ("买家", "我要退货"),
        *((A, text) for text in before),
        ("系统", f"会话已转接至{B}"),
        (B, "您好，退货的事我来处理"),
    )
    assert list(rule.check(conv)) == []


def test_the_lookback_is_the_lexicons_number(tmp_path):
    conv = chat(
        ("买家", "我要退货"),
        (A, "我帮您转接售后客服"),
        (A, "您先别着急"),
        ("系统", f"会话已转接至{B}"),
        (B, "您好，退货的事我来处理"),
    )
    assert list(TransferHandoverRule(load_lexicon()).check(conv)) == []
    one = load_lexicon(
        _edited(tmp_path, "lookback = 3          # how many", "lookback = 1          # how many")
    )
    (found,) = TransferHandoverRule(one).check(conv)
    assert (found.message_index, found.evidence.details["looked_at"]) == (2, 1)


@pytest.mark.parametrize(
    "after",
    [
        [(A, "刚才没转过去，还是我来帮您看")],  # the same agent writes next: no transfer took place
        [("买家", "好的")],  # nobody takes the buyer (a ticket handed on at the end of a chat)
        [],
    ],
)
def test_no_colleague_writing_next_is_no_transfer(rule, after):
    conv = chat(("买家", "发票怎么开"), (A, "好的"), ("系统", "您的问题已转交给售后处理"), *after)
    assert list(rule.check(conv)) == []


def test_the_bot_and_auto_replies_hold_no_buyer_and_take_none(rule):
    bot_only = chat(
        ("买家", "在吗"),
        ("店:店小蜜", "您好，我是智能助理", True),
        ("系统", f"会话已转接至{B}"),
        (B, "您好，人工客服阿木为您服务"),
    )
    assert list(rule.check(bot_only)) == []
    auto_between = chat(
        ("买家", "在吗"),
        (A, "在的亲"),
        ("系统", f"会话已转接至{B}"),
        (B, "[自动回复]您好，请稍等", True),
        (B, "您好，我是阿木"),
    )
    (found,) = rule.check(auto_between)
    assert (found.agent, found.evidence.details["taker_index"]) == (A, 4)


def test_each_transfer_is_judged_by_what_its_own_holder_said(rule):
    conv = chat(
        ("买家", "我要换货"),
        (A, "换货需要售后同事处理，我帮您转过去"),
        ("系统", f"会话已转接至{B}"),
        (B, "您好，我看下订单"),
        ("系统", f"会话已转接至{C}"),  # B passes the buyer on without a word
        (C, "您好，我是小周"),
    )
    (found,) = rule.check(conv)
    assert (found.agent, found.message_index, found.evidence.details["taker"]) == (B, 3, C)


def test_only_the_platforms_notice_is_a_transfer(rule):
    # An agent telling the buyer a case went to colleagues, then a colleague answering: no notice.
    conv = chat(("买家", "还没退款"), (A, "已转交给财务处理了"), (B, "您好，退款今天到账"))
    assert list(rule.check(conv)) == []


def test_a_lexicon_without_a_transfer_table_checks_no_transfer(tmp_path):
    text = default_lexicon_path().read_text(encoding="utf-8")
    start = text.index("[transfer]")
    end = text.index("lookback = 3", start)
    end = text.index("\n", end)
    path = tmp_path / "old.toml"
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    lexicon = load_lexicon(path)
    assert lexicon.transfer is None
    shown = json.loads(runner.invoke(app, ["lexicon", "show", str(path)]).stdout)
    assert shown["transfer"] is None
    bundled = json.loads(runner.invoke(app, ["lexicon", "show"]).stdout)["transfer"]
    assert "转接给" in bundled["notices"] and bundled["lookback"] == load_lexicon().transfer.lookback
    conv = chat(("买家", "我要退货"), (A, "好的"), ("系统", f"会话已转接至{B}"), (B, "您好"))
    assert list(TransferHandoverRule(lexicon).check(conv)) == []


@pytest.mark.parametrize(
    "old,new,message",
    [
        (
            "lookback = 3          # how many",
            "lookback = 0          # how many",
            "[transfer] lookback must be",
        ),
        (
            "lookback = 3          # how many",
            'lookback = "3"        # how many',
            "[transfer] lookback must be",
        ),
        ('notices = ["转接给"', 'notice = ["转接给"', "[transfer]: unknown key 'notice'"),
        ("handover = [\n", "handover = [] \nx = [\n", "[transfer] handover: list at least one word"),
    ],
)
def test_a_bad_transfer_table_names_the_key(tmp_path, old, new, message):
    path = _edited(tmp_path, old, new)
    with pytest.raises(LexiconProblem) as info:
        parse_lexicon(path.read_bytes(), str(path))
    assert message in str(info.value)
    res = runner.invoke(app, ["lexicon", "check", str(path)])
    assert res.exit_code == 2 and message in res.stderr


def test_on_generated_days_every_silent_transfer_is_found_and_no_announced_one():
    rule = TransferHandoverRule(load_lexicon())
    tally: Counter[tuple[str, bool]] = Counter()
    for lc in iter_labelled(date(2026, 11, 24), 11, 3000):
        tag = next((t for t in ("silent_transfer", "handover_transfer") if t in lc.tags), "none")
        tally[(tag, bool(list(rule.check(lc.conversation))))] += 1
    assert tally[("silent_transfer", True)] >= 20, tally
    assert tally[("silent_transfer", False)] == 0, tally
    assert tally[("handover_transfer", True)] == 0 and tally[("none", True)] == 0, tally


def test_inspect_counts_the_demo_days_silent_transfers_per_agent_and_a_card_can_charge_them(tmp_path):
    expected = [
        json.loads(line) for line in (DEMO / "expected.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    silent = {r["conversation_id"] for r in expected if "silent_transfer" in r["tags"]}
    assert silent
    out = tmp_path / "o"
    res = runner.invoke(app, ["inspect", str(DEMO / "day"), "--out", str(out), "-q"])
    assert res.exit_code == 0, res.output
    found = [json.loads(line) for line in (out / "findings.jsonl").read_text(encoding="utf-8").splitlines()]
    found = [f for f in found if f["kind"] == KIND]
    assert {f["conversation_id"] for f in found} == silent
    per_agent = Counter(f["agent"] for f in found)
    rows = _agents(out)
    counted: Counter[str] = Counter()
    for r in rows:  # an agent has a row per day
        counted[r["agent"]] += int(r["silent_transfer"])
    assert +counted == per_agent
    # The seed card prices it at nothing; a shop's card that charges 1 point takes it per finding.
    card = tmp_path / "card.toml"
    card.write_text(
        "[items.service_attitude]\npoints = { conflict = -5, impatience = -1, silent_transfer = -1 }\n",
        encoding="utf-8",
    )
    out2 = tmp_path / "o2"
    res = runner.invoke(
        app, ["inspect", str(DEMO / "day"), "--out", str(out2), "-q", "--scorecard", str(card)]
    )
    assert res.exit_code == 0, res.output
    points: Counter[str] = Counter()
    for r in rows:
        points[r["agent"]] += float(r["service_attitude_points"])
    for r in _agents(out2):
        points[r["agent"]] -= float(r["service_attitude_points"])
    assert +points == per_agent


def test_the_agent_a_notice_names_is_judged_not_whoever_wrote_last(rule):
    """A supervisor who chimed in after 阿青 handed over properly was charged (audit 95 A1)."""
    conv = chat(
        ("买家", "杯子裂了"),
        (A, "破损需要售后同事处理，我帮您转接过去"),
        (C, "您好，我是主管小周，稍等哈"),
        ("系统", f"{A}将会话转接给{B}"),
        (B, "您好，我是售后阿木"),
    )
    assert list(rule.check(conv)) == []
    silent = chat(
        ("买家", "杯子裂了"),
        (A, "麻烦拍个照片"),
        (C, "您好，我是主管小周，稍等哈"),
        ("系统", f"{A}将会话转接给{B}"),
        (B, "您好，我是售后阿木"),
    )
    (found,) = rule.check(silent)
    assert (found.agent, found.message_index) == (A, 1)


def test_a_notice_that_moved_nobody_keeps_what_was_said_before_it(rule):
    """A failed transfer reset the window, and the hand-over sent before it was missed (audit 95 A4)."""
    conv = chat(
        ("买家", "我要换货"),
        (A, "换货由售后同事负责，我帮您转过去"),
        ("系统", f"转接给{B}失败，对方不在线"),
        (A, "稍等，我再试一次"),
        ("系统", f"会话已转接至{B}"),
        (B, "您好，我是阿木"),
    )
    assert list(rule.check(conv)) == []


@pytest.mark.parametrize(
    "said", ["我给您转售后哈", "马上给您转人工", "我帮您转回阿青那边", "我让售后阿木来处理"]
)
def test_everyday_hand_over_wordings_count(rule, said):
    conv = chat(("买家", "退款还没到"), (A, said), ("系统", f"会话已转接至{B}"), (B, "您好"))
    assert list(rule.check(conv)) == []


def test_a_ticket_handed_on_is_no_transfer_of_the_buyer(rule):
    """工单已转交给仓库 then a new shift's colleague answering was a silent transfer (audit 95 A2)."""
    conv = chat(
        ("买家", "催一下"),
        (A, "我帮您催一下"),
        ("系统", "您的售后工单已转交给仓库处理"),
        ("买家", "好"),
        (B, "您好"),
    )
    assert list(rule.check(conv)) == []


def test_a_flagged_conversation_quotes_what_costs_points_not_the_free_transfer(tmp_path):
    """qc flagged quoted the 0-point silent transfer instead of the charged reply (audit 95 A5)."""
    out, db = tmp_path / "o", tmp_path / "qc.sqlite"
    res = runner.invoke(app, ["inspect", str(DEMO / "day"), "--out", str(out), "--db", str(db), "-q"])
    assert res.exit_code == 0, res.output
    found = [json.loads(line) for line in (out / "findings.jsonl").read_text(encoding="utf-8").splitlines()]
    silent = {f["conversation_id"] for f in found if f["kind"] == KIND}
    others: dict[str, set[str]] = {}
    for f in found:
        if f["kind"] != KIND and not f["suppressed"]:
            others.setdefault(f["conversation_id"], set()).add(f["text"])
    rows = json.loads(runner.invoke(app, ["flagged", "--db", str(db), "--format", "json"]).stdout)
    quoted = {r["conversation_id"]: r["excerpt"] for r in rows if r["conversation_id"] in silent}
    assert quoted  # the demo day's silent transfers sit in conversations charged for something else
    assert all(text in others[cid] for cid, text in quoted.items()), quoted


@pytest.mark.parametrize(
    "holder,chimer,notice",
    [
        ("小周服饰:阿青", "小周服饰:小周", "小周服饰:阿青将会话转接给小周服饰:阿木"),  # the shop holds 小周
        ("店:阿青青", "店:阿青", "阿青青将会话转接给阿木"),  # one short name starts the other
        ("店：阿青", "店：小周", "阿青将会话转接给阿木"),  # full-width colons
    ],
)
def test_the_named_agent_is_found_however_the_names_overlap(rule, holder, chimer, notice):
    """Audit 96 #3: a plain substring test charged the chimer in each of these."""
    conv = chat(
        ("买家", "杯子裂了"),
        (holder, "破损需要售后同事处理，我帮您转接过去"),
        (chimer, "您好，我是主管，稍等哈"),
        ("系统", notice),
        (B, "您好，我是售后"),
    )
    assert list(rule.check(conv)) == []


def test_a_notice_saying_the_transfer_failed_is_none(rule):
    """Audit 96 #4: 转接…失败 naming the holder, then a colleague writing, charged the holder."""
    conv = chat(
        ("买家", "在吗"),
        (A, "好的我看下"),
        (C, "您好我是主管"),
        ("系统", f"{A}将会话转接给{B}失败，对方不在线"),
        (C, "我来帮您处理吧"),
    )
    assert list(rule.check(conv)) == []


def test_refund_talk_is_no_hand_over(rule):
    """Audit 96 #5: 退款已原路转回 read as a hand-over, and the silent transfer after it went unseen."""
    conv = chat(
        ("买家", "退款呢"), (A, "退款已原路转回您的支付宝了"), ("系统", f"会话已转接至{B}"), (B, "您好")
    )
    (found,) = rule.check(conv)
    assert found.agent == A


def test_flagged_lists_a_silent_transfer_the_card_charges_nothing_for(tmp_path):
    """`qc flagged --kind silent_transfer` said "no flagged conversations" while agents.csv counted
    one: a QA lead coaching on silent transfers had no list to pull (audit 97 #3)."""
    lines = [
        ("customer", "买家", "10:00:00", "这个尺码偏大吗"),
        ("agent", A, "10:00:10", "正常尺码哦亲"),
        ("system", "系统", "10:00:30", "阿青将会话转接给阿木"),
        ("agent", B, "10:00:40", "您好，我来为您服务"),
        ("customer", "买家", "10:00:50", "好的"),
        ("agent", B, "10:01:00", "有问题随时找我"),
    ]
    day = tmp_path / "day.jsonl"
    day.write_text(
        "".join(
            json.dumps(
                {"conversation_id": "s1", "role": r, "sender": s, "timestamp": f"2026-11-24 {t}", "text": x},
                ensure_ascii=False,
            )
            + "\n"
            for r, s, t, x in lines
        ),
        encoding="utf-8",
    )
    db = tmp_path / "qc.sqlite"
    res = runner.invoke(app, ["inspect", str(day), "--out", str(tmp_path / "o"), "--db", str(db), "-q"])
    assert res.exit_code == 0, res.output
    plain = runner.invoke(app, ["flagged", "--db", str(db), "--format", "json"])
    assert json.loads(plain.stdout) == []  # it costs nothing: no conversation is flagged for it
    res = runner.invoke(app, ["flagged", "--db", str(db), "--kind", KIND, "--format", "json"])
    (row,) = json.loads(res.stdout)
    assert (row["conversation_id"], row["points"]) == ("s1", 0.0)
    assert "silent_transfer costs 0 points on this card" in res.stderr


def test_a_colleagues_bubble_after_a_transfer_never_softens_the_reply_before_it(tmp_path: Path) -> None:
    """阿木's 没办法 went uncharged when 小白 apologised 30 s after the transfer and was charged when
    小白 wrote later: the model read a colleague's bubble as 阿木 going on (audit 156 H1)."""

    def chat(cid: str, later: str) -> str:
        said = [
            ("customer", None, "12:01:00", "少发了一个配件，怎么办"),
            ("agent", "青柠小铺:阿木", "12:01:20", "没办法"),
            ("system", None, "12:01:30", "系统提示：会话已转接至青柠小铺:小白"),
            ("agent", "青柠小铺:小白", later, "亲，非常抱歉，我马上帮您补发配件"),
        ]
        messages = [
            {"role": r, **({"sender": s} if s else {}), "timestamp": f"2026-11-24 {t}", "text": x}
            for r, s, t, x in said
        ]
        return json.dumps(
            {"conversation_id": cid, "shop": "青柠小铺", "messages": messages}, ensure_ascii=False
        )

    day = tmp_path / "day.jsonl"
    day.write_text(chat("soon", "12:01:50") + "\n" + chat("later", "12:03:50") + "\n", encoding="utf-8")
    res = runner.invoke(app, ["inspect", str(day), "--out", str(tmp_path / "out"), "-q"])
    assert res.exit_code == 0, res.output
    rows = [
        json.loads(x) for x in (tmp_path / "out" / "findings.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    judged = {
        f["conversation_id"]
        for f in rows
        if f["message_index"] == 1
        and f["kind"] == "impatience"
        and not f["needs_review"]
        and not f["suppressed"]
    }
    assert judged == {"soon", "later"}
