"""Start-up of ``qc inspect``: how long before the first message is judged, and the demo day.

Three measurements, each the minimum and median of ``--reps`` fresh runs:

- **worker**: a pool of ``--jobs`` workers as ``qc inspect --jobs N`` makes it
  (:class:`qc.run.pool.PoolExecutor`, forkserver), timed from the constructor call to the
  first inspected conversation coming back: the forkserver's start, the worker's imports,
  its inspector (model, lexicons, tokenizer dictionary, sentiment model) and the first
  message, which pays the lazy loads. This is "process start to first message inspected".
- **in one process**: a fresh interpreter's phases: ``import qc.run.inspector``, building the
  inspector, judging the first conversation of the demo day (lazy loads), and judging it
  again (the steady cost, for contrast).
- **demo**: wall time of ``qc inspect demo/day --out TMP -q`` in a fresh process, the
  README's first command.

Usage:
    python bench/startup.py                 # 5 runs of each
    python bench/startup.py --reps 10 --jobs 2
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEMO = HERE.parent / "demo" / "day"

PHASES_CODE = r"""
import json, sys, time
t0 = time.perf_counter()
from pathlib import Path
from qc.readers import ReadOptions, read_inputs
from qc.run.inspector import build_inspector
t1 = time.perf_counter()
inspector = build_inspector()
t2 = time.perf_counter()
first = read_inputs([Path(sys.argv[1])], ReadOptions()).conversations[:1]
t3 = time.perf_counter()
inspector.inspect(first)
t4 = time.perf_counter()
inspector.inspect(first)
t5 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "build_s": t2 - t1, "first_s": t4 - t3, "again_s": t5 - t4}))
"""

WORKER_CODE = r"""
import json, sys, time
from pathlib import Path
import psutil
from qc.readers import ReadOptions, read_inputs
from qc.rules import RuleSettings
from qc.run.pool import PoolExecutor
first = read_inputs([Path(sys.argv[1])], ReadOptions()).conversations[:1]
t0 = time.perf_counter()
with PoolExecutor(RuleSettings(), jobs=int(sys.argv[2]), preload=("qc.batch.preload",)) as pool:
    for _ in pool.map(first, len):
        break
    t1 = time.perf_counter()
    pool.describe()  # every worker has built its inspector by now or soon; wait for the other
    time.sleep(0.2)
    cpu = [sum(psutil.Process(p.pid).cpu_times()[:2]) for p in pool._started()._pool]
print(json.dumps({"first_inspected_s": t1 - t0, "worker_cpu_s": max(cpu)}))
"""


def _stats(values: list[float]) -> dict[str, float | list[float]]:
    return {"min_s": min(values), "median_s": statistics.median(values), "runs_s": values}


def _json_run(code: str, *args: str) -> dict[str, float]:
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure(reps: int, jobs: int) -> dict[str, dict[str, float | list[float]]]:
    """Every measurement of the module docstring, ``reps`` fresh runs each."""
    demo_file = DEMO / "2026-11-24_messages.jsonl"
    out: dict[str, dict[str, float | list[float]]] = {}
    worker = [_json_run(WORKER_CODE, str(demo_file), str(jobs)) for _ in range(reps)]
    out[f"worker pool (--jobs {jobs}): constructor to first inspected conversation (wall)"] = _stats(
        [w["first_inspected_s"] for w in worker]
    )
    out["worker: its CPU time from fork to ready (imports, inspector, first message)"] = _stats(
        [w["worker_cpu_s"] for w in worker]
    )
    phases = [_json_run(PHASES_CODE, str(demo_file)) for _ in range(reps)]
    for key, label in (
        ("import_s", "one process: import qc's inspector and readers"),
        ("build_s", "one process: build the inspector (model, lexicons)"),
        ("first_s", "one process: first conversation (lazy loads)"),
        ("again_s", "one process: the same conversation again"),
    ):
        out[label] = _stats([p[key] for p in phases])
    qc = Path(sys.executable).parent / "qc"
    walls = []
    for _ in range(reps):
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            subprocess.run([str(qc), "inspect", str(DEMO), "--out", f"{tmp}/out", "-q"], check=True)
            walls.append(time.perf_counter() - t0)
    out["qc inspect demo/day (fresh process, whole run)"] = _stats(walls)
    return out


def main(argv: list[str] | None = None) -> int:
    """Print the start-up table (markdown) and write bench/out/startup.json."""
    parser = argparse.ArgumentParser(description="Measure qc's start-up.")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", type=Path, default=HERE / "out")
    args = parser.parse_args(argv)
    results = measure(args.reps, args.jobs)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "startup.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(f"| start-up ({args.reps} fresh runs) | min s | median s |\n|---|---:|---:|")
    for label, row in results.items():
        print(f"| {label} | {row['min_s']:.3f} | {row['median_s']:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
