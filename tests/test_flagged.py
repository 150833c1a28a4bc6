"""qc flagged: worst first, filters, decisions applied; the CLI table and JSON."""

from __future__ import annotations

import json

import pytest
from cards import charging_card
from review_day import DAY, inspect_day, phrase_ids
from typer.testing import CliRunner

from qc.cli import app
from qc.store.database import open_store
from qc.supervise.flagged import flagged_conversations
from qc.supervise.review import decide


@pytest.fixture()
def store(tmp_path):
    report = inspect_day(tmp_path)
    store = open_store(tmp_path / "qc.sqlite")
    yield store, phrase_ids(report), tmp_path
    store.close()


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, [("cA", -5.0), ("cB", -1.0)]),
        ({"agent": "测试店:小美"}, [("cB", -1.0)]),
        ({"min_points": 5}, [("cA", -5.0)]),
        ({"min_points": 6}, []),
        ({"kind": "forbidden_phrase"}, [("cA", -5.0), ("cB", -1.0)]),
        # By what each message is charged as, as agents.csv counts it (audit 86 M6): cA's phrase
        # implies conflict (-5), cB's impatience (-1); neither has a model finding of that kind.
        ({"kind": "conflict"}, [("cA", -5.0)]),
        ({"kind": "impatience"}, [("cB", -1.0)]),
        ({"kind": "missed_reply"}, []),
        ({"date_from": "2026-11-25", "date_to": "2026-11-30"}, []),
        ({"date_from": DAY, "date_to": DAY}, [("cA", -5.0), ("cB", -1.0)]),
    ],
    ids=[
        "all",
        "agent",
        "min-points-5",
        "min-points-6",
        "kind",
        "charged-conflict",
        "charged-impatience",
        "other-kind",
        "other-days",
        "the-day",
    ],
)
def test_flagged_worst_first_and_filters(store, filters, expected):
    store, _, _ = store
    assert [(r.conversation_id, r.points) for r in flagged_conversations(store, **filters)] == expected


def test_a_rejected_finding_unflags_its_conversation(store):
    store, ids, _ = store
    decide(store, ids["cA"], "reject", by="qa", note="joke")
    assert [r.conversation_id for r in flagged_conversations(store)] == ["cB"]


def test_cli_json_and_table(store):
    _, ids, tmp = store
    db = str(tmp / "qc.sqlite")
    runner = CliRunner()
    result = runner.invoke(app, ["flagged", "--db", db, "--date", DAY, "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [(r["conversation_id"], r["points"]) for r in rows] == [("cA", -5.0), ("cB", -1.0)]
    # cA also lists its 90 s reply (a slow_response finding): 阿杰 has too few timed turns that
    # day for response time to cost anything, so it adds 0 points.
    assert [ids["cA"] in r["finding_ids"] or ids["cB"] in r["finding_ids"] for r in rows] == [True, True]
    assert rows[0]["kinds"] == {"forbidden_phrase": 1, "slow_response": 1}
    table = runner.invoke(app, ["flagged", "--db", db], env={"COLUMNS": "200"})
    assert table.exit_code == 0 and "2 flagged conversations" in table.stdout
    assert runner.invoke(app, ["flagged", "--db", db, "--date", "24/11"]).exit_code == 2
    assert runner.invoke(app, ["flagged", "--db", str(tmp / "missing.sqlite")]).exit_code == 2


@pytest.mark.parametrize("command", [["flagged"], ["serve", "--check"], ["people", "list"]])
def test_an_empty_file_is_no_store_and_stays_empty(tmp_path, command):
    """Any command given an empty file (a mistyped path, a placeholder) wrote every qc table
    into it; `qc serve --check` did so before saying nobody could sign in (audit 71)."""
    empty = tmp_path / "qc.sqlite"
    empty.touch()
    r = CliRunner().invoke(app, [*command, "--db", str(empty)])
    assert r.exit_code == 2 and "the file is empty" in r.output and "qc inspect" in r.output
    assert empty.stat().st_size == 0


def test_table_never_cuts_the_id_a_supervisor_copies_into_qc_show(store, monkeypatch):
    from qc.supervise import flagged

    _, _, tmp = store
    long_id = "c20261124_000079-transferred"
    row = flagged.FlaggedConversation(
        long_id, DAY, "柚子优选旗舰店", ["柚子优选旗舰店:木木"], -6.0, 3,
        {"impatience": 1, "forbidden_phrase": 1, "conflict": 1}, 0, "自己看库存" * 3, ["a", "b", "c"],
    )  # fmt: skip
    monkeypatch.setattr(flagged, "flagged_conversations", lambda *a, **k: [row])
    narrow = CliRunner().invoke(app, ["flagged", "--db", str(tmp / "qc.sqlite")], env={"COLUMNS": "80"})
    assert narrow.exit_code == 0, narrow.output
    assert long_id in narrow.stdout and DAY in narrow.stdout
    assert "木木" in narrow.stdout and "柚子优选旗舰店:木木" not in narrow.stdout  # shop only in JSON


def test_a_conversation_costing_under_half_a_cent_is_still_listed(tmp_path):
    """Slow-reply shares of thousandths of a point: filtered on the exact share, shown with its digits."""
    from serve_env import build_store

    from qc.store.database import open_store

    with open_store(build_store(tmp_path)) as demo:
        day = flagged_conversations(demo, date_from="2026-11-24", date_to="2026-11-24")
        both = {
            r.conversation_id: r.points
            for r in flagged_conversations(demo, date_from="2026-11-24", date_to="2026-11-25")
        }
    tiny = [r for r in day if -0.01 <= r.points < 0]
    assert tiny, "the demo day has conversations whose slow replies cost about a cent"
    assert {r.conversation_id for r in day} <= set(both)  # a wider range drops none of them
    assert all(p < 0 for p in both.values())  # and none is listed at 0


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    """The bundled demo day inspected into a store once, for the excerpt tests."""
    from pathlib import Path

    from qc.batch.run import run_inspection
    from qc.rules import RuleSettings
    from qc.run.executors import LocalExecutor
    from qc.run.inspector import build_inspector

    tmp = tmp_path_factory.mktemp("flagged_demo")
    demo = Path(__file__).resolve().parents[1] / "demo" / "day"
    run_inspection(
        [demo], tmp / "out", LocalExecutor(build_inspector(RuleSettings())), store=str(tmp / "qc.sqlite")
    )
    return tmp / "qc.sqlite"


def _texts_by_kind(store) -> dict[str, dict[str, set[str]]]:
    """Each conversation's finding texts by kind."""
    texts: dict[str, dict[str, set[str]]] = {}
    for s in store.findings():
        texts.setdefault(s.finding.conversation_id, {}).setdefault(s.finding.kind, set()).add(s.finding.text)
    return texts


def test_the_excerpt_quotes_what_costs_the_most(demo_db):
    """The demo day's conflicts (你会不会用啊, −5) were quoted by a polite reply slow by 0.07 points
    that came first (audit 112 L5): the excerpt is the costliest charged finding's text."""
    with open_store(demo_db) as store:
        rows = flagged_conversations(store)
        conflicts = [r for r in rows if r.charged.get("conflict")]
        assert conflicts
        texts = _texts_by_kind(store)
        for r in conflicts:
            by_kind = texts[r.conversation_id]
            assert r.excerpt in by_kind.get("conflict", set()) | by_kind.get("forbidden_phrase", set()), r


def test_with_a_kind_the_excerpt_quotes_that_charge(demo_db):
    """qc flagged --kind impatience quoted the conflict's words of a conversation listed for its
    impatience (audit 116 L3)."""
    with open_store(demo_db) as store:
        rows = flagged_conversations(store, kind="impatience", card=charging_card())
        assert any(r.charged.get("conflict") for r in rows)  # a conversation charged with both
        texts = _texts_by_kind(store)
        for r in rows:
            by_kind = texts[r.conversation_id]
            assert r.excerpt in by_kind.get("impatience", set()) | by_kind.get("forbidden_phrase", set()), r


def test_the_shares_of_an_agents_day_add_up_to_what_the_day_cost(demo_db, tmp_path):
    """Rounded one by one to the cent, a day's shares came to −195.94 for −196 and an agent's up to
    six cents off (audit 124 M2): the cents go by the largest remainder within the day."""
    from qc.scoring.card import load_scorecard
    from qc.supervise.review import export_day

    with open_store(demo_db) as store:
        day = "2026-11-24"
        rows = export_day(store, day, tmp_path / "x", load_scorecard()).rows
        everyone = flagged_conversations(store, date_from=day, date_to=day)
        assert round(sum(r.points for r in everyone), 2) == round(sum(r["total_points"] for r in rows), 2)
        # and each agent's rows of the whole listing, where the conversation is that agent's alone
        # (they came a cent off once the cents were shared over the day alone, audit 126 M1)
        alone = {
            row["agent"]: round(sum(r.points for r in everyone if r.agents == [row["agent"]]), 2)
            for row in rows
        }
        shared = {a for r in everyone if len(r.agents) > 1 for a in r.agents}
        assert all(
            alone[row["agent"]] == round(row["total_points"], 2) for row in rows if row["agent"] not in shared
        )
        for row in rows:
            mine = flagged_conversations(store, date_from=day, date_to=day, agent=row["agent"])
            assert round(sum(r.points for r in mine), 2) == round(row["total_points"], 2), row["agent"]
            assert all(r.points < 0 for r in mine)  # and no cost reads as 0


def test_the_shares_of_a_range_add_up_to_the_ranges_cost(demo_db, tmp_path):
    """A range is scored as one window: its days share the cents (−45.99 for −46, audit 125 M1)."""
    window = ["--from", "2026-11-24", "--to", "2026-11-25", "--db", str(demo_db)]
    exported = CliRunner().invoke(app, ["export", *window, "--out", str(tmp_path / "x")])
    assert exported.exit_code == 0, exported.output
    total = sum(
        r["total_points"] for r in json.loads((tmp_path / "x" / "agents.json").read_text(encoding="utf-8"))
    )
    listed = CliRunner().invoke(app, ["flagged", *window, "--format", "json"])
    assert listed.exit_code == 0, listed.output
    assert round(sum(r["points"] for r in json.loads(listed.stdout)), 2) == round(total, 2)


def test_each_agents_rows_add_up_when_the_cents_are_shared():
    """Shared over the day alone, two cents of rounding went to one agent's rows: −0.99 and −1.01
    for two agents who each cost −1 (audit 126 M1)."""
    from qc.supervise.flagged import FlaggedConversation, _to_the_cent

    exact = {f"{who}{k}": v for who in "ab" for k, v in enumerate((-0.335, -0.335, -0.33))}
    out = {cid: FlaggedConversation(cid, "2026-11-24", "店", [f"店:{cid[0]}"], 0.0, 1) for cid in exact}
    _to_the_cent(out, exact)
    for who in "ab":
        assert round(sum(fc.points for cid, fc in out.items() if cid.startswith(who)), 2) == -1.0
    assert all(fc.points in (-0.33, -0.34) for fc in out.values())


def test_a_half_point_charge_rounded_up_shows_the_point_it_cost(tmp_path):
    """−0.5 a message under whole points: agents.csv charged −1, `qc flagged` listed −0.5, and
    --min-points 1 hid the conversation that cost the point (audit 139 M2)."""
    chats = tmp_path / "day"
    chats.mkdir()
    chat = {
        "conversation_id": "H1",
        "shop": "青禾小铺",
        "messages": [
            {
                "role": "customer",
                "sender": "tb_h",
                "timestamp": "2026-11-24 13:02:00",
                "text": "会不会有味道",
            },
            {
                "role": "agent",
                "sender": "青禾小铺:阿杏",
                "timestamp": "2026-11-24 13:02:20",
                "text": "我不知道",
            },
        ],
    }
    (chats / "h_2026-11-24.jsonl").write_text(json.dumps(chat, ensure_ascii=False) + "\n", encoding="utf-8")
    card = tmp_path / "card.toml"
    card.write_text(
        "[items.service_attitude]\n"
        "points = { conflict = -5, impatience = -0.5, forbidden_phrase = 0, silent_transfer = 0 }\n",
        encoding="utf-8",
    )
    db = str(tmp_path / "qc.sqlite")
    args = ["inspect", str(chats), "--out", str(tmp_path / "out"), "--db", db, "--scorecard", str(card), "-q"]
    assert CliRunner().invoke(app, args).exit_code == 0
    (row,) = json.loads((tmp_path / "out" / "agents.json").read_text(encoding="utf-8"))
    assert row["service_attitude_points"] == -1
    from qc.scoring.card import load_scorecard

    with open_store(db) as store:
        day = {"date_from": "2026-11-24", "date_to": "2026-11-24"}
        (listed,) = flagged_conversations(store, **day, card=load_scorecard(card))
    assert listed.points == -1
    shown = CliRunner().invoke(
        app, ["flagged", "--db", db, "--date", "2026-11-24", "--scorecard", str(card), "--min-points", "1"]
    )
    assert shown.exit_code == 0 and "H1" in shown.stdout
