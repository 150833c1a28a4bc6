"""The engine runs every configured rule and keeps their findings in message order."""

from __future__ import annotations

import pytest

from qc.rules import BaseRule, register_rule
from qc.run.inspector import Inspector, make_rule
from qc.schema import Conversation, Evidence, Finding, Message, Role


class _EveryAgentMessage(BaseRule):
    name = "test_every_agent_message.v1"

    def check(self, conversation, features):
        for m in reversed(conversation.agent_messages()):
            yield Finding(conversation.id, m.index, "probe", 0.5, Evidence(self.name, "probe"), agent=m.agent)


def test_inspector_collects_findings_in_message_order():
    conv = Conversation(
        "c1",
        (
            Message(0, Role.CUSTOMER, "在吗"),
            Message(1, Role.AGENT, "在的", sender="s:a"),
            Message(2, Role.AGENT, "您说", sender="s:a"),
        ),
    )
    result = Inspector([_EveryAgentMessage()]).inspect_one(conv)
    assert [f.message_index for f in result.findings] == [1, 2]
    assert len(result.features) == 3


def test_rule_names_need_a_version():
    with pytest.raises(ValueError, match="version suffix"):
        register_rule("no_version")


def test_unknown_rule_lists_the_known_ones():
    with pytest.raises(KeyError, match="registered"):
        make_rule("nope.v1")


def test_settle_heap_freezes_what_is_loaded_and_collects_young_objects_less_often() -> None:
    import subprocess
    import sys

    code = (
        "import gc; from qc.run.inspector import settle_heap, _GC_YOUNG; before = gc.get_threshold();"
        " keep = [[i] for i in range(1000)]; settle_heap();"
        " print(gc.get_freeze_count() >= 1000, gc.get_threshold() == (_GC_YOUNG, *before[1:]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "True"]
