"""Peak memory of ``qc inspect --db``: the main process and its workers, sampled with psutil.

Usage:
    python bench/generate.py 1000000 /tmp/day1m.jsonl
    python bench/store_memory.py /tmp/day1m.jsonl [--jobs 1 2] [--db /tmp/qc-mem.sqlite]

Each run starts from an empty store. Prints one JSON line per run: seconds, peak RSS of the
main process (MB) and of the largest worker, the exit code. The issue's target is a main
process of at most 1 GB on a 1M-message day.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import psutil


def measure(day: Path, jobs: int, db: str, out: Path) -> dict:
    """Run ``qc inspect DAY --db DB --jobs N`` once and sample its processes' memory every 100 ms."""
    if "://" not in db:
        for suffix in ("", "-wal", "-shm"):
            Path(db + suffix).unlink(missing_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "qc",
        "inspect",
        str(day),
        "--out",
        str(out),
        "--db",
        db,
        "--jobs",
        str(jobs),
    ]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd + ["--quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    root = psutil.Process(proc.pid)
    main_peak = worker_peak = 0
    while proc.poll() is None:
        try:
            main_peak = max(main_peak, root.memory_info().rss)
            for child in root.children(recursive=True):
                try:
                    worker_peak = max(worker_peak, child.memory_info().rss)
                except psutil.NoSuchProcess:
                    pass
        except psutil.NoSuchProcess:
            break
        time.sleep(0.1)
    _, stderr = proc.communicate()
    return {
        "day": day.name,
        "jobs": jobs,
        "exit_code": proc.returncode,
        "seconds": round(time.perf_counter() - started, 1),
        "main_peak_mb": round(main_peak / 2**20),
        "worker_peak_mb": round(worker_peak / 2**20),
        "stderr_tail": stderr.decode("utf-8", "replace").strip().splitlines()[-1:] if proc.returncode else [],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("day", type=Path)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1])
    parser.add_argument("--db", default="/tmp/qc-store-memory.sqlite")
    parser.add_argument("--out", type=Path, default=Path("/tmp/qc-store-memory-out"))
    args = parser.parse_args(argv)
    for jobs in args.jobs:
        print(json.dumps(measure(args.day, jobs, args.db, args.out)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
