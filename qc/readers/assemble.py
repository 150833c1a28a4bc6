"""From validated records to conversations: grouping, time order, indexes."""

from __future__ import annotations

from qc.readers.options import ReadResult
from qc.readers.records import Candidate
from qc.schema import Conversation, Message


def build_conversations(candidates: list[Candidate], result: ReadResult) -> None:
    """Group candidates by conversation id (across files) and append the conversations to ``result``.

    Messages keep read order unless every one has a time; then they are sorted
    by time (stable), with a warning naming the conversation and file(s) when
    the input was out of order. Indexes are 0.. after sorting.
    """
    groups: dict[str, list[Candidate]] = {}
    for c in candidates:
        groups.setdefault(c.conversation_id, []).append(c)
    for cid, members in groups.items():
        files = list(dict.fromkeys(c.file for c in members))
        times = [c.sent_at for c in members]
        if all(t is not None for t in times):
            ordered = sorted(members, key=lambda c: c.sent_at)  # type: ignore[arg-type,return-value]
            if any(a is not b for a, b in zip(ordered, members, strict=True)):
                result.warnings.append(
                    f"conversation {cid} ({', '.join(files)}): messages out of time order; sorted by time"
                )
                members = ordered
        # Positional: this runs once per message, and keywords cost a third more here.
        messages = tuple(
            Message(i, c.role, c.text, c.sender, c.sent_at, c.auto_reply, c.agent_id, f"{c.file}:{c.line}")
            for i, c in enumerate(members)
        )
        shop = next((c.shop for c in members if c.shop), None)
        result.conversations.append(
            Conversation(id=cid, messages=messages, shop=shop, source=", ".join(files))
        )
