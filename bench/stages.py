"""Where the time of ``qc inspect`` goes: CPU microseconds per message for each stage.

Runs every stage of an inspection on its own, in this one process, over the first N
messages of a generated day, and prints CPU time (``time.process_time``, so another
program on the machine changes the figures less than wall time would) per message:

- one process (``--jobs 1``): reading a file as a stream (line by line, validation,
  conversations), for comparison;
- main process of ``--jobs N``: cutting the lines into chunks of whole conversations
  (:class:`qc.readers.line_chunks.LineSplit`), and receiving the workers' lines and tallies
  (writing them, adding the tallies);
- worker: reading its chunk (:func:`qc.readers.line_chunks.read_chunk`), the annotator when
  a rule needs it, then each rule, then the chunk's output lines and score tally
  (:func:`qc.batch.chunks.chunk_output`); and each feature block of the attitude model on every
  distinct text of the day with nothing cached (what a cache miss costs).

Usage:
    python bench/stages.py                       # 50,000 messages of bench/out/day-100000-seed7.jsonl
    python bench/stages.py --messages 20000 --day path/to/day.jsonl --repeat 5
"""

from __future__ import annotations

import argparse
import itertools
import multiprocessing
import pickle
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import generate  # noqa: E402


def stage_costs(day: Path, batch_size: int = 256) -> tuple[int, list[tuple[str, float]]]:
    """``(messages, [(stage, CPU µs per message)])`` for the conversations in ``day``."""
    from qc.readers import ReadOptions
    from qc.readers.line_chunks import LineSplit, read_chunk
    from qc.readers.stream import StreamRead, stream_inputs
    from qc.rules import RuleSettings
    from qc.run.inspector import build_inspector

    clock = time.process_time
    rows: list[tuple[str, float]] = []
    t = clock()
    conversations = list(stream_inputs([day], ReadOptions(), StreamRead()))
    rows.append(("one process (--jobs 1): read, validate, build conversations", clock() - t))
    n = sum(len(c.messages) for c in conversations)
    split = LineSplit.of([day], ReadOptions())
    assert split is not None
    t = clock()
    packed = [pickle.dumps(c, protocol=pickle.HIGHEST_PROTOCOL) for c in split.chunks(batch_size)]
    rows.append(("main: cut the lines into chunks of whole conversations, pickle them", clock() - t))
    t = clock()
    for p in packed:
        read_chunk(pickle.loads(p), split.names, split.resolved)
    rows.append(("worker: unpickle, read, validate, build conversations", clock() - t))
    batches = [conversations[i : i + batch_size] for i in range(0, len(conversations), batch_size)]
    inspector = build_inspector(RuleSettings())
    inspector.inspect(conversations[:20])  # lazy loads (models, dictionaries) out of the timing
    from qc.run.inspector import settle_heap

    settle_heap()  # as a worker does once its models are loaded
    t = clock()
    items = [[(c, tuple(inspector.annotator(c))) for c in b] for b in batches]
    rows.append(("worker: annotator (none unless a rule needs tokens)", clock() - t))
    for rule in inspector.rules:
        t = clock()
        for batch in items:
            if hasattr(rule, "check_batch"):
                rule.check_batch(batch)
            else:
                for conversation, feats in batch:
                    list(rule.check(conversation, feats))
        rows.append((f"worker: rule {rule.name}", clock() - t))
    from qc.batch.chunks import chunk_output
    from qc.batch.run import LeanScoring
    from qc.run.inspector import ConversationResult
    from qc.scoring.card import load_scorecard

    card = load_scorecard()
    # What a worker hands to chunk_output (inspected again here, outside the timing).
    results = [
        [ConversationResult(r.conversation, (), r.findings) for r in inspector.inspect([c for c, _ in b])]  # noqa: E501
        for b in items
    ]
    t = clock()
    outputs = [chunk_output(batch, card) for batch in results]
    rows.append(("worker: output lines and score tally of each chunk", clock() - t))
    t = clock()
    outputs = [pickle.loads(pickle.dumps(o, protocol=pickle.HIGHEST_PROTOCOL)) for o in outputs]
    scoring = LeanScoring(card)
    with tempfile.TemporaryFile("w+b") as sink:
        for o in outputs:
            sink.write(o.findings)
            sink.write(o.summaries)
            scoring.merge(o.tally)
    rows.append(("main: receive chunks, write lines, add tallies", clock() - t))
    classifier = next((r for r in inspector.rules if r.name == "attitude_classifier.v1"), None)
    if classifier is not None:
        from qc.attitude.features import Turn
        from qc.attitude.rule import agent_turns

        featurizer = classifier.model.featurizer
        turns = [Turn.of(m.text, ctx) for c in conversations for m, ctx in agent_turns(c.messages)]
        replies = list(dict.fromkeys(t.reply for t in turns))
        buyers = list(dict.fromkeys(t.buyer for t in turns))
        kinds = {b: featurizer.buyer_kinds(b) for b in buyers}
        pairs = list(dict.fromkeys((kinds[t.buyer], t.reply) for t in turns))
        for label, work in (
            (
                f"  attitude: reply n-grams and words, each distinct reply ({len(replies)})",
                lambda: featurizer.reply_columns(replies),
            ),
            (
                f"  attitude: buyer-turn n-grams, each distinct turn ({len(buyers)})",
                lambda: featurizer.buyer_columns(buyers),
            ),
            (
                f"  attitude: kinds × reply crosses, each distinct pair ({len(pairs)})",
                lambda: featurizer.cross_columns(pairs),
            ),
            (
                "  attitude: cue sets, every reply",
                lambda: [featurizer.cue_set(t, kinds[t.buyer]) for t in turns],
            ),
        ):
            t = clock()
            work()
            rows.append((label, clock() - t))
    return n, [(label, seconds / n * 1e6) for label, seconds in rows]


def _fresh_process_run(day: Path) -> tuple[int, list[tuple[str, float]]]:
    """:func:`stage_costs` in a new interpreter, so no run finds the caches of another warm."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(stage_costs, (day,))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_day = HERE / "out" / "day-100000-seed7.jsonl"
    parser.add_argument("--day", type=Path, default=default_day)
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs; the table shows each stage's minimum")
    args = parser.parse_args(argv)
    if not args.day.exists():
        if args.day != default_day:
            # Made up here, a day named real-… would hold generated text and its figures mislead.
            print(
                f"{args.day}: no such day; make it with bench/generate.py N {args.day} --seed 7"
                " (add --from-realchats ../shared/realchats/real_conversations.jsonl for a real-text"
                " day) or bench/run.py",
                file=sys.stderr,
            )
            return 2
        generate(max(args.messages, 100_000), args.day)
    with tempfile.TemporaryDirectory() as tmp:
        head = Path(tmp) / "head.jsonl"
        with args.day.open(encoding="utf-8") as src, head.open("w", encoding="utf-8") as dst:
            dst.writelines(itertools.islice(src, args.messages))
        runs = [_fresh_process_run(head) for _ in range(max(1, args.repeat))]
    n = runs[0][0]
    # The minimum of several runs: other programs on a shared machine only ever add time.
    rows = [(label, min(run[1][i][1] for run in runs)) for i, (label, _) in enumerate(runs[0][1])]
    print(f"{n:,} messages; CPU µs per message, minimum of {len(runs)} runs")
    print("\n| stage | µs/msg |\n|---|---:|")
    for label, micros in rows:
        print(f"| {label} | {micros:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
