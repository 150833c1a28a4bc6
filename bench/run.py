"""End-to-end benchmark of ``qc inspect`` against the naive script, on two kinds of day.

Two days of each size: a **generated** day (``qc.synth``, whose texts repeat far more than a
shop's) and a **real-text** day built from the real chats beside the project
(``bench/generate.py --from-realchats``: copies of real conversations with their own order
numbers, amounts, names and timestamps; written to bench/out at benchmark time, never
committed). For every day, size N and ``--jobs`` value it runs ``qc inspect`` as a subprocess
(read → findings → scores → outputs) on the day of N messages and measures
wall time (messages per second) and the peak resident memory of every process of
the run (parent, forkserver, workers). Memory is sampled with psutil every 50 ms
when psutil is installed, else from /proc/<pid>/status (VmHWM, the kernel's own
peak); ``resource.getrusage(RUSAGE_CHILDREN)`` is recorded as a cross-check. It
also times start-up (``qc --help``; ``qc check "哦"`` in a fresh process) and, in
the same run on the same input, the naive script a user would write: ``jieba.lcut``
+ ``SnowNLP(text).sentiments`` + one model call per agent message (features and scores of
that message alone, no batching and no caches) with the shipped model, on the first
``--naive-sample`` messages of that day (its rate extrapolates).

Results go to bench/out/results.json and bench/out/results.md.

Usage:
    python bench/run.py                      # N = 100k and 1M, --jobs 1 and 2, both days
    python bench/run.py --sizes 20000 --jobs 1 2 --naive-sample 2000   # quick
    python bench/run.py --days real --sizes 1000000 --jobs 2           # the real-text day only
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import distinct_share, generate, real_day  # noqa: E402

REALCHATS = HERE.parent.parent / "shared" / "realchats" / "real_conversations.jsonl"

try:
    import psutil
except ImportError:  # /proc fallback below
    psutil = None

NAIVE_CODE = r"""
import json, sys, time, logging
path, limit = sys.argv[1], int(sys.argv[2])
t0 = time.perf_counter()
import jieba
from snownlp import SnowNLP
from qc.attitude.model import load, softmax
jieba.setLogLevel(logging.WARNING)
jieba.initialize()
model = load()
rows = []
with open(path, encoding="utf-8") as fh:
    for line in fh:
        rows.append(json.loads(line))
        if len(rows) >= limit:
            break
load = time.perf_counter() - t0
t0 = time.perf_counter()
history = {}
for r in rows:
    text = r["text"]
    tokens = jieba.lcut(text)
    mood = SnowNLP(text).sentiments if text.strip() else 0.5
    turns = history.setdefault(r["conversation_id"], [])
    if r["role"] == "agent" and not r.get("auto_reply") and text.strip():
        softmax(model.intercept + model.scores(model.featurizer.columns([(text, tuple(turns))]), 1))
    if r["role"] in ("agent", "customer") and not r.get("auto_reply"):
        turns.append((r["role"], text))
print(json.dumps({"messages": len(rows), "seconds": time.perf_counter() - t0, "load_s": load}))
"""


def qc_command() -> list[str]:
    """The ``qc`` script of the interpreter running the benchmark, or ``python -m qc``."""
    beside = Path(sys.executable).parent / "qc"
    if beside.is_file():
        return [str(beside)]
    exe = shutil.which("qc")
    return [exe] if exe else [sys.executable, "-m", "qc"]


def _proc_hwm_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _role(proc: Any, root_pid: int) -> str:
    """main, forkserver, resource_tracker or worker: what a process of the run is."""
    if proc.pid == root_pid:
        return "main"
    cmd = " ".join(proc.cmdline())
    if "resource_tracker" in cmd:
        return "resource_tracker"
    if proc.ppid() == root_pid and "forkserver" in cmd:
        return "forkserver"
    return "worker"


def run_measured(cmd: list[str]) -> dict[str, Any]:
    """Run ``cmd``; wall time and the peak RSS of each process in its tree (MB)."""
    peaks: dict[int, dict[str, Any]] = {}
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    root = psutil.Process(proc.pid) if psutil else None
    while proc.poll() is None:
        if root is not None:
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                procs = []
            for p in procs:
                try:
                    rss = p.memory_info().rss / 2**20
                    entry = peaks.get(p.pid)
                    if entry is None:
                        entry = peaks[p.pid] = {"pid": p.pid, "role": _role(p, proc.pid), "peak_rss_mb": 0.0}
                except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                    continue
                entry["peak_rss_mb"] = max(entry["peak_rss_mb"], rss)
        else:  # pragma: no cover - psutil missing: the main process's own peak from the kernel
            hwm = _proc_hwm_mb(proc.pid)
            if hwm:
                entry = peaks.setdefault(proc.pid, {"pid": proc.pid, "role": "main", "peak_rss_mb": 0.0})
                entry["peak_rss_mb"] = max(entry["peak_rss_mb"], hwm)
        time.sleep(0.05)
    wall = time.perf_counter() - started
    stderr = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
    return {
        "returncode": proc.returncode,
        "wall_s": wall,
        "processes": sorted(peaks.values(), key=lambda e: -e["peak_rss_mb"]),
        "stderr_tail": stderr[-500:],
    }


def peak_by_role(processes: list[dict[str, Any]], role: str) -> float:
    """The highest peak RSS among the run's processes of one role (0 when none)."""
    return max((p["peak_rss_mb"] for p in processes if p["role"] == role), default=0.0)


def startup_times(reps: int) -> dict[str, Any]:
    """Wall time of ``qc --help`` and of ``qc check "哦"``, each in a fresh process."""
    out: dict[str, Any] = {}
    for label, args in (("qc --help", ["--help"]), ('qc check "哦"', ["check", "哦"])):
        walls = []
        for _ in range(reps):
            t0 = time.perf_counter()
            subprocess.run(qc_command() + args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            walls.append(time.perf_counter() - t0)
        out[label] = {"min_s": min(walls), "median_s": statistics.median(walls), "runs_s": walls}
    return out


def naive(path: Path, sample: int) -> dict[str, Any]:
    """The naive per-message script on the first ``sample`` messages of ``path``."""
    proc = subprocess.run(
        [sys.executable, "-c", NAIVE_CODE, str(path), str(sample)], capture_output=True, text=True, check=True
    )
    row = json.loads(proc.stdout.strip().splitlines()[-1])
    row["msg_per_s"] = row["messages"] / row["seconds"]
    return row


def markdown(results: dict[str, Any]) -> str:
    """The results as markdown tables: throughput and memory per run, then start-up."""
    lines = [
        f"qc inspect end to end on generated and real-text days ({results['machine']});"
        f" {results['rss_method']}.",
        f"Load average (1/5/15 min) before: {_load(results['load_avg_before'])},"
        f" after: {_load(results['load_avg_after'])}.",
        "",
        "| day | distinct agent texts | N messages | jobs | build | wall s | msg/s | naive msg/s | ratio |"
        " peak RSS main (MB) | peak RSS worker (MB) | load avg at start |",
        "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results["runs"]:
        procs = r["processes"]
        worker = peak_by_role(procs, "worker")
        lines.append(
            f"| {r['day']} | {r['distinct_agent_texts']:.1%} | {r['n']:,} | {r['jobs']} | {_build(r)} |"
            f" {r['wall_s']:.1f} |"
            f" {r['msg_per_s']:,.0f} |"
            f" {r['naive_msg_per_s']:,.0f} | {r['ratio']:.1f}× | {peak_by_role(procs, 'main'):.0f} |"
            f" {f'{worker:.0f}' if worker else '–'} | {r['load_avg_start'][0]:.2f} |"
        )
    lines += ["", "| start-up | min s | median s |", "|---|---:|---:|"]
    for label, row in results["startup"].items():
        lines.append(f"| `{label}` | {row['min_s']:.2f} | {row['median_s']:.2f} |")
    lines += ["", "Peak RSS of every process (MB):", ""]
    for r in results["runs"]:
        detail = ", ".join(f"{p['role']} {p['peak_rss_mb']:.0f}" for p in r["processes"])
        lines.append(f"- {r['day']} N={r['n']:,} jobs={r['jobs']}: {detail}")
    return "\n".join(lines) + "\n"


def _build(run: dict[str, Any]) -> str:
    # run.json's count of hot modules loaded compiled (build/compiled, make demo): which code ran.
    count = run.get("compiled_modules", 0)
    return f"compiled ({count} modules)" if count else "pure Python"


def _load(values: Any) -> str:
    return " / ".join(f"{v:.2f}" for v in values)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark qc inspect end to end.")
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--naive-sample", type=int, default=5000)
    parser.add_argument("--startup-reps", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--days", nargs="+", choices=("generated", "real"), default=["generated", "real"])
    parser.add_argument("--realchats", type=Path, default=REALCHATS)
    parser.add_argument("--out", type=Path, default=HERE / "out")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "machine": f"{os.cpu_count()} CPUs, {platform.python_implementation()} {platform.python_version()}",
        "rss_method": "peak RSS per process sampled every 50 ms with psutil"
        if psutil
        else "peak RSS per process from /proc/<pid>/status VmHWM",
        "command": " ".join([sys.executable, *sys.argv]),
        "load_avg_before": os.getloadavg(),
        "startup": startup_times(args.startup_reps),
        "runs": [],
    }
    for day_kind in args.days:
        for n in args.sizes:
            if day_kind == "real":
                if not args.realchats.is_file():
                    print(f"no real chats at {args.realchats}: the real-text day is skipped", file=sys.stderr)
                    continue
                path = args.out / f"real-{n}-seed{args.seed}.jsonl"
                if not path.exists():
                    real_day(n, path, args.realchats, args.seed)
            else:
                path = args.out / f"day-{n}-seed{args.seed}.jsonl"
                if not path.exists():
                    generate(n, path, args.seed)
            share = distinct_share(path)
            naive_row = naive(path, min(args.naive_sample, n))
            for jobs in args.jobs:
                target = args.out / f"inspect-{day_kind}-{n}-j{jobs}"
                cmd = qc_command() + ["inspect", str(path), "--out", str(target), "-q"]
                cmd += ["--jobs", str(jobs), "--batch-size", str(args.batch_size)]
                load_start = os.getloadavg()
                row = run_measured(cmd)
                run_json = json.loads((target / "run.json").read_text(encoding="utf-8"))
                row.update(
                    day=day_kind,
                    distinct_agent_texts=share,
                    n=n,
                    jobs=jobs,
                    msg_per_s=n / row["wall_s"],
                    in_process_s=run_json.get("seconds"),
                    findings=run_json.get("findings"),
                    compiled_modules=run_json.get("compiled_modules", 0),
                    naive=naive_row,
                    naive_msg_per_s=naive_row["msg_per_s"],
                    load_avg_start=load_start,
                )
                row["ratio"] = row["msg_per_s"] / naive_row["msg_per_s"]
                results["runs"].append(row)
                print(
                    f"{day_kind} N={n} jobs={jobs} ({_build(row)}): {row['msg_per_s']:,.0f} msg/s,"
                    f" {row['ratio']:.1f}× naive, "
                    f"peak RSS main {peak_by_role(row['processes'], 'main'):.0f} MB,"
                    f" worker {peak_by_role(row['processes'], 'worker'):.0f} MB",
                    file=sys.stderr,
                )
    results["rusage_children_maxrss_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    results["load_avg_after"] = os.getloadavg()
    (args.out / "results.json").write_text(
        json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8"
    )
    (args.out / "results.md").write_text(markdown(results), encoding="utf-8")
    print(markdown(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
