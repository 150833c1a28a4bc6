"""Concurrent ``qc inspect --db`` runs of the same and adjacent days against the sequential result.

Each round starts from an empty store (so the writers also race to create it) and starts
``W`` writers at once (a barrier), writer ``i`` inspecting day ``i % 2`` of two adjacent
generated days: with 2 writers the days are adjacent, from 3 on some run the same day at
once. The same runs are then made one after another on another empty store, and the two
stores' result tables are compared row for row (run ids and save times aside): equal, no
row twice on its natural key, every writer exited 0.

Each writer is a process running :func:`qc.batch.run.run_inspection` as ``qc inspect --db``
does (no results kept, records spooled, one save), with the forbidden-phrase rule (the
classifier's cost would only slow the rounds). ``--cli`` runs ``qc inspect`` itself instead.

Usage:
    python bench/store_concurrency.py --rounds 20 --writers 2,4,8 [--messages 3000]
    python bench/store_concurrency.py --rounds 20 --writers 2,4,8 --pg "$QC_TEST_PG_URL"

Prints one JSON line per round and a summary; exits 1 when any round differs.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select, text

ROOT = Path(__file__).resolve().parents[1]
DAYS = ("2026-11-24", "2026-11-25")
# Columns that differ between two saves of the same rows: which run saved them, and when.
VOLATILE = {"run_id", "first_run_id", "saved_at"}
KEYS = {
    "conversations": ("shop", "conversation_id"),
    "messages": ("shop", "conversation_id", "idx"),
    "findings": ("shop", "conversation_id", "finding_id"),
    "parts": ("shop", "conversation_id", "agent", "date"),
}


def make_days(folder: Path, messages: int) -> list[Path]:
    """Two adjacent generated days (different seeds, so different conversations)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n, day in enumerate(DAYS):
        path = folder / f"{day}.jsonl"
        if not path.exists():
            subprocess.run(
                [sys.executable, str(ROOT / "bench" / "generate.py"), str(messages), str(path)]
                + ["--day", day, "--seed", str(11 + n)],
                check=True,
                capture_output=True,
            )
        paths.append(path)
    return paths


def _writer(day: Path, out: Path, url: str, barrier: Any, cli: bool) -> None:
    barrier.wait()
    if cli:
        done = subprocess.run(
            [sys.executable, "-m", "qc", "inspect", str(day), "--out", str(out), "--db", url, "--quiet"],
            capture_output=True,
            text=True,
        )
        (out.parent / f"{out.name}.stderr").write_text(done.stderr, encoding="utf-8")
        sys.exit(done.returncode)
    from qc.batch.run import run_inspection
    from qc.errors import QcError
    from qc.rules.forbidden_phrase import ForbiddenPhraseRule
    from qc.rules.lexicon import load_lexicon
    from qc.run.executors import LocalExecutor
    from qc.run.inspector import Inspector

    executor = LocalExecutor(Inspector([ForbiddenPhraseRule(load_lexicon())]))
    try:
        run_inspection([day], out, executor, store=url, keep_results=False)
    except QcError as exc:
        (out.parent / f"{out.name}.stderr").write_text(str(exc), encoding="utf-8")
        sys.exit(exc.exit_code)


def run_writers(days: list[Path], url: str, writers: int, work: Path, *, cli: bool = False) -> list[int]:
    """Start ``writers`` processes at once on ``url``; their exit codes."""
    ctx = mp.get_context("fork")
    barrier = ctx.Barrier(writers)
    procs = [
        ctx.Process(target=_writer, args=(days[i % len(days)], work / f"w{i}", url, barrier, cli))
        for i in range(writers)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    return [int(p.exitcode or 0) for p in procs]


def run_sequential(days: list[Path], url: str, writers: int, work: Path, *, cli: bool = False) -> list[int]:
    """The same runs as :func:`run_writers`, one after another."""
    codes = []
    for i in range(writers):
        codes += run_writers([days[i % len(days)]], url, 1, work / f"s{i}", cli=cli)
    return codes


def table_rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """The result tables' rows, volatile columns left out, sorted."""
    from qc.store.tables import TABLES, database_url

    engine = create_engine(database_url(url))
    out = {}
    with engine.connect() as conn:
        for name in KEYS:
            t = TABLES[name]
            cols = [c for c in t.columns if c.name not in VOLATILE]
            out[name] = sorted((tuple(r) for r in conn.execute(select(*cols))), key=repr)
        out["runs"] = [
            (n,) for n in [conn.execute(select(func.count()).select_from(TABLES["runs"])).scalar()]
        ]
    engine.dispose()
    return out


def duplicates(url: str) -> int:
    """Rows that share their natural key with another row, over the result tables."""
    from qc.store.tables import TABLES, database_url

    engine = create_engine(database_url(url))
    total = 0
    with engine.connect() as conn:
        for name, key in KEYS.items():
            t = TABLES[name]
            cols = [t.c[k] for k in key]
            q = select(func.count()).select_from(t).group_by(*cols).having(func.count() > 1)
            total += sum(n - 1 for (n,) in conn.execute(q))
    engine.dispose()
    return total


def fresh(url: str, work: Path, tag: str) -> str:
    """An empty store: a new SQLite file, or the PostgreSQL database's schema emptied."""
    if "://" not in url:
        return str(work / f"{tag}.sqlite")
    from qc.store.tables import database_url

    engine = create_engine(database_url(url))
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


def one_round(
    days: list[Path], pg: str | None, writers: int, work: Path, n: int, *, cli: bool = False
) -> dict:
    """One round: concurrent writers, then the same runs in sequence; the comparison."""
    work.mkdir(parents=True, exist_ok=True)
    base = pg or str(work)
    started = time.perf_counter()
    url = fresh(base, work, f"concurrent{n}")
    codes = run_writers(days, url, writers, work / f"c{n}", cli=cli)
    seconds = time.perf_counter() - started
    concurrent, dup = table_rows(url), duplicates(url)
    url = fresh(base, work, f"sequential{n}")
    seq_codes = run_sequential(days, url, writers, work / f"q{n}", cli=cli)
    sequential = table_rows(url)
    differing = [name for name in concurrent if concurrent[name] != sequential[name]]
    lost = sum(max(0, len(sequential[k]) - len(concurrent[k])) for k in KEYS)
    return {
        "round": n,
        "writers": writers,
        "database": "postgresql" if pg else "sqlite",
        "exit_codes": codes,
        "sequential_exit_codes": seq_codes,
        "duplicates": dup,
        "lost_rows": lost,
        "differing_tables": differing,
        "rows": {k: len(v) for k, v in concurrent.items() if k in KEYS},
        "equal": not differing and all(c == 0 for c in codes + seq_codes),
        "seconds": round(seconds, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument(
        "--writers", default="2,4,8", help="comma-separated writer counts, each run every round"
    )
    parser.add_argument("--messages", type=int, default=3000, help="messages per generated day")
    parser.add_argument("--pg", default=None, help="a PostgreSQL URL (its public schema is emptied!)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/qc-store-concurrency"))
    parser.add_argument("--cli", action="store_true", help="run `qc inspect` processes")
    args = parser.parse_args(argv)
    days = make_days(args.work / "days", args.messages)
    results = []
    for n in range(args.rounds):
        for w in (int(x) for x in args.writers.split(",")):
            result = one_round(days, args.pg, w, args.work / f"r{n}-w{w}", n, cli=args.cli)
            print(json.dumps(result), flush=True)
            results.append(result)
    summary = {
        "rounds": len(results),
        "equal": sum(r["equal"] for r in results),
        "duplicates": sum(r["duplicates"] for r in results),
        "lost_rows": sum(r["lost_rows"] for r in results),
        "nonzero_exits": sum(c != 0 for r in results for c in r["exit_codes"]),
    }
    print(json.dumps({"summary": summary}), flush=True)
    return 0 if summary["equal"] == len(results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
