"""Run the inspection over the real chats (evaluation only) and count attitude flags.

Prints the share of real agent messages flagged by kind (live and needs-review), per
source, and with ``--sample N`` a seeded random sample of live flags to judge by hand
against ANNOTATION.md. Nothing is written into the repository: real text stays on screen.

    python bench/realchats_attitude.py /work/shared/realchats/real_conversations.jsonl \
        [--model DIR] [--sample 50] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import random
from collections import Counter
from pathlib import Path

from qc.rules import RuleSettings
from qc.run.inspector import build_inspector
from qc.schema import Conversation, Message, Role
from qc.training.evaluate import evaluation_rules


def read_conversations(path: Path) -> list[Conversation]:
    out = []
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            data = json.loads(line)
            messages = tuple(
                Message(i, Role(m["role"]), m["text"], sender="agent" if m["role"] == "agent" else "buyer")
                for i, m in enumerate(data["messages"])
            )
            out.append(
                Conversation(
                    data["conversation_id"], messages, shop=data.get("source"), source=f"{path.name}:{number}"
                )
            )
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("path", type=Path)
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--sample", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    conversations = read_conversations(args.path)
    inspector = build_inspector(RuleSettings(rules=evaluation_rules(), model=args.model))
    agent_total: Counter[str] = Counter()
    flagged: Counter[tuple[str, str, str]] = Counter()
    live_flags = []
    for conv in conversations:
        agent_total[conv.shop] += len(conv.agent_messages())
        result = inspector.inspect_one(conv)
        by_message: dict[int, dict[str, str]] = {}
        for f in result.findings:
            label = f.kind if f.kind in ("impatience", "conflict") else f.evidence.details.get("implies")
            if label not in ("impatience", "conflict"):
                label = f.kind
            state = "live" if f.live else ("review" if f.needs_review else "suppressed")
            by_message.setdefault(f.message_index, {})
            key = f"{label}/{f.rule}"
            # keep the most severe state per message and key
            if by_message[f.message_index].get(key) != "live":
                by_message[f.message_index][key] = state
        for index, keys in by_message.items():
            for key, state in keys.items():
                flagged[(conv.shop, key, state)] += 1
            verdict = next(
                (
                    k
                    for k in ("conflict", "impatience")
                    if any(key.startswith(k + "/") and s == "live" for key, s in keys.items())
                ),
                None,
            )
            if verdict:
                flagged[(conv.shop, f"VERDICT {verdict}", "live")] += 1
                live_flags.append((conv, index, verdict, keys))

    total = sum(agent_total.values())
    print(f"conversations {len(conversations)}, agent messages {total}")
    for source in sorted(agent_total):
        print(f"  {source}: {agent_total[source]} agent messages")
    rows = Counter()
    for (_source, key, state), n in flagged.items():
        rows[(key, state)] += n
    print("\nflags over all sources (messages, share of agent messages):")
    for (key, state), n in sorted(rows.items()):
        print(f"  {key:<50} {state:<10} {n:>6}  {n / total:.2%}")
    print("\nverdict per source:")
    for source in sorted(agent_total):
        for kind in ("impatience", "conflict"):
            n = flagged[(source, f"VERDICT {kind}", "live")]
            print(f"  {source:<28} {kind:<11} {n:>5}  {n / max(agent_total[source], 1):.2%}")
    if args.sample:
        rng = random.Random(args.seed)
        picked = rng.sample(live_flags, min(args.sample, len(live_flags)))
        print(f"\n{len(picked)} random live verdict flags (seed {args.seed}); judge against ANNOTATION.md:")
        for n, (conv, index, verdict, keys) in enumerate(picked, start=1):
            before = [m for m in conv.messages[:index] if m.role is Role.CUSTOMER][-1:]
            ctx = before[0].text[:60] if before else ""
            print(
                f"{n:>2}. [{verdict}] {sorted(keys)}\n"
                f"    buyer: {ctx}\n    agent: {conv.messages[index].text[:120]}"
            )


if __name__ == "__main__":
    main()
