"""SIGKILL ``qc inspect --db`` at random points and in each phase, then check the store.

A SQLite store holds day A (saved once, with review decisions on some of its findings); each
trial copies it, starts ``qc inspect DAY_B --db COPY --jobs J`` and kills it:

* ``random``: after a uniform delay within a full run's time (measured once, unkilled; a run
  that ends first is counted as not killed);
* ``inspect``: at a third of the time a full run takes before its save starts;
* ``save``: as soon as the save's writes reach the store (its WAL file grows);
* ``score``: as soon as the save has committed (a new ``runs`` row), while the day is scored.

After each kill the store must pass SQLite's integrity check and hold, row for row (run ids
and save times aside), either exactly day A or exactly day A and day B as the same runs
without kills store them: 0 lost or duplicated rows; every decision still in the audit log
and still on a stored finding: 0 lost decisions.

Usage:
    python bench/store_kills.py --kills 50 [--jobs 1 2] [--messages 1500]

Prints one JSON line per kill and a summary (per phase and --jobs); exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from store_concurrency import KEYS, duplicates, make_days, table_rows  # noqa: E402

PHASES = ("random", "inspect", "save", "score")


def _qc(day: Path, db: Path, out: Path, jobs: int) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "qc", "inspect", str(day), "--out", str(out), "--db", str(db)]
    return subprocess.Popen(
        cmd + ["--jobs", str(jobs), "--quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def _runs(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.05) as conn:
            return int(conn.execute("SELECT count(*) FROM runs").fetchone()[0])
    except sqlite3.Error:
        return -1


def _wal(db: Path) -> int:
    path = Path(f"{db}-wal")
    return path.stat().st_size if path.exists() else 0


def baseline(work: Path, days: list[Path]) -> tuple[Path, dict, int]:
    """The store of day A with decisions; the rows of A alone and of A then B; decision count."""
    from qc.store.database import open_store
    from qc.supervise.people import add_person
    from qc.supervise.review import decide

    base = work / "base.sqlite"
    if base.exists():
        base.unlink()
    done = _qc(days[0], base, work / "out-a", 1).wait()
    assert done == 0, "day A did not inspect"
    with open_store(base) as store:
        add_person(store, "张主管", "supervisor", by="bench")
        found = [f for f in store.findings() if f.finding.kind != "slow_response"][:20]
        for n, f in enumerate(found):
            decide(store, f.id, "reject" if n % 2 else "confirm", by="张主管", note="kill bench")
        decisions = len(store.audit_trail())
    before = table_rows(str(base))
    both = work / "both.sqlite"
    shutil.copy(base, both)
    started = time.perf_counter()
    assert _qc(days[1], both, work / "out-b", 1).wait() == 0, "day B did not inspect"
    full = time.perf_counter() - started
    after = table_rows(str(both))
    assert after != before
    return base, {"before": before, "after": after, "full_seconds": full}, decisions


def check(db: Path, expected: dict, decisions: int) -> dict[str, Any]:
    """What a killed run left: which state the store is in, and what is wrong with it."""
    from qc.store.database import open_store

    with sqlite3.connect(db) as conn:
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
    rows = table_rows(str(db))
    state = "before" if rows == expected["before"] else "after" if rows == expected["after"] else "neither"
    with open_store(db) as store:
        log = len(store.audit_trail())
        orphaned = len(store.orphaned_decisions())
    return {
        "integrity": integrity,
        "state": state,
        "duplicates": duplicates(str(db)),
        "lost_decisions": decisions - log + orphaned,
        "rows": {k: len(rows[k]) for k in KEYS},
    }


def trial(
    phase: str,
    jobs: int,
    base: Path,
    expected: dict,
    decisions: int,
    work: Path,
    days: list[Path],
    n: int,
    seed: int = 0,
) -> dict:
    """Copy the base store, run day B on it and kill the run in ``phase``; check the store."""
    db = work / f"k{n}.sqlite"
    shutil.copy(base, db)
    runs0, wal0 = _runs(db), _wal(db)
    full = expected["full_seconds"]
    proc = _qc(days[1], db, work / f"out-k{n}", jobs)
    started = time.perf_counter()
    delay = random.Random(seed * 100_003 + n).uniform(0.05, 1.0) * full
    killed_at = None
    while proc.poll() is None:
        elapsed = time.perf_counter() - started
        if phase == "random":
            go = elapsed >= delay
        elif phase == "inspect":
            go = elapsed >= full / 3
        elif phase == "save":
            go = _wal(db) > wal0 + 65536
        else:
            go = _runs(db) > runs0
        if go:
            proc.send_signal(signal.SIGKILL)
            killed_at = round(elapsed, 2)
            break
        time.sleep(0.005)
    proc.wait()
    result = {"kill": n, "phase": phase, "jobs": jobs, "killed_at": killed_at, "exit": proc.returncode}
    result.update(check(db, expected, decisions))
    result["ok"] = (
        result["integrity"] == "ok"
        and result["state"] != "neither"
        and result["duplicates"] == 0
        and result["lost_decisions"] == 0
    )
    for path in work.glob(f"k{n}.sqlite*"):
        path.unlink()
    shutil.rmtree(work / f"out-k{n}", ignore_errors=True)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=50, help="random kills (plus one per phase and --jobs)")
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--messages", type=int, default=1500)
    parser.add_argument("--work", type=Path, default=Path("/tmp/qc-store-kills"))
    parser.add_argument("--seed", type=int, default=0, help="another seed gives other random kill times")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    days = make_days(args.work / "days", args.messages)
    base, expected, decisions = baseline(args.work, days)
    plan = [(phase, jobs) for jobs in args.jobs for phase in PHASES[1:]]
    plan += [("random", args.jobs[n % len(args.jobs)]) for n in range(args.kills)]
    results = []
    for n, (phase, jobs) in enumerate(plan):
        result = trial(phase, jobs, base, expected, decisions, args.work, days, n, args.seed)
        print(json.dumps(result, ensure_ascii=False), flush=True)
        results.append(result)
    summary: dict[str, Any] = {
        "kills": len(results),
        "killed": sum(r["killed_at"] is not None for r in results),
        "ok": sum(r["ok"] for r in results),
        "states": {s: sum(r["state"] == s for r in results) for s in ("before", "after", "neither")},
        "duplicates": sum(r["duplicates"] for r in results),
        "lost_decisions": sum(r["lost_decisions"] for r in results),
        "full_run_seconds": round(expected["full_seconds"], 1),
    }
    print(json.dumps({"summary": summary}), flush=True)
    return 0 if summary["ok"] == len(results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
