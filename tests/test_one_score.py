"""The demo's two days: one scoring function behind every command, a store that never loses a day.

Issue 16's done-when, on the bundled demo day (2026-11-24) and the generated next day
(demo/next_day, 2026-11-25), inspected with the default rules:

* inspect (without a store, and with one), export and report give the same numbers for every
  agent and day, and export's month row equals the report's for the same days;
* re-inspecting day 24 after day 25, the reverse, and twice, leaves both days complete;
* 木木's month row is plausible: the two slow replies after midnight are too few turns to
  score on their own day and pool into the month;
* every deduction of the demo day is traced to findings with ``qc flagged`` and ``qc show``.

Nothing here depends on which messages the attitude model flags: the checks compare commands
with each other and stores with each other.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import MetaData, create_engine, select
from typer.testing import CliRunner

from qc.batch.run import run_inspection
from qc.cli import app
from qc.rules import RuleSettings
from qc.run.executors import LocalExecutor
from qc.run.inspector import build_inspector
from qc.scoring.card import load_scorecard, verdicts_of
from qc.scoring.periods import parse_period
from qc.store.database import open_store
from qc.store.tables import RESULT_TABLES, database_url
from qc.supervise.report import collect_report
from qc.supervise.review import score_period

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
DAY24 = REPO / "demo" / "day"
DAY25 = REPO / "demo" / "next_day"
DAYS = ("2026-11-24", "2026-11-25", "2026-11-26")
MUMU = "柚子优选旗舰店:木木"
_PROVENANCE = {"run_id", "first_run_id", "saved_at", "source", "conversation_source"}


@pytest.fixture(scope="module")
def executor():
    ex = LocalExecutor(build_inspector(RuleSettings()))
    yield ex
    ex.close()


@pytest.fixture(scope="module")
def demo(tmp_path_factory, executor):
    """The two days inspected without a store (one run) and into a store (day 24, then day 25)."""
    tmp = tmp_path_factory.mktemp("demo")
    lean = run_inspection([DAY24, DAY25], tmp / "lean", executor, keep_results=False)
    db = str(tmp / "qc.sqlite")
    first = run_inspection([DAY24], tmp / "s24", executor, store=db)
    second = run_inspection([DAY25], tmp / "s25", executor, store=db)
    return {"tmp": tmp, "db": db, "lean": lean, "first": first, "second": second}


def snapshot(db: str) -> dict[str, list[tuple]]:
    engine = create_engine(database_url(db))
    md = MetaData()
    md.reflect(engine, only=list(RESULT_TABLES))
    with engine.connect() as conn:
        out = {
            name: sorted(
                (
                    tuple(r)
                    for r in conn.execute(
                        select(*[c for c in md.tables[name].columns if c.name not in _PROVENANCE])
                    )
                ),
                key=repr,
            )
            for name in RESULT_TABLES
        }
    engine.dispose()
    return out


def by_key(rows) -> dict[tuple[str, str], dict]:
    return {(r["agent"], r["date"]): r for r in rows}


def test_inspect_export_and_report_print_the_same_numbers_for_every_agent_and_day(demo):
    lean = by_key(demo["lean"].agents)
    assert {d for _, d in lean} == set(DAYS)
    card = load_scorecard()
    with open_store(demo["db"]) as store:
        exported = {}
        for day in DAYS:
            exported.update(by_key(score_period(store, parse_period(day), card).rows))
        report = collect_report(store, DAYS[0], DAYS[-1], card)
        month = score_period(store, parse_period("2026-11"), card).rows
        whole = collect_report(store, "2026-11-01", "2026-11-30", card)
    assert exported == lean  # inspect without a store == export of the stored days
    assert by_key(report.daily_rows) == lean  # == the report's daily view
    # inspect with a store prints the store's numbers of the days it touched
    assert by_key(demo["second"].agents) == {
        k: v for k, v in lean.items() if k[1] in ("2026-11-25", "2026-11-26")
    }
    assert by_key(demo["first"].agents)[(MUMU, "2026-11-24")] == lean[(MUMU, "2026-11-24")]
    # the month: export --period and the report over the same days pool the same way
    assert [{**r, "date": ""} for r in month] == [{**r, "date": ""} for r in whole.rows]
    assert by_key(demo["second"].period_agents) == by_key(month)


def test_the_cli_prints_the_same_rows(demo):
    runner = CliRunner()
    tmp = demo["tmp"]
    for day in DAYS:
        r = runner.invoke(
            app, ["export", "--date", day, "--out", str(tmp / f"cli-{day}"), "--db", demo["db"]]
        )
        assert r.exit_code == 0, r.output
        rows = json.loads((tmp / f"cli-{day}" / "agents.json").read_text(encoding="utf-8"))
        assert by_key(rows) == {k: v for k, v in by_key(demo["lean"].agents).items() if k[1] == day}
    r = runner.invoke(
        app, ["export", "--period", "2026-11", "--out", str(tmp / "cli-month"), "--db", demo["db"]]
    )
    assert r.exit_code == 0, r.output
    daily = json.loads((tmp / "cli-month" / "agents_daily.json").read_text(encoding="utf-8"))
    assert by_key(daily) == by_key(demo["lean"].agents)
    month = json.loads((tmp / "cli-month" / "agents.json").read_text(encoding="utf-8"))
    assert {r["date"] for r in month} == {"2026-11"}
    assert "服务态度" in r.stderr and "total" in r.stderr


def test_reinspecting_the_demo_days_in_any_order_leaves_both_days_complete(demo, executor, tmp_path):
    expected = snapshot(demo["db"])
    lines = (DAY25 / "2026-11-25_conversations.jsonl").read_text(encoding="utf-8").splitlines()
    day25_ids = {json.loads(line)["conversation_id"] for line in lines}
    with open_store(demo["db"]) as store:
        scored = {day: score_period(store, parse_period(day)).rows for day in DAYS}
        stored = {cid for cid, _, _ in store.conversation_agents()}
    assert day25_ids <= stored and len(stored) == 600
    for name, order in {
        "25-then-24": [DAY25, DAY24],
        "24-25-24-25": [DAY24, DAY25, DAY24, DAY25],
        "25-24-24": [DAY25, DAY24, DAY24],
    }.items():
        db = str(tmp_path / f"{name}.sqlite")
        for n, folder in enumerate(order):
            run_inspection([folder], tmp_path / f"{name}-{n}", executor, store=db)
        assert snapshot(db) == expected, name
        with open_store(db) as store:
            for day in DAYS:
                assert score_period(store, parse_period(day)).rows == scored[day], (name, day)


def test_mumu_two_replies_after_midnight_are_too_few_to_score_and_the_month_is_plausible(tmp_path, executor):
    # The demo day alone: 木木's one conversation past midnight leaves two timed replies
    # (193 s and 34 s) on the 25th. The old scorer charged −163 for them.
    db = str(tmp_path / "qc.sqlite")
    report = run_inspection([DAY24], tmp_path / "out", executor, store=db)
    night = by_key(report.agents)[(MUMU, "2026-11-25")]
    assert (night["timed_turns"], night["avg_response_s"]) == (2, 113.5)
    assert (night["average_response_points"], night["average_response_note"]) == (
        0,
        "too few timed turns (2 < 20)",
    )
    (month,) = [r for r in report.period_agents if r["agent"] == MUMU]
    day = by_key(report.agents)[(MUMU, "2026-11-24")]
    assert month["timed_turns"] == day["timed_turns"] + 2
    # pooled: the month's mean over all its timed turns, −2 per second over 32 s, whole points
    assert month["average_response_points"] == -round(2 * (month["avg_response_s"] - 32))
    assert -30 < month["average_response_points"] <= 0
    assert month["total_points"] > -100


def test_every_deduction_of_the_demo_day_is_traced_by_flagged_and_show(demo):
    runner = CliRunner()
    db = ["--db", demo["db"]]
    with open_store(demo["db"]) as store:
        day = score_period(store, parse_period("2026-11-24"))
    lost = sum(r["total_points"] for r in day.rows)
    behind = {i for d in day.deductions if d.points < 0 for i in d.finding_ids}
    assert all(d.finding_ids for d in day.deductions if d.points < 0)  # every deduction names findings
    r = runner.invoke(app, ["flagged", "--date", "2026-11-24", "--format", "json", *db])
    assert r.exit_code == 0, r.output
    flagged = json.loads(r.stdout)
    listed = {i for row in flagged for i in row["finding_ids"]}
    assert behind <= listed
    # the conversations' points at stake add up to what the day cost (shares rounded to cents)
    assert abs(sum(row["points"] for row in flagged) - lost) < 0.01 * len(flagged) + 1e-9
    slow = next(row for row in flagged if "slow_response" in row["kinds"])
    shown = runner.invoke(app, ["show", slow["conversation_id"], "--no-mood", *db], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    assert "slow_response" in shown.stdout and "slow reply" in shown.stdout
    some = next(i for i in slow["finding_ids"] if i in behind)
    assert some in shown.stdout


def test_evidence_findings_do_not_change_the_attitude_verdicts(tmp_path, executor):
    report = run_inspection([DAY24], tmp_path / "out", executor)
    card = load_scorecard()
    from qc.scoring.card import attribute

    every, rules_only = [], []
    for r in report.results:
        attributed = attribute(r.conversation, r.findings, card)
        every += attributed
        rules_only += [a for a in attributed if a.finding.kind not in card.evidence_kinds]
    assert len(every) > len(rules_only)  # the run made evidence findings
    assert verdicts_of(every, card) == verdicts_of(rules_only, card)


@pytest.mark.parametrize("command", ["export", "flagged", "report", "review-export", "show", "serve"])
def test_scoring_stored_days_with_another_card_than_their_runs_says_so(tmp_path: Path, command: str) -> None:
    """Days inspected with the shop's card and exported without it: a warning, not other numbers unsaid."""
    card = tmp_path / "shop.toml"
    card.write_text("[items.service_attitude.points]\nimpatience = 0\n", encoding="utf-8")
    at = "2026-11-24T10:00:{:02d}+08:00"
    messages = [
        {"role": "customer", "sender": "b1", "timestamp": at.format(0), "text": "能今天发货吗"},
        {"role": "agent", "sender": "店:小王", "timestamp": at.format(20), "text": "爱买不买"},
    ]
    day = tmp_path / "day.jsonl"
    record = {"conversation_id": "c1", "shop": "店", "messages": messages}
    day.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    db = ["--db", str(tmp_path / "qc.sqlite")]
    runner = CliRunner()
    done = runner.invoke(
        app, ["inspect", str(day), "--out", str(tmp_path / "o"), "--scorecard", str(card), "-q", *db]
    )
    assert done.exit_code == 0, done.output
    args = {
        "export": ["export", "--date", "2026-11-24", "--out", str(tmp_path / "e")],
        "flagged": ["flagged", "--date", "2026-11-24"],
        "report": ["report", "--from", "2026-11-24", "--to", "2026-11-24", "--out", str(tmp_path / "r.html")],
        "review-export": ["review", "export", "--date", "2026-11-24", "--out", str(tmp_path / "rev.csv")],
        "show": ["show", "c1"],
        "serve": ["serve", "--check"],
    }[command]
    if command == "serve":  # someone who can sign in
        for step in (["people", "add", "张主管", "--role", "supervisor"], ["people", "password", "张主管"]):
            assert runner.invoke(app, [*step, *db], input="pw-12345678\npw-12345678\n").exit_code == 0
    other = runner.invoke(app, [*args, *db])
    assert other.exit_code == 0, other.output
    assert "warning: 2026-11-24…2026-11-24 were inspected with scorecard" in other.output
    assert "pass the same --scorecard to see the runs' numbers" in other.output
    same = runner.invoke(app, [*args, "--scorecard", str(card), *db])
    assert same.exit_code == 0, same.output
    assert "were inspected with scorecard" not in same.output


def test_a_window_inspected_under_two_cards_is_warned_even_when_one_is_this_card(tmp_path: Path) -> None:
    """Day 24 under the shop's card, day 25 under one charging a conflict −3: a month export with the
    shop's card said nothing, and day 25's −3 became −5 unsaid (audit 113 M1). A card that only
    writes a number otherwise (32.0) is the same card (L1)."""
    shop, cheap, same = (tmp_path / n for n in ("shop.toml", "cheap.toml", "same.toml"))
    shop.write_text("[items.average_response]\nthreshold = 30\n", encoding="utf-8")
    cheap.write_text(
        "[items.average_response]\nthreshold = 30\n[items.service_attitude.points]\nconflict = -3\n",
        encoding="utf-8",
    )
    same.write_text("[items.average_response]\nthreshold = 30.0\n", encoding="utf-8")
    runner, db = CliRunner(), ["--db", str(tmp_path / "qc.sqlite")]
    for day, card in (("24", shop), ("25", cheap)):
        at = f"2026-11-{day}T10:00:{{:02d}}+08:00"
        messages = [
            {"role": "customer", "sender": "b1", "timestamp": at.format(0), "text": "能今天发货吗"},
            {"role": "agent", "sender": "店:小王", "timestamp": at.format(20), "text": "爱买不买"},
        ]
        path = tmp_path / f"2026-11-{day}.jsonl"
        record = {"conversation_id": f"c{day}", "shop": "店", "messages": messages}
        path.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
        out = tmp_path / f"o{day}"
        done = runner.invoke(
            app, ["inspect", str(path), "--out", str(out), "--scorecard", str(card), "-q", *db]
        )
        assert done.exit_code == 0, done.output
    month = ["export", "--period", "2026-11", "--out", str(tmp_path / "e"), *db]
    mixed = runner.invoke(app, [*month, "--scorecard", str(shop)])
    assert mixed.exit_code == 0, mixed.output
    assert "warning: some of 2026-11-01…2026-11-30 were inspected with scorecard seed-000 (" in mixed.output
    run25 = json.loads((tmp_path / "o25" / "run.json").read_text(encoding="utf-8"))
    assert run25["scorecard"]["hash"][:12] in mixed.output
    # inspect's own month-so-far table pools day 24's run under the shop's card: said too
    (said,) = [w for w in run25["warnings"] if "the month so far" in w]
    assert "holds days inspected with scorecard seed-000" in said and "this run's seed-000" in said
    day24 = runner.invoke(
        app, ["export", "--date", "2026-11-24", "--out", str(tmp_path / "d"), *db, "--scorecard", str(same)]
    )
    assert day24.exit_code == 0 and "were inspected with scorecard" not in day24.output


def test_with_a_cap_the_flagged_shares_still_add_up_to_what_the_day_cost(tmp_path: Path) -> None:
    """A cap of 10 on the attitude item: each conversation's share is scaled, an agent's shares sum to -10."""
    from collections import defaultdict

    card = tmp_path / "capped.toml"
    card.write_text(
        "[items.service_attitude]\ncap = 10\nfloor = 0\n"
        + "".join(
            f"[items.{i}]\nenabled = false\n"
            for i in ("average_response", "reply_rate", "first_response", "answer_ratio")
        ),
        encoding="utf-8",
    )
    db = ["--db", str(tmp_path / "qc.sqlite")]
    runner = CliRunner()
    done = runner.invoke(
        app, ["inspect", "demo/day", "--out", str(tmp_path / "o"), "--scorecard", str(card), "-q", *db]
    )
    assert done.exit_code == 0, done.output
    cost = {
        r["agent"]: r["service_attitude_points"]
        for r in json.loads((tmp_path / "o" / "agents.json").read_text(encoding="utf-8"))
        if r["date"] == "2026-11-24"
    }
    capped = [a for a, points in cost.items() if points == -10]
    assert capped, "the demo day has agents whose attitude findings pass the cap"
    shares: dict[str, float] = defaultdict(float)
    for agent in capped:
        # --agent lists each conversation with that agent's share only (a transferred chat has two).
        listed = runner.invoke(
            app,
            [
                "flagged",
                "--date",
                "2026-11-24",
                "--agent",
                agent,
                "--scorecard",
                str(card),
                "--format",
                "json",
                *db,
            ],
        )
        assert listed.exit_code == 0, listed.output
        for row in json.loads(listed.stdout):
            shares[agent] += row["points"]
    for agent in capped:
        assert shares[agent] == pytest.approx(-10, abs=0.05), agent  # each share rounded to the cent


def test_days_inspected_before_the_bundled_card_changed_say_what_changed(tmp_path):
    """After the upgrade every command warned "pass the same --scorecard", naming no card the user
    gave, and not what had changed (audit 165 M6)."""
    from cards import CHARGING

    runner = CliRunner()
    day = tmp_path / "2026-11-24.jsonl"
    messages = [
        {"role": "customer", "sender": "b1", "timestamp": "2026-11-24T10:00:00+08:00", "text": "在吗"},
        {"role": "agent", "sender": "店:小王", "timestamp": "2026-11-24T10:00:09+08:00", "text": "在的"},
    ]
    day.write_text(
        json.dumps({"conversation_id": "c1", "messages": messages}, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    db = ["--db", str(tmp_path / "qc.sqlite")]
    # the old bundled card charged the classifier's verdicts: a card of the same name that does
    old = runner.invoke(
        app, ["inspect", str(day), "--out", str(tmp_path / "o"), "-q", "--scorecard", str(CHARGING), *db]
    )
    assert old.exit_code == 0, old.output
    r = runner.invoke(app, ["export", "--date", "2026-11-24", "--out", str(tmp_path / "e"), *db])
    assert r.exit_code == 0, r.output
    assert "were inspected with scorecard seed-000" in r.output
    assert "the bundled card changed with qc: from v3 it holds the attitude classifier's verdicts" in r.output
