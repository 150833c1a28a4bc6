"""Several qc processes on one store: concurrent saves, first runs on a new store, a busy store.

The full 20 rounds of 2-8 writers are ``bench/store_concurrency.py``; here a few rounds of
the same harness run on SQLite and PostgreSQL (the ``target`` fixture of test_store).
"""

from __future__ import annotations

import importlib.util
import multiprocessing as mp
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from cards import CHARGING
from sqlalchemy import func, select
from test_store import chat, finding, run_kwargs, target  # noqa: F401 - the sqlite / postgresql fixture

from qc.errors import EXIT_BUSY
from qc.store.database import StoreBusyError, StoreFailedError, open_store
from qc.store.engine import write_transaction
from qc.store.tables import MIGRATIONS, MIGRATIONS_TABLE, applied_migrations

ROOT = Path(__file__).resolve().parents[1]


def _harness():
    spec = importlib.util.spec_from_file_location(
        "store_concurrency", ROOT / "bench" / "store_concurrency.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.parametrize("writers", [2, 4])
def test_concurrent_runs_of_the_same_and_adjacent_days_equal_the_runs_in_sequence(target, tmp_path, writers):  # noqa: F811
    bench = _harness()
    days = bench.make_days(tmp_path / "days", 400)
    pg = target if "://" in target else None
    result = bench.one_round(days, pg, writers, tmp_path / "round", 0)
    assert result["exit_codes"] == [0] * writers, result
    assert result["duplicates"] == 0 and result["lost_rows"] == 0
    assert result["differing_tables"] == [], result
    assert result["rows"]["conversations"] > 0 and result["rows"]["findings"] > 0


def _open(url: str) -> None:
    open_store(url).close()


def test_four_first_runs_on_a_new_store_create_it_once(target):  # noqa: F811
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=_open, args=(target,)) for _ in range(6)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    assert [p.exitcode for p in procs] == [0] * 6
    with open_store(target) as store:
        assert applied_migrations(store.engine) == [(n, name) for n, name, _ in MIGRATIONS]
        with store.engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(MIGRATIONS_TABLE)).scalar_one() == len(
                MIGRATIONS
            )


def _qc(*args: str, wait: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QC_DB_WAIT": wait}
    return subprocess.run([sys.executable, "-m", "qc", *args], capture_output=True, text=True, env=env)


def test_review_and_appeal_during_a_long_save_exit_busy_and_show_still_reads(target):  # noqa: F811
    from qc.supervise.people import add_person

    with open_store(target) as store:
        store.save_run(**run_kwargs([chat("c1", "2026-11-24")], [finding("c1", 1, "impatience")]))
        add_person(store, "张主管", "supervisor", by="test")
        add_person(store, "李复核", "reviewer", by="test")
        fid = store.findings()[0].id
        log_rows = len(store.audit_trail())
    held, release = threading.Event(), threading.Event()

    def long_save() -> None:  # a save's write lock, held as a big day's save holds it
        with open_store(target, save=True) as saver, write_transaction(saver.engine, 60, exclusive=True):
            held.set()
            release.wait(60)

    thread = threading.Thread(target=long_save)
    thread.start()
    try:
        assert held.wait(30)
        db = ["--db", target]
        review = _qc(
            "review", "decide", fid, "--reject", "--by", "李复核", "--note", "买家原话", *db, wait="1"
        )
        card = ["--scorecard", str(CHARGING)]  # the classifier's finding charged, so appealable
        appeal = _qc("appeal", "open", fid, "--by", "张主管", "--reason", "引用买家", *db, *card, wait="1")
        for done in (review, appeal):
            assert done.returncode == EXIT_BUSY, done.stderr
            assert "is busy" in done.stderr and "QC_DB_WAIT" in done.stderr
            assert (
                "Traceback" not in done.stderr
                and "INSERT" not in done.stderr
                and "买家原话" not in done.stderr
            )
        shown = _qc("show", "c1", *db, wait="1")  # reading never waits for the save
        assert shown.returncode == 0, shown.stderr
    finally:
        release.set()
        thread.join()
    with open_store(target) as store:
        assert len(store.audit_trail()) == log_rows  # nothing of the refused steps was written
        assert store.appeal_rows() == []
    done = _qc(
        "review", "decide", fid, "--reject", "--by", "李复核", "--note", "买家原话", "--db", target, wait="5"
    )
    assert done.returncode == 0, done.stderr


def test_a_refused_write_is_one_line_without_sql_or_values(target):  # noqa: F811
    with open_store(target) as store:
        store.save_run(**run_kwargs([chat("c1", "2026-11-24")], []))
        with pytest.raises(StoreFailedError) as info, store.transaction() as conn:
            store.insert_person(conn, name=None, role="reviewer", added_at="13800138000 杭州")
    text = str(info.value)
    assert "\n" not in text and "13800138000" not in text and "INSERT" not in text.upper()
    assert info.value.exit_code == 1


def test_busy_waits_come_from_the_config_and_the_environment(monkeypatch):
    from qc.store.engine import store_waits

    defaults = store_waits()
    assert defaults.save >= 600 and defaults.command > 0
    monkeypatch.setenv("QC_DB_WAIT", "2.5")
    assert store_waits().command == 2.5
    monkeypatch.setenv("QC_DB_SAVE_WAIT", "soon")
    from qc.errors import ConfigError

    with pytest.raises(ConfigError, match="QC_DB_SAVE_WAIT"):
        store_waits()


def test_a_save_that_cannot_get_the_lock_in_time_is_busy_and_changes_nothing(target):  # noqa: F811
    with open_store(target) as store:
        store.save_run(**run_kwargs([chat("c1", "2026-11-24")], []))
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with open_store(target) as other, write_transaction(other.engine, 60, exclusive=True):
            held.set()
            release.wait(60)

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert held.wait(30)
        with open_store(target) as store:
            store.wait = 1.0
            if store.engine.dialect.name == "sqlite":  # SQLite waits its busy timeout instead
                store.engine.dispose()
                from qc.store.engine import make_engine

                store.engine = make_engine(str(store.engine.url), 1.0)
            with pytest.raises(StoreBusyError, match="is busy"):
                store.save_run(**run_kwargs([chat("c2", "2026-11-25")], []))
    finally:
        release.set()
        thread.join()
    with open_store(target) as store:
        assert [f for f in store.conversation_agents() if f[0] == "c2"] == []
