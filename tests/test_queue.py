"""The workbench's review queue: held findings first, then every finding of the spot-check sample."""

from __future__ import annotations

from review_day import CONVERSATIONS, DAY, SHOP, inspect_day, msg

from qc.scoring.card import load_scorecard
from qc.store.database import open_store
from qc.supervise.queue import HELD, SAMPLE, build_queue

SHARED = {
    "conversation_id": "cS",
    "shop": SHOP,
    "messages": [
        msg("customer", "buyer7", "15:00:00", "能便宜点吗"),
        msg("agent", f"{SHOP}:阿杰", "15:00:05", "爱买不买"),
        msg("customer", "buyer7", "15:01:00", "那有赠品吗"),
        msg("agent", f"{SHOP}:小美", "15:01:05", "没有"),
    ],
}


def test_a_conversation_two_agents_shared_queues_each_agents_findings(tmp_path):
    """The sample draws the shared conversation for both agents: neither one's findings are lost."""
    report = inspect_day(tmp_path, conversations=[*CONVERSATIONS, SHARED])
    live = {f.id for f in report.findings if f.live}
    assert {f.agent for f in report.findings if f.live and f.conversation_id == "cS"} == {
        f"{SHOP}:阿杰",
        f"{SHOP}:小美",
    }
    with open_store(tmp_path / "qc.sqlite") as store:
        queue = build_queue(store, load_scorecard(), DAY, DAY, per_agent=1000)
    sampled = [i.finding_id for i in queue if i.section == SAMPLE]
    assert sorted(sampled) == sorted(live)  # every live finding once, the shared ones too
    assert all(i.section == HELD for i in queue[: len(queue) - len(sampled)])
