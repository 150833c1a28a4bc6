"""The release fuzz run: N mutants over every reader format (qc.synth.fuzz), with figures.

Prints mutants per format, records read/accepted/rejected in all, uncaught exceptions and
count mismatches (with the mutant's index and format, so ``--seed`` and ``--start`` rerun it),
and mutants per second. Usage:
    python bench/fuzz_readers.py [--mutants 100000] [--seed 0] [--workers 2] [--keep DIR]
"""

from __future__ import annotations

import argparse
import itertools
import multiprocessing
import tempfile
import time
from collections import Counter
from pathlib import Path

from qc.readers import ReadOptions, read_inputs
from qc.synth.fuzz import FORMAT_FILES, check_mutant, mutants, seeds


def _slice(job: tuple[int, int, int, int]) -> tuple[Counter[str], list[tuple[int, str, str]], list[int]]:
    """Mutants ``start``, ``start + step`` … below ``stop`` of the stream with ``seed``."""
    seed, start, stop, step = job
    formats: Counter[str] = Counter()
    problems: list[tuple[int, str, str]] = []
    counts = [0, 0, 0]
    base = seeds()
    with tempfile.TemporaryDirectory(prefix="qc-fuzz-") as tmp:
        folder = Path(tmp)
        stream = itertools.islice(enumerate(mutants(stop, seed=seed, seed_files=base)), start, stop, step)
        for index, (fmt, data) in stream:
            formats[fmt] += 1
            found = check_mutant(fmt, data, folder)
            problems.extend((index, fmt, p) for p in found)
            if not found:
                r = read_inputs([folder / FORMAT_FILES[fmt]], ReadOptions())
                counts[0] += r.read
                counts[1] += r.accepted
                counts[2] += r.rejected
    return formats, problems, counts


def main() -> None:
    """Run the mutants (split over worker processes) and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--mutants", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    started = time.perf_counter()
    jobs = [(args.seed, w, args.mutants, args.workers) for w in range(args.workers)]
    with multiprocessing.Pool(args.workers) as pool:
        results = pool.map(_slice, jobs)
    formats: Counter[str] = Counter()
    problems: list[tuple[int, str, str]] = []
    counts = [0, 0, 0]
    for f, p, c in results:
        formats.update(f)
        problems.extend(p)
        counts = [a + b for a, b in zip(counts, c, strict=True)]
    seconds = time.perf_counter() - started
    print(f"{sum(formats.values()):,} mutants in {seconds:,.0f} s ({sum(formats.values()) / seconds:,.0f}/s)")
    print("by format:", dict(sorted(formats.items())))
    holds = counts[0] == counts[1] + counts[2]
    print(
        f"records of the mutants without problems: read {counts[0]:,}, accepted {counts[1]:,},"
        f" rejected {counts[2]:,} (read = accepted + rejected: {holds})"
    )
    kinds = Counter(p.split(":")[0] for _, _, p in problems)
    print(f"problems: {len(problems)} {dict(kinds)}")
    for index, fmt, p in sorted(problems)[:20]:
        print(f"  mutant {index} ({fmt}): {p}")


if __name__ == "__main__":
    main()
