"""Re-inspecting days into the store, in any order, any number of times, with overlapping files.

The store keeps conversations, upserted by (shop, id), and derives every score. So whatever
runs read the day files (in any order, repeated, several files in one run, files sharing
conversations), the store ends up holding what one clean run of the union holds, and scores
the same. Generated conversations (qc.synth) of two days, one of them crossing midnight; the
forbidden-phrase rule only (fast, and the store's behaviour does not depend on the rules).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import MetaData, create_engine, select

from qc.batch.run import run_inspection
from qc.batch.stored import score_stored
from qc.rules.forbidden_phrase import ForbiddenPhraseRule
from qc.rules.lexicon import load_lexicon
from qc.run.executors import LocalExecutor
from qc.run.inspector import Inspector
from qc.schema import Conversation
from qc.scoring.card import load_scorecard, parse_scorecard
from qc.scoring.periods import Windows
from qc.store.database import open_store
from qc.store.tables import RESULT_TABLES, database_url
from qc.supervise.review import export_day
from qc.synth import exports
from qc.synth.conversations import generate_day

# Columns that say when and from which file a row was saved, not what it holds.
_PROVENANCE = {"run_id", "first_run_id", "saved_at", "source", "conversation_source"}


def _late(conv: Conversation, day: date) -> Conversation:
    """The conversation moved to start at 23:58 of ``day`` (so it crosses midnight)."""
    first = conv.started_at
    assert first is not None
    start = datetime.combine(day, datetime.min.time(), first.tzinfo) + timedelta(hours=23, minutes=58)
    shift = start - first
    messages = tuple(replace(m, sent_at=m.sent_at + shift if m.sent_at else None) for m in conv.messages)
    return replace(conv, id=f"{conv.id}-late", messages=messages)


@cache
def conversations() -> tuple[tuple[Conversation, ...], tuple[Conversation, ...]]:
    day24 = generate_day(date(2026, 11, 24), 6, seed=11)
    day25 = generate_day(date(2026, 11, 25), 6, seed=12)
    late = _late(day24[0], date(2026, 11, 24))
    assert late.messages[0].sent_at.date() != late.messages[-1].sent_at.date()
    return (*day24, late), tuple(day25)


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """Where this module's day files and stores go (pytest's temporary folder)."""
    return tmp_path_factory.mktemp("reinspect")


def day_files(folder: Path) -> tuple[Path, ...]:
    """Exports: day 24, day 25, one sharing two conversations of each day, the union; then the
    conversation that crosses midnight cut at midnight, as daily exports cut it (its part before
    and its part after)."""
    day24, day25 = conversations()
    late = day24[-1]
    before, after = split_at_midnight(late)
    files = []
    for name, convs in (
        ("2026-11-24.jsonl", day24),
        ("2026-11-25.jsonl", day25),
        ("2026-11-24_25.jsonl", (day24[-1], day24[1], day25[0], day25[2])),
        ("union.jsonl", (*day24, *day25)),
        ("late-before-midnight.jsonl", (before,)),
        ("late-after-midnight.jsonl", (after, day25[1])),
    ):
        path = folder / name
        if not path.exists():
            exports.write("jsonl-conversations", convs, path)
        files.append(path)
    return tuple(files)


def split_at_midnight(conv: Conversation) -> tuple[Conversation, Conversation]:
    """The messages of ``conv`` before its first midnight, and the rest."""
    first = conv.messages[0].sent_at
    assert first is not None
    midnight = datetime.combine(first.date() + timedelta(days=1), datetime.min.time(), first.tzinfo)
    early = tuple(m for m in conv.messages if m.sent_at is not None and m.sent_at < midnight)
    late = tuple(m for m in conv.messages if m not in early)
    assert early and late
    return replace(conv, messages=early), replace(conv, messages=late)


@cache
def executor() -> LocalExecutor:
    return LocalExecutor(Inspector([ForbiddenPhraseRule(load_lexicon())]))


def card_for(by: str):
    data = dict(load_scorecard().data)
    data["day"] = {**data["day"], "by": by}
    return parse_scorecard(data, "test")


def snapshot(db: str) -> dict[str, list[tuple]]:
    """Every row of the conversation tables, without the columns that record provenance."""
    engine = create_engine(database_url(db))
    md = MetaData()
    md.reflect(engine, only=list(RESULT_TABLES))
    out = {}
    with engine.connect() as conn:
        for name in RESULT_TABLES:
            t = md.tables[name]
            cols = [c for c in t.columns if c.name not in _PROVENANCE]
            out[name] = sorted((tuple(r) for r in conn.execute(select(*cols))), key=repr)
    engine.dispose()
    return out


def scores(db: str, card) -> list[dict]:
    with open_store(db) as store:
        rows = []
        for day in ("2026-11-24", "2026-11-25"):
            rows += export_day(store, day, Path(db).parent / f"export-{day}", card).rows
        return rows


_UNION: dict[str, tuple[dict[str, list[tuple]], list[dict]]] = {}


def union(folder: Path, by: str) -> tuple[dict[str, list[tuple]], list[dict]]:
    """The store and daily scores of one clean run of every conversation once (made once per rule)."""
    if by not in _UNION:
        where = folder / f"union-{by}"
        db = str(where / "qc.sqlite")
        card = card_for(by)
        run_inspection([day_files(folder)[3]], where / "out", executor(), scorecard=card, store=db)
        _UNION[by] = snapshot(db), scores(db, card)
    return _UNION[by]


runs = st.lists(st.sets(st.sampled_from([0, 1, 2]), min_size=1, max_size=2), min_size=1, max_size=5).filter(
    lambda rs: {0, 1} <= set().union(*rs)
)


_EXAMPLES = iter(range(10**6))


@given(runs, st.sampled_from(["reply", "conversation_start"]))
@settings(max_examples=14, deadline=None)
def test_any_order_of_runs_gives_the_store_of_one_clean_run_of_the_union(folder, order, by):
    card = card_for(by)
    tmp = folder / f"example-{next(_EXAMPLES)}"
    db = str(tmp / "qc.sqlite")
    for n, chosen in enumerate(order):
        files = [day_files(folder)[i] for i in sorted(chosen)]
        run_inspection(files, tmp / f"out{n}", executor(), scorecard=card, store=db)
    expected_rows, expected_scores = union(folder, by)
    assert snapshot(db) == expected_rows
    assert scores(db, card) == expected_scores


def test_reinspecting_one_day_never_touches_another_days_conversations(folder, tmp_path):
    # The case: day 25 stored, then day 24 (whose late conversation spills into 25)
    # inspected again, twice. Day 25's own conversations all stay.
    day24, day25 = conversations()
    db = str(tmp_path / "qc.sqlite")
    card = load_scorecard()
    run_inspection([day_files(folder)[1]], tmp_path / "o25", executor(), scorecard=card, store=db)
    for n in range(2):
        report = run_inspection(
            [day_files(folder)[0]], tmp_path / f"o24-{n}", executor(), scorecard=card, store=db
        )
        assert {r["date"] for r in report.agents} == {"2026-11-24", "2026-11-25"}
    with open_store(db) as store:
        stored = {cid for cid, _, _ in store.conversation_agents()}
        assert stored == {c.id for c in (*day24, *day25)}
        parts = store.parts("2026-11-25", "2026-11-25")
        assert {p.conversation_id for p in parts} == {c.id for c in day25} | {day24[-1].id}
        # The month pools both days: each agent's conversations counted once, the late one too.
        month = score_stored(store, card, "2026-11-01", "2026-11-30", Windows.every("month")).scores.rows
        everything = store.parts("2026-11-01", "2026-11-30")
    late_agents = {p.agent for p in everything if p.conversation_id == day24[-1].id}
    assert late_agents and len([p for p in everything if p.conversation_id == day24[-1].id]) >= 2
    for row in month:
        mine = {p.conversation_id for p in everything if p.agent == row["agent"]}
        assert (row["date"], row["conversations"]) == ("2026-11", len(mine))


@pytest.mark.parametrize("order", [(4, 5), (5, 4), (4, 5, 4), (5, 4, 5), (4, 4, 5)])
def test_a_conversation_cut_at_midnight_keeps_both_parts_in_any_order(folder, tmp_path, order):
    # Daily exports cut a conversation that crosses midnight in two; inspected by separate
    # runs, its parts join in the store as one run over both files would join them.
    files = day_files(folder)
    card = load_scorecard()
    db = str(tmp_path / "qc.sqlite")
    for n, i in enumerate(order):
        report = run_inspection([files[i]], tmp_path / f"out{n}", executor(), scorecard=card, store=db)
    joined = str(tmp_path / "one.sqlite")
    run_inspection([files[4], files[5]], tmp_path / "one", executor(), scorecard=card, store=joined)
    assert snapshot(db) == snapshot(joined)
    assert scores(db, card) == scores(joined, card)
    late = conversations()[0][-1]
    with open_store(db) as store:
        assert len(store.conversations([late.id])[late.id].messages) == len(late.messages)
    before, after = split_at_midnight(late)
    kept = len(before.messages) if order[-1] == 5 else len(after.messages)
    # every order here ends with a run whose part continues what an earlier run stored
    assert report.run["continued_conversations"] == [
        {"shop": late.shop or "", "conversation_id": late.id, "stored_messages_kept": kept}
    ]


@pytest.mark.parametrize("keep_results", [True, False], ids=["results", "spool"])
def test_the_stored_parts_are_read_under_the_saves_write_lock(folder, tmp_path, monkeypatch, keep_results):
    """Two runs saving the two halves at once: each reads the other's half only under its own lock.

    Read before the lock, a run that saw nothing stored yet replaced the half the other run had
    saved meanwhile. Here the check tries to write while the continuation is looked up: the
    store must be locked (a concurrent save would wait, then be joined).
    """
    import sqlite3

    import qc.batch.run

    files = day_files(folder)
    db = tmp_path / "qc.sqlite"
    run_inspection([files[4]], tmp_path / "first", executor(), store=str(db))
    real = qc.batch.run.find_continuations
    tried = []

    def looked_up(*args, **kwargs):
        other = sqlite3.connect(db, timeout=0.05)
        try:
            other.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            tried.append(str(exc))
        else:
            other.rollback()
            tried.append("not locked")
        finally:
            other.close()
        return real(*args, **kwargs)

    monkeypatch.setattr(qc.batch.run, "find_continuations", looked_up)
    report = run_inspection(
        [files[5]], tmp_path / "second", executor(), store=str(db), keep_results=keep_results
    )
    assert tried == ["database is locked"]
    assert report.run["continued_conversations"][0]["conversation_id"] == conversations()[0][-1].id


@pytest.mark.parametrize("keep_results", [True, False], ids=["results", "spool"])
def test_a_damaged_line_in_a_re_export_never_deletes_the_stored_message(folder, tmp_path, keep_results):
    """The re-export's garbled line is rejected: the store keeps the message it held, as before."""
    day24, _ = conversations()
    whole = tmp_path / "day.jsonl"
    exports.write("jsonl", day24[:3], whole)
    lines = whole.read_text(encoding="utf-8").splitlines(keepends=True)
    conv = day24[1]
    # a message in the middle of the second conversation (neither its first nor its last)
    middle = next(
        i for i, line in enumerate(lines) if f'"{conv.id}"' in line and conv.messages[2].text in line
    )
    damaged = tmp_path / "damaged" / "day.jsonl"
    damaged.parent.mkdir()
    damaged.write_text(
        "".join(lines[:middle] + ['{"conversation_id": "' + conv.id + '", "te\n'] + lines[middle + 1 :])
    )
    db = str(tmp_path / "qc.sqlite")
    run_inspection([whole], tmp_path / "first", executor(), store=db, keep_results=keep_results)
    before = snapshot(db)
    report = run_inspection([damaged], tmp_path / "again", executor(), store=db, keep_results=keep_results)
    assert report.read.rejected == 1
    assert snapshot(db) == before  # nothing deleted, nothing renumbered
    assert report.run["continued_conversations"] == [
        {"shop": conv.shop or "", "conversation_id": conv.id, "stored_messages_kept": 1}
    ]
    assert report.run["orphaned_decisions"] == []


def test_a_corrected_export_of_the_same_messages_replaces_the_stored_copy(folder, tmp_path):
    # Same times, other text (say, read again with the right encoding): not a continuation.
    late = conversations()[0][-1]
    fixed = replace(late, messages=tuple(replace(m, text=m.text + "。") for m in late.messages))
    path = tmp_path / "fixed.jsonl"
    exports.write("jsonl-conversations", (fixed,), path)
    card = load_scorecard()
    db = str(tmp_path / "qc.sqlite")
    run_inspection([day_files(folder)[0]], tmp_path / "o1", executor(), scorecard=card, store=db)
    report = run_inspection([path], tmp_path / "o2", executor(), scorecard=card, store=db)
    assert "continued_conversations" not in report.run
    with open_store(db) as store:
        texts = [m.text for m in store.conversations([late.id])[late.id].messages]
    assert texts == [m.text for m in fixed.messages]


def midnight_parts(folder: Path) -> tuple[Path, Path]:
    """Chat c-mid cut at midnight: its part before (24.jsonl) and after (25.jsonl), the 爱买不买 after."""
    import json

    def line(t: str, role: str, sender: str, text: str) -> str:
        record = {"conversation_id": "c-mid", "shop": "店", "role": role, "sender": sender, "timestamp": t}
        return json.dumps({**record, "text": text}, ensure_ascii=False) + "\n"

    before, after = folder / "24.jsonl", folder / "25.jsonl"
    before.write_text(
        line("2026-11-24T23:58:00+08:00", "customer", "b1", "在吗")
        + line("2026-11-24T23:58:30+08:00", "agent", "店:小王", "在的亲"),
        encoding="utf-8",
    )
    after.write_text(
        line("2026-11-25T00:00:10+08:00", "customer", "b1", "能便宜点吗")
        + line("2026-11-25T00:00:40+08:00", "agent", "店:小王", "爱买不买"),
        encoding="utf-8",
    )
    return before, after


@pytest.mark.parametrize("keep_results", [True, False], ids=["results", "spool"])
def test_a_decision_follows_its_finding_when_an_earlier_part_renumbers_the_messages(tmp_path, keep_results):
    """The part after midnight is stored and reviewed first; the part before comes later and goes in front."""

    from qc.supervise.people import add_person
    from qc.supervise.review import audit_trail, decide, rejected_ids

    before, after = midnight_parts(tmp_path)
    db = str(tmp_path / "qc.sqlite")
    first = run_inspection([after], tmp_path / "o25", executor(), store=db, keep_results=keep_results)
    with open_store(db) as store:
        (old,) = [s.id for s in store.findings(conversation_ids=["c-mid"]) if s.finding.message_index == 1]
        add_person(store, "质检小王", "reviewer", by="test")
        decide(store, old, "reject", by="质检小王", note="熟客玩笑")
    assert first.run["moved_decisions"] == []
    report = run_inspection([before], tmp_path / "o24", executor(), store=db, keep_results=keep_results)
    with open_store(db) as store:
        (new,) = [s.id for s in store.findings(conversation_ids=["c-mid"]) if s.finding.message_index == 3]
        assert new != old and report.run["moved_decisions"] == [{"from": old, "to": new}]
        assert report.run["orphaned_decisions"] == [] and store.orphaned_decisions() == {}
        assert [(r["action"], r["actor"], r["note"]) for r in audit_trail(store, new)] == [
            ("reject", "质检小王", "熟客玩笑")
        ]
        assert new in rejected_ids(store)


def test_qc_review_log_shows_a_decision_moved_to_a_renumbered_finding_under_both_ids(tmp_path):
    """The move rewrote the audit row's id and only run.json said so: `qc review log NEW` showed a
    decision whose sheet row names OLD, and `qc review log OLD` said "no audit rows" (audit 119 L1)."""
    import json

    from typer.testing import CliRunner

    from qc.cli import app
    from qc.supervise.people import add_person
    from qc.supervise.review import decide

    before, after = midnight_parts(tmp_path)
    db = str(tmp_path / "qc.sqlite")
    run_inspection([after], tmp_path / "o25", executor(), store=db)
    with open_store(db) as store:
        (old,) = [s.id for s in store.findings(conversation_ids=["c-mid"]) if s.finding.message_index == 1]
        add_person(store, "质检小王", "reviewer", by="test")
        decide(store, old, "reject", by="质检小王", note="熟客玩笑", source="csv:r.csv:2")
    report = run_inspection([before], tmp_path / "o24", executor(), store=db)
    (move,) = report.run["moved_decisions"]
    new = move["to"]
    with open_store(db) as store:
        run_id = store.newest_run()
    runner = (
        CliRunner(mix_stderr=False)
        if "mix_stderr" in CliRunner.__init__.__code__.co_varnames
        else CliRunner()
    )
    shown = runner.invoke(app, ["review", "log", new, "--db", db])
    assert shown.exit_code == 0, shown.stderr
    (row,) = [json.loads(x) for x in shown.stdout.splitlines()]
    assert (row["finding_id"], row["source"]) == (new, "csv:r.csv:2")  # the row itself is as it was
    assert f"decisions moved here from {old} by run #{run_id}" in shown.stderr
    gone = runner.invoke(app, ["review", "log", old, "--db", db])
    assert gone.exit_code == 0 and gone.stdout == ""
    assert f"no audit rows for finding {old}" in gone.stderr
    assert f"moved to {new}: the run renumbered the finding; qc review log {new}" in gone.stderr
    # A sheet exported before the re-run names the old id: its row says where it went (audit 119 L4).
    sheet = tmp_path / "stale.csv"
    sheet.write_text(f"发现编号,复核结论,复核人,备注\n{old},确认,质检小王,\n", encoding="utf-8")
    stale = runner.invoke(app, ["review", "import", str(sheet), "--db", db])
    assert stale.exit_code == 2
    assert f"row 2: finding id '{old}' is not in the store: run #{run_id}" in stale.stderr
    assert (
        f"renumbered it to {new}" in stale.stderr
        and "export a fresh sheet with qc review export" in stale.stderr
    )


def test_an_id_the_export_reuses_for_another_buyer_on_another_day_is_refused(tmp_path):
    """Daily exports numbering chats from 1: day 25's chat 1 is another buyer's, never joined to day 24's."""
    from qc.errors import ConfigError

    days = {}
    for day, buyer in (("2026-11-24", "tb_小鹿"), ("2026-11-25", "tb_阿伟")):
        path = tmp_path / f"day_{day}.csv"
        path.write_text(
            "会话ID,店铺,角色,发送人,时间,内容\n"
            f"1,森林杂货铺,买家,{buyer},{day} 10:00:00,在吗\n"
            f"1,森林杂货铺,客服,森林杂货铺:阿青,{day} 10:00:30,在的\n",
            encoding="utf-8",
        )
        days[day] = path
    db = str(tmp_path / "qc.sqlite")
    run_inspection([days["2026-11-24"]], tmp_path / "o24", executor(), store=db)
    before = snapshot(db)
    with pytest.raises(
        ConfigError, match="is stored with buyer tb_小鹿 on 2026-11-24 and this run has it with buyer tb_阿伟"
    ):
        run_inspection([days["2026-11-25"]], tmp_path / "o25", executor(), store=db)
    assert snapshot(db) == before and not (tmp_path / "o25").exists()


def test_another_buyers_refusal_names_the_stored_day_on_the_shops_clock() -> None:
    from datetime import UTC, datetime

    from qc.batch.splits import _refuse_another_buyer
    from qc.errors import ConfigError
    from qc.schema import Conversation, Message, Role

    def chat(buyer: str, hour: int) -> Conversation:
        at = datetime(2026, 11, 24, hour, 0, tzinfo=UTC)  # an API export in UTC
        return Conversation("1", (Message(0, Role.CUSTOMER, "在吗", sender=buyer, sent_at=at),))

    # 17:00 UTC on the 24th is 01:00 on the 25th in Shanghai, the day the shop counts it on
    with pytest.raises(ConfigError, match="stored with buyer tb_小鹿 on 2026-11-25 and"):
        _refuse_another_buyer(("", "1"), chat("tb_小鹿", 17), chat("tb_阿伟", 18), "Asia/Shanghai")


@pytest.mark.parametrize("keep_results", [True, False], ids=["results", "spool"])
@pytest.mark.parametrize(
    "shopless",
    ["before", "after"],
    ids=["buyer-only-before-midnight", "buyer-only-after-midnight"],
)
@pytest.mark.parametrize("order", [(0, 1), (1, 0)], ids=["in-order", "reversed"])
def test_a_chat_cut_at_midnight_joins_when_one_part_has_no_shop(tmp_path, keep_results, shopless, order):
    """Without a 店铺 column the shop comes from the agents' nicks: a part of buyer messages has none."""
    import json

    def line(role: str, sender: str, at: str, text: str) -> str:
        row = {"conversation_id": "c-night", "role": role, "sender": sender, "timestamp": at, "text": text}
        return json.dumps(row, ensure_ascii=False) + "\n"

    buyer, agent = ("买家", "tb_夜猫"), ("客服", "森林杂货铺:阿青")
    if shopless == "before":
        parts = (
            [line(*buyer, "2026-11-24T23:58:00+08:00", "还在吗")],
            [
                line(*agent, "2026-11-25T00:01:00+08:00", "在的亲"),
                line(*buyer, "2026-11-25T00:01:30+08:00", "好"),
            ],
        )
    else:
        parts = (
            [
                line(*buyer, "2026-11-24T23:50:00+08:00", "还在吗"),
                line(*agent, "2026-11-24T23:51:00+08:00", "在的亲"),
            ],
            [line(*buyer, "2026-11-25T00:00:30+08:00", "谢谢")],
        )
    files = []
    for day, rows in zip(("2026-11-24", "2026-11-25"), parts, strict=True):
        files.append(tmp_path / f"{day}.jsonl")
        files[-1].write_text("".join(rows), encoding="utf-8")
    db = str(tmp_path / "qc.sqlite")
    for n, i in enumerate(order):
        run_inspection([files[i]], tmp_path / f"o{n}", executor(), store=db, keep_results=keep_results)
    joined = str(tmp_path / "one.sqlite")
    run_inspection(files, tmp_path / "one", executor(), store=joined, keep_results=keep_results)
    assert snapshot(db) == snapshot(joined)
    with open_store(db) as store:
        assert store.shops_of(["c-night"]) == {"c-night": {"森林杂货铺"}}
        assert len(store.conversations(["c-night"])["c-night"].messages) == 3


@pytest.mark.parametrize("keep_results", [True, False], ids=["results", "spool"])
def test_a_runs_files_give_the_stored_ids_of_a_conversation_it_joined(folder, tmp_path, keep_results):
    """The run's findings.jsonl listed its own part's findings, ids the store does not have (qc
    review said "no finding"), while its deductions.jsonl cited the store's (audit 76 A5)."""
    import json

    files = day_files(folder)
    db = tmp_path / "qc.sqlite"
    run_inspection([files[4]], tmp_path / "first", executor(), store=str(db))
    out = tmp_path / "second"
    run_inspection([files[5]], out, executor(), store=str(db), keep_results=keep_results)
    late = conversations()[0][-1]
    with open_store(db) as store:
        stored_ids = {s.id for s in store.findings(conversation_ids=[late.id])}
        messages = len(store.conversations([late.id])[late.id].messages)
        everything = {s.id for s in store.findings()}
    lines = [json.loads(x) for x in (out / "findings.jsonl").read_text(encoding="utf-8").splitlines()]
    assert stored_ids and {f["id"] for f in lines if f["conversation_id"] == late.id} == stored_ids
    assert {f["id"] for f in lines} <= everything  # every id the run lists, qc review finds
    summaries = [
        json.loads(x) for x in (out / "conversations.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    (mine,) = [s for s in summaries if s["conversation_id"] == late.id]
    assert mine["messages"] == messages == len(late.messages)


@pytest.mark.parametrize("by", ["reply", "conversation_start"])
def test_a_run_that_joins_a_stored_part_writes_every_day_it_changed(tmp_path, by):
    """A buyer left unanswered before midnight is answered in the next day's export: the join
    took the −5 missed reply off the 24th in the store, but the run wrote the 25th only and said
    nothing; under conversation_start the 25th's row moved to the 24th and the 25th could no
    longer be exported (audit 79, #3)."""
    import json

    def line(cid: str, *said: tuple[str, str, str, str]) -> str:
        messages = [{"role": r, "sender": who, "timestamp": at, "text": t} for r, who, at, t in said]
        return (
            json.dumps({"conversation_id": cid, "shop": "店A", "messages": messages}, ensure_ascii=False)
            + "\n"
        )

    day1, day2 = tmp_path / "d1.jsonl", tmp_path / "d2.jsonl"
    day1.write_text(
        line("j1", ("customer", "买家", "2026-11-24T23:59:00+08:00", "还能发货吗"))
        + line(
            "j2",
            ("customer", "买家乙", "2026-11-24T20:00:00+08:00", "在吗"),
            ("agent", "店A:小二", "2026-11-24T20:00:05+08:00", "亲，在的"),
        ),
        encoding="utf-8",
    )
    day2.write_text(
        line(
            "j1",
            ("agent", "店A:小三", "2026-11-25T00:00:30+08:00", "亲，明天一早发哦"),
            ("customer", "买家", "2026-11-25T00:01:00+08:00", "好的"),
        ),
        encoding="utf-8",
    )
    card = card_for(by)
    db = str(tmp_path / "qc.sqlite")
    first = run_inspection([day1], tmp_path / "o1", executor(), scorecard=card, store=db)
    second = run_inspection([day2], tmp_path / "o2", executor(), scorecard=card, store=db)
    one = run_inspection(
        [day1, day2], tmp_path / "one", executor(), scorecard=card, store=str(tmp_path / "one.sqlite")
    )
    assert {r["date"] for r in first.agents} == {"2026-11-24"}
    # The second run scores the 24th again, as one run over both files scores it.
    rows = sorted((r["agent"], r["date"], r["total_points"]) for r in second.agents)
    assert rows == sorted((r["agent"], r["date"], r["total_points"]) for r in one.agents)
    assert any(r["date"] == "2026-11-24" for r in second.agents)
    (warning,) = [w for w in second.run["warnings"] if "continue a copy already in the store" in w]
    assert "2026-11-24" in warning


@pytest.mark.parametrize("keep_results", [True, False], ids=["results", "spool"])
def test_a_joined_chat_whose_own_part_had_no_finding_is_listed_in_findings_jsonl(tmp_path, keep_results):
    """The run's part of the chat was its quiet first minutes, read after the rest: findings.jsonl
    had no line for it, while deductions.jsonl cited the stored findings (audit 82 #2)."""
    import json

    def part(name: str, said: list[tuple[str, str, str, str]]) -> Path:
        rows = [
            {
                "conversation_id": "Q1",
                "shop": "测试店",
                "role": r,
                "sender": who,
                "timestamp": f"2026-11-24T{t}+08:00",
                "text": x,
            }
            for r, who, t, x in said
        ]
        path = tmp_path / f"{name}.jsonl"
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        return path

    quiet = part(
        "quiet", [("customer", "b1", "10:00:00", "在吗"), ("agent", "测试店:小美", "10:00:04", "在的亲")]
    )
    rude = part(
        "rude",
        [("customer", "b1", "10:05:00", "发什么快递"), ("agent", "测试店:小美", "10:05:10", "上面写着呢")],
    )
    db = tmp_path / "qc.sqlite"
    run_inspection([rude], tmp_path / "first", executor(), store=str(db))
    out = tmp_path / "second"
    run_inspection([quiet], out, executor(), store=str(db), keep_results=keep_results)
    with open_store(db) as store:
        stored = {s.id for s in store.findings(conversation_ids=["Q1"])}
    lines = [json.loads(x) for x in (out / "findings.jsonl").read_text(encoding="utf-8").splitlines()]
    assert stored and {f["id"] for f in lines} == stored
    cited = {
        i
        for x in (out / "deductions.jsonl").read_text(encoding="utf-8").splitlines()
        for i in json.loads(x).get("finding_ids", [])
    }
    assert cited and cited <= stored


def test_decisions_parked_by_an_edited_re_export_come_back_with_the_original(tmp_path):
    """An edited re-export parked a rejected finding's decision (its id now named the edited
    message's finding); inspecting the original export again brought the finding back as it was,
    undecided and charged, the decision still parked (audit 82 #4)."""
    import json

    from qc.supervise.people import add_person
    from qc.supervise.review import decide, finding_states

    said = [("customer", "b1", "10:05:00", "发什么快递"), ("agent", "测试店:小美", "10:05:10", "上面写着呢")]

    def export(name: str, reply: str) -> Path:
        rows = [
            {
                "conversation_id": "P1",
                "shop": "测试店",
                "role": r,
                "sender": who,
                "timestamp": f"2026-11-24T{t}+08:00",
                "text": x,
            }
            for r, who, t, x in [*said[:1], (*said[1][:3], reply)]
        ]
        path = tmp_path / f"{name}.jsonl"
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        return path

    original, edited = export("original", "上面写着呢"), export("edited", "上面写着呢，自己看")
    db = tmp_path / "qc.sqlite"
    run_inspection([original], tmp_path / "o1", executor(), store=str(db))
    with open_store(db) as store:
        (fid,) = [s.id for s in store.findings() if s.finding.kind == "forbidden_phrase"]
        add_person(store, "qa", "reviewer", by="test")
        decide(store, fid, "reject", by="qa", note="熟客")
    run_inspection([edited], tmp_path / "o2", executor(), store=str(db))
    with open_store(db) as store:
        assert finding_states(store, [fid]) == {}  # parked: the edited message is nobody's decision
    # The report and the log name where they are kept: the bare id names a live, undecided finding
    # now, and `qc review log` said "no audit rows" for it (audit 86 L2).
    (gone,) = json.loads((tmp_path / "o2" / "run.json").read_text(encoding="utf-8"))["orphaned_decisions"]
    assert (gone["finding_id"], gone["kept_as"]) == (fid, f"{fid}~2")
    from typer.testing import CliRunner

    from qc.cli import app

    told = CliRunner().invoke(app, ["review", "log", fid, "--db", str(db)])
    assert f"its earlier decisions are kept as {fid}~2: qc review log {fid}~2" in told.stderr
    run_inspection([original], tmp_path / "o3", executor(), store=str(db))
    with open_store(db) as store:
        assert finding_states(store, [fid]) == {fid: "rejected"}
        assert fid not in store.orphaned_decisions()
    moved = json.loads((tmp_path / "o3" / "run.json").read_text(encoding="utf-8"))["moved_decisions"]
    assert moved == [{"from": f"{fid}~2", "to": fid}]


def test_a_re_run_that_takes_conversations_off_a_day_scores_and_names_that_day(tmp_path):
    """Naive times re-read in another zone move a chat from 11-25 to 11-24: 11-25 lost it, and
    neither the run's agents files nor its warnings said so (audit 114 M1)."""
    import json

    from typer.testing import CliRunner

    from qc.cli import app

    day = tmp_path / "chat.jsonl"
    lines = [
        {
            "conversation_id": "c1",
            "role": "customer",
            "sender": "b1",
            "timestamp": "2026-11-25 00:30:00",
            "text": "在吗",
        },
        {
            "conversation_id": "c1",
            "role": "agent",
            "sender": "店:小王",
            "timestamp": "2026-11-25 00:30:20",
            "text": "在的亲",
        },
        {
            "conversation_id": "c2",
            "role": "customer",
            "sender": "b2",
            "timestamp": "2026-11-25 10:00:00",
            "text": "发货了吗",
        },
        {
            "conversation_id": "c2",
            "role": "agent",
            "sender": "店:小王",
            "timestamp": "2026-11-25 10:00:20",
            "text": "发了亲",
        },
    ]
    day.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8")
    db = ["--db", str(tmp_path / "qc.sqlite"), "-q"]
    runner = CliRunner()
    assert runner.invoke(app, ["inspect", str(day), "--out", str(tmp_path / "a"), *db]).exit_code == 0
    res = runner.invoke(
        app, ["inspect", str(day), "--out", str(tmp_path / "b"), "--timezone", "Asia/Tokyo", *db]
    )
    assert res.exit_code == 0, res.output
    run = json.loads((tmp_path / "b" / "run.json").read_text(encoding="utf-8"))
    assert "left_days" not in run  # 11-25 keeps c2: no day lost all it had, and both are written
    rows = json.loads((tmp_path / "b" / "agents.json").read_text(encoding="utf-8"))
    assert {r["date"] for r in rows} == {"2026-11-24", "2026-11-25"}
    # c1 left 11-25 for 11-24; c2 (10:00 Tokyo is 09:00 Shanghai) stays on 11-25: both days written
    with open_store(tmp_path / "qc.sqlite") as store:
        assert {p.conversation_id for p in store.parts("2026-11-25", "2026-11-25")} == {"c2"}
    # a chat moved entirely off a day: that day is named and scored
    only = tmp_path / "only.jsonl"
    only.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines[:2]), encoding="utf-8")
    db2 = ["--db", str(tmp_path / "two.sqlite"), "-q"]
    assert runner.invoke(app, ["inspect", str(only), "--out", str(tmp_path / "c"), *db2]).exit_code == 0
    res = runner.invoke(
        app, ["inspect", str(only), "--out", str(tmp_path / "d"), "--timezone", "Asia/Tokyo", *db2]
    )
    assert res.exit_code == 0, res.output
    run = json.loads((tmp_path / "d" / "run.json").read_text(encoding="utf-8"))
    assert [d["date"] for d in run["left_days"]] == ["2026-11-25"]
    (said,) = [w for w in run["warnings"] if "count on other days" in w]
    assert said.startswith("conversations stored on 2026-11-25 count on other days in this run")


@pytest.mark.parametrize("fix", ["clock", "zone"])
@pytest.mark.parametrize("earlier_part", [False, True], ids=["one_day", "after_midnight"])
def test_a_clock_corrected_re_export_that_completes_a_line_replaces_the_stored_copy(
    tmp_path, fix, earlier_part
):
    """A re-export with its clock corrected by 6 s (or its times read in the right zone) that also
    completes a line the first export had cut off was joined with its own stored copy: every
    message twice, every charge doubled, the rejection orphaned (audit 115 H1). A part of the chat
    from the day before, stored from another export, is kept."""
    import json

    from qc.supervise.people import add_person
    from qc.supervise.review import decide, finding_states

    said = [
        ("customer", "b1", "10:05:00", "杯子保温吗"),
        ("agent", "测试店:小美", "10:05:10", "保温的"),
        ("customer", "b1", "10:06:00", "能不能便宜"),
        ("agent", "测试店:小美", "10:06:20", "上面写着呢"),
    ]
    before = [
        ("customer", "b1", "2026-11-23T23:58:00+08:00", "在吗"),
        ("agent", "测试店:小美", "2026-11-23T23:58:30+08:00", "在的亲"),
    ]

    def export(name: str, rows: list[tuple[str, str, str, str]]) -> Path:
        path = tmp_path / f"{name}.jsonl"
        lines = [
            {"conversation_id": "P1", "shop": "测试店", "role": r, "sender": who, "timestamp": t, "text": x}
            for r, who, t, x in rows
        ]
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in lines), encoding="utf-8")
        return path

    first = [(r, who, f"2026-11-24T{t}+08:00", x) for r, who, t, x in said]
    if fix == "clock":
        again = [(r, who, f"2026-11-24T{t[:-2]}{int(t[-2:]) + 6:02d}+08:00", x) for r, who, t, x in said]
    else:  # the same wall clock, read in the zone the shop really keeps: an hour earlier
        again = [(r, who, f"2026-11-24T{t}+09:00", x) for r, who, t, x in said]
    again[1] = (*again[1][:3], "保温的，能保六个小时")
    db = tmp_path / "qc.sqlite"
    if earlier_part:
        run_inspection([export("before", before)], tmp_path / "o0", executor(), store=str(db))
    run_inspection([export("first", first)], tmp_path / "o1", executor(), store=str(db))
    with open_store(db) as store:
        (fid,) = [s.id for s in store.findings() if s.finding.kind == "forbidden_phrase"]
        add_person(store, "qa", "reviewer", by="test")
        decide(store, fid, "reject", by="qa", note="熟客")
    report = run_inspection([export("again", again)], tmp_path / "o2", executor(), store=str(db))
    with open_store(db) as store:
        texts = [m.text for m in store.conversations(["P1"])["P1"].messages]
        states = finding_states(
            store, [s.id for s in store.findings() if s.finding.kind == "forbidden_phrase"]
        )
    assert texts == [x for *_, x in before] * earlier_part + [x for *_, x in again]
    assert list(states.values()) == ["rejected"] and report.run["orphaned_decisions"] == []


def test_a_chat_filed_twice_under_file_named_ids_is_warned(tmp_path):
    """A time-only export without conversation ids, filed under 11-18 and then renamed to 11-19,
    was stored twice and the month counted its buyers and replies twice, unsaid (audit 114 M2). The
    first warning compared chats pair by pair and was withdrawn for its cost (117 H4): a
    fingerprint the store keeps finds them by an index (118 M2)."""
    import json
    import shutil

    from typer.testing import CliRunner

    from qc.cli import app

    first = tmp_path / "a" / "qianniu_2026-11-18.txt"
    first.parent.mkdir()
    first.write_text(
        "买家(10:00:01): 在吗\n柚子店:小雨(10:00:20): 在的亲\n买家(10:01:00): 好的\n", encoding="utf-8"
    )
    again = tmp_path / "b" / "qianniu_2026-11-19.txt"  # renamed to the day it belongs to
    again.parent.mkdir()
    shutil.copy(first, again)
    other = tmp_path / "c" / "qianniu_2026-11-20.txt"  # another chat: no warning
    other.parent.mkdir()
    other.write_text(first.read_text(encoding="utf-8").replace("10:00:20", "10:00:21"), encoding="utf-8")
    db = ["--db", str(tmp_path / "qc.sqlite"), "-q"]
    runner = CliRunner()

    def warnings(source: Path, out: str) -> list[str]:
        assert runner.invoke(app, ["inspect", str(source), "--out", str(tmp_path / out), *db]).exit_code == 0
        run = json.loads((tmp_path / out / "run.json").read_text(encoding="utf-8"))
        return [w for w in run["warnings"] if "repeats the stored conversation" in w]

    assert warnings(first, "o1") == [] and warnings(other, "o0") == []
    (said,) = warnings(again, "o2")
    assert said.startswith(
        "conversation qianniu_2026-11-19 repeats the stored conversation qianniu_2026-11-18"
    )
    # the run's own run.json lists them, as the warning says (audit 122 M1)
    listed = json.loads((tmp_path / "o2" / "run.json").read_text(encoding="utf-8"))["repeated_conversations"]
    assert [(r["conversation"], r["repeats"]) for r in listed] == [
        ("qianniu_2026-11-19", "qianniu_2026-11-18")
    ]
    # the first file inspected again replaces its own copy, and still meets the other one
    (said,) = warnings(first, "o3")
    assert "repeats the stored conversation qianniu_2026-11-19 message for message" in said
    # a third copy: one warning for the run's one conversation, naming both stored ones (122 L1)
    third = tmp_path / "d" / "qianniu_2026-11-21.txt"
    third.parent.mkdir()
    shutil.copy(first, third)
    (said,) = warnings(third, "o4")
    assert (
        "repeats the stored conversations qianniu_2026-11-18, qianniu_2026-11-19 message for message" in said
    )


def test_a_clock_corrected_re_export_with_a_damaged_line_keeps_that_message_on_the_corrected_clock(tmp_path):
    """The stored message a damaged line leaves a gap for was kept at the old clock, an hour before
    the rest: its buyer went unanswered and a 75 s slow reply was made up (audit 122 H2)."""
    import json

    said = [
        ("customer", "tb_q", "这款台灯有白色吗"),
        ("agent", "店:小柯", "有的亲"),
        ("customer", "tb_q", "伤眼睛吗"),
        ("agent", "店:小柯", "无频闪的，放心"),
        ("customer", "tb_q", "质保多久"),
        ("agent", "店:小柯", "两年哦"),
    ]

    def export(name: str, hour: int, damaged: int | None = None) -> Path:
        lines = []
        for k, (role, who, text) in enumerate(said):
            row = {
                "conversation_id": "K3",
                "shop": "店",
                "role": role,
                "sender": who,
                "timestamp": f"2026-12-03T{hour}:0{k // 2}:{20 * (k % 2):02d}+08:00",
                "text": text,
            }
            line = json.dumps(row, ensure_ascii=False)
            lines.append(line[: len(line) // 2] if k == damaged else line)
        path = tmp_path / f"{name}.jsonl"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    db = tmp_path / "qc.sqlite"
    run_inspection([export("first", 10)], tmp_path / "o1", executor(), store=str(db))
    run_inspection([export("again", 11, damaged=3)], tmp_path / "o2", executor(), store=str(db))
    with open_store(db) as store:
        messages = store.conversations(["K3"])["K3"].messages
        assert [m.text for m in messages] == [t for *_, t in said]
        assert {m.sent_at.hour for m in messages} == {11}
        (row,) = export_day(store, "2026-12-03", tmp_path / "x", load_scorecard()).rows
    assert row["avg_response_s"] == 20.0 and row["turns"] == 3
