"""qc compare: two published agents tables, row by row (what a card, lexicon or review change did)."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qc.cli import app

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def _write(folder: Path, rows: list[dict], name: str = "agents.json") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    return folder


def _row(agent: str, total: float, window: str = "2026-11-24", **more: object) -> dict:
    return {
        "agent": agent,
        "date": window,
        "shop": "店",
        "total_points": total,
        "total_score": 60 + total,
        **more,
    }


@pytest.fixture(scope="module")
def demo_runs(tmp_path_factory) -> tuple[Path, Path]:
    """The demo day inspected with the seed card and with a card that charges silent transfers."""
    tmp = tmp_path_factory.mktemp("cmp")
    card = tmp / "card.toml"
    card.write_text(
        "[items.service_attitude]\npoints = { conflict = -5, impatience = -1, silent_transfer = -2 }\n",
        encoding="utf-8",
    )
    runs = []
    for name, extra in (("now", []), ("new", ["--scorecard", str(card)])):
        res = runner.invoke(
            app, ["inspect", str(ROOT / "demo" / "day"), "--out", str(tmp / name), "-q", *extra]
        )
        assert res.exit_code == 0, res.output
        runs.append(tmp / name)
    return runs[0], runs[1]


def test_a_card_change_shows_who_loses_what_on_the_demo_day(demo_runs, tmp_path):
    now, new = demo_runs
    findings = [json.loads(x) for x in (now / "findings.jsonl").read_text(encoding="utf-8").splitlines()]
    silent: dict[str, int] = {}
    for f in findings:
        if f["kind"] == "silent_transfer":
            silent[f["agent"]] = silent.get(f["agent"], 0) + 1
    assert silent
    out = tmp_path / "c.csv"
    res = runner.invoke(app, ["compare", str(now), str(new), "--format", "json", "--csv", str(out)])
    assert res.exit_code == 0, res.output
    records = [json.loads(line) for line in res.stdout.splitlines()]
    # Exactly the agents with a silent transfer change, by 2 points each; the biggest change first.
    assert {r["agent"]: r["change"] for r in records} == {a: -2 * n for a, n in silent.items()}
    assert [abs(r["change"]) for r in records] == sorted((abs(r["change"]) for r in records), reverse=True)
    for r in records:
        keys = [c["key"] for c in r["changes"]]
        assert keys == ["service_attitude_points", "total_points"] and r["only_in"] is None
        assert r["changes"][0]["label"] == "服务态度加减分"
    before = sum(r["total_points"] for r in json.loads((now / "agents.json").read_text(encoding="utf-8")))
    after = sum(r["total_points"] for r in json.loads((new / "agents.json").read_text(encoding="utf-8")))
    assert after - before == -2 * sum(silent.values())
    assert f"points of every row {before:g} before, {after:g} after" in res.stderr
    # what made each side, from their run.json: the cards differ, the lexicon and model do not
    # (two runs could show changes, or none, and nothing said why: audit 104 M5)
    card_hash = json.loads((new / "run.json").read_text(encoding="utf-8"))["scorecard"]["hash"][:12]
    assert f"after: scorecard seed-000 v3 {card_hash};" in res.stderr
    assert "configuration: the scorecard differs" in res.stderr
    # which settings: both run.json files hold their effective cards (audit 104 L1)
    assert "scorecard changes: items.service_attitude.points.silent_transfer 0 → -2\n" in res.stderr
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("店铺,客服,窗口,改前合计加减分") and lines[1].startswith("shop,agent,window")
    sheet = list(csv.DictReader(lines[1:]))
    assert {r["agent"]: int(r["change"]) for r in sheet} == {a: -2 * n for a, n in silent.items()}
    assert all(r["changes"].startswith("服务态度加减分 ") for r in sheet)


def test_the_same_run_twice_changes_nothing(demo_runs):
    now, _ = demo_runs
    res = runner.invoke(app, ["compare", str(now), str(now)])
    assert res.exit_code == 0 and res.stdout == ""
    rows = json.loads((now / "agents.json").read_text(encoding="utf-8"))
    assert f"0 of {len(rows)} agent rows changed" in res.stderr
    assert (
        "configuration: the same scorecard, lexicon, model, timezone, limits, user dictionary, review;"
        in res.stderr
    )


def test_an_export_folder_says_which_card_scored_it_and_compare_reads_it(tmp_path):
    """An export folder held nothing of the card that scored it; the card mismatch was a warning on
    the terminal only (audit 104 M6). Its export.json names the card, the window and the runs' cards."""
    db = ["--db", str(tmp_path / "qc.sqlite")]
    day = ROOT / "demo" / "day"
    assert runner.invoke(app, ["inspect", str(day), "--out", str(tmp_path / "run"), "-q", *db]).exit_code == 0
    cap = tmp_path / "cap.toml"
    cap.write_text("[items.service_attitude]\ncap = 4\n", encoding="utf-8")
    for name, extra in (("now", []), ("capped", ["--scorecard", str(cap)])):
        res = runner.invoke(
            app, ["export", "--date", "2026-11-24", "--out", str(tmp_path / name), *db, *extra]
        )
        assert res.exit_code == 0, res.output
    now, capped = (
        json.loads((tmp_path / n / "export.json").read_text(encoding="utf-8")) for n in ("now", "capped")
    )
    assert now["window"]["label"] == "2026-11-24" and now["rejected_findings"] == 0
    assert (
        capped["scorecard"]["source"] == str(cap) and capped["scorecard"]["hash"] != now["scorecard"]["hash"]
    )
    assert [c["hash"] for c in capped["inspected_with"]] == [now["scorecard"]["hash"]]
    res = runner.invoke(app, ["compare", str(tmp_path / "now"), str(tmp_path / "capped")])
    assert res.exit_code == 0 and "configuration: the scorecard differs" in res.stderr
    assert "scorecard changes: items.service_attitude.cap 4 added\n" in res.stderr
    # the lexicon and model of the stored runs, which found what the export scored (audit 107 M2)
    assert capped["inspected_with"][0]["lexicon"].startswith("2026.") and capped["inspected_with"][0]["model"]
    assert "after: scorecard seed-000 v3" in res.stderr and "lexicon 2026." in res.stderr
    # the same card read from another path is the same card (audit 107 L1)
    same = tmp_path / "same.toml"
    same.write_text(cap.read_text(encoding="utf-8"), encoding="utf-8")
    res = runner.invoke(
        app,
        ["export", "--date", "2026-11-24", "--out", str(tmp_path / "same"), *db, "--scorecard", str(same)],
    )
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["compare", str(tmp_path / "capped"), str(tmp_path / "same")])
    assert (
        "configuration: the same scorecard, lexicon, model, timezone, limits, user dictionary, review;"
        in res.stderr
    )
    # an export into an inspection's folder is refused: one folder, two runs (audit 162 M1)
    res = runner.invoke(
        app, ["export", "--date", "2026-11-24", "--out", str(tmp_path / "run"), *db, "--scorecard", str(cap)]
    )
    assert res.exit_code == 2 and "holds a qc inspect run" in res.stderr
    assert not (tmp_path / "run" / "export.json").exists()
    (tmp_path / "capped" / "export.json").write_text("{not json", encoding="utf-8")
    res = runner.invoke(app, ["compare", str(tmp_path / "now"), str(tmp_path / "capped")])
    assert "after: record export.json is unreadable" in res.stderr  # not "no record" (audit 107 L2)
    (tmp_path / "now" / "export.json").unlink()
    res = runner.invoke(app, ["compare", str(tmp_path / "now"), str(tmp_path / "capped")])
    assert "before: no run.json or export.json beside the table" in res.stderr


def test_a_card_written_differently_with_the_same_settings_is_the_same_card(demo_runs, tmp_path):
    """32.0 for 32 hashes differently (audit 104 L2): compare reads the effective cards both runs
    recorded and says they hold the same settings, not that the scorecard differs."""
    now, _ = demo_runs
    card = tmp_path / "float.toml"
    card.write_text("[items.average_response]\nthreshold = 32.0\n", encoding="utf-8")
    res = runner.invoke(
        app,
        ["inspect", str(ROOT / "demo" / "day"), "--out", str(tmp_path / "f"), "-q", "--scorecard", str(card)],
    )
    assert res.exit_code == 0, res.output
    recorded = json.loads((tmp_path / "f" / "run.json").read_text(encoding="utf-8"))["scorecard"]
    assert recorded["effective"]["items"]["average_response"]["threshold"] == 32.0
    res = runner.invoke(app, ["compare", str(now), str(tmp_path / "f")])
    assert res.exit_code == 0 and res.stdout == ""
    assert "the two scorecards are written differently but hold the same settings" in res.stderr
    assert (
        "configuration: the same scorecard, lexicon, model, timezone, limits, user dictionary, review;"
        in res.stderr
    )
    assert "scorecard differs" not in res.stderr and "scorecard changes" not in res.stderr
    # a record without the effective card (written before it was recorded) still says "differs"
    old = tmp_path / "old"
    shutil.copytree(tmp_path / "f", old)
    run = json.loads((old / "run.json").read_text(encoding="utf-8"))
    del run["scorecard"]["effective"]
    (old / "run.json").write_text(json.dumps(run), encoding="utf-8")
    res = runner.invoke(app, ["compare", str(now), str(old)])
    assert "configuration: the scorecard differs" in res.stderr and "scorecard changes" not in res.stderr


def test_rows_on_one_side_counts_and_metrics_are_listed(tmp_path):
    before = _write(tmp_path / "a", [_row("店:甲", -3, impatience=3), _row("店:乙", -1), _row("店:丙", 0)])
    after = _write(
        tmp_path / "b",
        # A column the older table lacks (a new kind's count) changes a row only where it says something.
        [
            _row("店:甲", -1, impatience=1, avg_response_s=30.5, silent_transfer=1),
            _row("店:丙", 0, silent_transfer=0),
            _row("店:丁", -5),
        ],
    )
    res = runner.invoke(app, ["compare", str(before), str(after), "--format", "json"])
    assert res.exit_code == 0, res.output
    got = {r["agent"]: r for r in map(json.loads, res.stdout.splitlines())}
    assert set(got) == {"店:甲", "店:乙", "店:丁"}  # 丙 did not change
    assert (got["店:乙"]["only_in"], got["店:乙"]["change"]) == ("before", 1)
    assert (got["店:丁"]["only_in"], got["店:丁"]["change"]) == ("after", -5)
    changes = {c["key"]: (c["label"], c["before"], c["after"]) for c in got["店:甲"]["changes"]}
    # Without agents.csv beside the table, a kind is named by its 中文 label and other keys stand.
    assert changes["impatience"] == ("不够耐心次数", 3, 1)
    assert changes["avg_response_s"] == ("avg_response_s", None, 30.5)
    assert changes["silent_transfer"] == ("转接未告知次数", None, 1)
    assert "3 of 4 agent rows changed (1 only before, 1 only after)" in res.stderr
    everything = runner.invoke(app, ["compare", str(before), str(after), "--format", "json", "--all"])
    assert len(everything.stdout.splitlines()) == 4


def test_different_windows_are_said_and_the_daily_view_is_compared_on_request(tmp_path):
    a = _write(tmp_path / "a", [_row("店:甲", -3)])
    _write(
        tmp_path / "a",
        [_row("店:甲", -2, "2026-11-24"), _row("店:甲", -1, "2026-11-25")],
        "agents_daily.json",
    )
    b = _write(tmp_path / "b", [_row("店:甲", -3, "2026-11")])
    _write(
        tmp_path / "b",
        [_row("店:甲", -2, "2026-11-24"), _row("店:甲", -4, "2026-11-25")],
        "agents_daily.json",
    )
    res = runner.invoke(
        app, ["compare", str(a), str(b), "--format", "json", "--csv", str(tmp_path / "c.csv")]
    )
    # refused: every row would be "only before" or "only after", read as changes (audit 97 #7)
    assert res.exit_code == 2 and "score different windows (2026-11-24 before, 2026-11 after)" in res.stderr
    assert res.stdout == "" and "agent rows changed" not in res.stderr and not (tmp_path / "c.csv").exists()
    daily = runner.invoke(app, ["compare", str(a), str(b), "--daily", "--format", "json"])
    (changed,) = [json.loads(line) for line in daily.stdout.splitlines()]
    assert (changed["window"], changed["change"]) == ("2026-11-25", -3)
    assert "different windows" not in daily.stderr


def test_an_agent_nick_is_shown_literally_in_the_table(tmp_path):
    """店:[vip]小王 lost its [vip] and 店[/x]乙 was an internal error: read as rich markup (audit 95 C1)."""
    a = _write(tmp_path / "a", [_row("店:[vip]小王", -1), _row("店[/x]乙", -1)])
    b = _write(tmp_path / "b", [_row("店:[vip]小王", -2), _row("店[/x]乙", -3)])
    res = runner.invoke(app, ["compare", str(a), str(b)], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    assert "店:[vip]小王" in res.stdout and "店[/x]乙" in res.stdout


def test_an_agent_nick_that_reads_as_a_formula_stays_text_in_the_csv(tmp_path):
    a = _write(tmp_path / "a", [_row("=HYPERLINK(1)", -1)])
    b = _write(tmp_path / "b", [_row("=HYPERLINK(1)", -2)])
    out = tmp_path / "c.csv"
    res = runner.invoke(app, ["compare", str(a), str(b), "--csv", str(out)])
    assert res.exit_code == 0, res.output
    (row,) = list(csv.reader(out.read_text(encoding="utf-8-sig").splitlines()[2:]))
    assert row[1] == "'=HYPERLINK(1)"


@pytest.mark.parametrize(
    "setup,args,message",
    [
        (lambda p: None, [], "agents.json: no such file; give a folder written by qc inspect"),
        (
            lambda p: (p / "agents.json").write_text("[{\n", encoding="utf-8"),
            [],
            "agents.json line 2: not the JSON",
        ),
        (lambda p: (p / "agents.json").write_text('{"a": 1}', encoding="utf-8"), [], "not an agents table"),
        (lambda p: _write(p, [_row("甲", 0)]), ["--format", "xml"], "--format 'xml' is unknown"),
        (lambda p: _write(p, [_row("甲", 0)]), ["--csv", "."], "is a folder: give a file name"),
        (lambda p: _write(p, [_row("甲", 0)]), ["--daily"], "agents_daily.json: no such file"),
        # audit 95 C2, C3: two rows of one agent and window, a total that is no number
        (
            lambda p: _write(p, [_row("甲", -5), _row("甲", -9)]),
            [],
            "rows 1 and 2 are both 甲 (店) for 2026-11-24",
        ),
        (lambda p: _write(p, [_row("甲", 0) | {"total_points": "abc"}]), [], "a number for total_points"),
    ],
)
def test_what_is_not_an_agents_table_exits_2_naming_it(tmp_path, setup, args, message):
    folder = tmp_path / "x"
    folder.mkdir()
    setup(folder)
    res = runner.invoke(
        app, ["compare", str(folder), str(folder), *[str(folder) if a == "." else a for a in args]]
    )
    assert res.exit_code == 2, res.output
    assert message in res.stderr and "Traceback" not in res.output


def test_compare_names_the_reading_settings_and_the_review_behind_each_side(tmp_path, monkeypatch):
    """Two exports differing only by --strict, or two runs only by the limits file, were "the same
    scorecard, lexicon, model; what changed came from the chats" while points moved (audit 113
    H3, H4); a export with five findings rejected said nothing of the review (M2)."""
    day = ROOT / "demo" / "day"
    for name, extra in (("plain", []), ("strict", ["--strict"])):
        db = ["--db", str(tmp_path / f"{name}.sqlite")]
        assert (
            runner.invoke(
                app, ["inspect", str(day), "--out", str(tmp_path / f"i-{name}"), "-q", *db] + extra
            ).exit_code
            == 0
        )
        res = runner.invoke(
            app, ["export", "--date", "2026-11-24", "--out", str(tmp_path / f"e-{name}"), *db]
        )
        assert res.exit_code == 0, res.output
    record = json.loads((tmp_path / "e-strict" / "export.json").read_text(encoding="utf-8"))
    (entry,) = record["inspected_with"]
    assert entry["strict"] is True and entry["timezone"] == "Asia/Shanghai" and entry["user_dict"] == ""
    assert entry["limits"]["max_message_chars"] == 5000 and "source" not in entry["limits"]
    res = runner.invoke(app, ["compare", str(tmp_path / "e-plain"), str(tmp_path / "e-strict")])
    assert res.exit_code == 0 and "configuration: the lexicon differs" in res.stderr
    assert " strict; model" in res.stderr and "limits bundled" in res.stderr
    # a --db run's tables score the stored day: its run.json names what made the stored findings
    run = json.loads((tmp_path / "i-strict" / "run.json").read_text(encoding="utf-8"))
    assert [e["strict"] for e in run["inspected_with"]] == [True] and run["rejected_findings"] == 0

    # the review: one finding rejected between two exports of the same store
    from qc.store.database import open_store
    from qc.supervise.people import add_person
    from qc.supervise.review import decide

    with open_store(tmp_path / "plain.sqlite") as store:
        add_person(store, "质检员", "reviewer", by="test")
        charged = next(s for s in store.findings(agent="柚子优选旗舰店:阿杰") if s.finding.live)
        decide(store, charged.id, "reject", by="质检员", note="a friendly reply")
    db = ["--db", str(tmp_path / "plain.sqlite")]
    assert (
        runner.invoke(
            app, ["export", "--date", "2026-11-24", "--out", str(tmp_path / "e-rev"), *db]
        ).exit_code
        == 0
    )
    res = runner.invoke(app, ["compare", str(tmp_path / "e-plain"), str(tmp_path / "e-rev")])
    assert "after: " in res.stderr and "review 1 findings rejected" in res.stderr
    assert "configuration: the review differs" in res.stderr and "what changed came from" not in res.stderr
    # the same store, changed between the two exports (audit 114 L3); two stores are named as such
    assert (
        "store: its copy of these days changed between them (newest run 1 → 1, newest decision" in res.stderr
    )
    res = runner.invoke(app, ["compare", str(tmp_path / "e-plain"), str(tmp_path / "e-strict")])
    assert "store: the two were scored from different stores" in res.stderr
    # a save of another month leaves November's copy as it was: no "changed" (audit 115 M7)
    december = tmp_path / "dec.jsonl"
    at = "2026-12-02T10:00:{:02d}+08:00"
    lines = [
        {
            "conversation_id": "d1",
            "role": "customer",
            "sender": "b9",
            "timestamp": at.format(0),
            "text": "在吗",
        },
        {
            "conversation_id": "d1",
            "role": "agent",
            "sender": "店:小王",
            "timestamp": at.format(20),
            "text": "在的",
        },
    ]
    december.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8")
    db = ["--db", str(tmp_path / "plain.sqlite")]
    assert (
        runner.invoke(app, ["inspect", str(december), "--out", str(tmp_path / "i-dec"), "-q", *db]).exit_code
        == 0
    )
    assert (
        runner.invoke(
            app, ["export", "--date", "2026-11-24", "--out", str(tmp_path / "e-rev2"), *db]
        ).exit_code
        == 0
    )
    res = runner.invoke(app, ["compare", str(tmp_path / "e-rev"), str(tmp_path / "e-rev2")])
    assert "store:" not in res.stderr, res.stderr

    # two runs under different limits files (QC_LIMITS)
    limits = tmp_path / "limits.toml"
    limits.write_text("[input]\nmax_message_chars = 3\n", encoding="utf-8")
    assert (
        runner.invoke(
            app, ["inspect", str(day), "--out", str(tmp_path / "short"), "-q"], env={"QC_LIMITS": str(limits)}
        ).exit_code
        == 0
    )
    assert runner.invoke(app, ["inspect", str(day), "--out", str(tmp_path / "whole"), "-q"]).exit_code == 0
    res = runner.invoke(app, ["compare", str(tmp_path / "whole"), str(tmp_path / "short")])
    assert "configuration: the limits differ" in res.stderr
    assert "limits max_message_chars=3" in res.stderr and "limits bundled" in res.stderr


def test_a_score_moved_by_other_than_points_is_a_change(tmp_path):
    """A card raising an item's full marks moved every 合计得分 by 10 and compare said "0 of 6 agent
    rows changed" (audit 153 M1); a score that moves with its points is not listed twice."""
    item = {"service_attitude_points": -5, "service_attitude_score": 15}
    before = _write(
        tmp_path / "a",
        [_row("店:甲", -5, **item), _row("店:乙", -1, service_attitude_points=-1, service_attitude_score=19)],
    )
    after = _write(
        tmp_path / "b",
        [
            {**_row("店:甲", -5, service_attitude_points=-5, service_attitude_score=25), "total_score": 65},
            _row("店:乙", -3, service_attitude_points=-3, service_attitude_score=17),
        ],
    )
    res = runner.invoke(app, ["compare", str(before), str(after), "--format", "json"])
    assert res.exit_code == 0, res.output
    changes = {
        r["agent"]: sorted(c["key"] for c in r["changes"])
        for r in json.loads(f"[{','.join(res.stdout.splitlines())}]")
    }
    assert changes == {
        "店:甲": ["service_attitude_score", "total_score"],
        "店:乙": ["service_attitude_points", "total_points"],
    }
    assert (
        "2 of 2 agent rows changed; points of every row -6 before, -8 after (-2);"
        " total score 114 before, 122 after (+8)" in res.stderr
    )
    same = runner.invoke(app, ["compare", str(before), str(before)])
    assert "total score" not in same.stderr


def test_an_agents_csv_or_xlsx_path_reads_the_table_beside_it_and_another_file_is_named(tmp_path):
    """`qc compare out/agents.csv …` said "agents.csv/agents.json: no such file" (audit 153 L6)."""
    folder = _write(tmp_path / "x", [_row("店:甲", -3)])
    (folder / "agents.csv").write_text("客服\n", encoding="utf-8")
    (folder / "findings.jsonl").write_text("{}\n", encoding="utf-8")
    res = runner.invoke(app, ["compare", str(folder / "agents.csv"), str(folder)])
    assert res.exit_code == 0 and "0 of 1 agent rows changed" in res.stderr, res.output
    res = runner.invoke(app, ["compare", str(folder / "findings.jsonl"), str(folder)])
    assert res.exit_code == 2 and "findings.jsonl is no agents table: give the folder" in res.stderr


def test_a_month_and_the_same_days_as_a_range_match_and_a_partial_overlap_is_said(tmp_path):
    """--period 2026-11 against --from 2026-11-01 --to 2026-11-30 was refused as different windows;
    a week against its month listed the other days as a change without a word (audit 153 L1)."""
    month = _write(tmp_path / "m", [_row("店:甲", -3, "2026-11")])
    ranged = _write(tmp_path / "r", [_row("店:甲", -4, "2026-11-01~2026-11-30")])
    res = runner.invoke(app, ["compare", str(month), str(ranged), "--format", "json"])
    assert res.exit_code == 0, res.output
    (row,) = [json.loads(line) for line in res.stdout.splitlines()]
    assert (row["window"], row["change"], row["only_in"]) == ("2026-11", -1, None)
    assert "partly different windows" not in res.stderr
    days = _write(tmp_path / "d", [_row("店:甲", -2, "2026-11-24"), _row("店:甲", -1, "2026-11-25")])
    one = _write(tmp_path / "o", [_row("店:甲", -2, "2026-11-24")])
    res = runner.invoke(app, ["compare", str(days), str(one)])
    assert res.exit_code == 0, res.output
    assert (
        "warning: the two tables score partly different windows (2026-11-25 on one side only)" in res.stderr
    )


def test_the_total_score_adds_up_the_rows_the_points_beside_it_do(tmp_path):
    """With an agent on one side only, the total score counted the rows on both sides and the
    points every row: "-8 → -5 (+3); total score 112 → 112 (0)" (audit 155 M4)."""
    before = _write(tmp_path / "a", [_row("店:甲", -5), _row("店:乙", -3)])
    after = _write(tmp_path / "b", [_row("店:甲", -5)])
    res = runner.invoke(app, ["compare", str(before), str(after)])
    assert res.exit_code == 0, res.output
    assert (
        "points of every row -8 before, -5 after (+3); total score 112 before, 55 after (-57)" in res.stderr
    )
