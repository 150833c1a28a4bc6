"""How one worker's memory grows over a day: RSS and live Python memory at chosen message counts.

Usage:
    python bench/worker_memory.py bench/out/day-1000000-seed7.jsonl [--at 50000 150000 500000]
    python bench/worker_memory.py bench/out/real-1000000-seed7.jsonl --live

One process builds the inspector as a worker does and inspects every other chunk of the day
(what one of the two workers of ``--jobs 2`` sees, in the chunk sizes the pool uses), making
each chunk's output lines and tally. At each count of messages it prints a JSON line: the
process's RSS and peak RSS (MB), its CPU seconds, and with ``--live`` the Python memory alive
above what was alive after the first chunk (tracemalloc, which makes the run 2–3× slower; the
CPU figure then means little). Live memory that stops growing while RSS grows is allocator
fragmentation; live memory that grows is caches filling (or a leak: clear the caches to tell).
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import sys
import time
import tracemalloc
from pathlib import Path

import psutil

from qc.batch.chunks import ChunkOutputTask
from qc.readers import ReadOptions
from qc.readers.line_chunks import LineSplit, read_chunk
from qc.rules import RuleSettings
from qc.run.inspector import build_inspector, settle_heap
from qc.run.pool import CHUNK_GROWTH
from qc.scoring.card import load_scorecard


def walk(day: Path, marks: list[int], live: bool, batch: int = 256) -> list[dict[str, float]]:
    """Inspect every other chunk of ``day`` in this process; one row of figures at each mark."""
    split = LineSplit.of([day], ReadOptions())
    inspector = build_inspector(RuleSettings())
    task = ChunkOutputTask(load_scorecard())
    settle_heap()
    process = psutil.Process()
    if live:
        tracemalloc.start(1)
    base: int | None = None
    todo = sorted(marks)
    rows: list[dict[str, float]] = []
    seen = 0
    cpu = time.process_time()
    for k, chunk in enumerate(split.chunks(batch, grow_to=CHUNK_GROWTH * batch)):
        if k % 2:
            continue
        conversations, _ = read_chunk(chunk, split.names, split.resolved)
        task(inspector.inspect(conversations))
        seen += sum(len(c.messages) for c in conversations)
        del conversations
        if live and base is None:
            gc.collect()
            base = tracemalloc.get_traced_memory()[0]
        while todo and seen >= todo[0]:
            todo.pop(0)
            row = {
                "messages": seen,
                "rss_mb": round(process.memory_info().rss / 1e6, 1),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6, 1),
                "cpu_s": round(time.process_time() - cpu, 2),
            }
            if live and base is not None:
                gc.collect()
                row["live_above_first_chunk_mb"] = round((tracemalloc.get_traced_memory()[0] - base) / 1e6, 1)
            rows.append(row)
            print(json.dumps(row), flush=True)
        if not todo:
            break
    return rows


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments and walk the day; exit 2 when the day file is missing."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("day", type=Path)
    parser.add_argument("--at", type=int, nargs="+", default=[50_000, 150_000, 300_000, 500_000])
    parser.add_argument("--live", action="store_true", help="also live Python memory (tracemalloc, slower)")
    args = parser.parse_args(argv)
    if not args.day.is_file():
        print(f"{args.day}: no such day; make one with bench/generate.py", file=sys.stderr)
        return 2
    walk(args.day, args.at, args.live)
    return 0


if __name__ == "__main__":
    sys.exit(main())
