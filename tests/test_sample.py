"""qc sample: reproducible for a seed, stratified so flagged and unflagged conversations both appear."""

from __future__ import annotations

import csv
import json

import pytest
from review_day import CONVERSATIONS, DAY, inspect_day, msg
from typer.testing import CliRunner

from qc.cli import app
from qc.scoring.card import load_scorecard
from qc.store.database import open_store
from qc.supervise.sampling import SAMPLE_COLUMNS, draw_sample


def _clean(i: int, agent: str) -> dict:
    return {
        "conversation_id": f"ok{agent}{i:02d}",
        "shop": "测试店",
        "messages": [
            msg("customer", f"b{i}", f"15:{i:02d}:00", "有现货吗"),
            msg("agent", f"测试店:{agent}", f"15:{i:02d}:05", "有的亲，今天下单今天发哦"),
        ],
    }


@pytest.fixture()
def store(tmp_path):
    extra = [_clean(i, a) for a in ("阿杰", "小美") for i in range(12)]
    inspect_day(tmp_path, conversations=[*CONVERSATIONS, *extra])
    store = open_store(tmp_path / "qc.sqlite")
    yield store
    store.close()


def test_same_seed_same_sample_other_seed_other_sample(store):
    first = draw_sample(store, 4, seed=42, date=DAY)
    assert first == draw_sample(store, 4, seed=42, date=DAY)
    others = [draw_sample(store, 4, seed=s, date=DAY) for s in range(1, 6)]
    assert any(o != first for o in others)


def test_each_agent_gets_flagged_and_unflagged(store):
    rows = draw_sample(store, 4, seed=3, date=DAY)
    by_agent: dict[str, list] = {}
    for r in rows:
        by_agent.setdefault(r.agent, []).append(r)
    assert set(by_agent) == {"测试店:阿杰", "测试店:小美"}
    for agent, mine in by_agent.items():
        assert len(mine) == 4
        strata = [r.stratum for r in mine]
        # each agent has exactly one flagged conversation in the day: it is always drawn
        assert strata.count("flagged") == 1, agent
        assert strata.count("unflagged") == 3
        assert len({r.conversation_id for r in mine}) == 4
    flagged = {r.conversation_id for r in rows if r.stratum == "flagged"}
    assert flagged == {"cA", "cB"}


def test_short_pool_gives_everything_without_repeats(store):
    rows = draw_sample(store, 100, seed=1, date=DAY)
    assert len(rows) == 28  # 2 flagged + 2 clean originals + 24 extra, every one once
    assert len({(r.agent, r.conversation_id) for r in rows}) == 28


def test_cli_writes_the_same_csv_for_the_same_seed(store, tmp_path):
    out = tmp_path / "spot.csv"
    args = [
        "sample",
        "--per-agent",
        "2",
        "--seed",
        "9",
        "--date",
        DAY,
        "--out",
        str(out),
        "--db",
        str(tmp_path / "qc.sqlite"),
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    first = out.read_bytes()
    rows = list(csv.DictReader(out.open(encoding="utf-8-sig")))
    assert tuple(rows[0]) == SAMPLE_COLUMNS and len(rows) == 4
    assert CliRunner().invoke(app, args).exit_code == 0
    assert out.read_bytes() == first


def test_each_agent_is_sampled_with_their_own_share_and_judgements_make_the_flagged_half(tmp_path):
    """A conversation two agents shared gave both the whole −5 (audit 80 #2); a slow reply alone
    made a conversation flagged, so the flagged half was cents of timing (#6); a shop's
    unassigned was sampled as an agent (#3)."""
    said = {
        "t1": [
            msg("customer", "b1", "10:00:00", "能便宜点吗"),
            msg("agent", "测试店:阿杰", "10:00:05", "爱买不买"),
            msg("customer", "b1", "10:00:20", "什么态度"),
            msg("agent", "测试店:小美", "10:02:00", "亲，抱歉，我来为您处理"),
        ],
        "s1": [
            msg("customer", "b2", "11:00:00", "有现货吗"),
            msg("agent", "测试店:小美", "11:01:05", "有的亲"),
        ],
        "u1": [msg("customer", "b3", "12:00:00", "在吗")],
    }
    inspect_day(
        tmp_path,
        conversations=[{"conversation_id": c, "shop": "测试店", "messages": m} for c, m in said.items()],
    )
    # Every slow reply costs its share, however few the turns.
    (tmp_path / "card.toml").write_text("[items.average_response]\nmin_sample = 1\n", encoding="utf-8")
    card = load_scorecard(tmp_path / "card.toml")
    with open_store(tmp_path / "qc.sqlite") as store:
        rows = {(r.agent, r.conversation_id): r for r in draw_sample(store, 4, seed=1, date=DAY, card=card)}
    assert set(rows) == {("测试店:阿杰", "t1"), ("测试店:小美", "t1"), ("测试店:小美", "s1")}
    ajie, xiaomei = rows["测试店:阿杰", "t1"], rows["测试店:小美", "t1"]
    assert (ajie.stratum, ajie.points, ajie.kinds) == (
        "flagged",
        -5,
        "与买家冲突×1",
    )  # 爱买不买: a phrase that implies conflict, charged as conflict
    assert xiaomei.stratum == "unflagged" and xiaomei.kinds == "慢回复×1" and xiaomei.points < 0
    assert rows["测试店:小美", "s1"].stratum == "unflagged" and rows["测试店:小美", "s1"].findings == 1
    assert len(ajie.finding_ids) == 1 and ajie.finding_ids[0] not in xiaomei.finding_ids


def test_a_range_a_period_and_one_agent_can_be_sampled(tmp_path):
    """Only one day or the whole store could be sampled: no week, no month (the scorecard's
    period), no single agent (audit 80 #7)."""
    later = [
        {
            **c,
            "conversation_id": c["conversation_id"] + "-25",
            "messages": [
                {**m, "timestamp": m["timestamp"].replace(DAY, "2026-11-25")} for m in c["messages"]
            ],
        }
        for c in CONVERSATIONS
    ]
    inspect_day(tmp_path, conversations=[*CONVERSATIONS, *later, *[_clean(i, "阿杰") for i in range(3)]])
    db = ["--db", str(tmp_path / "qc.sqlite")]

    def sample(*args: str) -> list[dict]:
        out = tmp_path / "s.csv"
        result = CliRunner().invoke(
            app, ["sample", "--per-agent", "50", "--seed", "1", "--out", str(out), *args, *db]
        )
        assert result.exit_code == 0, result.output
        return list(csv.DictReader(out.open(encoding="utf-8-sig")))

    month = sample("--period", "2026-11")
    assert {r["date"] for r in month} == {DAY, "2026-11-25"}
    assert sample("--from", DAY, "--to", "2026-11-25") == month
    assert {r["date"] for r in sample("--from", "2026-11-25")} == {"2026-11-25"}
    mine = sample("--period", "2026-11", "--agent", "阿杰")
    assert mine and {r["agent"] for r in mine} == {"测试店:阿杰"}
    assert mine == [r for r in month if r["agent"] == "测试店:阿杰"]
    refused = CliRunner().invoke(
        app,
        [
            "sample",
            "--per-agent",
            "1",
            "--seed",
            "1",
            "--out",
            str(tmp_path / "x.csv"),
            "--period",
            "2026-11",
            "--date",
            DAY,
            *db,
        ],
    )
    assert refused.exit_code == 2 and "use one of --date D, --period P or --from D --to D" in refused.output


def test_the_kinds_say_what_the_agent_is_charged_and_a_free_phrase_flags_nothing(tmp_path):
    """The kinds column counted raw findings (禁用语×2 不够耐心×1 where agents.csv said 不够耐心
    2); a 你 worth 0 points put a conversation in the flagged half; a conversation whose slow
    reply cost nothing showed findings 0 and no id to open (audit 89 #3-#5)."""
    from review_day import write_day

    from qc.batch.run import run_inspection
    from qc.rules.forbidden_phrase import ForbiddenPhraseRule
    from qc.rules.lexicon import load_lexicon
    from qc.run.executors import LocalExecutor
    from qc.run.inspector import Inspector

    said = {
        # two replies charged as impatience through phrases that imply it
        "p1": [
            msg("customer", "b1", "10:00:00", "有赠品吗"),
            msg("agent", "测试店:阿杰", "10:00:05", "没有"),
            msg("customer", "b1", "10:00:20", "能包邮吗"),
            msg("agent", "测试店:阿杰", "10:00:25", "不知道"),
        ],
        # a 你 (strict shops' FP-0019): 0 points in the default card
        "p2": [
            msg("customer", "b2", "11:00:00", "有现货吗"),
            msg("agent", "测试店:阿杰", "11:00:05", "你好，有现货的"),
        ],
        # one slow reply, within the day's average limit: it costs nothing
        "p3": [
            msg("customer", "b3", "12:00:00", "几天能到"),
            msg("agent", "测试店:阿杰", "12:01:10", "亲，一般两三天就到了哦"),
        ],
    }
    day = write_day(
        tmp_path / "in", [{"conversation_id": c, "shop": "测试店", "messages": m} for c, m in said.items()]
    )
    executor = LocalExecutor(Inspector([ForbiddenPhraseRule(load_lexicon(), strict=True)]))
    report = run_inspection([day], tmp_path / "out", executor, store=str(tmp_path / "qc.sqlite"))
    by_conv = {}
    for f in report.findings:
        by_conv.setdefault(f.conversation_id, []).append(f)
    assert {f.kind for f in by_conv["p2"]} == {"forbidden_phrase"}
    assert any(f.kind == "slow_response" for f in by_conv["p3"])
    (row,) = json.loads((tmp_path / "out" / "agents.json").read_text(encoding="utf-8"))
    with open_store(tmp_path / "qc.sqlite") as store:
        rows = {r.conversation_id: r for r in draw_sample(store, 3, seed=1, date=DAY)}
    assert (
        rows["p1"].stratum == "flagged"
        and rows["p1"].kinds == f"不够耐心×{row['impatience']}" == "不够耐心×2"
    )
    assert rows["p2"].stratum == "unflagged" and rows["p2"].points == 0
    assert rows["p2"].kinds == "未扣分 not charged: 禁用语×1" and len(rows["p2"].finding_ids) == 1
    slow = [f.id for f in by_conv["p3"] if f.kind == "slow_response"]
    assert rows["p3"].stratum == "unflagged" and rows["p3"].findings == 1
    assert list(rows["p3"].finding_ids) == slow and rows["p3"].kinds == "未扣分 not charged: 慢回复×1"


def test_a_review_does_not_reshuffle_the_sample_of_a_seed(tmp_path):
    """Rejecting 阿杰's only judged finding moved cA to the unflagged pool and redrew both his strata
    with the same seed; the workbench's queue drew again too (audit 119 M1)."""
    from review_day import phrase_ids

    from qc.supervise.queue import build_queue
    from qc.supervise.review import decide

    extra = [_clean(i, a) for a in ("阿杰", "小美") for i in range(12)]
    report = inspect_day(tmp_path, conversations=[*CONVERSATIONS, *extra])
    card = load_scorecard()
    with open_store(tmp_path / "qc.sqlite") as store:
        before = {seed: draw_sample(store, 4, seed=seed, date=DAY) for seed in range(6)}
        queued = [i.finding_id for i in build_queue(store, card, DAY, DAY, per_agent=4, seed=1)]
        decide(store, phrase_ids(report)["cA"], "reject", by="质检小王", note="买家先压价")
        after = {seed: draw_sample(store, 4, seed=seed, date=DAY) for seed in range(6)}
        requeued = [i.finding_id for i in build_queue(store, card, DAY, DAY, per_agent=4, seed=1)]
    for seed in before:
        assert [(r.agent, r.conversation_id, r.stratum) for r in after[seed]] == [
            (r.agent, r.conversation_id, r.stratum) for r in before[seed]
        ], seed
    # What is shown is as of now: the rejected conflict no longer costs 阿杰 anything there.
    (ca,) = [r for r in after[0] if r.conversation_id == "cA"]
    (was,) = [r for r in before[0] if r.conversation_id == "cA"]
    assert was.points < 0 and "与买家冲突" in was.kinds
    assert ca.stratum == "flagged" and "与买家冲突" not in ca.kinds and ca.points > was.points
    # The queue serves what is still to decide, in the same order: only the decided item is gone.
    assert phrase_ids(report)["cA"] in queued
    assert requeued == [i for i in queued if i != phrase_ids(report)["cA"]]


def test_a_charged_conversation_without_times_is_drawn_and_listed_as_flagged(tmp_path):
    """A whole-store sample drew a charged chat without times as unflagged, 0 points, and
    `qc flagged` left it out, while `qc export --date undated` charged it (audit 152 M1)."""
    from qc.supervise.flagged import flagged_conversations

    undated = {
        "conversation_id": "u1",
        "shop": "测试店",
        "messages": [
            {"role": "customer", "sender": "b9", "text": "能便宜点吗"},
            {"role": "agent", "sender": "测试店:阿杰", "text": "爱买不买"},
        ],
    }
    for conversations, folder in (([*CONVERSATIONS, undated], "both"), ([undated], "only")):
        inspect_day(tmp_path / folder, conversations=conversations)
        with open_store(tmp_path / folder / "qc.sqlite") as store:
            (row,) = [r for r in draw_sample(store, 10, seed=1) if r.conversation_id == "u1"]
            assert (row.date, row.stratum, row.points) == ("undated", "flagged", -5)
            assert "与买家冲突×1" in row.kinds and row.finding_ids
            listed = {fc.conversation_id: fc for fc in flagged_conversations(store)}
            assert listed["u1"].points == -5 and listed["u1"].date == "undated"
            assert [
                fc.conversation_id
                for fc in flagged_conversations(store, date_from="undated", date_to="undated")
            ] == ["u1"]
            if folder == "both":
                dated = flagged_conversations(store, date_from=DAY, date_to=DAY)
                assert dated and "u1" not in {fc.conversation_id for fc in dated}
        # --date undated as qc export takes it, and a card other than the chats' said (audit 155 L3, M7)
        db = ["--db", str(tmp_path / folder / "qc.sqlite")]
        res = CliRunner().invoke(app, ["flagged", "--date", "undated", "--format", "json", *db])
        assert res.exit_code == 0, res.output
        assert [r["conversation_id"] for r in json.loads(res.output[res.output.index("[") :])] == ["u1"]
        card = tmp_path / "card.toml"
        card.write_text(
            "[items.service_attitude]\npoints = { conflict = -9, impatience = -1 }\n", encoding="utf-8"
        )
        res = CliRunner().invoke(app, ["flagged", "--scorecard", str(card), *db])
        assert "undated…undated were inspected with scorecard" in res.output


def test_a_finding_held_for_review_is_listed_with_its_id(tmp_path):
    """On a card that holds a kind for review (the bundled card holds the classifier's), a chat
    whose only finding waits for a reviewer read findings 0 and no id (audit 167 L3)."""
    inspect_day(tmp_path)
    card = tmp_path / "held.toml"
    card.write_text('[findings]\nreview_only = ["forbidden_phrase"]\n', encoding="utf-8")
    with open_store(tmp_path / "qc.sqlite") as store:
        held = {
            s.finding.conversation_id: s.id for s in store.findings() if s.finding.kind == "forbidden_phrase"
        }
        rows = {
            r.conversation_id: r for r in draw_sample(store, 4, seed=1, date=DAY, card=load_scorecard(card))
        }
    assert rows["cB"].points == 0 and rows["cB"].kinds == "待复核 held: 禁用语×1"
    assert rows["cB"].finding_ids == (held["cB"],)
    assert rows["cA"].kinds.endswith("(待复核 held: 禁用语×1)") and held["cA"] in rows["cA"].finding_ids
