"""Run forbidden_phrase.v1 over ../shared/realchats (evaluation only) and print figures and a sample.

Reads the real conversations at run time; nothing from them is written into the repository.
Usage: python bench/eval_realchats.py [--sample 30] [--seed 7] [--strict] [--show]
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections import Counter, defaultdict
from pathlib import Path

from qc.rules import RuleSettings
from qc.rules.forbidden_phrase import make_forbidden_phrase_rule
from qc.schema import Conversation, Message, Role
from qc.text.annotate import make_annotator

REAL = Path(__file__).resolve().parents[2] / "shared" / "realchats" / "real_conversations.jsonl"


def load(path: Path) -> list[Conversation]:
    convs = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            msgs = tuple(
                Message(i, Role(m["role"]), m["text"], sender="agent" if m["role"] == "agent" else "buyer")
                for i, m in enumerate(rec["messages"])
            )
            convs.append(Conversation(rec["conversation_id"], msgs, shop=rec["source"]))
    return convs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--path", type=Path, default=REAL)
    ap.add_argument("--sample", type=int, default=30)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--strict", action="store_true")
    ap.add_argument(
        "--show", action="store_true", help="print the sampled hits with buyer context (terminal only)"
    )
    args = ap.parse_args()
    convs = load(args.path)
    settings = RuleSettings(strict=args.strict)
    rule = make_forbidden_phrase_rule(settings)
    annotate = make_annotator(settings.user_dict)
    agent_msgs: Counter[str] = Counter()
    live_msgs: Counter[str] = Counter()
    implied_msgs: dict[str, Counter[str]] = defaultdict(Counter)
    entries_live: Counter[str] = Counter()
    entries_supp: Counter[str] = Counter()
    live, supp = [], []
    t0 = time.perf_counter()
    n_msgs = 0
    for conv in convs:
        n_msgs += len(conv.messages)
        feats = annotate(conv)
        findings = list(rule.check(conv, feats))
        src = conv.shop or "?"
        agent_msgs[src] += len(conv.agent_messages())
        by_msg = defaultdict(list)
        for f in findings:
            by_msg[f.message_index].append(f)
            (entries_supp if f.suppressed else entries_live)[f.entry] += 1
            (supp if f.suppressed else live).append((conv, f))
        for fs in by_msg.values():
            lv = [f for f in fs if f.live]
            if lv:
                live_msgs[src] += 1
            for kind in {f.evidence.details.get("implies") for f in lv} - {None}:
                implied_msgs[src][kind] += 1
    secs = time.perf_counter() - t0
    print(
        f"{len(convs)} conversations, {n_msgs} messages in {secs:.1f}s"
        f" ({n_msgs / secs:.0f} msgs/s incl. annotation)"
    )
    print("source | agent msgs | live msgs (share) | implies impatience | implies conflict")
    for src in sorted(agent_msgs) + ["ALL"]:
        a = sum(agent_msgs.values()) if src == "ALL" else agent_msgs[src]
        lv = sum(live_msgs.values()) if src == "ALL" else live_msgs[src]
        imp = (
            sum(c["impatience"] for c in implied_msgs.values())
            if src == "ALL"
            else implied_msgs[src]["impatience"]
        )
        con = (
            sum(c["conflict"] for c in implied_msgs.values())
            if src == "ALL"
            else implied_msgs[src]["conflict"]
        )
        print(f"{src} | {a} | {lv} ({lv / a:.2%}) | {imp} ({imp / a:.2%}) | {con} ({con / a:.2%})")
    print("live by entry:", dict(entries_live.most_common()))
    print("suppressed by entry:", dict(entries_supp.most_common()))
    rng = random.Random(args.seed)
    for name, pool in (("LIVE", live), ("SUPPRESSED", supp)):
        picks = rng.sample(pool, min(args.sample, len(pool)))
        print(f"\n== {len(picks)} random {name} of {len(pool)} ==")
        if not args.show:
            continue
        for k, (conv, f) in enumerate(picks, 1):
            msgs = conv.messages
            before = [m for m in msgs[max(0, f.message_index - 3) : f.message_index]]
            ctx = " | ".join(f"{m.role.value[0]}:{m.text[:60]}" for m in before)
            nxt = msgs[f.message_index + 1].text[:40] if f.message_index + 1 < len(msgs) else ""
            print(
                f"{k:2d} {f.entry} [{f.text}] cue={f.cue}\n   ctx: {ctx}\n"
                f"   msg: {msgs[f.message_index].text[:120]}\n   next: {nxt}"
            )


if __name__ == "__main__":
    main()
