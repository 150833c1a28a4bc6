"""A PostgreSQL store a run cannot write is refused before the day is read (audit 114 M4).

A replica (``default_transaction_read_only``) or a role allowed to read only was found at the
save, after the whole day had been inspected: exit 2 with a decision's wording, or exit 1.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import create_engine, text
from test_store import IN_CI, PG_URL
from typer.testing import CliRunner

from qc.cli import app
from qc.store.tables import database_url


@pytest.fixture()
def pg_admin():
    if not PG_URL:
        message = 'QC_TEST_PG_URL is not set: run `eval "$(bash scripts/ci-postgres.sh)"` to test PostgreSQL'
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    engine = create_engine(database_url(PG_URL), isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


def _day(tmp_path):
    lines = [
        {
            "conversation_id": "c1",
            "role": "customer",
            "sender": "b1",
            "timestamp": "2026-11-24 10:00:00",
            "text": "在吗",
        },
        {
            "conversation_id": "c1",
            "role": "agent",
            "sender": "店:小王",
            "timestamp": "2026-11-24 10:00:20",
            "text": "在的亲",
        },
    ]
    path = tmp_path / "2026-11-24.jsonl"
    path.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8")
    return path


def test_a_read_only_database_or_a_reading_role_is_refused_before_the_day_is_read(pg_admin, tmp_path):
    base, own = PG_URL.rsplit("/", 1)
    # Named after the test database: CI runs beside each other share one server.
    # Lower case: PostgreSQL folds an unquoted name, and the URL must name what it made.
    name, role = f"{own.split('?')[0]}_writable".lower(), f"{own.split('?')[0]}_reader".lower()
    with pg_admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {name}"))
        conn.execute(text(f"DROP ROLE IF EXISTS {role}"))
        conn.execute(text(f"CREATE ROLE {role} LOGIN"))
    url = f"{base}/{name}"
    runner, day = CliRunner(), _day(tmp_path)
    done = runner.invoke(app, ["inspect", str(day), "--out", str(tmp_path / "a"), "--db", url, "-q"])
    assert done.exit_code == 0, done.output
    reader = create_engine(database_url(url), isolation_level="AUTOCOMMIT")
    with reader.connect() as conn:
        conn.execute(text(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}"))
    reader.dispose()
    as_reader = url.replace("//postgres@", f"//{role}@")
    refused = runner.invoke(app, ["inspect", str(day), "--out", str(tmp_path / "b"), "--db", as_reader, "-q"])
    assert refused.exit_code == 2, refused.output
    assert "this database role lacks INSERT on " in refused.stderr
    assert not (tmp_path / "b" / "run.json").exists()  # refused before the day was read
    # INSERT, UPDATE and DELETE but no USAGE on the sequences: refused too, not at the save (audit 115 M3)
    grant = create_engine(database_url(url), isolation_level="AUTOCOMMIT")
    with grant.connect() as conn:
        conn.execute(text(f"GRANT INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}"))
    grant.dispose()
    refused = runner.invoke(
        app, ["inspect", str(day), "--out", str(tmp_path / "b2"), "--db", as_reader, "-q"]
    )
    assert refused.exit_code == 2 and "USAGE on runs_id_seq" in refused.stderr, refused.output
    # every right qc needs, in a schema another program shares: its sequence is none of qc's (117 H3)
    grant = create_engine(database_url(url), isolation_level="AUTOCOMMIT")
    with grant.connect() as conn:
        conn.execute(text("CREATE TABLE crm_orders (id serial PRIMARY KEY)"))
        # named like one of qc's tables' own: still another program's (audit 118 M3)
        conn.execute(text("CREATE TABLE runs_history (id serial PRIMARY KEY)"))
        conn.execute(text(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role}"))
        conn.execute(text(f"REVOKE USAGE ON SEQUENCE crm_orders_id_seq FROM {role}"))
        conn.execute(text(f"REVOKE USAGE ON SEQUENCE runs_history_id_seq FROM {role}"))
    grant.dispose()
    done = runner.invoke(app, ["inspect", str(day), "--out", str(tmp_path / "b3"), "--db", as_reader, "-q"])
    assert done.exit_code == 0, done.output
    with pg_admin.connect() as conn:
        conn.execute(text(f"ALTER DATABASE {name} SET default_transaction_read_only = on"))
    refused = runner.invoke(app, ["inspect", str(day), "--out", str(tmp_path / "c"), "--db", url, "-q"])
    assert refused.exit_code == 2 and "is read-only (a replica or a read-only database)" in refused.stderr
    assert not (tmp_path / "c" / "run.json").exists()
    # reading commands still read it
    shown = runner.invoke(app, ["export", "--date", "2026-11-24", "--out", str(tmp_path / "e"), "--db", url])
    assert shown.exit_code == 0, shown.output
    with pg_admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
        conn.execute(text(f"DROP ROLE {role}"))


def test_a_reading_command_on_an_empty_database_makes_no_store_there(pg_admin, tmp_path):
    """qc export on an empty PostgreSQL database said "nothing stored" and left 20 qc tables in it
    (audit 114 L1); a mistyped SQLite path is refused with nothing made."""
    from sqlalchemy import inspect

    base, own = PG_URL.rsplit("/", 1)
    name = f"{own.split('?')[0]}_empty".lower()
    with pg_admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    url = f"{base}/{name}"
    res = CliRunner().invoke(
        app, ["export", "--period", "2026-11", "--out", str(tmp_path / "e"), "--db", url]
    )
    assert res.exit_code == 2 and "the database holds no qc tables" in res.stderr
    engine = create_engine(database_url(url))
    assert inspect(engine).get_table_names() == []
    engine.dispose()
    with pg_admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))


def test_a_reading_command_on_a_sqlite_file_without_tables_makes_no_store(tmp_path):
    """A SQLite file holding no tables was made a store by a reading command (audit 115 L5)."""
    import sqlite3

    path = tmp_path / "empty.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE scratch (a)")
        db.execute("DROP TABLE scratch")
    res = CliRunner().invoke(app, ["flagged", "--db", str(path)])
    assert res.exit_code == 2 and f"no store at {path}: the database holds no qc tables" in res.stderr
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT name FROM sqlite_master").fetchall() == []


def test_a_reading_command_on_another_programs_database_names_it_not_qc_inspect(tmp_path):
    """It advised `qc inspect --db` on the file first, which qc inspect then refused (audit 162 L5)."""
    import sqlite3

    path = tmp_path / "crm.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE customers (a)")
    res = CliRunner().invoke(app, ["flagged", "--db", str(path)])
    assert res.exit_code == 2
    assert f"no store at {path}: it holds another program's tables (customers) and no qc schema" in res.stderr
    assert "qc inspect" not in res.stderr
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT name FROM sqlite_master").fetchall() == [("customers",)]
