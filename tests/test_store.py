"""The store on SQLite and on a real PostgreSQL server.

PostgreSQL tests need ``QC_TEST_PG_URL`` (``eval "$(bash scripts/ci-postgres.sh)"`` starts a
local server and exports it; ``make test`` does this). Without it they skip, except under
``CI=true`` where a missing server is a failure.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, insert, select, text

from qc.schema import Conversation, Evidence, Finding, Message, Role
from qc.scoring.card import load_scorecard
from qc.scoring.scores import conversation_record
from qc.store.database import StoreError, open_store
from qc.store.tables import (
    MIGRATIONS,
    MIGRATIONS_TABLE,
    RESULT_TABLES,
    TABLES,
    applied_migrations,
    database_url,
)

CST = timezone(timedelta(hours=8))
PG_URL = os.environ.get("QC_TEST_PG_URL")
IN_CI = os.environ.get("CI", "").lower() == "true"


def chat(cid: str, day: str, shop: str = "柚子家居", agent: str = "店:小美") -> Conversation:
    t0 = datetime.fromisoformat(f"{day}T10:00:00").replace(tzinfo=CST)
    messages = []
    for k in range(3):
        messages.append(Message(2 * k, Role.CUSTOMER, "问", "buyer", t0 + timedelta(minutes=k)))
        messages.append(Message(2 * k + 1, Role.AGENT, "答", agent, t0 + timedelta(minutes=k, seconds=40)))
    return Conversation(cid, tuple(messages), shop=shop, source=f"{day}.jsonl:1")


def finding(cid: str, index: int, kind: str) -> Finding:
    return Finding(cid, index, kind, 0.9, Evidence(f"{kind}.v1", kind, pattern=f"{kind}-x"), agent="店:小美")


def run_kwargs(conversations, findings):
    card = load_scorecard()
    records = [
        conversation_record(c, [f for f in findings if f.conversation_id == c.id], card)
        for c in conversations
    ]
    return dict(
        run={
            "qc_version": "0.1.0",
            "counts": {"read": 10, "accepted": 9, "rejected": 1},
            "files": [{"path": "day.jsonl"}],
            "scorecard": {"name": card.name, "hash": card.hash},
            "lexicon_version": "2026.11.1+abc",
            "model_version": "attitude@0.3.0",
        },
        records=records,
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request, tmp_path):
    if request.param == "sqlite":
        yield str(tmp_path / "qc.sqlite")
        return
    if not PG_URL:
        message = 'QC_TEST_PG_URL is not set: run `eval "$(bash scripts/ci-postgres.sh)"` to test PostgreSQL'
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)

    def wipe():
        engine = create_engine(database_url(PG_URL))
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()

    wipe()  # a clean database for every test, and nothing left behind
    yield PG_URL
    wipe()


def save_run(target, **kwargs) -> int:
    with open_store(target) as store:
        return store.save_run(**kwargs)


def counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            name: conn.execute(select(func.count()).select_from(TABLES[name])).scalar_one()
            for name in RESULT_TABLES
        }


def test_same_day_twice_leaves_one_copy(target):
    convs = [chat("c1", "2026-11-24"), chat("c2", "2026-11-24")]
    findings = [finding("c1", 1, "impatience"), finding("c2", 3, "conflict")]
    first = save_run(target, **run_kwargs(convs, findings))
    engine = open_store(target).engine
    once = counts(engine)
    # 2 conversations of 6 messages, one part each (one agent, one day), the two findings
    assert once == {"conversations": 2, "messages": 12, "findings": 2, "parts": 2}
    second = save_run(target, **run_kwargs(convs, findings))
    assert second > first
    assert counts(engine) == once
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(TABLES["runs"])).scalar_one() == 2
        run_ids = {r for (r,) in conn.execute(select(TABLES["findings"].c.run_id))}
    assert run_ids == {second}
    engine.dispose()


def test_a_run_replaces_the_conversations_it_read_and_keeps_every_other(target):
    day1 = [chat("a", "2026-11-24"), chat("b", "2026-11-24")]
    day2 = [chat("c", "2026-11-25")]
    other_shop = [chat("z", "2026-11-24", shop="另一家店", agent="另一家店:阿杰")]
    save_run(target, **run_kwargs(day1, [finding("a", 1, "impatience"), finding("b", 1, "impatience")]))
    save_run(target, **run_kwargs(day2, [finding("c", 1, "conflict")]))
    save_run(target, **run_kwargs(other_shop, []))
    # Day 1 again, now with one conversation and no finding: it replaces conversation a only;
    # b (not read this time), day 2 and the other shop stay as they were.
    save_run(target, **run_kwargs(day1[:1], []))
    engine = open_store(target).engine
    with engine.connect() as conn:
        c = TABLES["conversations"]
        convs = sorted(conn.execute(select(c.c.shop, c.c.date, c.c.conversation_id)))
        f = TABLES["findings"]
        kinds = sorted(conn.execute(select(f.c.conversation_id, f.c.date, f.c.kind)))
        p = TABLES["parts"]
        parts = sorted(conn.execute(select(p.c.shop, p.c.conversation_id, p.c.date)))
        finding_ids = {r for (r,) in conn.execute(select(f.c.finding_id))}
    assert convs == [
        ("另一家店", "2026-11-24", "z"),
        ("柚子家居", "2026-11-24", "a"),
        ("柚子家居", "2026-11-24", "b"),
        ("柚子家居", "2026-11-25", "c"),
    ]
    assert kinds == [("b", "2026-11-24", "impatience"), ("c", "2026-11-25", "conflict")]
    assert parts == [
        ("另一家店", "z", "2026-11-24"),
        ("柚子家居", "a", "2026-11-24"),
        ("柚子家居", "b", "2026-11-24"),
        ("柚子家居", "c", "2026-11-25"),
    ]
    assert finding("c", 1, "conflict").id in finding_ids  # the stable id survives storage
    engine.dispose()


def test_a_failed_save_leaves_the_store_as_it_was(target, monkeypatch):
    save_run(target, **run_kwargs([chat("a", "2026-11-24")], [finding("a", 1, "impatience")]))
    store = open_store(target)
    before = counts(store.engine)
    kwargs = run_kwargs([chat("a", "2026-11-24"), chat("b", "2026-11-24")], [])
    # The run fails half-way through its writes, after its run row went in and the stored
    # rows of conversation a were deleted: the transaction is rolled back whole.
    from qc.store.database import Store

    real = Store._forget

    def forget_then_fail(self, conn, keys, *tables):
        real(self, conn, keys, *tables)
        raise RuntimeError("disk full")

    monkeypatch.setattr(Store, "_forget", forget_then_fail)
    with pytest.raises(RuntimeError):
        store.save_run(**kwargs)
    assert counts(store.engine) == before
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(TABLES["runs"])).scalar_one() == 1
    store.close()


def test_run_records_versions_hash_and_counts(target):
    kwargs = run_kwargs([chat("c1", "2026-11-24")], [])
    run_id = save_run(target, **kwargs)
    engine = open_store(target).engine
    runs = TABLES["runs"]
    with engine.connect() as conn:
        row = conn.execute(select(runs).where(runs.c.id == run_id)).mappings().one()
    assert row["qc_version"] == "0.1.0"
    assert row["scorecard_hash"] == load_scorecard().hash
    assert (row["lexicon_version"], row["model_version"]) == ("2026.11.1+abc", "attitude@0.3.0")
    assert (row["read_count"], row["accepted_count"], row["rejected_count"]) == (10, 9, 1)
    assert row["conversation_count"] == 1
    assert '"2026-11-24"' in row["days"] and "day.jsonl" in row["inputs"]
    engine.dispose()


def test_migrations_are_recorded_in_order_and_applied_once(target):
    engine = open_store(target).engine
    assert applied_migrations(engine) == [(n, name) for n, name, _ in MIGRATIONS]
    engine.dispose()
    engine = open_store(target).engine  # nothing left to apply
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(MIGRATIONS_TABLE)).scalar_one() == len(
            MIGRATIONS
        )
    engine.dispose()


def test_refuses_a_store_newer_than_the_code(target):
    engine = open_store(target).engine
    with engine.begin() as conn:
        conn.execute(
            insert(MIGRATIONS_TABLE).values(version=999, name="0999_future", applied_at="2030-01-01")
        )
    engine.dispose()
    with pytest.raises(StoreError, match="newer than this qc") as info:
        open_store(target)
    assert info.value.exit_code == 2


def test_refuses_a_store_whose_migration_names_differ(target):
    engine = open_store(target).engine
    with engine.begin() as conn:
        conn.execute(
            MIGRATIONS_TABLE.update().where(MIGRATIONS_TABLE.c.version == 1).values(name="0001_other")
        )
    engine.dispose()
    with pytest.raises(StoreError, match="different program"):
        open_store(target)


def test_refuses_a_store_with_a_migration_number_this_qc_never_had(target):
    engine = open_store(target).engine
    with engine.begin() as conn:
        conn.execute(insert(MIGRATIONS_TABLE).values(version=0, name="0000_other", applied_at="2030-01-01"))
    engine.dispose()
    with pytest.raises(StoreError, match="migration 0 is '0000_other' in the database but unknown") as info:
        open_store(target)
    assert info.value.exit_code == 2


def test_database_url():
    assert database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert database_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"
    assert database_url("sqlite:////x/y.db") == "sqlite:////x/y.db"


def test_path_becomes_a_sqlite_file(tmp_path):
    path = tmp_path / "sub" / "qc.sqlite"
    url = database_url(path)
    assert url == f"sqlite:///{path}" and path.parent.is_dir()


def test_unknown_url_is_a_store_error():
    with pytest.raises(StoreError, match="no SQLAlchemy dialect"):
        open_store("nosuchdb://x/y")


def test_another_programs_database_is_refused_and_left_as_it_was(target):
    """Any command (qc flagged too) migrated it: qc's tables beside a CRM's, and a half-migrated
    database where a name was taken (messages), without saying it was no qc store (audit 69, B4)."""
    engine = create_engine(database_url(target))
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE people (id INTEGER, name TEXT, phone TEXT)"))
        conn.execute(text("CREATE TABLE messages (id INTEGER, body TEXT)"))
    with pytest.raises(
        StoreError, match=r"is not a qc store: it holds another program's tables \(messages, people\)"
    ):
        open_store(target)
    from sqlalchemy import inspect as reflect

    assert sorted(reflect(engine).get_table_names()) == ["messages", "people"]
    engine.dispose()


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("mysql://qa:S3CRET-pw@db.shop/qc", "driver MySQLdb is missing"),
        ("nosuchdb://qa:S3CRET-pw@db.shop/qc", "no SQLAlchemy dialect"),
        ("postgresql+psycopg2://qa:S3CRET-pw@db.shop/qc", "driver psycopg2 is missing"),
        ("postgresql://qa:S3CRET-pw@db.shop:notaport/qc", "not a database URL"),  # was exit 70
        # A password holding "@" as typed: its rest became the host, shown in every message (audit 82 #3).
        ("postgresql://qa:S3CR@ET-pw@db.shop/qc", "the password holds '@'; write it as %40"),
        ("postgresql://qa:S3CR@ET-pw@db.shop:notaport/qc", "the password holds '@'"),
        ("postgresql://qa:S3CR?ET@pw@db.shop/qc", "the password holds '@'"),  # a '?' too (audit 83 #7)
    ],
)
def test_a_url_that_cannot_serve_is_named_without_its_password(url, said):
    """These refusals printed the URL as given, password and all (audit 69, B5, B6)."""
    with pytest.raises(StoreError) as refused:
        open_store(url)
    assert said in str(refused.value) and "qa:***@db.shop" in str(refused.value)
    assert "S3CR" not in str(refused.value) and "ET-pw" not in str(refused.value)
    assert "ET@pw" not in str(refused.value)


def test_a_new_store_has_the_tables_the_queries_use(target):
    # Migrations 1-9 from nothing give exactly the current schema (TABLES, the people table, the
    # workbench's and the search index's tables), plus the archived score tables of schema 3,
    # never written again; on SQLite also the FTS5 table of the search index and its shadows.
    from sqlalchemy import inspect as reflect

    from qc.store.tables import (
        ACCOUNTS_TABLE,
        ARCHIVED_TABLES,
        PARKED_TABLE,
        PEOPLE_TABLES,
        SEARCH_TABLES,
        WORKBENCH_TABLES,
    )

    engine = open_store(target).engine
    found = reflect(engine)
    parked = {PARKED_TABLE.name: PARKED_TABLE, ACCOUNTS_TABLE.name: ACCOUNTS_TABLE}
    for name, table in {**TABLES, **PEOPLE_TABLES, **WORKBENCH_TABLES, **SEARCH_TABLES, **parked}.items():
        assert {c["name"] for c in found.get_columns(name)} == {c.name for c in table.columns}, name
    names = set(found.get_table_names())
    fts = {n for n in names if n.startswith("search_fts")}
    assert ("search_fts" in fts) is (engine.dialect.name == "sqlite")
    expected = {
        *TABLES,
        *PEOPLE_TABLES,
        *WORKBENCH_TABLES,
        *SEARCH_TABLES,
        *ARCHIVED_TABLES,
        *parked,
        "schema_migrations",
    }
    assert names - fts == expected
    unique = [ix for ix in found.get_indexes("conversations") if ix["unique"]]
    assert [ix["column_names"] for ix in unique] == [["shop", "conversation_id"]]
    # Migration 11: every row of a conversation is unique on its natural key.
    for name, key in {
        "messages": ["shop", "conversation_id", "idx"],
        "findings": ["shop", "conversation_id", "finding_id"],
        "parts": ["shop", "conversation_id", "agent", "date"],
    }.items():
        assert [ix["column_names"] for ix in found.get_indexes(name) if ix["unique"]] == [key], name
    engine.dispose()


def _one_shop_day(folder: Path, shop: str, conversation_id: str = "c-0001") -> Path:
    """A day file of one conversation of ``shop`` (the impatient reply is a forbidden phrase)."""
    import json

    folder.mkdir(parents=True, exist_ok=True)
    at = "2026-11-24T10:00:{:02d}+08:00"
    messages = [
        {"role": "customer", "sender": "buyer1", "timestamp": at.format(0), "text": "能今天发货吗"},
        {"role": "agent", "sender": f"{shop}:小王", "timestamp": at.format(20), "text": "爱买不买"},
    ]
    day = folder / "day.jsonl"
    record = {"conversation_id": conversation_id, "shop": shop, "messages": messages}
    day.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    return day


@pytest.mark.parametrize(("first", "second"), [("店A", "店B"), ("YuziShop", "yuzishop")])
def test_two_shops_never_share_a_conversation_id_in_one_store(tmp_path: Path, first: str, second: str):
    """Findings and decisions are known by conversation id: a second shop's copy is refused, not mixed in."""
    import sqlite3

    from typer.testing import CliRunner

    from qc.cli import app

    db = tmp_path / "qc.sqlite"

    def inspect(name: str, shop: str, conversation_id: str = "c-0001"):
        day = _one_shop_day(tmp_path / name, shop, conversation_id)
        args = ["inspect", str(day), "--out", str(tmp_path / f"o{name}"), "--db", str(db), "-q"]
        return CliRunner().invoke(app, args)

    ok = inspect("a", first)
    assert ok.exit_code == 0, ok.output
    with open_store(db) as store:
        before = [(s.finding.agent, s.id) for s in store.findings()]
    refused = inspect("b", second)
    assert refused.exit_code == 2
    assert (
        f"conversation 'c-0001' is in the store for {first!r} and this run has it for {second!r}"
        in refused.output
    )
    assert "Nothing of this run was saved" in refused.output and "Traceback" not in refused.output
    assert not (tmp_path / "ob").exists()
    with open_store(db) as store:
        assert [(s.finding.agent, s.id) for s in store.findings()] == before
    with sqlite3.connect(db) as con:
        assert con.execute("select shop, conversation_id from conversations").fetchall() == [
            (first, "c-0001")
        ]
    # another id of the second shop is welcome beside the first shop's
    other = inspect("c", second, "c-0002")
    assert other.exit_code == 0, other.output

    # An id built from the buyer's phone is named masked (audit 94 #12).
    assert inspect("p1", first, "13512345678").exit_code == 0
    phone = inspect("p2", second, "13512345678")
    assert phone.exit_code == 2 and "conversation '[电话]' is in the store" in phone.output
    assert "13512345678" not in phone.output


def test_a_store_whose_journal_cannot_be_written_says_why(tmp_path):
    """A readable store in a read-only folder or on a full disk gave SQLite's bare "unable to open
    database file" to every command, reading ones too (audit 82 #5). Here the journal's place is
    taken by folders, which stands for any folder SQLite cannot write its -wal and -shm files in."""
    db = tmp_path / "qc.sqlite"
    open_store(db).close()
    for journal in ("qc.sqlite-wal", "qc.sqlite-shm"):
        (tmp_path / journal).unlink(missing_ok=True)
        (tmp_path / journal).mkdir()
    with pytest.raises(StoreError) as refused:
        open_store(db)
    assert "-wal and -shm files" in str(refused.value) and "copy the store to a folder you can write" in str(
        refused.value
    )


def test_a_short_file_given_as_db_is_refused_not_overwritten(tmp_path):
    """A one-line note given as --db became a store, even on a read (audit 91 #13): SQLite takes
    a file shorter than its header as empty."""
    from typer.testing import CliRunner

    from qc.cli import app

    note = tmp_path / "note.txt"
    note.write_bytes(b"\n")
    demo = Path(__file__).resolve().parents[1] / "demo" / "next_day"
    for args in (["flagged"], ["inspect", str(demo), "--out", str(tmp_path / "o"), "-q"]):
        done = CliRunner().invoke(app, [*args, "--db", str(note)])
        assert done.exit_code == 2 and "is no SQLite database" in done.output, done.output
    assert note.read_bytes() == b"\n"


def test_a_value_wider_than_the_store_keeps_is_one_reject_on_both_stores(target, tmp_path):
    """PostgreSQL refused the whole day over one 230-character sender, a shifted row, naming no
    file or line; SQLite saved it (audit 166 F1). Now the record is a reject, the rest is saved."""
    import json

    from typer.testing import CliRunner

    from qc.cli import app

    def line(cid, role, sender, t, text, shop="长店"):
        return {"conversation_id": cid, "shop": shop, "role": role, "sender": sender,
                "timestamp": f"2026-11-30T{t}+08:00", "text": text}  # fmt: skip

    rows = [
        line("L1", "customer", "b1", "10:00:00", "有货吗"),
        line("L1", "agent", "长店:" + "超" * 230, "10:00:05", "有的亲"),
        line("L2", "customer", "b2", "11:00:00", "发货了吗"),
        line("L2", "agent", "小满", "11:00:09", "今天发哦"),
        line("L3", "agent", "小满" + "满" * 10, "12:00:00", "在的", shop="店" * 189),  # 店…:小满…: 202
        line("L" + "4" * 400, "customer", "b4", "13:00:00", "在吗"),
        # a buyer nobody answered is the shop's 店铺名:unassigned: 206 for a shop of 195 (audit 169 F5)
        line("L5", "customer", "b5", "14:00:00", "在吗", shop="店" * 195),
        # only the buyer's line names the shop: the reply's account is made of it (audit 171 M3)
        line("L6", "customer", "b6", "15:00:00", "在吗", shop="店" * 189),
        line("L6", "agent", "满" * 12, "15:00:05", "在的", shop=None),
    ]
    day = tmp_path / "long_2026-11-30.jsonl"
    day.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    r = CliRunner().invoke(app, ["inspect", str(day), "--out", str(tmp_path / "out"), "--db", target, "-q"])
    assert r.exit_code == 0, r.output
    rejects = [json.loads(x) for x in (tmp_path / "out" / "rejects.jsonl").read_text("utf-8").splitlines()]
    made = "the agent account 店铺名:nick made of the conversation's shop and this sender has"
    assert [(x["line"], x["reason"].split(",")[0]) for x in rejects] == [
        (2, "sender has 233 characters"),
        (5, "the agent account 店铺名:nick made of shop and sender has 202 characters"),
        (6, "conversation_id has 401 characters"),
        (7, "shop has 195 characters"),
        (9, f"{made} 202 characters"),
    ]
    assert all("the store keeps" in x["reason"] and "shifted column" in x["reason"] for x in rejects)
    run = json.loads((tmp_path / "out" / "run.json").read_text("utf-8"))
    assert [(f["accepted"], f["rejected"]) for f in run["files"]] == [(4, 5)]
    with open_store(target) as store:
        assert sorted(store.conversations(["L1", "L2", "L3", "L5", "L6"])) == ["L1", "L2", "L6"]


def test_a_shop_leaves_room_for_the_accounts_qc_makes_of_it():
    from qc.schema import NAMELESS_AGENT, SHOP_ACCOUNT_SUFFIX_CHARS
    from qc.scoring.metrics import UNASSIGNED

    assert SHOP_ACCOUNT_SUFFIX_CHARS == len(f":{UNASSIGNED}") >= len(f":{NAMELESS_AGENT}")


def test_a_new_sqlite_store_is_readable_by_its_owner_alone(tmp_path):
    """It holds every transcript and the password hashes; under umask 022 it was 0644 (audit 168 L5)."""
    import stat

    path = tmp_path / "new" / "qc.sqlite"
    with open_store(path):
        pass
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    url = tmp_path / "url.sqlite"  # given as a SQLAlchemy URL too (audit 170 F7)
    with open_store(f"sqlite:///{url}"):
        pass
    assert stat.S_IMODE(url.stat().st_mode) == 0o600
    path.chmod(0o640)  # a mode its owner chose is kept
    with open_store(path):
        pass
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_a_reading_command_given_a_missing_sqlite_url_makes_no_file(tmp_path):
    """`qc flagged --db sqlite:///X` on a missing X left an empty file, world-readable, which a later
    qc inspect filled as it was (audit 171 L3). It is refused as the path form is, and no file is made."""
    import stat

    from typer.testing import CliRunner

    from qc.cli import app

    missing = tmp_path / "typo.sqlite"
    for db in (f"sqlite:///{missing}", str(missing)):
        r = CliRunner().invoke(app, ["flagged", "--db", db])
        assert r.exit_code == 2 and f"no store at {db}" in r.output, r.output
        assert not missing.exists()
    r = CliRunner().invoke(app, ["flagged", "--db", f"sqlite:///{tmp_path}"])  # a folder (audit 174 L5)
    assert r.exit_code == 2 and "is a folder, not a store file" in r.output, r.output
    demo = Path(__file__).resolve().parents[1] / "demo" / "next_day"
    r = CliRunner().invoke(
        app, ["inspect", str(demo), "--out", str(tmp_path / "o"), "-q", "--db", f"sqlite:///{missing}"]
    )
    assert r.exit_code == 0, r.output
    assert stat.S_IMODE(missing.stat().st_mode) == 0o600


def test_a_reading_command_given_a_file_that_is_no_database_says_so_with_the_fix(tmp_path):
    """qc inspect said "not a qc store … give --db a qc store" (exit 2); qc flagged and qc report
    said only "file is not a database", exit 1 (audit 172 F9)."""
    from typer.testing import CliRunner

    from qc.cli import app

    notes = tmp_path / "notes.sqlite"
    notes.write_text("这不是数据库，只是一份很长的笔记。" * 20, encoding="utf-8")
    for args in (
        ["flagged"],
        ["report", "--from", "2026-11-24", "--to", "2026-11-24", "--out", str(tmp_path / "r.html")],
    ):
        r = CliRunner().invoke(app, [*args, "--db", str(notes)])
        assert r.exit_code == 2, r.output
        assert "file is not a database (not a qc store, or a damaged one): give --db a qc store" in r.output


def test_the_file_of_a_sqlite_uri_url_is_its_path(tmp_path):
    """sqlite:///file:/path?mode=ro&uri=true names /path: taken as a relative file named file:/path,
    it was "no store" to every reading command (fresh-clone CI of this session)."""
    from qc.store.database import sqlite_file_of

    path = tmp_path / "qc.sqlite"
    assert sqlite_file_of(f"sqlite:///file:{path}?mode=ro&uri=true") == path
    assert sqlite_file_of(f"sqlite:///{path}") == path
    assert sqlite_file_of(str(path)) == path
    assert sqlite_file_of("sqlite:///file:mem?mode=memory&uri=true") is None
    assert sqlite_file_of("postgresql://u@h/db") is None
