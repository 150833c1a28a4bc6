"""One clock per shop: naive times are read, and stored times shown, in the card's [day] timezone.

A shop outside China sets `[day] timezone` in its scorecard; `qc inspect` reads timestamps
written without an offset in that zone unless `--timezone` says otherwise, and `qc show`, the
report and the workbench show every time on that clock, whatever offset the export wrote.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qc.cli import app
from qc.supervise.search import SearchHit

runner = (
    CliRunner(mix_stderr=False) if "mix_stderr" in CliRunner.__init__.__code__.co_varnames else CliRunner()
)


def _day(tmp_path: Path, stamps: tuple[str, str]) -> Path:
    folder = tmp_path / "day"
    folder.mkdir()
    rows = [
        {
            "conversation_id": "NY-1",
            "shop": "纽约小店",
            "role": "买家",
            "sender": "tb_安",
            "timestamp": stamps[0],
            "text": "这款有黑色吗",
        },
        {
            "conversation_id": "NY-1",
            "role": "客服",
            "sender": "纽约小店:阿梅",
            "timestamp": stamps[1],
            "text": "亲，有的，黑色现货",
        },
    ]
    (folder / "chats.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
    )
    return folder


def _card(tmp_path: Path, zone: str) -> Path:
    card = tmp_path / "shop.toml"
    card.write_text(f'[day]\ntimezone = "{zone}"\n', encoding="utf-8")
    return card


def _agent_days(out: Path) -> set[str]:
    with (out / "agents.csv").open(encoding="utf-8-sig", newline="") as fh:
        next(fh)  # the Chinese header line; the English keys follow
        return {row["date"] for row in csv.DictReader(fh)}


@pytest.mark.parametrize(
    ("extra", "offset", "day"),
    [
        # the card's zone: 08:00 in New York is the 24th there
        ([], "-05:00", "2026-11-24"),
        # --timezone still wins for files whose naive times are another zone's (a server's UTC)
        (["--timezone", "Asia/Shanghai"], "+08:00", "2026-11-23"),
    ],
    ids=["card-zone", "timezone-option"],
)
def test_naive_times_are_read_in_the_cards_zone_unless_timezone_is_given(
    tmp_path: Path, extra: list[str], offset: str, day: str
) -> None:
    folder = _day(tmp_path, ("2026-11-24 08:00:00", "2026-11-24 08:00:40"))
    out = tmp_path / "out"
    args = [
        "inspect",
        str(folder),
        "--out",
        str(out),
        "--quiet",
        "--scorecard",
        str(_card(tmp_path, "America/New_York")),
    ]
    res = runner.invoke(app, args + extra)
    assert res.exit_code == 0, res.stderr
    summary = json.loads((out / "conversations.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert summary["started_at"].endswith(offset)
    assert _agent_days(out) == {day}


@pytest.mark.parametrize(
    ("zone", "day", "clocks"),
    [
        # An API export in UTC: 17:30 UTC on the 24th is 01:30 on the 25th in Shanghai.
        (None, "2026-11-25", ("01:30:00", "01:30:50")),
        # A shop that keeps its card on UTC reads the export's own clock.
        ("UTC", "2026-11-24", ("17:30:00", "17:30:50")),
    ],
    ids=["shanghai-card", "utc-card"],
)
def test_show_prints_times_and_days_on_the_shops_clock(
    tmp_path: Path, zone: str | None, day: str, clocks: tuple[str, str]
) -> None:
    folder = _day(tmp_path, ("2026-11-24T17:30:00+00:00", "2026-11-24T17:30:50+00:00"))
    db = tmp_path / "qc.sqlite"
    card = ["--scorecard", str(_card(tmp_path, zone))] if zone else []
    res = runner.invoke(
        app, ["inspect", str(folder), "--out", str(tmp_path / "out"), "--quiet", "--db", str(db), *card]
    )
    assert res.exit_code == 0, res.stderr
    assert _agent_days(tmp_path / "out") == {day}
    shown = runner.invoke(app, ["show", "NY-1", "--db", str(db), "--no-mood", *card])
    assert shown.exit_code == 0, shown.stderr
    other_day = {"2026-11-24", "2026-11-25"} - {day}
    assert day in shown.stdout and other_day.pop() not in shown.stdout
    other = {"01:30", "17:30"} - {clocks[0][:5]}
    assert all(c in shown.stdout for c in clocks) and other.pop() not in shown.stdout


@pytest.mark.parametrize(
    ("sent_at", "zone", "when"),
    [
        ("2026-11-24T17:30:05+00:00", "Asia/Shanghai", "2026-11-25 01:30:05"),
        ("2026-11-24T17:30:05+00:00", "UTC", "2026-11-24 17:30:05"),
        ("2026-11-24T09:00:00", "America/New_York", "2026-11-24 09:00:00"),  # naive: as written
        (None, "Asia/Shanghai", "2026-11-23"),  # no time: the day it counts on
        ("not a time", "Asia/Shanghai", "2026-11-23"),
    ],
)
def test_a_search_hit_tells_when_it_was_sent_on_the_shops_clock(
    sent_at: str | None, zone: str, when: str
) -> None:
    # counted on the 23rd (the conversation's first day, by = "conversation_start")
    hit = SearchHit("c1", "店", 0, "2026-11-23", "agent", "好的", "店:阿梅", sent_at, False)
    assert hit.when(zone) == when


def test_the_report_and_the_workbench_show_the_shops_clock() -> None:
    from datetime import datetime
    from types import SimpleNamespace
    from zoneinfo import ZoneInfo

    from jinja2 import Environment, FileSystemLoader

    from qc.schema import Conversation, Evidence, Finding, Message, Role
    from qc.scoring.card import load_scorecard
    from qc.supervise.report import _render_conversation, load_reply_patterns
    from qc.supervise.transcript import build_view
    from qc.text.pii import Masker

    utc = ZoneInfo("UTC")
    conv = Conversation(
        "c1",
        (
            Message(
                0, Role.CUSTOMER, "在吗", sender="买家", sent_at=datetime(2026, 11, 24, 17, 30, 5, tzinfo=utc)
            ),
            Message(
                1,
                Role.AGENT,
                "在的亲",
                sender="店:阿梅",
                sent_at=datetime(2026, 11, 24, 17, 30, 40, tzinfo=utc),
            ),
        ),
    )
    view = build_view(conv, [], load_scorecard())
    assert [str(mv.local_time) for mv in view.messages] == [
        "2026-11-25 01:30:05+08:00",
        "2026-11-25 01:30:40+08:00",
    ]
    found = Finding("c1", 1, "impatience", 0.99, Evidence("attitude_classifier.v1", "model"), "店:阿梅", "")
    heading = SimpleNamespace(date="2026-11-25", agents=["店:阿梅"], points=-1.0)
    flagged = build_view(conv, [found], load_scorecard())
    html = _render_conversation(heading, flagged, load_reply_patterns(), Masker(False))
    assert "01:30:05 买家" in html and "17:30" not in html and "11-25 01:30" not in html
    # under a heading of another day (the conversation began on the 24th), the day is said
    other = _render_conversation(
        SimpleNamespace(date="2026-11-24", agents=["店:阿梅"], points=-1.0),
        flagged,
        load_reply_patterns(),
        Masker(False),
    )
    assert "11-25 01:30:40" in other
    templates = Path(__file__).resolve().parents[1] / "qc" / "serve" / "templates"
    macro = Environment(loader=FileSystemLoader(templates)).get_template("_messages.html").module.messages
    page = str(macro(view.messages, view, Masker(False), {}, show_findings=False))
    assert '<li class="day">2026-11-25</li>' in page and "01:30:40" in page and "17:30" not in page


@pytest.mark.parametrize(
    ("zone", "stamps", "seconds"),
    [
        # Berlin springs forward at 02:00: 01:59 to 03:00:30 is 90 s, not 3,690
        ("Europe/Berlin", ("2026-03-29 01:59:00", "2026-03-29 03:00:30"), 90.0),
        # New York falls back at 02:00: 01:59 EDT to 02:00:30 EST is 3,690 s, not 90
        ("America/New_York", ("2026-11-01 01:59:00", "2026-11-01 02:00:30"), 3690.0),
    ],
    ids=["spring-forward", "fall-back"],
)
def test_a_reply_across_a_daylight_saving_change_is_timed_on_the_real_clock(
    tmp_path: Path, zone: str, stamps: tuple[str, str], seconds: float
) -> None:
    folder = _day(tmp_path, stamps)
    out = tmp_path / "out"
    card = str(_card(tmp_path, zone))
    res = runner.invoke(app, ["inspect", str(folder), "--out", str(out), "--quiet", "--scorecard", card])
    assert res.exit_code == 0, res.stderr
    with (out / "agents.csv").open(encoding="utf-8-sig", newline="") as fh:
        next(fh)
        (row,) = list(csv.DictReader(fh))
    assert float(row["avg_response_s"]) == seconds


def test_a_run_whose_card_counts_days_another_way_than_the_store_is_refused_before_saving(
    tmp_path: Path,
) -> None:
    import sqlite3

    db = tmp_path / "qc.sqlite"
    ny = ["--scorecard", str(_card(tmp_path, "America/New_York"))]
    first = _day(tmp_path, ("2026-11-24 10:00:00", "2026-11-24 10:00:40"))
    res = runner.invoke(
        app, ["inspect", str(first), "--out", str(tmp_path / "a"), "--quiet", "--db", str(db), *ny]
    )
    assert res.exit_code == 0, res.stderr
    other = tmp_path / "other"
    other.mkdir()
    (other / "more.jsonl").write_text(
        (first / "chats.jsonl").read_text(encoding="utf-8").replace("NY-1", "NY-2"), encoding="utf-8"
    )
    # the default card (days in Shanghai) over a store whose day is counted in New York
    res = runner.invoke(
        app, ["inspect", str(other), "--out", str(tmp_path / "b"), "--quiet", "--db", str(db)]
    )
    assert res.exit_code == 2
    assert "days by reply in America/New_York" in res.stderr and "nothing of this run was saved" in res.stderr
    with sqlite3.connect(db) as conn:
        assert conn.execute("select count(*) from runs").fetchone() == (1,)
        assert conn.execute("select conversation_id from conversations").fetchall() == [("NY-1",)]
    assert not (tmp_path / "b").exists()
    # the same file again with its own card replaces its copy: nothing else on the day, saved
    res = runner.invoke(
        app, ["inspect", str(other), "--out", str(tmp_path / "c"), "--quiet", "--db", str(db), *ny]
    )
    assert res.exit_code == 0, res.stderr


def _stored_texts(db: Path, cid: str) -> list[str]:
    import sqlite3

    with sqlite3.connect(db) as conn:
        rows = conn.execute("select text from messages where conversation_id = ? order by idx", (cid,))
        return [text for (text,) in rows]


def test_the_same_file_read_again_in_another_zone_replaces_its_copy(tmp_path: Path) -> None:
    """Fixing a wrong --timezone re-reads the same messages at other times: not a continuation."""
    folder = _day(tmp_path, ("2026-11-24 10:00:00", "2026-11-24 10:00:20"))
    db = tmp_path / "qc.sqlite"
    ny = ["--scorecard", str(_card(tmp_path, "America/New_York")), "--db", str(db), "--quiet"]
    first = runner.invoke(
        app, ["inspect", str(folder), "--out", str(tmp_path / "a"), "--timezone", "Asia/Shanghai", *ny]
    )
    assert first.exit_code == 0, first.stderr
    again = runner.invoke(app, ["inspect", str(folder), "--out", str(tmp_path / "b"), *ny])
    assert again.exit_code == 0, again.stderr
    assert _stored_texts(db, "NY-1") == ["这款有黑色吗", "亲，有的，黑色现货"]
    run = json.loads((tmp_path / "b" / "run.json").read_text(encoding="utf-8"))
    assert not run.get("continued_conversations")


def test_a_continuation_is_found_when_the_stored_times_have_several_offsets(tmp_path: Path) -> None:
    """Stored times compared as text order wrongly across offsets; the run compares the times."""
    db = tmp_path / "qc.sqlite"
    ny = ["--scorecard", str(_card(tmp_path, "America/New_York")), "--db", str(db), "--quiet"]

    def day(name: str, *rows: tuple[str, str, str]) -> Path:
        folder = tmp_path / name
        folder.mkdir()
        who = {"买家": "tb_安", "客服": "纽约小店:阿梅"}
        lines = [
            {"conversation_id": "MX-1", "role": role, "sender": who[role], "timestamp": at, "text": text}
            for role, at, text in rows
        ]
        (folder / "chats.jsonl").write_text(
            "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8"
        )
        return folder

    reply = ("客服", "2026-11-24 23:58:00", "在的亲")  # naive: New York, -05:00
    early = day("d1", ("买家", "2026-11-25T04:50:00+00:00", "在吗"), reply)  # 23:50 in New York
    late = day("d2", reply, ("买家", "2026-11-25T05:10:00+00:00", "好的"))
    for n, folder in enumerate((early, late)):
        res = runner.invoke(app, ["inspect", str(folder), "--out", str(tmp_path / f"o{n}"), *ny])
        assert res.exit_code == 0, res.stderr
    assert _stored_texts(db, "MX-1") == ["在吗", "在的亲", "好的"]


def test_the_python_api_reads_naive_times_in_the_cards_zone_unless_options_name_one(tmp_path: Path) -> None:
    from qc.batch.run import run_inspection
    from qc.readers import ReadOptions
    from qc.rules import RuleSettings
    from qc.run.executors import LocalExecutor
    from qc.run.inspector import build_inspector
    from qc.scoring.card import load_scorecard

    folder = _day(tmp_path, ("2026-11-24 08:00:00", "2026-11-24 08:00:40"))
    card = load_scorecard(_card(tmp_path, "America/New_York"))
    executor = LocalExecutor(build_inspector(RuleSettings()))
    offsets = []
    for n, options in enumerate((ReadOptions(encoding="utf-8"), ReadOptions(timezone="UTC"))):
        report = run_inspection(
            [folder], tmp_path / f"o{n}", executor, options, scorecard=card, keep_results=True
        )
        offsets.append({m.sent_at.utcoffset() for r in report.results for m in r.conversation.messages})
    assert [{o.total_seconds() / 3600 for o in s} for s in offsets] == [{-5.0}, {0.0}]
