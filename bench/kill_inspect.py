"""SIGKILL `qc inspect --out` at random points and at each phase; check every output folder.

For each ``--jobs`` value: a complete run of a small day A is the previous run; then a run of a
larger day B is killed (SIGKILL: nothing can clean up) at a random moment of its measured
duration, or as soon as a phase is seen in its temporary folder (started, writing findings,
scoring, publishing). After each kill the output folder must be exactly run A, or run B (all
but run.json's timing and the XLSX's zip dates byte for byte, and the XLSX must open), or carry
no completion marker; a folder marked complete with any other content counts as truncated.
Stale temporary folders are counted too (each run removes those of killed runs). Usage:
    python bench/kill_inspect.py [--kills 100] [--jobs 1 2] [--messages 6000] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from qc.outputs.staging import STAGE_MARK, is_complete
from qc.synth.conversations import iter_conversations
from qc.synth.exports import write_jsonl_messages

PHASES = ("started", "findings", "scoring", "publishing")


def _stages(out: Path) -> list[Path]:
    return [p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}{STAGE_MARK}")]


def _phase(out: Path) -> str | None:
    """The furthest phase visible in the run's temporary folder."""
    seen = None
    for stage in _stages(out):
        try:
            names = {p.name for p in stage.iterdir()}
        except OSError:
            continue
        seen = "started"
        if "findings.jsonl" in names:
            seen = "findings"
        if "agents.csv" in names or "deductions.jsonl" in names:
            seen = "scoring"
        if "run.json" in names:
            seen = "publishing"
    return seen


def _snapshot(folder: Path) -> dict[str, bytes]:
    out = {}
    for p in sorted(folder.iterdir()):
        if p.is_file() and p.name != "agents.xlsx":  # its zip entries carry the time it was written
            data = p.read_bytes()
            if p.name == "run.json":
                run = json.loads(data)
                run.pop("seconds", None)
                data = json.dumps(run, sort_keys=True).encode()
            out[p.name] = data
    return out


def _parses(folder: Path) -> bool:
    """Every file of a folder marked complete reads whole."""
    try:
        for name in ("findings.jsonl", "conversations.jsonl", "rejects.jsonl", "deductions.jsonl"):
            p = folder / name
            if p.exists():
                for line in p.read_text(encoding="utf-8").splitlines():
                    json.loads(line)
        json.loads((folder / "agents.json").read_text(encoding="utf-8"))
        import openpyxl

        openpyxl.load_workbook(folder / "agents.xlsx", read_only=True).close()
    except Exception:  # noqa: BLE001 - any failure to read is what is counted
        return False
    return True


def _run(day: Path, out: Path, jobs: int) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "qc", "inspect", str(day), "--out", str(out), "-q", "--jobs", str(jobs)]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def _restore(reference: Path, out: Path) -> None:
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(reference, out)


def main() -> None:
    """Run the kills and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--kills", type=int, default=100, help="random kills per --jobs value")
    ap.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--messages", type=int, default=6000, help="messages of the killed run's day")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        day_a, day_b = root / "a.jsonl", root / "b.jsonl"
        write_jsonl_messages(iter_conversations(date(2026, 11, 24), 3, n_messages=300), day_a)
        write_jsonl_messages(iter_conversations(date(2026, 11, 24), 5, n_messages=args.messages), day_b)
        for jobs in args.jobs:
            ref_a, ref_b = root / f"ref_a{jobs}", root / f"ref_b{jobs}"
            _run(day_a, ref_a, jobs).wait()
            started = time.perf_counter()
            _run(day_b, ref_b, jobs).wait()
            full = time.perf_counter() - started
            snap_a, snap_b = _snapshot(ref_a), _snapshot(ref_b)
            out = root / f"out{jobs}"
            tally = {"kills": 0, "as_before": 0, "new_complete": 0, "no_marker": 0, "finished_first": 0}
            bad = stale_max = 0
            plan = [("phase", p) for p in PHASES] + [("random", None)] * args.kills
            for kind, phase in plan:
                _restore(ref_a, out)
                proc = _run(day_b, out, jobs)
                if kind == "random":
                    time.sleep(rng.uniform(0, full * 1.05))  # a few land after the run ended
                else:
                    while proc.poll() is None and _phase(out) != phase:
                        time.sleep(0.002)
                if proc.poll() is not None:
                    tally["finished_first"] += 1
                else:
                    proc.kill()
                    tally["kills"] += 1
                proc.wait()
                stale_max = max(stale_max, len(_stages(out)))
                if not is_complete(out):
                    tally["no_marker"] += 1
                    continue
                snap = _snapshot(out)
                if (
                    snap == snap_a
                    and (out / "agents.xlsx").read_bytes() == (ref_a / "agents.xlsx").read_bytes()
                ):
                    tally["as_before"] += 1
                elif snap == snap_b and _parses(out):
                    tally["new_complete"] += 1
                else:
                    bad += 1
            print(
                f"--jobs {jobs}: day B {args.messages:,} messages, a full run {full:.1f} s; {tally};"
                f" folders marked complete with a truncated or foreign file: {bad};"
                f" most temporary folders beside --out at once: {stale_max}"
            )
            # The next run removes every stale folder of the killed ones.
            _run(day_a, out, jobs).wait()
            print(
                f"  after one more run: {len(_stages(out))} temporary folders left,"
                f" complete={is_complete(out)}"
            )


if __name__ == "__main__":
    main()
