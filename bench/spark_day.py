"""Peak memory of every process of ``qc inspect --engine spark`` next to the local engine, on one day.

Runs, one after the other, on the same input:

    qc inspect DAY --out OUT/local --jobs J -q
    qc inspect DAY --out OUT/spark --engine spark -q [--master M]

and reports for each the wall time and the peak resident memory of each process of its tree,
sampled every 50 ms with psutil (the bench extra): the main process (for Spark: the driver's
Python process), the JVM (Spark's driver, which with a local master also runs the
executors), Spark's Python workers, and the local engine's pool workers. Then it compares the
outputs: every file byte for byte, agents.xlsx cell by cell, run.json apart from its timing
and the engine's keys. Writes OUT/results.json.

Usage:
    python bench/generate.py 1000000 /tmp/day-1m.jsonl
    python bench/spark_day.py /tmp/day-1m.jsonl --out /tmp/spark-bench-1m
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil

OUTPUTS = (
    "findings.jsonl",
    "conversations.jsonl",
    "rejects.jsonl",
    "deductions.jsonl",
    "agents.csv",
    "agents.json",
)


def _role(proc: psutil.Process, root: int) -> str:
    if proc.pid == root:
        return "main"
    argv = proc.cmdline()
    if argv and Path(argv[0]).name == "java":
        return "jvm"
    cmd = " ".join(argv)
    if "pyspark" in cmd:
        return "spark python worker"
    if "resource_tracker" in cmd or (proc.ppid() == root and "forkserver" in cmd):
        return "multiprocessing helper"
    return "pool worker"


def run(cmd: list[str]) -> dict[str, Any]:
    """Run ``cmd``; its wall time and the peak RSS (MB) of each process of its tree, by role."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    root = psutil.Process(proc.pid)
    peaks: dict[int, tuple[str, float]] = {}
    while proc.poll() is None:
        try:
            tree = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            tree = []
        for p in tree:
            try:
                rss = p.memory_info().rss / 2**20
                role = peaks[p.pid][0] if p.pid in peaks else _role(p, proc.pid)
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
            peaks[p.pid] = (role, max(rss, peaks.get(p.pid, (role, 0.0))[1]))
        time.sleep(0.05)
    wall = time.perf_counter() - started
    err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err[-3000:]}")
    by_role: dict[str, list[float]] = {}
    for role, peak in peaks.values():
        by_role.setdefault(role, []).append(round(peak, 1))
    return {
        "command": cmd,
        "wall_s": round(wall, 1),
        "peak_rss_mb": {k: sorted(v) for k, v in by_role.items()},
    }


def same_outputs(local: Path, spark: Path) -> dict[str, bool]:
    """Which outputs are equal: bytes, agents.xlsx cells, run.json without timing and engine keys."""
    from openpyxl import load_workbook

    equal = {name: (local / name).read_bytes() == (spark / name).read_bytes() for name in OUTPUTS}

    def cells(path: Path) -> list[tuple[Any, ...]]:
        return [row for sheet in load_workbook(path).worksheets for row in sheet.iter_rows(values_only=True)]

    equal["agents.xlsx (cells)"] = cells(local / "agents.xlsx") == cells(spark / "agents.xlsx")
    runs = [json.loads((d / "run.json").read_text(encoding="utf-8")) for d in (local, spark)]
    for r in runs:
        for key in [k for k in r if k in ("seconds", "engine") or k.startswith("spark")]:
            r.pop(key)
    equal["run.json (but timing and engine keys)"] = runs[0] == runs[1]
    return equal


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("day", type=Path, help="a generated day (bench/generate.py)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--master", default=None)
    args = parser.parse_args(argv)
    qc = [str(Path(sys.executable).parent / "qc")]
    local = run(
        [*qc, "inspect", str(args.day), "--out", str(args.out / "local"), "-q", "--jobs", str(args.jobs)]
    )
    spark_cmd = [*qc, "inspect", str(args.day), "--out", str(args.out / "spark"), "-q", "--engine", "spark"]
    spark = run(spark_cmd + (["--master", args.master] if args.master else []))
    results = {
        "input_mb": round(args.day.stat().st_size / 2**20, 1),
        "messages": sum(1 for _ in args.day.open("rb")),
        "load_average": list(psutil.getloadavg()),
        "local": local,
        "spark": spark,
        "equal": same_outputs(args.out / "local", args.out / "spark"),
    }
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(results, indent=2))
    return 0 if all(results["equal"].values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
