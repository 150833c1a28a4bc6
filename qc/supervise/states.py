"""Appeal states, shared by review (a final ruling closes reviews) and appeal (the steps).

``open`` (the agent's reason) → ``answered`` (QA's reply) → ``upheld`` or ``overturned``
(final); a supervisor may reopen a final appeal (``reopened``), after which the finding can be
reviewed again and the appeal ruled again. Review states (pending, confirmed, rejected) and
appeal states get their Chinese names here, for every page a person reads.
"""

from __future__ import annotations

__all__ = ["OPEN", "ANSWERED", "UPHELD", "OVERTURNED", "REOPENED", "FINAL", "STATES", "state_label"]

OPEN = "open"
ANSWERED = "answered"
UPHELD = "upheld"
OVERTURNED = "overturned"
REOPENED = "reopened"
FINAL = (UPHELD, OVERTURNED)
STATES = (OPEN, ANSWERED, UPHELD, OVERTURNED, REOPENED)

_STATE_ZH = {
    "pending": "未复核",
    "confirmed": "已确认",
    "rejected": "已驳回",
    "appealed": "申诉中",
    "open": "待回复",
    "answered": "已回复",
    "upheld": "维持",
    "overturned": "撤销",
    "reopened": "已重开",
}


def state_label(state: str) -> str:
    """A review or appeal state for a page: ``已确认 confirmed`` (pages were English only, audit 112 L7)."""
    zh = _STATE_ZH.get(state)
    return f"{zh} {state}" if zh else state
