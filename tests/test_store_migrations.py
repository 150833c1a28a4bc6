"""Migrations 4-6 on a store written by the release before them (tests/data/store_v3).

The fixture is a real SQLite store made by qc at commit 82121d6 (schema 1-3) with
``tests/data/store_v3/make_store_v3.sh``: two runs of 2026-11-24, review decisions, an
overturned appeal and an open one. Migrating it must keep every row (the old score tables
archived as they were), every review and appeal attached to its finding, and give a store the
current qc scores and re-inspects like any other. On PostgreSQL the same rows are copied into
a schema-3 database first.
"""

from __future__ import annotations

import gzip
import json
import shutil
import tempfile
from pathlib import Path

from sqlalchemy import MetaData, create_engine, inspect, select
from test_store import target  # noqa: F401 - the sqlite / postgresql fixture

from qc.scoring.card import load_scorecard
from qc.store.database import open_store
from qc.store.tables import MIGRATIONS, MIGRATIONS_TABLE, TABLES, applied_migrations, database_url
from qc.supervise.appeal import list_appeals
from qc.supervise.review import export_day, rejected_ids, stored_finding

FIXTURE = Path(__file__).parent / "data" / "store_v3" / "store_v3.sqlite.gz"
DAY = "2026-11-24"
V3_TABLES = (
    "runs",
    "conversations",
    "findings",
    "deductions",
    "agent_days",
    "messages",
    "review_log",
    "appeals",
)
# Where each schema-3 table's rows live after migration 6.
AFTER = {"deductions": "archived_deductions", "agent_days": "archived_agent_days"}
# What the fixture holds (its script's two runs and decisions); asserted so a truncated
# fixture fails here, not silently later.
V3_COUNTS = {
    "runs": 2,
    "conversations": 50,
    "findings": 31,
    "deductions": 11,
    "agent_days": 8,
    "messages": 911,
    "review_log": 7,
    "appeals": 2,
}


def _new_ids() -> dict[str, str]:
    """Each fixture finding's old id (it hashed the rule and the model version) -> its id since migration 10.

    The new id is :func:`qc.schema.finding_id` of what the finding is about; the classifier's
    stored ``entry`` was its model version, which no longer takes part.
    """
    from qc.schema import finding_id

    with gzip.open(FIXTURE) as src:
        data = src.read()
    path = Path(tempfile.mkdtemp()) / "v3.sqlite"
    path.write_bytes(data)
    engine = create_engine(f"sqlite:///{path}")
    md = MetaData()
    md.reflect(engine, only=["findings"])
    t = md.tables["findings"]
    with engine.connect() as conn:
        rows = conn.execute(select(t)).all()
    engine.dispose()
    return {
        r.finding_id: finding_id(
            r.conversation_id,
            r.message_index,
            r.kind,
            None if r.rule == "attitude_classifier.v1" else r.entry,
            r.start,
            r.end,
        )
        for r in rows
    }


NEW = _new_ids()


def _v3_file(tmp_path: Path) -> Path:
    path = tmp_path / "store_v3.sqlite"
    with gzip.open(FIXTURE) as src, path.open("wb") as dst:
        shutil.copyfileobj(src, dst)
    return path


def _rows(engine, table: str, columns: list[str] | None = None) -> list[tuple]:
    md = MetaData()
    md.reflect(engine, only=[table])
    t = md.tables[table]
    cols = [t.c[c] for c in (columns or [c.name for c in t.columns])]
    with engine.connect() as conn:
        return sorted((tuple(r) for r in conn.execute(select(*cols))), key=repr)


def _columns(engine, table: str) -> list[str]:
    return [c["name"] for c in inspect(engine).get_columns(table)]


def _load_v3(where: str, tmp_path: Path) -> tuple[str, dict[str, list[tuple]], dict[str, list[str]]]:
    """A schema-3 store at ``where`` holding the fixture's rows; the rows and columns per table."""
    source = create_engine(f"sqlite:///{_v3_file(tmp_path)}")
    before = {name: _rows(source, name) for name in V3_TABLES}
    columns = {name: _columns(source, name) for name in V3_TABLES}
    assert {name: len(rows) for name, rows in before.items()} == V3_COUNTS
    if "://" not in where:  # SQLite: the fixture file itself, as the old release wrote it
        source.dispose()
        return str(tmp_path / "store_v3.sqlite"), before, columns
    engine = create_engine(database_url(where))
    with engine.begin() as conn:
        MIGRATIONS_TABLE.create(conn, checkfirst=True)
        for number, name, step in MIGRATIONS[:3]:
            step(conn)
            conn.execute(MIGRATIONS_TABLE.insert().values(version=number, name=name, applied_at="2026-11-24"))
    md = MetaData()
    md.reflect(engine, only=list(V3_TABLES))
    with source.connect() as src, engine.begin() as dst:
        for name in V3_TABLES:
            rows = [dict(r._mapping) for r in src.execute(select(md.tables[name]))]
            if rows:
                dst.execute(md.tables[name].insert(), rows)
    engine.dispose()
    source.dispose()
    return where, before, columns


def test_a_store_written_before_schema_4_keeps_every_row_review_and_appeal(target, tmp_path):  # noqa: F811
    url, before, columns = _load_v3(target, tmp_path)
    store = open_store(url)
    try:
        engine = store.engine
        assert applied_migrations(engine) == [(n, name) for n, name, _ in MIGRATIONS]
        assert [n for n, _, _ in MIGRATIONS][3:] == list(range(4, 21))
        # Every row of every schema-3 table is still there, column for column; migration 10
        # gave each finding, and each decision pointing at one, the finding's new id.
        assert len(NEW) == len(set(NEW.values())) == V3_COUNTS["findings"]
        for name in V3_TABLES:
            cols = columns[name]
            kept = _rows(engine, AFTER.get(name, name), cols)
            if name in ("findings", "review_log", "appeals"):
                at = cols.index("finding_id")
                before[name] = sorted(
                    (tuple(NEW.get(v, v) if i == at else v for i, v in enumerate(r)) for r in before[name]),
                    key=repr,
                )
            if name == "findings":  # plus the new evidence findings, and nothing else
                # The classifier's model version moved from ``entry`` to the evidence's ``version``.
                same = [c for c in cols if c not in ("entry", "evidence")]
                pick = [cols.index(c) for c in same]
                old = sorted((tuple(r[i] for i in pick) for r in before[name]), key=repr)
                now = [tuple(r[i] for i in pick) for r in kept]
                assert [r for r in now if r in old] == old
                new = [r for r in now if r not in old]
                assert {r[same.index("kind")] for r in new} <= {"slow_response", "missed_reply"}
                assert new  # the slow replies of the stored conversations, made by migration 6
                model = [r for r in kept if r[cols.index("rule")] == "attitude_classifier.v1"]
                assert model and all(r[cols.index("entry")] is None for r in model)
                assert all(json.loads(r[cols.index("evidence")])["version"] for r in model)
            else:
                assert kept == before[name], name
        assert not _rows(engine, "superseded_conversations")  # no conversation was stored twice
        # Reviews and appeals stay attached to their findings.
        assert rejected_ids(store) == {NEW["590571fdda9a8c41"], NEW["4b3c11834cac75c4"]}
        assert [(a.id, a.finding_id, a.state) for a in list_appeals(store)] == [
            (1, NEW["4b3c11834cac75c4"], "overturned"),
            (2, NEW["145e62a66f730cb2"], "open"),
        ]
        for fid in ("590571fdda9a8c41", "8a620f0fe08ff930", "4b3c11834cac75c4", "145e62a66f730cb2"):
            assert stored_finding(store, NEW[fid]).id == NEW[fid]
        # Migration 14: each appeal names the account charged, who opened it and its conversation.
        for a in list_appeals(store):
            found = stored_finding(store, a.finding_id)
            assert (a.account, a.opened_by, a.conversation_id) == (
                found.scored_agent,
                a.agent,
                found.finding.conversation_id,
            )
        # The migrated store has the current schema, one row per conversation, parts for each.
        for name, table in TABLES.items():
            assert set(_columns(engine, name)) == {c.name for c in table.columns}, name
        convs = _rows(engine, "conversations", ["shop", "conversation_id"])
        assert len(convs) == len(set(convs)) == 50
        assert {r[1] for r in _rows(engine, "parts", ["shop", "conversation_id"])} == {c[1] for c in convs}
        assert {r[0] for r in _rows(engine, "conversations", ["basis"])} == {load_scorecard().basis}
        # Migrations 8 and 9 (the workbench): no calibration yet; the search index builds from
        # the migrated messages, on SQLite (FTS5) and PostgreSQL (to_tsvector) alike.
        from qc.supervise.search import refresh_index, search_messages

        assert store.calibration_rounds() == []
        assert refresh_index(store) == 50 and refresh_index(store) == 0
        hits = search_messages(store, "亲")
        assert hits and all("亲" in h.text for h in hits)
    finally:
        store.close()


def test_a_migrated_store_scores_exports_and_takes_the_day_again(tmp_path):
    from qc.batch.run import run_inspection
    from qc.rules.forbidden_phrase import ForbiddenPhraseRule
    from qc.rules.lexicon import load_lexicon
    from qc.run.executors import LocalExecutor
    from qc.run.inspector import Inspector
    from qc.supervise.review import decide

    phrase = NEW["5f03b70105a53556"]  # a forbidden phrase of c20261124_000074, stored by the old qc
    path = _v3_file(tmp_path)
    with open_store(path) as store:
        result = export_day(store, DAY, tmp_path / "export", load_scorecard())
        assert len(result.rows) == 6 and NEW["590571fdda9a8c41"] in result.rejected
        charged = {i for d in result.deductions for i in d.finding_ids}
        assert NEW["590571fdda9a8c41"] not in charged and NEW["4b3c11834cac75c4"] not in charged
        assert phrase in charged
        from qc.supervise.people import add_person

        add_person(store, "张主管", "supervisor", by="test")
        decide(store, phrase, "reject", by="张主管", note="quoting the buyer")
    rows = json.loads((tmp_path / "export" / "agents.json").read_text(encoding="utf-8"))
    # The same agents and conversations per agent as the old release scored that day.
    with open_store(path) as store:
        old = _rows(store.engine, "archived_agent_days", ["agent", "date", "conversations"])
    assert sorted((r["agent"], r["conversations"]) for r in rows) == [(a, n) for a, d, n in old if d == DAY]
    # The file the fixture's second run read, read again by the forbidden-phrase rule: the
    # stored copies are replaced, the same phrase finding comes back under the same id and its
    # decision applies to it again.
    executor = LocalExecutor(Inspector([ForbiddenPhraseRule(load_lexicon())]))
    day_file = Path(__file__).parents[1] / "demo" / "day" / "2026-11-24_conversations.jsonl"
    report = run_inspection([day_file], tmp_path / "again", executor, store=str(path))
    assert phrase in {f.id for f in report.findings}
    charged = {i for d in report.deductions for i in d.finding_ids}
    assert phrase not in charged
    with open_store(path) as store:
        assert stored_finding(store, phrase).finding.kind == "forbidden_phrase"
        # The model's findings this run no longer finds: their decisions are parked under ID~RUN
        # (the id and the run that lost them), so no finding given the id later takes them.
        assert rejected_ids(store) == {f"{NEW['590571fdda9a8c41']}~3", f"{NEW['4b3c11834cac75c4']}~3", phrase}
        engine = store.engine
        assert len(_rows(engine, "conversations", ["conversation_id"])) == 50  # upserted, none lost
        assert len(_rows(engine, "runs")) == 3
        assert len(_rows(engine, "review_log")) == 9  # 7 old rows, the person added, the reject


def test_an_older_store_that_is_read_only_says_it_needs_its_upgrade(tmp_path, monkeypatch):
    """Every reading command on an archived older store said it was read-only and "this step
    writes to it (a review, an appeal, a people change)": the write is the schema upgrade
    (audit 114 M3)."""
    import sqlite3

    from sqlalchemy.exc import OperationalError

    from qc.store import database
    from qc.store.engine import StoreError

    def read_only(engine, wait):
        raise OperationalError(
            "UPDATE schema_migrations", {}, sqlite3.OperationalError("attempt to write a readonly database")
        )

    monkeypatch.setattr(database, "migrate", read_only)
    try:
        open_store(tmp_path / "old.sqlite")
    except StoreError as exc:
        said = str(exc)
    else:
        raise AssertionError("a read-only store that needs its upgrade opened")
    assert "needs its tables made or upgraded to this qc's schema (a store written by an older qc" in said
    assert "a review, an appeal" not in said and "old.sqlite" in said
