"""Generate a realistic day of N messages as one-message-per-line JSONL (seeded).

Conversations come from :mod:`qc.synth.conversations` (agents, buyers, timing, the full mix of
findings) and are written conversation after conversation, streaming, so a day of
millions of messages needs no more memory than one of thousands.

Usage:
    python bench/generate.py 1000000 bench/out/day-1m.jsonl [--seed 7] [--day 2026-11-24]
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

from qc.synth.conversations import iter_conversations
from qc.synth.exports import write_jsonl_messages


def generate(n_messages: int, path: Path, seed: int = 7, day: date = date(2026, 11, 24)) -> int:
    """Write exactly ``n_messages`` messages of one day into ``path``; return the count."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_jsonl_messages(iter_conversations(day, seed, n_messages=n_messages), path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n_messages", type=int)
    parser.add_argument("path", type=Path)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--day", type=date.fromisoformat, default=date(2026, 11, 24))
    args = parser.parse_args(argv)
    started = time.perf_counter()
    count = generate(args.n_messages, args.path, args.seed, args.day)
    print(f"{count} messages → {args.path} in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
